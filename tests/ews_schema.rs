//! The capture test: every request `ews` can produce (each operation, delegate mode and the four
//! impersonation kinds, permission sets with every level, Custom flags, SID-only users, Default and
//! Anonymous, a user known only by ExternalUserIdentity, an entry with an empty UserId) is written
//! to a temporary directory and validated against Microsoft's schema with xmllint. Also: golden
//! requests in fixtures/ews equal what `encode` produces, and hostile input (markup characters,
//! non-ASCII, control characters) either round-trips escaped or is refused.
//!
//! Skips with a message when the schema or xmllint is missing; fails instead under CI=true.

mod common;

use std::path::PathBuf;
use std::process::Command;

use ews_connector::ews::items::{
    Body, BodyType, CalendarItem, ExtendedFieldUri, ExtendedProperty, ItemField, ItemId, ItemShape,
    LegacyFreeBusyStatus, MapiPropertyType, PropertyPath, PropertySet,
};
use ews_connector::ews::ops::add_delegate::AddDelegate;
use ews_connector::ews::ops::create_item::CreateItem;
use ews_connector::ews::ops::delete_item::{DeleteItem, DeleteType};
use ews_connector::ews::ops::expand_dl::ExpandDL;
use ews_connector::ews::ops::find_item::{FindItem, FindItemView, Restriction};
use ews_connector::ews::ops::get_delegate::GetDelegate;
use ews_connector::ews::ops::get_folder::{
    BaseShape, DistinguishedFolderName, FolderField, FolderIdRef, FolderShape, GetFolder,
};
use ews_connector::ews::ops::get_item::GetItem;
use ews_connector::ews::ops::remove_delegate::RemoveDelegate;
use ews_connector::ews::ops::update_delegate::UpdateDelegate;
use ews_connector::ews::ops::update_folder::{FolderChange, UpdateFolder};
use ews_connector::ews::ops::update_item::{
    ConflictResolution, ItemChange, ItemUpdate, UpdateItem,
};
use ews_connector::ews::types::{
    CalendarPermission, CalendarPermissionLevel, CalendarPermissionReadAccess,
    CalendarPermissionSet, DelegateFolderPermissionLevel, DelegatePermissions, DelegateUser,
    DeliverMeetingRequests, DistinguishedUser, FolderId, PermissionAction, UserId,
};
use ews_connector::ews::xml::{Element, MESSAGES_NS, TYPES_NS, parse};
use ews_connector::ews::{Error, Impersonation, Operation, RequestHeader, encode};

const HOSTILE_VALUES: &[&str] = &[
    "o'brien&co@contoso.example",
    "zoë.<x>@contoso.example",
    "\"quoted\"@fabrikam.example",
    "]]>&amp;&#x41;@contoso.example",
    "</t:EmailAddress><t:Injected/>@contoso.example",
    "日本語@contoso.example",
];

fn headers() -> Vec<(&'static str, RequestHeader)> {
    let impersonating = |impersonation| RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: Some(impersonation),
    };
    vec![
        (
            "delegate",
            RequestHeader {
                version: "Exchange2013_SP1".to_owned(),
                impersonation: None,
            },
        ),
        (
            "delegate_2016",
            RequestHeader {
                version: "Exchange2016".to_owned(),
                impersonation: None,
            },
        ),
        (
            "primary_smtp",
            impersonating(Impersonation::PrimarySmtpAddress(
                "alice@contoso.example".to_owned(),
            )),
        ),
        (
            "smtp",
            impersonating(Impersonation::SmtpAddress(
                "alice.alias@contoso.example".to_owned(),
            )),
        ),
        (
            "principal_name",
            impersonating(Impersonation::PrincipalName(
                "alice@corp.contoso.example".to_owned(),
            )),
        ),
        (
            "sid",
            impersonating(Impersonation::Sid(
                "S-1-5-21-2127521184-1604012920-1887927527-1104".to_owned(),
            )),
        ),
    ]
}

fn smtp_user(address: &str) -> UserId {
    UserId {
        primary_smtp_address: Some(address.to_owned()),
        ..UserId::default()
    }
}

fn full_user(suffix: u32) -> UserId {
    UserId {
        sid: Some(format!(
            "S-1-5-21-2127521184-1604012920-1887927527-{suffix}"
        )),
        primary_smtp_address: Some(format!("user{suffix}@contoso.example")),
        display_name: Some(format!("User {suffix}")),
        distinguished_user: None,
        external_user_identity: None,
    }
}

fn flags(level: CalendarPermissionLevel, user_id: UserId) -> CalendarPermission {
    CalendarPermission {
        user_id,
        can_create_items: Some(true),
        can_create_sub_folders: Some(false),
        is_folder_owner: Some(false),
        is_folder_visible: Some(true),
        is_folder_contact: Some(false),
        edit_items: Some(PermissionAction::Owned),
        delete_items: Some(PermissionAction::All),
        read_items: Some(CalendarPermissionReadAccess::TimeAndSubjectAndLocation),
        calendar_permission_level: level,
    }
}

/// Permission sets covering every level (with and without server-style flags), every Custom
/// flag value, SID-only and SMTP-only users, Default and Anonymous, and an empty set.
fn permission_sets() -> Vec<(&'static str, CalendarPermissionSet)> {
    let mut every_level = vec![
        flags(
            CalendarPermissionLevel::FreeBusyTimeOnly,
            UserId {
                distinguished_user: Some(DistinguishedUser::Default),
                ..UserId::default()
            },
        ),
        CalendarPermission::with_level(
            UserId {
                distinguished_user: Some(DistinguishedUser::Anonymous),
                ..UserId::default()
            },
            CalendarPermissionLevel::None,
        ),
    ];
    for (index, level) in CalendarPermissionLevel::ALL.iter().enumerate() {
        every_level.push(flags(*level, full_user(1200 + index as u32)));
    }
    let mut custom_variants = Vec::new();
    for (index, (edit, read)) in PermissionAction::ALL
        .iter()
        .zip(CalendarPermissionReadAccess::ALL.iter().cycle())
        .enumerate()
    {
        let mut permission = flags(
            CalendarPermissionLevel::Custom,
            smtp_user(&format!("custom{index}@fabrikam.example")),
        );
        permission.edit_items = Some(*edit);
        permission.delete_items = Some(*edit);
        permission.read_items = Some(*read);
        permission.is_folder_owner = Some(index % 2 == 0);
        custom_variants.push(permission);
    }
    custom_variants.push(flags(
        CalendarPermissionLevel::Custom,
        UserId {
            sid: Some("S-1-5-21-1-2-3-1190".to_owned()),
            ..UserId::default()
        },
    ));
    let mut sparse = CalendarPermission::with_level(
        smtp_user("sparse@contoso.example"),
        CalendarPermissionLevel::Custom,
    );
    sparse.read_items = Some(CalendarPermissionReadAccess::FullDetails);
    custom_variants.push(sparse);
    custom_variants.push(CalendarPermission::with_level(
        smtp_user("bare@contoso.example"),
        CalendarPermissionLevel::Custom,
    ));
    vec![
        (
            "every_level",
            CalendarPermissionSet {
                calendar_permissions: every_level,
                unknown_entries: vec!["NT:S-1-5-21-9".to_owned()],
            },
        ),
        (
            "custom_flags",
            CalendarPermissionSet {
                calendar_permissions: custom_variants,
                unknown_entries: Vec::new(),
            },
        ),
        (
            "unmodelled_entries",
            CalendarPermissionSet {
                calendar_permissions: vec![
                    CalendarPermission::with_level(
                        UserId {
                            external_user_identity: Some(
                                "ExchangePublishedUser.partner@fabrikam.example".to_owned(),
                            ),
                            display_name: Some("Partner (Fabrikam)".to_owned()),
                            ..UserId::default()
                        },
                        CalendarPermissionLevel::Reviewer,
                    ),
                    flags(CalendarPermissionLevel::Custom, UserId::default()),
                ],
                unknown_entries: Vec::new(),
            },
        ),
        ("empty", CalendarPermissionSet::default()),
    ]
}

fn delegate(user_id: UserId, level: Option<DelegateFolderPermissionLevel>) -> DelegateUser {
    DelegateUser {
        user_id,
        delegate_permissions: level.map(|level| DelegatePermissions {
            calendar_folder_permission_level: Some(level),
            tasks_folder_permission_level: Some(level),
            inbox_folder_permission_level: Some(DelegateFolderPermissionLevel::None),
            contacts_folder_permission_level: Some(level),
            notes_folder_permission_level: Some(level),
            journal_folder_permission_level: Some(level),
        }),
        receive_copies_of_meeting_messages: Some(true),
        view_private_items: Some(false),
    }
}

/// A request of any operation, encoded under a header.
type Encoder = Box<dyn Fn(&RequestHeader) -> Result<Vec<u8>, Error>>;

fn boxed<O: Operation + 'static>(operation: O) -> Encoder {
    Box::new(move |header| encode(header, &operation))
}

fn requests() -> Vec<(String, Encoder)> {
    let mut requests: Vec<(String, Encoder)> = Vec::new();
    let shapes = [
        (BaseShape::IdOnly, vec![FolderField::PermissionSet]),
        (BaseShape::Default, vec![]),
        (
            BaseShape::AllProperties,
            vec![FolderField::PermissionSet, FolderField::EffectiveRights],
        ),
    ];
    for (shape_index, (base_shape, additional_properties)) in shapes.into_iter().enumerate() {
        requests.push((
            format!("get_folder_shape{shape_index}"),
            boxed(GetFolder {
                folder_shape: FolderShape {
                    base_shape,
                    additional_properties,
                },
                folder_ids: DistinguishedFolderName::ALL
                    .iter()
                    .map(|id| FolderIdRef::Distinguished {
                        id: *id,
                        mailbox: None,
                    })
                    .chain([
                        FolderIdRef::Distinguished {
                            id: DistinguishedFolderName::Calendar,
                            mailbox: Some("alice@contoso.example".to_owned()),
                        },
                        FolderIdRef::Folder(FolderId {
                            id: "AAMkAD=".to_owned(),
                            change_key: Some("AgAAAA==".to_owned()),
                        }),
                        FolderIdRef::Folder(FolderId {
                            id: "AAMkAE=".to_owned(),
                            change_key: None,
                        }),
                    ])
                    .collect(),
            }),
        ));
    }
    for (name, permission_set) in permission_sets() {
        requests.push((
            format!("update_folder_{name}"),
            boxed(UpdateFolder {
                folder_changes: vec![FolderChange {
                    folder_id: FolderId {
                        id: "AAMkAD=".to_owned(),
                        change_key: Some("AgAAAA==".to_owned()),
                    },
                    permission_set,
                }],
            }),
        ));
    }
    for (name, group) in [
        ("expand_dl", "push-editors@contoso.example"),
        ("expand_dl_escaped", "r&d <team>@contoso.example"),
    ] {
        requests.push((
            name.to_owned(),
            boxed(ExpandDL {
                mailbox: group.to_owned(),
            }),
        ));
    }
    for include_permissions in [true, false] {
        requests.push((
            format!("get_delegate_{include_permissions}"),
            boxed(GetDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                include_permissions,
                user_ids: if include_permissions {
                    vec![smtp_user("bob@contoso.example"), full_user(1105)]
                } else {
                    Vec::new()
                },
            }),
        ));
    }
    for (index, deliver) in DeliverMeetingRequests::ALL.iter().enumerate() {
        let delegates: Vec<DelegateUser> = DelegateFolderPermissionLevel::ALL
            .iter()
            .map(|level| {
                delegate(
                    smtp_user(&format!(
                        "{}{index}@contoso.example",
                        level.as_str().to_lowercase()
                    )),
                    Some(*level),
                )
            })
            .chain([delegate(full_user(1300), None)])
            .collect();
        requests.push((
            format!("add_delegate_{index}"),
            boxed(AddDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                delegate_users: delegates.clone(),
                deliver_meeting_requests: Some(*deliver),
            }),
        ));
        requests.push((
            format!("update_delegate_{index}"),
            boxed(UpdateDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                delegate_users: delegates,
                deliver_meeting_requests: None,
            }),
        ));
        requests.push((
            format!("update_delegate_deliver_only_{index}"),
            boxed(UpdateDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                delegate_users: Vec::new(),
                deliver_meeting_requests: Some(*deliver),
            }),
        ));
    }
    requests.push((
        "add_delegate_minimal".to_owned(),
        boxed(AddDelegate {
            mailbox: "alice@contoso.example".to_owned(),
            delegate_users: vec![DelegateUser {
                user_id: smtp_user("bob@contoso.example"),
                delegate_permissions: None,
                receive_copies_of_meeting_messages: None,
                view_private_items: None,
            }],
            deliver_meeting_requests: None,
        }),
    ));
    requests.push((
        "remove_delegate".to_owned(),
        boxed(RemoveDelegate {
            mailbox: "alice@contoso.example".to_owned(),
            user_ids: vec![full_user(1105), smtp_user("carol@contoso.example")],
        }),
    ));
    for (index, value) in HOSTILE_VALUES.iter().enumerate() {
        let value = (*value).to_owned();
        requests.push((
            format!("hostile_get_folder_{index}"),
            boxed(GetFolder {
                folder_shape: FolderShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: vec![],
                },
                folder_ids: vec![
                    FolderIdRef::Distinguished {
                        id: DistinguishedFolderName::Calendar,
                        mailbox: Some(value.clone()),
                    },
                    FolderIdRef::Folder(FolderId {
                        id: value.clone(),
                        change_key: Some(value.clone()),
                    }),
                ],
            }),
        ));
        requests.push((
            format!("hostile_remove_delegate_{index}"),
            boxed(RemoveDelegate {
                mailbox: value.clone(),
                user_ids: vec![
                    smtp_user(&value),
                    UserId {
                        sid: Some(value.clone()),
                        ..UserId::default()
                    },
                ],
            }),
        ));
    }
    requests.extend(item_requests());
    requests
}

// ---- calendar items -----------------------------------------------------------------------------

const OUR_SET: &str = "c11ff724-aa03-4555-9952-8fa248a11c3e";

/// Both `PropertySet` forms, for each of the two properties the push domain writes.
fn our_field(name: &str, public: bool) -> ExtendedFieldUri {
    ExtendedFieldUri {
        property_set: if public {
            PropertySet::PublicStrings
        } else {
            PropertySet::Guid(OUR_SET.to_owned())
        },
        property_name: name.to_owned(),
        property_type: MapiPropertyType::String,
    }
}

fn at(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
    text.parse().unwrap()
}

/// An event as the push domain writes it: every field we use, two extended properties.
fn realistic_item(index: u32) -> CalendarItem {
    CalendarItem {
        subject: Some(format!("Lecture {index}: Linear Algebra & Geometry")),
        body: Some(Body {
            body_type: BodyType::Text,
            text: format!("Group {index}. Bring your student card.\nRoom may change."),
        }),
        categories: vec!["MyTimetable".to_owned(), "Mathematics".to_owned()],
        reminder_is_set: Some(true),
        reminder_minutes_before_start: Some(15),
        extended_properties: vec![
            ExtendedProperty {
                field: our_field("ExternalId", false),
                value: format!("mytimetable:event:{index:08}-5b8e-4d2a-9c61-0e4f2b7d9a13"),
            },
            ExtendedProperty {
                field: our_field("ContentHash", false),
                value: format!("sha256:{index:064x}"),
            },
        ],
        start: Some(at("2025-03-04T09:00:00+01:00") + chrono::Duration::hours(i64::from(index))),
        end: Some(at("2025-03-04T10:45:00+01:00") + chrono::Duration::hours(i64::from(index))),
        is_all_day_event: Some(false),
        legacy_free_busy_status: Some(LegacyFreeBusyStatus::Busy),
        location: Some(format!("Hall {index} (Zoë building)")),
        start_time_zone: Some("W. Europe Standard Time".to_owned()),
        end_time_zone: Some("W. Europe Standard Time".to_owned()),
        ..CalendarItem::default()
    }
}

/// One `Set` per settable property of `realistic_item`, in schema order (and the extended one in
/// both property-set forms).
fn every_set() -> Vec<ItemUpdate> {
    let item = realistic_item(7);
    let mut sets = vec![
        CalendarItem {
            subject: item.subject.clone(),
            ..CalendarItem::default()
        },
        CalendarItem {
            body: Some(Body {
                body_type: BodyType::Html,
                text: "<p>Moved to <b>Hall 2</b></p>".to_owned(),
            }),
            ..CalendarItem::default()
        },
        CalendarItem {
            categories: item.categories.clone(),
            ..CalendarItem::default()
        },
        CalendarItem {
            reminder_is_set: Some(false),
            ..CalendarItem::default()
        },
        CalendarItem {
            reminder_minutes_before_start: Some(0),
            ..CalendarItem::default()
        },
        CalendarItem {
            extended_properties: vec![item.extended_properties[1].clone()],
            ..CalendarItem::default()
        },
        CalendarItem {
            extended_properties: vec![ExtendedProperty {
                field: our_field("ExternalId", true),
                value: "public-form".to_owned(),
            }],
            ..CalendarItem::default()
        },
        CalendarItem {
            start: item.start,
            ..CalendarItem::default()
        },
        CalendarItem {
            end: item.end,
            ..CalendarItem::default()
        },
        CalendarItem {
            is_all_day_event: Some(true),
            ..CalendarItem::default()
        },
        CalendarItem {
            legacy_free_busy_status: Some(LegacyFreeBusyStatus::WorkingElsewhere),
            ..CalendarItem::default()
        },
        CalendarItem {
            location: item.location.clone(),
            ..CalendarItem::default()
        },
        CalendarItem {
            start_time_zone: Some("GMT Standard Time".to_owned()),
            ..CalendarItem::default()
        },
        CalendarItem {
            end_time_zone: Some("GMT Standard Time".to_owned()),
            ..CalendarItem::default()
        },
    ];
    sets.drain(..).map(ItemUpdate::Set).collect()
}

fn calendar_of(mailbox: Option<&str>) -> FolderIdRef {
    FolderIdRef::Distinguished {
        id: DistinguishedFolderName::Calendar,
        mailbox: mailbox.map(str::to_owned),
    }
}

fn item_shape() -> ItemShape {
    ItemShape {
        base_shape: BaseShape::IdOnly,
        additional_properties: ItemField::ALL
            .iter()
            .map(|field| PropertyPath::Field(*field))
            .chain([
                PropertyPath::Extended(our_field("ExternalId", false)),
                PropertyPath::Extended(our_field("ContentHash", true)),
            ])
            .collect(),
    }
}

/// Every item request shape: each operation, own and delegate (Mailbox) calendars, a 100-item
/// CreateItem, all-day items with time zones, every free/busy status, HTML bodies, categories,
/// hostile values, every settable field, deletes of fields, both property-set forms.
fn item_requests() -> Vec<(String, Encoder)> {
    let mut requests: Vec<(String, Encoder)> = Vec::new();
    for (name, folder) in [
        ("own", calendar_of(None)),
        ("delegate", calendar_of(Some("alice@contoso.example"))),
        (
            "folder_id",
            FolderIdRef::Folder(FolderId {
                id: "AAMkAD=".to_owned(),
                change_key: None,
            }),
        ),
    ] {
        requests.push((
            format!("find_item_calendar_view_{name}"),
            boxed(FindItem {
                item_shape: item_shape(),
                view: FindItemView::Calendar {
                    start: "2025-03-03T00:00:00Z".parse().unwrap(),
                    end: "2025-03-10T00:00:00Z".parse().unwrap(),
                    max_entries: 500,
                },
                restriction: None,
                parent_folder: folder.clone(),
            }),
        ));
        for (path_name, path) in [
            (
                "guid",
                PropertyPath::Extended(our_field("ExternalId", false)),
            ),
            (
                "public",
                PropertyPath::Extended(our_field("ExternalId", true)),
            ),
            ("field", PropertyPath::Field(ItemField::Subject)),
        ] {
            requests.push((
                format!("find_item_restriction_{path_name}_{name}"),
                boxed(FindItem {
                    item_shape: ItemShape {
                        base_shape: BaseShape::IdOnly,
                        additional_properties: Vec::new(),
                    },
                    view: FindItemView::IndexedPage {
                        max_entries: 10,
                        offset: 20,
                    },
                    restriction: Some(Restriction::IsEqualTo {
                        path,
                        value: "mytimetable:event:7f3c2a10 & <co> \"q\" 'a' zoë 日本".to_owned(),
                    }),
                    parent_folder: folder.clone(),
                }),
            ));
        }
        requests.push((
            format!("find_item_restriction_or_of_50_ids_{name}"),
            boxed(FindItem {
                item_shape: item_shape(),
                view: FindItemView::IndexedPage {
                    max_entries: 100,
                    offset: 0,
                },
                restriction: Some(Restriction::Or(
                    (0..50)
                        .map(|index| Restriction::IsEqualTo {
                            path: PropertyPath::Extended(our_field("ExternalId", false)),
                            value: format!("mytt-{index} & <co>"),
                        })
                        .collect(),
                )),
                parent_folder: folder.clone(),
            }),
        ));
        requests.push((
            format!("create_item_one_{name}"),
            boxed(CreateItem {
                saved_item_folder: folder.clone(),
                items: vec![realistic_item(1)],
            }),
        ));
    }
    requests.push((
        "find_item_indexed_page_without_restriction".to_owned(),
        boxed(FindItem {
            item_shape: ItemShape {
                base_shape: BaseShape::Default,
                additional_properties: Vec::new(),
            },
            view: FindItemView::IndexedPage {
                max_entries: 1000,
                offset: 0,
            },
            restriction: None,
            parent_folder: calendar_of(None),
        }),
    ));
    for base_shape in BaseShape::ALL {
        requests.push((
            format!("get_item_{}", base_shape.as_str()),
            boxed(GetItem {
                item_shape: ItemShape {
                    base_shape: *base_shape,
                    ..item_shape()
                },
                item_ids: vec![
                    ItemId {
                        id: "AAMk1=".to_owned(),
                        change_key: Some("DwAA1".to_owned()),
                    },
                    ItemId {
                        id: "AAMk2=".to_owned(),
                        change_key: None,
                    },
                ],
            }),
        ));
    }
    requests.push((
        "create_item_100".to_owned(),
        boxed(CreateItem {
            saved_item_folder: calendar_of(Some("alice@contoso.example")),
            items: (0..100).map(realistic_item).collect(),
        }),
    ));
    requests.push((
        "create_item_all_day".to_owned(),
        boxed(CreateItem {
            saved_item_folder: calendar_of(None),
            items: vec![
                CalendarItem {
                    subject: Some("Exam week".to_owned()),
                    start: Some(at("2025-06-02T00:00:00+02:00")),
                    end: Some(at("2025-06-07T00:00:00+02:00")),
                    is_all_day_event: Some(true),
                    legacy_free_busy_status: Some(LegacyFreeBusyStatus::Free),
                    start_time_zone: Some("W. Europe Standard Time".to_owned()),
                    end_time_zone: Some("W. Europe Standard Time".to_owned()),
                    ..CalendarItem::default()
                },
                CalendarItem {
                    subject: Some("Open day".to_owned()),
                    start: Some(at("2025-11-01T00:00:00-04:00")),
                    end: Some(at("2025-11-02T00:00:00-04:00")),
                    is_all_day_event: Some(true),
                    start_time_zone: Some("Eastern Standard Time".to_owned()),
                    ..CalendarItem::default()
                },
            ],
        }),
    ));
    requests.push((
        "create_item_every_free_busy_status".to_owned(),
        boxed(CreateItem {
            saved_item_folder: calendar_of(None),
            items: LegacyFreeBusyStatus::ALL
                .iter()
                .map(|status| CalendarItem {
                    subject: Some(status.as_str().to_owned()),
                    start: Some(at("2025-03-04T08:00:00Z")),
                    end: Some(at("2025-03-04T09:00:00Z")),
                    legacy_free_busy_status: Some(*status),
                    ..CalendarItem::default()
                })
                .collect(),
        }),
    ));
    requests.push((
        "create_item_html_and_minimal".to_owned(),
        boxed(CreateItem {
            saved_item_folder: calendar_of(None),
            items: vec![
                CalendarItem {
                    subject: Some("HTML".to_owned()),
                    body: Some(Body {
                        body_type: BodyType::Html,
                        text:
                            "<html><body><p style=\"color:red\">Exam &amp; more</p></body></html>"
                                .to_owned(),
                    }),
                    categories: vec!["A".to_owned(), "B & C".to_owned(), "Zoë".to_owned()],
                    ..CalendarItem::default()
                },
                CalendarItem::default(),
            ],
        }),
    ));
    requests.push((
        "create_item_hostile".to_owned(),
        boxed(CreateItem {
            saved_item_folder: calendar_of(Some(HOSTILE_VALUES[0])),
            items: HOSTILE_VALUES
                .iter()
                .map(|value| CalendarItem {
                    subject: Some((*value).to_owned()),
                    body: Some(Body {
                        body_type: BodyType::Html,
                        text: (*value).to_owned(),
                    }),
                    categories: vec![(*value).to_owned()],
                    extended_properties: vec![ExtendedProperty {
                        field: our_field(value, false),
                        value: (*value).to_owned(),
                    }],
                    location: Some((*value).to_owned()),
                    start_time_zone: Some((*value).to_owned()),
                    ..CalendarItem::default()
                })
                .collect(),
        }),
    ));
    for conflict_resolution in ConflictResolution::ALL {
        requests.push((
            format!("update_item_every_field_{}", conflict_resolution.as_str()),
            boxed(UpdateItem {
                conflict_resolution: *conflict_resolution,
                changes: vec![
                    ItemChange {
                        item_id: ItemId {
                            id: "AAMk1=".to_owned(),
                            change_key: Some("DwAA1".to_owned()),
                        },
                        updates: every_set(),
                    },
                    ItemChange {
                        item_id: ItemId {
                            id: "AAMk2=".to_owned(),
                            change_key: Some("DwAA2".to_owned()),
                        },
                        updates: ItemField::ALL
                            .iter()
                            .filter(|field| **field != ItemField::CalendarItemType)
                            .map(|field| ItemUpdate::Delete(PropertyPath::Field(*field)))
                            .chain([
                                ItemUpdate::Delete(PropertyPath::Extended(our_field(
                                    "ContentHash",
                                    false,
                                ))),
                                ItemUpdate::Delete(PropertyPath::Extended(our_field(
                                    "ContentHash",
                                    true,
                                ))),
                            ])
                            .collect(),
                    },
                ],
            }),
        ));
    }
    for delete_type in DeleteType::ALL {
        requests.push((
            format!("delete_item_{}", delete_type.as_str()),
            boxed(DeleteItem {
                delete_type: *delete_type,
                item_ids: vec![
                    ItemId {
                        id: "AAMk1=".to_owned(),
                        change_key: None,
                    },
                    ItemId {
                        id: "AAMk2=".to_owned(),
                        change_key: Some("DwAA2".to_owned()),
                    },
                ],
            }),
        ));
    }
    requests
}

/// Encodes every request under every header and writes them to `dir`.
fn capture_all(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (header_name, header) in headers() {
        for (request_name, encoder) in requests() {
            let bytes = encoder(&header)
                .unwrap_or_else(|error| panic!("{request_name} under {header_name}: {error}"));
            let path = dir.join(format!("{request_name}.{header_name}.xml"));
            std::fs::write(&path, bytes).unwrap();
            files.push(path);
        }
    }
    for (index, value) in HOSTILE_VALUES.iter().enumerate() {
        for (kind, impersonation) in [
            (
                "primary",
                Impersonation::PrimarySmtpAddress((*value).to_owned()),
            ),
            ("smtp", Impersonation::SmtpAddress((*value).to_owned())),
            ("upn", Impersonation::PrincipalName((*value).to_owned())),
            ("sid", Impersonation::Sid((*value).to_owned())),
        ] {
            let header = RequestHeader {
                version: "Exchange2013_SP1".to_owned(),
                impersonation: Some(impersonation),
            };
            let bytes = encode(
                &header,
                &GetDelegate {
                    mailbox: (*value).to_owned(),
                    include_permissions: true,
                    user_ids: vec![smtp_user(value)],
                },
            )
            .unwrap();
            let path = dir.join(format!("hostile_header_{index}_{kind}.xml"));
            std::fs::write(&path, bytes).unwrap();
            files.push(path);
        }
    }
    files
}

#[test]
fn every_request_validates_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let files = capture_all(dir.path());
    assert!(files.len() > 150, "only {} requests captured", files.len());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(bytes.starts_with(br#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="#));
        parse(&bytes).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
    }
    if !common::schema::require_or_skip("validation") {
        return;
    }
    common::schema::validate_all(&files).unwrap_or_else(|error| panic!("{error}"));
}

#[test]
fn known_invalid_request_is_rejected_by_the_validator() {
    // Guards the oracle itself: a request in the wrong element order must not pass.
    if !common::schema::require_or_skip("validation") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let header = RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: None,
    };
    let good = String::from_utf8(
        encode(
            &header,
            &RemoveDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                user_ids: vec![smtp_user("bob@contoso.example")],
            },
        )
        .unwrap(),
    )
    .unwrap();
    let swapped = good.replace(
        "<m:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></m:Mailbox><m:UserIds><t:UserId><t:PrimarySmtpAddress>bob@contoso.example</t:PrimarySmtpAddress></t:UserId></m:UserIds>",
        "<m:UserIds><t:UserId><t:PrimarySmtpAddress>bob@contoso.example</t:PrimarySmtpAddress></t:UserId></m:UserIds><m:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></m:Mailbox>",
    );
    assert_ne!(good, swapped);
    let path = dir.path().join("swapped.xml");
    std::fs::write(&path, swapped).unwrap();
    assert!(common::schema::validate_all(&[path]).is_err());
}

fn texts_of<'a>(element: &'a Element, namespace: &str, name: &str, found: &mut Vec<&'a str>) {
    if element.is(namespace, name) {
        found.push(&element.text);
    }
    for child in &element.children {
        texts_of(child, namespace, name, found);
    }
}

fn xmllint_string(path: &std::path::Path, xpath: &str) -> String {
    let output = Command::new("xmllint")
        .args(["--nonet", "--xpath", xpath])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "xmllint --xpath {xpath}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn hostile_values_round_trip_escaped() {
    let header = |value: &str| RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: Some(Impersonation::PrincipalName(value.to_owned())),
    };
    let dir = tempfile::tempdir().unwrap();
    let have_xmllint = common::schema::on_path("xmllint");
    for value in HOSTILE_VALUES {
        let bytes = encode(
            &header(value),
            &RemoveDelegate {
                mailbox: (*value).to_owned(),
                user_ids: vec![smtp_user(value)],
            },
        )
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("<t:Injected"), "markup leaked: {text}");
        let root = parse(&bytes).unwrap();
        let mut found = Vec::new();
        texts_of(&root, TYPES_NS, "EmailAddress", &mut found);
        texts_of(&root, TYPES_NS, "PrimarySmtpAddress", &mut found);
        texts_of(&root, TYPES_NS, "PrincipalName", &mut found);
        assert_eq!(found, vec![*value, *value, *value], "{text}");
        let mut injected = Vec::new();
        texts_of(&root, TYPES_NS, "Injected", &mut injected);
        assert!(injected.is_empty());
        let body = root
            .children
            .iter()
            .find(|child| child.name == "Body")
            .unwrap();
        assert_eq!(body.children.len(), 1);
        assert!(body.children[0].is(MESSAGES_NS, "RemoveDelegate"));

        // An independent reader (libxml2) sees the same string.
        if have_xmllint {
            let path = dir.path().join("hostile.xml");
            std::fs::write(&path, &bytes).unwrap();
            let seen = xmllint_string(
                &path,
                "string(//*[local-name()='UserIds']/*[local-name()='UserId']/*[local-name()='PrimarySmtpAddress'])",
            );
            assert_eq!(seen.trim_end_matches('\n'), *value);
        }
    }
}

#[test]
fn control_characters_are_refused_naming_the_field() {
    let delegate_mode = RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: None,
    };
    let get_delegate = |mailbox: &str, user: &str| GetDelegate {
        mailbox: mailbox.to_owned(),
        include_permissions: true,
        user_ids: vec![smtp_user(user)],
    };
    let cases: Vec<(String, Result<Vec<u8>, Error>)> = vec![
        (
            "mailbox".to_owned(),
            encode(
                &delegate_mode,
                &get_delegate("alice\u{1}@contoso.example", "bob@contoso.example"),
            ),
        ),
        (
            "user_ids[0].primary_smtp_address".to_owned(),
            encode(
                &delegate_mode,
                &get_delegate("alice@contoso.example", "bob\u{1b}@contoso.example"),
            ),
        ),
        (
            "impersonation".to_owned(),
            encode(
                &RequestHeader {
                    version: "Exchange2013_SP1".to_owned(),
                    impersonation: Some(Impersonation::Sid("S-1-5\u{0}".to_owned())),
                },
                &get_delegate("alice@contoso.example", "bob@contoso.example"),
            ),
        ),
        (
            "folder_ids[0].id".to_owned(),
            encode(
                &delegate_mode,
                &GetFolder {
                    folder_shape: FolderShape {
                        base_shape: BaseShape::IdOnly,
                        additional_properties: vec![],
                    },
                    folder_ids: vec![FolderIdRef::Folder(FolderId {
                        id: "AAMk\u{ffff}".to_owned(),
                        change_key: None,
                    })],
                },
            ),
        ),
        (
            "folder_changes[0].permission_set.calendar_permissions[0].user_id.sid".to_owned(),
            encode(
                &delegate_mode,
                &UpdateFolder {
                    folder_changes: vec![FolderChange {
                        folder_id: FolderId {
                            id: "AAMk".to_owned(),
                            change_key: Some("CK".to_owned()),
                        },
                        permission_set: CalendarPermissionSet {
                            calendar_permissions: vec![CalendarPermission::with_level(
                                UserId {
                                    sid: Some("S-1\u{7f}\u{8}".to_owned()),
                                    ..UserId::default()
                                },
                                CalendarPermissionLevel::Editor,
                            )],
                            unknown_entries: Vec::new(),
                        },
                    }],
                },
            ),
        ),
    ];
    for (expected_field, result) in cases {
        match result {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, expected_field);
                assert!(reason.contains("cannot be carried by XML 1.0"), "{reason}");
            }
            other => panic!("{expected_field}: expected InvalidInput, got {other:?}"),
        }
    }
}

/// Removes comments and whitespace-only text between tags (attributes stay on one line).
fn minify(xml: &str) -> String {
    let mut without_comments = String::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<!--") {
        without_comments.push_str(&rest[..start]);
        let end = rest[start..].find("-->").expect("closed comment");
        rest = &rest[start + end + 3..];
    }
    without_comments.push_str(rest);
    let mut minified = String::new();
    for piece in without_comments.split_inclusive('>') {
        let (text, tag) = piece.split_at(piece.find('<').unwrap_or(piece.len()));
        if !text.trim().is_empty() {
            minified.push_str(text);
        }
        minified.push_str(tag);
    }
    minified
}

fn golden(path: &str) -> String {
    minify(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/ews")
                .join(path),
        )
        .unwrap(),
    )
}

fn encoded(header: &RequestHeader, operation: &impl Operation) -> String {
    String::from_utf8(encode(header, operation).unwrap()).unwrap()
}

#[test]
fn golden_requests_equal_what_encode_produces() {
    let as_alice = RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: Some(Impersonation::PrimarySmtpAddress(
            "alice@contoso.example".to_owned(),
        )),
    };
    let delegate_mode = RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: None,
    };
    let calendar = |mailbox: Option<&str>, fields: Vec<FolderField>| GetFolder {
        folder_shape: FolderShape {
            base_shape: BaseShape::IdOnly,
            additional_properties: fields,
        },
        folder_ids: vec![FolderIdRef::Distinguished {
            id: DistinguishedFolderName::Calendar,
            mailbox: mailbox.map(str::to_owned),
        }],
    };
    assert_eq!(
        encoded(
            &as_alice,
            &calendar(
                None,
                vec![FolderField::PermissionSet, FolderField::EffectiveRights]
            )
        ),
        golden("get_folder/calendar_permissions.request.xml")
    );
    assert_eq!(
        encoded(
            &delegate_mode,
            &calendar(
                Some("alice@contoso.example"),
                vec![FolderField::EffectiveRights]
            )
        ),
        golden("get_folder/calendar_effective_rights.request.xml")
    );

    // The ACL as read from get_folder/calendar_permissions.xml, plus erin as Reviewer.
    let read_back = ews_connector::ews::decode::<GetFolder>(
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/ews/get_folder/calendar_permissions.xml"),
        )
        .unwrap(),
    )
    .unwrap();
    let folder = read_back.response.into_iter().next().unwrap().unwrap();
    let mut permission_set = folder.permission_set.unwrap();
    // Keep Default, Anonymous, bob (Editor) and dave (Custom); drop the rest as a caller might.
    permission_set.calendar_permissions = permission_set
        .calendar_permissions
        .into_iter()
        .enumerate()
        .filter(|(index, _)| [0, 1, 2, 5].contains(index))
        .map(|(_, permission)| permission)
        .collect();
    permission_set
        .calendar_permissions
        .push(CalendarPermission::with_level(
            smtp_user("erin@contoso.example"),
            CalendarPermissionLevel::Reviewer,
        ));
    assert_eq!(
        encoded(
            &as_alice,
            &UpdateFolder {
                folder_changes: vec![FolderChange {
                    folder_id: folder.folder_id,
                    permission_set
                }]
            }
        ),
        golden("update_folder/success.request.xml")
    );

    assert_eq!(
        encoded(
            &as_alice,
            &GetDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                include_permissions: true,
                user_ids: Vec::new()
            }
        ),
        golden("get_delegate/two_delegates.request.xml")
    );
    let mut bob = delegate(
        smtp_user("bob@contoso.example"),
        Some(DelegateFolderPermissionLevel::None),
    );
    if let Some(permissions) = bob.delegate_permissions.as_mut() {
        permissions.calendar_folder_permission_level = Some(DelegateFolderPermissionLevel::Editor);
    }
    assert_eq!(
        encoded(
            &as_alice,
            &AddDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                delegate_users: vec![bob],
                deliver_meeting_requests: Some(
                    DeliverMeetingRequests::DelegatesAndSendInformationToMe
                )
            }
        ),
        golden("add_delegate/success.request.xml")
    );
    let bob_by_sid = DelegateUser {
        user_id: full_user(1105),
        delegate_permissions: Some(DelegatePermissions {
            calendar_folder_permission_level: Some(DelegateFolderPermissionLevel::Reviewer),
            ..DelegatePermissions::default()
        }),
        receive_copies_of_meeting_messages: Some(false),
        view_private_items: None,
    };
    let bob_by_sid = DelegateUser {
        user_id: UserId {
            sid: Some("S-1-5-21-2127521184-1604012920-1887927527-1105".to_owned()),
            ..bob_by_sid.user_id
        },
        ..bob_by_sid
    };
    assert_eq!(
        encoded(
            &as_alice,
            &UpdateDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                delegate_users: vec![bob_by_sid],
                deliver_meeting_requests: None
            }
        ),
        golden("update_delegate/success.request.xml")
    );
    assert_eq!(
        encoded(
            &as_alice,
            &RemoveDelegate {
                mailbox: "alice@contoso.example".to_owned(),
                user_ids: vec![smtp_user("bob@contoso.example")]
            }
        ),
        golden("remove_delegate/success.request.xml")
    );
}

proptest::proptest! {
    /// Any string either comes back unchanged from the request text (read namespace-aware) or is
    /// refused as invalid input naming the field; it never changes the document's structure.
    #[test]
    fn any_mailbox_round_trips_or_is_refused(mailbox in "\\PC{0,24}|[\\x00-\\x7f]{0,24}|[<>&\"'\\r\\n\\t \\u{fffe}\\u{ffff}a]{0,12}") {
        let header = RequestHeader { version: "Exchange2013_SP1".to_owned(), impersonation: None };
        let request = RemoveDelegate { mailbox: mailbox.clone(), user_ids: vec![smtp_user("bob@contoso.example")] };
        match encode(&header, &request) {
            Ok(bytes) => {
                let root = parse(&bytes).expect("our own request parses");
                let mut found = Vec::new();
                texts_of(&root, TYPES_NS, "EmailAddress", &mut found);
                proptest::prop_assert_eq!(found, vec![mailbox.as_str()]);
                let mut users = Vec::new();
                texts_of(&root, TYPES_NS, "PrimarySmtpAddress", &mut users);
                proptest::prop_assert_eq!(users, vec!["bob@contoso.example"]);
            }
            Err(Error::InvalidInput { field, .. }) => proptest::prop_assert_eq!(field, "mailbox"),
            Err(other) => proptest::prop_assert!(false, "unexpected error {other}"),
        }
    }
}

fn delegate_mode() -> RequestHeader {
    RequestHeader {
        version: "Exchange2013_SP1".to_owned(),
        impersonation: None,
    }
}

#[test]
fn item_element_order_and_guid_form_are_enforced_by_the_validator() {
    // Guards the oracle for items: what `ews` writes validates, and the two mistakes PROTOCOL
    // §6.3 warns about (ExtendedProperty after Start, a braced PropertySetId) do not.
    let good = String::from_utf8(
        encode(
            &delegate_mode(),
            &CreateItem {
                saved_item_folder: calendar_of(None),
                items: vec![realistic_item(3)],
            },
        )
        .unwrap(),
    )
    .unwrap();
    let start = good.find("<t:ExtendedProperty>").unwrap();
    let end = good.rfind("</t:ExtendedProperty>").unwrap() + "</t:ExtendedProperty>".len();
    let properties = &good[start..end];
    let after_end = good
        .replace(properties, "")
        .replace("</t:End>", &format!("</t:End>{properties}"));
    let braced = good.replace(OUR_SET, &format!("{{{OUR_SET}}}"));
    assert_ne!(after_end, good);
    assert_ne!(braced, good);
    // `ews` itself refuses the braced form before anything is written.
    let refused = encode(
        &delegate_mode(),
        &CreateItem {
            saved_item_folder: calendar_of(None),
            items: vec![CalendarItem {
                extended_properties: vec![ExtendedProperty {
                    field: ExtendedFieldUri {
                        property_set: PropertySet::Guid(format!("{{{OUR_SET}}}")),
                        ..our_field("ExternalId", false)
                    },
                    value: "x".to_owned(),
                }],
                ..CalendarItem::default()
            }],
        },
    )
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with("invalid input in items[0].extended_properties[0].property_set: a PropertySetId must be a bare GUID"),
        "{refused}"
    );
    if !common::schema::require_or_skip("validation") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    assert_eq!(
        common::schema::validate_all(&[write("good.xml", &good)]),
        Ok(())
    );
    assert!(common::schema::validate_all(&[write("after_end.xml", &after_end)]).is_err());
    assert!(common::schema::validate_all(&[write("braced.xml", &braced)]).is_err());
}

#[test]
fn hostile_item_values_round_trip_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let have_xmllint = common::schema::on_path("xmllint");
    for value in HOSTILE_VALUES {
        let bytes = encode(
            &delegate_mode(),
            &CreateItem {
                saved_item_folder: calendar_of(Some(value)),
                items: vec![CalendarItem {
                    subject: Some((*value).to_owned()),
                    body: Some(Body {
                        body_type: BodyType::Html,
                        text: (*value).to_owned(),
                    }),
                    categories: vec![(*value).to_owned()],
                    extended_properties: vec![ExtendedProperty {
                        field: our_field(value, false),
                        value: (*value).to_owned(),
                    }],
                    location: Some((*value).to_owned()),
                    start_time_zone: Some((*value).to_owned()),
                    ..CalendarItem::default()
                }],
            },
        )
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("<t:Injected"), "markup leaked: {text}");
        let root = parse(&bytes).unwrap();
        let mut found = Vec::new();
        for name in [
            "EmailAddress",
            "Subject",
            "Body",
            "String",
            "Value",
            "Location",
        ] {
            texts_of(&root, TYPES_NS, name, &mut found);
        }
        assert_eq!(found, vec![*value; 6], "{text}");
        let mut attributes = Vec::new();
        collect_attributes(&root, &mut attributes);
        assert!(
            attributes.contains(&("PropertyName".to_owned(), (*value).to_owned())),
            "{text}"
        );
        assert!(
            attributes.contains(&("Id".to_owned(), (*value).to_owned())),
            "{text}"
        );
        if have_xmllint {
            let path = dir.path().join("hostile_item.xml");
            std::fs::write(&path, &bytes).unwrap();
            for xpath in [
                "string(//*[local-name()='Subject'])",
                "string(//*[local-name()='StartTimeZone']/@Id)",
                "string(//*[local-name()='ExtendedFieldURI']/@PropertyName)",
            ] {
                let seen = xmllint_string(&path, xpath);
                assert_eq!(seen.trim_end_matches('\n'), *value, "{xpath}");
            }
        }
    }
}

fn collect_attributes(element: &Element, found: &mut Vec<(String, String)>) {
    for attribute in &element.attributes {
        found.push((attribute.name.clone(), attribute.value.clone()));
    }
    for child in &element.children {
        collect_attributes(child, found);
    }
}

#[test]
fn control_characters_in_items_are_refused_naming_the_field() {
    let bell = "bell\u{7}";
    let create = |item: CalendarItem| {
        encode(
            &delegate_mode(),
            &CreateItem {
                saved_item_folder: calendar_of(None),
                items: vec![realistic_item(0), item],
            },
        )
    };
    let cases: Vec<(&str, Result<Vec<u8>, Error>)> = vec![
        (
            "items[1].subject",
            create(CalendarItem {
                subject: Some(bell.to_owned()),
                ..CalendarItem::default()
            }),
        ),
        (
            "items[1].body",
            create(CalendarItem {
                body: Some(Body {
                    body_type: BodyType::Text,
                    text: "line\u{0}".to_owned(),
                }),
                ..CalendarItem::default()
            }),
        ),
        (
            "items[1].categories[1]",
            create(CalendarItem {
                categories: vec!["ok".to_owned(), bell.to_owned()],
                ..CalendarItem::default()
            }),
        ),
        (
            "items[1].extended_properties[0].value",
            create(CalendarItem {
                extended_properties: vec![ExtendedProperty {
                    field: our_field("ExternalId", false),
                    value: "\u{fffe}".to_owned(),
                }],
                ..CalendarItem::default()
            }),
        ),
        (
            "items[1].location",
            create(CalendarItem {
                location: Some(bell.to_owned()),
                ..CalendarItem::default()
            }),
        ),
        (
            "items[1].end_time_zone",
            create(CalendarItem {
                end_time_zone: Some(bell.to_owned()),
                ..CalendarItem::default()
            }),
        ),
        (
            "restriction.value",
            encode(
                &delegate_mode(),
                &FindItem {
                    item_shape: item_shape(),
                    view: FindItemView::IndexedPage {
                        max_entries: 10,
                        offset: 0,
                    },
                    restriction: Some(Restriction::IsEqualTo {
                        path: PropertyPath::Extended(our_field("ExternalId", false)),
                        value: bell.to_owned(),
                    }),
                    parent_folder: calendar_of(None),
                },
            ),
        ),
        (
            "changes[0].updates[0].subject",
            encode(
                &delegate_mode(),
                &UpdateItem {
                    conflict_resolution: ConflictResolution::AlwaysOverwrite,
                    changes: vec![ItemChange {
                        item_id: ItemId {
                            id: "AAMk1=".to_owned(),
                            change_key: Some("DwAA1".to_owned()),
                        },
                        updates: vec![ItemUpdate::Set(CalendarItem {
                            subject: Some(bell.to_owned()),
                            ..CalendarItem::default()
                        })],
                    }],
                },
            ),
        ),
        (
            "item_ids[1].id",
            encode(
                &delegate_mode(),
                &DeleteItem {
                    delete_type: DeleteType::HardDelete,
                    item_ids: vec![
                        ItemId {
                            id: "AAMk1=".to_owned(),
                            change_key: None,
                        },
                        ItemId {
                            id: bell.to_owned(),
                            change_key: None,
                        },
                    ],
                },
            ),
        ),
    ];
    for (expected_field, result) in cases {
        match result {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, expected_field);
                assert!(reason.contains("cannot be carried by XML 1.0"), "{reason}");
            }
            other => panic!("{expected_field}: expected InvalidInput, got {other:?}"),
        }
    }
}
