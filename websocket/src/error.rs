//! [`ProtocolError`]: every way a peer (or a caller) can break RFC 6455 or RFC 7692.

/// A violation of RFC 6455 or RFC 7692, by the peer (from [`Decoder`](crate::Decoder) and
/// [`deflate::client_accept`](crate::deflate)) or by the caller (from the
/// [`Encoder`](crate::Encoder) and [`websocket_mask`](crate::websocket_mask)).
///
/// A received violation means *Fail the WebSocket Connection* (RFC 6455 §7.1.7): send a close
/// frame with [`close_code`](Self::close_code), then close the TCP connection, and process
/// nothing more.
///
/// The error is `Clone` and `Eq` so that a failed [`Decoder`](crate::Decoder) can return it again
/// on every later call; for that reason the decompressor's own error is not kept as a source
/// (its message carries nothing a peer could act on).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A server received a frame without the mask bit (RFC 6455 §5.1: clients mask every frame).
    #[error("received an unmasked frame from a client")]
    UnmaskedFrame,
    /// A client received a masked frame (RFC 6455 §5.1: servers never mask).
    #[error("received a masked frame from a server")]
    MaskedFrame,
    /// RSV bits that no negotiated extension defines (RFC 6455 §5.2), including RSV1 on a
    /// continuation or control frame, or RSV1 when permessage-deflate was not negotiated
    /// (RFC 7692 §6.1). `rsv` holds the three bits as RSV1 = 4, RSV2 = 2, RSV3 = 1.
    #[error("reserved bits {rsv:#05b} set on a frame with opcode {opcode:#x}")]
    ReservedBits {
        /// The three RSV bits, RSV1 as the high bit.
        rsv: u8,
        /// The frame's opcode.
        opcode: u8,
    },
    /// An opcode RFC 6455 §5.2 reserves (3–7, 0xB–0xF).
    #[error("unknown opcode {0:#x}")]
    UnknownOpcode(u8),
    /// A control frame (close, ping, pong) longer than 125 bytes, received or to be sent
    /// (RFC 6455 §5.5).
    #[error("control frame payload of {0} bytes is over 125")]
    ControlFrameTooLong(u64),
    /// A control frame without FIN (RFC 6455 §5.5: control frames are never fragmented).
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A continuation frame with no fragmented message to continue (RFC 6455 §5.4).
    #[error("continuation frame with no message to continue")]
    UnexpectedContinuation,
    /// A text or binary frame while a fragmented message is still open (RFC 6455 §5.4).
    #[error("new data frame while a fragmented message is unfinished")]
    UnfinishedMessage,
    /// A 64-bit payload length with its most significant bit set (RFC 6455 §5.2).
    #[error("64-bit payload length with the most significant bit set")]
    InvalidPayloadLength,
    /// The message (reassembled, and after inflation when compressed) would exceed the
    /// decoder's `max_message_size` (RFC 6455 §10.4).
    #[error("message too big: more than {max} bytes")]
    MessageTooBig {
        /// The decoder's limit.
        max: usize,
    },
    /// A text message that is not UTF-8 (RFC 6455 §8.1), found at the first invalid byte.
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    /// A close frame with a one-byte payload (RFC 6455 §5.5.1: a code is two bytes).
    #[error("close frame payload of one byte")]
    InvalidClosePayload,
    /// A close code that may not be received (RFC 6455 §7.4), or not be sent (from the encoder).
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
    /// A close reason that is not UTF-8 (RFC 6455 §5.5.1).
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,
    /// A compressed message the decompressor cannot inflate (RFC 7692 §7.2.2).
    #[error("compressed message is not valid DEFLATE data")]
    InvalidCompressedData,
    /// A mask that is not 4 bytes long (Tornado's `_websocket_mask` contract).
    #[error("mask of {0} bytes, expected 4")]
    InvalidMaskLength(usize),
    /// A `Sec-WebSocket-Extensions` value that does not parse (RFC 6455 §9.1).
    #[error("malformed Sec-WebSocket-Extensions header")]
    MalformedExtensionHeader,
    /// The server accepted an extension this client did not offer, or more than one.
    #[error("server accepted an extension that was not offered: {0}")]
    UnexpectedExtension(String),
    /// The server's permessage-deflate response has a parameter that is unknown, not allowed in
    /// a response to this offer, or repeated (RFC 7692 §7).
    #[error("invalid permessage-deflate response parameter {0}")]
    InvalidExtensionParam(String),
    /// The server's response lacks a parameter the offer requires it to answer (RFC 7692
    /// §7.1.1.1, §7.1.2.1).
    #[error("permessage-deflate response lacks {0}")]
    MissingExtensionParam(&'static str),
    /// A window size this implementation cannot compress with (8 bits: zlib's raw deflate has no
    /// 256-byte window).
    #[error("unsupported window of {0} bits")]
    UnsupportedWindowBits(u8),
}

impl ProtocolError {
    /// The close code to send when failing the connection for this error (RFC 6455 §7.4.1):
    /// 1009 for [`MessageTooBig`](Self::MessageTooBig), 1007 for invalid UTF-8 in a text
    /// message or a close reason, 1002 for everything else (the caller-side errors of the
    /// encoder included; they are not meant to be sent).
    pub fn close_code(&self) -> u16 {
        match self {
            Self::MessageTooBig { .. } => 1009,
            Self::InvalidUtf8 | Self::InvalidCloseReason => 1007,
            _ => 1002,
        }
    }
}

/// This crate's `Result`, with [`ProtocolError`] as the default error.
pub type Result<T, E = ProtocolError> = std::result::Result<T, E>;
