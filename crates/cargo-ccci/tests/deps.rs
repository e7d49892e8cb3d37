//! A recipe's OIDC dependency when it is not there, on the real local Swarm, with the
//! apache-oidc fixture recipe (recipes/apache-oidc) run as a maintainer runs it
//! (`cargo test -p recipe-apache-oidc`): withheld, the run is red naming it; its provider down
//! when the run starts, the run stops with that error before the app is deployed; its
//! provider stopped in the middle of a run, the run is red naming the dependency, and the next
//! run brings the provider back, removes the realm the red run could not, and is green; a run
//! killed after its realm was made leaves it to the janitor, which removes it.
//!
//! The provider faults break a provider of their own (`CCCI_OIDC_DOMAIN`), never the warm one
//! other runs use, and remove it afterwards.

mod common;

use ccci::core::{Results, Verdict};
use common::said;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CRATE: &str = "recipe-apache-oidc";

/// A fresh scratch directory for one test: its runs and its run registry.
fn scratch(case: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deps-{case}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `cargo test -p recipe-apache-oidc`, its runs and registry under `scratch`, with `env`.
fn recipe_tests(scratch: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["test", "--locked", "-p", CRATE])
        .env("CCCI_RUNS_DIR", scratch.join("runs"))
        .env("CCCI_REGISTRY_DIR", scratch.join("registry"))
        .env_remove("CCCI_SET")
        .env_remove("CCCI_WITHHOLD")
        .env_remove("CCCI_ROUTING")
        .env_remove("NEXTEST_RUN_ID")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    cmd
}

/// The results of every run under `scratch`, oldest first.
fn all_results(scratch: &Path) -> Vec<Results> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scratch.join("runs"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("results.json").is_file());
    dirs.sort_by_key(|d| std::fs::metadata(d).and_then(|m| m.modified()).ok());
    dirs.iter()
        .map(|d| {
            serde_json::from_str(&std::fs::read_to_string(d.join("results.json")).unwrap()).unwrap()
        })
        .collect()
}

/// The `oidc` dependency's record in `res`.
fn oidc_record(res: &Results) -> &ccci::core::results::DependencyRecord {
    res.dependencies
        .iter()
        .find(|d| d.name == "oidc")
        .unwrap_or_else(|| panic!("no oidc dependency recorded: {:#?}", res.dependencies))
}

/// `cargo ccci deps <args> --domain <domain>`.
fn deps(args: &[&str], domain: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "deps"])
        .args(args)
        .args(["--domain", domain])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A provider of the test's own, removed with all its data when the test ends, however.
struct OwnProvider {
    domain: &'static str,
}

impl OwnProvider {
    fn stack(&self) -> String {
        ccci_abra::stack_name(self.domain).unwrap()
    }

    /// The running container of its app.
    fn container(&self) -> String {
        let filter = format!("label=com.docker.swarm.service.name={}_app", self.stack());
        let ids = ccci_testkit::docker(&["ps", "-q", "--filter", &filter]);
        ids.lines()
            .next()
            .unwrap_or_else(|| panic!("{}: no running app container", self.stack()))
            .to_string()
    }
}

impl Drop for OwnProvider {
    fn drop(&mut self) {
        let out = deps(&["remove", "--force"], self.domain);
        if !out.status.success() && !std::thread::panicking() {
            panic!("removing the provider {}: {}", self.domain, said(&out));
        }
    }
}

#[test]
fn withheld_the_dependency_makes_the_run_red_naming_it() {
    let scratch = scratch("withheld");
    let out = recipe_tests(&scratch, &[("CCCI_WITHHOLD", "oidc")])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a red verdict exits non-zero: {}",
        said(&out)
    );
    let runs = all_results(&scratch);
    assert_eq!(runs.len(), 1, "{}", said(&out));
    let res = &runs[0];
    assert_eq!(res.verdict, Verdict::Red);
    assert!(
        res.verdict_reasons.iter().any(|r| r.contains("`oidc`")),
        "{:?}",
        res.verdict_reasons
    );
    let rec = oidc_record(res);
    assert!(!rec.provided && rec.values.is_empty(), "{rec:#?}");
    // Withheld, the dependency ccci provides was not there: not the recipe's red.
    assert!(
        res.cause.as_ref().is_some_and(|c| c.is_host()),
        "{:?}",
        res.cause
    );
    assert!(
        rec.problem
            .as_deref()
            .unwrap_or("")
            .contains("CCCI_WITHHOLD"),
        "{rec:#?}"
    );
    // The app ran without it: the sign-in tests failed for that reason.
    assert!(res.deploys.iter().any(|d| d.healthy), "{:#?}", res.deploys);
    assert!(res.teardown.clean, "{:?}", res.teardown);
}

#[test]
fn a_provider_down_when_the_run_starts_stops_it_before_the_app_is_deployed() {
    let provider = OwnProvider {
        domain: "ccci-oidc-down.ccci.test",
    };
    let up = deps(&["upgrade"], provider.domain);
    assert!(up.status.success(), "{}", said(&up));
    // Its database overwritten, then its process killed: every start from now on fails.
    let container = provider.container();
    ccci_testkit::docker(&[
        "exec",
        &container,
        "cp",
        "/etc/hostname",
        "/var/lib/glewlwyd/glewlwyd.db",
    ]);
    ccci_testkit::docker(&["kill", &container]);

    let scratch = scratch("down");
    let out = recipe_tests(&scratch, &[("CCCI_OIDC_DOMAIN", provider.domain)])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", said(&out));
    let runs = all_results(&scratch);
    assert_eq!(runs.len(), 1, "{}", said(&out));
    let res = &runs[0];
    assert!(
        res.deploys.is_empty(),
        "the app must not be deployed: {:#?}",
        res.deploys
    );
    let failure = common::install_failure(res);
    assert!(
        failure.contains("dependency `oidc`")
            && failure.contains("https://ccci-oidc-down.ccci.test")
            && failure.contains("is down"),
        "{failure}"
    );
    assert!(!oidc_record(res).provided, "{:#?}", res.dependencies);
    assert_eq!(res.verdict, Verdict::Red);
    // The provider ccci keeps was down: the host's fault, never the recipe's.
    assert!(
        res.cause.as_ref().is_some_and(|c| c.is_host()),
        "{:?}",
        res.cause
    );
    // What the maintainer reads, without what changes from run to run (how many times the
    // provider failed, and how).
    let (said_down, rest) = failure.split_once(" is down: ").unwrap();
    let how_to_look = rest.split_once("; ").map_or("", |(_, look)| look);
    insta::assert_snapshot!(
        "fault_provider_down_at_start",
        format!("`cargo test` fails before the app is deployed: {said_down} is down: its app failed N times since it was deployed, last: …; {how_to_look}")
    );
    assert!(
        common::objects_of(&res.stack).is_empty(),
        "nothing of the app may be on the Swarm"
    );
}

#[test]
fn a_realm_lost_mid_run_makes_it_red_and_the_next_run_is_green() {
    let provider = OwnProvider {
        domain: "ccci-oidc-lost.ccci.test",
    };
    let scratch = scratch("lost");
    let env = [("CCCI_OIDC_DOMAIN", provider.domain)];
    let mut child = recipe_tests(&scratch, &env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // Once the app is up on the realm the run was given, the realm's own glewlwyd stops.
    let mut seen = common::read_until(&mut lines, |l| {
        l.contains("install: ") && l.contains("healthy and ready")
    });
    assert!(
        seen.iter().any(|l| l.contains("healthy and ready")),
        "the run never became healthy:\n{}",
        seen.join("\n")
    );
    let realm_of = format!("label=ccci.realm-of={}", provider.domain);
    let services = ccci_testkit::docker(&[
        "service",
        "ls",
        "--filter",
        &realm_of,
        "--format",
        "{{.Name}}",
    ]);
    let realm_app = services
        .lines()
        .find(|s| s.ends_with("_app"))
        .unwrap_or_else(|| panic!("no realm of {} on the Swarm: {services}", provider.domain))
        .to_string();
    ccci_testkit::docker(&["service", "scale", "--detach", &format!("{realm_app}=0")]);
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    let said_first = seen.join("\n");
    assert!(!status.success(), "{said_first}");
    let first = all_results(&scratch)
        .pop()
        .expect("the first run's results");
    assert_eq!(first.verdict, Verdict::Red, "{said_first}");
    let problem = oidc_record(&first).problem.clone().unwrap_or_default();
    assert!(
        problem.contains("https://ccci-oidc-lost.ccci.test")
            && problem.contains("stopped answering"),
        "{problem}"
    );
    assert!(
        first
            .verdict_reasons
            .iter()
            .any(|r| r.contains("`oidc`") && r.contains("lost")),
        "{:?}",
        first.verdict_reasons
    );
    let realm = oidc_record(&first).values["realm"].clone();
    let lost = first
        .verdict_reasons
        .iter()
        .find(|r| r.contains("lost"))
        .unwrap()
        .replace(&realm, "<realm>");
    let lost = lost
        .split_once(" (at ")
        .map_or(lost.as_str(), |(said, _)| said);
    // Not the recipe's fault: a dependency ccci provides went away.
    assert!(
        first.cause.as_ref().is_some_and(|c| c.is_host()),
        "{:?}",
        first.cause
    );
    // A realm is a stack of its own: it is removed whole though its glewlwyd is down.
    assert!(first.teardown.clean, "{:?}", first.teardown);

    let second = recipe_tests(&scratch, &env).output().unwrap();
    assert!(second.status.success(), "{}", said(&second));
    insta::assert_snapshot!(
        "fault_realm_lost_mid_run",
        format!("`cargo test` fails, red: {lost} (at …): …, the host's fault; its realm removed at teardown all the same; the next `cargo test` passes, green, with a realm of its own")
    );
    let status = deps(&["status"], provider.domain);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{}", said(&status));
    assert!(
        !text.contains(&realm) && text.contains("realms:     0"),
        "no run's realm remains: {text}"
    );
}

#[test]
fn the_janitor_removes_the_realm_of_a_killed_run() {
    let scratch = scratch("killed");
    let registry = scratch.join("registry");
    let mut child = recipe_tests(&scratch, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let seen = common::read_until(&mut lines, |l| l.contains("dependency `oidc`: realm"));
    let runs = ccci::registry::Registry::at(&registry).unwrap().runs();
    assert_eq!(
        runs.len(),
        1,
        "the run registered itself:\n{}",
        seen.join("\n")
    );
    let run = runs[0].clone();
    let realm = run
        .realms
        .first()
        .expect("its realm is registered")
        .realm
        .clone();
    // SIGKILL to the test binary that runs the recipe (cargo is only its parent): it cannot
    // tear down.
    // SAFETY: kill(2) on the pid the run registered, which this test started.
    assert_eq!(unsafe { libc::kill(run.pid as i32, libc::SIGKILL) }, 0);
    let _ = child.kill();
    let _ = child.wait();
    let gone = std::time::Instant::now();
    while ccci::registry::alive(&run) {
        assert!(gone.elapsed().as_secs() < 30, "the killed run still lives");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let domain = "ccci-oidc.ccci.test";
    let before = deps(&["status"], domain);
    assert!(
        String::from_utf8_lossy(&before.stdout).contains(&realm),
        "the killed run left its realm (else this test proves nothing): {}",
        said(&before)
    );

    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "janitor"])
        .env("CCCI_REGISTRY_DIR", &registry)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let after = deps(&["status"], domain);
    assert!(
        !String::from_utf8_lossy(&after.stdout).contains(&realm),
        "the janitor removed the realm: {}",
        said(&after)
    );
    assert!(common::objects_of(&run.stack).is_empty());
    common::assert_forgotten(&registry);
}
