//! Pictures taken with Debian's headless Chromium: the app's front page before teardown, and
//! a report card rendered from its SVG. Best effort: a picture that cannot be taken is said,
//! never a failure of the run. The browser can reach only what it is shown: every host name
//! resolves to nothing but the app's own domain.

use ccci_swarm::Deadline;
use std::path::Path;
use std::time::Duration;

/// How long one picture may take (Chromium starts in about a second here).
pub const BUDGET: Duration = Duration::from_secs(45);

/// How Chromium is started for a picture or a test: headless, quiet, fetching nothing of its
/// own (no updates, no sync, no QUIC probes).
pub(crate) const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    // The app's certificate is the CI authority's, which the browser's own store does not
    // hold; the HTTP checks verify it, a picture or a page driven by a test need not.
    "--ignore-certificate-errors",
    "--default-background-color=ffffffff",
];

/// Debian's Chromium, found on PATH.
pub(crate) fn chromium() -> Result<std::path::PathBuf, String> {
    which::which("chromium")
        .or_else(|_| which::which("chromium-browser"))
        .map_err(|_| "no chromium on PATH (scripts/local-swarm installs Debian's)".to_string())
}

/// Chromium's resolver: `resolve`'s domain to its address and every other name to nothing;
/// without one, only this host.
pub(crate) fn resolver_rules(resolve: Option<(&str, &str)>) -> String {
    match resolve {
        Some((domain, ip)) => format!("MAP {domain} {ip}, MAP * ~NOTFOUND"),
        None => "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_string(),
    }
}

/// Takes a `width`×`height` PNG of `url` into `out`. `resolve` maps the app's domain to the
/// address that serves it (Traefik's); every other name fails to resolve.
pub fn capture(
    url: &str,
    out: &Path,
    (width, height): (u32, u32),
    resolve: Option<(&str, &str)>,
) -> Result<(), String> {
    let chromium = chromium()?;
    let profile = tempfile::tempdir().map_err(|e| format!("no scratch directory: {e}"))?;
    let rules = resolver_rules(resolve);
    let mut cmd = std::process::Command::new(chromium);
    cmd.args(FLAGS)
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
