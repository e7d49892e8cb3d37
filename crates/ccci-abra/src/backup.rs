//! Backup and restore by the backupbot label protocol (coopcloud.md §5), through the Engine
//! API only (exec, archive download and upload), so the same code works on a remote Swarm.
//!
//! - Every service labelled `backupbot.backup=true` is backed up, each with its own volumes,
//!   paths and hooks. backupbot's spec says one service per stack, but real recipes label
//!   both an app (its uploads volume) and its database (dump hooks), so all are honoured.
//! - All its volumes by default; `backupbot.backup.volumes.<vol>=false` leaves one out;
//!   `backupbot.backup.volumes.<vol>.path=a,b` keeps only those paths (relative to the
//!   volume root). The older `backupbot.backup.path=/abs,/abs` names absolute paths instead.
//! - `backupbot.backup.pre-hook` / `post-hook` run in the running container (`sh -c`) before
//!   and after the copy; `backupbot.restore.pre-hook` / `post-hook` likewise around a restore.
//!
//! A snapshot is a directory: one tar archive per selected path plus `manifest.json` with
//! each archive's SHA-256 and size. It is verified before it is restored and never modified,
//! so a failed restore can simply be tried again (nothing a user stored is lost by ccci).
//! Restic, which backupbot uses, would store the same archives; a plain directory needs no
//! extra binary or password and can be inspected with `tar tf`.

use crate::error::{io, AbraError};
use ccci_swarm::{wait, Deadline, MountInfo, Swarm, SwarmError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What to back up and which hooks to run, read from the service labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPlan {
    /// The service's short name.
    pub service: String,
    /// Absolute paths in the container to copy.
    pub paths: Vec<String>,
    /// `backupbot.backup.pre-hook`.
    pub pre_backup: Option<String>,
    /// `backupbot.backup.post-hook`.
    pub post_backup: Option<String>,
    /// `backupbot.restore.pre-hook`.
    pub pre_restore: Option<String>,
    /// `backupbot.restore.post-hook`.
    pub post_restore: Option<String>,
}

/// Whether any service of the stack has `backupbot.backup=true` (BACKUP_CAPABLE detection).
pub fn is_backup_capable(services: &[(String, HashMap<String, String>)]) -> bool {
    services.iter().any(|(_, l)| {
        l.get("backupbot.backup")
            .is_some_and(|v| v.trim() == "true")
    })
}

/// The services to back up: every one labelled `backupbot.backup=true`, in name order.
pub fn backup_services(
    stack: &str,
    services: &[(String, HashMap<String, String>)],
) -> Result<Vec<String>, AbraError> {
    let mut marked: Vec<String> = services
        .iter()
        .filter(|(_, l)| {
            l.get("backupbot.backup")
                .is_some_and(|v| v.trim() == "true")
        })
        .map(|(n, _)| n.clone())
        .collect();
    marked.sort();
    if marked.is_empty() {
        return Err(AbraError::Invalid(format!(
            "stack {stack}: no service has the label backupbot.backup=true, so there is nothing to back up; add it to the service whose volumes hold the data, or declare `expected_na: {{backup_restore: <reason>}}` in ccci.yml"
        )));
    }
    Ok(marked)
}

/// Applies the label protocol to the service's labels and its container's mounts.
pub fn plan(
    stack: &str,
    service: &str,
    labels: &HashMap<String, String>,
    mounts: &[MountInfo],
) -> Result<BackupPlan, AbraError> {
    let hook = |k: &str| {
        labels
            .get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut paths = Vec::new();
    if let Some(legacy) = hook("backupbot.backup.path") {
        for p in legacy.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if !p.starts_with('/') {
                return Err(AbraError::Invalid(format!("service {service}: backupbot.backup.path `{p}` must be an absolute path in the container")));
            }
            paths.push(p.trim_end_matches('/').to_string());
        }
    } else {
        let prefix = format!("{stack}_");
        for m in mounts.iter().filter(|m| m.kind == "volume") {
            let Some(name) = &m.name else { continue };
            let vol = name.strip_prefix(&prefix).unwrap_or(name);
            if labels
                .get(&format!("backupbot.backup.volumes.{vol}"))
                .is_some_and(|v| v.trim() == "false")
            {
                continue;
            }
            let root = m.destination.trim_end_matches('/');
            match labels.get(&format!("backupbot.backup.volumes.{vol}.path")) {
                Some(sel) => {
                    for rel in sel.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        if rel.starts_with('/') || rel.split('/').any(|c| c == "..") {
                            return Err(AbraError::Invalid(format!(
                                "service {service}: backupbot.backup.volumes.{vol}.path `{rel}` must be relative to the volume root, without `..`"
                            )));
                        }
                        paths.push(format!("{root}/{}", rel.trim_end_matches('/')));
                    }
                }
                None => paths.push(root.to_string()),
            }
        }
    }
    if paths.is_empty() {
        return Err(AbraError::Invalid(format!(
            "service {service} has backupbot.backup=true but no volume (or path) to back up: mount a named volume, or select paths with backupbot.backup.volumes.<vol>.path"
        )));
    }
    Ok(BackupPlan {
        service: service.into(),
        paths,
        pre_backup: hook("backupbot.backup.pre-hook"),
        post_backup: hook("backupbot.backup.post-hook"),
        pre_restore: hook("backupbot.restore.pre-hook"),
        post_restore: hook("backupbot.restore.post-hook"),
    })
}

/// `manifest.json` of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The stack it was taken from.
    pub stack: String,
    /// One archive per backed-up path, service by service.
    pub entries: Vec<ManifestEntry>,
}

impl Manifest {
    /// The services the snapshot holds, in the order they were backed up.
    pub fn services(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !out.contains(&e.service.as_str()) {
                out.push(&e.service);
            }
        }
        out
    }
}

/// One archive of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The service (short name) whose container it was copied from.
    pub service: String,
    /// The path it holds, absolute in the container.
    pub path: String,
    /// Where it is extracted on restore (the path's parent directory).
    pub restore_to: String,
    /// The archive's file name in the snapshot directory.
    pub file: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A snapshot on disk.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Its directory.
    pub dir: PathBuf,
    /// What it holds.
    pub manifest: Manifest,
}

impl Snapshot {
    /// Reads a snapshot directory.
    pub fn load(dir: &Path) -> Result<Snapshot, AbraError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let manifest = serde_json::from_str(&text).map_err(|e| {
            AbraError::Invalid(format!(
                "{}: not a ccci snapshot manifest: {e}",
                path.display()
            ))
        })?;
        Ok(Snapshot {
            dir: dir.into(),
            manifest,
        })
    }

    /// Checks every archive against its recorded checksum and size.
    pub fn verify(&self) -> Result<(), AbraError> {
        for e in &self.manifest.entries {
            let path = self.dir.join(&e.file);
            let (sha, bytes) = hash_file(&path)?;
            if sha != e.sha256 || bytes != e.bytes {
                return Err(AbraError::Invalid(format!(
                    "snapshot archive {} is corrupt: sha256 {sha} ({bytes} bytes), manifest says {} ({} bytes)",
                    path.display(),
                    e.sha256,
                    e.bytes
                )));
            }
        }
        Ok(())
    }

    /// Every regular file in the snapshot: (absolute path in the container, size).
    pub fn files(&self) -> Result<Vec<(String, u64)>, AbraError> {
        let mut out = Vec::new();
        self.each_file(|path, size, _| {
            out.push((path.to_string(), size));
            Ok(false)
        })?;
        Ok(out)
    }

    /// The content of the file at `path` (absolute, as in the container), if the snapshot has it.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, AbraError> {
        let mut found = None;
        self.each_file(|p, _, entry| {
            if p == path {
                let mut buf = Vec::new();
                entry.read_to_end(&mut buf).map_err(|e| {
                    AbraError::Invalid(format!("reading {path} from the snapshot: {e}"))
                })?;
                found = Some(buf);
                return Ok(true);
            }
            Ok(false)
        })?;
        Ok(found)
    }

    fn each_file(
        &self,
        mut f: impl FnMut(&str, u64, &mut dyn Read) -> Result<bool, AbraError>,
    ) -> Result<(), AbraError> {
        for e in &self.manifest.entries {
            let path = self.dir.join(&e.file);
            let file = std::fs::File::open(&path).map_err(io(&path))?;
            let mut archive = tar::Archive::new(file);
            for entry in archive.entries().map_err(io(&path))? {
                let mut entry = entry.map_err(io(&path))?;
                if entry.header().entry_type() != tar::EntryType::Regular {
                    continue;
                }
                let rel = entry
                    .path()
                    .map_err(io(&path))?
                    .to_string_lossy()
                    .into_owned();
                let full = format!(
                    "{}/{}",
                    e.restore_to.trim_end_matches('/'),
                    rel.trim_start_matches("./")
                );
                let size = entry.size();
                if f(&full, size, &mut entry)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn hash_file(path: &Path) -> Result<(String, u64), AbraError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io(path))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex(&h.finalize()), n))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// How often an exec into a task that is being replaced is retried (R20).
const EXEC_ATTEMPTS: usize = 3;

/// Runs `sh -c <cmd>` in a running container of `<stack>_<service>`. When the container is
/// gone or not running (HTTP 409: the task is being replaced), waits for the stack to
/// converge and retries on the new container, so a replacement is not reported as a
/// backup failure (R20).
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
                return Err(AbraError::Invalid(format!(
                    "`{cmd}` in {stack}_{service} exited {}: {}",
                    out.exit_code,
                    out.stderr_str().trim()
                )))
            }
            Err(e) if is_replaced(&e) => {
                last = e.to_string();
                tracing::info!(attempt, "{stack}_{service} was being replaced ({last}); waiting for it to converge before retrying");
                wait::wait_converged(swarm, stack, deadline).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(AbraError::Invalid(format!("`{cmd}` in {stack}_{service}: the container kept being replaced ({EXEC_ATTEMPTS} attempts): {last}")))
}

fn is_replaced(e: &SwarmError) -> bool {
    let s = e.to_string();
    s.contains("409")
        || s.contains("is not running")
        || s.contains("No such container")
        || s.contains("404")
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

/// Takes a snapshot of the app into `dest` (which must not exist yet): every service's
/// pre-hook first (dumps are written before anything is copied), then every selected path,
/// then every post-hook.
pub async fn backup(
    swarm: &Swarm,
    stack: &str,
    dest: &Path,
    deadline: Deadline,
) -> Result<Snapshot, AbraError> {
    let plans = plans(swarm, stack, deadline).await?;
    for p in &plans {
        if let Some(h) = &p.pre_backup {
            exec_in_service(swarm, stack, &p.service, h, deadline).await?;
        }
    }
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let mut entries = Vec::new();
    for p in &plans {
        for (i, path) in p.paths.iter().enumerate() {
            let file = format!("{}-{:02}.tar", p.service, i + 1);
            let fpath = dest.join(&file);
            let mut out = std::fs::File::create(&fpath).map_err(io(&fpath))?;
            let mut hasher = Sha256::new();
            // The container may have been replaced by a hook's side effects; resolve it again.
            let container = running(swarm, stack, &p.service, deadline).await?;
            let bytes = swarm
                .download(&container, path, |chunk| {
                    hasher.update(chunk);
                    out.write_all(chunk)
                })
                .await?;
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
        if let Some(h) = &p.post_backup {
            exec_in_service(swarm, stack, &p.service, h, deadline).await?;
        }
    }
    let manifest = Manifest {
        stack: stack.into(),
        entries,
    };
    let mpath = dest.join("manifest.json");
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| AbraError::Invalid(format!("cannot write the manifest: {e}")))?;
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
        let own: HashMap<String, String> = labels
            .iter()
            .find(|(n, _)| n == service)
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        let hook = |k: &str| {
            own.get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        if let Some(h) = hook("backupbot.restore.pre-hook") {
            exec_in_service(swarm, stack, service, &h, deadline).await?;
        }
        for e in snapshot
            .manifest
            .entries
            .iter()
            .filter(|e| e.service == service)
        {
            let path = snapshot.dir.join(&e.file);
            let tar = std::fs::read(&path).map_err(io(&path))?;
            let container = running(swarm, stack, service, deadline).await?;
            swarm.upload(&container, &e.restore_to, tar).await?;
        }
        if let Some(h) = hook("backupbot.restore.post-hook") {
            exec_in_service(swarm, stack, service, &h, deadline).await?;
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
            AbraError::Invalid(format!(
                "{stack}_{service} has no running container to back up or restore"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> HashMap<String, String> {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn vol(name: &str, dest: &str) -> MountInfo {
        MountInfo {
            kind: "volume".into(),
            name: Some(name.into()),
            destination: dest.into(),
        }
    }

    #[test]
    fn all_volumes_by_default_binds_never() {
        let mounts = [
            vol("s_data", "/data/"),
            vol("s_uploads", "/up"),
            MountInfo {
                kind: "bind".into(),
                name: None,
                destination: "/etc/x".into(),
            },
        ];
        let p = plan("s", "app", &labels([("backupbot.backup", "true")]), &mounts).unwrap();
        assert_eq!(p.paths, ["/data", "/up"]);
        assert_eq!(p.pre_backup, None);
    }

    #[test]
    fn volume_exclusion_and_path_selection() {
        let l = labels([
            ("backupbot.backup", "true"),
            ("backupbot.backup.volumes.uploads", "false"),
            (
                "backupbot.backup.volumes.db-data.path",
                "backup.sql, extra/",
            ),
            ("backupbot.backup.pre-hook", "/pg_backup.sh backup"),
            ("backupbot.restore.post-hook", " /pg_backup.sh restore "),
        ]);
        let p = plan(
            "s",
            "db",
            &l,
            &[
                vol("s_db-data", "/var/lib/postgresql/data"),
                vol("s_uploads", "/up"),
            ],
        )
        .unwrap();
        assert_eq!(
            p.paths,
            [
                "/var/lib/postgresql/data/backup.sql",
                "/var/lib/postgresql/data/extra"
            ]
        );
        assert_eq!(p.pre_backup.as_deref(), Some("/pg_backup.sh backup"));
        assert_eq!(p.post_restore.as_deref(), Some("/pg_backup.sh restore"));
    }

    #[test]
    fn legacy_absolute_paths() {
        let l = labels([
            ("backupbot.backup", "true"),
            ("backupbot.backup.path", "/usr/share/nginx/html/,/etc/x"),
        ]);
        assert_eq!(
            plan("s", "app", &l, &[]).unwrap().paths,
            ["/usr/share/nginx/html", "/etc/x"]
        );
        let bad = labels([("backupbot.backup.path", "relative")]);
        assert!(plan("s", "app", &bad, &[])
            .unwrap_err()
            .to_string()
            .contains("must be an absolute path"));
    }

    #[test]
    fn escaping_selections_and_empty_plans_are_errors() {
        let l = labels([("backupbot.backup.volumes.d.path", "../etc/passwd")]);
        assert!(plan("s", "app", &l, &[vol("s_d", "/d")])
            .unwrap_err()
            .to_string()
            .contains("without `..`"));
        assert!(plan("s", "app", &labels([]), &[])
            .unwrap_err()
            .to_string()
            .contains("no volume (or path) to back up"));
    }

    /// coopcloud.md §5 (BON): real recipes label both the app and its database.
    #[test]
    fn every_labelled_service_is_backed_up() {
        let on = labels([("backupbot.backup", "true")]);
        let off = labels([("backupbot.backup", "false")]);
        let svcs = vec![
            ("app".to_string(), on.clone()),
            ("db".to_string(), off.clone()),
        ];
        assert!(is_backup_capable(&svcs));
        assert_eq!(backup_services("s", &svcs).unwrap(), ["app"]);
        let none = vec![("app".to_string(), off)];
        assert!(!is_backup_capable(&none));
        assert!(backup_services("s", &none)
            .unwrap_err()
            .to_string()
            .contains("expected_na"));
        let two = vec![("db".to_string(), on.clone()), ("app".to_string(), on)];
        assert_eq!(backup_services("s", &two).unwrap(), ["app", "db"]);
    }
}
