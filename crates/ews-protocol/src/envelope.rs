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

use crate::error::Error;
use crate::ops::Operation;
use crate::response::{MessageXml, ServerVersionInfo, read_message_xml, read_server_version_info};
use crate::response_code::ResponseCode;
use crate::types::require_non_empty;
use crate::xml::{
    ERRORS_NS, MESSAGES_NS, Reader, SOAP_NS, Slot, TYPES_NS, Tag, XmlWriter, read_trimmed,
};

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
    pub fn kind(&self) -> crate::response::ErrorKind {
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
    writer.raw(r#"<soap:Envelope xmlns:soap=""#);
    writer.raw(SOAP_NS);
    writer.raw(r#"" xmlns:t=""#);
    writer.raw(TYPES_NS);
    writer.raw(r#"" xmlns:m=""#);
    writer.raw(MESSAGES_NS);
    writer.raw(r#"">"#);
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

/// Decodes a response envelope for `O`, streaming: the body is read once, straight into `O`'s
/// typed response.
///
/// # Errors
/// [`Error::Fault`] for a `soap:Fault`; [`Error::InvalidXml`], [`Error::UnexpectedElement`],
/// [`Error::MissingElement`], [`Error::InvalidValue`] or [`Error::TooDeep`] for a response that is
/// not what `O` expects. Per-item failures are values inside `Ok`.
pub fn decode<O: Operation>(body: &[u8]) -> Result<Decoded<O::Response>, Error> {
    let mut reader = Reader::new(body)?;
    let outcome = read_envelope(&mut reader, Some(O::NAME), O::decode_response)
        .and_then(|envelope| envelope.into_decoded::<O>());
    reader.settle(outcome)
}

/// The fault in a response body, if the body is a well-formed envelope holding one.
pub fn decode_fault(body: &[u8]) -> Option<Fault> {
    let mut reader = Reader::new(body).ok()?;
    let outcome = read_envelope(&mut reader, None, |_, _| Ok(()));
    reader.settle(outcome).ok()?.fault
}

/// What an envelope held: the version header, a fault, the operation's response (or the error
/// that decoding it gave), and the first child of the body when it was neither.
struct Envelope<T> {
    server_version: Option<ServerVersionInfo>,
    fault: Option<Fault>,
    response: Slot<T>,
    first_other: Option<String>,
}

impl<T> Envelope<T> {
    fn into_decoded<O: Operation<Response = T>>(self) -> Result<Decoded<T>, Error> {
        if let Some(fault) = self.fault {
            return Err(Error::Fault(Box::new(fault)));
        }
        let response = match self.response {
            Some(response) => response?,
            None => {
                return Err(match self.first_other {
                    Some(found) => Error::UnexpectedElement {
                        expected: format!("m:{}Response", O::NAME),
                        found,
                    },
                    None => Error::MissingElement {
                        element: format!("{}Response", O::NAME),
                        parent: "Body".to_owned(),
                    },
                });
            }
        };
        Ok(Decoded {
            server_version: self.server_version,
            response,
        })
    }
}

/// Reads `soap:Envelope`: the first `soap:Header` (for `t:ServerVersionInfo`), and the first
/// `soap:Body`, whose first `soap:Fault` and first `m:{operation}Response` are read (the latter
/// with `decode`, when an operation is given).
fn read_envelope<T>(
    reader: &mut Reader<'_>,
    operation: Option<&str>,
    decode: impl FnOnce(&mut Reader<'_>, &Tag<'_>) -> Result<T, Error>,
) -> Result<Envelope<T>, Error> {
    let root = reader.root()?;
    if !root.is(SOAP_NS, "Envelope") {
        return Err(Error::UnexpectedElement {
            expected: "soap:Envelope".to_owned(),
            found: root.qualified_name(),
        });
    }
    let mut envelope = Envelope {
        server_version: None,
        fault: None,
        response: None,
        first_other: None,
    };
    let mut header_seen = false;
    let mut body_seen = false;
    let mut decode = Some(decode);
    while let Some(child) = reader.next_child()? {
        if child.is(SOAP_NS, "Header") && !header_seen {
            header_seen = true;
            while let Some(header) = reader.next_child()? {
                if envelope.server_version.is_none() && header.is(TYPES_NS, "ServerVersionInfo") {
                    envelope.server_version = Some(read_server_version_info(reader));
                }
                reader.skip()?;
            }
        } else if child.is(SOAP_NS, "Body") && !body_seen {
            body_seen = true;
            let mut first = true;
            while let Some(part) = reader.next_child()? {
                let is_response = operation.is_some_and(|operation| {
                    part.in_namespace(MESSAGES_NS)
                        && part.local().strip_suffix("Response") == Some(operation)
                });
                if part.is(SOAP_NS, "Fault") && envelope.fault.is_none() {
                    envelope.fault = Some(read_fault(reader)?);
                } else if is_response && envelope.response.is_none() {
                    if let Some(decode) = decode.take() {
                        envelope.response = Some(reader.attempt(|reader| decode(reader, &part))?);
                    }
                } else {
                    if first {
                        envelope.first_other = Some(part.qualified_name());
                    }
                    reader.skip()?;
                }
                first = false;
            }
        } else {
            reader.skip()?;
        }
    }
    if !body_seen {
        return Err(Error::MissingElement {
            element: "Body".to_owned(),
            parent: root.local().to_owned(),
        });
    }
    Ok(envelope)
}

/// A child of `soap:Fault`, `soap:Fault/detail`'s parts: the first one in no namespace, else the
/// first one of the name in any namespace (SOAP 1.1 leaves them unqualified; some servers do not).
struct Either<T> {
    unqualified: Option<T>,
    any: Option<T>,
}

impl<T> Either<T> {
    fn new() -> Self {
        Either {
            unqualified: None,
            any: None,
        }
    }

    fn offer(
        &mut self,
        reader: &mut Reader<'_>,
        tag: &Tag<'_>,
        read: impl FnOnce(&mut Reader<'_>) -> Result<T, Error>,
    ) -> Result<(), Error> {
        if tag.is_unqualified() && self.unqualified.is_none() {
            self.unqualified = Some(read(reader)?);
        } else if self.any.is_none() {
            self.any = Some(read(reader)?);
        } else {
            reader.skip()?;
        }
        Ok(())
    }

    fn take(self) -> Option<T> {
        self.unqualified.or(self.any)
    }
}

/// What `soap:Fault/detail` says.
#[derive(Default)]
struct FaultDetail {
    code: Option<String>,
    message: Option<String>,
    message_xml: Option<MessageXml>,
}

fn read_fault_detail(reader: &mut Reader<'_>) -> Result<FaultDetail, Error> {
    let mut detail = FaultDetail::default();
    let mut code_seen = false;
    while let Some(child) = reader.next_child()? {
        if child.is(ERRORS_NS, "ResponseCode") && !code_seen {
            code_seen = true;
            detail.code = Some(reader.trimmed_text()?).filter(|code| !code.is_empty());
        } else if child.is(ERRORS_NS, "Message") && detail.message.is_none() {
            detail.message = Some(reader.trimmed_text()?);
        } else if child.local() == "MessageXml" && detail.message_xml.is_none() {
            detail.message_xml = Some(read_message_xml(reader)?);
        } else {
            reader.skip()?;
        }
    }
    Ok(detail)
}

/// Reads `soap:Fault`. Its children are unqualified in SOAP 1.1; any namespace is accepted.
fn read_fault(reader: &mut Reader<'_>) -> Result<Fault, Error> {
    let mut fault_code = Either::new();
    let mut fault_string = Either::new();
    let mut detail = Either::new();
    while let Some(child) = reader.next_child()? {
        match child.local() {
            "faultcode" => fault_code.offer(reader, &child, read_trimmed)?,
            "faultstring" => fault_string.offer(reader, &child, read_trimmed)?,
            "detail" => detail.offer(reader, &child, read_fault_detail)?,
            _ => reader.skip()?,
        }
    }
    let fault_code = fault_code.take().unwrap_or_default();
    let fault_string = fault_string.take().filter(|text| !text.is_empty());
    let detail = detail.take().unwrap_or_default();
    let code = detail
        .code
        .unwrap_or_else(|| match fault_code.rsplit_once(':') {
            Some((_, local)) => local.to_owned(),
            None => fault_code.clone(),
        });
    Ok(Fault {
        response_code: ResponseCode::parse(&code),
        message: fault_string.or(detail.message).unwrap_or_default(),
        message_xml: detail.message_xml.unwrap_or_default(),
        fault_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::get_delegate::GetDelegate;

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
