//! Per-thread pools of zlib states for the sides that reset after every message
//! (`no_context_takeover`): such a state carries nothing from one message to the next, so
//! connections can share a few instead of keeping one each. An idle connection then holds no
//! zlib memory at all (a window-15 compressor is about 256 KiB), as uWebSockets' shared
//! compressor does. A pool keeps at most [`KEPT`] states of each kind per thread; a loop runs on
//! one thread, so its connections share its pool without locks.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress};

/// States kept per thread and kind; more are freed when returned.
const KEPT: usize = 4;

thread_local! {
    /// Reset compressors, by level and window bits.
    static COMPRESSORS: RefCell<Vec<(u32, u8, Compress)>> = const { RefCell::new(Vec::new()) };
    /// Reset decompressors, by window bits.
    static DECOMPRESSORS: RefCell<Vec<(u8, Decompress)>> = const { RefCell::new(Vec::new()) };
}

/// A reset compressor for `level` and `bits`, from the pool or new.
pub(super) fn take_compressor(level: u32, bits: u8) -> Compress {
    COMPRESSORS
        .with(|pool| {
            let mut pool = pool.borrow_mut();
            let found = pool.iter().position(|(l, b, _)| *l == level && *b == bits);
            found.map(|i| pool.swap_remove(i).2)
        })
        .unwrap_or_else(|| Compress::new_with_window_bits(Compression::new(level), false, bits))
}

/// Returns a compressor, reset, for the next message of any connection.
pub(super) fn give_compressor(level: u32, bits: u8, mut zlib: Compress) {
    zlib.reset();
    COMPRESSORS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < KEPT {
            pool.push((level, bits, zlib));
        }
    });
}

/// A reset decompressor for `bits`, from the pool or new.
pub(super) fn take_decompressor(bits: u8) -> Decompress {
    DECOMPRESSORS
        .with(|pool| {
            let mut pool = pool.borrow_mut();
            let found = pool.iter().position(|(b, _)| *b == bits);
            found.map(|i| pool.swap_remove(i).1)
        })
        .unwrap_or_else(|| Decompress::new_with_window_bits(false, bits))
}

/// Returns a decompressor, reset, for the next message of any connection.
pub(super) fn give_decompressor(bits: u8, mut zlib: Decompress) {
    zlib.reset(false);
    DECOMPRESSORS.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < KEPT {
            pool.push((bits, zlib));
        }
    });
}
