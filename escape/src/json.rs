//! `json_encode` and `json_decode`: Python's `json.dumps`/`json.loads` output on serde_json.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

use crate::error::Result;

/// A serde_json formatter writing what Python's `json.dumps` writes with its defaults:
/// `", "` and `": "` separators, `ensure_ascii` (`\u` and four lowercase hex digits, surrogate
/// pairs beyond the BMP, U+007F escaped too) and floats as Python's `repr`.
struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(py_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        // Python has only doubles: the value it would see is the widened one.
        w.write_all(py_float_repr(f64::from(value)).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() && c != '\x7f' {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// Python's `repr(float)` for a finite double: the shortest round-trip digits, in positional
/// notation when the decimal exponent is in `-4..16`, else as `d.ddde+XX`.
fn py_float_repr(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_owned();
    }
    // `{:e}` gives the shortest round-trip digits, as Python's repr does: "-1.2345e-7".
    let sci = format!("{value:e}");
    let (neg, sci) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci.as_str()),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    break_tie_to_even(value.abs(), &mut digits, exp);
    let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let decpt = exp + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if decpt > -4 && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
            out.push_str(&digits);
        } else if decpt >= n {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n(
                '0',
                (decpt - n).unsigned_abs() as usize,
            ));
            out.push_str(".0");
        } else {
            let (a, b) = digits.split_at(decpt.unsigned_abs() as usize);
            out.push_str(a);
            out.push('.');
            out.push_str(b);
        }
    } else {
        let (a, b) = digits.split_at(1);
        out.push_str(a);
        if !b.is_empty() {
            out.push('.');
            out.push_str(b);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// When two shortest digit strings are exactly as close to `value` (its exact binary value lies
/// half way between them), Python's `repr` (David Gay's dtoa) takes the one with an even last
/// digit, where Rust's formatter rounds up. Detects that rare case and switches to the even one.
fn break_tie_to_even(value: f64, digits: &mut String, exp: i32) {
    let Some(last) = digits.bytes().last().map(|b| b - b'0') else {
        return;
    };
    if last % 2 == 0 {
        return;
    }
    let parse = |d: &str| -> Option<f64> {
        let (a, b) = d.split_at(1);
        format!("{a}.{b}0e{exp}").parse().ok()
    };
    for neighbour in [last.wrapping_sub(1), last + 1] {
        if neighbour > 9 {
            continue;
        }
        let mut cand = digits.clone();
        cand.pop();
        cand.push(char::from(b'0' + neighbour));
        if parse(&cand) != Some(value) {
            continue;
        }
        // Both round-trip: a tie only if the exact expansion is `lower` followed by a 5.
        let exact = format!("{value:.800e}");
        let exact: String = exact
            .split('e')
            .next()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let lower = if neighbour < last { &cand } else { &*digits };
        let n = lower.len();
        if exact.len() > n
            && exact[..n] == *lower
            && exact.as_bytes()[n] == b'5'
            && exact[n + 1..].bytes().all(|b| b == b'0')
        {
            *digits = cand;
            return;
        }
    }
}

/// JSON-encodes `value` exactly as Tornado's `json_encode` (Python's `json.dumps` with its
/// defaults) would, and never writes the sequence `</`, which would end a `<script>` element:
/// it becomes `<\/`.
///
/// Maps keep the order the value gives them (serde_json's `Map` without `preserve_order` is
/// sorted by key). Non-finite floats become `null`, where Python writes the non-JSON `NaN` and
/// `Infinity`.
///
/// # Errors
///
/// [`EscapeError::Json`](crate::EscapeError::Json) when `value` cannot be serialized (a
/// `Serialize` impl that fails, or a map whose keys are not strings or numbers).
///
/// # Examples
///
/// ```
/// let out = typhoon_escape::json_encode(&serde_json::json!(["</b>", "é😀", 0.5, null]))?;
/// assert_eq!(out, r#"["<\/b>", "\u00e9\ud83d\ude00", 0.5, null]"#);
/// # Ok::<(), typhoon_escape::EscapeError>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub fn json_encode<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let mut buf = Vec::with_capacity(128);
    let mut ser = Serializer::with_formatter(&mut buf, PythonFormatter);
    value.serialize(&mut ser)?;
    // Everything written is ASCII (ensure_ascii), so this cannot lose anything.
    let text = String::from_utf8_lossy(&buf);
    Ok(text.replace("</", "<\\/"))
}

/// Parses JSON text (Tornado's `json_decode`, Python's `json.loads`) into a
/// [`serde_json::Value`]. Accepts `&str` or bytes (which must be UTF-8).
///
/// # Errors
///
/// [`EscapeError::Json`](crate::EscapeError::Json) for invalid JSON. Unlike Python, `NaN`,
/// `Infinity` and `-Infinity` are rejected.
///
/// # Examples
///
/// ```
/// let v = typhoon_escape::json_decode(br#"{"a": "\u00e9"}"#)?;
/// assert_eq!(v["a"], "é");
/// # Ok::<(), typhoon_escape::EscapeError>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub fn json_decode<T: AsRef<[u8]> + ?Sized>(value: &T) -> Result<serde_json::Value> {
    Ok(serde_json::from_slice(value.as_ref())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr() {
        for (v, s) in [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-1.5e300, "-1.5e+300"),
            (123.456, "123.456"),
            (1.0, "1.0"),
            (5e-324, "5e-324"),
            (-0.0, "-0.0"),
            (914851523614635.2, "914851523614635.2"),
        ] {
            assert_eq!(py_float_repr(v), s);
        }
    }
}
