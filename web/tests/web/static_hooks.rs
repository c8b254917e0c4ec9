//! `StaticFileHooks`, Tornado's overridable `StaticFileHandler` methods, and `static_url`
//! with `include_host`/`include_version`: `StaticFileTest`'s URL and content-type cases,
//! `CustomStaticFileTest`, `StaticFileMultiRootTest`, `StaticFileVersionPathTest`, and one test
//! per hook.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use typhoon_web::{
    Application, Context, DefaultStaticFileHooks, HTTPError, RequestHandler, Settings, StaticFile,
    StaticFileHandler, StaticFileHooks, StaticUrlOptions, StaticUrlSettings, route,
};

use crate::app_with;
use crate::util::{capture_logs, fetch, get, run, serve};

/// SHA-256 of `User-agent: *\nDisallow: /\n`, first 32 hex digits.
const ROBOTS_TXT_HASH: &str = "331ea9090db0c9f6f597bd9840fd5b17";

/// A static directory of its own: robots.txt, foo.txt ("bar"), compressed samples, a
/// subdirectory, and a second root for the multi-root hooks. Built once per test process.
fn hooks_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("web-static-hooks-{}", std::process::id()));
        let root = base.join("static");
        let second = base.join("second");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::create_dir_all(&second).expect("mkdir");
        std::fs::write(root.join("robots.txt"), "User-agent: *\nDisallow: /\n").expect("write");
        std::fs::write(root.join("foo.txt"), "bar").expect("write");
        std::fs::write(root.join("hidden.secret"), "SECRET").expect("write");
        std::fs::write(root.join("sample.xml"), "<a/>").expect("write");
        std::fs::write(root.join("sample.xml.gz"), "not really gzip").expect("write");
        std::fs::write(root.join("sample.xml.bz2"), "not really bzip2").expect("write");
        std::fs::write(second.join("only_second.txt"), "second").expect("write");
        std::fs::write(second.join("foo.txt"), "shadowed").expect("write");
        root
    })
    .clone()
}

fn settings() -> Settings {
    Settings {
        static_path: Some(hooks_dir()),
        ..Settings::default()
    }
}

/// Writes `static_url_with(path, options)`; `?include_version=0` and `?include_host=1` set
/// the options (Tornado's `StaticUrlHandler` and `AbsoluteStaticUrlHandler`).
struct StaticUrlHandler;
impl RequestHandler for StaticUrlHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let path = cx.path_args()[0].clone();
        let options = StaticUrlOptions {
            include_host: cx.get_argument_or("include_host", "0") == "1",
            include_version: cx.get_argument_or("include_version", "1") == "1",
        };
        let url = cx.static_url_with(&path, options)?;
        cx.write(url);
        Ok(())
    }
}

fn url_app(app: Application) -> Application {
    app.add_handlers(".*", vec![route("/static_url/(.*)", || StaticUrlHandler)])
        .expect("host pattern");
    app
}

// ----- StaticFileTest ---------------------------------------------------------------------

#[test]
fn static_url() {
    run(async {
        let (_s, addr) = serve(url_app(app_with(vec![], settings())));
        let r = get(addr, "/static_url/robots.txt").await;
        assert_eq!(r.text(), format!("/static/robots.txt?v={ROBOTS_TXT_HASH}"));
    });
}

#[test]
fn absolute_static_url() {
    run(async {
        let (_s, addr) = serve(url_app(app_with(vec![], settings())));
        let r = get(addr, "/static_url/robots.txt?include_host=1").await;
        // The test client sends `Host: 127.0.0.1`.
        assert_eq!(
            r.text(),
            format!("http://127.0.0.1/static/robots.txt?v={ROBOTS_TXT_HASH}")
        );
    });
}

#[test]
fn relative_version_exclusion() {
    run(async {
        let (_s, addr) = serve(url_app(app_with(vec![], settings())));
        let r = get(addr, "/static_url/robots.txt?include_version=0").await;
        assert_eq!(r.text(), "/static/robots.txt");
    });
}

#[test]
fn absolute_version_exclusion() {
    run(async {
        let (_s, addr) = serve(url_app(app_with(vec![], settings())));
        let r = get(
            addr,
            "/static_url/robots.txt?include_version=0&include_host=1",
        )
        .await;
        assert_eq!(r.text(), "http://127.0.0.1/static/robots.txt");
    });
}

#[test]
fn static_files_cacheable() {
    run(async {
        let (_s, addr) = serve(app_with(vec![], settings()));
        let r = get(addr, "/robots.txt?v=12345").await;
        assert!(r.text().contains("Disallow: /"));
        assert!(r.header("Cache-Control").is_some());
        assert!(r.header("Expires").is_some());
        let r = get(addr, "/robots.txt").await;
        assert!(r.header("Cache-Control").is_none() && r.header("Expires").is_none());
    });
}

#[test]
fn static_compressed_files() {
    run(async {
        let (_s, addr) = serve(app_with(vec![], settings()));
        let r = get(addr, "/static/sample.xml.gz").await;
        assert_eq!(
            r.header("Content-Type").as_deref(),
            Some("application/gzip")
        );
        let r = get(addr, "/static/sample.xml.bz2").await;
        assert_eq!(
            r.header("Content-Type").as_deref(),
            Some("application/octet-stream")
        );
        // The uncompressed file still has its own type.
        let r = get(addr, "/static/sample.xml").await;
        let content_type = r.header("Content-Type").unwrap_or_default();
        assert!(
            ["text/xml", "application/xml"].contains(&content_type.as_str()),
            "{content_type}"
        );
    });
}

// ----- StaticFileVersionPathTest, through static_url ----------------------------------------

#[test]
fn static_url_traversal() {
    run(async {
        let (_s, addr) = serve(url_app(app_with(vec![], settings())));
        let r = get(addr, "/static_url/../second/foo.txt").await;
        assert_eq!(r.status, 403);
        let r = get(addr, "/static_url/sub/..%2f..%2fsecond%2ffoo.txt").await;
        assert_eq!(r.status, 403);
    });
}

#[test]
fn static_url_directory() {
    let (text, log) = capture_logs(|| {
        run(async {
            let (_s, addr) = serve(url_app(app_with(vec![], settings())));
            get(addr, "/static_url/sub").await.text()
        })
    });
    assert_eq!(text, "/static/sub", "a directory gets no version");
    assert!(log.contains("could not open static file"), "{log}");
}

// ----- CustomStaticFileTest -------------------------------------------------------------------

/// Tornado's `MyStaticFileHandler`: the version goes inside the file name
/// (`foo.txt` is `/static/foo.42.txt`), and every version is "42".
struct VersionInName;
impl StaticFileHooks for VersionInName {
    fn make_static_url(
        &self,
        settings: &StaticUrlSettings<'_>,
        path: &str,
        _include_version: bool,
    ) -> Result<String, HTTPError> {
        let version = self.get_version(settings, path)?.unwrap_or_default();
        let (before, after) = path.rsplit_once('.').ok_or_else(|| HTTPError::new(404))?;
        Ok(format!("/static/{before}.{version}.{after}"))
    }

    fn parse_url_path<'a>(&self, url_path: &'a str) -> Cow<'a, str> {
        let Some((rest, extension)) = url_path.rsplit_once('.') else {
            return Cow::Borrowed(url_path);
        };
        match rest.rsplit_once('.') {
            Some((name, _version)) => Cow::Owned(format!("{name}.{extension}")),
            None => Cow::Borrowed(url_path),
        }
    }

    fn get_version(
        &self,
        _settings: &StaticUrlSettings<'_>,
        _path: &str,
    ) -> Result<Option<String>, HTTPError> {
        Ok(Some("42".to_owned()))
    }
}

fn custom_app() -> Application {
    url_app(app_with(vec![], settings()).static_hooks(VersionInName))
}

#[test]
fn custom_static_file_test_serve() {
    run(async {
        let (_s, addr) = serve(custom_app());
        let r = get(addr, "/static/foo.42.txt").await;
        assert_eq!((r.status, r.text().as_str()), (200, "bar"));
    });
}

#[test]
fn custom_static_file_test_static_url() {
    run(async {
        let (_s, addr) = serve(custom_app());
        assert_eq!(
            get(addr, "/static_url/foo.txt").await.text(),
            "/static/foo.42.txt"
        );
        // The absolute form goes through the same hooks.
        assert_eq!(
            get(addr, "/static_url/foo.txt?include_host=1").await.text(),
            "http://127.0.0.1/static/foo.42.txt"
        );
    });
}

#[test]
fn custom_static_url_in_templates() {
    struct Page;
    impl RequestHandler for Page {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.render("page.html", ())?;
            Ok(())
        }
    }
    run(async {
        let loader = typhoon_template::Loader::with_templates([(
            "page.html",
            "{{ static_url('foo.txt') }}|{{ static_url('foo.txt', include_host=true) }}",
        )]);
        let settings = Settings {
            templates: Some(loader),
            ..settings()
        };
        let app = app_with(vec![route("/page", || Page)], settings).static_hooks(VersionInName);
        let (_s, addr) = serve(app);
        assert_eq!(
            get(addr, "/page").await.text(),
            "/static/foo.42.txt|http://127.0.0.1/static/foo.42.txt"
        );
    });
}

#[test]
fn static_url_keyword_arguments_in_templates() {
    struct Page;
    impl RequestHandler for Page {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            cx.render("page.html", ())?;
            Ok(())
        }
    }
    run(async {
        let loader = typhoon_template::Loader::with_templates([
            (
                "page.html",
                "{{ static_url('robots.txt', include_host=true) }}|{{ static_url('robots.txt', include_version=false) }}",
            ),
            (
                "typo.html",
                "{{ static_url('robots.txt', include_hots=true) }}",
            ),
        ]);
        struct Typo;
        impl RequestHandler for Typo {
            async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
                cx.render("typo.html", ())?;
                Ok(())
            }
        }
        let settings = Settings {
            templates: Some(loader),
            ..settings()
        };
        let app = app_with(
            vec![route("/page", || Page), route("/typo", || Typo)],
            settings,
        );
        let (_s, addr) = serve(app);
        assert_eq!(
            get(addr, "/page").await.text(),
            format!("http://127.0.0.1/static/robots.txt?v={ROBOTS_TXT_HASH}|/static/robots.txt")
        );
        assert_eq!(get(addr, "/typo").await.status, 500, "unknown keyword");
    });
}

// ----- StaticFileMultiRootTest ------------------------------------------------------------------

/// Tornado's `MultiRootStaticFileHandler`: the first root that has the file, and the root it
/// was found under checked by the default validation.
struct MultiRoot(Vec<PathBuf>);
impl StaticFileHooks for MultiRoot {
    fn get_absolute_path(&self, _root: &Path, path: &str) -> Result<PathBuf, HTTPError> {
        let first = DefaultStaticFileHooks.get_absolute_path(&self.0[0], path)?;
        for root in &self.0 {
            let candidate = DefaultStaticFileHooks.get_absolute_path(root, path)?;
            if candidate.exists() {
                return Ok(candidate);
            }
        }
        Ok(first)
    }

    fn validate_absolute_path(
        &self,
        cx: &mut Context,
        root: &Path,
        absolute_path: &Path,
        default_filename: Option<&str>,
    ) -> Result<Option<StaticFile>, HTTPError> {
        let root = self
            .0
            .iter()
            .find(|r| absolute_path.starts_with(r))
            .map_or(root, PathBuf::as_path);
        DefaultStaticFileHooks.validate_absolute_path(cx, root, absolute_path, default_filename)
    }
}

fn multi_root_app() -> Application {
    let first = hooks_dir();
    let second = first.with_file_name("second");
    app_with(
        vec![route(r"/multi/(.*)", move || {
            StaticFileHandler::new(first.clone())
                .hooks(MultiRoot(vec![first.clone(), second.clone()]))
        })],
        Settings::default(),
    )
}

#[test]
fn first_root() {
    run(async {
        let (_s, addr) = serve(multi_root_app());
        assert_eq!(get(addr, "/multi/foo.txt").await.text(), "bar");
    });
}

#[test]
fn second_root() {
    run(async {
        let (_s, addr) = serve(multi_root_app());
        let r = get(addr, "/multi/only_second.txt").await;
        assert_eq!((r.status, r.text().as_str()), (200, "second"));
    });
}

// ----- one test per hook -------------------------------------------------------------------------

/// Hooks that override one method each, chosen by the field.
#[derive(Default)]
struct Custom {
    cache_time: Option<Duration>,
    content_type: Option<&'static str>,
    extra_header: bool,
    hide_secret: bool,
}

impl StaticFileHooks for Custom {
    fn get_cache_time(
        &self,
        cx: &Context,
        path: &str,
        modified: SystemTime,
        mime_type: &str,
    ) -> Duration {
        match self.cache_time {
            Some(time) => time,
            None => DefaultStaticFileHooks.get_cache_time(cx, path, modified, mime_type),
        }
    }

    fn get_content_type(&self, absolute_path: &Path) -> Cow<'static, str> {
        match self.content_type {
            Some(content_type) => Cow::Borrowed(content_type),
            None => DefaultStaticFileHooks.get_content_type(absolute_path),
        }
    }

    fn set_extra_headers(&self, cx: &mut Context, path: &str) -> Result<(), HTTPError> {
        if self.extra_header {
            cx.set_header("X-Static-Path", path)?;
        }
        Ok(())
    }

    fn validate_absolute_path(
        &self,
        cx: &mut Context,
        root: &Path,
        absolute_path: &Path,
        default_filename: Option<&str>,
    ) -> Result<Option<StaticFile>, HTTPError> {
        if self.hide_secret && absolute_path.extension().is_some_and(|e| e == "secret") {
            return Err(HTTPError::new(404));
        }
        DefaultStaticFileHooks.validate_absolute_path(cx, root, absolute_path, default_filename)
    }
}

/// The static routes with `hooks`, as the application's hooks.
fn app_with_hooks(hooks: Custom) -> Application {
    app_with(vec![], settings()).static_hooks(hooks)
}

#[test]
fn get_cache_time_hook() {
    run(async {
        let hooks = Custom {
            cache_time: Some(Duration::from_secs(3600)),
            ..Custom::default()
        };
        let (_s, addr) = serve(app_with_hooks(hooks));
        let r = get(addr, "/static/foo.txt").await;
        assert_eq!(r.header("Cache-Control").as_deref(), Some("max-age=3600"));
        assert!(r.header("Expires").is_some());
    });
    run(async {
        let hooks = Custom {
            cache_time: Some(Duration::ZERO),
            ..Custom::default()
        };
        let (_s, addr) = serve(app_with_hooks(hooks));
        let r = get(addr, "/static/foo.txt?v=1").await;
        assert!(r.header("Cache-Control").is_none() && r.header("Expires").is_none());
    });
}

#[test]
fn set_extra_headers_hook() {
    run(async {
        let hooks = Custom {
            extra_header: true,
            ..Custom::default()
        };
        let (_s, addr) = serve(app_with_hooks(hooks));
        let r = get(addr, "/static/foo.txt").await;
        assert_eq!(r.header("X-Static-Path").as_deref(), Some("foo.txt"));
        // Set before the 304 check, as Tornado's `set_headers` does.
        let etag = r.header("Etag").expect("etag");
        let r = fetch(
            addr,
            "GET",
            "/static/foo.txt",
            &[("If-None-Match", &etag)],
            b"",
        )
        .await;
        assert_eq!(r.status, 304);
        assert_eq!(r.header("X-Static-Path").as_deref(), Some("foo.txt"));
    });
}

#[test]
fn get_content_type_hook() {
    run(async {
        let hooks = Custom {
            content_type: Some("text/x-custom"),
            ..Custom::default()
        };
        let (_s, addr) = serve(app_with_hooks(hooks));
        let r = get(addr, "/static/foo.txt").await;
        assert_eq!(r.header("Content-Type").as_deref(), Some("text/x-custom"));
        // A 304 carries no Content-Type.
        let etag = r.header("Etag").expect("etag");
        let r = fetch(
            addr,
            "GET",
            "/static/foo.txt",
            &[("If-None-Match", &etag)],
            b"",
        )
        .await;
        assert_eq!(r.status, 304);
        assert!(r.header("Content-Type").is_none());
    });
}

#[test]
fn validate_absolute_path_hook() {
    run(async {
        let (_s, addr) = serve(app_with(vec![], settings()));
        assert_eq!(get(addr, "/static/hidden.secret").await.status, 200);
    });
    run(async {
        let hooks = Custom {
            hide_secret: true,
            ..Custom::default()
        };
        let (_s, addr) = serve(app_with_hooks(hooks));
        // The override is honoured although the default would take the openat2 fast path.
        let r = get(addr, "/static/hidden.secret").await;
        assert_eq!(r.status, 404);
        assert!(!r.text().contains("SECRET"));
        assert_eq!(get(addr, "/static/foo.txt").await.text(), "bar");
        assert_eq!(get(addr, "/static/../second/foo.txt").await.status, 403);
    });
}

/// An override of `validate_absolute_path` that opens the file itself: every path serves
/// foo.txt.
struct AlwaysFoo;
impl StaticFileHooks for AlwaysFoo {
    fn validate_absolute_path(
        &self,
        _cx: &mut Context,
        root: &Path,
        _absolute_path: &Path,
        _default_filename: Option<&str>,
    ) -> Result<Option<StaticFile>, HTTPError> {
        StaticFile::open(root.join("foo.txt")).map(Some)
    }
}

#[test]
fn validate_absolute_path_hook_opens_its_own_file() {
    run(async {
        let root = hooks_dir();
        let (_s, addr) = serve(app_with(
            vec![route(r"/any/(.*)", move || {
                StaticFileHandler::new(root.clone()).hooks(AlwaysFoo)
            })],
            Settings::default(),
        ));
        let r = get(addr, "/any/robots.txt").await;
        assert_eq!((r.status, r.text().as_str()), (200, "bar"));
        assert_eq!(r.header("Content-Length").as_deref(), Some("3"));
    });
}

/// Counts its calls to `get_content_version` and versions every file "v<n>".
#[derive(Default)]
struct CountingVersions(Arc<AtomicUsize>);
impl StaticFileHooks for CountingVersions {
    fn get_content_version(&self, absolute_path: &Path) -> std::io::Result<String> {
        std::fs::metadata(absolute_path)?;
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(format!("v{n}"))
    }
}

#[test]
fn get_content_version_hook() {
    for (debug, expected) in [(false, ["v1", "v1"]), (true, ["v1", "v2"])] {
        let calls = Arc::new(AtomicUsize::new(0));
        let hooks = CountingVersions(Arc::clone(&calls));
        run(async move {
            let settings = Settings {
                debug,
                ..settings()
            };
            let (_s, addr) = serve(url_app(app_with(vec![], settings).static_hooks(hooks)));
            for version in expected {
                assert_eq!(
                    get(addr, "/static_url/foo.txt").await.text(),
                    format!("/static/foo.txt?v={version}"),
                    "debug={debug}"
                );
            }
            // The hooks also serve: a versioned URL is cached for ten years.
            let r = get(addr, "/static/foo.txt?v=v1").await;
            assert_eq!(
                r.header("Cache-Control").as_deref(),
                Some("max-age=315360000")
            );
        });
        assert_eq!(
            calls.load(Ordering::SeqCst),
            expected.len() - usize::from(!debug)
        );
    }
}

#[test]
fn static_handler_debug_and_hooks_type() {
    // The default type parameter: the two spellings are one type.
    let handler: StaticFileHandler<DefaultStaticFileHooks> = StaticFileHandler::new("/srv");
    let debug = format!("{handler:?}");
    assert!(debug.contains("DefaultStaticFileHooks"), "{debug}");
    assert_eq!(handler.root(), Path::new("/srv"));
}

// ----- StaticDefaultFilenameRootTest ------------------------------------------------------------

/// Tornado's `test_no_open_redirect`: the directory redirect of the default
/// `validate_absolute_path` never starts with two slashes (a protocol-relative URL, an open
/// redirect). A route whose pattern swallows the extra slashes reaches it.
#[test]
fn no_open_redirect() {
    run(async {
        let root = hooks_dir();
        let (_s, addr) = serve(app_with(
            vec![route(r"/+(.*)", move || {
                StaticFileHandler::with_default_filename(root.clone(), "index.html")
            })],
            Settings::default(),
        ));
        let r = get(addr, "/sub").await;
        assert_eq!(
            (r.status, r.header("Location").as_deref()),
            (301, Some("/sub/"))
        );
        let r = get(addr, "//sub").await;
        assert_eq!(r.status, 403);
        assert!(r.header("Location").is_none());
    });
}
