//! The frame layout of RFC 6455 §5.2: [`Role`], [`OpCode`], [`encode_header`] and the header
//! parser the decoder uses.
//!
//! ```text
//!  0               1               2               3
//!  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```

use crate::error::ProtocolError;

/// Which end of the connection this endpoint is: it decides who masks (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The accepting end: sends unmasked frames, requires masked ones.
    Server,
    /// The connecting end: masks every frame, requires unmasked ones.
    Client,
}

/// A frame's opcode (RFC 6455 §5.2); the reserved values have no variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: a later fragment of a text or binary message.
    Continuation,
    /// 0x1: the first (or only) frame of a text message.
    Text,
    /// 0x2: the first (or only) frame of a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// Whether this is a control opcode (close, ping, pong: RFC 6455 §5.5).
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }

    /// The opcode's 4-bit value on the wire.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// The opcode for a 4-bit wire value, or `None` for a reserved one.
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }
}

/// The largest frame header: 2 bytes, an 8-byte extended length and a 4-byte mask.
pub const MAX_HEADER_LEN: usize = 14;

/// Writes a frame header into `out` and returns its length (2..=14), for callers that write
/// header and payload with one vectored write (server role: no mask, payload not copied).
///
/// The length uses the shortest encoding (RFC 6455 §5.2). With `mask`, the payload that follows
/// must be masked with it (see [`apply_mask`](crate::apply_mask)); without it, it goes as is.
///
/// # Examples
///
/// ```
/// use typhoon_websocket::{OpCode, encode_header};
/// let mut header = [0; 14];
/// let n = encode_header(&mut header, true, false, OpCode::Text, 5, None);
/// assert_eq!(&header[..n], &[0x81, 0x05]);
/// let n = encode_header(&mut header, true, false, OpCode::Binary, 300, Some([1, 2, 3, 4]));
/// assert_eq!(&header[..n], &[0x82, 0xFE, 0x01, 0x2C, 1, 2, 3, 4]);
/// ```
pub fn encode_header(
    out: &mut [u8; 14],
    fin: bool,
    rsv1: bool,
    opcode: OpCode,
    payload_len: u64,
    mask: Option<[u8; 4]>,
) -> usize {
    out[0] = (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode.as_u8();
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut n = 2;
    if payload_len < 126 {
        // Fits in 7 bits: the branch guarantees the cast loses nothing.
        out[1] = mask_bit | payload_len as u8;
    } else if let Ok(len) = u16::try_from(payload_len) {
        out[1] = mask_bit | 126;
        out[2..4].copy_from_slice(&len.to_be_bytes());
        n = 4;
    } else {
        out[1] = mask_bit | 127;
        out[2..10].copy_from_slice(&payload_len.to_be_bytes());
        n = 10;
    }
    if let Some(key) = mask {
        out[n..n + 4].copy_from_slice(&key);
        n += 4;
    }
    n
}

/// A parsed frame header, checked only for what needs no connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// FIN: the last frame of its message.
    pub(crate) fin: bool,
    /// The RSV1..RSV3 bits, RSV1 as 4.
    pub(crate) rsv: u8,
    /// The raw 4-bit opcode (reserved values are rejected by the decoder, which knows the
    /// offending value for the error).
    pub(crate) opcode: u8,
    /// The masking key, if the mask bit was set.
    pub(crate) mask: Option<[u8; 4]>,
    /// The payload length.
    pub(crate) payload_len: u64,
}

/// Parses a header from the start of `bytes`: `Ok(None)` if more bytes are needed, else the
/// header and its length.
///
/// # Errors
///
/// [`ProtocolError::InvalidPayloadLength`] for a 64-bit length with the top bit set.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<Option<(Header, usize)>, ProtocolError> {
    let [b0, b1, ..] = *bytes else {
        return Ok(None);
    };
    let masked = b1 & 0x80 != 0;
    let (ext, len7) = match b1 & 0x7F {
        126 => (2, None),
        127 => (8, None),
        len => (0, Some(u64::from(len))),
    };
    let total = 2 + ext + if masked { 4 } else { 0 };
    if bytes.len() < total {
        return Ok(None);
    }
    let payload_len = match (len7, ext) {
        (Some(len), _) => len,
        (None, 2) => u64::from(u16::from_be_bytes([bytes[2], bytes[3]])),
        _ => {
            let mut be = [0; 8];
            be.copy_from_slice(&bytes[2..10]);
            let len = u64::from_be_bytes(be);
            if len >> 63 != 0 {
                return Err(ProtocolError::InvalidPayloadLength);
            }
            len
        }
    };
    let mask = masked.then(|| {
        let at = 2 + ext;
        [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]
    });
    let header = Header {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0x0F,
        mask,
        payload_len,
    };
    Ok(Some((header, total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        for len in [0u64, 1, 125, 126, 127, 65535, 65536, 1 << 40] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let mut buf = [0; 14];
                let n = encode_header(&mut buf, true, true, OpCode::Binary, len, mask);
                let (h, used) = parse_header(&buf[..n]).unwrap().unwrap();
                assert_eq!(used, n);
                assert_eq!(h.payload_len, len);
                assert_eq!(h.mask, mask);
                assert_eq!((h.fin, h.rsv, h.opcode), (true, 4, 2));
                for short in 0..n {
                    assert_eq!(parse_header(&buf[..short]).unwrap(), None);
                }
            }
        }
    }

    #[test]
    fn top_bit_of_64_bit_length() {
        let mut buf = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1];
        assert!(matches!(
            parse_header(&buf),
            Err(ProtocolError::InvalidPayloadLength)
        ));
        buf[2] = 0x7F;
        assert!(parse_header(&buf).unwrap().is_some());
    }

    #[test]
    fn opcodes() {
        for v in 0..16u8 {
            match OpCode::from_u8(v) {
                Some(op) => assert_eq!(op.as_u8(), v),
                None => assert!(matches!(v, 3..=7 | 0xB..=0xF)),
            }
        }
        assert!(OpCode::Ping.is_control() && !OpCode::Continuation.is_control());
    }
}
