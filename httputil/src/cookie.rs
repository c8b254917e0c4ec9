//! [`parse_cookie`]: browser-compatible `Cookie` header parsing.

use std::collections::HashMap;

/// Python's `http.cookies._unquote`: a value in double quotes loses them, and `\ooo` (octal) and
/// `\c` escapes inside are decoded. Linear in the input (CVE-2024-7592 was a quadratic version).
fn unquote_cookie(s: &str) -> String {
    let Some(inner) = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|_| s.len() >= 2)
    else {
        return s.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let b = inner.as_bytes();
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let octal = b.get(i + 1..i + 4).filter(|d| {
            (b'0'..=b'3').contains(&d[0])
                && (b'0'..=b'7').contains(&d[1])
                && (b'0'..=b'7').contains(&d[2])
        });
        if let Some(d) = octal {
            let v = (d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0');
            out.push(char::from(v));
            chars.nth(2);
            continue;
        }
        // Python's `.` matches anything but a newline.
        match chars.clone().next() {
            Some((_, next)) if next != '\n' => {
                out.push(next);
                chars.next();
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// Parses a `Cookie` header into name/value pairs as browsers do, as Tornado's `parse_cookie`
/// (Django 1.9.10's algorithm, not RFC 6265): every `;` separates, a chunk without `=` is a value
/// with an empty name, SP/HTAB/other whitespace around names and values is stripped, quoted values
/// are unquoted, and the last of several cookies with one name wins.
///
/// ```
/// use typhoon_httputil::parse_cookie;
/// let c = parse_cookie("chips=ahoy; vienna=finger");
/// assert_eq!(c["chips"], "ahoy");
/// assert_eq!(c["vienna"], "finger");
/// ```
#[must_use]
pub fn parse_cookie(cookie: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for chunk in cookie.split(';') {
        let (key, val) = chunk.split_once('=').unwrap_or(("", chunk));
        // Python's str.strip() strips Unicode whitespace.
        let (key, val) = (key.trim(), val.trim());
        if !key.is_empty() || !val.is_empty() {
            out.insert(key.to_owned(), unquote_cookie(val));
        }
    }
    out
}
