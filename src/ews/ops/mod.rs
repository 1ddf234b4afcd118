//! One module per EWS operation, each with its request struct (named exactly as the EWS
//! element), its response types, its `Operation` impl and its tests.
//!
//! Invariant: `Operation` is sealed; only the operations here can be put in an envelope.
//! Invariant: the delegate operations share one response shape (`DelegateResponse`): an outer
//! result for the call, then one inner `m:DelegateUserResponseMessageType` per user.
//!
//! Entry types: [`Operation`], [`DelegateResponse`], and the operation structs in the submodules.

pub mod add_delegate;
pub mod create_item;
pub mod delete_item;
pub mod expand_dl;
pub mod find_item;
pub mod get_delegate;
pub mod get_folder;
pub mod get_item;
pub mod remove_delegate;
pub mod update_delegate;
pub mod update_folder;
pub mod update_item;

use crate::ews::error::Error;
use crate::ews::response::{
    ResponseClass, ResponseError, ResponseMessage, parse_response_error, parse_response_message,
};
use crate::ews::types::{DeliverMeetingRequests, require_non_empty};
use crate::ews::xml::{Element, MESSAGES_NS, TYPES_NS, XmlWriter};

mod sealed {
    pub trait Sealed {}
}

/// An EWS operation: what goes into `soap:Body` and how its response decodes.
///
/// Sealed: implemented only by the request structs of `ews::ops`.
pub trait Operation: sealed::Sealed + Clone {
    /// The EWS element name (`GetFolder`); the response element is `{NAME}Response`.
    const NAME: &'static str;
    /// The typed response.
    type Response: std::fmt::Debug + Clone + PartialEq;
    /// True when sending the request twice has the same effect as sending it once (reads), so
    /// `exchange` may resend it after a connection reset or timeout whose outcome is unknown.
    const IDEMPOTENT: bool;

    /// The failed response messages inside a decoded response (outer and per item), so
    /// `exchange` can see per-message throttling without knowing the response's shape.
    fn response_errors(response: &Self::Response) -> Vec<&ResponseError>;

    /// Writes the `m:{NAME}` element.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the request cannot be expressed.
    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error>;

    /// Names `to` wherever the body names the mailbox `from` (a `t:Mailbox` of a folder id, the
    /// mailbox of a delegate request), compared case-insensitively; bodies that name no mailbox
    /// stay as they are. Used once, to follow `ErrorNonPrimarySmtpAddress` to the primary
    /// address Exchange names.
    fn retarget(&mut self, from: &str, to: &str) {
        let _ = (from, to);
    }

    /// Decodes the `m:{NAME}Response` element.
    ///
    /// # Errors
    /// [`Error`] when the element does not have the expected shape.
    fn decode_response(response: &Element) -> Result<Self::Response, Error>;
}

/// The response of `GetDelegate`, `AddDelegate`, `UpdateDelegate` and `RemoveDelegate`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getdelegateresponse>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateResponse<T> {
    /// The outer `ResponseClass`/`ResponseCode` of the call as a whole.
    pub result: Result<(), ResponseError>,
    /// One inner result per delegate, in request order; empty when there are none (the server
    /// then sends no `m:ResponseMessages` at all). Per-user failures come with an outer Success.
    pub delegates: Vec<ResponseMessage<T>>,
    /// `m:DeliverMeetingRequests` (GetDelegate only).
    pub deliver_meeting_requests: Option<DeliverMeetingRequests>,
}

impl<T> DelegateResponse<T> {
    /// The outer error, if any, then the failed per-user messages.
    pub fn errors(&self) -> Vec<&ResponseError> {
        self.result
            .as_ref()
            .err()
            .into_iter()
            .chain(
                self.delegates
                    .iter()
                    .filter_map(|message| message.as_ref().err()),
            )
            .collect()
    }
}

/// The failed messages of a list of response messages.
pub(crate) fn message_errors<T>(messages: &[ResponseMessage<T>]) -> Vec<&ResponseError> {
    messages
        .iter()
        .filter_map(|message| message.as_ref().err())
        .collect()
}

/// Writes `m:Mailbox/t:EmailAddress` (`BaseDelegateType`).
pub(crate) fn write_mailbox(writer: &mut XmlWriter, mailbox: &str) -> Result<(), Error> {
    require_non_empty("mailbox", mailbox)?;
    writer.open("m:Mailbox");
    writer.leaf("t:EmailAddress", "mailbox", mailbox)?;
    writer.close("m:Mailbox");
    Ok(())
}

/// Writes the part AddDelegate and UpdateDelegate share: `m:DelegateUsers` (left out when
/// empty, which only UpdateDelegate allows) and `m:DeliverMeetingRequests`, in schema order.
pub(crate) fn write_delegate_users_and_delivery(
    writer: &mut XmlWriter,
    delegate_users: &[crate::ews::types::DelegateUser],
    deliver_meeting_requests: Option<crate::ews::types::DeliverMeetingRequests>,
) -> Result<(), Error> {
    if !delegate_users.is_empty() {
        writer.open("m:DelegateUsers");
        for (index, delegate_user) in delegate_users.iter().enumerate() {
            crate::ews::types::write_delegate_user(
                writer,
                &format!("delegate_users[{index}]"),
                delegate_user,
            )?;
        }
        writer.close("m:DelegateUsers");
    }
    if let Some(deliver) = deliver_meeting_requests {
        writer.leaf_static("m:DeliverMeetingRequests", deliver.as_str());
    }
    Ok(())
}

/// Reads the `m:ResponseMessages/m:{message_name}` children of an operation response.
pub(crate) fn parse_response_messages<T>(
    response: &Element,
    message_name: &str,
    mut payload: impl FnMut(&Element) -> Result<T, Error>,
) -> Result<Vec<ResponseMessage<T>>, Error> {
    response
        .require(MESSAGES_NS, "ResponseMessages")?
        .children_named(MESSAGES_NS, message_name)
        .map(|message| parse_response_message(message, &mut payload))
        .collect()
}

/// Reads the shared delegate response shape; `payload` decodes an inner Success message.
pub(crate) fn parse_delegate_response<T>(
    response: &Element,
    mut payload: impl FnMut(&Element) -> Result<T, Error>,
) -> Result<DelegateResponse<T>, Error> {
    let class = response.require_attribute("ResponseClass")?.trim();
    let result = if class == "Success" {
        Ok(())
    } else {
        Err(parse_response_error(
            response,
            class.parse::<ResponseClass>()?,
        )?)
    };
    let delegates = match response.child(MESSAGES_NS, "ResponseMessages") {
        Some(messages) => messages
            .children_named(MESSAGES_NS, "DelegateUserResponseMessageType")
            .map(|message| parse_response_message(message, &mut payload))
            .collect::<Result<Vec<_>, Error>>()?,
        None => Vec::new(),
    };
    Ok(DelegateResponse {
        result,
        delegates,
        deliver_meeting_requests: response.parse_child(MESSAGES_NS, "DeliverMeetingRequests")?,
    })
}

/// The `DelegateUser` of an inner Success message (servers put it in `m:`; `t:` is accepted).
pub(crate) fn delegate_user_element(message: &Element) -> Result<&Element, Error> {
    message
        .child(MESSAGES_NS, "DelegateUser")
        .or_else(|| message.child(TYPES_NS, "DelegateUser"))
        .ok_or_else(|| Error::MissingElement {
            element: "DelegateUser".to_owned(),
            parent: message.name.clone(),
        })
}
