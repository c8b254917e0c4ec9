//! Per-route options ([`RouteOptions`]), read by the request's context.

use std::time::Duration;

/// Per-route options, set with [`Route`](crate::Route)'s builder methods.
#[derive(Clone, Debug, Default)]
pub(crate) struct RouteOptions {
    /// Tornado's `@authenticated` on every method.
    pub(crate) authenticated: bool,
    /// Overrides the application's request timeout.
    pub(crate) timeout: Option<Duration>,
    /// Overrides the application's `max_body_size`.
    pub(crate) max_body_size: Option<u64>,
}
