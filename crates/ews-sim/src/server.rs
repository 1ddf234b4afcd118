//! The simulator's HTTP side: a hyper 1 HTTP/1.1 keep-alive server on loopback, the
//! connection-bound NTLM (and per-request Basic) logon, scripted faults, concurrency limits,
//! counters and the `/sim/...` control routes.
//!
//! Invariants: NTLM authentication belongs to one TCP connection (the CHALLENGE and the
//! AUTHENTICATE must arrive on the same connection, and the account stays logged on for that
//! connection only); the state lock is a std `Mutex` never held across an `.await`; passwords
//! and `Authorization` values are never logged.
//! Entry types: [`Shared`], [`SimStats`], [`serve_shared`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Sleep;

use crate::faults::{FaultKind, FaultQueue, ScriptedFault};
use crate::item_ops;
use crate::ntlm::{self, Challenge, NtlmMessage};
use crate::ops::{self, Answer};
use crate::render;
use crate::state::SimState;
use crate::xml::{ConnectingSid, SoapRequest};

/// The EWS endpoint path.
pub(crate) const EWS_PATH: &str = "/EWS/Exchange.asmx";

/// Counters, readable through `SimHandle::stats()` and `GET /sim/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    /// TCP connections accepted.
    pub connections_opened: u64,
    /// Keep-alive connections closed after the idle timeout (`[server] idle_timeout_ms`).
    pub idle_connections_closed: u64,
    /// Authenticated EWS requests by operation element name (`Invalid` when the body did not
    /// parse).
    pub requests_by_operation: BTreeMap<String, u64>,
    /// NTLM NEGOTIATE messages answered with a CHALLENGE.
    pub ntlm_challenges: u64,
    /// NTLM AUTHENTICATE messages accepted.
    pub ntlm_accepted: u64,
    /// NTLM AUTHENTICATE messages refused (wrong password, unknown user, NTLMv1, no pending
    /// challenge on this connection).
    pub ntlm_refused: u64,
    pub basic_accepted: u64,
    pub basic_refused: u64,
    /// 401 answers of any cause.
    pub unauthorized: u64,
    /// Highest number of simultaneous EWS requests seen per account (SMTP address), counting
    /// those refused for exceeding the limit.
    pub peak_concurrency: BTreeMap<String, usize>,
    /// ErrorServerBusy answers (the scripted `server_busy` fault).
    pub busy_answers: u64,
    /// ErrorExceededConnectionCount answers: requests beyond an account's concurrency limit
    /// (`max_concurrency`, Exchange's `EWSMaxConcurrency`).
    #[serde(default)]
    pub connection_count_answers: u64,
    /// Scripted faults applied.
    pub faults_applied: u64,
    /// Items changed by operation: CreateItem items created, UpdateItem items changed,
    /// DeleteItem items deleted.
    #[serde(default)]
    pub items_by_operation: BTreeMap<String, u64>,
    /// Impersonated requests whose `X-AnchorMailbox` header is missing or names another
    /// mailbox than the impersonation header (real Exchange then proxies and slows down).
    pub anchor_mailbox_mismatches: u64,
    /// Requests (counted in `requests_by_operation` too) that name no mailbox: no
    /// impersonation header, no `t:Mailbox`, no item id of a mailbox, so they act on the
    /// caller's own mailbox, as a client's logon or readiness probe does. The load bench
    /// subtracts them to count the requests per checked mailbox.
    #[serde(default)]
    pub own_mailbox_requests: u64,
}

impl SimStats {
    /// Requests counted for one operation.
    pub fn requests(&self, operation: &str) -> u64 {
        self.requests_by_operation
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Items changed by one operation (CreateItem: created, UpdateItem: changed, DeleteItem:
    /// deleted).
    pub fn items(&self, operation: &str) -> u64 {
        self.items_by_operation.get(operation).copied().unwrap_or(0)
    }
}

/// The service's error: the connection is closed without a response (hyper drops it when the
/// service fails), for the `reset_after_processing` fault.
#[derive(Debug)]
struct LostResponse;

impl std::fmt::Display for LostResponse {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("scripted lost response")
    }
}

impl std::error::Error for LostResponse {}

/// Everything the connections share.
pub(crate) struct Shared {
    pub state: Mutex<SimState>,
    pub stats: Mutex<SimStats>,
    pub faults: Mutex<FaultQueue>,
    /// In-flight EWS requests per account.
    inflight: Mutex<HashMap<String, usize>>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(mut state: SimState) -> Shared {
        let mut faults = FaultQueue::default();
        for fault in std::mem::take(&mut state.faults) {
            faults.push(fault);
        }
        Shared {
            state: Mutex::new(state),
            stats: Mutex::new(SimStats::default()),
            faults: Mutex::new(faults),
            inflight: Mutex::new(HashMap::new()),
        }
    }
}

/// Accepts connections until `shutdown` completes, then stops every connection task.
pub(crate) async fn serve_shared(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    let mut accept_back_off = Duration::from_millis(10);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    accept_back_off = Duration::from_millis(10);
                    lock(&shared.stats).connections_opened += 1;
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                Err(error) => {
                    tracing::warn!(%error, "sim: accept failed");
                    tokio::time::sleep(accept_back_off).await;
                    accept_back_off = (accept_back_off * 2).min(Duration::from_secs(1));
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
    Ok(())
}

/// Per-connection NTLM state.
#[derive(Default)]
pub(crate) struct ConnectionState {
    /// The server challenge of a CHALLENGE sent on this connection, awaiting AUTHENTICATE.
    pending_challenge: Option<[u8; 8]>,
    /// The account (SMTP address) this connection is logged on as.
    authenticated: Option<String>,
}

/// A connection's requests in flight and when the last one ended (its answer sent), for the
/// IIS idle timeout.
struct Activity {
    in_flight: usize,
    last: tokio::time::Instant,
}

/// One request in flight on a connection, until its answer's body has been sent (dropped).
pub(crate) struct Busy(Arc<Mutex<Activity>>);

impl Busy {
    fn enter(activity: &Arc<Mutex<Activity>>) -> Busy {
        lock(activity).in_flight += 1;
        Busy(Arc::clone(activity))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut activity = lock(&self.0);
        activity.in_flight = activity.in_flight.saturating_sub(1);
        activity.last = tokio::time::Instant::now();
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let connection = Arc::new(Mutex::new(ConnectionState::default()));
    let idle_timeout = lock(&shared.state).server.idle_timeout;
    let activity = Arc::new(Mutex::new(Activity {
        in_flight: 0,
        last: tokio::time::Instant::now(),
    }));
    let service_activity = Arc::clone(&activity);
    let counters = Arc::clone(&shared);
    let service = service_fn(move |request| {
        let shared = Arc::clone(&shared);
        let connection = Arc::clone(&connection);
        let busy = Busy::enter(&service_activity);
        async move {
            let mut response = route(&shared, &connection, request).await?;
            response.body_mut().busy = Some(busy);
            Ok::<_, LostResponse>(response)
        }
    });
    let served = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(served);
    // IIS `connectionTimeout`: a keep-alive connection with no request in flight for the
    // timeout is closed (a graceful shutdown closes an idle HTTP/1.1 connection at once).
    let mut closing = false;
    loop {
        let deadline = {
            let activity = lock(&activity);
            (activity.in_flight == 0 && !closing).then(|| activity.last + idle_timeout)
        };
        let wait = async {
            match deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => tokio::time::sleep(idle_timeout.min(Duration::from_millis(50))).await,
            }
        };
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "sim: connection ended with an error");
                }
                return;
            }
            () = wait => {
                let idle = {
                    let activity = lock(&activity);
                    activity.in_flight == 0 && activity.last.elapsed() >= idle_timeout
                };
                if idle && !closing {
                    closing = true;
                    lock(&counters.stats).idle_connections_closed += 1;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

async fn route(
    shared: &Shared,
    connection: &Mutex<ConnectionState>,
    request: Request<Incoming>,
) -> Result<Response<SimBody>, LostResponse> {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    if method == Method::POST && path.eq_ignore_ascii_case(EWS_PATH) {
        return ews(shared, connection, request).await;
    }
    if method == Method::POST && crate::autodiscover::handles(&path) {
        return Ok(crate::autodiscover::handle(shared, connection, request).await);
    }
    Ok(control(shared, method, &path, request).await)
}

/// The `/sim/...` control routes.
async fn control(
    shared: &Shared,
    method: Method,
    path: &str,
    request: Request<Incoming>,
) -> Response<SimBody> {
    if method == Method::GET && path == "/sim/stats" {
        let stats = lock(&shared.stats).clone();
        return json(StatusCode::OK, &stats);
    }
    if method == Method::POST && path == "/sim/faults" {
        let body = match request.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return plain(StatusCode::BAD_REQUEST, "unreadable body"),
        };
        let faults: Vec<ScriptedFault> = match serde_json::from_slice::<OneOrMany>(&body) {
            Ok(OneOrMany::One(fault)) => vec![fault],
            Ok(OneOrMany::Many(faults)) => faults,
            Err(error) => {
                return plain(StatusCode::BAD_REQUEST, &format!("invalid fault: {error}"));
            }
        };
        let mut queue = lock(&shared.faults);
        for fault in faults {
            queue.push(fault);
        }
        return json(
            StatusCode::OK,
            &serde_json::json!({ "pending": queue.len() }),
        );
    }
    if method == Method::GET {
        if let Some(mailbox) = path
            .strip_prefix("/sim/mailboxes/")
            .and_then(|rest| rest.strip_suffix("/permissions"))
        {
            let mailbox = url::form_urlencoded::parse(format!("m={mailbox}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            return match lock(&shared.state).calendar(&mailbox) {
                Some(calendar) => json(StatusCode::OK, &calendar),
                None => plain(StatusCode::NOT_FOUND, "no such mailbox"),
            };
        }
        if let Some(mailbox) = path
            .strip_prefix("/sim/mailboxes/")
            .and_then(|rest| rest.strip_suffix("/items"))
        {
            let mailbox = url::form_urlencoded::parse(format!("m={mailbox}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default();
            return match lock(&shared.state).calendar_items(&mailbox) {
                Some(items) => json(StatusCode::OK, &items),
                None => plain(StatusCode::NOT_FOUND, "no such mailbox"),
            };
        }
    }
    plain(StatusCode::NOT_FOUND, "not found")
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(ScriptedFault),
    Many(Vec<ScriptedFault>),
}

/// Counts one in-flight request of an account for as long as it lives.
struct InflightGuard<'a> {
    shared: &'a Shared,
    account: String,
}

impl<'a> InflightGuard<'a> {
    /// Enters and returns the guard with the account's concurrency including this request.
    fn enter(shared: &'a Shared, account: &str) -> (InflightGuard<'a>, usize) {
        let current = {
            let mut inflight = lock(&shared.inflight);
            let count = inflight.entry(account.to_string()).or_insert(0);
            *count += 1;
            *count
        };
        let mut stats = lock(&shared.stats);
        let peak = stats
            .peak_concurrency
            .entry(account.to_string())
            .or_insert(0);
        *peak = (*peak).max(current);
        (
            InflightGuard {
                shared,
                account: account.to_string(),
            },
            current,
        )
    }
}

impl Drop for InflightGuard<'_> {
    fn drop(&mut self) {
        let mut inflight = lock(&self.shared.inflight);
        if let Some(count) = inflight.get_mut(&self.account) {
            *count = count.saturating_sub(1);
        }
    }
}

/// The outcome of the logon step.
pub(crate) enum Logon {
    Account(String),
    Answer(Box<Response<SimBody>>),
}

async fn ews(
    shared: &Shared,
    connection: &Mutex<ConnectionState>,
    request: Request<Incoming>,
) -> Result<Response<SimBody>, LostResponse> {
    // Exchange echoes `client-request-id` when asked with `return-client-request-id: true`.
    let echo = request
        .headers()
        .get("return-client-request-id")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"))
        .then(|| request.headers().get("client-request-id").cloned())
        .flatten();
    let mut response = ews_answer(shared, connection, request).await?;
    if let Some(client_request_id) = echo {
        response
            .headers_mut()
            .insert("client-request-id", client_request_id);
    }
    Ok(response)
}

/// How late a tokio sleep wakes on average (1 ms timer ticks, rounded up twice); the latency
/// sleep is shortened by it so answers arrive after the configured latency, not 1 ms later.
const TIMER_OVERSHOOT: Duration = Duration::from_millis(1);

async fn ews_answer(
    shared: &Shared,
    connection: &Mutex<ConnectionState>,
    request: Request<Incoming>,
) -> Result<Response<SimBody>, LostResponse> {
    let arrived = tokio::time::Instant::now();
    let anchor_mailbox = request
        .headers()
        .get("x-anchormailbox")
        .and_then(|value| value.to_str().ok())
        .map(str::to_ascii_lowercase);
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(plain(StatusCode::BAD_REQUEST, "unreadable body")),
    };
    let account = match logon(shared, connection, authorization.as_deref()) {
        Logon::Account(account) => account,
        Logon::Answer(response) => return Ok(*response),
    };

    let limit = {
        let state = lock(&shared.state);
        state
            .account_by_smtp(&account)
            .and_then(|found| found.max_concurrency)
            .or(state.server.max_concurrency)
    };
    let (_inflight, concurrency) = InflightGuard::enter(shared, &account);

    let text = String::from_utf8_lossy(&body);
    let parsed = SoapRequest::parse(&text);
    let operation_name = match &parsed {
        Ok(request) => request.operation.name.clone(),
        Err(_) => "Invalid".to_string(),
    };
    *lock(&shared.stats)
        .requests_by_operation
        .entry(operation_name.clone())
        .or_insert(0) += 1;

    // Beyond the account's EWSMaxConcurrency Exchange refuses the request before it runs:
    // a SOAP fault `ErrorExceededConnectionCount` with no `BackOffMilliseconds`.
    if let Some(limit) = limit.filter(|limit| concurrency > *limit) {
        lock(&shared.stats).connection_count_answers += 1;
        return Ok(soap(Answer {
            status: 500,
            body: render::exceeded_connection_count_fault(limit),
            items: 0,
        }));
    }

    let request = match parsed {
        Ok(request) => request,
        Err(error) => {
            tracing::debug!(%error, "sim: unreadable soap request");
            return Ok(soap(Answer::fault("ErrorSchemaValidation")));
        }
    };
    let mailbox = ops::target_mailbox(&request)
        .or_else(|| item_ops::first_item_mailbox(&lock(&shared.state), &request.operation));
    if mailbox.is_none() {
        lock(&shared.stats).own_mailbox_requests += 1;
    }
    // Impersonated calls should carry the same mailbox in X-AnchorMailbox (PROTOCOL §2.3).
    let by_smtp = matches!(
        request.impersonation,
        Some(ConnectingSid::PrimarySmtpAddress(_) | ConnectingSid::SmtpAddress(_))
    );
    if by_smtp && anchor_mailbox != mailbox {
        lock(&shared.stats).anchor_mailbox_mismatches += 1;
    }
    let fault = lock(&shared.faults).take(&operation_name, mailbox.as_deref());
    if fault.is_some() {
        lock(&shared.stats).faults_applied += 1;
    }

    let (latency_ms, jitter_ms) = {
        let state = lock(&shared.state);
        (state.server.latency_ms, state.server.latency_jitter_ms)
    };
    let jitter = if jitter_ms > 0 {
        rand::thread_rng().gen_range(0..=jitter_ms)
    } else {
        0
    };
    if latency_ms + jitter > 0 {
        // The latency runs from the request's arrival, so the simulator's own work is part of
        // it. tokio rounds a sleep's deadline up to its next 1 ms tick and the driver parks in
        // whole milliseconds: `sleep(20 ms)` lasts 21.2 ms on average (measured on the
        // 2-core build machine), which alone would add 6 % to a 20 ms latency. Waking
        // `TIMER_OVERSHOOT` early brings the average answer back to the configured latency.
        let latency = Duration::from_millis(latency_ms + jitter);
        let wake = latency.saturating_sub(TIMER_OVERSHOOT);
        tokio::time::sleep_until(arrived + wake).await;
    }

    match fault {
        Some(FaultKind::ServerBusy { back_off_ms }) => {
            lock(&shared.stats).busy_answers += 1;
            return Ok(soap(Answer {
                status: 500,
                body: render::soap_fault("ErrorServerBusy", Some(back_off_ms)),
                items: 0,
            }));
        }
        Some(FaultKind::Http503 { retry_after_secs }) => {
            let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, "");
            if let Some(seconds) = retry_after_secs {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            return Ok(response);
        }
        Some(FaultKind::Http401) => {
            let mut state = lock(connection);
            state.authenticated = None;
            state.pending_challenge = None;
            drop(state);
            return Ok(unauthorized(shared));
        }
        Some(FaultKind::SoapFault { code }) => return Ok(soap(Answer::fault(&code))),
        Some(FaultKind::MessageError { ref code }) => {
            match ops::folder_error_answer(&operation_name, code) {
                Some(answer) => return Ok(soap(answer)),
                None => tracing::warn!(
                    operation = %operation_name,
                    "sim: message_error fault applies to GetFolder and UpdateFolder only"
                ),
            }
        }
        Some(FaultKind::LatencyMs { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }

    let answer = {
        let mut state = lock(&shared.state);
        if let Some(FaultKind::ConcurrentWrite { user, level }) = &fault {
            // The other writer's change lands first, under the same state lock, so nothing can
            // come between it and this request.
            match mailbox.as_deref() {
                Some(target) => {
                    if let Err(error) = state.mutate_permissions(target, user, *level) {
                        tracing::warn!(%error, "sim: concurrent_write fault not applied");
                    }
                }
                None => {
                    tracing::warn!("sim: concurrent_write fault on a request without a mailbox")
                }
            }
        }
        let answer = ops::handle(&mut state, &account, &request);
        (answer, state.find_hold.take())
    };
    let (answer, find_hold) = answer;
    if answer.items > 0 {
        *lock(&shared.stats)
            .items_by_operation
            .entry(operation_name)
            .or_insert(0) += answer.items;
    }
    let mut response = match fault {
        Some(FaultKind::ResetAfterProcessing) => return Err(LostResponse),
        Some(FaultKind::Reset) => {
            let full = Bytes::from(answer.body);
            let half = full.slice(..full.len() / 2);
            let mut response = soap_with(
                answer.status,
                SimBody::failing_after(half, full.len() as u64),
            );
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            response
        }
        Some(FaultKind::ConnectionClose) => {
            let mut response = soap(answer);
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        Some(FaultKind::Malformed) => {
            let full = answer.body;
            let mut cut = full.len() / 2;
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            soap(Answer {
                status: 200,
                body: full[..cut].to_string(),
                items: 0,
            })
        }
        Some(FaultKind::Slow { ms }) => soap_with(
            answer.status,
            SimBody::dribbled(Bytes::from(answer.body), Duration::from_millis(ms)),
        ),
        _ => soap(answer),
    };
    // A FindItem's find-count charge lasts until its answer has been sent (the body dropped).
    response.body_mut().hold = find_hold;
    Ok(response)
}

/// Runs the NTLM / Basic logon for one request.
pub(crate) fn logon(
    shared: &Shared,
    connection: &Mutex<ConnectionState>,
    authorization: Option<&str>,
) -> Logon {
    let Some(authorization) = authorization else {
        return match lock(connection).authenticated.clone() {
            Some(account) => Logon::Account(account),
            None => Logon::Answer(Box::new(unauthorized(shared))),
        };
    };
    let (scheme, token) = authorization
        .split_once(' ')
        .map(|(scheme, token)| (scheme, token.trim()))
        .unwrap_or((authorization, ""));
    let refuse_ntlm = || {
        lock(&shared.stats).ntlm_refused += 1;
        Logon::Answer(Box::new(unauthorized(shared)))
    };
    if scheme.eq_ignore_ascii_case("NTLM") || scheme.eq_ignore_ascii_case("Negotiate") {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(token) else {
            return refuse_ntlm();
        };
        match ntlm::parse(&bytes) {
            Ok(NtlmMessage::Negotiate) => {
                let server_challenge: [u8; 8] = rand::random();
                {
                    let mut state = lock(connection);
                    state.pending_challenge = Some(server_challenge);
                    state.authenticated = None;
                }
                let challenge_bytes = {
                    let state = lock(&shared.state);
                    let server = &state.server;
                    Challenge {
                        server_challenge,
                        netbios_domain: &server.netbios_domain,
                        netbios_computer: &server.netbios_computer,
                        dns_computer: &server.dns_computer,
                        dns_domain: &server.dns_domain,
                        timestamp: filetime_now(),
                    }
                    .to_bytes()
                };
                lock(&shared.stats).ntlm_challenges += 1;
                let value = format!(
                    "{scheme} {}",
                    base64::engine::general_purpose::STANDARD.encode(challenge_bytes)
                );
                let mut response = plain(StatusCode::UNAUTHORIZED, "");
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                lock(&shared.stats).unauthorized += 1;
                Logon::Answer(Box::new(response))
            }
            Ok(NtlmMessage::Authenticate(authenticate)) => {
                // NTLM is connection-bound: only a challenge sent on this connection counts.
                let Some(server_challenge) = lock(connection).pending_challenge.take() else {
                    return refuse_ntlm();
                };
                let account = {
                    let state = lock(&shared.state);
                    state
                        .accounts
                        .iter()
                        .find(|account| {
                            account.matches_logon(&authenticate.domain, &authenticate.user)
                                && ntlm::verify_ntlmv2(
                                    &authenticate,
                                    &server_challenge,
                                    secrecy::ExposeSecret::expose_secret(&account.password),
                                )
                        })
                        .map(|account| account.smtp.clone())
                };
                match account {
                    Some(account) => {
                        lock(&shared.stats).ntlm_accepted += 1;
                        lock(connection).authenticated = Some(account.clone());
                        Logon::Account(account)
                    }
                    None => refuse_ntlm(),
                }
            }
            Err(_) => refuse_ntlm(),
        }
    } else if scheme.eq_ignore_ascii_case("Basic") {
        let refuse_basic = || {
            lock(&shared.stats).basic_refused += 1;
            Logon::Answer(Box::new(unauthorized(shared)))
        };
        let state = lock(&shared.state);
        if !state.server.basic {
            drop(state);
            return refuse_basic();
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let Some((user, password)) = decoded.as_deref().and_then(|text| text.split_once(':'))
        else {
            drop(state);
            return refuse_basic();
        };
        let (domain, user) = user.split_once('\\').unwrap_or(("", user));
        let account = state
            .accounts
            .iter()
            .find(|account| {
                use secrecy::ExposeSecret;
                use subtle::ConstantTimeEq;
                account.matches_logon(domain, user)
                    && bool::from(
                        account
                            .password
                            .expose_secret()
                            .as_bytes()
                            .ct_eq(password.as_bytes()),
                    )
            })
            .map(|account| account.smtp.clone());
        drop(state);
        match account {
            Some(account) => {
                lock(&shared.stats).basic_accepted += 1;
                Logon::Account(account)
            }
            None => refuse_basic(),
        }
    } else {
        Logon::Answer(Box::new(unauthorized(shared)))
    }
}

/// FILETIME now: 100 ns intervals since 1601-01-01.
fn filetime_now() -> u64 {
    let since_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    116_444_736_000_000_000 + (since_unix.as_nanos() / 100) as u64
}

/// 401 with the schemes the simulator offers.
fn unauthorized(shared: &Shared) -> Response<SimBody> {
    lock(&shared.stats).unauthorized += 1;
    let (basic, realm) = {
        let state = lock(&shared.state);
        (state.server.basic, state.server.realm.clone())
    };
    let mut response = plain(StatusCode::UNAUTHORIZED, "");
    let headers = response.headers_mut();
    headers.append(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Negotiate"),
    );
    headers.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("NTLM"));
    if basic {
        if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
            headers.append(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

fn soap(answer: Answer) -> Response<SimBody> {
    soap_with(answer.status, SimBody::full(Bytes::from(answer.body)))
}

fn soap_with(status: u16, body: SimBody) -> Response<SimBody> {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}

pub(crate) fn plain(status: StatusCode, text: &str) -> Response<SimBody> {
    let mut response = Response::new(SimBody::full(Bytes::from(text.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<SimBody> {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string());
    let mut response = Response::new(SimBody::full(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A response body that can be sent whole, dribbled over time, or cut off with an error (which
/// makes hyper close the connection mid-response).
pub(crate) struct SimBody {
    chunks: VecDeque<Bytes>,
    /// Pause before each chunk after the first.
    delay: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Fail after the last chunk instead of ending.
    fail_at_end: bool,
    /// The announced length, when exact.
    length: Option<u64>,
    /// Released when the body is dropped (after hyper sent it): a FindItem's find-count charge.
    hold: Option<std::sync::Arc<crate::state::FindCharge>>,
    /// The request in flight on its connection, ended when the body is dropped.
    busy: Option<Busy>,
}

impl SimBody {
    pub(crate) fn full(bytes: Bytes) -> SimBody {
        let length = bytes.len() as u64;
        SimBody {
            chunks: VecDeque::from([bytes]),
            delay: None,
            sleep: None,
            fail_at_end: false,
            length: Some(length),
            hold: None,
            busy: None,
        }
    }

    fn failing_after(partial: Bytes, announced: u64) -> SimBody {
        SimBody {
            chunks: VecDeque::from([partial]),
            delay: None,
            sleep: None,
            fail_at_end: true,
            length: Some(announced),
            hold: None,
            busy: None,
        }
    }

    fn dribbled(bytes: Bytes, total: Duration) -> SimBody {
        const PIECES: usize = 8;
        let piece_len = bytes.len().div_ceil(PIECES).max(1);
        let chunks: VecDeque<Bytes> = (0..bytes.len())
            .step_by(piece_len)
            .map(|start| bytes.slice(start..(start + piece_len).min(bytes.len())))
            .collect();
        let delay = total / (chunks.len().max(1) as u32);
        SimBody {
            length: Some(bytes.len() as u64),
            sleep: Some(Box::pin(tokio::time::sleep(delay))),
            chunks,
            delay: Some(delay),
            fail_at_end: false,
            hold: None,
            busy: None,
        }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if let Some(sleep) = this.sleep.as_mut() {
            if sleep.as_mut().poll(context).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
        match this.chunks.pop_front() {
            Some(chunk) => {
                if let Some(delay) = this.delay.filter(|_| !this.chunks.is_empty()) {
                    this.sleep = Some(Box::pin(tokio::time::sleep(delay)));
                } else if this.fail_at_end && this.chunks.is_empty() {
                    // Pause so hyper flushes the partial response before the connection breaks.
                    this.sleep = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None if this.fail_at_end => {
                this.fail_at_end = false;
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "scripted reset",
                ))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && !self.fail_at_end && self.sleep.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.length {
            Some(length) => SizeHint::with_exact(length),
            None => SizeHint::default(),
        }
    }
}
