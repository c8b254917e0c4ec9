//! Request timeouts and the `on_finish` and `on_connection_close` hooks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use typhoon_ioloop::locks::Event;
use typhoon_ioloop::timeout;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::util::{self, get, run, serve};

#[test]
fn request_timeout_503_and_on_finish() {
    struct Slow(Rc<Cell<bool>>);
    impl RequestHandler for Slow {
        async fn get(&mut self, _cx: &mut Context) -> Result<(), HTTPError> {
            std::future::pending::<()>().await;
            Ok(())
        }
        fn on_finish(&mut self, _cx: &mut Context) {
            self.0.set(true);
        }
    }
    run(async {
        let finished = Rc::new(Cell::new(false));
        let flag = Rc::clone(&finished);
        let (_s, addr) = serve(Application::new(vec![
            route("/", move || Slow(Rc::clone(&flag))).timeout(Duration::from_millis(50)),
        ]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 503);
        assert!(finished.get(), "on_finish ran");
    });
}

/// A long-poll handler for GET and POST: logs its method (with the `cursor` argument, which for
/// a POST comes from the body), then waits until the client goes away; the hooks log too.
struct LongPoll {
    /// What happened, in order.
    log: Rc<RefCell<Vec<String>>>,
    /// Set by `on_finish`.
    done: Rc<Event>,
}

impl LongPoll {
    /// The method's entry, then a wait that only the client's close ends.
    async fn poll(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let mut entry = cx.request().method.to_lowercase();
        if let Ok(cursor) = cx.get_argument("cursor") {
            entry = format!("{entry} {cursor}");
        }
        self.log.borrow_mut().push(entry);
        std::future::pending::<()>().await;
        Ok(())
    }
}

impl RequestHandler for LongPoll {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.poll(cx).await
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.poll(cx).await
    }
    fn on_connection_close(&mut self, _cx: &mut Context) {
        self.log.borrow_mut().push("on_connection_close".to_owned());
    }
    fn on_finish(&mut self, _cx: &mut Context) {
        self.log.borrow_mut().push("on_finish".to_owned());
        self.done.set();
    }
}

/// Sends `request` to a [`LongPoll`], closes the connection once the method has started, and
/// checks that the method's entry `first` is followed by both hooks.
async fn close_during_long_poll(request: &[u8], first: &str) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let done = Rc::new(Event::new());
    let (l, d) = (Rc::clone(&log), Rc::clone(&done));
    let (_s, addr) = serve(Application::new(vec![route("/", move || LongPoll {
        log: Rc::clone(&l),
        done: Rc::clone(&d),
    })]));
    let stream = util::connect(addr).await;
    stream.write(request).await.expect("write");
    while log.borrow().is_empty() {
        typhoon_ioloop::yield_now().await;
    }
    stream.close();
    timeout(Duration::from_secs(5), done.wait())
        .await
        .expect("on_finish after close");
    assert_eq!(*log.borrow(), [first, "on_connection_close", "on_finish"]);
}

#[test]
fn connection_close_runs_hooks() {
    run(close_during_long_poll(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "get",
    ));
}

#[test]
fn connection_close_runs_hooks_after_a_request_body() {
    // Requests with a body are streamed to the application, which reads the body itself; the
    // close must still be noticed once the body is read (a long-poll POST, as in the chat demo).
    run(close_during_long_poll(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 8\r\n\r\ncursor=7",
        "post 7",
    ));
}
