//! The test binary's `main`: a libtest-mimic runner that speaks libtest's and nextest's
//! command line. Listing (`--list`, `--list --ignored`) reads only `ccci.yml` (steps of rungs
//! it declares not applicable are *ignored* trials), so it is cheap and agrees with a run.
//! Running executes the plan in order on one deployed app, always tears down, and writes
//! results.json.

use crate::plan::{plan, Hooks};
use crate::run::{load_meta, Run, Settings};
use libtest_mimic::{Arguments, Failed, Trial};
use std::process::ExitCode;
use std::sync::Arc;

/// Runs a recipe's test binary; see [`crate::main!`].
pub fn run_main(settings: Settings) -> ExitCode {
    let mut args = Arguments::from_args();
    let hooks = Hooks::registered();
    let meta = match load_meta(&settings.crate_dir) {
        Ok(m) => m,
        Err(e) if args.list => {
            // Listing never fails on settings: the run reports them.
            eprintln!("ccci: {e}");
            let trials = plan(&hooks, &Default::default())
                .into_iter()
                .map(|s| Trial::test(s.name, || Ok(())))
                .collect();
            return libtest_mimic::run(&args, trials).exit_code();
        }
        Err(e) => {
            eprintln!("ccci: {e}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        let trials = plan(&hooks, &meta.expected_na)
            .into_iter()
            .map(|s| Trial::test(s.name, || Ok(())).with_ignored_flag(s.not_applicable.is_some()))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    // The recipe repository's own ccci.yml lies beneath the crate's (listing, above, reads
    // only the crate's: it must stay cheap).
    let meta = match crate::repo::with_recipe_layer(&settings, meta) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("ccci: {e}");
            return ExitCode::from(2);
        }
    };
    let run = match Run::new(settings, meta, hooks) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            eprintln!("ccci: {e}");
            return ExitCode::from(2);
        }
    };
    // Tiers are ordered and share one deployed app.
    args.test_threads = Some(1);
    tear_down_on_interrupt(run.clone());
    let trials = run
        .steps()
        .iter()
        .cloned()
        .map(|step| {
            let r = run.clone();
            let ignored = step.not_applicable.is_some();
            Trial::test(step.name.clone(), move || match &step.not_applicable {
                // Only reached with --ignored/--include-ignored: a declared skip cannot pass.
                Some(reason) => Err(Failed::from(format!(
                    "cannot run: ccci.yml declares {} not applicable: {reason}",
                    step.rung
                ))),
                None => r.execute(&step).map_err(Failed::from),
            })
            .with_ignored_flag(ignored)
        })
        .collect();

    let conclusion = libtest_mimic::run(&args, trials);
    // Declared skips were not executed by libtest; record them as such.
    for step in run.steps().iter().filter(|s| s.not_applicable.is_some()) {
        let _ = run.execute_declared_skip(step);
    }
    let mut code = conclusion.exit_code();
    if let Some(report) = run.finish() {
        println!(
            "\n{}",
            crate::report::summary(&report.results, &report.path)
        );
        if !report.results.teardown.clean {
            code = ExitCode::FAILURE;
        }
    }
    code
}

/// Ctrl-C or SIGTERM in the middle of a run must not leave the app deployed: tear it down,
/// write results.json (the interrupted steps are recorded as not selected), and exit 130.
///
/// The signals are awaited on a thread with a runtime of its own, and teardown runs there
/// outside any runtime: blocking one of the run's workers on it could starve the very
/// teardown it waits for.
fn tear_down_on_interrupt(run: Arc<Run>) {
    std::thread::spawn(move || {
        let watched = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .and_then(|rt| {
                rt.block_on(async {
                    let mut term =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
                    tokio::select! {
                        r = tokio::signal::ctrl_c() => r,
                        _ = term.recv() => Ok(()),
                    }
                })
            });
        if let Err(e) = watched {
            eprintln!("ccci: cannot watch for Ctrl-C/SIGTERM ({e}); an interrupted run may leave its stack behind");
            return;
        }
        eprintln!("\nccci: interrupted; tearing down before exiting");
        run.interrupted
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(report) = run.finish() {
            eprintln!("{}", crate::report::summary(&report.results, &report.path));
        }
        std::process::exit(130);
    });
}
