//! The demo server (the README's main command) over real sockets: the index links every part,
//! and each part answers at its link.

use std::time::{Duration, Instant};

use typhoon_examples::demo::{DemoConfig, start};
use typhoon_httpclient::{AsyncHTTPClient, HTTPRequest};
use typhoon_testing::run_test;

/// The `href`s of a page, in order.
fn links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .collect()
}

#[test]
fn index_links_every_part_and_each_answers() {
    let mut config = DemoConfig::new().expect("config");
    config.sleep = Duration::from_millis(200);
    let upload_dir = config.upload_dir.clone();
    run_test(async move {
        let demo = start("127.0.0.1", 0, &config).expect("start");
        let client = AsyncHTTPClient::new();
        let index = client
            .fetch(format!("{}/", demo.urls.main))
            .await
            .expect("index");
        let page = index.text();
        let hrefs = links(&page);
        assert!(hrefs.len() >= 8, "{hrefs:?}");
        for part in [
            &demo.urls.chat,
            &demo.urls.upload,
            &demo.urls.blog,
            &demo.urls.websocket_chat,
        ] {
            assert!(
                hrefs.iter().any(|h| h.starts_with(part.as_str())),
                "{part} in {hrefs:?}"
            );
        }
        // Every link answers: 200 at once, or for the sleeps after about one sleep; the chat
        // (sign-in first) redirects, which the client follows to its login page.
        for href in &hrefs {
            let started = Instant::now();
            let response = client
                .fetch(HTTPRequest::new(href.as_str()).request_timeout(Duration::from_secs(10)))
                .await
                .unwrap_or_else(|e| panic!("{href}: {e}"));
            assert_eq!(response.code, 200, "{href}");
            if href.ends_with("sleep") {
                assert!(
                    started.elapsed() >= Duration::from_millis(150),
                    "{href} slept"
                );
            }
        }
        let hello = client
            .fetch(format!("{}/hello", demo.urls.main))
            .await
            .expect("hello");
        assert_eq!(hello.text(), "Hello, world");
        assert!(
            page.contains(&config.blog_password),
            "the blog's password is on the page"
        );
        demo.stop();
    });
    let _ = std::fs::remove_dir_all(upload_dir);
}

#[test]
fn main_port_on_two_loops() {
    let mut config = DemoConfig::new().expect("config");
    config.loops = 2;
    let upload_dir = config.upload_dir.clone();
    run_test(async move {
        let demo = start("127.0.0.1", 0, &config).expect("start");
        let client = AsyncHTTPClient::new();
        let index = client
            .fetch(format!("{}/", demo.urls.main))
            .await
            .expect("index");
        assert!(index.text().contains(&format!("{}/hello", demo.urls.main)));
        let now = client
            .fetch(format!("{}/now", demo.urls.main))
            .await
            .expect("now");
        assert!(now.text().contains("typhoon-loop-"), "{}", now.text());
        demo.stop();
    });
    let _ = std::fs::remove_dir_all(upload_dir);
}
