//! The `coop-cloud.<stack>.chaos-version` label value: the recipe commit a chaos deploy ran.
//!
//! abra stamps the short SHA of the recipe checkout's HEAD, plus `+U` when the tree had
//! untracked or unstaged files. After an upgrade the harness proves the running stack is the
//! head by comparing that commit, with `+U` stripped, to the head commit: a redeploy that did
//! not take would otherwise pass as an upgrade [R16].

use std::fmt;
use std::str::FromStr;

/// A parsed chaos-version label value.
///
/// ```
/// use ccci_core::ChaosVersion;
/// let c: ChaosVersion = "eb96de94+U".parse().unwrap();
/// assert!(c.untracked);
/// assert!(c.is_commit("eb96de94c0ffee00112233445566778899aabbcc"));
/// assert_eq!(c.to_string(), "eb96de94+U");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaosVersion {
    /// The (usually abbreviated) commit SHA, lower-case hex.
    pub commit: String,
    /// True when the tree had untracked or unstaged files (`+U`).
    pub untracked: bool,
}

/// Why a label value is not a chaos version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chaos-version label `{0}` is not `<hex commit>` or `<hex commit>+U`")]
pub struct ChaosVersionError(String);

impl ChaosVersion {
    /// Shortest abbreviation accepted when comparing commits.
    pub const MIN_ABBREV: usize = 7;

    /// Builds the value for a commit (full or abbreviated) and tree state; the commit is
    /// abbreviated to 8 characters as abra does.
    pub fn new(commit: &str, untracked: bool) -> Self {
        ChaosVersion {
            commit: commit.chars().take(8).collect::<String>().to_lowercase(),
            untracked,
        }
    }

    /// Whether this label names `commit` (full or abbreviated; `+U` is ignored: an overlay in
    /// the tree does not change which commit runs).
    pub fn is_commit(&self, commit: &str) -> bool {
        let commit = commit.to_lowercase();
        let n = self.commit.len().min(commit.len());
        n >= Self::MIN_ABBREV && self.commit[..n] == commit[..n]
    }
}

impl FromStr for ChaosVersion {
    type Err = ChaosVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (commit, untracked) = match s.strip_suffix("+U") {
            Some(c) => (c, true),
            None => (s, false),
        };
        if commit.len() < Self::MIN_ABBREV || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ChaosVersionError(s.to_string()));
        }
        Ok(ChaosVersion {
            commit: commit.to_lowercase(),
            untracked,
        })
    }
}

impl fmt::Display for ChaosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.commit)?;
        if self.untracked {
            f.write_str("+U")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_strips_untracked_marker() {
        let clean: ChaosVersion = "eb96de94".parse().unwrap();
        assert!(!clean.untracked);
        assert_eq!(clean.to_string(), "eb96de94");
        let dirty = ChaosVersion::new("EB96DE94C0FFEE", true);
        assert_eq!(dirty.to_string(), "eb96de94+U");
        assert!(dirty.is_commit("eb96de94c0ffee"));
    }

    #[test]
    fn a_different_commit_never_matches() {
        let c: ChaosVersion = "eb96de94+U".parse().unwrap();
        assert!(!c.is_commit("7ae7b0f1aa"));
        assert!(!c.is_commit("eb96"), "too short to be trusted");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "+U", "xyz12345", "1.2.0+3.3.1", "abc"] {
            assert!(bad.parse::<ChaosVersion>().is_err(), "{bad}");
        }
    }
}
