//! The fault matrix through grant and revoke (branch `grant` merged): `delegation` → the retry
//! loop of `exchange` → the simulator, with scripted faults on the read or the write. Checks
//! what a user of the API would see: the grant lands (or not), how many writes reached
//! Exchange, and what kind of error comes back.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ews_connector::audit::AuditLog;
use ews_connector::backend;
use ews_connector::delegation::{
    Actor, Delegation, Error, GrantRequest, PermissionLevel, RevokeRequest, Settings,
};
use ews_connector::domain::{AccessMode, Mailbox};
use ews_connector::ews::ErrorKind;
use ews_connector::exchange::{self, Account, Exchange, FailureKind};
use ews_connector::secret::Secret;
use ews_connector::sim::{FaultKind, ScriptedFault, SimHandle};
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const PRINCIPAL: &str = "mytimetable-push@contoso.example";
const ALICE: &str = "alice@contoso.example";

struct Setup {
    sim: SimHandle,
    delegation: Delegation,
    _audit_dir: tempfile::TempDir,
}

async fn setup(password: &str, retry_budget: Duration) -> Setup {
    let sim = start_sim(&sample_state()).await;
    let mut transport = TransportSettings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
    transport.request_timeout = Duration::from_secs(5);
    let mut settings = exchange::Settings::new(
        transport,
        "Exchange2013_SP1".to_owned(),
        vec![Account {
            username: r"CONTOSO\svc-mytt".to_owned(),
            smtp: "svc-mytt@contoso.example".to_owned(),
            password: Secret::new(password),
        }],
    );
    settings.retry_budget = retry_budget;
    let exchange = Arc::new(Exchange::new(settings).unwrap());
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(&audit_dir.path().join("audit.jsonl")).unwrap();
    let delegation = Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange),
        Settings {
            access: AccessMode::Delegate,
            impersonation: true,
            principal: PRINCIPAL.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
        },
        Some(Arc::new(audit)),
    );
    Setup {
        sim,
        delegation,
        _audit_dir: audit_dir,
    }
}

impl Setup {
    async fn grant(&self) -> Result<ews_connector::delegation::ChangeOutcome, Error> {
        self.delegation
            .grant(
                &actor(),
                &Mailbox::parse(ALICE).unwrap(),
                GrantRequest {
                    principal: None,
                    level: None,
                    dry_run: false,
                },
            )
            .await
    }

    async fn revoke(&self) -> Result<ews_connector::delegation::ChangeOutcome, Error> {
        self.delegation
            .revoke(
                &actor(),
                &Mailbox::parse(ALICE).unwrap(),
                RevokeRequest {
                    principal: None,
                    dry_run: false,
                },
            )
            .await
    }

    fn fault(&self, operation: &str, count: u32, kind: FaultKind) {
        self.sim.push_fault(ScriptedFault {
            operation: Some(operation.to_owned()),
            mailbox: None,
            count,
            kind,
        });
    }

    fn principal_has_entry(&self) -> bool {
        self.sim
            .permissions(ALICE)
            .unwrap()
            .iter()
            .any(|entry| entry.user.eq_ignore_ascii_case(PRINCIPAL))
    }

    fn requests(&self, operation: &str) -> u64 {
        self.sim.stats().requests(operation)
    }
}

fn actor() -> Actor {
    Actor {
        request_id: "req-faults".to_owned(),
        client: "mytimetable".to_owned(),
    }
}

fn exchange_error(error: &Error) -> &exchange::Error {
    match error {
        Error::Backend(backend::Error::Exchange(error)) => error,
        other => panic!("expected an exchange error, got {other}"),
    }
}

#[tokio::test]
async fn a_busy_write_is_resent_after_the_back_off_and_the_grant_lands() {
    let setup = setup(SVC_PASSWORD, Duration::from_secs(3)).await;
    setup.fault(
        "UpdateFolder",
        1,
        FaultKind::ServerBusy { back_off_ms: 100 },
    );
    let outcome = setup
        .grant()
        .await
        .expect("grant succeeds after the back-off");
    assert!(outcome.changed);
    assert_eq!(outcome.level, PermissionLevel::Editor);
    assert!(setup.principal_has_entry());
    assert_eq!(setup.requests("UpdateFolder"), 2);
}

#[tokio::test]
async fn a_503_and_a_reset_on_the_reads_do_not_reach_the_caller() {
    let setup = setup(SVC_PASSWORD, Duration::from_secs(3)).await;
    setup.fault(
        "GetFolder",
        1,
        FaultKind::Http503 {
            retry_after_secs: None,
        },
    );
    setup.fault("GetFolder", 1, FaultKind::Reset);
    setup.grant().await.expect("grant succeeds");
    assert!(setup.principal_has_entry());
    setup.fault("GetFolder", 1, FaultKind::Reset);
    let outcome = setup.revoke().await.expect("revoke succeeds");
    assert!(outcome.changed);
    assert!(!setup.principal_has_entry());
    assert_eq!(setup.requests("UpdateFolder"), 2);
}

#[tokio::test]
async fn a_reset_write_is_not_resent_but_a_re_read_shows_it_landed() {
    let setup = setup(SVC_PASSWORD, Duration::from_secs(3)).await;
    setup.fault("UpdateFolder", 1, FaultKind::Reset);
    let reads_before = setup.requests("GetFolder");
    let outcome = setup
        .grant()
        .await
        .expect("the re-read shows the lost write landed");
    assert!(outcome.changed);
    assert_eq!(outcome.previous_level, PermissionLevel::None);
    assert!(setup.principal_has_entry());
    assert_eq!(
        setup.requests("UpdateFolder"),
        1,
        "the write was not resent"
    );
    // One read before the write, one after it that also confirms: no third read.
    assert_eq!(setup.requests("GetFolder") - reads_before, 2);
    // The audit trail shows the intent and the change, not a failure.
    let trail = std::fs::read_to_string(setup._audit_dir.path().join("audit.jsonl")).unwrap();
    let results: Vec<String> = trail
        .lines()
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line).unwrap();
            record["result"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(results, ["intent", "changed"]);
}

#[tokio::test]
async fn a_reset_write_that_was_undone_is_written_again_from_a_fresh_read() {
    let setup = setup(SVC_PASSWORD, Duration::from_secs(3)).await;
    setup.fault("UpdateFolder", 1, FaultKind::Reset);
    // Another writer sets the principal to Reviewer before the first read and again before the
    // read after the lost write: that read does not show our change, so it is written again.
    setup.fault(
        "GetFolder",
        2,
        FaultKind::ConcurrentWrite {
            user: PRINCIPAL.to_owned(),
            level: ews_connector::sim::PermissionLevel::Reviewer,
        },
    );
    let outcome = setup.grant().await.expect("the second write lands");
    assert!(outcome.changed);
    assert_eq!(outcome.previous_level, PermissionLevel::Reviewer);
    assert_eq!(setup.requests("UpdateFolder"), 2);
    let entry = setup
        .sim
        .permissions(ALICE)
        .unwrap()
        .into_iter()
        .find(|entry| entry.user.eq_ignore_ascii_case(PRINCIPAL))
        .expect("the principal's entry");
    assert_eq!(entry.level, ews_connector::sim::PermissionLevel::Editor);
}

#[tokio::test]
async fn a_write_lost_on_every_attempt_ends_with_its_own_error_not_a_conflict() {
    let setup = setup(SVC_PASSWORD, Duration::from_secs(3)).await;
    setup.fault("UpdateFolder", 1000, FaultKind::Malformed);
    // Every read is made to undo the write, so no read ever shows the change.
    setup.fault(
        "GetFolder",
        1000,
        FaultKind::ConcurrentWrite {
            user: PRINCIPAL.to_owned(),
            level: ews_connector::sim::PermissionLevel::Reviewer,
        },
    );
    let error = setup.grant().await.expect_err("never confirmed");
    assert_eq!(exchange_error(&error).kind(), FailureKind::Unusable);
    assert_eq!(
        setup.requests("UpdateFolder"),
        5,
        "every attempt wrote once (API.md: at most 5)"
    );
}

#[tokio::test]
async fn busy_forever_on_the_write_is_throttled_with_retry_after_and_changes_nothing() {
    let budget = Duration::from_millis(1200);
    let setup = setup(SVC_PASSWORD, budget).await;
    setup.fault(
        "UpdateFolder",
        1000,
        FaultKind::ServerBusy { back_off_ms: 200 },
    );
    let started = Instant::now();
    let error = setup.grant().await.expect_err("throttled");
    assert!(started.elapsed() <= budget + Duration::from_millis(500));
    let error = exchange_error(&error);
    assert_eq!(error.kind(), FailureKind::Code(ErrorKind::Throttled));
    assert!(error.retry_after().is_some());
    assert!(!setup.principal_has_entry());
}

#[tokio::test]
async fn a_wrong_password_fails_before_any_write_with_one_handshake() {
    let setup = setup("Wrong-Passw0rd", Duration::from_secs(3)).await;
    let error = setup.grant().await.expect_err("refused");
    assert_eq!(exchange_error(&error).kind(), FailureKind::AuthFailed);
    let again = setup
        .grant()
        .await
        .expect_err("still refused, without sending");
    assert_eq!(exchange_error(&again).kind(), FailureKind::AuthFailed);
    assert_eq!(setup.sim.stats().ntlm_refused, 1);
    assert_eq!(setup.requests("UpdateFolder"), 0);
    assert!(!setup.principal_has_entry());
}
