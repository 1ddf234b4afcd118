//! The domain rules of `delegation` against the in-memory backend (`backend::memory`): no
//! simulator, no XML; what a check reports from a permission set, what a grant or revoke writes,
//! and how a stale version is retried.

use std::sync::Arc;

use crate::audit::AuditLog;
use crate::backend::memory::{MemoryBackend, MemoryCalendar, SERVICE_ACCOUNT};
use crate::delegation::{
    Actor, ChangeOutcome, CheckStatus, Delegation, Error, GrantRequest, PermissionLevel,
    RevokeRequest, Settings,
};
use crate::domain::permissions::{DistinguishedUser, Grantee, PermissionEntry, PermissionSet};
use crate::domain::{AccessMode, Mailbox, ReadScope, Scope};

const ALICE: &str = "alice@uni.example";

fn settings() -> Settings {
    Settings {
        access: AccessMode::Delegate,
        impersonation: true,
        principal: SERVICE_ACCOUNT.to_owned(),
        required: PermissionLevel::Editor,
        allowed_principals: Vec::new(),
        max_level: PermissionLevel::Editor,
    }
}

/// Default, Anonymous, a colleague, a Custom entry and a cross-organization user: everything a
/// change must keep as it was.
fn others() -> Vec<PermissionEntry> {
    vec![
        PermissionEntry::with_level(
            Grantee::distinguished(DistinguishedUser::Default),
            PermissionLevel::FreeBusyTimeOnly,
        ),
        PermissionEntry::with_level(
            Grantee::distinguished(DistinguishedUser::Anonymous),
            PermissionLevel::None,
        ),
        PermissionEntry::with_level(
            Grantee {
                sid: Some("S-1-5-21-1-2-3-1107".to_owned()),
                display_name: Some("Bob".to_owned()),
                ..Grantee::smtp("bob@uni.example")
            },
            PermissionLevel::Reviewer,
        ),
        PermissionEntry {
            can_create_items: Some(true),
            is_folder_visible: Some(true),
            edit_items: Some(Scope::Nothing),
            delete_items: Some(Scope::Owned),
            read_items: Some(ReadScope::TimeAndSubjectAndLocation),
            ..PermissionEntry::with_level(
                Grantee::smtp("dave@uni.example"),
                PermissionLevel::Custom,
            )
        },
        PermissionEntry::with_level(
            Grantee {
                external_user_identity: Some("partner@other.example".to_owned()),
                ..Grantee::default()
            },
            PermissionLevel::Reviewer,
        ),
    ]
}

fn with_principal(level: Option<PermissionLevel>) -> PermissionSet {
    let mut entries = others();
    if let Some(level) = level {
        entries.insert(
            2,
            PermissionEntry::with_level(Grantee::smtp(SERVICE_ACCOUNT), level),
        );
    }
    PermissionSet {
        entries,
        unknown_entries: Vec::new(),
    }
}

/// The set after a grant to a principal that had no entry: the new entry comes last.
fn appended(level: PermissionLevel) -> PermissionSet {
    let mut set = with_principal(None);
    set.entries.push(PermissionEntry::with_level(
        Grantee::smtp(SERVICE_ACCOUNT),
        level,
    ));
    set
}

fn backend_with(set: PermissionSet) -> Arc<MemoryBackend> {
    let backend = Arc::new(MemoryBackend::default());
    backend.insert(
        ALICE,
        MemoryCalendar {
            permissions: set,
            ..MemoryCalendar::default()
        },
    );
    backend
}

fn mailbox() -> Mailbox {
    Mailbox::parse(ALICE).unwrap()
}

fn actor() -> Actor {
    Actor {
        request_id: "req-1".to_owned(),
        client: "test".to_owned(),
    }
}

fn grant(level: PermissionLevel) -> GrantRequest {
    GrantRequest {
        principal: None,
        level: Some(level),
        dry_run: false,
    }
}

/// A delegation with an audit file in `dir`.
fn audited(backend: &Arc<MemoryBackend>, dir: &tempfile::TempDir) -> Delegation {
    let audit = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    Delegation::new(backend.clone(), settings(), Some(Arc::new(audit)))
}

#[tokio::test]
async fn a_check_reads_its_status_from_the_permission_set_in_one_call() {
    for (level, status, ready) in [
        (Some(PermissionLevel::Editor), CheckStatus::Ok, true),
        (
            Some(PermissionLevel::Author),
            CheckStatus::Insufficient,
            true,
        ),
        (
            Some(PermissionLevel::Reviewer),
            CheckStatus::Insufficient,
            false,
        ),
        (None, CheckStatus::NotDelegated, false),
    ] {
        let backend = backend_with(with_principal(level));
        let delegation = Delegation::new(backend.clone(), settings(), None);
        let report = delegation.check(&mailbox()).await.unwrap();
        assert_eq!((report.status, report.ready), (status, ready), "{level:?}");
        assert_eq!(report.backend, "memory");
        assert_eq!(report.service_account, SERVICE_ACCOUNT);
        // The set decides for the principal's own account: one call, no second opening.
        assert_eq!(backend.calls(), ["open_calendar"], "{level:?}");
        if level.is_none() {
            // Default grants free/busy only: nothing applies beyond it.
            assert_eq!(report.delegation.via.as_deref(), Some("Default"));
        }
    }
}

#[tokio::test]
async fn a_check_of_an_unknown_mailbox_is_a_report_not_an_error() {
    let backend = Arc::new(MemoryBackend::default());
    let delegation = Delegation::new(backend.clone(), settings(), None);
    let report = delegation.check(&mailbox()).await.unwrap();
    assert_eq!(report.status, CheckStatus::MailboxNotFound);
    assert_eq!(
        report.ews_response_code.as_deref(),
        Some("ErrorNonExistentMailbox")
    );
    assert!(!report.ready);
}

#[tokio::test]
async fn a_grant_changes_only_the_principal_and_a_repeat_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_with(with_principal(Some(PermissionLevel::Reviewer)));
    let delegation = audited(&backend, &dir);
    let outcome: ChangeOutcome = delegation
        .grant(&actor(), &mailbox(), grant(PermissionLevel::Editor))
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.previous_level, PermissionLevel::Reviewer);
    assert_eq!(outcome.backend, "memory");
    assert!(outcome.audit_id.is_some());
    // Every other entry as it was, in its place; the principal's entry at the level asked.
    assert_eq!(
        backend.permissions(ALICE).unwrap(),
        with_principal(Some(PermissionLevel::Editor))
    );
    assert_eq!(
        backend.calls(),
        ["read_permissions", "write_permissions", "read_permissions"]
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 2, "{audit}");
    assert!(
        audit
            .lines()
            .all(|line| line.contains(r#""backend":"memory""#)),
        "{audit}"
    );

    let again = delegation
        .grant(&actor(), &mailbox(), grant(PermissionLevel::Editor))
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.audit_id, None);
    assert_eq!(
        backend.calls().len(),
        4,
        "a repeat reads once and writes nothing"
    );
}

#[tokio::test]
async fn a_revoke_removes_only_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_with(with_principal(Some(PermissionLevel::Editor)));
    let delegation = audited(&backend, &dir);
    let request = RevokeRequest {
        principal: None,
        dry_run: false,
    };
    let outcome = delegation
        .revoke(&actor(), &mailbox(), request.clone())
        .await
        .unwrap();
    assert!(outcome.changed);
    assert_eq!(outcome.previous_level, PermissionLevel::Editor);
    assert_eq!(backend.permissions(ALICE).unwrap(), with_principal(None));
    let again = delegation
        .revoke(&actor(), &mailbox(), request)
        .await
        .unwrap();
    assert!(!again.changed);
}

#[tokio::test]
async fn a_stale_version_is_retried_from_a_fresh_read_and_given_up_after_five_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_with(with_principal(None));
    let delegation = audited(&backend, &dir);
    backend.lose_next_writes(2);
    let outcome = delegation
        .grant(&actor(), &mailbox(), grant(PermissionLevel::Editor))
        .await
        .unwrap();
    assert!(outcome.changed);
    let calls = backend.calls();
    assert_eq!(
        calls
            .iter()
            .filter(|call| **call == "write_permissions")
            .count(),
        3,
        "{calls:?}"
    );
    assert_eq!(
        backend.permissions(ALICE).unwrap(),
        appended(PermissionLevel::Editor)
    );

    let backend = backend_with(with_principal(None));
    let delegation = audited(&backend, &dir);
    backend.lose_next_writes(10);
    let error = delegation
        .grant(&actor(), &mailbox(), grant(PermissionLevel::Editor))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Conflict { attempts: 5 }),
        "{error:?}"
    );
    assert_eq!(backend.permissions(ALICE).unwrap(), with_principal(None));
    let calls = backend.calls();
    assert_eq!(
        calls
            .iter()
            .filter(|call| **call == "write_permissions")
            .count(),
        5,
        "{calls:?}"
    );
}

#[tokio::test]
async fn deleted_accounts_in_the_set_refuse_a_change_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = with_principal(None);
    set.unknown_entries = vec!["NT:S-1-5-21-9-1999".to_owned()];
    let backend = backend_with(set.clone());
    let delegation = audited(&backend, &dir);
    let error = delegation
        .grant(&actor(), &mailbox(), grant(PermissionLevel::Editor))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::UnknownEntries { .. }), "{error:?}");
    assert_eq!(backend.calls(), ["read_permissions"]);
    assert_eq!(backend.permissions(ALICE).unwrap(), set);
}
