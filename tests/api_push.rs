//! The Calendar push routes end to end through the HTTP API (router without a socket) →
//! `push` → `exchange` → the simulator. EWS requests are counted by the simulator, and the
//! calendar is read back from the simulator's own state.

mod common;

use axum::http::StatusCode;
use serde_json::json;

use ews_connector::domain::AccessMode;

use common::push::{
    GRANTED, PLAIN, PushSetup, event_uri, events_uri, lecture, listed, utc, window_query,
};

#[tokio::test]
async fn create_unchanged_updated_delete_and_delete_again_through_the_api() {
    let setup = PushSetup::start().await;
    let start = utc("2026-12-01T08:00:00Z");
    let body = lecture("Linear Algebra - Lecture", start, 105);

    let (status, answer) = setup.put_event(GRANTED, "mytt-42", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["externalId"], "mytt-42");
    assert_eq!(answer["result"], "created");
    assert_eq!(setup.requests("CreateItem"), 1);
    let stored = setup.ours(GRANTED, "mytt-42");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].subject.as_deref(),
        Some("Linear Algebra - Lecture")
    );
    assert_eq!(stored[0].location.as_deref(), Some("Room 1.14"));

    // The same again: nothing is written.
    let writes = setup.writes();
    let (status, answer) = setup.put_event(GRANTED, "mytt-42", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "unchanged");
    assert_eq!(setup.writes(), writes, "an unchanged event writes nothing");

    // A changed subject: one UpdateItem, and only the subject (and our hash) change.
    let before = setup.ours(GRANTED, "mytt-42").remove(0);
    let mut changed = body.clone();
    changed["subject"] = json!("Linear Algebra - Lecture (room change)");
    let (status, answer) = setup.put_event(GRANTED, "mytt-42", &changed).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "updated");
    assert_eq!(setup.requests("UpdateItem"), 1);
    assert_eq!(setup.requests("CreateItem"), 1);
    let after = setup.ours(GRANTED, "mytt-42").remove(0);
    assert_eq!(after.item_id, before.item_id);
    assert_eq!(
        after.subject.as_deref(),
        Some("Linear Algebra - Lecture (room change)")
    );
    assert_eq!(
        (
            after.start,
            after.end,
            &after.location,
            &after.body,
            &after.categories
        ),
        (
            before.start,
            before.end,
            &before.location,
            &before.body,
            &before.categories
        )
    );

    let (status, _) = setup.delete_event(GRANTED, "mytt-42").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(setup.ours(GRANTED, "mytt-42").is_empty());
    assert_eq!(setup.requests("DeleteItem"), 1);

    let (status, problem) = setup.delete_event(GRANTED, "mytt-42").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["code"], "event_not_found");
    assert_eq!(problem["mailbox"], GRANTED);
    assert_eq!(
        setup.requests("DeleteItem"),
        1,
        "nothing to delete, nothing sent"
    );
}

#[tokio::test]
async fn an_unknown_time_zone_is_a_400_that_names_it_and_nothing_reaches_exchange() {
    let setup = PushSetup::start().await;
    let mut body = lecture("Lecture", utc("2026-12-01T08:00:00Z"), 60);
    body["timeZone"] = json!("Europe/Atlantis");
    let (status, problem) = setup.put_event(GRANTED, "mytt-1", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["code"], "invalid_request");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("timeZone") && detail.contains("Europe/Atlantis"),
        "{detail}"
    );
    assert_eq!(
        setup
            .sim
            .stats()
            .requests_by_operation
            .values()
            .sum::<u64>(),
        0
    );
}

#[tokio::test]
async fn invalid_bodies_name_their_field_before_exchange_is_called() {
    let setup = PushSetup::start().await;
    let good = lecture("Lecture", utc("2026-12-01T08:00:00Z"), 60);
    let cases = [
        ("subject", json!("  ")),
        ("subject", json!(42)),
        ("start", json!("tomorrow at nine")),
        ("end", json!(good["start"])),
        ("showAs", json!("Away")),
        ("reminderMinutesBeforeStart", json!(-5)),
        ("isAllDay", json!("yes")),
        ("categories", json!("MyTimetable")),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        let (status, problem) = setup.put_event(GRANTED, "mytt-1", &body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{field} = {value}: {problem}"
        );
        assert_eq!(problem["code"], "invalid_request");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("`{field}`")),
            "{field}: {problem}"
        );
    }
    // An all-day event that does not start at midnight in its zone.
    let mut all_day = good.clone();
    all_day["isAllDay"] = json!(true);
    let (status, problem) = setup.put_event(GRANTED, "mytt-1", &all_day).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap().contains("midnight"),
        "{problem}"
    );
    // An external id outside the allowed characters.
    let (status, problem) = setup.put_event(GRANTED, "a%20b", &good).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap().contains("externalId"),
        "{problem}"
    );
    // A sync list that repeats an id, and one with an event outside the window.
    let window = (utc("2026-12-01T00:00:00Z"), utc("2026-12-08T00:00:00Z"));
    let (status, problem) = setup
        .sync(
            GRANTED,
            window,
            &[listed("a", good.clone()), listed("a", good.clone())],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("events[1].externalId"),
        "{problem}"
    );
    let outside = lecture("Later", utc("2027-01-10T08:00:00Z"), 60);
    let (status, problem) = setup.sync(GRANTED, window, &[listed("b", outside)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("events[0].start"),
        "{problem}"
    );
    let (status, problem) = setup
        .send(
            "GET",
            &format!(
                "{}?start=2026-12-08T00:00:00Z&end=2026-12-01T00:00:00Z",
                events_uri(GRANTED)
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap().contains("`end`"),
        "{problem}"
    );

    assert_eq!(
        setup
            .sim
            .stats()
            .requests_by_operation
            .values()
            .sum::<u64>(),
        0,
        "nothing reached Exchange"
    );
}

#[tokio::test]
async fn a_window_parameter_given_twice_or_empty_is_400_naming_it_before_exchange_is_called() {
    let setup = PushSetup::start().await;
    let items_before = setup.items(GRANTED);
    let events = events_uri(GRANTED);
    let cases = [
        (
            "start=2026-12-01T00:00:00Z&start=2027-01-01T00:00:00Z&end=2026-12-08T00:00:00Z",
            "start",
        ),
        // Percent-encoded, the name is the same parameter.
        (
            "start=2026-12-01T00:00:00Z&%73tart=2027-01-01T00:00:00Z&end=2026-12-08T00:00:00Z",
            "start",
        ),
        ("start=2026-12-01T00:00:00Z&end=", "end"),
        ("start=2026-12-01T00:00:00Z&end", "end"),
        (
            "start=2026-12-01T00:00:00Z&end=2026-12-08T00:00:00Z&end=2026-12-02T00:00:00Z",
            "end",
        ),
        ("start=&end=2026-12-08T00:00:00Z", "start"),
    ];
    let sync_body = json!({ "events": [] });
    for (query, parameter) in cases {
        for (method, body) in [("GET", None), ("PUT", Some(&sync_body))] {
            let (status, problem) = setup.send(method, &format!("{events}?{query}"), body).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{method} {query}: {problem}"
            );
            assert_eq!(problem["code"], "invalid_request", "{method} {query}");
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("`{parameter}`")),
                "{method} {query}: {problem}"
            );
        }
    }
    assert_eq!(
        setup
            .sim
            .stats()
            .requests_by_operation
            .values()
            .sum::<u64>(),
        0,
        "nothing reached Exchange"
    );
    // An empty sync would have deleted our events in whichever window it took.
    assert_eq!(setup.items(GRANTED), items_before);
    // The window given once is served; parameters the route does not read stay ignored.
    let (status, listed_events) = setup
        .send(
            "GET",
            &format!(
                "{events}?start=2026-12-01T00:00:00Z&end=2026-12-08T00:00:00Z&other=1&other=2"
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed_events}");
}

#[tokio::test]
async fn impersonation_writes_as_the_owner_and_delegate_access_names_the_mailbox() {
    for (access, mailbox) in [
        (AccessMode::Impersonation, PLAIN),
        (AccessMode::Delegate, GRANTED),
    ] {
        let setup = PushSetup::with(access, 50).await;
        let body = lecture("Seminar", utc("2026-12-02T12:00:00Z"), 90);
        let (status, answer) = setup.put_event(mailbox, "mytt-7", &body).await;
        assert_eq!(status, StatusCode::CREATED, "{access:?}: {answer}");
        assert_eq!(setup.ours(mailbox, "mytt-7").len(), 1, "{access:?}");
        let (status, _) = setup.delete_event(mailbox, "mytt-7").await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{access:?}");
        assert!(setup.ours(mailbox, "mytt-7").is_empty(), "{access:?}");
        // The bodies say how the calendar was reached.
        let bodies: Vec<String> = setup
            .captured()
            .iter()
            .map(|path| std::fs::read_to_string(path).unwrap())
            .collect();
        let impersonated = bodies
            .iter()
            .all(|body| body.contains("ExchangeImpersonation"));
        let named = bodies
            .iter()
            .filter(|body| body.contains("CreateItem") || body.contains("FindItem"))
            .all(|body| body.contains(&format!("<t:EmailAddress>{mailbox}</t:EmailAddress>")));
        if access == AccessMode::Impersonation {
            assert!(impersonated, "{bodies:?}");
        } else {
            assert!(named && !impersonated, "{bodies:?}");
        }
    }
}

#[tokio::test]
async fn a_mailbox_the_account_may_not_write_gets_a_problem_and_nothing_is_stored() {
    // Delegate access to a calendar that granted nothing.
    let setup = PushSetup::with(AccessMode::Delegate, 50).await;
    let body = lecture("Seminar", utc("2026-12-02T12:00:00Z"), 90);
    let (status, problem) = setup.put_event(PLAIN, "mytt-7", &body).await;
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status}: {problem}"
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "access_denied");
    assert_eq!(problem["ewsResponseCode"], "ErrorAccessDenied");
    assert_eq!(problem["mailbox"], PLAIN);
    assert!(setup.ours(PLAIN, "mytt-7").is_empty());
}

#[tokio::test]
async fn list_shows_only_our_events_and_metrics_count_pushes_by_result() {
    let setup = PushSetup::start().await;
    let window = (utc("2026-12-01T00:00:00Z"), utc("2026-12-08T00:00:00Z"));
    let events = vec![
        listed("mytt-1", lecture("One", utc("2026-12-01T08:00:00Z"), 60)),
        listed("mytt-2", lecture("Two", utc("2026-12-02T08:00:00Z"), 60)),
    ];
    let (status, report) = setup.sync(GRANTED, window, &events).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 2);
    let (status, _) = setup
        .put_event(
            GRANTED,
            "mytt-1",
            &lecture("One", utc("2026-12-01T08:00:00Z"), 60),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The sample's own items of this mailbox lie in 2025: widen the window over both.
    let wide = (utc("2025-01-01T00:00:00Z"), utc("2026-12-31T00:00:00Z"));
    let (status, listing) = setup
        .send(
            "GET",
            &format!("{}?{}", events_uri(GRANTED), window_query(wide)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listing}");
    let ids: Vec<&str> = listing["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["externalId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mytt-1", "mytt-2"], "{listing}");
    assert_eq!(listing["events"][0]["subject"], "One");
    assert_eq!(listing["events"][0]["start"], "2026-12-01T08:00:00Z");
    assert_eq!(listing["events"][0]["showAs"], "Busy");

    let (status, _) = setup.delete_event(GRANTED, "mytt-2").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let response = common::api::oneshot(
        &setup.state,
        axum::http::Request::get("/metrics")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    for (result, count) in [("created", 2), ("unchanged", 1), ("deleted", 1)] {
        let line =
            format!("ews_connector_pushes_total{{backend=\"ews\",result=\"{result}\"}} {count}");
        assert!(text.contains(&line), "{line} in:\n{text}");
    }
}

#[tokio::test]
async fn an_event_uri_with_a_path_mailbox_outside_the_allowed_domains_is_refused() {
    let mut settings = common::api::settings();
    settings.allowed_domains = vec!["fabrikam.example".to_owned()];
    let state = common::api::offline_state(settings);
    let response = common::api::oneshot(
        &state,
        axum::http::Request::delete(event_uri(GRANTED, "mytt-1"))
            .header(
                "authorization",
                format!("Bearer {}", common::api::BOTH_TOKEN),
            )
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let problem = common::api::json(response).await;
    assert_eq!(problem["code"], "mailbox_not_allowed");
}

#[tokio::test]
async fn duplicates_of_our_event_are_cleaned_up_by_the_next_upsert() {
    let setup = PushSetup::start().await;
    let body = lecture("Lecture", utc("2026-12-03T08:00:00Z"), 60);
    let (status, _) = setup.put_event(GRANTED, "mytt-dup", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    // A second copy of our item, as an earlier lost answer (or a restore) could leave behind.
    let mut copy = setup.ours(GRANTED, "mytt-dup").remove(0);
    copy.item_id = String::new();
    let copy = setup.sim.insert_item(GRANTED, copy).unwrap();
    assert_eq!(setup.ours(GRANTED, "mytt-dup").len(), 2);

    let (status, answer) = setup.put_event(GRANTED, "mytt-dup", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "unchanged");
    let left = setup.ours(GRANTED, "mytt-dup");
    assert_eq!(left.len(), 1, "the duplicate is deleted");
    assert_ne!(left[0].item_id, copy.item_id, "the first one is kept");
}

#[tokio::test]
async fn a_stale_change_key_from_a_concurrent_user_edit_is_read_again_and_retried() {
    use ews_connector::sim::{FaultKind, ScriptedFault};

    let setup = PushSetup::start().await;
    let body = lecture("Lecture", utc("2026-12-04T08:00:00Z"), 60);
    let (status, _) = setup.put_event(GRANTED, "mytt-race", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    // The UpdateItem waits in the simulator; meanwhile the user edits the item in Outlook,
    // which gives it a new ChangeKey.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("UpdateItem".to_owned()),
        ..ScriptedFault::once(FaultKind::LatencyMs { ms: 1500 })
    });
    let mut changed = body.clone();
    changed["subject"] = json!("Lecture (moved)");
    let user_edit = async {
        for _ in 0..500 {
            if setup.requests("UpdateItem") == 1 {
                let mut item = setup.ours(GRANTED, "mytt-race").remove(0);
                item.location = Some("Moved by the user".to_owned());
                setup.sim.insert_item(GRANTED, item).unwrap();
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    };
    let ((status, answer), edited) =
        tokio::join!(setup.put_event(GRANTED, "mytt-race", &changed), user_edit);
    assert!(edited, "the user's edit happened while the update waited");
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "updated");
    assert_eq!(
        setup.requests("UpdateItem"),
        2,
        "the stale write and its retry"
    );
    let item = setup.ours(GRANTED, "mytt-race").remove(0);
    assert_eq!(item.subject.as_deref(), Some("Lecture (moved)"));
    // The event owns its location: the retry, computed from the fresh read, writes it back.
    assert_eq!(item.location.as_deref(), Some("Room 1.14"));
}
