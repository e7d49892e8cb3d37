//! `cargo ccci forge …`: the forge's commands. `serve` runs it; `pr`, `comment` and `show`
//! are what a person does on a forge's pages, said to a running forge from a terminal.

use super::Options;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The forge's commands.
#[derive(clap::Subcommand)]
pub enum ForgeCmd {
    /// Run the forge: its API under /api/v1, its repositories over git's HTTP, its pages, and
    /// webhook deliveries to --hook, until Ctrl-C or SIGTERM.
    Serve {
        /// Its directory: repositories, records, and the `token` and `webhook-secret` files
        /// (made when missing) the service's configuration names.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Where it listens.
        #[arg(long, default_value = "127.0.0.1:3000", value_name = "ADDR")]
        listen: String,
        /// Where its webhook deliveries go (the service's `<public_url>/hooks/forge`).
        #[arg(long, value_name = "URL")]
        hook: Option<String>,
        /// A user and their permission on every repository: `alice=write` (read, write,
        /// admin). Anyone else reads.
        #[arg(long = "user", value_name = "LOGIN=PERMISSION")]
        users: Vec<String>,
        /// A repository to make, when the forge does not have it yet: `owner/name=PATH`, PATH
        /// a git repository or a directory of release directories (a recipe test crate's
        /// `recipe/`).
        #[arg(long = "repo", value_name = "OWNER/NAME=PATH")]
        repos: Vec<String>,
    },
    /// Open a pull request from a branch pushed to the forge; prints its page.
    Pr {
        /// The repository, owner/name.
        repo: String,
        /// The branch it merges from.
        #[arg(long)]
        head: String,
        /// The branch it merges into.
        #[arg(long, default_value = "main")]
        base: String,
        /// Its title (default: the branch).
        #[arg(long)]
        title: Option<String>,
        /// The forge.
        #[arg(long, default_value = "http://127.0.0.1:3000", value_name = "URL")]
        forge: String,
    },
    /// Comment on a pull request as one of the forge's users; prints the answer of the
    /// webhook delivery the comment sent.
    Comment {
        /// The repository, owner/name.
        repo: String,
        /// The pull request.
        pull: i64,
        /// The comment (`!testme`).
        body: String,
        /// The user who writes it.
        #[arg(long = "as", value_name = "LOGIN")]
        author: String,
        /// The forge.
        #[arg(long, default_value = "http://127.0.0.1:3000", value_name = "URL")]
        forge: String,
    },
    /// Show a pull request's head statuses and its comments; with --wait, first wait until the
    /// status of CONTEXT is final. Exits 0 when it is `success`, 1 otherwise.
    Show {
        /// The repository, owner/name.
        repo: String,
        /// The pull request.
        pull: i64,
        /// Wait until this context's status is no longer pending (`ccci/testme`).
        #[arg(long, value_name = "CONTEXT")]
        wait: Option<String>,
        /// How long to wait.
        #[arg(long, default_value = "20m", value_parser = duration)]
        timeout: Duration,
        /// The forge.
        #[arg(long, default_value = "http://127.0.0.1:3000", value_name = "URL")]
        forge: String,
    },
}

fn duration(v: &str) -> Result<Duration, String> {
    ccci_core::meta::duration(v)
        .ok_or_else(|| format!("`{v}` is not a duration: write it like `20m`"))
}

/// `LOGIN=VALUE` pairs, or the one that is not.
fn pairs(flag: &str, values: &[String]) -> Result<Vec<(String, String)>, String> {
    values
        .iter()
        .map(|v| {
            v.split_once('=')
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| {
                    format!(
                        "{flag} {v}: write it as {}",
                        match flag {
                            "--user" => "LOGIN=PERMISSION, like alice=write",
                            _ => "owner/name=PATH",
                        }
                    )
                })
        })
        .collect()
}

/// Runs a forge command.
///
/// # Errors
/// What went wrong, in one line.
pub fn run(cmd: ForgeCmd) -> Result<ExitCode, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("the forge's runtime: {e}"))?;
    rt.block_on(async move {
        match cmd {
            ForgeCmd::Serve {
                dir,
                listen,
                hook,
                users,
                repos,
            } => serve(dir, &listen, hook, &users, &repos).await,
            ForgeCmd::Pr {
                repo,
                head,
                base,
                title,
                forge,
            } => {
                let body =
                    serde_json::json!({"repo": repo, "head": head, "base": base, "title": title});
                let pull = call(&forge, "/-/pulls", Some(body)).await?;
                crate::say!(
                    "{} #{}: {}",
                    repo,
                    pull["number"],
                    pull["html_url"].as_str().unwrap_or_default()
                );
                Ok(ExitCode::SUCCESS)
            }
            ForgeCmd::Comment {
                repo,
                pull,
                body,
                author,
                forge,
            } => {
                let req =
                    serde_json::json!({"repo": repo, "pull": pull, "author": author, "body": body});
                let out = call(&forge, "/-/comment", Some(req)).await?;
                let d = &out["delivery"];
                match d.is_null() {
                    true => crate::say!(
                        "comment {} written; no delivery (the forge has no --hook)",
                        out["id"]
                    ),
                    false => crate::say!(
                        "comment {} written; delivery {} answered {} {}",
                        out["id"],
                        d["id"].as_str().unwrap_or_default(),
                        d["status"],
                        d["answer"].as_str().unwrap_or_default()
                    ),
                }
                Ok(ExitCode::SUCCESS)
            }
            ForgeCmd::Show {
                repo,
                pull,
                wait,
                timeout,
                forge,
            } => show(&forge, &repo, pull, wait.as_deref(), timeout).await,
        }
    })
}

/// `forge serve`: its flags checked, then the forge until it is stopped.
async fn serve(
    dir: PathBuf,
    listen: &str,
    hook: Option<String>,
    users: &[String],
    repos: &[String],
) -> Result<ExitCode, String> {
    let users = pairs("--user", users)?;
    for (u, p) in &users {
        if !["read", "write", "admin"].contains(&p.as_str()) {
            return Err(format!(
                "--user {u}={p}: the permission is read, write or admin"
            ));
        }
    }
    let imports: Vec<(String, PathBuf)> = pairs("--repo", repos)?
        .into_iter()
        .map(|(r, p)| (r, PathBuf::from(p)))
        .collect();
    super::serve(Options { dir, users, hook }, listen, &imports).await?;
    Ok(ExitCode::SUCCESS)
}

/// Calls the forge at `forge` (`path`, a JSON body to POST or none to GET); its JSON answer.
async fn call(
    forge: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("{}{path}", forge.trim_end_matches('/'));
    let req = match body {
        Some(b) => http.post(&url).json(&b),
        None => http.get(&url),
    };
    let r = req.send().await.map_err(|e| {
        format!("the forge at {forge} did not answer ({e}): start it with `cargo ccci forge serve`")
    })?;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("the forge answered {status}: {}", text.trim()));
    }
    serde_json::from_str(&text)
        .map_err(|e| format!("the forge answered what is not JSON ({e}): {text}"))
}

/// The state of `context`'s latest status in `shown`, if any.
fn state_of<'a>(shown: &'a serde_json::Value, context: &str) -> Option<&'a str> {
    shown["statuses"]
        .as_array()?
        .iter()
        .rev()
        .find(|s| s["context"] == context)?["state"]
        .as_str()
}

async fn show(
    forge: &str,
    repo: &str,
    pull: i64,
    wait: Option<&str>,
    timeout: Duration,
) -> Result<ExitCode, String> {
    let path = format!("/-/pulls/{repo}/{pull}");
    let started = Instant::now();
    let shown = loop {
        let shown = call(forge, &path, None).await?;
        let Some(context) = wait else { break shown };
        match state_of(&shown, context) {
            Some(s) if s != "pending" => break shown,
            _ if started.elapsed() >= timeout => {
                return Err(format!(
                    "{repo}#{pull}: no final `{context}` status within {} s",
                    timeout.as_secs()
                ))
            }
            _ => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    };
    crate::say!(
        "{repo} #{pull} {}: head {}",
        shown["pull"]["title"].as_str().unwrap_or_default(),
        shown["pull"]["head"]["sha"].as_str().unwrap_or_default()
    );
    for s in shown["statuses"].as_array().into_iter().flatten() {
        crate::say!(
            "status {} {}: {}",
            s["context"].as_str().unwrap_or_default(),
            s["state"].as_str().unwrap_or_default(),
            s["description"].as_str().unwrap_or_default()
        );
    }
    for c in shown["comments"].as_array().into_iter().flatten() {
        crate::say!(
            "comment by {}:\n{}",
            c["author"].as_str().unwrap_or_default(),
            c["body"].as_str().unwrap_or_default()
        );
    }
    let green = wait.is_none_or(|c| state_of(&shown, c) == Some("success"));
    Ok(if green {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
