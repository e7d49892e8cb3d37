//! The forge's CI in the store, on SQLite and a real PostgreSQL: a replayed delivery is
//! refused; a second `!testme` for a head is the same job; one recipe runs at a time; many
//! takers, each with a connection of its own as another process or host would have, take
//! every job exactly once; a job's forge calls go out in order.

mod common;

use ccci_core::results::Lane;
use ccci_store::{Enqueued, JobState, NewJob, Store};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

fn job(repo: &str, recipe: &str, sha: &str) -> NewJob {
    NewJob {
        repo: repo.into(),
        pr: 7,
        head_sha: sha.into(),
        clone_url: format!("git://127.0.0.1/{repo}.git"),
        recipe: recipe.into(),
        test_crate: None,
        lane: Lane::Cold,
        requested_by: "alice".into(),
        trigger_comment: Some(11),
        keep: None,
    }
}

#[test]
fn a_replayed_delivery_is_refused_and_an_accepted_one_waits_until_acted_on() {
    for t in common::both() {
        let s = t.open();
        use ccci_store::Taken;
        let take = |id: &str, repo, comment, request, at| {
            s.accept_delivery(id, repo, comment, request, at).unwrap()
        };
        assert_eq!(
            take("d1", Some("o/r"), Some(11), Some("{}"), 100),
            Taken::New
        );
        assert_eq!(
            take("d1", Some("o/r"), Some(11), Some("{}"), 101),
            Taken::SameDelivery,
            "{}",
            t.kind
        );
        // The same signed body under a new delivery id names the same comment.
        assert_eq!(
            take("d1-again", Some("o/r"), Some(11), Some("{}"), 101),
            Taken::SameComment,
            "{}",
            t.kind
        );
        assert_eq!(
            take("d1-other-repo", Some("o/other"), Some(11), None, 101),
            Taken::New,
            "the comment is held unique per repository"
        );
        assert_eq!(take("d2", None, None, None, 102), Taken::New);
        let due = s.due_deliveries(200, 10).unwrap();
        assert_eq!(due.len(), 1, "an ignored delivery waits for nothing");
        s.delivery_retry("d1", 300, "the forge is away").unwrap();
        assert!(s.due_deliveries(200, 10).unwrap().is_empty());
        assert_eq!(s.due_deliveries(300, 10).unwrap()[0].attempts, 1);
        s.delivery_done("d1", "queued").unwrap();
        assert!(s.due_deliveries(999, 10).unwrap().is_empty());
    }
}

#[test]
fn a_head_is_queued_once_and_a_recipe_runs_one_at_a_time() {
    for t in common::both() {
        let s = t.open();
        let Enqueued::New(a) = s.enqueue(&job("o/r", "r", "aaa"), 1, 1).unwrap() else {
            panic!("new")
        };
        assert_eq!(
            s.enqueue(&job("o/r", "r", "aaa"), 2, 2).unwrap(),
            Enqueued::Existing(a.clone()),
            "{}",
            t.kind
        );
        let Enqueued::New(b) = s.enqueue(&job("o/r", "r", "bbb"), 3, 3).unwrap() else {
            panic!("another head is another job")
        };
        let taken = s.claim("h1", 10).unwrap().expect("the oldest job");
        assert_eq!(
            (taken.id.as_str(), taken.state, taken.attempts),
            (a.as_str(), JobState::Running, 1)
        );
        assert!(
            s.claim("h2", 11).unwrap().is_none(),
            "{}: r is running",
            t.kind
        );
        // The same head while it runs is still the same job.
        assert_eq!(
            s.enqueue(&job("o/r", "r", "aaa"), 12, 12).unwrap(),
            Enqueued::Existing(a.clone())
        );
        s.finish_job(&a, JobState::Done, Some("run-1"), "L4 green", 20)
            .unwrap();
        let next = s.claim("h2", 21).unwrap().expect("r is free again");
        assert_eq!((next.id, next.host.as_deref()), (b.clone(), Some("h2")));
        // Lost, it goes back to the queue.
        s.requeue(&b, "h2 stopped").unwrap();
        let again = s.claim("h1", 30).unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (b, 2));
        let done = s.job(&a).unwrap().unwrap();
        assert_eq!(
            (done.state, done.run_id.as_deref()),
            (JobState::Done, Some("run-1"))
        );
        // Asked for while it ran (at 15; it ended at 20), acted on after: that run.
        assert_eq!(
            s.enqueue(&job("o/r", "r", "aaa"), 15, 40).unwrap(),
            Enqueued::Existing(a.clone())
        );
        // Asked for after it ended: a new job.
        assert!(matches!(
            s.enqueue(&job("o/r", "r", "aaa"), 40, 40).unwrap(),
            Enqueued::New(_)
        ));
    }
}

#[test]
fn many_takers_take_every_job_exactly_once() {
    for t in common::both() {
        let s = t.open();
        for i in 0..40 {
            s.enqueue(
                &job("o/r", &format!("recipe-{i}"), &format!("{i:040}")),
                i,
                i,
            )
            .unwrap();
        }
        let taken = Arc::new(Mutex::new(Vec::new()));
        let takers: Vec<_> = (0..6)
            .map(|n| {
                // A connection of its own, as a serve process on another host has.
                let store = Store::open(&t.location).unwrap();
                let taken = taken.clone();
                std::thread::spawn(move || {
                    while let Some(j) = store.claim(&format!("host-{n}"), 50).unwrap() {
                        store
                            .finish_job(&j.id, JobState::Done, None, "", 60)
                            .unwrap();
                        taken.lock().unwrap().push(j.id);
                    }
                })
            })
            .collect();
        for t in takers {
            t.join().unwrap();
        }
        let taken = taken.lock().unwrap();
        let once: BTreeSet<&String> = taken.iter().collect();
        assert_eq!(
            (taken.len(), once.len()),
            (40, 40),
            "{}: every job, each once",
            t.kind
        );
    }
}

#[test]
fn a_jobs_forge_calls_go_out_in_order_and_a_failed_one_holds_the_next() {
    for t in common::both() {
        let s = t.open();
        let first = s
            .outbox_push(Some("j1"), "status", "pending: queued", "pending", 0)
            .unwrap();
        let second = s
            .outbox_push(Some("j1"), "status", "success: L4 GREEN", "success", 0)
            .unwrap();
        let other = s
            .outbox_push(Some("j2"), "react", "eyes", "eyes", 0)
            .unwrap();
        let due: Vec<String> = s
            .outbox_due(10, 10)
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(due, [first.clone(), other.clone()], "{}", t.kind);
        // The first failed: tried again later, and the second waits for it.
        s.outbox_mark(
            &first,
            ccci_store::OutboxState::Pending,
            100,
            Some("the forge is away"),
        )
        .unwrap();
        s.outbox_mark(&other, ccci_store::OutboxState::Sent, 10, None)
            .unwrap();
        assert!(s.outbox_due(10, 10).unwrap().is_empty());
        let due = s.outbox_due(100, 10).unwrap();
        assert_eq!(
            (due.len(), due[0].id.as_str(), due[0].attempts),
            (1, first.as_str(), 1)
        );
        s.outbox_mark(&first, ccci_store::OutboxState::Sent, 100, None)
            .unwrap();
        assert_eq!(s.outbox_due(100, 10).unwrap()[0].id, second);
        assert_eq!(s.outbox_pending().unwrap(), 1);
        s.set_pr_comment("o/r", 7, 99).unwrap();
        s.set_pr_comment("o/r", 7, 100).unwrap();
        assert_eq!(s.pr_comment("o/r", 7).unwrap(), Some(100));
    }
}

#[test]
fn a_delivery_or_forge_call_is_taken_by_one_process_and_freed_if_it_dies() {
    for t in common::both() {
        let (a, b) = (t.open(), t.open());
        assert_eq!(
            a.accept_delivery("d", None, None, Some("{}"), 0).unwrap(),
            ccci_store::Taken::New
        );
        assert!(a.take_delivery("d", 10).unwrap(), "{}", t.kind);
        assert!(!b.take_delivery("d", 11).unwrap(), "taken once");
        assert!(
            b.due_deliveries(11, 10).unwrap().is_empty(),
            "not due while taken"
        );
        // Its taker died: free again after a while.
        let later = 10 + ccci_store::ABANDONED + 1;
        assert_eq!(b.due_deliveries(later, 10).unwrap().len(), 1);
        assert!(b.take_delivery("d", later).unwrap());
        let call = a.outbox_push(Some("j"), "react", "eyes", "{}", 0).unwrap();
        assert!(a.take_outgoing(&call, 10).unwrap());
        assert!(
            !b.take_outgoing(&call, 11).unwrap(),
            "{}: made once",
            t.kind
        );
        a.outbox_mark(&call, ccci_store::OutboxState::Sent, 12, None)
            .unwrap();
        assert!(
            !b.take_outgoing(&call, later + 100).unwrap(),
            "a sent call stays sent"
        );
    }
}

/// A push to a pull request supersedes its other heads' jobs: a queued one is cancelled at
/// once, a running one is marked for its runner to stop; the pushed head's own job, and
/// another pull request's, are left alone.
#[test]
fn a_push_cancels_the_queued_and_marks_the_running_jobs_of_older_heads() {
    for t in common::both() {
        let s = t.open();
        let mut other = job("o/r", "q", "ccc");
        other.pr = 2;
        s.enqueue(&other, 5, 5).unwrap();
        let Enqueued::New(running) = s.enqueue(&job("o/r", "r", "aaa"), 1, 1).unwrap() else {
            panic!("new")
        };
        assert_eq!(s.claim("h1", 2).unwrap().unwrap().id, running);
        let mut quick = job("o/r", "r", "bbb");
        quick.lane = ccci_core::results::Lane::of(true);
        let Enqueued::New(queued) = s.enqueue(&quick, 3, 3).unwrap() else {
            panic!("new")
        };
        let Enqueued::New(pushed) = s.enqueue(&job("o/r", "r", "ddd"), 4, 4).unwrap() else {
            panic!("new")
        };

        let superseded = s.supersede("o/r", 7, "ddd", 10).unwrap();
        let ids = |jobs: &[ccci_store::Job]| jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&superseded.queued), vec![queued.clone()], "{}", t.kind);
        assert_eq!(
            ids(&superseded.running),
            vec![running.clone()],
            "{}",
            t.kind
        );
        let q = s.job(&queued).unwrap().unwrap();
        assert_eq!(
            (q.state, q.superseded_by.as_deref(), q.note.as_deref()),
            (JobState::Cancelled, Some("ddd"), Some("superseded by ddd"))
        );
        let r = s.job(&running).unwrap().unwrap();
        assert_eq!(
            (r.state, r.superseded_by.as_deref()),
            (JobState::Running, Some("ddd"))
        );
        let p = s.job(&pushed).unwrap().unwrap();
        assert_eq!((p.state, p.superseded_by), (JobState::Queued, None));
        assert!(
            s.jobs(10)
                .unwrap()
                .iter()
                .filter(|j| j.asked.pr == 2)
                .all(|j| j.superseded_by.is_none()),
            "another pull request's job is left alone"
        );
        // Told once: a second delivery of the same push finds nothing more to supersede.
        let again = s.supersede("o/r", 7, "ddd", 11).unwrap();
        assert!(
            again.queued.is_empty() && again.running.is_empty(),
            "{again:?}"
        );
    }
}

/// A run that failed for the host is retried as a job of its own that names the one it
/// retries, so both attempts are kept; a retry is not queued beside a job of the same head
/// already waiting, and the chain of retries is counted back.
#[test]
fn a_host_fault_is_retried_as_a_new_job_linked_to_the_first() {
    for t in common::both() {
        let s = t.open();
        let Enqueued::New(first) = s.enqueue(&job("o/r", "r", "aaa"), 1, 1).unwrap() else {
            panic!("new")
        };
        assert_eq!(s.claim("h1", 2).unwrap().unwrap().id, first);
        // Still running: a retry cannot sit beside it.
        assert_eq!(s.retry(&first, 3).unwrap(), None, "{}", t.kind);
        s.finish_job(&first, JobState::Done, Some("run-1"), "host fault", 4)
            .unwrap();
        let second = s.retry(&first, 5).unwrap().expect("a retry is queued");
        let queued = s.job(&second).unwrap().unwrap();
        assert_eq!(
            (queued.state, queued.retry_of.as_deref(), &queued.asked),
            (
                JobState::Queued,
                Some(first.as_str()),
                &job("o/r", "r", "aaa")
            ),
            "{}",
            t.kind
        );
        assert_eq!(s.retries_before(&first).unwrap(), 0);
        assert_eq!(s.retries_before(&second).unwrap(), 1);
        // The first attempt is kept as it ended.
        let kept = s.job(&first).unwrap().unwrap();
        assert_eq!(
            (kept.state, kept.run_id.as_deref()),
            (JobState::Done, Some("run-1"))
        );
        // Asked again while the retry waits: that is the retry, not a third job.
        assert_eq!(s.retry(&first, 6).unwrap(), None, "{}", t.kind);
    }
}
