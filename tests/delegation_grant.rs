//! Grant and revoke end to end: `delegation` → `exchange` → `ews` → `transport` → the simulator
//! (sample state `fixtures/sim/sample.toml`). The simulator's own view of the permission set is
//! compared before and after, field by field; every request body is captured and validated
//! against Microsoft's schema; the audit file is read back.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ews_connector::audit::AuditLog;
use ews_connector::backend;
use ews_connector::delegation::{
    Actor, ChangeOutcome, Delegation, Error, GrantRequest, PermissionLevel, RevokeRequest, Settings,
};
use ews_connector::domain::{AccessMode, Mailbox};
use ews_connector::ews::ErrorKind;
use ews_connector::exchange::{Account, Exchange};
use ews_connector::secret::Secret;
use ews_connector::sim::{self, FaultKind, PermissionView, ScriptedFault, SimHandle, SimState};
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const PRINCIPAL: &str = "mytimetable-push@contoso.example";
const ALICE: &str = "alice@contoso.example";

/// A delegation client against one simulator, with an audit file and captured request bodies.
struct Setup {
    sim: SimHandle,
    delegation: Delegation,
    capture: tempfile::TempDir,
    audit_dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Setup {
        Setup::with_sim(start_sim(&sample_state()).await)
    }

    fn with_sim(sim: SimHandle) -> Setup {
        let capture = tempfile::tempdir().unwrap();
        let audit_dir = tempfile::tempdir().unwrap();
        let audit = AuditLog::open(&audit_dir.path().join("audit.jsonl")).unwrap();
        let delegation = Delegation::new(
            ews_connector::backend::ews::EwsBackend::shared(exchange_for(
                &sim.url,
                Some(capture.path().to_owned()),
            )),
            settings(),
            Some(Arc::new(audit)),
        );
        Setup {
            sim,
            delegation,
            capture,
            audit_dir,
        }
    }

    fn audit_path(&self) -> PathBuf {
        self.audit_dir.path().join("audit.jsonl")
    }

    /// Every audit record so far.
    fn records(&self) -> Vec<serde_json::Value> {
        read_records(&self.audit_path())
    }

    /// The final records (`changed`, `failed`, `unchanged`), without the intents.
    fn final_records(&self) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .filter(|record| record["result"] != "intent")
            .collect()
    }

    fn update_folders(&self) -> u64 {
        self.sim.stats().requests("UpdateFolder")
    }

    fn permissions(&self, mailbox: &str) -> Vec<PermissionView> {
        self.sim
            .permissions(mailbox)
            .expect("a mailbox of the sample")
    }

    async fn grant(
        &self,
        mailbox: &str,
        principal: &str,
        level: PermissionLevel,
        dry_run: bool,
    ) -> Result<ChangeOutcome, Error> {
        self.delegation
            .grant(
                &actor(),
                &Mailbox::parse(mailbox).unwrap(),
                GrantRequest {
                    principal: Some(principal.to_owned()),
                    level: Some(level),
                    dry_run,
                },
            )
            .await
    }

    async fn revoke(
        &self,
        mailbox: &str,
        principal: &str,
        dry_run: bool,
    ) -> Result<ChangeOutcome, Error> {
        self.delegation
            .revoke(
                &actor(),
                &Mailbox::parse(mailbox).unwrap(),
                RevokeRequest {
                    principal: Some(principal.to_owned()),
                    dry_run,
                },
            )
            .await
    }

    /// Validates every captured request body against the schema (skips without it).
    fn validate_captured(&self) {
        let captured: Vec<PathBuf> = std::fs::read_dir(self.capture.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(!captured.is_empty(), "request bodies were captured");
        if common::schema::require_or_skip("validation") {
            common::schema::validate_all(&captured).unwrap();
        }
    }
}

fn exchange_for(url: &str, capture_dir: Option<PathBuf>) -> Arc<Exchange> {
    let mut transport = TransportSettings::new(url.parse().unwrap(), AuthScheme::Ntlm);
    transport.request_timeout = Duration::from_secs(10);
    Arc::new(
        Exchange::new(ews_connector::exchange::Settings {
            transport,
            version: "Exchange2013_SP1".to_owned(),
            accounts: vec![Account {
                username: r"CONTOSO\svc-mytt".to_owned(),
                smtp: "svc-mytt@contoso.example".to_owned(),
                password: Secret::new(SVC_PASSWORD),
            }],
            capture_dir,
            retry_budget: Duration::from_secs(2),
            auth_failure_cooldown: Duration::from_secs(900),
        })
        .unwrap(),
    )
}

fn settings() -> Settings {
    Settings {
        access: AccessMode::Delegate,
        impersonation: true,
        principal: PRINCIPAL.to_owned(),
        required: PermissionLevel::Editor,
        // The other users these tests grant to and revoke from.
        allowed_principals: ["bob", "carol", "dave", "planners"]
            .map(|user| format!("{user}@contoso.example"))
            .to_vec(),
        max_level: PermissionLevel::Editor,
    }
}

fn actor() -> Actor {
    Actor {
        request_id: "req-42".to_owned(),
        client: "mytimetable".to_owned(),
    }
}

fn read_records(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| serde_json::from_str(line).expect("every audit line is JSON"))
        .collect()
}

/// The entries of everybody but `user`, in order.
fn others(permissions: &[PermissionView], user: &str) -> Vec<PermissionView> {
    permissions
        .iter()
        .filter(|entry| !entry.user.eq_ignore_ascii_case(user))
        .cloned()
        .collect()
}

fn entry_of(permissions: &[PermissionView], user: &str) -> Option<PermissionView> {
    permissions
        .iter()
        .find(|entry| entry.user.eq_ignore_ascii_case(user))
        .cloned()
}

#[tokio::test]
async fn grant_then_revoke_on_alice_keeps_every_other_entry() {
    let setup = Setup::new().await;
    let before = setup.permissions(ALICE);
    assert_eq!(before.len(), 7, "alice's sample set: {before:?}");
    assert!(entry_of(&before, PRINCIPAL).is_none());
    let change_key_before = setup.sim.calendar(ALICE).unwrap().change_key;

    let granted = setup
        .grant(ALICE, PRINCIPAL, PermissionLevel::Editor, false)
        .await
        .unwrap();
    assert!(granted.changed);
    assert!(!granted.dry_run);
    assert_eq!(granted.level, PermissionLevel::Editor);
    assert_eq!(granted.previous_level, PermissionLevel::None);
    assert!(granted.audit_id.is_some());
    let after_grant = setup.permissions(ALICE);
    assert_eq!(
        others(&after_grant, PRINCIPAL),
        before,
        "Default, Anonymous, users, the group, the Custom entry and the SID-only entry are kept, in order"
    );
    let mine = entry_of(&after_grant, PRINCIPAL).expect("the principal's entry");
    assert_eq!(mine.level, sim::PermissionLevel::Editor);
    assert_eq!(after_grant.last(), Some(&mine), "a new entry goes last");
    let calendar = setup.sim.calendar(ALICE).unwrap();
    assert_ne!(calendar.change_key, change_key_before);
    assert_eq!(setup.update_folders(), 1);

    let again = setup
        .grant(
            ALICE,
            "MyTimetable-Push@Contoso.Example",
            PermissionLevel::Editor,
            false,
        )
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.previous_level, PermissionLevel::Editor);
    assert_eq!(again.audit_id, None);
    assert_eq!(
        setup.update_folders(),
        1,
        "nothing is written when in place"
    );

    let revoked = setup.revoke(ALICE, PRINCIPAL, false).await.unwrap();
    assert!(revoked.changed);
    assert_eq!(revoked.previous_level, PermissionLevel::Editor);
    assert_eq!(revoked.level, PermissionLevel::None);
    assert_eq!(
        setup.permissions(ALICE),
        before,
        "back to the set we started from"
    );
    assert_eq!(setup.update_folders(), 2);

    let revoked_again = setup.revoke(ALICE, PRINCIPAL, false).await.unwrap();
    assert!(!revoked_again.changed);
    assert_eq!(revoked_again.previous_level, PermissionLevel::None);
    assert_eq!(setup.update_folders(), 2);

    let finals = setup.final_records();
    assert_eq!(finals.len(), 2, "one record per change: {finals:?}");
    assert_eq!(finals[0]["action"], "grant");
    assert_eq!(finals[1]["action"], "revoke");
    assert_eq!(finals[0]["id"], granted.audit_id.unwrap().as_str());
    setup.validate_captured();
}

#[tokio::test]
async fn a_concurrent_writer_is_retried_and_its_change_survives() {
    let setup = Setup::new().await;
    let before = setup.permissions(ALICE);
    setup.sim.push_fault(ScriptedFault {
        operation: Some("UpdateFolder".to_owned()),
        mailbox: Some(ALICE.to_owned()),
        count: 1,
        kind: FaultKind::ConcurrentWrite {
            user: "carol@contoso.example".to_owned(),
            level: sim::PermissionLevel::Editor,
        },
    });
    let outcome = setup
        .grant(ALICE, PRINCIPAL, PermissionLevel::Editor, false)
        .await
        .unwrap();
    assert!(outcome.changed);
    let stats = setup.sim.stats();
    assert_eq!(stats.faults_applied, 1);
    assert_eq!(
        stats.requests("UpdateFolder"),
        2,
        "one conflict, one success"
    );
    assert_eq!(
        stats.requests("GetFolder"),
        3,
        "read, read again after the conflict, confirm"
    );

    let after = setup.permissions(ALICE);
    let carol = entry_of(&after, "carol@contoso.example").unwrap();
    assert_eq!(
        carol.level,
        sim::PermissionLevel::Editor,
        "the other writer's change survives"
    );
    assert_eq!(
        others(&others(&after, PRINCIPAL), "carol@contoso.example"),
        others(&before, "carol@contoso.example"),
        "every old entry survives"
    );
    let carol_before = entry_of(&before, "carol@contoso.example").unwrap();
    let carol_position = before.iter().position(|entry| *entry == carol_before);
    assert_eq!(
        after.iter().position(|entry| *entry == carol),
        carol_position,
        "carol's entry keeps its place"
    );
    assert_eq!(
        entry_of(&after, PRINCIPAL).unwrap().level,
        sim::PermissionLevel::Editor
    );
    setup.validate_captured();
}

#[tokio::test]
async fn five_stale_change_keys_give_up_with_nothing_of_ours_written() {
    let setup = Setup::new().await;
    setup.sim.push_fault(ScriptedFault {
        operation: Some("UpdateFolder".to_owned()),
        mailbox: Some(ALICE.to_owned()),
        count: 6,
        kind: FaultKind::ConcurrentWrite {
            user: "carol@contoso.example".to_owned(),
            level: sim::PermissionLevel::Author,
        },
    });
    let error = setup
        .grant(ALICE, PRINCIPAL, PermissionLevel::Editor, false)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Conflict { attempts: 5 }),
        "{error:?}"
    );
    assert_eq!(
        ews_connector::api::problem::Problem::from(&error)
            .code
            .as_str(),
        "conflict"
    );
    let stats = setup.sim.stats();
    assert_eq!(stats.requests("UpdateFolder"), 5, "exactly 5 attempts");
    assert_eq!(stats.faults_applied, 5, "the sixth fault was never needed");
    let after = setup.permissions(ALICE);
    assert!(entry_of(&after, PRINCIPAL).is_none(), "nothing of ours");
    assert_eq!(
        entry_of(&after, "carol@contoso.example").unwrap().level,
        sim::PermissionLevel::Author
    );

    let finals = setup.final_records();
    assert_eq!(finals.len(), 1, "{finals:?}");
    assert_eq!(finals[0]["result"], "failed");
    assert_eq!(finals[0]["ewsResponseCode"], "ErrorIrresolvableConflict");
    assert_eq!(finals[0]["levelBefore"], "None");
    setup.validate_captured();
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_says_what_would_change() {
    let setup = Setup::new().await;
    let calendar_before = setup.sim.calendar(ALICE).unwrap();
    let outcome = setup
        .grant(ALICE, PRINCIPAL, PermissionLevel::Reviewer, true)
        .await
        .unwrap();
    assert!(outcome.dry_run);
    assert!(outcome.changed, "it would change");
    assert_eq!(outcome.level, PermissionLevel::Reviewer);
    assert_eq!(outcome.previous_level, PermissionLevel::None);
    assert_eq!(outcome.audit_id, None);

    let outcome = setup
        .revoke(ALICE, "bob@contoso.example", true)
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.previous_level, PermissionLevel::Editor);

    let outcome = setup
        .grant(ALICE, "bob@contoso.example", PermissionLevel::Editor, true)
        .await
        .unwrap();
    assert!(!outcome.changed, "already in place");

    assert_eq!(
        setup.sim.calendar(ALICE).unwrap(),
        calendar_before,
        "same ChangeKey, same entries"
    );
    assert_eq!(setup.update_folders(), 0);
    assert!(
        setup.records().is_empty(),
        "a dry run changes nothing: no record"
    );
}

#[tokio::test]
async fn a_grant_lowers_a_level_and_replaces_a_custom_entry() {
    let setup = Setup::new().await;
    let granted_before = setup.permissions("granted@contoso.example");
    let outcome = setup
        .grant(
            "granted@contoso.example",
            PRINCIPAL,
            PermissionLevel::Reviewer,
            false,
        )
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.previous_level, PermissionLevel::Editor);
    assert_eq!(outcome.level, PermissionLevel::Reviewer);
    let granted_after = setup.permissions("granted@contoso.example");
    assert_eq!(
        entry_of(&granted_after, PRINCIPAL).unwrap().level,
        sim::PermissionLevel::Reviewer
    );
    assert_eq!(
        others(&granted_after, PRINCIPAL),
        others(&granted_before, PRINCIPAL)
    );
    let position = |permissions: &[PermissionView]| {
        permissions
            .iter()
            .position(|entry| entry.user.eq_ignore_ascii_case(PRINCIPAL))
    };
    assert_eq!(position(&granted_after), position(&granted_before));

    let alice_before = setup.permissions(ALICE);
    let dave_before = entry_of(&alice_before, "dave@contoso.example").unwrap();
    assert_eq!(dave_before.level, sim::PermissionLevel::Custom);
    let outcome = setup
        .grant(
            ALICE,
            "dave@contoso.example",
            PermissionLevel::Author,
            false,
        )
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.previous_level, PermissionLevel::Custom);
    let alice_after = setup.permissions(ALICE);
    let dave_after = entry_of(&alice_after, "dave@contoso.example").unwrap();
    assert_eq!(dave_after.level, sim::PermissionLevel::Author);
    assert_eq!(
        Some(dave_after.flags),
        sim::PermissionLevel::Author.flags(),
        "the Custom flags are replaced by Author's"
    );
    assert_eq!(
        others(&alice_after, "dave@contoso.example"),
        others(&alice_before, "dave@contoso.example")
    );
    assert_eq!(setup.final_records().len(), 2);
    setup.validate_captured();
}

#[tokio::test]
async fn refusals_come_before_any_write_and_failures_are_audited() {
    let setup = Setup::new().await;
    let cases = [
        (
            "nobody@contoso.example",
            ErrorKind::MailboxNotFound,
            "mailbox_not_found",
        ),
        (
            "ceo@contoso.example",
            ErrorKind::ImpersonationDenied,
            "impersonation_denied",
        ),
        (
            "moving@contoso.example",
            ErrorKind::MailboxUnavailable,
            "mailbox_unavailable",
        ),
    ];
    for (mailbox, expected_kind, problem_code) in cases {
        let error = setup
            .grant(mailbox, PRINCIPAL, PermissionLevel::Editor, false)
            .await
            .unwrap_err();
        match &error {
            Error::Backend(backend::Error::Refused { kind, .. }) => {
                assert_eq!(*kind, expected_kind, "{mailbox}")
            }
            other => panic!("{mailbox}: expected a refusal, got {other:?}"),
        }
        assert_eq!(
            ews_connector::api::problem::Problem::from(&error)
                .code
                .as_str(),
            problem_code
        );
        let error = setup.revoke(mailbox, PRINCIPAL, false).await.unwrap_err();
        assert!(matches!(
            error,
            Error::Backend(backend::Error::Refused { kind, .. }) if kind == expected_kind
        ));
    }

    let error = setup
        .grant(ALICE, PRINCIPAL, PermissionLevel::Custom, false)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidLevel(_)), "{error:?}");
    let error = setup
        .grant(ALICE, "not-an-address", PermissionLevel::Editor, false)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidPrincipal(_)), "{error:?}");
    assert_eq!(setup.update_folders(), 0);

    let finals = setup.final_records();
    assert_eq!(
        finals.len(),
        6,
        "one failed record per refused call: {finals:?}"
    );
    assert!(finals.iter().all(|record| record["result"] == "failed"));
    assert!(
        setup.records().len() == 6,
        "no intent: nothing was about to be written"
    );
    let codes: Vec<&str> = finals
        .iter()
        .map(|record| record["ewsResponseCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes[0], "ErrorNonExistentMailbox");
    assert_eq!(codes[2], "ErrorImpersonateUserDenied");
    assert_eq!(codes[4], "ErrorMailboxMoveInProgress");
    assert!(finals[0]["levelBefore"].is_null(), "the set was never read");
    setup.validate_captured();
}

#[tokio::test]
async fn two_concurrent_grants_on_one_mailbox_both_land_without_a_conflict() {
    let mut state = SimState::from_toml_str(&sample_state()).unwrap();
    // Slow answers make the two read-merge-writes overlap, were they not serialized.
    state.set_latency_ms(40);
    let setup = Setup::with_sim(sim::start(state).await.unwrap());
    let before = setup.permissions("plain@contoso.example");
    let (first, second) = tokio::join!(
        setup.grant(
            "plain@contoso.example",
            PRINCIPAL,
            PermissionLevel::Editor,
            false
        ),
        setup.grant(
            "PLAIN@contoso.example",
            "planners@contoso.example",
            PermissionLevel::Reviewer,
            false
        ),
    );
    assert!(first.unwrap().changed);
    assert!(second.unwrap().changed);
    let after = setup.permissions("plain@contoso.example");
    assert_eq!(
        entry_of(&after, PRINCIPAL).unwrap().level,
        sim::PermissionLevel::Editor
    );
    assert_eq!(
        entry_of(&after, "planners@contoso.example").unwrap().level,
        sim::PermissionLevel::Reviewer
    );
    assert_eq!(
        others(&others(&after, PRINCIPAL), "planners@contoso.example"),
        before
    );
    assert_eq!(
        setup.update_folders(),
        2,
        "no UpdateFolder was answered with a conflict and retried"
    );
}

#[tokio::test]
async fn audit_records_have_the_documented_fields_and_no_secret() {
    let setup = Setup::new().await;
    let outcome = setup
        .grant(
            "plain@contoso.example",
            PRINCIPAL,
            PermissionLevel::Editor,
            false,
        )
        .await
        .unwrap();
    let records = setup.records();
    assert_eq!(records.len(), 2, "an intent, then the change: {records:?}");
    let (intent, changed) = (&records[0], &records[1]);
    assert_eq!(intent["result"], "intent");
    assert!(intent["intentId"].is_null());
    assert_eq!(changed["result"], "changed");
    assert_eq!(changed["id"], outcome.audit_id.clone().unwrap().as_str());
    assert_eq!(changed["intentId"], intent["id"]);
    assert_ne!(changed["id"], intent["id"]);
    for record in [intent, changed] {
        assert_eq!(record["requestId"], "req-42");
        assert_eq!(record["client"], "mytimetable");
        assert_eq!(record["mailbox"], "plain@contoso.example");
        assert_eq!(record["principal"], PRINCIPAL);
        assert_eq!(record["action"], "grant");
        assert_eq!(record["levelBefore"], "None");
        assert_eq!(record["levelAfter"], "Editor");
        assert!(record["ewsResponseCode"].is_null());
        let time = record["time"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok(),
            "time is RFC 3339: {time}"
        );
    }

    // Unchanged and dry runs add nothing.
    setup
        .grant(
            "plain@contoso.example",
            PRINCIPAL,
            PermissionLevel::Editor,
            false,
        )
        .await
        .unwrap();
    setup
        .revoke("plain@contoso.example", PRINCIPAL, true)
        .await
        .unwrap();
    assert_eq!(setup.records().len(), 2);

    // A failure: one record with Exchange's code.
    setup
        .revoke("ceo@contoso.example", PRINCIPAL, false)
        .await
        .unwrap_err();
    let records = setup.records();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2]["result"], "failed");
    assert_eq!(records[2]["action"], "revoke");
    assert_eq!(records[2]["ewsResponseCode"], "ErrorImpersonateUserDenied");
    assert!(records[2]["detail"].as_str().is_some());

    let text = std::fs::read_to_string(setup.audit_path()).unwrap();
    assert!(!text.contains(SVC_PASSWORD), "no password");
    assert!(!text.contains('<'), "no XML");
    assert!(!text.contains("NTLM "), "no authorization header");
}

#[tokio::test]
async fn without_an_audit_log_a_change_is_refused_before_exchange_is_written() {
    let sim = start_sim(&sample_state()).await;
    let delegation = Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange_for(&sim.url, None)),
        settings(),
        None,
    );
    let mailbox = Mailbox::parse("plain@contoso.example").unwrap();
    let error = delegation
        .grant(
            &actor(),
            &mailbox,
            GrantRequest {
                principal: None,
                level: None,
                dry_run: false,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Audit(_)), "{error:?}");
    assert_eq!(
        ews_connector::api::problem::Problem::from(&error)
            .code
            .as_str(),
        "audit_unavailable"
    );
    assert_eq!(sim.stats().requests("UpdateFolder"), 0);
    assert!(
        entry_of(
            &sim.permissions("plain@contoso.example").unwrap(),
            PRINCIPAL
        )
        .is_none()
    );

    // Reading is fine: a dry run (with the configured principal and level) works.
    let outcome = delegation
        .grant(
            &actor(),
            &mailbox,
            GrantRequest {
                principal: None,
                level: None,
                dry_run: true,
            },
        )
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.principal, PRINCIPAL);
    assert_eq!(outcome.level, PermissionLevel::Editor);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_audit_file_that_cannot_be_written_refuses_the_change() {
    let sim = start_sim(&sample_state()).await;
    // Every write to /dev/full fails with ENOSPC: a full disk.
    let audit = AuditLog::open(Path::new("/dev/full")).unwrap();
    let delegation = Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange_for(&sim.url, None)),
        settings(),
        Some(Arc::new(audit)),
    );
    let error = delegation
        .grant(
            &actor(),
            &Mailbox::parse("plain@contoso.example").unwrap(),
            GrantRequest {
                principal: None,
                level: None,
                dry_run: false,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Audit(_)), "{error:?}");
    assert_eq!(
        sim.stats().requests("UpdateFolder"),
        0,
        "no unaudited change"
    );
}

#[tokio::test]
async fn a_write_the_re_read_does_not_show_is_not_confirmed() {
    let setup = Setup::new().await;
    // Another writer sets the principal to Reviewer just before each of our two reads: the
    // first read sees Reviewer, we write Editor, and the confirming read sees Reviewer again.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("GetFolder".to_owned()),
        mailbox: Some("plain@contoso.example".to_owned()),
        count: 2,
        kind: FaultKind::ConcurrentWrite {
            user: PRINCIPAL.to_owned(),
            level: sim::PermissionLevel::Reviewer,
        },
    });
    let error = setup
        .grant(
            "plain@contoso.example",
            PRINCIPAL,
            PermissionLevel::Editor,
            false,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotConfirmed), "{error:?}");
    assert_eq!(setup.update_folders(), 1);
    let records = setup.records();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["result"], "intent");
    assert_eq!(records[1]["result"], "failed");
    assert_eq!(records[1]["levelBefore"], "Reviewer");
    assert_eq!(
        records[1]["levelAfter"], "Reviewer",
        "what the re-read showed"
    );
    assert_eq!(records[1]["intentId"], records[0]["id"]);
}

#[tokio::test]
async fn an_exchange_failure_on_the_write_is_an_error_and_audited() {
    let setup = Setup::new().await;
    // A fault of kind Invalid: never retried, so exactly one UpdateFolder fails.
    setup.sim.push_fault(ScriptedFault {
        operation: Some("UpdateFolder".to_owned()),
        mailbox: None,
        count: 1,
        kind: FaultKind::SoapFault {
            code: "ErrorSchemaValidation".to_owned(),
        },
    });
    let before = setup.sim.calendar(ALICE).unwrap();
    let error = setup
        .revoke(ALICE, "bob@contoso.example", false)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Backend(backend::Error::Exchange(_))),
        "{error:?}"
    );
    assert_eq!(
        setup.sim.calendar(ALICE).unwrap(),
        before,
        "nothing changed"
    );
    let finals = setup.final_records();
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0]["result"], "failed");
    assert_eq!(finals[0]["action"], "revoke");
    assert_eq!(finals[0]["levelBefore"], "Editor");
    assert_eq!(finals[0]["ewsResponseCode"], "ErrorSchemaValidation");
}
