//! `.env` files read the way abra reads them (dotenv semantics), so that an app env built by
//! ccci holds the same values `abra app new` would give it.
//!
//! - `KEY=value`, with an optional `export ` prefix; blank values are empty strings.
//! - Unquoted values end at an inline ` # comment`, and are trimmed.
//! - `'single quotes'` are literal: no expansion, no escapes.
//! - `"double quotes"` may span lines and know the escapes `\n`, `\t`, `\"`, `\\` and `\$`.
//! - In unquoted and double-quoted values, `$VAR`, `${VAR}` and `${VAR:-default}` expand from
//!   the lines above (never from ccci's own process environment); an unset variable is empty.
//!   This is how recipes chain overlays:
//!   `COMPOSE_FILE="compose.yml"` then `COMPOSE_FILE="$COMPOSE_FILE:compose.postgres.yml"`.
//! - The trailing comment is kept: it carries hints such as `SECRET_X_VERSION=v1 # length=32`.
//!
//! Commented-out lines (`#EXTRA_DOMAINS=…`) are not entries.

use std::collections::BTreeMap;

/// One `KEY=value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The variable.
    pub key: String,
    /// Its value, quotes removed and variables expanded.
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

    /// The secret this line versions, as the recipe names it: `<name>` (lower case) of a
    /// `SECRET_<NAME>_VERSION` line; `None` for any other line.
    ///
    /// ```
    /// let e = ccci_abra::env::EnvFile::parse("SECRET_DB_PASSWORD_VERSION=v1\nDOMAIN=x").unwrap();
    /// assert_eq!(e.entry("SECRET_DB_PASSWORD_VERSION").unwrap().secret_name().as_deref(), Some("db_password"));
    /// assert_eq!(e.entry("DOMAIN").unwrap().secret_name(), None);
    /// ```
    pub fn secret_name(&self) -> Option<String> {
        self.key
            .strip_prefix("SECRET_")?
            .strip_suffix("_VERSION")
            .map(str::to_lowercase)
    }
}

/// Why a `.env` file cannot be read: the line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EnvError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, and the fix.
    pub message: String,
}

/// An ordered `.env` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    entries: Vec<Entry>,
}

impl EnvFile {
    /// Parses `.env` text; see the module docs for the rules.
    ///
    /// ```
    /// let e = ccci_abra::env::EnvFile::parse(
    ///     "TYPE=custom-html\nexport A='x $y' # note\nCOMPOSE_FILE=\"compose.yml\"\n\
    ///      COMPOSE_FILE=\"$COMPOSE_FILE:compose.pg.yml\"\nSECRET_X_VERSION=v1 # length=64\n",
    /// ).unwrap();
    /// assert_eq!(e.get("A"), Some("x $y"));
    /// assert_eq!(e.get("COMPOSE_FILE"), Some("compose.yml:compose.pg.yml"));
    /// assert_eq!(e.entry("SECRET_X_VERSION").unwrap().hint("length"), Some("64"));
    /// ```
    pub fn parse(text: &str) -> Result<EnvFile, EnvError> {
        let mut file = EnvFile::default();
        let lines: Vec<&str> = text.lines().collect();
        let mut n = 0;
        while n < lines.len() {
            let first = n + 1;
            // Only the start: the end of a line may be inside a quoted value that goes on.
            let line = lines[n].trim_start();
            n += 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| EnvError {
                line: first,
                message,
            };
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            let Some((key, rest)) = line.split_once('=') else {
                return Err(err(format!(
                    "`{line}` is not KEY=value: write it as KEY=value, or comment it out with `#`"
                )));
            };
            let key = key.trim();
            if !is_name(key) {
                return Err(err(format!(
                    "`{key}` is not a variable name: use letters, digits and `_`, not starting with a digit"
                )));
            }
            let rest = rest.trim_start();
            let (value, comment) = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => file.quoted(q, &rest[1..], key, first, &lines, &mut n)?,
                _ => {
                    let (raw, comment) = match find_comment(rest) {
                        Some(i) => (&rest[..i], Some(rest[i + 1..].trim().to_string())),
                        None => (rest, None),
                    };
                    (file.expand(raw.trim(), first, key)?, comment)
                }
            };
            file.entries.push(Entry {
                key: key.into(),
                value,
                comment,
            });
        }
        Ok(file)
    }

    /// A quoted value (opened by `q`, followed by `after_quote`), gathered over the lines
    /// that follow until its closing quote (`n` is the next line to read), and the comment
    /// after it; double quotes unescape and expand, single quotes keep it as it is.
    fn quoted(
        &self,
        q: char,
        after_quote: &str,
        key: &str,
        first: usize,
        lines: &[&str],
        n: &mut usize,
    ) -> Result<(String, Option<String>), EnvError> {
        let err = |message: String| EnvError {
            line: first,
            message,
        };
        // A quoted value may span lines: gather until its closing quote.
        let mut body = after_quote.to_string();
        let close = loop {
            if let Some(i) = closing_quote(&body, q) {
                break i;
            }
            let Some(next) = lines.get(*n) else {
                return Err(err(format!(
                    "the value of {key} opens a {} quote that is never closed: close it, or remove it",
                    if q == '"' { "double" } else { "single" }
                )));
            };
            *n += 1;
            body.push('\n');
            body.push_str(next);
        };
        let (inner, tail) = (&body[..close], &body[close + 1..]);
        let tail = tail.trim();
        let comment = match tail.strip_prefix('#') {
            Some(c) => Some(c.trim().to_string()),
            None if tail.is_empty() => None,
            None => {
                return Err(err(format!(
                    "`{tail}` follows the closing quote of {key}: put it inside the quotes, or start a comment with ` #`"
                )))
            }
        };
        let value = if q == '\'' {
            inner.to_string()
        } else {
            self.expand(&unescape(inner), first, key)?
                .replace(LITERAL_DOLLAR, "$")
        };
        Ok((value, comment))
    }

    /// Expands `$VAR`, `${VAR}` and `${VAR:-default}` from the entries read so far. `key`
    /// may name itself only once it has a value (`COMPOSE_FILE="$COMPOSE_FILE:more.yml"`):
    /// before that the reference can only be a mistake.
    fn expand(&self, s: &str, line: usize, key: &str) -> Result<String, EnvError> {
        let itself = |name: &str, default: Option<&str>| -> Result<(), EnvError> {
            match name == key && default.is_none() && self.get(name).is_none() {
                true => Err(EnvError {
                    line,
                    message: format!(
                        "the value of {key} refers to {key} itself, which has no value yet: give it a value on an earlier line, or remove the reference"
                    ),
                }),
                false => Ok(()),
            }
        };
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(braced) = after.strip_prefix('{') {
                let Some(end) = braced.find('}') else {
                    return Err(EnvError {
                        line,
                        message: format!("`${{{braced}` has no closing `}}`: write `${{NAME}}`"),
                    });
                };
                let inner = &braced[..end];
                // `${A:-d}`: d when A is unset or empty; `${A-d}`: d only when A is unset.
                let (name, default, if_empty) = match inner.split_once(":-") {
                    Some((n, d)) => (n, Some(d), true),
                    None => match inner.split_once('-') {
                        Some((n, d)) => (n, Some(d), false),
                        None => (inner, None, false),
                    },
                };
                if !is_name(name) {
                    return Err(EnvError {
                        line,
                        message: format!(
                            "`${{{inner}}}` does not name a variable: write `${{NAME}}` or `${{NAME:-default}}`"
                        ),
                    });
                }
                itself(name, default)?;
                let value = self.get(name).filter(|v| !(v.is_empty() && if_empty));
                out.push_str(value.or(default).unwrap_or(""));
                rest = &braced[end + 1..];
            } else {
                let starts_name = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
                let len = match starts_name {
                    true => after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len()),
                    false => 0,
                };
                if len == 0 {
                    out.push('$');
                } else {
                    itself(&after[..len], None)?;
                    out.push_str(self.get(&after[..len]).unwrap_or(""));
                }
                rest = &after[len..];
            }
        }
        out.push_str(rest);
        Ok(out)
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

    /// All entries in file order (a key set twice appears twice; the last one counts).
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

    /// Renders the file with every value as it is now (expanded), one line per key. Values
    /// that need it are single-quoted, so nothing is expanded again when the file is read.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (i, e) in self.entries.iter().enumerate() {
            // A key set twice is written once, with the value that counts.
            if self.entries[i + 1..].iter().any(|later| later.key == e.key) {
                continue;
            }
            let plain = !e.value.is_empty()
                && !e
                    .value
                    .chars()
                    .any(|c| c.is_whitespace() || "#'\"$`\\".contains(c));
            let v = if plain {
                e.value.clone()
            } else if !e.value.contains('\'') {
                format!("'{}'", e.value)
            } else {
                let escaped = e
                    .value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('$', "\\$")
                    .replace('\n', "\\n");
                format!("\"{escaped}\"")
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

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The index of the quote that closes a value, skipping `\"` inside double quotes.
fn closing_quote(body: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if q == '"' && !escaped => escaped = true,
            c if c == q && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// Stands for an escaped `\$` between unescaping and expansion (NUL cannot occur in a value).
const LITERAL_DOLLAR: char = '\u{0}';

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            // `\$` stays a literal dollar: marked so that expansion leaves it alone.
            Some('$') => out.push(LITERAL_DOLLAR),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Where an unquoted value's inline comment starts: a `#` at the start or after blank space.
fn find_comment(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t'))
}

/// The `export NAME=value` lines of a recipe's `abra.sh` (config versions), which abra merges
/// into the app env before interpolating compose files. Shell functions and anything else in
/// the file are not read.
pub fn abra_sh_exports(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| EnvFile::parse(l).ok())
        .flat_map(|e| e.entries)
        .map(|e| (e.key, e.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> EnvFile {
        EnvFile::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    /// A real recipe's `.env.sample` (the shape of BON's): keys, commented-out aliases, a
    /// `# length=` hint.
    #[test]
    fn parses_coop_cloud_samples() {
        let e = parse(
            "TYPE=custom-html\nDOMAIN=custom-html.example.com\n## Domain aliases\n#EXTRA_DOMAINS=', `www.x`'\nLETS_ENCRYPT_ENV=production\n\
             COMPOSE_FILE=\"compose.yml\"\nSECRET_SIGNING_SALT_VERSION=v1 # length=128\nEMPTY=\n",
        );
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

    /// Overlays chained through `$COMPOSE_FILE`, as real recipes' `.env.sample` files do.
    #[test]
    fn compose_file_chains_expand_from_earlier_lines() {
        let e = parse(
            "COMPOSE_FILE=\"compose.yml\"\nCOMPOSE_FILE=\"$COMPOSE_FILE:compose.postgres.yml\"\n\
             COMPOSE_FILE=${COMPOSE_FILE}:postgres/compose.postgres.tune.yml\n",
        );
        assert_eq!(
            e.get("COMPOSE_FILE"),
            Some("compose.yml:compose.postgres.yml:postgres/compose.postgres.tune.yml")
        );
    }

    #[test]
    fn dotenv_quoting_and_expansion_rules() {
        let e = parse(concat!(
            "A=one\n",
            "export B=$A-two # trailing comment\n",
            "C='$A literal # not a comment'\n",
            "D=\"${A} \\\"quoted\\\" \\$A\\nnext\" # hint=1\n",
            "E=${UNSET:-fallback}\n",
            "F=${A:-unused}\n",
            "G=${UNSET}\n",
            "H=a#b\n",
            "I=\"multi\nline\"\n",
            "J=\n",
            "K=price $ 5\n",
            "L=${J-unset only}${NOPE-unset}\n",
        ));
        assert_eq!(e.get("B"), Some("one-two"));
        assert_eq!(
            e.entry("B").unwrap().comment.as_deref(),
            Some("trailing comment")
        );
        assert_eq!(e.get("C"), Some("$A literal # not a comment"));
        assert_eq!(e.get("D"), Some("one \"quoted\" $A\nnext"));
        assert_eq!(e.entry("D").unwrap().hint("hint"), Some("1"));
        assert_eq!(e.get("E"), Some("fallback"));
        assert_eq!(e.get("F"), Some("one"));
        assert_eq!(e.get("G"), Some(""));
        assert_eq!(
            e.get("H"),
            Some("a#b"),
            "a # inside a word is not a comment"
        );
        assert_eq!(e.get("I"), Some("multi\nline"));
        assert_eq!(e.get("J"), Some(""));
        assert_eq!(e.get("K"), Some("price $ 5"));
        assert_eq!(
            e.get("L"),
            Some("unset"),
            "`-` without `:` keeps a set, empty value"
        );
    }

    #[test]
    fn process_environment_never_leaks_in() {
        // PATH is set in every test process; a recipe's `$PATH` must still be empty.
        assert_eq!(parse("X=$PATH\n").get("X"), Some(""));
    }

    #[test]
    fn set_replaces_in_place_and_render_round_trips() {
        let mut e = parse("A=1\nB=two words\nC=$A$A\n");
        e.set("A", "it's");
        e.set("D", "3");
        e.set("E", "a'b$c\"d");
        let text = e.render();
        assert_eq!(
            text,
            "A=\"it's\"\nB='two words'\nC=11\nD=3\nE=\"a'b\\$c\\\"d\"\n"
        );
        assert_eq!(EnvFile::parse(&text).unwrap().to_map(), e.to_map());
    }

    #[test]
    fn bad_lines_are_named_with_the_fix() {
        let cases = [
            ("A=1\nnonsense\n", "line 2: `nonsense` is not KEY=value"),
            ("1A=x\n", "line 1: `1A` is not a variable name"),
            (
                "A=\"open\nB=2\n",
                "line 1: the value of A opens a double quote that is never closed",
            ),
            ("A='x' y\n", "line 1: `y` follows the closing quote of A"),
            ("A=${B\n", "line 1: `${B` has no closing `}`"),
            ("A=${B C}\n", "does not name a variable"),
        ];
        for (text, want) in cases {
            let e = EnvFile::parse(text).unwrap_err().to_string();
            assert!(e.starts_with(want) || e.contains(want), "{text:?} -> {e}");
        }
    }

    /// `abra.sh` exports config versions (as real recipes do), merged into the env.
    #[test]
    fn abra_sh_config_versions() {
        let m = abra_sh_exports("#!/bin/bash\nexport NGINX_CONF_VERSION=v2\nexport ENTRYPOINT_VERSION=\"v1\"\nfoo() { :; }\n  export X=y # c\n");
        assert_eq!(m["NGINX_CONF_VERSION"], "v2");
        assert_eq!(m["ENTRYPOINT_VERSION"], "v1");
        assert_eq!(m["X"], "y");
        assert_eq!(m.len(), 3);
    }
}
