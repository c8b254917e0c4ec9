//! Echo server on tokio-tungstenite, one thread (`current_thread`): `ws-tokio-peer PORT`.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(9002);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("ws-tokio-peer listening on 127.0.0.1:{port}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let (mut tx, mut rx) = ws.split();
            while let Some(Ok(message)) = rx.next().await {
                if (message.is_text() || message.is_binary()) && tx.send(message).await.is_err() {
                    break;
                }
            }
        });
    }
}
