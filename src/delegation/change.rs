//! Grant and revoke: the read-merge-write of a calendar's permission set.
//!
//! SCAFFOLD: the signatures are the contract between `delegation` and `api`; the bodies are
//! being written on branch `grant`.

use chrono::{DateTime, Utc};

use crate::delegation::{Delegation, Error, Mailbox, PermissionLevel};

/// Who asked for a change, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The API request id (`X-Request-Id`) or a generated id for the CLI.
    pub request_id: String,
    /// The API client's configured name, or `cli`.
    pub client: String,
}

/// `PUT .../calendar/delegation`.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    /// Defaults to the configured principal.
    pub principal: Option<String>,
    /// Defaults to the configured level; `Custom` is refused.
    pub level: Option<PermissionLevel>,
    pub dry_run: bool,
}

/// `DELETE .../calendar/delegation`.
#[derive(Debug, Clone)]
pub struct RevokeRequest {
    /// Defaults to the configured principal.
    pub principal: Option<String>,
    pub dry_run: bool,
}

/// What a grant or revoke did.
#[derive(Debug, Clone)]
pub struct ChangeOutcome {
    pub mailbox: Mailbox,
    pub principal: String,
    /// The principal's level afterwards (`None` after a revoke: no entry).
    pub level: PermissionLevel,
    /// The principal's level before (`PermissionLevel::None` when it had no entry).
    pub previous_level: PermissionLevel,
    pub changed: bool,
    pub dry_run: bool,
    /// The audit record's id, when one was written.
    pub audit_id: Option<String>,
    pub applied_at: DateTime<Utc>,
}

impl Delegation {
    /// Grants `request.level` to `request.principal` on `mailbox`'s calendar.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn grant(
        &self,
        actor: &Actor,
        mailbox: &Mailbox,
        request: GrantRequest,
    ) -> Result<ChangeOutcome, Error> {
        let _ = (actor, mailbox, request);
        unimplemented!("being written on branch grant")
    }

    /// Removes `request.principal`'s entry from `mailbox`'s calendar.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn revoke(
        &self,
        actor: &Actor,
        mailbox: &Mailbox,
        request: RevokeRequest,
    ) -> Result<ChangeOutcome, Error> {
        let _ = (actor, mailbox, request);
        unimplemented!("being written on branch grant")
    }
}
