//! apache-oidc on a real Swarm, signing its users in through the realm ccci gives the run in
//! its warm OIDC provider. The generic tiers deploy 1.0.0, upgrade it to the head (1.1.0),
//! back up and restore its notes volume (ccci's markers prove the data came back); these
//! tests sign in for real.
//!
//! The sign-in is the authorization code flow as a browser does it, without the browser:
//! the app sends the user to the provider; the provider's login page (a script in a browser)
//! posts the user's credentials to its login API and the user's consent to its grant API,
//! then sends the user back to the app with a code; the app exchanges the code for tokens
//! (server to server, through Traefik), checks the ID token against the realm's keys, and
//! serves the private page. Each step below is one of those requests.

use ccci::{Context as _, HookCtx, Http, Page};
use std::collections::BTreeMap;

/// The run's OIDC values (`ctx.deps["oidc"]`), or a failure saying it was not provided.
fn oidc(ctx: &HookCtx) -> ccci::Result<&BTreeMap<String, String>> {
    ctx.deps
        .get("oidc")
        .context("the `oidc` dependency was not provided to this run, so nobody can sign in")
}

/// `key` of the OIDC values.
fn value<'a>(oidc: &'a BTreeMap<String, String>, key: &str) -> ccci::Result<&'a str> {
    oidc.get(key)
        .map(String::as_str)
        .with_context(|| format!("the oidc dependency has no `{key}`"))
}

/// The provider's own URL: the issuer is `<provider>/api/<realm>`.
fn provider_url(oidc: &BTreeMap<String, String>) -> ccci::Result<String> {
    let issuer = value(oidc, "issuer")?;
    let realm = value(oidc, "realm")?;
    Ok(issuer
        .strip_suffix(&format!("/api/{realm}"))
        .with_context(|| format!("issuer {issuer} does not end in /api/{realm}"))?
        .to_string())
}

/// Where `page` redirects to, when it is a redirect.
fn redirect(page: &Page, what: &str) -> ccci::Result<String> {
    ccci::ensure!(
        matches!(page.status, 302 | 303),
        "{what}: expected a redirect, got {}: {}",
        page.status,
        page.text().chars().take(300).collect::<String>()
    );
    Ok(page
        .header("location")
        .context("a redirect without Location")?
        .to_string())
}

/// The app sends an anonymous user to the realm's authorization endpoint; returns that URL.
async fn start_sign_in(http: &Http, issuer: &str) -> ccci::Result<String> {
    let start = http.get("/private/").await?;
    let auth = redirect(&start, "GET /private/ without a session")?;
    ccci::ensure!(
        auth.starts_with(&format!("{issuer}/auth?")),
        "the app sent the user to {auth}, not to this run's realm ({issuer}/auth)"
    );
    // Without a session there, the provider shows its login page.
    let login = redirect(
        &http.request(http.client().get(&auth)).await?,
        "the authorization endpoint",
    )?;
    ccci::ensure!(
        login.contains("login.html"),
        "the provider sent the user to {login}, not its login page"
    );
    let page = http.request(http.client().get(&login)).await?;
    ccci::ensure!(
        page.status == 200,
        "the provider's login page answered {}",
        page.status
    );
    Ok(auth)
}

/// What the login page does once the provider answered the credentials: back to the
/// authorization endpoint `auth`; returns where the provider sends the user from there.
async fn continue_sign_in(http: &Http, auth: &str, what: &str) -> ccci::Result<String> {
    let page = http
        .request(http.client().get(format!("{auth}&g_continue")))
        .await?;
    redirect(&page, what)
}

/// The login page's request: the user's credentials to the provider's login API.
async fn post_credentials(
    http: &Http,
    provider: &str,
    user: &str,
    password: &str,
) -> ccci::Result<Page> {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    http.request(
        http.client()
            .post(format!("{provider}/api/auth/"))
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

/// A user signs in through the provider and lands back on the app, signed in: the private
/// page names them.
#[ccci::functional]
async fn a_user_signs_in_through_the_provider_and_the_page_names_them(
    ctx: &HookCtx,
    http: &Http,
) -> ccci::Result {
    let oidc = oidc(ctx)?;
    let (issuer, provider) = (value(oidc, "issuer")?, provider_url(oidc)?);
    let (user, password) = (value(oidc, "username")?, value(oidc, "password")?);
    let auth = start_sign_in(http, issuer).await?;
    let signed_in = post_credentials(http, &provider, user, password).await?;
    ccci::ensure!(
        signed_in.status == 200,
        "the provider refused the user's own password: {}",
        signed_in.status
    );
    // The consent the login page asks for: the app may read the user's openid scope.
    let consent = http
        .request(
            http.client()
                .put(format!(
                    "{provider}/api/auth/grant/{}",
                    value(oidc, "client_id")?
                ))
                .header("content-type", "application/json")
                .body(r#"{"scope":"openid"}"#),
        )
        .await?;
    ccci::ensure!(
        consent.status == 200,
        "the consent was refused: {}",
        consent.status
    );
    let back = continue_sign_in(http, &auth, "the authorization endpoint, signed in").await?;
    ccci::ensure!(
        back.starts_with(&ctx.url("/private/redirect_uri?")) && back.contains("code="),
        "the provider sent the user to {back}, not back to the app with a code"
    );
    // The app exchanges the code (with the provider, through Traefik) and keeps a session.
    let exchanged = http.request(http.client().get(&back)).await?;
    let home = redirect(&exchanged, "the app's redirect URI with a code")?;
    ccci::ensure!(
        home.ends_with("/private/"),
        "after the sign-in the app sent the user to {home}"
    );
    let page = http.get("/private/").await?;
    ccci::ensure!(
        page.status == 200,
        "the private page answered {} after signing in",
        page.status
    );
    ccci::ensure!(
        page.text()
            .contains(&format!("<span id=\"name\">{user}</span>")),
        "the private page does not name {user}: {}",
        page.text()
    );
    Ok(())
}

/// A wrong password does not get in: the provider refuses it, never sends the user back with
/// a code, and the private page stays closed.
#[ccci::functional]
async fn a_wrong_password_does_not_get_in(ctx: &HookCtx, http: &Http) -> ccci::Result {
    let oidc = oidc(ctx)?;
    let (issuer, provider) = (value(oidc, "issuer")?, provider_url(oidc)?);
    // A client of its own: no session from another test.
    let fresh = http.fresh()?;
    let auth = start_sign_in(&fresh, issuer).await?;
    let wrong = format!("{}-not", value(oidc, "password")?);
    let refused = post_credentials(&fresh, &provider, value(oidc, "username")?, &wrong).await?;
    ccci::ensure!(
        refused.status == 401,
        "the provider answered {} to a wrong password",
        refused.status
    );
    let again = continue_sign_in(
        &fresh,
        &auth,
        "the authorization endpoint after a wrong password",
    )
    .await?;
    ccci::ensure!(
        !again.starts_with(&ctx.url("/")),
        "after a wrong password the provider sent the user back to the app: {again}"
    );
    let page = fresh.get("/private/").await?;
    ccci::ensure!(
        page.status == 302,
        "the private page answered {} to a user whose password was wrong",
        page.status
    );
    Ok(())
}

/// The API takes a bearer token this run's realm signed, and nothing else.
#[ccci::functional]
async fn the_api_takes_only_tokens_the_realm_signed(ctx: &HookCtx, http: &Http) -> ccci::Result {
    let oidc = oidc(ctx)?;
    let token = http
        .request(
            http.client()
                .post(format!("{}/token", value(oidc, "issuer")?))
                .basic_auth(
                    value(oidc, "client_id")?,
                    Some(value(oidc, "client_secret")?),
                )
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "grant_type=password&scope=openid&username={}&password={}",
                    value(oidc, "username")?,
                    value(oidc, "password")?
                )),
        )
        .await?;
    ccci::ensure!(
        token.status == 200,
        "the realm's token endpoint answered {}: {}",
        token.status,
        token.text()
    );
    let body = token.json()?;
    let access = body["access_token"].as_str().context("no access_token")?;
    let call = |bearer: Option<String>| {
        let mut req = http.client().get(ctx.url("/api/whoami.shtml"));
        if let Some(b) = bearer {
            req = req.header("authorization", format!("Bearer {b}"));
        }
        http.request(req)
    };
    let ok = call(Some(access.to_string())).await?;
    ccci::ensure!(
        ok.status == 200 && !ok.text().trim().is_empty(),
        "the API answered {} to the realm's token",
        ok.status
    );
    // The same token with its signature broken, and no token at all.
    let forged = format!(
        "{}{}",
        &access[..access.len() - 4],
        if access.ends_with("AAAA") {
            "BBBB"
        } else {
            "AAAA"
        }
    );
    for (what, bearer) in [("a forged token", Some(forged)), ("no token", None)] {
        let page = call(bearer).await?;
        ccci::ensure!(
            page.status == 401,
            "the API answered {} to {what}",
            page.status
        );
    }
    Ok(())
}

/// The public page needs no sign-in.
#[ccci::functional]
async fn the_public_page_is_open(http: &Http) -> ccci::Result {
    let page = http.get("/").await?;
    ccci::ensure!(
        page.status == 200 && page.text().contains("A public page"),
        "GET / answered {}",
        page.status
    );
    Ok(())
}

ccci::main!();
