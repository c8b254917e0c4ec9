//! Form bodies and query strings: [`parse_body_arguments`], [`parse_multipart_form_data`],
//! [`parse_query_arguments`], with Tornado 6.6's limits ([`ParseBodyConfig`]).

use std::collections::HashMap;

use memchr::memmem;

use crate::error::{HTTPInputError, Result};
use crate::headers::HTTPHeaders;
use typhoon_escape::parse_qs_fields;

/// Arguments by name, each with its values in order (Tornado's `dict[str, list[bytes]]`).
pub type Arguments = HashMap<String, Vec<Vec<u8>>>;

/// Uploaded files by form field name (Tornado's `dict[str, list[HTTPFile]]`).
pub type Files = HashMap<String, Vec<HTTPFile>>;

/// A file uploaded through a `multipart/form-data` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HTTPFile {
    /// The client's name for the file (`filename` or RFC 2231 `filename*` parameter).
    pub filename: String,
    /// The part's `Content-Type`, `application/unknown` when it has none.
    pub content_type: String,
    /// The file's bytes.
    pub body: Vec<u8>,
}

/// Limits for `multipart/form-data` bodies (Tornado 6.6's `ParseMultipartConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMultipartConfig {
    /// Whether multipart bodies are parsed at all (default `true`); multipart has a history of
    /// denial-of-service bugs, and an application without file uploads can turn it off.
    pub enabled: bool,
    /// The most parts, counting the empty preamble before the first boundary as Tornado does
    /// (default 100, so 99 fields).
    pub max_parts: usize,
    /// The largest part header section in bytes (default 10 KiB).
    pub max_part_header_size: usize,
}

impl Default for ParseMultipartConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_parts: 100,
            max_part_header_size: 10 * 1024,
        }
    }
}

/// Limits for `application/x-www-form-urlencoded` bodies (Tornado 6.6's `ParseUrlEncodedConfig`),
/// also applied to query strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseUrlEncodedConfig {
    /// The most `&`-separated fields (default 1000).
    pub max_arguments: usize,
}

impl Default for ParseUrlEncodedConfig {
    fn default() -> Self {
        Self {
            max_arguments: 1000,
        }
    }
}

/// How request bodies are parsed (Tornado 6.6's `ParseBodyConfig`). Where Tornado has a global
/// setter, Typhoon passes the configuration explicitly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseBodyConfig {
    /// `multipart/form-data` limits.
    pub multipart: ParseMultipartConfig,
    /// `application/x-www-form-urlencoded` limits.
    pub urlencoded: ParseUrlEncodedConfig,
}

/// Parses a query string into `arguments`, as Tornado's `HTTPServerRequest` fills its
/// `arguments` with `escape.parse_qs_bytes` ([`typhoon_escape::parse_qs_fields`] does the
/// splitting and decoding): fields split on `&` (never `;`), `+` is a space, `%XX` a byte; a field
/// without `=` has an empty value; fields with an empty value are kept only with
/// `keep_blank_values`. Values stay bytes; names are decoded as UTF-8 with replacement
/// characters (Tornado decodes them as Latin-1, which garbles non-ASCII names; ASCII names are
/// the same either way).
///
/// ```
/// use typhoon_httputil::{Arguments, parse_query_arguments};
/// let mut args = Arguments::new();
/// parse_query_arguments(b"a=1&b=2&a=3&c=", false, Some(1000), &mut args)?;
/// assert_eq!(args["a"], [b"1".to_vec(), b"3".to_vec()]);
/// assert!(!args.contains_key("c"));
/// # Ok::<(), typhoon_httputil::HTTPInputError>(())
/// ```
///
/// # Errors
///
/// [`HTTPInputError::TooManyFields`] when there are more than `max_num_fields` fields (counted
/// before parsing, so an attacker's string costs one scan); `arguments` is then unchanged.
pub fn parse_query_arguments(
    qs: &[u8],
    keep_blank_values: bool,
    max_num_fields: Option<usize>,
    arguments: &mut Arguments,
) -> Result<()> {
    let fields = parse_qs_fields(
        qs,
        keep_blank_values,
        false,
        max_num_fields,
        |name, value| {
            let name = String::from_utf8_lossy(&name).into_owned();
            arguments.entry(name).or_default().push(value.into_owned());
        },
    );
    // Without strict parsing, the field count is the only failure.
    fields.map_err(|_| HTTPInputError::TooManyFields)
}

/// Parses a form body into `arguments` and `files`, as Tornado's `parse_body_arguments`:
/// `application/x-www-form-urlencoded` (blank values kept) and `multipart/form-data`; other
/// content types are left alone.
///
/// # Errors
///
/// [`HTTPInputError::UnsupportedContentEncoding`] when `headers` has a `Content-Encoding` (the
/// connection should have decoded it); [`HTTPInputError::TooManyFields`] as in
/// [`parse_query_arguments`]; [`HTTPInputError::InvalidMultipart`] for a `multipart/form-dataxyz` type
/// or no boundary; and every error of [`parse_multipart_form_data`].
pub fn parse_body_arguments(
    content_type: &str,
    body: &[u8],
    headers: Option<&HTTPHeaders>,
    arguments: &mut Arguments,
    files: &mut Files,
    config: &ParseBodyConfig,
) -> Result<()> {
    let encoded = headers.is_some_and(|h| h.contains("Content-Encoding"));
    if content_type.starts_with("application/x-www-form-urlencoded") {
        if encoded {
            return Err(HTTPInputError::UnsupportedContentEncoding);
        }
        parse_query_arguments(body, true, Some(config.urlencoded.max_arguments), arguments)
    } else if content_type.starts_with("multipart/form-data") {
        if encoded {
            return Err(HTTPInputError::UnsupportedContentEncoding);
        }
        let mut fields = content_type.split(';');
        if fields.next().map(str::trim) != Some("multipart/form-data") {
            return Err(HTTPInputError::InvalidMultipart("invalid content type"));
        }
        for field in fields {
            let field = field.trim();
            let (k, v) = field.split_once('=').unwrap_or((field, ""));
            if k == "boundary" && !v.is_empty() {
                return parse_multipart_form_data(
                    v.as_bytes(),
                    body,
                    arguments,
                    files,
                    &config.multipart,
                );
            }
        }
        Err(HTTPInputError::InvalidMultipart("boundary not found"))
    } else {
        Ok(())
    }
}

/// Parses a `multipart/form-data` body, as Tornado 6.6's `parse_multipart_form_data`: a quoted
/// boundary is unquoted, everything after the last `--boundary--` is ignored, each part needs a
/// `Content-Disposition: form-data` with a `name`; a part with a `filename` (or RFC 2231
/// `filename*`) goes to `files`, others to `arguments`. Part headers are UTF-8.
///
/// # Errors
///
/// [`HTTPInputError::MultipartDisabled`], [`HTTPInputError::TooManyParts`],
/// [`HTTPInputError::PartHeaderTooLarge`] per `config`; [`HTTPInputError::InvalidMultipart`] for
/// a missing final boundary, a part without headers, disposition or name, or a part not ended by
/// CRLF; [`HTTPInputError::InvalidHeaderValue`] and the other [`HTTPHeaders::parse`] errors for a
/// bad part header (a bare CR, a control character). Parts parsed before an error stay in
/// `arguments` and `files`.
pub fn parse_multipart_form_data(
    boundary: &[u8],
    data: &[u8],
    arguments: &mut Arguments,
    files: &mut Files,
    config: &ParseMultipartConfig,
) -> Result<()> {
    if !config.enabled {
        return Err(HTTPInputError::MultipartDisabled);
    }
    let boundary = match boundary {
        [b'"'] => &b""[..],
        [b'"', inner @ .., b'"'] => inner,
        _ => boundary,
    };
    let mut final_boundary = Vec::with_capacity(boundary.len() + 4);
    final_boundary.extend_from_slice(b"--");
    final_boundary.extend_from_slice(boundary);
    final_boundary.extend_from_slice(b"--");
    let final_index = memmem::rfind(data, &final_boundary)
        .ok_or(HTTPInputError::InvalidMultipart("no final boundary found"))?;
    let data = &data[..final_index];
    // The separator is "--boundary\r\n": reuse the buffer.
    final_boundary.truncate(boundary.len() + 2);
    final_boundary.extend_from_slice(b"\r\n");
    let separator = memmem::Finder::new(&final_boundary);

    // Python's `data.split(sep, max_parts + 1)` yields at most max_parts + 2 pieces, and more than
    // max_parts is an error: count before parsing anything, as Tornado does.
    let pieces = separator
        .find_iter(data)
        .take(config.max_parts.saturating_add(1))
        .count()
        + 1;
    if pieces > config.max_parts {
        return Err(HTTPInputError::TooManyParts);
    }
    let mut start = 0;
    let mut ends = separator.find_iter(data);
    loop {
        let (part, next) = match ends.next() {
            Some(end) => (&data[start..end], Some(end + final_boundary.len())),
            None => (&data[start..], None),
        };
        if !part.is_empty() {
            parse_part(part, arguments, files, config)?;
        }
        match next {
            Some(n) => start = n,
            None => return Ok(()),
        }
    }
}

fn parse_part(
    part: &[u8],
    arguments: &mut Arguments,
    files: &mut Files,
    config: &ParseMultipartConfig,
) -> Result<()> {
    let eoh = memmem::find(part, b"\r\n\r\n")
        .ok_or(HTTPInputError::InvalidMultipart("missing headers"))?;
    if eoh > config.max_part_header_size {
        return Err(HTTPInputError::PartHeaderTooLarge);
    }
    let text = std::str::from_utf8(&part[..eoh])
        .map_err(|_| HTTPInputError::InvalidMultipart("part headers are not UTF-8"))?;
    let headers = HTTPHeaders::parse(text)?;
    let disposition = headers.get_joined("Content-Disposition");
    let (disposition, mut params) = parse_header(disposition.as_deref().unwrap_or(""));
    if disposition != "form-data" || !part.ends_with(b"\r\n") {
        return Err(HTTPInputError::InvalidMultipart("invalid part"));
    }
    let value = part.get(eoh + 4..part.len() - 2).unwrap_or_default();
    let name = match params.remove("name") {
        Some(n) if !n.is_empty() => n,
        _ => return Err(HTTPInputError::InvalidMultipart("missing name")),
    };
    match params.remove("filename") {
        Some(filename) if !filename.is_empty() => {
            let content_type = headers
                .get_joined("Content-Type")
                .map_or_else(|| "application/unknown".to_owned(), |c| c.into_owned());
            files.entry(name).or_default().push(HTTPFile {
                filename,
                content_type,
                body: value.to_vec(),
            });
        }
        _ => arguments.entry(name).or_default().push(value.to_vec()),
    }
    Ok(())
}

/// Tornado's `_parseparam`: splits `s` (which starts with `;`) at semicolons outside quoted
/// strings, linearly (the CPython fix for CVE-2025-67726's quadratic scan, ported as is).
fn parse_params(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let find = |from: usize| -> isize {
        b.get(from..)
            .and_then(|t| memchr::memchr(b';', t))
            .map_or(-1, |i| (from + i) as isize)
    };
    // Python's s.count(sub, start, end): 0 when start >= end.
    let count = |needle: &[u8], start: isize, end: isize| -> i64 {
        if start < 0 || end <= start {
            return 0;
        }
        memmem::find_iter(&b[start as usize..end as usize], needle).count() as i64
    };
    let mut out = Vec::new();
    let mut start = 0usize;
    while find(start) == start as isize {
        start += 1;
        let mut end = find(start);
        let mut ind = start as isize;
        let mut diff = 0i64;
        while end > 0 {
            diff += count(b"\"", ind, end) - count(b"\\\"", ind, end);
            if diff % 2 == 0 {
                break;
            }
            let next = find((end + 1) as usize);
            end = ind;
            ind = next;
        }
        let end = if end < 0 { s.len() } else { end as usize };
        // Python's str.strip() strips Unicode whitespace.
        out.push(s[start..end].trim());
        start = end;
    }
    out
}

/// `email.utils.unquote`: strips `"…"` (unescaping `\\` then `\"`) or `<…>`.
fn email_unquote(s: &str) -> String {
    if s.len() > 1 {
        if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            return inner.replace("\\\\", "\\").replace("\\\"", "\"");
        }
        if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            return inner.to_owned();
        }
    }
    s.to_owned()
}

/// `email.utils.quote`.
fn email_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Matches email's `rfc2231_continuation` (`^(\w+)\*((\d+)\*?)?$`, ASCII): the base name and the
/// section number, if any.
fn rfc2231_continuation(name: &str) -> Option<(&str, Option<u32>)> {
    let (base, rest) = name.split_once('*')?;
    if base.is_empty() || !base.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return None;
    }
    if rest.is_empty() {
        return Some((base, None));
    }
    let digits = rest.strip_suffix('*').unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((base, Some(digits.parse().unwrap_or(u32::MAX))))
}

/// Decodes RFC 2231 text whose characters are bytes (`raw-unicode-escape`) in `charset`.
fn decode_charset(charset: &str, text: &str) -> Option<String> {
    let mut raw = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) => raw.push(b),
            Err(_) => raw.extend_from_slice(format!("\\u{:04x}", u32::from(c)).as_bytes()),
        }
    }
    match charset.to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Some(String::from_utf8_lossy(&raw).into_owned()),
        "iso-8859-1" | "latin-1" | "latin1" | "l1" => {
            Some(raw.iter().map(|&b| char::from(b)).collect())
        }
        "us-ascii" | "ascii" => Some(
            raw.iter()
                .map(|&b| {
                    if b.is_ascii() {
                        char::from(b)
                    } else {
                        '\u{fffd}'
                    }
                })
                .collect(),
        ),
        _ => None,
    }
}

/// One RFC 2231 section of a parameter: (section number, value, percent-encoded).
type Section = (Option<u32>, String, bool);

/// Tornado's `_parse_header`: a `Content-Disposition`-like value into its main value and its
/// parameters (names lowercased), with RFC 2231/5987 `name*=charset'lang'%XX` and continuations
/// decoded as Python's `email.utils.decode_params` does, and the last of duplicate names winning.
pub(crate) fn parse_header(line: &str) -> (String, HashMap<String, String>) {
    let with_semicolon = format!(";{line}");
    let mut parts = parse_params(&with_semicolon).into_iter();
    let key = parts.next().unwrap_or_default().to_owned();
    let mut plain: Vec<(String, String)> = Vec::new();
    // RFC 2231 parameters by base name, in first-seen order.
    let mut sections: Vec<(String, Vec<Section>)> = Vec::new();
    for p in parts {
        let Some((name, value)) = p.split_once('=') else {
            continue;
        };
        let name = name.trim().to_lowercase();
        let value = email_unquote(value.trim());
        match rfc2231_continuation(&name) {
            Some((base, num)) => {
                let encoded = name.ends_with('*');
                let entry = match sections.iter().position(|(n, _)| n == base) {
                    Some(i) => &mut sections[i].1,
                    None => {
                        sections.push((base.to_owned(), Vec::new()));
                        &mut sections.last_mut().expect("invariant: just pushed").1
                    }
                };
                entry.push((num, value, encoded));
            }
            None => plain.push((name, value)),
        }
    }
    let mut params: HashMap<String, String> = HashMap::new();
    let mut insert = |name: String, value: String| {
        let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) if value.len() >= 2 => inner.to_owned(),
            _ => value,
        };
        params.insert(name, value);
    };
    for (name, value) in plain {
        insert(name, value);
    }
    for (name, mut continuations) in sections {
        continuations.sort();
        let mut extended = false;
        let mut joined = String::new();
        for (_, s, encoded) in continuations {
            if encoded {
                let bytes = percent_encoding::percent_decode_str(&s);
                joined.extend(bytes.map(char::from));
                extended = true;
            } else {
                joined.push_str(&s);
            }
        }
        let quoted = email_quote(&joined);
        if !extended {
            insert(name, joined);
            continue;
        }
        // decode_rfc2231: charset'language'text, else no charset (us-ascii).
        let mut pieces = quoted.splitn(3, '\'');
        let (charset, text) = match (pieces.next(), pieces.next(), pieces.next()) {
            (Some(c), Some(_), Some(t)) => (c, t),
            _ => ("us-ascii", quoted.as_str()),
        };
        let text = format!("\"{text}\"");
        let value = decode_charset(charset, &text).unwrap_or_else(|| email_unquote(&text));
        insert(name, value);
    }
    (key, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_header_doc_example() {
        let (ct, d) = parse_header("form-data; foo=\"b\\\\a\\\"r\"; file*=utf-8''T%C3%A4st");
        assert_eq!(ct, "form-data");
        assert_eq!(d["file"], "T\u{e4}st");
        assert_eq!(d["foo"], "b\\a\"r");
    }

    #[test]
    fn params_split_like_tornado() {
        // Outputs recorded from Tornado 6.6.1's _parseparam.
        assert_eq!(parse_params(";x=\";;;\"; name=a"), ["x=\";;;\"", "name=a"]);
        assert_eq!(parse_params(";a=\"x;y\";b=2"), ["a=\"x;y\"", "b=2"]);
        assert_eq!(
            parse_params(";form-data; name=\"files\"; filename=\"a\\\";b.txt\""),
            ["form-data", "name=\"files\"", "filename=\"a\\\";b.txt\""]
        );
        assert_eq!(parse_params(";a=\"1;2;3\""), ["a=\"1;2;3\""]);
    }

    #[test]
    fn continuations() {
        let (_, d) = parse_header("form-data; name*0=\"ab\"; name*1=\"cd\"");
        assert_eq!(d["name"], "abcd");
        let (_, d) = parse_header("form-data; filename*0*=UTF-8''%C3; filename*1*=%A1");
        assert_eq!(d["filename"], "\u{e1}");
    }

    #[test]
    fn max_fields_counts_before_parsing() {
        let mut args = Arguments::new();
        assert!(matches!(
            parse_query_arguments(b"a=1&b=2&c=3", true, Some(2), &mut args),
            Err(HTTPInputError::TooManyFields)
        ));
        assert!(args.is_empty());
        parse_query_arguments(b"a=1&b=2", true, Some(2), &mut args).unwrap();
        assert_eq!(args.len(), 2);
    }

    #[test]
    fn one_quote_boundary_does_not_panic() {
        let (mut a, mut f) = (Arguments::new(), Files::new());
        let r = parse_multipart_form_data(
            b"\"",
            b"----",
            &mut a,
            &mut f,
            &ParseMultipartConfig::default(),
        );
        assert!(r.is_ok());
        let r = parse_multipart_form_data(
            b"x",
            b"--x\r\n\r\n\r\n--x--",
            &mut a,
            &mut f,
            &ParseMultipartConfig::default(),
        );
        assert!(matches!(r, Err(HTTPInputError::InvalidMultipart(_))));
    }
}
