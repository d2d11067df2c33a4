//! A circuit breaker per remote engine: after a run of failed calls the engine is not called
//! for a while, so documents fail at once (and can be re-screened) instead of each waiting
//! through its own timeouts; then one call is let through to try it again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed calls in a row that open the breaker.
const THRESHOLD: u32 = 5;
/// How long it stays open before one call may try again.
const COOL_DOWN: Duration = Duration::from_secs(30);

/// The breaker's state.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
    /// When the probe went out; a probe that never reports (its task died) is given up
    /// after a cool-down, so the engine is tried again.
    probing_since: Option<Instant>,
}

impl Breaker {
    /// Whether a call may go out now. After the cool-down a single call (the probe) goes;
    /// others are refused until it reports.
    pub(super) fn allow(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let probe_lost = state.probing_since.is_some_and(|since| now >= since + COOL_DOWN);
        match state.open_until {
            None => true,
            Some(until) if now >= until && (state.probing_since.is_none() || probe_lost) => {
                state.probing_since = Some(now);
                true
            }
            Some(_) => false,
        }
    }

    /// Reports a call's outcome.
    pub(super) fn report(&self, ok: bool, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.probing_since = None;
        if ok {
            state.failures = 0;
            state.open_until = None;
            return;
        }
        state.failures = state.failures.saturating_add(1);
        if state.failures >= THRESHOLD {
            state.open_until = Some(now + COOL_DOWN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_a_run_of_failures_and_probes_after_the_cool_down() {
        let breaker = Breaker::default();
        let start = Instant::now();
        for _ in 0..THRESHOLD - 1 {
            assert!(breaker.allow(start));
            breaker.report(false, start);
        }
        assert!(breaker.allow(start));
        breaker.report(false, start);
        assert!(!breaker.allow(start + Duration::from_secs(1)));
        let later = start + COOL_DOWN;
        assert!(breaker.allow(later), "one probe");
        assert!(!breaker.allow(later), "only one");
        breaker.report(false, later);
        assert!(!breaker.allow(later + Duration::from_secs(1)), "a failed probe reopens it");
        let much_later = later + COOL_DOWN * 2;
        assert!(breaker.allow(much_later));
        assert!(!breaker.allow(much_later), "the probe is out");
        assert!(breaker.allow(much_later + COOL_DOWN), "a probe that never reported is given up");
        breaker.report(true, much_later);
        assert!(breaker.allow(much_later) && breaker.allow(much_later), "closed again");
    }

    #[test]
    fn a_success_resets_the_count() {
        let breaker = Breaker::default();
        let now = Instant::now();
        for _ in 0..THRESHOLD * 3 {
            breaker.report(false, now);
            breaker.report(true, now);
        }
        assert!(breaker.allow(now));
    }
}
