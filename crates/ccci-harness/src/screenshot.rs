//! Pictures taken with Debian's headless Chromium: the app's front page before teardown, and
//! a report card rendered from its SVG. Best effort: a picture that cannot be taken is said,
//! never a failure of the run. The browser can reach only what it is shown: every host name
//! resolves to nothing but the app's own domain.

use ccci_swarm::Deadline;
use std::path::Path;
use std::time::Duration;

/// How long one picture may take (Chromium starts in about a second here).
pub const BUDGET: Duration = Duration::from_secs(45);

/// Takes a `width`×`height` PNG of `url` into `out`. `resolve` maps the app's domain to the
/// address that serves it (Traefik's); every other name fails to resolve.
pub fn capture(
    url: &str,
    out: &Path,
    (width, height): (u32, u32),
    resolve: Option<(&str, &str)>,
) -> Result<(), String> {
    let chromium = which::which("chromium")
        .or_else(|_| which::which("chromium-browser"))
        .map_err(|_| "no chromium on PATH (scripts/local-swarm installs Debian's)".to_string())?;
    let profile = tempfile::tempdir().map_err(|e| format!("no scratch directory: {e}"))?;
    let rules = match resolve {
        Some((domain, ip)) => format!("MAP {domain} {ip}, MAP * ~NOTFOUND"),
        None => "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_string(),
    };
    let mut cmd = std::process::Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        // The app's certificate is the CI authority's, which the browser's own store does
        // not hold; the HTTP checks verify it, a screenshot need not.
        "--ignore-certificate-errors",
        "--default-background-color=ffffffff",
    ])
    .arg(format!("--host-resolver-rules={rules}"))
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("--window-size={width},{height}"))
    .arg(format!("--screenshot={}", out.display()))
    .arg(url);
    ccci_abra::process::run(
        cmd,
        format!("chromium --screenshot {url}"),
        Deadline::after(BUDGET),
        "",
    )
    .map_err(|e| e.to_string())?;
    match std::fs::read(out) {
        Ok(png) if png.starts_with(b"\x89PNG") => Ok(()),
        _ => Err(format!("chromium made no PNG at {}", out.display())),
    }
}
