//! Autodiscover as data: the SOAP `GetUserSettings` request and response (Exchange 2010+) and the
//! POX request and response (all versions since 2007 SP1), PROTOCOL.md section 8.
//!
//! Invariants:
//! - no I/O, no async, no clock: `exchange::autodiscover` sends these bytes and decides what to do
//!   with the answers;
//! - names are matched by (namespace URI, local name), never by prefix; every written value is
//!   checked and escaped with `ews::xml`'s writer;
//! - an answer that parses but says an error (`InvalidUser`, a POX `Error`) is a value, not an
//!   [`Error`]; a `soap:Fault` or an unexpected root is an [`Error`].
//!
//! Entry points: [`encode_get_user_settings`], [`decode_get_user_settings`], [`encode_pox`],
//! [`decode_pox`]; types [`GetUserSettingsResponse`], [`UserResponse`], [`UserSettingError`],
//! [`AutodiscoverErrorCode`], [`PoxResponse`].

use crate::error::Error;
use crate::xml::{Element, SOAP_NS, XmlWriter, parse};

/// The SOAP Autodiscover namespace (request and response elements).
pub const AUTODISCOVER_NS: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
/// WS-Addressing, for `wsa:Action` and `wsa:To`.
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
/// The `wsa:Action` of `GetUserSettings`.
pub const GET_USER_SETTINGS_ACTION: &str =
    "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";
/// The POX request namespace.
pub const POX_REQUEST_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
/// The POX response root's namespace.
pub const POX_RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
/// The namespace of a POX `Response` with settings (what `AcceptableResponseSchema` asks for).
pub const POX_OUTLOOK_RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// `RequestedServerVersion` sent with `GetUserSettings`; every 2013, 2016 and 2019 server
/// accepts it (the Autodiscover values are `Exchange2010` to `Exchange2013_SP1`).
pub const AUTODISCOVER_VERSION: &str = "Exchange2013";

/// The settings the connector asks for: the two EWS URLs.
pub const EWS_URL_SETTINGS: &[&str] = &["InternalEwsUrl", "ExternalEwsUrl"];

/// `ErrorCode` of the call or of one user ([MS: ErrorCode (SOAP)]).
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/errorcode-soap>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutodiscoverErrorCode {
    NoError,
    /// Repeat the request for the address in `RedirectTarget`.
    RedirectAddress,
    /// Repeat the request at the URL in `RedirectTarget`.
    RedirectUrl,
    InvalidUser,
    InvalidRequest,
    InvalidSetting,
    SettingIsNotAvailable,
    ServerBusy,
    InvalidDomain,
    NotFederated,
    InternalServerError,
    /// A code this list does not know, kept as sent.
    Other(String),
}

impl AutodiscoverErrorCode {
    /// Parses the wire spelling; unknown codes become [`AutodiscoverErrorCode::Other`].
    pub fn parse(text: &str) -> AutodiscoverErrorCode {
        match text.trim() {
            "NoError" => AutodiscoverErrorCode::NoError,
            "RedirectAddress" => AutodiscoverErrorCode::RedirectAddress,
            "RedirectUrl" => AutodiscoverErrorCode::RedirectUrl,
            "InvalidUser" => AutodiscoverErrorCode::InvalidUser,
            "InvalidRequest" => AutodiscoverErrorCode::InvalidRequest,
            "InvalidSetting" => AutodiscoverErrorCode::InvalidSetting,
            "SettingIsNotAvailable" => AutodiscoverErrorCode::SettingIsNotAvailable,
            "ServerBusy" => AutodiscoverErrorCode::ServerBusy,
            "InvalidDomain" => AutodiscoverErrorCode::InvalidDomain,
            "NotFederated" => AutodiscoverErrorCode::NotFederated,
            "InternalServerError" => AutodiscoverErrorCode::InternalServerError,
            other => AutodiscoverErrorCode::Other(other.to_owned()),
        }
    }

    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            AutodiscoverErrorCode::NoError => "NoError",
            AutodiscoverErrorCode::RedirectAddress => "RedirectAddress",
            AutodiscoverErrorCode::RedirectUrl => "RedirectUrl",
            AutodiscoverErrorCode::InvalidUser => "InvalidUser",
            AutodiscoverErrorCode::InvalidRequest => "InvalidRequest",
            AutodiscoverErrorCode::InvalidSetting => "InvalidSetting",
            AutodiscoverErrorCode::SettingIsNotAvailable => "SettingIsNotAvailable",
            AutodiscoverErrorCode::ServerBusy => "ServerBusy",
            AutodiscoverErrorCode::InvalidDomain => "InvalidDomain",
            AutodiscoverErrorCode::NotFederated => "NotFederated",
            AutodiscoverErrorCode::InternalServerError => "InternalServerError",
            AutodiscoverErrorCode::Other(code) => code,
        }
    }
}

/// A decoded `GetUserSettingsResponseMessage/Response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetUserSettingsResponse {
    /// `Response/ErrorCode`: the call as a whole.
    pub error_code: AutodiscoverErrorCode,
    /// `Response/ErrorMessage`, trimmed (often empty).
    pub error_message: String,
    /// One per requested user, in order.
    pub users: Vec<UserResponse>,
}

/// One `UserResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserResponse {
    pub error_code: AutodiscoverErrorCode,
    /// `ErrorMessage`, trimmed.
    pub error_message: String,
    /// `RedirectTarget`: the address (RedirectAddress) or URL (RedirectUrl); `None` when
    /// `i:nil` or empty.
    pub redirect_target: Option<String>,
    /// `UserSettings/UserSetting` as (name, value), in document order; only settings with a
    /// `Value` (string settings) are kept.
    pub settings: Vec<(String, String)>,
    /// `UserSettingErrors/UserSettingError`: settings the server could not give.
    pub setting_errors: Vec<UserSettingError>,
}

impl UserResponse {
    /// The value of setting `name`, if the server sent it non-empty.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(setting, value)| setting == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }
}

/// One `UserSettingError`: a setting the server did not return, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSettingError {
    pub error_code: AutodiscoverErrorCode,
    pub error_message: String,
    pub setting_name: String,
}

/// A decoded POX answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoxResponse {
    /// `Action` = `settings`: the EWS URLs of `Protocol[Type=EXCH]` (internal) and
    /// `Protocol[Type=EXPR]` (external), when present.
    Settings {
        internal_ews_url: Option<String>,
        external_ews_url: Option<String>,
    },
    /// `Action` = `redirectAddr`: repeat with this address.
    RedirectAddress(String),
    /// `Action` = `redirectUrl`: repeat at this URL.
    RedirectUrl(String),
    /// `Response/Error`: the server's code (often `500` for an unknown address) and message.
    Error { code: String, message: String },
}

/// Writes the SOAP `GetUserSettings` request for `mailbox`, addressed (`wsa:To`) to `endpoint`,
/// asking for `settings` (usually [`EWS_URL_SETTINGS`]).
///
/// # Errors
/// [`Error::InvalidInput`] when the mailbox is empty, no setting is asked for, or a value cannot
/// be carried by XML 1.0.
pub fn encode_get_user_settings(
    endpoint: &str,
    mailbox: &str,
    settings: &[&str],
) -> Result<Vec<u8>, Error> {
    if mailbox.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "mailbox".to_owned(),
            reason: "must not be empty".to_owned(),
        });
    }
    if settings.is_empty() {
        return Err(Error::InvalidInput {
            field: "settings".to_owned(),
            reason: "at least one setting must be requested".to_owned(),
        });
    }
    let mut writer = XmlWriter::default();
    writer.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    writer.raw(&format!(
        r#"<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:a="{AUTODISCOVER_NS}" xmlns:wsa="{WSA_NS}">"#
    ));
    writer.open("soap:Header");
    writer.leaf_static("a:RequestedServerVersion", AUTODISCOVER_VERSION);
    writer.leaf_static("wsa:Action", GET_USER_SETTINGS_ACTION);
    writer.leaf("wsa:To", "endpoint", endpoint)?;
    writer.close("soap:Header");
    writer.open("soap:Body");
    writer.open("a:GetUserSettingsRequestMessage");
    writer.open("a:Request");
    writer.open("a:Users");
    writer.open("a:User");
    writer.leaf("a:Mailbox", "mailbox", mailbox)?;
    writer.close("a:User");
    writer.close("a:Users");
    writer.open("a:RequestedSettings");
    for setting in settings {
        writer.leaf("a:Setting", "settings", setting)?;
    }
    writer.close("a:RequestedSettings");
    writer.close("a:Request");
    writer.close("a:GetUserSettingsRequestMessage");
    writer.close("soap:Body");
    writer.close("soap:Envelope");
    Ok(writer.into_string().into_bytes())
}

/// Decodes a `GetUserSettings` answer.
///
/// # Errors
/// [`Error::InvalidXml`] for malformed bytes; [`Error::UnexpectedElement`] when the document is
/// not a SOAP envelope holding `GetUserSettingsResponseMessage` (a `soap:Fault` is named with its
/// `faultstring`); [`Error::MissingElement`] when `Response` or an `ErrorCode` is missing.
pub fn decode_get_user_settings(body: &[u8]) -> Result<GetUserSettingsResponse, Error> {
    let root = parse(body)?;
    if !root.is(SOAP_NS, "Envelope") {
        return Err(unexpected("soap:Envelope", &root));
    }
    let soap_body = root.require(SOAP_NS, "Body")?;
    let Some(message) = soap_body.children.first() else {
        return Err(Error::MissingElement {
            element: "GetUserSettingsResponseMessage".to_owned(),
            parent: "Body".to_owned(),
        });
    };
    if message.is(SOAP_NS, "Fault") {
        let text = message
            .unqualified_child("faultstring")
            .map(|fault| fault.trimmed_text().chars().take(200).collect::<String>())
            .unwrap_or_default();
        return Err(Error::UnexpectedElement {
            expected: "GetUserSettingsResponseMessage".to_owned(),
            found: format!("soap:Fault ({text})"),
        });
    }
    if !message.is(AUTODISCOVER_NS, "GetUserSettingsResponseMessage") {
        return Err(unexpected("GetUserSettingsResponseMessage", message));
    }
    let response = message.require(AUTODISCOVER_NS, "Response")?;
    let error_code = error_code_of(response)?;
    let error_message = text_of(response, "ErrorMessage");
    let mut users = Vec::new();
    if let Some(user_responses) = response.child(AUTODISCOVER_NS, "UserResponses") {
        for user in user_responses.children_named(AUTODISCOVER_NS, "UserResponse") {
            users.push(decode_user_response(user)?);
        }
    }
    Ok(GetUserSettingsResponse {
        error_code,
        error_message,
        users,
    })
}

/// Writes the POX request for `mailbox`.
///
/// # Errors
/// [`Error::InvalidInput`] when the mailbox is empty or cannot be carried by XML 1.0.
pub fn encode_pox(mailbox: &str) -> Result<Vec<u8>, Error> {
    if mailbox.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "mailbox".to_owned(),
            reason: "must not be empty".to_owned(),
        });
    }
    let mut writer = XmlWriter::default();
    writer.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    writer.raw(&format!(r#"<Autodiscover xmlns="{POX_REQUEST_NS}">"#));
    writer.open("Request");
    writer.leaf("EMailAddress", "mailbox", mailbox)?;
    writer.leaf_static("AcceptableResponseSchema", POX_OUTLOOK_RESPONSE_NS);
    writer.close("Request");
    writer.close("Autodiscover");
    Ok(writer.into_string().into_bytes())
}

/// Decodes a POX answer.
///
/// # Errors
/// [`Error::InvalidXml`] for malformed bytes; [`Error::UnexpectedElement`] for another root;
/// [`Error::MissingElement`] when neither `Account` nor `Error` is there, or a redirect lacks its
/// target; [`Error::InvalidValue`] for an unknown `Action`.
pub fn decode_pox(body: &[u8]) -> Result<PoxResponse, Error> {
    let root = parse(body)?;
    if !root.is(POX_RESPONSE_NS, "Autodiscover") {
        return Err(unexpected("Autodiscover", &root));
    }
    let response = root
        .child(POX_OUTLOOK_RESPONSE_NS, "Response")
        .or_else(|| root.child(POX_RESPONSE_NS, "Response"))
        .ok_or_else(|| Error::MissingElement {
            element: "Response".to_owned(),
            parent: "Autodiscover".to_owned(),
        })?;
    let namespace = response.namespace.as_deref().unwrap_or_default();
    if let Some(error) = response.child(namespace, "Error") {
        let code = error
            .children
            .iter()
            .find(|child| child.name == "ErrorCode")
            .map(|child| child.trimmed_text().to_owned())
            .unwrap_or_default();
        let message = error
            .children
            .iter()
            .find(|child| child.name == "Message")
            .map(|child| child.trimmed_text().to_owned())
            .unwrap_or_default();
        return Ok(PoxResponse::Error { code, message });
    }
    let account = response.require(namespace, "Account")?;
    let action = account
        .child(namespace, "Action")
        .map(|action| action.trimmed_text().to_owned())
        .unwrap_or_else(|| "settings".to_owned());
    let required_text = |name: &str| -> Result<String, Error> {
        let text = account.require(namespace, name)?.trimmed_text().to_owned();
        if text.is_empty() {
            return Err(Error::MissingElement {
                element: name.to_owned(),
                parent: "Account".to_owned(),
            });
        }
        Ok(text)
    };
    match action.as_str() {
        "settings" => {
            let url_of = |kind: &str| {
                account
                    .children_named(namespace, "Protocol")
                    .filter(|protocol| {
                        protocol
                            .child(namespace, "Type")
                            .is_some_and(|found| found.trimmed_text() == kind)
                    })
                    .find_map(|protocol| {
                        protocol
                            .child(namespace, "EwsUrl")
                            .map(|url| url.trimmed_text().to_owned())
                            .filter(|url| !url.is_empty())
                    })
            };
            Ok(PoxResponse::Settings {
                internal_ews_url: url_of("EXCH"),
                external_ews_url: url_of("EXPR"),
            })
        }
        "redirectAddr" => Ok(PoxResponse::RedirectAddress(required_text("RedirectAddr")?)),
        "redirectUrl" => Ok(PoxResponse::RedirectUrl(required_text("RedirectUrl")?)),
        other => Err(Error::InvalidValue {
            element: "Action".to_owned(),
            value: other.chars().take(80).collect(),
        }),
    }
}

fn decode_user_response(user: &Element) -> Result<UserResponse, Error> {
    let redirect_target = user
        .child(AUTODISCOVER_NS, "RedirectTarget")
        .map(|target| target.trimmed_text().to_owned())
        .filter(|target| !target.is_empty());
    let mut settings = Vec::new();
    if let Some(list) = user.child(AUTODISCOVER_NS, "UserSettings") {
        for setting in list.children_named(AUTODISCOVER_NS, "UserSetting") {
            let name = setting.require(AUTODISCOVER_NS, "Name")?.trimmed_text();
            if let Some(value) = setting.child(AUTODISCOVER_NS, "Value") {
                settings.push((name.to_owned(), value.trimmed_text().to_owned()));
            }
        }
    }
    let mut setting_errors = Vec::new();
    if let Some(list) = user.child(AUTODISCOVER_NS, "UserSettingErrors") {
        for error in list.children_named(AUTODISCOVER_NS, "UserSettingError") {
            setting_errors.push(UserSettingError {
                error_code: error_code_of(error)?,
                error_message: text_of(error, "ErrorMessage"),
                setting_name: text_of(error, "SettingName"),
            });
        }
    }
    Ok(UserResponse {
        error_code: error_code_of(user)?,
        error_message: text_of(user, "ErrorMessage"),
        redirect_target,
        settings,
        setting_errors,
    })
}

fn error_code_of(parent: &Element) -> Result<AutodiscoverErrorCode, Error> {
    Ok(AutodiscoverErrorCode::parse(
        parent.require(AUTODISCOVER_NS, "ErrorCode")?.trimmed_text(),
    ))
}

fn text_of(parent: &Element, name: &str) -> String {
    parent
        .child(AUTODISCOVER_NS, name)
        .map(|child| child.trimmed_text().to_owned())
        .unwrap_or_default()
}

fn unexpected(expected: &str, found: &Element) -> Error {
    Error::UnexpectedElement {
        expected: expected.to_owned(),
        found: found.qualified_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::minify;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../fixtures/autodiscover/",
                $name
            ))
        };
    }

    #[test]
    fn get_user_settings_request_is_written_in_schema_order() {
        let body = encode_get_user_settings(
            "https://autodiscover.contoso.example/autodiscover/autodiscover.svc",
            "alice@contoso.example",
            EWS_URL_SETTINGS,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            minify(fixture!("get_user_settings.request.xml"))
        );
    }

    #[test]
    fn pox_request_matches_the_fixture() {
        let body = encode_pox("alice@contoso.example").unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            minify(fixture!("pox.request.xml"))
        );
    }

    #[test]
    fn values_are_escaped_and_empty_mailboxes_refused() {
        let body = encode_get_user_settings(
            "https://x.example/a?b=1&c=<2>",
            "o'hara@contoso.example",
            EWS_URL_SETTINGS,
        )
        .unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("<wsa:To>https://x.example/a?b=1&amp;c=&lt;2&gt;</wsa:To>"));
        assert!(text.contains("<a:Mailbox>o&apos;hara@contoso.example</a:Mailbox>"));
        assert!(matches!(
            encode_get_user_settings("https://x.example", " ", EWS_URL_SETTINGS),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            encode_pox("a\u{1}b@contoso.example"),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn both_urls_are_read_whatever_the_prefixes() {
        let decoded =
            decode_get_user_settings(fixture!("get_user_settings_both_urls.xml").as_bytes())
                .unwrap();
        assert_eq!(decoded.error_code, AutodiscoverErrorCode::NoError);
        let user = &decoded.users[0];
        assert_eq!(user.error_code, AutodiscoverErrorCode::NoError);
        assert_eq!(user.redirect_target, None);
        assert_eq!(
            user.setting("InternalEwsUrl"),
            Some("https://exch01.corp.contoso.example/EWS/Exchange.asmx")
        );
        assert_eq!(
            user.setting("ExternalEwsUrl"),
            Some("https://owa.contoso.example/EWS/Exchange.asmx")
        );
    }

    #[test]
    fn redirect_url_carries_its_target() {
        let decoded =
            decode_get_user_settings(fixture!("get_user_settings_redirect_url.xml").as_bytes())
                .unwrap();
        let user = &decoded.users[0];
        assert_eq!(user.error_code, AutodiscoverErrorCode::RedirectUrl);
        assert_eq!(
            user.redirect_target.as_deref(),
            Some("https://autodiscover.east.contoso.example/autodiscover/autodiscover.svc")
        );
        assert!(user.settings.is_empty());
    }

    #[test]
    fn user_and_call_errors_are_values() {
        let decoded =
            decode_get_user_settings(fixture!("get_user_settings_invalid_user.xml").as_bytes())
                .unwrap();
        assert_eq!(
            decoded.users[0].error_code,
            AutodiscoverErrorCode::InvalidUser
        );
        assert_eq!(
            decoded.users[0].error_message,
            "Invalid user: 'nobody@contoso.example'"
        );
        let decoded =
            decode_get_user_settings(fixture!("get_user_settings_server_busy.xml").as_bytes())
                .unwrap();
        assert_eq!(decoded.error_code, AutodiscoverErrorCode::ServerBusy);
        assert!(decoded.users.is_empty());
        assert_eq!(
            AutodiscoverErrorCode::parse("SomethingNew"),
            AutodiscoverErrorCode::Other("SomethingNew".to_owned())
        );
    }

    #[test]
    fn a_fault_or_another_document_is_an_error() {
        let fault = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>The request is invalid.</faultstring></s:Fault></s:Body></s:Envelope>"#;
        let error = decode_get_user_settings(fault).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unexpected element soap:Fault (The request is invalid.), expected GetUserSettingsResponseMessage"
        );
        assert!(matches!(
            decode_get_user_settings(fixture!("pox_redirect_url.xml").as_bytes()),
            Err(Error::UnexpectedElement { .. })
        ));
        assert!(matches!(
            decode_pox(b"<html><body>Not found</body></html>"),
            Err(Error::UnexpectedElement { .. })
        ));
        assert!(matches!(
            decode_pox(b"not xml"),
            Err(Error::InvalidXml { .. })
        ));
    }

    #[test]
    fn pox_settings_redirects_and_errors() {
        assert_eq!(
            decode_pox(fixture!("pox_external_only.xml").as_bytes()).unwrap(),
            PoxResponse::Settings {
                internal_ews_url: None,
                external_ews_url: Some("https://owa.contoso.example/EWS/Exchange.asmx".to_owned()),
            }
        );
        assert_eq!(
            decode_pox(fixture!("pox_redirect_addr.xml").as_bytes()).unwrap(),
            PoxResponse::RedirectAddress("alice@resource.contoso.example".to_owned())
        );
        assert_eq!(
            decode_pox(fixture!("pox_redirect_url.xml").as_bytes()).unwrap(),
            PoxResponse::RedirectUrl(
                "https://autodiscover.east.contoso.example/autodiscover/autodiscover.xml"
                    .to_owned()
            )
        );
        assert_eq!(
            decode_pox(fixture!("pox_error.xml").as_bytes()).unwrap(),
            PoxResponse::Error {
                code: "500".to_owned(),
                message: "The email address can't be found.".to_owned(),
            }
        );
    }
}
