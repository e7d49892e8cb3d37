//! What the service's tests share. The forge is `cargo ccci forge`'s (`ccci_service::forge`),
//! run in the test's process, and every API request on the way to it passes Prism serving
//! Gitea's official OpenAPI description, which refuses a request or an answer the spec does not
//! take. Everything else is real too: git (the forge's `git http-backend`, `refs/pull/N/head`),
//! the service's process, the runs on the local Swarm, the store.

#![allow(dead_code)]

pub use ccci_service::forge::{Forge, Received};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The token the forge's account holds in every test (the service's `token_file` says it).
pub const TOKEN: &str = "forge-token-1234";

/// The bundled forge, running in this process, and Prism in front of its API.
pub struct TheForge {
    pub state: Arc<Forge>,
    /// Prism, checking every request and answer against Gitea's spec; none: the forge direct.
    pub prism: Option<ccci_testkit::prism::Prism>,
    _dir: tempfile::TempDir,
}

impl TheForge {
    /// The API's URL as the service's `forge.api` names it: Prism's (which serves the spec's
    /// paths at its root), else the forge's own `/api/v1`.
    pub fn api(&self) -> String {
        match &self.prism {
            Some(p) => p.url.clone(),
            None => format!("{}/api/v1", self.state.url()),
        }
    }

    /// Makes `owner/<recipe>` on the forge from the fixture releases under `root` (each a
    /// commit with an annotated tag; `main` is the last release), and pull request 1 from a
    /// branch one commit after it that adds a line to the README.
    pub fn git_server(&self, root: &Path, owner: &str, recipe: &str) -> GitServer {
        let work = root.join(format!("work-{recipe}"));
        ccci_testkit::release_repository(recipe, &work);
        let bare = self.state.repos().join(owner).join(format!("{recipe}.git"));
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        git(&work, &["branch", "--quiet", "-f", "release", "HEAD~1"]);
        git(
            root,
            &[
                "clone",
                "--quiet",
                "--bare",
                "--single-branch",
                "--branch",
                "release",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        git(&bare, &["branch", "--quiet", "-m", "release", "main"]);
        let clone_url = format!("{}/{owner}/{recipe}.git", self.state.url());
        git(
            &work,
            &["push", "--quiet", &clone_url, "HEAD:refs/heads/pull-1"],
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let repo = format!("{owner}/{recipe}");
        rt.block_on(
            self.state
                .open_pull(&repo, "pull-1", "main", "a pull request"),
        )
        .unwrap();
        GitServer { clone_url, bare }
    }
}

fn started(permissions: &[(&str, &str)]) -> (Arc<Forge>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    let options = ccci_service::forge::Options {
        dir: dir.path().into(),
        users: permissions
            .iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect(),
        hook: None,
    };
    let state = ccci_service::forge::spawn(options, "127.0.0.1:0").unwrap();
    (state, dir)
}

/// Starts the forge and Prism in front of its API; `permissions`: login → permission.
pub fn forge(permissions: &[(&str, &str)]) -> TheForge {
    let (state, dir) = started(permissions);
    let prism = ccci_testkit::prism::Prism::proxy(&format!("{}/api/v1", state.url()));
    TheForge {
        state,
        prism: Some(prism),
        _dir: dir,
    }
}

/// The forge alone, without Prism in front (for the benchmark, which measures the service,
/// not the spec's validation).
pub fn forge_direct(permissions: &[(&str, &str)]) -> TheForge {
    let (state, dir) = started(permissions);
    TheForge {
        state,
        prism: None,
        _dir: dir,
    }
}

/// A recipe repository on the forge: its clone URL (over HTTP) and where the forge keeps it.
pub struct GitServer {
    pub clone_url: String,
    pub bare: PathBuf,
}

use ccci_testkit::git;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A new commit pushed to the pull request of `owner/<recipe>` served under `root` (one more
/// README line); the new head.
pub fn push_to_pull(root: &Path, git_server: &GitServer, recipe: &str) -> String {
    let work = root.join(format!("work-{recipe}"));
    let readme = work.join("README.md");
    let mut text = std::fs::read_to_string(&readme).unwrap_or_default();
    text.push_str("\nPushed after the `!testme`.\n");
    std::fs::write(&readme, text).unwrap();
    git(
        &work,
        &["commit", "--quiet", "-am", "pushed after the comment"],
    );
    // Through the forge's git, as a maintainer pushes: it moves `refs/pull/1/head` and
    // records the push on the pull request's timeline.
    git(
        &work,
        &[
            "push",
            "--quiet",
            "--force",
            &git_server.clone_url,
            "HEAD:refs/heads/pull-1",
        ],
    );
    after_the_push();
    pull_head(&git_server.bare)
}

/// Waits into the next second: the forge times a push to the second, as Gitea does, and the
/// service counts a push in a comment's own second as after the comment, so a comment meant to
/// come after this push is written a second later.
pub fn after_the_push() {
    std::thread::sleep(Duration::from_millis(1100));
}

/// The commit `refs/pull/1/head` names in `bare`.
pub fn pull_head(bare: &Path) -> String {
    git(bare, &["rev-parse", "refs/pull/1/head"])
}

/// cargo-ccci, built (a service's runs are `cargo ccci run`).
pub fn cargo_ccci() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "--locked",
            "-p",
            "cargo-ccci",
            "--message-format=json",
        ])
        .current_dir(workspace())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo-ccci builds");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|m| {
            (m["target"]["name"] == "cargo-ccci")
                .then(|| m["executable"].as_str().map(PathBuf::from))
                .flatten()
        })
        .expect("cargo-ccci's executable")
}

/// A service's configuration and files: its store, journal and state in `dir`.
pub struct Setup {
    pub dir: PathBuf,
    pub port: u16,
    pub config: PathBuf,
    pub database: String,
    pub secret: String,
}

/// Writes a configuration for repositories `repos` (`owner/name` → test crate), the forge
/// at `api`, `capacity` runs at once, as host `host`.
pub fn setup(
    dir: &Path,
    api: &str,
    repos: &[(&str, &str)],
    capacity: usize,
    host: &str,
    database: Option<&str>,
) -> Setup {
    std::fs::create_dir_all(dir).unwrap();
    let secret = "hook-s3cret-4f9a";
    std::fs::write(dir.join("token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(dir.join("secret"), format!("{secret}\n")).unwrap();
    let port = ccci_testkit::prism::free_port();
    // The tests' runs go to the one Swarm there is, beside the service's own secrets, as a
    // trusted repository's would: said, as the service demands.
    let mut yaml = format!(
        "listen: 127.0.0.1:{port}\npublic_url: http://127.0.0.1:{port}\nhost: {host}\ncapacity: {capacity}\nruns_beside_the_service: true\nrun_timeout: 15m\nworkspace: {}\ncargo_ccci: {}\nstate_dir: {}\nforge:\n  api: {api}\n  token_file: {}\n  webhook_secret_file: {}\nrepositories:\n",
        workspace().display(),
        cargo_ccci().display(),
        dir.join("state").display(),
        dir.join("token").display(),
        dir.join("secret").display(),
    );
    for (repo, krate) in repos {
        yaml.push_str(&format!("  {repo}:\n    test_crate: {krate}\n"));
    }
    let config = dir.join("serve.yml");
    std::fs::write(&config, yaml).unwrap();
    Setup {
        dir: dir.into(),
        port,
        config,
        database: database
            .map(String::from)
            .unwrap_or_else(|| dir.join("runs.db").display().to_string()),
        secret: secret.into(),
    }
}

/// `ccci-service serve` as a process: stopped (SIGKILL) when dropped unless stopped before.
pub struct Serving {
    pub child: Child,
    pub url: String,
}

impl Serving {
    /// Stops it as an operator does (SIGTERM): its runs are stopped and tear down.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: kill(2) on the service's own process, which has not been reaped.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(600) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts the service of `s`, and waits for it to answer.
pub fn start(s: &Setup) -> Serving {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(s.dir.join("serve.log"))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_ccci-service"))
        .args(["serve", "--config"])
        .arg(&s.config)
        .args(["--database", &s.database, "--journal"])
        .arg(s.dir.join("journal"))
        .env("CCCI_ROUTING", "host-port")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{}", s.port);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the service did not listen; its log: {}",
            std::fs::read_to_string(s.dir.join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Serving { child, url }
}

/// alice's `!testme` (comment `comment`, delivery `delivery`) on pull request 1 of `repo`,
/// served by `git`, taken by the service at `url`; the store of `s`, and the job once a host
/// runs it with its process.
pub fn testme_running(
    url: &str,
    s: &Setup,
    (repo, git): (&str, &GitServer),
    comment: i64,
    delivery: &str,
) -> (ccci_store::Store, ccci_store::Job) {
    let body = comment_payload(repo, &git.clone_url, comment, "alice", "!testme");
    assert_eq!(
        deliver(url, delivery, "issue_comment", &body, Some(&s.secret)).0,
        202
    );
    let store = ccci_store::Store::open(&s.database.parse().unwrap()).unwrap();
    let running = wait_job(
        &store,
        "running with its process",
        Duration::from_secs(120),
        |j| j.state == ccci_store::JobState::Running && j.pid.is_some(),
    );
    (store, running)
}

/// A Gitea `issue_comment` delivery's body for a comment on pull request 1.
pub fn comment_payload(
    repo: &str,
    clone_url: &str,
    comment_id: i64,
    user: &str,
    body: &str,
) -> Vec<u8> {
    let now = ccci_core::time::unix_secs(std::time::SystemTime::now());
    comment_payload_at(repo, clone_url, comment_id, user, body, now)
}

/// [`comment_payload`] of a comment written at `written` (Unix seconds).
pub fn comment_payload_at(
    repo: &str,
    clone_url: &str,
    comment_id: i64,
    user: &str,
    body: &str,
    written: u64,
) -> Vec<u8> {
    let (owner, name) = repo.split_once('/').unwrap();
    let created_at = ccci_core::time::rfc3339(written);
    serde_json::to_vec(&json!({
        "action": "created",
        "issue": {"id": 7, "number": 1, "title": "a pull request", "pull_request": {"merged": false}},
        "pull_request": null,
        "comment": {"id": comment_id, "body": body, "user": {"id": 3, "login": user}, "created_at": created_at},
        "repository": {"id": 5, "name": name, "full_name": repo, "owner": {"login": owner}, "clone_url": clone_url},
        "sender": {"id": 3, "login": user},
        "is_pull": true
    }))
    .unwrap()
}

/// POSTs `body` to the webhook as Gitea delivers it: its event, delivery id and signature
/// (`secret`: `None` sends none). Answers (status, text).
pub fn deliver(
    url: &str,
    id: &str,
    event: &str,
    body: &[u8],
    secret: Option<&str>,
) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .post(format!("{url}/hooks/forge"))
            .header("Content-Type", "application/json")
            .header("X-Gitea-Event", event)
            .header("X-Gitea-Event-Type", "pull_request_comment")
            .header("X-Gitea-Delivery", id)
            .body(body.to_vec());
        if let Some(secret) = secret {
            let sig = ccci_forge::hook::sign(secret.as_bytes(), body);
            req = req
                .header("X-Gitea-Signature", &sig)
                .header("X-Hub-Signature-256", format!("sha256={sig}"));
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

/// Sends a `size`-byte delivery (`Content-Length` first, then the body) on a raw connection
/// and reads the answer: a service must refuse such a body without reading it whole.
pub fn announce(url: &str, size: usize) -> u16 {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "POST /hooks/forge HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Gitea-Event: issue_comment\r\nX-Gitea-Delivery: big-1\r\nX-Gitea-Signature: 00\r\nContent-Length: {size}\r\n\r\n"
    )
    .unwrap();
    // The body follows, as a sender would send it, while the answer is read.
    let mut writer = c.try_clone().unwrap();
    std::thread::spawn(move || {
        let chunk = vec![b' '; 64 << 10];
        for _ in 0..size / chunk.len() {
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let mut head = [0u8; 12];
    c.read_exact(&mut head).unwrap();
    String::from_utf8_lossy(&head[9..12]).parse().unwrap()
}

/// A store's job, waited for until `ok` holds (or failing after `within`, saying the job).
pub fn wait_job(
    store: &ccci_store::Store,
    what: &str,
    within: Duration,
    ok: impl Fn(&ccci_store::Job) -> bool,
) -> ccci_store::Job {
    let started = Instant::now();
    loop {
        let jobs = store.jobs(100).unwrap();
        if let Some(j) = jobs.iter().find(|j| ok(j)) {
            return j.clone();
        }
        assert!(
            started.elapsed() < within,
            "no job {what} within {} s: {jobs:#?}",
            within.as_secs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// GETs `url`: (status, text).
pub fn get(url: &str) -> (u16, String) {
    let (status, _, text) = get_with_header(url, "content-type");
    (status, text)
}

/// GETs `url`: (status, the value of header `name`, text).
pub fn get_with_header(url: &str, name: &str) -> (u16, Option<String>, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new().get(url).send().await.unwrap();
        let header = r
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        (
            r.status().as_u16(),
            header,
            r.text().await.unwrap_or_default(),
        )
    })
}

/// Waits until `found` finds something in what the forge received, or fails after `within`
/// naming `what` and everything received.
pub fn wait_for<T>(
    forge: &Forge,
    what: &str,
    within: Duration,
    found: impl Fn(&[Received]) -> Option<T>,
    log: &Path,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(t) = found(&forge.received()) {
            return t;
        }
        if started.elapsed() > within {
            panic!(
                "the forge did not receive {what} within {} s; it received: {:#?}\nthe service's log:\n{}",
                within.as_secs(),
                forge.received(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first comment posted to the forge whose text holds `text`, waited for as [`wait_for`]
/// does.
pub fn comment_posted(
    forge: &Forge,
    what: &str,
    within: Duration,
    text: &str,
    log: &Path,
) -> Received {
    wait_for(
        forge,
        what,
        within,
        |r| {
            r.iter()
                .find(|x| {
                    x.method == "POST"
                        && x.path.ends_with("/comments")
                        && x.body["body"].as_str().unwrap_or("").contains(text)
                })
                .cloned()
        },
        log,
    )
}

/// The first commit status `state` the forge received: (state, description), waited for as
/// [`wait_for`] does.
pub fn status_reached(
    forge: &Forge,
    state: &str,
    within: Duration,
    log: &Path,
) -> (String, String) {
    wait_for(
        forge,
        &format!("a {state} status"),
        within,
        |r| statuses(r).into_iter().find(|(s, _)| s == state),
        log,
    )
}

/// The statuses the forge received, in order: (state, description).
pub fn statuses(r: &[Received]) -> Vec<(String, String)> {
    r.iter()
        .filter(|x| x.method == "POST" && x.path.contains("/statuses/"))
        .map(|x| {
            (
                x.body["state"].as_str().unwrap_or("").to_string(),
                x.body["description"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
