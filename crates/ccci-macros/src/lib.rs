//! Attribute macros for recipe tests. Use them through the `ccci` crate
//! (`#[ccci::functional]`), never directly.
//!
//! The macro is a shim in the style of sqlx's `#[sqlx::test]`: it checks the *shape* of the
//! function (borrowed parameters, a return type, no generics) and registers it; which
//! fixtures exist is decided by the `ccci::Fixture` trait, so asking for one that does not
//! exist is a type error with a message naming the ones that do. When the input is wrong it
//! still emits the function unchanged next to a spanned `compile_error!`, so editors keep
//! working (as tokio-macros does).

use proc_macro::TokenStream;

mod functional;

/// Marks an `async fn` or `fn` as a functional test of the recipe. It runs after the generic
/// tiers, against the deployed app; its parameters are fixtures, borrowed:
///
/// ```ignore
/// #[ccci::functional]
/// async fn serves_the_landing_page(ctx: &ccci::HookCtx, http: &ccci::Http) -> ccci::Result {
///     let page = http.get("/").await?;
///     ccci::ensure!(page.status == 200, "GET / answered {}", page.status);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn functional(args: TokenStream, item: TokenStream) -> TokenStream {
    functional::expand(args.into(), item.into()).into()
}
