//! The `chat` example end to end in headless Chromium: two browsers sign in, and each sees the
//! other's messages through the long-poll.
//!
//! The test serves the chat in-process on a free port, starts `chromedriver` as a child process
//! and speaks the W3C WebDriver protocol (JSON over HTTP) to it with `typhoon-httpclient`.
//! It needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `apt-get install -y
//! chromium chromium-driver`), so it is ignored by default; run it with
//! `cargo test -p typhoon-examples --test chat_browser -- --ignored`.

#[path = "browser/mod.rs"]
mod browser;

use std::time::Duration;

use serde_json::Value;
use typhoon_examples::chat::{ChatConfig, MessageBuffer, make_app};
use typhoon_httpclient::AsyncHTTPClient;
use typhoon_testing::{AsyncHTTPTestServer, run_test_with_timeout};

use crate::browser::{ChromeDriver, Session, WebDriver};

/// What the chat's pages can be asked.
trait ChatPage {
    async fn wait_for_message(&self, from: &str, text: &str);
    async fn sign_in(&self, chat: &AsyncHTTPTestServer, name: &str);
    async fn say(&self, text: &str);
    async fn message_count(&self) -> Value;
}

impl ChatPage for Session<'_> {
    /// Waits until the inbox shows a message with exactly `text` (after the `name: ` prefix).
    async fn wait_for_message(&self, from: &str, text: &str) {
        let script = format!(
            "return Array.from(document.querySelectorAll('#inbox .message'))\
             .some(m => m.textContent === {:?});",
            format!("{from}: {text}")
        );
        assert!(
            self.wait_for(&script).await,
            "{from}'s message {text:?} never appeared; inbox: {}",
            self.execute("return document.getElementById('inbox').innerHTML;")
                .await
        );
    }

    async fn sign_in(&self, chat: &AsyncHTTPTestServer, name: &str) {
        self.navigate(&chat.get_url("/")).await;
        // Redirected to the sign-in form.
        self.type_into("#name", name).await;
        self.click("#signin").await;
        let user = self.find("#user").await;
        let shown = self
            .command("GET", &format!("/element/{user}/text"), None)
            .await;
        assert_eq!(shown, name);
    }

    async fn say(&self, text: &str) {
        self.type_into("#message", text).await;
        self.click("#post").await;
    }

    async fn message_count(&self) -> Value {
        self.execute("return document.querySelectorAll('#inbox .message').length;")
            .await
    }
}

#[test]
#[ignore = "needs chromium and chromedriver; .ci/run runs it"]
fn two_browsers_see_each_others_messages() {
    run_test_with_timeout(Duration::from_secs(180), async {
        let buffer = MessageBuffer::default();
        let chat = AsyncHTTPTestServer::new(make_app(ChatConfig::default(), &buffer));
        let mut chromedriver = ChromeDriver::start();
        let (profile_a, profile_b) = (chromedriver.profile("ann"), chromedriver.profile("bob"));
        let driver = WebDriver {
            client: AsyncHTTPClient::new(),
            url: chromedriver.url.clone(),
        };
        driver.wait_ready().await;
        let ann = driver.new_session(&profile_a).await;
        let bob = driver.new_session(&profile_b).await;

        ann.sign_in(&chat, "ann").await;
        bob.sign_in(&chat, "bob").await;
        // Both pages' long-polls have reached the server.
        buffer.wait_until_waiting(2).await;

        ann.say("hello from ann").await;
        bob.wait_for_message("ann", "hello from ann").await;
        bob.say("hi ann, <b>bob</b> here").await;
        ann.wait_for_message("bob", "hi ann, <b>bob</b> here").await;
        // Markup typed in a message is text on the page, not markup.
        assert_eq!(
            ann.execute("return document.querySelectorAll('#inbox .message b b').length;")
                .await,
            0
        );
        // Each page shows each message once (its own comes back from the poll too).
        bob.wait_for_message("bob", "hi ann, <b>bob</b> here").await;
        ann.wait_for_message("ann", "hello from ann").await;
        assert_eq!(ann.message_count().await, 2);
        assert_eq!(bob.message_count().await, 2);

        // A page loaded now shows the history, rendered by the template.
        ann.navigate(&chat.get_url("/")).await;
        ann.wait_for_message("bob", "hi ann, <b>bob</b> here").await;
        assert_eq!(ann.message_count().await, 2);

        ann.quit().await;
        bob.quit().await;
        drop(chromedriver);
    });
}
