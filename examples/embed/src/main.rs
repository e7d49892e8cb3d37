//! Embedding ccci's library in another tool, without the test runner: build a recipe's git
//! repository, deploy its latest release with the built-in engine, wait until it answers,
//! and remove every trace of it.
//!
//! ```text
//! scripts/local-swarm
//! cargo run -p ccci-example-embed -- recipes/custom-html/recipe
//! ```

use ccci_abra::{App, BuiltinEngine, DeployRequest, Deployer, Recipe};
use ccci_swarm::{wait, Deadline, Swarm, Via};
use std::path::Path;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let releases = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "recipes/custom-html/recipe".into());
    let work = tempfile::tempdir()?;
    // One deadline for the whole job, handed to every step of it.
    let deadline = Deadline::after(Duration::from_secs(300));
    let recipe = Recipe::from_release_dirs(
        "custom-html",
        Path::new(&releases),
        &work.path().join("recipe"),
        deadline,
    )?;
    let latest = recipe
        .releases(deadline)?
        .pop()
        .ok_or("the recipe has no releases")?;
    recipe.checkout(&latest.tag, deadline)?;

    let swarm = Swarm::connect().await?;
    let app = App::new(
        &recipe,
        &format!("embed-{}.ccci.test", std::process::id()),
        &work.path().join("servers"),
        std::iter::empty(),
    )?;
    let engine = BuiltinEngine::local(swarm.clone(), &work.path().join("stacks"), "app")?;

    let outcome = async {
        let deployed = engine
            .deploy(DeployRequest {
                app: &app,
                recipe: &recipe,
                release: Some(&latest.version),
                force_chaos: false,
                deadline,
            })
            .await?;
        let url = deployed.base_url.ok_or("the app has no HTTP route")?;
        let took =
            wait::wait_healthy(&swarm, &app.stack, &url, &Via::direct(), &[200], deadline).await?;
        println!(
            "{} {} answers at {url} after {:.1}s",
            recipe.name,
            latest.version,
            took.as_secs_f64()
        );
        Ok::<(), Box<dyn std::error::Error>>(())
    }
    .await;
    // Removal gets its own deadline: it must run even when the deploy used up the job's.
    let left = engine
        .remove(&app, Deadline::after(Duration::from_secs(120)))
        .await?;
    println!("removed; left behind: {left:?}");
    outcome
}
