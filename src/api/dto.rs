//! The JSON bodies of API.md, camelCase, built from `delegation`'s types.

use serde::Serialize;

use crate::delegation::{CheckReport, EffectiveRights};

/// `GET /v1/mailboxes/{mailbox}/calendar/access`.
#[derive(Debug, Serialize)]
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegationBody {
    pub principal: String,
    pub level: Option<&'static str>,
    pub required: &'static str,
    pub sufficient: bool,
}

#[derive(Debug, Serialize)]
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

/// RFC 3339 in UTC with whole seconds, as API.md writes timestamps.
pub fn rfc3339(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
