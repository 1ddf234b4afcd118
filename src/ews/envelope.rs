//! The SOAP envelope: request headers (`RequestServerVersion`, `ExchangeImpersonation`), the
//! `encode`/`decode` entry points, and `soap:Fault` decoding.
//!
//! Invariants:
//! - Requests use the prefixes `soap`, `t` and `m`, an XML declaration with `encoding="utf-8"`,
//!   and schema element order everywhere; nothing else in `ews` writes an envelope.
//! - A `soap:Fault` never decodes as a successful body; it is `Error::Fault`.
//! - Responses are matched by namespace URI and local name, never by prefix.
//!
//! Entry points: [`encode`], [`decode`], [`decode_fault`]; types [`RequestHeader`],
//! [`Impersonation`], [`Decoded`], [`Fault`].

use crate::ews::error::Error;
use crate::ews::ops::Operation;
use crate::ews::response::{
    MessageXml, ServerVersionInfo, is_server_version_info, parse_message_xml,
    parse_server_version_info,
};
use crate::ews::response_code::ResponseCode;
use crate::ews::types::require_non_empty;
use crate::ews::xml::{ERRORS_NS, Element, MESSAGES_NS, SOAP_NS, TYPES_NS, XmlWriter, parse};

/// Every `t:ExchangeVersionType` value of the schema (`RequestServerVersion/@Version`).
///
/// There is no `Exchange2019`: 2019 servers take `Exchange2013_SP1` or `Exchange2016`.
pub const EXCHANGE_VERSIONS: &[&str] = &[
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2009",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2012",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
    "V2015_10_05",
    "V2016_01_06",
    "V2016_04_13",
    "V2016_07_13",
    "V2016_10_10",
    "V2017_01_07",
    "V2017_04_14",
    "V2017_07_11",
];

/// Whether `version` is a `RequestServerVersion` value the schema knows (for config validation).
pub fn is_known_version(version: &str) -> bool {
    EXCHANGE_VERSIONS.contains(&version)
}

/// The SOAP headers of one request.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/requestserverversion>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestHeader {
    /// `RequestServerVersion/@Version`, e.g. `Exchange2013_SP1`; must be in [`EXCHANGE_VERSIONS`].
    pub version: String,
    /// `ExchangeImpersonation`; `None` is delegate mode (no impersonation header).
    pub impersonation: Option<Impersonation>,
}

/// `t:ExchangeImpersonation/t:ConnectingSID`: exactly one way to name the impersonated mailbox.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/connectingsid>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Impersonation {
    /// `t:PrimarySmtpAddress`: the usual choice; also what `X-AnchorMailbox` needs.
    PrimarySmtpAddress(String),
    /// `t:SmtpAddress`: any proxy address of the mailbox.
    SmtpAddress(String),
    /// `t:PrincipalName`: the user principal name.
    PrincipalName(String),
    /// `t:SID`: the SDDL SID (cheapest for the server).
    Sid(String),
}

impl Impersonation {
    fn element_and_value(&self) -> (&'static str, &str) {
        match self {
            Impersonation::PrimarySmtpAddress(value) => ("t:PrimarySmtpAddress", value),
            Impersonation::SmtpAddress(value) => ("t:SmtpAddress", value),
            Impersonation::PrincipalName(value) => ("t:PrincipalName", value),
            Impersonation::Sid(value) => ("t:SID", value),
        }
    }
}

/// A decoded response: the server's version header (when sent) and the operation's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<T> {
    /// `t:ServerVersionInfo` from `soap:Header`, if present.
    pub server_version: Option<ServerVersionInfo>,
    /// The operation's typed response.
    pub response: T,
}

/// A `soap:Fault`: the server rejected the whole request (schema, version, impersonation,
/// throttling). Exchange sends it with HTTP 500.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/handling-errors-in-ews>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `detail/e:ResponseCode` (trimmed), else the local part of `faultcode`.
    pub response_code: ResponseCode,
    /// `faultstring` (trimmed), else `detail/e:Message`; for logs only.
    pub message: String,
    /// `detail/t:MessageXml` (back-off hint, schema violation position, ...).
    pub message_xml: MessageXml,
    /// `faultcode` as sent, e.g. `a:ErrorServerBusy`.
    pub fault_code: String,
}

impl Fault {
    /// The kind of the fault's code (see `ResponseCode::kind`).
    pub fn kind(&self) -> crate::ews::response::ErrorKind {
        self.response_code.kind()
    }
}

/// Encodes one request envelope for `operation`.
///
/// # Errors
/// [`Error::InvalidInput`] naming the field when the version is unknown, a value is empty where
/// EWS needs one, a value holds characters XML 1.0 cannot carry, or the operation's own rules
/// refuse the input (see each operation).
pub fn encode<O: Operation>(header: &RequestHeader, operation: &O) -> Result<Vec<u8>, Error> {
    if !is_known_version(&header.version) {
        return Err(Error::InvalidInput {
            field: "version".to_owned(),
            reason: format!(
                "{:?} is not an ExchangeVersionType value (try Exchange2013_SP1)",
                header.version
            ),
        });
    }
    let mut writer = XmlWriter::default();
    writer.raw(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    writer.raw(&format!(
        r#"<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:t="{TYPES_NS}" xmlns:m="{MESSAGES_NS}">"#
    ));
    writer.open("soap:Header");
    writer.open_with(
        "t:RequestServerVersion",
        &[("Version", "version", &header.version)],
        true,
    )?;
    if let Some(impersonation) = &header.impersonation {
        let (element, value) = impersonation.element_and_value();
        require_non_empty("impersonation", value)?;
        writer.open("t:ExchangeImpersonation");
        writer.open("t:ConnectingSID");
        writer.leaf(element, "impersonation", value)?;
        writer.close("t:ConnectingSID");
        writer.close("t:ExchangeImpersonation");
    }
    writer.close("soap:Header");
    writer.open("soap:Body");
    operation.write_body(&mut writer)?;
    writer.close("soap:Body");
    writer.close("soap:Envelope");
    Ok(writer.into_string().into_bytes())
}

/// Decodes a response envelope for `O`.
///
/// # Errors
/// [`Error::Fault`] for a `soap:Fault`; [`Error::InvalidXml`], [`Error::UnexpectedElement`],
/// [`Error::MissingElement`], [`Error::InvalidValue`] or [`Error::TooDeep`] for a response that is
/// not what `O` expects. Per-item failures are values inside `Ok`.
pub fn decode<O: Operation>(body: &[u8]) -> Result<Decoded<O::Response>, Error> {
    let root = parse(body)?;
    let soap_body = envelope_body(&root)?;
    if let Some(fault) = soap_body.child(SOAP_NS, "Fault") {
        return Err(Error::Fault(Box::new(parse_fault(fault))));
    }
    let response_name = format!("{}Response", O::NAME);
    let response = match soap_body.child(MESSAGES_NS, &response_name) {
        Some(response) => response,
        None => {
            return Err(match soap_body.children.first() {
                Some(other) => Error::UnexpectedElement {
                    expected: format!("m:{response_name}"),
                    found: other.qualified_name(),
                },
                None => Error::MissingElement {
                    element: response_name,
                    parent: "Body".to_owned(),
                },
            });
        }
    };
    let server_version = root
        .child(SOAP_NS, "Header")
        .and_then(|header| {
            header
                .children
                .iter()
                .find(|child| is_server_version_info(child))
        })
        .map(parse_server_version_info);
    Ok(Decoded {
        server_version,
        response: O::decode_response(response)?,
    })
}

/// The fault in a response body, if the body is a well-formed envelope holding one.
pub fn decode_fault(body: &[u8]) -> Option<Fault> {
    let root = parse(body).ok()?;
    let soap_body = envelope_body(&root).ok()?;
    soap_body.child(SOAP_NS, "Fault").map(parse_fault)
}

fn envelope_body(root: &Element) -> Result<&Element, Error> {
    if !root.is(SOAP_NS, "Envelope") {
        return Err(Error::UnexpectedElement {
            expected: "soap:Envelope".to_owned(),
            found: root.qualified_name(),
        });
    }
    root.require(SOAP_NS, "Body")
}

/// Reads `soap:Fault`. Its children are unqualified in SOAP 1.1; any namespace is accepted.
fn parse_fault(fault: &Element) -> Fault {
    let by_local_name = |parent: &'_ Element, name: &str| -> Option<Element> {
        parent
            .unqualified_child(name)
            .or_else(|| parent.children.iter().find(|child| child.name == name))
            .cloned()
    };
    let fault_code = by_local_name(fault, "faultcode")
        .map(|element| element.trimmed_text().to_owned())
        .unwrap_or_default();
    let fault_string = by_local_name(fault, "faultstring")
        .map(|element| element.trimmed_text().to_owned())
        .filter(|text| !text.is_empty());
    let detail = by_local_name(fault, "detail");
    let detail_code = detail
        .as_ref()
        .and_then(|detail| detail.child(ERRORS_NS, "ResponseCode"))
        .map(|code| code.trimmed_text().to_owned())
        .filter(|code| !code.is_empty());
    let detail_message = detail
        .as_ref()
        .and_then(|detail| detail.child(ERRORS_NS, "Message"))
        .map(|message| message.trimmed_text().to_owned());
    let message_xml = detail
        .as_ref()
        .and_then(|detail| {
            detail
                .children
                .iter()
                .find(|child| child.name == "MessageXml")
        })
        .map(parse_message_xml)
        .unwrap_or_default();
    let code = detail_code.unwrap_or_else(|| match fault_code.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => fault_code.clone(),
    });
    Fault {
        response_code: ResponseCode::parse(&code),
        message: fault_string.or(detail_message).unwrap_or_default(),
        message_xml,
        fault_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ews::ops::get_delegate::GetDelegate;

    fn get_delegate() -> GetDelegate {
        GetDelegate {
            mailbox: "alice@contoso.example".to_owned(),
            include_permissions: false,
            user_ids: Vec::new(),
        }
    }

    #[test]
    fn every_impersonation_kind_writes_its_own_connecting_sid_child() {
        let cases = [
            (
                Impersonation::PrimarySmtpAddress("a@contoso.example".to_owned()),
                "<t:PrimarySmtpAddress>a@contoso.example</t:PrimarySmtpAddress>",
            ),
            (
                Impersonation::SmtpAddress("alias@contoso.example".to_owned()),
                "<t:SmtpAddress>alias@contoso.example</t:SmtpAddress>",
            ),
            (
                Impersonation::PrincipalName("a@corp.contoso.example".to_owned()),
                "<t:PrincipalName>a@corp.contoso.example</t:PrincipalName>",
            ),
            (
                Impersonation::Sid("S-1-5-21-1-2-3-1105".to_owned()),
                "<t:SID>S-1-5-21-1-2-3-1105</t:SID>",
            ),
        ];
        for (impersonation, expected) in cases {
            let header = RequestHeader {
                version: "Exchange2013_SP1".to_owned(),
                impersonation: Some(impersonation),
            };
            let xml = String::from_utf8(encode(&header, &get_delegate()).unwrap()).unwrap();
            let header_xml = format!(
                r#"<soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:ExchangeImpersonation><t:ConnectingSID>{expected}</t:ConnectingSID></t:ExchangeImpersonation></soap:Header>"#
            );
            assert!(xml.contains(&header_xml), "{xml}");
        }
    }

    #[test]
    fn unknown_version_and_empty_impersonation_are_refused() {
        let header = RequestHeader {
            version: "Exchange2019".to_owned(),
            impersonation: None,
        };
        let error = encode(&header, &get_delegate()).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput { field, .. } if field == "version"),
            "{error}"
        );
        assert!(is_known_version("Exchange2016"));
        assert!(!is_known_version("exchange2016"));
        let header = RequestHeader {
            version: "Exchange2013_SP1".to_owned(),
            impersonation: Some(Impersonation::Sid("  ".to_owned())),
        };
        let error = encode(&header, &get_delegate()).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput { field, .. } if field == "impersonation"),
            "{error}"
        );
    }

    #[test]
    fn fault_without_detail_takes_the_code_from_faultcode() {
        let body = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorSchemaValidation</faultcode><faultstring>bad</faultstring></s:Fault></s:Body></s:Envelope>"#;
        let fault = decode_fault(body).unwrap();
        assert_eq!(fault.response_code, ResponseCode::ErrorSchemaValidation);
        assert_eq!(fault.message, "bad");
        assert_eq!(fault.fault_code, "a:ErrorSchemaValidation");
        assert!(matches!(decode::<GetDelegate>(body), Err(Error::Fault(_))));
    }

    #[test]
    fn wrong_body_element_is_an_unexpected_element() {
        let body = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/></s:Body></s:Envelope>"#;
        let error = decode::<GetDelegate>(body).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unexpected element {http://schemas.microsoft.com/exchange/services/2006/messages}GetFolderResponse, expected m:GetDelegateResponse"
        );
        let not_soap =
            decode::<GetDelegate>(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
        assert!(matches!(not_soap, Error::UnexpectedElement { .. }));
    }
}
