//! Tornado's WebSocket chat demo end to end in headless Chromium: two pages open their sockets,
//! and each sees the other's messages, pushed over WebSocket; a page loaded later shows the
//! history. Ignored by default (it needs chromium and chromedriver); `.ci/run` runs it with
//! `cargo test -p typhoon-examples --test websocket_chat_browser -- --ignored`.

#[path = "browser/mod.rs"]
mod browser;

use std::time::Duration;

use typhoon_examples::websocket_chat::{ChatRoom, WebSocketChatConfig, make_app};
use typhoon_httpclient::AsyncHTTPClient;
use typhoon_testing::{AsyncHTTPTestServer, run_test_with_timeout};

use crate::browser::{ChromeDriver, Session, WebDriver};

/// Waits until the page's inbox shows a message with exactly `text`.
async fn wait_for_message(page: &Session<'_>, text: &str) {
    let script = format!(
        "return Array.from(document.querySelectorAll('#inbox .message'))\
         .some(m => m.textContent === {text:?});"
    );
    assert!(
        page.wait_for(&script).await,
        "message {text:?} never appeared; inbox: {}",
        page.execute("return document.getElementById('inbox').innerHTML;")
            .await
    );
}

/// Types `text` and posts it (over the page's socket).
async fn say(page: &Session<'_>, text: &str) {
    page.type_into("#message", text).await;
    page.click("#post").await;
}

#[test]
#[ignore = "needs chromium and chromedriver; .ci/run runs it"]
fn two_browsers_see_each_others_messages_over_websocket() {
    run_test_with_timeout(Duration::from_secs(180), async {
        let room = ChatRoom::default();
        let chat = AsyncHTTPTestServer::new(make_app(WebSocketChatConfig::default(), &room));
        let mut chromedriver = ChromeDriver::start();
        let (profile_a, profile_b) = (chromedriver.profile("ann"), chromedriver.profile("bob"));
        let driver = WebDriver {
            client: AsyncHTTPClient::new(),
            url: chromedriver.url.clone(),
        };
        driver.wait_ready().await;
        let ann = driver.new_session(&profile_a).await;
        let bob = driver.new_session(&profile_b).await;

        ann.navigate(&chat.get_url("/")).await;
        bob.navigate(&chat.get_url("/")).await;
        // Both pages' sockets are open on the server.
        room.wait_for_waiters(2).await;

        say(&ann, "hello from ann").await;
        wait_for_message(&bob, "hello from ann").await;
        say(&bob, "hi ann, <b>bob</b> here").await;
        wait_for_message(&ann, "hi ann, <b>bob</b> here").await;
        // Markup typed in a message is text on the page, not markup.
        assert_eq!(
            ann.execute("return document.querySelectorAll('#inbox .message b').length;")
                .await,
            0
        );
        // Each page shows each message once: its own came back over its socket.
        wait_for_message(&ann, "hello from ann").await;
        wait_for_message(&bob, "hi ann, <b>bob</b> here").await;
        let count = "return document.querySelectorAll('#inbox .message').length;";
        assert_eq!(ann.execute(count).await, 2);
        assert_eq!(bob.execute(count).await, 2);

        // A page loaded now shows the history, rendered by the template.
        ann.navigate(&chat.get_url("/")).await;
        wait_for_message(&ann, "hi ann, <b>bob</b> here").await;
        assert_eq!(ann.execute(count).await, 2);

        ann.quit().await;
        bob.quit().await;
        drop(chromedriver);
    });
}
