//! The rules a recipe's head is held to before anything is deployed, each with an id, a level,
//! the file and line it is about, and the fix: what `cargo ccci lint` reports and a run
//! records. Pure: the releases come in as text.
//!
//! Two sets:
//! - **abra's** `R001`–`R015`, by their numbers and levels as `abra recipe lint` names them.
//!   abra's source cannot be read here: each rule's wording and level are the ones
//!   `../shared/docs/coopcloud.md` §1 records (marked there as remembered, to verify against
//!   a real `abra recipe lint`); a rule abra checks against the network (`R013`, the
//!   repository on git.coopcloud.tech) is reported as not checked. They are reported, never
//!   a reason to refuse a run: ccci's own checks refuse what a deploy cannot survive.
//! - **ccci's** `C001`–`C007`: what changed between the release the upgrade starts from and
//!   the head that servers trip on and abra does not catch. An error refuses the run before
//!   anything is deployed; a warning is listed in the run's warnings and its comment.

use serde::Serialize;
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Refuses the run (ccci's rules) or fails `abra recipe lint` (abra's).
    Error,
    /// Said, and the run goes on.
    Warning,
}

/// One rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// `R001`…`R015` (abra's), `C001`… (ccci's).
    pub id: &'static str,
    /// Its level.
    pub level: Level,
    /// What it holds, in a line.
    pub what: &'static str,
}

/// Every rule, abra's first.
pub const RULES: &[Rule] = &[
    rule(
        "R001",
        Level::Warning,
        "compose config has expected version",
    ),
    rule(
        "R002",
        Level::Warning,
        "healthcheck enabled for all services",
    ),
    rule("R003", Level::Warning, "all images use a tag"),
    rule("R004", Level::Warning, "no unstable tags"),
    rule("R005", Level::Warning, "tags use semver-like format"),
    rule("R006", Level::Warning, "has published catalogue version"),
    rule("R007", Level::Warning, "README.md metadata filled in"),
    rule("R008", Level::Error, ".env.sample provided"),
    rule("R009", Level::Error, "one service named 'app'"),
    rule("R010", Level::Error, "traefik routing enabled"),
    rule("R011", Level::Error, "all services have images"),
    rule("R012", Level::Error, "config versions are vendored"),
    rule("R013", Level::Warning, "git.coopcloud.tech repo exists"),
    rule(
        "R014",
        Level::Error,
        "only annotated tags used for recipe version",
    ),
    rule("R015", Level::Warning, "long secret names"),
    rule(
        "C001",
        Level::Error,
        "a config or secret whose file changed has a new name",
    ),
    rule(
        "C002",
        Level::Error,
        "a variable new in the compose files has a default or a line in .env.sample",
    ),
    rule(
        "C003",
        Level::Warning,
        "no image pinned by tag and digest (abra's upgrade tooling skips such pins)",
    ),
    rule(
        "C004",
        Level::Warning,
        "no image tag moved backwards since the release before",
    ),
    rule(
        "C005",
        Level::Error,
        "no volume of the release before renamed or dropped",
    ),
    rule("C006", Level::Warning, "no secret's length hint shrank"),
    rule(
        "C007",
        Level::Warning,
        "a release's version label is its tag",
    ),
    rule(
        "C008",
        Level::Warning,
        "no network's options changed since the release before (Swarm keeps a network as it was made)",
    ),
    rule(
        "C009",
        Level::Error,
        "no service's deploy mode changed since the release before (Swarm refuses it in place)",
    ),
];

const fn rule(id: &'static str, level: Level, what: &'static str) -> Rule {
    Rule { id, level, what }
}

/// The rule `id`.
///
/// # Panics
/// On an id [`RULES`] lacks: a bug of this module, caught by its tests.
pub fn rule_of(id: &str) -> Rule {
    *RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

/// What a rule found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule.
    pub id: &'static str,
    /// Its level.
    pub level: Level,
    /// The file it is about.
    pub file: String,
    /// Its line, 1-based, when one line is to blame.
    pub line: Option<usize>,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{} {level}: {}:{l}: ", self.id, self.file)?,
            None => write!(f, "{} {level}: {}: ", self.id, self.file)?,
        }
        write!(f, "{}: {}", self.problem, self.fix)
    }
}

fn found(id: &'static str, file: &str, line: Option<usize>, problem: String, fix: &str) -> Finding {
    Finding {
        id,
        level: rule_of(id).level,
        file: file.to_string(),
        line,
        problem,
        fix: fix.to_string(),
    }
}

/// One release of a recipe as its files say it: the compose files (`COMPOSE_FILE`'s, in
/// order, as written, not interpolated), `.env.sample`, `abra.sh`, `README.md`.
#[derive(Debug, Clone, Default)]
pub struct Release {
    /// Its tag, when it is a release (`1.2.0+3.3.1`); `None` for a head that is not one.
    pub tag: Option<String>,
    /// `(file name, text)` of each compose file.
    pub compose: Vec<(String, String)>,
    /// `.env.sample`, when the release has one.
    pub env_sample: Option<String>,
    /// `abra.sh`, when the release has one.
    pub abra_sh: Option<String>,
    /// `README.md`, when the release has one.
    pub readme: Option<String>,
}

/// What the recipe's repository says beside one release.
#[derive(Debug, Clone, Default)]
pub struct Repository {
    /// Every release tag.
    pub tags: Vec<String>,
    /// The release tags that are lightweight, not annotated.
    pub lightweight: Vec<String>,
}

/// abra's rules `R001`–`R015` on `head`, in their order.
pub fn abra(head: &Release, repo: &Repository) -> Vec<Finding> {
    let docs = parsed(head);
    let main = head
        .compose
        .first()
        .map_or("compose.yml", |(n, _)| n.as_str());
    let mut out = service_rules(&docs);
    out.extend(release_rules(head, repo, main));
    out.extend(readme_metadata(head));
    out.extend(app_rules(&docs, main));
    out.extend(unvendored_configs(&docs, head));
    for (key, file, text) in top_level(&docs, "secrets") {
        if key.len() > 12 {
            out.push(found(
                "R015",
                &file,
                line_of(&text, &format!("{key}:")),
                format!("secret `{key}` is {} characters, more than 12", key.len()),
                "shorten it: with the stack name and version it must fit Swarm's 64",
            ));
        }
    }
    out.sort_by_key(|f| f.id);
    out
}

/// `R002`, `R011` and the image rules, service by service.
fn service_rules(docs: &[Doc<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in services(docs) {
        if s.def.get("healthcheck").is_none() {
            out.push(found(
                "R002",
                &s.file,
                line_of(s.text, &format!("{}:", s.name)),
                format!("service `{}` has no healthcheck", s.name),
                "give it a `healthcheck:` that says when it serves",
            ));
        }
        match s.def.get("image").and_then(Value::as_str) {
            None => out.push(found(
                "R011",
                &s.file,
                line_of(s.text, &format!("{}:", s.name)),
                format!("service `{}` has no image", s.name),
                "give it an `image:` with a pinned tag",
            )),
            Some(image) => out.extend(image_rules(&s, image)),
        }
    }
    out
}

/// What the release's files and tags say: `R001`, `R006`, `R008`, `R013`, `R014`.
fn release_rules(head: &Release, repo: &Repository, main: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let versioned = head
        .compose
        .first()
        .is_none_or(|(_, text)| text.lines().any(|l| l.starts_with("version:")));
    if !versioned {
        out.push(found(
            "R001",
            main,
            None,
            "no `version:` at the top".into(),
            "add `version: \"3.8\"` as Co-op Cloud's recipes have",
        ));
    }
    if repo.tags.is_empty() {
        out.push(found(
            "R006",
            main,
            None,
            "the repository has no release tag".into(),
            "publish a release: an annotated tag like `1.0.0+<upstream version>`",
        ));
    }
    if head.env_sample.is_none() {
        out.push(found(
            "R008",
            ".env.sample",
            None,
            "the recipe has no .env.sample".into(),
            "add one with every setting and secret version the recipe reads",
        ));
    }
    out.push(found(
        "R013",
        main,
        None,
        "not checked: it needs git.coopcloud.tech, which ccci does not ask".into(),
        "`abra recipe lint` checks it",
    ));
    for tag in &repo.lightweight {
        out.push(found(
            "R014",
            main,
            None,
            format!("tag {tag} is lightweight"),
            "make it annotated: `git tag -a <tag> -m \"chore: publish <tag> release\"` (a run does so in its own clone)",
        ));
    }
    out
}

/// `R009` and `R010`: a service named `app`, routed by Traefik.
fn app_rules(docs: &[Doc<'_>], main: &str) -> Option<Finding> {
    let Some(app) = services(docs).into_iter().find(|s| s.name == "app") else {
        return Some(found(
            "R009",
            main,
            None,
            "no service is named `app`".into(),
            "name the main service `app`: abra reads its labels there",
        ));
    };
    let routed = labels(&app.def)
        .iter()
        .any(|(k, v)| k == "traefik.enable" && v == "true");
    (!routed).then(|| {
        found(
            "R010",
            &app.file,
            line_of(app.text, "labels:"),
            "service `app` does not set `traefik.enable=true`".into(),
            "add the label `traefik.enable=true` under its deploy labels",
        )
    })
}

/// The image rules of one service's `image`: tagged, not a moving tag, semver-like.
fn image_rules(s: &Service<'_>, image: &str) -> Vec<Finding> {
    let line = line_of(s.text, image);
    let mut out = Vec::new();
    match tag_of(image) {
        None => out.push(found(
            "R003",
            &s.file,
            line,
            format!("image `{image}` of `{}` has no tag", s.name),
            "pin a release's tag",
        )),
        Some(tag)
            if matches!(
                tag,
                "latest" | "stable" | "main" | "master" | "develop" | "edge" | "nightly"
            ) =>
        {
            out.push(found(
                "R004",
                &s.file,
                line,
                format!(
                    "image `{image}` of `{}` uses the moving tag `{tag}`",
                    s.name
                ),
                "pin a release's tag",
            ))
        }
        Some(tag) if !tag.starts_with(|c: char| c.is_ascii_digit()) && !tag.starts_with('v') => out
            .push(found(
                "R005",
                &s.file,
                line,
                format!(
                    "image `{image}` of `{}`: tag `{tag}` is not semver-like",
                    s.name
                ),
                "use the upstream release's version tag",
            )),
        Some(_) => {}
    }
    if image.contains("@sha256:") {
        out.push(found(
            "C003",
            &s.file,
            line,
            format!(
                "image `{image}` of `{}` is pinned by tag and digest",
                s.name
            ),
            "pin by tag alone: abra's upgrade tooling skips `tag@sha256:` pins",
        ));
    }
    out
}

/// `R007`: the metadata list at the top of README.md (`* **Category**: Apps`) filled in.
fn readme_metadata(head: &Release) -> Vec<Finding> {
    let Some(readme) = &head.readme else {
        return vec![found(
            "R007",
            "README.md",
            None,
            "the recipe has no README.md".into(),
            "add one with the catalogue's metadata list",
        )];
    };
    readme
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let rest = l.trim_start().strip_prefix("* **")?;
            let (key, value) = rest.split_once("**:")?;
            let value = value.trim();
            (value.is_empty() || value == "?" || value.starts_with('<')).then(|| {
                found(
                    "R007",
                    "README.md",
                    Some(i + 1),
                    format!("`{key}` is not filled in"),
                    "fill in the metadata list the catalogue reads",
                )
            })
        })
        .collect()
}

/// `R012`: every config named after a version variable has it exported in abra.sh.
fn unvendored_configs(docs: &[Doc<'_>], head: &Release) -> Vec<Finding> {
    let exported = head.abra_sh.as_deref().map(exports).unwrap_or_default();
    let mut out = Vec::new();
    for (key, file, text) in top_level(docs, "configs") {
        let Some(def) = docs
            .iter()
            .find_map(|d| d.value.get("configs")?.get(key.as_str()))
        else {
            continue;
        };
        let Some(name) = def.get("name").and_then(Value::as_str) else {
            continue;
        };
        for var in variables(name)
            .into_iter()
            .filter(|v| v.name.ends_with("_VERSION"))
        {
            if !exported.contains(&var.name) {
                out.push(found("R012", &file, line_of(&text, name), format!("config `{key}` is named by `{}`, which abra.sh does not export", var.name), "export it in abra.sh (`export NAME_VERSION=v1`) and bump it whenever the file changes"));
            }
        }
    }
    out
}

/// ccci's rules `C002`–`C009` (but `C007`) on `head` against `base`, the release its upgrade starts from.
/// `C001` (a changed config or secret file under the same name) needs each release's files
/// on disk and is [`crate::drift::unbumped`]'s.
pub fn between(base: &Release, head: &Release) -> Vec<Finding> {
    let (b, h) = (parsed(base), parsed(head));
    let mut out = Vec::new();
    out.extend(new_variables(base, head));
    out.extend(tags_backwards(&b, &h));
    let kept: BTreeSet<String> = top_level(&h, "volumes")
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    for (key, file, _) in top_level(&b, "volumes") {
        if !kept.contains(&key) {
            out.push(found("C005", &file, None, format!("volume `{key}` of {} is gone from the head", base.tag.as_deref().unwrap_or("the release before")), "keep its name: every deployed app's data is in it, and an upgrade would leave it behind"));
        }
    }
    out.extend(unchangeable(base, &b, &h));
    let before = length_hints(base.env_sample.as_deref().unwrap_or(""));
    let env = head.env_sample.as_deref().unwrap_or("");
    for (secret, (line, now)) in length_hints(env) {
        if let Some((_, was)) = before.get(&secret) {
            if now < *was {
                out.push(found("C006", ".env.sample", Some(line), format!("the length hint of {secret} shrank from {was} to {now}"), "keep it: a shorter generated secret is a weaker one, and existing apps keep theirs"));
            }
        }
    }
    out
}

/// A network's options Swarm fixes when it makes it.
const NETWORK_OPTIONS: [&str; 6] = [
    "driver",
    "driver_opts",
    "internal",
    "attachable",
    "ipam",
    "enable_ipv6",
];

/// `C008` and `C009`: what Swarm never changes in place. A network's options: `docker stack
/// deploy` leaves an existing network as it was, without a word, so deployed apps keep the
/// old ones. A service's deploy mode: Swarm refuses the update, and the upgrade fails.
fn unchangeable(base: &Release, b: &[Doc<'_>], h: &[Doc<'_>]) -> Vec<Finding> {
    let since = base.tag.as_deref().unwrap_or("the release before");
    let definition = |docs: &[Doc<'_>], key: &str| {
        docs.iter()
            .find_map(|d| d.value.get("networks")?.get(key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let options = |v: &Value| NETWORK_OPTIONS.map(|k| v.get(k).cloned());
    let mut out = Vec::new();
    let before: BTreeSet<String> = top_level(b, "networks")
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    for (key, file, text) in top_level(h, "networks") {
        let (was, now) = (definition(b, &key), definition(h, &key));
        let external = |v: &Value| v.get("external").and_then(Value::as_bool) == Some(true);
        if before.contains(&key) && !external(&now) && options(&was) != options(&now) {
            out.push(found("C008", &file, line_of(&text, &format!("{key}:")), format!("network `{key}` has other options than in {since}"), "Swarm keeps a network as it was made, so deployed apps would keep the old options without a word: give the network a new name, so that this release makes one of its own"));
        }
    }
    let mode = |s: &Service<'_>| {
        s.def
            .get("deploy")
            .and_then(|d| d.get("mode"))
            .and_then(Value::as_str)
            .unwrap_or("replicated")
            .to_string()
    };
    let modes: std::collections::BTreeMap<String, String> = services(b)
        .iter()
        .map(|s| (s.name.clone(), mode(s)))
        .collect();
    for s in services(h) {
        let now = mode(&s);
        if let Some(was) = modes.get(&s.name).filter(|was| **was != now) {
            out.push(found("C009", &s.file, line_of(s.text, "mode:"), format!("service `{}` is `{now}`, and was `{was}` in {since}", s.name), "Swarm refuses to change a service's mode in place, so the upgrade of every deployed app would fail: keep the mode, or give the service a new name"));
        }
    }
    out
}

/// `C007`: a release's version label is its tag. A head that is not a release is not held to it.
pub fn label_is_tag(head: &Release) -> Option<Finding> {
    let tag = head.tag.as_deref()?;
    let docs = parsed(head);
    let app = services(&docs)
        .into_iter()
        .find(|s| labels(&s.def).iter().any(|(k, _)| is_version_label(k)))?;
    let (_, label) = labels(&app.def)
        .into_iter()
        .find(|(k, _)| is_version_label(k))?;
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    (label != tag && label != bare).then(|| {
        found(
            "C007",
            &app.file,
            line_of(app.text, &label),
            format!("the version label says {label}, the release's tag is {tag}"),
            "make the label the tag: abra reads the version it deployed from it",
        )
    })
}

fn is_version_label(key: &str) -> bool {
    key.starts_with("coop-cloud.") && key.ends_with(".version")
}

/// `C002`: a variable the head's compose files read that the release before did not, with no
/// default, no line in the head's .env.sample and no export in its abra.sh: the `.env` of
/// every app deployed before lacks it.
fn new_variables(base: &Release, head: &Release) -> Vec<Finding> {
    let before: BTreeSet<String> = base
        .compose
        .iter()
        .flat_map(|(_, t)| variables(t))
        .map(|v| v.name)
        .collect();
    // Set by .env.sample, or exported by abra.sh (a config's version, say): every app has it.
    let mut sample: BTreeSet<String> = head
        .env_sample
        .as_deref()
        .map(sample_keys)
        .unwrap_or_default();
    sample.extend(head.abra_sh.as_deref().map(exports).unwrap_or_default());
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (file, text) in &head.compose {
        for v in variables(text) {
            let fresh = !before.contains(&v.name)
                && !sample.contains(&v.name)
                && !v.has_default
                && v.name != "STACK_NAME"
                && v.name != "DOMAIN";
            if fresh && seen.insert(v.name.clone()) {
                out.push(found("C002", file, line_of(text, &format!("${{{}", v.name)), format!("`{}` is new since the release before, has no default and no line in .env.sample", v.name), "give it a default (`${NAME:-value}`) or a line in .env.sample: existing apps' .env lack it"));
            }
        }
    }
    out
}

/// `C004`: a service's image tag lower in the head than in the release before.
fn tags_backwards(base: &[Doc<'_>], head: &[Doc<'_>]) -> Vec<Finding> {
    let before: BTreeMap<String, String> = services(base)
        .into_iter()
        .filter_map(|s| Some((s.name.clone(), s.def.get("image")?.as_str()?.to_string())))
        .collect();
    let mut out = Vec::new();
    for s in services(head) {
        let (Some(now), Some(was)) = (
            s.def.get("image").and_then(Value::as_str),
            before.get(&s.name),
        ) else {
            continue;
        };
        let (Some(n), Some(w)) = (tag_of(now).and_then(numbers), tag_of(was).and_then(numbers))
        else {
            continue;
        };
        if repository_of(now) == repository_of(was) && n < w {
            out.push(found("C004", &s.file, line_of(s.text, now), format!("image of `{}` moved back from `{was}` to `{now}`", s.name), "an upgrade must not downgrade an app: its data may not read back; pin the newer tag"));
        }
    }
    out
}

/// One compose file, parsed.
struct Doc<'a> {
    file: &'a str,
    text: &'a str,
    value: Value,
}

/// The release's compose files parsed, YAML merge keys (`<<: *anchor`) applied as
/// `docker stack config` applies them; a file that is not YAML is left out (the compose lint
/// refuses it before the rules run).
fn parsed(r: &Release) -> Vec<Doc<'_>> {
    r.compose
        .iter()
        .filter_map(|(file, text)| {
            let mut value: Value = serde_yaml_ng::from_str(text).ok()?;
            value.apply_merge().ok()?;
            Some(Doc { file, text, value })
        })
        .collect()
}

/// A service as the chain of files merges it: the keys of later files over earlier ones';
/// named where the first file defines it.
struct Service<'a> {
    name: String,
    file: String,
    text: &'a str,
    def: Value,
}

fn services<'a>(docs: &'a [Doc<'a>]) -> Vec<Service<'a>> {
    let mut out: Vec<Service<'a>> = Vec::new();
    for d in docs {
        let Some(map) = d.value.get("services").and_then(Value::as_mapping) else {
            continue;
        };
        for (k, def) in map {
            let (Some(name), Some(keys)) = (k.as_str(), def.as_mapping()) else {
                continue;
            };
            match out.iter_mut().find(|s| s.name == name) {
                Some(s) => {
                    if let Some(merged) = s.def.as_mapping_mut() {
                        for (k, v) in keys {
                            merged.insert(k.clone(), v.clone());
                        }
                    }
                }
                None => out.push(Service {
                    name: name.into(),
                    file: d.file.into(),
                    text: d.text,
                    def: def.clone(),
                }),
            }
        }
    }
    out
}

/// `(key, file, text)` of each top-level `section` entry (`volumes`, `secrets`, `configs`).
fn top_level(docs: &[Doc<'_>], section: &str) -> Vec<(String, String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for d in docs {
        let Some(map) = d.value.get(section).and_then(Value::as_mapping) else {
            continue;
        };
        for k in map.keys().filter_map(Value::as_str) {
            if seen.insert(k.to_string()) {
                out.push((k.to_string(), d.file.to_string(), d.text.to_string()));
            }
        }
    }
    out
}

/// A service's deploy labels, as `key=value` pairs, from a list or a mapping.
fn labels(def: &Value) -> Vec<(String, String)> {
    let Some(labels) = def.get("deploy").and_then(|d| d.get("labels")) else {
        return Vec::new();
    };
    match labels {
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        Value::Mapping(m) => mapping_pairs(m),
        _ => Vec::new(),
    }
}

fn mapping_pairs(m: &Mapping) -> Vec<(String, String)> {
    m.iter()
        .filter_map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((k.as_str()?.to_string(), v))
        })
        .collect()
}

/// A variable a compose file reads.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Variable {
    name: String,
    has_default: bool,
}

/// Every `${NAME…}` and `$NAME` in `text` (`$$` is a literal `$`).
fn variables(text: &str) -> Vec<Variable> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => {
                let rest = &text[i + 2..];
                let end = rest.find('}').unwrap_or(rest.len());
                let inner = &rest[..end];
                let name: String = inner
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let modifier = &inner[name.len()..];
                if !name.is_empty() {
                    out.push(Variable {
                        has_default: modifier.starts_with(":-") || modifier.starts_with('-'),
                        name,
                    });
                }
                i += 2 + end;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let name: String = text[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                i += 1 + name.len();
                out.push(Variable {
                    name,
                    has_default: false,
                });
            }
            _ => i += 1,
        }
    }
    out
}

/// The keys `.env.sample` sets, commented out or not (`#FOO=bar` documents an optional one).
fn sample_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches('#').trim_start();
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, _) = l.split_once('=')?;
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| k.to_string())
        })
        .collect()
}

/// The names `abra.sh` exports.
fn exports(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let (k, _) = l.trim().strip_prefix("export ")?.split_once('=')?;
            Some(k.trim().to_string())
        })
        .collect()
}

/// `SECRET_<NAME>_VERSION=v1 # length=N` hints of `.env.sample`: by secret, its line and N.
fn length_hints(text: &str) -> BTreeMap<String, (usize, u32)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let (setting, comment) = l.split_once('#')?;
            let key = setting
                .trim()
                .split_once('=')?
                .0
                .trim()
                .trim_start_matches("export ")
                .trim();
            let n = comment
                .split_whitespace()
                .find_map(|w| w.strip_prefix("length="))?
                .parse()
                .ok()?;
            key.starts_with("SECRET_")
                .then(|| (key.to_string(), (i + 1, n)))
        })
        .collect()
}

/// An image's tag (after the last `:` of its last path component, before any digest).
fn tag_of(image: &str) -> Option<&str> {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':')
        .map(|(_, t)| t)
        .filter(|t| !t.is_empty())
}

/// An image without its tag or digest.
fn repository_of(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    match tag_of(without_digest) {
        Some(t) => &without_digest[..without_digest.len() - t.len() - 1],
        None => without_digest,
    }
}

/// The leading numbers of a version-like tag (`v1.22.1-alpine` → `[1, 22, 1]`).
fn numbers(tag: &str) -> Option<Vec<u64>> {
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    let head: String = tag
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let n: Vec<u64> = head
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (!n.is_empty()).then_some(n)
}

/// The 1-based line of `text`'s first line holding `needle`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

#[cfg(test)]
mod tests;
