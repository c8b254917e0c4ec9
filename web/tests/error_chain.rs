//! What the application log and `serve_traceback` print for an error a handler returns with
//! `?`: the cause, once. (A test binary of its own: it asserts on the log, see
//! `typhoon_testing::capture_logs`.)

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
