//! What a pull request is told of a run: its commit status (state and a line) and ccci's
//! report comment, found again by its marker so that a later run edits it. `serve` and
//! `report --post` (a CI engine's step) tell it alike.

use ccci_core::results::{Cause, Results};
use ccci_core::Verdict;
use ccci_forge::StatusState;

/// The context of every commit status ccci sets, by `serve` or by `report --post` alike, so
/// that a pull request told by both has one ccci status, the latest, and a forge's branch
/// protection can require it by this stable name.
pub const CONTEXT: &str = "ccci/testme";

/// The marker that finds ccci's own report comment among a pull request's comments.
pub const MARKER: &str = "<!-- ccci:testme -->";

/// ccci's own report comment among `comments`: the first holding the [`MARKER`] that the
/// bot's account `me` wrote. Anyone can write the marker; only the bot's comment is edited.
pub fn own_report(comments: &[ccci_forge::IssueCommentItem], me: &str) -> Option<i64> {
    comments
        .iter()
        .find(|c| c.by(me) && c.body.contains(MARKER))
        .map(|c| c.id)
}

/// Puts `body` as ccci's report on pull request `pr` of `repo`: the comment `known` (the one
/// the store remembers), else the bot's own found by its [`MARKER`], is edited; one deleted
/// meanwhile, or none, is made anew. Its id. The one upsert, for `serve` and `report --post`
/// alike.
///
/// # Errors
/// The forge's, for the call that failed.
pub async fn upsert_report(
    forge: &dyn ccci_forge::ForgeApi,
    repo: &str,
    pr: i64,
    body: &str,
    known: Option<i64>,
) -> Result<i64, ccci_forge::ForgeError> {
    let earlier = match known {
        Some(id) => Some(id),
        None => {
            let me = forge.me().await?;
            let comments = forge.comments(repo, pr).await?;
            own_report(&comments, &me)
        }
    };
    match earlier {
        Some(id) => match forge.edit_comment(repo, id, body).await {
            Ok(()) => Ok(id),
            // Deleted on the forge meanwhile: a new one.
            Err(ccci_forge::ForgeError::Status { status: 404, .. }) => {
                forge.comment(repo, pr, body).await
            }
            Err(e) => Err(e),
        },
        None => forge.comment(repo, pr, body).await,
    }
}

/// The commit status of a run: green `success`; red `failure` only when the recipe failed;
/// `error` when it could not be judged (bad input, a fault of the host, cancelled), so that a
/// pull request is never told its recipe failed for what the host lacked; and its line
/// (`L4 GREEN`, `L3 RED: <first reason>`).
pub fn status_of(r: &Results) -> (StatusState, String) {
    let first = r.verdict_reasons.first().map_or("", String::as_str);
    match (r.verdict, &r.bad_input, &r.cause) {
        (_, Some(e), _) => (StatusState::Error, format!("could not run: bad input: {e}")),
        (Verdict::Green, None, _) => (StatusState::Success, format!("{} GREEN", r.level)),
        (Verdict::Red, None, Some(Cause::Host { lacked })) => (
            StatusState::Error,
            format!("not judged: a fault of the host, not the recipe: {lacked}"),
        ),
        (Verdict::Red, None, Some(Cause::Cancelled { why })) => {
            (StatusState::Error, format!("cancelled: {why}"))
        }
        (Verdict::Red, None, _) => (StatusState::Failure, format!("{} RED: {first}", r.level)),
    }
}

/// How a maintainer reaches a red run's deployment kept for a look (`!testme keep=30m`): its
/// address, and the commands for someone with access to the tested Swarm (`docker_host`, its
/// `DOCKER_HOST`, when it is not the local one), and when it goes.
pub fn kept_lines(k: &ccci_core::results::Kept, docker_host: Option<&str>) -> String {
    let docker = match docker_host {
        Some(h) => format!("DOCKER_HOST={h} docker"),
        None => "docker".into(),
    };
    let stack = &k.stack;
    format!(
        "**Kept for a look until {until}** (`keep=`), then removed.\n\n- the app: {url}\n- its tasks: `{docker} stack ps {stack} --no-trunc`\n- a service's log: `{docker} service logs {stack}_<service>`\n- a shell in it: `{docker} exec -it $({docker} ps -q -f label=com.docker.swarm.service.name={stack}_<service> | head -n1) sh`\n- removed now: `{remove}` on the CI host\n",
        until = k.until,
        url = k.url.as_deref().unwrap_or("(it never answered)"),
        remove = k.remove,
    )
}

/// The report comment of a run: the marker, the Markdown report (its artefacts linked under
/// `files`, when they are served) and `footer` (where the run is, who asked).
pub fn report_body(r: &Results, files: Option<&str>, footer: &str) -> String {
    format!(
        "{MARKER}\n{}\n---\n{footer}\n",
        ccci_report::markdown(r, files)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_deployment_is_told_with_how_to_reach_it() {
        let k = ccci_core::results::Kept {
            stack: "cust-1a2b3c_ccci_test".into(),
            until: "2026-12-07T12:00:00Z".into(),
            url: Some("https://cust-1a2b3c.ccci.test".into()),
            remove: "cargo ccci janitor --kept".into(),
        };
        let said = kept_lines(&k, Some("ssh://ci@test-node"));
        for line in [
            "**Kept for a look until 2026-12-07T12:00:00Z**",
            "the app: https://cust-1a2b3c.ccci.test",
            "`DOCKER_HOST=ssh://ci@test-node docker stack ps cust-1a2b3c_ccci_test --no-trunc`",
            "label=com.docker.swarm.service.name=cust-1a2b3c_ccci_test_<service>",
            "`cargo ccci janitor --kept` on the CI host",
        ] {
            assert!(said.contains(line), "{line}: {said}");
        }
        assert!(kept_lines(&k, None).contains("`docker stack ps "));
    }
}
