//! What the application log and `serve_traceback` print for an error a handler returns with
//! `?` (the cause, once) or a panic. (A test binary of its own, where every test captures the
//! log: `tracing`'s per-call-site cache can miss a capture when other tests run the same call
//! sites with no subscriber, see `typhoon_testing::capture_logs`.)

mod util;

use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};
use util::{capture_logs, get, run, serve};

struct Failing;
impl RequestHandler for Failing {
    async fn get(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
        // What `?` does with any error.
        Err(std::io::Error::other("disk on fire").into())
    }
}

#[test]
fn uncaught_error_names_its_cause_once() {
    let (page, log) = capture_logs(|| {
        run(async {
            let settings = Settings {
                serve_traceback: Some(true),
                ..Settings::default()
            };
            let app = Application::with_settings(vec![route("/", || Failing)], settings);
            let (_server, addr) = serve(app);
            let r = get(addr, "/").await;
            assert_eq!(r.status, 500);
            r.text()
        })
    });
    let logged: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("typhoon::application"))
        .collect();
    assert_eq!(logged.len(), 1, "one application error line: {log}");
    // The event's message spans lines (the chain); count over the whole log.
    assert_eq!(log.matches("disk on fire").count(), 1, "{log}");
    assert!(log.contains("caused by: disk on fire"), "{log}");
    assert_eq!(page.matches("disk on fire").count(), 1, "{page}");
}

struct Panicking;
impl RequestHandler for Panicking {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.get_argument_or("kind", "") == "panic" {
            panic!("handler exploded");
        }
        Err(HTTPError::with_log_message(403, "nope"))
    }
}

#[test]
fn panic_in_handler_gives_500_and_logs() {
    let ((), log) = capture_logs(|| {
        run(async {
            let (_s, addr) = serve(Application::new(vec![route("/", || Panicking)]));
            let r = get(addr, "/?kind=panic").await;
            assert_eq!(r.status, 500);
            assert_eq!(
                r.text(),
                "<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>"
            );
            assert_eq!(get(addr, "/").await.status, 403, "the server goes on");
        })
    });
    assert!(log.contains("handler exploded"), "{log}");
    assert!(log.contains("typhoon::application"), "{log}");
}
