//! Recipe release versions: `<recipe semver>+<upstream version>`, e.g. `1.2.0+3.3.1`.
//!
//! Co-op Cloud tags every release of a recipe this way. Precedence follows
//! the recipe part under semver rules (so `1.10.0` > `1.9.0` and `1.0.0-rc1` < `1.0.0`); the
//! upstream part breaks ties only so that ordering is total and deterministic.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A parsed recipe release version.
///
/// ```
/// use ccci_core::Version;
/// let v: Version = "1.2.0+3.3.1".parse().unwrap();
/// assert_eq!((v.major, v.minor, v.patch), (1, 2, 0));
/// assert_eq!(v.upstream.as_deref(), Some("3.3.1"));
/// assert!(v < "1.10.0+3.3.1".parse().unwrap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    /// Recipe major version.
    pub major: u64,
    /// Recipe minor version.
    pub minor: u64,
    /// Recipe patch version.
    pub patch: u64,
    /// Semver pre-release of the recipe part (`rc1` in `1.0.0-rc1+2.0`), if any.
    pub pre: Option<String>,
    /// The upstream software version after `+` (may itself contain `-` and `+`).
    pub upstream: Option<String>,
}

/// Why a string is not a recipe version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a recipe version: {why} (expected `MAJOR.MINOR.PATCH+UPSTREAM`, e.g. `1.2.0+3.3.1`)")]
pub struct VersionError {
    input: String,
    why: &'static str,
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| VersionError {
            input: s.to_string(),
            why,
        };
        let (recipe, upstream) = match s.split_once('+') {
            Some((_, "")) => return Err(err("nothing after `+`")),
            Some((r, u)) => (r, Some(u.to_string())),
            None => (s, None),
        };
        let (core, pre) = match recipe.split_once('-') {
            Some((_, "")) => return Err(err("empty pre-release after `-`")),
            Some((c, p)) => (c, Some(p.to_string())),
            None => (recipe, None),
        };
        let mut parts = core.split('.');
        let mut num = || -> Result<u64, VersionError> {
            let p = parts
                .next()
                .ok_or_else(|| err("fewer than three numbers"))?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("a version number is not a non-negative integer"));
            }
            p.parse().map_err(|_| err("a version number is too large"))
        };
        let (major, minor, patch) = (num()?, num()?, num()?);
        if parts.next().is_some() {
            return Err(err("more than three numbers before `+`"));
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            upstream,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        if let Some(up) = &self.upstream {
            write!(f, "+{up}")?;
        }
        Ok(())
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => cmp_pre(a, b),
            })
            .then_with(|| self.upstream.cmp(&other.upstream))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Semver pre-release precedence: dot-separated identifiers, numeric ones compared as numbers
/// and lower than alphanumeric ones, a shorter list lower when all shared fields are equal.
fn cmp_pre(a: &str, b: &str) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The release a `head` upgrades from: the greatest version strictly below it.
///
/// ```
/// use ccci_core::version::{previous_release, Version};
/// let all: Vec<Version> = ["1.0.0+1", "1.1.0+1", "1.2.0+1"].iter().map(|s| s.parse().unwrap()).collect();
/// assert_eq!(previous_release(&all, &all[2]).unwrap().to_string(), "1.1.0+1");
/// assert!(previous_release(&all, &all[0]).is_none());
/// ```
pub fn previous_release<'a>(releases: &'a [Version], head: &Version) -> Option<&'a Version> {
    releases.iter().filter(|v| *v < head).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn parses_coop_cloud_tags() {
        let x = v("2.0.1+1.0.6-social-amd64");
        assert_eq!((x.major, x.minor, x.patch), (2, 0, 1));
        assert_eq!(x.upstream.as_deref(), Some("1.0.6-social-amd64"));
        assert_eq!(x.to_string(), "2.0.1+1.0.6-social-amd64");
        assert_eq!(v("0.7.0+3.3.1").to_string(), "0.7.0+3.3.1");
        assert_eq!(v("1.0.0-rc.1+5").pre.as_deref(), Some("rc.1"));
    }

    #[test]
    fn orders_by_recipe_semver() {
        let mut all = [
            v("1.10.0+1"),
            v("1.9.0+2"),
            v("1.0.0+9"),
            v("1.0.0-rc.2+9"),
            v("1.0.0-rc.10+9"),
        ];
        all.sort();
        let got: Vec<String> = all.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "1.0.0-rc.2+9",
                "1.0.0-rc.10+9",
                "1.0.0+9",
                "1.9.0+2",
                "1.10.0+1"
            ]
        );
    }

    #[test]
    fn rejects_non_versions_with_the_reason() {
        for (bad, why) in [
            ("1.2+3", "fewer than three numbers"),
            ("1.2.3.4+5", "more than three numbers"),
            ("v1.2.3+4", "not a non-negative integer"),
            ("1.2.3+", "nothing after"),
            ("latest", "not a non-negative integer"),
        ] {
            let e = bad.parse::<Version>().unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(e.contains("e.g. `1.2.0+3.3.1`"), "{e}");
        }
    }

    #[test]
    fn previous_release_skips_newer_ones() {
        let all = [v("1.0.0+1"), v("1.2.0+1"), v("1.1.0+1")];
        assert_eq!(previous_release(&all, &v("1.2.0+1")), Some(&all[2]));
        assert_eq!(previous_release(&all, &v("9.0.0+1")), Some(&all[1]));
    }
}
