//! `xhtml_escape` and `xhtml_unescape`: Python's `html.escape` and `html.unescape`.

use std::fmt;

use crate::scan::{Marks, splat, zero_bytes};
use crate::tables::{HTML5_ENTITIES, INVALID_CHARREFS, INVALID_CODEPOINTS, MAX_ENTITY_LEN};

/// Escapes a string so it is valid within HTML or XML.
///
/// Replaces `&`, `<`, `>`, `"` and `'` with `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#x27;`, as
/// Tornado's `xhtml_escape` (Python's `html.escape`) does. Attribute values must still be
/// quoted.
///
/// # Examples
///
/// ```
/// assert_eq!(typhoon_escape::xhtml_escape(r#"<"it's">"#), "&lt;&quot;it&#x27;s&quot;&gt;");
/// ```
pub fn xhtml_escape(value: &str) -> String {
    // Room for some escapes; dense markup grows the buffer once.
    let mut out = String::with_capacity(value.len() + value.len() / 4);
    // Writing to a String cannot fail.
    let _ = xhtml_escape_to(&mut out, value);
    out
}

/// [`xhtml_escape`] written into `out` without an intermediate `String`, for template engines
/// and response writers that escape straight into their output.
///
/// # Errors
///
/// Only those of `out` itself.
///
/// # Examples
///
/// ```
/// let mut out = String::from("<p>");
/// typhoon_escape::xhtml_escape_to(&mut out, "a & b")?;
/// assert_eq!(out, "<p>a &amp; b");
/// # Ok::<(), std::fmt::Error>(())
/// ```
#[inline]
pub fn xhtml_escape_to<W: fmt::Write + ?Sized>(out: &mut W, value: &str) -> fmt::Result {
    // `start` is where the clean run not yet written begins.
    let mut start = 0;
    for i in Marks::new(value.as_bytes(), special_bytes) {
        // Special bytes are ASCII, so both ends of the run are char boundaries.
        out.write_str(&value[start..i])?;
        // A constant per arm: each compiles to a few stores, where a table of `&str` would
        // cost a `memcpy` call per special (measured slower despite the jump table here).
        match value.as_bytes()[i] {
            b'&' => out.write_str("&amp;")?,
            b'<' => out.write_str("&lt;")?,
            b'>' => out.write_str("&gt;")?,
            b'"' => out.write_str("&quot;")?,
            _ => out.write_str("&#x27;")?,
        }
        start = i + 1;
    }
    out.write_str(&value[start..])
}

/// Flags (bit 7 of the byte) exactly the bytes of `word` that are one of `& < > " '`, for
/// [`Marks`].
///
/// Three tests cover the five bytes: `<` (0x3C) and `>` (0x3E) are the bytes with `b | 0x02 ==
/// 0x3E`, `&` (0x26) and `'` (0x27) those with `b | 0x01 == 0x27`, and `"` (0x22) is alone.
/// A byte is flagged when one of the three differences is zero.
#[inline]
fn special_bytes(word: u64) -> u64 {
    zero_bytes((word | splat(0x02)) ^ splat(b'>'))
        | zero_bytes((word | splat(0x01)) ^ splat(b'\''))
        | zero_bytes(word ^ splat(b'"'))
}

/// Un-escapes an HTML or XML string, as Python's `html.unescape` does.
///
/// Decodes all HTML5 named character references (with and without the `;` where the spec
/// allows it, taking the longest known prefix of an unknown name), decimal and hexadecimal
/// numeric references with the HTML5 fix-ups (`&#0;` and out-of-range numbers become U+FFFD,
/// `&#x80;` to `&#x9F;` map to Windows-1252, noncharacters and most C0/C1 controls vanish).
/// Anything that is not a reference is kept as is.
///
/// # Examples
///
/// ```
/// use typhoon_escape::xhtml_unescape;
/// assert_eq!(xhtml_unescape("&lt;p&gt; &amp &notit; &#x110000; &#128;"), "<p> & ¬it; \u{fffd} €");
/// ```
pub fn xhtml_unescape(value: &str) -> String {
    let Some(first) = value.find('&') else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(value.len());
    out.push_str(&value[..first]);
    let mut rest = &value[first..];
    // Invariant: `rest` starts with '&'.
    loop {
        let consumed = replace_reference(&rest[1..], &mut out);
        let after = match consumed {
            Some(n) => &rest[1 + n..],
            None => {
                out.push('&');
                &rest[1..]
            }
        };
        match after.find('&') {
            Some(i) => {
                out.push_str(&after[..i]);
                rest = &after[i..];
            }
            None => {
                out.push_str(after);
                return out;
            }
        }
    }
}

/// Tries the three alternatives of `html._charref` on the text after an `&`; on a match,
/// writes the replacement and returns how many bytes after the `&` were consumed.
fn replace_reference(s: &str, out: &mut String) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() == Some(&b'#') {
        // `#[0-9]+;?` then `#[xX][0-9a-fA-F]+;?`.
        let digits = count_while(&b[1..], |c| c.is_ascii_digit());
        if digits > 0 {
            let end = 1 + digits;
            push_numeric(&s[1..end], 10, out);
            return Some(end + usize::from(b.get(end) == Some(&b';')));
        }
        if matches!(b.get(1), Some(b'x' | b'X')) {
            let digits = count_while(&b[2..], |c| c.is_ascii_hexdigit());
            if digits > 0 {
                let end = 2 + digits;
                push_numeric(&s[2..end], 16, out);
                return Some(end + usize::from(b.get(end) == Some(&b';')));
            }
        }
        // '#' is excluded from the named alternative.
        return None;
    }
    // `[^\t\n\f <&#;]{1,32};?`: up to 32 code points.
    let mut end = 0;
    for (n, (i, c)) in s.char_indices().enumerate() {
        if n == 32 || matches!(c, '\t' | '\n' | '\x0c' | ' ' | '<' | '&' | '#' | ';') {
            break;
        }
        end = i + c.len_utf8();
    }
    if end == 0 {
        return None;
    }
    if b.get(end) == Some(&b';') {
        end += 1;
    }
    push_named(&s[..end], out);
    Some(end)
}

fn count_while(b: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    b.iter().take_while(|&&c| pred(c)).count()
}

fn push_numeric(digits: &str, radix: u32, out: &mut String) {
    // Python's int() is unbounded; anything past 0x10FFFF behaves the same, so saturate.
    let num = digits.bytes().fold(0u32, |acc, d| {
        let v = char::from(d).to_digit(radix).unwrap_or(0);
        acc.saturating_mul(radix).saturating_add(v)
    });
    if let Ok(i) = INVALID_CHARREFS.binary_search_by_key(&num, |&(k, _)| k) {
        out.push(INVALID_CHARREFS[i].1);
        return;
    }
    if (0xD800..=0xDFFF).contains(&num) || num > 0x10FFFF {
        out.push('\u{fffd}');
        return;
    }
    if INVALID_CODEPOINTS.binary_search(&num).is_ok() {
        return;
    }
    if let Some(c) = char::from_u32(num) {
        out.push(c);
    }
}

fn lookup(name: &str) -> Option<&'static str> {
    HTML5_ENTITIES
        .binary_search_by(|&(k, _)| k.cmp(name))
        .ok()
        .map(|i| HTML5_ENTITIES[i].1)
}

fn push_named(s: &str, out: &mut String) {
    if let Some(v) = lookup(s) {
        out.push_str(v);
        return;
    }
    // The longest known prefix of at least two code points, shorter than `s`.
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(2).collect();
    for &cut in bounds.iter().rev() {
        if cut > MAX_ENTITY_LEN {
            continue;
        }
        if let Some(v) = lookup(&s[..cut]) {
            out.push_str(v);
            out.push_str(&s[cut..]);
            return;
        }
    }
    out.push('&');
    out.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(HTML5_ENTITIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(INVALID_CHARREFS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(INVALID_CODEPOINTS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(HTML5_ENTITIES.len(), 2231);
    }

    #[test]
    fn escape_across_word_boundaries() {
        // Specials at every offset around the 8-byte fast path.
        for pad in 0..20 {
            let text = format!("{}<&>\"'{}é'", "x".repeat(pad), "y".repeat(pad));
            let slow: String = text
                .chars()
                .map(|c| match c {
                    '&' => "&amp;".to_owned(),
                    '<' => "&lt;".to_owned(),
                    '>' => "&gt;".to_owned(),
                    '"' => "&quot;".to_owned(),
                    '\'' => "&#x27;".to_owned(),
                    c => c.to_string(),
                })
                .collect();
            assert_eq!(xhtml_escape(&text), slow);
        }
    }

    #[test]
    fn special_bytes_are_exact() {
        for b in 0..=255u8 {
            let flagged = special_bytes(u64::from(b)) != 0;
            assert_eq!(
                flagged,
                matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''),
                "byte {b:#x}"
            );
        }
        assert_eq!(
            special_bytes(u64::from_le_bytes(*b"a<&b>\"'c")),
            u64::from_le_bytes([0, 0x80, 0x80, 0, 0x80, 0x80, 0x80, 0])
        );
    }

    #[test]
    fn longest_prefix() {
        assert_eq!(xhtml_unescape("&ampx;"), "&x;");
        assert_eq!(xhtml_unescape("&notin;&notit;"), "∉¬it;");
        assert_eq!(xhtml_unescape("&zz;"), "&zz;");
        assert_eq!(xhtml_unescape("&"), "&");
        assert_eq!(xhtml_unescape("&&amp;"), "&&");
    }

    #[test]
    fn numeric_fixups() {
        assert_eq!(
            xhtml_unescape("&#0;&#13;&#x80;&#1;&#xD800;&#99999999999999999999;"),
            "\u{fffd}\r€\u{fffd}\u{fffd}"
        );
    }
}
