//! A body that fails to arrive: the handler's error keeps the stream's cause.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_httputil::HTTPInputError;
use typhoon_ioloop::{IOLoop, timeout};
use typhoon_testing::run_test;

#[test]
fn reset_mid_body_keeps_the_stream_error() {
    run_test(async {
        let seen: Rc<RefCell<Option<HTTPInputError>>> = Rc::new(RefCell::new(None));
        let record = Rc::clone(&seen);
        // The handler says when it has read the first half, so the client resets only then.
        let (got_half, half_read) = std::sync::mpsc::channel::<()>();
        let options = HTTPServerOptions {
            stream_request_body: Some(Rc::new(|_| true)),
            ..HTTPServerOptions::default()
        };
        let server = HTTPServer::with_options(
            move |mut request, _response| {
                let record = Rc::clone(&record);
                let got_half = got_half.clone();
                async move {
                    let mut reader = request.body_reader().expect("streamed");
                    loop {
                        match reader.next_chunk().await {
                            Ok(Some(_)) => {
                                let _ = got_half.send(());
                            }
                            Ok(None) => break,
                            Err(error) => {
                                *record.borrow_mut() = Some(error);
                                break;
                            }
                        }
                    }
                }
            },
            options,
        );
        let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
        // Half a body, then a reset (SO_LINGER 0), from a blocking client on the pool.
        IOLoop::current()
            .run_in_executor(move || {
                let socket =
                    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                        .expect("socket");
                socket.connect(&addr.into()).expect("connect");
                let mut stream: std::net::TcpStream = socket.into();
                stream
                    .write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhalf")
                    .expect("write");
                half_read
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the server read the first half");
                socket2::SockRef::from(&stream)
                    .set_linger(Some(Duration::ZERO))
                    .expect("linger");
            })
            .await
            .expect("client");
        timeout(Duration::from_secs(10), server.connections_closed())
            .await
            .expect("closed");
        let seen = seen.borrow();
        assert!(
            matches!(
                &*seen,
                Some(HTTPInputError::IncompleteBody { source: Some(_) })
            ),
            "{seen:?}"
        );
    });
}
