//! The per-connection compressor and decompressor (RFC 7692 §7.2).

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::negotiate::DeflateParams;
use super::pool;
use crate::error::ProtocolError;
use crate::frame::Role;

/// What a sync flush ends with, and what the receiver appends back (RFC 7692 §7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// zlib's raw deflate has no 256-byte window (madler/zlib#171), so 8 bits become 9. For
/// inflation 9 is also right: a larger window decodes anything a smaller one produced.
fn zlib_bits(bits: u8) -> u8 {
    bits.clamp(9, 15)
}

impl DeflateParams {
    /// The compressor and decompressor for this agreement, as `role` sees it: the server
    /// compresses with the `server_*` parameters and inflates with the `client_*` ones, the
    /// client the other way round. `compression_level` is zlib's 0..=9 (clamped).
    pub fn codec(&self, role: Role, compression_level: u32) -> (Deflater, Inflater) {
        let (ours, theirs) = match role {
            Role::Server => (
                (self.server_max_window_bits, self.server_no_context_takeover),
                (self.client_max_window_bits, self.client_no_context_takeover),
            ),
            Role::Client => (
                (self.client_max_window_bits, self.client_no_context_takeover),
                (self.server_max_window_bits, self.server_no_context_takeover),
            ),
        };
        (
            Deflater {
                state: None,
                level: compression_level.min(9),
                window_bits: zlib_bits(ours.0),
                no_context_takeover: ours.1,
            },
            Inflater {
                state: None,
                window_bits: zlib_bits(theirs.0),
                no_context_takeover: theirs.1,
            },
        )
    }
}

/// Compresses whole messages for one connection (hand it to
/// [`Encoder::set_deflater`](crate::Encoder::set_deflater)).
///
/// Each message is deflated with a sync flush and the trailing `00 00 ff ff` removed. The zlib
/// state is allocated on the first message and kept (context takeover) or reset after every
/// message (`no_context_takeover` for this side).
pub struct Deflater {
    /// zlib's state; `None` until the first message, so idle connections cost nothing.
    state: Option<Compress>,
    /// The zlib level, 0..=9.
    level: u32,
    /// The window, 9..=15 (8 was raised to 9: see [`DeflateParams::codec`]).
    window_bits: u8,
    /// Reset the state after each message: the peer may not keep our window.
    no_context_takeover: bool,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("allocated", &self.state.is_some())
            .field("level", &self.level)
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .finish()
    }
}

impl Deflater {
    /// The level and window bits, when they alone decide what a message compresses to (no
    /// context takeover: every message starts from a fresh state). Connections with the same
    /// pair then send the same bytes, so a broadcast compresses a message once for all of them.
    pub(crate) fn stateless_params(&self) -> Option<(u32, u8)> {
        self.no_context_takeover
            .then_some((self.level, self.window_bits))
    }

    /// Appends the compressed form of one message's `data` to `out`.
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let (level, bits) = (self.level, self.window_bits);
        // Without context takeover a state from the thread's pool serves this message only.
        let mut pooled = None;
        let zlib = if self.no_context_takeover {
            pooled.insert(pool::take_compressor(level, bits))
        } else {
            self.state.get_or_insert_with(|| {
                Compress::new_with_window_bits(Compression::new(level), false, bits)
            })
        };
        let start = out.len();
        let mut consumed = 0;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve((data.len() - consumed) / 2 + 64);
            }
            let before = zlib.total_in();
            zlib.compress_vec(&data[consumed..], out, FlushCompress::Sync)
                .expect("invariant: deflate with valid state and a sync flush does not fail");
            consumed += usize::try_from(zlib.total_in() - before)
                .expect("invariant: consumed at most data.len() bytes");
            // Done when all input is in and zlib left output space unused (the flush is over).
            if consumed == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.len() == start {
            // zlib emits nothing for a flush with no new input; the header bits of an empty
            // stored block must still go out, or `00 00 ff ff` would not parse (RFC 7692
            // §7.2.3.6: an empty message may be the single byte 0x00).
            out.push(0x00);
        }
        if let Some(zlib) = pooled {
            pool::give_compressor(level, bits, zlib);
        }
    }
}

/// Inflates compressed messages for one connection (hand it to
/// [`Decoder::set_inflater`](crate::Decoder::set_inflater)).
///
/// Payload is inflated in pieces as it arrives, into the message's buffer, which never grows
/// past the decoder's limit plus one byte: a compression bomb fails with
/// [`ProtocolError::MessageTooBig`] before it is inflated further. Allocated lazily; reset after
/// every message when the peer uses `no_context_takeover`.
pub struct Inflater {
    /// zlib's state; `None` until the first compressed message.
    state: Option<Decompress>,
    /// The window, 9..=15.
    window_bits: u8,
    /// Reset after each message: the peer resets its compressor.
    no_context_takeover: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("allocated", &self.state.is_some())
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .finish()
    }
}

impl Inflater {
    /// Inflates `input` (a piece of a compressed message) onto `out`, failing if `out` would
    /// grow past `limit` bytes.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        let bits = self.window_bits;
        let pooled = self.no_context_takeover;
        // Without context takeover the state comes from the thread's pool for this message and
        // goes back at its end.
        let zlib = self.state.get_or_insert_with(|| {
            if pooled {
                pool::take_decompressor(bits)
            } else {
                Decompress::new_with_window_bits(false, bits)
            }
        });
        let too_big = ProtocolError::MessageTooBig { max: limit };
        let mut consumed = 0;
        loop {
            if out.len() == out.capacity() {
                if out.len() > limit {
                    return Err(too_big);
                }
                // Double, but never past limit + 1: one byte over is how we see "too big".
                let room = out
                    .capacity()
                    .max(1024)
                    .min(limit.saturating_add(1) - out.len());
                out.reserve_exact(room);
            }
            let (before_in, before_out) = (zlib.total_in(), zlib.total_out());
            let status = zlib
                .decompress_vec(&input[consumed..], out, FlushDecompress::None)
                .map_err(|_| ProtocolError::InvalidCompressedData)?;
            let read = usize::try_from(zlib.total_in() - before_in)
                .expect("invariant: consumed at most input.len() bytes");
            consumed += read;
            if out.len() > limit {
                return Err(too_big);
            }
            if status == Status::StreamEnd {
                // A final block (BFINAL) ends the DEFLATE stream; what follows starts a new one.
                zlib.reset(false);
            }
            if consumed == input.len() && out.len() < out.capacity() {
                return Ok(());
            }
            if read == 0 && zlib.total_out() == before_out && out.len() < out.capacity() {
                return Err(ProtocolError::InvalidCompressedData);
            }
        }
    }

    /// Ends a compressed message: feeds the `00 00 ff ff` the sender removed, then resets the
    /// state if the peer does not keep its context.
    pub(crate) fn finish_message(
        &mut self,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        self.inflate(&TAIL, out, limit)?;
        if self.no_context_takeover
            && let Some(zlib) = self.state.take()
        {
            pool::give_decompressor(self.window_bits, zlib);
        }
        Ok(())
    }

    /// Whether zlib's state exists yet (it should not before the first compressed message).
    #[cfg(test)]
    pub(crate) fn is_allocated(&self) -> bool {
        self.state.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(bits: u8, no_takeover: bool) -> DeflateParams {
        DeflateParams {
            server_no_context_takeover: no_takeover,
            client_no_context_takeover: no_takeover,
            server_max_window_bits: bits,
            client_max_window_bits: bits,
        }
    }

    #[test]
    fn round_trip_and_lazy_state() {
        for bits in [8, 9, 12, 15] {
            for no_takeover in [false, true] {
                let p = params(bits, no_takeover);
                let (mut deflater, _) = p.codec(Role::Server, 6);
                let (_, mut inflater) = p.codec(Role::Client, 6);
                assert!(!inflater.is_allocated());
                for message in [&b"hello hello hello hello"[..], b"", &[7; 5000]] {
                    let mut wire = Vec::new();
                    deflater.compress(message, &mut wire);
                    assert!(!wire.ends_with(&TAIL));
                    let mut out = Vec::new();
                    let r = inflater.inflate(&wire, &mut out, 1 << 20);
                    assert!(
                        r.is_ok(),
                        "{bits} {no_takeover} {} {:x?}",
                        message.len(),
                        &wire[..wire.len().min(20)]
                    );
                    let r = inflater.finish_message(&mut out, 1 << 20);
                    assert!(
                        r.is_ok(),
                        "finish {bits} {no_takeover} {} {:x?}",
                        message.len(),
                        &wire[..wire.len().min(20)]
                    );
                    assert_eq!(out, message);
                }
            }
        }
    }

    #[test]
    fn bomb_stops_at_limit() {
        let p = params(15, false);
        let (mut deflater, mut inflater) = p.codec(Role::Server, 9);
        let mut wire = Vec::new();
        deflater.compress(&vec![0; 4 << 20], &mut wire);
        let mut out = Vec::new();
        let err = inflater.inflate(&wire, &mut out, 64 << 10).unwrap_err();
        assert!(matches!(err, ProtocolError::MessageTooBig { .. }));
        assert!(out.capacity() <= (64 << 10) + 1);
    }
}
