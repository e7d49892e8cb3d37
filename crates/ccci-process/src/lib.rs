//! Every subprocess ccci starts goes through this crate: git, the docker CLI, ssh, the local
//! image builder, Chromium, a recipe's test binary and `cargo-ccci` itself, whether the
//! engine, the harness, the command line or the service starts it.
//!
//! What each gets, the same way:
//! - argv, never a shell string ([`command`] makes one with stdin closed, so nothing can wait
//!   for a prompt);
//! - a process group of its own (except under [`supervise`], which leaves a child in the
//!   caller's group so Ctrl-C at a terminal reaches it), so a stop reaches everything it
//!   started (a `git clone` over HTTP runs its transport as a child of its own);
//! - the [`Deadline`] of the step that started it: at the deadline it is asked to stop or
//!   killed, and the error names the command and how long it had;
//! - an entry in one registry of running groups, so [`stop_all`] and [`stop_all_within`] reach
//!   what nobody waits for any more (a dropped future does not stop a thread blocked on a
//!   command, and a command outlives the process that started it).
//!
//! The ways to run one:
//!
//! | function | waits | output | at the deadline |
//! |---|---|---|---|
//! | [`run`], [`run_async`] | yes | stdout returned, stderr kept for the error | group killed |
//! | [`run_showing_stderr`] | yes | stdout returned, stderr shown as it runs | group killed |
//! | [`run_with_input`] | yes | given stdin; stdout returned as bytes, stderr kept for the error | group killed |
//! | [`supervise`] | yes | as the caller's | SIGTERM, SIGKILL after a grace |
//! | [`spawn`] then [`Spawned::wait`] | async, the pid known first | as the command sets | SIGTERM to the group, SIGKILL after a grace |
//! | [`hold`] | no: a [`Held`] kept while the caller talks to it | as the command sets | the caller's; killed when dropped |
//! | [`exec`] | replaces this process | | |

mod deadline;
mod error;
mod group;
mod hold;
mod run;
mod spawned;

pub use deadline::Deadline;
pub use error::ProcessError;
pub use group::{group_alive, running_count, stop_all, stop_all_within, stop_group};
pub use hold::{hold, pipe, Held};
pub use run::{command, exec, run, run_async, run_showing_stderr, run_with_input, supervise};
pub use spawned::{detach, log_to, spawn, Spawned};
