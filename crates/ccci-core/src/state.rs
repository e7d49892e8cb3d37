//! `OpState`: typed values carried from one op to a later one, e.g. a marker seeded before
//! the backup and looked for after the restore. The harness persists it as `op_state.json`
//! in the run directory so a failed run can be read post mortem.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Mutex;

/// The name and type of one value in [`OpState`], declared once and used where the value is
/// stored and where it is read, so the two cannot disagree.
///
/// ```
/// use ccci_core::{Key, OpState};
/// const MARKER: Key<String> = Key::new("marker");
/// let state = OpState::default();
/// state.put(MARKER, &"ccci-7f3a".to_string()).unwrap();
/// assert_eq!(state.read(MARKER).unwrap(), "ccci-7f3a");
/// ```
pub struct Key<T> {
    name: &'static str,
    _type: PhantomData<fn() -> T>,
}

impl<T> Key<T> {
    /// A key named `name` (the name in `op_state.json`).
    pub const fn new(name: &'static str) -> Key<T> {
        Key {
            name,
            _type: PhantomData,
        }
    }

    /// Its name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

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

/// A value could not be stored, was never stored, or could not be read back as the
/// asked-for type.
#[derive(Debug, thiserror::Error)]
pub enum OpStateError {
    /// The value does not convert to or from JSON as that type.
    #[error("op_state key `{key}`: {source}")]
    Convert {
        /// The key.
        key: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// Nothing was stored under the key.
    #[error("op_state key `{key}` holds nothing: the function that stores it did not run, or did not store it, before this one")]
    Missing {
        /// The key.
        key: String,
    },
}

impl OpState {
    /// Stores `value` under `key`, replacing what was there.
    pub fn set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), OpStateError> {
        let v = serde_json::to_value(value).map_err(|source| OpStateError::Convert {
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
                .map_err(|source| OpStateError::Convert {
                    key: key.into(),
                    source,
                }),
        }
    }

    /// Stores `value` under the typed `key`, replacing what was there.
    pub fn put<T: Serialize>(&self, key: Key<T>, value: &T) -> Result<(), OpStateError> {
        self.set(key.name, value)
    }

    /// Reads the typed `key`; an error when nothing was stored under it.
    pub fn read<T: DeserializeOwned>(&self, key: Key<T>) -> Result<T, OpStateError> {
        self.get(key.name)?.ok_or_else(|| OpStateError::Missing {
            key: key.name.into(),
        })
    }

    /// Stores every value of `values` (as [`OpState::values`] gave them), replacing what was
    /// under their keys: a state carried over from elsewhere (a canonical's seeding).
    pub fn extend(&self, values: &BTreeMap<String, serde_json::Value>) {
        self.lock()
            .extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// A copy of everything stored, for persisting.
    pub fn values(&self) -> BTreeMap<String, serde_json::Value> {
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

    #[test]
    fn typed_keys_read_back_or_say_what_is_missing() {
        const ROWS: Key<u32> = Key::new("rows");
        let s = OpState::default();
        let e = s.read(ROWS).unwrap_err().to_string();
        assert!(e.contains("`rows` holds nothing"), "{e}");
        s.put(ROWS, &3).unwrap();
        assert_eq!(s.read(ROWS).unwrap(), 3);
    }
}
