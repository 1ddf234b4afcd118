//! Test helpers for `ews` unit tests: `minify`, `assert_encodes`, `assert_decodes`, and the
//! `fixture!` macro that loads `fixtures/ews/<operation>/<case>.xml` at compile time.
//!
//! Invariant: tests compare whole documents (minified), so a change in element order shows up.
//! Entry points: [`minify`], [`assert_encodes`], [`assert_decodes`], [`response_envelope`].

use crate::envelope::{Decoded, RequestHeader, decode, encode};
use crate::ops::Operation;
use crate::xml::{MESSAGES_NS, SOAP_NS, TYPES_NS};

/// Loads a fixture as `&'static str`: `fixture!("get_folder/calendar_permissions.xml")`.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/ews/",
            $path
        ))
    };
}
pub(crate) use fixture;

/// Removes comments and whitespace-only text between tags, so readable XML can be compared with
/// what the writer produces.
pub(crate) fn minify(xml: &str) -> String {
    let mut without_comments = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find("<!--") {
        without_comments.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => {
                rest = "";
            }
        }
    }
    without_comments.push_str(rest);
    let mut minified = String::with_capacity(without_comments.len());
    let mut pending_text = String::new();
    for character in without_comments.chars() {
        match character {
            '<' => {
                if !pending_text.trim().is_empty() {
                    minified.push_str(&pending_text);
                }
                pending_text.clear();
                minified.push('<');
            }
            '>' => {
                minified.push_str(&pending_text);
                pending_text.clear();
                minified.push('>');
            }
            other => pending_text.push(other),
        }
    }
    if !pending_text.trim().is_empty() {
        minified.push_str(&pending_text);
    }
    minified
}

/// The header used by most unit tests: `Exchange2013_SP1`, delegate mode.
pub(crate) fn delegate_header() -> RequestHeader {
    RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: None,
    }
}

/// Asserts that `operation`, in delegate mode, encodes to an envelope whose body is `expected_body`.
pub(crate) fn assert_encodes<O: Operation>(operation: &O, expected_body: &str) {
    let encoded =
        String::from_utf8(encode(&delegate_header(), operation).expect("encode")).expect("utf-8");
    let expected = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:t="{TYPES_NS}" xmlns:m="{MESSAGES_NS}"><soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></soap:Header><soap:Body>{}</soap:Body></soap:Envelope>"#,
        minify(expected_body)
    );
    assert_eq!(encoded, expected);
}

/// Asserts that `xml` decodes for `O` to `expected` (the server version is not compared).
pub(crate) fn assert_decodes<O: Operation>(xml: &str, expected: O::Response)
where
    O::Response: std::fmt::Debug + PartialEq,
{
    let Decoded { response, .. } = decode::<O>(xml.as_bytes()).expect("decode");
    assert_eq!(response, expected);
}

/// Wraps a response body element (using the `m:` and `t:` prefixes) in a SOAP envelope.
pub(crate) fn response_envelope(body: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="{SOAP_NS}" xmlns:m="{MESSAGES_NS}" xmlns:t="{TYPES_NS}"><s:Body>{body}</s:Body></s:Envelope>"#
    )
}
