//! `exchange`: the one call path that the domain rooms use: pick the service account for a
//! mailbox, encode with `ews`, send with `transport`, decode, classify.
//!
//! Invariants:
//! - this is the only module that combines `ews` and `transport`;
//! - every impersonated request names the same mailbox in `ExchangeImpersonation` and in
//!   `X-AnchorMailbox`;
//! - a mailbox always maps to the same account while the account list is unchanged (rendezvous
//!   hashing), so Exchange's per-account budgets stay predictable;
//! - the retry and throttling loop belongs here and nowhere else (it lands with the scale work;
//!   [`Exchange::call`] makes exactly one attempt today).
//!
//! Entry types: [`Exchange`], [`ActAs`], [`Answer`], [`Error`], [`FailureKind`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::ews::{self, ErrorKind, Operation, ResponseCode};
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

impl ActAs<'_> {
    pub fn mailbox(&self) -> &str {
        match self {
            ActAs::Owner(mailbox) | ActAs::ServiceAccount(mailbox) => mailbox,
        }
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
                transport::Error::Connect { .. } | transport::Error::Tls { .. } => {
                    FailureKind::Unreachable
                }
                _ => FailureKind::Unusable,
            },
            Error::Fault(fault) => FailureKind::Code(fault.response_code.kind()),
            Error::Malformed(_) => FailureKind::Unusable,
            Error::HttpStatus { status: 503, .. } => FailureKind::Throttled,
            Error::HttpStatus { .. } => FailureKind::Unusable,
        }
    }

    /// The Exchange response code behind the failure, when there is one.
    pub fn response_code(&self) -> Option<&ResponseCode> {
        match self {
            Error::Fault(fault) => Some(&fault.response_code),
            _ => None,
        }
    }

    /// How long Exchange asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Fault(fault) => fault.message_xml.back_off,
            Error::HttpStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The EWS client of the domain rooms. Cheap to share behind an `Arc`.
pub struct Exchange {
    transport: Transport,
    version: String,
    accounts: Vec<Account>,
    capture_dir: Option<PathBuf>,
    /// Calls by (operation, outcome): the response code of the answer, or the transport failure.
    /// A std `Mutex`: it is held for one map update, never across an `.await`.
    call_counts: Mutex<BTreeMap<(&'static str, String), u64>>,
}

/// Numbers every captured request body, across all `Exchange` instances of the process, so two
/// clients capturing into one directory never overwrite each other's files.
static CAPTURE_SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Exchange {
    /// # Errors
    /// When the transport cannot be built (unreadable CA file, Basic over http).
    ///
    /// # Panics
    /// When `settings.accounts` is empty; `config` guarantees at least one.
    pub fn new(settings: Settings) -> Result<Exchange, Error> {
        assert!(
            !settings.accounts.is_empty(),
            "exchange needs at least one account"
        );
        let transport = Transport::new(settings.transport)?;
        Ok(Exchange {
            transport,
            version: settings.version,
            accounts: settings.accounts,
            capture_dir: settings.capture_dir,
            call_counts: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Transport counters (handshakes, connections).
    pub fn transport_stats(&self) -> transport::Stats {
        self.transport.stats()
    }

    /// Calls made so far, by operation and outcome (a response code such as `NoError` or
    /// `ErrorServerBusy`, or `transport_error`, `http_<status>`, `malformed`).
    pub fn call_counts(&self) -> Vec<(&'static str, String, u64)> {
        let counts = self
            .call_counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts
            .iter()
            .map(|((operation, outcome), count)| (*operation, outcome.clone(), *count))
            .collect()
    }

    /// Asks Exchange whether it accepts `account`'s credentials, with one cheap read of the
    /// account's own calendar folder id. Any SOAP answer, even an error about the folder, means
    /// the credentials were accepted.
    ///
    /// # Errors
    /// The failure, when Exchange could not be reached or refused the credentials.
    pub async fn probe(&self, account: &Account) -> Result<(), Error> {
        use crate::ews::ops::get_folder::{
            BaseShape, DistinguishedFolderName, FolderIdRef, FolderShape, GetFolder,
        };
        let operation = GetFolder {
            folder_shape: FolderShape {
                base_shape: BaseShape::IdOnly,
                additional_properties: Vec::new(),
            },
            folder_ids: vec![FolderIdRef::Distinguished {
                id: DistinguishedFolderName::Calendar,
                mailbox: None,
            }],
        };
        match self
            .send(account, ActAs::ServiceAccount(&account.smtp), &operation)
            .await
        {
            Ok(_) | Err(Error::Fault(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The account that serves `mailbox`: the highest SHA-256(username, mailbox) wins
    /// (rendezvous hashing), so adding or removing an account moves only that account's share.
    pub fn account_for(&self, mailbox: &str) -> &Account {
        let mailbox = mailbox.to_ascii_lowercase();
        self.accounts
            .iter()
            .max_by_key(|account| {
                let mut hasher = Sha256::new();
                hasher.update(account.username.to_ascii_lowercase().as_bytes());
                hasher.update([0]);
                hasher.update(mailbox.as_bytes());
                let digest = hasher.finalize();
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                u64::from_be_bytes(first)
            })
            .expect("at least one account")
    }

    /// Sends one operation and decodes the answer.
    ///
    /// # Errors
    /// See [`Error`]; item-level errors are inside the returned answer.
    #[tracing::instrument(skip(self, operation), fields(operation = O::NAME, mailbox = act_as.mailbox()))]
    pub async fn call<O: Operation>(
        &self,
        act_as: ActAs<'_>,
        operation: &O,
    ) -> Result<Answer<O::Response>, Error> {
        let account = self.account_for(act_as.mailbox());
        self.send(account, act_as, operation).await
    }

    /// One attempt of `operation` as `account`; the retry loop will wrap this.
    async fn send<O: Operation>(
        &self,
        account: &Account,
        act_as: ActAs<'_>,
        operation: &O,
    ) -> Result<Answer<O::Response>, Error> {
        let result = self.send_once(account, act_as, operation).await;
        let outcome = match &result {
            Ok(_) => "answered".to_owned(),
            Err(Error::Fault(fault)) => fault.response_code.as_str().to_owned(),
            Err(Error::Transport(_)) => "transport_error".to_owned(),
            Err(Error::HttpStatus { status, .. }) => format!("http_{status}"),
            Err(Error::Malformed(_)) => "malformed".to_owned(),
            Err(Error::Encode(_)) => "not_sent".to_owned(),
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
        account: &Account,
        act_as: ActAs<'_>,
        operation: &O,
    ) -> Result<Answer<O::Response>, Error> {
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
        let credentials = transport::Credentials {
            username: account.username.clone(),
            password: account.password.clone(),
        };
        let request = transport::Request {
            body: Bytes::from(body),
            anchor_mailbox: Some(act_as.mailbox().to_owned()),
            client_request_id: None,
        };
        let response = self.transport.post(&credentials, request).await?;
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
                account: account.smtp.clone(),
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
