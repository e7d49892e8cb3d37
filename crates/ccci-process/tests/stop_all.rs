//! `stop_all` kills commands whose callers stopped waiting. A binary of its own: it
//! kills every command this process runs, so no other test may share the process.

use ccci_process::{command, run, stop_all, Deadline, ProcessError};
use std::time::{Duration, Instant};

#[test]
fn stop_all_kills_commands_nobody_waits_for_any_more() {
    let marker = std::env::temp_dir().join(format!("ccci-stop-all-{}", std::process::id()));
    let waiting = {
        let marker = marker.clone();
        std::thread::spawn(move || {
            // Says it started, then sleeps: only a kill ends it before a minute.
            let mut cmd = command("sh");
            cmd.args(["-c", "touch \"$1\"; sleep 60", "sh"])
                .arg(&marker);
            run(
                cmd,
                "sleep 60".into(),
                Deadline::after(Duration::from_secs(60)),
                "",
            )
        })
    };
    let started = Instant::now();
    while !marker.exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(marker.exists(), "the command never started");
    stop_all();
    let e = waiting.join().unwrap().unwrap_err();
    assert!(
        matches!(e, ProcessError::Command { .. }),
        "killed, so it failed: {e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_file(marker);
}
