//! What the decoder hands to the caller: [`Message`], [`Event`] and [`CloseFrame`].

/// A complete data message, reassembled from its fragments (and inflated if it was compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message, validated as UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl Message {
    /// The payload's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(data) => data,
        }
    }
}

/// A text message (Tornado's `write_message(str)`).
impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

/// A text message.
impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

/// A binary message (Tornado's `write_message(bytes)`).
impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Self::Binary(data)
    }
}

/// A binary message.
impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Self::Binary(data.to_vec())
    }
}

/// The code and reason of a received close frame (RFC 6455 §5.5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code, already checked by [`close::is_valid_received_code`](crate::close::is_valid_received_code).
    pub code: u16,
    /// The reason, UTF-8 and at most 123 bytes; empty if the frame had none.
    pub reason: String,
}

/// One thing the [`Decoder`](crate::Decoder) completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole data message.
    Message(Message),
    /// A ping with its payload (at most 125 bytes): answer with a pong of the same payload
    /// (RFC 6455 §5.5.2) unless a close was already received.
    Ping(Vec<u8>),
    /// A pong with its payload.
    Pong(Vec<u8>),
    /// A close frame: `None` if its payload was empty (the application then sees code 1005,
    /// RFC 6455 §7.1.5). After it the decoder ignores all further input.
    Close(Option<CloseFrame>),
}
