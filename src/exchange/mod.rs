//! `exchange`: the one call path that the domain rooms use: pick the service account for a
//! mailbox, encode with `ews`, send with `transport`, decode, classify.
//!
//! Invariants:
//! - this is the only module that combines `ews` and `transport`;
//! - every impersonated request names the same mailbox in `ExchangeImpersonation` and in
//!   `X-AnchorMailbox`;
//! - a mailbox always maps to the same account while the account list is unchanged (rendezvous
//!   hashing), so Exchange's per-account budgets stay predictable;
//! - the retry and throttling loop ([`Exchange::call`]) belongs here and nowhere else; it is
//!   bounded by a total time budget (`retry_budget`), not by a count of attempts;
//! - a certificate or name-resolution failure is permanent: never retried (one attempt, at most
//!   one TLS handshake), answered at once as unreachable;
//! - a write whose outcome is unknown (reset or timeout after the request may have left) is
//!   never resent: the caller re-reads and compares;
//! - refused credentials are never tried again with the same password (see `accounts`), and the
//!   per-account ceiling (`transport.max_connections_per_account`) is never exceeded.
//!
//! Layout: `accounts` (the account pool and its health), `retry` (the policy, pure).
//! Entry types: [`Exchange`], [`Settings`], [`ActAs`], [`Answer`], [`Error`], [`FailureKind`],
//! [`ExchangeStats`], [`AccountState`].

mod accounts;
pub mod autodiscover;
mod crowding;
pub mod notes;
pub(crate) mod retry;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::ews::ops::get_folder::{
    BaseShape, DistinguishedFolderName, FolderIdRef, FolderShape, GetFolder,
};
use crate::ews::{self, ErrorKind, Operation, ResponseCode};
pub use crate::exchange::accounts::{AccountState, AccountStatus};
use crate::exchange::accounts::{Slot, ranking};
use crate::exchange::retry::Verdict;
use crate::secret::Secret;
use crate::transport::{self, Transport};

/// One service account as `exchange` needs it.
#[derive(Debug, Clone)]
pub struct Account {
    /// `DOMAIN\user` or `user@upn.example`: what NTLM or Basic sends.
    pub username: String,
    /// The account's primary SMTP address: what the API reports as `serviceAccount`.
    pub smtp: String,
    pub password: Secret,
}

/// What `exchange` needs to run; filled by `config`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub transport: transport::Settings,
    /// `RequestServerVersion` sent with every request.
    pub version: String,
    /// At least one account.
    pub accounts: Vec<Account>,
    /// When set, every request body is also written to this directory as
    /// `<sequence>-<Operation>.xml`; the tests validate the captured bodies against Microsoft's
    /// schema. Never set in production.
    pub capture_dir: Option<PathBuf>,
    /// Total time one call may spend waiting on throttling, back-off and retries (config
    /// `exchange.retry_budget_secs`). Zero means one attempt only.
    pub retry_budget: Duration,
    /// How long an account whose credentials were refused stays unused when its password does
    /// not change (config `exchange.auth_failure_cooldown_secs`).
    pub auth_failure_cooldown: Duration,
}

impl Settings {
    /// Settings with the defaults of `config`: a 60 s retry budget and a 900 s cool-down after
    /// refused credentials, no capture.
    pub fn new(
        transport: transport::Settings,
        version: String,
        accounts: Vec<Account>,
    ) -> Settings {
        Settings {
            transport,
            version,
            accounts,
            capture_dir: None,
            retry_budget: Duration::from_secs(60),
            auth_failure_cooldown: Duration::from_secs(900),
        }
    }
}

/// Counters of the retry loop since the client was built, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExchangeStats {
    /// Calls made through [`Exchange::call`].
    pub calls: u64,
    /// Attempts sent again after a first one (throttling, transient errors, resets).
    pub retries: u64,
    /// Times a call waited because its account was paused or it backed off.
    pub throttle_waits: u64,
    /// Total time spent in those waits, in milliseconds.
    pub throttle_wait_ms: u64,
    /// Answers that said "slow down": `ErrorServerBusy` and friends (fault or per message) and
    /// HTTP 503.
    pub busy_answers: u64,
    /// Requests whose credentials Exchange refused.
    pub auth_failures: u64,
    /// Calls that failed at once, without sending, because every account they may use had its
    /// credentials refused.
    pub auth_short_circuits: u64,
    /// Calls served by another account than their first choice because that one was refused.
    pub failovers: u64,
    /// Calls that ran out of retry budget.
    pub budget_exhausted: u64,
}

/// Whose identity a call runs under.
#[derive(Debug, Clone, Copy)]
pub enum ActAs<'a> {
    /// The mailbox owner, through `ExchangeImpersonation` by primary SMTP address.
    Owner(&'a str),
    /// The service account itself, reaching `mailbox` by delegate access (no impersonation
    /// header); `mailbox` still chooses the account and the `X-AnchorMailbox`.
    ServiceAccount(&'a str),
}

impl<'a> ActAs<'a> {
    pub fn mailbox(&self) -> &'a str {
        match self {
            ActAs::Owner(mailbox) | ActAs::ServiceAccount(mailbox) => mailbox,
        }
    }

    /// The same identity for another mailbox address.
    fn for_mailbox<'b>(&self, mailbox: &'b str) -> ActAs<'b> {
        match self {
            ActAs::Owner(_) => ActAs::Owner(mailbox),
            ActAs::ServiceAccount(_) => ActAs::ServiceAccount(mailbox),
        }
    }
}

/// What an answer says about the mailbox's identity: the primary address of an
/// `ErrorNonPrimarySmtpAddress`, the `MailboxGuid` of an `ErrorNonExistentMailbox`, from a SOAP
/// fault or from the first failed response message.
#[derive(Debug, Default)]
struct IdentityHints {
    primary: Option<String>,
    mailbox_guid: Option<String>,
}

/// Whether a primary address that Exchange named may be sent on: it goes into the
/// `X-AnchorMailbox` header and the impersonation header, so one `local@domain` of printable
/// characters without spaces, angle brackets or quotes, at most 320 bytes.
fn plausible_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.len() <= 320
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && address
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | ','))
}

/// Reads [`IdentityHints`] from one call's result.
fn what_exchange_said<O: Operation>(result: &Result<Answer<O::Response>, Error>) -> IdentityHints {
    let (code, message_xml) = match result {
        Err(Error::Fault(fault)) => (&fault.response_code, &fault.message_xml),
        Ok(answer) => match O::response_errors(&answer.response).first() {
            Some(error) => (&error.response_code, &error.message_xml),
            None => return IdentityHints::default(),
        },
        Err(_) => return IdentityHints::default(),
    };
    match code {
        ResponseCode::ErrorNonPrimarySmtpAddress => IdentityHints {
            primary: message_xml.primary_smtp_address().map(str::to_owned),
            mailbox_guid: None,
        },
        ResponseCode::ErrorNonExistentMailbox => IdentityHints {
            primary: None,
            mailbox_guid: message_xml.mailbox_guid().map(str::to_owned),
        },
        _ => IdentityHints::default(),
    }
}

/// A decoded answer and who asked.
#[derive(Debug)]
pub struct Answer<T> {
    pub response: T,
    /// The SMTP address of the service account that made the call.
    pub account: String,
    pub server_version: Option<ews::ServerVersionInfo>,
}

/// Why a call produced no usable answer at all. An item-level `ResponseClass="Error"` is not an
/// `Error`: it is inside the answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built, because an input cannot be carried by XML.
    #[error("request not sent")]
    Encode(#[source] ews::Error),
    #[error(transparent)]
    Transport(#[from] transport::Error),
    /// Exchange rejected the request as a whole with a SOAP fault.
    #[error("exchange answered with a soap fault: {}", .0.response_code.as_str())]
    Fault(Box<ews::Fault>),
    /// Exchange's answer could not be read.
    #[error("exchange answered with xml that cannot be read")]
    Malformed(#[source] ews::Error),
    /// An HTTP status that carries no SOAP answer (503 from IIS, 404, a proxy's 502).
    #[error("exchange answered with http status {status}")]
    HttpStatus {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The retry budget ran out; `last` is the last attempt's failure (its kind is this error's
    /// kind) and `retry_after` the back-off that no longer fitted in the budget.
    #[error("exchange still failed after {attempts} attempts in {waited:?} (retry budget spent)")]
    GaveUp {
        #[source]
        last: Box<Error>,
        attempts: u32,
        waited: Duration,
        retry_after: Duration,
    },
    /// The mailbox's account is paused by throttling past the end of this call's retry budget;
    /// nothing was sent.
    #[error("service account {account} is paused by exchange throttling")]
    Paused {
        account: String,
        retry_after: Duration,
    },
    /// The client was built without a service account (`config` refuses such a file at load).
    #[error("no service account is configured (exchange.accounts)")]
    NoAccounts,
}

/// What an [`Error`] means for the caller; the API maps it to a problem code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// An Exchange response code, classified by `ews`'s one table.
    Code(ErrorKind),
    /// Exchange refused the service account's credentials.
    AuthFailed,
    /// No connection, or TLS failed.
    Unreachable,
    /// Exchange did not answer in time.
    Timeout,
    /// HTTP 503 or another sign of an overloaded server.
    Throttled,
    /// An answer the connector cannot use.
    Unusable,
    /// The input could not be put into a request.
    InvalidInput,
}

impl Error {
    pub fn kind(&self) -> FailureKind {
        match self {
            Error::Encode(_) => FailureKind::InvalidInput,
            Error::Transport(error) => match error {
                transport::Error::AuthRejected { .. } => FailureKind::AuthFailed,
                transport::Error::Timeout { .. } => FailureKind::Timeout,
                transport::Error::Connect { .. }
                | transport::Error::Tls { .. }
                | transport::Error::Certificate { .. }
                | transport::Error::NameNotResolved { .. } => FailureKind::Unreachable,
                _ => FailureKind::Unusable,
            },
            Error::Fault(fault) => FailureKind::Code(retry::fault_kind(fault)),
            Error::Malformed(_) => FailureKind::Unusable,
            Error::HttpStatus { status: 503, .. } => FailureKind::Throttled,
            Error::HttpStatus { .. } => FailureKind::Unusable,
            Error::GaveUp { last, .. } => last.kind(),
            Error::Paused { .. } => FailureKind::Throttled,
            Error::NoAccounts => FailureKind::Unusable,
        }
    }

    /// True when a request may have been processed although its answer was lost: the
    /// connection broke or timed out after the request was sent, or the answer could not be read.
    /// For a write this means its outcome is unknown; `delegation` re-reads to learn it.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Transport(
                error @ (transport::Error::Connect { .. }
                | transport::Error::Timeout { .. }
                | transport::Error::Protocol { .. }),
            ) => !error.request_not_sent(),
            Error::Malformed(_) => true,
            Error::GaveUp { last, .. } => last.outcome_unknown(),
            _ => false,
        }
    }

    /// The Exchange response code behind the failure, when there is one.
    pub fn response_code(&self) -> Option<&ResponseCode> {
        match self {
            Error::Fault(fault) => Some(&fault.response_code),
            Error::GaveUp { last, .. } => last.response_code(),
            _ => None,
        }
    }

    /// How long the caller should wait before trying again: Exchange's own hint, or, when the
    /// retry budget ran out, the back-off that no longer fitted.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Fault(fault) => fault.message_xml.back_off,
            Error::HttpStatus { retry_after, .. } => *retry_after,
            Error::GaveUp { retry_after, .. } | Error::Paused { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

/// The EWS client of the domain rooms. Cheap to share behind an `Arc`.
pub struct Exchange {
    transport: Transport,
    version: String,
    /// The configured accounts as given (their `password` is the one at start; the current one
    /// lives in `slots`).
    accounts: Vec<Account>,
    /// One per account, same order as `accounts`.
    slots: Vec<Slot>,
    capture_dir: Option<PathBuf>,
    retry_budget: Duration,
    auth_failure_cooldown: Duration,
    /// The transport's request timeout, reported when a retry is cut short by the budget.
    request_timeout: Duration,
    /// `transport.max_connections_per_account`: requests one account may have in flight.
    ceiling: usize,
    endpoint: String,
    /// Calls by (operation, outcome): the response code of the answer, or the transport failure.
    /// A std `Mutex`: it is held for one map update, never across an `.await`.
    /// The outcome is borrowed when it is a fixed word, so counting an answer allocates nothing.
    call_counts: Mutex<BTreeMap<(&'static str, Cow<'static, str>), u64>>,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
    throttle_waits: AtomicU64,
    throttle_wait_ms: AtomicU64,
    busy_answers: AtomicU64,
    auth_failures: AtomicU64,
    auth_short_circuits: AtomicU64,
    failovers: AtomicU64,
    budget_exhausted: AtomicU64,
}

/// The least time a retry is given, even at the very end of the budget, so that it is a real
/// attempt and not an immediate timeout.
const MIN_RETRY_TIME: Duration = Duration::from_millis(250);

/// Numbers every captured request body, across all `Exchange` instances of the process, so two
/// clients capturing into one directory never overwrite each other's files.
static CAPTURE_SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Exchange {
    /// # Errors
    /// When the transport cannot be built (unreadable CA file, Basic over http), or
    /// `settings.accounts` is empty ([`Error::NoAccounts`]; `config` refuses that at load).
    pub fn new(settings: Settings) -> Result<Exchange, Error> {
        if settings.accounts.is_empty() {
            return Err(Error::NoAccounts);
        }
        let request_timeout = settings.transport.request_timeout;
        let ceiling = settings.transport.max_connections_per_account;
        let endpoint = settings.transport.url.as_str().to_owned();
        let transport = Transport::new(settings.transport)?;
        Ok(Exchange {
            transport,
            version: settings.version,
            slots: settings
                .accounts
                .iter()
                .cloned()
                .map(|account| Slot::new(account, ceiling))
                .collect(),
            accounts: settings.accounts,
            capture_dir: settings.capture_dir,
            retry_budget: settings.retry_budget,
            auth_failure_cooldown: settings.auth_failure_cooldown,
            request_timeout,
            ceiling,
            endpoint,
            call_counts: Mutex::new(BTreeMap::new()),
            counters: Counters::default(),
        })
    }

    /// The configured accounts, in configuration order. Their `password` is the one given at
    /// start; [`Exchange::update_passwords`] changes the one in use, not this list.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// How many requests one account may have in flight (the transport's per-account
    /// connection ceiling, config `max_concurrency_per_account`); callers that fan out, such as
    /// batches, size their concurrency by it.
    pub fn ceiling_per_account(&self) -> usize {
        self.ceiling
    }

    /// Each account's health (healthy, credentials refused, paused by throttling) and its
    /// requests in flight, in configuration order: for `/readyz` and metrics.
    pub fn account_states(&self) -> Vec<AccountState> {
        self.slots
            .iter()
            .map(|slot| slot.snapshot(self.auth_failure_cooldown))
            .collect()
    }

    /// Reads the transport's `ca_file` again (on SIGHUP): connections opened from now on trust
    /// the new anchors, open ones keep serving. Returns false for a plain http endpoint.
    ///
    /// # Errors
    /// [`Error::Transport`] naming the file when it cannot be used; the old trust stays.
    pub fn reload_trust(&self) -> Result<bool, Error> {
        Ok(self.transport.reload_trust()?)
    }

    /// Installs re-read passwords (on SIGHUP), by username (case-insensitive). A changed
    /// password clears the account's "credentials refused" mark and is tried (once) by the next
    /// call; an unchanged one keeps the mark, so a wrong password is not sent again. Unknown
    /// usernames are ignored. Returns the usernames whose password changed.
    pub fn update_passwords(&self, passwords: &[(String, Secret)]) -> Vec<String> {
        let mut changed = Vec::new();
        for (username, password) in passwords {
            for slot in &self.slots {
                if slot.account.username.eq_ignore_ascii_case(username)
                    && slot.set_password(password)
                {
                    tracing::info!(account = %slot.account.username, "password replaced");
                    changed.push(slot.account.username.clone());
                }
            }
        }
        changed
    }

    /// Transport counters (handshakes, connections).
    pub fn transport_stats(&self) -> transport::Stats {
        self.transport.stats()
    }

    /// Retry-loop counters (retries, throttling waits, busy answers, auth failures).
    pub fn stats(&self) -> ExchangeStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let counters = &self.counters;
        ExchangeStats {
            calls: load(&counters.calls),
            retries: load(&counters.retries),
            throttle_waits: load(&counters.throttle_waits),
            throttle_wait_ms: load(&counters.throttle_wait_ms),
            busy_answers: load(&counters.busy_answers),
            auth_failures: load(&counters.auth_failures),
            auth_short_circuits: load(&counters.auth_short_circuits),
            failovers: load(&counters.failovers),
            budget_exhausted: load(&counters.budget_exhausted),
        }
    }

    /// Calls made so far, by operation and outcome (a response code such as `NoError` or
    /// `ErrorServerBusy`, or `transport_error`, `http_<status>`, `malformed`). Every attempt
    /// counts, retries included.
    pub fn call_counts(&self) -> Vec<(&'static str, String, u64)> {
        let counts = self
            .call_counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts
            .iter()
            .map(|((operation, outcome), count)| (*operation, outcome.to_string(), *count))
            .collect()
    }

    /// Asks Exchange whether it accepts `account`'s credentials (its current password), with one
    /// cheap read of the account's own calendar folder id. Any SOAP answer, even an error about
    /// the folder, means the credentials were accepted. One attempt, no retry. While the
    /// account is marked as refused (and its password unchanged, the cool-down not over) it
    /// sends nothing and fails at once: a periodic readiness probe must not lock the account.
    ///
    /// # Errors
    /// The failure, when Exchange could not be reached or refused the credentials.
    pub async fn probe(&self, account: &Account) -> Result<(), Error> {
        let act_as = ActAs::ServiceAccount(&account.smtp);
        let body = self.encode(act_as, &own_calendar())?;
        let result = match self
            .slots
            .iter()
            .find(|slot| slot.account.username == account.username)
        {
            Some(slot) => {
                let _gate = slot.auth_gate.lock().await;
                if !slot.usable(Instant::now(), self.auth_failure_cooldown) {
                    return Err(self.refused_without_sending(slot));
                }
                self.attempt::<GetFolder>(slot, act_as, body, None).await
            }
            None => {
                let probe_slot = Slot::new(account.clone(), self.ceiling);
                self.attempt::<GetFolder>(&probe_slot, act_as, body, None)
                    .await
            }
        };
        match result {
            Ok(_) | Err(Error::Fault(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A GetFolder of the account `smtp`'s own calendar (folder id only), made as that account
    /// through [`Exchange::call`]: the logon `doctor` tries. `probe` sends the same request.
    ///
    /// # Errors
    /// As [`Exchange::call`].
    pub async fn own_calendar(
        &self,
        smtp: &str,
    ) -> Result<Answer<<GetFolder as Operation>::Response>, Error> {
        self.call(ActAs::ServiceAccount(smtp), &own_calendar())
            .await
    }

    /// The account that serves `mailbox` while all accounts are healthy: the highest
    /// SHA-256(username, mailbox) wins (rendezvous hashing), so adding or removing an account
    /// moves only that account's share.
    pub fn account_for(&self, mailbox: &str) -> &Account {
        &self.accounts[ranking(&self.accounts, mailbox)[0]]
    }

    /// The account that serves `mailbox` now: the first of its ranking ([`Exchange::accounts_for`])
    /// whose credentials are not refused, or the first when all are.
    pub fn serving_account(&self, mailbox: &str) -> &Account {
        let ranked = ranking(&self.accounts, mailbox);
        let refused = |index: &usize| self.slots[*index].is_refused(self.auth_failure_cooldown);
        let serving = ranked
            .iter()
            .find(|index| !refused(index))
            .unwrap_or(&ranked[0]);
        &self.accounts[*serving]
    }

    /// All accounts in `mailbox`'s order of preference; when the first one's credentials are
    /// refused, its mailboxes go to the next one in their own ranking.
    pub fn accounts_for(&self, mailbox: &str) -> Vec<&Account> {
        ranking(&self.accounts, mailbox)
            .into_iter()
            .map(|index| &self.accounts[index])
            .collect()
    }

    /// Sends one operation and decodes the answer, retrying within the retry budget:
    /// throttling (`ErrorServerBusy`, HTTP 503) pauses the account for Exchange's back-off (or
    /// an exponential one) and sends again; transient codes back off and retry; resets and
    /// timeouts are retried for reads, and for writes only when the request never left;
    /// refused credentials move the call to the mailbox's next account. A refused server
    /// certificate or a name that does not resolve is returned after the first attempt.
    ///
    /// # Errors
    /// See [`Error`]; item-level errors are inside the returned answer. When the budget runs
    /// out, [`Error::GaveUp`] wraps the last failure and carries a `retry_after`.
    ///
    /// A mailbox named by one of its other addresses is answered `ErrorNonPrimarySmtpAddress`
    /// with the primary address in `MessageXml`: the call is then sent once more for that
    /// primary address (never twice, and never to an address it was not given), and the answer
    /// is the second call's. Both that and a `MailboxGuid` sent with `ErrorNonExistentMailbox`
    /// go into the request's [`notes`].
    #[tracing::instrument(skip(self, operation), fields(operation = O::NAME, mailbox = act_as.mailbox()))]
    pub async fn call<O: Operation>(
        &self,
        act_as: ActAs<'_>,
        operation: &O,
    ) -> Result<Answer<O::Response>, Error> {
        let asked = act_as.mailbox();
        if let Some(primary) = notes::followed_primary(asked) {
            let mut retargeted = operation.clone();
            retargeted.retarget(asked, &primary);
            return self
                .call_once(act_as.for_mailbox(&primary), &retargeted)
                .await;
        }
        let result = self.call_once(act_as, operation).await;
        let said = what_exchange_said::<O>(&result);
        if let Some(guid) = said.mailbox_guid {
            notes::note_mailbox_guid(&guid);
        }
        let Some(primary) = said
            .primary
            .filter(|primary| !primary.eq_ignore_ascii_case(asked) && plausible_address(primary))
        else {
            return result;
        };
        tracing::info!(asked, primary = %primary, "exchange named the primary address; sending once more for it");
        notes::note_followed(asked, &primary);
        let mut retargeted = operation.clone();
        retargeted.retarget(asked, &primary);
        self.call_once(act_as.for_mailbox(&primary), &retargeted)
            .await
    }

    async fn call_once<O: Operation>(
        &self,
        act_as: ActAs<'_>,
        operation: &O,
    ) -> Result<Answer<O::Response>, Error> {
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let deadline = started + self.retry_budget;
        let body = self.encode(act_as, operation)?;
        let ranking = ranking(&self.accounts, act_as.mailbox());
        let mut attempts: u32 = 0;
        let mut last_refusal: Option<Error> = None;
        let mut failed_over = false;
        loop {
            let now = Instant::now();
            let Some(slot) = ranking
                .iter()
                .map(|index| &self.slots[*index])
                .find(|slot| slot.usable(now, self.auth_failure_cooldown))
            else {
                return Err(match last_refusal {
                    Some(refusal) => refusal,
                    None => self.refused_without_sending(&self.slots[ranking[0]]),
                });
            };
            if slot.account.username != self.slots[ranking[0]].account.username && !failed_over {
                failed_over = true;
                self.counters.failovers.fetch_add(1, Ordering::Relaxed);
                tracing::info!(account = %slot.account.username, "failing over: the mailbox's first account is refused");
            }
            if let Some(until) = slot.paused_until(now) {
                if until > deadline {
                    return Err(Error::Paused {
                        account: slot.account.smtp.clone(),
                        retry_after: until - now,
                    });
                }
                self.wait(until - now).await;
                continue;
            }
            // The first use of an unverified password is made by one caller at a time.
            let mut gate = None;
            if slot.needs_gate() {
                gate = Some(slot.auth_gate.lock().await);
                if !slot.usable(Instant::now(), self.auth_failure_cooldown) {
                    continue;
                }
                if !slot.needs_gate() {
                    gate = None;
                }
            }
            attempts += 1;
            // Retries do not run past the budget (give or take `MIN_RETRY_TIME`); the first
            // attempt has the transport's own limit.
            let limit = (attempts > 1).then(|| {
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(MIN_RETRY_TIME)
            });
            let result = self.attempt::<O>(slot, act_as, body.clone(), limit).await;
            drop(gate);
            match retry::verdict::<O>(&result) {
                Verdict::Return => return result,
                Verdict::FailOver => {
                    last_refusal = result.err();
                    continue;
                }
                Verdict::Retry { hint, throttled } => {
                    let wait = retry::delay(hint, attempts, &mut rand::thread_rng());
                    let now = Instant::now();
                    if throttled {
                        slot.pause_until(now + wait);
                    }
                    if now + wait > deadline {
                        self.counters
                            .budget_exhausted
                            .fetch_add(1, Ordering::Relaxed);
                        let last = match result {
                            Ok(answer) => return Ok(answer),
                            Err(error) => error,
                        };
                        // As an error value, so the log line carries its causes too.
                        tracing::warn!(
                            attempts,
                            error = &last as &dyn std::error::Error,
                            "retry budget spent"
                        );
                        return Err(Error::GaveUp {
                            last: Box::new(last),
                            attempts,
                            waited: now - started,
                            retry_after: wait,
                        });
                    }
                    tracing::debug!(
                        attempts,
                        wait_ms = wait.as_millis() as u64,
                        throttled,
                        "backing off"
                    );
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    if !throttled {
                        self.wait(wait).await;
                    }
                    // A throttled account's pause is waited for at the top of the loop, by
                    // this call and by every other call of the account alike.
                }
            }
        }
    }

    fn refused_without_sending(&self, slot: &Slot) -> Error {
        self.counters
            .auth_short_circuits
            .fetch_add(1, Ordering::Relaxed);
        let detail = match slot.failed_for() {
            Some((ago, detail)) => format!(
                "not sent: exchange refused these credentials {}s ago ({detail}); waiting for a new password or the cool-down",
                ago.as_secs()
            ),
            None => "not sent: exchange refused these credentials".to_owned(),
        };
        Error::Transport(transport::Error::AuthRejected {
            username: slot.account.username.clone(),
            detail,
        })
    }

    async fn wait(&self, duration: Duration) {
        self.counters.throttle_waits.fetch_add(1, Ordering::Relaxed);
        self.counters
            .throttle_wait_ms
            .fetch_add(duration.as_millis() as u64, Ordering::Relaxed);
        tokio::time::sleep(duration).await;
    }

    /// Encodes the envelope once per call (and captures it when asked).
    fn encode<O: Operation>(&self, act_as: ActAs<'_>, operation: &O) -> Result<Bytes, Error> {
        let impersonation = match act_as {
            ActAs::Owner(mailbox) => {
                Some(ews::Impersonation::PrimarySmtpAddress(mailbox.to_owned()))
            }
            ActAs::ServiceAccount(_) => None,
        };
        let header = ews::RequestHeader {
            version: self.version.clone(),
            impersonation,
        };
        let body = ews::encode(&header, operation).map_err(Error::Encode)?;
        self.capture(O::NAME, &body);
        Ok(Bytes::from(body))
    }

    /// One attempt as `slot`'s account, counted by outcome; marks the account verified or
    /// refused. `limit` cuts the attempt short (a retry near the end of the budget).
    async fn attempt<O: Operation>(
        &self,
        slot: &Slot,
        act_as: ActAs<'_>,
        body: Bytes,
        limit: Option<Duration>,
    ) -> Result<Answer<O::Response>, Error> {
        let password = slot.password();
        let credentials = transport::Credentials {
            username: slot.account.username.clone(),
            password: password.clone(),
        };
        // In line under the account's limit (Exchange's `ErrorExceededConnectionCount` lowers
        // it); a call cancelled while waiting or sending gives its place back.
        let send = async {
            let admission = slot.gate.admit().await;
            let result = self.send_once::<O>(slot, act_as, &credentials, body).await;
            slot.gate
                .release(admission, retry::crowding_outcome::<O>(&result));
            result
        };
        let result = match limit {
            None => send.await,
            Some(limit) => match tokio::time::timeout(limit, send).await {
                Ok(result) => result,
                Err(_) => Err(Error::Transport(transport::Error::Timeout {
                    endpoint: self.endpoint.clone(),
                    phase: "request",
                    after: limit.min(self.request_timeout),
                })),
            },
        };
        match &result {
            Err(Error::Transport(transport::Error::AuthRejected { detail, .. })) => {
                self.counters.auth_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(account = %slot.account.username, "exchange refused the account's credentials: not using it until its password changes or the cool-down ends");
                slot.mark_auth_failed(&password, detail.clone());
            }
            // A SOAP answer (or what was meant to be one) comes only after authentication, so it
            // proves the password; a bare HTTP status may come from the negotiate leg.
            Ok(_) | Err(Error::Fault(_) | Error::Malformed(_)) => slot.mark_verified(),
            Err(_) => {}
        }
        let busy = match &result {
            Ok(answer) => O::response_errors(&answer.response)
                .iter()
                .any(|error| error.kind() == ErrorKind::Throttled),
            Err(Error::Fault(fault)) => retry::fault_kind(fault) == ErrorKind::Throttled,
            Err(Error::HttpStatus { status: 503, .. }) => true,
            Err(_) => false,
        };
        if busy {
            self.counters.busy_answers.fetch_add(1, Ordering::Relaxed);
        }
        let outcome: Cow<'static, str> = match &result {
            Ok(_) => Cow::Borrowed("answered"),
            Err(Error::Fault(fault)) => Cow::Owned(fault.response_code.as_str().to_owned()),
            Err(Error::Transport(_)) => Cow::Borrowed("transport_error"),
            Err(Error::HttpStatus { status, .. }) => Cow::Owned(format!("http_{status}")),
            Err(Error::Malformed(_)) => Cow::Borrowed("malformed"),
            Err(_) => Cow::Borrowed("not_sent"),
        };
        let mut counts = self
            .call_counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *counts.entry((O::NAME, outcome)).or_insert(0) += 1;
        drop(counts);
        result
    }

    async fn send_once<O: Operation>(
        &self,
        slot: &Slot,
        act_as: ActAs<'_>,
        credentials: &transport::Credentials,
        body: Bytes,
    ) -> Result<Answer<O::Response>, Error> {
        let request = transport::Request {
            body,
            anchor_mailbox: Some(act_as.mailbox().to_owned()),
            client_request_id: None,
        };
        let response = {
            let _in_flight = slot.enter();
            self.transport.post(credentials, request).await?
        };
        let decoded = match response.status {
            200 | 500 => ews::decode::<O>(&response.body),
            status => {
                return Err(Error::HttpStatus {
                    status,
                    retry_after: response.retry_after,
                });
            }
        };
        match decoded {
            Ok(decoded) => Ok(Answer {
                response: decoded.response,
                account: slot.account.smtp.clone(),
                server_version: decoded.server_version,
            }),
            Err(ews::Error::Fault(fault)) => {
                tracing::debug!(code = fault.response_code.as_str(), "soap fault");
                Err(Error::Fault(fault))
            }
            Err(error) if response.status == 500 => {
                tracing::debug!(%error, "http 500 without a readable soap fault");
                Err(Error::HttpStatus {
                    status: 500,
                    retry_after: None,
                })
            }
            Err(error) => Err(Error::Malformed(error)),
        }
    }

    fn capture(&self, operation: &str, body: &[u8]) {
        let Some(dir) = &self.capture_dir else { return };
        let sequence = CAPTURE_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{sequence:06}-{operation}.xml"));
        if let Err(error) = std::fs::write(&path, body) {
            tracing::warn!(%error, path = %path.display(), "cannot capture request");
        }
    }
}

/// The cheapest request that needs a logon: the calling account's own calendar, folder id only.
fn own_calendar() -> GetFolder {
    GetFolder {
        folder_shape: FolderShape {
            base_shape: BaseShape::IdOnly,
            additional_properties: Vec::new(),
        },
        folder_ids: vec![FolderIdRef::Distinguished {
            id: DistinguishedFolderName::Calendar,
            mailbox: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_without_accounts_is_an_error_not_a_panic() {
        let transport = crate::transport::Settings::new(
            "https://mail.uni.example/EWS/Exchange.asmx"
                .parse()
                .unwrap(),
            crate::transport::AuthScheme::Ntlm,
        );
        let settings = Settings::new(transport, "Exchange2013_SP1".to_owned(), Vec::new());
        assert!(matches!(Exchange::new(settings), Err(Error::NoAccounts)));
    }

    #[test]
    fn only_a_plain_address_from_exchange_is_followed() {
        assert!(plausible_address("sanne.jansen@uni.example"));
        for bad in [
            "",
            "no-at-sign",
            "@uni.example",
            "s.jansen@",
            "a@b@uni.example",
            "s jansen@uni.example",
            "s.jansen@uni.example\r\nX-Injected: 1",
            "<s.jansen@uni.example>",
            "s.jansen@uni.example,other@uni.example",
        ] {
            assert!(!plausible_address(bad), "{bad:?}");
        }
        assert!(!plausible_address(&format!(
            "{}@uni.example",
            "a".repeat(320)
        )));
    }

    fn connect(request_sent: bool) -> Error {
        Error::Transport(transport::Error::Connect {
            endpoint: "exchange".to_owned(),
            detail: "reset".to_owned(),
            request_sent,
            source: None,
        })
    }

    fn timeout(phase: &'static str) -> Error {
        Error::Transport(transport::Error::Timeout {
            endpoint: "exchange".to_owned(),
            phase,
            after: Duration::from_secs(1),
        })
    }

    #[test]
    fn only_failures_after_sending_leave_the_outcome_unknown() {
        assert!(connect(true).outcome_unknown());
        assert!(!connect(false).outcome_unknown());
        assert!(timeout("request").outcome_unknown());
        assert!(!timeout("connect").outcome_unknown());
        let unreadable = Error::Malformed(ews::Error::InvalidXml {
            reason: "cut".to_owned(),
        });
        assert!(unreadable.outcome_unknown());
        // An answer that says "not processed" is known: busy, 503, refused credentials.
        let busy = Error::HttpStatus {
            status: 503,
            retry_after: None,
        };
        assert!(!busy.outcome_unknown());
        let refused = Error::Transport(transport::Error::AuthRejected {
            username: "CONTOSO\\svc".to_owned(),
            detail: "401".to_owned(),
        });
        assert!(!refused.outcome_unknown());
        let gave_up = Error::GaveUp {
            last: Box::new(connect(true)),
            attempts: 3,
            waited: Duration::from_secs(2),
            retry_after: Duration::from_secs(1),
        };
        assert!(gave_up.outcome_unknown());
    }
}
