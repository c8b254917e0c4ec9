//! Bodies streamed both ways through a hosted tower service, over loopback: a request body
//! echoed back as it arrives, a response sent frame by frame, and back-pressure each way
//! (counted in loop turns, never by sleeping).

mod util;

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use typhoon_ioloop::locks::Event;
use typhoon_platform::tower::{RequestBody, route_service};
use typhoon_testing::{AsyncHTTPTestServer, connect, read_response, run_test};
use typhoon_web::Application;
use util::{addr_of, axum_api, turn_loop, write_in_background};

#[test]
fn a_streamed_request_body_is_echoed_back_as_it_arrives() {
    run_test(async {
        let app = Application::new(vec![route_service("/api/.*", axum_api())]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = Rc::new(connect(addr_of(&server)).await);
        // 4 MiB: many of the server's chunks, and more than the sockets buffer one way.
        let body: Vec<u8> = (0..4 * 1024 * 1024_u32).map(|i| (i % 251) as u8).collect();
        let head = format!(
            "POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        write_in_background(&stream, head, body.clone());
        let echoed = read_response(&stream, false).await;
        assert_eq!(echoed.status, 200);
        assert_eq!(
            echoed.header("Transfer-Encoding").as_deref(),
            Some("chunked"),
            "streamed, not buffered"
        );
        assert!(echoed.body == body, "the echo differs");

        // A chunked request body, on the same connection.
        let mut chunked = Vec::new();
        for piece in body[..300_000].chunks(70_000) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let head = "POST /api/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        write_in_background(&stream, head.to_owned(), chunked);
        let echoed = read_response(&stream, false).await;
        assert!(echoed.body == body[..300_000], "the chunked echo differs");
    });
}

/// A response body: `first`, then (once `gate` is set) `second`.
struct Gated {
    first: Option<Bytes>,
    gate: Option<Pin<Box<dyn Future<Output = ()>>>>,
    second: Option<Bytes>,
}

impl Body for Gated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if let Some(gate) = self.gate.as_mut() {
            if gate.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.gate = None;
        }
        Poll::Ready(self.second.take().map(|second| Ok(Frame::data(second))))
    }
}

#[test]
fn a_streamed_response_body_goes_out_frame_by_frame() {
    run_test(async {
        let gate = Event::new();
        let opened = gate.clone();
        // Not `Send` (an `Rc` inside): a plain tower service on Typhoon's loop may be.
        let service = tower::service_fn(move |_request: http::Request<RequestBody>| {
            let opened = opened.clone();
            async move {
                let body = Gated {
                    first: Some(Bytes::from_static(b"first,")),
                    gate: Some(Box::pin(async move { opened.wait().await })),
                    second: Some(Bytes::from_static(b"second")),
                };
                Ok::<_, Infallible>(http::Response::new(body))
            }
        });
        let app = Application::new(vec![route_service("/stream", service)]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        stream
            .write(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        // The first frame arrives while the second is held back: it was flushed on its own.
        let head_and_first = stream
            .read_until(b"first,\r\n", Some(64 * 1024))
            .await
            .expect("the first frame, before the second exists");
        let text = String::from_utf8_lossy(&head_and_first);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Transfer-Encoding: chunked\r\n"), "{text}");
        gate.set();
        let rest = stream
            .read_until(b"0\r\n\r\n", Some(64 * 1024))
            .await
            .expect("the rest");
        assert_eq!(rest, b"6\r\nsecond\r\n0\r\n\r\n");
    });
}

/// An endless response body of 1 MiB frames, counting the frames it made. Every other poll it
/// yields to the loop, so that a writer without back-pressure would make a frame every other
/// loop turn rather than never yield.
struct Endless {
    made: Rc<Cell<usize>>,
    yield_next: bool,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.yield_next = !self.yield_next;
        if !self.yield_next {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.made.set(self.made.get() + 1);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'r'; 1 << 20])))))
    }
}

#[test]
fn a_client_that_does_not_read_holds_the_response_body_back() {
    run_test(async {
        let made = Rc::new(Cell::new(0_usize));
        let counter = Rc::clone(&made);
        let endless = tower::service_fn(move |_request: http::Request<RequestBody>| {
            let body = Endless {
                made: Rc::clone(&counter),
                yield_next: false,
            };
            async move { Ok::<_, Infallible>(http::Response::new(body)) }
        });
        let app = Application::new(vec![route_service("/endless", endless)]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = connect(addr_of(&server)).await;
        stream
            .write(b"GET /endless HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        // The client reads nothing: once the sockets' buffers are full (a few MiB on loopback),
        // each flush waits, and the body is not asked for more.
        turn_loop(2000).await;
        let made_while_unread = made.get();
        assert!(made_while_unread >= 1, "the response started");
        assert!(
            made_while_unread < 40,
            "{made_while_unread} MiB made for a client that reads nothing"
        );
        // Reading lets it go on.
        let read = stream.read_bytes(8 << 20, false).await.expect("read");
        assert_eq!(read.len(), 8 << 20);
        turn_loop(200).await;
        assert!(made.get() > made_while_unread, "reading resumed the body");
    });
}

#[test]
fn a_service_that_does_not_read_holds_the_request_body_back() {
    run_test(async {
        let release = Event::new();
        let released = release.clone();
        // Reads one frame, then waits until the test lets it read the rest.
        let slow = tower::service_fn(move |request: http::Request<RequestBody>| {
            let released = released.clone();
            async move {
                let mut body = request.into_body();
                let mut total = match body.frame().await {
                    Some(Ok(frame)) => frame.into_data().map_or(0, |data| data.len()),
                    _ => 0,
                };
                released.wait().await;
                while let Some(frame) = body.frame().await {
                    total += frame?.into_data().map_or(0, |data| data.len());
                }
                Ok::<_, typhoon_platform::tower::TowerError>(http::Response::new(Full::new(
                    Bytes::from(total.to_string()),
                )))
            }
        });
        let app = Application::new(vec![route_service("/slow", slow)]);
        let server = AsyncHTTPTestServer::new(app);
        let stream = Rc::new(connect(addr_of(&server)).await);
        let size = 64_usize << 20;
        let sent = Rc::new(Cell::new(0_usize));
        {
            let (stream, sent) = (Rc::clone(&stream), Rc::clone(&sent));
            typhoon_ioloop::spawn(async move {
                let head =
                    format!("POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n");
                stream.write(head.as_bytes()).await.expect("head");
                let piece = vec![b's'; 256 * 1024];
                while sent.get() < size {
                    stream.write(&piece).await.expect("body");
                    sent.set(sent.get() + piece.len());
                }
            })
            .detach();
        }
        turn_loop(20_000).await;
        let sent_while_held = sent.get();
        assert!(
            sent_while_held < 32 << 20,
            "{sent_while_held} bytes taken from a client while the service reads nothing"
        );
        release.set();
        let response = read_response(&stream, false).await;
        assert_eq!(response.text(), size.to_string());
        assert_eq!(sent.get(), size);
    });
}
