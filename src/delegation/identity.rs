//! What Exchange said about the mailbox's identity while it was checked, added to the check
//! report: the primary address an alias was followed to (the check then ran for that address).
//!
//! Invariants: the report's `mailbox` stays the address the caller asked about; a followed
//! alias is reported in `primary_smtp_address`, never silently.
//! Entry point: [`Delegation::check`].

use crate::delegation::{CheckReport, Delegation, Error, Mailbox};
use crate::exchange::notes::{self, MailboxNotes};

impl Delegation {
    /// Checks whether the service account can push to `mailbox`'s calendar.
    ///
    /// # Errors
    /// When the connector or Exchange as a whole failed (credentials, network, throttling,
    /// an unreadable answer); a refusal about this mailbox is a report instead.
    pub async fn check(&self, mailbox: &Mailbox) -> Result<CheckReport, Error> {
        let (report, noted) = notes::collect(self.check_calendar(mailbox)).await;
        Ok(with_identity(report?, &noted))
    }
}

/// The report with what the notes say about its mailbox.
fn with_identity(mut report: CheckReport, noted: &MailboxNotes) -> CheckReport {
    report.primary_smtp_address = noted.primary_of(report.mailbox.as_str()).map(str::to_owned);
    report
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::delegation::{
        AccessMode, CheckStatus, DelegationState, Impersonation, PermissionLevel,
    };

    fn report(mailbox: &str, status: CheckStatus) -> CheckReport {
        CheckReport {
            mailbox: Mailbox::parse(mailbox).unwrap(),
            ready: false,
            status,
            access_mode: AccessMode::Delegate,
            delegation: DelegationState {
                principal: "push@contoso.example".to_owned(),
                level: None,
                required: PermissionLevel::Editor,
                sufficient: false,
            },
            effective_rights: None,
            impersonation: Impersonation::Allowed,
            service_account: "svc@contoso.example".to_owned(),
            ews_response_code: Some("ErrorNonExistentMailbox".to_owned()),
            detail: Some("Exchange has no mailbox with this address".to_owned()),
            checked_at: Utc::now(),
            primary_smtp_address: None,
        }
    }

    #[test]
    fn a_followed_alias_names_its_primary_and_keeps_the_asked_mailbox() {
        let noted = MailboxNotes {
            followed: vec![(
                "S.Jansen@contoso.example".to_owned(),
                "sanne.jansen@contoso.example".to_owned(),
            )],
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
