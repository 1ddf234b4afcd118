//! The committed `ResponseCode` list (crates/ews-protocol/src/response_code.rs, generated once) must equal the
//! `m:ResponseCodeType` enumeration of the `messages.xsd` the tests find (wsdl/, then
//! $EWS_SCHEMA_DIR, then ../shared/ews-schema). Skips with a message when no schema is found,
//! fails under CI=true.

mod common;

use std::collections::BTreeSet;

use ews_connector::ews::ResponseCode;
use ews_connector::ews::xml::{Element, parse};

const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

fn schema_response_codes() -> Option<Vec<String>> {
    if !common::schema::require_or_skip("schema") {
        return None;
    }
    let dir = common::schema::schema_dir()?;
    let bytes = std::fs::read(dir.join("messages.xsd")).expect("read messages.xsd");
    let root = parse(&bytes).expect("messages.xsd parses");
    let simple_type = root
        .children_named(XSD_NS, "simpleType")
        .find(|element| {
            element.attribute("Name").is_none()
                && element.attribute("name") == Some("ResponseCodeType")
        })
        .expect("messages.xsd defines ResponseCodeType");
    let restriction: &Element = simple_type
        .require(XSD_NS, "restriction")
        .expect("restriction");
    Some(
        restriction
            .children_named(XSD_NS, "enumeration")
            .map(|enumeration| enumeration.attribute("value").expect("value").to_owned())
            .collect(),
    )
}

#[test]
fn response_codes_equal_the_schema_enumeration() {
    let Some(schema_codes) = schema_response_codes() else {
        return;
    };
    let ours: Vec<&str> = ResponseCode::ALL.iter().map(ResponseCode::as_str).collect();
    assert_eq!(
        ours.len(),
        schema_codes.len(),
        "count differs from the schema"
    );
    let ours_set: BTreeSet<&str> = ours.iter().copied().collect();
    let schema_set: BTreeSet<&str> = schema_codes.iter().map(String::as_str).collect();
    let missing: Vec<_> = schema_set.difference(&ours_set).collect();
    let extra: Vec<_> = ours_set.difference(&schema_set).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from the enum: {missing:?}; not in the schema: {extra:?}"
    );
    assert_eq!(
        ours_set.len(),
        ours.len(),
        "duplicate names in ResponseCode::ALL"
    );
}

#[test]
fn every_code_parses_to_its_own_variant_and_unknown_codes_survive() {
    for code in ResponseCode::ALL {
        let parsed = ResponseCode::parse(code.as_str());
        assert_eq!(&parsed, code);
        assert!(
            !matches!(parsed, ResponseCode::Other(_)),
            "{code} parsed as Other"
        );
    }
    assert!(ResponseCode::ALL.len() > 500);
    assert_eq!(ResponseCode::ALL[0], ResponseCode::NoError);
    let unknown: ResponseCode = "\n ErrorNewInExchange2031 \n".parse().unwrap();
    assert_eq!(
        unknown,
        ResponseCode::Other("ErrorNewInExchange2031".to_owned())
    );
    assert_eq!(unknown.as_str(), "ErrorNewInExchange2031");
}
