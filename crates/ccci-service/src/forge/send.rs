//! The forge's webhook deliveries, as Gitea sends them: the event's JSON, signed with the
//! webhook secret (`X-Gitea-Signature`, HMAC-SHA256 of the body in hex), an id of its own,
//! each answer recorded with it.

use super::book::{Comment, Delivery, Pull};
use super::{now, Forge, BOT};
use serde_json::{json, Value};

impl Forge {
    /// The repository as a delivery names it.
    fn repository(&self, repo: &str) -> Value {
        let (owner, name) = repo.split_once('/').unwrap_or(("", repo));
        json!({
            "id": 1,
            "name": name,
            "full_name": repo,
            "owner": {"login": owner},
            "clone_url": format!("{}/{repo}.git", self.url),
            "html_url": format!("{}/{repo}", self.url),
        })
    }

    /// Sends comment `c`'s `issue_comment` delivery (`created`, `edited`), answered or not,
    /// in the background.
    pub(super) fn deliver_comment(self: &Forge, c: &Comment, action: &str) {
        if let Some(send) = self.comment_delivery(c, action) {
            tokio::spawn(send);
        }
    }

    /// The `issue_comment` delivery of comment `c`, to be awaited (none without a hook).
    pub(super) fn comment_delivery(
        &self,
        c: &Comment,
        action: &str,
    ) -> Option<impl std::future::Future<Output = Delivery> + Send + 'static> {
        let title = self
            .lock()
            .pull(&c.repo, c.pull)
            .map(|p| p.title.clone())
            .unwrap_or_default();
        let payload = json!({
            "action": action,
            "issue": {"id": c.pull, "number": c.pull, "title": title, "pull_request": {"merged": false}},
            "comment": {
                "id": c.id,
                "body": c.body,
                "user": {"id": 2, "login": c.author},
                "created_at": ccci_core::time::rfc3339(c.written),
                "html_url": format!("{}/{}/pulls/{}#comment-{}", self.url, c.repo, c.pull, c.id),
            },
            "repository": self.repository(&c.repo),
            "sender": {"id": 2, "login": c.author},
            "is_pull": true,
        });
        self.delivery(&c.repo, c.pull, "issue_comment", action, payload)
    }

    /// Sends pull request `p`'s `pull_request` delivery (`opened`, `synchronized`) in the
    /// background.
    pub(super) fn deliver_pull(&self, p: &Pull, action: &str) {
        let payload = json!({
            "action": action,
            "number": p.number,
            "pull_request": {
                "id": p.number,
                "number": p.number,
                "title": p.title,
                "head": {"ref": p.head, "sha": p.sha},
                "base": {"ref": p.base},
                "html_url": format!("{}/{}/pulls/{}", self.url, p.repo, p.number),
            },
            "repository": self.repository(&p.repo),
            "sender": {"id": 1, "login": BOT},
        });
        if let Some(send) = self.delivery(&p.repo, p.number, "pull_request", action, payload) {
            tokio::spawn(send);
        }
    }

    /// A signed delivery of `payload` to the hook, recorded with its answer once it comes.
    fn delivery(
        &self,
        repo: &str,
        pull: i64,
        event: &str,
        action: &str,
        payload: Value,
    ) -> Option<impl std::future::Future<Output = Delivery> + Send + 'static> {
        let (hook, secret) = self.hook.clone()?;
        let body = payload.to_string().into_bytes();
        let signature = ccci_forge::hook::sign(&secret, &body);
        let id = {
            let mut b = self.lock();
            format!("forge-{}-{}", now(), b.next_id())
        };
        let mut delivery = Delivery {
            id: id.clone(),
            repo: repo.into(),
            pull,
            event: format!("{event} {action}"),
            at: now(),
            status: None,
            answer: String::new(),
        };
        let request = self
            .http
            .post(&hook)
            .header("Content-Type", "application/json")
            .header("X-Gitea-Event", event)
            .header("X-Gitea-Event-Type", event)
            .header("X-Gitea-Delivery", &id)
            .header("X-Gitea-Signature", &signature)
            .header("X-Hub-Signature-256", format!("sha256={signature}"))
            .body(body);
        let records = self.records.clone();
        Some(async move {
            match request.send().await {
                Ok(r) => {
                    delivery.status = Some(r.status().as_u16());
                    delivery.answer = r.text().await.unwrap_or_default().trim().to_string();
                }
                Err(e) => delivery.answer = format!("{hook} did not answer: {e}"),
            }
            tracing::info!(
                "delivery {} ({}) to {hook}: {} {}",
                delivery.id,
                delivery.event,
                delivery
                    .status
                    .map_or("no answer".to_string(), |s| s.to_string()),
                delivery.answer
            );
            records.change(|b| b.deliveries.push(delivery.clone()));
            delivery
        })
    }
}
