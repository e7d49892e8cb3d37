//! `cargo ccci`: the command line for CI and maintainers.
//!
//! ```text
//! cargo ccci run <recipe> [--ref REF] [--recipe-git URL] [--domain DOMAIN] [--set KEY=VALUE]…
//!                [--routing traefik|host-port] [--pull missing|always|never] [--timeout 2h]
//! cargo ccci run --recipe-git URL [--ref REF] [--domain DOMAIN] [--set KEY=VALUE]…
//!                [--routing traefik|host-port] [--pull missing|always|never]
//! cargo ccci list
//! cargo ccci results <results.json>
//! cargo ccci janitor [--dry-run]
//! ```
//!
//! `janitor` removes what runs killed before their teardown (SIGKILL, a lost runner) left on
//! the Swarm `DOCKER_HOST` names: the stacks of runs in the run registry whose process is gone,
//! with their volumes, secrets and configs. It never touches a live run's. `--dry-run` lists
//! what it would remove.
//!
//! `run <recipe>` builds `recipe-<recipe>`'s test binary (`cargo test --no-run`, at most 30
//! min) and runs it (the recipe's ccci tests, a full lifecycle on the Swarm) under
//! `--timeout` (default 2 h): at that deadline the run is asked to stop (SIGTERM), so it ends
//! its step, tears down and writes its results, and is killed 10 min later if it has not. `run --recipe-git URL` with no test crate runs the generic
//! tiers on any recipe repository, with settings from its own `ccci.yml` and `--set`. Both
//! end with the level and verdict from results.json. Exit status: 0 green, 1 red, 2 when the
//! run could not produce results (bad settings, an unknown ref, no Swarm). Installed
//! (`cargo install --path crates/cargo-ccci`) it is `cargo ccci …`; from a checkout,
//! `cargo run -p cargo-ccci -- ccci …`.

use ccci::core::{Results, Verdict};
use ccci::Deadline;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// Building a recipe's test binary: a cold build takes about two minutes on two cores.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// A whole run of a test crate, unless `--timeout` says otherwise.
const RUN_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);
/// How long a run asked to stop at its deadline has to tear down before it is killed:
/// teardown's own budget is 2 min plus the stack's stop grace period.
const STOP_GRACE: Duration = Duration::from_secs(10 * 60);

const USAGE: &str = "usage: cargo ccci run <recipe> [--ref REF] [--recipe-git URL] [--domain DOMAIN] [--set KEY=VALUE]... [--routing traefik|host-port] [--pull missing|always|never] [--timeout 2h]
       cargo ccci run --recipe-git URL [--ref REF] [--domain DOMAIN] [--set KEY=VALUE]... [--routing traefik|host-port] [--pull missing|always|never]
       cargo ccci list
       cargo ccci results <results.json>
       cargo ccci janitor [--dry-run]";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // cargo runs `cargo-ccci ccci <args>`; run directly, there is no `ccci`.
    if args.first().map(String::as_str) == Some("ccci") {
        args.remove(0);
    }
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("list") => list(),
        Some("janitor") => janitor(&args[1..]),
        Some("results") => match args.get(1) {
            Some(p) => show(Path::new(p)),
            None => Err(USAGE.into()),
        },
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(USAGE.into()),
    };
    result.unwrap_or_else(|e| {
        eprintln!("cargo ccci: {e}");
        ExitCode::from(2)
    })
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut recipe = None;
    let mut env = Vec::new();
    let (mut git, mut reference, mut domain, mut routing, mut pull) =
        (None, None, None, None, None);
    let mut timeout = RUN_TIMEOUT;
    let mut sets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--ref" => reference = Some(value("--ref")?),
            "--recipe-git" => git = Some(absolute_if_path(value("--recipe-git")?)),
            "--domain" => domain = Some(value("--domain")?),
            "--set" => sets.push(value("--set")?),
            "--pull" => {
                let v = value("--pull")?;
                v.parse::<ccci_abra::Pull>()?;
                pull = Some(v);
            }
            "--routing" => {
                let v = value("--routing")?;
                v.parse::<ccci::core::results::Routing>()?;
                routing = Some(v);
            }
            "--timeout" => {
                let v = value("--timeout")?;
                timeout = ccci::core::meta::duration(&v).ok_or_else(|| {
                    format!("--timeout {v}: not a duration; write it like `90m`, `2h` or `5400` (seconds)")
                })?;
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            name if recipe.is_none() => recipe = Some(name.to_string()),
            extra => return Err(format!("unexpected argument {extra}\n{USAGE}")),
        }
    }
    let names = recipe_names();
    if recipe.is_none() {
        if let Some(url) = git {
            return run_repository(url, reference, domain, routing, pull, sets);
        }
    }
    for (k, v) in [
        ("CCCI_REF", &reference),
        ("CCCI_RECIPE_GIT", &git),
        ("CCCI_DOMAIN", &domain),
        ("CCCI_ROUTING", &routing),
        ("CCCI_PULL", &pull),
    ] {
        if let Some(v) = v {
            env.push((k, v.clone()));
        }
    }
    if !sets.is_empty() {
        env.push(("CCCI_SET", sets.join("\n")));
    }
    let recipe = recipe.ok_or_else(|| {
        format!(
            "which recipe? a test crate ({}), or any recipe repository with --recipe-git URL\n{USAGE}",
            names.join(", ")
        )
    })?;
    if !names.contains(&recipe) {
        return Err(format!(
            "no recipe test crate recipes/{recipe}/ in this workspace (have: {}); to test a recipe repository without one, use `cargo ccci run --recipe-git <url or path>`",
            names.join(", ")
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let results_file = dir.path().join("results.json");
    let binary = build_test_binary(&recipe)?;
    let mut cmd = Command::new(&binary);
    // As `cargo test` runs it: in its crate's directory.
    cmd.current_dir(Path::new("recipes").join(&recipe))
        .envs(env)
        .env("CCCI_RESULTS_FILE", &results_file);
    let shown = format!("{} (the recipe-{recipe} tests)", binary.display());
    // Ctrl-C at a terminal reaches the run as well: it ends its step and tears down, and this
    // process waits for that to print the verdict instead of dying first.
    ignore_interrupts();
    let status = ccci_abra::process::supervise(cmd, shown, Deadline::after(timeout), STOP_GRACE);
    if let Err(e) = &status {
        eprintln!("cargo ccci: {e}");
    }
    let interrupted = matches!(&status, Ok(s) if s.code() == Some(130));
    if !results_file.exists() {
        return Err(match status {
            Ok(s) => format!("the run wrote no results (it exited {s}); its output above says why"),
            Err(e) => format!("the run wrote no results: {e}"),
        });
    }
    // The run printed its summary; end with the verdict that sets the exit status.
    let results = read(&results_file)?;
    let code = verdict_line(
        &results,
        &PathBuf::from(&results.run_dir).join("results.json"),
    );
    // An interrupted run says so in its exit status, as a shell expects (128 + SIGINT).
    Ok(if interrupted {
        ExitCode::from(130)
    } else {
        code
    })
}

/// Builds `recipe-<recipe>`'s test binary under [`BUILD_TIMEOUT`], showing the build's
/// progress, and returns its path.
fn build_test_binary(recipe: &str) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let package = format!("recipe-{recipe}");
    let args = [
        "test",
        "-p",
        &package,
        "--test",
        "recipe",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    let mut cmd = Command::new(&cargo);
    cmd.args(args);
    let shown = format!("cargo {}", args.join(" "));
    let out = ccci_abra::process::run_showing_stderr(cmd, shown, Deadline::after(BUILD_TIMEOUT))
        .map_err(|e| e.to_string())?;
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "recipe")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("cargo built no test binary named `recipe` for {package}: its Cargo.toml needs [[test]] name = \"recipe\", harness = false"))
}

/// Ctrl-C no longer ends this process: the run it started hears it too and tears down, and
/// this process then reports how it ended.
fn ignore_interrupts() {
    // SAFETY: setting a signal's disposition to "ignore" runs no code of ours in a handler.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
}

/// Prints the closing verdict line and returns the exit status it sets.
fn verdict_line(results: &Results, path: &Path) -> ExitCode {
    let verdict = if results.verdict == Verdict::Green {
        "GREEN"
    } else {
        "RED"
    };
    println!(
        "cargo ccci: {} {verdict} at {} (results: {})",
        results.recipe,
        results.level,
        path.display()
    );
    exit_code(results)
}

/// A path that exists, made absolute (the test-crate flow runs in the crate's directory);
/// anything else (a URL) as it is.
fn absolute_if_path(url: String) -> String {
    match Path::new(&url).canonicalize() {
        Ok(p) => p.display().to_string(),
        Err(_) => url,
    }
}

/// The generic tiers on a recipe repository with no test crate, in this process.
fn run_repository(
    url: String,
    reference: Option<String>,
    domain: Option<String>,
    routing: Option<String>,
    pull: Option<String>,
    sets: Vec<String>,
) -> Result<ExitCode, String> {
    let runs_dir = std::env::var("CCCI_RUNS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target/ccci/runs"));
    let report = ccci::run_repository(ccci::RepoRun {
        url,
        reference,
        sets,
        runs_dir,
        domain,
        results_copy: std::env::var("CCCI_RESULTS_FILE").ok().map(PathBuf::from),
        routing,
        pull,
        watch_signals: true,
    })
    .map_err(|e| e.to_string())?;
    println!("\n{}", ccci::summary(&report.results, &report.path));
    let code = verdict_line(&report.results, &report.path);
    Ok(if report.interrupted {
        ExitCode::from(130)
    } else {
        code
    })
}

fn read(path: &Path) -> Result<Results, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let results: Results = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a ccci results.json: {e}", path.display()))?;
    if results.schema != ccci::core::results::SCHEMA {
        return Err(format!(
            "{}: schema {} is not the {} this cargo-ccci reads",
            path.display(),
            results.schema,
            ccci::core::results::SCHEMA
        ));
    }
    Ok(results)
}

fn exit_code(results: &Results) -> ExitCode {
    if results.verdict == Verdict::Green {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn show(path: &Path) -> Result<ExitCode, String> {
    let results = read(path)?;
    println!(
        "{}",
        ccci::summary(
            &results,
            &PathBuf::from(&results.run_dir).join("results.json")
        )
    );
    Ok(exit_code(&results))
}

fn janitor(args: &[String]) -> Result<ExitCode, String> {
    let dry_run = match args {
        [] => false,
        [flag] if flag == "--dry-run" => true,
        _ => return Err(format!("janitor takes only --dry-run\n{USAGE}")),
    };
    let registry = ccci::registry::Registry::open().map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let reaped = rt.block_on(async {
        let swarm = ccci_swarm::Swarm::connect()
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(
            ccci::registry::reap(&registry, &swarm, dry_run, ccci::budget::JANITOR).await,
        )
    })?;
    let live = registry
        .runs()
        .iter()
        .filter(|r| ccci::registry::alive(r))
        .count();
    for r in &reaped {
        let what = format!(
            "run {} of {} (stack {}, process {} gone)",
            r.run.run_id, r.run.recipe, r.run.stack, r.run.pid
        );
        match (dry_run, r.left.is_empty()) {
            (true, true) => println!("would forget {what}: nothing of it is left"),
            (true, false) => println!("would remove {what}: {}", r.left.join(", ")),
            (false, true) => println!("removed {what}"),
            (false, false) => {
                println!("could not remove all of {what}: left {}", r.left.join(", "))
            }
        }
    }
    println!(
        "cargo ccci janitor: {} killed run{} {}, {live} live run{} left alone (registry: {})",
        reaped.len(),
        if reaped.len() == 1 { "" } else { "s" },
        if dry_run { "found" } else { "reaped" },
        if live == 1 { "" } else { "s" },
        registry.dir().display()
    );
    Ok(match reaped.iter().all(|r| r.left.is_empty()) || dry_run {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

fn list() -> Result<ExitCode, String> {
    for name in recipe_names() {
        println!("{name}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Recipe test crates: `recipes/<name>/ccci.yml` under the current directory.
fn recipe_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("recipes")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("ccci.yml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
