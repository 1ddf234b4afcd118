//! `transport`: bytes to one EWS endpoint over HTTP/1.1 (plain or rustls), authenticated with
//! NTLMv2 (with optional Extended Protection channel binding) or Basic, with a per-account
//! connection pool.
//!
//! Invariants:
//! - only this module knows about auth headers, TLS, sockets and HTTP status codes; it hands up
//!   status, content type and body bytes and never parses SOAP (a 500 with a fault is a `Response`);
//! - an NTLM-authenticated connection is only reused for the account that authenticated it;
//! - an account never has more than `max_connections_per_account` connections (= requests in
//!   flight);
//! - a rejected NTLM authenticate message is never retried with the same credentials on a fresh
//!   handshake (repeated failures lock AD accounts): exactly one handshake per failed call;
//! - passwords, `Authorization` values and NTLM tokens never reach logs, errors or `Debug`;
//! - a refused server certificate ([`Error::Certificate`]) and a name that does not resolve
//!   ([`Error::NameNotResolved`]) are permanent ([`Error::is_permanent`]): one attempt, one TLS
//!   handshake at most, and the message says once what is wrong and which key fixes it.
//!
//! Entry types: [`Transport`], [`Settings`], [`Credentials`], [`Request`], [`Response`],
//! [`Stats`], [`Error`]; `inspect` holds the step-by-step diagnostics behind `ews-connector doctor`.

mod basic;
mod connection;
mod error;
pub mod inspect;
mod ntlm;
mod pool;
mod resolve;
mod retry_after;
pub(crate) mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use crate::secret::Secret;
use crate::transport::connection::{Connection, Endpoint, PostHeaders, RawResponse, SendError};
pub use crate::transport::error::Error;
use crate::transport::ntlm::HttpScheme;
use crate::transport::pool::{AccountPool, Pool};

/// How the transport authenticates to the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// NTLMv2 over `WWW-Authenticate: NTLM` (or `Negotiate` carrying raw NTLM when the server
    /// only lists that). Authenticates a connection once; the connection is then kept alive.
    Ntlm,
    /// HTTP Basic, sent with every request; https only unless the lab flag allows plain http.
    Basic,
}

/// Everything the transport needs to reach one EWS endpoint. Filled in by `config`.
///
/// `Debug` masks a password embedded in the URL (which `Transport::new` refuses anyway).
#[derive(Clone)]
pub struct Settings {
    /// The EWS endpoint, `http` or `https`, for example `https://mail.contoso.example/EWS/Exchange.asmx`.
    pub url: url::Url,
    /// The configuration key `url` comes from (`exchange.url`), named in the errors that only
    /// changing it can fix: a host name that does not resolve, a certificate for another name.
    /// `None` where the url is not the operator's (an Autodiscover candidate).
    pub url_key: Option<&'static str>,
    /// NTLM or Basic.
    pub auth: AuthScheme,
    /// Extra PEM trust anchors on top of the system roots (an internal CA, or the server's own
    /// self-signed certificate).
    pub ca_file: Option<PathBuf>,
    /// Send the `tls-server-end-point` channel binding in NTLM (Extended Protection). Needed
    /// when IIS requires it (Exchange 2019 CU14+ back ends); harmless otherwise.
    pub channel_binding: bool,
    /// Lab only: accept any server certificate (`config` warns about it at every start).
    pub danger_accept_invalid_certs: bool,
    /// Lab only: allow Basic on plain http.
    pub danger_allow_basic_over_http: bool,
    /// Limit for TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
    /// Limit for the whole exchange of one `post`: handshake legs, sending, and the full
    /// response body. Waiting for a free connection slot is not counted.
    pub request_timeout: Duration,
    /// Ceiling of connections (= requests in flight) per account; callers wait for a free slot.
    pub max_connections_per_account: usize,
    /// The `User-Agent` header, for example `ews-connector/0.1.0`.
    pub user_agent: String,
}

impl Settings {
    /// Settings with defaults: the url from `exchange.url`, channel binding on, no lab flags,
    /// 10 s connect, 100 s request (the EWS Managed API's default), 10 connections per account
    /// (Microsoft's advice for concurrent EWS requests per account),
    /// `User-Agent: ews-connector/<version>`.
    pub fn new(url: url::Url, auth: AuthScheme) -> Settings {
        Settings {
            url,
            url_key: Some("exchange.url"),
            auth,
            ca_file: None,
            channel_binding: true,
            danger_accept_invalid_certs: false,
            danger_allow_basic_over_http: false,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(100),
            max_connections_per_account: 10,
            user_agent: format!("ews-connector/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The endpoint of `url`, with a TLS configuration built from the trust settings when it is
    /// https: what [`Transport::new`] and `inspect` connect to.
    ///
    /// # Errors
    /// [`Error::CaFile`] or [`Error::InvalidSettings`] from [`tls::client_config`];
    /// [`Error::InvalidSettings`] when the url is not http(s) with a host.
    pub(crate) fn endpoint(&self) -> Result<Endpoint, Error> {
        let tls_config = if self.url.scheme() == "https" {
            Some(Arc::new(tls::client_config(
                self.ca_file.as_deref(),
                self.danger_accept_invalid_certs,
            )?))
        } else {
            None
        };
        Endpoint::new(&self.url, self.url_key, tls_config, self.connect_timeout)
    }

    /// `user_agent` as a header value.
    ///
    /// # Errors
    /// [`Error::InvalidSettings`] when it is not a valid header value.
    pub(crate) fn user_agent_header(&self) -> Result<HeaderValue, Error> {
        HeaderValue::from_str(&self.user_agent).map_err(|_| Error::InvalidSettings {
            detail: "user_agent is not a valid header value".to_owned(),
        })
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut url = self.url.clone();
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        formatter
            .debug_struct("Settings")
            .field("url", &url.as_str())
            .field("url_key", &self.url_key)
            .field("auth", &self.auth)
            .field("ca_file", &self.ca_file)
            .field("channel_binding", &self.channel_binding)
            .field(
                "danger_accept_invalid_certs",
                &self.danger_accept_invalid_certs,
            )
            .field(
                "danger_allow_basic_over_http",
                &self.danger_allow_basic_over_http,
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field(
                "max_connections_per_account",
                &self.max_connections_per_account,
            )
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// One service account. `Debug` shows the username and `***` for the password.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// `DOMAIN\user` or `user@upn.example`.
    pub username: String,
    pub password: Secret,
}

/// One EWS POST.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The SOAP envelope, sent as `text/xml; charset=utf-8`.
    pub body: Bytes,
    /// `X-AnchorMailbox`: the SMTP address of the mailbox acted on (routes to its back end).
    pub anchor_mailbox: Option<String>,
    /// `client-request-id` (a GUID per call); `return-client-request-id: true` is added with it.
    pub client_request_id: Option<String>,
}

/// Any HTTP response other than 401.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    /// The whole body, unparsed (a SOAP envelope, a SOAP fault, or an HTML error page).
    pub body: Bytes,
    /// `Retry-After` (seconds or HTTP date, turned into a delay), typically on a 503.
    pub retry_after: Option<Duration>,
    /// `Location`, as sent (a redirect's target; Autodiscover follows it, EWS calls ignore it).
    pub location: Option<String>,
}

/// Counters since the transport was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// NTLM authenticate messages sent (one per handshake).
    pub handshakes: u64,
    /// TCP connections opened.
    pub connections_opened: u64,
    /// Requests that ended in `Error::AuthRejected`.
    pub auth_failures: u64,
}

/// The client for one EWS endpoint; cheap to clone (an `Arc` inside), shared by all accounts.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    endpoint: Endpoint,
    user_agent: HeaderValue,
    pool: Pool,
    /// The NTLM-carrying scheme that worked last (`SCHEME_*`), so later handshakes skip probing.
    scheme: AtomicU8,
    handshakes: AtomicU64,
    connections_opened: AtomicU64,
    auth_failures: AtomicU64,
}

const SCHEME_NTLM: u8 = 0;
const SCHEME_NEGOTIATE: u8 = 1;

impl std::fmt::Debug for Transport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Transport")
            .field("url", &self.inner.settings.url.as_str())
            .field("auth", &self.inner.settings.auth)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Transport {
    /// Builds the transport: validates the settings and builds the rustls configuration.
    ///
    /// # Errors
    /// [`Error::InsecureBasic`] for Basic on `http` without `danger_allow_basic_over_http`;
    /// [`Error::InvalidSettings`] for a URL that is not http(s), zero connections, a bad
    /// user agent; [`Error::CaFile`] when `ca_file` is unusable.
    pub fn new(settings: Settings) -> Result<Transport, Error> {
        if settings.auth == AuthScheme::Basic {
            basic::ensure_allowed(&settings.url, settings.danger_allow_basic_over_http)?;
        }
        if !settings.url.username().is_empty() || settings.url.password().is_some() {
            return Err(Error::InvalidSettings {
                detail: "the url must not carry credentials: use Credentials".to_owned(),
            });
        }
        if settings.max_connections_per_account == 0 {
            return Err(Error::InvalidSettings {
                detail: "max_connections_per_account must be at least 1".to_owned(),
            });
        }
        let user_agent = settings.user_agent_header()?;
        let endpoint = settings.endpoint()?;
        Ok(Transport {
            inner: Arc::new(Inner {
                pool: Pool::new(settings.max_connections_per_account),
                settings,
                endpoint,
                user_agent,
                scheme: AtomicU8::new(SCHEME_NTLM),
                handshakes: AtomicU64::new(0),
                connections_opened: AtomicU64::new(0),
                auth_failures: AtomicU64::new(0),
            }),
        })
    }

    /// POSTs `request` as `credentials`' account and returns the response, whatever its status,
    /// except 401 which becomes [`Error::AuthRejected`].
    ///
    /// Waits for a free connection slot of the account first (at most
    /// `max_connections_per_account` in flight).
    ///
    /// # Errors
    /// [`Error::AuthRejected`] after exactly one rejected handshake (or one rejected Basic
    /// request); [`Error::Certificate`] and [`Error::NameNotResolved`] (permanent);
    /// [`Error::Connect`], [`Error::Tls`], [`Error::Timeout`], [`Error::Protocol`].
    pub async fn post(
        &self,
        credentials: &Credentials,
        request: Request,
    ) -> Result<Response, Error> {
        let account = self.inner.pool.account(&credentials.username);
        let _permit = account.acquire().await;
        let limit = self.inner.settings.request_timeout;
        match tokio::time::timeout(limit, self.inner.exchange(&account, credentials, &request))
            .await
        {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                endpoint: self.inner.endpoint.display.clone(),
                phase: "request",
                after: limit,
            }),
        }
    }

    /// Reads `ca_file` again and uses the new trust anchors for every connection opened from
    /// now on (SIGHUP). Connections already open keep their TLS session and are not dropped.
    /// Returns `Ok(false)` when the endpoint is plain http (nothing to reload).
    ///
    /// # Errors
    /// [`Error::CaFile`] (naming the file) or [`Error::InvalidSettings`] when the new trust
    /// anchors cannot be used; the previous configuration then stays in force, so a bad file
    /// never drops trust silently.
    pub fn reload_trust(&self) -> Result<bool, Error> {
        let settings = &self.inner.settings;
        if !self.inner.endpoint.is_tls() {
            return Ok(false);
        }
        let config = tls::client_config(
            settings.ca_file.as_deref(),
            settings.danger_accept_invalid_certs,
        )?;
        Ok(self.inner.endpoint.replace_tls_config(Arc::new(config)))
    }

    /// Sends one unauthenticated `GET` to the endpoint on a fresh connection (no `Authorization`
    /// header, whatever the scheme) and returns the response, 401 included. Used only for the
    /// Autodiscover redirect probe (`GET http://autodiscover.<domain>/autodiscover/autodiscover.xml`,
    /// PROTOCOL.md 8.1 step 4), whose answer is a redirect to follow, never a place for credentials.
    ///
    /// # Errors
    /// [`Error::Connect`], [`Error::Tls`], [`Error::Timeout`], [`Error::Protocol`].
    pub async fn get_anonymous(&self) -> Result<Response, Error> {
        let limit = self.inner.settings.request_timeout;
        let exchange = async {
            let mut connection = self.inner.open().await?;
            match connection
                .get(&self.inner.endpoint, &self.inner.user_agent)
                .await
            {
                Ok(response) => Ok(response.into_response()),
                Err(SendError::Failed(error)) => Err(error),
                Err(SendError::NotSent) => Err(Error::Connect {
                    endpoint: self.inner.endpoint.display.clone(),
                    detail: "the server closed a new connection before the request was sent"
                        .to_owned(),
                    request_sent: false,
                    source: None,
                }),
            }
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                endpoint: self.inner.endpoint.display.clone(),
                phase: "request",
                after: limit,
            }),
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        Stats {
            handshakes: self.inner.handshakes.load(Ordering::Relaxed),
            connections_opened: self.inner.connections_opened.load(Ordering::Relaxed),
            auth_failures: self.inner.auth_failures.load(Ordering::Relaxed),
        }
    }
}

impl Inner {
    async fn exchange(
        &self,
        account: &AccountPool,
        credentials: &Credentials,
        request: &Request,
    ) -> Result<Response, Error> {
        let headers = PostHeaders {
            user_agent: &self.user_agent,
            request,
        };
        let authorization = match self.settings.auth {
            AuthScheme::Basic => Some(basic::authorization(
                &credentials.username,
                &credentials.password,
            )?),
            AuthScheme::Ntlm => None,
        };
        let rejections_before = account.rejections();
        let mut reauthentication = None;
        // First try idle connections of this account (authenticated, for NTLM).
        while let Some(mut connection) = account.take_idle() {
            tracing::debug!(connection = connection.id, account = %credentials.username, "reusing connection");
            match connection
                .send(
                    &self.endpoint,
                    &headers,
                    request.body.clone(),
                    authorization.clone(),
                )
                .await
            {
                Err(SendError::NotSent) => {
                    tracing::debug!(
                        connection = connection.id,
                        "idle connection was closed by the server"
                    );
                    continue;
                }
                Err(SendError::Failed(error)) => return Err(error),
                Ok(response) if response.status == StatusCode::UNAUTHORIZED => {
                    if self.settings.auth == AuthScheme::Basic {
                        return Err(self.rejected(
                            credentials,
                            "the server answered 401 to the basic credentials",
                        ));
                    }
                    // IIS dropped the connection's authentication: authenticate once, afresh.
                    // When the password was changed in AD, every in-flight request of the
                    // account gets here at once: one re-authenticates, and if it is refused
                    // the others fail without a handshake (AD counts each one).
                    tracing::debug!(connection = connection.id, account = %credentials.username,
                        "authenticated connection got 401: re-authenticating on a fresh connection");
                    reauthentication = Some(account.reauthentication.lock().await);
                    if account.rejections() != rejections_before {
                        return Err(self.rejected(
                            credentials,
                            "the server answered 401 on an authenticated connection, and re-authenticating this account was just refused",
                        ));
                    }
                    break;
                }
                Ok(response) => return Ok(self.finish(account, connection, response)),
            }
        }
        let mut connection = self.open().await?;
        let response = match self.settings.auth {
            AuthScheme::Basic => {
                let response = self
                    .send_fresh(
                        &mut connection,
                        &headers,
                        request.body.clone(),
                        authorization,
                    )
                    .await?;
                if response.status == StatusCode::UNAUTHORIZED {
                    return Err(self.rejected(
                        credentials,
                        "the server answered 401 to the basic credentials",
                    ));
                }
                response
            }
            AuthScheme::Ntlm => {
                let handshake = self
                    .ntlm_handshake(&mut connection, credentials, &headers)
                    .await;
                if let Err(Error::AuthRejected { .. }) = &handshake {
                    account.record_rejection();
                }
                drop(reauthentication);
                match handshake? {
                    Handshake::Authenticated(response) => response,
                    Handshake::Unauthenticated(response) => {
                        // The connection never got authenticated (a 503 to the negotiate leg,
                        // say): it is dropped, not pooled, so the pool holds only
                        // authenticated connections.
                        return Ok(response.into_response());
                    }
                }
            }
        };
        Ok(self.finish(account, connection, response))
    }

    /// Hands the connection back to the pool when the server keeps it alive, then converts.
    fn finish(
        &self,
        account: &AccountPool,
        connection: Connection,
        response: RawResponse,
    ) -> Response {
        if response.keep_alive() {
            account.give_back(connection);
        } else {
            tracing::debug!(
                connection = connection.id,
                "server closed the connection after the response"
            );
        }
        response.into_response()
    }

    async fn open(&self) -> Result<Connection, Error> {
        let id = self.connections_opened.fetch_add(1, Ordering::Relaxed) + 1;
        let connection = self.endpoint.connect(id).await.inspect_err(|_| {
            self.connections_opened.fetch_sub(1, Ordering::Relaxed);
        })?;
        tracing::debug!(connection = id, endpoint = %self.endpoint.display, "connection opened");
        Ok(connection)
    }

    async fn send_fresh(
        &self,
        connection: &mut Connection,
        headers: &PostHeaders<'_>,
        body: Bytes,
        authorization: Option<HeaderValue>,
    ) -> Result<RawResponse, Error> {
        match connection
            .send(&self.endpoint, headers, body, authorization)
            .await
        {
            Ok(response) => Ok(response),
            Err(SendError::Failed(error)) => Err(error),
            Err(SendError::NotSent) => Err(Error::Connect {
                endpoint: self.endpoint.display.clone(),
                detail: "the server closed a new connection before the request was sent".to_owned(),
                request_sent: false,
                source: None,
            }),
        }
    }

    /// Runs negotiate, challenge and authenticate on `connection` and returns the response to the
    /// authenticate leg (which carries the SOAP body).
    ///
    /// The negotiate leg goes out with an empty body (`Content-Length: 0`): IIS answers it with
    /// 401 before EWS reads anything, and ntlm_server.py does the same, so sending the envelope
    /// there would only upload it once more for nothing (a CreateItem batch can be large). The
    /// authenticate leg carries the real body and its response is the EWS answer.
    ///
    /// # Errors
    /// [`Error::AuthRejected`] when the authenticate leg gets 401 (never retried);
    /// [`Error::Protocol`] when the server offers no NTLM challenge or closes mid-handshake.
    async fn ntlm_handshake(
        &self,
        connection: &mut Connection,
        credentials: &Credentials,
        headers: &PostHeaders<'_>,
    ) -> Result<Handshake, Error> {
        tracing::debug!(connection = connection.id, account = %credentials.username, "ntlm handshake started");
        let negotiate = ntlm::negotiate_message();
        let mut scheme = self.remembered_scheme();
        let mut switched_scheme = false;
        let challenge_token = loop {
            let authorization = sensitive(&scheme.authorization(&negotiate))?;
            let answer = self
                .send_fresh(connection, headers, Bytes::new(), Some(authorization))
                .await?;
            if answer.status != StatusCode::UNAUTHORIZED {
                if answer.status.is_success() {
                    return Err(self.protocol(format!(
                        "the server answered {} to the ntlm negotiate message instead of a challenge",
                        answer.status
                    )));
                }
                // A 503 from a busy IIS, a 5xx from a proxy: the caller decides what to do.
                return Ok(Handshake::Unauthenticated(answer));
            }
            let offered = answer.www_authenticate();
            if let Some(token) = scheme.token(offered.iter().copied()) {
                if !answer.keep_alive() {
                    return Err(self.protocol(
                        "the server closed the connection after the ntlm challenge (ntlm needs keep-alive)".to_owned(),
                    ));
                }
                break token;
            }
            match HttpScheme::choose(offered.iter().copied()) {
                Some(other) if other != scheme && !switched_scheme => {
                    tracing::debug!(
                        scheme = other.name(),
                        "server does not offer our ntlm scheme: switching"
                    );
                    scheme = other;
                    switched_scheme = true;
                    self.remember_scheme(other);
                }
                _ => {
                    let names: Vec<&str> = offered
                        .iter()
                        .filter_map(|value| value.split_whitespace().next())
                        .collect();
                    return Err(self.protocol(format!(
                        "the server answered the {} negotiate message without a challenge (it offers: {})",
                        scheme.name(),
                        names.join(", ")
                    )));
                }
            }
        };
        let challenge = ntlm::parse_challenge(&challenge_token)
            .map_err(|error| self.protocol(error.to_string()))?;
        let end_point_hash = if self.settings.channel_binding {
            connection.end_point_hash.as_deref()
        } else {
            None
        };
        let authenticate = ntlm::authenticate_message(
            &challenge,
            &credentials.username,
            &credentials.password,
            Some(&self.endpoint.service_principal),
            end_point_hash,
        )
        .map_err(|error| self.protocol(error.to_string()))?;
        self.handshakes.fetch_add(1, Ordering::Relaxed);
        let authorization = sensitive(&scheme.authorization(&authenticate))?;
        let answer = self
            .send_fresh(
                connection,
                headers,
                headers.request.body.clone(),
                Some(authorization),
            )
            .await?;
        if answer.status == StatusCode::UNAUTHORIZED {
            tracing::debug!(connection = connection.id, account = %credentials.username, "ntlm handshake failed");
            let detail = if self.endpoint.is_tls() && !self.settings.channel_binding {
                "the server answered 401 to the ntlm authenticate message (wrong password, locked account, \
                 or the server requires channel binding, which is off)"
            } else {
                "the server answered 401 to the ntlm authenticate message (wrong password or locked account)"
            };
            return Err(self.rejected(credentials, detail));
        }
        tracing::debug!(connection = connection.id, account = %credentials.username, "ntlm handshake succeeded");
        Ok(Handshake::Authenticated(answer))
    }

    fn rejected(&self, credentials: &Credentials, detail: &str) -> Error {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
        Error::AuthRejected {
            username: credentials.username.clone(),
            detail: detail.to_owned(),
        }
    }

    fn protocol(&self, detail: String) -> Error {
        Error::Protocol {
            endpoint: self.endpoint.display.clone(),
            detail,
        }
    }

    fn remembered_scheme(&self) -> HttpScheme {
        match self.scheme.load(Ordering::Relaxed) {
            SCHEME_NEGOTIATE => HttpScheme::Negotiate,
            _ => HttpScheme::Ntlm,
        }
    }

    fn remember_scheme(&self, scheme: HttpScheme) {
        let value = match scheme {
            HttpScheme::Ntlm => SCHEME_NTLM,
            HttpScheme::Negotiate => SCHEME_NEGOTIATE,
        };
        self.scheme.store(value, Ordering::Relaxed);
    }
}

/// How an NTLM handshake ended when it did not fail.
enum Handshake {
    /// The authenticate leg was accepted; its response is the EWS answer.
    Authenticated(RawResponse),
    /// The server answered the negotiate leg with something other than a challenge (a 503 from
    /// a busy IIS, a 5xx from a proxy); the caller gets it as is.
    Unauthenticated(RawResponse),
}

/// An `Authorization` value marked sensitive, so hyper's and our `Debug` never show it.
fn sensitive(value: &str) -> Result<HeaderValue, Error> {
    let mut header = HeaderValue::from_str(value).map_err(|_| Error::Protocol {
        endpoint: String::new(),
        detail: "unencodable authorization".to_owned(),
    })?;
    header.set_sensitive(true);
    Ok(header)
}
