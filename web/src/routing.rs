//! Routing (Tornado's `tornado.routing`): path patterns anchored as `PathMatches`, URL-unescaped
//! captures, named routes and `reverse_url`, host patterns.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use regex::Regex;
use typhoon_escape::{url_escape, url_unescape_bytes};

use crate::error::{HTTPError, Result, WebError};
use crate::handler::{HandlerFactory, RequestHandler};

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
        let mut anchored = pattern.to_owned();
        if !anchored.ends_with('$') {
            anchored.push('$');
        }
        let regex =
            Regex::new(&format!("^(?:{anchored})")).map_err(|source| WebError::InvalidPattern {
                pattern: pattern.to_owned(),
                source: Box::new(source),
            })?;
        let named = regex.capture_names().flatten().next().is_some();
        let reverse = find_groups(pattern, regex.captures_len() - 1);
        Ok(Self {
            source: pattern.to_owned(),
            regex,
            named,
            reverse,
        })
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
            String::from_utf8(url_unescape_bytes(s.as_bytes(), false)).map_err(|_| {
                HTTPError::new(400).with_log_message("invalid unicode in path argument")
            })
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

/// One rule of an [`Application`](crate::Application): a path pattern, the handler that
/// serves it, and per-route options. Made by [`route`].
#[derive(Clone)]
pub struct Route {
    /// The path pattern.
    pub(crate) pattern: std::sync::Arc<PathPattern>,
    /// The handler factory (Tornado's handler class plus `initialize` arguments).
    pub(crate) target: HandlerFactory,
    /// The name for `reverse_url`.
    pub(crate) name: Option<String>,
    /// Per-route options.
    pub(crate) options: Rc<RouteOptions>,
}

/// Per-route options, set with [`Route`]'s builder methods.
#[derive(Clone, Debug, Default)]
pub(crate) struct RouteOptions {
    /// Tornado's `@authenticated` on every method.
    pub(crate) authenticated: bool,
    /// Overrides the application's request timeout.
    pub(crate) timeout: Option<Duration>,
    /// Overrides the application's `max_body_size`.
    pub(crate) max_body_size: Option<u64>,
}

/// A route from a path pattern to a handler built by `factory` for each request (the factory
/// is Tornado's `initialize`: it captures the route's arguments).
///
/// The pattern is a regex anchored like Tornado's `PathMatches`: it must match from the start
/// of the path to its end. Groups become [`path_args`](crate::Context::path_args), named groups
/// [`path_kwargs`](crate::Context::path_kwargs), both URL-unescaped.
///
/// # Panics
///
/// If `pattern` is not a valid regex (a programming error, like a bad `regex!`); use
/// [`Route::try_new`] to handle it.
///
/// # Examples
///
/// ```
/// use typhoon_web::{Context, HTTPError, RequestHandler, route};
///
/// struct User { greeting: &'static str }
/// impl RequestHandler for User {
///     async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
///         let id = cx.path_args()[0].clone();
///         cx.write(format!("{} {id}", self.greeting));
///         Ok(())
///     }
/// }
/// let r = route(r"/user/([0-9]+)", || User { greeting: "hi" }).name("user");
/// ```
pub fn route<H, F>(pattern: &str, factory: F) -> Route
where
    H: RequestHandler,
    F: Fn() -> H + 'static,
{
    match Route::try_new(pattern, factory) {
        Ok(route) => route,
        Err(err) => panic!("{err}: {:?}", std::error::Error::source(&err)),
    }
}

impl Route {
    /// As [`route`], returning an error for an invalid pattern.
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidPattern`].
    pub fn try_new<H, F>(pattern: &str, factory: F) -> Result<Self>
    where
        H: RequestHandler,
        F: Fn() -> H + 'static,
    {
        Ok(Self {
            pattern: std::sync::Arc::new(PathPattern::new(pattern)?),
            target: HandlerFactory::new(factory),
            name: None,
            options: Rc::default(),
        })
    }

    /// A route to an already erased handler factory (a `default_handler`, a
    /// `static_handler`, or one shared between routes).
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidPattern`].
    pub fn with_factory(pattern: &str, factory: HandlerFactory) -> Result<Self> {
        Ok(Self {
            pattern: std::sync::Arc::new(PathPattern::new(pattern)?),
            target: factory,
            name: None,
            options: Rc::default(),
        })
    }

    /// Names the route for [`Application::reverse_url`](crate::Application::reverse_url).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Requires a logged-in user for every method (Tornado's `@authenticated`): GET and HEAD
    /// redirect to `login_url` with `?next=`, other methods get 403.
    #[must_use]
    pub fn authenticated(mut self) -> Self {
        Rc::make_mut(&mut self.options).authenticated = true;
        self
    }

    /// A request timeout for this route, overriding `Settings::request_timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        Rc::make_mut(&mut self.options).timeout = Some(timeout);
        self
    }

    /// A body size limit for this route, overriding `Settings::max_body_size` (413 beyond it,
    /// decided from `Content-Length` before the body is read).
    #[must_use]
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        Rc::make_mut(&mut self.options).max_body_size = Some(bytes);
        self
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern.source
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("pattern", &self.pattern.source)
            .field("name", &self.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Routes for one host pattern (Tornado's `HostMatches` rule).
#[derive(Debug)]
pub(crate) struct HostRules {
    /// Matches `host_name` (anchored at both ends); `None` matches any host.
    pub(crate) host: Option<Regex>,
    /// The routes, tried in order.
    pub(crate) routes: Vec<Route>,
}

/// The routing table of an application.
#[derive(Debug, Default)]
pub(crate) struct Router {
    /// Host-specific rules in the order added, then the catch-all host.
    pub(crate) hosts: Vec<HostRules>,
}

impl Router {
    /// Compiles a host pattern (Tornado's `HostMatches`: `$` appended).
    pub(crate) fn host_regex(pattern: &str) -> Result<Regex> {
        let mut anchored = pattern.to_owned();
        if !anchored.ends_with('$') {
            anchored.push('$');
        }
        Regex::new(&format!("^(?:{anchored})")).map_err(|source| WebError::InvalidPattern {
            pattern: pattern.to_owned(),
            source: Box::new(source),
        })
    }

    /// Finds the route for `host_name` and `path`.
    pub(crate) fn find(
        &self,
        host_name: &str,
        path: &str,
    ) -> Option<(&Route, Result<Captures, HTTPError>)> {
        Self::find_in(&self.hosts, host_name, path)
    }

    /// Finds the route for `host_name` and `path` in `hosts`.
    pub(crate) fn find_in<'a>(
        hosts: &'a [HostRules],
        host_name: &str,
        path: &str,
    ) -> Option<(&'a Route, Result<Captures, HTTPError>)> {
        for rules in hosts {
            if let Some(host) = &rules.host
                && !host.is_match(host_name)
            {
                continue;
            }
            for route in &rules.routes {
                if let Some(captures) = route.pattern.matches(path) {
                    return Some((route, captures));
                }
            }
        }
        None
    }
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
