//! Redirects: `Context::redirect` and `RedirectHandler`.

use typhoon_web::{Application, Context, HTTPError, RedirectHandler, RequestHandler, route};

use crate::util::{get, run, serve};

#[test]
fn redirect() {
    struct R;
    impl RequestHandler for R {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let status: u16 = cx.get_argument_or("status", "302").parse()?;
            cx.redirect_with_status("/target", status)?;
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || R)]));
        for status in [301, 302, 303, 307, 308] {
            let r = get(addr, &format!("/?status={status}")).await;
            assert_eq!(r.status, status);
            assert_eq!(r.header("Location").as_deref(), Some("/target"));
        }
    });
}

#[test]
fn redirect_handler() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route("/redirect", || RedirectHandler::new("/target")),
            route(r"/a/(.*)/(.*)", || {
                RedirectHandler::new("/b/{1}/{0}").temporary()
            }),
            route(r"/n/(?P<x>.*)", || RedirectHandler::new("/m/{x}")),
        ]));
        let r = get(addr, "/redirect").await;
        assert_eq!(
            (r.status, r.header("Location").as_deref()),
            (301, Some("/target"))
        );
        let r = get(addr, "/redirect?a=1&b=2").await;
        assert_eq!(
            r.header("Location").as_deref(),
            Some("/target?a=1&b=2"),
            "with argument"
        );
        let r = get(addr, "/a/1/2").await;
        assert_eq!(
            (r.status, r.header("Location").as_deref()),
            (302, Some("/b/2/1")),
            "redirect pattern"
        );
        let r = get(addr, "/n/q").await;
        assert_eq!(r.header("Location").as_deref(), Some("/m/q"));
    });
}
