//! Every environment variable ccci reads, by name: the one place they are spelled. They are
//! read once, typed, by `ccci::Settings::from_env` (the harness) and by the commands that
//! own them; everything else names them through these constants, in messages and docs alike.
//!
//! | variable | what it says | read by |
//! |---|---|---|
//! | [`RUNS_DIR`] | where run directories go | every run |
//! | [`RECIPE_GIT`] | a recipe repository to test instead of the crate's source | every run |
//! | [`REF`] | the ref to test | every run |
//! | [`DOMAIN`] | the app's domain | every run |
//! | [`RESULTS_FILE`] | also write results.json here | every run |
//! | [`ROUTING`] | `traefik` or `host-port` | every run |
//! | [`PULL`] | `missing`, `always` or `never` | every run |
//! | [`CA_CERT`] | a certificate authority to trust for apps behind Traefik | every run |
//! | [`IPVS`] | whether the Swarm's host has IPVS (`yes`/`no`) | every run |
//! | [`SCREENSHOT`] | whether to take the app's screenshot (`yes`/`no`) | every run |
//! | [`UNTRUSTED`] | whether the head is untrusted (`yes`/`no`): its stack held to its own | every run |
//! | [`ALLOW`] | what an untrusted head may deploy beyond its own stack (`RULE:VALUE`, one a line or comma-separated) | every run |
//! | [`REGISTRY_DIR`] | the run registry's directory | runs, the janitor |
//! | [`KEEP`] | keep a red run's stack up this long | every run |
//! | [`IMAGE_BUILDER`] | the local image builder | every run |
//! | [`WITHHOLD`] | dependencies not to provide (comma-separated names) | every run |
//! | [`OIDC_DOMAIN`] | the warm OIDC provider's domain | every run, `cargo ccci deps` |
//! | [`LANE`] | `cold` (deploy from nothing) or `quick` (on the recipe's warm canonical) | every run |
//! | [`CANONICAL`] | `up`: test the latest release, and make or promote the recipe's canonical when green; `promote`: only promote one; `establish`: make it at the ref, with no ladder | `cargo ccci canonical up`, `sweep` |
//! | [`CANONICAL_DIR`] | where this host keeps its canonical deployments' records and snapshots | runs, `cargo ccci canonical` |
//! | [`UPGRADE_FROM`] | how many releases before the head each upgrade path starts from | every run |
//! | [`SET`] | settings on top of `ccci.yml`, one `key=value` a line | a test crate's run |
//! | [`JOURNAL_DIR`] | where runs note that they started and ended, for the run store | every run (writing), ccci-service (taking in) |
//! | [`DATABASE`] | the run store: a SQLite file or a `postgres://` URL | ccci-service |
//! | [`HANDOFF_DIR`] | where `cargo ccci` leaves a sweep and the canonicals for a caller that keeps the store, instead of starting `ccci-service` | `cargo ccci serve` (setting it), `cargo ccci` (honouring it) |
//! | [`FORGE_TOKEN`] | the forge account's token, for posting a run's status and report from a CI engine | ccci-service (`report --post`) |
//! | [`RECIPES`] | the directory of real recipe repositories (git bundles) | ccci's own tests |
//! | [`PRISM`] | the Prism CLI that serves the forge's OpenAPI description in the forge tests | ccci's own tests |
//! | [`TEST_POSTGRES`] | a PostgreSQL server the store's tests make databases in | ccci's own tests |
//! | [`ROLLBACK`] | end the run by rolling the app back to the release its upgrade started from (`yes`/`no`; default the recipe's `rollback`) | every run; `cargo ccci sweep` says `yes` |
//! | [`HOST`] | this host's name in what a run records (results.json, the run store); default the machine's | every run; `cargo ccci serve` sets it to its `host` |
//! | [`FLOOR`] | the floor script the floor benchmark compares a run with | `cargo bench --bench floor` |

/// Where run directories go.
pub const RUNS_DIR: &str = "CCCI_RUNS_DIR";
/// A recipe repository (URL or path) to test instead of the test crate's source.
pub const RECIPE_GIT: &str = "CCCI_RECIPE_GIT";
/// The ref to test: a tag, branch or commit.
pub const REF: &str = "CCCI_REF";
/// The app's domain.
pub const DOMAIN: &str = "CCCI_DOMAIN";
/// Another path to write results.json to.
pub const RESULTS_FILE: &str = "CCCI_RESULTS_FILE";
/// How apps are reached: `traefik` or `host-port`.
pub const ROUTING: &str = "CCCI_ROUTING";
/// When images are pulled: `missing`, `always` or `never`.
pub const PULL: &str = "CCCI_PULL";
/// A certificate authority (PEM file) to trust for apps behind Traefik.
pub const CA_CERT: &str = "CCCI_CA_CERT";
/// Whether the Swarm's host has IPVS: `yes` or `no`.
pub const IPVS: &str = "CCCI_IPVS";
/// Whether a run takes the app's screenshot before teardown: `yes` or `no`.
pub const SCREENSHOT: &str = "CCCI_SCREENSHOT";
/// Whether the head is untrusted input (`yes` or `no`; default `no`, `cargo ccci serve`
/// always `yes`): every deploy's merged stack is held to the run's own stack, domain and
/// checkout before anything is created.
pub const UNTRUSTED: &str = "CCCI_UNTRUSTED";
/// What the operator allows an untrusted head beyond its own stack, `RULE:VALUE` each
/// (`bind_mount:/var/run/docker.sock`), one a line or comma-separated.
pub const ALLOW: &str = "CCCI_ALLOW";
/// The resource limits an untrusted head's services get where the recipe sets none:
/// `memory=2G,cpus=1` (the default), or `none`.
pub const LIMITS: &str = "CCCI_LIMITS";
/// How many bytes of archives a backup may take (a size like `4G`, the default): a head's
/// snapshot streams to this host's disk.
pub const BACKUP_CAP: &str = "CCCI_BACKUP_CAP";
/// The run registry's directory.
pub const REGISTRY_DIR: &str = "CCCI_REGISTRY_DIR";
/// How long a red run's stack is kept up for debugging (a duration like `1h`).
pub const KEEP: &str = "CCCI_KEEP";
/// The local image builder, an executable.
pub const IMAGE_BUILDER: &str = "CCCI_IMAGE_BUILDER";
/// Dependencies a run does not provide though the recipe declares them (comma-separated
/// names as `deps` writes them): the run goes on without them and is red, naming each. For
/// proving that a recipe's tests notice.
pub const WITHHOLD: &str = "CCCI_WITHHOLD";
/// The domain of the warm OIDC provider runs use; default `ccci-oidc.` and the parent of the
/// app's domain.
pub const OIDC_DOMAIN: &str = "CCCI_OIDC_DOMAIN";
/// Which lane a run takes: `cold` (deploy from nothing, the whole ladder) or `quick` (the
/// head on the recipe's warm canonical deployment: upgrade, functional tests, back to
/// known-good).
pub const LANE: &str = "CCCI_LANE";
/// What a run does with the recipe's canonical deployment beside its ladder: `up` tests the
/// latest release (when no ref is given) and makes or promotes the canonical when the run is
/// green; `promote` does the same but only promotes a canonical that exists (the sweep);
/// `establish` deploys it at the ref without a ladder (the ref's cold run was green already).
pub const CANONICAL: &str = "CCCI_CANONICAL";
/// Where this host keeps its canonical deployments' records and known-good snapshots; default
/// `canonical` in ccci's state directory.
pub const CANONICAL_DIR: &str = "CCCI_CANONICAL_DIR";
/// How many releases before the head the upgrade rung starts from, each path in a deployment
/// of its own (`upgrade_from` in ccci.yml).
pub const UPGRADE_FROM: &str = "CCCI_UPGRADE_FROM";
/// Settings on top of a test crate's `ccci.yml`, one `key=value` a line (`--set`).
pub const SET: &str = "CCCI_SET";
/// The run journal's directory: where every run notes that it started and ended, for the run
/// store to take in.
pub const JOURNAL_DIR: &str = "CCCI_JOURNAL_DIR";
/// The run store: a SQLite file (or `sqlite://` URL) or a `postgres://` URL.
pub const DATABASE: &str = "CCCI_DATABASE";
/// Set by a caller that keeps the run store itself (`cargo ccci serve`): `cargo ccci` leaves
/// what it would hand to `ccci-service` in this directory ([`crate::wire::Handoff`]), and
/// starts no `ccci-service` of its own, so the two never call each other in a circle.
pub const HANDOFF_DIR: &str = "CCCI_HANDOFF_DIR";
/// The directory of real recipe repositories (git bundles) ccci's own tests run.
pub const RECIPES: &str = "CCCI_RECIPES";
/// A PostgreSQL server (an admin URL, of a role allowed to create databases) where ccci's own
/// tests of the run store make their databases.
pub const TEST_POSTGRES: &str = "CCCI_TEST_POSTGRES";
/// The Prism CLI (`prism`) that serves Gitea's OpenAPI description in ccci's forge tests,
/// validating every request against it.
pub const PRISM: &str = "CCCI_PRISM";
/// Whether a run ends by rolling the app back to the release its upgrade started from, as
/// `abra app rollback` does (`yes` or `no`; default the recipe's `rollback` in ccci.yml).
pub const ROLLBACK: &str = "CCCI_ROLLBACK";

/// This host's name in what a run records (results.json, the run journal and store): what
/// `cargo ccci serve` calls its host (`host:`), so that a job's page and its run's page name
/// one host; default the machine's host name. Never used to tell whether a process lives:
/// that is the machine's own name's job.
pub const HOST: &str = "CCCI_HOST";

/// The floor script (`../shared/bench/floor-custom-html`): the least a run of custom-html
/// could do, which `cargo bench -p ccci-harness --bench floor` compares ccci's run with.
pub const FLOOR: &str = "CCCI_FLOOR";
/// The forge account's token `cargo ccci report --post` posts with (a CI engine's secret).
pub const FORGE_TOKEN: &str = "CCCI_FORGE_TOKEN";
