//! Calendar push through `Push` with `GraphBackend` against the Graph simulator: upsert
//! (created, unchanged with no write, one PATCH of the subject), delete and a second delete,
//! the window listed, a window sync of 500 events in batches, continuity across a mailbox move
//! from the EWS simulator, the user's own events identical after every write, and a lost
//! create answer, `HardDelete` as `permanentDelete`, and a refused `$batch` part reported per
//! event in `failed` (creates, PATCHes and deletes alike) with nothing lost. (The same through
//! the real `serve`: `tests/hybrid.rs`.)

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use ews_connector::backend::graph::GraphBackend;
use ews_connector::backend::{
    BoxFuture, Calendar, CalendarBackend, Error as BackendError, Expansion, IdentityNotes, OpenAs,
    PerItem, Written,
};
use ews_connector::domain::Mailbox;
use ews_connector::domain::events::{
    CurrentEvent, DeleteType, EventChange, FoundEvent, ItemHandle, OurItem,
};
use ews_connector::domain::permissions::{PermissionSet, Version};
use ews_connector::graph::client::GraphClient;
use ews_connector::push::{self, Event, EventInput, ExternalId, Push, UpsertResult, Window};
use ews_connector::sim::graph::{
    GraphDateTime, GraphEvent, GraphExtendedProperty, GraphFault, GraphFaultKind, GraphMailbox,
    GraphSimConfig, GraphSimHandle, RouteKind, start,
};

const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";
const ANA: &str = "ana@uni.example";
const OURS: &str = "String {9448D9B9-3E57-4FB4-9449-F4A30737A76A} Name ExternalId";
const OTHER_TOOL: &str = "String {11111111-2222-3333-4444-555555555555} Name ExternalId";
/// Our ContentHash as the simulator records a property id (the GUID in lower case).
const HASH_CANONICAL: &str = "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ContentHash";

async fn simulator() -> GraphSimHandle {
    start(GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        secrets: vec![SECRET.to_owned()],
        mailboxes: vec![GraphMailbox::new(ANA)],
        ..GraphSimConfig::default()
    })
    .await
    .unwrap()
}

fn client(sim: &GraphSimHandle) -> Arc<GraphClient> {
    common::graph_http::sim_client(sim, CLIENT, SECRET, 16)
}

fn settings(batch_size: usize) -> push::Settings {
    let mut settings = push::Settings::new(ews_connector::domain::AccessMode::Impersonation);
    settings.batch_size = batch_size;
    settings.delete_type = DeleteType::MoveToDeletedItems;
    settings
}

fn graph_push(sim: &GraphSimHandle, batch_size: usize) -> Push {
    graph_push_deleting(sim, batch_size, DeleteType::MoveToDeletedItems)
}

fn graph_push_deleting(sim: &GraphSimHandle, batch_size: usize, delete_type: DeleteType) -> Push {
    let mut settings = settings(batch_size);
    settings.delete_type = delete_type;
    Push::new(GraphBackend::shared(client(sim), CLIENT), settings)
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn mailbox(address: &str) -> Mailbox {
    Mailbox::parse(address).unwrap()
}

/// A lecture in Amsterdam: `minutes` long from `start`.
fn lecture(id: &str, subject: &str, start: DateTime<Utc>, minutes: i64) -> Event {
    Event::new(
        ExternalId::parse(id).unwrap(),
        EventInput {
            subject: subject.to_owned(),
            start: start.fixed_offset(),
            end: (start + TimeDelta::minutes(minutes)).fixed_offset(),
            time_zone: "Europe/Amsterdam".to_owned(),
            location: Some("Room 1.14".to_owned()),
            body: Some("Lecturer: A. Turing\nBring a pencil".to_owned()),
            categories: vec!["MyTimetable".to_owned()],
            is_all_day: false,
            show_as: None,
            reminder_minutes_before_start: Some(15),
        },
    )
    .unwrap()
}

/// January 2027.
fn january() -> Window {
    Window::new(utc("2027-01-01T00:00:00Z"), utc("2027-02-01T00:00:00Z")).unwrap()
}

/// `count` lectures, one every 45 minutes from 4 January 2027 08:00 UTC, one hour each.
fn lectures(count: usize) -> Vec<Event> {
    (0..count)
        .map(|index| {
            let id = format!("mytt:2027:{index:04}");
            lecture(
                &id,
                &format!("Lecture {id}"),
                utc("2027-01-04T08:00:00Z") + TimeDelta::minutes(45 * index as i64),
                60,
            )
        })
        .collect()
}

/// 20 of the user's own events in January: half with our subject and times, one with
/// another tool's property of our name.
fn add_users_own(sim: &GraphSimHandle, address: &str) {
    for n in 0..20 {
        let local =
            |text: &str| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap();
        let mut own = GraphEvent::new(
            if n % 2 == 0 {
                "Lecture mytt:2027:0000"
            } else {
                "Dentist"
            },
            GraphDateTime::new(local("2027-01-04T09:00:00"), "W. Europe Standard Time"),
            GraphDateTime::new(local("2027-01-04T10:00:00"), "W. Europe Standard Time"),
        );
        own.categories = vec!["Personal".to_owned()];
        if n == 7 {
            own.extended_properties.push(GraphExtendedProperty {
                id: OTHER_TOOL.to_owned(),
                value: "mytt:2027:0000".to_owned(),
            });
        }
        sim.insert_event(address, own).unwrap();
    }
}

/// The events that are not ours, as the simulator holds them (ids, change keys and all).
fn users_own(sim: &GraphSimHandle, address: &str) -> Vec<GraphEvent> {
    let mut own: Vec<GraphEvent> = sim
        .events(address)
        .unwrap()
        .into_iter()
        .filter(|event| event.extended_property(OURS).is_none())
        .collect();
    own.sort_by(|a, b| a.id.cmp(&b.id));
    own
}

/// Our events by external id.
fn ours(sim: &GraphSimHandle, address: &str, external_id: &str) -> Vec<GraphEvent> {
    sim.events(address)
        .unwrap()
        .into_iter()
        .filter(|event| event.extended_property(OURS) == Some(external_id))
        .collect()
}

fn writes(sim: &GraphSimHandle, address: &str) -> u64 {
    sim.mailbox_stats(address).writes
}

#[tokio::test]
async fn an_upsert_creates_then_writes_nothing_then_patches_only_the_subject_and_a_second_delete_sends_nothing()
 {
    let sim = simulator().await;
    add_users_own(&sim, ANA);
    let before = users_own(&sim, ANA);
    let push = graph_push(&sim, 50);
    let ana = mailbox(ANA);
    let event = lecture(
        "mytt:2027:0000",
        "Lecture mytt:2027:0000",
        utc("2027-01-04T08:00:00Z"),
        60,
    );

    assert_eq!(
        push.upsert(&ana, &event).await.unwrap(),
        UpsertResult::Created
    );
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 1);
    let stored = ours(&sim, ANA, "mytt:2027:0000");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].start.time_zone, "W. Europe Standard Time");
    assert_eq!(
        stored[0].start.date_time.to_string(),
        "2027-01-04 09:00:00",
        "local time in Amsterdam"
    );
    assert_eq!(users_own(&sim, ANA), before);

    let written = writes(&sim, ANA);
    assert_eq!(
        push.upsert(&ana, &event).await.unwrap(),
        UpsertResult::Unchanged
    );
    assert_eq!(writes(&sim, ANA), written, "no Graph write");

    let mut renamed = event.clone();
    renamed.subject = "Lecture mytt:2027:0000 (moved to Aula)".to_owned();
    assert_eq!(
        push.upsert(&ana, &renamed).await.unwrap(),
        UpsertResult::Updated
    );
    assert_eq!(sim.mailbox_stats(ANA).event_patches, 1, "exactly one PATCH");
    assert_eq!(
        sim.patched_fields(ANA),
        vec![vec![
            "singleValueExtendedProperties".to_owned(),
            "subject".to_owned()
        ]],
        "the subject and our ContentHash, nothing else"
    );
    assert_eq!(
        sim.patched_extended_properties(ANA),
        vec![vec![HASH_CANONICAL.to_owned()]],
        "of the extended properties only our ContentHash: the ExternalId never changes"
    );
    let updated = ours(&sim, ANA, "mytt:2027:0000");
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].id, stored[0].id, "updated in place");
    assert_eq!(updated[0].subject, renamed.subject);
    assert_eq!(users_own(&sim, ANA), before);

    let listed = push.list(&ana, january()).await.unwrap();
    assert_eq!(listed.len(), 1, "the user's own events are not listed");
    assert_eq!(listed[0].external_id, "mytt:2027:0000");
    assert_eq!(listed[0].subject.as_deref(), Some(renamed.subject.as_str()));
    assert_eq!(listed[0].start, Some(event.start));
    assert_eq!(listed[0].end, Some(event.end));
    assert_eq!(listed[0].location.as_deref(), Some("Room 1.14"));
    assert_eq!(listed[0].reminder_minutes_before_start, Some(15));
    assert_eq!(listed[0].content_hash, Some(renamed.content_hash()));

    push.delete(&ana, &event.external_id).await.unwrap();
    assert_eq!(sim.mailbox_stats(ANA).event_deletes, 1);
    assert!(ours(&sim, ANA, "mytt:2027:0000").is_empty());
    let written = writes(&sim, ANA);
    let again = push.delete(&ana, &event.external_id).await.unwrap_err();
    assert!(
        matches!(again, push::Error::EventNotFound(ref id) if id == "mytt:2027:0000"),
        "{again:?}"
    );
    assert_eq!(writes(&sim, ANA), written, "no DELETE sent");
    assert_eq!(users_own(&sim, ANA), before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_sync_of_500_creates_in_at_most_25_batches_then_writes_nothing_then_updates_10_and_deletes_5()
 {
    let sim = simulator().await;
    add_users_own(&sim, ANA);
    let before = users_own(&sim, ANA);
    // The default 50, which push rounds up to 60 on Graph (20 parts per batch).
    let push = graph_push(&sim, 50);
    let ana = mailbox(ANA);
    let mut events = lectures(500);

    let batches = sim.stats().batches;
    let report = push.sync(&ana, january(), events.clone()).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.updated,
            report.deleted,
            report.unchanged
        ),
        (500, 0, 0, 0)
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let create_batches = sim.stats().batches - batches;
    assert!(
        create_batches <= 25,
        "{create_batches} batched requests for 500 creates"
    );
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 500);
    assert_eq!(
        sim.mailbox_stats(ANA).concurrency_refusals,
        0,
        "never over 4 in flight"
    );
    assert!(sim.mailbox_stats(ANA).max_in_flight <= 4);
    assert_eq!(users_own(&sim, ANA), before);

    let written = writes(&sim, ANA);
    let batches = sim.stats().batches;
    let report = push.sync(&ana, january(), events.clone()).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.updated,
            report.deleted,
            report.unchanged
        ),
        (0, 0, 0, 500)
    );
    assert_eq!(writes(&sim, ANA), written, "no Graph write");
    assert_eq!(sim.stats().batches, batches, "no batch at all");

    // Ten move a day later, five are gone.
    for event in events.iter_mut().take(10) {
        event.start += TimeDelta::days(1);
        event.end += TimeDelta::days(1);
    }
    let removed: Vec<String> = events
        .drain(495..)
        .map(|event| event.external_id.as_str().to_owned())
        .collect();
    let ids_before = sim.events(ANA).unwrap();
    let stats = sim.mailbox_stats(ANA);
    let report = push.sync(&ana, january(), events.clone()).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.updated,
            report.deleted,
            report.unchanged
        ),
        (0, 10, 5, 485)
    );
    let after = sim.mailbox_stats(ANA);
    assert_eq!(after.event_patches - stats.event_patches, 10);
    assert_eq!(after.event_deletes - stats.event_deletes, 5);
    assert_eq!(after.event_creates, stats.event_creates);
    for id in &removed {
        assert!(ours(&sim, ANA, id).is_empty(), "{id} deleted");
    }
    let moved = ours(&sim, ANA, "mytt:2027:0003");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].start.instant(), Some(events[3].start));
    assert!(
        ids_before.iter().any(|event| event.id == moved[0].id),
        "the same event, moved"
    );
    assert_eq!(users_own(&sim, ANA), before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_window_read_in_pages_of_7_sees_every_event_once_and_only_ours() {
    let sim = simulator().await;
    add_users_own(&sim, ANA);
    let mut settings = settings(50);
    settings.view_max_entries = 7;
    let push = Push::new(GraphBackend::shared(client(&sim), CLIENT), settings);
    let ana = mailbox(ANA);
    let events = lectures(30);
    let report = push.sync(&ana, january(), events.clone()).await.unwrap();
    assert_eq!(report.created, 30);
    let calendar_views = sim.route_requests(RouteKind::CalendarView);
    let listed = push.list(&ana, january()).await.unwrap();
    assert_eq!(
        sim.route_requests(RouteKind::CalendarView) - calendar_views,
        50_u64.div_ceil(7),
        "30 of ours and 20 of the user's, 7 a page"
    );
    let ids: Vec<&str> = listed
        .iter()
        .map(|event| event.external_id.as_str())
        .collect();
    let wanted: Vec<&str> = events
        .iter()
        .map(|event| event.external_id.as_str())
        .collect();
    assert_eq!(ids, wanted, "each once, in order of start");
    let report = push.sync(&ana, january(), events).await.unwrap();
    assert_eq!(
        (report.unchanged, report.created, report.deleted),
        (30, 0, 0)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn events_pushed_through_ews_are_unchanged_through_graph_after_the_mailbox_moved() {
    use common::push::{PLAIN as GRANTED, PushSetup};
    // The sample's impersonated mailbox (granted@'s all-day "Holiday" is not midnight in its
    // zone, which a move to Exchange Online refuses).
    let ews = PushSetup::with(ews_connector::domain::AccessMode::Impersonation, 50).await;
    let granted = mailbox(GRANTED);
    let mut events = lectures(50);
    let report = ews
        .push
        .sync(&granted, january(), events.clone())
        .await
        .unwrap();
    assert_eq!(report.created, 50);

    let graph = simulator().await;
    ews_connector::sim::move_mailbox(&ews.sim, &graph, GRANTED).unwrap();
    add_users_own(&graph, GRANTED);
    let before = users_own(&graph, GRANTED);
    let push = graph_push(&graph, 100);

    let report = push
        .sync(&granted, january(), events.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            report.unchanged,
            report.created,
            report.deleted,
            report.updated
        ),
        (50, 0, 0, 0),
        "the content hash is the same on both backends"
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(writes(&graph, GRANTED), 0, "no Graph write");

    let moved_id = ours(&graph, GRANTED, "mytt:2027:0007")[0].id.clone();
    events[7].subject = "Lecture mytt:2027:0007 (cancelled)".to_owned();
    let report = push
        .sync(&granted, january(), events.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            report.unchanged,
            report.created,
            report.deleted,
            report.updated
        ),
        (49, 0, 0, 1)
    );
    let updated = ours(&graph, GRANTED, "mytt:2027:0007");
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].id, moved_id, "updated in place");
    assert_eq!(updated[0].subject, events[7].subject);
    assert_eq!(graph.mailbox_stats(GRANTED).event_patches, 1);
    assert_eq!(graph.mailbox_stats(GRANTED).event_creates, 0);
    assert_eq!(users_own(&graph, GRANTED), before);
    graph.shutdown().await;
}

/// The Graph backend, with a lost answer scheduled for the next create (the fault would
/// otherwise hit the lookup before it).
struct LosesNextCreate {
    inner: Arc<dyn CalendarBackend>,
    sim: Arc<GraphSimHandle>,
}

impl CalendarBackend for LosesNextCreate {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn service_account(&self, mailbox: &Mailbox) -> String {
        self.inner.service_account(mailbox)
    }
    fn service_accounts(&self) -> Vec<String> {
        self.inner.service_accounts()
    }
    fn open_calendar<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        with_permissions: bool,
    ) -> BoxFuture<'a, Result<Calendar, BackendError>> {
        self.inner.open_calendar(mailbox, who, with_permissions)
    }
    fn read_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
    ) -> BoxFuture<'a, Result<Calendar, BackendError>> {
        self.inner.read_permissions(mailbox)
    }
    fn write_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        version: Version,
        read: &'a PermissionSet,
        set: PermissionSet,
    ) -> BoxFuture<'a, Result<Written, BackendError>> {
        self.inner.write_permissions(mailbox, version, read, set)
    }
    fn expand_group<'a>(
        &'a self,
        address: &'a str,
        anchor: &'a str,
    ) -> BoxFuture<'a, Result<Expansion, BackendError>> {
        self.inner.expand_group(address, anchor)
    }
    fn with_notes<'a>(&'a self, work: BoxFuture<'a, ()>) -> BoxFuture<'a, IdentityNotes> {
        self.inner.with_notes(work)
    }
    fn find_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        window: Window,
        view_max_entries: u32,
    ) -> BoxFuture<'a, Result<Vec<FoundEvent>, BackendError>> {
        self.inner
            .find_events(mailbox, who, window, view_max_entries)
    }
    fn find_by_external_ids<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        ids: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<OurItem>, BackendError>> {
        self.inner.find_by_external_ids(mailbox, who, ids)
    }
    fn create_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<PerItem<()>, BackendError>> {
        self.sim.push_fault(GraphFault::for_mailbox(
            mailbox.as_str(),
            1,
            GraphFaultKind::DropAfterProcessing,
        ));
        self.inner.create_events(mailbox, who, events)
    }
    fn read_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        items: &'a [ItemHandle],
    ) -> BoxFuture<'a, Result<PerItem<CurrentEvent>, BackendError>> {
        self.inner.read_events(mailbox, who, items)
    }
    fn update_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        changes: Vec<EventChange>,
    ) -> BoxFuture<'a, Result<PerItem<()>, BackendError>> {
        self.inner.update_events(mailbox, who, changes)
    }
    fn delete_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        items: &'a [ItemHandle],
        delete_type: DeleteType,
    ) -> BoxFuture<'a, Result<PerItem<()>, BackendError>> {
        self.inner.delete_events(mailbox, who, items, delete_type)
    }
}

#[tokio::test]
async fn a_lost_create_answer_makes_one_event_not_two() {
    let sim = Arc::new(simulator().await);
    let backend = Arc::new(LosesNextCreate {
        inner: GraphBackend::shared(client(&sim), CLIENT),
        sim: sim.clone(),
    });
    let push = Push::new(backend, settings(50));
    let ana = mailbox(ANA);
    let event = lecture("mytt:lost", "Lost answer", utc("2027-01-04T08:00:00Z"), 60);
    assert_eq!(
        push.upsert(&ana, &event).await.unwrap(),
        UpsertResult::Created
    );
    assert_eq!(ours(&sim, ANA, "mytt:lost").len(), 1, "one event, not two");
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 1);
    assert_eq!(sim.stats().faults_applied, 1, "the answer was lost");
}

#[tokio::test]
async fn the_first_sync_after_the_move_follows_it_to_graph_and_writes_nothing() {
    use common::push::{PLAIN as MOVED, PushSetup};
    use ews_connector::routing::{RoutingConfig, Side};
    let ews = PushSetup::with(ews_connector::domain::AccessMode::Impersonation, 50).await;
    let graph = simulator().await;
    let routed = Push::new(
        ews_connector::backend::ews::EwsBackend::shared(ews.exchange.clone()),
        settings(50),
    )
    .with_graph(
        GraphBackend::shared(client(&graph), CLIENT),
        ews_connector::routing::Router::new(RoutingConfig {
            default: Side::Ews,
            graph_domains: Vec::new(),
            ews_domains: Vec::new(),
            follow_moves: true,
        }),
    );
    let moved = mailbox(MOVED);
    let events = lectures(50);
    let report = routed
        .sync(&moved, january(), events.clone())
        .await
        .unwrap();
    assert_eq!(report.created, 50);
    assert_eq!(routed.backend_for(&moved), "ews");

    ews_connector::sim::move_mailbox(&ews.sim, &graph, MOVED).unwrap();
    let report = routed
        .sync(&moved, january(), events.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            report.unchanged,
            report.created,
            report.deleted,
            report.updated
        ),
        (50, 0, 0, 0),
        "followed to Exchange Online on the first call after the move"
    );
    assert_eq!(routed.backend_for(&moved), "graph");
    assert_eq!(writes(&graph, MOVED), 0, "no Graph write");
    let listed = routed.list(&moved, january()).await.unwrap();
    assert_eq!(listed.len(), 50);
    graph.shutdown().await;
}

#[tokio::test]
async fn a_hard_delete_is_a_permanent_delete_and_a_second_one_sends_nothing() {
    let sim = simulator().await;
    add_users_own(&sim, ANA);
    let before = users_own(&sim, ANA);
    let push = graph_push_deleting(&sim, 50, DeleteType::HardDelete);
    let ana = mailbox(ANA);
    let event = lecture("mytt:hard", "Hard", utc("2027-01-04T08:00:00Z"), 60);
    push.upsert(&ana, &event).await.unwrap();

    push.delete(&ana, &event.external_id).await.unwrap();
    let stats = sim.mailbox_stats(ANA);
    assert_eq!(
        (stats.event_permanent_deletes, stats.event_deletes),
        (1, 0),
        "permanentDelete, not DELETE"
    );
    assert_eq!(sim.route_requests(RouteKind::PermanentDeleteEvent), 1);
    assert!(ours(&sim, ANA, "mytt:hard").is_empty());
    assert!(
        sim.deleted_items(ANA).unwrap().is_empty(),
        "not in Deleted Items"
    );
    let written = writes(&sim, ANA);
    let again = push.delete(&ana, &event.external_id).await.unwrap_err();
    assert!(
        matches!(again, push::Error::EventNotFound(ref id) if id == "mytt:hard"),
        "{again:?}"
    );
    assert_eq!(writes(&sim, ANA), written, "nothing sent");
    assert_eq!(users_own(&sim, ANA), before);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_sync_removes_with_permanent_delete_under_hard_delete_and_with_delete_under_soft_delete()
{
    for (delete_type, permanent) in [
        (DeleteType::HardDelete, true),
        (DeleteType::SoftDelete, false),
    ] {
        let sim = simulator().await;
        add_users_own(&sim, ANA);
        let before = users_own(&sim, ANA);
        let push = graph_push_deleting(&sim, 50, delete_type);
        let ana = mailbox(ANA);
        let mut events = lectures(30);
        push.sync(&ana, january(), events.clone()).await.unwrap();
        events.truncate(25);
        let report = push.sync(&ana, january(), events).await.unwrap();
        assert_eq!(
            (report.deleted, report.unchanged),
            (5, 25),
            "{delete_type:?}"
        );
        assert!(report.failed.is_empty(), "{:?}", report.failed);
        let stats = sim.mailbox_stats(ANA);
        let binned = sim.deleted_items(ANA).unwrap().len();
        if permanent {
            assert_eq!(
                (stats.event_permanent_deletes, stats.event_deletes, binned),
                (5, 0, 0)
            );
        } else {
            assert_eq!(
                (stats.event_permanent_deletes, stats.event_deletes, binned),
                (0, 5, 5)
            );
        }
        for index in 25..30 {
            assert!(ours(&sim, ANA, &format!("mytt:2027:{index:04}")).is_empty());
        }
        assert_eq!(users_own(&sim, ANA), before);
        sim.shutdown().await;
    }
}

fn refuse_next_write(sim: &GraphSimHandle, status: u16, code: &str) {
    sim.push_fault(GraphFault::for_mailbox(
        ANA,
        1,
        GraphFaultKind::PartError {
            status,
            code: code.to_owned(),
            message: format!("scripted {code}"),
        },
    ));
}

/// The answer MyTimetable gets for a failed event (`api::problem`, as the sync route maps it).
fn problem_of(failure: &push::ItemFailure) -> ews_connector::api::problem::Problem {
    ews_connector::api::problem::Problem::from(&failure.error)
}

#[tokio::test]
async fn a_refused_create_part_is_one_failed_event_and_the_next_sync_creates_only_it() {
    let sim = simulator().await;
    add_users_own(&sim, ANA);
    let before = users_own(&sim, ANA);
    let push = graph_push(&sim, 50);
    let ana = mailbox(ANA);
    let events = lectures(30);
    refuse_next_write(&sim, 403, "ErrorAccessDenied");

    let report = push.sync(&ana, january(), events.clone()).await.unwrap();
    assert_eq!(report.created, 29);
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    let failed = &report.failed[0];
    let problem = problem_of(failed);
    assert_eq!(problem.code.as_str(), "access_denied");
    assert_eq!(problem.status, 422);
    assert_eq!(
        problem.graph_error_code.as_deref(),
        Some("ErrorAccessDenied")
    );
    assert!(
        problem.detail.contains("scripted ErrorAccessDenied"),
        "{}",
        problem.detail
    );
    assert!(
        ours(&sim, ANA, &failed.external_id).is_empty(),
        "not created"
    );
    for event in &events {
        let id = event.external_id.as_str();
        let expected = usize::from(id != failed.external_id);
        assert_eq!(ours(&sim, ANA, id).len(), expected, "{id}");
    }
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 29);

    let report = push.sync(&ana, january(), events.clone()).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.unchanged,
            report.updated,
            report.deleted
        ),
        (1, 29, 0, 0)
    );
    assert!(report.failed.is_empty());
    assert_eq!(ours(&sim, ANA, &failed.external_id).len(), 1);
    assert_eq!(sim.mailbox_stats(ANA).event_creates, 30);
    assert_eq!(users_own(&sim, ANA), before);
    sim.shutdown().await;
}

/// A refused PATCH or DELETE part lands in `failed` with its external id, is never counted as
/// done, and the next sync makes it; Graph's code maps as API.md says.
#[tokio::test]
async fn a_refused_patch_or_delete_part_is_a_failed_event_never_counted_as_done() {
    // (status, Graph code, problem code, HTTP status of the problem)
    let table = [
        (403, "ErrorAccessDenied", "access_denied", 422),
        (400, "ErrorInvalidRequest", "exchange_error", 502),
        (404, "ErrorItemNotFound", "event_not_found", 404),
    ];
    for (status, code, problem_code, problem_status) in table {
        let sim = simulator().await;
        add_users_own(&sim, ANA);
        let before = users_own(&sim, ANA);
        let push = graph_push(&sim, 50);
        let ana = mailbox(ANA);
        let mut events = lectures(30);
        push.sync(&ana, january(), events.clone()).await.unwrap();

        // Three renamed: the first PATCH is refused, the two after it are made.
        for index in [0, 10, 20] {
            events[index].subject = format!("Renamed {index}");
        }
        refuse_next_write(&sim, status, code);
        let patches = sim.mailbox_stats(ANA).event_patches;
        let report = push.sync(&ana, january(), events.clone()).await.unwrap();
        assert_eq!((report.updated, report.unchanged), (2, 27), "{code}");
        assert_eq!(report.failed.len(), 1, "{code}: {:?}", report.failed);
        assert_eq!(report.failed[0].external_id, "mytt:2027:0000");
        let problem = problem_of(&report.failed[0]);
        assert_eq!(
            (problem.code.as_str(), problem.status),
            (problem_code, problem_status),
            "{code}"
        );
        assert_eq!(problem.graph_error_code.as_deref(), Some(code));
        assert_eq!(sim.mailbox_stats(ANA).event_patches - patches, 2);
        assert_eq!(
            ours(&sim, ANA, "mytt:2027:0000")[0].subject,
            "Lecture mytt:2027:0000",
            "the refused PATCH changed nothing"
        );
        let report = push.sync(&ana, january(), events.clone()).await.unwrap();
        assert_eq!((report.updated, report.unchanged), (1, 29), "{code}");
        assert!(report.failed.is_empty());
        assert_eq!(ours(&sim, ANA, "mytt:2027:0000")[0].subject, "Renamed 0");

        // Three removed: the first DELETE is refused, the two after it are made. (A DELETE
        // answered 404 `ErrorItemNotFound` is deleted, by design: not a refusal.)
        if code == "ErrorItemNotFound" {
            sim.shutdown().await;
            continue;
        }
        let removed: Vec<String> = events
            .drain(27..)
            .map(|event| event.external_id.as_str().to_owned())
            .collect();
        refuse_next_write(&sim, status, code);
        let report = push.sync(&ana, january(), events.clone()).await.unwrap();
        assert_eq!((report.deleted, report.unchanged), (2, 27), "{code}");
        assert_eq!(report.failed.len(), 1, "{code}: {:?}", report.failed);
        let failed_id = report.failed[0].external_id.clone();
        assert!(removed.contains(&failed_id), "{failed_id}");
        assert_eq!(ours(&sim, ANA, &failed_id).len(), 1, "still there");
        let problem = problem_of(&report.failed[0]);
        assert_eq!(problem.graph_error_code.as_deref(), Some(code));
        let report = push.sync(&ana, january(), events.clone()).await.unwrap();
        assert_eq!((report.deleted, report.unchanged), (1, 27), "{code}");
        assert!(report.failed.is_empty());
        for id in &removed {
            assert!(ours(&sim, ANA, id).is_empty(), "{id}");
        }
        assert_eq!(users_own(&sim, ANA), before);
        sim.shutdown().await;
    }
}
