//! custom-html on a real Swarm: the generic install tier, then these functional tests
//! against the deployed head release (1.1.0+1.22.1).

use ccci::{Http, Stack};
use std::time::{SystemTime, UNIX_EPOCH};

const CONTENT: &str = "/usr/share/nginx/html";

fn unique(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}-{nanos:x}-{}", std::process::id())
}

/// A file written into the content volume comes back byte for byte, including UTF-8 and a
/// trailing newline: the volume really is what nginx serves.
#[ccci::functional]
async fn serves_the_exact_bytes_of_the_content_volume(stack: &Stack, http: &Http) -> ccci::Result {
    let name = format!("{}.txt", unique("ccci-probe"));
    let content = format!("ccci probe ✓ {}\nsecond line\n", unique("marker"));
    let path = format!("{CONTENT}/{name}");
    // The content is an argument, never part of the shell text.
    stack
        .exec_ok(
            "app",
            &[
                "sh",
                "-c",
                r#"printf '%s' "$1" > "$2""#,
                "sh",
                &content,
                &path,
            ],
        )
        .await?;

    let page = http.get(&name).await?;
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

/// A path that does not exist is a 404, not the landing page or a 200 error page.
#[ccci::functional]
async fn unknown_paths_are_404(http: &Http) -> ccci::Result {
    let path = unique("/no-such-page");
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
