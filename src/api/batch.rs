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
//! Entry types: [`Summary`], [`NdjsonBody`], [`render_line`].

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
use axum::response::IntoResponse;
use hyper::body::Frame;
use serde::Serialize;

use crate::api::AppState;
use crate::api::contract::Ndjson;
pub use crate::api::dto::Summary;
use crate::api::dto::{AccessBody, BatchBody, ChangeBody};
use crate::api::handlers::actor;
use crate::api::json::JsonBody;
use crate::api::middleware::{ApiError, ClientName, RequestId};
use crate::api::problem::{Problem, ProblemCode, error_chain};
use crate::delegation::batch::{self, Batch, Line, LineError, MAX_MAILBOXES};
use crate::delegation::{self};
use crate::domain::Mailbox;

/// Request bodies of the batch routes may be this large (API.md: 16 MiB).
pub const BATCH_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The content type of the batch answers.
pub const NDJSON: &str = "application/x-ndjson";

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

/// What a line's buffer reserves up front: a check's or grant's line fits, so serializing it
/// does not grow the buffer step by step.
const LINE_CAPACITY: usize = 1024;

/// `body` as JSON in a buffer sized for a line (empty when it cannot be serialized, as
/// `serde_json::to_vec(...).unwrap_or_default()` was).
fn line_json(body: &impl Serialize) -> Vec<u8> {
    let mut json = Vec::with_capacity(LINE_CAPACITY);
    if serde_json::to_writer(&mut json, body).is_err() {
        json.clear();
    }
    json
}

impl Rendered {
    /// The check's line: the single call's [`AccessBody`].
    pub fn access(body: &AccessBody) -> Rendered {
        Rendered {
            json: line_json(body),
            changed: false,
        }
    }

    /// The grant's line: the single call's [`ChangeBody`].
    pub fn change(body: &ChangeBody) -> Rendered {
        Rendered {
            json: line_json(body),
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
        // The next chunk gets a buffer of this one's size, so it is not grown line by line.
        let capacity = self.pending.len();
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(capacity));
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

/// The deduplicated mailboxes of a batch body, at most [`MAX_MAILBOXES`].
fn mailboxes(list: Vec<String>) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_MAILBOXES {
        return Err(Problem::new(
            ProblemCode::InvalidRequest,
            format!(
                "the field `mailboxes` holds {} entries; at most {MAX_MAILBOXES} are allowed",
                list.len()
            ),
        )
        .into());
    }
    Ok(batch::dedupe(list))
}

/// A body type that can be a line of a batch answer.
pub(crate) trait BatchLine: Serialize + utoipa::ToSchema {
    fn render(&self) -> Rendered;
}

impl BatchLine for AccessBody {
    fn render(&self) -> Rendered {
        Rendered::access(self)
    }
}

impl BatchLine for ChangeBody {
    fn render(&self) -> Rendered {
        Rendered::change(self)
    }
}

/// Starts `work` on each mailbox and answers with its lines as they complete: each line is
/// the `T` that `work` made, so the answer's type names the type of its lines.
fn stream<T, F, Fut>(
    state: &AppState,
    request_id: &RequestId,
    list: Vec<String>,
    work: F,
) -> Ndjson<T>
where
    T: BatchLine,
    F: Fn(Mailbox) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, delegation::Error>> + Send + 'static,
{
    let running = batch::start(
        &state.inner.delegation,
        state.inner.exchange.ceiling_per_account(),
        list,
        &state.settings().allowed_domains,
        state.inner.metrics.batch.clone(),
        move |mailbox| {
            let line = work(mailbox);
            async move { line.await.map(|body| body.render()) }
        },
    );
    let body = NdjsonBody::new(running, Some(request_id.0.clone()));
    Ndjson::new(
        (
            [
                (header::CONTENT_TYPE, NDJSON),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Body::new(body),
        )
            .into_response(),
    )
}

/// Checks many mailboxes; NDJSON, one line per unique mailbox as each completes, summary last.
#[utoipa::path(
    post,
    path = "/v1/calendar/access:batch",
    request_body(content = BatchBody, description = "At most 100,000 mailboxes; `level`, `principal` and `dryRun` are ignored here", content_type = "application/json"),
    security(("bearer" = ["calendar:check"])),
    responses(
        (status = 200, description = "NDJSON streamed as results complete: one line per unique mailbox, the access body of `GET .../calendar/access` (the schema) or `{\"mailbox\", \"error\": Problem}`, then `{\"summary\": Summary}` last; `summary.ok` counts the lines without `error`", body = AccessBody, content_type = "application/x-ndjson"),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn check_batch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    body: JsonBody<BatchBody>,
) -> Result<Ndjson<AccessBody>, ApiError> {
    let (list, _) = body.read()?.into_parts();
    let list = mailboxes(list)?;
    let delegation = state.inner.delegation.clone();
    Ok(stream(&state, &request_id, list, move |mailbox| {
        let delegation = delegation.clone();
        async move {
            let report = delegation.check(&mailbox).await?;
            Ok(AccessBody::from(&report))
        }
    }))
}

/// Grants the principal the level on many mailboxes' calendars; each change is audited.
#[utoipa::path(
    post,
    path = "/v1/calendar/delegation:batch",
    request_body(content = BatchBody, description = "At most 100,000 mailboxes; `level`, `principal` and `dryRun` apply to all", content_type = "application/json"),
    security(("bearer" = ["calendar:delegate"])),
    responses(
        (status = 200, description = "NDJSON streamed as results complete: one line per unique mailbox, the change body of `PUT .../calendar/delegation` (the schema) or `{\"mailbox\", \"error\": Problem}`, then `{\"summary\": Summary}` last; `summary.ok` counts the lines without `error`, `summary.changed` those with `\"changed\": true`", body = ChangeBody, content_type = "application/x-ndjson"),
        (status = 403, description = "`forbidden` (the token lacks `calendar:delegate`), `principal_not_allowed` (the principal is neither `delegation.principal` nor one of `delegation.allowed_principals`) or `level_not_allowed` (the level grants a right that `delegation.max_level` does not): the whole batch is refused, no line is written and Exchange is not called", body = Problem, content_type = "application/problem+json"),
        (status = "4XX", description = "The request is wrong", body = Problem, content_type = "application/problem+json"),
        (status = "5XX", description = "The connector failed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn grant_batch(
    State(state): State<AppState>,
    Extension(request_id): Extension<RequestId>,
    Extension(client): Extension<ClientName>,
    body: JsonBody<BatchBody>,
) -> Result<Ndjson<ChangeBody>, ApiError> {
    let (list, grant) = body.read()?.into_parts();
    let list = mailboxes(list)?;
    let request = grant.into_request()?;
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
    Ok(stream(&state, &request_id, list, move |mailbox| {
        let delegation = delegation.clone();
        let actor = actor.clone();
        let request = request.clone();
        async move {
            let outcome = delegation.grant(&actor, &mailbox, request).await?;
            Ok(ChangeBody::from(&outcome))
        }
    }))
}
