//! Images this host builds itself instead of pulling: where no registry can be reached (our
//! CI), or for a recipe's stand-in images, a deploy that needs an image the node lacks asks a
//! local *image builder* first. The builder is a program with two verbs: `--list` prints the
//! tags it can build, one a line (the declared map from image to its Dockerfile), and `TAG`
//! builds one, cached after (ccci's own is `images/build` in its repository). An image it does
//! not declare is pulled as on any server.

use crate::error::AbraError;
use ccci_swarm::Deadline;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long listing the builder's images may take.
const LIST: Duration = Duration::from_secs(10);

/// How long building one image on first use may take: a real app built from its source (npm
/// or composer fetching its dependencies) takes minutes on 2 cores. The step's own deadline
/// does not bound it: a first build is the host's preparation, not the recipe's deploy.
pub const BUILD: Duration = Duration::from_secs(20 * 60);

/// A local image builder and the tags it declares.
#[derive(Debug, Clone)]
pub struct LocalImages {
    builder: PathBuf,
    tags: BTreeSet<String>,
    /// The images it built or found up to date, since it was opened: a run's later deploys
    /// need not ask again.
    ready: Arc<Mutex<BTreeSet<String>>>,
}

impl LocalImages {
    /// The builder at `builder`, asked for the images it declares.
    pub fn open(builder: &Path) -> Result<Self, AbraError> {
        let shown = format!("{} --list", builder.display());
        let mut cmd = ccci_process::command(builder);
        cmd.arg("--list");
        let listed = ccci_process::run(
            cmd,
            shown,
            Deadline::after(LIST),
            &format!(
                " (the local image builder, {}: point it at an executable, or unset it)",
                ccci_core::vars::IMAGE_BUILDER
            ),
        )
        .map_err(|e| {
            AbraError::HostFault(format!(
                "the local image builder cannot list its images: {e}"
            ))
        })?;
        Ok(LocalImages {
            builder: builder.into(),
            tags: listed
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            ready: Arc::default(),
        })
    }

    /// Whether the builder declares `image`.
    pub fn declares(&self, image: &str) -> bool {
        self.tags.contains(image)
    }

    /// The builder's path.
    pub fn builder(&self) -> &Path {
        &self.builder
    }

    /// Whether this builder already built `image`, or found it up to date, since it was
    /// opened.
    pub fn is_ready(&self, image: &str) -> bool {
        self.ready
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(image)
    }

    /// Builds `image` (the builder skips it when it is up to date), within [`BUILD`].
    pub async fn build(&self, image: &str) -> Result<(), AbraError> {
        let mut cmd = ccci_process::command(&self.builder);
        cmd.arg(image);
        let shown = format!("{} {image}", self.builder.display());
        ccci_process::run_async(cmd, shown, Deadline::after(BUILD), "").await?;
        self.ready
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(image.to_string());
        Ok(())
    }
}
