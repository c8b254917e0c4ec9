//! Static files: `StaticFileHandler`, `static_url`, 304s, large and gzipped files, path
//! traversal, and `send_file` responses cut short. The Range cases are in `static_range.rs`.

use std::path::PathBuf;
use std::time::Duration;

use typhoon_ioloop::timeout;
use typhoon_web::{
    Application, Context, HTTPError, RequestHandler, Settings, StaticFileHandler, route,
};

use crate::gzip::gunzip;
use crate::util::{fetch, get, run, serve};
use crate::{Hello, app_with};

/// A static directory with a few files, a subdirectory, a secret next to it and symlinks.
/// Built once per test process (tests run in parallel and must not see it half-written).
pub(crate) fn static_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(make_static_dir).clone()
}

fn make_static_dir() -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("web-static-{}", std::process::id()));
    let root = base.join("static");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::write(root.join("robots.txt"), "User-agent: *\nDisallow: /\n").expect("write");
    std::fs::write(root.join("a.txt"), "0123456789").expect("write");
    std::fs::write(root.join("sub/index.html"), "<p>index</p>").expect("write");
    std::fs::write(base.join("secret.txt"), "SECRET").expect("write");
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.join("big.bin"), big).expect("write");
    let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    std::fs::write(root.join("big.txt"), text).expect("write");
    let _ = std::os::unix::fs::symlink(base.join("secret.txt"), root.join("escape.txt"));
    let _ = std::os::unix::fs::symlink(&base, root.join("up"));
    let _ = std::os::unix::fs::symlink(root.join("a.txt"), root.join("inside.txt"));
    // Relative symlinks: one leaving the root, one staying in it (the openat2 fast path
    // follows the second itself and hands the first to the portable check).
    let _ = std::os::unix::fs::symlink("../secret.txt", root.join("rel-escape.txt"));
    let _ = std::os::unix::fs::symlink("../../secret.txt", root.join("sub/rel-escape.txt"));
    let _ = std::os::unix::fs::symlink("a.txt", root.join("rel-inside.txt"));
    root
}

fn static_app() -> Application {
    let root = static_dir();
    let sub = root.clone();
    app_with(
        vec![route(r"/index/(.*)", move || {
            StaticFileHandler::with_default_filename(sub.clone(), "index.html")
        })],
        Settings {
            static_path: Some(root),
            ..Settings::default()
        },
    )
}

#[test]
fn static_files() {
    run(async {
        let (_s, addr) = serve(static_app());
        let r = get(addr, "/robots.txt").await;
        assert_eq!(r.status, 200);
        assert!(r.text().starts_with("User-agent"));
        assert_eq!(r.header("Content-Type").as_deref(), Some("text/plain"));
        let r = get(addr, "/static/a.txt").await;
        assert_eq!((r.status, r.text().as_str()), (200, "0123456789"));
        assert!(r.header("Etag").is_some() && r.header("Last-Modified").is_some());
        assert!(r.header("Cache-Control").is_none());
        assert_eq!(
            get(addr, "/static/inside.txt").await.status,
            200,
            "symlink inside the root"
        );
        assert_eq!(
            get(addr, "/static/missing.txt").await.status,
            404,
            "static 404"
        );
        assert_eq!(
            get(addr, "/static/sub").await.status,
            403,
            "directory without default_filename"
        );
        let r = get(addr, "/index/sub").await;
        assert_eq!(
            (r.status, r.header("Location").as_deref()),
            (301, Some("/index/sub/"))
        );
        assert_eq!(get(addr, "/index/sub/").await.text(), "<p>index</p>");
    });
}

#[test]
fn static_url() {
    run(async {
        let app = static_app();
        struct U;
        impl RequestHandler for U {
            async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
                let url = cx.static_url("a.txt")?;
                cx.write(url);
                Ok(())
            }
        }
        app.add_handlers(".*", vec![route("/url", || U)])
            .expect("host");
        let (_s, addr) = serve(app);
        let url = get(addr, "/url").await.text();
        // SHA-256 of "0123456789", first 32 hex digits.
        assert_eq!(url, "/static/a.txt?v=84d89877f0d4041efb6bf91a16f0248f");
        let r = get(addr, &url).await;
        assert_eq!(
            r.header("Cache-Control").as_deref(),
            Some("max-age=315360000")
        );
        assert!(r.header("Expires").is_some());
    });
}

#[test]
fn static_304() {
    run(async {
        let (_s, addr) = serve(static_app());
        let r = get(addr, "/static/a.txt").await;
        let etag = r.header("Etag").expect("etag");
        let modified = r.header("Last-Modified").expect("last-modified");
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[("If-None-Match", &etag)],
            b"",
        )
        .await;
        assert_eq!(r.status, 304, "if none match");
        assert!(r.body.is_empty());
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[("If-Modified-Since", &modified)],
            b"",
        )
        .await;
        assert_eq!(r.status, 304, "if modified since");
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")],
            b"",
        )
        .await;
        assert_eq!(r.status, 200);
        let r = fetch(
            addr,
            "GET",
            "/static/a.txt",
            &[
                ("If-None-Match", "\"other\""),
                ("If-Modified-Since", &modified),
            ],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "If-None-Match wins");
    });
}

#[test]
fn static_large_file_streamed() {
    run(async {
        let (_s, addr) = serve(static_app());
        let r = get(addr, "/static/big.bin").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Length").as_deref(), Some("1000000"));
        assert_eq!(
            r.header("Content-Type").as_deref(),
            Some("application/octet-stream")
        );
        let expected: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        assert!(r.body == expected);
        let r = fetch(
            addr,
            "GET",
            "/static/big.bin",
            &[("Range", "bytes=999990-")],
            b"",
        )
        .await;
        assert_eq!(r.body, expected[999_990..]);
    });
}

#[test]
fn static_file_gzipped_when_compress_response() {
    run(async {
        let root = static_dir();
        let settings = Settings {
            static_path: Some(root.clone()),
            compress_response: true,
            ..Settings::default()
        };
        let (_s, addr) = serve(app_with(vec![], settings));
        let gz = [("Accept-Encoding", "gzip")];
        let r = fetch(addr, "GET", "/static/big.txt", &gz, b"").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Encoding").as_deref(), Some("gzip"));
        assert!(
            r.header("Content-Length").is_none(),
            "the original length must not stay"
        );
        let expected = std::fs::read_to_string(root.join("big.txt")).expect("read");
        assert_eq!(gunzip(&r.body), expected);
        // Not compressible (octet-stream): sent as is, zero-copy.
        let r = fetch(addr, "GET", "/static/big.bin", &gz, b"").await;
        assert!(r.header("Content-Encoding").is_none());
        assert_eq!(r.body.len(), 1_000_000);
    });
}

struct FileAfterText(PathBuf);
impl RequestHandler for FileAfterText {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let file = std::fs::File::open(&self.0)?;
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("<");
        cx.send_file(&file, 2, 5).await?;
        // Writes after the response finished are ignored.
        cx.write("ignored");
        Ok(())
    }
}

#[test]
fn send_file_after_buffered_text() {
    run(async {
        let path = static_dir().join("a.txt");
        let (_s, addr) = serve(app_with(
            vec![route("/", move || FileAfterText(path.clone()))],
            Settings::default(),
        ));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Content-Length").as_deref(), Some("6"));
        assert_eq!(r.body, b"<23456");
    });
}

#[test]
fn path_traversal_protection() {
    // (request path, expected status). Never 200 with the secret.
    const ATTACKS: &[(&str, u16)] = &[
        ("/static/../secret.txt", 403),
        ("/static/..%2fsecret.txt", 403),
        ("/static/%2e%2e/secret.txt", 403),
        ("/static/%2e%2e%2fsecret.txt", 403),
        ("/static/%2E%2E%2Fsecret.txt", 403),
        ("/static/sub/../../secret.txt", 403),
        ("/static/sub/%2e%2e/%2e%2e/secret.txt", 403),
        ("/static/./../secret.txt", 403),
        ("/static//etc/passwd", 403),
        ("/static/%2fetc%2fpasswd", 403),
        ("/static/%2Fetc/passwd", 403),
        ("/static/..", 403),
        ("/static/%2e%2e", 403),
        ("/static/sub/..", 403),
        ("/static/..%5csecret.txt", 403),
        ("/static/sub%5c..%5c..%5csecret.txt", 403),
        ("/static/a.txt%00.png", 403),
        ("/static/escape.txt", 403),
        ("/static/up/secret.txt", 403),
        ("/static/up", 403),
        ("/static/up/", 403),
        ("/static/%252e%252e/secret.txt", 404),
        ("/static/....//secret.txt", 404),
        ("/static/.%2e/secret.txt", 403),
        ("/static/%2e./secret.txt", 403),
        ("/index/../../secret.txt", 403),
        ("/static/rel-escape.txt", 403),
        ("/static/sub/rel-escape.txt", 403),
    ];
    run(async {
        let (_s, addr) = serve(static_app());
        // Symlinks that stay inside the root are served, absolute or relative.
        assert_eq!(
            get(addr, "/static/rel-inside.txt").await.text(),
            "0123456789"
        );
        assert_eq!(get(addr, "/static/inside.txt").await.text(), "0123456789");
        for (path, expected) in ATTACKS {
            let r = get(addr, path).await;
            assert_eq!(r.status, *expected, "{path}");
            assert!(!r.text().contains("SECRET"), "{path} leaked the secret");
        }
    });
}

// ----- responses cut short never look complete ------------------------------------------------

/// `send_file` of a directory: reading fails after the head is promised.
struct DirAsFile;
impl RequestHandler for DirAsFile {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        let file = std::fs::File::open(std::env::temp_dir())?;
        cx.set_header("Content-Type", "text/plain")?;
        cx.write("x".repeat(10));
        cx.send_file(&file, 0, 100_000).await?;
        Ok(())
    }
}

#[test]
fn send_file_read_error_closes_the_connection() {
    for gzip in [true, false] {
        run(async move {
            let settings = Settings {
                compress_response: gzip,
                ..Settings::default()
            };
            let (_s, addr) = serve(app_with(
                vec![route("/dir", || DirAsFile), route("/", || Hello)],
                settings,
            ));
            let stream = typhoon_testing::connect(addr).await;
            stream
                .write(b"GET /dir HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let all = timeout(Duration::from_secs(10), stream.read_until_close())
                .await
                .expect("the connection closes")
                .expect("read");
            let text = String::from_utf8_lossy(&all);
            assert!(
                !text.contains("Hello, world"),
                "gzip={gzip}: the next request is not served: {text}"
            );
            if let Some(length) = text
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
            {
                let body = all.len() - text.find("\r\n\r\n").map_or(all.len(), |i| i + 4);
                assert_ne!(
                    length.parse::<usize>().ok(),
                    Some(body),
                    "gzip={gzip}: a short body must not match its length: {text}"
                );
            }
        });
    }
}
