//! The active-run registry: one small file per run that may have something on a Swarm,
//! written before the run deploys anything and removed once its teardown left nothing. A run
//! killed with SIGKILL cannot tear down; its file stays, and the janitor ([`reap`]), which
//! every run also calls at its start, removes what it deployed once its process is gone. The
//! janitor touches only stacks registered here by runs that are gone: never a live run's,
//! never anything ccci did not create.
//!
//! The registry is a directory: [`vars::REGISTRY_DIR`](ccci_core::vars::REGISTRY_DIR), else `/var/lib/ccci/active` when it can be
//! written, else `active` in ccci's state directory (`$XDG_STATE_HOME/ccci`, default
//! `~/.local/state/ccci`).

use crate::error::{io, HarnessError};
use ccci_swarm::{Deadline, Swarm};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the registry knows of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveRun {
    /// The run's id.
    pub run_id: String,
    /// Its process.
    pub pid: u32,
    /// The process's start time in clock ticks since boot (`/proc/<pid>/stat`), so a pid
    /// the kernel gave to another process later is not mistaken for the run.
    pub pid_start: Option<u64>,
    /// The recipe.
    pub recipe: String,
    /// The stack it deploys.
    pub stack: String,
    /// The app's domain.
    pub domain: String,
    /// The daemon it deploys to (`DOCKER_HOST`, or the local socket).
    pub docker_host: String,
    /// For a red run that kept its stack for debugging (`--keep`): until when, in seconds
    /// since the Unix epoch. The janitor leaves the stack alone until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_until: Option<u64>,
    /// Realms the run holds in dependency providers (recorded before each is made).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub realms: Vec<HeldRealm>,
}

/// A realm (a grant of the run's own) a run holds: which dependency, which realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRealm {
    /// The dependency's kind: how the janitor opens it ([`ccci_deps::open`]). An entry
    /// written before kinds were recorded is an OIDC realm, the only kind there was.
    #[serde(default = "oidc")]
    pub kind: ccci_core::deps::Kind,
    /// The dependency's domain.
    pub domain: String,
    /// The realm's name.
    pub realm: String,
}

fn oidc() -> ccci_core::deps::Kind {
    ccci_core::deps::Kind::Oidc
}

impl ActiveRun {
    /// Whether the run kept its stack and that time has not passed.
    pub fn kept_now(&self) -> bool {
        self.keep_until.is_some_and(|until| until > unix_now())
    }
}

/// Which runs the janitor removes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Only say what would be removed.
    pub dry_run: bool,
    /// Also remove stacks kept for debugging whose time has not passed yet.
    pub kept: bool,
    /// Also remove, once older than this, the stacks ccci deployed for a run or a realm that
    /// no registered run holds ([`reap_orphans`]); `None`: never.
    pub older_than: Option<Duration>,
}

/// The label on every service of a run's stack: the run's id.
pub const RUN_LABEL: &str = "ccci.run";

/// The label on every service of a canonical deployment, naming its recipe: kept beyond any
/// run, never the janitor's.
pub const CANONICAL_LABEL: &str = "ccci.canonical";

/// The label on what `scripts/local-swarm` runs for every run (Traefik, its certificates):
/// never the janitor's.
const INFRASTRUCTURE_LABEL: &str = "ccci.infrastructure";

/// How old a stack with no registry entry must be before the janitor removes it by default:
/// past any run's deadline.
pub const ORPHAN_AGE: Duration = Duration::from_secs(2 * 3600);

/// A stack the janitor found with no registry entry.
#[derive(Debug, Clone)]
pub struct Orphan {
    /// The stack.
    pub stack: String,
    /// Whose it was: `run <id>` or `realm <name>`.
    pub of: String,
    /// How old it is, in seconds.
    pub age: u64,
    /// What could not be removed (empty when it is gone, or on a dry run, what would be).
    pub left: Vec<String>,
}

/// The registry directory.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

/// One run the janitor found gone, and what became of its stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaped {
    /// The run.
    pub run: ActiveRun,
    /// What could not be removed (empty when its stack is gone), or why nothing was tried.
    pub left: Vec<String>,
}

impl Registry {
    /// The registry of this host (see the module docs): `dir` when given
    /// ([`crate::Settings::registry_dir`]), else `/var/lib/ccci/active` (every user's runs
    /// on the host in one), else `active` in ccci's state directory
    /// ([`ccci_core::host::StateDir::registry`]).
    pub fn open(dir: Option<&Path>) -> Result<Registry, HarnessError> {
        if let Some(dir) = dir {
            return Registry::at(dir);
        }
        Registry::at(Path::new("/var/lib/ccci/active"))
            .or_else(|_| Registry::at(&ccci_core::host::StateDir::of_host().registry()))
    }

    /// The registry in `dir`, made if missing.
    pub fn at(dir: &Path) -> Result<Registry, HarnessError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // Writable, or another directory must be used.
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(io(&probe))?;
        let _ = std::fs::remove_file(&probe);
        Ok(Registry { dir: dir.into() })
    }

    /// Where it is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, run_id: &str) -> PathBuf {
        self.dir.join(format!("{run_id}.json"))
    }

    /// Records `run` before it deploys anything.
    pub fn register(&self, run: &ActiveRun) -> Result<(), HarnessError> {
        write_json(&self.path(&run.run_id), run)
    }

    /// Marks `run_id`'s stack as kept for debugging until `until` (seconds since the Unix
    /// epoch): the janitor leaves it alone until then.
    pub fn keep(&self, run_id: &str, until: u64) -> Result<(), HarnessError> {
        let mut run = self.read(run_id)?;
        run.keep_until = Some(until);
        self.register(&run)
    }

    /// Records that `run_id` holds (or is about to make) `realm` at the provider `domain`.
    pub fn hold_realm(
        &self,
        run_id: &str,
        kind: ccci_core::deps::Kind,
        domain: &str,
        realm: &str,
    ) -> Result<(), HarnessError> {
        let mut run = self.read(run_id)?;
        run.realms.push(HeldRealm {
            kind,
            domain: domain.into(),
            realm: realm.into(),
        });
        self.register(&run)
    }

    /// Records that `run_id` no longer holds `realm` (best effort: the janitor retries what
    /// stays recorded).
    pub fn release_realm(&self, run_id: &str, realm: &str) {
        if let Ok(mut run) = self.read(run_id) {
            run.realms.retain(|h| h.realm != realm);
            let _ = self.register(&run);
        }
    }

    fn read(&self, run_id: &str) -> Result<ActiveRun, HarnessError> {
        let path = self.path(run_id);
        let text = std::fs::read(&path).map_err(io(&path))?;
        serde_json::from_slice(&text).map_err(|e| HarnessError::Io {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// Forgets `run_id`: its teardown left nothing.
    pub fn forget(&self, run_id: &str) {
        let _ = std::fs::remove_file(self.path(run_id));
    }

    /// Every registered run.
    pub fn runs(&self) -> Vec<ActiveRun> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut runs: Vec<ActiveRun> = entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
            .collect();
        runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
        runs
    }
}

/// Writes `value` as JSON to `path` atomically (a file beside it, renamed over it): a reader
/// sees the old file or the new one, never half of one.
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> Result<(), HarnessError> {
    let partial = path.with_extension("partial");
    let json = serde_json::to_vec_pretty(value).unwrap_or_default();
    std::fs::write(&partial, json).map_err(io(&partial))?;
    std::fs::rename(&partial, path).map_err(io(path))
}

/// Seconds since the Unix epoch now.
pub(crate) fn unix_now() -> u64 {
    ccci_core::time::unix_secs(std::time::SystemTime::now())
}

/// This process as the registry records it.
pub(crate) use ccci_core::host::this_process;

/// Whether the process a registry entry names still runs.
pub fn alive(run: &ActiveRun) -> bool {
    ccci_core::host::process_alive(run.pid, run.pid_start)
}

/// Whether process `pid` runs and, when `pid_start` is known, is the one that started then.
pub use ccci_core::host::process_alive;

/// The janitor: for every registered run on `swarm`'s daemon whose process is gone, removes
/// its stack and all its data and its realms in dependency providers, and forgets it once
/// nothing is left. A stack kept for
/// debugging is left alone until its time is up, unless `sweep.kept`. With `sweep.dry_run`
/// it only says what it would remove. Live runs and other daemons' runs are left alone.
pub async fn reap(
    registry: &Registry,
    swarm: &Swarm,
    sweep: Sweep,
    budget: Duration,
) -> Vec<Reaped> {
    let mut reaped = Vec::new();
    for run in registry.runs() {
        if run.docker_host != swarm.host() || alive(&run) || (run.kept_now() && !sweep.kept) {
            continue;
        }
        let dry_run = sweep.dry_run;
        let left = match dry_run {
            true => swarm
                .leftovers(&run.stack)
                .await
                .unwrap_or_else(|e| vec![format!("cannot list: {e}")]),
            false => {
                let deadline = Deadline::after(budget);
                let mut left = match ccci_abra::remove_stack(swarm, &run.stack, deadline).await {
                    Ok(left) => left,
                    Err(e) => vec![format!("removal failed: {e}")],
                };
                left.extend(reap_realms(swarm, &run, deadline).await);
                left
            }
        };
        if !dry_run && left.is_empty() {
            registry.forget(&run.run_id);
        }
        reaped.push(Reaped { run, left });
    }
    reaped
}

/// The janitor's fallback, by age: every stack on `swarm`'s daemon whose services ccci
/// labelled as a run's (`ccci.run`) or a realm's (`ccci.realm`), that no registered run
/// holds, whose owner (`ccci.owner`) is not a live process of this host, and that is older
/// than `sweep.older_than`: removed with all its data (only listed on a dry run). Never a
/// canonical's (`ccci.canonical`) or infrastructure (`ccci.infrastructure`), never a stack
/// without ccci's labels.
pub async fn reap_orphans(
    registry: &Registry,
    swarm: &Swarm,
    sweep: Sweep,
    budget: Duration,
) -> Vec<Orphan> {
    let Some(older_than) = sweep.older_than else {
        return Vec::new();
    };
    let runs = registry.runs();
    let held_stacks: Vec<&str> = runs.iter().map(|r| r.stack.as_str()).collect();
    let held_realms: Vec<&str> = runs
        .iter()
        .flat_map(|r| r.realms.iter().map(|h| h.realm.as_str()))
        .collect();
    // Each stack: whose, its oldest service's age, and whether anything keeps it.
    let mut stacks: std::collections::BTreeMap<String, (String, u64, bool)> = Default::default();
    for key in [RUN_LABEL, ccci_deps::REALM_LABEL] {
        let Ok(found) = swarm.services_with_label(key).await else {
            continue;
        };
        for (labels, created) in found {
            let Some(stack) = labels.get(ccci_swarm::STACK_LABEL) else {
                continue;
            };
            let value = labels.get(key).cloned().unwrap_or_default();
            let realm = key == ccci_deps::REALM_LABEL;
            let of = match realm {
                true => format!("realm {value}"),
                false => format!("run {value}"),
            };
            let kept = labels.contains_key(CANONICAL_LABEL)
                || labels.contains_key(INFRASTRUCTURE_LABEL)
                || held_stacks.contains(&stack.as_str())
                || (realm && held_realms.contains(&value.as_str()))
                || labels
                    .get(ccci_core::host::OWNER_LABEL)
                    .and_then(|o| ccci_core::host::owner_alive(o))
                    .unwrap_or(false);
            let age = created
                .as_deref()
                .and_then(ccci_core::time::parse_rfc3339)
                .map_or(0, |c| unix_now().saturating_sub(c));
            let entry = stacks.entry(stack.clone()).or_insert((of, age, kept));
            entry.1 = entry.1.max(age);
            entry.2 |= kept;
        }
    }
    let mut orphans = Vec::new();
    for (stack, (of, age, kept)) in stacks {
        if kept || age < older_than.as_secs() {
            continue;
        }
        let left = match sweep.dry_run {
            true => swarm
                .leftovers(&stack)
                .await
                .unwrap_or_else(|e| vec![format!("cannot list: {e}")]),
            false => ccci_abra::remove_stack(swarm, &stack, Deadline::after(budget))
                .await
                .unwrap_or_else(|e| vec![format!("removal failed: {e}")]),
        };
        orphans.push(Orphan {
            stack,
            of,
            age,
            left,
        });
    }
    orphans
}

/// The janitor's part for one gone run: revokes the realms its entry names, each at its
/// dependency (opened by the kind the entry records); returns what could not be removed.
async fn reap_realms(swarm: &Swarm, run: &ActiveRun, deadline: Deadline) -> Vec<String> {
    let mut left = Vec::new();
    for held in &run.realms {
        let removed = async {
            let place = crate::settings::provider_place(&held.domain, None, true);
            let dependency = ccci_deps::open(held.kind, swarm, place).await?;
            dependency.revoke(&held.realm, deadline).await
        };
        if let Err(e) = removed.await {
            left.push(format!("realm {} at {}: {e}", held.realm, held.domain));
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, pid: u32, pid_start: Option<u64>) -> ActiveRun {
        ActiveRun {
            run_id: id.into(),
            pid,
            pid_start,
            recipe: "r".into(),
            stack: format!("s_{id}"),
            domain: "d.ccci.test".into(),
            docker_host: "unix:///var/run/docker.sock".into(),
            keep_until: None,
            realms: Vec::new(),
        }
    }

    #[test]
    fn a_kept_run_is_kept_until_its_time() {
        let mut r = run("k", 1, None);
        assert!(!r.kept_now());
        r.keep_until = Some(unix_now() + 60);
        assert!(r.kept_now());
        r.keep_until = Some(unix_now() - 1);
        assert!(!r.kept_now());
    }

    #[test]
    fn a_run_is_alive_while_its_process_is_the_one_that_registered() {
        let (pid, start) = this_process();
        assert!(start.is_some(), "this machine has /proc");
        assert!(alive(&run("a", pid, start)));
        assert!(
            !alive(&run("b", pid, start.map(|s| s + 1))),
            "the same pid started later is another process"
        );
        // Pid 0 is never a user process.
        assert!(!alive(&run("c", u32::MAX, None)));
    }

    #[test]
    fn registered_runs_are_listed_until_forgotten() {
        let dir = std::env::temp_dir().join(crate::names::unique("ccci-registry"));
        let reg = Registry::at(&dir).unwrap();
        let a = run("20261122-aaaaaa", 1, None);
        reg.register(&a).unwrap();
        assert_eq!(reg.runs(), std::slice::from_ref(&a));
        reg.forget(&a.run_id);
        assert!(reg.runs().is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
