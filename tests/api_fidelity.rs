//! Behaviours of real Exchange that the simulator models after Microsoft's documentation
//! (docs/FIDELITY.md), each driven through the HTTP API against the simulator: a write refused
//! for a missing ChangeKey is re-read and retried like a conflict.

mod common;

use reqwest::StatusCode;
use serde_json::Value;

use ews_connector::sim::{FaultKind, ScriptedFault};

use common::api::{Backend, DELEGATE_TOKEN, PRINCIPAL, ServedApi, settings, start_api, state};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

fn delegation(mailbox: &str) -> String {
    format!("/v1/mailboxes/{mailbox}/calendar/delegation")
}

async fn put(api: &ServedApi, path: &str, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .put(api.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn change_key_required(mailbox: &str, count: u32) -> ScriptedFault {
    ScriptedFault {
        operation: Some("UpdateFolder".to_owned()),
        mailbox: Some(mailbox.to_owned()),
        count,
        kind: FaultKind::MessageError {
            code: "ErrorChangeKeyRequiredForWriteOperations".to_owned(),
        },
    }
}

#[tokio::test]
async fn change_key_required_on_update_folder_is_read_again_and_retried() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit);
    let api = start_api(state(settings(), &backend)).await;

    // Once: the grant reads again, writes again, and succeeds.
    let mailbox = "plain@contoso.example";
    sim.push_fault(change_key_required(mailbox, 1));
    let before = sim.stats();
    let (status, body) = put(&api, &delegation(mailbox), DELEGATE_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(body["level"], "Editor", "{body}");
    let after = sim.stats();
    assert_eq!(after.faults_applied - before.faults_applied, 1);
    assert_eq!(
        after.requests("UpdateFolder") - before.requests("UpdateFolder"),
        2,
        "the refused write and the retried one"
    );
    let entry = sim
        .permissions(mailbox)
        .unwrap()
        .into_iter()
        .find(|entry| entry.user.eq_ignore_ascii_case(PRINCIPAL))
        .expect("the principal's entry was written");
    assert_eq!(
        entry.level,
        ews_connector::sim::PermissionLevel::Editor,
        "{entry:?}"
    );

    // Every time: the bounded retries end in 409 `conflict`, and nothing was written.
    let mailbox = "reviewer@contoso.example";
    let levels_before = sim.permissions(mailbox).unwrap();
    sim.push_fault(change_key_required(mailbox, 100));
    let before = sim.stats();
    let (status, body) = put(&api, &delegation(mailbox), DELEGATE_TOKEN).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "conflict", "{body}");
    let writes = sim.stats().requests("UpdateFolder") - before.requests("UpdateFolder");
    assert!(
        (2..=5).contains(&writes),
        "retried, but within the bound: {writes} writes"
    );
    assert_eq!(sim.permissions(mailbox).unwrap(), levels_before);
}
