//! `RemoveDelegate`: remove users from a mailbox's delegates.
//!
//! Invariant: at least one user is sent; an inner `ErrorNotDelegate` is a value the caller may
//! treat as "already removed".
//!
//! Entry types: [`RemoveDelegate`], [`RemoveDelegateResponse`].

use crate::error::Error;
use crate::ops::{DelegateResponse, Operation, sealed, write_mailbox};
use crate::ops::{require_any, write_user_ids};
use crate::response::NoPayload;
use crate::types::UserId;
use crate::xml::XmlWriter;

/// Removes delegates from `mailbox`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/removedelegate-operation>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoveDelegate {
    /// `m:Mailbox/t:EmailAddress`: the owner.
    pub mailbox: String,
    /// `m:UserIds`: the delegates to remove; must not be empty.
    pub user_ids: Vec<UserId>,
}

/// The response of [`RemoveDelegate`]: inner Success messages carry no delegate.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/removedelegateresponse>.
pub type RemoveDelegateResponse = DelegateResponse<()>;

impl sealed::Sealed for RemoveDelegate {}

impl Operation for RemoveDelegate {
    const NAME: &'static str = "RemoveDelegate";
    type Response = RemoveDelegateResponse;
    const IDEMPOTENT: bool = false;

    delegate_operation_members!(NoPayload);

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any(
            "user_ids",
            &self.user_ids,
            "must name at least one delegate",
        )?;
        writer.open("m:RemoveDelegate");
        write_mailbox(writer, &self.mailbox)?;
        write_user_ids(writer, &self.user_ids)?;
        writer.close("m:RemoveDelegate");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{ErrorKind, ResponseClass, ResponseError};
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_decodes, assert_encodes, fixture};

    #[test]
    fn request_uses_the_sid_when_known() {
        assert_encodes(
            &RemoveDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                user_ids: vec![
                    UserId {
                        sid: Some("S-1-5-21-1-2-3-1105".to_owned()),
                        primary_smtp_address: Some("bob@contoso.example".to_owned()),
                        ..UserId::default()
                    },
                    UserId {
                        primary_smtp_address: Some("carol@contoso.example".to_owned()),
                        ..UserId::default()
                    },
                ],
            },
            r#"
<m:RemoveDelegate>
  <m:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></m:Mailbox>
  <m:UserIds>
    <t:UserId><t:SID>S-1-5-21-1-2-3-1105</t:SID></t:UserId>
    <t:UserId><t:PrimarySmtpAddress>carol@contoso.example</t:PrimarySmtpAddress></t:UserId>
  </m:UserIds>
</m:RemoveDelegate>"#,
        );
    }

    #[test]
    fn decodes_success_and_not_delegate() {
        assert_decodes::<RemoveDelegate>(
            fixture!("remove_delegate/success.xml"),
            RemoveDelegateResponse {
                result: Ok(()),
                delegates: vec![Ok(())],
                deliver_meeting_requests: None,
            },
        );
        assert_decodes::<RemoveDelegate>(
            fixture!("remove_delegate/error_not_delegate.xml"),
            RemoveDelegateResponse {
                result: Ok(()),
                delegates: vec![Err(ResponseError {
                    class: ResponseClass::Error,
                    response_code: ResponseCode::ErrorNotDelegate,
                    message_text: Some(
                        "The specified user is not a delegate for the mailbox.".to_owned(),
                    ),
                    message_xml: Default::default(),
                })],
                deliver_meeting_requests: None,
            },
        );
        assert_eq!(ResponseCode::ErrorNotDelegate.kind(), ErrorKind::NotFound);
    }
}
