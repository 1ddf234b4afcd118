//! The handlers, each with its `#[utoipa::path]`: the OpenAPI operation is written next to the
//! code that serves it, and names the same `dto` types as the handler's signature (checked by
//! `tests/api_openapi.rs` against `contract.rs`). Handlers validate before anything reaches
//! Exchange: the body (through `json::JsonBody`, into the route's type of `dto`), the mailbox
//! address (400 `invalid_mailbox`), the allowed domains (403 `mailbox_not_allowed`), the query
//! (through `query::Query`: a parameter given twice or empty is 400 `invalid_request`);
//! `delegation` then refuses a principal or level the configuration does not allow (403
//! `principal_not_allowed`, `level_not_allowed`), also before Exchange.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::api::dto::{AccessBody, ChangeBody, GrantBody};
use crate::api::json::JsonBody;
use crate::api::middleware::{ApiError, ClientName, RequestId};
use crate::api::problem::{Problem, ProblemCode};
use crate::api::query::Query;
use crate::api::{AppState, metrics, routes};
use crate::delegation::{self, Actor, RevokeRequest};
use crate::domain::Mailbox;

/// Parses the path's mailbox and applies `allowed_domains`.
pub(crate) fn target(state: &AppState, raw: &str) -> Result<Mailbox, ApiError> {
    let mailbox = Mailbox::parse(raw).map_err(|error| {
        Problem::new(ProblemCode::InvalidMailbox, error.to_string()).with_mailbox(raw)
    })?;
    if !mailbox.is_allowed_in(&state.settings().allowed_domains) {
        return Err(Problem::new(
            ProblemCode::MailboxNotAllowed,
            format!(
                "the domain `{}` is not one of the allowed domains",
                mailbox.domain()
            ),
        )
        .with_mailbox(mailbox.as_str())
        .into());
    }
    Ok(mailbox)
}

fn failed(error: &delegation::Error, mailbox: &Mailbox) -> Problem {
    tracing::warn!(error = %crate::api::problem::error_chain(error), "delegation failed");
    Problem::from(error).with_mailbox(mailbox.as_str())
}

pub(crate) fn actor(request_id: &RequestId, client: &ClientName) -> Actor {
    Actor {
        request_id: request_id.0.clone(),
        client: client.0.clone(),
    }
}

/// Tells whether MyTimetable can push to the mailbox's calendar now, and why not.
#[utoipa::path(
    get,
    path = "/v1/mailboxes/{mailbox}/calendar/access",
    params(("mailbox" = String, Path, description = "The mailbox's primary SMTP address")),
    security(("bearer" = ["calendar:check"])),
    responses(
        (status = 200, description = "A definite answer about the mailbox", body = AccessBody),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector or Exchange failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn check_access(
    State(state): State<AppState>,
    Path(mailbox): Path<String>,
) -> Result<Json<AccessBody>, ApiError> {
    let mailbox = target(&state, &mailbox)?;
    let report = state
        .inner
        .delegation
        .check(&mailbox)
        .await
        .map_err(|error| failed(&error, &mailbox))?;
    Ok(Json(AccessBody::from(&report)))
}

/// Grants the principal the level on the mailbox's calendar; idempotent.
#[utoipa::path(
    put,
    path = "/v1/mailboxes/{mailbox}/calendar/delegation",
    params(("mailbox" = String, Path, description = "The mailbox's primary SMTP address")),
    request_body(content = Option<GrantBody>, description = "Every field optional", content_type = "application/json"),
    security(("bearer" = ["calendar:delegate"])),
    responses(
        (status = 200, description = "The principal holds the level (or would, on a dry run)", body = ChangeBody),
        (status = 403, description = "`forbidden` (the token lacks `calendar:delegate`), `mailbox_not_allowed`, `principal_not_allowed` (the principal is neither `delegation.principal` nor one of `delegation.allowed_principals`) or `level_not_allowed` (the level grants a right that `delegation.max_level` does not); Exchange was not called", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector or Exchange failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn grant(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Extension(client): Extension<ClientName>,
    Path(mailbox): Path<String>,
    RawQuery(query): RawQuery,
    body: JsonBody<GrantBody>,
) -> Result<Json<ChangeBody>, ApiError> {
    let mailbox = target(&state, &mailbox)?;
    Query::parse(query.as_deref())
        .refuse_body_fields(&["dryRun", "level", "principal"])
        .map_err(|problem| problem.with_mailbox(mailbox.as_str()))?;
    let request = body
        .read()
        .map_err(|problem| problem.with_mailbox(mailbox.as_str()))?
        .into_request()
        .map_err(|problem| problem.with_mailbox(mailbox.as_str()))?;
    let outcome = state
        .inner
        .delegation
        .grant(&actor(&request_id, &client), &mailbox, request)
        .await
        .map_err(|error| failed(&error, &mailbox))?;
    Ok(Json(ChangeBody::from(&outcome)))
}

/// Reads `principal` and `dryRun` from the query (each at most once, never empty); other
/// parameters are ignored.
fn revoke_request(query: Option<&str>) -> Result<RevokeRequest, ApiError> {
    let query = Query::parse(query);
    Ok(RevokeRequest {
        principal: query.optional("principal")?.map(str::to_owned),
        dry_run: query.flag("dryRun")?.unwrap_or(false),
    })
}

/// Removes the principal's entry from the mailbox's calendar.
#[utoipa::path(
    delete,
    path = "/v1/mailboxes/{mailbox}/calendar/delegation",
    params(
        ("mailbox" = String, Path, description = "The mailbox's primary SMTP address"),
        ("principal" = Option<String>, Query, description = "The delegate; the configured principal when absent; at most once, not empty"),
        ("dryRun" = Option<bool>, Query, description = "When true, nothing is written; at most once, `true` or `false`"),
    ),
    security(("bearer" = ["calendar:delegate"])),
    responses(
        (status = 200, description = "The principal has no entry (or would not, on a dry run)", body = ChangeBody),
        (status = 400, description = "`invalid_request` (a parameter given twice, empty, or a principal that is not an address; `detail` names it) or `invalid_mailbox`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden` (the token lacks `calendar:delegate`), `mailbox_not_allowed`, or `principal_not_allowed` (the principal is neither `delegation.principal` nor one of `delegation.allowed_principals`); Exchange was not called", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector or Exchange failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Extension(client): Extension<ClientName>,
    Path(mailbox): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ChangeBody>, ApiError> {
    let mailbox = target(&state, &mailbox)?;
    let request = revoke_request(query.as_deref())
        .map_err(|problem| problem.with_mailbox(mailbox.as_str()))?;
    let outcome = state
        .inner
        .delegation
        .revoke(&actor(&request_id, &client), &mailbox, request)
        .await
        .map_err(|error| failed(&error, &mailbox))?;
    Ok(Json(ChangeBody::from(&outcome)))
}

/// 200 while the process serves.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "Serving", body = String, content_type = "text/plain")))]
pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 when at least one service account was accepted by Exchange within the last 60 s,
/// according to the background probe, and is not refused; the text names each account's
/// state. Else 503 with a problem saying why.
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, description = "Ready", body = String, content_type = "text/plain"),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<String, ApiError> {
    state.inner.readiness.verdict(&state.inner.exchange)
}

/// Prometheus text.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus/OpenMetrics text", body = String, content_type = "application/openmetrics-text")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let text = metrics::render(&state);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn openapi_json() -> Response {
    match routes::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(error) => Problem::new(
            ProblemCode::InternalError,
            format!("the document cannot be written: {error}"),
        )
        .into_response(),
    }
}

/// Unknown paths: a 404 problem.
pub(crate) async fn not_found() -> Problem {
    Problem::new(ProblemCode::NotFound, "no such resource")
}
