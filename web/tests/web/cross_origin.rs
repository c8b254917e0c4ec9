//! Tornado 6.6's `cross_origin_protection`: `CrossOriginProtectionTest` and its siblings in
//! `web_test.py`, ported case by case. The test client sends `Host: 127.0.0.1`, so the
//! request's own origin is `http://127.0.0.1`.

use std::cell::Cell;
use std::rc::Rc;

use typhoon_web::{Application, Context, ErrorHandler, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::util::{Response, fetch, raw, run, serve, status_of};
use crate::xsrf::xsrf_token;

/// The request's own origin, as a browser would send it.
const SELF_ORIGIN: &str = "http://127.0.0.1";

/// Answers `ok` to GET and POST; HEAD and OPTIONS answer empty.
struct Handler;
impl RequestHandler for Handler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("ok");
        Ok(())
    }
    async fn head(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
        Ok(())
    }
    async fn options(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("ok");
        Ok(())
    }
}

/// `CrossOriginProtectionTest`'s application.
fn protected_app() -> Application {
    app_with(
        vec![route("/", || Handler)],
        Settings {
            cross_origin_protection: true,
            trusted_origins: vec!["https://trusted.example.com".to_owned()],
            ..Settings::default()
        },
    )
}

/// POSTs `x=1` to `/` of `app` with `headers`, returning the status.
async fn post_status(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> u16 {
    let r: Response = fetch(addr, "POST", "/", headers, b"x=1").await;
    r.status
}

/// One case: its name, the request's headers and the expected status.
type Case = (&'static str, &'static [(&'static str, &'static str)], u16);

/// `CrossOriginProtectionTest`: each case's headers and expected status.
#[test]
fn cross_origin_protection() {
    const EVIL: &str = "https://evil.example.com";
    let cases: &[Case] = &[
        (
            "sec_fetch_site_success",
            &[("Sec-Fetch-Site", "same-origin")],
            200,
        ),
        (
            "sec_fetch_site_fail",
            &[("Sec-Fetch-Site", "cross-site")],
            403,
        ),
        ("fallback_success", &[("Origin", SELF_ORIGIN)], 200),
        ("fallback_fail", &[("Origin", EVIL)], 403),
        ("fallback_no_origin", &[], 200),
        ("sec_fetch_site_none", &[("Sec-Fetch-Site", "none")], 200),
        (
            "sec_fetch_site_same_site",
            &[
                ("Sec-Fetch-Site", "same-site"),
                ("Origin", "https://other.example.com"),
            ],
            403,
        ),
        (
            "sec_fetch_site_takes_precedence_over_origin",
            &[("Sec-Fetch-Site", "cross-site"), ("Origin", SELF_ORIGIN)],
            403,
        ),
        (
            "sec_fetch_site_trusted_origin",
            &[
                ("Sec-Fetch-Site", "cross-site"),
                ("Origin", "https://trusted.example.com"),
            ],
            200,
        ),
        (
            "sec_fetch_site_cross_site_no_origin",
            &[("Sec-Fetch-Site", "cross-site")],
            403,
        ),
        (
            "fallback_trusted_origin",
            &[("Origin", "https://trusted.example.com")],
            200,
        ),
        (
            "fallback_trusted_origin_exact_match (slash)",
            &[("Origin", "https://trusted.example.com/")],
            403,
        ),
        (
            "fallback_trusted_origin_exact_match (scheme)",
            &[("Origin", "http://trusted.example.com")],
            403,
        ),
        ("fallback_null_origin", &[("Origin", "null")], 403),
        (
            "fallback_origin_with_path",
            &[("Origin", "http://127.0.0.1/foo")],
            200,
        ),
        (
            "fallback_ignores_referer",
            &[("Origin", EVIL), ("Referer", "http://127.0.0.1/")],
            403,
        ),
    ];
    run(async move {
        let (_server, addr) = serve(protected_app());
        for (name, headers, expected) in cases {
            assert_eq!(post_status(addr, headers).await, *expected, "{name}");
        }
    });
}

#[test]
fn fallback_case_insensitive() {
    run(async {
        let (_server, addr) = serve(protected_app());
        let request = b"POST / HTTP/1.1\r\nHost: localhost:8888\r\nOrigin: http://LOCALHOST:8888\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        assert_eq!(status_of(&raw(addr, request).await), Some(200));
        let request = b"POST / HTTP/1.1\r\nHost: localhost:8888\r\nOrigin: http://localhost:8889\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        assert_eq!(status_of(&raw(addr, request).await), Some(403));
    });
}

#[test]
fn safe_methods_not_checked() {
    run(async {
        let (_server, addr) = serve(protected_app());
        let headers = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.example.com"),
        ];
        for method in ["GET", "HEAD", "OPTIONS"] {
            assert_eq!(
                fetch(addr, method, "/", &headers, b"").await.status,
                200,
                "{method}"
            );
        }
    });
}

#[test]
fn other_unsafe_methods_checked() {
    // Without a method the handler would answer 405; the origin check comes first.
    run(async {
        let (_server, addr) = serve(protected_app());
        for method in ["PUT", "DELETE", "PATCH"] {
            let r = fetch(addr, method, "/", &[("Sec-Fetch-Site", "cross-site")], b"").await;
            assert_eq!(r.status, 403, "{method}");
        }
    });
}

#[test]
fn disabled_by_default() {
    run(async {
        let (_server, addr) = serve(Application::new(vec![route("/", || Handler)]));
        let headers = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(post_status(addr, &headers).await, 200);
    });
}

/// `CrossOriginProtectionCheckTrustedOriginTest`'s handler: trusts `*.example.com`.
struct TrustsExample;
impl RequestHandler for TrustsExample {
    fn check_trusted_origin(&self, _cx: &Context, origin: &str) -> bool {
        origin.ends_with(".example.com")
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("ok");
        Ok(())
    }
}

#[test]
fn check_trusted_origin_override() {
    run(async {
        let settings = Settings {
            cross_origin_protection: true,
            ..Settings::default()
        };
        let (_server, addr) = serve(app_with(vec![route("/", || TrustsExample)], settings));
        let app = "https://app.example.com";
        // test_override_allows
        let same_site = [("Sec-Fetch-Site", "same-site"), ("Origin", app)];
        assert_eq!(post_status(addr, &same_site).await, 200);
        assert_eq!(post_status(addr, &[("Origin", app)]).await, 200);
        // test_override_rejects
        let cross = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(post_status(addr, &cross).await, 403);
        assert_eq!(
            post_status(addr, &[("Origin", "https://evil.com")]).await,
            403
        );
        // test_override_not_called_for_same_origin
        let same = [("Sec-Fetch-Site", "same-origin")];
        assert_eq!(post_status(addr, &same).await, 200);
        assert_eq!(post_status(addr, &[("Origin", SELF_ORIGIN)]).await, 200);
    });
}

/// `CrossOriginProtectionBeforePrepareTest`'s handler: records that `prepare` ran.
struct RecordsPrepare(Rc<Cell<bool>>);
impl RequestHandler for RecordsPrepare {
    async fn prepare(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
        self.0.set(true);
        Ok(())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("ok");
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("ok");
        Ok(())
    }
}

#[test]
fn rejected_before_prepare() {
    run(async {
        let prepared = Rc::new(Cell::new(false));
        let flag = Rc::clone(&prepared);
        let settings = Settings {
            cross_origin_protection: true,
            ..Settings::default()
        };
        let app = app_with(
            vec![route("/", move || RecordsPrepare(Rc::clone(&flag)))],
            settings,
        );
        let (_server, addr) = serve(app);
        let cross = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(post_status(addr, &cross).await, 403);
        assert!(!prepared.get());
        // test_websocket_upgrade_header_not_checked: a GET with Upgrade to a plain handler.
        let upgrade = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(fetch(addr, "GET", "/", &upgrade, b"").await.status, 200);
        assert!(prepared.get());
    });
}

/// `CrossOriginProtectionWithXSRFCookiesTest`: both checks run, XSRF first.
#[test]
fn with_xsrf_cookies() {
    run(async {
        let settings = Settings {
            cross_origin_protection: true,
            xsrf_cookies: true,
            ..Settings::default()
        };
        let (_server, addr) = serve(app_with(vec![route("/", || crate::xsrf::Xsrf)], settings));
        let (token, cookie) = xsrf_token(addr).await;
        let cookie = format!("_xsrf={cookie}");
        let with_token = |site: &'static str| {
            vec![
                ("Sec-Fetch-Site", site),
                ("Origin", "https://evil.com"),
                ("Cookie", cookie.as_str()),
                ("X-Xsrftoken", token.as_str()),
            ]
        };
        // test_both_pass
        assert_eq!(post_status(addr, &with_token("same-origin")).await, 200);
        // test_cookie_fails
        assert_eq!(
            post_status(addr, &[("Sec-Fetch-Site", "same-origin")]).await,
            403
        );
        // test_origin_fails
        assert_eq!(post_status(addr, &with_token("cross-site")).await, 403);
    });
}

/// `ErrorHandlerCrossOriginTest`: error pages trust every origin.
#[test]
fn error_handler_cross_origin() {
    run(async {
        let settings = Settings {
            cross_origin_protection: true,
            ..Settings::default()
        };
        let app = app_with(vec![route("/error", || ErrorHandler::new(417))], settings);
        let (_server, addr) = serve(app);
        let cross = [
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", "https://evil.com"),
        ];
        assert_eq!(fetch(addr, "POST", "/error", &cross, b"").await.status, 417);
        assert_eq!(fetch(addr, "POST", "/404", &cross, b"").await.status, 404);
    });
}
