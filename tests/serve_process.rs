//! `ews-connector serve` as an operator runs it: a wrong password costs exactly one failed
//! handshake however many requests arrive, until the password file changes and SIGHUP arrives;
//! SIGHUP also reopens a rotated audit file; SIGTERM stops the process cleanly.

#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &Path, sim_url: &str, port: u16, token_sha256: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[exchange]
url = "{sim_url}"
access = "delegate"
impersonation = true
retry_budget_secs = 2

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "svc.password"

[delegation]
principal = "mytimetable-push@contoso.example"

[api]
listen = "127.0.0.1:{port}"
allowed_domains = ["contoso.example"]

[[api.clients]]
name = "mytimetable"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check", "calendar:delegate"]

[audit]
path = "audit.jsonl"
"#
        ),
    )
    .unwrap();
    path
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

async fn wait_until_serving(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await {
            if response.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("serve did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_costs_one_handshake_until_sighup_brings_the_right_one() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("svc.password"), "Wr0ng-Passw0rd\n").unwrap();
    let (token, token_sha256) = ews_connector::api::token::new_token();
    let port = free_port();
    let config = write_config(dir.path(), &sim.url, port, &token_sha256);
    let mut child = tokio::process::Command::new(BINARY)
        .args(["serve", "--config", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_until_serving(&client, &base).await;

    let access = format!("{base}/v1/mailboxes/granted@contoso.example/calendar/access");
    let requests: Vec<_> = (0..20)
        .map(|_| tokio::spawn(client.get(&access).bearer_auth(&token).send()))
        .collect();
    for request in requests {
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status(), 502);
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "exchange_auth_failed", "{problem}");
    }
    assert_eq!(
        sim.stats().ntlm_refused,
        1,
        "one failed handshake for 20 requests"
    );

    // SIGHUP with the file unchanged: still no new attempt with the refused password.
    signal(pid, "HUP");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = client
        .get(&access)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(sim.stats().ntlm_refused, 1);

    // The operator fixes the file, rotates the audit log, and sends SIGHUP.
    std::fs::write(dir.path().join("svc.password"), format!("{SVC_PASSWORD}\n")).unwrap();
    std::fs::rename(
        dir.path().join("audit.jsonl"),
        dir.path().join("audit.jsonl.1"),
    )
    .unwrap();
    signal(pid, "HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = client
            .get(&access)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["status"], "ok", "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new password was not taken up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sim.stats().ntlm_refused, 1);

    let grant = format!("{base}/v1/mailboxes/plain@contoso.example/calendar/delegation");
    let response = client.put(&grant).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.contains("plain@contoso.example"),
        "the record went to the reopened file: {audit}"
    );

    signal(pid, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let mut stderr = String::new();
    use tokio::io::AsyncReadExt;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(
        !stderr.contains(SVC_PASSWORD) && !stderr.contains("Wr0ng-Passw0rd"),
        "{stderr}"
    );
    assert!(!stderr.contains(&token), "{stderr}");
}
