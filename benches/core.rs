//! Criterion benchmarks of the hot paths without I/O: encoding a GetFolder request, parsing a
//! GetFolder response with a 30-entry permission set, and the permission merge.
//!
//! Run: `cargo bench --bench core`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use ews_connector::delegation::PermissionLevel;
use ews_connector::delegation::merge::{Change, merge};
use ews_connector::ews::ops::get_folder::{
    BaseShape, DistinguishedFolderName, FolderField, FolderIdRef, FolderShape, GetFolder,
};
use ews_connector::ews::{Impersonation, RequestHeader, decode, encode};

const CALENDAR_PERMISSIONS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/ews/get_folder/calendar_permissions.xml"
));

/// The fixture's answer grown to 30 permission entries: extra named users are inserted before
/// the closing `CalendarPermissions`, as a busy shared calendar would have.
fn response_with_30_entries() -> String {
    let existing = CALENDAR_PERMISSIONS
        .matches("<t:CalendarPermission>")
        .count();
    let mut extra = String::new();
    for index in existing..30 {
        extra.push_str(&format!(
            "<t:CalendarPermission><t:UserId><t:SID>S-1-5-21-1004336348-1177238915-682003330-{}</t:SID>\
             <t:PrimarySmtpAddress>colleague{index}@contoso.example</t:PrimarySmtpAddress>\
             <t:DisplayName>Colleague {index}</t:DisplayName></t:UserId>\
             <t:CanCreateItems>false</t:CanCreateItems><t:CanCreateSubFolders>false</t:CanCreateSubFolders>\
             <t:IsFolderOwner>false</t:IsFolderOwner><t:IsFolderVisible>true</t:IsFolderVisible>\
             <t:IsFolderContact>false</t:IsFolderContact><t:EditItems>None</t:EditItems>\
             <t:DeleteItems>None</t:DeleteItems><t:ReadItems>FullDetails</t:ReadItems>\
             <t:CalendarPermissionLevel>Reviewer</t:CalendarPermissionLevel></t:CalendarPermission>",
            2000 + index
        ));
    }
    let text = CALENDAR_PERMISSIONS.replacen(
        "</t:CalendarPermissions>",
        &format!("{extra}</t:CalendarPermissions>"),
        1,
    );
    assert_eq!(
        text.matches("<t:CalendarPermission>").count(),
        30,
        "the fixture's shape changed"
    );
    text
}

fn get_folder() -> GetFolder {
    GetFolder {
        folder_shape: FolderShape {
            base_shape: BaseShape::IdOnly,
            additional_properties: vec![FolderField::EffectiveRights, FolderField::PermissionSet],
        },
        folder_ids: vec![FolderIdRef::Distinguished {
            id: DistinguishedFolderName::Calendar,
            mailbox: None,
        }],
    }
}

fn benchmarks(criterion: &mut Criterion) {
    let header = RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: Some(Impersonation::PrimarySmtpAddress(
            "s.jansen@uni.example".to_owned(),
        )),
    };
    let operation = get_folder();
    criterion.bench_function("encode GetFolder (impersonated, permission set)", |bench| {
        bench.iter(|| encode(black_box(&header), black_box(&operation)).expect("encodes"))
    });

    let response = response_with_30_entries();
    criterion.bench_function(
        "decode GetFolder response, 30 permission entries",
        |bench| {
            bench.iter(|| decode::<GetFolder>(black_box(response.as_bytes())).expect("decodes"))
        },
    );

    let decoded = decode::<GetFolder>(response.as_bytes()).expect("decodes");
    let folder = decoded
        .response
        .into_iter()
        .next()
        .expect("one message")
        .expect("success");
    let set = folder.permission_set.expect("permission set");
    criterion.bench_function("merge: grant Editor into a 30-entry set", |bench| {
        bench.iter(|| {
            merge(
                black_box(&set),
                black_box("mytimetable-push@uni.example"),
                Change::Grant(PermissionLevel::Editor),
            )
        })
    });
}

criterion_group!(core, benchmarks);
criterion_main!(core);
