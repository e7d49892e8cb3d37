//! `cargo ccci canonical` and `cargo ccci sweep`: the warm fleet (docs/fleet.md). The
//! canonicals themselves are made, checked and returned by the harness (`ccci::fleet`), in the
//! recipe's test binary, which holds its seeding functions and checks; the run store answers
//! which version is known-good and keeps the canonicals and sweeps (`ccci-service`).

use crate::service;
use ccci::core::canonical::Canonical;
use ccci::core::wire::{KnownGood, SweepEntry, SweepRecord};
use ccci::core::{Results, Verdict};
use ccci::Deadline;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How long removing a canonical, or looking at one, may take.
const SHORT: Duration = Duration::from_secs(180);

/// What to do with the canonicals.
#[derive(clap::Subcommand)]
pub(crate) enum CanonicalCmd {
    /// Deploy RECIPE's canonical at its known-good version: its latest green cold run of a
    /// release in the run store, else its latest release once a cold run of it is green. A
    /// canonical at an older version is promoted. Seeds its data and takes its snapshot.
    Up {
        /// A recipe test crate of this workspace whose ccci.yml says `canonical: true`.
        recipe: String,
    },
    /// Every canonical this host keeps: its version, domain, age and data, as seen on the
    /// Swarm now. Exit 0 when every one runs its release with its markers.
    Status {
        /// As a JSON array of the records.
        #[arg(long)]
        json: bool,
    },
    /// Remove RECIPE's canonical from the Swarm with its data and snapshot.
    Down {
        /// The recipe.
        recipe: String,
    },
}

/// `cargo ccci sweep`'s arguments.
#[derive(clap::Args)]
pub(crate) struct SweepArgs {
    /// The recipes (test crates) to sweep; default every one whose ccci.yml says
    /// `canonical: true`.
    recipes: Vec<String>,
    /// Leave the shared dependencies as they are.
    #[arg(long)]
    skip_deps: bool,
    /// How long to wait for a live run of a recipe (a pull request's) to end before its
    /// sweep run starts.
    #[arg(long, value_parser = crate::parse_timeout, default_value = "2h", value_name = "DURATION")]
    wait: Duration,
}

/// The settings a command of the fleet reads: ccci's variables.
fn settings() -> Result<ccci::Settings, String> {
    let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    ccci::Settings::from_env(&here, ccci::default_runs_dir(&here)).map_err(|e| e.to_string())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Runs `cmd`.
pub(crate) fn canonical(cmd: CanonicalCmd) -> Result<ExitCode, String> {
    match cmd {
        CanonicalCmd::Up { recipe } => up(&recipe),
        CanonicalCmd::Status { json } => status(json),
        CanonicalCmd::Down { recipe } => down(&recipe),
    }
}

/// `canonical up RECIPE`.
fn up(recipe: &str) -> Result<ExitCode, String> {
    let names = crate::recipe_names();
    let recipe = crate::test_crate(Some(recipe.to_string()), &names, "canonical up")?;
    let known = service::ask(&["known-good", &recipe])?;
    let known: Option<KnownGood> = serde_json::from_str(known.trim())
        .map_err(|e| format!("ccci-service known-good answered what is not JSON ({e}): {known}"))?;
    let code = match known {
        Some(k) => {
            say!(
                "cargo ccci: {recipe} {} is known-good (green cold run {}): making its canonical at it",
                k.version,
                k.run_id
            );
            let code = establish(&recipe, &k.commit)?;
            service::record_canonicals();
            code
        }
        None => {
            say!("cargo ccci: the run store has no green cold run of a release of {recipe}: a cold run of its latest release first, and its canonical if it is green");
            let (code, results) = crate::run::run_asking(
                crate::run::RunArgs::of_recipe(&recipe),
                Some(ccci::CanonicalAsk::Up),
            )?;
            match results.as_ref().and_then(|r| r.canonical.as_ref()) {
                Some(c) if c.known_good => code,
                _ if results
                    .as_ref()
                    .is_some_and(|r| r.verdict == Verdict::Green) =>
                {
                    eprintln!("cargo ccci: the cold run is green, and its canonical was not made (its warnings say why)");
                    ExitCode::FAILURE
                }
                _ => {
                    eprintln!("cargo ccci: no canonical: the cold run of {recipe}'s latest release is not green");
                    ExitCode::FAILURE
                }
            }
        }
    };
    Ok(code)
}

/// The recipe's test binary asked to make (or promote) its canonical at `commit`, with no
/// ladder.
fn establish(recipe: &str, commit: &str) -> Result<ExitCode, String> {
    let binary = crate::binaries::build_test_binary(recipe)?;
    let overrides = ccci::Overrides {
        reference: Some(commit.into()),
        canonical: Some(ccci::CanonicalAsk::Establish),
        ..Default::default()
    };
    let mut cmd = ccci_process::command(&binary);
    cmd.current_dir(Path::new("recipes").join(recipe))
        .envs(overrides.env());
    let shown = format!("{} (the recipe-{recipe} tests)", binary.display());
    let status = ccci_process::supervise(
        cmd,
        shown,
        Deadline::after(crate::STOP_GRACE * 3),
        crate::STOP_GRACE,
    )
    .map_err(|e| e.to_string())?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(2) => ExitCode::from(2),
        _ => ExitCode::FAILURE,
    })
}

/// Unix seconds now.
fn now() -> u64 {
    ccci::core::time::unix_secs(std::time::SystemTime::now())
}

/// How long ago `since` (Unix seconds) was, in words.
fn age(since: u64) -> String {
    let secs = now().saturating_sub(since);
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

/// `canonical status`.
fn status(json: bool) -> Result<ExitCode, String> {
    let settings = settings()?;
    let records = ccci::fleet::Records::at(&settings.canonical_dir).all();
    if json {
        let ok: Vec<&Canonical> = records.iter().filter_map(|r| r.as_ref().ok()).collect();
        say!(
            "{}",
            serde_json::to_string_pretty(&ok).map_err(|e| e.to_string())?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if records.is_empty() {
        say!(
            "no canonical deployments on this host ({}): `cargo ccci canonical up RECIPE` makes one",
            settings.canonical_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rt = runtime()?;
    let mut all_good = true;
    for r in records {
        let c = match r {
            Ok(c) => c,
            Err(e) => {
                all_good = false;
                say!("{e}");
                continue;
            }
        };
        let seen = rt.block_on(ccci::fleet::look(&c, Deadline::after(SHORT)));
        all_good &= seen.release.is_ok() && seen.markers.is_ok();
        let said = |r: &Result<(), String>, good: &str| match r {
            Ok(()) => good.to_string(),
            Err(e) => format!("NOT {good}: {e}"),
        };
        say!("{} {} (stack {})", c.recipe, c.version, c.stack);
        say!("  domain:     https://{}", c.domain);
        say!(
            "  known-good: for {}{}",
            age(c.since),
            c.proven_by
                .as_deref()
                .map(|r| format!(", proven by cold run {r}"))
                .unwrap_or_default()
        );
        say!(
            "  running:    {}",
            said(&seen.release, "its known-good release")
        );
        say!("  data:       {}", c.proof());
        say!("  markers:    {}", said(&seen.markers, "all there"));
        say!(
            "  snapshot:   {}",
            c.snapshot
                .as_deref()
                .unwrap_or("none (nothing of it is backed up)")
        );
    }
    Ok(if all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `canonical down RECIPE`.
fn down(recipe: &str) -> Result<ExitCode, String> {
    let settings = settings()?;
    let records = ccci::fleet::Records::at(&settings.canonical_dir);
    let rt = runtime()?;
    let code = match rt
        .block_on(ccci::fleet::down(&records, recipe, Deadline::after(SHORT)))
        .map_err(|e| e.to_string())?
    {
        None => {
            say!("cargo ccci: this host keeps no canonical of {recipe}");
            ExitCode::SUCCESS
        }
        Some((c, left)) if left.is_empty() => {
            say!(
                "cargo ccci: removed the canonical {} ({} {}) with its data and snapshot",
                c.stack,
                c.recipe,
                c.version
            );
            ExitCode::SUCCESS
        }
        Some((c, left)) => {
            say!(
                "cargo ccci: the canonical {} is not wholly removed: {} remain; its record is kept, run `cargo ccci canonical down {recipe}` again",
                c.stack,
                left.join(", ")
            );
            ExitCode::FAILURE
        }
    };
    service::record_canonicals();
    Ok(code)
}

/// Whether a live run on this host (a pull request's, a maintainer's) holds `recipe`.
fn held(recipe: &str) -> Option<String> {
    let settings = settings().ok()?;
    let registry = ccci::registry::Registry::open(settings.registry_dir.as_deref()).ok()?;
    registry
        .runs()
        .into_iter()
        .find(|r| r.recipe == recipe && ccci::registry::alive(r))
        .map(|r| r.run_id)
}

/// `recipe`'s cold run of its latest release in a sweep, once no live run holds it (at most
/// `wait`), promoting its canonical when it is green; and whether it was green (the store
/// reads that from the run itself).
fn sweep_one(recipe: &str, wait: Duration) -> (SweepEntry, bool) {
    let entry = |run_id: Option<String>, note: Option<String>, green: bool| {
        let e = SweepEntry {
            recipe: recipe.to_string(),
            run_id,
            note,
        };
        (e, green)
    };
    let waited = Instant::now();
    while let Some(run) = held(recipe) {
        if waited.elapsed() > wait {
            let note = format!(
                "not run: live run {run} still held it after {} s",
                wait.as_secs()
            );
            return entry(None, Some(note), false);
        }
        say!("cargo ccci sweep: {recipe} is held by live run {run}; waiting");
        std::thread::sleep(Duration::from_secs(5));
    }
    say!("cargo ccci sweep: {recipe}: a cold run of its latest release");
    // Promotes the recipe's canonical when it has one and the run is green; making one is
    // `canonical up`'s.
    // Each release the sweep proves is also proven safe to roll back to the one before.
    let ran = crate::run::run_asking(
        crate::run::RunArgs::of_recipe(recipe).rolling_back(),
        Some(ccci::CanonicalAsk::Promote),
    );
    match ran {
        Ok((_, Some(r))) => entry(
            Some(r.run_id.clone()),
            canonical_note(&r),
            r.verdict == Verdict::Green,
        ),
        Ok((_, None)) => entry(None, Some("the run wrote no results".into()), false),
        Err(e) => entry(None, Some(e), false),
    }
}

/// `sweep`: the shared dependencies rolled first, so that every recipe runs against what the
/// next day's runs will meet; then each enrolled recipe cold, one at a time, never beside a
/// live run of it; then the drift report [R28].
pub(crate) fn sweep(a: SweepArgs) -> Result<ExitCode, String> {
    let started = now();
    let enrolled = enrolled()?;
    let recipes = match a.recipes.is_empty() {
        false => a.recipes.clone(),
        true => enrolled.clone(),
    };
    if let Some(r) = recipes.iter().find(|r| !enrolled.contains(r)) {
        return Err(format!(
            "{r} is not enrolled in the warm fleet (or is no test crate of this workspace: {}): add `canonical: true` to recipes/{r}/ccci.yml",
            crate::recipe_names().join(", ")
        ));
    }
    if recipes.is_empty() {
        return Err("no recipe is enrolled in the warm fleet: add `canonical: true` to a test crate's ccci.yml, or name the recipes".into());
    }
    let deps = match a.skip_deps {
        true => None,
        false => {
            let note = crate::deps::roll();
            say!("cargo ccci sweep: shared dependencies: {note}");
            Some(note)
        }
    };
    let (entries, green): (Vec<SweepEntry>, Vec<bool>) =
        recipes.iter().map(|r| sweep_one(r, a.wait)).unzip();
    let all_green = green.iter().all(|g| *g);
    let sweep = SweepRecord {
        sweep_id: format!("sweep-{}", ccci::unique("s").trim_start_matches("s-")),
        host: ccci::core::host::host_name().unwrap_or_else(|| "localhost".into()),
        started_at: started,
        finished_at: now(),
        deps,
        entries,
    };
    if let Some(dir) = service::handoff_dir() {
        service::handoff(&dir, ccci::core::wire::Handoff::Sweep, &sweep)?;
        say!("\ncargo ccci sweep: handed to the service that started it, which records it and says its drift report");
    } else {
        let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let json = serde_json::to_string(&sweep).map_err(|e| e.to_string())?;
        std::fs::write(file.path(), json).map_err(|e| e.to_string())?;
        let report = service::ask(&["record-sweep", &file.path().display().to_string()])?;
        say!("\n{report}");
    }
    Ok(if all_green {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What a sweep run did with its canonical, in a few words.
fn canonical_note(r: &Results) -> Option<String> {
    use ccci::core::canonical::CanonicalAction;
    let c = r.canonical.as_ref()?;
    let what = match &c.action {
        CanonicalAction::Made => format!("canonical made at {}", c.version),
        CanonicalAction::Promoted { from } => format!("canonical promoted {from} -> {}", c.version),
        CanonicalAction::Quick => return None,
    };
    Some(match &c.problem {
        None => what,
        Some(p) => format!("{what} FAILED: {p}"),
    })
}

/// The test crates whose settings enrol them in the fleet (their ccci.yml, or `--set`s
/// through the variable): one whose settings do not read is not enrolled, and its own runs
/// say why.
fn enrolled() -> Result<Vec<String>, String> {
    Ok(crate::recipe_names()
        .into_iter()
        .filter(|name| ccci::load_meta(&Path::new("recipes").join(name)).is_ok_and(|m| m.canonical))
        .collect())
}
