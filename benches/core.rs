//! Criterion benchmarks of the hot paths without I/O: encoding a GetFolder request, parsing a
//! GetFolder response with a 30-entry permission set, the permission merge, decoding a FindItem
//! page of 100 calendar items (push's read of a window), quick-xml's bare event loop over the
//! GetFolder response (the floor under its decode), and encoding a CreateItem of 100
//! realistic calendar items (the push domain's largest batch shape).
//!
//! Run: `cargo bench --bench core`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use ews_connector::delegation::PermissionLevel;
use ews_connector::delegation::merge::{Change, merge};
use ews_connector::ews::items::{
    Body, BodyType, CalendarItem, ExtendedFieldUri, ExtendedProperty, LegacyFreeBusyStatus,
    MapiPropertyType, PropertySet,
};
use ews_connector::ews::ops::create_item::CreateItem;
use ews_connector::ews::ops::find_item::FindItem;
use ews_connector::ews::ops::get_folder::{
    BaseShape, DistinguishedFolderName, FolderField, FolderIdRef, FolderShape, GetFolder,
};
use ews_connector::ews::{Impersonation, RequestHeader, decode, encode};

const CALENDAR_PERMISSIONS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/ews/get_folder/calendar_permissions.xml"
));

const CALENDAR_VIEW: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/ews/find_item/calendar_view.xml"
));

/// A FindItem page of 100 calendar items as push reads them: the fixture's first item (ours: id,
/// subject, `ExternalId` and `ContentHash` in our property set, start, end, free/busy, location)
/// repeated with distinct ids, external ids and times, in place of the fixture's items.
fn find_item_page_of_100() -> String {
    let start = CALENDAR_VIEW.find("<t:Items>").expect("items") + "<t:Items>".len();
    let end = CALENDAR_VIEW.find("</t:Items>").expect("items end");
    let first_end = CALENDAR_VIEW[start..]
        .find("</t:CalendarItem>")
        .expect("an item")
        + start
        + "</t:CalendarItem>".len();
    let item = CALENDAR_VIEW[start..first_end].trim();
    assert!(
        item.contains("ExternalId"),
        "the fixture's first item changed"
    );
    let mut items = String::new();
    for index in 0..100u32 {
        items.push_str(
            &item
                .replace("A0001AAA=", &format!("A{index:04}AAA="))
                .replace("7f3c2a10", &format!("{index:08x}"))
                .replace("2025-03-04T", &format!("2025-03-{:02}T", 1 + index % 28)),
        );
    }
    let page = format!(
        "{}{items}{}",
        &CALENDAR_VIEW[..start],
        &CALENDAR_VIEW[end..]
    )
    .replacen(r#"TotalItemsInView="4""#, r#"TotalItemsInView="100""#, 1);
    assert_eq!(page.matches("<t:CalendarItem>").count(), 100);
    page
}

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

/// Reads every event of `document` with quick-xml alone and counts them.
fn quick_xml_events(document: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(document);
    reader.config_mut().check_end_names = true;
    let mut events = 0;
    loop {
        match reader.read_event().expect("well-formed") {
            quick_xml::events::Event::Eof => return events,
            event => {
                black_box(event);
                events += 1;
            }
        }
    }
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

/// A 100-item CreateItem as the push domain sends it: subject, body, location, categories,
/// reminder, two extended properties in a private property set, start/end with an offset (written
/// as UTC), Windows time zones.
fn create_item_100() -> CreateItem {
    let property = |name: &str| ExtendedFieldUri {
        property_set: PropertySet::Guid("c11ff724-aa03-4555-9952-8fa248a11c3e".to_owned()),
        property_name: name.to_owned(),
        property_type: MapiPropertyType::String,
    };
    let first_start: chrono::DateTime<chrono::FixedOffset> =
        "2025-09-01T08:45:00+02:00".parse().expect("a date");
    let items = (0..100u32)
        .map(|index| {
            let start = first_start + chrono::Duration::hours(i64::from(index) * 5);
            CalendarItem {
                subject: Some(format!("Lecture {index}: Linear Algebra & Geometry (group B)")),
                body: Some(Body {
                    body_type: BodyType::Text,
                    text: format!(
                        "Course WISB{index:03}. Lecturer: Dr. Zoë O'Brien.\nBring your student card; \
                         the room may change, see MyTimetable."
                    ),
                }),
                categories: vec!["MyTimetable".to_owned(), "Mathematics".to_owned()],
                reminder_is_set: Some(true),
                reminder_minutes_before_start: Some(15),
                extended_properties: vec![
                    ExtendedProperty {
                        field: property("ExternalId"),
                        value: format!("mytimetable:event:{index:08x}-5b8e-4d2a-9c61-0e4f2b7d9a13"),
                    },
                    ExtendedProperty {
                        field: property("ContentHash"),
                        value: format!("sha256:{:064x}", u64::from(index) * 0x9e37_79b9),
                    },
                ],
                start: Some(start),
                end: Some(start + chrono::Duration::minutes(105)),
                is_all_day_event: Some(false),
                legacy_free_busy_status: Some(LegacyFreeBusyStatus::Busy),
                location: Some(format!("Hall {} (Buys Ballot building)", index % 7)),
                start_time_zone: Some("W. Europe Standard Time".to_owned()),
                end_time_zone: Some("W. Europe Standard Time".to_owned()),
                ..CalendarItem::default()
            }
        })
        .collect();
    CreateItem {
        saved_item_folder: FolderIdRef::Distinguished {
            id: DistinguishedFolderName::Calendar,
            mailbox: None,
        },
        items,
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

    // The floor under the decoder: quick-xml's own event loop over the same bytes, configured as
    // `ews::xml::Reader` configures it, doing nothing with the events.
    criterion.bench_function(
        "quick-xml event loop alone, the same GetFolder response",
        |bench| bench.iter(|| quick_xml_events(black_box(&response))),
    );

    let decoded = decode::<GetFolder>(response.as_bytes()).expect("decodes");
    let folder = decoded
        .response
        .into_iter()
        .next()
        .expect("one message")
        .expect("success");
    let set =
        ews_connector::backend::ews::domain_set(folder.permission_set.expect("permission set"));
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

fn item_benchmarks(criterion: &mut Criterion) {
    let header = RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: Some(Impersonation::PrimarySmtpAddress(
            "s.jansen@uni.example".to_owned(),
        )),
    };
    let page = find_item_page_of_100();
    let decoded = decode::<FindItem>(page.as_bytes()).expect("decodes");
    let items = decoded
        .response
        .first()
        .and_then(|message| message.as_ref().ok())
        .map_or(0, |page| page.items.len());
    assert_eq!(items, 100, "every item of the page decodes");
    criterion.bench_function("decode FindItem page, 100 calendar items", |bench| {
        bench.iter(|| decode::<FindItem>(black_box(page.as_bytes())).expect("decodes"))
    });

    let operation = create_item_100();
    let size = encode(&header, &operation).expect("encodes").len();
    assert!(size > 100_000, "the batch shrank to {size} bytes");
    criterion.bench_function("encode CreateItem 100 items", |bench| {
        bench.iter(|| encode(black_box(&header), black_box(&operation)).expect("encodes"))
    });
}

criterion_group!(core, benchmarks, item_benchmarks);
criterion_main!(core);
