//! What this crate's features promise, checked with this crate's features alone: run as
//! `cargo test -p typhoon-web --all-features --test features`, so that the workspace's other
//! members cannot turn on, for the lower crates, what `typhoon-web` forgot to forward
//! (`cargo test --workspace` unifies features across members and hides that; `.ci/downstream.sh`
//! checks the same from a crate outside the workspace).

mod util;

use std::io::Write;
use std::path::PathBuf;

use typhoon_httpserver::HTTPServerOptions;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};
use util::{fetch, get, run, serve};

/// `json` with `template`: the templates have `json_encode` (typhoon-template's `json`, which
/// the workspace declares without default features).
#[test]
fn render_json_encode() {
    struct Page;
    impl RequestHandler for Page {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let value = serde_json::json!({ "value": [1, "</b>"] });
            cx.render("data.txt", value)?;
            Ok(())
        }
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("web-features-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("data.txt"), "{{ json_encode(value) }}").expect("write");
    run(async move {
        let settings = Settings {
            template_path: Some(dir),
            ..Settings::default()
        };
        let app = Application::with_settings(vec![route("/", || Page)], settings);
        let (_server, addr) = serve(app);
        let r = get(addr, "/").await;
        assert_eq!((r.status, r.text().as_str()), (200, r#"[1, "<\/b>"]"#));
    });
}

/// `gzip`: `Settings::server.decompress_request` inflates a gzip request body before the
/// handler sees it (typhoon-httpserver's `gzip`, which `typhoon-web/gzip` forwards).
#[test]
fn decompress_request_gzip_body() {
    struct Echo;
    impl RequestHandler for Echo {
        async fn post(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let body = cx.request().body.clone();
            cx.write(body);
            Ok(())
        }
    }
    let plain = "inflated by the server ".repeat(100);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(plain.as_bytes()).expect("gzip");
    let gzipped = encoder.finish().expect("gzip");
    run(async move {
        let settings = Settings {
            server: HTTPServerOptions {
                decompress_request: true,
                ..HTTPServerOptions::default()
            },
            ..Settings::default()
        };
        let app = Application::with_settings(vec![route("/", || Echo)], settings);
        let (_server, addr) = serve(app);
        let headers = [("Content-Encoding", "gzip")];
        let r = fetch(addr, "POST", "/", &headers, &gzipped).await;
        assert_eq!(r.status, 200, "{}", r.head);
        assert!(
            r.body == plain.as_bytes(),
            "the handler saw {} bytes, not the {} inflated ones",
            r.body.len(),
            plain.len()
        );
    });
}
