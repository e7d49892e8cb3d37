//! The warm fleet through `cargo ccci`, on the real local Swarm, with the fixture recipes as
//! maintainers and CI run them: a canonical made (`canonical up`), a quick run that passes and
//! one whose head is broken (rolled back, the known-good snapshot restored, the canonical as it
//! was), a canonical whose data went behind ccci's back rebuilt rather than trusted, a
//! promotion by a green cold run of the latest release (and none by a red one), and a sweep
//! of three recipes whose drift report names the one that regressed.
//!
//! Every test keeps its canonicals, runs, run store and registry in a place of its own, and
//! takes its canonicals down at its end, however it ends. They run one at a time: each
//! canonical answers on its recipe's one stable domain.

mod common;

use ccci::core::canonical::{Canonical, CanonicalAction};
use ccci::core::results::Lane;
use ccci::core::{Results, Verdict};
use common::said;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A test's own canonicals, runs, run store and registry.
struct Fleet {
    dir: PathBuf,
    /// Settings every run of the test gets (`CCCI_SET`).
    sets: Vec<String>,
}

impl Fleet {
    fn new(name: &str) -> Fleet {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fleet-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Fleet {
            dir,
            sets: Vec::new(),
        }
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("CCCI_CANONICAL_DIR", self.dir.join("canonical"))
            .env("CCCI_DATABASE", self.dir.join("runs.db"))
            .env("CCCI_JOURNAL_DIR", self.dir.join("journal"))
            .env("CCCI_RUNS_DIR", self.dir.join("runs"))
            .env("CCCI_REGISTRY_DIR", self.dir.join("registry"))
            .env("NO_COLOR", "1")
            .env_remove("CCCI_ROUTING")
            .env_remove("CCCI_LANE")
            .env_remove("CCCI_CANONICAL")
            .env_remove("CCCI_REF")
            .env_remove("NEXTEST_RUN_ID")
            .current_dir(workspace())
            .stdin(Stdio::null());
        match self.sets.is_empty() {
            true => cmd.env_remove("CCCI_SET"),
            false => cmd.env("CCCI_SET", self.sets.join("\n")),
        };
    }

    /// `cargo ccci <args>`.
    fn ccci(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"));
        cmd.arg("ccci").args(args);
        self.env(&mut cmd);
        cmd.output().unwrap()
    }

    /// `cargo ccci <args>`, which must exit `code`.
    fn ccci_exits(&self, code: i32, args: &[&str]) -> Output {
        let out = self.ccci(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "cargo ccci {args:?}: {}",
            said(&out)
        );
        out
    }

    /// The recipe's test binary making its canonical at `reference` with no ladder, as
    /// `cargo ccci canonical up` has it do when the store knows a green run of it.
    fn establish(&self, recipe: &str, reference: &str) {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["test", "--locked", "-p", &format!("recipe-{recipe}")]);
        self.env(&mut cmd);
        cmd.env("CCCI_CANONICAL", "establish")
            .env("CCCI_REF", reference);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "establishing {recipe} at {reference}: {}",
            said(&out)
        );
    }

    /// The record this host keeps of `recipe`'s canonical.
    fn record(&self, recipe: &str) -> Option<Canonical> {
        ccci::fleet::Records::at(&self.dir.join("canonical"))
            .load(recipe)
            .unwrap()
    }

    /// The results of the newest run of `recipe`.
    fn latest(&self, recipe: &str) -> Results {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.dir.join("runs"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("results.json").is_file())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{recipe}-")))
            })
            .collect();
        dirs.sort();
        let last = dirs.last().expect("a run of the recipe");
        serde_json::from_str(&std::fs::read_to_string(last.join("results.json")).unwrap()).unwrap()
    }
}

impl Drop for Fleet {
    /// Takes every canonical of the test down, and finds nothing of them left on the Swarm.
    fn drop(&mut self) {
        let records = ccci::fleet::Records::at(&self.dir.join("canonical")).all();
        let mut left = Vec::new();
        for c in records.into_iter().flatten() {
            let out = self.ccci(&["canonical", "down", &c.recipe]);
            if !out.status.success() {
                left.push(format!("{}: {}", c.recipe, said(&out)));
            }
            left.extend(common::objects_of(&c.stack));
        }
        if !left.is_empty() && !std::thread::panicking() {
            panic!("canonicals left behind: {left:?}");
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A repository of `recipe`'s fixture releases with a pull request on top whose compose file
/// `break_it` rewrote: a broken head.
fn broken_head(fleet: &Fleet, recipe: &str, break_it: impl Fn(&str) -> String) -> PathBuf {
    let work = fleet.dir.join(format!("{recipe}-broken"));
    ccci_testkit::release_repository(recipe, &work);
    let compose = work.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    let broken = break_it(&text);
    assert_ne!(broken, text, "the head is broken");
    std::fs::write(&compose, broken).unwrap();
    ccci_testkit::git(&work, &["commit", "--quiet", "-am", "a broken head"]);
    work
}

/// The running container of `service` of `stack`.
fn container(stack: &str, service: &str) -> String {
    let filter = format!("label=com.docker.swarm.service.name={stack}_{service}");
    let ids = ccci_testkit::docker(&["ps", "-q", "--filter", &filter]);
    ids.lines()
        .next()
        .unwrap_or_else(|| panic!("{stack}_{service}: no running container"))
        .to_string()
}

/// A quick run that went as it should: green, in the quick lane, the canonical back at
/// known-good with nothing restored.
fn assert_quick_green(fleet: &Fleet, out: &Output, recipe: &str, version: &str) -> Results {
    let r = fleet.latest(recipe);
    assert_eq!(r.lane, Lane::Quick, "{}", said(out));
    assert_eq!(
        r.verdict,
        Verdict::Green,
        "{:#?}\n{}",
        r.verdict_reasons,
        said(out)
    );
    let c = r.canonical.clone().expect("the quick run's canonical");
    assert_eq!(c.action, CanonicalAction::Quick);
    assert!(c.known_good && !c.restored, "{c:#?}");
    assert_eq!(c.version, version);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("QUICK") && stdout.contains("not a cold run's"),
        "the summary says it is not a cold level: {stdout}"
    );
    let comment = std::fs::read_to_string(Path::new(&r.run_dir).join("comment.md")).unwrap();
    assert!(
        comment.contains("quick lane") && comment.contains("not a cold run's level"),
        "{comment}"
    );
    r
}

/// A quick run of a broken head: red on its upgrade, the canonical rolled back with its
/// known-good snapshot restored and its data proven, its record as it was.
fn assert_quick_rolled_back(fleet: &Fleet, out: &Output, recipe: &str, before: &Canonical) {
    let r = fleet.latest(recipe);
    assert_eq!(r.lane, Lane::Quick);
    assert_eq!(r.verdict, Verdict::Red, "{}", said(out));
    assert!(
        r.verdict_reasons
            .iter()
            .any(|v| v.starts_with("upgrade failed")),
        "{:#?}",
        r.verdict_reasons
    );
    let c = r.canonical.clone().expect("the quick run's canonical");
    assert!(c.restored && c.known_good, "{c:#?}\n{}", said(out));
    assert_eq!(c.version, before.version);
    assert_eq!(
        fleet.record(recipe).as_ref(),
        Some(before),
        "the canonical's record is unchanged"
    );
    fleet.ccci_exits(0, &["canonical", "status"]);
}

#[test]
fn custom_html_quick_lane_passes_rolls_back_a_broken_head_and_rebuilds_a_canonical_whose_data_was_lost(
) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fleet = Fleet::new("custom-html");
    // No green run in the store yet: a cold run of the latest release first.
    let up = fleet.ccci_exits(0, &["canonical", "up", "custom-html"]);
    let made = fleet.record("custom-html").expect("a canonical");
    assert_eq!(made.version, "1.1.0+1.22.1");
    let cold = fleet.latest("custom-html");
    assert_eq!(cold.lane, Lane::Cold);
    assert_eq!(
        made.proven_by.as_deref(),
        Some(cold.run_id.as_str()),
        "{}",
        said(&up)
    );
    assert!(
        !made.markers.is_empty() && made.snapshot.is_some(),
        "{made:#?}"
    );
    let labels = ccci_testkit::docker(&[
        "service",
        "inspect",
        &format!("{}_app", made.stack),
        "--format",
        "{{index .Spec.Labels \"ccci.canonical\"}}",
    ]);
    assert_eq!(
        labels.trim(),
        "custom-html",
        "the canonical is labelled as such"
    );
    let status = fleet.ccci_exits(0, &["canonical", "status"]);
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        status.contains("1.1.0+1.22.1")
            && status.contains("its known-good release")
            && status.contains("all there"),
        "{status}"
    );

    let pass = fleet.ccci_exits(0, &["run", "custom-html", "--quick"]);
    assert_quick_green(&fleet, &pass, "custom-html", "1.1.0+1.22.1");
    assert_eq!(fleet.record("custom-html").as_ref(), Some(&made));

    // A head that empties the content volume as it starts (its healthcheck off, so that it
    // keeps answering 403 for the front page).
    let repo = broken_head(&fleet, "custom-html", |c| {
        c.replacen(
            "    image: local/nginx:1.22\n",
            "    image: local/nginx:1.22\n    command: [\"sh\", \"-c\", \"rm -rf /usr/share/nginx/html/* /usr/share/nginx/html/.[!.]*; exec nginx -g 'daemon off;'\"]\n",
            1,
        )
        .replacen(
            r#"test: ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://localhost/"]"#,
            r#"test: ["NONE"]"#,
            1,
        )
    });
    let repo = repo.display().to_string();
    let fail = fleet.ccci_exits(1, &["run", "custom-html", "--recipe-git", &repo, "--quick"]);
    assert_quick_rolled_back(&fleet, &fail, "custom-html", &made);

    // Its data lost behind ccci's back: not trusted, rebuilt cold before the head goes on it.
    let marker = &made.markers[0];
    ccci_testkit::docker(&["exec", &container(&made.stack, "app"), "rm", &marker.path]);
    let status = fleet.ccci(&["canonical", "status"]);
    assert_eq!(status.status.code(), Some(1), "{}", said(&status));
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("NOT all there"),
        "{}",
        said(&status)
    );
    let rebuilt = fleet.ccci_exits(0, &["run", "custom-html", "--quick"]);
    let r = assert_quick_green(&fleet, &rebuilt, "custom-html", "1.1.0+1.22.1");
    let why = r
        .canonical
        .clone()
        .and_then(|c| c.untrusted)
        .expect("not trusted");
    assert!(
        why.contains("marker") && why.contains(&marker.path),
        "{why}"
    );
    let fresh = fleet.record("custom-html").unwrap();
    assert_ne!(
        fresh.markers, made.markers,
        "a new marker in the rebuilt canonical"
    );
    assert_ne!(fresh.snapshot, made.snapshot);
    assert!(
        !Path::new(made.snapshot.as_deref().unwrap()).exists(),
        "the old snapshot went once the new record was saved"
    );

    fleet.ccci_exits(0, &["canonical", "down", "custom-html"]);
    assert_eq!(fleet.record("custom-html"), None);
    assert!(common::objects_of(&made.stack).is_empty());
    let none = fleet.ccci_exits(2, &["run", "custom-html", "--quick"]);
    assert!(
        said(&none).contains("keeps no canonical deployment of custom-html"),
        "{}",
        said(&none)
    );
}

#[test]
fn notebook_quick_lane_passes_and_a_broken_head_that_wiped_the_database_is_rolled_back_with_its_data(
) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fleet = Fleet::new("notebook");
    fleet.ccci_exits(0, &["canonical", "up", "notebook"]);
    let made = fleet.record("notebook").expect("a canonical");
    assert_eq!(made.version, "1.1.0+2.0");
    // Its data is proven by the recipe's own check (the dump is a file, no marker fits).
    assert_eq!(made.checks, ["marker_is_back_byte_for_byte"], "{made:#?}");
    assert!(made.seeded.contains_key("marker"), "{made:#?}");

    let pass = fleet.ccci_exits(0, &["run", "notebook", "--quick"]);
    assert_quick_green(&fleet, &pass, "notebook", "1.1.0+2.0");

    // A head whose database starts from nothing, and whose router moved the app under /v2
    // (so its health path answers 404 from Traefik).
    let repo = broken_head(&fleet, "notebook", |c| {
        c.replacen(
            "    image: local/postgres:15\n",
            "    image: local/postgres:15\n    entrypoint: [\"sh\", \"-c\", \"rm -rf /var/lib/postgresql/data/* && exec docker-entrypoint.sh postgres\"]\n",
            1,
        )
        .replacen(
            "rule=Host(`${DOMAIN}`)\"",
            "rule=Host(`${DOMAIN}`) && PathPrefix(`/v2`)\"",
            1,
        )
    });
    let repo = repo.display().to_string();
    let fail = fleet.ccci_exits(1, &["run", "notebook", "--recipe-git", &repo, "--quick"]);
    assert_quick_rolled_back(&fleet, &fail, "notebook", &made);
}

#[test]
fn a_green_cold_run_of_the_latest_release_promotes_the_canonical_and_a_red_one_never_does() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fleet = Fleet::new("promotion");
    fleet.establish("custom-html", "1.0.0+1.22.1");
    let old = fleet.record("custom-html").expect("a canonical at 1.0.0");
    assert_eq!(old.version, "1.0.0+1.22.1");

    // Red: its health path is a page the app does not have. The canonical stays as it was.
    let red = fleet.ccci(&["run", "custom-html", "--set", "health_path=/no-such-page"]);
    assert_eq!(red.status.code(), Some(1), "{}", said(&red));
    assert_eq!(fleet.latest("custom-html").canonical, None);
    assert_eq!(fleet.record("custom-html").as_ref(), Some(&old));

    let green = fleet.ccci_exits(0, &["run", "custom-html"]);
    let r = fleet.latest("custom-html");
    let c = r.canonical.clone().expect("promoted");
    assert_eq!(
        c.action,
        CanonicalAction::Promoted {
            from: "1.0.0+1.22.1".into()
        },
        "{}",
        said(&green)
    );
    assert!(c.known_good && c.problem.is_none(), "{c:#?}");
    let new = fleet.record("custom-html").unwrap();
    assert_eq!(new.version, "1.1.0+1.22.1");
    assert_eq!(new.proven_by.as_deref(), Some(r.run_id.as_str()));
    assert_eq!(
        new.stack, old.stack,
        "promoted in place, on its stable domain"
    );
    assert!(new.snapshot.is_some(), "1.1.0 backs up its content");
    assert!(String::from_utf8_lossy(&green.stdout).contains("promoted from 1.0.0+1.22.1"));
    fleet.ccci_exits(0, &["canonical", "status"]);
}

#[test]
fn a_sweep_of_three_recipes_promotes_the_greens_and_reports_the_one_that_regressed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut fleet = Fleet::new("sweep");
    // Enrolled for this test: mumble's canonical would hold its voice port, so its own
    // ccci.yml does not enrol it; the sweep promotes canonicals, and makes none. A short
    // deploy budget: the regression below is a deploy that never converges.
    fleet.sets = vec!["canonical=true".into(), "deploy_timeout=50s".into()];
    fleet.establish("custom-html", "1.0.0+1.22.1");
    let recipes = ["sweep", "custom-html", "notebook", "mumble"];

    let first = fleet.ccci_exits(0, &recipes);
    let first = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.contains("3 enrolled recipe(s)") && first.contains("first sweep"),
        "{first}"
    );
    assert!(
        first.contains("canonical promoted 1.0.0+1.22.1 -> 1.1.0+1.22.1"),
        "{first}"
    );
    assert_eq!(fleet.record("custom-html").unwrap().version, "1.1.0+1.22.1");
    assert_eq!(fleet.record("notebook"), None, "a sweep makes no canonical");

    // Something else on the host took mumble's voice port: its server can no longer start.
    let second = {
        let _taken = std::net::TcpListener::bind("0.0.0.0:64738").expect("the voice port is free");
        fleet.ccci_exits(1, &recipes)
    };
    let report = String::from_utf8_lossy(&second.stdout).into_owned();
    let line = |recipe: &str| {
        report
            .lines()
            .find(|l| l.trim_start().starts_with(recipe))
            .unwrap_or_else(|| panic!("no line of {recipe}: {report}"))
            .to_string()
    };
    let mumble = line("mumble");
    assert!(
        mumble.contains("L0 red")
            && mumble.contains("(was L")
            && mumble.contains("REGRESSION")
            && mumble.contains("cargo ccci compare"),
        "{report}"
    );
    for steady in ["custom-html", "notebook"] {
        let l = line(steady);
        assert!(l.contains("green") && !l.contains("REGRESSION"), "{report}");
    }
    assert!(
        report.contains("1 regression(s), 0 improvement(s)"),
        "{report}"
    );

    // The comparison the report names sets the two runs of mumble side by side.
    let ids: Vec<&str> = mumble
        .split("cargo ccci compare ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .take(2)
        .collect();
    let compare = fleet.ccci_exits(0, &["compare", ids[0], ids[1]]);
    assert!(String::from_utf8_lossy(&compare.stdout).contains("install"));

    // The drift report and the canonical on the dashboard.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"));
    fleet.env(&mut cmd);
    let (mut dashboard, url) = common::dashboard(cmd);
    let (status, page) = common::get(&format!("{url}/fleet"));
    let _ = dashboard.kill();
    let _ = dashboard.wait();
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("REGRESSION") && page.contains("canonical-custom-html.ccci.test"),
        "{page}"
    );
    assert!(
        page.contains(&format!("/compare?a={}&amp;b={}", ids[0], ids[1])),
        "the regression links the comparison of its two runs: {page}"
    );
}

/// Started by a caller that keeps the store (`cargo ccci serve` sets `CCCI_HANDOFF_DIR`), a
/// sweep starts no `ccci-service`: it leaves its record in the hand-off directory, typed as
/// the service reads it, and the store is never opened by it.
#[test]
fn a_sweep_started_by_the_service_hands_its_record_over_and_starts_no_store() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fleet = Fleet::new("handoff");
    let handed = fleet.dir.join("handed");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"));
    cmd.args(["ccci", "sweep", "--skip-deps", "custom-html"]);
    fleet.env(&mut cmd);
    cmd.env("CCCI_HANDOFF_DIR", &handed);
    let out = cmd.output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{said}");
    let text = std::fs::read_to_string(handed.join("sweep.json")).expect("the sweep handed over");
    let sweep: ccci::core::wire::SweepRecord = serde_json::from_str(&text).unwrap();
    assert_eq!(sweep.entries.len(), 1, "{sweep:?}");
    assert_eq!(sweep.entries[0].recipe, "custom-html");
    let run = sweep.entries[0].run_id.clone().expect("custom-html ran");
    assert!(
        fleet.dir.join("journal").read_dir().unwrap().count() > 0,
        "the run is in the journal, for the service to take in"
    );
    assert!(
        !fleet.dir.join("runs.db").exists(),
        "no ccci-service opened the store: {said}"
    );
    assert!(
        said.contains("handed to the service that started it"),
        "{said}"
    );
    assert!(!said.contains(&format!("recorded:       {run}")), "{said}");
}
