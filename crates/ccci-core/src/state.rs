//! `OpState`: typed values carried from one op to a later one (R6), e.g. a marker seeded
//! before backup and checked after restore. The harness persists it as `op_state.json` in the
//! run directory so a failed run can be read post mortem.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A small typed key–value store shared by the tests of one run.
///
/// ```
/// let state = ccci_core::OpState::default();
/// state.set("marker", &"ccci-7f3a").unwrap();
/// let back: String = state.get("marker").unwrap().unwrap();
/// assert_eq!(back, "ccci-7f3a");
/// ```
#[derive(Debug, Default)]
pub struct OpState {
    values: Mutex<BTreeMap<String, serde_json::Value>>,
}

/// A value could not be stored or read back as the asked-for type.
#[derive(Debug, thiserror::Error)]
#[error("op_state key `{key}`: {source}")]
pub struct OpStateError {
    key: String,
    #[source]
    source: serde_json::Error,
}

impl OpState {
    /// Stores `value` under `key`, replacing what was there.
    pub fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), OpStateError> {
        let v = serde_json::to_value(value).map_err(|source| OpStateError {
            key: key.into(),
            source,
        })?;
        self.lock().insert(key.to_string(), v);
        Ok(())
    }

    /// Reads `key` back as `T`; `Ok(None)` when nothing was stored under it.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, OpStateError> {
        match self.lock().get(key) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|source| OpStateError {
                    key: key.into(),
                    source,
                }),
        }
    }

    /// A copy of everything stored, for persisting.
    pub fn snapshot(&self) -> BTreeMap<String, serde_json::Value> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, serde_json::Value>> {
        // A test that panicked while holding the lock cannot leave a half-written map:
        // insert is the only mutation.
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_is_an_error_naming_the_key() {
        let s = OpState::default();
        s.set("rows", &3u32).unwrap();
        let e = s.get::<String>("rows").unwrap_err().to_string();
        assert!(e.contains("`rows`"), "{e}");
        assert_eq!(s.get::<u32>("missing").unwrap(), None);
    }
}
