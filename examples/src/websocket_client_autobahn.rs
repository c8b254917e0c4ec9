//! The Autobahn fuzzingserver client loop (kosoku `-m fuzzingserver`): ask for the number of
//! cases, run each by echoing every message until the server closes, then ask for the reports.

use typhoon_websocket::deflate::DeflateOptions;
use typhoon_websocket::{
    Message, WebSocketClientOptions, WebSocketConnectError, websocket_connect_with,
};

/// The agent name the reports are filed under.
pub const AGENT: &str = "Typhoon";

/// The client options every case runs with: compression offered, messages up to
/// `max_message_size` bytes (Autobahn's group 9 sends 16 MiB).
///
/// The offer includes `client_no_context_takeover` (as Autobahn's own client does): the
/// fuzzing server asks a client to reset its compressor after each message (cases 13.2, 13.5,
/// 13.6) only if the offer says it may, and otherwise declines compression, which makes those
/// cases `UNIMPLEMENTED`. The cost is compression without context across messages.
pub fn options(max_message_size: usize) -> WebSocketClientOptions {
    WebSocketClientOptions {
        compression: Some(DeflateOptions {
            client_no_context_takeover: true,
            ..DeflateOptions::default()
        }),
        max_message_size,
        ..Default::default()
    }
}

/// `GET /getCaseCount`: the server's one text message, parsed (0 if it is not a number).
///
/// # Errors
///
/// If the connection cannot be opened.
pub async fn case_count(base: &str) -> Result<u32, WebSocketConnectError> {
    let ws = websocket_connect_with(format!("{base}/getCaseCount"), options(1024)).await?;
    let count = match ws.read_message().await {
        Some(Message::Text(text)) => text.trim().parse().unwrap_or(0),
        _ => 0,
    };
    while ws.read_message().await.is_some() {}
    Ok(count)
}

/// Runs case `case`: every message comes back as it came (text as text, binary as binary)
/// until the server closes.
///
/// # Errors
///
/// If the connection cannot be opened (the case then fails on the server's side).
pub async fn run_case(
    base: &str,
    case: u32,
    max_message_size: usize,
) -> Result<(), WebSocketConnectError> {
    let url = format!("{base}/runCase?case={case}&agent={AGENT}");
    let ws = websocket_connect_with(url, options(max_message_size)).await?;
    while let Some(message) = ws.read_message().await {
        // The server may close meanwhile; the case's verdict is its business.
        let _ = ws.write_message(message).await;
    }
    Ok(())
}

/// `GET /updateReports`: the server writes its reports (kosoku then exits).
///
/// # Errors
///
/// If the connection cannot be opened.
pub async fn update_reports(base: &str) -> Result<(), WebSocketConnectError> {
    let url = format!("{base}/updateReports?agent={AGENT}");
    let ws = websocket_connect_with(url, options(1024)).await?;
    while ws.read_message().await.is_some() {}
    Ok(())
}
