//! `/metrics`: Prometheus (OpenMetrics) text through `prometheus-client`.
//!
//! Request counts live here, labelled by the matched route template (never the raw path, so a
//! mailbox address never becomes a label), method and status. EWS calls, NTLM handshakes,
//! connections and readiness are read at scrape time from `exchange` and the readiness loop,
//! which keep their own counters.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::api::AppState;

type Labels = Vec<(String, String)>;

/// The API's own counters.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Family<Labels, Counter>,
}

impl Metrics {
    pub(crate) fn record_request(&self, route: &str, method: &str, status: u16) {
        self.requests
            .get_or_create(&vec![
                ("route".to_owned(), route.to_owned()),
                ("method".to_owned(), method.to_owned()),
                ("status".to_owned(), status.to_string()),
            ])
            .inc();
    }
}

/// The text of one scrape.
pub(crate) fn render(state: &AppState) -> String {
    let mut registry = Registry::with_prefix("ews_connector");
    registry.register(
        "http_requests",
        "API requests by matched route, method and status",
        state.inner.metrics.requests.clone(),
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

    let mut text = String::new();
    if encode(&mut text, &registry).is_err() {
        text.clear();
    }
    text
}
