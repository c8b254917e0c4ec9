//! [`AutoreloadError`].

use std::path::PathBuf;

/// Why autoreload could not start or reload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AutoreloadError {
    /// The running executable's path is unknown.
    #[error("cannot find the running executable")]
    CurrentExe(#[source] std::io::Error),
    /// Autoreload runs already, on another loop of this process.
    #[error("autoreload already runs on another thread of this process")]
    OtherThread,
    /// The listening sockets could not be kept for the next program.
    #[error("cannot pass the listening sockets on")]
    Sockets(#[source] std::io::Error),
    /// The new program could not be executed.
    #[error("cannot execute {exe}")]
    Exec {
        /// The executable.
        exe: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
