//! The generator of `crates/ews-protocol/src/response_code.rs`, and the test that the committed file is exactly
//! what it writes from the `messages.xsd` the tests find (wsdl/, then $EWS_SCHEMA_DIR, then
//! ../shared/ews-schema). Skips with a message when no schema is found, fails under CI=true.
//!
//! To regenerate after a schema change:
//! `UPDATE_GENERATED=1 cargo test --test ews_response_code_generated`, then review the diff.
//! The text is rendered here and formatted by `rustfmt` (edition 2024), as `cargo fmt` would.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// The `xs:enumeration/@value` list of `xs:simpleType name="ResponseCodeType"`, in document
/// order.
fn response_code_type(xsd: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xsd);
    let mut inside = false;
    let mut codes = Vec::new();
    loop {
        match reader.read_event().expect("messages.xsd is well-formed") {
            Event::Start(element) if element.local_name().into_inner() == "simpleType" => {
                inside = attribute(&element, "name").as_deref() == Some("ResponseCodeType");
            }
            Event::End(element) if inside && element.local_name().into_inner() == "simpleType" => {
                return codes;
            }
            Event::Start(element) | Event::Empty(element)
                if inside && element.local_name().into_inner() == "enumeration" =>
            {
                let code = attribute(&element, "value").expect("an enumeration has a value");
                assert!(
                    code.starts_with(|first: char| first.is_ascii_uppercase())
                        && code
                            .chars()
                            .all(|character| character.is_ascii_alphanumeric()),
                    "`{code}` cannot be a Rust variant name"
                );
                codes.push(code);
            }
            Event::Eof => panic!("messages.xsd has no simpleType ResponseCodeType"),
            _ => {}
        }
    }
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    let attribute = element.try_get_attribute(name).ok()??;
    let value = attribute
        .normalized_value(quick_xml::XmlVersion::default())
        .ok()?;
    Some(value.into_owned())
}

/// The Rust source of `response_code.rs` for `codes`, before formatting.
fn render(codes: &[String]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        r#"//! `ResponseCode`: every value of `m:ResponseCodeType` in Microsoft's `messages.xsd`, plus `Other`.
//!
//! GENERATED FILE, do not edit by hand: `tests/ews_response_code_generated.rs` writes it from the
//! `xs:enumeration/@value` list of `xs:simpleType name="ResponseCodeType"` in `messages.xsd`
//! (wsdl/, $EWS_SCHEMA_DIR or ../shared/ews-schema), in document order ({count} values, `NoError`
//! included), and fails when this file differs from what it writes. Regenerate with
//! `UPDATE_GENERATED=1 cargo test --test ews_response_code_generated`.
//!
//! Invariant: parsing never fails; a code this list does not know becomes `ResponseCode::Other`.
//! What a code means (retry, not found, ...) lives in one place: `ResponseCode::kind` in `response.rs`.

use std::fmt;
use std::str::FromStr;

/// A `ResponseCode` value, spelled exactly as Microsoft spells it.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResponseCode {{
"#,
        count = codes.len()
    ));
    for code in codes {
        let _ = writeln!(out, "{code},");
    }
    out.push_str(
        "/// A code that is not in the schema this list was generated from (a newer server).\n\
         Other(String),\n}\n\n\
         /// Every code of the schema, in schema order (without `Other`).\n\
         pub const ALL: &[ResponseCode] = &[\n",
    );
    for code in codes {
        let _ = writeln!(out, "ResponseCode::{code},");
    }
    out.push_str(
        "];\n\n\
         impl ResponseCode {\n\
         /// Every code of the schema, in schema order (without `Other`).\n\
         pub const ALL: &'static [ResponseCode] = ALL;\n\n\
         /// Microsoft's spelling of the code (for `Other`, the text that was received).\n\
         pub fn as_str(&self) -> &str {\nmatch self {\n",
    );
    for code in codes {
        let _ = writeln!(out, "ResponseCode::{code} => \"{code}\",");
    }
    out.push_str(
        "ResponseCode::Other(code) => code,\n}\n}\n\n\
         /// Parses a code; surrounding whitespace is ignored and unknown codes become `Other`.\n\
         pub fn parse(code: &str) -> ResponseCode {\nmatch code.trim() {\n",
    );
    for code in codes {
        let _ = writeln!(out, "\"{code}\" => ResponseCode::{code},");
    }
    out.push_str(
        "other => ResponseCode::Other(other.to_owned()),\n}\n}\n}\n\n\
         impl FromStr for ResponseCode {\n\
         type Err = std::convert::Infallible;\n\n\
         fn from_str(code: &str) -> Result<Self, Self::Err> {\n\
         Ok(ResponseCode::parse(code))\n}\n}\n\n\
         impl fmt::Display for ResponseCode {\n\
         fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {\n\
         formatter.write_str(self.as_str())\n}\n}\n",
    );
    out
}

/// `source` as `cargo fmt` leaves it (the package's edition, default options).
fn rustfmt(source: &str) -> String {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rustfmt runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(source.as_bytes())
        .expect("write to rustfmt");
    let output = child.wait_with_output().expect("rustfmt finishes");
    assert!(
        output.status.success(),
        "rustfmt refused the generated source: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("rustfmt writes UTF-8")
}

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/ews-protocol/src/response_code.rs")
}

#[test]
fn the_committed_response_code_file_is_what_the_generator_writes() {
    if !common::schema::require_or_skip("schema") || !common::schema::require_or_skip("rustfmt") {
        return;
    }
    let dir = common::schema::schema_dir().expect("schema directory");
    let xsd = std::fs::read_to_string(dir.join("messages.xsd")).expect("read messages.xsd");
    let codes = response_code_type(&xsd);
    assert!(codes.len() > 500, "only {} codes read", codes.len());
    assert_eq!(codes[0], "NoError");
    let generated = rustfmt(&render(&codes));

    let path = committed_path();
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &generated).expect("write response_code.rs");
        eprintln!("wrote {} ({} codes)", path.display(), codes.len());
        return;
    }
    let committed = std::fs::read_to_string(&path).expect("read response_code.rs");
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(ours, theirs)| ours != theirs)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "crates/ews-protocol/src/response_code.rs differs from what the generator writes from {} (first at line {}: {:?} vs {:?}); run UPDATE_GENERATED=1 cargo test --test ews_response_code_generated and review the diff",
            dir.join("messages.xsd").display(),
            first_difference + 1,
            committed.lines().nth(first_difference),
            generated.lines().nth(first_difference),
        );
    }
}

#[test]
fn the_generator_reads_only_the_response_code_enumeration_in_order() {
    let xsd = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:simpleType name="OtherType"><xs:restriction base="xs:string"><xs:enumeration value="NotThis"/></xs:restriction></xs:simpleType>
<xs:simpleType name="ResponseCodeType">
<xs:annotation><xs:documentation>codes</xs:documentation></xs:annotation>
<xs:restriction base="xs:string">
<xs:enumeration value="NoError"/>
<xs:enumeration value="ErrorB"><xs:annotation><xs:documentation>b</xs:documentation></xs:annotation></xs:enumeration>
<xs:enumeration value="ErrorA"/>
</xs:restriction>
</xs:simpleType>
<xs:simpleType name="Later"><xs:restriction base="xs:string"><xs:enumeration value="NorThis"/></xs:restriction></xs:simpleType>
</xs:schema>"#;
    assert_eq!(response_code_type(xsd), ["NoError", "ErrorB", "ErrorA"]);
    let source = render(&["NoError".to_owned(), "ErrorA".to_owned()]);
    assert!(
        source.contains("\"ErrorA\" => ResponseCode::ErrorA,"),
        "{source}"
    );
    assert!(
        source.contains("ResponseCode::ErrorA => \"ErrorA\","),
        "{source}"
    );
    assert!(source.contains("(2 values, `NoError`"), "{source}");
}
