//! [`Encoder`]: messages and control frames in, frame bytes out.

use crate::close::is_sendable_code;
#[cfg(feature = "deflate")]
use crate::deflate::Deflater;
use crate::error::ProtocolError;
use crate::frame::{MAX_HEADER_LEN, OpCode, Role, encode_header};
use crate::mask::{MaskSource, apply_mask};
use crate::message::Message;

/// The longest close reason: 125 bytes of control payload less the 2-byte code.
pub const MAX_CLOSE_REASON_LEN: usize = 123;

/// The largest compression buffer an encoder keeps between messages.
#[cfg(feature = "deflate")]
const MAX_KEPT_SCRATCH: usize = 64 * 1024;

/// Encodes one connection's outgoing frames; one per connection.
///
/// Every message goes as one unfragmented frame. A [`Role::Client`] encoder masks every frame
/// with a fresh key from the OS CSPRNG (RFC 6455 §5.3, §10.3); a server's frames are not
/// masked. With a [`Deflater`](crate::deflate::Deflater) set, data messages are compressed and
/// carry RSV1 (control frames never are).
///
/// # Examples
///
/// ```
/// use typhoon_websocket::{Encoder, Role};
/// let mut encoder = Encoder::new(Role::Server);
/// let mut out = Vec::new();
/// encoder.encode_text(&mut out, "Hi");
/// encoder.encode_close(&mut out, Some((1000, "bye"))).unwrap();
/// assert_eq!(out, b"\x81\x02Hi\x88\x05\x03\xe8bye");
/// ```
#[derive(Debug)]
pub struct Encoder {
    /// Client masks; `None` for a server, which never masks (boxed: 256 bytes only clients need).
    masks: Option<Box<MaskSource>>,
    /// The permessage-deflate compressor, once negotiated.
    #[cfg(feature = "deflate")]
    deflater: Option<Deflater>,
    /// Compressed payload, reused between messages (the header needs its length first).
    #[cfg(feature = "deflate")]
    scratch: Vec<u8>,
}

impl Encoder {
    /// An encoder for one connection of `role`; a client's masks every frame with a fresh key.
    pub fn new(role: Role) -> Self {
        Self {
            masks: (role == Role::Client).then(|| Box::new(MaskSource::new())),
            #[cfg(feature = "deflate")]
            deflater: None,
            #[cfg(feature = "deflate")]
            scratch: Vec::new(),
        }
    }

    /// Compresses data messages with `deflater` from now on; call it once permessage-deflate
    /// was negotiated.
    #[cfg(feature = "deflate")]
    pub fn set_deflater(&mut self, deflater: Deflater) {
        self.deflater = Some(deflater);
    }

    /// The compressor's level and window bits if messages are compressed without context
    /// takeover (see `Deflater::stateless_params`).
    #[cfg(feature = "deflate")]
    pub(crate) fn stateless_deflate(&self) -> Option<(u32, u8)> {
        self.deflater.as_ref().and_then(Deflater::stateless_params)
    }

    /// Whether data messages are compressed (a deflater is set).
    pub fn compresses(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.deflater.is_some();
        #[cfg(not(feature = "deflate"))]
        false
    }

    /// Appends one frame carrying the whole `message` to `out` (compressed if a deflater is set).
    ///
    /// # Panics
    ///
    /// For a client, if the OS random source fails.
    pub fn encode_message(&mut self, out: &mut Vec<u8>, message: &Message) {
        match message {
            Message::Text(text) => self.encode_text(out, text),
            Message::Binary(data) => self.encode_binary(out, data),
        }
    }

    /// Appends one text frame carrying `text` to `out`.
    ///
    /// # Panics
    ///
    /// For a client, if the OS random source fails.
    pub fn encode_text(&mut self, out: &mut Vec<u8>, text: &str) {
        self.encode_data(out, OpCode::Text, text.as_bytes());
    }

    /// Appends one binary frame carrying `data` to `out`.
    ///
    /// # Panics
    ///
    /// For a client, if the OS random source fails.
    pub fn encode_binary(&mut self, out: &mut Vec<u8>, data: &[u8]) {
        self.encode_data(out, OpCode::Binary, data);
    }

    /// Appends a ping carrying `data` to `out`.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::ControlFrameTooLong`] if `data` is over 125 bytes; nothing is written.
    ///
    /// # Panics
    ///
    /// For a client, if the OS random source fails.
    pub fn encode_ping(&mut self, out: &mut Vec<u8>, data: &[u8]) -> Result<(), ProtocolError> {
        self.encode_control(out, OpCode::Ping, data, &[])
    }

    /// Appends a pong carrying `data` (the ping's payload, RFC 6455 §5.5.3) to `out`.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::ControlFrameTooLong`] if `data` is over 125 bytes; nothing is written.
    ///
    /// # Panics
    ///
    /// For a client, if the OS random source fails.
    pub fn encode_pong(&mut self, out: &mut Vec<u8>, data: &[u8]) -> Result<(), ProtocolError> {
        self.encode_control(out, OpCode::Pong, data, &[])
    }

    /// Appends a close frame to `out`: `None` sends an empty payload, `Some((code, reason))` a
    /// code and reason.
    ///
    /// A reason longer than [`MAX_CLOSE_REASON_LEN`] (123) bytes is **truncated** at the last
    /// character boundary that fits, rather than refused: the reason is a diagnostic, and
    /// closing must not fail for it.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidCloseCode`] if `code` may not be sent
    /// ([`close::is_sendable_code`](crate::close::is_sendable_code): never 1005, 1006, 1015, nor
    /// outside the ranges of RFC 6455 §7.4); nothing is written.
    ///
    /// # Panics
    ///
    /// For a client, if the OS random source fails.
    pub fn encode_close(
        &mut self,
        out: &mut Vec<u8>,
        close: Option<(u16, &str)>,
    ) -> Result<(), ProtocolError> {
        let Some((code, reason)) = close else {
            return self.encode_control(out, OpCode::Close, &[], &[]);
        };
        if !is_sendable_code(code) {
            return Err(ProtocolError::InvalidCloseCode(code));
        }
        let mut end = reason.len().min(MAX_CLOSE_REASON_LEN);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        self.encode_control(
            out,
            OpCode::Close,
            &code.to_be_bytes(),
            &reason.as_bytes()[..end],
        )
    }

    /// A control frame whose payload is `head` then `tail`.
    fn encode_control(
        &mut self,
        out: &mut Vec<u8>,
        opcode: OpCode,
        head: &[u8],
        tail: &[u8],
    ) -> Result<(), ProtocolError> {
        let len = head.len() + tail.len();
        if len > 125 {
            return Err(ProtocolError::ControlFrameTooLong(len as u64));
        }
        self.write_frame(out, false, opcode, &[head, tail]);
        Ok(())
    }

    /// A data frame, compressed if a deflater is set.
    fn encode_data(&mut self, out: &mut Vec<u8>, opcode: OpCode, data: &[u8]) {
        #[cfg(feature = "deflate")]
        if let Some(deflater) = &mut self.deflater {
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            deflater.compress(data, &mut scratch);
            self.write_frame(out, true, opcode, &[&scratch]);
            // Kept for the next message unless a big one left it large: an idle connection
            // should not hold a message's worth of memory.
            if scratch.capacity() <= MAX_KEPT_SCRATCH {
                self.scratch = scratch;
            }
            return;
        }
        self.write_frame(out, false, opcode, &[data]);
    }

    /// Appends one final frame whose payload is the concatenation of `parts`, masked for a
    /// client.
    fn write_frame(&mut self, out: &mut Vec<u8>, rsv1: bool, opcode: OpCode, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mask = self.masks.as_mut().map(|masks| masks.next_mask());
        let mut header = [0; MAX_HEADER_LEN];
        let n = encode_header(&mut header, true, rsv1, opcode, len as u64, mask);
        out.reserve(n + len);
        out.extend_from_slice(&header[..n]);
        let start = out.len();
        for part in parts {
            out.extend_from_slice(part);
        }
        if let Some(mask) = mask {
            apply_mask(&mut out[start..], mask, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reason_truncated_at_char_boundary() {
        let mut encoder = Encoder::new(Role::Server);
        let mut out = Vec::new();
        let reason = "é".repeat(100); // 200 bytes
        encoder
            .encode_close(&mut out, Some((1000, &reason)))
            .unwrap();
        assert_eq!(out[1] as usize, 2 + 122);
        assert!(std::str::from_utf8(&out[4..]).is_ok());
    }

    #[test]
    fn unsendable_codes_and_long_pings_write_nothing() {
        let mut encoder = Encoder::new(Role::Client);
        let mut out = Vec::new();
        for code in [1005, 1006, 1015, 999, 5000] {
            assert_eq!(
                encoder.encode_close(&mut out, Some((code, ""))),
                Err(ProtocolError::InvalidCloseCode(code))
            );
        }
        assert!(matches!(
            encoder.encode_ping(&mut out, &[0; 126]),
            Err(ProtocolError::ControlFrameTooLong(126))
        ));
        assert!(out.is_empty());
        encoder.encode_pong(&mut out, &[0; 125]).unwrap();
        assert_eq!(out.len(), 2 + 4 + 125);
        assert_eq!(out[1], 0x80 | 125);
    }
}
