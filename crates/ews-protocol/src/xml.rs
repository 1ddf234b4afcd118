//! Low-level XML helpers for `ews`: a string writer that escapes everything it writes, and a
//! namespace-aware streaming reader over quick-xml's borrowed events (and a small element tree
//! built on it for tests and Autodiscover).
//!
//! Invariants:
//! - Every text and attribute value goes through [`escape`] after [`check_xml_chars`], so no input
//!   can change the structure of a request, and text XML 1.0 cannot carry is refused.
//! - The reader matches names by (namespace URI, local name), never by prefix.
//! - Malformed input is an [`Error`], never a panic; nesting is limited to [`MAX_DEPTH`].
//!
//! Entry types: [`XmlWriter`], [`Element`], [`parse`]. Callers outside `ews` do not need them.

use std::borrow::Cow;
use std::str::FromStr;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::name::PrefixDeclaration;

use crate::error::Error;

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
    escape_into(&mut escaped, value, false);
    escaped
}

/// Appends `value` escaped as [`escape`] does to `out`; with `attribute`, tab and LF are written
/// as references too (a parser normalizes them to spaces in an attribute value otherwise).
/// Runs of characters that need nothing are copied whole.
fn escape_into(out: &mut String, value: &str, attribute: bool) {
    let mut plain = 0;
    for (index, byte) in value.bytes().enumerate() {
        let reference = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            b'\r' => "&#13;",
            b'\t' if attribute => "&#9;",
            b'\n' if attribute => "&#10;",
            _ => continue,
        };
        // Every byte matched above is ASCII, so `index` is a character boundary.
        out.push_str(&value[plain..index]);
        out.push_str(reference);
        plain = index + 1;
    }
    out.push_str(&value[plain..]);
}

/// Builds a minified XML document. Element names are trusted constants chosen by `ews`; every
/// value is checked and escaped.
#[derive(Debug)]
pub struct XmlWriter {
    buffer: String,
}

/// What an [`XmlWriter`] reserves up front: a whole GetFolder or delegate request fits, so
/// writing one does not grow the buffer step by step.
const WRITER_CAPACITY: usize = 2048;

impl Default for XmlWriter {
    fn default() -> Self {
        XmlWriter {
            buffer: String::with_capacity(WRITER_CAPACITY),
        }
    }
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
            escape_into(&mut self.buffer, value, true);
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
        escape_into(&mut self.buffer, value, false);
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

/// Parses a whole document into its root [`Element`] (for tests and tools that inspect a whole
/// document, such as the schema checks; response decoding streams through [`Reader`] instead).
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
    let mut reader = Reader::new(document)?;
    let root = reader.root()?;
    let element = build(&mut reader, &root)?;
    reader.finish()?;
    Ok(element)
}

/// Builds the element whose start tag `tag` was just read (recursion is bounded by [`MAX_DEPTH`]).
fn build(reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<Element, Error> {
    let mut element = Element {
        namespace: tag.namespace().map(str::to_owned),
        name: tag.local().to_owned(),
        attributes: reader.all_attributes(),
        children: Vec::new(),
        text: String::new(),
    };
    loop {
        match reader.next_event()? {
            Item::Start(child) => {
                let child = build(reader, &child)?;
                element.children.push(child);
            }
            Item::Text(piece) => element.text.push_str(&piece.into_str()),
            Item::End | Item::Eof => return Ok(element),
        }
    }
}
/// The namespace the prefix `xml` is bound to without a declaration.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace the prefix `xmlns` is bound to (namespace declarations themselves).
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// The most namespace declarations in scope at once (quick-xml's own default bound): a prefix is
/// resolved by a scan of the declarations in scope, and a hostile document cannot grow the table.
const MAX_BINDINGS: usize = 128;

/// The keys of one start tag whose uniqueness [`Reader::read_attributes`] checks on the stack; EWS
/// tags have far fewer (a tag with more is checked by quick-xml).
const TRACKED_KEYS: usize = 16;

/// The namespace declarations room reserved per document: an EWS answer has fewer in scope at once,
/// so the table is allocated once.
const BINDINGS_CAPACITY: usize = 16;

/// A known namespace, or another one borrowed from the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns<'i> {
    None,
    Soap,
    Messages,
    Types,
    Errors,
    Other(&'i str),
}

impl<'i> Ns<'i> {
    /// The namespace a declaration's value names (`""` undeclares).
    fn of(uri: &'i str) -> Ns<'i> {
        match uri {
            "" => Ns::None,
            SOAP_NS => Ns::Soap,
            MESSAGES_NS => Ns::Messages,
            TYPES_NS => Ns::Types,
            ERRORS_NS => Ns::Errors,
            other => Ns::Other(other),
        }
    }

    fn as_str(&self) -> Option<&'i str> {
        match self {
            Ns::None => None,
            Ns::Soap => Some(SOAP_NS),
            Ns::Messages => Some(MESSAGES_NS),
            Ns::Types => Some(TYPES_NS),
            Ns::Errors => Some(ERRORS_NS),
            Ns::Other(uri) => Some(uri),
        }
    }
}

/// One namespace declaration in scope: `xmlns:prefix="..."` (`prefix` empty for `xmlns="..."`)
/// on the element at `depth`.
#[derive(Debug, Clone, Copy)]
struct Binding<'i> {
    prefix: &'i str,
    namespace: Ns<'i>,
    depth: usize,
}

/// A start tag read by [`Reader`]: its namespace URI and local name (borrowed from the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag<'i> {
    namespace: Ns<'i>,
    local: &'i str,
}

impl Tag<'_> {
    /// Whether this tag is `{namespace}name` (the same test as [`Element::is`]).
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.local == name && self.namespace.as_str() == Some(namespace)
    }

    /// Whether this tag's namespace is `namespace`, whatever its local name.
    pub fn in_namespace(&self, namespace: &str) -> bool {
        self.namespace.as_str() == Some(namespace)
    }

    /// Whether this tag is in no namespace (SOAP 1.1 fault children).
    pub fn is_unqualified(&self) -> bool {
        self.namespace == Ns::None
    }

    /// The namespace URI; `None` when the name is in no namespace.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_str()
    }

    /// The local name.
    pub fn local(&self) -> &str {
        self.local
    }

    /// A readable `{namespace}name` for error messages (as [`Element::qualified_name`]).
    pub fn qualified_name(&self) -> String {
        match self.namespace.as_str() {
            Some(namespace) => format!("{{{namespace}}}{}", self.local),
            None => self.local.to_owned(),
        }
    }
}

/// A piece of an element's direct text, converted only when a decoder reads it: whitespace
/// between tags and the text of skipped elements is passed over as quick-xml handed it up.
pub(crate) enum Piece<'i> {
    /// Character data as in the document (line ends not yet normalized).
    Text(BytesText<'i>),
    /// CDATA content or a resolved reference.
    Ready(Cow<'i, str>),
}

impl<'i> Piece<'i> {
    /// The text (XML 1.0 line ends normalized for character data).
    fn into_str(self) -> Cow<'i, str> {
        match self {
            Piece::Text(text) => text.xml10_content(),
            Piece::Ready(text) => text,
        }
    }
}

/// What [`Reader::next_event`] hands up: a start tag, an end tag, a piece of text (text, CDATA or
/// a resolved reference), or the end of the document.
pub(crate) enum Item<'i> {
    Start(Tag<'i>),
    End,
    Text(Piece<'i>),
    Eof,
}

/// What a decoder got for one field: nothing yet, or the first element's value or error. The
/// error waits in the slot, so when several parts of an answer are wrong, the one reported is the
/// one the tree walk of old reported (fields are judged in a fixed order once all are read).
pub(crate) type Slot<T> = Option<Result<T, Error>>;

/// A streaming reader over one document: namespace-aware (names are matched by URI and local
/// name), depth-limited, and validating every event exactly as [`parse`] does, so a document
/// that `parse` refuses is refused with the same error whatever part a decoder looks at.
///
/// It runs on quick-xml's plain `Reader` over the document's bytes (borrowed events, no copies),
/// which checks the markup and that end tags match; this reader keeps the depth, resolves
/// prefixes from a table of the namespace declarations in scope (a short scan), checks the
/// attributes of every start tag that has any, and converts text only when a decoder reads it.
///
/// Decoders pull start tags with [`Reader::next_child`], read attributes of the start tag just
/// read with [`Reader::attribute`], read text with [`Reader::text`] and skip what they do not know
/// with [`Reader::skip`]: unknown elements are skipped, never an error.
pub struct Reader<'i> {
    input: &'i str,
    inner: quick_xml::Reader<&'i [u8]>,
    depth: usize,
    root_done: bool,
    /// The element started last was empty (`<a/>`): its end is the next event.
    empty_open: bool,
    current: Option<BytesStart<'i>>,
    bindings: Vec<Binding<'i>>,
}

impl<'i> Reader<'i> {
    /// A reader over `document` (a UTF-8 byte-order mark is skipped).
    ///
    /// # Errors
    /// [`Error::InvalidXml`] when the document is not UTF-8.
    pub fn new(document: &'i [u8]) -> Result<Self, Error> {
        let document = document.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(document);
        let input = std::str::from_utf8(document).map_err(|error| Error::InvalidXml {
            reason: format!("the document is not valid utf-8: {error}"),
        })?;
        let mut inner = quick_xml::Reader::from_str(input);
        inner.config_mut().check_end_names = true;
        Ok(Reader {
            input,
            inner,
            depth: 0,
            root_done: false,
            empty_open: false,
            current: None,
            bindings: Vec::with_capacity(BINDINGS_CAPACITY),
        })
    }

    /// The number of open elements.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The next event, validated; the depth is kept and limited here.
    pub(crate) fn next_event(&mut self) -> Result<Item<'i>, Error> {
        if self.empty_open {
            self.empty_open = false;
            return Ok(self.close());
        }
        loop {
            let position = self.inner.buffer_position();
            let event = self
                .inner
                .read_event()
                .map_err(|error| invalid(&format!("after byte {position}: {error}")))?;
            match event {
                Event::Start(start) => return self.open(start),
                Event::Empty(start) => {
                    let item = self.open(start)?;
                    self.empty_open = true;
                    return Ok(item);
                }
                Event::End(_) => {
                    if self.depth == 0 {
                        return Err(invalid("end tag without a start tag"));
                    }
                    return Ok(self.close());
                }
                Event::Text(text) => {
                    if self.depth > 0 {
                        return Ok(Item::Text(Piece::Text(text)));
                    }
                    if !text.xml10_content().trim().is_empty() {
                        return Err(invalid("text outside the root element"));
                    }
                }
                Event::CData(cdata) => {
                    if self.depth == 0 {
                        return Err(invalid("cdata outside the root element"));
                    }
                    return Ok(Item::Text(Piece::Ready(cdata.into_inner())));
                }
                Event::GeneralRef(reference) => {
                    let resolved_text: Cow<'i, str> = match reference.resolve_char_ref() {
                        Ok(Some(character)) => {
                            let mut buffer = [0u8; 4];
                            let encoded = character.encode_utf8(&mut buffer);
                            check_xml_chars("character reference", encoded).map_err(|_| {
                                invalid("character reference to a forbidden character")
                            })?;
                            Cow::Owned(encoded.to_owned())
                        }
                        Ok(None) => {
                            let name = reference.xml10_content();
                            Cow::Borrowed(
                                resolve_predefined_entity(&name)
                                    .ok_or_else(|| invalid(&format!("unknown entity &{name};")))?,
                            )
                        }
                        Err(error) => return Err(invalid(&error.to_string())),
                    };
                    if self.depth == 0 {
                        return Err(invalid("reference outside the root element"));
                    }
                    return Ok(Item::Text(Piece::Ready(resolved_text)));
                }
                Event::DocType(_) => {
                    return Err(invalid("a document type declaration is not allowed"));
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if self.depth > 0 {
                        return Err(invalid("the document ends inside an element"));
                    }
                    if !self.root_done {
                        return Err(invalid("the document has no root element"));
                    }
                    return Ok(Item::Eof);
                }
            }
        }
    }

    /// Enters the element `start` opens: its declarations come into scope, its attributes are
    /// checked, its name is resolved.
    fn open(&mut self, start: BytesStart<'i>) -> Result<Item<'i>, Error> {
        if self.root_done {
            return Err(invalid("content after the root element"));
        }
        if self.depth >= MAX_DEPTH {
            return Err(Error::TooDeep { limit: MAX_DEPTH });
        }
        let depth = self.depth + 1;
        if !start.attributes_raw().trim_ascii_start().is_empty() {
            self.read_attributes(&start, depth)?;
        }
        let name = self.reborrow(start.name().as_ref())?;
        let (namespace, local) = match name.split_once(':') {
            Some((prefix, local)) => (self.resolve_prefix(prefix)?, local),
            None => (self.default_namespace(), name),
        };
        self.depth = depth;
        self.current = Some(start);
        Ok(Item::Start(Tag { namespace, local }))
    }

    /// Leaves the innermost element: its declarations go out of scope.
    fn close(&mut self) -> Item<'i> {
        self.depth -= 1;
        while self
            .bindings
            .last()
            .is_some_and(|binding| binding.depth > self.depth)
        {
            self.bindings.pop();
        }
        if self.depth == 0 {
            self.root_done = true;
        }
        Item::End
    }

    /// Checks the attributes of `start` (the element at `depth`) and brings its namespace
    /// declarations into scope: well-formed, unique, references known, prefixes declared.
    ///
    /// Uniqueness is checked against the few keys of the tag kept on the stack; a tag with a
    /// repeated key or more keys than that is read again with quick-xml's own check (which keeps
    /// a list per tag), so the error and its order are quick-xml's either way.
    fn read_attributes(&mut self, start: &BytesStart<'i>, depth: usize) -> Result<(), Error> {
        let mark = self.bindings.len();
        if self.scan_attributes(start, depth, false)? {
            return Ok(());
        }
        self.bindings.truncate(mark);
        self.scan_attributes(start, depth, true).map(|_| ())
    }

    /// One pass of [`Reader::read_attributes`]: with `checked`, quick-xml checks uniqueness;
    /// without, this pass does and answers `false` at a repeated key or past
    /// [`TRACKED_KEYS`] keys (the caller then runs the checked pass).
    fn scan_attributes(
        &mut self,
        start: &BytesStart<'i>,
        depth: usize,
        checked: bool,
    ) -> Result<bool, Error> {
        let mut seen: [&str; TRACKED_KEYS] = [""; TRACKED_KEYS];
        let mut count = 0;
        let mut prefixed = false;
        let mut attributes = start.attributes();
        attributes.with_checks(checked);
        for attribute in attributes {
            let attribute = attribute.map_err(|error| invalid(&error.to_string()))?;
            let key = attribute.key;
            if !checked {
                let name = key.into_inner();
                if count == TRACKED_KEYS || seen[..count].contains(&name) {
                    return Ok(false);
                }
                seen[count] = name;
                count += 1;
            }
            if let Some(declaration) = key.as_namespace_binding() {
                self.declare(declaration, &attribute.value, depth)?;
                continue;
            }
            prefixed |= key.prefix().is_some();
            attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|error| invalid(&error.to_string()))?;
        }
        if prefixed {
            // After every declaration of the tag: `a:x="1" xmlns:a="urn:a"` is well-formed.
            for attribute in checked_already(start).flatten() {
                if attribute.key.as_namespace_binding().is_some() {
                    continue;
                }
                if let Some(prefix) = attribute.key.prefix() {
                    self.resolve_prefix(prefix.as_ref())?;
                }
            }
        }
        Ok(true)
    }

    /// Brings one namespace declaration into scope, refusing what the Namespaces in XML
    /// recommendation refuses (rebinding `xml` or `xmlns`, binding their namespaces elsewhere).
    fn declare(
        &mut self,
        declaration: PrefixDeclaration<'_>,
        value: &str,
        depth: usize,
    ) -> Result<(), Error> {
        let value = self.reborrow(value)?;
        let prefix = match declaration {
            PrefixDeclaration::Default => "",
            PrefixDeclaration::Named(prefix) => {
                let prefix = self.reborrow(prefix)?;
                match prefix {
                    "xml" if value == XML_NS => return Ok(()),
                    "xml" | "xmlns" => {
                        return Err(invalid(&format!(
                            "the prefix {prefix:?} cannot be declared"
                        )));
                    }
                    _ if value == XML_NS || value == XMLNS_NS => {
                        return Err(invalid(&format!(
                            "the prefix {prefix:?} cannot be bound to {value:?}"
                        )));
                    }
                    _ => prefix,
                }
            }
        };
        if self.bindings.len() >= MAX_BINDINGS {
            return Err(invalid(&format!(
                "more than {MAX_BINDINGS} namespace declarations in scope"
            )));
        }
        self.bindings.push(Binding {
            prefix,
            namespace: Ns::of(value),
            depth,
        });
        Ok(())
    }

    /// The namespace of an unprefixed element name: the innermost `xmlns="..."` in scope.
    fn default_namespace(&self) -> Ns<'i> {
        self.bindings
            .iter()
            .rev()
            .find(|binding| binding.prefix.is_empty())
            .map_or(Ns::None, |binding| binding.namespace)
    }

    /// The namespace `prefix` is bound to in scope.
    fn resolve_prefix(&self, prefix: &str) -> Result<Ns<'i>, Error> {
        match prefix {
            "xml" => return Ok(Ns::Other(XML_NS)),
            "xmlns" => return Ok(Ns::Other(XMLNS_NS)),
            _ => {}
        }
        match self
            .bindings
            .iter()
            .rev()
            .find(|binding| binding.prefix == prefix)
        {
            Some(binding) if binding.namespace != Ns::None => Ok(binding.namespace),
            _ => Err(invalid(&format!("the prefix {prefix:?} is not declared"))),
        }
    }

    /// `part` (a slice of a borrowed event) as a slice of the input, so it outlives the event.
    fn reborrow(&self, part: &str) -> Result<&'i str, Error> {
        let base = self.input.as_ptr() as usize;
        let start = part.as_ptr() as usize;
        start
            .checked_sub(base)
            .and_then(|offset| self.input.get(offset..offset + part.len()))
            .ok_or_else(|| invalid("the parser handed up text that is not part of the document"))
    }

    /// The root element's start tag.
    ///
    /// # Errors
    /// [`Error::InvalidXml`] when the document has no root element or is malformed before it.
    pub fn root(&mut self) -> Result<Tag<'i>, Error> {
        loop {
            match self.next_event()? {
                Item::Start(tag) => return Ok(tag),
                Item::End | Item::Text(_) | Item::Eof => {}
            }
        }
    }

    /// The next child's start tag inside the current element, or `None` after its end tag.
    ///
    /// # Errors
    /// [`Error::InvalidXml`] or [`Error::TooDeep`] for a malformed document.
    pub fn next_child(&mut self) -> Result<Option<Tag<'i>>, Error> {
        loop {
            match self.next_event()? {
                Item::Start(tag) => return Ok(Some(tag)),
                Item::End | Item::Eof => return Ok(None),
                Item::Text(_) => {}
            }
        }
    }

    /// Reads to the end of the element whose start tag was read last (its children, whatever
    /// they are, are checked and passed over).
    ///
    /// # Errors
    /// [`Error::InvalidXml`] or [`Error::TooDeep`] for a malformed document.
    pub fn skip(&mut self) -> Result<(), Error> {
        self.skip_to(self.depth.saturating_sub(1))
    }

    fn skip_to(&mut self, depth: usize) -> Result<(), Error> {
        while self.depth > depth {
            if let Item::Eof = self.next_event()? {
                break;
            }
        }
        Ok(())
    }

    /// The direct text of the current element (text, CDATA and references, untrimmed; the text
    /// of child elements is not part of it), read up to its end tag.
    ///
    /// # Errors
    /// [`Error::InvalidXml`] or [`Error::TooDeep`] for a malformed document.
    pub fn text(&mut self) -> Result<Cow<'i, str>, Error> {
        let mut text: Cow<'i, str> = Cow::Borrowed("");
        loop {
            match self.next_event()? {
                Item::Start(_) => self.skip()?,
                Item::Text(piece) => {
                    let piece = piece.into_str();
                    if text.is_empty() {
                        text = piece;
                    } else {
                        text.to_mut().push_str(&piece);
                    }
                }
                Item::End | Item::Eof => return Ok(text),
            }
        }
    }

    /// The direct text, trimmed and owned.
    ///
    /// # Errors
    /// As [`Reader::text`].
    pub fn trimmed_text(&mut self) -> Result<String, Error> {
        Ok(self.text()?.trim().to_owned())
    }

    /// An unqualified attribute of the start tag read last (as [`Element::attribute`]).
    pub fn attribute(&self, name: &str) -> Option<Cow<'_, str>> {
        let start = self.current.as_ref()?;
        checked_already(start).flatten().find_map(|attribute| {
            let key = attribute.key;
            if key.as_namespace_binding().is_some()
                || key.prefix().is_some()
                || key.local_name().as_ref() != name
            {
                return None;
            }
            attribute.normalized_value(XmlVersion::Implicit1_0).ok()
        })
    }

    /// An unqualified attribute of the start tag read last, or [`Error::MissingElement`] naming
    /// `@name` in `parent`.
    ///
    /// # Errors
    /// [`Error::MissingElement`] when the attribute is absent.
    pub fn require_attribute(&self, name: &str, parent: &str) -> Result<Cow<'_, str>, Error> {
        self.attribute(name).ok_or_else(|| Error::MissingElement {
            element: format!("@{name}"),
            parent: parent.to_owned(),
        })
    }

    /// Every attribute of the start tag read last, namespace declarations left out.
    fn all_attributes(&self) -> Vec<Attribute> {
        let Some(start) = self.current.as_ref() else {
            return Vec::new();
        };
        checked_already(start)
            .flatten()
            .filter(|attribute| attribute.key.as_namespace_binding().is_none())
            .filter_map(|attribute| {
                let key = attribute.key;
                let namespace = match key.prefix() {
                    Some(prefix) => self.resolve_prefix(prefix.as_ref()).ok()?.as_str(),
                    None => None,
                };
                Some(Attribute {
                    namespace: namespace.map(str::to_owned),
                    name: key.local_name().as_ref().to_owned(),
                    value: attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .ok()?
                        .into_owned(),
                })
            })
            .collect()
    }

    /// Runs `decode` on the element whose start tag was read last and reads to its end tag
    /// whatever `decode` returns. A decoding error (a missing element, a wrong value) is the inner
    /// `Err`, so the caller can keep reading; a malformed document is the outer one.
    ///
    /// # Errors
    /// [`Error::InvalidXml`] or [`Error::TooDeep`] for a malformed document.
    pub(crate) fn attempt<T>(
        &mut self,
        decode: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<Result<T, Error>, Error> {
        let outside = self.depth.saturating_sub(1);
        match decode(self) {
            Err(error) if is_document_error(&error) => Err(error),
            result => {
                self.skip_to(outside)?;
                Ok(result)
            }
        }
    }

    /// Decodes the element just started into `slot` when it is the first of its name, skips it
    /// otherwise (the tree walk of old read the first child of a name and ignored the rest).
    ///
    /// # Errors
    /// [`Error::InvalidXml`] or [`Error::TooDeep`] for a malformed document.
    pub(crate) fn first<T>(
        &mut self,
        slot: &mut Slot<T>,
        decode: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<(), Error> {
        if slot.is_some() {
            return self.skip();
        }
        *slot = Some(self.attempt(decode)?);
        Ok(())
    }

    /// Reads the rest of the document after a decoder is done with it: a document is accepted
    /// only whole, so a malformed tail is [`Error::InvalidXml`] as it always was.
    ///
    /// # Errors
    /// [`Error::InvalidXml`] or [`Error::TooDeep`] for a malformed document.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.skip_to(0)?;
        loop {
            if let Item::Eof = self.next_event()? {
                return Ok(());
            }
        }
    }

    /// Ends a decode: a malformed document wins over what the decoder made of its first part
    /// (the whole document is read either way, as the tree parser did before decoding).
    ///
    /// # Errors
    /// The document's error, else the decoder's.
    pub(crate) fn settle<T>(mut self, outcome: Result<T, Error>) -> Result<T, Error> {
        if let Err(error) = &outcome
            && is_document_error(error)
        {
            return outcome;
        }
        self.finish()?;
        outcome
    }
}

/// The attributes of a start tag that [`Reader::open`] has checked whole (its keys are unique), so
/// reading them again needs no list of the keys seen.
fn checked_already<'a>(start: &'a BytesStart<'_>) -> quick_xml::events::attributes::Attributes<'a> {
    let mut attributes = start.attributes();
    attributes.with_checks(false);
    attributes
}

/// Whether an error says the document itself is malformed (as opposed to a decoder's verdict).
fn is_document_error(error: &Error) -> bool {
    matches!(error, Error::InvalidXml { .. } | Error::TooDeep { .. })
}

/// Reads an `xs:boolean` (`true`, `false`, `1`, `0`) from the current element's text.
///
/// # Errors
/// [`Error::InvalidValue`] naming `element`; a malformed document's error.
pub(crate) fn read_bool(reader: &mut Reader<'_>, element: &str) -> Result<bool, Error> {
    let text = reader.text()?;
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(Error::InvalidValue {
            element: element.to_owned(),
            value: other.chars().take(80).collect(),
        }),
    }
}

/// Reads the current element's trimmed text with `FromStr`.
///
/// # Errors
/// [`Error::InvalidValue`] naming `element`; a malformed document's error.
pub(crate) fn read_value<T: FromStr>(reader: &mut Reader<'_>, element: &str) -> Result<T, Error> {
    let text = reader.text()?;
    parse_value(element, text.trim())
}

/// Reads the current element's text, untrimmed and owned.
///
/// # Errors
/// A malformed document's error.
pub(crate) fn read_text(reader: &mut Reader<'_>) -> Result<String, Error> {
    Ok(reader.text()?.into_owned())
}

/// Reads the current element's text, trimmed and owned.
///
/// # Errors
/// A malformed document's error.
pub(crate) fn read_trimmed(reader: &mut Reader<'_>) -> Result<String, Error> {
    reader.trimmed_text()
}

/// The value in a slot, or [`Error::MissingElement`] naming `element` in `parent`.
///
/// # Errors
/// [`Error::MissingElement`]; the first element's decoding error.
pub(crate) fn required<T>(slot: Slot<T>, element: &str, parent: &str) -> Result<T, Error> {
    slot.ok_or_else(|| Error::MissingElement {
        element: element.to_owned(),
        parent: parent.to_owned(),
    })?
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

    /// quick-xml's own verdict on a start tag's attributes (its duplicate check included).
    fn quick_xml_verdict(tag: &str) -> Result<(), String> {
        let mut reader = quick_xml::Reader::from_str(tag);
        let Ok(Event::Start(start) | Event::Empty(start)) = reader.read_event() else {
            panic!("not a start tag: {tag}");
        };
        for attribute in start.attributes() {
            attribute.map_err(|error| error.to_string())?;
        }
        Ok(())
    }

    #[test]
    fn repeated_attributes_are_refused_with_quick_xmls_own_error() {
        let many: String = (0..20)
            .map(|index| format!(" k{index}='{index}'"))
            .collect();
        for (tag, repeated) in [
            ("<a x='1' y='2' x='3'/>".to_owned(), true),
            ("<a xmlns:p='urn:p' p:x='1' p:x='2'/>".to_owned(), true),
            ("<a xmlns='urn:a' xmlns='urn:b'/>".to_owned(), true),
            // Past the keys checked on the stack, quick-xml's check takes over.
            (format!("<a{many}/>"), false),
            (format!("<a{many} k3='again'/>"), true),
            (format!("<a{many} k19='again'/>"), true),
            (format!("<a k0='x'{many}/>"), true),
            // Not repeated: another prefix is another name.
            (
                "<a xmlns:p='urn:p' xmlns:q='urn:q' p:x='1' q:x='2' x='3'/>".to_owned(),
                false,
            ),
        ] {
            let expected = quick_xml_verdict(&tag);
            assert_eq!(expected.is_err(), repeated, "{tag}");
            match (parse(tag.as_bytes()), expected) {
                (Ok(element), Ok(())) => {
                    let declared = tag.matches("xmlns").count();
                    assert_eq!(
                        element.attributes.len(),
                        tag.matches('=').count() - declared
                    );
                }
                (Err(Error::InvalidXml { reason }), Err(expected)) => {
                    assert_eq!(reason, expected, "{tag}")
                }
                (got, expected) => panic!("{tag}: {got:?}, quick-xml says {expected:?}"),
            }
        }
    }

    #[test]
    fn a_tag_read_twice_declares_its_namespaces_once() {
        // Past the keys checked on the stack the tag is read again by quick-xml: the declarations
        // of the first pass are taken back, so 120 of them (under the bound of 128) still fit,
        // and they end with their element.
        let declarations: String = (0..120)
            .map(|index| format!(" xmlns:p{index}='urn:{index}'"))
            .collect();
        let document =
            format!("<r xmlns:p0='urn:r'><a{declarations}><p0:b p119:x='1'/></a><p0:c/></r>");
        let root = parse(document.as_bytes()).unwrap();
        let a = root.unqualified_child("a").unwrap();
        let b = a.child("urn:0", "b").unwrap();
        assert_eq!(b.attributes[0].namespace.as_deref(), Some("urn:119"));
        assert!(root.child("urn:r", "c").is_some());
    }

    #[test]
    fn attribute_values_escape_tab_and_line_feed_too() {
        let mut writer = XmlWriter::default();
        writer
            .open_with("a", &[("v", "v", "x\t\n\r&<>\"'y ü")], true)
            .unwrap();
        writer.leaf("b", "b", "x\t\n\r&y ü").unwrap();
        assert_eq!(
            writer.into_string(),
            "<a v=\"x&#9;&#10;&#13;&amp;&lt;&gt;&quot;&apos;y ü\"/><b>x\t\n&#13;&amp;y ü</b>"
        );
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
    fn declarations_hold_in_their_element_only() {
        let root = parse(
            b"<a xmlns='urn:d'><p:b xmlns:p='urn:one'><p:c xmlns:p='urn:two'/><p:d/></p:b>\
              <e xmlns=''/><f/><g xmlns:q='urn:q' q:x='1'/></a>",
        )
        .unwrap();
        assert!(root.is("urn:d", "a"));
        let b = root.child("urn:one", "b").unwrap();
        assert!(
            b.child("urn:two", "c").is_some(),
            "an inner declaration wins"
        );
        assert!(
            b.child("urn:one", "d").is_some(),
            "and ends with its element"
        );
        assert!(root.unqualified_child("e").is_some(), "xmlns='' undeclares");
        assert!(root.child("urn:d", "f").is_some());
        let g = root.child("urn:d", "g").unwrap();
        assert_eq!(g.attributes[0].namespace.as_deref(), Some("urn:q"));
        // A prefix declared on a sibling is not in scope.
        assert!(matches!(
            parse(b"<a><b xmlns:p='urn:p'/><p:c/></a>"),
            Err(Error::InvalidXml { .. })
        ));
    }

    #[test]
    fn attribute_prefixes_resolve_after_every_declaration_of_the_tag() {
        let root = parse(b"<a p:x='1' xmlns:p='urn:p'/>").unwrap();
        assert_eq!(root.attributes[0].namespace.as_deref(), Some("urn:p"));
        assert_eq!(root.attributes[0].name, "x");
        for document in [
            &b"<a q:x='1' xmlns:p='urn:p'/>"[..],
            b"<a x='1' x='2'/>",
            b"<a x=1/>",
        ] {
            assert!(
                matches!(parse(document), Err(Error::InvalidXml { .. })),
                "{:?}",
                String::from_utf8_lossy(document)
            );
        }
    }

    #[test]
    fn reserved_prefixes_cannot_be_rebound() {
        assert!(
            parse(b"<a xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='en'/>").is_ok()
        );
        for document in [
            &b"<a xmlns:xml='urn:other'/>"[..],
            b"<a xmlns:xmlns='urn:other'/>",
            b"<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>",
            b"<a xmlns:p='http://www.w3.org/2000/xmlns/'/>",
            b"<a xmlns:p='urn:p'><p:b xmlns:p=''/></a>",
        ] {
            assert!(
                matches!(parse(document), Err(Error::InvalidXml { .. })),
                "{:?}",
                String::from_utf8_lossy(document)
            );
        }
    }

    #[test]
    fn declarations_in_scope_are_bounded() {
        let declarations: String = (0..MAX_BINDINGS)
            .map(|index| format!(" xmlns:p{index}='urn:{index}'"))
            .collect();
        let fits = format!("<a{declarations}/>");
        assert!(parse(fits.as_bytes()).is_ok());
        let over = format!("<a{declarations}><b xmlns:q='urn:q'/></a>");
        assert!(matches!(
            parse(over.as_bytes()),
            Err(Error::InvalidXml { .. })
        ));
    }

    #[test]
    fn text_is_converted_when_read_and_empty_elements_end_at_once() {
        let mut reader =
            Reader::new(b"<a>\r\n<b/>x\r\ny<c>skipped &amp; checked</c>&lt;<d>t</d></a>").unwrap();
        let root = reader.root().unwrap();
        assert_eq!(root.local(), "a");
        let b = reader.next_child().unwrap().unwrap();
        assert_eq!(b.local(), "b");
        assert_eq!(reader.text().unwrap(), "", "an empty element has no text");
        assert_eq!(reader.depth(), 1);
        let c = reader.next_child().unwrap().unwrap();
        assert_eq!(c.local(), "c");
        reader.skip().unwrap();
        let d = reader.next_child().unwrap().unwrap();
        assert_eq!(d.local(), "d");
        assert_eq!(reader.text().unwrap(), "t");
        assert_eq!(reader.next_child().unwrap(), None);
        reader.finish().unwrap();

        let mut reader = Reader::new(b"<a>x\r\ny<c/>&lt;</a>").unwrap();
        reader.root().unwrap();
        assert_eq!(
            reader.text().unwrap(),
            "x\ny<",
            "line ends normalized, references resolved"
        );
        // A bad reference inside a skipped element is still refused.
        let mut reader = Reader::new(b"<a><c>&bogus;</c></a>").unwrap();
        reader.root().unwrap();
        reader.next_child().unwrap();
        assert!(matches!(reader.skip(), Err(Error::InvalidXml { .. })));
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
