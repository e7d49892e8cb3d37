//! Calling a recipe's own function (a lifecycle function, functional test or backup_verify):
//! with its fixtures, under a deadline, a panic caught as this function's failure only.
//!
//! The function runs on a thread of its own, driven by the run's runtime (`Handle::block_on`:
//! its IO and timers are the run's), while the step only awaits its answer. So a function
//! that blocks its thread (a plain `fn` that loops, an `async fn` calling blocking code) is
//! bounded like one that awaits forever: at the deadline, or at Ctrl-C, the step stops
//! waiting, the run goes on to the next step and teardown, and the stuck thread dies with the
//! process.

use crate::error::RecipeFailure;
use crate::fixture::Fixtures;
use ccci_swarm::Deadline;
use std::sync::Arc;

/// A registered recipe function: runs with the step's fixtures.
pub(crate) type RecipeFn =
    for<'a> fn(&'a Fixtures) -> crate::__private::BoxFuture<'a, crate::outcome::Result>;

/// Runs a recipe function until `deadline`. A panic fails this function only; a function
/// still running at the deadline fails, whether it awaits or blocks its thread (that thread
/// is left behind and never joined).
pub(crate) async fn call(
    f: RecipeFn,
    fx: Arc<Fixtures>,
    deadline: Deadline,
) -> Result<(), RecipeFailure> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new()
        .name("ccci-recipe-fn".into())
        .spawn(move || {
            use futures_util::FutureExt as _;
            let run = std::panic::AssertUnwindSafe(f(&fx)).catch_unwind();
            let outcome = match handle.block_on(run) {
                Ok(r) => r.map_err(|e| RecipeFailure::Returned(e.to_string())),
                Err(panic) => Err(RecipeFailure::Panicked(panic_message(&*panic))),
            };
            // The step stopped waiting (deadline, interrupt): nobody wants the answer.
            let _ = tx.send(outcome);
        });
    if let Err(e) = spawned {
        return Err(RecipeFailure::NoThread(e));
    }
    match tokio::time::timeout_at(deadline.instant().into(), rx).await {
        Ok(Ok(outcome)) => outcome,
        // The thread ended without an answer: only a panic outside catch_unwind does that.
        Ok(Err(_)) => Err(RecipeFailure::Panicked(
            "the recipe function's thread ended without an answer".into(),
        )),
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
