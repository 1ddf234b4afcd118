//! `GetDelegate`: list a mailbox's delegates (optionally only some users) and their folder levels.
//!
//! Invariant: the `IncludePermissions` attribute is always written (the schema requires it).
//!
//! Entry types: [`GetDelegate`], [`GetDelegateResponse`].

use crate::error::Error;
use crate::ops::write_user_ids;
use crate::ops::{DelegateResponse, DelegateUserPayload, Operation, sealed, write_mailbox};
use crate::types::{DelegateUser, UserId};
use crate::xml::XmlWriter;

/// Reads the delegates of `mailbox`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegate-operation>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GetDelegate {
    /// `m:Mailbox/t:EmailAddress`: the owner.
    pub mailbox: String,
    /// `@IncludePermissions`: whether `DelegatePermissions` are returned.
    pub include_permissions: bool,
    /// `m:UserIds`: only these users (a non-delegate gets an inner `ErrorNotDelegate`); empty
    /// means all delegates.
    pub user_ids: Vec<UserId>,
}

/// The response of [`GetDelegate`].
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegateresponse>.
pub type GetDelegateResponse = DelegateResponse<DelegateUser>;

impl sealed::Sealed for GetDelegate {}

impl Operation for GetDelegate {
    const NAME: &'static str = "GetDelegate";
    type Response = GetDelegateResponse;
    const IDEMPOTENT: bool = true;

    delegate_operation_members!(DelegateUserPayload);

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        writer.raw(if self.include_permissions {
            r#"<m:GetDelegate IncludePermissions="true">"#
        } else {
            r#"<m:GetDelegate IncludePermissions="false">"#
        });
        write_mailbox(writer, &self.mailbox)?;
        if !self.user_ids.is_empty() {
            write_user_ids(writer, &self.user_ids)?;
        }
        writer.close("m:GetDelegate");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{ErrorKind, ResponseClass, ResponseError};
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_decodes, assert_encodes, fixture};
    use crate::types::{
        DelegateFolderPermissionLevel, DelegatePermissions, DeliverMeetingRequests,
    };

    #[test]
    fn request_with_a_user_filter() {
        assert_encodes(
            &GetDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                include_permissions: true,
                user_ids: vec![UserId {
                    primary_smtp_address: Some("bob@contoso.example".to_owned()),
                    ..UserId::default()
                }],
            },
            r#"
<m:GetDelegate IncludePermissions="true">
  <m:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></m:Mailbox>
  <m:UserIds><t:UserId><t:PrimarySmtpAddress>bob@contoso.example</t:PrimarySmtpAddress></t:UserId></m:UserIds>
</m:GetDelegate>"#,
        );
    }

    #[test]
    fn decodes_two_delegates() {
        let decoded =
            crate::decode::<GetDelegate>(fixture!("get_delegate/two_delegates.xml").as_bytes())
                .unwrap();
        let response = decoded.response;
        assert_eq!(response.result, Ok(()));
        assert_eq!(response.delegates.len(), 2);
        let bob = response.delegates[0].as_ref().unwrap();
        assert_eq!(
            bob.user_id.primary_smtp_address.as_deref(),
            Some("bob@contoso.example")
        );
        assert_eq!(
            bob.delegate_permissions,
            Some(DelegatePermissions {
                calendar_folder_permission_level: Some(DelegateFolderPermissionLevel::Editor),
                tasks_folder_permission_level: Some(DelegateFolderPermissionLevel::Reviewer),
                ..DelegatePermissions::default()
            })
        );
        assert_eq!(bob.receive_copies_of_meeting_messages, Some(true));
        assert_eq!(
            response.deliver_meeting_requests,
            Some(DeliverMeetingRequests::DelegatesAndSendInformationToMe)
        );
    }

    #[test]
    fn decodes_no_delegates_and_not_delegate() {
        assert_decodes::<GetDelegate>(
            fixture!("get_delegate/no_delegates.xml"),
            GetDelegateResponse {
                result: Ok(()),
                delegates: Vec::new(),
                deliver_meeting_requests: Some(DeliverMeetingRequests::DelegatesAndMe),
            },
        );
        assert_decodes::<GetDelegate>(
            fixture!("get_delegate/error_not_delegate.xml"),
            GetDelegateResponse {
                result: Ok(()),
                delegates: vec![Err(ResponseError {
                    class: ResponseClass::Error,
                    response_code: ResponseCode::ErrorNotDelegate,
                    message_text: Some(
                        "The specified user is not a delegate for the mailbox.".to_owned(),
                    ),
                    message_xml: Default::default(),
                })],
                deliver_meeting_requests: Some(
                    DeliverMeetingRequests::DelegatesAndSendInformationToMe,
                ),
            },
        );
        assert_eq!(ResponseCode::ErrorNotDelegate.kind(), ErrorKind::NotFound);
    }
}
