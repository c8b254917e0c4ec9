//! URLs: [`url_concat`], [`split_host_and_port`] and the percent-decoding shared by forms.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

/// What Python's `quote_plus` leaves alone: ASCII letters, digits and `_.-~`.
const QUOTE_PLUS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

/// Python's `unquote_to_bytes(s.replace(b"+", b" "))`: `+` is a space, `%XX` a byte, and a `%`
/// not followed by two hex digits stays as it is. Borrows when there is nothing to decode.
pub(crate) fn unquote_plus(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.iter().any(|&b| b == b'+' || b == b'%') {
        return Cow::Borrowed(s);
    }
    if !s.contains(&b'+') {
        return percent_decode(s).into();
    }
    let spaced: Vec<u8> = s
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    Cow::Owned(percent_decode(&spaced).collect())
}

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
/// use typhoon_httpserver::httputil::url_concat;
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
        let k = String::from_utf8_lossy(&unquote_plus(k.as_bytes())).into_owned();
        let v = String::from_utf8_lossy(&unquote_plus(v.as_bytes())).into_owned();
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
/// use typhoon_httpserver::httputil::split_host_and_port;
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
    fn unquote() {
        assert_eq!(&*unquote_plus(b"a+b%20c%zz%4"), b"a b c%zz%4");
        assert!(matches!(unquote_plus(b"plain"), Cow::Borrowed(_)));
        assert_eq!(&*unquote_plus(b"%e9"), b"\xe9");
    }

    #[test]
    fn host_and_port() {
        assert_eq!(split_host_and_port("h"), ("h", None));
        assert_eq!(split_host_and_port("h:"), ("h:", None));
        assert_eq!(split_host_and_port(":80"), (":80", None));
        assert_eq!(split_host_and_port("h:99999"), ("h:99999", None));
    }
}
