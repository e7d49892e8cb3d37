//! What ccci asks of the machine it runs on: where it keeps its state, the machine's name,
//! and whether a process still lives. The one place besides [`crate::random_fill`] where
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
}
