//! Property test of the live server: random and mutated requests, sent in random splits over a
//! real socket, never crash it; every connection ends with an answer or a close; and a valid
//! request on a fresh connection always succeeds afterwards.

use std::time::Duration;

use proptest::prelude::*;
use typhoon_httpserver::{HTTPServer, HTTPServerOptions};
use typhoon_ioloop::{IOLoop, timeout};
use typhoon_testing::{connect, raw_request, status_of};

const VALID: &[u8] =
    b"POST /p?q=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";

/// A valid request, mutated: bytes replaced, inserted or deleted.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0..VALID.len() + 1, any::<u8>(), 0..3u8), 0..6).prop_map(|edits| {
        let mut bytes = VALID.to_vec();
        for (at, byte, kind) in edits {
            let at = at.min(bytes.len());
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => {}
            }
        }
        bytes
    })
}

fn input() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    let bytes = prop_oneof![
        mutated(),
        prop::collection::vec(any::<u8>(), 0..300),
        Just(VALID.to_vec()),
    ];
    (bytes, prop::collection::vec(1usize..64, 0..8))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn server_survives_any_input((bytes, cuts) in input()) {
        let outcome = IOLoop::new().run_sync_timeout(Duration::from_secs(30), async move {
            let options = HTTPServerOptions {
                // Incomplete input would otherwise wait for the header timeout.
                header_timeout: Duration::from_millis(300),
                idle_connection_timeout: Duration::from_millis(300),
                body_inactivity_timeout: Duration::from_millis(300),
                ..HTTPServerOptions::default()
            };
            let server = HTTPServer::with_options(
                |request, mut response| async move {
                    response.write(&request.body);
                },
                options,
            );
            let addr = server.listen(0, Some("127.0.0.1")).expect("listen")[0];
            let stream = connect(addr).await;
            let mut rest = &bytes[..];
            for cut in cuts {
                let (piece, after) = rest.split_at(cut.min(rest.len()));
                if stream.write(piece).await.is_err() {
                    break;
                }
                rest = after;
            }
            let _ = stream.write(rest).await;
            let _ = stream.shutdown_write();
            // The server answers and/or closes: never hangs past its timeouts.
            let ended = timeout(Duration::from_secs(5), stream.read_until_close()).await.is_ok();
            // And it still serves a valid request.
            let reply = raw_request(addr, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
            server.stop();
            (ended, status_of(&reply))
        });
        let (ended, status) = outcome.expect("the test loop timed out");
        prop_assert!(ended, "the connection neither answered nor closed");
        prop_assert_eq!(status, Some(200));
    }
}
