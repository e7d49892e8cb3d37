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
use crate::error::{command_output, io, AbraError};
pub use crate::render::Routing;
use crate::render::{render, RenderInput};
use ccci_swarm::{wait, Deadline, Swarm};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// The key in the app's `.env` that remembers the host port, so redeploys keep it.
const PORT_KEY: &str = "CCCI_PUBLISHED_PORT";

/// Default length of generated secrets without a `# length=N` hint.
const DEFAULT_SECRET_LENGTH: usize = 32;

/// Deploys apps with the docker CLI and the Engine API. Cheap to clone.
#[derive(Clone)]
pub struct BuiltinEngine {
    swarm: Swarm,
    docker: PathBuf,
    local: bool,
    stacks_dir: PathBuf,
    main_service: String,
}

impl BuiltinEngine {
    /// An engine for a host without IPVS or Traefik (a laptop, CI): apps are published on a
    /// free port of 127.0.0.1. Stack files are kept under `stacks_dir`.
    pub fn local(swarm: Swarm, stacks_dir: &Path, main_service: &str) -> Result<Self, AbraError> {
        Self::new(swarm, stacks_dir, main_service, true)
    }

    /// An engine for a Co-op Cloud server with Traefik: stacks deploy as written and apps are
    /// reached at `https://<domain>`.
    pub fn traefik(swarm: Swarm, stacks_dir: &Path, main_service: &str) -> Result<Self, AbraError> {
        Self::new(swarm, stacks_dir, main_service, false)
    }

    fn new(
        swarm: Swarm,
        stacks_dir: &Path,
        main_service: &str,
        local: bool,
    ) -> Result<Self, AbraError> {
        let docker = which::which("docker").map_err(|_| {
            AbraError::Invalid("the docker CLI is not on PATH: install it (scripts/local-swarm does), the built-in engine deploys stacks with it".into())
        })?;
        std::fs::create_dir_all(stacks_dir).map_err(io(stacks_dir))?;
        Ok(BuiltinEngine {
            swarm,
            docker,
            local,
            stacks_dir: stacks_dir.into(),
            main_service: main_service.into(),
        })
    }

    /// The Swarm it deploys to.
    pub fn swarm(&self) -> &Swarm {
        &self.swarm
    }

    async fn docker(
        &self,
        dir: &Path,
        args: &[&str],
        env: &BTreeMap<String, String>,
    ) -> Result<String, AbraError> {
        let mut cmd = tokio::process::Command::new(&self.docker);
        cmd.args(args)
            .current_dir(dir)
            .env_clear()
            .kill_on_drop(true);
        for k in PASS_ENV {
            if let Ok(v) = std::env::var(k) {
                cmd.env(k, v);
            }
        }
        cmd.envs(env);
        let shown = format!("docker {}", args.join(" "));
        command_output(shown, cmd.output().await, "")
    }

    async fn deploy_inner(&self, req: DeployRequest<'_>) -> Result<Deployed, AbraError> {
        let (app, recipe) = (req.app, req.recipe);
        let files = app.compose_files();
        for f in &files {
            if !recipe.path(f).is_file() {
                let fix = if f == "compose.yml" {
                    "every recipe needs one (coopcloud.md §1)".to_string()
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

        let mut app = app.clone();
        let port = if self.local {
            let port = match app.env.get(PORT_KEY).and_then(|p| p.parse().ok()) {
                Some(p) => p,
                None => free_port()?,
            };
            app.env.set(PORT_KEY, &port.to_string());
            app.save()?;
            Some(port)
        } else {
            None
        };

        let mut env = BTreeMap::new();
        if let Ok(text) = std::fs::read_to_string(recipe.path("abra.sh")) {
            env.extend(abra_sh_exports(&text));
        }
        env.extend(app.env.to_map());
        env.insert("STACK_NAME".into(), app.stack.clone());
        let mut args = vec!["stack", "config"];
        for f in &files {
            args.extend(["-c", f.as_str()]);
        }
        let merged = self.docker(&recipe.dir, &args, &env).await?;

        let chaos = match req.release {
            Some(_) => None,
            None => Some(recipe.chaos_version()?),
        };
        let input = RenderInput {
            stack: &app.stack,
            recipe: &recipe.name,
            service: &self.main_service,
            version: req.release.map(ToString::to_string),
            chaos: chaos.clone(),
            routing: port.map_or(Routing::Traefik, Routing::HostPort),
        };
        let rendered = render(&merged, &input)?;

        // Pre-pull check (R14): every image the stack uses, resolved from the merged compose
        // files and env, before anything is created.
        let mut missing = Vec::new();
        for (service, image) in &rendered.images {
            if !self.swarm.image_exists(image).await? {
                missing.push((service.clone(), image.clone()));
            }
        }
        if !missing.is_empty() {
            return Err(AbraError::MissingImages { images: missing });
        }
        for net in &rendered.external_networks {
            self.ensure_network(net).await?;
        }
        let mut to_create = Vec::new();
        for name in &rendered.external_secrets {
            if self.swarm.secret_exists(name).await? {
                continue;
            }
            if !name.starts_with(&format!("{}_", app.stack)) {
                return Err(AbraError::Invalid(format!(
                    "external secret `{name}` does not exist and is not the app's own (`{}_…`): create it with `docker secret create {name} -`",
                    app.stack
                )));
            }
            to_create.push((name.clone(), secret_length(&app, name)));
        }
        for (name, len) in to_create {
            self.swarm
                .create_secret(&app.stack, &name, random_secret(len)?.as_bytes())
                .await?;
        }

        let n = std::fs::read_dir(&self.stacks_dir)
            .map(|d| d.count())
            .unwrap_or(0);
        let stack_file = self
            .stacks_dir
            .join(format!("{:02}-{}.yml", n + 1, app.stack));
        std::fs::write(&stack_file, &rendered.yaml).map_err(io(&stack_file))?;
        let file = stack_file.to_string_lossy().into_owned();
        self.docker(
            &recipe.dir,
            &[
                "stack",
                "deploy",
                "--prune",
                "--resolve-image",
                "never",
                "-c",
                &file,
                &app.stack,
            ],
            &BTreeMap::new(),
        )
        .await?;

        let base_url = match (port, rendered.http_target_port) {
            (Some(p), Some(_)) => Some(format!("http://127.0.0.1:{p}")),
            (Some(_), None) => None,
            (None, _) => Some(format!("https://{}", app.domain)),
        };
        Ok(Deployed {
            base_url,
            stack_file: Some(stack_file),
            chaos_version: chaos,
        })
    }

    /// Creates `proxy`, the network Traefik shares with every app, when it is missing; any
    /// other external network must already exist.
    async fn ensure_network(&self, name: &str) -> Result<(), AbraError> {
        let exists = self
            .docker(
                Path::new("/"),
                &["network", "inspect", "--format", "{{.Name}}", name],
                &BTreeMap::new(),
            )
            .await
            .is_ok();
        if exists {
            return Ok(());
        }
        if name != "proxy" {
            return Err(AbraError::Invalid(format!(
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
        )
        .await?;
        Ok(())
    }

    async fn remove_inner(&self, app: &App, timeout: Duration) -> Result<Vec<String>, AbraError> {
        let deadline = Deadline::after(timeout);
        if !self.swarm.services(&app.stack).await?.is_empty() {
            self.docker(
                Path::new("/"),
                &["stack", "rm", &app.stack],
                &BTreeMap::new(),
            )
            .await?;
        }
        wait::wait_undeployed(&self.swarm, &app.stack, deadline).await?;
        self.swarm.remove_stack_data(&app.stack).await?;
        Ok(self.swarm.leftovers(&app.stack).await?)
    }
}

impl Deployer for BuiltinEngine {
    fn name(&self) -> &'static str {
        "builtin"
    }

    fn deploy<'a>(&'a self, req: DeployRequest<'a>) -> BoxFuture<'a, Result<Deployed, AbraError>> {
        Box::pin(self.deploy_inner(req))
    }

    fn remove<'a>(
        &'a self,
        app: &'a App,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Vec<String>, AbraError>> {
        Box::pin(self.remove_inner(app, timeout))
    }

    fn backup<'a>(
        &'a self,
        app: &'a App,
        dest: &'a Path,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Snapshot, AbraError>> {
        Box::pin(crate::backup::backup(
            &self.swarm,
            &app.stack,
            dest,
            timeout,
        ))
    }

    fn restore<'a>(
        &'a self,
        app: &'a App,
        snapshot: &'a Snapshot,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<(), AbraError>> {
        Box::pin(crate::backup::restore(
            &self.swarm,
            &app.stack,
            snapshot,
            timeout,
        ))
    }
}

/// The `# length=N` hint of the `SECRET_<NAME>_VERSION` line that names this secret.
fn secret_length(app: &App, swarm_name: &str) -> usize {
    app.env
        .entries()
        .iter()
        .filter_map(|e| {
            let name = e
                .key
                .strip_prefix("SECRET_")?
                .strip_suffix("_VERSION")?
                .to_lowercase();
            (format!("{}_{name}_{}", app.stack, e.value) == swarm_name)
                .then(|| e.hint("length").and_then(|l| l.parse().ok()))
        })
        .next()
        .flatten()
        .unwrap_or(DEFAULT_SECRET_LENGTH)
}

/// `len` random alphanumeric characters from the kernel's CSPRNG.
fn random_secret(len: usize) -> Result<String, AbraError> {
    const SET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::with_capacity(len);
    let mut f = std::fs::File::open("/dev/urandom").map_err(io("/dev/urandom"))?;
    let mut buf = [0u8; 64];
    while out.len() < len {
        f.read_exact(&mut buf).map_err(io("/dev/urandom"))?;
        // 248 = 4 * 62: rejecting bytes above it keeps every character equally likely.
        out.extend(
            buf.iter()
                .filter(|b| **b < 248)
                .map(|b| SET[usize::from(*b) % 62] as char)
                .take(len - out.len()),
        );
    }
    Ok(out)
}

/// A port nothing listens on right now.
fn free_port() -> Result<u16, AbraError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("127.0.0.1:0"))?;
    Ok(l.local_addr().map_err(io("127.0.0.1:0"))?.port())
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_alphanumeric_of_the_asked_length() {
        let s = super::random_secret(100).unwrap();
        assert_eq!(s.len(), 100);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(s, super::random_secret(100).unwrap());
    }
}
