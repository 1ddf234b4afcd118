//! Scriptable faults: a queue of misbehaviours the simulator applies to matching EWS requests,
//! for resilience tests (throttling, resets, 503s, lost authentication, broken XML).
//!
//! Invariant: a fault is consumed only by a request it matches (operation and mailbox filters),
//! and is removed once its `count` is used up; faults are tried in the order they were queued.
//! Entry types: [`ScriptedFault`], [`FaultKind`].

use serde::{Deserialize, Serialize};

use crate::state::PermissionLevel;

/// One scripted fault, as written in the state file (`[[faults]]`), sent to `POST /sim/faults`
/// as JSON, or pushed through `SimHandle::push_fault`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptedFault {
    /// Applies only to this operation (`GetFolder`, …, case-insensitive); any when absent.
    #[serde(default)]
    pub operation: Option<String>,
    /// Applies only to requests for this mailbox (impersonated, named in the body, or holding the
    /// first item the body names by `t:ItemId`); any when absent.
    #[serde(default)]
    pub mailbox: Option<String>,
    /// How many matching requests get this fault.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

impl ScriptedFault {
    /// A fault for the next matching request of any operation and mailbox.
    pub fn once(kind: FaultKind) -> ScriptedFault {
        ScriptedFault {
            operation: None,
            mailbox: None,
            count: 1,
            kind,
        }
    }

    fn matches(&self, operation: &str, mailbox: Option<&str>) -> bool {
        let operation_matches = self
            .operation
            .as_deref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(operation));
        let mailbox_matches = match (&self.mailbox, mailbox) {
            (None, _) => true,
            (Some(wanted), Some(actual)) => wanted.eq_ignore_ascii_case(actual),
            (Some(_), None) => false,
        };
        operation_matches && mailbox_matches
    }
}

/// What the fault does to the request it hits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Waits `ms` milliseconds, then answers normally.
    LatencyMs { ms: u64 },
    /// SOAP fault `ErrorServerBusy` (HTTP 500) with `BackOffMilliseconds` = `back_off_ms`.
    ServerBusy { back_off_ms: u64 },
    /// HTTP 503 with an empty body and, when given, `Retry-After: retry_after_secs`.
    #[serde(rename = "http_503")]
    Http503 {
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// Drops the connection's NTLM authentication and answers 401 with fresh challenges.
    #[serde(rename = "http_401")]
    Http401,
    /// Sends the status line, headers and part of the body, then closes the connection.
    Reset,
    /// Processes the request in full (a CreateItem's items ARE stored), then closes the
    /// connection without sending any byte of the response: a lost response.
    ResetAfterProcessing,
    /// Answers normally with `Connection: close`, then closes the connection.
    ConnectionClose,
    /// Answers HTTP 200 with a truncated XML body.
    Malformed,
    /// SOAP fault (HTTP 500) with the given ResponseCode.
    SoapFault { code: String },
    /// Sends the headers at once, then dribbles the body over `ms` milliseconds.
    Slow { ms: u64 },
    /// The request is not processed; the answer (HTTP 200) is one per-message
    /// `ResponseClass="Error"` with this ResponseCode: the `fixtures/ews` file where one exists,
    /// else the error template. For the folder operations (`GetFolder`, `UpdateFolder`); any
    /// other operation answers normally (and the simulator logs a warning). With
    /// `ErrorChangeKeyRequiredForWriteOperations` on UpdateFolder it plays a server that wants
    /// a (fresh) ChangeKey for the write.
    MessageError { code: String },
    /// Another writer (Outlook, an admin) gets in first: before the request is processed, the
    /// request's mailbox has `user`'s calendar entry set to `level` (added if absent), which
    /// bumps the ChangeKey, exactly as `SimHandle::mutate_permissions` does. An UpdateFolder
    /// based on an earlier read therefore gets `ErrorIrresolvableConflict`. Meant for
    /// `operation = "UpdateFolder"`; `user` is `Default`, `Anonymous` or a directory address, and
    /// `level` a named level.
    ConcurrentWrite {
        user: String,
        level: PermissionLevel,
    },
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    pending: Vec<ScriptedFault>,
}

impl FaultQueue {
    pub(crate) fn push(&mut self, fault: ScriptedFault) {
        if fault.count > 0 {
            self.pending.push(fault);
        }
    }

    /// Takes one use of the first fault matching this request.
    pub(crate) fn take(&mut self, operation: &str, mailbox: Option<&str>) -> Option<FaultKind> {
        let index = self
            .pending
            .iter()
            .position(|fault| fault.matches(operation, mailbox))?;
        let fault = &mut self.pending[index];
        fault.count -= 1;
        let kind = fault.kind.clone();
        if fault.count == 0 {
            self.pending.remove(index);
        }
        Some(kind)
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_counts_are_honoured() {
        let mut queue = FaultQueue::default();
        queue.push(ScriptedFault {
            operation: Some("UpdateFolder".into()),
            mailbox: Some("alice@contoso.example".into()),
            count: 2,
            kind: FaultKind::ServerBusy { back_off_ms: 10 },
        });
        assert_eq!(queue.take("GetFolder", Some("alice@contoso.example")), None);
        assert_eq!(
            queue.take("UpdateFolder", Some("bob@contoso.example")),
            None
        );
        assert_eq!(
            queue.take("updatefolder", Some("Alice@contoso.example")),
            Some(FaultKind::ServerBusy { back_off_ms: 10 })
        );
        assert!(
            queue
                .take("UpdateFolder", Some("alice@contoso.example"))
                .is_some()
        );
        assert_eq!(
            queue.take("UpdateFolder", Some("alice@contoso.example")),
            None
        );
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn json_and_toml_shapes_parse() {
        let fault: ScriptedFault =
            serde_json::from_str(r#"{"kind":"http_503","retry_after_secs":5,"count":3}"#).unwrap();
        assert_eq!(fault.count, 3);
        assert_eq!(
            fault.kind,
            FaultKind::Http503 {
                retry_after_secs: Some(5)
            }
        );
        let fault: ScriptedFault =
            toml::from_str("kind = \"soap_fault\"\ncode = \"ErrorInternalServerError\"\n").unwrap();
        assert_eq!(fault.count, 1);
        assert_eq!(
            fault.kind,
            FaultKind::SoapFault {
                code: "ErrorInternalServerError".into()
            }
        );
        let fault: ScriptedFault =
            serde_json::from_str(r#"{"kind":"reset_after_processing","operation":"CreateItem"}"#)
                .unwrap();
        assert_eq!(fault.kind, FaultKind::ResetAfterProcessing);
        assert_eq!(fault.operation.as_deref(), Some("CreateItem"));
        let fault: ScriptedFault = toml::from_str(
            "operation = \"UpdateFolder\"\nkind = \"concurrent_write\"\nuser = \"carol@contoso.example\"\nlevel = \"Editor\"\ncount = 2\n",
        )
        .unwrap();
        assert_eq!(fault.count, 2);
        assert_eq!(
            fault.kind,
            FaultKind::ConcurrentWrite {
                user: "carol@contoso.example".into(),
                level: PermissionLevel::Editor,
            }
        );
        let fault: ScriptedFault = toml::from_str(
            "operation = \"UpdateFolder\"\nkind = \"message_error\"\ncode = \"ErrorChangeKeyRequiredForWriteOperations\"\n",
        )
        .unwrap();
        assert_eq!(
            fault.kind,
            FaultKind::MessageError {
                code: "ErrorChangeKeyRequiredForWriteOperations".into()
            }
        );
        let fault: ScriptedFault = serde_json::from_str(
            r#"{"kind":"concurrent_write","user":"Default","level":"Reviewer"}"#,
        )
        .unwrap();
        assert_eq!(
            fault.kind,
            FaultKind::ConcurrentWrite {
                user: "Default".into(),
                level: PermissionLevel::Reviewer,
            }
        );
    }
}
