//! Bodies in pieces: [`BodyWriter`] for streamed request bodies, and the sink that takes a
//! response body (inflating gzip, enforcing `max_body_size`, feeding a streaming callback).

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use typhoon_iostream::IOStream;

use crate::error::{HTTPClientError, Result};
use crate::request::StreamingCallback;

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
        let total = self.written.get() + data.len() as u64;
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
pub(crate) struct Sink<'a> {
    /// The body, when there is no streaming callback.
    pub(crate) body: Vec<u8>,
    /// The caller's streaming callback (`None` also for redirects being followed).
    callback: Option<&'a mut StreamingCallback>,
    /// Drop everything (a redirect's body).
    discard: bool,
    /// `max_body_size`, over the bytes received and over the inflated bytes.
    limit: u64,
    /// Body bytes received (before inflating).
    pub(crate) received: u64,
    /// Bytes after inflating.
    delivered: u64,
    /// The gzip inflater, for `Content-Encoding: gzip` with `decompress_response`.
    #[cfg(feature = "gzip")]
    gzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(
        callback: Option<&'a mut StreamingCallback>,
        discard: bool,
        limit: u64,
        gzip: bool,
    ) -> Self {
        #[cfg(not(feature = "gzip"))]
        let _ = gzip;
        Self {
            body: Vec::new(),
            callback,
            discard,
            limit,
            received: 0,
            delivered: 0,
            #[cfg(feature = "gzip")]
            gzip: gzip.then(|| flate2::write::GzDecoder::new(Vec::new())),
        }
    }

    /// Takes body bytes as received.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<()> {
        self.received += data.len() as u64;
        if self.received > self.limit {
            return Err(HTTPClientError::BodyTooLarge { limit: self.limit });
        }
        if self.discard {
            return Ok(());
        }
        #[cfg(feature = "gzip")]
        if let Some(gzip) = &mut self.gzip {
            use std::io::Write;
            gzip.write_all(data)
                .map_err(|source| HTTPClientError::Decompress { source })?;
            let inflated = std::mem::take(gzip.get_mut());
            return self.deliver(&inflated);
        }
        self.deliver(data)
    }

    fn deliver(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.delivered += data.len() as u64;
        if self.delivered > self.limit {
            return Err(HTTPClientError::BodyTooLarge { limit: self.limit });
        }
        match &mut self.callback {
            Some(callback) => callback(data),
            None => self.body.extend_from_slice(data),
        }
        Ok(())
    }

    /// The body is complete: flush the inflater and return the collected body.
    #[cfg_attr(not(feature = "gzip"), allow(unused_mut))]
    pub(crate) fn finish(mut self) -> Result<Vec<u8>> {
        #[cfg(feature = "gzip")]
        if let Some(mut gzip) = self.gzip.take()
            && self.received > 0
            && !self.discard
        {
            gzip.try_finish()
                .map_err(|source| HTTPClientError::Decompress { source })?;
            let rest = std::mem::take(gzip.get_mut());
            self.deliver(&rest)?;
        }
        Ok(self.body)
    }
}

#[cfg(all(test, feature = "gzip"))]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("in memory");
        encoder.finish().expect("in memory")
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
