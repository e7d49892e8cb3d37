//! The REST calls ccci makes of a Gitea/Forgejo forge (`Authorization: token …`), each under
//! [`CALL_TIMEOUT`]. A failure says whether a retry may help ([`ForgeError::retryable`]): the
//! forge unreachable or answering 5xx or 429 may come back; a 4xx will not.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long one call may take, connecting included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A forge's API, as one account (the token's) uses it.
#[derive(Clone)]
pub struct Forge {
    api: String,
    token: String,
    http: reqwest::Client,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The forge could not be reached, or did not answer within [`CALL_TIMEOUT`].
    #[error("the forge at {api} could not be reached for {call}: {why}")]
    Unreachable {
        /// The API's base.
        api: String,
        /// The call.
        call: String,
        /// Why.
        why: String,
    },
    /// The forge answered with an error status.
    #[error("the forge answered {status} to {call}: {body}")]
    Status {
        /// The call.
        call: String,
        /// The status code.
        status: u16,
        /// What it said (the start of it).
        body: String,
    },
    /// The forge's answer is not what its API describes.
    #[error("the forge's answer to {call} does not read: {why}")]
    Decode {
        /// The call.
        call: String,
        /// Why.
        why: String,
    },
}

impl ForgeError {
    /// Whether the same call later may succeed: the forge away, overloaded or failing.
    pub fn retryable(&self) -> bool {
        match self {
            ForgeError::Unreachable { .. } => true,
            ForgeError::Status { status, .. } => *status >= 500 || *status == 429,
            ForgeError::Decode { .. } => false,
        }
    }
}

/// A commit status's state, as ccci sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    /// Queued or running.
    Pending,
    /// Green.
    Success,
    /// Red.
    Failure,
    /// The run could not run, or was lost.
    Error,
}

impl StatusState {
    /// Its name, as the forge's API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusState::Pending => "pending",
            StatusState::Success => "success",
            StatusState::Failure => "failure",
            StatusState::Error => "error",
        }
    }
}

/// A collaborator's permission on a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// None, or read: may not start runs.
    Read,
    /// Write, admin or owner: may start runs.
    Write,
}

/// A pull request's head, as ccci runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its index.
    pub number: i64,
    /// The head's commit, pinned when the run is queued.
    pub head_sha: String,
    /// The head's branch name.
    pub head_ref: String,
    /// `open`, `closed`.
    pub state: String,
}

#[derive(Deserialize)]
struct PermissionBody {
    permission: String,
}

#[derive(Deserialize)]
struct PullBody {
    number: i64,
    state: String,
    head: Branch,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(rename = "ref")]
    reference: String,
    sha: String,
}

#[derive(Deserialize)]
struct CommentBody {
    id: i64,
}

/// One event of an issue's timeline, as ccci reads it.
#[derive(Deserialize)]
struct TimelineEvent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    created_at: Option<String>,
}

/// One comment of an issue, as ccci looks for its own.
#[derive(Debug, Clone, Deserialize)]
pub struct IssueCommentItem {
    /// Its id.
    pub id: i64,
    /// Its text.
    #[serde(default)]
    pub body: String,
    /// Who wrote it.
    #[serde(default)]
    pub user: Option<Account>,
}

/// A forge account, as an answer names it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Account {
    /// Its login.
    #[serde(default)]
    pub login: String,
}

impl IssueCommentItem {
    /// Whether `login` wrote it.
    pub fn by(&self, login: &str) -> bool {
        self.user.as_ref().is_some_and(|u| u.login == login)
    }
}

impl Forge {
    /// The API at `api` (`https://git.coopcloud.tech/api/v1`) as the owner of `token`.
    ///
    /// # Errors
    /// The HTTP client cannot be built (the system's TLS).
    pub fn new(api: &str, token: &str) -> Result<Forge, String> {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(CALL_TIMEOUT)
            .user_agent(concat!("ccci/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make an HTTP client for the forge: {e}"))?;
        Ok(Forge {
            api: api.trim_end_matches('/').into(),
            token: token.into(),
            http,
        })
    }

    /// The login of the account whose token this is (`GET /user`): the author of every
    /// comment ccci posts, by which it knows its own.
    pub async fn me(&self) -> Result<String, ForgeError> {
        let call = "GET /user".to_string();
        let me: Account = self.send(&call, self.http.get(self.url("/user"))).await?;
        Ok(me.login)
    }

    /// What `user` may do in `repo` (`owner/name`).
    pub async fn permission(&self, repo: &str, user: &str) -> Result<Permission, ForgeError> {
        let call = format!("GET /repos/{repo}/collaborators/{user}/permission");
        let body: PermissionBody = self
            .send(
                &call,
                self.http
                    .get(self.url(&format!("/repos/{repo}/collaborators/{user}/permission"))),
            )
            .await?;
        Ok(match body.permission.as_str() {
            "write" | "admin" | "owner" => Permission::Write,
            _ => Permission::Read,
        })
    }

    /// Pull request `number` of `repo`, with its head's commit.
    pub async fn pull(&self, repo: &str, number: i64) -> Result<PullRequest, ForgeError> {
        let call = format!("GET /repos/{repo}/pulls/{number}");
        let body: PullBody = self
            .send(
                &call,
                self.http
                    .get(self.url(&format!("/repos/{repo}/pulls/{number}"))),
            )
            .await?;
        Ok(PullRequest {
            number: body.number,
            head_sha: body.head.sha,
            head_ref: body.head.reference,
            state: body.state,
        })
    }

    /// Reacts to comment `id` of `repo` with `reaction` (`eyes`).
    pub async fn react(&self, repo: &str, id: i64, reaction: &str) -> Result<(), ForgeError> {
        let call = format!("POST /repos/{repo}/issues/comments/{id}/reactions");
        let req = self
            .http
            .post(self.url(&format!("/repos/{repo}/issues/comments/{id}/reactions")))
            .json(&serde_json::json!({ "content": reaction }));
        self.send::<serde_json::Value>(&call, req).await.map(drop)
    }

    /// Sets commit `sha`'s status of `context` in `repo`.
    pub async fn status(
        &self,
        repo: &str,
        sha: &str,
        state: StatusState,
        context: &str,
        description: &str,
        target_url: &str,
    ) -> Result<(), ForgeError> {
        let call = format!("POST /repos/{repo}/statuses/{sha}");
        // Gitea cuts a longer description; say it whole, at most 140 characters.
        let description: String = description.chars().take(140).collect();
        let req = self
            .http
            .post(self.url(&format!("/repos/{repo}/statuses/{sha}")))
            .json(&serde_json::json!({
                "state": state,
                "context": context,
                "description": description,
                "target_url": target_url,
            }));
        self.send::<serde_json::Value>(&call, req).await.map(drop)
    }

    /// Comments `body` on issue (or pull request) `number` of `repo`; returns the comment's id.
    pub async fn comment(&self, repo: &str, number: i64, body: &str) -> Result<i64, ForgeError> {
        let call = format!("POST /repos/{repo}/issues/{number}/comments");
        let req = self
            .http
            .post(self.url(&format!("/repos/{repo}/issues/{number}/comments")))
            .json(&serde_json::json!({ "body": body }));
        Ok(self.send::<CommentBody>(&call, req).await?.id)
    }

    /// Replaces comment `id`'s text in `repo` with `body`.
    pub async fn edit_comment(&self, repo: &str, id: i64, body: &str) -> Result<(), ForgeError> {
        let call = format!("PATCH /repos/{repo}/issues/comments/{id}");
        let req = self
            .http
            .patch(self.url(&format!("/repos/{repo}/issues/comments/{id}")))
            .json(&serde_json::json!({ "body": body }));
        self.send::<serde_json::Value>(&call, req).await.map(drop)
    }

    /// The comments of issue (or pull request) `number` of `repo`.
    pub async fn comments(
        &self,
        repo: &str,
        number: i64,
    ) -> Result<Vec<IssueCommentItem>, ForgeError> {
        let call = format!("GET /repos/{repo}/issues/{number}/comments");
        self.send(
            &call,
            self.http
                .get(self.url(&format!("/repos/{repo}/issues/{number}/comments"))),
        )
        .await
    }

    /// When pull request `number` of `repo` was pushed to at or after `since` (Unix seconds),
    /// oldest first, as the forge's timeline records it (`pull_push` events, timed by the
    /// forge itself, never by a commit's own date, which its author writes).
    pub async fn pushes_since(
        &self,
        repo: &str,
        number: i64,
        since: u64,
    ) -> Result<Vec<u64>, ForgeError> {
        /// Events asked per page, and the most pages read: a pull request's timeline since
        /// one comment is a handful of events.
        const PAGE: usize = 50;
        const PAGES: usize = 20;
        let path = format!("/repos/{repo}/issues/{number}/timeline");
        let call = format!("GET {path}");
        let since_text = ccci_core::time::rfc3339(since);
        let mut pushes = Vec::new();
        for page in 1..=PAGES {
            // `since` is `YYYY-MM-DDTHH:MM:SSZ`: nothing in it needs escaping in a query.
            let url = self.url(&format!(
                "{path}?since={since_text}&page={page}&limit={PAGE}"
            ));
            let events: Vec<TimelineEvent> = self.send(&call, self.http.get(url)).await?;
            let last = events.len() < PAGE;
            pushes.extend(
                events
                    .iter()
                    .filter(|e| e.kind == "pull_push")
                    .filter_map(|e| ccci_core::time::parse_rfc3339(e.created_at.as_deref()?))
                    .filter(|at| *at >= since),
            );
            if last {
                break;
            }
        }
        pushes.sort_unstable();
        Ok(pushes)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// Sends `req` with the token and reads its JSON answer (an empty answer reads as null).
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        call: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ForgeError> {
        let res = req
            .header("Authorization", format!("token {}", self.token))
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| ForgeError::Unreachable {
                api: self.api.clone(),
                call: call.into(),
                why: e.to_string(),
            })?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|e| ForgeError::Unreachable {
            api: self.api.clone(),
            call: call.into(),
            why: format!("the answer was cut off: {e}"),
        })?;
        if !(200..300).contains(&status) {
            return Err(ForgeError::Status {
                call: call.into(),
                status,
                body: text.chars().take(300).collect(),
            });
        }
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text).map_err(|e| ForgeError::Decode {
            call: call.into(),
            why: e.to_string(),
        })
    }
}
