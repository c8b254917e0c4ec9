//! Path patterns (Tornado's `PathMatches`): anchored regexes, URL-unescaped captures, and
//! `reverse` for `reverse_url`.

use std::collections::HashMap;

use regex::Regex;
use typhoon_escape::{url_escape, url_unescape_bytes};

use crate::error::{HTTPError, Result, WebError};

/// A path pattern (Tornado's `PathMatches`): the regex must match at the start of the path and
/// runs to its end (`$` is appended unless present).
#[derive(Clone)]
pub(crate) struct PathPattern {
    /// The pattern as given.
    source: String,
    /// The compiled, anchored regex.
    regex: Regex,
    /// Whether the pattern has named groups (then captures are keyword arguments).
    named: bool,
    /// The pattern split into literals and groups, when it can be reversed.
    reverse: Option<Vec<Piece>>,
}

/// A piece of a reversible pattern.
#[derive(Clone, Debug)]
enum Piece {
    /// Literal text.
    Literal(String),
    /// A capture group, filled by the next argument.
    Group,
}

/// Captures taken from a path: positional (`path_args`) or named (`path_kwargs`).
pub(crate) type Captures = (Vec<String>, HashMap<String, String>);

impl PathPattern {
    /// Compiles `pattern`.
    pub(crate) fn new(pattern: &str) -> Result<Self> {
        let regex = anchored_regex(pattern)?;
        let named = regex.capture_names().flatten().next().is_some();
        let reverse = find_groups(pattern, regex.captures_len() - 1);
        Ok(Self {
            source: pattern.to_owned(),
            regex,
            named,
            reverse,
        })
    }

    /// The pattern as given.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// Matches `path`; captures are URL-unescaped (not `+`) and must be UTF-8 (else 400).
    pub(crate) fn matches(&self, path: &str) -> Option<Result<Captures, HTTPError>> {
        if self.regex.captures_len() == 1 {
            return self
                .regex
                .is_match(path)
                .then(|| Ok((Vec::new(), HashMap::new())));
        }
        let caps = self.regex.captures(path)?;
        let decode = |s: &str| {
            String::from_utf8(url_unescape_bytes(s.as_bytes(), false))
                .map_err(|_| HTTPError::with_log_message(400, "invalid unicode in path argument"))
        };
        let mut args = Vec::new();
        let mut kwargs = HashMap::new();
        if self.named {
            for name in self.regex.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    match decode(m.as_str()) {
                        Ok(v) => kwargs.insert(name.to_owned(), v),
                        Err(e) => return Some(Err(e)),
                    };
                }
            }
        } else {
            for m in caps.iter().skip(1) {
                match m.map(|m| decode(m.as_str())).transpose() {
                    Ok(v) => args.push(v.unwrap_or_default()),
                    Err(e) => return Some(Err(e)),
                }
            }
        }
        Some(Ok((args, kwargs)))
    }

    /// Builds a path from `args` (URL-escaped, `quote` style) like Tornado's `reverse`.
    pub(crate) fn reverse(&self, args: &[&str]) -> Option<String> {
        let pieces = self.reverse.as_ref()?;
        let groups = pieces.iter().filter(|p| matches!(p, Piece::Group)).count();
        if groups != args.len() {
            return None;
        }
        let mut out = String::new();
        let mut args = args.iter();
        for piece in pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Group => out.push_str(&url_escape(args.next()?, false)),
            }
        }
        Some(out)
    }
}

/// Compiles `pattern` anchored at both ends, as Tornado's `PathMatches` and `HostMatches` do
/// (`$` appended unless present).
pub(crate) fn anchored_regex(pattern: &str) -> Result<Regex> {
    let mut anchored = pattern.to_owned();
    if !anchored.ends_with('$') {
        anchored.push('$');
    }
    Regex::new(&format!("^(?:{anchored})")).map_err(|source| WebError::InvalidPattern {
        pattern: pattern.to_owned(),
        source: Box::new(source),
    })
}

/// Tornado's `_find_groups`: the pattern as literals and groups, or `None` when it has nested
/// or non-capturing groups or regex syntax outside groups.
fn find_groups(pattern: &str, groups: usize) -> Option<Vec<Piece>> {
    let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
    let pattern = pattern.strip_suffix('$').unwrap_or(pattern);
    if pattern.matches('(').count() != groups {
        return None;
    }
    let mut pieces = Vec::new();
    for (i, fragment) in pattern.split('(').enumerate() {
        let literal = if i == 0 {
            fragment
        } else {
            pieces.push(Piece::Group);
            let close = fragment.find(')')?;
            &fragment[close + 1..]
        };
        pieces.push(Piece::Literal(re_unescape(literal)?));
    }
    Some(pieces)
}

/// Tornado's `re_unescape`: `\.` becomes `.`; a backslash before an alphanumeric (a class like
/// `\d`) or other regex syntax makes the pattern irreversible.
fn re_unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let next = chars.next()?;
            if next.is_ascii_alphanumeric() {
                return None;
            }
            out.push(next);
        } else if "[]{}*+?|.^$".contains(c) && c != '.' {
            return None;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchoring_and_unescape() {
        let p = PathPattern::new("/user/([^/]+)").expect("pattern");
        let (args, _) = p.matches("/user/a%20b").expect("match").expect("ok");
        assert_eq!(args, ["a b"]);
        assert!(p.matches("/x/user/a").is_none());
        assert!(p.matches("/user/a/b").is_none());
        let plus = p.matches("/user/a+b").expect("match").expect("ok");
        assert_eq!(plus.0, ["a+b"]);
    }

    #[test]
    fn reverse() {
        let p = PathPattern::new(r"/a/([0-9]+)/b\.html").expect("pattern");
        assert_eq!(p.reverse(&["12"]).as_deref(), Some("/a/12/b.html"));
        assert_eq!(p.reverse(&[]), None);
        let p = PathPattern::new(r"/a/(?:x|y)").expect("pattern");
        assert_eq!(p.reverse(&[]), None);
        let p = PathPattern::new(r"/s/(.*)").expect("pattern");
        assert_eq!(p.reverse(&["a b/c"]).as_deref(), Some("/s/a%20b/c"));
    }
}
