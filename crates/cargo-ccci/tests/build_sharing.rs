//! `cargo ccci run` builds cargo-ccci, then a recipe's test binary: every dependency the two
//! share must resolve to the same features, or cargo builds it (and everything above it,
//! ccci itself included) a second time for the recipe (about 40 s on two cores, measured
//! when the run store first joined cargo-ccci). So the store and the dashboard live in
//! ccci-service, and this test holds the two graphs alike.

use std::collections::BTreeMap;
use std::process::Command;

/// Every package `package` builds on (`edges`: which kinds of dependency), with the features
/// it gets.
fn features(package: &str, edges: &str) -> BTreeMap<String, String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "-p", package, "-e", edges])
        .args(["--prefix", "none", "-f", "{p}|{f}"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (p, f) = l.trim_end_matches(" (*)").split_once('|')?;
            // `name vX.Y.Z (path)`: the name and version identify it.
            let id: Vec<&str> = p.split(' ').take(2).collect();
            Some((id.join(" "), f.to_string()))
        })
        .collect()
}

#[test]
fn cargo_ccci_and_a_recipe_test_crate_build_their_shared_dependencies_alike() {
    let ccci = features("cargo-ccci", "normal,build");
    // A recipe crate's test binary: ccci is its dev-dependency.
    let recipe = features("recipe-custom-html", "normal,build,dev");
    assert!(
        ccci.len() > 50 && recipe.len() > 50,
        "both graphs were read ({} and {} packages)",
        ccci.len(),
        recipe.len()
    );
    let differ: Vec<String> = ccci
        .iter()
        .filter_map(|(id, f)| {
            let other = recipe.get(id)?;
            (other != f).then(|| format!("{id}: cargo-ccci [{f}], recipe [{other}]"))
        })
        .collect();
    assert!(
        differ.is_empty(),
        "shared dependencies with other features are built twice: {differ:#?}"
    );
    for store_only in ["rusqlite", "postgres", "axum", "maud", "refinery"] {
        assert!(
            !ccci.keys().chain(recipe.keys()).any(|id| id.starts_with(&format!("{store_only} "))),
            "{store_only} is the run store's: it belongs in ccci-service, not in cargo-ccci or a recipe"
        );
    }
}
