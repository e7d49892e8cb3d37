//! What a CI job gets from `cargo ccci run`: results.json, a JUnit file a JUnit consumer
//! parses (also copied where `--junit` says), and a Markdown comment, all named in the output.
//! Run on a real recipe repository (../shared/recipes/lemp.bundle) on the local Swarm.

mod common;

use quick_xml::events::Event;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn a_run_leaves_junit_a_comment_and_results_named_in_its_output() {
    let scratch =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reports-{}", std::process::id()));
    let junit_copy = scratch.join("out.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "run", "--recipe-git"])
        .arg(common::bundle("lemp"))
        .args(["--set", "health_ok=[200, 403]", "--junit"])
        .arg(&junit_copy)
        .env("CCCI_RUNS_DIR", scratch.join("runs"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "lemp is red (L1): {said}");
    let named = |label: &str| -> PathBuf {
        let line = said
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{said}"));
        PathBuf::from(line.split_once(':').unwrap().1.trim())
    };
    let junit = named("junit:");
    let comment = named("comment:");
    assert!(named("results:").is_file());
    for xml in [junit, junit_copy] {
        let text = std::fs::read_to_string(&xml).unwrap();
        let mut reader = quick_xml::Reader::from_str(&text);
        let (mut suites, mut cases, mut failures) = (0, 0, 0);
        loop {
            match reader
                .read_event()
                .unwrap_or_else(|e| panic!("{}: {e}", xml.display()))
            {
                Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                    b"testsuite" => suites += 1,
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(suites, 4, "a suite per rung: {text}");
        assert_eq!(
            cases, 5,
            "a case per generic step, one for the stepless functional rung: {text}"
        );
        assert_eq!(
            failures, 3,
            "upgrade and backup could not run, functional is an undeclared skip: {text}"
        );
    }
    // The card, as a PNG of 640×360 (its IHDR says so), and the app's screenshot.
    let card = std::fs::read(named("card:").to_str().unwrap().split(' ').next().unwrap()).unwrap();
    assert!(card.starts_with(b"\x89PNG"), "the card is a PNG");
    let size = |png: &[u8]| {
        let n = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
        (n(16), n(20))
    };
    assert_eq!(size(&card), (640, 360));
    let shot = std::fs::read(named("screenshot:")).unwrap();
    assert!(shot.starts_with(b"\x89PNG") && size(&shot) == (1280, 800));
    let md = std::fs::read_to_string(comment).unwrap();
    assert!(md.starts_with("### ❌ ccci: lemp"), "{md}");
    assert!(md.contains("| install | ✅ pass |"), "{md}");
    let _ = std::fs::remove_dir_all(scratch);
}
