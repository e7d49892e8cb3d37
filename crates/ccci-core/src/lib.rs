//! The model of a ccci run. Nothing here spawns a task or knows about Docker, and nearly
//! nothing does IO: adapters (`ccci-swarm`, `ccci-abra`) and the harness (`ccci`) feed it data
//! and read decisions back. The exceptions are the machine's facts every part must read
//! alike, in [`host`] (the state directory, the machine's name, whether a process lives, read
//! from the environment and `/proc`), and random secrets ([`random_chars`], `/dev/urandom`).
//!
//! | module | what it decides |
//! |---|---|
//! | [`meta`] | a recipe's typed settings ([`RecipeMeta`]) and how `ccci.yml` is read |
//! | [`ctx`] | the one context every hook and test receives ([`HookCtx`]) |
//! | [`op`] | the lifecycle operations a run performs ([`Op`]) |
//! | [`host`] | where ccci keeps its state, the machine's name, whether a process lives (the machine's facts every part decides on alike) |
//! | [`journal`] | how a run notes its start and end for the run store ([`journal::Entry`]) |
//! | [`ladder`] | rungs, their outcomes and the level L0–L4 ([`Ladder`]) |
//! | [`lane`] | what a run's lane (cold or quick) decides of it ([`lane::Lane`]) |
//! | [`results`] | the versioned results.json schema ([`Results`]) |
//! | [`version`] | recipe release versions like `1.2.0+3.3.1` ([`Version`]) |
//! | [`chaos`] | the `chaos-version` label value ([`ChaosVersion`]) |
//! | [`state`] | values carried between ops ([`OpState`]) |
//! | [`time`] | RFC 3339 timestamps without a clock dependency |
//! | [`vars`] | the name of every environment variable ccci reads |
//! | [`wire`] | what `cargo ccci` and `ccci-service` hand each other ([`wire::KnownGood`], [`wire::SweepRecord`]) |

pub mod canonical;
pub mod cause;
pub mod chaos;
pub mod ctx;
pub mod deps;
pub mod host;
pub mod journal;
pub mod ladder;
pub mod lane;
pub mod meta;
pub mod op;
pub mod policy;
pub mod results;
pub mod state;
pub mod suggest;
pub mod time;
pub mod vars;
pub mod version;
pub mod wire;

pub use cause::Cause;
pub use chaos::ChaosVersion;
pub use ctx::{Deps, HookCtx};
pub use ladder::{Ladder, Level, Rung, RungOutcome, Verdict};
pub use meta::{Layer, MetaError, RecipeMeta};
pub use op::Op;
pub use results::Results;
pub use state::{Key, OpState, OpStateError};
pub use version::Version;

/// A commit as people read it: its first 8 hex digits (all of it when shorter).
///
/// ```
/// assert_eq!(ccci_core::short_commit("957e833c1f0a"), "957e833c");
/// assert_eq!(ccci_core::short_commit(""), "");
/// ```
pub fn short_commit(commit: &str) -> &str {
    &commit[..commit.len().min(8)]
}

/// Fills `buf` from the kernel's CSPRNG (`/dev/urandom`): generated secrets and the names
/// that keep concurrent runs apart.
pub fn random_fill(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read as _;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// `len` random characters of `set` (ASCII) from the kernel's CSPRNG: generated secrets and
/// passwords.
///
/// ```
/// let s = ccci_core::random_chars(40, b"ab").unwrap();
/// assert_eq!(s.len(), 40);
/// assert!(s.chars().all(|c| c == 'a' || c == 'b'));
/// ```
pub fn random_chars(len: usize, set: &[u8]) -> std::io::Result<String> {
    // Rejecting bytes at or above the largest multiple of the set's size keeps every
    // character equally likely.
    let limit = 256 - 256 % set.len();
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        random_fill(&mut buf)?;
        out.extend(
            buf.iter()
                .filter(|b| usize::from(**b) < limit)
                .map(|b| char::from(set[usize::from(*b) % set.len()]))
                .take(len - out.len()),
        );
    }
    Ok(out)
}
