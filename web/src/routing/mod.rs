//! Routing (Tornado's `tornado.routing`): path patterns anchored as `PathMatches`, URL-unescaped
//! captures, named routes and `reverse_url`, host patterns.

mod options;
mod pattern;

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use regex::Regex;

use crate::error::{HTTPError, Result};
use crate::handler::{HandlerFactory, RequestHandler};
pub(crate) use options::RouteOptions;
pub(crate) use pattern::{Captures, PathPattern};

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
    /// [`WebError::InvalidPattern`](crate::WebError::InvalidPattern).
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

    /// A route to a ready [`HandlerFactory`]: one factory shared between routes (or with
    /// [`Application::default_handler_factory`](crate::Application::default_handler_factory)).
    ///
    /// ```
    /// use typhoon_web::{ErrorHandler, HandlerFactory, Route};
    ///
    /// let gone = HandlerFactory::new(|| ErrorHandler::new(410));
    /// let routes = vec![
    ///     Route::with_factory("/old", gone.clone())?,
    ///     Route::with_factory("/older", gone)?,
    /// ];
    /// # assert_eq!(routes.len(), 2);
    /// # Ok::<(), typhoon_web::WebError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WebError::InvalidPattern`](crate::WebError::InvalidPattern).
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

    /// Requires a logged-in user for every method (Tornado's `@authenticated` on each verb):
    /// runs the handler's [`RequestHandler::authenticated`](crate::RequestHandler::authenticated)
    /// after its `prepare`, so GET and HEAD redirect to its `get_login_url` (the `login_url`
    /// setting by default) with `?next=`, and other methods get 403.
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
        self.pattern.source()
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("pattern", &self.pattern.source())
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
        pattern::anchored_regex(pattern)
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
