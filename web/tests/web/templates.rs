//! Templates: `render` with the per-request namespace and the globals.

use typhoon_web::{Context, HTTPError, RequestHandler, Settings, route};

use crate::app_with;
use crate::static_files::static_dir;
use crate::util::{get, run, serve};

#[test]
fn render_template() {
    struct Page;
    impl RequestHandler for Page {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.render("page.html", typhoon_template::context! { name => "<b>" })?;
            Ok(())
        }
    }
    run(async {
        let loader = typhoon_template::Loader::with_templates([(
            "page.html",
            "{{ name }}|{{ xsrf_form_html }}|{{ reverse_url('page', '5') }}|{{ request.path }}|{{ static_url('a.txt') }}",
        )]);
        let dir = static_dir();
        let settings = Settings {
            templates: Some(loader),
            xsrf_cookies: true,
            static_path: Some(dir),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(
            vec![route(r"/page/([0-9]+)", || Page).name("page")],
            settings,
        ));
        let r = get(addr, "/page/1").await;
        let text = r.text();
        let parts: Vec<&str> = text.split('|').collect();
        assert_eq!(parts[0], "&lt;b&gt;");
        assert!(
            parts[1].starts_with("<input type=\"hidden\" name=\"_xsrf\" value=\"2"),
            "{text}"
        );
        assert!(text.contains("/page/5"), "{text}");
        assert!(text.contains("/page/1"), "{text}");
        assert!(text.contains("/static/a.txt?v="), "{text}");
        assert!(r.cookie("_xsrf").is_some());
    });
}

/// Tornado's template namespace: `request` (headers in any case, arguments, cookies),
/// `handler` with its getters, and `xsrf_form_html()` callable as well as printable.
#[test]
fn the_namespace_has_the_request_and_the_handler() {
    struct Page;
    impl RequestHandler for Page {
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.render("page.html", ())?;
            Ok(())
        }
    }
    run(async {
        let loader = typhoon_template::Loader::with_templates([(
            "page.html",
            "{{ request.method }} {{ request.path }} {{ request.headers['x-probe'] }} \
             {{ request.headers.get('X-None', 'none') }} {{ request.arguments.q }} \
             {{ request.query_arguments.q }} {{ request.body_arguments.b }} {{ request.cookies.c }}|\
             {{ handler.get_argument('q') }} {{ handler.get_argument('b') }} \
             {{ handler.get_argument('missing', 'default') }} {{ handler.get_arguments('q') }} \
             {{ handler.get_cookie('c') }} {{ handler.path_args[0] }} {{ handler.request.uri }}|\
             {{ xsrf_form_html() == xsrf_form_html|string }}",
        )]);
        let settings = Settings {
            templates: Some(loader),
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![route(r"/page/([0-9]+)", || Page)], settings));
        let r = crate::util::fetch(
            addr,
            "POST",
            "/page/7?q=1&q=%20two%20",
            &[
                ("X-Probe", "seen"),
                ("Cookie", "c=cookie"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            b"b=body",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            r.text(),
            "POST /page/7 seen none [&#x27;1&#x27;, &#x27;two&#x27;] \
             [&#x27;1&#x27;, &#x27;two&#x27;] [&#x27;body&#x27;] cookie|\
             two body default [&#x27;1&#x27;, &#x27;two&#x27;] cookie 7 /page/7?q=1&amp;q=%20two%20|\
             True"
        );
    });
}

/// `get_template_namespace` adds to and replaces the defaults, and the render's own
/// context wins over it (Tornado: `namespace.update(kwargs)`).
#[test]
fn get_template_namespace_adds_and_replaces() {
    struct Site(&'static str);
    struct Page;
    impl RequestHandler for Page {
        fn get_template_namespace(cx: &Context, namespace: &mut typhoon_template::Namespace) {
            let site = cx.data::<Site>().map_or("?", |site| site.0);
            namespace.insert("site", site);
            namespace.insert("current_user", "from the hook");
            namespace.insert("title", "hook title");
        }
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let html = cx.render_string(
                "page.html",
                typhoon_template::context! { title => "ctx title" },
            )?;
            cx.write(html);
            Ok(())
        }
    }
    run(async {
        let loader = typhoon_template::Loader::with_templates([(
            "page.html",
            "{{ site }}|{{ current_user }}|{{ title }}|{{ request.path }}",
        )]);
        let settings = Settings {
            templates: Some(loader),
            ..Settings::default()
        };
        let app = app_with(vec![route("/", || Page)], settings).data(Site("Typhoon blog"));
        let (_s, addr) = serve(app);
        assert_eq!(
            get(addr, "/").await.text(),
            "Typhoon blog|from the hook|ctx title|/"
        );
    });
}
