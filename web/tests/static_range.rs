//! `StaticFileHandler` and the `Range` header over a real loopback socket, named after the
//! range tests of Tornado's `web_test.py` (`StaticFileTest`), plus numbers past `i64` that
//! Python's unbounded integers take in their stride.
//!
//! Every case is sent as GET and as HEAD (Tornado's `get_and_head`), which must agree on
//! status, `Content-Length` and `Content-Range`.

mod util;

use std::net::SocketAddr;
use std::path::PathBuf;

use typhoon_web::{Application, Settings};
use util::{Response, fetch, run, serve};

/// Tornado's `static/robots.txt`: 26 bytes.
const ROBOTS: &[u8] = b"User-agent: *\nDisallow: /\n";

fn static_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("web-static-range-{}", std::process::id()));
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::write(root.join("robots.txt"), ROBOTS).expect("write");
        std::fs::write(root.join("empty.txt"), b"").expect("write");
        root
    })
    .clone()
}

fn static_app() -> Application {
    Application::with_settings(
        vec![],
        Settings {
            static_path: Some(static_dir()),
            ..Settings::default()
        },
    )
}

/// GET and HEAD of `path` with `headers`; checks that they agree and returns the GET.
async fn get_and_head(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    let get = fetch(addr, "GET", path, headers, b"").await;
    let head = fetch(addr, "HEAD", path, headers, b"").await;
    assert_eq!(get.status, head.status, "GET and HEAD statuses");
    for name in ["Content-Length", "Content-Range", "Etag", "Accept-Ranges"] {
        assert_eq!(get.header(name), head.header(name), "GET and HEAD {name}");
    }
    assert!(head.body.is_empty(), "HEAD has no body");
    get
}

/// The answer to `Range: range` for robots.txt: `status`, `Content-Range`, and the bytes
/// `body` of the file (`..` for all of it).
fn check_range(
    range: &'static str,
    status: u16,
    content_range: Option<&'static str>,
    body: std::ops::Range<usize>,
) {
    run(async move {
        let (_server, addr) = serve(static_app());
        let r = get_and_head(addr, "/static/robots.txt", &[("Range", range)]).await;
        assert_eq!(r.status, status, "{range:?}: {}", r.head);
        assert_eq!(
            r.header("Content-Range").as_deref(),
            content_range,
            "{range:?}"
        );
        if status == 416 {
            assert_eq!(r.header("Content-Type").as_deref(), Some("text/plain"));
            assert!(r.body.is_empty(), "{range:?}");
        } else {
            assert_eq!(r.body, ROBOTS[body.clone()], "{range:?}");
            let length = body.len().to_string();
            assert_eq!(r.header("Content-Length"), Some(length), "{range:?}");
        }
    });
}

/// One test per case: `name: "Range header" => status, Content-Range, byte range`.
macro_rules! range_tests {
    ($($name:ident: $range:literal => $status:literal, $content_range:expr, $body:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check_range($range, $status, $content_range, $body);
            }
        )*
    };
}

const ALL: std::ops::Range<usize> = 0..26;
const NONE: std::ops::Range<usize> = 0..0;

range_tests! {
    // Tornado's StaticFileTest.
    static_with_range: "bytes=0-9" => 206, Some("bytes 0-9/26"), 0..10;
    static_with_range_full_file: "bytes=0-" => 200, None, ALL;
    static_with_range_full_past_end: "bytes=0-10000000" => 200, None, ALL;
    static_with_range_partial_past_end: "bytes=1-10000000" => 206, Some("bytes 1-25/26"), 1..26;
    static_with_range_end_edge: "bytes=22-" => 206, Some("bytes 22-25/26"), 22..26;
    static_with_range_neg_end: "bytes=-4" => 206, Some("bytes 22-25/26"), 22..26;
    static_with_range_neg_past_start: "bytes=-1000000" => 200, None, ALL;
    static_invalid_range: "asdf" => 200, None, ALL;
    static_unsatisfiable_range_zero_suffix: "bytes=-0" => 416, Some("bytes */26"), NONE;
    static_unsatisfiable_range_invalid_start: "bytes=26" => 416, Some("bytes */26"), NONE;
    static_unsatisfiable_range_end_less_than_start: "bytes=10-3" => 416, Some("bytes */26"), NONE;
    // Typhoon's own: more than one range is not supported, so the whole file.
    static_with_multiple_ranges: "bytes=0-1,3-4" => 200, None, ALL;
    // Numbers at and past i64's ends (the end + 1 and the negated suffix overflowed: a panic,
    // so a 500, in debug builds, and a wrong answer in release builds). Answers are Tornado
    // 6.6.1's for the same file.
    static_with_range_end_i64_max: "bytes=0-9223372036854775807" => 200, None, ALL;
    static_with_range_partial_end_i64_max:
        "bytes=1-9223372036854775807" => 206, Some("bytes 1-25/26"), 1..26;
    static_with_range_neg_end_i64_max: "bytes=-9223372036854775807" => 200, None, ALL;
    static_with_range_neg_end_past_i64: "bytes=-9223372036854775808" => 200, None, ALL;
    static_unsatisfiable_range_suffix_i64_min:
        "bytes=--9223372036854775808" => 416, Some("bytes */26"), NONE;
    static_unsatisfiable_range_start_near_i64_max:
        "bytes=9223372036854775806-9223372036854775807" => 416, Some("bytes */26"), NONE;
    static_unsatisfiable_range_start_past_u64:
        "bytes=99999999999999999999999-" => 416, Some("bytes */26"), NONE;
    static_with_range_end_past_u64:
        "bytes=1-99999999999999999999999" => 206, Some("bytes 1-25/26"), 1..26;
}

#[test]
fn static_head_range() {
    run(async {
        let (_server, addr) = serve(static_app());
        let r = fetch(
            addr,
            "HEAD",
            "/static/robots.txt",
            &[("Range", "bytes=1-4")],
            b"",
        )
        .await;
        assert_eq!(r.status, 206);
        assert!(r.body.is_empty());
        assert_eq!(r.header("Content-Length").as_deref(), Some("4"));
        assert!(r.header("Etag").is_some());
    });
}

#[test]
fn static_range_if_none_match() {
    run(async {
        let (_server, addr) = serve(static_app());
        let etag = fetch(addr, "HEAD", "/static/robots.txt", &[], b"")
            .await
            .header("Etag")
            .expect("etag");
        let headers = [("Range", "bytes=1-4"), ("If-None-Match", etag.as_str())];
        let r = get_and_head(addr, "/static/robots.txt", &headers).await;
        assert_eq!(r.status, 304);
        assert!(r.body.is_empty());
        assert_eq!(r.header("Content-Length"), None);
        assert_eq!(r.header("Etag"), Some(etag));
    });
}

/// An empty file: a range with a start is unsatisfiable, `bytes=` is the whole (empty) file.
#[test]
fn static_range_empty_file() {
    run(async {
        let (_server, addr) = serve(static_app());
        for (range, status) in [("bytes=", 200), ("bytes=0-", 416), ("bytes=-5", 416)] {
            let r = get_and_head(addr, "/static/empty.txt", &[("Range", range)]).await;
            assert_eq!(r.status, status, "{range:?}");
            assert!(r.body.is_empty());
        }
    });
}
