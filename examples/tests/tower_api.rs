//! The `tower_api` example's application over a real socket: the Typhoon page and the axum
//! router under `/api` over one keep-alive connection, sharing their store; the API's 404,
//! its streamed echo, the route's body limit, and its bridged tokio timer.

use std::net::SocketAddr;

use typhoon_examples::tower_api::{Note, Notes, make_app};
use typhoon_testing::{AsyncHTTPTestServer, connect, read_response, run_test};

#[test]
fn the_page_and_the_api_over_one_connection() {
    run_test(async {
        let notes = Notes::default();
        let server = AsyncHTTPTestServer::new(make_app(notes.clone()));
        let stream = connect(SocketAddr::from(([127, 0, 0, 1], server.port()))).await;
        let body = r#"{"text":"<b>hello</b>"}"#;
        let post = format!(
            "POST /api/notes HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write(post.as_bytes()).await.expect("write");
        let created = read_response(&stream, false).await;
        assert_eq!(created.status, 201, "{}", created.text());
        let note: Note = serde_json::from_slice(&created.body).expect("json");
        assert_eq!(
            note,
            Note {
                id: 1,
                text: "<b>hello</b>".to_owned()
            }
        );

        stream
            .write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        let page = read_response(&stream, false).await;
        assert_eq!(page.status, 200);
        assert!(
            page.text().contains("<li>1: &lt;b&gt;hello&lt;/b&gt;</li>"),
            "{}",
            page.text()
        );

        stream
            .write(b"GET /api/notes/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /api/notes/9 HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        let found = read_response(&stream, false).await;
        assert_eq!(found.status, 200);
        assert_eq!(
            found.header("Content-Type").as_deref(),
            Some("application/json")
        );
        let missing = read_response(&stream, false).await;
        assert_eq!(missing.status, 404);
        assert_eq!(notes.all().len(), 1);
    });
}

#[test]
fn echo_limit_and_the_bridged_timer() {
    run_test(async {
        let server = AsyncHTTPTestServer::new(make_app(Notes::default()));
        let echo = server
            .fetch_request(
                server
                    .request("/api/echo")
                    .method("POST")
                    .body(vec![b'e'; 300_000]),
            )
            .await
            .expect("response");
        assert_eq!(echo.body, vec![b'e'; 300_000]);
        let get_echo = server.fetch("/api/echo").await.expect("response");
        assert_eq!(get_echo.code, 405, "axum's: POST only");
        let refused = server
            .fetch_request(
                server
                    .request("/api/echo")
                    .method("POST")
                    .body(vec![b'e'; 1024 * 1024 + 1]),
            )
            .await;
        assert!(
            matches!(
                refused,
                Err(typhoon_httpclient::HTTPClientError::Http { code: 413, .. })
            ),
            "{refused:?}"
        );
        let waited = server.fetch("/api/wait?ms=5").await.expect("response");
        assert_eq!(waited.text(), "waited 5 ms on tokio");
    });
}
