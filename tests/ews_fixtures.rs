//! Every fixture under fixtures/ews decodes with its operation's decoder (or as a fault) to the
//! expected typed value, and mechanical rewrites of the same bytes (other prefixes, default
//! namespaces, a BOM, with or without the XML declaration, CRLF, comments, character references,
//! unknown elements and attributes) decode to exactly the same value. Fixtures are also
//! validated against the schema when it and xmllint are available (mandatory under CI=true).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use ews_connector::ews::items::{
    Body, BodyType, CalendarItem, CalendarItemType, ExtendedFieldUri, ExtendedProperty, ItemId,
    LegacyFreeBusyStatus, MapiPropertyType, PropertySet,
};
use ews_connector::ews::ops::add_delegate::AddDelegate;
use ews_connector::ews::ops::create_item::CreateItem;
use ews_connector::ews::ops::delete_item::DeleteItem;
use ews_connector::ews::ops::expand_dl::ExpandDL;
use ews_connector::ews::ops::find_item::{FindItem, FindItemPage};
use ews_connector::ews::ops::get_delegate::GetDelegate;
use ews_connector::ews::ops::get_folder::{Folder, GetFolder};
use ews_connector::ews::ops::get_item::GetItem;
use ews_connector::ews::ops::remove_delegate::RemoveDelegate;
use ews_connector::ews::ops::update_delegate::UpdateDelegate;
use ews_connector::ews::ops::update_folder::UpdateFolder;
use ews_connector::ews::ops::update_item::UpdateItem;
use ews_connector::ews::types::{
    CalendarPermission, CalendarPermissionLevel, CalendarPermissionReadAccess,
    DelegateFolderPermissionLevel, DelegatePermissions, DelegateUser, DeliverMeetingRequests,
    DistinguishedUser, EffectiveRights, FolderId, PermissionAction, UserId,
};
use ews_connector::ews::{
    Error, ErrorKind, Fault, Operation, ResponseClass, ResponseCode, ResponseError, decode,
    decode_fault,
};

const CALENDAR_ID: &str =
    "AAMkAGNvbnRvc28tZXhhbXBsZS1hbGljZQAuAAAAAADx0Fq8kWcBTL4rU2nQv1cWAQB1Y2FsZW5kYXIAAAAAAQ0AAA==";
const CHANGE_KEY_BEFORE: &str = "AgAAABQAAAB1c2VyQGNvbnRvc28uZXhhbXBsZQAAAB7";
const CHANGE_KEY_AFTER: &str = "AgAAABQAAAB1c2VyQGNvbnRvc28uZXhhbXBsZQAAAB9";
const SID_PREFIX: &str = "S-1-5-21-2127521184-1604012920-1887927527-";

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("ews")
}

/// Every response fixture (not the `.request.xml` goldens), as (operation folder, case, path).
fn response_fixtures() -> Vec<(String, String, PathBuf)> {
    let mut fixtures = Vec::new();
    for operation in std::fs::read_dir(fixtures_dir()).expect("fixtures/ews") {
        let operation = operation.expect("entry").path();
        for case in std::fs::read_dir(&operation).expect("operation folder") {
            let path = case.expect("entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".xml") && !name.ends_with(".request.xml") {
                fixtures.push((
                    operation
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    name.trim_end_matches(".xml").to_owned(),
                    path,
                ));
            }
        }
    }
    fixtures.sort();
    fixtures
}

/// Decodes with the decoder the folder names, rendered with `Debug` so that any two decodes can
/// be compared (including `Error::Fault` payloads).
fn decode_for(operation: &str, bytes: &[u8]) -> String {
    fn render<O: Operation>(bytes: &[u8]) -> String {
        format!("{:?}", decode::<O>(bytes))
    }
    match operation {
        "get_folder" => render::<GetFolder>(bytes),
        "update_folder" => render::<UpdateFolder>(bytes),
        "get_delegate" => render::<GetDelegate>(bytes),
        "add_delegate" => render::<AddDelegate>(bytes),
        "update_delegate" => render::<UpdateDelegate>(bytes),
        "remove_delegate" => render::<RemoveDelegate>(bytes),
        "find_item" => render::<FindItem>(bytes),
        "get_item" => render::<GetItem>(bytes),
        "create_item" => render::<CreateItem>(bytes),
        "update_item" => render::<UpdateItem>(bytes),
        "delete_item" => render::<DeleteItem>(bytes),
        "expand_dl" => render::<ExpandDL>(bytes),
        "soap_fault" => render::<GetFolder>(bytes),
        other => panic!("no decoder for fixture folder {other}"),
    }
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn only<T: Clone>(items: &[T]) -> T {
    assert_eq!(items.len(), 1, "expected exactly one response message");
    items[0].clone()
}

fn item_error<
    O: Operation<Response = Vec<Result<T, ResponseError>>>,
    T: std::fmt::Debug + Clone,
>(
    path: &str,
) -> ResponseError {
    let decoded = decode::<O>(&read(path)).unwrap_or_else(|error| panic!("{path}: {error}"));
    only(&decoded.response).expect_err("an error item")
}

fn fault(path: &str) -> Fault {
    let bytes = read(path);
    let Err(Error::Fault(fault)) = decode::<GetFolder>(&bytes) else {
        panic!("{path} is not decoded as a fault");
    };
    assert_eq!(decode_fault(&bytes).as_ref(), Some(fault.as_ref()));
    *fault
}

fn user(sid: Option<&str>, address: Option<&str>, name: Option<&str>) -> UserId {
    UserId {
        sid: sid.map(|suffix| format!("{SID_PREFIX}{suffix}")),
        primary_smtp_address: address.map(str::to_owned),
        display_name: name.map(str::to_owned),
        distinguished_user: None,
        external_user_identity: None,
    }
}

fn distinguished(which: DistinguishedUser) -> UserId {
    UserId {
        distinguished_user: Some(which),
        ..UserId::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn permission(
    user_id: UserId,
    flags: [bool; 5],
    edit_items: PermissionAction,
    delete_items: PermissionAction,
    read_items: CalendarPermissionReadAccess,
    level: CalendarPermissionLevel,
) -> CalendarPermission {
    CalendarPermission {
        user_id,
        can_create_items: Some(flags[0]),
        can_create_sub_folders: Some(flags[1]),
        is_folder_owner: Some(flags[2]),
        is_folder_visible: Some(flags[3]),
        is_folder_contact: Some(flags[4]),
        edit_items: Some(edit_items),
        delete_items: Some(delete_items),
        read_items: Some(read_items),
        calendar_permission_level: level,
    }
}

#[test]
fn calendar_permissions_decode_to_the_full_acl() {
    use CalendarPermissionLevel as Level;
    use CalendarPermissionReadAccess as Read;
    use PermissionAction as Action;
    let decoded = decode::<GetFolder>(&read("get_folder/calendar_permissions.xml")).unwrap();
    let version = decoded.server_version.expect("ServerVersionInfo");
    assert_eq!(
        (
            version.major_version,
            version.minor_version,
            version.major_build_number,
            version.minor_build_number
        ),
        (Some(15), Some(1), Some(2507), Some(6))
    );
    assert_eq!(version.version.as_deref(), Some("V2017_07_11"));
    let off = false;
    let on = true;
    let expected = Folder {
        folder_id: FolderId {
            id: CALENDAR_ID.to_owned(),
            change_key: Some(CHANGE_KEY_BEFORE.to_owned()),
        },
        folder_class: Some("IPF.Appointment".to_owned()),
        display_name: Some("Calendar".to_owned()),
        effective_rights: Some(EffectiveRights {
            create_associated: true,
            create_contents: true,
            create_hierarchy: true,
            delete: true,
            modify: true,
            read: true,
            view_private_items: Some(true),
        }),
        permission_set: Some(ews_connector::ews::types::CalendarPermissionSet {
            calendar_permissions: vec![
                permission(
                    distinguished(DistinguishedUser::Default),
                    [off; 5],
                    Action::None,
                    Action::None,
                    Read::TimeOnly,
                    Level::FreeBusyTimeOnly,
                ),
                permission(
                    distinguished(DistinguishedUser::Anonymous),
                    [off; 5],
                    Action::None,
                    Action::None,
                    Read::None,
                    Level::None,
                ),
                permission(
                    user(Some("1105"), Some("bob@contoso.example"), Some("Bob Jones")),
                    [on, off, off, on, off],
                    Action::All,
                    Action::All,
                    Read::FullDetails,
                    Level::Editor,
                ),
                permission(
                    user(
                        Some("1106"),
                        Some("carol@contoso.example"),
                        Some("Carol Núñez"),
                    ),
                    [off, off, off, on, off],
                    Action::None,
                    Action::None,
                    Read::FullDetails,
                    Level::Reviewer,
                ),
                permission(
                    user(
                        Some("2210"),
                        Some("planning-team@contoso.example"),
                        Some("Planning Team"),
                    ),
                    [on, off, off, on, off],
                    Action::Owned,
                    Action::Owned,
                    Read::FullDetails,
                    Level::Author,
                ),
                permission(
                    user(
                        Some("1107"),
                        Some("dave@fabrikam.example"),
                        Some("Dave O'Brien & Co"),
                    ),
                    [on, on, off, off, on],
                    Action::None,
                    Action::Owned,
                    Read::TimeAndSubjectAndLocation,
                    Level::Custom,
                ),
                permission(
                    user(Some("1190"), None, None),
                    [on, off, off, on, off],
                    Action::All,
                    Action::All,
                    Read::FullDetails,
                    Level::Editor,
                ),
            ],
            unknown_entries: vec![format!("NT:{SID_PREFIX}1333")],
        }),
    };
    assert_eq!(decoded.response, vec![Ok(expected)]);
}

#[test]
fn effective_rights_in_delegate_mode_have_no_permission_set() {
    let decoded = decode::<GetFolder>(&read("get_folder/calendar_effective_rights.xml")).unwrap();
    assert_eq!(
        decoded.response,
        vec![Ok(Folder {
            folder_id: FolderId {
                id: CALENDAR_ID.to_owned(),
                change_key: Some(CHANGE_KEY_BEFORE.to_owned())
            },
            folder_class: None,
            display_name: None,
            effective_rights: Some(EffectiveRights {
                create_associated: false,
                create_contents: true,
                create_hierarchy: false,
                // An Editor: Modify and Delete are about the folder object (owners only).
                delete: false,
                modify: false,
                read: true,
                view_private_items: Some(false),
            }),
            permission_set: None,
        })]
    );
}

#[test]
fn get_folder_errors_are_items_with_the_right_kind() {
    let cases = [
        (
            "error_non_existent_mailbox",
            ResponseCode::ErrorNonExistentMailbox,
            ErrorKind::MailboxNotFound,
        ),
        (
            "error_folder_not_found",
            ResponseCode::ErrorFolderNotFound,
            ErrorKind::NotFound,
        ),
        (
            "error_access_denied",
            ResponseCode::ErrorAccessDenied,
            ErrorKind::AccessDenied,
        ),
        (
            "error_mailbox_move_in_progress",
            ResponseCode::ErrorMailboxMoveInProgress,
            ErrorKind::MailboxUnavailable,
        ),
        (
            "error_mailbox_store_unavailable",
            ResponseCode::ErrorMailboxStoreUnavailable,
            ErrorKind::MailboxUnavailable,
        ),
        (
            "error_internal_server_error_busy",
            ResponseCode::ErrorInternalServerError,
            ErrorKind::Throttled,
        ),
    ];
    for (case, code, kind) in cases {
        let error = item_error::<GetFolder, Folder>(&format!("get_folder/{case}.xml"));
        assert_eq!(error.class, ResponseClass::Error, "{case}");
        assert_eq!(error.response_code, code, "{case}");
        assert_eq!(error.kind(), kind, "{case}");
        assert!(error.message_text.is_some(), "{case}");
    }
    let busy = item_error::<GetFolder, Folder>("get_folder/error_internal_server_error_busy.xml");
    assert_eq!(busy.effective_code(), &ResponseCode::ErrorServerBusy);
    assert_eq!(
        busy.message_xml.back_off,
        Some(Duration::from_millis(30_000))
    );
    let missing = item_error::<GetFolder, Folder>("get_folder/error_non_existent_mailbox.xml");
    assert_eq!(
        missing.message_xml.value("SmtpAddress"),
        Some("nobody@contoso.example")
    );
}

#[test]
fn update_folder_fixtures_decode() {
    let decoded = decode::<UpdateFolder>(&read("update_folder/success.xml")).unwrap();
    assert_eq!(
        decoded.response,
        vec![Ok(FolderId {
            id: CALENDAR_ID.to_owned(),
            change_key: Some(CHANGE_KEY_AFTER.to_owned())
        })]
    );
    let cases = [
        (
            "error_irresolvable_conflict",
            ResponseCode::ErrorIrresolvableConflict,
            ErrorKind::Conflict,
        ),
        (
            "error_invalid_permission_settings",
            ResponseCode::ErrorInvalidPermissionSettings,
            ErrorKind::Invalid,
        ),
        (
            "error_access_denied",
            ResponseCode::ErrorAccessDenied,
            ErrorKind::AccessDenied,
        ),
    ];
    for (case, code, kind) in cases {
        let error = item_error::<UpdateFolder, FolderId>(&format!("update_folder/{case}.xml"));
        assert_eq!(
            (error.response_code.clone(), error.kind()),
            (code, kind),
            "{case}"
        );
    }
}

fn not_delegate() -> ResponseError {
    ResponseError {
        class: ResponseClass::Error,
        response_code: ResponseCode::ErrorNotDelegate,
        message_text: Some("The specified user is not a delegate for the mailbox.".to_owned()),
        message_xml: Default::default(),
    }
}

#[test]
fn delegate_fixtures_decode() {
    let two = decode::<GetDelegate>(&read("get_delegate/two_delegates.xml"))
        .unwrap()
        .response;
    assert_eq!(two.result, Ok(()));
    assert_eq!(
        two.deliver_meeting_requests,
        Some(DeliverMeetingRequests::DelegatesAndSendInformationToMe)
    );
    assert_eq!(
        two.delegates,
        vec![
            Ok(DelegateUser {
                user_id: user(Some("1105"), Some("bob@contoso.example"), Some("Bob Jones")),
                delegate_permissions: Some(DelegatePermissions {
                    calendar_folder_permission_level: Some(DelegateFolderPermissionLevel::Editor),
                    tasks_folder_permission_level: Some(DelegateFolderPermissionLevel::Reviewer),
                    ..DelegatePermissions::default()
                }),
                receive_copies_of_meeting_messages: Some(true),
                view_private_items: Some(false),
            }),
            Ok(DelegateUser {
                user_id: user(
                    Some("1106"),
                    Some("carol@contoso.example"),
                    Some("Carol Núñez")
                ),
                delegate_permissions: Some(DelegatePermissions {
                    calendar_folder_permission_level: Some(DelegateFolderPermissionLevel::Reviewer),
                    inbox_folder_permission_level: Some(DelegateFolderPermissionLevel::Custom),
                    ..DelegatePermissions::default()
                }),
                receive_copies_of_meeting_messages: Some(false),
                view_private_items: Some(true),
            }),
        ]
    );
    let none = decode::<GetDelegate>(&read("get_delegate/no_delegates.xml"))
        .unwrap()
        .response;
    assert_eq!((none.result, none.delegates.len()), (Ok(()), 0));
    assert_eq!(
        none.deliver_meeting_requests,
        Some(DeliverMeetingRequests::DelegatesAndMe)
    );
    let filtered = decode::<GetDelegate>(&read("get_delegate/error_not_delegate.xml"))
        .unwrap()
        .response;
    assert_eq!(
        (filtered.result, filtered.delegates),
        (Ok(()), vec![Err(not_delegate())])
    );

    let added = decode::<AddDelegate>(&read("add_delegate/success.xml"))
        .unwrap()
        .response;
    let added = only(&added.delegates).expect("added");
    assert_eq!(
        added.user_id,
        user(Some("1105"), Some("bob@contoso.example"), Some("Bob Jones"))
    );
    assert_eq!(
        added
            .delegate_permissions
            .and_then(|permissions| permissions.journal_folder_permission_level),
        Some(DelegateFolderPermissionLevel::None)
    );
    for (case, code) in [
        (
            "error_delegate_already_exists",
            ResponseCode::ErrorDelegateAlreadyExists,
        ),
        ("error_delegate_no_user", ResponseCode::ErrorDelegateNoUser),
    ] {
        let response = decode::<AddDelegate>(&read(&format!("add_delegate/{case}.xml")))
            .unwrap()
            .response;
        assert_eq!(response.result, Ok(()), "{case}: outer Success");
        assert_eq!(
            only(&response.delegates).unwrap_err().response_code,
            code,
            "{case}"
        );
    }

    let updated = decode::<UpdateDelegate>(&read("update_delegate/success.xml"))
        .unwrap()
        .response;
    assert_eq!(
        only(&updated.delegates).unwrap().delegate_permissions,
        Some(DelegatePermissions {
            calendar_folder_permission_level: Some(DelegateFolderPermissionLevel::Reviewer),
            ..DelegatePermissions::default()
        })
    );
    let response = decode::<UpdateDelegate>(&read("update_delegate/error_not_delegate.xml"))
        .unwrap()
        .response;
    assert_eq!(
        (response.result, response.delegates),
        (Ok(()), vec![Err(not_delegate())])
    );

    let removed = decode::<RemoveDelegate>(&read("remove_delegate/success.xml"))
        .unwrap()
        .response;
    assert_eq!((removed.result, removed.delegates), (Ok(()), vec![Ok(())]));
    let response = decode::<RemoveDelegate>(&read("remove_delegate/error_not_delegate.xml"))
        .unwrap()
        .response;
    assert_eq!(
        (response.result, response.delegates),
        (Ok(()), vec![Err(not_delegate())])
    );
}

#[test]
fn soap_faults_decode_to_errors_with_code_and_details() {
    let cases = [
        (
            "error_impersonate_user_denied",
            ResponseCode::ErrorImpersonateUserDenied,
            ErrorKind::ImpersonationDenied,
        ),
        (
            "error_impersonation_denied",
            ResponseCode::ErrorImpersonationDenied,
            ErrorKind::ImpersonationDenied,
        ),
        (
            "error_non_existent_mailbox",
            ResponseCode::ErrorNonExistentMailbox,
            ErrorKind::MailboxNotFound,
        ),
        (
            "error_server_busy",
            ResponseCode::ErrorServerBusy,
            ErrorKind::Throttled,
        ),
        (
            "error_exceeded_connection_count",
            ResponseCode::ErrorExceededConnectionCount,
            ErrorKind::Throttled,
        ),
        (
            "error_schema_validation",
            ResponseCode::ErrorSchemaValidation,
            ErrorKind::Invalid,
        ),
        (
            "error_invalid_server_version",
            ResponseCode::ErrorInvalidServerVersion,
            ErrorKind::Invalid,
        ),
        (
            "error_internal_server_error",
            ResponseCode::ErrorInternalServerError,
            ErrorKind::Fatal,
        ),
    ];
    for (case, code, kind) in cases {
        let fault = fault(&format!("soap_fault/{case}.xml"));
        assert_eq!(fault.response_code, code, "{case}");
        assert_eq!(fault.kind(), kind, "{case}");
        assert_eq!(fault.fault_code, format!("a:{}", code.as_str()), "{case}");
        assert!(!fault.message.is_empty(), "{case}");
    }
    let busy = fault("soap_fault/error_server_busy.xml");
    assert_eq!(
        busy.message_xml.back_off,
        Some(Duration::from_millis(45_000))
    );
    let crowded = fault("soap_fault/error_exceeded_connection_count.xml");
    assert_eq!(
        crowded.message_xml.back_off, None,
        "no hint: the caller backs off"
    );
    assert_eq!(crowded.message_xml.value("MaxConcurrencyLimit"), Some("27"));
    let schema = fault("soap_fault/error_schema_validation.xml");
    assert_eq!(schema.message_xml.value("LineNumber"), Some("14"));
    assert_eq!(schema.message_xml.value("LinePosition"), Some("10"));
    assert!(
        schema.message.contains("CanCreateSubfolders"),
        "{}",
        schema.message
    );
    let error =
        decode::<GetDelegate>(&read("soap_fault/error_impersonate_user_denied.xml")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "soap fault ErrorImpersonateUserDenied: The account does not have permission to impersonate the requested user."
    );
}

#[test]
fn every_fixture_is_covered_and_decodes_without_a_structural_error() {
    let fixtures = response_fixtures();
    assert!(fixtures.len() >= 29, "only {} fixtures", fixtures.len());
    for (operation, case, path) in &fixtures {
        let rendered = decode_for(operation, &std::fs::read(path).unwrap());
        if operation == "soap_fault" {
            assert!(
                rendered.starts_with("Err(Fault("),
                "{operation}/{case}: {rendered}"
            );
        } else {
            assert!(
                rendered.starts_with("Ok("),
                "{operation}/{case}: {rendered}"
            );
        }
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.contains("<!-- Hand-written from the documentation/schema"),
            "{operation}/{case} lacks its origin comment"
        );
    }
}

type Rewrite = (&'static str, fn(&str) -> String);

fn rename_prefix(xml: &str, from: &str, to: &str) -> String {
    xml.replace(&format!("<{from}:"), &format!("<{to}:"))
        .replace(&format!("</{from}:"), &format!("</{to}:"))
        .replace(&format!("xmlns:{from}="), &format!("xmlns:{to}="))
}

fn make_default(xml: &str, prefix: &str) -> String {
    xml.replace(&format!("<{prefix}:"), "<")
        .replace(&format!("</{prefix}:"), "</")
        .replace(&format!("xmlns:{prefix}="), "xmlns=")
}

fn strip_declaration(xml: &str) -> String {
    match xml.find("?>") {
        Some(end) if xml.starts_with("<?xml") => xml[end + 2..].trim_start().to_owned(),
        _ => xml.to_owned(),
    }
}

const EXTENSION: &str = r#"<x:Extension xmlns:x="urn:contoso:extension" x:flag="1" plain="2"><x:Nested>text &amp; more</x:Nested><t:FutureProperty xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">unused</t:FutureProperty></x:Extension>"#;

fn rewrites() -> Vec<Rewrite> {
    vec![
        ("other prefixes", |xml| {
            let xml = rename_prefix(xml, "s", "soapenv");
            let xml = rename_prefix(&xml, "m", "msg");
            let xml = rename_prefix(&xml, "t", "typ");
            rename_prefix(&xml, "e", "err")
        }),
        ("messages as default namespace", |xml| {
            make_default(xml, "m")
        }),
        ("types as default namespace", |xml| make_default(xml, "t")),
        ("errors as default namespace", |xml| make_default(xml, "e")),
        ("byte order mark", |xml| format!("\u{feff}{xml}")),
        ("no xml declaration", strip_declaration),
        ("declaration without encoding", |xml| {
            format!(
                "<?xml version='1.0' standalone='yes'?>\n{}",
                strip_declaration(xml)
            )
        }),
        ("crlf line ends", |xml| xml.replace('\n', "\r\n")),
        ("comments and processing instructions", |xml| {
            xml.replace(
                "</m:ResponseCode>",
                "</m:ResponseCode><!-- note --><?trace id=1?>",
            )
            .replace("<s:Body", "<!-- before body --><s:Body")
        }),
        ("character references", |xml| {
            xml.replace("bob@contoso", "bob&#64;contoso")
                .replace("Jones<", "Jone&#x73;<")
                .replace(">NoError<", ">&#78;oError<")
                .replace("Error", "&#69;rror")
                .replace("The ", "&#x54;he ")
                .replace("Lecture:", "&#76;ecture&#x3A;")
                .replace(">2025-03-04T08", ">&#50;025-03-04T08")
        }),
        ("unknown elements and attributes", |xml| {
            xml.replace(
                "</m:ResponseCode>",
                &format!("</m:ResponseCode>{EXTENSION}"),
            )
            .replace("</t:UserId>", &format!("</t:UserId>{EXTENSION}"))
            .replace(
                "<t:CalendarFolder>",
                &format!("<t:CalendarFolder>{EXTENSION}"),
            )
            .replace("<t:CalendarItem>", &format!("<t:CalendarItem>{EXTENSION}"))
            .replace(
                "<m:RootFolder ",
                "<m:RootFolder xmlns:z=\"urn:fabrikam:z\" z:page=\"1\" ",
            )
            .replace("<s:Body", "<s:Body xmlns:y=\"urn:fabrikam\" y:trace=\"1\"")
            .replace(
                "<t:UserId>",
                "<t:UserId xmlns:z=\"urn:fabrikam:z\" z:hint=\"a&amp;b\" other=\"1\">",
            )
            .replace("<detail>", &format!("<detail>{EXTENSION}"))
        }),
    ]
}

#[test]
fn rewritten_fixtures_decode_to_the_same_value() {
    let rewrites = rewrites();
    let mut changed = vec![0usize; rewrites.len()];
    for (operation, case, path) in response_fixtures() {
        let original = std::fs::read_to_string(&path).unwrap();
        let expected = decode_for(&operation, original.as_bytes());
        for (index, (name, rewrite)) in rewrites.iter().enumerate() {
            let rewritten = rewrite(&original);
            if rewritten != original {
                changed[index] += 1;
            }
            let actual = decode_for(&operation, rewritten.as_bytes());
            assert_eq!(actual, expected, "{operation}/{case} after rewrite: {name}");
        }
    }
    for ((name, _), count) in rewrites.iter().zip(changed) {
        assert!(count > 0, "rewrite {name} changed no fixture");
    }
}

#[test]
fn fixtures_are_schema_valid() {
    if !common::schema::require_or_skip("validation") {
        return;
    }
    let files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .flat_map(|operation| std::fs::read_dir(operation.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "xml"))
        .collect();
    assert!(files.len() >= 29);
    common::schema::validate_all(&files).unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn truncated_and_foreign_bodies_are_typed_errors() {
    let bytes = read("get_folder/calendar_permissions.xml");
    for cut in [10, bytes.len() / 3, bytes.len() / 2, bytes.len() - 5] {
        assert!(
            matches!(
                decode::<GetFolder>(&bytes[..cut]),
                Err(Error::InvalidXml { .. })
            ),
            "cut at {cut}"
        );
    }
    let html = b"<html><head><title>Service Unavailable</title></head><body>503</body></html>";
    assert!(matches!(
        decode::<GetFolder>(html),
        Err(Error::UnexpectedElement { .. })
    ));
    assert!(decode_fault(html).is_none());
    let operations_mixed_up =
        decode::<UpdateFolder>(&read("get_folder/calendar_permissions.xml")).unwrap_err();
    assert!(
        matches!(operations_mixed_up, Error::UnexpectedElement { .. }),
        "{operations_mixed_up}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Damaged responses (bytes cut out, overwritten or inserted) give a value or a typed error,
    /// never a panic, for every decoder.
    #[test]
    fn damaged_fixtures_never_panic(fixture_index in 0usize..64, position in 0.0f64..1.0, length in 0usize..40, byte in proptest::prelude::any::<u8>(), mode in 0u8..3) {
        let fixtures = response_fixtures();
        let (_, _, path) = &fixtures[fixture_index % fixtures.len()];
        let mut bytes = std::fs::read(path).unwrap();
        let at = ((bytes.len() as f64) * position) as usize;
        let end = (at + length).min(bytes.len());
        match mode {
            0 => { bytes.drain(at..end); }
            1 => bytes[at..end].iter_mut().for_each(|slot| *slot = byte),
            _ => bytes.splice(at..at, std::iter::repeat_n(byte, length)).for_each(drop),
        }
        for operation in ["get_folder", "update_folder", "get_delegate", "add_delegate", "update_delegate", "remove_delegate", "find_item", "get_item", "create_item", "update_item", "delete_item", "expand_dl"] {
            let rendered = decode_for(operation, &bytes);
            proptest::prop_assert!(rendered.starts_with("Ok(") || rendered.starts_with("Err("));
        }
        let _ = decode_fault(&bytes);
    }
}

// ---- calendar items -----------------------------------------------------------------------------

const OUR_SET: &str = "c11ff724-aa03-4555-9952-8fa248a11c3e";
const EXTERNAL_ID: &str = "mytimetable:event:7f3c2a10-5b8e-4d2a-9c61-0e4f2b7d9a13";
const HASH_1: &str = "sha256:5f0c3a7e9d1b2c4a6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f8091";
const HASH_2: &str = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
const ITEM_ID_PREFIX: &str = "AAMkAGNvbnRvc28tZXhhbXBsZS1hbGljZQBGAAAAAADx0Fq8kWcBTL4rU2nQv1cWBwB1Y2FsZW5kYXIAAAAAAQ0AAHVjYWxlbmRhcgAAAAAA";

fn ours(name: &str) -> ExtendedFieldUri {
    ExtendedFieldUri {
        property_set: PropertySet::Guid(OUR_SET.to_owned()),
        property_name: name.to_owned(),
        property_type: MapiPropertyType::String,
    }
}

fn our_properties(external_id: &str, hash: &str) -> Vec<ExtendedProperty> {
    vec![
        ExtendedProperty {
            field: ours("ExternalId"),
            value: external_id.to_owned(),
        },
        ExtendedProperty {
            field: ours("ContentHash"),
            value: hash.to_owned(),
        },
    ]
}

fn item_id(number: u32, change_key: &str) -> ItemId {
    ItemId {
        id: format!("{ITEM_ID_PREFIX}{number:04}AAA="),
        change_key: Some(format!(
            "DwAAABYAAAB1c2VyQGNvbnRvc28uZXhhbXBsZQAAA{change_key}"
        )),
    }
}

fn page(path: &str) -> FindItemPage {
    let decoded = decode::<FindItem>(&read(path)).unwrap_or_else(|error| panic!("{path}: {error}"));
    only(&decoded.response).unwrap_or_else(|error| panic!("{path}: {error:?}"))
}

fn at(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
    text.parse().unwrap()
}

#[test]
fn calendar_view_tells_our_items_from_the_users() {
    let window = page("find_item/calendar_view.xml");
    assert_eq!(
        (
            window.total_items_in_view,
            window.includes_last_item_in_range
        ),
        (4, true)
    );
    assert_eq!(window.indexed_paging_offset, None);
    assert_eq!(
        window.items,
        vec![
            CalendarItem {
                item_id: Some(item_id(1, "B7")),
                subject: Some("Lecture: Linear Algebra & Geometry".to_owned()),
                extended_properties: our_properties(EXTERNAL_ID, HASH_1),
                start: Some(at("2025-03-04T08:00:00Z")),
                end: Some(at("2025-03-04T09:45:00Z")),
                is_all_day_event: Some(false),
                legacy_free_busy_status: Some(LegacyFreeBusyStatus::Busy),
                location: Some("Hall 1 (Zoë building)".to_owned()),
                calendar_item_type: Some(CalendarItemType::Single),
                ..CalendarItem::default()
            },
            CalendarItem {
                item_id: Some(item_id(2, "C1")),
                subject: Some("Weekly team sync".to_owned()),
                start: Some(at("2025-03-05T09:00:00Z")),
                end: Some(at("2025-03-05T09:30:00Z")),
                is_all_day_event: Some(false),
                legacy_free_busy_status: Some(LegacyFreeBusyStatus::Tentative),
                calendar_item_type: Some(CalendarItemType::Occurrence),
                ..CalendarItem::default()
            },
            CalendarItem {
                item_id: Some(item_id(3, "C2")),
                subject: Some("Dentist".to_owned()),
                extended_properties: vec![ExtendedProperty {
                    field: ExtendedFieldUri {
                        property_set: PropertySet::PublicStrings,
                        ..ours("ExternalId")
                    },
                    value: "not-ours-42".to_owned(),
                }],
                start: Some(at("2025-03-06T15:00:00+01:00")),
                end: Some(at("2025-03-06T16:00:00+01:00")),
                is_all_day_event: Some(false),
                legacy_free_busy_status: Some(LegacyFreeBusyStatus::Oof),
                calendar_item_type: Some(CalendarItemType::Single),
                ..CalendarItem::default()
            },
        ],
        "the t:Item in the calendar folder is skipped"
    );
    let carrying_ours: Vec<bool> = window
        .items
        .iter()
        .map(|item| item.extended_property(&ours("ExternalId")).is_some())
        .collect();
    assert_eq!(
        carrying_ours,
        [true, false, false],
        "a PublicStrings property of the same name is not ours"
    );
}

#[test]
fn a_truncated_window_says_so_and_times_without_offset_are_utc() {
    let window = page("find_item/calendar_view_truncated.xml");
    assert!(!window.includes_last_item_in_range);
    assert_eq!(window.total_items_in_view, 37);
    let times: Vec<_> = window
        .items
        .iter()
        .map(|item| {
            (
                item.start.unwrap(),
                item.end.unwrap(),
                item.calendar_item_type,
            )
        })
        .collect();
    assert_eq!(
        times,
        [
            (
                at("2025-03-10T08:00:00Z"),
                at("2025-03-10T09:00:00Z"),
                Some(CalendarItemType::Single)
            ),
            (
                at("2025-03-10T10:00:00Z"),
                at("2025-03-10T12:00:00Z"),
                Some(CalendarItemType::Exception)
            ),
        ]
    );
}

#[test]
fn lookups_by_external_id_give_zero_one_or_two_hits() {
    let mut hits = Vec::new();
    for case in ["no_hit", "one_hit", "two_hits"] {
        let found = page(&format!("find_item/restriction_{case}.xml"));
        assert!(found.includes_last_item_in_range, "{case}");
        assert_eq!(
            found.total_items_in_view as usize,
            found.items.len(),
            "{case}"
        );
        assert_eq!(
            found.indexed_paging_offset,
            Some(found.items.len() as u32),
            "{case}"
        );
        hits.push(
            found
                .items
                .iter()
                .map(|item| {
                    (
                        item.item_id.clone().unwrap(),
                        item.extended_property(&ours("ExternalId"))
                            .map(str::to_owned),
                        item.extended_property(&ours("ContentHash"))
                            .map(str::to_owned),
                    )
                })
                .collect::<Vec<_>>(),
        );
    }
    let ours_with = |number, change_key, hash: &str| {
        (
            item_id(number, change_key),
            Some(EXTERNAL_ID.to_owned()),
            Some(hash.to_owned()),
        )
    };
    assert_eq!(
        hits,
        vec![
            vec![],
            vec![ours_with(1, "B7", HASH_1)],
            vec![ours_with(1, "B7", HASH_1), ours_with(5, "C5", HASH_2)],
        ]
    );
    let error = item_error::<FindItem, FindItemPage>("find_item/error_folder_not_found.xml");
    assert_eq!(
        (error.response_code.clone(), error.kind()),
        (ResponseCode::ErrorFolderNotFound, ErrorKind::NotFound)
    );
}

#[test]
fn get_item_reads_every_field_we_write_and_a_gone_item() {
    let decoded = decode::<GetItem>(&read("get_item/calendar_item.xml")).unwrap();
    let [item, gone] = decoded.response.as_slice() else {
        panic!("two response messages expected");
    };
    assert_eq!(
        item.as_ref().unwrap(),
        &CalendarItem {
            item_id: Some(item_id(1, "B7")),
            subject: Some("Lecture: Linear Algebra & Geometry".to_owned()),
            body: Some(Body {
                body_type: BodyType::Html,
                text: "<p>Bring your <b>student card</b> & a calculator.</p>".to_owned(),
            }),
            categories: vec!["MyTimetable".to_owned(), "Mathematics".to_owned()],
            reminder_is_set: Some(true),
            reminder_minutes_before_start: Some(15),
            extended_properties: our_properties(EXTERNAL_ID, HASH_1),
            start: Some(at("2025-03-04T08:00:00Z")),
            end: Some(at("2025-03-04T09:45:00Z")),
            is_all_day_event: Some(false),
            legacy_free_busy_status: Some(LegacyFreeBusyStatus::Busy),
            location: Some("Hall 1 (Zoë building)".to_owned()),
            calendar_item_type: Some(CalendarItemType::Single),
            start_time_zone: Some("W. Europe Standard Time".to_owned()),
            end_time_zone: Some("W. Europe Standard Time".to_owned()),
        }
    );
    let gone = gone.as_ref().unwrap_err();
    assert_eq!(
        (gone.response_code.clone(), gone.kind()),
        (ResponseCode::ErrorItemNotFound, ErrorKind::NotFound)
    );
}

/// A batch's outcome in input order: the new ChangeKey's tail, or the code and its kind.
fn batch_outcomes<O: Operation<Response = Vec<Result<ItemId, ResponseError>>>>(
    path: &str,
) -> Vec<Result<ItemId, (ResponseCode, ErrorKind)>> {
    decode::<O>(&read(path))
        .unwrap_or_else(|error| panic!("{path}: {error}"))
        .response
        .into_iter()
        .map(|message| message.map_err(|error| (error.response_code.clone(), error.kind())))
        .collect()
}

#[test]
fn create_item_batches_report_each_item_in_input_order() {
    assert_eq!(
        batch_outcomes::<CreateItem>("create_item/batch_partial_failure.xml"),
        vec![
            Ok(item_id(21, "D1")),
            Err((
                ResponseCode::ErrorCalendarEndDateIsEarlierThanStartDate,
                ErrorKind::Invalid
            )),
            Ok(item_id(23, "D3")),
        ]
    );
    let stopped = (
        ResponseCode::ErrorBatchProcessingStopped,
        ErrorKind::Transient,
    );
    assert_eq!(
        batch_outcomes::<CreateItem>("create_item/batch_processing_stopped.xml"),
        vec![
            Ok(item_id(31, "E1")),
            Err((ResponseCode::ErrorQuotaExceeded, ErrorKind::Fatal)),
            Err(stopped.clone()),
            Err(stopped),
        ]
    );
}

#[test]
fn update_item_gives_the_new_change_key_or_the_reason() {
    assert_eq!(
        batch_outcomes::<UpdateItem>("update_item/success.xml"),
        vec![Ok(item_id(1, "B9"))]
    );
    assert_eq!(
        batch_outcomes::<UpdateItem>("update_item/error_irresolvable_conflict.xml"),
        vec![Err((
            ResponseCode::ErrorIrresolvableConflict,
            ErrorKind::Conflict
        ))]
    );
    assert_eq!(
        batch_outcomes::<UpdateItem>("update_item/error_item_not_found.xml"),
        vec![Err((ResponseCode::ErrorItemNotFound, ErrorKind::NotFound))]
    );
}

#[test]
fn delete_item_reports_a_repeated_delete_as_not_found() {
    let deleted = decode::<DeleteItem>(&read("delete_item/success.xml"))
        .unwrap()
        .response;
    assert_eq!(deleted, vec![Ok(()), Ok(())]);
    let repeated = decode::<DeleteItem>(&read("delete_item/error_item_not_found.xml"))
        .unwrap()
        .response;
    assert_eq!(repeated[0], Ok(()));
    let gone = repeated[1].as_ref().unwrap_err();
    assert_eq!(
        (gone.response_code.clone(), gone.kind()),
        (ResponseCode::ErrorItemNotFound, ErrorKind::NotFound)
    );
}
