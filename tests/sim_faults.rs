//! Scripted faults and throttling: every fault kind does what it says, filters and counts are
//! honoured, and the per-account concurrency limit answers ErrorExceededConnectionCount.

mod common;

use std::time::{Duration, Instant};

use common::sim::*;
use ews_connector::sim::{FaultKind, ScriptedFault};

const ALICE: &str = "alice@contoso.example";

#[tokio::test]
async fn server_busy_carries_the_back_off_then_service_resumes() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault::once(FaultKind::ServerBusy {
        back_off_ms: 1234,
    }));
    let busy = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(busy.status, 500);
    assert!(busy.body.contains("<e:ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">ErrorServerBusy</e:ResponseCode>"));
    assert!(
        busy.body
            .contains("<t:Value Name=\"BackOffMilliseconds\">1234</t:Value>")
    );
    let next = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(next.status, 200);
    let stats = sim.stats();
    assert_eq!(stats.busy_answers, 1);
    assert_eq!(stats.faults_applied, 1);
}

#[tokio::test]
async fn http_503_with_retry_after() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault::once(FaultKind::Http503 {
        retry_after_secs: Some(7),
    }));
    let response = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(response.status, 503);
    assert_eq!(response.header("retry-after"), Some("7"));
}

#[tokio::test]
async fn http_401_drops_the_connections_logon() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault::once(FaultKind::Http401));
    let response = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(response.status, 401);
    assert!(response.headers_named("www-authenticate").contains(&"NTLM"));
    let still_out = client
        .post_soap(None, &get_folder_impersonating(ALICE))
        .await
        .unwrap();
    assert_eq!(still_out.status, 401);
    let again = client
        .ntlm_login(
            SVC_DOMAIN,
            SVC_USER,
            SVC_PASSWORD,
            &get_folder_impersonating(ALICE),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(sim.stats().ntlm_accepted, 2);
}

#[tokio::test]
async fn reset_closes_the_connection_mid_response() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault::once(FaultKind::Reset));
    match client
        .post_soap(None, &get_folder_impersonating(ALICE))
        .await
    {
        Err(ReadError::Closed { partial }) => assert!(partial > 0, "some body bytes arrive first"),
        other => panic!("expected a cut-off response, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_close_answers_then_closes() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault::once(FaultKind::ConnectionClose));
    let response = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
    assert!(response.body.contains("NoError"));
    assert!(client.is_closed_by_server().await);
}

#[tokio::test]
async fn malformed_answer_is_truncated_xml() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    let whole = call(&mut client, &get_folder_impersonating(ALICE))
        .await
        .body;
    sim.push_fault(ScriptedFault::once(FaultKind::Malformed));
    let response = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(response.status, 200);
    assert!(response.body.len() < whole.len());
    assert!(whole.starts_with(&response.body));
    assert!(!response.body.contains("</s:Envelope>"));
}

#[tokio::test]
async fn soap_fault_with_any_code() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault::once(FaultKind::SoapFault {
        code: "ErrorInternalServerError".into(),
    }));
    let response = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(response.status, 500);
    assert!(response.body.contains("a:ErrorInternalServerError"));
}

/// Real (short) sleeps: `tokio::time::pause` needs tokio's `test-util` feature, which the crate
/// does not enable. FIXME: switch to `start_paused = true` once it does.
#[tokio::test]
async fn latency_and_slow_delay_the_answer() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault::once(FaultKind::LatencyMs { ms: 300 }));
    let started = Instant::now();
    let response = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status, 200);

    sim.push_fault(ScriptedFault::once(FaultKind::Slow { ms: 400 }));
    let started = Instant::now();
    let slow = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert!(started.elapsed() >= Duration::from_millis(350));
    assert!(
        slow.body.trim_end().ends_with("</s:Envelope>"),
        "the whole body arrives"
    );

    let started = Instant::now();
    call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "faults are used up"
    );
}

#[tokio::test]
async fn operation_and_mailbox_filters_and_counts() {
    let sim = start_sim(&sample_state()).await;
    let mut client = logged_in_client(&sim).await;
    sim.push_fault(ScriptedFault {
        operation: Some("GetFolder".into()),
        mailbox: Some(ALICE.into()),
        count: 2,
        kind: FaultKind::SoapFault {
            code: "ErrorMailboxStoreUnavailable".into(),
        },
    });
    let other_mailbox = call(
        &mut client,
        &get_folder_impersonating("granted@contoso.example"),
    )
    .await;
    assert_eq!(other_mailbox.status, 200);
    for _ in 0..2 {
        let hit = call(&mut client, &get_folder_impersonating(ALICE)).await;
        assert_eq!(hit.status, 500);
    }
    let after = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(after.status, 200);
}

#[tokio::test]
async fn faults_from_http_control_route_and_state_file() {
    let state = format!(
        "{}\n[[faults]]\nkind = \"http_503\"\noperation = \"GetFolder\"\nmailbox = \"{ALICE}\"\n",
        sample_state()
    );
    let sim = start_sim(&state).await;
    let mut client = logged_in_client(&sim).await;
    let from_file = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert_eq!(from_file.status, 503);

    let mut control = RawClient::connect(&sim).await;
    let posted = control
        .request(
            "POST",
            "/sim/faults",
            &[("Content-Type", "application/json".to_string())],
            r#"[{"kind":"server_busy","back_off_ms":50},{"kind":"soap_fault","code":"ErrorTimeoutExpired"}]"#,
        )
        .await
        .unwrap();
    assert_eq!(posted.status, 200, "{}", posted.body);
    let first = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert!(first.body.contains(">50</t:Value>"));
    let second = call(&mut client, &get_folder_impersonating(ALICE)).await;
    assert!(second.body.contains("ErrorTimeoutExpired"));
    let bad = control
        .request("POST", "/sim/faults", &[], r#"{"kind":"nope"}"#)
        .await
        .unwrap();
    assert_eq!(bad.status, 400);

    let stats = control.request("GET", "/sim/stats", &[], "").await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&stats.body).unwrap();
    assert_eq!(json["faultsApplied"], 3);
    assert_eq!(json["requestsByOperation"]["GetFolder"], 4);
    assert_eq!(json["ntlmAccepted"], 1);
}

#[tokio::test]
async fn concurrency_beyond_the_limit_is_exceeded_connection_count_without_a_back_off() {
    let state = sample_state()
        .replace("max_concurrency = 10", "max_concurrency = 1")
        .replace("latency_ms = 0", "latency_ms = 300");
    let sim = start_sim(&state).await;
    let mut first = logged_in_client(&sim).await;
    let mut second = logged_in_client(&sim).await;
    let body = get_folder_impersonating(ALICE);
    let (a, b) = tokio::join!(call(&mut first, &body), call(&mut second, &body));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 500]);
    let refused = if a.status == 500 { &a } else { &b };
    assert!(refused.body.contains("<e:ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">ErrorExceededConnectionCount</e:ResponseCode>"));
    assert!(
        refused
            .body
            .contains("<t:Value Name=\"MaxConcurrencyLimit\">1</t:Value>")
    );
    assert!(!refused.body.contains("BackOffMilliseconds"));
    let stats = sim.stats();
    assert_eq!(stats.connection_count_answers, 1);
    assert_eq!(stats.busy_answers, 0);
    assert_eq!(stats.peak_concurrency["svc-mytt@contoso.example"], 2);
    assert_eq!(stats.connections_opened, 2);
}
