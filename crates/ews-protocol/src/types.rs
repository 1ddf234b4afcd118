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

use std::borrow::Cow;

use crate::error::Error;
use crate::xml::{
    Reader, Slot, TYPES_NS, XmlWriter, read_bool, read_text, read_trimmed, read_value, required,
};

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
//
// Each reader is positioned just after its element's start tag and reads up to its end tag.
// Children of other namespaces or names are skipped; the first child of a name counts.

/// Reads `t:FolderId` (its attributes; `element` is its local name).
///
/// # Errors
/// [`Error::MissingElement`] without `Id`.
pub(crate) fn read_folder_id(reader: &mut Reader<'_>, element: &str) -> Result<FolderId, Error> {
    Ok(FolderId {
        id: reader.require_attribute("Id", element)?.into_owned(),
        change_key: reader.attribute("ChangeKey").map(Cow::into_owned),
    })
}

/// Reads `t:UserId`.
///
/// # Errors
/// [`Error::InvalidValue`] for a `DistinguishedUser` that is not a value.
pub(crate) fn read_user_id(reader: &mut Reader<'_>) -> Result<UserId, Error> {
    let mut sid = None;
    let mut primary_smtp_address = None;
    let mut display_name = None;
    let mut distinguished_user: Slot<DistinguishedUser> = None;
    let mut external_user_identity = None;
    while let Some(child) = reader.next_child()? {
        if !child.in_namespace(TYPES_NS) {
            reader.skip()?;
            continue;
        }
        match child.local() {
            "SID" => reader.first(&mut sid, read_trimmed)?,
            "PrimarySmtpAddress" => reader.first(&mut primary_smtp_address, read_trimmed)?,
            "DisplayName" => reader.first(&mut display_name, read_text)?,
            "DistinguishedUser" => reader.first(&mut distinguished_user, |reader| {
                read_value(reader, "DistinguishedUser")
            })?,
            "ExternalUserIdentity" => reader.first(&mut external_user_identity, read_trimmed)?,
            _ => reader.skip()?,
        }
    }
    Ok(UserId {
        sid: sid.transpose()?,
        primary_smtp_address: primary_smtp_address.transpose()?,
        display_name: display_name.transpose()?,
        distinguished_user: distinguished_user.transpose()?,
        external_user_identity: external_user_identity.transpose()?,
    })
}

/// Reads a calendar `t:PermissionSet`; `None` for the generic folder form (`t:Permissions`).
///
/// # Errors
/// The first entry's error (a missing `UserId` or level, a value that is not one).
pub(crate) fn read_calendar_permission_set(
    reader: &mut Reader<'_>,
) -> Result<Option<CalendarPermissionSet>, Error> {
    let mut calendar_permissions: Slot<Vec<CalendarPermission>> = None;
    let mut unknown_entries: Slot<Vec<String>> = None;
    while let Some(child) = reader.next_child()? {
        if child.is(TYPES_NS, "CalendarPermissions") {
            reader.first(&mut calendar_permissions, read_calendar_permissions)?;
        } else if child.is(TYPES_NS, "UnknownEntries") {
            reader.first(&mut unknown_entries, |reader| {
                let mut entries = Vec::new();
                while let Some(entry) = reader.next_child()? {
                    if entry.is(TYPES_NS, "UnknownEntry") {
                        entries.push(reader.trimmed_text()?);
                    } else {
                        reader.skip()?;
                    }
                }
                Ok(entries)
            })?;
        } else {
            reader.skip()?;
        }
    }
    let Some(calendar_permissions) = calendar_permissions else {
        return Ok(None);
    };
    Ok(Some(CalendarPermissionSet {
        calendar_permissions: calendar_permissions?,
        unknown_entries: unknown_entries.transpose()?.unwrap_or_default(),
    }))
}

/// The entries of `t:CalendarPermissions`; the first wrong entry is the error.
fn read_calendar_permissions(reader: &mut Reader<'_>) -> Result<Vec<CalendarPermission>, Error> {
    let mut entries = Vec::new();
    let mut failed = None;
    while let Some(child) = reader.next_child()? {
        if failed.is_none() && child.is(TYPES_NS, "CalendarPermission") {
            match reader.attempt(read_calendar_permission)? {
                Ok(entry) => entries.push(entry),
                Err(error) => failed = Some(error),
            }
        } else {
            reader.skip()?;
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(entries),
    }
}

fn read_calendar_permission(reader: &mut Reader<'_>) -> Result<CalendarPermission, Error> {
    let mut user_id: Slot<UserId> = None;
    let mut can_create_items: Slot<bool> = None;
    let mut can_create_sub_folders: Slot<bool> = None;
    let mut is_folder_owner: Slot<bool> = None;
    let mut is_folder_visible: Slot<bool> = None;
    let mut is_folder_contact: Slot<bool> = None;
    let mut edit_items: Slot<PermissionAction> = None;
    let mut delete_items: Slot<PermissionAction> = None;
    let mut read_items: Slot<CalendarPermissionReadAccess> = None;
    let mut level: Slot<CalendarPermissionLevel> = None;
    while let Some(child) = reader.next_child()? {
        if !child.in_namespace(TYPES_NS) {
            reader.skip()?;
            continue;
        }
        let name = child.local();
        match name {
            "UserId" => reader.first(&mut user_id, read_user_id)?,
            "CanCreateItems" => reader.first(&mut can_create_items, |r| read_bool(r, name))?,
            "CanCreateSubFolders" => {
                reader.first(&mut can_create_sub_folders, |r| read_bool(r, name))?
            }
            "IsFolderOwner" => reader.first(&mut is_folder_owner, |r| read_bool(r, name))?,
            "IsFolderVisible" => reader.first(&mut is_folder_visible, |r| read_bool(r, name))?,
            "IsFolderContact" => reader.first(&mut is_folder_contact, |r| read_bool(r, name))?,
            "EditItems" => reader.first(&mut edit_items, |r| read_value(r, name))?,
            "DeleteItems" => reader.first(&mut delete_items, |r| read_value(r, name))?,
            "ReadItems" => reader.first(&mut read_items, |r| read_value(r, name))?,
            "CalendarPermissionLevel" => reader.first(&mut level, |r| read_value(r, name))?,
            _ => reader.skip()?,
        }
    }
    Ok(CalendarPermission {
        user_id: required(user_id, "UserId", "CalendarPermission")?,
        can_create_items: can_create_items.transpose()?,
        can_create_sub_folders: can_create_sub_folders.transpose()?,
        is_folder_owner: is_folder_owner.transpose()?,
        is_folder_visible: is_folder_visible.transpose()?,
        is_folder_contact: is_folder_contact.transpose()?,
        edit_items: edit_items.transpose()?,
        delete_items: delete_items.transpose()?,
        read_items: read_items.transpose()?,
        calendar_permission_level: required(
            level,
            "CalendarPermissionLevel",
            "CalendarPermission",
        )?,
    })
}

/// Reads `t:EffectiveRights`; the six required flags must be present.
///
/// # Errors
/// [`Error::MissingElement`] for a missing flag, [`Error::InvalidValue`] for a wrong one.
pub(crate) fn read_effective_rights(reader: &mut Reader<'_>) -> Result<EffectiveRights, Error> {
    const FLAGS: [&str; 7] = [
        "CreateAssociated",
        "CreateContents",
        "CreateHierarchy",
        "Delete",
        "Modify",
        "Read",
        "ViewPrivateItems",
    ];
    let mut flags: [Slot<bool>; 7] = Default::default();
    while let Some(child) = reader.next_child()? {
        let index = if child.in_namespace(TYPES_NS) {
            FLAGS.iter().position(|flag| *flag == child.local())
        } else {
            None
        };
        match index {
            Some(index) => reader.first(&mut flags[index], |r| read_bool(r, FLAGS[index]))?,
            None => reader.skip()?,
        }
    }
    let [
        create_associated,
        create_contents,
        create_hierarchy,
        delete,
        modify,
        read,
        view,
    ] = flags;
    let flag = |slot: Slot<bool>, name: &str| required(slot, name, "EffectiveRights");
    Ok(EffectiveRights {
        create_associated: flag(create_associated, FLAGS[0])?,
        create_contents: flag(create_contents, FLAGS[1])?,
        create_hierarchy: flag(create_hierarchy, FLAGS[2])?,
        delete: flag(delete, FLAGS[3])?,
        modify: flag(modify, FLAGS[4])?,
        read: flag(read, FLAGS[5])?,
        view_private_items: view.transpose()?,
    })
}

/// Reads `t:DelegateUser` (the element may be in either EWS namespace: servers put it in `m:`).
///
/// # Errors
/// [`Error::MissingElement`] without `UserId`; [`Error::InvalidValue`] for a wrong value.
pub(crate) fn read_delegate_user(reader: &mut Reader<'_>) -> Result<DelegateUser, Error> {
    let mut permissions: Slot<DelegatePermissions> = None;
    let mut user_id: Slot<UserId> = None;
    let mut receive_copies: Slot<bool> = None;
    let mut view_private_items: Slot<bool> = None;
    while let Some(child) = reader.next_child()? {
        if !child.in_namespace(TYPES_NS) {
            reader.skip()?;
            continue;
        }
        let name = child.local();
        match name {
            "DelegatePermissions" => reader.first(&mut permissions, read_delegate_permissions)?,
            "UserId" => reader.first(&mut user_id, read_user_id)?,
            "ReceiveCopiesOfMeetingMessages" => {
                reader.first(&mut receive_copies, |r| read_bool(r, name))?
            }
            "ViewPrivateItems" => reader.first(&mut view_private_items, |r| read_bool(r, name))?,
            _ => reader.skip()?,
        }
    }
    let delegate_permissions = permissions.transpose()?;
    Ok(DelegateUser {
        user_id: required(user_id, "UserId", "DelegateUser")?,
        delegate_permissions,
        receive_copies_of_meeting_messages: receive_copies.transpose()?,
        view_private_items: view_private_items.transpose()?,
    })
}

fn read_delegate_permissions(reader: &mut Reader<'_>) -> Result<DelegatePermissions, Error> {
    const FOLDERS: [&str; 6] = [
        "CalendarFolderPermissionLevel",
        "TasksFolderPermissionLevel",
        "InboxFolderPermissionLevel",
        "ContactsFolderPermissionLevel",
        "NotesFolderPermissionLevel",
        "JournalFolderPermissionLevel",
    ];
    let mut levels: [Slot<DelegateFolderPermissionLevel>; 6] = Default::default();
    while let Some(child) = reader.next_child()? {
        let index = if child.in_namespace(TYPES_NS) {
            FOLDERS.iter().position(|folder| *folder == child.local())
        } else {
            None
        };
        match index {
            Some(index) => reader.first(&mut levels[index], |r| read_value(r, FOLDERS[index]))?,
            None => reader.skip()?,
        }
    }
    let [calendar, tasks, inbox, contacts, notes, journal] = levels;
    Ok(DelegatePermissions {
        calendar_folder_permission_level: calendar.transpose()?,
        tasks_folder_permission_level: tasks.transpose()?,
        inbox_folder_permission_level: inbox.transpose()?,
        contacts_folder_permission_level: contacts.transpose()?,
        notes_folder_permission_level: notes.transpose()?,
        journal_folder_permission_level: journal.transpose()?,
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
