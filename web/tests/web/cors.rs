//! CORS: preflights and simple requests.

use typhoon_web::{Cors, Settings, route};

use crate::util::{fetch, run, serve};
use crate::{Hello, app_with};

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
