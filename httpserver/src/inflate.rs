//! Inflating a `Content-Encoding: gzip` request body as it arrives, in bounded steps (Tornado's
//! `_GzipMessageDelegate`): no step produces more than about 96 KiB (see [`STEP`]), and the
//! inflated total is held to `max_body_size`.

use std::io::Write;
use std::sync::Arc;

use typhoon_httputil::{HTTPInputError, Result};

/// The inflated bytes one step aims for (Tornado's `chunk_size`, 64 KiB). flate2's writer emits
/// at most 32 KiB per write, and holds back its last write's output until the next write or a
/// flush: a step writes while it has less than half of this, then flushes when its input is
/// used up, so it yields at most about 96 KiB, however much the input would inflate.
pub(crate) const STEP: usize = 64 * 1024;

/// A gzip stream being inflated: compressed input waits in `pending` until steps consume it.
/// Several gzip members one after another (RFC 1952 §2.2, `cat a.gz b.gz`) inflate as one body.
pub(crate) struct Inflater {
    /// The decoder; its inner `Vec` collects the current step's output.
    decoder: flate2::write::MultiGzDecoder<Vec<u8>>,
    /// Whether any compressed byte arrived: an empty body stays empty, as in Tornado.
    received: bool,
    /// Compressed bytes received but not yet inflated.
    pending: Vec<u8>,
    /// How much of `pending` the decoder took.
    taken: usize,
    /// Inflated bytes so far.
    inflated: u64,
    /// The most inflated bytes allowed (`max_body_size`).
    limit: u64,
}

fn corrupt(error: std::io::Error) -> HTTPInputError {
    HTTPInputError::CorruptContentEncoding {
        source: Arc::new(error),
    }
}

impl Inflater {
    /// An inflater whose output may total `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            decoder: flate2::write::MultiGzDecoder::new(Vec::new()),
            received: false,
            pending: Vec::new(),
            taken: 0,
            inflated: 0,
            limit,
        }
    }

    /// Whether compressed input is waiting for a step.
    pub(crate) fn has_pending(&self) -> bool {
        self.taken < self.pending.len()
    }

    /// Queues compressed bytes (after the previous ones were consumed).
    pub(crate) fn push(&mut self, compressed: Vec<u8>) {
        self.received |= !compressed.is_empty();
        if self.has_pending() {
            self.pending.drain(..self.taken);
            self.pending.extend_from_slice(&compressed);
        } else {
            self.pending = compressed;
        }
        self.taken = 0;
    }

    /// One bounded step: inflates pending input until about [`STEP`] bytes came out or the
    /// input is used up (then what the decoder held back comes out too). Returns the bytes
    /// (possibly none).
    ///
    /// # Errors
    ///
    /// [`HTTPInputError::CorruptContentEncoding`] for input that is not gzip (bytes after a
    /// member that do not start another one included); [`HTTPInputError::BodyTooLarge`] once the output passes
    /// `limit`.
    pub(crate) fn step(&mut self) -> Result<Vec<u8>> {
        while self.has_pending() && self.decoder.get_ref().len() < STEP / 2 {
            let taken = self
                .decoder
                .write(&self.pending[self.taken..])
                .map_err(corrupt)?;
            if taken == 0 {
                // No progress on input that is there (Tornado's "unconsumed gzip data without
                // making progress").
                return Err(corrupt(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "gzip data the decoder does not consume",
                )));
            }
            self.taken += taken;
            self.count()?;
        }
        if !self.has_pending() {
            // Keep no compressed copy around between steps.
            self.pending = Vec::new();
            self.taken = 0;
            // The decoder holds back the output of its last write until the next one: hand it
            // over now, so a client that sends a chunk and waits for an answer gets it read.
            // With no new input this yields only what is already inflated.
            self.decoder.flush().map_err(corrupt)?;
            self.count()?;
        }
        Ok(self.take_output())
    }

    /// The end of the compressed input: checks that the gzip stream is complete (trailer and
    /// checksum) and returns its last inflated bytes.
    ///
    /// # Errors
    ///
    /// As [`step`](Self::step), for a truncated stream too.
    pub(crate) fn finish(&mut self) -> Result<Vec<u8>> {
        if !self.received {
            // An empty body with `Content-Encoding: gzip` is an empty body.
            return Ok(Vec::new());
        }
        self.decoder.try_finish().map_err(corrupt)?;
        self.count()?;
        Ok(self.take_output())
    }

    /// The step's output, counted as delivered.
    fn take_output(&mut self) -> Vec<u8> {
        let out = std::mem::take(self.decoder.get_mut());
        self.inflated = self.inflated.saturating_add(out.len() as u64);
        out
    }

    /// Counts the output of the last write against the limit.
    fn count(&mut self) -> Result<()> {
        let total = self
            .inflated
            .saturating_add(self.decoder.get_ref().len() as u64);
        if total > self.limit {
            return Err(HTTPInputError::BodyTooLarge);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Inflates `compressed` split into `piece`-byte pushes; returns the output and the largest step.
    fn inflate(compressed: &[u8], piece: usize, limit: u64) -> Result<(Vec<u8>, usize)> {
        let mut inflater = Inflater::new(limit);
        let (mut out, mut largest) = (Vec::new(), 0);
        for part in compressed.chunks(piece) {
            inflater.push(part.to_vec());
            while inflater.has_pending() {
                let step = inflater.step()?;
                largest = largest.max(step.len());
                out.extend_from_slice(&step);
            }
        }
        let tail = inflater.finish()?;
        largest = largest.max(tail.len());
        out.extend_from_slice(&tail);
        Ok((out, largest))
    }

    #[test]
    fn round_trip_in_bounded_steps() {
        let data = vec![b'a'; 10 << 20];
        let compressed = gzip(&data);
        for piece in [1, 7, 4096, compressed.len()] {
            let (out, largest) = inflate(&compressed, piece, u64::MAX).unwrap();
            assert!(out == data, "piece {piece}");
            assert!(largest <= STEP + 32 * 1024, "step of {largest} bytes");
        }
    }

    #[test]
    fn empty_and_multi_member_bodies() {
        assert_eq!(inflate(b"", 10, u64::MAX).unwrap().0, b"");
        let mut two = gzip(b"hello, ");
        two.extend_from_slice(&gzip(b"world"));
        for piece in [1, 5, two.len()] {
            assert_eq!(inflate(&two, piece, u64::MAX).unwrap().0, b"hello, world");
        }
    }

    #[test]
    fn a_chunk_is_handed_over_without_waiting_for_the_next() {
        // A sync-flushed piece of a longer stream: its bytes come out of the step that
        // consumed it, not the one after.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"hello").unwrap();
        encoder.flush().unwrap();
        let first = encoder.get_ref().clone();
        let mut inflater = Inflater::new(u64::MAX);
        inflater.push(first);
        assert_eq!(inflater.step().unwrap(), b"hello");
    }

    #[test]
    fn limit_counts_inflated_bytes() {
        let data = vec![0u8; 1 << 20];
        let compressed = gzip(&data);
        assert!(inflate(&compressed, 4096, 1 << 20).is_ok());
        assert!(matches!(
            inflate(&compressed, 4096, (1 << 20) - 1),
            Err(HTTPInputError::BodyTooLarge)
        ));
    }

    #[test]
    fn corrupt_truncated_and_trailing() {
        assert!(matches!(
            inflate(b"not gzip at all", 4, u64::MAX),
            Err(HTTPInputError::CorruptContentEncoding { .. })
        ));
        let compressed = gzip(b"hello");
        assert!(matches!(
            inflate(&compressed[..compressed.len() - 3], 100, u64::MAX),
            Err(HTTPInputError::CorruptContentEncoding { .. })
        ));
        let mut trailing = compressed.clone();
        trailing.extend_from_slice(b"junk that is not a gzip member");
        assert!(matches!(
            inflate(&trailing, 100, u64::MAX),
            Err(HTTPInputError::CorruptContentEncoding { .. })
        ));
        let mut flipped = compressed;
        let n = flipped.len();
        flipped[n - 6] ^= 0xff; // the CRC32
        assert!(matches!(
            inflate(&flipped, 100, u64::MAX),
            Err(HTTPInputError::CorruptContentEncoding { .. })
        ));
    }
}
