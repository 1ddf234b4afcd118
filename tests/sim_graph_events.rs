//! The Graph simulator's events, over plain HTTP/1.1: create, get, patch and delete with
//! `If-Match`, zones and the all-day rule, `$filter` and `$expand` on our extended property,
//! `calendarView` paging, events inside `$batch`, the user's own items left as they were, the
//! lost answer on create, and a mailbox moved from the EWS simulator with its named properties.

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::graph_http::{Reply, secret_token, send_with};
use ews_connector::sim::graph::{
    GraphDateTime, GraphEvent, GraphExtendedProperty, GraphFault, GraphFaultKind, GraphMailbox,
    GraphSimConfig, GraphSimHandle, RouteKind, start,
};
use ews_connector::sim::{ItemBody, SimExtendedProperty, SimItem, move_mailbox};
use serde_json::{Value, json};

const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";
const ANA: &str = "ana@uni.example";
const BOARD: &str = "board@uni.example";
const OURS: &str = "String {9448D9B9-3E57-4FB4-9449-F4A30737A76A} Name ExternalId";
const HASH: &str = "String {9448D9B9-3E57-4FB4-9449-F4A30737A76A} Name ContentHash";
const OTHER_TOOL: &str = "String {11111111-2222-3333-4444-555555555555} Name ExternalId";

fn config() -> GraphSimConfig {
    let mut board = GraphMailbox::new(BOARD);
    board.in_scope = false;
    GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        secrets: vec![SECRET.to_owned()],
        mailboxes: vec![GraphMailbox::new(ANA), board],
        ..GraphSimConfig::default()
    }
}

/// One request on its own connection; `None` when the server closed it without an answer.
async fn send(
    sim: &GraphSimHandle,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Option<Reply> {
    send_with(sim, method, path, Some(token), headers, body).await
}

async fn call(
    sim: &GraphSimHandle,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Reply {
    send(sim, method, path, token, &[], body)
        .await
        .expect("an answer")
}

async fn get_token(sim: &GraphSimHandle) -> String {
    secret_token(sim, TENANT, CLIENT, SECRET).await
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn events(user: &str) -> String {
    format!("/v1.0/users/{user}/calendar/events")
}

fn event(user: &str, id: &str) -> String {
    format!("/v1.0/users/{user}/calendar/events/{id}")
}

fn lecture(external_id: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": format!("Lecture {external_id}"),
        "body": {"contentType": "text", "content": "Room change:\nsee \"the board\""},
        "start": {"dateTime": start, "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": end, "timeZone": "W. Europe Standard Time"},
        "location": {"displayName": "Aula 1"},
        "categories": ["MyTimetable"],
        "showAs": "busy",
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 10,
        "singleValueExtendedProperties": [
            {"id": OURS, "value": external_id},
            {"id": HASH, "value": format!("hash-{external_id}")}
        ]
    })
}

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
}

/// Filters events on our `ExternalId` being one of `values`, as an `or` of `Any` clauses.
fn filter_ours(values: &[&str]) -> String {
    let clauses: Vec<String> = values
        .iter()
        .map(|v| {
            format!(
                "singleValueExtendedProperties/Any(ep: ep/id eq '{OURS}' and ep/value eq '{}')",
                v.replace('\'', "''")
            )
        })
        .collect();
    encode(&clauses.join(" or "))
}

fn expand_ours() -> String {
    encode(&format!(
        "singleValueExtendedProperties($filter=id eq '{OURS}' or id eq '{HASH}')"
    ))
}

#[tokio::test]
async fn events_are_created_read_patched_and_deleted_with_their_change_keys() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let body = lecture("L-1", "2025-03-04T09:00:00", "2025-03-04T10:45:00");
    let created = call(&sim, "POST", &events(ANA), &token, Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let json = created.json();
    let id = json["id"].as_str().unwrap().to_owned();
    let change_key = json["changeKey"].as_str().unwrap().to_owned();
    assert_eq!(json["@odata.etag"], json!(format!("W/\"{change_key}\"")));
    assert!(!id.contains('/') && !id.contains('+'), "URL-safe ids: {id}");
    assert_eq!(json["subject"], json!("Lecture L-1"));
    // Times come back in UTC unless a zone is preferred; 09:00 in Amsterdam in March is 08:00Z.
    assert_eq!(
        json["start"],
        json!({"dateTime": "2025-03-04T08:00:00.0000000", "timeZone": "UTC"})
    );
    assert_eq!(
        json["originalStartTimeZone"],
        json!("W. Europe Standard Time")
    );
    assert_eq!(json["location"]["displayName"], json!("Aula 1"));
    assert_eq!(json["categories"], json!(["MyTimetable"]));
    assert_eq!(json["reminderMinutesBeforeStart"], json!(10));
    assert_eq!(
        json["body"]["contentType"],
        json!("html"),
        "HTML unless text is preferred"
    );
    assert!(
        json.get("singleValueExtendedProperties").is_none(),
        "only when expanded"
    );

    // Read back by both paths, in the event's own zone, the body as text, our properties.
    let path = format!("/v1.0/users/{ANA}/events/{id}?$expand={}", expand_ours());
    let read = send(
        &sim,
        "GET",
        &path,
        &token,
        &[(
            "Prefer",
            "outlook.timezone=\"W. Europe Standard Time\", outlook.body-content-type=\"text\"",
        )],
        None,
    )
    .await
    .unwrap();
    assert_eq!(read.status, 200, "{}", read.body);
    let json = read.json();
    assert_eq!(
        json["start"],
        json!({"dateTime": "2025-03-04T09:00:00.0000000", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(
        json["body"]["content"],
        json!("Room change:\nsee \"the board\""),
        "a text body read as text is what was written"
    );
    assert_eq!(
        json["singleValueExtendedProperties"],
        json!([
            {"id": "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ExternalId", "value": "L-1"},
            {"id": "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ContentHash", "value": "hash-L-1"}
        ])
    );
    assert!(
        read.header("preference-applied")
            .unwrap()
            .contains("outlook.timezone")
    );
    let selected = call(
        &sim,
        "GET",
        &format!("{}?$select=subject", event(ANA, &id)),
        &token,
        None,
    )
    .await
    .json();
    let mut keys: Vec<&String> = selected.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["@odata.context", "@odata.etag", "id", "subject"]);

    // PATCH with a stale etag: 412, nothing changed; with the current one: 200, a new key.
    let patch = json!({"subject": "Lecture L-1 (moved)"});
    let stale = send(
        &sim,
        "PATCH",
        &event(ANA, &id),
        &token,
        &[("If-Match", "W/\"AAAAstale==\"")],
        Some(&patch),
    )
    .await
    .unwrap();
    assert_eq!(stale.status, 412);
    assert_eq!(stale.code(), "ErrorIrresolvableConflict");
    let etag = format!("W/\"{change_key}\"");
    let patched = send(
        &sim,
        "PATCH",
        &event(ANA, &id),
        &token,
        &[("If-Match", etag.as_str())],
        Some(&patch),
    )
    .await
    .unwrap();
    assert_eq!(patched.status, 200, "{}", patched.body);
    let new_key = patched.json()["changeKey"].as_str().unwrap().to_owned();
    assert_ne!(new_key, change_key);
    assert_eq!(patched.json()["subject"], json!("Lecture L-1 (moved)"));
    assert_eq!(
        patched.json()["location"]["displayName"],
        json!("Aula 1"),
        "untouched"
    );
    // The old etag is stale now, for a DELETE too.
    let stale_delete = send(
        &sim,
        "DELETE",
        &event(ANA, &id),
        &token,
        &[("If-Match", etag.as_str())],
        None,
    )
    .await
    .unwrap();
    assert_eq!(stale_delete.status, 412);
    let stats = sim.mailbox_stats(ANA);
    assert_eq!(
        (
            stats.event_creates,
            stats.event_patches,
            stats.event_deletes
        ),
        (1, 1, 0)
    );
    assert_eq!(sim.patched_fields(ANA), vec![vec!["subject".to_owned()]]);

    let deleted = call(
        &sim,
        "DELETE",
        &format!("/v1.0/users/{ANA}/events/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    for method in ["GET", "PATCH", "DELETE"] {
        let gone = call(
            &sim,
            method,
            &event(ANA, &id),
            &token,
            Some(&patch).filter(|_| method == "PATCH"),
        )
        .await;
        assert_eq!(gone.status, 404, "{method}");
        assert_eq!(gone.code(), "ErrorItemNotFound");
    }
    assert_eq!(sim.mailbox_stats(ANA).event_deletes, 1);
    assert_eq!(sim.route_requests(RouteKind::CreateEvent), 1);
    assert_eq!(sim.route_requests(RouteKind::UpdateEvent), 3);
    // Outside the RBAC scope: refused like every other route.
    let outside = call(&sim, "POST", &events(BOARD), &token, Some(&body)).await;
    assert_eq!(outside.code(), "ErrorAccessDenied");
    sim.shutdown().await;
}

#[tokio::test]
async fn zones_are_windows_or_iana_names_and_all_day_runs_midnight_to_midnight() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let timed = |zone: &str| {
        json!({
            "subject": "x",
            "start": {"dateTime": "2025-07-01T09:00:00", "timeZone": zone},
            "end": {"dateTime": "2025-07-01T10:00:00", "timeZone": zone}
        })
    };
    for zone in [
        "W. Europe Standard Time",
        "Europe/Amsterdam",
        "UTC",
        "Pacific Standard Time",
    ] {
        let reply = call(&sim, "POST", &events(ANA), &token, Some(&timed(zone))).await;
        assert_eq!(reply.status, 201, "{zone}: {}", reply.body);
    }
    let amsterdam = call(
        &sim,
        "POST",
        &events(ANA),
        &token,
        Some(&timed("Europe/Amsterdam")),
    )
    .await;
    assert_eq!(
        amsterdam.json()["start"]["dateTime"],
        json!("2025-07-01T07:00:00.0000000"),
        "summer time"
    );
    for zone in ["Central European Time", "Mars/Olympus", ""] {
        let reply = call(&sim, "POST", &events(ANA), &token, Some(&timed(zone))).await;
        assert_eq!(reply.status, 400, "{zone}");
        assert_eq!(reply.code(), "TimeZoneNotSupportedException");
    }
    let all_day = |start: &str, end: &str, end_zone: &str| {
        json!({
            "subject": "Exam week",
            "isAllDay": true,
            "start": {"dateTime": start, "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": end, "timeZone": end_zone}
        })
    };
    let good = call(
        &sim,
        "POST",
        &events(ANA),
        &token,
        Some(&all_day(
            "2025-03-10T00:00:00",
            "2025-03-12T00:00:00",
            "W. Europe Standard Time",
        )),
    )
    .await;
    assert_eq!(good.status, 201, "{}", good.body);
    // Shown midnight to midnight whatever the zone asked for.
    let id = good.json()["id"].as_str().unwrap().to_owned();
    let shown = send(
        &sim,
        "GET",
        &event(ANA, &id),
        &token,
        &[("Prefer", "outlook.timezone=\"Tokyo Standard Time\"")],
        None,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(
        shown["start"],
        json!({"dateTime": "2025-03-10T00:00:00.0000000", "timeZone": "Tokyo Standard Time"})
    );
    for (start, end, end_zone) in [
        (
            "2025-03-10T08:00:00",
            "2025-03-11T00:00:00",
            "W. Europe Standard Time",
        ),
        (
            "2025-03-10T00:00:00",
            "2025-03-11T17:00:00",
            "W. Europe Standard Time",
        ),
        (
            "2025-03-10T00:00:00",
            "2025-03-11T00:00:00",
            "Pacific Standard Time",
        ),
        (
            "2025-03-10T00:00:00",
            "2025-03-10T00:00:00",
            "W. Europe Standard Time",
        ),
    ] {
        let reply = call(
            &sim,
            "POST",
            &events(ANA),
            &token,
            Some(&all_day(start, end, end_zone)),
        )
        .await;
        assert_eq!(reply.status, 400, "{start} {end} {end_zone}");
        assert_eq!(reply.code(), "ErrorInvalidRequest");
    }
    // A PATCH that makes a timed event all-day without moving it to midnight is refused too.
    let timed_id = amsterdam.json()["id"].as_str().unwrap().to_owned();
    let refused = call(
        &sim,
        "PATCH",
        &event(ANA, &timed_id),
        &token,
        Some(&json!({"isAllDay": true})),
    )
    .await;
    assert_eq!(refused.code(), "ErrorInvalidRequest");
    let backwards = json!({
        "start": {"dateTime": "2025-07-01T11:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2025-07-01T10:00:00", "timeZone": "UTC"}
    });
    let reply = call(&sim, "POST", &events(ANA), &token, Some(&backwards)).await;
    assert_eq!(reply.code(), "ErrorCalendarEndDateIsEarlierThanStartDate");
    let unknown = call(
        &sim,
        "POST",
        &events(ANA),
        &token,
        Some(&json!({"subject": "x", "colour": "red"})),
    )
    .await;
    assert_eq!(unknown.code(), "RequestBodyRead");
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 6);
    sim.shutdown().await;
}

#[tokio::test]
async fn events_are_found_by_our_property_in_the_forms_graph_accepts() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    for n in 1..=5 {
        let body = lecture(
            &format!("L-{n}"),
            "2025-03-04T09:00:00",
            "2025-03-04T10:00:00",
        );
        assert_eq!(
            call(&sim, "POST", &events(ANA), &token, Some(&body))
                .await
                .status,
            201
        );
    }
    // The user's own event, and another tool's event with our property name in its own set.
    let own = GraphEvent::new(
        "Lecture L-1",
        GraphDateTime::new(local("2025-03-04T09:00:00"), "W. Europe Standard Time"),
        GraphDateTime::new(local("2025-03-04T10:00:00"), "W. Europe Standard Time"),
    );
    sim.insert_event(ANA, own).unwrap();
    let mut other = GraphEvent::new(
        "Other tool",
        GraphDateTime::new(local("2025-03-04T09:00:00"), "UTC"),
        GraphDateTime::new(local("2025-03-04T10:00:00"), "UTC"),
    );
    other.extended_properties.push(GraphExtendedProperty {
        id: OTHER_TOOL.to_owned(),
        value: "L-2".to_owned(),
    });
    sim.insert_event(ANA, other).unwrap();

    let found = |reply: Reply| -> Vec<String> {
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mut ids: Vec<String> = reply.json()["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["subject"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let one = call(
        &sim,
        "GET",
        &format!("{}?$filter={}", events(ANA), filter_ours(&["L-2"])),
        &token,
        None,
    )
    .await;
    assert_eq!(found(one), ["Lecture L-2"]);
    // Values match case-insensitively; several with `or` of Any clauses, or inside one Any.
    let many = call(
        &sim,
        "GET",
        &format!(
            "{}?$filter={}&$expand={}",
            events(ANA),
            filter_ours(&["l-1", "L-3", "L-404"]),
            expand_ours()
        ),
        &token,
        None,
    )
    .await;
    let json = many.json();
    assert_eq!(found(many), ["Lecture L-1", "Lecture L-3"]);
    assert_eq!(
        json["value"][0]["singleValueExtendedProperties"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let inner_or = encode(&format!(
        "singleValueExtendedProperties/any(ep: ep/id eq '{OURS}' and (ep/value eq 'L-4' or ep/value eq 'L-5'))"
    ));
    let reply = call(
        &sim,
        "GET",
        &format!("/v1.0/users/{ANA}/events?$filter={inner_or}"),
        &token,
        None,
    )
    .await;
    assert_eq!(found(reply), ["Lecture L-4", "Lecture L-5"]);
    // The name in the id is case-sensitive: another spelling is another property.
    let wrong_case = encode(&format!(
        "singleValueExtendedProperties/Any(ep: ep/id eq '{}' and ep/value eq 'L-1')",
        OURS.replace("ExternalId", "externalid")
    ));
    let reply = call(
        &sim,
        "GET",
        &format!("{}?$filter={wrong_case}", events(ANA)),
        &token,
        None,
    )
    .await;
    assert!(found(reply).is_empty());
    for refused in [
        "singleValueExtendedProperties/Any(ep: ep/value eq 'L-1')".to_owned(),
        "subject eq 'Lecture L-1'".to_owned(),
        format!("singleValueExtendedProperties/Any(ep: ep/id eq '{OURS}' and ep/value eq 'L-1'"),
    ] {
        let reply = call(
            &sim,
            "GET",
            &format!("{}?$filter={}", events(ANA), encode(&refused)),
            &token,
            None,
        )
        .await;
        assert_eq!(reply.status, 400, "{refused}");
        assert_eq!(reply.code(), "ErrorInvalidUrlQueryFilter", "{refused}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn calendar_view_pages_with_next_links() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let day = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
    for n in 0..25u32 {
        let start = day.and_hms_opt(8, 0, 0).unwrap() + chrono::Duration::hours(i64::from(n));
        let end = start + chrono::Duration::minutes(45);
        let body = lecture(
            &format!("V-{n:02}"),
            &start.format("%Y-%m-%dT%H:%M:%S").to_string(),
            &end.format("%Y-%m-%dT%H:%M:%S").to_string(),
        );
        assert_eq!(
            call(&sim, "POST", &events(ANA), &token, Some(&body))
                .await
                .status,
            201
        );
    }
    // One outside the window.
    let late = lecture("V-late", "2025-04-01T09:00:00", "2025-04-01T10:00:00");
    assert_eq!(
        call(&sim, "POST", &events(ANA), &token, Some(&late))
            .await
            .status,
        201
    );
    let window = "startDateTime=2025-03-03T00:00:00Z&endDateTime=2025-03-10T00:00:00Z";
    let walk = |first: String, headers: Vec<(&'static str, &'static str)>| {
        let sim = &sim;
        let token = &token;
        async move {
            let mut pages = Vec::new();
            let mut subjects = Vec::new();
            let mut next = Some(first);
            while let Some(path) = next.take() {
                let reply = send(sim, "GET", &path, token, &headers, None)
                    .await
                    .unwrap();
                assert_eq!(reply.status, 200, "{}", reply.body);
                let json = reply.json();
                let value = json["value"].as_array().unwrap();
                pages.push(value.len());
                subjects.extend(
                    value
                        .iter()
                        .map(|e| e["subject"].as_str().unwrap().to_owned()),
                );
                next = json["@odata.nextLink"]
                    .as_str()
                    .map(|link| link.strip_prefix(&sim.base_url()).unwrap().to_owned());
            }
            (pages, subjects)
        }
    };
    let (pages, subjects) = walk(
        format!("/v1.0/users/{ANA}/calendar/calendarView?{window}"),
        Vec::new(),
    )
    .await;
    assert_eq!(pages, [10, 10, 5], "Graph's default page of 10");
    let expected: Vec<String> = (0..25).map(|n| format!("Lecture V-{n:02}")).collect();
    assert_eq!(subjects, expected, "in start order, each once");
    let (pages, _) = walk(
        format!("/v1.0/users/{ANA}/calendarView?{window}&$top=20"),
        Vec::new(),
    )
    .await;
    assert_eq!(pages, [20, 5]);
    let (pages, _) = walk(
        format!("/v1.0/users/{ANA}/calendar/calendarView?{window}"),
        vec![("Prefer", "odata.maxpagesize=7")],
    )
    .await;
    assert_eq!(pages, [7, 7, 7, 4]);
    // Overlap counts: an event running into the window is in it.
    let overlap = call(
        &sim,
        "GET",
        &format!("/v1.0/users/{ANA}/calendar/calendarView?startDateTime=2025-03-03T07:30:00Z&endDateTime=2025-03-03T07:31:00Z"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        overlap.json()["value"].as_array().unwrap().len(),
        1,
        "08:00 CET is 07:00Z"
    );
    let missing = call(
        &sim,
        "GET",
        &format!("/v1.0/users/{ANA}/calendar/calendarView"),
        &token,
        None,
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.code(), "ErrorInvalidParameter");
    let too_many = call(
        &sim,
        "GET",
        &format!("/v1.0/users/{ANA}/calendar/calendarView?{window}&$top=1001"),
        &token,
        None,
    )
    .await;
    assert_eq!(too_many.status, 400);
    assert_eq!(sim.route_requests(RouteKind::CalendarView), 12);
    sim.shutdown().await;
}

#[tokio::test]
async fn events_inside_a_batch_are_served_as_if_sent_alone() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let parts: Vec<Value> = (0..20)
        .map(|n| {
            json!({
                "id": n.to_string(),
                "method": "POST",
                "url": format!("/users/{ANA}/calendar/events"),
                "headers": {"Content-Type": "application/json"},
                "body": lecture(&format!("B-{n}"), "2025-05-05T09:00:00", "2025-05-05T10:00:00")
            })
        })
        .collect();
    let reply = call(
        &sim,
        "POST",
        "/v1.0/$batch",
        &token,
        Some(&json!({"requests": parts})),
    )
    .await;
    assert_eq!(reply.status, 200);
    let json = reply.json();
    let responses = json["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 20);
    assert!(
        responses.iter().all(|r| r["status"] == json!(201)),
        "{}",
        reply.body
    );
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 20);
    let first = &responses.iter().find(|r| r["id"] == json!("0")).unwrap()["body"];
    let (id, key) = (
        first["id"].as_str().unwrap(),
        first["changeKey"].as_str().unwrap(),
    );
    let etag = format!("W/\"{key}\"");
    let mixed = json!({"requests": [
        {"id": "a", "method": "PATCH", "url": format!("/users/{ANA}/events/{id}"),
         "headers": {"Content-Type": "application/json", "If-Match": etag},
         "body": {"subject": "renamed"}},
        {"id": "b", "method": "PATCH", "url": format!("/users/{ANA}/events/{id}"),
         "headers": {"Content-Type": "application/json", "If-Match": "W/\"stale\""},
         "body": {"subject": "never"}, "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": format!("/users/{ANA}/calendar/events?$filter={}", filter_ours(&["B-3"])),
         "headers": {"Prefer": "outlook.body-content-type=\"text\""}},
        {"id": "d", "method": "DELETE", "url": format!("/users/{ANA}/calendar/events/nope")}
    ]});
    let reply = call(&sim, "POST", "/v1.0/$batch", &token, Some(&mixed)).await;
    let json = reply.json();
    let part = |id: &str| {
        json["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == json!(id))
            .unwrap()
            .clone()
    };
    assert_eq!(part("a")["status"], json!(200));
    assert_eq!(part("b")["status"], json!(412));
    assert_eq!(
        part("b")["body"]["error"]["code"],
        json!("ErrorIrresolvableConflict")
    );
    assert_eq!(part("c")["status"], json!(200));
    assert_eq!(
        part("c")["body"]["value"][0]["subject"],
        json!("Lecture B-3")
    );
    assert_eq!(
        part("c")["body"]["value"][0]["body"]["contentType"],
        json!("text")
    );
    assert!(
        part("c")["headers"]["Preference-Applied"]
            .as_str()
            .is_some()
    );
    assert_eq!(part("d")["status"], json!(404));
    assert_eq!(sim.patched_fields(ANA), vec![vec!["subject".to_owned()]]);
    sim.shutdown().await;
}

/// The user's own events and another tool's are stored and listed like any other, and stay
/// exactly as they were while ours are created, changed and deleted around them.
#[tokio::test]
async fn the_users_own_events_are_identical_after_our_writes() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let mut users = Vec::new();
    for n in 0..20 {
        let mut own = GraphEvent::new(
            // Some with our subject and times.
            if n % 2 == 0 { "Lecture L-1" } else { "Dentist" },
            GraphDateTime::new(local("2025-03-04T09:00:00"), "W. Europe Standard Time"),
            GraphDateTime::new(local("2025-03-04T10:00:00"), "W. Europe Standard Time"),
        );
        own.categories = vec!["Personal".to_owned()];
        if n == 7 {
            own.extended_properties.push(GraphExtendedProperty {
                id: OTHER_TOOL.to_owned(),
                value: "L-1".to_owned(),
            });
        }
        users.push(sim.insert_event(ANA, own).unwrap());
    }
    let before = sim.events(ANA).unwrap();
    assert_eq!(before.len(), 20);
    let window = "startDateTime=2025-03-04T00:00:00Z&endDateTime=2025-03-05T00:00:00Z&$top=100";
    let listed = call(
        &sim,
        "GET",
        &format!("/v1.0/users/{ANA}/calendarView?{window}"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        listed.json()["value"].as_array().unwrap().len(),
        20,
        "listed like any other"
    );
    let created = call(
        &sim,
        "POST",
        &events(ANA),
        &token,
        Some(&lecture(
            "L-1",
            "2025-03-04T09:00:00",
            "2025-03-04T10:00:00",
        )),
    )
    .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let filtered = call(
        &sim,
        "GET",
        &format!("{}?$filter={}", events(ANA), filter_ours(&["L-1"])),
        &token,
        None,
    )
    .await;
    assert_eq!(
        filtered.json()["value"].as_array().unwrap().len(),
        1,
        "only ours"
    );
    call(
        &sim,
        "PATCH",
        &event(ANA, &id),
        &token,
        Some(&json!({"subject": "changed"})),
    )
    .await;
    call(&sim, "DELETE", &event(ANA, &id), &token, None).await;
    assert_eq!(
        sim.events(ANA).unwrap(),
        before,
        "every field and property as before"
    );
    assert_eq!(users.len(), 20);
    sim.shutdown().await;
}

/// The simulator stores the event and drops the answer: one event, found by its property.
#[tokio::test]
async fn a_lost_answer_on_create_still_stores_one_event() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    sim.push_fault(GraphFault::for_mailbox(
        ANA,
        1,
        GraphFaultKind::DropAfterProcessing,
    ));
    let body = lecture("L-lost", "2025-03-04T09:00:00", "2025-03-04T10:00:00");
    assert!(
        send(&sim, "POST", &events(ANA), &token, &[], Some(&body))
            .await
            .is_none(),
        "no answer"
    );
    let stored = sim.events(ANA).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].extended_property(OURS), Some("L-lost"));
    let found = call(
        &sim,
        "GET",
        &format!("{}?$filter={}", events(ANA), filter_ours(&["L-lost"])),
        &token,
        None,
    )
    .await;
    assert_eq!(found.json()["value"].as_array().unwrap().len(), 1);
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 1);
    // In a batch, the whole batch's answer is lost while its parts are stored.
    sim.push_fault(GraphFault::for_mailbox(
        ANA,
        1,
        GraphFaultKind::DropAfterProcessing,
    ));
    let batch = json!({"requests": [{"id": "1", "method": "POST", "url": format!("/users/{ANA}/events"),
        "headers": {"Content-Type": "application/json"}, "body": lecture("L-b", "2025-03-04T11:00:00", "2025-03-04T12:00:00")}]});
    assert!(
        send(&sim, "POST", "/v1.0/$batch", &token, &[], Some(&batch))
            .await
            .is_none()
    );
    assert_eq!(sim.events(ANA).unwrap().len(), 2);
    sim.shutdown().await;
}

/// A mailbox moved from on-premises to Exchange Online keeps its items and their named
/// properties; the EWS side then answers `ErrorNonExistentMailbox` with the MailboxGuid.
#[tokio::test]
async fn a_moved_mailbox_keeps_its_items_and_their_named_properties() {
    const MOVED: &str = "plain@contoso.example";
    let ews = common::sim::start_sim(&common::sim::sample_state()).await;
    let property = |set: &str, name: &str, value: &str| SimExtendedProperty {
        property_set: set.to_owned(),
        name: name.to_owned(),
        property_type: "String".to_owned(),
        value: value.to_owned(),
    };
    let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
    let mut ours = SimItem::new(at("2025-03-04T08:00:00Z"), at("2025-03-04T09:45:00Z"));
    ours.subject = Some("Lecture <Algebra> & \"more\"".to_owned());
    ours.body = Some(ItemBody {
        body_type: "Text".to_owned(),
        text: "Bring a calculator".to_owned(),
    });
    ours.categories = vec!["MyTimetable".to_owned()];
    ours.location = Some("Aula 1".to_owned());
    ours.reminder_minutes = 10;
    ours.free_busy = "Tentative".to_owned();
    ours.start_time_zone = Some("W. Europe Standard Time".to_owned());
    ours.end_time_zone = Some("W. Europe Standard Time".to_owned());
    ours.extended_properties = vec![
        property("9448D9B9-3E57-4FB4-9449-F4A30737A76A", "ExternalId", "L-1"),
        property("9448D9B9-3E57-4FB4-9449-F4A30737A76A", "ContentHash", "h1"),
    ];
    let mut all_day = SimItem::new(at("2025-03-09T23:00:00Z"), at("2025-03-10T23:00:00Z"));
    all_day.is_all_day = true;
    all_day.subject = Some("Exam day".to_owned());
    all_day.start_time_zone = Some("W. Europe Standard Time".to_owned());
    all_day.end_time_zone = Some("W. Europe Standard Time".to_owned());
    all_day.extended_properties = vec![property(
        "9448D9B9-3E57-4FB4-9449-F4A30737A76A",
        "ExternalId",
        "E-1",
    )];
    let mut other_tool = SimItem::new(at("2025-03-05T08:00:00Z"), at("2025-03-05T09:00:00Z"));
    other_tool.subject = Some("Synced by another tool".to_owned());
    other_tool.extended_properties = vec![property("PublicStrings", "ExternalId", "X-9")];
    let mut users_own = SimItem::new(at("2025-03-06T08:00:00Z"), at("2025-03-06T09:00:00Z"));
    users_own.subject = Some("Dentist".to_owned());
    for item in [ours, all_day, other_tool, users_own] {
        ews.insert_item(MOVED, item).unwrap();
    }
    let graph = start(config()).await.unwrap();
    let report = move_mailbox(&ews, &graph, MOVED).unwrap();
    assert_eq!(report.events.len(), 4);
    assert_eq!(
        ews.calendar_items(MOVED).unwrap().len(),
        0,
        "no database on-premises holds it"
    );
    assert!(move_mailbox(&ews, &graph, MOVED).is_err(), "moved once");

    // On-premises: ErrorNonExistentMailbox with the MailboxGuid.
    let mut client = common::sim::logged_in_client(&ews).await;
    let answer =
        common::sim::call(&mut client, &common::sim::get_folder_impersonating(MOVED)).await;
    assert_eq!(
        common::sim::response_codes(&answer.body),
        ["ErrorNonExistentMailbox"],
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains(&report.mailbox_guid),
        "{}",
        answer.body
    );

    // Exchange Online: the items with their properties, found by ours.
    let token = get_token(&graph).await;
    let path = format!(
        "/v1.0/users/{MOVED}/calendar/events?$filter={}&$expand={}",
        filter_ours(&["L-1", "E-1"]),
        expand_ours()
    );
    let found = send(
        &graph,
        "GET",
        &path,
        &token,
        &[(
            "Prefer",
            "outlook.timezone=\"W. Europe Standard Time\", outlook.body-content-type=\"text\"",
        )],
        None,
    )
    .await
    .unwrap();
    assert_eq!(found.status, 200, "{}", found.body);
    let json = found.json();
    let value = json["value"].as_array().unwrap();
    assert_eq!(value.len(), 2);
    let lecture = value
        .iter()
        .find(|e| e["isAllDay"] == json!(false))
        .unwrap();
    assert_eq!(lecture["subject"], json!("Lecture <Algebra> & \"more\""));
    assert_eq!(
        lecture["body"],
        json!({"contentType": "text", "content": "Bring a calculator"})
    );
    assert_eq!(
        lecture["start"],
        json!({"dateTime": "2025-03-04T09:00:00.0000000", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(
        lecture["end"]["dateTime"],
        json!("2025-03-04T10:45:00.0000000")
    );
    assert_eq!(
        lecture["originalStartTimeZone"],
        json!("W. Europe Standard Time")
    );
    assert_eq!(lecture["categories"], json!(["MyTimetable"]));
    assert_eq!(lecture["location"]["displayName"], json!("Aula 1"));
    assert_eq!(lecture["reminderMinutesBeforeStart"], json!(10));
    assert_eq!(lecture["showAs"], json!("tentative"));
    assert_eq!(
        lecture["singleValueExtendedProperties"],
        json!([
            {"id": "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ExternalId", "value": "L-1"},
            {"id": "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ContentHash", "value": "h1"}
        ])
    );
    let exam = value.iter().find(|e| e["isAllDay"] == json!(true)).unwrap();
    assert_eq!(
        exam["start"]["dateTime"],
        json!("2025-03-10T00:00:00.0000000")
    );
    assert_eq!(
        exam["end"]["dateTime"],
        json!("2025-03-11T00:00:00.0000000")
    );
    // The other tool's property is kept under PS_PUBLIC_STRINGS, and is not ours.
    let stored = graph.events(MOVED).unwrap();
    let other = stored
        .iter()
        .find(|e| e.subject == "Synced by another tool")
        .unwrap();
    assert_eq!(
        other.extended_properties,
        [GraphExtendedProperty {
            id: "String {00020329-0000-0000-c000-000000000046} Name ExternalId".to_owned(),
            value: "X-9".to_owned()
        }]
    );
    assert!(
        stored
            .iter()
            .any(|e| e.subject == "Dentist" && e.extended_properties.is_empty())
    );
    let calendar = call(
        &graph,
        "GET",
        &format!("/v1.0/users/{MOVED}/calendar"),
        &token,
        None,
    )
    .await;
    assert_eq!(
        calendar.status, 200,
        "held by Exchange Online, in the scope"
    );
    ews.shutdown().await;
    graph.shutdown().await;
}

/// In a hybrid tenant the directory knows the mailbox before the move: Graph answers
/// `MailboxNotEnabledForRESTAPI` until the move completes, then serves its events.
#[tokio::test]
async fn a_move_turns_an_on_premises_mailbox_into_an_exchange_online_one() {
    const MOVED: &str = "plain@contoso.example";
    let ews = common::sim::start_sim(&common::sim::sample_state()).await;
    let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
    let mut item = SimItem::new(at("2025-03-04T08:00:00Z"), at("2025-03-04T09:00:00Z"));
    item.extended_properties = vec![SimExtendedProperty {
        property_set: "9448d9b9-3e57-4fb4-9449-f4a30737a76a".to_owned(),
        name: "ExternalId".to_owned(),
        property_type: "String".to_owned(),
        value: "L-9".to_owned(),
    }];
    ews.insert_item(MOVED, item).unwrap();
    let mut on_premises = GraphMailbox::new(MOVED);
    on_premises.exchange_online = false;
    let mut graph_config = config();
    graph_config.mailboxes.push(on_premises);
    let graph = start(graph_config).await.unwrap();
    let token = get_token(&graph).await;
    let path = format!("{}?$filter={}", events(MOVED), filter_ours(&["L-9"]));
    let before = call(&graph, "GET", &path, &token, None).await;
    assert_eq!(before.code(), "MailboxNotEnabledForRESTAPI");
    move_mailbox(&ews, &graph, MOVED).unwrap();
    let after = call(&graph, "GET", &path, &token, None).await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.json()["value"].as_array().unwrap().len(), 1);
    assert!(move_mailbox(&ews, &graph, "nobody@contoso.example").is_err());
    ews.shutdown().await;
    graph.shutdown().await;
}

/// `DELETE` moves an event to Deleted Items; `permanentDelete` (POST only, no body, 204) puts
/// it in no folder; both are counted apart and an unknown id is 404 `ErrorItemNotFound`.
#[tokio::test]
async fn a_permanent_delete_leaves_no_event_in_deleted_items_and_is_counted_apart() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let mut ids = Vec::new();
    for n in 0..2 {
        let body = lecture(
            &format!("P-{n}"),
            "2025-03-04T09:00:00",
            "2025-03-04T10:00:00",
        );
        let created = call(&sim, "POST", &events(ANA), &token, Some(&body)).await;
        ids.push(created.json()["id"].as_str().unwrap().to_owned());
    }

    let deleted = call(&sim, "DELETE", &event(ANA, &ids[0]), &token, None).await;
    assert_eq!(deleted.status, 204);
    let purge = format!("/v1.0/users/{ANA}/events/{}/permanentDelete", ids[1]);
    for method in ["GET", "DELETE", "PATCH"] {
        let refused = call(&sim, method, &purge, &token, None).await;
        assert_eq!(refused.status, 405, "{method}: {}", refused.body);
    }
    assert_eq!(
        sim.events(ANA).unwrap().len(),
        1,
        "a refused method removes nothing"
    );
    let purged = call(&sim, "POST", &purge, &token, None).await;
    assert_eq!(purged.status, 204, "{}", purged.body);
    assert!(purged.body.is_empty());

    assert!(sim.events(ANA).unwrap().is_empty());
    let bin = sim.deleted_items(ANA).unwrap();
    assert_eq!(bin.len(), 1, "only the DELETEd event is in Deleted Items");
    assert_eq!(bin[0].id, ids[0]);
    let stats = sim.mailbox_stats(ANA);
    assert_eq!((stats.event_deletes, stats.event_permanent_deletes), (1, 1));
    assert_eq!(sim.route_requests(RouteKind::PermanentDeleteEvent), 1);
    assert_eq!(
        sim.route_requests(RouteKind::Other),
        3,
        "the refused methods are no permanentDelete"
    );

    // Gone: 404 on both routes, by both paths, and nothing more is counted.
    for path in [
        purge.clone(),
        format!(
            "/v1.0/users/{ANA}/calendar/events/{}/permanentDelete",
            ids[0]
        ),
    ] {
        let again = call(&sim, "POST", &path, &token, None).await;
        assert_eq!(again.status, 404, "{}", again.body);
        assert_eq!(again.json()["error"]["code"], json!("ErrorItemNotFound"));
    }
    assert_eq!(sim.mailbox_stats(ANA).event_permanent_deletes, 1);
    sim.shutdown().await;
}

/// A scripted `PartError` refuses exactly its `count` event writes, alone or as batch parts,
/// with Graph's error body; reads pass it by; a part after a refused one in a `dependsOn`
/// sequence answers 424 and is not run.
#[tokio::test]
async fn a_part_error_refuses_only_event_writes_each_part_with_its_own_answer() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let refuse_one = || {
        GraphFault::for_mailbox(
            ANA,
            1,
            GraphFaultKind::PartError {
                status: 403,
                code: "ErrorAccessDenied".to_owned(),
                message: "Access is denied. Check credentials and try again.".to_owned(),
            },
        )
    };
    sim.push_fault(refuse_one());
    // A read passes the fault by.
    let listed = call(&sim, "GET", &events(ANA), &token, None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);

    // A parallel batch of three creates: one refused, the others stored.
    let create = |n: usize| {
        json!({"id": n.to_string(), "method": "POST", "url": format!("/users/{ANA}/events"),
            "headers": {"Content-Type": "application/json"},
            "body": lecture(&format!("E-{n}"), "2025-03-04T09:00:00", "2025-03-04T10:00:00")})
    };
    let batch = json!({"requests": [create(0), create(1), create(2)]});
    let reply = call(&sim, "POST", "/v1.0/$batch", &token, Some(&batch)).await;
    assert_eq!(reply.status, 200);
    let json = reply.json();
    let responses = json["responses"].as_array().unwrap();
    let refused: Vec<&Value> = responses
        .iter()
        .filter(|r| r["status"] == json!(403))
        .collect();
    assert_eq!(refused.len(), 1, "{}", reply.body);
    assert_eq!(
        refused[0]["body"]["error"]["code"],
        json!("ErrorAccessDenied")
    );
    assert_eq!(
        responses
            .iter()
            .filter(|r| r["status"] == json!(201))
            .count(),
        2
    );
    assert_eq!(
        sim.events(ANA).unwrap().len(),
        2,
        "the refused create stored nothing"
    );

    // A sequence: the first part is refused, the next is not run.
    sim.push_fault(refuse_one());
    let mut second = create(4);
    second["dependsOn"] = json!(["3"]);
    let batch = json!({"requests": [create(3), second]});
    let json = call(&sim, "POST", "/v1.0/$batch", &token, Some(&batch))
        .await
        .json();
    let status = |id: &str| {
        json["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == json!(id))
            .unwrap()["status"]
            .clone()
    };
    assert_eq!((status("3"), status("4")), (json!(403), json!(424)));
    assert_eq!(sim.events(ANA).unwrap().len(), 2);

    // Used up: the next write is made.
    let body = lecture("E-5", "2025-03-04T09:00:00", "2025-03-04T10:00:00");
    assert_eq!(
        call(&sim, "POST", &events(ANA), &token, Some(&body))
            .await
            .status,
        201
    );
    assert_eq!(sim.stats().faults_applied, 2);
    sim.shutdown().await;
}

/// The simulator records which extended properties each PATCH set, in their canonical form.
#[tokio::test]
async fn a_patch_records_the_extended_properties_it_named() {
    let sim = start(config()).await.unwrap();
    let token = get_token(&sim).await;
    let body = lecture("X-1", "2025-03-04T09:00:00", "2025-03-04T10:00:00");
    let created = call(&sim, "POST", &events(ANA), &token, Some(&body)).await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let patch = json!({"subject": "renamed",
        "singleValueExtendedProperties": [{"id": HASH, "value": "v1:abc"}]});
    assert_eq!(
        call(&sim, "PATCH", &event(ANA, &id), &token, Some(&patch))
            .await
            .status,
        200
    );
    let patch = json!({"location": {"displayName": "Aula 2"}});
    assert_eq!(
        call(&sim, "PATCH", &event(ANA, &id), &token, Some(&patch))
            .await
            .status,
        200
    );
    assert_eq!(
        sim.patched_fields(ANA),
        vec![
            vec![
                "singleValueExtendedProperties".to_owned(),
                "subject".to_owned()
            ],
            vec!["location".to_owned()]
        ]
    );
    assert_eq!(
        sim.patched_extended_properties(ANA),
        vec![
            vec!["String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ContentHash".to_owned()],
            Vec::new()
        ]
    );
    sim.shutdown().await;
}
