//! The test binary's `main`: a libtest-mimic runner that speaks libtest's and nextest's
//! command line. Listing (`--list`, `--list --ignored`) reads only `ccci.yml` (steps of rungs
//! it declares not applicable are *ignored* trials), so it is cheap and agrees with a run.
//! Running executes the plan in order on one deployed app, always tears down, and writes
//! results.json.

use crate::nextest::{Outcome, Role, Share};
use crate::plan::{plan, Hooks};
use crate::run::{Report, Run};
use crate::settings::{load_meta, Settings};
use ccci_core::ladder::Rung;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

/// The `main` of a recipe test binary ([`crate::main!`]): the crate's settings with the
/// environment (ccci_core::vars) applied (a bad value is refused in one line, exit 2), then
/// [`run_main`].
pub fn run_test_crate(manifest_dir: &str, target_tmpdir: &str) -> ExitCode {
    match Settings::for_test_crate(manifest_dir, target_tmpdir) {
        Ok(settings) => run_main(settings),
        Err(e) => {
            eprintln!("ccci: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs a recipe's test binary; see [`crate::main!`].
pub fn run_main(settings: Settings) -> ExitCode {
    crate::diagnostics::init();
    let args = Arguments::from_args();
    let hooks = Hooks::registered();
    let meta = match load_meta(&settings.crate_dir) {
        Ok(m) => m,
        Err(e) if args.list => {
            // Listing never fails on settings: the run reports them.
            eprintln!("ccci: {e}");
            let trials = plan(&hooks, &Default::default(), settings.lane)
                .into_iter()
                .map(|s| Trial::test(s.name, || Ok(())))
                .chain(std::iter::once(Trial::test(VERDICT, || Ok(()))))
                .collect();
            return libtest_mimic::run(&args, trials).exit_code();
        }
        Err(e) => {
            eprintln!("ccci: {e}");
            return ExitCode::from(2);
        }
    };
    if settings.canonical == Some(crate::settings::CanonicalAsk::Establish) {
        return establish(settings, hooks);
    }
    if args.list {
        let trials = plan(&hooks, &meta.expected_na, settings.lane)
            .into_iter()
            .map(|s| Trial::test(s.name, || Ok(())).with_ignored_flag(s.not_applicable.is_some()))
            .chain(std::iter::once(Trial::test(VERDICT, || Ok(()))))
            .collect();
        return libtest_mimic::run(&args, trials).exit_code();
    }
    // Under nextest every test is a process of its own: one leads the lifecycle, the others
    // follow it (see crate::nextest).
    let test = args.filter.clone().unwrap_or_default();
    let lead = match crate::nextest::join(&settings.runs_dir, &meta.recipe, &test) {
        None => None,
        Some(Ok(Role::Leads(share))) => Some(share),
        Some(Ok(Role::Follows(share))) => {
            return follow(&args, &hooks, &meta, settings.lane, &share)
        }
        Some(Err(e)) => {
            eprintln!("ccci: {e}");
            return ExitCode::from(2);
        }
    };
    let code = run_here(args, settings, hooks, lead.as_ref());
    if let Some(share) = lead {
        share.done();
    }
    code
}

/// The name of the last trial of every run: it passes only when the run's verdict is green,
/// so a red verdict fails `cargo test` and `cargo nextest run` even when every step passed
/// (an unverified restore, an undeclared skip, a teardown leftover), and says why in
/// libtest's own output and JUnit.
pub(crate) const VERDICT: &str = "verdict";

/// Runs the lifecycle in this process: the steps as libtest trials, then the verdict; or,
/// leading a nextest run, all of them first (publishing each outcome and the verdict) and
/// then the trials from their outcomes.
fn run_here(
    mut args: Arguments,
    settings: Settings,
    hooks: Hooks,
    lead: Option<&Share>,
) -> ExitCode {
    let run = match start(settings, hooks) {
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
    let concluded: Arc<OnceLock<Report>> = Arc::default();
    let published = lead.map(|share| {
        let mut outcomes = run_and_publish(&run, share);
        let report = conclude(&run);
        outcomes.insert(VERDICT.into(), verdict_outcome(&report));
        share.publish(&outcomes);
        let _ = concluded.set(report);
        Arc::new(outcomes)
    });
    let trials = trials(&run, published.as_ref(), &concluded);
    let conclusion = libtest_mimic::run(&args, trials);
    let whole = concluded.get().is_some();
    let report = match concluded.get() {
        Some(report) => report.clone(),
        None => conclude(&run),
    };
    print_summary(&report, whole);
    if report.interrupted {
        return ExitCode::from(130);
    }
    if report.results.bad_input.is_some() {
        return ExitCode::from(2);
    }
    match report.results.teardown.clean {
        true => conclusion.exit_code(),
        false => ExitCode::FAILURE,
    }
}

/// The run's settings completed and checked: the runs directory writable, the recipe
/// repository's own ccci.yml beneath the crate's (listing reads only the crate's: it must
/// stay cheap).
fn start(settings: Settings, hooks: Hooks) -> Result<Run, crate::HarnessError> {
    crate::run_dir::writable(&settings.runs_dir)?;
    let layers = crate::settings::crate_layers(&settings.crate_dir)?;
    let meta = crate::repo::with_recipe_layer(&settings, layers, &settings.runs_dir)?;
    Run::new(settings, meta, hooks)
}

/// `canonical up` of a release a green cold run already proved: no ladder and no results,
/// the canonical made or promoted at the ref, said in a line. Exit status: 0 known-good, 1
/// not, 2 could not start.
fn establish(mut settings: Settings, hooks: Hooks) -> ExitCode {
    // Not a run of the recipe: nothing for the run store.
    settings.journal_dir = None;
    let run = match start(settings, hooks) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ccci: {e}");
            return ExitCode::from(2);
        }
    };
    match run.establish_canonical() {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(o)) if o.known_good => ExitCode::SUCCESS,
        Ok(Some(o)) => {
            eprintln!(
                "ccci: the canonical {} is not known-good: {}",
                o.stack,
                o.problem.unwrap_or_default()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("ccci: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}

/// A trial per step, then the `verdict` trial: each runs its step here, or, when this
/// process led a nextest run, reports the outcome it published.
fn trials(
    run: &Arc<Run>,
    published: Option<&Arc<BTreeMap<String, Outcome>>>,
    concluded: &Arc<OnceLock<Report>>,
) -> Vec<Trial> {
    let mut trials: Vec<Trial> = run
        .steps()
        .iter()
        .cloned()
        .map(|step| {
            let r = run.clone();
            let published = published.cloned();
            let ignored = step.not_applicable.is_some();
            Trial::test(step.name.clone(), move || {
                match (&step.not_applicable, published) {
                    // Only reached with --ignored/--include-ignored: a declared skip cannot pass.
                    (Some(reason), _) => Err(Failed::from(cannot_run(step.rung, reason))),
                    (None, Some(p)) => trial_result(p.get(&step.name).cloned(), Some(step.rung)),
                    (None, None) => r.execute(&step).map_err(Failed::from),
                }
            })
            .with_ignored_flag(ignored)
        })
        .collect();
    trials.push({
        let (r, concluded, published) = (run.clone(), concluded.clone(), published.cloned());
        Trial::test(VERDICT, move || match published {
            Some(p) => trial_result(p.get(VERDICT).cloned(), None),
            None => {
                // Selected alone, the verdict needs the whole ladder: run what has not run.
                for step in r.steps() {
                    if !r.has_run(step) && step.not_applicable.is_none() {
                        let _ = r.execute_said(step);
                    }
                }
                let report = concluded.get_or_init(|| conclude(&r));
                trial_result(Some(verdict_outcome(report)), None)
            }
        })
    });

    trials
}

/// The summary, and a note when the test filter left the verdict out.
fn print_summary(report: &Report, whole: bool) {
    // A closed stdout (`| head`) loses the summary, not the run's exit status.
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "\n{}",
        crate::report::summary_styled(
            &report.results,
            &report.path,
            crate::report::colour_stdout()
        )
    );
    if !whole {
        let _ = writeln!(
            out,
            "  note:           the test filter left the `{VERDICT}` trial out: this exit status follows the selected tests, and the verdict covers only part of the ladder"
        );
    }
}

/// Records the declared skips libtest did not execute, tears down and writes results.json.
fn conclude(run: &Run) -> Report {
    for step in run.steps().iter().filter(|s| s.not_applicable.is_some()) {
        run.execute_declared_skip(step);
    }
    run.finish()
}

/// The verdict as a trial's outcome: green passes; red fails with the level and every reason.
fn verdict_outcome(report: &Report) -> Outcome {
    let r = &report.results;
    if let Some(e) = &r.bad_input {
        return Outcome::Failed(format!("could not run: bad input: {e}"));
    }
    match r.verdict {
        ccci_core::Verdict::Green => Outcome::Passed,
        ccci_core::Verdict::Red => Outcome::Failed(format!(
            "verdict RED at level {}: {}",
            r.level,
            match r.verdict_reasons.is_empty() {
                true => "no reason was recorded".to_string(),
                false => r.verdict_reasons.join("; "),
            }
        )),
    }
}

/// Leading a nextest run: every step in order, each outcome published as it ends.
fn run_and_publish(run: &Run, share: &Share) -> BTreeMap<String, Outcome> {
    let mut outcomes = BTreeMap::new();
    for step in run.steps() {
        let outcome = match (run.execute_said(step), &step.not_applicable) {
            (Ok(()), Some(reason)) => Outcome::Skipped(reason.clone()),
            (Ok(()), None) => Outcome::Passed,
            (Err(e), _) => Outcome::Failed(e),
        };
        outcomes.insert(step.name.clone(), outcome);
        share.publish(&outcomes);
    }
    outcomes
}

/// Following a nextest run: the trials wait for the leader's outcomes.
fn follow(
    args: &Arguments,
    hooks: &Hooks,
    meta: &ccci_core::RecipeMeta,
    lane: ccci_core::results::Lane,
    share: &Share,
) -> ExitCode {
    let steps = plan(hooks, &meta.expected_na, lane);
    // The most the leader's whole lifecycle may take: its every budget, end to end.
    let budget = crate::budget::PROBE
        + crate::budget::JANITOR
        + meta.deploy_timeout * 4
        + meta.test_timeout * steps.len() as u32
        + crate::budget::TEARDOWN
        // and a stop grace period as long as any recipe sets.
        + std::time::Duration::from_secs(600);
    let verdict = {
        let share = share.clone();
        Trial::test(VERDICT, move || {
            trial_result(Some(share.wait_for(VERDICT, budget)), None)
        })
    };
    let trials = steps
        .into_iter()
        .map(|step| {
            let ignored = step.not_applicable.is_some();
            let (name, share) = (step.name.clone(), share.clone());
            Trial::test(step.name, move || {
                trial_result(Some(share.wait_for(&name, budget)), Some(step.rung))
            })
            .with_ignored_flag(ignored)
        })
        .chain(std::iter::once(verdict))
        .collect();
    libtest_mimic::run(args, trials).exit_code()
}

fn cannot_run(rung: Rung, reason: &str) -> String {
    format!("cannot run: ccci.yml declares {rung} not applicable: {reason}")
}

/// A published outcome as libtest's result: a step's (of `rung`), or the verdict's (no
/// rung: it is never skipped). A declared skip is not a pass.
fn trial_result(outcome: Option<Outcome>, rung: Option<Rung>) -> Result<(), Failed> {
    match (outcome, rung) {
        (Some(Outcome::Passed), _) => Ok(()),
        (Some(Outcome::Failed(e)), _) => Err(Failed::from(e)),
        (Some(Outcome::Skipped(reason)), Some(rung)) => {
            Err(Failed::from(cannot_run(rung, &reason)))
        }
        (Some(Outcome::Skipped(reason)), None) => Err(Failed::from(format!(
            "the verdict was skipped ({reason}), and a skipped verdict is not a pass"
        ))),
        (None, _) => Err(Failed::from("the step did not run")),
    }
}
