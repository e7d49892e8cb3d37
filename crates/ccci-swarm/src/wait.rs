//! Every wait ccci does. Each has a [`Deadline`], says what it waits for, and when it gives up
//! reports what it saw last ([`WaitError`]).

use crate::converge::{evaluate, Convergence};
use crate::error::WaitError;
use crate::pace::{Pacer, Progress};
use crate::route::Via;
use crate::Deadline;
use crate::{Swarm, SwarmError};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// How often the probes that have no event source (HTTP, TCP) try again.
const POLL: Duration = Duration::from_millis(250);

impl WaitError {
    fn timeout(what: String, deadline: &Deadline, last_seen: String) -> WaitError {
        WaitError::Timeout {
            what,
            waited: deadline.elapsed(),
            budget: deadline.budget(),
            last_seen,
        }
    }
}

fn describe(entries: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (svc, why)) in entries.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        let _ = write!(s, "{svc}: {why}");
    }
    s
}

/// Every [`crate::pace::HEARTBEAT`] of a long wait: what it waits for, with the last line the
/// first service it waits on logged (a migration's progress, a crash's reason).
async fn heartbeat(
    swarm: &Swarm,
    progress: &mut Progress,
    elapsed: Duration,
    pending: &[(String, String)],
) {
    if !progress.heartbeat_due(elapsed) {
        return;
    }
    let log = match pending.first() {
        Some((service, _)) => crate::forensics::last_line(swarm, service).await,
        None => None,
    };
    progress.heartbeat(elapsed, &describe(pending), log.as_deref());
}

/// Waits until the stack has converged ([`crate::converge`]), re-checking as the Swarm's
/// events arrive. Returns how long it took.
pub async fn wait_converged(
    swarm: &Swarm,
    stack: &str,
    deadline: Deadline,
) -> Result<Duration, SwarmError> {
    let what = format!("stack {stack} to converge");
    let mut pacer = Pacer::new(swarm, stack);
    let mut progress = Progress::new();
    loop {
        let snap = swarm.stack_state(stack).await?;
        match evaluate(&snap) {
            Convergence::Converged => return Ok(deadline.elapsed()),
            Convergence::Failed(f) => {
                return Err(WaitError::Impossible {
                    what,
                    why: describe(&f),
                }
                .into())
            }
            Convergence::Pending(p) if deadline.passed() => {
                let last_seen = describe(&p);
                return Err(WaitError::timeout(what, &deadline, last_seen).into());
            }
            Convergence::Pending(p) => {
                heartbeat(swarm, &mut progress, deadline.elapsed(), &p).await;
                progress.show(deadline.elapsed(), &describe(&p));
            }
        }
        pacer.next(&deadline).await;
    }
}

/// How long a converged stack must keep answering the same client error before
/// [`wait_healthy`] takes it as the app's answer ([`WaitError::WrongAnswer`]).
pub const STEADY_ANSWER: Duration = Duration::from_secs(30);

/// Whether `status` is an answer an app gives on purpose (a 4xx other than the ones that
/// mean "try again"), as opposed to a proxy or a server still starting (5xx, 408, 425, 429).
fn is_deliberate(status: u16) -> bool {
    (400..500).contains(&status) && ![408, 425, 429].contains(&status)
}

/// Waits until the stack has converged *and* `url` answers one of `ok`. Convergence is
/// re-checked with every probe, so a task replaced between the two does not slip through.
/// A converged stack that keeps answering the same deliberate client error for
/// [`STEADY_ANSWER`] ends the wait early with [`WaitError::WrongAnswer`].
pub async fn wait_healthy(
    swarm: &Swarm,
    stack: &str,
    url: &str,
    via: &Via,
    ok: &[u16],
    deadline: Deadline,
) -> Result<Duration, SwarmError> {
    let what = format!("stack {stack} to converge and {url} to answer {ok:?}");
    let client = http_client(via).map_err(|why| WaitError::Impossible {
        what: what.clone(),
        why,
    })?;
    let mut pacer = Pacer::new(swarm, stack);
    let mut progress = Progress::new();
    let mut steady: Option<(u16, Instant)> = None;
    loop {
        let snap = swarm.stack_state(stack).await?;
        let mut answered = None;
        let mut converged = false;
        let last = match evaluate(&snap) {
            Convergence::Failed(f) => {
                return Err(WaitError::Impossible {
                    what,
                    why: describe(&f),
                }
                .into())
            }
            Convergence::Pending(p) => {
                heartbeat(swarm, &mut progress, deadline.elapsed(), &p).await;
                describe(&p)
            }
            Convergence::Converged => {
                converged = true;
                let per_try = deadline
                    .remaining()
                    .clamp(Duration::from_millis(100), Duration::from_secs(5));
                match client.get(url).timeout(per_try).send().await {
                    Ok(r) if ok.contains(&r.status().as_u16()) => return Ok(deadline.elapsed()),
                    Ok(r) => {
                        answered = Some(r.status().as_u16());
                        format!("converged, but {url} answered {}", r.status().as_u16())
                    }
                    Err(e) => format!("converged, but {url} did not answer: {}", error_chain(&e)),
                }
            }
        };
        steady = match (answered.filter(|s| is_deliberate(*s)), steady) {
            (Some(s), Some((was, since))) if s == was => Some((was, since)),
            (Some(s), _) => Some((s, Instant::now())),
            (None, _) => None,
        };
        if let Some((status, since)) = steady {
            if since.elapsed() >= STEADY_ANSWER {
                return Err(WaitError::WrongAnswer {
                    url: url.to_string(),
                    status,
                    ok: ok.to_vec(),
                    held: since.elapsed(),
                }
                .into());
            }
        }
        if deadline.passed() {
            return Err(WaitError::timeout(what, &deadline, last).into());
        }
        progress.show(deadline.elapsed(), &last);
        match converged {
            // Converged, and the answer is not there yet: the router learns of the new task
            // on its own schedule, which no event of the stack announces.
            true => pacer.next_at_most(&deadline, POLL).await,
            false => pacer.next(&deadline).await,
        }
    }
}

/// Waits until nothing labelled with the stack remains that `docker stack rm` removes:
/// services, containers and networks. Redeploying the same stack before then fails with
/// `network … not found` (seen on the Docker 20.10 daemon our machines run).
///
/// `docker stack rm` tries each network once; one still in use by a task that is shutting
/// down stays behind for good. So once no service or container of the stack is left, this
/// removes the remaining networks itself, retrying until they are gone or the deadline passes.
pub async fn wait_undeployed(
    swarm: &Swarm,
    stack: &str,
    deadline: Deadline,
) -> Result<Duration, SwarmError> {
    let what = format!("stack {stack} to be removed");
    let mut pacer = Pacer::new(swarm, stack);
    let mut progress = Progress::new();
    loop {
        let services = swarm.services(stack).await?;
        let mut left: Vec<String> = services
            .into_iter()
            .filter_map(|s| s.spec.and_then(|sp| sp.name))
            .map(|n| format!("service {n}"))
            .collect();
        left.extend(
            swarm
                .containers(stack)
                .await?
                .into_iter()
                .map(|c| format!("container {c}")),
        );
        let networks = swarm.networks(stack).await?;
        if left.is_empty() {
            for n in &networks {
                // Fails while a detaching task still holds it; the next round tries again.
                let _ = swarm.docker().remove_network(n).await;
            }
        }
        left.extend(networks.into_iter().map(|n| format!("network {n}")));
        if left.is_empty() {
            return Ok(deadline.elapsed());
        }
        if deadline.passed() {
            return Err(WaitError::timeout(what, &deadline, left.join(", ")).into());
        }
        progress.show(deadline.elapsed(), &left.join(", "));
        pacer.next(&deadline).await;
    }
}

fn http_client(via: &Via) -> Result<reqwest::Client, String> {
    via.client_builder()?
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))
}

/// An error with its sources, on one line (reqwest hides the useful part in the chain).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let _ = write!(s, ": {c}");
        cur = c.source();
    }
    s
}

/// Waits until `url` answers one of `ok` (a recipe's HTTP ready probe).
pub async fn wait_http(
    url: &str,
    via: &Via,
    ok: &[u16],
    deadline: Deadline,
) -> Result<Duration, WaitError> {
    let what = format!("{url} to answer {ok:?}");
    let client = http_client(via).map_err(|why| WaitError::Impossible {
        what: what.clone(),
        why,
    })?;
    loop {
        let per_try = deadline
            .remaining()
            .clamp(Duration::from_millis(100), Duration::from_secs(5));
        let last = match client.get(url).timeout(per_try).send().await {
            Ok(r) if ok.contains(&r.status().as_u16()) => return Ok(deadline.elapsed()),
            Ok(r) => format!("answered {}", r.status().as_u16()),
            Err(e) => format!("no answer: {}", error_chain(&e)),
        };
        if deadline.passed() {
            return Err(WaitError::timeout(what, &deadline, last));
        }
        tokio::time::sleep(POLL.min(deadline.remaining())).await;
    }
}

/// Waits until `stable` consecutive TCP probes of `host:port` succeed (a recipe's TCP ready
/// probe):
/// a voice or mail port can come up after the web health path does, and one lucky connect
/// during a restart proves little.
///
/// A probe succeeds when the connection is accepted *and stays open* (or the server speaks
/// first) for [`TCP_HOLD`]. A bare connect proves nothing on a host-mode port: Docker's
/// userland proxy accepts on the host whether or not anything listens in the container, and
/// closes the connection at once when nothing does.
pub async fn wait_tcp(
    host: &str,
    port: u16,
    stable: u32,
    deadline: Deadline,
) -> Result<Duration, WaitError> {
    let what = format!("{stable} consecutive TCP probes of {host}:{port}");
    let mut streak = 0;
    let mut last = String::from("no attempt yet");
    loop {
        match tcp_probe(host, port, &deadline).await {
            Ok(()) => {
                streak += 1;
                if streak >= stable {
                    return Ok(deadline.elapsed());
                }
            }
            Err(why) => {
                streak = 0;
                last = why;
            }
        }
        if deadline.passed() {
            let last_seen = format!("{streak} in a row, last failure: {last}");
            return Err(WaitError::timeout(what, &deadline, last_seen));
        }
        tokio::time::sleep(POLL.min(deadline.remaining())).await;
    }
}

/// How long an accepted probe connection must stay open (or bring data) to count.
pub const TCP_HOLD: Duration = Duration::from_millis(300);

/// One TCP probe: connect, then the connection must not be closed within [`TCP_HOLD`].
pub async fn tcp_probe(host: &str, port: u16, deadline: &Deadline) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let per_try = deadline
        .remaining()
        .clamp(Duration::from_millis(100), Duration::from_secs(3));
    let mut stream =
        match tokio::time::timeout(per_try, tokio::net::TcpStream::connect((host, port))).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err(format!("connect timed out after {per_try:?}")),
        };
    let mut buf = [0u8; 64];
    match tokio::time::timeout(TCP_HOLD, stream.read(&mut buf)).await {
        Err(_) => Ok(()),
        Ok(Ok(n)) if n > 0 => Ok(()),
        Ok(Ok(_)) => Err(
            "accepted, then closed at once: nothing listens behind the port yet (a proxy answered)"
                .into(),
        ),
        Ok(Err(e)) => Err(format!("accepted, then {e}")),
    }
}
