//! abra's stamp: the labels a deploy puts on an app's main service to say what runs
//! (`coop-cloud.<stack>.version`, `.recipe`, `.chaos` and, for a chaos deploy,
//! `.chaos-version`).
//!
//! Written once by [`crate::render`] and read back by everything that must know which
//! release a stack runs: the upgrade (did the head take?), a warm stack kept at a known-good
//! release (a canonical, the OIDC provider). One type spells the labels for all of them, so
//! a reader cannot drift from what the writer stamps.
//!
//! ```
//! use ccci_abra::Stamp;
//! use std::collections::HashMap;
//! let labels: HashMap<String, String> = Stamp::labels("s", Some("1.0.0+1"), "r", None).into_iter().collect();
//! let stamp = Stamp::read("s", &labels);
//! assert_eq!(stamp.version.as_deref(), Some("1.0.0+1"));
//! assert_eq!(stamp.chaos, Some(false));
//! ```

use ccci_core::{ChaosVersion, Version};
use std::collections::HashMap;

/// What one service's labels say it runs; a label that is absent is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp {
    /// The release's version (a chaos deploy keeps the last release's, as abra does).
    pub version: Option<String>,
    /// The recipe's name.
    pub recipe: Option<String>,
    /// Whether it was a chaos deploy (`None` when the label is absent or not a boolean).
    pub chaos: Option<bool>,
    /// For a chaos deploy, the commit deployed, as abra stamps it (`<short sha>[+U]`).
    pub chaos_version: Option<String>,
}

/// One of the labels abra stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `coop-cloud.<stack>.version`
    Version,
    /// `coop-cloud.<stack>.recipe`
    Recipe,
    /// `coop-cloud.<stack>.chaos`
    Chaos,
    /// `coop-cloud.<stack>.chaos-version`
    ChaosVersion,
}

impl Field {
    /// The label's key on `stack`'s services.
    ///
    /// ```
    /// assert_eq!(ccci_abra::stamp::Field::ChaosVersion.key("s"), "coop-cloud.s.chaos-version");
    /// ```
    pub fn key(self, stack: &str) -> String {
        let what = match self {
            Field::Version => "version",
            Field::Recipe => "recipe",
            Field::Chaos => "chaos",
            Field::ChaosVersion => "chaos-version",
        };
        format!("coop-cloud.{stack}.{what}")
    }
}

impl Stamp {
    /// The labels a deploy of `stack` stamps: `version` when a release is deployed (`None`
    /// keeps the one the recipe has), the recipe, and whether (and what) a chaos deploy ran.
    pub fn labels(
        stack: &str,
        version: Option<&str>,
        recipe: &str,
        chaos: Option<&ChaosVersion>,
    ) -> Vec<(String, String)> {
        let mut labels = Vec::with_capacity(4);
        if let Some(v) = version {
            labels.push((Field::Version.key(stack), v.to_string()));
        }
        labels.push((Field::Recipe.key(stack), recipe.to_string()));
        labels.push((Field::Chaos.key(stack), chaos.is_some().to_string()));
        if let Some(c) = chaos {
            labels.push((Field::ChaosVersion.key(stack), c.to_string()));
        }
        labels
    }

    /// What `labels` (one service's) say of `stack`.
    pub fn read(stack: &str, labels: &HashMap<String, String>) -> Stamp {
        let get = |f: Field| labels.get(&f.key(stack)).cloned();
        Stamp {
            version: get(Field::Version),
            recipe: get(Field::Recipe),
            chaos: get(Field::Chaos).and_then(|c| c.parse().ok()),
            chaos_version: get(Field::ChaosVersion),
        }
    }

    /// The stamped service among `services` (a stack's, with their labels: the one carrying
    /// the recipe or the version label) and what it says; `None` when no service is stamped.
    pub fn find<'a>(
        stack: &str,
        services: &'a [(String, HashMap<String, String>)],
    ) -> Option<(&'a str, Stamp)> {
        let (recipe, version) = (Field::Recipe.key(stack), Field::Version.key(stack));
        services
            .iter()
            .find(|(_, l)| l.contains_key(&recipe) || l.contains_key(&version))
            .map(|(name, l)| (name.as_str(), Stamp::read(stack, l)))
    }

    /// The version, parsed; `None` when absent or not a release version.
    pub fn release(&self) -> Option<Version> {
        self.version.as_deref()?.parse().ok()
    }

    /// The chaos-version, parsed; `None` when absent or malformed.
    pub fn chaos_commit(&self) -> Option<ChaosVersion> {
        self.chaos_version.as_deref()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, labels: Vec<(String, String)>) -> (String, HashMap<String, String>) {
        (name.to_string(), labels.into_iter().collect())
    }

    #[test]
    fn what_is_stamped_reads_back() {
        let chaos = ChaosVersion::new("eb96de94c0ffee", true);
        let services = vec![
            service("db", vec![("other".into(), "x".into())]),
            service("app", Stamp::labels("s", None, "ghost", Some(&chaos))),
        ];
        let (name, stamp) = Stamp::find("s", &services).expect("stamped");
        assert_eq!(name, "app");
        assert_eq!(stamp.version, None);
        assert_eq!(stamp.recipe.as_deref(), Some("ghost"));
        assert_eq!(stamp.chaos, Some(true));
        assert!(stamp
            .chaos_commit()
            .is_some_and(|c| c.is_commit("eb96de94")));
    }

    #[test]
    fn another_stacks_labels_are_not_this_ones() {
        let services = vec![service(
            "app",
            Stamp::labels("t", Some("1.0.0+1"), "r", None),
        )];
        assert_eq!(Stamp::find("s", &services), None);
        let (_, stamp) = Stamp::find("t", &services).expect("stamped");
        assert_eq!(
            stamp.release().map(|v| v.to_string()).as_deref(),
            Some("1.0.0+1")
        );
    }
}
