//! `.env` files as Co-op Cloud writes them: `KEY=value`, optional quotes, `export`, and
//! trailing comments that carry hints (`SECRET_DB_PASSWORD_VERSION=v1 # length=32`).

use std::collections::BTreeMap;

/// One `KEY=value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The variable.
    pub key: String,
    /// Its value, quotes removed.
    pub value: String,
    /// The trailing comment, without `#`, if any.
    pub comment: Option<String>,
}

impl Entry {
    /// A `name=value` hint from the trailing comment, e.g. `length` in `# length=64`.
    pub fn hint(&self, name: &str) -> Option<&str> {
        self.comment
            .as_deref()?
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
    }
}

/// An ordered `.env` file. Commented-out lines (`#EXTRA_DOMAINS=…`) are not entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    entries: Vec<Entry>,
}

impl EnvFile {
    /// Parses `.env` text. Lines that are not `KEY=value` are an error naming the line.
    ///
    /// ```
    /// let e = ccci_abra::env::EnvFile::parse("TYPE=custom-html\nexport A='x y' # note\nSECRET_X_VERSION=v1 # length=64\n").unwrap();
    /// assert_eq!(e.get("A"), Some("x y"));
    /// assert_eq!(e.entry("SECRET_X_VERSION").unwrap().hint("length"), Some("64"));
    /// ```
    pub fn parse(text: &str) -> Result<EnvFile, String> {
        let mut entries = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            let Some((key, rest)) = line.split_once('=') else {
                return Err(format!("line {}: `{raw}` is not KEY=value", n + 1));
            };
            let key = key.trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("line {}: `{key}` is not a variable name", n + 1));
            }
            let (value, comment) = split_value(rest.trim_start());
            entries.push(Entry {
                key: key.into(),
                value,
                comment,
            });
        }
        Ok(EnvFile { entries })
    }

    /// The value of `key` (the last one, if it repeats).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| e.value.as_str())
    }

    /// The entry of `key` (the last one, if it repeats).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// Sets `key`, replacing its value in place or appending it.
    pub fn set(&mut self, key: &str, value: &str) {
        match self.entries.iter_mut().rev().find(|e| e.key == key) {
            Some(e) => e.value = value.into(),
            None => self.entries.push(Entry {
                key: key.into(),
                value: value.into(),
                comment: None,
            }),
        }
    }

    /// All entries in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Key → value, later lines winning.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect()
    }

    /// Renders the file; values are single-quoted when they need it.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for e in &self.entries {
            let needs_quotes = e.value.is_empty()
                || e.value
                    .chars()
                    .any(|c| c.is_whitespace() || "#'\"$`\\".contains(c));
            let v = match (needs_quotes, e.value.contains('\'')) {
                (false, _) => e.value.clone(),
                (true, false) => format!("'{}'", e.value),
                (true, true) => format!("\"{}\"", e.value),
            };
            s.push_str(&format!("{}={v}", e.key));
            if let Some(c) = &e.comment {
                s.push_str(&format!(" # {c}"));
            }
            s.push('\n');
        }
        s
    }
}

fn split_value(rest: &str) -> (String, Option<String>) {
    let comment_after = |tail: &str| {
        tail.trim_start()
            .strip_prefix('#')
            .map(|c| c.trim().to_string())
    };
    for q in ['"', '\''] {
        if let Some(body) = rest.strip_prefix(q) {
            if let Some(end) = body.find(q) {
                return (body[..end].to_string(), comment_after(&body[end + 1..]));
            }
        }
    }
    match rest.find(" #").or_else(|| rest.find("\t#")) {
        Some(i) => (
            rest[..i].trim().to_string(),
            Some(
                rest[i..]
                    .trim_start()
                    .trim_start_matches('#')
                    .trim()
                    .to_string(),
            ),
        ),
        None => (rest.trim().to_string(), None),
    }
}

/// The `export NAME=value` lines of a recipe's `abra.sh` (config versions), which abra merges
/// into the app env before interpolating compose files.
pub fn abra_sh_exports(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| {
            let (k, v) = l.split_once('=')?;
            let k = k.trim();
            k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                .then(|| (k.to_string(), split_value(v).0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_coop_cloud_samples() {
        let e = EnvFile::parse(
            "TYPE=custom-html\nDOMAIN=custom-html.example.com\n## Domain aliases\n#EXTRA_DOMAINS=', `www.x`'\nLETS_ENCRYPT_ENV=production\n\
             COMPOSE_FILE=\"compose.yml\"\nSECRET_SIGNING_SALT_VERSION=v1 # length=128\nEMPTY=\n",
        )
        .unwrap();
        assert_eq!(e.get("COMPOSE_FILE"), Some("compose.yml"));
        assert_eq!(e.get("EXTRA_DOMAINS"), None);
        assert_eq!(e.get("EMPTY"), Some(""));
        assert_eq!(
            e.entry("SECRET_SIGNING_SALT_VERSION")
                .unwrap()
                .hint("length"),
            Some("128")
        );
        assert_eq!(e.entries().len(), 6);
    }

    #[test]
    fn set_replaces_in_place_and_render_round_trips() {
        let mut e = EnvFile::parse("A=1\nB=two words\n").unwrap();
        e.set("A", "it's");
        e.set("C", "3");
        let text = e.render();
        assert_eq!(text, "A=\"it's\"\nB='two words'\nC=3\n");
        assert_eq!(EnvFile::parse(&text).unwrap(), e);
    }

    #[test]
    fn a_bad_line_is_named() {
        assert_eq!(
            EnvFile::parse("A=1\nnonsense\n").unwrap_err(),
            "line 2: `nonsense` is not KEY=value"
        );
    }

    #[test]
    fn abra_sh_config_versions() {
        let m = abra_sh_exports("#!/bin/bash\nexport NGINX_CONF_VERSION=v2\nexport ENTRYPOINT_VERSION=\"v1\"\nfoo() { :; }\n");
        assert_eq!(m["NGINX_CONF_VERSION"], "v2");
        assert_eq!(m["ENTRYPOINT_VERSION"], "v1");
        assert_eq!(m.len(), 2);
    }
}
