//! What ccci's own tests share. It adds nothing to any build but ccci-core, which every
//! test already builds, and proptest for the property tests (feature `proptest`).

pub mod prism;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The real recipes the tests run, and where each lives upstream.
pub const UPSTREAM: &[(&str, &str)] = &[
    (
        "foodsharing-cms",
        "https://github.com/WilhelmBerggren/foodsharing-cms",
    ),
    ("lemp", "https://git.coopcloud.tech/coop-cloud/lemp"),
    ("traefik", "https://git.coopcloud.tech/coop-cloud/traefik"),
];

/// How long asking the upstream whether it answers may take.
const UPSTREAM_ANSWERS: Duration = Duration::from_secs(20);

/// The directory of recipe bundles: [`RECIPES`](ccci_core::vars::RECIPES), default
/// `../shared/recipes` beside the
/// repository.
pub fn recipes_dir() -> PathBuf {
    std::env::var_os(ccci_core::vars::RECIPES)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/recipes"))
}

/// A real recipe repository for a test, as a URL or path git can clone: its bundle in
/// [`recipes_dir`] when there is one, else its public upstream when that answers. When
/// neither can be had the test fails naming both: such a test is never skipped.
pub fn recipe_repository(name: &str) -> String {
    let bundle = recipes_dir().join(format!("{name}.bundle"));
    if bundle.is_file() {
        return bundle.display().to_string();
    }
    let upstream = UPSTREAM
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, url)| *url)
        .unwrap_or_else(|| {
            panic!("ccci-testkit knows no upstream for the recipe {name}: add it to UPSTREAM")
        });
    match answers(upstream) {
        Ok(()) => upstream.to_string(),
        Err(why) => panic!(
            "the real recipe {name} cannot be had: no bundle at {} (set {} to the directory of recipe bundles), and its upstream {upstream} {why}",
            bundle.display(),
            ccci_core::vars::RECIPES
        ),
    }
}

/// Whether `git ls-remote` reaches `url` within [`UPSTREAM_ANSWERS`].
fn answers(url: &str) -> Result<(), String> {
    let mut child = Command::new("git")
        .args([
            "-c",
            "advice.detachedHead=false",
            "ls-remote",
            "--heads",
            url,
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not be asked (git: {e})"))?;
    let deadline = Instant::now() + UPSTREAM_ANSWERS;
    loop {
        match child.try_wait() {
            Ok(Some(s)) if s.success() => return Ok(()),
            Ok(Some(s)) => return Err(format!("did not answer git ls-remote ({s})")),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "did not answer git ls-remote within {} s",
                    UPSTREAM_ANSWERS.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("could not be asked: {e}")),
        }
    }
}

/// How long one docker CLI call of a test may take.
const DOCKER_CALL: Duration = Duration::from_secs(60);

/// Runs `docker ARGS` for a test, within a minute, and returns its stdout; panics saying the
/// command and what it printed when it fails or hangs.
pub fn docker(args: &[&str]) -> String {
    let shown = format!("docker {}", args.join(" "));
    let mut child = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{shown}: cannot start: {e}"));
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out = read(child.stdout.take().map(|p| Box::new(p) as _));
    let err = read(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + DOCKER_CALL;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{shown}: still running after {} s", DOCKER_CALL.as_secs());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("{shown}: {e}"),
        }
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    assert!(status.success(), "{shown}: {status}: {}", err.trim());
    out.trim().to_string()
}

/// Like [`docker`], for cleanups that may find nothing to remove: failures are ignored.
pub fn docker_quietly(args: &[&str]) {
    let _ = std::panic::catch_unwind(|| docker(args));
}

/// The property tests' configuration: 256 cases from a fixed seed, so CI is repeatable;
/// `PROPTEST_RNG_SEED=<n>` explores other inputs (a failure prints the minimal one).
#[cfg(feature = "proptest")]
pub fn proptest_config() -> proptest::test_runner::Config {
    let default = proptest::test_runner::Config::default();
    let rng_seed = match std::env::var_os("PROPTEST_RNG_SEED") {
        Some(_) => default.rng_seed,
        None => proptest::test_runner::RngSeed::Fixed(20261123),
    };
    proptest::test_runner::Config {
        cases: 256,
        failure_persistence: None,
        rng_seed,
        ..default
    }
}

/// A run's results as ccci concludes them (through [`ccci_core::Results::conclude`]), for
/// tests and benchmarks of what reads results: a full ladder of four passing steps, each rung
/// backed as a real run backs it, or with its functional step failing when `green` is false
/// (then level 3, red). `started` is Unix seconds; the run took 40 s.
pub fn sample_results(
    run_id: &str,
    recipe: &str,
    reference: &str,
    started: u64,
    green: bool,
) -> ccci_core::Results {
    use ccci_core::ladder::{Rung, TestStatus};
    use ccci_core::results::{
        Build, DeployRecord, Facts, Lane, RefInfo, RestoreProof, Routing, Teardown, TestRecord,
    };
    let commit = format!("{:0>40}", format!("{:x}", started));
    let step = |name: &str, rung: Rung, status: TestStatus| TestRecord {
        name: name.into(),
        rung,
        status,
        duration_ms: 1200,
        forensics: None,
        host_fault: None,
    };
    let functional = match green {
        true => TestStatus::Pass,
        false => TestStatus::Fail {
            message: "GET / answered 500".into(),
        },
    };
    let domain = format!("{}-0a1b2c.ccci.test", &recipe[..recipe.len().min(4)]);
    let facts = Facts {
        run_id: run_id.into(),
        recipe: recipe.into(),
        head: RefInfo {
            reference: reference.into(),
            commit: commit.clone(),
            version: Some("1.1.0+1.22.1".into()),
        },
        upgrade_base: None,
        stack: domain.replace('.', "_"),
        domain: domain.clone(),
        deployer: "builtin".into(),
        started_at: ccci_core::time::rfc3339(started),
        finished_at: ccci_core::time::rfc3339(started + 40),
        duration_secs: 40.0,
        tests: vec![
            step(
                "install::deploys_and_becomes_healthy",
                Rung::Install,
                TestStatus::Pass,
            ),
            step(
                "upgrade::upgrades_in_place_to_head",
                Rung::Upgrade,
                TestStatus::Pass,
            ),
            step(
                "backup::takes_a_verified_snapshot",
                Rung::BackupRestore,
                TestStatus::Pass,
            ),
            step(
                "restore::restores_the_snapshot",
                Rung::BackupRestore,
                TestStatus::Pass,
            ),
            step("functional::front_page", Rung::Functional, functional),
        ],
        snapshots: vec![],
        teardown: Teardown {
            clean: true,
            ..Teardown::default()
        },
        run_dir: format!("/nonexistent/runs/{recipe}-{run_id}"),
        deploys: vec![DeployRecord {
            step: "upgrade".into(),
            version: None,
            commit,
            chaos_version: None,
            compose_files: vec!["compose.yml".into()],
            healthy: true,
        }],
        dependencies: vec![],
        restore_proof: Some(RestoreProof::Markers {
            paths: vec!["app:/data".into()],
        }),
        warnings: vec![],
        routing: Some(Routing::Traefik),
        app_url: Some(format!("https://{domain}")),
        changes: vec![],
        manifest: vec![],
        screenshot: None,
        bad_input: None,
        ccci: Some(Build {
            version: "0.1.0".into(),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        }),
        host: Some("ci-1".into()),
        lane: Lane::Cold,
        canonical: None,
        upgrade_paths: Vec::new(),
        cancelled: None,
        rollback: None,
    };
    ccci_core::Results::conclude(facts, &Default::default())
}

/// Runs git in `dir` with a fixed identity, failing the test on an error; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=ccci", "-c", "user.email=ccci@example.org"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_ADVICE", "0")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A recipe repository at `work`, built from a fixture test crate's releases
/// (`recipes/<recipe>/recipe/<version>/` of this workspace) as a maintainer makes one: a commit
/// per release with its annotated tag, then one more commit (a pull request's change to the
/// README) on top. Returns that commit.
pub fn release_repository(recipe: &str, work: &Path) -> String {
    std::fs::create_dir_all(work).expect("the work tree");
    git(work, &["init", "--quiet"]);
    let releases = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../recipes")
        .join(recipe)
        .join("recipe");
    let mut versions: Vec<String> = std::fs::read_dir(&releases)
        .unwrap_or_else(|e| panic!("{}: {e}", releases.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    versions.sort();
    for v in &versions {
        for e in std::fs::read_dir(work).unwrap().flatten() {
            if e.file_name() != ".git" {
                let p = e.path();
                let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir_all(&p));
            }
        }
        copy_tree(&releases.join(v), work);
        let message = format!("chore: publish {v} release");
        git(work, &["add", "-A"]);
        git(work, &["commit", "--quiet", "-m", &message]);
        git(work, &["tag", "-a", v, "-m", &message]);
    }
    let readme = work.join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap_or_default();
    std::fs::write(&readme, format!("{text}\nA pull request's change.\n")).unwrap();
    git(work, &["add", "-A"]);
    git(work, &["commit", "--quiet", "-m", "a pull request"]);
    git(work, &["rev-parse", "HEAD"])
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Every object of `stack` on the daemon, by the docker CLI (a second opinion beside ccci's).
pub fn objects_of(stack: &str) -> Vec<String> {
    let label = format!("label=com.docker.stack.namespace={stack}");
    let mut found = Vec::new();
    for kind in ["service", "network", "volume", "secret", "config"] {
        let out = docker(&[kind, "ls", "-q", "--filter", &label]);
        found.extend(out.lines().map(|l| format!("{kind} {l}")));
    }
    found
}
