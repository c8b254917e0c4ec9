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
