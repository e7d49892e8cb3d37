//! Which files of a run directory the dashboard serves, and how: the reports and evidence a
//! maintainer reads, never the app's env, the recipe's clone, its snapshots or what recipe
//! functions stored (any of which may hold a secret or the app's data).

use ccci_core::results::looks_secret;
use std::path::{Path, PathBuf};

/// The files of a run directory served by name.
const NAMED: [&str; 7] = [
    "results.json",
    "summary.txt",
    "junit.xml",
    "comment.md",
    "card.svg",
    "card.png",
    "screenshot.png",
];

/// Whether `rel` (a path inside a run directory) may be served: a named report, a forensics
/// file, or a deployed stack file; nothing with `..` or another directory.
pub(crate) fn served(rel: &str) -> bool {
    if NAMED.contains(&rel) {
        return true;
    }
    let Some((dir, name)) = rel.split_once('/') else {
        return false;
    };
    let plain = !name.is_empty()
        && !name.contains('/')
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c));
    plain
        && match dir {
            "forensics" => name.ends_with(".txt") || name.ends_with(".json"),
            "stacks" => name.ends_with(".yml"),
            _ => false,
        }
}

/// The served files that exist in `run_dir`, in the order a page lists them.
pub(crate) fn listing(run_dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = NAMED
        .iter()
        .filter(|n| run_dir.join(n).is_file())
        .map(|n| n.to_string())
        .collect();
    for dir in ["forensics", "stacks"] {
        let Ok(entries) = std::fs::read_dir(run_dir.join(dir)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
            .filter(|rel| served(rel))
            .collect();
        names.sort();
        out.extend(names);
    }
    out
}

/// A served file's bytes and content type. Stack files have the values of secret-looking
/// environment names redacted: a recipe may pass a password as plain environment.
pub(crate) fn read(run_dir: &Path, rel: &str) -> Option<(Vec<u8>, &'static str)> {
    if !served(rel) {
        return None;
    }
    let path: PathBuf = run_dir.join(rel);
    let bytes = std::fs::read(path).ok()?;
    let kind = match rel.rsplit_once('.').map(|(_, x)| x) {
        Some("json") => "application/json",
        Some("xml") => "application/xml; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("md") => "text/markdown; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    let bytes = match rel.starts_with("stacks/") {
        true => redact_env(&String::from_utf8_lossy(&bytes)).into_bytes(),
        false => bytes,
    };
    Some((bytes, kind))
}

/// `yaml` with the value of every `NAME: value` or `- NAME=value` line whose name looks
/// secret replaced by `<redacted>`.
pub(crate) fn redact_env(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    for line in yaml.lines() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let (dash, item) = match body.strip_prefix("- ") {
            Some(rest) => ("- ", rest),
            None => ("", body),
        };
        let split = match dash {
            "- " => item.split_once('=').map(|(k, v)| (k, '=', v)),
            _ => item.split_once(": ").map(|(k, v)| (k, ':', v)),
        };
        match split {
            Some((key, sep, value))
                if looks_secret(key.trim_matches('"')) && !value.trim().is_empty() =>
            {
                let sep = if sep == ':' { ": " } else { "=" };
                out.push_str(&format!("{indent}{dash}{key}{sep}<redacted>\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reports_and_evidence_are_served() {
        for ok in [
            "results.json",
            "card.svg",
            "forensics/05-upgrade.txt",
            "stacks/01-cust_ccci_test.yml",
        ] {
            assert!(served(ok), "{ok}");
        }
        for no in [
            "abra/servers/local/x.env",
            "op_state.json",
            "snapshots/1/app.tar",
            "forensics/../abra/servers/local/x.env",
            "stacks/../../etc/passwd",
            "forensics/.hidden.txt",
            "stacks/x.env",
            "/etc/passwd",
        ] {
            assert!(!served(no), "{no}");
        }
    }

    #[test]
    fn secret_looking_environment_is_redacted_in_stack_files() {
        let yaml = "services:\n  app:\n    environment:\n      DB_PASSWORD: hunter2\n      DOMAIN: x.ccci.test\n      - API_KEY=abc\n      KEYCLOAK_URL: https://k\n";
        let r = redact_env(yaml);
        assert!(!r.contains("hunter2") && !r.contains("abc"), "{r}");
        assert!(
            r.contains("      DB_PASSWORD: <redacted>") && r.contains("      - API_KEY=<redacted>"),
            "{r}"
        );
        assert!(
            r.contains("DOMAIN: x.ccci.test") && r.contains("KEYCLOAK_URL: https://k"),
            "{r}"
        );
    }
}
