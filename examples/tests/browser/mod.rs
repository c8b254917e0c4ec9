//! Headless Chromium for the browser tests: a `chromedriver` child process and the W3C WebDriver
//! protocol (JSON over HTTP) spoken to it with `typhoon-httpclient`. Needs `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (Debian: `apt-get install -y chromium chromium-driver`).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use typhoon_httpclient::{AsyncHTTPClient, HTTPRequest};
use typhoon_testing::bind_unused_port;

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// WebDriver's key for an element reference.
pub(crate) const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long the DOM may take to show something (polled, not slept).
pub(crate) const DEADLINE: Duration = Duration::from_secs(15);

/// A `chromedriver` child process in its own process group, which the browsers it starts join;
/// the whole group is killed on drop (also when the test fails before closing its sessions),
/// then the browsers' profile directories are removed.
pub(crate) struct ChromeDriver {
    child: Child,
    /// Where chromedriver listens.
    pub(crate) url: String,
    /// The profiles of the browsers, removed after the browsers are gone.
    profiles: Vec<TempDir>,
}

impl ChromeDriver {
    pub(crate) fn start() -> Self {
        let (listener, port) = bind_unused_port();
        drop(listener);
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (apt-get install -y chromium chromium-driver)");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profiles: Vec::new(),
        }
    }

    /// A new profile directory for a browser, kept until the browsers are gone.
    pub(crate) fn profile(&mut self, name: &str) -> PathBuf {
        let dir = TempDir::new(name);
        let path = dir.0.clone();
        self.profiles.push(dir);
        path
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (`process_group(0)`).
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh Chromium profile directory, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("typhoon-browser-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a profile directory");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends WebDriver commands.
pub(crate) struct WebDriver {
    /// The HTTP client speaking to chromedriver.
    pub(crate) client: AsyncHTTPClient,
    /// Where chromedriver listens.
    pub(crate) url: String,
}

impl WebDriver {
    /// One command; returns the answer's `value`.
    pub(crate) async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut request = HTTPRequest::new(format!("{}{path}", self.url))
            .method(method)
            .request_timeout(Duration::from_secs(60))
            .raise_error(false);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = self.client.fetch(request).await.expect("WebDriver request");
        let answer: Value = serde_json::from_slice(&response.body).expect("WebDriver JSON");
        assert!(
            response.is_success(),
            "WebDriver {method} {path}: {} {answer}",
            response.code
        );
        answer["value"].clone()
    }

    /// Waits until chromedriver answers `/status` as ready (it starts in the background).
    pub(crate) async fn wait_ready(&self) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let request = HTTPRequest::new(format!("{}/status", self.url))
                .connect_timeout(Duration::from_secs(1))
                .raise_error(false);
            if let Ok(response) = self.client.fetch(request).await
                && serde_json::from_slice::<Value>(&response.body)
                    .is_ok_and(|status| status["value"]["ready"] == true)
            {
                return;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            typhoon_ioloop::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new headless Chromium session on its own profile.
    pub(crate) async fn new_session(&self, profile: &Path) -> Session<'_> {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                }
            }
        });
        let value = self.command("POST", "/session", Some(capabilities)).await;
        let id = value["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Session { driver: self, id }
    }
}

/// One browser.
pub(crate) struct Session<'a> {
    driver: &'a WebDriver,
    id: String,
}

impl Session<'_> {
    pub(crate) async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.id);
        self.driver.command(method, &path, body).await
    }

    pub(crate) async fn navigate(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Finds an element by CSS selector, waiting (bounded) for it to appear.
    pub(crate) async fn find(&self, selector: &str) -> String {
        let selector = selector.to_owned();
        let found = self
            .wait_for(&format!("return !!document.querySelector({selector:?});"))
            .await;
        assert!(found, "no element {selector}");
        let value = self
            .command(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": selector })),
            )
            .await;
        match value[ELEMENT].as_str() {
            Some(element) => element.to_owned(),
            None => panic!("no element reference for {selector}: {value}"),
        }
    }

    pub(crate) async fn type_into(&self, selector: &str, text: &str) {
        let element = self.find(selector).await;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub(crate) async fn click(&self, selector: &str) {
        let element = self.find(selector).await;
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    pub(crate) async fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Polls `script` (which returns a boolean) in the page until it is true, within
    /// [`DEADLINE`]; returns whether it became true.
    pub(crate) async fn wait_for(&self, script: &str) -> bool {
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if self.execute(script).await == true {
                return true;
            }
            typhoon_ioloop::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    pub(crate) async fn quit(self) {
        let path = format!("/session/{}", self.id);
        self.driver.command("DELETE", &path, None).await;
    }
}
