//! The JSON contract of API.md: every request and response body, camelCase. Request types
//! derive `Deserialize` and are what the handlers decode ([`JsonBody`]); response types derive
//! `Serialize` and are what they answer with; both derive `ToSchema`, so the OpenAPI document
//! describes these very types (`contract.rs`, `tests/api_openapi.rs`).
//!
//! Invariant: a request type turns into the domain's input here (`into_request`,
//! `into_input`), and a domain answer into a response type here (`From`); the handlers never
//! read JSON themselves.
//!
//! [`JsonBody`]: crate::api::json::JsonBody

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::api::json::RequestBody;
use crate::api::middleware::ApiError;
use crate::api::problem::{Problem, ProblemCode};
use crate::delegation::{
    self, ChangeOutcome, CheckReport, EffectiveRights, GrantRequest, PermissionLevel,
};
use crate::push::EventInput;

/// `GET /v1/mailboxes/{mailbox}/calendar/access`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessBody {
    pub mailbox: String,
    pub ready: bool,
    pub status: &'static str,
    /// `delegate` or `impersonation` on EWS (as configured); `application` on Graph.
    pub access_mode: &'static str,
    pub delegation: DelegationBody,
    /// The backend that served the answer: `ews` (or `graph`, API.md).
    pub backend: &'static str,
    pub effective_rights: Option<EffectiveRightsBody>,
    pub impersonation: &'static str,
    /// The service account that serves the mailbox; on Graph the application (client) id.
    pub service_account: String,
    pub ews_response_code: Option<String>,
    /// Graph's `error.code` behind a status other than `ok` on a mailbox served by Microsoft
    /// Graph (such as `ErrorAccessDenied`); `null` otherwise.
    pub graph_error_code: Option<String>,
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
            backend: report.backend,
            effective_rights: report
                .effective_rights
                .as_ref()
                .map(EffectiveRightsBody::from),
            impersonation: report.impersonation.as_str(),
            service_account: report.service_account.clone(),
            ews_response_code: report.ews_response_code.clone(),
            graph_error_code: report.graph_error_code.clone(),
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
    /// The backend that served the answer.
    pub backend: &'static str,
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
            backend: outcome.backend,
        }
    }
}

/// The optional body of `PUT .../calendar/delegation` (every field optional), and the
/// delegation batch's fields of [`BatchBody`].
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantBody {
    /// A calendar permission level other than `Custom`; the configured level when absent.
    #[schema(example = "Editor")]
    pub level: Option<String>,
    /// The delegate's primary SMTP address; the configured principal when absent.
    pub principal: Option<String>,
    /// When true, nothing is written and the answer says what would change.
    pub dry_run: Option<bool>,
}

impl RequestBody for GrantBody {
    fn when_absent() -> Option<GrantBody> {
        Some(GrantBody::default())
    }
}

impl GrantBody {
    /// The grant as `delegation` takes it.
    ///
    /// # Errors
    /// 400 `invalid_level` for a level that is not one of Exchange's names, or `Custom`.
    pub(crate) fn into_request(self) -> Result<GrantRequest, ApiError> {
        let level = match self.level {
            None => None,
            Some(name) => {
                let level: PermissionLevel =
                    name.parse().map_err(|error: delegation::UnknownLevel| {
                        ApiError::from(Problem::new(
                            ProblemCode::InvalidLevel,
                            format!("the field `level`: {error}"),
                        ))
                    })?;
                if level == PermissionLevel::Custom {
                    return Err(Problem::new(
                        ProblemCode::InvalidLevel,
                        "the field `level` cannot be `Custom`: custom permissions are only ever read",
                    )
                    .into());
                }
                Some(level)
            }
        };
        Ok(GrantRequest {
            principal: self.principal,
            level,
            dry_run: self.dry_run.unwrap_or(false),
        })
    }
}

/// RFC 3339 in UTC with whole seconds, as API.md writes timestamps.
pub fn rfc3339(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An instant written in RFC 3339 with an offset (`2026-12-01T09:00:00+01:00`), read strictly:
/// the offset is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub DateTime<FixedOffset>);

impl<'de> Deserialize<'de> for Rfc3339 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Rfc3339;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter
                    .write_str("an RFC 3339 time with an offset, such as 2026-12-01T09:00:00+01:00")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Rfc3339, E> {
                DateTime::parse_from_rfc3339(text)
                    .map(Rfc3339)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(text), &self))
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

/// Declares an event body: the fields of API.md's event body, after the struct's own fields,
/// and `into_input`, which hands the event's fields to `push` as an [`EventInput`].
macro_rules! event_body {
    (
        $(#[$attribute:meta])*
        pub struct $name:ident {
            $($(#[$own_attribute:meta])* pub $own:ident: $own_type:ty,)*
        }
    ) => {
        $(#[$attribute])*
        #[derive(Debug, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($(#[$own_attribute])* pub $own: $own_type,)*
            /// Not blank, at most 255 characters.
            pub subject: String,
            /// RFC 3339 with an offset.
            #[schema(value_type = String, format = DateTime, example = "2026-12-01T09:00:00+01:00")]
            pub start: Rfc3339,
            /// RFC 3339 with an offset; after `start`, at most 366 days later.
            #[schema(value_type = String, format = DateTime, example = "2026-12-01T10:45:00+01:00")]
            pub end: Rfc3339,
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
            pub reminder_minutes_before_start: Option<i64>,
        }

        impl $name {
            /// The struct's own fields, and the event's fields as `push` validates them.
            pub fn into_input(self) -> (($($own_type,)*), EventInput) {
                (
                    ($(self.$own,)*),
                    EventInput {
                        subject: self.subject,
                        start: self.start.0,
                        end: self.end.0,
                        time_zone: self.time_zone,
                        location: self.location,
                        body: self.body,
                        categories: self.categories.unwrap_or_default(),
                        is_all_day: self.is_all_day.unwrap_or(false),
                        show_as: self.show_as,
                        reminder_minutes_before_start: self.reminder_minutes_before_start,
                    },
                )
            }
        }
    };
}

event_body! {
    /// The body of `PUT .../calendar/events/{externalId}`.
    pub struct EventInputBody {}
}

impl RequestBody for EventInputBody {}

event_body! {
    /// One event of a sync body: the event body plus its external id.
    pub struct SyncEventBody {
        /// 1 to 200 of `A-Z a-z 0-9 - . _ ~ : @ + =`.
        pub external_id: String,
    }
}

/// The body of `PUT .../calendar/events?start=...&end=...`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SyncBody {
    /// The connector's events in the window, exactly; external ids must not repeat, and every
    /// event must overlap the window.
    pub events: Vec<SyncEventBody>,
}

impl RequestBody for SyncBody {}

/// The body of both batch routes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchBody {
    /// The mailboxes' primary SMTP addresses, at most 100,000; duplicates (in any case) are
    /// done once.
    pub mailboxes: Vec<String>,
    /// Delegation batch only: the level for every mailbox (default `delegation.level`).
    #[schema(example = "Editor")]
    pub level: Option<String>,
    /// Delegation batch only: the delegate (default `delegation.principal`).
    pub principal: Option<String>,
    /// Delegation batch only: when true, nothing is written.
    pub dry_run: Option<bool>,
}

impl RequestBody for BatchBody {}

impl BatchBody {
    /// The mailboxes, and the grant that the delegation batch makes on each.
    pub fn into_parts(self) -> (Vec<String>, GrantBody) {
        let grant = GrantBody {
            level: self.level,
            principal: self.principal,
            dry_run: self.dry_run,
        };
        (self.mailboxes, grant)
    }
}

/// The last line of a batch answer: `{"summary": {...}}`.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Lines written before the summary: one per unique mailbox.
    pub total: u64,
    /// Lines without `error`: Exchange gave a definite answer (for a check, whatever its
    /// `status`; for a grant, the principal holds the level, or would on a dry run).
    pub ok: u64,
    /// Lines whose body says `"changed": true` (delegation batch only; 0 for checks).
    pub changed: u64,
    /// Lines with `error`: `total = ok + failed`.
    pub failed: u64,
    /// From the start of the batch to the summary.
    pub elapsed_ms: u64,
}

/// The answer of `PUT .../calendar/events/{externalId}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventResultBody {
    pub mailbox: String,
    pub external_id: String,
    /// `created`, `updated` or `unchanged`.
    pub result: &'static str,
    /// The backend that served the answer.
    pub backend: &'static str,
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
    /// The backend that served the answer.
    pub backend: &'static str,
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
    /// The backend that served the answer.
    pub backend: &'static str,
}
