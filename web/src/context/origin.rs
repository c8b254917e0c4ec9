//! Tornado 6.6's cross-origin check (`_check_cross_origin`), shared by the
//! `cross_origin_protection` setting and the WebSocket handshake.

use super::Context;
use crate::error::WebError;

impl Context {
    /// Whether `origin` is one of the application's `trusted_origins`, compared exactly
    /// (Tornado 6.6's default `check_trusted_origin`: `https://a.example/` and
    /// `http://a.example` do not match `https://a.example`).
    pub fn check_trusted_origin(&self, origin: &str) -> bool {
        self.settings().trusted_origins.iter().any(|o| o == origin)
    }

    /// Tornado 6.6's cross-origin algorithm (`_check_cross_origin`), on this request's
    /// headers: `Sec-Fetch-Site: same-origin` or `none` passes; another `Sec-Fetch-Site`
    /// (`cross-site`, `same-site`) passes only with an `Origin` that `check` accepts. Without
    /// `Sec-Fetch-Site` (an old browser, plain HTTP, or not a browser), no `Origin` passes, an
    /// `Origin` whose `host[:port]` is the request's `Host` (ignoring case) passes, and another
    /// passes if `check` accepts it. `check` is asked only about requests that look
    /// cross-origin. `Referer` is never consulted.
    ///
    /// The `cross_origin_protection` setting runs this with the handler's
    /// [`check_trusted_origin`](crate::RequestHandler::check_trusted_origin) for unsafe
    /// methods; the WebSocket handshake runs it with `check_origin`.
    ///
    /// # Errors
    ///
    /// [`WebError::CrossOrigin`] when the request is refused.
    pub fn check_cross_origin(&self, check: impl FnOnce(&str) -> bool) -> Result<(), WebError> {
        let headers = &self.request().headers;
        let origin = headers.get("Origin").map(str::trim);
        let site = headers.get("Sec-Fetch-Site").map(str::trim);
        let allowed = match site {
            Some(site)
                if site.eq_ignore_ascii_case("same-origin")
                    || site.eq_ignore_ascii_case("none") =>
            {
                true
            }
            Some(_) => origin.is_some_and(|origin| !origin.is_empty() && check(origin)),
            None => match origin {
                None => true,
                Some(origin) => {
                    let host = headers.get("Host").map(str::trim).unwrap_or("");
                    let same_host = origin_netloc(origin).is_some_and(|netloc| {
                        !netloc.is_empty() && netloc.eq_ignore_ascii_case(host)
                    });
                    same_host || check(origin)
                }
            },
        };
        if allowed {
            Ok(())
        } else {
            Err(WebError::CrossOrigin {
                sec_fetch_site: site.map(str::to_owned),
                origin: origin.map(str::to_owned),
            })
        }
    }
}

/// The `host[:port]` of an origin (`http://h:8888` gives `h:8888`), as Python's
/// `urlsplit(origin).netloc`: nothing without a `scheme://`.
fn origin_netloc(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::origin_netloc;

    #[test]
    fn netloc_as_urlsplit() {
        assert_eq!(
            origin_netloc("http://127.0.0.1:8888"),
            Some("127.0.0.1:8888")
        );
        assert_eq!(
            origin_netloc("http://127.0.0.1:8888/something"),
            Some("127.0.0.1:8888")
        );
        assert_eq!(origin_netloc("127.0.0.1:8888"), None);
        assert_eq!(origin_netloc("null"), None);
        assert_eq!(origin_netloc("https://a.example?x"), Some("a.example"));
    }
}
