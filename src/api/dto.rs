//! The JSON bodies of API.md, camelCase, built from `delegation`'s types.

use serde::Serialize;

use crate::delegation::{ChangeOutcome, CheckReport, EffectiveRights};

/// `GET /v1/mailboxes/{mailbox}/calendar/access`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessBody {
    pub mailbox: String,
    pub ready: bool,
    pub status: &'static str,
    pub access_mode: &'static str,
    pub delegation: DelegationBody,
    pub effective_rights: Option<EffectiveRightsBody>,
    pub impersonation: &'static str,
    pub service_account: String,
    pub ews_response_code: Option<String>,
    pub detail: Option<String>,
    pub checked_at: String,
    /// The mailbox's primary SMTP address when `mailbox` is another of its addresses: Exchange
    /// named it, and the check (and any grant, revoke or push) is made for it.
    pub primary_smtp_address: Option<String>,
    /// With `mailbox_not_found`: the `MailboxGuid` on-premises Exchange still knows for the
    /// address (the mailbox moved to Exchange Online); `null` otherwise.
    pub mailbox_guid: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationBody {
    pub principal: String,
    pub level: Option<&'static str>,
    pub required: &'static str,
    pub sufficient: bool,
    /// Where the level came from: `null` for the principal's own entry (or when no entry applies
    /// or the permission set could not be read), a group's SMTP address, or `"Default"`.
    pub via: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveRightsBody {
    pub read: bool,
    pub create_contents: bool,
    pub modify: bool,
    pub delete: bool,
}

impl From<&EffectiveRights> for EffectiveRightsBody {
    fn from(rights: &EffectiveRights) -> Self {
        EffectiveRightsBody {
            read: rights.read,
            create_contents: rights.create_contents,
            modify: rights.modify,
            delete: rights.delete,
        }
    }
}

impl From<&CheckReport> for AccessBody {
    fn from(report: &CheckReport) -> Self {
        AccessBody {
            mailbox: report.mailbox.to_string(),
            ready: report.ready,
            status: report.status.as_str(),
            access_mode: report.access_mode.as_str(),
            delegation: DelegationBody {
                principal: report.delegation.principal.clone(),
                level: report.delegation.level.map(|level| level.as_str()),
                required: report.delegation.required.as_str(),
                sufficient: report.delegation.sufficient,
                via: report.delegation.via.clone(),
            },
            effective_rights: report
                .effective_rights
                .as_ref()
                .map(EffectiveRightsBody::from),
            impersonation: report.impersonation.as_str(),
            service_account: report.service_account.clone(),
            ews_response_code: report.ews_response_code.clone(),
            detail: report.detail.clone(),
            checked_at: rfc3339(&report.checked_at),
            primary_smtp_address: report.primary_smtp_address.clone(),
            mailbox_guid: report.mailbox_guid.clone(),
        }
    }
}

/// The 200 body of `PUT` and `DELETE .../calendar/delegation`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBody {
    pub mailbox: String,
    pub principal: String,
    /// The principal's level afterwards; `None` after a revoke.
    pub level: &'static str,
    pub previous_level: &'static str,
    pub changed: bool,
    pub dry_run: bool,
    /// The audit record's id; `null` when nothing was recorded (no change, or a dry run).
    pub audit_id: Option<String>,
    pub applied_at: String,
}

impl From<&ChangeOutcome> for ChangeBody {
    fn from(outcome: &ChangeOutcome) -> Self {
        ChangeBody {
            mailbox: outcome.mailbox.to_string(),
            principal: outcome.principal.clone(),
            level: outcome.level.as_str(),
            previous_level: outcome.previous_level.as_str(),
            changed: outcome.changed,
            dry_run: outcome.dry_run,
            audit_id: outcome.audit_id.clone(),
            applied_at: rfc3339(&outcome.applied_at),
        }
    }
}

/// The optional body of `PUT .../calendar/delegation`, for the OpenAPI document; the handler
/// reads the JSON itself so that a wrong type is reported with the field's name.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used.
pub struct GrantBody {
    /// A calendar permission level other than `Custom`; the configured level when absent.
    pub level: Option<String>,
    /// The delegate's primary SMTP address; the configured principal when absent.
    pub principal: Option<String>,
    /// When true, nothing is written and the answer says what would change.
    pub dry_run: Option<bool>,
}

/// RFC 3339 in UTC with whole seconds, as API.md writes timestamps.
pub fn rfc3339(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An event body of the Calendar push routes, for the OpenAPI document; the handlers read the
/// JSON themselves so that a wrong type is reported with the field's name.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used.
pub struct EventInputBody {
    /// Not blank, at most 255 characters.
    pub subject: String,
    /// RFC 3339 with an offset.
    pub start: String,
    /// RFC 3339 with an offset; after `start`, at most 366 days later.
    pub end: String,
    /// An IANA zone such as `Europe/Amsterdam`; sent to Exchange as its Windows id.
    pub time_zone: String,
    pub location: Option<String>,
    /// Plain text.
    pub body: Option<String>,
    pub categories: Option<Vec<String>>,
    /// When true, `start` and `end` must be midnight in `timeZone`.
    pub is_all_day: Option<bool>,
    /// `Free`, `Tentative`, `Busy` (default), `Oof`, `WorkingElsewhere`.
    pub show_as: Option<String>,
    /// 0 to 20160; absent means no reminder.
    pub reminder_minutes_before_start: Option<u32>,
}

/// One event of a sync body: the event body plus its external id.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used.
pub struct SyncEventBody {
    /// 1 to 200 of `A-Z a-z 0-9 - . _ ~ : @ + =`.
    pub external_id: String,
    pub subject: String,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub location: Option<String>,
    pub body: Option<String>,
    pub categories: Option<Vec<String>>,
    pub is_all_day: Option<bool>,
    pub show_as: Option<String>,
    pub reminder_minutes_before_start: Option<u32>,
}

/// The body of `PUT .../calendar/events?start=...&end=...`.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used.
pub struct SyncBody {
    /// The connector's events in the window, exactly; external ids must not repeat, and every
    /// event must overlap the window.
    pub events: Vec<SyncEventBody>,
}

/// The answer of `PUT .../calendar/events/{externalId}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventResultBody {
    pub mailbox: String,
    pub external_id: String,
    /// `created`, `updated` or `unchanged`.
    pub result: &'static str,
}

/// One of the connector's events as stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredEventBody {
    pub external_id: String,
    pub subject: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub location: Option<String>,
    pub categories: Vec<String>,
    pub is_all_day: bool,
    pub show_as: Option<&'static str>,
    pub reminder_minutes_before_start: Option<u32>,
}

impl From<&crate::push::StoredEvent> for StoredEventBody {
    fn from(event: &crate::push::StoredEvent) -> Self {
        StoredEventBody {
            external_id: event.external_id.clone(),
            subject: event.subject.clone(),
            start: event.start.as_ref().map(rfc3339),
            end: event.end.as_ref().map(rfc3339),
            location: event.location.clone(),
            categories: event.categories.clone(),
            is_all_day: event.is_all_day,
            show_as: event.show_as.map(|show_as| show_as.as_str()),
            reminder_minutes_before_start: event.reminder_minutes_before_start,
        }
    }
}

/// The answer of `GET .../calendar/events`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventsBody {
    pub mailbox: String,
    pub start: String,
    pub end: String,
    pub events: Vec<StoredEventBody>,
}

/// One event a sync could not apply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailureBody {
    pub external_id: String,
    pub error: crate::api::problem::Problem,
}

/// The answer of `PUT .../calendar/events?start=...&end=...`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncReportBody {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub failed: Vec<ItemFailureBody>,
}
