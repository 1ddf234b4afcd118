//! The delegation routes over a real socket (`api::serve` on 127.0.0.1:0, reqwest) against the
//! simulator's sample state: every check status, every problem code the routes can produce,
//! the MyTimetable flow with its audit trail, readiness, metrics and graceful shutdown.

mod common;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use ews_connector::api;
use ews_connector::delegation::PermissionLevel;
use ews_connector::sim::{FaultKind, ScriptedFault, SimHandle};

use common::api::{
    BOTH_TOKEN, Backend, CHECK_TOKEN, DELEGATE_TOKEN, NO_SCOPE_TOKEN, PRINCIPAL, ServedApi,
    settings, start_api, state,
};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

fn access(mailbox: &str) -> String {
    format!("/v1/mailboxes/{mailbox}/calendar/access")
}

fn delegation(mailbox: &str) -> String {
    format!("/v1/mailboxes/{mailbox}/calendar/delegation")
}

async fn get(api: &ServedApi, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(api.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn put(api: &ServedApi, path: &str, token: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = reqwest::Client::new().put(api.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn delete(api: &ServedApi, path: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .delete(api.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Asserts a 200 JSON answer and returns the body with the response's request id.
async fn ok(response: reqwest::Response, what: &str) -> (Value, String) {
    let status = response.status();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    (body, request_id)
}

/// Asserts a problem: status, code, content type, `X-Request-Id` equal to `requestId`,
/// `ewsResponseCode` and `Retry-After` as given (`None` = must be absent).
async fn problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
    ews_response_code: Option<&str>,
    retry_after: Option<&str>,
) -> Value {
    let what = format!("{code} ({})", response.url().path());
    let headers = response.headers().clone();
    let actual = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(actual, status, "{what}: {body}");
    assert_eq!(body["code"], code, "{what}: {body}");
    assert_eq!(body["status"], status, "{what}");
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{what}"
    );
    let request_id = headers["x-request-id"].to_str().unwrap();
    assert_eq!(body["requestId"], request_id, "{what}");
    assert_eq!(
        body["ewsResponseCode"].as_str(),
        ews_response_code,
        "{what}: {body}"
    );
    assert_eq!(
        headers
            .get("retry-after")
            .map(|value| value.to_str().unwrap()),
        retry_after,
        "{what}"
    );
    body
}

#[tokio::test]
async fn every_check_status_is_a_200_with_its_exchange_code() {
    let sim = start_sim(&sample_state()).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    let cases: [(&str, &str, Option<&str>, bool); 6] = [
        ("granted@contoso.example", "ok", None, true),
        // The permission set decides: nothing was refused, so no Exchange code.
        ("plain@contoso.example", "not_delegated", None, false),
        ("reviewer@contoso.example", "insufficient", None, false),
        (
            "ceo@contoso.example",
            "impersonation_denied",
            Some("ErrorImpersonateUserDenied"),
            false,
        ),
        (
            "moving@contoso.example",
            "mailbox_unavailable",
            Some("ErrorMailboxMoveInProgress"),
            false,
        ),
        (
            "nobody@contoso.example",
            "mailbox_not_found",
            Some("ErrorNonExistentMailbox"),
            false,
        ),
    ];
    for (mailbox, status, code, ready) in cases {
        let (body, _) = ok(
            get(&api, &access(mailbox), Some(CHECK_TOKEN)).await,
            mailbox,
        )
        .await;
        assert_eq!(body["status"], status, "{mailbox}: {body}");
        assert_eq!(body["ready"], ready, "{mailbox}");
        assert_eq!(body["mailbox"], mailbox);
        match code {
            None => assert!(body["ewsResponseCode"].is_null(), "{mailbox}: {body}"),
            Some("*") => assert!(body["ewsResponseCode"].is_string(), "{mailbox}: {body}"),
            Some(code) => assert_eq!(body["ewsResponseCode"], code, "{mailbox}"),
        }
    }
    let (granted, _) = ok(
        get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        "granted",
    )
    .await;
    assert_eq!(granted["delegation"]["level"], "Editor");
    assert_eq!(granted["delegation"]["principal"], PRINCIPAL);
    assert_eq!(granted["effectiveRights"]["createContents"], true);
    assert_eq!(granted["serviceAccount"], "svc-mytt@contoso.example");

    // Without impersonation the calendar of a not-delegated mailbox cannot be opened.
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.impersonation = false;
    let plain_api = start_api(state(settings(), &backend)).await;
    let (body, _) = ok(
        get(
            &plain_api,
            &access("plain@contoso.example"),
            Some(CHECK_TOKEN),
        )
        .await,
        "no_access",
    )
    .await;
    assert_eq!(body["status"], "no_access", "{body}");
    assert_eq!(body["impersonation"], "not_configured");
    assert!(body["ewsResponseCode"].is_string(), "{body}");
}

#[tokio::test]
async fn request_problems_are_answered_before_exchange() {
    let sim = start_sim(&sample_state()).await;
    let mut settings = settings();
    settings.allowed_domains = vec!["contoso.example".to_owned()];
    let api = start_api(state(settings, &Backend::new(&sim.url, SVC_PASSWORD))).await;

    let body = problem(
        put(
            &api,
            &delegation("plain@contoso.example"),
            DELEGATE_TOKEN,
            Some(json!({"dryRun": 1})),
        )
        .await,
        400,
        "invalid_request",
        None,
        None,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("dryRun"));
    problem(
        get(&api, &access("two@at@contoso.example"), Some(CHECK_TOKEN)).await,
        400,
        "invalid_mailbox",
        None,
        None,
    )
    .await;
    problem(
        put(
            &api,
            &delegation("plain@contoso.example"),
            DELEGATE_TOKEN,
            Some(json!({"level": "Custom"})),
        )
        .await,
        400,
        "invalid_level",
        None,
        None,
    )
    .await;
    problem(
        get(&api, &access("plain@contoso.example"), None).await,
        401,
        "unauthorized",
        None,
        None,
    )
    .await;
    problem(
        delete(&api, &delegation("plain@contoso.example"), CHECK_TOKEN).await,
        403,
        "forbidden",
        None,
        None,
    )
    .await;
    problem(
        get(&api, &access("plain@contoso.example"), Some(NO_SCOPE_TOKEN)).await,
        403,
        "forbidden",
        None,
        None,
    )
    .await;
    let body = problem(
        get(
            &api,
            &access("s.jansen@fabrikam.example"),
            Some(CHECK_TOKEN),
        )
        .await,
        403,
        "mailbox_not_allowed",
        None,
        None,
    )
    .await;
    assert_eq!(body["mailbox"], "s.jansen@fabrikam.example");
    assert_eq!(
        sim.stats().requests("GetFolder"),
        0,
        "none of these reached Exchange"
    );
}

#[tokio::test]
async fn exchange_refusals_and_failures_are_problems_with_their_codes() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit_path);
    let api = start_api(state(settings(), &backend)).await;

    let body = problem(
        put(
            &api,
            &delegation("nobody@contoso.example"),
            DELEGATE_TOKEN,
            None,
        )
        .await,
        404,
        "mailbox_not_found",
        Some("ErrorNonExistentMailbox"),
        None,
    )
    .await;
    assert_eq!(body["mailbox"], "nobody@contoso.example");
    problem(
        put(
            &api,
            &delegation("ceo@contoso.example"),
            DELEGATE_TOKEN,
            None,
        )
        .await,
        422,
        "impersonation_denied",
        Some("ErrorImpersonateUserDenied"),
        None,
    )
    .await;
    problem(
        put(
            &api,
            &delegation("moving@contoso.example"),
            DELEGATE_TOKEN,
            None,
        )
        .await,
        503,
        "mailbox_unavailable",
        Some("ErrorMailboxMoveInProgress"),
        Some("30"),
    )
    .await;

    sim.push_fault(ScriptedFault {
        operation: Some("UpdateFolder".to_owned()),
        mailbox: Some("plain@contoso.example".to_owned()),
        count: 1,
        kind: FaultKind::SoapFault {
            code: "ErrorAccessDenied".to_owned(),
        },
    });
    problem(
        put(
            &api,
            &delegation("plain@contoso.example"),
            DELEGATE_TOKEN,
            None,
        )
        .await,
        422,
        "access_denied",
        Some("ErrorAccessDenied"),
        None,
    )
    .await;

    // Another writer changes the permission set before every one of our writes: after the
    // retries, 409.
    sim.push_fault(ScriptedFault {
        operation: Some("UpdateFolder".to_owned()),
        mailbox: Some("reviewer@contoso.example".to_owned()),
        count: 10,
        kind: FaultKind::ConcurrentWrite {
            user: "Default".to_owned(),
            level: ews_connector::sim::PermissionLevel::Reviewer,
        },
    });
    problem(
        put(
            &api,
            &delegation("reviewer@contoso.example"),
            DELEGATE_TOKEN,
            None,
        )
        .await,
        409,
        "conflict",
        Some("ErrorIrresolvableConflict"),
        None,
    )
    .await;

    sim.push_fault(ScriptedFault::once(FaultKind::Malformed));
    problem(
        get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        502,
        "exchange_error",
        None,
        None,
    )
    .await;
    sim.push_fault(ScriptedFault::once(FaultKind::SoapFault {
        code: "ErrorSchemaValidation".to_owned(),
    }));
    problem(
        get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        502,
        "exchange_error",
        Some("ErrorSchemaValidation"),
        None,
    )
    .await;

    // The service is still fine afterwards.
    let (body, _) = ok(
        get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        "after the faults",
    )
    .await;
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn credentials_network_and_time_failures_are_problems() {
    let sim = start_sim(&sample_state()).await;

    let wrong = start_api(state(
        settings(),
        &Backend::new(&sim.url, "not-the-password"),
    ))
    .await;
    problem(
        get(
            &wrong,
            &access("granted@contoso.example"),
            Some(CHECK_TOKEN),
        )
        .await,
        502,
        "exchange_auth_failed",
        None,
        None,
    )
    .await;

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed}/EWS/Exchange.asmx");
    let unreachable = start_api(state(settings(), &Backend::new(&url, SVC_PASSWORD))).await;
    problem(
        get(
            &unreachable,
            &access("granted@contoso.example"),
            Some(CHECK_TOKEN),
        )
        .await,
        502,
        "exchange_unreachable",
        None,
        None,
    )
    .await;

    // Exchange slower than the transport's timeout.
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.transport_timeout = Duration::from_millis(800);
    let slow = start_api(state(settings(), &backend)).await;
    // Slower than the timeout on every attempt the 1 s retry budget allows (reads are retried).
    sim.push_fault(ScriptedFault {
        count: 2,
        ..ScriptedFault::once(FaultKind::LatencyMs { ms: 2500 })
    });
    problem(
        get(&slow, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        504,
        "exchange_timeout",
        None,
        Some("1"),
    )
    .await;

    // A request past the API's own request timeout.
    let mut quick = settings();
    quick.request_timeout = Duration::from_millis(500);
    let bounded = start_api(state(quick, &Backend::new(&sim.url, SVC_PASSWORD))).await;
    sim.push_fault(ScriptedFault::once(FaultKind::LatencyMs { ms: 2000 }));
    problem(
        get(
            &bounded,
            &access("granted@contoso.example"),
            Some(CHECK_TOKEN),
        )
        .await,
        504,
        "exchange_timeout",
        None,
        None,
    )
    .await;
}

/// The audit file's records as JSON.
fn audit_records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn the_mytimetable_flow_over_http_with_one_audit_record_per_change() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit_path);
    let api = start_api(state(settings(), &backend)).await;
    let mailbox = "plain@contoso.example";

    let (before, _) = ok(
        get(&api, &access(mailbox), Some(BOTH_TOKEN)).await,
        "check 1",
    )
    .await;
    assert_eq!(before["status"], "not_delegated");
    assert_eq!(before["ready"], false);

    let (granted, grant_id) = ok(
        put(
            &api,
            &delegation(mailbox),
            BOTH_TOKEN,
            Some(json!({"level": "Editor", "unknown": 1})),
        )
        .await,
        "grant",
    )
    .await;
    assert_eq!(granted["changed"], true, "{granted}");
    assert_eq!(granted["level"], "Editor");
    assert_eq!(granted["previousLevel"], "None");
    assert_eq!(granted["principal"], PRINCIPAL);
    assert_eq!(granted["dryRun"], false);
    assert!(granted["auditId"].is_string(), "{granted}");
    assert!(granted["appliedAt"].as_str().unwrap().ends_with('Z'));

    let (again, _) = ok(
        put(&api, &delegation(mailbox), BOTH_TOKEN, None).await,
        "grant again",
    )
    .await;
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["previousLevel"], "Editor");

    let (after, _) = ok(
        get(&api, &access(mailbox), Some(BOTH_TOKEN)).await,
        "check 2",
    )
    .await;
    assert_eq!(after["status"], "ok", "{after}");
    assert_eq!(after["ready"], true);

    let (revoked, revoke_id) = ok(
        delete(
            &api,
            &format!("{}?principal={PRINCIPAL}", delegation(mailbox)),
            BOTH_TOKEN,
        )
        .await,
        "revoke",
    )
    .await;
    assert_eq!(revoked["changed"], true, "{revoked}");
    assert_eq!(revoked["level"], "None");
    assert_eq!(revoked["previousLevel"], "Editor");

    let (last, _) = ok(
        get(&api, &access(mailbox), Some(BOTH_TOKEN)).await,
        "check 3",
    )
    .await;
    assert_eq!(last["status"], "not_delegated");

    let records = audit_records(&audit_path);
    let changes: Vec<&Value> = records
        .iter()
        .filter(|record| record["result"] == "changed")
        .collect();
    assert_eq!(changes.len(), 2, "{records:?}");
    assert_eq!(changes[0]["action"], "grant");
    assert_eq!(changes[0]["requestId"], grant_id.as_str());
    assert_eq!(changes[0]["client"], "mytimetable");
    assert_eq!(changes[0]["id"], granted["auditId"]);
    assert_eq!(changes[1]["action"], "revoke");
    assert_eq!(changes[1]["requestId"], revoke_id.as_str());
    for record in &records {
        assert!(
            record["requestId"] == grant_id.as_str() || record["requestId"] == revoke_id.as_str(),
            "only the two changes are recorded: {record}"
        );
    }
}

/// Every EWS request the simulator answered, of any operation, and the connections it accepted.
fn ews_traffic(sim: &SimHandle) -> (u64, u64) {
    let stats = sim.stats();
    (
        stats.requests_by_operation.values().sum(),
        stats.connections_opened,
    )
}

#[tokio::test]
async fn a_principal_or_level_outside_the_configuration_is_403_without_an_ews_request() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit_path);
    let api = start_api(state(settings(), &backend)).await;
    let mailbox = "plain@contoso.example";

    // A leaked delegate token tries to give itself Owner, or to strip a colleague's entry.
    for body in [
        json!({"principal": "attacker@contoso.example"}),
        json!({"principal": "attacker@contoso.example", "level": "Reviewer", "dryRun": true}),
        json!({"principal": "attacker@contoso.example", "level": "Owner"}),
    ] {
        let problem = problem(
            put(
                &api,
                &delegation(mailbox),
                DELEGATE_TOKEN,
                Some(body.clone()),
            )
            .await,
            403,
            "principal_not_allowed",
            None,
            None,
        )
        .await;
        assert_eq!(problem["mailbox"], mailbox, "{body}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("attacker@contoso.example"),
            "{problem}"
        );
    }
    for level in ["Owner", "PublishingEditor", "PublishingAuthor"] {
        let problem = problem(
            put(
                &api,
                &delegation(mailbox),
                DELEGATE_TOKEN,
                Some(json!({"level": level, "principal": PRINCIPAL})),
            )
            .await,
            403,
            "level_not_allowed",
            None,
            None,
        )
        .await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(level) && detail.contains("delegation.max_level"),
            "{problem}"
        );
    }
    for query in [
        "?principal=bob@contoso.example",
        "?principal=bob%40contoso.example&dryRun=true",
        "?principal=attacker@contoso.example",
    ] {
        problem(
            delete(
                &api,
                &format!("{}{query}", delegation(mailbox)),
                DELEGATE_TOKEN,
            )
            .await,
            403,
            "principal_not_allowed",
            None,
            None,
        )
        .await;
    }
    assert_eq!(ews_traffic(&sim), (0, 0), "nothing reached Exchange");
    assert!(
        audit_records(&audit_path).is_empty(),
        "a refusal before Exchange changes nothing, so it writes no audit record"
    );
}

#[tokio::test]
async fn an_allowed_extra_principal_and_a_lower_level_still_work() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit_path);
    backend.allowed_principals = vec!["Planners@contoso.example".to_owned()];
    backend.max_level = PermissionLevel::Editor;
    let api = start_api(state(settings(), &backend)).await;
    let mailbox = "plain@contoso.example";

    // The extra principal, in another case than configured, at a lower level.
    let (granted, _) = ok(
        put(
            &api,
            &delegation(mailbox),
            DELEGATE_TOKEN,
            Some(json!({"principal": "planners@CONTOSO.example", "level": "Author"})),
        )
        .await,
        "grant to the extra principal",
    )
    .await;
    assert_eq!(granted["changed"], true, "{granted}");
    assert_eq!(granted["level"], "Author");
    // The configured principal at a level below the maximum.
    let (granted, _) = ok(
        put(
            &api,
            &delegation(mailbox),
            DELEGATE_TOKEN,
            Some(json!({"level": "Reviewer"})),
        )
        .await,
        "grant Reviewer",
    )
    .await;
    assert_eq!(granted["changed"], true, "{granted}");
    assert_eq!(granted["principal"], PRINCIPAL);
    assert_eq!(granted["level"], "Reviewer");
    let permissions = sim.permissions(mailbox).unwrap();
    let level_of = |user: &str| {
        permissions
            .iter()
            .find(|entry| entry.user.eq_ignore_ascii_case(user))
            .map(|entry| entry.level)
    };
    assert_eq!(
        level_of("planners@contoso.example"),
        Some(ews_connector::sim::PermissionLevel::Author)
    );
    assert_eq!(
        level_of(PRINCIPAL),
        Some(ews_connector::sim::PermissionLevel::Reviewer)
    );

    let (revoked, _) = ok(
        delete(
            &api,
            &format!("{}?principal=PLANNERS@contoso.example", delegation(mailbox)),
            DELEGATE_TOKEN,
        )
        .await,
        "revoke the extra principal",
    )
    .await;
    assert_eq!(revoked["changed"], true, "{revoked}");
    assert_eq!(revoked["previousLevel"], "Author");
    // Still refused: a principal not on the list, and a level above the maximum.
    problem(
        put(
            &api,
            &delegation(mailbox),
            DELEGATE_TOKEN,
            Some(json!({"principal": "bob@contoso.example"})),
        )
        .await,
        403,
        "principal_not_allowed",
        None,
        None,
    )
    .await;
    problem(
        put(
            &api,
            &delegation(mailbox),
            DELEGATE_TOKEN,
            Some(json!({"principal": "planners@contoso.example", "level": "Owner"})),
        )
        .await,
        403,
        "level_not_allowed",
        None,
        None,
    )
    .await;
    let changes = audit_records(&audit_path)
        .into_iter()
        .filter(|record| record["result"] == "changed")
        .count();
    assert_eq!(changes, 3, "the three allowed changes are audited");
}

#[tokio::test]
async fn a_query_parameter_given_twice_or_empty_is_400_naming_it_without_an_ews_request() {
    let sim = start_sim(&sample_state()).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    let path = delegation("granted@contoso.example");
    let cases = [
        // The last value used to win: this was a real revoke.
        ("?dryRun=true&dryRun=false", "dryRun"),
        ("?dryRun=false&dryRun=true", "dryRun"),
        // The same name percent-encoded is the same parameter.
        ("?dryRun=true&dry%52un=false", "dryRun"),
        ("?dryRun=", "dryRun"),
        ("?dryRun", "dryRun"),
        // An empty principal used to mean the configured one.
        ("?principal=", "principal"),
        ("?principal=&dryRun=true", "principal"),
        (
            "?principal=mytimetable-push@contoso.example&principal=bob@contoso.example",
            "principal",
        ),
    ];
    for (query, parameter) in cases {
        let body = problem(
            delete(&api, &format!("{path}{query}"), DELEGATE_TOKEN).await,
            400,
            "invalid_request",
            None,
            None,
        )
        .await;
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("`{parameter}`")),
            "{query}: {body}"
        );
        assert_eq!(body["mailbox"], "granted@contoso.example", "{query}");
    }
    // A grant's fields belong in its body: in the query they would be ignored, and
    // `PUT ...?dryRun=true` would make a real change.
    for (query, field) in [
        ("?dryRun=true", "dryRun"),
        ("?level=Reviewer", "level"),
        ("?principal=bob@contoso.example", "principal"),
    ] {
        let body = problem(
            put(&api, &format!("{path}{query}"), DELEGATE_TOKEN, None).await,
            400,
            "invalid_request",
            None,
            None,
        )
        .await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("`{field}`")), "{query}: {body}");
        assert!(detail.contains("body"), "{query}: {body}");
    }
    assert_eq!(ews_traffic(&sim), (0, 0), "nothing reached Exchange");
    assert_eq!(
        sim.permissions("granted@contoso.example")
            .unwrap()
            .iter()
            .filter(|entry| entry.user.eq_ignore_ascii_case(PRINCIPAL))
            .count(),
        1,
        "the entry is still there"
    );

    // Parameters the route does not read are still ignored, even twice.
    let (dry, _) = ok(
        delete(
            &api,
            &format!("{path}?dryRun=true&utm=1&utm=2&Principal="),
            DELEGATE_TOKEN,
        )
        .await,
        "dry run with unknown parameters",
    )
    .await;
    assert_eq!(dry["dryRun"], true, "{dry}");
    assert_eq!(dry["changed"], true, "{dry}");
}

async fn readyz_status(api: &ServedApi) -> (u16, Value) {
    let response = get(api, "/readyz", None).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls `/readyz` until it answers `status` (at most 10 s).
async fn wait_for_readyz(api: &ServedApi, status: u16) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (actual, body) = readyz_status(api).await;
        if actual == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readyz stayed {actual}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readiness_follows_the_background_probe() {
    let sim = start_sim(&sample_state()).await;

    let good = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    let (status, body) = readyz_status(&good).await;
    assert_eq!(status, 503, "not ready before the first probe");
    assert_eq!(body["code"], "not_ready");
    let probe = api::spawn_readiness(&good.state);
    wait_for_readyz(&good, 200).await;
    let calls_after_ready = sim.stats().requests("GetFolder");
    for _ in 0..5 {
        assert_eq!(readyz_status(&good).await.0, 200);
    }
    assert!(
        sim.stats().requests("GetFolder") <= calls_after_ready + 1,
        "readyz itself never calls Exchange"
    );
    probe.abort();

    let wrong = start_api(state(
        settings(),
        &Backend::new(&sim.url, "not-the-password"),
    ))
    .await;
    let probe = api::spawn_readiness(&wrong.state);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = readyz_status(&wrong).await;
        assert_eq!(status, 503, "a refused password is never ready");
        if body["detail"]
            .as_str()
            .unwrap()
            .contains("refused or failed the last probe")
        {
            assert!(
                !body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("not-the-password"),
                "{body}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    probe.abort();
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_ews_calls_by_outcome() {
    let sim = start_sim(&sample_state()).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    ok(
        get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        "check",
    )
    .await;
    ok(
        get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        "check",
    )
    .await;
    let _ = get(&api, &access("granted@contoso.example"), None).await;
    let _ = get(&api, "/nowhere", None).await;

    let response = get(&api, "/metrics", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let line = |needle: &str| -> String {
        text.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in\n{text}"))
            .to_owned()
    };
    let ok_line = line(
        r#"ews_connector_http_requests_total{route="/v1/mailboxes/{mailbox}/calendar/access",method="GET",status="200"}"#,
    );
    assert!(ok_line.ends_with(" 2"), "{ok_line}");
    let refused = line(
        r#"ews_connector_http_requests_total{route="/v1/mailboxes/{mailbox}/calendar/access",method="GET",status="401"}"#,
    );
    assert!(refused.ends_with(" 1"), "{refused}");
    line(r#"route="unmatched",method="GET",status="404""#);
    assert!(
        !text.contains("granted@contoso.example"),
        "raw paths never become labels"
    );
    let calls = line(r#"ews_connector_ews_calls_total{operation="GetFolder",outcome="answered"}"#);
    let count: u64 = calls.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 2, "{calls}");
    let handshakes = line("ews_connector_ntlm_handshakes_total ");
    assert!(handshakes.ends_with(" 1"), "{handshakes}");
    line("ews_connector_exchange_connections_opened_total ");
    line(r#"ews_connector_ready{account="svc-mytt@contoso.example"} 0"#);
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests_and_refuses_new_connections() {
    let sim = start_sim(&sample_state()).await;
    let mut api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    sim.push_fault(ScriptedFault::once(FaultKind::LatencyMs { ms: 1500 }));
    let url = api.url(&access("granted@contoso.example"));
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(CHECK_TOKEN)
            .send()
            .await
    });
    // Let the request reach the simulator's delay.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.stats().requests("GetFolder") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let served = api.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        tokio::net::TcpStream::connect(api.addr).await.is_err(),
        "no new connections after the shutdown signal"
    );
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    tokio::time::timeout(Duration::from_secs(5), served)
        .await
        .expect("serve returns after the drain")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_gives_up_on_a_stuck_request_after_the_grace_period() {
    let sim = start_sim(&sample_state()).await;
    let mut settings = settings();
    settings.shutdown_grace = Duration::from_millis(300);
    let mut api = start_api(state(settings, &Backend::new(&sim.url, SVC_PASSWORD))).await;
    sim.push_fault(ScriptedFault::once(FaultKind::LatencyMs { ms: 5000 }));
    let url = api.url(&access("granted@contoso.example"));
    let stuck = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(CHECK_TOKEN)
            .send()
            .await
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.stats().requests("GetFolder") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = tokio::time::Instant::now();
    let served = api.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(3), served)
        .await
        .expect("serve returns once the grace period is over")
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "serve waited for the grace period"
    );
    stuck.abort();
}

/// Exchange throttling past the retry budget: 503 `throttled` with the server's wait as
/// `Retry-After`. Each case has its own simulator, since a busy answer pauses the whole account.
#[tokio::test]
async fn throttling_past_the_budget_is_a_503_with_the_servers_wait() {
    let sim = start_sim(&sample_state()).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    sim.push_fault(ScriptedFault::once(FaultKind::ServerBusy {
        back_off_ms: 4500,
    }));
    problem(
        get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await,
        503,
        "throttled",
        Some("ErrorServerBusy"),
        Some("5"),
    )
    .await;
    assert_eq!(
        sim.stats().requests("GetFolder"),
        1,
        "no request during the pause"
    );

    let sim = start_sim(&sample_state()).await;
    let api = start_api(state(settings(), &Backend::new(&sim.url, SVC_PASSWORD))).await;
    sim.push_fault(ScriptedFault::once(FaultKind::Http503 {
        retry_after_secs: Some(7),
    }));
    let response = get(&api, &access("granted@contoso.example"), Some(CHECK_TOKEN)).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (7..=8).contains(&retry_after),
        "Retry-After {retry_after}: the server's 7 s plus jitter"
    );
    let body = problem(
        response,
        503,
        "throttled",
        None,
        Some(&retry_after.to_string()),
    )
    .await;
    assert_eq!(body["mailbox"], "granted@contoso.example");
}
