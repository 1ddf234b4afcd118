//! App-only authentication to Microsoft Graph: the OAuth 2.0 client credentials grant against
//! `{authority}/{tenant_id}/oauth2/v2.0/token` with `scope={endpoint}/.default`.
//!
//! With a certificate the application proves itself with a client assertion, a JWT signed with
//! the certificate's private key as the Microsoft identity platform documents it ("Microsoft
//! identity platform application authentication certificate credentials"): header `alg` RS256,
//! `typ` JWT and `x5t#S256` (base64url of the SHA-256 of the DER certificate); claims `aud` (the
//! token endpoint URL), `iss` = `sub` = the client id, a unique `jti`, `nbf`, `iat` and `exp`
//! five minutes ahead; posted as `client_assertion_type=
//! urn:ietf:params:oauth:client-assertion-type:jwt-bearer`. With a secret, `client_secret`.
//!
//! Invariants:
//! - one token request in flight per [`TokenSource`], however many callers wait (single
//!   flight); callers that waited for a request that failed share its error, and the failure is
//!   not cached: the next caller asks again;
//! - a token is refreshed shortly before it expires ([`refresh_margin`]: a tenth of its
//!   `expires_in`, at least 2 s, at most 5 minutes, and never more than a quarter of it), so a
//!   60 s token is asked for once a minute (every 54 s) and Entra ID's usual 60–90 minute tokens
//!   5 minutes before they expire; a refresh that fails while the old token is still valid hands
//!   out the old token (and logs why);
//! - no secret, assertion or token in a log, an error or `Debug`; Entra ID's refusals become
//!   [`AuthError::Refused`] (an `exchange_auth_failed` kind) with a detail that names the key to
//!   fix and the portal step.
//!
//! Entry points: [`TokenSource::new`], [`TokenSource::token`],
//! [`TokenSource::replace_credential`], [`CertificateCredential::from_pem`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use sha2::Digest as _;
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::exchange::FailureKind;
use crate::secret::Secret;

/// The `client_assertion_type` of a certificate credential (RFC 7523).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is valid after it is made.
const ASSERTION_LIFETIME_SECS: i64 = 300;

/// The largest token answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A certificate credential: the certificate (its DER and thumbprints) and its private key.
#[derive(Clone)]
pub struct CertificateCredential {
    der: Vec<u8>,
    x5t_s256: String,
    sha1_thumbprint: String,
    not_after: String,
    key: jsonwebtoken::EncodingKey,
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CertificateCredential")
            .field("x5t#S256", &self.x5t_s256)
            .field("thumbprint", &self.sha1_thumbprint)
            .field("key", &"***")
            .finish()
    }
}

impl PartialEq for CertificateCredential {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq as _;
        self.der == other.der && bool::from(self.key.as_bytes().ct_eq(other.key.as_bytes()))
    }
}

impl CertificateCredential {
    /// Reads a PEM file's text: the first `CERTIFICATE` block is the application's certificate,
    /// and one `PRIVATE KEY` (PKCS #8) or `RSA PRIVATE KEY` (PKCS #1) block its RSA key.
    ///
    /// # Errors
    /// The reason, in words (never key material), when a block is missing, the certificate
    /// cannot be parsed, has expired, or the key does not belong to it.
    pub fn from_pem(pem_bytes: &[u8]) -> Result<CertificateCredential, String> {
        let blocks =
            pem::parse_many(pem_bytes).map_err(|error| format!("is not PEM text: {error}"))?;
        let mut certificate: Option<Vec<u8>> = None;
        let mut key: Option<jsonwebtoken::EncodingKey> = None;
        for block in blocks {
            match block.tag() {
                "CERTIFICATE" if certificate.is_none() => {
                    certificate = Some(block.contents().to_vec());
                }
                "PRIVATE KEY" | "RSA PRIVATE KEY" => {
                    if key.is_some() {
                        return Err("holds more than one private key".to_owned());
                    }
                    let text = Zeroizing::new(pem::encode(&block));
                    key = Some(
                        jsonwebtoken::EncodingKey::from_rsa_pem(text.as_bytes()).map_err(|_| {
                            "holds a private key that is not an RSA key (Entra ID certificate credentials are RSA)".to_owned()
                        })?,
                    );
                }
                "ENCRYPTED PRIVATE KEY" => {
                    return Err("holds an encrypted private key: store it unencrypted (openssl pkey -in key.pem -out plain.pem) in a file only the service can read".to_owned());
                }
                _ => {}
            }
        }
        let der = certificate.ok_or("holds no CERTIFICATE block")?;
        let key = key.ok_or("holds no PRIVATE KEY block (the certificate's private key)")?;
        let (_, parsed) = x509_parser::parse_x509_certificate(&der)
            .map_err(|error| format!("holds a certificate that cannot be parsed: {error}"))?;
        let not_after = parsed.validity().not_after;
        if !parsed.validity().is_valid() {
            return Err(format!(
                "holds a certificate valid from {} to {}, not now: make a new one and upload its public part to the app registration (Certificates & secrets > Certificates)",
                parsed.validity().not_before,
                not_after
            ));
        }
        // The key must belong to the certificate: sign a probe and check it with the
        // certificate's public key (PKCS #1 RSAPublicKey inside the SubjectPublicKeyInfo).
        let public =
            jsonwebtoken::DecodingKey::from_rsa_der(&parsed.public_key().subject_public_key.data);
        let probe = b"ews-connector key check";
        let signature = jsonwebtoken::crypto::sign(probe, &key, jsonwebtoken::Algorithm::RS256)
            .map_err(|_| "holds a private key that cannot sign RS256".to_owned())?;
        let matches = jsonwebtoken::crypto::verify(
            &signature,
            probe,
            &public,
            jsonwebtoken::Algorithm::RS256,
        )
        .unwrap_or(false);
        if !matches {
            return Err("holds a private key that does not belong to its certificate".to_owned());
        }
        let x5t_s256 =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der));
        // The thumbprint Entra ID shows (SHA-1 of the DER); ring's legacy SHA-1 (the service keeps
        // the `sha1` crate to the simulator).
        let sha1_thumbprint = hex::encode_upper(
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der).as_ref(),
        );
        Ok(CertificateCredential {
            x5t_s256,
            sha1_thumbprint,
            not_after: not_after.to_string(),
            der,
            key,
        })
    }

    /// The `x5t#S256` header value: base64url of the SHA-256 of the DER certificate.
    pub fn x5t_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// The SHA-1 thumbprint in upper-case hex, as the Entra admin center lists certificates.
    pub fn thumbprint(&self) -> &str {
        &self.sha1_thumbprint
    }

    /// The certificate's DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// When the certificate expires, as x509-parser writes it.
    pub fn not_after(&self) -> &str {
        &self.not_after
    }

    /// A client assertion for `token_url`, valid for five minutes from now.
    fn assertion(&self, client_id: &str, token_url: &str) -> Result<Secret, AuthError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            aud: &'a str,
            iss: &'a str,
            sub: &'a str,
            jti: String,
            nbf: i64,
            iat: i64,
            exp: i64,
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() as i64)
            .unwrap_or(0);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = Some("JWT".to_owned());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = Claims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: uuid_like(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|_| AuthError::Credential {
                reason: "the certificate's private key could not sign the client assertion"
                    .to_owned(),
            })
    }
}

/// A random version-4 UUID, for `jti`.
fn uuid_like() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// How the application proves itself to Entra ID.
#[derive(Clone, Debug, PartialEq)]
pub enum Credential {
    /// `graph.certificate_file`: a signed client assertion (preferred by Microsoft).
    Certificate(Arc<CertificateCredential>),
    /// `graph.client_secret_file`: the client secret's value.
    Secret(Secret),
}

impl Credential {
    /// The configuration key this credential comes from.
    pub fn key(&self) -> &'static str {
        match self {
            Credential::Certificate(_) => "graph.certificate_file",
            Credential::Secret(_) => "graph.client_secret_file",
        }
    }
}

/// An access token for Graph; `Debug` and `Display` print `***`.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessToken(Secret);

impl AccessToken {
    /// The bearer token, for the one place that writes the `Authorization` header.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// What a token request needs besides the credential.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `{authority}/{tenant_id}/oauth2/v2.0/token`.
    pub token_url: url::Url,
    /// `{endpoint}/.default`.
    pub scope: String,
    pub client_id: String,
    /// Connect plus answer, per token request.
    pub timeout: Duration,
    /// `tls.ca_file`, trusted besides the system roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// `tls.danger_accept_invalid_certs` (lab only).
    pub accept_invalid_certs: bool,
}

impl Settings {
    /// The settings of `graph` with the trust of `tls`.
    pub fn from_config(
        graph: &crate::config::GraphConfig,
        tls: &crate::config::TlsConfig,
    ) -> Settings {
        Settings {
            token_url: graph.token_url(),
            scope: graph.scope(),
            client_id: graph.client_id.clone(),
            timeout: Duration::from_secs(30),
            ca_file: tls.ca_file.clone(),
            accept_invalid_certs: tls.danger_accept_invalid_certs,
        }
    }
}

/// Why no token could be had. Nothing in it holds a secret, an assertion or a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Entra ID refused the application's credentials or its identifiers; `fix` says what to
    /// change (which key, which portal step).
    #[error("Entra ID refused the application ({code}): {fix}")]
    Refused {
        /// `AADSTS7000215` and the like, or Entra's `error` when it named no code.
        code: String,
        /// OAuth's `error` (`invalid_client`, `unauthorized_client`, `invalid_request`, ...).
        error: String,
        fix: String,
    },
    /// No connection or TLS to the token endpoint.
    #[error("cannot reach the token endpoint {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The token endpoint did not answer in time.
    #[error("the token endpoint {url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    /// HTTP 429 or 5xx from the token endpoint.
    #[error("the token endpoint {url} answered HTTP {status}; try again later")]
    Unavailable { url: String, status: u16 },
    /// An answer that is not a token and not an Entra error.
    #[error("the token endpoint {url} gave an unusable answer: {reason}")]
    Unusable { url: String, reason: String },
    /// The credential could not be used locally (the key could not sign).
    #[error("{reason}")]
    Credential { reason: String },
}

impl AuthError {
    /// The failure kind the API maps to a problem code: a refusal is `exchange_auth_failed`.
    pub fn kind(&self) -> FailureKind {
        match self {
            AuthError::Refused { .. } | AuthError::Credential { .. } => FailureKind::AuthFailed,
            AuthError::Unreachable { .. } => FailureKind::Unreachable,
            AuthError::Timeout { .. } => FailureKind::Timeout,
            AuthError::Unavailable { .. } => FailureKind::Throttled,
            AuthError::Unusable { .. } => FailureKind::Unusable,
        }
    }
}

/// What the fix is for an Entra ID refusal, by AADSTS code (and the credential in use).
fn fix_for(code: Option<u32>, error: &str, credential: &Credential) -> String {
    let registration = "Entra admin center > App registrations > the connector's application";
    match code {
        Some(7_000_215) => format!(
            "invalid client secret: graph.client_secret_file must hold the secret's Value (not its Secret ID): copy it from {registration} > Certificates & secrets > Client secrets (a new secret if the value is no longer shown), then reload (SIGHUP)"
        ),
        Some(7_000_222) => format!(
            "the client secret has expired: add a new one under {registration} > Certificates & secrets > Client secrets, write its Value to graph.client_secret_file and reload (SIGHUP); a certificate (graph.certificate_file) is preferred"
        ),
        Some(700_027) => match credential {
            Credential::Certificate(certificate) => format!(
                "the certificate in graph.certificate_file (thumbprint {}) is not registered for this application or the assertion's signature was not accepted: upload its public certificate under {registration} > Certificates & secrets > Certificates, or point graph.certificate_file at the registered one and reload (SIGHUP)",
                certificate.thumbprint()
            ),
            Credential::Secret(_) => format!(
                "the client assertion was not accepted: upload the certificate under {registration} > Certificates & secrets > Certificates"
            ),
        },
        Some(700_016) => format!(
            "graph.client_id names no application in tenant graph.tenant_id: copy the Application (client) ID from {registration} > Overview, and check that the app is registered (or consented) in this tenant"
        ),
        Some(90_002) | Some(900_023) => "graph.tenant_id names no tenant: use the Directory (tenant) ID from Entra admin center > Overview (or the tenant's initial domain, name.onmicrosoft.com)".to_owned(),
        Some(700_024) | Some(700_025) => "the client assertion is outside its valid time range: set this host's clock right (NTP)".to_owned(),
        Some(7_000_112) => "the application is disabled: an administrator enables it under Entra admin center > Enterprise applications > the connector's application > Properties".to_owned(),
        Some(500_011) | Some(70_011) => "the scope was refused: graph.endpoint must be the Graph base URL of the tenant's cloud (https://graph.microsoft.com for the global service)".to_owned(),
        Some(other) => format!(
            "AADSTS{other} ({error}): look the code up in Microsoft's AADSTS error list and check graph.tenant_id, graph.client_id and {}",
            credential.key()
        ),
        None => format!(
            "{error}: check graph.tenant_id, graph.client_id and {}",
            credential.key()
        ),
    }
}

/// The AADSTS code of an Entra error answer: the first of `error_codes`, else the `AADSTSn` at
/// the start of `error_description`.
fn aadsts_code(answer: &serde_json::Value) -> Option<u32> {
    if let Some(code) = answer
        .get("error_codes")
        .and_then(|codes| codes.get(0))
        .and_then(serde_json::Value::as_u64)
    {
        return u32::try_from(code).ok();
    }
    let description = answer.get("error_description")?.as_str()?;
    let digits: String = description
        .strip_prefix("AADSTS")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[derive(Clone)]
struct Cached {
    token: AccessToken,
    refresh_at: Instant,
    expires_at: Instant,
}

struct State {
    cached: Option<Cached>,
    /// Token requests completed (success or failure).
    completed: u64,
    last_error: Option<AuthError>,
}

/// The application's Graph token: cached, refreshed before expiry, one request in flight.
pub struct TokenSource {
    settings: Settings,
    tls: Option<Arc<rustls::ClientConfig>>,
    credential: RwLock<Credential>,
    state: tokio::sync::Mutex<State>,
    completed: AtomicU64,
    requests: AtomicU64,
    /// The application's Graph counters (token requests here, Graph requests in the clients).
    stats: Arc<crate::graph::stats::Stats>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TokenSource")
            .field("token_url", &self.settings.token_url.as_str())
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source for `settings` proving itself with `credential`. Sends nothing yet.
    ///
    /// # Errors
    /// [`AuthError::Unreachable`] when the TLS configuration cannot be built (an unusable
    /// `tls.ca_file`).
    pub fn new(settings: Settings, credential: Credential) -> Result<TokenSource, AuthError> {
        let tls = if settings.token_url.scheme() == "https" {
            let config = crate::transport::tls::client_config(
                settings.ca_file.as_deref(),
                settings.accept_invalid_certs,
            )
            .map_err(|error| AuthError::Unreachable {
                url: settings.token_url.to_string(),
                reason: error.to_string(),
            })?;
            Some(Arc::new(config))
        } else {
            None
        };
        Ok(TokenSource {
            settings,
            tls,
            credential: RwLock::new(credential),
            state: tokio::sync::Mutex::new(State {
                cached: None,
                completed: 0,
                last_error: None,
            }),
            completed: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            stats: Arc::default(),
        })
    }

    /// Token requests sent so far (each one to Entra ID).
    pub fn token_requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The counters of this application's Graph traffic (`/metrics`), shared with every
    /// `GraphClient` built on this token source.
    pub fn stats(&self) -> &Arc<crate::graph::stats::Stats> {
        &self.stats
    }

    /// Swaps in a credential read again (SIGHUP); the cached token stays valid. Returns whether
    /// the credential changed.
    pub fn replace_credential(&self, credential: Credential) -> bool {
        let mut current = self
            .credential
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *current == credential {
            return false;
        }
        *current = credential;
        true
    }

    /// Drops the cached token if it is `token` (Graph answered it with
    /// `InvalidAuthenticationToken`), so the next caller asks for a new one.
    pub async fn invalidate(&self, token: &AccessToken) {
        let mut state = self.state.lock().await;
        if state
            .cached
            .as_ref()
            .is_some_and(|cached| &cached.token == token)
        {
            state.cached = None;
        }
    }

    /// A valid access token: the cached one until [`refresh_margin`] before it expires, else a new one. One
    /// request is in flight at a time; callers that waited for it get its result.
    ///
    /// # Errors
    /// [`AuthError`] when Entra ID refused or could not be reached and no valid token is
    /// cached.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        let seen = self.completed.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        let now = Instant::now();
        if let Some(cached) = &state.cached {
            if now < cached.refresh_at {
                return Ok(cached.token.clone());
            }
        }
        if state.completed != seen {
            // A request finished while this caller waited; it failed (else the token above
            // would be fresh): share its outcome rather than asking again at once.
            if let Some(error) = state.last_error.clone() {
                return still_valid(&state, now).ok_or(error);
            }
        }
        let sent = self.requests.load(Ordering::Relaxed);
        let result = self.fetch().await;
        if self.requests.load(Ordering::Relaxed) != sent {
            self.record(&result);
        }
        state.completed += 1;
        self.completed.store(state.completed, Ordering::Release);
        match result {
            Ok(cached) => {
                let token = cached.token.clone();
                state.cached = Some(cached);
                state.last_error = None;
                Ok(token)
            }
            Err(error) => {
                state.last_error = Some(error.clone());
                match still_valid(&state, Instant::now()) {
                    Some(token) => {
                        tracing::warn!(%error, "Graph token refresh failed; the current token is still valid and stays in use");
                        Ok(token)
                    }
                    None => {
                        tracing::warn!(%error, "no Graph token");
                        Err(error)
                    }
                }
            }
        }
    }

    /// Counts a token request that was sent, by outcome.
    fn record(&self, result: &Result<Cached, AuthError>) {
        use crate::graph::stats::outcome_of;
        let (outcome, refused) = match result {
            Ok(_) => ("answered".to_owned(), false),
            Err(AuthError::Refused { code, .. }) => (outcome_of(400, code), true),
            Err(AuthError::Unavailable { status, .. }) => (format!("http_{status}"), false),
            Err(AuthError::Unreachable { .. } | AuthError::Timeout { .. }) => {
                ("transport_error".to_owned(), false)
            }
            Err(AuthError::Unusable { .. } | AuthError::Credential { .. }) => {
                ("unusable".to_owned(), false)
            }
        };
        self.stats.record_token(outcome, refused);
    }

    /// One token request.
    async fn fetch(&self) -> Result<Cached, AuthError> {
        let credential = self
            .credential
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let token_url = self.settings.token_url.as_str();
        let body = {
            // Sized so it does not grow (a reallocation would leave a copy of the secret
            // behind); the finished body is wiped when dropped.
            let mut form = url::form_urlencoded::Serializer::new(String::with_capacity(16 * 1024));
            form.append_pair("client_id", &self.settings.client_id)
                .append_pair("scope", &self.settings.scope)
                .append_pair("grant_type", "client_credentials");
            match &credential {
                Credential::Certificate(certificate) => {
                    let assertion = certificate.assertion(&self.settings.client_id, token_url)?;
                    form.append_pair("client_assertion_type", ASSERTION_TYPE)
                        .append_pair("client_assertion", assertion.expose());
                }
                Credential::Secret(secret) => {
                    form.append_pair("client_secret", secret.expose());
                }
            }
            Zeroizing::new(form.finish())
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            token_url,
            credential = credential.key(),
            "requesting a Graph token"
        );
        let started = Instant::now();
        let (status, answer) = tokio::time::timeout(self.settings.timeout, self.post(&body))
            .await
            .map_err(|_| AuthError::Timeout {
                url: token_url.to_owned(),
                secs: self.settings.timeout.as_secs(),
            })??;
        let unusable = |reason: &str| AuthError::Unusable {
            url: token_url.to_owned(),
            reason: reason.to_owned(),
        };
        let json: Option<serde_json::Value> = serde_json::from_slice(&answer).ok();
        if status == 200 {
            let json = json.ok_or_else(|| unusable("not JSON"))?;
            let token = json
                .get("access_token")
                .and_then(serde_json::Value::as_str)
                .filter(|token| !token.is_empty())
                .ok_or_else(|| unusable("no access_token"))?;
            let token_type = json.get("token_type").and_then(serde_json::Value::as_str);
            if !token_type.is_some_and(|kind| kind.eq_ignore_ascii_case("Bearer")) {
                return Err(unusable("token_type is not Bearer"));
            }
            let expires_in = match json.get("expires_in") {
                Some(serde_json::Value::Number(number)) => number.as_u64(),
                Some(serde_json::Value::String(text)) => text.parse().ok(),
                _ => None,
            }
            .filter(|seconds| *seconds > 0)
            .ok_or_else(|| unusable("no positive expires_in"))?;
            let lifetime = Duration::from_secs(expires_in);
            tracing::info!(expires_in, "Graph token obtained");
            return Ok(Cached {
                token: AccessToken(Secret::new(token)),
                refresh_at: started + lifetime.saturating_sub(refresh_margin(lifetime)),
                expires_at: started + lifetime,
            });
        }
        if status == 429 || status >= 500 {
            return Err(AuthError::Unavailable {
                url: token_url.to_owned(),
                status,
            });
        }
        let Some(json) = json.filter(|json| json.get("error").is_some()) else {
            return Err(unusable(&format!("HTTP {status} without an OAuth error")));
        };
        let error = json
            .get("error")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("error")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect::<String>();
        let code = aadsts_code(&json);
        Err(AuthError::Refused {
            code: code.map_or_else(|| error.clone(), |code| format!("AADSTS{code}")),
            fix: fix_for(code, &error, &credential),
            error,
        })
    }

    /// POSTs the form `body` to the token URL; returns the status and the answer's bytes.
    async fn post(&self, body: &str) -> Result<(u16, Bytes), AuthError> {
        let url = &self.settings.token_url;
        let unreachable = |reason: String| AuthError::Unreachable {
            url: url.to_string(),
            reason,
        };
        let host = match url.host() {
            Some(url::Host::Domain(domain)) => domain.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(unreachable("no host".to_owned())),
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|error| unreachable(error.to_string()))?;
        let request = hyper::Request::post(url.as_str())
            .header(hyper::header::HOST, url.authority())
            .header(
                hyper::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(|error| unreachable(error.to_string()))?;
        match &self.tls {
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|error| unreachable(error.to_string()))?;
                let stream = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, stream)
                    .await
                    .map_err(|error| unreachable(format!("TLS: {error}")))?;
                exchange(stream, request).await.map_err(unreachable)
            }
            None => exchange(stream, request).await.map_err(unreachable),
        }
    }
}

/// The cached token when it has not expired yet.
/// How long before its expiry a token of `lifetime` is replaced: a tenth of the lifetime, so
/// that a short-lived token is asked for about once per lifetime (a 60 s token every 54 s), but
/// at least 2 s (a request in flight must arrive with a valid token on a slow network), never
/// more than a quarter of the lifetime (a test's 1 s token is still reused), and at most 5
/// minutes (the Azure SDKs' bearer-token policy refreshes 5 minutes before expiry).
pub fn refresh_margin(lifetime: Duration) -> Duration {
    const FLOOR: Duration = Duration::from_secs(2);
    const CEILING: Duration = Duration::from_secs(300);
    (lifetime / 10).max(FLOOR.min(lifetime / 4)).min(CEILING)
}

fn still_valid(state: &State, now: Instant) -> Option<AccessToken> {
    state
        .cached
        .as_ref()
        .filter(|cached| now < cached.expires_at)
        .map(|cached| cached.token.clone())
}

/// One HTTP/1.1 request on `io` and its answer (at most 64 KiB).
async fn exchange<T>(io: T, request: hyper::Request<Full<Bytes>>) -> Result<(u16, Bytes), String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|error| error.to_string())?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|error| format!("reading the answer: {error}"))?
            .to_bytes();
        Ok((status, body))
    }
    .await;
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_replaced_a_tenth_of_its_lifetime_before_expiry_within_bounds() {
        let secs = Duration::from_secs;
        // A 60 s token: once a minute, 6 s early.
        assert_eq!(refresh_margin(secs(60)), secs(6));
        // Entra ID's usual lifetimes: 5 minutes early.
        assert_eq!(refresh_margin(secs(3599)), secs(300));
        assert_eq!(refresh_margin(secs(5400)), secs(300));
        // 2 s early at least, unless that is over a quarter of a very short lifetime.
        assert_eq!(refresh_margin(secs(10)), secs(2));
        assert_eq!(refresh_margin(secs(2)), Duration::from_millis(500));
        assert_eq!(refresh_margin(secs(1)), Duration::from_millis(250));
        for lifetime in (1..10_000).map(Duration::from_millis) {
            let margin = refresh_margin(lifetime);
            assert!(
                margin <= lifetime / 4 + lifetime / 10 && margin < lifetime,
                "{lifetime:?}"
            );
        }
    }

    #[test]
    fn the_aadsts_code_comes_from_error_codes_or_the_description() {
        let answer = serde_json::json!({"error": "invalid_client", "error_codes": [7000215]});
        assert_eq!(aadsts_code(&answer), Some(7_000_215));
        let answer = serde_json::json!({"error": "invalid_request", "error_description": "AADSTS90002: Tenant 'x' not found."});
        assert_eq!(aadsts_code(&answer), Some(90_002));
        assert_eq!(aadsts_code(&serde_json::json!({"error": "x"})), None);
    }

    #[test]
    fn every_fix_names_a_key_or_a_portal_step() {
        let secret = Credential::Secret(Secret::new("s"));
        for code in [
            7_000_215, 7_000_222, 700_027, 700_016, 90_002, 700_024, 7_000_112, 500_011, 1,
        ] {
            let fix = fix_for(Some(code), "invalid_client", &secret);
            assert!(
                fix.contains("graph.") || fix.contains("Entra admin center") || fix.contains("NTP"),
                "{code}: {fix}"
            );
        }
    }

    #[test]
    fn a_uuid_is_version_4() {
        let id = uuid_like();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(uuid_like(), id);
    }
}
