//! What the service's tests share. The forge is the one part that cannot be had here: its
//! answers come from a named test double (`ForgeDouble`), and every request on the way to it
//! passes Prism serving Gitea's official OpenAPI description, which refuses one the spec does
//! not take. Everything else is real: git (`git daemon` serving `refs/pull/N/head`), the
//! service's process, the runs on the local Swarm, the store.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get as on_get, patch, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the double received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
}

/// The forge double's state: what it was asked, who may do what, and whether it is failing.
#[derive(Default)]
pub struct Forge {
    pub received: Mutex<Vec<Received>>,
    pub failing: AtomicBool,
    next_id: AtomicI64,
    pub permissions: Mutex<BTreeMap<String, String>>,
    /// `(pull request, id, author, text)` of every comment.
    comments: Mutex<Vec<(i64, i64, String, String)>>,
    /// `(pull request, when)` of every push to a pull request (Unix seconds).
    pushes: Mutex<Vec<(i64, u64)>>,
}

/// The account the double's token belongs to: the author of the comments the service posts.
pub const BOT: &str = "ccci-bot";

impl Forge {
    /// A comment `author` wrote on pull request `pr` (someone other than the service); its id.
    pub fn comment_as(&self, pr: i64, author: &str, text: &str) -> i64 {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.comments
            .lock()
            .unwrap()
            .push((pr, id, author.into(), text.into()));
        id
    }

    /// Records a push to pull request `pr` at `at` (Unix seconds), as the forge's timeline
    /// shows it.
    pub fn pushed(&self, pr: i64, at: u64) {
        self.pushes.lock().unwrap().push((pr, at));
    }

    /// The text of comment `id`.
    pub fn comment_text(&self, id: i64) -> Option<String> {
        self.comments
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.1 == id)
            .map(|c| c.3.clone())
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn note(&self, method: &Method, uri: &Uri, body: Value) -> Result<(), StatusCode> {
        self.received.lock().unwrap().push(Received {
            method: method.to_string(),
            path: uri.path().to_string(),
            body,
            at: Instant::now(),
        });
        match self.failing.load(Ordering::SeqCst) {
            true => Err(StatusCode::SERVICE_UNAVAILABLE),
            false => Ok(()),
        }
    }
}

/// The forge double, served on 127.0.0.1, behind Prism: its URL (Prism's) and its state.
pub struct ForgeDouble {
    pub state: Arc<Forge>,
    pub prism: ccci_testkit::prism::Prism,
}

/// Starts the double and Prism in front of it; `permissions`: login → permission.
pub fn forge(permissions: &[(&str, &str)]) -> ForgeDouble {
    let state = Arc::new(Forge::default());
    state.next_id.store(1000, Ordering::SeqCst);
    for (user, p) in permissions {
        state
            .permissions
            .lock()
            .unwrap()
            .insert(user.to_string(), p.to_string());
    }
    let addr = serve(routes(state.clone()));
    let prism = ccci_testkit::prism::Prism::proxy(&format!("http://{addr}"));
    ForgeDouble { state, prism }
}

/// The forge double alone, without Prism in front (for the benchmark, which measures the
/// service, not the spec's validation): its state and URL.
pub fn forge_direct(permissions: &[(&str, &str)]) -> (Arc<Forge>, String) {
    let state = Arc::new(Forge::default());
    state.next_id.store(1000, Ordering::SeqCst);
    for (user, p) in permissions {
        state
            .permissions
            .lock()
            .unwrap()
            .insert(user.to_string(), p.to_string());
    }
    (state.clone(), format!("http://{}", serve(routes(state))))
}

fn routes(state: Arc<Forge>) -> Router {
    Router::new()
        .route(
            "/repos/{o}/{r}/collaborators/{user}/permission",
            on_get(permission),
        )
        .route(
            "/repos/{o}/{r}/issues/comments/{id}/reactions",
            post(reaction),
        )
        .route("/repos/{o}/{r}/statuses/{sha}", post(status))
        .route(
            "/repos/{o}/{r}/issues/{n}/comments",
            post(new_comment).get(comments),
        )
        .route("/repos/{o}/{r}/issues/comments/{id}", patch(edit_comment))
        .route("/repos/{o}/{r}/issues/{n}/timeline", on_get(timeline))
        .route("/user", on_get(me))
        .with_state(state)
}

/// Serves `app` on a free port of 127.0.0.1 in a runtime of its own; its address.
pub fn serve(app: Router) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(l, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

type Answer = Result<
    (
        StatusCode,
        [(axum::http::HeaderName, &'static str); 1],
        String,
    ),
    StatusCode,
>;

fn answer(code: StatusCode, v: Value) -> Answer {
    Ok((code, [(CONTENT_TYPE, "application/json")], v.to_string()))
}

fn read(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// A comment's request noted (or refused, as the forge is told to), and the comment's text.
fn comment_text(f: &Forge, method: &Method, uri: &Uri, body: &Bytes) -> Result<String, StatusCode> {
    let body = read(body);
    f.note(method, uri, body.clone())?;
    Ok(body["body"].as_str().unwrap_or_default().to_string())
}

async fn permission(
    State(f): State<Arc<Forge>>,
    method: Method,
    uri: Uri,
    UrlPath((_, _, user)): UrlPath<(String, String, String)>,
) -> Answer {
    f.note(&method, &uri, Value::Null)?;
    let p = f
        .permissions
        .lock()
        .unwrap()
        .get(&user)
        .cloned()
        .unwrap_or_else(|| "none".into());
    answer(
        StatusCode::OK,
        json!({"permission": p, "role_name": p, "user": {"login": user}}),
    )
}

async fn me(State(f): State<Arc<Forge>>, method: Method, uri: Uri) -> Answer {
    f.note(&method, &uri, Value::Null)?;
    answer(StatusCode::OK, json!({"id": 1, "login": BOT}))
}

async fn reaction(State(f): State<Arc<Forge>>, method: Method, uri: Uri, body: Bytes) -> Answer {
    let body = read(&body);
    f.note(&method, &uri, body.clone())?;
    answer(StatusCode::CREATED, json!({"content": body["content"]}))
}

async fn status(State(f): State<Arc<Forge>>, method: Method, uri: Uri, body: Bytes) -> Answer {
    let body = read(&body);
    f.note(&method, &uri, body.clone())?;
    let id = f.next_id.fetch_add(1, Ordering::SeqCst);
    answer(
        StatusCode::CREATED,
        json!({"id": id, "status": body["state"], "context": body["context"], "description": body["description"], "target_url": body["target_url"]}),
    )
}

async fn new_comment(
    State(f): State<Arc<Forge>>,
    method: Method,
    uri: Uri,
    UrlPath((_, _, n)): UrlPath<(String, String, i64)>,
    body: Bytes,
) -> Answer {
    let text = comment_text(&f, &method, &uri, &body)?;
    let id = f.next_id.fetch_add(1, Ordering::SeqCst);
    f.comments
        .lock()
        .unwrap()
        .push((n, id, BOT.into(), text.clone()));
    answer(
        StatusCode::CREATED,
        json!({"id": id, "body": text, "user": {"login": BOT}}),
    )
}

async fn comments(
    State(f): State<Arc<Forge>>,
    method: Method,
    uri: Uri,
    UrlPath((_, _, n)): UrlPath<(String, String, i64)>,
) -> Answer {
    f.note(&method, &uri, Value::Null)?;
    let list: Vec<Value> = f
        .comments
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.0 == n)
        .map(|c| json!({"id": c.1, "body": c.3, "user": {"login": c.2}}))
        .collect();
    answer(StatusCode::OK, Value::Array(list))
}

/// The pull request's timeline: its pushes, as Gitea's `pull_push` events (a page of them;
/// `since` is applied by the caller, the double keeps so few).
async fn timeline(
    State(f): State<Arc<Forge>>,
    method: Method,
    uri: Uri,
    UrlPath((_, _, n)): UrlPath<(String, String, i64)>,
) -> Answer {
    f.note(&method, &uri, Value::Null)?;
    let list: Vec<Value> = f
        .pushes
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.0 == n)
        .enumerate()
        .map(|(i, p)| {
            json!({
                "id": 5000 + i,
                "type": "pull_push",
                "body": "{\"is_force_push\":false,\"commit_ids\":[]}",
                "created_at": ccci_core::time::rfc3339(p.1),
                "user": {"login": "mallory"}
            })
        })
        .collect();
    answer(StatusCode::OK, Value::Array(list))
}

async fn edit_comment(
    State(f): State<Arc<Forge>>,
    method: Method,
    uri: Uri,
    UrlPath((_, _, id)): UrlPath<(String, String, i64)>,
    body: Bytes,
) -> Answer {
    let text = comment_text(&f, &method, &uri, &body)?;
    for c in f.comments.lock().unwrap().iter_mut().filter(|c| c.1 == id) {
        c.3 = text.clone();
    }
    answer(StatusCode::OK, json!({"id": id, "body": text}))
}

/// A real recipe repository served by `git daemon`: the releases of a fixture test crate
/// (`recipes/<recipe>/recipe/<version>/`), each a commit with an annotated tag, and a pull
/// request (`refs/pull/1/head`) one commit after the last release.
pub struct GitServer {
    child: Child,
    pub clone_url: String,
    pub bare: PathBuf,
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

use ccci_testkit::git;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Serves `owner/<recipe>` built from the fixture releases under `root`; the pull request's
/// head adds a line to the README.
pub fn git_server(root: &Path, owner: &str, recipe: &str) -> GitServer {
    let work = root.join(format!("work-{recipe}"));
    ccci_testkit::release_repository(recipe, &work);
    let bare = root.join("srv").join(owner).join(format!("{recipe}.git"));
    std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
    // The pull request's commit is only in refs/pull/1/head, as on a forge; main is the last
    // release.
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
    git(
        &work,
        &[
            "push",
            "--quiet",
            bare.to_str().unwrap(),
            "HEAD:refs/pull/1/head",
        ],
    );
    let port = ccci_testkit::prism::free_port();
    // git-daemon itself, not `git daemon`: git runs the daemon as its child, and killing git
    // would leave the daemon listening after the test.
    let exec_path = git(root, &["--exec-path"]);
    let child = Command::new(Path::new(&exec_path).join("git-daemon"))
        .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", root.join("srv").display()))
        .arg(root.join("srv"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "git daemon did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    GitServer {
        child,
        clone_url: format!("git://127.0.0.1:{port}/{owner}/{recipe}.git"),
        bare,
    }
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
    let bare = git_server.bare.to_str().unwrap();
    git(
        &work,
        &["push", "--quiet", "--force", bare, "HEAD:refs/pull/1/head"],
    );
    pull_head(&git_server.bare)
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
    std::fs::write(dir.join("token"), "forge-token-1234\n").unwrap();
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
