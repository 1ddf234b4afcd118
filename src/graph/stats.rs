//! The counters of one application's Graph traffic, for `/metrics`: shared by its
//! [`TokenSource`](super::auth::TokenSource) (token requests) and every
//! [`GraphClient`](super::client::GraphClient) built on it (Graph requests), so whoever holds the
//! token source can read them all.
//!
//! Invariant: labels come from fixed sets or from Graph's own answers, cut to a code's shape
//! (letters, digits, `_`, `.`, at most 64 characters; anything else is `http_<status>`), never
//! from a mailbox address or a client's input.
//!
//! Entry type: [`Stats`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// The operations Graph requests are counted under.
pub const OPERATIONS: [&str; 6] = [
    "calendar",
    "calendarPermissions",
    "events",
    "batch",
    "token",
    "other",
];

/// The operation of a request to `url` (under `/v1.0`): `batch` for `$batch`,
/// `calendarPermissions`, `events` (events and calendarView), `calendar`, else `other`.
pub fn operation_of(url: &url::Url) -> &'static str {
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    if segments.contains(&"$batch") {
        "batch"
    } else if segments.contains(&"calendarPermissions") {
        "calendarPermissions"
    } else if segments.contains(&"events") || segments.contains(&"calendarView") {
        "events"
    } else if segments.last() == Some(&"calendar") {
        "calendar"
    } else {
        "other"
    }
}

/// The outcome label of an error answer: Graph's `error.code` (or Entra's `AADSTSn`) when it
/// has a code's shape, else `http_<status>`.
pub fn outcome_of(status: u16, code: &str) -> String {
    let shaped = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if shaped {
        code.to_owned()
    } else {
        format!("http_{status}")
    }
}

/// The Graph counters of one application.
#[derive(Debug, Default)]
pub struct Stats {
    /// (operation, outcome) → attempts.
    requests: Mutex<BTreeMap<(&'static str, String), u64>>,
    retries: AtomicU64,
    throttle_waits: AtomicU64,
    throttle_wait_ms: AtomicU64,
    token_requests: AtomicU64,
    token_refusals: AtomicU64,
    in_flight: AtomicI64,
}

/// A snapshot of the plain counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Graph requests sent again after 429, 503 or 504.
    pub retries: u64,
    /// Waits before such a resend.
    pub throttle_waits: u64,
    /// Time spent in them.
    pub throttle_wait_ms: u64,
    /// Token requests sent to Entra ID.
    pub token_requests: u64,
    /// Those Entra ID refused (an AADSTS error).
    pub token_refusals: u64,
    /// Graph HTTP requests in flight now (a `$batch` counts once).
    pub in_flight: i64,
}

impl Stats {
    /// Counts one attempt of `operation` that ended in `outcome` (`answered`, a code,
    /// `http_<status>`, `transport_error`).
    pub fn record(&self, operation: &'static str, outcome: String) {
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *requests.entry((operation, outcome)).or_insert(0) += 1;
    }

    /// Counts one token request and its outcome; `refused` when Entra ID refused it.
    pub fn record_token(&self, outcome: String, refused: bool) {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        if refused {
            self.token_refusals.fetch_add(1, Ordering::Relaxed);
        }
        self.record("token", outcome);
    }

    /// Counts a resend after a throttling answer and the wait before it.
    pub fn record_retry(&self, wait: Duration) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.record_wait(wait);
    }

    /// Counts a resend whose wait is counted by [`Stats::record_wait`] (a `$batch` part).
    pub fn record_resend(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a wait for throttled requests (a `$batch`'s parts waiting for `Retry-After`).
    pub fn record_wait(&self, wait: Duration) {
        self.throttle_waits.fetch_add(1, Ordering::Relaxed);
        self.throttle_wait_ms.fetch_add(
            u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// One request in flight until the guard is dropped.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// The attempts by (operation, outcome).
    pub fn requests(&self) -> Vec<(&'static str, String, u64)> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|((operation, outcome), count)| (*operation, outcome.clone(), *count))
            .collect()
    }

    /// The plain counters now.
    pub fn counts(&self) -> Counts {
        Counts {
            retries: self.retries.load(Ordering::Relaxed),
            throttle_waits: self.throttle_waits.load(Ordering::Relaxed),
            throttle_wait_ms: self.throttle_wait_ms.load(Ordering::Relaxed),
            token_requests: self.token_requests.load(Ordering::Relaxed),
            token_refusals: self.token_refusals.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// A request in flight (see [`Stats::in_flight`]).
pub struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_come_from_the_path_and_outcomes_keep_a_code_s_shape() {
        let url =
            |path: &str| url::Url::parse(&format!("https://graph.example/v1.0/{path}")).unwrap();
        assert_eq!(
            operation_of(&url("users/a%40b.example/calendar")),
            "calendar"
        );
        assert_eq!(
            operation_of(&url("users/a%40b.example/calendar/calendarPermissions/x")),
            "calendarPermissions"
        );
        assert_eq!(
            operation_of(&url("users/a%40b.example/calendar/events")),
            "events"
        );
        assert_eq!(operation_of(&url("$batch")), "batch");
        assert_eq!(operation_of(&url("users/a%40b.example")), "other");
        for operation in [
            "calendar",
            "calendarPermissions",
            "events",
            "batch",
            "other",
        ] {
            assert!(OPERATIONS.contains(&operation));
        }
        assert_eq!(outcome_of(403, "ErrorAccessDenied"), "ErrorAccessDenied");
        assert_eq!(outcome_of(401, "AADSTS7000215"), "AADSTS7000215");
        assert_eq!(outcome_of(502, ""), "http_502");
        assert_eq!(outcome_of(400, "a mailbox@x.example"), "http_400");
        assert_eq!(outcome_of(400, &"A".repeat(65)), "http_400");
    }

    #[test]
    fn in_flight_counts_until_the_guard_is_dropped() {
        let stats = Stats::default();
        let first = stats.in_flight();
        let second = stats.in_flight();
        assert_eq!(stats.counts().in_flight, 2);
        drop(first);
        drop(second);
        assert_eq!(stats.counts().in_flight, 0);
    }
}
