//! Calendar push against the simulator, through the HTTP API: window syncs and their request
//! counts, the user's own items left untouched, a lost create answer, time zones, and the
//! schema validity of every request body the push flows produce.

mod common;

use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use ews_connector::domain::AccessMode;
use ews_connector::push;
use ews_connector::sim::{FaultKind, ScriptedFault, SimExtendedProperty, SimItem};

use common::push::{GRANTED, PLAIN, PushSetup, lecture, listed, our_id, utc};

/// January 2027: the window of the big syncs.
fn january() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc("2027-01-01T00:00:00Z"), utc("2027-02-01T00:00:00Z"))
}

/// `count` lectures, one every 45 minutes from 4 January 2027 08:00 UTC, one hour each.
fn lectures(count: usize) -> Vec<(String, DateTime<Utc>)> {
    (0..count)
        .map(|index| {
            (
                format!("mytt:2027:{index:04}"),
                utc("2027-01-04T08:00:00Z") + TimeDelta::minutes(45 * index as i64),
            )
        })
        .collect()
}

fn sync_list(events: &[(String, DateTime<Utc>)]) -> Vec<Value> {
    events
        .iter()
        .map(|(id, start)| listed(id, lecture(&format!("Lecture {id}"), *start, 60)))
        .collect()
}

#[tokio::test]
async fn a_sync_of_500_into_an_empty_calendar_batches_its_creates_then_writes_nothing_then_exactly_10_updates_and_5_deletes()
 {
    let batch_size = 50;
    let setup = PushSetup::with(AccessMode::Delegate, batch_size).await;
    let mut events = lectures(500);

    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 500, "{report}");
    assert_eq!(report["failed"], json!([]));
    let creates = setup.requests("CreateItem");
    assert_eq!(
        creates,
        500_u64.div_ceil(batch_size as u64),
        "CreateItem requests"
    );
    assert_eq!(
        setup.requests("FindItem"),
        1 + 500_u64.div_ceil(batch_size as u64),
        "one calendar view, and one lookup of the missing ids per batch (an Or of 50 ids), never one per event"
    );
    assert_eq!(
        setup.requests("UpdateItem") + setup.requests("DeleteItem"),
        0
    );
    let stored: Vec<SimItem> = setup
        .items(GRANTED)
        .into_iter()
        .filter(|item| our_id(item).is_some())
        .collect();
    assert_eq!(stored.len(), 500);

    // The same sync again: nothing is written.
    let writes = setup.writes();
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            &report["created"],
            &report["updated"],
            &report["unchanged"],
            &report["deleted"]
        ),
        (&json!(0), &json!(0), &json!(500), &json!(0))
    );
    assert_eq!(setup.writes(), writes, "an unchanged sync writes nothing");

    // Move 10 events by a quarter of an hour and drop 5.
    for (_, start) in events.iter_mut().take(10) {
        *start += TimeDelta::minutes(15);
    }
    let removed: Vec<String> = events.drain(100..105).map(|(id, _)| id).collect();
    let (updates_before, deletes_before) =
        (setup.requests("UpdateItem"), setup.requests("DeleteItem"));
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            &report["created"],
            &report["updated"],
            &report["unchanged"],
            &report["deleted"]
        ),
        (&json!(0), &json!(10), &json!(485), &json!(5)),
        "{report}"
    );
    assert_eq!(
        setup.requests("UpdateItem") - updates_before,
        1,
        "10 updates in one batch"
    );
    assert_eq!(
        setup.requests("DeleteItem") - deletes_before,
        1,
        "5 deletes in one batch"
    );
    assert_eq!(setup.requests("CreateItem"), creates);
    for (id, start) in events.iter().take(10) {
        let stored = setup.ours(GRANTED, id);
        assert_eq!(stored.len(), 1, "{id}");
        assert_eq!(stored[0].start, *start, "{id} moved");
        assert_eq!(stored[0].end, *start + TimeDelta::minutes(60), "{id} moved");
    }
    for id in &removed {
        assert!(setup.ours(GRANTED, id).is_empty(), "{id} deleted");
    }
}

#[tokio::test]
async fn a_full_calendar_view_is_split_and_every_event_is_still_seen_once() {
    let sim = common::sim::start_sim(&common::sim::sample_state()).await;
    let mut settings = push::Settings::new(AccessMode::Delegate);
    settings.view_max_entries = 7;
    settings.batch_size = 13;
    let setup = PushSetup::with_settings(sim, settings);
    let events = lectures(60);
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 60);
    assert_eq!(setup.requests("CreateItem"), 60_u64.div_ceil(13));
    let views = setup.requests("FindItem");
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["unchanged"], 60, "{report}");
    assert_eq!(report["deleted"], 0, "{report}");
    assert!(
        setup.requests("FindItem") - views > 60 / 7,
        "a window with 60 items was read in views of at most 7"
    );
}

/// 20 items of the user in January 2027: some with the subject and time of ours, one with a
/// `PublicStrings` `ExternalId` property holding one of our ids, one with our property name in
/// another tool's property set.
fn own_items() -> Vec<SimItem> {
    let events = lectures(10);
    (0..20)
        .map(|index| {
            let (id, start) = &events[index % 10];
            let mut item = SimItem::new(*start, *start + TimeDelta::minutes(60));
            item.subject = Some(if index < 6 {
                format!("Lecture {id}")
            } else {
                format!("Own appointment {index}")
            });
            item.location = Some("Room 1.14".to_owned());
            item.categories = vec!["Personal".to_owned()];
            if index == 6 {
                item.extended_properties.push(SimExtendedProperty {
                    property_set: "PublicStrings".to_owned(),
                    name: push::calendar::EXTERNAL_ID_PROPERTY.to_owned(),
                    property_type: "String".to_owned(),
                    value: events[0].0.clone(),
                });
            }
            if index == 7 {
                item.extended_properties.push(SimExtendedProperty {
                    property_set: "C11FF724-AA03-4555-9952-8FA248A11C3E".to_owned(),
                    name: push::calendar::EXTERNAL_ID_PROPERTY.to_owned(),
                    property_type: "String".to_owned(),
                    value: events[1].0.clone(),
                });
            }
            item
        })
        .collect()
}

#[tokio::test]
async fn the_users_own_20_items_are_untouched_by_any_sequence_of_syncs_and_deletes() {
    let setup = PushSetup::with(AccessMode::Delegate, 4).await;
    let own: Vec<SimItem> = own_items()
        .into_iter()
        .map(|item| setup.sim.insert_item(GRANTED, item).unwrap())
        .collect();
    let own_ids: Vec<String> = own.iter().map(|item| item.item_id.clone()).collect();
    let snapshot = |setup: &PushSetup| -> Vec<SimItem> {
        setup
            .items(GRANTED)
            .into_iter()
            .filter(|item| own_ids.contains(&item.item_id))
            .collect()
    };
    let mut before = own.clone();
    before.sort_by(|a, b| a.item_id.cmp(&b.item_id));
    assert_eq!(snapshot(&setup), before);

    let events = lectures(10);
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["created"], 10,
        "the user's look-alikes are not ours: {report}"
    );
    assert_eq!(snapshot(&setup), before, "after the first sync");

    let mut moved = events.clone();
    moved[0].1 += TimeDelta::hours(1);
    let (status, report) = setup
        .sync(GRANTED, january(), &sync_list(&moved[..7]))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (&report["updated"], &report["deleted"]),
        (&json!(1), &json!(3)),
        "{report}"
    );
    assert_eq!(
        snapshot(&setup),
        before,
        "after a sync with moves and removals"
    );

    let (status, _) = setup
        .put_event(GRANTED, &events[1].0, &lecture("Changed", events[1].1, 30))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = setup.delete_event(GRANTED, &events[0].0).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = setup.delete_event(GRANTED, &events[9].0).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(snapshot(&setup), before, "after single upserts and deletes");

    let (status, report) = setup.sync(GRANTED, january(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["deleted"], 6, "{report}");
    assert_eq!(snapshot(&setup), before, "after emptying our events");
    let left: Vec<SimItem> = setup
        .items(GRANTED)
        .into_iter()
        .filter(|item| our_id(item).is_some())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        setup.items(GRANTED).len(),
        2 + 20,
        "the sample's 2 and the 20 remain"
    );
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_after_it_was_stored_is_not_made_twice() {
    let setup = PushSetup::start().await;
    setup.sim.push_fault(ScriptedFault {
        operation: Some("CreateItem".to_owned()),
        ..ScriptedFault::once(FaultKind::ResetAfterProcessing)
    });
    let body = lecture("Linear Algebra", utc("2026-12-01T08:00:00Z"), 105);
    let (status, answer) = setup.put_event(GRANTED, "mytt-lost", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["result"], "created");
    assert_eq!(setup.sim.stats().faults_applied, 1, "the answer was lost");
    assert_eq!(
        setup.ours(GRANTED, "mytt-lost").len(),
        1,
        "exactly one item"
    );
    assert_eq!(
        setup.requests("CreateItem"),
        1,
        "not sent again: the lookup found it"
    );

    // The same in a sync batch: the batch's answer is lost, the window is read, nothing resent.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("CreateItem".to_owned()),
        ..ScriptedFault::once(FaultKind::ResetAfterProcessing)
    });
    let events = lectures(30);
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 30, "{report}");
    for (id, _) in &events {
        assert_eq!(setup.ours(GRANTED, id).len(), 1, "{id}");
    }
    assert_eq!(setup.requests("CreateItem"), 2);

    // A reset in the middle of the answer: the lookup decides again.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("CreateItem".to_owned()),
        ..ScriptedFault::once(FaultKind::Reset)
    });
    let (status, answer) = setup.put_event(GRANTED, "mytt-reset", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(setup.ours(GRANTED, "mytt-reset").len(), 1);
}

#[tokio::test]
async fn times_across_the_dst_change_and_all_day_events_keep_their_instants_and_windows_zone() {
    let setup = PushSetup::start().await;
    // Europe/Amsterdam leaves CET for CEST at 2027-03-28 02:00 local.
    let night = json!({
        "subject": "Night lab", "timeZone": "Europe/Amsterdam",
        "start": "2027-03-27T23:00:00+01:00", "end": "2027-03-28T04:00:00+02:00"
    });
    let after = json!({
        "subject": "Monday lecture", "timeZone": "Europe/Amsterdam",
        "start": "2027-03-29T09:00:00+02:00", "end": "2027-03-29T10:45:00+02:00"
    });
    let all_day = json!({
        "subject": "Exam day", "timeZone": "Europe/Amsterdam", "isAllDay": true, "showAs": "Oof",
        "start": "2027-03-28T00:00:00+01:00", "end": "2027-03-29T00:00:00+02:00"
    });
    for (id, body) in [("night", &night), ("after", &after), ("allday", &all_day)] {
        let (status, answer) = setup.put_event(GRANTED, id, body).await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {answer}");
    }
    let stored = |id: &str| setup.ours(GRANTED, id).remove(0);

    let night = stored("night");
    assert_eq!(
        (night.start, night.end),
        (utc("2027-03-27T22:00:00Z"), utc("2027-03-28T02:00:00Z"))
    );
    assert_eq!(
        night.end - night.start,
        TimeDelta::hours(4),
        "5 wall-clock hours, 4 real ones"
    );
    let after = stored("after");
    assert_eq!(after.start, utc("2027-03-29T07:00:00Z"));
    let all_day = stored("allday");
    assert!(all_day.is_all_day);
    assert_eq!(all_day.free_busy, "OOF");
    assert_eq!(
        (all_day.start, all_day.end),
        (utc("2027-03-27T23:00:00Z"), utc("2027-03-28T22:00:00Z")),
        "midnight to midnight in Amsterdam, a 23-hour day"
    );
    for item in [&night, &after, &all_day] {
        assert_eq!(
            item.start_time_zone.as_deref(),
            Some("W. Europe Standard Time")
        );
        assert_eq!(
            item.end_time_zone.as_deref(),
            Some("W. Europe Standard Time")
        );
    }

    // The same instants with other offsets are the same content.
    let same_night = json!({
        "subject": "Night lab", "timeZone": "Europe/Amsterdam",
        "start": "2027-03-27T22:00:00Z", "end": "2027-03-28T02:00:00Z"
    });
    let (status, answer) = setup.put_event(GRANTED, "night", &same_night).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["result"], "unchanged");
}

#[tokio::test]
async fn every_request_body_of_the_push_flows_validates_against_microsofts_schema() {
    for access in [AccessMode::Delegate, AccessMode::Impersonation] {
        let mailbox = if access == AccessMode::Delegate {
            GRANTED
        } else {
            common::push::PLAIN
        };
        let setup = PushSetup::with(access, 3).await;
        let start = utc("2027-01-04T08:00:00Z");
        let mut body = lecture("Lecture", start, 60);
        assert_eq!(
            setup.put_event(mailbox, "one", &body).await.0,
            StatusCode::CREATED
        );
        assert_eq!(
            setup.put_event(mailbox, "one", &body).await.0,
            StatusCode::OK
        );
        body["subject"] = json!("Lecture <moved> & \"renamed\"");
        body["location"] = Value::Null;
        body["body"] = Value::Null;
        body["categories"] = json!([]);
        body["reminderMinutesBeforeStart"] = Value::Null;
        body["showAs"] = json!("WorkingElsewhere");
        assert_eq!(
            setup.put_event(mailbox, "one", &body).await.0,
            StatusCode::OK
        );
        let all_day = json!({
            "subject": "Exam", "timeZone": "Europe/Amsterdam", "isAllDay": true,
            "start": "2027-02-05T00:00:00+01:00", "end": "2027-02-06T00:00:00+01:00"
        });
        assert_eq!(
            setup.put_event(mailbox, "exam", &all_day).await.0,
            StatusCode::CREATED
        );
        let mut events = sync_list(&lectures(8));
        events[0]["subject"] = json!("Changed in the sync");
        let (status, report) = setup.sync(mailbox, january(), &events[..7]).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let (status, report) = setup.sync(mailbox, january(), &events[1..]).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            setup.delete_event(mailbox, "one").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            setup.delete_event(mailbox, "exam").await.0,
            StatusCode::NO_CONTENT
        );
        let (status, _) = setup
            .send(
                "GET",
                &format!(
                    "{}?start=2027-01-01T00:00:00Z&end=2027-02-01T00:00:00Z",
                    common::push::events_uri(mailbox)
                ),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);

        let captured = setup.captured();
        for operation in [
            "FindItem",
            "GetItem",
            "CreateItem",
            "UpdateItem",
            "DeleteItem",
        ] {
            assert!(
                captured.iter().any(|path| path
                    .to_string_lossy()
                    .ends_with(&format!("-{operation}.xml"))),
                "{access:?}: a {operation} body was captured"
            );
        }
        if common::schema::require_or_skip("validation") {
            common::schema::validate_all(&captured).unwrap();
        }
    }
}

#[tokio::test]
async fn one_item_that_vanishes_during_a_sync_is_reported_in_failed_and_the_others_are_applied() {
    let setup = PushSetup::start().await;
    let events = lectures(5);
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let mut changed = sync_list(&events);
    for event in &mut changed {
        event["subject"] = json!("Renamed");
    }
    // The read before the updates waits in the simulator; meanwhile the user deletes one of our
    // items.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("GetItem".to_owned()),
        ..ScriptedFault::once(FaultKind::LatencyMs { ms: 1500 })
    });
    let vanished = setup.ours(GRANTED, &events[2].0).remove(0);
    let user_delete = async {
        for _ in 0..500 {
            if setup.requests("GetItem") == 1 {
                setup.sim.remove_item(GRANTED, &vanished.item_id).unwrap();
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    };
    let ((status, report), deleted) =
        tokio::join!(setup.sync(GRANTED, january(), &changed), user_delete);
    assert!(deleted, "the user's delete happened during the sync");
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["updated"], 4, "{report}");
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["externalId"], events[2].0.as_str());
    assert_eq!(failed[0]["error"]["code"], "event_not_found");
    assert_eq!(failed[0]["error"]["ewsResponseCode"], "ErrorItemNotFound");
    for (index, (id, _)) in events.iter().enumerate() {
        let stored = setup.ours(GRANTED, id);
        if index == 2 {
            assert!(stored.is_empty());
        } else {
            assert_eq!(stored[0].subject.as_deref(), Some("Renamed"), "{id}");
        }
    }
    // The next sync puts it back.
    let (status, report) = setup.sync(GRANTED, january(), &changed).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (&report["created"], &report["unchanged"]),
        (&json!(1), &json!(4))
    );
}

#[tokio::test]
async fn an_event_moved_into_the_window_from_outside_is_updated_in_place_never_created_twice() {
    let setup = PushSetup::with(AccessMode::Delegate, 50).await;
    // Pushed for February (outside the January window), plus a stale duplicate of it.
    let february = utc("2027-02-10T09:00:00Z");
    let (status, _) = setup
        .put_event(
            GRANTED,
            "mytt:moved",
            &lecture("Moved lecture", february, 60),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let original = setup.ours(GRANTED, "mytt:moved");
    assert_eq!(original.len(), 1);
    let mut leftover = original[0].clone();
    leftover.item_id = String::new();
    leftover.start = utc("2027-03-10T09:00:00Z");
    leftover.end = utc("2027-03-10T10:00:00Z");
    setup.sim.insert_item(GRANTED, leftover).unwrap();
    assert_eq!(setup.ours(GRANTED, "mytt:moved").len(), 2);

    // MyTimetable moved it into January and syncs January only.
    let january_start = utc("2027-01-20T09:00:00Z");
    let finds_before = setup.requests("FindItem");
    let creates_before = setup.requests("CreateItem");
    let (status, report) = setup
        .sync(
            GRANTED,
            january(),
            &[
                listed("mytt:moved", lecture("Moved lecture", january_start, 60)),
                listed(
                    "mytt:new",
                    lecture("New lecture", utc("2027-01-21T09:00:00Z"), 60),
                ),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["updated"], 1, "{report}");
    assert_eq!(report["deleted"], 1, "the stale duplicate: {report}");
    assert_eq!(report["failed"], json!([]));
    assert_eq!(setup.requests("CreateItem") - creates_before, 1);
    assert_eq!(
        setup.requests("FindItem") - finds_before,
        2,
        "the window's view and one lookup of the missing ids"
    );

    let moved = setup.ours(GRANTED, "mytt:moved");
    assert_eq!(moved.len(), 1, "exactly one item for the moved event");
    assert_eq!(
        moved[0].item_id, original[0].item_id,
        "the same item, moved"
    );
    assert_eq!(moved[0].start, january_start);
    assert_eq!(setup.ours(GRANTED, "mytt:new").len(), 1);

    // Synced again: nothing to do.
    let writes = setup.writes();
    let (_, report) = setup
        .sync(
            GRANTED,
            january(),
            &[
                listed("mytt:moved", lecture("Moved lecture", january_start, 60)),
                listed(
                    "mytt:new",
                    lecture("New lecture", utc("2027-01-21T09:00:00Z"), 60),
                ),
            ],
        )
        .await;
    assert_eq!(report["unchanged"], 2, "{report}");
    assert_eq!(setup.writes(), writes);
}

#[tokio::test]
async fn a_busy_calendar_over_the_find_count_budget_is_listed_and_synced_in_full() {
    // EWSFindCountLimit 40, and views of up to 1000 entries: a month of 150 lectures is over
    // the budget in one view, so Exchange refuses it (ErrorExceededFindCountLimit).
    let state =
        common::sim::sample_state().replacen("[server]\n", "[server]\nfind_count_limit = 40\n", 1);
    let sim = common::sim::start_sim(&state).await;
    let setup = PushSetup::with_settings(sim, push::Settings::new(AccessMode::Delegate));
    let events = lectures(150);
    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 150, "{report}");
    assert_eq!(report["failed"], json!([]), "{report}");
    let views = setup.requests("FindItem");

    let (status, report) = setup.sync(GRANTED, january(), &sync_list(&events)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (&report["unchanged"], &report["created"], &report["deleted"]),
        (&json!(150), &json!(0), &json!(0)),
        "every item was seen: none created twice, none deleted as missing: {report}"
    );
    assert!(
        setup.requests("FindItem") - views > 150 / 40,
        "the window was split into views within the budget"
    );

    let (status, listing) = setup
        .send(
            "GET",
            &format!(
                "{}?{}",
                common::push::events_uri(GRANTED),
                common::push::window_query(january())
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listing}");
    let mut listed: Vec<String> = listing["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["externalId"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let expected: Vec<String> = events.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(listed, expected, "all 150 listed, each once");
    for (id, _) in events.iter().step_by(25) {
        assert_eq!(setup.ours(GRANTED, id).len(), 1, "{id}");
    }
}

#[tokio::test]
async fn pushes_across_connections_the_server_closed_when_idle_are_each_made_once() {
    // IIS closes keep-alive connections idle for its connectionTimeout (120 s by default; 300 ms
    // here): each push after a pause finds its pooled connection closed and opens another.
    let state =
        common::sim::sample_state().replacen("[server]\n", "[server]\nidle_timeout_ms = 300\n", 1);
    let sim = common::sim::start_sim(&state).await;
    let setup = PushSetup::with_settings(sim, push::Settings::new(AccessMode::Delegate));
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(700));
    let body = |start: &str| lecture("Linear Algebra", utc(start), 90);

    let (status, answer) = setup
        .put_event(GRANTED, "mytt-idle-1", &body("2026-12-01T08:00:00Z"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let opened = setup.sim.stats().connections_opened;
    pause().await;
    assert!(
        setup.sim.stats().idle_connections_closed >= 1,
        "the idle connection was closed by the server"
    );

    let (status, answer) = setup
        .put_event(GRANTED, "mytt-idle-2", &body("2026-12-02T08:00:00Z"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert!(
        setup.sim.stats().connections_opened > opened,
        "a new connection after the idle close"
    );
    pause().await;

    // The same after an idle close, with the create's answer lost after it was stored.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("CreateItem".to_owned()),
        ..ScriptedFault::once(FaultKind::ResetAfterProcessing)
    });
    let (status, answer) = setup
        .put_event(GRANTED, "mytt-idle-3", &body("2026-12-03T08:00:00Z"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(setup.sim.stats().faults_applied, 1, "the answer was lost");
    pause().await;
    // And the same event pushed once more after a pause: found, not created again.
    let (status, answer) = setup
        .put_event(GRANTED, "mytt-idle-3", &body("2026-12-03T08:00:00Z"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "unchanged", "{answer}");

    for id in ["mytt-idle-1", "mytt-idle-2", "mytt-idle-3"] {
        assert_eq!(setup.ours(GRANTED, id).len(), 1, "{id}: exactly one item");
    }
    assert_eq!(
        setup.requests("CreateItem"),
        3,
        "one CreateItem per event: none resent after a closed connection or a lost answer"
    );
    assert!(setup.sim.stats().idle_connections_closed >= 3);
}

#[tokio::test]
async fn concurrent_views_of_one_service_account_share_the_find_count_budget_and_both_list_in_full()
{
    let state =
        common::sim::sample_state().replacen("[server]\n", "[server]\nfind_count_limit = 40\n", 1);
    let sim = common::sim::start_sim(&state).await;
    let setup = PushSetup::with_settings(sim, push::Settings::new(AccessMode::Impersonation));
    let events = lectures(30);
    for mailbox in [GRANTED, PLAIN] {
        let (status, report) = setup.sync(mailbox, january(), &sync_list(&events)).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["created"], 30, "{report}");
    }
    let list = |mailbox: &'static str| {
        let setup = &setup;
        async move {
            let (status, listing) = setup
                .send(
                    "GET",
                    &format!(
                        "{}?{}",
                        common::push::events_uri(mailbox),
                        common::push::window_query(january())
                    ),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{listing}");
            listing["events"].as_array().unwrap().len()
        }
    };
    // GRANTED's view of 30 is answered slowly, holding 30 of the account's 40 while PLAIN's
    // view of 30 comes in: Exchange refuses that one, and the connector reads it in parts.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("FindItem".to_owned()),
        mailbox: Some(GRANTED.to_owned()),
        ..ScriptedFault::once(FaultKind::Slow { ms: 1500 })
    });
    let views = setup.requests("FindItem");
    let (granted, plain) = tokio::join!(list(GRANTED), async {
        while setup.sim.stats().faults_applied == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        list(PLAIN).await
    });
    assert_eq!((granted, plain), (30, 30), "both calendars listed in full");
    assert!(
        setup.requests("FindItem") - views > 2,
        "PLAIN's view was refused while GRANTED's held the budget, and read in parts"
    );
}
