//! Permanent transport failures through `Exchange::call` and the API, over real sockets: a
//! server certificate the connector does not trust (or for another name) and a host name that
//! does not resolve are answered at once as `exchange_unreachable`, after exactly one attempt
//! (one TCP connection, one TLS ClientHello), with the default 60 s retry budget; the detail
//! states the cause once and names the key to fix. A refused connection is still retried.

mod common;
mod exchange_common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use ews_connector::api::AppState;
use ews_connector::api::problem::error_chain;
use ews_connector::delegation::{Delegation, PermissionLevel};
use ews_connector::domain::AccessMode;
use ews_connector::exchange::{self, Account, ActAs, Exchange, FailureKind};
use ews_connector::secret::Secret;
use ews_connector::transport::{self, AuthScheme};

use common::api::{CHECK_TOKEN, PRINCIPAL, json, oneshot, settings};
use exchange_common::get_calendar;

/// A TLS server on 127.0.0.1 that counts the TCP connections it accepts and the ClientHellos it
/// reads, and presents one certificate.
struct CountingTlsServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    client_hellos: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for CountingTlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CountingTlsServer {
    async fn start(certificate: &rcgen::Certificate, key: &rcgen::KeyPair) -> CountingTlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![certificate.der().clone()],
                    rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
                )
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let client_hellos = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let connections = connections.clone();
            let client_hellos = client_hellos.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let config = config.clone();
                    let client_hellos = client_hellos.clone();
                    tokio::spawn(async move {
                        let acceptor = tokio_rustls::LazyConfigAcceptor::new(
                            rustls::server::Acceptor::default(),
                            stream,
                        );
                        // The ClientHello is read (and counted) before the server answers, so
                        // the count is complete by the time the client sees the certificate.
                        if let Ok(start) = acceptor.await {
                            client_hellos.fetch_add(1, Ordering::SeqCst);
                            let _ = start.into_stream(config).await;
                        }
                    });
                }
            }
        });
        CountingTlsServer {
            port,
            connections,
            client_hellos,
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/EWS/Exchange.asmx", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn client_hellos(&self) -> usize {
        self.client_hellos.load(Ordering::SeqCst)
    }
}

/// A self-signed certificate for `names` and its key.
fn self_signed(names: &[&str]) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let certificate = rcgen::CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (certificate, key)
}

/// Settings for `url` as `config` would build them, with the default 60 s retry budget.
fn exchange_settings(url: &str, ca_file: Option<PathBuf>) -> exchange::Settings {
    let mut transport = transport::Settings::new(url.parse().unwrap(), AuthScheme::Ntlm);
    transport.ca_file = ca_file;
    transport.connect_timeout = Duration::from_secs(5);
    let settings = exchange::Settings::new(
        transport,
        "Exchange2013_SP1".to_owned(),
        vec![Account {
            username: r"CONTOSO\svc-mytt".to_owned(),
            smtp: "svc-mytt@contoso.example".to_owned(),
            password: Secret::new("Not-Sent-1!"),
        }],
    );
    assert_eq!(settings.retry_budget, Duration::from_secs(60));
    settings
}

/// The API in front of an `Exchange` built from `settings`.
fn api_state(exchange_settings: exchange::Settings) -> (AppState, Arc<Exchange>) {
    let exchange = Arc::new(Exchange::new(exchange_settings).unwrap());
    let delegation = Arc::new(Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange.clone()),
        ews_connector::delegation::Settings {
            access: AccessMode::Delegate,
            impersonation: true,
            principal: PRINCIPAL.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
        },
        None,
    ));
    (
        AppState::new(settings(), delegation, exchange.clone(), None),
        exchange,
    )
}

fn access_request() -> Request<Body> {
    Request::get("/v1/mailboxes/granted@contoso.example/calendar/access")
        .header("Authorization", format!("Bearer {CHECK_TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

/// How often `needle` occurs in `text`.
fn occurrences(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[tokio::test]
async fn an_untrusted_certificate_is_unreachable_at_once_after_one_handshake() {
    let (certificate, key) = self_signed(&["127.0.0.1"]);
    let server = CountingTlsServer::start(&certificate, &key).await;
    let (state, exchange) = api_state(exchange_settings(&server.url(), None));

    let started = Instant::now();
    let response = oneshot(&state, access_request()).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body = json(response).await;
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}: {body}");
    assert_eq!(body["code"], "exchange_unreachable", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("tls.ca_file"), "{detail}");
    assert_eq!(occurrences(detail, "unknown issuer"), 1, "{detail}");
    assert!(!detail.contains("retry budget"), "{detail}");
    assert_eq!(server.connections(), 1, "one TCP connection: {detail}");
    assert_eq!(server.client_hellos(), 1, "one TLS handshake: {detail}");
    assert_eq!(exchange.stats().retries, 0);
    assert_eq!(exchange.stats().throttle_waits, 0);
}

#[tokio::test]
async fn a_certificate_for_another_name_names_both_names_and_is_not_retried() {
    // Trusted (its own CA file), but for another name than exchange.url's host.
    let (certificate, key) = self_signed(&["mail.fabrikam.example"]);
    let server = CountingTlsServer::start(&certificate, &key).await;
    let directory = tempfile::tempdir().unwrap();
    let ca_file = directory.path().join("site-ca.pem");
    std::fs::write(&ca_file, certificate.pem()).unwrap();
    let exchange = Exchange::new(exchange_settings(&server.url(), Some(ca_file))).unwrap();

    let started = Instant::now();
    let error = exchange
        .call(ActAs::Owner("granted@contoso.example"), &get_calendar())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{error}");
    assert_eq!(error.kind(), FailureKind::Unreachable);
    let text = error_chain(&error);
    assert!(text.contains("mail.fabrikam.example"), "{text}");
    assert!(
        text.contains("not for 127.0.0.1, the host of exchange.url"),
        "{text}"
    );
    assert!(
        matches!(
            error,
            exchange::Error::Transport(transport::Error::Certificate { .. })
        ),
        "not wrapped in a retry: {error:?}"
    );
    assert_eq!(server.connections(), 1);
    assert_eq!(server.client_hellos(), 1);
}

#[tokio::test]
async fn an_expired_certificate_is_not_retried() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let certificate = params.self_signed(&key).unwrap();
    let server = CountingTlsServer::start(&certificate, &key).await;
    let directory = tempfile::tempdir().unwrap();
    let ca_file = directory.path().join("site-ca.pem");
    std::fs::write(&ca_file, certificate.pem()).unwrap();
    let exchange = Exchange::new(exchange_settings(&server.url(), Some(ca_file))).unwrap();

    let error = exchange
        .call(ActAs::Owner("granted@contoso.example"), &get_calendar())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), FailureKind::Unreachable);
    let text = error_chain(&error);
    assert!(text.contains("expired on 2021-01-01"), "{text}");
    assert_eq!(server.client_hellos(), 1, "{text}");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_unreachable_at_once_and_names_exchange_url() {
    // `.invalid` never resolves (RFC 6761), on any network or none.
    let url = "https://exchange.contoso.invalid/EWS/Exchange.asmx";
    let (state, exchange) = api_state(exchange_settings(url, None));

    let started = Instant::now();
    let response = oneshot(&state, access_request()).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body = json(response).await;
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}: {body}");
    assert_eq!(body["code"], "exchange_unreachable", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("exchange.url"), "{detail}");
    assert_eq!(
        occurrences(detail, "exchange.contoso.invalid does not resolve"),
        1,
        "{detail}"
    );
    assert_eq!(occurrences(detail, "RFC 6761"), 1, "{detail}");
    assert_eq!(exchange.stats().retries, 0);

    // The same through `Exchange::call` directly: one attempt, the typed error unwrapped.
    let error = exchange
        .call(ActAs::Owner("granted@contoso.example"), &get_calendar())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            exchange::Error::Transport(transport::Error::NameNotResolved { .. })
        ),
        "{error:?}"
    );
    assert_eq!(exchange.stats().retries, 0);
}

#[tokio::test]
async fn a_refused_connection_is_still_retried_within_the_budget() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed}/EWS/Exchange.asmx");
    let mut settings = exchange_settings(&url, None);
    settings.retry_budget = Duration::from_millis(800);
    let exchange = Exchange::new(settings).unwrap();
    let error = exchange
        .call(ActAs::Owner("granted@contoso.example"), &get_calendar())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), FailureKind::Unreachable);
    match &error {
        exchange::Error::GaveUp { attempts, .. } => assert!(*attempts > 1, "{error}"),
        other => panic!("expected retries until the budget ran out, got {other:?}"),
    }
    assert!(exchange.stats().retries >= 1);
    // The cause is stated once, under the retry summary.
    let text = error_chain(&error);
    assert_eq!(occurrences(&text, "tcp connect"), 1, "{text}");
    assert_eq!(occurrences(&text, "refused"), 1, "{text}");
}
