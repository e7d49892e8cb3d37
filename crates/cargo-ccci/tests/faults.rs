//! Faults of the host around `cargo ccci`, each with the outcome it must give (snapshotted,
//! for docs/bad-input-and-faults.md) and nothing left on the Swarm:
//! - the run directory cannot be written: refused before deploying, naming the path;
//! - standard output closed early (`| head`): no panic, no backtrace, the exit status kept;
//! - dockerd restarted while a run waits on its deploy: the run fails with a clear error or
//!   recovers, and what it deployed is gone once the daemon is back.

mod common;

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ccci-report/tests/fixtures/results.json"
);

/// A pipe whose reading end is already closed: the first write to it fails with EPIPE.
fn closed_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills the two descriptors; both are owned below exactly once.
    let (read, write) = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe(2)");
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    drop(read);
    write
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut seen = Vec::new();
    for args in [
        vec!["results", FIXTURE],
        vec!["results", FIXTURE, "--json"],
        vec!["report", FIXTURE, "--format", "markdown"],
        vec!["list", "--json"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
            .arg("ccci")
            .args(&args)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            .stdout(Stdio::from(closed_pipe()))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.is_empty(), "quiet: {args:?}: {stderr}");
        // `results` exits with the run's verdict (the fixture is red), the others 0.
        let want = if args[0] == "results" { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "{args:?}");
        seen.push(format!(
            "`cargo ccci {}`: exit {}, {} bytes on stderr",
            args.join(" ").replace(FIXTURE, "results.json"),
            out.status.code().unwrap_or(-1),
            stderr.len()
        ));
    }
    insta::assert_snapshot!("fault_stdout_closed", seen.join("; "));
}

#[test]
fn an_unwritable_run_directory_is_refused_before_deploying() {
    // Root may write anywhere a mode forbids; under a regular file nothing can be made.
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let runs = file.join("runs");
    let registry = scratch.path().join("registry");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "run", "--recipe-git"])
        .arg(common::bundle("lemp"))
        .env("CCCI_RUNS_DIR", &runs)
        .env("CCCI_REGISTRY_DIR", &registry)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("cargo ccci: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(line.contains(&runs.display().to_string()), "{line}");
    assert!(
        ccci::registry::Registry::at(&registry)
            .unwrap()
            .runs()
            .is_empty(),
        "nothing was registered, so nothing was deployed"
    );
    insta::assert_snapshot!(
        "fault_run_dir_unwritable",
        line.replace(&scratch.path().display().to_string(), "<scratch>")
    );
}

/// A host whose docker CLI is gone is the host's fault, never the recipe's: the run fails
/// (exit 1) naming the missing CLI, results.json records no bad input, and nothing is left.
#[test]
fn a_host_without_the_docker_cli_is_not_bad_input() {
    let scratch = tempfile::tempdir().unwrap();
    // Every program of this machine's PATH but `docker`.
    let bin = scratch.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = std::env::var_os("PATH").unwrap();
    for dir in std::env::split_paths(&path) {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let link = bin.join(e.file_name());
            if e.file_name() != "docker" && !link.exists() {
                let _ = std::os::unix::fs::symlink(e.path(), link);
            }
        }
    }
    let runs = scratch.path().join("runs");
    let registry = scratch.path().join("registry");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "run", "--recipe-git"])
        .arg(common::bundle("lemp"))
        .args(["--routing", "host-port", "--domain", "nodocker.ccci.test"])
        .env("PATH", &bin)
        .env("CCCI_RUNS_DIR", &runs)
        .env("CCCI_REGISTRY_DIR", &registry)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed run, not bad input: {stderr}"
    );
    let results = common::only_results(&runs, &stderr);
    assert!(results.bad_input.is_none(), "{:?}", results.bad_input);
    let failure = common::install_failure(&results);
    assert!(
        failure.contains("the docker CLI is not on PATH"),
        "{failure}"
    );
    assert!(common::objects_of("nodocker_ccci_test").is_empty());
}
