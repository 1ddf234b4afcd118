//! Readiness: a background loop asks Exchange about every service account
//! ([`Exchange::probe`](crate::exchange::Exchange::probe)) every `readiness_interval`, and
//! `/readyz` only reads the result, so a probe never costs an EWS call.
//!
//! Policy: ready when EVERY service account was accepted within the last [`FRESH`]; one account
//! that Exchange refuses (a wrong or expired password) makes the service not ready, because the
//! mailboxes that hash to it would all fail.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::api::AppState;
use crate::api::middleware::ApiError;
use crate::api::problem::{Problem, error_chain};

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

    /// `Ok` when every account is fresh, else a 503 problem naming the first that is not.
    pub(crate) fn verdict(&self) -> Result<(), ApiError> {
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        for (index, probe) in accounts.iter().enumerate() {
            if probe.is_fresh() {
                continue;
            }
            let why = match (&probe.last_failure, probe.last_success) {
                (Some(failure), _) => {
                    format!("exchange refused or failed the last probe: {failure}")
                }
                (None, Some(_)) => "no successful probe within the last 60 s".to_owned(),
                (None, None) => "exchange has not been probed yet".to_owned(),
            };
            return Err(Problem::new(
                "not_ready",
                format!("service account #{} is not ready: {why}", index + 1),
            )
            .into());
        }
        Ok(())
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
