//! Response messages as data: `ResponseClass`, `ResponseError`, `MessageXml`, `ServerVersionInfo`,
//! and the one table that says what a `ResponseCode` means (`ResponseCode::kind`).
//!
//! Invariant: a message with `ResponseClass="Error"` or `"Warning"` is an `Err(ResponseError)` item
//! inside an `Ok` response, never an `ews::Error`.
//! Invariant: retry logic and HTTP mapping read `ErrorKind`, never code strings.
//!
//! Entry types: [`ResponseMessage`], [`ResponseError`], [`MessageXml`], [`ServerVersionInfo`],
//! [`ErrorKind`].

use std::str::FromStr;
use std::time::Duration;

use crate::ews::error::Error;
use crate::ews::response_code::ResponseCode;
use crate::ews::xml::{Element, MESSAGES_NS, TYPES_NS};

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

/// Reads `MessageXml` (under `m:` in messages, under `t:` in faults; any namespace accepted).
pub(crate) fn parse_message_xml(element: &Element) -> MessageXml {
    let mut message_xml = MessageXml::default();
    for child in &element.children {
        let name = match (child.name.as_str(), child.attribute("Name")) {
            ("Value", Some(name)) => name.to_owned(),
            (local, _) => local.to_owned(),
        };
        let value = child.trimmed_text().to_owned();
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
    message_xml
}

/// Reads one response message element: `ResponseClass`, then either the payload (on `Success`)
/// or a [`ResponseError`].
///
/// # Errors
/// [`Error`] when `ResponseClass` is missing or unknown, when a failed message has no
/// `ResponseCode`, or when the payload decoder fails.
pub(crate) fn parse_response_message<T>(
    message: &Element,
    payload: impl FnOnce(&Element) -> Result<T, Error>,
) -> Result<ResponseMessage<T>, Error> {
    let class = message.require_attribute("ResponseClass")?.trim();
    if class == "Success" {
        return payload(message).map(Ok);
    }
    Ok(Err(parse_response_error(message, class.parse()?)?))
}

/// Reads the error part of a response message whose class is already known to be a failure.
///
/// # Errors
/// [`Error::MissingElement`] when there is no `ResponseCode`.
pub(crate) fn parse_response_error(
    message: &Element,
    class: ResponseClass,
) -> Result<ResponseError, Error> {
    let response_code = message.require(MESSAGES_NS, "ResponseCode")?;
    Ok(ResponseError {
        class,
        response_code: ResponseCode::parse(&response_code.text),
        message_text: message.child_text(MESSAGES_NS, "MessageText"),
        // By local name: Exchange writes it as `m:MessageXml`, but a fault's detail carries it
        // in the errors or types namespace, and proxies have been seen to re-prefix it.
        message_xml: message
            .children
            .iter()
            .find(|child| child.name == "MessageXml")
            .map(parse_message_xml)
            .unwrap_or_default(),
    })
}

/// Reads `t:ServerVersionInfo`; unparsable numbers are treated as absent.
pub(crate) fn parse_server_version_info(element: &Element) -> ServerVersionInfo {
    let number = |name: &str| {
        element
            .attribute(name)
            .and_then(|value| value.trim().parse().ok())
    };
    ServerVersionInfo {
        major_version: number("MajorVersion"),
        minor_version: number("MinorVersion"),
        major_build_number: number("MajorBuildNumber"),
        minor_build_number: number("MinorBuildNumber"),
        version: element.attribute("Version").map(str::to_owned),
    }
}

/// Whether `element` is the types-namespace `ServerVersionInfo` header.
pub(crate) fn is_server_version_info(element: &Element) -> bool {
    element.is(TYPES_NS, "ServerVersionInfo")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ews::xml::parse;

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
            let element = parse(xml.as_bytes()).unwrap();
            let error = parse_response_error(&element, ResponseClass::Error).unwrap();
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
        let message = parse(
            br#"<m:M xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" ResponseClass="Error">
<m:ResponseCode> ErrorInternalServerError
</m:ResponseCode><m:MessageXml><t:Value Name="InnerErrorResponseCode">ErrorServerBusy</t:Value><t:Value Name="BackOffMilliseconds">1500</t:Value></m:MessageXml></m:M>"#,
        )
        .unwrap();
        let error = parse_response_message(&message, |_| Ok(()))
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
        let warning = parse(
            br#"<M xmlns="http://schemas.microsoft.com/exchange/services/2006/messages" ResponseClass="Warning"><ResponseCode>ErrorBatchProcessingStopped</ResponseCode></M>"#,
        )
        .unwrap();
        let item = parse_response_message(&warning, |_| Ok(())).unwrap();
        assert_eq!(
            item,
            Err(ResponseError {
                class: ResponseClass::Warning,
                response_code: ResponseCode::ErrorBatchProcessingStopped,
                message_text: None,
                message_xml: MessageXml::default(),
            })
        );
        let odd = parse(br#"<M ResponseClass="Maybe"/>"#).unwrap();
        assert!(matches!(
            parse_response_message(&odd, |_| Ok(())),
            Err(Error::InvalidValue { .. })
        ));
        let unclassified = parse(br#"<M/>"#).unwrap();
        assert!(matches!(
            parse_response_message(&unclassified, |_| Ok(())),
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
