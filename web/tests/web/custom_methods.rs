//! Verbs beyond the seven: `EXTRA_METHODS` and `other_method` (Tornado's
//! `UnimplementedNonStandardMethodsTest`, `PatchMethodTest`).

use typhoon_web::{Application, Context, HTTPError, RequestHandler, handler, route};

use crate::util::{fetch, run, serve};

/// Tornado's `UnimplementedNonStandardMethodsTest.Handler`: it has `other_method`, but no
/// extra verbs, so it is never called.
struct Unimplemented;
impl RequestHandler for Unimplemented {
    async fn other_method(&mut self, cx: &mut Context, _method: &str) -> Result<(), HTTPError> {
        cx.write("other");
        Ok(())
    }
}

/// Tornado's `PatchMethodTest.Handler`, with WebDAV's and caches' verbs.
struct Extended;
#[handler]
impl RequestHandler for Extended {
    const EXTRA_METHODS: &'static [&'static str] = &["OTHER", "PROPFIND", "REPORT", "PURGE"];
    async fn patch(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("patch");
        Ok(())
    }
    async fn other_method(&mut self, cx: &mut Context, method: &str) -> Result<(), HTTPError> {
        match method {
            "REPORT" => Err(HTTPError::new(405)),
            _ => {
                cx.write(method.to_lowercase());
                Ok(())
            }
        }
    }
}

fn app() -> Application {
    Application::new(vec![
        route("/unimplemented", || Unimplemented),
        route("/", || Extended),
    ])
}

#[test]
fn unimplemented_non_standard_methods_test() {
    run(async {
        let (_s, addr) = serve(app());
        let r = fetch(addr, "PATCH", "/unimplemented", &[], b"").await;
        assert_eq!(r.status, 405);
        let r = fetch(addr, "OTHER", "/unimplemented", &[], b"").await;
        assert_eq!(r.status, 405);
        assert_eq!(r.header("Allow"), None, "no list, no Allow");
    });
}

#[test]
fn patch_method_test() {
    run(async {
        let (_s, addr) = serve(app());
        let r = fetch(addr, "PATCH", "/", &[], b"").await;
        assert_eq!((r.status, r.text().as_str()), (200, "patch"));
        for (verb, body) in [
            ("OTHER", "other"),
            ("PROPFIND", "propfind"),
            ("PURGE", "purge"),
        ] {
            let r = fetch(addr, verb, "/", &[], b"").await;
            assert_eq!((r.status, r.text().as_str()), (200, body), "{verb}");
        }
    });
}

#[test]
fn unknown_and_refused_extra_verbs_are_405_with_allow() {
    run(async {
        let (_s, addr) = serve(app());
        for verb in ["MKCOL", "REPORT", "GET"] {
            let r = fetch(addr, verb, "/", &[], b"").await;
            assert_eq!(r.status, 405, "{verb}");
            assert_eq!(
                r.header("Allow").as_deref(),
                Some("PATCH, OTHER, PROPFIND, REPORT, PURGE"),
                "{verb}"
            );
        }
    });
}
