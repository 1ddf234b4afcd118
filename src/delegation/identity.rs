//! What Exchange said about the mailbox's identity while it was checked, added to the check
//! report: the primary address an alias was followed to (the check then ran for that address),
//! and the `MailboxGuid` of a mailbox that moved to Exchange Online.
//!
//! Invariants: the report's `mailbox` stays the address the caller asked about; a followed
//! alias is reported in `primary_smtp_address`, never silently; a moved mailbox keeps its status
//! (`mailbox_not_found`: this Exchange cannot serve it) and gains its guid and a detail that
//! says where it probably went, so a router can send it to Exchange Online.
//! Entry point: [`Delegation::check`].

use crate::backend::{self, IdentityNotes};
use crate::delegation::{CheckReport, CheckStatus, Delegation, Error};
use crate::domain::Mailbox;

impl Delegation {
    /// Checks whether this side's backend can push to `mailbox`'s calendar (unrouted: see
    /// [`Delegation::check`]).
    ///
    /// # Errors
    /// When the connector or Exchange as a whole failed (credentials, network, throttling,
    /// an unreadable answer); a refusal about this mailbox is a report instead.
    pub(super) async fn check_here(&self, mailbox: &Mailbox) -> Result<CheckReport, Error> {
        let mut report = None;
        let check = async {
            report = Some(self.check_calendar(mailbox).await);
        };
        let noted = self.backend.with_notes(Box::pin(check)).await;
        let report = report.unwrap_or(Err(Error::from(backend::Error::Incomplete(
            "the check's report",
        ))))?;
        Ok(with_identity(report, &noted))
    }
}

/// The report with what the notes say about its mailbox.
fn with_identity(mut report: CheckReport, noted: &IdentityNotes) -> CheckReport {
    report.primary_smtp_address = noted.primary_of(report.mailbox.as_str()).map(str::to_owned);
    if report.status == CheckStatus::MailboxNotFound {
        if let Some(guid) = &noted.mailbox_guid {
            report.mailbox_guid = Some(guid.clone());
            report.detail = Some(format!(
                "this Exchange organization knows the mailbox (MailboxGuid {guid}) but holds it in no database: it may have moved to Exchange Online"
            ));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::delegation::{DelegationState, Impersonation, PermissionLevel};
    use crate::domain::AccessMode;

    fn report(mailbox: &str, status: CheckStatus) -> CheckReport {
        CheckReport {
            mailbox: Mailbox::parse(mailbox).unwrap(),
            ready: false,
            status,
            access_mode: AccessMode::Delegate,
            backend: "ews",
            delegation: DelegationState {
                principal: "push@contoso.example".to_owned(),
                level: None,
                required: PermissionLevel::Editor,
                sufficient: false,
                via: None,
                evaluation: None,
            },
            effective_rights: None,
            impersonation: Impersonation::Allowed,
            service_account: "svc@contoso.example".to_owned(),
            ews_response_code: Some("ErrorNonExistentMailbox".to_owned()),
            graph_error_code: None,
            detail: Some("Exchange has no mailbox with this address".to_owned()),
            checked_at: Utc::now(),
            primary_smtp_address: None,
            mailbox_guid: None,
        }
    }

    #[test]
    fn the_guid_is_kept_only_for_a_mailbox_not_found() {
        let noted = IdentityNotes {
            followed: Vec::new(),
            mailbox_guid: Some("5f0c2a7e-0000-4000-8000-000000000001".to_owned()),
        };
        let moved = with_identity(
            report("moved@contoso.example", CheckStatus::MailboxNotFound),
            &noted,
        );
        assert_eq!(moved.status, CheckStatus::MailboxNotFound);
        assert_eq!(
            moved.mailbox_guid.as_deref(),
            Some("5f0c2a7e-0000-4000-8000-000000000001")
        );
        assert!(
            moved.detail.as_deref().unwrap().contains("Exchange Online"),
            "{:?}",
            moved.detail
        );
        let other = with_identity(
            report("moved@contoso.example", CheckStatus::NoAccess),
            &noted,
        );
        assert_eq!(other.mailbox_guid, None);
        assert_eq!(
            other.detail.as_deref(),
            Some("Exchange has no mailbox with this address")
        );
    }

    #[test]
    fn a_followed_alias_names_its_primary_and_keeps_the_asked_mailbox() {
        let noted = IdentityNotes {
            followed: vec![(
                "S.Jansen@contoso.example".to_owned(),
                "sanne.jansen@contoso.example".to_owned(),
            )],
            mailbox_guid: None,
        };
        let followed = with_identity(report("s.jansen@contoso.example", CheckStatus::Ok), &noted);
        assert_eq!(followed.mailbox.as_str(), "s.jansen@contoso.example");
        assert_eq!(
            followed.primary_smtp_address.as_deref(),
            Some("sanne.jansen@contoso.example")
        );
        let unrelated = with_identity(report("other@contoso.example", CheckStatus::Ok), &noted);
        assert_eq!(unrelated.primary_smtp_address, None);
    }
}
