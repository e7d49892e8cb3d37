//! The forge's repositories: made from a git repository or a directory of release
//! directories, served over git's smart HTTP by `git http-backend` (clones, fetches and
//! pushes), each pull request's head kept at `refs/pull/N/head`.

use super::{now, Forge, Pull};
use crate::serve::proc;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// A git command's budget: the forge's repositories are recipes, a few hundred kilobytes.
const GIT: Duration = Duration::from_secs(60);

/// Makes `repo` (`owner/name`) from `from`: a git repository (its branches and tags, its
/// current branch becoming `main`) or a directory of release directories
/// (`1.0.0+1.22.1/`, each a commit and an annotated tag, as a recipe's test crate keeps
/// them). `false` when the forge has it already (it is kept as it is).
///
/// # Errors
/// When `repo` is not `owner/name`, or git fails, saying what it ran.
pub(super) async fn import(f: &Forge, repo: &str, from: &Path) -> Result<bool, String> {
    let Some((owner, name)) = repo.split_once('/') else {
        return Err(format!("--repo {repo}: write it as owner/name=PATH"));
    };
    if f.repo_dir(repo).is_some() {
        return Ok(false);
    }
    let dest = f.repos().join(owner).join(format!("{name}.git"));
    // A repository of its own (a work tree's `.git`, or a bare one), not a directory inside
    // another's work tree: a recipe's `recipe/` is in ccci's.
    let is_git = from.join(".git").exists()
        || (from.join("HEAD").is_file() && from.join("objects").is_dir());
    let source = match is_git {
        true => from.to_path_buf(),
        false => {
            let work = f.dir.join("import").join(owner).join(name);
            ccci_abra::Recipe::from_release_dirs(
                name,
                from,
                &work,
                ccci_process::Deadline::after(GIT),
            )
            .map_err(|e| format!("--repo {repo}={}: {e}", from.display()))?;
            work
        }
    };
    let (src, dst) = (source.display().to_string(), dest.display().to_string());
    proc::run(
        "git",
        &["clone", "--quiet", "--bare", &src, &dst],
        None,
        &[],
        GIT,
    )
    .await?;
    let current = proc::run(
        "git",
        &["symbolic-ref", "--short", "HEAD"],
        Some(&dest),
        &[],
        GIT,
    )
    .await?;
    if current != "main" {
        proc::run(
            "git",
            &["branch", "-m", &current, "main"],
            Some(&dest),
            &[],
            GIT,
        )
        .await?;
    }
    let _ = std::fs::remove_dir_all(f.dir.join("import"));
    Ok(true)
}

/// The commit branch `branch` of `dir` is at, when it exists.
async fn tip(dir: &Path, branch: &str) -> Option<String> {
    let reference = format!("refs/heads/{branch}");
    proc::run(
        "git",
        &["rev-parse", "--verify", "--quiet", &reference],
        Some(dir),
        &[],
        GIT,
    )
    .await
    .ok()
}

impl Forge {
    /// Opens a pull request of `repo` from branch `head` into `base`, its head at
    /// `refs/pull/N/head`, and sends its `opened` delivery.
    ///
    /// # Errors
    /// When the repository or a branch does not exist, saying which.
    pub async fn open_pull(
        &self,
        repo: &str,
        head: &str,
        base: &str,
        title: &str,
    ) -> Result<Pull, String> {
        let dir = self
            .repo_dir(repo)
            .ok_or_else(|| format!("{repo}: the forge has no such repository"))?;
        let sha = tip(&dir, head).await.ok_or_else(|| {
            format!(
                "{repo} has no branch `{head}`: push it first (git push <clone url> HEAD:{head})"
            )
        })?;
        tip(&dir, base)
            .await
            .ok_or_else(|| format!("{repo} has no branch `{base}` to merge into"))?;
        let pull = self.change(|b| {
            let number = b
                .pulls
                .iter()
                .filter(|p| p.repo == repo)
                .map(|p| p.number)
                .max()
                .unwrap_or(0)
                + 1;
            let p = Pull {
                repo: repo.into(),
                number,
                title: title.into(),
                head: head.into(),
                base: base.into(),
                sha: sha.clone(),
                opened: now(),
                pushes: Vec::new(),
            };
            b.pulls.push(p.clone());
            p
        });
        let reference = format!("refs/pull/{}/head", pull.number);
        proc::run(
            "git",
            &["update-ref", &reference, &sha],
            Some(&dir),
            &[],
            GIT,
        )
        .await?;
        tracing::info!(
            "{repo}#{}: opened from {head} at {}",
            pull.number,
            short(&sha)
        );
        self.deliver_pull(&pull, "opened");
        Ok(pull)
    }

    /// After a push to `repo`: each open pull request whose branch moved gets its new head at
    /// `refs/pull/N/head`, a push on its timeline, and a `synchronized` delivery.
    async fn pushed_to(&self, repo: &str) {
        let Some(dir) = self.repo_dir(repo) else {
            return;
        };
        let pulls: Vec<Pull> = self
            .lock()
            .pulls
            .iter()
            .filter(|p| p.repo == repo)
            .cloned()
            .collect();
        for p in pulls {
            let Some(sha) = tip(&dir, &p.head).await else {
                continue;
            };
            if sha == p.sha {
                continue;
            }
            let reference = format!("refs/pull/{}/head", p.number);
            if let Err(e) = proc::run(
                "git",
                &["update-ref", &reference, &sha],
                Some(&dir),
                &[],
                GIT,
            )
            .await
            {
                tracing::error!(
                    "{repo}#{}: its head could not move to {}: {e}",
                    p.number,
                    short(&sha)
                );
                continue;
            }
            let moved = self.change(|b| {
                let q = b
                    .pulls
                    .iter_mut()
                    .find(|q| q.repo == repo && q.number == p.number)?;
                q.sha = sha.clone();
                q.pushes.push(now());
                Some(q.clone())
            });
            if let Some(q) = moved {
                tracing::info!(
                    "{repo}#{}: pushed to, its head now {}",
                    q.number,
                    short(&sha)
                );
                self.deliver_pull(&q, "synchronized");
            }
        }
    }
}

/// A commit's first 10 characters.
pub(super) fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

/// `owner/name` and the path below it, of a git request (`/owner/name.git/info/refs`).
fn git_path(path: &str) -> Option<(String, &str)> {
    let rest = path.strip_prefix('/')?;
    let (owner, rest) = rest.split_once('/')?;
    let (name, below) = rest.split_once(".git/")?;
    Some((format!("{owner}/{name}"), below))
}

/// Serves a git request by `git http-backend` (the CGI git ships); anything else is 404.
pub(super) async fn serve(
    State(f): State<Arc<Forge>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((repo, below)) = git_path(uri.path()) else {
        return (
            StatusCode::NOT_FOUND,
            "not found: the forge serves /api/v1, its pages and /<owner>/<name>.git\n",
        )
            .into_response();
    };
    if f.repo_dir(&repo).is_none() {
        return (
            StatusCode::NOT_FOUND,
            format!("{repo}: no such repository\n"),
        )
            .into_response();
    }
    let pushing = below == "git-receive-pack";
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut cmd = ccci_process::command("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", f.repos())
        .env("GIT_HTTP_EXPORT_ALL", "1")
        // Pushes are taken from anyone who reaches the forge: it listens for one machine.
        .env("REMOTE_USER", "anyone")
        .env("REQUEST_METHOD", method.as_str())
        .env("PATH_INFO", uri.path())
        .env("QUERY_STRING", uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"));
    let shown = format!("git http-backend {} {}", method, uri.path());
    let input = body.to_vec();
    let out = tokio::task::spawn_blocking(move || {
        ccci_process::run_with_input(cmd, input, shown, ccci_process::Deadline::after(GIT))
    })
    .await;
    let out = match out {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    };
    if pushing {
        f.pushed_to(&repo).await;
    }
    cgi_response(&out)
}

/// A CGI program's output as an HTTP answer: its headers (`Status:` among them), a blank
/// line, its body.
fn cgi_response(out: &[u8]) -> Response {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            out.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let Some((end, body_at)) = split else {
        return (
            StatusCode::BAD_GATEWAY,
            "git http-backend answered no headers\n",
        )
            .into_response();
    };
    let mut response = Response::builder();
    let mut status = StatusCode::OK;
    for line in String::from_utf8_lossy(&out[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            status = value
                .split(' ')
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(StatusCode::BAD_GATEWAY);
        } else {
            response = response.header(name.trim(), value);
        }
    }
    response
        .status(status)
        .body(Body::from(out[body_at..].to_vec()))
        .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, format!("{e}\n")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_path_names_its_repository() {
        assert_eq!(
            git_path("/coop-cloud/custom-html.git/info/refs"),
            Some(("coop-cloud/custom-html".into(), "info/refs"))
        );
        assert_eq!(git_path("/coop-cloud/custom-html/pulls/1"), None);
    }

    #[test]
    fn a_cgi_answer_keeps_its_status_headers_and_body() {
        let r = cgi_response(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()["content-type"], "text/plain");
    }
}
