//! `squeeze` and `linkify`, with Python's Unicode character classes.

use std::fmt;
use std::fmt::Write as _;
use std::sync::OnceLock;

use regex::Regex;

use crate::html::xhtml_escape;
use crate::tables::{PY_SPACE, PY_WORD};

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let c = u32::from(c);
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `str.isspace()` (and `re`'s `\s`), from Python's Unicode database.
pub(crate) fn is_py_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | '\x1c'..=' ')
    } else {
        in_ranges(PY_SPACE, c)
    }
}

/// Python's `re` `\w` for str patterns: `str.isalnum()` or `_`.
pub(crate) fn is_py_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        in_ranges(PY_WORD, c)
    }
}

/// Python's `str.strip()` with no argument.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Replaces every run of characters `U+0000`..=`U+0020` with one space, then strips leading and
/// trailing whitespace (Python's `str.strip()`, so Unicode spaces such as U+00A0 go too).
///
/// # Examples
///
/// ```
/// assert_eq!(typhoon_escape::squeeze(" sequences \t of\n\nwhitespace  "), "sequences of whitespace");
/// ```
pub fn squeeze(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut in_run = false;
    for c in value.chars() {
        if c <= ' ' {
            if !in_run {
                out.push(' ');
                in_run = true;
            }
        } else {
            out.push(c);
            in_run = false;
        }
    }
    let stripped = py_strip(&out);
    if stripped.len() == out.len() {
        out
    } else {
        stripped.to_owned()
    }
}

/// The `extra_params` of [`linkify`]: text added to every `<a>` tag, or a function of the link.
pub enum ExtraParams {
    /// The same attributes for every link, such as `rel="nofollow"`. Surrounding whitespace is
    /// stripped; empty adds nothing.
    Text(String),
    /// Attributes computed from the link's `href` (Tornado's callable `extra_params`).
    Fn(Box<dyn Fn(&str) -> String + Send + Sync>),
}

impl Default for ExtraParams {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

impl fmt::Debug for ExtraParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) => f.debug_tuple("Text").field(s).finish(),
            Self::Fn(_) => f.debug_tuple("Fn").finish_non_exhaustive(),
        }
    }
}

/// Options of [`linkify`], Tornado's keyword arguments; build with `..Default::default()`.
#[derive(Debug)]
pub struct LinkifyParams {
    /// Shorten long URLs for display (the full URL goes into a `title` attribute).
    pub shorten: bool,
    /// Extra text for the link tag, or a function of the link returning it.
    pub extra_params: ExtraParams,
    /// Only linkify URLs that name a protocol; when `false`, `www.example.com` is linked too.
    pub require_protocol: bool,
    /// Protocols that may be linked (compared case-sensitively). Never add `javascript`.
    pub permitted_protocols: Vec<String>,
}

impl Default for LinkifyParams {
    /// Tornado's defaults: no shortening, no extra params, protocol optional, `http`/`https`.
    fn default() -> Self {
        Self {
            shorten: false,
            extra_params: ExtraParams::default(),
            require_protocol: false,
            permitted_protocols: vec!["http".to_owned(), "https".to_owned()],
        }
    }
}

/// Writes a regex character class body listing `table`'s ranges with hex escapes.
fn push_ranges(class: &mut String, table: &[(u32, u32)]) {
    for &(lo, hi) in table {
        // Writing to a String cannot fail.
        let _ = write!(class, "\\x{{{lo:x}}}-\\x{{{hi:x}}}");
    }
}

fn push_chars(class: &mut String, chars: &str) {
    for c in chars.chars() {
        let _ = write!(class, "\\x{{{:x}}}", u32::from(c));
    }
}

/// Tornado's `_URL_RE` without its leading `\b` (checked by hand with Python's `\w`), anchored,
/// with Python's `\w` and `\s` spelled out as explicit classes.
fn url_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let mut word = String::from("[");
        push_ranges(&mut word, PY_WORD);
        push_chars(&mut word, "-");
        word.push(']');
        let mut token = String::from("[^");
        push_ranges(&mut token, PY_SPACE);
        push_chars(&mut token, "&()");
        token.push(']');
        let mut last = String::from("[^");
        push_chars(&mut last, "!\"#$%&'()*+,.:;<=>?@[]^`{|}~");
        push_ranges(&mut last, PY_SPACE);
        last.push(']');
        let tokens = format!("(?:{token}|&amp;|&quot;)*");
        let pattern =
            format!(r"\A((?:({word}+):(/{{1,3}})|www[.])(?:(?:{tokens}{last})|(?:\({tokens}\)))+)");
        Regex::new(&pattern).expect("invariant: linkify's pattern is valid")
    })
}

/// Converts plain text into HTML with links, as Tornado's `linkify`.
///
/// The text is HTML-escaped first; then URLs such as `http://example.com/x` (and
/// `www.example.com`, unless [`LinkifyParams::require_protocol`] is set) become
/// `<a href="...">...</a>`. Trailing punctuation is left out of links and balanced parentheses
/// are kept, as in Tornado's liberal URL pattern.
///
/// # Examples
///
/// ```
/// use typhoon_escape::{linkify, ExtraParams, LinkifyParams};
///
/// assert_eq!(
///     linkify("hello http://world.com/!", &LinkifyParams::default()),
///     r#"hello <a href="http://world.com/">http://world.com/</a>!"#
/// );
/// let params = LinkifyParams {
///     extra_params: ExtraParams::Text(r#"rel="nofollow""#.into()),
///     ..Default::default()
/// };
/// assert_eq!(
///     linkify("www.a.com", &params),
///     r#"<a href="http://www.a.com" rel="nofollow">www.a.com</a>"#
/// );
/// ```
pub fn linkify(text: &str, params: &LinkifyParams) -> String {
    let text = xhtml_escape(text);
    let re = url_re();
    let fixed_params = match &params.extra_params {
        ExtraParams::Text(s) if !s.is_empty() => format!(" {}", py_strip(s)),
        _ => String::new(),
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut pos = 0;
    let mut prev_word = false;
    // End of the current run of `[\w-]` characters: the same for every start inside it, so
    // it is found once per run and the search stays linear on inputs like "a-a-a-...".
    let mut run_end = 0;
    while pos < text.len() {
        let Some(c) = text[pos..].chars().next() else {
            break;
        };
        let word = is_py_word(c);
        // `\b` holds where word-ness changes; the match starts with `[\w-]` or `w`.
        let boundary = word != prev_word;
        if boundary && (word || c == '-') && run_end <= pos {
            run_end = text[pos..]
                .char_indices()
                .find(|&(_, c)| !(is_py_word(c) || c == '-'))
                .map_or(text.len(), |(i, _)| pos + i);
        }
        // Only `proto:` (the run ends in ':') or `www.` can start a link here.
        if boundary
            && (word || c == '-')
            && (text[run_end..].starts_with(':') || text[pos..].starts_with("www."))
            && let Some(caps) = re.captures(&text[pos..])
            && let Some(whole) = caps.get(1)
        {
            out.push_str(&text[copied..pos]);
            let proto = caps.get(2).map(|m| m.as_str());
            let slashes = caps.get(3).map_or("", |m| m.as_str());
            make_link(
                &mut out,
                whole.as_str(),
                proto,
                slashes,
                params,
                &fixed_params,
            );
            pos += whole.end();
            copied = pos;
            prev_word = text[..pos].chars().next_back().is_some_and(is_py_word);
            continue;
        }
        prev_word = word;
        pos += c.len_utf8();
    }
    out.push_str(&text[copied..]);
    out
}

fn char_prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

fn make_link(
    out: &mut String,
    url: &str,
    proto: Option<&str>,
    slashes: &str,
    params: &LinkifyParams,
    fixed_params: &str,
) {
    if params.require_protocol && proto.is_none() {
        out.push_str(url);
        return;
    }
    if let Some(p) = proto
        && !params.permitted_protocols.iter().any(|x| x == p)
    {
        out.push_str(url);
        return;
    }
    let href = match proto {
        Some(_) => url.to_owned(),
        None => format!("http://{url}"),
    };
    let mut extra = match &params.extra_params {
        ExtraParams::Fn(f) => format!(" {}", py_strip(&f(&href))),
        ExtraParams::Text(_) => fixed_params.to_owned(),
    };
    let mut shown = url.to_owned();
    const MAX_LEN: usize = 30;
    let before_len = url.chars().count();
    if params.shorten && before_len > MAX_LEN {
        let proto_len = proto.map_or(0, |p| p.chars().count() + 1 + slashes.chars().count());
        let head = char_prefix(url, proto_len);
        let tail = &url[head.len()..];
        let mut parts = tail.split('/');
        if let (Some(p0), Some(p1)) = (parts.next(), parts.next()) {
            let p1 = char_prefix(p1, 8);
            let p1 = p1.split('?').next().unwrap_or("");
            let p1 = p1.split('.').next().unwrap_or("");
            shown = format!("{head}{p0}/{p1}");
        }
        // Python: len(url) > max_len * 1.5
        if shown.chars().count() * 2 > MAX_LEN * 3 {
            shown = char_prefix(&shown, MAX_LEN).to_owned();
        }
        if shown != url {
            if let Some(amp_byte) = shown.rfind('&') {
                let amp = shown[..amp_byte].chars().count();
                if amp > MAX_LEN - 5 {
                    shown.truncate(amp_byte);
                }
            }
            shown.push_str("...");
            if shown.chars().count() >= before_len {
                url.clone_into(&mut shown);
            } else {
                let _ = write!(extra, " title=\"{href}\"");
            }
        }
    }
    let _ = write!(out, "<a href=\"{href}\"{extra}>{shown}</a>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_classes() {
        assert!(is_py_space('\u{1c}') && is_py_space('\u{85}') && is_py_space('\u{3000}'));
        assert!(!is_py_space('\u{200b}'));
        assert!(is_py_word('é') && is_py_word('_') && is_py_word('\u{4a39}'));
        assert!(!is_py_word('-') && !is_py_word('\u{27a1}'));
    }

    #[test]
    fn squeeze_strips_unicode_space() {
        assert_eq!(squeeze("\u{a0} a \u{3000}"), "a");
        assert_eq!(squeeze(""), "");
    }

    #[test]
    fn linear_on_hyphenated_runs() {
        // Every '-' after a word character is a candidate start; a naive search rescans the
        // run from each one (quadratic, minutes here).
        let text = "a-".repeat(100_000);
        let start = std::time::Instant::now();
        assert_eq!(linkify(&text, &LinkifyParams::default()), text);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        let text = format!("{} http://x.com/ {}", "b-".repeat(1000), "w-".repeat(1000));
        assert!(linkify(&text, &LinkifyParams::default()).contains(r#"<a href="http://x.com/">"#));
    }

    #[test]
    fn backtracks_over_slashes() {
        let p = LinkifyParams::default();
        assert_eq!(
            linkify("http:///", &p),
            r#"<a href="http:///">http:///</a>"#
        );
    }
}
