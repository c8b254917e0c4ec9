//! One spare body buffer per thread: a finished response's buffer is handed to the next
//! context on the loop, so a small response's body does not allocate per request.

use std::cell::Cell;

/// Buffers larger than this are freed rather than kept for the next response.
const KEEP_AT_MOST: usize = 4096;

thread_local! {
    /// The spare buffer (empty, or no allocation at all).
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// An empty body buffer: the spare one if there is one.
pub(super) fn take() -> Vec<u8> {
    // `try_with`: a context may be dropped while the thread's locals are torn down.
    SPARE.try_with(Cell::take).unwrap_or_default()
}

/// Keeps `buffer` (emptied) as the spare one, if it is small.
pub(super) fn give(mut buffer: Vec<u8>) {
    if buffer.capacity() > 0 && buffer.capacity() <= KEEP_AT_MOST {
        buffer.clear();
        // At thread exit the buffer is simply freed.
        let _ = SPARE.try_with(|spare| spare.set(buffer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_buffer_is_reused_empty_and_a_large_one_is_not() {
        let _ = take();
        let mut buffer = Vec::with_capacity(64);
        buffer.extend_from_slice(b"Hello, world");
        let pointer = buffer.as_ptr();
        give(buffer);
        let reused = take();
        assert!(reused.is_empty());
        assert_eq!(reused.as_ptr(), pointer);
        assert!(take().capacity() == 0, "the spare is taken once");
        give(Vec::with_capacity(KEEP_AT_MOST + 1));
        assert_eq!(take().capacity(), 0);
    }
}
