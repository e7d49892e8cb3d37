//! `--help` answers at once and never compiles: the commands that live in ccci-service
//! (`history`, `import`, `compare`, `dashboard`, `serve`, `forge`, `report --post`) say what they do
//! and where their options come from when no ccci-service is built, without building it.

use std::process::Command;

#[test]
fn help_of_a_service_command_never_builds_the_service() {
    let tmp = tempfile::tempdir().unwrap();
    // cargo-ccci alone, with no ccci-service beside it or on PATH, and a cargo that fails
    // if anything asks it to build.
    let alone = tmp.path().join("cargo-ccci");
    std::fs::copy(env!("CARGO_BIN_EXE_cargo-ccci"), &alone).unwrap();
    for command in ["serve", "history", "dashboard", "forge"] {
        let out = Command::new(&alone)
            .args(["ccci", command, "--help"])
            .env("PATH", "/usr/bin:/bin")
            .env("CARGO", "/bin/false")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{command} --help: {:?} {said}{err}",
            out.status
        );
        assert!(
            said.contains("ccci-service's, which is not built yet")
                && said.contains(&format!("the first `cargo ccci {command}` builds it")),
            "{command} --help: {said}"
        );
        assert!(!err.contains("building ccci-service"), "{command}: {err}");
    }
    let serve = Command::new(&alone)
        .args(["ccci", "serve", "-h"])
        .env("PATH", "/usr/bin:/bin")
        .env("CARGO", "/bin/false")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&serve.stdout).contains("The forge's CI"),
        "serve's help says what it does"
    );
}
