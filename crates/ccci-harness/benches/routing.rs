//! What routing through Traefik costs against a host port, on the same recipe (custom-html,
//! the fixture releases), in one run of this benchmark: the wall time of a whole run (the
//! ladder and teardown) and the time of one request from the recipe's own `Http` fixture.
//!
//! ```text
//! scripts/local-swarm && cargo bench -p ccci-harness --bench routing
//! ```
//!
//! Needs the local Swarm with its Traefik (scripts/local-swarm). Requests are timed inside the
//! run by a functional test of this binary, 200 sequential GETs of `/` after 20 to warm up.

use ccci::{Hooks, Http, Key, OpState, Settings};
use std::path::Path;
use std::time::{Duration, Instant};

const REQUESTS: usize = 200;
const MEDIAN_US: Key<u64> = Key::new("median_us");
const P95_US: Key<u64> = Key::new("p95_us");

#[ccci::functional]
async fn time_requests(http: &Http, state: &OpState) -> ccci::Result {
    for _ in 0..20 {
        http.get("/").await?;
    }
    let mut times = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let t = Instant::now();
        let page = http.get("/").await?;
        times.push(t.elapsed());
        ccci::ensure!(page.status == 200, "GET / answered {}", page.status);
    }
    times.sort();
    state.put(MEDIAN_US, &(times[REQUESTS / 2].as_micros() as u64))?;
    state.put(P95_US, &(times[REQUESTS * 95 / 100].as_micros() as u64))?;
    Ok(())
}

fn main() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/custom-html");
    let runs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-routing");
    println!(
        "routing    whole run   request median   request p95   (custom-html, {REQUESTS} GETs)"
    );
    for routing in [ccci::Routing::Traefik, ccci::Routing::HostPort] {
        let meta = ccci::load_meta(&crate_dir).expect("recipes/custom-html/ccci.yml");
        let mut settings = Settings::new(&crate_dir, &runs);
        settings.routing = Some(routing);
        let hooks = Hooks::registered();
        let started = Instant::now();
        let report = ccci::run_recipe(settings, meta, hooks).expect("the run produces results");
        let run = started.elapsed();
        assert_eq!(
            report.results.routing,
            Some(routing),
            "the run used the routing asked for"
        );
        let state: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(Path::new(&report.results.run_dir).join("op_state.json"))
                .expect("op_state.json"),
        )
        .expect("op_state.json is JSON");
        let us = |k: &str| {
            Duration::from_micros(
                state[k]
                    .as_u64()
                    .unwrap_or_else(|| panic!("no {k}: {:#?}", report.results.tests)),
            )
        };
        println!(
            "{:<10} {:>8.1} s   {:>11.2} ms   {:>8.2} ms",
            routing.as_str(),
            run.as_secs_f64(),
            us("median_us").as_secs_f64() * 1000.0,
            us("p95_us").as_secs_f64() * 1000.0
        );
    }
}
