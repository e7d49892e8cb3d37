//! The forge's CI in the store: webhook deliveries (a replay refused, an accepted one kept until
//! acted on), the queue of runs (one per pull request head, one per recipe at a time, taken by
//! one host only), the forge calls still to make, and ccci's comment on each pull request.
//! Every decision that several processes or hosts could race on is the database's: a primary
//! key, a partial unique index, or a row PostgreSQL locks and skips (`FOR UPDATE SKIP LOCKED`).

use crate::db::{Row, Val};
use crate::{Store, StoreError};
use ccci_core::results::Lane;

/// A run asked for, before it is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// `owner/name` on the forge.
    pub repo: String,
    /// The pull request's index.
    pub pr: i64,
    /// Its head's commit, pinned when it was asked for.
    pub head_sha: String,
    /// Where the repository is cloned from.
    pub clone_url: String,
    /// The recipe.
    pub recipe: String,
    /// A test crate of the serving workspace, or `None` for the generic tiers.
    pub test_crate: Option<String>,
    /// The lane.
    pub lane: Lane,
    /// Who asked.
    pub requested_by: String,
    /// The comment that asked.
    pub trigger_comment: Option<i64>,
    /// How long a red run's deployment is kept for a look (`!testme keep=30m`), in seconds.
    pub keep: Option<u64>,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a host.
    Queued,
    /// A host runs it.
    Running,
    /// It ran to a verdict (green or red).
    Done,
    /// It could not run, or was lost twice.
    Error,
    /// A push to its pull request superseded it before it ended.
    Cancelled,
}

impl JobState {
    /// `queued`, `running`, `done` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Error => "error",
            JobState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Error,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeliveryState {
    /// It asks something of the intake, which has not acted on it yet (or will again).
    Accepted,
    /// A process acts on it now.
    Taken,
    /// The intake acted on it.
    Done,
    /// It asked nothing (an event or comment ccci does not act on).
    Ignored,
}

impl DeliveryState {
    /// Its name in the store.
    fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Accepted => "accepted",
            DeliveryState::Taken => "taken",
            DeliveryState::Done => "done",
            DeliveryState::Ignored => "ignored",
        }
    }
}

impl From<DeliveryState> for Val {
    fn from(s: DeliveryState) -> Val {
        Val::Text(s.as_str().into())
    }
}

impl From<OutboxState> for Val {
    fn from(s: OutboxState) -> Val {
        Val::Text(s.as_str().into())
    }
}

/// Where a forge call in the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// To be made (again, at its `next_at`).
    Pending,
    /// A process makes it now.
    Taken,
    /// The forge took it.
    Sent,
    /// The forge refused it for good.
    Failed,
}

impl OutboxState {
    /// Its name in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Taken => "taken",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<OutboxState> {
        [
            OutboxState::Pending,
            OutboxState::Taken,
            OutboxState::Sent,
            OutboxState::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// The jobs a push superseded ([`Store::supersede`]), as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    /// Queued: cancelled now.
    pub queued: Vec<Job>,
    /// Running: asked to stop.
    pub running: Vec<Job>,
}

/// A forge call about a job, and where it stands: what its pull request was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    /// `react`, `status`, `report` or `reply`.
    pub kind: String,
    /// What it tells the pull request, in a line for people.
    pub summary: String,
    /// Where it stands.
    pub state: OutboxState,
    /// How many times it was made.
    pub attempts: u32,
    /// What the forge said the last time it failed.
    pub last_error: Option<String>,
}

/// A queued (or run) job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// What was asked.
    pub asked: NewJob,
    /// Where it stands.
    pub state: JobState,
    /// How many times a host took it.
    pub attempts: u32,
    /// The host that runs (or ran) it.
    pub host: Option<String>,
    /// The process that runs it, and its start time.
    pub pid: Option<(u32, Option<u64>)>,
    /// The run it became.
    pub run_id: Option<String>,
    /// When it was asked for, taken, and ended (Unix seconds).
    pub created_at: i64,
    /// When a host took it.
    pub started_at: Option<i64>,
    /// When it ended.
    pub finished_at: Option<i64>,
    /// What happened, in a line.
    pub note: Option<String>,
    /// The head of its pull request that superseded it, when a push did.
    pub superseded_by: Option<String>,
    /// The job this one retries after a host fault, when it is a retry.
    pub retry_of: Option<String>,
}

/// What queueing a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job, with its id.
    New(String),
    /// The same head is already queued or running: that job's id.
    Existing(String),
}

/// A delivery accepted and not yet acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The delivery's id.
    pub id: String,
    /// What it asks (the service's JSON).
    pub request: String,
    /// How many times acting on it failed.
    pub attempts: u32,
    /// When it came (Unix seconds).
    pub received_at: i64,
}

/// A forge call still to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Its id.
    pub id: String,
    /// The job it is about.
    pub job_id: Option<String>,
    /// `react`, `status`, `report` or `reply`.
    pub kind: String,
    /// The call (the service's JSON).
    pub call: String,
    /// How many times it failed.
    pub attempts: u32,
}

/// Seconds after which a delivery or forge call a process took and never finished (it died)
/// is free for another to take.
pub const ABANDONED: i64 = 300;

const JOB: &str = "id, repo, pr, head_sha, clone_url, recipe, test_crate, lane, state, attempts, requested_by, trigger_comment, host, pid, pid_start, run_id, created_at, started_at, finished_at, note, superseded_by, retry_of, keep_secs";

/// The partial unique index's predicate, written as the index writes it (PostgreSQL matches a
/// conflict target to an index by it).
const ACTIVE: &str = "state = 'queued' OR state = 'running'";

/// What became of a delivery the store was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Recorded: the first of its id and of its comment.
    New,
    /// A delivery of this id was recorded already.
    SameDelivery,
    /// Its comment came in already under another delivery id.
    SameComment,
}

impl Store {
    /// Records delivery `id`; `request` is what it asks (then it waits to be acted on), `None`
    /// for one that asks nothing; `comment` the `!testme` comment it carries. A delivery id
    /// already seen, or a comment of `repo` already taken in under another delivery id, is a
    /// replay and records nothing.
    pub fn accept_delivery(
        &self,
        id: &str,
        repo: Option<&str>,
        comment: Option<i64>,
        request: Option<&str>,
        now: i64,
    ) -> Result<Taken, StoreError> {
        let state = match request {
            Some(_) => DeliveryState::Accepted,
            None => DeliveryState::Ignored,
        };
        // No conflict target: either unique key (the id, or the repository's comment) refuses.
        let n = self.db.exec(
            "INSERT INTO deliveries (id, received_at, repo, comment_id, state, request, next_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            &[id.into(), Val::Int(now), repo.into(), comment.map_or(Val::Null, Val::Int), state.into(), request.into(), Val::Int(now)],
        )?;
        if n == 1 {
            return Ok(Taken::New);
        }
        let same_id = !self
            .db
            .query("SELECT 1 FROM deliveries WHERE id = ?", &[id.into()])?
            .is_empty();
        Ok(if same_id {
            Taken::SameDelivery
        } else {
            Taken::SameComment
        })
    }

    /// Accepted deliveries due to be acted on at `now`, oldest first.
    pub fn due_deliveries(&self, now: i64, limit: u32) -> Result<Vec<Accepted>, StoreError> {
        let rows = self.db.query(
            "SELECT id, request, attempts, received_at FROM deliveries WHERE (state = ? AND next_at <= ?) OR (state = ? AND next_at < ?) ORDER BY received_at, id LIMIT ?",
            &[
                DeliveryState::Accepted.into(),
                Val::Int(now),
                DeliveryState::Taken.into(),
                Val::Int(now - ABANDONED),
                Val::Int(limit.into()),
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Accepted {
                    id: r.text("id")?,
                    request: r.text("request")?,
                    attempts: r.int("attempts")? as u32,
                    received_at: r.int("received_at")?,
                })
            })
            .collect()
    }

    /// Takes accepted delivery `id` to act on it: `false` when another process took it first
    /// (several hosts may serve one store). One taken and not acted on within
    /// [`ABANDONED`] seconds is free again.
    pub fn take_delivery(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let n = self.db.exec(
            "UPDATE deliveries SET state = ?, next_at = ? WHERE id = ? AND (state = ? OR (state = ? AND next_at < ?))",
            &[
                DeliveryState::Taken.into(),
                Val::Int(now),
                id.into(),
                DeliveryState::Accepted.into(),
                DeliveryState::Taken.into(),
                Val::Int(now - ABANDONED),
            ],
        )?;
        Ok(n == 1)
    }

    /// Delivery `id` was acted on (`note` says how).
    pub fn delivery_done(&self, id: &str, note: &str) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE deliveries SET state = ?, note = ? WHERE id = ?",
            &[DeliveryState::Done.into(), note.into(), id.into()],
        )?;
        Ok(())
    }

    /// Acting on delivery `id` failed (`why`): try again at `next_at`.
    pub fn delivery_retry(&self, id: &str, next_at: i64, why: &str) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, next_at = ?, note = ? WHERE id = ?",
            &[DeliveryState::Accepted.into(), Val::Int(next_at), why.into(), id.into()],
        )?;
        Ok(())
    }

    /// Queues `job`, asked for at `asked` (when its delivery came), unless the same head
    /// (repo, commit, lane) was queued or running then: a `!testme` that came while a run of
    /// its head was going is that run, even when it is acted on after the run ended.
    pub fn enqueue(&self, job: &NewJob, asked: i64, now: i64) -> Result<Enqueued, StoreError> {
        let then = self.db.query(
            "SELECT id FROM jobs WHERE repo = ? AND head_sha = ? AND lane = ? AND created_at <= ? AND (finished_at IS NULL OR finished_at >= ?) ORDER BY created_at DESC LIMIT 1",
            &[
                job.repo.as_str().into(),
                job.head_sha.as_str().into(),
                job.lane.as_str().into(),
                Val::Int(asked),
                Val::Int(asked),
            ],
        )?;
        if let Some(id) = then.first().map(|r| r.text("id")).transpose()? {
            return Ok(Enqueued::Existing(id));
        }
        for _ in 0..3 {
            let id = new_id();
            let n = self.insert_job(&id, job, now, None)?;
            if n == 1 {
                return Ok(Enqueued::New(id));
            }
            let existing = self.db.query(
                &format!("SELECT id FROM jobs WHERE repo = ? AND head_sha = ? AND lane = ? AND ({ACTIVE})"),
                &[job.repo.as_str().into(), job.head_sha.as_str().into(), job.lane.as_str().into()],
            )?;
            // Gone between the two statements (it ended): queue it anew.
            if let Some(id) = existing.first().map(|r| r.text("id")).transpose()? {
                return Ok(Enqueued::Existing(id));
            }
        }
        Err(StoreError::Schema(
            "a job kept ending while it was queued again".into(),
        ))
    }

    /// Takes the oldest queued job whose recipe no host is running, for `host`: at most one
    /// host ever takes a job, and one recipe runs at a time across every host.
    pub fn claim(&self, host: &str, now: i64) -> Result<Option<Job>, StoreError> {
        let lock = if self.db.is_postgres() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', host = ?, started_at = ?, attempts = attempts + 1, pid = NULL, pid_start = NULL WHERE id = (SELECT id FROM jobs AS q WHERE q.state = 'queued' AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.state = 'running' AND r.recipe = q.recipe) ORDER BY q.created_at, q.id LIMIT 1{lock}) RETURNING {JOB}"
        );
        match self.db.query(&sql, &[host.into(), Val::Int(now)]) {
            Ok(rows) => rows.first().map(job).transpose(),
            // Another host took a job of the same recipe in the same moment.
            Err(e) if e.is_conflict() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Notes the process running job `id`.
    pub fn job_process(
        &self,
        id: &str,
        pid: u32,
        pid_start: Option<u64>,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE jobs SET pid = ?, pid_start = ? WHERE id = ?",
            &[
                Val::Int(pid.into()),
                pid_start.map(|s| s as i64).into(),
                id.into(),
            ],
        )?;
        Ok(())
    }

    /// Job `id` ended (`Done` or `Error`), as run `run_id` when it became one.
    pub fn finish_job(
        &self,
        id: &str,
        state: JobState,
        run_id: Option<&str>,
        note: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE jobs SET state = ?, run_id = COALESCE(?, run_id), note = ?, finished_at = ? WHERE id = ?",
            &[state.as_str().into(), run_id.into(), note.into(), Val::Int(now), id.into()],
        )?;
        Ok(())
    }

    /// Queues a retry of finished job `id` (its run failed for the host, not the recipe): a
    /// new job of the same head that names it (`retry_of`), so that both attempts are kept.
    /// `None` when another job of that head is already queued or running (a `!testme` came
    /// meanwhile: that one is the retry), or when `id` is unknown.
    pub fn retry(&self, id: &str, now: i64) -> Result<Option<String>, StoreError> {
        let Some(old) = self.job(id)? else {
            return Ok(None);
        };
        let new = new_id();
        let n = self.insert_job(&new, &old.asked, now, Some(id))?;
        Ok((n == 1).then_some(new))
    }

    /// Inserts `job` as queued job `id` (retrying `retry_of`, when it does), unless a job of
    /// the same head and lane is queued or running: how many rows it inserted.
    fn insert_job(
        &self,
        id: &str,
        job: &NewJob,
        now: i64,
        retry_of: Option<&str>,
    ) -> Result<u64, StoreError> {
        self.db.exec(
            &format!("INSERT INTO jobs (id, repo, pr, head_sha, clone_url, recipe, test_crate, lane, state, requested_by, trigger_comment, created_at, retry_of, keep_secs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?) ON CONFLICT (repo, head_sha, lane) WHERE {ACTIVE} DO NOTHING"),
            &[
                id.into(),
                job.repo.as_str().into(),
                Val::Int(job.pr),
                job.head_sha.as_str().into(),
                job.clone_url.as_str().into(),
                job.recipe.as_str().into(),
                job.test_crate.clone().into(),
                job.lane.as_str().into(),
                job.requested_by.as_str().into(),
                job.trigger_comment.into(),
                Val::Int(now),
                retry_of.into(),
                job.keep.map(|k| k.min(i64::MAX as u64) as i64).into(),
            ],
        )
    }

    /// How many times the job `id` retries an earlier one (0 for a first attempt), following
    /// `retry_of` back.
    pub fn retries_before(&self, id: &str) -> Result<u32, StoreError> {
        let mut n = 0;
        let mut at = self.job(id)?.and_then(|j| j.retry_of);
        while let Some(earlier) = at {
            n += 1;
            // A chain longer than any retry setting is a loop: stop counting.
            if n > 100 {
                break;
            }
            at = self.job(&earlier)?.and_then(|j| j.retry_of);
        }
        Ok(n)
    }

    /// Puts running job `id` back in the queue (its host lost it), saying why.
    pub fn requeue(&self, id: &str, why: &str) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE jobs SET state = 'queued', host = NULL, pid = NULL, pid_start = NULL, note = ? WHERE id = ? AND state = 'running'",
            &[why.into(), id.into()],
        )?;
        Ok(())
    }

    /// The jobs `host` is running.
    pub fn running_on(&self, host: &str) -> Result<Vec<Job>, StoreError> {
        let rows = self.db.query(
            &format!(
                "SELECT {JOB} FROM jobs WHERE state = 'running' AND host = ? ORDER BY started_at"
            ),
            &[host.into()],
        )?;
        rows.iter().map(job).collect()
    }

    /// Job `id`.
    pub fn job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        let rows = self.db.query(
            &format!("SELECT {JOB} FROM jobs WHERE id = ?"),
            &[id.into()],
        )?;
        rows.first().map(job).transpose()
    }

    /// The newest jobs, of any state.
    pub fn jobs(&self, limit: u32) -> Result<Vec<Job>, StoreError> {
        let rows = self.db.query(
            &format!("SELECT {JOB} FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?"),
            &[Val::Int(limit.into())],
        )?;
        rows.iter().map(job).collect()
    }

    /// Adds a forge call to make (about `job_id`, after every earlier call about it): its
    /// `kind`, what it tells the pull request in a line for people (`summary`), and the call
    /// itself as the service reads it back (`call`).
    pub fn outbox_push(
        &self,
        job_id: Option<&str>,
        kind: &str,
        summary: &str,
        call: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let id = new_id();
        // The store's own counter (V5__outbox_sequence.sql): every host draws the next
        // order from the database, whatever its clock says.
        let drawn = self.db.query(
            "UPDATE counters SET value = value + 1 WHERE name = 'outbox' RETURNING value",
            &[],
        )?;
        let seq = drawn
            .first()
            .map(|r| r.int("value"))
            .transpose()?
            .ok_or_else(|| {
                StoreError::Schema("the outbox's counter is missing from the counters table".into())
            })?;
        self.db.exec(
            "INSERT INTO outbox (id, job_id, kind, summary, call, state, seq, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            &[id.as_str().into(), job_id.into(), kind.into(), summary.into(), call.into(), OutboxState::Pending.into(), Val::Int(seq), Val::Int(now)],
        )?;
        Ok(id)
    }

    /// Takes forge call `id` to make it: `false` when another process took it first. One
    /// taken and not marked within [`ABANDONED`] seconds is free again.
    pub fn take_outgoing(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let n = self.db.exec(
            "UPDATE outbox SET state = ?, next_at = ? WHERE id = ? AND (state = ? OR (state = ? AND next_at < ?))",
            &[
                OutboxState::Taken.into(),
                Val::Int(now),
                id.into(),
                OutboxState::Pending.into(),
                OutboxState::Taken.into(),
                Val::Int(now - ABANDONED),
            ],
        )?;
        Ok(n == 1)
    }

    /// Forge calls due at `now`, oldest first: of a job's calls, only the first still pending
    /// (the next waits for it).
    pub fn outbox_due(&self, now: i64, limit: u32) -> Result<Vec<Outgoing>, StoreError> {
        let rows = self.db.query(
            "SELECT id, job_id, kind, call, attempts FROM outbox AS o WHERE ((state = ? AND next_at <= ?) OR (state = ? AND next_at < ?)) AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE (e.state = ? OR e.state = ?) AND e.job_id = o.job_id AND e.seq < o.seq) ORDER BY seq, id LIMIT ?",
            &[
                OutboxState::Pending.into(),
                Val::Int(now),
                OutboxState::Taken.into(),
                Val::Int(now - ABANDONED),
                OutboxState::Pending.into(),
                OutboxState::Taken.into(),
                Val::Int(limit.into()),
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Outgoing {
                    id: r.text("id")?,
                    job_id: r.opt_text("job_id")?,
                    kind: r.text("kind")?,
                    call: r.text("call")?,
                    attempts: r.int("attempts")? as u32,
                })
            })
            .collect()
    }

    /// Forge call `id` was made ([`OutboxState::Sent`]), failed for good
    /// ([`OutboxState::Failed`]), or is tried again at `next_at` ([`OutboxState::Pending`]),
    /// with `error`.
    pub fn outbox_mark(
        &self,
        id: &str,
        state: OutboxState,
        next_at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db.exec(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?",
            &[state.into(), Val::Int(next_at), error.into(), id.into()],
        )?;
        Ok(())
    }

    /// A push made `head` the head of pull request `pr` of `repo`: its jobs of other heads
    /// that are queued are cancelled now, and those running are asked to stop (their host's
    /// runner sees it). Returns both, as they were before.
    pub fn supersede(
        &self,
        repo: &str,
        pr: i64,
        head: &str,
        now: i64,
    ) -> Result<Superseded, StoreError> {
        let of = |state: JobState| -> Result<Vec<Job>, StoreError> {
            let rows = self.db.query(
                &format!("SELECT {JOB} FROM jobs WHERE repo = ? AND pr = ? AND head_sha <> ? AND state = ? AND superseded_by IS NULL"),
                &[repo.into(), Val::Int(pr), head.into(), state.as_str().into()],
            )?;
            rows.iter().map(job).collect()
        };
        let (queued, running) = (of(JobState::Queued)?, of(JobState::Running)?);
        let note = format!("superseded by {}", ccci_core::short_commit(head));
        let mut stmts = Vec::new();
        // Every one is marked; one still queued is also cancelled, while one a host took
        // meanwhile is stopped by that host's runner, which sees the mark.
        for j in queued.iter().chain(&running) {
            stmts.push((
                "UPDATE jobs SET superseded_by = ? WHERE id = ?",
                vec![head.into(), j.id.as_str().into()],
            ));
        }
        for j in &queued {
            stmts.push((
                "UPDATE jobs SET state = ?, note = ?, finished_at = ? WHERE id = ? AND state = ?",
                vec![
                    JobState::Cancelled.as_str().into(),
                    note.as_str().into(),
                    Val::Int(now),
                    j.id.as_str().into(),
                    JobState::Queued.as_str().into(),
                ],
            ));
        }
        self.db.batch(&stmts)?;
        Ok(Superseded { queued, running })
    }

    /// What the pull request of job `id` was told, in the order it was asked: each forge call
    /// about the job with where it stands.
    pub fn told(&self, id: &str) -> Result<Vec<Told>, StoreError> {
        let rows = self.db.query(
            "SELECT kind, summary, state, attempts, last_error FROM outbox WHERE job_id = ? ORDER BY seq, id",
            &[id.into()],
        )?;
        rows.iter()
            .map(|r| {
                let state = r.text("state")?;
                Ok(Told {
                    kind: r.text("kind")?,
                    // Calls queued before the summary was kept (V6) say only their kind.
                    summary: r.opt_text("summary")?.unwrap_or_default(),
                    state: OutboxState::parse(&state).ok_or_else(|| {
                        StoreError::Schema(format!("an outbox call in the unknown state `{state}`"))
                    })?,
                    attempts: r.int("attempts")? as u32,
                    last_error: r.opt_text("last_error")?,
                })
            })
            .collect()
    }

    /// How many forge calls are pending (for a service's health).
    pub fn outbox_pending(&self) -> Result<i64, StoreError> {
        let rows = self.db.query(
            "SELECT COUNT(*) AS n FROM outbox WHERE state = ?",
            &[OutboxState::Pending.into()],
        )?;
        Ok(rows.first().map(|r| r.int("n")).transpose()?.unwrap_or(0))
    }

    /// ccci's report comment on pull request `pr` of `repo`, if it made one.
    pub fn pr_comment(&self, repo: &str, pr: i64) -> Result<Option<i64>, StoreError> {
        let rows = self.db.query(
            "SELECT comment_id FROM pr_comments WHERE repo = ? AND pr = ?",
            &[repo.into(), Val::Int(pr)],
        )?;
        rows.first().map(|r| r.int("comment_id")).transpose()
    }

    /// Notes ccci's report comment on pull request `pr` of `repo`.
    pub fn set_pr_comment(&self, repo: &str, pr: i64, comment_id: i64) -> Result<(), StoreError> {
        self.db.exec(
            "INSERT INTO pr_comments (repo, pr, comment_id) VALUES (?, ?, ?) ON CONFLICT (repo, pr) DO UPDATE SET comment_id = excluded.comment_id",
            &[repo.into(), Val::Int(pr), Val::Int(comment_id)],
        )?;
        Ok(())
    }
}

/// A new random id: 16 hex digits.
fn new_id() -> String {
    let mut b = [0u8; 8];
    // The kernel's randomness; were it unreadable, the time keeps ids apart.
    if ccci_core::random_fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        b = t.to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn job(r: &Row) -> Result<Job, StoreError> {
    let bad = |what: &str| StoreError::Schema(format!("a job row with {what}"));
    Ok(Job {
        id: r.text("id")?,
        asked: NewJob {
            repo: r.text("repo")?,
            pr: r.int("pr")?,
            head_sha: r.text("head_sha")?,
            clone_url: r.text("clone_url")?,
            recipe: r.text("recipe")?,
            test_crate: r.opt_text("test_crate")?,
            lane: r
                .text("lane")?
                .parse()
                .map_err(|_| bad("an unknown lane"))?,
            requested_by: r.text("requested_by")?,
            trigger_comment: r.opt_int("trigger_comment")?,
            keep: r.opt_int("keep_secs")?.map(|k| k.max(0) as u64),
        },
        state: JobState::parse(&r.text("state")?).ok_or_else(|| bad("an unknown state"))?,
        attempts: r.int("attempts")? as u32,
        host: r.opt_text("host")?,
        pid: match r.opt_int("pid")? {
            Some(p) => Some((p as u32, r.opt_int("pid_start")?.map(|s| s as u64))),
            None => None,
        },
        run_id: r.opt_text("run_id")?,
        created_at: r.int("created_at")?,
        started_at: r.opt_int("started_at")?,
        finished_at: r.opt_int("finished_at")?,
        note: r.opt_text("note")?,
        superseded_by: r.opt_text("superseded_by")?,
        retry_of: r.opt_text("retry_of")?,
    })
}
