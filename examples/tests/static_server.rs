//! The `static_server` example over a real socket: files, ranges, directories, 304, traversal.

use typhoon_examples::static_server::make_app;
use typhoon_testing::{AsyncHTTPTestServer, run_test};

fn root() -> std::path::PathBuf {
    let root = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("static-server-{}", std::process::id()));
    std::fs::create_dir_all(root.join("docs")).expect("mkdir");
    // Next to the root, never to be served.
    std::fs::write(root.join("../secret.txt"), "SECRET").expect("write");
    std::fs::write(root.join("hello.txt"), "hello, file\n").expect("write");
    std::fs::write(root.join("docs/index.html"), "<h1>docs</h1>").expect("write");
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(root.join("big.bin"), big).expect("write");
    root
}

#[test]
fn files_ranges_directories_and_304() {
    let root = root();
    run_test(async move {
        let server = AsyncHTTPTestServer::new(make_app(&root, false));
        let r = server.fetch("/hello.txt").await.expect("file");
        assert_eq!(r.text(), "hello, file\n");
        let etag = r.headers.get("Etag").expect("etag").to_owned();
        let again = server
            .fetch_request(server.request("/hello.txt").header("If-None-Match", &etag))
            .await;
        let code = match again {
            Ok(response) => response.code,
            Err(error) => error.code(),
        };
        assert_eq!(code, 304, "a matching ETag answers 304");
        let big = server.fetch("/big.bin").await.expect("big");
        let expected: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        assert!(big.body == expected, "the whole file, byte for byte");
        let range = server
            .fetch_request(
                server
                    .request("/big.bin")
                    .header("Range", "bytes=1000-1009"),
            )
            .await
            .expect("range");
        assert_eq!(range.code, 206);
        assert_eq!(range.body, &expected[1000..1010]);
        let index = server.fetch("/docs/").await.expect("index");
        assert_eq!(index.text(), "<h1>docs</h1>");
        // Raw requests, so no client normalises the paths first.
        let addr: std::net::SocketAddr = format!("127.0.0.1:{}", server.port())
            .parse()
            .expect("address");
        for path in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/..%2fsecret.txt",
            "/docs/../../secret.txt",
        ] {
            let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let reply = typhoon_testing::raw_request(addr, request.as_bytes()).await;
            assert_eq!(typhoon_testing::status_of(&reply), Some(403), "{path}");
            assert!(
                !String::from_utf8_lossy(&reply).contains("SECRET"),
                "{path} leaked"
            );
        }
    });
}
