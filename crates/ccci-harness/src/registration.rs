//! How a test binary finds the recipe's functions: each `#[ccci::functional]`,
//! `#[ccci::lifecycle]` and `#[ccci::backup_verify]` adds itself to a link-time slice here,
//! and `ccci::__private` is the path the macros' expansions name. Not public API.

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
