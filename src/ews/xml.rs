//! Low-level XML helpers for `ews`: a string writer that escapes everything it writes, and a
//! namespace-aware reader that turns a response into a small element tree.
//!
//! Invariants:
//! - Every text and attribute value goes through [`escape`] after [`check_xml_chars`], so no input
//!   can change the structure of a request, and text XML 1.0 cannot carry is refused.
//! - The reader matches names by (namespace URI, local name), never by prefix.
//! - Malformed input is an [`Error`], never a panic; nesting is limited to [`MAX_DEPTH`].
//!
//! Entry types: [`XmlWriter`], [`Element`], [`parse`]. Callers outside `ews` do not need them.

use std::str::FromStr;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use crate::ews::error::Error;

/// The SOAP 1.1 envelope namespace (always `http://`, never `https://`).
pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The EWS messages namespace (operation elements and response messages).
pub const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
/// The EWS types namespace (headers, folders, ids, users).
pub const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
/// The EWS errors namespace, used only inside `soap:Fault/detail`.
pub const ERRORS_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";

/// The deepest element nesting the reader accepts; EWS responses stay far below it.
pub const MAX_DEPTH: usize = 64;

/// Refuses text that XML 1.0 cannot carry: control characters other than tab, CR and LF, and
/// the non-characters U+FFFE and U+FFFF.
///
/// # Errors
/// [`Error::InvalidInput`] naming `field`.
pub fn check_xml_chars(field: &str, value: &str) -> Result<(), Error> {
    for (position, character) in value.chars().enumerate() {
        let allowed = match character {
            '\t' | '\n' | '\r' => true,
            '\u{0}'..='\u{1f}' => false,
            '\u{fffe}' | '\u{ffff}' => false,
            _ => true,
        };
        if !allowed {
            return Err(Error::InvalidInput {
                field: field.to_owned(),
                reason: format!(
                    "character U+{:04X} at position {position} cannot be carried by XML 1.0",
                    u32::from(character)
                ),
            });
        }
    }
    Ok(())
}

/// Escapes `& < > " '` (and CR, which a parser would otherwise normalize away).
pub fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\r' => escaped.push_str("&#13;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Builds a minified XML document. Element names are trusted constants chosen by `ews`; every
/// value is checked and escaped.
#[derive(Debug, Default)]
pub struct XmlWriter {
    buffer: String,
}

impl XmlWriter {
    /// The document written so far.
    pub fn into_string(self) -> String {
        self.buffer
    }

    /// Writes markup that `ews` itself produced (declarations, namespace bindings).
    pub fn raw(&mut self, markup: &str) {
        self.buffer.push_str(markup);
    }

    /// `<name>`.
    pub fn open(&mut self, name: &str) {
        self.buffer.push('<');
        self.buffer.push_str(name);
        self.buffer.push('>');
    }

    /// `<name a="v" ...>` (or `/>` when `empty`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when a value holds a character XML 1.0 cannot carry.
    pub fn open_with(
        &mut self,
        name: &str,
        attributes: &[(&str, &str, &str)],
        empty: bool,
    ) -> Result<(), Error> {
        self.buffer.push('<');
        self.buffer.push_str(name);
        for (attribute, field, value) in attributes {
            check_xml_chars(field, value)?;
            self.buffer.push(' ');
            self.buffer.push_str(attribute);
            self.buffer.push_str("=\"");
            // Tab and LF are written as references in attributes: a parser normalizes them to
            // spaces otherwise, and the server would see another value.
            self.buffer
                .push_str(&escape(value).replace('\t', "&#9;").replace('\n', "&#10;"));
            self.buffer.push('"');
        }
        self.buffer.push_str(if empty { "/>" } else { ">" });
        Ok(())
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) {
        self.buffer.push_str("</");
        self.buffer.push_str(name);
        self.buffer.push('>');
    }

    /// `<name>value</name>`, with `value` checked and escaped.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming `field` when the value cannot be carried by XML 1.0.
    pub fn leaf(&mut self, name: &str, field: &str, value: &str) -> Result<(), Error> {
        check_xml_chars(field, value)?;
        self.open(name);
        self.buffer.push_str(&escape(value));
        self.close(name);
        Ok(())
    }

    /// `<name>true</name>` or `<name>false</name>`.
    pub fn leaf_bool(&mut self, name: &str, value: bool) {
        self.open(name);
        self.buffer.push_str(if value { "true" } else { "false" });
        self.close(name);
    }

    /// `<name>value</name>` for a value from a closed list (an enum's `as_str`).
    pub fn leaf_static(&mut self, name: &str, value: &str) {
        self.open(name);
        self.buffer.push_str(value);
        self.close(name);
    }
}

/// One attribute of a parsed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The namespace URI; `None` for an unprefixed attribute (the usual case in EWS).
    pub namespace: Option<String>,
    /// The local name.
    pub name: String,
    /// The value with references resolved.
    pub value: String,
}

/// One parsed element: its resolved name, attributes, child elements and direct text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The namespace URI; `None` when the name is not in any namespace (SOAP 1.1 fault children).
    pub namespace: Option<String>,
    /// The local name.
    pub name: String,
    /// The attributes, except namespace declarations.
    pub attributes: Vec<Attribute>,
    /// The child elements, in document order.
    pub children: Vec<Element>,
    /// The concatenated direct text content (text, CDATA and references), untrimmed.
    pub text: String,
}

impl Element {
    /// Whether this element is `{namespace}name`.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace.as_deref() == Some(namespace) && self.name == name
    }

    /// A readable `{namespace}name` for error messages.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{{{namespace}}}{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The first child `{namespace}name`.
    pub fn child(&self, namespace: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.is(namespace, name))
    }

    /// The first child with this local name and no namespace (SOAP 1.1 fault children).
    pub fn unqualified_child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|child| child.namespace.is_none() && child.name == name)
    }

    /// Every child `{namespace}name`.
    pub fn children_named<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .iter()
            .filter(move |child| child.is(namespace, name))
    }

    /// The first child `{namespace}name`, or [`Error::MissingElement`].
    ///
    /// # Errors
    /// [`Error::MissingElement`] naming the element and its parent.
    pub fn require(&self, namespace: &str, name: &str) -> Result<&Element, Error> {
        self.child(namespace, name)
            .ok_or_else(|| Error::MissingElement {
                element: name.to_owned(),
                parent: self.name.clone(),
            })
    }

    /// An unqualified attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| attribute.namespace.is_none() && attribute.name == name)
            .map(|attribute| attribute.value.as_str())
    }

    /// An unqualified attribute's value, or [`Error::MissingElement`] naming `@name`.
    ///
    /// # Errors
    /// [`Error::MissingElement`] when the attribute is absent.
    pub fn require_attribute(&self, name: &str) -> Result<&str, Error> {
        self.attribute(name).ok_or_else(|| Error::MissingElement {
            element: format!("@{name}"),
            parent: self.name.clone(),
        })
    }

    /// The text, trimmed.
    pub fn trimmed_text(&self) -> &str {
        self.text.trim()
    }

    /// The trimmed text parsed with `FromStr` (booleans, numbers, EWS enums).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the element and the value.
    pub fn parse_text<T: FromStr>(&self) -> Result<T, Error> {
        parse_value(&self.name, self.trimmed_text())
    }

    /// The child `{namespace}name` parsed with `FromStr`, if present.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the child is present but its text does not parse.
    pub fn parse_child<T: FromStr>(&self, namespace: &str, name: &str) -> Result<Option<T>, Error> {
        self.child(namespace, name)
            .map(|child| child.parse_text())
            .transpose()
    }

    /// The child's text (untrimmed), if present.
    pub fn child_text(&self, namespace: &str, name: &str) -> Option<String> {
        self.child(namespace, name).map(|child| child.text.clone())
    }
}

/// Parses `value` with `FromStr` (numbers, EWS enums; booleans use [`parse_bool`] instead,
/// because `xs:boolean` also allows `1` and `0`).
///
/// # Errors
/// [`Error::InvalidValue`] naming `element`.
pub fn parse_value<T: FromStr>(element: &str, value: &str) -> Result<T, Error> {
    value.parse().map_err(|_| Error::InvalidValue {
        element: element.to_owned(),
        value: value.chars().take(80).collect(),
    })
}

/// Parses an `xs:boolean` (`true`, `false`, `1`, `0`).
///
/// # Errors
/// [`Error::InvalidValue`] naming the element.
pub fn parse_bool(element: &Element) -> Result<bool, Error> {
    match element.trimmed_text() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(Error::InvalidValue {
            element: element.name.clone(),
            value: other.chars().take(80).collect(),
        }),
    }
}

/// The optional boolean child `{namespace}name`.
///
/// # Errors
/// [`Error::InvalidValue`] when it is present and not an `xs:boolean`.
pub fn optional_bool(parent: &Element, namespace: &str, name: &str) -> Result<Option<bool>, Error> {
    parent.child(namespace, name).map(parse_bool).transpose()
}

/// Parses a whole document into its root [`Element`].
///
/// Accepts a UTF-8 byte-order mark, an XML declaration with or without `encoding` (the body
/// itself must be UTF-8, which is what Exchange sends), any prefixes or default namespaces,
/// comments and processing instructions (skipped), and predefined entity and character
/// references.
///
/// # Errors
/// [`Error::InvalidXml`] for anything that is not a well-formed, namespace-well-formed, UTF-8
/// document with one root element; [`Error::TooDeep`] past [`MAX_DEPTH`].
pub fn parse(document: &[u8]) -> Result<Element, Error> {
    let document = document.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(document);
    let text = std::str::from_utf8(document).map_err(|error| Error::InvalidXml {
        reason: format!("the document is not valid utf-8: {error}"),
    })?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|error| invalid(&format!("after byte {position}: {error}")))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if root.is_some() {
                    return Err(invalid("content after the root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep { limit: MAX_DEPTH });
                }
                let namespace = namespace_of(resolved)?;
                let name = start.local_name().as_ref().to_owned();
                let mut attributes = Vec::new();
                for attribute in start.attributes() {
                    let attribute = attribute.map_err(|error| invalid(&error.to_string()))?;
                    let key = attribute.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (attribute_namespace, local) = reader.resolver().resolve_attribute(key);
                    let attribute_namespace = namespace_of(attribute_namespace)?;
                    let value = attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|error| invalid(&error.to_string()))?
                        .into_owned();
                    attributes.push(Attribute {
                        namespace: attribute_namespace,
                        name: local.as_ref().to_owned(),
                        value,
                    });
                }
                let element = Element {
                    namespace,
                    name,
                    attributes,
                    children: Vec::new(),
                    text: String::new(),
                };
                if matches!(event, Event::Empty(_)) {
                    attach(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| invalid("end tag without a start tag"))?;
                attach(&mut stack, &mut root, element);
            }
            Event::Text(text) => {
                let content = text.xml10_content();
                match stack.last_mut() {
                    Some(parent) => parent.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(invalid("text outside the root element")),
                }
            }
            Event::CData(cdata) => {
                let content = cdata.into_inner().into_owned();
                match stack.last_mut() {
                    Some(parent) => parent.text.push_str(&content),
                    None => return Err(invalid("cdata outside the root element")),
                }
            }
            Event::GeneralRef(reference) => {
                let resolved_text = match reference.resolve_char_ref() {
                    Ok(Some(character)) => {
                        let mut buffer = [0u8; 4];
                        let encoded = character.encode_utf8(&mut buffer);
                        check_xml_chars("character reference", encoded)
                            .map_err(|_| invalid("character reference to a forbidden character"))?;
                        encoded.to_owned()
                    }
                    Ok(None) => {
                        let name = reference.xml10_content();
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| invalid(&format!("unknown entity &{name};")))?
                            .to_owned()
                    }
                    Err(error) => return Err(invalid(&error.to_string())),
                };
                match stack.last_mut() {
                    Some(parent) => parent.text.push_str(&resolved_text),
                    None => return Err(invalid("reference outside the root element")),
                }
            }
            Event::DocType(_) => return Err(invalid("a document type declaration is not allowed")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(invalid("the document ends inside an element"));
    }
    root.ok_or_else(|| invalid("the document has no root element"))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn namespace_of(resolved: ResolveResult<'_>) -> Result<Option<String>, Error> {
    match resolved {
        ResolveResult::Bound(namespace) => Ok(Some(namespace.as_ref().to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(prefix) => {
            Err(invalid(&format!("the prefix {prefix:?} is not declared")))
        }
    }
}

/// An `InvalidXml` error whose reason is cut to [`MAX_REASON_CHARS`]: the parser's messages quote
/// the input (a mismatched end tag quotes everything up to the next `>`), and a damaged answer of
/// megabytes must not become a log line of megabytes.
fn invalid(reason: &str) -> Error {
    let reason = match reason.char_indices().nth(MAX_REASON_CHARS) {
        Some((cut, _)) => format!("{}...", &reason[..cut]),
        None => reason.to_owned(),
    };
    Error::InvalidXml { reason }
}

/// The longest parser message kept in an [`Error::InvalidXml`].
const MAX_REASON_CHARS: usize = 300;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralizes_every_markup_character() {
        assert_eq!(
            escape(r#"o'brien&co <x> "q""#),
            "o&apos;brien&amp;co &lt;x&gt; &quot;q&quot;"
        );
    }

    #[test]
    fn control_characters_are_refused_with_the_field_name() {
        let error = check_xml_chars("mailbox", "a\u{1}b").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid input in mailbox: character U+0001 at position 1 cannot be carried by XML 1.0"
        );
        assert!(check_xml_chars("mailbox", "tab\tcr\rlf\n zoë").is_ok());
        assert!(check_xml_chars("mailbox", "\u{fffe}").is_err());
    }

    #[test]
    fn parse_resolves_namespaces_not_prefixes() {
        let root = parse(
            "\u{feff}<?xml version='1.0'?><x:a xmlns:x='urn:one' xmlns='urn:two'><b y='&amp;1'>t&lt;&#233;<![CDATA[<c>]]></b></x:a>"
                .as_bytes(),
        )
        .unwrap();
        assert!(root.is("urn:one", "a"));
        let child = root.child("urn:two", "b").unwrap();
        assert_eq!(child.attribute("y"), Some("&1"));
        assert_eq!(child.text, "t<é<c>");
    }

    #[test]
    fn malformed_documents_are_errors() {
        for document in [
            &b"<a><b></a>"[..],
            b"<a>",
            b"",
            b"<p:a/>",
            b"<a>&bogus;</a>",
            b"<a/><b/>",
            b"\xff\xfe<a/>",
            b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
        ] {
            assert!(
                matches!(parse(document), Err(Error::InvalidXml { .. })),
                "{:?}",
                String::from_utf8_lossy(document)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let document = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            parse(document.as_bytes()),
            Err(Error::TooDeep { limit: MAX_DEPTH })
        ));
    }
}
