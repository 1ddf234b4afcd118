//! Why a Graph request failed, typed: Graph's own error answer (`{"error": {"code", "message"}}`
//! with the HTTP status and `Retry-After`), or a failure before an answer (token, connection,
//! timeout, an unreadable answer).
//!
//! Invariant: nothing here holds a token, a secret or a request's `Authorization` header; a
//! message Graph sent is kept (it names the mailbox or the permission, never our token) but cut
//! to [`MAX_MESSAGE_CHARS`].

use std::time::Duration;

use crate::exchange::FailureKind;
use crate::graph::auth::AuthError;

pub use crate::ews::ErrorKind;

/// The longest Graph `message` kept in an error.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// A Graph request's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Graph answered with an error status. `code` is Graph's `error.code` (API.md's
    /// `graphErrorCode`), empty when the answer carried none; `retry_after` is the answer's
    /// `Retry-After`. After retries (429, 503, 504) this is the last answer, and `attempts` how
    /// many were sent.
    #[error("graph answered HTTP {status} {code}: {message}")]
    Graph {
        status: u16,
        code: String,
        message: String,
        retry_after: Option<Duration>,
        attempts: u32,
    },
    /// No token for Graph.
    #[error("no Graph token")]
    Auth(#[source] AuthError),
    /// No connection, or TLS failed.
    #[error("cannot reach Graph at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// Graph did not answer within `exchange.timeout_secs`.
    #[error("graph did not answer within {secs} s")]
    Timeout { secs: u64 },
    /// An answer the connector cannot read.
    #[error("graph gave an unusable answer: {reason}")]
    Unusable { reason: String },
    /// What the connector does not do through Graph yet (named in the message).
    #[error("{0}")]
    NotAvailable(&'static str),
}

impl Error {
    /// Graph's `error.code` (API.md `graphErrorCode`), when Graph answered with one.
    pub fn graph_error_code(&self) -> Option<&str> {
        match self {
            Error::Graph { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    /// The HTTP status of Graph's error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Graph { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Graph's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Graph { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request may have taken effect although no answer says so (the connection
    /// failed after it was sent, or the answer did not come in time).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::Unreachable { .. })
    }

    /// What the failure means for the caller; the API maps it to a problem code. Refusals
    /// about the mailbox are `Code` of the EWS kind with the same remedy (API.md: the problem
    /// codes are the ones of EWS).
    pub fn kind(&self) -> FailureKind {
        match self {
            Error::Graph { status, code, .. } => kind_of(*status, code),
            Error::Auth(error) => error.kind(),
            Error::Unreachable { .. } => FailureKind::Unreachable,
            Error::Timeout { .. } => FailureKind::Timeout,
            Error::Unusable { .. } | Error::NotAvailable(_) => FailureKind::Unusable,
        }
    }
}

/// The kind of Graph's answer `status` with `code` (Microsoft Graph error responses: the
/// status is the class, `error.code` the detail).
pub fn kind_of(status: u16, code: &str) -> FailureKind {
    match (status, code) {
        (429 | 503 | 504, _) => FailureKind::Throttled,
        (401, _) => FailureKind::AuthFailed,
        // A mailbox Exchange Online does not hold (on-premises in a hybrid tenant), or a user
        // the tenant does not know.
        (_, "MailboxNotEnabledForRESTAPI" | "ErrorInvalidUser" | "Request_ResourceNotFound") => {
            FailureKind::Code(ErrorKind::MailboxNotFound)
        }
        (_, "ErrorItemNotFound") => FailureKind::Code(ErrorKind::NotFound),
        (_, "ErrorMailboxMoveInProgress" | "MailboxInTransit") => {
            FailureKind::Code(ErrorKind::MailboxUnavailable)
        }
        (403, _) | (_, "ErrorAccessDenied") => FailureKind::Code(ErrorKind::AccessDenied),
        (404, "ResourceNotFound") => FailureKind::Code(ErrorKind::MailboxNotFound),
        (404, _) => FailureKind::Code(ErrorKind::NotFound),
        (409 | 412, _) => FailureKind::Code(ErrorKind::Conflict),
        (400, _) => FailureKind::Code(ErrorKind::Invalid),
        _ => FailureKind::Unusable,
    }
}

/// Whether an answer with `status` is retried after `Retry-After` (or a back-off).
pub fn is_retried(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// Graph's error body: `{"error": {"code": "...", "message": "..."}}` (Microsoft Graph error
/// responses and resource types). `None` for a body of another shape.
pub fn parse_error_body(body: &[u8]) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Outer {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let outer: Outer = serde_json::from_slice(body).ok()?;
    let code: String = outer
        .error
        .code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(100)
        .collect();
    let message: String = outer
        .error
        .message
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE_CHARS)
        .collect();
    Some((code, message))
}

/// `Retry-After` in seconds (Graph sends delta-seconds).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_codes_map_to_the_kinds_of_the_same_remedy() {
        let code = |status, code| kind_of(status, code);
        assert_eq!(
            code(403, "ErrorAccessDenied"),
            FailureKind::Code(ErrorKind::AccessDenied)
        );
        assert_eq!(
            code(404, "MailboxNotEnabledForRESTAPI"),
            FailureKind::Code(ErrorKind::MailboxNotFound)
        );
        assert_eq!(
            code(404, "ErrorInvalidUser"),
            FailureKind::Code(ErrorKind::MailboxNotFound)
        );
        assert_eq!(
            code(404, "ErrorItemNotFound"),
            FailureKind::Code(ErrorKind::NotFound)
        );
        assert_eq!(code(429, "TooManyRequests"), FailureKind::Throttled);
        assert_eq!(code(503, ""), FailureKind::Throttled);
        assert_eq!(
            code(401, "InvalidAuthenticationToken"),
            FailureKind::AuthFailed
        );
        assert_eq!(code(500, "generalException"), FailureKind::Unusable);
    }

    #[test]
    fn an_error_body_gives_code_and_message_and_drops_control_characters() {
        let body = br#"{"error":{"code":"ErrorAccessDenied","message":"Access is denied.\u0007","innerError":{"date":"2026-01-01T00:00:00"}}}"#;
        assert_eq!(
            parse_error_body(body),
            Some((
                "ErrorAccessDenied".to_owned(),
                "Access is denied.".to_owned()
            ))
        );
        assert_eq!(parse_error_body(b"<html>"), None);
        assert_eq!(parse_retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(Some("soon")), None);
    }
}
