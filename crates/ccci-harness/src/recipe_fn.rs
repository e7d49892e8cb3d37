//! Calling a recipe's own function (a lifecycle function, functional test or backup_verify):
//! with its fixtures, under a deadline, a panic caught as this function's failure only.

use crate::error::RecipeFailure;
use crate::fixture::Fixtures;
use ccci_swarm::Deadline;

/// A registered recipe function: runs with the step's fixtures.
pub(crate) type RecipeFn =
    for<'a> fn(&'a Fixtures) -> crate::__private::BoxFuture<'a, crate::Result>;

/// Runs a recipe function until `deadline`. A panic fails this function only; a function
/// still running at the deadline is dropped and fails (one that blocks its thread without
/// awaiting cannot be cut short).
pub(crate) async fn call(
    f: RecipeFn,
    fx: &Fixtures,
    deadline: Deadline,
) -> Result<(), RecipeFailure> {
    use futures_util::FutureExt as _;
    let run = std::panic::AssertUnwindSafe(f(fx)).catch_unwind();
    match tokio::time::timeout_at(deadline.instant().into(), run).await {
        Ok(Ok(r)) => r.map_err(|e| RecipeFailure::Returned(e.to_string())),
        Ok(Err(panic)) => Err(RecipeFailure::Panicked(panic_message(&*panic))),
        Err(_) => Err(RecipeFailure::TimedOut(deadline.budget())),
    }
}

/// The message of a panic payload (`panic!("…")` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
