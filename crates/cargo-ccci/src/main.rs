//! `cargo ccci`: the command line for CI and maintainers (`cargo ccci --help`, and `--help`
//! for each subcommand).
//!
//! ```text
//! cargo ccci run [RECIPE] [--ref REF] [--recipe-git URL] [--domain D] [--set K=V]…
//!                [--routing traefik|host-port] [--pull missing|always|never]
//!                [--timeout 2h] [--junit PATH] [--keep [--keep-for 1h]]
//!                [--quick] [--upgrade-from N] [--rollback]
//! cargo ccci lint [RECIPE] [--recipe-git URL] [--ref REF] [--domain D] [--set K=V]…
//!                 [--format text|json]
//! cargo ccci list [--json]
//! cargo ccci results <results.json> [--json]
//! cargo ccci report <results.json> [--format markdown|junit] [--out PATH]
//! cargo ccci report <results.json> --post --forge API --repo OWNER/NAME --pr N [--sha SHA]
//! cargo ccci janitor [--dry-run] [--kept] [--older-than 2h|never] [--after DURATION]
//! cargo ccci deps status|upgrade|remove [--domain D] [--to VERSION] [--releases DIR] [--force]
//! cargo ccci canonical up RECIPE | status [--json] | down RECIPE
//! cargo ccci sweep [RECIPE…] [--skip-deps] [--wait 2h]
//! cargo ccci history [RECIPE] [--lane cold|quick] [--ref REF] [--limit N] [--json]
//! cargo ccci import DIR…
//! cargo ccci compare RUN RUN
//! cargo ccci dashboard [--listen ADDR]
//! cargo ccci serve --config FILE
//! cargo ccci forge serve --dir DIR [--hook URL] [--user LOGIN=PERMISSION]… [--repo OWNER/NAME=PATH]…
//! cargo ccci forge pr|comment|show …
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

use clap::{Parser, Subcommand};
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

mod binaries;
mod deps;
mod fleet;
mod janitor;
mod lint;
mod list;
mod report;
mod results;
mod run;
mod service;

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
    Run(run::RunArgs),
    /// Check a recipe as a run would before it deploys, with no Swarm: the settings, the
    /// release tags, the ref and the upgrade base, the compose chain (files, YAML,
    /// services, images' tags, secrets, configs, name lengths).
    ///
    /// Exit status: 0 clean, 2 with the one-line error a run would give.
    Lint(lint::LintArgs),
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
        #[arg(long, value_enum, default_value_t = results::Format::Markdown)]
        format: results::Format,
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
        /// Wait this long first (a duration like `30m`): what `cargo ccci serve` starts to
        /// remove a kept deployment on time, whatever becomes of the service meanwhile.
        #[arg(long, value_name = "DURATION")]
        after: Option<String>,
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
    /// A small, real forge to try `serve` against on one machine: Gitea's API calls ccci
    /// makes, git over HTTP with `refs/pull/N/head`, signed webhook deliveries, a page per
    /// pull request (`cargo ccci forge --help`, docs/serve.md "Try it in five minutes").
    #[command(disable_help_flag = true)]
    Forge(Passed),
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
        Cmd::Run(a) => run::run(a),
        Cmd::Lint(a) => lint::lint(a),
        Cmd::List { json } => list::list(json),
        Cmd::Results { path, json } => results::show(&path, json),
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
        } => results::write_report(&path, format, out.as_deref(), artifact_url.as_deref()),
        Cmd::Janitor {
            dry_run,
            kept,
            older_than,
            after,
        } => janitor::command(dry_run, kept, &older_than, after.as_deref()),
        Cmd::Deps { cmd } => deps::deps(cmd),
        Cmd::Canonical { cmd } => fleet::canonical(cmd),
        Cmd::Sweep(a) => fleet::sweep(a),
        Cmd::History(_)
        | Cmd::Import(_)
        | Cmd::Compare(_)
        | Cmd::Dashboard(_)
        | Cmd::Serve(_)
        | Cmd::Forge(_) => service::hand_over(&args[1..], &about(&args[1])),
    };
    result.unwrap_or_else(|e| {
        eprintln!("cargo ccci: {e}");
        ExitCode::from(2)
    })
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
