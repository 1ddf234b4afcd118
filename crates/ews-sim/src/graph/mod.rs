//! `sim::graph`: an offline Microsoft Graph side for tests and the demo. Today it serves the
//! Microsoft identity platform's token endpoint, `POST /{tenant}/oauth2/v2.0/token`, for the
//! client credentials grant.
//!
//! It verifies a client assertion as Entra ID does: the certificate named by `x5t#S256` (or
//! `x5t`) must be registered, the RS256/PS256 signature must verify with its public key
//! (`ring`, not the connector's `jsonwebtoken`), `aud` must be this endpoint's own token URL,
//! `iss` and `sub` the client id, `exp` in the future, `nbf` past and `jti` never seen before.
//! Or a client secret. It answers `token.json` or Entra's error body (`error.json`, with AADSTS
//! codes) from `fixtures/sim/graph/`, with a configurable token lifetime, and counts requests.
//!
//! Invariants: depends on no other module of the crate; binds loopback only; every answer is
//! template bytes with JSON-escaped values. Each behaviour has a row in docs/FIDELITY.md.
//!
//! Entry points: [`start`], [`GraphSimConfig`], [`GraphSimHandle`], [`GraphSimStats`].

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::Digest as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const TOKEN_TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/sim/graph/token.json"
));
const ERROR_TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/sim/graph/error.json"
));
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The simulated tenant and its one application registration.
#[derive(Debug, Clone)]
pub struct GraphSimConfig {
    /// The tenant id (GUID or domain) the token URL must name.
    pub tenant_id: String,
    /// The application (client) id.
    pub client_id: String,
    /// DER certificates registered for the application (Certificates & secrets).
    pub certificates: Vec<Vec<u8>>,
    /// Client secret values registered for the application.
    pub secrets: Vec<String>,
    /// Client secret values registered but expired (AADSTS7000222).
    pub expired_secrets: Vec<String>,
    /// `expires_in` of the tokens issued.
    pub token_lifetime: Duration,
}

/// Counters of the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphSimStats {
    /// Every POST to a token URL.
    pub token_requests: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Requests answered with an error.
    pub token_refusals: u64,
}

struct Shared {
    config: GraphSimConfig,
    /// Filled in once the listener is bound: `http://127.0.0.1:port`.
    base: String,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    stats: GraphSimStats,
    seen_jti: HashSet<String>,
    /// Issued access tokens and when they expire.
    issued: HashMap<String, Instant>,
}

/// A running Graph simulator.
pub struct GraphSimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl GraphSimHandle {
    /// `http://127.0.0.1:port`: the `graph.authority` (and, later, `graph.endpoint`) of tests.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token URL of its tenant.
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.shared.base, self.shared.config.tenant_id
        )
    }

    pub fn stats(&self) -> GraphSimStats {
        lock(&self.shared.inner).stats
    }

    /// Whether `token` was issued here and has not expired.
    pub fn token_is_valid(&self, token: &str) -> bool {
        lock(&self.shared.inner)
            .issued
            .get(token)
            .is_some_and(|expiry| Instant::now() < *expiry)
    }

    /// Stops the simulator and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for GraphSimHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts the Graph simulator on `127.0.0.1:0` in a background task.
///
/// # Errors
/// When the loopback socket cannot be bound.
pub async fn start(config: GraphSimConfig) -> std::io::Result<GraphSimHandle> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        config,
        base: format!("http://{addr}"),
        inner: Mutex::new(Inner::default()),
    });
    let router = axum::Router::new()
        .route("/{tenant}/oauth2/v2.0/token", axum::routing::post(token))
        .with_state(shared.clone());
    let (sender, receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = receiver.await;
            })
            .await;
    });
    Ok(GraphSimHandle {
        addr,
        shared,
        shutdown: Some(sender),
        task: Some(task),
    })
}

/// A refusal: HTTP status, OAuth `error`, AADSTS code, description.
struct Refusal(StatusCode, &'static str, u32, String);

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let outcome = decide(&shared, &tenant, &body);
    let mut inner = lock(&shared.inner);
    inner.stats.token_requests += 1;
    match outcome {
        Ok(()) => {
            inner.stats.tokens_issued += 1;
            let token = format!("simtoken-{}", hex::encode(rand::random::<[u8; 24]>()));
            let lifetime = shared.config.token_lifetime;
            inner
                .issued
                .insert(token.clone(), Instant::now() + lifetime);
            let body = TOKEN_TEMPLATE
                .trim_end()
                .replace("{{EXPIRES_IN}}", &lifetime.as_secs().to_string())
                .replace("{{ACCESS_TOKEN}}", &json_escape(&token));
            json(StatusCode::OK, body)
        }
        Err(Refusal(status, error, code, description)) => {
            inner.stats.token_refusals += 1;
            let trace = {
                let hex = hex::encode(rand::random::<[u8; 16]>());
                format!(
                    "{}-{}-{}-{}-{}",
                    &hex[0..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..32]
                )
            };
            let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
            let body = ERROR_TEMPLATE
                .trim_end()
                .replace("{{ERROR}}", error)
                .replace("{{CODE}}", &code.to_string())
                .replace("{{DESCRIPTION}}", &json_escape(&description))
                .replace("{{TRACE_ID}}", &trace)
                .replace("{{TIMESTAMP}}", &timestamp)
                .replace("{{AUTHORITY}}", &json_escape(&shared.base));
            json(status, body)
        }
    }
}

fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store, no-cache"),
        ],
        body,
    )
        .into_response()
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Judges one token request as Entra ID would.
fn decide(shared: &Shared, tenant: &str, body: &[u8]) -> Result<(), Refusal> {
    let config = &shared.config;
    if !tenant.eq_ignore_ascii_case(&config.tenant_id) {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ));
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") != "client_credentials" {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.".to_owned(),
        ));
    }
    if field("client_id") != config.client_id {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{}' was not found in the directory '{tenant}'.",
                field("client_id")
            ),
        ));
    }
    if !field("scope").ends_with("/.default") {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).".to_owned(),
        ));
    }
    if let Some(secret) = form.get("client_secret") {
        if config.secrets.iter().any(|known| known == secret) {
            return Ok(());
        }
        if config.expired_secrets.iter().any(|known| known == secret) {
            return Err(Refusal(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000222,
                format!(
                    "The provided client secret keys for app '{}' are expired.",
                    config.client_id
                ),
            ));
        }
        return Err(Refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.".to_owned(),
        ));
    }
    if field("client_assertion_type") != ASSERTION_TYPE || field("client_assertion").is_empty() {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
        ));
    }
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", shared.base);
    let jti = verify_assertion(config, field("client_assertion"), &token_url)?;
    let mut inner = lock(&shared.inner);
    if !inner.seen_jti.insert(jti) {
        return Err(Refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion failed signature validation. [Reason - The jti claim was already used.]".to_owned(),
        ));
    }
    Ok(())
}

/// Verifies a client assertion; returns its `jti`.
fn verify_assertion(
    config: &GraphSimConfig,
    assertion: &str,
    token_url: &str,
) -> Result<String, Refusal> {
    let invalid = |code: u32, reason: &str| {
        Refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            reason.to_owned(),
        )
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else {
        return Err(invalid(50027, "JWT token is invalid or malformed."));
    };
    let decode_json = |part: &str| -> Option<serde_json::Value> {
        serde_json::from_slice(&b64.decode(part).ok()?).ok()
    };
    let (Some(header), Some(claims), Ok(signature)) = (
        decode_json(header_b64),
        decode_json(claims_b64),
        b64.decode(signature_b64),
    ) else {
        return Err(invalid(50027, "JWT token is invalid or malformed."));
    };
    let certificate = config.certificates.iter().find(|der| {
        let s256 = b64.encode(sha2::Sha256::digest(der));
        let s1 = b64.encode(<sha1::Sha1 as sha2::Digest>::digest(der));
        header.get("x5t#S256").and_then(|v| v.as_str()) == Some(s256.as_str())
            || header.get("x5t").and_then(|v| v.as_str()) == Some(s1.as_str())
    });
    let Some(certificate) = certificate else {
        return Err(invalid(
            700027,
            "Client assertion failed signature validation. [Reason - The key was not found.]",
        ));
    };
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match header
        .get("alg")
        .and_then(|v| v.as_str())
    {
        Some("RS256") => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &ring::signature::RSA_PSS_2048_8192_SHA256,
        _ => {
            return Err(invalid(
                700027,
                "Client assertion failed signature validation. [Reason - The provided signature algorithm is not supported.]",
            ));
        }
    };
    let public_key = x509_parser::parse_x509_certificate(certificate)
        .map(|(_, parsed)| parsed.public_key().subject_public_key.data.to_vec())
        .map_err(|_| invalid(700027, "The registered certificate cannot be read."))?;
    let signed = &assertion[..header_b64.len() + 1 + claims_b64.len()];
    ring::signature::UnparsedPublicKey::new(algorithm, &public_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| {
            invalid(
                700027,
                "Client assertion failed signature validation. [Reason - The signature is invalid.]",
            )
        })?;
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).unwrap_or("");
    if text("aud") != token_url {
        return Err(invalid(
            700023,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    if text("iss") != config.client_id || text("sub") != config.client_id {
        return Err(invalid(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0);
    let number = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
    match (number("exp"), number("nbf")) {
        (Some(exp), nbf) if exp > now && nbf.is_none_or(|nbf| nbf <= now) => {}
        _ => {
            return Err(invalid(
                700024,
                "Client assertion is not within its valid time range.",
            ));
        }
    }
    let jti = text("jti");
    if jti.is_empty() {
        return Err(invalid(50027, "JWT token is invalid or malformed."));
    }
    Ok(jti.to_owned())
}
