//! Diagnostics of the path to the EWS endpoint, one layer at a time, for `ews-connector doctor`:
//! name resolution, a TCP connect, a TLS handshake whose certificate is then judged on trust,
//! name, validity and channel-binding hash separately, and the authentication schemes the server
//! offers to an unauthenticated request.
//!
//! Invariants:
//! - nothing here sends credentials: the only HTTP request is an unauthenticated POST with an
//!   empty body (IIS answers it with 401 and its `WWW-Authenticate` list);
//! - the TLS inspection accepts any certificate *for the handshake only*, so it can report every
//!   problem of the certificate at once; the verdicts come from the same verification rustls
//!   applies (webpki, system roots plus `ca_file`), and no request is ever sent on that
//!   connection;
//! - the offered-schemes probe verifies TLS exactly as the connector does (it goes through
//!   `tls::client_config` and `Endpoint`).
//!
//! Entry points: [`resolve`], [`tcp_probe`], [`inspect_tls`], [`offered_schemes`].
//! Entry types: [`TcpOutcome`], [`TlsInspection`], [`CertificateSummary`], [`TrustFailure`],
//! [`SchemesProbe`].

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::CertificateError;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::transport::connection::PostHeaders;
use crate::transport::error::Error;
use crate::transport::resolve;
use crate::transport::tls::{self, EndPointHash};
use crate::transport::{Request, Settings};

/// Resolves the host of `url` to socket addresses (an IP literal resolves to itself), waiting
/// at most `timeout` for the resolver.
///
/// # Errors
/// [`Error::NameNotResolved`] when the resolver says there is no such name (the transport's
/// own rule, `resolve`), [`Error::Connect`] with the resolver's error when it failed otherwise,
/// [`Error::Timeout`] (phase "connect") when the resolver does not answer in time, or
/// [`Error::InvalidSettings`] when the URL has no host or port.
pub async fn resolve(url: &url::Url, timeout: Duration) -> Result<Vec<SocketAddr>, Error> {
    let (host, port) = host_and_port(url)?;
    tokio::time::timeout(timeout, resolve::resolve(&host, port, None))
        .await
        .map_err(|_| Error::Timeout {
            endpoint: format!("{host}:{port}"),
            phase: "connect",
            after: timeout,
        })?
}

/// How a TCP connect to the endpoint went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOutcome {
    /// A connection was made (and closed again at once).
    Connected(SocketAddr),
    /// Every address refused: nothing listens on that port.
    Refused(SocketAddr),
    /// No answer within the connect timeout (typically a firewall that drops packets).
    TimedOut {
        address: SocketAddr,
        after: Duration,
    },
    /// Another socket error (unreachable network, ...).
    Failed { address: SocketAddr, detail: String },
}

/// Tries each address in turn until one accepts a TCP connection, each within `timeout`.
/// Returns the first success, or the last address's failure.
///
/// # Panics
/// When `addresses` is empty.
pub async fn tcp_probe(addresses: &[SocketAddr], timeout: Duration) -> TcpOutcome {
    assert!(!addresses.is_empty(), "tcp_probe needs an address");
    let mut last = None;
    for address in addresses {
        let outcome = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(_stream)) => return TcpOutcome::Connected(*address),
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                TcpOutcome::Refused(*address)
            }
            Ok(Err(error)) => TcpOutcome::Failed {
                address: *address,
                detail: error.to_string(),
            },
            Err(_) => TcpOutcome::TimedOut {
                address: *address,
                after: timeout,
            },
        };
        last = Some(outcome);
    }
    last.expect("at least one address was tried")
}

/// One certificate of the server's chain, in words.
#[derive(Clone, Debug)]
pub struct CertificateSummary {
    /// The subject's distinguished name, for example `CN=mail.contoso.example`.
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses of the subjectAltName extension.
    pub names: Vec<String>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
    /// The signature algorithm's name (`sha256WithRSAEncryption`, `ecdsa-with-SHA384`) or OID.
    pub signature_algorithm: String,
}

/// Why the chain is not trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustFailure {
    /// No trust anchor (system roots plus `ca_file`) issued the chain: rustls's `UnknownIssuer`.
    UnknownIssuer,
    /// A trusted root of the issuer's name exists but its key did not sign the chain.
    BadSignature,
    /// Something else webpki refused, in its words.
    Other(String),
}

/// What one TLS handshake showed about the server.
#[derive(Clone, Debug)]
pub struct TlsInspection {
    /// `TLSv1_3` or `TLSv1_2`.
    pub protocol: String,
    /// The negotiated cipher suite.
    pub cipher_suite: String,
    /// The chain as sent, end-entity certificate first.
    pub chain: Vec<CertificateSummary>,
    /// Whether the chain leads to a trust anchor, judged at a time inside the end-entity
    /// certificate's validity and for a name it holds, so an expiry or a name mismatch is not
    /// reported as distrust.
    pub trust: Result<(), TrustFailure>,
    /// Whether the certificate is valid for the URL's host; the error says why not.
    pub name: Result<(), String>,
    /// The hash RFC 5929 `tls-server-end-point` uses for this certificate (`SHA-256`, ...).
    pub binding_hash: &'static str,
    /// True when the certificate is signed with MD5 or SHA-1, which the binding maps to SHA-256.
    pub binding_hash_mapped: bool,
}

/// Connects to the endpoint of `url`, completes a TLS handshake whatever certificate the server
/// shows, and judges that certificate as the connector would: trust (system roots plus
/// `ca_file`), the host name, and the channel-binding hash. Expiry is left to the caller, who
/// has the dates in [`TlsInspection::chain`]. Nothing is sent after the handshake.
///
/// # Errors
/// [`Error::CaFile`] when `ca_file` is unusable; [`Error::Connect`] or [`Error::Timeout`] when
/// the endpoint cannot be reached; [`Error::Tls`] when the handshake itself fails (a server that
/// does not speak TLS on that port, no common protocol version or cipher).
pub async fn inspect_tls(
    url: &url::Url,
    ca_file: Option<&Path>,
    timeout: Duration,
) -> Result<TlsInspection, Error> {
    let (host, port) = host_and_port(url)?;
    let endpoint = format!("{host}:{port}");
    let roots = tls::trust_anchors(ca_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = tls::accept_any_certificate(provider.clone())?;
    let server_name = ServerName::try_from(host.clone()).map_err(|_| Error::InvalidSettings {
        detail: format!("{host} is not a valid tls server name"),
    })?;
    let handshake = async {
        let addresses = resolve::resolve(&host, port, None).await?;
        let tcp = resolve::connect_any(&addresses)
            .await
            .map_err(|error| Error::Connect {
                endpoint: endpoint.clone(),
                detail: "tcp connect".to_owned(),
                request_sent: false,
                source: Some(error),
            })?;
        TlsConnector::from(Arc::new(config))
            .connect(server_name.clone(), tcp)
            .await
            .map_err(|error| {
                match error
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                {
                    Some(rustls_error) => {
                        tls::handshake_error(&endpoint, &host, None, rustls_error)
                    }
                    None => Error::Tls {
                        endpoint: endpoint.clone(),
                        reason: format!("connection lost during the tls handshake: {error}"),
                    },
                }
            })
    };
    let stream = match tokio::time::timeout(timeout, handshake).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(Error::Timeout {
                endpoint,
                phase: "connect",
                after: timeout,
            });
        }
    };
    let connection = stream.get_ref().1;
    let protocol = connection
        .protocol_version()
        .map(|version| format!("{version:?}"))
        .unwrap_or_else(|| "unknown".to_owned());
    let cipher_suite = connection
        .negotiated_cipher_suite()
        .map(|suite| format!("{:?}", suite.suite()))
        .unwrap_or_else(|| "unknown".to_owned());
    let chain: Vec<CertificateDer<'static>> = connection
        .peer_certificates()
        .map(|certificates| {
            certificates
                .iter()
                .map(|c| c.clone().into_owned())
                .collect()
        })
        .unwrap_or_default();
    drop(stream);
    let Some(end_entity) = chain.first() else {
        return Err(Error::Tls {
            endpoint,
            reason: "the server sent no certificate".to_owned(),
        });
    };
    let summaries = chain
        .iter()
        .map(|der| summarize(der.as_ref()))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|reason| Error::Tls {
            endpoint: endpoint.clone(),
            reason,
        })?;
    let parsed = ParsedCertificate::try_from(end_entity).map_err(|error| Error::Tls {
        endpoint: endpoint.clone(),
        reason: format!("cannot parse the server certificate: {error}"),
    })?;
    let leaf = &summaries[0];
    // Judge trust inside the certificate's validity and for a name it holds, so that trust,
    // name and expiry each get their own verdict.
    let inside_validity = UnixTime::since_unix_epoch(Duration::from_secs(
        (leaf.not_before / 2 + leaf.not_after / 2).max(0) as u64,
    ));
    let trust = rustls::client::verify_server_cert_signed_by_trust_anchor(
        &parsed,
        &roots,
        &chain[1..],
        inside_validity,
        provider.signature_verification_algorithms.all,
    )
    .map_err(|error| match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            TrustFailure::UnknownIssuer
        }
        rustls::Error::InvalidCertificate(CertificateError::BadSignature) => {
            TrustFailure::BadSignature
        }
        other => TrustFailure::Other(other.to_string()),
    });
    let name = rustls::client::verify_server_name(&parsed, &server_name).map_err(|_| {
        if leaf.names.is_empty() {
            format!(
                "the certificate ({}) holds no subjectAltName, so no name matches {host}",
                leaf.subject
            )
        } else {
            format!(
                "the certificate is for {}, not {host}",
                leaf.names.join(", ")
            )
        }
    });
    let hash = tls::end_point_hash_for(end_entity.as_ref()).map_err(|error| match error {
        Error::Tls { reason, .. } => Error::Tls {
            endpoint: endpoint.clone(),
            reason,
        },
        other => other,
    })?;
    Ok(TlsInspection {
        protocol,
        cipher_suite,
        binding_hash_mapped: is_md5_or_sha1(&leaf.signature_algorithm),
        chain: summaries,
        trust,
        name,
        binding_hash: match hash {
            EndPointHash::Sha224 => "SHA-224",
            EndPointHash::Sha256 => "SHA-256",
            EndPointHash::Sha384 => "SHA-384",
            EndPointHash::Sha512 => "SHA-512",
        },
    })
}

/// What the server answered to a request without credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemesProbe {
    /// The HTTP status (401 from an IIS that requires authentication).
    pub status: u16,
    /// The scheme names of the `WWW-Authenticate` headers (`Negotiate`, `NTLM`, `Basic`), in
    /// order; tokens and realms are left out.
    pub schemes: Vec<String>,
}

/// Sends one unauthenticated POST with an empty body to the endpoint, over a connection made
/// exactly as the connector makes its own (same trust, same lab flags), and reports the status
/// and the offered authentication schemes.
///
/// # Errors
/// [`Error::CaFile`], [`Error::Connect`], [`Error::Tls`], [`Error::Timeout`],
/// [`Error::Protocol`] as for [`crate::transport::Transport::post`].
pub async fn offered_schemes(settings: &Settings) -> Result<SchemesProbe, Error> {
    let endpoint = settings.endpoint()?;
    let user_agent = settings.user_agent_header()?;
    let request = Request::default();
    let headers = PostHeaders {
        user_agent: &user_agent,
        request: &request,
    };
    let exchange = async {
        let mut connection = endpoint.connect(0).await?;
        connection
            .send(&endpoint, &headers, Bytes::new(), None)
            .await
            .map_err(|error| match error {
                crate::transport::connection::SendError::Failed(error) => error,
                crate::transport::connection::SendError::NotSent => Error::Connect {
                    endpoint: endpoint.display.clone(),
                    detail: "the server closed a new connection before the request was sent"
                        .to_owned(),
                    request_sent: false,
                    source: None,
                },
            })
    };
    let response = match tokio::time::timeout(settings.request_timeout, exchange).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(Error::Timeout {
                endpoint: endpoint.display.clone(),
                phase: "request",
                after: settings.request_timeout,
            });
        }
    };
    Ok(SchemesProbe {
        status: response.status.as_u16(),
        schemes: response
            .www_authenticate()
            .iter()
            .filter_map(|value| value.split_whitespace().next())
            .map(str::to_owned)
            .collect(),
    })
}

fn host_and_port(url: &url::Url) -> Result<(String, u16), Error> {
    let host = url
        .host_str()
        .ok_or_else(|| Error::InvalidSettings {
            detail: format!("the url {url} has no host"),
        })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Error::InvalidSettings {
            detail: format!("the url {url} has no port"),
        })?;
    Ok((host, port))
}

fn summarize(der: &[u8]) -> Result<CertificateSummary, String> {
    let (_, certificate) = X509Certificate::from_der(der)
        .map_err(|error| format!("cannot parse a certificate of the server's chain: {error}"))?;
    let mut names = Vec::new();
    if let Ok(Some(extension)) = certificate.subject_alternative_name() {
        for name in &extension.value.general_names {
            match name {
                GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => match bytes.len() {
                    4 => names
                        .push(IpAddr::from(<[u8; 4]>::try_from(*bytes).expect("4")).to_string()),
                    16 => names
                        .push(IpAddr::from(<[u8; 16]>::try_from(*bytes).expect("16")).to_string()),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let oid = certificate.signature_algorithm.algorithm.to_id_string();
    Ok(CertificateSummary {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        names,
        not_before: certificate.validity().not_before.timestamp(),
        not_after: certificate.validity().not_after.timestamp(),
        signature_algorithm: signature_algorithm_name(&oid),
    })
}

/// Common signature algorithm OIDs by name; anything else is shown as its OID.
fn signature_algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn is_md5_or_sha1(signature_algorithm: &str) -> bool {
    matches!(
        signature_algorithm,
        "md5WithRSAEncryption" | "sha1WithRSAEncryption" | "ecdsa-with-SHA1"
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio::io::AsyncWriteExt;

    use crate::transport::inspect::{
        SchemesProbe, TcpOutcome, TrustFailure, inspect_tls, offered_schemes, resolve, tcp_probe,
    };
    use crate::transport::{AuthScheme, Settings};

    /// A fresh CA (PEM) and a server configuration with a certificate it signed for `names`;
    /// the CA's key algorithm is the certificate's signature algorithm.
    fn server_with(
        names: &[&str],
        ca_algorithm: &'static rcgen::SignatureAlgorithm,
    ) -> (String, rustls::ServerConfig) {
        let ca_key = KeyPair::generate_for(ca_algorithm).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Inspect Test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        let certificate = params.signed_by(&key, &issuer).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
        (ca.pem(), config)
    }

    /// Serves TLS handshakes on 127.0.0.1:0 until the returned task is aborted.
    async fn serve(config: rustls::ServerConfig) -> (url::Url, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                if let Ok(mut stream) = acceptor.accept(tcp).await {
                    let _ = stream.shutdown().await;
                }
            }
        });
        let url = format!("https://127.0.0.1:{port}/EWS/Exchange.asmx")
            .parse()
            .unwrap();
        (url, task)
    }

    #[tokio::test]
    async fn a_certificate_is_judged_on_trust_and_name_separately() {
        let (ca_pem, config) = server_with(&["127.0.0.1"], &rcgen::PKCS_ECDSA_P256_SHA256);
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_pem).unwrap();
        let (url, task) = serve(config).await;

        let trusted = inspect_tls(&url, Some(&ca_file), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(trusted.trust, Ok(()));
        assert_eq!(trusted.name, Ok(()));
        assert_eq!(trusted.chain.len(), 1);
        assert_eq!(trusted.chain[0].names, vec!["127.0.0.1".to_owned()]);
        assert_eq!(trusted.chain[0].issuer, "CN=Inspect Test CA");
        assert_eq!(trusted.chain[0].signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(trusted.binding_hash, "SHA-256");
        assert!(!trusted.binding_hash_mapped);

        // The same server without the CA: untrusted, but the name still matches.
        let untrusted = inspect_tls(&url, None, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(untrusted.trust, Err(TrustFailure::UnknownIssuer));
        assert_eq!(untrusted.name, Ok(()));

        // Reached by another name: trusted, but not for that name.
        let by_name: url::Url = url
            .as_str()
            .replace("127.0.0.1", "localhost")
            .parse()
            .unwrap();
        let other_name = inspect_tls(&by_name, Some(&ca_file), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(other_name.trust, Ok(()));
        let why = other_name.name.unwrap_err();
        assert!(
            why.contains("the certificate is for 127.0.0.1, not localhost"),
            "{why}"
        );
        task.abort();
    }

    #[tokio::test]
    async fn the_binding_hash_follows_the_certificates_signature() {
        let (_, config) = server_with(&["127.0.0.1"], &rcgen::PKCS_ECDSA_P384_SHA384);
        let (url, task) = serve(config).await;
        let inspection = inspect_tls(&url, None, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(inspection.chain[0].signature_algorithm, "ecdsa-with-SHA384");
        assert_eq!(inspection.binding_hash, "SHA-384");
        task.abort();
    }

    #[tokio::test]
    async fn an_unusable_ca_file_is_named() {
        let (_, config) = server_with(&["127.0.0.1"], &rcgen::PKCS_ECDSA_P256_SHA256);
        let (url, task) = serve(config).await;
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        match inspect_tls(&url, Some(&empty), Duration::from_secs(5)).await {
            Err(crate::transport::Error::CaFile { path, detail }) => {
                assert_eq!(path, empty);
                assert!(detail.contains("no PEM certificate"), "{detail}");
            }
            other => panic!("expected a ca_file error, got {other:?}"),
        }
        task.abort();
    }

    #[tokio::test]
    async fn plain_http_on_the_port_is_a_handshake_failure() {
        let state = crate::sim::SimState::from_toml_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sim/sample.toml"
        )))
        .unwrap();
        let sim = crate::sim::start(state).await.unwrap();
        let https: url::Url = sim.url.replace("http://", "https://").parse().unwrap();
        match inspect_tls(&https, None, Duration::from_secs(5)).await {
            Err(crate::transport::Error::Tls { reason, .. }) => {
                assert!(reason.contains("tls handshake failed"), "{reason}")
            }
            other => panic!("expected a tls error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_offered_schemes_are_read_without_credentials() {
        let state = crate::sim::SimState::from_toml_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/sim/sample.toml"
        )))
        .unwrap();
        let sim = crate::sim::start(state).await.unwrap();
        let settings = Settings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
        let probe = offered_schemes(&settings).await.unwrap();
        assert_eq!(probe.status, 401);
        assert!(
            probe.schemes.iter().any(|scheme| scheme == "NTLM"),
            "{probe:?}"
        );
        assert!(
            probe.schemes.iter().all(|scheme| !scheme.contains(' ')),
            "scheme names only, no tokens or realms: {probe:?}"
        );
        let stats = sim.stats();
        assert_eq!(stats.ntlm_challenges, 0, "no handshake was started");
        assert_eq!(stats.ntlm_accepted + stats.basic_accepted, 0);
        let _: SchemesProbe = probe;
    }

    #[tokio::test]
    async fn names_and_ports_are_probed() {
        let literal: url::Url = "https://127.0.0.1:8443/EWS/Exchange.asmx".parse().unwrap();
        assert_eq!(
            resolve(&literal, Duration::from_secs(5)).await.unwrap(),
            vec!["127.0.0.1:8443".parse().unwrap()]
        );
        let invalid: url::Url = "https://ex01.inspect-test.invalid/EWS/Exchange.asmx"
            .parse()
            .unwrap();
        let error = resolve(&invalid, Duration::from_secs(30))
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("ex01.inspect-test.invalid does not resolve"),
            "{error}"
        );
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        assert_eq!(
            tcp_probe(&[closed], Duration::from_secs(5)).await,
            TcpOutcome::Refused(closed)
        );
        let open = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = open.local_addr().unwrap();
        assert_eq!(
            tcp_probe(&[closed, address], Duration::from_secs(5)).await,
            TcpOutcome::Connected(address),
            "the next address is tried after a refusal"
        );
    }
}
