//! The Microsoft Graph client: JSON over hyper with the transport's rustls configuration
//! (`transport::tls::client_config`), HTTP/2 where the server offers it by ALPN (one connection,
//! multiplexed), HTTP/1.1 otherwise (a small pool of keep-alive connections); `http://` only
//! for a loopback endpoint (the simulator; `config` refuses others at load).
//!
//! Every request carries the application's bearer token from [`TokenSource`]. Graph's error
//! answers become [`Error::Graph`] with the status, Graph's `error.code`, its message and
//! `Retry-After`:
//! - 401 `InvalidAuthenticationToken`: the token is dropped, a new one fetched, and the request
//!   sent once more (once per call);
//! - 429, 503 and 504 are sent again after `Retry-After` (or a back-off without one) while that
//!   fits in `exchange.retry_budget_secs`, the budget of EWS calls (`exchange::retry`, the
//!   same jitter); then the last answer is the error, throttled, with its `Retry-After`. A POST
//!   is not sent again after a 504 (it may have been applied);
//! - one attempt (connection, request, answer) lasts at most `exchange.timeout_secs`.
//!
//! Concurrency: at most [`MAILBOX_CONCURRENCY`] (4, Exchange Online's per-mailbox limit)
//! requests in flight per mailbox and `graph.max_concurrency` in all, as semaphores; a request
//! takes its mailbox's permit before a global one, so a caller waiting for a busy mailbox holds
//! no global permit. The per-mailbox semaphores live in a map of weak references: an entry
//! lives while a request holds or waits for it, and dead entries are swept whenever the map
//! doubles, so the map is bounded by the mailboxes in flight (plus the last sweep's slack).
//! Permits are released while a retry waits.
//!
//! `$batch` ([`GraphClient::batch`]): at most [`MAX_BATCH`] (20) parts per request (Graph's JSON
//! batching limit), larger lists split. Graph may run the parts of one batch in parallel, so a
//! batch request holds one permit of each part's mailbox (and one global permit per part) for
//! as long as it is in flight, and takes at most 4 parts of one mailbox: the mailbox limit holds
//! across single requests and batches alike, with no `dependsOn` chains that would serialize
//! the parts. Parts answered 429/503 are sent again in a later batch after their `Retry-After`,
//! within the same budget. [`GraphClient::batch_in_sequence`] (calendar push) sends up to 20
//! parts per request as one `dependsOn` chain instead (JSON batching's "fully sequential" form):
//! one permit of the mailbox per batch request, a part answered 424 sent again in the next one.
//! [`GraphClient::get_url`] follows `@odata.nextLink`s, only within the endpoint's origin.
//!
//! Invariant: no token in a log, an error or `Debug`: the `Authorization` header is written in
//! [`GraphClient::attempt`] only, errors hold Graph's code and message, never a header.
//!
//! Entry points: [`GraphClient::new`], [`GraphClient::get`], [`GraphClient::get_url`],
//! [`GraphClient::send`], [`GraphClient::batch_in_sequence`],
//! [`GraphClient::batch`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::Method;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::graph::auth::{AccessToken, TokenSource};
use crate::graph::error::{Error, is_retried, parse_error_body, parse_retry_after};

/// Exchange Online's limit of concurrent requests per mailbox (MailboxConcurrency).
pub const MAILBOX_CONCURRENCY: usize = 4;

/// Graph's limit of requests in one JSON batch.
pub const MAX_BATCH: usize = 20;

/// The largest answer read (a permission list of a few hundred entries is far smaller).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Idle HTTP/1.1 connections kept.
const MAX_IDLE_CONNECTIONS: usize = 64;

/// An idle HTTP/1.1 connection older than this is closed, not reused (under the usual
/// keep-alive timeouts of front ends).
const MAX_IDLE: Duration = Duration::from_secs(50);

/// What the client needs from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `graph.endpoint` (the base: `https://graph.microsoft.com`); requests go to `/v1.0/...`.
    pub endpoint: url::Url,
    /// `graph.max_concurrency`.
    pub max_concurrency: usize,
    /// `exchange.timeout_secs`: one attempt, connection included.
    pub timeout: Duration,
    /// `exchange.retry_budget_secs`: how long throttled requests are retried.
    pub retry_budget: Duration,
    /// `tls.ca_file`.
    pub ca_file: Option<std::path::PathBuf>,
    /// `tls.danger_accept_invalid_certs` (lab only).
    pub accept_invalid_certs: bool,
}

impl Settings {
    /// The settings of a loaded configuration's `[graph]`, `[exchange]` and `[tls]`.
    pub fn from_config(
        graph: &crate::config::GraphConfig,
        exchange: &crate::config::ExchangeConfig,
        tls: &crate::config::TlsConfig,
    ) -> Settings {
        Settings {
            endpoint: graph.endpoint.clone(),
            max_concurrency: graph.max_concurrency,
            timeout: Duration::from_secs(exchange.timeout_secs),
            retry_budget: Duration::from_secs(exchange.retry_budget_secs),
            ca_file: tls.ca_file.clone(),
            accept_invalid_certs: tls.danger_accept_invalid_certs,
        }
    }
}

/// One part of a `$batch`: a request about `mailbox` to `path` (segments under `/v1.0`).
#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub mailbox: String,
    pub method: Method,
    pub path: Vec<String>,
    pub body: Option<serde_json::Value>,
}

/// One part of a `$batch` with its own query string and headers (`If-Match`, `Prefer`): what
/// [`GraphClient::batch_in_sequence`] sends.
#[derive(Debug, Clone)]
pub struct BatchPart {
    pub mailbox: String,
    pub method: Method,
    pub path: Vec<String>,
    /// The query string, already encoded (without `?`).
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<serde_json::Value>,
}

impl From<&BatchRequest> for BatchPart {
    fn from(request: &BatchRequest) -> BatchPart {
        BatchPart {
            mailbox: request.mailbox.clone(),
            method: request.method.clone(),
            path: request.path.clone(),
            query: None,
            headers: Vec::new(),
            body: request.body.clone(),
        }
    }
}

/// Counters of the client, for tests and metrics.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    token_refreshes: AtomicU64,
    batches: AtomicU64,
}

/// The per-mailbox semaphores, held weakly (see the module doc).
struct MailboxPermits {
    map: Mutex<(HashMap<String, Weak<Semaphore>>, usize)>,
}

impl MailboxPermits {
    fn semaphore(&self, mailbox: &str) -> Arc<Semaphore> {
        let key = mailbox.to_ascii_lowercase();
        let mut guard = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, sweep_at) = &mut *guard;
        if let Some(semaphore) = map.get(&key).and_then(Weak::upgrade) {
            return semaphore;
        }
        let semaphore = Arc::new(Semaphore::new(MAILBOX_CONCURRENCY));
        map.insert(key, Arc::downgrade(&semaphore));
        if map.len() >= *sweep_at {
            map.retain(|_, entry| entry.strong_count() > 0);
            *sweep_at = (map.len() * 2).max(64);
        }
        semaphore
    }

    fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .len()
    }
}

type H1 = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
type H2 = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

/// The open connections: one HTTP/2 connection when the server offers it, else idle HTTP/1.1
/// ones.
#[derive(Default)]
struct Connections {
    h2: tokio::sync::Mutex<Option<H2>>,
    /// The server did not offer h2: HTTP/1.1 from now on.
    no_h2: std::sync::atomic::AtomicBool,
    idle: Mutex<Vec<(H1, Instant)>>,
}

enum Connection {
    H1(H1),
    H2(H2),
}

/// One answer as read.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: Bytes,
}

/// The Graph client (see the module doc).
pub struct GraphClient {
    /// `{endpoint}` with the path `/v1.0`.
    base: url::Url,
    tokens: Arc<TokenSource>,
    tls: Option<Arc<rustls::ClientConfig>>,
    global: Arc<Semaphore>,
    max_concurrency: usize,
    mailboxes: MailboxPermits,
    connections: Connections,
    timeout: Duration,
    retry_budget: Duration,
    counters: Counters,
    /// The application's counters for `/metrics` (the token source's).
    stats: Arc<crate::graph::stats::Stats>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("GraphClient")
            .field("base", &self.base.as_str())
            .field("max_concurrency", &self.max_concurrency)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// A client for `settings`, authenticated by `tokens`. Opens nothing yet.
    ///
    /// # Errors
    /// [`Error::Unreachable`] when the TLS configuration cannot be built (an unusable
    /// `tls.ca_file`) or the endpoint cannot take a path.
    pub fn new(settings: Settings, tokens: Arc<TokenSource>) -> Result<GraphClient, Error> {
        let unreachable = |reason: String| Error::Unreachable {
            url: settings.endpoint.to_string(),
            reason,
        };
        let loopback = match settings.endpoint.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match settings.endpoint.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(unreachable(
                    "graph.endpoint must be https:// (http:// only for a loopback host)".to_owned(),
                ));
            }
        }
        let tls = if settings.endpoint.scheme() == "https" {
            let mut config = crate::transport::tls::client_config(
                settings.ca_file.as_deref(),
                settings.accept_invalid_certs,
            )
            .map_err(|error| unreachable(error.to_string()))?;
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Some(Arc::new(config))
        } else {
            None
        };
        let mut base = settings.endpoint.clone();
        base.path_segments_mut()
            .map_err(|()| unreachable("the endpoint cannot be a base URL".to_owned()))?
            .pop_if_empty()
            .push("v1.0");
        let max_concurrency = settings.max_concurrency.max(1);
        Ok(GraphClient {
            base,
            tls,
            global: Arc::new(Semaphore::new(max_concurrency)),
            max_concurrency,
            mailboxes: MailboxPermits {
                map: Mutex::new((HashMap::new(), 64)),
            },
            connections: Connections::default(),
            timeout: settings.timeout,
            retry_budget: settings.retry_budget,
            counters: Counters::default(),
            stats: tokens.stats().clone(),
            tokens,
        })
    }

    /// HTTP requests sent to Graph (a `$batch` counts once; retries count).
    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// Requests sent again after 429, 503 or 504.
    pub fn retries(&self) -> u64 {
        self.counters.retries.load(Ordering::Relaxed)
    }

    /// Tokens dropped after Graph answered `InvalidAuthenticationToken`.
    pub fn token_refreshes(&self) -> u64 {
        self.counters.token_refreshes.load(Ordering::Relaxed)
    }

    /// `$batch` requests sent.
    pub fn batches(&self) -> u64 {
        self.counters.batches.load(Ordering::Relaxed)
    }

    /// Entries in the per-mailbox semaphore map (bounded by the mailboxes in flight).
    pub fn mailbox_entries(&self) -> usize {
        self.mailboxes.len()
    }

    /// The URL of `path` (segments, each percent-encoded) under `/v1.0`.
    pub fn url(&self, path: &[&str]) -> url::Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(path);
        }
        url
    }

    /// GETs `path` about `mailbox` and decodes the JSON answer.
    ///
    /// # Errors
    /// [`Error`] as the module doc says; [`Error::Unusable`] when the answer is not `T`.
    pub async fn get<T: DeserializeOwned>(&self, mailbox: &str, path: &[&str]) -> Result<T, Error> {
        let body = self.send(mailbox, Method::GET, path, None).await?;
        serde_json::from_slice(&body).map_err(|error| Error::Unusable {
            reason: format!("{}: {error}", path.last().copied().unwrap_or("answer")),
        })
    }

    /// GETs `url` (a `path` with a query string, or an `@odata.nextLink`) about `mailbox` and
    /// decodes the JSON answer. A URL outside the endpoint's origin and `/v1.0` is refused
    /// before anything is sent, so a link in an answer never receives the token.
    ///
    /// # Errors
    /// As [`GraphClient::get`]; [`Error::Unusable`] for a URL elsewhere.
    pub async fn get_url<T: DeserializeOwned>(
        &self,
        mailbox: &str,
        url: &url::Url,
    ) -> Result<T, Error> {
        if url.origin() != self.base.origin() || !url.path().starts_with(self.base.path()) {
            return Err(Error::Unusable {
                reason: "a link outside the Graph endpoint".to_owned(),
            });
        }
        let answer = self
            .send_retried(&[(mailbox.to_owned(), 1)], &Method::GET, url, None)
            .await?;
        serde_json::from_slice(&answer.body).map_err(|error| Error::Unusable {
            reason: format!("{}: {error}", url.path()),
        })
    }

    /// Sends `method` to `path` about `mailbox` with a JSON `body`; the answer's bytes (empty
    /// for 204).
    ///
    /// # Errors
    /// [`Error`] as the module doc says.
    pub async fn send(
        &self,
        mailbox: &str,
        method: Method,
        path: &[&str],
        body: Option<serde_json::Value>,
    ) -> Result<Bytes, Error> {
        let url = self.url(path);
        let body = body.map(|value| Bytes::from(value.to_string()));
        let answer = self
            .send_retried(&[(mailbox.to_owned(), 1)], &method, &url, body)
            .await?;
        Ok(answer.body)
    }

    /// Sends `requests` as JSON batches (see the module doc); one result per request, in the
    /// order given: the part's JSON body (`null` when it had none).
    ///
    /// # Errors
    /// The outer error is a failure of a batch request as a whole (token, connection,
    /// throttling of the `$batch` request itself past the budget).
    pub async fn batch(
        &self,
        requests: &[BatchRequest],
    ) -> Result<Vec<Result<serde_json::Value, Error>>, Error> {
        let parts: Vec<BatchPart> = requests.iter().map(BatchPart::from).collect();
        self.run_batch(&parts, false).await
    }

    /// Sends `parts` as JSON batches of up to 20 parts run one after another: each part of a
    /// batch request `dependsOn` the one before it (JSON batching's "fully sequential" form),
    /// so a batch holds one permit of its mailbox, whatever its size, and 20 writes to one
    /// mailbox are one request. A part answered 424 (one before it failed) was not run and is
    /// sent again in the next batch request; otherwise as [`GraphClient::batch`].
    ///
    /// # Errors
    /// As [`GraphClient::batch`].
    pub async fn batch_in_sequence(
        &self,
        parts: &[BatchPart],
    ) -> Result<Vec<Result<serde_json::Value, Error>>, Error> {
        self.run_batch(parts, true).await
    }

    async fn run_batch(
        &self,
        requests: &[BatchPart],
        in_sequence: bool,
    ) -> Result<Vec<Result<serde_json::Value, Error>>, Error> {
        let deadline = Instant::now() + self.retry_budget;
        let mut results: Vec<Option<Result<serde_json::Value, Error>>> =
            (0..requests.len()).map(|_| None).collect();
        let mut attempts = vec![0u32; requests.len()];
        // (index, not before)
        let mut pending: Vec<(usize, Instant)> =
            (0..requests.len()).map(|i| (i, Instant::now())).collect();
        let mut refreshed = false;
        let base_path = self.base.path().to_owned();
        let chunk_size = if in_sequence {
            MAX_BATCH
        } else {
            MAX_BATCH.min(self.max_concurrency)
        };
        while !pending.is_empty() {
            let now = Instant::now();
            if let Some(earliest) = pending.iter().map(|(_, at)| *at).min() {
                if earliest > now {
                    self.stats.record_wait(earliest - now);
                    tokio::time::sleep_until(earliest).await;
                }
            }
            let now = Instant::now();
            // The next chunk: due parts in order, at most 20, at most 4 per mailbox.
            let mut chunk: Vec<usize> = Vec::new();
            let mut per_mailbox: BTreeMap<String, u32> = BTreeMap::new();
            pending.retain(|(index, at)| {
                if chunk.len() >= chunk_size || *at > now {
                    return true;
                }
                let count = per_mailbox
                    .entry(requests[*index].mailbox.to_ascii_lowercase())
                    .or_insert(0);
                if in_sequence {
                    *count = 1;
                } else if *count as usize >= MAILBOX_CONCURRENCY {
                    return true;
                } else {
                    *count += 1;
                }
                chunk.push(*index);
                false
            });
            let parts: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .map(|(position, index)| {
                    let request = &requests[*index];
                    let segments: Vec<&str> = request.path.iter().map(String::as_str).collect();
                    let url = self.url(&segments);
                    let mut relative = url
                        .path()
                        .strip_prefix(base_path.as_str())
                        .unwrap_or(url.path())
                        .to_owned();
                    if let Some(query) = &request.query {
                        relative.push('?');
                        relative.push_str(query);
                    }
                    let mut part = serde_json::json!({
                        "id": index.to_string(),
                        "method": request.method.as_str(),
                        "url": relative,
                    });
                    let mut headers = serde_json::Map::new();
                    for (name, value) in &request.headers {
                        headers.insert(name.clone(), serde_json::Value::String(value.clone()));
                    }
                    if let Some(body) = &request.body {
                        part["body"] = body.clone();
                        headers.insert(
                            "Content-Type".to_owned(),
                            serde_json::Value::String("application/json".to_owned()),
                        );
                    }
                    if !headers.is_empty() {
                        part["headers"] = serde_json::Value::Object(headers);
                    }
                    if in_sequence && position > 0 {
                        part["dependsOn"] = serde_json::json!([chunk[position - 1].to_string()]);
                    }
                    part
                })
                .collect();
            let envelope = serde_json::json!({ "requests": parts });
            let permits: Vec<(String, u32)> = per_mailbox.into_iter().collect();
            self.counters.batches.fetch_add(1, Ordering::Relaxed);
            let answer = self
                .send_retried(
                    &permits,
                    &Method::POST,
                    &self.url(&["$batch"]),
                    Some(Bytes::from(envelope.to_string())),
                )
                .await?;
            let responses = read_batch(&answer.body)?;
            let mut invalid_token = false;
            for index in chunk {
                attempts[index] += 1;
                let Some(part) = responses.get(&index.to_string()) else {
                    results[index] = Some(Err(Error::Unusable {
                        reason: format!("the batch answer lacks part {index}"),
                    }));
                    continue;
                };
                if (200..300).contains(&part.status) {
                    results[index] = Some(Ok(part.body.clone()));
                    continue;
                }
                if in_sequence && part.status == 424 {
                    // Not run: a part before it in the sequence failed.
                    attempts[index] -= 1;
                    pending.push((index, Instant::now()));
                    continue;
                }
                let (code, message) = part_error(&part.body);
                if part.status == 401 && code == "InvalidAuthenticationToken" && !refreshed {
                    invalid_token = true;
                    pending.push((index, Instant::now()));
                    continue;
                }
                let error = Error::Graph {
                    status: part.status,
                    code,
                    message,
                    retry_after: part.retry_after,
                    attempts: attempts[index],
                };
                if is_retried(part.status)
                    && !(part.status == 504 && requests[index].method == Method::POST)
                {
                    let wait = crate::exchange::retry::delay(
                        part.retry_after,
                        attempts[index],
                        &mut rand::thread_rng(),
                    );
                    if Instant::now() + wait <= deadline {
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        self.stats.record_resend();
                        pending.push((index, Instant::now() + wait));
                        continue;
                    }
                }
                results[index] = Some(Err(error));
            }
            if invalid_token {
                refreshed = true;
                self.counters
                    .token_refreshes
                    .fetch_add(1, Ordering::Relaxed);
                let token = self.tokens.token().await.map_err(Error::Auth)?;
                self.tokens.invalidate(&token).await;
            }
            pending.sort_by_key(|(index, _)| *index);
        }
        Ok(results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    Err(Error::Unusable {
                        reason: "a batch part was never answered".to_owned(),
                    })
                })
            })
            .collect())
    }

    /// Sends one request, holding `permits` (mailbox, count) and as many global permits while
    /// it is in flight; retries as the module doc says.
    async fn send_retried(
        &self,
        permits: &[(String, u32)],
        method: &Method,
        url: &url::Url,
        body: Option<Bytes>,
    ) -> Result<Answer, Error> {
        let deadline = Instant::now() + self.retry_budget;
        let mut attempts: u32 = 0;
        let mut refreshed = false;
        loop {
            let token = self.tokens.token().await.map_err(Error::Auth)?;
            attempts += 1;
            let operation = crate::graph::stats::operation_of(url);
            let answer = {
                let _held = self.acquire(permits).await;
                let _in_flight = self.stats.in_flight();
                self.counters.requests.fetch_add(1, Ordering::Relaxed);
                self.attempt(method, url, body.clone(), &token).await
            };
            let answer = match answer {
                Ok(answer) => answer,
                Err(error) => {
                    self.stats.record(operation, "transport_error".to_owned());
                    return Err(error);
                }
            };
            if (200..300).contains(&answer.status) {
                self.stats.record(operation, "answered".to_owned());
                return Ok(answer);
            }
            let (code, message) = parse_error_body(&answer.body).unwrap_or_default();
            self.stats.record(
                operation,
                crate::graph::stats::outcome_of(answer.status, &code),
            );
            tracing::debug!(
                method = %method,
                path = url.path(),
                status = answer.status,
                code = %code,
                "graph refused"
            );
            if answer.status == 401 && code == "InvalidAuthenticationToken" && !refreshed {
                refreshed = true;
                self.counters
                    .token_refreshes
                    .fetch_add(1, Ordering::Relaxed);
                self.tokens.invalidate(&token).await;
                continue;
            }
            let error = Error::Graph {
                status: answer.status,
                code,
                message,
                retry_after: answer.retry_after,
                attempts,
            };
            if !is_retried(answer.status) || (answer.status == 504 && *method == Method::POST) {
                return Err(error);
            }
            let wait = crate::exchange::retry::delay(
                answer.retry_after,
                attempts,
                &mut rand::thread_rng(),
            );
            if Instant::now() + wait > deadline {
                tracing::warn!(attempts, error = %error, "graph retry budget spent");
                return Err(error);
            }
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            self.stats.record_retry(wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// The mailbox permits (in the order of their names, so two callers never wait for each
    /// other's) and then the global ones.
    async fn acquire(&self, permits: &[(String, u32)]) -> Vec<OwnedSemaphorePermit> {
        let mut sorted: Vec<&(String, u32)> = permits.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut held = Vec::with_capacity(sorted.len() + 1);
        let mut total: u32 = 0;
        for (mailbox, count) in sorted {
            let semaphore = self.mailboxes.semaphore(mailbox);
            let count = (*count).min(MAILBOX_CONCURRENCY as u32);
            total += count;
            if let Ok(permit) = semaphore.acquire_many_owned(count).await {
                held.push(permit);
            }
        }
        let total = total.clamp(1, self.max_concurrency as u32);
        if let Ok(permit) = self.global.clone().acquire_many_owned(total).await {
            held.push(permit);
        }
        held
    }

    /// One attempt within `exchange.timeout_secs`: a connection (reused or new), the request,
    /// the answer. A reused HTTP/1.1 connection that fails before an answer is replaced once for
    /// a request that is not a POST.
    async fn attempt(
        &self,
        method: &Method,
        url: &url::Url,
        body: Option<Bytes>,
        token: &AccessToken,
    ) -> Result<Answer, Error> {
        let secs = self.timeout.as_secs();
        tokio::time::timeout(self.timeout, async {
            let (connection, reused) = self.connection(url).await?;
            match self
                .exchange(connection, method, url, body.clone(), token)
                .await
            {
                Err(error) if reused && *method != Method::POST => {
                    tracing::debug!(%error, "a reused graph connection failed; opening a new one");
                    let (connection, _) = self.open(url).await?;
                    self.exchange(connection, method, url, body, token).await
                }
                other => other,
            }
        })
        .await
        .map_err(|_| Error::Timeout { secs })?
    }

    /// A connection to send on: the HTTP/2 one, an idle HTTP/1.1 one, or a new one; and
    /// whether it was reused.
    async fn connection(&self, url: &url::Url) -> Result<(Connection, bool), Error> {
        if self.tls.is_some() && !self.connections.no_h2.load(Ordering::Relaxed) {
            let mut h2 = self.connections.h2.lock().await;
            if let Some(sender) = h2.as_ref().filter(|sender| !sender.is_closed()) {
                return Ok((Connection::H2(sender.clone()), true));
            }
            // One caller opens the connection the others will share.
            let (connection, _) = self.open(url).await?;
            if let Connection::H2(sender) = &connection {
                *h2 = Some(sender.clone());
            }
            return Ok((connection, false));
        }
        let reused = {
            let mut idle = self
                .connections
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            idle.retain(|(sender, since)| !sender.is_closed() && now - *since < MAX_IDLE);
            idle.pop()
        };
        match reused {
            Some((sender, _)) => Ok((Connection::H1(sender), true)),
            None => self.open(url).await,
        }
    }

    /// Opens a new connection (TLS with ALPN `h2`, `http/1.1` on https).
    async fn open(&self, url: &url::Url) -> Result<(Connection, bool), Error> {
        let unreachable = |reason: String| Error::Unreachable {
            url: self.base.to_string(),
            reason,
        };
        let host = match url.host() {
            Some(url::Host::Domain(domain)) => domain.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(unreachable("no host".to_owned())),
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|error| unreachable(error.to_string()))?;
        let _ = stream.set_nodelay(true);
        let Some(tls) = &self.tls else {
            let sender = handshake_h1(stream).await.map_err(unreachable)?;
            return Ok((Connection::H1(sender), false));
        };
        let name = rustls::pki_types::ServerName::try_from(host)
            .map_err(|error| unreachable(error.to_string()))?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, stream)
            .await
            .map_err(|error| unreachable(format!("TLS: {error}")))?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        if h2 {
            let (sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                    .await
                    .map_err(|error| unreachable(error.to_string()))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok((Connection::H2(sender), false))
        } else {
            self.connections.no_h2.store(true, Ordering::Relaxed);
            let sender = handshake_h1(stream).await.map_err(unreachable)?;
            Ok((Connection::H1(sender), false))
        }
    }

    /// Sends the request on `connection` and reads the answer; an HTTP/1.1 connection goes back
    /// to the idle list after a whole answer.
    async fn exchange(
        &self,
        connection: Connection,
        method: &Method,
        url: &url::Url,
        body: Option<Bytes>,
        token: &AccessToken,
    ) -> Result<Answer, Error> {
        let unreachable = |reason: String| Error::Unreachable {
            url: self.base.to_string(),
            reason,
        };
        let h2 = matches!(connection, Connection::H2(_));
        let target = if h2 {
            url.as_str().to_owned()
        } else {
            match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            }
        };
        let mut builder = hyper::Request::builder()
            .method(method.clone())
            .uri(target)
            .header(hyper::header::ACCEPT, "application/json")
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", token.expose()),
            );
        if !h2 {
            builder = builder.header(hyper::header::HOST, url.authority());
        }
        if body.is_some() {
            builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|error| Error::Unusable {
                reason: format!("request: {error}"),
            })?;
        let (response, h1) = match connection {
            Connection::H2(mut sender) => {
                sender
                    .ready()
                    .await
                    .map_err(|error| unreachable(error.to_string()))?;
                let response = sender
                    .send_request(request)
                    .await
                    .map_err(|error| unreachable(error.to_string()))?;
                (response, None)
            }
            Connection::H1(mut sender) => {
                sender
                    .ready()
                    .await
                    .map_err(|error| unreachable(error.to_string()))?;
                let response = sender
                    .send_request(request)
                    .await
                    .map_err(|error| unreachable(error.to_string()))?;
                (response, Some(sender))
            }
        };
        let status = response.status().as_u16();
        let retry_after = parse_retry_after(
            response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok()),
        );
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|error| unreachable(format!("reading the answer: {error}")))?
            .to_bytes();
        if let Some(sender) = h1 {
            let mut idle = self
                .connections
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < MAX_IDLE_CONNECTIONS && !sender.is_closed() {
                idle.push((sender, Instant::now()));
            }
        }
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}

async fn handshake_h1<T>(io: T) -> Result<H1, String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// One part of a batch answer.
struct Part {
    status: u16,
    retry_after: Option<Duration>,
    body: serde_json::Value,
}

/// The parts of a `$batch` answer by id (`{"responses": [{"id", "status", "headers", "body"}]}`).
fn read_batch(body: &[u8]) -> Result<HashMap<String, Part>, Error> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        responses: Vec<Response>,
    }
    #[derive(serde::Deserialize)]
    struct Response {
        id: String,
        status: u16,
        #[serde(default)]
        headers: HashMap<String, serde_json::Value>,
        #[serde(default)]
        body: serde_json::Value,
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|error| Error::Unusable {
        reason: format!("the batch answer: {error}"),
    })?;
    Ok(envelope
        .responses
        .into_iter()
        .map(|response| {
            let retry_after = response
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
                .and_then(|(_, value)| match value {
                    serde_json::Value::String(text) => parse_retry_after(Some(text)),
                    serde_json::Value::Number(number) => number.as_u64().map(Duration::from_secs),
                    _ => None,
                });
            (
                response.id,
                Part {
                    status: response.status,
                    retry_after,
                    body: response.body,
                },
            )
        })
        .collect())
}

/// Graph's error code and message inside a batch part's body.
fn part_error(body: &serde_json::Value) -> (String, String) {
    parse_error_body(body.to_string().as_bytes()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailbox_map_forgets_mailboxes_no_request_holds() {
        let permits = MailboxPermits {
            map: Mutex::new((HashMap::new(), 64)),
        };
        let held = permits.semaphore("kept@uni.example");
        for index in 0..10_000 {
            let _ = permits.semaphore(&format!("user{index}@uni.example"));
        }
        assert!(permits.len() <= 130, "{} entries", permits.len());
        assert!(Arc::ptr_eq(&held, &permits.semaphore("KEPT@uni.example")));
    }

    #[test]
    fn a_batch_answer_gives_each_part_its_status_body_and_retry_after() {
        let body = br#"{"responses":[
            {"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"canEdit":true}},
            {"id":"0","status":429,"headers":{"Retry-After":"3"},"body":{"error":{"code":"ApplicationThrottled","message":"slow down"}}}]}"#;
        let parts = read_batch(body).unwrap();
        assert_eq!(parts["1"].status, 200);
        assert_eq!(parts["1"].body["canEdit"], true);
        assert_eq!(parts["0"].retry_after, Some(Duration::from_secs(3)));
        assert_eq!(
            part_error(&parts["0"].body),
            ("ApplicationThrottled".to_owned(), "slow down".to_owned())
        );
    }
}
