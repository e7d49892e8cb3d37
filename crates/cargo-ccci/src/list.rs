//! `cargo ccci list`: the recipe test crates of this workspace, by name.

use crate::{print_out, recipe_names};
use std::process::ExitCode;

/// `list [--json]`.
pub(crate) fn list(json: bool) -> Result<ExitCode, String> {
    let names = recipe_names();
    match json {
        true => print_out(&serde_json::to_string(&names).map_err(|e| e.to_string())?),
        false => print_out(&names.join("\n")),
    }
    Ok(ExitCode::SUCCESS)
}
