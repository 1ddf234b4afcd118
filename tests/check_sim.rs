//! The calendar access check end to end: `delegation` → `exchange` → `ews` → `transport` → the
//! simulator (sample state `fixtures/sim/sample.toml`), in both access modes. Every request
//! body the check sends is captured and validated against Microsoft's schema.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ews_connector::delegation::{
    CheckReport, CheckStatus, Delegation, Impersonation, PermissionLevel, Settings,
};
use ews_connector::domain::{AccessMode, Mailbox};
use ews_connector::exchange::{Account, Exchange};
use ews_connector::secret::Secret;
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const PRINCIPAL: &str = "mytimetable-push@contoso.example";

fn exchange_for(
    url: &str,
    password: &str,
    capture_dir: Option<std::path::PathBuf>,
) -> Arc<Exchange> {
    let mut transport = TransportSettings::new(url.parse().unwrap(), AuthScheme::Ntlm);
    transport.request_timeout = Duration::from_secs(10);
    Arc::new(
        Exchange::new(ews_connector::exchange::Settings {
            transport,
            version: "Exchange2013_SP1".to_owned(),
            accounts: vec![Account {
                username: r"CONTOSO\svc-mytt".to_owned(),
                smtp: "svc-mytt@contoso.example".to_owned(),
                password: Secret::new(password),
            }],
            capture_dir,
            retry_budget: Duration::from_secs(60),
            auth_failure_cooldown: Duration::from_secs(900),
        })
        .unwrap(),
    )
}

fn delegation(exchange: Arc<Exchange>, access: AccessMode, impersonation: bool) -> Delegation {
    Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange),
        Settings {
            access,
            impersonation,
            principal: PRINCIPAL.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
        },
        None,
    )
}

async fn check(delegation: &Delegation, mailbox: &str) -> CheckReport {
    delegation
        .check(&Mailbox::parse(mailbox).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn delegate_mode_reports_every_status_with_its_exchange_code() {
    let sim = start_sim(&sample_state()).await;
    let capture = tempfile::tempdir().unwrap();
    let exchange = exchange_for(&sim.url, SVC_PASSWORD, Some(capture.path().to_owned()));
    let delegation = delegation(exchange.clone(), AccessMode::Delegate, true);

    let granted = check(&delegation, "granted@contoso.example").await;
    assert_eq!(granted.status, CheckStatus::Ok);
    assert!(granted.ready);
    assert_eq!(granted.delegation.level, Some(PermissionLevel::Editor));
    assert!(granted.delegation.sufficient);
    assert_eq!(granted.impersonation, Impersonation::Allowed);
    assert_eq!(granted.delegation.via, None, "the principal's own entry");
    // The folder's EffectiveRights is its PR_ACCESS: an Editor may create and read items but
    // not change or delete the calendar folder itself.
    let rights = granted.effective_rights.unwrap();
    assert!(rights.create_contents && rights.read);
    assert!(!rights.modify && !rights.delete);
    assert_eq!(granted.detail, None);
    assert_eq!(granted.ews_response_code, None);
    assert_eq!(granted.service_account, "svc-mytt@contoso.example");

    let plain = check(&delegation, "plain@contoso.example").await;
    assert_eq!(plain.status, CheckStatus::NotDelegated);
    assert!(!plain.ready);
    // What applies is the Default entry, which grants free/busy only.
    assert_eq!(
        plain.delegation.level,
        Some(PermissionLevel::FreeBusyTimeOnly)
    );
    assert_eq!(plain.delegation.via.as_deref(), Some("Default"));
    // The permission set, read as the owner, decides alone (one GetFolder): nothing was refused,
    // so there is no Exchange code, and free/busy does not make the folder visible.
    assert_eq!(plain.ews_response_code, None);
    assert_eq!(plain.effective_rights, None);

    let reviewer = check(&delegation, "reviewer@contoso.example").await;
    assert_eq!(reviewer.status, CheckStatus::Insufficient);
    assert!(!reviewer.ready);
    assert_eq!(reviewer.delegation.level, Some(PermissionLevel::Reviewer));
    assert!(!reviewer.delegation.sufficient);

    let ceo = check(&delegation, "ceo@contoso.example").await;
    assert_eq!(ceo.status, CheckStatus::ImpersonationDenied);
    assert_eq!(ceo.impersonation, Impersonation::Denied);
    assert_eq!(ceo.delegation.level, None);
    assert_eq!(
        ceo.ews_response_code.as_deref(),
        Some("ErrorImpersonateUserDenied")
    );

    let moving = check(&delegation, "moving@contoso.example").await;
    assert_eq!(moving.status, CheckStatus::MailboxUnavailable);
    assert_eq!(
        moving.ews_response_code.as_deref(),
        Some("ErrorMailboxMoveInProgress")
    );

    let nobody = check(&delegation, "nobody@contoso.example").await;
    assert_eq!(nobody.status, CheckStatus::MailboxNotFound);
    assert_eq!(
        nobody.ews_response_code.as_deref(),
        Some("ErrorNonExistentMailbox")
    );

    let alice = check(&delegation, "alice@contoso.example").await;
    assert_eq!(alice.status, CheckStatus::NotDelegated);

    // One account, one connection at a time: the whole walk needed a single NTLM handshake.
    assert_eq!(exchange.transport_stats().handshakes, 1);

    let captured: Vec<_> = std::fs::read_dir(capture.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    // One GetFolder as the owner per check, one more as the service account where the set could
    // not be read (the impersonation refusal), and the principal group's ExpandDL: every request
    // form the check sends is captured and validated below.
    assert!(
        captured.len() >= 10,
        "captured {} request bodies",
        captured.len()
    );
    if common::schema::require_or_skip("validation") {
        common::schema::validate_all(&captured).unwrap();
    }
}

#[tokio::test]
async fn impersonation_mode_opens_the_calendar_as_the_owner() {
    let sim = start_sim(&sample_state()).await;
    let delegation = delegation(
        exchange_for(&sim.url, SVC_PASSWORD, None),
        AccessMode::Impersonation,
        true,
    );
    let plain = check(&delegation, "plain@contoso.example").await;
    assert_eq!(plain.status, CheckStatus::Ok, "{plain:?}");
    assert!(plain.ready);
    assert_eq!(
        plain.delegation.level,
        Some(PermissionLevel::FreeBusyTimeOnly)
    );
    assert_eq!(plain.delegation.via.as_deref(), Some("Default"));
    // The owner's own rights: PR_ACCESS of its own folder includes Modify and Delete.
    let rights = plain.effective_rights.unwrap();
    assert!(rights.modify && rights.delete && rights.create_contents && rights.read);

    let ceo = check(&delegation, "ceo@contoso.example").await;
    assert_eq!(ceo.status, CheckStatus::ImpersonationDenied);
    assert!(!ceo.ready);
}

#[tokio::test]
async fn without_impersonation_the_level_is_unknown() {
    let sim = start_sim(&sample_state()).await;
    let delegation = delegation(
        exchange_for(&sim.url, SVC_PASSWORD, None),
        AccessMode::Delegate,
        false,
    );
    let granted = check(&delegation, "granted@contoso.example").await;
    assert_eq!(granted.status, CheckStatus::Ok);
    assert_eq!(granted.impersonation, Impersonation::NotConfigured);
    assert_eq!(granted.delegation.level, None);
    let plain = check(&delegation, "plain@contoso.example").await;
    assert_eq!(plain.status, CheckStatus::NoAccess);
    assert_eq!(
        sim.stats().requests("GetFolder"),
        2,
        "one GetFolder per check, none as the owner"
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_error_after_one_handshake() {
    let sim = start_sim(&sample_state()).await;
    let exchange = exchange_for(&sim.url, "not-the-password", None);
    let delegation = delegation(exchange.clone(), AccessMode::Delegate, true);
    let error = delegation
        .check(&Mailbox::parse("granted@contoso.example").unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        ews_connector::api::problem::Problem::from(&error)
            .code
            .as_str(),
        "exchange_auth_failed"
    );
    assert_eq!(exchange.transport_stats().handshakes, 1);
}
