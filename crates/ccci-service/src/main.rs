//! `ccci-service`: the run store's commands, run by `cargo ccci history|import|compare|
//! dashboard` (which build or find this binary and hand it their arguments) or on its own.
//!
//! ```text
//! ccci-service history [RECIPE] [--lane cold|quick] [--ref REF] [--limit N] [--json]
//! ccci-service import DIR…
//! ccci-service compare RUN RUN
//! ccci-service dashboard [--listen ADDR]
//! ccci-service take-in [RUN]
//! ccci-service known-good RECIPE
//! ccci-service set-canonicals --host HOST FILE
//! ccci-service record-sweep FILE
//! ccci-service forge serve|pr|comment|show …
//!   every one: [--database URL] [--journal DIR]
//! ```
//!
//! A binary of its own so that the database and the web server are built only where the
//! store is kept: never into `cargo ccci run`, never into a recipe's test crate. Exit status:
//! 0 done, 2 could not (the store unreachable or refused, bad arguments).

use ccci_service::{commands, fleet, forge, post, serve};
use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// The run store's commands: every ccci run kept in a real database, its history, two runs
/// side by side, and the dashboard.
#[derive(Parser)]
#[command(name = "cargo ccci", bin_name = "cargo ccci", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    #[command(flatten)]
    store: commands::StoreArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// List runs from the run store, newest first: when, recipe, ref, commit, level,
    /// verdict, lane and the ccci that ran each.
    History {
        /// Only this recipe's runs.
        recipe: Option<String>,
        /// Only runs of this lane.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["cold", "quick"]).try_map(|v| v.parse::<ccci_core::results::Lane>()))]
        lane: Option<ccci_core::results::Lane>,
        /// Only runs of this ref.
        #[arg(long = "ref", value_name = "REF")]
        reference: Option<String>,
        /// At most this many runs.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// As a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Record existing run directories (a run's, or a directory of them) in the run store,
    /// from results.json of any schema ccci has written.
    Import {
        /// Run directories, or directories of them (like target/ccci/runs).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Set two finished runs side by side: rung by rung and step by step, with both ccci
    /// builds and recipe commits, to tell a change in ccci from a change in the world.
    Compare {
        /// Run A (its id, or the start or end of it).
        a: String,
        /// Run B.
        b: String,
    },
    /// Serve the dashboard: every recipe's level, each recipe's history, each run with its
    /// card and artefacts, and two runs side by side. This host's journal is taken in every
    /// two seconds, so a run started here shows within them.
    Dashboard {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8420", value_name = "ADDR")]
        listen: String,
    },
    /// The forge's CI: serve the dashboard and a webhook for Gitea/Forgejo, take `!testme`
    /// from pull requests, queue and run them, and tell each pull request its verdict
    /// (docs/serve.md).
    Serve {
        /// The service's configuration (YAML).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The log's lines (on stderr): plain, or one JSON object a line.
        #[arg(long, value_enum, default_value = "plain", env = "CCCI_LOG_FORMAT")]
        log_format: serve::log::Format,
        /// More of the log: `-v` debug, `-vv` trace (`RUST_LOG`, when set, decides instead).
        #[arg(short, long, action = clap::ArgAction::Count)]
        verbose: u8,
    },
    /// Post a run's commit status and report to its pull request (a CI engine's step;
    /// `cargo ccci report RESULTS --post`).
    PostReport(post::PostArgs),
    /// A small, real forge to try the service against on one machine: Gitea's API calls ccci
    /// makes, git over HTTP with `refs/pull/N/head`, signed webhook deliveries, a page per
    /// pull request (docs/serve.md, "Try it in five minutes").
    Forge {
        #[command(subcommand)]
        cmd: forge::cli::ForgeCmd,
    },
    /// The version `cargo ccci canonical up` makes a recipe's canonical at: its latest green
    /// cold run of a release, as a line of JSON (`null`: none).
    KnownGood {
        /// The recipe.
        recipe: String,
    },
    /// Record the canonical deployments a host keeps (a JSON array of its records), in place
    /// of those the store had for it.
    SetCanonicals {
        /// The host.
        #[arg(long)]
        host: String,
        /// The records.
        file: PathBuf,
    },
    /// Record a sweep (`cargo ccci sweep` writes the file) and print its drift report.
    RecordSweep {
        /// The sweep.
        file: PathBuf,
    },
    /// Take this host's run journal into the store; with RUN, say whether that run is
    /// recorded.
    TakeIn {
        /// A run's id.
        run: Option<String>,
    },
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().collect();
    // `cargo ccci history …` hands its arguments on as they were, `ccci` first.
    if args.get(1).map(String::as_str) == Some("ccci") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    let store = &cli.store;
    let result = match cli.command {
        Cmd::History {
            recipe,
            lane,
            reference,
            limit,
            json,
        } => commands::history(store, recipe, lane, reference, limit, json),
        Cmd::Import { dirs } => commands::import(store, &dirs),
        Cmd::Compare { a, b } => commands::compare(store, &a, &b),
        Cmd::Dashboard { listen } => commands::dashboard(store, &listen),
        Cmd::TakeIn { run } => commands::take_in(store, run.as_deref()),
        Cmd::KnownGood { recipe } => fleet::known_good(store, &recipe),
        Cmd::SetCanonicals { host, file } => fleet::set_canonicals(store, &host, &file),
        Cmd::RecordSweep { file } => fleet::record_sweep(store, &file),
        Cmd::Serve {
            config,
            log_format,
            verbose,
        } => {
            serve::log::init(log_format, verbose);
            commands::serve(store, &config)
        }
        Cmd::PostReport(a) => post::post(a),
        Cmd::Forge { cmd } => {
            serve::log::init(serve::log::Format::Plain, 0);
            forge::cli::run(cmd)
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("cargo ccci: {e}");
        ExitCode::from(2)
    })
}
