//! The retry loop of `Exchange::call` against the simulator over real sockets: throttling
//! pauses the whole account, 503 honours Retry-After, the budget bounds everything, resets are
//! retried for reads only, and typed failures come back at once.

mod exchange_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ews_connector::exchange::{ActAs, Error, FailureKind};
use ews_connector::sim::{FaultKind, ScriptedFault};

use exchange_common::*;

fn fault(operation: &str, mailbox: Option<&str>, count: u32, kind: FaultKind) -> ScriptedFault {
    ScriptedFault {
        operation: Some(operation.to_owned()),
        mailbox: mailbox.map(str::to_owned),
        count,
        kind,
    }
}

#[tokio::test]
async fn server_busy_pauses_the_whole_account_then_the_call_succeeds() {
    let sim = start("").await;
    let exchange = Arc::new(exchange_a(&sim, Knobs::default()));
    // Warm up: authenticate once so the timing below is about back-off only.
    read_calendar(&exchange, "m1@contoso.example").await;
    let before = sim.stats().requests("GetFolder");
    sim.push_fault(fault(
        "GetFolder",
        Some("m0@contoso.example"),
        1,
        FaultKind::ServerBusy { back_off_ms: 600 },
    ));
    let started = Instant::now();
    let first = tokio::spawn({
        let exchange = Arc::clone(&exchange);
        async move { read_calendar(&exchange, "m0@contoso.example").await }
    });
    while sim.stats().busy_answers == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Another caller of the same account, for another mailbox, during the pause.
    let second_started = Instant::now();
    let second = tokio::spawn({
        let exchange = Arc::clone(&exchange);
        async move { read_calendar(&exchange, "m2@contoso.example").await }
    });
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        sim.stats().requests("GetFolder"),
        before + 1,
        "nothing but the busy request reached the sim during the pause"
    );
    first.await.unwrap();
    second.await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert!(
        second_started.elapsed() >= Duration::from_millis(400),
        "the second call waited for the account's pause"
    );
    assert_eq!(sim.stats().requests("GetFolder"), before + 3);
    let stats = exchange.stats();
    assert_eq!(stats.busy_answers, 1);
    assert_eq!(stats.retries, 1);
    assert!(stats.throttle_waits >= 2, "{stats:?}");
    assert!(stats.throttle_wait_ms >= 600 + 400, "{stats:?}");
}

#[tokio::test]
async fn http_503_honours_retry_after() {
    let sim = start("").await;
    let exchange = exchange_a(&sim, Knobs::default());
    read_calendar(&exchange, "m1@contoso.example").await;
    sim.push_fault(fault(
        "GetFolder",
        None,
        1,
        FaultKind::Http503 {
            retry_after_secs: Some(1),
        },
    ));
    let started = Instant::now();
    read_calendar(&exchange, "m0@contoso.example").await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(2000),
        "{elapsed:?}"
    );
    assert_eq!(exchange.stats().busy_answers, 1);
}

#[tokio::test]
async fn busy_forever_ends_as_throttled_with_retry_after_within_the_budget() {
    let sim = start("").await;
    let budget = Duration::from_millis(1500);
    let exchange = exchange_a(
        &sim,
        Knobs {
            retry_budget: budget,
            ..Knobs::default()
        },
    );
    sim.push_fault(fault(
        "GetFolder",
        None,
        1000,
        FaultKind::ServerBusy { back_off_ms: 200 },
    ));
    let started = Instant::now();
    let error = exchange
        .call(ActAs::Owner("m0@contoso.example"), &get_calendar())
        .await
        .expect_err("busy forever");
    let elapsed = started.elapsed();
    assert!(
        elapsed <= budget + Duration::from_millis(300),
        "{elapsed:?}"
    );
    assert!(matches!(error, Error::GaveUp { .. }), "{error}");
    assert_eq!(
        error.kind(),
        FailureKind::Code(ews_connector::ews::ErrorKind::Throttled)
    );
    let retry_after = error.retry_after().expect("retry_after is set");
    assert!(retry_after >= Duration::from_millis(200), "{retry_after:?}");
    assert_eq!(
        error.response_code().map(|code| code.as_str()),
        Some("ErrorServerBusy")
    );
    let requests = sim.stats().requests("GetFolder");
    assert!(
        (5..=8).contains(&requests),
        "about budget / back-off attempts: {requests}"
    );
}

#[tokio::test]
async fn resets_and_connection_close_on_reads_are_retried() {
    let sim = start("").await;
    let exchange = exchange_a(&sim, Knobs::default());
    read_calendar(&exchange, "m1@contoso.example").await;
    sim.push_fault(fault("GetFolder", None, 1, FaultKind::Reset));
    read_calendar(&exchange, "m0@contoso.example").await;
    assert_eq!(exchange.stats().retries, 1);
    sim.push_fault(fault("GetFolder", None, 1, FaultKind::ConnectionClose));
    read_calendar(&exchange, "m0@contoso.example").await;
    read_calendar(&exchange, "m0@contoso.example").await;
    assert_eq!(sim.stats().requests("GetFolder"), 5);
}

#[tokio::test]
async fn a_reset_write_is_not_sent_again() {
    let sim = start("").await;
    let exchange = exchange_a(&sim, Knobs::default());
    let folder = read_calendar(&exchange, "m0@contoso.example").await;
    sim.push_fault(fault("UpdateFolder", None, 1, FaultKind::Reset));
    let error = exchange
        .call(ActAs::Owner("m0@contoso.example"), &rewrite(&folder))
        .await
        .expect_err("the reset reaches the caller");
    assert!(
        matches!(error, Error::Transport(_)),
        "not wrapped: no retry happened: {error}"
    );
    assert_eq!(sim.stats().requests("UpdateFolder"), 1);
    assert_eq!(exchange.stats().retries, 0);
}

#[tokio::test]
async fn a_read_slower_than_the_timeout_is_retried_until_the_budget_then_times_out() {
    let sim = start("").await;
    let budget = Duration::from_millis(1500);
    let exchange = exchange_a(
        &sim,
        Knobs {
            retry_budget: budget,
            request_timeout: Duration::from_millis(300),
            ..Knobs::default()
        },
    );
    read_calendar(&exchange, "m1@contoso.example").await;
    sim.push_fault(fault("GetFolder", None, 100, FaultKind::Slow { ms: 2000 }));
    let started = Instant::now();
    let error = exchange
        .call(ActAs::Owner("m0@contoso.example"), &get_calendar())
        .await
        .expect_err("always too slow");
    let elapsed = started.elapsed();
    // A last retry gets at least 250 ms even at the very end of the budget.
    assert!(
        elapsed <= budget + Duration::from_millis(400),
        "{elapsed:?}"
    );
    assert_eq!(error.kind(), FailureKind::Timeout, "{error}");
    assert!(error.retry_after().is_some());
    assert!(exchange.stats().retries >= 2, "{:?}", exchange.stats());
}

#[tokio::test]
async fn malformed_answers_and_soap_faults_are_not_retried() {
    let sim = start("").await;
    let exchange = exchange_a(&sim, Knobs::default());
    read_calendar(&exchange, "m1@contoso.example").await;
    sim.push_fault(fault("GetFolder", None, 1, FaultKind::Malformed));
    let error = exchange
        .call(ActAs::Owner("m0@contoso.example"), &get_calendar())
        .await
        .expect_err("malformed");
    assert!(matches!(error, Error::Malformed(_)), "{error}");
    assert_eq!(error.kind(), FailureKind::Unusable);
    sim.push_fault(fault(
        "GetFolder",
        None,
        1,
        FaultKind::SoapFault {
            code: "ErrorSchemaValidation".to_owned(),
        },
    ));
    let error = exchange
        .call(ActAs::Owner("m0@contoso.example"), &get_calendar())
        .await
        .expect_err("fault");
    assert_eq!(
        error.response_code().map(|code| code.as_str()),
        Some("ErrorSchemaValidation")
    );
    assert_eq!(
        error.kind(),
        FailureKind::Code(ews_connector::ews::ErrorKind::Invalid)
    );
    assert_eq!(sim.stats().requests("GetFolder"), 3);
    assert_eq!(exchange.stats().retries, 0);
}

#[tokio::test]
async fn a_401_on_a_reused_connection_costs_one_new_handshake() {
    let sim = start("").await;
    let exchange = exchange_a(&sim, Knobs::default());
    read_calendar(&exchange, "m1@contoso.example").await;
    assert_eq!(exchange.transport_stats().handshakes, 1);
    sim.push_fault(fault("GetFolder", None, 1, FaultKind::Http401));
    read_calendar(&exchange, "m0@contoso.example").await;
    assert_eq!(exchange.transport_stats().handshakes, 2);
    assert_eq!(sim.stats().ntlm_accepted, 2);
    assert_eq!(sim.stats().ntlm_refused, 0);
    assert_eq!(exchange.stats().auth_failures, 0);
}

#[tokio::test]
async fn the_per_account_ceiling_is_never_exceeded() {
    let sim = start("max_concurrency = 5\nlatency_ms = 10").await;
    let exchange = Arc::new(exchange_a(
        &sim,
        Knobs {
            ceiling: 5,
            ..Knobs::default()
        },
    ));
    let mut calls = Vec::new();
    for n in 0..100 {
        let exchange = Arc::clone(&exchange);
        calls.push(tokio::spawn(async move {
            read_calendar(&exchange, &format!("m{}@contoso.example", n % 10)).await;
        }));
    }
    for call in calls {
        call.await.unwrap();
    }
    let stats = sim.stats();
    assert_eq!(stats.connection_count_answers, 0);
    assert_eq!(stats.requests("GetFolder"), 100);
    let peak = stats.peak_concurrency.get(SMTP_A).copied().unwrap_or(0);
    assert!((1..=5).contains(&peak), "peak {peak}");
    assert!(exchange.transport_stats().connections_opened <= 5);
    assert_eq!(exchange.account_states()[0].in_flight, 0);
}
