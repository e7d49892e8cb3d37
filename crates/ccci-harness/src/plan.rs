//! The ordered steps of a run: the generic tiers with the recipe's lifecycle functions around
//! them, then the functional tests: the generic tiers first, so a recipe's own tests only run
//! on an app that installed, upgraded and came back from a backup [R1].
//!
//! ```text
//! install::deploys_and_becomes_healthy      install::<after = install>…
//! upgrade::<before = upgrade>…   upgrade::upgrades_in_place_to_head   upgrade::<after = upgrade>…
//! backup::<before = backup>…     backup::takes_a_verified_snapshot    backup::<after = backup>…
//! restore::<before = restore>…   restore::restores_the_snapshot       restore::<after = restore>…
//! functional::<test>…
//! ```

use crate::__private::{LifecycleDef, TestDef, VerifyDef, BACKUP_VERIFY, FUNCTIONAL, LIFECYCLE};
use ccci_core::ladder::Rung;
use ccci_core::results::Lane;
use ccci_core::Op;
use std::collections::BTreeMap;

/// The recipe code a run executes. [`Hooks::registered`] is everything the macros linked into
/// this binary; tools embedding ccci can pick their own.
#[derive(Clone, Default)]
pub struct Hooks {
    /// `#[ccci::functional]` tests, in source order.
    pub functional: Vec<&'static TestDef>,
    /// `#[ccci::lifecycle]` functions, in source order.
    pub lifecycle: Vec<&'static LifecycleDef>,
    /// `#[ccci::backup_verify]` functions.
    pub verify: Vec<&'static VerifyDef>,
}

impl Hooks {
    /// Everything registered by the ccci macros in this binary, in source order.
    pub fn registered() -> Hooks {
        let mut h = Hooks {
            functional: FUNCTIONAL.iter().collect(),
            lifecycle: LIFECYCLE.iter().collect(),
            verify: BACKUP_VERIFY.iter().collect(),
        };
        h.functional.sort_by_key(|d| (d.file, d.line));
        h.lifecycle.sort_by_key(|d| (d.file, d.line));
        h.verify.sort_by_key(|d| (d.file, d.line));
        h
    }

    /// No recipe code: the generic tiers only.
    pub fn none() -> Hooks {
        Hooks::default()
    }
}

/// What a step does.
#[derive(Clone, Copy)]
pub(crate) enum Action {
    /// A generic tier: install, upgrade, backup or restore.
    Tier(Op),
    Hook(&'static LifecycleDef),
    Functional(&'static TestDef),
}

/// One step: a libtest trial, a line in results.json.
#[derive(Clone)]
pub(crate) struct Step {
    pub name: String,
    pub rung: Rung,
    pub op: Option<Op>,
    pub action: Action,
    /// The tiers that must have passed before this step can mean anything (install for
    /// every other step; backup before a restore; each hook's own op after it).
    pub needs: Vec<Op>,
    /// The recipe's reason when it declared this step's rung not applicable.
    pub not_applicable: Option<String>,
}

/// The tiers `action` needs to have passed first.
fn needs(action: &Action) -> Vec<Op> {
    let own = match action {
        Action::Tier(Op::Install) => return vec![],
        Action::Tier(Op::Restore) => Some(Op::Backup),
        Action::Hook(d) => match (d.op, d.before) {
            (Op::Upgrade, false) => Some(Op::Upgrade),
            (Op::Backup, false) | (Op::Restore, true) => Some(Op::Backup),
            (Op::Restore, false) => Some(Op::Restore),
            _ => None,
        },
        _ => None,
    };
    std::iter::once(Op::Install).chain(own).collect()
}

pub(crate) const INSTALL: &str = "install::deploys_and_becomes_healthy";
pub(crate) const UPGRADE: &str = "upgrade::upgrades_in_place_to_head";
pub(crate) const BACKUP: &str = "backup::takes_a_verified_snapshot";
pub(crate) const RESTORE: &str = "restore::restores_the_snapshot";

pub(crate) fn rung_of(op: Op) -> Rung {
    match op {
        Op::Install => Rung::Install,
        Op::Upgrade => Rung::Upgrade,
        Op::Backup | Op::Restore => Rung::BackupRestore,
    }
}

/// The quick lane's first step: the canonical found known-good (or rebuilt cold).
pub(crate) const QUICK_ADOPT: &str = "quick::the_canonical_is_known_good";

/// The steps, in order, with `expected_na` applied. A quick run's are the canonical made
/// sure of, the upgrade to the head on it and the functional tests: the lifecycle functions
/// are written for a ladder from a fresh install, and backup/restore is a cold run's.
pub(crate) fn plan(hooks: &Hooks, expected_na: &BTreeMap<Rung, String>, lane: Lane) -> Vec<Step> {
    if lane.on_canonical() {
        return quick_plan(hooks);
    }
    let mut steps = Vec::new();
    let mut push = |name: String, op: Option<Op>, rung: Rung, action: Action| {
        steps.push(Step {
            name,
            rung,
            op,
            needs: needs(&action),
            action,
            not_applicable: expected_na.get(&rung).cloned(),
        });
    };
    for (op, generic) in [
        (Op::Install, INSTALL),
        (Op::Upgrade, UPGRADE),
        (Op::Backup, BACKUP),
        (Op::Restore, RESTORE),
    ] {
        let attached = |before: bool| {
            hooks
                .lifecycle
                .iter()
                .filter(move |d| d.op == op && d.before == before)
        };
        for d in attached(true) {
            push(
                format!("{op}::{}", d.name),
                Some(op),
                rung_of(op),
                Action::Hook(d),
            );
        }
        push(generic.to_string(), Some(op), rung_of(op), Action::Tier(op));
        for d in attached(false) {
            push(
                format!("{op}::{}", d.name),
                Some(op),
                rung_of(op),
                Action::Hook(d),
            );
        }
    }
    for d in &hooks.functional {
        push(
            format!("functional::{}", d.name),
            None,
            Rung::Functional,
            Action::Functional(d),
        );
    }
    steps
}

fn quick_plan(hooks: &Hooks) -> Vec<Step> {
    let tier = |name: &str, op: Op| Step {
        name: name.into(),
        rung: rung_of(op),
        op: Some(op),
        needs: needs(&Action::Tier(op)),
        action: Action::Tier(op),
        not_applicable: None,
    };
    let mut steps = vec![tier(QUICK_ADOPT, Op::Install), tier(UPGRADE, Op::Upgrade)];
    for d in &hooks.functional {
        steps.push(Step {
            name: format!("functional::{}", d.name),
            rung: Rung::Functional,
            op: None,
            needs: needs(&Action::Functional(d)),
            action: Action::Functional(d),
            not_applicable: None,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_needs_the_tiers_its_meaning_rests_on() {
        let steps = plan(&Hooks::none(), &BTreeMap::new(), Lane::Cold);
        let needs: Vec<(&str, &[Op])> = steps
            .iter()
            .map(|s| (s.name.as_str(), s.needs.as_slice()))
            .collect();
        assert_eq!(
            needs,
            [
                (INSTALL, &[][..]),
                (UPGRADE, &[Op::Install][..]),
                (BACKUP, &[Op::Install][..]),
                (RESTORE, &[Op::Install, Op::Backup][..]),
            ]
        );
        let quick = plan(&Hooks::none(), &BTreeMap::new(), Lane::Quick);
        let names: Vec<&str> = quick.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [QUICK_ADOPT, UPGRADE],
            "no backup or restore in the quick lane"
        );
    }
}
