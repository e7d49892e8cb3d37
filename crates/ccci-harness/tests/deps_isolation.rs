//! Realms isolate runs: four runs of the apache-oidc recipe (recipes/apache-oidc) at once on
//! the real local Swarm, all signing in through the one warm OIDC provider, each get a realm
//! of their own (their own issuer and keys). A token one run's realm signed opens that run's
//! app and is refused by every other run's app; every realm is gone afterwards. A binary of
//! its own, so nothing else shares the Swarm's attention with the four.

mod common;

use ccci::core::{Rung, Verdict};
use ccci::{run_recipe, HookCtx, Hooks, Http, Settings};
use common::oidc::{call_api, realm_token, value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const RUNS: usize = 4;

/// Each run's token, by its issuer: the runs meet here.
static TOKENS: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// Every run puts a token of its realm's where the others find it, waits for theirs, and
/// calls its own app with each: its own opens the API, every other run's is refused.
#[ccci::functional]
async fn tokens_of_other_realms_are_refused(ctx: &HookCtx, http: &Http) -> ccci::Result {
    let issuer = value(ctx, "issuer")?.to_string();
    let own = realm_token(ctx, http).await?;
    TOKENS.lock().unwrap().insert(issuer.clone(), own.clone());
    let waited = Instant::now();
    let tokens = loop {
        let tokens = TOKENS.lock().unwrap().clone();
        if tokens.len() >= RUNS {
            break tokens;
        }
        ccci::ensure!(
            waited.elapsed() < Duration::from_secs(300),
            "only {} of {RUNS} runs got a token within 5 min",
            tokens.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for (other, token) in &tokens {
        let page = call_api(ctx, http, token).await?;
        let expected = if *other == issuer { 200 } else { 401 };
        ccci::ensure!(
            page.status == expected,
            "the app of the realm {issuer} answered {} (not {expected}) to a token of {other}",
            page.status
        );
    }
    Ok(())
}

#[test]
fn four_runs_get_four_realms_and_a_token_of_one_is_refused_by_the_others() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../recipes/apache-oidc");
    let runs = common::runs_dir("deps-isolation");
    let hooks = || Hooks {
        functional: Hooks::registered().functional,
        ..Hooks::none()
    };
    let handles: Vec<_> = (0..RUNS)
        .map(|_| {
            let (crate_dir, runs, hooks) = (crate_dir.clone(), runs.clone(), hooks());
            std::thread::spawn(move || {
                let mut meta = ccci::load_meta(&crate_dir).unwrap();
                // Only the isolation test: the recipe's own tests (which sign in) are linked
                // into its own test binary, and the restore is proven by ccci's markers.
                meta.expected_na
                    .insert(Rung::Upgrade, "one release is enough here".into());
                run_recipe(Settings::new(&crate_dir, &runs), meta, hooks).unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut issuers = Vec::new();
    for r in &reports {
        let res = &r.results;
        assert_eq!(
            res.verdict,
            Verdict::Green,
            "{}: {:?}\n{:#?}",
            res.stack,
            res.verdict_reasons,
            res.tests
        );
        common::assert_clean(res);
        let oidc = res.dependencies.iter().find(|d| d.name == "oidc").unwrap();
        issuers.push(oidc.values["issuer"].clone());
    }
    issuers.sort();
    issuers.dedup();
    assert_eq!(
        issuers.len(),
        RUNS,
        "each run has its own issuer: {issuers:?}"
    );
    // The provider holds none of them any more.
    let remaining = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let swarm = ccci_swarm::Swarm::connect().await.unwrap();
        let settings = Settings::new(&crate_dir, &runs);
        let domain = ccci::oidc_domain(&settings, None);
        let provider = ccci::oidc_provider(&settings, &swarm, &domain)
            .await
            .unwrap();
        provider
            .status(ccci::Deadline::after(Duration::from_secs(60)))
            .await
            .unwrap()
            .realms
    });
    for issuer in &issuers {
        assert!(
            !remaining.iter().any(|r| issuer.ends_with(&format!("/{r}"))),
            "{issuer} remains in {remaining:?}"
        );
    }
}
