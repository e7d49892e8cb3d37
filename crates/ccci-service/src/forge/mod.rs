//! `cargo ccci forge`: a small, real forge to try ccci against and to demonstrate it, and the
//! forge the service's own tests run against.
//!
//! - It speaks the part of Gitea's API that ccci calls, under `/api/v1`, for the holder of its
//!   one token: a collaborator's permission, the authenticated user, reactions, commit
//!   statuses, comments (new, listed, edited), a pull request, its timeline, and opening one.
//!   The service's tests put Prism in front of it with Gitea's OpenAPI description, which
//!   refuses a request or an answer the spec does not take.
//! - It serves its repositories over git's smart HTTP (`git http-backend`, pushes too), each
//!   pull request's head at `refs/pull/N/head` as Gitea keeps it; a push to a pull request's
//!   branch moves that ref and is recorded on its timeline.
//! - It sends signed webhook deliveries as Gitea does (`X-Gitea-Signature`, HMAC-SHA256 of the
//!   body): a comment written on it, a pull request opened or pushed to.
//! - It shows each pull request's statuses, comments, reactions and the deliveries it sent on
//!   a page, with a form to comment as one of its users.
//!
//! It is not Gitea: one account holds the token, users exist by being named with their
//! permission, its records are one JSON file. It is for trying ccci on one machine, never for
//! keeping recipes.

mod api;
mod book;
pub mod cli;
mod git;
mod page;
mod send;

use book::Records;
pub use book::{Book, Comment, Delivery, Pull, Status};

use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The login of the account the forge's token belongs to: the author of what the service
/// posts.
pub const BOT: &str = "ccci-bot";

/// How a forge is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// Its directory: `repos/<owner>/<name>.git`, `forge.json` (its records), and `token` and
    /// `webhook-secret` (made when missing).
    pub dir: PathBuf,
    /// Users and their permission on every repository (`alice` → `write`).
    pub users: Vec<(String, String)>,
    /// Where its webhook deliveries go (`http://127.0.0.1:8430/hooks/forge`); none: not sent.
    pub hook: Option<String>,
}

/// One API request the forge received, as its tests read them.
#[derive(Debug, Clone)]
pub struct Received {
    /// `GET`, `POST`, …
    pub method: String,
    /// Its path, below `/api/v1`.
    pub path: String,
    /// Its JSON body (`null` when it had none).
    pub body: serde_json::Value,
    /// When it arrived.
    pub at: Instant,
}

/// A running forge's state.
pub struct Forge {
    dir: PathBuf,
    url: String,
    token: String,
    hook: Option<(String, Vec<u8>)>,
    records: Arc<Records>,
    received: Mutex<Vec<Received>>,
    /// While set, every API call is answered 503, as a forge that is down for maintenance.
    pub failing: AtomicBool,
    http: reqwest::Client,
}

impl Forge {
    /// The forge of `options`, reached at `url` (its base, without `/api/v1`): its directory
    /// made, its token and webhook secret read or made, its records loaded.
    ///
    /// # Errors
    /// When its directory cannot be made, or a file in it cannot be read or written, naming
    /// the file.
    pub fn open(options: &Options, url: &str) -> Result<Forge, String> {
        let dir = &options.dir;
        std::fs::create_dir_all(dir.join("repos"))
            .map_err(|e| format!("{}: cannot be made: {e}", dir.display()))?;
        let token = secret_file(&dir.join("token"))?;
        let secret = secret_file(&dir.join("webhook-secret"))?;
        let mut book = Book::load(&dir.join("forge.json"))?;
        for (user, permission) in &options.users {
            book.users.insert(user.clone(), permission.clone());
        }
        Ok(Forge {
            dir: dir.clone(),
            url: url.trim_end_matches('/').to_string(),
            token,
            hook: options.hook.clone().map(|h| (h, secret.into_bytes())),
            records: Arc::new(Records::keep(book, dir.join("forge.json"))?),
            received: Mutex::new(Vec::new()),
            failing: AtomicBool::new(false),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(|e| format!("the forge's HTTP client: {e}"))?,
        })
    }

    /// Its base URL (`http://127.0.0.1:3000`); the API is below it at `/api/v1`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The token of its account ([`BOT`]).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The directory of its repositories.
    pub fn repos(&self) -> PathBuf {
        self.dir.join("repos")
    }

    /// Its records, now.
    pub fn book(&self) -> Book {
        self.lock().clone()
    }

    /// The API requests it received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A comment `author` wrote on pull request `pull` of `repo`, recorded without a
    /// delivery (a comment written before the service was told of the forge); its id.
    pub fn comment_as(&self, repo: &str, pull: i64, author: &str, body: &str) -> i64 {
        self.change(|b| add_comment(b, repo, pull, author, body))
    }

    /// Records a push to pull request `pull` of `repo` at `at` (Unix seconds) on its
    /// timeline, as a push a moment before the forge was asked would show.
    pub fn pushed(&self, repo: &str, pull: i64, at: u64) {
        self.change(|b| {
            if let Some(p) = b
                .pulls
                .iter_mut()
                .find(|p| p.repo == repo && p.number == pull)
            {
                p.pushes.push(at);
            }
        });
    }

    /// The text of comment `id`.
    pub fn comment_text(&self, id: i64) -> Option<String> {
        self.lock()
            .comments
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.body.clone())
    }

    /// Makes `users` (login → permission) known, or changes their permission.
    pub fn set_users(&self, users: &[(&str, &str)]) {
        self.change(|b| {
            for (u, p) in users {
                b.users.insert((*u).into(), (*p).into());
            }
        });
    }

    /// The forge's routes: its API, its pages, its git, and its own `/-/` calls.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .nest("/api/v1", api::routes())
            .merge(page::routes())
            .fallback(git::serve)
            .with_state(self)
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        self.records.lock()
    }

    /// Changes its records with `f` and writes them; `f`'s answer.
    fn change<T>(&self, f: impl FnOnce(&mut Book) -> T) -> T {
        self.records.change(f)
    }

    /// Where `repo` (`owner/name`) is kept, when the forge has it.
    fn repo_dir(&self, repo: &str) -> Option<PathBuf> {
        let (owner, name) = repo.split_once('/')?;
        let ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let dir = self.repos().join(owner).join(format!("{name}.git"));
        (ok(owner) && ok(name) && dir.is_dir()).then_some(dir)
    }

    /// The repositories it has, `owner/name`, sorted.
    fn repositories(&self) -> Vec<String> {
        let mut out = Vec::new();
        for owner in std::fs::read_dir(self.repos())
            .into_iter()
            .flatten()
            .flatten()
        {
            for repo in std::fs::read_dir(owner.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = repo.file_name().to_string_lossy().into_owned();
                if let Some(name) = name.strip_suffix(".git") {
                    out.push(format!("{}/{name}", owner.file_name().to_string_lossy()));
                }
            }
        }
        out.sort();
        out
    }
}

/// Adds a comment to the book; its id.
fn add_comment(b: &mut Book, repo: &str, pull: i64, author: &str, body: &str) -> i64 {
    let id = b.next_id();
    b.comments.push(Comment {
        repo: repo.into(),
        pull,
        id,
        author: author.into(),
        body: body.into(),
        written: now(),
        edited: None,
    });
    id
}

/// The time now, in Unix seconds.
fn now() -> u64 {
    ccci_core::time::unix_secs(std::time::SystemTime::now())
}

/// The trimmed content of `file`, made of 20 random bytes in hex (readable by its owner only)
/// when it does not exist.
fn secret_file(file: &Path) -> Result<String, String> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::read_to_string(file) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_string()),
        Ok(_) => {
            return Err(format!(
                "{} is empty: remove it, and the forge makes one",
                file.display()
            ))
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: cannot be read: {e}", file.display()))
        }
        Err(_) => {}
    }
    let mut bytes = [0u8; 20];
    ccci_core::random_fill(&mut bytes)
        .map_err(|e| format!("/dev/urandom, for {}: {e}", file.display()))?;
    let value: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{value}\n").as_bytes()))
        .map_err(|e| format!("{}: cannot be written: {e}", file.display()))?;
    Ok(value)
}

/// A forge serving on `listen` in a runtime of its own, on a thread of its own, for as long as
/// the process lives (the service's tests): its state.
///
/// # Errors
/// When it cannot listen or open its directory.
pub fn spawn(options: Options, listen: &str) -> Result<Arc<Forge>, String> {
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| format!("the forge cannot listen on {listen}: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let forge = Arc::new(Forge::open(&options, &format!("http://{addr}"))?);
    let app = forge.clone().router();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the forge's runtime");
        rt.block_on(async move {
            let listener =
                tokio::net::TcpListener::from_std(listener).expect("the forge's listener");
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("the forge stopped: {e}");
            }
        });
    });
    Ok(forge)
}

/// `cargo ccci forge serve`: the forge of `options` on `listen`, with `imports` (`owner/name`
/// → a git repository or a directory of release directories) made first, until SIGINT or
/// SIGTERM.
///
/// # Errors
/// When it cannot listen, open its directory or import a repository.
pub async fn serve(
    options: Options,
    listen: &str,
    imports: &[(String, PathBuf)],
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        format!("the forge cannot listen on {listen}: {e}: name another with --listen")
    })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let forge = Arc::new(Forge::open(&options, &format!("http://{addr}"))?);
    for (repo, from) in imports {
        match git::import(&forge, repo, from).await? {
            true => tracing::info!("{repo}: imported from {}", from.display()),
            false => tracing::info!("{repo}: kept as it was (the forge has it already)"),
        }
    }
    tracing::info!(
        "the forge serves {} at {}: API {}/api/v1 (token in {}), git {}/<owner>/<name>.git, webhook deliveries to {}",
        forge.repositories().join(", "),
        forge.url,
        forge.url,
        forge.dir.join("token").display(),
        forge.url,
        options.hook.as_deref().unwrap_or("nowhere (no --hook)")
    );
    axum::serve(listener, forge.clone().router())
        .with_graceful_shutdown(crate::serve::stopped())
        .await
        .map_err(|e| format!("the forge stopped: {e}"))?;
    tracing::info!(
        "the forge stopped; its records are in {}",
        forge.records.file().display()
    );
    Ok(())
}
