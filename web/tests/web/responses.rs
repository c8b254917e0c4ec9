//! Responses: `write`, JSON, status and reason, headers, the 405 of unimplemented methods, ETags.

use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::Hello;
use crate::util::{fetch, get, run, serve};

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
