//! [`HTTPHeaders`]: a case-insensitive multimap that keeps order and duplicates.

use std::borrow::Cow;
use std::fmt;

use crate::error::{HTTPInputError, Result};

/// HTTP header fields: a case-insensitive multimap that keeps insertion order and duplicates.
///
/// Tornado's `HTTPHeaders`. Names keep the case they were received or added in (so a response
/// can be written back as given) and are compared ASCII-case-insensitively without allocating.
/// [`get`](Self::get) returns the first value; [`get_joined`](Self::get_joined) returns all values
/// joined with `,` as Tornado's `headers[name]` does; [`get_list`](Self::get_list) iterates over
/// every value.
///
/// # Storage
///
/// Every name and value lives in one `String`, and each field line is three offsets into it. A
/// request's headers therefore cost two allocations however many there are, and a connection that
/// [`clear`](Self::clear)s and refills one `HTTPHeaders` per request (as the HTTP/1 parser does)
/// allocates nothing once the buffers have grown. Lookups scan the lines linearly: with the
/// 100-header cap a scan is a few dozen length comparisons, faster than hashing the name.
///
/// Header bytes from the wire are decoded as Latin-1 (each byte one `char`), as Tornado does, so
/// obs-text bytes survive; values added from Rust are any Unicode without control characters.
///
/// # Examples
///
/// ```
/// use typhoon_httputil::HTTPHeaders;
///
/// let mut h = HTTPHeaders::new();
/// h.add("Set-Cookie", "A=B")?;
/// h.add("set-cookie", "C=D")?;
/// assert_eq!(h.get("SET-COOKIE"), Some("A=B"));
/// assert_eq!(h.get_joined("set-cookie").as_deref(), Some("A=B,C=D"));
/// assert_eq!(h.get_list("Set-Cookie").collect::<Vec<_>>(), ["A=B", "C=D"]);
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
#[derive(Clone, Default)]
pub struct HTTPHeaders {
    /// Names and values, back to back, in the order added (removed lines leave garbage until
    /// [`compact`](Self::compact) reclaims it).
    buf: String,
    /// One entry per field line, in order.
    entries: Vec<Entry>,
    /// Bytes of `buf` that belong to removed lines.
    garbage: usize,
}

/// One field line: `buf[start..name_end]` is the name, `buf[name_end..end]` the value.
#[derive(Clone, Copy, Debug)]
struct Entry {
    start: usize,
    name_end: usize,
    end: usize,
}

/// Bytes allowed in a token (RFC 9110 §5.6.2): field names and methods.
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z')
}

/// Whether `s` is a non-empty RFC 9110 token.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Control characters forbidden in a header value: everything below 0x20 but HTAB, and DEL.
fn is_forbidden_value_byte(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Strips HTTP whitespace (SP and HTAB only, never other Unicode spaces) from both ends.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Appends `bytes` decoded as Latin-1: ASCII is copied as is, other bytes become one `char` each.
pub(crate) fn push_latin1(out: &mut String, bytes: &[u8]) {
    if let Ok(ascii) = std::str::from_utf8(bytes)
        && ascii.is_ascii()
    {
        out.push_str(ascii);
    } else {
        out.extend(bytes.iter().map(|&b| char::from(b)));
    }
}

impl HTTPHeaders {
    /// An empty header map.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty header map with room for `lines` field lines and `bytes` bytes of names and values.
    #[must_use]
    pub fn with_capacity(lines: usize, bytes: usize) -> Self {
        Self {
            buf: String::with_capacity(bytes),
            entries: Vec::with_capacity(lines),
            garbage: 0,
        }
    }

    /// Adds a field line, keeping any earlier ones with the same name.
    ///
    /// # Errors
    ///
    /// [`HTTPInputError::InvalidHeaderName`] if `name` is not a token;
    /// [`HTTPInputError::InvalidHeaderValue`] if `value` holds a control character (other than
    /// HTAB) or starts or ends with SP or HTAB.
    pub fn add(&mut self, name: &str, value: &str) -> Result<()> {
        validate_name(name)?;
        validate_value(value)?;
        self.push(name, value);
        Ok(())
    }

    /// Replaces every field line named `name` with one line holding `value`, at the end.
    ///
    /// # Errors
    ///
    /// As [`add`](Self::add); on error the map is unchanged.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        validate_name(name)?;
        validate_value(value)?;
        self.remove(name);
        self.push(name, value);
        Ok(())
    }

    /// An empty map with the capacity this one has: for handing a parsed head's headers away
    /// while the parser keeps a map that will not grow again for a similar request.
    #[must_use]
    pub fn empty_like(&self) -> Self {
        Self::with_capacity(self.entries.capacity(), self.buf.capacity())
    }

    /// Appends a line without validation: the caller has validated (or the parser has).
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        let start = self.buf.len();
        self.buf.push_str(name);
        let name_end = self.buf.len();
        self.buf.push_str(value);
        self.entries.push(Entry {
            start,
            name_end,
            end: self.buf.len(),
        });
    }

    /// Appends a line whose value is raw wire bytes, decoded as Latin-1. The parser has validated
    /// both.
    pub(crate) fn push_wire(&mut self, name: &str, value: &[u8]) {
        let start = self.buf.len();
        self.buf.push_str(name);
        let name_end = self.buf.len();
        push_latin1(&mut self.buf, value);
        self.entries.push(Entry {
            start,
            name_end,
            end: self.buf.len(),
        });
    }

    fn name_of(&self, e: &Entry) -> &str {
        &self.buf[e.start..e.name_end]
    }

    fn value_of(&self, e: &Entry) -> &str {
        &self.buf[e.name_end..e.end]
    }

    /// The first value of `name`, if any.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| self.name_of(e).eq_ignore_ascii_case(name))
            .map(|e| self.value_of(e))
    }

    /// All values of `name` joined with `,`, as Tornado's `headers[name]`; borrowed when there is
    /// only one.
    #[must_use]
    pub fn get_joined(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut values = self.get_list(name);
        let first = values.next()?;
        let Some(second) = values.next() else {
            return Some(Cow::Borrowed(first));
        };
        let mut joined = String::with_capacity(first.len() + second.len() + 1);
        joined.push_str(first);
        joined.push(',');
        joined.push_str(second);
        for v in values {
            joined.push(',');
            joined.push_str(v);
        }
        Some(Cow::Owned(joined))
    }

    /// Every value of `name`, in order (Tornado's `get_list`, without allocating a list).
    #[must_use]
    pub fn get_list<'a, 'n>(&'a self, name: &'n str) -> GetList<'a, 'n> {
        GetList {
            headers: self,
            name,
            entries: self.entries.iter(),
        }
    }

    /// Whether any field line is named `name`.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Removes every field line named `name`; returns whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        let buf = &self.buf;
        let mut freed = 0;
        self.entries.retain(|e| {
            let matches = buf[e.start..e.name_end].eq_ignore_ascii_case(name);
            if matches {
                freed += e.end - e.start;
            }
            !matches
        });
        self.garbage += freed;
        if self.garbage > 1024 && self.garbage * 2 > self.buf.len() {
            self.compact();
        }
        self.entries.len() != before
    }

    /// Copies the live lines into a fresh buffer, dropping removed ones.
    fn compact(&mut self) {
        let mut buf = String::with_capacity(self.buf.len() - self.garbage);
        for e in &mut self.entries {
            let start = buf.len();
            buf.push_str(&self.buf[e.start..e.end]);
            let shift = e.start - start;
            *e = Entry {
                start,
                name_end: e.name_end - shift,
                end: e.end - shift,
            };
        }
        self.buf = buf;
        self.garbage = 0;
    }

    /// Removes every line, keeping the allocations for reuse.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.entries.clear();
        self.garbage = 0;
    }

    /// Every `(name, value)` field line in order, names as received.
    #[must_use]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            headers: self,
            entries: self.entries.iter(),
        }
    }

    /// The number of field lines (a name with two values counts twice).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no field line.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parses a header block (Tornado's `HTTPHeaders.parse`): lines end with CRLF or LF, values are
    /// stripped of SP and HTAB.
    ///
    /// # Errors
    ///
    /// [`HTTPInputError::MalformedHeader`] for a line that starts with whitespace (obs-fold) or
    /// has no colon; [`HTTPInputError::InvalidHeaderName`] or
    /// [`HTTPInputError::InvalidHeaderValue`] as for [`add`](Self::add) (a bare CR is a control
    /// character in the value).
    pub fn parse(text: &str) -> Result<Self> {
        let mut h = Self::new();
        h.parse_into(text)?;
        Ok(h)
    }

    /// [`parse`](Self::parse) appending to `self`.
    pub(crate) fn parse_into(&mut self, text: &str) -> Result<()> {
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            self.parse_line(line)?;
        }
        Ok(())
    }

    /// Parses one header line (Tornado's `parse_line`); an empty line is ignored.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    pub fn parse_line(&mut self, line: &str) -> Result<()> {
        let line = line
            .strip_suffix("\r\n")
            .or_else(|| line.strip_suffix('\n'))
            .unwrap_or(line);
        if line.is_empty() {
            return Ok(());
        }
        if line.starts_with([' ', '\t']) {
            return Err(HTTPInputError::MalformedHeader);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(HTTPInputError::MalformedHeader)?;
        self.add(name, trim_ows(value))
    }
}

fn validate_name(name: &str) -> Result<()> {
    if is_token(name.as_bytes()) {
        Ok(())
    } else {
        Err(HTTPInputError::InvalidHeaderName)
    }
}

fn validate_value(value: &str) -> Result<()> {
    let b = value.as_bytes();
    let edge_ws = |c: Option<&u8>| matches!(c, Some(b' ' | b'\t'));
    if edge_ws(b.first()) || edge_ws(b.last()) || b.iter().any(|&c| is_forbidden_value_byte(c)) {
        Err(HTTPInputError::InvalidHeaderValue)
    } else {
        Ok(())
    }
}

impl fmt::Debug for HTTPHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// `Name: value\n` per line, as Tornado's `str(headers)`; [`HTTPHeaders::parse`] reads it back.
impl fmt::Display for HTTPHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self {
            writeln!(f, "{name}: {value}")?;
        }
        Ok(())
    }
}

/// Equal when the same lines appear in the same order, names compared case-insensitively.
impl PartialEq for HTTPHeaders {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((n1, v1), (n2, v2))| n1.eq_ignore_ascii_case(n2) && v1 == v2)
    }
}

impl Eq for HTTPHeaders {}

impl<'a> IntoIterator for &'a HTTPHeaders {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over `(name, value)` lines, from [`HTTPHeaders::iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    headers: &'a HTTPHeaders,
    entries: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let e = self.entries.next()?;
        Some((self.headers.name_of(e), self.headers.value_of(e)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Iterator over the values of one name, from [`HTTPHeaders::get_list`].
#[derive(Debug, Clone)]
pub struct GetList<'a, 'n> {
    headers: &'a HTTPHeaders,
    name: &'n str,
    entries: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for GetList<'a, '_> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let headers = self.headers;
        self.entries
            .find(|e| headers.name_of(e).eq_ignore_ascii_case(self.name))
            .map(|e| headers.value_of(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_duplicates_and_case() {
        let mut h = HTTPHeaders::new();
        h.add("Content-Type", "text/html").unwrap();
        h.add("X-A", "1").unwrap();
        h.add("x-a", "2").unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h.get("x-A"), Some("1"));
        assert_eq!(h.get_joined("X-a").unwrap(), "1,2");
        assert!(matches!(
            h.get_joined("content-type"),
            Some(Cow::Borrowed("text/html"))
        ));
        let names: Vec<_> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Content-Type", "X-A", "x-a"]);
        assert!(h.remove("X-A"));
        assert!(!h.remove("X-A"));
        assert_eq!(h.len(), 1);
        assert!(!h.contains("x-a"));
    }

    #[test]
    fn set_replaces_all() {
        let mut h = HTTPHeaders::new();
        h.add("A", "1").unwrap();
        h.add("B", "2").unwrap();
        h.add("a", "3").unwrap();
        h.set("A", "4").unwrap();
        assert_eq!(h.iter().collect::<Vec<_>>(), [("B", "2"), ("A", "4")]);
        assert!(h.set("A", " x").is_err());
        assert_eq!(h.get("a"), Some("4"));
    }

    #[test]
    fn compaction_keeps_lines() {
        let mut h = HTTPHeaders::new();
        let long = "v".repeat(300);
        for i in 0..20 {
            h.add("Keep", &i.to_string()).unwrap();
            h.add("Drop", &long).unwrap();
        }
        assert!(h.remove("drop"));
        assert_eq!(h.garbage, 0, "compacted");
        let values: Vec<_> = h.get_list("keep").collect();
        assert_eq!(values.len(), 20);
        assert_eq!(values[19], "19");
    }

    #[test]
    fn clear_keeps_capacity() {
        let mut h = HTTPHeaders::new();
        h.add("A", "1").unwrap();
        let cap = h.buf.capacity();
        h.clear();
        assert!(h.is_empty());
        assert_eq!(h.buf.capacity(), cap);
    }

    #[test]
    fn latin1_wire_values() {
        let mut h = HTTPHeaders::new();
        h.push_wire("X", b"caf\xe9");
        assert_eq!(h.get("x"), Some("caf\u{e9}"));
    }
}
