//! Error pages: the default page, `serve_traceback`, a handler's `write_error`, the default
//! handler.

use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::util::{get, run, serve};

struct Failing;
impl RequestHandler for Failing {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        match cx.get_argument_or("kind", "").as_str() {
            "http" => Err(HTTPError::with_log_message(403, "nope")),
            "reason" => Err(HTTPError::with_reason(682, "Foo")),
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
            // Not a process to re-execute.
            autoreload: Some(false),
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
        let (_s, addr) = serve(app_with(vec![], Settings::default()).default_handler(|| Mine));
        let r = get(addr, "/anything").await;
        assert_eq!((r.status, r.text().as_str()), (404, "my 404"));
    });
}

#[test]
#[should_panic(expected = "configured before it is cloned")]
fn default_handler_after_clone_panics() {
    let app = Application::new(vec![]);
    let _shared = app.clone();
    let _ = app.default_handler(|| typhoon_web::ErrorHandler::new(410));
}
