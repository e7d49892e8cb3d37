//! Two runs of one recipe side by side (an A/B view): what changed rung by rung and step by
//! step, and which of ccci and the recipe changed between them, so that "a change in ccci, or
//! in the world?" is one look.

use ccci_core::ladder::{Rung, TestStatus};
use ccci_core::results::Build;
use ccci_core::{Results, Verdict};
use std::fmt::Write as _;

/// One side's outcome of a rung or a step: its label and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// `pass`, `fail`, `skip`, `unverified`, `not run`… (a step: `pass`, `fail`, `not run`,
    /// `cannot run`, `filtered`, `skipped`).
    pub label: String,
    /// Why it is not a pass.
    pub reason: Option<String>,
}

/// A rung or a step on both sides; a side is `None` where that run had no such step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The rung's or step's name.
    pub name: String,
    /// Run A's.
    pub a: Option<Side>,
    /// Run B's.
    pub b: Option<Side>,
}

impl Row {
    /// Whether the two sides differ in outcome (a reason alone does not count).
    pub fn changed(&self) -> bool {
        self.a.as_ref().map(|s| &s.label) != self.b.as_ref().map(|s| &s.label)
    }
}

/// Which of ccci and the recipe changed between two runs, and what that points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Same ccci, same recipe commit, same settings: what changed is the world (images, the
    /// host, timing).
    World,
    /// Same ccci and recipe commit, other settings (the manifests differ).
    Settings,
    /// The same recipe commit under another ccci: look at ccci first.
    Ccci,
    /// The same ccci on another recipe commit: look at the recipe first.
    Recipe,
    /// Both changed.
    Both,
    /// One of the runs does not say which ccci ran it (results written before `/4`).
    Unknown,
}

impl Cause {
    /// The one look, in words.
    pub fn says(self) -> &'static str {
        match self {
            Cause::World => "same ccci, recipe commit and settings: the difference is the world (images, the host, timing)",
            Cause::Settings => "same ccci and recipe commit under other settings: a difference points at the settings (below)",
            Cause::Ccci => "same recipe commit under another ccci: a difference points at ccci",
            Cause::Recipe => "same ccci on another recipe commit: a difference points at the recipe",
            Cause::Both => "both ccci and the recipe commit changed",
            Cause::Unknown => "one run does not say which ccci ran it (written before results /4)",
        }
    }
}

/// Two runs side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Each rung, bottom first.
    pub rungs: Vec<Row>,
    /// Each step, in run A's order, then B's steps A did not have.
    pub steps: Vec<Row>,
    /// Which of ccci and the recipe changed.
    pub cause: Cause,
    /// How the runs were customised differently: manifest lines only A has, and only B has.
    pub settings: (Vec<String>, Vec<String>),
}

/// Runs `a` and `b` side by side.
pub fn compare(a: &Results, b: &Results) -> Comparison {
    let rungs = Rung::ALL
        .iter()
        .map(|rung| Row {
            name: rung.as_str().into(),
            a: a.rungs.get(rung).map(|o| Side {
                label: o.label().into(),
                reason: o.reason().map(String::from),
            }),
            b: b.rungs.get(rung).map(|o| Side {
                label: o.label().into(),
                reason: o.reason().map(String::from),
            }),
        })
        .collect();
    let step = |r: &Results, name: &str| {
        r.tests
            .iter()
            .find(|t| t.name == name)
            .map(|t| step_side(&t.status))
    };
    let mut names: Vec<&str> = a.tests.iter().map(|t| t.name.as_str()).collect();
    for t in &b.tests {
        if !names.contains(&t.name.as_str()) {
            names.push(&t.name);
        }
    }
    let steps = names
        .into_iter()
        .map(|name| Row {
            name: name.into(),
            a: step(a, name),
            b: step(b, name),
        })
        .collect();
    let only = |x: &Results, y: &Results| -> Vec<String> {
        x.manifest
            .iter()
            .filter(|m| !y.manifest.contains(m))
            .cloned()
            .collect()
    };
    Comparison {
        rungs,
        steps,
        cause: cause(a, b),
        settings: (only(a, b), only(b, a)),
    }
}

fn step_side(status: &TestStatus) -> Side {
    let (label, reason) = match status {
        TestStatus::Pass => ("pass", None),
        TestStatus::Fail { message } => ("fail", Some(message)),
        TestStatus::NotRun { reason } => ("not run", Some(reason)),
        TestStatus::CannotRun { reason } => ("cannot run", Some(reason)),
        TestStatus::Filtered => ("filtered", None),
        TestStatus::Skipped { reason } => ("skipped", Some(reason)),
    };
    Side {
        label: label.into(),
        reason: reason.cloned(),
    }
}

fn cause(a: &Results, b: &Results) -> Cause {
    let build = |r: &Results| {
        r.ccci
            .clone()
            .map(|Build { version, commit }| (version, commit))
    };
    let (Some(ca), Some(cb)) = (build(a), build(b)) else {
        return Cause::Unknown;
    };
    match (ca == cb, a.head.commit == b.head.commit) {
        (true, true) if a.manifest != b.manifest => Cause::Settings,
        (true, true) => Cause::World,
        (false, true) => Cause::Ccci,
        (true, false) => Cause::Recipe,
        (false, false) => Cause::Both,
    }
}

/// How a run is named on one side of a comparison: its id, verdict and level, the recipe
/// commit and which ccci ran it.
pub fn side_title(r: &Results) -> String {
    let ccci = match &r.ccci {
        Some(b) => format!(
            "ccci {}{}",
            b.version,
            b.commit
                .as_deref()
                .map(|c| format!(" ({})", ccci_core::short_commit(c)))
                .unwrap_or_default()
        ),
        None => "ccci unknown".into(),
    };
    let verdict = match r.verdict {
        Verdict::Green => "GREEN",
        Verdict::Red => "RED",
    };
    format!(
        "{} · {verdict} {} · recipe {} {} · {ccci}",
        r.run_id,
        r.level,
        r.head.reference,
        ccci_core::short_commit(&r.head.commit)
    )
}

/// The comparison as text for a terminal: both runs, the cause, then every rung and every
/// step, changed ones marked `≠`.
pub fn compare_text(a: &Results, b: &Results) -> String {
    let c = compare(a, b);
    let mut s = String::new();
    let _ = writeln!(s, "A  {}", side_title(a));
    let _ = writeln!(s, "B  {}", side_title(b));
    let _ = writeln!(s, "   {}", c.cause.says());
    for (side, lines) in [("A", &c.settings.0), ("B", &c.settings.1)] {
        for m in lines {
            let _ = writeln!(s, "   only {side}: {}", crate::one_line(m));
        }
    }
    let width = c
        .steps
        .iter()
        .chain(&c.rungs)
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0);
    for (title, rows) in [("rungs", &c.rungs), ("steps", &c.steps)] {
        let _ = writeln!(s, "\n{title}:");
        for row in rows {
            let side = |x: &Option<Side>| x.as_ref().map_or("—".to_string(), |s| s.label.clone());
            let mark = if row.changed() { "≠" } else { " " };
            let _ = writeln!(
                s,
                " {mark} {:width$}  {:12} {}",
                row.name,
                side(&row.a),
                side(&row.b)
            );
            if row.changed() {
                if let Some(reason) = row.b.as_ref().and_then(|x| x.reason.as_deref()) {
                    let _ = writeln!(s, "     {:width$}  B: {}", "", crate::one_line(reason));
                }
            }
        }
    }
    s
}
