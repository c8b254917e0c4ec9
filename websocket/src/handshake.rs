//! The opening handshake's keys (RFC 6455 §4.1, §4.2.2): `Sec-WebSocket-Key` and
//! `Sec-WebSocket-Accept`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 §1.3 appends to the client's key.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`:
/// base64(SHA-1(key + [`GUID`])).
///
/// # Examples
///
/// ```
/// use typhoon_websocket::handshake::accept_key;
/// assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

/// Whether `key` is a valid `Sec-WebSocket-Key`: base64 that decodes to exactly 16 bytes
/// (RFC 6455 §4.2.1). The caller trims the header value's surrounding whitespace.
///
/// # Examples
///
/// ```
/// use typhoon_websocket::handshake::is_valid_key;
/// assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
/// assert!(!is_valid_key("c2hvcnQ="));
/// ```
pub fn is_valid_key(key: &str) -> bool {
    // 16 bytes are 24 base64 characters; checking first bounds the work on hostile input.
    key.len() == 24 && STANDARD.decode(key).is_ok_and(|bytes| bytes.len() == 16)
}

/// A fresh `Sec-WebSocket-Key`: base64 of 16 bytes from the OS CSPRNG.
///
/// # Panics
///
/// If the operating system's random source fails.
pub fn generate_key() -> String {
    let mut nonce = [0; 16];
    crate::mask::fill_random(&mut nonce);
    STANDARD.encode(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_valid_and_fresh() {
        let (a, b) = (generate_key(), generate_key());
        assert!(is_valid_key(&a) && is_valid_key(&b));
        assert_ne!(a, b);
        assert!(!is_valid_key("not base64 at all!!!!!!!"));
        assert!(!is_valid_key(""));
    }
}
