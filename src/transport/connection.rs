//! One HTTP/1.1 connection to the EWS endpoint, over TCP or rustls, driven by hyper's low-level
//! client (`hyper::client::conn::http1`), because NTLM authenticates a TCP connection and every
//! leg of a handshake must use the same one.
//!
//! Invariants:
//! - a `Connection` is one TCP connection; dropping it closes the socket (the driver task is
//!   aborted);
//! - for TLS connections the server's `tls-server-end-point` value is captured at connect time;
//! - the name is resolved by `resolve` before connecting, so a name that does not resolve is
//!   told apart (permanent) from a resolver that did not answer (may pass);
//! - `Authorization` values are marked sensitive and never logged.
//!
//! Entry types: [`Endpoint`] (where and how to connect), [`Connection`], [`RawResponse`].

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, LOCATION, RETRY_AFTER, USER_AGENT,
    WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

use crate::transport::error::Error;
use crate::transport::{Request, Response, resolve, retry_after, tls};

/// Where the endpoint is and how to reach it; built once by `Transport::new`.
pub(crate) struct Endpoint {
    /// `host:port` (or the URL) for messages and errors.
    pub(crate) display: String,
    /// Host name or IP literal to connect to (without IPv6 brackets).
    connect_host: String,
    port: u16,
    /// The `Host` header: host, plus the port when it is not the scheme's default.
    host_header: HeaderValue,
    /// Path and query of the EWS URL, the request target.
    path_and_query: String,
    /// The SPN the NTLM target name names: `HTTP/<host>`.
    pub(crate) service_principal: String,
    /// The configuration key of the url, for errors only changing it can fix.
    url_key: Option<&'static str>,
    /// `Some` for https: the client configuration and the name rustls checks the certificate
    /// against.
    tls: Option<TlsTarget>,
    connect_timeout: Duration,
}

/// The TLS side of an endpoint. The configuration is read once per new connection, so
/// replacing it (SIGHUP: a new `ca_file`) affects only connections opened afterwards; open ones
/// keep the session they negotiated.
struct TlsTarget {
    /// A std `RwLock`: it is held only to clone the `Arc`, never across an `.await`.
    config: RwLock<Arc<rustls::ClientConfig>>,
    server_name: ServerName<'static>,
}

/// One open HTTP/1.1 connection.
pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
    /// Sequence number for log lines.
    pub(crate) id: u64,
    /// RFC 5929 `tls-server-end-point` of the server certificate; `None` on plain http.
    pub(crate) end_point_hash: Option<Vec<u8>>,
}

/// A complete response: status, headers, the whole body.
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Why a send failed: `NotSent` means the connection was already closed and the request never
/// left, so it may go out again on a fresh connection.
pub(crate) enum SendError {
    NotSent,
    Failed(Error),
}

/// The headers every POST carries besides authentication.
pub(crate) struct PostHeaders<'a> {
    pub(crate) user_agent: &'a HeaderValue,
    pub(crate) request: &'a Request,
}

impl Endpoint {
    /// # Errors
    /// [`Error::InvalidSettings`] when the URL is not http(s) with a host.
    pub(crate) fn new(
        url: &url::Url,
        url_key: Option<&'static str>,
        tls_config: Option<Arc<rustls::ClientConfig>>,
        connect_timeout: Duration,
    ) -> Result<Endpoint, Error> {
        let invalid = |detail: String| Error::InvalidSettings { detail };
        let host = url
            .host_str()
            .ok_or_else(|| invalid(format!("the url {url} has no host")))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| invalid(format!("the url {url} has no port")))?;
        let connect_host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let host_header = HeaderValue::from_str(&host_header)
            .map_err(|_| invalid(format!("bad host in {url}")))?;
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let tls = match (url.scheme(), tls_config) {
            ("https", Some(config)) => {
                let server_name = ServerName::try_from(connect_host.clone())
                    .map_err(|_| invalid(format!("{host} is not a valid tls server name")))?;
                Some(TlsTarget {
                    config: RwLock::new(config),
                    server_name,
                })
            }
            ("https", None) => return Err(invalid("https needs a tls configuration".to_owned())),
            ("http", _) => None,
            (other, _) => {
                return Err(invalid(format!(
                    "unsupported url scheme {other}: use http or https"
                )));
            }
        };
        Ok(Endpoint {
            display: format!("{}:{port}", host),
            service_principal: format!("HTTP/{connect_host}"),
            url_key,
            connect_host,
            port,
            host_header,
            path_and_query,
            tls,
            connect_timeout,
        })
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Installs a new TLS client configuration for the connections opened from now on; returns
    /// false (and changes nothing) for a plain http endpoint.
    pub(crate) fn replace_tls_config(&self, config: Arc<rustls::ClientConfig>) -> bool {
        match &self.tls {
            Some(target) => {
                *target
                    .config
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
                true
            }
            None => false,
        }
    }

    /// Opens a TCP (and TLS) connection and starts its HTTP/1.1 driver, within the connect timeout.
    ///
    /// # Errors
    /// [`Error::NameNotResolved`] or [`Error::Certificate`] (both permanent), [`Error::Connect`],
    /// [`Error::Tls`] or [`Error::Timeout`] with phase "connect".
    pub(crate) async fn connect(&self, id: u64) -> Result<Connection, Error> {
        match tokio::time::timeout(self.connect_timeout, self.connect_inner(id)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                endpoint: self.display.clone(),
                phase: "connect",
                after: self.connect_timeout,
            }),
        }
    }

    async fn connect_inner(&self, id: u64) -> Result<Connection, Error> {
        let addresses = resolve::resolve(&self.connect_host, self.port, self.url_key).await?;
        let tcp = resolve::connect_any(&addresses)
            .await
            .map_err(|error| Error::Connect {
                endpoint: self.display.clone(),
                detail: "tcp connect".to_owned(),
                request_sent: false,
                source: Some(error),
            })?;
        // Nagle would delay the small NTLM legs behind delayed ACKs.
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => self.start_http(TokioIo::new(tcp), id, None).await,
            Some(target) => {
                let config = target
                    .config
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone();
                let stream = TlsConnector::from(config)
                    .connect(target.server_name.clone(), tcp)
                    .await
                    .map_err(|error| self.tls_error(error))?;
                let certificate = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .ok_or_else(|| Error::Tls {
                        endpoint: self.display.clone(),
                        reason: "the server sent no certificate".to_owned(),
                    })?;
                let end_point_hash = tls::tls_server_end_point(certificate.as_ref()).map_err(
                    |error| match error {
                        Error::Tls { reason, .. } => Error::Tls {
                            endpoint: self.display.clone(),
                            reason,
                        },
                        other => other,
                    },
                )?;
                self.start_http(TokioIo::new(stream), id, Some(end_point_hash))
                    .await
            }
        }
    }

    async fn start_http<S>(
        &self,
        io: TokioIo<S>,
        id: u64,
        end_point_hash: Option<Vec<u8>>,
    ) -> Result<Connection, Error>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (sender, driver) =
            hyper::client::conn::http1::handshake(io)
                .await
                .map_err(|error| Error::Protocol {
                    endpoint: self.display.clone(),
                    detail: format!("http handshake: {error}"),
                })?;
        let connection_id = id;
        let driver = tokio::spawn(async move {
            if let Err(error) = driver.await {
                tracing::debug!(connection = connection_id, "connection ended: {error}");
            }
        });
        Ok(Connection {
            sender,
            driver,
            id,
            end_point_hash,
        })
    }

    fn tls_error(&self, error: std::io::Error) -> Error {
        let rustls_error = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        match rustls_error {
            Some(rustls_error) => tls::handshake_error(
                &self.display,
                &self.connect_host,
                self.url_key,
                rustls_error,
            ),
            None => Error::Connect {
                endpoint: self.display.clone(),
                detail: "connection lost during the tls handshake".to_owned(),
                request_sent: false,
                source: Some(error),
            },
        }
    }

    fn build_request(
        &self,
        headers: &PostHeaders<'_>,
        body: Bytes,
        authorization: Option<HeaderValue>,
    ) -> Result<http::Request<Full<Bytes>>, Error> {
        let invalid = |name: &str| Error::Protocol {
            endpoint: self.display.clone(),
            detail: format!("the {name} value cannot be sent in an http header"),
        };
        let mut builder = http::Request::builder()
            .method(Method::POST)
            .uri(self.path_and_query.as_str())
            .header(HOST, self.host_header.clone())
            .header(USER_AGENT, headers.user_agent.clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            )
            .header(CONTENT_LENGTH, HeaderValue::from(body.len()));
        if let Some(anchor) = &headers.request.anchor_mailbox {
            builder = builder.header(
                "X-AnchorMailbox",
                HeaderValue::from_str(anchor).map_err(|_| invalid("X-AnchorMailbox"))?,
            );
        }
        if let Some(id) = &headers.request.client_request_id {
            builder = builder
                .header(
                    "client-request-id",
                    HeaderValue::from_str(id).map_err(|_| invalid("client-request-id"))?,
                )
                .header("return-client-request-id", HeaderValue::from_static("true"));
        }
        if let Some(value) = authorization {
            builder = builder.header(http::header::AUTHORIZATION, value);
        }
        builder
            .body(Full::new(body))
            .map_err(|error| Error::Protocol {
                endpoint: self.display.clone(),
                detail: format!("cannot build the request: {error}"),
            })
    }
}

impl Connection {
    /// Whether hyper still considers the connection usable.
    pub(crate) fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }

    /// Sends one POST and reads the whole response.
    pub(crate) async fn send(
        &mut self,
        endpoint: &Endpoint,
        headers: &PostHeaders<'_>,
        body: Bytes,
        authorization: Option<HeaderValue>,
    ) -> Result<RawResponse, SendError> {
        let request = endpoint
            .build_request(headers, body, authorization)
            .map_err(SendError::Failed)?;
        self.exchange(endpoint, request).await
    }
}

impl Connection {
    /// Sends one `GET` of the endpoint's path without credentials and reads the whole response.
    pub(crate) async fn get(
        &mut self,
        endpoint: &Endpoint,
        user_agent: &HeaderValue,
    ) -> Result<RawResponse, SendError> {
        let request = http::Request::builder()
            .method(Method::GET)
            .uri(endpoint.path_and_query.as_str())
            .header(HOST, endpoint.host_header.clone())
            .header(USER_AGENT, user_agent.clone())
            .body(Full::new(Bytes::new()))
            .map_err(|error| {
                SendError::Failed(Error::Protocol {
                    endpoint: endpoint.display.clone(),
                    detail: format!("cannot build the request: {error}"),
                })
            })?;
        self.exchange(endpoint, request).await
    }

    /// Sends a built request and reads the whole response; `NotSent` when the connection was
    /// closed before the request left.
    async fn exchange(
        &mut self,
        endpoint: &Endpoint,
        request: http::Request<Full<Bytes>>,
    ) -> Result<RawResponse, SendError> {
        if self.sender.ready().await.is_err() {
            return Err(SendError::NotSent);
        }
        let response = match self.sender.send_request(request).await {
            Ok(response) => response,
            Err(error) if error.is_canceled() => return Err(SendError::NotSent),
            Err(error) => return Err(SendError::Failed(hyper_error(endpoint, &error))),
        };
        let (parts, incoming) = response.into_parts();
        let body = incoming
            .collect()
            .await
            .map_err(|error| SendError::Failed(hyper_error(endpoint, &error)))?
            .to_bytes();
        Ok(RawResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl RawResponse {
    /// False when the server announced `Connection: close`.
    pub(crate) fn keep_alive(&self) -> bool {
        !self.headers.get_all(CONNECTION).iter().any(|value| {
            value.to_str().is_ok_and(|text| {
                text.split(',')
                    .any(|token| token.trim().eq_ignore_ascii_case("close"))
            })
        })
    }

    /// The `WWW-Authenticate` values that are valid text.
    pub(crate) fn www_authenticate(&self) -> Vec<&str> {
        self.headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect()
    }

    pub(crate) fn into_response(self) -> Response {
        let content_type = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let retry_after = self
            .headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| retry_after::parse(text, std::time::SystemTime::now()));
        let location = self
            .headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Response {
            status: self.status.as_u16(),
            content_type,
            body: self.body,
            retry_after,
            location,
        }
    }
}

fn hyper_error(endpoint: &Endpoint, error: &hyper::Error) -> Error {
    use std::error::Error as _;
    let io_source = error
        .source()
        .and_then(|source| source.downcast_ref::<std::io::Error>());
    if error.is_incomplete_message() || io_source.is_some() || error.is_closed() {
        Error::Connect {
            endpoint: endpoint.display.clone(),
            detail: format!("connection closed or reset mid-exchange: {error}"),
            request_sent: true,
            source: io_source.map(|io| std::io::Error::new(io.kind(), io.to_string())),
        }
    } else {
        Error::Protocol {
            endpoint: endpoint.display.clone(),
            detail: format!("http: {error}"),
        }
    }
}
