//! The one notion of "how long may this take": a budget given when a step starts, handed down
//! to every wait and call inside it, so that no part of a step gets a fresh clock of its own.

use std::time::{Duration, Instant};

/// A point in time a wait must not pass, with the budget it was given (for messages).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    start: Instant,
    budget: Duration,
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Deadline {
            start: Instant::now(),
            budget,
        }
    }
    /// Time left (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.budget.saturating_sub(self.start.elapsed())
    }
    /// Whether it has passed.
    pub fn passed(&self) -> bool {
        self.start.elapsed() >= self.budget
    }
    /// Time since the wait began.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
    /// The budget it was given.
    pub fn budget(&self) -> Duration {
        self.budget
    }
    /// The instant it passes, for `tokio::time::timeout_at` and the like.
    pub fn instant(&self) -> Instant {
        self.start + self.budget
    }
    /// A deadline for one part of a step: at most `max` from now, never past this one. The
    /// part's budget is what it got, so its messages say how long it really had.
    pub fn capped(&self, max: Duration) -> Deadline {
        Deadline::after(max.min(self.remaining()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_deadline_never_outlives_its_step() {
        let step = Deadline::after(Duration::from_secs(10));
        assert_eq!(
            step.capped(Duration::from_secs(3)).budget(),
            Duration::from_secs(3)
        );
        let part = step.capped(Duration::from_secs(60));
        assert!(
            part.budget() <= Duration::from_secs(10)
                && part.instant() <= step.instant() + Duration::from_millis(5)
        );
        assert!(Deadline::after(Duration::ZERO)
            .capped(Duration::from_secs(5))
            .passed());
    }
}
