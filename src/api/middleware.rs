//! The layer every request passes through ([`observe`]): it settles the request id, opens the
//! request's tracing span, bounds the request by `request_timeout` and its body by
//! `body_read_timeout` (408), records metrics, and turns
//! every error response (ours, axum's rejections, 404/405, 413, panics, timeouts) into an
//! `application/problem+json` body that carries the request id.
//!
//! Invariant: handlers return [`Problem`] values; the body is written here, once, with the
//! request id, so no problem leaves the service without `requestId` and `X-Request-Id`.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as _;
use tracing::Instrument;

use crate::api::AppState;
use crate::api::problem::{Problem, ProblemCode};

/// The request's id (`X-Request-Id`), in the request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

/// The authenticated client's configured name, in the request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct ClientName(pub String);

pub(crate) const REQUEST_ID: &str = "x-request-id";
const PROBLEM_JSON: &str = "application/problem+json";

/// Whether a caller's request id can be echoed: 1 to 128 characters of letters, digits and
/// `-`, `_`, `.`, `:`; anything else is replaced by a fresh ULID so logs stay clean.
fn sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':'))
}

/// A handler's failure: a boxed [`Problem`] (boxed because a problem is large and results are
/// moved around a lot).
#[derive(Debug)]
pub(crate) struct ApiError(pub Box<Problem>);

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        ApiError(Box::new(problem))
    }
}

impl ApiError {
    pub(crate) fn with_mailbox(self, mailbox: &str) -> ApiError {
        ApiError(Box::new(self.0.with_mailbox(mailbox)))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (*self.0).into_response()
    }
}

impl IntoResponse for Problem {
    /// A provisional response: the `observe` layer writes the body with the request id. The problem
    /// travels in the extensions so nothing is serialized twice.
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut response = status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Answers a panic with a 500 problem that says nothing about the panic itself (it is logged).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PanicProblem;

impl tower_http::catch_panic::ResponseForPanic for PanicProblem {
    type ResponseBody = Body;

    fn response_for_panic(
        &mut self,
        error: Box<dyn std::any::Any + Send + 'static>,
    ) -> axum::http::Response<Body> {
        let message = error
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| error.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        tracing::error!(panic = message, "a handler panicked");
        Problem::new(
            ProblemCode::InternalError,
            "the connector failed unexpectedly",
        )
        .into_response()
    }
}

/// Writes the problem body with the request id and the problem's headers.
async fn render_problem(response: Response, request_id: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let problem = match parts.extensions.remove::<Problem>() {
        Some(problem) => problem,
        None => {
            // axum's rejection texts are safe and helpful (they name the field); a 500 keeps
            // its detail to the logs.
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text).trim().to_owned();
            let code = ProblemCode::for_status(parts.status.as_u16());
            let detail = if text.is_empty() || code == ProblemCode::InternalError {
                parts
                    .status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_owned()
            } else {
                text
            };
            Problem::new(code, detail)
        }
    };
    let mut problem = problem;
    problem.request_id = Some(request_id.to_owned());
    parts.status = StatusCode::from_u16(problem.status).unwrap_or(parts.status);
    let json = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if let Some(retry_after) = problem.retry_after {
        let seconds = retry_after.as_millis().div_ceil(1000).max(1);
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds as u64));
    }
    if problem.code == ProblemCode::Unauthorized {
        parts
            .headers
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    Response::from_parts(parts, Body::from(json))
}

/// The outermost layer of every route; see the module comment.
pub(crate) async fn observe(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| sane(id))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::ids::next_ulid().to_string());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = %route,
        client = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let timeout = state.settings().request_timeout;
    let body_timeout = state.settings().limits.body_read_timeout;
    let (request, body) = TimedBody::wrap(request, body_timeout);
    let response = match tokio::time::timeout(timeout, next.run(request))
        .instrument(span.clone())
        .await
    {
        Ok(_) if body.timed_out() => body_timeout_problem(body_timeout),
        Ok(response) => response,
        Err(_) if body.unfinished() => body_timeout_problem(body_timeout),
        Err(_) => Problem::new(
            ProblemCode::ExchangeTimeout,
            format!(
                "no answer within the request timeout of {} ms",
                timeout.as_millis()
            ),
        )
        .into_response(),
    };
    let mut response = if response.status().is_client_error() || response.status().is_server_error()
    {
        render_problem(response, &request_id).await
    } else {
        response
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_millis() as u64;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    state.inner.metrics.record_request(&route, &method, status);
    span.in_scope(|| tracing::info!(status, latency_ms, "request finished"));
    response
}

/// Where a request body stands, shared between [`TimedBody`] and [`observe`].
#[derive(Debug, Default)]
struct BodyClock {
    /// The body had not arrived when its time ran out.
    timed_out: AtomicBool,
    /// The request has a body and its last byte has not been read.
    unfinished: AtomicBool,
}

/// A request body that fails once `api.body_read_timeout_secs` has passed since the request
/// head, so a client that sends its body slowly gets 408 `request_timeout` rather than holding a
/// worker until the request timeout (which would read as Exchange's fault).
struct TimedBody {
    body: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
    clock: Arc<BodyClock>,
}

impl TimedBody {
    /// Puts the clock on `request`'s body; returns the request and the clock to read afterwards.
    fn wrap(request: Request, timeout: Duration) -> (Request, Arc<BodyClock>) {
        let clock = Arc::new(BodyClock::default());
        let (parts, body) = request.into_parts();
        if body.is_end_stream() {
            return (Request::from_parts(parts, body), clock);
        }
        clock.unfinished.store(true, Ordering::Release);
        let body = TimedBody {
            body,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            clock: clock.clone(),
        };
        (Request::from_parts(parts, Body::new(body)), clock)
    }
}

impl BodyClock {
    fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Acquire)
    }

    fn unfinished(&self) -> bool {
        self.unfinished.load(Ordering::Acquire)
    }
}

/// The 408 answer to a body that did not arrive in time; the connection closes after it (the rest
/// of the body is never read).
fn body_timeout_problem(timeout: Duration) -> Response {
    let mut response = Problem::new(
        ProblemCode::RequestTimeout,
        format!(
            "the request body did not arrive within {} s (api.body_read_timeout_secs)",
            timeout.as_secs()
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

impl http_body::Body for TimedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(None) => {
                this.clock.unfinished.store(false, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => {
                if this.body.is_end_stream() {
                    this.clock.unfinished.store(false, Ordering::Release);
                }
                Poll::Ready(Some(frame))
            }
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.clock.timed_out.store(true, Ordering::Release);
                    return Poll::Ready(Some(Err(axum::Error::new(
                        "the request body did not arrive in time",
                    ))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::sane;

    #[test]
    fn echoes_only_plain_request_ids() {
        assert!(sane("01JD3ZK7Y8V6Q9W2X4R5T1M0NB"));
        assert!(sane("mytt-42.retry:1"));
        assert!(!sane(""));
        assert!(!sane("two words"));
        assert!(!sane("line\nbreak"));
        assert!(!sane(&"a".repeat(129)));
    }
}
