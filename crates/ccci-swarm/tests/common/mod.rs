//! Helpers for tests that deploy small stacks straight through the docker CLI, so that what
//! ccci-swarm observes is checked against Swarm itself, not against ccci's own deployer.
#![allow(dead_code)]

use ccci_swarm::{wait, Deadline, Swarm};
use std::process::Command;
use std::time::Duration;

/// A stack name unique to this test process and `tag`.
pub fn stack_name(tag: &str) -> String {
    format!("cs{}_{tag}", std::process::id() % 100_000)
}

/// Removes its stack when dropped, so a test that panics half-way leaves nothing behind.
/// [`remove`] is still what a passing test calls: it also checks that nothing remains.
pub struct Guard(pub String);

impl Drop for Guard {
    fn drop(&mut self) {
        let stack = &self.0;
        let _ = Command::new("docker").args(["stack", "rm", stack]).output();
        let label = format!("label=com.docker.stack.namespace={stack}");
        for _ in 0..120 {
            let out = Command::new("docker")
                .args(["network", "ls", "-q", "--filter", &label])
                .output();
            if out.map(|o| o.stdout.is_empty()).unwrap_or(true) {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        for kind in ["volume", "secret"] {
            if let Ok(out) = Command::new("docker")
                .args([kind, "ls", "-q", "--filter", &label])
                .output()
            {
                for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("docker").args([kind, "rm", id]).output();
                }
            }
        }
    }
}

/// `docker stack deploy` of `yaml` as `stack`, images resolved locally only.
pub fn deploy(stack: &str, yaml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stack.yml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new("docker")
        .args(["stack", "deploy", "--resolve-image", "never", "-c"])
        .arg(&file)
        .arg(stack)
        .output()
        .expect("the docker CLI runs (install it with scripts/local-swarm)");
    assert!(
        out.status.success(),
        "docker stack deploy {stack}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Removes the stack and everything it left, and checks nothing remains.
pub async fn remove(swarm: &Swarm, stack: &str) {
    let _ = Command::new("docker").args(["stack", "rm", stack]).output();
    wait::wait_undeployed(swarm, stack, Deadline::after(Duration::from_secs(90)))
        .await
        .unwrap();
    swarm.remove_stack_data(stack).await.unwrap();
    assert_eq!(swarm.leftovers(stack).await.unwrap(), Vec::<String>::new());
}

pub async fn swarm() -> Swarm {
    Swarm::connect()
        .await
        .expect("these tests need the local Swarm: run scripts/local-swarm")
}

/// A one-service stack of busybox sleeping, its environment marked with `mark` (a new mark is
/// a new spec, so an update); `update` is added to its `update_config` (`, monitor: 1s`),
/// `extra` to the service (a healthcheck).
#[allow(dead_code)]
pub fn sleeper(mark: &str, update: &str, extra: &str) -> String {
    format!(
        r#"version: "3.8"
services:
  app:
    image: local/busybox:1.35
    command: ["sleep", "3600"]
    init: true
    environment: {{ MARK: "{mark}" }}
    deploy:
      endpoint_mode: dnsrr
      update_config: {{ order: stop-first{update} }}
{extra}
"#
    )
}
