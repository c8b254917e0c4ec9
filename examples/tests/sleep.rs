//! The `sleep` example's shape, on a server loop of its own (a thread) probed from the test's
//! loop: concurrent async sleeps overlap, blocking sleeps on the loop run one at a time and
//! hold up everything else, and the executor keeps the loop free.
//!
//! Timings are bounds with wide margins, never tight equalities: the machine may be loaded.

use std::time::{Duration, Instant};

use typhoon_examples::sleep;
use typhoon_httpclient::AsyncHTTPClient;
use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::spawn;
use typhoon_iostream::{IOStream, MultiLoopServer};
use typhoon_testing::{connect, run_test_with_timeout};

/// Stops the server's loops when the test ends, passed or failed.
struct Server(Option<MultiLoopServer<HTTPServer>>);

impl Server {
    fn start(loops: usize, sleep: Duration) -> Self {
        Self(Some(
            sleep::start(loops, 0, "127.0.0.1", sleep).expect("start the sleep example"),
        ))
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.0.as_ref().expect("running").local_addr()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(server) = self.0.take() {
            server.stop();
        }
    }
}

fn run<F: std::future::Future<Output = ()> + 'static>(future: F) {
    run_test_with_timeout(Duration::from_secs(30), future);
}

/// GETs `url` on a connection of its own; returns the body and when it was complete.
async fn get(url: String) -> (String, Instant) {
    let response = AsyncHTTPClient::new().fetch(url).await.expect("fetch");
    assert_eq!(response.code, 200);
    (response.text().into_owned(), Instant::now())
}

/// Sends `GET path` on a new connection and returns once the server has flushed the first
/// line of the body (`sleeping ...`): the server is inside the sleep from then on.
async fn start_sleeping(server: &Server, path: &str) -> IOStream {
    let stream = connect(server.addr()).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write(request.as_bytes()).await.expect("write");
    let head = stream
        .read_until(b"\r\n\r\n", Some(64 * 1024))
        .await
        .expect("head");
    assert!(head.starts_with(b"HTTP/1.1 200"), "{head:?}");
    let first = stream
        .read_until(b"\n\r\n", Some(1024))
        .await
        .expect("first chunk");
    assert!(
        String::from_utf8_lossy(&first).contains("sleeping"),
        "{first:?}"
    );
    stream
}

/// Reads the rest of a response started by [`start_sleeping`]; returns it and when it ended.
async fn finish_sleeping(stream: IOStream) -> (String, Instant) {
    let rest = stream.read_until_close().await.expect("rest");
    (String::from_utf8_lossy(&rest).into_owned(), Instant::now())
}

#[test]
fn concurrent_async_sleeps_overlap() {
    let nap = Duration::from_millis(300);
    let server = Server::start(1, nap);
    run(async move {
        let started = Instant::now();
        let requests: Vec<_> = (0..4)
            .map(|_| spawn(get(server.url("/async-sleep"))))
            .collect();
        for request in requests {
            let (body, _) = request.await.expect("request task");
            assert!(body.contains("slept"), "{body}");
        }
        let elapsed = started.elapsed();
        assert!(elapsed >= nap, "{elapsed:?}");
        // Serialised, four would take four sleeps; overlapping, about one.
        assert!(elapsed < nap * 4, "four async sleeps took {elapsed:?}");
    });
}

#[test]
fn blocking_sleeps_on_the_loop_serialise() {
    let nap = Duration::from_millis(300);
    let server = Server::start(1, nap);
    run(async move {
        let started = Instant::now();
        let requests: Vec<_> = (0..2)
            .map(|_| spawn(get(server.url("/sync-sleep"))))
            .collect();
        for request in requests {
            request.await.expect("request task");
        }
        // One thread cannot sleep twice at once: this bound is exact, not a guess.
        let elapsed = started.elapsed();
        assert!(elapsed >= nap * 2, "two blocking sleeps took {elapsed:?}");
    });
}

#[test]
fn blocking_sleep_holds_up_now() {
    let nap = Duration::from_millis(400);
    let server = Server::start(1, nap);
    run(async move {
        let sleeping = start_sleeping(&server, "/sync-sleep").await;
        let asked = Instant::now();
        let rest = spawn(finish_sleeping(sleeping));
        let now = spawn(get(server.url("/now")));
        let (now_body, now_done) = now.await.expect("now task");
        let (rest, _) = rest.await.expect("rest task");
        assert!(rest.contains("slept"), "{rest}");
        assert!(now_body.contains("typhoon-loop-0"), "{now_body}");
        // C waited for (most of) A's sleep: it started before C was asked.
        let waited = now_done - asked;
        assert!(
            waited >= nap / 2,
            "/now answered in {waited:?} during a blocking sleep"
        );
    });
}

#[test]
fn executor_sleep_leaves_the_loop_free() {
    let nap = Duration::from_millis(600);
    let server = Server::start(1, nap);
    run(async move {
        let sleeping = start_sleeping(&server, "/executor-sleep").await;
        let asked = Instant::now();
        let rest = spawn(finish_sleeping(sleeping));
        let now = spawn(get(server.url("/now")));
        let (_, now_done) = now.await.expect("now task");
        let (rest, sleep_done) = rest.await.expect("rest task");
        assert!(rest.contains("slept"), "{rest}");
        // C was answered while D still slept.
        assert!(now_done < sleep_done, "/now waited for the executor sleep");
        let waited = now_done - asked;
        assert!(
            waited < nap,
            "/now took {waited:?} beside an executor sleep"
        );
    });
}

#[test]
fn async_sleep_leaves_the_loop_free() {
    let nap = Duration::from_millis(600);
    let server = Server::start(1, nap);
    run(async move {
        let sleeping = start_sleeping(&server, "/async-sleep").await;
        let rest = spawn(finish_sleeping(sleeping));
        let (_, now_done) = spawn(get(server.url("/now"))).await.expect("now task");
        let (_, sleep_done) = rest.await.expect("rest task");
        assert!(now_done < sleep_done, "/now waited for the async sleep");
    });
}

#[test]
fn several_loops_serve_one_port() {
    let server = Server::start(2, Duration::from_millis(50));
    assert_eq!(server.0.as_ref().map(MultiLoopServer::loops), Some(2));
    run(async move {
        for _ in 0..8 {
            let (body, _) = get(server.url("/now")).await;
            assert!(body.contains("typhoon-loop-"), "{body}");
        }
        let (body, _) = get(server.url("/async-sleep")).await;
        assert!(body.ends_with("slept 50ms\n"), "{body}");
    });
}

#[test]
fn executor_is_sized_for_the_experiment() {
    run(async {
        let _server = sleep::make_server(Duration::from_millis(10));
        assert_eq!(
            typhoon_ioloop::IOLoop::current().executor_threads(),
            sleep::EXECUTOR_THREADS,
            "40 concurrent executor sleeps must not queue"
        );
    });
}
