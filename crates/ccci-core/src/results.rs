//! results.json: what one run did and concluded, in a versioned schema.
//!
//! Consumers (the PR comment, the report card, dashboards) must check [`Results::schema`]:
//! a field changes meaning only together with [`SCHEMA`]. The reference system learned to pin
//! the schema of stored evidence when a level number silently changed meaning between runs.

pub use crate::cause::Cause;
use crate::ladder::{
    rung_from_tests, Ladder, Level, Rung, RungOutcome, Skips, TestStatus, Verdict,
};
pub use crate::lane::Lane;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema identifier written into every results.json.
pub const SCHEMA: &str = "ccci.results/7";

/// Every schema ccci has written, oldest first. Each one only added fields to the one before
/// (with defaults), so a results.json of any of them reads as [`Results`]; a store keeps the
/// one each run was written in.
///
/// - `/1`: the ladder, tests, snapshots, teardown;
/// - `/2`: deploys, dependencies, restore proof, warnings;
/// - `/3`: routing and the changes made to the stack; later, additively, the manifest, the
///   screenshot and bad input;
/// - `/4`: which ccci ran it (`ccci`), on which host, in which lane, and where the app
///   answered (`app_url`);
/// - `/5`: what provided each dependency and with what (`dependencies[]`: `kind`,
///   `provider`, `values`, `problem`);
/// - `/6`: the warm fleet: what the run did with its recipe's canonical deployment
///   (`canonical`), and every path of the upgrade rung (`upgrade_paths`);
/// - `/7`: whose fault a red run is (`cause`), what the host lacked in a failed step
///   (`tests[].host_fault`), why a run was stopped (`cancelled`), and how it rolled back
///   (`rollback`).
pub const SCHEMAS: [&str; 7] = [
    "ccci.results/1",
    "ccci.results/2",
    "ccci.results/3",
    "ccci.results/4",
    "ccci.results/5",
    "ccci.results/6",
    SCHEMA,
];

/// The outcome of one run: its [`Facts`] (read through `Deref`: `results.recipe`) and what
/// [`Results::conclude`] concluded from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// The schema this was written in: [`SCHEMA`] for a run of this ccci, one of
    /// [`SCHEMAS`] for one read back.
    pub schema: String,
    /// What the run did.
    #[serde(flatten)]
    pub facts: Facts,
    /// The level reached, 0–4.
    pub level: Level,
    /// The first rung that did not pass, which capped the level.
    pub level_cap_rung: Option<Rung>,
    /// Green or red.
    pub verdict: Verdict,
    /// Why red, one line each.
    pub verdict_reasons: Vec<String>,
    /// Whose fault a red run is ([`Cause`]); `None` when green, and in results written
    /// before `/7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Every rung's outcome.
    pub rungs: BTreeMap<Rung, RungOutcome>,
    /// Skipped rungs by kind: declared (intentional) or not.
    pub skips: Skips,
}

impl std::ops::Deref for Results {
    type Target = Facts;
    fn deref(&self) -> &Facts {
        &self.facts
    }
}

/// What a run did, as it recorded it: everything results.json holds but what is concluded
/// from it (the ladder, the level, the verdict and its reasons). [`Results::conclude`] turns
/// it into [`Results`] in one pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Unique id of the run (also its directory name).
    pub run_id: String,
    /// The recipe's name.
    pub recipe: String,
    /// What was tested.
    pub head: RefInfo,
    /// The release the upgrade started from, when the upgrade ran.
    pub upgrade_base: Option<RefInfo>,
    /// The app domain of the run.
    pub domain: String,
    /// The stack name derived from it.
    pub stack: String,
    /// Which deployer did abra's job: `builtin` or `abra`.
    pub deployer: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time.
    pub finished_at: String,
    /// Wall time in seconds.
    pub duration_secs: f64,
    /// Every test in the order it ran.
    pub tests: Vec<TestRecord>,
    /// Every backup attempt, with where its snapshot is kept and why it was rejected.
    pub snapshots: Vec<SnapshotRecord>,
    /// Whether the run left nothing behind.
    pub teardown: Teardown,
    /// The run directory: the recipe checkout, the app .env, every stack file deployed,
    /// snapshots and forensics.
    pub run_dir: String,
    /// Every deploy, in order: what was asked for and what actually ran.
    #[serde(default)]
    pub deploys: Vec<DeployRecord>,
    /// Dependencies the recipe declared (`deps`), and whether ccci provided each.
    #[serde(default)]
    pub dependencies: Vec<DependencyRecord>,
    /// What proved that the restore brought the data back, when backup/restore ran.
    #[serde(default)]
    pub restore_proof: Option<RestoreProof>,
    /// Things a maintainer should know that did not fail the run (keys Swarm ignores, an
    /// overlay ccci added), each once.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// How the app was reached: through Traefik, or on a host port without it.
    #[serde(default)]
    pub routing: Option<Routing>,
    /// Where the app answered (`https://<domain>` through Traefik, `http://<host>:<port>`
    /// on a host port); `None` when it never had an address. Since `/4`.
    #[serde(default)]
    pub app_url: Option<String>,
    /// Every change ccci made to the recipe's stack as written, with why, each once: only
    /// what the host lacks (IPVS) or the routing needs.
    #[serde(default)]
    pub changes: Vec<String>,
    /// How this run was customised, one line each: every setting that differs from the
    /// defaults, env values added, overlays, forced routing or pulls, the recipe's own
    /// functions, a test filter. Values of secret-looking names are redacted.
    #[serde(default)]
    pub manifest: Vec<String>,
    /// The page a recipe's test chose for the report (secrets masked), else the app's front
    /// page as the run left it, taken before teardown (best effort).
    #[serde(default)]
    pub screenshot: Option<Picture>,
    /// Set when the run was refused before anything was deployed because its input is
    /// wrong (the recipe, its settings, the command line): the one-line error, naming the
    /// file, key or service and the fix. Such a run *could not run* (`cargo ccci` exits 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_input: Option<String>,
    /// Which ccci ran it; `None` in results written before `/4`.
    #[serde(default)]
    pub ccci: Option<Build>,
    /// The machine the run ran on (its host name); `None` before `/4`.
    #[serde(default)]
    pub host: Option<String>,
    /// Which lane the run was: a cold run deploys from nothing (every run before `/4`).
    #[serde(default)]
    pub lane: Lane,
    /// What the run did with its recipe's canonical deployment: a quick run's, a promotion's
    /// (docs/fleet.md). Since `/6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<crate::canonical::CanonicalOutcome>,
    /// Every path the upgrade rung took, from each release before the head it started from
    /// (`upgrade_from`); empty when the upgrade did not run. Since `/6`.
    #[serde(default)]
    pub upgrade_paths: Vec<crate::canonical::UpgradePath>,
    /// Why the run was stopped before its verdict (an interrupt, a newer head), when it was.
    /// Since `/7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<String>,
    /// How the app rolled back to the release its upgrade started from, when the run was
    /// asked to (`rollback: true`, the sweep). Since `/7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
}

/// The app deployed back to the release its upgrade started from, as `abra app rollback`
/// does: it must come up healthy with the data intact. A red one caps no rung, and makes the
/// verdict red ("rollback unsafe: …").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    /// The release rolled back to.
    pub to: String,
    /// `None` when it was healthy with every marker intact; else why not.
    pub problem: Option<String>,
    /// The markers that proved the data survived it (`<service>:<path>`).
    pub proof: Vec<String>,
    /// How long it took.
    pub duration_secs: f64,
}

/// A build of ccci: what an A/B comparison of two runs of one recipe ref sets side by side,
/// to tell a change in ccci from a change in the world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// The crate version (`0.1.0`).
    pub version: String,
    /// The commit of ccci's source it was built from, when it was built from a git checkout.
    pub commit: Option<String>,
}

/// A picture a run tried to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Picture {
    /// Taken: where the PNG is.
    Taken {
        /// The PNG.
        path: String,
    },
    /// Not taken, and why (never a failure of the run).
    Failed {
        /// Why.
        reason: String,
    },
}

/// Whether an env or setting name looks like it holds a secret: a word of it (split on `_`,
/// `-` and `.`) is SECRET, PASSWORD, PASSWD, TOKEN, CREDENTIAL(S), PRIVATE or KEY
/// (`DB_PASSWORD`, `API_KEY`, not `KEYCLOAK_URL`).
///
/// ```
/// use ccci_core::results::looks_secret;
/// assert!(looks_secret("DB_PASSWORD") && looks_secret("api-key") && looks_secret("SECRET_X_VERSION"));
/// assert!(!looks_secret("KEYCLOAK_URL") && !looks_secret("DOMAIN"));
/// ```
pub fn looks_secret(name: &str) -> bool {
    name.split(['_', '-', '.']).any(|w| {
        matches!(
            w.to_ascii_uppercase().as_str(),
            "SECRET"
                | "PASSWORD"
                | "PASSWD"
                | "TOKEN"
                | "CREDENTIAL"
                | "CREDENTIALS"
                | "PRIVATE"
                | "KEY"
        )
    })
}

/// How a run reached its app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Routing {
    /// Through the Traefik serving the `proxy` network, over HTTPS by the app's domain: the
    /// recipe's routers and middlewares in force.
    Traefik,
    /// On a port published on the Swarm's host, without Traefik.
    HostPort,
}

impl Routing {
    /// `traefik` or `host-port`, as the command line and results.json write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Routing::Traefik => "traefik",
            Routing::HostPort => "host-port",
        }
    }
}

impl std::str::FromStr for Routing {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "traefik" => Ok(Routing::Traefik),
            "host-port" => Ok(Routing::HostPort),
            other => Err(format!(
                "routing `{other}`: say `traefik` (through the Traefik serving the proxy network) or `host-port` (published on the host, no Traefik)"
            )),
        }
    }
}

/// One deploy of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRecord {
    /// The step that deployed: `install` or `upgrade`.
    pub step: String,
    /// The release deployed, or `None` for a chaos deploy of a commit.
    pub version: Option<String>,
    /// The full recipe commit that was checked out and deployed.
    pub commit: String,
    /// The chaos-version label stamped (`<short commit>[+U]`), for chaos deploys.
    pub chaos_version: Option<String>,
    /// The compose files deployed, in `COMPOSE_FILE` order.
    pub compose_files: Vec<String>,
    /// Whether the stack then became converged, healthy and ready.
    pub healthy: bool,
}

/// A dependency the recipe declared, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyRecord {
    /// Its name, as in `deps`.
    pub name: String,
    /// The kind ccci provides for that name (`oidc`), or `None` when it knows none.
    #[serde(default)]
    pub kind: Option<String>,
    /// Whether ccci provided it to the run.
    pub provided: bool,
    /// What provided it, e.g. `glewlwyd 1.0.0+2.7.5 at https://ccci-oidc.ccci.test`.
    #[serde(default)]
    pub provider: Option<String>,
    /// What the run was given (`ctx.deps[name]`), credentials shown as `<redacted>` and
    /// certificates left out.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Why it was not provided, or how it was lost while the run used it: either makes the
    /// run red.
    #[serde(default)]
    pub problem: Option<String>,
}

impl DependencyRecord {
    /// A declared dependency, not (yet) provided: its kind is the one ccci knows for `name`.
    pub fn declared(name: &str) -> DependencyRecord {
        DependencyRecord {
            name: name.into(),
            kind: crate::deps::Kind::of(name).map(|k| k.as_str().to_string()),
            provided: false,
            provider: None,
            values: BTreeMap::new(),
            problem: None,
        }
    }
}

/// What showed that a restore brought the data back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RestoreProof {
    /// The recipe's own functions checked its data after the restore.
    RecipeHooks {
        /// The `#[ccci::lifecycle(after = restore)]` functions.
        hooks: Vec<String>,
    },
    /// ccci wrote a unique file into these backed-up directories before the backup, removed
    /// it before the restore, and found it back byte for byte after it.
    Markers {
        /// `<service>:<path in the container>` of every marker.
        paths: Vec<String>,
    },
    /// Nothing could prove it.
    None {
        /// Why not, and how to add a proof.
        reason: String,
    },
}

/// A git ref that was deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefInfo {
    /// The ref as asked for (tag, branch or commit).
    pub reference: String,
    /// The full commit SHA it resolved to.
    pub commit: String,
    /// The release version, when the ref is a release tag.
    pub version: Option<String>,
}

/// One test's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRecord {
    /// `tier::name`, as listed by the test binary.
    pub name: String,
    /// The rung the test counts toward.
    pub rung: Rung,
    /// What happened.
    #[serde(flatten)]
    pub status: TestStatus,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// For a failure on a deployed app: the file with every service's task history and log
    /// tail at that moment.
    pub forensics: Option<String>,
    /// For a failure that was the host's, not the recipe's: what the host lacked (the
    /// daemon, the registry, the disk, a dependency ccci provides). Since `/7`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_fault: Option<String>,
}

/// One backup attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// 1, 2, 3: backups are retried when BACKUP_VERIFY rejects them.
    pub attempt: u32,
    /// Where the snapshot is kept (never deleted by ccci).
    pub dir: String,
    /// `Some(true)` accepted by every BACKUP_VERIFY hook, `Some(false)` rejected, `None` when
    /// the recipe has no such hook or the backup itself failed.
    pub verified: Option<bool>,
    /// Why the attempt failed or was rejected.
    pub error: Option<String>,
}

/// What teardown removed and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Teardown {
    /// True when nothing of the run remains on the Swarm.
    pub clean: bool,
    /// What remains (kind and name), if anything.
    pub leftovers: Vec<String>,
    /// Teardown's own error, if it failed.
    pub error: Option<String>,
    /// Set when the run was red and asked to keep its stack for debugging (`--keep`):
    /// teardown did not run, and the janitor removes the stack after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<Kept>,
}

impl Teardown {
    /// A teardown that ran and left nothing: the ending of a run that ended well.
    pub fn clean() -> Teardown {
        Teardown {
            clean: true,
            ..Teardown::default()
        }
    }

    /// Why this teardown makes a run red, when it does: its stack kept for debugging, or
    /// something left behind.
    pub fn makes_red(&self) -> Option<String> {
        match &self.kept {
            Some(kept) => Some(format!(
                "stack {} kept for debugging until {} (--keep)",
                kept.stack, kept.until
            )),
            None if !self.clean => Some(format!("teardown left {}", self.leftovers.join(", "))),
            None => None,
        }
    }
}

/// A red run's stack left up for debugging, and how to reach and remove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// The stack left up.
    pub stack: String,
    /// When the janitor may remove it (RFC 3339, UTC).
    pub until: String,
    /// Where the app answers, if it was reachable.
    pub url: Option<String>,
    /// The command that removes it now.
    pub remove: String,
}

impl Results {
    /// Concludes a run from its facts, in one pass: the ladder from its tests and the rungs
    /// the recipe declared not applicable (`declared_na`), then the level and the verdict by
    /// the rules that no green is unearned:
    /// - a backup/restore rung whose tests passed counts only with a data proof
    ///   ([`RestoreProof`]), else it is unverified;
    /// - a declared dependency ccci did not provide makes the run red;
    /// - the run is green only if the head's commit was deployed and became healthy;
    /// - a teardown that left anything behind makes the run red.
    pub fn conclude(facts: Facts, declared_na: &BTreeMap<Rung, String>) -> Results {
        let ladder = ladder_of(&facts.tests, declared_na);
        Results::conclude_on(facts, ladder)
    }

    /// [`Results::conclude`] on a ladder already made from the tests.
    fn conclude_on(f: Facts, mut ladder: Ladder) -> Results {
        if *ladder.get(Rung::BackupRestore) == RungOutcome::Pass {
            let missing = match &f.restore_proof {
                Some(RestoreProof::None { reason }) => Some(reason.clone()),
                None => Some("no data proof was recorded".to_string()),
                Some(_) => None,
            };
            if let Some(reason) = missing {
                ladder.set(
                    Rung::BackupRestore,
                    RungOutcome::Unverified {
                        reason: format!("the restore was not proven by data: {reason}"),
                    },
                );
            }
        }
        let (verdict, verdict_reasons) = verdict_of(&f, &ladder);
        let cause = (verdict == Verdict::Red).then(|| cause_of(&f));
        Results {
            schema: SCHEMA.into(),
            level: ladder.level(),
            level_cap_rung: ladder.level_cap_rung(),
            verdict,
            verdict_reasons,
            cause,
            skips: ladder.skips(),
            rungs: ladder.rungs().clone(),
            facts: f,
        }
    }
}

/// Each rung's outcome from its steps, and what the settings declare not applicable.
fn ladder_of(tests: &[TestRecord], declared_na: &BTreeMap<Rung, String>) -> Ladder {
    let mut ladder = Ladder::default();
    for rung in Rung::ALL {
        let of_rung: Vec<(&str, &TestStatus)> = tests
            .iter()
            .filter(|r| r.rung == rung)
            .map(|r| (r.name.as_str(), &r.status))
            .collect();
        let declared = declared_na.get(&rung).map(String::as_str);
        ladder.set(rung, rung_from_tests(rung, &of_rung, declared));
    }
    ladder
}

/// The verdict of a run with `ladder`, and why it is red: the ladder's own reasons, then
/// what the facts add (a dependency not provided, a head never healthy, bad input, a stack
/// kept or left behind).
fn verdict_of(f: &Facts, ladder: &Ladder) -> (Verdict, Vec<String>) {
    if let Some(e) = &f.bad_input {
        let mut reasons = vec![format!("bad input: {e}")];
        reasons.extend(f.teardown.makes_red());
        return (Verdict::Red, reasons);
    }
    let mut reasons = ladder.red_reasons();
    for d in &f.dependencies {
        let why = d
            .problem
            .as_deref()
            .map(|p| format!(": {p}"))
            .unwrap_or_default();
        match d.provided {
            false => reasons.push(format!(
                "dependency `{}` (declared in deps) was not provided to the run{why}",
                d.name
            )),
            true if d.problem.is_some() => reasons.push(format!(
                "dependency `{}` was lost while the run used it{why}",
                d.name
            )),
            true => {}
        }
    }
    let head_ran = f
        .deploys
        .iter()
        .any(|d| d.healthy && !f.head.commit.is_empty() && d.commit == f.head.commit);
    // Said only when nothing else already made the run red: a failed install or upgrade
    // says why the head never ran.
    if !head_ran && reasons.is_empty() {
        reasons.push(format!(
            "the head {} was never deployed and healthy",
            crate::short_commit(&f.head.commit)
        ));
    }
    if let Some(problem) = f.rollback.as_ref().and_then(|r| r.problem.as_ref()) {
        reasons.push(format!("rollback unsafe: {problem}"));
    }
    reasons.extend(f.teardown.makes_red());
    // A quick run that could not put the canonical back leaves the fleet worse than it
    // found it: not green, whatever the head did.
    if let Some(c) = f
        .canonical
        .as_ref()
        .filter(|c| c.action == crate::canonical::CanonicalAction::Quick && !c.known_good)
    {
        reasons.push(format!(
            "the canonical {} was not returned to known-good {}: {}; the next quick run rebuilds it",
            c.stack,
            c.version,
            c.problem.as_deref().unwrap_or("its data is not proven")
        ));
    }
    let verdict = match reasons.is_empty() {
        true => Verdict::Green,
        false => Verdict::Red,
    };
    (verdict, reasons)
}

/// The cause of a red run, by these rules, in order:
/// - refused for bad input: the recipe (its input);
/// - stopped before its verdict (`cancelled`): cancelled;
/// - the first step that failed decides: the host's when it recorded what the host
///   lacked (`host_fault`), else the recipe's;
/// - no step failed but a dependency ccci provides was lost or not given, teardown left
///   something, or the canonical could not be put back: the host's (ccci's own part);
/// - else the recipe's (a rung unverified, a skip it did not declare).
fn cause_of(f: &Facts) -> Cause {
    if f.bad_input.is_some() {
        return Cause::Recipe;
    }
    if let Some(why) = &f.cancelled {
        return Cause::Cancelled { why: why.clone() };
    }
    let first_failure = f
        .tests
        .iter()
        .find(|t| matches!(t.status, TestStatus::Fail { .. }));
    if let Some(t) = first_failure {
        return match &t.host_fault {
            Some(lacked) => Cause::Host {
                lacked: lacked.clone(),
            },
            None => Cause::Recipe,
        };
    }
    let ccci_part = f
        .dependencies
        .iter()
        .find_map(|d| {
            d.problem
                .as_ref()
                .map(|p| format!("dependency `{}`: {p}", d.name))
        })
        .or_else(|| {
            (!f.teardown.clean && f.teardown.kept.is_none())
                .then(|| format!("teardown left {}", f.teardown.leftovers.join(", ")))
        });
    match ccci_part {
        Some(lacked) => Cause::Host { lacked },
        None => Cause::Recipe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Results {
        Results::conclude_on(facts(), sample_ladder())
    }

    fn sample_ladder() -> Ladder {
        let mut ladder = Ladder::default();
        ladder.set(Rung::Install, RungOutcome::Pass);
        ladder.set(Rung::Upgrade, RungOutcome::Pass);
        ladder.set(
            Rung::BackupRestore,
            RungOutcome::Skipped {
                reason: "stateless static site".into(),
                intentional: true,
            },
        );
        ladder.set(Rung::Functional, RungOutcome::Pass);
        ladder
    }

    fn facts() -> Facts {
        Facts {
            run_id: "custom-html-20261122-160000-1a2b3c".into(),
            recipe: "custom-html".into(),
            head: RefInfo {
                reference: "1.1.0+1.22".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                version: Some("1.1.0+1.22".into()),
            },
            upgrade_base: Some(RefInfo {
                reference: "1.0.0+1.22".into(),
                commit: "fedcba9876543210fedcba9876543210fedcba98".into(),
                version: Some("1.0.0+1.22".into()),
            }),
            domain: "cust-1a2b3c.ccci.test".into(),
            stack: "cust-1a2b3c_ccci_test".into(),
            deployer: "builtin".into(),
            started_at: "2026-11-22T16:00:00Z".into(),
            finished_at: "2026-11-22T16:01:30Z".into(),
            duration_secs: 90.0,
            tests: vec![
                TestRecord {
                    name: "install::healthy".into(),
                    rung: Rung::Install,
                    status: TestStatus::Pass,
                    duration_ms: 5210,
                    forensics: None,
                    host_fault: None,
                },
                TestRecord {
                    name: "functional::not_found".into(),
                    rung: Rung::Functional,
                    status: TestStatus::Fail {
                        message: "expected 404, got 200".into(),
                    },
                    duration_ms: 12,
                    forensics: Some("target/ccci/runs/custom-html-20261122160000-1a2b3c/forensics/05-functional__not_found.txt".into()),
                    host_fault: None,
                },
            ],
            snapshots: vec![SnapshotRecord {
                attempt: 1,
                dir: "target/ccci/runs/custom-html-20261122160000-1a2b3c/snapshots/1".into(),
                verified: None,
                error: None,
            }],
            teardown: Teardown {
                clean: true,
                leftovers: vec![],
                error: None,
                kept: None,
            },
            run_dir: "target/ccci/runs/custom-html-20261122160000-1a2b3c".into(),
            deploys: vec![
                DeployRecord {
                    step: "install".into(),
                    version: Some("1.0.0+1.22".into()),
                    commit: "fedcba9876543210fedcba9876543210fedcba98".into(),
                    chaos_version: None,
                    compose_files: vec!["compose.yml".into()],
                    healthy: true,
                },
                DeployRecord {
                    step: "upgrade".into(),
                    version: None,
                    commit: "0123456789abcdef0123456789abcdef01234567".into(),
                    chaos_version: Some("01234567".into()),
                    compose_files: vec!["compose.yml".into()],
                    healthy: true,
                },
            ],
            dependencies: vec![DependencyRecord {
                name: "sso".into(),
                kind: Some("oidc".into()),
                provided: true,
                provider: Some("glewlwyd 1.0.0+2.7.5 at https://ccci-oidc.ccci.test".into()),
                values: BTreeMap::from([
                    ("client_id".into(), "ccci-cust-1a2b3c".into()),
                    ("client_secret".into(), "<redacted>".into()),
                    (
                        "issuer".into(),
                        "https://ccci-oidc.ccci.test/api/oidc-ccci-cust-1a2b3c".into(),
                    ),
                ]),
                problem: None,
            }],
            restore_proof: None,
            warnings: vec![],
            routing: Some(Routing::Traefik),
            changes: vec![],
            manifest: vec![],
            bad_input: None,
            screenshot: None,
            app_url: Some("https://cust-1a2b3c.ccci.test:18443".into()),
            ccci: Some(Build {
                version: "0.1.0".into(),
                commit: Some("9f3bdd4c0ffee0123456789abcdef0123456789a".into()),
            }),
            host: Some("ci-1".into()),
            lane: Lane::Cold,
            canonical: None,
            upgrade_paths: Vec::new(),
            cancelled: None,
            rollback: None,
        }
    }

    fn all_pass() -> Ladder {
        let mut ladder = Ladder::default();
        for rung in Rung::ALL {
            ladder.set(rung, RungOutcome::Pass);
        }
        ladder
    }

    #[test]
    fn green_needs_the_head_deployed_and_healthy() {
        let mut r = facts();
        r.restore_proof = Some(RestoreProof::Markers {
            paths: vec!["app:/data".into()],
        });
        assert_eq!(
            Results::conclude_on(r.clone(), all_pass()).verdict,
            Verdict::Green
        );
        r.deploys.retain(|d| d.step == "install");
        let r = Results::conclude_on(r, all_pass());
        assert_eq!(r.verdict, Verdict::Red);
        assert_eq!(
            r.verdict_reasons,
            ["the head 01234567 was never deployed and healthy"]
        );
    }

    #[test]
    fn a_red_run_names_its_cause_and_the_first_failure_decides() {
        let proven = || {
            let mut f = facts();
            f.restore_proof = Some(RestoreProof::Markers {
                paths: vec!["app:/data".into()],
            });
            f
        };
        let cause = |f: Facts| Results::conclude(f, &BTreeMap::new()).cause;
        // The sample's functional test failed, with nothing of the host's: the recipe's.
        assert_eq!(cause(proven()), Some(Cause::Recipe));
        // The same failure, recorded as the host's (the daemon went away): the host's.
        let mut f = proven();
        f.tests[1].host_fault = Some("the Docker daemon stopped answering".into());
        assert_eq!(
            cause(f.clone()),
            Some(Cause::Host {
                lacked: "the Docker daemon stopped answering".into()
            })
        );
        // A recipe failure before the host's decides.
        f.tests[0].status = TestStatus::Fail {
            message: "never healthy".into(),
        };
        assert_eq!(cause(f), Some(Cause::Recipe));
        // Stopped before its verdict: cancelled, whatever failed.
        let mut f = proven();
        f.cancelled = Some("interrupted".into());
        assert_eq!(
            cause(f),
            Some(Cause::Cancelled {
                why: "interrupted".into()
            })
        );
        // Nothing failed but a dependency ccci provides was lost: the host's.
        let mut f = proven();
        f.tests.truncate(1);
        f.dependencies[0].problem = Some("its realm answered 502".into());
        let r = Results::conclude_on(f, all_pass());
        assert_eq!(r.verdict, Verdict::Red);
        assert!(
            r.cause.as_ref().is_some_and(Cause::is_host),
            "{:?}",
            r.cause
        );
        // Green: no cause, and none written.
        let mut f = proven();
        f.tests.truncate(1);
        let r = Results::conclude_on(f, all_pass());
        assert_eq!((r.verdict, &r.cause), (Verdict::Green, &None));
        assert!(!serde_json::to_string(&r).unwrap().contains("\"cause\""));
    }

    #[test]
    fn an_unprovided_dependency_is_red() {
        let mut r = facts();
        r.restore_proof = Some(RestoreProof::RecipeHooks {
            hooks: vec!["marker_is_back".into()],
        });
        r.dependencies = vec![DependencyRecord::declared("keycloak")];
        assert_eq!(r.dependencies[0].kind.as_deref(), Some("oidc"));
        let r = Results::conclude_on(r, all_pass());
        assert_eq!(r.verdict, Verdict::Red);
        assert!(
            r.verdict_reasons[0].contains("`keycloak`"),
            "{:?}",
            r.verdict_reasons
        );
    }

    #[test]
    fn a_dependency_lost_during_the_run_is_red_and_named() {
        let mut r = facts();
        r.restore_proof = Some(RestoreProof::RecipeHooks {
            hooks: vec!["marker_is_back".into()],
        });
        let mut dep = DependencyRecord::declared("oidc");
        dep.provided = true;
        r.dependencies = vec![dep.clone()];
        assert_eq!(
            Results::conclude_on(r.clone(), all_pass()).verdict,
            Verdict::Green
        );
        dep.problem = Some("its realm's discovery answered 502".into());
        r.dependencies = vec![dep];
        let r = Results::conclude_on(r, all_pass());
        assert_eq!(r.verdict, Verdict::Red);
        assert_eq!(
            r.verdict_reasons,
            ["dependency `oidc` was lost while the run used it: its realm's discovery answered 502"]
        );
    }

    #[test]
    fn a_restore_without_data_proof_is_unverified() {
        let mut r = facts();
        r.restore_proof = Some(RestoreProof::None {
            reason: "only a dump file is backed up".into(),
        });
        let r = Results::conclude_on(r, all_pass());
        assert_eq!(r.level, Level(2));
        assert_eq!(r.verdict, Verdict::Red);
        assert!(
            matches!(&r.rungs[&Rung::BackupRestore], RungOutcome::Unverified { reason } if reason.contains("not proven by data: only a dump"))
        );
    }

    #[test]
    fn schema_snapshot() {
        insta::assert_json_snapshot!(sample());
    }

    #[test]
    fn round_trips() {
        let r = sample();
        let back: Results = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_kept_stack_is_named_as_kept_not_as_a_leak() {
        let mut r = facts();
        r.teardown = Teardown {
            clean: false,
            leftovers: vec!["service cust_app".into()],
            error: None,
            kept: Some(Kept {
                stack: "cust".into(),
                until: "2026-11-23T01:00:00Z".into(),
                url: None,
                remove: "cargo ccci janitor --kept".into(),
            }),
        };
        let r = Results::conclude_on(r, all_pass());
        assert_eq!(r.verdict, Verdict::Red);
        assert!(
            r.verdict_reasons
                .iter()
                .any(|v| v == "stack cust kept for debugging until 2026-11-23T01:00:00Z (--keep)"),
            "{:?}",
            r.verdict_reasons
        );
        assert!(!r
            .verdict_reasons
            .iter()
            .any(|v| v.contains("teardown left")));
    }

    #[test]
    fn a_leaky_teardown_turns_the_verdict_red() {
        let mut r = facts();
        r.teardown = Teardown {
            clean: false,
            leftovers: vec!["volume cust_content".into()],
            error: None,
            kept: None,
        };
        r.restore_proof = Some(RestoreProof::Markers {
            paths: vec!["app:/data".into()],
        });
        let r = Results::conclude_on(r, all_pass());
        assert_eq!(r.verdict, Verdict::Red);
        assert_eq!(r.verdict_reasons, ["teardown left volume cust_content"]);
    }
}
