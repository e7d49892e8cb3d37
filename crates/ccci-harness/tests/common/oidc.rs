//! What the dependency tests' recipe functions share: the run's OIDC values and a token its
//! realm signs, used on the apache-oidc app's API (`/api/`, which takes only bearer tokens
//! the realm it was configured with signed).

#![allow(dead_code)] // each test binary compiles this module; not every one signs in

use ccci::{Context as _, HookCtx, Http, Page};

/// `key` of the run's `oidc` dependency (`ctx.deps["oidc"]`).
pub fn value<'a>(ctx: &'a HookCtx, key: &str) -> ccci::Result<&'a str> {
    ctx.deps
        .get("oidc")
        .context("the `oidc` dependency was not provided to this run")?
        .get(key)
        .map(String::as_str)
        .with_context(|| format!("the oidc dependency has no `{key}`"))
}

/// An access token for the run's test user, from its realm's token endpoint (the password
/// grant, with the run's confidential client).
pub async fn realm_token(ctx: &HookCtx, http: &Http) -> ccci::Result<String> {
    let answer = http
        .request(
            http.client()
                .post(format!("{}/token", value(ctx, "issuer")?))
                .basic_auth(value(ctx, "client_id")?, Some(value(ctx, "client_secret")?))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "grant_type=password&scope=openid&username={}&password={}",
                    value(ctx, "username")?,
                    value(ctx, "password")?
                )),
        )
        .await?;
    ccci::ensure!(
        answer.status == 200,
        "the realm's token endpoint answered {}: {}",
        answer.status,
        answer.text()
    );
    let body = answer.json()?;
    Ok(body["access_token"]
        .as_str()
        .context("the token endpoint's answer has no access_token")?
        .to_string())
}

/// The app's API called with `token` as its bearer token.
pub async fn call_api(ctx: &HookCtx, http: &Http, token: &str) -> ccci::Result<Page> {
    http.request(
        http.client()
            .get(ctx.url("/api/whoami.shtml"))
            .header("authorization", format!("Bearer {token}")),
    )
    .await
}
