//! `domain`: the words `delegation` and `push` share, below both: a mailbox address
//! ([`Mailbox`]), how calendars are reached ([`AccessMode`]), the per-mailbox write locks
//! ([`lock::MailboxLocks`]), calendar permission levels and their rights (`level`), a calendar's
//! permission set as the domain reads and writes it (`permissions`), the events `push` writes
//! (`event`: validated input and its hash; `tz`: IANA to Windows zones; `events`: the calendar's
//! items as a backend reads and writes them).
//!
//! Invariants: pure data and rules, no I/O except the async locks; no XML, no HTTP, no serde, and
//! no EWS or Exchange types (a backend converts to and from these). See ARCHITECTURE.md.

pub mod event;
pub mod events;
pub mod level;
pub mod lock;
mod mailbox;
pub mod permissions;
pub mod tz;

pub use self::level::{PermissionLevel, ReadScope, Rights, Scope, UnknownLevel};
pub use self::mailbox::{InvalidMailbox, Mailbox};

/// How calendars are reached for checks and pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    Delegate,
    Impersonation,
    /// Microsoft Graph: the application acts with its own application permission
    /// (`Calendars.ReadWrite`, limited by RBAC for Applications); never configured, it is the
    /// mode of every check served by Graph (API.md `accessMode: "application"`).
    Application,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::Delegate => "delegate",
            AccessMode::Impersonation => "impersonation",
            AccessMode::Application => "application",
        }
    }
}
