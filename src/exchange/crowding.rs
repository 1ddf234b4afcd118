//! How many requests one service account may have in flight when Exchange says fewer than the
//! configured ceiling: the answer to `ErrorExceededConnectionCount`.
//!
//! Exchange counts an account's concurrent EWS requests against its throttling policy's
//! `EWSMaxConcurrency` on each server and refuses every request beyond it with
//! `ErrorExceededConnectionCount`, a SOAP fault without `BackOffMilliseconds` (docs/FIDELITY.md).
//! Retrying each refused request after a back-off alone keeps the account above the limit: all
//! of them come back together and most are refused again. So the account's own limit comes down
//! instead:
//! - a refusal of a request sent under the current limit cuts it to the `MaxConcurrencyLimit`
//!   Exchange named in `MessageXml` when that is lower, else to half (rounded up), never below
//!   one; refusals of requests sent before the cut do not cut again (one cut per burst);
//! - after `GROWTH_WINDOW` times the limit of answered requests without a refusal, the limit
//!   grows by one, up to the configured ceiling; a limit Exchange named is not probed past for
//!   [`LEARNED_FOR`] (another client may share the account, or the policy may be raised);
//! - requests over the limit wait in order for a place, so the retries are paced by the
//!   answers, not by a timer.
//!
//! The bookkeeping is [`Crowding`] (pure: the clock is passed in); [`Gate`] puts callers in line.
//!
//! Entry types: [`Gate`], [`Admission`], [`Outcome`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Answered requests, in multiples of the limit, before the limit grows by one: one window of
/// answers per step, as additive increase usually goes, so a limit halved by a passing burst
/// is back within a few hundred answers.
const GROWTH_WINDOW: usize = 1;
/// How long a `MaxConcurrencyLimit` named by Exchange caps the limit's growth.
pub(crate) const LEARNED_FOR: Duration = Duration::from_secs(300);

/// What became of one admitted request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `ErrorExceededConnectionCount`, with the `MaxConcurrencyLimit` Exchange named, if any.
    Refused { named_limit: Option<usize> },
    /// Exchange processed it (whatever its answer).
    Answered,
    /// No answer from Exchange (transport failure): says nothing about the limit.
    Unknown,
}

/// The limit and the places taken.
#[derive(Debug)]
pub(crate) struct Crowding {
    ceiling: usize,
    limit: usize,
    in_use: usize,
    /// Bumped by every cut: a refusal of a request admitted before it does not cut again.
    generation: u64,
    answered: usize,
    learned: Option<(usize, Instant)>,
}

impl Crowding {
    pub(crate) fn new(ceiling: usize) -> Crowding {
        let ceiling = ceiling.max(1);
        Crowding {
            ceiling,
            limit: ceiling,
            in_use: 0,
            generation: 0,
            answered: 0,
            learned: None,
        }
    }

    /// The current limit.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Takes a place when one is free under the limit; the generation it was taken in.
    pub(crate) fn try_admit(&mut self) -> Option<u64> {
        (self.in_use < self.limit).then(|| {
            self.in_use += 1;
            self.generation
        })
    }

    /// Gives a place back with what became of its request; true when the limit grew (more
    /// waiters may go).
    pub(crate) fn release(&mut self, generation: u64, outcome: Outcome, now: Instant) -> bool {
        self.in_use = self.in_use.saturating_sub(1);
        match outcome {
            Outcome::Refused { named_limit } => {
                if generation == self.generation {
                    let halved = self.limit.div_ceil(2);
                    let cut = match named_limit {
                        Some(named) if named >= 1 && named < self.limit => named,
                        _ => halved,
                    };
                    self.limit = cut.max(1);
                    self.generation += 1;
                    self.answered = 0;
                    if let Some(named) = named_limit.filter(|named| *named >= 1) {
                        self.learned = Some((named, now));
                    }
                }
                false
            }
            Outcome::Answered => {
                self.answered += 1;
                let cap = match self.learned {
                    Some((named, at)) if now.duration_since(at) < LEARNED_FOR => {
                        named.min(self.ceiling)
                    }
                    _ => self.ceiling,
                };
                if self.limit < cap && self.answered >= self.limit * GROWTH_WINDOW {
                    self.limit += 1;
                    self.answered = 0;
                    return true;
                }
                false
            }
            Outcome::Unknown => false,
        }
    }
}

/// One account's line of requests under its current limit.
#[derive(Debug)]
pub(crate) struct Gate {
    crowding: Mutex<Crowding>,
    notify: Notify,
}

/// A place under the limit, held for one attempt; give it back with [`Gate::release`]. Dropped
/// without that (a cancelled call), it is given back with [`Outcome::Unknown`].
#[derive(Debug)]
pub(crate) struct Admission<'a> {
    gate: &'a Gate,
    generation: u64,
    released: bool,
}

impl Gate {
    pub(crate) fn new(ceiling: usize) -> Gate {
        Gate {
            crowding: Mutex::new(Crowding::new(ceiling)),
            notify: Notify::new(),
        }
    }

    fn crowding(&self) -> std::sync::MutexGuard<'_, Crowding> {
        self.crowding
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current limit.
    pub(crate) fn limit(&self) -> usize {
        self.crowding().limit()
    }

    /// Waits for a place under the limit.
    pub(crate) async fn admit(&self) -> Admission<'_> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(generation) = self.crowding().try_admit() {
                return Admission {
                    gate: self,
                    generation,
                    released: false,
                };
            }
            notified.await;
        }
    }

    /// Gives the place back with what became of its request.
    pub(crate) fn release(&self, mut admission: Admission<'_>, outcome: Outcome) {
        admission.released = true;
        self.give_back(admission.generation, outcome);
    }

    fn give_back(&self, generation: u64, outcome: Outcome) {
        let grew = self.crowding().release(generation, outcome, Instant::now());
        if grew {
            self.notify.notify_waiters();
        }
        self.notify.notify_one();
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if !self.released {
            self.gate.give_back(self.generation, Outcome::Unknown);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn refused(named_limit: Option<usize>) -> Outcome {
        Outcome::Refused { named_limit }
    }

    #[test]
    fn a_burst_of_refusals_cuts_once_to_the_named_limit() {
        let now = Instant::now();
        let mut crowding = Crowding::new(8);
        let generations: Vec<u64> = (0..8).map(|_| crowding.try_admit().unwrap()).collect();
        assert_eq!(crowding.try_admit(), None, "eight places, no ninth");
        // Exchange admitted two and refused six, naming its limit of 2.
        for generation in &generations[..6] {
            crowding.release(*generation, refused(Some(2)), now);
        }
        assert_eq!(crowding.limit(), 2, "one cut, to the named limit");
        for generation in &generations[6..] {
            crowding.release(*generation, Outcome::Answered, now);
        }
        assert_eq!(crowding.limit(), 2);
        assert!(crowding.try_admit().is_some());
        assert!(crowding.try_admit().is_some());
        assert_eq!(crowding.try_admit(), None);
    }

    #[test]
    fn without_a_named_limit_each_burst_halves_rounding_up_never_below_one() {
        let now = Instant::now();
        let mut crowding = Crowding::new(8);
        let mut limits = Vec::new();
        for _ in 0..5 {
            let generation = crowding.try_admit().unwrap();
            crowding.release(generation, refused(None), now);
            limits.push(crowding.limit());
        }
        assert_eq!(limits, [4, 2, 1, 1, 1]);
        // A named limit above the current one does not raise it.
        let generation = crowding.try_admit().unwrap();
        crowding.release(generation, refused(Some(5)), now);
        assert_eq!(crowding.limit(), 1);
    }

    #[test]
    fn the_limit_grows_back_by_one_per_window_up_to_the_ceiling() {
        let now = Instant::now();
        let mut crowding = Crowding::new(3);
        let generation = crowding.try_admit().unwrap();
        crowding.release(generation, refused(None), now);
        assert_eq!(crowding.limit(), 2);
        let mut answered = 0;
        while crowding.limit() < 3 {
            let generation = crowding.try_admit().unwrap();
            crowding.release(generation, Outcome::Answered, now);
            answered += 1;
        }
        assert_eq!(answered, 2 * GROWTH_WINDOW);
        for _ in 0..100 {
            let generation = crowding.try_admit().unwrap();
            crowding.release(generation, Outcome::Answered, now);
        }
        assert_eq!(crowding.limit(), 3, "never above the ceiling");
        // Transport failures say nothing.
        let generation = crowding.try_admit().unwrap();
        crowding.release(generation, Outcome::Unknown, now);
        assert_eq!(crowding.limit(), 3);
    }

    #[test]
    fn a_named_limit_caps_growth_for_a_while_then_is_probed_past() {
        let start = Instant::now();
        let mut crowding = Crowding::new(8);
        let generation = crowding.try_admit().unwrap();
        crowding.release(generation, refused(Some(3)), start);
        assert_eq!(crowding.limit(), 3);
        for _ in 0..1000 {
            let generation = crowding.try_admit().unwrap();
            crowding.release(generation, Outcome::Answered, start);
        }
        assert_eq!(crowding.limit(), 3, "the named limit holds");
        let later = start + LEARNED_FOR;
        for _ in 0..3 * GROWTH_WINDOW {
            let generation = crowding.try_admit().unwrap();
            crowding.release(generation, Outcome::Answered, later);
        }
        assert_eq!(crowding.limit(), 4, "probed past once it is old");
    }

    #[tokio::test]
    async fn waiters_go_in_as_places_are_given_back_and_a_dropped_admission_frees_its_place() {
        let gate = Arc::new(Gate::new(2));
        let first = gate.admit().await;
        let second = gate.admit().await;
        let waiter = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move {
                let admission = gate.admit().await;
                gate.release(admission, Outcome::Answered);
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "no third place");
        gate.release(first, refused(Some(1)));
        assert_eq!(gate.limit(), 1);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "one place, still taken");
        drop(second);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter goes in once the place is free")
            .unwrap();
    }
}
