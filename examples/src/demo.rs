//! The demo server (the README's main command): a page on the main port linking every web
//! example, each served live by this one process.
//!
//! The main port serves the index, Tornado's hello world (`/hello`) and the sleep experiment's
//! endpoints (`/sync-sleep`, `/async-sleep`, `/executor-sleep`, `/now`). The chat, the upload,
//! the blog and the WebSocket chat keep their own URL layouts (their pages and scripts use
//! absolute paths), so each gets the next port: main + 1, + 2, + 3, + 4 (or free ports when the
//! main port is 0). All of
//! them run on the caller's loop; with `loops > 1` the main port's app runs on that many loops
//! of its own (`SO_REUSEPORT`), so a blocking `/sync-sleep` stalls only the loop it lands on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_iostream::MultiLoopServer;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, handler, route};

use crate::blog::{BlogConfig, Db};
use crate::chat::{ChatConfig, MessageBuffer};
use crate::file_upload::UploadConfig;
use crate::random::random_hex;
use crate::sleep::{AsyncSleepHandler, ExecutorSleepHandler, NowHandler, SyncSleepHandler};

/// What the demo serves, and how.
#[derive(Clone)]
pub struct DemoConfig {
    /// How long the sleep endpoints sleep.
    pub sleep: Duration,
    /// Loops (threads) for the main port's app; 1 runs everything on the caller's loop.
    pub loops: usize,
    /// Where uploads are written.
    pub upload_dir: PathBuf,
    /// The blog author's password.
    pub blog_password: String,
    /// The key that signs the chat's and the blog's cookies.
    pub cookie_secret: String,
    /// TLS for every port (`https://` links), from PEM files.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Debug mode for the chat and the blog (templates reloaded, error chains on 500 pages);
    /// with [`Demo::autoreload`], `--debug`.
    pub debug: bool,
}

impl std::fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoConfig")
            .field("sleep", &self.sleep)
            .field("loops", &self.loops)
            .field("upload_dir", &self.upload_dir)
            .field("tls", &self.tls.is_some())
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

impl DemoConfig {
    /// One-second sleeps, one loop, uploads in a new private directory under the system's temp
    /// directory ([`private_temp_dir`](crate::random::private_temp_dir)), and a random cookie secret and blog password (printed by the example).
    ///
    /// # Errors
    ///
    /// If the upload directory cannot be made.
    pub fn new() -> std::io::Result<Self> {
        let upload_dir = crate::random::private_temp_dir("typhoon-demo-uploads")?;
        Ok(Self {
            sleep: crate::sleep::DEFAULT_SLEEP,
            loops: 1,
            upload_dir,
            blog_password: random_hex(8)?,
            cookie_secret: random_hex(32)?,
            tls: None,
            debug: false,
        })
    }
}

/// Where each part of the demo answers.
#[derive(Debug, Clone)]
pub struct DemoUrls {
    /// The index, hello world and sleep endpoints.
    pub main: String,
    /// The chat.
    pub chat: String,
    /// The upload form.
    pub upload: String,
    /// The blog.
    pub blog: String,
    /// The WebSocket chat.
    pub websocket_chat: String,
}

/// The running demo: its servers and their URLs. Dropping it does not stop them; call
/// [`stop`](Self::stop).
pub struct Demo {
    /// Where everything is.
    pub urls: DemoUrls,
    /// Servers on the caller's loop.
    servers: Vec<HTTPServer>,
    /// The main app's loops, when `loops > 1`.
    loops: Option<MultiLoopServer<HTTPServer>>,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

impl Demo {
    /// Turns on autoreload (`--debug`): when the binary is rebuilt, the process re-executes
    /// itself, and the servers on the caller's loop pass their sockets on and finish their
    /// requests first. The main port's own loops (`loops > 1`) are not passed on: with them,
    /// that port is closed for the moment of the restart.
    ///
    /// # Errors
    ///
    /// As [`typhoon_autoreload::start`].
    pub fn autoreload(&self) -> Result<(), typhoon_autoreload::AutoreloadError> {
        for server in &self.servers {
            typhoon_autoreload::serve(server);
        }
        typhoon_autoreload::start(Duration::from_millis(500))
    }

    /// Stops accepting on every port.
    pub fn stop(self) {
        for server in &self.servers {
            server.stop();
        }
        if let Some(loops) = self.loops {
            loops.stop();
        }
    }
}

/// The index page.
#[derive(Debug)]
pub struct IndexHandler {
    /// Where the other parts answer.
    urls: Rc<DemoUrls>,
    /// The blog author's password, shown on the page (it is a demo on 127.0.0.1).
    blog_password: Rc<str>,
    /// The sleep.
    sleep: Duration,
}

#[handler]
impl RequestHandler for IndexHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        // Links use the host the browser asked for (the bound address may be 0.0.0.0), with
        // each part's own port.
        let host = cx.request().host.clone();
        let u = DemoUrls {
            main: with_host(&self.urls.main, &host),
            chat: with_host(&self.urls.chat, &host),
            websocket_chat: with_host(&self.urls.websocket_chat, &host),
            upload: with_host(&self.urls.upload, &host),
            blog: with_host(&self.urls.blog, &host),
        };
        let u = &u;
        // The password is shown to local visitors only.
        let local = cx
            .request()
            .remote_ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
        let password = if local {
            self.blog_password.to_string()
        } else {
            "(printed where the demo was started)".to_owned()
        };
        let esc = typhoon_escape::xhtml_escape;
        let sleep = format!("{:?}", self.sleep);
        cx.write(format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Typhoon demo</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}}
code{{background:#f3f3f3;padding:0 .2em}} li{{margin:.4em 0}}</style></head>
<body>
<h1>Typhoon demo</h1>
<p>Tornado's design rebuilt in Rust: every page below is served by this one process, on
single-threaded non-blocking event loops.</p>
<ul>
<li><a href="{main}/hello">Hello, world</a>: Tornado's hello world, line for line.</li>
<li>The sleep experiment ({sleep} each):
  <a href="{main}/sync-sleep">A: blocking sleep on the loop</a>,
  <a href="{main}/async-sleep">B: async sleep</a>,
  <a href="{main}/now">C: now</a>,
  <a href="{main}/executor-sleep">D: blocking sleep on the executor</a>.
  Open A, then C in another tab: C waits for A. Open B, then C: C answers at once.</li>
<li><a href="{chat}/">Chat</a>: Tornado's long-polling chat; open it in two browsers.</li>
<li><a href="{websocket_chat}/">WebSocket chat</a>: Tornado's WebSocket chat demo, messages
  pushed to every open page over one socket each (<code>wss://</code> when the demo runs TLS).</li>
<li><a href="{upload}/">File upload</a>: multipart and PUT uploads streamed to disk
  (<code>curl -T bigfile {upload}/upload/bigfile</code>).</li>
<li><a href="{blog}/">Blog</a>: templates, signed-cookie login (author <code>demo</code>,
  password <code>{password}</code>), XSRF-protected forms, entries in SQLite.</li>
</ul>
<p>From a terminal: <code>ab -n 200 -c 40 {main}/async-sleep</code> finishes in about 5 s;
the same on <code>/sync-sleep</code> takes 200.</p>
</body></html>
"#,
            main = esc(&u.main),
            chat = esc(&u.chat),
            websocket_chat = esc(&u.websocket_chat),
            upload = esc(&u.upload),
            blog = esc(&u.blog),
            password = esc(&password),
        ));
        Ok(())
    }
}

/// `url` (`scheme://address:port`) with the host of a `Host` header (`name`, `name:port`,
/// `[v6]:port`) in place of its address; `url` unchanged without one.
fn with_host(url: &str, host_header: &str) -> String {
    let host = if host_header.starts_with('[') {
        host_header.split_inclusive(']').next().unwrap_or_default()
    } else {
        host_header.split(':').next().unwrap_or_default()
    };
    let (Some((scheme, _)), Some((_, port))) = (url.split_once("://"), url.rsplit_once(':')) else {
        return url.to_owned();
    };
    if host.is_empty() {
        return url.to_owned();
    }
    format!("{scheme}://{host}:{port}")
}

/// The main port's application: the index, `/hello`, and the sleep endpoints.
///
/// Sizes the current loop's executor for the sleep experiment
/// ([`EXECUTOR_THREADS`](crate::sleep::EXECUTOR_THREADS)).
pub fn make_main_app(urls: DemoUrls, blog_password: &str, sleep: Duration) -> Application {
    typhoon_ioloop::IOLoop::current().set_executor_threads(crate::sleep::EXECUTOR_THREADS);
    let urls = Rc::new(urls);
    let blog_password: Rc<str> = Rc::from(blog_password);
    Application::new(vec![
        route("/", move || IndexHandler {
            urls: Rc::clone(&urls),
            blog_password: Rc::clone(&blog_password),
            sleep,
        }),
        route("/hello", || crate::helloworld::MainHandler),
        route("/sync-sleep", move || SyncSleepHandler { sleep }),
        route("/async-sleep", move || AsyncSleepHandler { sleep }),
        route("/executor-sleep", move || ExecutorSleepHandler { sleep }),
        route("/now", || NowHandler),
    ])
}

/// The server for `app`, with TLS when configured.
fn server_for(app: &Application, tls: Option<&Arc<rustls::ServerConfig>>) -> HTTPServer {
    let mut options: HTTPServerOptions = app.server_options();
    options.tls = tls.cloned();
    app.clone().into_server_with(options)
}

/// Binds `app` on `address:port` (0: a free port) and returns the server and its address.
fn listen(
    app: &Application,
    tls: Option<&Arc<rustls::ServerConfig>>,
    address: &str,
    port: u16,
) -> std::io::Result<(HTTPServer, SocketAddr)> {
    let server = server_for(app, tls);
    let addr = server
        .listen(port, Some(address))?
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("listen bound no socket"))?;
    Ok((server, addr))
}

/// Starts the demo on the current loop: the chat, upload, blog and WebSocket chat ports first
/// (main + 1, 2, 3, 4, or free ports when `port` is 0), then the main port.
///
/// # Errors
///
/// If a port cannot be bound, the database cannot be opened, or a loop thread cannot start.
pub fn start(address: &str, port: u16, config: &DemoConfig) -> std::io::Result<Demo> {
    let next = |offset: u16| {
        if port == 0 {
            0
        } else {
            port.saturating_add(offset)
        }
    };
    let tls = config.tls.as_ref();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = |addr: SocketAddr| format!("{scheme}://{addr}");

    let chat = crate::chat::make_app(
        ChatConfig {
            cookie_secret: config.cookie_secret.clone(),
            debug: config.debug,
            ..ChatConfig::default()
        },
        &MessageBuffer::new(200),
    );
    let upload = crate::file_upload::make_app(UploadConfig::new(&config.upload_dir));
    let db = Db::open_in_memory().map_err(std::io::Error::other)?;
    let blog = crate::blog::make_app(
        BlogConfig {
            cookie_secret: config.cookie_secret.clone(),
            password: config.blog_password.clone(),
            debug: config.debug,
            ..BlogConfig::default()
        },
        db,
    );
    let (chat_server, chat_addr) = listen(&chat, tls, address, next(1))?;
    let (upload_server, upload_addr) = listen(&upload, tls, address, next(2))?;
    let (blog_server, blog_addr) = listen(&blog, tls, address, next(3))?;
    let websocket_chat = crate::websocket_chat::make_app(
        crate::websocket_chat::WebSocketChatConfig {
            cookie_secret: config.cookie_secret.clone(),
            ..Default::default()
        },
        &crate::websocket_chat::ChatRoom::default(),
    );
    let (websocket_chat_server, websocket_chat_addr) =
        listen(&websocket_chat, tls, address, next(4))?;
    let mut servers = vec![
        chat_server,
        upload_server,
        blog_server,
        websocket_chat_server,
    ];

    // The main port: bound first, so that the index knows its own URL even for port 0.
    let mut urls = DemoUrls {
        main: String::new(),
        chat: url(chat_addr),
        upload: url(upload_addr),
        blog: url(blog_addr),
        websocket_chat: url(websocket_chat_addr),
    };
    let loops = if config.loops > 1 {
        // n loops bind the port themselves; for port 0, find a free one first.
        let chosen = if port == 0 {
            std::net::TcpListener::bind((address, 0))?
                .local_addr()?
                .port()
        } else {
            port
        };
        let main = std::net::ToSocketAddrs::to_socket_addrs(&(address, chosen))?
            .next()
            .map_or_else(|| format!("{scheme}://{address}:{chosen}"), url);
        let index_urls = DemoUrls {
            main,
            ..urls.clone()
        };
        let (password, sleep, tls) = (
            config.blog_password.clone(),
            config.sleep,
            config.tls.clone(),
        );
        let loops = typhoon_iostream::start_loops(config.loops, chosen, address, move || {
            server_for(
                &make_main_app(index_urls.clone(), &password, sleep),
                tls.as_ref(),
            )
        })?;
        urls.main = url(loops.local_addr());
        Some(loops)
    } else {
        let sockets = typhoon_iostream::netutil::bind_sockets(
            port,
            Some(address),
            &typhoon_iostream::netutil::BindOptions::default(),
        )?;
        let addr = sockets
            .first()
            .map(std::net::TcpListener::local_addr)
            .transpose()?
            .ok_or_else(|| std::io::Error::other("binding gave no socket"))?;
        urls.main = url(addr);
        let app = make_main_app(urls.clone(), &config.blog_password, config.sleep);
        let server = server_for(&app, tls);
        server.add_sockets(sockets)?;
        servers.push(server);
        None
    };
    Ok(Demo {
        urls,
        servers,
        loops,
    })
}

#[cfg(test)]
mod tests {
    use super::with_host;

    #[test]
    fn links_take_the_host_the_browser_used() {
        let url = "http://0.0.0.0:8889";
        assert_eq!(
            with_host(url, "example.test:8888"),
            "http://example.test:8889"
        );
        assert_eq!(with_host(url, "example.test"), "http://example.test:8889");
        assert_eq!(with_host(url, "[::1]:8888"), "http://[::1]:8889");
        assert_eq!(
            with_host("https://[::]:9000", "[fe80::1]"),
            "https://[fe80::1]:9000"
        );
        assert_eq!(with_host(url, ""), url);
    }
}
