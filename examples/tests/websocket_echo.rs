//! The `websocket_echo` example over real loopback sockets: the echo the Autobahn cases run
//! against, and the broadcast benchmark's three rooms, each reaching every socket.

use typhoon_examples::websocket_echo::make_app;
use typhoon_testing::run_test;
use typhoon_websocket::{Message, WebSocketClientConnection, websocket_connect};

/// Serves the example on a free loopback port; returns the server and its port.
fn serve() -> (typhoon_httpserver::HTTPServer, u16) {
    let server = make_app(1 << 20).into_server();
    let port = server.listen(0, Some("127.0.0.1")).expect("listen")[0].port();
    (server, port)
}

async fn connect(port: u16, path: &str) -> WebSocketClientConnection {
    websocket_connect(format!("ws://127.0.0.1:{port}{path}"))
        .await
        .expect("connect")
}

#[test]
fn echoes_text_and_binary() {
    run_test(async {
        let (_server, port) = serve();
        let ws = connect(port, "/").await;
        ws.write_message(Message::Text("hello".into()))
            .await
            .expect("send");
        assert_eq!(ws.read_message().await, Some(Message::Text("hello".into())));
        ws.write_message(Message::Binary(vec![0, 1, 2]))
            .await
            .expect("send");
        assert_eq!(
            ws.read_message().await,
            Some(Message::Binary(vec![0, 1, 2]))
        );
    });
}

#[test]
fn every_broadcast_room_reaches_every_socket() {
    run_test(async {
        let (_server, port) = serve();
        for how in ["prepared", "naive", "spawn"] {
            let path = format!("/broadcast/{how}");
            let mut members = Vec::new();
            for _ in 0..3 {
                members.push(connect(port, &path).await);
            }
            let text = format!("hello from {how}");
            members[1]
                .write_message(Message::Text(text.clone()))
                .await
                .expect("send");
            for member in &members {
                assert_eq!(
                    member.read_message().await,
                    Some(Message::Text(text.clone()))
                );
            }
        }
    });
}
