//! URLs: [`url_concat`] and [`split_host_and_port`].

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use typhoon_escape::url_unescape;

/// What Python's `quote_plus` leaves alone: ASCII letters, digits and `_.-~`.
const QUOTE_PLUS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

/// Appends Python's `quote_plus(s)` to `out`.
fn push_quote_plus(out: &mut String, s: &str) {
    for piece in utf8_percent_encode(s, QUOTE_PLUS) {
        out.push_str(if piece == "%20" { "+" } else { piece });
    }
}

/// Concatenates `url` and query arguments, whether or not `url` already has a query, as
/// Tornado's `url_concat`. The existing query is re-encoded as Python's `urlencode` would (blank
/// values kept), a fragment stays at the end.
///
/// ```
/// use typhoon_httputil::url_concat;
/// assert_eq!(url_concat("http://example.com/foo?a=b", [("c", "d"), ("c", "d2")]),
///            "http://example.com/foo?a=b&c=d&c=d2");
/// ```
#[must_use]
pub fn url_concat<I, K, V>(url: &str, args: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let (rest, fragment) = match url.split_once('#') {
        Some((r, f)) => (r, f),
        None => (url, ""),
    };
    let (base, query) = match rest.split_once('?') {
        Some((b, q)) => (b, q),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(url.len() + 32);
    out.push_str(base);
    let mut first = true;
    let mut push_pair = |out: &mut String, k: &str, v: &str| {
        out.push(if first { '?' } else { '&' });
        first = false;
        push_quote_plus(out, k);
        out.push('=');
        push_quote_plus(out, v);
    };
    for field in query.split('&').filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=').unwrap_or((field, ""));
        let (k, v) = (url_unescape(k, true), url_unescape(v, true));
        push_pair(&mut out, &k, &v);
    }
    for (k, v) in args {
        push_pair(&mut out, k.as_ref(), v.as_ref());
    }
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Splits `netloc` into host and port, as Tornado's `split_host_and_port`: the port is the
/// digits after the last colon, if there are any and a host before them; otherwise the whole
/// `netloc` is the host. A port that does not fit in 16 bits is treated as no port.
///
/// ```
/// use typhoon_httputil::split_host_and_port;
/// assert_eq!(split_host_and_port("example.com:8080"), ("example.com", Some(8080)));
/// assert_eq!(split_host_and_port("[::1]:80"), ("[::1]", Some(80)));
/// assert_eq!(split_host_and_port("[::1]"), ("[::1]", None));
/// ```
#[must_use]
pub fn split_host_and_port(netloc: &str) -> (&str, Option<u16>) {
    if let Some((host, port)) = netloc.rsplit_once(':')
        && !host.is_empty()
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && let Ok(port) = port.parse()
    {
        return (host, Some(port));
    }
    (netloc, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(split_host_and_port("h"), ("h", None));
        assert_eq!(split_host_and_port("h:"), ("h:", None));
        assert_eq!(split_host_and_port(":80"), (":80", None));
        assert_eq!(split_host_and_port("h:99999"), ("h:99999", None));
    }
}
