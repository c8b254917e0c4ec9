//! The tokio bridge from Typhoon's loop: tokio-only futures (timers, sockets, `tokio::spawn`)
//! awaited by Typhoon tasks, panics as errors, cancellation by drop, streams with back-pressure,
//! a runtime of the caller's, and a handler serving a real socket with a bridged call.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use typhoon_ioloop::join_all;
use typhoon_platform::{BridgeError, TokioBridge, run_on_tokio};
use typhoon_testing::{AsyncHTTPTestServer, run_test};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

#[test]
fn tokio_only_futures_run_from_typhoons_loop() {
    run_test(async {
        // A tokio timer, tokio::spawn and a tokio socket pair: each would panic outside a
        // tokio runtime.
        let echoed = run_on_tokio(async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let server = tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.expect("accept");
                let mut buf = [0u8; 5];
                socket.read_exact(&mut buf).await.expect("read");
                socket.write_all(&buf).await.expect("write");
            });
            let mut client = tokio::net::TcpStream::connect(addr).await.expect("connect");
            client.write_all(b"hello").await.expect("write");
            let mut buf = [0u8; 5];
            client.read_exact(&mut buf).await.expect("read");
            server.await.expect("server");
            buf
        })
        .await
        .expect("bridged");
        assert_eq!(&echoed, b"hello");
    });
}

#[test]
fn a_panic_on_tokio_is_an_error_on_typhoon() {
    run_test(async {
        let error = run_on_tokio(async { panic!("boom in tokio") })
            .await
            .expect_err("a panic");
        assert!(
            matches!(&error, BridgeError::Panicked { message } if message == "boom in tokio"),
            "{error:?}"
        );
    });
}

#[test]
fn dropping_the_call_cancels_the_tokio_future() {
    run_test(async {
        let bridge = TokioBridge::new().expect("runtime");
        // Dropped with the tokio future: its drop answers on a channel Typhoon's loop awaits.
        struct Guard(Option<tokio::sync::oneshot::Sender<()>>);
        impl Drop for Guard {
            fn drop(&mut self) {
                if let Some(done) = self.0.take() {
                    let _ = done.send(());
                }
            }
        }
        let (dropped, was_dropped) = tokio::sync::oneshot::channel();
        let (started, has_started) = tokio::sync::oneshot::channel();
        let call = bridge.spawn(async move {
            let _guard = Guard(Some(dropped));
            let _ = started.send(());
            std::future::pending::<()>().await;
        });
        has_started.await.expect("the call started");
        drop(call);
        let cancelled = typhoon_ioloop::timeout(Duration::from_secs(5), was_dropped).await;
        assert!(
            matches!(cancelled, Ok(Ok(()))),
            "the tokio future was dropped"
        );
    });
}

#[test]
fn a_stream_pushes_back_on_its_producer() {
    run_test(async {
        let bridge = TokioBridge::with_worker_threads(2).expect("runtime");
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&sent);
        let mut rows = bridge.stream(2, move |tx| async move {
            for row in 0..100_usize {
                if tx.send(row).await.is_err() {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let mut got = Vec::new();
        while let Some(row) = rows.next().await {
            // At most the channel's two ahead of what was read (and the one in `send`).
            assert!(sent.load(Ordering::SeqCst) <= got.len() + 3, "bounded");
            got.push(row);
            typhoon_ioloop::yield_now().await;
        }
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn a_runtime_of_the_callers_and_many_calls_in_flight() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let bridge = TokioBridge::from_handle(runtime.handle().clone());
    run_test(async move {
        let calls = (0..64_u64).map(|i| bridge.spawn(async move { i * 2 }));
        let results: Vec<u64> = join_all(calls)
            .await
            .into_iter()
            .map(|r| r.expect("ok"))
            .collect();
        assert_eq!(results, (0..64).map(|i| i * 2).collect::<Vec<_>>());
    });
    drop(runtime);
}

/// Awaits a tokio timer on the default bridge, then answers.
struct Bridged;
impl RequestHandler for Bridged {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let n: u64 = cx
            .get_argument_or("n", "1")
            .parse()
            .map_err(|_| HTTPError::new(400))?;
        let doubled = run_on_tokio(async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            n * 2
        })
        .await
        .map_err(|error| HTTPError::with_source(500, error))?;
        cx.write(doubled.to_string());
        Ok(())
    }
}

#[test]
fn a_handler_answers_over_a_socket_with_a_bridged_call() {
    run_test(async {
        let server = AsyncHTTPTestServer::new(Application::new(vec![route("/", || Bridged)]));
        let paths: Vec<String> = (0..10).map(|i| format!("/?n={i}")).collect();
        let responses = join_all(paths.iter().map(|path| server.fetch(path))).await;
        for (i, response) in responses.into_iter().enumerate() {
            let response = response.expect("response");
            assert_eq!(response.code, 200);
            assert_eq!(response.body, (i * 2).to_string().as_bytes());
        }
    });
}
