//! Reading a request body from the connection: by `Content-Length` or chunked, with limits,
//! `100 Continue` and timeouts.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::time::{Duration, Instant};

use typhoon_iostream::IOStream;

use crate::error::{HttpInputError, Result};
use crate::h1::{BodyKind, Chunk, ChunkedDecoder, Limits};

/// How a body is delimited, and how much is left.
enum State {
    /// `Content-Length`: bytes still to read.
    Length(u64),
    /// Chunked.
    Chunked(Box<ChunkedDecoder>),
    /// Everything was read.
    Done,
    /// A framing error or a broken connection: the connection must close.
    Failed(HttpInputError),
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
        }
    }

    pub(crate) fn complete_flag(&self) -> Rc<Cell<bool>> {
        Rc::clone(&self.complete)
    }

    pub(crate) fn failure_flag(&self) -> Rc<Cell<Option<u16>>> {
        Rc::clone(&self.failure)
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn fail(&mut self, error: HttpInputError) -> HttpInputError {
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
            Some(_) => Err(self.fail(HttpInputError::IncompleteBody)),
            None => Err(self.fail(HttpInputError::BodyTimeout)),
        }
    }

    /// The next piece of the body, `None` at its end.
    ///
    /// # Errors
    ///
    /// [`HttpInputError::BodyTooLarge`] past `max_body_size`, chunked framing errors,
    /// [`HttpInputError::BodyTimeout`], [`HttpInputError::IncompleteBody`] if the client went
    /// away. After an error every call returns it again, and the connection closes after the
    /// response.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: bytes stay in the connection's buffer until a chunk is returned.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.continue_pending {
            self.continue_pending = false;
            if self
                .stream
                .write(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .is_err()
            {
                return Err(self.fail(HttpInputError::IncompleteBody));
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
