//! Authentication: `authenticated` routes, and the lazily loaded, cached current user.

use typhoon_web::{Context, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::util::{fetch, get, run, serve};

thread_local! {
    /// How many times `Private::get_current_user` ran on this test's thread.
    static USER_LOADS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

struct Private;
impl RequestHandler for Private {
    fn get_current_user(cx: &Context) -> Option<String> {
        USER_LOADS.with(|n| n.set(n.get() + 1));
        cx.get_cookie("user").map(str::to_owned)
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.get_argument_or("ask", "1") == "0" {
            cx.write("did not ask");
            return Ok(());
        }
        let user = cx.current_user().unwrap_or_default().to_owned();
        // Asked twice, loaded once.
        assert_eq!(
            cx.current_user(),
            Some(user.as_str()).filter(|u| !u.is_empty())
        );
        cx.write(format!("hi {user}"));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("posted");
        Ok(())
    }
}

#[test]
fn authenticated() {
    run(async {
        let settings = Settings {
            login_url: Some("/login".into()),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(
            vec![route("/private", || Private).authenticated()],
            settings,
        ));
        let r = get(addr, "/private?a=1").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Fprivate%3Fa%3D1")
        );
        assert_eq!(fetch(addr, "POST", "/private", &[], b"").await.status, 403);
        let r = fetch(addr, "GET", "/private", &[("Cookie", "user=ben")], b"").await;
        assert_eq!(r.text(), "hi ben");
    });
}

#[test]
fn current_user_is_lazy_and_cached() {
    run(async {
        let (_s, addr) = serve(app_with(
            vec![route("/open", || Private)],
            Settings::default(),
        ));
        USER_LOADS.with(|n| n.set(0));
        let r = fetch(addr, "GET", "/open?ask=0", &[("Cookie", "user=ben")], b"").await;
        assert_eq!(r.text(), "did not ask");
        assert_eq!(
            USER_LOADS.with(std::cell::Cell::get),
            0,
            "nobody asked: not loaded"
        );
        let r = fetch(addr, "GET", "/open", &[("Cookie", "user=ben")], b"").await;
        assert_eq!(r.text(), "hi ben");
        assert_eq!(
            USER_LOADS.with(std::cell::Cell::get),
            1,
            "asked twice, loaded once"
        );
    });
}

/// Tornado's `AuthRedirectRequestHandler`: its login URL comes from the route (Tornado's
/// `initialize`), through `get_login_url`; `get` is `@authenticated`.
struct AuthRedirect {
    login_url: &'static str,
}
impl RequestHandler for AuthRedirect {
    fn get_login_url(&self, _cx: &Context) -> Option<String> {
        Some(self.login_url.to_owned())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.authenticated(cx)?;
        // Never reached: the test does not follow redirects.
        cx.send_error(500);
        Ok(())
    }
    async fn head(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.authenticated(cx)?;
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.authenticated(cx)?;
        cx.write("posted");
        Ok(())
    }
}

fn auth_redirect_app() -> typhoon_web::Application {
    app_with(
        vec![
            route("/relative", || AuthRedirect {
                login_url: "/login",
            }),
            route("/absolute", || AuthRedirect {
                login_url: "http://example.com/login",
            }),
        ],
        Settings::default(),
    )
}

#[test]
fn auth_redirect_test_relative_auth_redirect() {
    run(async {
        let (_s, addr) = serve(auth_redirect_app());
        let r = get(addr, "/relative").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Frelative")
        );
        let r = fetch(addr, "HEAD", "/relative", &[], b"").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Frelative")
        );
        assert_eq!(fetch(addr, "POST", "/relative", &[], b"").await.status, 403);
    });
}

#[test]
fn auth_redirect_test_absolute_auth_redirect() {
    run(async {
        let (_s, addr) = serve(auth_redirect_app());
        let r = get(addr, "/absolute").await;
        assert_eq!(r.status, 302);
        // The test client's `Host` is `127.0.0.1`, without the port.
        assert_eq!(
            r.header("Location").as_deref(),
            Some("http://example.com/login?next=http%3A%2F%2F127.0.0.1%2Fabsolute")
        );
    });
}

/// Loads its user in `prepare` (from a cookie here; a database in real life), as Tornado's
/// documentation advises for asynchronous loading.
struct UserInPrepare;
impl RequestHandler for UserInPrepare {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let user = cx.get_cookie("user").map(str::to_owned);
        cx.set_current_user(user);
        Ok(())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let user = cx.current_user().unwrap_or_default().to_owned();
        cx.write(format!("hi {user}"));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("posted");
        Ok(())
    }
}

#[test]
fn authenticated_route_sees_the_user_set_in_prepare() {
    run(async {
        let settings = Settings {
            login_url: Some("/login".into()),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(
            vec![route("/private", || UserInPrepare).authenticated()],
            settings,
        ));
        let r = fetch(addr, "GET", "/private", &[("Cookie", "user=ben")], b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "hi ben"));
        let r = fetch(addr, "POST", "/private", &[("Cookie", "user=ben")], b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "posted"));
        let r = get(addr, "/private").await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/login?next=%2Fprivate")
        );
        assert_eq!(fetch(addr, "POST", "/private", &[], b"").await.status, 403);
    });
}
