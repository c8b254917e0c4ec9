//! Cookies: set, get and clear, signed cookies, and Tornado's signed values (recorded fixtures,
//! and a live cross-check against Tornado).

use typhoon_web::cookies::{create_signed_value, decode_signed_value};
use typhoon_web::{
    Application, Context, CookieOptions, HTTPError, RequestHandler, Settings, route,
};

use crate::util::{fetch, get, run, serve};
use crate::xsrf::{xsrf_app, xsrf_token};
use crate::{SECRET, app_with};

pub(crate) struct Cookies;
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

/// Lines of tests/fixtures/tornado_signed.txt: `kind|secret|name|hex value|timestamp|signed`.
pub(crate) fn tornado_fixtures() -> Vec<(String, String, String, Vec<u8>, u64, String)> {
    include_str!("../fixtures/tornado_signed.txt")
        .lines()
        .map(|line| {
            let mut parts = line.splitn(6, '|');
            let mut next = || parts.next().expect("field").to_owned();
            let (kind, secret, name, hex, ts, signed) =
                (next(), next(), next(), next(), next(), next());
            let value = hex::decode(&hex).expect("hex");
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
