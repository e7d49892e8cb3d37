//! Colour only on a terminal: `cargo ccci results` colours the verdict and rungs when its
//! standard output is a terminal (a pseudo-terminal from util-linux's `script`), and never
//! into a pipe or with `NO_COLOR` set.

use std::process::Command;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../ccci-report/tests/fixtures/results.json"
);
const ESC: &str = "\x1b[";

/// `cargo ccci results FIXTURE`, its stdout a terminal: what the terminal showed.
fn on_a_terminal(no_color: bool) -> String {
    let command = format!(
        "{} ccci results {FIXTURE}",
        env!("CARGO_BIN_EXE_cargo-ccci")
    );
    let mut cmd = Command::new("script");
    // script takes one command line; the paths above hold no shell metacharacters.
    cmd.args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm");
    match no_color {
        true => cmd.env("NO_COLOR", "1"),
        false => cmd.env_remove("NO_COLOR"),
    };
    let out = cmd.output().expect("util-linux's script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_summary_is_coloured_on_a_terminal_only() {
    let piped = Command::new(env!("CARGO_BIN_EXE_cargo-ccci"))
        .args(["ccci", "results", FIXTURE])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let piped = String::from_utf8_lossy(&piped.stdout);
    assert!(piped.contains("verdict"), "{piped}");
    assert!(!piped.contains(ESC), "no colour into a pipe: {piped:?}");

    let shown = on_a_terminal(false);
    assert!(shown.contains("verdict"), "{shown}");
    assert!(shown.contains(ESC), "colour on a terminal: {shown:?}");

    let plain = on_a_terminal(true);
    assert!(plain.contains("verdict"), "{plain}");
    assert!(!plain.contains(ESC), "NO_COLOR is honoured: {plain:?}");
}
