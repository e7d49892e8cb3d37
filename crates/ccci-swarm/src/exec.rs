//! Into a running container: exec a command (argv, no shell), read its mounts, and move
//! files in and out as tar archives.

use crate::error::{api, is_gone, SwarmError};
use crate::Swarm;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::{DownloadFromContainerOptions, UploadToContainerOptions};
use futures_util::StreamExt;

/// The most an exec's output (stdout and stderr together) is read into memory: what a
/// recipe's check or hook reads back is text, and a command that prints more (a head that
/// prints a gigabyte) is stopped being read there, as an error, instead of filling the host's
/// memory.
pub const EXEC_OUTPUT_CAP: usize = 64 << 20;

/// A volume or bind mount of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// `volume` or `bind`.
    pub kind: String,
    /// The volume's name (`<stack>_<volume>` for stack volumes).
    pub name: Option<String>,
    /// Where it is mounted in the container.
    pub destination: String,
}

/// What an exec'd command printed and returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit code.
    pub exit_code: i64,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// Standard output as (lossy) UTF-8.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    /// Standard error as (lossy) UTF-8.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl Swarm {
    /// Runs `argv` in `container` (no shell, no TTY) and collects its output and exit code.
    pub async fn exec(&self, container: &str, argv: &[&str]) -> Result<ExecOutput, SwarmError> {
        let err = |reason: String| SwarmError::Exec {
            container: container.to_string(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            reason,
        };
        let refused = |e: bollard::errors::Error| match is_gone(&e) {
            true => SwarmError::ContainerGone {
                container: container.to_string(),
                reason: e.to_string(),
            },
            false => err(e.to_string()),
        };
        let opts = CreateExecOptions {
            cmd: Some(argv.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(container, opts)
            .await
            .map_err(refused)?;
        let mut out = ExecOutput {
            exit_code: -1,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        match self
            .docker
            .start_exec(&created.id, None)
            .await
            .map_err(refused)?
        {
            StartExecResults::Attached { mut output, .. } => {
                while let Some(chunk) = output.next().await {
                    let (to, message) = match chunk.map_err(|e| err(e.to_string()))? {
                        bollard::container::LogOutput::StdOut { message } => {
                            (&mut out.stdout, message)
                        }
                        bollard::container::LogOutput::StdErr { message } => {
                            (&mut out.stderr, message)
                        }
                        _ => continue,
                    };
                    if to.len() + message.len() > EXEC_OUTPUT_CAP {
                        // Dropping the stream ends the attach; the command itself ends with
                        // its container, at teardown at the latest.
                        return Err(SwarmError::ExecOutputTooLarge {
                            container: container.to_string(),
                            argv: argv.iter().map(|s| s.to_string()).collect(),
                            cap_mib: EXEC_OUTPUT_CAP >> 20,
                        });
                    }
                    to.extend_from_slice(&message);
                }
            }
            StartExecResults::Detached => return Err(err("the daemon detached the exec".into())),
        }
        let inspect = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(|e| err(e.to_string()))?;
        out.exit_code = inspect
            .exit_code
            .ok_or_else(|| err("the daemon reported no exit code".into()))?;
        Ok(out)
    }

    /// The mounts of a container.
    pub async fn mounts(&self, container: &str) -> Result<Vec<MountInfo>, SwarmError> {
        let c = self
            .docker
            .inspect_container(container, None)
            .await
            .map_err(api(format!("inspect container {container}")))?;
        Ok(c.mounts
            .unwrap_or_default()
            .into_iter()
            .map(|m| MountInfo {
                kind: m.typ.map(|t| t.to_string()).unwrap_or_default(),
                name: m.name,
                destination: m.destination.unwrap_or_default(),
            })
            .collect())
    }

    /// Streams `path` out of `container` as a tar archive into `sink`, at most `cap` bytes
    /// ([`SwarmError::ArchiveTooLarge`] past it, the rest never read); returns the bytes read.
    pub async fn download(
        &self,
        container: &str,
        path: &str,
        cap: u64,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<u64, SwarmError> {
        let opts = DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let mut stream = self.docker.download_from_container(container, Some(opts));
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(api(format!("download {path} from container {container}")))?;
            n += chunk.len() as u64;
            if n > cap {
                return Err(SwarmError::ArchiveTooLarge {
                    container: container.into(),
                    path: path.into(),
                    cap_mib: cap >> 20,
                });
            }
            sink(&chunk).map_err(|source| SwarmError::Sink {
                what: format!("the archive of {path} from container {container}"),
                source,
            })?;
        }
        Ok(n)
    }

    /// Extracts the tar archive in file `tar` (on this host) into directory `dir` of
    /// `container`, streamed from the disk: however large it is, it is never held whole.
    pub async fn upload_file(
        &self,
        container: &str,
        dir: &str,
        tar: &std::path::Path,
    ) -> Result<(), SwarmError> {
        /// How much of the file is read at once.
        const CHUNK: usize = 256 << 10;
        let file = tokio::fs::File::open(tar)
            .await
            .map_err(|e| SwarmError::Exec {
                container: container.into(),
                argv: vec![format!("upload {}", tar.display())],
                reason: format!("the archive cannot be read: {e}"),
            })?;
        let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
            use tokio::io::AsyncReadExt;
            let mut buf = vec![0u8; CHUNK];
            let n = file.read(&mut buf).await?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((n > 0).then(|| (bytes::Bytes::from(buf), file)))
        });
        let opts = UploadToContainerOptions {
            path: dir.to_string(),
            ..Default::default()
        };
        self.docker
            .upload_to_container(container, Some(opts), bollard::body_try_stream(chunks))
            .await
            .map_err(api(format!(
                "upload {} into {dir} of container {container}",
                tar.display()
            )))
    }

    /// Extracts the tar archive `tar` into directory `dir` of `container`.
    pub async fn upload(&self, container: &str, dir: &str, tar: Vec<u8>) -> Result<(), SwarmError> {
        let opts = UploadToContainerOptions {
            path: dir.to_string(),
            ..Default::default()
        };
        self.docker
            .upload_to_container(
                container,
                Some(opts),
                bollard::body_full(bytes::Bytes::from(tar)),
            )
            .await
            .map_err(api(format!(
                "upload an archive into {dir} of container {container}"
            )))
    }
}
