//! The browser fixture on pages of this host: Debian's Chromium driven over its DevTools
//! pipe, a form filled and clicked as a person would, and the report's picture kept free of
//! secrets (masked, put back after, refused when one stays on the page), every page rendered
//! inside Chromium's sandbox.

use ccci::Browser;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SECRET: &str = "hunter2-c0rrect-h0rse";

fn page(dir: &Path, name: &str, html: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, html).unwrap();
    format!("file://{}", path.display())
}

fn report(dir: &Path) -> PathBuf {
    dir.join("screenshot.png")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_types_clicks_and_reads_the_page_as_a_person_would() {
    let dir = tempfile::tempdir().unwrap();
    let url = page(
        dir.path(),
        "form.html",
        r#"<form onsubmit="event.preventDefault(); document.getElementById('out').textContent = 'hello ' + this.who.value;">
             <input name="who" value="placeholder"><button type="submit" style="width:200px;height:40px">Go</button>
           </form><p id="out"></p>"#,
    );
    let browser = Browser::local(report(dir.path()));
    browser.goto(&url).await.unwrap();
    browser.fill("input[name=who]", "Ada").await.unwrap();
    browser.click("button").await.unwrap();
    let said = browser
        .wait_for(
            "the greeting",
            "document.getElementById('out').textContent",
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(said, "hello Ada", "typing replaces the field's content");
    assert!(browser.text().await.unwrap().contains("hello Ada"));
    let missing = browser.click("#nowhere").await.unwrap_err().to_string();
    assert!(missing.contains("no `#nowhere` on the page"), "{missing}");
    let waited = browser
        .wait_for("a thing that never comes", "null", Duration::from_secs(1))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        waited.contains("a thing that never comes") && waited.contains("form.html"),
        "a wait that gives up names what and where: {waited}"
    );
    let png = browser.png().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}

/// The secret where a page shows one: text, a form field, an attribute, an open shadow root.
fn secret_page(secret: &str) -> String {
    format!(
        r#"<body style="margin:0;font:40px monospace;background:#fff">
             <p id="text">token: {secret}</p>
             <input id="field" style="font:40px monospace;width:900px" value="{secret}">
             <p id="attr" title="{secret}">hover</p>
             <div id="host"></div>
             <script>document.getElementById('host').attachShadow({{mode: 'open'}}).innerHTML = '<b>{secret}</b>';</script>
           </body>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_picture_masks_every_secret_and_puts_the_page_back() {
    let dir = tempfile::tempdir().unwrap();
    let shown = page(dir.path(), "secret.html", &secret_page(SECRET));
    let masked = page(
        dir.path(),
        "masked.html",
        &secret_page(&"\u{2022}".repeat(8)),
    );
    let browser = Browser::local(report(dir.path()));

    browser.goto(&masked).await.unwrap();
    let as_masked = browser.png().await.unwrap();
    browser.goto(&shown).await.unwrap();
    let unmasked = browser.png().await.unwrap();
    assert_ne!(as_masked, unmasked, "the secret shows on the page as it is");

    browser.never_show(SECRET);
    let path = browser
        .picture_for_report()
        .await
        .unwrap()
        .expect("a local browser takes pictures");
    let picture = std::fs::read(&path).unwrap();
    assert_eq!(path, report(dir.path()));
    assert_eq!(
        picture, as_masked,
        "the picture is of the page with the secret masked wherever it was shown"
    );
    let back = browser
        .eval("[document.getElementById('text').textContent, document.getElementById('field').value, document.getElementById('attr').title, document.getElementById('host').shadowRoot.textContent].every(t => t.includes('hunter2'))")
        .await
        .unwrap();
    assert_eq!(
        back, true,
        "the page is put back as it was after the picture"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_puts_a_secret_back_gets_no_picture_and_the_error_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    // The page undoes every change made to its text: the mask cannot hold.
    let url = page(
        dir.path(),
        "stubborn.html",
        &format!(
            r#"<p id="t">{SECRET}</p><script>
                 const t = document.getElementById('t');
                 new MutationObserver(() => {{ if (t.textContent !== '{SECRET}') t.textContent = '{SECRET}'; }})
                   .observe(t, {{subtree: true, characterData: true, childList: true}});
               </script>"#
        ),
    );
    let browser = Browser::local(report(dir.path()));
    browser.goto(&url).await.unwrap();
    browser.never_show(SECRET);
    let refused = browser.picture_for_report().await.unwrap_err().to_string();
    assert!(refused.contains("still on the page"), "{refused}");
    assert!(
        !refused.contains(SECRET),
        "the error never shows the secret"
    );
    assert!(!report(dir.path()).exists(), "no picture is kept");
}

/// A head's pages are rendered inside Chromium's own sandbox (namespaces and seccomp), even
/// when ccci runs as root: Chromium's report on itself says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_rendered_inside_chromiums_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let browser = Browser::local(report(dir.path()));
    browser.goto("chrome://sandbox").await.unwrap();
    let said = browser
        .wait_for(
            "Chromium's sandbox report",
            "document.body.innerText.includes('sandboxed') ? document.body.innerText : null",
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let said = said.as_str().unwrap_or_default();
    assert!(
        said.contains("You are adequately sandboxed.")
            && said.contains("Seccomp-BPF sandbox\tYes")
            && said.contains("PID namespaces\tYes"),
        "{said}"
    );
}
