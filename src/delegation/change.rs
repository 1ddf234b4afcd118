//! Grant and revoke: the read-merge-write of a calendar's permission set (PROTOCOL §4.1).
//!
//! Invariants:
//! - the input is validated before anything reaches Exchange (`Custom` level, principal that is
//!   not an SMTP address), and so is the policy ([`Settings::admit_grant`],
//!   [`Settings::admit_revoke`]): a principal outside `delegation.principal` and
//!   `delegation.allowed_principals`, or a level that grants a right `delegation.max_level`
//!   does not, is refused;
//! - only the principal's entry changes; the merge itself is the pure function in `merge`;
//!   entries the connector does not model (a user known only by `ExternalUserIdentity`, an empty
//!   `UserId`) are written back as read;
//! - a change to a set that holds `UnknownEntries` (deleted accounts) is refused before anything
//!   is written ([`Error::UnknownEntries`]): Exchange deletes them on any rewrite of the set;
//! - nothing is written when the change is in place already, or for a dry run;
//! - every write carries the `ChangeKey` of the read it was computed from; a stale key
//!   (`ErrorIrresolvableConflict`) starts again from a fresh read, at most [`MAX_ATTEMPTS`] reads
//!   and writes in total;
//! - within this process, one write at a time per mailbox (a per-mailbox async lock), so two
//!   changes to one calendar never interleave their read-merge-write;
//! - a write is confirmed by a re-read;
//! - a write whose answer was lost (reset or timeout after sending, unreadable answer) is never
//!   resent blindly: the set is read again, and if it already holds our change the write landed
//!   (success); if not, the read-merge-write starts again from that read, within the same
//!   [`MAX_ATTEMPTS`]; the write carried the `ChangeKey`, so it cannot land after a later write;
//! - nothing is written to Exchange unless an `intent` audit record was appended first; every
//!   attempt that wrote or failed ends with one final record (`changed` or `failed`), appended
//!   and synced before the call returns. An unchanged result or a dry run writes no record: it
//!   changed nothing. Input validation errors write none either: nothing reached Exchange.
//!
//! Why an intent record: if the process dies between Exchange's acknowledgement and the final
//! record, the trail still shows that a change to this mailbox was about to be sent, by whom and
//! what; without it the change would be invisible. It also proves the trail is writable before
//! Exchange is touched, so a full disk refuses the change instead of making an unaudited one.
//!
//! Layout: `Delegation::change` runs one grant or revoke as the states of `Step` (read and merge,
//! write, confirm, record, done), one method each; the three room-wide rules it serves (policy
//! before Exchange, merge changes only the principal, `UnknownEntries` refused) are in
//! ARCHITECTURE.md, `src/delegation/`.
//!
//! Entry types: [`Actor`], [`GrantRequest`], [`RevokeRequest`], [`ChangeOutcome`]; the policy
//! check that callers of a batch run once before it starts: [`Settings::admit_grant`].

use chrono::{DateTime, Utc};

use crate::audit::AuditRecord;
use crate::backend::{self, Calendar, Written};
use crate::delegation::merge::{Change, level_in, lost_by_writing, merge};
use crate::delegation::{Delegation, Error, PermissionLevel, Settings};
use crate::domain::Mailbox;
use crate::domain::permissions::{PermissionSet, Version};
use crate::error_chain;

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
    /// Whether the set was changed (for a dry run: whether it would be).
    pub changed: bool,
    pub dry_run: bool,
    /// The audit record's id, when one was written (the `changed` record).
    pub audit_id: Option<String>,
    pub applied_at: DateTime<Utc>,
    /// The backend that served the change (`backend` in API.md): `"ews"`.
    pub backend: &'static str,
}

/// Reads and writes in total before a run of stale `ChangeKey`s is given up as
/// [`Error::Conflict`].
pub const MAX_ATTEMPTS: u32 = 5;

impl Delegation {
    /// Grants `request.level` (default: the configured level) to `request.principal` (default:
    /// the configured principal) on `mailbox`'s calendar, acting as its owner. A level lower
    /// than the current one lowers it; a `Custom` entry is replaced by the named level.
    ///
    /// # Errors
    /// [`Error::InvalidLevel`] for `Custom` and for a level the backend cannot write
    /// ([`crate::backend::CalendarBackend::writable_levels`]); [`Error::InvalidPrincipal`];
    /// [`Error::PrincipalNotAllowed`] and [`Error::LevelNotAllowed`] (see
    /// [`Settings::admit_grant`]); these four before Exchange is asked; [`Error::Refused`]
    /// when Exchange refuses about this mailbox; [`Error::Conflict`] after [`MAX_ATTEMPTS`]
    /// stale `ChangeKey`s; [`Error::NotConfirmed`]; [`Error::Audit`] when there is no audit log
    /// or it cannot be written (before the change, nothing was written to Exchange; after it,
    /// the change stands and is logged at error level); [`Error::Exchange`] otherwise.
    #[tracing::instrument(skip(self, actor, request), fields(mailbox = %mailbox, request_id = %actor.request_id))]
    pub(super) async fn grant_here(
        &self,
        actor: &Actor,
        mailbox: &Mailbox,
        request: GrantRequest,
    ) -> Result<ChangeOutcome, Error> {
        let (principal, level) = self.settings.admit_grant(&request)?;
        if !self.backend.writable_levels().contains(&level) {
            return Err(Error::InvalidLevel(format!(
                "{} has no equivalent on this mailbox's backend ({}); writable levels: {}",
                level.as_str(),
                self.backend.name(),
                self.backend
                    .writable_levels()
                    .iter()
                    .map(|level| level.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // One notes scope for the whole read-merge-write: an alias followed by the first read
        // goes straight to its primary address in every later call.
        let mut outcome = None;
        let change = async {
            outcome = Some(
                self.change(
                    actor,
                    mailbox,
                    principal,
                    Change::Grant(level),
                    request.dry_run,
                )
                .await,
            );
        };
        self.backend.with_notes(Box::pin(change)).await;
        outcome.unwrap_or(Err(Error::from(backend::Error::Incomplete(
            "the grant's outcome",
        ))))
    }

    /// Removes `request.principal`'s entry (default: the configured principal) from `mailbox`'s
    /// calendar, acting as its owner.
    ///
    /// # Errors
    /// As [`Delegation::grant`], without `InvalidLevel` and `LevelNotAllowed`.
    #[tracing::instrument(skip(self, actor, request), fields(mailbox = %mailbox, request_id = %actor.request_id))]
    pub(super) async fn revoke_here(
        &self,
        actor: &Actor,
        mailbox: &Mailbox,
        request: RevokeRequest,
    ) -> Result<ChangeOutcome, Error> {
        let principal = self.settings.admit_revoke(&request)?;
        let mut outcome = None;
        let change = async {
            outcome = Some(
                self.change(actor, mailbox, principal, Change::Revoke, request.dry_run)
                    .await,
            );
        };
        self.backend.with_notes(Box::pin(change)).await;
        outcome.unwrap_or(Err(Error::from(backend::Error::Incomplete(
            "the revoke's outcome",
        ))))
    }

    /// The read-merge-write shared by grant and revoke, run as the steps of [`Step`].
    async fn change(
        &self,
        actor: &Actor,
        mailbox: &Mailbox,
        principal: String,
        change: Change,
        dry_run: bool,
    ) -> Result<ChangeOutcome, Error> {
        // A dry run reads only, so it need not wait for writers.
        // Held until the final audit record is written, so one mailbox's records stay in order.
        let _write_lock = if dry_run {
            None
        } else {
            Some(self.write_locks.lock(mailbox.as_str()).await)
        };
        let goal = Goal { change, dry_run };
        let mut trail = Trail {
            actor,
            mailbox,
            principal: &principal,
            action: match change {
                Change::Grant(_) => "grant",
                Change::Revoke => "revoke",
            },
            level_before: None,
            intent_id: None,
        };
        let mut step = Step::Read {
            attempt: 1,
            lost_write: None,
        };
        loop {
            step = match step {
                Step::Read {
                    attempt,
                    lost_write,
                } => {
                    self.read_and_merge(&mut trail, goal, attempt, lost_write)
                        .await
                }
                Step::Write {
                    attempt,
                    version,
                    read,
                    permission_set,
                } => {
                    self.write(&mut trail, goal, attempt, version, &read, permission_set)
                        .await
                }
                Step::Confirm => self.confirm(&trail, goal).await,
                Step::Record => return self.record_change(&trail, goal),
                Step::Done(result) => return result,
            };
        }
    }

    /// [`Step::Read`]: reads the set, merges the change, and decides what comes next: nothing
    /// to write (done), a lost write that landed (record it), or a write.
    async fn read_and_merge(
        &self,
        trail: &mut Trail<'_>,
        goal: Goal,
        attempt: u32,
        lost_write: Option<Error>,
    ) -> Step {
        let calendar = match self.read_calendar(trail.mailbox).await {
            Ok(calendar) => calendar,
            Err(error) => return Step::Done(Err(self.failed(trail, trail.level_before, error))),
        };
        let Some(permission_set) = calendar.permissions else {
            let error = Error::from(backend::Error::Incomplete("the calendar's permission set"));
            return Step::Done(Err(self.failed(trail, trail.level_before, error)));
        };
        let merged = merge(&permission_set, trail.principal, goal.change);
        if let Some(lost) = lost_write {
            if !merged.changed {
                // The write whose answer was lost did land: this read shows our change, so it
                // confirms the change too.
                tracing::info!(
                    attempt,
                    error = %lost,
                    "the lost write landed: the calendar holds the change"
                );
                return Step::Record;
            }
            tracing::info!(
                attempt,
                error = %lost,
                "the lost write did not land; writing again from a fresh read"
            );
        }
        trail.level_before = Some(merged.previous_level);

        // Exchange deletes every UnknownEntry when the set is rewritten: refuse rather than
        // drop them (a dry run says so too, since the real change would be refused).
        let lost = lost_by_writing(&merged);
        if !lost.is_empty() {
            let error = Error::UnknownEntries {
                entries: lost.to_vec(),
            };
            return Step::Done(Err(self.failed(trail, trail.level_before, error)));
        }

        if !merged.changed || goal.dry_run {
            let audit_id = if trail.intent_id.is_some() {
                // A retry found our change already made by the other writer: close the
                // intent. An audit failure here changes nothing in Exchange, so it is
                // logged and not returned.
                self.append(trail, "unchanged", Some(goal.requested_level()), None, None)
                    .map_err(|error| {
                        tracing::error!(%error, "cannot close an audit intent record");
                    })
                    .ok()
            } else {
                None
            };
            return Step::Done(Ok(ChangeOutcome {
                mailbox: trail.mailbox.clone(),
                principal: trail.principal.to_owned(),
                level: goal.requested_level(),
                previous_level: merged.previous_level,
                changed: merged.changed,
                dry_run: goal.dry_run,
                audit_id,
                applied_at: Utc::now(),
                backend: self.backend.name(),
            }));
        }
        Step::Write {
            attempt,
            version: calendar.version,
            read: permission_set,
            permission_set: merged.permission_set,
        }
    }

    /// [`Step::Write`]: appends the `intent` record before the first write, writes, and reads
    /// again after a stale `ChangeKey` or a lost answer while attempts remain.
    async fn write(
        &self,
        trail: &mut Trail<'_>,
        goal: Goal,
        attempt: u32,
        version: Version,
        read: &PermissionSet,
        permission_set: PermissionSet,
    ) -> Step {
        if trail.intent_id.is_none() {
            match self.append(trail, "intent", Some(goal.requested_level()), None, None) {
                Ok(intent) => trail.intent_id = Some(intent),
                Err(error) => return Step::Done(Err(Error::Audit(error))),
            }
        }
        let lost_write = match self
            .backend
            .write_permissions(trail.mailbox, version, read, permission_set)
            .await
            .map_err(Error::from)
        {
            Ok(Written::Yes) => return Step::Confirm,
            Ok(Written::StaleVersion) => {
                tracing::info!(
                    attempt,
                    "the calendar changed since it was read; reading it again"
                );
                None
            }
            Err(Error::Backend(error)) if error.outcome_unknown() => {
                tracing::warn!(
                    attempt,
                    %error,
                    "the write's answer was lost; reading the calendar to learn its outcome"
                );
                Some(Error::Backend(error))
            }
            Err(error) => return Step::Done(Err(self.failed(trail, trail.level_before, error))),
        };
        if attempt < MAX_ATTEMPTS {
            return Step::Read {
                attempt: attempt + 1,
                lost_write,
            };
        }
        // No attempt left: a last write whose outcome is still unknown says so with its own
        // error rather than as a conflict.
        let error = lost_write.unwrap_or(Error::Conflict {
            attempts: MAX_ATTEMPTS,
        });
        Step::Done(Err(self.failed(trail, trail.level_before, error)))
    }

    /// [`Step::Confirm`]: the principal's entry must now read as requested (absent after a
    /// revoke).
    async fn confirm(&self, trail: &Trail<'_>, goal: Goal) -> Step {
        let seen = match self.read_calendar(trail.mailbox).await {
            Ok(Calendar {
                permissions: Some(set),
                ..
            }) => level_in(&set, trail.principal),
            Ok(_) => {
                let error =
                    Error::from(backend::Error::Incomplete("the calendar's permission set"));
                return Step::Done(Err(self.failed(trail, None, error)));
            }
            Err(error) => return Step::Done(Err(self.failed(trail, None, error))),
        };
        if seen != goal.expected_entry() {
            let seen_level = seen.unwrap_or(PermissionLevel::None);
            return Step::Done(Err(self.failed(
                trail,
                Some(seen_level),
                Error::NotConfirmed,
            )));
        }
        Step::Record
    }

    /// [`Step::Record`]: the `changed` record of a confirmed change, and the outcome. When the
    /// record cannot be written the change stands in Exchange; it is logged at error level.
    fn record_change(&self, trail: &Trail<'_>, goal: Goal) -> Result<ChangeOutcome, Error> {
        let requested_level = goal.requested_level();
        let audit_id = match self.append(trail, "changed", Some(requested_level), None, None) {
            Ok(id) => id,
            Err(error) => {
                tracing::error!(
                    mailbox = %trail.mailbox,
                    principal = %trail.principal,
                    action = trail.action,
                    level_before = trail.level_before.map(PermissionLevel::as_str),
                    level_after = requested_level.as_str(),
                    request_id = %trail.actor.request_id,
                    client = %trail.actor.client,
                    intent_id = trail.intent_id.as_deref(),
                    %error,
                    "the change was applied in Exchange but its audit record cannot be written"
                );
                return Err(Error::Audit(error));
            }
        };
        Ok(ChangeOutcome {
            mailbox: trail.mailbox.clone(),
            principal: trail.principal.to_owned(),
            level: requested_level,
            previous_level: trail.level_before.unwrap_or(PermissionLevel::None),
            changed: true,
            dry_run: false,
            audit_id: Some(audit_id),
            applied_at: Utc::now(),
            backend: self.backend.name(),
        })
    }

    /// Records a failed attempt (where there is an audit log) and gives the error back. An audit
    /// failure here is logged, not returned: the caller must learn the original error.
    fn failed(
        &self,
        trail: &Trail<'_>,
        level_after: Option<PermissionLevel>,
        error: Error,
    ) -> Error {
        if self.audit.is_none() {
            return error;
        }
        let code = match &error {
            Error::Backend(error) => error.response_code(),
            Error::Conflict { .. } => Some("ErrorIrresolvableConflict".to_owned()),
            _ => None,
        };
        let detail = error_chain::display(&error);
        if let Err(audit_error) = self.append(trail, "failed", level_after, code, Some(detail)) {
            tracing::error!(
                mailbox = %trail.mailbox,
                principal = %trail.principal,
                action = trail.action,
                %error,
                %audit_error,
                "a failed change cannot be recorded in the audit trail"
            );
        }
        error
    }

    /// Appends one record.
    fn append(
        &self,
        trail: &Trail<'_>,
        result: &'static str,
        level_after: Option<PermissionLevel>,
        ews_response_code: Option<String>,
        detail: Option<String>,
    ) -> std::io::Result<String> {
        let Some(audit) = &self.audit else {
            return Err(std::io::Error::other(
                "no audit log is configured, so changes are refused",
            ));
        };
        audit.append(&AuditRecord {
            time: Utc::now(),
            request_id: trail.actor.request_id.clone(),
            client: trail.actor.client.clone(),
            mailbox: trail.mailbox.as_str().to_owned(),
            principal: trail.principal.to_owned(),
            action: trail.action,
            level_before: trail.level_before.map(|level| level.as_str().to_owned()),
            level_after: level_after.map(|level| level.as_str().to_owned()),
            result,
            ews_response_code,
            intent_id: if result == "intent" {
                None
            } else {
                trail.intent_id.clone()
            },
            detail,
            backend: self.backend.name(),
        })
    }

    /// Reads the calendar's version and whole permission set, as the owner.
    async fn read_calendar(&self, mailbox: &Mailbox) -> Result<Calendar, Error> {
        Ok(self.backend.read_permissions(mailbox).await?)
    }
}

impl Settings {
    /// The principal and level a grant request comes to (the configured ones where it names
    /// none), when this configuration allows them. Pure: nothing is asked of Exchange, so the
    /// batch routes run it once for the whole request before any work starts, and
    /// [`Delegation::grant`] runs it again for each mailbox.
    ///
    /// # Errors
    /// [`Error::InvalidLevel`] for `Custom`; [`Error::InvalidPrincipal`] for a principal that is
    /// not an SMTP address; [`Error::PrincipalNotAllowed`] for one that is neither
    /// `principal` nor in `allowed_principals`; [`Error::LevelNotAllowed`] for a level that
    /// grants a right `max_level` does not.
    pub fn admit_grant(&self, request: &GrantRequest) -> Result<(String, PermissionLevel), Error> {
        let level = request.level.unwrap_or(self.required);
        if level == PermissionLevel::Custom {
            return Err(Error::InvalidLevel(
                "the Custom level cannot be requested; ask for a named level such as Editor"
                    .to_owned(),
            ));
        }
        let principal = self.admit_principal(request.principal.as_deref())?;
        if !level.is_within(self.max_level) {
            return Err(Error::LevelNotAllowed {
                level,
                max_level: self.max_level,
            });
        }
        Ok((principal, level))
    }

    /// The principal a revoke request comes to (the configured one where it names none), when
    /// this configuration allows it; as [`Settings::admit_grant`], without a level.
    ///
    /// # Errors
    /// [`Error::InvalidPrincipal`] and [`Error::PrincipalNotAllowed`].
    pub fn admit_revoke(&self, request: &RevokeRequest) -> Result<String, Error> {
        self.admit_principal(request.principal.as_deref())
    }

    /// Whether `principal` may be named in a grant or revoke: `principal` itself, or one of
    /// `allowed_principals`, compared case-insensitively as mailbox addresses are.
    pub fn allows_principal(&self, principal: &str) -> bool {
        self.principal.eq_ignore_ascii_case(principal)
            || self
                .allowed_principals
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(principal))
    }

    fn admit_principal(&self, requested: Option<&str>) -> Result<String, Error> {
        let principal = requested.unwrap_or(&self.principal);
        let parsed = Mailbox::parse(principal)
            .map_err(|error| Error::InvalidPrincipal(format!("the principal {error}")))?;
        if !self.allows_principal(parsed.as_str()) {
            return Err(Error::PrincipalNotAllowed {
                principal: parsed.as_str().to_owned(),
            });
        }
        Ok(parsed.as_str().to_owned())
    }
}

/// What one grant or revoke asks for, fixed for its whole run.
#[derive(Clone, Copy)]
struct Goal {
    change: Change,
    dry_run: bool,
}

impl Goal {
    /// The level the outcome and the audit records name (`None` for a revoke).
    fn requested_level(self) -> PermissionLevel {
        match self.change {
            Change::Grant(level) => level,
            Change::Revoke => PermissionLevel::None,
        }
    }

    /// The principal's entry once the change is made: its level, or no entry after a revoke.
    fn expected_entry(self) -> Option<PermissionLevel> {
        match self.change {
            Change::Grant(level) => Some(level),
            Change::Revoke => None,
        }
    }
}

/// Where one grant or revoke stands. It starts at `Read { attempt: 1 }` and goes
/// read → write → confirm → record; a stale `ChangeKey` or a write whose answer was lost goes
/// back to `Read` with the next attempt (at most [`MAX_ATTEMPTS`]), and a read after a lost
/// write that shows the change goes straight to `Record`. Every failure ends in `Done`, its
/// `failed` record appended where it is detected.
enum Step {
    /// Read the set and merge the change into it. `lost_write`: the error of the previous write,
    /// whose answer was lost; this read tells whether it landed.
    Read {
        attempt: u32,
        lost_write: Option<Error>,
    },
    /// Write the merged set with the `ChangeKey` of the read it was computed from.
    Write {
        attempt: u32,
        version: Version,
        /// The set as read, which the merge started from.
        read: PermissionSet,
        permission_set: PermissionSet,
    },
    /// Exchange acknowledged the write: read again to confirm it.
    Confirm,
    /// The change is confirmed: append the `changed` record.
    Record,
    /// Finished, with the outcome or the error.
    Done(Result<ChangeOutcome, Error>),
}

/// The audit context of one grant or revoke.
struct Trail<'a> {
    actor: &'a Actor,
    mailbox: &'a Mailbox,
    principal: &'a str,
    action: &'static str,
    /// The principal's level in the latest read; `None` before the first read succeeded.
    level_before: Option<PermissionLevel>,
    /// The `intent` record written before the first UpdateFolder.
    intent_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backend::memory::MemoryBackend;
    use crate::delegation::Settings;
    use crate::domain::AccessMode;

    fn delegation_and_backend() -> (Delegation, Arc<MemoryBackend>) {
        let backend = Arc::new(MemoryBackend::default());
        let delegation = Delegation::new(
            backend.clone(),
            Settings {
                access: AccessMode::Delegate,
                impersonation: true,
                principal: "push@contoso.example".to_owned(),
                required: PermissionLevel::Editor,
                allowed_principals: vec!["Helpdesk@Contoso.example".to_owned()],
                max_level: PermissionLevel::Editor,
            },
            None,
        );
        (delegation, backend)
    }

    fn delegation() -> Delegation {
        delegation_and_backend().0
    }

    #[tokio::test]
    async fn invalid_input_is_refused_before_exchange_is_asked() {
        let (delegation, backend) = delegation_and_backend();
        let actor = Actor {
            request_id: "r".to_owned(),
            client: "test".to_owned(),
        };
        let mailbox = Mailbox::parse("alice@contoso.example").unwrap();
        let error = delegation
            .grant(
                &actor,
                &mailbox,
                GrantRequest {
                    principal: None,
                    level: Some(PermissionLevel::Custom),
                    dry_run: false,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidLevel(_)), "{error:?}");
        let error = delegation
            .revoke(
                &actor,
                &mailbox,
                RevokeRequest {
                    principal: Some("not an address".to_owned()),
                    dry_run: true,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidPrincipal(_)), "{error:?}");
        assert!(backend.calls().is_empty());
    }

    #[tokio::test]
    async fn a_principal_or_level_outside_the_policy_is_refused_before_exchange_is_asked() {
        let (delegation, backend) = delegation_and_backend();
        let actor = Actor {
            request_id: "r".to_owned(),
            client: "test".to_owned(),
        };
        let mailbox = Mailbox::parse("alice@contoso.example").unwrap();
        let grant = |principal: Option<&str>, level: Option<PermissionLevel>| GrantRequest {
            principal: principal.map(str::to_owned),
            level,
            dry_run: false,
        };
        for (principal, level) in [
            (Some("attacker@contoso.example"), None),
            (
                Some("attacker@contoso.example"),
                Some(PermissionLevel::Reviewer),
            ),
            // A principal outside the list is refused before its level is looked at.
            (
                Some("attacker@contoso.example"),
                Some(PermissionLevel::Owner),
            ),
        ] {
            let error = delegation
                .grant(&actor, &mailbox, grant(principal, level))
                .await
                .unwrap_err();
            assert!(
                matches!(&error, Error::PrincipalNotAllowed { principal } if principal == "attacker@contoso.example"),
                "{error:?}"
            );
        }
        for (principal, level) in [
            (None, PermissionLevel::Owner),
            (None, PermissionLevel::PublishingAuthor),
            (
                Some("helpdesk@contoso.example"),
                PermissionLevel::PublishingEditor,
            ),
        ] {
            let error = delegation
                .grant(&actor, &mailbox, grant(principal, Some(level)))
                .await
                .unwrap_err();
            assert!(
                matches!(error, Error::LevelNotAllowed { level: refused, max_level: PermissionLevel::Editor } if refused == level),
                "{error:?}"
            );
            assert!(
                error.to_string().contains("delegation.max_level"),
                "{error}"
            );
        }
        let error = delegation
            .revoke(
                &actor,
                &mailbox,
                RevokeRequest {
                    principal: Some("colleague@contoso.example".to_owned()),
                    dry_run: false,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::PrincipalNotAllowed { .. }),
            "{error:?}"
        );
        assert!(backend.calls().is_empty());
    }

    #[test]
    fn the_configured_and_the_allowed_principals_pass_in_any_case_at_levels_within_the_maximum() {
        let settings = delegation().settings().clone();
        let grant = |principal: Option<&str>, level: Option<PermissionLevel>| GrantRequest {
            principal: principal.map(str::to_owned),
            level,
            dry_run: true,
        };
        assert_eq!(
            settings.admit_grant(&grant(None, None)).unwrap(),
            ("push@contoso.example".to_owned(), PermissionLevel::Editor)
        );
        assert_eq!(
            settings
                .admit_grant(&grant(
                    Some("PUSH@contoso.EXAMPLE"),
                    Some(PermissionLevel::Author)
                ))
                .unwrap(),
            ("PUSH@contoso.EXAMPLE".to_owned(), PermissionLevel::Author)
        );
        assert_eq!(
            settings
                .admit_grant(&grant(
                    Some("helpdesk@contoso.example"),
                    Some(PermissionLevel::Reviewer)
                ))
                .unwrap(),
            (
                "helpdesk@contoso.example".to_owned(),
                PermissionLevel::Reviewer
            )
        );
        assert_eq!(
            settings
                .admit_revoke(&RevokeRequest {
                    principal: Some("HELPDESK@contoso.example".to_owned()),
                    dry_run: false,
                })
                .unwrap(),
            "HELPDESK@contoso.example"
        );
        // Without a list, only the configured principal; the maximum is the configured level.
        let strict = Settings {
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Author,
            required: PermissionLevel::Author,
            ..settings
        };
        assert!(matches!(
            strict.admit_grant(&grant(Some("helpdesk@contoso.example"), None)),
            Err(Error::PrincipalNotAllowed { .. })
        ));
        assert!(matches!(
            strict.admit_grant(&grant(None, Some(PermissionLevel::Editor))),
            Err(Error::LevelNotAllowed { .. })
        ));
        assert!(strict.admit_grant(&grant(None, None)).is_ok());
    }
}
