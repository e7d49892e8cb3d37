//! The commands of the run store: `history`, `import`, `compare`, `dashboard` and `take-in`.
//! Every one takes in this host's run journal first, so a run a bare `cargo test` made is
//! there too.

use crate::print_out;
use ccci_core::journal::Entry;
use ccci_core::results::Lane;
use ccci_store::{HistoryQuery, Location, RunRow, State, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Which store, and which journal to take in first.
#[derive(clap::Args, Clone, Default)]
pub struct StoreArgs {
    /// The run store: a SQLite file (or sqlite:///path) or a postgres://user:password@host/db
    /// URL; default runs.db in ccci's state directory ($XDG_STATE_HOME/ccci).
    #[arg(long, value_name = "URL", global = true, env = ccci_core::vars::DATABASE)]
    pub database: Option<String>,
    /// This host's run journal, taken in first (`off` for none); default journal/ in ccci's
    /// state directory.
    #[arg(long, value_name = "DIR", global = true, env = ccci_core::vars::JOURNAL_DIR)]
    pub journal: Option<String>,
}

/// The store and this host's journal, opened and taken in.
struct Opened {
    store: Store,
    journal: Option<PathBuf>,
}

/// Where the store is, as `args` and the environment say.
fn location(args: &StoreArgs) -> Result<Location, String> {
    let text = args
        .database
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            ccci_core::host::StateDir::of_host()
                .store()
                .display()
                .to_string()
        });
    text.parse()
        .map_err(|e: ccci_store::StoreError| e.to_string())
}

/// The journal to take in, as `args` and the environment say (`None`: off).
fn journal(args: &StoreArgs) -> Option<PathBuf> {
    match args.journal.as_deref().filter(|v| !v.is_empty()) {
        Some("off") => None,
        Some(dir) => Some(dir.into()),
        None => Some(ccci_core::host::StateDir::of_host().journal()),
    }
}

/// Whether a journal entry's process still lives on this host.
fn alive(e: &Entry) -> bool {
    ccci_core::host::process_alive(e.pid, e.pid_start)
}

fn open(args: &StoreArgs) -> Result<Opened, String> {
    let store = Store::open(&location(args)?).map_err(|e| e.to_string())?;
    let journal = journal(args);
    if let Some(dir) = &journal {
        let taken = store.take_in(dir, &alive).map_err(|e| e.to_string())?;
        for u in &taken.unreadable {
            eprintln!(
                "ccci-service: the run journal holds what is not a run's entry, left alone: {u}"
            );
        }
        if let Some((_, schema)) = taken.newer.first() {
            eprintln!(
                "ccci-service: {} run(s) in the run journal were written by a newer ccci ({schema}): they stay there until a ccci that reads them takes them in (upgrade ccci-service)",
                taken.newer.len()
            );
        }
    }
    Ok(Opened { store, journal })
}

/// The store, with this host's journal taken in.
pub fn open_store(args: &StoreArgs) -> Result<Store, String> {
    Ok(open(args)?.store)
}

/// `serve --config FILE`.
pub fn serve(args: &StoreArgs, config: &std::path::Path) -> Result<ExitCode, String> {
    let config = crate::serve::config::Config::read(config)?;
    let mut args = args.clone();
    if config.database.is_some() {
        args.database.clone_from(&config.database);
    }
    let location = location(&args)?;
    let store = Store::open(&location).map_err(|e| e.to_string())?;
    let database = match &location {
        // The runs are handed this path; they work in directories of their own.
        Location::Sqlite(p) => std::path::absolute(p)
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
        Location::Postgres(url) => url.clone(),
    };
    crate::serve::serve(config, store, database, journal(&args))?;
    Ok(ExitCode::SUCCESS)
}

/// `take-in`: takes the journal in and, given a run, says whether that run is recorded (what
/// `cargo ccci run` says after a run). Exit 1 when the store cannot be reached.
pub fn take_in(args: &StoreArgs, run_id: Option<&str>) -> Result<ExitCode, String> {
    let o = open(args)?;
    let Some(run_id) = run_id else {
        return Ok(ExitCode::SUCCESS);
    };
    match o.store.run(run_id).map_err(|e| e.to_string())? {
        Some(_) => say!(
            "in the run store {} (cargo ccci history, cargo ccci dashboard)",
            o.store.location()
        ),
        None => say!(
            "not in the run store {}: the run noted itself in no journal ({})",
            o.store.location(),
            o.journal
                .map_or("the journal is off".into(), |j| j.display().to_string())
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `history`.
pub fn history(
    args: &StoreArgs,
    recipe: Option<String>,
    lane: Option<Lane>,
    reference: Option<String>,
    limit: u32,
    json: bool,
) -> Result<ExitCode, String> {
    let o = open(args)?;
    let q = HistoryQuery {
        recipe,
        lane,
        reference,
        limit: Some(limit),
    };
    let runs = o.store.history(&q).map_err(|e| e.to_string())?;
    if json {
        let list: Vec<serde_json::Value> = runs.iter().map(row_json).collect();
        print_out(&serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?);
        return Ok(ExitCode::SUCCESS);
    }
    if runs.is_empty() {
        say!("no runs in the run store {} yet", o.store.location());
        return Ok(ExitCode::SUCCESS);
    }
    say!(
        "{:<17} {:<16} {:<14} {:<8} {:<6} {:<9} {:<5} {:<16} run",
        "started (UTC)",
        "recipe",
        "ref",
        "commit",
        "level",
        "verdict",
        "lane",
        "ccci"
    );
    for r in &runs {
        let (level, verdict) = outcome(r);
        say!(
            "{:<17} {:<16} {:<14} {:<8} {:<6} {:<9} {:<5} {:<16} {}",
            when(r.started_at),
            r.recipe,
            r.reference.as_deref().unwrap_or(""),
            ccci_core::short_commit(r.commit.as_deref().unwrap_or("")),
            level,
            verdict,
            r.lane.as_str(),
            format!(
                "{} {}",
                r.ccci_version.as_deref().unwrap_or("?"),
                ccci_core::short_commit(r.ccci_commit.as_deref().unwrap_or(""))
            ),
            r.run_id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The level and verdict columns of a run: `L4 GREEN`, or where it stands.
fn outcome(r: &RunRow) -> (String, &'static str) {
    match (r.state, r.level, r.green) {
        (State::Finished, _, _) if r.bad_input.is_some() => ("-".into(), "BAD INPUT"),
        (State::Finished, Some(l), Some(true)) => (format!("L{l}"), "GREEN"),
        (State::Finished, Some(l), _) => (format!("L{l}"), "RED"),
        (State::Running, ..) => ("-".into(), "running"),
        _ => ("-".into(), "lost"),
    }
}

fn when(secs: i64) -> String {
    let t = ccci_core::time::rfc3339(secs.max(0) as u64);
    format!("{} {}", &t[..10], &t[11..16])
}

fn row_json(r: &RunRow) -> serde_json::Value {
    serde_json::json!({
        "run_id": r.run_id,
        "recipe": r.recipe,
        "started_at": ccci_core::time::rfc3339(r.started_at.max(0) as u64),
        "ref": r.reference,
        "commit": r.commit,
        "version": r.version,
        "state": r.state.as_str(),
        "level": r.level,
        "verdict": r.green.map(|g| if g { "green" } else { "red" }),
        "bad_input": r.bad_input,
        "partial": r.partial,
        "lane": r.lane.as_str(),
        "host": r.host,
        "ccci_version": r.ccci_version,
        "ccci_commit": r.ccci_commit,
        "results_schema": r.results_schema,
        "duration_secs": r.duration_secs,
        "run_dir": r.run_dir,
        "reason": r.reason,
    })
}

/// `import DIR…`.
pub fn import(args: &StoreArgs, dirs: &[PathBuf]) -> Result<ExitCode, String> {
    let o = open(args)?;
    let (mut recorded, mut skipped) = (Vec::new(), Vec::new());
    for dir in dirs {
        if !dir.is_dir() {
            return Err(format!(
                "{}: not a directory (give run directories, or a directory of them)",
                dir.display()
            ));
        }
        let i = o.store.import(dir).map_err(|e| e.to_string())?;
        recorded.extend(i.recorded);
        skipped.extend(i.skipped);
    }
    let mut by_schema: std::collections::BTreeMap<&str, usize> = Default::default();
    for (_, schema) in &recorded {
        *by_schema.entry(schema.as_str()).or_default() += 1;
    }
    let schemas: Vec<String> = by_schema
        .iter()
        .map(|(s, n)| format!("{n} of {s}"))
        .collect();
    for s in &skipped {
        say!("  skipped: {s}");
    }
    say!(
        "cargo ccci import: recorded {} run{} in {} ({}){}",
        recorded.len(),
        if recorded.len() == 1 { "" } else { "s" },
        o.store.location(),
        if schemas.is_empty() {
            "none".into()
        } else {
            schemas.join(", ")
        },
        match skipped.len() {
            0 => String::new(),
            n => format!("; skipped {n} (above)"),
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `compare A B`.
pub fn compare(args: &StoreArgs, a: &str, b: &str) -> Result<ExitCode, String> {
    let o = open(args)?;
    let finished = |id: &str| -> Result<ccci_core::Results, String> {
        let id = o.store.resolve(id).map_err(|e| e.to_string())?;
        let run = o
            .store
            .run(&id)
            .map_err(|e| e.to_string())?
            .ok_or(format!("no run {id}"))?;
        run.results.ok_or(format!(
            "run {id} has no results ({}): only finished runs compare",
            run.row.state.as_str()
        ))
    };
    let (ra, rb) = (finished(a)?, finished(b)?);
    print_out(&ccci_report::compare_text(&ra, &rb));
    Ok(ExitCode::SUCCESS)
}

/// How often the dashboard takes the journal in: a run started on this host shows within it.
const TAKE_IN_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// `dashboard`.
pub fn dashboard(args: &StoreArgs, listen: &str) -> Result<ExitCode, String> {
    let o = open(args)?;
    let store = Arc::new(o.store);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
            format!("cannot listen on {listen}: {e} (say another with --listen ADDR:PORT)")
        })?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        say!(
            "cargo ccci dashboard: the run store {} at http://{addr}/ (Ctrl-C stops)",
            store.location()
        );
        if let Some(journal) = o.journal {
            let store = store.clone();
            tokio::spawn(async move {
                let mut said = false;
                loop {
                    tokio::time::sleep(TAKE_IN_EVERY).await;
                    let j = journal.clone();
                    match ccci_store::on_thread(&store, move |s| s.take_in(&j, &alive)).await {
                        Err(e) if !said => {
                            eprintln!(
                                "ccci-service dashboard: cannot take in the run journal: {e}"
                            );
                            said = true;
                        }
                        Ok(_) => said = false,
                        Err(_) => {}
                    }
                }
            });
        }
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        ccci_web::serve(listener, ccci_web::Dashboard::new(store), stop)
            .await
            .map_err(|e| format!("the dashboard stopped: {e}"))
    })?;
    Ok(ExitCode::SUCCESS)
}
