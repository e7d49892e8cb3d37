//! What a delivery asks of the service, as the webhook read it: a `!testme` for the intake
//! ([`Intake`]), a push that supersedes older heads' runs ([`Push`]). Below the webhook, the
//! intake and the superseding alike, which all read it.

/// What the intake is asked to do: a `!testme` comment, as the delivery said it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Intake {
    /// `owner/name`.
    pub repo: String,
    /// The pull request.
    pub pr: i64,
    /// The comment that asked.
    pub comment_id: i64,
    /// Who asked.
    pub user: String,
    /// `!testme quick`.
    pub quick: bool,
    /// `!testme keep=30m`: how long a red run's deployment is kept, in seconds.
    #[serde(default)]
    pub keep: Option<u64>,
    /// Where the repository is cloned from.
    pub clone_url: String,
    /// When the comment was written (Unix seconds, the forge's clock), when the delivery
    /// says: the head must not have moved since.
    #[serde(default)]
    pub comment_at: Option<u64>,
}

/// A push to a pull request, as its delivery said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// `owner/name`.
    pub repo: String,
    /// The pull request.
    pub pr: i64,
    /// Its new head.
    pub head: String,
    /// Where the repository is cloned from.
    pub clone_url: String,
}
