//! `cargo ccci report RESULTS --post …`: a CI engine's step (Woodpecker, Forgejo Actions)
//! tells a pull request how a run went, as `serve` does: the commit status and ccci's report
//! comment (its earlier one edited), with the same forge client. Each call is tried again
//! with backoff a few times while the forge is away.

use crate::tell;
use ccci_forge::{Forge, ForgeError};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// What to post, and where.
#[derive(clap::Args)]
pub struct PostArgs {
    /// The run's results.json.
    results: PathBuf,
    /// The forge's API (`https://git.coopcloud.tech/api/v1`).
    #[arg(long, value_name = "URL")]
    forge: String,
    /// The repository, `owner/name`.
    #[arg(long)]
    repo: String,
    /// The pull request.
    #[arg(long)]
    pr: i64,
    /// The commit to set the status of (default: the commit the run tested).
    #[arg(long)]
    sha: Option<String>,
    /// The status's context (default [`crate::tell::CONTEXT`], the one `serve` sets too).
    #[arg(long, default_value = crate::tell::CONTEXT)]
    context: String,
    /// Where the status links (the CI engine's page of the job).
    #[arg(long, value_name = "URL", default_value = "")]
    target_url: String,
    /// Where the run directory's files are served: the report links them under it.
    #[arg(long, value_name = "BASE")]
    artifact_url: Option<String>,
    /// The forge account's token.
    #[arg(long, env = ccci_core::vars::FORGE_TOKEN, hide_env_values = true)]
    token: Option<String>,
}

/// How many times a call is tried while the forge is away.
const TRIES: u32 = 4;

/// Posts the status and the report; exit 0 when both were taken, 2 when not (said why).
pub fn post(a: PostArgs) -> Result<ExitCode, String> {
    let text =
        std::fs::read_to_string(&a.results).map_err(|e| format!("{}: {e}", a.results.display()))?;
    let r: ccci_core::Results = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a ccci results.json: {e}", a.results.display()))?;
    let sha = a.sha.clone().unwrap_or_else(|| r.head.commit.clone());
    if sha.is_empty() {
        return Err(format!(
            "{}: the run tested no commit (it was refused before it resolved one): give --sha",
            a.results.display()
        ));
    }
    let token = a.token.as_deref().filter(|t| !t.is_empty()).ok_or_else(|| {
        format!(
            "no forge token: set {} to the forge account's token (write:repository, write:issue, read:user), or give --token",
            ccci_core::vars::FORGE_TOKEN
        )
    })?;
    let forge = Forge::new(&a.forge, token)?;
    let (state, line) = tell::status_of(&r);
    let footer = format!("ccci {} · run `{}`", env!("CARGO_PKG_VERSION"), r.run_id);
    let body = tell::report_body(&r, a.artifact_url.as_deref(), &footer);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        retried(|| forge.status(&a.repo, &sha, state, &a.context, &line, &a.target_url)).await?;
        retried(|| tell::upsert_report(&forge, &a.repo, a.pr, &body, None))
            .await
            .map(drop)
    })
    .map_err(|e| format!("the forge did not take the report: {e}"))?;
    say!(
        "cargo ccci report: posted {line} and the report to {}#{}",
        a.repo,
        a.pr
    );
    Ok(ExitCode::SUCCESS)
}

/// `call`, tried again with backoff (1, 2, 4 s) while the failure may pass.
async fn retried<T, F: std::future::Future<Output = Result<T, ForgeError>>>(
    call: impl Fn() -> F,
) -> Result<T, ForgeError> {
    let mut attempt = 0;
    loop {
        match call().await {
            Err(e) if e.retryable() && attempt + 1 < TRIES => {
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}
