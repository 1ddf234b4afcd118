//! `docs/metrics.md` lists exactly the metric families a live `/metrics` exposes: a metric added
//! without a line in the doc, or a line left for a metric that is gone, fails here.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, header};

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
    let response = oneshot(
        &state,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let live = families(&text);
    assert!(live.len() >= 10, "{text}");

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
