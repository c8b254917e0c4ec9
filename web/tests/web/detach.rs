//! `Context::detach` (Tornado's `RequestHandler.detach`): switching protocols after a `101`,
//! the path a WebSocket takes, outside the request's timeout and close watch.

use std::time::Duration;

use typhoon_ioloop::sleep;
use typhoon_testing::connect;
use typhoon_web::{Context, HTTPError, RequestHandler, Settings, WebError, route};

use crate::app_with;
use crate::util::{get, run, serve};

/// Switches to a toy protocol that echoes what arrives; `/refused` asks with a 200 instead.
struct Echo;
impl RequestHandler for Echo {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        if cx.request().path() == "/refused" {
            match cx.detach().await {
                Err(WebError::Upgrade(error)) => cx.write(format!("refused: {error}")),
                other => cx.write(format!("unexpected: {other:?}")),
            }
            return Ok(());
        }
        cx.set_status(101);
        cx.set_header("Upgrade", "echo")?;
        cx.set_header("Connection", "Upgrade")?;
        let stream = cx.detach().await?.into_stream();
        // The HTTP writers are done with.
        assert!(matches!(cx.flush().await, Err(WebError::Finished)));
        assert!(cx.is_finished());
        while let Ok(bytes) = stream.read_bytes(64 * 1024, true).await {
            if stream.write(&bytes).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

#[test]
fn detach_hands_the_connection_over_beyond_the_request_timeout() {
    run(async {
        let settings = Settings {
            request_timeout: Some(Duration::from_millis(30)),
            ..Settings::default()
        };
        let (_server, addr) = serve(app_with(vec![route("/.*", || Echo)], settings));
        let client = connect(addr).await;
        client
            .write(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
            .await
            .expect("write");
        let head = client
            .read_until(b"\r\n\r\n", Some(4096))
            .await
            .expect("head");
        let head = String::from_utf8(head).expect("ASCII");
        assert!(
            head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{head}"
        );
        assert!(!head.contains("Content-Type"), "{head}");
        // Past the request timeout (nothing to await: the point is that nothing happens), the
        // new protocol still runs: the timeout stopped applying at the switch.
        sleep(Duration::from_millis(100)).await;
        client.write(b"still here").await.expect("write");
        assert_eq!(
            client.read_bytes(10, false).await.expect("echo"),
            b"still here"
        );
    });
}

#[test]
fn detach_is_refused_for_a_status_that_does_not_switch() {
    run(async {
        let (_server, addr) = serve(app_with(vec![route("/.*", || Echo)], Settings::default()));
        let r = get(addr, "/refused").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.text(),
            "refused: status 200 does not switch protocols (101, or 2xx for CONNECT)",
            "the response goes on as HTTP"
        );
    });
}

/// Detaches and returns at once: the rest of the connection runs in its own task
/// ([`RequestHandler::into_detached`]), owning the handler (its greeting) and the context (the
/// request's path), and echoes until the client closes.
struct HandedOver {
    greeting: &'static str,
    upgraded: Option<typhoon_httpserver::Upgraded>,
}
impl RequestHandler for HandedOver {
    async fn get(&mut self, cx: &mut Context) -> Result<(), HTTPError> {
        cx.set_status(101);
        cx.set_header("Upgrade", "echo")?;
        cx.set_header("Connection", "Upgrade")?;
        self.upgraded = Some(cx.detach().await?);
        Ok(())
    }

    fn into_detached(self, cx: Context) -> Option<impl std::future::Future<Output = ()> + 'static> {
        let upgraded = self.upgraded?;
        Some(async move {
            let stream = upgraded.stream();
            let hello = format!("{} {}", self.greeting, cx.request().path());
            if stream.write(hello.as_bytes()).await.is_err() {
                return;
            }
            while let Ok(bytes) = stream.read_bytes(64 * 1024, true).await {
                if stream.write(&bytes).await.is_err() {
                    break;
                }
            }
        })
    }
}

#[test]
fn into_detached_serves_the_connection_in_its_own_task() {
    run(async {
        let handler = || HandedOver {
            greeting: "hello",
            upgraded: None,
        };
        let (server, addr) = serve(app_with(vec![route("/.*", handler)], Settings::default()));
        let client = connect(addr).await;
        client
            .write(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
            .await
            .expect("write");
        let head = client
            .read_until(b"\r\n\r\n", Some(4096))
            .await
            .expect("head");
        assert!(head.starts_with(b"HTTP/1.1 101 "));
        assert_eq!(
            client.read_bytes(9, false).await.expect("hello"),
            b"hello /ws"
        );
        client.write(b"echo me").await.expect("write");
        assert_eq!(client.read_bytes(7, false).await.expect("echo"), b"echo me");
        client.close();
        // The task ends with its peer and drops the Upgraded: the connection is gone.
        server.connections_closed().await;
    });
}
