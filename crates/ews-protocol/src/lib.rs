//! `ews`: EWS as data. Builds SOAP requests and parses SOAP responses; no I/O, no async, no clock.
//!
//! Invariants:
//! - Only `ews` builds or parses EWS XML (the simulator has its own independent reader).
//! - `ews` never imports `transport`, `hyper` or `axum`.
//! - A `ResponseClass="Error"` message is a per-item value (`ResponseMessage<T>`), never an
//!   `ews::Error`; a `soap:Fault` is `Error::Fault`.
//!
//! Entry points: [`encode`], [`decode`], [`decode_fault`], the [`Operation`] structs in [`ops`],
//! [`RequestHeader`], [`ResponseCode`] and its [`ErrorKind`]; the calendar item types the item
//! operations share are in [`items`].

pub mod autodiscover;
pub mod envelope;
pub mod error;
pub mod items;
pub mod ops;
pub mod response;
pub mod response_code;
#[cfg(test)]
pub(crate) mod test_util;
pub mod types;
pub mod xml;

pub use envelope::{
    Decoded, EXCHANGE_VERSIONS, Fault, Impersonation, RequestHeader, decode, decode_fault, encode,
    is_known_version,
};
pub use error::Error;
pub use ops::Operation;
pub use response::{
    ErrorKind, MessageXml, ResponseClass, ResponseError, ResponseMessage, ServerVersionInfo,
};
pub use response_code::ResponseCode;
