//! What the forge keeps: its users, pull requests, comments, reactions, statuses and the
//! deliveries it sent, in one JSON file of its directory, written whole after each change
//! (a new file renamed over the old), so a restart of the forge loses none of it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The book and the file it is kept in: every change is written there at once.
pub(super) struct Records {
    book: Mutex<Book>,
    file: PathBuf,
}

impl Records {
    /// `book`, kept in `file` from now on (written there first).
    pub(super) fn keep(book: Book, file: PathBuf) -> Result<Records, String> {
        book.save(&file)?;
        Ok(Records {
            book: Mutex::new(book),
            file,
        })
    }

    /// The book, to read.
    pub(super) fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the book with `f` and writes it; `f`'s answer. A book that cannot be written
    /// is said in the log: the forge goes on with what it holds.
    pub(super) fn change<T>(&self, f: impl FnOnce(&mut Book) -> T) -> T {
        let mut book = self.lock();
        let out = f(&mut book);
        if let Err(e) = book.save(&self.file) {
            tracing::error!("the forge's records: {e}");
        }
        out
    }

    /// The file the book is kept in.
    pub(super) fn file(&self) -> &Path {
        &self.file
    }
}

/// The forge's records.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Book {
    /// The last id given to a comment, status or pull request.
    pub last_id: i64,
    /// Each user's permission on every repository (`read`, `write`, `admin`), by login.
    pub users: BTreeMap<String, String>,
    /// Every pull request.
    pub pulls: Vec<Pull>,
    /// Every comment, on every pull request.
    pub comments: Vec<Comment>,
    /// Every reaction to a comment.
    pub reactions: Vec<Reaction>,
    /// Every commit status set.
    pub statuses: Vec<Status>,
    /// Every webhook delivery sent, and its answer.
    pub deliveries: Vec<Delivery>,
}

/// A pull request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pull {
    /// `owner/name`.
    pub repo: String,
    /// Its index in the repository.
    pub number: i64,
    /// Its title.
    pub title: String,
    /// The branch it merges from.
    pub head: String,
    /// The branch it merges into.
    pub base: String,
    /// The head's commit (`refs/pull/N/head`).
    pub sha: String,
    /// When it was opened (Unix seconds).
    pub opened: u64,
    /// When its branch was pushed to since (Unix seconds), as its timeline shows them.
    pub pushes: Vec<u64>,
}

/// A comment on a pull request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    /// `owner/name`.
    pub repo: String,
    /// The pull request's index.
    pub pull: i64,
    /// Its id.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// Its text.
    pub body: String,
    /// When it was written (Unix seconds).
    pub written: u64,
    /// When it was last edited, if it was.
    pub edited: Option<u64>,
}

/// A reaction to a comment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reaction {
    /// The comment's id.
    pub comment: i64,
    /// `eyes`, `+1`, …
    pub content: String,
    /// Who reacted.
    pub by: String,
}

/// A commit status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// `owner/name`.
    pub repo: String,
    /// The commit.
    pub sha: String,
    /// `pending`, `success`, `error`, `failure`, `warning`.
    pub state: String,
    /// Its context (`ccci/testme`).
    pub context: String,
    /// Its description.
    pub description: String,
    /// Where it links.
    pub target_url: String,
    /// When it was set (Unix seconds).
    pub at: u64,
}

/// A webhook delivery the forge sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    /// Its id (`X-Gitea-Delivery`).
    pub id: String,
    /// `owner/name`.
    pub repo: String,
    /// The pull request it is about.
    pub pull: i64,
    /// `issue_comment` or `pull_request`, and its action.
    pub event: String,
    /// When it was sent (Unix seconds).
    pub at: u64,
    /// The HTTP status of the answer, or none when nothing answered.
    pub status: Option<u16>,
    /// The answer's text, or why there was none.
    pub answer: String,
}

impl Book {
    /// The book kept at `file`, or an empty one when there is none yet.
    ///
    /// # Errors
    /// When the file exists but cannot be read as a book: it is left as it is.
    pub fn load(file: &Path) -> Result<Book, String> {
        match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "{}: not the forge's records ({e}); move it away to start the forge empty",
                    file.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Book::default()),
            Err(e) => Err(format!("{}: cannot be read: {e}", file.display())),
        }
    }

    /// Writes the book to `file`, whole: a new file renamed over the old one.
    ///
    /// # Errors
    /// When it cannot be written, naming the file.
    pub fn save(&self, file: &Path) -> Result<(), String> {
        let new = PathBuf::from(format!("{}.new", file.display()));
        let text = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&new, text)
            .and_then(|()| std::fs::rename(&new, file))
            .map_err(|e| format!("{}: cannot be written: {e}", file.display()))
    }

    /// A new id.
    pub fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    /// `login`'s permission: as named, the forge's own account `admin`, anyone else `read`
    /// (every repository here is public, as a recipe's is).
    pub fn permission(&self, login: &str, bot: &str) -> String {
        match self.users.get(login) {
            Some(p) => p.clone(),
            None if login == bot => "admin".into(),
            None => "read".into(),
        }
    }

    /// Pull request `number` of `repo`.
    pub fn pull(&self, repo: &str, number: i64) -> Option<&Pull> {
        self.pulls
            .iter()
            .find(|p| p.repo == repo && p.number == number)
    }

    /// The comments of pull request `number` of `repo`, oldest first.
    pub fn comments_of<'a>(
        &'a self,
        repo: &'a str,
        number: i64,
    ) -> impl Iterator<Item = &'a Comment> {
        self.comments
            .iter()
            .filter(move |c| c.repo == repo && c.pull == number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_survives_its_file_and_permissions_read_as_the_forge_answers_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("forge.json");
        let mut b = Book::load(&file).unwrap();
        b.users.insert("alice".into(), "write".into());
        let id = b.next_id();
        b.save(&file).unwrap();
        let again = Book::load(&file).unwrap();
        assert_eq!((again.last_id, id), (1, 1));
        assert_eq!(again.permission("alice", "bot"), "write");
        assert_eq!(again.permission("bot", "bot"), "admin");
        assert_eq!(again.permission("mallory", "bot"), "read");
        std::fs::write(&file, "not json").unwrap();
        let e = Book::load(&file).unwrap_err();
        assert!(e.contains("move it away"), "{e}");
    }
}
