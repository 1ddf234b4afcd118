//! Robustness of the response parser: every response fixture under `fixtures/ews/**`, mutated
//! (truncated at any byte, bytes flipped, an element duplicated or removed, a text node of
//! megabytes inserted, elements nested far too deep, and several of these at once), goes
//! through `ews::decode::<Op>` for the fixture's operation and through `ews::decode_fault`.
//!
//! What is proven, on thousands of generated cases: no input makes the parser panic (a panic
//! fails the test; nothing catches it); every failure is one of the typed decode errors of
//! `ews::Error` (never `InvalidInput`, which only encoding produces); error messages stay short
//! even when the input holds megabytes; `decode` and `decode_fault` agree on whether an input is
//! a SOAP fault; a cut document is always `InvalidXml`; nesting past `MAX_DEPTH` is `TooDeep`.
//! `tests/ews_fixtures.rs` has a small (64-case) byte-level smoke test; this is the thorough one.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;

use ews_connector::ews::ops::add_delegate::AddDelegate;
use ews_connector::ews::ops::create_item::CreateItem;
use ews_connector::ews::ops::delete_item::DeleteItem;
use ews_connector::ews::ops::expand_dl::ExpandDL;
use ews_connector::ews::ops::find_item::FindItem;
use ews_connector::ews::ops::get_delegate::GetDelegate;
use ews_connector::ews::ops::get_folder::GetFolder;
use ews_connector::ews::ops::get_item::GetItem;
use ews_connector::ews::ops::remove_delegate::RemoveDelegate;
use ews_connector::ews::ops::update_delegate::UpdateDelegate;
use ews_connector::ews::ops::update_folder::UpdateFolder;
use ews_connector::ews::ops::update_item::UpdateItem;
use ews_connector::ews::xml::MAX_DEPTH;
use ews_connector::ews::{Error, Operation, decode, decode_fault};

/// One response fixture with the spans of its elements.
struct Fixture {
    /// The operation folder (`get_folder`, …, `soap_fault`).
    operation: String,
    name: String,
    bytes: Vec<u8>,
    /// Every element as (start of `<`, end after `>` of its end tag or of `/>`, end of its start
    /// tag): found by a small scanner, independent of the parser under test.
    elements: Vec<(usize, usize, usize)>,
}

fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ews");
        let mut fixtures = Vec::new();
        for folder in std::fs::read_dir(&root).expect("fixtures/ews") {
            let folder = folder.unwrap().path();
            let operation = folder.file_name().unwrap().to_string_lossy().into_owned();
            for file in std::fs::read_dir(&folder).unwrap() {
                let path = file.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if !name.ends_with(".xml") || name.ends_with(".request.xml") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let elements = element_spans(&bytes);
                assert!(!elements.is_empty(), "{name}: no elements found");
                fixtures.push(Fixture {
                    operation: operation.clone(),
                    name,
                    bytes,
                    elements,
                });
            }
        }
        fixtures.sort_by(|a, b| (&a.operation, &a.name).cmp(&(&b.operation, &b.name)));
        assert!(fixtures.len() >= 25, "the response fixtures are missing");
        fixtures
    })
}

/// The element spans of a well-formed document (comments, declarations and processing
/// instructions skipped; attribute values in fixtures hold no `>`).
fn element_spans(bytes: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut spans = Vec::new();
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|&byte| byte == b'<') {
        let start = at + offset;
        let rest = &bytes[start..];
        if rest.starts_with(b"<!--") {
            at = start + find(rest, b"-->").expect("comment ends") + 3;
            continue;
        }
        let close = start
            + rest
                .iter()
                .position(|&byte| byte == b'>')
                .expect("tag ends");
        let end = close + 1;
        match rest.get(1) {
            Some(b'?') | Some(b'!') => {}
            Some(b'/') => {
                let (open_start, open_end) = open.pop().expect("balanced tags");
                spans.push((open_start, end, open_end));
            }
            _ if bytes[close - 1] == b'/' => spans.push((start, end, end)),
            _ => open.push((start, end)),
        }
        at = end;
    }
    assert!(open.is_empty(), "unbalanced fixture");
    spans.sort();
    spans
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A decode failure is typed: one of the variants decoding produces, with a short message.
fn assert_typed(error: &Error, what: &str) {
    match error {
        Error::InvalidXml { .. }
        | Error::UnexpectedElement { .. }
        | Error::MissingElement { .. }
        | Error::InvalidValue { .. }
        | Error::TooDeep { .. } => {
            let message = error.to_string();
            assert!(
                message.len() <= 1024,
                "{what}: an error message of {} bytes",
                message.len()
            );
        }
        // A fault's text is the server's; it is kept whole.
        Error::Fault(_) => {}
        other => panic!("{what}: decoding produced a non-decode error: {other:?}"),
    }
}

/// What decoding one input gave: whether the fixture's decoder accepted it and whether it is a
/// fault.
struct Outcome {
    ok: bool,
    error: Option<String>,
}

/// Runs the fixture's decoder (all eleven for a SOAP-fault fixture) and `decode_fault` on `bytes`
/// and checks the invariants that hold for every input.
fn decode_all(operation: &str, bytes: &[u8], what: &str) -> Outcome {
    fn one<O: Operation>(bytes: &[u8], what: &str) -> Result<(), Error>
    where
        O::Response: std::fmt::Debug,
    {
        match decode::<O>(bytes) {
            Ok(decoded) => {
                // Render the whole value: every field is readable without panicking.
                let _ = format!("{:?}", decoded.response);
                Ok(())
            }
            Err(error) => {
                assert_typed(&error, what);
                Err(error)
            }
        }
    }
    let results: Vec<Result<(), Error>> = match operation {
        "get_folder" => vec![one::<GetFolder>(bytes, what)],
        "update_folder" => vec![one::<UpdateFolder>(bytes, what)],
        "get_delegate" => vec![one::<GetDelegate>(bytes, what)],
        "add_delegate" => vec![one::<AddDelegate>(bytes, what)],
        "update_delegate" => vec![one::<UpdateDelegate>(bytes, what)],
        "remove_delegate" => vec![one::<RemoveDelegate>(bytes, what)],
        "find_item" => vec![one::<FindItem>(bytes, what)],
        "get_item" => vec![one::<GetItem>(bytes, what)],
        "create_item" => vec![one::<CreateItem>(bytes, what)],
        "update_item" => vec![one::<UpdateItem>(bytes, what)],
        "delete_item" => vec![one::<DeleteItem>(bytes, what)],
        "expand_dl" => vec![one::<ExpandDL>(bytes, what)],
        "soap_fault" => vec![
            one::<GetFolder>(bytes, what),
            one::<UpdateFolder>(bytes, what),
            one::<GetDelegate>(bytes, what),
            one::<AddDelegate>(bytes, what),
            one::<UpdateDelegate>(bytes, what),
            one::<RemoveDelegate>(bytes, what),
            one::<FindItem>(bytes, what),
            one::<GetItem>(bytes, what),
            one::<CreateItem>(bytes, what),
            one::<UpdateItem>(bytes, what),
            one::<DeleteItem>(bytes, what),
            one::<ExpandDL>(bytes, what),
        ],
        other => panic!("no decoder for fixture folder {other}"),
    };
    // `decode_fault` and `decode` agree on whether this is a fault, and on the fault.
    let fault = decode_fault(bytes);
    match decode::<GetFolder>(bytes) {
        Err(Error::Fault(decoded)) => {
            assert_eq!(fault.as_ref(), Some(decoded.as_ref()), "{what}");
        }
        _ => assert!(
            fault.is_none(),
            "{what}: decode_fault found a fault decode missed"
        ),
    }
    let first = results.into_iter().next().unwrap();
    Outcome {
        ok: first.is_ok(),
        error: first.err().map(|error| format!("{error:?}")),
    }
}

fn pick(index: &Index) -> &'static Fixture {
    let fixtures = fixtures();
    &fixtures[index.index(fixtures.len())]
}

fn element(fixture: &Fixture, index: &Index) -> (usize, usize, usize) {
    fixture.elements[index.index(fixture.elements.len())]
}

/// The end of the root element's end tag: cutting before it leaves an incomplete document.
fn root_end(fixture: &Fixture) -> usize {
    fixture
        .elements
        .iter()
        .map(|(_, end, _)| *end)
        .max()
        .unwrap()
}

#[test]
fn every_unmutated_fixture_decodes_or_is_its_own_documented_error() {
    for fixture in fixtures() {
        let what = format!("{}/{}", fixture.operation, fixture.name);
        let outcome = decode_all(&fixture.operation, &fixture.bytes, &what);
        if fixture.operation == "soap_fault" {
            assert!(decode_fault(&fixture.bytes).is_some(), "{what}");
        } else {
            assert!(outcome.ok, "{what}: {:?}", outcome.error);
        }
    }
}

#[test]
fn every_cut_of_one_fixture_per_operation_is_invalid_xml() {
    // Exhaustive over every byte position for the first fixture of each folder.
    let mut seen = std::collections::BTreeSet::new();
    for fixture in fixtures() {
        if !seen.insert(fixture.operation.clone()) {
            continue;
        }
        let end = root_end(fixture);
        for cut in 0..end {
            let what = format!("{}/{} cut at {cut}", fixture.operation, fixture.name);
            let bytes = &fixture.bytes[..cut];
            decode_all(&fixture.operation, bytes, &what);
            assert!(
                matches!(decode::<GetFolder>(bytes), Err(Error::InvalidXml { .. })),
                "{what}"
            );
            assert!(decode_fault(bytes).is_none(), "{what}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// A document cut anywhere before its root ends is `InvalidXml`, for every fixture.
    #[test]
    fn truncated_documents_are_invalid_xml(fixture in any::<Index>(), position in any::<Index>()) {
        let fixture = pick(&fixture);
        let cut = position.index(root_end(fixture));
        let bytes = &fixture.bytes[..cut];
        let what = format!("{}/{} cut at {cut}", fixture.operation, fixture.name);
        let outcome = decode_all(&fixture.operation, bytes, &what);
        prop_assert!(!outcome.ok, "{}", what);
        prop_assert!(matches!(decode::<GetFolder>(bytes), Err(Error::InvalidXml { .. })), "{}", what);
    }

    /// Random bytes overwritten anywhere: a value or a typed error.
    #[test]
    fn flipped_bytes_give_a_value_or_a_typed_error(
        fixture in any::<Index>(),
        flips in proptest::collection::vec((any::<Index>(), any::<u8>()), 1..12),
    ) {
        let fixture = pick(&fixture);
        let mut bytes = fixture.bytes.clone();
        let length = bytes.len();
        for (position, byte) in &flips {
            bytes[position.index(length)] = *byte;
        }
        decode_all(&fixture.operation, &bytes, &format!("{}/{} flipped {flips:?}", fixture.operation, fixture.name));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// One element written twice in a row: a value or a typed error.
    #[test]
    fn a_duplicated_element_gives_a_value_or_a_typed_error(fixture in any::<Index>(), chosen in any::<Index>()) {
        let fixture = pick(&fixture);
        let (start, end, _) = element(fixture, &chosen);
        let mut bytes = fixture.bytes.clone();
        bytes.splice(end..end, fixture.bytes[start..end].iter().copied());
        decode_all(&fixture.operation, &bytes, &format!("{}/{} element {start}..{end} twice", fixture.operation, fixture.name));
    }

    /// One element removed: a value or a typed error.
    #[test]
    fn a_removed_element_gives_a_value_or_a_typed_error(fixture in any::<Index>(), chosen in any::<Index>()) {
        let fixture = pick(&fixture);
        let (start, end, _) = element(fixture, &chosen);
        let mut bytes = fixture.bytes.clone();
        bytes.drain(start..end);
        decode_all(&fixture.operation, &bytes, &format!("{}/{} element {start}..{end} removed", fixture.operation, fixture.name));
    }

    /// Several mutations of the kinds above at once.
    #[test]
    fn combined_mutations_give_a_value_or_a_typed_error(
        fixture in any::<Index>(),
        steps in proptest::collection::vec((0u8..3, any::<Index>(), any::<u8>()), 1..6),
    ) {
        let fixture = pick(&fixture);
        let mut bytes = fixture.bytes.clone();
        for (kind, chosen, byte) in &steps {
            // Element spans are recomputed only for the original; after a change they are
            // clamped, which gives arbitrary (often broken) cuts: also worth feeding.
            let (start, end, _) = element(fixture, chosen);
            let length = bytes.len();
            let (start, end) = (start.min(length), end.min(length));
            match kind {
                0 => {
                    let copy = bytes[start..end].to_vec();
                    bytes.splice(end..end, copy);
                }
                1 => {
                    bytes.drain(start..end);
                }
                _ => {
                    if length > 0 {
                        bytes[chosen.index(length)] = *byte;
                    }
                }
            }
        }
        decode_all(&fixture.operation, &bytes, &format!("{}/{} steps {steps:?}", fixture.operation, fixture.name));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Elements nested inside an element's content: past `MAX_DEPTH` levels it is `TooDeep`,
    /// whatever the depth (up to 50,000), without exhausting the stack.
    #[test]
    fn deep_nesting_is_too_deep(fixture in any::<Index>(), chosen in any::<Index>(), depth in 1usize..50_000) {
        let fixture = pick(&fixture);
        let (_, _, content) = element(fixture, &chosen);
        let mut nested = "<x>".repeat(depth);
        nested.push_str(&"</x>".repeat(depth));
        let mut bytes = fixture.bytes.clone();
        // A self-closing element has no content: nest after it instead, still inside its parent.
        bytes.splice(content..content, nested.bytes());
        let what = format!("{}/{} nested {depth} deep at {content}", fixture.operation, fixture.name);
        let outcome = decode_all(&fixture.operation, &bytes, &what);
        if depth > MAX_DEPTH {
            prop_assert!(!outcome.ok, "{}", what);
            prop_assert!(matches!(decode::<GetFolder>(&bytes), Err(Error::TooDeep { .. })), "{}", what);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A text node of 1 to 4 MB inside any element: a value or a typed error, with a short
    /// error message (values are cut, never echoed whole).
    #[test]
    fn a_huge_text_node_gives_a_value_or_a_short_typed_error(
        fixture in any::<Index>(),
        chosen in any::<Index>(),
        megabytes in 1usize..=4,
        letter in proptest::char::range('a', 'z'),
    ) {
        let fixture = pick(&fixture);
        let (_, _, content) = element(fixture, &chosen);
        let text = letter.to_string().repeat(megabytes << 20);
        let mut bytes = fixture.bytes.clone();
        bytes.splice(content..content, text.bytes());
        decode_all(&fixture.operation, &bytes, &format!("{}/{} {megabytes} MB of text at {content}", fixture.operation, fixture.name));
    }
}
