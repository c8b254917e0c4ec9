//! Routing tests over real sockets, named after Tornado's `routing_test.py` and the routing parts
//! of `web_test.py`.

mod util;

use typhoon_web::{Application, Context, HTTPError, RequestHandler, Route, WebError, route};
use util::{fetch, get, run, serve};

/// Writes a fixed label and the captures.
struct Label(&'static str);
impl RequestHandler for Label {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let mut kwargs: Vec<_> = cx
            .path_kwargs()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        kwargs.sort();
        let text = format!("{} {:?} {:?}", self.0, cx.path_args(), kwargs);
        cx.write(text);
        Ok(())
    }
}

#[test]
fn path_matches_is_anchored() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/a", || Label("a")),
            route("/b/", || Label("b")),
            route("/c|/d", || Label("cd")),
        ]));
        assert_eq!(get(addr, "/a").await.text(), "a [] []");
        assert_eq!(get(addr, "/a/").await.status, 404, "anchored at the end");
        assert_eq!(get(addr, "/x/a").await.status, 404, "anchored at the start");
        assert_eq!(get(addr, "/b/").await.status, 200);
        assert_eq!(get(addr, "/c").await.status, 200);
        assert_eq!(get(addr, "/d").await.status, 200);
        assert_eq!(
            get(addr, "/a?x=1").await.status,
            200,
            "the query is not part of the path"
        );
    });
}

#[test]
fn first_matching_route_wins() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/p/special", || Label("special")),
            route("/p/(.*)", || Label("generic")),
        ]));
        assert!(get(addr, "/p/special").await.text().starts_with("special"));
        assert!(get(addr, "/p/other").await.text().starts_with("generic"));
    });
}

#[test]
fn positional_and_named_groups() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route(r"/pos/([0-9]+)/([a-z]+)", || Label("pos")),
            route(r"/named/(?P<year>[0-9]{4})/(?P<slug>[^/]+)", || {
                Label("named")
            }),
            route(r"/optional/([0-9]+)?", || Label("opt")),
        ]));
        assert_eq!(
            get(addr, "/pos/12/ab").await.text(),
            r#"pos ["12", "ab"] []"#
        );
        assert_eq!(
            get(addr, "/named/2024/hello%20world").await.text(),
            r#"named [] ["slug=hello world", "year=2024"]"#
        );
        assert_eq!(get(addr, "/optional/").await.text(), r#"opt [""] []"#);
    });
}

#[test]
fn url_unescaped_captures() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route(r"/u/(.*)", || Label("u"))]));
        assert_eq!(get(addr, "/u/a%2Fb").await.text(), r#"u ["a/b"] []"#);
        assert_eq!(
            get(addr, "/u/a+b").await.text(),
            r#"u ["a+b"] []"#,
            "plus is not a space in paths"
        );
        assert_eq!(get(addr, "/u/%E2%98%83").await.text(), r#"u ["☃"] []"#);
        assert_eq!(get(addr, "/u/%FF").await.status, 400);
    });
}

#[test]
fn reverse_url() {
    let app = Application::new(vec![
        route(r"/user/([0-9]+)", || Label("u")).name("user"),
        route(r"/files/(.*)", || Label("f")).name("files"),
        route(r"/a/(?:x|y)/([0-9]+)", || Label("a")).name("irreversible"),
        route(r"/static\.html", || Label("s")).name("escaped"),
    ]);
    assert_eq!(app.reverse_url("user", &["7"]).unwrap(), "/user/7");
    assert_eq!(
        app.reverse_url("files", &["a b/c&d"]).unwrap(),
        "/files/a%20b/c%26d"
    );
    assert_eq!(app.reverse_url("escaped", &[]).unwrap(), "/static.html");
    assert!(matches!(
        app.reverse_url("nope", &[]),
        Err(WebError::UnknownRoute(_))
    ));
    assert!(matches!(
        app.reverse_url("user", &[]),
        Err(WebError::CannotReverse { .. })
    ));
    assert!(matches!(
        app.reverse_url("irreversible", &["1"]),
        Err(WebError::CannotReverse { .. })
    ));
}

#[test]
fn reverse_url_in_handler() {
    struct Rev;
    impl RequestHandler for Rev {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let url = cx.reverse_url("user", &["42"])?;
            cx.write(url);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/rev", || Rev),
            route(r"/user/([0-9]+)", || Label("u")).name("user"),
        ]));
        assert_eq!(get(addr, "/rev").await.text(), "/user/42");
    });
}

#[test]
fn host_matches() {
    run(async {
        let app = Application::new(vec![route("/", || Label("default"))]);
        app.add_handlers(r"www\.example\.com", vec![route("/", || Label("www"))])
            .unwrap();
        app.add_handlers(r"(.*)\.example\.org", vec![route("/", || Label("org"))])
            .unwrap();
        let (_s, addr) = serve(app);
        let host = |h: &'static str| async move {
            fetch(addr, "GET", "/", &[], b"").await;
            let stream = util::connect(addr).await;
            stream
                .write(
                    format!("GET / HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n\r\n").as_bytes(),
                )
                .await
                .unwrap();
            util::read_response(&stream, false).await.text()
        };
        assert!(host("www.example.com").await.starts_with("www"));
        assert!(
            host("WWW.example.com:8080").await.starts_with("www"),
            "host_name: lowercased, no port"
        );
        assert!(host("a.example.org").await.starts_with("org"));
        assert!(host("example.org").await.starts_with("default"));
        assert!(
            host("www.example.com.evil").await.starts_with("default"),
            "anchored host pattern"
        );
    });
}

#[test]
fn invalid_pattern_is_an_error() {
    assert!(matches!(
        Route::try_new("/(", || Label("x")),
        Err(WebError::InvalidPattern { .. })
    ));
    let app = Application::new(vec![]);
    assert!(matches!(
        app.add_handlers("(", vec![]),
        Err(WebError::InvalidPattern { .. })
    ));
}
