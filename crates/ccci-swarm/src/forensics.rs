//! What to keep when something fails: every service's task history and the last lines of its
//! logs, so nobody has to dig on the host afterwards.

use crate::model::ServiceState;
use crate::stack::STACK_LABEL;
use crate::{Swarm, SwarmError};
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Duration;

/// One service at the moment of a failure: its state as convergence saw it (with every task
/// the Engine still keeps, newest first) and the last lines of its logs.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceForensics {
    /// The service and its tasks.
    #[serde(flatten)]
    pub state: ServiceState,
    /// The last lines of the service's logs (stdout and stderr, with timestamps).
    pub log_tail: Vec<String>,
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
        out.push(ServiceForensics { state: s, log_tail });
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

/// The last line `service` (its full name) logged, without its timestamp, cut to 200
/// characters; `None` when it logged nothing yet or its logs do not answer within 3 s (a
/// heartbeat never holds a wait up).
pub(crate) async fn last_line(swarm: &Swarm, service: &str) -> Option<String> {
    let lines = tokio::time::timeout(Duration::from_secs(3), logs(swarm, service, 3))
        .await
        .ok()?
        .ok()?;
    let line = lines.iter().rev().find(|l| !l.trim().is_empty())?;
    // Each line starts with its RFC 3339 timestamp and a space.
    let text = line
        .split_once(' ')
        .map_or(line.as_str(), |(_, t)| t)
        .trim();
    Some(text.chars().take(200).collect())
}

/// The forensics as text a person reads: per service, its tasks, then its log tail.
pub fn render(services: &[ServiceForensics]) -> String {
    let mut s = String::new();
    for ServiceForensics {
        state: svc,
        log_tail,
    } in services
    {
        let update = svc
            .update_state
            .as_deref()
            .map(|u| format!(", update {u}"))
            .unwrap_or_default();
        let _ = writeln!(s, "== {} (desired {}{update})", svc.name, svc.desired);
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
        let _ = writeln!(s, "   last {} log lines:", log_tail.len());
        for l in log_tail {
            let _ = writeln!(s, "   | {l}");
        }
    }
    s
}
