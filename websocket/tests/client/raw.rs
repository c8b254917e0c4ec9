//! The client against a raw one-connection server on a thread: answers made byte by byte (frames
//! in the 101's packet, each refused 101) and a server that never answers pings.

use std::time::Duration;

use typhoon_testing::{bind_unused_port, run_test};
use typhoon_websocket::deflate::DeflateOptions;
use typhoon_websocket::{
    Message, WebSocketClientOptions, WebSocketConnectError, websocket_connect,
    websocket_connect_with,
};

/// A one-connection server on a thread: reads the handshake, answers with what `answer` makes
/// of the client's key (the raw bytes, head and any frames in one write), then closes as soon as the
/// client sends anything more (its close frame) or closes.
fn fake_server(
    answer: impl FnOnce(&str) -> Vec<u8> + Send + 'static,
) -> (u16, std::thread::JoinHandle<String>) {
    fake_server_then(answer, |socket| {
        let _ = std::io::Read::read(socket, &mut [0; 64]);
    })
}

/// As [`fake_server`], with `then` run on the socket after the answer.
fn fake_server_then(
    answer: impl FnOnce(&str) -> Vec<u8> + Send + 'static,
    then: impl FnOnce(&mut std::net::TcpStream) + Send + 'static,
) -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let (listener, port) = bind_unused_port();
    let thread = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut request = Vec::new();
        let mut byte = [0; 1];
        while !request.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap_or(0) == 1 {
            request.push(byte[0]);
        }
        let request = String::from_utf8_lossy(&request).into_owned();
        let key = request
            .lines()
            .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or("")
            .to_owned();
        socket.write_all(&answer(&key)).expect("write");
        then(&mut socket);
        request
    });
    (port, thread)
}

/// Reads one masked client frame (control frames only: payloads under 126 bytes): its opcode
/// and unmasked payload; `None` at the end of the stream.
fn read_client_frame(socket: &mut std::net::TcpStream) -> Option<(u8, Vec<u8>)> {
    use std::io::Read;
    let mut head = [0; 6];
    socket.read_exact(&mut head).ok()?;
    let mut payload = vec![0; usize::from(head[1] & 0x7f)];
    socket.read_exact(&mut payload).ok()?;
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= head[2 + i % 4];
    }
    Some((head[0] & 0x0f, payload))
}

/// A `101` with the right accept value and `extra` header lines.
fn switching(key: &str, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        typhoon_websocket::handshake::accept_key(key)
    )
    .into_bytes()
}

#[test]
fn frames_in_the_same_packet_as_the_101() {
    run_test(async {
        let (port, thread) = fake_server(|key| {
            let mut answer = switching(key, "");
            answer.extend_from_slice(b"\x81\x05first\x82\x02\x00\xff\x88\x02\x03\xe8");
            answer
        });
        let ws = websocket_connect(format!("ws://127.0.0.1:{port}/early?x=1"))
            .await
            .unwrap();
        assert_eq!(ws.read_message().await, Some(Message::Text("first".into())));
        assert_eq!(
            ws.read_message().await,
            Some(Message::Binary(vec![0, 0xff]))
        );
        assert_eq!(ws.read_message().await, None);
        assert_eq!(ws.close_code(), Some(1000));
        drop(ws);
        let request = thread.join().unwrap();
        assert!(
            request.starts_with("GET /early?x=1 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.contains(&format!("\r\nHost: 127.0.0.1:{port}\r\n")));
        assert!(request.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    });
}

#[test]
fn wrong_accept_is_refused() {
    run_test(async {
        let (port, _thread) = fake_server(|_| switching("not the client's key", ""));
        let error = websocket_connect(format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::InvalidAccept { .. }),
            "{error:?}"
        );
    });
}

#[test]
fn wrong_upgrade_and_connection_are_refused() {
    run_test(async {
        let (port, _thread) = fake_server(|key| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                typhoon_websocket::handshake::accept_key(key)
            )
            .into_bytes()
        });
        let error = websocket_connect(format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::InvalidUpgrade { .. }),
            "{error:?}"
        );
        let (port, _thread) = fake_server(|key| {
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                typhoon_websocket::handshake::accept_key(key)
            )
            .into_bytes()
        });
        let error = websocket_connect(format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::InvalidConnection { .. }),
            "{error:?}"
        );
    });
}

#[test]
fn subprotocol_not_offered_is_refused() {
    run_test(async {
        let (port, _thread) =
            fake_server(|key| switching(key, "Sec-WebSocket-Protocol: sneaky\r\n"));
        let options = WebSocketClientOptions {
            subprotocols: vec!["chat".into()],
            ..Default::default()
        };
        let error = websocket_connect_with(format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::UnexpectedSubprotocol { ref protocol } if protocol == "sneaky"),
            "{error:?}"
        );
    });
}

#[test]
fn extension_not_offered_is_refused() {
    run_test(async {
        // No compression offered, but the server answers with it.
        let (port, _thread) =
            fake_server(|key| switching(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n"));
        let error = websocket_connect(format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::InvalidExtensions { .. }),
            "{error:?}"
        );
        // Offered, but answered with a parameter RFC 7692 does not know.
        let (port, _thread) = fake_server(|key| {
            switching(
                key,
                "Sec-WebSocket-Extensions: permessage-deflate; foo=1\r\n",
            )
        });
        let options = WebSocketClientOptions {
            compression: Some(DeflateOptions::default()),
            ..Default::default()
        };
        let error = websocket_connect_with(format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap_err();
        assert!(
            matches!(error, WebSocketConnectError::InvalidExtensions { .. }),
            "{error:?}"
        );
    });
}

#[test]
fn error_body_is_kept() {
    run_test(async {
        let (port, _thread) =
            fake_server(|_| b"HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\nno way".to_vec());
        let error = websocket_connect(format!("ws://127.0.0.1:{port}/"))
            .await
            .unwrap_err();
        match error {
            WebSocketConnectError::Http {
                status: 403,
                reason,
                body,
                ..
            } => {
                assert_eq!(
                    (reason.as_str(), body.as_slice()),
                    ("Forbidden", &b"no way"[..])
                );
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn test_client_ping_timeout() {
    run_test(async {
        // A server that never answers pings: the client's close says why, then the server
        // closes.
        let (port, thread) = fake_server_then(
            |key| switching(key, ""),
            |socket| {
                let mut pings = 0;
                while let Some((opcode, payload)) = read_client_frame(socket) {
                    match opcode {
                        0x9 => pings += 1,
                        0x8 => {
                            assert_eq!(pings, 1);
                            assert_eq!(&payload[..2], &1000u16.to_be_bytes());
                            assert_eq!(&payload[2..], b"ping timed out");
                            return;
                        }
                        other => panic!("unexpected opcode {other}"),
                    }
                }
                panic!("no close frame");
            },
        );
        let options = WebSocketClientOptions {
            ping_interval: Some(Duration::from_millis(20)),
            ..Default::default()
        };
        let ws = websocket_connect_with(format!("ws://127.0.0.1:{port}/"), options)
            .await
            .unwrap();
        assert_eq!(ws.read_message().await, None);
        assert!(ws.is_closed());
        // No close frame came back: the client saw none.
        assert_eq!(ws.close_code(), None);
        drop(ws);
        thread.join().unwrap();
    });
}
