//! Shared EWS types (folder ids, users, calendar permissions, effective rights, delegates), named
//! exactly as the schema names them, with their readers and writers.
//!
//! Invariant: writers emit children in schema order (Exchange enforces it), and `UserId` is
//! written with ONE identifier (PROTOCOL §4.2): the `DistinguishedUser` alone, else the SID, else
//! the primary SMTP address; a `UserId` with none of them is refused.
//! Invariant: enum spellings are Microsoft's; `as_str` and `FromStr` round-trip.
//!
//! Entry types: [`FolderId`], [`UserId`], [`CalendarPermissionSet`], [`CalendarPermission`],
//! [`EffectiveRights`], [`DelegateUser`], [`DelegatePermissions`], [`DeliverMeetingRequests`].

use crate::ews::error::Error;
use crate::ews::xml::{Element, TYPES_NS, XmlWriter, optional_bool, parse_bool};

macro_rules! ews_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Microsoft's spelling.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($text => Ok($name::$variant),)+
                    other => Err(Error::InvalidValue {
                        element: stringify!($name).to_owned(),
                        value: other.chars().take(80).collect(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use ews_enum;

ews_enum! {
    /// `t:DistinguishedUser`: the two pseudo-users of every folder ACL.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguisheduser>.
    DistinguishedUser {
        /// Every authenticated user of the organization without an entry of their own.
        Default => "Default",
        /// Unauthenticated (external) users.
        Anonymous => "Anonymous",
    }
}

ews_enum! {
    /// `t:EditItems` / `t:DeleteItems` values.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/edititems>.
    PermissionAction {
        /// No items.
        None => "None",
        /// Only items the user created.
        Owned => "Owned",
        /// All items.
        All => "All",
    }
}

ews_enum! {
    /// `t:ReadItems` in a calendar permission.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/readitems>.
    CalendarPermissionReadAccess {
        /// Nothing.
        None => "None",
        /// Free/busy times only.
        TimeOnly => "TimeOnly",
        /// Free/busy times, subject and location.
        TimeAndSubjectAndLocation => "TimeAndSubjectAndLocation",
        /// Everything.
        FullDetails => "FullDetails",
    }
}

ews_enum! {
    /// `t:CalendarPermissionLevel`: the 12 values, in schema order.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarpermissionlevel>.
    CalendarPermissionLevel {
        /// No access.
        None => "None",
        /// Everything, including the folder's permissions.
        Owner => "Owner",
        /// Editor plus creating subfolders.
        PublishingEditor => "PublishingEditor",
        /// Read, create, edit and delete all items.
        Editor => "Editor",
        /// Author plus creating subfolders.
        PublishingAuthor => "PublishingAuthor",
        /// Read and create items; edit and delete own items.
        Author => "Author",
        /// Read and create items; delete own items.
        NoneditingAuthor => "NoneditingAuthor",
        /// Read items.
        Reviewer => "Reviewer",
        /// Create items only.
        Contributor => "Contributor",
        /// Free/busy times only.
        FreeBusyTimeOnly => "FreeBusyTimeOnly",
        /// Free/busy times, subject and location.
        FreeBusyTimeAndSubjectAndLocation => "FreeBusyTimeAndSubjectAndLocation",
        /// The flags match no named level; the flags are the truth.
        Custom => "Custom",
    }
}

ews_enum! {
    /// `t:DelegateFolderPermissionLevelType`.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarfolderpermissionlevel>.
    DelegateFolderPermissionLevel {
        /// No access (often omitted by the server: absent means None).
        None => "None",
        /// Read, create, edit and delete.
        Editor => "Editor",
        /// Read.
        Reviewer => "Reviewer",
        /// Read and create; edit own.
        Author => "Author",
        /// The ACL matches none of the four; reported by the server, not meant to be sent.
        Custom => "Custom",
    }
}

ews_enum! {
    /// `m:DeliverMeetingRequests`: one mailbox-wide setting for where meeting requests go.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/delivermeetingrequests>.
    DeliverMeetingRequests {
        /// Delegates only; the owner's copy goes to Deleted Items.
        DelegatesOnly => "DelegatesOnly",
        /// Delegates and the owner.
        DelegatesAndMe => "DelegatesAndMe",
        /// Delegates, and the owner gets an informational copy.
        DelegatesAndSendInformationToMe => "DelegatesAndSendInformationToMe",
        /// Delegates get nothing.
        NoForward => "NoForward",
    }
}

/// `t:FolderId`: an opaque id and the version stamp it was read at.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/folderid>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FolderId {
    /// `Id`: opaque base64; never parse it.
    pub id: String,
    /// `ChangeKey`: changes on every modification of the folder, permissions included; send the
    /// one from the read a decision was based on.
    pub change_key: Option<String>,
}

/// `t:UserId`: who a permission or delegate entry is for.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/userid>.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct UserId {
    /// `t:SID` in SDDL form (`S-1-5-21-…`); the best identity when present.
    pub sid: Option<String>,
    /// `t:PrimarySmtpAddress`; compare case-insensitively.
    pub primary_smtp_address: Option<String>,
    /// `t:DisplayName`: informational, never an identity, never sent.
    pub display_name: Option<String>,
    /// `t:DistinguishedUser`: set for the Default and Anonymous entries only.
    pub distinguished_user: Option<DistinguishedUser>,
    /// `t:ExternalUserIdentity` (cross-organization sharing); written back only for an entry
    /// that has no other identifier.
    pub external_user_identity: Option<String>,
}

/// `t:PermissionSet` of a calendar folder (`CalendarPermissionSetType`).
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/permissionset-calendarpermissionsettype>.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CalendarPermissionSet {
    /// `t:CalendarPermissions/t:CalendarPermission`, in server order.
    pub calendar_permissions: Vec<CalendarPermission>,
    /// `t:UnknownEntries/t:UnknownEntry`: ACEs that no longer resolve (deleted users). Read only:
    /// they are never sent back, and Exchange deletes them on any rewrite of the set.
    pub unknown_entries: Vec<String>,
}

/// `t:CalendarPermission`: one ACL entry of a calendar folder.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarpermission>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CalendarPermission {
    /// Who the entry is for.
    pub user_id: UserId,
    /// `t:CanCreateItems`.
    pub can_create_items: Option<bool>,
    /// `t:CanCreateSubFolders` (capital F on the wire).
    pub can_create_sub_folders: Option<bool>,
    /// `t:IsFolderOwner`.
    pub is_folder_owner: Option<bool>,
    /// `t:IsFolderVisible`.
    pub is_folder_visible: Option<bool>,
    /// `t:IsFolderContact`.
    pub is_folder_contact: Option<bool>,
    /// `t:EditItems`.
    pub edit_items: Option<PermissionAction>,
    /// `t:DeleteItems`.
    pub delete_items: Option<PermissionAction>,
    /// `t:ReadItems`.
    pub read_items: Option<CalendarPermissionReadAccess>,
    /// `t:CalendarPermissionLevel`; for a named level the flags are implied and not sent.
    pub calendar_permission_level: CalendarPermissionLevel,
}

impl CalendarPermission {
    /// An entry with a named level and no flags (what a writer sends for a named level).
    pub fn with_level(user_id: UserId, calendar_permission_level: CalendarPermissionLevel) -> Self {
        CalendarPermission {
            user_id,
            can_create_items: None,
            can_create_sub_folders: None,
            is_folder_owner: None,
            is_folder_visible: None,
            is_folder_contact: None,
            edit_items: None,
            delete_items: None,
            read_items: None,
            calendar_permission_level,
        }
    }
}

/// `t:EffectiveRights`: what the caller may do on the folder.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/effectiverights>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EffectiveRights {
    /// `t:CreateAssociated`.
    pub create_associated: bool,
    /// `t:CreateContents`.
    pub create_contents: bool,
    /// `t:CreateHierarchy`.
    pub create_hierarchy: bool,
    /// `t:Delete`.
    pub delete: bool,
    /// `t:Modify`.
    pub modify: bool,
    /// `t:Read`.
    pub read: bool,
    /// `t:ViewPrivateItems` (Exchange 2010 SP1 and later).
    pub view_private_items: Option<bool>,
}

/// `t:DelegateUser`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/delegateuser>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DelegateUser {
    /// Who the delegate is.
    pub user_id: UserId,
    /// Per-folder levels; `None` leaves them out.
    pub delegate_permissions: Option<DelegatePermissions>,
    /// `t:ReceiveCopiesOfMeetingMessages`.
    pub receive_copies_of_meeting_messages: Option<bool>,
    /// `t:ViewPrivateItems` (mailbox-wide, not per folder).
    pub view_private_items: Option<bool>,
}

/// `t:DelegatePermissions`: six optional levels, in schema order.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/delegatepermissions>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DelegatePermissions {
    /// `t:CalendarFolderPermissionLevel`.
    pub calendar_folder_permission_level: Option<DelegateFolderPermissionLevel>,
    /// `t:TasksFolderPermissionLevel`.
    pub tasks_folder_permission_level: Option<DelegateFolderPermissionLevel>,
    /// `t:InboxFolderPermissionLevel`.
    pub inbox_folder_permission_level: Option<DelegateFolderPermissionLevel>,
    /// `t:ContactsFolderPermissionLevel`.
    pub contacts_folder_permission_level: Option<DelegateFolderPermissionLevel>,
    /// `t:NotesFolderPermissionLevel`.
    pub notes_folder_permission_level: Option<DelegateFolderPermissionLevel>,
    /// `t:JournalFolderPermissionLevel`.
    pub journal_folder_permission_level: Option<DelegateFolderPermissionLevel>,
}

impl DelegatePermissions {
    fn in_schema_order(&self) -> [(&'static str, Option<DelegateFolderPermissionLevel>); 6] {
        [
            (
                "t:CalendarFolderPermissionLevel",
                self.calendar_folder_permission_level,
            ),
            (
                "t:TasksFolderPermissionLevel",
                self.tasks_folder_permission_level,
            ),
            (
                "t:InboxFolderPermissionLevel",
                self.inbox_folder_permission_level,
            ),
            (
                "t:ContactsFolderPermissionLevel",
                self.contacts_folder_permission_level,
            ),
            (
                "t:NotesFolderPermissionLevel",
                self.notes_folder_permission_level,
            ),
            (
                "t:JournalFolderPermissionLevel",
                self.journal_folder_permission_level,
            ),
        ]
    }
}

// ---- writers ----------------------------------------------------------------------------------

/// Writes `t:FolderId`.
pub(crate) fn write_folder_id(
    writer: &mut XmlWriter,
    field: &str,
    folder_id: &FolderId,
) -> Result<(), Error> {
    require_non_empty(field, &folder_id.id)?;
    let id_field = format!("{field}.id");
    let change_key_field = format!("{field}.change_key");
    let mut attributes = vec![("Id", id_field.as_str(), folder_id.id.as_str())];
    if let Some(change_key) = &folder_id.change_key {
        attributes.push(("ChangeKey", change_key_field.as_str(), change_key.as_str()));
    }
    writer.open_with("t:FolderId", &attributes, true)
}

/// Writes `t:UserId` with one identifier (see the module invariant).
///
/// `allow_distinguished` is false for delegates, which must be real users.
pub(crate) fn write_user_id(
    writer: &mut XmlWriter,
    field: &str,
    user_id: &UserId,
    allow_distinguished: bool,
) -> Result<(), Error> {
    writer.open("t:UserId");
    match (
        user_id.distinguished_user,
        &user_id.sid,
        &user_id.primary_smtp_address,
    ) {
        (Some(distinguished), _, _) if allow_distinguished => {
            writer.leaf_static("t:DistinguishedUser", distinguished.as_str());
        }
        (Some(_), _, _) => {
            return Err(Error::InvalidInput {
                field: field.to_owned(),
                reason: "Default and Anonymous cannot be delegates".to_owned(),
            });
        }
        (None, Some(sid), _) => {
            require_non_empty(&format!("{field}.sid"), sid)?;
            writer.leaf("t:SID", &format!("{field}.sid"), sid)?;
        }
        (None, None, Some(address)) => {
            let address_field = format!("{field}.primary_smtp_address");
            require_non_empty(&address_field, address)?;
            writer.leaf("t:PrimarySmtpAddress", &address_field, address)?;
        }
        (None, None, None) => {
            return Err(Error::InvalidInput {
                field: field.to_owned(),
                reason: "a user needs a sid, a primary smtp address or a distinguished user"
                    .to_owned(),
            });
        }
    }
    writer.close("t:UserId");
    Ok(())
}

/// Writes the `t:UserId` of a permission entry: as [`write_user_id`], and besides, entries the
/// connector does not model are written back as they were read: one identified only by
/// `t:ExternalUserIdentity` (a cross-organization user) with that identity alone, and one whose
/// `t:UserId` was empty (no SID, address, distinguished user or external identity) as an empty
/// `t:UserId`. `DisplayName` is never sent.
pub(crate) fn write_permission_user_id(
    writer: &mut XmlWriter,
    field: &str,
    user_id: &UserId,
) -> Result<(), Error> {
    let identified = user_id.distinguished_user.is_some()
        || user_id.sid.is_some()
        || user_id.primary_smtp_address.is_some();
    if identified {
        return write_user_id(writer, field, user_id, true);
    }
    match &user_id.external_user_identity {
        Some(identity) => {
            let identity_field = format!("{field}.external_user_identity");
            require_non_empty(&identity_field, identity)?;
            writer.open("t:UserId");
            writer.leaf("t:ExternalUserIdentity", &identity_field, identity)?;
            writer.close("t:UserId");
        }
        None => writer.raw("<t:UserId/>"),
    }
    Ok(())
}

/// Writes `t:PermissionSet` for `UpdateFolder` following PROTOCOL §4.2: named levels without
/// flags, `Custom` with the flags given, entries the connector does not model written back as
/// read ([`write_permission_user_id`]), and no `UnknownEntries` (Exchange deletes them on any
/// rewrite of the set; the delegation layer refuses to write a set that holds them).
pub(crate) fn write_calendar_permission_set(
    writer: &mut XmlWriter,
    field: &str,
    permission_set: &CalendarPermissionSet,
) -> Result<(), Error> {
    writer.open("t:PermissionSet");
    writer.open("t:CalendarPermissions");
    for (index, permission) in permission_set.calendar_permissions.iter().enumerate() {
        let entry_field = format!("{field}.calendar_permissions[{index}]");
        writer.open("t:CalendarPermission");
        write_permission_user_id(
            writer,
            &format!("{entry_field}.user_id"),
            &permission.user_id,
        )?;
        if permission.calendar_permission_level == CalendarPermissionLevel::Custom {
            let flags = [
                ("t:CanCreateItems", permission.can_create_items),
                ("t:CanCreateSubFolders", permission.can_create_sub_folders),
                ("t:IsFolderOwner", permission.is_folder_owner),
                ("t:IsFolderVisible", permission.is_folder_visible),
                ("t:IsFolderContact", permission.is_folder_contact),
            ];
            for (name, value) in flags {
                if let Some(value) = value {
                    writer.leaf_bool(name, value);
                }
            }
            if let Some(edit_items) = permission.edit_items {
                writer.leaf_static("t:EditItems", edit_items.as_str());
            }
            if let Some(delete_items) = permission.delete_items {
                writer.leaf_static("t:DeleteItems", delete_items.as_str());
            }
            if let Some(read_items) = permission.read_items {
                writer.leaf_static("t:ReadItems", read_items.as_str());
            }
        }
        writer.leaf_static(
            "t:CalendarPermissionLevel",
            permission.calendar_permission_level.as_str(),
        );
        writer.close("t:CalendarPermission");
    }
    writer.close("t:CalendarPermissions");
    writer.close("t:PermissionSet");
    Ok(())
}

/// Writes `t:DelegateUser`.
pub(crate) fn write_delegate_user(
    writer: &mut XmlWriter,
    field: &str,
    delegate_user: &DelegateUser,
) -> Result<(), Error> {
    writer.open("t:DelegateUser");
    write_user_id(
        writer,
        &format!("{field}.user_id"),
        &delegate_user.user_id,
        false,
    )?;
    if let Some(permissions) = &delegate_user.delegate_permissions {
        writer.open("t:DelegatePermissions");
        for (name, level) in permissions.in_schema_order() {
            if let Some(level) = level {
                writer.leaf_static(name, level.as_str());
            }
        }
        writer.close("t:DelegatePermissions");
    }
    if let Some(value) = delegate_user.receive_copies_of_meeting_messages {
        writer.leaf_bool("t:ReceiveCopiesOfMeetingMessages", value);
    }
    if let Some(value) = delegate_user.view_private_items {
        writer.leaf_bool("t:ViewPrivateItems", value);
    }
    writer.close("t:DelegateUser");
    Ok(())
}

/// Refuses an empty or blank value (Exchange rejects them with less helpful errors).
pub(crate) fn require_non_empty(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: field.to_owned(),
            reason: "must not be empty".to_owned(),
        });
    }
    Ok(())
}

// ---- readers ----------------------------------------------------------------------------------

/// Reads `t:FolderId`.
pub(crate) fn parse_folder_id(element: &Element) -> Result<FolderId, Error> {
    Ok(FolderId {
        id: element.require_attribute("Id")?.to_owned(),
        change_key: element.attribute("ChangeKey").map(str::to_owned),
    })
}

/// Reads `t:UserId`.
pub(crate) fn parse_user_id(element: &Element) -> Result<UserId, Error> {
    let text = |name: &str| {
        element
            .child(TYPES_NS, name)
            .map(|child| child.trimmed_text().to_owned())
    };
    Ok(UserId {
        sid: text("SID"),
        primary_smtp_address: text("PrimarySmtpAddress"),
        display_name: element.child_text(TYPES_NS, "DisplayName"),
        distinguished_user: element.parse_child(TYPES_NS, "DistinguishedUser")?,
        external_user_identity: text("ExternalUserIdentity"),
    })
}

/// Reads a calendar `t:PermissionSet`; `None` for the generic folder form (`t:Permissions`).
pub(crate) fn parse_calendar_permission_set(
    element: &Element,
) -> Result<Option<CalendarPermissionSet>, Error> {
    let Some(permissions) = element.child(TYPES_NS, "CalendarPermissions") else {
        return Ok(None);
    };
    let mut calendar_permissions = Vec::new();
    for entry in permissions.children_named(TYPES_NS, "CalendarPermission") {
        calendar_permissions.push(CalendarPermission {
            user_id: parse_user_id(entry.require(TYPES_NS, "UserId")?)?,
            can_create_items: optional_bool(entry, TYPES_NS, "CanCreateItems")?,
            can_create_sub_folders: optional_bool(entry, TYPES_NS, "CanCreateSubFolders")?,
            is_folder_owner: optional_bool(entry, TYPES_NS, "IsFolderOwner")?,
            is_folder_visible: optional_bool(entry, TYPES_NS, "IsFolderVisible")?,
            is_folder_contact: optional_bool(entry, TYPES_NS, "IsFolderContact")?,
            edit_items: entry.parse_child(TYPES_NS, "EditItems")?,
            delete_items: entry.parse_child(TYPES_NS, "DeleteItems")?,
            read_items: entry.parse_child(TYPES_NS, "ReadItems")?,
            calendar_permission_level: entry
                .require(TYPES_NS, "CalendarPermissionLevel")?
                .parse_text()?,
        });
    }
    let unknown_entries = element
        .child(TYPES_NS, "UnknownEntries")
        .map(|entries| {
            entries
                .children_named(TYPES_NS, "UnknownEntry")
                .map(|entry| entry.trimmed_text().to_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(CalendarPermissionSet {
        calendar_permissions,
        unknown_entries,
    }))
}

/// Reads `t:EffectiveRights`; the six required flags must be present.
pub(crate) fn parse_effective_rights(element: &Element) -> Result<EffectiveRights, Error> {
    let flag = |name: &str| parse_bool(element.require(TYPES_NS, name)?);
    Ok(EffectiveRights {
        create_associated: flag("CreateAssociated")?,
        create_contents: flag("CreateContents")?,
        create_hierarchy: flag("CreateHierarchy")?,
        delete: flag("Delete")?,
        modify: flag("Modify")?,
        read: flag("Read")?,
        view_private_items: optional_bool(element, TYPES_NS, "ViewPrivateItems")?,
    })
}

/// Reads `t:DelegateUser` (the element may be in either EWS namespace: servers put it in `m:`).
pub(crate) fn parse_delegate_user(element: &Element) -> Result<DelegateUser, Error> {
    let delegate_permissions = element
        .child(TYPES_NS, "DelegatePermissions")
        .map(|permissions| -> Result<DelegatePermissions, Error> {
            Ok(DelegatePermissions {
                calendar_folder_permission_level: permissions
                    .parse_child(TYPES_NS, "CalendarFolderPermissionLevel")?,
                tasks_folder_permission_level: permissions
                    .parse_child(TYPES_NS, "TasksFolderPermissionLevel")?,
                inbox_folder_permission_level: permissions
                    .parse_child(TYPES_NS, "InboxFolderPermissionLevel")?,
                contacts_folder_permission_level: permissions
                    .parse_child(TYPES_NS, "ContactsFolderPermissionLevel")?,
                notes_folder_permission_level: permissions
                    .parse_child(TYPES_NS, "NotesFolderPermissionLevel")?,
                journal_folder_permission_level: permissions
                    .parse_child(TYPES_NS, "JournalFolderPermissionLevel")?,
            })
        })
        .transpose()?;
    Ok(DelegateUser {
        user_id: parse_user_id(element.require(TYPES_NS, "UserId")?)?,
        delegate_permissions,
        receive_copies_of_meeting_messages: optional_bool(
            element,
            TYPES_NS,
            "ReceiveCopiesOfMeetingMessages",
        )?,
        view_private_items: optional_bool(element, TYPES_NS, "ViewPrivateItems")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_with_microsoft_spelling() {
        for level in CalendarPermissionLevel::ALL {
            assert_eq!(
                level.as_str().parse::<CalendarPermissionLevel>().unwrap(),
                *level
            );
        }
        assert_eq!(CalendarPermissionLevel::ALL.len(), 12);
        assert_eq!(
            CalendarPermissionLevel::NoneditingAuthor.as_str(),
            "NoneditingAuthor"
        );
        assert!("editor".parse::<CalendarPermissionLevel>().is_err());
        for value in DeliverMeetingRequests::ALL {
            assert_eq!(
                value.to_string().parse::<DeliverMeetingRequests>().unwrap(),
                *value
            );
        }
    }

    #[test]
    fn user_id_without_any_identifier_is_refused() {
        let mut writer = XmlWriter::default();
        let error = write_user_id(&mut writer, "user", &UserId::default(), true).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid input in user: a user needs a sid, a primary smtp address or a distinguished user"
        );
    }

    #[test]
    fn user_id_prefers_distinguished_then_sid_then_address() {
        let mut writer = XmlWriter::default();
        let user = UserId {
            sid: Some("S-1-5-21-1".to_owned()),
            primary_smtp_address: Some("bob@contoso.example".to_owned()),
            display_name: Some("Bob".to_owned()),
            ..UserId::default()
        };
        write_user_id(&mut writer, "user", &user, true).unwrap();
        assert_eq!(
            writer.into_string(),
            "<t:UserId><t:SID>S-1-5-21-1</t:SID></t:UserId>"
        );
    }
}
