//! A run's lane, and everything it decides of the run, decided here and nowhere else: the
//! cold lane deploys from nothing and tears down, its level the recipe's; the quick lane takes
//! the recipe's warm canonical deployment, upgrades it to the head and returns it to
//! known-good. The harness, the reports and the service ask these methods; none matches on a
//! lane itself.

use serde::{Deserialize, Serialize};

/// Which lane a run took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Deployed from nothing, torn down at the end: the run whose level counts.
    #[default]
    Cold,
    /// On a warm canonical deployment, upgraded in place: quick, and never a cold run's level.
    Quick,
}

/// How a run of a lane ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Its own stack is torn down (or kept for a look, when asked and red).
    TearDown,
    /// The canonical it ran on is not its to remove: it goes back to known-good.
    ReturnCanonical,
}

impl Lane {
    /// `cold` or `quick`, as results.json and the run store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Cold => "cold",
            Lane::Quick => "quick",
        }
    }

    /// The quick lane when `quick` (`!testme quick`, `--quick`), else the cold one.
    pub fn of(quick: bool) -> Lane {
        match quick {
            true => Lane::Quick,
            false => Lane::Cold,
        }
    }

    /// Whether the run takes the recipe's warm canonical instead of deploying from nothing:
    /// its steps are the canonical made sure of, the upgrade to the head and the functional
    /// tests (the lifecycle functions are written for a ladder from a fresh install).
    pub fn on_canonical(self) -> bool {
        self == Lane::Quick
    }

    /// Why the run does not climb backup/restore, when it does not: a declared skip.
    pub fn skips_backup(self) -> Option<&'static str> {
        match self {
            Lane::Cold => None,
            Lane::Quick => Some("the quick lane does not climb backup/restore (the canonical's known-good snapshot is restored when the head fails): a cold run does"),
        }
    }

    /// Whether the upgrade climbs every older release's path beside the one before the head
    /// (a quick run upgrades only its canonical).
    pub fn every_upgrade_path(self) -> bool {
        self == Lane::Cold
    }

    /// How the run ends.
    pub fn ending(self) -> Ending {
        match self {
            Lane::Cold => Ending::TearDown,
            Lane::Quick => Ending::ReturnCanonical,
        }
    }

    /// Whether a green run of this lane may make or refresh the recipe's canonical: only a
    /// cold run proves a release from nothing.
    pub fn may_promote(self) -> bool {
        self == Lane::Cold
    }

    /// Whether a run of this lane may end by rolling the app back to the release its upgrade
    /// started from: only a cold run, on its own deployment; a quick run returns the
    /// canonical to known-good instead.
    pub fn may_roll_back(self) -> bool {
        self == Lane::Cold
    }

    /// What a person is told of the lane beside the level; nothing for the cold lane.
    pub fn note(self) -> Option<&'static str> {
        match self {
            Lane::Cold => None,
            Lane::Quick => Some("QUICK, on the warm canonical: its level is not a cold run's (a cold run sets the recipe's level)"),
        }
    }

    /// The flag `cargo ccci run` takes for this lane.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Lane::Cold => None,
            Lane::Quick => Some("--quick"),
        }
    }
}

impl std::str::FromStr for Lane {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cold" => Ok(Lane::Cold),
            "quick" => Ok(Lane::Quick),
            other => Err(format!("lane `{other}`: say `cold` or `quick`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lanes_decide_apart() {
        let (cold, quick) = (Lane::of(false), Lane::of(true));
        assert_eq!((cold, quick), (Lane::Cold, Lane::Quick));
        assert!(!cold.on_canonical() && quick.on_canonical());
        assert!(cold.skips_backup().is_none() && quick.skips_backup().is_some());
        assert!(cold.every_upgrade_path() && !quick.every_upgrade_path());
        assert_eq!(
            (cold.ending(), quick.ending()),
            (Ending::TearDown, Ending::ReturnCanonical)
        );
        assert!(cold.may_promote() && !quick.may_promote());
        assert_eq!((cold.flag(), quick.flag()), (None, Some("--quick")));
        for lane in [cold, quick] {
            assert_eq!(lane.as_str().parse::<Lane>(), Ok(lane));
        }
    }
}
