//! The seed's hello world through the full web layer, or the bare httpserver callback, for a load
//! tool to compare (issue 6's benchmark: the web layer may cost at most 15% of throughput).
//!
//! `cargo bench` runs nothing (CI builds it with `--no-run`). To measure, build with
//! `cargo bench -p typhoon-web --bench hello --no-run`, then run the binary it names, pinned to
//! one core, once per mode, and point `wrk` (pinned to the other core) at each:
//!
//! ```text
//! taskset -c 0 target/release/deps/hello-* --mode=web  --port=18895 &
//! taskset -c 0 target/release/deps/hello-* --mode=bare --port=18896 &
//! taskset -c 1 wrk -t1 -c50 -d10s http://127.0.0.1:18895/
//! taskset -c 1 wrk -t1 -c50 -d10s http://127.0.0.1:18896/
//! ```

use typhoon_httpserver::HTTPServer;
use typhoon_ioloop::IOLoop;
use typhoon_web::{Application, Context, HTTPError, RequestHandler, route};

struct MainHandler;
impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.write("Hello, world");
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    let arg = |name: &str| {
        std::env::args().find_map(|a| a.strip_prefix(&format!("--{name}=")).map(str::to_owned))
    };
    let Some(mode) = arg("mode") else {
        println!("hello: pass --mode=web|bare [--port=N] to serve (see the file's docs)");
        return Ok(());
    };
    let port: u16 = arg("port").and_then(|p| p.parse().ok()).unwrap_or(18895);
    let ioloop = IOLoop::current();
    let server = if mode == "bare" {
        HTTPServer::new(|_request, mut response| async move {
            let _ = response.set_header("Content-Type", "text/html; charset=UTF-8");
            response.write(b"Hello, world");
        })
    } else {
        Application::new(vec![route("/", || MainHandler)]).into_server()
    };
    server.listen(port, Some("127.0.0.1"))?;
    ioloop.start();
    Ok(())
}
