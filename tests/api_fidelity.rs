//! Behaviours of real Exchange that the simulator models after Microsoft's documentation
//! (docs/FIDELITY.md), each driven through the HTTP API against the simulator: a write refused
//! for a missing ChangeKey is re-read and retried like a conflict; an alias is followed once to
//! the primary address Exchange names; a mailbox moved to Exchange Online is reported with its
//! MailboxGuid; permission entries the connector does not model (a user known only by
//! ExternalUserIdentity, an empty UserId) are written back as read, and a calendar holding
//! UnknownEntries (deleted accounts, which Exchange deletes on any rewrite) is refused untouched.

mod common;

use reqwest::StatusCode;
use serde_json::Value;

use ews_connector::sim::{FaultKind, ScriptedFault};

use common::api::{
    Backend, CHECK_TOKEN, DELEGATE_TOKEN, PRINCIPAL, ServedApi, settings, start_api, state,
};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

fn delegation(mailbox: &str) -> String {
    format!("/v1/mailboxes/{mailbox}/calendar/delegation")
}

fn access(mailbox: &str) -> String {
    format!("/v1/mailboxes/{mailbox}/calendar/access")
}

async fn send(
    api: &ServedApi,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .request(method, api.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn put(api: &ServedApi, path: &str, token: &str) -> (StatusCode, Value) {
    send(api, reqwest::Method::PUT, path, token).await
}

/// EWS requests the simulator answered so far, all operations together.
fn ews_requests(sim: &ews_connector::sim::SimHandle) -> u64 {
    sim.stats().requests_by_operation.values().sum()
}

const PRIMARY: &str = "granted@contoso.example";
const ALIAS: &str = "grace@contoso.example";
const MOVED: &str = "moved@contoso.example";
const MOVED_GUID: &str = "8d2f6a41-3c5e-4b7a-9e10-5f4c2b1a0d93";

fn principal_level(
    sim: &ews_connector::sim::SimHandle,
    mailbox: &str,
) -> Option<ews_connector::sim::PermissionLevel> {
    sim.permissions(mailbox)
        .unwrap()
        .into_iter()
        .find(|entry| entry.user.eq_ignore_ascii_case(PRINCIPAL))
        .map(|entry| entry.level)
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

#[tokio::test]
async fn an_alias_is_followed_once_to_the_primary_address_exchange_names() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit);
    let api = start_api(state(settings(), &backend)).await;

    // The check by the primary address: the baseline (after a first check, which also learns
    // that the service account is a member of the principal group: one ExpandDL per cache TTL).
    let (status, _) = send(&api, reqwest::Method::GET, &access(PRIMARY), CHECK_TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    let before = ews_requests(&sim);
    let (status, direct) = send(&api, reqwest::Method::GET, &access(PRIMARY), CHECK_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{direct}");
    let direct_requests = ews_requests(&sim) - before;
    assert_eq!(direct["status"], "ok", "{direct}");
    assert_eq!(direct["primarySmtpAddress"], Value::Null, "{direct}");

    // By the alias: the same answer, about the asked address, naming the primary one, for
    // exactly one EWS request more (the one Exchange answered ErrorNonPrimarySmtpAddress).
    let before = ews_requests(&sim);
    let (status, body) = send(&api, reqwest::Method::GET, &access(ALIAS), CHECK_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ews_requests(&sim) - before, direct_requests + 1, "{body}");
    assert_eq!(body["mailbox"], ALIAS, "{body}");
    assert_eq!(body["primarySmtpAddress"], PRIMARY, "{body}");
    for field in ["status", "ready", "delegation", "ewsResponseCode", "detail"] {
        assert_eq!(body[field], direct[field], "{field}: {body}");
    }

    // A revoke by the alias writes the primary mailbox's calendar (its impersonated read is a
    // SOAP fault naming the primary): one extra request for the whole read-merge-write.
    let before = ews_requests(&sim);
    let (status, body) = send(
        &api,
        reqwest::Method::DELETE,
        &delegation(ALIAS),
        DELEGATE_TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], true, "{body}");
    let by_alias = ews_requests(&sim) - before;
    assert_eq!(principal_level(&sim, PRIMARY), None);
    let (status, body) = put(&api, &delegation(PRIMARY), DELEGATE_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = ews_requests(&sim);
    let (status, body) = send(
        &api,
        reqwest::Method::DELETE,
        &delegation(PRIMARY),
        DELEGATE_TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(by_alias, ews_requests(&sim) - before + 1);

    // An address that is nobody's stays mailbox_not_found, followed nowhere.
    let (status, body) = send(
        &api,
        reqwest::Method::GET,
        &access("nobody@contoso.example"),
        CHECK_TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "mailbox_not_found", "{body}");
    assert_eq!(body["primarySmtpAddress"], Value::Null, "{body}");
}

#[tokio::test]
async fn a_push_to_an_alias_lands_in_the_primary_mailbox() {
    let setup = common::push::PushSetup::start().await;
    let body = common::push::lecture(
        "Linear Algebra - Lecture",
        common::push::utc("2026-12-01T08:00:00Z"),
        90,
    );
    let (status, answer) = setup.put_event(ALIAS, "mytt-alias-1", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(setup.ours(PRIMARY, "mytt-alias-1").len(), 1);
    // Sent again by the alias: found in the primary mailbox, nothing written.
    let (status, answer) = setup.put_event(ALIAS, "mytt-alias-1", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"], "unchanged", "{answer}");
    assert_eq!(setup.requests("CreateItem"), 1);
}

#[tokio::test]
async fn a_mailbox_moved_to_exchange_online_is_reported_with_its_guid() {
    let sim = start_sim(&sample_state()).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;

    let (status, body) = send(&api, reqwest::Method::GET, &access(MOVED), CHECK_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mailbox"], MOVED);
    assert_eq!(body["status"], "mailbox_not_found", "{body}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["ewsResponseCode"], "ErrorNonExistentMailbox", "{body}");
    assert_eq!(body["mailboxGuid"], MOVED_GUID, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Exchange Online") && detail.contains(MOVED_GUID),
        "{detail}"
    );

    // A mailbox nobody knows has no guid, and says so as before.
    let (_, body) = send(
        &api,
        reqwest::Method::GET,
        &access("nobody@contoso.example"),
        CHECK_TOKEN,
    )
    .await;
    assert_eq!(body["status"], "mailbox_not_found", "{body}");
    assert_eq!(body["mailboxGuid"], Value::Null, "{body}");
    assert!(
        !body["detail"].as_str().unwrap().contains("Exchange Online"),
        "{body}"
    );
}

async fn delete(api: &ServedApi, path: &str, token: &str) -> (StatusCode, Value) {
    send(api, reqwest::Method::DELETE, path, token).await
}

/// The entries of a calendar that are not the principal's, as the simulator stores them.
fn others(
    sim: &ews_connector::sim::SimHandle,
    mailbox: &str,
) -> Vec<ews_connector::sim::PermissionView> {
    sim.permissions(mailbox)
        .unwrap()
        .into_iter()
        .filter(|entry| !entry.user.eq_ignore_ascii_case(PRINCIPAL))
        .collect()
}

/// Erin's calendar from the sample, under another address, without its UnknownEntries: what it
/// looks like once an admin has removed the deleted account.
fn with_cleaned_erin(state: &str) -> String {
    let erin = &state[state
        .find("[[mailboxes]]\nsmtp = \"erin@contoso.example\"")
        .unwrap()..];
    let cleaned = erin
        .replace("erin@contoso.example", "frank@contoso.example")
        .replace(
            "display_name = \"Erin Old\"",
            "display_name = \"Frank Clean\"",
        )
        .lines()
        .filter(|line| !line.starts_with("unknown_entries"))
        .collect::<Vec<_>>()
        .join("\n");
    format!("{state}\n{cleaned}\n")
}

#[tokio::test]
async fn unmodelled_entries_come_back_as_read_and_unknown_entries_are_refused_untouched() {
    const ERIN: &str = "erin@contoso.example";
    const FRANK: &str = "frank@contoso.example";
    let sim = start_sim(&with_cleaned_erin(&sample_state())).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let capture = tempfile::tempdir().unwrap();
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit);
    backend.capture_dir = Some(capture.path());
    let api = start_api(state(settings(), &backend)).await;

    // Erin: a cross-organization user, an empty UserId, and a deleted account under
    // UnknownEntries. A grant would make Exchange delete the last: refused, nothing written,
    // the stored set exactly as before (ChangeKey included). The same for a dry run and a revoke.
    let erin_before = sim.calendar(ERIN).unwrap();
    assert_eq!(erin_before.unknown_entries.len(), 1);
    for (method, request) in [
        (reqwest::Method::PUT, serde_json::json!({})),
        (reqwest::Method::PUT, serde_json::json!({"dryRun": true})),
        (reqwest::Method::DELETE, serde_json::json!({})),
    ] {
        let updates_before = sim.stats().requests("UpdateFolder");
        let response = reqwest::Client::new()
            .request(method.clone(), api.url(&delegation(ERIN)))
            .bearer_auth(DELEGATE_TOKEN)
            .json(&request)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let path = format!("{request}");
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{method} {path}: {body}"
        );
        assert_eq!(body["code"], "access_denied", "{body}");
        assert_eq!(body["mailbox"], ERIN, "{body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("NT:S-1-5-21-3623811015-3361044348-30300820-1999")
                && detail.contains("nothing was written"),
            "{detail}"
        );
        assert_eq!(
            sim.stats().requests("UpdateFolder"),
            updates_before,
            "{method} {path}"
        );
        assert_eq!(sim.calendar(ERIN).unwrap(), erin_before, "{method} {path}");
    }

    // The check says so before anyone tries: the deleted account is named, and why a change
    // would be refused.
    let (status, checked) = send(&api, reqwest::Method::GET, &access(ERIN), CHECK_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    let detail = checked["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 deleted account(s) (NT:S-1-5-21-3623811015-3361044348-30300820-1999)")
            && detail.contains("a grant or revoke is refused"),
        "{detail}"
    );

    // Each refusal is in the audit trail (no intent: nothing was about to be sent).
    let trail = std::fs::read_to_string(&audit).unwrap();
    let erin_records: Vec<Value> = trail
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| record["mailbox"] == ERIN)
        .collect();
    assert_eq!(erin_records.len(), 3, "{trail}");
    for record in &erin_records {
        assert_eq!(record["result"], "failed", "{record}");
        assert!(
            record["detail"]
                .as_str()
                .unwrap()
                .contains("UnknownEntries"),
            "{record}"
        );
    }

    // Frank: the same entries without UnknownEntries. Grant and revoke go through, and the
    // external and empty entries are stored exactly as before each time.
    let frank_before = others(&sim, FRANK);
    assert_eq!(
        frank_before[2].user,
        "external:ExchangePublishedUser.partner@fabrikam.example"
    );
    assert_eq!(frank_before[3].user, "");
    let (status, body) = put(&api, &delegation(FRANK), DELEGATE_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(
        principal_level(&sim, FRANK),
        Some(ews_connector::sim::PermissionLevel::Editor)
    );
    assert_eq!(others(&sim, FRANK), frank_before);
    let (status, body) = delete(&api, &delegation(FRANK), DELEGATE_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(principal_level(&sim, FRANK), None);
    assert_eq!(others(&sim, FRANK), frank_before);
    assert_eq!(sim.permissions(FRANK).unwrap(), frank_before);

    // What was sent: the external user by its identity alone, the empty UserId as read, no
    // UnknownEntries; every captured request is schema-valid.
    let captured: Vec<std::path::PathBuf> = std::fs::read_dir(capture.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    let writes: Vec<String> = captured
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .filter(|body| body.contains("<m:UpdateFolder>"))
        .collect();
    assert_eq!(writes.len(), 2, "one grant, one revoke");
    for write in &writes {
        assert!(
            write.contains("<t:UserId><t:ExternalUserIdentity>ExchangePublishedUser.partner@fabrikam.example</t:ExternalUserIdentity></t:UserId><t:CalendarPermissionLevel>Reviewer</t:CalendarPermissionLevel>"),
            "{write}"
        );
        assert!(
            write.contains(concat!(
                "<t:UserId/><t:CanCreateItems>false</t:CanCreateItems>",
                "<t:CanCreateSubFolders>false</t:CanCreateSubFolders>",
                "<t:IsFolderOwner>false</t:IsFolderOwner><t:IsFolderVisible>true</t:IsFolderVisible>",
                "<t:IsFolderContact>false</t:IsFolderContact><t:EditItems>None</t:EditItems>",
                "<t:DeleteItems>None</t:DeleteItems><t:ReadItems>TimeOnly</t:ReadItems>",
                "<t:CalendarPermissionLevel>Custom</t:CalendarPermissionLevel>"
            )),
            "{write}"
        );
        assert!(!write.contains("UnknownEntr"), "{write}");
    }
    if common::schema::require_or_skip("validation") {
        common::schema::validate_all(&captured).unwrap();
    }
}
