//! The provider's releases, as a Co-op Cloud recipe's release directories: built into this
//! crate, so a ccci binary can deploy its provider wherever it runs.

use crate::error::{io, DepsError};
use std::path::Path;

/// Each release: its version and files.
const RELEASES: &[(&str, &[(&str, &str)])] = &[(
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

/// Writes every release into `dir` (one directory each, as `Recipe::from_release_dirs`
/// reads them), then copies those of `extra`, another such directory, beside them.
pub(crate) fn write(dir: &Path, extra: Option<&Path>) -> Result<(), DepsError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    for (version, files) in RELEASES {
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
