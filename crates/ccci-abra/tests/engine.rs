//! The built-in engine on the real local Swarm (scripts/local-swarm): a full deploy and
//! teardown, and bad input that must fail before anything exists.

use ccci_abra::{App, BuiltinEngine, DeployRequest, Deployer, Recipe};
use ccci_swarm::{wait, Deadline, Swarm, Via};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn domain(tag: &str) -> String {
    format!("{tag}-{}.ccci.test", std::process::id())
}

struct Setup {
    _dir: tempfile::TempDir,
    recipe: Recipe,
    app: App,
    engine: BuiltinEngine,
    swarm: Swarm,
}

async fn setup(recipe: &str, domain: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let recipe =
        Recipe::from_release_dirs(recipe, &fixture(recipe), &dir.path().join("recipe"), dl())
            .unwrap();
    let app = App::new(
        &recipe,
        domain,
        &dir.path().join("servers"),
        std::iter::empty(),
    )
    .unwrap();
    let swarm = Swarm::connect()
        .await
        .expect("these tests need the local Swarm: run scripts/local-swarm");
    let engine = BuiltinEngine::local(swarm.clone(), &dir.path().join("stacks"), "app").unwrap();
    Setup {
        _dir: dir,
        recipe,
        app,
        engine,
        swarm,
    }
}

impl Setup {
    /// Deploys the recipe's latest release.
    async fn deploy_latest(&self) -> Result<ccci_abra::Deployed, ccci_abra::AbraError> {
        let v = release(self);
        self.engine
            .deploy(DeployRequest {
                app: &self.app,
                recipe: &self.recipe,
                release: Some(&v),
                force_chaos: false,
                deadline: dl(),
            })
            .await
    }

    /// A deploy that must be refused before anything exists: returns its one-line error after
    /// checking that no object of the stack was created.
    async fn refused(&self, release: Option<&ccci_core::Version>) -> String {
        let req = DeployRequest {
            app: &self.app,
            recipe: &self.recipe,
            release,
            force_chaos: false,
            deadline: dl(),
        };
        let e = self
            .engine
            .deploy(req)
            .await
            .expect_err("the deploy must be refused")
            .to_string();
        assert!(!e.contains('\n'), "one line: {e}");
        assert!(
            self.swarm
                .leftovers(&self.app.stack)
                .await
                .unwrap()
                .is_empty(),
            "nothing may be created: {e}"
        );
        e
    }

    /// Removes the app whatever the test did, then fails on the test's error or on anything
    /// left behind.
    async fn tear_down(&self, result: Result<(), Box<dyn std::error::Error>>) {
        let left = self
            .engine
            .remove(&self.app, Deadline::after(Duration::from_secs(120)))
            .await
            .unwrap();
        result.unwrap();
        assert!(left.is_empty(), "teardown left: {left:?}");
    }
}

fn release(s: &Setup) -> ccci_core::Version {
    s.recipe.releases(dl()).unwrap().pop().unwrap().version
}

#[tokio::test]
async fn deploy_then_remove_leaves_no_object_of_any_kind() {
    let s = setup("full", &domain("full")).await;
    let deployed = s.deploy_latest().await;
    let result = async {
        let deployed = deployed?;
        let url = format!(
            "{}/key.txt",
            deployed.base_url.clone().ok_or("no base url")?
        );
        wait::wait_healthy(
            &s.swarm,
            &s.app.stack,
            &url,
            &Via::direct(),
            &[200],
            Deadline::after(Duration::from_secs(60)),
        )
        .await?;
        let key = reqwest::get(&url).await?.text().await?;
        if key.len() != 48 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "generated secret should be 48 alphanumerics (the .env.sample hint), got {key:?}"
            )
            .into());
        }
        let cfg = reqwest::get(format!("{}/cfg.txt", deployed.base_url.unwrap()))
            .await?
            .text()
            .await?;
        if cfg != "hello from a swarm config\n" {
            return Err(format!("config content: {cfg:?}").into());
        }
        let labels = s.swarm.services(&s.app.stack).await?[0]
            .spec
            .clone()
            .unwrap()
            .labels
            .unwrap_or_default();
        let stack = &s.app.stack;
        if labels
            .get(&format!("coop-cloud.{stack}.version"))
            .map(String::as_str)
            != Some("1.0.0+1.35")
            || labels
                .get(&format!("coop-cloud.{stack}.chaos"))
                .map(String::as_str)
                != Some("false")
            || labels
                .get(&format!("coop-cloud.{stack}.recipe"))
                .map(String::as_str)
                != Some("full")
        {
            return Err(format!("abra labels missing: {labels:?}").into());
        }
        let before = s.swarm.leftovers(stack).await?;
        for kind in [
            "service",
            "container",
            "network",
            "volume",
            "secret",
            "config",
        ] {
            if !before.iter().any(|l| l.starts_with(kind)) {
                return Err(format!("the fixture should have created a {kind}: {before:?}").into());
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    s.tear_down(result).await;
    assert!(s.swarm.leftovers(&s.app.stack).await.unwrap().is_empty());
    assert!(
        s.swarm
            .docker()
            .inspect_network(
                "proxy",
                None::<bollard::query_parameters::InspectNetworkOptions>
            )
            .await
            .is_ok(),
        "proxy is shared infrastructure and stays"
    );
}

/// A release that changes its service's deploy mode (replicated → global), deployed over the
/// one before: Swarm refuses it, and the error is typed and one line that says what to keep,
/// not Docker's `service mode change is not allowed`.
#[tokio::test]
async fn a_service_mode_change_is_refused_in_one_line_that_says_what_to_keep() {
    let s = setup("mode-changed", &domain("mode")).await;
    let releases = s.recipe.releases(dl()).unwrap();
    let request = |i: usize| DeployRequest {
        app: &s.app,
        recipe: &s.recipe,
        release: Some(&releases[i].version),
        force_chaos: false,
        deadline: dl(),
    };
    // The engine deploys the recipe's work tree: each release is checked out first, as a run
    // does.
    let result = async {
        s.recipe.checkout(&releases[0].tag, dl())?;
        s.engine.deploy(request(0)).await?;
        s.recipe.checkout(&releases[1].tag, dl())?;
        let e = s
            .engine
            .deploy(request(1))
            .await
            .expect_err("Swarm refuses a mode change");
        let said = e.to_string();
        match &e {
            ccci_abra::AbraError::ModeChange { service } => {
                assert_eq!(service, &format!("{}_app", s.app.stack))
            }
            other => panic!("a mode change, typed: {other:?}"),
        }
        assert!(!said.contains('\n'), "one line: {said}");
        assert!(
            said.contains("keep its mode, or give the service a new name"),
            "{said}"
        );
        Ok(())
    }
    .await;
    s.tear_down(result).await;
}

#[tokio::test]
async fn a_recipe_without_compose_yml_fails_before_deploying() {
    let s = setup("no-compose", &domain("noco")).await;
    let e = s.refused(None).await;
    assert!(
        e.starts_with("recipe no-compose has no compose.yml")
            && e.contains("every Co-op Cloud recipe has one"),
        "{e}"
    );
}

#[tokio::test]
async fn a_domain_too_long_for_secret_names_fails_before_creating_anything() {
    let long = format!(
        "a-domain-long-enough-to-break-{}.secret-names.ccci.test",
        std::process::id()
    );
    let s = setup("full", &long).await;
    let e = s.refused(Some(&release(&s))).await;
    assert!(
        e.starts_with("secret name `")
            && e.contains("over Swarm's limit of 64")
            && e.contains("shorter domain"),
        "{e}"
    );
}

/// The setup's recipe, naming `image` instead of the fixture image.
fn naming(s: &Setup, image: &str) {
    let compose = s.recipe.path("compose.yml");
    let text = std::fs::read_to_string(&compose)
        .unwrap()
        .replace("local/busybox:1.35", image);
    std::fs::write(&compose, text).unwrap();
}

use ccci_testkit::docker;

/// An image the local registry (scripts/local-swarm, 127.0.0.1:5000) has and this daemon has
/// not: the fixture image pushed under a registry name unique to this test, then its local
/// tag removed, so only a pull through the registry can bring it back.
fn only_in_the_registry(tag: &str) -> String {
    let image = format!("127.0.0.1:5000/ccci/busybox:{tag}-{}", std::process::id());
    docker(&["tag", "local/busybox:1.35", &image]);
    docker(&["push", "--quiet", &image]);
    docker(&["rmi", &image]);
    image
}

#[tokio::test]
async fn a_missing_image_is_pulled_from_its_registry_and_runs() {
    let image = only_in_the_registry("pull");
    let s = setup("full", &domain("pull")).await;
    naming(&s, &image);
    let result = async {
        let deployed = s.deploy_latest().await?;
        assert!(s.swarm.image_exists(&image).await?, "{image} was pulled");
        let url = format!("{}/cfg.txt", deployed.base_url.ok_or("no base url")?);
        wait::wait_healthy(&s.swarm, &s.app.stack, &url, &Via::direct(), &[200], dl()).await?;
        Ok(())
    }
    .await;
    s.tear_down(result).await;
    let _ = docker(&["rmi", &image]);
}

#[tokio::test]
async fn an_image_that_cannot_be_had_is_named_with_why_before_anything_is_created() {
    let s = setup("full", &domain("noimg")).await;
    let missing = format!("127.0.0.1:5000/ccci/does-not-exist:{}", std::process::id());
    naming(&s, &missing);
    let e = s.refused(None).await;
    assert!(
        e.contains(&format!(
            "image `{missing}` of service `app` cannot be pulled: not found on its registry"
        )),
        "{e}"
    );
    // A registry nobody answers for: refused as unreachable, not after a converge timeout.
    let s = setup("full", &domain("deadreg")).await;
    let dead = "127.0.0.1:5009/ccci/busybox:1.35";
    naming(&s, dead);
    let e = s.refused(None).await;
    assert!(
        e.contains(&format!(
            "image `{dead}` of service `app` cannot be pulled: the registry could not be reached"
        )),
        "{e}"
    );
}

#[test]
fn release_dirs_become_annotated_tags_with_stable_commits() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ra = Recipe::from_release_dirs("full", &fixture("full"), a.path(), dl()).unwrap();
    let rb = Recipe::from_release_dirs("full", &fixture("full"), b.path(), dl()).unwrap();
    let rel = ra.releases(dl()).unwrap();
    assert_eq!(rel.len(), 1);
    assert!(rel[0].annotated);
    assert_eq!(rel[0].tag, "1.0.0+1.35");
    assert_eq!(
        rel,
        rb.releases(dl()).unwrap(),
        "same files, same commit ids"
    );
    assert!(!ra.chaos_version(dl()).unwrap().untracked);
    std::fs::write(a.path().join("compose.ccci.yml"), "x").unwrap();
    assert!(
        ra.chaos_version(dl()).unwrap().untracked,
        "an untracked overlay marks +U"
    );
}

#[tokio::test]
async fn a_failed_restore_leaves_the_snapshot_intact_for_a_second_attempt() {
    let s = setup("backup", &domain("bkp")).await;
    let deployed = s.deploy_latest().await;
    let result = async {
        let base = deployed?.base_url.ok_or("no base url")?;
        let deadline = || Deadline::after(Duration::from_secs(60));
        wait::wait_converged(&s.swarm, &s.app.stack, deadline()).await?;
        let exec = |cmd: &'static str| {
            let (swarm, stack) = (s.swarm.clone(), s.app.stack.clone());
            async move {
                ccci_abra::backup::exec_in_service(
                    &swarm,
                    &stack,
                    "app",
                    cmd,
                    Deadline::after(Duration::from_secs(60)),
                )
                .await
            }
        };
        exec("printf 'marker ✓\\n' > /data/www/marker.txt").await?;

        let dir = s._dir.path().join("snapshot");
        let snapshot = s
            .engine
            .backup(&s.app, &dir, Deadline::after(Duration::from_secs(60)))
            .await?;
        assert_eq!(
            snapshot.read("/data/www/marker.txt")?.as_deref(),
            Some("marker ✓\n".as_bytes())
        );
        let before: Vec<Vec<u8>> = snapshot
            .manifest
            .entries
            .iter()
            .map(|e| std::fs::read(dir.join(&e.file)).unwrap())
            .collect();

        exec("rm /data/www/marker.txt && touch /data/block-restore").await?;
        let err = s
            .engine
            .restore(&s.app, &snapshot, Deadline::after(Duration::from_secs(60)))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("restore blocked") && err.contains("exited 3"),
            "{err}"
        );
        // Nothing of the snapshot changed, and it still verifies.
        let after: Vec<Vec<u8>> = snapshot
            .manifest
            .entries
            .iter()
            .map(|e| std::fs::read(dir.join(&e.file)).unwrap())
            .collect();
        assert_eq!(before, after);
        ccci_abra::Snapshot::load(&dir)?.verify()?;

        exec("rm /data/block-restore").await?;
        s.engine
            .restore(
                &s.app,
                &ccci_abra::Snapshot::load(&dir)?,
                Deadline::after(Duration::from_secs(60)),
            )
            .await?;
        let body = reqwest::get(format!("{base}/marker.txt"))
            .await?
            .bytes()
            .await?;
        assert_eq!(
            &body[..],
            "marker ✓\n".as_bytes(),
            "the second restore brought the marker back"
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    s.tear_down(result).await;
}

#[tokio::test]
async fn a_corrupted_snapshot_is_refused_before_anything_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let tar_path = dir.path().join("01.tar");
    std::fs::write(&tar_path, b"not the archive that was taken").unwrap();
    let manifest = r#"{"stack":"x","entries":[{"service":"app","path":"/data/www","restore_to":"/data","file":"01.tar","sha256":"00","bytes":30}]}"#;
    std::fs::write(dir.path().join("manifest.json"), manifest).unwrap();
    let e = ccci_abra::Snapshot::load(dir.path())
        .unwrap()
        .verify()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("01.tar is corrupt") && e.contains("manifest says 00"),
        "{e}"
    );
}

#[tokio::test]
async fn an_exec_during_a_task_replacement_waits_for_the_new_task_instead_of_failing() {
    let s = setup("backup", &domain("repl")).await;
    let deployed = s.deploy_latest().await;
    let result = async {
        deployed?;
        wait::wait_converged(
            &s.swarm,
            &s.app.stack,
            Deadline::after(Duration::from_secs(60)),
        )
        .await?;
        let old = s
            .swarm
            .running_container(&s.app.stack, "app")
            .await?
            .ok_or("no container")?;

        // Replace the task, as an upgrade or a restart does, and catch the moment Swarm has
        // decided to shut the old one down.
        let service = format!("{}_app", s.app.stack);
        let mut update = std::process::Command::new("docker");
        update.args(["service", "update", "--force", "--detach", &service]);
        ccci_process::run(
            update,
            format!("docker service update --force {service}"),
            dl(),
            "",
        )?;
        let until = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let snap = s.swarm.stack_state(&s.app.stack).await?;
            let old_task = snap[0]
                .tasks
                .iter()
                .find(|t| t.container_id.as_deref() == Some(old.as_str()));
            if old_task.is_some_and(|t| t.desired_state != "running") {
                break;
            }
            assert!(
                std::time::Instant::now() < until,
                "the old task was never told to stop"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // What a backup hook would run now lands in the new container, after it is ready.
        let hostname = ccci_abra::backup::exec_in_service(
            &s.swarm,
            &s.app.stack,
            "app",
            "hostname",
            Deadline::after(Duration::from_secs(60)),
        )
        .await?;
        let new = s
            .swarm
            .running_container(&s.app.stack, "app")
            .await?
            .ok_or("no new container")?;
        assert_ne!(new, old, "the task was replaced");
        assert!(
            new.starts_with(hostname.trim()),
            "the exec ran in {hostname:?}, not in the new container {new}"
        );

        // And the failure it avoided: exec into the replaced container is refused.
        let refused = s.swarm.exec(&old, &["true"]).await.map(|o| o.exit_code);
        assert!(
            refused.is_err(),
            "exec into the stopped container should fail, got {refused:?}"
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    s.tear_down(result).await;
}

/// Mumble's UDP ping (see recipes/mumble/tests/recipe.rs): true when the server answered.
fn mumble_answers(port: u16) -> bool {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    sock.send_to(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7], ("127.0.0.1", port))
        .unwrap();
    let mut buf = [0u8; 64];
    matches!(sock.recv(&mut buf), Ok(24))
}

#[tokio::test]
async fn the_web_front_is_healthy_before_the_voice_port_and_the_tcp_probe_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let releases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/mumble/recipe");
    let recipe =
        Recipe::from_release_dirs("mumble", &releases, &dir.path().join("recipe"), dl()).unwrap();
    let v = recipe.releases(dl()).unwrap().remove(0);
    recipe.checkout(&v.tag, dl()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = [
        ("MUMBLE_PORT".to_string(), port.to_string()),
        ("MURMUR_START_DELAY".to_string(), "8".to_string()),
    ];
    let app = App::new(
        &recipe,
        &domain("voice"),
        &dir.path().join("servers"),
        env.iter().map(|(k, v)| (k, v)),
    )
    .unwrap();
    let swarm = Swarm::connect().await.unwrap();
    let engine = BuiltinEngine::local(swarm.clone(), &dir.path().join("stacks"), "app").unwrap();

    let result = async {
        let deployed = engine
            .deploy(DeployRequest {
                app: &app,
                recipe: &recipe,
                release: Some(&v.version),
                force_chaos: false,
                deadline: dl(),
            })
            .await?;
        let url = deployed.base_url.ok_or("no base url")?;
        wait::wait_healthy(
            &swarm,
            &app.stack,
            &url,
            &Via::direct(),
            &[200],
            Deadline::after(Duration::from_secs(60)),
        )
        .await?;
        // Healthy and converged, yet nothing serves voice: a bare connect would still
        // succeed (Docker's proxy), the probe sees through it, and the server does not answer.
        let early =
            wait::tcp_probe("127.0.0.1", port, &Deadline::after(Duration::from_secs(2))).await;
        assert!(
            early
                .as_ref()
                .is_err_and(|e| e.contains("closed at once") || e.contains("refused")),
            "{early:?}"
        );
        assert!(
            !mumble_answers(port),
            "the voice server answered before its start delay"
        );

        wait::wait_tcp(
            "127.0.0.1",
            port,
            3,
            Deadline::after(Duration::from_secs(60)),
        )
        .await?;
        assert!(
            mumble_answers(port),
            "the probe passed but the voice server does not answer"
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    let left = engine.remove(&app, dl()).await.unwrap();
    result.unwrap();
    assert!(left.is_empty(), "teardown left: {left:?}");
}

#[test]
fn lightweight_version_tags_are_made_annotated_in_the_clone_only() {
    let origin = tempfile::tempdir().unwrap();
    let r = Recipe::from_release_dirs("full", &fixture("full"), origin.path(), dl()).unwrap();
    let commit = r.releases(dl()).unwrap()[0].commit.clone();
    // Replace the release tag with a lightweight one, as some upstream recipes have.
    let git = |dir: &Path, args: &[&str]| {
        let mut git = std::process::Command::new("git");
        git.arg("-C").arg(dir).args(args);
        ccci_process::run(git, format!("git {args:?}"), dl(), "").unwrap_or_else(|e| panic!("{e}"))
    };
    git(origin.path(), &["tag", "-d", "1.0.0+1.35"]);
    git(origin.path(), &["tag", "1.0.0+1.35", &commit]);
    assert!(!r.releases(dl()).unwrap()[0].annotated);

    let work = tempfile::tempdir().unwrap();
    let clone = Recipe::clone_from(
        "full",
        &origin.path().display().to_string(),
        &work.path().join("full"),
        dl(),
    )
    .unwrap();
    assert_eq!(clone.normalize_tags(dl()).unwrap(), ["1.0.0+1.35"]);
    let rel = clone.releases(dl()).unwrap();
    assert!(
        rel[0].annotated && rel[0].commit == commit,
        "same commit, now annotated: {rel:?}"
    );
    assert!(clone.normalize_tags(dl()).unwrap().is_empty(), "idempotent");
    assert_eq!(
        git(origin.path(), &["cat-file", "-t", "1.0.0+1.35"]),
        "commit",
        "the origin is not touched"
    );

    // Checkouts are forced: an untracked overlay does not stop them, local edits are discarded.
    std::fs::write(clone.path("compose.ccci.yml"), "overlay").unwrap();
    std::fs::write(clone.path("compose.yml"), "edited").unwrap();
    assert_eq!(clone.checkout("1.0.0+1.35", dl()).unwrap(), commit);
    assert_ne!(
        std::fs::read_to_string(clone.path("compose.yml")).unwrap(),
        "edited"
    );
    assert!(clone.path("compose.ccci.yml").exists());
}

/// A generous deadline for one fixture step.
fn dl() -> Deadline {
    Deadline::after(Duration::from_secs(120))
}
