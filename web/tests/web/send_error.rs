//! `send_error` goes through the handler's `write_error` (Tornado's `ErrorResponseTest`).

use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::util::{get, run, serve};

/// Tornado's `DefaultHandler`: an `HTTPError` with `?status=`, else a failure.
struct DefaultHandler;
impl RequestHandler for DefaultHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if let Ok(status) = cx.get_argument("status") {
            return Err(HTTPError::new(status.parse()?));
        }
        Err(std::io::Error::other("1 / 0").into())
    }
}

/// Tornado's `WriteErrorHandler`: `send_error(status)` with `?status=`, else a failure; its
/// `write_error` writes plain text.
struct WriteErrorHandler;
impl RequestHandler for WriteErrorHandler {
    async fn prepare(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.get_argument_or("in_prepare", "0") == "1" {
            cx.send_error_with_reason(429, "Slow Down");
        }
        Ok(())
    }
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if let Ok(status) = cx.get_argument("status") {
            cx.set_header("X-Lost", "gone")?;
            cx.write("lost");
            cx.send_error(status.parse()?);
            cx.write("ignored too");
            return Ok(());
        }
        Err(std::io::Error::other("1 / 0").into())
    }
    fn write_error(&mut self, cx: &mut Context, error: &HTTPError) {
        let _ = cx.set_header("Content-Type", "text/plain");
        match error.source() {
            Some(cause) => cx.write(format!("Exception: {cause}")),
            None => cx.write(format!("Status: {}", error.status())),
        }
    }
}

/// Tornado's `FailedWriteErrorHandler`.
struct FailedWriteErrorHandler;
impl RequestHandler for FailedWriteErrorHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.send_error(503);
        Ok(())
    }
    fn write_error(&mut self, _cx: &mut Context, _error: &HTTPError) {
        panic!("exception in write_error");
    }
}

fn app() -> Application {
    Application::new(vec![
        route("/default", || DefaultHandler),
        route("/write_error", || WriteErrorHandler),
        route("/failed_write_error", || FailedWriteErrorHandler),
    ])
}

#[test]
fn error_response_test_default() {
    run(async {
        let (_s, addr) = serve(app());
        let r = get(addr, "/default").await;
        assert_eq!(r.status, 500);
        assert!(
            r.text().contains("500: Internal Server Error"),
            "{}",
            r.text()
        );
        let r = get(addr, "/default?status=503").await;
        assert_eq!(r.status, 503);
        assert!(
            r.text().contains("503: Service Unavailable"),
            "{}",
            r.text()
        );
        let r = get(addr, "/default?status=435").await;
        assert_eq!(r.status, 435);
        assert!(r.text().contains("435: Unknown"), "{}", r.text());
    });
}

#[test]
fn error_response_test_write_error() {
    run(async {
        let (_s, addr) = serve(app());
        let r = get(addr, "/write_error").await;
        assert_eq!((r.status, r.text().as_str()), (500, "Exception: 1 / 0"));
        let r = get(addr, "/write_error?status=503").await;
        assert_eq!((r.status, r.text().as_str()), (503, "Status: 503"));
        assert_eq!(r.header("Content-Type").as_deref(), Some("text/plain"));
        assert_eq!(r.header("X-Lost"), None, "send_error clears the response");
    });
}

#[test]
fn error_response_test_send_error_in_prepare() {
    run(async {
        let (_s, addr) = serve(app());
        let r = get(addr, "/write_error?in_prepare=1&status=400").await;
        assert!(
            r.head.starts_with("HTTP/1.1 429 Slow Down\r\n"),
            "{}",
            r.head
        );
        assert_eq!(r.text(), "Status: 429", "the method is skipped");
    });
}

#[test]
fn error_response_test_failed_write_error() {
    run(async {
        let (_s, addr) = serve(app());
        // Tornado sends an empty body; Typhoon falls back to the default page.
        let r = get(addr, "/failed_write_error").await;
        assert_eq!(r.status, 503);
        assert!(!r.text().contains("exception in write_error"));
    });
}
