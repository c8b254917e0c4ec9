//! The log's writers: lines go through this thread's batch ([`crate::line_batch`]) to a
//! sink, the log file or stderr.

use std::io::{self, Write};
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;

use crate::line_batch::{self, LineSink};

/// A `MakeWriter` whose lines are batched per event loop thread, then written to `sink`.
#[derive(Clone)]
pub(super) struct BatchedWriter {
    sink: Arc<dyn LineSink>,
    /// Bytes a thread holds before writing them; 0 writes each line at once.
    limit: usize,
}

impl BatchedWriter {
    /// Lines to `sink`, batched up to `limit` bytes per thread.
    pub(super) fn new(sink: Arc<dyn LineSink>, limit: usize) -> Self {
        if limit > 0 {
            line_batch::install_panic_flush();
        }
        Self { sink, limit }
    }
}

/// The writer for one event: `tracing-subscriber` formats the whole line, then writes it
/// with one `write_all`.
pub(super) struct BatchedLine<'a>(&'a BatchedWriter);

impl Write for BatchedLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        line_batch::write_line(&self.0.sink, buf, self.0.limit)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = BatchedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        BatchedLine(self)
    }
}

/// The process's stderr as a sink: locked per batch, so lines never interleave.
pub(super) struct Stderr;

impl LineSink for Stderr {
    fn write_lines(&self, lines: &[u8]) -> io::Result<()> {
        io::stderr().lock().write_all(lines)
    }
}
