//! `cargo ccci results` and `cargo ccci report`: a run's summary again, its verdict as the
//! exit status, and its comment or JUnit XML written on demand.

use crate::print_out;
use ccci::core::{Results, Verdict};
use clap::ValueEnum;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub(crate) fn read(path: &Path) -> Result<Results, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let results: Results = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a ccci results.json: {e}", path.display()))?;
    if !ccci::core::results::SCHEMAS.contains(&results.schema.as_str()) {
        return Err(format!(
            "{}: schema {} is not one this cargo-ccci reads (up to {}): upgrade ccci",
            path.display(),
            results.schema,
            ccci::core::results::SCHEMA
        ));
    }
    Ok(results)
}

pub(crate) fn exit_code(results: &Results) -> ExitCode {
    if results.bad_input.is_some() {
        return ExitCode::from(2);
    }
    if results.verdict == Verdict::Green {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub(crate) fn show(path: &Path, json: bool) -> Result<ExitCode, String> {
    let results = read(path)?;
    if json {
        let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        print_out(&text);
        return Ok(exit_code(&results));
    }
    say!(
        "{}",
        ccci::summary_styled(
            &results,
            &PathBuf::from(&results.run_dir).join("results.json"),
            ccci::colour_stdout()
        )
    );
    Ok(exit_code(&results))
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// A comment for a pull request.
    Markdown,
    /// JUnit XML, for CI systems that show test results.
    Junit,
}

pub(crate) fn write_report(
    path: &Path,
    format: Format,
    out: Option<&Path>,
    artifacts: Option<&str>,
) -> Result<ExitCode, String> {
    let results = read(path)?;
    let text = match format {
        Format::Markdown => ccci_report::markdown(&results, artifacts),
        Format::Junit => ccci_report::junit(&results)?,
    };
    match out {
        Some(o) => std::fs::write(o, text).map_err(|e| format!("{}: {e}", o.display()))?,
        None => print_out(&text),
    }
    Ok(ExitCode::SUCCESS)
}
