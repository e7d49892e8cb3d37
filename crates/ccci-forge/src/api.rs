//! The seam for a forge: what ccci asks of one, as one account (the token's). Gitea, and
//! Forgejo, whose API is Gitea's for these calls, are [`crate::Forge`]; another forge (GitHub,
//! GitLab) implements [`ForgeApi`] beside it, and reads its own deliveries (its headers and
//! payload into a [`crate::Delivery`] and a [`crate::IssueComment`]). The service holds a
//! `dyn ForgeApi`, so its own tests put a double in its place.

use crate::client::{Forge, ForgeError, IssueCommentItem, Permission, StatusState};
use std::future::Future;
use std::pin::Pin;

/// A forge's answer, to come.
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, ForgeError>> + Send + 'a>>;

/// What ccci asks of a forge. Each call's failure says whether a retry may help
/// ([`ForgeError::retryable`]).
pub trait ForgeApi: Send + Sync {
    /// The login of the account ccci acts as: the author of every comment it posts.
    fn me(&self) -> Answer<'_, String>;
    /// What `user` may do in `repo` (`owner/name`).
    fn permission<'a>(&'a self, repo: &'a str, user: &'a str) -> Answer<'a, Permission>;
    /// Reacts to comment `id` of `repo` with `reaction` (`eyes`).
    fn react<'a>(&'a self, repo: &'a str, id: i64, reaction: &'a str) -> Answer<'a, ()>;
    /// Sets commit `sha`'s status of `context` in `repo`.
    fn status<'a>(&'a self, status: &'a CommitStatus<'a>) -> Answer<'a, ()>;
    /// Comments `body` on pull request `number` of `repo`; the comment's id.
    fn comment<'a>(&'a self, repo: &'a str, number: i64, body: &'a str) -> Answer<'a, i64>;
    /// Replaces comment `id`'s text in `repo` with `body`.
    fn edit_comment<'a>(&'a self, repo: &'a str, id: i64, body: &'a str) -> Answer<'a, ()>;
    /// The comments of pull request `number` of `repo`.
    fn comments<'a>(&'a self, repo: &'a str, number: i64) -> Answer<'a, Vec<IssueCommentItem>>;
    /// When pull request `number` of `repo` was pushed to at or after `since` (Unix
    /// seconds), oldest first, timed by the forge.
    fn pushes_since<'a>(&'a self, repo: &'a str, number: i64, since: u64) -> Answer<'a, Vec<u64>>;
}

/// A commit status to set.
#[derive(Debug, Clone, Copy)]
pub struct CommitStatus<'a> {
    /// `owner/name`.
    pub repo: &'a str,
    /// The commit.
    pub sha: &'a str,
    /// Its state.
    pub state: StatusState,
    /// Whose status it is (`ccci/testme`).
    pub context: &'a str,
    /// What it says.
    pub description: &'a str,
    /// Where it links.
    pub target_url: &'a str,
}

impl ForgeApi for Forge {
    fn me(&self) -> Answer<'_, String> {
        Box::pin(Forge::me(self))
    }
    fn permission<'a>(&'a self, repo: &'a str, user: &'a str) -> Answer<'a, Permission> {
        Box::pin(Forge::permission(self, repo, user))
    }
    fn react<'a>(&'a self, repo: &'a str, id: i64, reaction: &'a str) -> Answer<'a, ()> {
        Box::pin(Forge::react(self, repo, id, reaction))
    }
    fn status<'a>(&'a self, s: &'a CommitStatus<'a>) -> Answer<'a, ()> {
        Box::pin(Forge::status(
            self,
            s.repo,
            s.sha,
            s.state,
            s.context,
            s.description,
            s.target_url,
        ))
    }
    fn comment<'a>(&'a self, repo: &'a str, number: i64, body: &'a str) -> Answer<'a, i64> {
        Box::pin(Forge::comment(self, repo, number, body))
    }
    fn edit_comment<'a>(&'a self, repo: &'a str, id: i64, body: &'a str) -> Answer<'a, ()> {
        Box::pin(Forge::edit_comment(self, repo, id, body))
    }
    fn comments<'a>(&'a self, repo: &'a str, number: i64) -> Answer<'a, Vec<IssueCommentItem>> {
        Box::pin(Forge::comments(self, repo, number))
    }
    fn pushes_since<'a>(&'a self, repo: &'a str, number: i64, since: u64) -> Answer<'a, Vec<u64>> {
        Box::pin(Forge::pushes_since(self, repo, number, since))
    }
}
