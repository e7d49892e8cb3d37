//! A test double of the forge ([`ForgeApi`]) for the service's own unit tests: it answers
//! each commenter's permission and each pull request's pushes as a test sets them, and
//! records every call it was asked. It stands in for a forge's HTTP API only; the real
//! client's requests are checked against Gitea's OpenAPI description elsewhere (tests/).

use super::config::{Config, Repository};
use super::Service;
use ccci_forge::{Answer, CommitStatus, ForgeApi, ForgeError, IssueCommentItem, Permission};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The repository the test service serves.
pub const REPO: &str = "coop-cloud/custom-html";

/// A forge as a test sets it.
#[derive(Default)]
pub struct Double {
    /// Each commenter's permission; anyone else reads only.
    pub writers: Vec<String>,
    /// Each pull request's pushes (Unix seconds), by number.
    pub pushes: BTreeMap<i64, Vec<u64>>,
    /// Every call asked, in order, as `what repo …`.
    pub asked: Mutex<Vec<String>>,
}

impl Double {
    fn note(&self, call: String) {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(call);
    }
}

impl ForgeApi for Double {
    fn me(&self) -> Answer<'_, String> {
        self.note("me".into());
        Box::pin(async { Ok("ccci-bot".to_string()) })
    }
    fn permission<'a>(&'a self, repo: &'a str, user: &'a str) -> Answer<'a, Permission> {
        self.note(format!("permission {repo} {user}"));
        let p = match self.writers.iter().any(|w| w == user) {
            true => Permission::Write,
            false => Permission::Read,
        };
        Box::pin(async move { Ok(p) })
    }
    fn react<'a>(&'a self, repo: &'a str, id: i64, reaction: &'a str) -> Answer<'a, ()> {
        self.note(format!("react {repo} {id} {reaction}"));
        Box::pin(async { Ok(()) })
    }
    fn status<'a>(&'a self, s: &'a CommitStatus<'a>) -> Answer<'a, ()> {
        self.note(format!("status {} {} {}", s.repo, s.sha, s.state.as_str()));
        Box::pin(async { Ok(()) })
    }
    fn comment<'a>(&'a self, repo: &'a str, number: i64, _body: &'a str) -> Answer<'a, i64> {
        self.note(format!("comment {repo} {number}"));
        Box::pin(async { Ok(1) })
    }
    fn edit_comment<'a>(&'a self, repo: &'a str, id: i64, _body: &'a str) -> Answer<'a, ()> {
        self.note(format!("edit {repo} {id}"));
        Box::pin(async { Ok(()) })
    }
    fn comments<'a>(&'a self, repo: &'a str, number: i64) -> Answer<'a, Vec<IssueCommentItem>> {
        self.note(format!("comments {repo} {number}"));
        Box::pin(async { Ok(Vec::new()) })
    }
    fn pushes_since<'a>(&'a self, repo: &'a str, number: i64, since: u64) -> Answer<'a, Vec<u64>> {
        self.note(format!("pushes {repo} {number} {since}"));
        let pushes: Vec<u64> = self
            .pushes
            .get(&number)
            .map(|p| p.iter().copied().filter(|at| *at >= since).collect())
            .unwrap_or_default();
        Box::pin(async move { Ok::<_, ForgeError>(pushes) })
    }
}

/// A service of a store in `dir`, talking to `forge`, serving [`REPO`] (whose new heads
/// run at once when `auto_rerun`).
pub fn service(dir: &Path, forge: Arc<Double>, auto_rerun: bool) -> Arc<Service> {
    let database = dir.join("runs.db").display().to_string();
    let store = ccci_store::Store::open(&database.parse().unwrap()).unwrap();
    let config = Config {
        listen: "127.0.0.1:0".into(),
        public_url: "http://ci.example".into(),
        database: None,
        host: "ci-1".into(),
        capacity: 0,
        run_timeout: Duration::from_secs(60),
        workspace: dir.into(),
        cargo_ccci: None,
        state_dir: dir.join("state"),
        api: "http://forge.example/api/v1".into(),
        token: "token".into(),
        webhook_secret: b"secret".to_vec(),
        repositories: BTreeMap::from([(
            REPO.to_string(),
            Repository {
                recipe: "custom-html".into(),
                test_crate: None,
                set: Vec::new(),
                allow: Vec::new(),
                auto_rerun,
            },
        )]),
        sweep_every: None,
        docker_host: None,
        host_retries: 1,
        keep_logs: Duration::from_secs(14 * 24 * 3600),
        max_keep: Duration::from_secs(2 * 3600),
    };
    Arc::new(Service::new(config, Arc::new(store), forge, None, database))
}

/// A job of pull request 1 of [`REPO`] at `head`, as a `!testme` by alice asks it.
pub fn new_job(head: &str) -> ccci_store::NewJob {
    ccci_store::NewJob {
        repo: REPO.into(),
        pr: 1,
        head_sha: head.into(),
        clone_url: "git://127.0.0.1/coop-cloud/custom-html.git".into(),
        recipe: "custom-html".into(),
        test_crate: None,
        lane: ccci_core::results::Lane::Cold,
        requested_by: "alice".into(),
        trigger_comment: Some(1),
        keep: None,
    }
}

/// A repository whose `refs/pull/1/head` is a commit; its path (git clones it as a URL)
/// and that commit.
pub fn pull_request(dir: &Path) -> (String, String) {
    let work = dir.join("work");
    ccci_testkit::release_repository("custom-html", &work);
    ccci_testkit::git(&work, &["update-ref", "refs/pull/1/head", "HEAD"]);
    let head = ccci_testkit::git(&work, &["rev-parse", "HEAD"]);
    (work.display().to_string(), head)
}
