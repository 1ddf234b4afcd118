//! API helpers for integration tests: an `AppState` against a simulator (or a closed port),
//! clients with known tokens and scopes, `oneshot` requests without a socket, and a served API
//! on 127.0.0.1:0 that is shut down when its guard is dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use ews_connector::api::{self, AppState, ClientSettings, Settings};
use ews_connector::audit::AuditLog;
use ews_connector::delegation::{Delegation, PermissionLevel};
use ews_connector::domain::AccessMode;
use ews_connector::exchange::{Account, Exchange};
use ews_connector::secret::Secret;
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

/// The sample principal that MyTimetable pushes as.
pub const PRINCIPAL: &str = "mytimetable-push@contoso.example";

/// A token with `calendar:check` only.
pub const CHECK_TOKEN: &str = "check-token-0123456789";
/// A token with `calendar:delegate` only.
pub const DELEGATE_TOKEN: &str = "delegate-token-0123456789";
/// A token with every scope (`calendar:check`, `calendar:delegate`, `calendar:push`).
pub const BOTH_TOKEN: &str = "both-token-0123456789";
/// A known token with no scope at all.
pub const NO_SCOPE_TOKEN: &str = "no-scope-token-0123456789";

pub fn client(name: &str, token: &str, scopes: &[&str]) -> ClientSettings {
    ClientSettings {
        name: name.to_owned(),
        token_sha256: Sha256::digest(token.as_bytes()).into(),
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
    }
}

/// API settings with the four clients above and short timings for tests.
pub fn settings() -> Settings {
    Settings {
        allowed_domains: Vec::new(),
        clients: vec![
            client("checker", CHECK_TOKEN, &["calendar:check"]),
            client("delegator", DELEGATE_TOKEN, &["calendar:delegate"]),
            client(
                "mytimetable",
                BOTH_TOKEN,
                &["calendar:check", "calendar:delegate", "calendar:push"],
            ),
            client("nobody", NO_SCOPE_TOKEN, &[]),
        ],
        shutdown_grace: Duration::from_secs(10),
        request_timeout: Duration::from_secs(20),
        readiness_interval: Duration::from_millis(200),
        limits: ews_connector::api::Limits::default(),
    }
}

/// How the `Exchange` behind the API is set up.
pub struct Backend<'a> {
    pub url: &'a str,
    pub password: &'a str,
    pub transport_timeout: Duration,
    pub impersonation: bool,
    pub audit: Option<&'a Path>,
    /// `delegation.allowed_principals` (default: none besides [`PRINCIPAL`]).
    pub allowed_principals: Vec<String>,
    /// `delegation.max_level` (default: the configured level, `Editor`).
    pub max_level: PermissionLevel,
    /// Where `Exchange` writes every request body (default: nowhere).
    pub capture_dir: Option<&'a Path>,
}

impl<'a> Backend<'a> {
    pub fn new(url: &'a str, password: &'a str) -> Backend<'a> {
        Backend {
            url,
            password,
            transport_timeout: Duration::from_secs(10),
            impersonation: true,
            audit: None,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
            capture_dir: None,
        }
    }
}

/// An `AppState` whose `Exchange` talks to `backend.url` as the sample service account.
pub fn state(settings: Settings, backend: &Backend<'_>) -> AppState {
    let mut transport = TransportSettings::new(backend.url.parse().unwrap(), AuthScheme::Ntlm);
    transport.request_timeout = backend.transport_timeout;
    transport.connect_timeout = Duration::from_secs(2);
    let exchange = Arc::new(
        Exchange::new(ews_connector::exchange::Settings {
            transport,
            version: "Exchange2013_SP1".to_owned(),
            accounts: vec![Account {
                username: r"CONTOSO\svc-mytt".to_owned(),
                smtp: "svc-mytt@contoso.example".to_owned(),
                password: Secret::new(backend.password),
            }],
            capture_dir: backend.capture_dir.map(Path::to_path_buf),
            // Short, so that "busy forever" ends within a test's patience.
            retry_budget: Duration::from_secs(1),
            auth_failure_cooldown: Duration::from_secs(900),
        })
        .unwrap(),
    );
    let audit = backend
        .audit
        .map(|path| Arc::new(AuditLog::open(path).expect("audit file opens")));
    let delegation = Arc::new(Delegation::new(
        ews_connector::backend::ews::EwsBackend::shared(exchange.clone()),
        ews_connector::delegation::Settings {
            access: AccessMode::Delegate,
            impersonation: backend.impersonation,
            principal: PRINCIPAL.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: backend.allowed_principals.clone(),
            max_level: backend.max_level,
        },
        audit.clone(),
    ));
    AppState::new(settings, delegation, exchange, audit)
}

/// An `AppState` whose Exchange is a closed port: for tests that must never reach Exchange.
pub fn offline_state(settings: Settings) -> AppState {
    state(
        settings,
        &Backend::new("http://127.0.0.1:9/EWS/Exchange.asmx", "unused"),
    )
}

/// One request through the router, without a socket.
pub async fn oneshot(state: &AppState, request: Request<Body>) -> Response<Body> {
    api::router(state.clone()).oneshot(request).await.unwrap()
}

/// The body of a response as JSON.
pub async fn json(response: Response<Body>) -> serde_json::Value {
    let bytes = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(&bytes)))
}

/// A served API; dropping it signals shutdown and aborts the server task.
pub struct ServedApi {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl ServedApi {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Signals shutdown; the returned handle ends when `serve` returns.
    pub fn begin_shutdown(&mut self) -> JoinHandle<std::io::Result<()>> {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        self.task.take().expect("not shut down yet")
    }
}

impl Drop for ServedApi {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves `state` on 127.0.0.1:0 with `api::serve`.
pub async fn start_api(state: AppState) -> ServedApi {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(api::serve(listener, state.clone(), async move {
        let _ = receiver.await;
    }));
    ServedApi {
        addr,
        state,
        shutdown: Some(sender),
        task: Some(task),
    }
}
