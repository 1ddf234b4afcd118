//! The transport's error type.
//!
//! Invariant: no variant carries a password, an `Authorization` header value or an NTLM token;
//! usernames and endpoints are fine (operators need them to act).
//!
//! Entry type: [`Error`].

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong moving one request to the EWS endpoint and its response back.
///
/// HTTP statuses other than 401 are not errors here: they come back as a `Response`.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused the credentials of `username` (HTTP 401 after the NTLM authenticate
    /// message or with Basic credentials). Never retried: repeated failures lock AD accounts.
    #[error("exchange rejected the credentials of {username}: {detail}")]
    AuthRejected { username: String, detail: String },

    /// The TCP connection could not be made, or the server closed or reset it mid-exchange.
    #[error("connection to {endpoint} failed: {detail}")]
    Connect {
        endpoint: String,
        detail: String,
        /// False when the request certainly never left (connect refused, a new connection
        /// closed before the request was written); true when it may have reached the server,
        /// so a write's outcome is unknown.
        request_sent: bool,
        #[source]
        source: Option<std::io::Error>,
    },

    /// The TLS handshake failed for a reason other than the certificate (the server ended it,
    /// spoke no TLS, offered nothing we accept).
    #[error("tls with {endpoint} failed: {reason}")]
    Tls { endpoint: String, reason: String },

    /// The server's certificate failed verification: not issued by a trusted CA, for another
    /// name, expired or not yet valid, revoked. Permanent: the same certificate fails the same
    /// way on every attempt, so it is never retried. `reason` says what is wrong and which key
    /// or setting fixes it (`tls.ca_file`; for another name, `exchange.url`'s host).
    #[error("the server certificate of {endpoint} is refused: {reason}")]
    Certificate { endpoint: String, reason: String },

    /// The host name does not resolve: the resolver answered that there is no such name, or it
    /// is under the reserved `.invalid` top-level domain (RFC 6761, never resolves). Permanent,
    /// never retried. A resolver that does not answer, or answers "try again", is a
    /// [`Error::Connect`] and is retried.
    #[error("{host} does not resolve ({detail}){}", correct_in(*.url_key))]
    NameNotResolved {
        host: String,
        detail: String,
        /// The configuration key of the url (`exchange.url`), named as the fix.
        url_key: Option<&'static str>,
    },

    /// `phase` ("connect" or "request") took longer than `after`.
    #[error("{phase} to {endpoint} timed out after {after:?}")]
    Timeout {
        endpoint: String,
        phase: &'static str,
        after: Duration,
    },

    /// Basic authentication was configured for a plain `http` URL without the lab flag.
    #[error(
        "basic authentication over plain http is refused (danger_allow_basic_over_http is off)"
    )]
    InsecureBasic,

    /// The server spoke HTTP or NTLM in a way we cannot follow.
    #[error("protocol error with {endpoint}: {detail}")]
    Protocol { endpoint: String, detail: String },

    /// The settings cannot work (bad URL scheme, zero connections, no trust anchors).
    #[error("invalid transport settings: {detail}")]
    InvalidSettings { detail: String },

    /// The operator's `ca_file` cannot be used as trust anchors.
    #[error("cannot use ca_file {}: {detail}", path.display())]
    CaFile { path: PathBuf, detail: String },
}

impl Error {
    /// True when sending again cannot succeed until an operator changes something: a refused
    /// certificate, a name that does not resolve, settings that cannot work. The retry loop of
    /// `exchange` hands these back at once. Connection refused, reset and timeouts are not
    /// permanent (a restarting IIS, a failover): they may pass.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Error::Certificate { .. }
                | Error::NameNotResolved { .. }
                | Error::InsecureBasic
                | Error::InvalidSettings { .. }
                | Error::CaFile { .. }
        )
    }

    /// True when the request certainly never reached the server (connect failed or timed out,
    /// TLS failed, or a fresh connection was closed before the request was written), so sending
    /// it again cannot apply it twice. False when it may have been sent.
    pub fn request_not_sent(&self) -> bool {
        match self {
            Error::Connect { request_sent, .. } => !request_sent,
            Error::Timeout { phase, .. } => *phase == "connect",
            Error::Tls { .. } | Error::Certificate { .. } | Error::NameNotResolved { .. } => true,
            _ => false,
        }
    }
}

/// ": correct the host name in KEY", or nothing when the url is not from a key.
fn correct_in(url_key: Option<&'static str>) -> String {
    url_key
        .map(|key| format!(": correct the host name in {key}"))
        .unwrap_or_default()
}
