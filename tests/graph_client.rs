//! The Graph client and `backend::graph` against a scripted local server that answers
//! Microsoft's documented JSON (`fixtures/graph/`, cited in its README): typed errors without
//! the token, the token refreshed once after `InvalidAuthenticationToken`, 429 retried after
//! `Retry-After` inside the retry budget and then failed as throttled, at most 4 requests in
//! flight per mailbox and `graph.max_concurrency` in all, `$batch` split at 20 parts and 4 per
//! mailbox, HTTP/2 by ALPN over TLS, and a grant that writes only the changed entry.
//!
//! Then against the Graph simulator (`sim::graph`, module `against_the_simulator`): readiness
//! from `canEdit`, `ErrorAccessDenied` outside the RBAC scope, `MailboxNotEnabledForRESTAPI`
//! for an on-premises mailbox, an unknown user, roles through the simulator's JSON, grant and
//! revoke through `Delegation` writing only the principal's entry (a repeat writes nothing),
//! a 429 retried after `Retry-After`, and no concurrency refusal with 40 requests and a
//! 30-part batch. The 401 refresh stays on the scripted server: a client that refreshes before
//! expiry never sends the simulator an expired token.

mod common;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

use ews_connector::backend::graph::GraphBackend;
use ews_connector::backend::{CalendarBackend, Error as BackendError, OpenAs};
use ews_connector::domain::permissions::{Grantee, PermissionEntry};
use ews_connector::domain::{Mailbox, PermissionLevel};
use ews_connector::exchange::FailureKind;
use ews_connector::graph::Error;
use ews_connector::graph::auth::{Credential, Settings as AuthSettings, TokenSource};
use ews_connector::graph::client::{BatchRequest, GraphClient, MAILBOX_CONCURRENCY, Settings};
use ews_connector::secret::Secret;

const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/fixtures/graph/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// One scripted answer.
#[derive(Clone)]
struct Scripted {
    status: u16,
    retry_after: Option<u64>,
    body: String,
}

fn answer(status: u16, body: &str) -> Scripted {
    Scripted {
        status,
        retry_after: None,
        body: body.to_owned(),
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: String,
    body: String,
    version: hyper::Version,
}

#[derive(Default)]
struct ServerState {
    /// Answers in order; when empty, `fallback` answers.
    script: VecDeque<Scripted>,
    fallback: Option<Scripted>,
    seen: Vec<Seen>,
    /// In flight per mailbox (the path segment after `users`), and the highest seen.
    in_flight: HashMap<String, usize>,
    max_in_flight: HashMap<String, usize>,
    total_in_flight: usize,
    max_total_in_flight: usize,
    /// How long each API answer takes.
    latency: Duration,
}

struct Server {
    url: String,
    state: Arc<Mutex<ServerState>>,
    tokens_issued: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
    ca_pem: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    fn push(&self, scripted: Scripted) {
        self.state.lock().unwrap().script.push_back(scripted);
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn api_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|seen| seen.path.starts_with("/v1.0/"))
            .collect()
    }
}

fn mailbox_of(path: &str) -> Option<String> {
    let mut segments = path.split('/');
    segments.find(|segment| *segment == "users")?;
    segments.next().map(|mailbox| {
        url::form_urlencoded::parse(format!("m={mailbox}").as_bytes())
            .next()
            .map(|(_, value)| value.to_ascii_lowercase())
            .unwrap_or_default()
    })
}

async fn handle(
    request: Request<hyper::body::Incoming>,
    state: Arc<Mutex<ServerState>>,
    tokens: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let version = request.version();
    let authorization = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    if path.ends_with("/oauth2/v2.0/token") {
        let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
        let json = format!(
            r#"{{"token_type":"Bearer","expires_in":3600,"access_token":"tok-{n}-secret"}}"#
        );
        return Ok(Response::new(Full::new(Bytes::from(json))));
    }
    let mailbox = mailbox_of(&path).unwrap_or_default();
    let latency = {
        let mut state = state.lock().unwrap();
        state.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            authorization,
            body: body.clone(),
            version,
        });
        let now = {
            let count = state.in_flight.entry(mailbox.clone()).or_insert(0);
            *count += 1;
            *count
        };
        let max = state.max_in_flight.entry(mailbox.clone()).or_insert(0);
        *max = (*max).max(now);
        state.total_in_flight += 1;
        state.max_total_in_flight = state.max_total_in_flight.max(state.total_in_flight);
        state.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let scripted = {
        let mut state = state.lock().unwrap();
        *state.in_flight.get_mut(&mailbox).unwrap() -= 1;
        state.total_in_flight -= 1;
        state.script.pop_front().or_else(|| state.fallback.clone())
    };
    let scripted = match scripted {
        Some(scripted) if path.ends_with("/$batch") && scripted.body == "ECHO" => {
            // Every part answered 200 with its own id and url.
            let envelope: serde_json::Value = serde_json::from_str(&body).unwrap();
            let responses: Vec<serde_json::Value> = envelope["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|part| {
                    serde_json::json!({"id": part["id"], "status": 200, "headers": {}, "body": {"url": part["url"]}})
                })
                .collect();
            answer(
                200,
                &serde_json::json!({ "responses": responses }).to_string(),
            )
        }
        Some(scripted) => scripted,
        None => answer(
            500,
            r#"{"error":{"code":"generalException","message":"unscripted"}}"#,
        ),
    };
    let mut response = Response::builder()
        .status(scripted.status)
        .header("content-type", "application/json");
    if let Some(seconds) = scripted.retry_after {
        response = response.header("retry-after", seconds.to_string());
    }
    Ok(response
        .body(Full::new(Bytes::from(scripted.body)))
        .unwrap())
}

/// A plain HTTP/1.1 server on loopback (the way the simulator is reached).
async fn server() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(ServerState::default()));
    let tokens = Arc::new(AtomicU64::new(0));
    let (task_state, task_tokens) = (state.clone(), tokens.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (state, tokens) = (task_state.clone(), task_tokens.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    handle(request, state.clone(), tokens.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Server {
        url,
        state,
        tokens_issued: tokens,
        task,
        ca_pem: None,
    }
}

/// A TLS server offering `h2` and `http/1.1` by ALPN, with a certificate for `localhost`.
async fn tls_server() -> Server {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let ca_pem = certified.cert.pem();
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let state = Arc::new(Mutex::new(ServerState::default()));
    let tokens = Arc::new(AtomicU64::new(0));
    let (task_state, task_tokens) = (state.clone(), tokens.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (state, tokens, acceptor) =
                (task_state.clone(), task_tokens.clone(), acceptor.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                let service = hyper::service::service_fn(move |request| {
                    handle(request, state.clone(), tokens.clone())
                });
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                }
            });
        }
    });
    Server {
        url,
        state,
        tokens_issued: tokens,
        task,
        ca_pem: Some(ca_pem),
    }
}

struct Client {
    client: Arc<GraphClient>,
    tokens: Arc<TokenSource>,
    _ca_dir: Option<tempfile_dir::Dir>,
}

/// A temporary directory without a crate: removed when dropped.
/// Opens the calendars of `mailboxes` 40 times at once, alternating, as the owner; every open
/// succeeds.
async fn open_forty_calendars(backend: &Arc<GraphBackend>, mailboxes: [&'static str; 2]) {
    let tasks: Vec<_> = (0..40)
        .map(|index| {
            let backend = backend.clone();
            let address = mailboxes[index % 2];
            tokio::spawn(async move {
                backend
                    .open_calendar(&Mailbox::parse(address).unwrap(), OpenAs::Owner, false)
                    .await
                    .map(|_| ())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

mod tempfile_dir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(name: &str) -> Dir {
            let path = std::env::temp_dir().join(format!(
                "graph-client-{name}-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    fn rand_suffix() -> u64 {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn client(server: &Server, max_concurrency: usize, retry_budget: Duration) -> Client {
    let ca_dir = server.ca_pem.as_ref().map(|pem| {
        let dir = tempfile_dir::Dir::new("ca");
        std::fs::write(dir.0.join("ca.pem"), pem).unwrap();
        dir
    });
    let ca_file = ca_dir.as_ref().map(|dir| dir.0.join("ca.pem"));
    let tokens = Arc::new(
        TokenSource::new(
            AuthSettings {
                token_url: format!("{}/uni.example/oauth2/v2.0/token", server.url)
                    .parse()
                    .unwrap(),
                scope: format!("{}/.default", server.url),
                client_id: CLIENT_ID.to_owned(),
                timeout: Duration::from_secs(10),
                ca_file: ca_file.clone(),
                accept_invalid_certs: false,
            },
            Credential::Secret(Secret::new("not-the-real-secret")),
        )
        .unwrap(),
    );
    let client = GraphClient::new(
        Settings {
            endpoint: server.url.parse().unwrap(),
            max_concurrency,
            timeout: Duration::from_secs(10),
            retry_budget,
            ca_file,
            accept_invalid_certs: false,
        },
        tokens.clone(),
    )
    .unwrap();
    Client {
        client: Arc::new(client),
        tokens,
        _ca_dir: ca_dir,
    }
}

fn backend(client: &Client) -> GraphBackend {
    GraphBackend::new(client.client.clone(), CLIENT_ID)
}

fn mailbox(address: &str) -> Mailbox {
    Mailbox::parse(address).unwrap()
}

fn graph_error(error: BackendError) -> Error {
    match error {
        BackendError::Graph(error) => error,
        other => panic!("not a Graph error: {other:?}"),
    }
}

#[tokio::test]
async fn a_writable_calendar_is_ready_for_the_application_in_one_request() {
    let server = server().await;
    server.push(answer(200, &fixture("calendar.json")));
    let client = client(&server, 8, Duration::from_secs(10));
    let calendar = backend(&client)
        .open_calendar(&mailbox("sam.student@uni.example"), OpenAs::Owner, false)
        .await
        .unwrap();
    let rights = calendar.effective_rights.unwrap();
    assert!(rights.can_create_and_read(), "canEdit: true");
    assert_eq!(calendar.version.id, "AAMkADJmMVAAA=");
    assert_eq!(calendar.permissions, None);
    let requests = server.api_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path,
        "/v1.0/users/sam.student@uni.example/calendar"
    );
    assert_eq!(requests[0].authorization, "Bearer tok-1-secret");
}

/// A `$batch` answer with one part per `(status, body)`, ids "0", "1", ...
fn batch_answer(parts: &[(u16, &str)]) -> Scripted {
    let responses: Vec<serde_json::Value> = parts
        .iter()
        .enumerate()
        .map(|(id, (status, body))| {
            serde_json::json!({
                "id": id.to_string(),
                "status": status,
                "headers": {"Content-Type": "application/json"},
                "body": serde_json::from_str::<serde_json::Value>(body).unwrap(),
            })
        })
        .collect();
    answer(
        200,
        &serde_json::json!({ "responses": responses }).to_string(),
    )
}

#[tokio::test]
async fn the_calendar_with_its_permissions_is_one_batch_of_two_gets() {
    let server = server().await;
    server.push(batch_answer(&[
        (200, &fixture("calendar.json")),
        (200, &fixture("calendar_permissions.json")),
    ]));
    // The calendar opens but its permissions are refused: the level is unknown, not an error.
    server.push(batch_answer(&[
        (200, &fixture("calendar.json")),
        (403, &fixture("error_access_denied.json")),
    ]));
    // The calendar itself is refused: Graph's code, typed.
    server.push(batch_answer(&[
        (403, &fixture("error_access_denied.json")),
        (403, &fixture("error_access_denied.json")),
    ]));
    let client = client(&server, 8, Duration::from_secs(10));
    let backend = backend(&client);
    let sam = mailbox("sam.student@uni.example");

    let calendar = backend
        .open_calendar(&sam, OpenAs::ServiceAccount, true)
        .await
        .unwrap();
    assert!(calendar.effective_rights.unwrap().can_create_and_read());
    let listed: serde_json::Value =
        serde_json::from_str(&fixture("calendar_permissions.json")).unwrap();
    assert_eq!(
        calendar.permissions.unwrap().entries.len(),
        listed["value"].as_array().unwrap().len()
    );
    let requests = server.api_requests();
    assert_eq!(requests.len(), 1, "one round trip");
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/v1.0/$batch");
    let envelope: serde_json::Value = serde_json::from_str(&requests[0].body).unwrap();
    let urls: Vec<(&str, &str)> = envelope["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|part| {
            (
                part["method"].as_str().unwrap(),
                part["url"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        urls,
        [
            ("GET", "/users/sam.student@uni.example/calendar"),
            (
                "GET",
                "/users/sam.student@uni.example/calendar/calendarPermissions"
            ),
        ]
    );

    let calendar = backend
        .open_calendar(&sam, OpenAs::ServiceAccount, true)
        .await
        .unwrap();
    assert!(calendar.effective_rights.is_some());
    assert_eq!(calendar.permissions, None);

    let refused = graph_error(
        backend
            .open_calendar(&sam, OpenAs::ServiceAccount, true)
            .await
            .unwrap_err(),
    );
    assert_eq!(refused.graph_error_code(), Some("ErrorAccessDenied"));
    assert_eq!(server.api_requests().len(), 3);
}

#[tokio::test]
async fn a_refusal_is_typed_with_graphs_code_and_never_holds_the_token() {
    let server = server().await;
    server.push(answer(403, &fixture("error_access_denied.json")));
    server.push(answer(404, &fixture("error_mailbox_on_premises.json")));
    let client = client(&server, 8, Duration::from_secs(10));
    let backend = backend(&client);

    let denied = graph_error(
        backend
            .open_calendar(&mailbox("outside@uni.example"), OpenAs::Owner, false)
            .await
            .unwrap_err(),
    );
    assert_eq!(denied.graph_error_code(), Some("ErrorAccessDenied"));
    assert_eq!(denied.status(), Some(403));
    assert_eq!(
        denied.kind(),
        FailureKind::Code(ews_connector::ews::ErrorKind::AccessDenied)
    );
    let on_premises = graph_error(
        backend
            .read_permissions(&mailbox("staff@uni.example"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        on_premises.graph_error_code(),
        Some("MailboxNotEnabledForRESTAPI")
    );
    assert_eq!(
        on_premises.kind(),
        FailureKind::Code(ews_connector::ews::ErrorKind::MailboxNotFound)
    );
    for shown in [
        format!("{denied}"),
        format!("{denied:?}"),
        format!("{on_premises:?}"),
        format!("{:?}", client.client),
    ] {
        assert!(!shown.contains("tok-"), "{shown}");
        assert!(!shown.contains("not-the-real-secret"), "{shown}");
    }
    assert!(format!("{denied}").contains("Access is denied"));
}

#[tokio::test]
async fn an_expired_token_is_replaced_once_and_the_request_sent_again() {
    let server = server().await;
    server.push(answer(401, &fixture("error_invalid_token.json")));
    server.push(answer(200, &fixture("calendar.json")));
    let client = client(&server, 8, Duration::from_secs(10));
    let calendar = backend(&client)
        .open_calendar(&mailbox("sam.student@uni.example"), OpenAs::Owner, false)
        .await
        .unwrap();
    assert!(calendar.effective_rights.unwrap().create_contents);
    let requests = server.api_requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].authorization, "Bearer tok-1-secret");
    assert_eq!(requests[1].authorization, "Bearer tok-2-secret");
    assert_eq!(client.tokens.token_requests(), 2);
    assert_eq!(client.client.token_refreshes(), 1);

    // A token refused twice in a row is not asked for a third time: the call fails.
    server.push(answer(401, &fixture("error_invalid_token.json")));
    server.push(answer(401, &fixture("error_invalid_token.json")));
    let error = graph_error(
        backend(&client)
            .open_calendar(&mailbox("sam.student@uni.example"), OpenAs::Owner, false)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind(), FailureKind::AuthFailed);
    assert_eq!(error.graph_error_code(), Some("InvalidAuthenticationToken"));
    assert_eq!(server.api_requests().len(), 4);
    assert_eq!(client.tokens.token_requests(), 3);
}

#[tokio::test]
async fn throttling_is_retried_after_retry_after_while_the_budget_allows() {
    let server = server().await;
    let throttled = |seconds| Scripted {
        status: 429,
        retry_after: Some(seconds),
        body: fixture("error_throttled.json"),
    };
    server.push(throttled(1));
    server.push(answer(200, &fixture("calendar.json")));
    let client = client(&server, 8, Duration::from_secs(10));
    let backend = backend(&client);
    let started = std::time::Instant::now();
    backend
        .open_calendar(&mailbox("sam.student@uni.example"), OpenAs::Owner, false)
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(server.api_requests().len(), 2);
    assert_eq!(client.client.retries(), 1);

    // A Retry-After beyond what is left of the budget: no second request, throttled with
    // Graph's Retry-After for the caller.
    server.push(throttled(30));
    let error = graph_error(
        backend
            .open_calendar(&mailbox("sam.student@uni.example"), OpenAs::Owner, false)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.kind(), FailureKind::Throttled);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(error.graph_error_code(), Some("ApplicationThrottled"));
    assert_eq!(server.api_requests().len(), 3);
}

#[tokio::test]
async fn at_most_four_requests_per_mailbox_and_max_concurrency_in_all_are_in_flight() {
    let server = server().await;
    {
        let mut state = server.state.lock().unwrap();
        state.latency = Duration::from_millis(40);
        state.fallback = Some(answer(200, &fixture("calendar.json")));
    }
    let client = client(&server, 6, Duration::from_secs(10));
    let backend = Arc::new(backend(&client));
    // The `/metrics` gauge of requests in flight, sampled while they run.
    let stats = client.tokens.stats().clone();
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = tokio::spawn({
        let (stats, sampling) = (stats.clone(), sampling.clone());
        async move {
            let mut highest = 0;
            while sampling.load(Ordering::SeqCst) {
                highest = highest.max(stats.counts().in_flight);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            highest
        }
    });
    open_forty_calendars(&backend, ["one@uni.example", "two@uni.example"]).await;
    sampling.store(false, Ordering::SeqCst);
    let highest = sampler.await.unwrap();
    assert!(
        (1..=6).contains(&highest),
        "graph_requests_in_flight peaked at {highest}"
    );
    assert_eq!(stats.counts().in_flight, 0);
    assert!(
        stats
            .requests()
            .contains(&("calendar", "answered".to_owned(), 40)),
        "{:?}",
        stats.requests()
    );
    let state = server.state.lock().unwrap();
    assert_eq!(state.seen.len(), 40);
    assert_eq!(
        server.tokens_issued.load(Ordering::SeqCst),
        1,
        "one token for all"
    );
    for address in ["one@uni.example", "two@uni.example"] {
        let max = state.max_in_flight[address];
        assert!(max <= MAILBOX_CONCURRENCY, "{address}: {max} in flight");
    }
    assert!(
        state.max_total_in_flight <= 6,
        "{}",
        state.max_total_in_flight
    );
    assert!(
        client.client.mailbox_entries() <= 2,
        "the per-mailbox map keeps no more than the mailboxes in flight"
    );
}

#[tokio::test]
async fn a_batch_is_split_at_twenty_parts_and_four_per_mailbox() {
    let server = server().await;
    server.state.lock().unwrap().fallback = Some(answer(200, "ECHO"));
    let client = client(&server, 32, Duration::from_secs(10));
    // 8 parts for one mailbox and one part for each of 40 others.
    let mut requests = Vec::new();
    for _ in 0..8 {
        requests.push(BatchRequest {
            mailbox: "busy@uni.example".to_owned(),
            method: Method::GET,
            path: vec!["users".into(), "busy@uni.example".into(), "calendar".into()],
            body: None,
        });
    }
    for index in 0..40 {
        let address = format!("user{index}@uni.example");
        requests.push(BatchRequest {
            mailbox: address.clone(),
            method: Method::GET,
            path: vec!["users".into(), address, "calendar".into()],
            body: None,
        });
    }
    let results = client.client.batch(&requests).await.unwrap();
    assert_eq!(results.len(), 48);
    for (index, result) in results.iter().enumerate() {
        let url = result.as_ref().unwrap()["url"].as_str().unwrap().to_owned();
        assert!(
            url.starts_with("/users/") && url.ends_with("/calendar"),
            "{index}: {url}"
        );
        assert!(url.contains(&requests[index].mailbox), "{index}: {url}");
    }
    let batches: Vec<serde_json::Value> = server
        .api_requests()
        .iter()
        .map(|seen| {
            assert_eq!(seen.path, "/v1.0/$batch");
            serde_json::from_str(&seen.body).unwrap()
        })
        .collect();
    assert_eq!(batches.len(), 3, "48 parts in batches of at most 20");
    for batch in &batches {
        let parts = batch["requests"].as_array().unwrap();
        assert!(parts.len() <= 20);
        let busy = parts
            .iter()
            .filter(|part| part["url"].as_str().unwrap().contains("busy@"))
            .count();
        assert!(busy <= MAILBOX_CONCURRENCY, "{busy} parts of one mailbox");
    }
}

#[tokio::test]
async fn https_speaks_http2_when_the_server_offers_it() {
    let server = tls_server().await;
    server.state.lock().unwrap().fallback = Some(answer(200, &fixture("calendar.json")));
    let client = client(&server, 8, Duration::from_secs(10));
    let backend = backend(&client);
    for _ in 0..3 {
        backend
            .open_calendar(&mailbox("sam.student@uni.example"), OpenAs::Owner, false)
            .await
            .unwrap();
    }
    let requests = server.api_requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|seen| seen.version == hyper::Version::HTTP_2),
        "{:?}",
        requests.iter().map(|seen| seen.version).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn permissions_read_as_api_md_maps_roles_and_a_grant_writes_only_the_changed_entry() {
    let server = server().await;
    server.push(answer(200, &fixture("calendar_permissions.json")));
    let client = client(&server, 8, Duration::from_secs(10));
    let backend = backend(&client);
    let owner = mailbox("sam.student@uni.example");
    let read = backend
        .read_permissions(&owner)
        .await
        .unwrap()
        .permissions
        .unwrap();
    let levels: Vec<_> = read.entries.iter().map(|entry| entry.level).collect();
    assert_eq!(
        levels,
        [
            PermissionLevel::FreeBusyTimeOnly,
            PermissionLevel::Reviewer,
            PermissionLevel::Editor,
            PermissionLevel::Custom
        ]
    );
    assert_eq!(
        read.entries[0].grantee.distinguished_user,
        Some(ews_connector::domain::permissions::DistinguishedUser::Default)
    );

    // The set as read writes nothing.
    backend
        .write_permissions(&owner, read_version(), &read, read.clone())
        .await
        .unwrap();
    assert_eq!(server.api_requests().len(), 1);

    // Alice raised to Editor: one PATCH of her role, nothing else.
    server.push(answer(200, "{}"));
    let mut granted = read.clone();
    granted.entries[1] = PermissionEntry::with_level(
        Grantee::smtp("alice.adviser@uni.example"),
        PermissionLevel::Editor,
    );
    backend
        .write_permissions(&owner, read_version(), &read, granted)
        .await
        .unwrap();
    let writes = &server.api_requests()[1..];
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].method, "PATCH");
    let alice_id = read.entries[1].grantee.backend_id.clone().unwrap();
    assert_eq!(
        writes[0].path,
        format!("/v1.0/users/sam.student@uni.example/calendar/calendarPermissions/{alice_id}")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&writes[0].body).unwrap(),
        serde_json::json!({"role": "write"})
    );

    // A new principal: one POST; a removed one: one DELETE.
    server.push(answer(201, "{}"));
    let mut added = read.clone();
    added.entries.push(PermissionEntry::with_level(
        Grantee::smtp("mytimetable@uni.example"),
        PermissionLevel::Editor,
    ));
    backend
        .write_permissions(&owner, read_version(), &read, added)
        .await
        .unwrap();
    server.push(Scripted {
        status: 204,
        retry_after: None,
        body: String::new(),
    });
    let mut revoked = read.clone();
    revoked.entries.remove(1);
    backend
        .write_permissions(&owner, read_version(), &read, revoked)
        .await
        .unwrap();
    let writes = &server.api_requests()[2..];
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0].method, "POST");
    let posted: serde_json::Value = serde_json::from_str(&writes[0].body).unwrap();
    assert_eq!(posted["emailAddress"]["address"], "mytimetable@uni.example");
    assert_eq!(posted["role"], "write");
    assert_eq!(writes[1].method, "DELETE");
    assert!(writes[1].path.ends_with(&alice_id));
}

fn read_version() -> ews_connector::domain::permissions::Version {
    ews_connector::domain::permissions::Version {
        id: "calendar".to_owned(),
        tag: None,
    }
}

#[tokio::test]
async fn author_is_not_writable_on_graph_and_the_backend_names_itself_without_a_request() {
    let server = server().await;
    let client = client(&server, 8, Duration::from_secs(10));
    let backend = backend(&client);
    assert!(!backend.writable_levels().contains(&PermissionLevel::Author));
    assert!(backend.writable_levels().contains(&PermissionLevel::Editor));
    assert_eq!(backend.name(), "graph");
    assert_eq!(
        backend.service_account(&mailbox("sam.student@uni.example")),
        CLIENT_ID
    );
    assert!(server.seen().is_empty(), "nothing was sent");
    assert_eq!(server.tokens_issued.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_hard_delete_is_a_bodiless_permanent_delete_part_and_a_soft_delete_a_delete_part() {
    use ews_connector::domain::events::{DeleteType, ItemHandle};
    let server = server().await;
    let not_found = r#"{"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}"#;
    server.push(batch_answer(&[(204, "null"), (404, not_found)]));
    server.push(batch_answer(&[(204, "null")]));
    let client = client(&server, 8, Duration::from_secs(10));
    let backend = backend(&client);
    let sam = mailbox("sam.student@uni.example");
    let item = |id: &str| ItemHandle {
        id: id.to_owned(),
        version: None,
    };

    let results = backend
        .delete_events(
            &sam,
            OpenAs::Owner,
            &[item("AAMkA1"), item("AAMkGone")],
            DeleteType::HardDelete,
        )
        .await
        .unwrap();
    assert!(
        results.iter().all(Result::is_ok),
        "204, and 404 ErrorItemNotFound counts as deleted: {results:?}"
    );
    let results = backend
        .delete_events(
            &sam,
            OpenAs::Owner,
            &[item("AAMkA2")],
            DeleteType::SoftDelete,
        )
        .await
        .unwrap();
    assert!(results[0].is_ok());

    let requests = server.api_requests();
    assert_eq!(requests.len(), 2, "one batch request per call");
    let parts = |index: usize| -> Vec<serde_json::Value> {
        assert_eq!(requests[index].path, "/v1.0/$batch");
        let envelope: serde_json::Value = serde_json::from_str(&requests[index].body).unwrap();
        envelope["requests"].as_array().unwrap().clone()
    };
    let hard = parts(0);
    assert_eq!(hard.len(), 2);
    assert_eq!(hard[0]["method"], "POST");
    assert_eq!(
        hard[0]["url"],
        "/users/sam.student@uni.example/events/AAMkA1/permanentDelete"
    );
    assert!(
        hard[0].get("body").is_none(),
        "no request body: {}",
        hard[0]
    );
    assert!(
        hard[0].get("headers").is_none(),
        "no Content-Type either: {}",
        hard[0]
    );
    assert_eq!(
        hard[1]["url"],
        "/users/sam.student@uni.example/events/AAMkGone/permanentDelete"
    );
    let soft = parts(1);
    assert_eq!(soft[0]["method"], "DELETE");
    assert_eq!(
        soft[0]["url"],
        "/users/sam.student@uni.example/events/AAMkA2"
    );
}

#[tokio::test]
async fn a_grant_of_author_on_graph_is_invalid_level_before_any_request() {
    use ews_connector::api::problem::{Problem, ProblemCode};
    use ews_connector::delegation::{Actor, Delegation, GrantRequest, Settings};

    let server = server().await;
    let client = client(&server, 8, Duration::from_secs(10));
    let delegation = Delegation::new(
        GraphBackend::shared(client.client.clone(), CLIENT_ID),
        Settings {
            access: ews_connector::domain::AccessMode::Impersonation,
            impersonation: true,
            principal: "mytimetable@uni.example".to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Owner,
        },
        None,
    );
    let error = delegation
        .grant(
            &Actor {
                request_id: "01TEST".to_owned(),
                client: "test".to_owned(),
            },
            &mailbox("sam.student@uni.example"),
            GrantRequest {
                principal: None,
                level: Some(PermissionLevel::Author),
                dry_run: false,
            },
        )
        .await
        .unwrap_err();
    let problem = Problem::from(&error);
    assert_eq!(problem.code, ProblemCode::InvalidLevel, "{error}");
    assert!(problem.detail.contains("Author"), "{}", problem.detail);
    assert!(server.seen().is_empty(), "no Graph request");
    assert_eq!(
        server.tokens_issued.load(Ordering::SeqCst),
        0,
        "no token request"
    );
}

#[tokio::test]
async fn a_graph_refusal_becomes_a_problem_with_graph_error_code_not_ews_response_code() {
    use ews_connector::api::problem::{Problem, ProblemCode};

    let server = server().await;
    server.push(Scripted {
        status: 429,
        retry_after: Some(42),
        body: fixture("error_throttled.json"),
    });
    server.push(answer(403, &fixture("error_access_denied.json")));
    let client = client(&server, 8, Duration::ZERO);
    let backend = backend(&client);
    let throttled = backend
        .read_permissions(&mailbox("sam.student@uni.example"))
        .await
        .unwrap_err();
    let problem = Problem::from(&ews_connector::delegation::Error::from(throttled));
    assert_eq!(problem.code, ProblemCode::Throttled);
    assert_eq!(problem.retry_after, Some(Duration::from_secs(42)));
    assert_eq!(
        problem.graph_error_code.as_deref(),
        Some("ApplicationThrottled")
    );
    let denied = backend
        .read_permissions(&mailbox("sam.student@uni.example"))
        .await
        .unwrap_err();
    let problem = Problem::from(&ews_connector::delegation::Error::from(denied));
    assert_eq!(problem.code, ProblemCode::AccessDenied);
    let json = serde_json::to_value(&problem).unwrap();
    assert_eq!(json["graphErrorCode"], "ErrorAccessDenied");
    assert!(json.get("ewsResponseCode").is_none(), "{json}");
    assert_eq!(server.api_requests().len(), 2, "a zero budget sends once");
}

#[tokio::test]
async fn plain_http_is_refused_for_any_host_but_loopback() {
    let tokens = Arc::new(
        TokenSource::new(
            AuthSettings {
                token_url: "https://login.microsoftonline.com/uni.example/oauth2/v2.0/token"
                    .parse()
                    .unwrap(),
                scope: "https://graph.microsoft.com/.default".to_owned(),
                client_id: CLIENT_ID.to_owned(),
                timeout: Duration::from_secs(10),
                ca_file: None,
                accept_invalid_certs: false,
            },
            Credential::Secret(Secret::new("not-the-real-secret")),
        )
        .unwrap(),
    );
    let settings = |endpoint: &str| Settings {
        endpoint: endpoint.parse().unwrap(),
        max_concurrency: 4,
        timeout: Duration::from_secs(10),
        retry_budget: Duration::from_secs(10),
        ca_file: None,
        accept_invalid_certs: false,
    };
    let error =
        GraphClient::new(settings("http://graph.microsoft.com"), tokens.clone()).unwrap_err();
    assert!(error.to_string().contains("https://"), "{error}");
    GraphClient::new(settings("http://127.0.0.1:9"), tokens.clone()).unwrap();
    GraphClient::new(settings("https://graph.microsoft.com"), tokens).unwrap();
}

// ---- against the Graph simulator (`sim::graph`) -------------------------------------------

mod against_the_simulator {
    use std::sync::Arc;
    use std::time::Duration;

    use ews_connector::audit::AuditLog;
    use ews_connector::backend::graph::GraphBackend;
    use ews_connector::backend::{CalendarBackend, OpenAs};
    use ews_connector::delegation::{
        Actor, Delegation, GrantRequest, RevokeRequest, Settings as DelegationSettings,
    };
    use ews_connector::domain::{AccessMode, Mailbox, PermissionLevel};
    use ews_connector::ews::ErrorKind;
    use ews_connector::exchange::FailureKind;
    use ews_connector::graph::client::{BatchRequest, GraphClient, MAILBOX_CONCURRENCY};
    use ews_connector::sim::graph::{
        GraphFault, GraphFaultKind, GraphGrant, GraphMailbox, GraphSimConfig, GraphSimHandle,
        RouteKind, start,
    };

    const TENANT: &str = "uni.onmicrosoft.com";
    const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
    const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";
    const PRINCIPAL: &str = "timetable@uni.example";

    async fn simulator() -> GraphSimHandle {
        let mut student = GraphMailbox::new("student1@uni.example");
        student.permissions = vec![
            GraphGrant {
                address: "mentor@uni.example".to_owned(),
                name: Some("Mentor".to_owned()),
                role: "read".to_owned(),
            },
            GraphGrant {
                address: "secretary@uni.example".to_owned(),
                name: None,
                role: "delegateWithPrivateEventAccess".to_owned(),
            },
        ];
        let mut on_premises = GraphMailbox::new("lecturer@uni.example");
        on_premises.exchange_online = false;
        let mut outside = GraphMailbox::new("board@uni.example");
        outside.in_scope = false;
        let mut read_only = GraphMailbox::new("readonly@uni.example");
        read_only.calendar.can_edit = false;
        start(GraphSimConfig {
            tenant_id: TENANT.to_owned(),
            client_id: CLIENT.to_owned(),
            secrets: vec![SECRET.to_owned()],
            mailboxes: vec![
                student,
                GraphMailbox::new("student2@uni.example"),
                on_premises,
                outside,
                read_only,
            ],
            ..GraphSimConfig::default()
        })
        .await
        .unwrap()
    }

    fn client(sim: &GraphSimHandle, max_concurrency: usize) -> Arc<GraphClient> {
        crate::common::graph_http::sim_client(sim, CLIENT, SECRET, max_concurrency)
    }

    fn mailbox(address: &str) -> Mailbox {
        Mailbox::parse(address).unwrap()
    }

    fn kind(error: ews_connector::backend::Error) -> (FailureKind, Option<String>) {
        match error {
            ews_connector::backend::Error::Graph(error) => {
                (error.kind(), error.graph_error_code().map(str::to_owned))
            }
            other => panic!("not a Graph error: {other:?}"),
        }
    }

    #[tokio::test]
    async fn readiness_and_refusals_as_the_simulator_answers_them() {
        let sim = simulator().await;
        let backend = GraphBackend::new(client(&sim, 8), CLIENT);
        let ready = backend
            .open_calendar(&mailbox("student1@uni.example"), OpenAs::Owner, false)
            .await
            .unwrap();
        assert!(ready.effective_rights.unwrap().can_create_and_read());
        let read_only = backend
            .open_calendar(&mailbox("readonly@uni.example"), OpenAs::Owner, false)
            .await
            .unwrap();
        assert!(!read_only.effective_rights.unwrap().create_contents);
        assert_eq!(sim.route_requests(RouteKind::GetCalendar), 2);

        let (outside, code) = kind(
            backend
                .open_calendar(&mailbox("board@uni.example"), OpenAs::Owner, false)
                .await
                .unwrap_err(),
        );
        assert_eq!(outside, FailureKind::Code(ErrorKind::AccessDenied));
        assert_eq!(code.as_deref(), Some("ErrorAccessDenied"));
        let (on_premises, code) = kind(
            backend
                .open_calendar(&mailbox("lecturer@uni.example"), OpenAs::Owner, false)
                .await
                .unwrap_err(),
        );
        assert_eq!(on_premises, FailureKind::Code(ErrorKind::MailboxNotFound));
        assert_eq!(code.as_deref(), Some("MailboxNotEnabledForRESTAPI"));
        let (unknown, code) = kind(
            backend
                .open_calendar(&mailbox("nobody@uni.example"), OpenAs::Owner, false)
                .await
                .unwrap_err(),
        );
        assert_eq!(
            unknown,
            FailureKind::Code(ErrorKind::MailboxNotFound),
            "{code:?}"
        );
        assert_eq!(sim.stats().tokens_issued, 1);
    }

    #[tokio::test]
    async fn roles_read_through_real_json_map_as_api_md_says() {
        let sim = simulator().await;
        let backend = GraphBackend::new(client(&sim, 8), CLIENT);
        let set = backend
            .read_permissions(&mailbox("student1@uni.example"))
            .await
            .unwrap()
            .permissions
            .unwrap();
        let read: Vec<(Option<String>, PermissionLevel)> = set
            .entries
            .iter()
            .map(|entry| (entry.grantee.primary_smtp_address.clone(), entry.level))
            .collect();
        assert_eq!(
            read,
            [
                (None, PermissionLevel::FreeBusyTimeOnly),
                (
                    Some("mentor@uni.example".to_owned()),
                    PermissionLevel::Reviewer
                ),
                (
                    Some("secretary@uni.example".to_owned()),
                    PermissionLevel::Editor
                ),
            ]
        );
        assert!(
            set.entries
                .iter()
                .all(|entry| entry.grantee.backend_id.is_some())
        );
    }

    #[tokio::test]
    async fn grant_and_revoke_write_only_the_principals_entry_and_a_repeat_writes_nothing() {
        let sim = simulator().await;
        let dir = std::env::temp_dir().join(format!("graph-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let audit = Arc::new(AuditLog::open(&dir.join("audit.jsonl")).unwrap());
        let delegation = Delegation::new(
            GraphBackend::shared(client(&sim, 8), CLIENT),
            DelegationSettings {
                access: AccessMode::Impersonation,
                impersonation: true,
                principal: PRINCIPAL.to_owned(),
                required: PermissionLevel::Editor,
                allowed_principals: Vec::new(),
                max_level: PermissionLevel::Editor,
            },
            Some(audit),
        );
        let actor = Actor {
            request_id: "01GRAPHTEST".to_owned(),
            client: "test".to_owned(),
        };
        let owner = mailbox("student1@uni.example");
        let others_before = sim.permissions("student1@uni.example").unwrap();

        let grant = || GrantRequest {
            principal: None,
            level: Some(PermissionLevel::Editor),
            dry_run: false,
        };
        let outcome = delegation.grant(&actor, &owner, grant()).await.unwrap();
        assert!(outcome.changed);
        assert_eq!(outcome.backend, "graph");
        assert_eq!(sim.mailbox_stats("student1@uni.example").writes, 1);
        assert_eq!(sim.route_requests(RouteKind::CreatePermission), 1);
        let after = sim.permissions("student1@uni.example").unwrap();
        let principal = after
            .iter()
            .find(|p| p.address.as_deref() == Some(PRINCIPAL))
            .unwrap();
        assert_eq!(principal.role, "write");
        let others_after: Vec<_> = after
            .iter()
            .filter(|p| p.address.as_deref() != Some(PRINCIPAL))
            .cloned()
            .collect();
        assert_eq!(others_after, others_before, "other grantees untouched");

        let repeat = delegation.grant(&actor, &owner, grant()).await.unwrap();
        assert!(!repeat.changed);
        assert_eq!(
            sim.mailbox_stats("student1@uni.example").writes,
            1,
            "a repeat writes nothing"
        );

        let revoked = delegation
            .revoke(
                &actor,
                &owner,
                RevokeRequest {
                    principal: None,
                    dry_run: false,
                },
            )
            .await
            .unwrap();
        assert!(revoked.changed);
        assert_eq!(sim.route_requests(RouteKind::DeletePermission), 1);
        assert_eq!(sim.mailbox_stats("student1@uni.example").writes, 2);
        assert_eq!(
            sim.permissions("student1@uni.example").unwrap(),
            others_before
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_throttled_request_is_sent_again_after_retry_after() {
        let sim = simulator().await;
        let client = client(&sim, 8);
        let backend = GraphBackend::new(client.clone(), CLIENT);
        sim.push_fault(GraphFault::for_mailbox(
            "student2@uni.example",
            1,
            GraphFaultKind::Throttle {
                retry_after_secs: 1,
            },
        ));
        let started = std::time::Instant::now();
        backend
            .open_calendar(&mailbox("student2@uni.example"), OpenAs::Owner, false)
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_secs(1));
        assert_eq!(sim.stats().faults_applied, 1);
        assert_eq!(client.retries(), 1);
        assert_eq!(sim.mailbox_stats("student2@uni.example").requests, 2);
    }

    #[tokio::test]
    async fn never_more_than_four_in_flight_per_mailbox_so_the_simulator_refuses_none() {
        let sim = simulator().await;
        sim.set_latency(Duration::from_millis(20));
        let client = client(&sim, 32);
        let backend = Arc::new(GraphBackend::new(client.clone(), CLIENT));
        super::open_forty_calendars(&backend, ["student1@uni.example", "student2@uni.example"])
            .await;
        // A batch of 30 parts on one mailbox as well.
        let parts: Vec<BatchRequest> = (0..30)
            .map(|_| BatchRequest {
                mailbox: "student1@uni.example".to_owned(),
                method: hyper::Method::GET,
                path: vec![
                    "users".into(),
                    "student1@uni.example".into(),
                    "calendar".into(),
                ],
                body: None,
            })
            .collect();
        let answers = client.batch(&parts).await.unwrap();
        assert!(answers.iter().all(Result::is_ok));
        assert_eq!(sim.stats().concurrency_refusals, 0);
        for address in ["student1@uni.example", "student2@uni.example"] {
            let stats = sim.mailbox_stats(address);
            assert!(
                stats.max_in_flight <= MAILBOX_CONCURRENCY,
                "{address}: {}",
                stats.max_in_flight
            );
        }
        assert_eq!(client.retries(), 0);
    }
}
