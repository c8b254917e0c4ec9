//! Default headers: `set_default_headers`, re-applied by `clear` (so on error pages too), and
//! `clear_header` (Tornado's `ClearHeaderTest`).

use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::util::{get, run, serve};

/// Sets `X-Default` by default; `?fail=1` answers an error, `?clear=1` clears and writes.
struct Defaults;
impl RequestHandler for Defaults {
    fn set_default_headers(cx: &mut Context) {
        let _ = cx.set_header("X-Default", "yes");
        let _ = cx.set_header("Content-Type", "text/plain");
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.get_argument_or("fail", "0") == "1" {
            cx.set_header("X-Lost", "gone")?;
            return Err(HTTPError::new(418));
        }
        if cx.get_argument_or("replace", "0") == "1" {
            cx.set_header("X-Default", "replaced")?;
        }
        if cx.get_argument_or("remove", "0") == "1" {
            cx.clear_header("X-Default");
        }
        if cx.get_argument_or("clear", "0") == "1" {
            cx.clear_header("X-Default");
            cx.set_header("X-Lost", "gone")?;
            cx.write("lost");
            cx.clear();
        }
        cx.write("hello");
        Ok(())
    }
}

#[test]
fn default_header_test_default_header() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Defaults)]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-Default").as_deref(), Some("yes"));
        assert_eq!(r.header("Content-Type").as_deref(), Some("text/plain"));
        let r = get(addr, "/?replace=1").await;
        assert_eq!(r.header("X-Default").as_deref(), Some("replaced"));
        let r = get(addr, "/?remove=1").await;
        assert_eq!(r.header("X-Default"), None);
    });
}

#[test]
fn default_header_test_error_page() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Defaults)]));
        let r = get(addr, "/?fail=1").await;
        assert_eq!(r.status, 418);
        assert_eq!(r.header("X-Default").as_deref(), Some("yes"));
        assert_eq!(
            r.header("X-Lost"),
            None,
            "the error page starts with a clear"
        );
    });
}

#[test]
fn default_header_test_clear_reapplies() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Defaults)]));
        let r = get(addr, "/?clear=1").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "hello");
        assert_eq!(r.header("X-Default").as_deref(), Some("yes"));
        assert_eq!(r.header("X-Lost"), None);
    });
}

#[test]
fn clear_header_test_clear_header() {
    struct Handler;
    impl RequestHandler for Handler {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.set_header("h1", "foo")?;
            cx.set_header("h2", "bar")?;
            cx.clear_header("h1");
            cx.clear_header("nonexistent");
            cx.add_header("Set-Cookie", "a=b")?;
            cx.add_header("Set-Cookie", "c=d")?;
            cx.clear_header("Set-Cookie");
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Handler)]));
        let r = get(addr, "/").await;
        assert_eq!(r.header("h1"), None);
        assert_eq!(r.header("h2").as_deref(), Some("bar"));
        assert_eq!(r.header("Set-Cookie"), None);
    });
}
