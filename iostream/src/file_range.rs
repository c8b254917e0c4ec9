//! Copying a byte range of a file in 64 KiB pieces: the path of `IOStream::send_file` where
//! `sendfile(2)` cannot be used (TLS, systems without it), public for callers that transform
//! the bytes on their way (a compressing response body).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::error::StreamError;

/// The most bytes read from the file at a time.
const PIECE: u64 = 64 * 1024;

/// Reads `count` bytes of `file` from `offset` in pieces of at most 64 KiB and passes each to
/// `write`, in order, awaiting it before reading the next. Returns the bytes copied (`count`).
///
/// This is how [`IOStream::send_file`](crate::IOStream::send_file) sends a file where it cannot
/// use `sendfile(2)` (over TLS, or off Linux), with `write` being
/// [`IOStream::write`](crate::IOStream::write). It is public for a caller whose bytes must pass
/// through its own writer first, such as a response body being compressed; a caller that only
/// sends the file to a stream should use `send_file`. One buffer of `min(count, 64 KiB)` bytes
/// is allocated. The file is read with positioned reads (`pread`): its own position is not used
/// or moved.
///
/// # Errors
///
/// `E::from(`[`StreamError::Io`]`)` if `offset + count` overflows (`InvalidInput`), if the file
/// cannot be read, or if it ends before `offset + count` (`UnexpectedEof`); then the first
/// error `write` returns, as it is. Either way, the pieces before the error were written.
///
/// # Cancel safety
///
/// Not cancel-safe: if the future is dropped part-way, an unknown part of the range was written.
///
/// # Examples
///
/// ```
/// use typhoon_ioloop::IOLoop;
/// use typhoon_iostream::{StreamError, write_file_range};
///
/// let path = std::env::temp_dir().join(format!("write_file_range-{}", std::process::id()));
/// std::fs::write(&path, b"hello, world")?;
/// let file = std::fs::File::open(&path)?;
/// let pieces = IOLoop::new().run_sync(async move {
///     let mut pieces = Vec::new();
///     let copied = write_file_range(&file, 7, 5, async |piece: &[u8]| {
///         pieces.extend_from_slice(piece);
///         Ok::<(), StreamError>(())
///     })
///     .await?;
///     assert_eq!(copied, 5);
///     Ok::<_, StreamError>(pieces)
/// })?;
/// assert_eq!(pieces, b"world");
/// std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn write_file_range<E: From<StreamError>>(
    file: &File,
    offset: u64,
    count: u64,
    mut write: impl AsyncFnMut(&[u8]) -> Result<(), E>,
) -> Result<u64, E> {
    let end = offset.checked_add(count).ok_or_else(|| {
        StreamError::Io(io::Error::new(
            io::ErrorKind::InvalidInput,
            "offset + count overflows",
        ))
    })?;
    let mut buf = vec![0u8; usize::try_from(count.min(PIECE)).unwrap_or(64 * 1024)];
    let mut position = offset;
    while position < end {
        let want = usize::try_from((end - position).min(buf.len() as u64)).unwrap_or(buf.len());
        let n = match file.read_at(&mut buf[..want], position) {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file ended before the range to send",
            )),
            other => other,
        }
        .map_err(StreamError::Io)?;
        write(&buf[..n]).await?;
        position += n as u64;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io;
    use std::path::PathBuf;

    use typhoon_ioloop::IOLoop;

    use super::write_file_range;
    use crate::error::StreamError;

    /// A file holding `len` bytes `0, 1, 2, …` (mod 251), removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, len: usize) -> (Self, File) {
            let path = std::env::temp_dir()
                .join(format!("typhoon-file-range-{name}-{}", std::process::id()));
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, data).expect("write the test file");
            let file = File::open(&path).expect("open the test file");
            (Self(path), file)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn pieces_are_at_most_64_kib_and_in_order() {
        let (_temp, file) = TempFile::new("pieces", 150_000);
        let (copied, lens, bytes) = IOLoop::new().run_sync(async move {
            let (mut lens, mut bytes) = (Vec::new(), Vec::new());
            let copied = write_file_range(&file, 10, 140_000, async |piece: &[u8]| {
                lens.push(piece.len());
                bytes.extend_from_slice(piece);
                Ok::<(), StreamError>(())
            })
            .await;
            (copied, lens, bytes)
        });
        assert!(matches!(copied, Ok(140_000)));
        assert_eq!(lens, [65_536, 65_536, 140_000 - 2 * 65_536]);
        let expected: Vec<u8> = (10..140_010).map(|i| (i % 251) as u8).collect();
        assert_eq!(bytes, expected);
    }

    #[test]
    fn short_file_is_unexpected_eof_after_what_it_had() {
        let (_temp, file) = TempFile::new("short", 100);
        let (result, bytes) = IOLoop::new().run_sync(async move {
            let mut bytes = Vec::new();
            let result = write_file_range(&file, 90, 20, async |piece: &[u8]| {
                bytes.extend_from_slice(piece);
                Ok::<(), StreamError>(())
            })
            .await;
            (result, bytes)
        });
        assert!(
            matches!(result, Err(StreamError::Io(error)) if error.kind() == io::ErrorKind::UnexpectedEof)
        );
        assert_eq!(bytes.len(), 10);
    }

    #[test]
    fn overflowing_range_is_invalid_input() {
        let (_temp, file) = TempFile::new("overflow", 1);
        let result = IOLoop::new().run_sync(async move {
            write_file_range(&file, u64::MAX, 2, async |_: &[u8]| {
                Ok::<(), StreamError>(())
            })
            .await
        });
        assert!(
            matches!(result, Err(StreamError::Io(error)) if error.kind() == io::ErrorKind::InvalidInput)
        );
    }

    /// A writer shaped like a web response: a buffering `write`, an async `flush`, its own
    /// error type.
    #[derive(Default)]
    struct Response {
        body: Vec<u8>,
        flushed: usize,
        fail_after: Option<usize>,
    }

    #[derive(Debug)]
    enum ResponseError {
        Stream(StreamError),
        Gone,
    }

    impl From<StreamError> for ResponseError {
        fn from(error: StreamError) -> Self {
            Self::Stream(error)
        }
    }

    impl Response {
        fn write(&mut self, chunk: &[u8]) {
            self.body.extend_from_slice(chunk);
        }

        async fn flush(&mut self) -> Result<(), ResponseError> {
            typhoon_ioloop::yield_now().await;
            if self.fail_after == Some(self.flushed) {
                return Err(ResponseError::Gone);
            }
            self.flushed += 1;
            Ok(())
        }

        async fn send(
            &mut self,
            file: &File,
            offset: u64,
            count: u64,
        ) -> Result<(), ResponseError> {
            write_file_range(file, offset, count, async |piece: &[u8]| {
                self.write(piece);
                self.flush().await
            })
            .await?;
            Ok(())
        }
    }

    #[test]
    fn a_writer_borrowed_mutably_gets_every_piece_and_its_error_comes_back() {
        let (_temp, file) = TempFile::new("writer", 200_000);
        let (ok, failed, short) = IOLoop::new().run_sync(async move {
            let mut response = Response::default();
            let ok = response.send(&file, 0, 200_000).await;
            let mut failing = Response {
                fail_after: Some(1),
                ..Response::default()
            };
            let failed = failing.send(&file, 0, 200_000).await;
            let short = Response::default().send(&file, 199_990, 20).await;
            (
                (ok.is_ok(), response.body.len(), response.flushed),
                (failed, failing.body.len()),
                short,
            )
        });
        assert_eq!(ok, (true, 200_000, 4));
        assert!(matches!(failed.0, Err(ResponseError::Gone)));
        assert_eq!(failed.1, 2 * 65_536);
        // The file's errors reach the writer's error type through `From<StreamError>`.
        assert!(matches!(
            short,
            Err(ResponseError::Stream(StreamError::Io(error)))
                if error.kind() == io::ErrorKind::UnexpectedEof
        ));
    }
}
