//! Tornado's access log line, in a test binary of its own: `tracing` caches per call site
//! whether anyone listens, and tests on other threads of the same binary (with no subscriber)
//! would race this one's capture.

use typhoon_httpserver::HTTPServer;
use typhoon_testing::{capture_logs, raw_request, run_test};

#[test]
fn access_log_line() {
    let ((), log) = capture_logs(|| {
        run_test(async {
            let server = HTTPServer::new(|request, mut response| async move {
                if request.path() == "/panic" {
                    panic!("handler boom");
                }
                tracing::info!(target: "app", "inside the handler");
                typhoon_ioloop::yield_now().await;
                tracing::info!(target: "app", "after an await");
                response.write(b"logged");
            });
            let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
            raw_request(
                addr,
                b"GET /logged?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            raw_request(
                addr,
                b"GET /panic HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            server.stop();
        });
    });
    let line = log
        .lines()
        .find(|line| line.contains("typhoon::access") && line.contains("/logged"))
        .unwrap_or_else(|| panic!("no access line: {log}"));
    assert!(line.contains("200 GET /logged?x=1 (127.0.0.1) "), "{line}");
    assert!(line.contains("ms"), "{line}");
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("500 GET /panic")),
        "{log}"
    );
    // STYLE's per-request span: the handler's events, before and after an await, carry it.
    for message in ["inside the handler", "after an await"] {
        let line = log
            .lines()
            .find(|line| line.contains(message))
            .unwrap_or_else(|| panic!("no {message:?} line: {log}"));
        assert!(line.contains("http_request{"), "{line}");
        for field in ["GET", "/logged?x=1", "HTTP/1.1", "127.0.0.1"] {
            assert!(line.contains(field), "{field} in {line}");
        }
    }
    assert!(
        log.contains("handler boom"),
        "the panic is logged with its message"
    );
}
