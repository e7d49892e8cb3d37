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
/// own (no updates, no sync, no QUIC probes), and sandboxed ([`sandboxed`]): it renders pages
/// of a stranger's head.
pub(crate) const FLAGS: &[&str] = &[
    "--headless",
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

/// The account Chromium runs as when ccci runs as root (`nobody`).
const UNPRIVILEGED: u32 = 65534;

/// Readies `cmd` to run Chromium inside its own sandbox (each renderer in user and PID
/// namespaces of its own, under seccomp), its profile and home in `profile`. Chromium refuses
/// its sandbox to root, so under root it runs as `nobody`, the profile handed to that account;
/// the host must allow unprivileged user namespaces (`user.max_user_namespaces` above 0).
pub(crate) fn sandboxed(cmd: &mut std::process::Command, profile: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    // /proc/self belongs to the process's effective user.
    let me = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .map_err(|e| format!("cannot tell which user ccci runs as (/proc/self: {e})"))?;
    cmd.env("HOME", profile);
    if me != 0 {
        return Ok(());
    }
    std::os::unix::fs::chown(profile, Some(UNPRIVILEGED), Some(UNPRIVILEGED)).map_err(|e| {
        format!(
            "cannot give Chromium's profile {} to uid {UNPRIVILEGED}: {e}",
            profile.display()
        )
    })?;
    cmd.uid(UNPRIVILEGED).gid(UNPRIVILEGED);
    Ok(())
}

/// What a Chromium that would not start says beside its error.
pub(crate) const SANDBOX_HINT: &str =
    "Chromium runs sandboxed: the host must allow unprivileged user namespaces (user.max_user_namespaces above 0)";

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
    // Written where the sandboxed browser may write, then copied out.
    let shot = profile.path().join("screenshot.png");
    let mut cmd = ccci_process::command(chromium);
    cmd.args(FLAGS)
        .arg(format!("--host-resolver-rules={rules}"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url);
    sandboxed(&mut cmd, profile.path())?;
    ccci_process::run(
        cmd,
        format!("chromium --screenshot {url}"),
        Deadline::after(BUDGET),
        "",
    )
    .map_err(|e| format!("{e} ({SANDBOX_HINT})"))?;
    match std::fs::read(&shot) {
        Ok(png) if png.starts_with(b"\x89PNG") => {
            std::fs::write(out, png).map_err(|e| format!("cannot write {}: {e}", out.display()))
        }
        _ => Err(format!("chromium made no PNG at {}", out.display())),
    }
}
