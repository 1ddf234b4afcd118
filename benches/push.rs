//! The push bench: a window sync of 500 events into an empty calendar, then the same sync again
//! (all `unchanged`), through `Push` on each backend against its simulator on loopback: EWS
//! (the EWS simulator, NTLM, batches of the default `push.batch_size` = 50) and Microsoft Graph
//! (the Graph simulator, sequential `$batch`es of 20, the batch size rounded up to 60). Prints the wall time of
//! each sync and the requests it sent (EWS: SOAP requests by operation; Graph: HTTP requests,
//! `$batch` requests and the parts inside them).
//!
//! Run: `cargo bench --bench push` (optionally `-- --latency-ms N` for a per-request latency
//! on both simulators; 0 by default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use ews_connector::backend::ews::EwsBackend;
use ews_connector::backend::graph::GraphBackend;
use ews_connector::domain::{AccessMode, Mailbox};
use ews_connector::exchange::{Account, Exchange};
use ews_connector::graph::auth::{Credential, Settings as AuthSettings, TokenSource};
use ews_connector::graph::client::{GraphClient, Settings as GraphSettings};
use ews_connector::push::{self, Event, EventInput, ExternalId, Push, Window};
use ews_connector::secret::Secret;
use ews_connector::sim::graph::{GraphMailbox, GraphSimConfig};
use ews_connector::sim::{self, SimState};
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

const EVENTS: usize = 500;
const BATCH_SIZE: usize = 50;
const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";
const GRAPH_MAILBOX: &str = "ana@uni.example";
const EWS_MAILBOX: &str = "plain@contoso.example";

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn events() -> Vec<Event> {
    (0..EVENTS)
        .map(|index| {
            let start = utc("2027-01-04T08:00:00Z") + TimeDelta::minutes(45 * index as i64);
            Event::new(
                ExternalId::parse(&format!("mytt:2027:{index:04}")).unwrap(),
                EventInput {
                    subject: format!("Lecture {index}"),
                    start: start.fixed_offset(),
                    end: (start + TimeDelta::hours(1)).fixed_offset(),
                    time_zone: "Europe/Amsterdam".to_owned(),
                    location: Some("Room 1.14".to_owned()),
                    body: Some("Lecturer: A. Turing".to_owned()),
                    categories: vec!["MyTimetable".to_owned()],
                    is_all_day: false,
                    show_as: None,
                    reminder_minutes_before_start: Some(15),
                },
            )
            .unwrap()
        })
        .collect()
}

fn window() -> Window {
    Window::new(utc("2027-01-01T00:00:00Z"), utc("2027-02-01T00:00:00Z")).unwrap()
}

fn settings(access: AccessMode) -> push::Settings {
    let mut settings = push::Settings::new(access);
    settings.batch_size = BATCH_SIZE;
    settings
}

async fn ews(latency: Duration) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sim/sample.toml"
    ))
    .unwrap();
    let mut state = SimState::from_toml_str(&text).unwrap();
    state.set_latency_ms(latency.as_millis() as u64);
    let sim = sim::start(state).await.unwrap();
    let mut transport = TransportSettings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
    transport.request_timeout = Duration::from_secs(30);
    let exchange = Arc::new(
        Exchange::new(ews_connector::exchange::Settings {
            transport,
            version: "Exchange2013_SP1".to_owned(),
            accounts: vec![Account {
                username: r"CONTOSO\svc-mytt".to_owned(),
                smtp: "svc-mytt@contoso.example".to_owned(),
                password: Secret::new("Sim-Passw0rd!"),
            }],
            capture_dir: None,
            retry_budget: Duration::from_secs(30),
            auth_failure_cooldown: Duration::from_secs(900),
        })
        .unwrap(),
    );
    let push = Push::new(
        EwsBackend::shared(exchange),
        settings(AccessMode::Impersonation),
    );
    let mailbox = Mailbox::parse(EWS_MAILBOX).unwrap();
    for round in ["into an empty calendar", "again, unchanged"] {
        let before = sim.stats();
        let started = Instant::now();
        let report = push.sync(&mailbox, window(), events()).await.unwrap();
        let elapsed = started.elapsed();
        let after = sim.stats();
        let count = |operation: &str| after.requests(operation) - before.requests(operation);
        println!(
            "ews   sync {round}: {:>8.1} ms  created {} unchanged {}  FindItem {} CreateItem {} GetItem {} UpdateItem {} DeleteItem {}",
            elapsed.as_secs_f64() * 1000.0,
            report.created,
            report.unchanged,
            count("FindItem"),
            count("CreateItem"),
            count("GetItem"),
            count("UpdateItem"),
            count("DeleteItem"),
        );
    }
}

async fn graph(latency: Duration) {
    let sim = ews_connector::sim::graph::start(GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        secrets: vec![SECRET.to_owned()],
        mailboxes: vec![GraphMailbox::new(GRAPH_MAILBOX)],
        ..GraphSimConfig::default()
    })
    .await
    .unwrap();
    sim.set_latency(latency);
    let tokens = Arc::new(
        TokenSource::new(
            AuthSettings {
                token_url: sim.token_url().parse().unwrap(),
                scope: format!("{}/.default", sim.base_url()),
                client_id: CLIENT.to_owned(),
                timeout: Duration::from_secs(30),
                ca_file: None,
                accept_invalid_certs: false,
            },
            Credential::Secret(Secret::new(SECRET)),
        )
        .unwrap(),
    );
    let client = Arc::new(
        GraphClient::new(
            GraphSettings {
                endpoint: sim.base_url().parse().unwrap(),
                max_concurrency: 16,
                timeout: Duration::from_secs(30),
                retry_budget: Duration::from_secs(30),
                ca_file: None,
                accept_invalid_certs: false,
            },
            tokens,
        )
        .unwrap(),
    );
    let push = Push::new(
        GraphBackend::shared(client.clone(), CLIENT),
        settings(AccessMode::Impersonation),
    );
    let mailbox = Mailbox::parse(GRAPH_MAILBOX).unwrap();
    for round in ["into an empty calendar", "again, unchanged"] {
        let (requests, batches, parts) = (
            client.requests(),
            client.batches(),
            sim.stats().api_requests,
        );
        let started = Instant::now();
        let report = push.sync(&mailbox, window(), events()).await.unwrap();
        let elapsed = started.elapsed();
        let batch_requests = client.batches() - batches;
        let http = client.requests() - requests;
        // Every /v1.0 request the simulator served, batch parts one each.
        let served = sim.stats().api_requests - parts;
        println!(
            "graph sync {round}: {:>8.1} ms  created {} unchanged {}  HTTP requests {} ($batch {}, single {}), $batch parts {}",
            elapsed.as_secs_f64() * 1000.0,
            report.created,
            report.unchanged,
            http,
            batch_requests,
            http - batch_requests,
            served - (http - batch_requests),
        );
    }
    sim.shutdown().await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let latency = args
        .iter()
        .position(|arg| arg == "--latency-ms")
        .and_then(|at| args.get(at + 1))
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::ZERO);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "window sync of {EVENTS} events, push.batch_size = {BATCH_SIZE}, simulator latency {} ms",
        latency.as_millis()
    );
    runtime.block_on(ews(latency));
    runtime.block_on(graph(latency));
}
