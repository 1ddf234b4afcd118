//! The push rows of `docs/FAULTS.md`: each scripted fault of the simulator against upsert and
//! delete through the HTTP API, one fresh simulator per row. Each row asserts the status, the
//! problem code, and how many of our items the calendar holds afterwards (never two).

mod common;

use axum::http::StatusCode;
use serde_json::json;

use ews_connector::domain::AccessMode;
use ews_connector::sim::{FaultKind, ScriptedFault};

use common::push::{GRANTED, PLAIN, PushSetup, lecture, utc};

/// More faults than fit in the retry budget.
const FOR_EVER: u32 = 1000;

#[derive(Clone, Copy, Debug)]
enum Action {
    /// PUT of a new event.
    Create,
    /// PUT of a changed subject on an existing event.
    Update,
    /// DELETE of an existing event.
    Delete,
}

struct Row {
    fault: FaultKind,
    action: Action,
    operation: &'static str,
    count: u32,
    status: StatusCode,
    /// The problem code, for a problem answer.
    code: Option<&'static str>,
    /// Our items with the id afterwards.
    items: usize,
}

fn rows() -> Vec<Row> {
    let busy = || FaultKind::ServerBusy { back_off_ms: 200 };
    let row = |fault, action, operation, count, status, code, items| Row {
        fault,
        action,
        operation,
        count,
        status,
        code,
        items,
    };
    use Action::*;
    vec![
        row(
            busy(),
            Create,
            "CreateItem",
            2,
            StatusCode::CREATED,
            None,
            1,
        ),
        row(
            busy(),
            Create,
            "CreateItem",
            FOR_EVER,
            StatusCode::SERVICE_UNAVAILABLE,
            Some("throttled"),
            0,
        ),
        row(busy(), Create, "FindItem", 2, StatusCode::CREATED, None, 1),
        row(
            FaultKind::ResetAfterProcessing,
            Create,
            "CreateItem",
            1,
            StatusCode::CREATED,
            None,
            1,
        ),
        row(
            FaultKind::ResetAfterProcessing,
            Create,
            "CreateItem",
            FOR_EVER,
            StatusCode::CREATED,
            None,
            1,
        ),
        row(
            FaultKind::Reset,
            Create,
            "CreateItem",
            1,
            StatusCode::CREATED,
            None,
            1,
        ),
        row(
            FaultKind::Malformed,
            Create,
            "CreateItem",
            1,
            StatusCode::CREATED,
            None,
            1,
        ),
        row(
            FaultKind::Reset,
            Create,
            "FindItem",
            1,
            StatusCode::CREATED,
            None,
            1,
        ),
        row(
            FaultKind::Malformed,
            Create,
            "FindItem",
            1,
            StatusCode::BAD_GATEWAY,
            Some("exchange_error"),
            0,
        ),
        row(busy(), Update, "UpdateItem", 2, StatusCode::OK, None, 1),
        row(
            busy(),
            Update,
            "UpdateItem",
            FOR_EVER,
            StatusCode::SERVICE_UNAVAILABLE,
            Some("throttled"),
            1,
        ),
        row(
            FaultKind::ResetAfterProcessing,
            Update,
            "UpdateItem",
            1,
            StatusCode::OK,
            None,
            1,
        ),
        row(
            FaultKind::Reset,
            Update,
            "GetItem",
            1,
            StatusCode::OK,
            None,
            1,
        ),
        row(
            FaultKind::ResetAfterProcessing,
            Delete,
            "DeleteItem",
            1,
            StatusCode::NO_CONTENT,
            None,
            0,
        ),
        row(
            busy(),
            Delete,
            "DeleteItem",
            FOR_EVER,
            StatusCode::SERVICE_UNAVAILABLE,
            Some("throttled"),
            1,
        ),
        row(
            FaultKind::SoapFault {
                code: "ErrorMailboxMoveInProgress".to_owned(),
            },
            Create,
            "FindItem",
            1,
            StatusCode::SERVICE_UNAVAILABLE,
            Some("mailbox_unavailable"),
            0,
        ),
    ]
}

#[tokio::test]
async fn every_push_fault_row_of_the_faults_table_holds() {
    let body = lecture("Lecture", utc("2026-12-01T08:00:00Z"), 60);
    let mut changed = body.clone();
    changed["subject"] = json!("Lecture (changed)");
    for row in rows() {
        let what = format!(
            "{:?} on {} x{} during {:?}",
            row.fault, row.operation, row.count, row.action
        );
        let setup = PushSetup::start().await;
        if !matches!(row.action, Action::Create) {
            let (status, _) = setup.put_event(GRANTED, "mytt-f", &body).await;
            assert_eq!(status, StatusCode::CREATED, "{what}: setup");
        }
        setup.sim.push_fault(ScriptedFault {
            operation: Some(row.operation.to_owned()),
            count: row.count,
            ..ScriptedFault::once(row.fault.clone())
        });
        let (status, answer) = match row.action {
            Action::Create => setup.put_event(GRANTED, "mytt-f", &body).await,
            Action::Update => setup.put_event(GRANTED, "mytt-f", &changed).await,
            Action::Delete => setup.delete_event(GRANTED, "mytt-f").await,
        };
        assert_eq!(status, row.status, "{what}: {answer}");
        if let Some(code) = row.code {
            assert_eq!(answer["code"], code, "{what}: {answer}");
            assert_eq!(answer["mailbox"], GRANTED, "{what}");
        }
        assert_eq!(setup.ours(GRANTED, "mytt-f").len(), row.items, "{what}");
        if matches!(row.action, Action::Update) && row.status == StatusCode::OK {
            let item = setup.ours(GRANTED, "mytt-f").remove(0);
            assert_eq!(item.subject.as_deref(), Some("Lecture (changed)"), "{what}");
        }
    }
}

#[tokio::test]
async fn impersonation_refused_by_exchange_is_422_impersonation_denied() {
    let setup = PushSetup::with(AccessMode::Impersonation, 50).await;
    let body = lecture("Lecture", utc("2026-12-01T08:00:00Z"), 60);
    // The sample's service account may impersonate every mailbox but the CEO's.
    let (status, problem) = setup
        .put_event("ceo@contoso.example", "mytt-f", &body)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "impersonation_denied");
    assert_eq!(
        setup.requests("CreateItem"),
        0,
        "the lookup was refused first"
    );
    let (status, _) = setup.put_event(PLAIN, "mytt-f", &body).await;
    assert_eq!(status, StatusCode::CREATED);
}
