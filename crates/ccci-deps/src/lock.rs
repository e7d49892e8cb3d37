//! An exclusive flock(2) on a file in the provider's state directory: runs that start at once
//! on this host deploy or recover the provider one at a time (and only the first does), and
//! change its realms one at a time.

use crate::error::{io, DepsError};
use std::os::fd::AsRawFd as _;
use std::path::Path;
use std::time::Duration;

/// Held until dropped.
pub(crate) struct Lock(std::fs::File);

impl Lock {
    /// Takes the lock on `path`, waiting at most `wait` for whoever holds it (`what` says what
    /// the holder does, for the error).
    pub(crate) async fn take(path: &Path, wait: Duration, what: &str) -> Result<Lock, DepsError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io(path))?;
        let started = std::time::Instant::now();
        loop {
            // SAFETY: flock on a descriptor this function owns; no memory is shared.
            let taken =
                unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if taken {
                return Ok(Lock(file));
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

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: unlocking a descriptor this value owns.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
