//! `UpdateDelegate`: change delegates' folder levels or the mailbox's meeting-request delivery.
//!
//! Invariant: `m:DelegateUsers` is omitted when empty (the schema makes it optional), so only
//! `DeliverMeetingRequests` may be sent; a request changing nothing at all is refused.
//!
//! Entry types: [`UpdateDelegate`], [`UpdateDelegateResponse`].

use crate::error::Error;
use crate::ops::write_delegate_users_request;
use crate::ops::{DelegateResponse, DelegateUserPayload, Operation, sealed};
use crate::types::{DelegateUser, DeliverMeetingRequests};
use crate::xml::XmlWriter;

/// Updates existing delegates of `mailbox`; only the folder levels sent change.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatedelegate-operation>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpdateDelegate {
    /// `m:Mailbox/t:EmailAddress`: the owner.
    pub mailbox: String,
    /// `m:DelegateUsers`; may be empty when only `deliver_meeting_requests` changes.
    pub delegate_users: Vec<DelegateUser>,
    /// `m:DeliverMeetingRequests`, mailbox-wide.
    pub deliver_meeting_requests: Option<DeliverMeetingRequests>,
}

/// The response of [`UpdateDelegate`].
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updatedelegateresponse>.
pub type UpdateDelegateResponse = DelegateResponse<DelegateUser>;

impl sealed::Sealed for UpdateDelegate {}

impl Operation for UpdateDelegate {
    const NAME: &'static str = "UpdateDelegate";
    type Response = UpdateDelegateResponse;
    const IDEMPOTENT: bool = false;

    delegate_operation_members!(DelegateUserPayload);

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        if self.delegate_users.is_empty() && self.deliver_meeting_requests.is_none() {
            return Err(Error::InvalidInput {
                field: "delegate_users".to_owned(),
                reason: "nothing to update: no delegate and no DeliverMeetingRequests".to_owned(),
            });
        }
        write_delegate_users_request(
            writer,
            "m:UpdateDelegate",
            &self.mailbox,
            &self.delegate_users,
            self.deliver_meeting_requests,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, fixture};
    use crate::types::{DelegateFolderPermissionLevel, DelegatePermissions};

    #[test]
    fn request_with_only_deliver_meeting_requests() {
        assert_encodes(
            &UpdateDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                delegate_users: Vec::new(),
                deliver_meeting_requests: Some(DeliverMeetingRequests::NoForward),
            },
            r#"
<m:UpdateDelegate>
  <m:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></m:Mailbox>
  <m:DeliverMeetingRequests>NoForward</m:DeliverMeetingRequests>
</m:UpdateDelegate>"#,
        );
    }

    #[test]
    fn decodes_success_and_not_delegate() {
        let decoded =
            crate::decode::<UpdateDelegate>(fixture!("update_delegate/success.xml").as_bytes())
                .unwrap();
        let delegate = decoded.response.delegates[0].as_ref().unwrap();
        assert_eq!(
            delegate.delegate_permissions,
            Some(DelegatePermissions {
                calendar_folder_permission_level: Some(DelegateFolderPermissionLevel::Reviewer),
                ..DelegatePermissions::default()
            })
        );
        let decoded = crate::decode::<UpdateDelegate>(
            fixture!("update_delegate/error_not_delegate.xml").as_bytes(),
        )
        .unwrap();
        assert_eq!(decoded.response.result, Ok(()));
        assert_eq!(
            decoded.response.delegates[0]
                .as_ref()
                .unwrap_err()
                .response_code,
            ResponseCode::ErrorNotDelegate
        );
    }
}
