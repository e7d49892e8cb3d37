//! The generic data proof of a backup and restore: a unique file ccci writes into every
//! backed-up directory before the backup, removes before the restore, and requires back byte
//! for byte after it. A recipe with no test code of its own gets a restore that is proven by
//! data, not by the restore command's exit status.
//!
//! A selected path that is a file (a database dump such as `backup.sql`) cannot hold a marker;
//! when no path can, the caller reports the restore as not proven by data.
//!
//! Markers go in and out through the Engine's archive API (no shell or tools needed in the
//! image); removal uses `rm` in the container and falls back to overwriting the marker, which
//! proves the restore just as well.

use crate::backup::{running, BackupPlan, Snapshot};
use crate::error::AbraError;
use ccci_swarm::{Deadline, Swarm};
use std::io::Read;

/// One marker file in one service's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The service (short name).
    pub service: String,
    /// The marker's absolute path in the container.
    pub path: String,
    /// What the file holds.
    pub content: Vec<u8>,
}

impl Marker {
    /// `<service>:<path>`, for messages and results.json.
    pub fn describe(&self) -> String {
        format!("{}:{}", self.service, self.path)
    }
}

/// Where markers went, and the backed-up paths that could not take one (with why).
#[derive(Debug, Clone, Default)]
pub struct Placed {
    /// The markers written.
    pub markers: Vec<Marker>,
    /// `<service>:<path>: why` for every backed-up path without a marker.
    pub skipped: Vec<String>,
}

/// Writes `.ccci-marker-<token>` with unique content into every backed-up path of `plans`
/// that is a directory.
pub async fn place(
    swarm: &Swarm,
    stack: &str,
    plans: &[BackupPlan],
    token: &str,
    deadline: Deadline,
) -> Result<Placed, AbraError> {
    let mut placed = Placed::default();
    let name = format!(".ccci-marker-{token}");
    for p in plans {
        for dir in &p.paths {
            let content = format!("ccci marker {token} for {}:{dir}\n", p.service).into_bytes();
            let container = running(swarm, stack, &p.service, deadline).await?;
            // The Engine extracts an archive only into an existing directory, so a path that
            // is a file (a dump) or missing refuses it: exactly the paths that cannot hold one.
            match swarm
                .upload(&container, dir, tar_of(&name, &content)?)
                .await
            {
                Ok(()) => placed.markers.push(Marker {
                    service: p.service.clone(),
                    path: format!("{}/{name}", dir.trim_end_matches('/')),
                    content,
                }),
                Err(e) => placed.skipped.push(format!(
                    "{}:{dir}: not a directory a marker can go in ({e})",
                    p.service
                )),
            }
        }
    }
    Ok(placed)
}

/// The markers `snapshot` does not hold byte for byte, as `<service>:<path>`.
pub fn missing_from(snapshot: &Snapshot, markers: &[Marker]) -> Result<Vec<String>, AbraError> {
    let mut missing = Vec::new();
    for m in markers {
        if snapshot.read(&m.path)?.as_deref() != Some(m.content.as_slice()) {
            missing.push(m.describe());
        }
    }
    Ok(missing)
}

/// Takes the markers out of the live app before a restore: `rm` in the container, or, in an
/// image without `rm`, the marker overwritten with other content.
pub async fn remove(
    swarm: &Swarm,
    stack: &str,
    markers: &[Marker],
    deadline: Deadline,
) -> Result<(), AbraError> {
    for m in markers {
        let container = running(swarm, stack, &m.service, deadline).await?;
        let removed = swarm
            .exec(&container, &["rm", "-f", &m.path])
            .await
            .is_ok_and(|out| out.exit_code == 0);
        if !removed {
            let (dir, name) = m.path.rsplit_once('/').unwrap_or(("/", &m.path));
            let dir = if dir.is_empty() { "/" } else { dir };
            swarm
                .upload(
                    &container,
                    dir,
                    tar_of(name, b"removed before the restore\n")?,
                )
                .await?;
        }
    }
    Ok(())
}

/// The markers that are not back byte for byte in the live app, as `<service>:<path>: what
/// was found`.
pub async fn not_restored(
    swarm: &Swarm,
    stack: &str,
    markers: &[Marker],
    deadline: Deadline,
) -> Result<Vec<String>, AbraError> {
    let mut bad = Vec::new();
    for m in markers {
        let container = running(swarm, stack, &m.service, deadline).await?;
        let mut archive = Vec::new();
        let found = match swarm
            // A marker is a few bytes: a path that became a huge file is simply not it.
            .download(
                &container,
                &m.path,
                ccci_swarm::EXEC_OUTPUT_CAP as u64,
                |chunk| {
                    archive.extend_from_slice(chunk);
                    Ok(())
                },
            )
            .await
        {
            Ok(_) => first_file(&archive),
            Err(_) => None,
        };
        match found {
            Some(bytes) if bytes == m.content => {}
            Some(_) => bad.push(format!("{}: other content", m.describe())),
            None => bad.push(format!("{}: missing", m.describe())),
        }
    }
    Ok(bad)
}

/// Removes the markers after the proof, so the app's data is as the recipe left it. Best
/// effort: teardown removes the volumes anyway.
pub async fn clean_up(swarm: &Swarm, stack: &str, markers: &[Marker]) {
    for m in markers {
        if let Ok(Some(container)) = swarm.running_container(stack, &m.service).await {
            let _ = swarm.exec(&container, &["rm", "-f", &m.path]).await;
        }
    }
}

fn tar_of(name: &str, content: &[u8]) -> Result<Vec<u8>, AbraError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    let mut b = tar::Builder::new(Vec::new());
    b.append_data(&mut header, name, content)
        .and_then(|_| b.into_inner())
        .map_err(|e| AbraError::HostFault(format!("cannot build the marker archive: {e}")))
}

fn first_file(archive: &[u8]) -> Option<Vec<u8>> {
    let mut a = tar::Archive::new(archive);
    let mut entry = a.entries().ok()?.next()?.ok()?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_marker_archive_holds_exactly_the_marker() {
        let t = super::tar_of(".ccci-marker-x", b"hello\n").unwrap();
        assert_eq!(super::first_file(&t).as_deref(), Some(&b"hello\n"[..]));
        assert_eq!(super::first_file(b"not a tar"), None);
    }
}
