//! The registry of running process groups, and the signals that reach a group.

use std::time::Duration;

/// The process groups of the commands running now, so that [`stop_all`] can reach the ones
/// whose callers have stopped waiting for them.
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// A running command's entry in [`RUNNING`], removed when it ends whatever way.
pub(crate) struct Running(u32);

impl Running {
    pub(crate) fn register(pgid: u32) -> Running {
        running().push(pgid);
        Running(pgid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        running().retain(|p| *p != self.0);
    }
}

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    // The list is only pushed to and filtered: a panic cannot leave it half-changed.
    RUNNING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How many commands started here are running now.
pub fn running_count() -> usize {
    running().len()
}

/// Kills every command started here that is still running, with its children: for a run that
/// was interrupted, whose steps no longer wait for them.
pub fn stop_all() {
    for pgid in running().iter() {
        kill_group(*pgid);
    }
}

/// Stops every command started here that is still running, each as [`stop_group`] does (asked
/// first, killed after `grace`), all at once; returns how many there were. For a service
/// shutting down: each run tears down before it goes.
pub async fn stop_all_within(grace: Duration) -> usize {
    let groups = running().clone();
    let stops: Vec<_> = groups
        .iter()
        .map(|&g| tokio::spawn(stop_group(g, grace)))
        .collect();
    for s in stops {
        let _ = s.await;
    }
    groups.len()
}

/// Stops process group `pgid`: SIGTERM (a ccci run ends its step, tears down and writes its
/// results), then SIGKILL if anything of it is left after `grace`. Returns whether it ended
/// before that. The group may be one an earlier process started (a run that outlived the
/// service that started it).
pub async fn stop_group(pgid: u32, grace: Duration) -> bool {
    signal_group(pgid, libc::SIGTERM);
    let until = tokio::time::Instant::now() + grace;
    while tokio::time::Instant::now() < until {
        if !group_alive(pgid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    kill_group(pgid);
    false
}

/// Whether any process of group `pgid` is left.
pub fn group_alive(pgid: u32) -> bool {
    match libc::pid_t::try_from(pgid) {
        // SAFETY: signal 0 only asks whether the group exists; no memory is touched.
        Ok(pgid) => unsafe { libc::kill(-pgid, 0) == 0 },
        Err(_) => false,
    }
}

/// SIGKILL to the process group `pgid` (the command and everything it started). A group
/// that is already gone is not an error.
pub(crate) fn kill_group(pgid: u32) {
    signal_group(pgid, libc::SIGKILL);
}

/// `sig` to every process of group `pgid` (a command started with `process_group(0)`).
pub(crate) fn signal_group(pgid: u32, sig: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // A negative pid addresses the group.
        send(-pgid, sig);
    }
}

/// `sig` to the process `pid` (not yet waited for, so the pid is still its own).
pub(crate) fn signal(pid: u32, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        send(pid, sig);
    }
}

fn send(pid: libc::pid_t, sig: libc::c_int) {
    // Pid 0 and -0 would address our own group; nothing here ever means that.
    if pid == 0 {
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, sig);
    }
}
