//! `delegation`: the domain of calendar delegation: check whether the push account can write a
//! user's calendar, and why not.
//!
//! Invariants:
//! - no XML, no HTTP types, no serde: this room speaks in `Mailbox`, `PermissionLevel`,
//!   `CheckReport`, and reaches a calendar only through the `backend::CalendarBackend` it was
//!   given (never `ews` or `exchange` directly);
//! - a definite answer about the mailbox (no such mailbox, impersonation denied, no access,
//!   being moved) is a report, not an error; an [`Error`] means the connector or Exchange as a
//!   whole failed;
//! - grant and revoke (`change`) change only the principal's permission entry and keep every
//!   other entry exactly as read (the pure rule is in `merge`); they write with the `ChangeKey`
//!   of their read, one at a time per mailbox in this process, and never without an audit trail.
//!
//! Layout: `routed` (check, grant and revoke routed per mailbox between EWS and Microsoft Graph
//! with `[graph]`), `application` (the check on Graph, as the application), `batch` (one call
//! per mailbox of a list, results as they complete), `change` (grant
//! and revoke), `merge` (the pure permission-set rule), `evaluate` (which entry of a permission
//! set applies to an identity and what it allows, in Exchange's order: own, groups, `Default`),
//! `groups` (membership through EWS `ExpandDL`, nested, cached per group with single flight).
//!
//! Groups: when the principal has no entry of its own, only the entries that could change the
//! answer are expanded: those whose rights cover the required level, and, where `Default`
//! alone would cover it, every other entry (a group the principal is in overrides `Default`).
//!
//! Readiness is computed from the permission set, never from the folder's `EffectiveRights`
//! `Modify`/`Delete`: on a folder those are MAPI's `PR_ACCESS` of the folder object (may the
//! folder itself be changed or deleted), true only for folder owners; an Editor sees them false.
//! Entry types: [`Delegation`], [`Settings`], [`Mailbox`], [`CheckReport`], [`GrantRequest`],
//! [`RevokeRequest`], [`ChangeOutcome`], [`Error`].

mod application;
pub mod batch;
mod change;
pub mod evaluate;
pub mod groups;
mod identity;
#[cfg(test)]
mod memory_tests;
pub mod merge;
mod routed;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use self::change::{Actor, ChangeOutcome, GrantRequest, RevokeRequest};
pub(crate) use self::evaluate::level_of;
pub use self::evaluate::{Allows, Applied, Evaluation, Identity};
use crate::audit::AuditLog;
use crate::backend::{self, Calendar, CalendarBackend, ErrorKind, OpenAs};
use crate::domain::lock::MailboxLocks;
pub use crate::domain::permissions::EffectiveRights;
use crate::domain::permissions::{DistinguishedUser, PermissionEntry};
use crate::domain::{AccessMode, Mailbox};
pub use crate::domain::{PermissionLevel, ReadScope, Rights, Scope, UnknownLevel};

/// What `delegation` needs to run; filled by `config`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub access: AccessMode,
    /// Whether the accounts may impersonate (needed to read and write permission sets).
    pub impersonation: bool,
    /// The user or mail-enabled group that must hold the permission, by primary SMTP address.
    pub principal: String,
    /// The level the principal needs.
    pub required: PermissionLevel,
    /// The principals a grant or revoke may name besides `principal` (which is always allowed),
    /// compared case-insensitively; empty: only `principal` (`delegation.allowed_principals`).
    pub allowed_principals: Vec<String>,
    /// The highest level a grant may write: a level is allowed when every right it grants is
    /// granted by this one ([`PermissionLevel::is_within`]); `delegation.max_level`, by default
    /// `required`.
    pub max_level: PermissionLevel,
}

/// The outcome of a check, as API.md describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ok,
    NotDelegated,
    Insufficient,
    NoAccess,
    MailboxNotFound,
    ImpersonationDenied,
    MailboxUnavailable,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::NotDelegated => "not_delegated",
            CheckStatus::Insufficient => "insufficient",
            CheckStatus::NoAccess => "no_access",
            CheckStatus::MailboxNotFound => "mailbox_not_found",
            CheckStatus::ImpersonationDenied => "impersonation_denied",
            CheckStatus::MailboxUnavailable => "mailbox_unavailable",
        }
    }
}

/// Whether the service account may impersonate the mailbox owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impersonation {
    Allowed,
    Denied,
    NotConfigured,
}

impl Impersonation {
    pub fn as_str(self) -> &'static str {
        match self {
            Impersonation::Allowed => "allowed",
            Impersonation::Denied => "denied",
            Impersonation::NotConfigured => "not_configured",
        }
    }
}

/// The principal's entry in the calendar's permission set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationState {
    pub principal: String,
    /// `None` where the permission set could not be read (see `impersonation`), and
    /// `Some(PermissionLevel::None)` where the principal has no entry.
    pub level: Option<PermissionLevel>,
    pub required: PermissionLevel,
    pub sufficient: bool,
    /// Where the level came from (`delegation.via`): `None` for the principal's own entry (and
    /// where nothing applies or the set could not be read), a group's SMTP address, or
    /// `"Default"`.
    pub via: Option<String>,
    /// The evaluation of the permission set for the principal, where it could be read.
    pub evaluation: Option<Evaluation>,
}

/// The answer to "can MyTimetable push to this calendar now, and if not, why".
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub mailbox: Mailbox,
    pub ready: bool,
    pub status: CheckStatus,
    pub access_mode: AccessMode,
    /// The backend that served the check (`backend` in API.md): `"ews"`.
    pub backend: &'static str,
    pub delegation: DelegationState,
    pub effective_rights: Option<EffectiveRights>,
    pub impersonation: Impersonation,
    /// The SMTP address of the service account that serves this mailbox.
    pub service_account: String,
    /// The Exchange response code behind a status other than `ok`.
    pub ews_response_code: Option<String>,
    /// Graph's `error.code` behind a status other than `ok`, on a Graph mailbox (API.md
    /// `graphErrorCode`).
    pub graph_error_code: Option<String>,
    /// A sentence for people.
    pub detail: Option<String>,
    pub checked_at: DateTime<Utc>,
    /// The primary SMTP address Exchange named when `mailbox` was another of its addresses (an
    /// alias); the check was then made for it. `None` when `mailbox` is the primary one.
    pub primary_smtp_address: Option<String>,
    /// The `MailboxGuid` on-premises Exchange sent with `ErrorNonExistentMailbox`: the
    /// directory knows the mailbox, no local database holds it (moved to Exchange Online).
    pub mailbox_guid: Option<String>,
}

/// The connector or Exchange as a whole failed; nothing definite is known about the mailbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend failed or refused ([`backend::Error`], the one vocabulary of backend
    /// failures; a refusal about the mailbox is a report, not this).
    #[error(transparent)]
    Backend(#[from] backend::Error),
    /// The caller asked for something this service never does (a `Custom` level).
    #[error("{0}")]
    InvalidLevel(String),
    /// The principal is not an SMTP address.
    #[error("{0}")]
    InvalidPrincipal(String),
    /// The principal is neither `delegation.principal` nor one of
    /// `delegation.allowed_principals`; nothing was asked of Exchange.
    #[error(
        "the principal `{principal}` is not allowed: a grant or revoke may name only delegation.principal or one of delegation.allowed_principals"
    )]
    PrincipalNotAllowed { principal: String },
    /// The level grants a right that `delegation.max_level` does not; nothing was asked of
    /// Exchange.
    #[error(
        "the level `{level}` is not allowed: it grants rights that delegation.max_level `{max_level}` does not"
    )]
    LevelNotAllowed {
        level: PermissionLevel,
        max_level: PermissionLevel,
    },
    /// A concurrent writer kept changing the permission set between our read and our write.
    #[error("the calendar's permissions kept changing under us ({attempts} attempts)")]
    Conflict { attempts: u32 },
    /// The permission set holds entries of deleted accounts (`UnknownEntries`), which Exchange
    /// deletes on any rewrite of the set; nothing was written.
    #[error(
        "the calendar's permissions hold {} entries of deleted accounts that Exchange cannot resolve (UnknownEntries: {}); Exchange deletes such entries whenever the permission set is rewritten, so nothing was written: an Exchange admin must remove them first (Remove-MailboxFolderPermission, or the calendar's permissions in Outlook)",
        entries.len(),
        entries.join(", ")
    )]
    UnknownEntries { entries: Vec<String> },
    /// The write succeeded but the re-read does not show it.
    #[error("exchange accepted the change but the re-read does not show it")]
    NotConfirmed,
    /// The audit record could not be written; for a change, Exchange was not written either.
    #[error("the audit trail cannot be written")]
    Audit(#[source] std::io::Error),
}

/// Check, grant and revoke calendar delegation.
pub struct Delegation {
    backend: Arc<dyn CalendarBackend>,
    settings: Settings,
    /// Where grants and revokes are recorded; `None` for a read-only user such as `check`, for
    /// which any change is refused.
    audit: Option<Arc<AuditLog>>,
    /// One async lock per mailbox, so that two grants or revokes for one calendar in this
    /// process never interleave their read-merge-write.
    write_locks: MailboxLocks,
    /// Group membership (ExpandDL), cached per group for this process.
    groups: groups::GroupMembership,
    /// Open the calendar as the service account even where the permission set decides (doctor:
    /// Exchange's own `EffectiveRights` next to the evaluation).
    confirm_with_exchange: bool,
    /// With `[graph]`: the router and the Graph side (`routed`); `None`: EWS only, unrouted.
    hybrid: Option<Arc<routed::Hybrid>>,
}

/// The groups among a calendar's entries that the principal belongs to.
#[derive(Debug, Default)]
struct FoundGroups {
    member_of: BTreeSet<String>,
    /// Candidate groups whose membership could not be read in full (a partial ExpandDL answer,
    /// or nesting deeper than `groups::MAX_DEPTH`) and in which the principal was not found.
    unconfirmed: Vec<String>,
    /// A candidate entry (its own, or a group's the principal is not in) that could apply to the
    /// service account that pushes and not to the principal: the set's evaluation for the
    /// principal is then not the account's, and Exchange is asked as the account.
    account_apart: bool,
}

/// Whether the delegation principal is a group, and which service accounts are not in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalGroup {
    /// The principal is a user (or an empty or unknown list): nothing to verify.
    NotAGroup,
    /// The principal is a group; these service accounts (SMTP addresses) are not members of it,
    /// directly or through nested groups, so the calendars' grants to it do not reach them.
    Group { non_members: Vec<String> },
}

/// How the calendar was opened as the identity that pushes.
enum Opened {
    /// Exchange was asked (as the owner in impersonation mode, else as the service account):
    /// the folder with the `EffectiveRights` it sent, or its refusal.
    Asked(Result<Calendar, Refusal>),
    /// Not asked: the permission set read as the owner decides for the service account (it is
    /// the principal or a member of the principal group), and its `EffectiveRights` are those
    /// Exchange computes from the entry that applies ([`Evaluation::folder_access`]).
    FromPermissionSet,
}

/// An Exchange refusal that says something definite about the mailbox.
#[derive(Debug, Clone)]
struct Refusal {
    kind: ErrorKind,
    code: String,
    message: Option<String>,
}

impl Delegation {
    pub fn new(
        backend: Arc<dyn CalendarBackend>,
        settings: Settings,
        audit: Option<Arc<AuditLog>>,
    ) -> Delegation {
        Delegation {
            groups: groups::GroupMembership::new(backend.clone(), groups::DEFAULT_TTL),
            backend,
            settings,
            audit,
            write_locks: MailboxLocks::default(),
            confirm_with_exchange: false,
            hybrid: None,
        }
    }

    /// Checks also ask Exchange as the service account where the permission set alone would
    /// decide (one GetFolder more per check), so the report's `effective_rights` are always the
    /// ones Exchange sent: for `doctor --mailbox`, which shows them next to the evaluation.
    #[must_use]
    pub fn confirming_with_exchange(mut self) -> Delegation {
        self.confirm_with_exchange = true;
        self
    }

    /// How long a group's ExpandDL answer is reused (`delegation.group_cache_ttl_secs`).
    #[must_use]
    pub fn with_group_cache_ttl(mut self, ttl: std::time::Duration) -> Delegation {
        self.groups = groups::GroupMembership::new(self.backend.clone(), ttl);
        self
    }

    /// Whether `delegation.principal` is a group and, if so, which service accounts are not
    /// members of it (they push as themselves, so they must be). One ExpandDL per group per
    /// cache TTL.
    ///
    /// # Errors
    /// When Exchange could not answer an ExpandDL.
    pub async fn principal_group(&self) -> Result<PrincipalGroup, Error> {
        let principal = self.settings.principal.as_str();
        let mut non_members = Vec::new();
        let accounts = self.backend.service_accounts();
        for account in &accounts {
            if account.eq_ignore_ascii_case(principal) {
                continue;
            }
            let membership = self.groups.is_member(principal, account, account).await?;
            if !membership.is_group {
                return Ok(PrincipalGroup::NotAGroup);
            }
            if !membership.member {
                non_members.push(account.clone());
            }
        }
        if accounts
            .iter()
            .all(|account| account.eq_ignore_ascii_case(principal))
        {
            // The principal is the (only) service account itself: a user.
            return Ok(PrincipalGroup::NotAGroup);
        }
        Ok(PrincipalGroup::Group { non_members })
    }

    /// The candidate group entries of `folder`'s permission set that the principal belongs to.
    async fn principal_groups(
        &self,
        calendar: &Calendar,
        mailbox: &Mailbox,
    ) -> Result<FoundGroups, Error> {
        let entries = calendar
            .permissions
            .as_ref()
            .map_or(&[][..], |set| set.entries.as_slice());
        let principal = self.settings.principal.as_str();
        let account = self.backend.service_account(mailbox);
        let mut found = FoundGroups {
            // The account's own entry wins over the principal group's for the account (Exchange
            // evaluates the account's token, not the principal's).
            account_apart: !account.eq_ignore_ascii_case(principal)
                && entries.iter().any(|entry| entry_matches(entry, &account)),
            ..FoundGroups::default()
        };
        for candidate in candidate_groups(entries, principal, &self.required_rights()) {
            let membership = self
                .groups
                .is_member(&candidate, principal, mailbox.as_str())
                .await?;
            if membership.member {
                found.member_of.insert(candidate);
                continue;
            }
            if membership.is_group && !membership.complete {
                found.unconfirmed.push(candidate.clone());
            }
            // A group the account is in and the principal is not would override `Default` for
            // the account alone; the answer is cached, so this asks Exchange nothing more.
            if membership.is_group && !account.eq_ignore_ascii_case(principal) {
                found.account_apart |= self
                    .groups
                    .is_member(&candidate, &account, mailbox.as_str())
                    .await?
                    .member;
            }
        }
        Ok(found)
    }

    /// The rights of the required level (a `Custom` level, never configured, reads as Editor's).
    fn required_rights(&self) -> Rights {
        self.settings.required.rights().unwrap_or(Rights {
            create_items: true,
            create_subfolders: false,
            folder_owner: false,
            folder_visible: true,
            folder_contact: false,
            edit_items: Scope::All,
            delete_items: Scope::All,
            read_items: ReadScope::FullDetails,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The check itself; [`Delegation::check`] adds what Exchange said about the mailbox's
    /// identity (`identity`).
    #[tracing::instrument(skip(self), fields(mailbox = %mailbox))]
    async fn check_calendar(&self, mailbox: &Mailbox) -> Result<CheckReport, Error> {
        let settings = &self.settings;
        let service_account = self.backend.service_account(mailbox);
        let report = CheckReport {
            mailbox: mailbox.clone(),
            ready: false,
            status: CheckStatus::Ok,
            access_mode: settings.access,
            backend: self.backend.name(),
            delegation: DelegationState {
                principal: settings.principal.clone(),
                level: None,
                required: settings.required,
                sufficient: false,
                via: None,
                evaluation: None,
            },
            effective_rights: None,
            impersonation: if settings.impersonation {
                Impersonation::Allowed
            } else {
                Impersonation::NotConfigured
            },
            service_account,
            ews_response_code: None,
            graph_error_code: None,
            detail: None,
            checked_at: Utc::now(),
            primary_smtp_address: None,
            mailbox_guid: None,
        };

        let opened = match (settings.access, settings.impersonation) {
            // Graph: the application acts on its own permission; one request.
            (AccessMode::Application, _) => {
                let opened = self
                    .get_calendar(mailbox, OpenAs::ServiceAccount, true)
                    .await?;
                return Ok(self.finish_application(report, opened));
            }
            // The owner pushes: one GetFolder as the owner answers both questions.
            (AccessMode::Impersonation, _) => {
                let opened = self.get_calendar(mailbox, OpenAs::Owner, true).await?;
                let found = match &opened {
                    Ok(calendar) => self.principal_groups(calendar, mailbox).await?,
                    Err(_) => FoundGroups::default(),
                };
                let permissions = Some(opened.clone());
                return Ok(self.finish(report, Opened::Asked(opened), permissions, &found));
            }
            // Without impersonation the permission set cannot be read: the service account's own
            // GetFolder decides.
            (AccessMode::Delegate, false) => {
                let opened = self
                    .get_calendar(mailbox, OpenAs::ServiceAccount, false)
                    .await?;
                return Ok(self.finish(
                    report,
                    Opened::Asked(opened),
                    None,
                    &FoundGroups::default(),
                ));
            }
            (AccessMode::Delegate, true) => self.get_calendar(mailbox, OpenAs::Owner, true).await?,
        };
        // Delegate mode with impersonation: the permission set, read as the owner, decides alone
        // when the service account that pushes is the principal (or a member of the principal
        // group): one request. Otherwise (another principal, or the set could not be read) the
        // calendar is also opened as the service account, whose EffectiveRights tell.
        let found = match &opened {
            Ok(calendar) => self.principal_groups(calendar, mailbox).await?,
            Err(_) => FoundGroups::default(),
        };
        let as_account = match &opened {
            Ok(_)
                if !self.confirm_with_exchange
                    && !found.account_apart
                    && self.pushes_as_principal(&report.service_account).await =>
            {
                Opened::FromPermissionSet
            }
            // No mailbox, or one being moved: the service account would hear the same.
            Err(refusal)
                if matches!(
                    refusal.kind,
                    ErrorKind::MailboxNotFound | ErrorKind::MailboxUnavailable
                ) =>
            {
                Opened::Asked(Err(refusal.clone()))
            }
            _ => Opened::Asked(
                self.get_calendar(mailbox, OpenAs::ServiceAccount, false)
                    .await?,
            ),
        };
        Ok(self.finish(report, as_account, Some(opened), &found))
    }

    /// Whether the permission set's evaluation for the principal is the service account's own:
    /// it is the principal, or a member (nested included) of the principal group. Membership
    /// comes from the group cache that `/readyz` keeps warm; an Exchange failure answers no
    /// (the caller then asks Exchange as the service account).
    async fn pushes_as_principal(&self, service_account: &str) -> bool {
        let principal = self.settings.principal.as_str();
        if service_account.eq_ignore_ascii_case(principal) {
            return true;
        }
        self.groups
            .is_member(principal, service_account, service_account)
            .await
            .is_ok_and(|membership| membership.member)
    }

    fn finish(
        &self,
        mut report: CheckReport,
        opened: Opened,
        permissions: Option<Result<Calendar, Refusal>>,
        found: &FoundGroups,
    ) -> CheckReport {
        let settings = &self.settings;
        let principal = settings.principal.as_str();
        let required_rights = self.required_rights();

        // The permission set evaluated for the principal, where it could be read, with the
        // candidate groups it was found in (ExpandDL, nested).
        let mut permission_refusal = None;
        if let Some(permissions) = &permissions {
            match permissions {
                Ok(calendar) => {
                    let entries = calendar
                        .permissions
                        .as_ref()
                        .map_or(&[][..], |set| set.entries.as_slice());
                    let evaluation = evaluate::evaluate(
                        entries,
                        Identity {
                            smtp: principal,
                            sid: None,
                        },
                        &found.member_of,
                    );
                    report.delegation.level = Some(evaluation.level);
                    report.delegation.via = evaluation.applied.via().map(str::to_owned);
                    report.delegation.sufficient = evaluation.rights.covers(&required_rights);
                    report.delegation.evaluation = Some(evaluation);
                }
                Err(refusal) => {
                    if refusal.kind == ErrorKind::ImpersonationDenied {
                        report.impersonation = Impersonation::Denied;
                    }
                    permission_refusal = Some(refusal.clone());
                }
            }
        }
        let evaluation = report.delegation.evaluation.clone();
        let opened = match opened {
            Opened::Asked(opened) => opened.map(|calendar| calendar.effective_rights),
            Opened::FromPermissionSet => {
                Ok(evaluation.as_ref().and_then(Evaluation::folder_access))
            }
        };

        match opened {
            Ok(rights) => {
                report.effective_rights = rights;
                let creates_and_reads = rights.is_some_and(|rights| rights.can_create_and_read());
                match (settings.access, &evaluation) {
                    // The owner pushes: its own calendar, every right (Modify/Delete included on
                    // real Exchange, but a push needs only create and read of the folder). (An
                    // application-mode check is finished by `finish_application`.)
                    (AccessMode::Impersonation | AccessMode::Application, _) => {
                        report.ready = creates_and_reads;
                        report.status = if report.ready {
                            CheckStatus::Ok
                        } else {
                            CheckStatus::NoAccess
                        };
                        if !report.ready {
                            report.detail = Some(
                                "the mailbox owner cannot create and read items in this calendar (Exchange's EffectiveRights say so)"
                                    .to_owned(),
                            );
                        }
                    }
                    (AccessMode::Delegate, Some(evaluation)) => {
                        let allows = evaluation.allows();
                        report.ready = allows.can_push() && creates_and_reads;
                        report.status = delegate_status(evaluation, report.delegation.sufficient);
                        report.detail = self.delegate_detail(evaluation, &report, rights);
                    }
                    // Without the permission set: decide from the identity's own rights.
                    (AccessMode::Delegate, None) => {
                        report.ready = creates_and_reads;
                        report.status = if report.ready {
                            CheckStatus::Ok
                        } else {
                            CheckStatus::Insufficient
                        };
                        let why = match &permission_refusal {
                            Some(refusal) => format!(
                                "the permission set could not be read ({})",
                                refusal.code.as_str()
                            ),
                            None => "impersonation is not configured, so the permission set cannot be read".to_owned(),
                        };
                        report.detail = Some(if report.ready {
                            format!(
                                "the service account can create and read items in this calendar (Exchange's createContents and read); {why}: its edit and delete rights on the items it creates could not be read, and the delegation level is unknown"
                            )
                        } else {
                            format!(
                                "the service account can open the calendar but cannot create and read items in it (createContents={}, read={}); grant {principal} {}; {why}: its edit and delete rights on its own items could not be read",
                                rights.is_some_and(|rights| rights.create_contents),
                                rights.is_some_and(|rights| rights.read),
                                settings.required
                            )
                        });
                    }
                }
            }
            Err(refusal) => {
                report.ready = false;
                let grants_nothing = evaluation
                    .as_ref()
                    .map(|evaluation| evaluation.allows().nothing());
                report.status = match refusal.kind {
                    ErrorKind::MailboxNotFound => CheckStatus::MailboxNotFound,
                    ErrorKind::ImpersonationDenied => {
                        report.impersonation = Impersonation::Denied;
                        CheckStatus::ImpersonationDenied
                    }
                    ErrorKind::MailboxUnavailable => CheckStatus::MailboxUnavailable,
                    _ => match grants_nothing {
                        Some(true) => CheckStatus::NotDelegated,
                        Some(false) if !report.delegation.sufficient => CheckStatus::Insufficient,
                        // The calendar is closed to the service account and only impersonation
                        // could tell (and fix) why: that refusal is the actionable one.
                        None if report.impersonation == Impersonation::Denied => {
                            CheckStatus::ImpersonationDenied
                        }
                        _ => CheckStatus::NoAccess,
                    },
                };
                let code = match (&report.status, &permission_refusal) {
                    (CheckStatus::ImpersonationDenied, Some(permission_refusal)) => {
                        &permission_refusal.code
                    }
                    _ => &refusal.code,
                };
                report.ews_response_code = Some(code.clone());
                report.detail = Some(match (report.status, &evaluation) {
                    (CheckStatus::MailboxNotFound, _) => "Exchange has no mailbox with this address".to_owned(),
                    (CheckStatus::ImpersonationDenied, _) => {
                        "the service account may not impersonate this mailbox; an Exchange admin must extend its ApplicationImpersonation scope".to_owned()
                    }
                    (CheckStatus::MailboxUnavailable, _) => "the mailbox is being moved or its database is down; try again later".to_owned(),
                    (CheckStatus::NotDelegated | CheckStatus::Insufficient, Some(evaluation)) => {
                        format!(
                            "{}; the service account cannot open the calendar",
                            self.level_sentence(evaluation)
                        )
                    }
                    _ => refusal
                        .message
                        .clone()
                        .unwrap_or_else(|| "the service account cannot open this calendar".to_owned()),
                });
            }
        }
        if report.status != CheckStatus::Ok && !found.unconfirmed.is_empty() {
            let sentence = format!(
                "Exchange listed the members of {} only in part (or they nest deeper than {} levels), so access through them is not counted",
                found.unconfirmed.join(", "),
                groups::MAX_DEPTH
            );
            report.detail = Some(match report.detail.take() {
                Some(detail) => format!("{detail}; {sentence}"),
                None => sentence,
            });
        }
        // Deleted accounts in the set: Exchange drops them on any rewrite, so a grant or revoke
        // would be refused (delegation::merge::lost_by_writing); say so before MyTimetable tries.
        let deleted = permissions
            .as_ref()
            .and_then(|permissions| permissions.as_ref().ok())
            .and_then(|calendar| calendar.permissions.as_ref())
            .map_or(&[][..], |set| set.unknown_entries.as_slice());
        if !deleted.is_empty() {
            let sentence = format!(
                "the calendar's permissions list {} deleted account(s) ({}), which Exchange removes whenever the set is written, so a grant or revoke is refused until an Exchange admin removes them",
                deleted.len(),
                deleted.join(", ")
            );
            report.detail = Some(match report.detail.take() {
                Some(detail) => format!("{detail}; {sentence}"),
                None => sentence,
            });
        }
        if report.ews_response_code.is_none() {
            if let Some(refusal) = permission_refusal {
                report.ews_response_code = Some(refusal.code.clone());
                if report.detail.is_none() {
                    report.detail = Some(format!(
                        "the permission set could not be read ({}); the delegation level is unknown",
                        refusal.code.as_str()
                    ));
                }
            }
        }
        report
    }

    /// "{principal} holds {level} ({route}), which allows {rights}" and, where it falls short of
    /// the required level, what to grant.
    fn level_sentence(&self, evaluation: &Evaluation) -> String {
        let settings = &self.settings;
        let principal = settings.principal.as_str();
        let allows = evaluation.allows();
        let route = match &evaluation.applied {
            Applied::Own => "its own entry".to_owned(),
            Applied::Groups(groups) => format!("through the group {}", groups.join(", ")),
            Applied::Default => "through the calendar's Default entry".to_owned(),
            Applied::Nothing => "no entry applies".to_owned(),
        };
        if allows.nothing() {
            return match evaluation.applied {
                Applied::Nothing => format!(
                    "{principal} has no permission on this calendar (no own entry and no Default entry); grant it {}",
                    settings.required
                ),
                _ => format!(
                    "{principal} has no permission on this calendar beyond free/busy ({} {route}); grant it {}",
                    evaluation.level, settings.required
                ),
            };
        }
        format!(
            "{principal} holds {} ({route}), which allows {}",
            evaluation.level,
            allows.describe()
        )
    }

    /// The `detail` of a delegate-mode check whose calendar opened; `None` when all is well.
    fn delegate_detail(
        &self,
        evaluation: &Evaluation,
        report: &CheckReport,
        rights: Option<EffectiveRights>,
    ) -> Option<String> {
        let settings = &self.settings;
        let principal = settings.principal.as_str();
        let allows = evaluation.allows();
        let sentence = self.level_sentence(evaluation);
        if allows.nothing() {
            return Some(sentence);
        }
        let creates_and_reads = rights.is_some_and(|rights| rights.can_create_and_read());
        if allows.can_push() && !creates_and_reads {
            return Some(format!(
                "{sentence}, but Exchange says the service account {} cannot create and read items in this calendar (createContents={}, read={}): it must be {principal} or a member of it",
                report.service_account,
                rights.is_some_and(|rights| rights.create_contents),
                rights.is_some_and(|rights| rights.read),
            ));
        }
        let required = settings.required;
        match (report.delegation.sufficient, report.ready) {
            (true, true) => None,
            (true, false) => Some(format!(
                "{sentence}: that is the required {required}, but a push needs create, read, edit own and delete own; require a level that grants them"
            )),
            (false, true) => Some(format!(
                "{sentence}: enough to push and change its own events (ready), but below the required {required}; grant {principal} {required}"
            )),
            (false, false) => Some(format!(
                "{sentence}: a push needs create, read, edit own and delete own; grant {principal} {required}"
            )),
        }
    }

    /// Opens the calendar; a refusal about the mailbox is returned as a value.
    async fn get_calendar(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        with_permissions: bool,
    ) -> Result<Result<Calendar, Refusal>, Error> {
        match self
            .backend
            .open_calendar(mailbox, who, with_permissions)
            .await
        {
            Ok(calendar) => Ok(Ok(calendar)),
            Err(backend::Error::Refused {
                kind,
                code,
                message,
            }) if backend::is_about_the_mailbox(kind) => Ok(Err(Refusal {
                kind,
                code,
                message,
            })),
            // Graph's refusals about the mailbox (`ErrorAccessDenied`, an unknown user,
            // `MailboxNotEnabledForRESTAPI`): the code is `graphErrorCode`.
            Err(error @ backend::Error::Graph(_)) => match graph_refusal(&error) {
                Some(refusal) => Ok(Err(refusal)),
                None => Err(error.into()),
            },
            Err(error) => Err(error.into()),
        }
    }
}

/// A Graph error answer about the mailbox as a refusal: its `error.code` becomes the report's
/// `graphErrorCode`.
fn graph_refusal(error: &backend::Error) -> Option<Refusal> {
    let backend::Error::Graph(crate::graph::Error::Graph { code, message, .. }) = error else {
        return None;
    };
    let kind = error
        .refusal_kind()
        .filter(|kind| backend::is_about_the_mailbox(*kind))?;
    Some(Refusal {
        kind,
        code: code.clone(),
        message: Some(message.clone()).filter(|message| !message.is_empty()),
    })
}

/// The status of a delegate-mode check from the evaluation: `not_delegated` where what applies
/// grants nothing beyond free/busy (or nothing applies), else `ok` when the applying rights cover
/// the required level's, else `insufficient`.
fn delegate_status(evaluation: &Evaluation, sufficient: bool) -> CheckStatus {
    if evaluation.allows().nothing() {
        CheckStatus::NotDelegated
    } else if sufficient {
        CheckStatus::Ok
    } else {
        CheckStatus::Insufficient
    }
}

/// The entries of a permission set worth an ExpandDL for `principal`: none where the principal
/// has an entry of its own (it decides); else every entry of a directory address other than the
/// principal whose rights cover `required`, and, where the `Default` entry covers `required`,
/// every such entry whatever its rights (a group the principal belongs to would override
/// `Default`, downwards too).
fn candidate_groups(
    permissions: &[PermissionEntry],
    principal: &str,
    required: &Rights,
) -> Vec<String> {
    if permissions
        .iter()
        .any(|entry| entry_matches(entry, principal))
    {
        return Vec::new();
    }
    let default_covers = permissions.iter().any(|entry| {
        entry.grantee.distinguished_user == Some(DistinguishedUser::Default)
            && evaluate::rights_of(entry).covers(required)
    });
    let mut candidates: Vec<String> = Vec::new();
    for entry in permissions {
        if entry.grantee.distinguished_user.is_some() {
            continue;
        }
        let Some(address) = entry.grantee.primary_smtp_address.as_deref() else {
            continue;
        };
        let covers = evaluate::rights_of(entry).covers(required);
        if (covers || default_covers)
            && !candidates
                .iter()
                .any(|known| known.eq_ignore_ascii_case(address))
        {
            candidates.push(address.to_owned());
        }
    }
    candidates
}

/// Whether a permission entry belongs to `principal` (a user or a mail-enabled group), by primary
/// SMTP address, case-insensitively.
fn entry_matches(entry: &PermissionEntry, principal: &str) -> bool {
    entry
        .grantee
        .primary_smtp_address
        .as_deref()
        .is_some_and(|address| address.eq_ignore_ascii_case(principal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PermissionLevel as L;
    use crate::domain::permissions::Grantee;

    const PRINCIPAL: &str = "push@uni.example";

    fn entry(smtp: &str, level: L) -> PermissionEntry {
        PermissionEntry::with_level(Grantee::smtp(smtp), level)
    }

    fn default(level: L) -> PermissionEntry {
        PermissionEntry::with_level(Grantee::distinguished(DistinguishedUser::Default), level)
    }

    fn editor() -> Rights {
        PermissionLevel::Editor.rights().unwrap()
    }

    #[test]
    fn only_entries_that_could_decide_are_candidates() {
        let set = [
            default(L::FreeBusyTimeOnly),
            entry("editors@uni.example", L::Editor),
            entry("owners@uni.example", L::Owner),
            entry("reviewers@uni.example", L::Reviewer),
            entry("authors@uni.example", L::Author),
            entry("EDITORS@uni.example", L::Editor),
        ];
        assert_eq!(
            candidate_groups(&set, PRINCIPAL, &editor()),
            ["editors@uni.example", "owners@uni.example"]
        );
        // With Author required, Author and above could decide.
        assert_eq!(
            candidate_groups(&set, PRINCIPAL, &PermissionLevel::Author.rights().unwrap()),
            [
                "editors@uni.example",
                "owners@uni.example",
                "authors@uni.example"
            ]
        );
    }

    #[test]
    fn an_own_entry_decides_alone_and_a_sufficient_default_makes_every_entry_a_candidate() {
        let own = [
            entry("editors@uni.example", L::Editor),
            entry("PUSH@uni.example", L::Reviewer),
        ];
        assert!(candidate_groups(&own, PRINCIPAL, &editor()).is_empty());
        // Default would make the principal an Editor, unless a group it is in says otherwise.
        let open = [
            default(L::Editor),
            entry("reviewers@uni.example", L::Reviewer),
            entry("none@uni.example", L::None),
        ];
        assert_eq!(
            candidate_groups(&open, PRINCIPAL, &editor()),
            ["reviewers@uni.example", "none@uni.example"]
        );
        assert!(candidate_groups(&[default(L::FreeBusyTimeOnly)], PRINCIPAL, &editor()).is_empty());
    }
}
