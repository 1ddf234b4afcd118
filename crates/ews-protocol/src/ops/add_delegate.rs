//! `AddDelegate`: make users delegates of a mailbox.
//!
//! Invariant: at least one delegate is sent (the schema requires 1..n); delegates are real users
//! (Default/Anonymous refused) identified by one identifier.
//!
//! Entry types: [`AddDelegate`], [`AddDelegateResponse`].

use crate::error::Error;
use crate::ops::{DelegateResponse, DelegateUserPayload, Operation, sealed};
use crate::ops::{require_any, write_delegate_users_request};
use crate::types::{DelegateUser, DeliverMeetingRequests};
use crate::xml::XmlWriter;

/// Adds delegates to `mailbox`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/adddelegate-operation>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddDelegate {
    /// `m:Mailbox/t:EmailAddress`: the owner.
    pub mailbox: String,
    /// `m:DelegateUsers`: must not be empty.
    pub delegate_users: Vec<DelegateUser>,
    /// `m:DeliverMeetingRequests`, mailbox-wide; `None` leaves it unchanged.
    pub deliver_meeting_requests: Option<DeliverMeetingRequests>,
}

/// The response of [`AddDelegate`]: the server echoes each resolved delegate.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/adddelegateresponse>.
pub type AddDelegateResponse = DelegateResponse<DelegateUser>;

impl sealed::Sealed for AddDelegate {}

impl Operation for AddDelegate {
    const NAME: &'static str = "AddDelegate";
    type Response = AddDelegateResponse;
    const IDEMPOTENT: bool = false;

    delegate_operation_members!(DelegateUserPayload);

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any(
            "delegate_users",
            &self.delegate_users,
            "must name at least one delegate",
        )?;
        write_delegate_users_request(
            writer,
            "m:AddDelegate",
            &self.mailbox,
            &self.delegate_users,
            self.deliver_meeting_requests,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::ErrorKind;
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, delegate_header, fixture};
    use crate::types::{
        DelegateFolderPermissionLevel, DelegatePermissions, DistinguishedUser, UserId,
    };

    fn bob() -> DelegateUser {
        DelegateUser {
            user_id: UserId {
                primary_smtp_address: Some("bob@contoso.example".to_owned()),
                ..UserId::default()
            },
            delegate_permissions: Some(DelegatePermissions {
                calendar_folder_permission_level: Some(DelegateFolderPermissionLevel::Editor),
                journal_folder_permission_level: Some(DelegateFolderPermissionLevel::None),
                ..DelegatePermissions::default()
            }),
            receive_copies_of_meeting_messages: Some(true),
            view_private_items: Some(false),
        }
    }

    #[test]
    fn request_in_schema_order() {
        assert_encodes(
            &AddDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                delegate_users: vec![bob()],
                deliver_meeting_requests: Some(
                    DeliverMeetingRequests::DelegatesAndSendInformationToMe,
                ),
            },
            r#"
<m:AddDelegate>
  <m:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></m:Mailbox>
  <m:DelegateUsers>
    <t:DelegateUser>
      <t:UserId><t:PrimarySmtpAddress>bob@contoso.example</t:PrimarySmtpAddress></t:UserId>
      <t:DelegatePermissions>
        <t:CalendarFolderPermissionLevel>Editor</t:CalendarFolderPermissionLevel>
        <t:JournalFolderPermissionLevel>None</t:JournalFolderPermissionLevel>
      </t:DelegatePermissions>
      <t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages>
      <t:ViewPrivateItems>false</t:ViewPrivateItems>
    </t:DelegateUser>
  </m:DelegateUsers>
  <m:DeliverMeetingRequests>DelegatesAndSendInformationToMe</m:DeliverMeetingRequests>
</m:AddDelegate>"#,
        );
    }

    #[test]
    fn empty_list_and_distinguished_delegate_are_refused() {
        let mut request = AddDelegate {
            mailbox: "alice@contoso.example".to_owned(),
            delegate_users: Vec::new(),
            deliver_meeting_requests: None,
        };
        assert!(crate::encode(&delegate_header(), &request).is_err());
        let mut default = bob();
        default.user_id = UserId {
            distinguished_user: Some(DistinguishedUser::Default),
            ..UserId::default()
        };
        request.delegate_users.push(default);
        let error = crate::encode(&delegate_header(), &request).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid input in delegate_users[0].user_id: Default and Anonymous cannot be delegates"
        );
    }

    #[test]
    fn decodes_an_outer_failure_without_inner_messages() {
        let decoded = crate::decode::<AddDelegate>(
            crate::test_util::response_envelope(
                r#"<m:AddDelegateResponse ResponseClass="Error"><m:MessageText>Failed.</m:MessageText><m:ResponseCode>ErrorAddDelegatesFailed</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:AddDelegateResponse>"#,
            )
            .as_bytes(),
        )
        .unwrap();
        let error = decoded.response.result.unwrap_err();
        assert_eq!(error.response_code, ResponseCode::ErrorAddDelegatesFailed);
        assert_eq!(error.message_text.as_deref(), Some("Failed."));
        assert!(decoded.response.delegates.is_empty());
    }

    #[test]
    fn decodes_success_and_per_delegate_errors() {
        let decoded =
            crate::decode::<AddDelegate>(fixture!("add_delegate/success.xml").as_bytes()).unwrap();
        let delegate = decoded.response.delegates[0].as_ref().unwrap();
        assert_eq!(
            delegate.user_id.sid.as_deref(),
            Some("S-1-5-21-2127521184-1604012920-1887927527-1105")
        );
        let decoded = crate::decode::<AddDelegate>(
            fixture!("add_delegate/error_delegate_already_exists.xml").as_bytes(),
        )
        .unwrap();
        assert_eq!(decoded.response.result, Ok(()));
        let error = decoded.response.delegates[0].as_ref().unwrap_err();
        assert_eq!(
            error.response_code,
            ResponseCode::ErrorDelegateAlreadyExists
        );
        let decoded = crate::decode::<AddDelegate>(
            fixture!("add_delegate/error_delegate_no_user.xml").as_bytes(),
        )
        .unwrap();
        assert_eq!(
            decoded.response.delegates[0].as_ref().unwrap_err().kind(),
            ErrorKind::MailboxNotFound
        );
    }
}
