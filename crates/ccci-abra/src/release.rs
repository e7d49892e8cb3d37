//! Release policy: which release an upgrade starts from, and the tags that cannot say which
//! commit a release is. Pure: the releases come in as read from the recipe's tags.

use crate::error::AbraError;
use crate::Release;
use ccci_core::version::previous_release;

/// Refuses two release tags of one version on different commits: which is the release?
pub fn same_version_twice(releases: &[Release]) -> Result<(), AbraError> {
    for (i, a) in releases.iter().enumerate() {
        if let Some(b) = releases[i + 1..]
            .iter()
            .find(|b| b.version == a.version && b.commit != a.commit)
        {
            return Err(AbraError::SameVersionTwice {
                a: a.tag.clone(),
                b: b.tag.clone(),
                version: a.version.to_string(),
            });
        }
    }
    Ok(())
}

/// The release the upgrade starts from: `upgrade_base_version` when set (it must be a
/// release), else the release before the head; for an unreleased head, the latest release.
pub fn select_base(
    wanted: &Option<ccci_core::Version>,
    releases: &[Release],
    head_release: Option<&Release>,
    head_commit: &str,
) -> Result<Option<Release>, AbraError> {
    if let Some(v) = wanted {
        let base = releases
            .iter()
            .find(|r| &r.version == v)
            .cloned()
            .ok_or_else(|| AbraError::UnknownBase {
                wanted: v.to_string(),
                releases: releases.iter().map(|r| r.version.to_string()).collect(),
            })?;
        if let Some(h) = head_release.filter(|h| h.version <= base.version) {
            return Err(AbraError::HeadNotAfterBase {
                head: h.tag.clone(),
                base: base.tag.clone(),
            });
        }
        return Ok(Some(base));
    }
    let versions: Vec<ccci_core::Version> = releases
        .iter()
        .filter(|r| r.commit != head_commit)
        .map(|r| r.version.clone())
        .collect();
    let base = match head_release {
        Some(h) => previous_release(&versions, &h.version).cloned(),
        None => versions.iter().max().cloned(),
    };
    Ok(base.and_then(|v| releases.iter().find(|r| r.version == v).cloned()))
}

/// The releases before `base` an upgrade matrix also starts from: up to `count`, newest
/// first, none at `head_commit` (a tag of the head is no base).
pub fn older_bases(
    releases: &[Release],
    base: &Release,
    head_commit: &str,
    count: usize,
) -> Vec<Release> {
    let mut older: Vec<Release> = releases
        .iter()
        .filter(|r| r.version < base.version && r.commit != head_commit)
        .cloned()
        .collect();
    older.sort_by(|a, b| b.version.cmp(&a.version));
    older.truncate(count);
    older
}

#[cfg(test)]
mod tests {
    use super::{older_bases, select_base};
    use crate::Release;

    fn rel(v: &str, commit: &str) -> Release {
        Release {
            version: v.parse().unwrap(),
            tag: v.into(),
            commit: commit.into(),
            annotated: true,
        }
    }

    #[test]
    fn older_bases_are_the_releases_before_the_base_newest_first() {
        let all = [
            rel("1.0.0+1", "a"),
            rel("1.3.0+1", "d"),
            rel("1.2.0+1", "c"),
            rel("1.1.0+1", "b"),
        ];
        let older = older_bases(&all, &all[2], "d", 5);
        let tags: Vec<&str> = older.iter().map(|r| r.tag.as_str()).collect();
        assert_eq!(tags, ["1.1.0+1", "1.0.0+1"]);
        assert_eq!(older_bases(&all, &all[2], "d", 1).len(), 1);
        assert!(older_bases(&all, &all[0], "d", 3).is_empty());
    }

    #[test]
    fn the_base_is_the_release_before_the_head() {
        let all = [
            rel("1.0.0+1", "a"),
            rel("1.2.0+1", "c"),
            rel("1.1.0+1", "b"),
        ];
        let base = select_base(&None, &all, Some(&all[1]), "c")
            .unwrap()
            .unwrap();
        assert_eq!(base.tag, "1.1.0+1");
        assert!(
            select_base(&None, &all, Some(&all[0]), "a")
                .unwrap()
                .is_none(),
            "the first release has nothing before it"
        );
    }

    #[test]
    fn an_unreleased_head_upgrades_from_the_latest_release() {
        let all = [rel("1.0.0+1", "a"), rel("1.1.0+1", "b")];
        assert_eq!(
            select_base(&None, &all, None, "d").unwrap().unwrap().tag,
            "1.1.0+1"
        );
        assert!(select_base(&None, &[], None, "d").unwrap().is_none());
    }

    #[test]
    fn upgrade_base_version_must_be_a_release() {
        let all = [
            rel("1.0.0+1", "a"),
            rel("1.1.0+1", "b"),
            rel("1.2.0+1", "c"),
        ];
        let wanted = Some("1.0.0+1".parse().unwrap());
        assert_eq!(
            select_base(&wanted, &all, Some(&all[2]), "c")
                .unwrap()
                .unwrap()
                .tag,
            "1.0.0+1"
        );
        let missing = Some("0.9.0+1".parse().unwrap());
        let e = select_base(&missing, &all, Some(&all[2]), "c")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("upgrade_base_version 0.9.0+1 is not a release")
                && e.contains("1.0.0+1, 1.1.0+1, 1.2.0+1"),
            "{e}"
        );
    }
}
