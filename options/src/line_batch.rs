//! Log lines batched per thread while an event loop runs on it, written with one `write(2)`
//! per loop iteration instead of one per line.
//!
//! The writers [`enable_pretty_logging`](crate::log::enable_pretty_logging) installs hold each
//! line in a buffer of the thread that logged it, but only while that thread is inside
//! [`batch_this_thread`] (Typhoon's `IOLoop` enters it for as long as it runs). The loop calls
//! [`flush_this_thread`] before each wait for events, so a line is written before the loop
//! that logged it sleeps; never later than the end of the iteration that logged it, and
//! sooner once the buffer holds its size limit (64 KiB by default, `--log_buffer_size`). On
//! any other thread, and with a limit of zero, each line is written at once, as without
//! batching.
//!
//! Nothing is lost at the loop's end, at the thread's exit (the buffer is flushed by its
//! thread-local destructor) or on a panic (a panic hook flushes the panicking thread's lines
//! before the panic message). A signal that kills the process while a loop sleeps loses
//! nothing: nothing is pending then. Lines are only ever written whole, and the sinks lock
//! per batch, so lines from several loops never interleave mid-line.
//!
//! No lock and no allocation per line: the buffer is the thread's own, and keeps its
//! capacity between iterations.
//!
//! ```
//! use typhoon_options::line_batch::{batch_this_thread, flush_this_thread};
//!
//! let batching = batch_this_thread(); // what IOLoop::start does
//! // ... run an iteration, logging lines ...
//! flush_this_thread(); // what the loop does before it waits
//! drop(batching); // flushes, and lines are written at once again
//! ```

use std::cell::RefCell;
use std::io;
use std::marker::PhantomData;
use std::sync::{Arc, Once};

/// Where batched lines go: a log file, stderr. Each call gets whole lines, and must write
/// them without interleaving them with another call's (a sink locks per call).
#[cfg_attr(not(feature = "logging"), allow(dead_code))] // used by the `log` module
pub(crate) trait LineSink: Send + Sync {
    /// Writes `lines`, one or more whole lines.
    fn write_lines(&self, lines: &[u8]) -> io::Result<()>;
}

/// A sink's pending lines on this thread.
#[cfg_attr(not(feature = "logging"), allow(dead_code))] // used by the `log` module
struct Pending {
    sink: Arc<dyn LineSink>,
    bytes: Vec<u8>,
}

/// This thread's batching state.
struct ThreadBatch {
    /// How many [`BatchGuard`]s are alive on this thread; lines are batched while it is > 0.
    depth: usize,
    /// One entry per sink this thread has logged to (one or two: the file and stderr).
    pending: Vec<Pending>,
}

impl Drop for ThreadBatch {
    fn drop(&mut self) {
        // The thread is exiting: its lines go out now.
        for pending in &mut self.pending {
            if !pending.bytes.is_empty() {
                report(pending.sink.write_lines(&pending.bytes));
                pending.bytes.clear();
            }
        }
    }
}

thread_local! {
    static BATCH: RefCell<ThreadBatch> = const {
        RefCell::new(ThreadBatch { depth: 0, pending: Vec::new() })
    };
}

/// Lines are batched on this thread while the returned guard lives (guards nest); dropping
/// the last one writes what is pending. Typhoon's `IOLoop` holds one while it runs.
pub fn batch_this_thread() -> BatchGuard {
    let _ = BATCH.try_with(|batch| {
        if let Ok(mut batch) = batch.try_borrow_mut() {
            batch.depth += 1;
        }
    });
    BatchGuard {
        _not_send: PhantomData,
    }
}

/// Batching on this thread, while it lives: see [`batch_this_thread`].
#[must_use = "lines are batched only while the guard lives"]
#[derive(Debug)]
pub struct BatchGuard {
    /// The guard belongs to the thread whose buffer it enabled.
    _not_send: PhantomData<*const ()>,
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        let _ = BATCH.try_with(|batch| {
            if let Ok(mut batch) = batch.try_borrow_mut() {
                batch.depth = batch.depth.saturating_sub(1);
            }
        });
        flush_this_thread();
    }
}

/// Writes this thread's pending lines now. Cheap when nothing is pending: the loop calls it
/// before every wait for events.
pub fn flush_this_thread() {
    let _ = BATCH.try_with(|batch| {
        loop {
            // Take the bytes out, so no borrow is held while the sink writes.
            let next = {
                let Ok(mut batch) = batch.try_borrow_mut() else {
                    return;
                };
                batch
                    .pending
                    .iter_mut()
                    .find(|pending| !pending.bytes.is_empty())
                    .map(|pending| {
                        (
                            Arc::clone(&pending.sink),
                            std::mem::take(&mut pending.bytes),
                        )
                    })
            };
            let Some((sink, mut bytes)) = next else {
                return;
            };
            report(sink.write_lines(&bytes));
            bytes.clear();
            // Give the buffer back, keeping its capacity for the next iteration.
            if let Ok(mut batch) = batch.try_borrow_mut()
                && let Some(pending) = batch.pending.iter_mut().find(|p| same(&p.sink, &sink))
                && pending.bytes.is_empty()
            {
                pending.bytes = bytes;
            }
        }
    });
}

/// Writes `line` (one whole line) to `sink`: into this thread's batch if it is batching and
/// `limit` is not zero, writing the batch once it holds `limit` bytes; at once otherwise.
#[cfg_attr(not(feature = "logging"), allow(dead_code))] // used by the `log` module
pub(crate) fn write_line(sink: &Arc<dyn LineSink>, line: &[u8], limit: usize) -> io::Result<()> {
    if limit == 0 {
        return sink.write_lines(line);
    }
    let batched = BATCH.try_with(|batch| {
        let Ok(mut batch) = batch.try_borrow_mut() else {
            return None;
        };
        if batch.depth == 0 {
            return None;
        }
        let index = match batch.pending.iter().position(|p| same(&p.sink, sink)) {
            Some(index) => index,
            None => {
                batch.pending.push(Pending {
                    sink: Arc::clone(sink),
                    bytes: Vec::with_capacity(limit.min(64 * 1024)),
                });
                batch.pending.len() - 1
            }
        };
        let bytes = &mut batch.pending[index].bytes;
        bytes.extend_from_slice(line);
        Some(bytes.len() >= limit)
    });
    match batched {
        Ok(Some(full)) => {
            if full {
                flush_this_thread();
            }
            Ok(())
        }
        // Not batching, or the thread is exiting: as without batching.
        _ => sink.write_lines(line),
    }
}

/// Flushes the panicking thread's lines before the panic message, once installed (by the
/// first batched writer); the previous hook then runs as before.
#[cfg_attr(not(feature = "logging"), allow(dead_code))] // used by the `log` module
pub(crate) fn install_panic_flush() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            flush_this_thread();
            previous(info);
        }));
    });
}

/// Whether two sinks are the same object (by address, not vtable).
#[cfg_attr(not(feature = "logging"), allow(dead_code))] // used by the `log` module
fn same(a: &Arc<dyn LineSink>, b: &Arc<dyn LineSink>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// A failed log write has nowhere to be logged: it is dropped, as `tracing-subscriber` does.
fn report(result: io::Result<()>) {
    drop(result);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A sink that records each write.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<Vec<u8>>>);

    impl LineSink for Recorder {
        fn write_lines(&self, lines: &[u8]) -> io::Result<()> {
            self.0.lock().expect("lock").push(lines.to_vec());
            Ok(())
        }
    }

    fn writes(recorder: &Recorder) -> Vec<String> {
        let writes = recorder.0.lock().expect("lock");
        writes
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    }

    #[test]
    fn lines_are_written_at_once_outside_a_batch() {
        let recorder = Arc::new(Recorder::default());
        let sink: Arc<dyn LineSink> = recorder.clone();
        write_line(&sink, b"a\n", 1024).expect("write");
        write_line(&sink, b"b\n", 1024).expect("write");
        assert_eq!(writes(&recorder), ["a\n", "b\n"]);
    }

    #[test]
    fn a_batch_is_one_write_at_flush_and_at_the_guards_end() {
        let recorder = Arc::new(Recorder::default());
        let sink: Arc<dyn LineSink> = recorder.clone();
        let guard = batch_this_thread();
        write_line(&sink, b"a\n", 1024).expect("write");
        write_line(&sink, b"b\n", 1024).expect("write");
        assert!(writes(&recorder).is_empty(), "held until the flush");
        flush_this_thread();
        assert_eq!(writes(&recorder), ["a\nb\n"]);
        flush_this_thread();
        assert_eq!(writes(&recorder).len(), 1, "nothing pending: no write");
        write_line(&sink, b"c\n", 1024).expect("write");
        drop(guard);
        assert_eq!(writes(&recorder), ["a\nb\n", "c\n"]);
        write_line(&sink, b"d\n", 1024).expect("write");
        assert_eq!(writes(&recorder).last().map(String::as_str), Some("d\n"));
    }

    #[test]
    fn a_full_batch_is_written_at_its_limit_and_zero_means_no_batch() {
        let recorder = Arc::new(Recorder::default());
        let sink: Arc<dyn LineSink> = recorder.clone();
        let _guard = batch_this_thread();
        write_line(&sink, b"1234\n", 8).expect("write");
        assert!(writes(&recorder).is_empty());
        write_line(&sink, b"5678\n", 8).expect("write");
        assert_eq!(writes(&recorder), ["1234\n5678\n"]);
        write_line(&sink, b"now\n", 0).expect("write");
        assert_eq!(writes(&recorder).last().map(String::as_str), Some("now\n"));
    }

    #[test]
    fn a_threads_lines_are_written_when_it_exits() {
        let recorder = Arc::new(Recorder::default());
        let sink: Arc<dyn LineSink> = recorder.clone();
        std::thread::spawn(move || {
            let guard = batch_this_thread();
            write_line(&sink, b"last words\n", 1024).expect("write");
            // The guard is leaked, as when a thread ends inside its loop: the thread-local
            // destructor still writes the line.
            std::mem::forget(guard);
        })
        .join()
        .expect("thread");
        assert_eq!(writes(&recorder), ["last words\n"]);
    }

    #[test]
    fn nested_guards_batch_until_the_outer_one_ends() {
        let recorder = Arc::new(Recorder::default());
        let sink: Arc<dyn LineSink> = recorder.clone();
        let outer = batch_this_thread();
        let inner = batch_this_thread();
        write_line(&sink, b"a\n", 1024).expect("write");
        drop(inner);
        assert_eq!(writes(&recorder), ["a\n"], "each guard's end flushes");
        write_line(&sink, b"b\n", 1024).expect("write");
        assert_eq!(writes(&recorder).len(), 1, "still batching");
        drop(outer);
        assert_eq!(writes(&recorder), ["a\n", "b\n"]);
    }

    #[test]
    fn a_panicking_threads_lines_are_written_before_the_panic_message() {
        static SEEN_BY_HOOK: Mutex<Option<usize>> = Mutex::new(None);
        static RECORDER: Recorder = Recorder(Mutex::new(Vec::new()));
        // The hook that prints the panic message: it records what was written by then.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() == Some(&"handler bug") {
                *SEEN_BY_HOOK.lock().expect("lock") = Some(RECORDER.0.lock().expect("lock").len());
            } else {
                previous(info);
            }
        }));
        install_panic_flush();
        let result = std::thread::spawn(|| {
            let sink: Arc<dyn LineSink> = Arc::new(Forward(&RECORDER));
            let _guard = batch_this_thread();
            write_line(&sink, b"before the panic\n", 1024).expect("write");
            panic!("handler bug");
        })
        .join();
        assert!(result.is_err());
        assert_eq!(
            *SEEN_BY_HOOK.lock().expect("lock"),
            Some(1),
            "flushed before the message"
        );
        assert_eq!(writes(&RECORDER), ["before the panic\n"]);
    }

    /// A sink forwarding to a static recorder.
    struct Forward(&'static Recorder);

    impl LineSink for Forward {
        fn write_lines(&self, lines: &[u8]) -> io::Result<()> {
            self.0.write_lines(lines)
        }
    }
}
