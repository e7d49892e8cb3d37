//! The matrix-synapse recipe's ccci tests live in `tests/recipe.rs`; its settings in
//! `ccci.yml`; its releases in `recipe/<version>/`, built into a real git repository for each
//! run.
