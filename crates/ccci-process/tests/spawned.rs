//! [`ccci_process::spawn`]: the service's long commands.

use ccci_process::{command, Deadline, ProcessError};
use std::time::{Duration, Instant};

/// A service's long command: its pid is known before the wait, and at the deadline its whole
/// group is asked to stop, so a child it started ends with it.
#[tokio::test]
async fn a_spawned_group_is_asked_to_stop_at_its_deadline() {
    let marker = std::env::temp_dir().join(format!("ccci-spawned-{}", std::process::id()));
    let mut cmd = command("sh");
    // The child sleeps in the background; only a signal to the group reaches it too.
    cmd.args(["-c", "sleep 60 & echo $! > \"$1\"; wait", "sh"])
        .arg(&marker);
    let spawned = ccci_process::spawn(cmd, "sh sleep".into()).unwrap();
    let pgid = spawned.pid();
    let started = Instant::now();
    let e = spawned
        .wait(
            Deadline::after(Duration::from_millis(500)),
            Duration::from_secs(20),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProcessError::DeadlinePassed { started: true, .. }),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while ccci_process::group_alive(pgid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !ccci_process::group_alive(pgid),
        "the background sleep outlived its group's stop"
    );
    let _ = std::fs::remove_file(marker);
}
