//! Masking (RFC 6455 §5.3): [`apply_mask`], Tornado's [`websocket_mask`], and the source of
//! fresh client masks.

use crate::error::ProtocolError;

/// XORs `data` with `mask`, starting at byte `offset` of the mask stream (for payloads unmasked
/// in pieces: pass the number of payload bytes already unmasked). Masking and unmasking are the
/// same operation.
///
/// Works on 8 bytes at a time with a 64-bit mask.
///
/// # Examples
///
/// ```
/// use typhoon_websocket::apply_mask;
/// let mask = [1, 2, 3, 4];
/// let mut whole = *b"hello, world";
/// apply_mask(&mut whole, mask, 0);
/// let mut pieces = *b"hello, world";
/// let (a, b) = pieces.split_at_mut(5);
/// apply_mask(a, mask, 0);
/// apply_mask(b, mask, 5);
/// assert_eq!(whole, pieces);
/// ```
pub fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let mut rotated = mask;
    rotated.rotate_left(offset % 4);
    let word = u32::from_ne_bytes(rotated);
    let wide = u64::from_ne_bytes({
        let mut b = [0; 8];
        b[..4].copy_from_slice(&word.to_ne_bytes());
        b[4..].copy_from_slice(&word.to_ne_bytes());
        b
    });
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut b = [0; 8];
        b.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(b) ^ wide).to_ne_bytes());
    }
    // Whole chunks are multiples of 4 bytes, so the tail starts at mask byte 0 again.
    for (byte, key) in chunks
        .into_remainder()
        .iter_mut()
        .zip(rotated.iter().cycle())
    {
        *byte ^= key;
    }
}

/// Tornado's `_websocket_mask(mask, data)`: `data` XORed with the 4-byte `mask`, as a new
/// vector.
///
/// # Errors
///
/// [`ProtocolError::InvalidMaskLength`] if `mask` is not 4 bytes.
///
/// # Examples
///
/// ```
/// use typhoon_websocket::websocket_mask;
/// assert_eq!(websocket_mask(b"abcd", b"54321").unwrap(), b"TVPVP");
/// assert!(websocket_mask(b"abc", b"x").is_err());
/// ```
pub fn websocket_mask(mask: &[u8], data: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    let key: [u8; 4] = mask
        .try_into()
        .map_err(|_| ProtocolError::InvalidMaskLength(mask.len()))?;
    let mut out = data.to_vec();
    apply_mask(&mut out, key, 0);
    Ok(out)
}

/// How many masks one read of the OS random source yields.
const MASKS_PER_FILL: usize = 64;

/// Fresh, unpredictable masks for a client (RFC 6455 §10.3), drawn from the OS CSPRNG in
/// batches so the cost is one `getrandom` call per 64 frames.
#[derive(Debug)]
pub(crate) struct MaskSource {
    /// Random bytes not handed out yet, from `pool[next..]`.
    pool: [u8; 4 * MASKS_PER_FILL],
    /// Index of the next unused byte; `pool.len()` means empty.
    next: usize,
}

impl MaskSource {
    /// An empty source: the first mask fills it.
    pub(crate) fn new() -> Self {
        Self {
            pool: [0; 4 * MASKS_PER_FILL],
            next: 4 * MASKS_PER_FILL,
        }
    }

    /// The next mask.
    ///
    /// # Panics
    ///
    /// If the operating system's random source fails (on Linux, `getrandom(2)` does not fail
    /// once the pool is initialized); a predictable mask would be worse than no connection.
    pub(crate) fn next_mask(&mut self) -> [u8; 4] {
        if self.next == self.pool.len() {
            fill_random(&mut self.pool);
            self.next = 0;
        }
        let mut mask = [0; 4];
        mask.copy_from_slice(&self.pool[self.next..self.next + 4]);
        self.next += 4;
        mask
    }
}

/// Fills `buf` from the OS CSPRNG.
///
/// # Panics
///
/// If the operating system's random source fails.
pub(crate) fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("invariant: the OS random source works");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(data: &[u8], mask: [u8; 4], offset: usize) -> Vec<u8> {
        data.iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[(i + offset) % 4])
            .collect()
    }

    #[test]
    fn matches_bytewise_for_all_lengths_and_offsets() {
        let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        let mask = [0x12, 0x34, 0x56, 0x78];
        for len in 0..data.len() {
            for offset in 0..8 {
                let mut fast = data[..len].to_vec();
                apply_mask(&mut fast, mask, offset);
                assert_eq!(fast, slow(&data[..len], mask, offset), "{len} {offset}");
            }
        }
    }

    #[test]
    fn masks_differ() {
        let mut source = MaskSource::new();
        let masks: Vec<[u8; 4]> = (0..200).map(|_| source.next_mask()).collect();
        let distinct: std::collections::HashSet<_> = masks.iter().collect();
        assert!(distinct.len() > 190);
    }
}
