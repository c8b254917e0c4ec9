//! XSRF protection: Tornado's `XSRFTest` cases, masked tokens, versioned tokens.

use typhoon_web::cookies::decode_xsrf_token;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::cookies::tornado_fixtures;
use crate::util::{fetch, get, run, serve};

pub(crate) struct Xsrf;
impl RequestHandler for Xsrf {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let token = cx.xsrf_token();
        cx.write(token);
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("ok");
        Ok(())
    }
}

pub(crate) fn xsrf_app() -> Application {
    app_with(
        vec![route("/", || Xsrf)],
        Settings {
            xsrf_cookies: true,
            ..Settings::default()
        },
    )
}

pub(crate) async fn xsrf_token(addr: std::net::SocketAddr) -> (String, String) {
    let r = get(addr, "/").await;
    let cookie = r.cookie("_xsrf").expect("xsrf cookie");
    (r.text(), cookie)
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

#[test]
fn xsrf_fail_no_token() {
    run(async {
        let (_s, addr) = serve(xsrf_app());
        let r = fetch(addr, "POST", "/", &[FORM], b"").await;
        assert_eq!(r.status, 403);
    });
}

#[test]
fn xsrf_fail_body_no_cookie() {
    run(async {
        let (_s, addr) = serve(xsrf_app());
        let (token, _) = xsrf_token(addr).await;
        let body = format!("_xsrf={}", typhoon_escape::url_escape(&token, true));
        let r = fetch(addr, "POST", "/", &[FORM], body.as_bytes()).await;
        assert_eq!(r.status, 403);
    });
}

#[test]
fn xsrf_fail_argument_invalid_format() {
    run(async {
        let (_s, addr) = serve(xsrf_app());
        let (_, cookie) = xsrf_token(addr).await;
        let header = format!("_xsrf={cookie}");
        let r = fetch(
            addr,
            "POST",
            "/",
            &[FORM, ("Cookie", &header)],
            b"_xsrf=3%7Cxx",
        )
        .await;
        assert_eq!(r.status, 403);
    });
}

#[test]
fn xsrf_fail_cookie_invalid_format_and_mismatch() {
    run(async {
        let (_s, addr) = serve(xsrf_app());
        let (token, _) = xsrf_token(addr).await;
        let (_, other_cookie) = xsrf_token(addr).await;
        let header = format!("_xsrf={other_cookie}");
        let body = format!("_xsrf={}", typhoon_escape::url_escape(&token, true));
        let r = fetch(
            addr,
            "POST",
            "/",
            &[FORM, ("Cookie", &header)],
            body.as_bytes(),
        )
        .await;
        assert_eq!(r.status, 403, "tokens from different cookies");
    });
}

#[test]
fn xsrf_success_post_body_and_headers() {
    run(async {
        let (_s, addr) = serve(xsrf_app());
        let (token, cookie) = xsrf_token(addr).await;
        let header = format!("_xsrf={cookie}");
        let body = format!("_xsrf={}", typhoon_escape::url_escape(&token, true));
        let r = fetch(
            addr,
            "POST",
            "/",
            &[FORM, ("Cookie", &header)],
            body.as_bytes(),
        )
        .await;
        assert_eq!((r.status, r.text().as_str()), (200, "ok"));
        for name in ["X-Xsrftoken", "X-Csrftoken"] {
            let r = fetch(
                addr,
                "POST",
                "/",
                &[FORM, ("Cookie", &header), (name, &token)],
                b"",
            )
            .await;
            assert_eq!(r.status, 200, "{name}");
        }
        // The cookie itself (another mask of the same token) is accepted too.
        let r = fetch(
            addr,
            "POST",
            "/",
            &[FORM, ("Cookie", &header), ("X-Xsrftoken", &cookie)],
            b"",
        )
        .await;
        assert_eq!(r.status, 200);
    });
}

#[test]
fn xsrf_distinct_tokens_and_refresh() {
    run(async {
        let (_s, addr) = serve(xsrf_app());
        let (_, cookie) = xsrf_token(addr).await;
        let header = format!("_xsrf={cookie}");
        let a = fetch(addr, "GET", "/", &[("Cookie", &header)], b"").await;
        let b = fetch(addr, "GET", "/", &[("Cookie", &header)], b"").await;
        assert!(
            a.cookie("_xsrf").is_none(),
            "no new cookie when one was sent"
        );
        assert_ne!(a.text(), b.text(), "masked differently each time");
        let raw = |t: &str| decode_xsrf_token(t).expect("token").0;
        assert_eq!(raw(&a.text()), raw(&b.text()));
        assert_eq!(raw(&a.text()), raw(&cookie));
    });
}

#[test]
fn xsrf_versioning_and_tornado_token() {
    // A v1 (hex) cookie is accepted with a v2 token for the same raw token.
    run(async {
        let (_s, addr) = serve(xsrf_app());
        for (kind, _, _, raw, _, masked) in tornado_fixtures() {
            if kind != "xsrf" {
                continue;
            }
            assert_eq!(decode_xsrf_token(&masked).expect("tornado token").0, raw);
            let header = format!("_xsrf={}", hex::encode(&raw));
            let r = fetch(
                addr,
                "POST",
                "/",
                &[FORM, ("Cookie", &header), ("X-Xsrftoken", &masked)],
                b"",
            )
            .await;
            assert_eq!(r.status, 200);
        }
    });
}
