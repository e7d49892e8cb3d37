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
//! fresh backup with `#[ccci::backup_verify]` (returns `ccci::Result<bool>`; `false` makes
//! ccci take the backup again, up to three times).

mod fixture;
mod plan;
mod repo;
mod report;
mod run;
mod runner;
mod tiers;

pub use ccci_abra::Snapshot;
pub use ccci_core::{self as core, HookCtx, OpState, RecipeMeta};
pub use ccci_macros::{backup_verify, functional, lifecycle};
pub use fixture::{Fixture, Fixtures, Http, Page, Stack};
pub use plan::Hooks;
pub use repo::{recipe_name, run_repository, RepoRun};
pub use report::summary;
pub use run::{load_meta, run_recipe, HarnessError, Report, Settings};
pub use runner::run_main;

/// What recipe tests return on failure: any error, or a message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The return type of recipe tests: `ccci::Result` is `Result<(), ccci::Error>`.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// Fails the test with a formatted message unless the condition holds.
///
/// ```
/// fn check(status: u16) -> ccci::Result {
///     ccci::ensure!(status == 200, "expected 200, got {status}");
///     Ok(())
/// }
/// assert_eq!(check(404).unwrap_err().to_string(), "expected 200, got 404");
/// ```
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return ::std::result::Result::Err(::std::format!($($msg)+).into());
        }
    };
}

/// A value no other run or test has used: `<tag>-<time>-<pid>`, for markers seeded before an
/// op and looked for after it.
///
/// ```
/// let a = ccci::unique("marker");
/// assert!(a.starts_with("marker-") && a != ccci::unique("marker"));
/// ```
pub fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{tag}-{nanos:x}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// The `main` of a recipe's test binary (`harness = false`).
#[macro_export]
macro_rules! main {
    () => {
        fn main() -> ::std::process::ExitCode {
            $crate::run_main($crate::Settings::for_test_crate(
                ::std::env!("CARGO_MANIFEST_DIR"),
                ::std::env!("CARGO_TARGET_TMPDIR"),
            ))
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use linkme;
    use std::future::Future;
    use std::pin::Pin;

    pub use crate::fixture::Fixtures;

    /// A boxed test future.
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// One registered test.
    pub struct TestDef {
        /// The function's name.
        pub name: &'static str,
        /// Where it is defined.
        pub file: &'static str,
        /// Its line.
        pub line: u32,
        /// Runs it with the run's fixtures.
        pub run: for<'a> fn(&'a Fixtures) -> BoxFuture<'a, crate::Result>,
    }

    /// A `#[ccci::lifecycle(before|after = op)]` function.
    pub struct LifecycleDef {
        /// The function's name.
        pub name: &'static str,
        /// Where it is defined.
        pub file: &'static str,
        /// Its line.
        pub line: u32,
        /// Before the op (true) or after it.
        pub before: bool,
        /// The op.
        pub op: ccci_core::Op,
        /// Runs it with the run's fixtures.
        pub run: for<'a> fn(&'a Fixtures) -> BoxFuture<'a, crate::Result>,
    }

    /// A `#[ccci::backup_verify]` function.
    pub struct VerifyDef {
        /// The function's name.
        pub name: &'static str,
        /// Where it is defined.
        pub file: &'static str,
        /// Its line.
        pub line: u32,
        /// Runs it with the run's fixtures (a snapshot among them).
        pub run: for<'a> fn(&'a Fixtures) -> BoxFuture<'a, crate::Result<bool>>,
    }

    /// Every `#[ccci::functional]` test linked into this binary.
    #[linkme::distributed_slice]
    pub static FUNCTIONAL: [TestDef];

    /// Every `#[ccci::lifecycle]` function linked into this binary.
    #[linkme::distributed_slice]
    pub static LIFECYCLE: [LifecycleDef];

    /// Every `#[ccci::backup_verify]` function linked into this binary.
    #[linkme::distributed_slice]
    pub static BACKUP_VERIFY: [VerifyDef];

    /// What a test's return value must be.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a test result",
        label = "a #[ccci::functional] test must return this as a Result",
        note = "return `ccci::Result` (that is `Result<(), ccci::Error>`), or `Result<(), E>` where E converts into `ccci::Error`"
    )]
    pub trait IntoOutcome {
        /// The result as ccci's.
        fn into_outcome(self) -> crate::Result;
    }

    impl<E: Into<crate::Error>> IntoOutcome for Result<(), E> {
        fn into_outcome(self) -> crate::Result {
            self.map_err(Into::into)
        }
    }

    /// Converts a test's return value.
    pub fn outcome<T: IntoOutcome>(r: T) -> crate::Result {
        r.into_outcome()
    }

    /// What a BACKUP_VERIFY function must return.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a backup verdict",
        label = "a #[ccci::backup_verify] function must return this as a Result<bool>",
        note = "return `ccci::Result<bool>`: Ok(true) accepts the snapshot, Ok(false) takes the backup again"
    )]
    pub trait IntoVerdict {
        /// The verdict as ccci's.
        fn into_verdict(self) -> crate::Result<bool>;
    }

    impl<E: Into<crate::Error>> IntoVerdict for Result<bool, E> {
        fn into_verdict(self) -> crate::Result<bool> {
            self.map_err(Into::into)
        }
    }

    /// Converts a verify function's return value.
    pub fn verdict<T: IntoVerdict>(r: T) -> crate::Result<bool> {
        r.into_verdict()
    }
}
