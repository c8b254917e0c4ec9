//! `HTTPServerRequest`: one request as the server hands it to the application.

use std::cell::OnceCell;
use std::fmt;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::body::BodyReader;
use typhoon_httputil::Result;
use typhoon_httputil::h1::{RequestHead, Version};
use typhoon_httputil::{
    Arguments, Files, HTTPHeaders, ParseBodyConfig, parse_body_arguments, parse_cookie,
    parse_query_arguments, split_host_and_port,
};

/// The server's settings that shape each request (xheaders), shared by its connections.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestContext {
    /// Trust `X-Real-Ip`/`X-Forwarded-For`/`X-Scheme`/`X-Forwarded-Proto` (behind a proxy).
    pub(crate) xheaders: bool,
    /// Proxies whose `X-Forwarded-For` entries are skipped (Tornado's `trusted_downstream`).
    pub(crate) trusted_downstream: Rc<Vec<IpAddr>>,
    /// `"https"` on TLS connections.
    pub(crate) protocol: &'static str,
}

/// A single HTTP request (Tornado's `HTTPServerRequest`).
///
/// The body is read before the application sees the request, bounded by `max_body_size`,
/// unless the server streams bodies ([`HTTPServerOptions::stream_request_body`](crate::HTTPServerOptions)):
/// then [`body_reader`](Self::body_reader) yields it chunk by chunk.
pub struct HTTPServerRequest {
    /// The method (`GET`, `POST`, ...), case as sent.
    pub method: String,
    /// The request target as sent (path and query, or the absolute form).
    pub uri: String,
    /// Where the path starts in `uri` (after `scheme://host` in the absolute form).
    path_start: usize,
    /// Where the path ends in `uri` (at `?`, or the end).
    path_end: usize,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: Version,
    /// The request headers.
    pub headers: HTTPHeaders,
    /// The body (empty when streamed).
    pub body: Vec<u8>,
    /// The client's IP (from `X-Real-Ip`/`X-Forwarded-For` with `xheaders`), or `"unix"`.
    /// Shared with the connection: formatted once per connection, not per request.
    pub remote_ip: Rc<str>,
    /// `"http"` or `"https"` (from `X-Scheme`/`X-Forwarded-Proto` with `xheaders`).
    pub protocol: &'static str,
    /// The `Host` header, or `127.0.0.1` when absent (HTTP/1.0).
    pub host: String,
    /// When the request's head was parsed.
    pub start_time: Instant,
    /// The streaming body, when the server streams bodies.
    body_reader: Option<Box<BodyReader>>,
    /// Parsed cookies, on first use.
    cookies: OnceCell<Vec<(String, String)>>,
}

impl HTTPServerRequest {
    /// Builds the request from a parsed head, taking its headers.
    pub(crate) fn from_head(
        head: &mut RequestHead,
        peer_ip: &Rc<str>,
        context: &RequestContext,
        start_time: Instant,
    ) -> Self {
        // The head keeps an empty map of the same capacity: the next request's headers parse
        // without growing it step by step.
        let fresh = head.headers().empty_like();
        let headers = std::mem::replace(head.headers_mut(), fresh);
        let target = head.target();
        // The parser's own range: nothing here re-derives where the path is.
        let std::ops::Range {
            start: path_start,
            end: path_end,
        } = head.path_range();
        let mut remote_ip = Rc::clone(peer_ip);
        let mut protocol = context.protocol;
        if context.xheaders {
            if let Some(ip) = forwarded_ip(&headers, &context.trusted_downstream) {
                remote_ip = ip.into();
            }
            if let Some(scheme) = forwarded_scheme(&headers) {
                protocol = scheme;
            }
        }
        let host = headers
            .get("Host")
            .map_or_else(|| "127.0.0.1".to_owned(), str::to_owned);
        Self {
            method: head.method().to_owned(),
            uri: target.to_owned(),
            path_start,
            path_end,
            version: head.version(),
            headers,
            body: Vec::new(),
            remote_ip,
            protocol,
            host,
            start_time,
            body_reader: None,
            cookies: OnceCell::new(),
        }
    }

    /// The path part of the target, to route on (`/a/b` also for `http://host/a/b?x`).
    pub fn path(&self) -> &str {
        // An absolute-form target without a path (`http://host`) means `/`.
        match self.uri.get(self.path_start..self.path_end) {
            Some("") | None => "/",
            Some(path) => path,
        }
    }

    /// The query string, without `?` (empty if none).
    pub fn query(&self) -> &str {
        self.uri.get(self.path_end + 1..).unwrap_or("")
    }

    /// `host` without its port, lowercased (Tornado's `host_name`).
    pub fn host_name(&self) -> String {
        split_host_and_port(&self.host).0.to_ascii_lowercase()
    }

    pub(crate) fn set_body_reader(&mut self, reader: BodyReader) {
        self.body_reader = Some(Box::new(reader));
    }

    /// The streaming body reader (only when the server streams request bodies). Taking it
    /// leaves `None`.
    pub fn body_reader(&mut self) -> Option<BodyReader> {
        self.body_reader.take().map(|reader| *reader)
    }

    /// The full URL: `protocol://host/uri`.
    pub fn full_url(&self) -> String {
        format!("{}://{}{}", self.protocol, self.host, self.uri)
    }

    /// Time since the request started.
    pub fn request_time(&self) -> Duration {
        self.start_time.elapsed()
    }

    /// Whether the connection's client asked for HTTP/1.1 keep-alive semantics.
    pub fn supports_http_1_1(&self) -> bool {
        self.version == Version::Http11
    }

    /// The query arguments (Tornado's `query_arguments`), blank values kept.
    ///
    /// # Errors
    ///
    /// If the query has more than 1000 fields (Tornado's limit).
    pub fn query_arguments(&self) -> Result<Arguments> {
        let mut arguments = Arguments::new();
        parse_query_arguments(self.query().as_bytes(), true, Some(1000), &mut arguments)?;
        Ok(arguments)
    }

    /// The body arguments and uploaded files of a urlencoded or multipart body (Tornado's
    /// `body_arguments` and `files`).
    ///
    /// # Errors
    ///
    /// A malformed multipart body or too many fields or parts.
    pub fn body_arguments(&self) -> Result<(Arguments, Files)> {
        let mut arguments = Arguments::new();
        let mut files = Files::new();
        let content_type = self.headers.get("Content-Type").unwrap_or("");
        parse_body_arguments(
            content_type,
            &self.body,
            Some(&self.headers),
            &mut arguments,
            &mut files,
            &ParseBodyConfig::default(),
        )?;
        Ok((arguments, files))
    }

    /// Query and body arguments together (Tornado's `arguments`): query values first.
    ///
    /// # Errors
    ///
    /// As [`query_arguments`](Self::query_arguments) and [`body_arguments`](Self::body_arguments).
    pub fn arguments(&self) -> Result<Arguments> {
        let mut all = self.query_arguments()?;
        let (body, _files) = self.body_arguments()?;
        for (name, values) in body {
            all.entry(name).or_default().extend(values);
        }
        Ok(all)
    }

    /// The request's cookies, browser-style parsed (Tornado's `cookies`).
    pub fn cookies(&self) -> &[(String, String)] {
        self.cookies.get_or_init(|| {
            let mut cookies = Vec::new();
            for header in self.headers.get_list("Cookie") {
                cookies.extend(parse_cookie(header));
            }
            cookies
        })
    }

    /// One cookie's value.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies()
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The client address a trusted proxy reported (Tornado's `_apply_xheaders`): the last
/// `X-Forwarded-For` entry not in `trusted`, overridden by `X-Real-Ip`; only valid IPs count.
fn forwarded_ip(headers: &HTTPHeaders, trusted: &[IpAddr]) -> Option<String> {
    let mut found = None;
    if let Some(forwarded) = headers.get_joined("X-Forwarded-For") {
        for candidate in forwarded.rsplit(',').map(str::trim) {
            let Ok(ip) = candidate.parse::<IpAddr>() else {
                break;
            };
            found = Some(ip);
            if !trusted.contains(&ip) {
                break;
            }
        }
    }
    if let Some(real) = headers
        .get("X-Real-Ip")
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        found = Some(real);
    }
    found.map(|ip| ip.to_string())
}

/// The scheme a trusted proxy reported: `X-Scheme`, else the last `X-Forwarded-Proto` value;
/// only `http` and `https` count.
fn forwarded_scheme(headers: &HTTPHeaders) -> Option<&'static str> {
    let value = headers
        .get("X-Scheme")
        .or_else(|| headers.get("X-Forwarded-Proto"))?;
    let last = value.rsplit(',').next()?.trim();
    if last.eq_ignore_ascii_case("https") {
        Some("https")
    } else if last.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

impl fmt::Debug for HTTPServerRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HTTPServerRequest")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("version", &self.version)
            .field("remote_ip", &self.remote_ip)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&str, &str)]) -> HTTPHeaders {
        let mut headers = HTTPHeaders::new();
        for (name, value) in lines {
            headers.add(name, value).expect("header");
        }
        headers
    }

    #[test]
    fn forwarded_for_skips_trusted_proxies() {
        let trusted: Vec<IpAddr> = vec!["10.0.0.2".parse().expect("ip")];
        let h = headers(&[("X-Forwarded-For", "1.2.3.4, 5.6.7.8, 10.0.0.2")]);
        assert_eq!(forwarded_ip(&h, &trusted).as_deref(), Some("5.6.7.8"));
        let h = headers(&[("X-Forwarded-For", "1.2.3.4"), ("X-Real-Ip", "4.4.4.4")]);
        assert_eq!(forwarded_ip(&h, &[]).as_deref(), Some("4.4.4.4"));
        let h = headers(&[("X-Forwarded-For", "not-an-ip")]);
        assert_eq!(forwarded_ip(&h, &[]), None, "invalid values are ignored");
        let h = headers(&[("X-Real-Ip", "x.y")]);
        assert_eq!(forwarded_ip(&h, &[]), None);
    }

    #[test]
    fn forwarded_scheme_accepts_http_and_https_only() {
        assert_eq!(
            forwarded_scheme(&headers(&[("X-Scheme", "https")])),
            Some("https")
        );
        assert_eq!(
            forwarded_scheme(&headers(&[("X-Forwarded-Proto", "http, https")])),
            Some("https")
        );
        assert_eq!(forwarded_scheme(&headers(&[("X-Scheme", "gopher")])), None);
    }
}
