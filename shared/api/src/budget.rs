//! A rate budget for requests without a verified token, on servers that take many
//! requests in one process (stamp-local). In AWS the HTTP API's route throttles do this
//! before a function runs (template.yaml); a Lambda instance serves one request at a time,
//! so it sets no budget.
//!
//! The budget is a GCRA token bucket: `rate` requests a second with bursts of `burst`.
//! A request over it waits for its slot when that is at most `max_wait` away (waiting
//! costs no worker), otherwise it is answered 429 with `Retry-After` — refused, and
//! audited like every other request. Authenticated requests never touch the budget, so
//! an anonymous flood can neither take their workers nor their store commits.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct AnonymousBudget {
    interval: Duration,
    /// How far the schedule may run ahead of now without waiting (the burst).
    tolerance: Duration,
    max_wait: Duration,
    /// When the next request would be on schedule (GCRA's theoretical arrival time).
    next: Mutex<Option<Instant>>,
}

/// What the budget allows one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go on, after waiting this long (zero: at once).
    After(Duration),
    /// Over the budget: try again after this long.
    Refused(Duration),
}

impl AnonymousBudget {
    /// `rate` requests a second (at least 1), bursts of `burst`, waits of at most
    /// `max_wait`.
    pub fn new(rate: u32, burst: u32, max_wait: Duration) -> Self {
        let interval = Duration::from_secs(1) / rate.max(1);
        AnonymousBudget {
            interval,
            tolerance: interval * burst.max(1).saturating_sub(1),
            max_wait,
            next: Mutex::new(None),
        }
    }

    /// stamp-local's budget: the sum of the public routes' throttles in template.yaml
    /// (`/v1/announcements` and `/v1/privacy`, 25/s each, bursts of 50), waits of 2 s.
    pub fn local() -> Self {
        AnonymousBudget::new(50, 100, Duration::from_secs(2))
    }

    pub fn admit(&self) -> Admission {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Admission {
        let Ok(mut next) = self.next.lock() else {
            return Admission::After(Duration::ZERO);
        };
        let due = next.map_or(now, |n| n.max(now));
        let wait = due
            .saturating_duration_since(now)
            .saturating_sub(self.tolerance);
        if wait > self.max_wait {
            return Admission::Refused(wait - self.max_wait);
        }
        *next = Some(due + self.interval);
        Admission::After(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_then_requests_wait_their_slot_then_are_refused() {
        let b = AnonymousBudget::new(10, 3, Duration::from_millis(250));
        let t = Instant::now();
        // The burst: three at once.
        for _ in 0..3 {
            assert_eq!(b.admit_at(t), Admission::After(Duration::ZERO));
        }
        // Then one slot every 100 ms, waited for up to 250 ms.
        assert_eq!(b.admit_at(t), Admission::After(Duration::from_millis(100)));
        assert_eq!(b.admit_at(t), Admission::After(Duration::from_millis(200)));
        match b.admit_at(t) {
            Admission::Refused(after) => assert_eq!(after, Duration::from_millis(50)),
            other => panic!("over the budget: {other:?}"),
        }
        // A refusal takes no slot; later the budget refills.
        let later = t + Duration::from_secs(1);
        assert_eq!(b.admit_at(later), Admission::After(Duration::ZERO));
    }
}
