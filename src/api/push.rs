//! The Calendar push routes of API.md (scope `calendar:push`): upsert and delete one event by
//! external id, list the connector's events in a window, and sync a window to a list.
//!
//! Invariants:
//! - every input (mailbox, external id, body, window) is validated here or in `push::Event::new`
//!   before anything reaches Exchange; a wrong field is a 400 `invalid_request` naming it, and
//!   so is a query parameter given twice or empty (`query::Query`);
//! - the bodies are decoded into `dto`'s types by `json::JsonBody`, so that a wrong type names
//!   its field (`events[3].start`), as the delegation routes do; `push::Event::new` then
//!   validates each event, and its errors name the field the same way;
//! - every push that reached Exchange is counted by result in the metrics
//!   (`created`, `updated`, `unchanged`, `deleted`, `failed`); no audit records are written.
//!
//! Entry points: [`put_event`], [`delete_event`], [`list_events`], [`sync_events`].

use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::api::AppState;
use crate::api::dto::{
    EventInputBody, EventResultBody, EventsBody, ItemFailureBody, StoredEventBody, SyncBody,
    SyncReportBody, rfc3339,
};
use crate::api::handlers::target;
use crate::api::json::JsonBody;
use crate::api::middleware::{ApiError, RequestId};
use crate::api::problem::{Problem, ProblemCode, error_chain};
use crate::api::query::Query;
use crate::domain::Mailbox;
use crate::push::{self, Event, ExternalId, InvalidEvent, UpsertResult, Window};

fn invalid(error: InvalidEvent) -> Problem {
    Problem::new(ProblemCode::InvalidRequest, error.to_string())
}

fn failed(state: &AppState, error: &push::Error, mailbox: &Mailbox) -> Problem {
    if counts_as_failed(error) {
        state
            .inner
            .metrics
            .record_push_on(state.inner.push.backend_for(mailbox), "failed", 1);
        tracing::warn!(error = %error_chain(error), "push failed");
    }
    Problem::from(error).with_mailbox(mailbox.as_str())
}

/// Whether the error means a push was tried and failed (not a wrong input or a missing event).
fn counts_as_failed(error: &push::Error) -> bool {
    !matches!(
        error,
        push::Error::Invalid(_) | push::Error::EventNotFound(_)
    )
}

fn external_id(raw: &str, mailbox: &Mailbox) -> Result<ExternalId, ApiError> {
    ExternalId::parse(raw).map_err(|error| invalid(error).with_mailbox(mailbox.as_str()).into())
}

/// Reads `start` and `end` from the query: RFC 3339 times with an offset, each exactly once;
/// other parameters are ignored.
fn window(query: Option<&str>) -> Result<Window, ApiError> {
    let query = Query::parse(query);
    let parse = |name: &str| -> Result<DateTime<Utc>, ApiError> {
        let value = query.required(name)?;
        DateTime::parse_from_rfc3339(value)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|_| {
                Problem::new(
                    ProblemCode::InvalidRequest,
                    format!(
                        "the parameter `{name}` must be an RFC 3339 time such as 2026-12-01T00:00:00Z"
                    ),
                )
                .into()
            })
    };
    let start = parse("start")?;
    let end = parse("end")?;
    Window::new(start, end).map_err(|error| {
        Problem::new(
            ProblemCode::InvalidRequest,
            format!(
                "the parameter {}",
                error.to_string().trim_start_matches("the field ")
            ),
        )
        .into()
    })
}

/// Creates or updates the event with this external id; nothing is written when its content is
/// unchanged. No invitation is ever sent.
#[utoipa::path(
    put,
    path = "/v1/mailboxes/{mailbox}/calendar/events/{externalId}",
    params(
        ("mailbox" = String, Path, description = "The mailbox's primary SMTP address"),
        ("externalId" = String, Path, description = "MyTimetable's id of the event: 1 to 200 of A-Z a-z 0-9 - . _ ~ : @ + ="),
    ),
    request_body(content = EventInputBody, content_type = "application/json"),
    security(("bearer" = ["calendar:push"])),
    responses(
        (status = 201, description = "Created", body = EventResultBody),
        (status = 200, description = "Updated, or unchanged (nothing written)", body = EventResultBody),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector or Exchange failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn put_event(
    State(state): State<AppState>,
    Path((mailbox, raw_external_id)): Path<(String, String)>,
    body: JsonBody<EventInputBody>,
) -> Result<(StatusCode, Json<EventResultBody>), ApiError> {
    let mailbox = target(&state, &mailbox)?;
    let external_id = external_id(&raw_external_id, &mailbox)?;
    let ((), input) = body
        .read()
        .map_err(|problem| problem.with_mailbox(mailbox.as_str()))?
        .into_input();
    let event = Event::new(external_id.clone(), input)
        .map_err(|error| invalid(error).with_mailbox(mailbox.as_str()))?;
    let result = within_request(&state.inner.push, state.inner.push.upsert(&mailbox, &event))
        .await
        .map_err(|error| failed(&state, &error, &mailbox))?;
    state
        .inner
        .metrics
        .record_push_on(state.inner.push.backend_for(&mailbox), result.as_str(), 1);
    let status = match result {
        UpsertResult::Created => StatusCode::CREATED,
        UpsertResult::Updated | UpsertResult::Unchanged => StatusCode::OK,
    };
    let body = EventResultBody {
        mailbox: mailbox.to_string(),
        external_id: external_id.as_str().to_owned(),
        result: result.as_str(),
        backend: state.inner.push.backend_for(&mailbox),
    };
    Ok((status, Json(body)))
}

/// Deletes the event with this external id.
#[utoipa::path(
    delete,
    path = "/v1/mailboxes/{mailbox}/calendar/events/{externalId}",
    params(
        ("mailbox" = String, Path, description = "The mailbox's primary SMTP address"),
        ("externalId" = String, Path, description = "MyTimetable's id of the event"),
    ),
    security(("bearer" = ["calendar:push"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`event_not_found`: no event with that external id", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector or Exchange failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete_event(
    State(state): State<AppState>,
    Path((mailbox, raw_external_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let mailbox = target(&state, &mailbox)?;
    let external_id = external_id(&raw_external_id, &mailbox)?;
    within_request(
        &state.inner.push,
        state.inner.push.delete(&mailbox, &external_id),
    )
    .await
    .map_err(|error| failed(&state, &error, &mailbox))?;
    state
        .inner
        .metrics
        .record_push_on(state.inner.push.backend_for(&mailbox), "deleted", 1);
    Ok(StatusCode::NO_CONTENT)
}

/// The connector's own events in the window (the user's own items are never listed).
#[utoipa::path(
    get,
    path = "/v1/mailboxes/{mailbox}/calendar/events",
    params(
        ("mailbox" = String, Path, description = "The mailbox's primary SMTP address"),
        ("start" = String, Query, description = "The window's start, RFC 3339; exactly once"),
        ("end" = String, Query, description = "The window's end (exclusive), RFC 3339; at most 730 days after start; exactly once"),
    ),
    security(("bearer" = ["calendar:push"])),
    responses(
        (status = 200, description = "The events", body = EventsBody),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector or Exchange failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    Path(mailbox): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<EventsBody>, ApiError> {
    let mailbox = target(&state, &mailbox)?;
    let window =
        window(query.as_deref()).map_err(|problem| problem.with_mailbox(mailbox.as_str()))?;
    let events = within_request(&state.inner.push, state.inner.push.list(&mailbox, window))
        .await
        .map_err(|error| failed(&state, &error, &mailbox))?;
    Ok(Json(EventsBody {
        mailbox: mailbox.to_string(),
        start: rfc3339(&window.start),
        end: rfc3339(&window.end),
        events: events.iter().map(StoredEventBody::from).collect(),
        backend: state.inner.push.backend_for(&mailbox),
    }))
}

/// Makes the connector's events in the window exactly the list: creates, updates and deletes
/// in batched EWS calls. One event's failure is reported in `failed`; the others are applied.
#[utoipa::path(
    put,
    path = "/v1/mailboxes/{mailbox}/calendar/events",
    params(
        ("mailbox" = String, Path, description = "The mailbox's primary SMTP address"),
        ("start" = String, Query, description = "The window's start, RFC 3339; exactly once"),
        ("end" = String, Query, description = "The window's end (exclusive), RFC 3339; at most 730 days after start; exactly once"),
    ),
    request_body(content = SyncBody, content_type = "application/json"),
    security(("bearer" = ["calendar:push"])),
    responses(
        (status = 200, description = "What the sync did", body = SyncReportBody),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector or Exchange failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sync_events(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Path(mailbox): Path<String>,
    RawQuery(query): RawQuery,
    body: JsonBody<SyncBody>,
) -> Result<Json<SyncReportBody>, ApiError> {
    let mailbox = target(&state, &mailbox)?;
    let window = window(query.as_deref()).map_err(|error| error.with_mailbox(mailbox.as_str()))?;
    let events = body
        .read()
        .map_err(|problem| problem.with_mailbox(mailbox.as_str()))?
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| {
            let ((raw_id,), input) = event.into_input();
            ExternalId::parse(&raw_id)
                .and_then(|external_id| Event::new(external_id, input))
                .map_err(|error| error.within(&format!("events[{index}].")))
        })
        .collect::<Result<Vec<Event>, InvalidEvent>>()
        .map_err(|error| invalid(error).with_mailbox(mailbox.as_str()))?;
    let report = within_request(
        &state.inner.push,
        state.inner.push.sync(&mailbox, window, events),
    )
    .await
    .map_err(|error| failed(&state, &error, &mailbox))?;
    let metrics = &state.inner.metrics;
    let backend = state.inner.push.backend_for(&mailbox);
    metrics.record_push_on(backend, "created", report.created as u64);
    metrics.record_push_on(backend, "updated", report.updated as u64);
    metrics.record_push_on(backend, "unchanged", report.unchanged as u64);
    metrics.record_push_on(backend, "deleted", report.deleted as u64);
    metrics.record_push_on(backend, "failed", report.failed.len() as u64);
    Ok(Json(SyncReportBody {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        deleted: report.deleted,
        failed: report
            .failed
            .iter()
            .map(|failure| {
                let mut problem = Problem::from(&failure.error).with_mailbox(mailbox.as_str());
                problem.request_id = Some(request_id.0.clone());
                ItemFailureBody {
                    external_id: failure.external_id.clone(),
                    error: problem,
                }
            })
            .collect(),
        backend: state.inner.push.backend_for(&mailbox),
    }))
}

/// Runs one push call in the backend's notes scope ([`push::Push::in_scope`]): a mailbox named
/// by an alias is followed to its primary address once per request, not once per backend call.
async fn within_request<'a, T: Send + 'a>(
    push: &'a push::Push,
    call: impl std::future::Future<Output = T> + Send + 'a,
) -> T {
    push.in_scope(call).await
}
