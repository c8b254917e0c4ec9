//! [`Decoder`]: bytes received in, [`Event`]s out (RFC 6455 §5–7, RFC 7692 §6).

use crate::close::is_valid_received_code;
#[cfg(feature = "deflate")]
use crate::deflate::Inflater;
use crate::error::ProtocolError;
use crate::frame::{Header, MAX_HEADER_LEN, OpCode, Role, parse_header};
use crate::mask::apply_mask;
use crate::message::{CloseFrame, Event, Message};
use crate::utf8::Utf8Validator;

/// Tornado's `websocket_max_message_size` default: 10 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// The largest control frame payload (RFC 6455 §5.5).
const MAX_CONTROL_LEN: usize = 125;

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// Its opcode, known to be defined.
    opcode: OpCode,
    /// FIN: it ends its message.
    fin: bool,
    /// Its masking key (servers receive masked frames, clients unmasked).
    mask: Option<[u8; 4]>,
    /// Payload bytes still to come.
    remaining: u64,
    /// Payload bytes read so far: the position in the mask stream.
    read: usize,
}

/// The data message being assembled, between its first frame and its FIN.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Text (validated as UTF-8) or binary.
    text: bool,
    /// Its first frame had RSV1: the payload is inflated as it arrives.
    compressed: bool,
}

/// Decodes one connection's received bytes into [`Event`]s; one per connection.
///
/// Push-style and sans-IO: hand it whatever bytes arrived, partial frames included; it keeps
/// the state between calls. Data payloads are unmasked in place as they are appended to the
/// message being assembled (one copy out of the caller's buffer), compressed payloads are
/// inflated as they arrive, and text is validated as UTF-8 incrementally, so a bad byte fails the
/// connection as soon as it arrives. Control frames are returned as soon as they complete, also
/// between the fragments of a message. After a close frame the decoder ignores all further
/// input (RFC 6455 §5.5.1: nothing may follow it).
///
/// # Examples
///
/// ```
/// use typhoon_websocket::{Decoder, Event, Message, Role, DEFAULT_MAX_MESSAGE_SIZE};
///
/// let mut decoder = Decoder::new(Role::Client, DEFAULT_MAX_MESSAGE_SIZE);
/// // An unmasked text frame "Hi" from a server, arriving in two pieces.
/// let (used, event) = decoder.decode(&[0x81, 0x02, b'H']).unwrap();
/// assert_eq!((used, event), (3, None));
/// let (used, event) = decoder.decode(&[b'i']).unwrap();
/// assert_eq!(used, 1);
/// assert_eq!(event, Some(Event::Message(Message::Text("Hi".into()))));
/// ```
#[derive(Debug)]
pub struct Decoder {
    /// Our role: servers require masked frames, clients unmasked ones.
    role: Role,
    /// The largest message accepted, after reassembly and inflation.
    max_message_size: usize,
    /// A header that arrived split across calls, collected here until complete.
    header: [u8; MAX_HEADER_LEN],
    /// How many bytes of `header` are filled; 0 when no header is pending.
    header_len: usize,
    /// The frame whose payload is being read, after its header.
    frame: Option<Frame>,
    /// The data message being assembled, if one is open.
    message: Option<Open>,
    /// The open message's payload so far (unmasked, inflated).
    buf: Vec<u8>,
    /// Payload bytes received for the open message, before inflation (the header-time limit).
    wire_len: u64,
    /// How much of `buf` is known to be valid UTF-8, for text messages.
    utf8: Utf8Validator,
    /// A control frame's payload (at most 125 bytes): allocated by the first control frame
    /// with a payload and reused after, so a connection that never pings holds none.
    control: Vec<u8>,
    /// The permessage-deflate decompressor, once negotiated; RSV1 is refused without it.
    #[cfg(feature = "deflate")]
    inflater: Option<Inflater>,
    /// The error that failed the decoder; returned again by every later call.
    failed: Option<ProtocolError>,
    /// A close frame was decoded; later input is ignored.
    closed: bool,
}

impl Decoder {
    /// A decoder for one connection of `role`, refusing messages over `max_message_size` bytes
    /// (Tornado's default is [`DEFAULT_MAX_MESSAGE_SIZE`]).
    pub fn new(role: Role, max_message_size: usize) -> Self {
        Self {
            role,
            max_message_size,
            header: [0; MAX_HEADER_LEN],
            header_len: 0,
            frame: None,
            message: None,
            buf: Vec::new(),
            wire_len: 0,
            utf8: Utf8Validator::default(),
            control: Vec::new(),
            #[cfg(feature = "deflate")]
            inflater: None,
            failed: None,
            closed: false,
        }
    }

    /// Accepts compressed messages (RSV1) from now on, inflating them with `inflater`; call it
    /// once permessage-deflate was negotiated, before decoding any frame.
    #[cfg(feature = "deflate")]
    pub fn set_inflater(&mut self, inflater: Inflater) {
        self.inflater = Some(inflater);
    }

    /// Whether a close frame was decoded (later input is ignored).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Decodes from `input` (bytes received, possibly a partial frame): returns how many bytes
    /// it consumed and the event it completed, if any. The caller drops the consumed bytes and
    /// calls again with what is left (plus new bytes) until it consumes 0 and returns `None`.
    ///
    /// Partial payloads are consumed (streamed into the message being assembled), so the
    /// caller's buffer never has to hold a whole frame. It returns as soon as it completes an
    /// event, so `input` may still hold more frames.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] when the peer broke the protocol: fail the connection with its
    /// [`close_code`](ProtocolError::close_code). After an error the decoder is failed: every
    /// later call returns the same error again.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Event>), ProtocolError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.closed {
            return Ok((input.len(), None));
        }
        self.decode_frames(input).inspect_err(|err| {
            self.failed = Some(err.clone());
        })
    }

    /// [`decode`](Self::decode) without the failed and closed states.
    fn decode_frames(&mut self, input: &[u8]) -> Result<(usize, Option<Event>), ProtocolError> {
        let mut pos = 0;
        loop {
            let mut frame = match self.frame {
                Some(frame) => frame,
                None => match self.read_header(&input[pos..])? {
                    Some((frame, used)) => {
                        pos += used;
                        frame
                    }
                    None => return Ok((input.len(), None)),
                },
            };
            let available = input.len() - pos;
            let take = usize::try_from(frame.remaining).map_or(available, |r| r.min(available));
            self.read_payload(&mut frame, &input[pos..pos + take])?;
            pos += take;
            if frame.remaining > 0 {
                self.frame = Some(frame);
                return Ok((pos, None));
            }
            self.frame = None;
            if let Some(event) = self.finish_frame(frame)? {
                return Ok((pos, Some(event)));
            }
            if pos == input.len() {
                return Ok((pos, None));
            }
        }
    }

    /// Reads a header from `input`, collecting it across calls if it arrives split; returns
    /// the checked frame and the bytes of `input` used, or `None` if `input` ran out first
    /// (all of it is then kept in `header`).
    fn read_header(&mut self, input: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
        let (header, used) = if self.header_len == 0 {
            match parse_header(input)? {
                Some(parsed) => parsed,
                None => {
                    // Shorter than the header it starts, which is at most 14 bytes.
                    self.header[..input.len()].copy_from_slice(input);
                    self.header_len = input.len();
                    return Ok(None);
                }
            }
        } else {
            let old = self.header_len;
            let add = (MAX_HEADER_LEN - old).min(input.len());
            self.header[old..old + add].copy_from_slice(&input[..add]);
            self.header_len += add;
            match parse_header(&self.header[..self.header_len])? {
                Some((header, len)) => {
                    self.header_len = 0;
                    (header, len - old)
                }
                None => return Ok(None),
            }
        };
        Ok(Some((self.start_frame(header)?, used)))
    }

    /// Whether RSV1 may mean "compressed" on this connection.
    fn has_inflater(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.inflater.is_some();
        #[cfg(not(feature = "deflate"))]
        return false;
    }

    /// Checks a header against the connection's state (RFC 6455 §5.1–5.5, RFC 7692 §6.1) and
    /// opens a message for the first frame of one.
    fn start_frame(&mut self, header: Header) -> Result<Frame, ProtocolError> {
        let opcode = OpCode::from_u8(header.opcode);
        let rsv1_allowed =
            self.has_inflater() && matches!(opcode, Some(OpCode::Text | OpCode::Binary));
        if header.rsv & 0b011 != 0 || (header.rsv & 0b100 != 0 && !rsv1_allowed) {
            return Err(ProtocolError::ReservedBits {
                rsv: header.rsv,
                opcode: header.opcode,
            });
        }
        let opcode = opcode.ok_or(ProtocolError::UnknownOpcode(header.opcode))?;
        match (self.role, header.mask) {
            (Role::Server, None) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, Some(_)) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let len = header.payload_len;
        if opcode.is_control() {
            if !header.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if len > MAX_CONTROL_LEN as u64 {
                return Err(ProtocolError::ControlFrameTooLong(len));
            }
            self.control.clear();
        } else {
            match (opcode, self.message) {
                (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
                (OpCode::Continuation, Some(_)) => {}
                (_, Some(_)) => return Err(ProtocolError::UnfinishedMessage),
                (_, None) => {
                    self.message = Some(Open {
                        text: opcode == OpCode::Text,
                        compressed: header.rsv & 0b100 != 0,
                    });
                    self.wire_len = 0;
                    self.utf8.reset();
                }
            }
            // Checked from the header, before any of the payload is read.
            if self.wire_len.saturating_add(len) > self.max_message_size as u64 {
                return Err(self.too_big());
            }
        }
        Ok(Frame {
            opcode,
            fin: header.fin,
            mask: header.mask,
            remaining: len,
            read: 0,
        })
    }

    /// The error for a message over the limit.
    fn too_big(&self) -> ProtocolError {
        ProtocolError::MessageTooBig {
            max: self.max_message_size,
        }
    }

    /// Takes the next piece of `frame`'s payload: unmasked into the control buffer, or onto the
    /// message (inflated if compressed, UTF-8 checked if text).
    fn read_payload(&mut self, frame: &mut Frame, chunk: &[u8]) -> Result<(), ProtocolError> {
        if frame.opcode.is_control() {
            let start = self.control.len();
            if self.control.capacity() == 0 {
                self.control.reserve_exact(MAX_CONTROL_LEN);
            }
            self.control.extend_from_slice(chunk);
            if let Some(mask) = frame.mask {
                apply_mask(&mut self.control[start..], mask, frame.read);
            }
        } else {
            let open = self
                .message
                .expect("invariant: a data frame's payload belongs to an open message");
            if open.compressed {
                self.inflate_payload(frame, chunk)?;
            } else {
                let start = self.buf.len();
                self.buf.extend_from_slice(chunk);
                if let Some(mask) = frame.mask {
                    apply_mask(&mut self.buf[start..], mask, frame.read);
                }
            }
            if open.text && self.utf8.feed(&self.buf).is_err() {
                return Err(ProtocolError::InvalidUtf8);
            }
            self.wire_len += chunk.len() as u64;
        }
        frame.read += chunk.len();
        frame.remaining -= chunk.len() as u64;
        Ok(())
    }

    /// Unmasks compressed payload through a small stack buffer and inflates it onto `buf`.
    #[cfg(feature = "deflate")]
    fn inflate_payload(&mut self, frame: &Frame, chunk: &[u8]) -> Result<(), ProtocolError> {
        let inflater = self
            .inflater
            .as_mut()
            .expect("invariant: RSV1 is accepted only with an inflater");
        let mut scratch = [0; 4096];
        let mut read = frame.read;
        for piece in chunk.chunks(scratch.len()) {
            let scratch = &mut scratch[..piece.len()];
            scratch.copy_from_slice(piece);
            if let Some(mask) = frame.mask {
                apply_mask(scratch, mask, read);
            }
            inflater.inflate(scratch, &mut self.buf, self.max_message_size)?;
            read += piece.len();
        }
        Ok(())
    }

    /// Without `deflate`, RSV1 is always refused, so no message is compressed.
    #[cfg(not(feature = "deflate"))]
    fn inflate_payload(&mut self, _frame: &Frame, _chunk: &[u8]) -> Result<(), ProtocolError> {
        unreachable!("invariant: RSV1 is refused without the deflate feature")
    }

    /// Completes a frame whose payload is all read: the event for a control frame or for the
    /// last frame of a message.
    fn finish_frame(&mut self, frame: Frame) -> Result<Option<Event>, ProtocolError> {
        let payload = &self.control[..];
        Ok(Some(match frame.opcode {
            OpCode::Ping => Event::Ping(payload.to_vec()),
            OpCode::Pong => Event::Pong(payload.to_vec()),
            OpCode::Close => {
                let close = parse_close(payload)?;
                self.closed = true;
                Event::Close(close)
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                if !frame.fin {
                    return Ok(None);
                }
                return self.finish_message().map(|m| Some(Event::Message(m)));
            }
        }))
    }

    /// Ends the open message: the last inflation, the final UTF-8 check, and the message.
    fn finish_message(&mut self) -> Result<Message, ProtocolError> {
        let open = self
            .message
            .take()
            .expect("invariant: a final data frame belongs to an open message");
        #[cfg(feature = "deflate")]
        // An empty compressed payload is an empty message (zlib would read the `00 00 ff ff`
        // as a block header and wait for more).
        if open.compressed && self.wire_len > 0 {
            let inflater = self
                .inflater
                .as_mut()
                .expect("invariant: RSV1 is accepted only with an inflater");
            inflater.finish_message(&mut self.buf, self.max_message_size)?;
            if open.text && self.utf8.feed(&self.buf).is_err() {
                return Err(ProtocolError::InvalidUtf8);
            }
        }
        self.wire_len = 0;
        if open.text && !self.utf8.finish(&self.buf) {
            return Err(ProtocolError::InvalidUtf8);
        }
        let buf = std::mem::take(&mut self.buf);
        Ok(if open.text {
            // Validated as it arrived; std checks again, as it must without unsafe code.
            Message::Text(String::from_utf8(buf).map_err(|_| ProtocolError::InvalidUtf8)?)
        } else {
            Message::Binary(buf)
        })
    }
}

/// Parses a close frame's payload (RFC 6455 §5.5.1, §7.4).
fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_received_code(code) {
                return Err(ProtocolError::InvalidCloseCode(code));
            }
            let reason =
                std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_split_at_every_byte() {
        // Masked binary frame with a 16-bit length (200 bytes).
        let mask = [1, 2, 3, 4];
        let mut frame = vec![0x82, 0x80 | 126, 0, 200];
        frame.extend_from_slice(&mask);
        let mut payload = vec![0xAB; 200];
        apply_mask(&mut payload, mask, 0);
        frame.extend_from_slice(&payload);
        for split in 0..frame.len() {
            let mut decoder = Decoder::new(Role::Server, 1000);
            let (used, event) = decoder.decode(&frame[..split]).unwrap();
            assert_eq!((used, event), (split, None));
            let (used, event) = decoder.decode(&frame[split..]).unwrap();
            assert_eq!(used, frame.len() - split);
            assert_eq!(
                event,
                Some(Event::Message(Message::Binary(vec![0xAB; 200])))
            );
        }
    }

    #[test]
    fn failed_decoder_stays_failed() {
        let mut decoder = Decoder::new(Role::Server, 1000);
        let err = decoder.decode(&[0x81, 0x00]).unwrap_err();
        assert_eq!(err, ProtocolError::UnmaskedFrame);
        assert_eq!(
            decoder.decode(&[]).unwrap_err(),
            ProtocolError::UnmaskedFrame
        );
    }

    #[test]
    fn input_after_close_is_ignored() {
        let mut decoder = Decoder::new(Role::Client, 1000);
        let (used, event) = decoder.decode(&[0x88, 0x00, 0xFF, 0xFF]).unwrap();
        assert_eq!((used, event), (2, Some(Event::Close(None))));
        assert!(decoder.is_closed());
        assert_eq!(decoder.decode(&[0xFF, 0xFF]).unwrap(), (2, None));
    }
}
