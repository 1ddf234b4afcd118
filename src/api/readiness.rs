//! Readiness: a background loop asks Exchange about every service account
//! ([`Exchange::probe`](crate::exchange::Exchange::probe)) every `readiness_interval`, and
//! `/readyz` only reads the result, so a probe never costs an EWS call.
//!
//! Policy: ready when AT LEAST ONE service account was accepted within the last [`FRESH`] and
//! is not marked as refused by `exchange`: the mailboxes of a refused account (a wrong or
//! expired password) fail over to the next account of their ranking. The answer names every
//! account that is not usable and why (the transport's reason, never a password).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::api::AppState;
use crate::api::middleware::ApiError;
use crate::api::problem::{Problem, error_chain};
use crate::exchange::{AccountStatus, Exchange};

/// How recent an accepted probe must be.
pub const FRESH: Duration = Duration::from_secs(60);

/// The latest probe result per account, in the order of `Exchange::accounts()`.
pub(crate) struct Readiness {
    /// A std `Mutex`: held for one read or write, never across an `.await`.
    accounts: Mutex<Vec<AccountProbe>>,
}

#[derive(Clone, Default)]
struct AccountProbe {
    last_success: Option<Instant>,
    /// Why the latest probe failed, when it did (an error chain: never a secret).
    last_failure: Option<String>,
}

impl Readiness {
    pub(crate) fn new(accounts: usize) -> Readiness {
        Readiness {
            accounts: Mutex::new(vec![AccountProbe::default(); accounts]),
        }
    }

    fn record(&self, index: usize, result: Result<(), String>) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(probe) = accounts.get_mut(index) {
            match result {
                Ok(()) => {
                    probe.last_success = Some(Instant::now());
                    probe.last_failure = None;
                }
                Err(failure) => probe.last_failure = Some(failure),
            }
        }
    }

    /// Whether each account is ready now (for the metrics).
    pub(crate) fn ready_accounts(&self) -> Vec<bool> {
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts.iter().map(AccountProbe::is_fresh).collect()
    }

    /// `Ok` with a one-line-per-account text when at least one account is fresh (the mailboxes
    /// of a refused account fail over to the next account of their ranking), else a 503
    /// problem saying why each account is not ready. Refused accounts are named by their SMTP
    /// address with the transport's reason; never a password.
    pub(crate) fn verdict(&self, exchange: &Exchange) -> Result<String, ApiError> {
        let probes = self
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let states = exchange.account_states();
        let mut ready = 0;
        let mut lines = Vec::new();
        for (index, (account, state)) in exchange.accounts().iter().zip(&states).enumerate() {
            let probe = probes.get(index).cloned().unwrap_or_default();
            let refused = match &state.status {
                AccountStatus::AuthFailed { detail, .. } => Some(detail.clone()),
                _ => None,
            };
            let why = match (refused, &probe.last_failure, probe.last_success) {
                (_, Some(failure), _) => Some(format!(
                    "exchange refused or failed the last probe: {failure}"
                )),
                (Some(detail), None, _) => Some(format!("credentials refused: {detail}")),
                (None, None, Some(_)) if !probe.is_fresh() => {
                    Some("no successful probe within the last 60 s".to_owned())
                }
                (None, None, None) => Some("exchange has not been probed yet".to_owned()),
                (None, None, Some(_)) => None,
            };
            match why {
                None => {
                    ready += 1;
                    let paused = matches!(state.status, AccountStatus::Paused { .. });
                    lines.push(format!(
                        "{}: {}",
                        account.smtp,
                        if paused {
                            "paused (throttled)"
                        } else {
                            "healthy"
                        }
                    ));
                }
                Some(why) => lines.push(format!("{}: {why}", account.smtp)),
            }
        }
        let total = states.len();
        if ready == 0 {
            return Err(Problem::new(
                "not_ready",
                format!("no service account is usable: {}", lines.join("; ")),
            )
            .into());
        }
        let mut text = format!("ready: {ready} of {total} service accounts usable\n");
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
        Ok(text)
    }
}

impl AccountProbe {
    fn is_fresh(&self) -> bool {
        self.last_failure.is_none()
            && self
                .last_success
                .is_some_and(|time| time.elapsed() <= FRESH)
    }
}

/// Starts the background probe loop: every account now, then every `readiness_interval`. The
/// task runs until aborted (abort the handle at shutdown).
pub fn spawn_readiness(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let interval = state.settings().readiness_interval;
        loop {
            let exchange = &state.inner.exchange;
            for (index, account) in exchange.accounts().iter().enumerate() {
                let result = exchange
                    .probe(account)
                    .await
                    .map_err(|error| error_chain(&error));
                if let Err(failure) = &result {
                    tracing::warn!(account = %account.smtp, %failure, "readiness probe failed");
                }
                state.inner.readiness.record(index, result);
            }
            tokio::time::sleep(interval).await;
        }
    })
}
