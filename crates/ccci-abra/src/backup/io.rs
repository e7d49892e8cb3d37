//! Backup and restore against the live stack, through the Engine API: run the hooks, copy
//! the selected paths out into a snapshot, and put them back.

use super::labels::{backup_services, hooks, plan, BackupPlan};
use super::snapshot::{hex, Manifest, ManifestEntry, Snapshot};
use crate::error::{io, AbraError};
use ccci_swarm::{wait, Deadline, Swarm, SwarmError};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

/// How often an exec into a task that is being replaced is retried: a backup right after an
/// upgrade can meet the old task on its way out [R20].
const EXEC_ATTEMPTS: usize = 3;

/// Runs `sh -c <cmd>` in a running container of `<stack>_<service>`. When the container is
/// gone or not running (the daemon answers 404 or 409: the task is being replaced), waits for the stack to
/// converge and retries on the new container, so a replacement is not reported as a
/// backup failure [R20].
pub async fn exec_in_service(
    swarm: &Swarm,
    stack: &str,
    service: &str,
    cmd: &str,
    deadline: Deadline,
) -> Result<String, AbraError> {
    let mut last = String::new();
    for attempt in 1..=EXEC_ATTEMPTS {
        let container = match swarm.running_container(stack, service).await? {
            Some(c) => c,
            None => {
                last = format!("no running container of {stack}_{service}");
                wait::wait_converged(swarm, stack, deadline).await?;
                continue;
            }
        };
        match swarm.exec(&container, &["sh", "-c", cmd]).await {
            Ok(out) if out.exit_code == 0 => return Ok(out.stdout_str()),
            Ok(out) => {
                return Err(AbraError::App(format!(
                    "`{cmd}` in {stack}_{service} exited {}: {}",
                    out.exit_code,
                    out.stderr_str().trim()
                )))
            }
            Err(e @ SwarmError::ContainerGone { .. }) => {
                last = e.to_string();
                tracing::info!(attempt, "{stack}_{service} was being replaced ({last}); waiting for it to converge before retrying");
                wait::wait_converged(swarm, stack, deadline).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AbraError::App(format!("`{cmd}` in {stack}_{service}: the container kept being replaced ({EXEC_ATTEMPTS} attempts): {last}")))
}

/// What every `backupbot.backup=true` service of the stack would have backed up, read from
/// its labels and its running container's mounts.
pub async fn plans(
    swarm: &Swarm,
    stack: &str,
    deadline: Deadline,
) -> Result<Vec<BackupPlan>, AbraError> {
    let labels = swarm.service_labels(stack).await?;
    let mut out = Vec::new();
    for service in backup_services(stack, &labels)? {
        let own = labels
            .iter()
            .find(|(n, _)| *n == service)
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        let container = running(swarm, stack, &service, deadline).await?;
        out.push(plan(
            stack,
            &service,
            &own,
            &swarm.mounts(&container).await?,
        )?);
    }
    Ok(out)
}

/// How many bytes of archives a snapshot may hold by default (4 GiB): a head's backup is
/// streamed to this host's disk, and a path that never ends must not fill it.
pub const ARCHIVE_CAP: u64 = 4 << 30;

/// Takes a snapshot of the app into `dest` (which must not exist yet): every service's
/// pre-hook first (dumps are written before anything is copied), then every selected path,
/// then every post-hook. Its archives together are at most `cap` bytes
/// ([`ccci_swarm::SwarmError::ArchiveTooLarge`] past it, nothing more read).
pub async fn backup(
    swarm: &Swarm,
    stack: &str,
    dest: &Path,
    cap: u64,
    deadline: Deadline,
) -> Result<Snapshot, AbraError> {
    let plans = plans(swarm, stack, deadline).await?;
    for p in &plans {
        if let Some(h) = &p.hooks.pre_backup {
            exec_in_service(swarm, stack, &p.service, h, deadline).await?;
        }
    }
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let mut entries = Vec::new();
    let mut taken = 0u64;
    for p in &plans {
        for (i, path) in p.paths.iter().enumerate() {
            let file = format!("{}-{:02}.tar", p.service, i + 1);
            let fpath = dest.join(&file);
            let mut out = std::fs::File::create(&fpath).map_err(io(&fpath))?;
            let mut hasher = Sha256::new();
            // The container may have been replaced by a hook's side effects; resolve it again.
            let container = running(swarm, stack, &p.service, deadline).await?;
            let bytes = swarm
                .download(&container, path, cap - taken, |chunk| {
                    hasher.update(chunk);
                    out.write_all(chunk)
                })
                .await
                .map_err(|e| match e {
                    // Said as the snapshot's cap, not what was left of it.
                    ccci_swarm::SwarmError::ArchiveTooLarge {
                        container, path, ..
                    } => ccci_swarm::SwarmError::ArchiveTooLarge {
                        container,
                        path,
                        cap_mib: cap >> 20,
                    },
                    e => e,
                })?;
            taken += bytes;
            out.sync_all().map_err(io(&fpath))?;
            let restore_to = Path::new(path)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "/".into());
            entries.push(ManifestEntry {
                service: p.service.clone(),
                path: path.clone(),
                restore_to,
                file,
                sha256: hex(&hasher.finalize()),
                bytes,
            });
        }
    }
    for p in &plans {
        if let Some(h) = &p.hooks.post_backup {
            exec_in_service(swarm, stack, &p.service, h, deadline).await?;
        }
    }
    let manifest = Manifest {
        stack: stack.into(),
        entries,
    };
    let mpath = dest.join("manifest.json");
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| AbraError::Snapshot(format!("cannot write the manifest: {e}")))?;
    std::fs::write(&mpath, json).map_err(io(&mpath))?;
    Ok(Snapshot {
        dir: dest.into(),
        manifest,
    })
}

/// Restores `snapshot` into the app: checksums first, then service by service the restore
/// pre-hook, every archive extracted where it came from, the post-hook. The snapshot is only
/// read.
pub async fn restore(
    swarm: &Swarm,
    stack: &str,
    snapshot: &Snapshot,
    deadline: Deadline,
) -> Result<(), AbraError> {
    snapshot.verify()?;
    let labels = swarm.service_labels(stack).await?;
    for service in snapshot.manifest.services() {
        let own = labels
            .iter()
            .find(|(n, _)| n == service)
            .map(|(_, l)| hooks(l))
            .unwrap_or_default();
        if let Some(h) = &own.pre_restore {
            exec_in_service(swarm, stack, service, h, deadline).await?;
        }
        for e in snapshot
            .manifest
            .entries
            .iter()
            .filter(|e| e.service == service)
        {
            let path = snapshot.dir.join(&e.file);
            let container = running(swarm, stack, service, deadline).await?;
            swarm.upload_file(&container, &e.restore_to, &path).await?;
        }
        if let Some(h) = &own.post_restore {
            exec_in_service(swarm, stack, service, h, deadline).await?;
        }
    }
    Ok(())
}

pub(crate) async fn running(
    swarm: &Swarm,
    stack: &str,
    service: &str,
    deadline: Deadline,
) -> Result<String, AbraError> {
    if let Some(c) = swarm.running_container(stack, service).await? {
        return Ok(c);
    }
    wait::wait_converged(swarm, stack, deadline).await?;
    swarm
        .running_container(stack, service)
        .await?
        .ok_or_else(|| {
            AbraError::App(format!(
                "{stack}_{service} has no running container to back up or restore"
            ))
        })
}
