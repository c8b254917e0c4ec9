//! The `Range` header of [`StaticFileHandler`](crate::StaticFileHandler), as Tornado reads it:
//! `httputil._parse_request_range` parses, `StaticFileHandler.get` decides.
//!
//! Python's integers have no bound, so Tornado never overflows: `bytes=0-9223372036854775807`
//! is the whole file and `bytes=--9223372036854775808` (a suffix of minus 2^63 bytes, that is
//! a start at 2^63) is unsatisfiable. Here a bound saturates at ±2^64 ([`BOUND_LIMIT`]). That
//! is exact, not an approximation: every size is a `u64`, below 2^64, and the decision only
//! adds the size to a negative start, adds one to an end, negates a suffix, and compares with
//! the size, zero and the other bound; a value past ±2^64 gives the same answer to each of
//! those as the saturated one, and none of them can overflow an `i128`.

/// Where a parsed bound saturates (see the module docs).
const BOUND_LIMIT: i128 = 1 << 64;

/// Tornado's `(start, end)`: Python slice bounds; a negative `start` counts from the end.
pub(crate) type RequestRange = (Option<i128>, Option<i128>);

/// What `StaticFileHandler.get` answers for a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeAnswer {
    /// 200 with the whole file: no usable range, or one that covers the whole file (Tornado
    /// answers `bytes=0-` with 200, because Chrome refuses to play audio from a 206 to it).
    Whole,
    /// 206 with `[start, end)`, `0 <= start < end <= size`.
    Partial {
        /// The first byte sent.
        start: u64,
        /// One past the last byte sent.
        end: u64,
    },
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Tornado's `httputil._parse_request_range`: `bytes=a-b` (inclusive), `bytes=a-`, `bytes=-n`,
/// and what Python's `partition` and `int` make of the rest (`bytes=3` is `bytes=3-`,
/// `bytes=--5` a suffix of minus five bytes, so `bytes=5-`). `None` when the header is not a
/// single byte range, which serves the whole file.
pub(crate) fn parse_request_range(header: &str) -> Option<RequestRange> {
    let (unit, value) = header.split_once('=').unwrap_or((header, ""));
    if unit.trim() != "bytes" {
        return None;
    }
    let value = value.trim();
    let (start, end) = value.split_once('-').unwrap_or((value, ""));
    let mut start = int_or_none(start)?;
    let mut end = int_or_none(end)?;
    if let Some(e) = end {
        match start {
            // `bytes=-0` stays `(None, 0)`: unsatisfiable.
            None if e != 0 => {
                start = Some(-e);
                end = None;
            }
            None => {}
            Some(_) => end = Some(e + 1),
        }
    }
    Some((start, end))
}

/// Tornado's `_int_or_none`: `Some(None)` for an empty string, `None` where Python's `int()`
/// raises `ValueError`. Accepts what `int()` accepts in a header: surrounding whitespace, a
/// sign, ASCII digits with single underscores between them. Saturates at ±[`BOUND_LIMIT`].
fn int_or_none(text: &str) -> Option<Option<i128>> {
    let text = text.trim();
    if text.is_empty() {
        return Some(None);
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut magnitude: i128 = 0;
    for byte in digits.bytes() {
        match byte {
            b'_' => {}
            // At most 2^64 * 10 + 9 before the `min`: far inside `i128`.
            b'0'..=b'9' => {
                magnitude = (magnitude * 10 + i128::from(byte - b'0')).min(BOUND_LIMIT);
            }
            _ => return None,
        }
    }
    Some(Some(if negative { -magnitude } else { magnitude }))
}

/// `StaticFileHandler.get`'s decision for a file of `size` bytes.
pub(crate) fn resolve_range((start, end): RequestRange, size: u64) -> RangeAnswer {
    let size = i128::from(size);
    let start = start.map(|s| if s < 0 { (s + size).max(0) } else { s });
    // RFC 7233 2.1: unsatisfiable when the first byte is past the end, when the last is
    // before the first, or for a suffix of zero bytes.
    if start.is_some_and(|s| s >= size || end.is_some_and(|e| s >= e)) || end == Some(0) {
        return RangeAnswer::Unsatisfiable;
    }
    // Clients ask for a large range to cap their download: cap the end at the size.
    let end = end.map_or(size, |e| e.min(size));
    // `start: None` comes only with `end: None` here (a suffix became a start, `-0` is 416).
    let start = start.unwrap_or(0);
    if start == 0 && end == size {
        return RangeAnswer::Whole;
    }
    let bound = |n: i128| u64::try_from(n).expect("invariant: 0 <= start < end <= size");
    RangeAnswer::Partial {
        start: bound(start),
        end: bound(end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers as Tornado 6.6.1's `StaticFileHandler` gave them for a 26-byte file (run
    /// against a live Tornado server).
    #[test]
    fn matches_tornado() {
        use RangeAnswer::{Partial, Unsatisfiable, Whole};
        let answer = |h: &str| parse_request_range(h).map_or(Whole, |r| resolve_range(r, 26));
        let part = |start, end| Partial { start, end };
        let table = [
            ("bytes=0-9", part(0, 10)),
            ("bytes=0-", Whole),
            ("bytes=0-10000000", Whole),
            ("bytes=1-10000000", part(1, 26)),
            ("bytes=22-", part(22, 26)),
            ("bytes=-4", part(22, 26)),
            ("bytes=-1000000", Whole),
            ("asdf", Whole),
            ("bytes=-0", Unsatisfiable),
            ("bytes=26", Unsatisfiable),
            ("bytes=10-3", Unsatisfiable),
            ("bytes=0-9223372036854775807", Whole),
            ("bytes=--9223372036854775808", Unsatisfiable),
            ("bytes=-9223372036854775807", Whole),
            ("bytes=-9223372036854775808", Whole),
            (
                "bytes=9223372036854775806-9223372036854775807",
                Unsatisfiable,
            ),
            ("bytes=1-9223372036854775807", part(1, 26)),
            ("bytes=9223372036854775807-", Unsatisfiable),
            ("bytes=99999999999999999999999-", Unsatisfiable),
            ("bytes=-99999999999999999999999", Whole),
            ("bytes=--99999999999999999999999", Unsatisfiable),
            ("bytes=0-18446744073709551616", Whole),
            ("bytes=5--3", Unsatisfiable),
            ("bytes=--5", part(5, 26)),
            ("bytes=--0", Unsatisfiable),
            ("bytes=", Whole),
            ("bytes=-", Whole),
            ("bytes=0-0,5-6", Whole),
            (" bytes = 1-2 ", part(1, 3)),
            ("bytes=+1-+2", part(1, 3)),
            ("bytes=1_0-", part(10, 26)),
            ("bytes=3", part(3, 26)),
            ("bytes=0--1", Unsatisfiable),
            ("bytes=-26", Whole),
            ("bytes=-25", part(1, 26)),
            ("bytes=25-", part(25, 26)),
            ("Bytes=0-1", Whole),
        ];
        for (header, expected) in table {
            assert_eq!(answer(header), expected, "{header:?}");
        }
    }

    #[test]
    fn empty_file() {
        let answer = |h: &str| parse_request_range(h).map(|r| resolve_range(r, 0));
        assert_eq!(answer("bytes="), Some(RangeAnswer::Whole));
        assert_eq!(answer("bytes=0-"), Some(RangeAnswer::Unsatisfiable));
        assert_eq!(answer("bytes=-5"), Some(RangeAnswer::Unsatisfiable));
        assert_eq!(answer("bytes=-0"), Some(RangeAnswer::Unsatisfiable));
    }

    #[test]
    fn int_like_python() {
        assert_eq!(int_or_none(" 42 "), Some(Some(42)));
        assert_eq!(int_or_none("-7"), Some(Some(-7)));
        assert_eq!(int_or_none("1_000"), Some(Some(1000)));
        assert_eq!(int_or_none(""), Some(None));
        for bad in [
            "_1", "1_", "1__0", "+", "-", "1 2", "--1", "+-1", "0x10", "1.5",
        ] {
            assert_eq!(int_or_none(bad), None, "{bad:?}");
        }
        assert_eq!(int_or_none(&"9".repeat(60)), Some(Some(BOUND_LIMIT)));
        assert_eq!(
            int_or_none(&format!("-{}", "9".repeat(60))),
            Some(Some(-BOUND_LIMIT))
        );
    }
}
