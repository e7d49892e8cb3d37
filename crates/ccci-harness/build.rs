//! Records which commit of ccci's source this was built from (results.json's `ccci.commit`,
//! what an A/B comparison of two runs sets side by side), read from the checkout's `.git`
//! without running git. Built from a crate download, there is no `.git`, and no commit.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let Some((git_dir, common)) = manifest.ancestors().find_map(git_dirs) else {
        return;
    };
    // Rebuilt when HEAD moves: a checkout, a commit, a fetch that repacks refs. Only files
    // that exist are watched: cargo reruns a build script at every build for a missing one.
    let head = git_dir.join("HEAD");
    let named = std::fs::read_to_string(&head)
        .ok()
        .and_then(|h| Some(common.join(h.trim().strip_prefix("ref:")?.trim())));
    for watched in [Some(head), named, Some(common.join("packed-refs"))]
        .into_iter()
        .flatten()
        .filter(|p| p.exists())
    {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
    if let Some(commit) = head_commit(&git_dir, &common) {
        println!("cargo:rustc-env=SOURCE_COMMIT={commit}");
    }
}

/// The git directory of a checkout at `dir` and its common directory (they differ for a
/// worktree, whose `.git` is a file naming its own git directory).
fn git_dirs(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let dot_git = dir.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        let text = std::fs::read_to_string(&dot_git).ok()?;
        let path = PathBuf::from(text.strip_prefix("gitdir:")?.trim());
        if path.is_absolute() {
            path
        } else {
            dir.join(path)
        }
    };
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(c) => git_dir.join(c.trim()),
        Err(_) => git_dir.clone(),
    };
    Some((git_dir, common))
}

/// The commit HEAD names: detached, a loose ref, or a packed one.
fn head_commit(git_dir: &Path, common: &Path) -> Option<String> {
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let Some(name) = head.trim().strip_prefix("ref:").map(str::trim) else {
        return Some(head.trim().to_string());
    };
    if let Ok(commit) = std::fs::read_to_string(common.join(name)) {
        return Some(commit.trim().to_string());
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (commit, r) = l.split_once(' ')?;
        (r == name).then(|| commit.to_string())
    })
}
