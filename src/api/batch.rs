//! The batch routes of API.md: `POST /v1/calendar/access:batch` and
//! `POST /v1/calendar/delegation:batch`, answered with NDJSON streamed as results complete.
//!
//! Invariants:
//! - the body is never buffered: each line is written when its mailbox is done
//!   ([`NdjsonBody`] reads [`delegation::batch::Batch`] as hyper asks for data), and the last
//!   line is the summary;
//! - a client that goes away drops the body, which drops the batch and cancels its work;
//! - each line is exactly the single call's body (or `{"mailbox", "error": problem}`), so the
//!   command line prints the same lines ([`render_line`], [`Summary`]);
//! - a delegation batch's principal and level are checked once against the configuration
//!   before it starts: a refusal is one 403 problem, with no line and no call to Exchange.
//!
//! Entry types: [`BatchBody`], [`Summary`], [`NdjsonBody`], [`render_line`].

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hyper::body::Frame;
use serde::Serialize;
use serde_json::Value;

use crate::api::dto::{AccessBody, ChangeBody};
use crate::api::handlers::{actor, grant_request};
use crate::api::middleware::{ApiError, ClientName, RequestId};
use crate::api::problem::{Problem, ProblemCode, error_chain};
use crate::api::{AppState, dto};
use crate::delegation::batch::{self, Batch, Line, LineError, MAX_MAILBOXES};

/// Request bodies of the batch routes may be this large (API.md: 16 MiB).
pub const BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The content type of the batch answers.
pub const NDJSON: &str = "application/x-ndjson";

/// The body of both batch routes, for the OpenAPI document; the handler reads the JSON itself
/// so that a wrong type is reported with the field's name.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used.
pub struct BatchBody {
    /// The mailboxes' primary SMTP addresses, at most 100,000; duplicates (in any case) are
    /// done once.
    pub mailboxes: Vec<String>,
    /// Delegation batch only: the level for every mailbox (default `delegation.level`).
    pub level: Option<String>,
    /// Delegation batch only: the delegate (default `delegation.principal`).
    pub principal: Option<String>,
    /// Delegation batch only: when true, nothing is written.
    pub dry_run: Option<bool>,
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

#[derive(Serialize)]
struct SummaryLine<'a> {
    summary: &'a Summary,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    mailbox: &'a str,
    error: &'a Problem,
}

/// One finished line, serialized by the worker that produced it (so serialization runs in
/// parallel), plus what the summary needs.
#[derive(Debug)]
pub struct Rendered {
    json: Vec<u8>,
    changed: bool,
}

impl Rendered {
    /// The check's line: the single call's [`AccessBody`].
    pub fn access(body: &AccessBody) -> Rendered {
        Rendered {
            json: serde_json::to_vec(body).unwrap_or_default(),
            changed: false,
        }
    }

    /// The grant's line: the single call's [`ChangeBody`].
    pub fn change(body: &ChangeBody) -> Rendered {
        Rendered {
            json: serde_json::to_vec(body).unwrap_or_default(),
            changed: body.changed,
        }
    }
}

/// The problem of a failed line, as the single call would have answered it.
pub fn line_problem(mailbox: &str, error: &LineError) -> Problem {
    let problem = match error {
        LineError::Invalid(error) => Problem::new(ProblemCode::InvalidMailbox, error.to_string()),
        LineError::NotAllowed { .. } => {
            Problem::new(ProblemCode::MailboxNotAllowed, error.to_string())
        }
        LineError::Failed(error) => {
            tracing::warn!(mailbox, error = %error_chain(error), "batch line failed");
            Problem::from(error)
        }
    };
    problem.with_mailbox(mailbox)
}

/// Appends one NDJSON line (with its newline) for `line` to `out` and counts it in `summary`.
pub fn render_line(
    out: &mut Vec<u8>,
    line: &Line<Rendered>,
    request_id: Option<&str>,
    summary: &mut Summary,
) {
    summary.total += 1;
    match &line.outcome {
        Ok(rendered) => {
            summary.ok += 1;
            summary.changed += u64::from(rendered.changed);
            out.extend_from_slice(&rendered.json);
        }
        Err(error) => {
            summary.failed += 1;
            let mut problem = line_problem(&line.mailbox, error);
            problem.request_id = request_id.map(str::to_owned);
            let error_line = ErrorLine {
                mailbox: &line.mailbox,
                error: &problem,
            };
            let _ = serde_json::to_writer(&mut *out, &error_line);
        }
    }
    out.push(b'\n');
}

/// Appends the summary line.
pub fn render_summary(out: &mut Vec<u8>, summary: &Summary) {
    let _ = serde_json::to_writer(&mut *out, &SummaryLine { summary });
    out.push(b'\n');
}

/// The streamed answer: lines as the batch yields them, then the summary. Lines that complete
/// close together go out in one chunk: a chunk is written when it holds [`CHUNK_LINES`] lines or
/// when its first line has waited [`FLUSH_AFTER`], so a busy batch costs one write per chunk
/// instead of one per line, and a quiet one still shows each line within milliseconds.
pub struct NdjsonBody {
    batch: Batch<Rendered>,
    request_id: Option<String>,
    summary: Summary,
    started: Instant,
    /// Lines rendered but not yet written, and how many.
    pending: Vec<u8>,
    pending_lines: usize,
    /// When the pending lines are written at the latest.
    flush: Option<Pin<Box<tokio::time::Sleep>>>,
    finished: bool,
    /// The request's span (with its id), entered while the body is polled, which hyper does
    /// after the handler returned: lines logged while streaming still name the request.
    span: tracing::Span,
}

/// The most lines put in one chunk of the body.
const CHUNK_LINES: usize = 64;

/// The longest a finished line waits for others to share its chunk.
const FLUSH_AFTER: std::time::Duration = std::time::Duration::from_millis(5);

impl NdjsonBody {
    pub fn new(batch: Batch<Rendered>, request_id: Option<String>) -> NdjsonBody {
        NdjsonBody {
            batch,
            request_id,
            summary: Summary::default(),
            started: Instant::now(),
            pending: Vec::new(),
            pending_lines: 0,
            flush: None,
            finished: false,
            span: tracing::Span::current(),
        }
    }

    fn take_chunk(&mut self) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.flush = None;
        self.pending_lines = 0;
        let chunk = std::mem::take(&mut self.pending);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }
}

impl hyper::body::Body for NdjsonBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        let span = this.span.clone();
        let _entered = span.enter();
        if this.finished {
            return Poll::Ready(None);
        }
        // While a chunk waits for its flush time, the batch is not polled, so a line that
        // completes meanwhile does not wake this task; it waits in the batch's channel.
        if let Some(flush) = &mut this.flush
            && flush.as_mut().poll(context).is_pending()
        {
            return Poll::Pending;
        }
        let flush_due = this.flush.is_some();
        while this.pending_lines < CHUNK_LINES {
            match this.batch.poll_next(context) {
                Poll::Ready(Some(line)) => {
                    render_line(
                        &mut this.pending,
                        &line,
                        this.request_id.as_deref(),
                        &mut this.summary,
                    );
                    this.pending_lines += 1;
                }
                Poll::Ready(None) => {
                    this.finished = true;
                    this.summary.elapsed_ms = this.started.elapsed().as_millis() as u64;
                    render_summary(&mut this.pending, &this.summary);
                    return this.take_chunk();
                }
                Poll::Pending => break,
            }
        }
        if this.pending_lines >= CHUNK_LINES || (flush_due && this.pending_lines > 0) {
            return this.take_chunk();
        }
        if this.pending_lines == 0 {
            this.flush = None;
            return Poll::Pending;
        }
        let flush = this
            .flush
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_AFTER)));
        match flush.as_mut().poll(context) {
            Poll::Ready(()) => this.take_chunk(),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Reads `mailboxes` from the body: a JSON array of strings, at most [`MAX_MAILBOXES`].
fn mailboxes(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        Problem::new(
            ProblemCode::InvalidRequest,
            format!("the body is not JSON: {error}"),
        )
    })?;
    let Value::Object(mut fields) = value else {
        return Err(Problem::new(
            ProblemCode::InvalidRequest,
            "the body must be a JSON object",
        )
        .into());
    };
    let wrong = || {
        ApiError::from(Problem::new(
            ProblemCode::InvalidRequest,
            "the field `mailboxes` must be an array of strings",
        ))
    };
    let Some(Value::Array(items)) = fields.remove("mailboxes") else {
        return Err(wrong());
    };
    if items.len() > MAX_MAILBOXES {
        return Err(Problem::new(
            ProblemCode::InvalidRequest,
            format!(
                "the field `mailboxes` holds {} entries; at most {MAX_MAILBOXES} are allowed",
                items.len()
            ),
        )
        .into());
    }
    items
        .into_iter()
        .map(|item| match item {
            Value::String(text) => Ok(text),
            _ => Err(wrong()),
        })
        .collect()
}

fn ndjson(batch: Batch<Rendered>, request_id: &RequestId) -> Response {
    let body = NdjsonBody::new(batch, Some(request_id.0.clone()));
    (
        [
            (header::CONTENT_TYPE, NDJSON),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::new(body),
    )
        .into_response()
}

/// Checks many mailboxes; NDJSON, one line per unique mailbox as each completes, summary last.
#[utoipa::path(
    post,
    path = "/v1/calendar/access:batch",
    request_body(content = BatchBody, description = "At most 100,000 mailboxes; `level`, `principal` and `dryRun` are ignored here", content_type = "application/json"),
    security(("bearer" = ["calendar:check"])),
    responses(
        (status = 200, description = "NDJSON streamed as results complete: one line per unique mailbox, the access body of `GET .../calendar/access` or `{\"mailbox\", \"error\": problem}`, then `{\"summary\": Summary}` last; `summary.ok` counts the lines without `error`", body = Summary, content_type = "application/x-ndjson"),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn check_batch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let list = batch::dedupe(mailboxes(&body)?);
    drop(body);
    let delegation = state.inner.delegation.clone();
    let running = batch::start(
        &state.inner.exchange,
        list,
        &state.settings().allowed_domains,
        state.inner.metrics.batch.clone(),
        move |mailbox| {
            let delegation = delegation.clone();
            async move {
                let report = delegation.check(&mailbox).await?;
                Ok(Rendered::access(&dto::AccessBody::from(&report)))
            }
        },
    );
    Ok(ndjson(running, &request_id))
}

/// Grants the principal the level on many mailboxes' calendars; each change is audited.
#[utoipa::path(
    post,
    path = "/v1/calendar/delegation:batch",
    request_body(content = BatchBody, description = "At most 100,000 mailboxes; `level`, `principal` and `dryRun` apply to all", content_type = "application/json"),
    security(("bearer" = ["calendar:delegate"])),
    responses(
        (status = 200, description = "NDJSON streamed as results complete: one line per unique mailbox, the change body of `PUT .../calendar/delegation` or `{\"mailbox\", \"error\": problem}`, then `{\"summary\": Summary}` last; `summary.ok` counts the lines without `error`, `summary.changed` those with `\"changed\": true`", body = Summary, content_type = "application/x-ndjson"),
        (status = 403, description = "`forbidden` (the token lacks `calendar:delegate`), `principal_not_allowed` (the principal is neither `delegation.principal` nor one of `delegation.allowed_principals`) or `level_not_allowed` (the level grants a right that `delegation.max_level` does not): the whole batch is refused, no line is written and Exchange is not called", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn grant_batch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Extension(client): Extension<ClientName>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let list = batch::dedupe(mailboxes(&body)?);
    let request = grant_request(&body)?;
    drop(body);
    // The principal and level are the whole batch's: a refusal is the answer, before any line
    // and before Exchange is asked (each worker's grant checks them again).
    state
        .inner
        .delegation
        .settings()
        .admit_grant(&request)
        .map_err(|error| {
            tracing::warn!(error = %error, "delegation batch refused");
            Problem::from(&error)
        })?;
    let delegation = state.inner.delegation.clone();
    let actor = Arc::new(actor(&request_id, &client));
    let running = batch::start(
        &state.inner.exchange,
        list,
        &state.settings().allowed_domains,
        state.inner.metrics.batch.clone(),
        move |mailbox| {
            let delegation = delegation.clone();
            let actor = actor.clone();
            let request = request.clone();
            async move {
                let outcome = delegation.grant(&actor, &mailbox, request).await?;
                Ok(Rendered::change(&dto::ChangeBody::from(&outcome)))
            }
        },
    );
    Ok(ndjson(running, &request_id))
}
