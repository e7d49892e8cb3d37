//! The card, the comment and the JUnit XML of one red run (a fixture results.json).

use ccci_core::ladder::Rung;
use ccci_core::Results;
use ccci_report::{card_svg, junit, markdown};

fn sample() -> Results {
    let text = include_str!("fixtures/results.json");
    serde_json::from_str(text).expect("the fixture is a results.json")
}

#[test]
fn junit_has_a_suite_per_rung_and_a_case_per_step() {
    let r = sample();
    let xml = junit(&r).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 4, "{xml}");
    let stepless = Rung::ALL
        .iter()
        .filter(|rung| !r.tests.iter().any(|t| t.rung == **rung))
        .count();
    assert_eq!(
        xml.matches("<testcase ").count(),
        r.tests.len() + stepless,
        "a case per step, and one per rung without steps: {xml}"
    );
    assert!(xml.contains("<failure"), "{xml}");
    assert!(xml.contains("<skipped"), "{xml}");
}

#[test]
fn the_comment_has_the_verdict_the_rungs_and_the_reasons() {
    let md = markdown(&sample(), None);
    assert!(md.starts_with("### ❌ ccci: "), "{md}");
    assert!(md.contains("| install | ✅ pass |"), "{md}");
    assert!(md.contains("**Why it is red**"), "{md}");
    assert!(
        !md.contains(&sample().run_dir),
        "no machine path in a comment: {md}"
    );
    assert!(md.contains("results `results.json`"), "{md}");
    let linked = markdown(&sample(), Some("https://ci.example/runs/7/"));
    assert!(
        linked.contains("[junit.xml](https://ci.example/runs/7/junit.xml)"),
        "{linked}"
    );
}

#[test]
fn a_refused_run_says_its_one_error_once_and_no_ladder() {
    let mut r = sample();
    r.facts.bad_input = Some("compose.yml line 3: not valid YAML: fix it".into());
    let md = markdown(&r, None);
    assert!(md.starts_with("### ⛔"), "{md}");
    assert_eq!(md.matches("not valid YAML").count(), 1, "{md}");
    assert!(!md.contains("| rung |"), "{md}");
    assert!(card_svg(&r).contains("BAD INPUT"));
}

#[test]
fn a_red_the_host_caused_says_it_is_not_the_recipes_failure() {
    let mut r = sample();
    let md = markdown(&r, None);
    assert!(!md.contains("Not the recipe's failure"), "{md}");
    r.cause = Some(ccci_core::Cause::Host {
        lacked: "the registry of 127.0.0.1:5999/app:1 could not be reached".into(),
    });
    let md = markdown(&r, None);
    assert!(
        md.contains("**Not the recipe's failure:** the host failed this run (the registry of 127.0.0.1:5999/app:1 could not be reached)"),
        "{md}"
    );
}

/// Two runs side by side: the rung that broke is marked, and what changed between them is
/// named (the world, the recipe, ccci, the settings).
#[test]
fn a_comparison_marks_the_broken_rung_and_names_what_changed() {
    use ccci_report::{compare, Cause};
    use ccci_testkit::sample_results;
    let green = sample_results("a", "custom-html", "HEAD", 1_795_305_600, true);
    let red = sample_results("b", "custom-html", "HEAD", 1_795_305_600, false);
    let c = compare(&green, &red);
    let changed: Vec<&str> = c
        .rungs
        .iter()
        .filter(|r| r.changed())
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(changed, ["functional"]);
    assert!(c
        .steps
        .iter()
        .any(|s| s.changed() && s.name == "functional::front_page"));
    assert_eq!(
        c.cause,
        Cause::World,
        "same commit, same ccci, same settings"
    );
    let later = sample_results("c", "custom-html", "HEAD", 1_795_309_999, false);
    assert_eq!(
        compare(&green, &later).cause,
        Cause::Recipe,
        "another commit"
    );
    let mut other = serde_json::to_value(&red).unwrap();
    other["manifest"] = serde_json::json!(["setting health_path = /nope"]);
    let other: Results = serde_json::from_value(other).unwrap();
    let c = compare(&green, &other);
    assert_eq!(c.cause, Cause::Settings);
    assert_eq!(c.settings.1, ["setting health_path = /nope"]);
    let mut old = serde_json::to_value(&red).unwrap();
    old["ccci"] = serde_json::Value::Null;
    let old: Results = serde_json::from_value(old).unwrap();
    assert_eq!(compare(&green, &old).cause, Cause::Unknown);
    let text = ccci_report::compare_text(&green, &red);
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("≠ functional ")),
        "{text}"
    );
}

#[test]
fn a_quick_run_says_it_is_not_a_cold_level_in_its_comment_and_card() {
    use ccci_core::canonical::{CanonicalAction, CanonicalOutcome, UpgradePath};
    let mut r = ccci_testkit::sample_results("q", "notebook", "HEAD", 1_795_305_600, false);
    r.facts.lane = ccci_core::results::Lane::Quick;
    r.facts.canonical = Some(CanonicalOutcome {
        action: CanonicalAction::Quick,
        domain: "canonical-notebook.ccci.test".into(),
        stack: "canonical-notebook_ccci_test".into(),
        version: "1.1.0+2.0".into(),
        untrusted: Some("its data marker is gone".into()),
        restored: true,
        known_good: true,
        proof: "check marker_is_back".into(),
        problem: None,
    });
    let path = |from: &str, error: Option<&str>| UpgradePath {
        from: from.into(),
        stack: "s".into(),
        passed: error.is_none(),
        error: error.map(str::to_string),
        forensics: None,
        duration_secs: 1.0,
    };
    r.facts.upgrade_paths = vec![path("1.1.0+1", None), path("1.0.0+1", Some("it crashed"))];
    let comment = ccci_report::markdown(&r, None);
    for said in [
        "in the **quick lane**",
        "this is not a cold run's level",
        "back at known-good 1.1.0+2.0, its known-good snapshot restored",
        "It was not trusted when found (its data marker is gone)",
        "- upgrade from **1.0.0+1**: ❌ failed: it crashed",
    ] {
        assert!(comment.contains(said), "{said}\n{comment}");
    }
    assert!(ccci_report::card_svg(&r).contains("QUICK LANE, not a cold level"));
}
