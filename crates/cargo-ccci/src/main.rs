//! `cargo ccci`: the command line for CI and maintainers (`cargo ccci --help`, and `--help`
//! for each subcommand).
//!
//! ```text
//! cargo ccci run [RECIPE] [--ref REF] [--recipe-git URL] [--domain D] [--set K=V]…
//!                [--routing traefik|host-port] [--pull missing|always|never]
//!                [--timeout 2h] [--junit PATH] [--keep [--keep-for 1h]]
//!                [--quick] [--upgrade-from N]
//! cargo ccci lint [RECIPE] [--recipe-git URL] [--ref REF] [--domain D] [--set K=V]…
//! cargo ccci list [--json]
//! cargo ccci results <results.json> [--json]
//! cargo ccci report <results.json> [--format markdown|junit] [--out PATH]
//! cargo ccci report <results.json> --post --forge API --repo OWNER/NAME --pr N [--sha SHA]
//! cargo ccci janitor [--dry-run] [--kept]
//! cargo ccci deps status|upgrade|remove [--domain D] [--to VERSION] [--releases DIR] [--force]
//! cargo ccci canonical up RECIPE | status [--json] | down RECIPE
//! cargo ccci sweep [RECIPE…] [--skip-deps] [--wait 2h]
//! cargo ccci history [RECIPE] [--lane cold|quick] [--ref REF] [--limit N] [--json]
//! cargo ccci import DIR…
//! cargo ccci compare RUN RUN
//! cargo ccci dashboard [--listen ADDR]
//! cargo ccci serve --config FILE
//! ```
//!
//! Every run is kept in the run store (`--database`, default runs.db in ccci's state
//! directory): `history` lists runs, `import` records existing run directories, `compare`
//! sets two runs side by side and `dashboard` serves all of it as web pages.
//!
//! `run RECIPE` builds `recipe-<RECIPE>`'s test binary (`cargo test --no-run`, at most 30 min)
//! and runs it (the recipe's ccci tests, a full lifecycle on the Swarm) under `--timeout`: at
//! that deadline the run is asked to stop (SIGTERM), so it ends its step, tears down and
//! writes its results, and is killed 10 min later if it has not. `run --recipe-git URL` with
//! no test crate runs the generic tiers on any recipe repository, with settings from its own
//! `ccci.yml` and `--set`. Both write junit.xml and comment.md beside results.json and end with
//! the level and verdict. `janitor` removes what runs killed before their teardown left on
//! the Swarm `DOCKER_HOST` names. Exit status: 0 green, 1 red, 2 could not run, 130
//! interrupted. Installed (`cargo install --path crates/cargo-ccci`) it is `cargo ccci …`;
//! from a checkout, `cargo run -p cargo-ccci -- ccci …`.

use ccci::core::{Results, Verdict};
use ccci::Deadline;
use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// `println!` that a closed stdout (`| head`) does not turn into a panic: the rest of the
/// output is dropped quietly, and a run goes on to its teardown.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::print_out(&format!($($arg)*))
    };
}

mod deps;
mod fleet;
mod report;
mod service;

/// Building a recipe's test binary: a cold build takes about two minutes on two cores.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long a run asked to stop at its deadline has to tear down before it is killed:
/// teardown's own budget is 2 min plus the stack's stop grace period.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(10 * 60);

/// Prove a Co-op Cloud recipe works on a real Docker Swarm: install, upgrade, backup/restore
/// and its own tests, reported as a level (L0-L4) and a verdict.
///
/// Exit status: 0 green, 1 red, 2 could not run (bad input: the recipe, its settings or the
/// arguments; or no Swarm), 130 interrupted.
#[derive(Parser)]
#[command(name = "cargo ccci", bin_name = "cargo ccci", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Run a recipe's whole ladder on the Swarm, tear down, and report.
    ///
    /// With RECIPE: the test crate recipes/RECIPE (its ccci.yml and its own tests). With
    /// only --recipe-git: any recipe repository, no Rust needed (the generic tiers, settings
    /// from its own ccci.yml and --set). Writes results.json, junit.xml and comment.md into
    /// the run directory.
    Run(RunArgs),
    /// Check a recipe as a run would before it deploys, with no Swarm: the settings, the
    /// release tags, the ref and the upgrade base, the compose chain (files, YAML,
    /// services, images' tags, secrets, configs, name lengths).
    ///
    /// Exit status: 0 clean, 2 with the one-line error a run would give.
    Lint(LintArgs),
    /// List the recipe test crates of this workspace.
    List {
        /// As a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Show a run's summary from its results.json; the exit status is its verdict.
    Results {
        /// A results.json.
        path: PathBuf,
        /// The results.json itself, as written (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Write a report of a run: a Markdown comment for a pull request, or JUnit XML.
    Report {
        /// A results.json.
        path: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        /// Where; default: standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Where the run directory's files are served: the Markdown links them under it.
        #[arg(long, value_name = "BASE")]
        artifact_url: Option<String>,
        /// Post the run's commit status and report to its pull request instead (a CI
        /// engine's step), with the forge account's token from the environment
        /// (`cargo ccci report --post` names the variable when it is missing).
        #[arg(long, requires_all = ["forge", "repo", "pr"])]
        post: bool,
        #[command(flatten)]
        pull_request: PullRequestArgs,
    },
    /// Remove what runs killed before their teardown left on the Swarm (DOCKER_HOST).
    ///
    /// Stacks of runs in the run registry whose process is gone, with their volumes, secrets
    /// and configs; then, by age, stacks ccci labelled as a run's or a realm's that no
    /// registered run holds (an older ccci's, a crashed host's) and whose owner is not a live
    /// process of this host. Never a live run's, a canonical, infrastructure, or anything
    /// ccci did not deploy. A stack kept for debugging (`run --keep`) is left alone until its
    /// time is up.
    Janitor {
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Also remove stacks kept for debugging (`run --keep`) before their time is up.
        #[arg(long)]
        kept: bool,
        /// How old a stack no registered run holds must be to be removed: a duration like
        /// `2h` (the default) or `30m`, or `never`.
        #[arg(long, value_name = "DURATION", default_value = "2h")]
        older_than: String,
    },
    /// The warm OIDC provider runs with an SSO dependency share: its status, a safe upgrade
    /// (snapshot, upgrade, health check, roll back), its removal.
    Deps {
        #[command(subcommand)]
        cmd: deps::DepsCmd,
    },
    /// The warm fleet's canonical deployments on this host: make or promote one at its
    /// known-good version, see them, remove one (docs/fleet.md).
    Canonical {
        #[command(subcommand)]
        cmd: fleet::CanonicalCmd,
    },
    /// Roll the shared dependencies, then run every enrolled recipe cold on its latest
    /// release, one at a time, promote the greens' canonicals, and report the drift since the
    /// sweep before (docs/fleet.md). Exit 0 when every recipe is green.
    Sweep(fleet::SweepArgs),
    /// List runs from the run store, newest first: when, recipe, ref, commit, level,
    /// verdict, lane and the ccci that ran each (`cargo ccci history --help`).
    #[command(disable_help_flag = true)]
    History(Passed),
    /// Record existing run directories in the run store, from results.json of any schema
    /// ccci has written (`cargo ccci import --help`).
    #[command(disable_help_flag = true)]
    Import(Passed),
    /// Set two finished runs side by side, to tell a change in ccci from a change in the
    /// world (`cargo ccci compare --help`).
    #[command(disable_help_flag = true)]
    Compare(Passed),
    /// Serve the dashboard of the run store: every recipe's level, each recipe's history,
    /// each run with its card and artefacts, two runs side by side
    /// (`cargo ccci dashboard --help`).
    #[command(disable_help_flag = true)]
    Dashboard(Passed),
    /// The forge's CI: serve the dashboard and a Gitea/Forgejo webhook, take `!testme` from
    /// pull requests, queue and run them, and tell each its verdict (`cargo ccci serve
    /// --help`, docs/serve.md).
    #[command(disable_help_flag = true)]
    Serve(Passed),
}

/// Where `report --post` posts.
#[derive(clap::Args)]
struct PullRequestArgs {
    /// With --post: the forge's API (`https://git.coopcloud.tech/api/v1`).
    #[arg(long, value_name = "URL")]
    forge: Option<String>,
    /// With --post: the repository, `owner/name`.
    #[arg(long)]
    repo: Option<String>,
    /// With --post: the pull request.
    #[arg(long)]
    pr: Option<i64>,
    /// With --post: the commit to set the status of (default: the commit the run tested).
    #[arg(long)]
    sha: Option<String>,
    /// With --post: the status's context (default `ccci/testme`, the one `serve` sets).
    #[arg(long)]
    context: Option<String>,
    /// With --post: where the status links (the CI engine's page of the job).
    #[arg(long, value_name = "URL")]
    target_url: Option<String>,
}

impl PullRequestArgs {
    /// `ccci-service post-report`'s arguments for `path`, `artifact_url` and these.
    fn service_args(self, path: &Path, artifact_url: Option<String>) -> Vec<String> {
        let mut args = vec!["post-report".to_string(), path.display().to_string()];
        let pairs = [
            ("--forge", self.forge),
            ("--repo", self.repo),
            ("--pr", self.pr.map(|p| p.to_string())),
            ("--sha", self.sha),
            ("--context", self.context),
            ("--target-url", self.target_url),
            ("--artifact-url", artifact_url),
        ];
        for (flag, value) in pairs {
            if let Some(v) = value {
                args.extend([flag.to_string(), v]);
            }
        }
        args
    }
}

/// A run store command's arguments, handed to `ccci-service` as they are (it says what they
/// are, with `--help`).
#[derive(clap::Args)]
struct Passed {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}

/// Which recipe, at which ref, under which domain and settings: what `run` and `lint` share.
#[derive(clap::Args)]
struct Target {
    /// A recipe test crate of this workspace (recipes/<RECIPE>).
    recipe: Option<String>,
    /// The ref: a tag, branch or commit (default: the repository's HEAD).
    #[arg(long = "ref", value_name = "REF")]
    reference: Option<String>,
    /// A recipe repository (URL or path; a git bundle works too) instead of the crate's
    /// source, or alone for any recipe without a test crate.
    #[arg(long, value_name = "URL")]
    recipe_git: Option<String>,
    /// The app's domain; it makes the Swarm's names (default: a fresh one under ccci.test).
    #[arg(long)]
    domain: Option<String>,
    /// A setting on top of ccci.yml: `--set health_path=/api/health`; the value is YAML.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
}

#[derive(clap::Args)]
struct LintArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    trust: Trust,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A comment for a pull request.
    Markdown,
    /// JUnit XML, for CI systems that show test results.
    Junit,
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
    #[command(flatten)]
    trust: Trust,
}

/// `run --timeout`'s default.
const DEFAULT_TIMEOUT: &str = "2h";
/// `run --keep-for`'s default.
const DEFAULT_KEEP_FOR: &str = "1h";

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
            trust: Trust {
                untrusted: false,
                allow: Vec::new(),
            },
        }
    }
}

/// Whether the head is a stranger's.
#[derive(clap::Args)]
struct Trust {
    /// Treat the head as untrusted (a stranger's pull request): every deploy's merged stack
    /// is held to its own stack, domain and checkout before anything is created
    /// (docs/serve.md#what-a-head-may-deploy). `cargo ccci serve` always does.
    #[arg(long)]
    untrusted: bool,
    /// What an untrusted head may deploy beyond its own stack, RULE:VALUE (repeatable):
    /// `--allow bind_mount:/var/run/docker.sock`.
    #[arg(long, value_name = "RULE:VALUE", requires = "untrusted", value_parser = |v: &str| v.parse::<ccci::policy::Allowance>())]
    allow: Vec<ccci::policy::Allowance>,
}

impl Trust {
    /// As the run's settings take it: `None` for a trusted head.
    fn allowances(self) -> Option<Vec<ccci::policy::Allowance>> {
        self.untrusted.then_some(self.allow)
    }
}

pub(crate) fn parse_timeout(v: &str) -> Result<Duration, String> {
    ccci::core::meta::duration(v).ok_or_else(|| {
        format!("`{v}` is not a duration; write it like `90m`, `2h` or `5400` (seconds)")
    })
}

/// What `cargo ccci <command>` does, as its help says it.
fn about(command: &str) -> String {
    use clap::CommandFactory as _;
    Cli::command()
        .find_subcommand(command)
        .and_then(|c| c.get_long_about().or_else(|| c.get_about()))
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn main() -> ExitCode {
    ccci::diagnostics::init();
    let mut args: Vec<String> = std::env::args().collect();
    // cargo runs `cargo-ccci ccci <args>`; run directly, there is no `ccci`.
    if args.get(1).map(String::as_str) == Some("ccci") {
        args.remove(1);
    }
    let cli = Cli::parse_from(&args);
    let result = match cli.command {
        Cmd::Run(a) => run(a),
        Cmd::Lint(a) => lint(a),
        Cmd::List { json } => list(json),
        Cmd::Results { path, json } => show(&path, json),
        Cmd::Report {
            path,
            post: true,
            pull_request,
            artifact_url,
            ..
        } => service::hand_over(
            &pull_request.service_args(&path, artifact_url),
            &about("report"),
        ),
        Cmd::Report {
            path,
            format,
            out,
            artifact_url,
            ..
        } => write_report(&path, format, out.as_deref(), artifact_url.as_deref()),
        Cmd::Janitor {
            dry_run,
            kept,
            older_than,
        } => match older_than.as_str() {
            "never" => Ok(None),
            d => ccci::core::meta::duration(d).map(Some).ok_or_else(|| {
                format!(
                    "--older-than `{d}` is not a duration: write it like `2h` or `30m`, or `never`"
                )
            }),
        }
        .and_then(|older_than| {
            janitor(ccci::registry::Sweep {
                dry_run,
                kept,
                older_than,
            })
        }),
        Cmd::Deps { cmd } => deps::deps(cmd),
        Cmd::Canonical { cmd } => fleet::canonical(cmd),
        Cmd::Sweep(a) => fleet::sweep(a),
        Cmd::History(_) | Cmd::Import(_) | Cmd::Compare(_) | Cmd::Dashboard(_) | Cmd::Serve(_) => {
            service::hand_over(&args[1..], &about(&args[1]))
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("cargo ccci: {e}");
        ExitCode::from(2)
    })
}

fn run(a: RunArgs) -> Result<ExitCode, String> {
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
        fleet::record_canonicals();
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

/// Builds `recipe-<recipe>`'s test binary under [`BUILD_TIMEOUT`], showing the build's
/// progress, and returns its path.
pub(crate) fn build_test_binary(recipe: &str) -> Result<PathBuf, String> {
    let package = format!("recipe-{recipe}");
    cargo_built(&["test", "-p", &package, "--test", "recipe", "--no-run"], "recipe")
        .ok_or_else(|| format!("cargo built no test binary named `recipe` for {package}: its Cargo.toml needs [[test]] name = \"recipe\", harness = false"))?
}

/// Builds binary `bin` of `package` in the workspace of `manifest` under [`BUILD_TIMEOUT`],
/// showing the build's progress unless `quiet`, and returns its path.
pub(crate) fn build_binary(
    manifest: &Path,
    package: &str,
    bin: &str,
    quiet: bool,
) -> Result<PathBuf, String> {
    let manifest = manifest.display().to_string();
    let mut args = vec![
        "build",
        "--manifest-path",
        &manifest,
        "-p",
        package,
        "--bin",
        bin,
    ];
    if quiet {
        args.push("--quiet");
    }
    cargo_built(&args, bin)
        .ok_or_else(|| format!("cargo built no binary {bin} of {package} ({manifest})"))?
}

/// Runs cargo with `args` (a build) and returns the path of the executable it made for the
/// target named `target`: `None` when it made none, an error when the build failed.
fn cargo_built(args: &[&str], target: &str) -> Option<Result<PathBuf, String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = ccci_process::command(&cargo);
    cmd.args(args)
        .arg("--message-format=json-render-diagnostics");
    let shown = format!("cargo {}", args.join(" "));
    let out = match ccci_process::run_showing_stderr(cmd, shown, Deadline::after(BUILD_TIMEOUT)) {
        Ok(out) => out,
        Err(e) => return Some(Err(e.to_string())),
    };
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == target)
        .find_map(|m| m["executable"].as_str().map(|p| Ok(PathBuf::from(p))))
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
fn absolute_if_path(url: String) -> String {
    match Path::new(&url).canonicalize() {
        Ok(p) => p.display().to_string(),
        Err(_) => url,
    }
}

/// `cargo ccci lint`: a test crate's recipe, or any repository's, checked as a run would
/// before it deploys; one line either way.
fn lint(LintArgs { target: a, trust }: LintArgs) -> Result<ExitCode, String> {
    let git = a.recipe_git.map(absolute_if_path);
    let untrusted = trust.allowances();
    let overrides = ccci::Overrides {
        reference: a.reference,
        domain: a.domain,
        untrusted: untrusted.clone(),
        ..Default::default()
    };
    let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    let linted = match (a.recipe, git) {
        (None, Some(url)) => {
            let settings = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
                .map_err(|e| e.to_string())?;
            ccci::lint_repository(ccci::RepoRun {
                url,
                sets: a.sets,
                settings: overrides.apply(settings),
            })
        }
        (recipe, git) => {
            let recipe = test_crate(recipe, &recipe_names(), "lint")?;
            let dir = here.join("recipes").join(&recipe);
            let settings = ccci::Settings::from_env(&dir, ccci::default_runs_dir(&dir))
                .map_err(|e| e.to_string())?;
            let overrides = ccci::Overrides {
                recipe_git: git,
                ..overrides
            };
            ccci::lint_crate(overrides.apply(settings), &a.sets)
        }
    }
    .map_err(|e| e.to_string())?;
    let head = &linted.head;
    let short = ccci::core::short_commit(&head.commit);
    let release = head.version.as_deref().unwrap_or("unreleased");
    let base = match &linted.base {
        Some(b) => format!("upgrade from {}", b.reference),
        None => "no release before it to upgrade from".into(),
    };
    say!(
        "cargo ccci lint: {} at {} ({short}, {release}): clean: {}; {base}",
        linted.recipe,
        head.reference,
        linted.compose_files.join(" + "),
    );
    if let Some(allow) = &untrusted {
        let allowed: Vec<String> = allow.iter().map(ToString::to_string).collect();
        say!(
            "  untrusted: the head keeps to its own stack, domain and checkout{}",
            match allowed.is_empty() {
                true => String::new(),
                false => format!(" (allowed: {})", allowed.join(", ")),
            }
        );
    }
    for tag in &linted.annotated {
        say!("  note: tag {tag} is lightweight; a run makes it annotated in its own clone (abra deploys only annotated releases)");
    }
    if let Some(from) = &linted.overlay {
        say!("  note: the CI overlay from {from} is added to every deploy");
    }
    Ok(ExitCode::SUCCESS)
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
        fleet::record_canonicals();
    }
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
    if !ccci::core::results::SCHEMAS.contains(&results.schema.as_str()) {
        return Err(format!(
            "{}: schema {} is not one this cargo-ccci reads (up to {}): upgrade ccci",
            path.display(),
            results.schema,
            ccci::core::results::SCHEMA
        ));
    }
    Ok(results)
}

fn exit_code(results: &Results) -> ExitCode {
    if results.bad_input.is_some() {
        return ExitCode::from(2);
    }
    if results.verdict == Verdict::Green {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn show(path: &Path, json: bool) -> Result<ExitCode, String> {
    let results = read(path)?;
    if json {
        let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        print_out(&text);
        return Ok(exit_code(&results));
    }
    say!(
        "{}",
        ccci::summary_styled(
            &results,
            &PathBuf::from(&results.run_dir).join("results.json"),
            ccci::colour_stdout()
        )
    );
    Ok(exit_code(&results))
}

fn janitor(sweep: ccci::registry::Sweep) -> Result<ExitCode, String> {
    let dry_run = sweep.dry_run;
    let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    let settings = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
        .map_err(|e| e.to_string())?;
    let registry = ccci::registry::Registry::open(settings.registry_dir.as_deref())
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let reaped = rt.block_on(async {
        let swarm = ccci_swarm::Swarm::connect()
            .await
            .map_err(|e| e.to_string())?;
        let budget = ccci::budget::JANITOR;
        Ok::<_, String>((
            ccci::registry::reap(&registry, &swarm, sweep, budget).await,
            ccci::registry::reap_orphans(&registry, &swarm, sweep, budget).await,
        ))
    })?;
    let (reaped, orphans) = reaped;
    let runs = registry.runs();
    let live = runs.iter().filter(|r| ccci::registry::alive(r)).count();
    let kept: Vec<_> = runs
        .iter()
        .filter(|r| !ccci::registry::alive(r) && r.kept_now() && !sweep.kept)
        .collect();
    for r in &reaped {
        let what = format!(
            "run {} of {} (stack {}, process {} gone)",
            r.run.run_id, r.run.recipe, r.run.stack, r.run.pid
        );
        match (dry_run, r.left.is_empty()) {
            (true, true) => say!("would forget {what}: nothing of it is left"),
            (true, false) => say!("would remove {what}: {}", r.left.join(", ")),
            (false, true) => say!("removed {what}"),
            (false, false) => {
                say!("could not remove all of {what}: left {}", r.left.join(", "))
            }
        }
    }
    say!(
        "cargo ccci janitor: {} killed run{} {}, {live} live run{} left alone (registry: {})",
        reaped.len(),
        if reaped.len() == 1 { "" } else { "s" },
        if dry_run { "found" } else { "reaped" },
        if live == 1 { "" } else { "s" },
        registry.dir().display()
    );
    for o in &orphans {
        let what = format!(
            "stack {} of {} (no registered run holds it; {} min old)",
            o.stack,
            o.of,
            o.age / 60
        );
        match (dry_run, o.left.is_empty()) {
            (true, _) => say!("would remove {what}: {}", o.left.join(", ")),
            (false, true) => say!("removed {what}"),
            (false, false) => say!("could not remove all of {what}: left {}", o.left.join(", ")),
        }
    }
    for k in &kept {
        say!(
            "kept for debugging: stack {} of run {} ({}) until {}; `cargo ccci janitor --kept` removes it now",
            k.stack,
            k.run_id,
            k.recipe,
            k.keep_until.map(ccci::core::time::rfc3339).unwrap_or_default()
        );
    }
    let all_gone =
        reaped.iter().all(|r| r.left.is_empty()) && orphans.iter().all(|o| o.left.is_empty());
    Ok(match all_gone || dry_run {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

fn list(json: bool) -> Result<ExitCode, String> {
    let names = recipe_names();
    match json {
        true => print_out(&serde_json::to_string(&names).map_err(|e| e.to_string())?),
        false => print_out(&names.join("\n")),
    }
    Ok(ExitCode::SUCCESS)
}

fn write_report(
    path: &Path,
    format: Format,
    out: Option<&Path>,
    artifacts: Option<&str>,
) -> Result<ExitCode, String> {
    let results = read(path)?;
    let text = match format {
        Format::Markdown => ccci_report::markdown(&results, artifacts),
        Format::Junit => ccci_report::junit(&results)?,
    };
    match out {
        Some(o) => std::fs::write(o, text).map_err(|e| format!("{}: {e}", o.display()))?,
        None => print_out(&text),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints `text` and a newline to stdout. A reader that stopped reading (`| head`) is not an
/// error: the rest is dropped quietly.
pub(crate) fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|_| out.flush());
}

/// Recipe test crates: `recipes/<name>/ccci.yml` under the current directory.
/// The test crate `recipe` names, which must be one of `names`; `verb` is the subcommand,
/// for the way out when there is none.
pub(crate) fn test_crate(
    recipe: Option<String>,
    names: &[String],
    verb: &str,
) -> Result<String, String> {
    let recipe = recipe.ok_or_else(|| {
        format!(
            "which recipe? a test crate ({}), or any recipe repository with --recipe-git URL",
            names.join(", ")
        )
    })?;
    if !names.contains(&recipe) {
        return Err(format!(
            "no recipe test crate recipes/{recipe}/ in this workspace (have: {}); for a recipe repository without one, use `cargo ccci {verb} --recipe-git <url or path>`",
            names.join(", ")
        ));
    }
    Ok(recipe)
}

pub(crate) fn recipe_names() -> Vec<String> {
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
