//! Reading a request body from the connection: by `Content-Length` or chunked, with limits,
//! `100 Continue` and timeouts.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use typhoon_iostream::IOStream;

use typhoon_httputil::h1::{BodyKind, Chunk, ChunkedDecoder, Limits};
use typhoon_httputil::{HTTPInputError, Result};

/// How a body is delimited, and how much is left.
enum State {
    /// `Content-Length`: bytes still to read.
    Length(u64),
    /// Chunked.
    Chunked(Box<ChunkedDecoder>),
    /// Everything was read.
    Done,
    /// A framing error or a broken connection: the connection must close.
    Failed(HTTPInputError),
}

/// The body timeouts of a request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyTimeouts {
    /// The longest wait for the next body bytes.
    pub(crate) inactivity: Duration,
    /// The latest time the whole body must have arrived by, if any.
    pub(crate) deadline: Option<Instant>,
}

/// A request body, read from the connection chunk by chunk (Tornado's `data_received` as a pull
/// API). Bounded by `max_body_size`; the first read answers `Expect: 100-continue`.
pub struct BodyReader {
    /// The connection.
    stream: Rc<IOStream>,
    /// Framing and progress.
    state: State,
    /// `100 Continue` is owed before the first read.
    continue_pending: bool,
    /// Timeouts.
    timeouts: BodyTimeouts,
    /// Shared with the connection: whether the body was read to its end (if not, the connection
    /// cannot serve another request and closes after the response).
    complete: Rc<Cell<bool>>,
    /// Shared with the connection: whether a read failed (framing error, timeout): the
    /// connection answers with the error's status if no response was started, and closes.
    failure: Rc<Cell<Option<u16>>>,
    /// Inflates a `Content-Encoding: gzip` body as it arrives (`decompress_request`), boxed:
    /// only such bodies pay for its state.
    #[cfg(feature = "gzip")]
    inflater: Option<Box<crate::inflate::Inflater>>,
}

impl BodyReader {
    pub(crate) fn new(
        stream: Rc<IOStream>,
        kind: BodyKind,
        limits: &Limits,
        expect_continue: bool,
        timeouts: BodyTimeouts,
    ) -> Self {
        let state = match kind {
            BodyKind::Empty | BodyKind::Length(0) => State::Done,
            BodyKind::Length(n) => State::Length(n),
            BodyKind::Chunked => State::Chunked(Box::new(ChunkedDecoder::new(limits))),
        };
        let complete = Rc::new(Cell::new(matches!(state, State::Done)));
        Self {
            stream,
            continue_pending: expect_continue && !matches!(state, State::Done),
            state,
            timeouts,
            complete,
            failure: Rc::new(Cell::new(None)),
            #[cfg(feature = "gzip")]
            inflater: None,
        }
    }

    /// Inflates the body as it is read, holding the inflated total to `max_body_size`.
    #[cfg(feature = "gzip")]
    pub(crate) fn inflate_gzip(&mut self, max_body_size: u64) {
        self.inflater = Some(Box::new(crate::inflate::Inflater::new(max_body_size)));
    }

    pub(crate) fn complete_flag(&self) -> Rc<Cell<bool>> {
        Rc::clone(&self.complete)
    }

    pub(crate) fn failure_flag(&self) -> Rc<Cell<Option<u16>>> {
        Rc::clone(&self.failure)
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        #[cfg(feature = "gzip")]
        if self.inflater.is_some() {
            return false;
        }
        matches!(self.state, State::Done)
    }

    fn fail(&mut self, error: HTTPInputError) -> HTTPInputError {
        #[cfg(feature = "gzip")]
        {
            self.inflater = None;
        }
        self.failure.set(Some(error.status()));
        self.state = State::Failed(error.clone());
        error
    }

    /// Reads more bytes into the stream's buffer, within the timeouts.
    async fn fill(&mut self) -> Result<()> {
        let mut deadline = typhoon_ioloop::deadline_after(Instant::now(), self.timeouts.inactivity);
        if let Some(total) = self.timeouts.deadline {
            deadline = deadline.min(total);
        }
        match self.stream.fill_buffer_before(deadline).await {
            Some(Ok(n)) if n > 0 => Ok(()),
            Some(Ok(_)) => Err(self.fail(HTTPInputError::IncompleteBody { source: None })),
            Some(Err(error)) => Err(self.fail(HTTPInputError::IncompleteBody {
                source: Some(std::sync::Arc::new(error)),
            })),
            None => Err(self.fail(HTTPInputError::BodyTimeout)),
        }
    }

    /// The next piece of the body, `None` at its end. A gzip body the server inflates
    /// (`decompress_request`) comes inflated, in pieces of at most about 96 KiB, and the loop
    /// runs other tasks between pieces: a large inflate never holds it in one go.
    ///
    /// # Errors
    ///
    /// [`HTTPInputError::BodyTooLarge`] past `max_body_size` (counted after inflating, for a
    /// body the server inflates), chunked framing errors, [`HTTPInputError::BodyTimeout`],
    /// [`HTTPInputError::IncompleteBody`] if the client went away (with the stream's error, if
    /// it failed), [`HTTPInputError::CorruptContentEncoding`] for a gzip body that does not
    /// inflate. After an error every call returns it again, and the connection closes after the
    /// response.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: bytes stay in the connection's buffer (or, compressed, in the reader) until
    /// a chunk is returned.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        #[cfg(feature = "gzip")]
        if self.inflater.is_some() {
            return self.next_inflated().await;
        }
        self.next_raw().await
    }

    /// The next inflated piece: one bounded step over the compressed bytes received so far,
    /// reading more when they are used up.
    #[cfg(feature = "gzip")]
    async fn next_inflated(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            if let State::Failed(error) = &self.state {
                return Err(error.clone());
            }
            let Some(inflater) = self.inflater.as_mut() else {
                return Ok(None);
            };
            if inflater.has_pending() {
                // Let the loop serve others between steps of one large inflate.
                typhoon_ioloop::yield_now().await;
                let Some(inflater) = self.inflater.as_mut() else {
                    return Ok(None);
                };
                match inflater.step() {
                    Ok(out) if out.is_empty() => continue,
                    Ok(out) => return Ok(Some(out)),
                    Err(error) => return Err(self.fail(error)),
                }
            }
            match self.next_raw().await? {
                Some(compressed) => {
                    if let Some(inflater) = self.inflater.as_mut() {
                        inflater.push(compressed);
                    }
                }
                None => {
                    let tail = match self.inflater.as_mut().map(|i| i.finish()) {
                        Some(Ok(tail)) => tail,
                        Some(Err(error)) => return Err(self.fail(error)),
                        None => Vec::new(),
                    };
                    self.inflater = None;
                    return Ok((!tail.is_empty()).then_some(tail));
                }
            }
        }
    }

    /// The next piece of the body as it came on the wire (de-chunked).
    async fn next_raw(&mut self) -> Result<Option<Vec<u8>>> {
        if self.continue_pending {
            self.continue_pending = false;
            if self
                .stream
                .write(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .is_err()
            {
                return Err(self.fail(HTTPInputError::IncompleteBody { source: None }));
            }
        }
        loop {
            match &mut self.state {
                State::Done => return Ok(None),
                State::Failed(error) => return Err(error.clone()),
                State::Length(remaining) => {
                    let available = self.stream.read_buffer().len() as u64;
                    if available == 0 {
                        self.fill().await?;
                        continue;
                    }
                    let n = available.min(*remaining);
                    *remaining -= n;
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    let chunk = self.stream.read_buffer()[..n].to_vec();
                    self.stream.consume(n);
                    if *remaining == 0 {
                        self.state = State::Done;
                        self.complete.set(true);
                    }
                    return Ok(Some(chunk));
                }
                State::Chunked(decoder) => {
                    let decoded = {
                        let buffer = self.stream.read_buffer();
                        decoder.decode(&buffer).map(|(used, chunk)| match chunk {
                            Chunk::Data(data) => (used, Some(Some(data.to_vec()))),
                            Chunk::Done => (used, Some(None)),
                            Chunk::NeedMore => (used, None),
                        })
                    };
                    match decoded {
                        Err(error) => return Err(self.fail(error)),
                        Ok((used, answer)) => {
                            self.stream.consume(used);
                            match answer {
                                Some(Some(data)) => return Ok(Some(data)),
                                Some(None) => {
                                    self.state = State::Done;
                                    self.complete.set(true);
                                    return Ok(None);
                                }
                                None => self.fill().await?,
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reads the rest of the body into one buffer.
    ///
    /// # Errors
    ///
    /// As [`next_chunk`](Self::next_chunk).
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: chunks read before the cancellation are lost with the buffer.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>> {
        let mut body = match self.state {
            State::Length(n) => Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1 << 20)),
            _ => Vec::new(),
        };
        while let Some(chunk) = self.next_chunk().await? {
            if body.is_empty() {
                body = chunk;
            } else {
                body.extend_from_slice(&chunk);
            }
        }
        Ok(body)
    }
}

impl fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Length(n) => format!("{n} bytes left"),
            State::Chunked(_) => "chunked".to_owned(),
            State::Done => "done".to_owned(),
            State::Failed(error) => format!("failed: {error}"),
        };
        f.debug_struct("BodyReader").field("state", &state).finish()
    }
}
