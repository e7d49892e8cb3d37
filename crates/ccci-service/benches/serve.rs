//! The forge's CI, measured (a benchmark, not a timed test): `cargo bench -p ccci-service
//! --bench serve`.
//! - a delivery of `!testme` → its reaction and `pending` status received by the forge: under
//!   1 s at p95 (40 deliveries, one after another, each for its own pull request head);
//! - 100 deliveries a second for 10 s: every one answered, none lost (each recorded, and each
//!   acted on once the flood has passed).
//!
//! The service is a real process with a SQLite store, on a host that takes deliveries and runs
//! nothing (`capacity: 0`), its forge the tests' forge double (without Prism, whose validation
//! the tests do) and its pull requests served by git daemon.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::time::{Duration, Instant};

const REPO: &str = "coop-cloud/custom-html";
const PULLS: i64 = 40;

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let forge = forge_direct(&[("alice", "write")]);
    let api = forge.api();
    let git = forge.git_server(tmp.path(), "coop-cloud", "custom-html");
    let work = tmp.path().join("work-custom-html");
    for pr in 2..=PULLS {
        ccci_testkit::git(
            &work,
            &[
                "commit",
                "--quiet",
                "--allow-empty",
                "-m",
                &format!("pull request {pr}"),
            ],
        );
        ccci_testkit::git(
            &work,
            &[
                "push",
                "--quiet",
                git.bare.to_str().unwrap(),
                &format!("HEAD:refs/pull/{pr}/head"),
            ],
        );
    }
    let s = setup(
        &tmp.path().join("svc"),
        &api,
        &[(REPO, "custom-html")],
        0,
        "bench",
        None,
    );
    let serving = start(&s);
    let latency = reaction_and_pending(&serving.url, &s.secret, &git.clone_url, &forge.state);
    let flood = flood(&serving.url, &s.secret, &git.clone_url, &s.database);
    println!(
        "goals: reaction and pending p95 < 1 s: {}; 100/s for 10 s, none lost: {}",
        if latency { "met" } else { "NOT MET" },
        if flood { "met" } else { "NOT MET" }
    );
}

/// Each delivery for its own head, one after another: the time until the forge has its
/// reaction and its pending status.
fn reaction_and_pending(url: &str, secret: &str, clone_url: &str, forge: &Forge) -> bool {
    let mut times = Vec::new();
    for pr in 1..=PULLS {
        let comment = 5000 + pr;
        let mut body: serde_json::Value = serde_json::from_slice(&comment_payload(
            REPO, clone_url, comment, "alice", "!testme",
        ))
        .unwrap();
        body["issue"]["number"] = pr.into();
        let body = serde_json::to_vec(&body).unwrap();
        let sent = Instant::now();
        let (code, said) = deliver(
            url,
            &format!("lat-{pr}"),
            "issue_comment",
            &body,
            Some(secret),
        );
        assert_eq!(code, 202, "{said}");
        let reaction = format!("/issues/comments/{comment}/reactions");
        let deadline = sent + Duration::from_secs(30);
        let arrived = loop {
            let r = forge.received();
            let react = r.iter().find(|x| x.path.ends_with(&reaction)).map(|x| x.at);
            // The pending status names the job's head; it comes after the reaction.
            let pending = r
                .iter()
                .filter(|x| x.path.contains("/statuses/") && x.at >= sent)
                .map(|x| x.at)
                .next();
            if let (Some(a), Some(b)) = (react, pending) {
                break a.max(b);
            }
            assert!(
                Instant::now() < deadline,
                "pull request {pr}: no reaction and pending within 30 s"
            );
            std::thread::sleep(Duration::from_millis(2));
        };
        times.push(arrived - sent);
    }
    report(
        "delivery → reaction + pending",
        times,
        Duration::from_secs(1),
    )
}

/// 100 deliveries a second for 10 s, spread over the pull requests, from one client (one
/// runtime, one connection pool), each sent at its own instant: every one answered 202 and
/// recorded, and all acted on after.
fn flood(url: &str, secret: &str, clone_url: &str, database: &str) -> bool {
    let total: u64 = 1000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let answers: Vec<(u16, Duration)> = rt.block_on(async {
        let tasks: Vec<_> = (0..total)
            .map(|i| {
                let mut body: serde_json::Value = serde_json::from_slice(&comment_payload(
                    REPO,
                    clone_url,
                    9000 + i as i64,
                    "alice",
                    "!testme",
                ))
                .unwrap();
                body["issue"]["number"] = (1 + (i as i64 % PULLS)).into();
                let body = serde_json::to_vec(&body).unwrap();
                let sig = ccci_forge::hook::sign(secret.as_bytes(), &body);
                let req = client
                    .post(format!("{url}/hooks/forge"))
                    .header("Content-Type", "application/json")
                    .header("X-Gitea-Event", "issue_comment")
                    .header("X-Gitea-Delivery", format!("flood-{i}"))
                    .header("X-Gitea-Signature", sig)
                    .body(body);
                let at = tokio::time::Instant::from_std(started + Duration::from_millis(10 * i));
                tokio::spawn(async move {
                    tokio::time::sleep_until(at).await;
                    let t = Instant::now();
                    let code = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                    (code, t.elapsed())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        answers
    });
    let sent_for = started.elapsed();
    let accepted = answers.iter().filter(|(c, _)| *c == 202).count() as u64;
    let in_time = report(
        "a delivery's answer under the flood",
        answers.iter().map(|a| a.1).collect(),
        Duration::from_secs(1),
    );
    // Every one recorded, and every one acted on once the flood has passed.
    let store = ccci_store::Store::open(&database.parse().unwrap()).unwrap();
    let drained = Instant::now();
    while !store.due_deliveries(i64::MAX / 2, 1).unwrap().is_empty()
        && drained.elapsed() < Duration::from_secs(600)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let left = store.due_deliveries(i64::MAX / 2, 10_000).unwrap().len();
    println!(
        "{:>36}: {accepted} of {total} answered 202, all sent and answered in {:.1} s; {left} left unacted {:.1} s after",
        "flood",
        sent_for.as_secs_f64(),
        drained.elapsed().as_secs_f64()
    );
    accepted == total && left == 0 && in_time
}

fn report(name: &str, mut times: Vec<Duration>, goal: Duration) -> bool {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let (p50, p95) = (at(0.5), at(0.95));
    println!(
        "{name:>36}: p50 {:7.1} ms, p95 {:7.1} ms over {} ({})",
        p50.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0,
        times.len(),
        if p95 < goal {
            "within the goal"
        } else {
            "over the goal"
        }
    );
    p95 < goal
}
