//! What a Docker Swarm *is*, through the Engine API ([bollard]): a stack's services and tasks,
//! whether they have converged, whether the app answers, exec into its containers, and what a
//! stack left behind. It knows nothing of recipes, tiers or levels.
//!
//! - [`Swarm`]: the connection ([`Swarm::connect`] honours `DOCKER_HOST`).
//! - [`converge`]: where convergence is decided (pure).
//! - [`wait`]: every wait, each with a deadline and a report of what it last saw.
//!
//! Stacks are found by their `com.docker.stack.namespace` label and names are compared
//! exactly: the Engine's name filters match by prefix (`os_job` matches `os_jobfail`).

mod client;
pub mod converge;
mod error;
mod exec;
pub mod forensics;
mod inventory;
pub mod model;
mod objects;
mod pace;
pub mod pull;
pub mod route;
pub mod runs;
mod stack;
mod state;
pub mod traefik;
pub mod wait;

pub use ccci_process::Deadline;
pub use client::Swarm;
pub use converge::{evaluate, Convergence};
pub use error::{SwarmError, WaitError};
pub use exec::{ExecOutput, MountInfo, EXEC_OUTPUT_CAP};
pub use inventory::DataRemoval;
pub use model::{ServiceState, TaskState};
pub use pull::PullFailure;
pub use route::{Proxy, Via};
pub use runs::{off_spec, RunSpec, Running};
pub use stack::STACK_LABEL;
