//! A webhook delivery from Gitea or Forgejo: its headers, its signature (hex HMAC-SHA256 of
//! the raw body with the hook's secret, checked before anything else is read), and the
//! comment event ccci acts on.

use hmac::{KeyInit, Mac};
use serde::Deserialize;

/// What the headers of a delivery say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery's id (`X-Gitea-Delivery` / `X-Forgejo-Delivery`): a replay repeats it.
    pub id: String,
    /// The event (`issue_comment` for a comment on a pull request).
    pub event: String,
    /// The signature, as sent: hex.
    pub signature: String,
}

/// Why a delivery is refused before its body is read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// It carries no signature.
    #[error("the delivery is not signed (no X-Gitea-Signature or X-Forgejo-Signature): set the webhook's secret on the forge")]
    Unsigned,
    /// It carries no delivery id.
    #[error("the delivery has no id (X-Gitea-Delivery or X-Forgejo-Delivery)")]
    NoId,
    /// It names no event.
    #[error("the delivery names no event (X-Gitea-Event or X-Forgejo-Event)")]
    NoEvent,
    /// Its signature is not the body's under the configured secret.
    #[error("the delivery's signature does not match its body under this service's webhook secret: the forge's webhook secret and the service's must be the same")]
    BadSignature,
}

impl Delivery {
    /// Reads a delivery's headers (`header` answers a header's value by name, any case);
    /// Forgejo's names are read as Gitea's.
    pub fn from_headers<'a>(
        header: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Delivery, HookError> {
        let either = |name: &str| {
            header(&format!("x-gitea-{name}"))
                .or_else(|| header(&format!("x-forgejo-{name}")))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Ok(Delivery {
            signature: either("signature").ok_or(HookError::Unsigned)?,
            id: either("delivery").ok_or(HookError::NoId)?,
            event: either("event").ok_or(HookError::NoEvent)?,
        })
    }

    /// Whether `body` is what the forge signed with `secret` (compared in constant time).
    pub fn verify(&self, secret: &[u8], body: &[u8]) -> Result<(), HookError> {
        let sent = decode_hex(&self.signature).ok_or(HookError::BadSignature)?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret)
            .map_err(|_| HookError::BadSignature)?;
        mac.update(body);
        mac.verify_slice(&sent).map_err(|_| HookError::BadSignature)
    }
}

/// The hex signature a forge sends for `body` under `secret`: what a forge does, for tests and
/// tools that deliver as one.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("sha256=").unwrap_or(s);
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// An `issue_comment` delivery (Gitea's `IssueCommentPayload`), as much of it as ccci reads.
#[derive(Debug, Clone, Deserialize)]
pub struct IssueComment {
    /// `created`, `edited` or `deleted`.
    pub action: String,
    /// The issue or pull request.
    pub issue: Issue,
    /// The comment.
    pub comment: Comment,
    /// The repository.
    pub repository: Repository,
    /// Whether the issue is a pull request.
    #[serde(default)]
    pub is_pull: bool,
}

/// The issue (or pull request) commented on.
#[derive(Debug, Clone, Deserialize)]
pub struct Issue {
    /// Its number (a pull request's index).
    pub number: i64,
    /// Set when the issue is a pull request.
    #[serde(default)]
    pub pull_request: Option<serde_json::Value>,
}

/// A comment.
#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    /// Its id.
    pub id: i64,
    /// Its text.
    #[serde(default)]
    pub body: String,
    /// Who wrote it.
    pub user: User,
    /// When it was written (RFC 3339), as Gitea says it.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A forge user.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The login name.
    pub login: String,
}

/// A repository.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// Where it is cloned from.
    #[serde(default)]
    pub clone_url: String,
}

impl IssueComment {
    /// Whether it was made on a pull request.
    pub fn on_pull_request(&self) -> bool {
        self.is_pull || self.issue.pull_request.is_some()
    }
}

/// A `pull_request` delivery (Gitea's `PullRequestPayload`), as much of it as ccci reads: a
/// push to a pull request's branch is `synchronized` (Gitea and Forgejo; GitHub says
/// `synchronize`).
#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestEvent {
    /// `opened`, `synchronized`, `closed`, …
    pub action: String,
    /// The pull request's number.
    pub number: i64,
    /// The pull request.
    pub pull_request: PullRequestBody,
    /// The repository.
    pub repository: Repository,
}

/// The pull request of a [`PullRequestEvent`].
#[derive(Debug, Clone, Deserialize)]
pub struct PullRequestBody {
    /// Its head.
    pub head: Head,
}

/// A pull request's head.
#[derive(Debug, Clone, Deserialize)]
pub struct Head {
    /// The head's commit.
    pub sha: String,
}

impl PullRequestEvent {
    /// The new head, when the event is a push to the pull request.
    pub fn pushed(&self) -> Option<&str> {
        matches!(self.action.as_str(), "synchronized" | "synchronize")
            .then_some(self.pull_request.head.sha.as_str())
    }
}

/// A `!testme` command: the first word of a new comment on a pull request, and what follows
/// it on its line: `quick` (the quick lane) and `keep=<duration>` (`keep=30m`: keep a red
/// run's deployment that long for a look). A word it does not know is not a command and is
/// left alone, as is a `keep=` that is not a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Testme {
    /// `!testme quick`: the quick lane; else a cold run.
    pub quick: bool,
    /// `!testme keep=30m`: how long a red run's deployment is kept.
    pub keep: Option<std::time::Duration>,
}

impl Testme {
    /// The command `body` gives, if its first word is `!testme`.
    pub fn parse(body: &str) -> Option<Testme> {
        let first = body.trim_start().lines().next()?;
        let mut words = first.split_whitespace();
        if words.next()? != "!testme" {
            return None;
        }
        let mut t = Testme::default();
        for word in words {
            match word.split_once('=') {
                None if word == "quick" => t.quick = true,
                Some(("keep", d)) => t.keep = ccci_core::meta::duration(d).filter(|d| !d.is_zero()),
                _ => {}
            }
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(sig: Option<&str>) -> Result<Delivery, HookError> {
        let mut h = std::collections::HashMap::new();
        h.insert("x-gitea-delivery", "d-1".to_string());
        h.insert("x-forgejo-event", "issue_comment".to_string());
        if let Some(s) = sig {
            h.insert("x-gitea-signature", s.to_string());
        }
        Delivery::from_headers(|n| h.get(n).map(String::as_str))
    }

    #[test]
    fn a_signature_holds_for_its_body_and_secret_only() {
        let body = br#"{"action":"created"}"#;
        let sig = sign(b"s3cret", body);
        let d = delivery(Some(&sig)).unwrap();
        assert_eq!((d.id.as_str(), d.event.as_str()), ("d-1", "issue_comment"));
        assert_eq!(d.verify(b"s3cret", body), Ok(()));
        assert_eq!(d.verify(b"other", body), Err(HookError::BadSignature));
        assert_eq!(d.verify(b"s3cret", b"{}"), Err(HookError::BadSignature));
        let d = delivery(Some("zz")).unwrap();
        assert_eq!(d.verify(b"s3cret", body), Err(HookError::BadSignature));
        assert_eq!(delivery(None), Err(HookError::Unsigned));
    }

    /// RFC 4231, test case 2: HMAC-SHA256 of "what do ya want for nothing?" under "Jefe".
    #[test]
    fn hmac_is_rfc_4231s() {
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn testme_is_the_first_word() {
        let cold = Some(Testme::default());
        let quick = Some(Testme {
            quick: true,
            keep: None,
        });
        assert_eq!(Testme::parse("!testme"), cold);
        assert_eq!(Testme::parse("  !testme\nquick please"), cold);
        assert_eq!(Testme::parse("!testme quick"), quick);
        assert_eq!(
            Testme::parse("!testme keep=30m quick"),
            Some(Testme {
                quick: true,
                keep: Some(std::time::Duration::from_secs(1800))
            })
        );
        assert_eq!(Testme::parse("!testme keep=soon"), cold);
        assert_eq!(Testme::parse("please !testme"), None);
        assert_eq!(Testme::parse("!testmenot"), None);
        assert_eq!(Testme::parse(""), None);
    }
}
