//! How soon ccci acts once the Swarm reaches the awaited state.
//!
//! `cargo bench -p ccci-swarm --bench wait_latency [-- RUNS]` (needs the local Swarm:
//! scripts/local-swarm). Two scenarios, RUNS times each (default 10), each time calling
//! `wait_converged` right after `docker stack deploy` returns:
//!
//! - *redeploy*: an existing stack redeployed with a changed spec (a stop-first update);
//!   the awaited state is reached at the later of the new task's `running` timestamp and the
//!   update's `CompletedAt`;
//! - *fresh deploy*: a new stack; the awaited state is its task turning `running`, which
//!   Swarm records once the healthcheck passes.
//!
//! Both timestamps come from the Engine. It reports how long after them `wait_converged`
//! returned: median and worst. The target is a median under 250 ms. A benchmark, not a test:
//! the numbers depend on the machine's load.

#[path = "../tests/common/mod.rs"]
mod common;

use ccci_swarm::{wait, Deadline, Swarm};
use common::{deploy, remove};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TARGET: Duration = Duration::from_millis(250);

/// The stack a redeploy changes: its mark, a healthcheck, and a 1 s update monitor so that
/// an update completes a second after its task runs.
fn stack_yaml(mark: usize) -> String {
    let healthy = "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 1s";
    common::sleeper(&mark.to_string(), ", monitor: 1s", healthy)
}

/// RFC 3339 with optional fraction, UTC (`Z`), as the Engine writes it.
fn parse_ts(s: &str) -> Option<SystemTime> {
    let (date, time) = s.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<u64>());
    let (hh, mm, ss) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let nanos: u32 = format!("{frac:0<9}")[..9].parse().ok()?;
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days as u64 * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let swarm = Swarm::connect()
        .await
        .expect("the local Swarm is up (scripts/local-swarm)");
    let stack = format!("bench{}", std::process::id() % 100_000);

    deploy(&stack, &stack_yaml(0));
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(120)))
        .await
        .expect("first deploy converges");

    let mut redeploys = Vec::new();
    for i in 1..=runs {
        deploy(&stack, &stack_yaml(i));
        wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(120)))
            .await
            .expect("redeploy converges");
        let acted = SystemTime::now();
        let service = swarm
            .services(&stack)
            .await
            .expect("list services")
            .remove(0);
        let completed = service
            .update_status
            .and_then(|u| u.completed_at)
            .and_then(|t| parse_ts(&t));
        let running = running_since(&swarm, &stack).await;
        let reached = completed.map_or(running, |c| c.max(running));
        let delay = acted.duration_since(reached).unwrap_or_default();
        println!(
            "redeploy {i:>2}: acted {:>4} ms after the Swarm reached the state",
            delay.as_millis()
        );
        redeploys.push(delay);
    }
    remove(&swarm, &stack).await;

    let mut fresh = Vec::new();
    for i in 1..=runs {
        let stack = format!("{stack}f{i}");
        deploy(&stack, &stack_yaml(i));
        wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(120)))
            .await
            .expect("fresh deploy converges");
        let acted = SystemTime::now();
        let reached = running_since(&swarm, &stack).await;
        let delay = acted.duration_since(reached).unwrap_or_default();
        println!(
            "fresh deploy {i:>2}: acted {:>4} ms after the task turned running (healthy)",
            delay.as_millis()
        );
        fresh.push(delay);
        remove(&swarm, &stack).await;
    }

    let mut met = true;
    for (name, mut delays) in [("redeploys", redeploys), ("fresh deploys", fresh)] {
        delays.sort();
        let median = delays[delays.len() / 2];
        let worst = *delays.last().expect("at least one run");
        met &= median < TARGET;
        println!(
            "wait_converged latency over {runs} {name}: median {} ms, worst {} ms (target: median under {} ms) — {}",
            median.as_millis(),
            worst.as_millis(),
            TARGET.as_millis(),
            if median < TARGET { "met" } else { "MISSED" }
        );
    }
    if !met {
        std::process::exit(1);
    }
}

/// When the stack's running task on the current spec reached `running`, by the Engine.
async fn running_since(swarm: &Swarm, stack: &str) -> SystemTime {
    let snap = swarm.stack_state(stack).await.expect("snapshot");
    snap[0]
        .tasks
        .iter()
        .find(|t| t.current && t.state == "running")
        .and_then(|t| t.timestamp.as_deref())
        .and_then(parse_ts)
        .expect("a running task with a timestamp")
}
