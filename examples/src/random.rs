//! Random secrets for the examples (cookie keys, passwords) from the kernel.

use std::io::Read;

/// `n` random bytes from `/dev/urandom`, in lowercase hex (`2n` characters).
///
/// # Errors
///
/// If `/dev/urandom` cannot be read.
///
/// # Examples
///
/// ```
/// let a = typhoon_examples::random::random_hex(16)?;
/// assert_eq!(a.len(), 32);
/// assert_ne!(a, typhoon_examples::random::random_hex(16)?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn random_hex(n: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(crate::file_upload::hex(&bytes))
}
