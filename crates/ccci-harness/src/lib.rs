//! ccci: prove a Co-op Cloud recipe works by running it on a real Docker Swarm.
//!
//! This is the one crate a recipe's test crate depends on. A recipe test crate has a
//! `ccci.yml` (its settings, see [`RecipeMeta`]) and one integration test with
//! `harness = false`:
//!
//! ```text
//! // recipes/custom-html/tests/recipe.rs
//! use ccci::{HookCtx, Http};
//!
//! #[ccci::functional]
//! async fn unknown_paths_are_404(_ctx: &HookCtx, http: &Http) -> ccci::Result {
//!     let page = http.get("/no-such-page").await?;
//!     ccci::ensure!(page.status == 404, "GET /no-such-page answered {}", page.status);
//!     Ok(())
//! }
//!
//! ccci::main!();
//! ```
//!
//! `cargo test -p recipe-custom-html` then deploys the recipe once on the Swarm, runs the
//! generic install tier, then every `#[ccci::functional]` test, always tears down, and writes
//! `results.json`. The binary speaks libtest's and nextest's command line (`--list`,
//! `--exact`, filters), so `cargo nextest run` works too.
//!
//! Fixtures are chosen by a test's parameters (each borrowed): [`HookCtx`], [`OpState`],
//! [`Stack`] (exec into the app's containers), [`Http`] (a cookie-aware client on the app's
//! base URL) and, from the backup on, [`Snapshot`]. Anything else is a compile error naming
//! these.
//!
//! Recipe code can also attach to an op, before it (seed data) or after it (assert):
//! `#[ccci::lifecycle(before = backup)]`, `#[ccci::lifecycle(after = restore)]`; and check a
//! fresh backup with `#[ccci::backup_verify]` (an error rejects the snapshot with its reason,
//! and ccci takes the backup again, up to three times).
//!
//! Values pass from one op to a later one through [`OpState`] under typed [`Key`]s; errors
//! are built with [`ensure!`], [`bail!`] and [`Context`].

pub mod browser;
pub mod budget;
mod build;
mod checkout;
mod deployment;
mod deps;
pub mod diagnostics;
mod error;
mod fixture;
pub mod fleet;
mod journal;
mod lint;
mod names;
mod nextest;
mod outcome;
mod paths;
mod plan;
mod recipe_fn;
mod record;
pub mod registry;
mod repo;
mod report;
mod run;
mod run_dir;
mod runner;
pub mod screenshot;
mod settings;
mod shared;
mod steps;
mod tiers;

pub use browser::Browser;
pub use ccci_abra::{policy, Pull, Snapshot};
pub use ccci_core::results::Routing;
pub use ccci_core::{self as core, HookCtx, Key, OpState, RecipeMeta};
pub use ccci_macros::{backup_verify, functional, lifecycle};
/// Every subprocess a recipe's test starts, with a deadline and a process group of its own.
pub use ccci_process as process;
pub use ccci_swarm::Deadline;
pub use deps::{oidc_domain, oidc_provider};
pub use error::HarnessError;
pub use fixture::{Fixture, Fixtures, Http, Page, Stack};
pub use lint::{lint_crate, lint_repository, Linted};
pub use names::unique;
pub use outcome::{Context, Error, Result};
pub use plan::Hooks;
pub use repo::{recipe_name, run_repository, RepoRun};
pub use report::{colour_stdout, summary, summary_styled, verdict_styled};
pub use run::{run_recipe, Report};
pub use run_dir::RunDir;
pub use runner::{run_main, run_test_crate};
pub use settings::{
    default_canonical_dir, default_journal_dir, default_runs_dir, load_meta, sets_env, sets_of,
    state_dir, CanonicalAsk, Overrides, Settings,
};

/// The `main` of a recipe's test binary (`harness = false`).
#[macro_export]
macro_rules! main {
    () => {
        fn main() -> ::std::process::ExitCode {
            $crate::run_test_crate(
                ::std::env!("CARGO_MANIFEST_DIR"),
                ::std::env!("CARGO_TARGET_TMPDIR"),
            )
        }
    };
}

#[doc(hidden)]
#[path = "registration.rs"]
pub mod __private;
