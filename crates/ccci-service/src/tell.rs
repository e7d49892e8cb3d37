//! What a pull request is told of a run: its commit status (state and a line) and ccci's
//! report comment, found again by its marker so that a later run edits it. `serve` and
//! `report --post` (a CI engine's step) tell it alike.

use ccci_core::results::Results;
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

/// The commit status of a run: green `success`, red `failure`, refused for bad input `error`;
/// and its line (`L4 GREEN`, `L3 RED: <first reason>`).
pub fn status_of(r: &Results) -> (StatusState, String) {
    match (r.verdict, &r.bad_input) {
        (_, Some(e)) => (StatusState::Error, format!("could not run: bad input: {e}")),
        (Verdict::Green, None) => (StatusState::Success, format!("{} GREEN", r.level)),
        (Verdict::Red, None) => (
            StatusState::Failure,
            format!(
                "{} RED: {}",
                r.level,
                r.verdict_reasons.first().map_or("", String::as_str)
            ),
        ),
    }
}

/// The report comment of a run: the marker, the Markdown report (its artefacts linked under
/// `files`, when they are served) and `footer` (where the run is, who asked).
pub fn report_body(r: &Results, files: Option<&str>, footer: &str) -> String {
    format!(
        "{MARKER}\n{}\n---\n{footer}\n",
        ccci_report::markdown(r, files)
    )
}
