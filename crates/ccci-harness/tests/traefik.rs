//! Traefik as a Co-op Cloud server runs it, on the real local Swarm through scripts/local-swarm's
//! Traefik 3: a recipe naming its own middleware `<name>@docker` routes (the reference is read
//! as Traefik 3's `@swarm`, a recorded change); kept as written, Traefik refuses the router and
//! the failure gives Traefik's reason, not a health path to change; and a health path no router
//! sends to the app is said to be that, with the stack's rules.

mod common;

use ccci::core::ladder::{Rung, TestStatus};
use ccci::core::meta::Source;
use ccci::core::RecipeMeta;
use ccci::{run_recipe, Hooks, Report};
use std::path::Path;
use std::time::Duration;

fn run(meta: impl FnOnce(&mut RecipeMeta)) -> Report {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let runs = common::runs_dir("traefik-runs");
    let mut m = RecipeMeta::new(
        "docker-middleware",
        Source::Releases("docker-middleware".into()),
    );
    m.deploy_timeout = Duration::from_secs(20);
    m.health_path = "/app/".into();
    m.expected_na.extend([
        (Rung::Upgrade, "one release".into()),
        (Rung::BackupRestore, "no data".into()),
        (Rung::Functional, "none".into()),
    ]);
    meta(&mut m);
    let mut settings = ccci::Settings::new(&dir, &runs);
    settings.routing = Some(ccci::Routing::Traefik);
    run_recipe(settings, m, Hooks::none()).expect("the run produces results")
}

fn install_failure(r: &Report) -> String {
    match &r.results.tests[0].status {
        TestStatus::Fail { message } => message.clone(),
        other => panic!("install did not fail: {other:?}"),
    }
}

#[test]
fn a_docker_middleware_routes_as_on_a_coop_cloud_server() {
    let r = run(|_| {});
    let res = &r.results;
    common::assert_passed(res, Rung::Install);
    assert!(
        res.changes
            .iter()
            .any(|c| c.contains("-strip@docker` read as `") && c.contains("-strip@swarm`")),
        "{:?}",
        res.changes
    );
    common::assert_clean(res);
}

#[test]
fn a_router_traefik_refuses_fails_with_traefiks_reason() {
    let r = run(|m| m.rename_docker_provider = false);
    let message = install_failure(&r);
    assert!(
        message.contains("Traefik refused the stack's routers"),
        "{message}"
    );
    assert!(message.contains("-strip@docker"), "{message}");
    assert!(
        message.contains("does not exist"),
        "Traefik's own reason: {message}"
    );
    assert!(!message.contains("set `health_path`"), "{message}");
    common::assert_clean(&r.results);
}

#[test]
fn a_health_path_no_router_sends_to_the_app_is_said_to_be_that() {
    let r = run(|m| m.health_path = "/".into());
    let message = install_failure(&r);
    assert!(
        message.contains("no router of the stack matches"),
        "{message}"
    );
    assert!(
        message.contains("PathPrefix(`/app`)"),
        "the rules are listed: {message}"
    );
    common::assert_clean(&r.results);
}
