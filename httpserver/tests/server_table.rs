//! The raw-request corpus of `h1_parse.rs` (Tornado's wire-level cases plus the limits of
//! `shared/HTTP-LIMITS.md`), sent to a live `HTTPServer` over loopback: every row that the parser
//! answers with a status gets exactly that status on the wire, followed by a close; every row
//! that is a valid request is served (200) with the right method, path and body.

mod corpus;
use std::time::Duration;

use corpus::{Outcome, cases};
use typhoon_httpserver::{HTTPServer, HTTPServerRequest, ResponseWriter};
use typhoon_ioloop::timeout;
use typhoon_testing::{connect, read_response, run_test, status_of};

/// Answers `METHOD path|body`.
async fn echo(request: HTTPServerRequest, mut response: ResponseWriter) {
    let mut body = format!("{} {}|", request.method, request.path()).into_bytes();
    body.extend_from_slice(&request.body);
    response.write(&body);
}

#[test]
fn corpus_over_real_sockets() {
    let cases = cases();
    run_test(async move {
        let server = HTTPServer::new(echo);
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        let mut checked = 0;
        let mut failures = Vec::new();
        for (name, bytes, want) in cases {
            let stream = connect(addr).await;
            stream.write(&bytes).await.expect("write");
            match want {
                Outcome::Status(status) => {
                    let reply = timeout(Duration::from_secs(10), stream.read_until_close())
                        .await
                        .map(Result::unwrap_or_default)
                        .unwrap_or_else(|_| b"(connection left open)".to_vec());
                    let text = String::from_utf8_lossy(&reply);
                    if status_of(&reply) != Some(status) || text.matches("HTTP/1.").count() != 1 {
                        failures.push(format!("{name}: want {status} then close, got {text:?}"));
                    }
                }
                Outcome::Request {
                    method, path, body, ..
                } => {
                    let response = read_response(&stream, method == "HEAD").await;
                    let text = String::from_utf8_lossy(&response.body).into_owned();
                    if response.status != 200
                        || (method != "HEAD"
                            && (!text.starts_with(&format!("{method} {path}|"))
                                || !response.body.ends_with(&body)))
                    {
                        failures.push(format!(
                            "{name}: want 200 {method} {path}|{:?}, got {} {text:?}",
                            String::from_utf8_lossy(&body),
                            response.status
                        ));
                    }
                }
                // Incomplete input: the server keeps waiting (covered by the timeout tests).
                Outcome::Partial => continue,
            }
            checked += 1;
        }
        server.stop();
        assert!(checked >= 80, "only {checked} rows checked over sockets");
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    });
}
