//! What to keep when something fails: every service's task history and the last lines of its
//! logs, so nobody has to dig on the host afterwards.

use crate::stack::STACK_LABEL;
use crate::{Swarm, SwarmError};
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// One service at the moment of a failure.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceForensics {
    /// Full service name.
    pub service: String,
    /// Tasks wanted.
    pub desired: u64,
    /// `UpdateStatus.State`, if any.
    pub update_state: Option<String>,
    /// `UpdateStatus.Message`, if any.
    pub update_message: Option<String>,
    /// Every task the Engine still keeps, newest first.
    pub tasks: Vec<TaskForensics>,
    /// The last lines of the service's logs (stdout and stderr, with timestamps).
    pub log_tail: Vec<String>,
}

/// One task of a failed service.
#[derive(Debug, Clone, Serialize)]
pub struct TaskForensics {
    /// Task id.
    pub id: String,
    /// Replica slot.
    pub slot: Option<i64>,
    /// Its state.
    pub state: String,
    /// What the orchestrator wants of it.
    pub desired_state: String,
    /// Its error.
    pub err: Option<String>,
    /// Its container's exit code.
    pub exit_code: Option<i64>,
    /// When it reached its state.
    pub timestamp: Option<String>,
    /// Whether it runs the service's current spec.
    pub current: bool,
}

/// Task history and log tails of every service of `stack`. Logs that cannot be read within
/// 5 s are noted, not waited for.
pub async fn collect(
    swarm: &Swarm,
    stack: &str,
    log_lines: usize,
) -> Result<Vec<ServiceForensics>, SwarmError> {
    let snap = swarm.stack_state(stack).await?;
    let ids: Vec<(String, String)> = swarm
        .services(stack)
        .await?
        .into_iter()
        .filter(|s| {
            s.spec
                .as_ref()
                .and_then(|sp| sp.labels.as_ref())
                .and_then(|l| l.get(STACK_LABEL))
                .map(String::as_str)
                == Some(stack)
        })
        .filter_map(|s| Some((s.spec?.name?, s.id?)))
        .collect();
    let mut out = Vec::new();
    for s in snap {
        let id = ids
            .iter()
            .find(|(n, _)| *n == s.name)
            .map(|(_, id)| id.clone())
            .unwrap_or_default();
        let log_tail =
            match tokio::time::timeout(Duration::from_secs(5), logs(swarm, &id, log_lines)).await {
                Ok(Ok(lines)) => lines,
                Ok(Err(e)) => vec![format!("(logs unavailable: {e})")],
                Err(_) => vec!["(logs unavailable: no answer within 5 s)".into()],
            };
        out.push(ServiceForensics {
            service: s.name,
            desired: s.desired,
            update_state: s.update_state,
            update_message: s.update_message,
            tasks: s
                .tasks
                .into_iter()
                .map(|t| TaskForensics {
                    id: t.id,
                    slot: t.slot,
                    state: t.state,
                    desired_state: t.desired_state,
                    err: t.err,
                    exit_code: t.exit_code,
                    timestamp: t.timestamp,
                    current: t.current,
                })
                .collect(),
            log_tail,
        });
    }
    Ok(out)
}

async fn logs(swarm: &Swarm, service_id: &str, lines: usize) -> Result<Vec<String>, SwarmError> {
    let opts = LogsOptions {
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: lines.to_string(),
        ..Default::default()
    };
    let mut stream = swarm.docker().service_logs(service_id, Some(opts));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| SwarmError::Api {
            what: format!("read logs of service {service_id}"),
            source,
        })?;
        text.push_str(&chunk.to_string());
    }
    // Lines of several tasks arrive interleaved by task; each starts with its timestamp.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines.sort();
    Ok(lines)
}

/// The forensics as text a person reads: per service, its tasks, then its log tail.
pub fn render(services: &[ServiceForensics]) -> String {
    let mut s = String::new();
    for svc in services {
        let update = svc
            .update_state
            .as_deref()
            .map(|u| format!(", update {u}"))
            .unwrap_or_default();
        let _ = writeln!(s, "== {} (desired {}{update})", svc.service, svc.desired);
        if let Some(m) = &svc.update_message {
            let _ = writeln!(s, "   update message: {m}");
        }
        for t in &svc.tasks {
            let _ = writeln!(
                s,
                "   task {} slot {} {} (desired {}){}{}{} at {}",
                &t.id[..t.id.len().min(12)],
                t.slot.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                t.state,
                t.desired_state,
                if t.current { "" } else { " [previous spec]" },
                t.err
                    .as_deref()
                    .filter(|e| !e.is_empty())
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default(),
                t.exit_code
                    .filter(|c| *c != 0)
                    .map(|c| format!(", exit {c}"))
                    .unwrap_or_default(),
                t.timestamp.as_deref().unwrap_or("?")
            );
        }
        let _ = writeln!(s, "   last {} log lines:", svc.log_tail.len());
        for l in &svc.log_tail {
            let _ = writeln!(s, "   | {l}");
        }
    }
    s
}
