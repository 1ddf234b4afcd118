//! The service-account pool: which account serves a mailbox (rendezvous hashing, with failover
//! to the next account of the mailbox's own ranking), and each account's health.
//!
//! Invariants:
//! - an account whose credentials Exchange refused sends nothing until its password changes or
//!   `auth_failure_cooldown` has passed (Active Directory locks accounts after a few failures);
//! - the first authentication of an account (after start, a password change or a cool-down) is
//!   made by one caller at a time ([`Slot::auth_gate`]), so a wrong password costs exactly one
//!   failed handshake whatever the concurrency;
//! - a throttling pause applies to every caller of the account, not just the one that was told.
//!
//! Entry types: [`AccountState`], [`AccountStatus`], [`Slot`] (crate-internal).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::exchange::Account;
use crate::exchange::crowding::Gate;
use crate::secret::Secret;

/// One account's health, for `/readyz` and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountState {
    /// The account's primary SMTP address.
    pub smtp: String,
    /// `DOMAIN\user` or a UPN.
    pub username: String,
    pub status: AccountStatus,
    /// Requests of this account being sent or waiting for one of its connection slots now.
    pub in_flight: usize,
    /// Requests this account may have in flight now: the configured ceiling, or less while
    /// Exchange answers `ErrorExceededConnectionCount` (`exchange::crowding`).
    pub concurrency_limit: usize,
}

/// Whether an account can be used now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountStatus {
    /// Usable (its password may not have been verified yet).
    Healthy,
    /// Exchange refused the credentials at `since`; nothing is sent with them until the password
    /// changes or the cool-down has passed. `detail` is the transport's reason (no secret).
    AuthFailed { since: SystemTime, detail: String },
    /// Exchange asked us to slow down; no request of this account is sent before `until`.
    Paused { until: SystemTime },
}

/// One configured account with its mutable state.
pub(crate) struct Slot {
    pub(crate) account: Account,
    /// Held by the one caller that authenticates an unverified account; the others wait and
    /// then look at the outcome. A tokio mutex: it is held across the request.
    pub(crate) auth_gate: tokio::sync::Mutex<()>,
    /// A std mutex: held for a field update only, never across an `.await`.
    state: Mutex<SlotState>,
    in_flight: AtomicUsize,
    /// The account's requests in flight, under the limit Exchange's
    /// `ErrorExceededConnectionCount` answers bring down (at most the configured ceiling).
    pub(crate) gate: Gate,
}

struct SlotState {
    /// The current password (replaced by [`Slot::set_password`]).
    password: Secret,
    /// Exchange accepted this password at least once.
    verified: bool,
    failure: Option<AuthFailure>,
    paused_until: Option<Instant>,
}

struct AuthFailure {
    at: Instant,
    since: SystemTime,
    detail: String,
}

/// Decrements the in-flight count when the request ends, however it ends.
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Slot {
    pub(crate) fn new(account: Account, ceiling: usize) -> Slot {
        Slot {
            state: Mutex::new(SlotState {
                password: account.password.clone(),
                verified: false,
                failure: None,
                paused_until: None,
            }),
            account,
            auth_gate: tokio::sync::Mutex::new(()),
            in_flight: AtomicUsize::new(0),
            gate: Gate::new(ceiling),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn password(&self) -> Secret {
        self.state().password.clone()
    }

    /// Whether requests may be sent with this account; a failure older than `cooldown` is
    /// forgotten here (the password is then unverified again, so the next use is gated).
    pub(crate) fn usable(&self, now: Instant, cooldown: Duration) -> bool {
        let mut state = self.state();
        match &state.failure {
            None => true,
            Some(failure) if now.duration_since(failure.at) >= cooldown => {
                tracing::info!(account = %self.account.username, "auth failure cool-down over: trying the account again");
                state.failure = None;
                state.verified = false;
                true
            }
            Some(_) => false,
        }
    }

    /// True until Exchange has accepted the current password once.
    pub(crate) fn needs_gate(&self) -> bool {
        !self.state().verified
    }

    pub(crate) fn mark_verified(&self) {
        self.state().verified = true;
    }

    /// Records a refusal of the credentials that were current when the request was built;
    /// ignored when the password changed meanwhile (the new one has not been tried).
    pub(crate) fn mark_auth_failed(&self, tried: &Secret, detail: String) {
        let mut state = self.state();
        if !same_secret(&state.password, tried) {
            return;
        }
        state.verified = false;
        state.failure = Some(AuthFailure {
            at: Instant::now(),
            since: SystemTime::now(),
            detail,
        });
    }

    /// How long ago the credentials were refused, while the mark holds.
    pub(crate) fn failed_for(&self) -> Option<(Duration, String)> {
        self.state()
            .failure
            .as_ref()
            .map(|failure| (failure.at.elapsed(), failure.detail.clone()))
    }

    /// Whether the credentials are refused now (the mark holds and `cooldown` has not passed):
    /// [`Slot::snapshot`]'s `AuthFailed`, without copying the state.
    pub(crate) fn is_refused(&self, cooldown: Duration) -> bool {
        self.state()
            .failure
            .as_ref()
            .is_some_and(|failure| failure.at.elapsed() < cooldown)
    }

    /// Replaces the password; a different one clears the failure mark and must be verified
    /// again. Returns whether it changed.
    pub(crate) fn set_password(&self, password: &Secret) -> bool {
        let mut state = self.state();
        if same_secret(&state.password, password) {
            return false;
        }
        state.password = password.clone();
        state.verified = false;
        state.failure = None;
        true
    }

    /// No request of this account leaves before `until` (an earlier pause is extended only).
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut state = self.state();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// The end of the current pause, when one is running.
    pub(crate) fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.state().paused_until.filter(|until| *until > now)
    }

    pub(crate) fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    pub(crate) fn snapshot(&self, cooldown: Duration) -> AccountState {
        let now = Instant::now();
        let state = self.state();
        let status = match (&state.failure, state.paused_until) {
            (Some(failure), _) if now.duration_since(failure.at) < cooldown => {
                AccountStatus::AuthFailed {
                    since: failure.since,
                    detail: failure.detail.clone(),
                }
            }
            (_, Some(until)) if until > now => AccountStatus::Paused {
                until: SystemTime::now() + (until - now),
            },
            _ => AccountStatus::Healthy,
        };
        AccountState {
            smtp: self.account.smtp.clone(),
            username: self.account.username.clone(),
            status,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            concurrency_limit: self.gate.limit(),
        }
    }
}

/// Indexes of `accounts` in `mailbox`'s order of preference: highest SHA-256(username, mailbox)
/// first (rendezvous hashing), so adding an account moves only the mailboxes it now wins, and
/// removing one moves only its own mailboxes, each to its next account.
pub(crate) fn ranking(accounts: &[Account], mailbox: &str) -> Vec<usize> {
    let mailbox = mailbox.to_ascii_lowercase();
    let mut scored: Vec<(u64, usize)> = accounts
        .iter()
        .enumerate()
        .map(|(index, account)| {
            let mut hasher = Sha256::new();
            hasher.update(account.username.to_ascii_lowercase().as_bytes());
            hasher.update([0]);
            hasher.update(mailbox.as_bytes());
            let digest = hasher.finalize();
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            (u64::from_be_bytes(first), index)
        })
        .collect();
    scored.sort_by(|left, right| right.cmp(left));
    scored.into_iter().map(|(_, index)| index).collect()
}

fn same_secret(left: &Secret, right: &Secret) -> bool {
    bool::from(left.expose().as_bytes().ct_eq(right.expose().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, password: &str) -> Account {
        Account {
            username: format!("CONTOSO\\{name}"),
            smtp: format!("{name}@contoso.example"),
            password: Secret::new(password),
        }
    }

    #[test]
    fn an_auth_failure_holds_until_the_password_changes_or_the_cooldown_ends() {
        let slot = Slot::new(account("svc", "wrong"), 4);
        let cooldown = Duration::from_secs(60);
        assert!(slot.usable(Instant::now(), cooldown));
        slot.mark_auth_failed(&Secret::new("wrong"), "refused".to_owned());
        assert!(!slot.usable(Instant::now(), cooldown));
        assert!(matches!(
            slot.snapshot(cooldown).status,
            AccountStatus::AuthFailed { .. }
        ));
        // The same password again keeps the mark.
        assert!(!slot.set_password(&Secret::new("wrong")));
        assert!(!slot.usable(Instant::now(), cooldown));
        // After the cool-down the account is tried again, gated.
        assert!(slot.usable(Instant::now() + cooldown, cooldown));
        assert!(slot.needs_gate());
        slot.mark_auth_failed(&Secret::new("wrong"), "refused".to_owned());
        // A new password clears the mark.
        assert!(slot.set_password(&Secret::new("right")));
        assert!(slot.usable(Instant::now(), cooldown));
        assert_eq!(slot.snapshot(cooldown).status, AccountStatus::Healthy);
        // A late refusal of the old password does not mark the new one.
        slot.mark_auth_failed(&Secret::new("wrong"), "late".to_owned());
        assert!(slot.usable(Instant::now(), cooldown));
    }

    #[test]
    fn a_pause_is_extended_never_shortened() {
        let slot = Slot::new(account("svc", "pw"), 4);
        let now = Instant::now();
        slot.pause_until(now + Duration::from_secs(5));
        slot.pause_until(now + Duration::from_secs(1));
        assert_eq!(slot.paused_until(now), Some(now + Duration::from_secs(5)));
        assert_eq!(slot.paused_until(now + Duration::from_secs(6)), None);
        assert!(matches!(
            slot.snapshot(Duration::from_secs(1)).status,
            AccountStatus::Paused { .. }
        ));
    }

    #[test]
    fn ranking_is_a_permutation_and_ignores_case() {
        let accounts = [account("a", "x"), account("b", "x"), account("c", "x")];
        let ranking_lower = ranking(&accounts, "alice@contoso.example");
        let mut sorted = ranking_lower.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2]);
        assert_eq!(ranking_lower, ranking(&accounts, "ALICE@Contoso.example"));
    }
}
