//! The stream suite of Tornado's `iostream_test.py`, run over TCP, Unix sockets and TLS (one
//! macro, three transports), plus stream limits.

mod util;

use std::rc::Rc;
use std::time::Duration;

use typhoon_ioloop::{IOLoop, yield_now};
use typhoon_iostream::{StreamError, StreamOptions};
use typhoon_testing::run_test;
use util::{Kind, pair, pair_with};

/// Generates one `#[test]` per case and transport.
macro_rules! stream_suite {
    ($($case:ident),* $(,)?) => {
        mod tcp {
            $(#[test] fn $case() { typhoon_testing::run_test(super::$case(crate::util::Kind::Tcp)) })*
        }
        mod unix {
            $(#[test] fn $case() { typhoon_testing::run_test(super::$case(crate::util::Kind::Unix)) })*
        }
        #[cfg(feature = "tls")]
        mod tls {
            $(#[test] fn $case() { typhoon_testing::run_test(super::$case(crate::util::Kind::Tls)) })*
        }
    };
}

stream_suite!(
    read_until_split_delimiter,
    read_until_max_bytes,
    read_until_max_bytes_delimiter_past_limit,
    read_bytes_partial_and_exact,
    read_into_partial_and_exact,
    read_until_close_after_close,
    buffered_data_delivered_after_peer_closed,
    large_write_and_read,
    write_buffered_then_flush,
    close_wakes_pending_read,
    close_callback_and_wait_closed,
    write_to_peer_that_went_away,
    dropped_read_loses_no_bytes,
    max_buffer_size_closes_stream,
    send_file_range_after_queued_bytes,
    send_file_past_end_closes_stream,
    write_timeout_closes_a_stream_whose_peer_never_reads,
    write_timeout_closes_a_send_file_to_a_peer_that_never_reads,
    write_timeout_spares_a_slow_reader_that_keeps_reading,
    second_reader_is_refused,
    cancelled_reader_frees_the_stream,
    consume_under_a_pending_read_until_rescans,
    buffer_full_cause_is_kept_for_later_reads,
);

/// A file of `len` patterned bytes in the temp directory, removed on drop.
struct TempFile(std::path::PathBuf, std::fs::File);

impl TempFile {
    fn new(name: &str, len: usize) -> Self {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!(
            "typhoon-iostream-{}-{name}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&data))
            .expect("write temp file");
        let file = std::fs::File::open(&path).expect("open temp file");
        Self(path, file)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn send_file_range_after_queued_bytes(kind: Kind) {
    let (client, server) = pair(kind).await;
    let file = TempFile::new("range", 3 * 1024 * 1024 + 17);
    let (offset, count) = (1000_u64, 2 * 1024 * 1024 + 5);
    let reader = IOLoop::current().spawn(async move {
        let head = server.read_bytes(5, false).await.expect("head");
        let body = server
            .read_bytes(usize::try_from(count).expect("fits"), false)
            .await
            .expect("body");
        (head, body, server)
    });
    client.write_buffered(b"HEAD:").expect("queue");
    let sent = client
        .send_file(&file.1, offset, count)
        .await
        .expect("send_file");
    assert_eq!(sent, count);
    let (head, body, server) = reader.await.expect("reader");
    assert_eq!(head, b"HEAD:");
    let expected: Vec<u8> = (offset..offset + count).map(|i| (i % 251) as u8).collect();
    assert!(body == expected, "the range arrives intact and in order");
    // The stream goes on working after it.
    client.write(b"more").await.expect("write after send_file");
    assert_eq!(server.read_bytes(4, false).await.expect("more"), b"more");
}

async fn send_file_past_end_closes_stream(kind: Kind) {
    let (client, _server) = pair(kind).await;
    let file = TempFile::new("short", 100);
    let result = client.send_file(&file.1, 50, 100).await;
    assert!(result.is_err(), "{result:?}");
    assert!(
        client.closed(),
        "a response cut short must not look complete"
    );
}

fn write_timeout(limit: Duration) -> StreamOptions {
    StreamOptions {
        write_timeout: Some(limit),
        ..StreamOptions::default()
    }
}

fn timed_out(result: &Result<impl std::fmt::Debug, StreamError>) -> bool {
    matches!(
        result,
        Err(StreamError::Closed { source: Some(cause) }) if cause.kind() == std::io::ErrorKind::TimedOut
    )
}

async fn write_timeout_closes_a_stream_whose_peer_never_reads(kind: Kind) {
    let (client, _server) = pair_with(kind, write_timeout(Duration::from_millis(150))).await;
    // Far more than the socket buffers hold, and the peer reads nothing.
    let result = client.write(&vec![b'w'; 32 << 20]).await;
    assert!(timed_out(&result), "{result:?}");
    assert!(client.closed(), "the stream closes on a write timeout");
}

async fn write_timeout_closes_a_send_file_to_a_peer_that_never_reads(kind: Kind) {
    let (client, _server) = pair_with(kind, write_timeout(Duration::from_millis(150))).await;
    let file = TempFile::new("never-read", 32 << 20);
    let result = client.send_file(&file.1, 0, 32 << 20).await;
    assert!(timed_out(&result), "{result:?}");
    assert!(client.closed());
}

async fn write_timeout_spares_a_slow_reader_that_keeps_reading(kind: Kind) {
    // The limit is between two successive writes, not over the transfer: a reader that
    // takes 1 MiB every 40 ms keeps a 16 MiB write waiting longer than the limit in all
    // and never that long without progress.
    let (client, server) = pair_with(kind, write_timeout(Duration::from_millis(150))).await;
    const LEN: usize = 16 << 20;
    let reader = IOLoop::current().spawn(async move {
        let mut got = 0;
        while got < LEN {
            got += server
                .read_bytes((LEN - got).min(1 << 20), false)
                .await
                .expect("read")
                .len();
            typhoon_ioloop::sleep(Duration::from_millis(40)).await;
        }
        got
    });
    let started = std::time::Instant::now();
    client
        .write(&vec![b's'; LEN])
        .await
        .expect("a moving transfer is never cut");
    assert!(
        started.elapsed() > Duration::from_millis(150),
        "the write waited longer than the limit in all ({:?}): the test shows nothing otherwise",
        started.elapsed()
    );
    assert_eq!(reader.await.expect("reader"), LEN);
}

async fn read_until_split_delimiter(kind: Kind) {
    let (client, server) = pair(kind).await;
    let writer = IOLoop::current().spawn(async move {
        client.write(b"abc\r").await.expect("write");
        yield_now().await;
        client.write(b"\ndef\r\n").await.expect("write");
        client
    });
    assert_eq!(
        server.read_until(b"\r\n", None).await.expect("read"),
        b"abc\r\n"
    );
    assert_eq!(
        server.read_until(b"\r\n", None).await.expect("read"),
        b"def\r\n"
    );
    drop(writer.await);
}

async fn read_until_max_bytes(kind: Kind) {
    let (client, server) = pair(kind).await;
    client.write(&[b'a'; 20]).await.expect("write");
    let result = server.read_until(b"\n", Some(10)).await;
    assert!(
        matches!(
            result,
            Err(StreamError::UnsatisfiableRead { max_bytes: 10 })
        ),
        "{result:?}"
    );
    assert!(server.closed(), "an unsatisfiable read closes the stream");
    // A later reader (one the buffered bytes cannot answer) still learns why, as the typed
    // variant.
    let later = server.read_bytes(1000, false).await;
    assert!(
        matches!(&later, Err(error) if matches!(
            error.close_reason(),
            Some(StreamError::UnsatisfiableRead { max_bytes: 10 })
        )),
        "{later:?}"
    );
}

async fn read_until_max_bytes_delimiter_past_limit(kind: Kind) {
    let (client, server) = pair(kind).await;
    client.write(b"abcdefgh\n").await.expect("write");
    // The delimiter is there, but it ends after byte 5.
    let result = server.read_until(b"\n", Some(5)).await;
    assert!(
        matches!(result, Err(StreamError::UnsatisfiableRead { .. })),
        "{result:?}"
    );
    // Within the limit it works.
    let (client, server) = pair(kind).await;
    client.write(b"abc\n").await.expect("write");
    assert_eq!(
        server.read_until(b"\n", Some(4)).await.expect("read"),
        b"abc\n"
    );
}

async fn read_bytes_partial_and_exact(kind: Kind) {
    let (client, server) = pair(kind).await;
    client.write(b"hello").await.expect("write");
    assert_eq!(
        server.read_bytes(10, true).await.expect("partial"),
        b"hello"
    );
    client.write(b"world!").await.expect("write");
    assert_eq!(server.read_bytes(5, false).await.expect("exact"), b"world");
    assert_eq!(server.read_bytes(1, false).await.expect("exact"), b"!");
    assert_eq!(server.read_bytes(0, false).await.expect("empty"), b"");
}

async fn read_into_partial_and_exact(kind: Kind) {
    let (client, server) = pair(kind).await;
    client.write(b"0123456789").await.expect("write");
    let mut buf = [0u8; 4];
    assert_eq!(server.read_into(&mut buf, false).await.expect("exact"), 4);
    assert_eq!(&buf, b"0123");
    let mut buf = [0u8; 100];
    let n = server.read_into(&mut buf, true).await.expect("partial");
    assert_eq!(&buf[..n], b"456789");
}

async fn read_until_close_after_close(kind: Kind) {
    let (client, server) = pair(kind).await;
    client.write(b"1234").await.expect("write");
    client.close();
    assert_eq!(server.read_until_close().await.expect("read"), b"1234");
    assert!(server.is_eof());
}

async fn buffered_data_delivered_after_peer_closed(kind: Kind) {
    let (client, server) = pair(kind).await;
    client.write(b"abcdef").await.expect("write");
    client.close();
    // Let the EOF arrive too, then read from the buffer.
    let first = server.read_bytes(2, false).await.expect("buffered");
    assert_eq!(first, b"ab");
    assert_eq!(
        server.read_until(b"e", None).await.expect("buffered"),
        b"cde"
    );
    assert_eq!(server.read_bytes(5, true).await.expect("rest"), b"f");
    let after = server.read_bytes(1, false).await;
    assert!(
        matches!(after, Err(StreamError::Closed { source: None })),
        "{after:?}"
    );
}

async fn large_write_and_read(kind: Kind) {
    let (client, server) = pair(kind).await;
    let size = 8 << 20;
    let writer = IOLoop::current().spawn(async move {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        client.write(&data).await.expect("large write");
        client
    });
    let mut total = 0usize;
    while total < size {
        let chunk = server.read_bytes(1 << 20, true).await.expect("read");
        for (offset, byte) in chunk.iter().enumerate() {
            assert_eq!(*byte, ((total + offset) % 251) as u8);
        }
        total += chunk.len();
    }
    assert_eq!(total, size);
    drop(writer.await);
}

async fn write_buffered_then_flush(kind: Kind) {
    let (client, server) = pair(kind).await;
    for i in 0..100u8 {
        client.write_buffered(&[i]).expect("queue");
    }
    client
        .write_buffered_vec(vec![b'x'; 100_000])
        .expect("queue");
    assert_eq!(client.write_buffer_len(), 100_100);
    let flusher = IOLoop::current().spawn(async move {
        client.flush().await.expect("flush");
        assert_eq!(client.write_buffer_len(), 0);
        client
    });
    let data = server.read_bytes(100_100, false).await.expect("read");
    assert_eq!(&data[..100], &(0..100u8).collect::<Vec<_>>()[..]);
    assert!(data[100..].iter().all(|&b| b == b'x'));
    drop(flusher.await);
}

async fn close_wakes_pending_read(kind: Kind) {
    let (_client, server) = pair(kind).await;
    let server = Rc::new(server);
    let reader = {
        let server = Rc::clone(&server);
        IOLoop::current().spawn(async move { server.read_bytes(1, false).await })
    };
    yield_now().await;
    yield_now().await;
    server.close();
    let result = reader.await.expect("reader task");
    assert!(
        matches!(result, Err(StreamError::Closed { .. })),
        "{result:?}"
    );
}

async fn close_callback_and_wait_closed(kind: Kind) {
    let (client, server) = pair(kind).await;
    let called = Rc::new(std::cell::Cell::new(false));
    let flag = Rc::clone(&called);
    server.set_close_callback(move || flag.set(true));
    client.close();
    // The peer's close is seen by a read; a failed read does not close our side by itself...
    assert!(server.read_bytes(1, false).await.is_err());
    assert!(!server.closed());
    // ...our own close does, and runs the callback.
    server.close();
    server.wait_closed().await;
    assert!(called.get());
    assert!(matches!(
        server.write(b"x").await,
        Err(StreamError::Closed { .. })
    ));
}

async fn write_to_peer_that_went_away(kind: Kind) {
    let (client, server) = pair(kind).await;
    // The peer vanishes with unread data in its buffer (TCP answers with a reset).
    client.write(b"unread").await.expect("write");
    drop(client);
    let big = vec![0u8; 4 << 20];
    let mut result = Ok(());
    for _ in 0..8 {
        result = server.write(&big).await;
        if result.is_err() {
            break;
        }
    }
    let os_error = match &result {
        Err(StreamError::Closed {
            source: Some(cause),
        }) => cause.raw_os_error(),
        other => panic!("expected a closed stream with its cause, got {other:?}"),
    };
    assert!(
        os_error.is_some(),
        "the write fails with an OS error: {result:?}"
    );
    assert!(server.closed());
    // Everyone who asks later gets the same OS error, not a copy of its text.
    let kept = server.error().expect("the cause is kept");
    assert_eq!(kept.raw_os_error(), os_error, "{kept:?}");
    let later = server.write(b"x").await;
    let later_os_error = match &later {
        Err(StreamError::Closed {
            source: Some(cause),
        }) => cause.raw_os_error(),
        _ => None,
    };
    assert_eq!(later_os_error, os_error, "{later:?}");
}

async fn dropped_read_loses_no_bytes(kind: Kind) {
    let (client, server) = pair(kind).await;
    client.write(b"partial line").await.expect("write");
    // A read_until that cannot complete yet, abandoned by a timeout...
    let result =
        typhoon_ioloop::timeout(Duration::from_millis(20), server.read_until(b"\n", None)).await;
    assert!(result.is_err());
    client.write(b" and the rest\n").await.expect("write");
    // ...leaves every byte for the next read.
    assert_eq!(
        server.read_until(b"\n", None).await.expect("read"),
        b"partial line and the rest\n"
    );
}

async fn max_buffer_size_closes_stream(kind: Kind) {
    let options = StreamOptions {
        max_buffer_size: 64 * 1024,
        ..StreamOptions::default()
    };
    let (client, server) = pair_with(kind, options).await;
    let writer = IOLoop::current().spawn(async move {
        let _ = client.write(&vec![b'a'; 256 * 1024]).await;
        client
    });
    let result = server.read_until(b"\n", None).await;
    assert!(
        matches!(result, Err(StreamError::BufferFull { limit: 65536 })),
        "{result:?}"
    );
    assert!(server.closed());
    drop(writer.await);
}

/// Waits (one loop iteration at a time, never sleeping) until `stream` has buffered `n` bytes:
/// the pending read of another task has taken them off the socket.
async fn buffered(stream: &typhoon_iostream::IOStream, n: usize) {
    while stream.read_buffer().len() < n {
        yield_now().await;
    }
}

async fn second_reader_is_refused(kind: Kind) {
    let (client, server) = pair(kind).await;
    let server = Rc::new(server);
    client.write(b"abcdef").await.expect("write");
    let first = {
        let server = Rc::clone(&server);
        IOLoop::current().spawn(async move { server.read_until(b"\n", None).await })
    };
    // The first read has scanned "abcdef" and waits for the delimiter...
    buffered(&server, 6).await;
    // ...so a second reader is refused: it would consume what the first has scanned.
    let second = server.read_bytes(6, false).await;
    assert!(
        matches!(second, Err(StreamError::AlreadyReading)),
        "{second:?}"
    );
    let fill = server.fill_buffer().await;
    assert!(matches!(fill, Err(StreamError::AlreadyReading)), "{fill:?}");
    assert!(!server.closed(), "a refused read does not close the stream");
    client.write(b"gh\n").await.expect("write");
    let line = first.await.expect("reader task").expect("first read");
    assert_eq!(line, b"abcdefgh\n");
    // With the first read done, the next one may start.
    client.write(b"x").await.expect("write");
    assert_eq!(server.read_bytes(1, false).await.expect("read"), b"x");
}

async fn cancelled_reader_frees_the_stream(kind: Kind) {
    let (client, server) = pair(kind).await;
    let server = Rc::new(server);
    client.write(b"abc").await.expect("write");
    let first = {
        let server = Rc::clone(&server);
        IOLoop::current().spawn(async move { server.read_until(b"\n", None).await })
    };
    buffered(&server, 3).await;
    first.cancel();
    // The cancelled read's future is dropped at the loop's next iteration at the latest.
    yield_now().await;
    client.write(b"def\n").await.expect("write");
    assert_eq!(
        server.read_until(b"\n", None).await.expect("read"),
        b"abcdef\n"
    );
}

async fn consume_under_a_pending_read_until_rescans(kind: Kind) {
    let (client, server) = pair(kind).await;
    let server = Rc::new(server);
    client.write(b"abcdef").await.expect("write");
    let first = {
        let server = Rc::clone(&server);
        IOLoop::current().spawn(async move { server.read_until(b"\n", None).await })
    };
    buffered(&server, 6).await;
    // The in-place API from another task takes bytes from under the pending read (which had
    // scanned 6 bytes: the buffer is now shorter than that)...
    server.consume(3);
    client.write(b"g\n").await.expect("write");
    // ...which neither slices out of range nor misses the delimiter.
    let line = typhoon_ioloop::timeout(Duration::from_secs(5), first)
        .await
        .expect("the pending read finds the delimiter")
        .expect("reader task")
        .expect("read");
    assert_eq!(line, b"defg\n");
}

async fn buffer_full_cause_is_kept_for_later_reads(kind: Kind) {
    let options = StreamOptions {
        max_buffer_size: 64 * 1024,
        ..StreamOptions::default()
    };
    let (client, server) = pair_with(kind, options).await;
    let writer = IOLoop::current().spawn(async move {
        let _ = client.write(&vec![b'a'; 256 * 1024]).await;
        client
    });
    let first = server.read_until(b"\n", None).await;
    assert!(
        matches!(first, Err(StreamError::BufferFull { limit: 65536 })),
        "{first:?}"
    );
    // A second reader (one the buffered bytes cannot answer) gets `Closed`, and can still
    // match why it closed.
    let later = server.read_bytes(1 << 20, false).await;
    let Err(later) = later else {
        panic!("a read after the stream closed: {later:?}")
    };
    assert!(
        matches!(later, StreamError::Closed { source: Some(_) }),
        "{later:?}"
    );
    assert!(
        matches!(
            later.close_reason(),
            Some(StreamError::BufferFull { limit: 65536 })
        ),
        "{later:?}"
    );
    let kept = server.error().expect("the cause is kept");
    assert!(
        matches!(
            kept.get_ref()
                .and_then(|inner| inner.downcast_ref::<StreamError>()),
            Some(StreamError::BufferFull { limit: 65536 })
        ),
        "{kept:?}"
    );
    drop(writer.await);
}

#[test]
fn write_buffer_limit() {
    run_test(async {
        let options = StreamOptions {
            max_write_buffer_size: Some(1000),
            ..StreamOptions::default()
        };
        let (client, _server) = pair_with(Kind::Unix, options).await;
        client.write_buffered(&[0; 600]).expect("fits");
        let over = client.write_buffered(&[0; 600]);
        assert!(matches!(over, Err(StreamError::BufferFull { limit: 1000 })));
        assert!(
            !client.closed(),
            "a full write buffer does not close the stream"
        );
        client.flush().await.expect("flush");
        client.write_buffered(&[0; 600]).expect("room again");
    });
}

#[test]
fn in_place_parsing_api() {
    run_test(async {
        let (client, server) = pair(Kind::Unix).await;
        client
            .write(b"GET / HTTP/1.1\r\n\r\n")
            .await
            .expect("write");
        while !server.read_buffer().ends_with(b"\r\n\r\n") {
            assert!(server.fill_buffer().await.expect("fill") > 0);
        }
        let len = server.read_buffer().len();
        server.consume(len);
        assert!(server.read_buffer().is_empty());
    });
}

#[test]
fn set_nodelay_and_peer_addr() {
    run_test(async {
        let (client, server) = pair(Kind::Tcp).await;
        client.set_nodelay(true).expect("nodelay");
        assert!(server.peer_addr().is_some());
        let (unix, _) = pair(Kind::Unix).await;
        unix.set_nodelay(true).expect("no-op on unix");
        assert!(unix.peer_addr().is_none());
    });
}
