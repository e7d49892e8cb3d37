//! The store for async callers (the dashboard, the service): every question asked on a
//! blocking thread, within the store's own wait and a little more, so a page or a worker never
//! blocks the runtime and never waits for ever.

use crate::{Store, StoreError, STORE_WAIT};
use std::sync::Arc;
use std::time::Duration;

/// How long an async caller waits for an answer: the store's own wait for a lock or a
/// connection, and a little more for the question itself.
pub const ASK_WITHIN: Duration = Duration::from_secs(STORE_WAIT.as_secs() + 5);

/// Runs `ask` on `store` on a blocking thread, within [`ASK_WITHIN`].
///
/// # Errors
/// `ask`'s own; [`StoreError::NoAnswer`] when it did not answer in time, or its thread failed.
pub async fn on_thread<T: Send + 'static>(
    store: &Arc<Store>,
    ask: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    match tokio::time::timeout(ASK_WITHIN, tokio::task::spawn_blocking(move || ask(&store))).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => Err(StoreError::NoAnswer(format!(
            "the store's thread failed: {e}"
        ))),
        Err(_) => Err(StoreError::NoAnswer(format!(
            "it did not answer within {} s",
            ASK_WITHIN.as_secs()
        ))),
    }
}
