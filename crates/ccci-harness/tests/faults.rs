//! Faults in the middle of a run on the real Swarm, each with the verdict it must give and
//! nothing left behind (snapshotted, for docs/bad-input-and-faults.md):
//! - the database container killed while its backup pre-hook dumps: the backup retries on the
//!   restarted database or fails, and is never accepted with a dump cut short;
//! - the app's only task killed during a functional test: that test fails, the run ends,
//!   and it is the recipe's red;
//! - an image whose registry is down: the host's fault (`cause: host`), never the recipe's,
//!   while an image that a running registry does not have is the recipe's;
//! - the disk of the run directories filling up before the backup (a 16 MiB tmpfs, filled):
//!   every backup attempt fails for want of space, and that is the host's fault.
//!
//! The faults are injected by the recipe functions below, run by the tests that need them.

mod common;

use ccci::core::ladder::{Rung, RungOutcome, TestStatus};
use ccci::core::meta::Source;
use ccci::core::{Cause, RecipeMeta, Verdict};
use ccci::{run_recipe, Hooks, Http, Report, Stack};
use std::path::Path;
use std::time::Duration;

/// `docker kill` of `container`, as an operator's mistake or the OOM killer would.
fn kill(container: &str) {
    let mut cmd = std::process::Command::new("docker");
    cmd.args(["kill", container]);
    let deadline = ccci::Deadline::after(Duration::from_secs(30));
    ccci::process::run(cmd, format!("docker kill {container}"), deadline, "")
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Kills the database two seconds into the backup, while its pre-hook (five seconds of
/// sleep, then pg_dump) runs.
#[ccci::lifecycle(before = backup)]
async fn kill_the_database_during_its_dump(stack: &Stack) -> ccci::Result {
    let db = stack.container("db").await?;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        kill(&db);
    });
    Ok(())
}

/// Where [`fill_the_runs_disk`] fills: set by the test that mounts the small disk.
static FILL: std::sync::Mutex<Option<std::path::PathBuf>> = std::sync::Mutex::new(None);

/// Fills the disk the run directories are on, as another process on a busy host would,
/// before the backup writes its snapshot there.
#[ccci::lifecycle(before = backup)]
async fn fill_the_runs_disk() -> ccci::Result {
    use std::io::Write as _;
    let path = FILL.lock().unwrap().clone();
    let path = ccci::Context::context(path, "no disk to fill was set")?;
    let mut f = std::fs::File::create(&path)?;
    let block = vec![0u8; 1 << 16];
    loop {
        match f.write_all(&block) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Kills the app's only task, then asks for its front page.
#[ccci::functional]
async fn answers_while_its_task_is_killed(stack: &Stack, http: &Http) -> ccci::Result {
    let app = stack.container("app").await?;
    kill(&app);
    for _ in 0..10 {
        let page = http.get("/").await?;
        ccci::ensure!(page.status == 200, "GET / answered {}", page.status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// A functional test that has nothing to do with the fault.
#[ccci::functional]
async fn serves_its_front_page(http: &Http) -> ccci::Result {
    ccci::ensure!(http.get("/").await?.status == 200, "GET / failed");
    Ok(())
}

fn hooks(lifecycle: &[&str], functional: &[&str]) -> Hooks {
    let all = Hooks::registered();
    Hooks {
        lifecycle: all
            .lifecycle
            .into_iter()
            .filter(|d| lifecycle.contains(&d.name))
            .collect(),
        functional: all
            .functional
            .into_iter()
            .filter(|d| functional.contains(&d.name))
            .collect(),
        verify: vec![],
    }
}

fn run(hooks: Hooks, meta: impl FnOnce(&mut RecipeMeta)) -> Report {
    run_of("faulty", hooks, meta)
}

fn run_of(recipe: &str, hooks: Hooks, meta: impl FnOnce(&mut RecipeMeta)) -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut m = RecipeMeta::new(recipe, Source::Releases(recipe.into()));
    m.expected_na.insert(
        Rung::Upgrade,
        "one release: the faults are elsewhere".into(),
    );
    m.deploy_timeout = Duration::from_secs(180);
    meta(&mut m);
    run_recipe(
        common::settings(&dir, &common::runs_dir("fault-runs")),
        m,
        hooks,
    )
    .expect("the run produces results")
}

#[test]
fn a_database_killed_during_its_dump_is_never_a_green_with_a_cut_dump() {
    let r = run(hooks(&["kill_the_database_during_its_dump"], &[]), |m| {
        m.expected_na
            .insert(Rung::Functional, "this test is about the backup".into());
    });
    let res = &r.results;
    common::assert_clean(res);
    let first = res.snapshots.first().expect("a backup was attempted");
    assert!(
        first.error.is_some(),
        "the kill hit the first attempt: {:#?}",
        res.snapshots
    );
    // Whatever the rung concludes, an accepted snapshot holds a whole dump.
    let accepted = res.snapshots.iter().find(|s| s.error.is_none());
    if let Some(accepted) = accepted {
        let dump = std::fs::read_dir(&accepted.dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "tar"))
            .map(|tar| std::fs::read(tar).unwrap())
            .expect("the snapshot holds an archive");
        assert!(
            String::from_utf8_lossy(&dump).contains("PostgreSQL database dump complete"),
            "an accepted dump is complete"
        );
    }
    let rung = &res.rungs[&Rung::BackupRestore];
    assert!(
        !(accepted.is_none() && *rung == RungOutcome::Pass),
        "no accepted snapshot, yet the rung passed"
    );
    assert_eq!(res.verdict == Verdict::Green, *rung == RungOutcome::Pass);
    insta::assert_snapshot!(
        "fault_database_killed_during_dump",
        format!(
            "attempt 1 rejected ({}); {}; backup_restore {}, verdict {}",
            if first
                .error
                .as_deref()
                .unwrap_or_default()
                .contains("exited 137")
            {
                "the hook was killed: exit 137"
            } else {
                "the hook failed"
            },
            match accepted {
                Some(_) =>
                    "a later attempt, on the restarted database, was accepted with a complete dump",
                None => "no attempt was accepted",
            },
            rung.label(),
            if res.verdict == Verdict::Green {
                "green"
            } else {
                "red"
            },
        )
    );
}

#[test]
fn the_app_killed_during_a_functional_test_fails_that_test_and_the_run_ends() {
    let r = run(
        hooks(
            &[],
            &["answers_while_its_task_is_killed", "serves_its_front_page"],
        ),
        |m| {
            m.expected_na
                .insert(Rung::BackupRestore, "this test is about the app".into());
        },
    );
    let res = &r.results;
    common::assert_clean(res);
    let status = |name: &str| {
        &res.tests
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no {name}: {:#?}", res.tests))
            .status
    };
    let TestStatus::Fail { message } = status("functional::answers_while_its_task_is_killed")
    else {
        panic!("the test must fail: {:#?}", res.tests);
    };
    assert_eq!(res.rungs[&Rung::Install], RungOutcome::Pass);
    assert!(matches!(
        res.rungs[&Rung::Functional],
        RungOutcome::Fail { .. }
    ));
    assert_eq!(res.verdict, Verdict::Red);
    // The app did not survive its task being killed: that is the recipe's red.
    assert_eq!(res.cause, Some(Cause::Recipe));
    insta::assert_snapshot!(
        "fault_app_killed_during_functional_test",
        format!(
            "install pass; the test fails ({}); functional fail; verdict red; the run ended and tore down",
            if message.contains("error sending request") {
                "GET / could not be sent"
            } else {
                message.as_str()
            },
        )
    );
}

/// The install of the `unpullable` fixture with its image at `image`.
fn install_of(image: &str) -> ccci::core::Results {
    let r = run_of("unpullable", hooks(&[], &[]), |m| {
        m.extra_env.insert("APP_IMAGE".into(), image.into());
        m.deploy_timeout = Duration::from_secs(60);
        for rung in [Rung::BackupRestore, Rung::Functional] {
            m.expected_na
                .insert(rung, "this test is about pulling the image".into());
        }
    });
    common::assert_clean(&r.results);
    r.results
}

#[test]
fn an_image_whose_registry_is_down_is_the_hosts_fault_and_a_missing_one_the_recipes() {
    // A registry that is down: nothing answers at its address.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = down.local_addr().unwrap().port();
    drop(down);
    let res = install_of(&format!("127.0.0.1:{port}/ccci/app:1.0"));
    assert_eq!(res.verdict, Verdict::Red);
    assert!(
        res.deploys.is_empty(),
        "nothing is deployed: {:#?}",
        res.deploys
    );
    let Some(Cause::Host { lacked }) = &res.cause else {
        panic!(
            "a registry that is down is the host's fault: {:#?}",
            res.cause
        );
    };
    assert!(
        lacked.contains(&format!("127.0.0.1:{port}/ccci/app:1.0"))
            && lacked.contains("could not be reached"),
        "{lacked}"
    );

    // A running registry (scripts/local-swarm's, on 127.0.0.1:5000) without the image: the
    // recipe names an image that does not exist.
    let res = install_of("127.0.0.1:5000/ccci/no-such-image:1.0");
    assert_eq!(res.verdict, Verdict::Red);
    assert_eq!(res.cause, Some(Cause::Recipe), "{:#?}", res.tests);
    insta::assert_snapshot!(
        "fault_registry_down",
        format!(
            "registry down: install fails, cause host (the registry of the image could not be reached), nothing deployed; image missing from a running registry: cause {}",
            res.cause.as_ref().map_or("none", Cause::as_str)
        )
    );
}

/// A tmpfs of `size` mounted at `dir` for as long as it lives.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let mut cmd = std::process::Command::new("mount");
        cmd.args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir);
        let deadline = ccci::Deadline::after(Duration::from_secs(30));
        ccci::process::run(cmd, "mount -t tmpfs".into(), deadline, "").unwrap_or_else(|e| {
            panic!("this test mounts a small tmpfs as a full disk, which needs root: {e}")
        });
        SmallDisk(dir.into())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let mut cmd = std::process::Command::new("umount");
        cmd.arg(&self.0);
        let deadline = ccci::Deadline::after(Duration::from_secs(30));
        let _ = ccci::process::run(cmd, "umount".into(), deadline, "");
    }
}

#[test]
fn a_disk_that_fills_before_the_backup_is_the_hosts_fault() {
    let runs = common::runs_dir(&format!("small-disk-{}", std::process::id()));
    let disk = SmallDisk::mount(&runs, "16m");
    *FILL.lock().unwrap() = Some(runs.join("filler"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut m = RecipeMeta::new("faulty", Source::Releases("faulty".into()));
    m.expected_na
        .insert(Rung::Upgrade, "one release: the fault is elsewhere".into());
    m.expected_na
        .insert(Rung::Functional, "this test is about the backup".into());
    m.deploy_timeout = Duration::from_secs(180);
    let r = run_recipe(
        common::settings(&dir, &runs),
        m,
        hooks(&["fill_the_runs_disk"], &[]),
    )
    .expect("the run produces results");
    drop(disk);
    let res = &r.results;
    common::assert_clean(res);
    assert_eq!(res.verdict, Verdict::Red);
    assert!(
        res.snapshots.iter().all(|s| s.error.is_some()),
        "no attempt can be written: {:#?}",
        res.snapshots
    );
    let Some(Cause::Host { lacked }) = &res.cause else {
        panic!(
            "a full disk is the host's fault: {:#?}\n{:#?}",
            res.cause, res.tests
        );
    };
    assert!(lacked.starts_with("disk space on this host"), "{lacked}");
    insta::assert_snapshot!(
        "fault_disk_full",
        format!(
            "the run directories' disk filled before the backup: {} attempts fail for want of space; backup_restore {}; verdict red, cause host (disk space on this host)",
            res.snapshots.len(),
            res.rungs[&Rung::BackupRestore].label(),
        )
    );
}
