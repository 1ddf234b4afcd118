//! `--backend graph`: the load bench on Exchange Online's side. The EWS and Graph simulators run
//! in this process (the EWS one only for serve's service account and `/readyz`), `ews-connector
//! serve` as a child with `[graph]` (a client secret) and `[routing]` sending
//! `students.contoso.example` to Graph.
//!
//! Two runs:
//! - the batch (default): `--mailboxes N --latency-ms L [--max-concurrency C]`: one check batch
//!   of N Graph mailboxes; prints wall time, Graph HTTP requests and `$batch` parts per mailbox,
//!   the highest in-flight count any mailbox saw (the simulator's), the requests it refused for
//!   concurrency, outcomes, serve's CPU and peak RSS, and the physical limit
//!   N x R x L / min(C, 4 x N) (R the Graph requests, `$batch` parts included, per mailbox;
//!   each holds one of the connector's C global permits for L, and no mailbox takes more than 4)
//!   with the ratio. Exits 1 when a mailbox saw more than 4 in flight, a request was refused for
//!   concurrency, or an outcome is not `ok`.
//! - the token stream: `--duration-secs D --token-lifetime-secs T --rate R [--mailboxes N]`:
//!   single checks at R per second for D seconds, cycling over N mailboxes, with tokens that
//!   live T seconds. The connector asks for its first token at the first check and for a new one
//!   at the first request after P = T - `refresh_margin(T)` (a tenth of T for T from 20 s to 50
//!   minutes) since it asked for the one it holds, so the token requests are 1 + floor(D / (P +
//!   gap)) at least and ceil(D / P) at most, the gap (to the next check, plus the token round
//!   trip) being at most 1/R + 1 s: for D = 300, T = 60, R = 10 exactly 6, one a minute (at 0,
//!   54, 108, 162, 216 and 270 s). Exits 1 on a failed
//!   check, a request the simulator refused (401 for an expired token, 429), or a token count
//!   outside that range.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ews_connector::sim::graph::{GraphMailbox, GraphSimConfig, GraphSimHandle};
use ews_connector::sim::{self, SimState};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{ChildGuard, Outcomes, PASSWORD, PRINCIPAL, TOKEN, free_port, process_usage, wait_for};

const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Load~Bench.Secret_0123456789abcdef";
/// Exchange Online's limit of requests in flight per mailbox.
const MAILBOX_CONCURRENCY: usize = 4;

pub struct GraphOptions {
    pub mailboxes: usize,
    pub latency_ms: u64,
    /// `graph.max_concurrency`.
    pub max_concurrency: usize,
    /// The token stream: (duration, token lifetime, checks per second).
    pub stream: Option<(Duration, Duration, u64)>,
}

fn mailbox(index: usize) -> String {
    format!("student{index:06}@students.contoso.example")
}

/// The Graph simulator, the EWS one and serve, running.
struct Rig {
    graph: GraphSimHandle,
    _ews: sim::SimHandle,
    serve: ChildGuard,
    api_port: u16,
    _dir: tempfile::TempDir,
}

async fn start(options: &GraphOptions, token_lifetime: Duration) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let ews_state = format!(
        "[[users]]\nsmtp = \"{PRINCIPAL}\"\n\n[[accounts]]\nusername = 'CONTOSO\\svc1'\n\
         password = \"{PASSWORD}\"\nsmtp = \"svc1@contoso.example\"\nimpersonation = \"all\"\n"
    );
    let ews = sim::start(SimState::from_toml_str(&ews_state).unwrap())
        .await
        .unwrap();
    let graph = ews_connector::sim::graph::start(GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        secrets: vec![SECRET.to_owned()],
        token_lifetime,
        mailboxes: (0..options.mailboxes)
            .map(|index| GraphMailbox::new(&mailbox(index)))
            .collect(),
        latency: Duration::from_millis(options.latency_ms),
        mailbox_concurrency: MAILBOX_CONCURRENCY,
        ..GraphSimConfig::default()
    })
    .await
    .unwrap();
    let api_port = free_port();
    let config = write_config(dir.path(), &ews.url, &graph.base_url(), api_port, options);
    let mut serve = ChildGuard(
        Command::new(super::BINARY)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the API starts"),
    );
    wait_for(
        &reqwest::Client::new(),
        &format!("http://127.0.0.1:{api_port}/readyz"),
        &mut serve,
    )
    .await;
    Rig {
        graph,
        _ews: ews,
        serve,
        api_port,
        _dir: dir,
    }
}

fn write_config(
    dir: &Path,
    ews_url: &str,
    graph_url: &str,
    api_port: u16,
    options: &GraphOptions,
) -> std::path::PathBuf {
    let owner_only = |path: &Path| {
        #[cfg(unix)]
        std::fs::set_permissions(
            path,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
        )
        .unwrap();
    };
    let password_file = dir.join("svc1.password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    owner_only(&password_file);
    let secret_file = dir.join("graph.secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    owner_only(&secret_file);
    let token_sha256 = hex::encode(Sha256::digest(TOKEN.as_bytes()));
    let config = format!(
        r#"[exchange]
url = "{ews_url}"
access = "impersonation"
impersonation = true

[[exchange.accounts]]
username = 'CONTOSO\svc1'
smtp = "svc1@contoso.example"
password_file = "{password_file}"

[delegation]
principal = "{PRINCIPAL}"
level = "Editor"

[graph]
tenant_id = "{TENANT}"
client_id = "{CLIENT}"
client_secret_file = "{secret_file}"
authority = "{graph_url}"
endpoint = "{graph_url}"
max_concurrency = {max_concurrency}

[routing]
default = "ews"
graph_domains = ["students.contoso.example"]
follow_moves = true

[api]
listen = "127.0.0.1:{api_port}"

[[api.clients]]
name = "bench"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check"]

[audit]
path = "{audit}"

[log]
level = "warn"
"#,
        password_file = password_file.display(),
        secret_file = secret_file.display(),
        max_concurrency = options.max_concurrency,
        audit = dir.join("audit.jsonl").display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs the batch or the stream; exits 1 when an expectation failed.
pub async fn run(options: GraphOptions) {
    let problems = match options.stream {
        None => run_batch(&options).await,
        Some((duration, lifetime, rate)) => run_stream(&options, duration, lifetime, rate).await,
    };
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("load bench FAILED: {problem}");
        }
        std::process::exit(1);
    }
}

async fn run_batch(options: &GraphOptions) -> Vec<String> {
    let rig = start(options, Duration::from_secs(3600)).await;
    let client = reqwest::Client::new();
    let serve_pid = rig.serve.0.id();
    let (_, cpu_before) = process_usage(serve_pid);
    let before = rig.graph.stats();

    let list: Vec<String> = (0..options.mailboxes).map(mailbox).collect();
    let body = serde_json::to_vec(&json!({ "mailboxes": list })).unwrap();
    let started = Instant::now();
    let mut response = client
        .post(format!(
            "http://127.0.0.1:{}/v1/calendar/access:batch",
            rig.api_port
        ))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the batch is accepted");
    let mut outcomes = Outcomes::default();
    let mut backends = std::collections::BTreeMap::<String, usize>::new();
    let mut last_line = Vec::new();
    let mut partial = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        partial.extend_from_slice(&chunk);
        while let Some(end) = partial.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            if !last_line.is_empty() {
                outcomes.count(&last_line);
                let value: serde_json::Value = serde_json::from_slice(&last_line).unwrap();
                let backend = value["backend"].as_str().unwrap_or("(none)").to_owned();
                *backends.entry(backend).or_default() += 1;
            }
            last_line = line;
        }
    }
    let wall = started.elapsed();
    let (peak_kib, cpu_seconds) = process_usage(serve_pid);
    let after = rig.graph.stats();
    let summary: serde_json::Value = serde_json::from_slice(&last_line).expect("the summary");

    let n = options.mailboxes as f64;
    let parts = after.batch_parts - before.batch_parts;
    let batches = after.batches - before.batches;
    let api = after.api_requests - before.api_requests;
    let http = batches + api - parts;
    let refused = after.concurrency_refusals - before.concurrency_refusals;
    let (max_in_flight, busiest) = (0..options.mailboxes)
        .map(|index| {
            let address = mailbox(index);
            (rig.graph.mailbox_stats(&address).max_in_flight, address)
        })
        .max()
        .unwrap_or_default();
    let r = api as f64 / n;
    let ceiling = options
        .max_concurrency
        .min(MAILBOX_CONCURRENCY * options.mailboxes);
    let limit = n * r * options.latency_ms as f64 / 1000.0 / ceiling as f64;
    let ratio = wall.as_secs_f64() / limit;
    let batch_cpu = cpu_seconds - cpu_before;
    println!(
        "load (graph): N={} L={}ms graph.max_concurrency={}",
        options.mailboxes, options.latency_ms, options.max_concurrency
    );
    println!(
        "  lines                {} ({} with error); summary {}",
        outcomes.lines, outcomes.errors, summary["summary"]
    );
    println!(
        "  outcomes             ok {}, other {}{}; backends {backends:?}",
        outcomes.ok,
        outcomes.other() + outcomes.not_delegated,
        outcomes.other_detail()
    );
    println!("  wall time            {:.3} s", wall.as_secs_f64());
    println!(
        "  Graph HTTP requests  {:.3} per mailbox ({http} in all: {batches} $batch, {} single)",
        http as f64 / n,
        api - parts
    );
    println!(
        "  $batch parts         {:.3} per mailbox ({:.2} parts per $batch)",
        parts as f64 / n,
        if batches > 0 {
            parts as f64 / batches as f64
        } else {
            0.0
        }
    );
    println!("  Graph requests R     {r:.3} per mailbox ($batch parts and single requests)");
    println!("  max in flight        {max_in_flight} on one mailbox ({busiest}); at most 4");
    println!("  refused (429)        {refused} for concurrency; must be 0");
    println!(
        "  token requests       {}",
        after.token_requests - before.token_requests
    );
    println!(
        "  limit N*R*L/min(C,4N) {limit:.3} s (C = {}, R = {r:.3})",
        options.max_concurrency
    );
    println!("  ratio                {ratio:.3}");
    println!("  serve peak RSS       {:.1} MiB", peak_kib as f64 / 1024.0);
    println!(
        "  serve CPU            {cpu_seconds:.2} s (user + system, start included); {batch_cpu:.2} s in the batch, {:.3} ms per mailbox",
        batch_cpu * 1000.0 / n
    );
    drop(rig.serve);
    rig.graph.shutdown().await;

    let mut problems = Vec::new();
    if max_in_flight > MAILBOX_CONCURRENCY {
        problems.push(format!(
            "{busiest} saw {max_in_flight} requests in flight (Exchange Online allows 4)"
        ));
    }
    if refused > 0 {
        problems.push(format!("{refused} requests refused for concurrency (429)"));
    }
    if outcomes.lines != options.mailboxes || outcomes.ok != options.mailboxes {
        problems.push(format!(
            "{} lines, {} ok, for {} mailboxes{}",
            outcomes.lines,
            outcomes.ok,
            options.mailboxes,
            outcomes.other_detail()
        ));
    }
    problems
}

/// The token requests a stream of `duration` makes with tokens living `lifetime`, when each
/// refresh comes at most `gap` after the lifetime less its refresh margin: (at least, at most).
pub fn expected_token_requests(
    duration: Duration,
    lifetime: Duration,
    gap: Duration,
) -> (u64, u64) {
    let period = (lifetime - ews_connector::graph::auth::refresh_margin(lifetime)).as_secs_f64();
    let low = 1 + (duration.as_secs_f64() / (period + gap.as_secs_f64())).floor() as u64;
    let high = (duration.as_secs_f64() / period).ceil() as u64;
    (low, high)
}

async fn run_stream(
    options: &GraphOptions,
    duration: Duration,
    lifetime: Duration,
    rate: u64,
) -> Vec<String> {
    let rig = start(options, lifetime).await;
    let client = reqwest::Client::new();
    let serve_pid = rig.serve.0.id();
    let before = rig.graph.stats();
    let failed = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running = tokio::task::JoinSet::new();
    let started = Instant::now();
    let mut index = 0usize;
    let mut next_report = Duration::from_secs(60);
    while started.elapsed() < duration {
        ticker.tick().await;
        let url = format!(
            "http://127.0.0.1:{}/v1/mailboxes/{}/calendar/access",
            rig.api_port,
            mailbox(index % options.mailboxes)
        );
        index += 1;
        let (client, failed_here, sent_here) = (client.clone(), failed.clone(), sent.clone());
        running.spawn(async move {
            sent_here.fetch_add(1, Ordering::Relaxed);
            let ok = match client.get(url).bearer_auth(TOKEN).send().await {
                Ok(response) if response.status() == 200 => response
                    .json::<serde_json::Value>()
                    .await
                    .is_ok_and(|body| body["ready"] == true && body["backend"] == "graph"),
                _ => false,
            };
            if !ok {
                failed_here.fetch_add(1, Ordering::Relaxed);
            }
        });
        while running.try_join_next().is_some() {}
        if started.elapsed() >= next_report {
            let stats = rig.graph.stats();
            println!(
                "  after {:>4.0} s        {} checks, {} failed, {} token requests",
                started.elapsed().as_secs_f64(),
                sent.load(Ordering::Relaxed),
                failed.load(Ordering::Relaxed),
                stats.token_requests - before.token_requests
            );
            next_report += Duration::from_secs(60);
        }
    }
    while running.join_next().await.is_some() {}
    let wall = started.elapsed();
    let (peak_kib, cpu_seconds) = process_usage(serve_pid);
    let after = rig.graph.stats();
    drop(rig.serve);
    rig.graph.shutdown().await;

    let gap = Duration::from_secs_f64(1.0 / rate as f64) + Duration::from_secs(1);
    let (low, high) = expected_token_requests(duration, lifetime, gap);
    let tokens = after.token_requests - before.token_requests;
    let unauthorized = after.unauthorized - before.unauthorized;
    let refused = after.concurrency_refusals - before.concurrency_refusals;
    let token_refusals = after.token_refusals - before.token_refusals;
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!(
        "load (graph token stream): {} s of checks at {rate}/s over {} mailboxes, tokens living {} s, L={}ms",
        duration.as_secs(),
        options.mailboxes,
        lifetime.as_secs(),
        options.latency_ms
    );
    println!(
        "  checks               {sent} sent, {failed} failed ({:.1} s)",
        wall.as_secs_f64()
    );
    println!(
        "  token requests       {tokens} (expected {low} to {high}: the first, then one per {:.1} s)",
        (lifetime - ews_connector::graph::auth::refresh_margin(lifetime)).as_secs_f64()
    );
    println!(
        "  refused              {unauthorized} 401 (expired token), {refused} 429, {token_refusals} token refusals"
    );
    println!(
        "  serve                {cpu_seconds:.2} s CPU, peak RSS {:.1} MiB",
        peak_kib as f64 / 1024.0
    );
    let mut problems = Vec::new();
    if failed > 0 {
        problems.push(format!("{failed} of {sent} checks failed"));
    }
    if unauthorized + refused + token_refusals > 0 {
        problems.push(format!(
            "the simulator refused {unauthorized} requests with 401, {refused} with 429 and {token_refusals} token requests"
        ));
    }
    if !(low..=high).contains(&tokens) {
        problems.push(format!("{tokens} token requests; expected {low} to {high}"));
    }
    problems
}
