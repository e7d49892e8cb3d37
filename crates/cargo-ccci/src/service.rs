//! The run store's commands and the forge's CI (`serve`, `report --post`) live in
//! `ccci-service`, a binary of its own, so that a database
//! and a web server are built only where the store is kept: never into `cargo ccci run`'s
//! build, never into a recipe's test crate (a shared dependency with other features would
//! make cargo build it twice). `cargo ccci history|import|compare|dashboard|serve` become that
//! binary, with their arguments as given; after a run, `cargo ccci run` asks it to take the
//! run in.
//!
//! Started by a caller that keeps the store itself (`cargo ccci serve` sets
//! `CCCI_HANDOFF_DIR`), `cargo ccci` starts no `ccci-service`: what it would hand over is left
//! in that directory ([`handoff`]), and the caller takes it in. So the two binaries never call
//! each other in a circle.

use ccci::Deadline;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long taking a run in may take: the store's own wait, and starting the binary.
const TAKE_IN: Duration = Duration::from_secs(90);

/// The service binary: built from the ccci source tree this cargo-ccci was built from when
/// that is still here (as a recipe's test binary is, at most [`crate::binaries::BUILD_TIMEOUT`]), else
/// the one installed beside cargo-ccci, else one on PATH.
fn binary() -> Result<PathBuf, String> {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if tree.join("crates/ccci-service/Cargo.toml").is_file() {
        // Its first build is shown (it takes a minute or two), and why; later ones only when
        // they fail.
        let quiet = installed().is_some();
        if !quiet {
            eprintln!("cargo ccci: building ccci-service first, once: the run store, the dashboard and the forge's CI live there, out of `cargo ccci run`'s build");
        }
        return crate::binaries::build_binary(
            &tree.join("Cargo.toml"),
            "ccci-service",
            "ccci-service",
            quiet,
        );
    }
    installed().ok_or_else(|| {
        "the run store's commands are in ccci-service, which is not installed: `cargo install --path crates/ccci-service` from ccci's source (beside cargo-ccci)".to_string()
    })
}

/// `ccci-service` beside this executable, or on PATH.
fn installed() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("ccci-service")))
        .filter(|p| p.is_file());
    beside.or_else(|| which::which("ccci-service").ok())
}

/// Becomes `ccci-service` with `args` (a store command and its arguments, `ccci` first as
/// cargo gives them): it answers, and exits, in this process's place. Asked for help
/// (`--help`, `-h`), it never builds: a built or installed ccci-service answers, else `about`
/// (what the command does) is said, with where its options come from.
pub fn hand_over(args: &[String], about: &str) -> Result<std::process::ExitCode, String> {
    let asks_help = args.iter().any(|a| a == "--help" || a == "-h");
    let binary = match (asks_help, installed()) {
        (true, Some(built)) => built,
        (true, None) => {
            let command = args.first().map_or("", String::as_str);
            println!("{about}\n\nIts options are ccci-service's, which is not built yet: the first `cargo ccci {command}` builds it (a minute or two) and `cargo ccci {command} --help` then lists them; or install it with `cargo install --path crates/ccci-service`.");
            return Ok(std::process::ExitCode::SUCCESS);
        }
        (false, _) => binary()?,
    };
    let mut cmd = ccci_process::command(&binary);
    cmd.args(args);
    Err(ccci_process::exec(cmd, &binary.display().to_string()).to_string())
}

/// The directory a caller that keeps the store asked for what `cargo ccci` would hand to
/// `ccci-service` (`CCCI_HANDOFF_DIR`), when one asked.
pub fn handoff_dir() -> Option<PathBuf> {
    std::env::var_os(ccci::core::vars::HANDOFF_DIR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Leaves `value` for the caller that keeps the store, as `what`'s file in `dir`.
pub fn handoff(
    dir: &Path,
    what: ccci::core::wire::Handoff,
    value: &impl serde::Serialize,
) -> Result<(), String> {
    let path = dir.join(what.file());
    let json = serde_json::to_string(value).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, json))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// After a run: takes this host's run journal into the store and says whether the run is
/// recorded. Never fails the run: without a built service, or with the store away, the run
/// stays in the journal, for the next store command to record, and that is said once.
pub fn record(run_id: &str) {
    if handoff_dir().is_some() {
        say!("  recorded:       noted in the run journal, which the service that started this run takes in");
        return;
    }
    let Some(binary) = installed() else {
        say!("  recorded:       noted in the run journal; `cargo ccci history` takes it into the run store");
        return;
    };
    let mut cmd = ccci_process::command(&binary);
    cmd.args(["take-in", run_id]);
    let shown = format!("{} take-in {run_id}", binary.display());
    match ccci_process::run(cmd, shown, Deadline::after(TAKE_IN), "") {
        Ok(out) => say!("  recorded:       {}", out.trim()),
        Err(e) => eprintln!(
            "cargo ccci: the run is kept in the run journal, not yet in the run store: {e}"
        ),
    }
}

/// Runs `ccci-service` with `args` and returns its standard output: for the fleet's
/// questions and records (`known-good`, `set-canonicals`, `record-sweep`).
pub fn ask(args: &[&str]) -> Result<String, String> {
    let binary = binary()?;
    let mut cmd = ccci_process::command(&binary);
    cmd.args(args);
    let shown = format!("{} {}", binary.display(), args.join(" "));
    ccci_process::run(cmd, shown, Deadline::after(TAKE_IN), "").map_err(|e| e.to_string())
}

/// Records this host's canonicals in the run store, in place of what it had for the host.
/// Never fails the command: the store is told again by the next one.
pub(crate) fn record_canonicals() {
    let told = (|| -> Result<(), String> {
        let here = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
        let settings = ccci::Settings::from_env(&here, ccci::default_runs_dir(&here))
            .map_err(|e| e.to_string())?;
        let records: Vec<ccci::core::canonical::Canonical> =
            ccci::fleet::Records::at(&settings.canonical_dir)
                .all()
                .into_iter()
                .filter_map(Result::ok)
                .collect();
        let host = ccci::core::host::host_name().unwrap_or_else(|| "localhost".into());
        if let Some(dir) = handoff_dir() {
            let record = ccci::core::wire::CanonicalsRecord { host, records };
            return handoff(&dir, ccci::core::wire::Handoff::Canonicals, &record);
        }
        let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let json = serde_json::to_string(&records).map_err(|e| e.to_string())?;
        std::fs::write(file.path(), json).map_err(|e| e.to_string())?;
        let path = file.path().display().to_string();
        ask(&["set-canonicals", "--host", &host, &path]).map(|_| ())
    })();
    if let Err(e) = told {
        eprintln!("cargo ccci: the run store does not know this host's canonicals yet: {e}");
    }
}
