//! UI modules: `{{ module("Name", ...) }}`, their resources gathered into the page, Tornado's
//! `Template` module with `set_resources`, and `get_template_namespace`.

use typhoon_template::{Loader, Namespace, Value};
use typhoon_web::{
    Application, Context, HTTPError, ModuleCall, ModuleError, RequestHandler, Settings, UIModule,
    route,
};

use crate::app_with;
use crate::static_files::static_dir;
use crate::util::{get, run, serve};

/// Renders the template named by `?t=` with `entries=[1, 2]`.
struct Page;
impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let template = cx.get_argument_or("t", "page.html");
        cx.render(&template, typhoon_template::context! { entries => [1, 2] })?;
        Ok(())
    }
}

fn app(templates: &[(&str, &str)]) -> Application {
    let settings = Settings {
        templates: Some(Loader::with_templates(templates.iter().copied())),
        static_path: Some(static_dir()),
        ..Settings::default()
    };
    app_with(vec![route("/", || Page)], settings)
}

/// Tornado's `WSGISafeWebTest.test_uimodule_resources`: `page.html` renders `entry.html`
/// twice through the `Template` module, and `entry.html`'s `set_resources` goes into the page
/// once, in Tornado's places.
#[test]
fn test_uimodule_resources() {
    run(async {
        let (_s, addr) = serve(app(&[
            (
                "page.html",
                "<html><head></head><body>\n{% for e in entries %}\n{{ module(\"Template\", \"entry.html\", entry=e) }}\n{% endfor %}\n</body></html>",
            ),
            (
                "entry.html",
                "{{ set_resources(embedded_css=\".entry { margin-bottom: 1em; }\",\n                 embedded_javascript=\"js_embed()\",\n                 css_files=[\"/base.css\", \"/foo.css\"],\n                 javascript_files=\"/common.js\",\n                 html_head=\"<meta>\",\n                 html_body='<script src=\"/analytics.js\"/>') }}\n<div class=\"entry\">...</div>",
            ),
        ]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.text(),
            "<html><head><link href=\"/base.css\" type=\"text/css\" rel=\"stylesheet\"/><link href=\"/foo.css\" type=\"text/css\" rel=\"stylesheet\"/>\n\
             <style type=\"text/css\">\n.entry { margin-bottom: 1em; }\n</style>\n\
             <meta>\n\
             </head><body>\n\n\n<div class=\"entry\">...</div>\n\n\n<div class=\"entry\">...</div>\n\n\
             <script src=\"/common.js\" type=\"text/javascript\"></script>\n\
             <script type=\"text/javascript\">\n//<![CDATA[\njs_embed()\n//]]>\n</script>\n\
             <script src=\"/analytics.js\"/>\n\
             </body></html>"
        );
    });
}

/// `set_resources` twice for one template with different resources is an error, as in
/// Tornado; the request gets a 500 and the server goes on.
#[test]
fn set_resources_must_agree_for_one_template() {
    run(async {
        let (_s, addr) = serve(app(&[
            (
                "page.html",
                "<html><head></head><body>{% for e in entries %}{{ module('Template', 'entry.html', e=e) }}{% endfor %}</body></html>",
            ),
            ("entry.html", "{{ set_resources(embedded_css='.e' ~ e) }}"),
        ]));
        assert_eq!(get(addr, "/").await.status, 500);
        assert_eq!(get(addr, "/?t=missing.html").await.status, 500);
    });
}

/// A template that renders itself through the `Template` module fails its page (a 500) instead
/// of overflowing the stack, and the server goes on.
#[test]
fn a_module_template_that_calls_itself_is_an_error_not_a_crash() {
    run(async {
        let (_s, addr) = serve(app(&[
            ("page.html", "{{ module('Template', 'again.html') }}"),
            ("again.html", "x{{ module('Template', 'again.html') }}"),
            ("fine.html", "fine"),
        ]));
        assert_eq!(get(addr, "/").await.status, 500);
        assert_eq!(get(addr, "/?t=fine.html").await.text(), "fine");
    });
}

/// A module of the application's own: its arguments (positional and keyword), its own
/// template that calls another module, the request through the namespace, and its files.
struct Entry;
impl UIModule for Entry {
    fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError> {
        let id: u32 = call.arg(0)?;
        let loud: bool = call.kwarg("loud")?.unwrap_or(false);
        let who = call.get_argument("who").unwrap_or_else(|| "nobody".into());
        call.render_string(
            "modules/entry.html",
            typhoon_template::context! { id, loud, who },
        )
    }
    fn css_files(&self) -> Vec<String> {
        vec!["entry.css".into(), "https://cdn.example/x.css".into()]
    }
    fn javascript_files(&self) -> Vec<String> {
        vec!["/entry.js".into()]
    }
    fn embedded_javascript(&self) -> Option<String> {
        Some("entry()".into())
    }
}

/// Used from `Entry`'s template: modules nest.
struct Badge;
impl UIModule for Badge {
    fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError> {
        let label: String = call.arg(0)?;
        Ok(format!("[{label}]"))
    }
    fn javascript_files(&self) -> Vec<String> {
        // Also `Entry`'s: linked once.
        vec!["/entry.js".into(), "/badge.js".into()]
    }
    fn embedded_javascript(&self) -> Option<String> {
        Some("badge()".into())
    }
}

#[test]
fn application_modules_render_nest_and_link_their_files_once() {
    run(async {
        let app = app(&[
            (
                "page.html",
                "<html><head><title>t</title></head><body>{% for e in entries %}{{ module('Entry', e, loud=loop.last) }}{% endfor %}</body></html>",
            ),
            (
                "modules/entry.html",
                "<p>{{ id }}{% if loud %}!{% endif %} for {{ who }} {{ module('Badge', 'new') }}</p>",
            ),
            ("bad.html", "{{ module('Entry', 'not a number') }}"),
            ("unknown.html", "{{ module('Nope') }}"),
            ("fragment.html", "{{ module('Entry', 3) }}"),
        ])
        .ui_module("Entry", || Entry)
        .ui_module("Badge", || Badge);
        let (_s, addr) = serve(app);
        let r = get(addr, "/?who=ana").await;
        assert_eq!(r.status, 200);
        let text = r.text();
        let (head, body) = text.split_once("</head>").expect("a head");
        assert!(
            head.starts_with("<html><head><title>t</title><link href=\"/static/entry.css\""),
            "relative files go through static_url (no ?v= for a missing file): {head}"
        );
        assert!(
            head.ends_with(
                "<link href=\"https://cdn.example/x.css\" type=\"text/css\" rel=\"stylesheet\"/>\n"
            ),
            "{head}"
        );
        assert_eq!(head.matches("entry.css").count(), 1, "linked once: {head}");
        assert_eq!(
            body,
            "<body><p>1 for ana [new]</p><p>2! for ana [new]</p>\
             <script src=\"/entry.js\" type=\"text/javascript\"></script><script src=\"/badge.js\" type=\"text/javascript\"></script>\n\
             <script type=\"text/javascript\">\n//<![CDATA[\nentry()\nbadge()\n//]]>\n</script>\n\
             </body></html>"
        );
        // Errors name the module and fail the page, not the server.
        assert_eq!(get(addr, "/?t=bad.html").await.status, 500);
        assert_eq!(get(addr, "/?t=unknown.html").await.status, 500);
        // A page without </head> or </body> for its modules' resources fails, as in Tornado.
        assert_eq!(get(addr, "/?t=fragment.html&who=ben").await.status, 500);
    });
}

/// Tornado's `UIMethodUIModuleTest.test_ui_method`, for the module half (Typhoon has no
/// `ui_methods`: an application-wide function is a loader global, a per-request one goes in
/// `get_template_namespace`): the module reads the handler's argument.
#[test]
fn ui_method_ui_module_test_test_ui_method() {
    struct MyModule;
    impl UIModule for MyModule {
        fn render(&self, call: &ModuleCall<'_>) -> Result<String, ModuleError> {
            let x: i64 = call.arg(0)?;
            let value = call.get_argument("value").unwrap_or_default();
            Ok(format!("In MyModule({x}) with handler value {value}."))
        }
    }
    struct Handler;
    impl RequestHandler for Handler {
        fn get_template_namespace(cx: &Context, namespace: &mut Namespace) {
            // Tornado's `my_ui_method(handler, x)`, bound to this request.
            let value = cx
                .request()
                .query()
                .strip_prefix("value=")
                .unwrap_or_default()
                .to_owned();
            namespace.insert(
                "my_ui_method",
                Value::from_function(move |x: i64| {
                    format!("In my_ui_method({x}) with handler value {value}.")
                }),
            );
        }
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.render("foo.html", ())?;
            Ok(())
        }
    }
    run(async {
        let settings = Settings {
            templates: Some(Loader::with_templates([(
                "foo.html",
                "{{ my_ui_method(42) }} {{ module('MyModule', 123) }}",
            )])),
            ..Settings::default()
        };
        let app =
            app_with(vec![route("/", || Handler)], settings).ui_module("MyModule", || MyModule);
        let (_s, addr) = serve(app);
        assert_eq!(
            get(addr, "/?value=asdf").await.text(),
            "In my_ui_method(42) with handler value asdf. In MyModule(123) with handler value asdf."
        );
    });
}
