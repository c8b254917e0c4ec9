//! The `httpserver_hello` server: the HTTP server with no web layer, answering every request
//! with `Hello, world` as `text/plain` (the benchmark peer of nginx, Tornado and hyper).

use typhoon_httpserver::HTTPServer;

/// The server; in the pre-fork mode each answer names its worker in `X-Typhoon-Task`.
pub fn hello_server() -> HTTPServer {
    let task = typhoon_iostream::process::task_id().map(|id| id.to_string());
    HTTPServer::new(move |_request, mut response| {
        let task = task.clone();
        async move {
            let _ = response.set_header("Content-Type", "text/plain");
            if let Some(task) = task {
                // Which worker answered, in the pre-fork mode (--processes).
                let _ = response.set_header("X-Typhoon-Task", &task);
            }
            response.write(b"Hello, world");
        }
    })
}
