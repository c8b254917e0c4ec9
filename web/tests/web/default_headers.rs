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

/// `Server` and `Date` per `?server=` / `?date=`: `set` replaces, `clear` removes; `?clear=1`
/// then clears the response (the defaults come back).
struct ServerDate;
impl RequestHandler for ServerDate {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        for name in ["Server", "Date"] {
            match cx.get_argument_or(&name.to_lowercase(), "").as_str() {
                "set" => cx.set_header(name, "mine")?,
                "add" => cx.add_header(name, "mine")?,
                "clear" => cx.clear_header(name),
                _ => {}
            }
        }
        if cx.get_argument_or("clear", "0") == "1" {
            cx.clear();
        }
        Ok(())
    }
}

/// The head's lines named `name`.
fn lines<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.lines()
        .filter(|line| {
            line.split_once(':')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
        })
        .collect()
}

#[test]
fn server_and_date_are_default_headers() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || ServerDate)]));
        let r = get(addr, "/").await;
        assert_eq!(lines(&r.head, "Server").len(), 1, "{}", r.head);
        assert_eq!(lines(&r.head, "Date").len(), 1, "{}", r.head);
        for query in ["/?server=set&date=set", "/?server=add&date=add"] {
            let r = get(addr, query).await;
            assert_eq!(lines(&r.head, "Server"), ["Server: mine"], "{}", r.head);
            assert_eq!(lines(&r.head, "Date"), ["Date: mine"], "{}", r.head);
        }
        let r = get(addr, "/?server=clear").await;
        assert!(lines(&r.head, "Server").is_empty(), "{}", r.head);
        assert_eq!(lines(&r.head, "Date").len(), 1, "{}", r.head);
        let r = get(addr, "/?date=clear").await;
        assert!(lines(&r.head, "Date").is_empty(), "{}", r.head);
        assert_eq!(lines(&r.head, "Server").len(), 1, "{}", r.head);
        let r = get(addr, "/?server=clear&date=set&clear=1").await;
        assert_eq!(
            lines(&r.head, "Server").len(),
            1,
            "clear() restores it: {}",
            r.head
        );
        assert_ne!(lines(&r.head, "Date"), ["Date: mine"], "{}", r.head);
        assert_eq!(lines(&r.head, "Date").len(), 1, "{}", r.head);
    });
}

#[test]
fn default_header_test_server_header() {
    struct Handler;
    impl RequestHandler for Handler {
        fn set_default_headers(cx: &mut Context) {
            let _ = cx.set_header("Server", "MyServer/1.0");
        }
        async fn get(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
            Err(HTTPError::new(404))
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Handler)]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 404);
        assert_eq!(
            lines(&r.head, "Server"),
            ["Server: MyServer/1.0"],
            "{}",
            r.head
        );
    });
}
