//! `delegation`: the domain of calendar delegation: check whether the push account can write a
//! user's calendar, and why not.
//!
//! Invariants:
//! - no XML, no HTTP types, no serde: this room speaks in `Mailbox`, `PermissionLevel`,
//!   `CheckReport`, and reaches Exchange only through `exchange`;
//! - a definite answer about the mailbox (no such mailbox, impersonation denied, no access,
//!   being moved) is a report, not an error; an [`Error`] means the connector or Exchange as a
//!   whole failed;
//! - grant and revoke (`change`) change only the principal's permission entry and keep every
//!   other entry exactly as read (the pure rule is in `merge`); they write with the `ChangeKey`
//!   of their read, one at a time per mailbox in this process, and never without an audit trail.
//!
//! Layout: `batch` (one call per mailbox of a list, results as they complete), `change` (grant
//! and revoke), `merge` (the pure permission-set rule).
//! Entry types: [`Delegation`], [`Settings`], [`Mailbox`], [`CheckReport`], [`GrantRequest`],
//! [`RevokeRequest`], [`ChangeOutcome`], [`Error`].

pub mod batch;
mod change;
mod identity;
mod level;
pub mod lock;
mod mailbox;
pub mod merge;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use self::change::{Actor, ChangeOutcome, GrantRequest, RevokeRequest};
pub use self::level::{PermissionLevel, ReadScope, Rights, Scope, UnknownLevel};
pub use self::mailbox::{InvalidMailbox, Mailbox};
use crate::audit::AuditLog;
use crate::ews::ops::get_folder::{
    BaseShape, DistinguishedFolderName, Folder, FolderField, FolderIdRef, FolderShape, GetFolder,
};
use crate::ews::types::{CalendarPermission, CalendarPermissionReadAccess, PermissionAction};
use crate::ews::{ErrorKind, ResponseCode};
use crate::exchange::{self, ActAs, Exchange};

/// How calendars are reached for checks and pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    Delegate,
    Impersonation,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::Delegate => "delegate",
            AccessMode::Impersonation => "impersonation",
        }
    }
}

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

/// Exchange's `EffectiveRights` of the pushing identity on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveRights {
    pub read: bool,
    pub create_contents: bool,
    pub modify: bool,
    pub delete: bool,
}

impl EffectiveRights {
    /// Whether items can be created, changed and deleted: what a push needs.
    pub fn can_push(&self) -> bool {
        self.create_contents && self.modify && self.delete
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
}

/// The answer to "can MyTimetable push to this calendar now, and if not, why".
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub mailbox: Mailbox,
    pub ready: bool,
    pub status: CheckStatus,
    pub access_mode: AccessMode,
    pub delegation: DelegationState,
    pub effective_rights: Option<EffectiveRights>,
    pub impersonation: Impersonation,
    /// The SMTP address of the service account that serves this mailbox.
    pub service_account: String,
    /// The Exchange response code behind a status other than `ok`.
    pub ews_response_code: Option<String>,
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
    #[error(transparent)]
    Exchange(#[from] exchange::Error),
    /// Exchange said something about this mailbox that the connector cannot act on.
    #[error("exchange refused the operation with {code}")]
    Refused {
        kind: ErrorKind,
        code: String,
        message: Option<String>,
    },
    #[error("exchange's answer lacks {0}")]
    Incomplete(&'static str),
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
    /// The write succeeded but the re-read does not show it.
    #[error("exchange accepted the change but the re-read does not show it")]
    NotConfirmed,
    /// The audit record could not be written; for a change, Exchange was not written either.
    #[error("the audit trail cannot be written")]
    Audit(#[source] std::io::Error),
}

/// Check, grant and revoke calendar delegation.
pub struct Delegation {
    exchange: Arc<Exchange>,
    settings: Settings,
    /// Where grants and revokes are recorded; `None` for a read-only user such as `check`, for
    /// which any change is refused.
    audit: Option<Arc<AuditLog>>,
    /// One async lock per mailbox, so that two grants or revokes for one calendar in this
    /// process never interleave their read-merge-write.
    write_locks: lock::MailboxLocks,
}

/// An Exchange refusal that says something definite about the mailbox.
#[derive(Debug, Clone)]
struct Refusal {
    kind: ErrorKind,
    code: ResponseCode,
    message: Option<String>,
}

impl Refusal {
    fn is_about_the_mailbox(kind: ErrorKind) -> bool {
        matches!(
            kind,
            ErrorKind::MailboxNotFound
                | ErrorKind::ImpersonationDenied
                | ErrorKind::MailboxUnavailable
                | ErrorKind::AccessDenied
                | ErrorKind::NotFound
        )
    }
}

impl Delegation {
    pub fn new(
        exchange: Arc<Exchange>,
        settings: Settings,
        audit: Option<Arc<AuditLog>>,
    ) -> Delegation {
        Delegation {
            exchange,
            settings,
            audit,
            write_locks: lock::MailboxLocks::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The check itself; [`Delegation::check`] adds what Exchange said about the mailbox's
    /// identity (`identity`).
    #[tracing::instrument(skip(self), fields(mailbox = %mailbox))]
    async fn check_calendar(&self, mailbox: &Mailbox) -> Result<CheckReport, Error> {
        let settings = &self.settings;
        let service_account = self.exchange.account_for(mailbox.as_str()).smtp.clone();
        let mut report = CheckReport {
            mailbox: mailbox.clone(),
            ready: false,
            status: CheckStatus::Ok,
            access_mode: settings.access,
            delegation: DelegationState {
                principal: settings.principal.clone(),
                level: None,
                required: settings.required,
                sufficient: false,
            },
            effective_rights: None,
            impersonation: if settings.impersonation {
                Impersonation::Allowed
            } else {
                Impersonation::NotConfigured
            },
            service_account,
            ews_response_code: None,
            detail: None,
            checked_at: Utc::now(),
            primary_smtp_address: None,
            mailbox_guid: None,
        };

        // 1. Open the calendar the way pushes will: as the owner or as the service account.
        let act_as = match settings.access {
            AccessMode::Impersonation => ActAs::Owner(mailbox.as_str()),
            AccessMode::Delegate => ActAs::ServiceAccount(mailbox.as_str()),
        };
        let opened = self
            .get_calendar(act_as, settings.access == AccessMode::Impersonation)
            .await?;

        // 2. Where impersonation is configured, read the permission set as the owner (in
        //    impersonation mode the first call already did).
        let permissions = if !settings.impersonation {
            None
        } else if settings.access == AccessMode::Impersonation {
            Some(opened.clone())
        } else {
            Some(
                self.get_calendar(ActAs::Owner(mailbox.as_str()), true)
                    .await?,
            )
        };
        report = self.finish(report, opened, permissions);
        Ok(report)
    }

    fn finish(
        &self,
        mut report: CheckReport,
        opened: Result<Folder, Refusal>,
        permissions: Option<Result<Folder, Refusal>>,
    ) -> CheckReport {
        let required_rights = self.settings.required.rights().unwrap_or(Rights {
            create_items: true,
            create_subfolders: false,
            folder_owner: false,
            folder_visible: true,
            folder_contact: false,
            edit_items: Scope::All,
            delete_items: Scope::All,
            read_items: ReadScope::FullDetails,
        });

        // The principal's entry, where the permission set could be read.
        let mut permission_refusal = None;
        if let Some(permissions) = &permissions {
            match permissions {
                Ok(folder) => {
                    let entry = folder.permission_set.as_ref().and_then(|set| {
                        set.calendar_permissions
                            .iter()
                            .find(|entry| entry_matches(entry, &self.settings.principal))
                    });
                    let (level, rights) = match entry {
                        Some(entry) => (level_of(entry), rights_of(entry)),
                        None => (PermissionLevel::None, PermissionLevel::None.rights()),
                    };
                    report.delegation.level = Some(level);
                    report.delegation.sufficient =
                        rights.is_some_and(|rights| rights.covers(&required_rights));
                }
                Err(refusal) => {
                    if refusal.kind == ErrorKind::ImpersonationDenied {
                        report.impersonation = Impersonation::Denied;
                    }
                    permission_refusal = Some(refusal.clone());
                }
            }
        }

        match opened {
            Ok(folder) => {
                let rights = folder.effective_rights.map(|rights| EffectiveRights {
                    read: rights.read,
                    create_contents: rights.create_contents,
                    modify: rights.modify,
                    delete: rights.delete,
                });
                report.effective_rights = rights;
                report.ready = rights.is_some_and(|rights| rights.can_push());
                report.status = if report.ready {
                    CheckStatus::Ok
                } else {
                    match report.delegation.level {
                        Some(PermissionLevel::None) => CheckStatus::NotDelegated,
                        _ => CheckStatus::Insufficient,
                    }
                };
                if !report.ready {
                    report.detail = Some(format!(
                        "the service account can open the calendar but cannot create, change and delete items in it; grant {} {}",
                        self.settings.principal, self.settings.required
                    ));
                }
            }
            Err(refusal) => {
                report.ready = false;
                report.status = match refusal.kind {
                    ErrorKind::MailboxNotFound => CheckStatus::MailboxNotFound,
                    ErrorKind::ImpersonationDenied => {
                        report.impersonation = Impersonation::Denied;
                        CheckStatus::ImpersonationDenied
                    }
                    ErrorKind::MailboxUnavailable => CheckStatus::MailboxUnavailable,
                    _ => match report.delegation.level {
                        Some(PermissionLevel::None) => CheckStatus::NotDelegated,
                        Some(_) if !report.delegation.sufficient => CheckStatus::Insufficient,
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
                report.ews_response_code = Some(code.as_str().to_owned());
                report.detail = Some(match report.status {
                    CheckStatus::MailboxNotFound => "Exchange has no mailbox with this address".to_owned(),
                    CheckStatus::ImpersonationDenied => {
                        "the service account may not impersonate this mailbox; an Exchange admin must extend its ApplicationImpersonation scope".to_owned()
                    }
                    CheckStatus::MailboxUnavailable => "the mailbox is being moved or its database is down; try again later".to_owned(),
                    CheckStatus::NotDelegated => format!(
                        "{} has no permission on this calendar; grant it {}",
                        self.settings.principal, self.settings.required
                    ),
                    CheckStatus::Insufficient => format!(
                        "{} holds a level below {} on this calendar",
                        self.settings.principal, self.settings.required
                    ),
                    _ => refusal
                        .message
                        .clone()
                        .unwrap_or_else(|| "the service account cannot open this calendar".to_owned()),
                });
            }
        }
        if report.ews_response_code.is_none() {
            if let Some(refusal) = permission_refusal {
                report.ews_response_code = Some(refusal.code.as_str().to_owned());
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

    /// Opens the calendar; a refusal about the mailbox is returned as a value.
    async fn get_calendar(
        &self,
        act_as: ActAs<'_>,
        with_permissions: bool,
    ) -> Result<Result<Folder, Refusal>, Error> {
        let mut additional_properties = vec![FolderField::EffectiveRights];
        if with_permissions {
            additional_properties.push(FolderField::PermissionSet);
        }
        let mailbox_in_id = match act_as {
            ActAs::Owner(_) => None,
            ActAs::ServiceAccount(mailbox) => Some(mailbox.to_owned()),
        };
        let operation = GetFolder {
            folder_shape: FolderShape {
                base_shape: BaseShape::IdOnly,
                additional_properties,
            },
            folder_ids: vec![FolderIdRef::Distinguished {
                id: DistinguishedFolderName::Calendar,
                mailbox: mailbox_in_id,
            }],
        };
        match self.exchange.call(act_as, &operation).await {
            Ok(answer) => match answer.response.into_iter().next() {
                Some(Ok(folder)) => Ok(Ok(folder)),
                Some(Err(error)) => {
                    let code = error.effective_code().clone();
                    let kind = code.kind();
                    if Refusal::is_about_the_mailbox(kind) {
                        Ok(Err(Refusal {
                            kind,
                            code,
                            message: error.message_text,
                        }))
                    } else {
                        Err(Error::Refused {
                            kind,
                            code: code.as_str().to_owned(),
                            message: error.message_text,
                        })
                    }
                }
                None => Err(Error::Incomplete("a GetFolder response message")),
            },
            Err(exchange::Error::Fault(fault))
                if Refusal::is_about_the_mailbox(fault.response_code.kind()) =>
            {
                Ok(Err(Refusal {
                    kind: fault.response_code.kind(),
                    code: fault.response_code.clone(),
                    message: Some(fault.message.clone()),
                }))
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// Whether a permission entry belongs to `principal` (a user or a mail-enabled group), by primary
/// SMTP address, case-insensitively.
fn entry_matches(entry: &CalendarPermission, principal: &str) -> bool {
    entry
        .user_id
        .primary_smtp_address
        .as_deref()
        .is_some_and(|address| address.eq_ignore_ascii_case(principal))
}

fn level_of(entry: &CalendarPermission) -> PermissionLevel {
    entry
        .calendar_permission_level
        .as_str()
        .parse()
        .unwrap_or(PermissionLevel::Custom)
}

/// The rights of an entry: its named level's, or for `Custom` its flags (absent flags count as
/// not granted).
fn rights_of(entry: &CalendarPermission) -> Option<Rights> {
    let level = level_of(entry);
    if let Some(rights) = level.rights() {
        return Some(rights);
    }
    let scope = |action: Option<PermissionAction>| match action {
        Some(PermissionAction::All) => Scope::All,
        Some(PermissionAction::Owned) => Scope::Owned,
        _ => Scope::Nothing,
    };
    let read = match entry.read_items {
        Some(CalendarPermissionReadAccess::FullDetails) => ReadScope::FullDetails,
        Some(CalendarPermissionReadAccess::TimeAndSubjectAndLocation) => {
            ReadScope::TimeAndSubjectAndLocation
        }
        Some(CalendarPermissionReadAccess::TimeOnly) => ReadScope::TimeOnly,
        _ => ReadScope::None,
    };
    Some(Rights {
        create_items: entry.can_create_items.unwrap_or(false),
        create_subfolders: entry.can_create_sub_folders.unwrap_or(false),
        folder_owner: entry.is_folder_owner.unwrap_or(false),
        folder_visible: entry.is_folder_visible.unwrap_or(false),
        folder_contact: entry.is_folder_contact.unwrap_or(false),
        edit_items: scope(entry.edit_items),
        delete_items: scope(entry.delete_items),
        read_items: read,
    })
}
