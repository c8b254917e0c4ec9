//! Integration tests over real loopback sockets, named after Tornado's `web_test.py`.

mod util;

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use typhoon_ioloop::locks::Event;
use typhoon_ioloop::timeout;
use typhoon_web::cookies::{create_signed_value, decode_signed_value, decode_xsrf_token};
use typhoon_web::{
    Application, Context, CookieOptions, Cors, HTTPError, RedirectHandler, RequestHandler,
    Settings, StaticFileHandler, route,
};
use util::{fetch, get, run, serve};

const SECRET: &str = "0123456789abcdef-typhoon-secret";

struct Hello;
impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("Hello, world");
        Ok(())
    }
}

fn app_with(routes: Vec<typhoon_web::Route>, settings: Settings) -> Application {
    Application::with_settings(routes, settings)
}

#[test]
fn hello_world() {
    run(async {
        let (_server, addr) = serve(Application::new(vec![route("/", || Hello)]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "Hello, world");
        assert_eq!(
            r.header("Content-Type").as_deref(),
            Some("text/html; charset=UTF-8")
        );
        assert!(r.header("Server").is_some() && r.header("Date").is_some());
        assert!(r.header("Etag").is_some());
        let r = get(addr, "/nope").await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.text(),
            "<html><title>404: Not Found</title><body>404: Not Found</body></html>"
        );
    });
}

// ----- arguments -----------------------------------------------------------------------------

struct Args;
impl RequestHandler for Args {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let last = cx.get_argument("foo")?;
        let all = cx.get_arguments("foo")?;
        let q = cx.get_query_arguments("foo")?;
        cx.write(format!("{last}|{}|{}", all.join(","), q.len()));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let body = cx.get_body_arguments("foo")?;
        let query = cx.get_query_arguments("foo")?;
        let all = cx.get_arguments("foo")?;
        let last = cx.get_body_argument("foo")?;
        cx.write(format!(
            "{}|{}|{}|{last}",
            body.join(","),
            query.join(","),
            all.join(",")
        ));
        Ok(())
    }
}

#[test]
fn get_argument() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Args)]));
        let r = get(addr, "/?foo=bar&foo=%20baz%20").await;
        assert_eq!(r.text(), "baz|bar,baz|2");
        let r = get(addr, "/?foo=a%01b").await;
        assert_eq!(r.text(), "a b|a b|1", "control characters become spaces");
        let r = get(addr, "/").await;
        assert_eq!(r.status, 400, "Missing argument");
        let r = get(addr, "/?foo=%ff").await;
        assert_eq!(r.status, 400, "invalid utf-8");
    });
}

#[test]
fn get_body_arguments() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Args)]));
        let r = fetch(
            addr,
            "POST",
            "/?foo=q",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"foo=b1&foo=b2",
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "b1,b2|q|q,b1,b2|b2");
    });
}

#[test]
fn path_args_unescaped_and_named() {
    struct Path;
    impl RequestHandler for Path {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let text = format!("{:?} {:?}", cx.path_args(), cx.path_kwargs().get("id"));
            cx.write(text);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route(r"/str/(?P<id>[^/]+)", || Path),
            route(r"/pos/(.*)/(.*)", || Path),
        ]));
        assert_eq!(get(addr, "/str/a%2Fb+c").await.text(), "[] Some(\"a/b+c\")");
        assert_eq!(
            get(addr, "/pos/%C3%A9/x").await.text(),
            "[\"é\", \"x\"] None"
        );
        assert_eq!(get(addr, "/pos/%ff/x").await.status, 400);
    });
}

// ----- write, JSON, status, headers ----------------------------------------------------------

#[test]
fn write_json() {
    struct J;
    impl RequestHandler for J {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.write_json(&serde_json::json!({"a": "</script>", "n": 1}))?;
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || J)]));
        let r = get(addr, "/").await;
        assert_eq!(
            r.header("Content-Type").as_deref(),
            Some("application/json; charset=UTF-8")
        );
        assert_eq!(r.text(), r#"{"a":"<\/script>","n":1}"#);
    });
}

#[test]
fn set_status_custom_reason_and_header_injection() {
    struct S;
    impl RequestHandler for S {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.set_status_with_reason(299, "Fine Indeed");
            assert!(cx.set_header("X-Bad", "a\r\nInjected: yes").is_err());
            cx.set_header("X-Good", "ok")?;
            cx.add_header("X-Multi", "1")?;
            cx.add_header("X-Multi", "2")?;
            cx.set_header("X-Gone", "x")?;
            cx.clear_header("X-Gone");
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || S)]));
        let r = get(addr, "/").await;
        assert!(
            r.head.starts_with("HTTP/1.1 299 Fine Indeed\r\n"),
            "{}",
            r.head
        );
        assert_eq!(r.headers("X-Multi"), ["1", "2"]);
        assert_eq!(r.header("X-Good").as_deref(), Some("ok"));
        assert!(r.header("X-Gone").is_none() && r.header("Injected").is_none());
    });
}

#[test]
fn unimplemented_standard_methods() {
    struct OnlyGet;
    impl RequestHandler for OnlyGet {
        const ALLOWED_METHODS: &'static [&'static str] = &["GET"];
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.write("get");
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || OnlyGet)]));
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
            let r = fetch(addr, method, "/", &[], b"").await;
            assert_eq!(r.status, 405, "{method}");
            assert_eq!(r.header("Allow").as_deref(), Some("GET"));
        }
        let r = fetch(addr, "PROPFIND", "/", &[], b"").await;
        assert_eq!(r.status, 405, "unimplemented other");
    });
}

#[test]
fn allow_header_from_handler_attribute() {
    struct GetPut;
    #[typhoon_web::handler]
    impl RequestHandler for GetPut {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.write("get");
            Ok(())
        }
        async fn put(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.write("put");
            Ok(())
        }
    }
    struct Plain;
    impl RequestHandler for Plain {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.write("get");
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/", || GetPut),
            route("/plain", || Plain),
        ]));
        assert_eq!(fetch(addr, "PUT", "/", &[], b"").await.text(), "put");
        for method in ["POST", "DELETE", "PROPFIND"] {
            let r = fetch(addr, method, "/", &[], b"").await;
            assert_eq!(r.status, 405, "{method}");
            assert_eq!(r.header("Allow").as_deref(), Some("GET, PUT"), "{method}");
        }
        let r = fetch(addr, "POST", "/plain", &[], b"").await;
        assert_eq!(r.status, 405);
        assert!(
            r.header("Allow").is_none(),
            "without #[handler] the list is unknown"
        );
    });
}

// ----- errors --------------------------------------------------------------------------------

struct Failing;
impl RequestHandler for Failing {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        match cx.get_argument_or("kind", "").as_str() {
            "http" => Err(HTTPError::new(403).with_log_message("nope")),
            "reason" => Err(HTTPError::new(682).with_reason("Foo")),
            "io" => Err(std::io::Error::other("disk on fire").into()),
            "panic" => panic!("handler exploded"),
            _ => {
                let n: u32 = "x".parse()?;
                cx.write(n.to_string());
                Ok(())
            }
        }
    }
}

#[test]
fn default_error_pages() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Failing)]));
        let r = get(addr, "/?kind=http").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (
                403,
                "<html><title>403: Forbidden</title><body>403: Forbidden</body></html>"
            )
        );
        let r = get(addr, "/?kind=reason").await;
        assert!(r.head.starts_with("HTTP/1.1 682 Foo\r\n"));
        assert_eq!(
            r.text(),
            "<html><title>682: Foo</title><body>682: Foo</body></html>"
        );
        let r = get(addr, "/?kind=io").await;
        assert_eq!(r.status, 500);
        assert!(
            !r.text().contains("disk on fire"),
            "no details without serve_traceback"
        );
        let r = get(addr, "/").await;
        assert_eq!(r.status, 500, "`?` on a ParseIntError");
    });
}

#[test]
fn serve_traceback() {
    run(async {
        let settings = Settings {
            debug: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || Failing)], settings));
        let r = get(addr, "/?kind=io").await;
        assert_eq!(r.status, 500);
        assert!(r.text().contains("disk on fire"), "{}", r.text());
        let r = get(addr, "/?kind=panic").await;
        assert!(r.text().contains("handler exploded"), "{}", r.text());
    });
}

#[test]
fn write_error() {
    struct Custom;
    impl RequestHandler for Custom {
        async fn get(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
            Err(HTTPError::new(418))
        }
        fn write_error(&mut self, cx: &mut Context, error: &HTTPError) {
            cx.write(format!("custom {}", error.status()));
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Custom)]));
        let r = get(addr, "/").await;
        assert_eq!((r.status, r.text().as_str()), (418, "custom 418"));
    });
}

#[test]
fn default_handler() {
    struct Mine;
    impl RequestHandler for Mine {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.set_status(404);
            cx.write("my 404");
            Ok(())
        }
    }
    run(async {
        let settings = Settings {
            default_handler: Some(typhoon_web::HandlerFactory::new(|| Mine)),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![], settings));
        let r = get(addr, "/anything").await;
        assert_eq!((r.status, r.text().as_str()), (404, "my 404"));
    });
}

// ----- redirects -----------------------------------------------------------------------------

#[test]
fn redirect() {
    struct R;
    impl RequestHandler for R {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let status: u16 = cx.get_argument_or("status", "302").parse()?;
            cx.redirect_with_status("/target", status)?;
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || R)]));
        for status in [301, 302, 303, 307, 308] {
            let r = get(addr, &format!("/?status={status}")).await;
            assert_eq!(r.status, status);
            assert_eq!(r.header("Location").as_deref(), Some("/target"));
        }
    });
}

#[test]
fn redirect_handler() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/redirect", || RedirectHandler::new("/target")),
            route(r"/a/(.*)/(.*)", || {
                RedirectHandler::new("/b/{1}/{0}").temporary()
            }),
            route(r"/n/(?P<x>.*)", || RedirectHandler::new("/m/{x}")),
        ]));
        let r = get(addr, "/redirect").await;
        assert_eq!(
            (r.status, r.header("Location").as_deref()),
            (301, Some("/target"))
        );
        let r = get(addr, "/redirect?a=1&b=2").await;
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/target?a=1&b=2"),
            "with argument"
        );
        let r = get(addr, "/a/1/2").await;
        assert_eq!(
            (r.status, r.header("Location").as_deref()),
            (302, Some("/b/2/1")),
            "redirect pattern"
        );
        let r = get(addr, "/n/q").await;
        assert_eq!(r.header("Location").as_deref(), Some("/m/q"));
    });
}

// ----- ETag ----------------------------------------------------------------------------------

#[test]
fn etags() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Hello)]));
        let etag = get(addr, "/").await.header("Etag").expect("etag");
        // SHA-1 of "Hello, world", as Tornado computes it.
        assert_eq!(etag, "\"e02aa1b106d5c7c6a98def2b13005d5b84fd8dc8\"");
        let with = |v: String| async move {
            fetch(addr, "GET", "/", &[("If-None-Match", v.as_str())], b"").await
        };
        let r = with(etag.clone()).await;
        assert_eq!(r.status, 304, "strong etag match");
        assert!(r.body.is_empty() && r.header("Content-Type").is_none());
        assert_eq!(with("*".into()).await.status, 304, "wildcard etag");
        assert_eq!(
            with(format!("W/{etag}")).await.status,
            304,
            "weak etag match"
        );
        assert_eq!(
            with(format!("\"xyz\", {etag}")).await.status,
            304,
            "multiple strong etag match"
        );
        assert_eq!(
            with("\"xyz\"".into()).await.status,
            200,
            "strong etag not match"
        );
    });
}

// ----- cookies -------------------------------------------------------------------------------

struct Cookies;
impl RequestHandler for Cookies {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        match cx.request().path() {
            "/set" => {
                cx.set_cookie("str", "asdf")?;
                cx.set_cookie("unicode", "qwer")?;
                cx.set_cookie_with(
                    "bytes",
                    "zxcv",
                    &CookieOptions {
                        domain: Some("foo.com".into()),
                        ..CookieOptions::default()
                    },
                )?;
                cx.set_cookie("quote", "a\"b")?;
                cx.set_cookie("semicolon", "a;b")?;
                cx.set_cookie_with(
                    "flags",
                    "1",
                    &CookieOptions {
                        max_age: Some(10),
                        httponly: true,
                        secure: true,
                        samesite: Some("Lax".into()),
                        ..CookieOptions::default()
                    },
                )?;
                if cx.set_cookie("bad", "a b").is_ok() {
                    return Err(HTTPError::new(500));
                }
            }
            "/get" => {
                let v = cx.get_cookie("foo").unwrap_or("default").to_owned();
                cx.write(v);
            }
            "/clear" => cx.clear_cookie("foo", &CookieOptions::default())?,
            "/signed/set" => cx.set_signed_cookie("user", "ben")?,
            _ => {
                let v = cx
                    .get_signed_cookie("user")
                    .unwrap_or_else(|| "none".into());
                cx.write(v);
            }
        }
        Ok(())
    }
}

fn cookie_app() -> Application {
    app_with(
        vec![route("/.*", || Cookies)],
        Settings {
            cookie_secret: Some(SECRET.into()),
            ..Settings::default()
        },
    )
}

#[test]
fn set_cookie() {
    run(async {
        let (_s, addr) = serve(cookie_app());
        let r = get(addr, "/set").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.headers("Set-Cookie"),
            [
                "str=asdf; Path=/",
                "unicode=qwer; Path=/",
                "bytes=zxcv; Domain=foo.com; Path=/",
                "quote=\"a\\\"b\"; Path=/",
                "semicolon=\"a\\073b\"; Path=/",
                "flags=1; HttpOnly; Max-Age=10; Path=/; SameSite=Lax; Secure",
            ]
        );
    });
}

#[test]
fn get_cookie() {
    run(async {
        let (_s, addr) = serve(cookie_app());
        assert_eq!(
            fetch(addr, "GET", "/get", &[("Cookie", "foo=bar")], b"")
                .await
                .text(),
            "bar"
        );
        assert_eq!(
            fetch(addr, "GET", "/get", &[("Cookie", "foo=\"bar\"")], b"")
                .await
                .text(),
            "bar"
        );
        assert_eq!(
            fetch(addr, "GET", "/get", &[("Cookie", "/=exception;")], b"")
                .await
                .text(),
            "default"
        );
    });
}

#[test]
fn clear_cookie() {
    run(async {
        let (_s, addr) = serve(cookie_app());
        let r = get(addr, "/clear").await;
        let cookie = r.headers("Set-Cookie").remove(0);
        assert!(cookie.starts_with("foo=; expires="), "{cookie}");
        assert!(cookie.ends_with("; Path=/"), "{cookie}");
    });
}

#[test]
fn signed_cookie_round_trip() {
    run(async {
        let (_s, addr) = serve(cookie_app());
        let r = get(addr, "/signed/set").await;
        let value = r.cookie("user").expect("cookie");
        // Quoted as Python's http.cookies does (the base64 '=' is not a legal bare char).
        let unquoted = value.trim_matches('"').to_owned();
        assert!(unquoted.starts_with("2|1:0|10:"), "{value}");
        let header = format!("user={value}");
        let r = fetch(addr, "GET", "/signed/get", &[("Cookie", &header)], b"").await;
        assert_eq!(r.text(), "ben");
        let tampered = format!("user={}", unquoted.replace("YmVu", "YmVv"));
        let r = fetch(addr, "GET", "/signed/get", &[("Cookie", &tampered)], b"").await;
        assert_eq!(r.text(), "none");
    });
}

/// Lines of fixtures/tornado_signed.txt: `kind|secret|name|hex value|timestamp|signed`.
fn tornado_fixtures() -> Vec<(String, String, String, Vec<u8>, u64, String)> {
    include_str!("fixtures/tornado_signed.txt")
        .lines()
        .map(|line| {
            let mut parts = line.splitn(6, '|');
            let mut next = || parts.next().expect("field").to_owned();
            let (kind, secret, name, hex, ts, signed) =
                (next(), next(), next(), next(), next(), next());
            let value = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (kind, secret, name, value, ts.parse().expect("ts"), signed)
        })
        .collect()
}

#[test]
fn signed_value_tornado_compatibility() {
    for (kind, secret, name, value, ts, signed) in tornado_fixtures() {
        if kind != "signed" {
            continue;
        }
        // Tornado's value verifies here...
        assert_eq!(
            decode_signed_value(secret.as_bytes(), &name, &signed, 31.0, ts + 10).as_deref(),
            Some(&value[..])
        );
        // ...and ours is byte-for-byte Tornado's, so Tornado verifies ours.
        assert_eq!(
            create_signed_value(secret.as_bytes(), &name, &value, ts),
            signed
        );
        // Expired, wrong name, wrong secret.
        assert_eq!(
            decode_signed_value(secret.as_bytes(), &name, &signed, 31.0, ts + 32 * 86400),
            None
        );
        assert_eq!(
            decode_signed_value(secret.as_bytes(), "other", &signed, 31.0, ts),
            None
        );
        assert_eq!(
            decode_signed_value(b"wrong", &name, &signed, 31.0, ts),
            None
        );
    }
}

// ----- XSRF ----------------------------------------------------------------------------------

struct Xsrf;
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

fn xsrf_app() -> Application {
    app_with(
        vec![route("/", || Xsrf)],
        Settings {
            xsrf_cookies: true,
            ..Settings::default()
        },
    )
}

async fn xsrf_token(addr: std::net::SocketAddr) -> (String, String) {
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
            let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
            let header = format!("_xsrf={hex}");
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

// ----- authentication ------------------------------------------------------------------------

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

// ----- gzip ----------------------------------------------------------------------------------

struct Big;
impl RequestHandler for Big {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let n: usize = cx.get_argument_or("n", "2000").parse()?;
        if cx.get_argument_or("vary", "") == "1" {
            cx.set_header("Vary", "Custom")?;
        }
        cx.write("x".repeat(n));
        if cx.get_argument_or("stream", "") == "1" {
            cx.flush().await?;
            cx.write("y".repeat(n));
        }
        Ok(())
    }
}

/// Everything a decoder yields, as text.
fn decoded(mut decoder: impl Read) -> String {
    let mut out = String::new();
    decoder.read_to_string(&mut out).expect("decodes");
    out
}

fn gunzip(data: &[u8]) -> String {
    decoded(flate2::read::GzDecoder::new(data))
}

#[test]
fn gzip() {
    run(async {
        let settings = Settings {
            compress_response: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || Big)], settings));
        let gz = [("Accept-Encoding", "gzip")];
        let r = fetch(addr, "GET", "/", &gz, b"").await;
        assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(gunzip(&r.body), "x".repeat(2000));
        assert!(r.body.len() < 100);
        // gzip not requested
        let r = get(addr, "/").await;
        assert!(r.header("Content-Encoding").is_none());
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
        // small bodies are not compressed
        let r = fetch(addr, "GET", "/?n=10", &gz, b"").await;
        assert!(r.header("Content-Encoding").is_none());
        // vary already present
        let r = fetch(addr, "GET", "/?vary=1", &gz, b"").await;
        assert_eq!(r.header("Vary").as_deref(), Some("Custom, Accept-Encoding"));
        // streamed (flushed) responses are compressed as a stream
        let r = fetch(addr, "GET", "/?stream=1&n=1500", &gz, b"").await;
        assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
        assert_eq!(gunzip(&r.body), "x".repeat(1500) + &"y".repeat(1500));
    });
}

fn inflate(data: &[u8]) -> String {
    decoded(flate2::read::ZlibDecoder::new(data))
}

#[test]
fn deflate_and_accept_encoding_weights() {
    run(async {
        let settings = Settings {
            compress_response: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || Big)], settings));
        let coding = |accept: &'static str, path: &'static str| async move {
            let r = fetch(addr, "GET", path, &[("Accept-Encoding", accept)], b"").await;
            (r.header("Content-Encoding"), r)
        };
        let (encoding, r) = coding("deflate", "/").await;
        assert_eq!(encoding.as_deref(), Some("deflate"));
        assert_eq!(r.header("Vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(inflate(&r.body), "x".repeat(2000));
        let length: usize = r
            .header("Content-Length")
            .expect("length")
            .parse()
            .expect("n");
        assert_eq!(length, r.body.len());
        // Streamed through flushes: each piece decodes as it comes.
        let (encoding, r) = coding("deflate", "/?stream=1&n=1500").await;
        assert_eq!(encoding.as_deref(), Some("deflate"));
        assert_eq!(inflate(&r.body), "x".repeat(1500) + &"y".repeat(1500));
        // What curl --compressed and browsers send: gzip wins the tie.
        let (encoding, r) = coding("deflate, gzip, br, zstd", "/").await;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert_eq!(gunzip(&r.body), "x".repeat(2000));
        // Weights are read: the higher one wins, q=0 refuses.
        let (encoding, _) = coding("gzip;q=0.4, deflate;q=0.5", "/").await;
        assert_eq!(encoding.as_deref(), Some("deflate"));
        let (encoding, r) = coding("gzip;q=0", "/").await;
        assert_eq!(encoding, None);
        assert_eq!(r.text(), "x".repeat(2000));
        let (encoding, _) = coding("*;q=0", "/").await;
        assert_eq!(encoding, None);
        let (encoding, _) = coding("identity", "/").await;
        assert_eq!(encoding, None);
    });
}

// ----- streaming, flush ----------------------------------------------------------------------

#[test]
fn flush_streams_chunks() {
    struct Chunks;
    impl RequestHandler for Chunks {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            for i in 0..3 {
                cx.write(format!("chunk{i};"));
                cx.flush().await?;
            }
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Chunks)]));
        let r = get(addr, "/").await;
        assert_eq!(r.header("Transfer-Encoding").as_deref(), Some("chunked"));
        assert_eq!(r.text(), "chunk0;chunk1;chunk2;");
        assert!(r.header("Etag").is_none(), "no etag for streamed responses");
    });
}

#[test]
fn streaming_request_body() {
    struct Upload {
        chunks: usize,
        bytes: usize,
    }
    impl RequestHandler for Upload {
        const STREAM_REQUEST_BODY: bool = true;
        async fn data_received(
            &mut self,
            _cx: &mut Context,
            chunk: Vec<u8>,
        ) -> Result<(), HTTPError> {
            self.chunks += 1;
            self.bytes += chunk.len();
            Ok(())
        }
        async fn put(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let text = format!(
                "{} bytes, body kept: {}",
                self.bytes,
                cx.request().body.len()
            );
            cx.write(text);
            assert!(self.chunks >= 1);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Upload {
            chunks: 0,
            bytes: 0,
        })]));
        let body = vec![b'a'; 300_000];
        let r = fetch(addr, "PUT", "/", &[], &body).await;
        assert_eq!(r.text(), "300000 bytes, body kept: 0");
    });
}

#[test]
fn max_body_size_413_before_reading() {
    struct Small;
    impl RequestHandler for Small {
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.write("read");
            Ok(())
        }
        fn write_error(&mut self, cx: &mut Context, error: &HTTPError) {
            cx.write(format!("too big: {}", error.status()));
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/", || Small).max_body_size(10),
        ]));
        // Only the head is sent: the 413 must come without reading the body.
        let stream = util::connect(addr).await;
        stream
            .write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
            .await
            .expect("write");
        let r = timeout(Duration::from_secs(5), util::read_response(&stream, false))
            .await
            .expect("answer");
        assert_eq!((r.status, r.text().as_str()), (413, "too big: 413"));
        let r = fetch(addr, "POST", "/", &[], b"0123456789").await;
        assert_eq!(r.text(), "read");
        // chunked bodies are counted as they arrive
        let stream = util::connect(addr).await;
        stream
            .write(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n")
            .await
            .expect("write");
        let r = util::read_response(&stream, false).await;
        assert_eq!(r.status, 413);
    });
}

// ----- timeouts, on_finish, on_connection_close -----------------------------------------------

#[test]
fn request_timeout_503_and_on_finish() {
    struct Slow(Rc<Cell<bool>>);
    impl RequestHandler for Slow {
        async fn get(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
            std::future::pending::<()>().await;
            Ok(())
        }
        fn on_finish(&mut self, _cx: &mut Context) {
            self.0.set(true);
        }
    }
    run(async {
        let finished = Rc::new(Cell::new(false));
        let flag = Rc::clone(&finished);
        let (_s, addr) = serve(Application::new(vec![
            route("/", move || Slow(Rc::clone(&flag))).timeout(Duration::from_millis(50)),
        ]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 503);
        assert!(finished.get(), "on_finish ran");
    });
}

#[test]
fn connection_close_runs_hooks() {
    struct LongPoll {
        log: Rc<RefCell<Vec<&'static str>>>,
        done: Rc<Event>,
    }
    impl RequestHandler for LongPoll {
        async fn get(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
            self.log.borrow_mut().push("get");
            std::future::pending::<()>().await;
            Ok(())
        }
        fn on_connection_close(&mut self, _cx: &mut Context) {
            self.log.borrow_mut().push("on_connection_close");
        }
        fn on_finish(&mut self, _cx: &mut Context) {
            self.log.borrow_mut().push("on_finish");
            self.done.set();
        }
    }
    run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let done = Rc::new(Event::new());
        let (l, d) = (Rc::clone(&log), Rc::clone(&done));
        let (_s, addr) = serve(Application::new(vec![route("/", move || LongPoll {
            log: Rc::clone(&l),
            done: Rc::clone(&d),
        })]));
        let stream = util::connect(addr).await;
        stream
            .write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        while log.borrow().is_empty() {
            typhoon_ioloop::yield_now().await;
        }
        stream.close();
        timeout(Duration::from_secs(5), done.wait())
            .await
            .expect("on_finish after close");
        assert_eq!(*log.borrow(), ["get", "on_connection_close", "on_finish"]);
    });
}

#[test]
fn connection_close_runs_hooks_after_a_request_body() {
    // Requests with a body are streamed to the application, which reads the body itself; the
    // close must still be noticed once the body is read (a long-poll POST, as in the chat demo).
    struct LongPoll {
        log: Rc<RefCell<Vec<String>>>,
        done: Rc<Event>,
    }
    impl RequestHandler for LongPoll {
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let cursor = cx.get_argument("cursor")?;
            self.log.borrow_mut().push(format!("post {cursor}"));
            std::future::pending::<()>().await;
            Ok(())
        }
        fn on_connection_close(&mut self, _cx: &mut Context) {
            self.log.borrow_mut().push("on_connection_close".to_owned());
        }
        fn on_finish(&mut self, _cx: &mut Context) {
            self.log.borrow_mut().push("on_finish".to_owned());
            self.done.set();
        }
    }
    run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let done = Rc::new(Event::new());
        let (l, d) = (Rc::clone(&log), Rc::clone(&done));
        let (_s, addr) = serve(Application::new(vec![route("/", move || LongPoll {
            log: Rc::clone(&l),
            done: Rc::clone(&d),
        })]));
        let stream = util::connect(addr).await;
        stream
            .write(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                  Content-Length: 8\r\n\r\ncursor=7",
            )
            .await
            .expect("write");
        while log.borrow().is_empty() {
            typhoon_ioloop::yield_now().await;
        }
        stream.close();
        timeout(Duration::from_secs(5), done.wait())
            .await
            .expect("on_finish after close");
        assert_eq!(
            *log.borrow(),
            ["post 7", "on_connection_close", "on_finish"]
        );
    });
}

// ----- templates -----------------------------------------------------------------------------

#[test]
fn render_template() {
    struct Page;
    impl RequestHandler for Page {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.render("page.html", typhoon_template::context! { name => "<b>" })?;
            Ok(())
        }
    }
    run(async {
        let loader = typhoon_template::Loader::with_templates([(
            "page.html",
            "{{ name }}|{{ xsrf_form_html }}|{{ reverse_url('page', '5') }}|{{ request.path }}|{{ static_url('a.txt') }}",
        )]);
        let dir = static_dir();
        let settings = Settings {
            templates: Some(loader),
            xsrf_cookies: true,
            static_path: Some(dir),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(
            vec![route(r"/page/([0-9]+)", || Page).name("page")],
            settings,
        ));
        let r = get(addr, "/page/1").await;
        let text = r.text();
        let parts: Vec<&str> = text.split('|').collect();
        assert_eq!(parts[0], "&lt;b&gt;");
        assert!(
            parts[1].starts_with("<input type=\"hidden\" name=\"_xsrf\" value=\"2"),
            "{text}"
        );
        assert!(text.contains("/page/5"), "{text}");
        assert!(text.contains("/page/1"), "{text}");
        assert!(text.contains("/static/a.txt?v="), "{text}");
        assert!(r.cookie("_xsrf").is_some());
    });
}

// ----- CORS ----------------------------------------------------------------------------------

#[test]
fn cors_preflight_and_simple() {
    run(async {
        let settings = Settings {
            cors: Some(Cors {
                allowed_origins: vec!["https://app.example".into()],
                allow_credentials: true,
                ..Cors::default()
            }),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || Hello)], settings));
        let origin = ("Origin", "https://app.example");
        let r = fetch(
            addr,
            "OPTIONS",
            "/",
            &[origin, ("Access-Control-Request-Method", "PUT")],
            b"",
        )
        .await;
        assert_eq!(r.status, 204);
        assert_eq!(
            r.header("Access-Control-Allow-Origin").as_deref(),
            Some("https://app.example")
        );
        assert_eq!(
            r.header("Access-Control-Allow-Credentials").as_deref(),
            Some("true")
        );
        assert!(
            r.header("Access-Control-Allow-Methods")
                .is_some_and(|m| m.contains("PUT"))
        );
        assert_eq!(r.header("Access-Control-Max-Age").as_deref(), Some("600"));
        let r = fetch(addr, "GET", "/", &[origin], b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "Hello, world"));
        assert_eq!(
            r.header("Access-Control-Allow-Origin").as_deref(),
            Some("https://app.example")
        );
        let r = fetch(addr, "GET", "/", &[("Origin", "https://evil.example")], b"").await;
        assert!(r.header("Access-Control-Allow-Origin").is_none());
        let r = fetch(
            addr,
            "OPTIONS",
            "/",
            &[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Method", "PUT"),
            ],
            b"",
        )
        .await;
        assert_eq!(r.status, 403);
    });
}

// ----- static files --------------------------------------------------------------------------

/// A static directory with a few files, a subdirectory, a secret next to it and symlinks.
/// Built once per test process (tests run in parallel and must not see it half-written).
fn static_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(make_static_dir).clone()
}

fn make_static_dir() -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("web-static-{}", std::process::id()));
    let root = base.join("static");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("robots.txt"), "User-agent: *\nDisallow: /\n").expect("write");
    std::fs::write(root.join("a.txt"), "0123456789").expect("write");
    std::fs::write(root.join("sub/index.html"), "<p>index</p>").expect("write");
    std::fs::write(base.join("secret.txt"), "SECRET").expect("write");
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.join("big.bin"), big).expect("write");
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(root.join("big.txt"), text).expect("write");
    let _ = std::os::unix::fs::symlink(base.join("secret.txt"), root.join("escape.txt"));
    let _ = std::os::unix::fs::symlink(&base, root.join("up"));
    let _ = std::os::unix::fs::symlink(root.join("a.txt"), root.join("inside.txt"));
    // Relative symlinks: one leaving the root, one staying in it (the openat2 fast path
    // follows the second itself and hands the first to the portable check).
    let _ = std::os::unix::fs::symlink("../secret.txt", root.join("rel-escape.txt"));
    let _ = std::os::unix::fs::symlink("../../secret.txt", root.join("sub/rel-escape.txt"));
    let _ = std::os::unix::fs::symlink("a.txt", root.join("rel-inside.txt"));
    root
}

fn static_app() -> Application {
    let root = static_dir();
    let sub = root.clone();
    app_with(
        vec![route(r"/index/(.*)", move || {
            StaticFileHandler::new(sub.clone()).with_default_filename("index.html")
        })],
        Settings {
            static_path: Some(root),
            ..Settings::default()
        },
    )
}

#[test]
fn static_files() {
    run(async {
        let (_s, addr) = serve(static_app());
        let r = get(addr, "/robots.txt").await;
        assert_eq!(r.status, 200);
        assert!(r.text().starts_with("User-agent"));
        assert_eq!(r.header("Content-Type").as_deref(), Some("text/plain"));
        let r = get(addr, "/static/a.txt").await;
        assert_eq!((r.status, r.text().as_str()), (200, "0123456789"));
        assert!(r.header("Etag").is_some() && r.header("Last-Modified").is_some());
        assert!(r.header("Cache-Control").is_none());
        assert_eq!(
            get(addr, "/static/inside.txt").await.status,
            200,
            "symlink inside the root"
        );
        assert_eq!(
            get(addr, "/static/missing.txt").await.status,
            404,
            "static 404"
        );
        assert_eq!(
            get(addr, "/static/sub").await.status,
            403,
            "directory without default_filename"
        );
        let r = get(addr, "/index/sub").await;
        assert_eq!(
            (r.status, r.header("Location").as_deref()),
            (301, Some("/index/sub/"))
        );
        assert_eq!(get(addr, "/index/sub/").await.text(), "<p>index</p>");
    });
}

#[test]
fn static_url() {
    run(async {
        let app = static_app();
        struct U;
        impl RequestHandler for U {
            async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
                let url = cx.static_url("a.txt")?;
                cx.write(url);
                Ok(())
            }
        }
        app.add_handlers(".*", vec![route("/url", || U)])
            .expect("host");
        let (_s, addr) = serve(app);
        let url = get(addr, "/url").await.text();
        // SHA-256 of "0123456789", first 32 hex digits.
        assert_eq!(url, "/static/a.txt?v=84d89877f0d4041efb6bf91a16f0248f");
        let r = get(addr, &url).await;
        assert_eq!(
            r.header("Cache-Control").as_deref(),
            Some("max-age=315360000")
        );
        assert!(r.header("Expires").is_some());
    });
}

#[test]
fn static_304() {
    run(async {
        let (_s, addr) = serve(static_app());
        let r = get(addr, "/static/a.txt").await;
        let etag = r.header("Etag").expect("etag");
        let modified = r.header("Last-Modified").expect("last-modified");
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[("If-None-Match", &etag)],
            b"",
        )
        .await;
        assert_eq!(r.status, 304, "if none match");
        assert!(r.body.is_empty());
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[("If-Modified-Since", &modified)],
            b"",
        )
        .await;
        assert_eq!(r.status, 304, "if modified since");
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
            b"",
        )
        .await;
        assert_eq!(r.status, 200);
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[
                ("If-None-Match", "\"other\""),
                ("If-Modified-Since", &modified),
            ],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "If-None-Match wins");
    });
}

// The Range tests are in static_range.rs (Tornado's StaticFileTest range cases).

#[test]
fn static_large_file_streamed() {
    run(async {
        let (_s, addr) = serve(static_app());
        let r = get(addr, "/static/big.bin").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Length").as_deref(), Some("1000000"));
        assert_eq!(
            r.header("Content-Type").as_deref(),
            Some("application/octet-stream")
        );
        let expected: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        assert!(r.body == expected);
        let r = fetch(
            addr,
            "GET",
            "/static/big.bin",
            &[("Range", "bytes=999990-")],
            b"",
        )
        .await;
        assert_eq!(r.body, expected[999_990..]);
    });
}

#[test]
fn static_file_gzipped_when_compress_response() {
    run(async {
        let root = static_dir();
        let settings = Settings {
            static_path: Some(root.clone()),
            compress_response: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![], settings));
        let gz = [("Accept-Encoding", "gzip")];
        let r = fetch(addr, "GET", "/static/big.txt", &gz, b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
        assert!(
            r.header("Content-Length").is_none(),
            "the original length must not stay"
        );
        let expected = std::fs::read_to_string(root.join("big.txt")).expect("read");
        assert_eq!(gunzip(&r.body), expected);
        // Not compressible (octet-stream): sent as is, zero-copy.
        let r = fetch(addr, "GET", "/static/big.bin", &gz, b"").await;
        assert!(r.header("Content-Encoding").is_none());
        assert_eq!(r.body.len(), 1_000_000);
    });
}

struct FileAfterText(PathBuf);
impl RequestHandler for FileAfterText {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let file = std::fs::File::open(&self.0)?;
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("<");
        cx.send_file(&file, 2, 5).await?;
        // Writes after the response finished are ignored.
        cx.write("ignored");
        Ok(())
    }
}

#[test]
fn send_file_after_buffered_text() {
    run(async {
        let path = static_dir().join("a.txt");
        let (_s, addr) = serve(app_with(
            vec![route("/", move || FileAfterText(path.clone()))],
            Settings::default(),
        ));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Length").as_deref(), Some("6"));
        assert_eq!(r.body, b"<23456");
    });
}

#[test]
fn path_traversal_protection() {
    // (request path, expected status). Never 200 with the secret.
    const ATTACKS: &[(&str, u16)] = &[
        ("/static/../secret.txt", 403),
        ("/static/..%2fsecret.txt", 403),
        ("/static/%2e%2e/secret.txt", 403),
        ("/static/%2e%2e%2fsecret.txt", 403),
        ("/static/%2E%2E%2Fsecret.txt", 403),
        ("/static/sub/../../secret.txt", 403),
        ("/static/sub/%2e%2e/%2e%2e/secret.txt", 403),
        ("/static/./../secret.txt", 403),
        ("/static//etc/passwd", 403),
        ("/static/%2fetc%2fpasswd", 403),
        ("/static/%2Fetc/passwd", 403),
        ("/static/..", 403),
        ("/static/%2e%2e", 403),
        ("/static/sub/..", 403),
        ("/static/..%5csecret.txt", 403),
        ("/static/sub%5c..%5c..%5csecret.txt", 403),
        ("/static/a.txt%00.png", 403),
        ("/static/escape.txt", 403),
        ("/static/up/secret.txt", 403),
        ("/static/up", 403),
        ("/static/up/", 403),
        ("/static/%252e%252e/secret.txt", 404),
        ("/static/....//secret.txt", 404),
        ("/static/.%2e/secret.txt", 403),
        ("/static/%2e./secret.txt", 403),
        ("/index/../../secret.txt", 403),
        ("/static/rel-escape.txt", 403),
        ("/static/sub/rel-escape.txt", 403),
    ];
    run(async {
        let (_s, addr) = serve(static_app());
        // Symlinks that stay inside the root are served, absolute or relative.
        assert_eq!(
            get(addr, "/static/rel-inside.txt").await.text(),
            "0123456789"
        );
        assert_eq!(get(addr, "/static/inside.txt").await.text(), "0123456789");
        for (path, expected) in ATTACKS {
            let r = get(addr, path).await;
            assert_eq!(r.status, *expected, "{path}");
            assert!(!r.text().contains("SECRET"), "{path} leaked the secret");
        }
    });
}

// ----- streaming multipart -------------------------------------------------------------------

#[test]
fn streaming_multipart_upload() {
    use typhoon_web::multipart::{MultipartStreamer, PartInfo, PartSink};

    #[derive(Default)]
    struct Sink {
        parts: Vec<(String, Option<String>, usize, u64)>,
    }
    impl PartSink for Sink {
        fn begin_part(&mut self, part: &PartInfo) -> Result<(), HTTPError> {
            self.parts
                .push((part.name.clone(), part.filename.clone(), 0, 0));
            Ok(())
        }
        fn part_data(&mut self, data: &[u8]) -> Result<(), HTTPError> {
            if let Some(last) = self.parts.last_mut() {
                last.2 += data.len();
                last.3 += data.iter().map(|&b| u64::from(b)).sum::<u64>();
            }
            Ok(())
        }
        fn end_part(&mut self) -> Result<(), HTTPError> {
            Ok(())
        }
    }
    struct Upload {
        parser: Option<MultipartStreamer>,
        sink: Sink,
        max_buffered: usize,
    }
    impl RequestHandler for Upload {
        const STREAM_REQUEST_BODY: bool = true;
        async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let content_type = cx.request().headers.get("Content-Type").unwrap_or("");
            self.parser = Some(MultipartStreamer::from_content_type(content_type)?);
            Ok(())
        }
        async fn data_received(
            &mut self,
            _cx: &mut Context,
            chunk: Vec<u8>,
        ) -> Result<(), HTTPError> {
            if let Some(parser) = self.parser.as_mut() {
                parser.feed(&chunk, &mut self.sink)?;
                self.max_buffered = self.max_buffered.max(parser.buffered());
            }
            Ok(())
        }
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            if let Some(parser) = &self.parser {
                parser.finish()?;
            }
            let text = format!(
                "{:?} max_buffered<=64: {}",
                self.sink.parts,
                self.max_buffered <= 64
            );
            cx.write(text);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/upload", || Upload {
            parser: None,
            sink: Sink::default(),
            max_buffered: 0,
        })]));
        let file: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
        let sum: u64 = file.iter().map(|&b| u64::from(b)).sum();
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nholiday\r\n--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
        body.extend_from_slice(&file);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let r = fetch(
            addr,
            "POST",
            "/upload",
            &[("Content-Type", "multipart/form-data; boundary=XyZ")],
            &body,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let title_sum: u64 = b"holiday".iter().map(|&b| u64::from(b)).sum();
        assert_eq!(
            r.text(),
            format!(
                "[(\"title\", None, 7, {title_sum}), (\"photo\", Some(\"p.bin\"), 2000000, {sum})] max_buffered<=64: true"
            )
        );
        let r = fetch(
            addr,
            "POST",
            "/upload",
            &[("Content-Type", "multipart/form-data; boundary=XyZ")],
            b"--XyZ\r\n",
        )
        .await;
        assert_eq!(r.status, 400, "truncated");
    });
}

/// Both directions against the real Tornado over a socket. Needs `python3` with Tornado:
/// `cargo test -p typhoon-web --all-features --test web -- --ignored tornado_live_cross_check`.
#[test]
#[ignore = "needs python3 with tornado installed"]
fn tornado_live_cross_check() {
    run(async {
        let (_s, addr) = serve(cookie_app());
        let signed = get(addr, "/signed/set")
            .await
            .cookie("user")
            .expect("cookie");
        let signed = signed.trim_matches('"').to_owned();
        let (_xs, xaddr) = serve(xsrf_app());
        let (token, cookie) = xsrf_token(xaddr).await;
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/verify_typhoon.py"
        );
        let out = std::process::Command::new("python3")
            .args([script, SECRET, "user", &signed, &cookie, &token])
            .output()
            .expect("python3");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.first(),
            Some(&"ben"),
            "Tornado verifies ours: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            lines.get(2),
            Some(&"xsrf-match"),
            "Tornado decodes our masked XSRF token"
        );
        let theirs = format!("user=\"{}\"", lines[1]);
        let r = fetch(addr, "GET", "/signed/get", &[("Cookie", &theirs)], b"").await;
        assert_eq!(r.text(), "from-tornado", "we verify Tornado's");
    });
}

#[test]
fn multi_loop_application_factory() {
    struct Which;
    impl RequestHandler for Which {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let name = std::thread::current().name().unwrap_or("?").to_owned();
            cx.write(name);
            Ok(())
        }
    }
    let servers = typhoon_httpserver::start_loops(2, 0, "127.0.0.1", || {
        Application::new(vec![route("/", || Which)]).into_server()
    })
    .expect("start loops");
    let addr = servers.local_addr();
    let names = run(async move {
        let mut names = std::collections::HashSet::new();
        for _ in 0..64 {
            let r = get(addr, "/").await;
            assert_eq!(r.status, 200);
            names.insert(r.text());
        }
        names
    });
    servers.stop();
    assert!(
        names.iter().all(|n| n.starts_with("typhoon-loop-")),
        "{names:?}"
    );
    assert!(
        names.len() > 1,
        "64 connections, one loop served them all: {names:?}"
    );
}

#[test]
fn multipart_files_and_clear_all_cookies() {
    struct Files;
    impl RequestHandler for Files {
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let title = cx.get_body_argument("title")?;
            let file = &cx.files()["photo"][0];
            let text = format!(
                "{title} {} {} {}",
                file.filename,
                file.content_type,
                file.body.len()
            );
            cx.clear_all_cookies()?;
            cx.write(text);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Files)]));
        let body = b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhi\r\n--B\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n12345\r\n--B--\r\n";
        let r = fetch(
            addr,
            "POST",
            "/",
            &[
                ("Content-Type", "multipart/form-data; boundary=B"),
                ("Cookie", "a=1; b=2"),
            ],
            body,
        )
        .await;
        assert_eq!(r.text(), "hi p.png image/png 5");
        let cleared = r.headers("Set-Cookie");
        assert_eq!(cleared.len(), 2);
        assert!(
            cleared.iter().all(|c| c.contains("=; expires=")),
            "{cleared:?}"
        );
    });
}

// ----- settings: key rotation, XSRF cookie, static handler, autoescape -----------------------

/// A value Tornado 6.6.1 signed with `cookie_secret={1: "old-secret", 2: "new-secret"}`,
/// `key_version=1`, at 1,700,000,000 (`create_signed_value(..., version=2, key_version=1)`).
const TORNADO_SIGNED_KEY1: &str = "2|1:1|10:1700000000|4:user|4:YW5u|0d5cf95786450d1dc0f5e29030416be2fd680b9544ff829db904837003838ffc";

#[test]
fn cookie_secret_rotation_with_key_version() {
    use typhoon_web::cookies::decode_signed_value_versioned;
    let keys = std::collections::BTreeMap::from([
        (1, "old-secret".to_owned()),
        (2, "new-secret".to_owned()),
    ]);
    // Tornado's cookie signed with the old key still verifies after the rotation...
    assert_eq!(
        decode_signed_value_versioned(&keys, "user", TORNADO_SIGNED_KEY1, 31.0, 1_700_000_060)
            .as_deref(),
        Some(&b"ann"[..])
    );
    // ...but not once the old key is dropped, nor under another version number.
    let only_new = std::collections::BTreeMap::from([(2, "new-secret".to_owned())]);
    assert_eq!(
        decode_signed_value_versioned(&only_new, "user", TORNADO_SIGNED_KEY1, 31.0, 1_700_000_060),
        None
    );
    let relabelled = TORNADO_SIGNED_KEY1.replacen("2|1:1|", "2|1:2|", 1);
    assert_eq!(
        decode_signed_value_versioned(&keys, "user", &relabelled, 31.0, 1_700_000_060),
        None
    );
    // Over a socket: new cookies are signed with key 2; old ones verify with key 1.
    run(async move {
        let settings = Settings {
            cookie_secrets: keys,
            key_version: Some(2),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/.*", || Cookies)], settings));
        let signed = get(addr, "/signed/set")
            .await
            .cookie("user")
            .expect("cookie");
        assert!(signed.trim_matches('"').starts_with("2|1:2|"), "{signed}");
        let cookie = format!("user={signed}");
        let r = fetch(addr, "GET", "/signed/get", &[("Cookie", &cookie)], b"").await;
        assert_eq!(r.text(), "ben");
        let old = typhoon_web::cookies::create_signed_value_versioned(
            b"old-secret",
            1,
            "user",
            b"from-v1",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock after 1970")
                .as_secs(),
        );
        let cookie = format!("user=\"{old}\"");
        let r = fetch(addr, "GET", "/signed/get", &[("Cookie", &cookie)], b"").await;
        assert_eq!(r.text(), "from-v1");
    });
}

#[test]
fn xsrf_cookie_name_and_options() {
    run(async {
        let settings = Settings {
            xsrf_cookies: true,
            xsrf_cookie_name: "csrf".into(),
            xsrf_cookie_options: CookieOptions {
                secure: true,
                samesite: Some("Strict".into()),
                ..CookieOptions::default()
            },
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/", || Xsrf)], settings));
        let r = get(addr, "/").await;
        let set_cookie = r.headers("Set-Cookie");
        assert_eq!(set_cookie.len(), 1, "{set_cookie:?}");
        assert!(set_cookie[0].starts_with("csrf="), "{set_cookie:?}");
        assert!(
            set_cookie[0].contains("SameSite=Strict") && set_cookie[0].contains("Secure"),
            "{set_cookie:?}"
        );
        let token = r.text();
        let cookie = format!("csrf={}", r.cookie("csrf").expect("cookie"));
        let ok = fetch(
            addr,
            "POST",
            "/",
            &[("Cookie", &cookie), ("X-XSRFToken", &token)],
            b"",
        )
        .await;
        assert_eq!(ok.status, 200);
        // The default name no longer counts.
        let wrong = format!("_xsrf={}", r.cookie("csrf").expect("cookie"));
        let denied = fetch(
            addr,
            "POST",
            "/",
            &[("Cookie", &wrong), ("X-XSRFToken", &token)],
            b"",
        )
        .await;
        assert_eq!(denied.status, 403);
    });
}

#[test]
fn static_handler_setting() {
    run(async {
        let root = static_dir();
        let served = root.clone();
        let settings = Settings {
            static_path: Some(root),
            static_handler: Some(typhoon_web::HandlerFactory::new(move || {
                StaticFileHandler::new(served.clone()).with_default_filename("index.html")
            })),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![], settings));
        let r = get(addr, "/static/sub/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "<p>index</p>");
        assert_eq!(get(addr, "/robots.txt").await.status, 200);
    });
}

#[test]
fn autoescape_setting() {
    struct Page;
    impl RequestHandler for Page {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.render("page.html", typhoon_template::context! { name => "<b>" })?;
            Ok(())
        }
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("web-autoescape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("page.html"), "hi {{ name }}").expect("write");
    run(async move {
        for (policy, expected) in [
            (typhoon_template::Autoescape::ByExtension, "hi &lt;b&gt;"),
            (typhoon_template::Autoescape::Never, "hi <b>"),
        ] {
            let settings = Settings {
                template_path: Some(dir.clone()),
                autoescape: policy,
                ..Settings::default()
            };
            let (_s, addr) = serve(app_with(vec![route("/", || Page)], settings));
            assert_eq!(get(addr, "/").await.text(), expected, "{policy:?}");
        }
    });
}

// ----- responses cut short never look complete ------------------------------------------------

/// `send_file` of a directory: reading fails after the head is promised.
struct DirAsFile;
impl RequestHandler for DirAsFile {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let file = std::fs::File::open(std::env::temp_dir())?;
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("x".repeat(10));
        cx.send_file(&file, 0, 100_000).await?;
        Ok(())
    }
}

#[test]
fn send_file_read_error_closes_the_connection() {
    for gzip in [true, false] {
        run(async move {
            let settings = Settings {
                compress_response: gzip,
                ..Settings::default()
            };
            let (_s, addr) = serve(app_with(
                vec![route("/dir", || DirAsFile), route("/", || Hello)],
                settings,
            ));
            let stream = typhoon_testing::connect(addr).await;
            stream
                .write(b"GET /dir HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let all = timeout(Duration::from_secs(10), stream.read_until_close())
                .await
                .expect("the connection closes")
                .expect("read");
            let text = String::from_utf8_lossy(&all);
            assert!(
                !text.contains("Hello, world"),
                "gzip={gzip}: the next request is not served: {text}"
            );
            if let Some(length) = text
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
            {
                let body = all.len() - text.find("\r\n\r\n").map_or(all.len(), |i| i + 4);
                assert_ne!(
                    length.parse::<usize>().ok(),
                    Some(body),
                    "gzip={gzip}: a short body must not match its length: {text}"
                );
            }
        });
    }
}

#[test]
fn cookie_secrets_without_key_version_is_an_error() {
    run(async {
        let settings = Settings {
            cookie_secrets: std::collections::BTreeMap::from([(1, "k1".to_owned())]),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/.*", || Cookies)], settings));
        let r = get(addr, "/signed/set").await;
        assert_eq!(
            r.status, 500,
            "signing must not fall back to a key nobody verifies with"
        );
        assert!(r.cookie("user").is_none());
        let settings = Settings {
            cookie_secrets: std::collections::BTreeMap::from([(1, "k1".to_owned())]),
            key_version: Some(7),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route("/.*", || Cookies)], settings));
        assert_eq!(get(addr, "/signed/set").await.status, 500);
    });
}
