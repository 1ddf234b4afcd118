//! The pure rule that says which entry of a calendar's permission set applies to an identity and
//! what it allows, the way Exchange evaluates a folder ACL.
//!
//! The order (see docs/FIDELITY.md for each source and its confidence):
//! 1. the identity's own entry, matched by primary SMTP address (case-insensitively) or by SID;
//!    when there is one, it alone decides, even where a group or `Default` would grant more;
//! 2. else the union of the entries of every group the identity belongs to (a right granted by
//!    any of them is granted);
//! 3. else the `Default` entry: in [MS-OXCPERM] 2.2.6 the reserved member id 0 ("Default user")
//!    stands for every authenticated user who has no entry of their own, and Microsoft's
//!    `DistinguishedUser` reference names `Default` and `Anonymous` as the two reserved accounts;
//! 4. else nothing applies and nothing is granted.
//!
//! `Anonymous` (member id -1 in [MS-OXCPERM] 2.2.6) is for unauthenticated users and never applies
//! to an authenticated identity such as a service account.
//! The union of groups is what the reference MAPI store Gromox (grommunio) does: its permission
//! lookup OR-s together the rows of every mailing list that contains the user. That an own entry
//! takes precedence over the groups' is ../shared/API.md's rule; docs/FIDELITY.md lists it as
//! one to verify on a real server (`ews-connector doctor --mailbox`).
//!
//! Group membership is an input: a set of group SMTP addresses the identity is known to be a
//! member of (nested groups already flattened). Finding it (EWS `ExpandDL`) is the caller's job.
//!
//! Entry types: [`evaluate`], [`Identity`], [`Evaluation`], [`Applied`], [`Allows`].

use std::collections::BTreeSet;

use crate::delegation::{PermissionLevel, ReadScope, Rights, Scope};
use crate::domain::permissions::{DistinguishedUser, PermissionEntry};

/// Who is evaluated: an SMTP address and, where known, its SID.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub smtp: &'a str,
    pub sid: Option<&'a str>,
}

/// Which entry of the permission set applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The identity's own entry.
    Own,
    /// The union of these groups' entries (primary SMTP addresses, in permission-set order).
    Groups(Vec<String>),
    /// The `Default` entry.
    Default,
    /// No entry applies (no own entry, no group entry, no `Default` entry).
    Nothing,
}

impl Applied {
    /// What `delegation.via` says: `None` for the own entry (and for nothing), a group's SMTP
    /// address (the first, where several groups applied), or `"Default"`.
    pub fn via(&self) -> Option<&str> {
        match self {
            Applied::Own | Applied::Nothing => None,
            Applied::Groups(groups) => groups.first().map(String::as_str),
            Applied::Default => Some("Default"),
        }
    }
}

/// What the applying rights allow on the calendar's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allows {
    /// Create items (`CanCreateItems`).
    pub create: bool,
    /// Read items in full (`ReadItems` = `FullDetails`).
    pub read: bool,
    /// Change the items it created (`EditItems` `Owned` or `All`).
    pub edit_own: bool,
    /// Delete the items it created (`DeleteItems` `Owned` or `All`).
    pub delete_own: bool,
    /// Change every item (`EditItems` `All`).
    pub edit_all: bool,
    /// Delete every item (`DeleteItems` `All`).
    pub delete_all: bool,
}

impl Allows {
    /// The rights a push needs in delegate mode: create items, read them, and change and delete
    /// the items it created.
    pub fn can_push(&self) -> bool {
        self.create && self.read && self.edit_own && self.delete_own
    }

    /// Whether nothing beyond free/busy is granted: no create, edit or delete, and no full read.
    pub fn nothing(&self) -> bool {
        !(self.create || self.read || self.edit_own || self.delete_own)
    }

    /// A short list for people, e.g. "create, read, edit own, delete own".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (granted, name) in [
            (self.create, "create"),
            (self.read, "read"),
            (self.edit_all, "edit all"),
            (self.edit_own && !self.edit_all, "edit own"),
            (self.delete_all, "delete all"),
            (self.delete_own && !self.delete_all, "delete own"),
        ] {
            if granted {
                parts.push(name);
            }
        }
        if parts.is_empty() {
            "nothing".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub applied: Applied,
    /// The applying level: the entry's level; for a union of groups the named level whose rights
    /// equal the union (else `Custom`); `None` when nothing applies.
    pub level: PermissionLevel,
    pub rights: Rights,
}

impl Evaluation {
    /// The calendar folder's `EffectiveRights` that Exchange computes for an identity to which
    /// this evaluation applies, as it would send them: the folder object's `PR_ACCESS`, so
    /// `read` from `ReadItems = FullDetails`, `create_contents` from `CanCreateItems`, and
    /// `modify` and `delete` (of the folder itself) for folder owners only. See
    /// docs/FIDELITY.md, "A folder's EffectiveRights". `None` where the folder is not visible to
    /// the identity (free/busy levels, nothing): Exchange would not open it at all.
    pub fn folder_access(&self) -> Option<super::EffectiveRights> {
        let rights = &self.rights;
        rights.folder_visible.then(|| super::EffectiveRights {
            read: rights.read_items == ReadScope::FullDetails,
            create_contents: rights.create_items,
            modify: rights.folder_owner,
            delete: rights.folder_owner,
        })
    }

    pub fn allows(&self) -> Allows {
        let rights = &self.rights;
        Allows {
            create: rights.create_items,
            read: rights.read_items == ReadScope::FullDetails,
            edit_own: rights.edit_items >= Scope::Owned,
            delete_own: rights.delete_items >= Scope::Owned,
            edit_all: rights.edit_items == Scope::All,
            delete_all: rights.delete_items == Scope::All,
        }
    }
}

/// Evaluates `permissions` for `identity`, a member of `groups` (lower- or mixed-case SMTP
/// addresses; compared case-insensitively). See the module documentation for the order.
pub fn evaluate(
    permissions: &[PermissionEntry],
    identity: Identity<'_>,
    groups: &BTreeSet<String>,
) -> Evaluation {
    if let Some(entry) = permissions.iter().find(|entry| is_own(entry, identity)) {
        return Evaluation {
            applied: Applied::Own,
            level: level_of(entry),
            rights: rights_of(entry),
        };
    }
    let is_member = |address: &str| {
        groups
            .iter()
            .any(|group| group.eq_ignore_ascii_case(address))
    };
    let group_entries: Vec<(&str, &PermissionEntry)> = permissions
        .iter()
        .filter(|entry| entry.grantee.distinguished_user.is_none())
        .filter_map(|entry| {
            let address = entry.grantee.primary_smtp_address.as_deref()?;
            is_member(address).then_some((address, entry))
        })
        .collect();
    if let [(address, entry)] = group_entries.as_slice() {
        return Evaluation {
            applied: Applied::Groups(vec![(*address).to_owned()]),
            level: level_of(entry),
            rights: rights_of(entry),
        };
    }
    if !group_entries.is_empty() {
        let rights = group_entries
            .iter()
            .map(|(_, entry)| rights_of(entry))
            .reduce(|left, right| union(&left, &right))
            .unwrap_or_else(nothing);
        return Evaluation {
            applied: Applied::Groups(
                group_entries
                    .iter()
                    .map(|(address, _)| (*address).to_owned())
                    .collect(),
            ),
            level: named_level(&rights),
            rights,
        };
    }
    if let Some(entry) = permissions
        .iter()
        .find(|entry| entry.grantee.distinguished_user == Some(DistinguishedUser::Default))
    {
        return Evaluation {
            applied: Applied::Default,
            level: level_of(entry),
            rights: rights_of(entry),
        };
    }
    Evaluation {
        applied: Applied::Nothing,
        level: PermissionLevel::None,
        rights: nothing(),
    }
}

/// Whether `entry` is the identity's own (never a Default or Anonymous entry).
fn is_own(entry: &PermissionEntry, identity: Identity<'_>) -> bool {
    let user = &entry.grantee;
    if user.distinguished_user.is_some() {
        return false;
    }
    let by_smtp = user
        .primary_smtp_address
        .as_deref()
        .is_some_and(|address| address.eq_ignore_ascii_case(identity.smtp));
    let by_sid = match (user.sid.as_deref(), identity.sid) {
        (Some(entry_sid), Some(sid)) => entry_sid.eq_ignore_ascii_case(sid),
        _ => false,
    };
    by_smtp || by_sid
}

/// The level an entry names.
pub(crate) fn level_of(entry: &PermissionEntry) -> PermissionLevel {
    entry.level
}

/// The rights of an entry: its named level's, or for `Custom` its flags (absent flags count as
/// not granted).
pub(crate) fn rights_of(entry: &PermissionEntry) -> Rights {
    if let Some(rights) = level_of(entry).rights() {
        return rights;
    }
    Rights {
        create_items: entry.can_create_items.unwrap_or(false),
        create_subfolders: entry.can_create_sub_folders.unwrap_or(false),
        folder_owner: entry.is_folder_owner.unwrap_or(false),
        folder_visible: entry.is_folder_visible.unwrap_or(false),
        folder_contact: entry.is_folder_contact.unwrap_or(false),
        edit_items: entry.edit_items.unwrap_or(Scope::Nothing),
        delete_items: entry.delete_items.unwrap_or(Scope::Nothing),
        read_items: entry.read_items.unwrap_or(ReadScope::None),
    }
}

fn nothing() -> Rights {
    PermissionLevel::None
        .rights()
        .expect("None is a named level")
}

fn union(left: &Rights, right: &Rights) -> Rights {
    Rights {
        create_items: left.create_items || right.create_items,
        create_subfolders: left.create_subfolders || right.create_subfolders,
        folder_owner: left.folder_owner || right.folder_owner,
        folder_visible: left.folder_visible || right.folder_visible,
        folder_contact: left.folder_contact || right.folder_contact,
        edit_items: left.edit_items.max(right.edit_items),
        delete_items: left.delete_items.max(right.delete_items),
        read_items: left.read_items.max(right.read_items),
    }
}

/// The named level whose rights are exactly `rights`, else `Custom`.
fn named_level(rights: &Rights) -> PermissionLevel {
    PermissionLevel::ALL
        .into_iter()
        .find(|level| level.rights().as_ref() == Some(rights))
        .unwrap_or(PermissionLevel::Custom)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{Allows, Applied, Identity, evaluate};
    use crate::delegation::{PermissionLevel, ReadScope, Scope};
    use crate::domain::permissions::{DistinguishedUser, Grantee, PermissionEntry};

    const ME: &str = "svc-push@uni.example";
    const ME_SID: &str = "S-1-5-21-1-2-3-1500";

    fn user(smtp: &str) -> Grantee {
        Grantee {
            primary_smtp_address: Some(smtp.to_owned()),
            ..Grantee::default()
        }
    }

    fn distinguished(which: DistinguishedUser) -> Grantee {
        Grantee {
            distinguished_user: Some(which),
            ..Grantee::default()
        }
    }

    fn entry(grantee: Grantee, level: PermissionLevel) -> PermissionEntry {
        PermissionEntry::with_level(grantee, level)
    }

    fn default(level: PermissionLevel) -> PermissionEntry {
        entry(distinguished(DistinguishedUser::Default), level)
    }

    fn anonymous(level: PermissionLevel) -> PermissionEntry {
        entry(distinguished(DistinguishedUser::Anonymous), level)
    }

    fn groups(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    fn me() -> Identity<'static> {
        Identity {
            smtp: ME,
            sid: Some(ME_SID),
        }
    }

    fn custom(
        grantee: Grantee,
        create: bool,
        edit: Scope,
        delete: Scope,
        read: ReadScope,
    ) -> PermissionEntry {
        PermissionEntry {
            grantee,
            can_create_items: Some(create),
            can_create_sub_folders: Some(false),
            is_folder_owner: Some(false),
            is_folder_visible: Some(true),
            is_folder_contact: Some(false),
            edit_items: Some(edit),
            delete_items: Some(delete),
            read_items: Some(read),
            level: PermissionLevel::Custom,
        }
    }

    const ALLOWS_EDITOR: Allows = Allows {
        create: true,
        read: true,
        edit_own: true,
        delete_own: true,
        edit_all: true,
        delete_all: true,
    };
    const ALLOWS_AUTHOR: Allows = Allows {
        create: true,
        read: true,
        edit_own: true,
        delete_own: true,
        edit_all: false,
        delete_all: false,
    };
    const ALLOWS_REVIEWER: Allows = Allows {
        create: false,
        read: true,
        edit_own: false,
        delete_own: false,
        edit_all: false,
        delete_all: false,
    };
    const ALLOWS_NOTHING: Allows = Allows {
        create: false,
        read: false,
        edit_own: false,
        delete_own: false,
        edit_all: false,
        delete_all: false,
    };

    /// Each row: the permission set, the groups the identity is a member of, and what must come
    /// out: which entry applied, its level, what it allows.
    #[test]
    fn the_own_entry_then_the_groups_then_default() {
        use PermissionLevel as L;
        type Row = (
            &'static str,
            Vec<PermissionEntry>,
            BTreeSet<String>,
            Applied,
            PermissionLevel,
            Allows,
        );
        let rows: Vec<Row> = vec![
            (
                "own Editor",
                vec![
                    default(L::FreeBusyTimeOnly),
                    anonymous(L::None),
                    entry(user(ME), L::Editor),
                ],
                groups(&[]),
                Applied::Own,
                PermissionLevel::Editor,
                ALLOWS_EDITOR,
            ),
            (
                "own entry matched case-insensitively",
                vec![entry(user("SVC-Push@UNI.example"), L::Author)],
                groups(&[]),
                Applied::Own,
                PermissionLevel::Author,
                ALLOWS_AUTHOR,
            ),
            (
                "own entry matched by SID alone",
                vec![entry(
                    Grantee {
                        sid: Some(ME_SID.to_owned()),
                        ..Grantee::default()
                    },
                    L::Editor,
                )],
                groups(&[]),
                Applied::Own,
                PermissionLevel::Editor,
                ALLOWS_EDITOR,
            ),
            (
                "own Reviewer wins over a group's Editor and Default Editor",
                vec![
                    default(L::Editor),
                    entry(user("team@uni.example"), L::Editor),
                    entry(user(ME), L::Reviewer),
                ],
                groups(&["team@uni.example"]),
                Applied::Own,
                PermissionLevel::Reviewer,
                ALLOWS_REVIEWER,
            ),
            (
                "own None wins over Default Editor: an explicit None denies",
                vec![default(L::Editor), entry(user(ME), L::None)],
                groups(&[]),
                Applied::Own,
                PermissionLevel::None,
                ALLOWS_NOTHING,
            ),
            (
                "one group's entry",
                vec![
                    default(L::FreeBusyTimeOnly),
                    entry(user("team@uni.example"), L::Editor),
                ],
                groups(&["Team@Uni.Example"]),
                Applied::Groups(vec!["team@uni.example".to_owned()]),
                PermissionLevel::Editor,
                ALLOWS_EDITOR,
            ),
            (
                "a group's None wins over Default Editor",
                vec![default(L::Editor), entry(user("team@uni.example"), L::None)],
                groups(&["team@uni.example"]),
                Applied::Groups(vec!["team@uni.example".to_owned()]),
                PermissionLevel::None,
                ALLOWS_NOTHING,
            ),
            (
                "two groups: the union of Reviewer and Contributor is Author-like but not Author",
                vec![
                    default(L::None),
                    entry(user("readers@uni.example"), L::Reviewer),
                    entry(user("writers@uni.example"), L::Contributor),
                ],
                groups(&["readers@uni.example", "writers@uni.example"]),
                Applied::Groups(vec![
                    "readers@uni.example".to_owned(),
                    "writers@uni.example".to_owned(),
                ]),
                // create + read, no edit or delete: Exchange has no named level for that.
                PermissionLevel::Custom,
                Allows {
                    create: true,
                    read: true,
                    edit_own: false,
                    delete_own: false,
                    edit_all: false,
                    delete_all: false,
                },
            ),
            (
                "two groups: Author and Editor unite to Editor",
                vec![
                    entry(user("a@uni.example"), L::Author),
                    entry(user("b@uni.example"), L::Editor),
                ],
                groups(&["a@uni.example", "b@uni.example"]),
                Applied::Groups(vec!["a@uni.example".to_owned(), "b@uni.example".to_owned()]),
                PermissionLevel::Editor,
                ALLOWS_EDITOR,
            ),
            (
                "a group the identity is not in does not apply: Default does",
                vec![
                    default(L::Reviewer),
                    entry(user("others@uni.example"), L::Editor),
                ],
                groups(&["team@uni.example"]),
                Applied::Default,
                PermissionLevel::Reviewer,
                ALLOWS_REVIEWER,
            ),
            (
                "Default Editor with no own and no group entry",
                vec![default(L::Editor), anonymous(L::None)],
                groups(&[]),
                Applied::Default,
                PermissionLevel::Editor,
                ALLOWS_EDITOR,
            ),
            (
                "Anonymous never applies to an authenticated identity",
                vec![anonymous(L::Editor)],
                groups(&[]),
                Applied::Nothing,
                PermissionLevel::None,
                ALLOWS_NOTHING,
            ),
            (
                "Anonymous Editor and Default None: Default applies",
                vec![default(L::None), anonymous(L::Editor)],
                groups(&[]),
                Applied::Default,
                PermissionLevel::None,
                ALLOWS_NOTHING,
            ),
            (
                "an empty permission set",
                vec![],
                groups(&[]),
                Applied::Nothing,
                PermissionLevel::None,
                ALLOWS_NOTHING,
            ),
            (
                "Custom: create, read, edit own, delete own",
                vec![custom(
                    user(ME),
                    true,
                    Scope::Owned,
                    Scope::Owned,
                    ReadScope::FullDetails,
                )],
                groups(&[]),
                Applied::Own,
                PermissionLevel::Custom,
                ALLOWS_AUTHOR,
            ),
            (
                "Custom: create and delete own, no edit, free/busy with subject",
                vec![custom(
                    user(ME),
                    true,
                    Scope::Nothing,
                    Scope::Owned,
                    ReadScope::TimeAndSubjectAndLocation,
                )],
                groups(&[]),
                Applied::Own,
                PermissionLevel::Custom,
                Allows {
                    create: true,
                    read: false,
                    edit_own: false,
                    delete_own: true,
                    edit_all: false,
                    delete_all: false,
                },
            ),
            (
                "Custom in a group: its flags count",
                vec![custom(
                    user("team@uni.example"),
                    false,
                    Scope::All,
                    Scope::All,
                    ReadScope::FullDetails,
                )],
                groups(&["team@uni.example"]),
                Applied::Groups(vec!["team@uni.example".to_owned()]),
                PermissionLevel::Custom,
                Allows {
                    create: false,
                    read: true,
                    edit_own: true,
                    delete_own: true,
                    edit_all: true,
                    delete_all: true,
                },
            ),
            (
                "an entry of another user is never the identity's",
                vec![entry(user("bob@uni.example"), L::Owner)],
                groups(&[]),
                Applied::Nothing,
                PermissionLevel::None,
                ALLOWS_NOTHING,
            ),
        ];
        for (name, permissions, member_of, applied, level, allows) in rows {
            let evaluation = evaluate(&permissions, me(), &member_of);
            assert_eq!(evaluation.applied, applied, "{name}: applied");
            assert_eq!(evaluation.level, level, "{name}: level");
            assert_eq!(evaluation.allows(), allows, "{name}: allows");
        }
    }

    #[test]
    fn via_names_the_route() {
        assert_eq!(Applied::Own.via(), None);
        assert_eq!(Applied::Nothing.via(), None);
        assert_eq!(Applied::Default.via(), Some("Default"));
        assert_eq!(
            Applied::Groups(vec!["a@uni.example".to_owned(), "b@uni.example".to_owned()]).via(),
            Some("a@uni.example")
        );
    }

    #[test]
    fn what_a_push_needs_and_what_counts_as_nothing() {
        assert!(ALLOWS_EDITOR.can_push());
        assert!(ALLOWS_AUTHOR.can_push());
        assert!(!ALLOWS_REVIEWER.can_push());
        assert!(!ALLOWS_REVIEWER.nothing());
        assert!(ALLOWS_NOTHING.nothing());
        // NoneditingAuthor may not change what it created: a push that updates cannot work.
        let noneditingauthor = evaluate(
            &[entry(user(ME), PermissionLevel::NoneditingAuthor)],
            me(),
            &groups(&[]),
        );
        assert!(!noneditingauthor.allows().can_push());
        // Free/busy only is "nothing" for pushing.
        let free_busy = evaluate(
            &[default(PermissionLevel::FreeBusyTimeAndSubjectAndLocation)],
            me(),
            &groups(&[]),
        );
        assert!(free_busy.allows().nothing());
        assert_eq!(
            ALLOWS_AUTHOR.describe(),
            "create, read, edit own, delete own"
        );
        assert_eq!(
            ALLOWS_EDITOR.describe(),
            "create, read, edit all, delete all"
        );
        assert_eq!(ALLOWS_NOTHING.describe(), "nothing");
    }

    /// The folder `EffectiveRights` Exchange sends an identity, from the entry that applies: the
    /// folder object's `PR_ACCESS` (modify and delete of the folder for folder owners only), and
    /// no folder at all where the entry does not make it visible.
    #[test]
    fn folder_access_is_what_exchange_sends_for_the_applying_entry() {
        use crate::delegation::EffectiveRights;
        let rights = |level: PermissionLevel| {
            evaluate(&[entry(user(ME), level)], me(), &groups(&[])).folder_access()
        };
        let editor = EffectiveRights {
            read: true,
            create_contents: true,
            modify: false,
            delete: false,
        };
        assert_eq!(rights(PermissionLevel::Editor), Some(editor));
        assert_eq!(
            rights(PermissionLevel::Owner),
            Some(EffectiveRights {
                modify: true,
                delete: true,
                ..editor
            })
        );
        assert_eq!(
            rights(PermissionLevel::Reviewer),
            Some(EffectiveRights {
                create_contents: false,
                ..editor
            })
        );
        assert_eq!(rights(PermissionLevel::FreeBusyTimeOnly), None);
        assert_eq!(rights(PermissionLevel::None), None);
        // Nothing applies (no own entry, no Default): no folder either.
        assert_eq!(evaluate(&[], me(), &groups(&[])).folder_access(), None);
    }
}
