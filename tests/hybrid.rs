//! A hybrid organisation through the real `ews-connector serve` process: on-premises mailboxes
//! on the EWS simulator, Exchange Online ones on the Graph simulator (started in-process, its
//! application certificate made here), routed per mailbox by `[routing]`. Checks on both sides,
//! a moved mailbox found through `follow_moves` and then served from the remembered side in one
//! request, grant and revoke on Graph that leave other grantees alone and write nothing on a
//! repeat, a level Graph cannot express refused before any Graph request, batches that mix
//! both sides, push on Graph (its PATCH naming only the changed field and our ContentHash), and
//! a refused `$batch` part answered as one event in the sync's `failed`.

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
/// The application's client secret, registered beside the certificate.
const SECRET: &str = "Hybr1d~Secret.Value_0123456789abcdef";

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
        secrets: vec![SECRET.to_owned()],
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

/// How a [`Hybrid`] differs from the default: the tenant's token lifetime, serve's log level,
/// and the application's proof (the certificate unless `secret`).
struct Setup {
    token_lifetime: Option<Duration>,
    log_level: &'static str,
    secret: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            token_lifetime: None,
            log_level: "info",
            secret: false,
        }
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
        Hybrid::start_with(Setup::default()).await
    }

    async fn start_with(setup: Setup) -> Hybrid {
        let dir = tempfile::tempdir().unwrap();
        let pem = certificate_pem(dir.path());
        let certificate = CertificateCredential::from_pem(pem.as_bytes()).unwrap();
        std::fs::write(dir.path().join("graph.pem"), &pem).unwrap();
        std::fs::write(dir.path().join("graph.secret"), format!("{SECRET}\n")).unwrap();
        for file in ["graph.pem", "graph.secret"] {
            std::fs::set_permissions(
                dir.path().join(file),
                <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("svc.password"), format!("{SVC_PASSWORD}\n")).unwrap();
        let ews = start_sim(&sample_state()).await;
        let mut tenant = tenant(&certificate);
        if let Some(lifetime) = setup.token_lifetime {
            tenant.token_lifetime = lifetime;
        }
        let graph = start(tenant).await.unwrap();
        let proof = if setup.secret {
            "client_secret_file = \"graph.secret\""
        } else {
            "certificate_file = \"graph.pem\""
        };
        let log_level = setup.log_level;
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
{proof}
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
scopes = ["calendar:check", "calendar:delegate", "calendar:push"]

[audit]
path = "audit.jsonl"

[log]
level = "{log_level}"
"#,
                ews_url = ews.url,
            ),
        )
        .unwrap();
        let child = tokio::process::Command::new(BINARY)
            .args(["serve", "--config", config.to_str().unwrap()])
            .stdout(std::fs::File::create(dir.path().join("serve.out")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("serve.err")).unwrap())
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

    /// Stops serve (SIGTERM, a clean exit) and the Graph simulator; the directory, with serve's
    /// output (`serve.out`, `serve.err`) and audit file, lives on in what it returns.
    async fn stop(mut self) -> tempfile::TempDir {
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
        self.dir
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

impl Hybrid {
    /// `method` to `path` with an optional JSON body: the status and the JSON answer (`null`
    /// for an empty one).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, json)
    }

    /// A window sync (`PUT path`) of `events`.
    async fn sync(&self, path: &str, events: &[serde_json::Value]) -> (u16, serde_json::Value) {
        let body = serde_json::json!({ "events": events });
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
}

/// A lecture in Amsterdam `index` slots of 45 minutes after 4 January 2027 08:00 UTC.
fn lecture(subject: &str, index: i64) -> serde_json::Value {
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-04T08:00:00Z").unwrap()
        + chrono::TimeDelta::minutes(45 * index);
    serde_json::json!({
        "subject": subject,
        "start": start.to_rfc3339(),
        "end": (start + chrono::TimeDelta::hours(1)).to_rfc3339(),
        "timeZone": "Europe/Amsterdam",
        "location": "Room 1.14",
        "reminderMinutesBeforeStart": 15
    })
}

/// `count` lectures 45 minutes apart, `mytt:2027:0000` onwards, as a window sync sends them.
fn numbered_lectures(count: i64) -> Vec<serde_json::Value> {
    (0..count)
        .map(|index| {
            let mut body = lecture(&format!("Lecture {index}"), index);
            body["externalId"] = serde_json::json!(format!("mytt:2027:{index:04}"));
            body
        })
        .collect()
}

#[tokio::test]
async fn push_on_graph_through_serve_upserts_lists_syncs_and_deletes_with_counted_writes() {
    use reqwest::Method;
    let hybrid = Hybrid::start().await;
    let event = format!("/v1/mailboxes/{STUDENT}/calendar/events/mytt:1");
    let window = "start=2027-01-01T00:00:00Z&end=2027-02-01T00:00:00Z";

    let (status, body) = hybrid
        .call(Method::PUT, &event, Some(lecture("Algebra", 0)))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["result"], "created", "{body}");
    assert_eq!(body["backend"], "graph", "{body}");
    let writes = hybrid.graph.mailbox_stats(STUDENT).writes;
    let (status, body) = hybrid
        .call(Method::PUT, &event, Some(lecture("Algebra", 0)))
        .await;
    assert_eq!(
        (status, &body["result"]),
        (200, &serde_json::json!("unchanged"))
    );
    assert_eq!(
        hybrid.graph.mailbox_stats(STUDENT).writes,
        writes,
        "no Graph write"
    );
    let (status, body) = hybrid
        .call(Method::PUT, &event, Some(lecture("Algebra (Aula)", 0)))
        .await;
    assert_eq!(
        (status, &body["result"]),
        (200, &serde_json::json!("updated"))
    );
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).event_patches, 1);
    assert_eq!(
        hybrid.graph.patched_fields(STUDENT),
        vec![vec![
            "singleValueExtendedProperties".to_owned(),
            "subject".to_owned()
        ]]
    );
    assert_eq!(
        hybrid.graph.patched_extended_properties(STUDENT),
        vec![vec![
            "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ContentHash".to_owned()
        ]],
        "of our properties only the ContentHash: the ExternalId never changes"
    );
    let (status, body) = hybrid
        .call(
            Method::GET,
            &format!("/v1/mailboxes/{STUDENT}/calendar/events?{window}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"][0]["subject"], "Algebra (Aula)", "{body}");
    assert_eq!(body["backend"], "graph");
    let (status, _) = hybrid.call(Method::DELETE, &event, None).await;
    assert_eq!(status, 204);
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).event_deletes, 1);
    let writes = hybrid.graph.mailbox_stats(STUDENT).writes;
    let (status, body) = hybrid.call(Method::DELETE, &event, None).await;
    assert_eq!(
        (status, &body["code"]),
        (404, &serde_json::json!("event_not_found"))
    );
    assert_eq!(
        hybrid.graph.mailbox_stats(STUDENT).writes,
        writes,
        "no DELETE sent"
    );

    // A window sync of 500 with the default batch size: 25 batched requests.
    let events = numbered_lectures(500);
    let sync = format!("/v1/mailboxes/{STUDENT}/calendar/events?{window}");
    let batches = hybrid.graph.stats().batches;
    let (status, body) = hybrid.sync(&sync, &events).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"], 500, "{body}");
    assert!(hybrid.graph.stats().batches - batches <= 25);
    let writes = hybrid.graph.mailbox_stats(STUDENT).writes;
    let (status, body) = hybrid.sync(&sync, &events).await;
    assert_eq!(
        (status, &body["unchanged"]),
        (200, &serde_json::json!(500)),
        "{body}"
    );
    assert_eq!(
        hybrid.graph.mailbox_stats(STUDENT).writes,
        writes,
        "no Graph write"
    );
    hybrid.stop().await;
}

#[tokio::test]
async fn a_refused_batch_part_through_serve_is_one_failed_event_and_the_next_sync_creates_it() {
    use ews_connector::sim::graph::{GraphFault, GraphFaultKind};
    let hybrid = Hybrid::start().await;
    let sync = format!(
        "/v1/mailboxes/{STUDENT}/calendar/events?start=2027-01-01T00:00:00Z&end=2027-02-01T00:00:00Z"
    );
    let events = numbered_lectures(30);
    hybrid.graph.push_fault(GraphFault::for_mailbox(
        STUDENT,
        1,
        GraphFaultKind::PartError {
            status: 403,
            code: "ErrorAccessDenied".to_owned(),
            message: "Access is denied. Check credentials and try again.".to_owned(),
        },
    ));
    let (status, body) = hybrid.sync(&sync, &events).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"], 29, "{body}");
    assert_eq!(body["backend"], "graph");
    let failed = body["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{body}");
    let external_id = failed[0]["externalId"].as_str().unwrap().to_owned();
    let error = &failed[0]["error"];
    assert_eq!(error["code"], "access_denied", "{error}");
    assert_eq!(error["status"], 422, "{error}");
    assert_eq!(error["graphErrorCode"], "ErrorAccessDenied", "{error}");
    assert_eq!(error["mailbox"], STUDENT, "{error}");
    assert!(error["requestId"].as_str().is_some(), "{error}");
    assert!(
        error["detail"]
            .as_str()
            .unwrap()
            .contains("Access is denied"),
        "{error}"
    );
    let ours = |id: &str| {
        hybrid
            .graph
            .events(STUDENT)
            .unwrap()
            .into_iter()
            .filter(|event| {
                event.extended_property(
                    "String {9448D9B9-3E57-4FB4-9449-F4A30737A76A} Name ExternalId",
                ) == Some(id)
            })
            .count()
    };
    assert_eq!(ours(&external_id), 0, "not created");
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).event_creates, 29);

    let (status, body) = hybrid.sync(&sync, &events).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["created"], &body["unchanged"], &body["deleted"]),
        (
            &serde_json::json!(1),
            &serde_json::json!(29),
            &serde_json::json!(0)
        ),
        "{body}"
    );
    assert_eq!(body["failed"], serde_json::json!([]));
    assert_eq!(ours(&external_id), 1, "created by the second sync");
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).event_creates, 30);
    hybrid.stop().await;
}

/// Runs a one-shot command of the binary against the hybrid's configuration; its exit code and
/// stdout.
async fn one_shot(hybrid: &Hybrid, args: &[&str]) -> (i32, String) {
    let config = hybrid.dir.path().join("config.toml");
    let output = tokio::process::Command::new(BINARY)
        .args(args)
        .arg("--config")
        .arg(&config)
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_shot_commands_are_routed_as_serve_routes() {
    let hybrid = Hybrid::start().await;

    // `check`: a Graph mailbox on Graph, an on-premises one on EWS.
    let (code, out) = one_shot(&hybrid, &["check", STUDENT, "--json"]).await;
    assert_eq!(code, 0, "{out}");
    let body: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["accessMode"], "application", "{body}");
    assert_eq!(body["ready"], true, "{body}");
    let (code, out) = one_shot(&hybrid, &["check", ON_PREMISES, "--json"]).await;
    assert_eq!(code, 0, "{out}");
    let body: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["backend"], "ews", "{body}");
    // The table names the backend's error code too.
    let (code, out) = one_shot(&hybrid, &["check", OUTSIDE]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ErrorAccessDenied"), "{out}");

    // `grant` and `revoke` write on Graph, other grantees untouched.
    let before = others(&hybrid.graph.permissions(STUDENT).unwrap());
    let writes = hybrid.graph.mailbox_stats(STUDENT).writes;
    let (code, out) = one_shot(&hybrid, &["grant", STUDENT, "--json"]).await;
    assert_eq!(code, 0, "{out}");
    let body: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(hybrid.graph.mailbox_stats(STUDENT).writes, writes + 1);
    let principal = hybrid.graph.permissions(STUDENT).unwrap();
    assert!(
        principal
            .iter()
            .any(|p| p.address.as_deref() == Some(PRINCIPAL)),
        "{principal:?}"
    );
    let (code, out) = one_shot(&hybrid, &["revoke", STUDENT, "--json"]).await;
    assert_eq!(code, 0, "{out}");
    let body: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["backend"], "graph", "{body}");
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(others(&hybrid.graph.permissions(STUDENT).unwrap()), before);

    // `batch check`: each line on its side.
    let list = hybrid.dir.path().join("list.txt");
    std::fs::write(&list, format!("{STUDENT}\n{ON_PREMISES}\n")).unwrap();
    let (code, out) = one_shot(
        &hybrid,
        &["batch", "check", "--file", list.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let backend_of = |mailbox: &str| {
        lines
            .iter()
            .find(|line| line["mailbox"] == mailbox)
            .map(|line| line["backend"].clone())
    };
    assert_eq!(backend_of(STUDENT), Some("graph".into()), "{out}");
    assert_eq!(backend_of(ON_PREMISES), Some("ews".into()), "{out}");

    hybrid.stop().await;
}

/// How many token requests a stream of checks lasting `stream` makes with tokens living
/// `lifetime`: the connector asks for its first token at the first Graph request and for a new
/// one at the first request after `lifetime - refresh_margin(lifetime)` since it asked for the
/// one it holds. So refreshes come every such period plus the gap to the next request (at most
/// `slack`): at least 1 + floor(stream / (period + slack)), at most ceil(stream / period).
fn expected_token_requests(stream: Duration, lifetime: Duration, slack: Duration) -> (u64, u64) {
    let period = lifetime - ews_connector::graph::auth::refresh_margin(lifetime);
    let low = 1 + (stream.as_secs_f64() / (period + slack).as_secs_f64()).floor() as u64;
    let high = (stream.as_secs_f64() / period.as_secs_f64()).ceil() as u64;
    (low, high)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_of_checks_outlives_its_tokens_without_a_failed_request() {
    let lifetime = Duration::from_secs(2);
    let hybrid = Hybrid::start_with(Setup {
        token_lifetime: Some(lifetime),
        ..Setup::default()
    })
    .await;
    // serve asks Entra for nothing until a Graph mailbox is asked about.
    assert_eq!(hybrid.graph.stats().token_requests, 0);

    let stream = Duration::from_secs(10);
    let interval = Duration::from_millis(50);
    let started = Instant::now();
    let mut checks = 0u64;
    while started.elapsed() < stream {
        let mailbox = [STUDENT, MOVED][checks as usize % 2];
        let body = hybrid.check(mailbox).await;
        assert_eq!(body["backend"], "graph", "{body}");
        assert_eq!(body["ready"], true, "{body}");
        checks += 1;
        tokio::time::sleep(interval).await;
    }
    let stats = hybrid.graph.stats();
    // Not one request went out with an expired token, and none was refused.
    assert_eq!(stats.unauthorized, 0, "{stats:?}");
    assert_eq!(stats.token_refusals, 0, "{stats:?}");
    assert_eq!(stats.concurrency_refusals, 0, "{stats:?}");
    // One token, then one refresh per 1.5 s (a 2 s token is replaced a quarter of its lifetime
    // early): 7 in 10 s when the gaps between checks are short; a gap of up to 400 ms per
    // refresh (a loaded machine) leaves 6.
    let (low, high) = expected_token_requests(stream, lifetime, Duration::from_millis(400));
    assert_eq!((low, high), (6, 7));
    assert!(
        (low..=high).contains(&stats.token_requests),
        "{} token requests for a {stream:?} stream of {checks} checks; expected {low} to {high}",
        stats.token_requests
    );
    hybrid.stop().await;
}

/// The lines of a PEM block's body (base64), which must appear nowhere.
fn pem_body_lines(pem: &str, label: &str) -> Vec<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .unwrap();
    body.lines()
        .map(str::trim)
        .filter(|line| line.len() >= 16)
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_key_assertion_or_token_reaches_the_output_at_debug_level() {
    for secret in [false, true] {
        let hybrid = Hybrid::start_with(Setup {
            token_lifetime: Some(Duration::from_secs(2)),
            log_level: "debug",
            secret,
        })
        .await;
        let pem = std::fs::read_to_string(hybrid.dir.path().join("graph.pem")).unwrap();

        // Checks on both sides, a grant and a revoke on Graph, a token refresh, more checks.
        for mailbox in [STUDENT, OUTSIDE, UNKNOWN, ON_PREMISES, MOVED] {
            hybrid.check(mailbox).await;
        }
        let (status, body) = hybrid.grant(STUDENT, serde_json::json!({})).await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let (status, body) = hybrid.revoke(STUDENT).await;
        assert_eq!(status, 200, "{body}");
        hybrid.check(STUDENT).await;
        let stats = hybrid.graph.stats();
        assert!(stats.tokens_issued >= 2, "a refresh happened: {stats:?}");

        let mut forbidden: Vec<(String, String)> = Vec::new();
        for token in hybrid.graph.issued_tokens() {
            forbidden.push(("an access token".to_owned(), token));
        }
        let assertions = hybrid.graph.client_assertions();
        if secret {
            assert!(assertions.is_empty());
            forbidden.push(("the client secret".to_owned(), SECRET.to_owned()));
        } else {
            assert!(assertions.len() >= 2, "{}", assertions.len());
            for assertion in assertions {
                forbidden.push(("a client assertion".to_owned(), assertion.clone()));
                // Its signature alone, too.
                let signature = assertion.rsplit('.').next().unwrap().to_owned();
                forbidden.push(("a client assertion's signature".to_owned(), signature));
            }
        }
        for line in pem_body_lines(&pem, "PRIVATE KEY") {
            forbidden.push(("the private key".to_owned(), line));
        }
        assert!(stats.tokens_issued as usize <= hybrid.graph.issued_tokens().len());

        let audit_len = hybrid.audit().len();
        assert!(audit_len >= 4, "grant and revoke audited: {audit_len}");
        let dir = hybrid.stop().await;
        let outputs: Vec<(&str, String)> = ["serve.out", "serve.err", "audit.jsonl"]
            .into_iter()
            .map(|name| {
                (
                    name,
                    std::fs::read_to_string(dir.path().join(name)).unwrap(),
                )
            })
            .collect();
        // The log really is at debug level, and talks about Graph.
        let log = &outputs[1].1;
        assert!(log.contains("DEBUG"), "{log}");
        for (name, text) in &outputs {
            for (what, value) in &forbidden {
                assert!(
                    !text.contains(value.as_str()),
                    "{what} in {name} (secret: {secret})"
                );
            }
        }
    }
}
