//! The directory of one run, and every place in it. Made when the run starts, so that a run
//! refused before it deploys still has somewhere to write its results.
//!
//! ```text
//! <runs dir>/<recipe>-<run id>/
//!   abra/recipes/<recipe>/          the run's own clone of the recipe (abra's ~/.abra layout)
//!   abra/servers/local/<domain>.env the app's env
//!   stacks/NN-<stack>.yml           every stack file deployed, in order
//!   snapshots/<attempt>/            each backup attempt: tar archives + manifest.json
//!   forensics/NN-<step>.{txt,json}  task history and log tails of each failed step
//!   op_state.json                   what recipe functions stored in OpState
//!   results.json                    the run's results (schema `ccci_core::results::SCHEMA`)
//!   summary.txt                     the summary printed at the end
//!   screenshot.png                  the app's front page before teardown (best effort)
//! ```

use crate::error::{io, HarnessError};
use std::path::{Path, PathBuf};

/// The directory of one run; each method names one place in it.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Makes `<runs_dir>/<recipe>-<run_id>`. `runs_dir` is made absolute first: the docker
    /// CLI runs in the recipe checkout, so every path handed to it must be absolute.
    pub(crate) fn create(
        runs_dir: &Path,
        recipe: &str,
        run_id: &str,
    ) -> Result<RunDir, HarnessError> {
        let runs_dir = writable(runs_dir)?;
        let root = runs_dir.join(format!("{recipe}-{run_id}"));
        std::fs::create_dir_all(&root).map_err(io(&root))?;
        Ok(RunDir { root })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The run's own clone of the recipe.
    pub fn recipe_checkout(&self, recipe: &str) -> PathBuf {
        self.root.join("abra/recipes").join(recipe)
    }

    /// Where the app's env file lives (abra's `~/.abra/servers/<server>`).
    pub fn servers(&self) -> PathBuf {
        self.root.join("abra/servers/local")
    }

    /// Where every deployed stack file is kept.
    pub fn stacks(&self) -> PathBuf {
        self.root.join("stacks")
    }

    /// The snapshot of backup attempt `attempt` (from 1).
    pub fn snapshot(&self, attempt: u32) -> PathBuf {
        self.root.join("snapshots").join(attempt.to_string())
    }

    /// Where failed steps leave their task history and logs.
    pub fn forensics(&self) -> PathBuf {
        self.root.join("forensics")
    }

    /// `op_state.json`.
    pub fn op_state(&self) -> PathBuf {
        self.root.join("op_state.json")
    }

    /// `results.json`.
    pub fn results(&self) -> PathBuf {
        self.root.join("results.json")
    }

    /// `screenshot.png`.
    pub fn screenshot(&self) -> PathBuf {
        self.root.join("screenshot.png")
    }

    /// `summary.txt`.
    pub fn summary(&self) -> PathBuf {
        self.root.join("summary.txt")
    }
}

/// `runs_dir`, made if missing and proven writable (a file written and removed), as an
/// absolute path: checked before anything else, so that a run that could not keep its
/// results is refused before it deploys.
pub(crate) fn writable(runs_dir: &Path) -> Result<PathBuf, HarnessError> {
    let unusable = |source| HarnessError::RunsDirUnusable {
        path: runs_dir.into(),
        source,
    };
    std::fs::create_dir_all(runs_dir).map_err(unusable)?;
    let probe = runs_dir.join(format!(".ccci-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(unusable)?;
    let _ = std::fs::remove_file(&probe);
    runs_dir.canonicalize().map_err(io(runs_dir))
}
