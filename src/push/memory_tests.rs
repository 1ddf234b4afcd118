//! The rules of `push` against the in-memory backend (`backend::memory`): no simulator, no XML;
//! what an upsert, delete and sync write, and how a lost answer or a stale version is handled.
//! The same rules against EWS and the simulator, with request counts: `tests/push_sim.rs`,
//! `tests/push_faults.rs`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::backend::memory::{MemoryBackend, MemoryCalendar, MemoryItem};
use crate::domain::events::FieldChange;
use crate::domain::{AccessMode, Mailbox};
use crate::push::{DeleteType, Error, Event, ExternalId, Push, Settings, UpsertResult, Window};

const ALICE: &str = "alice@uni.example";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn event(id: &str, subject: &str, day: u32) -> Event {
    crate::domain::event::lecture_on(id, subject, day)
}

/// December 2026.
fn december() -> Window {
    Window::new(at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z")).unwrap()
}

/// A backend with Alice's empty calendar, and a push on it (hard deletes, batches of 2).
fn setup() -> (Arc<MemoryBackend>, Push, Mailbox) {
    let backend = Arc::new(MemoryBackend::default());
    backend.insert(ALICE, MemoryCalendar::default());
    let settings = Settings {
        batch_size: 2,
        delete_type: DeleteType::HardDelete,
        ..Settings::new(AccessMode::Delegate)
    };
    let push = Push::new(backend.clone(), settings);
    (backend, push, Mailbox::parse(ALICE).unwrap())
}

/// The user's own item in the window, which no push may touch.
fn users_item() -> MemoryItem {
    MemoryItem::users(
        "users-1",
        "Dentist",
        at("2026-12-02T08:00:00Z"),
        at("2026-12-02T09:00:00Z"),
    )
}

/// Our external ids in the calendar, sorted.
fn ours(backend: &MemoryBackend) -> Vec<String> {
    let mut ids: Vec<String> = backend
        .items(ALICE)
        .into_iter()
        .filter_map(|item| item.external_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_same_event_upserted_again_writes_nothing() {
    let (backend, push, mailbox) = setup();
    let lecture = event("mytt:1", "Linear Algebra", 1);
    assert_eq!(
        push.upsert(&mailbox, &lecture).await.unwrap(),
        UpsertResult::Created
    );
    assert_eq!(
        push.upsert(&mailbox, &lecture).await.unwrap(),
        UpsertResult::Unchanged
    );
    assert_eq!(backend.count("create_events"), 1);
    assert_eq!(backend.count("update_events"), 0);
    assert_eq!(backend.count("delete_events"), 0);
    assert_eq!(backend.items(ALICE).len(), 1);
    assert_eq!(push.backend(), "memory");
}

#[tokio::test]
async fn an_update_writes_only_the_changed_field_and_the_hash() {
    let (backend, push, mailbox) = setup();
    push.upsert(&mailbox, &event("mytt:1", "Linear Algebra", 1))
        .await
        .unwrap();
    let before = backend.items(ALICE).remove(0);
    let moved = event("mytt:1", "Linear Algebra (moved)", 1);
    assert_eq!(
        push.upsert(&mailbox, &moved).await.unwrap(),
        UpsertResult::Updated
    );
    assert_eq!(
        backend.updates(),
        vec![vec![
            FieldChange::Subject("Linear Algebra (moved)".to_owned()),
            FieldChange::ContentHash(moved.content_hash()),
        ]]
    );
    let after = backend.items(ALICE).remove(0);
    assert_eq!(after.id, before.id, "updated in place");
    assert_eq!(after.subject.as_deref(), Some("Linear Algebra (moved)"));
    assert_eq!(
        MemoryItem {
            subject: before.subject.clone(),
            content_hash: before.content_hash.clone(),
            version: before.version,
            ..after
        },
        before,
        "every other field as it was"
    );
}

#[tokio::test]
async fn a_stale_version_is_read_again_and_retried() {
    let (backend, push, mailbox) = setup();
    push.upsert(&mailbox, &event("mytt:1", "A", 1))
        .await
        .unwrap();
    backend.lose_next_item_writes(1);
    assert_eq!(
        push.upsert(&mailbox, &event("mytt:1", "B", 1))
            .await
            .unwrap(),
        UpsertResult::Updated
    );
    assert_eq!(backend.count("read_events"), 2);
    assert_eq!(backend.count("update_events"), 2);
    assert_eq!(backend.items(ALICE)[0].subject.as_deref(), Some("B"));
}

#[tokio::test]
async fn deleting_an_unknown_external_id_is_event_not_found_and_writes_nothing() {
    let (backend, push, mailbox) = setup();
    backend.insert_item(ALICE, users_item());
    push.upsert(&mailbox, &event("mytt:1", "A", 1))
        .await
        .unwrap();
    let error = push
        .delete(&mailbox, &ExternalId::parse("mytt:404").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::EventNotFound(id) if id == "mytt:404"),
        "{error:?}"
    );
    assert_eq!(backend.count("delete_events"), 0);
    assert_eq!(backend.items(ALICE).len(), 2);

    // A known one goes, with the configured delete type; the user's item stays.
    push.delete(&mailbox, &ExternalId::parse("mytt:1").unwrap())
        .await
        .unwrap();
    assert_eq!(backend.delete_types(), vec![DeleteType::HardDelete]);
    assert_eq!(backend.items(ALICE), vec![users_item()]);
}

#[tokio::test]
async fn a_sync_creates_updates_and_deletes_the_difference_and_leaves_the_users_items() {
    let (backend, push, mailbox) = setup();
    backend.insert_item(ALICE, users_item());
    let first = vec![
        event("mytt:a", "A", 1),
        event("mytt:b", "B", 2),
        event("mytt:c", "C", 3),
    ];
    let report = push.sync(&mailbox, december(), first).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.updated,
            report.unchanged,
            report.deleted
        ),
        (3, 0, 0, 0)
    );
    assert!(report.failed.is_empty());
    // Batches of 2: two creates for three events.
    assert_eq!(backend.count("create_events"), 2);

    let second = vec![
        event("mytt:a", "A (moved)", 1),
        event("mytt:b", "B", 2),
        event("mytt:d", "D", 4),
    ];
    let report = push
        .sync(&mailbox, december(), second.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            report.created,
            report.updated,
            report.unchanged,
            report.deleted
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(ours(&backend), ["mytt:a", "mytt:b", "mytt:d"]);
    assert!(backend.items(ALICE).contains(&users_item()));

    // Once more: nothing to write.
    let writes = backend.count("create_events")
        + backend.count("update_events")
        + backend.count("delete_events");
    let report = push.sync(&mailbox, december(), second).await.unwrap();
    assert_eq!(report.unchanged, 3);
    assert_eq!(
        backend.count("create_events")
            + backend.count("update_events")
            + backend.count("delete_events"),
        writes
    );
}

#[tokio::test]
async fn an_event_moved_into_the_window_is_updated_not_created_twice() {
    let (backend, push, mailbox) = setup();
    // Ours, in November: outside the window.
    let mut november = event("mytt:a", "A", 1);
    november.start = at("2026-11-20T08:00:00Z");
    november.end = at("2026-11-20T09:00:00Z");
    push.upsert(&mailbox, &november).await.unwrap();
    let report = push
        .sync(&mailbox, december(), vec![event("mytt:a", "A", 1)])
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (0, 1));
    assert_eq!(backend.items(ALICE).len(), 1);
    assert_eq!(backend.items(ALICE)[0].start, at("2026-12-01T08:00:00Z"));
}

#[tokio::test]
async fn a_lost_create_answer_is_looked_up_before_creating_again() {
    let (backend, push, mailbox) = setup();
    backend.lose_next_create_answers(1);
    assert_eq!(
        push.upsert(&mailbox, &event("mytt:1", "A", 1))
            .await
            .unwrap(),
        UpsertResult::Created
    );
    assert_eq!(backend.items(ALICE).len(), 1, "one item, never two");
    assert_eq!(backend.count("create_events"), 1);
    assert_eq!(backend.count("find_by_external_ids"), 2);
}

#[tokio::test]
async fn a_sync_whose_create_answer_was_lost_reads_the_window_before_sending_again() {
    let (backend, push, mailbox) = setup();
    backend.lose_next_create_answers(1);
    let events = vec![event("mytt:a", "A", 1), event("mytt:b", "B", 2)];
    let report = push.sync(&mailbox, december(), events).await.unwrap();
    assert_eq!(report.created, 2);
    assert!(report.failed.is_empty());
    assert_eq!(ours(&backend), ["mytt:a", "mytt:b"]);
    assert_eq!(backend.count("create_events"), 1);
    assert_eq!(backend.count("find_events"), 2);
}
