//! `application/problem+json` bodies (RFC 9457) with the stable codes of API.md.

use std::time::Duration;

use serde::Serialize;

use crate::delegation;
use crate::ews::ErrorKind;
use crate::exchange::FailureKind;
use crate::push;

/// One problem, as API.md's error table describes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ews_response_code: Option<String>,
    /// Sent as the `Retry-After` header, not in the body.
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<Duration>,
}

impl Problem {
    /// A problem with `code`, its status and title from the table.
    pub fn new(code: &'static str, detail: impl Into<String>) -> Problem {
        let (status, title) = match code {
            "invalid_request" => (400, "The request is not valid"),
            "invalid_mailbox" => (400, "The mailbox address is not valid"),
            "invalid_level" => (400, "The permission level is not valid"),
            "unauthorized" => (401, "No or unknown API token"),
            "forbidden" => (403, "The token lacks the scope for this route"),
            "mailbox_not_allowed" => (403, "The mailbox is outside the allowed domains"),
            "principal_not_allowed" => (403, "The principal may not be named in a change"),
            "level_not_allowed" => (403, "The level is above the highest allowed level"),
            "mailbox_not_found" => (404, "Exchange has no such mailbox"),
            "event_not_found" => (404, "No such event"),
            "impersonation_denied" => (422, "The service account may not impersonate this mailbox"),
            "access_denied" => (422, "Exchange refused the operation"),
            "conflict" => (409, "A concurrent change kept winning"),
            "mailbox_unavailable" => (503, "The mailbox is unavailable"),
            "throttled" => (503, "Exchange is throttling the connector"),
            "exchange_auth_failed" => (502, "Exchange refused the service account's credentials"),
            "exchange_unreachable" => (502, "Exchange cannot be reached"),
            "exchange_timeout" => (504, "Exchange did not answer in time"),
            "audit_unavailable" => (503, "The audit trail cannot be written"),
            "not_found" => (404, "No such resource"),
            "method_not_allowed" => (405, "The method is not allowed on this resource"),
            "payload_too_large" => (413, "The request body is too large"),
            "uri_too_long" => (414, "The request target is too long"),
            "headers_too_large" => (431, "The request's header fields are too large"),
            "request_timeout" => (408, "The request did not arrive in time"),
            "not_ready" => (503, "The connector is not ready"),
            "internal_error" => (500, "The connector failed unexpectedly"),
            _ => (502, "Exchange answered something the connector cannot use"),
        };
        let code =
            if status == 502 && !matches!(code, "exchange_auth_failed" | "exchange_unreachable") {
                "exchange_error"
            } else {
                code
            };
        Problem {
            problem_type: format!(
                "https://ews-connector.invalid/problems/{}",
                code.replace('_', "-")
            ),
            title: title.to_owned(),
            status,
            detail: detail.into(),
            code,
            request_id: None,
            mailbox: None,
            ews_response_code: None,
            retry_after: None,
        }
    }

    pub fn with_mailbox(mut self, mailbox: impl Into<String>) -> Problem {
        self.mailbox = Some(mailbox.into());
        self
    }

    /// Whether the problem concerns the mailbox or the request (exit status 1: a refused
    /// address, principal or level) rather than the connector's configuration or Exchange as a
    /// whole (exit status 2).
    pub fn is_about_the_mailbox(&self) -> bool {
        matches!(
            self.code,
            "invalid_mailbox"
                | "mailbox_not_allowed"
                | "mailbox_not_found"
                | "event_not_found"
                | "impersonation_denied"
                | "access_denied"
                | "conflict"
                | "mailbox_unavailable"
                | "invalid_level"
                | "invalid_request"
                | "principal_not_allowed"
                | "level_not_allowed"
        )
    }
}

/// The problem code for an Exchange response-code class.
fn code_for_kind(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::MailboxNotFound => "mailbox_not_found",
        ErrorKind::ImpersonationDenied => "impersonation_denied",
        ErrorKind::AccessDenied | ErrorKind::NotFound => "access_denied",
        ErrorKind::Conflict => "conflict",
        ErrorKind::MailboxUnavailable => "mailbox_unavailable",
        ErrorKind::Throttled | ErrorKind::Transient => "throttled",
        _ => "exchange_error",
    }
}

impl From<&delegation::Error> for Problem {
    fn from(error: &delegation::Error) -> Self {
        match error {
            delegation::Error::Exchange(error) => from_exchange(error),
            delegation::Error::Refused {
                kind,
                code,
                message,
            } => from_refusal(*kind, code, message.as_deref()),
            delegation::Error::Incomplete(_) | delegation::Error::NotConfirmed => {
                Problem::new("exchange_error", error.to_string())
            }
            delegation::Error::InvalidLevel(detail) => {
                Problem::new("invalid_level", detail.clone())
            }
            delegation::Error::InvalidPrincipal(detail) => {
                Problem::new("invalid_request", detail.clone())
            }
            delegation::Error::PrincipalNotAllowed { .. } => {
                Problem::new("principal_not_allowed", error.to_string())
            }
            delegation::Error::LevelNotAllowed { .. } => {
                Problem::new("level_not_allowed", error.to_string())
            }
            delegation::Error::Conflict { .. } => {
                let mut problem = Problem::new("conflict", error.to_string());
                problem.ews_response_code = Some("ErrorIrresolvableConflict".to_owned());
                problem
            }
            // The connector refuses, not Exchange, but the remedy is the same: an Exchange
            // admin must act on this calendar (API.md `access_denied`).
            delegation::Error::UnknownEntries { .. } => {
                Problem::new("access_denied", error.to_string())
            }
            delegation::Error::Audit(_) => Problem::new("audit_unavailable", error_chain(error)),
        }
    }
}

/// The problem for a failure of Exchange as a whole.
fn from_exchange(error: &crate::exchange::Error) -> Problem {
    let code = match error.kind() {
        FailureKind::Code(kind) => code_for_kind(kind),
        FailureKind::AuthFailed => "exchange_auth_failed",
        FailureKind::Unreachable => "exchange_unreachable",
        FailureKind::Timeout => "exchange_timeout",
        FailureKind::Throttled => "throttled",
        FailureKind::Unusable => "exchange_error",
        FailureKind::InvalidInput => "invalid_request",
    };
    let mut problem = Problem::new(code, error_chain(error));
    problem.ews_response_code = error.response_code().map(|code| code.as_str().to_owned());
    // Retry-After goes with the answers that mean "later": throttling, a mailbox
    // being moved, and a timeout after the retry budget (API.md).
    if matches!(
        code,
        "throttled" | "mailbox_unavailable" | "exchange_timeout"
    ) {
        problem.retry_after = error.retry_after();
    }
    if matches!(code, "throttled" | "mailbox_unavailable") && problem.retry_after.is_none() {
        problem.retry_after = Some(Duration::from_secs(30));
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
    if matches!(problem.code, "throttled" | "mailbox_unavailable") {
        problem.retry_after = Some(Duration::from_secs(30));
    }
    problem
}

impl From<&push::Error> for Problem {
    fn from(error: &push::Error) -> Self {
        match error {
            push::Error::Exchange(error) => from_exchange(error),
            // Our item vanished between the read and the write (the user deleted it).
            push::Error::Refused { code, .. } if code == "ErrorItemNotFound" => {
                let mut problem = Problem::new(
                    "event_not_found",
                    "the event's item was deleted in the calendar meanwhile",
                );
                problem.ews_response_code = Some(code.clone());
                problem
            }
            push::Error::Refused {
                kind,
                code,
                message,
            } => from_refusal(*kind, code, message.as_deref()),
            push::Error::Invalid(invalid) => Problem::new("invalid_request", invalid.to_string()),
            push::Error::EventNotFound(_) => Problem::new("event_not_found", error.to_string()),
            push::Error::Conflict { .. } => {
                let mut problem = Problem::new("conflict", error.to_string());
                problem.ews_response_code = Some("ErrorIrresolvableConflict".to_owned());
                problem
            }
            push::Error::Incomplete(_) => Problem::new("exchange_error", error.to_string()),
        }
    }
}

/// The error and its sources, joined with ": ": for the `detail` of a problem. A source whose
/// text the message already holds is left out, so each cause is stated once. Secrets never
/// reach an error's `Display`, so this is safe to show.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("connection to mail.contoso.example:443 failed: tcp connect: {0}")]
    struct Repeats(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("exchange still failed after 3 attempts")]
    struct Wraps(#[source] Repeats);

    #[test]
    fn each_cause_is_stated_once() {
        let cause = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            error_chain(&Repeats(cause())),
            "connection to mail.contoso.example:443 failed: tcp connect: refused"
        );
        assert_eq!(
            error_chain(&Wraps(Repeats(cause()))),
            "exchange still failed after 3 attempts: connection to mail.contoso.example:443 failed: tcp connect: refused"
        );
    }
}
