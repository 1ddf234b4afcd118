//! Finding Microsoft's EWS schema and validating XML against it with xmllint, for tests.
//!
//! Lookup order for the schema directory (a directory that holds `messages.xsd`): `wsdl/` in
//! the package, then `$EWS_SCHEMA_DIR`, then `../shared/ews-schema`. The schema is a test oracle
//! only; nothing at build time or run time reads it.
//!
//! Invariant: when something a test needs is missing, the test prints why and skips, except
//! under `CI=true`, where it fails instead (`require_or_skip`).
//!
//! Entry points: `schema_dir`, `validate_all`, `require_or_skip`, `is_ci`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the tests run on CI (`CI=true`), where missing tools are failures, not skips.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value.eq_ignore_ascii_case("true"))
}

/// The first directory holding `messages.xsd`: `wsdl/`, `$EWS_SCHEMA_DIR`, `../shared/ews-schema`.
pub fn schema_dir() -> Option<PathBuf> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut candidates = vec![manifest_dir.join("wsdl")];
    if let Some(dir) = std::env::var_os("EWS_SCHEMA_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(manifest_dir.join("..").join("shared").join("ews-schema"));
    candidates
        .into_iter()
        .find(|dir| dir.join("messages.xsd").is_file())
}

/// `../shared/` (read-only reference material), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared");
    dir.is_dir().then_some(dir)
}

/// Whether `program` can be run from `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Checks that a test requirement is present. `what` is `"schema"` (the EWS schema directory),
/// `"xmllint"`, `"validation"` (both), `"shared"` (`../shared/`), or a program name looked up on
/// `PATH`.
///
/// Returns true when present. When absent it prints a skip message and returns false, except
/// under `CI=true`, where it panics so the run fails.
///
/// # Panics
/// Under `CI=true` when the requirement is missing.
pub fn require_or_skip(what: &str) -> bool {
    let missing = match what {
        "schema" => schema_dir().is_none().then(|| {
            "no messages.xsd in wsdl/, $EWS_SCHEMA_DIR or ../shared/ews-schema".to_owned()
        }),
        "xmllint" => (!on_path("xmllint"))
            .then(|| "xmllint is not on PATH (Debian: apt-get install libxml2-utils)".to_owned()),
        "validation" => {
            if schema_dir().is_none() {
                Some("no messages.xsd in wsdl/, $EWS_SCHEMA_DIR or ../shared/ews-schema".to_owned())
            } else if !on_path("xmllint") {
                Some("xmllint is not on PATH (Debian: apt-get install libxml2-utils)".to_owned())
            } else {
                None
            }
        }
        "shared" => shared_dir()
            .is_none()
            .then(|| "../shared/ is not present".to_owned()),
        program => (!on_path(program)).then(|| format!("{program} is not on PATH")),
    };
    match missing {
        None => true,
        Some(reason) if is_ci() => panic!("required for this test under CI=true: {what}: {reason}"),
        Some(reason) => {
            eprintln!("SKIPPED: {what} unavailable: {reason} (set CI=true to make this a failure)");
            false
        }
    }
}

/// Validates SOAP envelopes (or bare EWS elements) against the schema from [`schema_dir`].
///
/// Runs xmllint once for all files (the schema is compiled once). The entry schema is the SOAP
/// 1.1 envelope schema that `validate.sh` uses (`support/soap-envelope.xsd` next to the schema)
/// when present; otherwise a small envelope schema is written to a temporary directory, importing
/// the `messages.xsd` found (the case of Microsoft's three files alone in `wsdl/`).
///
/// # Errors
/// A description with xmllint's output when any file is invalid, or when the schema or xmllint is
/// missing.
pub fn validate_all(files: &[PathBuf]) -> Result<(), String> {
    if files.is_empty() {
        return Ok(());
    }
    let dir = schema_dir().ok_or("no EWS schema directory found")?;
    let shipped_entry = dir.join("support").join("soap-envelope.xsd");
    let generated = if shipped_entry.is_file() {
        None
    } else {
        Some(write_envelope_schema(&dir)?)
    };
    let entry = match &generated {
        Some(temp) => temp.path().join("envelope.xsd"),
        None => shipped_entry,
    };
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&entry)
        .args(files)
        .output()
        .map_err(|error| format!("cannot run xmllint: {error}"))?;
    drop(generated);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failures: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.ends_with(" validates"))
        .collect();
    if output.status.success() && failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "validation failed (xmllint exit {:?}):\n{}",
            output.status.code(),
            failures.join("\n")
        ))
    }
}

/// Writes a minimal SOAP 1.1 envelope schema (plus a declaration of `xml:lang`, which
/// `types.xsd` uses without a schema location) that imports `dir/messages.xsd`.
fn write_envelope_schema(dir: &Path) -> Result<tempfile::TempDir, String> {
    let temp = tempfile::tempdir().map_err(|error| error.to_string())?;
    let messages = dir
        .join("messages.xsd")
        .canonicalize()
        .map_err(|error| error.to_string())?;
    let xml_namespace = r#"<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.w3.org/XML/1998/namespace">
  <xs:attribute name="lang" type="xs:string"/>
</xs:schema>
"#;
    let envelope = format!(
        r###"<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
           targetNamespace="http://schemas.xmlsoap.org/soap/envelope/"
           elementFormDefault="qualified">
  <xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="xml.xsd"/>
  <xs:import namespace="http://schemas.microsoft.com/exchange/services/2006/messages" schemaLocation="{}"/>
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Header" minOccurs="0">
          <xs:complexType><xs:sequence><xs:any namespace="##other" processContents="strict" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType>
        </xs:element>
        <xs:element name="Body">
          <xs:complexType><xs:sequence><xs:any namespace="##any" processContents="strict" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="Fault">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="faultcode" type="xs:QName" form="unqualified"/>
        <xs:element name="faultstring" form="unqualified">
          <xs:complexType><xs:simpleContent><xs:extension base="xs:string"><xs:anyAttribute namespace="##other" processContents="lax"/></xs:extension></xs:simpleContent></xs:complexType>
        </xs:element>
        <xs:element name="faultactor" type="xs:anyURI" minOccurs="0" form="unqualified"/>
        <xs:element name="detail" minOccurs="0" form="unqualified">
          <xs:complexType><xs:sequence><xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"###,
        url_of(&messages)
    );
    std::fs::write(temp.path().join("xml.xsd"), xml_namespace)
        .map_err(|error| error.to_string())?;
    std::fs::write(temp.path().join("envelope.xsd"), envelope)
        .map_err(|error| error.to_string())?;
    Ok(temp)
}

fn url_of(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut url = String::from("file://");
    for character in text.chars() {
        match character {
            ' ' => url.push_str("%20"),
            '"' => url.push_str("%22"),
            other => url.push(other),
        }
    }
    url
}
