//! The check of a mailbox served by Microsoft Graph (API.md, "Exchange Online"): the connector
//! acts as the application (`accessMode: "application"`), so readiness is the calendar's
//! `canEdit` alone; the principal's calendar permission is still read and reported
//! (informational: a push through Graph does not need it).
//!
//! Invariants: one backend call (the calendar and its permissions in one `$batch`); `status` is
//! `ok`, `no_access` (Graph refused the application, `ErrorAccessDenied`: the mailbox is outside
//! its RBAC for Applications scope; or `canEdit` is false), `mailbox_not_found` or
//! `mailbox_unavailable`; Graph's `error.code` fills `graphErrorCode`, never
//! `ewsResponseCode`; `impersonation` is `not_configured` (Graph has none).

use std::collections::BTreeSet;

use crate::backend::{Calendar, ErrorKind};
use crate::delegation::evaluate;
use crate::delegation::{CheckReport, CheckStatus, Delegation, Identity, Impersonation, Refusal};

impl Delegation {
    /// The report of an application-mode check from the calendar as opened (with its
    /// permission set where Graph sent it), or Graph's refusal.
    pub(super) fn finish_application(
        &self,
        mut report: CheckReport,
        opened: Result<Calendar, Refusal>,
    ) -> CheckReport {
        report.impersonation = Impersonation::NotConfigured;
        match opened {
            Ok(calendar) => {
                if let Some(set) = &calendar.permissions {
                    // Graph grants no calendar permission through a group entry the connector
                    // could expand: the principal's own entry, else "My Organization".
                    let evaluation = evaluate::evaluate(
                        &set.entries,
                        Identity {
                            smtp: self.settings.principal.as_str(),
                            sid: None,
                        },
                        &BTreeSet::new(),
                    );
                    report.delegation.level = Some(evaluation.level);
                    report.delegation.via = evaluation.applied.via().map(str::to_owned);
                    report.delegation.sufficient =
                        evaluation.rights.covers(&self.required_rights());
                    report.delegation.evaluation = Some(evaluation);
                }
                report.effective_rights = calendar.effective_rights;
                report.ready = calendar
                    .effective_rights
                    .is_some_and(|rights| rights.create_contents);
                report.status = if report.ready {
                    CheckStatus::Ok
                } else {
                    CheckStatus::NoAccess
                };
                report.detail = match (report.ready, calendar.permissions.is_some()) {
                    (true, true) => None,
                    (true, false) => Some(
                        "the application can write to this calendar (Graph's canEdit); its permissions could not be read, so the delegation level is unknown"
                            .to_owned(),
                    ),
                    (false, _) => Some(
                        "Graph opens the calendar but says the application cannot write to it (canEdit is false): the application needs the Calendars.ReadWrite application permission for this mailbox (RBAC for Applications: the role Application Calendars.ReadWrite)"
                            .to_owned(),
                    ),
                };
            }
            Err(refusal) => {
                report.ready = false;
                report.status = match refusal.kind {
                    ErrorKind::MailboxNotFound => CheckStatus::MailboxNotFound,
                    ErrorKind::MailboxUnavailable => CheckStatus::MailboxUnavailable,
                    _ => CheckStatus::NoAccess,
                };
                let code = refusal.code.clone();
                report.graph_error_code = Some(code.clone()).filter(|code| !code.is_empty());
                report.detail = Some(match (report.status, refusal.kind) {
                    (CheckStatus::MailboxNotFound, _) => {
                        format!("Exchange Online has no mailbox with this address ({code})")
                    }
                    (CheckStatus::MailboxUnavailable, _) => {
                        "the mailbox is being moved or its database is down; try again later"
                            .to_owned()
                    }
                    (_, ErrorKind::AccessDenied) => format!(
                        "Graph refused the application ({code}): the mailbox is outside the application's scope; an Exchange Online admin must add it to the management scope of the application's role assignment (New-ManagementScope, New-ManagementRoleAssignment -Role \"Application Calendars.ReadWrite\"; `ews-connector admin-script --graph` prints them)"
                    ),
                    _ => refusal
                        .message
                        .clone()
                        .unwrap_or_else(|| format!("Graph cannot open this calendar ({code})")),
                });
            }
        }
        report
    }
}
