//! Response messages as data: `ResponseClass`, `ResponseError`, `MessageXml`, `ServerVersionInfo`,
//! and the one table that says what a `ResponseCode` means (`ResponseCode::kind`).
//!
//! Invariant: a message with `ResponseClass="Error"` or `"Warning"` is an `Err(ResponseError)` item
//! inside an `Ok` response, never an `ews::Error`.
//! Invariant: retry logic and HTTP mapping read `ErrorKind`, never code strings.
//!
//! Entry types: [`ResponseMessage`], [`ResponseError`], [`MessageXml`], [`ServerVersionInfo`],
//! [`ErrorKind`].

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use crate::error::Error;
use crate::response_code::ResponseCode;
use crate::xml::{MESSAGES_NS, Reader, Tag, read_text};

/// One per-item result: the payload on `Success`, the server's error on `Warning` or `Error`.
pub type ResponseMessage<T> = Result<T, ResponseError>;

/// What a response code means to a caller: retry, give up, or report "not found".
///
/// See [`ResponseCode::kind`] for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `NoError`.
    Ok,
    /// The server asks us to slow down (honour `BackOffMilliseconds` when given).
    Throttled,
    /// A passing failure; retry with back-off.
    Transient,
    /// The mailbox exists but is moving or its database is down; retry in minutes.
    MailboxUnavailable,
    /// The address or user names no mailbox; do not retry.
    MailboxNotFound,
    /// The folder, item or delegate does not exist (or is invisible to the caller).
    NotFound,
    /// The service account may not impersonate this user (configuration problem).
    ImpersonationDenied,
    /// The caller lacks a right on an object it can see.
    AccessDenied,
    /// The object changed since it was read (stale change key); re-read and retry.
    Conflict,
    /// The request or its input is invalid; a client or input bug, never retried.
    Invalid,
    /// Anything else; not retried.
    Fatal,
}

/// `ResponseClass` of a message that did not succeed.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsemessage>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseClass {
    /// Rare; treat as "not done" and inspect the code.
    Warning,
    /// The item failed.
    Error,
}

impl ResponseClass {
    /// Microsoft's spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResponseClass::Warning => "Warning",
            ResponseClass::Error => "Error",
        }
    }
}

/// A failed response message (`ResponseClass` `Error` or `Warning`).
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseError {
    /// `Error` or `Warning`.
    pub class: ResponseClass,
    /// `m:ResponseCode`, the value to key on.
    pub response_code: ResponseCode,
    /// `m:MessageText`: localized and variable; for logs only, never for decisions.
    pub message_text: Option<String>,
    /// `m:MessageXml` details (back-off hint, inner error code, other name/value pairs).
    pub message_xml: MessageXml,
}

impl ResponseError {
    /// The code to act on: for `ErrorInternalServerError` carrying an `InnerErrorResponseCode`
    /// (Exchange reports throttling inside a batch this way), the inner code; else the code.
    pub fn effective_code(&self) -> &ResponseCode {
        match (&self.response_code, &self.message_xml.inner_error_code) {
            (ResponseCode::ErrorInternalServerError, Some(inner)) => inner,
            (code, _) => code,
        }
    }

    /// The kind of [`Self::effective_code`].
    pub fn kind(&self) -> ErrorKind {
        self.effective_code().kind()
    }

    /// Whether a FindItem went over the account's `EWSFindCountLimit`
    /// (`ErrorExceededFindCountLimit`): an `Invalid` kind that a smaller view cures, so the
    /// caller that can narrow its view does so instead of failing.
    pub fn find_count_exceeded(&self) -> bool {
        *self.effective_code() == ResponseCode::ErrorExceededFindCountLimit
    }
}

/// The free-form `MessageXml` details of a response message or fault.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/messagexml>.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessageXml {
    /// `t:Value Name="BackOffMilliseconds"`: milliseconds on the wire, a `Duration` here. Exchange
    /// does not always send it (Mozilla bug 1892085), so callers need their own back-off too.
    pub back_off: Option<Duration>,
    /// `t:Value Name="InnerErrorResponseCode"`, sent with `ErrorInternalServerError`.
    pub inner_error_code: Option<ResponseCode>,
    /// Every detail as (name, trimmed text): `t:Value` elements give their `Name` attribute, other
    /// elements (`t:LineNumber`, `t:Violation`, ...) their local name. Includes the two above.
    pub values: Vec<(String, String)>,
}

impl MessageXml {
    /// The first value with this name.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `t:Value Name="Primary"`: the mailbox's primary SMTP address, sent with
    /// `ErrorNonPrimarySmtpAddress` when a request named one of its other addresses.
    pub fn primary_smtp_address(&self) -> Option<&str> {
        self.value("Primary").filter(|value| !value.is_empty())
    }

    /// `t:Value Name="MailboxGuid"`: sent by on-premises Exchange with `ErrorNonExistentMailbox`
    /// when the directory still knows the mailbox but its database does not (a mailbox moved to
    /// Exchange Online).
    pub fn mailbox_guid(&self) -> Option<&str> {
        self.value("MailboxGuid").filter(|value| !value.is_empty())
    }
}

/// `t:ServerVersionInfo` from the response header (faults usually come without it).
///
/// Identify the product by the numbers (15.0 = 2013, 15.1 = 2016, 15.2 = 2019), not by `version`.
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/serverversioninfo>.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ServerVersionInfo {
    /// `MajorVersion` (15 for 2013 to 2019).
    pub major_version: Option<u32>,
    /// `MinorVersion`.
    pub minor_version: Option<u32>,
    /// `MajorBuildNumber`.
    pub major_build_number: Option<u32>,
    /// `MinorBuildNumber`.
    pub minor_build_number: Option<u32>,
    /// `Version`, a schema label such as `V2017_07_11`; not always a valid `RequestServerVersion`.
    pub version: Option<String>,
}

impl ResponseCode {
    /// What this code means to a caller. This is the only table of its kind: adding a code's
    /// meaning is one line here (plus a fixture).
    pub fn kind(&self) -> ErrorKind {
        use ResponseCode as C;
        match self {
            C::NoError => ErrorKind::Ok,
            C::ErrorServerBusy
            | C::ErrorExceededConnectionCount
            | C::ErrorTooManyObjectsOpened
            | C::ErrorExceededSubscriptionCount => ErrorKind::Throttled,
            C::ErrorTimeoutExpired
            | C::ErrorInternalServerTransientError
            | C::ErrorConnectionFailed
            | C::ErrorBatchProcessingStopped
            | C::ErrorImpersonationFailed
            | C::ErrorADUnavailable
            | C::ErrorServiceUnavailable
            | C::ErrorMailboxFailover
            | C::ErrorMailboxLogonFailed
            | C::ErrorMessageTrackingTransientError => ErrorKind::Transient,
            C::ErrorMailboxMoveInProgress | C::ErrorMailboxStoreUnavailable => {
                ErrorKind::MailboxUnavailable
            }
            C::ErrorNonExistentMailbox
            | C::ErrorInvalidSmtpAddress
            | C::ErrorInvalidUserPrincipalName
            | C::ErrorInvalidUserSid
            | C::ErrorInvalidSid
            | C::ErrorInvalidUserSidMissingUPN
            | C::ErrorInvalidMailbox
            | C::ErrorNonPrimarySmtpAddress
            | C::ErrorMailRecipientNotFound
            | C::ErrorRecipientNotFound
            | C::ErrorNameResolutionNoMailbox
            | C::ErrorDelegateNoUser => ErrorKind::MailboxNotFound,
            C::ErrorFolderNotFound
            | C::ErrorItemNotFound
            | C::ErrorNotDelegate
            | C::ErrorParentFolderNotFound
            | C::ErrorSavedItemFolderNotFound
            | C::ErrorToFolderNotFound => ErrorKind::NotFound,
            C::ErrorImpersonateUserDenied | C::ErrorImpersonationDenied => {
                ErrorKind::ImpersonationDenied
            }
            C::ErrorAccessDenied
            | C::ErrorCreateItemAccessDenied
            | C::ErrorCreateSubfolderAccessDenied
            | C::ErrorNoFreeBusyAccess
            | C::ErrorSendAsDenied
            | C::ErrorSubscriptionAccessDenied
            | C::ErrorTokenSerializationDenied
            | C::ErrorPasswordChangeRequired => ErrorKind::AccessDenied,
            // A write refused for its ChangeKey, stale or missing (Microsoft's ResponseCode
            // reference lists both for UpdateFolder): re-read and write again.
            C::ErrorIrresolvableConflict
            | C::ErrorStaleObject
            | C::ErrorChangeKeyRequiredForWriteOperations => ErrorKind::Conflict,
            C::ErrorSchemaValidation
            | C::ErrorInvalidServerVersion
            | C::ErrorIncorrectSchemaVersion
            | C::ErrorInvalidRequest
            | C::ErrorInvalidPermissionSettings
            | C::ErrorInvalidUserInfo
            | C::ErrorDuplicateUserIdsSpecified
            | C::ErrorUserNotAllowedByPolicy
            | C::ErrorDelegateAlreadyExists
            | C::ErrorDelegateCannotAddOwner
            | C::ErrorDelegateValidationFailed
            | C::ErrorInvalidDelegateUserId
            | C::ErrorInvalidDelegatePermission
            | C::ErrorChangeKeyRequired
            | C::ErrorInvalidChangeKey
            | C::ErrorInvalidExchangeImpersonationHeaderData
            | C::ErrorMissingEmailAddress
            | C::ErrorMissingArgument
            | C::ErrorDuplicateSOAPHeader
            | C::ErrorCalendarEndDateIsEarlierThanStartDate
            | C::ErrorCalendarDurationIsTooLong
            | C::ErrorCalendarViewRangeTooBig
            | C::ErrorExceededFindCountLimit
            | C::ErrorSendMeetingInvitationsRequired
            | C::ErrorSendMeetingInvitationsOrCancellationsRequired
            | C::ErrorSendMeetingCancellationsRequired => ErrorKind::Invalid,
            // The remaining `ErrorInvalid…` codes all describe a malformed or unsupported input.
            code if code.as_str().starts_with("ErrorInvalid") => ErrorKind::Invalid,
            _ => ErrorKind::Fatal,
        }
    }
}

impl FromStr for ResponseClass {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "Warning" => Ok(ResponseClass::Warning),
            "Error" => Ok(ResponseClass::Error),
            other => Err(Error::InvalidValue {
                element: "ResponseClass".to_owned(),
                value: other.chars().take(80).collect(),
            }),
        }
    }
}

/// Reads `MessageXml` (under `m:` in messages, under `t:` in faults; any namespace accepted),
/// positioned just inside it.
///
/// # Errors
/// A malformed document's error only.
pub(crate) fn read_message_xml(reader: &mut Reader<'_>) -> Result<MessageXml, Error> {
    let mut message_xml = MessageXml::default();
    while let Some(child) = reader.next_child()? {
        let name = match (child.local(), reader.attribute("Name")) {
            ("Value", Some(name)) => name.into_owned(),
            (local, _) => local.to_owned(),
        };
        let value = reader.trimmed_text()?;
        match name.as_str() {
            "BackOffMilliseconds" => {
                message_xml.back_off = value.parse::<u64>().ok().map(Duration::from_millis);
            }
            "InnerErrorResponseCode" => {
                message_xml.inner_error_code = Some(ResponseCode::parse(&value));
            }
            _ => {}
        }
        message_xml.values.push((name, value));
    }
    Ok(message_xml)
}

/// The error part of a response message, gathered child by child: `m:ResponseCode`,
/// `m:MessageText` and `MessageXml` (the first of each).
#[derive(Debug, Default)]
pub(crate) struct ErrorParts {
    response_code: Option<String>,
    message_text: Option<String>,
    message_xml: Option<MessageXml>,
}

impl ErrorParts {
    /// Takes `tag` when it is one of the error's parts (and reads it); `false` leaves it unread.
    ///
    /// # Errors
    /// A malformed document's error only.
    pub(crate) fn offer(&mut self, reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<bool, Error> {
        if tag.is(MESSAGES_NS, "ResponseCode") {
            if self.response_code.is_none() {
                self.response_code = Some(read_text(reader)?);
                return Ok(true);
            }
        } else if tag.is(MESSAGES_NS, "MessageText") {
            if self.message_text.is_none() {
                self.message_text = Some(read_text(reader)?);
                return Ok(true);
            }
        } else if tag.local() == "MessageXml" && self.message_xml.is_none() {
            // By local name: Exchange writes it as `m:MessageXml`, but a fault's detail carries
            // it in the errors or types namespace, and proxies have been seen to re-prefix it.
            self.message_xml = Some(read_message_xml(reader)?);
            return Ok(true);
        }
        Ok(false)
    }

    /// The error of a message whose class is already known to be a failure.
    ///
    /// # Errors
    /// [`Error::MissingElement`] when there was no `ResponseCode` in `parent`.
    pub(crate) fn finish(self, class: ResponseClass, parent: &str) -> Result<ResponseError, Error> {
        let response_code = self.response_code.ok_or_else(|| Error::MissingElement {
            element: "ResponseCode".to_owned(),
            parent: parent.to_owned(),
        })?;
        Ok(ResponseError {
            class,
            response_code: ResponseCode::parse(&response_code),
            message_text: self.message_text,
            message_xml: self.message_xml.unwrap_or_default(),
        })
    }
}

/// What a `Success` response message carries, read child by child: each operation has one.
pub(crate) trait Payload: Default {
    /// The decoded payload.
    type Output;

    /// Reads (or skips) one child of a `Success` message.
    ///
    /// # Errors
    /// A malformed document's error only; a decoding error waits for [`Payload::finish`].
    fn child(&mut self, reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<(), Error>;

    /// The payload once the message's end tag is read; `message` is the message's local name.
    ///
    /// # Errors
    /// [`Error`] when the message does not hold what the payload needs.
    fn finish(self, message: &str) -> Result<Self::Output, Error>;
}

/// The payload of messages that carry nothing we read (DeleteItem, RemoveDelegate).
#[derive(Debug, Default)]
pub(crate) struct NoPayload;

impl Payload for NoPayload {
    type Output = ();

    fn child(&mut self, reader: &mut Reader<'_>, _: &Tag<'_>) -> Result<(), Error> {
        reader.skip()
    }

    fn finish(self, _: &str) -> Result<(), Error> {
        Ok(())
    }
}

/// The class of the message whose start tag was read last: `None` for `Success`.
///
/// # Errors
/// [`Error::MissingElement`] when `ResponseClass` is missing, [`Error::InvalidValue`] when it is
/// not a class.
pub(crate) fn read_class(
    reader: &Reader<'_>,
    message: &str,
) -> Result<Option<ResponseClass>, Error> {
    let class = reader.require_attribute("ResponseClass", message)?;
    match class.trim() {
        "Success" => Ok(None),
        other => other.parse().map(Some),
    }
}

/// Reads one response message positioned just inside it (`message` is its local name):
/// `ResponseClass`, then either the payload (on `Success`) or a [`ResponseError`].
///
/// # Errors
/// [`Error`] when `ResponseClass` is missing or unknown, when a failed message has no
/// `ResponseCode`, or when the payload decoder fails.
pub(crate) fn read_response_message<P: Payload>(
    reader: &mut Reader<'_>,
    message: &str,
) -> Result<ResponseMessage<P::Output>, Error> {
    match read_class(reader, message)? {
        None => {
            let mut payload = P::default();
            while let Some(child) = reader.next_child()? {
                payload.child(reader, &child)?;
            }
            payload.finish(message).map(Ok)
        }
        Some(class) => {
            let mut parts = ErrorParts::default();
            while let Some(child) = reader.next_child()? {
                if !parts.offer(reader, &child)? {
                    reader.skip()?;
                }
            }
            Ok(Err(parts.finish(class, message)?))
        }
    }
}

/// Reads `t:ServerVersionInfo` from the start tag read last; unparsable numbers are absent.
pub(crate) fn read_server_version_info(reader: &Reader<'_>) -> ServerVersionInfo {
    let number = |name: &str| {
        reader
            .attribute(name)
            .and_then(|value| value.trim().parse().ok())
    };
    ServerVersionInfo {
        major_version: number("MajorVersion"),
        minor_version: number("MinorVersion"),
        major_build_number: number("MajorBuildNumber"),
        minor_build_number: number("MinorBuildNumber"),
        version: reader.attribute("Version").map(Cow::into_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a document whose root is one response message, as the operations do.
    fn message(xml: &[u8]) -> Result<ResponseMessage<()>, Error> {
        let mut reader = Reader::new(xml)?;
        let root = reader.root()?;
        let outcome = read_response_message::<NoPayload>(&mut reader, root.local());
        reader.settle(outcome)
    }

    #[test]
    fn message_xml_is_read_in_any_namespace() {
        for (prefix, namespace) in [
            (
                "x",
                "http://schemas.microsoft.com/exchange/services/2006/messages",
            ),
            (
                "e",
                "http://schemas.microsoft.com/exchange/services/2006/errors",
            ),
            (
                "y",
                "http://schemas.microsoft.com/exchange/services/2006/types",
            ),
        ] {
            let xml = format!(
                r#"<m:M xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:{prefix}="{namespace}" ResponseClass="Error"><m:MessageText>x</m:MessageText><m:ResponseCode>ErrorNonPrimarySmtpAddress</m:ResponseCode><{prefix}:MessageXml><t:Value Name="Primary">s.jansen@uni.example</t:Value></{prefix}:MessageXml></m:M>"#
            );
            let error = message(xml.as_bytes()).unwrap().unwrap_err();
            assert_eq!(
                error.message_xml.primary_smtp_address(),
                Some("s.jansen@uni.example"),
                "{prefix}"
            );
            assert_eq!(error.message_xml.mailbox_guid(), None);
        }
    }

    #[test]
    fn kind_table_groups_the_codes_callers_act_on() {
        let cases = [
            ("NoError", ErrorKind::Ok),
            ("ErrorServerBusy", ErrorKind::Throttled),
            ("ErrorExceededConnectionCount", ErrorKind::Throttled),
            ("ErrorTimeoutExpired", ErrorKind::Transient),
            ("ErrorImpersonationFailed", ErrorKind::Transient),
            ("ErrorMailboxMoveInProgress", ErrorKind::MailboxUnavailable),
            ("ErrorNonExistentMailbox", ErrorKind::MailboxNotFound),
            ("ErrorInvalidUserPrincipalName", ErrorKind::MailboxNotFound),
            ("ErrorFolderNotFound", ErrorKind::NotFound),
            ("ErrorNotDelegate", ErrorKind::NotFound),
            ("ErrorImpersonateUserDenied", ErrorKind::ImpersonationDenied),
            ("ErrorAccessDenied", ErrorKind::AccessDenied),
            ("ErrorIrresolvableConflict", ErrorKind::Conflict),
            (
                "ErrorChangeKeyRequiredForWriteOperations",
                ErrorKind::Conflict,
            ),
            ("ErrorSchemaValidation", ErrorKind::Invalid),
            ("ErrorInvalidIdMalformed", ErrorKind::Invalid),
            ("ErrorInternalServerError", ErrorKind::Fatal),
            ("ErrorSomethingNew", ErrorKind::Fatal),
        ];
        for (code, kind) in cases {
            assert_eq!(ResponseCode::parse(code).kind(), kind, "{code}");
        }
    }

    #[test]
    fn inner_error_code_is_unwrapped_from_internal_server_error() {
        let error = message(
            br#"<m:M xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" ResponseClass="Error">
<m:ResponseCode> ErrorInternalServerError
</m:ResponseCode><m:MessageXml><t:Value Name="InnerErrorResponseCode">ErrorServerBusy</t:Value><t:Value Name="BackOffMilliseconds">1500</t:Value></m:MessageXml></m:M>"#,
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(error.response_code, ResponseCode::ErrorInternalServerError);
        assert_eq!(error.effective_code(), &ResponseCode::ErrorServerBusy);
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(
            error.message_xml.back_off,
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            error.message_xml.value("InnerErrorResponseCode"),
            Some("ErrorServerBusy")
        );
    }

    #[test]
    fn warning_is_an_error_item_and_unknown_class_is_refused() {
        let item = message(
            br#"<M xmlns="http://schemas.microsoft.com/exchange/services/2006/messages" ResponseClass="Warning"><ResponseCode>ErrorBatchProcessingStopped</ResponseCode></M>"#,
        )
        .unwrap();
        assert_eq!(
            item,
            Err(ResponseError {
                class: ResponseClass::Warning,
                response_code: ResponseCode::ErrorBatchProcessingStopped,
                message_text: None,
                message_xml: MessageXml::default(),
            })
        );
        assert!(matches!(
            message(br#"<M ResponseClass="Maybe"/>"#),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            message(br#"<M/>"#),
            Err(Error::MissingElement { .. })
        ));
    }

    #[test]
    fn unknown_codes_parse_to_other_and_print_back() {
        let code = ResponseCode::parse("ErrorFromTheFuture");
        assert_eq!(code, ResponseCode::Other("ErrorFromTheFuture".to_owned()));
        assert_eq!(code.to_string(), "ErrorFromTheFuture");
        assert_eq!(
            "ErrorAccessDenied".parse::<ResponseCode>(),
            Ok(ResponseCode::ErrorAccessDenied)
        );
    }
}
