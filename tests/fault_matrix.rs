//! The fault matrix: every scripted simulator fault against check, grant and revoke, through the
//! real HTTP API (`api::serve` on 127.0.0.1:0) and a fresh simulator per case.
//!
//! Setup per case: the sample state, a retry budget of [`BUDGET`], a transport timeout of
//! [`TIMEOUT`] (below the `slow` fault's [`SLOW_MS`]), one warm-up call so the NTLM connection is
//! pooled (the `http_401` fault then hits a reused connection), and for revoke a grant first,
//! without faults. Check reads `granted@contoso.example`; grant and revoke change
//! `alice@contoso.example`, whose calendar carries other people's entries. A fault targets
//! either the reads (`GetFolder`) or the write (`UpdateFolder`); `count` 1000 means "for ever",
//! which exceeds the budget.
//!
//! For every case: the documented outcome (HTTP status and problem `code`, `Retry-After`
//! present or not), the answer within the budget plus one timeout plus slack, the API still
//! serving afterwards (no panic), and for grant and revoke every entry other than the principal's
//! identical before and after, the principal's entry fully applied on success and unchanged on a
//! problem: never a lost entry.
//!
//! | fault | operation | faulted call | count | documented outcome |
//! |---|---|---|---|---|
//! | server_busy 200 ms | check | GetFolder | 2 | 200 |
//! | server_busy 200 ms | check | GetFolder | for ever | 503 `throttled`, Retry-After |
//! | server_busy 200 ms | grant | GetFolder | 2 | 200, changed |
//! | server_busy 200 ms | grant | UpdateFolder | 2 | 200, changed |
//! | server_busy 200 ms | grant | UpdateFolder | for ever | 503 `throttled`, Retry-After, unchanged |
//! | server_busy 200 ms | revoke | GetFolder | 2 | 200, changed |
//! | server_busy 200 ms | revoke | UpdateFolder | 2 | 200, changed |
//! | server_busy 200 ms | revoke | UpdateFolder | for ever | 503 `throttled`, Retry-After, unchanged |
//! | http_503 Retry-After 1 s | check | GetFolder | 1 | 200 |
//! | http_503 Retry-After 1 s | check | GetFolder | for ever | 503 `throttled`, Retry-After |
//! | http_503 Retry-After 1 s | grant | GetFolder | 1 | 200, changed |
//! | http_503 Retry-After 1 s | grant | UpdateFolder | 1 | 200, changed |
//! | http_503 Retry-After 1 s | grant | UpdateFolder | for ever | 503 `throttled`, Retry-After, unchanged |
//! | http_503 Retry-After 1 s | revoke | GetFolder | 1 | 200, changed |
//! | http_503 Retry-After 1 s | revoke | UpdateFolder | 1 | 200, changed |
//! | http_503 Retry-After 1 s | revoke | UpdateFolder | for ever | 503 `throttled`, Retry-After, unchanged |
//! | http_401 on a reused connection | check | GetFolder | 1 | 200 |
//! | http_401 on a reused connection | check | GetFolder | for ever | 502 `exchange_auth_failed` |
//! | http_401 on a reused connection | grant | GetFolder | 1 | 200, changed |
//! | http_401 on a reused connection | grant | UpdateFolder | 1 | 200, changed |
//! | http_401 on a reused connection | grant | UpdateFolder | for ever | 502 `exchange_auth_failed`, unchanged |
//! | http_401 on a reused connection | revoke | GetFolder | 1 | 200, changed |
//! | http_401 on a reused connection | revoke | UpdateFolder | 1 | 200, changed |
//! | reset mid-body | check | GetFolder | 1 | 200 |
//! | reset mid-body | check | GetFolder | for ever | 502 `exchange_unreachable` |
//! | reset mid-body | grant | GetFolder | 1 | 200, changed |
//! | reset mid-body | grant | UpdateFolder | 1 | 200, changed (the write landed; a re-read proves it) |
//! | reset mid-body | grant | UpdateFolder | for ever | 200, changed (as above: only the write's answer is lost) |
//! | reset mid-body | revoke | GetFolder | 1 | 200, changed |
//! | reset mid-body | revoke | UpdateFolder | 1 | 200, changed (re-read) |
//! | slower than the timeout | check | GetFolder | 1 | 200 |
//! | slower than the timeout | check | GetFolder | for ever | 504 `exchange_timeout`, Retry-After |
//! | slower than the timeout | grant | GetFolder | 1 | 200, changed |
//! | slower than the timeout | grant | UpdateFolder | 1 | 200, changed (re-read) |
//! | slower than the timeout | revoke | GetFolder | 1 | 200, changed |
//! | slower than the timeout | revoke | UpdateFolder | 1 | 200, changed (re-read) |
//! | malformed XML | check | GetFolder | 1 | 502 `exchange_error` |
//! | malformed XML | grant | GetFolder | 1 | 502 `exchange_error`, unchanged |
//! | malformed XML | grant | UpdateFolder | 1 | 200, changed (the write landed; a re-read proves it) |
//! | malformed XML | revoke | GetFolder | 1 | 502 `exchange_error`, unchanged |
//! | malformed XML | revoke | UpdateFolder | 1 | 200, changed (re-read) |
//! | SOAP fault ErrorSchemaValidation | check | GetFolder | 1 | 502 `exchange_error` |
//! | SOAP fault ErrorSchemaValidation | grant | GetFolder | 1 | 502 `exchange_error`, unchanged |
//! | SOAP fault ErrorSchemaValidation | grant | UpdateFolder | 1 | 502 `exchange_error`, unchanged |
//! | SOAP fault ErrorSchemaValidation | revoke | GetFolder | 1 | 502 `exchange_error`, unchanged |
//! | SOAP fault ErrorSchemaValidation | revoke | UpdateFolder | 1 | 502 `exchange_error`, unchanged |
//! | `Connection: close` | check | GetFolder | for ever | 200 |
//! | `Connection: close` | grant | GetFolder | for ever | 200, changed |
//! | `Connection: close` | grant | UpdateFolder | for ever | 200, changed |
//! | `Connection: close` | revoke | GetFolder | for ever | 200, changed |
//! | `Connection: close` | revoke | UpdateFolder | for ever | 200, changed |
//! | message error ErrorChangeKeyRequiredForWriteOperations | grant | UpdateFolder | 1 | 200, changed (re-read, written again) |
//! | message error ErrorChangeKeyRequiredForWriteOperations | grant | UpdateFolder | for ever | 409 `conflict`, unchanged |
//! | message error ErrorChangeKeyRequiredForWriteOperations | revoke | UpdateFolder | 1 | 200, changed |
//! | message error ErrorChangeKeyRequiredForWriteOperations | revoke | UpdateFolder | for ever | 409 `conflict`, unchanged |
//! | SOAP fault ErrorExceededConnectionCount | check | GetFolder | 2 | 200 |
//! | SOAP fault ErrorExceededConnectionCount | check | GetFolder | for ever | 503 `throttled`, Retry-After |
//! | SOAP fault ErrorExceededConnectionCount | grant | GetFolder | 2 | 200, changed |
//! | SOAP fault ErrorExceededConnectionCount | grant | UpdateFolder | 2 | 200, changed |
//! | SOAP fault ErrorExceededConnectionCount | grant | UpdateFolder | for ever | 503 `throttled`, Retry-After, unchanged |
//! | SOAP fault ErrorExceededConnectionCount | revoke | GetFolder | 2 | 200, changed |
//! | SOAP fault ErrorExceededConnectionCount | revoke | UpdateFolder | 2 | 200, changed |
//! | SOAP fault ErrorExceededConnectionCount | revoke | UpdateFolder | for ever | 503 `throttled`, Retry-After, unchanged |
//!
//! The same table, with the reasons, is `docs/FAULTS.md` ("Failure behaviour").

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use ews_connector::api::AppState;
use ews_connector::audit::AuditLog;
use ews_connector::delegation::{Delegation, PermissionLevel};
use ews_connector::domain::AccessMode;
use ews_connector::exchange::{Account, Exchange};
use ews_connector::secret::Secret;
use ews_connector::sim::{FaultKind, PermissionView, ScriptedFault, SimHandle};
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

use common::api::{BOTH_TOKEN, PRINCIPAL, ServedApi, settings, start_api};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

/// The retry budget of every case.
const BUDGET: Duration = Duration::from_secs(3);
/// The transport's request timeout: below [`SLOW_MS`].
const TIMEOUT: Duration = Duration::from_millis(1000);
/// How long the `slow` fault dribbles a body.
const SLOW_MS: u64 = 2500;
/// Scheduling slack on top of the budget and one timeout (two cores, debug build).
const SLACK: Duration = Duration::from_millis(1500);
/// "For ever": more faults than fit in the budget.
const FOREVER: u32 = 1000;

const CHECKED: &str = "granted@contoso.example";
const CHANGED: &str = "alice@contoso.example";
const WARM_UP: &str = "plain@contoso.example";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Check,
    Grant,
    Revoke,
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// 200; for grant and revoke `changed: true` and the principal's entry applied.
    Success,
    /// A problem with this status and code; `retry_after` says whether `Retry-After` is set.
    /// For grant and revoke the principal's entry is unchanged.
    Problem {
        status: u16,
        code: &'static str,
        retry_after: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    ServerBusy,
    Http503,
    Http401,
    Reset,
    Slow,
    Malformed,
    SoapFaultSchema,
    ConnectionClose,
    ChangeKeyRequired,
    ConnectionCount,
}

impl Fault {
    fn kind(self) -> FaultKind {
        match self {
            Fault::ServerBusy => FaultKind::ServerBusy { back_off_ms: 200 },
            Fault::Http503 => FaultKind::Http503 {
                retry_after_secs: Some(1),
            },
            Fault::Http401 => FaultKind::Http401,
            Fault::Reset => FaultKind::Reset,
            Fault::Slow => FaultKind::Slow { ms: SLOW_MS },
            Fault::Malformed => FaultKind::Malformed,
            Fault::SoapFaultSchema => FaultKind::SoapFault {
                code: "ErrorSchemaValidation".to_owned(),
            },
            Fault::ConnectionClose => FaultKind::ConnectionClose,
            Fault::ChangeKeyRequired => FaultKind::MessageError {
                code: "ErrorChangeKeyRequiredForWriteOperations".to_owned(),
            },
            // Exchange's answer beyond EWSMaxConcurrency: a fault without BackOffMilliseconds
            // (and here without the MaxConcurrencyLimit value, so the limit is halved).
            Fault::ConnectionCount => FaultKind::SoapFault {
                code: "ErrorExceededConnectionCount".to_owned(),
            },
        }
    }
}

/// One row of the matrix.
#[derive(Clone, Copy, Debug)]
struct Case {
    fault: Fault,
    op: Op,
    /// `GetFolder` (the reads) or `UpdateFolder` (the write).
    target: &'static str,
    count: u32,
    expect: Expect,
}

const READ: &str = "GetFolder";
const WRITE: &str = "UpdateFolder";

const fn case(fault: Fault, op: Op, target: &'static str, count: u32, expect: Expect) -> Case {
    Case {
        fault,
        op,
        target,
        count,
        expect,
    }
}

const OK: Expect = Expect::Success;
const THROTTLED: Expect = Expect::Problem {
    status: 503,
    code: "throttled",
    retry_after: true,
};
const AUTH_FAILED: Expect = Expect::Problem {
    status: 502,
    code: "exchange_auth_failed",
    retry_after: false,
};
const UNREACHABLE: Expect = Expect::Problem {
    status: 502,
    code: "exchange_unreachable",
    retry_after: false,
};
const TIMED_OUT: Expect = Expect::Problem {
    status: 504,
    code: "exchange_timeout",
    retry_after: true,
};
const EXCHANGE_ERROR: Expect = Expect::Problem {
    status: 502,
    code: "exchange_error",
    retry_after: false,
};
const CONFLICT: Expect = Expect::Problem {
    status: 409,
    code: "conflict",
    retry_after: false,
};

use Fault::*;
use Op::*;

/// The matrix; the module comment and `docs/FAULTS.md` say the same in words.
const MATRIX: &[Case] = &[
    case(ServerBusy, Check, READ, 2, OK),
    case(ServerBusy, Check, READ, FOREVER, THROTTLED),
    case(ServerBusy, Grant, READ, 2, OK),
    case(ServerBusy, Grant, WRITE, 2, OK),
    case(ServerBusy, Grant, WRITE, FOREVER, THROTTLED),
    case(ServerBusy, Revoke, READ, 2, OK),
    case(ServerBusy, Revoke, WRITE, 2, OK),
    case(ServerBusy, Revoke, WRITE, FOREVER, THROTTLED),
    case(Http503, Check, READ, 1, OK),
    case(Http503, Check, READ, FOREVER, THROTTLED),
    case(Http503, Grant, READ, 1, OK),
    case(Http503, Grant, WRITE, 1, OK),
    case(Http503, Grant, WRITE, FOREVER, THROTTLED),
    case(Http503, Revoke, READ, 1, OK),
    case(Http503, Revoke, WRITE, 1, OK),
    case(Http503, Revoke, WRITE, FOREVER, THROTTLED),
    case(Http401, Check, READ, 1, OK),
    case(Http401, Check, READ, FOREVER, AUTH_FAILED),
    case(Http401, Grant, READ, 1, OK),
    case(Http401, Grant, WRITE, 1, OK),
    case(Http401, Grant, WRITE, FOREVER, AUTH_FAILED),
    case(Http401, Revoke, READ, 1, OK),
    case(Http401, Revoke, WRITE, 1, OK),
    case(Reset, Check, READ, 1, OK),
    case(Reset, Check, READ, FOREVER, UNREACHABLE),
    case(Reset, Grant, READ, 1, OK),
    case(Reset, Grant, WRITE, 1, OK),
    case(Reset, Grant, WRITE, FOREVER, OK),
    case(Reset, Revoke, READ, 1, OK),
    case(Reset, Revoke, WRITE, 1, OK),
    case(Slow, Check, READ, 1, OK),
    case(Slow, Check, READ, FOREVER, TIMED_OUT),
    case(Slow, Grant, READ, 1, OK),
    case(Slow, Grant, WRITE, 1, OK),
    case(Slow, Revoke, READ, 1, OK),
    case(Slow, Revoke, WRITE, 1, OK),
    case(Malformed, Check, READ, 1, EXCHANGE_ERROR),
    case(Malformed, Grant, READ, 1, EXCHANGE_ERROR),
    case(Malformed, Grant, WRITE, 1, OK),
    case(Malformed, Revoke, READ, 1, EXCHANGE_ERROR),
    case(Malformed, Revoke, WRITE, 1, OK),
    case(SoapFaultSchema, Check, READ, 1, EXCHANGE_ERROR),
    case(SoapFaultSchema, Grant, READ, 1, EXCHANGE_ERROR),
    case(SoapFaultSchema, Grant, WRITE, 1, EXCHANGE_ERROR),
    case(SoapFaultSchema, Revoke, READ, 1, EXCHANGE_ERROR),
    case(SoapFaultSchema, Revoke, WRITE, 1, EXCHANGE_ERROR),
    case(ConnectionClose, Check, READ, FOREVER, OK),
    case(ConnectionClose, Grant, READ, FOREVER, OK),
    case(ConnectionClose, Grant, WRITE, FOREVER, OK),
    case(ConnectionClose, Revoke, READ, FOREVER, OK),
    case(ConnectionClose, Revoke, WRITE, FOREVER, OK),
    case(ChangeKeyRequired, Grant, WRITE, 1, OK),
    case(ChangeKeyRequired, Grant, WRITE, FOREVER, CONFLICT),
    case(ChangeKeyRequired, Revoke, WRITE, 1, OK),
    case(ChangeKeyRequired, Revoke, WRITE, FOREVER, CONFLICT),
    case(ConnectionCount, Check, READ, 2, OK),
    case(ConnectionCount, Check, READ, FOREVER, THROTTLED),
    case(ConnectionCount, Grant, READ, 2, OK),
    case(ConnectionCount, Grant, WRITE, 2, OK),
    case(ConnectionCount, Grant, WRITE, FOREVER, THROTTLED),
    case(ConnectionCount, Revoke, READ, 2, OK),
    case(ConnectionCount, Revoke, WRITE, 2, OK),
    case(ConnectionCount, Revoke, WRITE, FOREVER, THROTTLED),
];

/// A served API in front of a fresh simulator, with the matrix's budget and timeout.
struct Rig {
    sim: SimHandle,
    api: ServedApi,
    _audit_dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let sim = start_sim(&sample_state()).await;
    let mut transport = TransportSettings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
    transport.request_timeout = TIMEOUT;
    transport.connect_timeout = Duration::from_secs(2);
    let mut exchange_settings = ews_connector::exchange::Settings::new(
        transport,
        "Exchange2013_SP1".to_owned(),
        vec![Account {
            username: r"CONTOSO\svc-mytt".to_owned(),
            smtp: "svc-mytt@contoso.example".to_owned(),
            password: Secret::new(SVC_PASSWORD),
        }],
    );
    exchange_settings.retry_budget = BUDGET;
    let exchange = Arc::new(Exchange::new(exchange_settings).unwrap());
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(AuditLog::open(&audit_dir.path().join("audit.jsonl")).unwrap());
    let delegation = Arc::new(Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange.clone()),
        ews_connector::delegation::Settings {
            access: AccessMode::Delegate,
            impersonation: true,
            principal: PRINCIPAL.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
        },
        Some(audit.clone()),
    ));
    let state = AppState::new(settings(), delegation, exchange, Some(audit));
    let api = start_api(state).await;
    Rig {
        sim,
        api,
        _audit_dir: audit_dir,
    }
}

impl Rig {
    async fn send(&self, op: Op, mailbox: &str) -> reqwest::Response {
        let client = reqwest::Client::new();
        let request = match op {
            Check => client.get(
                self.api
                    .url(&format!("/v1/mailboxes/{mailbox}/calendar/access")),
            ),
            Grant => client.put(
                self.api
                    .url(&format!("/v1/mailboxes/{mailbox}/calendar/delegation")),
            ),
            Revoke => client.delete(
                self.api
                    .url(&format!("/v1/mailboxes/{mailbox}/calendar/delegation")),
            ),
        };
        request.bearer_auth(BOTH_TOKEN).send().await.unwrap()
    }

    fn permissions(&self) -> Vec<PermissionView> {
        self.sim.permissions(CHANGED).expect("alice has a calendar")
    }
}

fn principal_entry(entries: &[PermissionView]) -> Option<&PermissionView> {
    entries
        .iter()
        .find(|entry| entry.user.eq_ignore_ascii_case(PRINCIPAL))
}

fn others(entries: &[PermissionView]) -> Vec<&PermissionView> {
    entries
        .iter()
        .filter(|entry| !entry.user.eq_ignore_ascii_case(PRINCIPAL))
        .collect()
}

/// Runs one case against its own simulator and API and asserts everything the module comment
/// promises.
async fn run(case: Case) {
    let what = format!("{case:?}");
    let rig = rig().await;
    let mailbox = if case.op == Check { CHECKED } else { CHANGED };

    // Warm up the pooled connection, and for revoke put the principal's entry in place.
    let warm_up = rig.send(Check, WARM_UP).await;
    assert_eq!(warm_up.status(), 200, "{what}: warm-up");
    if case.op == Revoke {
        let granted = rig.send(Grant, CHANGED).await;
        assert_eq!(granted.status(), 200, "{what}: the grant before the revoke");
        assert!(principal_entry(&rig.permissions()).is_some());
    }
    let before = rig.permissions();
    let stats_before = rig.sim.stats();
    let writes_before = stats_before.requests(WRITE);

    rig.sim.push_fault(ScriptedFault {
        operation: Some(case.target.to_owned()),
        mailbox: Some(mailbox.to_owned()),
        count: case.count,
        kind: case.fault.kind(),
    });
    let started = Instant::now();
    let response = rig.send(case.op, mailbox).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").cloned();
    let body: Value = response.json().await.unwrap();

    assert!(
        elapsed <= BUDGET + TIMEOUT + SLACK,
        "{what}: answered after {elapsed:?}, beyond the budget"
    );
    match case.expect {
        Expect::Success => {
            assert_eq!(status, 200, "{what}: {body}");
            match case.op {
                Check => {
                    assert_eq!(body["status"], "ok", "{what}: {body}");
                    assert_eq!(body["ready"], true, "{what}: {body}");
                }
                Grant => {
                    assert_eq!(body["changed"], true, "{what}: {body}");
                    assert_eq!(body["level"], "Editor", "{what}: {body}");
                }
                Revoke => {
                    assert_eq!(body["changed"], true, "{what}: {body}");
                    assert_eq!(body["previousLevel"], "Editor", "{what}: {body}");
                }
            }
        }
        Expect::Problem {
            status: expected_status,
            code,
            retry_after: expect_retry_after,
        } => {
            assert_eq!(status, expected_status, "{what}: {body}");
            assert_eq!(body["code"], code, "{what}: {body}");
            assert_eq!(
                retry_after.is_some(),
                expect_retry_after,
                "{what}: Retry-After {retry_after:?}"
            );
            if let Some(value) = retry_after {
                let seconds: u64 = value.to_str().unwrap().parse().expect("whole seconds");
                assert!(seconds >= 1, "{what}: Retry-After {seconds}");
            }
        }
    }

    if case.op != Check {
        let after = rig.permissions();
        assert_eq!(
            others(&after),
            others(&before),
            "{what}: another entry changed or was lost"
        );
        match (case.expect, case.op) {
            (Expect::Success, Grant) => {
                let entry = principal_entry(&after).expect("the principal's entry exists");
                assert_eq!(
                    entry.level,
                    ews_connector::sim::PermissionLevel::Editor,
                    "{what}"
                );
            }
            (Expect::Success, _) => {
                assert!(
                    principal_entry(&after).is_none(),
                    "{what}: entry still there"
                );
            }
            (Expect::Problem { .. }, _) => {
                assert_eq!(
                    principal_entry(&after),
                    principal_entry(&before),
                    "{what}: a failed change must leave the principal's entry as it was"
                );
            }
        }
        if case.target == READ && matches!(case.expect, Expect::Problem { .. }) {
            assert_eq!(
                rig.sim.stats().requests(WRITE),
                writes_before,
                "{what}: nothing may be written after a failed read"
            );
        }
    }

    // The fault really fired (the case is not vacuous): a limited count is used up on success.
    let stats = rig.sim.stats();
    let applied = stats.faults_applied - stats_before.faults_applied;
    assert!(applied >= 1, "{what}: the fault never fired");
    if case.count != FOREVER && matches!(case.expect, Expect::Success) {
        assert_eq!(applied, u64::from(case.count), "{what}: faults applied");
    }
    if case.fault == Http401 && matches!(case.expect, Expect::Success) {
        // The 401 hit an authenticated, pooled connection, which logged on again.
        assert!(
            stats.ntlm_accepted > stats_before.ntlm_accepted,
            "{what}: no new logon after the 401"
        );
    }

    // No panic anywhere: the API still answers.
    let health = reqwest::get(rig.api.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200, "{what}: the API stopped serving");
}

/// Runs every row for `fault`, one after the other (each on its own simulator).
async fn run_fault(fault: Fault) {
    let cases: Vec<Case> = MATRIX
        .iter()
        .copied()
        .filter(|case| case.fault == fault)
        .collect();
    assert!(!cases.is_empty());
    for case in cases {
        run(case).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_busy_with_back_off() {
    run_fault(ServerBusy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_503_with_retry_after() {
    run_fault(Http503).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_401_on_a_reused_connection() {
    run_fault(Http401).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset_mid_body() {
    run_fault(Reset).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_slower_than_the_timeout() {
    run_fault(Slow).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_xml() {
    run_fault(Malformed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_fault() {
    run_fault(SoapFaultSchema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_close_after_each_response() {
    run_fault(ConnectionClose).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_key_required_on_the_write() {
    run_fault(ChangeKeyRequired).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceeded_connection_count() {
    run_fault(ConnectionCount).await;
}

#[test]
fn the_matrix_covers_every_fault_against_every_operation_and_both_paths() {
    let faults = [
        ServerBusy,
        Http503,
        Http401,
        Reset,
        Slow,
        Malformed,
        SoapFaultSchema,
        ConnectionClose,
        ConnectionCount,
    ];
    for fault in faults {
        for (op, target) in [
            (Check, READ),
            (Grant, READ),
            (Grant, WRITE),
            (Revoke, READ),
            (Revoke, WRITE),
        ] {
            assert!(
                MATRIX
                    .iter()
                    .any(|case| case.fault == fault && case.op == op && case.target == target),
                "no row for {fault:?} x {op:?} on {target}"
            );
        }
    }
}
