//! `GetFolder`: read folders, in particular a calendar's `PermissionSet` and `EffectiveRights`.
//!
//! Invariant: `DistinguishedFolderId/@Id` is written in the schema's lower case (`calendar`);
//! `Calendar` fails validation. `PermissionSet` is not part of `AllProperties` and must be asked
//! for with `AdditionalProperties`.
//!
//! Entry types: [`GetFolder`], [`FolderShape`], [`FolderIdRef`], [`Folder`].

use crate::error::Error;
use crate::ops::{ContainedElement, FirstContained, Operation, is_folder, sealed};
use crate::ops::{require_any, write_list};
use crate::response::ResponseMessage;
use crate::types::{
    CalendarPermissionSet, EffectiveRights, FolderId, ews_enum, read_calendar_permission_set,
    read_effective_rights, read_folder_id, require_non_empty, write_folder_id,
};
use crate::xml::{Reader, Slot, TYPES_NS, Tag, XmlWriter, read_text, required};

/// Reads one or more folders.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getfolder-operation>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetFolder {
    /// Which properties to return.
    pub folder_shape: FolderShape,
    /// The folders; one response message per id, in this order. Must not be empty.
    pub folder_ids: Vec<FolderIdRef>,
}

/// `m:FolderShape`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/foldershape>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FolderShape {
    /// `t:BaseShape`.
    pub base_shape: BaseShape,
    /// `t:AdditionalProperties/t:FieldURI`; omitted when empty.
    pub additional_properties: Vec<FolderField>,
}

ews_enum! {
    /// `t:BaseShape`.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/baseshape>.
    BaseShape {
        /// Only the id (enough with `AdditionalProperties`).
        IdOnly => "IdOnly",
        /// The default set.
        Default => "Default",
        /// All properties except a few such as `PermissionSet`.
        AllProperties => "AllProperties",
    }
}

ews_enum! {
    /// Folder properties this crate asks for, as `FieldURI` values.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/fielduri>.
    FolderField {
        /// `folder:PermissionSet`.
        PermissionSet => "folder:PermissionSet",
        /// `folder:EffectiveRights`.
        EffectiveRights => "folder:EffectiveRights",
    }
}

ews_enum! {
    /// `t:DistinguishedFolderId/@Id` values used here (lower case, as the schema spells them).
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid>.
    DistinguishedFolderName {
        /// The default calendar.
        Calendar => "calendar",
        /// The default contacts folder.
        Contacts => "contacts",
        /// The inbox.
        Inbox => "inbox",
        /// The default tasks folder.
        Tasks => "tasks",
        /// The notes folder.
        Notes => "notes",
        /// The journal folder.
        Journal => "journal",
        /// The top of the visible folder tree.
        MsgFolderRoot => "msgfolderroot",
    }
}

/// One folder to read: a well-known folder (optionally of another mailbox) or a folder id.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/folderids>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FolderIdRef {
    /// `t:DistinguishedFolderId`.
    Distinguished {
        /// Which well-known folder.
        id: DistinguishedFolderName,
        /// `t:Mailbox/t:EmailAddress`: the owner, for delegate access; `None` is the caller's own
        /// mailbox (or the impersonated one).
        mailbox: Option<String>,
    },
    /// `t:FolderId`.
    Folder(FolderId),
}

impl FolderIdRef {
    /// Names the mailbox `to` where this names `from` (case-insensitive).
    pub(crate) fn retarget(&mut self, from: &str, to: &str) {
        if let FolderIdRef::Distinguished {
            mailbox: Some(mailbox),
            ..
        } = self
        {
            if mailbox.eq_ignore_ascii_case(from) {
                *mailbox = to.to_owned();
            }
        }
    }
}

/// A folder as returned by `GetFolder` (from `t:CalendarFolder` or `t:Folder`).
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarfolder>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// `t:FolderId` with the current `ChangeKey`.
    pub folder_id: FolderId,
    /// `t:FolderClass` (`IPF.Appointment` for calendars).
    pub folder_class: Option<String>,
    /// `t:DisplayName`: localized; never match on it.
    pub display_name: Option<String>,
    /// `t:EffectiveRights` of the caller.
    pub effective_rights: Option<EffectiveRights>,
    /// `t:PermissionSet` in its calendar form; `None` when not asked for (or not a calendar).
    pub permission_set: Option<CalendarPermissionSet>,
}

impl sealed::Sealed for GetFolder {}

impl Operation for GetFolder {
    const NAME: &'static str = "GetFolder";
    type Response = Vec<ResponseMessage<Folder>>;
    const IDEMPOTENT: bool = true;

    fn retarget(&mut self, from: &str, to: &str) {
        for folder_id in &mut self.folder_ids {
            folder_id.retarget(from, to);
        }
    }

    message_operation_members!(FirstContained<FolderElement>, "GetFolderResponseMessage");

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any(
            "folder_ids",
            &self.folder_ids,
            "must name at least one folder",
        )?;
        writer.open("m:GetFolder");
        writer.open("m:FolderShape");
        writer.leaf_static("t:BaseShape", self.folder_shape.base_shape.as_str());
        if !self.folder_shape.additional_properties.is_empty() {
            writer.open("t:AdditionalProperties");
            for field in &self.folder_shape.additional_properties {
                writer.raw(r#"<t:FieldURI FieldURI=""#);
                writer.raw(field.as_str());
                writer.raw(r#""/>"#);
            }
            writer.close("t:AdditionalProperties");
        }
        writer.close("m:FolderShape");
        write_list(
            writer,
            "m:FolderIds",
            "folder_ids",
            &self.folder_ids,
            write_folder_id_ref,
        )?;
        writer.close("m:GetFolder");
        Ok(())
    }
}

/// The folder of a GetFolder message.
pub(crate) struct FolderElement;

impl ContainedElement for FolderElement {
    const CONTAINER: &'static str = "Folders";
    const MISSING: &'static str = "CalendarFolder";
    type Output = Folder;

    fn accepts(tag: &Tag<'_>) -> bool {
        is_folder(tag)
    }

    fn read(reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<Folder, Error> {
        read_folder(reader, tag.local())
    }
}

/// Writes one [`FolderIdRef`]: `t:DistinguishedFolderId` (with `t:Mailbox` for delegate access)
/// or `t:FolderId`. Shared with the item operations (`ParentFolderIds`, `SavedItemFolderId`).
pub(crate) fn write_folder_id_ref(
    writer: &mut XmlWriter,
    field: &str,
    folder_id: &FolderIdRef,
) -> Result<(), Error> {
    match folder_id {
        FolderIdRef::Distinguished { id, mailbox } => match mailbox {
            None => {
                writer.raw(r#"<t:DistinguishedFolderId Id=""#);
                writer.raw(id.as_str());
                writer.raw(r#""/>"#);
            }
            Some(mailbox) => {
                let mailbox_field = format!("{field}.mailbox");
                require_non_empty(&mailbox_field, mailbox)?;
                writer.raw(r#"<t:DistinguishedFolderId Id=""#);
                writer.raw(id.as_str());
                writer.raw(r#"">"#);
                writer.open("t:Mailbox");
                writer.leaf("t:EmailAddress", &mailbox_field, mailbox)?;
                writer.close("t:Mailbox");
                writer.close("t:DistinguishedFolderId");
            }
        },
        FolderIdRef::Folder(folder_id) => write_folder_id(writer, field, folder_id)?,
    }
    Ok(())
}

/// Reads a folder element (`folder` is its local name).
fn read_folder(reader: &mut Reader<'_>, folder: &str) -> Result<Folder, Error> {
    let mut folder_id: Slot<FolderId> = None;
    let mut folder_class = None;
    let mut display_name = None;
    let mut effective_rights: Slot<EffectiveRights> = None;
    let mut permission_set: Slot<Option<CalendarPermissionSet>> = None;
    while let Some(child) = reader.next_child()? {
        if !child.in_namespace(TYPES_NS) {
            reader.skip()?;
            continue;
        }
        match child.local() {
            "FolderId" => reader.first(&mut folder_id, |r| read_folder_id(r, "FolderId"))?,
            "FolderClass" => reader.first(&mut folder_class, read_text)?,
            "DisplayName" => reader.first(&mut display_name, read_text)?,
            "EffectiveRights" => reader.first(&mut effective_rights, read_effective_rights)?,
            "PermissionSet" => reader.first(&mut permission_set, read_calendar_permission_set)?,
            _ => reader.skip()?,
        }
    }
    Ok(Folder {
        folder_id: required(folder_id, "FolderId", folder)?,
        folder_class: folder_class.transpose()?,
        display_name: display_name.transpose()?,
        effective_rights: effective_rights.transpose()?,
        permission_set: permission_set.transpose()?.flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{ErrorKind, ResponseClass, ResponseError};
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_decodes, assert_encodes, fixture, response_envelope};
    use crate::types::{CalendarPermissionLevel, DistinguishedUser};

    #[test]
    fn request_for_permissions_in_delegate_mode() {
        assert_encodes(
            &GetFolder {
                folder_shape: FolderShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: vec![
                        FolderField::PermissionSet,
                        FolderField::EffectiveRights,
                    ],
                },
                folder_ids: vec![
                    FolderIdRef::Distinguished {
                        id: DistinguishedFolderName::Calendar,
                        mailbox: Some("alice@contoso.example".to_owned()),
                    },
                    FolderIdRef::Folder(FolderId {
                        id: "AAMk=".to_owned(),
                        change_key: None,
                    }),
                ],
            },
            r#"
<m:GetFolder>
  <m:FolderShape>
    <t:BaseShape>IdOnly</t:BaseShape>
    <t:AdditionalProperties>
      <t:FieldURI FieldURI="folder:PermissionSet"/>
      <t:FieldURI FieldURI="folder:EffectiveRights"/>
    </t:AdditionalProperties>
  </m:FolderShape>
  <m:FolderIds>
    <t:DistinguishedFolderId Id="calendar">
      <t:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></t:Mailbox>
    </t:DistinguishedFolderId>
    <t:FolderId Id="AAMk="/>
  </m:FolderIds>
</m:GetFolder>"#,
        );
    }

    #[test]
    fn empty_folder_list_is_refused() {
        let request = GetFolder {
            folder_shape: FolderShape {
                base_shape: BaseShape::IdOnly,
                additional_properties: Vec::new(),
            },
            folder_ids: Vec::new(),
        };
        let error = crate::encode(&crate::test_util::delegate_header(), &request).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid input in folder_ids: must name at least one folder"
        );
    }

    #[test]
    fn decodes_a_calendar_with_permissions() {
        let decoded =
            crate::decode::<GetFolder>(fixture!("get_folder/calendar_permissions.xml").as_bytes())
                .unwrap();
        let server_version = decoded.server_version.unwrap();
        assert_eq!(
            (server_version.major_version, server_version.minor_version),
            (Some(15), Some(1))
        );
        let folder = decoded.response.into_iter().next().unwrap().unwrap();
        assert_eq!(folder.folder_class.as_deref(), Some("IPF.Appointment"));
        assert!(folder.folder_id.change_key.is_some());
        let permissions = folder.permission_set.unwrap();
        assert_eq!(permissions.calendar_permissions.len(), 7);
        assert_eq!(permissions.unknown_entries.len(), 1);
        let default = &permissions.calendar_permissions[0];
        assert_eq!(
            default.user_id.distinguished_user,
            Some(DistinguishedUser::Default)
        );
        assert_eq!(
            default.calendar_permission_level,
            CalendarPermissionLevel::FreeBusyTimeOnly
        );
        assert_eq!(
            permissions.calendar_permissions[5]
                .user_id
                .display_name
                .as_deref(),
            Some("Dave O'Brien & Co")
        );
    }

    #[test]
    fn decodes_a_per_folder_error_as_a_value() {
        assert_decodes::<GetFolder>(
            &response_envelope(
                r#"<m:GetFolderResponse><m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>No access.</m:MessageText><m:ResponseCode>ErrorFolderNotFound</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse>"#,
            ),
            vec![Err(ResponseError {
                class: ResponseClass::Error,
                response_code: ResponseCode::ErrorFolderNotFound,
                message_text: Some("No access.".to_owned()),
                message_xml: Default::default(),
            })],
        );
        let decoded = crate::decode::<GetFolder>(
            fixture!("get_folder/error_mailbox_move_in_progress.xml").as_bytes(),
        )
        .unwrap();
        assert_eq!(
            decoded.response[0].as_ref().unwrap_err().kind(),
            ErrorKind::MailboxUnavailable
        );
    }
}
