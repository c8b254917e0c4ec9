//! Port of the parts of Tornado's `tornado/test/template_test.py` that carry over to Jinja
//! syntax, plus the Loader's caching, reload, namespace and error behaviour.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use typhoon_template::{Autoescape, Loader, Namespace, TemplateError, Value, context};

fn dict(templates: &[(&str, &str)]) -> Loader {
    Loader::with_templates(templates.iter().map(|&(n, s)| (n, s)))
}

fn render(loader: &Loader, name: &str, ctx: &[(&str, &str)]) -> String {
    let ctx: std::collections::BTreeMap<&str, &str> = ctx.iter().copied().collect();
    match loader.render(name, ctx) {
        Ok(s) => s,
        Err(e) => panic!("render {name}: {e:?}"),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("typhoon-template-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    fn write(&self, name: &str, source: &str) {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(path, source).expect("write template");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn simple() {
    let loader = dict(&[("t", "Hello {{ name }}!")]);
    assert_eq!(render(&loader, "t", &[("name", "Ben")]), "Hello Ben!");
}

#[test]
fn expressions() {
    let loader = dict(&[("t", "2 + 2 = {{ 2 + 2 }}")]);
    assert_eq!(render(&loader, "t", &[]), "2 + 2 = 4");
}

#[test]
fn comment() {
    let loader = dict(&[("t", "Hello{# TODO i18n #} {{ name }}!")]);
    assert_eq!(render(&loader, "t", &[("name", "Ben")]), "Hello Ben!");
}

#[test]
fn include() {
    let loader = dict(&[
        ("index.html", r#"{% include "header.html" %}\nbody text"#),
        ("header.html", "header text"),
    ]);
    assert_eq!(
        render(&loader, "index.html", &[]),
        "header text\\nbody text"
    );
}

#[test]
fn extends() {
    let loader = dict(&[
        (
            "base.html",
            "<title>{% block title %}default title{% endblock %}</title>\n\
             <body>{% block body %}default body{% endblock %}</body>",
        ),
        (
            "page.html",
            r#"{% extends "base.html" %}{% block title %}page title{% endblock %}{% block body %}page body{% endblock %}"#,
        ),
    ]);
    assert_eq!(
        render(&loader, "page.html", &[]),
        "<title>page title</title>\n<body>page body</body>"
    );
}

#[test]
fn escaping() {
    // Tornado's `{% raw x %}` is `{{ x|safe }}`; `{{! ... }}` literal braces are `{% raw %}`.
    let loader = dict(&[(
        "t.html",
        "{{ x }} {{ x|safe }} {% raw %}{{ x }}{% endraw %}",
    )]);
    assert_eq!(
        render(&loader, "t.html", &[("x", "<b>")]),
        "&lt;b&gt; <b> {{ x }}"
    );
}

#[test]
fn unicode_template() {
    let loader = dict(&[("t", "\u{e9}{{ x }}")]);
    assert_eq!(render(&loader, "t", &[("x", "\u{20ac}")]), "\u{e9}\u{20ac}");
}

#[test]
fn non_ascii_name() {
    let loader = dict(&[("t\u{e9}st.html", "hello")]);
    assert_eq!(render(&loader, "t\u{e9}st.html", &[]), "hello");
}

#[test]
fn custom_namespace() {
    let mut loader = dict(&[("t", "{{ inc(5) }}")]);
    loader.add_global("inc", Value::from_function(|x: i64| x + 1));
    assert_eq!(render(&loader, "t", &[]), "6");
}

#[test]
fn apply() {
    // `{% apply upper %}...{% end %}` becomes `{% filter upper %}...{% endfilter %}`.
    let loader = dict(&[("t", "{% filter upper %}hello {{ name }}{% endfilter %}")]);
    assert_eq!(render(&loader, "t", &[("name", "ben")]), "HELLO BEN");
}

#[test]
fn if_() {
    let loader = dict(&[("t", "{% if x > 4 %}yes{% else %}no{% endif %}")]);
    let out = |x: i64| {
        loader
            .render("t", context! { x })
            .unwrap_or_else(|e| panic!("{e:?}"))
    };
    assert_eq!(out(5), "yes");
    assert_eq!(out(3), "no");
}

#[test]
fn multi_includes() {
    let loader = dict(&[
        ("a.html", r#"{% include "b.html" %}"#),
        ("b.html", r#"{% include "c.html" %}"#),
        ("c.html", "{{ 1 + 1 }}"),
    ]);
    assert_eq!(render(&loader, "a.html", &[]), "2");
}

// ---- errors carry template name and line (StackTraceTest) ----

#[test]
fn error_line_number_expression() {
    let loader = dict(&[("test.html", "one\ntwo{{ 1 / none_thing.x.y }}\nthree")]);
    let err = loader
        .render("test.html", ())
        .expect_err("undefined attribute of undefined");
    assert!(
        matches!(err, TemplateError::Render { ref name, line: Some(2), .. } if name == "test.html"),
        "{err:?}"
    );
}

#[test]
fn error_line_number_directive() {
    let loader = dict(&[(
        "test.html",
        "one\ntwo{% if no_such_function() %}\nthree{% endif %}",
    )]);
    let err = loader
        .render("test.html", ())
        .expect_err("unknown function");
    assert!(
        matches!(err, TemplateError::Render { ref name, line: Some(2), .. } if name == "test.html"),
        "{err:?}"
    );
}

#[test]
fn error_line_number_include() {
    let loader = dict(&[
        ("base.html", "{% include 'sub.html' %}"),
        ("sub.html", "\n{{ 1 / 0 }}"),
    ]);
    let err = loader
        .render("base.html", ())
        .expect_err("division by zero");
    assert!(
        matches!(err, TemplateError::Render { ref name, line: Some(2), .. } if name == "sub.html"),
        "{err:?}"
    );
}

#[test]
fn error_line_number_extends_base_error() {
    let loader = dict(&[
        ("base.html", "\n{{ 1 / 0 }}"),
        ("sub.html", "{% extends 'base.html' %}"),
    ]);
    let err = loader.render("sub.html", ()).expect_err("division by zero");
    assert_eq!(err.name(), "base.html");
    assert_eq!(err.line(), Some(2));
}

#[test]
fn error_line_number_extends_sub_error() {
    let loader = dict(&[
        ("base.html", "{% block 'block' %}{% endblock %}"),
        (
            "sub.html",
            "{% extends 'base.html' %}{% block block %}\n\n{{ 1 / 0 }}\n{% endblock %}",
        ),
    ]);
    // minijinja rejects the quoted block name: a syntax error in base.html.
    let err = loader.render("sub.html", ()).expect_err("bad base");
    assert!(
        matches!(err, TemplateError::Syntax { ref name, .. } if name == "base.html"),
        "{err:?}"
    );
    let loader = dict(&[
        ("base.html", "{% block block %}{% endblock %}"),
        (
            "sub.html",
            "{% extends 'base.html' %}{% block block %}\n\n{{ 1 / 0 }}\n{% endblock %}",
        ),
    ]);
    let err = loader.render("sub.html", ()).expect_err("division by zero");
    assert!(
        matches!(err, TemplateError::Render { ref name, line: Some(3), .. } if name == "sub.html"),
        "{err:?}"
    );
}

#[test]
fn syntax_error_names_template_and_line() {
    let loader = dict(&[("bad.html", "ok\nok\n{% for %}")]);
    let err = loader.load("bad.html").expect_err("syntax error");
    assert!(
        matches!(err, TemplateError::Syntax { ref name, line: Some(3), .. } if name == "bad.html"),
        "{err:?}"
    );
    assert!(err.to_string().contains("bad.html"));
}

#[test]
fn missing_template_is_not_found() {
    let loader = dict(&[("page.html", "{% extends 'gone.html' %}")]);
    let err = loader.render("nope.html", ()).expect_err("missing");
    assert!(
        matches!(err, TemplateError::NotFound { ref name, referenced_from: None, .. } if name == "nope.html"),
        "{err:?}"
    );
    let err = loader.render("page.html", ()).expect_err("missing parent");
    assert!(
        matches!(err, TemplateError::NotFound { ref name, referenced_from: Some(ref from), .. } if name == "gone.html" && from == "page.html"),
        "{err:?}"
    );
}

// ---- autoescape (AutoEscapeTest) ----

fn autoescape_templates() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "escaped.html",
            "{% autoescape true %}{{ name }}{% endautoescape %}",
        ),
        (
            "unescaped.html",
            "{% autoescape false %}{{ name }}{% endautoescape %}",
        ),
        ("default.html", "{{ name }}"),
        ("default.txt", "{{ name }}"),
        (
            "include.html",
            "escaped: {% include 'escaped.html' %}\nunescaped: {% include 'unescaped.html' %}\ndefault: {% include 'default.html' %}\n",
        ),
        (
            "escaped_extends_unescaped.html",
            "{% autoescape false %}base: {{ name }}{% endautoescape %}",
        ),
        ("base.txt", "base: {% block b %}{{ name }}{% endblock %}"),
        (
            "escaped_overrides_unescaped.html",
            "{% extends 'base.txt' %}{% block b %}extended: {{ name }}{% endblock %}",
        ),
    ]
}

#[test]
fn default_by_extension() {
    let loader = dict(&autoescape_templates());
    let name = [("name", "Bobby <table>s")];
    assert_eq!(
        render(&loader, "escaped.html", &name),
        "Bobby &lt;table&gt;s"
    );
    assert_eq!(render(&loader, "unescaped.html", &name), "Bobby <table>s");
    assert_eq!(
        render(&loader, "default.html", &name),
        "Bobby &lt;table&gt;s"
    );
    assert_eq!(render(&loader, "default.txt", &name), "Bobby <table>s");
    assert_eq!(
        render(&loader, "include.html", &name),
        "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby &lt;table&gt;s\n"
    );
}

#[test]
fn default_off() {
    let mut loader = dict(&autoescape_templates());
    loader.set_autoescape(Autoescape::Never);
    let name = [("name", "Bobby <table>s")];
    assert_eq!(
        render(&loader, "escaped.html", &name),
        "Bobby &lt;table&gt;s"
    );
    assert_eq!(render(&loader, "default.html", &name), "Bobby <table>s");
}

#[test]
fn default_on() {
    let mut loader = dict(&autoescape_templates());
    loader.set_autoescape(Autoescape::Always);
    let name = [("name", "Bobby <table>s")];
    assert_eq!(
        render(&loader, "default.txt", &name),
        "Bobby &lt;table&gt;s"
    );
    assert_eq!(render(&loader, "unescaped.html", &name), "Bobby <table>s");
}

#[test]
fn extended_block() {
    let loader = dict(&autoescape_templates());
    let name = [("name", "<script>")];
    assert_eq!(
        render(&loader, "escaped_extends_unescaped.html", &name),
        "base: <script>"
    );
    // A block is escaped by the rules of the template that defines it.
    assert_eq!(
        render(&loader, "escaped_overrides_unescaped.html", &name),
        "base: extended: &lt;script&gt;"
    );
}

#[test]
fn autoescape_matches_xhtml_escape() {
    let loader = dict(&[("t.html", "{{ x }}")]);
    let x = r#"a/b <c> & "d" 'e'"#;
    assert_eq!(
        render(&loader, "t.html", &[("x", x)]),
        typhoon_escape::xhtml_escape(x)
    );
    assert_eq!(
        render(&loader, "t.html", &[("x", x)]),
        "a/b &lt;c&gt; &amp; &quot;d&quot; &#x27;e&#x27;"
    );
}

// ---- Tornado's default namespace ----

#[test]
fn default_namespace_functions_and_filters() {
    let loader = dict(&[
        (
            "f.txt",
            "{{ escape(x) }}|{{ xhtml_escape(x) }}|{{ url_escape(x) }}|{{ url_escape(x, false) }}|{{ squeeze(s) }}|{{ linkify(u) }}",
        ),
        (
            "g.txt",
            "{{ x|escape }}|{{ x|e }}|{{ x|url_escape }}|{{ x|url_escape(plus=false) }}|{{ s|squeeze }}|{{ u|linkify(shorten=true, extra_params='rel=\"x\"') }}",
        ),
        (
            "h.html",
            "{{ escape(x) }}|{{ u|linkify }}|{{ x|url_escape }}",
        ),
    ]);
    let ctx = [
        ("x", "a b/<&>"),
        ("s", "  a \t\n b  "),
        ("u", "go www.a.com/x<y>"),
    ];
    assert_eq!(
        render(&loader, "f.txt", &ctx),
        r#"a b/&lt;&amp;&gt;|a b/&lt;&amp;&gt;|a+b%2F%3C%26%3E|a%20b/%3C%26%3E|a b|go <a href="http://www.a.com/x">www.a.com/x</a>&lt;y&gt;"#
    );
    assert_eq!(
        render(&loader, "g.txt", &ctx),
        r#"a b/&lt;&amp;&gt;|a b/&lt;&amp;&gt;|a+b%2F%3C%26%3E|a%20b/%3C%26%3E|a b|go <a href="http://www.a.com/x" rel="x">www.a.com/x</a>&lt;y&gt;"#
    );
    // Safe outputs are not escaped again in an autoescaped template.
    assert_eq!(
        render(&loader, "h.html", &ctx),
        r#"a b/&lt;&amp;&gt;|go <a href="http://www.a.com/x">www.a.com/x</a>&lt;y&gt;|a+b%2F%3C%26%3E"#
    );
}

#[test]
fn linkify_rejects_unknown_argument() {
    let loader = dict(&[("t", "{{ linkify(u, bogus=1) }}")]);
    assert!(matches!(
        loader.render("t", context! { u => "x" }),
        Err(TemplateError::Render { .. })
    ));
}

#[cfg(feature = "json")]
#[test]
fn json_encode_in_templates() {
    let loader = dict(&[
        ("j.txt", "{{ json_encode(v) }}|{{ v|json_encode }}"),
        (
            "j.html",
            "<script>var v = {{ json_encode(v)|safe }};</script>",
        ),
    ]);
    #[derive(serde::Serialize)]
    struct Ctx {
        v: Vec<&'static str>,
    }
    let ctx = Ctx {
        v: vec!["</script>", "\u{e9}"],
    };
    let out = loader
        .render("j.txt", &ctx)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(out, r#"["<\/script>", "\u00e9"]|["<\/script>", "\u00e9"]"#);
    let out = loader
        .render("j.html", &ctx)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(out, r#"<script>var v = ["<\/script>", "\u00e9"];</script>"#);
}

// ---- per-render namespace (the web crate's hook) ----

#[test]
fn namespace_precedence() {
    let mut loader = dict(&[(
        "t.html",
        "{{ who }} {{ current_user }} {{ xsrf_form_html() }} {{ static_url('a.css') }}",
    )]);
    loader.add_global(
        "static_url",
        Value::from_function(|p: &str| format!("/static/{p}")),
    );
    loader.add_global("who", "global");
    let mut ns = Namespace::new();
    ns.insert("current_user", "ns-user")
        .insert("who", "namespace")
        .insert(
            "xsrf_form_html",
            Value::from_function(|| {
                Value::from_safe_string(r#"<input type="hidden" name="_xsrf" value="t">"#.into())
            }),
        );
    assert_eq!(ns.len(), 3);
    let out = loader
        .render_with("t.html", (), &ns)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        out,
        r#"namespace ns-user <input type="hidden" name="_xsrf" value="t"> /static/a.css"#
    );
    let out = loader
        .render_with("t.html", context! { who => "ctx" }, &ns)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.starts_with("ctx ns-user"), "{out}");
}

// ---- directory loader, caching, debug reload ----

#[test]
fn utf8_in_file() {
    let dir = TempDir::new("utf8");
    dir.write("utf8.html", "H\u{e9}llo\n");
    let loader = Loader::new(&dir.0);
    assert_eq!(loader.root(), Some(dir.0.as_path()));
    assert_eq!(render(&loader, "utf8.html", &[]), "H\u{e9}llo\n");
}

#[test]
fn directory_loader_with_inheritance() {
    let dir = TempDir::new("inherit");
    dir.write("base.html", "<h1>{% block t %}{% endblock %}</h1>");
    dir.write(
        "sub/page.html",
        "{% extends 'base.html' %}{% block t %}{{ x }}{% endblock %}",
    );
    let loader = Loader::new(&dir.0);
    assert_eq!(
        render(&loader, "sub/page.html", &[("x", "<&>")]),
        "<h1>&lt;&amp;&gt;</h1>"
    );
    assert!(matches!(
        loader.render("../escape.html", ()),
        Err(TemplateError::NotFound { .. })
    ));
    assert!(matches!(
        loader.render("missing.html", ()),
        Err(TemplateError::NotFound { .. })
    ));
}

#[test]
fn cached_until_reset_without_debug() {
    let dir = TempDir::new("cache");
    dir.write("t.txt", "one");
    let mut loader = Loader::new(&dir.0);
    assert!(!loader.is_debug());
    assert_eq!(render(&loader, "t.txt", &[]), "one");
    dir.write("t.txt", "two two");
    assert_eq!(
        render(&loader, "t.txt", &[]),
        "one",
        "compiled template is cached"
    );
    loader.reset();
    assert_eq!(render(&loader, "t.txt", &[]), "two two");
}

#[test]
fn debug_reloads_changed_templates() {
    let dir = TempDir::new("reload");
    dir.write("base.txt", "[{% block b %}{% endblock %}]");
    dir.write(
        "t.txt",
        "{% extends 'base.txt' %}{% block b %}one{% endblock %}",
    );
    let mut loader = Loader::new(&dir.0);
    loader.set_debug(true);
    assert_eq!(render(&loader, "t.txt", &[]), "[one]");
    // A different size is a change even where the file system's mtime is coarse.
    dir.write(
        "t.txt",
        "{% extends 'base.txt' %}{% block b %}two two{% endblock %}",
    );
    assert_eq!(render(&loader, "t.txt", &[]), "[two two]");
    dir.write("base.txt", "<<{% block b %}{% endblock %}>>");
    assert_eq!(
        render(&loader, "t.txt", &[]),
        "<<two two>>",
        "parents reload too"
    );
}

#[test]
fn load_then_render_repeatedly() {
    let loader = dict(&[("t", "{{ n }}")]);
    let t = loader.load("t").unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(t.name(), "t");
    for n in 0..3 {
        assert_eq!(
            t.render(context! { n }).unwrap_or_else(|e| panic!("{e:?}")),
            n.to_string()
        );
    }
}

#[test]
fn loader_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Loader>();
    assert_send_sync::<TemplateError>();
}
