//! A calendar's permission set in the domain's words: what a backend reads and writes, and what
//! `delegation` evaluates and merges.
//!
//! Invariants:
//! - an entry keeps every field the backend sent (identifiers, flags, level), so a set read and
//!   written back unchanged is the same set: the merge rule (`delegation::merge`) keeps every
//!   entry but the principal's exactly as read, and the backend's conversion is lossless both
//!   ways (tested in `backend::ews`);
//! - `unknown_entries` are read only: entries of deleted accounts that the backend cannot write
//!   back (EWS deletes them on any rewrite of the set).
//!
//! Entry types: [`PermissionSet`], [`PermissionEntry`], [`Grantee`], [`DistinguishedUser`],
//! [`EffectiveRights`], [`Version`].

use crate::domain::level::{PermissionLevel, ReadScope, Scope};

/// The two pseudo-users of every calendar ACL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DistinguishedUser {
    /// Every authenticated user of the organization without an entry of their own.
    Default,
    /// Unauthenticated (external) users.
    Anonymous,
}

/// Who a permission entry is for, with every identifier the backend sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Grantee {
    /// A security identifier (`S-1-5-21-…`); the best identity when present.
    pub sid: Option<String>,
    /// The primary SMTP address; compare case-insensitively.
    pub primary_smtp_address: Option<String>,
    /// Informational, never an identity.
    pub display_name: Option<String>,
    /// Set for the `Default` and `Anonymous` entries only.
    pub distinguished_user: Option<DistinguishedUser>,
    /// A cross-organization identity; kept for an entry that has no other identifier.
    pub external_user_identity: Option<String>,
    /// The backend's own id of the entry, where it addresses entries one by one (Graph's
    /// `calendarPermission` id); never an identity, never written as part of the grantee.
    pub backend_id: Option<String>,
}

impl Grantee {
    /// A user or group by primary SMTP address.
    pub fn smtp(address: &str) -> Grantee {
        Grantee {
            primary_smtp_address: Some(address.to_owned()),
            ..Grantee::default()
        }
    }

    /// `Default` or `Anonymous`.
    pub fn distinguished(user: DistinguishedUser) -> Grantee {
        Grantee {
            distinguished_user: Some(user),
            ..Grantee::default()
        }
    }
}

/// One entry of a calendar's permission set: a named level, or `Custom` with its flags (absent
/// flags are kept absent).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PermissionEntry {
    pub grantee: Grantee,
    pub can_create_items: Option<bool>,
    pub can_create_sub_folders: Option<bool>,
    pub is_folder_owner: Option<bool>,
    pub is_folder_visible: Option<bool>,
    pub is_folder_contact: Option<bool>,
    pub edit_items: Option<Scope>,
    pub delete_items: Option<Scope>,
    pub read_items: Option<ReadScope>,
    /// The named level; for `Custom` the flags are the truth.
    pub level: PermissionLevel,
}

impl PermissionEntry {
    /// An entry with a named level and no flags (what a grant writes).
    pub fn with_level(grantee: Grantee, level: PermissionLevel) -> PermissionEntry {
        PermissionEntry {
            grantee,
            can_create_items: None,
            can_create_sub_folders: None,
            is_folder_owner: None,
            is_folder_visible: None,
            is_folder_contact: None,
            edit_items: None,
            delete_items: None,
            read_items: None,
            level,
        }
    }
}

/// A calendar's whole permission set, entries in the order the backend sent them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PermissionSet {
    pub entries: Vec<PermissionEntry>,
    /// Entries of deleted accounts that no longer resolve (EWS `UnknownEntries`): read only.
    pub unknown_entries: Vec<String>,
}

/// The version a permission set was read at, handed back with the write computed from it, so
/// a write over a newer set is refused (EWS: the calendar folder's id and `ChangeKey`).
/// Opaque to the domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    /// The calendar's id in the backend.
    pub id: String,
    /// The version stamp (EWS `ChangeKey`); `None` where the backend has none.
    pub tag: Option<String>,
}

/// What the backend says the identity that opened the calendar may do on it, as sent.
///
/// `create_contents` and `read` are the identity's real rights on the calendar's items, whatever
/// route grants them (own entry, group, `Default`); `modify` and `delete` are about the folder
/// object itself (folder owners only) and say nothing about items: never use them for readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EffectiveRights {
    pub read: bool,
    pub create_contents: bool,
    pub modify: bool,
    pub delete: bool,
}

impl EffectiveRights {
    /// Whether the identity can create items and read the calendar's items.
    pub fn can_create_and_read(&self) -> bool {
        self.create_contents && self.read
    }
}
