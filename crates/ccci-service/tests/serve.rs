//! `cargo ccci serve` end to end, on the local Swarm. A signed `!testme` as Gitea delivers it
//! becomes a real run of custom-html on a pull request's head served by real git, and the pull
//! request is told through the forge's API: a reaction, `pending`, then `success` and the
//! report. Every request the service sends passes Prism serving Gitea's OpenAPI description
//! on the way to a forge double (the one part that cannot be had here). Bad deliveries are
//! refused with the status that says why, a flood of them is one run, the forge going away
//! during a run loses nothing, and a `kill -9` of the service loses no run.

mod common;

use common::*;
use std::time::Duration;

const REPO: &str = "coop-cloud/custom-html";

#[test]
fn a_testme_runs_the_pull_request_and_tells_it_the_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let forge = forge(&[("alice", "write"), ("mallory", "read")]);
    let git = forge.git_server(tmp.path(), "coop-cloud", "custom-html");
    let head = pull_head(&git.bare);
    let s = setup(
        &tmp.path().join("svc"),
        &forge.api(),
        &[(REPO, "custom-html")],
        2,
        "ci-1",
        None,
    );
    let serving = start(&s);
    let log = s.dir.join("serve.log");
    let payload =
        |id: i64, user: &str, body: &str| comment_payload(REPO, &git.clone_url, id, user, body);
    let secret = Some(s.secret.as_str());
    // Anyone can write ccci's marker: the report must not be taken for this one.
    let planted = forge.state.comment_as(
        REPO,
        1,
        "mallory",
        "<!-- ccci:testme -->\nL4 GREEN, trust me",
    );

    // Refused, each with the status that says why, and nothing queued.
    let good = payload(50, "alice", "!testme");
    let answered = |(code, said): (u16, String)| format!("{code}: {said}");
    insta::assert_snapshot!(
        "serve_unsigned",
        answered(deliver(&serving.url, "u-1", "issue_comment", &good, None))
    );
    insta::assert_snapshot!(
        "serve_bad_signature",
        answered(deliver(
            &serving.url,
            "u-2",
            "issue_comment",
            &good,
            Some("not-the-secret")
        ))
    );
    let elsewhere = comment_payload("someone/else", &git.clone_url, 51, "alice", "!testme");
    insta::assert_snapshot!(
        "serve_unknown_repository",
        answered(deliver(
            &serving.url,
            "u-3",
            "issue_comment",
            &elsewhere,
            secret
        ))
    );
    insta::assert_snapshot!(
        "serve_malformed_json",
        answered(deliver(
            &serving.url,
            "u-4",
            "issue_comment",
            b"{not json",
            secret
        ))
    );
    insta::assert_snapshot!(
        "serve_10_mib_body",
        format!(
            "{}: refused before it was read",
            announce(&serving.url, 10 << 20)
        )
    );
    let (code, said) = deliver(&serving.url, "u-6", "push", b"{}", secret);
    assert_eq!(
        code, 200,
        "an event ccci does not act on is taken and said so: {said}"
    );

    // A commenter without write access is told who may start runs: the delivery's answer
    // says nothing will run, and a reply on the pull request says who may.
    let (code, said) = deliver(
        &serving.url,
        "m-1",
        "issue_comment",
        &payload(60, "mallory", "!testme"),
        secret,
    );
    assert!(
        code == 200 && said.contains("mallory may not start runs"),
        "{code}: {said}"
    );
    let reply = comment_posted(
        &forge.state,
        "a reply to mallory",
        Duration::from_secs(60),
        "write access",
        &log,
    );
    insta::assert_snapshot!(
        "serve_commenter_without_permission",
        format!(
            "200, then a reply: {}",
            reply.body["body"].as_str().unwrap()
        )
    );

    // A replay: the same signed body under a new delivery id (the signature does not cover
    // the id) names a comment taken in already; an old comment's body is not acted on.
    let (code, said) = deliver(
        &serving.url,
        "m-1-again",
        "issue_comment",
        &payload(60, "mallory", "!testme"),
        secret,
    );
    assert!(
        code == 409 && said.contains("taken in already under another delivery id"),
        "{code}: {said}"
    );
    let two_hours_ago = ccci_core::time::unix_secs(std::time::SystemTime::now()) - 7200;
    let old = comment_payload_at(REPO, &git.clone_url, 61, "alice", "!testme", two_hours_ago);
    let (code, said) = deliver(&serving.url, "o-1", "issue_comment", &old, secret);
    assert!(
        code == 409
            && said.contains("comment 61 was written")
            && said.contains("comment `!testme` again"),
        "{code}: {said}"
    );

    // 100 deliveries of `!testme` in one second: every one answered, one run.
    let started = std::time::Instant::now();
    let answers: Vec<u16> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..100)
            .map(|i| {
                let (url, body) = (serving.url.clone(), payload(100 + i, "alice", "!testme"));
                sc.spawn(move || {
                    deliver(
                        &url,
                        &format!("a-{i}"),
                        "issue_comment",
                        &body,
                        Some("hook-s3cret-4f9a"),
                    )
                    .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        answers.iter().all(|a| *a == 202),
        "every delivery answered 202: {answers:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered in {:?}",
        started.elapsed()
    );
    assert_eq!(
        get(&format!("{}/", serving.url)).0,
        200,
        "the dashboard still answers"
    );
    // A replay of one of them is refused.
    insta::assert_snapshot!(
        "serve_replay",
        answered(deliver(
            &serving.url,
            "a-7",
            "issue_comment",
            &payload(107, "alice", "!testme"),
            secret
        ))
    );

    let pending = status_reached(&forge.state, "pending", Duration::from_secs(60), &log);
    assert!(pending.1.contains("queued: custom-html"), "{pending:?}");
    let reactions = forge
        .state
        .received()
        .iter()
        .filter(|x| x.path.ends_with("/reactions"))
        .count();
    assert!(reactions >= 1, "the comment got its reaction");
    let store = ccci_store::Store::open(&s.database.parse().unwrap()).unwrap();
    let jobs = store.jobs(1000).unwrap();
    assert_eq!(jobs.len(), 1, "one run for one head: {jobs:#?}");
    assert_eq!(
        jobs[0].asked.head_sha, head,
        "the head pinned from refs/pull/1/head"
    );
    insta::assert_snapshot!("serve_100_deliveries_in_a_second", format!(
        "{} of 100 answered 202 within 10 s, the dashboard answering meanwhile; {} run queued for the head",
        answers.iter().filter(|a| **a == 202).count(),
        jobs.len()
    ));

    // The forge goes away while the run goes on: its verdict waits, and is not lost.
    forge
        .state
        .failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let job_id = jobs[0].id.clone();
    let done = std::time::Instant::now();
    loop {
        let job = store.job(&job_id).unwrap().unwrap();
        if job.state != ccci_store::JobState::Queued && job.state != ccci_store::JobState::Running {
            break;
        }
        assert!(
            done.elapsed() < Duration::from_secs(600),
            "the run did not end within 10 min: {job:#?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(3));
    let failed_tries = forge
        .state
        .received()
        .iter()
        .filter(|x| x.path.contains("/statuses/"))
        .count();
    assert!(
        failed_tries >= 2,
        "the verdict was tried while the forge was away"
    );
    forge
        .state
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let success = status_reached(&forge.state, "success", Duration::from_secs(120), &log);
    assert_eq!(success.1, "L4 GREEN");
    insta::assert_snapshot!("serve_forge_down_during_a_run", format!(
        "the verdict was tried while the forge answered 503 and reached it once it was back: {}, {}",
        success.0, success.1
    ));
    let report = comment_posted(
        &forge.state,
        "the report",
        Duration::from_secs(60),
        "<!-- ccci:testme -->",
        &log,
    );
    let text = report.body["body"].as_str().unwrap().to_string();
    assert!(
        text.contains("reached **L4**") && text.contains(&format!("{}/runs/", serving.url)),
        "{text}"
    );
    let order: Vec<String> = statuses(&forge.state.received())
        .into_iter()
        .map(|s| s.0)
        .collect();
    assert_eq!(
        order.first().map(String::as_str),
        Some("pending"),
        "{order:?}"
    );
    assert_eq!(
        order.last().map(String::as_str),
        Some("success"),
        "{order:?}"
    );

    // The run is in the store, and its dashboard page renders.
    let job = store.job(&job_id).unwrap().unwrap();
    let run_id = job.run_id.clone().expect("the job became a run");
    let (code, page) = get(&format!("{}/runs/{run_id}", serving.url));
    assert!(code == 200 && page.contains("L4 GREEN"), "{code}: {page}");
    assert_eq!(get(&format!("{}/jobs/{job_id}", serving.url)).0, 200);

    // The service's log said each step of it, a line each, as an operator follows it.
    let said = std::fs::read_to_string(&log).unwrap();
    let short = ccci_core::short_commit(&head);
    for (what, needles) in [
        ("a refused delivery", vec![" WARN ", "delivery refused"]),
        (
            "the delivery taken",
            vec![" INFO ", "delivery taken: accepted: !testme"],
        ),
        ("the job queued", vec!["job queued", &job_id, short]),
        ("the run started", vec!["run started", &job_id]),
        (
            "the pending status made",
            vec!["forge: status pending on", "done"],
        ),
        (
            "the verdict retried while the forge was away",
            vec![" WARN ", "forge: status success", "to be tried again"],
        ),
        (
            "the run ended with its verdict and page",
            vec!["run ended: L4 GREEN", &run_id],
        ),
        ("the verdict made", vec!["forge: status success on", "done"]),
        ("the report made", vec!["forge: report on", "done"]),
    ] {
        assert!(
            said.lines().any(|l| needles.iter().all(|n| l.contains(n))),
            "the service's log says nothing of {what} ({needles:?}):\n{said}"
        );
    }

    // A push after a `!testme`: the commit the commenter saw is not the head any more, so
    // nothing runs and the commenter is told; the forge's timeline dates the push (a push
    // before the comment is no reason to refuse).
    let now = ccci_core::time::unix_secs(std::time::SystemTime::now());
    forge.state.pushed(REPO, 1, now - 600);
    let seen = comment_payload_at(REPO, &git.clone_url, 300, "alice", "!testme", now - 6);
    let pushed = push_to_pull(tmp.path(), &git, "custom-html");
    forge.state.pushed(REPO, 1, now - 3);
    comment_accepted(&serving.url, "p-1", &seen, secret);
    // Found by the head it names: an older `!testme` of the flood above, retried late (the
    // forge was away), may be refused the same way, naming the head it pinned then.
    let refused = comment_posted(
        &forge.state,
        "a reply saying the head moved",
        Duration::from_secs(60),
        &format!("its head is now {}", ccci_core::short_commit(&pushed)),
        &log,
    );
    let said = refused.body["body"].as_str().unwrap().to_string();
    assert!(
        said.contains(ccci_core::short_commit(&pushed)) && said.contains("comment `!testme` again"),
        "{said}\nthe head pushed: {pushed}; the first head: {head}; the server's refs:\n{}\nthe service's log:\n{}",
        ccci_testkit::git(&git.bare, &["show-ref"]),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let jobs = store.jobs(100).unwrap();
    assert!(
        jobs.iter().all(|j| j.asked.head_sha != pushed),
        "nothing queued for the pushed head: {jobs:#?}"
    );

    // A second `!testme` once it ended, written after the push, is a new run of the new
    // head, whose report edits the first.
    comment_accepted(
        &serving.url,
        "b-1",
        &payload(200, "alice", "!testme"),
        secret,
    );
    let edited = wait_for(
        &forge.state,
        "the report edited",
        Duration::from_secs(600),
        |r| {
            r.iter()
                .find(|x| x.method == "PATCH" && x.path.contains("/issues/comments/"))
                .cloned()
        },
        &log,
    );
    let text = edited.body["body"].as_str().unwrap_or("");
    assert!(
        text.contains("reached **L4**"),
        "the second run's report: {text}"
    );
    assert!(
        !edited
            .path
            .ends_with(&format!("/issues/comments/{planted}")),
        "the report edited is the bot's own, not the marker someone else wrote"
    );
    assert_eq!(
        forge.state.comment_text(planted).as_deref(),
        Some("<!-- ccci:testme -->\nL4 GREEN, trust me")
    );
    let posted = forge
        .state
        .received()
        .iter()
        .filter(|x| {
            x.method == "POST"
                && x.body["body"]
                    .as_str()
                    .unwrap_or("")
                    .contains("<!-- ccci:testme -->")
        })
        .count();
    assert_eq!(posted, 1, "one report comment, edited");
    let heads: Vec<String> = store
        .jobs(100)
        .unwrap()
        .iter()
        .map(|j| j.asked.head_sha.clone())
        .collect();
    assert!(heads.contains(&pushed), "the new head ran: {heads:?}");
    let mut serving = serving;
    serving.stop();
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.lines().any(|l| l.contains(" INFO stopped")),
        "the service's log says nothing of its shutdown:\n{said}"
    );
}

/// A push to a pull request supersedes the run of its old head, as operators expect of a CI
/// service: the run is stopped (it tears down), its job is cancelled, and the old head's
/// status says which commit superseded it; the pull request is not told `failure`.
#[test]
fn a_push_supersedes_the_running_run_of_the_old_head() {
    let tmp = tempfile::tempdir().unwrap();
    let forge = forge(&[("alice", "write")]);
    let git = forge.git_server(tmp.path(), "coop-cloud", "custom-html");
    let old = pull_head(&git.bare);
    let s = setup(
        &tmp.path().join("svc"),
        &forge.api(),
        &[(REPO, "custom-html")],
        1,
        "ci-p",
        None,
    );
    let log = s.dir.join("serve.log");
    let serving = start(&s);
    let (store, running) = testme_running(&serving.url, &s, (REPO, &git), 80, "p-1");
    assert_eq!(running.asked.head_sha, old);
    // The running run's log is on its page, and followed live: lines as the run writes them.
    let log_url = format!("{}/jobs/{}/log?from=0", serving.url, running.id);
    let since = std::time::Instant::now();
    let (lines, still) = loop {
        let (code, running_now, text) = get_with_header(&log_url, "x-ccci-running");
        assert_eq!(code, 200, "{text}");
        if text.lines().any(|l| l.starts_with("ccci:")) {
            break (text, running_now);
        }
        assert!(
            since.elapsed() < Duration::from_secs(120),
            "no line of the run in its log within 120 s: {text:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(still.as_deref(), Some("true"), "{lines}");
    let (code, page) = get(&format!("{}/jobs/{}", serving.url, running.id));
    assert_eq!(code, 200);
    assert!(
        page.contains("id=\"log\"") && page.contains("Live: new lines appear"),
        "{page}"
    );

    let new = push_to_pull(tmp.path(), &git, "custom-html");
    let push = serde_json::to_vec(&serde_json::json!({
        "action": "synchronized",
        "number": 1,
        "pull_request": {"number": 1, "head": {"sha": new}},
        "repository": {"full_name": REPO, "clone_url": git.clone_url},
    }))
    .unwrap();
    let (code, said) = deliver(&serving.url, "p-2", "pull_request", &push, Some(&s.secret));
    assert!(
        code == 200 && said.contains("0 queued and 1 running job(s) of older heads superseded"),
        "{code}: {said}"
    );
    let ended = wait_job(
        &store,
        "cancelled once its run stopped",
        Duration::from_secs(600),
        |j| j.id == running.id && j.state == ccci_store::JobState::Cancelled,
    );
    assert_eq!(ended.superseded_by.as_deref(), Some(new.as_str()));
    let told = wait_for(
        &forge.state,
        "the old head's status says it was superseded",
        Duration::from_secs(60),
        |r| {
            statuses(r).into_iter().find(|(state, description)| {
                state == "error" && description.contains("superseded by")
            })
        },
        &log,
    );
    assert_eq!(
        told.1,
        format!(
            "superseded by {}: comment `!testme` to run it",
            ccci_core::short_commit(&new)
        )
    );
    assert!(
        statuses(&forge.state.received())
            .iter()
            .all(|(state, _)| state != "failure"),
        "a superseded run is not the recipe's failure"
    );
    assert!(
        store
            .jobs(10)
            .unwrap()
            .iter()
            .all(|j| j.asked.head_sha != new),
        "the new head waits for a !testme (auto_rerun is off)"
    );
}

#[test]
fn a_kill_9_of_the_service_mid_run_loses_no_run() {
    let tmp = tempfile::tempdir().unwrap();
    let forge = forge(&[("alice", "admin")]);
    let git = forge.git_server(tmp.path(), "coop-cloud", "custom-html");
    let s = setup(
        &tmp.path().join("svc"),
        &forge.api(),
        &[(REPO, "custom-html")],
        1,
        "ci-k",
        None,
    );
    let log = s.dir.join("serve.log");
    let mut serving = start(&s);
    let (store, running) = testme_running(&serving.url, &s, (REPO, &git), 70, "k-1");
    // Well into its run: the run has started deploying.
    std::thread::sleep(Duration::from_secs(8));
    serving.child.kill().unwrap();
    serving.child.wait().unwrap();
    let (pid, start_time) = running.pid.unwrap();
    assert!(
        ccci_core::host::process_alive(pid, start_time),
        "the run outlived its service (else this test proves nothing)"
    );

    let again = start(&s);
    comment_posted(
        &forge.state,
        "the pull request told the run goes again",
        Duration::from_secs(900),
        "stopped while this run was going; running",
        &log,
    );
    assert!(
        !ccci_core::host::process_alive(pid, start_time),
        "the orphaned run was stopped"
    );
    let told = forge
        .state
        .received()
        .into_iter()
        .find(|x| x.body["body"].as_str().unwrap_or("").contains("running `"))
        .unwrap();
    let told = told.body["body"]
        .as_str()
        .unwrap()
        .replace(ccci_core::short_commit(&running.asked.head_sha), "<head>");
    let success = status_reached(&forge.state, "success", Duration::from_secs(900), &log);
    assert_eq!(success.1, "L4 GREEN");
    let job = store.job(&running.id).unwrap().unwrap();
    assert_eq!(
        (job.state, job.attempts),
        (ccci_store::JobState::Done, 2),
        "{job:#?}"
    );
    insta::assert_snapshot!(
        "serve_kill_9_mid_run",
        format!(
        "the run stopped and queued again; the pull request told \"{told}\"; the second try {}: {}",
        success.0, success.1
    )
    );
    drop(again);
}

#[test]
fn two_services_on_one_postgres_store_take_every_job_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let forge = forge(&[("alice", "write")]);
    let html = forge.git_server(tmp.path(), "coop-cloud", "custom-html");
    let mumble = forge.git_server(tmp.path(), "coop-cloud", "mumble");
    let db = postgres_database();
    let repos = [(REPO, "custom-html"), ("coop-cloud/mumble", "mumble")];
    let a = setup(
        &tmp.path().join("a"),
        &forge.api(),
        &repos,
        1,
        "host-a",
        Some(&db.url),
    );
    let b = setup(
        &tmp.path().join("b"),
        &forge.api(),
        &repos,
        1,
        "host-b",
        Some(&db.url),
    );
    let (sa, _sb) = (start(&a), start(&b));
    for (n, (repo, url)) in [
        (REPO, &html.clone_url),
        ("coop-cloud/mumble", &mumble.clone_url),
    ]
    .into_iter()
    .enumerate()
    {
        let body = comment_payload(repo, url, 80 + n as i64, "alice", "!testme");
        assert_eq!(
            deliver(
                &sa.url,
                &format!("t-{n}"),
                "issue_comment",
                &body,
                Some(&a.secret)
            )
            .0,
            202
        );
    }
    let store = ccci_store::Store::open(&db.url.parse().unwrap()).unwrap();
    let started = std::time::Instant::now();
    let jobs = loop {
        let jobs = store.jobs(100).unwrap();
        if jobs.len() == 2 && jobs.iter().all(|j| j.state == ccci_store::JobState::Done) {
            break jobs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "both runs did not end: {jobs:#?}\n{}",
            std::fs::read_to_string(a.dir.join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_secs(1));
    };
    for j in &jobs {
        assert_eq!(j.attempts, 1, "each job taken once: {j:#?}");
        assert!(
            matches!(j.host.as_deref(), Some("host-a" | "host-b")),
            "{j:#?}"
        );
    }
    // Each job's verdict reached its pull request once (green or red: what is proven here is
    // that each ran once, on one host).
    let verdicts = wait_for(
        &forge.state,
        "both verdicts",
        Duration::from_secs(120),
        |r| {
            let s: Vec<_> = statuses(r)
                .into_iter()
                .filter(|(s, _)| s == "success" || s == "failure")
                .collect();
            (s.len() == 2).then_some(s)
        },
        &a.dir.join("serve.log"),
    );
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    // The dashboard shows which host ran each, by one name: the job's page and its run's
    // page say the host the service calls itself (`host:`), not two names for one machine.
    for j in &jobs {
        let host = j.host.as_deref().unwrap();
        let run_id = j.run_id.as_deref().unwrap();
        let run = store.run(run_id).unwrap().unwrap();
        assert_eq!(run.row.host.as_deref(), Some(host), "the host that ran it");
        let (_, page) = get(&format!("{}/jobs/{}", sa.url, j.id));
        assert!(page.contains(host), "{page}");
        let (_, page) = get(&format!("{}/runs/{run_id}", sa.url));
        assert!(page.contains(host), "{page}");
    }
}

/// A PostgreSQL database for one test, on the server `scripts/local-swarm all` starts;
/// dropped after.
struct Database {
    url: String,
    name: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&admin(), postgres::NoTls) {
            let _ = c.execute(
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                &[],
            );
        }
    }
}

fn admin() -> String {
    std::env::var(ccci_core::vars::TEST_POSTGRES)
        .unwrap_or_else(|_| "postgres://ccci:ccci@127.0.0.1:5432/postgres".into())
}

fn postgres_database() -> Database {
    let admin = admin();
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "no PostgreSQL at {admin} ({e}): run scripts/local-swarm all, or set {}",
            ccci_core::vars::TEST_POSTGRES
        )
    });
    let name = format!("ccci_serve_{}", std::process::id());
    c.execute(&format!("CREATE DATABASE {name}"), &[]).unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    Database {
        url: format!("{base}/{name}"),
        name,
    }
}

/// Delivers an `issue_comment` event, which the service must accept (202).
fn comment_accepted(url: &str, delivery: &str, payload: &[u8], secret: Option<&str>) {
    let (status, body) = deliver(url, delivery, "issue_comment", payload, secret);
    assert_eq!(status, 202, "delivery {delivery}: {body}");
}

/// Pushes to pull request 1 a head whose functional tests fail (unknown paths answer the
/// landing page instead of 404; its nginx config's version bumped, as Swarm needs): a red run
/// with its deployment up. Its commit.
fn push_red_head(root: &std::path::Path, git: &GitServer) -> String {
    let work = root.join("work-custom-html");
    let conf = work.join("nginx.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        text.replace(
            "try_files $uri $uri/ =404;",
            "try_files $uri $uri/ /index.html;",
        ),
    )
    .unwrap();
    let abra = work.join("abra.sh");
    let text = std::fs::read_to_string(&abra).unwrap();
    std::fs::write(
        &abra,
        text.replace("NGINX_CONF_VERSION=v1", "NGINX_CONF_VERSION=v2"),
    )
    .unwrap();
    ccci_testkit::git(
        &work,
        &["commit", "--quiet", "-am", "every path is the landing page"],
    );
    ccci_testkit::git(
        &work,
        &[
            "push",
            "--quiet",
            "--force",
            &git.clone_url,
            "HEAD:refs/heads/pull-1",
        ],
    );
    after_the_push();
    pull_head(&git.bare)
}

/// `!testme keep=1m` on a red head: its deployment is left up, the report says how to reach
/// it, and it is removed on time though the service was killed (`kill -9`) meanwhile.
#[test]
fn a_kept_red_run_is_reaped_on_time_across_a_kill_9_of_the_service() {
    let tmp = tempfile::tempdir().unwrap();
    let forge = forge(&[("alice", "write")]);
    let git = forge.git_server(tmp.path(), "coop-cloud", "custom-html");
    let head = push_red_head(tmp.path(), &git);
    let s = setup(
        &tmp.path().join("svc"),
        &forge.api(),
        &[(REPO, "custom-html")],
        1,
        "ci-keep",
        None,
    );
    let log = s.dir.join("serve.log");
    let mut serving = start(&s);
    let body = comment_payload(REPO, &git.clone_url, 90, "alice", "!testme keep=1m");
    let (code, said) = deliver(
        &serving.url,
        "keep-1",
        "issue_comment",
        &body,
        Some(&s.secret),
    );
    assert_eq!(code, 202, "{said}");
    let (state, line) = status_reached(&forge.state, "failure", Duration::from_secs(900), &log);
    assert!(line.contains("RED"), "{state}: {line}");
    let report = comment_posted(
        &forge.state,
        "the report with the kept deployment",
        Duration::from_secs(60),
        "Kept for a look until",
        &log,
    );
    let report = report.body["body"].as_str().unwrap().to_string();
    assert!(
        report.contains("stack ps ") && report.contains("exec -it"),
        "{report}"
    );

    let store = ccci_store::Store::open(&s.database.parse().unwrap()).unwrap();
    let job = store
        .jobs(10)
        .unwrap()
        .into_iter()
        .find(|j| j.asked.head_sha == head)
        .unwrap();
    assert_eq!(job.asked.keep, Some(60));
    let results: ccci_core::Results = serde_json::from_str(
        &std::fs::read_to_string(s.dir.join("state/jobs").join(&job.id).join("results.json"))
            .unwrap(),
    )
    .unwrap();
    let kept = results
        .teardown
        .kept
        .clone()
        .expect("the deployment was kept");
    assert!(
        !ccci_testkit::docker(&["stack", "ps", "-q", &kept.stack])
            .trim()
            .is_empty(),
        "the kept stack is up"
    );
    assert_eq!(results.cause, Some(ccci_core::Cause::Recipe));

    // The service dies; the deployment still goes when its time is up.
    serving.child.kill().unwrap();
    serving.child.wait().unwrap();
    let until = ccci_core::time::parse_rfc3339(&kept.until).unwrap();
    let gone_by = Duration::from_secs(
        until.saturating_sub(ccci_core::time::unix_secs(std::time::SystemTime::now())) + 90,
    );
    let since = std::time::Instant::now();
    while !ccci_testkit::objects_of(&kept.stack).is_empty() {
        assert!(
            since.elapsed() < gone_by,
            "the kept stack {} is still up {} s after its time: {:?}\nthe reaper's log:\n{}",
            kept.stack,
            gone_by.as_secs(),
            ccci_testkit::objects_of(&kept.stack),
            std::fs::read_to_string(s.dir.join("state/jobs").join(&job.id).join("reaper.log"))
                .unwrap_or_default()
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    let now = ccci_core::time::unix_secs(std::time::SystemTime::now());
    assert!(now >= until, "removed before its time: {now} < {until}");
}

/// A head whose image's registry is down fails for the host, not the recipe: the service
/// retries it once on a new job linked to the first, then tells the pull request `error`
/// saying what the host lacked, and never `failure`.
#[test]
fn a_host_fault_is_retried_once_and_never_told_as_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let forge = forge(&[("alice", "write")]);
    let git = forge.git_server(tmp.path(), "coop-cloud", "custom-html");
    // A registry that is down: nothing answers at its address.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = down.local_addr().unwrap().port();
    drop(down);
    let work = tmp.path().join("work-custom-html");
    let compose = work.join("compose.yml");
    let text = std::fs::read_to_string(&compose).unwrap();
    std::fs::write(
        &compose,
        text.replace(
            "local/nginx:1.22",
            &format!("127.0.0.1:{port}/ccci/nginx:1.22"),
        ),
    )
    .unwrap();
    ccci_testkit::git(
        &work,
        &["commit", "--quiet", "-am", "an image from another registry"],
    );
    let bare = git.bare.to_str().unwrap();
    ccci_testkit::git(
        &work,
        &["push", "--quiet", "--force", bare, "HEAD:refs/pull/1/head"],
    );
    let s = setup(
        &tmp.path().join("svc"),
        &forge.api(),
        &[(REPO, "custom-html")],
        1,
        "ci-h",
        None,
    );
    let log = s.dir.join("serve.log");
    let serving = start(&s);
    let body = comment_payload(REPO, &git.clone_url, 95, "alice", "!testme");
    let (code, said) = deliver(&serving.url, "h-1", "issue_comment", &body, Some(&s.secret));
    assert_eq!(code, 202, "{said}");
    let (_, line) = status_reached(&forge.state, "error", Duration::from_secs(900), &log);
    assert!(
        line.starts_with(
            "not judged: a fault of the host, not the recipe: the registry of 127.0.0.1:"
        ),
        "{line}"
    );
    let told = statuses(&forge.state.received());
    assert!(told.iter().all(|(state, _)| state != "failure"), "{told:?}");
    assert!(
        told.iter().any(|(state, d)| state == "pending" && d.starts_with("retrying on a fresh deployment")),
        "{told:?}"
    );
    let store = ccci_store::Store::open(&s.database.parse().unwrap()).unwrap();
    let jobs = store.jobs(10).unwrap();
    assert_eq!(jobs.len(), 2, "the first attempt and its retry: {jobs:#?}");
    let retry = jobs.iter().find(|j| j.retry_of.is_some()).expect("a retry");
    let first = jobs.iter().find(|j| j.retry_of.is_none()).unwrap();
    assert_eq!(retry.retry_of.as_deref(), Some(first.id.as_str()));
    for j in &jobs {
        let run = store.run(j.run_id.as_deref().unwrap()).unwrap().unwrap();
        assert_eq!(run.row.cause.as_deref(), Some("host"), "{j:#?}");
    }
}
