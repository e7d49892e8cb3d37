//! Building the binaries `cargo ccci` runs: a recipe's test binary, and `ccci-service`, each
//! with `cargo build` under a deadline, its output shown only when it fails.

use ccci::Deadline;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Building a recipe's test binary: a cold build takes about two minutes on two cores.
pub(crate) const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Builds `recipe-<recipe>`'s test binary under [`BUILD_TIMEOUT`], showing the build's
/// progress, and returns its path.
pub(crate) fn build_test_binary(recipe: &str) -> Result<PathBuf, String> {
    let package = format!("recipe-{recipe}");
    cargo_built(&["test", "-p", &package, "--test", "recipe", "--no-run"], "recipe")
        .ok_or_else(|| format!("cargo built no test binary named `recipe` for {package}: its Cargo.toml needs [[test]] name = \"recipe\", harness = false"))?
}

/// Builds binary `bin` of `package` in the workspace of `manifest` under [`BUILD_TIMEOUT`],
/// showing the build's progress unless `quiet`, and returns its path.
pub(crate) fn build_binary(
    manifest: &Path,
    package: &str,
    bin: &str,
    quiet: bool,
) -> Result<PathBuf, String> {
    let manifest = manifest.display().to_string();
    let mut args = vec![
        "build",
        "--manifest-path",
        &manifest,
        "-p",
        package,
        "--bin",
        bin,
    ];
    if quiet {
        args.push("--quiet");
    }
    cargo_built(&args, bin)
        .ok_or_else(|| format!("cargo built no binary {bin} of {package} ({manifest})"))?
}

/// Runs cargo with `args` (a build) and returns the path of the executable it made for the
/// target named `target`: `None` when it made none, an error when the build failed.
fn cargo_built(args: &[&str], target: &str) -> Option<Result<PathBuf, String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = ccci_process::command(&cargo);
    cmd.args(args)
        .arg("--message-format=json-render-diagnostics");
    let shown = format!("cargo {}", args.join(" "));
    let out = match ccci_process::run_showing_stderr(cmd, shown, Deadline::after(BUILD_TIMEOUT)) {
        Ok(out) => out,
        Err(e) => return Some(Err(e.to_string())),
    };
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == target)
        .find_map(|m| m["executable"].as_str().map(|p| Ok(PathBuf::from(p))))
}
