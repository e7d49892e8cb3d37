//! The test binary's `main`: a libtest-mimic runner that speaks libtest's and nextest's
//! command line. Listing (`--list`, `--list --ignored`) reads only `ccci.yml` (steps of rungs
//! it declares not applicable are *ignored* trials), so it is cheap and agrees with a run.
//! Running executes the plan in order on one deployed app, always tears down, and writes
//! results.json.

use crate::plan::{plan, Hooks};
use crate::run::Run;
use crate::settings::{load_meta, Settings};
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
    run.watch_signals();
    run.reap_killed_runs();
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
        run.execute_declared_skip(step);
    }
    let report = run.finish();
    println!(
        "\n{}",
        crate::report::summary_styled(
            &report.results,
            &report.path,
            crate::report::colour_stdout()
        )
    );
    if report.interrupted {
        return ExitCode::from(130);
    }
    match report.results.teardown.clean {
        true => conclusion.exit_code(),
        false => ExitCode::FAILURE,
    }
}
