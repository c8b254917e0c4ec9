//! Application data (Tornado's `self.application.db`): typed values stored on the
//! `Application` and reached by every handler through its context.

use std::cell::Cell;
use std::rc::Rc;

use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::util::{fetch, get, run, serve};

/// A counter both handlers share.
struct Hits(Rc<Cell<u32>>);

/// Another type, never stored.
struct Missing;

/// Counts a hit and answers the count.
struct Bump;
impl RequestHandler for Bump {
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let hits = cx.data::<Hits>().ok_or_else(|| HTTPError::new(500))?;
        hits.0.set(hits.0.get() + 1);
        cx.write(hits.0.get().to_string());
        Ok(())
    }
}

/// Reads the count (and reports whether an unstored type is absent).
struct Read;
impl RequestHandler for Read {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let hits = cx
            .data::<Hits>()
            .ok_or_else(|| HTTPError::new(500))?
            .0
            .get();
        let missing = cx.data::<Missing>().is_none();
        cx.write(format!("{hits} {missing}"));
        Ok(())
    }
}

#[test]
fn handlers_share_application_data() {
    run(async {
        let counter = Rc::new(Cell::new(0));
        let app = Application::new(vec![route("/bump", || Bump), route("/read", || Read)])
            .data(Hits(Rc::clone(&counter)));
        assert!(app.get_data::<Hits>().is_some());
        assert!(app.get_data::<Missing>().is_none());
        let (_server, addr) = serve(app);
        assert_eq!(fetch(addr, "POST", "/bump", &[], b"").await.text(), "1");
        assert_eq!(fetch(addr, "POST", "/bump", &[], b"").await.text(), "2");
        let r = get(addr, "/read").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "2 true");
        assert_eq!(counter.get(), 2);
    });
}

#[test]
fn later_data_of_a_type_replaces_earlier() {
    run(async {
        let app = Application::new(vec![route("/read", || Read)])
            .data(Hits(Rc::new(Cell::new(5))))
            .data(Hits(Rc::new(Cell::new(7))));
        let (_server, addr) = serve(app);
        assert_eq!(get(addr, "/read").await.text(), "7 true");
    });
}

#[test]
fn without_data_the_handler_sees_none() {
    run(async {
        let (_server, addr) = serve(Application::new(vec![route("/read", || Read)]));
        assert_eq!(get(addr, "/read").await.status, 500);
    });
}
