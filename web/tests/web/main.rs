//! Integration tests over real loopback sockets, named after Tornado's `web_test.py`: one test
//! binary (one link on 2 cores), one module per topic.

#[path = "../util/mod.rs"]
mod util;

mod app_data;
mod arguments;
mod auth;
mod body_limits;
mod cookies;
mod cors;
mod cross_origin;
mod custom_methods;
mod default_headers;
mod detach;
mod errors;
mod gzip;
mod handler_hooks;
mod locale;
mod log_function;
mod multipart;
mod redirects;
mod responses;
mod send_error;
mod settings;
mod static_files;
mod static_hooks;
mod streaming;
mod templates;
mod timeouts_hooks;
mod ui_modules;
mod xsrf;

use typhoon_web::{Application, Context, HTTPError, RequestHandler, Settings, route};

use crate::util::{get, run, serve};

/// The cookie secret of the tests' applications (and of the Tornado cross-check).
const SECRET: &str = "0123456789abcdef-typhoon-secret";

/// `Hello, world` for GET.
struct Hello;
impl RequestHandler for Hello {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("Hello, world");
        Ok(())
    }
}

/// An application with `routes` and `settings`.
fn app_with(routes: Vec<typhoon_web::Route>, settings: Settings) -> Application {
    Application::with_settings(routes, settings)
}

#[test]
fn hello_world() {
    run(async {
        let (_server, addr) = serve(Application::new(vec![route("/", || Hello)]));
        let r = get(addr, "/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "Hello, world");
        assert_eq!(
            r.header("Content-Type").as_deref(),
            Some("text/html; charset=UTF-8")
        );
        assert!(r.header("Server").is_some() && r.header("Date").is_some());
        assert!(r.header("Etag").is_some());
        let r = get(addr, "/nope").await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.text(),
            "<html><title>404: Not Found</title><body>404: Not Found</body></html>"
        );
    });
}

#[test]
fn multi_loop_application_factory() {
    struct Which;
    impl RequestHandler for Which {
        async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
            let name = std::thread::current().name().unwrap_or("?").to_owned();
            cx.write(name);
            Ok(())
        }
    }
    let servers = typhoon_iostream::start_loops(2, 0, "127.0.0.1", || {
        Application::new(vec![route("/", || Which)]).into_server()
    })
    .expect("start loops");
    let addr = servers.local_addr();
    let names = run(async move {
        let mut names = std::collections::HashSet::new();
        for _ in 0..64 {
            let r = get(addr, "/").await;
            assert_eq!(r.status, 200);
            names.insert(r.text());
        }
        names
    });
    servers.stop();
    assert!(
        names.iter().all(|n| n.starts_with("typhoon-loop-")),
        "{names:?}"
    );
    assert!(
        names.len() > 1,
        "64 connections, one loop served them all: {names:?}"
    );
}
