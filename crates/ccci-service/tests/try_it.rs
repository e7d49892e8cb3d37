//! docs/serve.md's "Try it in five minutes", run as an operator runs it: `scripts/dev try`
//! (the bundled forge, the service, a pull request's `!testme`, its green status), on the
//! local Swarm, with the ports the docs name (3000 and 8430). The commands the docs show are
//! the script's own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The lines between `# try:begin` and `# try:end` of scripts/dev, unindented.
fn script_lines(root: &Path) -> String {
    let script = std::fs::read_to_string(root.join("scripts/dev")).unwrap();
    let begin = script
        .find("# try:begin")
        .expect("scripts/dev marks its try");
    let body = &script[script[begin..].find('\n').unwrap() + begin + 1..];
    let body = &body[..body.find("# try:end").unwrap()];
    body.lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

#[test]
fn the_docs_show_the_commands_the_try_runs() {
    let root = workspace();
    let docs = std::fs::read_to_string(root.join("docs/serve.md")).unwrap();
    let lines = script_lines(&root);
    assert!(
        docs.contains(&format!("```sh\n{lines}\n```")),
        "docs/serve.md's \"Try it in five minutes\" must show scripts/dev's try lines as they are:\n{lines}"
    );
}

/// `scripts/dev try stop`, whatever the test's outcome.
struct Stop(PathBuf);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = Command::new(self.0.join("scripts/dev"))
            .args(["try", "stop"])
            .current_dir(&self.0)
            .status();
    }
}

#[test]
fn try_it_in_five_minutes_ends_green_on_the_pull_request() {
    let root = workspace();
    let _stop = Stop(root.clone());
    let started = Instant::now();
    let out = Command::new("timeout")
        .args(["1500", "scripts/dev", "try"])
        .current_dir(&root)
        .output()
        .unwrap();
    let took = started.elapsed().as_secs();
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let serve_log = std::fs::read_to_string(root.join("target/try/serve.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "scripts/dev try: {}\n{said}\n{err}\nthe service's log:\n{serve_log}",
        out.status
    );
    eprintln!("scripts/dev try took {took} s:\n{said}");
    // The pull request, as the forge shows it: the head's final status and the report.
    assert!(
        said.contains("status ccci/testme success: L4 GREEN"),
        "{said}"
    );
    assert!(
        said.contains("comment by ccci-bot:"),
        "the report comment: {said}"
    );
    assert!(said.contains("reached **L4**"), "{said}");
    // The service's log tells the story, in order.
    let order = [
        "delivery taken: accepted",
        "job queued",
        "run started",
        "run ended: L4 GREEN",
        "forge: status success",
    ];
    let mut at = 0;
    for line in order {
        let found = serve_log[at..].find(line).unwrap_or_else(|| {
            panic!("the service's log lacks `{line}` after byte {at}:\n{serve_log}")
        });
        at += found;
    }
    // The forge recorded the delivery's answer and the service's reaction.
    let book: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("target/try/forge/forge.json")).unwrap())
            .unwrap();
    let delivered = book["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event"] == "issue_comment created" && d["status"] == 202);
    assert!(
        delivered.is_some(),
        "the !testme delivery answered 202: {book}"
    );
    assert!(
        book["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["content"] == "eyes"),
        "the comment got its reaction: {book}"
    );
}
