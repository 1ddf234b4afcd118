//! The batch routes over a real socket against the simulator: NDJSON streamed as results
//! complete, one line per unique mailbox, bad lines that fail alone, the summary last, the
//! per-account ceiling never exceeded, cancellation when the client goes away, the 100,000
//! limit, audited grants; `/readyz` and `/metrics` with one refused account out of two; and the
//! `batch` command line.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use common::api::{BOTH_TOKEN, CHECK_TOKEN, PRINCIPAL, ServedApi, settings, start_api};
use common::sim::start_sim;
use ews_connector::api::{self, AppState};
use ews_connector::audit::AuditLog;
use ews_connector::delegation::{Delegation, PermissionLevel};
use ews_connector::domain::AccessMode;
use ews_connector::exchange::{Account, Exchange};
use ews_connector::secret::Secret;
use ews_connector::sim::SimHandle;
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

const PASSWORD: &str = "Batch-Passw0rd!";
const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");

fn mailbox(index: usize) -> String {
    format!("user{index:05}@contoso.example")
}

/// A simulator state with `accounts` service accounts (`CONTOSO\svcN`, each impersonating
/// everyone), `mailboxes` mailboxes `user00000@contoso.example`..., the push principal, and the
/// given latency and per-account concurrency limit (beyond it the simulator answers busy).
fn sim_state(accounts: usize, mailboxes: usize, latency_ms: u64, max_concurrency: usize) -> String {
    let mut toml = format!(
        "[server]\nlatency_ms = {latency_ms}\nmax_concurrency = {max_concurrency}\n\n\
         [[users]]\nsmtp = \"{PRINCIPAL}\"\n\n"
    );
    for index in 1..=accounts {
        toml.push_str(&format!(
            "[[accounts]]\nusername = 'CONTOSO\\svc{index}'\npassword = \"{PASSWORD}\"\n\
             smtp = \"svc{index}@contoso.example\"\nimpersonation = \"all\"\n\n"
        ));
    }
    for index in 0..mailboxes {
        toml.push_str(&format!("[[mailboxes]]\nsmtp = \"{}\"\n\n", mailbox(index)));
    }
    toml
}

/// An API state on the simulator with the given accounts (username, password), access by
/// impersonation (one GetFolder per check), `ceiling` requests per account.
fn app_state(
    sim: &SimHandle,
    accounts: &[(&str, &str)],
    ceiling: usize,
    audit: Option<&std::path::Path>,
    allowed_domains: &[&str],
) -> AppState {
    let mut transport = TransportSettings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
    transport.max_connections_per_account = ceiling;
    transport.request_timeout = Duration::from_secs(20);
    let exchange = Arc::new(
        Exchange::new(ews_connector::exchange::Settings {
            transport,
            version: "Exchange2013_SP1".to_owned(),
            accounts: accounts
                .iter()
                .map(|(user, password)| Account {
                    username: format!(r"CONTOSO\{user}"),
                    smtp: format!("{user}@contoso.example"),
                    password: Secret::new(*password),
                })
                .collect(),
            capture_dir: None,
            retry_budget: Duration::from_secs(5),
            auth_failure_cooldown: Duration::from_secs(900),
        })
        .unwrap(),
    );
    let audit = audit.map(|path| Arc::new(AuditLog::open(path).unwrap()));
    let delegation = Arc::new(Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange.clone()),
        ews_connector::delegation::Settings {
            access: AccessMode::Impersonation,
            impersonation: true,
            principal: PRINCIPAL.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
        },
        audit.clone(),
    ));
    let mut settings = settings();
    settings.allowed_domains = allowed_domains.iter().map(|d| (*d).to_owned()).collect();
    AppState::new(settings, delegation, exchange, audit)
}

async fn post(api: &ServedApi, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(api.url(path))
        .bearer_auth(BOTH_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Reads NDJSON lines from a streamed response, one at a time.
struct Lines {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Lines {
    fn new(response: reqwest::Response) -> Lines {
        Lines {
            response,
            buffer: Vec::new(),
        }
    }

    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(serde_json::from_slice(&line).unwrap_or_else(|error| {
                    panic!("not JSON ({error}): {}", String::from_utf8_lossy(&line))
                }));
            }
            match self.response.chunk().await.unwrap() {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => {
                    assert!(self.buffer.is_empty(), "a line without its newline");
                    return None;
                }
            }
        }
    }

    async fn all(mut self) -> Vec<Value> {
        let mut lines = Vec::new();
        while let Some(line) = self.next().await {
            lines.push(line);
        }
        lines
    }
}

fn get_folders(sim: &SimHandle) -> u64 {
    sim.stats().requests("GetFolder")
}

#[tokio::test]
async fn a_check_batch_streams_one_line_per_unique_mailbox_then_the_summary() {
    let sim = start_sim(&sim_state(1, 40, 60, 4)).await;
    let api = start_api(app_state(
        &sim,
        &[("svc1", PASSWORD)],
        4,
        None,
        &["contoso.example"],
    ))
    .await;
    let mut list: Vec<String> = (0..40).map(mailbox).collect();
    list.push(mailbox(3).to_uppercase());
    list.push(mailbox(7).replace("user", "USER"));
    list.push("not-an-address".to_owned());
    list.push("someone@fabrikam.example".to_owned());
    list.push("ghost@contoso.example".to_owned());
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-ndjson",
        "NDJSON"
    );
    let mut lines = Lines::new(response);
    let first = lines.next().await.expect("a first line");
    let served_at_first_line = get_folders(&sim);
    assert!(
        served_at_first_line < 30,
        "the first line came before the batch was done (the simulator had served {served_at_first_line} of 41)"
    );
    let mut all = vec![first];
    all.extend(lines.all().await);

    let (summary, results) = all.split_last().unwrap();
    assert_eq!(results.len(), 43, "one line per unique mailbox: {all:#?}");
    let mut seen: Vec<String> = results
        .iter()
        .map(|line| line["mailbox"].as_str().unwrap().to_lowercase())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 43, "no mailbox twice");
    let error_code = |text: &str| {
        results
            .iter()
            .find(|line| line["mailbox"] == text)
            .unwrap_or_else(|| panic!("a line for {text}"))["error"]["code"]
            .clone()
    };
    assert_eq!(error_code("not-an-address"), "invalid_mailbox");
    assert_eq!(
        error_code("someone@fabrikam.example"),
        "mailbox_not_allowed"
    );
    let ghost = results
        .iter()
        .find(|line| line["mailbox"] == "ghost@contoso.example")
        .unwrap();
    assert_eq!(ghost["status"], "mailbox_not_found", "{ghost}");
    for line in results.iter().filter(|line| line.get("error").is_none()) {
        assert!(line["ready"].is_boolean(), "the single call's body: {line}");
        assert_eq!(line["accessMode"], "impersonation");
    }
    assert_eq!(summary["summary"]["total"], 43, "{summary}");
    assert_eq!(summary["summary"]["ok"], 41);
    assert_eq!(summary["summary"]["failed"], 2);
    assert_eq!(summary["summary"]["changed"], 0);
    assert!(summary["summary"]["elapsedMs"].as_u64().unwrap() >= 60);

    let stats = sim.stats();
    assert_eq!(
        stats.requests("GetFolder"),
        41,
        "bad lines never reach Exchange"
    );
    assert_eq!(
        stats.connection_count_answers, 0,
        "never above the simulator's limit"
    );
    let peak = stats.peak_concurrency.values().copied().max().unwrap();
    assert!(peak <= 4, "peak concurrency {peak} above the ceiling of 4");
    assert!(peak >= 3, "the account is kept busy: peak {peak}");
}

#[tokio::test]
async fn three_accounts_each_stay_at_their_ceiling_and_never_above() {
    let sim = start_sim(&sim_state(3, 90, 30, 3)).await;
    let accounts = [("svc1", PASSWORD), ("svc2", PASSWORD), ("svc3", PASSWORD)];
    let api = start_api(app_state(&sim, &accounts, 3, None, &[])).await;
    let list: Vec<String> = (0..90).map(mailbox).collect();
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    let lines = Lines::new(response).all().await;
    assert_eq!(lines.len(), 91);
    assert_eq!(lines[90]["summary"]["ok"], 90);
    let stats = sim.stats();
    assert_eq!(stats.connection_count_answers, 0);
    assert_eq!(
        stats.peak_concurrency.len(),
        3,
        "{:?}",
        stats.peak_concurrency
    );
    for (account, peak) in &stats.peak_concurrency {
        assert!(*peak <= 3, "{account} peaked at {peak}");
    }
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_remaining_work() {
    let sim = start_sim(&sim_state(1, 200, 100, 2)).await;
    let api = start_api(app_state(&sim, &[("svc1", PASSWORD)], 2, None, &[])).await;
    let list: Vec<String> = (0..200).map(mailbox).collect();
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    let mut lines = Lines::new(response);
    lines.next().await.expect("a first line");
    drop(lines);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after_disconnect = get_folders(&sim);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let later = get_folders(&sim);
    assert_eq!(
        later, after_disconnect,
        "no new work after the client went away"
    );
    assert!(later < 30, "the batch stopped early: {later} of 200 served");
    let metrics = reqwest::get(api.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("ews_connector_batch_mailboxes_in_flight 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_batch_of_100000_streams_its_first_line_early_and_more_is_refused() {
    // Mailboxes absent from the simulator answer ErrorNonExistentMailbox: still one request
    // each, and a line with status mailbox_not_found.
    let sim = start_sim(&sim_state(1, 0, 0, 10)).await;
    let api = start_api(app_state(&sim, &[("svc1", PASSWORD)], 10, None, &[])).await;
    let mut list: Vec<String> = (0..100_000).map(mailbox).collect();
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    assert_eq!(
        response.status(),
        200,
        "a 2.4 MB body is within the 16 MiB limit"
    );
    let mut lines = Lines::new(response);
    let first = lines.next().await.expect("a first line");
    let served = get_folders(&sim);
    assert_eq!(first["status"], "mailbox_not_found", "{first}");
    assert!(
        served < 10_000,
        "the first line came after {served} requests"
    );
    drop(lines);

    list.push("one-too-many@contoso.example".to_owned());
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_request");
    assert!(
        problem["detail"].as_str().unwrap().contains("100000"),
        "{problem}"
    );

    let huge = "x".repeat(17 * 1024 * 1024);
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": [huge]}),
    )
    .await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn a_grant_batch_changes_and_audits_each_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let sim = start_sim(&sim_state(1, 3, 0, 10)).await;
    let api = start_api(app_state(
        &sim,
        &[("svc1", PASSWORD)],
        10,
        Some(&audit_path),
        &[],
    ))
    .await;
    let list: Vec<String> = (0..3).map(mailbox).collect();
    let body = json!({"mailboxes": list, "level": "Reviewer"});
    let response = post(&api, "/v1/calendar/delegation:batch", &body).await;
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let lines = Lines::new(response).all().await;
    assert_eq!(lines.len(), 4, "{lines:#?}");
    for line in &lines[..3] {
        assert_eq!(line["level"], "Reviewer", "{line}");
        assert_eq!(line["previousLevel"], "None");
        assert_eq!(line["changed"], true);
        assert!(line["auditId"].is_string());
    }
    assert_eq!(lines[3]["summary"]["changed"], 3);
    assert_eq!(lines[3]["summary"]["ok"], 3);
    for index in 0..3 {
        let permissions = sim.permissions(&mailbox(index)).unwrap();
        assert!(
            permissions
                .iter()
                .any(|entry| format!("{entry:?}").contains(PRINCIPAL)
                    && format!("{entry:?}").contains("Reviewer")),
            "{permissions:?}"
        );
    }
    let audit = std::fs::read_to_string(&audit_path).unwrap_or_default();
    let records: Vec<Value> = audit
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|record: &Value| record["result"] == "changed")
        .collect();
    assert_eq!(records.len(), 3, "{audit}");
    for record in &records {
        assert_eq!(record["requestId"], request_id.as_str());
        assert_eq!(record["client"], "mytimetable");
        assert_eq!(record["action"], "grant");
    }

    let again = post(&api, "/v1/calendar/delegation:batch", &body).await;
    let lines = Lines::new(again).all().await;
    assert_eq!(lines[3]["summary"]["changed"], 0, "idempotent: {lines:#?}");
    assert_eq!(lines[3]["summary"]["ok"], 3);

    // A check token may not grant.
    let forbidden = reqwest::Client::new()
        .post(api.url("/v1/calendar/delegation:batch"))
        .bearer_auth(CHECK_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
}

/// Every EWS request the simulator answered, of any operation.
fn ews_requests(sim: &SimHandle) -> u64 {
    sim.stats().requests_by_operation.values().sum()
}

#[tokio::test]
async fn a_grant_batch_with_a_principal_or_level_outside_the_configuration_is_one_403() {
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let sim = start_sim(&sim_state(1, 3, 0, 10)).await;
    let api = start_api(app_state(
        &sim,
        &[("svc1", PASSWORD)],
        10,
        Some(&audit_path),
        &[],
    ))
    .await;
    let list: Vec<String> = (0..3).map(mailbox).collect();
    let cases = [
        (
            json!({"mailboxes": list, "principal": "attacker@contoso.example"}),
            "principal_not_allowed",
        ),
        (
            json!({"mailboxes": list, "principal": "attacker@contoso.example", "level": "Owner", "dryRun": true}),
            "principal_not_allowed",
        ),
        (
            json!({"mailboxes": list, "level": "Owner"}),
            "level_not_allowed",
        ),
        (
            json!({"mailboxes": list, "principal": PRINCIPAL, "level": "PublishingEditor"}),
            "level_not_allowed",
        ),
    ];
    for (body, code) in cases {
        let response = post(&api, "/v1/calendar/delegation:batch", &body).await;
        assert_eq!(response.status(), 403, "{body}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "no NDJSON stream: {body}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], code, "{body}: {problem}");
        assert_eq!(problem["status"], 403);
        assert!(problem["requestId"].is_string(), "{problem}");
    }
    assert_eq!(ews_requests(&sim), 0, "nothing reached Exchange");
    assert_eq!(sim.stats().connections_opened, 0);
    assert!(
        std::fs::read_to_string(&audit_path)
            .unwrap_or_default()
            .is_empty(),
        "no audit record for a refused batch"
    );

    // The configured principal at a lower level is served as before.
    let response = post(
        &api,
        "/v1/calendar/delegation:batch",
        &json!({"mailboxes": list, "principal": PRINCIPAL.to_uppercase(), "level": "Author"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let lines = Lines::new(response).all().await;
    assert_eq!(lines[3]["summary"]["changed"], 3, "{lines:#?}");
}

#[tokio::test]
async fn batch_grant_on_the_command_line_refuses_a_principal_or_level_before_exchange() {
    let sim = start_sim(&sim_state(1, 3, 0, 10)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("svc.password"), format!("{PASSWORD}\n")).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[exchange]
url = "{url}"
access = "impersonation"
impersonation = true

[[exchange.accounts]]
username = 'CONTOSO\svc1'
smtp = "svc1@contoso.example"
password_file = "svc.password"

[delegation]
principal = "{PRINCIPAL}"
level = "Reviewer"
allowed_principals = ["user00002@contoso.example"]
max_level = "Author"

[audit]
path = "audit.jsonl"
"#,
            url = sim.url
        ),
    )
    .unwrap();
    let list = dir.path().join("mailboxes.txt");
    std::fs::write(&list, format!("{}\n{}\n", mailbox(0), mailbox(1))).unwrap();
    let batch_grant = |extra: &[&str]| {
        let mut command = tokio::process::Command::new(BINARY);
        command
            .args(["batch", "grant", "--file"])
            .arg(&list)
            .arg("--config")
            .arg(&config)
            .args(extra)
            .current_dir(dir.path())
            .env_remove("RUST_LOG");
        command
    };
    let cases: [(&[&str], &str); 3] = [
        (
            &["--principal", "attacker@contoso.example"],
            "principal_not_allowed",
        ),
        (&["--level", "Editor"], "level_not_allowed"),
        (
            &[
                "--principal",
                "user00002@contoso.example",
                "--level",
                "Owner",
            ],
            "level_not_allowed",
        ),
    ];
    for (extra, code) in cases {
        let output = batch_grant(extra).output().await.unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{extra:?}: {stdout}\n{stderr}"
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "one problem line, no NDJSON results: {stdout}"
        );
        let problem: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(problem["code"], code, "{extra:?}: {problem}");
        assert_eq!(problem["status"], 403);
        assert!(stderr.contains(code), "{stderr}");
    }
    assert_eq!(ews_requests(&sim), 0, "nothing reached Exchange");
    assert!(
        !dir.path().join("audit.jsonl").exists(),
        "no audit file was even opened"
    );

    // The allowed extra principal at a level within the maximum is granted.
    let output = batch_grant(&[
        "--principal",
        "USER00002@contoso.example",
        "--level",
        "Author",
    ])
    .output()
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["changed"], 2, "{stdout}");
}

#[tokio::test]
async fn one_refused_account_of_two_is_reported_and_its_mailboxes_fail_over() {
    let sim = start_sim(&sim_state(2, 20, 0, 10)).await;
    let api = start_api(app_state(
        &sim,
        &[("svc1", PASSWORD), ("svc2", "not-the-password")],
        5,
        None,
        &[],
    ))
    .await;
    let probe = api::spawn_readiness(&api.state);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let response = reqwest::get(api.url("/readyz")).await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if status == 200 && text.contains("svc2@contoso.example: exchange refused") {
            break text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    probe.abort();
    assert!(text.contains("1 of 2"), "{text}");
    assert!(text.contains("svc1@contoso.example: healthy"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");

    let list: Vec<String> = (0..20).map(mailbox).collect();
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    let lines = Lines::new(response).all().await;
    assert_eq!(lines[20]["summary"]["ok"], 20, "{lines:#?}");
    assert!(
        lines[..20].iter().all(|line| line.get("error").is_none()),
        "the refused account's mailboxes went to the other one: {lines:#?}"
    );

    let metrics = reqwest::get(api.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"ews_connector_account_state{account="svc2@contoso.example",state="auth_failed"} 1"#,
        r#"ews_connector_account_state{account="svc1@contoso.example",state="healthy"} 1"#,
        "ews_connector_batch_mailboxes_done_total 20",
    ] {
        assert!(metrics.contains(expected), "{expected} in:\n{metrics}");
    }
    assert!(!metrics.contains("not-the-password"));
    let failovers: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("ews_connector_failovers_total "))
        .expect("a failovers counter")
        .parse()
        .unwrap();
    assert!(failovers > 0, "{metrics}");
    let stats = sim.stats();
    assert!(
        stats.ntlm_refused <= 1,
        "the wrong password is tried once, not per mailbox: {stats:?}"
    );
}

#[tokio::test]
async fn the_batch_command_prints_ndjson_and_the_summary_without_a_progress_bar() {
    let sim = start_sim(&sim_state(1, 5, 0, 10)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("svc.password"), format!("{PASSWORD}\n")).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[exchange]
url = "{url}"
access = "impersonation"
impersonation = true
max_concurrency_per_account = 3

[[exchange.accounts]]
username = 'CONTOSO\svc1'
smtp = "svc1@contoso.example"
password_file = "svc.password"

[delegation]
principal = "{PRINCIPAL}"
level = "Editor"

[audit]
path = "audit.jsonl"
"#,
            url = sim.url
        ),
    )
    .unwrap();
    let list = dir.path().join("mailboxes.txt");
    let mut text = String::from("# staff\n\n");
    for index in 0..5 {
        text.push_str(&mailbox(index));
        text.push('\n');
    }
    text.push_str(&mailbox(2).to_uppercase());
    text.push_str("\nnot-an-address\n");
    std::fs::write(&list, text).unwrap();

    let output = tokio::process::Command::new(BINARY)
        .args(["batch", "check", "--file"])
        .arg(&list)
        .arg("--config")
        .arg(&config)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 7, "{stdout}");
    assert_eq!(lines[6]["summary"]["total"], 6);
    assert_eq!(lines[6]["summary"]["ok"], 5);
    assert_eq!(lines[6]["summary"]["failed"], 1);
    assert!(
        lines[..6]
            .iter()
            .any(|line| line["error"]["code"] == "invalid_mailbox")
    );
    assert!(
        !stderr.contains("mailboxes,") && !stderr.contains('\r'),
        "no progress bar when stderr is not a terminal: {stderr}"
    );
}

/// Exchange's `EWSMaxConcurrency` set below the connector's ceiling (a throttling policy that
/// was never raised, or another client on the same account): every request beyond it is refused
/// with `ErrorExceededConnectionCount`, a fault without `BackOffMilliseconds`. The batch still
/// completes, and the refusals stay few: the account's in-flight count comes down to what
/// Exchange admits instead of every caller retrying at once.
#[tokio::test]
async fn a_burst_above_exchanges_connection_limit_completes_without_a_storm() {
    let sim = start_sim(&sim_state(1, 60, 30, 2)).await;
    let api = start_api(app_state(&sim, &[("svc1", PASSWORD)], 8, None, &[])).await;
    let list: Vec<String> = (0..60).map(mailbox).collect();
    let started = std::time::Instant::now();
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    let lines = Lines::new(response).all().await;
    let elapsed = started.elapsed();
    assert_eq!(lines.len(), 61);
    assert_eq!(lines[60]["summary"]["ok"], 60, "{}", lines[60]);
    let stats = sim.stats();
    let refusals = stats.connection_count_answers;
    // Eight places, two admitted: at most the six of the first burst are refused, then the
    // account keeps to the limit Exchange named (no second burst, no busy loop).
    assert!(
        (1..=6).contains(&refusals),
        "{refusals} ErrorExceededConnectionCount answers"
    );
    assert_eq!(
        stats.requests("GetFolder"),
        60 + refusals,
        "each refused once"
    );
    let peak = stats.peak_concurrency["svc1@contoso.example"];
    assert!(peak <= 8, "peak {peak}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");

    // Operators see the limit Exchange named.
    let metrics = reqwest::get(api.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "ews_connector_account_concurrency_limit{account=\"svc1@contoso.example\"} 2\n"
        ),
        "{metrics}"
    );

    // The next burst keeps to the limit learned: not one refusal more.
    let response = post(
        &api,
        "/v1/calendar/access:batch",
        &json!({"mailboxes": list}),
    )
    .await;
    let lines = Lines::new(response).all().await;
    assert_eq!(lines[60]["summary"]["ok"], 60, "{}", lines[60]);
    assert_eq!(sim.stats().connection_count_answers, refusals);
}
