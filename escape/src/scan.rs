//! Finding the bytes that need work, eight at a time, so the clean runs between them can be
//! copied whole.
//!
//! Escaping and unescaping spend most of their time deciding, byte by byte, whether a byte is
//! special. In markup-heavy or densely percent-encoded text that per-byte branch mispredicts at
//! almost every special byte. Instead, [`Marks`] loads eight bytes as a `u64`, computes a mask
//! with one flag per special byte (SWAR: SIMD within a register, in safe and portable code), and
//! hands out the flagged positions one by one with `trailing_zeros`. Clean words cost one test.

/// `b` in every byte of a `u64`.
pub(crate) const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

const LOW7: u64 = splat(0x7f);
const HIGH: u64 = splat(0x80);

/// Bit 7 of each byte of the result is set exactly where that byte of `v` is zero.
///
/// `(b & 0x7f) + 0x7f` sets bit 7 for every nonzero low part without carrying into the next
/// byte, and `| b` adds bytes whose own bit 7 was set; what is left clear is a zero byte. Unlike
/// the shorter `(v - 0x01..) & !v & 0x80..`, no borrow runs between bytes, so every flag is exact,
/// not just the lowest.
#[inline]
pub(crate) const fn zero_bytes(v: u64) -> u64 {
    !(((v & LOW7) + LOW7) | v) & HIGH
}

/// The positions in `bytes` flagged by a word test, in increasing order.
///
/// `test` gets eight bytes as a little-endian `u64` (byte `k` in bits `8k..8k+8`) and returns
/// bit `8k + 7` set exactly for each byte `k` to report; no other bits may be set. The last
/// partial word is padded with zero bytes, which `test` must not flag.
pub(crate) struct Marks<'a, F> {
    bytes: &'a [u8],
    test: F,
    /// Offset of the word `mask` belongs to.
    word_start: usize,
    /// Flags of the current word not yet reported.
    mask: u64,
}

impl<'a, F: Fn(u64) -> u64> Marks<'a, F> {
    #[inline]
    pub(crate) fn new(bytes: &'a [u8], test: F) -> Self {
        let mut marks = Marks {
            bytes,
            test,
            word_start: 0,
            mask: 0,
        };
        marks.load(0);
        marks
    }

    /// Makes the word at `start` (zero-padded past the end) current and flags its bytes.
    #[inline]
    fn load(&mut self, start: usize) {
        let word = match self.bytes.get(start..start + 8) {
            // Always exactly eight bytes here.
            Some(chunk) => u64::from_le_bytes(chunk.try_into().unwrap_or_default()),
            None => {
                let mut padded = [0; 8];
                let rest = self.bytes.get(start..).unwrap_or_default();
                padded[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(padded)
            }
        };
        self.word_start = start;
        self.mask = (self.test)(word);
    }
}

impl<F: Fn(u64) -> u64> Iterator for Marks<'_, F> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let next = self.word_start + 8;
            if next >= self.bytes.len() {
                return None;
            }
            self.load(next);
        }
        let pos = self.word_start + (self.mask.trailing_zeros() / 8) as usize;
        // Clear the lowest flag.
        self.mask &= self.mask - 1;
        Some(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bytes_is_exact() {
        // The short formula would also flag the 0x01 after the zero byte.
        let v = u64::from_le_bytes([1, 0, 1, 0x80, 0xff, 0, 0x7f, 0x01]);
        assert_eq!(
            zero_bytes(v),
            u64::from_le_bytes([0, 0x80, 0, 0, 0, 0x80, 0, 0])
        );
    }

    #[test]
    fn marks_every_offset() {
        let test = |w: u64| zero_bytes(w ^ splat(b'%'));
        for len in 0..40 {
            for gap in 1..10 {
                let text: Vec<u8> = (0..len)
                    .map(|i| if i % gap == 0 { b'%' } else { b'a' })
                    .collect();
                let expected: Vec<usize> = (0..len).filter(|i| i % gap == 0).collect();
                assert_eq!(Marks::new(&text, test).collect::<Vec<_>>(), expected);
            }
        }
    }
}
