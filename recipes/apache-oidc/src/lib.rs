//! The apache-oidc recipe's ccci tests live in `tests/recipe.rs`; its settings (the OIDC
//! dependency, and how its values reach the app) in `ccci.yml`; its releases in
//! `recipe/<version>/`, built into a real git repository for each run.
