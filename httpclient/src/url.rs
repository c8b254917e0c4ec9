//! The small part of URL handling an HTTP/1 client needs: split an absolute `http(s)` URL into
//! the pieces of a request, and resolve a redirect's `Location` against it (RFC 3986 §5.2, as
//! Python's `urljoin` for the cases servers send).

use crate::error::{HTTPClientError, Result};

/// An absolute `http` or `https` URL, split as an HTTP/1 request needs it (the WebSocket client
/// parses its `ws`/`wss` URLs with it too).
///
/// ```
/// use typhoon_httpclient::Url;
///
/// let url = Url::parse("https://Example.com:8443/a?b=1#frag")?;
/// assert_eq!((url.host.as_str(), url.port), ("example.com", 8443));
/// assert_eq!(url.path_and_query, "/a?b=1");
/// assert_eq!(url.host_header(), "example.com:8443");
/// # Ok::<(), typhoon_httpclient::HTTPClientError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`, lowercased.
    pub scheme: String,
    /// `user[:password]` before the `@`, still percent-encoded.
    pub userinfo: Option<String>,
    /// The host: a name, an IPv4 literal, or an IPv6 literal without brackets.
    pub host: String,
    /// The port, or the scheme's default.
    pub port: u16,
    /// Whether the URL named the port explicitly.
    pub explicit_port: bool,
    /// Path and query (never empty: `/` at least); the fragment is dropped.
    pub path_and_query: String,
}

impl Url {
    /// Parses an absolute URL.
    ///
    /// # Errors
    ///
    /// [`HTTPClientError::InvalidUrl`], or [`HTTPClientError::UnsupportedScheme`] for a scheme
    /// other than `http` and `https`.
    pub fn parse(url: &str) -> Result<Url> {
        let invalid = || HTTPClientError::InvalidUrl {
            url: url.to_owned(),
        };
        if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(invalid());
        }
        let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(HTTPClientError::UnsupportedScheme { scheme }),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo.to_owned()), hostport),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(invalid)?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(invalid());
        }
        let (port, explicit_port) = match port {
            None | Some("") => (default_port, false),
            Some(port) => (port.parse::<u16>().map_err(|_| invalid())?, true),
        };
        let path_and_query = if path_and_query.is_empty() {
            "/".to_owned()
        } else if path_and_query.starts_with('?') {
            format!("/{path_and_query}")
        } else {
            path_and_query.to_owned()
        };
        Ok(Url {
            scheme,
            userinfo,
            host: host.to_ascii_lowercase(),
            port,
            explicit_port,
            path_and_query,
        })
    }

    /// The `Host` header: the host, with the port unless it is the scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL again, without userinfo (the effective URL of a response).
    pub(crate) fn to_string_without_userinfo(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme,
            self.host_header(),
            self.path_and_query
        )
    }
}

/// Resolves a link or a `Location` value against the URL it came from (Python's `urljoin`
/// followed by `urldefrag`, as Tornado's redirects and its webspider demo use them): absolute
/// URLs, scheme-relative `//host/path`, absolute paths, query-only and relative paths with `.`
/// and `..` segments; the fragment of a relative link is dropped.
///
/// # Examples
///
/// ```
/// use typhoon_httpclient::urljoin;
///
/// assert_eq!(urljoin("http://a/b/c", "../d?x=1#top"), "http://a/d?x=1");
/// assert_eq!(urljoin("http://a/b/c", "https://e/f"), "https://e/f");
/// ```
pub fn join(base: &str, location: &str) -> String {
    let location = location.trim();
    if let Some((scheme, _)) = location.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        return location.to_owned();
    }
    let Some((scheme, rest)) = base.split_once("://") else {
        return location.to_owned();
    };
    if let Some(net) = location.strip_prefix("//") {
        return format!("{scheme}://{net}");
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, base_path_query) = rest.split_at(authority_end);
    let base_path_query = base_path_query.split('#').next().unwrap_or_default();
    let (base_path, base_query) = match base_path_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (base_path_query, None),
    };
    let base_path = if base_path.is_empty() { "/" } else { base_path };
    let location = location.split('#').next().unwrap_or_default();
    let prefix = format!("{scheme}://{authority}");
    if location.is_empty() {
        return match base_query {
            Some(query) => format!("{prefix}{base_path}?{query}"),
            None => format!("{prefix}{base_path}"),
        };
    }
    if location.starts_with('?') {
        return format!("{prefix}{base_path}{location}");
    }
    let (path, query) = match location.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (location, None),
    };
    let merged = if path.starts_with('/') {
        path.to_owned()
    } else {
        let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{path}")
    };
    let path = remove_dot_segments(&merged);
    match query {
        Some(query) => format!("{prefix}{path}?{query}"),
        None => format!("{prefix}{path}"),
    }
}

/// RFC 3986 §5.2.4 for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            other => {
                out.push(other);
                trailing_slash = false;
            }
        }
    }
    let mut result = String::with_capacity(path.len());
    for segment in &out {
        result.push('/');
        result.push_str(segment);
    }
    if trailing_slash || result.is_empty() {
        result.push('/');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let url = Url::parse("HTTP://user:pw@Example.com:8080/a/b?q=1#frag").expect("valid");
        assert_eq!(url.scheme, "http");
        assert_eq!(url.userinfo.as_deref(), Some("user:pw"));
        assert_eq!(url.host, "example.com");
        assert_eq!(url.port, 8080);
        assert_eq!(url.path_and_query, "/a/b?q=1");
        assert_eq!(url.host_header(), "example.com:8080");
        let url = Url::parse("https://[::1]/").expect("valid");
        assert_eq!((url.host.as_str(), url.port), ("::1", 443));
        assert_eq!(url.host_header(), "[::1]");
        assert_eq!(
            Url::parse("http://h?x").expect("valid").path_and_query,
            "/?x"
        );
        for bad in [
            "nope",
            "http://",
            "http://h:99999/",
            "http://h/ x",
            "http://:80/",
        ] {
            assert!(
                matches!(Url::parse(bad), Err(HTTPClientError::InvalidUrl { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            Url::parse("ftp://h/"),
            Err(HTTPClientError::UnsupportedScheme { .. })
        ));
    }

    #[test]
    fn joins_like_urljoin() {
        let base = "http://a/b/c/d;p?q";
        for (location, expected) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            (".", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../../g", "http://a/g"),
            ("https://other/x", "https://other/x"),
        ] {
            assert_eq!(join(base, location), expected, "{location}");
        }
    }
}
