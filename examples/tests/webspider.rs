//! The `webspider` crawler against a small linked site served by Typhoon on 127.0.0.1:0: it
//! finds exactly the pages linked under the base URL, never leaves it, and records the dead
//! links.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use typhoon_examples::webspider::crawl;
use typhoon_testing::{AsyncHTTPTestServer, run_test};
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

/// Pages under `/docs/`: `/docs/` links to a, b (twice, once with a fragment) and outside;
/// a links to b and c (relative); c links back to the index, to a missing page and to
/// `/outside` (absolute path, not under the base); b has no links.
struct Docs {
    /// Counts every request, to see the spider fetched each page once.
    hits: Rc<Cell<u32>>,
}

impl RequestHandler for Docs {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.hits.set(self.hits.get() + 1);
        let page = cx.path_args().first().cloned().unwrap_or_default();
        let body = match page.as_str() {
            "" => {
                r#"<a href="a.html">a</a> <a href="b.html">b</a> <a href="b.html#part">b again</a>
                     <a href="/outside">out</a> <a href="http://127.0.0.2:1/far">far</a>"#
            }
            "a.html" => r#"<a href="b.html">b</a> <a href='./c.html'>c</a>"#,
            "b.html" => "no links here",
            "c.html" => {
                r#"<a href="/docs/">home</a> <a href="missing.html">gone</a> <a href="../outside">up</a>"#
            }
            _ => return Err(HTTPError::new(404)),
        };
        cx.write(format!("<html><body>{body}</body></html>"));
        Ok(())
    }
}

/// Outside the base URL: the spider must never fetch it.
struct Outside {
    /// Set if fetched.
    hit: Rc<Cell<bool>>,
}

impl RequestHandler for Outside {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        self.hit.set(true);
        cx.write(r#"<a href="/docs/secret.html">secret</a>"#);
        Ok(())
    }
}

#[test]
fn crawls_exactly_the_linked_pages_under_the_base_url() {
    run_test(async {
        let hits = Rc::new(Cell::new(0));
        let outside = Rc::new(Cell::new(false));
        let app = {
            let (hits, outside) = (Rc::clone(&hits), Rc::clone(&outside));
            Application::new(vec![
                route(r"/docs/(.*)", move || Docs {
                    hits: Rc::clone(&hits),
                }),
                route("/outside", move || Outside {
                    hit: Rc::clone(&outside),
                }),
            ])
        };
        let server = AsyncHTTPTestServer::new(app);
        let base = server.get_url("/docs/");
        let found = crawl(&base, 3, Duration::from_secs(20), false)
            .await
            .expect("crawl finished");
        let url = |page: &str| format!("{base}{page}");
        let expected: BTreeSet<String> = ["", "a.html", "b.html", "c.html"].map(url).into();
        assert_eq!(found.fetched, expected);
        assert_eq!(found.dead, BTreeSet::from([url("missing.html")]));
        assert_eq!(
            found.fetching,
            found.fetched.union(&found.dead).cloned().collect()
        );
        assert!(!outside.get(), "the spider left the base URL");
        assert_eq!(hits.get(), 5, "each page under the base fetched once");
    });
}

#[test]
fn a_base_url_that_does_not_answer_is_dead() {
    run_test(async {
        let (listener, port) = typhoon_testing::bind_unused_port();
        drop(listener); // nothing listens there now
        let base = format!("http://127.0.0.1:{port}/");
        let found = crawl(&base, 2, Duration::from_secs(20), false)
            .await
            .expect("crawl finished");
        assert!(found.fetched.is_empty());
        assert_eq!(found.dead, BTreeSet::from([base]));
    });
}
