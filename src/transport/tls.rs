//! TLS for the transport: the rustls client configuration and the RFC 5929 channel binding.
//!
//! Invariants:
//! - this is the only file of the transport that reads certificates (trust anchors and the
//!   server's end-entity certificate);
//! - trust is the system roots plus every certificate of the operator's `ca_file`; only the lab
//!   flag `danger_accept_invalid_certs` replaces verification, and even then the server's
//!   certificate is still captured so the channel binding can be computed;
//! - the configuration is rebuilt from `ca_file` on SIGHUP (`Transport::reload_trust`) and
//!   swapped in only when it is usable; it is read once per new connection, so open connections
//!   keep their session and a bad file never drops trust;
//! - a certificate the verifier refuses is `Error::Certificate`, which is permanent (never
//!   retried), and its reason names what to fix (`tls.ca_file`, the url's key for a wrong name);
//! - `tls-server-end-point` hashes the server certificate DER with the hash of its signature
//!   algorithm, MD5 and SHA-1 (and algorithms without a hash) mapped to SHA-256.
//!
//! Entry points: [`client_config`], [`tls_server_end_point`], [`handshake_error`].

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use sha2::Digest;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::signature_algorithm::SignatureAlgorithm;

use crate::transport::error::Error;

/// The hash that RFC 5929 `tls-server-end-point` uses for one certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndPointHash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// Builds the rustls client configuration: system roots plus the PEM certificates of `ca_file`,
/// or (lab only) a verifier that accepts any certificate.
///
/// # Errors
/// [`Error::CaFile`] when `ca_file` cannot be read, holds no certificate or a certificate that is
/// not a usable trust anchor; [`Error::InvalidSettings`] when no trust anchor at all is available.
pub(crate) fn client_config(
    ca_file: Option<&Path>,
    accept_invalid_certs: bool,
) -> Result<ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = if accept_invalid_certs {
        accept_any_certificate(provider)?
    } else {
        let roots = trust_anchors(ca_file)?;
        if roots.is_empty() {
            return Err(Error::InvalidSettings {
                detail:
                    "no trust anchors: the system has no root certificates and no ca_file is set"
                        .to_owned(),
            });
        }
        with_protocol_versions(provider)?
            .with_root_certificates(roots)
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The trust anchors: the system roots plus every PEM certificate of `ca_file`. The one place
/// that reads certificates, for connections (`client_config`) and for `inspect`'s verdict alike.
///
/// # Errors
/// [`Error::CaFile`] when `ca_file` cannot be read, holds no certificate or a certificate that is
/// not a usable trust anchor.
pub(crate) fn trust_anchors(ca_file: Option<&Path>) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!("skipping unreadable system trust anchor: {error}");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, ignored, "loaded system trust anchors");
    if let Some(path) = ca_file {
        add_ca_file(&mut roots, path)?;
    }
    Ok(roots)
}

/// A configuration that completes a handshake whatever certificate the server shows (see
/// [`AcceptAnyCertificate`]): the lab option, and `inspect`, which judges the certificate itself.
///
/// # Errors
/// [`Error::InvalidSettings`] when the provider supports no safe protocol version.
pub(crate) fn accept_any_certificate(provider: Arc<CryptoProvider>) -> Result<ClientConfig, Error> {
    Ok(with_protocol_versions(provider.clone())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
        .with_no_client_auth())
}

fn with_protocol_versions(
    provider: Arc<CryptoProvider>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, Error> {
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::InvalidSettings {
            detail: format!("tls protocol versions: {error}"),
        })
}

/// The RFC 5929 `tls-server-end-point` value of a DER certificate: its hash under the hash of
/// its signature algorithm (MD5, SHA-1 and hash-less algorithms use SHA-256).
///
/// # Errors
/// [`Error::Tls`] when the certificate cannot be parsed (rustls accepted it, so this means a
/// certificate that x509-parser cannot read).
pub(crate) fn tls_server_end_point(certificate_der: &[u8]) -> Result<Vec<u8>, Error> {
    let hash = end_point_hash_for(certificate_der)?;
    Ok(match hash {
        EndPointHash::Sha224 => sha2::Sha224::digest(certificate_der).to_vec(),
        EndPointHash::Sha256 => sha2::Sha256::digest(certificate_der).to_vec(),
        EndPointHash::Sha384 => sha2::Sha384::digest(certificate_der).to_vec(),
        EndPointHash::Sha512 => sha2::Sha512::digest(certificate_der).to_vec(),
    })
}

/// Picks the `tls-server-end-point` hash for a DER certificate from its signature algorithm.
pub(crate) fn end_point_hash_for(certificate_der: &[u8]) -> Result<EndPointHash, Error> {
    let (_, certificate) =
        X509Certificate::from_der(certificate_der).map_err(|error| Error::Tls {
            endpoint: String::new(),
            reason: format!("cannot parse the server certificate for channel binding: {error}"),
        })?;
    let algorithm = &certificate.signature_algorithm;
    let oid = algorithm.algorithm.to_id_string();
    // RSASSA-PSS names its hash in the parameters; the default (absent) hash is SHA-1.
    if let Ok(SignatureAlgorithm::RSASSA_PSS(params)) = SignatureAlgorithm::try_from(algorithm) {
        return Ok(hash_from_digest_oid(
            &params.hash_algorithm_oid().to_id_string(),
        ));
    }
    Ok(match oid.as_str() {
        // sha224WithRSAEncryption, ecdsa-with-SHA224, dsa-with-sha224
        "1.2.840.113549.1.1.14" | "1.2.840.10045.4.3.1" | "2.16.840.1.101.3.4.3.1" => {
            EndPointHash::Sha224
        }
        // sha384WithRSAEncryption, ecdsa-with-SHA384
        "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => EndPointHash::Sha384,
        // sha512WithRSAEncryption, ecdsa-with-SHA512
        "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => EndPointHash::Sha512,
        // Everything else: sha256 variants, md5/sha1 variants (RFC 5929 §4.1 maps them to SHA-256),
        // and algorithms without a separate hash such as Ed25519.
        _ => EndPointHash::Sha256,
    })
}

/// The error for a failed TLS handshake with `host`: [`Error::Certificate`] (permanent, never
/// retried) when the verifier refused the server's certificate, [`Error::Tls`] for anything else.
pub(crate) fn handshake_error(
    endpoint: &str,
    host: &str,
    url_key: Option<&str>,
    error: &rustls::Error,
) -> Error {
    match error {
        rustls::Error::InvalidCertificate(certificate_error) => Error::Certificate {
            endpoint: endpoint.to_owned(),
            reason: describe_certificate_error(host, url_key, certificate_error),
        },
        other => Error::Tls {
            endpoint: endpoint.to_owned(),
            reason: format!("tls handshake failed: {other}"),
        },
    }
}

/// Explains a refused server certificate in words an operator can act on: what is wrong, once,
/// and the key or setting that fixes it (`url_key` is the key the host comes from).
pub(crate) fn describe_certificate_error(
    host: &str,
    url_key: Option<&str>,
    error: &CertificateError,
) -> String {
    let wrong_name = |names: &str| match url_key {
        Some(key) => format!(
            "it is for {names}, not for {host}, the host of {key}: write a name the certificate holds in {key}, or have the server present a certificate for {host}"
        ),
        None => format!(
            "it is for {names}, not for {host}: the server must present a certificate for {host}"
        ),
    };
    match error {
        CertificateError::UnknownIssuer => "it is not issued by a trusted CA (unknown issuer): add the CA certificate that issued it to the PEM file named by tls.ca_file".to_owned(),
        // Seen when a trusted root shares the issuer's name but not its key (a self-signed
        // "CN=localhost" server certificate on a machine that trusts another one).
        CertificateError::BadSignature => "its signature does not verify against the trusted CA of that name (another key under the same name): add the CA certificate that really issued it to the PEM file named by tls.ca_file".to_owned(),
        CertificateError::NotValidForNameContext { presented, .. } if presented.is_empty() => {
            wrong_name("no host name (it has no subjectAltName)")
        }
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names: Vec<&str> = presented.iter().map(|name| bare_name(name)).collect();
            wrong_name(&names.join(", "))
        }
        CertificateError::NotValidForName => wrong_name("other names"),
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "it expired on {}: renew Exchange's certificate (Get-ExchangeCertificate | fl Subject,NotAfter); no tls.ca_file makes an expired certificate valid",
            date(*not_after)
        ),
        CertificateError::Expired => "it has expired: renew Exchange's certificate (Get-ExchangeCertificate | fl Subject,NotAfter); no tls.ca_file makes an expired certificate valid".to_owned(),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "it is valid only from {}: check this host's clock (timedatectl), or wait for that date",
            date(*not_before)
        ),
        CertificateError::NotValidYet => "it is not valid yet: check this host's clock (timedatectl), or wait for the certificate's start date".to_owned(),
        CertificateError::Revoked => "it is revoked: have Exchange present a new certificate".to_owned(),
        other => format!(
            "{other}: check the certificate Exchange presents and the CA in tls.ca_file"
        ),
    }
}

/// A name as the verifier lists it (`DnsName("mail.contoso.example")`, `IpAddress(10.0.0.1)`),
/// without the wrapper.
fn bare_name(presented: &str) -> &str {
    match presented.split_once('(') {
        Some((_, rest)) => rest.strip_suffix(')').unwrap_or(rest).trim_matches('"'),
        None => presented,
    }
}

/// A certificate time as an RFC 3339 UTC timestamp.
fn date(time: UnixTime) -> String {
    i64::try_from(time.as_secs())
        .ok()
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| format!("{} (unix time)", time.as_secs()))
}

fn hash_from_digest_oid(oid: &str) -> EndPointHash {
    match oid {
        "2.16.840.1.101.3.4.2.4" => EndPointHash::Sha224,
        "2.16.840.1.101.3.4.2.2" => EndPointHash::Sha384,
        "2.16.840.1.101.3.4.2.3" => EndPointHash::Sha512,
        // SHA-256 itself, SHA-1 and MD5 (mapped up) and anything unknown.
        _ => EndPointHash::Sha256,
    }
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), Error> {
    let ca_error = |detail: String| Error::CaFile {
        path: path.to_owned(),
        detail,
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| ca_error(error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ca_error(error.to_string()))?;
    if certificates.is_empty() {
        return Err(ca_error("no PEM certificate found".to_owned()));
    }
    for certificate in certificates {
        roots
            .add(certificate)
            .map_err(|error| ca_error(error.to_string()))?;
    }
    Ok(())
}

/// Any certificate chain and name is accepted, but the handshake signatures are still checked
/// so the peer at least holds the key of the certificate it shows. Used by the lab option
/// `danger_accept_invalid_certs`, and by `transport::inspect`, which completes a handshake to
/// look at the certificate, judges it itself and sends no request on that connection.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, KeyPair, PublicKeyData, SigningKey};
    use sha2::Digest;

    use crate::transport::tls::{EndPointHash, end_point_hash_for, tls_server_end_point};

    /// A key that claims an RSA algorithm and signs with junk: enough to get a certificate whose
    /// signature algorithm field says what the test needs (ring cannot generate RSA keys).
    struct FakeRsaKey(&'static rcgen::SignatureAlgorithm);

    impl PublicKeyData for FakeRsaKey {
        fn der_bytes(&self) -> &[u8] {
            &[0x30, 0x03, 0x02, 0x01, 0x03]
        }
        fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
            self.0
        }
    }

    impl SigningKey for FakeRsaKey {
        fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
            Ok(vec![0x5a; 256])
        }
    }

    fn certificate_with(key: &impl SigningKey) -> Vec<u8> {
        let params = CertificateParams::new(vec!["exchange.contoso.example".to_owned()]).unwrap();
        params.self_signed(key).unwrap().der().to_vec()
    }

    fn generated(algorithm: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        certificate_with(&KeyPair::generate_for(algorithm).unwrap())
    }

    /// Replaces every occurrence of one OID's DER content with another of the same length.
    fn patch_oid(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let mut patched = der.to_vec();
        let mut replaced = 0;
        let mut index = 0;
        while index + from.len() <= patched.len() {
            if &patched[index..index + from.len()] == from {
                patched[index..index + from.len()].copy_from_slice(to);
                replaced += 1;
            }
            index += 1;
        }
        assert_eq!(
            replaced, 2,
            "the signature algorithm appears in tbsCertificate and the certificate"
        );
        patched
    }

    // DER content of 1.2.840.113549.1.1.{11,5,4}: sha256WithRSA, sha1WithRSA, md5WithRSA.
    const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    const SHA1_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    const MD5_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04];

    #[test]
    fn ecdsa_and_eddsa_certificates_use_their_signature_hash() {
        let p256 = generated(&rcgen::PKCS_ECDSA_P256_SHA256);
        let p384 = generated(&rcgen::PKCS_ECDSA_P384_SHA384);
        let ed25519 = generated(&rcgen::PKCS_ED25519);
        assert_eq!(end_point_hash_for(&p256).unwrap(), EndPointHash::Sha256);
        assert_eq!(end_point_hash_for(&p384).unwrap(), EndPointHash::Sha384);
        assert_eq!(end_point_hash_for(&ed25519).unwrap(), EndPointHash::Sha256);
        assert_eq!(
            tls_server_end_point(&p384).unwrap(),
            sha2::Sha384::digest(&p384).to_vec()
        );
        assert_eq!(
            tls_server_end_point(&p256).unwrap(),
            sha2::Sha256::digest(&p256).to_vec()
        );
    }

    #[test]
    fn rsa_pkcs1_certificates_use_their_signature_hash() {
        let sha384 = certificate_with(&FakeRsaKey(&rcgen::PKCS_RSA_SHA384));
        let sha512 = certificate_with(&FakeRsaKey(&rcgen::PKCS_RSA_SHA512));
        let sha256 = certificate_with(&FakeRsaKey(&rcgen::PKCS_RSA_SHA256));
        assert_eq!(end_point_hash_for(&sha384).unwrap(), EndPointHash::Sha384);
        assert_eq!(end_point_hash_for(&sha512).unwrap(), EndPointHash::Sha512);
        assert_eq!(end_point_hash_for(&sha256).unwrap(), EndPointHash::Sha256);
        assert_eq!(
            tls_server_end_point(&sha512).unwrap(),
            sha2::Sha512::digest(&sha512).to_vec()
        );
    }

    #[test]
    fn md5_and_sha1_signed_certificates_map_to_sha256() {
        let sha256 = certificate_with(&FakeRsaKey(&rcgen::PKCS_RSA_SHA256));
        let sha1 = patch_oid(&sha256, SHA256_WITH_RSA, SHA1_WITH_RSA);
        let md5 = patch_oid(&sha256, SHA256_WITH_RSA, MD5_WITH_RSA);
        assert_eq!(end_point_hash_for(&sha1).unwrap(), EndPointHash::Sha256);
        assert_eq!(end_point_hash_for(&md5).unwrap(), EndPointHash::Sha256);
        let binding = tls_server_end_point(&sha1).unwrap();
        assert_eq!(binding.len(), 32);
        assert_eq!(binding, sha2::Sha256::digest(&sha1).to_vec());
    }

    /// Splits a DER SEQUENCE into its raw child TLVs.
    fn der_children(sequence: &[u8]) -> Vec<Vec<u8>> {
        let (header, length) = der_header(sequence);
        let mut content = &sequence[header..header + length];
        let mut children = Vec::new();
        while !content.is_empty() {
            let (child_header, child_length) = der_header(content);
            children.push(content[..child_header + child_length].to_vec());
            content = &content[child_header + child_length..];
        }
        children
    }

    /// (header length, content length) of the TLV at the start of `bytes`.
    fn der_header(bytes: &[u8]) -> (usize, usize) {
        match bytes[1] {
            short if short < 0x80 => (2, short as usize),
            0x81 => (3, bytes[2] as usize),
            0x82 => (4, u16::from_be_bytes([bytes[2], bytes[3]]) as usize),
            other => panic!("unexpected DER length form {other:#x}"),
        }
    }

    fn der_sequence(children: &[Vec<u8>]) -> Vec<u8> {
        let content: Vec<u8> = children.concat();
        let mut out = vec![0x30];
        match content.len() {
            length if length < 0x80 => out.push(length as u8),
            length if length < 0x100 => out.extend_from_slice(&[0x81, length as u8]),
            length => out.extend_from_slice(&[0x82, (length >> 8) as u8, length as u8]),
        }
        out.extend_from_slice(&content);
        out
    }

    /// The certificate with its signature algorithm (in tbsCertificate and outside) replaced.
    fn with_signature_algorithm(der: &[u8], algorithm_identifier: &[u8]) -> Vec<u8> {
        let mut certificate = der_children(der);
        let mut tbs = der_children(&certificate[0]);
        // tbsCertificate: [0] version, serialNumber, signature, ...
        tbs[2] = algorithm_identifier.to_vec();
        certificate[0] = der_sequence(&tbs);
        certificate[1] = algorithm_identifier.to_vec();
        der_sequence(&certificate)
    }

    /// AlgorithmIdentifier for RSASSA-PSS with the given hash OID (DER content bytes); `None`
    /// gives empty parameters, meaning the RFC 4055 defaults (SHA-1).
    fn pss_algorithm(hash_oid: Option<&[u8]>) -> Vec<u8> {
        const PSS: &[u8] = &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
        ];
        const MGF1: &[u8] = &[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08,
        ];
        let params = match hash_oid {
            None => der_sequence(&[]),
            Some(oid) => {
                let mut oid_tlv = vec![0x06, oid.len() as u8];
                oid_tlv.extend_from_slice(oid);
                let hash_algorithm = der_sequence(&[oid_tlv, vec![0x05, 0x00]]);
                let mut explicit_hash = vec![0xa0, hash_algorithm.len() as u8];
                explicit_hash.extend_from_slice(&hash_algorithm);
                let mask = der_sequence(&[MGF1.to_vec(), hash_algorithm.clone()]);
                let mut explicit_mask = vec![0xa1, mask.len() as u8];
                explicit_mask.extend_from_slice(&mask);
                der_sequence(&[
                    explicit_hash,
                    explicit_mask,
                    vec![0xa2, 0x03, 0x02, 0x01, 0x30],
                ])
            }
        };
        der_sequence(&[PSS.to_vec(), params])
    }

    const SHA384_OID: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    const SHA512_OID: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];

    #[test]
    fn rsa_pss_certificates_use_the_hash_of_their_parameters() {
        let sha256 = certificate_with(&FakeRsaKey(&rcgen::PKCS_RSA_SHA256));
        // The rewriting helper itself keeps a parseable certificate.
        assert_eq!(
            end_point_hash_for(&with_signature_algorithm(
                &sha256,
                &der_children(&sha256)[1]
            ))
            .unwrap(),
            EndPointHash::Sha256
        );
        let pss_sha384 = with_signature_algorithm(&sha256, &pss_algorithm(Some(SHA384_OID)));
        let pss_sha512 = with_signature_algorithm(&sha256, &pss_algorithm(Some(SHA512_OID)));
        let pss_default = with_signature_algorithm(&sha256, &pss_algorithm(None));
        assert_eq!(
            end_point_hash_for(&pss_sha384).unwrap(),
            EndPointHash::Sha384
        );
        assert_eq!(
            end_point_hash_for(&pss_sha512).unwrap(),
            EndPointHash::Sha512
        );
        assert_eq!(
            end_point_hash_for(&pss_default).unwrap(),
            EndPointHash::Sha256,
            "default SHA-1 maps to SHA-256"
        );
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(tls_server_end_point(b"not a certificate").is_err());
    }

    #[test]
    fn a_reload_refuses_an_unusable_ca_file_naming_it() {
        use crate::transport::{AuthScheme, Error, Settings, Transport};

        let dir = tempfile::tempdir().unwrap();
        let ca_path = dir.path().join("site-ca.pem");
        let ca = rcgen::CertificateParams::new(Vec::<String>::new())
            .unwrap()
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap();
        std::fs::write(&ca_path, ca.pem()).unwrap();
        let mut settings = Settings::new(
            "https://exchange.contoso.example/EWS/Exchange.asmx"
                .parse()
                .unwrap(),
            AuthScheme::Ntlm,
        );
        settings.ca_file = Some(ca_path.clone());
        let transport = Transport::new(settings).unwrap();
        assert!(transport.reload_trust().unwrap(), "https reloads");

        std::fs::write(&ca_path, "-----BEGIN CERTIFICATE-----\ngarbage\n").unwrap();
        match transport.reload_trust() {
            Err(error @ Error::CaFile { .. }) => {
                assert!(
                    error.to_string().contains(&ca_path.display().to_string()),
                    "{error}"
                );
            }
            other => panic!("expected a ca_file error, got {other:?}"),
        }
        std::fs::write(&ca_path, "").unwrap();
        assert!(matches!(
            transport.reload_trust(),
            Err(Error::CaFile { .. })
        ));

        let plain = Transport::new(Settings::new(
            "http://127.0.0.1:9/EWS/Exchange.asmx".parse().unwrap(),
            AuthScheme::Ntlm,
        ))
        .unwrap();
        assert!(
            !plain.reload_trust().unwrap(),
            "nothing to reload over http"
        );
    }
}
