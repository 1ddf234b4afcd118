//! Readiness through groups, through the real API (`api::serve` on 127.0.0.1:0, reqwest) and the
//! simulator: a principal that holds its level through a mail-enabled group or a nested group
//! (EWS `ExpandDL`, direct members only, nested groups as `PublicDL`), an insufficient group
//! entry that is never expanded, a user's entry that is not a group, a group principal whose
//! service account is not a member (`/readyz` 503 naming it), and a large batch (4,000 here;
//! measured at 100,000 too) that expands each group once. Each check asserts `status`, `ready`,
//! `delegation.level`, `delegation.via` and the EWS requests it made.
//!
//! The principal is the sample's push group (`mytimetable-push@contoso.example`); the configured
//! level is Editor.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use ews_connector::api::{self, AppState};
use ews_connector::delegation::{Delegation, PermissionLevel};
use ews_connector::domain::AccessMode;
use ews_connector::exchange::{Account, Exchange};
use ews_connector::secret::Secret;
use ews_connector::sim::SimHandle;
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

use common::api::{BOTH_TOKEN, Backend, PRINCIPAL, ServedApi, settings, start_api, state};
use common::readiness::{DELEGATE_CHECK_REQUESTS, assert_case, check, serve_delegate};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

/// Groups: `push-editors` holds the principal group; `calendar-admins` holds `push-editors`
/// (so the principal is in it through nesting); `push-reviewers` holds the principal too.
const GROUPS: &str = r#"
[[groups]]
smtp = "push-editors@contoso.example"
display_name = "Push Editors"
members = ["mytimetable-push@contoso.example", "dave@contoso.example"]

[[groups]]
smtp = "calendar-admins@contoso.example"
display_name = "Calendar Admins"
members = ["push-editors@contoso.example"]

[[groups]]
smtp = "push-reviewers@contoso.example"
display_name = "Push Reviewers"
members = ["mytimetable-push@contoso.example"]
"#;

/// The sample state plus the groups and a calendar per case.
fn groups_state() -> String {
    format!(
        "{}\n{GROUPS}\n{}",
        sample_state(),
        r#"
# Editor through a group the principal is a direct member of.
[[mailboxes]]
smtp = "via-group@contoso.example"
display_name = "Vera Group"
permissions = [
  { user = "Default", level = "FreeBusyTimeOnly" },
  { user = "Anonymous", level = "None" },
  { user = "push-editors@contoso.example", level = "Editor" },
]

# Editor through a group that holds a group the principal is in.
[[mailboxes]]
smtp = "via-nested@contoso.example"
display_name = "Nora Nested"
permissions = [
  { user = "Default", level = "FreeBusyTimeOnly" },
  { user = "Anonymous", level = "None" },
  { user = "calendar-admins@contoso.example", level = "Editor" },
]

# Only Reviewer through a group: below Editor, so never expanded.
[[mailboxes]]
smtp = "group-reviewer@contoso.example"
display_name = "Greta Reviewer"
permissions = [
  { user = "Default", level = "FreeBusyTimeOnly" },
  { user = "Anonymous", level = "None" },
  { user = "push-reviewers@contoso.example", level = "Reviewer" },
]

# Editor for a user: a candidate, but ExpandDL says it is no group.
[[mailboxes]]
smtp = "user-editor@contoso.example"
display_name = "Ursula User"
permissions = [
  { user = "Default", level = "FreeBusyTimeOnly" },
  { user = "Anonymous", level = "None" },
  { user = "bob@contoso.example", level = "Editor" },
]
"#
    )
}

/// ExpandDLs since [`serve`] learnt the principal group's members (its one ExpandDL).
fn expand_dls(sim: &SimHandle) -> u64 {
    sim.stats().requests("ExpandDL") - 1
}

/// The API, once it has learnt that the service account is a member of the principal group
/// (one ExpandDL, not counted by the tests below: `expand_dls` starts from there).
async fn serve(sim: &SimHandle) -> ServedApi {
    serve_delegate(sim, true).await
}

#[tokio::test]
async fn editor_through_a_group_is_ok_via_the_group() {
    let sim = start_sim(&groups_state()).await;
    let api = serve(&sim).await;
    let (body, requests) = check(&sim, &api, "via-group@contoso.example").await;
    // One ExpandDL: push-editors lists the principal group (as PublicDL) directly.
    assert_case(
        &body,
        "ok",
        true,
        Some("Editor"),
        Some("push-editors@contoso.example"),
        requests,
        DELEGATE_CHECK_REQUESTS + 1,
    );
    assert_eq!(body["delegation"]["sufficient"], true);
    assert!(body["detail"].is_null(), "{body}");
    // The service account's own rights come through the same groups (nested in Exchange's
    // token): Exchange lets it create and read.
    assert_eq!(body["effectiveRights"]["createContents"], true);
    assert_eq!(body["effectiveRights"]["read"], true);
    assert_eq!(expand_dls(&sim), 1);

    // The membership is cached: the same check again asks only for the two folders.
    let (again, requests) = check(&sim, &api, "via-group@contoso.example").await;
    assert_case(
        &again,
        "ok",
        true,
        Some("Editor"),
        Some("push-editors@contoso.example"),
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
}

#[tokio::test]
async fn editor_through_a_nested_group_is_ok_via_the_outer_group() {
    let sim = start_sim(&groups_state()).await;
    let api = serve(&sim).await;
    let (body, requests) = check(&sim, &api, "via-nested@contoso.example").await;
    // Two ExpandDLs: calendar-admins lists push-editors as a group, which lists the principal.
    assert_case(
        &body,
        "ok",
        true,
        Some("Editor"),
        Some("calendar-admins@contoso.example"),
        requests,
        DELEGATE_CHECK_REQUESTS + 2,
    );
    assert!(body["detail"].is_null(), "{body}");
    assert_eq!(expand_dls(&sim), 2);

    // push-editors is cached now: a calendar granted to it costs no ExpandDL at all.
    let (body, requests) = check(&sim, &api, "via-group@contoso.example").await;
    assert_case(
        &body,
        "ok",
        true,
        Some("Editor"),
        Some("push-editors@contoso.example"),
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
}

#[tokio::test]
async fn an_insufficient_group_entry_is_not_expanded() {
    let sim = start_sim(&groups_state()).await;
    let api = serve(&sim).await;
    let (body, requests) = check(&sim, &api, "group-reviewer@contoso.example").await;
    // Reviewer could not make the principal Editor-ready, and Default (free/busy) could not
    // either: nothing to expand, the answer is "not delegated" whatever the membership.
    assert_case(
        &body,
        "not_delegated",
        false,
        Some("FreeBusyTimeOnly"),
        Some("Default"),
        requests,
        DELEGATE_CHECK_REQUESTS,
    );
    assert_eq!(expand_dls(&sim), 0);
    assert!(
        body["detail"].as_str().unwrap().contains("grant it Editor"),
        "{body}"
    );
}

#[tokio::test]
async fn a_users_editor_entry_is_expanded_once_and_is_not_a_route() {
    let sim = start_sim(&groups_state()).await;
    let api = serve(&sim).await;
    let (body, requests) = check(&sim, &api, "user-editor@contoso.example").await;
    // bob's Editor entry could decide, so it is asked about once: ErrorNameResolutionNoResults
    // (a user, no list) means "not via this entry".
    assert_case(
        &body,
        "not_delegated",
        false,
        Some("FreeBusyTimeOnly"),
        Some("Default"),
        requests,
        DELEGATE_CHECK_REQUESTS + 1,
    );
    let (_, requests) = check(&sim, &api, "user-editor@contoso.example").await;
    assert_eq!(
        requests, DELEGATE_CHECK_REQUESTS,
        "the answer is cached too"
    );
    assert_eq!(expand_dls(&sim), 1);
}

async fn readyz(api: &ServedApi) -> (u16, Value) {
    let response = reqwest::get(api.url("/readyz")).await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Polls `/readyz` until `accept` holds (at most 10 s).
async fn wait_for_readyz(api: &ServedApi, accept: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = readyz(api).await;
        if accept(status, &body) {
            return (status, body);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readyz stayed {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_group_principal_without_the_service_account_is_not_ready_and_names_it() {
    // The principal group holds someone else, not the service account.
    let outside = sample_state().replace(
        r#"members = ["svc-mytt@contoso.example"]"#,
        r#"members = ["dave@contoso.example"]"#,
    );
    assert_ne!(outside, sample_state(), "the sample's push group changed");
    let sim = start_sim(&outside).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    let probe = api::spawn_readiness(&api.state);
    let (status, body) = wait_for_readyz(&api, |status, body| {
        status == 503
            && body["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("not members"))
    })
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "not_ready", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("svc-mytt@contoso.example"), "{detail}");
    assert!(detail.contains(PRINCIPAL), "{detail}");
    // Exchange itself is fine: the account probe succeeded.
    assert!(
        detail.contains("svc-mytt@contoso.example: healthy"),
        "{detail}"
    );
    assert_eq!(
        sim.stats().requests("ExpandDL"),
        1,
        "one ExpandDL of the principal group"
    );
    probe.abort();

    // The sample, where the service account is a member: ready, after the same single ExpandDL.
    let sim = start_sim(&sample_state()).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    let probe = api::spawn_readiness(&api.state);
    let (status, body) = wait_for_readyz(&api, |status, _| status == 200).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sim.stats().requests("ExpandDL"), 1);
    probe.abort();
}

/// An API state in impersonation mode (one GetFolder per check, permission set included), with
/// the per-account ceiling at 10.
fn impersonation_state(sim: &SimHandle) -> AppState {
    let mut transport = TransportSettings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
    transport.max_connections_per_account = 10;
    transport.request_timeout = Duration::from_secs(20);
    let exchange = Arc::new(
        Exchange::new(ews_connector::exchange::Settings {
            transport,
            version: "Exchange2013_SP1".to_owned(),
            accounts: vec![Account {
                username: r"CONTOSO\svc-mytt".to_owned(),
                smtp: "svc-mytt@contoso.example".to_owned(),
                password: Secret::new(SVC_PASSWORD),
            }],
            capture_dir: None,
            retry_budget: Duration::from_secs(5),
            auth_failure_cooldown: Duration::from_secs(900),
        })
        .unwrap(),
    );
    let delegation = Arc::new(Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange.clone()),
        ews_connector::delegation::Settings {
            access: AccessMode::Impersonation,
            impersonation: true,
            principal: PRINCIPAL.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
        },
        None,
    ));
    AppState::new(settings(), delegation, exchange, None)
}

/// The batch size here. The same test at 100,000 mailboxes passes too (ExpandDL = 2) but runs
/// 150 s in a debug build on the 2-core CI machine (about 1.5 ms per check, all of it the
/// GetFolder round trip); the single flight is decided within the first wave of 10 concurrent
/// checks, so 4,000 mailboxes (400 waves) show the same thing in a few seconds.
const BATCH: usize = 4_000;

#[tokio::test]
async fn a_large_batch_expands_each_group_once() {
    // Half the calendars grant Editor to push-editors, half to calendar-admins (which nests
    // push-editors): two groups, however many calendars and however concurrent the checks.
    let mut toml = format!(
        "[[accounts]]\nusername = 'CONTOSO\\svc-mytt'\npassword = \"{SVC_PASSWORD}\"\n\
         smtp = \"svc-mytt@contoso.example\"\nimpersonation = \"all\"\n\n\
         [[groups]]\nsmtp = \"{PRINCIPAL}\"\nmembers = [\"svc-mytt@contoso.example\"]\n{GROUPS}\n"
    );
    toml.reserve(BATCH * 200);
    for index in 0..BATCH {
        let group = if index % 2 == 0 {
            "push-editors"
        } else {
            "calendar-admins"
        };
        toml.push_str(&format!(
            "[[mailboxes]]\nsmtp = \"user{index:06}@contoso.example\"\n\
             permissions = [{{ user = \"Default\", level = \"None\" }}, {{ user = \"{group}@contoso.example\", level = \"Editor\" }}]\n"
        ));
    }
    let started = std::time::Instant::now();
    let sim = start_sim(&toml).await;
    eprintln!("simulator with {BATCH} mailboxes: {:?}", started.elapsed());
    let api = start_api(impersonation_state(&sim)).await;
    let list: Vec<String> = (0..BATCH)
        .map(|index| format!("user{index:06}@contoso.example"))
        .collect();
    let started = std::time::Instant::now();
    let response = reqwest::Client::new()
        .post(api.url("/v1/calendar/access:batch"))
        .bearer_auth(BOTH_TOKEN)
        .json(&json!({ "mailboxes": list }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    eprintln!("batch of {BATCH}: {:?}", started.elapsed());
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        BATCH + 1,
        "one line per mailbox, then the summary"
    );
    let mut via_outer = 0;
    for line in &lines[..BATCH] {
        assert_eq!(line["status"], "ok", "{line}");
        assert_eq!(line["delegation"]["level"], "Editor", "{line}");
        match line["delegation"]["via"].as_str() {
            Some("push-editors@contoso.example") => {}
            Some("calendar-admins@contoso.example") => via_outer += 1,
            _ => panic!("{line}"),
        }
    }
    assert_eq!(via_outer, BATCH / 2);
    let stats = sim.stats();
    assert_eq!(stats.requests("GetFolder"), BATCH as u64);
    assert_eq!(
        stats.requests("ExpandDL"),
        2,
        "each group once: push-editors and calendar-admins"
    );
}
