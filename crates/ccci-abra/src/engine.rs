//! The built-in engine: abra's job on any Swarm, with the docker CLI and the Engine API.
//!
//! A deploy: export the app's env (the docker CLI does not read `.env`), merge the
//! `COMPOSE_FILE` overlays with `docker stack config`, render the stack ([`crate::render`]),
//! check images and names, create the external network `proxy` and the app's versioned
//! secrets if missing, write the stack file into the run directory, and
//! `docker stack deploy` exactly that file. Nothing is created before every check passed.

use crate::app::App;
use crate::backup::Snapshot;
use crate::deployer::{BoxFuture, DeployRequest, Deployed, Deployer};
use crate::env::abra_sh_exports;
use crate::error::{io, AbraError};
use crate::recipe::Recipe;
use crate::render::{render, RenderInput};
use ccci_core::results::Routing;
use ccci_swarm::{wait, Deadline, Swarm, Via};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment passed through to the docker CLI; everything else is cleared so a deploy
/// depends only on the app's `.env`.
const PASS_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
];

/// Default length of generated secrets without a `# length=N` hint.
const DEFAULT_SECRET_LENGTH: usize = 32;

/// When the engine pulls a stack's images onto the node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pull {
    /// Only images the node does not have (a server's usual behaviour).
    #[default]
    Missing,
    /// Every image, at every deploy: a moving tag is fetched again.
    Always,
    /// None: a missing image is an error (hosts that must not reach a registry).
    Never,
}

impl Pull {
    /// `missing`, `always` or `never`, as the command line and [`PULL`](ccci_core::vars::PULL) write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Pull::Missing => "missing",
            Pull::Always => "always",
            Pull::Never => "never",
        }
    }
}

impl std::str::FromStr for Pull {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "missing" => Ok(Pull::Missing),
            "always" => Ok(Pull::Always),
            "never" => Ok(Pull::Never),
            other => Err(format!(
                "pull `{other}`: say `missing` (the default: only images the node lacks), `always` or `never`"
            )),
        }
    }
}

/// How ccci reaches the apps it deploys: the route with what taking it needs (Traefik's
/// address and authority). Its name, as results.json and the command line say it, is
/// [`Reach::routing`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Through the Traefik serving `proxy`, at `https://<domain>`: the stack is deployed as the
    /// recipe wrote it (but for what the host lacks), its routers and middlewares in force.
    Traefik(ccci_swarm::Proxy),
    /// Without Traefik: the web service is published on a free port of the Swarm's host and
    /// reached at `http://<host>:<port>`; the recipe's Traefik labels go unused.
    HostPort,
}

impl Reach {
    /// The route's name: [`Routing::Traefik`] or [`Routing::HostPort`].
    pub fn routing(&self) -> Routing {
        match self {
            Reach::Traefik(_) => Routing::Traefik,
            Reach::HostPort => Routing::HostPort,
        }
    }
}

/// The head's merged stack held to what an untrusted run may deploy, before anything is
/// created: its own stack, its domain and its subdomains, its checkout's files.
fn refuse_untrusted(
    merged: &str,
    app: &App,
    recipe: &Recipe,
    allow: &[crate::policy::Allowance],
) -> Result<(), AbraError> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(merged)
        .map_err(|e| AbraError::HostFault(format!("merged compose is not YAML: {e}")))?;
    let domains = [app.domain.clone()];
    let own = crate::policy::Own {
        stack: &app.stack,
        domains: &domains,
        checkout: &recipe.dir,
    };
    let refusals = crate::policy::check(&doc, &own, allow);
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(AbraError::Untrusted { refusals })
    }
}

/// Deploys apps with the docker CLI and the Engine API. Cheap to clone.
#[derive(Clone)]
pub struct BuiltinEngine {
    swarm: Swarm,
    docker: PathBuf,
    reach: Reach,
    ipvs: bool,
    pull: Pull,
    stacks_dir: PathBuf,
    main_service: String,
    local_images: Option<crate::images::LocalImages>,
    docker_provider_as: Option<String>,
    service_labels: Vec<(String, String)>,
    /// The host port the app is published on (host-port reach), chosen free at the first
    /// deploy and kept for every later one, as a server keeps an app's address.
    published: std::sync::Arc<std::sync::Mutex<Option<u16>>>,
    /// Values for the app's own secrets, by the secret's name (`SECRET_<NAME>_VERSION`,
    /// lower case), instead of generated ones.
    secret_values: BTreeMap<String, String>,
    /// The value of every secret this engine created, kept so that a picture of the app can
    /// be kept free of them.
    made: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Set for an untrusted head: what its operator allows it beyond its own stack. Every
    /// deploy is then checked ([`crate::policy`]) before anything is created.
    untrusted: Option<Vec<crate::policy::Allowance>>,
    /// What an untrusted head's services get where they set no limits.
    default_limits: Option<ccci_core::policy::Limits>,
    /// How many bytes of archives a snapshot may hold.
    archive_cap: u64,
}

impl BuiltinEngine {
    /// An engine for a host without IPVS or Traefik (a laptop, CI): apps are published on a
    /// free port of the host. Stack files are kept under `stacks_dir`.
    pub fn local(swarm: Swarm, stacks_dir: &Path, main_service: &str) -> Result<Self, AbraError> {
        let ipvs = ccci_swarm::route::local_ipvs();
        Self::new(swarm, stacks_dir, main_service, Reach::HostPort, ipvs)
    }

    /// An engine that reaches apps as `reach` says, on a host with or without IPVS.
    pub fn new(
        swarm: Swarm,
        stacks_dir: &Path,
        main_service: &str,
        reach: Reach,
        ipvs: bool,
    ) -> Result<Self, AbraError> {
        let docker = docker_cli_path()?;
        std::fs::create_dir_all(stacks_dir).map_err(io(stacks_dir))?;
        Ok(BuiltinEngine {
            swarm,
            docker,
            reach,
            ipvs,
            pull: Pull::Missing,
            local_images: None,
            published: Default::default(),
            secret_values: BTreeMap::new(),
            made: Default::default(),
            untrusted: None,
            default_limits: Some(ccci_core::policy::Limits::default()),
            archive_cap: crate::backup::ARCHIVE_CAP,
            docker_provider_as: None,
            service_labels: Vec::new(),
            stacks_dir: stacks_dir.into(),
            main_service: main_service.into(),
        })
    }

    /// How it reaches apps.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// The same engine, building the images `local` declares when the node lacks them
    /// (before any pull: see [`crate::images`]).
    pub fn with_local_images(mut self, local: Option<crate::images::LocalImages>) -> Self {
        self.local_images = local;
        self
    }

    /// Stamps `labels` on every service of every deploy (`ccci.canonical=<recipe>` marks a
    /// canonical deployment as ccci's, kept beyond any run).
    pub fn with_service_labels(mut self, labels: Vec<(String, String)>) -> Self {
        self.service_labels = labels;
        self
    }

    /// The same engine, reading a recipe's `<name>@docker` Traefik references as
    /// `<name>@<provider>` when it routes through Traefik (see [`RenderInput`]).
    pub fn with_docker_provider_as(mut self, provider: Option<String>) -> Self {
        self.docker_provider_as = provider;
        self
    }

    /// The same engine, deploying an untrusted head: every deploy's merged stack is checked
    /// against [`crate::policy`] before anything is created, less what `allow` allows.
    pub fn untrusted(mut self, allow: Vec<crate::policy::Allowance>) -> Self {
        self.untrusted = Some(allow);
        self
    }

    /// The same engine, giving an untrusted head's services `limits` where they set none
    /// (default [`ccci_core::policy::Limits::default`]; `None` or `none`: no limits).
    pub fn with_default_limits(mut self, limits: Option<ccci_core::policy::Limits>) -> Self {
        self.default_limits = limits;
        self
    }

    /// The same engine, taking snapshots of at most `cap` bytes of archives (default
    /// [`crate::backup::ARCHIVE_CAP`]).
    pub fn with_archive_cap(mut self, cap: u64) -> Self {
        self.archive_cap = cap;
        self
    }

    /// The values of the secrets this engine (or a clone of it) created, for whatever must
    /// never show them.
    pub fn secrets_made(&self) -> Vec<String> {
        self.made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The same engine, creating the app's secrets named in `values` (by the name
    /// `SECRET_<NAME>_VERSION` gives them, lower case) with those values instead of
    /// generated ones: credentials a dependency provided, say.
    pub fn with_secret_values(mut self, values: BTreeMap<String, String>) -> Self {
        self.secret_values = values;
        self
    }

    /// The same engine, pulling images as `pull` says.
    pub fn with_pull(mut self, pull: Pull) -> Self {
        self.pull = pull;
        self
    }

    /// Runs the docker CLI in `dir` with only [`PASS_ENV`] and `env`, until `deadline`.
    async fn docker(
        &self,
        dir: &Path,
        args: &[&str],
        env: &BTreeMap<String, String>,
        deadline: Deadline,
    ) -> Result<String, AbraError> {
        run_docker(&self.docker, dir, args, env, deadline).await
    }

    /// A deploy, in the order its steps run: the compose chain is all there; on a host port,
    /// the app's port is chosen; the chain is merged as `docker stack config` merges it and
    /// rendered for this Swarm ([`render`]); every image is had before anything is created;
    /// external networks and the app's secrets are made; the stack file is written and
    /// deployed; and where the app answers is worked out.
    async fn deploy_inner(&self, req: DeployRequest<'_>) -> Result<Deployed, AbraError> {
        let recipe = req.recipe;
        let files = req.app.compose_files();
        compose_chain_present(req.app, recipe, &files)?;
        let app = req.app;
        let port = self.publish_port()?;
        let merged = self
            .merged_compose(app, recipe, &files, req.deadline)
            .await?;
        if let Some(allow) = &self.untrusted {
            refuse_untrusted(&merged, app, recipe, allow)?;
        }
        let chaos = match (req.release, req.force_chaos) {
            (Some(_), false) => None,
            _ => Some(recipe.chaos_version(req.deadline)?),
        };
        let input = RenderInput {
            stack: &app.stack,
            recipe: &recipe.name,
            service: &self.main_service,
            version: req.release.map(ToString::to_string),
            chaos: chaos.clone(),
            host_port: port,
            domain: &app.domain,
            ipvs: self.ipvs,
            docker_provider_as: self.docker_provider_as.as_deref(),
            service_labels: &self.service_labels,
            default_limits: self
                .untrusted
                .as_ref()
                .and(self.default_limits.as_ref())
                .filter(|l| !l.is_none()),
        };
        let rendered = render(&merged, &input)?;
        self.ensure_images(&rendered.images, req.deadline).await?;
        for net in &rendered.external_networks {
            self.ensure_network(net, req.deadline).await?;
        }
        self.ensure_secrets(app, &rendered.external_secrets).await?;
        self.stack_deploy(app, recipe, &rendered.yaml, req.deadline)
            .await?;
        let (base_url, via) = self.answers_at(app, port, rendered.web.is_some())?;
        Ok(Deployed {
            base_url,
            via,
            changes: rendered.changes,
            chaos_version: chaos,
            compose_files: files,
            ignored: rendered.ignored,
            stop_grace: rendered.stop_grace,
            run_specs: rendered.run_specs,
        })
    }

    /// On a host port: the app's published port, chosen free at the first deploy and the
    /// same at every later one.
    fn publish_port(&self) -> Result<Option<u16>, AbraError> {
        if self.reach != Reach::HostPort {
            return Ok(None);
        }
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let port = match *published {
            Some(p) => p,
            None => free_port()?,
        };
        *published = Some(port);
        Ok(Some(port))
    }

    /// The compose chain merged as abra merges it ([`merge_invocation`]).
    async fn merged_compose(
        &self,
        app: &App,
        recipe: &Recipe,
        files: &[String],
        deadline: Deadline,
    ) -> Result<String, AbraError> {
        let (args, env) = merge_invocation(app, recipe, files);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.docker(&recipe.dir, &args, &env, deadline).await
    }

    /// Every image the stack uses, resolved from the merged compose files and env, had
    /// before anything is created: a missing one is a clear error now, not a converge
    /// timeout later [R14]. A declared local image is built (or found up to date); other
    /// missing ones are pulled (every one, with `pull: always`), the way the node of a
    /// server gets them; each that cannot be had is named, with why.
    async fn ensure_images(
        &self,
        images: &[(String, String)],
        deadline: Deadline,
    ) -> Result<(), AbraError> {
        let mut unavailable: Vec<(String, String, Option<ccci_swarm::PullFailure>)> = Vec::new();
        let mut had = std::collections::BTreeSet::new();
        for (service, image) in images {
            if had.contains(image) {
                continue;
            }
            // One attempt per image, however many services use it.
            if let Some(why) = unavailable
                .iter()
                .find(|u| &u.1 == image)
                .map(|u| u.2.clone())
            {
                unavailable.push((service.clone(), image.clone(), why));
                continue;
            }
            let present = self.swarm.image_exists(image).await?;
            if let Some(local) = self.local_images.as_ref().filter(|l| l.declares(image)) {
                // A declared image is this host's own: built (or found up to date), never pulled.
                if !(present && local.is_ready(image)) {
                    build_local(local, service, image, present).await?;
                }
                had.insert(image.clone());
                continue;
            }
            if present && self.pull != Pull::Always {
                continue;
            }
            if self.pull == Pull::Never {
                unavailable.push((service.clone(), image.clone(), None));
                continue;
            }
            let started = std::time::Instant::now();
            eprintln!("ccci: pulling {image} (service {service})");
            match self.swarm.pull(image, deadline).await {
                Ok(()) => {
                    eprintln!(
                        "ccci: pulled {image} in {:.1}s",
                        started.elapsed().as_secs_f64()
                    );
                    had.insert(image.clone());
                }
                Err(why) => unavailable.push((service.clone(), image.clone(), Some(why))),
            }
        }
        match unavailable.is_empty() {
            true => Ok(()),
            false => Err(AbraError::ImagesUnavailable {
                images: unavailable,
            }),
        }
    }

    /// Creates the app's own external secrets that do not exist yet (`<stack>_…`, generated
    /// as `.env.sample`'s hints say); any other external secret must already exist.
    async fn ensure_secrets(&self, app: &App, names: &[String]) -> Result<(), AbraError> {
        let mut to_create = Vec::new();
        for name in names {
            if self.swarm.secret_exists(name).await? {
                continue;
            }
            if !name.starts_with(&format!("{}_", app.stack)) {
                return Err(AbraError::Recipe(format!(
                    "external secret `{name}` does not exist and is not the app's own (`{}_…`): create it with `docker secret create {name} -`",
                    app.stack
                )));
            }
            let given = secret_name(app, name).and_then(|n| self.secret_values.get(&n));
            let value = match given {
                Some(v) => v.clone(),
                None => {
                    let (len, charset) = secret_spec(app, name)?;
                    random_secret(len, charset)?
                }
            };
            to_create.push((name.clone(), value));
        }
        for (name, value) in to_create {
            self.swarm
                .create_secret(&app.stack, &name, value.as_bytes())
                .await?;
            self.made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(value);
        }
        Ok(())
    }

    /// Writes the rendered stack as the run's next stack file (`NN-<stack>.yml`) and deploys
    /// it, images as they are on the node.
    async fn stack_deploy(
        &self,
        app: &App,
        recipe: &Recipe,
        yaml: &str,
        deadline: Deadline,
    ) -> Result<(), AbraError> {
        let n = std::fs::read_dir(&self.stacks_dir)
            .map(|d| d.count())
            .unwrap_or(0);
        let stack_file = self
            .stacks_dir
            .join(format!("{:02}-{}.yml", n + 1, app.stack));
        std::fs::write(&stack_file, yaml).map_err(io(&stack_file))?;
        let file = stack_file.to_string_lossy().into_owned();
        let args = [
            "stack",
            "deploy",
            "--prune",
            "--resolve-image",
            "never",
            "-c",
            &file,
            &app.stack,
        ];
        self.docker(&recipe.dir, &args, &BTreeMap::new(), deadline)
            .await
            .map(drop)
            .map_err(|e| match &e {
                AbraError::Process(ccci_process::ProcessError::Command { stderr, .. }) => {
                    immutable_refusal(stderr, &app.stack).unwrap_or(e)
                }
                _ => e,
            })
    }

    /// Where `app`, already deployed with a web route, answers through Traefik: for a
    /// deployment this process did not deploy (a canonical one). `None` on a host port,
    /// whose port only the deploy knows.
    pub fn answers_through_traefik(&self, app: &App) -> Result<(Option<String>, Via), AbraError> {
        match self.reach {
            Reach::Traefik(_) => self.answers_at(app, None, true),
            Reach::HostPort => Ok((None, Via::direct())),
        }
    }

    /// Where an app with a web route answers, and how a client gets there: its host port,
    /// or its domain through Traefik (resolved to Traefik's address, its CA trusted).
    fn answers_at(
        &self,
        app: &App,
        port: Option<u16>,
        web: bool,
    ) -> Result<(Option<String>, Via), AbraError> {
        let host = self.swarm.node_host();
        Ok(match (&self.reach, port, web) {
            (Reach::HostPort, Some(p), true) => (Some(format!("http://{host}:{p}")), Via::direct()),
            (Reach::Traefik(proxy), _, true) => {
                let addr = ccci_swarm::route::socket_addr(&host, proxy.https_port)
                    .map_err(AbraError::HostFault)?;
                let port = match proxy.https_port {
                    443 => String::new(),
                    p => format!(":{p}"),
                };
                let via = Via {
                    resolve: Some((app.domain.clone(), addr)),
                    also: Vec::new(),
                    ca_pem: proxy.ca_pem.clone(),
                };
                (Some(format!("https://{}{port}", app.domain)), via)
            }
            _ => (None, Via::direct()),
        })
    }

    /// Creates `proxy`, the network Traefik shares with every app, when it is missing; any
    /// other external network must already exist.
    async fn ensure_network(&self, name: &str, deadline: Deadline) -> Result<(), AbraError> {
        let exists = self
            .docker(
                Path::new("/"),
                &["network", "inspect", "--format", "{{.Name}}", name],
                &BTreeMap::new(),
                deadline,
            )
            .await
            .is_ok();
        if exists {
            return Ok(());
        }
        if name != "proxy" {
            return Err(AbraError::Recipe(format!(
                "the stack joins external network `{name}`, which does not exist: create it with `docker network create --driver overlay --attachable {name}`"
            )));
        }
        self.docker(
            Path::new("/"),
            &[
                "network",
                "create",
                "--driver",
                "overlay",
                "--attachable",
                "--label",
                "ccci.infrastructure=true",
                name,
            ],
            &BTreeMap::new(),
            deadline,
        )
        .await?;
        Ok(())
    }

    async fn remove_inner(&self, app: &App, deadline: Deadline) -> Result<Vec<String>, AbraError> {
        remove_stack(&self.swarm, &app.stack, deadline).await
    }
}

/// Every file of the app's `COMPOSE_FILE` is in the recipe's checkout.
fn compose_chain_present(app: &App, recipe: &Recipe, files: &[String]) -> Result<(), AbraError> {
    for f in files {
        if !recipe.path(f).is_file() {
            let fix = if f == "compose.yml" {
                "every Co-op Cloud recipe has one: it is the stack abra deploys, before any overlay"
                    .to_string()
            } else {
                format!(
                    "COMPOSE_FILE in {} names it; add the file or fix COMPOSE_FILE",
                    app.env_path.display()
                )
            };
            return Err(AbraError::MissingFile {
                recipe: recipe.name.clone(),
                file: f.clone(),
                path: recipe.path(f),
                fix,
            });
        }
    }
    Ok(())
}

/// Builds the declared local `image` for `service`, saying so and how long it took.
async fn build_local(
    local: &crate::images::LocalImages,
    service: &str,
    image: &str,
    present: bool,
) -> Result<(), AbraError> {
    let started = std::time::Instant::now();
    eprintln!(
        "ccci: building {image} (service {service}) with {}{}",
        local.builder().display(),
        if present { "" } else { " on first use" }
    );
    local.build(image).await?;
    eprintln!(
        "ccci: image {image} ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The docker CLI on PATH: stacks are deployed and removed with it.
fn docker_cli_path() -> Result<PathBuf, AbraError> {
    which::which("docker").map_err(|_| {
        AbraError::HostFault("the docker CLI is not on PATH: install it (scripts/local-swarm does), the built-in engine deploys and removes stacks with it".into())
    })
}

/// `docker args…` in `dir` with only [`PASS_ENV`] and `env`, and how it is shown.
fn docker_command(
    docker: &Path,
    dir: &Path,
    args: &[&str],
    env: &BTreeMap<String, String>,
) -> (std::process::Command, String) {
    let mut cmd = ccci_process::command(docker);
    cmd.args(args).current_dir(dir).env_clear();
    for k in PASS_ENV {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    cmd.envs(env);
    (cmd, format!("docker {}", args.join(" ")))
}

/// Runs `docker args…` in `dir` with only [`PASS_ENV`] and `env`, until `deadline`.
async fn run_docker(
    docker: &Path,
    dir: &Path,
    args: &[&str],
    env: &BTreeMap<String, String>,
    deadline: Deadline,
) -> Result<String, AbraError> {
    let (cmd, shown) = docker_command(docker, dir, args, env);
    Ok(ccci_process::run_async(cmd, shown, deadline, "").await?)
}

/// The docker CLI's refusal to change a config or secret in place (`failed to update config
/// <name>: … only updates to Labels are allowed`), as the one line that says what to bump; or
/// a service's mode (`failed to update service <name>: … service mode change is not
/// allowed`), as the one line that says what to keep.
/// The CLI says it only in words: they are read here, at the boundary, and nowhere else.
fn immutable_refusal(stderr: &str, stack: &str) -> Option<AbraError> {
    if stderr.contains("service mode change is not allowed") {
        let rest = &stderr
            [stderr.find("failed to update service ")? + "failed to update service ".len()..];
        let service = rest.split([':', ' ']).next()?.to_string();
        return Some(AbraError::ModeChange { service });
    }
    if !stderr.contains("only updates to Labels are allowed") {
        return None;
    }
    let rest = &stderr[stderr.find("failed to update ")? + "failed to update ".len()..];
    let (kind, rest) = rest.split_once(' ')?;
    if !matches!(kind, "config" | "secret") {
        return None;
    }
    let name = rest.split([':', ' ']).next()?.to_string();
    let unversioned = name.strip_prefix(&format!("{stack}_")).unwrap_or(&name);
    let key = unversioned
        .rsplit_once('_')
        .map_or(unversioned, |(key, _version)| key)
        .to_string();
    let variable = match kind {
        "secret" => format!("SECRET_{}_VERSION", key.to_uppercase()),
        _ => format!("{}_VERSION", key.to_uppercase()),
    };
    Some(AbraError::Immutable {
        kind: kind.into(),
        name,
        key,
        variable,
    })
}

/// How abra merges an app's compose chain: `docker stack config` over the files of
/// `COMPOSE_FILE`, with the recipe's `abra.sh` exports, the app's env and `STACK_NAME`
/// (argv and environment, run in the recipe's directory).
fn merge_invocation(
    app: &App,
    recipe: &Recipe,
    files: &[String],
) -> (Vec<String>, BTreeMap<String, String>) {
    let mut env = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(recipe.path("abra.sh")) {
        env.extend(abra_sh_exports(&text));
    }
    env.extend(app.env.to_map());
    env.insert("STACK_NAME".into(), app.stack.clone());
    let mut args = vec!["stack".to_string(), "config".to_string()];
    for f in files {
        args.extend(["-c".to_string(), f.clone()]);
    }
    (args, env)
}

/// Holds an app's compose chain at its checkout, merged, to what an untrusted head may
/// deploy ([`crate::policy`]), with no Swarm: what `cargo ccci lint --untrusted` asks, and
/// what every untrusted deploy checks before it creates anything.
///
/// # Errors
/// [`AbraError::Untrusted`] naming every refusal; the docker CLI's error when the chain
/// cannot be merged.
pub fn check_untrusted(
    app: &App,
    recipe: &Recipe,
    allow: &[crate::policy::Allowance],
    deadline: Deadline,
) -> Result<(), AbraError> {
    refuse_untrusted(&merged(app, recipe, deadline)?, app, recipe, allow)
}

/// `app`'s compose chain at the recipe's checkout, merged and interpolated as abra merges it
/// (`docker stack config`, which needs no daemon).
///
/// # Errors
/// The docker CLI's, when the chain cannot be merged.
pub fn merged(app: &App, recipe: &Recipe, deadline: Deadline) -> Result<String, AbraError> {
    let (args, env) = merge_invocation(app, recipe, &app.compose_files());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (cmd, shown) = docker_command(&docker_cli_path()?, &recipe.dir, &args, &env);
    Ok(ccci_process::run(cmd, shown, deadline, "")?)
}

/// How long removal waits before asking `docker stack rm` again after it failed.
const RM_AGAIN: std::time::Duration = std::time::Duration::from_secs(1);

/// Removes `stack` and all its data (volumes, secrets, configs) from `swarm`: `docker stack
/// rm`, a wait until no service, container or network of it remains, then its data. Returns
/// what could not be removed (empty when clean), each with the daemon's reason when it
/// refused. Used by teardown and by the janitor, which has only a stack name to go on.
pub async fn remove_stack(
    swarm: &Swarm,
    stack: &str,
    deadline: Deadline,
) -> Result<Vec<String>, AbraError> {
    // `docker stack rm` fails when the stack is still being made (a killed run's `docker
    // stack deploy` may outlive it): a service created after rm listed them holds its
    // secrets and networks. Such a failure passes once the deploy is done, so rm is asked
    // again while services remain, and its error counts only if they never go.
    let docker = docker_cli_path()?;
    let mut failed = None;
    while !swarm.services(stack).await?.is_empty() {
        if let Some(e) = failed.take().filter(|_| deadline.passed()) {
            return Err(e);
        }
        let rm = ["stack", "rm", stack];
        match run_docker(&docker, Path::new("/"), &rm, &BTreeMap::new(), deadline).await {
            Ok(_) => break,
            Err(e) => failed = Some(e),
        }
        tokio::time::sleep(RM_AGAIN.min(deadline.remaining())).await;
    }
    wait::wait_undeployed(swarm, stack, deadline).await?;
    let refused = swarm.remove_stack_data(stack).await?.refused;
    Ok(swarm
        .leftovers(stack)
        .await?
        .into_iter()
        .map(
            |left| match refused.iter().find(|(object, _)| *object == left) {
                Some((_, why)) => format!("{left}: the daemon refused: {why}"),
                None => left,
            },
        )
        .collect())
}

impl Deployer for BuiltinEngine {
    fn deploy<'a>(&'a self, req: DeployRequest<'a>) -> BoxFuture<'a, Result<Deployed, AbraError>> {
        Box::pin(self.deploy_inner(req))
    }

    fn remove<'a>(
        &'a self,
        app: &'a App,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Vec<String>, AbraError>> {
        Box::pin(self.remove_inner(app, deadline))
    }

    fn backup<'a>(
        &'a self,
        app: &'a App,
        dest: &'a Path,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<Snapshot, AbraError>> {
        Box::pin(crate::backup::backup(
            &self.swarm,
            &app.stack,
            dest,
            self.archive_cap,
            deadline,
        ))
    }

    fn restore<'a>(
        &'a self,
        app: &'a App,
        snapshot: &'a Snapshot,
        deadline: Deadline,
    ) -> BoxFuture<'a, Result<(), AbraError>> {
        Box::pin(crate::backup::restore(
            &self.swarm,
            &app.stack,
            snapshot,
            deadline,
        ))
    }
}

/// Characters a generated secret is drawn from.
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// The name (`<name>` of `SECRET_<NAME>_VERSION`, lower case) of the app's secret whose Swarm
/// name is `swarm_name`.
fn secret_name(app: &App, swarm_name: &str) -> Option<String> {
    secret_entry(app, swarm_name).and_then(crate::env::Entry::secret_name)
}

/// The `SECRET_<NAME>_VERSION` line of the app's env that names `swarm_name`.
fn secret_entry<'a>(app: &'a App, swarm_name: &str) -> Option<&'a crate::env::Entry> {
    app.env.entries().iter().rev().find(|e| {
        e.secret_name()
            .is_some_and(|n| format!("{}_{n}_{}", app.stack, e.value) == swarm_name)
    })
}

/// How to generate the secret `swarm_name`, from the hints on the `SECRET_<NAME>_VERSION`
/// line that names it: `# length=N` (abra's generated-secret length) and `charset=hex|alnum` (seen
/// in third-party recipes only). Without hints: 32 alphanumeric characters.
fn secret_spec(app: &App, swarm_name: &str) -> Result<(usize, &'static [u8]), AbraError> {
    let Some(entry) = secret_entry(app, swarm_name) else {
        return Ok((DEFAULT_SECRET_LENGTH, ALNUM));
    };
    let bad = |hint: &str, v: &str, fix: &str| {
        AbraError::Recipe(format!(
            "{}: {} has the hint `{hint}={v}`: {fix}",
            app.env_path.display(),
            entry.key
        ))
    };
    let len = match entry.hint("length") {
        None => DEFAULT_SECRET_LENGTH,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=4096).contains(&n) => n,
            _ => return Err(bad("length", v, "give a length from 1 to 4096")),
        },
    };
    let charset = match entry.hint("charset") {
        None | Some("alnum" | "alphanumeric" | "default") => ALNUM,
        Some("hex") => HEX,
        Some(v) => {
            return Err(bad(
                "charset",
                v,
                "ccci generates `alnum` (the default) or `hex`",
            ))
        }
    };
    Ok((len, charset))
}

/// `len` random characters of `set` from the kernel's CSPRNG.
fn random_secret(len: usize, set: &[u8]) -> Result<String, AbraError> {
    ccci_core::random_chars(len, set).map_err(io("/dev/urandom"))
}

/// A port nothing listens on right now.
fn free_port() -> Result<u16, AbraError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("127.0.0.1:0"))?;
    Ok(l.local_addr().map_err(io("127.0.0.1:0"))?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_immutable_refusal_says_what_to_bump() {
        let said = "failed to update config cust_ccci_test_nginx_conf_v1: Error response from daemon: rpc error: code = InvalidArgument desc = only updates to Labels are allowed";
        let e = immutable_refusal(said, "cust_ccci_test")
            .unwrap()
            .to_string();
        assert!(
            e.contains("config `cust_ccci_test_nginx_conf_v1` already exists")
                && e.contains("bump `NGINX_CONF_VERSION`"),
            "{e}"
        );
        let secret = "failed to update secret cust_ccci_test_db_password_v2: … only updates to Labels are allowed";
        let e = immutable_refusal(secret, "cust_ccci_test")
            .unwrap()
            .to_string();
        assert!(e.contains("bump `SECRET_DB_PASSWORD_VERSION`"), "{e}");
        assert!(immutable_refusal("network proxy not found", "cust_ccci_test").is_none());
        // As Docker 20.10 says it, measured: a stack whose service went replicated → global.
        let mode = "Updating service mt_app (id: gwt2hbwqg4fd)\nfailed to update service mt_app: Error response from daemon: rpc error: code = Unimplemented desc = service mode change is not allowed";
        let e = immutable_refusal(mode, "mt").unwrap().to_string();
        assert!(
            e.starts_with("service `mt_app` has another deploy mode"),
            "{e}"
        );
    }

    #[test]
    fn secrets_are_of_the_asked_length_and_charset() {
        let s = random_secret(100, ALNUM).unwrap();
        assert_eq!(s.len(), 100);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(s, random_secret(100, ALNUM).unwrap());
        let h = random_secret(64, HEX).unwrap();
        assert!(
            h.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{h}"
        );
    }

    /// abra's secret convention: `SECRET_<NAME>_VERSION=v1 # length=N` in `.env.sample`
    /// names the Swarm secret `<stack>_<name>_v1`, generated N characters long.
    #[test]
    fn hints_on_the_version_line_shape_the_secret() {
        let env = crate::env::EnvFile::parse(
            "SECRET_DB_PASSWORD_VERSION=v2 # length=12
SECRET_KEY_VERSION=v1 # length=64 charset=hex
SECRET_BAD_VERSION=v1 # charset=emoji
",
        )
        .unwrap();
        let app = App {
            domain: "s.test".into(),
            stack: "s_test".into(),
            recipe: "r".into(),
            env_path: "/x/s.test.env".into(),
            env,
        };
        assert_eq!(secret_spec(&app, "s_test_db_password_v2").unwrap().0, 12);
        assert_eq!(secret_spec(&app, "s_test_key_v1").unwrap(), (64, HEX));
        assert_eq!(secret_spec(&app, "s_test_other_v1").unwrap(), (32, ALNUM));
        let e = secret_spec(&app, "s_test_bad_v1").unwrap_err().to_string();
        assert!(
            e.contains("SECRET_BAD_VERSION has the hint `charset=emoji`"),
            "{e}"
        );
    }
}
