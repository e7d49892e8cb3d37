//! The verdict is the exit status, for every way of running a recipe's tests: `cargo test`
//! and `cargo nextest run` of a test crate exit non-zero on a red verdict even when every step
//! passed (an unverified restore, an undeclared skip, a teardown leftover), and zero on a
//! green one. And a recipe
//! function that blocks its thread is bounded: at `test_timeout`, and at the first Ctrl-C.
//! On the real local Swarm, with the fixture crate `ccci-verdict-fixture`
//! (tests/fixtures/verdict-crate).

mod common;

use common::said;

use ccci::core::ladder::TestStatus;
use ccci::core::Results;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const CRATE: &str = "ccci-verdict-fixture";

/// Only the functional rung declared: the backup of a single file passes, the restore
/// proves nothing, and every step passes.
const UNVERIFIED: &str = "expected_na={upgrade: one release, functional: no tests}";
/// The functional rung has no tests and nothing declares why.
const UNDECLARED: &str = "expected_na={upgrade: one release, backup_restore: not here}";

/// A fresh runs directory for one case.
fn runs(case: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("exit-status-{case}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `cargo <args> -p ccci-verdict-fixture` with `set` as CCCI_SET, runs under `runs`, and
/// `env` besides.
fn cargo(args: &[&str], set: Option<&str>, runs: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args)
        .args(["--locked", "-p", CRATE])
        .env("CCCI_RUNS_DIR", runs)
        .env("CCCI_ROUTING", "host-port")
        .env_remove("CCCI_SET")
        .env_remove("NEXTEST_RUN_ID")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    if let Some(set) = set {
        cmd.env("CCCI_SET", set);
    }
    cmd.output().expect("cargo runs")
}

/// The one results.json under `runs`.
fn results(runs: &Path) -> Results {
    let dirs: Vec<_> = std::fs::read_dir(runs)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("results.json").is_file())
        .collect();
    assert_eq!(dirs.len(), 1, "one run under {}", runs.display());
    let text = std::fs::read_to_string(dirs[0].path().join("results.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every step passed, yet the verdict is red: the run must fail, and say why in the
/// `verdict` trial.
fn assert_red_with_every_step_passed(out: &Output, runs: &Path, reason: &str) {
    assert!(
        !out.status.success(),
        "a red verdict exits non-zero: {}",
        said(out)
    );
    let res = results(runs);
    assert_red_with_no_step_failed(&res, reason);
    assert!(
        res.verdict_reasons.iter().any(|r| r.contains(reason)),
        "{:?}",
        res.verdict_reasons
    );
    assert!(res.teardown.clean, "{:?}", res.teardown);
}

/// The verdict is red though no step failed (`case` names the run in the message).
fn assert_red_with_no_step_failed(res: &Results, case: &str) {
    assert_eq!(res.verdict, ccci::core::Verdict::Red, "{case}");
    assert!(
        res.tests
            .iter()
            .all(|t| !matches!(t.status, TestStatus::Fail { .. })),
        "{case}: no step failed: {:#?}",
        res.tests
    );
}

/// How libtest reported the `verdict` trial: `ok` or `FAILED` (its line is
/// `test verdict <padding> ... <outcome>`).
fn verdict_trial(out: &Output) -> Option<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("test verdict ") && l.contains(" ... "))
        .and_then(|l| l.rsplit(" ... ").next())
        .map(|o| o.trim().to_string())
}

#[test]
fn cargo_test_exits_by_the_verdict() {
    let green = runs("test-green");
    let out = cargo(&["test"], None, &green, &[]);
    assert!(out.status.success(), "a green run exits 0: {}", said(&out));
    assert_eq!(results(&green).verdict, ccci::core::Verdict::Green);
    assert_eq!(verdict_trial(&out).as_deref(), Some("ok"), "{}", said(&out));

    let unverified = runs("test-unverified");
    let out = cargo(&["test"], Some(UNVERIFIED), &unverified, &[]);
    assert_red_with_every_step_passed(&out, &unverified, "unverified");
    assert_eq!(
        verdict_trial(&out).as_deref(),
        Some("FAILED"),
        "{}",
        said(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("verdict RED at level"),
        "libtest's own output says why: {}",
        said(&out)
    );

    let undeclared = runs("test-undeclared");
    let out = cargo(&["test"], Some(UNDECLARED), &undeclared, &[]);
    assert_red_with_every_step_passed(&out, &undeclared, "functional");
}

#[test]
fn cargo_nextest_run_exits_by_the_verdict() {
    let green = runs("nextest-green");
    let out = cargo(&["nextest", "run", "--no-fail-fast"], None, &green, &[]);
    assert!(out.status.success(), "a green run exits 0: {}", said(&out));

    for (case, set, reason) in [
        ("nextest-unverified", UNVERIFIED, "unverified"),
        ("nextest-undeclared", UNDECLARED, "functional"),
    ] {
        let runs = runs(case);
        let out = cargo(&["nextest", "run", "--no-fail-fast"], Some(set), &runs, &[]);
        assert_red_with_every_step_passed(&out, &runs, reason);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("verdict RED at level"), "{}", said(&out));
    }
}

/// Removes what the fixture's leftover hook pinned for `stack`: its container, then the
/// volume (which teardown could not remove while the container held it).
fn unpin(stack: &str) {
    ccci_testkit::docker_quietly(&["rm", "-f", &format!("{stack}-pin")]);
    ccci_testkit::docker_quietly(&["volume", "rm", &format!("{stack}_pinned")]);
}

#[test]
fn a_teardown_leftover_makes_cargo_test_and_nextest_exit_non_zero() {
    let leftover = [("VERDICT_FIXTURE_LEFTOVER", "1")];
    for (case, args) in [
        ("leftover-test", &["test"][..]),
        (
            "leftover-nextest",
            &["nextest", "run", "--no-fail-fast"][..],
        ),
    ] {
        let runs = runs(case);
        let out = cargo(args, None, &runs, &leftover);
        let res = results(&runs);
        unpin(&res.stack);
        assert!(
            !out.status.success(),
            "{case}: a teardown leftover exits non-zero: {}",
            said(&out)
        );
        assert_red_with_no_step_failed(&res, case);
        let pinned = format!("volume {}_pinned", res.stack);
        assert_eq!(
            res.teardown.leftovers.len(),
            1,
            "{case}: everything else is removed: {:?}",
            res.teardown
        );
        assert!(
            !res.teardown.clean
                && res.teardown.leftovers[0]
                    .starts_with(&format!("{pinned}: the daemon refused: "))
                && res.teardown.leftovers[0].contains("in use"),
            "{case}: the leftover, with why: {:?}",
            res.teardown
        );
        assert!(
            res.verdict_reasons
                .iter()
                .any(|r| r.contains("teardown left") && r.contains(&pinned)),
            "{case}: {:?}",
            res.verdict_reasons
        );
        assert!(
            common::objects_of(&res.stack).is_empty(),
            "{case}: the test's own cleanup left {:?}",
            common::objects_of(&res.stack)
        );
    }
}

#[test]
fn a_function_that_blocks_its_thread_fails_at_test_timeout_and_the_run_tears_down() {
    let runs = runs("blocked-deadline");
    let started = Instant::now();
    let out = cargo(
        &["test"],
        Some("test_timeout=3s"),
        &runs,
        &[("VERDICT_FIXTURE_BLOCK", "1")],
    );
    assert!(!out.status.success(), "{}", said(&out));
    let res = results(&runs);
    let blocked = res
        .tests
        .iter()
        .find(|t| t.name == "install::blocks_when_asked")
        .expect("the blocking function's step");
    assert!(
        matches!(&blocked.status, TestStatus::Fail { message } if message.contains("test_timeout (3s)")),
        "{blocked:?}"
    );
    assert!(
        blocked.duration_ms < 10_000,
        "cut off at its deadline: {blocked:?}"
    );
    assert!(res.teardown.clean, "{:?}", res.teardown);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the run went on past the blocked function: {}",
        said(&out)
    );
}

/// The test binary cargo builds for the fixture crate.
fn test_binary() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "test",
            "--locked",
            "-p",
            CRATE,
            "--no-run",
            "--message-format=json",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .next()
        .expect("cargo names the fixture's test binary")
}

#[test]
fn the_first_interrupt_tears_down_while_a_function_blocks_its_thread() {
    let runs = runs("blocked-interrupt");
    let mut child = Command::new(test_binary())
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verdict-crate"))
        .env("CCCI_RUNS_DIR", &runs)
        .env("CCCI_ROUTING", "host-port")
        .env("CCCI_SET", "test_timeout=10m")
        .env("VERDICT_FIXTURE_BLOCK", "1")
        .env_remove("NEXTEST_RUN_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let seen = common::read_until(&mut lines, |l| {
        l.contains("verdict-fixture: blocking the thread")
    });
    assert!(
        seen.last()
            .is_some_and(|l| l.contains("blocking the thread")),
        "the fixture never blocked:\n{}",
        seen.join("\n")
    );
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running 90 s after the first interrupt");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let rest = rest.join().unwrap().join("\n");
    assert_eq!(status.code(), Some(130), "{rest}");
    let res = results(&runs);
    assert!(res.teardown.clean, "{:?}\n{rest}", res.teardown);
    assert!(common::objects_of(&res.stack).is_empty(), "{rest}");
}
