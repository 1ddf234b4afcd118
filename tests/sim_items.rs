//! The simulator's calendar items, driven with hand-written SOAP (not the crate's `ews`
//! serializer): create → find by the external id → update → get → delete; CalendarView windows
//! and truncation; the user's own items are never matched; ChangeKey conflicts; the Send*
//! attributes Exchange requires; delegate access with and without the calendar permission; a
//! lost response after processing; partial failure and batch stop.

mod common;

use chrono::{DateTime, Utc};
use common::sim::*;
use ews_connector::sim::{
    FaultKind, ItemBody, PermissionLevel, ScriptedFault, SimExtendedProperty, SimItem,
};

const ALICE: &str = "alice@contoso.example";
const PLAIN: &str = "plain@contoso.example";
const GRANTED: &str = "granted@contoso.example";
const SVC: &str = "svc-mytt@contoso.example";
const PRIVATE_SET: &str = "C11FF724-AA03-4555-9952-8FA248A11C3E";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn update(change: &str, resolution: &str, send: bool) -> String {
    let send = if send {
        r#" SendMeetingInvitationsOrCancellations="SendToNone""#
    } else {
        ""
    };
    format!(
        r#"<m:UpdateItem ConflictResolution="{resolution}"{send}><m:ItemChanges>{change}</m:ItemChanges></m:UpdateItem>"#
    )
}

fn item_change(id: &str, change_key: Option<&str>, updates: &str) -> String {
    let change_key = change_key
        .map(|key| format!(r#" ChangeKey="{key}""#))
        .unwrap_or_default();
    format!(
        r#"<t:ItemChange><t:ItemId Id="{id}"{change_key}/><t:Updates>{updates}</t:Updates></t:ItemChange>"#
    )
}

fn set_field(uri: &str, element: &str) -> String {
    format!(
        r#"<t:SetItemField><t:FieldURI FieldURI="{uri}"/><t:CalendarItem>{element}</t:CalendarItem></t:SetItemField>"#
    )
}

fn set_subject(subject: &str) -> String {
    set_field("item:Subject", &format!("<t:Subject>{subject}</t:Subject>"))
}

/// Creates one pushed item in `mailbox` (impersonated) and returns its (id, ChangeKey).
async fn create_one(client: &mut RawClient, mailbox: &str, external_id: &str) -> (String, String) {
    let response = call(
        client,
        &envelope(
            Some(mailbox),
            &create_items(
                &calendar_folder(None),
                Some("SendToNone"),
                &[pushed_item(
                    "Lecture",
                    "2025-03-04T08:00:00Z",
                    "2025-03-04T10:00:00Z",
                    external_id,
                )],
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["NoError"],
        "{}",
        response.body
    );
    item_ids_in(&response.body).remove(0)
}

#[tokio::test]
async fn create_find_update_get_delete_round_trip() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let own_items = sim.calendar_items(ALICE).unwrap();

    let (id, created_key) = create_one(&mut client, ALICE, "mytt:event:1 &amp; &lt;2&gt;").await;
    let stored = sim
        .calendar_items(ALICE)
        .unwrap()
        .into_iter()
        .find(|item| item.item_id == id)
        .expect("the created item is stored");
    let expected = SimItem {
        item_id: id.clone(),
        change_key: created_key.clone(),
        subject: Some("Lecture".into()),
        body: Some(ItemBody {
            body_type: "Text".into(),
            text: "Created by MyTimetable.".into(),
        }),
        categories: vec!["MyTimetable".into()],
        reminder_is_set: false,
        reminder_minutes: 15,
        start: at("2025-03-04T08:00:00Z"),
        end: at("2025-03-04T10:00:00Z"),
        is_all_day: false,
        free_busy: "Busy".into(),
        location: Some("Room 1.01".into()),
        start_time_zone: Some("W. Europe Standard Time".into()),
        end_time_zone: Some("W. Europe Standard Time".into()),
        extended_properties: vec![SimExtendedProperty {
            property_set: "PublicStrings".into(),
            name: "CalSyncExternalId".into(),
            property_type: "String".into(),
            value: "mytt:event:1 & <2>".into(),
        }],
        created_by: ALICE.into(),
    };
    assert_eq!(stored, expected);

    // Found by the external id, addressed through the GUID spelling of PublicStrings, escaped.
    let guid_form = find_by_external_id(&calendar_folder(None), "mytt:event:1 &amp; &lt;2&gt;")
        .replace(
            r#"DistinguishedPropertySetId="PublicStrings""#,
            r#"PropertySetId="00020329-0000-0000-C000-000000000046""#,
        );
    let found = call(&mut client, &envelope(Some(ALICE), &guid_form)).await;
    assert_eq!(response_codes(&found.body), ["NoError"], "{}", found.body);
    assert_eq!(
        item_ids_in(&found.body),
        [(id.clone(), created_key.clone())]
    );
    assert!(
        found
            .body
            .contains("<t:Value>mytt:event:1 &amp; &lt;2&gt;</t:Value>")
    );
    assert_eq!(
        root_folder_attribute(&found.body, "TotalItemsInView").as_deref(),
        Some("1")
    );

    // Moved, renamed, re-keyed, location cleared.
    let updates = [
        set_subject("Lecture (moved)"),
        set_field("calendar:Start", "<t:Start>2025-03-05T08:00:00Z</t:Start>"),
        set_field("calendar:End", "<t:End>2025-03-05T11:00:00Z</t:End>"),
        format!(
            r#"<t:SetItemField>{EXTERNAL_ID_URI}<t:CalendarItem><t:ExtendedProperty>{EXTERNAL_ID_URI}<t:Value>mytt:event:1b</t:Value></t:ExtendedProperty></t:CalendarItem></t:SetItemField>"#
        ),
        r#"<t:DeleteItemField><t:FieldURI FieldURI="calendar:Location"/></t:DeleteItemField>"#
            .to_string(),
    ]
    .concat();
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update(
                &item_change(&id, Some(&created_key), &updates),
                "NeverOverwrite",
                true,
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["NoError"],
        "{}",
        response.body
    );
    assert!(response.body.contains("<t:Count>0</t:Count>"));
    let (updated_id, updated_key) = item_ids_in(&response.body).remove(0);
    assert_eq!(updated_id, id);
    assert_ne!(updated_key, created_key, "a change gives a new ChangeKey");
    let stored = sim
        .calendar_items(ALICE)
        .unwrap()
        .into_iter()
        .find(|item| item.item_id == id)
        .unwrap();
    assert_eq!(
        stored,
        SimItem {
            change_key: updated_key.clone(),
            subject: Some("Lecture (moved)".into()),
            start: at("2025-03-05T08:00:00Z"),
            end: at("2025-03-05T11:00:00Z"),
            location: None,
            extended_properties: vec![SimExtendedProperty {
                value: "mytt:event:1b".into(),
                ..expected.extended_properties[0].clone()
            }],
            ..expected.clone()
        }
    );

    let got = call(&mut client, &envelope(Some(ALICE), &get_items(&[&id]))).await;
    assert_eq!(response_codes(&got.body), ["NoError"], "{}", got.body);
    assert!(got.body.contains("<t:Subject>Lecture (moved)</t:Subject>"));
    assert!(got.body.contains("<t:Start>2025-03-05T08:00:00Z</t:Start>"));
    assert!(got.body.contains("<t:Value>mytt:event:1b</t:Value>"));
    assert!(!got.body.contains("<t:Location>"), "{}", got.body);

    let deleted = call(
        &mut client,
        &envelope(Some(ALICE), &delete_items(&[&id], true)),
    )
    .await;
    assert_eq!(
        response_codes(&deleted.body),
        ["NoError"],
        "{}",
        deleted.body
    );
    assert_eq!(sim.calendar_items(ALICE).unwrap(), own_items);
    let again = call(
        &mut client,
        &envelope(Some(ALICE), &delete_items(&[&id], true)),
    )
    .await;
    assert_eq!(response_codes(&again.body), ["ErrorItemNotFound"]);
    let got = call(&mut client, &envelope(Some(ALICE), &get_items(&[&id]))).await;
    assert_eq!(response_codes(&got.body), ["ErrorItemNotFound"]);
    assert!(got.body.contains("<m:Items/>"), "{}", got.body);

    let stats = sim.stats();
    assert_eq!(stats.requests("CreateItem"), 1);
    assert_eq!(stats.requests("DeleteItem"), 2);
    assert_eq!(stats.items("CreateItem"), 1);
    assert_eq!(stats.items("UpdateItem"), 1);
    assert_eq!(stats.items("DeleteItem"), 1);
}

#[tokio::test]
async fn calendar_view_honours_window_boundaries_and_truncates() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let put = |subject: &str, start: &str, end: &str| {
        let mut item = SimItem::new(at(start), at(end));
        item.subject = Some(subject.into());
        sim.insert_item(PLAIN, item).unwrap()
    };
    put(
        "ends at the window start",
        "2025-03-04T09:00:00Z",
        "2025-03-04T10:00:00Z",
    );
    let overlapping_start = put(
        "across the start",
        "2025-03-04T09:30:00Z",
        "2025-03-04T10:30:00Z",
    );
    let instant = put(
        "zero length at start",
        "2025-03-04T10:00:00Z",
        "2025-03-04T10:00:00Z",
    );
    let across_end = put(
        "across the end",
        "2025-03-04T11:59:00Z",
        "2025-03-04T13:00:00Z",
    );
    put(
        "starts at the window end",
        "2025-03-04T12:00:00Z",
        "2025-03-04T12:30:00Z",
    );

    let view = |max| {
        envelope(
            Some(PLAIN),
            &calendar_view(
                &calendar_folder(None),
                "2025-03-04T10:00:00Z",
                "2025-03-04T12:00:00Z",
                max,
            ),
        )
    };
    let all = call(&mut client, &view(None)).await;
    assert_eq!(response_codes(&all.body), ["NoError"], "{}", all.body);
    let ids: Vec<String> = item_ids_in(&all.body)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        [
            overlapping_start.item_id.clone(),
            instant.item_id.clone(),
            across_end.item_id.clone()
        ],
        "items overlapping [start, end), sorted by start"
    );
    assert_eq!(
        root_folder_attribute(&all.body, "TotalItemsInView").as_deref(),
        Some("3")
    );
    assert_eq!(
        root_folder_attribute(&all.body, "IncludesLastItemInRange").as_deref(),
        Some("true")
    );

    let truncated = call(&mut client, &view(Some(2))).await;
    let ids: Vec<String> = item_ids_in(&truncated.body)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, [overlapping_start.item_id, instant.item_id]);
    assert_eq!(
        root_folder_attribute(&truncated.body, "IncludesLastItemInRange").as_deref(),
        Some("false")
    );
    assert_eq!(
        root_folder_attribute(&truncated.body, "TotalItemsInView").as_deref(),
        Some("3")
    );

    // Two years is the limit; a restriction is refused with a CalendarView.
    let two_years = calendar_view(
        &calendar_folder(None),
        "2025-01-01T00:00:00Z",
        "2027-01-01T00:00:00Z",
        None,
    );
    let response = call(&mut client, &envelope(Some(PLAIN), &two_years)).await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
    let too_big = two_years.replace("2027-01-01T00:00:00Z", "2027-01-01T00:00:01Z");
    let response = call(&mut client, &envelope(Some(PLAIN), &too_big)).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response_codes(&response.body),
        ["ErrorCalendarViewRangeTooBig"]
    );
    let restricted = view(None).replace(
        "<m:ParentFolderIds>",
        &format!(
            r#"<m:Restriction><t:IsEqualTo>{EXTERNAL_ID_URI}<t:FieldURIOrConstant><t:Constant Value="x"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds>"#
        ),
    );
    let response = call(&mut client, &restricted).await;
    assert_eq!(response_codes(&response.body), ["ErrorInvalidRestriction"]);
}

#[tokio::test]
async fn own_items_and_other_property_sets_are_never_matched() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    // The user's item carries the same name and value under another GUID.
    let mut lookalike = SimItem::new(at("2025-03-04T08:00:00Z"), at("2025-03-04T09:00:00Z"));
    lookalike.extended_properties.push(SimExtendedProperty {
        property_set: PRIVATE_SET.into(),
        name: "CalSyncExternalId".into(),
        property_type: "String".into(),
        value: "mytt:event:7".into(),
    });
    let lookalike = sim.insert_item(ALICE, lookalike).unwrap();
    let (pushed, _) = create_one(&mut client, ALICE, "mytt:event:7").await;
    assert_eq!(sim.calendar_items(ALICE).unwrap().len(), 5);

    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &find_by_external_id(&calendar_folder(None), "mytt:event:7"),
        ),
    )
    .await;
    assert_eq!(
        item_ids_in(&response.body)
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        [pushed]
    );
    // The sample's phone-synced item: its value is not found under PublicStrings …
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &find_by_external_id(&calendar_folder(None), "phone:gym-42"),
        ),
    )
    .await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
    assert!(item_ids_in(&response.body).is_empty(), "{}", response.body);
    assert_eq!(
        root_folder_attribute(&response.body, "TotalItemsInView").as_deref(),
        Some("0")
    );
    // … only under its own GUID (compared case-insensitively).
    let private = find_by_external_id(&calendar_folder(None), "mytt:event:7").replace(
        r#"DistinguishedPropertySetId="PublicStrings""#,
        &format!(r#"PropertySetId="{}""#, PRIVATE_SET.to_ascii_lowercase()),
    );
    let response = call(&mut client, &envelope(Some(ALICE), &private)).await;
    assert_eq!(
        item_ids_in(&response.body)
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        [lookalike.item_id]
    );
    // Items without the property are not returned with one.
    let view = calendar_view(
        &calendar_folder(None),
        "2025-03-01T00:00:00Z",
        "2025-03-31T00:00:00Z",
        None,
    )
    .replace(
        "</t:AdditionalProperties>",
        &format!("{EXTERNAL_ID_URI}</t:AdditionalProperties>"),
    );
    let response = call(&mut client, &envelope(Some(ALICE), &view)).await;
    assert_eq!(item_ids_in(&response.body).len(), 5);
    assert_eq!(response.body.matches("<t:ExtendedProperty>").count(), 1);
}

#[tokio::test]
async fn indexed_paging_walks_the_matches() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    for hour in 0..5 {
        let mut item = SimItem::new(
            at(&format!("2025-03-04T0{hour}:00:00Z")),
            at(&format!("2025-03-04T0{hour}:30:00Z")),
        );
        item.extended_properties.push(SimExtendedProperty {
            property_set: "PublicStrings".into(),
            name: "CalSyncExternalId".into(),
            property_type: "String".into(),
            value: "dup".into(),
        });
        sim.insert_item(PLAIN, item).unwrap();
    }
    let page = |offset: usize| {
        envelope(
            Some(PLAIN),
            &find_by_external_id(&calendar_folder(None), "dup").replace(
                r#"MaxEntriesReturned="10" Offset="0""#,
                &format!(r#"MaxEntriesReturned="2" Offset="{offset}""#),
            ),
        )
    };
    let mut seen = Vec::new();
    for (offset, expected_next, last) in [(0, "2", "false"), (2, "4", "false"), (4, "5", "true")] {
        let response = call(&mut client, &page(offset)).await;
        assert_eq!(
            root_folder_attribute(&response.body, "IndexedPagingOffset").as_deref(),
            Some(expected_next)
        );
        assert_eq!(
            root_folder_attribute(&response.body, "IncludesLastItemInRange").as_deref(),
            Some(last)
        );
        assert_eq!(
            root_folder_attribute(&response.body, "TotalItemsInView").as_deref(),
            Some("5")
        );
        seen.extend(item_ids_in(&response.body).into_iter().map(|(id, _)| id));
    }
    let all: Vec<String> = sim
        .calendar_items(PLAIN)
        .unwrap()
        .into_iter()
        .map(|item| item.item_id)
        .collect();
    assert_eq!(seen, all);
}

#[tokio::test]
async fn stale_change_key_conflicts_unless_always_overwrite() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let (id, read_key) = create_one(&mut client, ALICE, "mytt:event:9").await;
    // The user edits the item in Outlook.
    let mut edited = sim
        .calendar_items(ALICE)
        .unwrap()
        .into_iter()
        .find(|item| item.item_id == id)
        .unwrap();
    edited.subject = Some("Lecture (my notes)".into());
    let edited = sim.insert_item(ALICE, edited).unwrap();
    assert_ne!(edited.change_key, read_key);

    for resolution in ["NeverOverwrite", "AutoResolve"] {
        let response = call(
            &mut client,
            &envelope(
                Some(ALICE),
                &update(
                    &item_change(&id, Some(&read_key), &set_subject("Lecture v2")),
                    resolution,
                    true,
                ),
            ),
        )
        .await;
        assert_eq!(response.status, 200);
        assert_eq!(
            response_codes(&response.body),
            ["ErrorIrresolvableConflict"],
            "{resolution}"
        );
        assert!(response.body.contains("<m:Items/>"));
    }
    let current = |sim: &ews_connector::sim::SimHandle| {
        sim.calendar_items(ALICE)
            .unwrap()
            .into_iter()
            .find(|item| item.item_id == id)
            .unwrap()
    };
    assert_eq!(current(&sim), edited, "a refused update changes nothing");

    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update(
                &item_change(&id, None, &set_subject("Lecture v2")),
                "AlwaysOverwrite",
                true,
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["ErrorChangeKeyRequiredForWriteOperations"]
    );
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update(
                &item_change(&id, Some(&read_key), &set_subject("Lecture v2")),
                "AlwaysOverwrite",
                true,
            ),
        ),
    )
    .await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
    assert_eq!(current(&sim).subject.as_deref(), Some("Lecture v2"));

    // End before Start after the change: refused, nothing applied.
    let before = current(&sim);
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update(
                &item_change(
                    &id,
                    Some(&before.change_key),
                    &[
                        set_subject("never stored"),
                        set_field("calendar:End", "<t:End>2025-03-04T07:00:00Z</t:End>"),
                    ]
                    .concat(),
                ),
                "NeverOverwrite",
                true,
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["ErrorCalendarEndDateIsEarlierThanStartDate"]
    );
    assert_eq!(current(&sim), before);
}

#[tokio::test]
async fn send_attributes_are_required_for_calendar_items() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let before = sim.calendar_items(ALICE).unwrap();
    let item = pushed_item(
        "Lecture",
        "2025-03-04T08:00:00Z",
        "2025-03-04T10:00:00Z",
        "x",
    );
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &create_items(&calendar_folder(None), None, &[item.clone(), item]),
        ),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response_codes(&response.body),
        [
            "ErrorSendMeetingInvitationsRequired",
            "ErrorSendMeetingInvitationsRequired"
        ]
    );
    assert_eq!(sim.calendar_items(ALICE).unwrap(), before);

    let (id, key) = create_one(&mut client, ALICE, "x").await;
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &update(
                &item_change(&id, Some(&key), &set_subject("v2")),
                "NeverOverwrite",
                false,
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["ErrorSendMeetingInvitationsOrCancellationsRequired"]
    );
    let response = call(
        &mut client,
        &envelope(Some(ALICE), &delete_items(&[&id], false)),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["ErrorSendMeetingCancellationsRequired"]
    );
    let stored = sim.calendar_items(ALICE).unwrap();
    let item = stored.iter().find(|item| item.item_id == id).unwrap();
    assert_eq!(item.subject.as_deref(), Some("Lecture"));
    assert_eq!(item.change_key, key);
}

#[tokio::test]
async fn delegate_access_needs_the_calendar_permission() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let item = pushed_item(
        "Lecture",
        "2025-03-04T08:00:00Z",
        "2025-03-04T10:00:00Z",
        "d:1",
    );

    // granted@: the service account's group is Editor.
    let response = call(
        &mut client,
        &envelope(
            None,
            &create_items(
                &calendar_folder(Some(GRANTED)),
                Some("SendToNone"),
                std::slice::from_ref(&item),
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["NoError"],
        "{}",
        response.body
    );
    let (id, _) = item_ids_in(&response.body).remove(0);
    let stored = sim.calendar_items(GRANTED).unwrap();
    assert_eq!(
        stored
            .iter()
            .find(|item| item.item_id == id)
            .unwrap()
            .created_by,
        SVC
    );
    let found = call(
        &mut client,
        &envelope(
            None,
            &find_by_external_id(&calendar_folder(Some(GRANTED)), "d:1"),
        ),
    )
    .await;
    assert_eq!(item_ids_in(&found.body).len(), 1, "{}", found.body);
    // Editor may delete the user's own items too.
    let users = sim
        .calendar_items(GRANTED)
        .unwrap()
        .into_iter()
        .find(|item| item.created_by == GRANTED)
        .unwrap();
    let response = call(
        &mut client,
        &envelope(None, &delete_items(&[&users.item_id], true)),
    )
    .await;
    assert_eq!(response_codes(&response.body), ["NoError"]);

    // plain@: Default is FreeBusyTimeOnly: no reading, no creating.
    let response = call(
        &mut client,
        &envelope(
            None,
            &create_items(
                &calendar_folder(Some(PLAIN)),
                Some("SendToNone"),
                &[item.clone(), item.clone()],
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["ErrorAccessDenied", "ErrorBatchProcessingStopped"]
    );
    assert!(sim.calendar_items(PLAIN).unwrap().is_empty());
    let response = call(
        &mut client,
        &envelope(
            None,
            &find_by_external_id(&calendar_folder(Some(PLAIN)), "d:1"),
        ),
    )
    .await;
    assert_eq!(response_codes(&response.body), ["ErrorAccessDenied"]);

    // Author: own items only.
    sim.mutate_permissions(
        PLAIN,
        "mytimetable-push@contoso.example",
        PermissionLevel::Author,
    )
    .unwrap();
    let response = call(
        &mut client,
        &envelope(
            None,
            &create_items(&calendar_folder(Some(PLAIN)), Some("SendToNone"), &[item]),
        ),
    )
    .await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
    let (own_id, own_key) = item_ids_in(&response.body).remove(0);
    let users = sim
        .insert_item(
            PLAIN,
            SimItem::new(at("2025-03-04T12:00:00Z"), at("2025-03-04T13:00:00Z")),
        )
        .unwrap();
    let response = call(
        &mut client,
        &envelope(
            None,
            &update(
                &[
                    item_change(&own_id, Some(&own_key), &set_subject("mine")),
                    item_change(
                        &users.item_id,
                        Some(&users.change_key),
                        &set_subject("theirs"),
                    ),
                ]
                .concat(),
                "NeverOverwrite",
                true,
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["NoError", "ErrorAccessDenied"]
    );
    let response = call(
        &mut client,
        &envelope(None, &delete_items(&[&users.item_id, &own_id], true)),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        ["ErrorAccessDenied", "ErrorBatchProcessingStopped"]
    );
    assert_eq!(sim.calendar_items(PLAIN).unwrap().len(), 2);

    // Under impersonation an id of another mailbox is not found.
    let response = call(&mut client, &envelope(Some(ALICE), &get_items(&[&own_id]))).await;
    assert_eq!(response_codes(&response.body), ["ErrorItemNotFound"]);
    let response = call(&mut client, &envelope(Some(PLAIN), &get_items(&[&own_id]))).await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
}

#[tokio::test]
async fn a_delegate_cannot_move_items_to_the_owners_deleted_items() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    // granted@'s calendar: the service account (through its group) is Editor, so it may delete.
    let users = sim.calendar_items(GRANTED).unwrap();
    assert!(
        users.len() >= 2,
        "the sample has two items in granted@'s calendar"
    );
    let ids: Vec<&str> = users.iter().map(|item| item.item_id.as_str()).collect();
    let response = call(
        &mut client,
        &envelope(
            None,
            &delete_items_as("MoveToDeletedItems", &ids[..2], true),
        ),
    )
    .await;
    assert_eq!(response.status, 200);
    // Per item, and not a batch stop: each item is refused on its own.
    assert_eq!(
        response_codes(&response.body),
        ["ErrorCannotDeleteObject", "ErrorCannotDeleteObject"],
        "{}",
        response.body
    );
    assert!(
        response
            .body
            .contains(r#"<m:DeleteItemResponseMessage ResponseClass="Error">"#),
        "{}",
        response.body
    );
    assert_eq!(sim.calendar_items(GRANTED).unwrap(), users);

    // The same delegate may soft-delete or hard-delete.
    for (delete_type, id) in [("SoftDelete", ids[0]), ("HardDelete", ids[1])] {
        let response = call(
            &mut client,
            &envelope(None, &delete_items_as(delete_type, &[id], true)),
        )
        .await;
        assert_eq!(response_codes(&response.body), ["NoError"], "{delete_type}");
    }
    assert_eq!(sim.calendar_items(GRANTED).unwrap().len(), users.len() - 2);

    // The owner (impersonated) may move its own item to Deleted Items.
    let (own, _) = create_one(&mut client, ALICE, "m:1").await;
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &delete_items_as("MoveToDeletedItems", &[&own], true),
        ),
    )
    .await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
    assert!(
        !sim.calendar_items(ALICE)
            .unwrap()
            .iter()
            .any(|item| item.item_id == own)
    );
}

#[tokio::test]
async fn reset_after_processing_stores_the_item_but_loses_the_answer() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault {
        operation: Some("CreateItem".into()),
        mailbox: None,
        count: 1,
        kind: FaultKind::ResetAfterProcessing,
    });
    // Another operation does not consume it.
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &find_by_external_id(&calendar_folder(None), "lost:1"),
        ),
    )
    .await;
    assert_eq!(response_codes(&response.body), ["NoError"]);

    let request = envelope(
        Some(ALICE),
        &create_items(
            &calendar_folder(None),
            Some("SendToNone"),
            &[pushed_item(
                "Lost",
                "2025-03-04T08:00:00Z",
                "2025-03-04T09:00:00Z",
                "lost:1",
            )],
        ),
    );
    match client.post_soap(None, &request).await {
        Err(ReadError::Closed { partial: 0 }) => {}
        other => panic!("expected the connection to close without an answer, got {other:?}"),
    }
    let stored: Vec<SimItem> = sim
        .calendar_items(ALICE)
        .unwrap()
        .into_iter()
        .filter(|item| {
            item.extended_property("PublicStrings", "CalSyncExternalId", "String") == Some("lost:1")
        })
        .collect();
    assert_eq!(
        stored.len(),
        1,
        "the item was stored before the answer was lost"
    );
    assert_eq!(sim.stats().faults_applied, 1);
    assert_eq!(sim.stats().items("CreateItem"), 1);

    // A retry on a new connection finds it by the external id instead of creating it again.
    let mut client = logged_in_client(&sim).await;
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &find_by_external_id(&calendar_folder(None), "lost:1"),
        ),
    )
    .await;
    assert_eq!(
        item_ids_in(&response.body)
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        [stored[0].item_id.clone()]
    );
}

#[tokio::test]
async fn existing_faults_apply_to_item_operations() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault {
        operation: Some("UpdateItem".into()),
        mailbox: Some(ALICE.into()),
        count: 1,
        kind: FaultKind::ServerBusy { back_off_ms: 2000 },
    });
    let (id, key) = create_one(&mut client, ALICE, "busy:1").await;
    let request = envelope(
        Some(ALICE),
        &update(
            &item_change(&id, Some(&key), &set_subject("v2")),
            "NeverOverwrite",
            true,
        ),
    );
    let response = call(&mut client, &request).await;
    assert_eq!(response.status, 500);
    assert!(
        response.body.contains("ErrorServerBusy"),
        "{}",
        response.body
    );
    assert_eq!(
        sim.calendar_items(ALICE)
            .unwrap()
            .into_iter()
            .find(|item| item.item_id == id)
            .unwrap()
            .change_key,
        key
    );
    let response = call(&mut client, &request).await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
    assert_eq!(sim.stats().requests("UpdateItem"), 2);
    assert_eq!(sim.stats().items("UpdateItem"), 1);
}

#[tokio::test]
async fn batches_fail_per_item_and_stop_after_quota() {
    let state = format!(
        "{}\n[[mailboxes]]\nsmtp = \"full@contoso.example\"\nitem_quota = 2\n",
        sample_state()
    );
    let sim = start_sim(&state).await;
    let mut client = logged_in_client(&sim).await;
    let good = |n: u32| {
        pushed_item(
            &format!("item {n}"),
            "2025-03-04T08:00:00Z",
            "2025-03-04T09:00:00Z",
            &format!("batch:{n}"),
        )
    };
    let backwards = pushed_item(
        "backwards",
        "2025-03-04T09:00:00Z",
        "2025-03-04T08:00:00Z",
        "batch:x",
    );
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &create_items(
                &calendar_folder(None),
                Some("SendToNone"),
                &[good(1), backwards, good(2)],
            ),
        ),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response_codes(&response.body),
        [
            "NoError",
            "ErrorCalendarEndDateIsEarlierThanStartDate",
            "NoError"
        ]
    );
    assert_eq!(response.body.matches("<m:Items/>").count(), 1);
    let ids = item_ids_in(&response.body);
    assert_eq!(ids.len(), 2);
    let subjects: Vec<Option<String>> = ids
        .iter()
        .map(|(id, _)| {
            sim.calendar_items(ALICE)
                .unwrap()
                .into_iter()
                .find(|item| &item.item_id == id)
                .unwrap()
                .subject
        })
        .collect();
    assert_eq!(subjects, [Some("item 1".into()), Some("item 2".into())]);

    let full = "full@contoso.example";
    let response = call(
        &mut client,
        &envelope(
            Some(full),
            &create_items(
                &calendar_folder(None),
                Some("SendToNone"),
                &[good(3), good(4), good(5), good(6)],
            ),
        ),
    )
    .await;
    assert_eq!(
        response_codes(&response.body),
        [
            "NoError",
            "NoError",
            "ErrorQuotaExceeded",
            "ErrorBatchProcessingStopped"
        ]
    );
    assert_eq!(sim.calendar_items(full).unwrap().len(), 2);
    assert_eq!(sim.stats().items("CreateItem"), 4);
}

#[tokio::test]
async fn schema_breaking_item_requests_are_refused_whole() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let before = sim.calendar_items(ALICE).unwrap();
    // ExtendedProperty after Start breaks the sequence (PROTOCOL §6.3): nothing is stored, not
    // even the valid first item.
    let misordered = pushed_item("bad", "2025-03-04T08:00:00Z", "2025-03-04T09:00:00Z", "s:1")
        .replace(
            &format!("<t:ExtendedProperty>{EXTERNAL_ID_URI}<t:Value>s:1</t:Value></t:ExtendedProperty><t:Start>2025-03-04T08:00:00Z</t:Start>"),
            &format!("<t:Start>2025-03-04T08:00:00Z</t:Start><t:ExtendedProperty>{EXTERNAL_ID_URI}<t:Value>s:1</t:Value></t:ExtendedProperty>"),
        );
    assert!(misordered.contains("</t:Start><t:ExtendedProperty>"));
    let valid = pushed_item(
        "good",
        "2025-03-04T08:00:00Z",
        "2025-03-04T09:00:00Z",
        "s:0",
    );
    let response = call(
        &mut client,
        &envelope(
            Some(ALICE),
            &create_items(
                &calendar_folder(None),
                Some("SendToNone"),
                &[valid, misordered],
            ),
        ),
    )
    .await;
    assert_eq!(response.status, 500);
    assert!(response.body.contains("ErrorSchemaValidation"));
    let braces = find_by_external_id(&calendar_folder(None), "s:0").replace(
        r#"DistinguishedPropertySetId="PublicStrings""#,
        r#"PropertySetId="{00020329-0000-0000-C000-000000000046}""#,
    );
    let response = call(&mut client, &envelope(Some(ALICE), &braces)).await;
    assert_eq!(response.status, 500);
    assert_eq!(sim.calendar_items(ALICE).unwrap(), before);
}

#[tokio::test]
async fn mailbox_fault_filters_find_items_named_by_id() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let users = sim
        .calendar_items(GRANTED)
        .unwrap()
        .into_iter()
        .find(|item| item.subject.as_deref() == Some("Project review"))
        .unwrap();
    sim.push_fault(ScriptedFault {
        operation: Some("DeleteItem".into()),
        mailbox: Some(GRANTED.into()),
        count: 1,
        kind: FaultKind::SoapFault {
            code: "ErrorInternalServerError".into(),
        },
    });
    // Delegate access names no mailbox in the body: the item id's mailbox matches the filter.
    let request = envelope(None, &delete_items(&[&users.item_id], true));
    let response = call(&mut client, &request).await;
    assert_eq!(response.status, 500);
    assert!(response.body.contains("ErrorInternalServerError"));
    assert!(
        sim.calendar_items(GRANTED)
            .unwrap()
            .iter()
            .any(|item| item.item_id == users.item_id)
    );
    let response = call(&mut client, &request).await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
}

#[tokio::test]
async fn items_are_inspectable_over_http() {
    let sim = start_sim(&sample_state()).await;
    let mut client = RawClient::connect(&sim).await;
    let response = client
        .request("GET", "/sim/mailboxes/alice@contoso.example/items", &[], "")
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let json: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    let items = json.as_array().unwrap();
    let expected = sim.calendar_items(ALICE).unwrap();
    assert_eq!(items.len(), expected.len());
    assert_eq!(items[0]["itemId"], expected[0].item_id.as_str());
    assert_eq!(items[0]["subject"], "Dentist");
    assert_eq!(items[0]["start"], "2025-03-04T07:00:00Z");
    assert_eq!(items[0]["startTimeZone"], "W. Europe Standard Time");
    let gym = &items[2];
    assert_eq!(gym["reminderIsSet"], false);
    assert_eq!(gym["extendedProperties"][0]["propertySet"], PRIVATE_SET);
    assert_eq!(gym["extendedProperties"][0]["value"], "phone:gym-42");
    let missing = client
        .request(
            "GET",
            "/sim/mailboxes/nobody@contoso.example/items",
            &[],
            "",
        )
        .await
        .unwrap();
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn an_or_of_external_ids_finds_each_of_them_in_one_request() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let (first, _) = create_one(&mut client, ALICE, "mytt:or:1").await;
    let (second, _) = create_one(&mut client, ALICE, "mytt:or:2").await;
    create_one(&mut client, ALICE, "mytt:or:3").await;

    // Written by hand: `t:Or` around two `t:IsEqualTo`, plus an id nobody has.
    let equal_to = |value: &str| {
        format!(
            r#"<t:IsEqualTo>{EXTERNAL_ID_URI}<t:FieldURIOrConstant><t:Constant Value="{value}"/></t:FieldURIOrConstant></t:IsEqualTo>"#
        )
    };
    let or = format!(
        "<t:Or>{}{}{}</t:Or>",
        equal_to("mytt:or:1"),
        equal_to("mytt:or:2"),
        equal_to("mytt:or:absent")
    );
    let request = find_by_external_id(&calendar_folder(None), "mytt:or:1").replace(
        &format!("<m:Restriction>{}</m:Restriction>", equal_to("mytt:or:1")),
        &format!("<m:Restriction>{or}</m:Restriction>"),
    );
    assert!(request.contains("<t:Or>"), "{request}");
    let response = call(&mut client, &envelope(Some(ALICE), &request)).await;
    assert_eq!(response_codes(&response.body), ["NoError"]);
    let mut found: Vec<String> = item_ids_in(&response.body)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    found.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(sim.stats().requests("FindItem"), 1);
}

#[tokio::test]
async fn a_calendar_view_over_the_find_count_limit_is_refused_and_concurrent_views_share_it() {
    let state = sample_state().replacen("[server]\n", "[server]\nfind_count_limit = 10\n", 1);
    let sim = start_sim(&state).await;
    for hour in 0..11 {
        let start = at("2025-05-05T08:00:00Z") + chrono::TimeDelta::hours(hour);
        sim.insert_item(
            PLAIN,
            SimItem::new(start, start + chrono::TimeDelta::minutes(30)),
        )
        .unwrap();
    }
    let view = |start: &str, end: &str| {
        envelope(
            Some(PLAIN),
            &calendar_view(&calendar_folder(None), start, end, Some(1000)),
        )
    };
    let all_day = view("2025-05-05T00:00:00Z", "2025-05-06T00:00:00Z");
    let morning = view("2025-05-05T00:00:00Z", "2025-05-05T14:00:00Z");
    let afternoon = view("2025-05-05T14:00:00Z", "2025-05-06T00:00:00Z");

    // 11 items in one view: over the limit of 10, whatever MaxEntriesReturned says.
    let mut client = logged_in_client(&sim).await;
    let refused = call(&mut client, &all_day).await;
    assert_eq!(refused.status, 200);
    assert_eq!(
        response_codes(&refused.body),
        ["ErrorExceededFindCountLimit"],
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"ResponseClass="Error""#));
    assert!(
        refused
            .body
            .contains(r#"<t:Value Name="PolicyLimit">10</t:Value>"#),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("RootFolder"), "{}", refused.body);
    // Six items, then five: each fits alone.
    let first = call(&mut client, &morning).await;
    assert_eq!(response_codes(&first.body), ["NoError"], "{}", first.body);
    assert_eq!(item_ids_in(&first.body).len(), 6);

    // The budget is the account's: while the six of the morning wait to be sent (the answer is
    // dribbled over two seconds), the same account's view of five more is over it.
    sim.push_fault(ScriptedFault {
        operation: Some("FindItem".into()),
        mailbox: None,
        count: 1,
        kind: FaultKind::Slow { ms: 2000 },
    });
    let mut slow_client = logged_in_client(&sim).await;
    let slow = tokio::spawn(async move { call(&mut slow_client, &morning).await });
    while sim.stats().faults_applied == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let concurrent = call(&mut client, &afternoon).await;
    assert_eq!(
        response_codes(&concurrent.body),
        ["ErrorExceededFindCountLimit"],
        "{}",
        concurrent.body
    );
    let slow = slow.await.unwrap();
    assert_eq!(response_codes(&slow.body), ["NoError"]);
    // Once that answer is sent, its charge is released.
    let after = call(&mut client, &afternoon).await;
    assert_eq!(response_codes(&after.body), ["NoError"], "{}", after.body);
    assert_eq!(item_ids_in(&after.body).len(), 5);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_and_a_busy_one_is_not() {
    let state = sample_state().replacen("[server]\n", "[server]\nidle_timeout_ms = 400\n", 1);
    let sim = start_sim(&state).await;
    let find = envelope(
        Some(PLAIN),
        &calendar_view(
            &calendar_folder(None),
            "2025-05-05T00:00:00Z",
            "2025-05-06T00:00:00Z",
            None,
        ),
    );
    // A request every 150 ms for 900 ms: never idle for 400 ms, so never closed.
    let mut busy = logged_in_client(&sim).await;
    for _ in 0..6 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let answer = call(&mut busy, &find).await;
        assert_eq!(response_codes(&answer.body), ["NoError"]);
    }
    assert_eq!(sim.stats().idle_connections_closed, 0);
    assert_eq!(sim.stats().connections_opened, 1);
    // Then idle: closed by the server after the timeout.
    assert!(busy.is_closed_by_server().await, "closed after 400 ms idle");
    assert_eq!(sim.stats().idle_connections_closed, 1);
}

#[tokio::test]
async fn item_effective_rights_follow_edit_and_delete_items_for_own_and_others_items() {
    let state = format!(
        r#"{}
[[mailboxes]]
smtp = "author@contoso.example"
display_name = "Arthur Author"
permissions = [
  {{ user = "Default", level = "None" }},
  {{ user = "Anonymous", level = "None" }},
  {{ user = "svc-mytt@contoso.example", level = "Author" }},
]

[[mailboxes.items]]
subject = "Mine"
start = "2025-06-02T08:00:00Z"
end = "2025-06-02T09:00:00Z"
created_by = "svc-mytt@contoso.example"

[[mailboxes.items]]
subject = "Theirs"
start = "2025-06-02T10:00:00Z"
end = "2025-06-02T11:00:00Z"
"#,
        sample_state()
    );
    let sim = start_sim(&state).await;
    let mut client = logged_in_client(&sim).await;
    let author = "author@contoso.example";
    let with_rights = |folder: &str| {
        calendar_view(folder, "2025-06-02T00:00:00Z", "2025-06-03T00:00:00Z", None).replacen(
            r#"<t:FieldURI FieldURI="calendar:Start"/>"#,
            r#"<t:FieldURI FieldURI="item:EffectiveRights"/><t:FieldURI FieldURI="calendar:Start"/>"#,
            1,
        )
    };
    // (subject, Modify, Delete, Read) per item, in the answer's order.
    let rights_of = |body: &str| -> Vec<(String, bool, bool, bool)> {
        body.split("<t:CalendarItem>")
            .skip(1)
            .map(|item| {
                let value = |name: &str| {
                    let open = format!("<t:{name}>");
                    let start =
                        item.find(&open).unwrap_or_else(|| panic!("{name}: {item}")) + open.len();
                    item[start..].split('<').next().unwrap().to_string()
                };
                let rights = item.find("<t:EffectiveRights>").expect(item);
                assert!(
                    item.find("<t:Subject>").unwrap() < rights
                        && rights < item.find("<t:Start>").unwrap(),
                    "EffectiveRights after Subject and before Start: {item}"
                );
                let flag = |name: &str| value(name) == "true";
                assert!(!flag("CreateContents") && !flag("CreateHierarchy"));
                (
                    value("Subject"),
                    flag("Modify"),
                    flag("Delete"),
                    flag("Read"),
                )
            })
            .collect()
    };

    // Author by delegate access: its own item may be changed and deleted, the owner's not.
    let found = call(
        &mut client,
        &envelope(None, &with_rights(&calendar_folder(Some(author)))),
    )
    .await;
    assert_eq!(response_codes(&found.body), ["NoError"], "{}", found.body);
    assert_eq!(
        rights_of(&found.body),
        [
            ("Mine".to_string(), true, true, true),
            ("Theirs".to_string(), false, false, true)
        ],
        "{}",
        found.body
    );
    // GetItem answers the same way.
    let theirs = sim
        .calendar_items(author)
        .unwrap()
        .into_iter()
        .find(|item| item.subject.as_deref() == Some("Theirs"))
        .unwrap();
    let got = call(
        &mut client,
        &envelope(
            None,
            &get_items(&[&theirs.item_id]).replacen(
                r#"<t:FieldURI FieldURI="calendar:Start"/>"#,
                r#"<t:FieldURI FieldURI="item:EffectiveRights"/><t:FieldURI FieldURI="calendar:Start"/>"#,
                1,
            ),
        ),
    )
    .await;
    assert_eq!(
        rights_of(&got.body),
        [("Theirs".to_string(), false, false, true)],
        "{}",
        got.body
    );
    // The owner (impersonated) may change and delete every item.
    let owner = call(
        &mut client,
        &envelope(Some(author), &with_rights(&calendar_folder(None))),
    )
    .await;
    assert_eq!(
        rights_of(&owner.body),
        [
            ("Mine".to_string(), true, true, true),
            ("Theirs".to_string(), true, true, true)
        ]
    );
    // Not asked for: not sent.
    let plain = call(
        &mut client,
        &envelope(
            None,
            &calendar_view(
                &calendar_folder(Some(author)),
                "2025-06-02T00:00:00Z",
                "2025-06-03T00:00:00Z",
                None,
            ),
        ),
    )
    .await;
    assert_eq!(item_ids_in(&plain.body).len(), 2);
    assert!(!plain.body.contains("EffectiveRights"), "{}", plain.body);
}
