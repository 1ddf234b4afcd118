//! Calendar permission levels in our own words, and what each level lets its holder do.
//!
//! Invariant: what a named level allows is one table, the `Rights` constants below; every
//! question about a level (`rights`, `is_within`, the check's evaluation) reads it, right by
//! right, since levels are not totally ordered. `Custom` has no entry: its rights are in its
//! flags. See ARCHITECTURE.md (`src/delegation/`) for where the policy check uses it.

use std::fmt;
use std::str::FromStr;

/// Exchange's calendar permission levels. `Custom` is read, never requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PermissionLevel {
    None,
    FreeBusyTimeOnly,
    FreeBusyTimeAndSubjectAndLocation,
    Reviewer,
    Contributor,
    Author,
    NoneditingAuthor,
    PublishingAuthor,
    Editor,
    PublishingEditor,
    Owner,
    Custom,
}

impl PermissionLevel {
    pub const ALL: [PermissionLevel; 12] = [
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
        PermissionLevel::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionLevel::None => "None",
            PermissionLevel::FreeBusyTimeOnly => "FreeBusyTimeOnly",
            PermissionLevel::FreeBusyTimeAndSubjectAndLocation => {
                "FreeBusyTimeAndSubjectAndLocation"
            }
            PermissionLevel::Reviewer => "Reviewer",
            PermissionLevel::Contributor => "Contributor",
            PermissionLevel::Author => "Author",
            PermissionLevel::NoneditingAuthor => "NoneditingAuthor",
            PermissionLevel::PublishingAuthor => "PublishingAuthor",
            PermissionLevel::Editor => "Editor",
            PermissionLevel::PublishingEditor => "PublishingEditor",
            PermissionLevel::Owner => "Owner",
            PermissionLevel::Custom => "Custom",
        }
    }

    /// The rights a named level stands for (PROTOCOL.md §3.3); `None` for `Custom`, whose rights
    /// are in its flags.
    pub fn rights(self) -> Option<Rights> {
        Some(match self {
            PermissionLevel::None => Rights::NONE,
            PermissionLevel::FreeBusyTimeOnly => Rights::FREE_BUSY_TIME_ONLY,
            PermissionLevel::FreeBusyTimeAndSubjectAndLocation => {
                Rights::FREE_BUSY_TIME_AND_SUBJECT_AND_LOCATION
            }
            PermissionLevel::Reviewer => Rights::REVIEWER,
            PermissionLevel::Contributor => Rights::CONTRIBUTOR,
            PermissionLevel::Author => Rights::AUTHOR,
            PermissionLevel::NoneditingAuthor => Rights::NONEDITING_AUTHOR,
            PermissionLevel::PublishingAuthor => Rights::PUBLISHING_AUTHOR,
            PermissionLevel::Editor => Rights::EDITOR,
            PermissionLevel::PublishingEditor => Rights::PUBLISHING_EDITOR,
            PermissionLevel::Owner => Rights::OWNER,
            PermissionLevel::Custom => return None,
        })
    }
}

impl PermissionLevel {
    /// Whether every right this level grants is also granted by `max`
    /// (`delegation.max_level`). Levels are not totally ordered (`PublishingAuthor` may create
    /// subfolders, `Editor` may not; `Editor` may change every item, `PublishingAuthor` only its
    /// own), so "at most `max`" means exactly this. `Custom` on either side is never within:
    /// its rights are in its flags, not in its name.
    pub fn is_within(self, max: PermissionLevel) -> bool {
        match (self.rights(), max.rights()) {
            (Some(rights), Some(max_rights)) => max_rights.covers(&rights),
            _ => false,
        }
    }
}

impl fmt::Display for PermissionLevel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for PermissionLevel {
    type Err = UnknownLevel;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PermissionLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| UnknownLevel(text.to_owned()))
    }
}

/// A level name that Exchange does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a calendar permission level")]
pub struct UnknownLevel(pub String);

/// Which items an edit or delete right covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Nothing,
    Owned,
    All,
}

/// How much of an item a read right shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadScope {
    None,
    TimeOnly,
    TimeAndSubjectAndLocation,
    FullDetails,
}

/// The individual rights of one permission entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rights {
    pub create_items: bool,
    pub create_subfolders: bool,
    pub folder_owner: bool,
    pub folder_visible: bool,
    pub folder_contact: bool,
    pub edit_items: Scope,
    pub delete_items: Scope,
    pub read_items: ReadScope,
}

/// The rights of each named level (PROTOCOL.md §3.3), each stated as the level it extends plus
/// what it adds. Levels are not totally ordered: `PublishingAuthor` and `Editor` both extend
/// `Author`, in different directions.
impl Rights {
    /// `None`: no right at all.
    pub const NONE: Rights = Rights {
        create_items: false,
        create_subfolders: false,
        folder_owner: false,
        folder_visible: false,
        folder_contact: false,
        edit_items: Scope::Nothing,
        delete_items: Scope::Nothing,
        read_items: ReadScope::None,
    };
    /// `FreeBusyTimeOnly`: the times of items, nothing else.
    pub const FREE_BUSY_TIME_ONLY: Rights = Rights {
        read_items: ReadScope::TimeOnly,
        ..Rights::NONE
    };
    /// `FreeBusyTimeAndSubjectAndLocation`: the times, subjects and locations of items.
    pub const FREE_BUSY_TIME_AND_SUBJECT_AND_LOCATION: Rights = Rights {
        read_items: ReadScope::TimeAndSubjectAndLocation,
        ..Rights::NONE
    };
    /// `Contributor`: sees the folder and creates items, reads none.
    pub const CONTRIBUTOR: Rights = Rights {
        create_items: true,
        folder_visible: true,
        ..Rights::NONE
    };
    /// `Reviewer`: sees the folder and reads every item in full.
    pub const REVIEWER: Rights = Rights {
        folder_visible: true,
        read_items: ReadScope::FullDetails,
        ..Rights::NONE
    };
    /// `NoneditingAuthor`: a reviewer that creates items and deletes its own.
    pub const NONEDITING_AUTHOR: Rights = Rights {
        create_items: true,
        delete_items: Scope::Owned,
        ..Rights::REVIEWER
    };
    /// `Author`: a non-editing author that also edits its own items.
    pub const AUTHOR: Rights = Rights {
        edit_items: Scope::Owned,
        ..Rights::NONEDITING_AUTHOR
    };
    /// `PublishingAuthor`: an author that also creates subfolders.
    pub const PUBLISHING_AUTHOR: Rights = Rights {
        create_subfolders: true,
        ..Rights::AUTHOR
    };
    /// `Editor`: an author that edits and deletes every item (no subfolders).
    pub const EDITOR: Rights = Rights {
        edit_items: Scope::All,
        delete_items: Scope::All,
        ..Rights::AUTHOR
    };
    /// `PublishingEditor`: an editor that also creates subfolders.
    pub const PUBLISHING_EDITOR: Rights = Rights {
        create_subfolders: true,
        ..Rights::EDITOR
    };
    /// `Owner`: every right, folder ownership and contact included.
    pub const OWNER: Rights = Rights {
        folder_owner: true,
        folder_contact: true,
        ..Rights::PUBLISHING_EDITOR
    };
}

impl Rights {
    /// Whether these rights include every right of `required`.
    pub fn covers(&self, required: &Rights) -> bool {
        (self.create_items || !required.create_items)
            && (self.create_subfolders || !required.create_subfolders)
            && (self.folder_owner || !required.folder_owner)
            && (self.folder_visible || !required.folder_visible)
            && (self.folder_contact || !required.folder_contact)
            && self.edit_items >= required.edit_items
            && self.delete_items >= required.delete_items
            && self.read_items >= required.read_items
    }
}

#[cfg(test)]
mod tests {
    use super::PermissionLevel;

    #[test]
    fn names_round_trip() {
        for level in PermissionLevel::ALL {
            assert_eq!(level.as_str().parse::<PermissionLevel>(), Ok(level));
        }
        assert!("editor".parse::<PermissionLevel>().is_err());
    }

    /// Each row: a maximum, then every level with whether a grant of it is allowed.
    #[test]
    fn a_level_is_within_a_maximum_exactly_when_the_maximum_grants_all_its_rights() {
        use PermissionLevel as L;
        let table: [(PermissionLevel, &[(PermissionLevel, bool)]); 4] = [
            (
                L::Editor,
                &[
                    (L::None, true),
                    (L::FreeBusyTimeOnly, true),
                    (L::FreeBusyTimeAndSubjectAndLocation, true),
                    (L::Reviewer, true),
                    (L::Contributor, true),
                    (L::Author, true),
                    (L::NoneditingAuthor, true),
                    (L::Editor, true),
                    // It may create subfolders, which Editor may not.
                    (L::PublishingAuthor, false),
                    (L::PublishingEditor, false),
                    (L::Owner, false),
                    (L::Custom, false),
                ],
            ),
            (
                L::Author,
                &[
                    (L::Reviewer, true),
                    (L::Contributor, true),
                    (L::NoneditingAuthor, true),
                    (L::Author, true),
                    // Editor changes and deletes every item, Author only its own.
                    (L::Editor, false),
                    (L::PublishingAuthor, false),
                ],
            ),
            (
                L::PublishingAuthor,
                &[
                    (L::Author, true),
                    (L::PublishingAuthor, true),
                    (L::Editor, false),
                    (L::PublishingEditor, false),
                ],
            ),
            (
                L::Reviewer,
                &[
                    (L::None, true),
                    (L::FreeBusyTimeAndSubjectAndLocation, true),
                    (L::Reviewer, true),
                    // Contributor reads nothing but may create items, which Reviewer may not.
                    (L::Contributor, false),
                    (L::Author, false),
                ],
            ),
        ];
        for (max, rows) in table {
            for (level, allowed) in rows {
                assert_eq!(level.is_within(max), *allowed, "{level} within {max}");
            }
        }
        for level in PermissionLevel::ALL {
            assert_eq!(
                level.is_within(L::Owner),
                level != L::Custom,
                "{level} within Owner"
            );
            assert!(!level.is_within(L::Custom), "nothing is within Custom");
            if level != L::Custom {
                assert!(level.is_within(level), "{level} within itself");
                assert!(L::None.is_within(level), "None within {level}");
            }
        }
    }

    #[test]
    fn owner_covers_editor_but_reviewer_does_not() {
        let editor = PermissionLevel::Editor.rights().unwrap();
        assert!(PermissionLevel::Owner.rights().unwrap().covers(&editor));
        assert!(
            PermissionLevel::PublishingEditor
                .rights()
                .unwrap()
                .covers(&editor)
        );
        assert!(!PermissionLevel::Reviewer.rights().unwrap().covers(&editor));
        assert!(!PermissionLevel::Author.rights().unwrap().covers(&editor));
        assert!(
            PermissionLevel::Editor
                .rights()
                .unwrap()
                .covers(&PermissionLevel::Reviewer.rights().unwrap())
        );
    }
}
