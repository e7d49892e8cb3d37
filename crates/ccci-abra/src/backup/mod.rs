//! Backup and restore by backupbot's label protocol (the labels Co-op Cloud recipes carry for
//! their backups), through the Engine
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
//!
//! Three rooms: [`labels`] (the protocol, pure), [`snapshot`] (the format on disk) and the
//! IO that runs hooks and moves archives ([`backup()`], [`restore()`]).

mod io;
pub mod labels;
pub mod snapshot;

pub(crate) use io::running;
pub use io::{backup, exec_in_service, plans, restore, ARCHIVE_CAP};
pub use labels::{backup_services, hooks, is_backup_capable, plan, BackupHooks, BackupPlan};
pub use snapshot::{Manifest, ManifestEntry, Snapshot};
