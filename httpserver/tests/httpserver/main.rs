//! The HTTP server over real loopback sockets, with raw bytes (Tornado's `HTTPServerRawTest`,
//! `httpserver_test.py`, `http1connection_test.py`, `security_corpus_test.py`) and the limits of
//! `shared/HTTP-LIMITS.md`.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions, HTTPServerRequest, ResponseWriter};
use typhoon_ioloop::{IOLoop, sleep, timeout};
use typhoon_testing::{connect, raw_request, read_response, run_test, status_of};

mod bodies;
mod raw;
mod shutdown;
mod timeouts;

/// An echo application: answers with method, path, query and body, and a few special paths.
async fn app(request: HTTPServerRequest, mut response: ResponseWriter) {
    match request.path() {
        "/panic" => panic!("handler boom"),
        "/status/204" => {
            response.set_status(204);
        }
        "/stream" => {
            response.write(b"first,");
            response.flush().await.expect("flush");
            sleep(Duration::from_millis(5)).await;
            response.write(b"second");
        }
        "/ip" => response.write(format!("{} {}", request.remote_ip, request.protocol).as_bytes()),
        "/wait-close" => {
            response.connection_closed().await;
        }
        "/file" | "/file-after-flush" => {
            let file = file_fixture();
            response.write(b"<");
            if request.path() == "/file-after-flush" {
                response.flush().await.expect("flush");
            }
            response.send_file(file, 2, 10).await.expect("send_file");
            if request.path() == "/file-after-flush" {
                response.write(b">");
            }
        }
        "/file-cancelled" => {
            // The application gives up on a client that does not read (its own timeout).
            let file = big_file_fixture();
            let sent = timeout(
                Duration::from_millis(100),
                response.send_file(file, 0, BIG_FILE_LEN),
            )
            .await;
            assert!(
                sent.is_err(),
                "the client reads nothing: the send cannot finish"
            );
            GAVE_UP.with(|event| event.set());
        }
        "/file-wrong-length" => {
            let file = file_fixture();
            response.set_header("Content-Length", "3").expect("header");
            let result = response.send_file(file, 0, 8).await;
            assert!(
                result.is_err(),
                "a Content-Length that does not match is refused"
            );
        }
        "/block" => {
            // Sleeps `at` ms on a loop timer, then blocks the whole loop for `for` ms.
            let arg = |name: &str| -> u64 {
                request
                    .query()
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            sleep(Duration::from_millis(arg("at"))).await;
            std::thread::sleep(Duration::from_millis(arg("for")));
            response.write(b"unblocked");
        }
        "/big-file" => {
            if response
                .send_file(big_file_fixture(), 0, BIG_FILE_LEN)
                .await
                .is_err()
            {
                SEND_FAILED.with(|event| event.set());
            }
        }
        "/stream-big" => {
            // 64 flushes of 1 MiB each: the handler waits on every one.
            let chunk = vec![b'c'; 1 << 20];
            for _ in 0..64 {
                response.write(&chunk);
                if response.flush().await.is_err() {
                    SEND_FAILED.with(|event| event.set());
                    return;
                }
            }
        }
        "/big-buffered" => {
            // 16 MiB written at once: the server's own flush sends it after the handler.
            response.write(&vec![b'c'; 16 << 20]);
        }
        "/slow" => {
            sleep(Duration::from_millis(200)).await;
            response.write(b"slow done");
        }
        _ => {
            response
                .set_header("Content-Type", "text/plain")
                .expect("header");
            let body = format!(
                "{} {} {} {}",
                request.method,
                request.path(),
                request.query(),
                String::from_utf8_lossy(&request.body)
            );
            response.write(body.as_bytes());
        }
    }
}

/// Larger than any loopback socket buffer, so a client that does not read stalls the send.
const BIG_FILE_LEN: u64 = 64 << 20;

thread_local! {
    /// Set when `/file-cancelled` gave up (the test and the server share one loop thread).
    static GAVE_UP: typhoon_ioloop::locks::Event = typhoon_ioloop::locks::Event::new();
    /// Set when `/big-file` or `/stream-big` saw its send fail.
    static SEND_FAILED: typhoon_ioloop::locks::Event = typhoon_ioloop::locks::Event::new();
}

/// A file this test process writes once and unlinks at once: it holds the only handle,
/// so nothing is left on disk when the process ends, however it ends.
fn unlinked_fixture(name: &str, contents: &[u8]) -> std::fs::File {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "typhoon-httpserver-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, contents).expect("fixture");
    let file = std::fs::File::open(&path).expect("fixture");
    std::fs::remove_file(&path).expect("unlink fixture");
    file
}

/// `BIG_FILE_LEN` bytes of `a`, shared by every test in the process.
fn big_file_fixture() -> &'static std::fs::File {
    static FILE: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let len = usize::try_from(BIG_FILE_LEN).expect("fits");
        unlinked_fixture("big", &vec![b'a'; len])
    })
}

/// A small file the `/file` paths send a range of (bytes 2..12: `cdefghijkl`).
fn file_fixture() -> &'static std::fs::File {
    static FILE: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();
    FILE.get_or_init(|| unlinked_fixture("file", b"abcdefghijklmnopqrstuvwxyz"))
}

fn serve(options: HTTPServerOptions) -> (HTTPServer, SocketAddr) {
    let server = HTTPServer::with_options(app, options);
    let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
    (server, addr)
}

/// A raw response split into its head (with the blank line) and what follows.
fn split_head(all: &[u8]) -> (&[u8], &[u8]) {
    let end = all.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    all.split_at(end)
}
