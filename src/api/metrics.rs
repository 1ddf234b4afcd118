//! `/metrics`: Prometheus (OpenMetrics) text through `prometheus-client`.
//!
//! Request counts live here, labelled by the matched route template (never the raw path, so a
//! mailbox address never becomes a label), method and status. EWS calls, NTLM handshakes,
//! connections and readiness are read at scrape time from `exchange` and the readiness loop,
//! which keep their own counters, and so are each account's state (healthy, auth_failed,
//! paused), the retry-loop counters and batch progress. With `[graph]`, the application's Graph
//! counters (`graph::stats::Stats`, shared by its token source and clients) are read the same
//! way, and their families appear only then.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::api::AppState;
use crate::delegation::batch::Progress;
use crate::exchange::AccountStatus;

type Labels = Vec<(String, String)>;

/// The results a push is counted under.
const PUSH_RESULTS: [&str; 5] = ["created", "updated", "unchanged", "deleted", "failed"];

/// The API's own counters.
pub(crate) struct Metrics {
    requests: Family<Labels, Counter>,
    /// Calendar pushes by result: `created`, `updated`, `unchanged`, `deleted`, `failed`.
    pushes: Family<Labels, Counter>,
    /// Progress of every batch this process ran or runs (shared with the batch drivers).
    pub(crate) batch: Arc<Progress>,
    /// The server's connection counters (shared with `server::run`).
    pub(crate) server: Arc<crate::api::server::Stats>,
    /// The backend pushes are counted under (`ews` or `graph`).
    push_backend: &'static str,
    /// The application's Graph counters, with `[graph]` (`AppState::observe_graph`).
    pub(crate) graph: std::sync::OnceLock<Arc<crate::graph::stats::Stats>>,
}

impl Metrics {
    /// The counters of an API whose pushes `push_backend` (a `CalendarBackend::name`) serves.
    /// Every push result starts at zero, so the series exist (and `rate()` works) before the
    /// first push.
    pub(crate) fn new(push_backend: &str) -> Metrics {
        let metrics = Metrics {
            requests: Family::default(),
            pushes: Family::default(),
            batch: Arc::default(),
            server: Arc::default(),
            push_backend: backend_label(push_backend),
            graph: std::sync::OnceLock::new(),
        };
        for result in PUSH_RESULTS {
            metrics.record_push(result, 0);
        }
        metrics
    }

    /// Counts one answered request. `route` is a route template (or `unmatched`), never a raw
    /// path; a method outside HTTP's standard set is counted as `OTHER`, so no client can add
    /// series.
    pub(crate) fn record_request(&self, route: &str, method: &http::Method, status: u16) {
        self.requests
            .get_or_create(&vec![
                ("route".to_owned(), route.to_owned()),
                ("method".to_owned(), method_label(method).to_owned()),
                ("status".to_owned(), status.to_string()),
            ])
            .inc();
    }

    /// Counts `count` pushes with `result` (`created`, `updated`, `unchanged`, `deleted`,
    /// `failed`).
    pub(crate) fn record_push(&self, result: &str, count: u64) {
        self.record_push_on(self.push_backend, result, count);
    }

    /// [`Metrics::record_push`] for pushes that `backend` (a `CalendarBackend::name`) served:
    /// with routing, the side that answered.
    pub(crate) fn record_push_on(&self, backend: &str, result: &str, count: u64) {
        self.pushes
            .get_or_create(&vec![
                ("backend".to_owned(), backend_label(backend).to_owned()),
                ("result".to_owned(), result.to_owned()),
            ])
            .inc_by(count);
    }
}

/// The `backend` label of a backend's name: `graph`, or `ews` (the in-memory test backend
/// stands in for EWS), so the label has two values whatever the name.
fn backend_label(name: &str) -> &'static str {
    if name == "graph" { "graph" } else { "ews" }
}

/// The label of a method: the standard ones by name, any other as `OTHER`.
fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    STANDARD
        .iter()
        .find(|(standard, _)| standard == method)
        .map_or("OTHER", |(_, label)| *label)
}

/// The text of one scrape.
pub(crate) fn render(state: &AppState) -> String {
    let mut registry = Registry::with_prefix("ews_connector");
    registry.register(
        "http_requests",
        "API requests by matched route, method and status",
        state.inner.metrics.requests.clone(),
    );

    registry.register(
        "pushes",
        "calendar pushes by backend (ews, graph) and result (created, updated, unchanged, deleted, failed)",
        state.inner.metrics.pushes.clone(),
    );

    let exchange = &state.inner.exchange;
    let calls = Family::<Labels, Counter>::default();
    for (operation, outcome, count) in exchange.call_counts() {
        calls
            .get_or_create(&vec![
                ("operation".to_owned(), operation.to_owned()),
                ("outcome".to_owned(), outcome),
            ])
            .inc_by(count);
    }
    registry.register(
        "ews_calls",
        "EWS calls by operation and outcome (response code or failure)",
        calls,
    );

    let stats = exchange.transport_stats();
    let handshakes = Counter::<u64>::default();
    handshakes.inc_by(stats.handshakes);
    registry.register("ntlm_handshakes", "NTLM handshakes completed", handshakes);
    let connections = Counter::<u64>::default();
    connections.inc_by(stats.connections_opened);
    registry.register(
        "exchange_connections_opened",
        "TCP connections opened to Exchange",
        connections,
    );
    let auth_failures = Counter::<u64>::default();
    auth_failures.inc_by(stats.auth_failures);
    registry.register(
        "exchange_auth_failures",
        "requests that Exchange refused for the service account's credentials",
        auth_failures,
    );

    let ready = Family::<Labels, Gauge>::default();
    let accounts = exchange.accounts();
    for (account, is_ready) in accounts.iter().zip(state.inner.readiness.ready_accounts()) {
        ready
            .get_or_create(&vec![("account".to_owned(), account.smtp.clone())])
            .set(i64::from(is_ready));
    }
    registry.register(
        "ready",
        "1 when Exchange accepted the service account within the last 60 s",
        ready,
    );

    let account_state = Family::<Labels, Gauge>::default();
    let in_flight = Family::<Labels, Gauge>::default();
    let limit = Family::<Labels, Gauge>::default();
    for account in exchange.account_states() {
        let current = match account.status {
            AccountStatus::Healthy => "healthy",
            AccountStatus::AuthFailed { .. } => "auth_failed",
            AccountStatus::Paused { .. } => "paused",
        };
        for name in ["healthy", "auth_failed", "paused"] {
            account_state
                .get_or_create(&vec![
                    ("account".to_owned(), account.smtp.clone()),
                    ("state".to_owned(), name.to_owned()),
                ])
                .set(i64::from(name == current));
        }
        in_flight
            .get_or_create(&vec![("account".to_owned(), account.smtp.clone())])
            .set(account.in_flight as i64);
        limit
            .get_or_create(&vec![("account".to_owned(), account.smtp.clone())])
            .set(account.concurrency_limit as i64);
    }
    registry.register(
        "account_state",
        "1 for the state each service account is in now (healthy, auth_failed, paused)",
        account_state,
    );
    registry.register(
        "account_requests_in_flight",
        "EWS requests of each service account in flight now",
        in_flight,
    );
    registry.register(
        "account_concurrency_limit",
        "EWS requests each service account may have in flight now (below max_concurrency_per_account while Exchange answers ErrorExceededConnectionCount)",
        limit,
    );

    let exchange_stats = exchange.stats();
    let counters = [
        (
            "ews_retries",
            "EWS attempts sent again after a first one",
            exchange_stats.retries,
        ),
        (
            "throttle_waits",
            "waits on a paused account or a back-off",
            exchange_stats.throttle_waits,
        ),
        (
            "throttle_wait_milliseconds",
            "time spent in those waits",
            exchange_stats.throttle_wait_ms,
        ),
        (
            "ews_busy_answers",
            "answers saying slow down (ErrorServerBusy, HTTP 503)",
            exchange_stats.busy_answers,
        ),
        (
            "failovers",
            "calls served by another account than their first because it was refused",
            exchange_stats.failovers,
        ),
        (
            "retry_budget_exhausted",
            "calls that ran out of retry budget",
            exchange_stats.budget_exhausted,
        ),
    ];
    for (name, help, value) in counters {
        let counter = Counter::<u64>::default();
        counter.inc_by(value);
        registry.register(name, help, counter);
    }

    let progress = &state.inner.metrics.batch;
    let batch_queued = Counter::<u64>::default();
    batch_queued.inc_by(progress.queued.load(Ordering::Relaxed));
    registry.register(
        "batch_mailboxes_queued",
        "mailboxes accepted into batches (after deduplication)",
        batch_queued,
    );
    let batch_done = Counter::<u64>::default();
    batch_done.inc_by(progress.done.load(Ordering::Relaxed));
    registry.register(
        "batch_mailboxes_done",
        "batch lines produced (successes and failures)",
        batch_done,
    );
    let batch_in_flight = Gauge::<i64>::default();
    batch_in_flight.set(progress.in_flight.load(Ordering::Relaxed) as i64);
    registry.register(
        "batch_mailboxes_in_flight",
        "batch mailboxes being worked on now",
        batch_in_flight,
    );

    let server = &state.inner.metrics.server;
    let open = Gauge::<i64>::default();
    open.set(server.open.load(Ordering::Relaxed) as i64);
    registry.register(
        "http_connections_open",
        "client connections open now (at most api.max_connections)",
        open,
    );
    let server_counters = [
        (
            "http_connections_accepted",
            "client connections accepted",
            &server.accepted,
        ),
        (
            "http_connections_evicted",
            "connections without a request in flight closed at the cap to make room for a new one",
            &server.evicted,
        ),
        (
            "http_connections_idle_closed",
            "keep-alive connections closed after api.idle_timeout_secs without a request",
            &server.idle_closed,
        ),
    ];
    for (name, help, value) in server_counters {
        let counter = Counter::<u64>::default();
        counter.inc_by(value.load(Ordering::Relaxed));
        registry.register(name, help, counter);
    }
    let refused = Family::<Labels, Counter>::default();
    for (code, count) in crate::api::server::REFUSAL_CODES
        .iter()
        .zip(&server.refused)
    {
        refused
            .get_or_create(&vec![("code".to_owned(), code.as_str().to_owned())])
            .inc_by(count.load(Ordering::Relaxed));
    }
    registry.register(
        "http_heads_refused",
        "request heads refused before routing, by problem code (request_timeout: not complete within api.header_read_timeout_secs)",
        refused,
    );

    if let Some(graph) = state.inner.metrics.graph.get() {
        register_graph(&mut registry, graph);
    }

    let mut text = String::new();
    if encode(&mut text, &registry).is_err() {
        text.clear();
    }
    text
}

/// The Graph families (with `[graph]` only).
fn register_graph(registry: &mut Registry, graph: &crate::graph::stats::Stats) {
    let requests = Family::<Labels, Counter>::default();
    for (operation, outcome, count) in graph.requests() {
        requests
            .get_or_create(&vec![
                ("operation".to_owned(), operation.to_owned()),
                ("outcome".to_owned(), outcome),
            ])
            .inc_by(count);
    }
    registry.register(
        "graph_requests",
        "Microsoft Graph and token requests by operation and outcome (answered, Graph error code, http_<status>, transport_error)",
        requests,
    );
    let counts = graph.counts();
    let counters = [
        (
            "graph_retries",
            "Graph requests sent again after 429, 503 or 504",
            counts.retries,
        ),
        (
            "graph_throttle_waits",
            "waits for Retry-After (or a back-off) before such a resend",
            counts.throttle_waits,
        ),
        (
            "graph_throttle_wait_milliseconds",
            "time spent in those waits",
            counts.throttle_wait_ms,
        ),
        (
            "graph_token_requests",
            "token requests sent to Microsoft Entra ID",
            counts.token_requests,
        ),
        (
            "graph_token_refusals",
            "token requests Entra ID refused (an AADSTS error)",
            counts.token_refusals,
        ),
    ];
    for (name, help, value) in counters {
        let counter = Counter::<u64>::default();
        counter.inc_by(value);
        registry.register(name, help, counter);
    }
    let in_flight = Gauge::<i64>::default();
    in_flight.set(counts.in_flight);
    registry.register(
        "graph_requests_in_flight",
        "Graph HTTP requests in flight now (at most graph.max_concurrency)",
        in_flight,
    );
}
