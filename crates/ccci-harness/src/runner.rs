//! The test binary's `main`: a libtest-mimic runner that speaks libtest's and nextest's
//! command line. Listing (`--list`, `--list --ignored`) touches nothing but this binary;
//! running deploys once, runs the generic install tier, then the recipe's tests in source
//! order, always tears down, and writes results.json.

use crate::__private::{TestDef, FUNCTIONAL};
use crate::run::{load_meta, Run, Settings};
use ccci_core::ladder::{Rung, TestStatus};
use libtest_mimic::{Arguments, Failed, Trial};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// The generic install check's test name.
pub const INSTALL_TEST: &str = "install::deploys_and_becomes_healthy";

/// Runs a recipe's test binary; see [`crate::main!`].
pub fn run_main(settings: Settings) -> ExitCode {
    let mut args = Arguments::from_args();
    let mut defs: Vec<&'static TestDef> = FUNCTIONAL.iter().collect();
    defs.sort_by_key(|d| (d.file, d.line));
    let names: Vec<(String, Rung)> = std::iter::once((INSTALL_TEST.to_string(), Rung::Install))
        .chain(
            defs.iter()
                .map(|d| (format!("functional::{}", d.name), Rung::Functional)),
        )
        .collect();

    if args.list {
        let trials = names
            .iter()
            .map(|(n, _)| Trial::test(n.clone(), || Ok(())))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    // Fail fast on a bad ccci.yml, before anything is deployed.
    if let Err(e) = load_meta(&settings.crate_dir) {
        eprintln!("ccci: {e}");
        return ExitCode::from(2);
    }
    let run = match Run::new(settings) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            eprintln!("ccci: {e}");
            return ExitCode::from(2);
        }
    };
    // Tiers are ordered and share one deployed app.
    args.test_threads = Some(1);

    let mut trials = Vec::new();
    let r = run.clone();
    trials.push(Trial::test(INSTALL_TEST, move || {
        let started = Instant::now();
        let outcome = r.ensure_installed();
        let status = match &outcome {
            Ok(_) => TestStatus::Pass,
            Err(m) => TestStatus::Fail { message: m.clone() },
        };
        r.record(INSTALL_TEST, Rung::Install, status, started.elapsed());
        outcome.map(|_| ()).map_err(Failed::from)
    }));
    for def in defs {
        let r = run.clone();
        let name = format!("functional::{}", def.name);
        trials.push(Trial::test(name.clone(), move || {
            let started = Instant::now();
            let fx = match r.ensure_installed() {
                Ok(fx) => fx,
                Err(m) => {
                    let reason = format!("install failed: {m}");
                    r.record(
                        &name,
                        Rung::Functional,
                        TestStatus::NotRun {
                            reason: reason.clone(),
                        },
                        started.elapsed(),
                    );
                    return Err(Failed::from(format!("not run: {reason}")));
                }
            };
            let result = r.run_test(def, &fx);
            let status = match &result {
                Ok(()) => TestStatus::Pass,
                Err(e) => TestStatus::Fail {
                    message: e.to_string(),
                },
            };
            r.record(&name, Rung::Functional, status, started.elapsed());
            result.map_err(|e| Failed::from(format!("{e} ({}:{})", def.file, def.line)))
        }));
    }

    let conclusion = libtest_mimic::run(&args, trials);
    let mut code = conclusion.exit_code();
    if let Some((results, path)) = run.finish(&names) {
        println!("\n{}", crate::report::summary(&results, &path));
        if !results.teardown.clean {
            code = ExitCode::FAILURE;
        }
    }
    code
}
