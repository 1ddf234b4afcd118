//! The simulator's own reader for EWS requests: a tiny element tree built with quick-xml's
//! `NsReader`, plus the SOAP envelope split (impersonation header, body operation).
//!
//! Invariant: elements are matched by (namespace URI, local name), never by prefix; it shares no
//! code with the `ews` module, so a client encoding bug is seen as the server would see it.
//! Entry types: [`Element`], [`SoapRequest`], [`ConnectingSid`].

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

pub(crate) const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub(crate) const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
pub(crate) const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

/// One element: namespace URI, local name, unqualified attributes, children and text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub namespace: String,
    pub name: String,
    /// Attributes without a namespace (the only ones EWS uses on these elements).
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub(crate) fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }

    pub(crate) fn child(&self, namespace: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.is(namespace, name))
    }

    pub(crate) fn children_named<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |child| child.is(namespace, name))
    }

    /// A path of `t:` children.
    pub(crate) fn types_path(&self, names: &[&str]) -> Option<&Element> {
        names
            .iter()
            .try_fold(self, |element, name| element.child(TYPES_NS, name))
    }

    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(crate) fn trimmed_text(&self) -> &str {
        self.text.trim()
    }

    /// Whether any descendant (or this element) is `t:<name>` with attribute `FieldURI` = `uri`.
    pub(crate) fn has_field_uri(&self, uri: &str) -> bool {
        (self.is(TYPES_NS, "FieldURI") && self.attribute("FieldURI") == Some(uri))
            || self.children.iter().any(|child| child.has_field_uri(uri))
    }
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum XmlError {
    #[error("request is not well-formed xml: {0}")]
    NotWellFormed(String),
    #[error("request is not a soap 1.1 envelope with a body")]
    NotAnEnvelope,
    #[error("soap body is empty")]
    EmptyBody,
}

/// Parses a whole document into its root element.
pub(crate) fn parse_document(text: &str) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let not_well_formed = |message: String| XmlError::NotWellFormed(message);
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|error| not_well_formed(error.to_string()))?;
        let namespace = match resolved {
            ResolveResult::Bound(namespace) => namespace.as_ref().to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(not_well_formed(format!(
                    "unknown namespace prefix {}",
                    prefix
                )));
            }
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(not_well_formed("content after the root element".into()));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let mut element = Element {
                    namespace,
                    name: start.local_name().as_ref().to_string(),
                    ..Element::default()
                };
                for attribute in start.attributes() {
                    let attribute =
                        attribute.map_err(|error| not_well_formed(error.to_string()))?;
                    let key = attribute.key;
                    if key.as_ref().starts_with("xmlns") {
                        continue;
                    }
                    if key.prefix().is_some() {
                        continue;
                    }
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::default())
                        .map_err(|error| not_well_formed(error.to_string()))?;
                    element
                        .attributes
                        .push((key.local_name().as_ref().to_string(), value.into_owned()));
                }
                if matches!(event, Event::Empty(_)) {
                    close(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| not_well_formed("unbalanced end tag".into()))?;
                close(&mut stack, &mut root, element);
            }
            Event::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character.to_string(),
                    Ok(None) => match reference.xml10_content().as_ref() {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => return Err(not_well_formed(format!("unknown entity &{other};"))),
                    },
                    Err(error) => return Err(not_well_formed(error.to_string())),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err(not_well_formed("a DTD is not allowed".into())),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(not_well_formed("document ends inside an element".into()));
    }
    root.ok_or_else(|| not_well_formed("no root element".into()))
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// The mailbox named in `t:ExchangeImpersonation/t:ConnectingSID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConnectingSid {
    PrimarySmtpAddress(String),
    SmtpAddress(String),
    PrincipalName(String),
    Sid(String),
}

/// A SOAP request split into what the simulator routes on.
#[derive(Debug)]
pub(crate) struct SoapRequest {
    /// The mailbox named by `ExchangeImpersonation`, when the header carries a usable one.
    pub impersonation: Option<ConnectingSid>,
    /// The header had an `ExchangeImpersonation` without a usable value (answered with the
    /// `ErrorInvalidExchangeImpersonationHeaderData` fault).
    pub impersonation_empty: bool,
    /// `t:RequestServerVersion/@Version`, when sent.
    pub server_version: Option<String>,
    /// The first child of `soap:Body`.
    pub operation: Element,
}

impl SoapRequest {
    pub(crate) fn parse(text: &str) -> Result<SoapRequest, XmlError> {
        let root = parse_document(text)?;
        if !root.is(SOAP_NS, "Envelope") {
            return Err(XmlError::NotAnEnvelope);
        }
        let body = root.child(SOAP_NS, "Body").ok_or(XmlError::NotAnEnvelope)?;
        let operation = body.children.first().cloned().ok_or(XmlError::EmptyBody)?;
        let mut impersonation = None;
        let mut impersonation_empty = false;
        let server_version = root
            .child(SOAP_NS, "Header")
            .and_then(|header| header.child(TYPES_NS, "RequestServerVersion"))
            .and_then(|version| version.attribute("Version"))
            .map(str::to_string);
        if let Some(header) = root
            .child(SOAP_NS, "Header")
            .and_then(|header| header.child(TYPES_NS, "ExchangeImpersonation"))
        {
            let connecting = header.child(TYPES_NS, "ConnectingSID");
            let value = connecting.and_then(|connecting| connecting.children.first());
            impersonation = value.and_then(|value| {
                let text = value.trimmed_text().to_string();
                if text.is_empty() || value.namespace != TYPES_NS {
                    return None;
                }
                match value.name.as_str() {
                    "PrimarySmtpAddress" => Some(ConnectingSid::PrimarySmtpAddress(text)),
                    "SmtpAddress" => Some(ConnectingSid::SmtpAddress(text)),
                    "PrincipalName" => Some(ConnectingSid::PrincipalName(text)),
                    "SID" => Some(ConnectingSid::Sid(text)),
                    _ => None,
                }
            });
            impersonation_empty = impersonation.is_none();
        }
        Ok(SoapRequest {
            impersonation,
            impersonation_empty,
            server_version,
            operation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_by_namespace_not_prefix() {
        let request = SoapRequest::parse(
            r#"<?xml version="1.0"?>
<x:Envelope xmlns:x="http://schemas.xmlsoap.org/soap/envelope/">
<x:Header><q:ExchangeImpersonation xmlns:q="http://schemas.microsoft.com/exchange/services/2006/types"><q:ConnectingSID><q:SmtpAddress> alice@contoso.example </q:SmtpAddress></q:ConnectingSID></q:ExchangeImpersonation></x:Header>
<x:Body><GetFolder xmlns="http://schemas.microsoft.com/exchange/services/2006/messages"><FolderIds><t:DistinguishedFolderId xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" Id="calendar"/></FolderIds></GetFolder></x:Body>
</x:Envelope>"#,
        )
        .unwrap();
        assert_eq!(
            request.impersonation,
            Some(ConnectingSid::SmtpAddress("alice@contoso.example".into()))
        );
        assert!(request.operation.is(MESSAGES_NS, "GetFolder"));
        let id = request
            .operation
            .child(MESSAGES_NS, "FolderIds")
            .and_then(|ids| ids.child(TYPES_NS, "DistinguishedFolderId"))
            .unwrap();
        assert_eq!(id.attribute("Id"), Some("calendar"));
    }

    #[test]
    fn entities_are_decoded_and_garbage_is_refused() {
        let root = parse_document("<a>x &amp; &#65;</a>").unwrap();
        assert_eq!(root.text, "x & A");
        assert!(parse_document("<a><b></a>").is_err());
        assert!(matches!(
            SoapRequest::parse("<a/>"),
            Err(XmlError::NotAnEnvelope)
        ));
    }
}
