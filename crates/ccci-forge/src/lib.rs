//! ccci and a Gitea/Forgejo forge.
//!
//! | module | what it decides |
//! |---|---|
//! | [`hook`] | whether a webhook delivery is genuine (its signature) and what it asks (`!testme`) |
//! | [`api`] | the seam: what ccci asks of any forge ([`ForgeApi`]); Gitea/Forgejo's is [`Forge`] |
//! | [`client`] | the REST calls ccci makes of the forge, each with a deadline, and which failures are worth a retry |
//!
//! Written against Gitea's OpenAPI description (1.27; Forgejo's API is the same for these
//! calls) and tested with every request validated against it by Prism: the forge's requests,
//! not a forge's behaviour.

pub mod api;
pub mod client;
pub mod hook;

pub use api::{Answer, CommitStatus, ForgeApi};
pub use client::{
    Account, Forge, ForgeError, IssueCommentItem, Permission, PullRequest, StatusState,
};
pub use hook::{Delivery, HookError, IssueComment, PullRequestEvent, Testme};
