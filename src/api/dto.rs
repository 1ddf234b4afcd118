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
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegationBody {
    pub principal: String,
    pub level: Option<&'static str>,
    pub required: &'static str,
    pub sufficient: bool,
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
