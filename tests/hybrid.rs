//! A hybrid organisation through the real `ews-connector serve` process: on-premises mailboxes
//! on the EWS simulator, Exchange Online ones on the Graph simulator (started in-process, its
//! application certificate made here), routed per mailbox by `[routing]`. Checks on both sides,
//! a moved mailbox found through `follow_moves` and then served from the remembered side in one
//! request, grant and revoke on Graph that leave other grantees alone and write nothing on a
//! repeat, a level Graph cannot express refused before any Graph request, and batches that mix
//! both sides.

#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::sim::{SVC_PASSWORD, sample_state, start_sim};
use ews_connector::graph::auth::CertificateCredential;
use ews_connector::sim::SimHandle;
use ews_connector::sim::graph::{
    GraphGrant, GraphMailbox, GraphPermissionView, GraphSimConfig, GraphSimHandle, start,
};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");
const TENANT: &str = "contoso.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const PRINCIPAL: &str = "mytimetable-push@contoso.example";
const STUDENT: &str = "student@students.contoso.example";
const OUTSIDE: &str = "board@students.contoso.example";
const UNKNOWN: &str = "nobody@students.contoso.example";
const ON_PREMISES: &str = "granted@contoso.example";
const MOVED: &str = "moved@contoso.example";

/// A self-signed RSA certificate with its key, as one PEM text (certificate first).
fn certificate_pem(dir: &Path) -> String {
    let (cert, key) = (dir.join("graph-cert.pem"), dir.join("graph-key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=app",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    format!(
        "{}{}",
        std::fs::read_to_string(cert).unwrap(),
        std::fs::read_to_string(key).unwrap()
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The tenant: a student with other grantees, one outside the application's scope, the
/// mailbox that moved from on-premises, and an on-premises one Graph does not serve.
fn tenant(certificate: &CertificateCredential) -> GraphSimConfig {
    let grant = |address: &str, role: &str| GraphGrant {
        address: address.to_owned(),
        name: None,
        role: role.to_owned(),
    };
    GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        certificates: vec![certificate.der().to_vec()],
        mailboxes: vec![
            GraphMailbox {
                permissions: vec![
                    grant("mentor@students.contoso.example", "read"),
                    grant("alice@contoso.example", "delegateWithPrivateEventAccess"),
                ],
                ..GraphMailbox::new(STUDENT)
            },
            GraphMailbox {
                in_scope: false,
                ..GraphMailbox::new(OUTSIDE)
            },
            GraphMailbox::new(MOVED),
            GraphMailbox {
                exchange_online: false,
                ..GraphMailbox::new(ON_PREMISES)
            },
        ],
        ..GraphSimConfig::default()
    }
}

struct Hybrid {
    ews: SimHandle,
    graph: GraphSimHandle,
    child: tokio::process::Child,
    base: String,
    token: String,
    client: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Hybrid {
    async fn start() -> Hybrid {
        let dir = tempfile::tempdir().unwrap();
        let pem = certificate_pem(dir.path());
        let certificate = CertificateCredential::from_pem(pem.as_bytes()).unwrap();
        std::fs::write(dir.path().join("graph.pem"), &pem).unwrap();
        std::fs::write(dir.path().join("svc.password"), format!("{SVC_PASSWORD}\n")).unwrap();
        let ews = start_sim(&sample_state()).await;
        let graph = start(tenant(&certificate)).await.unwrap();
        let (token, token_sha256) = ews_connector::api::token::new_token();
        let port = free_port();
        let graph_url = graph.base_url();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[exchange]
url = "{ews_url}"
access = "delegate"
impersonation = true
retry_budget_secs = 2

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "svc.password"

[delegation]
principal = "{PRINCIPAL}"

[graph]
tenant_id = "{TENANT}"
client_id = "{CLIENT}"
certificate_file = "graph.pem"
authority = "{graph_url}"
endpoint = "{graph_url}"
max_concurrency = 8

[routing]
default = "ews"
graph_domains = ["students.contoso.example"]
follow_moves = true

[api]
listen = "127.0.0.1:{port}"
allowed_domains = ["contoso.example", "students.contoso.example"]

[[api.clients]]
name = "mytimetable"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check", "calendar:delegate"]

[audit]
path = "audit.jsonl"
"#,
                ews_url = ews.url,
            ),
        )
        .unwrap();
        let child = tokio::process::Command::new(BINARY)
            .args(["serve", "--config", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let hybrid = Hybrid {
            ews,
            graph,
            child,
            base: format!("http://127.0.0.1:{port}"),
            token,
            client: reqwest::Client::new(),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = hybrid
                .client
                .get(format!("{}/healthz", hybrid.base))
                .send()
                .await
            {
                if response.status() == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "serve did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        hybrid
    }

    async fn check(&self, mailbox: &str) -> serde_json::Value {
        let response = self
            .client
            .get(format!(
                "{}/v1/mailboxes/{mailbox}/calendar/access",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mailbox}");
        response.json().await.unwrap()
    }

    async fn grant(&self, mailbox: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self
            .client
            .put(format!(
                "{}/v1/mailboxes/{mailbox}/calendar/delegation",
                self.base
            ))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn revoke(&self, mailbox: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .delete(format!(
                "{}/v1/mailboxes/{mailbox}/calendar/delegation",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// The NDJSON lines of a batch route.
    async fn batch(&self, route: &str, body: serde_json::Value) -> Vec<serde_json::Value> {
        let response = self
            .client
            .post(format!("{}/v1/calendar/{route}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// EWS requests that named a mailbox: every request but the readiness probe's own-mailbox
    /// ones and the principal group's ExpandDL (both in the background).
    fn ews_mailbox_requests(&self) -> u64 {
        let stats = self.ews.stats();
        stats.requests_by_operation.values().sum::<u64>()
            - stats.own_mailbox_requests
            - stats.requests("ExpandDL")
    }

    fn audit(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    async fn stop(mut self) {
        let pid = self.child.id().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(exit.success(), "{exit:?}");
        self.graph.shutdown().await;
    }
}

/// The grantees other than `principal`, as Graph holds them.
fn others(permissions: &[GraphPermissionView]) -> Vec<GraphPermissionView> {
    permissions
        .iter()
        .filter(|p| {
            !p.address
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(PRINCIPAL))
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mailbox_is_checked_on_its_side_and_a_moved_one_is_remembered() {
    let hybrid = Hybrid::start().await;

    // A Graph mailbox (a graph domain): the application, ready by canEdit; EWS never asked.
    let ews_before = hybrid.ews_mailbox_requests();
    let body = hybrid.check(STUDENT).await;
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["accessMode"], "application", "{body}");
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["impersonation"], "not_configured", "{body}");
    assert_eq!(body["serviceAccount"], CLIENT, "{body}");
    assert_eq!(body["graphErrorCode"], serde_json::Value::Null, "{body}");
    assert_eq!(body["ewsResponseCode"], serde_json::Value::Null, "{body}");
    assert_eq!(body["effectiveRights"]["createContents"], true, "{body}");
    // The principal's level as read (informational): no entry, so "My Organization".
    assert_eq!(body["delegation"]["level"], "FreeBusyTimeOnly", "{body}");
    assert_eq!(body["delegation"]["via"], "Default", "{body}");
    assert_eq!(body["delegation"]["sufficient"], false, "{body}");
    assert_eq!(hybrid.ews_mailbox_requests(), ews_before);

    // Outside the application's RBAC scope: a definite no_access with Graph's code.
    let body = hybrid.check(OUTSIDE).await;
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["status"], "no_access", "{body}");
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(body["graphErrorCode"], "ErrorAccessDenied", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("scope"), "{body}");

    // Unknown in a Graph domain: Graph's answer.
    let body = hybrid.check(UNKNOWN).await;
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["status"], "mailbox_not_found", "{body}");
    assert_eq!(body["graphErrorCode"], "ErrorInvalidUser", "{body}");
    // Unknown on both sides of a routed domain: the default side's (EWS) answer.
    let body = hybrid.check("nobody@contoso.example").await;
    assert_eq!(body["backend"], "ews", "{body}");
    assert_eq!(body["status"], "mailbox_not_found", "{body}");
    assert_eq!(body["graphErrorCode"], serde_json::Value::Null, "{body}");

    // On-premises: EWS answers, Graph is never asked.
    let body = hybrid.check(ON_PREMISES).await;
    assert_eq!(body["backend"], "ews", "{body}");
    assert_eq!(body["accessMode"], "delegate", "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(hybrid.graph.mailbox_stats(ON_PREMISES).requests, 0);

    // Moved: EWS says mailbox_not_found (with its MailboxGuid), Graph holds it.
    let ews_before = hybrid.ews_mailbox_requests();
    let body = hybrid.check(MOVED).await;
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["ready"], true, "{body}");
    assert!(
        hybrid.ews_mailbox_requests() > ews_before,
        "EWS asked first"
    );
    // Then served from the remembered side in one request: EWS not asked, one Graph HTTP
    // request (a `$batch` of the calendar and its permissions).
    let ews_before = hybrid.ews_mailbox_requests();
    let graph_before = hybrid.graph.stats();
    let body = hybrid.check(MOVED).await;
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["status"], "ok", "{body}");
    let graph_after = hybrid.graph.stats();
    assert_eq!(hybrid.ews_mailbox_requests(), ews_before, "EWS not asked");
    assert_eq!(graph_after.batches - graph_before.batches, 1);
    assert_eq!(
        graph_after.api_requests - graph_before.api_requests,
        2,
        "the batch's two parts and no other request"
    );
    assert_eq!(graph_after.token_requests, graph_before.token_requests);

    hybrid.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_and_revoke_on_graph_touch_only_the_principal_and_batches_mix_both_sides() {
    let hybrid = Hybrid::start().await;
    let before = hybrid.graph.permissions(STUDENT).unwrap();
    assert_eq!(before.len(), 3, "My Organization and two grantees");

    let (status, body) = hybrid.grant(STUDENT, serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(body["level"], "Editor", "{body}");
    assert_eq!(body["previousLevel"], "None", "{body}");
    let granted = hybrid.graph.permissions(STUDENT).unwrap();
    assert_eq!(others(&granted), before, "other grantees identical");
    let entry = granted
        .iter()
        .find(|p| p.address.as_deref() == Some(PRINCIPAL))
        .expect("the principal's entry");
    assert_eq!(entry.role, "write");
    let records = hybrid.audit();
    let changed = records
        .iter()
        .find(|r| r["result"] == "changed")
        .expect("a changed record");
    assert_eq!(changed["backend"], "graph", "{changed}");
    assert_eq!(changed["mailbox"], STUDENT, "{changed}");

    // A repeat writes nothing.
    let writes = hybrid.graph.mailbox_stats(STUDENT).writes;
    let (status, body) = hybrid.grant(STUDENT, serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], false, "{body}");
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).writes, writes);

    // Author has no Graph role: refused before any Graph request.
    let requests = hybrid.graph.stats().api_requests;
    let (status, body) = hybrid
        .grant(STUDENT, serde_json::json!({"level": "Author"}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_level", "{body}");
    assert_eq!(hybrid.graph.stats().api_requests, requests);

    // A dry run reads only.
    let writes = hybrid.graph.mailbox_stats(STUDENT).writes;
    let (status, body) = hybrid
        .grant(
            STUDENT,
            serde_json::json!({"level": "Reviewer", "dryRun": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(body["dryRun"], true, "{body}");
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).writes, writes);

    // Revoke: the principal's entry goes, the rest is as it was before the grant.
    let (status, body) = hybrid.revoke(STUDENT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(body["previousLevel"], "Editor", "{body}");
    assert_eq!(hybrid.graph.permissions(STUDENT).unwrap(), before);
    let writes = hybrid.graph.mailbox_stats(STUDENT).writes;
    let (status, body) = hybrid.revoke(STUDENT).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changed"], false, "{body}");
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).writes, writes);

    // A check batch mixing both sides (and a mailbox that moved).
    let lines = hybrid
        .batch(
            "access:batch",
            serde_json::json!({"mailboxes": [STUDENT, ON_PREMISES, OUTSIDE, MOVED]}),
        )
        .await;
    let line = |mailbox: &str| {
        lines
            .iter()
            .find(|line| line["mailbox"] == mailbox)
            .unwrap_or_else(|| panic!("no line for {mailbox}: {lines:?}"))
            .clone()
    };
    assert_eq!(line(STUDENT)["backend"], "graph");
    assert_eq!(line(STUDENT)["status"], "ok");
    assert_eq!(line(ON_PREMISES)["backend"], "ews");
    assert_eq!(line(ON_PREMISES)["status"], "ok");
    assert_eq!(line(OUTSIDE)["graphErrorCode"], "ErrorAccessDenied");
    assert_eq!(line(MOVED)["backend"], "graph");
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["total"], 4, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");

    // A delegation batch across both sides.
    let lines = hybrid
        .batch(
            "delegation:batch",
            serde_json::json!({"mailboxes": [STUDENT, "plain@contoso.example"]}),
        )
        .await;
    let backends: Vec<(String, String)> = lines
        .iter()
        .filter(|line| line.get("mailbox").is_some())
        .map(|line| {
            (
                line["mailbox"].as_str().unwrap().to_owned(),
                line["backend"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    assert!(
        backends.contains(&(STUDENT.to_owned(), "graph".to_owned())),
        "{lines:?}"
    );
    assert!(
        backends.contains(&("plain@contoso.example".to_owned(), "ews".to_owned())),
        "{lines:?}"
    );
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["changed"], 2, "{summary}");
    assert_eq!(others(&hybrid.graph.permissions(STUDENT).unwrap()), before);

    hybrid.stop().await;
}
