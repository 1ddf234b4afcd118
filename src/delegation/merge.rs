//! The merge rule of a grant or revoke: from the permission set as read, compute the set to
//! write. Pure: no I/O, no clock.
//!
//! Invariants:
//! - only the principal's entry changes (matched by `PrimarySmtpAddress`, case-insensitively; a
//!   user or a mail-enabled group); every other entry (Default, Anonymous, users, groups, `Custom`
//!   entries with all their flags, deleted users known only by SID) is kept exactly as read, in
//!   the same order;
//! - a grant leaves the principal with exactly the requested named level (lower than before if
//!   asked; a `Custom` entry is replaced), written as `Grantee { PrimarySmtpAddress }` plus the
//!   level; a revoke removes the entry;
//! - when nothing would change, [`Merged::changed`] is false and the set is returned as read.
//!
//! Entries the connector does not model are entries like any other here: one identified only by
//! `ExternalUserIdentity` (a cross-organization user) and one whose `Grantee` is empty never match
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
use crate::domain::permissions::{Grantee, PermissionEntry, PermissionSet};

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
    pub permission_set: PermissionSet,
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
pub fn merge(current: &PermissionSet, principal: &str, change: Change) -> Merged {
    let found = current
        .entries
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

    let mut entries = Vec::with_capacity(current.entries.len() + 1);
    let mut placed = false;
    for entry in &current.entries {
        if !entry_matches(entry, principal) {
            entries.push(entry.clone());
            continue;
        }
        if let (Change::Grant(level), false) = (change, placed) {
            entries.push(new_entry(principal, level));
            placed = true;
        }
    }
    if let (Change::Grant(level), false) = (change, placed) {
        entries.push(new_entry(principal, level));
    }
    Merged {
        permission_set: PermissionSet {
            entries,
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
pub(crate) fn level_in(set: &PermissionSet, principal: &str) -> Option<PermissionLevel> {
    set.entries
        .iter()
        .find(|entry| entry_matches(entry, principal))
        .map(level_of)
}

fn new_entry(principal: &str, level: PermissionLevel) -> PermissionEntry {
    PermissionEntry::with_level(Grantee::smtp(principal), level)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::permissions::DistinguishedUser;
    use crate::domain::{ReadScope, Scope};

    fn user(smtp: &str) -> Grantee {
        Grantee {
            sid: Some(format!("S-1-5-21-1-{}", smtp.len())),
            primary_smtp_address: Some(smtp.to_owned()),
            display_name: Some(smtp.to_uppercase()),
            ..Grantee::default()
        }
    }

    fn distinguished(which: DistinguishedUser) -> Grantee {
        Grantee {
            distinguished_user: Some(which),
            ..Grantee::default()
        }
    }

    fn named(grantee: Grantee, level: PermissionLevel) -> PermissionEntry {
        PermissionEntry::with_level(grantee, level)
    }

    fn custom(grantee: Grantee) -> PermissionEntry {
        PermissionEntry {
            grantee,
            can_create_items: Some(true),
            can_create_sub_folders: Some(false),
            is_folder_owner: None,
            is_folder_visible: Some(true),
            is_folder_contact: Some(false),
            edit_items: Some(Scope::Nothing),
            delete_items: Some(Scope::Owned),
            read_items: Some(ReadScope::TimeAndSubjectAndLocation),
            level: PermissionLevel::Custom,
        }
    }

    /// Alice's calendar in the sample state: Default, Anonymous, two users, a group, a Custom
    /// entry and a deleted user known by SID only.
    fn alice() -> PermissionSet {
        PermissionSet {
            entries: vec![
                named(
                    distinguished(DistinguishedUser::Default),
                    PermissionLevel::FreeBusyTimeOnly,
                ),
                named(
                    distinguished(DistinguishedUser::Anonymous),
                    PermissionLevel::None,
                ),
                named(user("bob@contoso.example"), PermissionLevel::Editor),
                named(user("carol@contoso.example"), PermissionLevel::Reviewer),
                named(user("planners@contoso.example"), PermissionLevel::Author),
                custom(user("dave@contoso.example")),
                named(
                    Grantee {
                        sid: Some("S-1-5-21-9-1888".to_owned()),
                        ..Grantee::default()
                    },
                    PermissionLevel::Reviewer,
                ),
            ],
            unknown_entries: vec!["NT:S-1-5-21-9-1999".to_owned()],
        }
    }

    fn check(
        set: &PermissionSet,
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
            .entries
            .iter()
            .map(|entry| entry.level.as_str())
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
        assert_eq!(merged.permission_set.entries[..7], set.entries[..]);
        let added = &merged.permission_set.entries[7];
        assert_eq!(
            added.grantee,
            Grantee {
                primary_smtp_address: Some("push@contoso.example".to_owned()),
                ..Grantee::default()
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
        let bob = &merged.permission_set.entries[2];
        assert_eq!(
            bob.grantee.primary_smtp_address.as_deref(),
            Some("BOB@Contoso.Example")
        );
        assert_eq!(bob.grantee.sid, None);
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
        let dave = &merged.permission_set.entries[5];
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
        let mut expected = set.entries.clone();
        expected.remove(3);
        assert_eq!(merged.permission_set.entries, expected);

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
        set.entries
            .push(named(user("bob@contoso.example"), PermissionLevel::Editor));
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
            .entries
            .iter()
            .filter(|entry| entry_matches(entry, "bob@contoso.example"))
            .count();
        assert_eq!(bobs, 1);
    }

    // ---- property test ----

    /// The levels a grant may ask for: every named level (`Custom` is only ever read).
    fn named_levels() -> Vec<PermissionLevel> {
        PermissionLevel::ALL
            .into_iter()
            .filter(|level| *level != PermissionLevel::Custom)
            .collect()
    }

    /// Identities: 0 = Default, 1 = Anonymous, 2..=41 SMTP users/groups `u{n}@x.example`, 42..=49
    /// SID-only, 50..=58 ExternalUserIdentity only, 59 an empty Grantee.
    fn identity(index: usize) -> Grantee {
        match index {
            0 => distinguished(DistinguishedUser::Default),
            1 => distinguished(DistinguishedUser::Anonymous),
            2..=41 => Grantee {
                sid: (!index.is_multiple_of(3)).then(|| format!("S-1-5-21-7-{index}")),
                primary_smtp_address: Some(format!("u{index}@x.example")),
                display_name: index.is_multiple_of(2).then(|| format!("User {index}")),
                ..Grantee::default()
            },
            42..=49 => Grantee {
                sid: Some(format!("S-1-5-21-7-{index}")),
                ..Grantee::default()
            },
            // Entries the connector does not model: cross-organization users known only by
            // ExternalUserIdentity (sometimes with a display name), and one empty Grantee.
            50..=58 => Grantee {
                display_name: index.is_multiple_of(2).then(|| format!("Partner {index}")),
                external_user_identity: Some(format!("ExchangePublishedUser.p{index}@f.example")),
                ..Grantee::default()
            },
            _ => Grantee::default(),
        }
    }

    /// The entries the connector does not model, in order.
    fn unmodelled(set: &PermissionSet) -> Vec<PermissionEntry> {
        set.entries
            .iter()
            .filter(|entry| {
                let user = &entry.grantee;
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

    fn any_entry(index: usize) -> impl Strategy<Value = PermissionEntry> {
        let levels: Vec<PermissionLevel> = PermissionLevel::ALL.to_vec();
        let actions = vec![Scope::Nothing, Scope::Owned, Scope::All];
        let reads = vec![
            ReadScope::None,
            ReadScope::TimeOnly,
            ReadScope::TimeAndSubjectAndLocation,
            ReadScope::FullDetails,
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
                    PermissionEntry {
                        grantee: identity(index),
                        can_create_items: create,
                        can_create_sub_folders: subfolders,
                        is_folder_owner: owner,
                        is_folder_visible: visible,
                        is_folder_contact: contact,
                        edit_items: edit,
                        delete_items: delete,
                        read_items: read,
                        level,
                    }
                },
            )
    }

    fn any_set() -> impl Strategy<Value = PermissionSet> {
        (
            proptest::sample::subsequence((0..60).collect::<Vec<usize>>(), 0..=50).prop_shuffle(),
            proptest::collection::vec("NT:S-1-5-21-[0-9]{1,4}", 0..3),
        )
            .prop_flat_map(|(identities, unknown_entries)| {
                let entries: Vec<_> = identities.into_iter().map(any_entry).collect();
                (entries, Just(unknown_entries))
            })
            .prop_map(|(entries, unknown_entries)| PermissionSet {
                entries,
                unknown_entries,
            })
    }

    /// A principal (some in the set's identity range, some never present) in random case.
    fn any_step() -> impl Strategy<Value = (String, Change)> {
        (
            2usize..50,
            any::<u64>(),
            proptest::option::of(proptest::sample::select(named_levels())),
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

    fn others(set: &PermissionSet, principal: &str) -> Vec<PermissionEntry> {
        set.entries
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
                    .entries
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
