//! The provider's releases, as a Co-op Cloud recipe's release directories: built into this
//! crate, so a ccci binary can deploy its provider wherever it runs.

use crate::error::{io, DepsError};
use std::path::Path;

/// A recipe's releases: each its version and files.
type Releases = &'static [(&'static str, &'static [(&'static str, &'static str)])];

/// The provider's releases.
const RELEASES: Releases = &[(
    "1.0.0+2.7.5",
    &[
        (
            "compose.yml",
            include_str!("../provider/glewlwyd/1.0.0+2.7.5/compose.yml"),
        ),
        (
            ".env.sample",
            include_str!("../provider/glewlwyd/1.0.0+2.7.5/.env.sample"),
        ),
    ],
)];

/// A realm's releases: a glewlwyd of the run's own, from the provider's image.
const REALM_RELEASES: Releases = &[(
    "1.0.0+2.7.5",
    &[
        (
            "compose.yml",
            include_str!("../provider/glewlwyd-realm/1.0.0+2.7.5/compose.yml"),
        ),
        (
            ".env.sample",
            include_str!("../provider/glewlwyd-realm/1.0.0+2.7.5/.env.sample"),
        ),
    ],
)];

/// Writes every provider release into `dir` (one directory each, as
/// `Recipe::from_release_dirs` reads them), then copies those of `extra`, another such
/// directory, beside them.
pub(crate) fn write(dir: &Path, extra: Option<&Path>) -> Result<(), DepsError> {
    write_releases(RELEASES, dir, extra)
}

/// Writes every realm release into `dir`, as [`write`] does the provider's.
pub(crate) fn write_realm(dir: &Path) -> Result<(), DepsError> {
    write_releases(REALM_RELEASES, dir, None)
}

fn write_releases(releases: Releases, dir: &Path, extra: Option<&Path>) -> Result<(), DepsError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    for (version, files) in releases {
        let release = dir.join(version);
        std::fs::create_dir_all(&release).map_err(io(&release))?;
        for (name, text) in *files {
            let path = release.join(name);
            std::fs::write(&path, text).map_err(io(&path))?;
        }
    }
    if let Some(extra) = extra {
        copy_dir(extra, dir)?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), DepsError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for e in std::fs::read_dir(from).map_err(io(from))? {
        let e = e.map_err(io(from))?;
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(())
}
