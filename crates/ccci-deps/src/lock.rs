//! An exclusive lock on a file in the provider's state directory ([`FileLock`]): runs that
//! start at once on this host deploy or recover the provider one at a time (and only the
//! first does).

use crate::error::{io, DepsError};
use ccci_core::host::FileLock;
use std::path::Path;
use std::time::Duration;

/// Held until dropped.
pub(crate) struct Lock(#[allow(dead_code)] FileLock);

impl Lock {
    /// Takes the lock on `path`, waiting at most `wait` for whoever holds it (`what` says what
    /// the holder does, for the error).
    pub(crate) async fn take(path: &Path, wait: Duration, what: &str) -> Result<Lock, DepsError> {
        let started = std::time::Instant::now();
        loop {
            if let Some(lock) = FileLock::try_take(path).map_err(io(path))? {
                return Ok(Lock(lock));
            }
            if started.elapsed() >= wait {
                return Err(DepsError::Io {
                    path: path.into(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "another ccci run has held this lock for {}s while {what}",
                            wait.as_secs()
                        ),
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
