//! URL escaping (`quote`/`quote_plus`, `unquote`/`unquote_plus`) and `parse_qs_bytes`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use percent_encoding::percent_encode_byte;

use crate::error::{EscapeError, Result};

/// Bytes `urllib.parse.quote` leaves alone: `A-Za-z0-9_.-~`, plus `/` when `slash`.
const fn safe_table(slash: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'~');
        b += 1;
    }
    table[b'/' as usize] = slash;
    table
}

/// `quote`'s default `safe='/'`.
static QUOTE_SAFE: [bool; 256] = safe_table(true);
/// `quote_plus`'s `safe=''`.
static QUOTE_PLUS_SAFE: [bool; 256] = safe_table(false);

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
    let safe = if plus { &QUOTE_PLUS_SAFE } else { &QUOTE_SAFE };
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if safe[usize::from(b)] {
            continue;
        }
        // Safe bytes are ASCII, so a non-empty run starts and ends on char boundaries; an
        // empty one may sit inside a multi-byte character, where `get` gives `None`.
        out.push_str(value.get(start..i).unwrap_or_default());
        start = i + 1;
        if plus && b == b' ' {
            out.push('+');
        } else {
            out.push_str(percent_encode_byte(b));
        }
    }
    out.push_str(value.get(start..).unwrap_or_default());
    out
}

/// [`url_escape`] of raw bytes, which Tornado accepts as `bytes` and encodes unchanged.
///
/// # Examples
///
/// ```
/// assert_eq!(typhoon_escape::url_escape_bytes(b"\xe9 x", true), "%E9+x");
/// ```
pub fn url_escape_bytes(value: &[u8], plus: bool) -> String {
    let safe = if plus { &QUOTE_PLUS_SAFE } else { &QUOTE_SAFE };
    let mut out = String::with_capacity(value.len() + value.len() / 2);
    for &b in value {
        if safe[usize::from(b)] {
            out.push(char::from(b));
        } else if plus && b == b' ' {
            out.push('+');
        } else {
            out.push_str(percent_encode_byte(b));
        }
    }
    out
}

/// Decodes a URL-encoded string as UTF-8, replacing invalid sequences with U+FFFD.
///
/// With `plus = true` (Tornado's default) `+` decodes to a space first, as in query strings
/// (Python's `unquote_plus`); with `plus = false` it is kept (`unquote`). Non-ASCII characters
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
    // Python decodes each run of ASCII characters on its own; decoding the whole string at
    // once gives the same text, because a literal non-ASCII character always starts with a
    // UTF-8 lead byte: it can neither complete a decoded prefix before it nor be completed
    // by decoded bytes after it, so every invalid sequence ends at the same place.
    let mut buf = Vec::with_capacity(value.len());
    decode_into(value.as_bytes(), plus, &mut buf);
    match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
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
    let mut out = Vec::with_capacity(value.len());
    decode_into(value, plus, &mut out);
    out
}

/// [`url_unescape_bytes`] that borrows `value` when there is nothing to decode (no `%`, and no
/// `+` when `plus`), as most query names and values are: no allocation then.
///
/// # Examples
///
/// ```
/// use std::borrow::Cow;
/// use typhoon_escape::url_unescape_cow;
/// assert!(matches!(url_unescape_cow(b"plain", true), Cow::Borrowed(b"plain")));
/// assert_eq!(url_unescape_cow(b"a+b%21", true), &b"a b!"[..]);
/// ```
pub fn url_unescape_cow(value: &[u8], plus: bool) -> Cow<'_, [u8]> {
    if value.iter().any(|&b| b == b'%' || (plus && b == b'+')) {
        Cow::Owned(url_unescape_bytes(value, plus))
    } else {
        Cow::Borrowed(value)
    }
}

/// Hex digit values, 0xFF for bytes that are not hex digits: one load per digit instead of a
/// chain of range tests.
static HEX_VALUE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 16 {
        let digit = b"0123456789abcdef"[i];
        table[digit as usize] = i as u8;
        table[digit.to_ascii_uppercase() as usize] = i as u8;
        i += 1;
    }
    table
};

/// The byte `%XX` at `src[i..]` decodes to, if `src[i + 1]` and `src[i + 2]` are hex digits.
#[inline]
fn escaped_byte(src: &[u8], i: usize) -> Option<u8> {
    let high = HEX_VALUE[usize::from(*src.get(i + 1)?)];
    let low = HEX_VALUE[usize::from(*src.get(i + 2)?)];
    // Both are below 16 exactly when neither is the 0xFF marker.
    ((high | low) < 16).then_some(high << 4 | low)
}

/// Python's `unquote_to_bytes` (after `+` → space when `plus`), appended to `out`.
///
/// One byte at a time on purpose: percent-encoded text is dense with escapes (most runs between
/// them are a few bytes long), and a plain loop of pushes beats finding each `%` and copying the
/// run before it with `extend_from_slice` (a `memcpy` call per escape), as measured against
/// `urlencoding`. Output is never longer than input, so one reservation covers it.
fn decode_into(src: &[u8], plus: bool, out: &mut Vec<u8>) {
    out.reserve(src.len());
    let mut i = 0;
    while let Some(&b) = src.get(i) {
        if b == b'%'
            && let Some(decoded) = escaped_byte(src, i)
        {
            out.push(decoded);
            i += 3;
        } else {
            // A `%` without two hex digits after it stays literal.
            out.push(if plus && b == b'+' { b' ' } else { b });
            i += 1;
        }
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
/// [`EscapeError::TooManyFields`] if `max_num_fields` is `Some(n)` and the string has more than
/// `n` fields (counted as one plus the number of `&`, before parsing, as Python does);
/// [`EscapeError::BadQueryField`] for a bad field under `strict_parsing`.
///
/// # Examples
///
/// ```
/// let args = typhoon_escape::parse_qs_bytes(b"a=1&b=%41+%2B&a=2&&c&d=", true, false, None)?;
/// assert_eq!(args["a"], [b"1".to_vec(), b"2".to_vec()]);
/// assert_eq!(args["b"], [b"A +".to_vec()]);
/// assert_eq!(args["c"], [Vec::<u8>::new()]);
/// # Ok::<(), typhoon_escape::EscapeError>(())
/// ```
pub fn parse_qs_bytes(
    qs: &[u8],
    keep_blank_values: bool,
    strict_parsing: bool,
    max_num_fields: Option<usize>,
) -> Result<QueryArgs> {
    let mut result = QueryArgs::new();
    parse_qs_fields(
        qs,
        keep_blank_values,
        strict_parsing,
        max_num_fields,
        |name, value| {
            let key: String = name.iter().copied().map(char::from).collect();
            result.entry(key).or_default().push(value.into_owned());
        },
    )?;
    Ok(result)
}

/// The field loop of [`parse_qs_bytes`], for a caller with its own map: calls `field(name,
/// value)` for each field kept, in order, with both decoded (`+` as space, `%XX` escapes) and
/// borrowed from `qs` when they hold nothing to decode. `typhoon-httputil` fills a request's
/// arguments with it, decoding names as UTF-8 where [`parse_qs_bytes`] uses Latin-1.
///
/// The same rules and limits as [`parse_qs_bytes`]; the fields are counted before the first
/// call, so on [`EscapeError::TooManyFields`] `field` is never called.
///
/// # Errors
///
/// As [`parse_qs_bytes`]. Under `strict_parsing`, the fields before the bad one have been
/// visited.
///
/// # Examples
///
/// ```
/// let mut fields = Vec::new();
/// typhoon_escape::parse_qs_fields(b"a=1&b=%41&c=", false, false, None, |name, value| {
///     fields.push((name.into_owned(), value.into_owned()));
/// })?;
/// assert_eq!(fields, [(b"a".to_vec(), b"1".to_vec()), (b"b".to_vec(), b"A".to_vec())]);
/// # Ok::<(), typhoon_escape::EscapeError>(())
/// ```
pub fn parse_qs_fields<'a, F>(
    qs: &'a [u8],
    keep_blank_values: bool,
    strict_parsing: bool,
    max_num_fields: Option<usize>,
    mut field: F,
) -> Result<()>
where
    F: FnMut(Cow<'a, [u8]>, Cow<'a, [u8]>),
{
    if qs.is_empty() {
        return Ok(());
    }
    if let Some(limit) = max_num_fields {
        let fields = 1 + qs.iter().filter(|&&b| b == b'&').count();
        if fields > limit {
            return Err(EscapeError::TooManyFields { limit });
        }
    }
    for pair in qs.split(|&b| b == b'&') {
        if pair.is_empty() && !strict_parsing {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None if strict_parsing => {
                return Err(EscapeError::BadQueryField {
                    field: pair.to_vec(),
                });
            }
            None => (pair, &pair[pair.len()..]),
        };
        if !value.is_empty() || keep_blank_values {
            field(url_unescape_cow(name, true), url_unescape_cow(value, true));
        }
    }
    Ok(())
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
    fn hex_table() {
        for b in 0..=255u8 {
            let expected = char::from(b).to_digit(16).map(|d| d as u8);
            assert_eq!(escaped_byte(&[b'%', b, b'0'], 0), expected.map(|d| d << 4));
            assert_eq!(escaped_byte(&[b'%', b'0', b], 0), expected);
        }
        assert_eq!(escaped_byte(b"%4", 0), None);
        assert_eq!(url_unescape_bytes(b"%%41%4g%+", true), b"%A%4g% ");
    }

    #[test]
    fn unescape_splits_ascii_runs() {
        // A multi-byte sequence split by a literal non-ASCII char is not reassembled.
        assert_eq!(url_unescape("%C3é%A9", false), "\u{fffd}é\u{fffd}");
    }
}
