//! `backend`: the seam between the domain rooms (`delegation`, `push`) and the API that reaches a
//! mailbox's calendar. [`CalendarBackend`] is what the domain needs of a calendar, in the
//! domain's words (`crate::domain`); `ews` is its first implementation (EWS through
//! `exchange`), `memory` an in-memory one for the domain rooms' unit tests.
//!
//! Invariants:
//! - the trait's types are the domain's: permission sets, versions, rights, group members; no
//!   XML or protocol type crosses it, so a second implementation (Microsoft Graph) needs no
//!   change in `delegation`;
//! - every answer the domain builds names the backend that served it ([`CalendarBackend::name`],
//!   `backend` in API.md);
//! - a backend does one protocol request per method call (retries inside `exchange` aside), so
//!   the request counts the tests assert are the domain's choices, not the backend's; the two
//!   reads of the event half are the exception the protocol forces: a window is read whole
//!   (split while a view is full or over the find-count budget) and a lookup reads every page;
//! - the event half returns only the connector's items (our `ExternalId` property, see
//!   `domain::events`); a user's own item is never read beyond the view, changed or deleted.
//!
//! See ARCHITECTURE.md (`src/backend/`) for the arrows.

pub mod ews;
pub mod graph;
#[cfg(test)]
pub mod memory;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use crate::domain::Mailbox;
use crate::domain::event::Event;
use crate::domain::events::{
    CurrentEvent, DeleteType, EventChange, FoundEvent, ItemHandle, OurItem, Window,
};
use crate::domain::level::PermissionLevel;
use crate::domain::permissions::{EffectiveRights, PermissionSet, Version};
/// The kinds of refusal ([`Error::Refused`]): the backends share EWS's table.
pub use crate::ews::ErrorKind;

/// One answer per item of a batched call, in the order asked; the outer `Err` is a failure of
/// the call as a whole.
pub type PerItem<T> = Vec<Result<T, Error>>;

/// A boxed future, so that the trait can be used as `dyn CalendarBackend`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who opens a calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenAs {
    /// The mailbox owner (EWS: impersonation).
    Owner,
    /// The service account that serves the mailbox, with its own rights on the calendar.
    ServiceAccount,
}

/// A calendar as opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// The version the permission set was read at (with it).
    pub version: Version,
    /// What the identity that opened the calendar may do on it, where the backend said.
    pub effective_rights: Option<EffectiveRights>,
    /// The whole permission set, where it was asked for and sent.
    pub permissions: Option<PermissionSet>,
}

/// How a permission write ended, short of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Yes,
    /// The set changed after the read its version came from (EWS `ErrorIrresolvableConflict`).
    StaleVersion,
}

/// The direct members of an address, or that it is no group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expansion {
    /// A list with these direct members (lower-cased SMTP addresses); `complete` is false when
    /// the backend returned only part of it.
    Group {
        users: BTreeSet<String>,
        groups: BTreeSet<String>,
        complete: bool,
    },
    /// Not a list: a user, or an address the directory does not know.
    NotAGroup,
}

/// What the backend learned about a mailbox's identity during one domain call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityNotes {
    /// (the address asked for, its primary SMTP address) for each alias followed.
    pub followed: Vec<(String, String)>,
    /// The id of a mailbox the directory knows but this backend does not hold (EWS
    /// `MailboxGuid` with `ErrorNonExistentMailbox`: moved to Exchange Online).
    pub mailbox_guid: Option<String>,
}

impl IdentityNotes {
    /// The primary SMTP address that `mailbox` was followed to, if it was.
    pub fn primary_of(&self, mailbox: &str) -> Option<&str> {
        self.followed
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(mailbox))
            .map(|(_, primary)| primary.as_str())
    }
}

/// Why a backend call failed: the one vocabulary of backend failures, which `delegation::Error`
/// and `push::Error` hold whole (`Backend`) and `api::problem` maps to problems in one place. A
/// second backend adds its own failure as one variant here (and one arm in `api::problem`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend as a whole failed (credentials, network, throttling, an unreadable answer).
    #[error(transparent)]
    Exchange(#[from] crate::exchange::Error),
    /// The backend refused the operation on this mailbox or item.
    #[error("exchange refused the operation with {code}")]
    Refused {
        kind: ErrorKind,
        code: String,
        message: Option<String>,
    },
    /// The answer lacks something it must hold.
    #[error("exchange's answer lacks {0}")]
    Incomplete(&'static str),
    /// Microsoft Graph failed or refused (its `error.code` is API.md's `graphErrorCode`).
    #[error(transparent)]
    Graph(crate::graph::Error),
}

impl Error {
    /// Whether the call may or may not have taken effect (an answer lost after the request was
    /// sent): a write is then looked up before it is sent again.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Exchange(error) => error.outcome_unknown(),
            Error::Graph(error) => error.outcome_unknown(),
            _ => false,
        }
    }

    /// The kind of refusal, where the backend refused about the mailbox or item rather than
    /// failing as a whole: EWS's [`Error::Refused`], or a Graph error answer whose code maps to
    /// one (`graph::error::kind_of`: `ErrorAccessDenied` is `AccessDenied`,
    /// `MailboxNotEnabledForRESTAPI` and an unknown user are `MailboxNotFound`).
    pub fn refusal_kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Refused { kind, .. } => Some(*kind),
            Error::Graph(error) => match error.kind() {
                crate::exchange::FailureKind::Code(kind) => Some(kind),
                _ => None,
            },
            Error::Exchange(_) | Error::Incomplete(_) => None,
        }
    }

    /// The backend's own response code behind the failure, where it sent one (EWS
    /// `ResponseCode`, Graph `error.code`): for audit records and problems.
    pub fn response_code(&self) -> Option<String> {
        match self {
            Error::Exchange(error) => error.response_code().map(|code| code.as_str().to_owned()),
            Error::Refused { code, .. } => Some(code.clone()),
            Error::Incomplete(_) => None,
            Error::Graph(error) => error.graph_error_code().map(str::to_owned),
        }
    }
}

/// Whether a refusal says something definite about the mailbox (so a check reports it rather
/// than failing).
pub fn is_about_the_mailbox(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::MailboxNotFound
            | ErrorKind::ImpersonationDenied
            | ErrorKind::MailboxUnavailable
            | ErrorKind::AccessDenied
            | ErrorKind::NotFound
    )
}

/// What the domain rooms need of a mailbox's calendar.
pub trait CalendarBackend: Send + Sync {
    /// The backend's name in answers and audit records (`backend` in API.md): `"ews"`.
    fn name(&self) -> &'static str;

    /// The SMTP address of the service account that serves `mailbox`.
    fn service_account(&self, mailbox: &Mailbox) -> String;

    /// Every service account's SMTP address.
    fn service_accounts(&self) -> Vec<String>;

    /// Opens `mailbox`'s calendar as `who` with its rights, and with the whole permission set
    /// when `with_permissions` (which needs the owner's rights). One request.
    fn open_calendar<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        with_permissions: bool,
    ) -> BoxFuture<'a, Result<Calendar, Error>>;

    /// Reads the calendar's version and whole permission set, as the owner (no rights). One
    /// request.
    fn read_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
    ) -> BoxFuture<'a, Result<Calendar, Error>>;

    /// Writes the whole set with the version of the read it was computed from; `read` is the
    /// set as that read returned it (a backend that writes entry by entry writes only the
    /// entries that differ). One request on EWS; on Graph one per changed entry, none when
    /// `set` equals `read`.
    fn write_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        version: Version,
        read: &'a PermissionSet,
        set: PermissionSet,
    ) -> BoxFuture<'a, Result<Written, Error>>;

    /// The levels a grant may write through this backend (Graph has no role for `Author` and
    /// the like); the domain refuses the others with `invalid_level` before any request.
    fn writable_levels(&self) -> &'static [PermissionLevel] {
        &PermissionLevel::ALL
    }

    /// The most items one request of the event half's batched writes carries (Graph: 20 parts
    /// per `$batch`; EWS: no such limit, 1). `push` rounds `push.batch_size` up to a multiple
    /// of it, so no request goes out part-full.
    fn batch_parts(&self) -> usize {
        1
    }

    /// The direct members of `address`, asked as the service account of `anchor` (a mailbox the
    /// call is routed by). One request.
    fn expand_group<'a>(
        &'a self,
        address: &'a str,
        anchor: &'a str,
    ) -> BoxFuture<'a, Result<Expansion, Error>>;

    /// Runs `work` and returns what the backend learned about mailbox identities while it ran
    /// (aliases followed, a moved mailbox); nothing learned in one call leaks into another.
    fn with_notes<'a>(&'a self, work: BoxFuture<'a, ()>) -> BoxFuture<'a, IdentityNotes>;

    // ---- the event half: the connector's events in a calendar, opened as `who` ----------------

    /// The connector's events in `window`, read whole (a view holds at most `view_max_entries`
    /// items; a fuller one is split), each once; the user's own items are left out unread.
    fn find_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        window: Window,
        view_max_entries: u32,
    ) -> BoxFuture<'a, Result<Vec<FoundEvent>, Error>>;

    /// The connector's items anywhere in the calendar whose external id is one of `ids` (every
    /// page read).
    fn find_by_external_ids<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        ids: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<OurItem>, Error>>;

    /// Creates one item per event, with our two properties. One request; one result per event.
    fn create_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>>;

    /// Reads items whole, with the version to update them with. One request; one result per
    /// item (an item that is not ours is `Incomplete`).
    fn read_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        items: &'a [ItemHandle],
    ) -> BoxFuture<'a, Result<PerItem<CurrentEvent>, Error>>;

    /// Writes the changed fields of each item, refused as `ErrorKind::Conflict` for an item whose
    /// version is stale (never overwritten). One request; one result per change.
    fn update_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        changes: Vec<EventChange>,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>>;

    /// Deletes items as `delete_type` says; an item already gone counts as deleted. One request;
    /// one result per item.
    fn delete_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        items: &'a [ItemHandle],
        delete_type: DeleteType,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>>;
}
