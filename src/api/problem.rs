//! `application/problem+json` bodies (RFC 9457) with the stable codes of API.md.
//!
//! Invariant: a problem code is a [`ProblemCode`], never a string: its wire spelling, status and
//! title come from the one table in [`problem_codes!`], which is API.md's error table.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use crate::backend;
use crate::delegation;
use crate::ews::ErrorKind;
use crate::exchange::FailureKind;
use crate::push;

/// Declares [`ProblemCode`] from one table: variant, wire code, HTTP status, title.
macro_rules! problem_codes {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal, $status:literal, $title:literal;)+) => {
        /// The stable, machine-readable `code` of a problem (API.md's error table). `Display`,
        /// `Serialize` and `Deserialize` use the wire spelling (`invalid_request`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $($(#[$doc])* $variant,)+
        }

        impl ProblemCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)+];

            /// The wire spelling, as API.md writes it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $wire,)+
                }
            }

            /// The HTTP status that goes with the code.
            pub const fn status(self) -> u16 {
                match self {
                    $(ProblemCode::$variant => $status,)+
                }
            }

            /// The problem's `title`: the same for every problem with this code.
            pub const fn title(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $title,)+
                }
            }
        }
    };
}

problem_codes! {
    InvalidRequest = "invalid_request", 400, "The request is not valid";
    InvalidMailbox = "invalid_mailbox", 400, "The mailbox address is not valid";
    InvalidLevel = "invalid_level", 400, "The permission level is not valid";
    Unauthorized = "unauthorized", 401, "No or unknown API token";
    Forbidden = "forbidden", 403, "The token lacks the scope for this route";
    MailboxNotAllowed = "mailbox_not_allowed", 403, "The mailbox is outside the allowed domains";
    PrincipalNotAllowed = "principal_not_allowed", 403, "The principal may not be named in a change";
    LevelNotAllowed = "level_not_allowed", 403, "The level is above the highest allowed level";
    MailboxNotFound = "mailbox_not_found", 404, "Exchange has no such mailbox";
    EventNotFound = "event_not_found", 404, "No such event";
    ImpersonationDenied = "impersonation_denied", 422, "The service account may not impersonate this mailbox";
    AccessDenied = "access_denied", 422, "Exchange refused the operation";
    Conflict = "conflict", 409, "A concurrent change kept winning";
    MailboxUnavailable = "mailbox_unavailable", 503, "The mailbox is unavailable";
    Throttled = "throttled", 503, "Exchange is throttling the connector";
    ExchangeAuthFailed = "exchange_auth_failed", 502, "Exchange refused the service account's credentials";
    ExchangeError = "exchange_error", 502, "Exchange answered something the connector cannot use";
    ExchangeUnreachable = "exchange_unreachable", 502, "Exchange cannot be reached";
    ExchangeTimeout = "exchange_timeout", 504, "Exchange did not answer in time";
    NotFound = "not_found", 404, "No such resource";
    MethodNotAllowed = "method_not_allowed", 405, "The method is not allowed on this resource";
    PayloadTooLarge = "payload_too_large", 413, "The request body is too large";
    UriTooLong = "uri_too_long", 414, "The request target is too long";
    HeadersTooLarge = "headers_too_large", 431, "The request's header fields are too large";
    RequestTimeout = "request_timeout", 408, "The request did not arrive in time";
    AuditUnavailable = "audit_unavailable", 503, "The audit trail cannot be written";
    NotReady = "not_ready", 503, "The connector is not ready";
    InternalError = "internal_error", 500, "The connector failed unexpectedly";
}

impl ProblemCode {
    /// The code for an error status that carries no [`Problem`] (axum's own rejections, a body
    /// that could not be read).
    pub fn for_status(status: u16) -> ProblemCode {
        match status {
            400 | 422 => ProblemCode::InvalidRequest,
            401 => ProblemCode::Unauthorized,
            403 => ProblemCode::Forbidden,
            404 => ProblemCode::NotFound,
            405 => ProblemCode::MethodNotAllowed,
            408 => ProblemCode::RequestTimeout,
            413 => ProblemCode::PayloadTooLarge,
            414 => ProblemCode::UriTooLong,
            431 => ProblemCode::HeadersTooLarge,
            504 => ProblemCode::ExchangeTimeout,
            _ => ProblemCode::InternalError,
        }
    }

    /// Whether the code is about the mailbox or the request (exit status 1: a refused address,
    /// principal or level) rather than the connector's configuration or Exchange as a whole
    /// (exit status 2).
    pub fn is_about_the_mailbox(self) -> bool {
        matches!(
            self,
            ProblemCode::InvalidMailbox
                | ProblemCode::MailboxNotAllowed
                | ProblemCode::MailboxNotFound
                | ProblemCode::EventNotFound
                | ProblemCode::ImpersonationDenied
                | ProblemCode::AccessDenied
                | ProblemCode::Conflict
                | ProblemCode::MailboxUnavailable
                | ProblemCode::InvalidLevel
                | ProblemCode::InvalidRequest
                | ProblemCode::PrincipalNotAllowed
                | ProblemCode::LevelNotAllowed
        )
    }

    /// Whether a client should come back later: the answer carries `Retry-After`.
    fn means_later(self) -> bool {
        matches!(
            self,
            ProblemCode::Throttled | ProblemCode::MailboxUnavailable
        )
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A code that is not in API.md's table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a problem code of API.md")]
pub struct UnknownProblemCode(pub String);

impl std::str::FromStr for ProblemCode {
    type Err = UnknownProblemCode;

    fn from_str(text: &str) -> Result<ProblemCode, UnknownProblemCode> {
        ProblemCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == text)
            .ok_or_else(|| UnknownProblemCode(text.to_owned()))
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProblemCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for ProblemCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The stable, machine-readable problem code (API.md)"))
            .enum_values(Some(ProblemCode::ALL.iter().map(|code| code.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for ProblemCode {}

/// One problem, as API.md's error table describes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ProblemCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ews_response_code: Option<String>,
    /// Graph's `error.code` for a mailbox served through Microsoft Graph (API.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_error_code: Option<String>,
    /// Sent as the `Retry-After` header, not in the body.
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<Duration>,
}

impl Problem {
    /// A problem with `code`, its status and title from the table.
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Problem {
        Problem {
            problem_type: format!(
                "https://ews-connector.invalid/problems/{}",
                code.as_str().replace('_', "-")
            ),
            title: code.title().to_owned(),
            status: code.status(),
            detail: detail.into(),
            code,
            request_id: None,
            mailbox: None,
            ews_response_code: None,
            graph_error_code: None,
            retry_after: None,
        }
    }

    pub fn with_mailbox(mut self, mailbox: impl Into<String>) -> Problem {
        self.mailbox = Some(mailbox.into());
        self
    }

    /// Whether the problem concerns the mailbox or the request (exit status 1) rather than the
    /// connector's configuration or Exchange as a whole (exit status 2).
    pub fn is_about_the_mailbox(&self) -> bool {
        self.code.is_about_the_mailbox()
    }
}

/// The problem code for an Exchange response-code class.
fn code_for_kind(kind: ErrorKind) -> ProblemCode {
    match kind {
        ErrorKind::MailboxNotFound => ProblemCode::MailboxNotFound,
        ErrorKind::ImpersonationDenied => ProblemCode::ImpersonationDenied,
        ErrorKind::AccessDenied | ErrorKind::NotFound => ProblemCode::AccessDenied,
        ErrorKind::Conflict => ProblemCode::Conflict,
        ErrorKind::MailboxUnavailable => ProblemCode::MailboxUnavailable,
        ErrorKind::Throttled | ErrorKind::Transient => ProblemCode::Throttled,
        _ => ProblemCode::ExchangeError,
    }
}

impl From<&delegation::Error> for Problem {
    fn from(error: &delegation::Error) -> Self {
        match error {
            delegation::Error::Backend(error) => error.into(),
            delegation::Error::NotConfirmed => {
                Problem::new(ProblemCode::ExchangeError, error.to_string())
            }
            delegation::Error::InvalidLevel(detail) => {
                Problem::new(ProblemCode::InvalidLevel, detail.clone())
            }
            delegation::Error::InvalidPrincipal(detail) => {
                Problem::new(ProblemCode::InvalidRequest, detail.clone())
            }
            delegation::Error::PrincipalNotAllowed { .. } => {
                Problem::new(ProblemCode::PrincipalNotAllowed, error.to_string())
            }
            delegation::Error::LevelNotAllowed { .. } => {
                Problem::new(ProblemCode::LevelNotAllowed, error.to_string())
            }
            delegation::Error::Conflict { .. } => {
                let mut problem = Problem::new(ProblemCode::Conflict, error.to_string());
                problem.ews_response_code = Some("ErrorIrresolvableConflict".to_owned());
                problem
            }
            // The connector refuses, not Exchange, but the remedy is the same: an Exchange
            // admin must act on this calendar (API.md `access_denied`).
            delegation::Error::UnknownEntries { .. } => {
                Problem::new(ProblemCode::AccessDenied, error.to_string())
            }
            delegation::Error::Audit(_) => {
                Problem::new(ProblemCode::AuditUnavailable, error_chain(error))
            }
        }
    }
}

/// The one mapping of backend failures to problems: each backend's failure kind is one arm.
impl From<&backend::Error> for Problem {
    fn from(error: &backend::Error) -> Self {
        match error {
            backend::Error::Exchange(error) => from_exchange(error),
            backend::Error::Refused {
                kind,
                code,
                message,
            } => from_refusal(*kind, code, message.as_deref()),
            backend::Error::Incomplete(_) => {
                Problem::new(ProblemCode::ExchangeError, error.to_string())
            }
            backend::Error::Graph(error) => from_graph(error),
        }
    }
}

/// The problem code of a backend failure's kind (EWS and Graph alike).
fn code_for_failure(kind: FailureKind) -> ProblemCode {
    match kind {
        FailureKind::Code(kind) => code_for_kind(kind),
        FailureKind::AuthFailed => ProblemCode::ExchangeAuthFailed,
        FailureKind::Unreachable => ProblemCode::ExchangeUnreachable,
        FailureKind::Timeout => ProblemCode::ExchangeTimeout,
        FailureKind::Throttled => ProblemCode::Throttled,
        FailureKind::Unusable => ProblemCode::ExchangeError,
        FailureKind::InvalidInput => ProblemCode::InvalidRequest,
    }
}

/// The problem for a failure of Exchange as a whole.
fn from_exchange(error: &crate::exchange::Error) -> Problem {
    let code = code_for_failure(error.kind());
    let mut problem = Problem::new(code, error_chain(error));
    problem.ews_response_code = error.response_code().map(|code| code.as_str().to_owned());
    // Retry-After goes with the answers that mean "later": throttling, a mailbox
    // being moved, and a timeout after the retry budget (API.md).
    if code.means_later() || code == ProblemCode::ExchangeTimeout {
        problem.retry_after = error.retry_after();
    }
    if code.means_later() && problem.retry_after.is_none() {
        problem.retry_after = Some(Duration::from_secs(30));
    }
    problem
}

/// The problem for a Microsoft Graph failure: the codes and statuses of EWS's (API.md), Graph's
/// `error.code` as `graphErrorCode`, `Retry-After` as Graph sent it (429 is `throttled`).
fn from_graph(error: &crate::graph::Error) -> Problem {
    let code = code_for_failure(error.kind());
    let mut problem = Problem::new(code, error_chain(error));
    problem.graph_error_code = error.graph_error_code().map(str::to_owned);
    if code.means_later() {
        problem.retry_after = Some(error.retry_after().unwrap_or(Duration::from_secs(30)));
    }
    problem
}

/// The problem for an Exchange refusal about the mailbox or item.
fn from_refusal(kind: ErrorKind, code: &str, message: Option<&str>) -> Problem {
    let mut problem = Problem::new(
        code_for_kind(kind),
        message
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Exchange answered {code}")),
    );
    problem.ews_response_code = Some(code.to_owned());
    if problem.code.means_later() {
        problem.retry_after = Some(Duration::from_secs(30));
    }
    problem
}

impl From<&push::Error> for Problem {
    fn from(error: &push::Error) -> Self {
        match error {
            // Our item vanished between the read and the write (the user deleted it).
            push::Error::Backend(backend::Error::Refused { code, .. })
                if code == "ErrorItemNotFound" =>
            {
                let mut problem = Problem::new(
                    ProblemCode::EventNotFound,
                    "the event's item was deleted in the calendar meanwhile",
                );
                problem.ews_response_code = Some(code.clone());
                problem
            }
            // The same through Graph (a part of a `$batch` answered 404 `ErrorItemNotFound`).
            push::Error::Backend(backend::Error::Graph(graph))
                if graph.graph_error_code() == Some("ErrorItemNotFound") =>
            {
                let mut problem = Problem::new(
                    ProblemCode::EventNotFound,
                    "the event's item was deleted in the calendar meanwhile",
                );
                problem.graph_error_code = Some("ErrorItemNotFound".to_owned());
                problem
            }
            push::Error::Backend(error) => error.into(),
            push::Error::Invalid(invalid) => {
                Problem::new(ProblemCode::InvalidRequest, invalid.to_string())
            }
            push::Error::EventNotFound(_) => {
                Problem::new(ProblemCode::EventNotFound, error.to_string())
            }
            push::Error::Conflict { .. } => {
                let mut problem = Problem::new(ProblemCode::Conflict, error.to_string());
                problem.ews_response_code = Some("ErrorIrresolvableConflict".to_owned());
                problem
            }
        }
    }
}

/// The error and its sources for a problem's `detail`: [`crate::error_chain::display`], the one
/// formatter (each cause stated once; secrets never reach an error's `Display`).
pub use crate::error_chain::display as error_chain;

#[cfg(test)]
mod tests {
    use super::{Problem, ProblemCode};

    #[test]
    fn a_code_is_written_read_and_shown_as_its_wire_spelling() {
        for &code in ProblemCode::ALL {
            let wire = code.as_str();
            assert_eq!(code.to_string(), wire);
            assert_eq!(serde_json::to_value(code).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<ProblemCode>(wire.into()).unwrap(),
                code
            );
            assert_eq!(wire.parse::<ProblemCode>(), Ok(code));
            assert!(
                wire.bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
                "{wire}"
            );
        }
        assert!("Invalid_Request".parse::<ProblemCode>().is_err());
        assert!(serde_json::from_str::<ProblemCode>("\"no_such_code\"").is_err());
    }

    #[test]
    fn a_problem_body_carries_the_code_status_and_title_of_the_table() {
        let problem = Problem::new(ProblemCode::ExchangeAuthFailed, "wrong password");
        let body = serde_json::to_value(&problem).unwrap();
        assert_eq!(body["code"], "exchange_auth_failed");
        assert_eq!(body["status"], 502);
        assert_eq!(
            body["type"],
            "https://ews-connector.invalid/problems/exchange-auth-failed"
        );
        assert_eq!(body["title"], ProblemCode::ExchangeAuthFailed.title());
        let read: Problem = serde_json::from_value(body).unwrap();
        assert_eq!(read.code, ProblemCode::ExchangeAuthFailed);
    }
}
