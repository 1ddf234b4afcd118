//! The merge rule of a grant or revoke: from the permission set as read, compute the set to
//! write. Pure: no I/O, no clock.
//!
//! Invariants:
//! - only the principal's entry changes (matched by `PrimarySmtpAddress`, case-insensitively; a
//!   user or a mail-enabled group); every other entry (Default, Anonymous, users, groups, `Custom`
//!   entries with all their flags, deleted users known only by SID) is kept exactly as read, in
//!   the same order;
//! - a grant leaves the principal with exactly the requested named level (lower than before if
//!   asked; a `Custom` entry is replaced), written as `UserId { PrimarySmtpAddress }` plus the
//!   level; a revoke removes the entry;
//! - when nothing would change, [`Merged::changed`] is false and the set is returned as read.
//!
//! Entries the connector does not model are entries like any other here: one identified only by
//! `ExternalUserIdentity` (a cross-organization user) and one whose `UserId` is empty never match
//! a principal, so they are kept exactly as read, and the writer sends them back as read.
//!
//! `UnknownEntries` (ACEs of deleted accounts that no longer resolve) are carried in the returned
//! set because they are part of what was read, but they cannot be written: Exchange deletes them
//! whenever the set is replaced (Microsoft's "UnknownEntries" reference: they are deleted when
//! the PermissionSet is reset with SetFolderField; EWS cannot delete or keep single ones).
//! [`lost_by_writing`] names them, and the caller refuses the change rather than drop them.
//!
//! Entry types: [`Change`], [`Merged`], [`merge`], [`lost_by_writing`].

use crate::delegation::{PermissionLevel, entry_matches, level_of};
use crate::ews::types::{
    CalendarPermission, CalendarPermissionLevel, CalendarPermissionSet, UserId,
};

/// What to do to the principal's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Set the entry to this named level (never `Custom`; the caller refuses it first).
    Grant(PermissionLevel),
    /// Remove the entry.
    Revoke,
}

/// The set to write and what the change means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The complete new set (equal to the input when `changed` is false).
    pub permission_set: CalendarPermissionSet,
    /// The principal's level as read: `PermissionLevel::None` when it had no entry.
    pub previous_level: PermissionLevel,
    /// Whether the new set differs from the one read, i.e. whether a write is needed.
    pub changed: bool,
}

/// Applies `change` for `principal` (an SMTP address) to `current`.
///
/// A grant of `PermissionLevel::None` to a principal without an entry changes nothing (no entry
/// and a `None` entry grant the same rights); to one with an entry it sets the entry to `None`.
/// Should the set hold the principal twice (Exchange refuses to store that), the first entry is
/// the one changed and the later ones are dropped, since they are the principal's too.
///
/// # Panics
/// When asked to grant `Custom`: callers validate the level first.
pub fn merge(current: &CalendarPermissionSet, principal: &str, change: Change) -> Merged {
    let found = current
        .calendar_permissions
        .iter()
        .filter(|entry| entry_matches(entry, principal))
        .collect::<Vec<_>>();
    let previous_level = found
        .first()
        .map_or(PermissionLevel::None, |entry| level_of(entry));
    let unchanged = match change {
        Change::Grant(level) => {
            assert!(
                level != PermissionLevel::Custom,
                "Custom is never written; validate the level first"
            );
            match found.as_slice() {
                [] => level == PermissionLevel::None,
                [entry] => level_of(entry) == level,
                _ => false,
            }
        }
        Change::Revoke => found.is_empty(),
    };
    if unchanged {
        return Merged {
            permission_set: current.clone(),
            previous_level,
            changed: false,
        };
    }

    let mut calendar_permissions = Vec::with_capacity(current.calendar_permissions.len() + 1);
    let mut placed = false;
    for entry in &current.calendar_permissions {
        if !entry_matches(entry, principal) {
            calendar_permissions.push(entry.clone());
            continue;
        }
        if let (Change::Grant(level), false) = (change, placed) {
            calendar_permissions.push(new_entry(principal, level));
            placed = true;
        }
    }
    if let (Change::Grant(level), false) = (change, placed) {
        calendar_permissions.push(new_entry(principal, level));
    }
    Merged {
        permission_set: CalendarPermissionSet {
            calendar_permissions,
            unknown_entries: current.unknown_entries.clone(),
        },
        previous_level,
        changed: true,
    }
}

/// The entries that writing `merged` would lose: every `UnknownEntry` of the set, since Exchange
/// deletes them on any rewrite (see the module notes); none when nothing would be written.
pub fn lost_by_writing(merged: &Merged) -> &[String] {
    if merged.changed {
        &merged.permission_set.unknown_entries
    } else {
        &[]
    }
}

/// The principal's level in a set: `PermissionLevel::None` when it has no entry.
pub(crate) fn level_in(set: &CalendarPermissionSet, principal: &str) -> Option<PermissionLevel> {
    set.calendar_permissions
        .iter()
        .find(|entry| entry_matches(entry, principal))
        .map(level_of)
}

fn new_entry(principal: &str, level: PermissionLevel) -> CalendarPermission {
    CalendarPermission::with_level(
        UserId {
            primary_smtp_address: Some(principal.to_owned()),
            ..UserId::default()
        },
        ews_level(level),
    )
}

/// Our level in `ews`'s words (the spellings are the same, Microsoft's).
pub(crate) fn ews_level(level: PermissionLevel) -> CalendarPermissionLevel {
    level
        .as_str()
        .parse()
        .expect("every PermissionLevel is spelled as a CalendarPermissionLevel")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ews::types::{CalendarPermissionReadAccess, DistinguishedUser, PermissionAction};

    fn user(smtp: &str) -> UserId {
        UserId {
            sid: Some(format!("S-1-5-21-1-{}", smtp.len())),
            primary_smtp_address: Some(smtp.to_owned()),
            display_name: Some(smtp.to_uppercase()),
            ..UserId::default()
        }
    }

    fn distinguished(which: DistinguishedUser) -> UserId {
        UserId {
            distinguished_user: Some(which),
            ..UserId::default()
        }
    }

    fn named(user_id: UserId, level: CalendarPermissionLevel) -> CalendarPermission {
        CalendarPermission::with_level(user_id, level)
    }

    fn custom(user_id: UserId) -> CalendarPermission {
        CalendarPermission {
            user_id,
            can_create_items: Some(true),
            can_create_sub_folders: Some(false),
            is_folder_owner: None,
            is_folder_visible: Some(true),
            is_folder_contact: Some(false),
            edit_items: Some(PermissionAction::None),
            delete_items: Some(PermissionAction::Owned),
            read_items: Some(CalendarPermissionReadAccess::TimeAndSubjectAndLocation),
            calendar_permission_level: CalendarPermissionLevel::Custom,
        }
    }

    /// Alice's calendar in the sample state: Default, Anonymous, two users, a group, a Custom
    /// entry and a deleted user known by SID only.
    fn alice() -> CalendarPermissionSet {
        CalendarPermissionSet {
            calendar_permissions: vec![
                named(
                    distinguished(DistinguishedUser::Default),
                    CalendarPermissionLevel::FreeBusyTimeOnly,
                ),
                named(
                    distinguished(DistinguishedUser::Anonymous),
                    CalendarPermissionLevel::None,
                ),
                named(user("bob@contoso.example"), CalendarPermissionLevel::Editor),
                named(
                    user("carol@contoso.example"),
                    CalendarPermissionLevel::Reviewer,
                ),
                named(
                    user("planners@contoso.example"),
                    CalendarPermissionLevel::Author,
                ),
                custom(user("dave@contoso.example")),
                named(
                    UserId {
                        sid: Some("S-1-5-21-9-1888".to_owned()),
                        ..UserId::default()
                    },
                    CalendarPermissionLevel::Reviewer,
                ),
            ],
            unknown_entries: vec!["NT:S-1-5-21-9-1999".to_owned()],
        }
    }

    fn check(
        set: &CalendarPermissionSet,
        principal: &str,
        change: Change,
        expect_changed: bool,
        expect_previous: PermissionLevel,
        expect_levels: &[&str],
    ) -> Merged {
        let merged = merge(set, principal, change);
        assert_eq!(merged.changed, expect_changed, "changed");
        assert_eq!(merged.previous_level, expect_previous, "previous level");
        let levels: Vec<&str> = merged
            .permission_set
            .calendar_permissions
            .iter()
            .map(|entry| entry.calendar_permission_level.as_str())
            .collect();
        assert_eq!(levels, expect_levels);
        merged
    }

    #[test]
    fn grant_adds_an_entry_at_the_end_and_keeps_the_rest() {
        let set = alice();
        let merged = check(
            &set,
            "push@contoso.example",
            Change::Grant(PermissionLevel::Editor),
            true,
            PermissionLevel::None,
            &[
                "FreeBusyTimeOnly",
                "None",
                "Editor",
                "Reviewer",
                "Author",
                "Custom",
                "Reviewer",
                "Editor",
            ],
        );
        assert_eq!(
            merged.permission_set.calendar_permissions[..7],
            set.calendar_permissions[..]
        );
        let added = &merged.permission_set.calendar_permissions[7];
        assert_eq!(
            added.user_id,
            UserId {
                primary_smtp_address: Some("push@contoso.example".to_owned()),
                ..UserId::default()
            }
        );
        assert_eq!(
            added.can_create_items, None,
            "a named level carries no flags"
        );
        assert_eq!(merged.permission_set.unknown_entries, set.unknown_entries);
    }

    #[test]
    fn grant_lowers_a_level_in_place_matching_case_insensitively() {
        let set = alice();
        let merged = check(
            &set,
            "BOB@Contoso.Example",
            Change::Grant(PermissionLevel::Reviewer),
            true,
            PermissionLevel::Editor,
            &[
                "FreeBusyTimeOnly",
                "None",
                "Reviewer",
                "Reviewer",
                "Author",
                "Custom",
                "Reviewer",
            ],
        );
        let bob = &merged.permission_set.calendar_permissions[2];
        assert_eq!(
            bob.user_id.primary_smtp_address.as_deref(),
            Some("BOB@Contoso.Example")
        );
        assert_eq!(bob.user_id.sid, None);
    }

    #[test]
    fn grant_replaces_a_custom_entry_with_the_named_level() {
        let merged = check(
            &alice(),
            "dave@contoso.example",
            Change::Grant(PermissionLevel::Author),
            true,
            PermissionLevel::Custom,
            &[
                "FreeBusyTimeOnly",
                "None",
                "Editor",
                "Reviewer",
                "Author",
                "Author",
                "Reviewer",
            ],
        );
        let dave = &merged.permission_set.calendar_permissions[5];
        assert_eq!(dave.delete_items, None, "the Custom flags are gone");
    }

    #[test]
    fn the_level_in_place_changes_nothing() {
        let set = alice();
        let merged = merge(
            &set,
            "Planners@contoso.example",
            Change::Grant(PermissionLevel::Author),
        );
        assert!(!merged.changed);
        assert_eq!(merged.previous_level, PermissionLevel::Author);
        assert_eq!(merged.permission_set, set);

        let merged = merge(
            &set,
            "nobody@contoso.example",
            Change::Grant(PermissionLevel::None),
        );
        assert!(!merged.changed, "no entry already means None");
    }

    #[test]
    fn revoke_removes_only_the_principal_and_absent_is_unchanged() {
        let set = alice();
        let merged = check(
            &set,
            "carol@CONTOSO.example",
            Change::Revoke,
            true,
            PermissionLevel::Reviewer,
            &[
                "FreeBusyTimeOnly",
                "None",
                "Editor",
                "Author",
                "Custom",
                "Reviewer",
            ],
        );
        let mut expected = set.calendar_permissions.clone();
        expected.remove(3);
        assert_eq!(merged.permission_set.calendar_permissions, expected);

        let again = merge(
            &merged.permission_set,
            "carol@contoso.example",
            Change::Revoke,
        );
        assert!(!again.changed);
        assert_eq!(again.previous_level, PermissionLevel::None);
    }

    #[test]
    fn a_duplicated_principal_ends_up_once() {
        let mut set = alice();
        set.calendar_permissions.push(named(
            user("bob@contoso.example"),
            CalendarPermissionLevel::Editor,
        ));
        let merged = merge(
            &set,
            "bob@contoso.example",
            Change::Grant(PermissionLevel::Editor),
        );
        assert!(merged.changed);
        assert_eq!(
            level_in(&merged.permission_set, "bob@contoso.example"),
            Some(PermissionLevel::Editor)
        );
        let bobs = merged
            .permission_set
            .calendar_permissions
            .iter()
            .filter(|entry| entry_matches(entry, "bob@contoso.example"))
            .count();
        assert_eq!(bobs, 1);
    }

    // ---- property test ----

    const NAMED_LEVELS: [PermissionLevel; 11] = [
        PermissionLevel::None,
        PermissionLevel::FreeBusyTimeOnly,
        PermissionLevel::FreeBusyTimeAndSubjectAndLocation,
        PermissionLevel::Reviewer,
        PermissionLevel::Contributor,
        PermissionLevel::Author,
        PermissionLevel::NoneditingAuthor,
        PermissionLevel::PublishingAuthor,
        PermissionLevel::Editor,
        PermissionLevel::PublishingEditor,
        PermissionLevel::Owner,
    ];

    /// Identities: 0 = Default, 1 = Anonymous, 2..=41 SMTP users/groups `u{n}@x.example`, 42..=49
    /// SID-only, 50..=58 ExternalUserIdentity only, 59 an empty UserId.
    fn identity(index: usize) -> UserId {
        match index {
            0 => distinguished(DistinguishedUser::Default),
            1 => distinguished(DistinguishedUser::Anonymous),
            2..=41 => UserId {
                sid: (!index.is_multiple_of(3)).then(|| format!("S-1-5-21-7-{index}")),
                primary_smtp_address: Some(format!("u{index}@x.example")),
                display_name: index.is_multiple_of(2).then(|| format!("User {index}")),
                ..UserId::default()
            },
            42..=49 => UserId {
                sid: Some(format!("S-1-5-21-7-{index}")),
                ..UserId::default()
            },
            // Entries the connector does not model: cross-organization users known only by
            // ExternalUserIdentity (sometimes with a display name), and one empty UserId.
            50..=58 => UserId {
                display_name: index.is_multiple_of(2).then(|| format!("Partner {index}")),
                external_user_identity: Some(format!("ExchangePublishedUser.p{index}@f.example")),
                ..UserId::default()
            },
            _ => UserId::default(),
        }
    }

    /// The entries the connector does not model, in order.
    fn unmodelled(set: &CalendarPermissionSet) -> Vec<CalendarPermission> {
        set.calendar_permissions
            .iter()
            .filter(|entry| {
                let user = &entry.user_id;
                user.sid.is_none()
                    && user.primary_smtp_address.is_none()
                    && user.distinguished_user.is_none()
            })
            .cloned()
            .collect()
    }

    fn any_option<T: Clone + std::fmt::Debug + 'static>(
        values: Vec<T>,
    ) -> impl Strategy<Value = Option<T>> {
        proptest::option::of(proptest::sample::select(values))
    }

    fn any_entry(index: usize) -> impl Strategy<Value = CalendarPermission> {
        let levels: Vec<CalendarPermissionLevel> = CalendarPermissionLevel::ALL.to_vec();
        let actions = vec![
            PermissionAction::None,
            PermissionAction::Owned,
            PermissionAction::All,
        ];
        let reads = vec![
            CalendarPermissionReadAccess::None,
            CalendarPermissionReadAccess::TimeOnly,
            CalendarPermissionReadAccess::TimeAndSubjectAndLocation,
            CalendarPermissionReadAccess::FullDetails,
        ];
        (
            proptest::sample::select(levels),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            any_option(actions.clone()),
            any_option(actions),
            any_option(reads),
        )
            .prop_map(
                move |(level, create, subfolders, owner, visible, contact, edit, delete, read)| {
                    CalendarPermission {
                        user_id: identity(index),
                        can_create_items: create,
                        can_create_sub_folders: subfolders,
                        is_folder_owner: owner,
                        is_folder_visible: visible,
                        is_folder_contact: contact,
                        edit_items: edit,
                        delete_items: delete,
                        read_items: read,
                        calendar_permission_level: level,
                    }
                },
            )
    }

    fn any_set() -> impl Strategy<Value = CalendarPermissionSet> {
        (
            proptest::sample::subsequence((0..60).collect::<Vec<usize>>(), 0..=50).prop_shuffle(),
            proptest::collection::vec("NT:S-1-5-21-[0-9]{1,4}", 0..3),
        )
            .prop_flat_map(|(identities, unknown_entries)| {
                let entries: Vec<_> = identities.into_iter().map(any_entry).collect();
                (entries, Just(unknown_entries))
            })
            .prop_map(
                |(calendar_permissions, unknown_entries)| CalendarPermissionSet {
                    calendar_permissions,
                    unknown_entries,
                },
            )
    }

    /// A principal (some in the set's identity range, some never present) in random case.
    fn any_step() -> impl Strategy<Value = (String, Change)> {
        (
            2usize..50,
            any::<u64>(),
            proptest::option::of(proptest::sample::select(NAMED_LEVELS.to_vec())),
        )
            .prop_map(|(index, case_bits, level)| {
                let plain = format!("u{index}@x.example");
                let principal: String = plain
                    .chars()
                    .enumerate()
                    .map(|(position, character)| {
                        if case_bits >> (position % 64) & 1 == 1 {
                            character.to_ascii_uppercase()
                        } else {
                            character
                        }
                    })
                    .collect();
                let change = match level {
                    Some(level) => Change::Grant(level),
                    None => Change::Revoke,
                };
                (principal, change)
            })
    }

    fn others(set: &CalendarPermissionSet, principal: &str) -> Vec<CalendarPermission> {
        set.calendar_permissions
            .iter()
            .filter(|entry| !entry_matches(entry, principal))
            .cloned()
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        #[test]
        fn only_the_principal_entry_ever_changes(
            initial in any_set(),
            steps in proptest::collection::vec(any_step(), 1..8),
        ) {
            // What Exchange stores: the set we would write, step after step.
            let mut stored = initial;
            for (principal, change) in steps {
                let expected_previous = level_in(&stored, &principal)
                    .unwrap_or(PermissionLevel::None);
                let merged = merge(&stored, &principal, change);
                prop_assert_eq!(merged.previous_level, expected_previous);
                prop_assert_eq!(others(&merged.permission_set, &principal), others(&stored, &principal));
                prop_assert_eq!(&merged.permission_set.unknown_entries, &stored.unknown_entries);
                // Entries known only by ExternalUserIdentity and empty UserIds survive as read.
                prop_assert_eq!(unmodelled(&merged.permission_set), unmodelled(&stored));
                // A write would lose the unknown entries, and only a write.
                let lost = lost_by_writing(&merged);
                if merged.changed {
                    prop_assert_eq!(lost, stored.unknown_entries.as_slice());
                } else {
                    prop_assert!(lost.is_empty());
                }
                let mine: Vec<_> = merged
                    .permission_set
                    .calendar_permissions
                    .iter()
                    .filter(|entry| entry_matches(entry, &principal))
                    .collect();
                match change {
                    Change::Grant(level) => {
                        if merged.changed {
                            prop_assert_eq!(mine.len(), 1);
                            prop_assert_eq!(mine[0], &new_entry(&principal, level));
                        } else {
                            prop_assert_eq!(&merged.permission_set, &stored);
                            let in_place = level_in(&stored, &principal).unwrap_or(PermissionLevel::None);
                            prop_assert_eq!(in_place, level);
                        }
                    }
                    Change::Revoke => {
                        prop_assert!(mine.is_empty());
                        prop_assert_eq!(merged.changed, level_in(&stored, &principal).is_some());
                    }
                }
                // A changed set differs from the stored one; an unchanged one is identical.
                prop_assert_eq!(merged.changed, merged.permission_set != stored);
                stored = merged.permission_set;
                // The same call again finds its change in place and would write nothing.
                let again = merge(&stored, &principal, change);
                prop_assert!(!again.changed);
                prop_assert_eq!(&again.permission_set, &stored);
            }
        }
    }
}
