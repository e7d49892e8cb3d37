//! What ccci asks of the machine it runs on: where it keeps its state, the machine's name,
//! whether a process still lives, and a lock on a file its processes take turns by. The one place besides [`crate::random_fill`] where
//! ccci-core reads the machine: the run journal, the run registry and the run store all
//! decide on these, and must decide alike.

use std::path::PathBuf;

/// ccci's state directory: `$XDG_STATE_HOME/ccci`, default `~/.local/state/ccci` (and
/// `/var/lib/ccci` with no home at all). The run store's default file, the run journal and
/// runs outside a cargo workspace live here.
pub fn state_dir() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    match (var("XDG_STATE_HOME"), var("HOME")) {
        (Some(state), _) => PathBuf::from(state).join("ccci"),
        (None, Some(home)) => PathBuf::from(home).join(".local/state/ccci"),
        (None, None) => PathBuf::from("/var/lib/ccci"),
    }
}

/// Where everything a host keeps lives: [`state_dir`] and the names under it, spelled here
/// and nowhere else.
///
/// ```
/// use ccci_core::host::StateDir;
/// let here = StateDir::at("/srv/ccci");
/// assert_eq!(here.store(), std::path::Path::new("/srv/ccci/runs.db"));
/// assert_eq!(here.provider("ccci-oidc.ccci.test"), std::path::Path::new("/srv/ccci/deps/ccci-oidc.ccci.test"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir(PathBuf);

impl StateDir {
    /// This host's, at [`state_dir`].
    pub fn of_host() -> StateDir {
        StateDir(state_dir())
    }

    /// One at `root` (a test's, or another host's copy).
    pub fn at(root: impl Into<PathBuf>) -> StateDir {
        StateDir(root.into())
    }

    /// Runs started outside a cargo workspace: `runs/`.
    pub fn runs(&self) -> PathBuf {
        self.0.join("runs")
    }

    /// The run journal: `journal/`.
    pub fn journal(&self) -> PathBuf {
        self.0.join("journal")
    }

    /// The run store's default SQLite file: `runs.db`.
    pub fn store(&self) -> PathBuf {
        self.0.join("runs.db")
    }

    /// The records of the recipes' canonical deployments: `canonical/`.
    pub fn canonical(&self) -> PathBuf {
        self.0.join("canonical")
    }

    /// The state of the OIDC provider at `domain`: `deps/<domain>/`.
    pub fn provider(&self, domain: &str) -> PathBuf {
        self.0.join("deps").join(domain)
    }

    /// `cargo ccci serve`'s clones and job files: `serve/`.
    pub fn serve(&self) -> PathBuf {
        self.0.join("serve")
    }

    /// The active-run registry, when the host-wide one cannot be written: `active/`.
    pub fn registry(&self) -> PathBuf {
        self.0.join("active")
    }
}

/// This machine's host name, as the kernel has it.
pub fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// A process's start time in clock ticks since boot, from field 22 of `/proc/<pid>/stat`
/// (after the command name, which is in parentheses and may hold spaces); `None` when no
/// such process runs.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split(' ').nth(19)?.parse().ok()
}

/// This process: its pid and start time.
pub fn this_process() -> (u32, Option<u64>) {
    let pid = std::process::id();
    (pid, process_start(pid))
}

/// Whether process `pid` runs and, when `started` is known, is the one that started then
/// (a pid the kernel gave to another process since is not it).
pub fn process_alive(pid: u32, started: Option<u64>) -> bool {
    match (process_start(pid), started) {
        (None, _) => false,
        (Some(now), Some(then)) => now == then,
        (Some(_), None) => true,
    }
}

/// The label ccci puts on every service it deploys for a run (and a run's realm): the process
/// that owns it, `<host>/<pid>/<start>` ([`owner`]), so that a janitor that finds it with no
/// registry entry can tell whether its run still lives.
pub const OWNER_LABEL: &str = "ccci.owner";

/// This process as an owner: `<host>/<pid>/<start time, or ->`.
pub fn owner() -> String {
    let (pid, start) = this_process();
    let start = start.map_or_else(|| "-".to_string(), |s| s.to_string());
    format!("{}/{pid}/{start}", host_name().unwrap_or_default())
}

/// Whether the owner `label` ([`owner`]) still runs: `Some` when it is a process of this
/// host, `None` when it is another host's (or not an owner label), which only that host can
/// tell.
pub fn owner_alive(label: &str) -> Option<bool> {
    let mut parts = label.rsplitn(3, '/');
    let (start, pid, host) = (parts.next()?, parts.next()?, parts.next()?);
    if host.is_empty() || Some(host) != host_name().as_deref() {
        return None;
    }
    let pid: u32 = pid.parse().ok()?;
    Some(process_alive(pid, start.parse().ok()))
}

/// An exclusive flock(2) on a file, held until dropped: how ccci's processes on one host take
/// turns (deploying the OIDC provider, migrating the run store). The one place ccci locks a
/// file; each caller waits in its own way (a task sleeps, a thread blocks) and says whom it
/// waited for.
#[derive(Debug)]
pub struct FileLock(std::fs::File);

impl FileLock {
    /// Takes the lock on `path` (made when missing) if nobody holds it: `None` when another
    /// process does.
    ///
    /// # Errors
    /// The file cannot be opened or created.
    pub fn try_take(path: &std::path::Path) -> std::io::Result<Option<FileLock>> {
        use std::os::fd::AsRawFd as _;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        Ok(taken.then_some(FileLock(file)))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd as _;
        // SAFETY: unlocking the descriptor this value owns.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_lives_and_another_start_time_is_not_it() {
        let (pid, start) = this_process();
        assert!(start.is_some() && process_alive(pid, start));
        assert!(!process_alive(pid, start.map(|s| s + 1)));
        assert!(!process_alive(u32::MAX - 1, None));
    }

    #[test]
    fn an_owner_is_alive_while_its_process_runs_and_unknown_elsewhere() {
        assert_eq!(owner_alive(&owner()), Some(true), "this process");
        let host = host_name().unwrap();
        assert_eq!(owner_alive(&format!("{host}/999999999/1")), Some(false));
        assert_eq!(owner_alive("another-host/1/1"), None);
        assert_eq!(owner_alive("garbage"), None);
    }
}
