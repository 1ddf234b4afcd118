//! `ews::Error`: why a request could not be encoded or a response could not be decoded.
//!
//! Invariant: a response that parses but says `ResponseClass="Error"` is not an `Error`; it is a
//! per-item [`crate::response::ResponseError`] value. A `soap:Fault` is an `Error::Fault`.
//! Invariant: messages carry element names and short values, never passwords or headers.
//!
//! Entry type: [`Error`].

use crate::envelope::Fault;

/// Everything that can go wrong in `ews` (no I/O happens here).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed, namespace-well-formed UTF-8 XML document.
    #[error("invalid xml: {reason}")]
    InvalidXml {
        /// What is wrong, with a byte position when the parser gives one.
        reason: String,
    },
    /// The server rejected the whole request with a `soap:Fault` (Exchange sends it with HTTP 500).
    ///
    /// Boxed to keep `Error` small, as in ews-rs.
    #[error("soap fault {}: {}", .0.response_code, .0.message)]
    Fault(Box<Fault>),
    /// An element appeared where the schema puts another one.
    #[error("unexpected element {found}, expected {expected}")]
    UnexpectedElement {
        /// The element that was expected.
        expected: String,
        /// The element that was found, as `{namespace}local`.
        found: String,
    },
    /// A required element or attribute (`@name`) is missing.
    #[error("missing element {element} in {parent}")]
    MissingElement {
        /// The missing element's local name, or `@attribute`.
        element: String,
        /// The local name of the element that should contain it.
        parent: String,
    },
    /// An element's text or an attribute is not a value its type allows.
    #[error("invalid value {value:?} in {element}")]
    InvalidValue {
        /// The element (or enum type) whose value is wrong.
        element: String,
        /// The value, cut to 80 characters.
        value: String,
    },
    /// A request could not be encoded from the given input (refused before anything is sent).
    #[error("invalid input in {field}: {reason}")]
    InvalidInput {
        /// The request field at fault, such as `mailbox` or `folder_changes[0].permission_set`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// The document nests elements deeper than the reader allows.
    #[error("document nested deeper than {limit} elements")]
    TooDeep {
        /// The limit, [`crate::xml::MAX_DEPTH`].
        limit: usize,
    },
}
