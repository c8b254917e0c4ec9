//! Random secrets for the examples (cookie keys, passwords) and unguessable temp directories,
//! from the kernel.

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
    Ok(hex::encode(bytes))
}

/// Makes a new directory under the system's temp directory that only this user can enter
/// (mode 0700), named `<prefix>-<16 random hex digits>`. Unlike a fixed or pid-based path,
/// nobody else can create it first and so read or swap what is written there.
///
/// # Errors
///
/// If `/dev/urandom` cannot be read or the directory cannot be made.
///
/// # Examples
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// let dir = typhoon_examples::random::private_temp_dir("typhoon-doc")?;
/// assert_eq!(std::fs::metadata(&dir)?.permissions().mode() & 0o777, 0o700);
/// std::fs::remove_dir(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn private_temp_dir(prefix: &str) -> std::io::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let path = std::env::temp_dir().join(format!("{prefix}-{}", random_hex(8)?));
    // `create`, not `create_dir_all`: an existing path is an error, never reused.
    std::fs::DirBuilder::new().mode(0o700).create(&path)?;
    Ok(path)
}
