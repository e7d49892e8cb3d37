//! The Swarm behaviours convergence depends on (docs/architecture.md), each reproduced on the
//! real local Swarm and checked against what ccci-swarm decides.

mod common;
use ccci_swarm::{evaluate, wait, Convergence, Deadline};
use common::*;
use std::time::{Duration, Instant};

/// A service whose `two` spec fails exactly once (a flag on a volume remembers), then runs.
fn flicker(mark: &str, monitor: &str) -> String {
    format!(
        r#"version: "3.8"
services:
  app:
    image: local/busybox:1.35
    command: ["sh", "-c", "if [ \"$$MARK\" = two ] && [ ! -e /state/flickered ]; then touch /state/flickered; exit 1; fi; exec sleep 3600"]
    init: true
    environment: {{ MARK: "{mark}" }}
    volumes: [ "state:/state" ]
    deploy:
      endpoint_mode: dnsrr
      restart_policy: {{ condition: any, delay: 1s }}
      update_config: {{ order: stop-first, failure_action: pause, monitor: {monitor} }}
volumes:
  state:
"#
    )
}

#[tokio::test]
async fn a_paused_update_does_not_block_once_replicas_are_back() {
    let swarm = swarm().await;
    let stack = stack_name("paused");
    let _guard = Guard(stack.clone());
    deploy(&stack, &flicker("one", "5s"));
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();

    // The new spec's first task fails inside the monitor period: Swarm pauses the update and
    // leaves it paused, while the restart policy brings the task back.
    deploy(&stack, &flicker("two", "5s"));
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();
    let snap = swarm.stack_state(&stack).await.unwrap();
    assert_eq!(
        snap[0].update_state.as_deref(),
        Some("paused"),
        "the scenario must really pause the update: {snap:?}"
    );
    assert!(
        snap[0]
            .tasks
            .iter()
            .any(|t| t.current && t.state == "failed"),
        "the flicker happened: {snap:?}"
    );
    assert!(
        evaluate(&snap).is_converged(),
        "paused, with the replica back on the new spec, is converged: {snap:?}"
    );
    remove(&swarm, &stack).await;
}

#[tokio::test]
async fn an_update_still_updating_blocks_even_at_n_of_n() {
    let swarm = swarm().await;
    let stack = stack_name("updating");
    let _guard = Guard(stack.clone());
    deploy(&stack, &flicker("one", "8s"));
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();

    deploy(&stack, &flicker("three", "8s"));
    // Find the moment the new task runs while Swarm still monitors the update.
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let snap = swarm.stack_state(&stack).await.unwrap();
        let s = &snap[0];
        if s.update_state.as_deref() == Some("updating")
            && s.tasks.iter().any(|t| t.current && t.state == "running")
        {
            break snap;
        }
        assert!(
            Instant::now() < deadline,
            "never saw a running new task during the update: {snap:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    match evaluate(&seen) {
        Convergence::Pending(p) => assert!(p[0].1.contains("update updating"), "{p:?}"),
        other => panic!("1/1 on the new spec but still `updating` must block, got {other:?}"),
    }
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(
        swarm.stack_state(&stack).await.unwrap()[0]
            .update_state
            .as_deref(),
        Some("completed")
    );
    remove(&swarm, &stack).await;
}

#[tokio::test]
async fn a_slow_first_boot_inside_its_start_period_passes() {
    let swarm = swarm().await;
    let stack = stack_name("slowboot");
    let _guard = Guard(stack.clone());
    // Healthy only after 8 s; the healthcheck would kill it after 3 failures, but failures
    // inside start_period do not count: slow first boots must not be killed [R12].
    let yaml = r#"version: "3.8"
services:
  app:
    image: local/busybox:1.35
    command: ["sh", "-c", "sleep 8; touch /tmp/ready; exec sleep 3600"]
    init: true
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 1s
      retries: 3
      start_period: 60s
    deploy:
      endpoint_mode: dnsrr
"#;
    let start = Instant::now();
    deploy(&stack, yaml);
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(8),
        "it cannot be healthy before 8 s: {:?}",
        start.elapsed()
    );
    let snap = swarm.stack_state(&stack).await.unwrap();
    assert_eq!(
        snap[0].tasks.iter().filter(|t| t.state == "failed").count(),
        0,
        "nothing was killed: {snap:?}"
    );
    remove(&swarm, &stack).await;
}
