//! Co-op Cloud apps and recipes, and the deployers that put them on a Swarm.
//!
//! - [`App`]: one deployed instance: its domain, stack name and `.env` (abra's
//!   `~/.abra/servers/<server>/<domain>.env`).
//! - [`Recipe`]: a git repository whose annotated tags `1.2.0+3.3.1` are its releases.
//! - [`Deployer`]: what does abra's job. [`BuiltinEngine`] does it on any Swarm with the
//!   docker CLI and the Engine API; an abra-CLI deployer implements the same trait.
//!
//! YAML goes through `serde_yaml_ng`, the maintained drop-in fork of the deprecated
//! `serde_yaml` (same API and libyaml backend; `serde_yaml` is archived and gets no fixes).

mod app;
pub mod backup;
mod deployer;
pub mod drift;
mod engine;
pub mod env;
mod error;
mod git;
pub mod images;
pub mod lint;
pub mod markers;
pub mod policy;
mod recipe;
pub mod release;
pub mod render;
pub mod rules;
pub mod stamp;

pub use app::{stack_name, App};
pub use backup::Snapshot;
pub use deployer::{DeployRequest, Deployed, Deployer};
pub use engine::{check_untrusted, merged, remove_stack, BuiltinEngine, Pull, Reach};
pub use error::{disk_full, AbraError};
pub use recipe::{tag_version, Recipe, Release};
pub use stamp::Stamp;
