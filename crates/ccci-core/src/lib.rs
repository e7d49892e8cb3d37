//! The pure model of a ccci run. Nothing here does IO, spawns a task or knows about Docker:
//! adapters (`ccci-swarm`, `ccci-abra`) and the harness (`ccci`) feed it data and read
//! decisions back.
//!
//! | module | what it decides |
//! |---|---|
//! | [`meta`] | a recipe's typed settings ([`RecipeMeta`]) and how `ccci.yml` is read |
//! | [`ctx`] | the one context every hook and test receives ([`HookCtx`]) |
//! | [`op`] | the lifecycle operations a run performs ([`Op`]) |
//! | [`ladder`] | rungs, their outcomes and the level L0–L4 ([`Ladder`]) |
//! | [`results`] | the versioned results.json schema ([`Results`]) |
//! | [`version`] | recipe release versions like `1.2.0+3.3.1` ([`Version`]) |
//! | [`chaos`] | the `chaos-version` label value ([`ChaosVersion`]) |
//! | [`state`] | values carried between ops ([`OpState`]) |
//! | [`time`] | RFC 3339 timestamps without a clock dependency |

pub mod chaos;
pub mod ctx;
pub mod ladder;
pub mod meta;
pub mod op;
pub mod results;
pub mod state;
pub mod suggest;
pub mod time;
pub mod version;

pub use chaos::ChaosVersion;
pub use ctx::{Deps, HookCtx};
pub use ladder::{Ladder, Level, Rung, RungOutcome, Verdict};
pub use meta::{Layer, MetaError, RecipeMeta};
pub use op::Op;
pub use results::Results;
pub use state::{Key, OpState, OpStateError};
pub use version::Version;
