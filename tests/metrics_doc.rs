//! `docs/metrics.md` lists exactly the metric families a live `/metrics` exposes: a metric added
//! without a line in the doc, or a line left for a metric that is gone, fails here. The Graph
//! families appear only with `[graph]`: the scrape with a Graph application observed (and real
//! Graph and token requests made through it against the Graph simulator) must list them all, the
//! one without must list none.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, header};

use std::sync::Arc;
use std::time::Duration;

use ews_connector::graph::auth::{self, Credential, TokenSource};
use ews_connector::graph::client::{self, GraphClient};
use ews_connector::secret::Secret;
use ews_connector::sim::graph::{
    GraphFault, GraphFaultKind, GraphMailbox, GraphSimConfig, GraphSimHandle,
};

use common::api::{Backend, CHECK_TOKEN, oneshot, settings, state};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

/// The family names of an OpenMetrics text (`# TYPE <name> <type>`), with their types.
fn families(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .map(|rest| {
            let mut words = rest.split_whitespace();
            (
                words.next().unwrap().to_owned(),
                words.next().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The metric names documented: the first cell of each table row, in backticks.
fn documented(doc: &str) -> BTreeSet<(String, String)> {
    doc.lines()
        .filter(|line| line.starts_with("| `ews_connector_"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_owned(),
                cells[2].trim_matches('`').to_owned(),
            )
        })
        .collect()
}

async fn scrape(state: &ews_connector::api::AppState) -> String {
    let response = oneshot(state, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), 200);
    String::from_utf8(
        axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";

/// A Graph application on the Graph simulator `sim` (the token source the API observes, and a
/// client on it).
fn graph_client(sim: &GraphSimHandle) -> (Arc<TokenSource>, GraphClient) {
    let tokens = Arc::new(
        TokenSource::new(
            auth::Settings {
                token_url: sim.token_url().parse().unwrap(),
                scope: "https://graph.microsoft.com/.default".to_owned(),
                client_id: CLIENT.to_owned(),
                timeout: Duration::from_secs(10),
                ca_file: None,
                accept_invalid_certs: false,
            },
            Credential::Secret(Secret::new(SECRET)),
        )
        .unwrap(),
    );
    let client = GraphClient::new(
        client::Settings {
            endpoint: sim.base_url().parse().unwrap(),
            max_concurrency: 8,
            timeout: Duration::from_secs(10),
            retry_budget: Duration::from_secs(10),
            ca_file: None,
            accept_invalid_certs: false,
        },
        tokens.clone(),
    )
    .unwrap();
    (tokens, client)
}

#[tokio::test]
async fn docs_metrics_md_lists_every_metric_of_a_live_scrape_and_no_other() {
    let sim = start_sim(&sample_state()).await;
    let state = state(settings(), &Backend::new(&sim.url, SVC_PASSWORD));
    // One real request first, so that labelled families have samples too.
    let request = Request::get("/v1/mailboxes/granted@contoso.example/calendar/access")
        .header(header::AUTHORIZATION, format!("Bearer {CHECK_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(oneshot(&state, request).await.status(), 200);
    let without_graph = families(&scrape(&state).await);
    assert!(
        without_graph
            .iter()
            .all(|(name, _)| !name.contains("_graph_")),
        "Graph families without [graph]: {without_graph:?}"
    );

    // With a Graph application: a token request, a calendar read answered, one refused
    // (outside the RBAC scope), one throttled once (a retry and a wait).
    let mut outside = GraphMailbox::new("board@uni.example");
    outside.in_scope = false;
    let graph = ews_connector::sim::graph::start(GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        secrets: vec![SECRET.to_owned()],
        mailboxes: vec![GraphMailbox::new("student@uni.example"), outside],
        ..GraphSimConfig::default()
    })
    .await
    .unwrap();
    let (tokens, client) = graph_client(&graph);
    state.observe_graph(tokens.stats().clone());
    let calendar = |mailbox: &'static str| ["users", mailbox, "calendar"];
    client
        .get::<serde_json::Value>("student@uni.example", &calendar("student@uni.example"))
        .await
        .unwrap();
    let refused = client
        .get::<serde_json::Value>("board@uni.example", &calendar("board@uni.example"))
        .await
        .unwrap_err();
    assert_eq!(refused.graph_error_code(), Some("ErrorAccessDenied"));
    graph.push_fault(GraphFault::for_mailbox(
        "student@uni.example",
        1,
        GraphFaultKind::Throttle {
            retry_after_secs: 0,
        },
    ));
    client
        .get::<serde_json::Value>("student@uni.example", &calendar("student@uni.example"))
        .await
        .unwrap();
    let text = scrape(&state).await;
    for sample in [
        r#"ews_connector_graph_requests_total{operation="token",outcome="answered"} 1"#,
        r#"ews_connector_graph_requests_total{operation="calendar",outcome="answered"} 2"#,
        r#"ews_connector_graph_requests_total{operation="calendar",outcome="ErrorAccessDenied"} 1"#,
        r#"ews_connector_graph_requests_total{operation="calendar",outcome="TooManyRequests"} 1"#,
        "ews_connector_graph_retries_total 1",
        "ews_connector_graph_throttle_waits_total 1",
        "ews_connector_graph_token_requests_total 1",
        "ews_connector_graph_token_refusals_total 0",
        "ews_connector_graph_requests_in_flight 0",
        r#"ews_connector_pushes_total{backend="ews",result="created"} 0"#,
    ] {
        assert!(text.contains(sample), "no `{sample}` in:\n{text}");
    }
    let live = families(&text);
    assert!(live.len() >= 10, "{text}");
    assert!(live.is_superset(&without_graph));
    assert_eq!(
        live.difference(&without_graph)
            .filter(|(name, _)| !name.contains("_graph_"))
            .count(),
        0,
        "[graph] adds only Graph families"
    );

    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md")).unwrap();
    let listed = documented(&doc);
    let missing: Vec<_> = live.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&live).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/metrics.md is out of date.\nexposed but not documented (name, type): {missing:?}\n\
         documented but not exposed: {stale:?}\nthe scrape:\n{text}"
    );
}
