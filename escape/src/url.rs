//! URL escaping (`quote`/`quote_plus`, `unquote`/`unquote_plus`) and `parse_qs_bytes`.

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};

use crate::{Error, Result};

/// What `urllib.parse.quote_plus` encodes: everything but `A-Za-z0-9_.-~`.
const QUOTE_PLUS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');
/// What `urllib.parse.quote` encodes with its default `safe='/'`.
const QUOTE: &AsciiSet = &QUOTE_PLUS.remove(b'/');
/// `QUOTE_PLUS` letting spaces through, so they can become `+`.
const QUOTE_PLUS_SPACE: &AsciiSet = &QUOTE_PLUS.remove(b' ');

/// Returns a URL-encoded version of `value`, encoded as UTF-8.
///
/// With `plus = true` (Tornado's default) this is Python's `quote_plus`: spaces become `+` and
/// `/` becomes `%2F`, as query strings want. With `plus = false` it is `quote`: spaces become
/// `%20` and `/` is kept, as paths want. Only `A-Za-z0-9_.-~` (and `/` without plus) are left
/// as they are; hex digits are uppercase.
///
/// # Examples
///
/// ```
/// use typhoon_escape::url_escape;
/// assert_eq!(url_escape("+ #%/é", true), "%2B+%23%25%2F%C3%A9");
/// assert_eq!(url_escape("+ #%/é", false), "%2B%20%23%25/%C3%A9");
/// ```
pub fn url_escape(value: &str, plus: bool) -> String {
    url_escape_bytes(value.as_bytes(), plus)
}

/// [`url_escape`] of raw bytes, which Tornado accepts as `bytes` and encodes unchanged.
///
/// # Examples
///
/// ```
/// assert_eq!(typhoon_escape::url_escape_bytes(b"\xe9 x", true), "%E9+x");
/// ```
pub fn url_escape_bytes(value: &[u8], plus: bool) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 2);
    if !plus {
        out.extend(percent_encode(value, QUOTE));
        return out;
    }
    for chunk in percent_encode(value, QUOTE_PLUS_SPACE) {
        // Encoded chunks are one `%XX`; the others are runs of safe bytes, spaces among them.
        if chunk.starts_with('%') {
            out.push_str(chunk);
        } else {
            out.extend(chunk.chars().map(|c| if c == ' ' { '+' } else { c }));
        }
    }
    out
}

/// Decodes a URL-encoded string as UTF-8, replacing invalid sequences with U+FFFD.
///
/// With `plus = true` (Tornado's default) `+` decodes to a space first, as in query strings
/// (Python's `unquote_plus`); with `plus = false` it is kept (`unquote`). As in Python, only the
/// runs of ASCII characters are percent-decoded (each run on its own); non-ASCII characters
/// pass through, and a `%` not followed by two hex digits stays literal.
///
/// # Examples
///
/// ```
/// use typhoon_escape::url_unescape;
/// assert_eq!(url_unescape("%2B+%23%25", true), "+ #%");
/// assert_eq!(url_unescape("a+b%zz%C3%A9%ff", false), "a+b%zzé\u{fffd}");
/// ```
pub fn url_unescape(value: &str, plus: bool) -> String {
    let plus_replaced;
    let value = if plus && value.contains('+') {
        plus_replaced = value.replace('+', " ");
        plus_replaced.as_str()
    } else {
        value
    };
    if !value.contains('%') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while !rest.is_empty() {
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        if ascii > 0 {
            let decoded: Vec<u8> = percent_decode(&rest.as_bytes()[..ascii]).collect();
            out.push_str(&String::from_utf8_lossy(&decoded));
            rest = &rest[ascii..];
        }
        let other = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii())
            .map_or(rest.len(), |(i, _)| i);
        out.push_str(&rest[..other]);
        rest = &rest[other..];
    }
    out
}

/// Decodes URL-encoded bytes to bytes (Tornado's `url_unescape(value, encoding=None)`).
///
/// With `plus = true`, `+` becomes a space first. A `%` not followed by two hex digits stays.
///
/// # Examples
///
/// ```
/// assert_eq!(typhoon_escape::url_unescape_bytes(b"%E9+%", true), b"\xe9 %");
/// ```
pub fn url_unescape_bytes(value: &[u8], plus: bool) -> Vec<u8> {
    if plus {
        let replaced: Vec<u8> = value
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_decode(&replaced).collect()
    } else {
        percent_decode(value).collect()
    }
}

/// Parsed query arguments: each name with all its values, in the order they appeared.
///
/// Names are decoded as Latin-1, as Tornado does (every byte is one character), so they
/// round-trip to the original bytes; values stay raw bytes. Names are ordered by their text,
/// where Python's dict keeps first-seen order.
pub type QueryArgs = BTreeMap<String, Vec<Vec<u8>>>;

/// Parses a query string like `urllib.parse.parse_qs`, keeping values as bytes (Tornado's
/// `parse_qs_bytes`).
///
/// Fields are split on `&`; `+` means space and `%XX` escapes are decoded in names and values.
/// Fields with an empty value (or no `=`) are dropped unless `keep_blank_values` is set. With
/// `strict_parsing`, an empty field or a field without `=` is an error.
///
/// # Errors
///
/// [`Error::TooManyFields`] if `max_num_fields` is `Some(n)` and the string has more than `n`
/// fields (counted as one plus the number of `&`, before parsing, as Python does);
/// [`Error::BadQueryField`] for a bad field under `strict_parsing`.
///
/// # Examples
///
/// ```
/// let args = typhoon_escape::parse_qs_bytes(b"a=1&b=%41+%2B&a=2&&c&d=", true, false, None)?;
/// assert_eq!(args["a"], [b"1".to_vec(), b"2".to_vec()]);
/// assert_eq!(args["b"], [b"A +".to_vec()]);
/// assert_eq!(args["c"], [Vec::<u8>::new()]);
/// # Ok::<(), typhoon_escape::Error>(())
/// ```
pub fn parse_qs_bytes(
    qs: &[u8],
    keep_blank_values: bool,
    strict_parsing: bool,
    max_num_fields: Option<usize>,
) -> Result<QueryArgs> {
    let mut result = QueryArgs::new();
    if qs.is_empty() {
        return Ok(result);
    }
    if let Some(limit) = max_num_fields {
        let fields = 1 + qs.iter().filter(|&&b| b == b'&').count();
        if fields > limit {
            return Err(Error::TooManyFields { limit });
        }
    }
    for field in qs.split(|&b| b == b'&') {
        if field.is_empty() && !strict_parsing {
            continue;
        }
        let (name, value) = match field.iter().position(|&b| b == b'=') {
            Some(i) => (&field[..i], &field[i + 1..]),
            None if strict_parsing => {
                return Err(Error::BadQueryField {
                    field: field.to_vec(),
                });
            }
            None => (field, &field[field.len()..]),
        };
        if !value.is_empty() || keep_blank_values {
            let key: String = url_unescape_bytes(name, true)
                .into_iter()
                .map(char::from)
                .collect();
            result
                .entry(key)
                .or_default()
                .push(url_unescape_bytes(value, true));
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_in_runs() {
        assert_eq!(url_escape(" a b  c ", true), "+a+b++c+");
        assert_eq!(url_escape(" a b  c ", false), "%20a%20b%20%20c%20");
    }

    #[test]
    fn unescape_splits_ascii_runs() {
        // A multi-byte sequence split by a literal non-ASCII char is not reassembled.
        assert_eq!(url_unescape("%C3é%A9", false), "\u{fffd}é\u{fffd}");
    }
}
