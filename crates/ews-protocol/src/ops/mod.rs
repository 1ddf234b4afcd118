//! One module per EWS operation, each with its request struct (named exactly as the EWS
//! element), its response types, its `Operation` impl and its tests.
//!
//! Invariant: `Operation` is sealed; only the operations here can be put in an envelope.
//! Invariant: the delegate operations share one response shape (`DelegateResponse`): an outer
//! result for the call, then one inner `m:DelegateUserResponseMessageType` per user.
//!
//! Entry types: [`Operation`], [`DelegateResponse`], and the operation structs in the submodules.

/// The members every delegate operation (`AddDelegate`, `GetDelegate`, `RemoveDelegate`,
/// `UpdateDelegate`) shares inside its `impl Operation`: the owner's mailbox is its `mailbox`
/// field (re-targeted to the primary address Exchange names), and its errors are those of a
/// [`DelegateResponse`].
macro_rules! delegate_operation_members {
    ($payload:ty) => {
        fn decode_response(
            reader: &mut crate::xml::Reader<'_>,
            response: &crate::xml::Tag<'_>,
        ) -> Result<Self::Response, crate::error::Error> {
            crate::ops::read_delegate_response::<$payload>(reader, response.local())
        }

        fn retarget(&mut self, from: &str, to: &str) {
            if self.mailbox.eq_ignore_ascii_case(from) {
                self.mailbox = to.to_owned();
            }
        }

        fn response_errors(response: &Self::Response) -> Vec<&crate::response::ResponseError> {
            response.errors()
        }
    };
}

/// The members of an operation whose answer is one response message per input: its errors are
/// the messages' (`message_errors`) and its response decodes `m:{message}`s carrying `payload`.
macro_rules! message_operation_members {
    ($payload:ty, $message:literal) => {
        fn response_errors(response: &Self::Response) -> Vec<&crate::response::ResponseError> {
            crate::ops::message_errors(response)
        }

        fn decode_response(
            reader: &mut crate::xml::Reader<'_>,
            response: &crate::xml::Tag<'_>,
        ) -> Result<Self::Response, crate::error::Error> {
            crate::ops::read_response_messages::<$payload>(reader, response.local(), $message)
        }
    };
}

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

use crate::error::Error;
use crate::response::{
    ErrorParts, Payload, ResponseError, ResponseMessage, read_class, read_response_message,
};
use crate::types::{DelegateUser, DeliverMeetingRequests, read_delegate_user, require_non_empty};
use crate::xml::{MESSAGES_NS, Reader, Slot, TYPES_NS, Tag, XmlWriter, read_value, required};

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

    /// Decodes the `m:{NAME}Response` element from `reader`, positioned just after its start tag
    /// (`response`), reading up to its end tag.
    ///
    /// # Errors
    /// [`Error`] when the element does not have the expected shape.
    fn decode_response(
        reader: &mut Reader<'_>,
        response: &Tag<'_>,
    ) -> Result<Self::Response, Error>;
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

/// Writes the body AddDelegate and UpdateDelegate share: `m:{element}` holding the owner's
/// `m:Mailbox`, `m:DelegateUsers` (left out when empty, which only UpdateDelegate allows) and
/// `m:DeliverMeetingRequests`, in schema order.
pub(crate) fn write_delegate_users_request(
    writer: &mut XmlWriter,
    element: &str,
    mailbox: &str,
    delegate_users: &[crate::types::DelegateUser],
    deliver_meeting_requests: Option<crate::types::DeliverMeetingRequests>,
) -> Result<(), Error> {
    writer.open(element);
    write_mailbox(writer, mailbox)?;
    if !delegate_users.is_empty() {
        write_list(
            writer,
            "m:DelegateUsers",
            "delegate_users",
            delegate_users,
            crate::types::write_delegate_user,
        )?;
    }
    if let Some(deliver) = deliver_meeting_requests {
        writer.leaf_static("m:DeliverMeetingRequests", deliver.as_str());
    }
    writer.close(element);
    Ok(())
}

/// Writes `m:UserIds` (GetDelegate, RemoveDelegate), one `t:UserId` per user.
pub(crate) fn write_user_ids(
    writer: &mut XmlWriter,
    user_ids: &[crate::types::UserId],
) -> Result<(), Error> {
    write_list(
        writer,
        "m:UserIds",
        "user_ids",
        user_ids,
        |writer, field, user_id| crate::types::write_user_id(writer, field, user_id, false),
    )
}

/// Writes `m:ItemIds` (GetItem, DeleteItem), one `t:ItemId` per item.
pub(crate) fn write_item_ids(
    writer: &mut XmlWriter,
    item_ids: &[crate::items::ItemId],
) -> Result<(), Error> {
    write_list(
        writer,
        "m:ItemIds",
        "item_ids",
        item_ids,
        crate::items::write_item_id,
    )
}

/// Writes `element` holding `write` of each item, in order; an item's field in an error is
/// `{field}[{index}]`.
pub(crate) fn write_list<T>(
    writer: &mut XmlWriter,
    element: &str,
    field: &str,
    items: &[T],
    mut write: impl FnMut(&mut XmlWriter, &str, &T) -> Result<(), Error>,
) -> Result<(), Error> {
    writer.open(element);
    for (index, item) in items.iter().enumerate() {
        write(writer, &format!("{field}[{index}]"), item)?;
    }
    writer.close(element);
    Ok(())
}

/// Refuses an empty list where the schema needs at least one entry.
pub(crate) fn require_any<T>(field: &str, items: &[T], reason: &str) -> Result<(), Error> {
    if items.is_empty() {
        return Err(Error::InvalidInput {
            field: field.to_owned(),
            reason: reason.to_owned(),
        });
    }
    Ok(())
}

/// Reads the `m:ResponseMessages/m:{message_name}` children of an operation response, positioned
/// just inside the response element (`response` is its local name).
///
/// # Errors
/// [`Error::MissingElement`] without `m:ResponseMessages`; the first message's error.
pub(crate) fn read_response_messages<P: Payload>(
    reader: &mut Reader<'_>,
    response: &str,
    message_name: &str,
) -> Result<Vec<ResponseMessage<P::Output>>, Error> {
    let mut messages: Slot<Vec<ResponseMessage<P::Output>>> = None;
    while let Some(child) = reader.next_child()? {
        if child.is(MESSAGES_NS, "ResponseMessages") {
            reader.first(&mut messages, |reader| {
                read_message_list::<P>(reader, message_name)
            })?;
        } else {
            reader.skip()?;
        }
    }
    required(messages, "ResponseMessages", response)
}

/// The messages named `message_name` inside `m:ResponseMessages`; the first failing one ends the
/// list (the rest are still read, so the document is checked whole).
fn read_message_list<P: Payload>(
    reader: &mut Reader<'_>,
    message_name: &str,
) -> Result<Vec<ResponseMessage<P::Output>>, Error> {
    let mut messages = Vec::new();
    let mut failed = None;
    while let Some(child) = reader.next_child()? {
        if failed.is_none() && child.is(MESSAGES_NS, message_name) {
            match reader.attempt(|reader| read_response_message::<P>(reader, child.local()))? {
                Ok(message) => messages.push(message),
                Err(error) => failed = Some(error),
            }
        } else {
            reader.skip()?;
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(messages),
    }
}

/// Reads the shared delegate response shape, positioned just inside the response element
/// (`response` is its local name); `P` decodes an inner Success message.
///
/// # Errors
/// [`Error`] when the outer class is missing or unknown, a failed call has no `ResponseCode`, an
/// inner message is malformed, or `DeliverMeetingRequests` is not a value.
pub(crate) fn read_delegate_response<P: Payload>(
    reader: &mut Reader<'_>,
    response: &str,
) -> Result<DelegateResponse<P::Output>, Error> {
    let class = read_class(reader, response)?;
    let mut parts = ErrorParts::default();
    let mut delegates: Slot<Vec<ResponseMessage<P::Output>>> = None;
    let mut deliver: Slot<DeliverMeetingRequests> = None;
    while let Some(child) = reader.next_child()? {
        if child.is(MESSAGES_NS, "ResponseMessages") {
            reader.first(&mut delegates, |reader| {
                read_message_list::<P>(reader, "DelegateUserResponseMessageType")
            })?;
        } else if child.is(MESSAGES_NS, "DeliverMeetingRequests") {
            reader.first(&mut deliver, |reader| {
                read_value(reader, "DeliverMeetingRequests")
            })?;
        } else if class.is_none() || !parts.offer(reader, &child)? {
            reader.skip()?;
        }
    }
    let result = match class {
        None => Ok(()),
        Some(class) => Err(parts.finish(class, response)?),
    };
    Ok(DelegateResponse {
        result,
        delegates: delegates.transpose()?.unwrap_or_default(),
        deliver_meeting_requests: deliver.transpose()?,
    })
}

/// The payload of the delegate operations that return users: the inner Success message's
/// `DelegateUser` (servers put it in `m:`; `t:` is accepted, the `m:` one first).
#[derive(Debug, Default)]
pub(crate) struct DelegateUserPayload {
    in_messages: Slot<DelegateUser>,
    in_types: Slot<DelegateUser>,
}

impl Payload for DelegateUserPayload {
    type Output = DelegateUser;

    fn child(&mut self, reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<(), Error> {
        if tag.is(MESSAGES_NS, "DelegateUser") {
            reader.first(&mut self.in_messages, read_delegate_user)
        } else if tag.is(TYPES_NS, "DelegateUser") {
            reader.first(&mut self.in_types, read_delegate_user)
        } else {
            reader.skip()
        }
    }

    fn finish(self, message: &str) -> Result<DelegateUser, Error> {
        required(self.in_messages.or(self.in_types), "DelegateUser", message)
    }
}

/// The one element a `Success` message carries inside a container (`m:Folders`, `m:Items`).
pub(crate) trait ContainedElement {
    /// The container's local name in the messages namespace.
    const CONTAINER: &'static str;
    /// The element named in the error when the container holds none.
    const MISSING: &'static str;
    /// The decoded element.
    type Output;

    /// Whether `tag` is an element of the kind (the first one counts).
    fn accepts(tag: &Tag<'_>) -> bool;

    /// Reads the element positioned just inside it.
    ///
    /// # Errors
    /// [`Error`] when the element does not have its type's form.
    fn read(reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<Self::Output, Error>;
}

/// The payload "the first element of the kind in the message's first container".
pub(crate) struct FirstContained<C: ContainedElement> {
    container: Slot<Option<C::Output>>,
}

impl<C: ContainedElement> Default for FirstContained<C> {
    fn default() -> Self {
        FirstContained { container: None }
    }
}

impl<C: ContainedElement> Payload for FirstContained<C> {
    type Output = C::Output;

    fn child(&mut self, reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<(), Error> {
        if !tag.is(MESSAGES_NS, C::CONTAINER) {
            return reader.skip();
        }
        reader.first(&mut self.container, |reader| {
            let mut found: Slot<C::Output> = None;
            while let Some(child) = reader.next_child()? {
                if found.is_none() && C::accepts(&child) {
                    found = Some(reader.attempt(|reader| C::read(reader, &child))?);
                } else {
                    reader.skip()?;
                }
            }
            found.transpose()
        })
    }

    fn finish(self, message: &str) -> Result<C::Output, Error> {
        required(self.container, C::CONTAINER, message)?.ok_or_else(|| Error::MissingElement {
            element: C::MISSING.to_owned(),
            parent: C::CONTAINER.to_owned(),
        })
    }
}

/// The first folder of `m:Folders` (any folder type of the types namespace).
pub(crate) fn is_folder(tag: &Tag<'_>) -> bool {
    tag.in_namespace(TYPES_NS) && tag.local().ends_with("Folder")
}
