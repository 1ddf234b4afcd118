//! Readiness: a background loop asks Exchange about every service account
//! ([`Exchange::probe`](crate::exchange::Exchange::probe)) every `readiness_interval`, and
//! `/readyz` only reads the result, so a probe never costs an EWS call.
//!
//! Policy: ready when AT LEAST ONE service account was accepted within the last [`FRESH`] and
//! is not marked as refused by `exchange`: the mailboxes of a refused account (a wrong or
//! expired password) fail over to the next account of their ranking. The answer names every
//! account that is not usable and why (the transport's reason, never a password).
//!
//! Where `delegation.principal` is a group, the loop also reads its members (EWS `ExpandDL`,
//! nested, through the delegation room's per-group cache) and `/readyz` answers 503 naming
//! every service account that is not a member: those accounts push as themselves, so the
//! calendars' grants to the group do not reach them. The first round runs at start and logs a
//! warning naming each such account; later rounds log again only when the answer changes.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::api::AppState;
use crate::api::middleware::ApiError;
use crate::api::problem::{Problem, ProblemCode, error_chain};
use crate::exchange::{AccountStatus, Exchange};

/// How recent an accepted probe must be.
pub const FRESH: Duration = Duration::from_secs(60);

/// The latest probe result per account, in the order of `Exchange::accounts()`.
pub(crate) struct Readiness {
    /// A std `Mutex`: held for one read or write, never across an `.await`.
    accounts: Mutex<Vec<AccountProbe>>,
    /// Why the service accounts cannot act as the principal group, when they cannot.
    principal_problem: Mutex<Option<String>>,
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
            principal_problem: Mutex::new(None),
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

    /// Records the latest principal-group verdict; true when it changed.
    fn record_principal(&self, problem: Option<String>) -> bool {
        let mut current = self
            .principal_problem
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let changed = *current != problem;
        *current = problem;
        changed
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
        let principal_problem = self
            .principal_problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(problem) = principal_problem {
            return Err(Problem::new(
                ProblemCode::NotReady,
                format!("{problem}; accounts: {}", lines.join("; ")),
            )
            .into());
        }
        if ready == 0 {
            return Err(Problem::new(
                ProblemCode::NotReady,
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
            check_principal_group(&state).await;
            tokio::time::sleep(interval).await;
        }
    })
}

/// Reads whether `delegation.principal` is a group the service accounts belong to, records the
/// verdict for `/readyz`, and logs it when it changed. An Exchange failure keeps the previous
/// verdict (the account probes report Exchange's health).
async fn check_principal_group(state: &AppState) {
    use crate::delegation::PrincipalGroup;
    let delegation = &state.inner.delegation;
    let principal = delegation.settings().principal.clone();
    match delegation.principal_group().await {
        Ok(PrincipalGroup::Group { non_members }) if !non_members.is_empty() => {
            let problem = format!(
                "the service account(s) {} are not members of the delegation principal group {principal}, directly or through nested groups: they push as themselves, so the calendars' grants to {principal} do not reach them; add them to the group",
                non_members.join(", ")
            );
            if state.inner.readiness.record_principal(Some(problem)) {
                for account in &non_members {
                    tracing::warn!(
                        %account,
                        %principal,
                        "service account is not a member of the delegation principal group"
                    );
                }
            }
        }
        Ok(verdict) => {
            if state.inner.readiness.record_principal(None) {
                tracing::info!(%principal, ?verdict, "delegation principal checked");
            }
        }
        Err(error) => {
            tracing::warn!(%principal, failure = %error_chain(&error), "cannot read the delegation principal's members");
        }
    }
}
