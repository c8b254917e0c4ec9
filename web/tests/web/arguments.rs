//! Arguments: query and body arguments (`get_argument` and its family) and the route's
//! captures, URL-unescaped.

use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

use crate::util::{fetch, get, run, serve};

struct Args;
impl RequestHandler for Args {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let last = cx.get_argument("foo")?;
        let all = cx.get_arguments("foo")?;
        let q = cx.get_query_arguments("foo")?;
        cx.write(format!("{last}|{}|{}", all.join(","), q.len()));
        Ok(())
    }
    async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let body = cx.get_body_arguments("foo")?;
        let query = cx.get_query_arguments("foo")?;
        let all = cx.get_arguments("foo")?;
        let last = cx.get_body_argument("foo")?;
        cx.write(format!(
            "{}|{}|{}|{last}",
            body.join(","),
            query.join(","),
            all.join(",")
        ));
        Ok(())
    }
}

#[test]
fn get_argument() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Args)]));
        let r = get(addr, "/?foo=bar&foo=%20baz%20").await;
        assert_eq!(r.text(), "baz|bar,baz|2");
        let r = get(addr, "/?foo=a%01b").await;
        assert_eq!(r.text(), "a b|a b|1", "control characters become spaces");
        let r = get(addr, "/").await;
        assert_eq!(r.status, 400, "Missing argument");
        let r = get(addr, "/?foo=%ff").await;
        assert_eq!(r.status, 400, "invalid utf-8");
    });
}

#[test]
fn get_body_arguments() {
    run(async {
        let (_s, addr) = serve(Application::new(vec![route("/", || Args)]));
        let r = fetch(
            addr,
            "POST",
            "/?foo=q",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"foo=b1&foo=b2",
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "b1,b2|q|q,b1,b2|b2");
    });
}

#[test]
fn path_args_unescaped_and_named() {
    struct Path;
    impl RequestHandler for Path {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let text = format!("{:?} {:?}", cx.path_args(), cx.path_kwargs().get("id"));
            cx.write(text);
            Ok(())
        }
    }
    run(async {
        let (_s, addr) = serve(Application::new(vec![
            route(r"/str/(?P<id>[^/]+)", || Path),
            route(r"/pos/(.*)/(.*)", || Path),
        ]));
        assert_eq!(get(addr, "/str/a%2Fb+c").await.text(), "[] Some(\"a/b+c\")");
        assert_eq!(
            get(addr, "/pos/%C3%A9/x").await.text(),
            "[\"é\", \"x\"] None"
        );
        assert_eq!(get(addr, "/pos/%ff/x").await.status, 400);
    });
}
