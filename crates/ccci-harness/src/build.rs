//! Which ccci ran a run, and where: the facts results.json records so that two runs of one
//! recipe ref can be told apart by their harness (an A/B comparison) and by their host.

use ccci_core::results::Build;

/// This build of ccci: its version, and the commit of its source when it was built from a
/// git checkout (read by `build.rs`).
pub(crate) fn this() -> Build {
    Build {
        version: env!("CARGO_PKG_VERSION").into(),
        commit: option_env!("SOURCE_COMMIT").map(String::from),
    }
}

/// This host's name in what a run records: the settings' ([`ccci_core::vars::HOST`], what
/// `cargo ccci serve` calls its host), else the machine's.
pub(crate) fn host_name(settings: &crate::Settings) -> Option<String> {
    settings.host.clone().or_else(ccci_core::host::host_name)
}
