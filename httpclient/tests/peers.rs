//! The client against real servers on loopback, started by the tests: Python's `http.server`
//! (HTTP/1.0, close-delimited bodies) and nginx (keep-alive, gzip, chunked). A test whose peer
//! is not installed prints why and passes; CI installs both (`.ci/run`).

mod util;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use typhoon_httpclient::{AsyncHTTPClient, HTTPClientError, HTTPRequest};
use typhoon_testing::run_test;

/// A child process killed (by its own id) and reaped when the test ends.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether `program` runs at all (`program arg` exits, whatever its status).
fn available(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

const PYTHON_SERVER: &str = r#"
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("hello from python " + self.path).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if self.path == "/length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

#[test]
fn python_http_server_http10_close_delimited() {
    if !available("python3", "--version") {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let mut child = Command::new("python3")
        .args(["-c", PYTHON_SERVER])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python3");
    let stdout = child.stdout.take().expect("piped stdout");
    let peer = Peer(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("python prints its port");
    let port: u16 = line.trim().parse().expect("a port number");
    run_test(async move {
        let client = AsyncHTTPClient::new();
        let response = client
            .fetch(format!("http://127.0.0.1:{port}/close"))
            .await
            .expect("fetch");
        assert_eq!(response.code, 200);
        assert!(response.headers.get("Content-Length").is_none());
        assert_eq!(response.text(), "hello from python /close");
        let response = client
            .fetch(format!("http://127.0.0.1:{port}/length"))
            .await
            .expect("fetch");
        assert_eq!(response.text(), "hello from python /length");
        // HTTP/1.0 without keep-alive: a connection per request.
        assert_eq!(client.stats().connections_opened, 2);
        assert_eq!(client.stats().idle, 0);
    });
    drop(peer);
}

/// nginx's binary: on `PATH`, or where Debian puts it.
fn nginx_binary() -> Option<PathBuf> {
    ["nginx", "/usr/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|path| available(path.to_str().unwrap_or("nginx"), "-v"))
}

/// A free port: bind port 0, read it, release it (nginx binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port()
}

/// Starts nginx with a private prefix directory on a free port; waits (bounded) until it
/// accepts connections.
fn start_nginx(binary: &Path) -> (Peer, u16, PathBuf) {
    let prefix = std::env::temp_dir().join(format!(
        "typhoon-httpclient-nginx-{}-{}",
        std::process::id(),
        free_port()
    ));
    let www = prefix.join("www");
    std::fs::create_dir_all(&www).expect("temp dir");
    std::fs::write(www.join("big.txt"), "all work and no play ".repeat(5000)).expect("file");
    let port = free_port();
    let p = prefix.display();
    let config = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {p}/nginx.pid;\n\
         error_log {p}/error.log;\nevents {{ worker_connections 64; }}\nhttp {{\n\
         access_log off;\nclient_body_temp_path {p}/body;\nproxy_temp_path {p}/proxy;\n\
         fastcgi_temp_path {p}/fastcgi;\nuwsgi_temp_path {p}/uwsgi;\nscgi_temp_path {p}/scgi;\n\
         types {{ text/plain txt; }}\ngzip on;\ngzip_min_length 1;\ngzip_types text/plain;\n\
         server {{\nlisten 127.0.0.1:{port};\n\
         location = /hello {{ default_type text/plain; return 200 \"hello nginx\"; }}\n\
         location = /redirect {{ return 302 /hello; }}\n\
         location / {{ root {p}/www; }}\n}}\n}}\n"
    );
    let config_path = prefix.join("nginx.conf");
    std::fs::write(&config_path, config).expect("config");
    let child = Command::new(binary)
        .arg("-p")
        .arg(&prefix)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-c")
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let peer = Peer(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (peer, port, prefix)
}

#[test]
fn nginx_keep_alive_gzip_chunked_redirect() {
    let Some(binary) = nginx_binary() else {
        eprintln!("skipped: nginx is not installed (apt-get install -y nginx)");
        return;
    };
    let (peer, port, prefix) = start_nginx(&binary);
    run_test(async move {
        let base = format!("http://127.0.0.1:{port}");
        let client = AsyncHTTPClient::new();
        for _ in 0..3 {
            let response = client.fetch(format!("{base}/hello")).await.expect("fetch");
            assert_eq!(response.text(), "hello nginx");
        }
        let big = "all work and no play ".repeat(5000);
        let response = client.fetch(format!("{base}/big.txt")).await.expect("gzip");
        assert_eq!(
            response.headers.get("X-Consumed-Content-Encoding"),
            Some("gzip")
        );
        assert_eq!(response.headers.get("Transfer-Encoding"), Some("chunked"));
        assert_eq!(response.text(), big);
        #[cfg(feature = "gzip")] // `decompress_response` needs it
        {
            let plain = HTTPRequest::new(format!("{base}/big.txt")).decompress_response(false);
            let response = client.fetch(plain).await.expect("plain");
            assert_eq!(response.headers.get("Content-Length"), Some("105000"));
            assert_eq!(response.text(), big);
        }
        let response = client
            .fetch(format!("{base}/redirect"))
            .await
            .expect("redirect");
        assert_eq!(response.effective_url, format!("{base}/hello"));
        let head = HTTPRequest::new(format!("{base}/big.txt")).method("HEAD");
        assert!(client.fetch(head).await.expect("head").body.is_empty());
        assert!(matches!(
            client.fetch(format!("{base}/missing")).await,
            Err(HTTPClientError::Http { code: 404, .. })
        ));
        let stats = client.stats();
        assert_eq!(stats.connections_opened, 1, "{stats:?}");
    });
    drop(peer);
    let _ = std::fs::remove_dir_all(prefix);
}
