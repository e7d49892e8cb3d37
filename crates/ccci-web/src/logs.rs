//! A job's run log as the host that runs it keeps it (`<dir>/<job id>/run.log`, written by
//! `cargo ccci serve`), served to the job's page while the run goes and after.
//!
//! Only whole lines are served, so that the secrets the service names (its forge token, its
//! webhook secret, its store's password) are whole in every piece and replaced by
//! `<redacted>` before they leave: a run's output should never hold them, and if a bug ever
//! printed one, this is the last door.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// The most of a log one answer carries.
pub const CHUNK: u64 = 64 * 1024;

/// Where this host keeps its jobs' logs, and what must never be shown of them.
#[derive(Debug, Clone)]
pub struct JobLogs {
    dir: PathBuf,
    secrets: Vec<String>,
}

/// A piece of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Whole lines, redacted.
    pub text: String,
    /// Where the next piece starts (a byte offset in the log).
    pub next: u64,
}

impl JobLogs {
    /// The logs under `dir`, redacting `secrets` (values shorter than 4 characters are not
    /// secrets and would blank ordinary words).
    pub fn new(dir: PathBuf, secrets: impl IntoIterator<Item = String>) -> JobLogs {
        JobLogs {
            dir,
            secrets: secrets.into_iter().filter(|s| s.len() >= 4).collect(),
        }
    }

    /// The log of job `id` from byte `from`: the whole lines written since, at most
    /// [`CHUNK`] bytes of them; `None` when this host has no log of that job.
    pub fn read(&self, id: &str, from: u64) -> Option<Piece> {
        let mut file = std::fs::File::open(self.path(id)?).ok()?;
        let size = file.metadata().ok()?.len();
        let from = from.min(size);
        file.seek(SeekFrom::Start(from)).ok()?;
        let mut bytes = Vec::new();
        file.take(CHUNK).read_to_end(&mut bytes).ok()?;
        // Up to the last newline: a line still being written comes whole with the next piece.
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        bytes.truncate(whole);
        Some(Piece {
            text: self.redact(&String::from_utf8_lossy(&bytes)),
            next: from + whole as u64,
        })
    }

    /// The last whole lines of job `id`'s log, at most [`CHUNK`] bytes of them, and where the
    /// next piece starts.
    pub fn tail(&self, id: &str) -> Option<Piece> {
        let size = std::fs::metadata(self.path(id)?).ok()?.len();
        let start = size.saturating_sub(CHUNK);
        let mut piece = self.read(id, start)?;
        if start > 0 {
            // Started mid-line: drop the part line.
            if let Some(i) = piece.text.find('\n') {
                piece.text.drain(..=i);
            }
        }
        Some(piece)
    }

    /// `<dir>/<id>/run.log`, for an id that can only name a directory under `dir`.
    fn path(&self, id: &str) -> Option<PathBuf> {
        let plain = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        plain.then(|| self.dir.join(id).join("run.log"))
    }

    fn redact(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "<redacted>"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(text: &str) -> (tempfile::TempDir, JobLogs) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("job-1")).unwrap();
        std::fs::write(tmp.path().join("job-1/run.log"), text).unwrap();
        let logs = JobLogs::new(tmp.path().into(), ["s3cret-token".to_string(), "x".into()]);
        (tmp, logs)
    }

    #[test]
    fn whole_lines_only_with_secrets_replaced() {
        let (_tmp, logs) = logs("one s3cret-token\ntwo x\nthree, being writ");
        let piece = logs.read("job-1", 0).unwrap();
        assert_eq!(piece.text, "one <redacted>\ntwo x\n");
        assert_eq!(piece.next, 23);
        // Nothing new since: an empty piece at the same place.
        let again = logs.read("job-1", piece.next).unwrap();
        assert_eq!((again.text.as_str(), again.next), ("", 23));
    }

    #[test]
    fn an_id_that_is_not_a_plain_name_reads_nothing() {
        let (_tmp, logs) = logs("line\n");
        assert!(logs.read("job-1", 0).is_some());
        for id in ["../job-1", "job-1/../job-1", "", "job 1"] {
            assert_eq!(logs.read(id, 0), None, "{id}");
        }
        assert_eq!(logs.read("job-2", 0), None);
    }

    #[test]
    fn the_tail_starts_at_a_whole_line() {
        let line = "0123456789abcdef\n";
        let text = line.repeat((CHUNK as usize / line.len()) + 10);
        let (_tmp, logs) = logs(&text);
        let tail = logs.tail("job-1").unwrap();
        assert!(tail.text.starts_with("0123"), "{}", &tail.text[..40]);
        assert!(tail.text.len() as u64 <= CHUNK);
        assert_eq!(tail.next, text.len() as u64);
    }
}
