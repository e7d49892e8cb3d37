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

pub mod budget;
mod checkout;
mod deployment;
mod error;
mod fixture;
mod lint;
mod names;
mod nextest;
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
mod tiers;

pub use ccci_abra::{Pull, Snapshot};
pub use ccci_core::results::Routing;
pub use ccci_core::{self as core, HookCtx, Key, OpState, RecipeMeta};
pub use ccci_macros::{backup_verify, functional, lifecycle};
pub use ccci_swarm::Deadline;
pub use error::HarnessError;
pub use fixture::{Fixture, Fixtures, Http, Page, Stack};
pub use lint::{lint_crate, lint_repository, Linted};
pub use plan::Hooks;
pub use repo::{recipe_name, run_repository, RepoRun};
pub use report::{colour_stdout, summary, summary_styled, verdict_styled};
pub use run::{run_recipe, Report};
pub use run_dir::RunDir;
pub use runner::{run_main, run_test_crate};
pub use settings::{
    default_runs_dir, load_meta, sets_env, sets_of, state_dir, Overrides, Settings,
};

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

/// Fails the test with a formatted message.
///
/// ```
/// fn check(rows: usize) -> ccci::Result {
///     if rows == 0 {
///         ccci::bail!("the table is empty");
///     }
///     Ok(())
/// }
/// assert_eq!(check(0).unwrap_err().to_string(), "the table is empty");
/// ```
#[macro_export]
macro_rules! bail {
    ($($msg:tt)+) => {
        return ::std::result::Result::Err(::std::format!($($msg)+).into())
    };
}

/// Says what was being done when an error happened, or turns a missing value into an
/// error: `.context("reading the dump")?`.
///
/// ```
/// use ccci::Context as _;
/// fn port(text: &str) -> ccci::Result<u16> {
///     let p = text.split(':').nth(1).context("no port in the address")?;
///     Ok(p.parse::<u16>().context("the port")?)
/// }
/// assert_eq!(port("host").unwrap_err().to_string(), "no port in the address");
/// assert_eq!(port("host:x").unwrap_err().to_string(), "the port: invalid digit found in string");
/// ```
pub trait Context<T> {
    /// The value, or an error saying `what` (and, for an error, its cause after a colon).
    fn context(self, what: impl std::fmt::Display) -> Result<T>;
    /// Like [`Context::context`], with the message made only when needed.
    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| ContextError(what.to_string(), e.into()).into())
    }
    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| ContextError(what().to_string(), e.into()).into())
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: impl std::fmt::Display) -> Result<T> {
        self.ok_or_else(|| what.to_string().into())
    }
    fn with_context<D: std::fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.ok_or_else(|| what().to_string().into())
    }
}

/// An error with what was being done when it happened; its cause stays its `source`.
#[derive(Debug)]
struct ContextError(String, Error);

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

impl std::error::Error for ContextError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.1)
    }
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
            $crate::run_test_crate(
                ::std::env!("CARGO_MANIFEST_DIR"),
                ::std::env!("CARGO_TARGET_TMPDIR"),
            )
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
        /// Runs it with the run's fixtures (a snapshot among them): `Ok` accepts the
        /// snapshot, an error rejects it with a reason.
        pub run: for<'a> fn(&'a Fixtures) -> BoxFuture<'a, crate::Result>,
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

    /// What a test's, hook's or verify function's return value must be.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a ccci result",
        label = "a ccci test, lifecycle or backup_verify function must return a Result",
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
}
