//! `UpdateFolder` with `SetFolderField folder:PermissionSet`: replace a calendar's whole ACL.
//!
//! Invariants (PROTOCOL §4.2): the `FolderId` carries the `ChangeKey` of the read the change was
//! based on (refused without one); Default/Anonymous entries hold only `DistinguishedUser`;
//! other users get one identifier (SID, else primary SMTP address); named levels are sent
//! without flags; `Custom` sends the flags given, in schema order; an entry known only by
//! `ExternalUserIdentity` is sent with that identity, one read with an empty `UserId` with an empty
//! one; `UnknownEntries` are never sent.
//!
//! Entry types: [`UpdateFolder`], [`FolderChange`].

use crate::error::Error;
use crate::ops::require_any;
use crate::ops::{ContainedElement, FirstContained, Operation, is_folder, sealed};
use crate::response::ResponseMessage;
use crate::types::{
    CalendarPermissionSet, FolderId, read_folder_id, write_calendar_permission_set, write_folder_id,
};
use crate::xml::{Reader, Slot, TYPES_NS, Tag, XmlWriter, required};

/// Replaces the permission set of one or more calendar folders.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatefolder-operation>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateFolder {
    /// One change per folder; one response message each, in this order. Must not be empty.
    pub folder_changes: Vec<FolderChange>,
}

/// `t:FolderChange` setting `folder:PermissionSet` on a calendar folder.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/folderchange>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderChange {
    /// The folder, with the `ChangeKey` from the `GetFolder` the new set was computed from.
    pub folder_id: FolderId,
    /// The complete new ACL: entries left out are removed.
    pub permission_set: CalendarPermissionSet,
}

impl sealed::Sealed for UpdateFolder {}

impl Operation for UpdateFolder {
    const NAME: &'static str = "UpdateFolder";
    /// The folder id with its new `ChangeKey`, per change.
    type Response = Vec<ResponseMessage<FolderId>>;
    const IDEMPOTENT: bool = false;

    message_operation_members!(
        FirstContained<FolderIdOfFolder>,
        "UpdateFolderResponseMessage"
    );

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any(
            "folder_changes",
            &self.folder_changes,
            "must hold at least one change",
        )?;
        writer.open("m:UpdateFolder");
        writer.open("m:FolderChanges");
        for (index, change) in self.folder_changes.iter().enumerate() {
            let field = format!("folder_changes[{index}]");
            if change.folder_id.change_key.is_none() {
                return Err(Error::InvalidInput {
                    field: format!("{field}.folder_id.change_key"),
                    reason: "a permission change must carry the ChangeKey it was based on"
                        .to_owned(),
                });
            }
            writer.open("t:FolderChange");
            write_folder_id(writer, &format!("{field}.folder_id"), &change.folder_id)?;
            writer.open("t:Updates");
            writer.open("t:SetFolderField");
            writer.raw(r#"<t:FieldURI FieldURI="folder:PermissionSet"/>"#);
            writer.open("t:CalendarFolder");
            write_calendar_permission_set(
                writer,
                &format!("{field}.permission_set"),
                &change.permission_set,
            )?;
            writer.close("t:CalendarFolder");
            writer.close("t:SetFolderField");
            writer.close("t:Updates");
            writer.close("t:FolderChange");
        }
        writer.close("m:FolderChanges");
        writer.close("m:UpdateFolder");
        Ok(())
    }
}

/// The `t:FolderId` of the folder an UpdateFolder message returns.
struct FolderIdOfFolder;

impl ContainedElement for FolderIdOfFolder {
    const CONTAINER: &'static str = "Folders";
    const MISSING: &'static str = "CalendarFolder";
    type Output = FolderId;

    fn accepts(tag: &Tag<'_>) -> bool {
        is_folder(tag)
    }

    fn read(reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<FolderId, Error> {
        let mut folder_id: Slot<FolderId> = None;
        while let Some(child) = reader.next_child()? {
            if child.is(TYPES_NS, "FolderId") {
                reader.first(&mut folder_id, |r| read_folder_id(r, "FolderId"))?;
            } else {
                reader.skip()?;
            }
        }
        required(folder_id, "FolderId", tag.local())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{ErrorKind, ResponseClass};
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, delegate_header, fixture};
    use crate::types::{
        CalendarPermission, CalendarPermissionLevel, CalendarPermissionReadAccess,
        DistinguishedUser, PermissionAction, UserId,
    };

    fn full_flags(user_id: UserId, level: CalendarPermissionLevel) -> CalendarPermission {
        CalendarPermission {
            user_id,
            can_create_items: Some(true),
            can_create_sub_folders: Some(false),
            is_folder_owner: Some(false),
            is_folder_visible: Some(true),
            is_folder_contact: Some(false),
            edit_items: Some(PermissionAction::All),
            delete_items: Some(PermissionAction::All),
            read_items: Some(CalendarPermissionReadAccess::FullDetails),
            calendar_permission_level: level,
        }
    }

    fn change(permissions: Vec<CalendarPermission>) -> UpdateFolder {
        UpdateFolder {
            folder_changes: vec![FolderChange {
                folder_id: FolderId {
                    id: "AAMk=".to_owned(),
                    change_key: Some("CK1".to_owned()),
                },
                permission_set: CalendarPermissionSet {
                    calendar_permissions: permissions,
                    unknown_entries: vec!["NT:S-1-5-21-9".to_owned()],
                },
            }],
        }
    }

    #[test]
    fn request_strips_what_the_server_would_reject() {
        let default = UserId {
            sid: Some("S-1-1-0".to_owned()),
            display_name: Some("Default".to_owned()),
            distinguished_user: Some(DistinguishedUser::Default),
            ..UserId::default()
        };
        let bob = UserId {
            sid: Some("S-1-5-21-1-2-3-1105".to_owned()),
            primary_smtp_address: Some("bob@contoso.example".to_owned()),
            display_name: Some("Bob Jones".to_owned()),
            ..UserId::default()
        };
        let carol = UserId {
            primary_smtp_address: Some("carol@contoso.example".to_owned()),
            ..UserId::default()
        };
        let mut custom = full_flags(carol, CalendarPermissionLevel::Custom);
        custom.is_folder_owner = None;
        custom.delete_items = Some(PermissionAction::Owned);
        assert_encodes(
            &change(vec![
                full_flags(default, CalendarPermissionLevel::FreeBusyTimeOnly),
                full_flags(bob, CalendarPermissionLevel::Editor),
                custom,
            ]),
            r#"
<m:UpdateFolder><m:FolderChanges><t:FolderChange>
  <t:FolderId Id="AAMk=" ChangeKey="CK1"/>
  <t:Updates><t:SetFolderField>
    <t:FieldURI FieldURI="folder:PermissionSet"/>
    <t:CalendarFolder><t:PermissionSet><t:CalendarPermissions>
      <t:CalendarPermission>
        <t:UserId><t:DistinguishedUser>Default</t:DistinguishedUser></t:UserId>
        <t:CalendarPermissionLevel>FreeBusyTimeOnly</t:CalendarPermissionLevel>
      </t:CalendarPermission>
      <t:CalendarPermission>
        <t:UserId><t:SID>S-1-5-21-1-2-3-1105</t:SID></t:UserId>
        <t:CalendarPermissionLevel>Editor</t:CalendarPermissionLevel>
      </t:CalendarPermission>
      <t:CalendarPermission>
        <t:UserId><t:PrimarySmtpAddress>carol@contoso.example</t:PrimarySmtpAddress></t:UserId>
        <t:CanCreateItems>true</t:CanCreateItems>
        <t:CanCreateSubFolders>false</t:CanCreateSubFolders>
        <t:IsFolderVisible>true</t:IsFolderVisible>
        <t:IsFolderContact>false</t:IsFolderContact>
        <t:EditItems>All</t:EditItems>
        <t:DeleteItems>Owned</t:DeleteItems>
        <t:ReadItems>FullDetails</t:ReadItems>
        <t:CalendarPermissionLevel>Custom</t:CalendarPermissionLevel>
      </t:CalendarPermission>
    </t:CalendarPermissions></t:PermissionSet></t:CalendarFolder>
  </t:SetFolderField></t:Updates>
</t:FolderChange></m:FolderChanges></m:UpdateFolder>"#,
        );
    }

    #[test]
    fn missing_change_key_is_refused() {
        let mut request = change(Vec::new());
        request.folder_changes[0].folder_id.change_key = None;
        let error = crate::encode(&delegate_header(), &request).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid input in folder_changes[0].folder_id.change_key"),
            "{error}"
        );
    }

    #[test]
    fn entries_without_a_modelled_identity_are_written_back_as_read() {
        let external = UserId {
            display_name: Some("Partner (Fabrikam)".to_owned()),
            external_user_identity: Some("ExchangePublishedUser.p@fabrikam.example".to_owned()),
            ..UserId::default()
        };
        let nobody = UserId {
            display_name: Some("Nobody".to_owned()),
            ..UserId::default()
        };
        let mut custom = full_flags(nobody, CalendarPermissionLevel::Custom);
        custom.is_folder_owner = None;
        assert_encodes(
            &change(vec![
                full_flags(external, CalendarPermissionLevel::Reviewer),
                custom,
            ]),
            r#"
<m:UpdateFolder><m:FolderChanges><t:FolderChange>
  <t:FolderId Id="AAMk=" ChangeKey="CK1"/>
  <t:Updates><t:SetFolderField>
    <t:FieldURI FieldURI="folder:PermissionSet"/>
    <t:CalendarFolder><t:PermissionSet><t:CalendarPermissions>
      <t:CalendarPermission>
        <t:UserId><t:ExternalUserIdentity>ExchangePublishedUser.p@fabrikam.example</t:ExternalUserIdentity></t:UserId>
        <t:CalendarPermissionLevel>Reviewer</t:CalendarPermissionLevel>
      </t:CalendarPermission>
      <t:CalendarPermission>
        <t:UserId/>
        <t:CanCreateItems>true</t:CanCreateItems>
        <t:CanCreateSubFolders>false</t:CanCreateSubFolders>
        <t:IsFolderVisible>true</t:IsFolderVisible>
        <t:IsFolderContact>false</t:IsFolderContact>
        <t:EditItems>All</t:EditItems>
        <t:DeleteItems>All</t:DeleteItems>
        <t:ReadItems>FullDetails</t:ReadItems>
        <t:CalendarPermissionLevel>Custom</t:CalendarPermissionLevel>
      </t:CalendarPermission>
    </t:CalendarPermissions></t:PermissionSet></t:CalendarFolder>
  </t:SetFolderField></t:Updates>
</t:FolderChange></m:FolderChanges></m:UpdateFolder>"#,
        );
        // A blank external identity is refused, naming the field.
        let blank = UserId {
            external_user_identity: Some(" ".to_owned()),
            ..UserId::default()
        };
        let request = change(vec![CalendarPermission::with_level(
            blank,
            CalendarPermissionLevel::Reviewer,
        )]);
        let error = crate::encode(&delegate_header(), &request).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "invalid input in folder_changes[0].permission_set.calendar_permissions[0].user_id.external_user_identity"
            ),
            "{error}"
        );
    }

    #[test]
    fn decodes_the_new_change_key_and_a_conflict() {
        let decoded =
            crate::decode::<UpdateFolder>(fixture!("update_folder/success.xml").as_bytes())
                .unwrap();
        let folder_id = decoded.response[0].as_ref().unwrap();
        assert_eq!(
            folder_id.change_key.as_deref(),
            Some("AgAAABQAAAB1c2VyQGNvbnRvc28uZXhhbXBsZQAAAB9")
        );
        let decoded = crate::decode::<UpdateFolder>(
            fixture!("update_folder/error_irresolvable_conflict.xml").as_bytes(),
        )
        .unwrap();
        let error = decoded.response[0].as_ref().unwrap_err();
        assert_eq!(error.class, ResponseClass::Error);
        assert_eq!(error.response_code, ResponseCode::ErrorIrresolvableConflict);
        assert_eq!(error.kind(), ErrorKind::Conflict);
    }
}
