//! Attribute macros for recipe tests. Use them through the `ccci` crate
//! (`#[ccci::functional]`, `#[ccci::lifecycle(…)]`, `#[ccci::backup_verify]`), never directly.
//!
//! Each macro is a shim in the style of sqlx's `#[sqlx::test]`: it checks the *shape* of the
//! function (borrowed parameters, a return type, no generics, valid arguments, no `&Snapshot`
//! before a backup can exist, no two steps of one name) and registers it; which fixtures exist is decided by the `ccci::Fixture` trait, so asking for one that
//! does not exist is a type error whose message names the ones that do. When the input is
//! wrong it still emits the function next to spanned `compile_error!`s, so editors keep
//! working (as tokio-macros does). Parsing and checking live in `attr.rs`, unit-tested.

use proc_macro::TokenStream;

mod attr;

use attr::Kind;

/// A functional test of the recipe: runs after the generic tiers, against the deployed head.
///
/// ```text
/// #[ccci::functional]
/// async fn serves_the_landing_page(http: &ccci::Http) -> ccci::Result {
///     let page = http.get("/").await?;
///     ccci::ensure!(page.status == 200, "GET / answered {}", page.status);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn functional(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Kind::Functional, args.into(), item.into()).into()
}

/// Recipe code attached to a lifecycle op: `before` it (seed data) or `after` it (assert).
/// Ops: `install` (after only: nothing exists before it), `upgrade`, `backup`, `restore`.
///
/// ```text
/// #[ccci::lifecycle(before = backup)]
/// async fn seed_marker(stack: &ccci::Stack, state: &ccci::OpState) -> ccci::Result { … }
/// ```
#[proc_macro_attribute]
pub fn lifecycle(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Kind::Lifecycle, args.into(), item.into()).into()
}

/// A read-only integrity check of a fresh backup: `Ok(())` accepts the snapshot; an error
/// rejects it with its message as the reason (in results.json), and ccci takes the whole
/// backup again, up to three attempts.
///
/// ```text
/// #[ccci::backup_verify]
/// fn dump_is_complete(snapshot: &ccci::Snapshot) -> ccci::Result {
///     let dump = snapshot.read("/backups/dump.sql")?.context("the snapshot has no dump")?;
///     ccci::ensure!(dump.ends_with(b"-- dump complete\n"), "the dump was cut short");
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn backup_verify(args: TokenStream, item: TokenStream) -> TokenStream {
    attr::expand(Kind::BackupVerify, args.into(), item.into()).into()
}
