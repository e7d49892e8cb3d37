//! One run of one recipe: setup, the install tier, fixtures for recipe tests, teardown and
//! results.json. The runner ([`crate::runner`]) drives it trial by trial.

use crate::fixture::{Fixtures, Http, Stack};
use ccci_abra::{AbraError, App, BuiltinEngine, DeployRequest, Deployer, Recipe};
use ccci_core::ladder::{rung_from_tests, Ladder, Rung, RungOutcome, TestStatus};
use ccci_core::meta::Source;
use ccci_core::results::{RefInfo, Results, Teardown, TestRecord, SCHEMA};
use ccci_core::{HookCtx, MetaError, OpState, RecipeMeta};
use ccci_swarm::{wait, Deadline, Swarm, SwarmError};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long teardown may take: `docker stack rm` needs ~16 s, a PID 1 ignoring SIGTERM 10 s more.
const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(120);

/// Where a run finds its recipe and puts its files. Built from the test crate and environment
/// overrides, so the same binary serves a maintainer, CI and other tools.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The recipe test crate (holds `ccci.yml`).
    pub crate_dir: PathBuf,
    /// Where run directories go (`CCCI_RUNS_DIR`, default `target/ccci/runs`).
    pub runs_dir: PathBuf,
    /// A recipe repository to test instead of `ccci.yml`'s source (`CCCI_RECIPE_GIT`).
    pub recipe_git: Option<String>,
    /// The ref to test (`CCCI_REF`); default the repository's HEAD.
    pub reference: Option<String>,
    /// The app domain (`CCCI_DOMAIN`); default `<4 letters of the recipe>-<6 hex>.ccci.test`.
    pub domain: Option<String>,
    /// Also write results.json here (`CCCI_RESULTS_FILE`).
    pub results_copy: Option<PathBuf>,
}

impl Settings {
    /// Settings for a recipe test crate, from its manifest dir and Cargo's target tmp dir,
    /// with the `CCCI_*` environment overrides applied.
    pub fn for_test_crate(manifest_dir: &str, target_tmpdir: &str) -> Settings {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let default_runs = Path::new(target_tmpdir)
            .parent()
            .unwrap_or(Path::new(target_tmpdir))
            .join("ccci")
            .join("runs");
        Settings {
            crate_dir: manifest_dir.into(),
            runs_dir: var("CCCI_RUNS_DIR")
                .map(PathBuf::from)
                .unwrap_or(default_runs),
            recipe_git: var("CCCI_RECIPE_GIT"),
            reference: var("CCCI_REF"),
            domain: var("CCCI_DOMAIN"),
            results_copy: var("CCCI_RESULTS_FILE").map(PathBuf::from),
        }
    }
}

/// Why a run could not set up or deploy. One line, naming the file, key or service and the fix.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// `ccci.yml` is missing or wrong.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The recipe or its deploy.
    #[error(transparent)]
    Abra(#[from] AbraError),
    /// The Swarm.
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let path = path.into();
    move |source| HarnessError::Io { path, source }
}

/// Reads the test crate's `ccci.yml`.
pub(crate) fn load_meta(crate_dir: &Path) -> Result<RecipeMeta, HarnessError> {
    let path = crate_dir.join("ccci.yml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        HarnessError::Other(format!(
            "{}: {e}: every recipe test crate has a ccci.yml naming its recipe and source",
            path.display()
        ))
    })?;
    Ok(RecipeMeta::from_yaml(&path.display().to_string(), &text)?)
}

enum Install {
    NotTried,
    Failed(String),
    Ready(Arc<Fixtures>),
}

struct Deployment {
    engine: BuiltinEngine,
    app: App,
}

struct State {
    meta: Option<Arc<RecipeMeta>>,
    run_dir: Option<PathBuf>,
    install: Install,
    deployment: Option<Deployment>,
    head: Option<RefInfo>,
    domain: String,
    stack: String,
    records: Vec<TestRecord>,
}

/// One run. Trials call into it one at a time (the runner forces one test thread: tiers are
/// ordered and share one deployed app).
pub(crate) struct Run {
    settings: Settings,
    rt: tokio::runtime::Runtime,
    started: SystemTime,
    run_id: String,
    state: Mutex<State>,
}

impl Run {
    pub(crate) fn new(settings: Settings) -> Result<Run, HarnessError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| HarnessError::Other(format!("cannot start the async runtime: {e}")))?;
        let started = SystemTime::now();
        let secs = started
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let stamp: String = ccci_core::time::rfc3339(secs)
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let run_id = format!("{}-{}", stamp, random_hex(6));
        Ok(Run {
            settings,
            rt,
            started,
            run_id,
            state: Mutex::new(State {
                meta: None,
                run_dir: None,
                install: Install::NotTried,
                deployment: None,
                head: None,
                domain: String::new(),
                stack: String::new(),
                records: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The install tier: set up, deploy the head, wait until converged and healthy (R11)
    /// within the recipe's deploy_timeout (R12). Runs once; later calls return its outcome.
    pub(crate) fn ensure_installed(&self) -> Result<Arc<Fixtures>, String> {
        if let Some(r) = self.installed() {
            return r;
        }
        let result = self.rt.block_on(self.install());
        let mut st = self.lock();
        match result {
            Ok(fx) => {
                st.install = Install::Ready(fx.clone());
                Ok(fx)
            }
            Err(e) => {
                let msg = e.to_string();
                st.install = Install::Failed(msg.clone());
                Err(msg)
            }
        }
    }

    fn installed(&self) -> Option<Result<Arc<Fixtures>, String>> {
        match &self.lock().install {
            Install::NotTried => None,
            Install::Failed(m) => Some(Err(m.clone())),
            Install::Ready(fx) => Some(Ok(fx.clone())),
        }
    }

    async fn install(&self) -> Result<Arc<Fixtures>, HarnessError> {
        let meta = Arc::new(load_meta(&self.settings.crate_dir)?);
        let run_dir = self
            .settings
            .runs_dir
            .join(format!("{}-{}", meta.recipe, self.run_id));
        std::fs::create_dir_all(&run_dir).map_err(io(&run_dir))?;
        {
            let mut st = self.lock();
            st.meta = Some(meta.clone());
            st.run_dir = Some(run_dir.clone());
        }
        let swarm = Swarm::connect().await?;

        // R21: the run's own recipe tree, never a shared checkout.
        let recipe_dir = run_dir.join("abra/recipes").join(&meta.recipe);
        let recipe = match (&self.settings.recipe_git, &meta.source) {
            (Some(url), _) | (None, Source::Git(url)) => {
                Recipe::clone_from(&meta.recipe, url, &recipe_dir)?
            }
            (None, Source::Releases(dir)) => Recipe::from_release_dirs(
                &meta.recipe,
                &self.settings.crate_dir.join(dir),
                &recipe_dir,
            )?,
        };
        let reference = self
            .settings
            .reference
            .clone()
            .unwrap_or_else(|| "HEAD".into());
        let commit = recipe.resolve(&reference).map_err(|e| HarnessError::Other(format!("ref `{reference}` is not in the recipe repository ({e}): set CCCI_REF to a tag, branch or commit of it")))?;
        recipe.checkout(&commit)?;
        let release = recipe
            .releases()?
            .into_iter()
            .find(|r| r.commit == commit && r.annotated);
        let head = RefInfo {
            reference,
            commit,
            version: release.as_ref().map(|r| r.version.to_string()),
        };

        let domain = match &self.settings.domain {
            Some(d) => d.clone(),
            None => default_domain(&meta.recipe),
        };
        let app = App::new(
            &recipe,
            &domain,
            &run_dir.join("abra/servers/local"),
            &meta.extra_env,
        )?;
        {
            let mut st = self.lock();
            st.head = Some(head.clone());
            st.domain = app.domain.clone();
            st.stack = app.stack.clone();
        }
        let engine = BuiltinEngine::local(swarm.clone(), &run_dir.join("stacks"), &meta.service)?;
        eprintln!(
            "ccci: deploying {} {} ({}) as {} (stack {})",
            meta.recipe,
            head.version.as_deref().unwrap_or("unreleased"),
            &head.commit[..head.commit.len().min(8)],
            app.domain,
            app.stack
        );

        let deployed = {
            let req = DeployRequest {
                app: &app,
                recipe: &recipe,
                release: release.as_ref().map(|r| &r.version),
            };
            let result = engine.deploy(req).await;
            // From here on teardown must run, whatever the deploy did.
            self.lock().deployment = Some(Deployment {
                engine,
                app: app.clone(),
            });
            result?
        };

        let deadline = Deadline::after(meta.deploy_timeout);
        match &deployed.base_url {
            Some(base) => {
                let url = format!("{base}{}", meta.health_path);
                let took =
                    wait::wait_healthy(&swarm, &app.stack, &url, &meta.health_ok, deadline).await?;
                eprintln!(
                    "ccci: {} is healthy after {:.1}s ({url})",
                    app.stack,
                    took.as_secs_f64()
                );
            }
            None => {
                let took = wait::wait_converged(&swarm, &app.stack, deadline).await?;
                eprintln!(
                    "ccci: {} converged after {:.1}s (no HTTP route to probe)",
                    app.stack,
                    took.as_secs_f64()
                );
            }
        }

        let base_url = deployed.base_url.clone().unwrap_or_default();
        let ctx = HookCtx {
            domain: app.domain.clone(),
            base_url: base_url.clone(),
            meta: meta.clone(),
            deps: Default::default(),
            op: None,
        };
        let http =
            match &deployed.base_url {
                Some(b) => Some(Http::new(b).map_err(|e| {
                    HarnessError::Other(format!("cannot build the HTTP client: {e}"))
                })?),
                None => None,
            };
        Ok(Arc::new(Fixtures {
            ctx,
            op_state: Arc::new(OpState::default()),
            stack: Stack {
                swarm,
                name: app.stack.clone(),
            },
            http,
        }))
    }

    /// Records a test's outcome.
    pub(crate) fn record(&self, name: &str, rung: Rung, status: TestStatus, took: Duration) {
        self.lock().records.push(TestRecord {
            name: name.into(),
            rung,
            status,
            duration_ms: took.as_millis() as u64,
        });
    }

    /// Runs a recipe test on the run's fixtures.
    pub(crate) fn run_test(&self, def: &crate::__private::TestDef, fx: &Fixtures) -> crate::Result {
        self.rt.block_on((def.run)(fx))
    }

    /// Tears down, concludes the ladder and writes results.json. `all` are every trial's
    /// (name, rung), so the ones that never ran are recorded as filtered out.
    pub(crate) fn finish(&self, all: &[(String, Rung)]) -> Option<(Results, PathBuf)> {
        let teardown = self.teardown();
        let mut st = self.lock();
        let meta = st.meta.clone()?;
        let run_dir = st.run_dir.clone()?;
        for (name, rung) in all {
            if !st.records.iter().any(|r| &r.name == name) {
                st.records.push(TestRecord {
                    name: name.clone(),
                    rung: *rung,
                    status: TestStatus::Filtered,
                    duration_ms: 0,
                });
            }
        }
        let mut ladder = Ladder::default();
        for rung in Rung::ALL {
            let tests: Vec<(&str, &TestStatus)> = st
                .records
                .iter()
                .filter(|r| r.rung == rung)
                .map(|r| (r.name.as_str(), &r.status))
                .collect();
            let declared = meta.expected_na.get(&rung).map(String::as_str);
            let outcome = match rung {
                Rung::Upgrade | Rung::BackupRestore if tests.is_empty() => match declared {
                    Some(reason) => RungOutcome::Skipped {
                        reason: reason.into(),
                        intentional: true,
                    },
                    None => RungOutcome::Skipped {
                        reason: format!("this ccci version does not run the {rung} tier yet"),
                        intentional: false,
                    },
                },
                _ => rung_from_tests(rung, &tests, declared),
            };
            ladder.set(rung, outcome);
        }
        let finished = SystemTime::now();
        let secs = |t: SystemTime| {
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let results = Results {
            schema: SCHEMA.into(),
            run_id: self.run_id.clone(),
            recipe: meta.recipe.clone(),
            head: st.head.clone().unwrap_or(RefInfo {
                reference: "HEAD".into(),
                commit: String::new(),
                version: None,
            }),
            upgrade_base: None,
            domain: st.domain.clone(),
            stack: st.stack.clone(),
            deployer: "builtin".into(),
            started_at: ccci_core::time::rfc3339(secs(self.started)),
            finished_at: ccci_core::time::rfc3339(secs(finished)),
            duration_secs: finished
                .duration_since(self.started)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0),
            level: ccci_core::ladder::Level(0),
            level_cap_rung: None,
            verdict: ccci_core::Verdict::Red,
            verdict_reasons: vec![],
            rungs: Default::default(),
            skips: Default::default(),
            tests: st.records.clone(),
            teardown,
            run_dir: run_dir.display().to_string(),
        }
        .conclude(&ladder);
        let path = run_dir.join("results.json");
        let json = serde_json::to_string_pretty(&results).ok()?;
        if let Err(e) = std::fs::write(&path, &json) {
            eprintln!("ccci: cannot write {}: {e}", path.display());
        }
        if let Some(copy) = &self.settings.results_copy {
            if let Err(e) = std::fs::write(copy, &json) {
                eprintln!("ccci: cannot write {}: {e}", copy.display());
            }
        }
        Some((results, path))
    }

    fn teardown(&self) -> Teardown {
        let Some(d) = self.lock().deployment.take() else {
            return Teardown {
                clean: true,
                leftovers: vec![],
                error: None,
            };
        };
        let started = Instant::now();
        let result = self.rt.block_on(d.engine.remove(&d.app, TEARDOWN_TIMEOUT));
        eprintln!(
            "ccci: removed stack {} in {:.1}s",
            d.app.stack,
            started.elapsed().as_secs_f64()
        );
        match result {
            Ok(left) => Teardown {
                clean: left.is_empty(),
                leftovers: left,
                error: None,
            },
            Err(e) => {
                // Report what is still there even when removal failed part-way.
                let left = self
                    .rt
                    .block_on(d.engine.swarm().leftovers(&d.app.stack))
                    .unwrap_or_default();
                Teardown {
                    clean: false,
                    leftovers: left,
                    error: Some(e.to_string()),
                }
            }
        }
    }
}

/// `<up to 4 letters of the recipe>-<6 hex>.ccci.test`: short, so that
/// `<stack>_<secret>_<version>` stays well under Swarm's 64 characters (R23).
fn default_domain(recipe: &str) -> String {
    let prefix: String = recipe
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_lowercase();
    format!(
        "{}-{}.ccci.test",
        if prefix.is_empty() {
            "app".into()
        } else {
            prefix
        },
        random_hex(6)
    )
}

fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n.div_ceil(2)];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_ok();
    if !ok {
        // Not security-relevant: only keeps concurrent runs apart.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
            ^ std::process::id();
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (t >> (i % 4 * 8)) as u8);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect::<String>()[..n].to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_domains_are_short_and_valid() {
        let d = super::default_domain("custom-html");
        assert!(
            d.starts_with("cust-") && d.ends_with(".ccci.test") && d.len() == 21,
            "{d}"
        );
        ccci_abra::stack_name(&d).unwrap();
        assert!(super::default_domain("--").starts_with("app-"));
    }
}
