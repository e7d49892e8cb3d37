//! A recipe: a git repository whose annotated tags `<recipe semver>+<upstream>` are releases.

use crate::error::{io, AbraError};
use crate::git::{git, git_env};
use ccci_core::{ChaosVersion, Version};
use ccci_swarm::Deadline;
use std::path::{Path, PathBuf};

/// A recipe checkout.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// The recipe's name, e.g. `custom-html`.
    pub name: String,
    /// Its working tree.
    pub dir: PathBuf,
}

/// One release tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The parsed version.
    pub version: Version,
    /// The tag name.
    pub tag: String,
    /// The commit it points at.
    pub commit: String,
    /// Whether the tag is annotated (abra only treats annotated tags as releases, abra lint R014).
    pub annotated: bool,
}

impl Recipe {
    /// Clones `url` (a URL, or a path relative to the current directory) into `dest` with
    /// all tags.
    pub fn clone_from(
        name: &str,
        url: &str,
        dest: &Path,
        deadline: Deadline,
    ) -> Result<Recipe, AbraError> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let parent = parent.canonicalize().map_err(io(parent))?;
        let dest = parent.join(dest.file_name().unwrap_or(dest.as_os_str()));
        // git resolves a relative path against its -C directory, not ours.
        let url = match Path::new(url).exists() {
            true => Path::new(url)
                .canonicalize()
                .map_err(io(url))?
                .display()
                .to_string(),
            false => url.to_string(),
        };
        let dest_s = dest.to_string_lossy();
        git(&parent, &["clone", "--quiet", &url, &dest_s], deadline)?;
        Ok(Recipe {
            name: name.into(),
            dir: dest,
        })
    }

    /// Builds a real git repository at `dest` from `src`, a directory with one sub-directory
    /// per release named by its version (`1.0.0+1.22/`), and optionally `HEAD/` for work after
    /// the last release. Each release becomes one commit and one annotated tag
    /// (`chore: publish <version> release`, as Co-op Cloud tags them); commit dates are fixed, so
    /// the same files always give the same commit ids.
    pub fn from_release_dirs(
        name: &str,
        src: &Path,
        dest: &Path,
        deadline: Deadline,
    ) -> Result<Recipe, AbraError> {
        let mut releases = Vec::new();
        let mut head = None;
        for e in std::fs::read_dir(src).map_err(io(src))? {
            let e = e.map_err(io(src))?;
            if !e.path().is_dir() {
                continue;
            }
            let dir_name = e.file_name().to_string_lossy().into_owned();
            if dir_name == "HEAD" {
                head = Some(e.path());
                continue;
            }
            let v: Version = dir_name.parse().map_err(|err| {
                AbraError::Recipe(format!("{}: release directory `{dir_name}`: {err}; name it by its version, or HEAD for unreleased work", src.display()))
            })?;
            releases.push((v, e.path()));
        }
        if releases.is_empty() && head.is_none() {
            return Err(AbraError::Recipe(format!(
                "{} has no release directories: add one per release, named like `1.0.0+1.22`",
                src.display()
            )));
        }
        releases.sort();
        if dest.exists() {
            std::fs::remove_dir_all(dest).map_err(io(dest))?;
        }
        std::fs::create_dir_all(dest).map_err(io(dest))?;
        git(dest, &["init", "--quiet"], deadline)?;
        let steps = releases
            .iter()
            .map(|(v, p)| (Some(v), p))
            .chain(head.iter().map(|p| (None, p)));
        for (i, (version, tree)) in steps.enumerate() {
            clear_worktree(dest)?;
            copy_tree(tree, dest)?;
            let date = format!("{} +0000", 1_700_000_000 + i * 86_400);
            let env = [
                ("GIT_AUTHOR_DATE", date.as_str()),
                ("GIT_COMMITTER_DATE", date.as_str()),
            ];
            git(dest, &["add", "--all"], deadline)?;
            let msg = match version {
                Some(v) => format!("chore: publish {v} release"),
                None => "unreleased work".to_string(),
            };
            git_env(
                dest,
                &["commit", "--quiet", "--allow-empty", "-m", &msg],
                &env,
                deadline,
            )?;
            if let Some(v) = version {
                let tag = v.to_string();
                git_env(dest, &["tag", "-a", &tag, "-m", &msg], &env, deadline)?;
            }
        }
        Ok(Recipe {
            name: name.into(),
            dir: dest.into(),
        })
    }

    /// Every tag that names a version ([`tag_version`]), oldest first.
    pub fn releases(&self, deadline: Deadline) -> Result<Vec<Release>, AbraError> {
        let out = git(
            &self.dir,
            &[
                "for-each-ref",
                "refs/tags",
                "--format=%(refname:short) %(objecttype) %(objectname) %(*objectname)",
            ],
            deadline,
        )?;
        let mut v: Vec<Release> = out
            .lines()
            .filter_map(|l| {
                let mut f = l.split(' ');
                let (tag, kind, obj, peeled) =
                    (f.next()?, f.next()?, f.next()?, f.next().unwrap_or(""));
                let version = tag_version(tag)?;
                let annotated = kind == "tag";
                let commit = if annotated { peeled } else { obj };
                Some(Release {
                    version,
                    tag: tag.into(),
                    commit: commit.into(),
                    annotated,
                })
            })
            .collect();
        v.sort_by(|a, b| a.version.cmp(&b.version));
        Ok(v)
    }

    /// Re-creates every lightweight version tag as an annotated tag at the same commit, in this
    /// clone only: abra treats only annotated tags as releases (abra lint R014), and real
    /// recipes do push lightweight ones [R17]. Returns the
    /// tags it changed.
    pub fn normalize_tags(&self, deadline: Deadline) -> Result<Vec<String>, AbraError> {
        let mut changed = Vec::new();
        for r in self
            .releases(deadline)?
            .into_iter()
            .filter(|r| !r.annotated)
        {
            let msg = format!("chore: publish {} release", r.version);
            git(
                &self.dir,
                &["tag", "--force", "-a", &r.tag, &r.commit, "-m", &msg],
                deadline,
            )?;
            changed.push(r.tag);
        }
        Ok(changed)
    }

    /// Forces the working tree to `reference` (tag, branch or commit), discarding local
    /// changes but keeping untracked files such as CI overlays, which would otherwise abort
    /// it [R17]. Returns the commit.
    pub fn checkout(&self, reference: &str, deadline: Deadline) -> Result<String, AbraError> {
        git(
            &self.dir,
            &["checkout", "--quiet", "--force", "--detach", reference],
            deadline,
        )?;
        self.head_commit(deadline)
    }

    /// The full commit id of HEAD.
    pub fn head_commit(&self, deadline: Deadline) -> Result<String, AbraError> {
        git(&self.dir, &["rev-parse", "HEAD"], deadline)
    }

    /// The commit `reference` names, without checking it out.
    pub fn resolve(&self, reference: &str, deadline: Deadline) -> Result<String, AbraError> {
        git(
            &self.dir,
            &["rev-parse", &format!("{reference}^{{commit}}")],
            deadline,
        )
    }

    /// The `chaos-version` abra would stamp: HEAD's short id, `+U` when the tree has untracked
    /// or modified files.
    pub fn chaos_version(&self, deadline: Deadline) -> Result<ChaosVersion, AbraError> {
        let dirty = !git(
            &self.dir,
            &["status", "--porcelain", "--untracked-files=all"],
            deadline,
        )?
        .is_empty();
        Ok(ChaosVersion::new(&self.head_commit(deadline)?, dirty))
    }

    /// The content of `path` at `commit`, if the commit has that file.
    pub fn file_at(
        &self,
        commit: &str,
        path: &str,
        deadline: Deadline,
    ) -> Result<Option<String>, AbraError> {
        let listed = git(
            &self.dir,
            &["ls-tree", "--name-only", commit, "--", path],
            deadline,
        )?;
        if listed.is_empty() {
            return Ok(None);
        }
        git(&self.dir, &["show", &format!("{commit}:{path}")], deadline).map(Some)
    }

    /// A file of the working tree.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

/// The version a release tag names. A leading `v` is accepted (`v1.0.2` is 1.0.2): real
/// recipes tag that way, and abra's own handling of it is not documented (docs/recipes.md).
pub fn tag_version(tag: &str) -> Option<Version> {
    let bare = tag
        .strip_prefix('v')
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(tag);
    bare.parse().ok()
}

fn clear_worktree(dir: &Path) -> Result<(), AbraError> {
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let p = e.map_err(io(dir))?.path();
        if p.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        }
        .map_err(io(&p))?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), AbraError> {
    for e in std::fs::read_dir(from).map_err(io(from))? {
        let e = e.map_err(io(from))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).map_err(io(&dst))?;
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(io(&dst))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tag_version;

    #[test]
    fn release_tags_with_and_without_v() {
        assert_eq!(
            tag_version("1.2.0+3.3.1").unwrap().to_string(),
            "1.2.0+3.3.1"
        );
        assert_eq!(tag_version("v1.0.2").unwrap().to_string(), "1.0.2");
        assert!(tag_version("v1.0.2").unwrap() < tag_version("v1.0.3").unwrap());
        assert!(tag_version("vendor").is_none());
        assert!(tag_version("latest").is_none());
    }
}
