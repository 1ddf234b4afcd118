//! The access check through the served API, as the readiness tests read it: the body and the
//! EWS requests one check made, and the fields every readiness case asserts.

use reqwest::StatusCode;
use serde_json::Value;

use ews_connector::sim::SimHandle;

use super::api::{Backend, CHECK_TOKEN, PRINCIPAL, ServedApi, settings, start_api, state};
use super::sim::SVC_PASSWORD;

/// EWS requests the simulator answered, all operations together.
pub fn ews_requests(sim: &SimHandle) -> u64 {
    sim.stats().requests_by_operation.values().sum()
}

/// `GET .../calendar/access` for `mailbox`; the body and the EWS requests the check made.
pub async fn check(sim: &SimHandle, api: &ServedApi, mailbox: &str) -> (Value, u64) {
    let before = ews_requests(sim);
    let response = reqwest::Client::new()
        .get(api.url(&format!("/v1/mailboxes/{mailbox}/calendar/access")))
        .bearer_auth(CHECK_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{mailbox}");
    let body: Value = response.json().await.unwrap();
    (body, ews_requests(sim) - before)
}

/// Asserts `status`, `ready`, `delegation.level`, `delegation.via` (always present, null for the
/// own entry), the principal and required level, and the EWS requests of the check.
pub fn assert_case(
    body: &Value,
    status: &str,
    ready: bool,
    level: Option<&str>,
    via: Option<&str>,
    requests: u64,
    expected_requests: u64,
) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["ready"], ready, "{body}");
    assert_eq!(body["delegation"]["level"].as_str(), level, "{body}");
    assert_eq!(body["delegation"]["via"].as_str(), via, "{body}");
    assert!(
        body["delegation"].as_object().unwrap().contains_key("via"),
        "`via` is always present (null for the own entry): {body}"
    );
    assert_eq!(body["delegation"]["principal"], PRINCIPAL);
    assert_eq!(body["delegation"]["required"], "Editor");
    assert_eq!(
        requests, expected_requests,
        "EWS requests of this check: {body}"
    );
}

/// The connector learns, once per group cache TTL, that the service account is a member of the
/// principal group (the sample's principal is a group): the service does it at start, in its
/// first readiness pass; here a first check does it. That check costs the owner's GetFolder and
/// the principal group's ExpandDL; every later check whose permission set decides costs one
/// GetFolder.
pub async fn learn_principal_membership(sim: &SimHandle, api: &ServedApi) {
    let expansions = sim.stats().requests("ExpandDL");
    let (body, requests) = check(sim, api, "granted@contoso.example").await;
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(requests, 2, "one GetFolder and one ExpandDL: {body}");
    assert_eq!(sim.stats().requests("ExpandDL") - expansions, 1);
}

/// One GetFolder in delegate mode with impersonation: the permission set, read as the owner,
/// decides for the service account (a member of the principal group).
pub const DELEGATE_CHECK_REQUESTS: u64 = 1;

/// The API on the simulator in delegate mode, with or without impersonation; with it, once it has
/// learnt that the service account is a member of the principal group (one GetFolder and one
/// ExpandDL, before the caller counts anything).
pub async fn serve_delegate(sim: &SimHandle, impersonation: bool) -> ServedApi {
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.impersonation = impersonation;
    let api = start_api(state(settings(), &backend)).await;
    if impersonation {
        learn_principal_membership(sim, &api).await;
    }
    api
}
