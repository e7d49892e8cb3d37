//! `cargo ccci run`: a recipe test crate's binary built and run under the run's deadline
//! (or the generic tiers on any recipe repository), its verdict as the exit status, its
//! report files beside results.json, the run taken into the store.

use crate::binaries::build_test_binary;
use crate::results::{exit_code, read};
use crate::{parse_timeout, recipe_names, report, service, test_crate, STOP_GRACE};
use ccci::core::Results;
use ccci::Deadline;
use clap::builder::TypedValueParser as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Which recipe, at which ref, under which domain and settings: what `run` and `lint` share.
#[derive(clap::Args)]
pub(crate) struct Target {
    /// A recipe test crate of this workspace (recipes/<RECIPE>).
    pub(crate) recipe: Option<String>,
    /// The ref: a tag, branch or commit (default: the repository's HEAD).
    #[arg(long = "ref", value_name = "REF")]
    pub(crate) reference: Option<String>,
    /// A recipe repository (URL or path; a git bundle works too) instead of the crate's
    /// source, or alone for any recipe without a test crate.
    #[arg(long, value_name = "URL")]
    pub(crate) recipe_git: Option<String>,
    /// The app's domain; it makes the Swarm's names (default: a fresh one under ccci.test).
    #[arg(long)]
    pub(crate) domain: Option<String>,
    /// A setting on top of ccci.yml: `--set health_path=/api/health`; the value is YAML.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) sets: Vec<String>,
}

/// Whether the head is a stranger's.
#[derive(clap::Args)]
pub(crate) struct Trust {
    /// Treat the head as untrusted (a stranger's pull request): every deploy's merged stack
    /// is held to its own stack, domain and checkout before anything is created
    /// (docs/serve.md#what-a-head-may-deploy). `cargo ccci serve` always does.
    #[arg(long)]
    pub(crate) untrusted: bool,
    /// What an untrusted head may deploy beyond its own stack, RULE:VALUE (repeatable):
    /// `--allow bind_mount:/var/run/docker.sock`.
    #[arg(long, value_name = "RULE:VALUE", requires = "untrusted", value_parser = |v: &str| v.parse::<ccci::policy::Allowance>())]
    pub(crate) allow: Vec<ccci::policy::Allowance>,
}

impl Trust {
    /// As the run's settings take it: `None` for a trusted head.
    pub(crate) fn allowances(self) -> Option<Vec<ccci::policy::Allowance>> {
        self.untrusted.then_some(self.allow)
    }
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    target: Target,
    /// How to reach the app: `traefik` (through the Traefik serving `proxy`, by the app's
    /// domain over HTTPS) or `host-port` (published on the host, no Traefik). Default:
    /// through Traefik if one serves `proxy`.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["traefik", "host-port"]).try_map(|v| v.parse::<ccci::Routing>()))]
    routing: Option<ccci::Routing>,
    /// When to pull images onto the node: `missing` (only images the node lacks), `always`
    /// (every image, every deploy) or `never` (a missing image is an error).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["missing", "always", "never"]).try_map(|v| v.parse::<ccci::Pull>()))]
    pull: Option<ccci::Pull>,
    /// The whole run's deadline (a test crate run): at it the run is asked to stop and
    /// tears down, and is killed 10 min later if it has not.
    #[arg(long, value_parser = parse_timeout, default_value = DEFAULT_TIMEOUT)]
    timeout: Duration,
    /// Also copy the JUnit XML here.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Where the run directory's files will be served (CI artefacts): comment.md links them
    /// under this URL; without it, it names them relative to the run directory.
    #[arg(long, value_name = "BASE")]
    artifact_url: Option<String>,
    /// When the run is red, leave its stack up for debugging instead of tearing it down; it
    /// stays registered, and any run or `janitor` removes it once --keep-for has passed.
    #[arg(long)]
    keep: bool,
    /// How long --keep leaves a red run's stack up.
    #[arg(long, value_parser = parse_timeout, default_value = DEFAULT_KEEP_FOR, value_name = "DURATION")]
    keep_for: Duration,
    /// The quick lane: the head on the recipe's warm canonical deployment (upgraded in
    /// place, functional tests), which then returns to known-good. Never a cold run's level
    /// (docs/fleet.md).
    #[arg(long)]
    quick: bool,
    /// Upgrade from each of the N releases before the head, each path in a deployment of its
    /// own (over the recipe's `upgrade_from`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=8))]
    upgrade_from: Option<u32>,
    /// End by rolling the app back to the release its upgrade started from, as `abra app
    /// rollback` does: it must come up healthy with its data intact, or the run is red
    /// (over the recipe's `rollback`; the sweep always does).
    #[arg(long)]
    rollback: bool,
    #[command(flatten)]
    trust: Trust,
}

/// `run --timeout`'s default.
pub(crate) const DEFAULT_TIMEOUT: &str = "2h";

/// `run --keep-for`'s default.
pub(crate) const DEFAULT_KEEP_FOR: &str = "1h";

impl RunArgs {
    /// `cargo ccci run RECIPE` with every option at its default: the fleet's cold runs.
    pub(crate) fn of_recipe(recipe: &str) -> RunArgs {
        let default = |text| parse_timeout(text).unwrap_or(Duration::from_secs(3600));
        RunArgs {
            target: Target {
                recipe: Some(recipe.to_string()),
                reference: None,
                recipe_git: None,
                domain: None,
                sets: Vec::new(),
            },
            routing: None,
            pull: None,
            timeout: default(DEFAULT_TIMEOUT),
            junit: None,
            artifact_url: None,
            keep: false,
            keep_for: default(DEFAULT_KEEP_FOR),
            quick: false,
            upgrade_from: None,
            rollback: false,
            trust: Trust {
                untrusted: false,
                allow: Vec::new(),
            },
        }
    }

    /// The same run, ending by rolling the app back (`--rollback`).
    pub(crate) fn rolling_back(mut self) -> RunArgs {
        self.rollback = true;
        self
    }
}

pub(crate) fn run(a: RunArgs) -> Result<ExitCode, String> {
    run_asking(a, None).map(|(code, _)| code)
}

/// `run`, asking the run to make or promote the recipe's canonical (`canonical up`, the
/// sweep); with the results it wrote, when it wrote any.
pub(crate) fn run_asking(
    a: RunArgs,
    canonical: Option<ccci::CanonicalAsk>,
) -> Result<(ExitCode, Option<Results>), String> {
    let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    // Every variable of ccci's (ccci::core::vars) a test crate honours, under this command line's flags.
    let from_env = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
        .map_err(|e| e.to_string())?;
    let git = a.target.recipe_git.map(absolute_if_path);
    let mut overrides = ccci::Overrides {
        reference: a.target.reference,
        domain: a.target.domain,
        routing: a.routing,
        pull: a.pull,
        keep: a.keep.then_some(a.keep_for),
        // The report shows the app's screenshot, unless its variable (vars::SCREENSHOT) says no.
        screenshot: Some(from_env.screenshot.unwrap_or(true)),
        lane: a.quick.then_some(ccci::core::results::Lane::of(true)),
        upgrade_from: a.upgrade_from,
        rollback: a.rollback.then_some(true),
        canonical,
        untrusted: a.trust.allowances(),
        ..Default::default()
    };
    let (recipe, sets, timeout, junit) = (a.target.recipe, a.target.sets, a.timeout, a.junit);
    let artifacts = a.artifact_url;
    let names = recipe_names();
    if recipe.is_none() {
        if let Some(url) = git {
            return run_repository(
                ccci::RepoRun {
                    url,
                    sets,
                    settings: overrides.apply(from_env),
                },
                junit.as_deref(),
                artifacts.as_deref(),
            )
            .map(|code| (code, None));
        }
    }
    overrides.recipe_git = git;
    let recipe = test_crate(recipe, &names, "run")?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let results_file = dir.path().join("results.json");
    // This process reads the run's results from its own copy; a copy the caller asked for
    // (the results-file variable) is made from it at the end.
    let asked_copy = from_env.results_copy.clone();
    overrides.results_copy = Some(results_file.clone());
    let interrupted = run_test_binary(&recipe, &overrides, &sets, timeout, &results_file)?;
    // The run printed its summary; end with its reports and the verdict that sets the exit
    // status.
    let results = read(&results_file)?;
    if let Some(copy) = &asked_copy {
        std::fs::copy(&results_file, copy)
            .map_err(|e| format!("cannot copy the results to {}: {e}", copy.display()))?;
    }
    report::write_all(&results, junit.as_deref(), artifacts.as_deref())?;
    service::record(&results.run_id);
    let code = verdict_line(
        &results,
        &PathBuf::from(&results.run_dir).join("results.json"),
    );
    // An interrupted run says so in its exit status, as a shell expects (128 + SIGINT).
    let code = if interrupted {
        ExitCode::from(130)
    } else {
        code
    };
    if results.canonical.is_some() {
        service::record_canonicals();
    }
    Ok((code, Some(results)))
}

/// Builds `recipe-<recipe>`'s test binary and runs it with `overrides` and `sets` under
/// `timeout`, until it wrote `results_file`; whether Ctrl-C or SIGTERM cut it short.
fn run_test_binary(
    recipe: &str,
    overrides: &ccci::Overrides,
    sets: &[String],
    timeout: Duration,
    results_file: &Path,
) -> Result<bool, String> {
    let binary = build_test_binary(recipe)?;
    let mut cmd = ccci_process::command(&binary);
    // As `cargo test` runs it: in its crate's directory, reading the overrides as it reads
    // ccci's variables (ccci::Settings::from_env).
    cmd.current_dir(Path::new("recipes").join(recipe))
        .envs(overrides.env())
        .envs(ccci::sets_env(sets));
    let shown = format!("{} (the recipe-{recipe} tests)", binary.display());
    // Ctrl-C at a terminal reaches the run as well: it ends its step and tears down, and this
    // process waits for that to print the verdict instead of dying first.
    ignore_interrupts();
    let status = ccci_process::supervise(cmd, shown, Deadline::after(timeout), STOP_GRACE);
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
    Ok(interrupted)
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
    let verdict = ccci::verdict_styled(results.verdict, ccci::colour_stdout());
    if results.bad_input.is_some() {
        say!(
            "cargo ccci: {} could not run: its input is wrong, and nothing was deployed (results: {})",
            results.recipe,
            path.display()
        );
        return exit_code(results);
    }
    say!(
        "cargo ccci: {} {verdict} at {} (results: {})",
        results.recipe,
        results.level,
        path.display()
    );
    exit_code(results)
}

/// A path that exists, made absolute (the test-crate flow runs in the crate's directory);
/// anything else (a URL) as it is.
pub(crate) fn absolute_if_path(url: String) -> String {
    match Path::new(&url).canonicalize() {
        Ok(p) => p.display().to_string(),
        Err(_) => url,
    }
}

/// The generic tiers on a recipe repository with no test crate, in this process.
fn run_repository(
    run: ccci::RepoRun,
    junit: Option<&Path>,
    artifacts: Option<&str>,
) -> Result<ExitCode, String> {
    let report = ccci::run_repository(run).map_err(|e| e.to_string())?;
    if let Some(e) = &report.results.bad_input {
        // Said once, as every error that stops a run before it starts is, and last.
        report::write_all(&report.results, junit, artifacts)?;
        service::record(&report.results.run_id);
        eprintln!("cargo ccci: {e}");
        return Ok(verdict_line(&report.results, &report.path));
    }
    say!(
        "\n{}",
        ccci::summary_styled(&report.results, &report.path, ccci::colour_stdout())
    );
    report::write_all(&report.results, junit, artifacts)?;
    service::record(&report.results.run_id);
    if report.results.canonical.is_some() {
        service::record_canonicals();
    }
    let code = verdict_line(&report.results, &report.path);
    Ok(if report.interrupted {
        ExitCode::from(130)
    } else {
        code
    })
}
