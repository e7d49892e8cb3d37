//! A run and its recipe's canonical deployment: a quick run returns the canonical to
//! known-good instead of tearing down; a green cold run of the latest release promotes it
//! (see [`crate::fleet`]).

use super::{Lent, Run};
use crate::settings::CanonicalAsk;
use ccci_core::results::Teardown;

impl Run {
    /// A quick run's end: the canonical it tested the head on, back at known-good (the
    /// snapshot restored when the run is `red`). Nothing of the run's own is on the Swarm,
    /// so its teardown is clean; a canonical that could not be returned makes the run red
    /// by its outcome, and the next quick run rebuilds it.
    pub(super) fn return_canonical(&self, red: bool) -> Teardown {
        let clean = Teardown {
            clean: true,
            ..Teardown::default()
        };
        let mut lent = Lent::take(&self.deployment);
        let Some(d) = lent.0.as_mut() else {
            return clean;
        };
        let Some(c) = d.canonical.clone() else {
            // Adopting it failed: what it found stays recorded for the next quick run.
            return clean;
        };
        let deadline = self.shared.budgets.op_step();
        let back = self
            .rt
            .block_on(crate::fleet::return_to(&self.shared, d, &c, red, deadline));
        let untrusted = d.untrusted.clone();
        self.shared.record(|r| {
            r.canonical = Some(ccci_core::canonical::CanonicalOutcome { untrusted, ..back });
        });
        // Whatever happens next, the canonical is not the run's to remove.
        lent.0 = None;
        clean
    }

    /// `canonical up` of the ref with no ladder (a green cold run proved it already): the
    /// canonical made or promoted. `None`: it was known-good at the ref already.
    pub(crate) fn establish_canonical(
        &self,
    ) -> Result<Option<ccci_core::canonical::CanonicalOutcome>, crate::HarnessError> {
        if !self.shared.meta.canonical {
            return Err(crate::HarnessError::NotEnrolled {
                recipe: self.shared.meta.recipe.clone(),
            });
        }
        let deadline = self.shared.budgets.op_step();
        self.rt
            .block_on(crate::fleet::make_or_promote(&self.shared, None, deadline))
    }

    /// After a green cold run of an enrolled recipe's latest release: its canonical promoted
    /// to that release, or made when `canonical up` asked for one. A red run never does.
    pub(super) fn promote_canonical(&self, green: bool) {
        let settings = &self.shared.settings;
        let meta = &self.shared.meta;
        let latest = self.shared.record(|r| {
            r.head
                .as_ref()
                .and_then(|h| h.version.clone())
                .is_some_and(|v| r.latest.as_deref() == Some(v.as_str()))
        });
        if !green || !meta.canonical || !latest {
            return;
        }
        let records = crate::fleet::Records::at(&settings.canonical_dir);
        let exists = matches!(records.load(&meta.recipe), Ok(Some(_)));
        if !exists && settings.canonical != Some(CanonicalAsk::Up) {
            return;
        }
        let deadline = self.shared.budgets.op_step();
        let run_id = Some(self.shared.run_id.clone());
        match self
            .rt
            .block_on(crate::fleet::make_or_promote(&self.shared, run_id, deadline))
        {
            Ok(outcome) => self.shared.record(|r| r.canonical = outcome),
            Err(e) => self.shared.record(|r| {
                r.warn(&format!(
                    "the run is green on the latest release, and its canonical could not be made known-good: {e}"
                ))
            }),
        }
    }
}
