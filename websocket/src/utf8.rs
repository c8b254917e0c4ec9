//! Incremental UTF-8 validation of a text message as its bytes arrive (RFC 6455 §8.1, fail fast
//! as Autobahn 6.4.x expects).

/// Tracks how much of a growing buffer is known to be valid UTF-8.
///
/// Each call checks only the bytes after the last complete code point, with std's validator;
/// an incomplete code point at the end is fine until [`finish`](Self::finish).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Utf8Validator {
    /// Length of the prefix validated so far; it ends at a code point boundary.
    valid_up_to: usize,
}

impl Utf8Validator {
    /// Starts over for a new message.
    pub(crate) fn reset(&mut self) {
        self.valid_up_to = 0;
    }

    /// Checks the bytes `buf` gained since the last call. `Err(())` at the first byte that can
    /// never be part of valid UTF-8.
    pub(crate) fn feed(&mut self, buf: &[u8]) -> Result<(), ()> {
        match std::str::from_utf8(&buf[self.valid_up_to..]) {
            Ok(_) => {
                self.valid_up_to = buf.len();
                Ok(())
            }
            Err(e) if e.error_len().is_none() => {
                // A valid prefix of a code point that more bytes may complete.
                self.valid_up_to += e.valid_up_to();
                Ok(())
            }
            Err(_) => Err(()),
        }
    }

    /// Whether the whole of `buf` (already fed) is valid: no code point left incomplete.
    pub(crate) fn finish(&self, buf: &[u8]) -> bool {
        self.valid_up_to == buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_code_points_and_fail_fast() {
        let text = "κόσμε€😀".as_bytes();
        for split in 0..=text.len() {
            let mut v = Utf8Validator::default();
            v.feed(&text[..split]).unwrap();
            assert_eq!(
                v.finish(&text[..split]),
                std::str::from_utf8(&text[..split]).is_ok()
            );
            v.feed(text).unwrap();
            assert!(v.finish(text));
        }
        let mut v = Utf8Validator::default();
        // 0xF4 0x90 is past U+10FFFF: wrong as soon as the second byte arrives.
        assert!(v.feed(&[b'a', 0xF4]).is_ok());
        assert!(v.feed(&[b'a', 0xF4, 0x90]).is_err());
    }
}
