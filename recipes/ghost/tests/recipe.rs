//! ghost on a real Swarm: real Ghost 5 from npm on MariaDB. Ghost 5.130.0 is installed on an
//! empty database (its first boot creates the whole schema and its fixtures), upgraded in place
//! to 5.130.6 (its migrator checks the schema on the first start), backed up by the db
//! service's mariadb-dump pre-hook (gzipped into its volume) and restored by its post-hook. A
//! published post made through the Admin API with a cookie session is the data proof at every
//! step. Why this pair of releases: docs/heavy-apps.md.

use ccci::{Browser, Context as _, Http, Key, OpState, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

/// The site owner made on the fresh install, signed in as by every admin call.
#[derive(Serialize, Deserialize)]
struct Owner {
    email: String,
    password: String,
}

/// A post the tests published, remembered for a later op.
#[derive(Serialize, Deserialize)]
struct Post {
    id: String,
    slug: String,
    marker: String,
}

const OWNER: Key<Owner> = Key::new("owner");
/// Published by Ghost 5.130.0, looked for after the upgrade.
const PRE_UPGRADE: Key<Post> = Key::new("pre_upgrade");
/// Its tag (a post is titled `ccci <tag>`).
const PRE_UPGRADE_TAG: &str = "before the upgrade";
/// The tag of the post the browser finds in the editor.
const BROWSER_TAG: &str = "seen in the editor";
/// Published before the backup, looked for in the dump and after the restore.
const MARKER: Key<Post> = Key::new("marker");

/// Where the db service's pre-hook leaves the dump (backupbot.backup.volumes.mysql_data.path).
const DUMP: &str = "/var/lib/mysql/backup.sql.gz";
const ADMIN: &str = "/ghost/api/admin";
const PASSWORD_CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A request of Ghost's Admin API: JSON, with the `Origin` its CSRF check requires of a
/// cookie session.
async fn admin(
    http: &Http,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> ccci::Result<ccci::Page> {
    let url = http.url(&format!("{ADMIN}{path}"));
    let origin = http.url("").trim_end_matches('/').to_string();
    let client = http.client();
    let req = match method {
        "GET" => client.get(url),
        "POST" => client.post(url),
        "DELETE" => client.delete(url),
        other => ccci::bail!("the Admin API helper sends GET, POST or DELETE, not {other}"),
    };
    let mut req = req
        .header("origin", origin)
        .header("accept-version", "v5.0");
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    http.request(req).await
}

/// Signs `http` in as the owner (a `ghost-admin-api-session` cookie, kept by the client).
async fn sign_in(http: &Http, state: &OpState) -> ccci::Result {
    let owner = state.read(OWNER)?;
    let page = admin(
        http,
        "POST",
        "/session/",
        Some(json!({"username": owner.email, "password": owner.password})),
    )
    .await?;
    ccci::ensure!(
        page.status == 201,
        "signing in to the Admin API answered {}: {}",
        page.status,
        page.text()
    );
    Ok(())
}

/// Makes the site's owner through the setup API, as a person does in `/ghost/` on a new site,
/// and keeps their credentials.
async fn make_owner(http: &Http, state: &OpState) -> ccci::Result {
    let owner = Owner {
        email: "owner@ccci.test".into(),
        // Ghost refuses a password holding the site's title or the email's words.
        password: ccci::core::random_chars(24, PASSWORD_CHARS)?,
    };
    let page = admin(
        http,
        "POST",
        "/authentication/setup/",
        Some(json!({"setup": [{"name": "ccci", "email": owner.email, "password": owner.password, "blogTitle": "ccci ghost"}]})),
    )
    .await?;
    ccci::ensure!(
        page.status == 201,
        "setting up the owner answered {}: {}",
        page.status,
        page.text()
    );
    state.put(OWNER, &owner)?;
    Ok(())
}

/// The version Ghost's Admin API reports of itself (full, from `/config/`: signed in).
async fn ghost_version(http: &Http) -> ccci::Result<String> {
    let page = admin(http, "GET", "/config/", None).await?;
    ccci::ensure!(
        page.status == 200,
        "GET {ADMIN}/config/ answered {}: {}",
        page.status,
        page.text()
    );
    page.json()?["config"]["version"]
        .as_str()
        .map(String::from)
        .with_context(|| format!("{ADMIN}/config/ has no version: {}", page.text()))
}

/// A lexical document of one paragraph: Ghost 5's editor format.
fn lexical(text: &str) -> String {
    json!({"root": {"children": [{"children": [{"detail": 0, "format": 0, "mode": "normal",
        "style": "", "text": text, "type": "extended-text", "version": 1}],
        "direction": "ltr", "format": "", "indent": 0, "type": "paragraph", "version": 1}],
        "direction": "ltr", "format": "", "indent": 0, "type": "root", "version": 1}})
    .to_string()
}

/// Publishes a post holding a unique marker through the Admin API.
async fn publish(http: &Http, tag: &str) -> ccci::Result<Post> {
    let marker = ccci::unique(tag);
    let page = admin(
        http,
        "POST",
        "/posts/",
        Some(json!({"posts": [{"title": format!("ccci {tag}"), "lexical": lexical(&marker), "status": "published"}]})),
    )
    .await?;
    ccci::ensure!(
        page.status == 201,
        "creating a post answered {}: {}",
        page.status,
        page.text()
    );
    let post = &page.json()?["posts"][0];
    Ok(Post {
        id: post["id"]
            .as_str()
            .context("the new post has no id")?
            .into(),
        slug: post["slug"]
            .as_str()
            .context("the new post has no slug")?
            .into(),
        marker,
    })
}

/// The post `id` as the Admin API has it, `None` when it answers 404.
async fn admin_post(http: &Http, id: &str) -> ccci::Result<Option<Value>> {
    let page = admin(
        http,
        "GET",
        &format!("/posts/{id}/?formats=lexical,html"),
        None,
    )
    .await?;
    match page.status {
        200 => Ok(Some(page.json()?["posts"][0].clone())),
        404 => Ok(None),
        s => ccci::bail!("GET {ADMIN}/posts/{id}/ answered {s}: {}", page.text()),
    }
}

/// The post's public page holds its marker: Ghost rendered it through the theme. A new post
/// reaches Ghost's router within moments of being published, so a 404 is asked again briefly.
async fn public_page_holds(http: &Http, post: &Post) -> ccci::Result {
    let path = format!("/{}/", post.slug);
    let mut last = None;
    for _ in 0..20 {
        let page = http.get(&path).await?;
        if page.status == 200 && page.text().contains(&post.marker) {
            return Ok(());
        }
        last = Some(page.status);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    ccci::bail!("the public page {path} does not show the post's marker (last answer {last:?})")
}

/// The fresh install runs Ghost 5.130.0 and has no owner yet: the owner is made through the
/// setup API, as a person does in `/ghost/` on a new site.
#[ccci::lifecycle(after = install)]
async fn fresh_install_is_ghost_5_130_0_and_sets_up(http: &Http, state: &OpState) -> ccci::Result {
    let site = http.get(&format!("{ADMIN}/site/")).await?.json()?;
    ccci::ensure!(
        site["site"]["version"] == "5.130",
        "expected Ghost 5.130 on the install, got {site}"
    );
    let setup = admin(http, "GET", "/authentication/setup/", None).await?;
    ccci::ensure!(
        setup.json()?["setup"][0]["status"] == false,
        "a fresh install already has an owner: {}",
        setup.text()
    );
    make_owner(http, state).await?;
    sign_in(http, state).await?;
    let version = ghost_version(http).await?;
    ccci::ensure!(
        version == "5.130.0",
        "the install reports Ghost {version}, not 5.130.0"
    );
    Ok(())
}

/// A post published by Ghost 5.130.0, before the upgrade…
#[ccci::lifecycle(before = upgrade)]
async fn publish_on_5_130_0(http: &Http, state: &OpState) -> ccci::Result {
    sign_in(http, state).await?;
    let post = publish(http, PRE_UPGRADE_TAG).await?;
    public_page_holds(http, &post).await?;
    state.put(PRE_UPGRADE, &post)?;
    Ok(())
}

/// …is served by Ghost 5.130.6 after the upgrade: the app itself reports the new version, not
/// only ccci's label, and the owner made on 5.130.0 signs in again.
#[ccci::lifecycle(after = upgrade)]
async fn upgrade_runs_5_130_6_and_kept_the_post(http: &Http, state: &OpState) -> ccci::Result {
    sign_in(http, state).await?;
    let version = ghost_version(http).await?;
    ccci::ensure!(
        version == "5.130.6",
        "after the upgrade Ghost reports {version}, not 5.130.6"
    );
    let post = state.read(PRE_UPGRADE)?;
    let found = admin_post(http, &post.id).await?.with_context(|| {
        format!(
            "post {} published by 5.130.0 is gone after the upgrade",
            post.id
        )
    })?;
    ccci::ensure!(
        found["lexical"]
            .as_str()
            .is_some_and(|l| l.contains(&post.marker)),
        "post {} lost its marker in the upgrade: {found}",
        post.id
    );
    public_page_holds(http, &post).await
}

/// A unique marker post, remembered for after the restore: only data the restore brings back
/// proves it. It also seeds a canonical deployment (docs/fleet.md), a release deployed with
/// no ladder, whose site has no owner yet: the owner is made first, and kept for the quick
/// lane's tests.
#[ccci::lifecycle(before = backup)]
async fn publish_marker(http: &Http, state: &OpState) -> ccci::Result {
    if state.get::<Owner>(OWNER.name())?.is_none() {
        make_owner(http, state).await?;
    }
    sign_in(http, state).await?;
    let post = publish(http, "backup marker").await?;
    state.put(MARKER, &post)?;
    Ok(())
}

/// The snapshot's dump is a whole gzip stream (a dump cut short is not), mariadb-dump finished
/// it, and it holds the marker post: a backup that "succeeds" with an empty dump is rejected.
#[ccci::backup_verify]
fn dump_is_a_whole_gzip_holding_the_marker(snapshot: &Snapshot, state: &OpState) -> ccci::Result {
    let sql = snapshot
        .read_gz(DUMP)?
        .context("the snapshot has no dump")?;
    ccci::ensure!(!sql.is_empty(), "the dump is an empty gzip");
    let sql = String::from_utf8_lossy(&sql);
    ccci::ensure!(
        sql.contains("-- Dump completed"),
        "the dump was cut short: mariadb-dump's closing line is missing"
    );
    ccci::ensure!(
        sql.contains(&state.read(MARKER)?.marker),
        "the dump lacks the marker post published before the backup"
    );
    Ok(())
}

/// Delete the marker post, so only the restore can bring it back.
#[ccci::lifecycle(before = restore)]
async fn delete_marker(http: &Http, state: &OpState) -> ccci::Result {
    sign_in(http, state).await?;
    let post = state.read(MARKER)?;
    let page = admin(http, "DELETE", &format!("/posts/{}/", post.id), None).await?;
    ccci::ensure!(
        page.status == 204,
        "deleting post {} answered {}",
        post.id,
        page.status
    );
    ccci::ensure!(
        admin_post(http, &post.id).await?.is_none(),
        "post {} is still there after DELETE",
        post.id
    );
    Ok(())
}

/// The restore brought the marker post back with its content.
#[ccci::lifecycle(after = restore)]
async fn marker_post_is_back(http: &Http, state: &OpState) -> ccci::Result {
    sign_in(http, state).await?;
    let post = state.read(MARKER)?;
    let found = admin_post(http, &post.id)
        .await?
        .with_context(|| format!("the restore did not bring post {} back", post.id))?;
    ccci::ensure!(
        found["lexical"]
            .as_str()
            .is_some_and(|l| l.contains(&post.marker)),
        "post {} came back without its marker: {found}",
        post.id
    );
    Ok(())
}

/// The site answers `/` with the theme's page, rendered by the running Ghost.
#[ccci::functional]
async fn site_answers_with_its_theme(http: &Http) -> ccci::Result {
    let page = http.get("/").await?;
    ccci::ensure!(page.status == 200, "GET / answered {}", page.status);
    let html = page.text();
    ccci::ensure!(
        html.contains(r#"<meta name="generator" content="Ghost 5.130">"#),
        "GET / is not a page of Ghost 5.130's theme"
    );
    Ok(())
}

/// The Content API answers with a key of a custom integration made through the Admin API,
/// and lists what is published.
#[ccci::functional]
async fn content_api_answers(http: &Http, state: &OpState) -> ccci::Result {
    sign_in(http, state).await?;
    let page = admin(
        http,
        "POST",
        "/integrations/",
        Some(json!({"integrations": [{"name": ccci::unique("ccci")}]})),
    )
    .await?;
    ccci::ensure!(
        page.status == 201,
        "creating an integration answered {}: {}",
        page.status,
        page.text()
    );
    let keys = page.json()?["integrations"][0]["api_keys"].clone();
    let key = keys
        .as_array()
        .and_then(|k| k.iter().find(|k| k["type"] == "content"))
        .and_then(|k| k["secret"].as_str())
        .with_context(|| format!("the integration has no content key: {keys}"))?
        .to_string();
    let anonymous = http.fresh()?;
    let settings = anonymous
        .get(&format!("/ghost/api/content/settings/?key={key}"))
        .await?;
    ccci::ensure!(
        settings.status == 200,
        "the Content API's settings answered {}",
        settings.status
    );
    ccci::ensure!(
        settings.json()?["settings"]["title"] == "ccci ghost",
        "the Content API's settings are not this site's: {}",
        settings.text()
    );
    let refused = anonymous
        .get("/ghost/api/content/settings/?key=0000000000000000000000000a")
        .await?;
    ccci::ensure!(
        refused.status == 401,
        "the Content API answered {} to an unknown key",
        refused.status
    );
    Ok(())
}

/// `/ghost/` reaches the admin app.
#[ccci::functional]
async fn admin_app_is_served(http: &Http) -> ccci::Result {
    let page = http.fresh()?.get("/ghost/").await?;
    ccci::ensure!(page.status == 200, "GET /ghost/ answered {}", page.status);
    ccci::ensure!(
        page.text()
            .contains(r#"name="ghost-admin/config/environment""#),
        "GET /ghost/ is not Ghost's admin app"
    );
    Ok(())
}

/// A post round-trips: published through the Admin API with a cookie session, read back
/// through the public site.
#[ccci::functional]
async fn post_round_trips_through_the_site(http: &Http, state: &OpState) -> ccci::Result {
    sign_in(http, state).await?;
    let post = publish(http, "functional post").await?;
    public_page_holds(http, &post).await
}

/// A person's way in: the owner signs in to Ghost's admin in a real browser and finds a post
/// in the editor, title and text. The editor is the report's picture (the password typed on
/// the way is masked, if shown).
#[ccci::functional]
async fn owner_signs_in_and_edits_a_post_in_a_browser(
    browser: &Browser,
    http: &Http,
    state: &OpState,
) -> ccci::Result {
    let owner = state.read(OWNER)?;
    sign_in(http, state).await?;
    let post = publish(http, BROWSER_TAG).await?;
    browser.never_show(&owner.password);
    browser.goto("/ghost/#/signin").await?;
    let wait = Duration::from_secs(60);
    browser
        .wait_for(
            "the sign-in form",
            "document.querySelector('input[name=identification]') !== null",
            wait,
        )
        .await?;
    browser
        .fill("input[name=identification]", &owner.email)
        .await?;
    browser
        .fill("input[name=password]", &owner.password)
        .await?;
    browser.click("button[type=submit]").await?;
    browser
        .wait_for(
            "the admin after signing in",
            "!location.hash.startsWith('#/signin') && document.querySelector('.gh-nav') !== null",
            wait,
        )
        .await?;
    browser
        .goto(&format!("/ghost/#/editor/post/{}", post.id))
        .await?;
    let title = json!(format!("ccci {BROWSER_TAG}"));
    browser
        .wait_for(
            "the post's title in the editor",
            &format!("document.querySelector('[data-test-editor-title-input]')?.value === {title}"),
            wait,
        )
        .await?;
    let marker = json!(post.marker);
    browser
        .wait_for(
            "the post's text in the editor",
            &format!(
                "document.querySelector('[data-lexical-editor]')?.innerText.includes({marker})"
            ),
            wait,
        )
        .await?;
    browser.picture_for_report().await?;
    Ok(())
}

ccci::main!();
