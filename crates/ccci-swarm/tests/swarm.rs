//! ccci-swarm against the real local Swarm (scripts/local-swarm). No mocks: each test deploys
//! busybox stacks with the docker CLI and checks what ccci-swarm decides about them.

mod common;
use ccci_swarm::{evaluate, wait, Convergence, Deadline, Swarm, SwarmError, Via};
use common::*;
use std::time::Duration;

#[tokio::test]
async fn redeploys_are_tracked_by_spec_not_by_replica_count() {
    let swarm = swarm().await;
    let stack = stack_name("spec");
    let _guard = Guard(stack.clone());
    deploy(&stack, &sleeper("one", "", ""));
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();

    // A no-op redeploy changes nothing Swarm acts on: still converged, task still current.
    deploy(&stack, &sleeper("one", "", ""));
    let snap = swarm.stack_state(&stack).await.unwrap();
    assert!(evaluate(&snap).is_converged(), "no-op redeploy: {snap:?}");

    // A real change: right after the deploy, the old task still reads 1/1, but it is not
    // on the current spec, so this is not converged until Swarm replaced it [R10].
    deploy(&stack, &sleeper("two", "", ""));
    let snap = swarm.stack_state(&stack).await.unwrap();
    assert!(
        !evaluate(&snap).is_converged(),
        "an unstarted stop-first update must not count: {snap:?}"
    );
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();
    let snap = swarm.stack_state(&stack).await.unwrap();
    let running: Vec<_> = snap[0]
        .tasks
        .iter()
        .filter(|t| t.state == "running")
        .collect();
    assert_eq!(running.len(), 1);
    assert!(running[0].current);
    remove(&swarm, &stack).await;
}

#[tokio::test]
async fn one_shots_complete_or_fail_fast() {
    let swarm = swarm().await;
    let stack = stack_name("jobs");
    let _guard = Guard(stack.clone());
    let job = |code: u8| {
        format!(
            r#"version: "3.8"
services:
  job:
    image: local/busybox:1.35
    command: ["sh", "-c", "exit {code}"]
    deploy:
      endpoint_mode: dnsrr
      restart_policy: {{ condition: none }}
"#
        )
    };
    deploy(&stack, &job(0));
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();

    deploy(&stack, &job(3));
    let start = std::time::Instant::now();
    let err = wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "a failed one-shot must end the wait early, took {:?}",
        start.elapsed()
    );
    let msg = err.to_string();
    assert!(
        msg.contains("cannot happen") && msg.contains("exit 3"),
        "{msg}"
    );
    remove(&swarm, &stack).await;
}

#[tokio::test]
async fn a_hang_fails_at_the_deadline_naming_the_service_and_its_tasks() {
    let swarm = swarm().await;
    let stack = stack_name("hang");
    let _guard = Guard(stack.clone());
    let yaml = sleeper(
        "x",
        "",
        r#"    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1000
      start_period: 1h"#,
    );
    deploy(&stack, &yaml);
    let err = wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(4)))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{stack}_app"))
            && msg.contains("0/1 running")
            && msg.contains("(deadline 4s)"),
        "{msg}"
    );
    assert!(matches!(err, SwarmError::Wait(_)));
    remove(&swarm, &stack).await;
}

#[tokio::test]
async fn exec_reports_output_and_exit_code() {
    let swarm = swarm().await;
    let stack = stack_name("exec");
    let _guard = Guard(stack.clone());
    deploy(&stack, &sleeper("e", "", ""));
    wait::wait_converged(&swarm, &stack, Deadline::after(Duration::from_secs(60)))
        .await
        .unwrap();
    let c = swarm
        .running_container(&stack, "app")
        .await
        .unwrap()
        .expect("a running container");
    let out = swarm
        .exec(&c, &["sh", "-c", "echo out; echo err >&2; exit 7"])
        .await
        .unwrap();
    assert_eq!(
        (
            out.exit_code,
            out.stdout_str().as_str(),
            out.stderr_str().as_str()
        ),
        (7, "out\n", "err\n")
    );
    // A command that prints a gigabyte is read no further than the cap: a typed error that
    // says so, not a host whose memory filled.
    let big = swarm
        .exec(&c, &["sh", "-c", "head -c 1073741824 /dev/zero"])
        .await
        .unwrap_err();
    assert!(
        matches!(&big, SwarmError::ExecOutputTooLarge { cap_mib: 64, .. }),
        "{big}"
    );
    assert!(big.to_string().contains("more than 64 MiB"), "{big}");
    remove(&swarm, &stack).await;
}

#[tokio::test]
async fn secrets_created_for_a_stack_are_found_and_removed_with_it() {
    let swarm = swarm().await;
    let stack = stack_name("sec");
    let _guard = Guard(stack.clone());
    let name = format!("{stack}_db_password_v1");
    swarm.create_secret(&stack, &name, b"s3cret").await.unwrap();
    assert!(swarm.secret_exists(&name).await.unwrap());
    assert!(
        !swarm.secret_exists(&name[..name.len() - 1]).await.unwrap(),
        "names are matched exactly, not by prefix"
    );
    assert_eq!(
        swarm.leftovers(&stack).await.unwrap(),
        [format!("secret {name}")]
    );
    assert_eq!(
        swarm.remove_stack_data(&stack).await.unwrap(),
        ccci_swarm::DataRemoval {
            removed: vec![format!("secret {name}")],
            refused: vec![],
        }
    );
    assert!(swarm.leftovers(&stack).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_daemon_is_one_clear_line() {
    let err = match Swarm::connect_host("unix:///nonexistent/docker.sock").await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("connected to a socket that does not exist"),
    };
    assert!(
        err.contains("unix:///nonexistent/docker.sock")
            && err.contains("scripts/local-swarm")
            && !err.contains('\n'),
        "{err}"
    );
}

#[test]
fn convergence_of_nothing_is_pending() {
    assert!(matches!(evaluate(&[]), Convergence::Pending(_)));
}

#[tokio::test]
async fn tcp_probe_needs_connections_that_stay_open() {
    use tokio::io::AsyncWriteExt;
    // A server that keeps connections open: ready.
    let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open_port = open.local_addr().unwrap().port();
    let keeper = tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(open.accept().await.unwrap().0);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    wait::wait_tcp(
        "127.0.0.1",
        open_port,
        3,
        Deadline::after(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    keeper.abort();

    // What Docker's userland proxy does when nothing listens in the container: accept, then
    // close at once. That is not ready, however often it happens.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let closer = tokio::spawn(async move {
        loop {
            let (mut s, _) = proxy.accept().await.unwrap();
            let _ = s.shutdown().await;
        }
    });
    let err = wait::wait_tcp(
        "127.0.0.1",
        proxy_port,
        1,
        Deadline::after(Duration::from_secs(2)),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("closed at once"), "{err}");
    closer.abort();

    // Nothing at all: refused, and the probe says so at its deadline.
    drop(tokio::net::TcpListener::bind(("127.0.0.1", proxy_port)).await);
    let err = wait::wait_tcp(
        "127.0.0.1",
        proxy_port,
        1,
        Deadline::after(Duration::from_millis(600)),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&format!("127.0.0.1:{proxy_port}")) && err.contains("refused"),
        "{err}"
    );
}

#[tokio::test]
async fn http_probe_waits_for_an_accepted_status() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // 503 twice, then 200: the probe must keep going past the first answers.
    let server = tokio::spawn(async move {
        for status in [
            "503 Service Unavailable",
            "503 Service Unavailable",
            "200 OK",
        ] {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let reply =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            s.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    let url = format!("http://127.0.0.1:{port}/ready");
    wait::wait_http(
        &url,
        &Via::direct(),
        &[200],
        Deadline::after(Duration::from_secs(10)),
    )
    .await
    .unwrap();
    server.await.unwrap();
    let err = wait::wait_http(
        &url,
        &Via::direct(),
        &[200],
        Deadline::after(Duration::from_millis(500)),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains(&url) && err.contains("no answer"), "{err}");
}
