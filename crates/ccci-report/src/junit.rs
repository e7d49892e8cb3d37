//! The run as JUnit XML, for CI systems that show test results.

use ccci_core::ladder::{Rung, RungOutcome, TestStatus};
use ccci_core::Results;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// The run as JUnit XML: one test suite per rung, one test case per step; a failure carries
/// its message and where its forensics are, a step that could not run is a failure (it makes
/// the run red), a declared skip or a step not run is skipped with why.
pub fn junit(results: &Results) -> Result<String, String> {
    let mut report = Report::new(format!("ccci {}", results.recipe));
    for rung in Rung::ALL {
        let mut suite = TestSuite::new(rung.as_str());
        for t in results.tests.iter().filter(|t| t.rung == rung) {
            let status = match &t.status {
                TestStatus::Pass => TestCaseStatus::success(),
                TestStatus::Fail { message } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(message.as_str());
                    if let Some(f) = &t.forensics {
                        s.set_description(format!("{message}\ntask history and logs: {f}"));
                    }
                    s
                }
                TestStatus::CannotRun { reason } => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(format!("cannot run: {reason}"));
                    s.set_type("cannot_run");
                    s
                }
                TestStatus::Skipped { reason } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("declared not applicable: {reason}"));
                    s
                }
                TestStatus::NotRun { reason } => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!("not run: {reason}"));
                    s
                }
                TestStatus::Filtered => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message("not selected by the test filter");
                    s
                }
            };
            let mut case = TestCase::new(t.name.as_str(), status);
            case.set_classname(format!("{}.{}", results.recipe, rung.as_str()));
            case.set_time(Duration::from_millis(t.duration_ms));
            suite.add_test_case(case);
        }
        // A rung with no steps (no functional tests, say) is still a verdict: one case.
        if suite.test_cases.is_empty() {
            if let Some(outcome) = results.rungs.get(&rung) {
                let status = match outcome {
                    RungOutcome::Pass => TestCaseStatus::success(),
                    RungOutcome::Skipped {
                        reason,
                        intentional: true,
                    } => {
                        let mut s = TestCaseStatus::skipped();
                        s.set_message(format!("declared not applicable: {reason}"));
                        s
                    }
                    RungOutcome::Skipped { reason, .. } => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(format!("not declared, so not a pass: {reason}"));
                        s.set_type("undeclared_skip");
                        s
                    }
                    other => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(other.label());
                        s
                    }
                };
                let mut case = TestCase::new(rung.as_str(), status);
                case.set_classname(format!("{}.{}", results.recipe, rung.as_str()));
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .map_err(|e| format!("cannot write JUnit XML: {e}"))
}
