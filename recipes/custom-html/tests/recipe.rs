//! custom-html on a real Swarm. The generic tiers deploy 1.0.0, upgrade it in place to the
//! head (1.1.0), back up and restore its content volume; these functions seed and check data
//! around those ops, then test the site itself.

use ccci::{Context as _, HookCtx, Http, Key, OpState, Routing, Snapshot, Stack};

const CONTENT: &str = "/usr/share/nginx/html";

/// The page written before the upgrade, looked for after it.
const KEPT_PAGE: Key<String> = Key::new("kept_page");
/// The marker written before the backup, looked for in the snapshot and after the restore.
const MARKER: Key<String> = Key::new("marker");

/// Writes `content` to `name` in the content volume; the content is an argument, never part
/// of the shell text.
async fn write_page(stack: &Stack, name: &str, content: &str) -> ccci::Result {
    let path = format!("{CONTENT}/{name}");
    stack
        .exec_ok(
            "app",
            &[
                "sh",
                "-c",
                r#"printf '%s' "$1" > "$2""#,
                "sh",
                content,
                &path,
            ],
        )
        .await?;
    Ok(())
}

async fn expect_page(http: &Http, name: &str, content: &str) -> ccci::Result {
    let page = http.get(name).await?;
    ccci::ensure!(
        page.status == 200,
        "GET /{name} answered {}, expected 200",
        page.status
    );
    ccci::ensure!(
        page.body == content.as_bytes(),
        "GET /{name} served {:?}, expected {:?}",
        page.text(),
        content
    );
    Ok(())
}

/// Content written on the old release…
#[ccci::lifecycle(before = upgrade)]
async fn seed_content_before_upgrade(stack: &Stack, state: &OpState) -> ccci::Result {
    let content = format!("kept across the upgrade: {}\n", ccci::unique("page"));
    write_page(stack, "kept.html", &content).await?;
    state.put(KEPT_PAGE, &content)?;
    Ok(())
}

/// …is served unchanged by the new one: the upgrade kept the content volume.
#[ccci::lifecycle(after = upgrade)]
async fn content_survives_the_upgrade(http: &Http, state: &OpState) -> ccci::Result {
    expect_page(http, "kept.html", &state.read(KEPT_PAGE)?).await
}

/// A unique marker in the content volume, remembered for after the restore: only data the
/// restore brings back proves it.
#[ccci::lifecycle(before = backup)]
async fn seed_marker(stack: &Stack, state: &OpState) -> ccci::Result {
    let marker = format!("ccci marker ✓ {}\n", ccci::unique("backup"));
    write_page(stack, "ccci-marker.txt", &marker).await?;
    state.put(MARKER, &marker)?;
    Ok(())
}

/// The snapshot really holds the marker, byte for byte.
#[ccci::backup_verify]
fn snapshot_holds_the_marker(snapshot: &Snapshot, state: &OpState) -> ccci::Result {
    let held = snapshot
        .read(&format!("{CONTENT}/ccci-marker.txt"))?
        .context("the snapshot has no ccci-marker.txt")?;
    ccci::ensure!(
        held == state.read(MARKER)?.as_bytes(),
        "the snapshot's ccci-marker.txt is not the marker written before the backup"
    );
    Ok(())
}

/// Destroy the marker, so only the restore can bring it back.
#[ccci::lifecycle(before = restore)]
async fn destroy_marker(stack: &Stack, http: &Http) -> ccci::Result {
    stack
        .exec_ok("app", &["rm", "-f", &format!("{CONTENT}/ccci-marker.txt")])
        .await?;
    let page = http.get("ccci-marker.txt").await?;
    ccci::ensure!(
        page.status == 404,
        "the marker is still served after deleting it ({})",
        page.status
    );
    Ok(())
}

/// The restore brought the marker back, byte for byte.
#[ccci::lifecycle(after = restore)]
async fn marker_is_back_byte_for_byte(http: &Http, state: &OpState) -> ccci::Result {
    expect_page(http, "ccci-marker.txt", &state.read(MARKER)?).await
}

/// A file written into the content volume comes back byte for byte, including UTF-8 and a
/// trailing newline: the volume really is what nginx serves.
#[ccci::functional]
async fn serves_the_exact_bytes_of_the_content_volume(stack: &Stack, http: &Http) -> ccci::Result {
    let name = format!("{}.txt", ccci::unique("ccci-probe"));
    let content = format!("ccci probe ✓ {}\nsecond line\n", ccci::unique("marker"));
    write_page(stack, &name, &content).await?;
    expect_page(http, &name, &content).await
}

/// A path that does not exist is a 404, not the landing page or a 200 error page.
#[ccci::functional]
async fn unknown_paths_are_404(http: &Http) -> ccci::Result {
    let path = ccci::unique("/no-such-page");
    let page = http.get(&path).await?;
    ccci::ensure!(
        page.status == 404,
        "GET {path} answered {}, expected 404",
        page.status
    );
    Ok(())
}

/// A fresh content volume starts with the image's landing page.
#[ccci::functional]
async fn landing_page_is_served(http: &Http) -> ccci::Result {
    let page = http.get("/").await?;
    ccci::ensure!(page.status == 200, "GET / answered {}", page.status);
    ccci::ensure!(
        page.text().contains("<h1>Welcome to nginx!</h1>"),
        "GET / did not serve the landing page: {}",
        page.text()
    );
    Ok(())
}

/// `/files/<name>` is the head release's strip-prefix route. Through Traefik it serves
/// `<name>` from the content volume; on a host port Traefik's routers and middlewares are not
/// there, so nginx itself answers 404. Either way the test proves which routing the run had.
#[ccci::functional]
async fn the_files_route_strips_its_prefix_only_through_traefik(
    ctx: &HookCtx,
    stack: &Stack,
    http: &Http,
) -> ccci::Result {
    let name = format!("{}.txt", ccci::unique("routed"));
    let content = format!("routed by Traefik ✓ {}\n", ccci::unique("prefix"));
    write_page(stack, &name, &content).await?;
    match ctx.routing {
        Routing::Traefik => expect_page(http, &format!("files/{name}"), &content).await,
        Routing::HostPort => {
            let page = http.get(&format!("/files/{name}")).await?;
            ccci::ensure!(
                page.status == 404,
                "on a host port there is no strip-prefix middleware, yet /files/{name} answered {}",
                page.status
            );
            Ok(())
        }
    }
}

/// The running stack is the head release: 1.1.0's vendored nginx config (a versioned Swarm
/// config from abra.sh) is what answers.
#[ccci::functional]
async fn runs_the_head_release_config(http: &Http) -> ccci::Result {
    let page = http.get("/").await?;
    ccci::ensure!(
        page.header("x-custom-html-release") == Some("1.1.0"),
        "expected header X-Custom-Html-Release: 1.1.0 from the 1.1.0 nginx config, got {:?}",
        page.header("x-custom-html-release")
    );
    Ok(())
}

ccci::main!();
