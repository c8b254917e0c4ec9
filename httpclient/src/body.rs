//! Bodies in pieces: [`BodyWriter`] for streamed request bodies, and the sink that takes a
//! response body (inflating gzip, enforcing `max_body_size`, feeding a streaming callback).

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use typhoon_iostream::IOStream;

use crate::error::{HTTPClientError, Result};

/// Receives response body pieces (a request's `streaming_callback`).
pub(crate) type StreamingCallback = dyn FnMut(&[u8]);

/// Receives response head lines (a request's `header_callback`).
pub(crate) type HeaderCallback = dyn FnMut(&str);

/// Writes a streamed request body; handed to a
/// [`body_producer`](crate::HTTPRequest::body_producer) (Tornado's `write` argument).
pub struct BodyWriter {
    /// The connection's stream.
    stream: Rc<IOStream>,
    /// Whether each piece is framed as a chunk (no `Content-Length` was set).
    chunked: bool,
    /// The declared `Content-Length`, checked as pieces are written.
    declared: Option<u64>,
    /// Bytes written so far, shared with the connection that checks it at the end.
    written: Rc<Cell<u64>>,
}

impl BodyWriter {
    pub(crate) fn new(stream: Rc<IOStream>, declared: Option<u64>, written: Rc<Cell<u64>>) -> Self {
        Self {
            stream,
            chunked: declared.is_none(),
            declared,
            written,
        }
    }

    /// Sends `data` as the next piece of the body and waits until it reached the kernel (so a
    /// producer runs no faster than the network takes its bytes). An empty piece sends nothing.
    ///
    /// # Errors
    ///
    /// [`HTTPClientError::ConnectionClosed`] if the connection fails;
    /// [`HTTPClientError::InvalidRequest`] past the declared `Content-Length`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: a dropped write may leave part of a chunk queued, so the body is broken;
    /// the fetch it belongs to fails anyway when its producer is dropped.
    pub async fn write(&self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let total = self.written.get().saturating_add(data.len() as u64);
        if let Some(declared) = self.declared
            && total > declared
        {
            return Err(HTTPClientError::InvalidRequest {
                reason: "the body producer wrote more than Content-Length",
            });
        }
        self.written.set(total);
        let result = if self.chunked {
            let queued = self
                .stream
                .write_buffered(format!("{:x}\r\n", data.len()).as_bytes())
                .and_then(|()| self.stream.write_buffered(data))
                .and_then(|()| self.stream.write_buffered(b"\r\n"));
            match queued {
                Ok(()) => self.stream.flush().await,
                Err(error) => Err(error),
            }
        } else {
            self.stream.write(data).await
        };
        result.map_err(HTTPClientError::closed)
    }
}

impl fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyWriter")
            .field("chunked", &self.chunked)
            .field("declared", &self.declared)
            .field("written", &self.written.get())
            .finish_non_exhaustive()
    }
}

/// Where response body bytes go: inflated if gzip, then to the streaming callback or the body.
///
/// A gzip body is inflated in bounded steps: flate2's write-side decoder inflates into a buffer
/// of fixed capacity (32 KiB; it never grows it) and writes each full buffer to [`Output`],
/// which checks `max_body_size` before taking it. However small the compressed chunk and
/// however large it inflates, the decoded bytes held are never more than the limit plus one
/// step.
pub(crate) struct Sink<'a> {
    /// Drop everything (a redirect's body).
    discard: bool,
    /// `max_body_size`, over the bytes received (before inflating).
    limit: u64,
    /// Body bytes received (before inflating).
    pub(crate) received: u64,
    /// Where the (inflated) bytes go.
    stage: Stage<'a>,
}

/// The last stage of a [`Sink`], behind the inflater or not.
enum Stage<'a> {
    /// An identity body.
    Plain(Output<'a>),
    /// `Content-Encoding: gzip` with `decompress_response` (boxed: the inflater's state is
    /// large, and most bodies are not compressed).
    #[cfg(feature = "gzip")]
    Gzip(Box<flate2::write::GzDecoder<Output<'a>>>),
}

/// The decoded body's destination, enforcing `max_body_size` on what it is given.
struct Output<'a> {
    /// The body, when there is no streaming callback.
    body: Vec<u8>,
    /// The caller's streaming callback (`None` also for redirects being followed).
    callback: Option<&'a mut StreamingCallback>,
    /// `max_body_size`, over the decoded bytes.
    limit: u64,
    /// Decoded bytes taken so far.
    delivered: u64,
    /// Set when a write was refused for the limit, so that the inflater's error it becomes is
    /// reported as [`HTTPClientError::BodyTooLarge`], not as a decompression failure.
    over_limit: bool,
}

impl Output<'_> {
    fn deliver(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let total = self.delivered.saturating_add(data.len() as u64);
        if total > self.limit {
            self.over_limit = true;
            return Err(HTTPClientError::BodyTooLarge { limit: self.limit });
        }
        self.delivered = total;
        match &mut self.callback {
            Some(callback) => callback(data),
            None => {
                // Grow by doubling, but never past the limit: the collected body's capacity
                // stays within `max_body_size` too.
                let needed = self.body.len() + data.len();
                if needed > self.body.capacity() {
                    let cap = usize::try_from(self.limit).unwrap_or(usize::MAX);
                    let grown = self
                        .body
                        .capacity()
                        .saturating_mul(2)
                        .clamp(needed, cap.max(needed));
                    self.body.reserve_exact(grown - self.body.len());
                }
                self.body.extend_from_slice(data);
            }
        }
        Ok(())
    }
}

#[cfg(feature = "gzip")]
impl std::io::Write for Output<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match self.deliver(data) {
            Ok(()) => Ok(data.len()),
            Err(_) => Err(std::io::Error::other(
                "response body larger than max_body_size",
            )),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> Sink<'a> {
    pub(crate) fn new(
        callback: Option<&'a mut StreamingCallback>,
        discard: bool,
        limit: u64,
        gzip: bool,
    ) -> Self {
        let output = Output {
            body: Vec::new(),
            callback,
            limit,
            delivered: 0,
            over_limit: false,
        };
        #[cfg(feature = "gzip")]
        let stage = if gzip {
            Stage::Gzip(Box::new(flate2::write::GzDecoder::new(output)))
        } else {
            Stage::Plain(output)
        };
        #[cfg(not(feature = "gzip"))]
        let stage = {
            let _ = gzip;
            Stage::Plain(output)
        };
        Self {
            discard,
            limit,
            received: 0,
            stage,
        }
    }

    /// Takes body bytes as received.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<()> {
        self.received = self.received.saturating_add(data.len() as u64);
        if self.received > self.limit {
            return Err(HTTPClientError::BodyTooLarge { limit: self.limit });
        }
        if self.discard {
            return Ok(());
        }
        match &mut self.stage {
            Stage::Plain(output) => output.deliver(data),
            #[cfg(feature = "gzip")]
            Stage::Gzip(gzip) => {
                use std::io::Write;
                let written = gzip.write_all(data);
                inflated(gzip, written)
            }
        }
    }

    /// The body is complete: flush the inflater and return the collected body.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>> {
        // Read only by the gzip stage (without the feature they would be unused).
        #[cfg_attr(not(feature = "gzip"), allow(unused_variables))]
        let (received, discard) = (self.received, self.discard);
        match &mut self.stage {
            Stage::Plain(output) => Ok(std::mem::take(&mut output.body)),
            #[cfg(feature = "gzip")]
            Stage::Gzip(gzip) => {
                if received > 0 && !discard {
                    let finished = gzip.try_finish();
                    inflated(gzip, finished)?;
                }
                Ok(std::mem::take(&mut gzip.get_mut().body))
            }
        }
    }

    /// The capacity of the collected body, for tests of the limit.
    #[cfg(all(test, feature = "gzip"))]
    fn body_capacity(&self) -> usize {
        match &self.stage {
            Stage::Plain(output) => output.body.capacity(),
            #[cfg(feature = "gzip")]
            Stage::Gzip(gzip) => gzip.get_ref().body.capacity(),
        }
    }
}

impl Drop for Sink<'_> {
    fn drop(&mut self) {
        // flate2 finishes the stream when its writer drops, writing out what it held back: a
        // fetch that failed or was cancelled must not call the caller's callback after that.
        #[cfg(feature = "gzip")]
        if let Stage::Gzip(gzip) = &mut self.stage {
            let output = gzip.get_mut();
            output.callback = None;
            output.limit = 0;
        }
    }
}

/// Maps the inflater's result: a write the limit refused is [`HTTPClientError::BodyTooLarge`],
/// any other failure a corrupt body.
#[cfg(feature = "gzip")]
fn inflated(
    gzip: &mut flate2::write::GzDecoder<Output<'_>>,
    result: std::io::Result<()>,
) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(_) if gzip.get_ref().over_limit => Err(HTTPClientError::BodyTooLarge {
            limit: gzip.get_ref().limit,
        }),
        Err(source) => Err(HTTPClientError::Decompress { source }),
    }
}

#[cfg(all(test, feature = "gzip"))]
mod tests {
    use std::io::Write;

    use super::*;

    /// The most inflated bytes handed over at once: the capacity of flate2's output buffer.
    const INFLATE_STEP: usize = 32 * 1024;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("in memory");
        encoder.finish().expect("in memory")
    }

    #[test]
    fn dropped_sink_calls_no_callback() {
        // A sync-flushed piece of a longer stream: the decoder holds part of it back, and would
        // hand it to the callback when dropped (the fetch failed meanwhile).
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder
            .write_all(&b"streamed ".repeat(1000))
            .expect("in memory");
        encoder.flush().expect("in memory");
        let piece = encoder.get_ref().clone();
        let calls = Rc::new(Cell::new(0));
        let counted = Rc::clone(&calls);
        let mut callback: Box<StreamingCallback> =
            Box::new(move |_: &[u8]| counted.set(counted.get() + 1));
        let mut sink = Sink::new(Some(&mut callback), false, u64::MAX, true);
        sink.push(&piece).expect("valid gzip");
        let before = calls.get();
        drop(sink);
        assert_eq!(
            calls.get(),
            before,
            "the callback ran after the sink was dropped"
        );
    }

    #[test]
    fn inflates_in_any_split() {
        let plain = b"hello hello hello hello gzip".repeat(100);
        let wire = gzip(&plain);
        for split in [1, 7, wire.len()] {
            let mut sink = Sink::new(None, false, u64::MAX, true);
            for piece in wire.chunks(split) {
                sink.push(piece).expect("valid gzip");
            }
            assert_eq!(sink.finish().expect("complete"), plain);
        }
    }

    #[test]
    fn bombs_stop_at_the_limit() {
        let wire = gzip(&vec![0u8; 1 << 20]);
        let mut sink = Sink::new(None, false, 64 * 1024, true);
        assert!(matches!(
            sink.push(&wire),
            Err(HTTPClientError::BodyTooLarge { limit: 65536 })
        ));
        assert!(
            sink.body_capacity() <= 64 * 1024,
            "{}",
            sink.body_capacity()
        );
    }

    #[test]
    fn inflates_in_bounded_steps() {
        // 4 MiB of zeros is about 4 KiB of gzip: one push, which once inflated in one go.
        let wire = gzip(&vec![0u8; 4 << 20]);
        let largest = Rc::new(Cell::new(0));
        let seen = Rc::clone(&largest);
        let mut callback = move |piece: &[u8]| seen.set(seen.get().max(piece.len()));
        let mut sink = Sink::new(Some(&mut callback), false, u64::MAX, true);
        sink.push(&wire).expect("valid gzip");
        sink.finish().expect("complete");
        assert!(
            (1..=INFLATE_STEP).contains(&largest.get()),
            "a piece of {} bytes",
            largest.get()
        );
    }

    #[test]
    fn collected_body_capacity_stays_within_the_limit() {
        let limit = 100_000;
        let plain = vec![7u8; limit];
        let wire = gzip(&plain);
        let mut sink = Sink::new(None, false, limit as u64, true);
        for piece in wire.chunks(1000) {
            sink.push(piece).expect("within the limit");
        }
        assert!(sink.body_capacity() <= limit, "{}", sink.body_capacity());
        assert_eq!(sink.finish().expect("complete"), plain);
    }

    #[test]
    fn garbage_is_a_decompress_error() {
        let mut sink = Sink::new(None, false, u64::MAX, true);
        let result = sink
            .push(b"this is not gzip at all")
            .and_then(|()| sink.finish().map(drop));
        assert!(matches!(result, Err(HTTPClientError::Decompress { .. })));
    }
}
