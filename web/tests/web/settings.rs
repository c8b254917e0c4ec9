//! Settings: cookie key rotation (and its misconfiguration), the XSRF cookie's name and options,
//! the application's `static_handler`, `autoescape`.

use std::path::PathBuf;

use typhoon_web::{
    Context, CookieOptions, HTTPError, RequestHandler, Settings, StaticFileHandler, route,
};

use crate::app_with;
use crate::cookies::Cookies;
use crate::static_files::static_dir;
use crate::util::{fetch, get, run, serve};
use crate::xsrf::Xsrf;

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
fn custom_static_handler() {
    run(async {
        let root = static_dir();
        let served = root.clone();
        let settings = Settings {
            static_path: Some(root),
            ..Settings::default()
        };
        let app = app_with(vec![], settings).static_handler(move || {
            StaticFileHandler::with_default_filename(served.clone(), "index.html")
        });
        let (_s, addr) = serve(app);
        let r = get(addr, "/static/sub/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "<p>index</p>");
        assert_eq!(get(addr, "/robots.txt").await.status, 200);
    });
}

#[test]
fn custom_static_handler_serves_all_three_static_routes() {
    /// Says which file it was asked for: the route's first capture.
    struct Tagged;
    impl RequestHandler for Tagged {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let path = cx.path_args().first().cloned().unwrap_or_default();
            cx.write(format!("custom:{path}"));
            Ok(())
        }
    }
    run(async {
        let settings = Settings {
            static_path: Some(static_dir()),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![], settings).static_handler(|| Tagged));
        for (path, expected) in [
            ("/static/a/b.txt", "custom:a/b.txt"),
            ("/favicon.ico", "custom:favicon.ico"),
            ("/robots.txt", "custom:robots.txt"),
        ] {
            let r = get(addr, path).await;
            assert_eq!((r.status, r.text().as_str()), (200, expected), "{path}");
        }
    });
}

#[test]
#[should_panic(expected = "configured before it is cloned")]
fn static_handler_after_clone_panics() {
    let app = typhoon_web::Application::new(vec![]);
    let _server = app.clone().into_server();
    let _ = app.static_handler(|| Tagless);
}

/// A handler for the panic test, which never serves.
struct Tagless;
impl RequestHandler for Tagless {}

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
