//! `graph`: Exchange Online through Microsoft Graph.
//!
//! The application's authentication ([`auth`]): OAuth 2.0 client credentials against Microsoft
//! Entra ID with a certificate (a signed client assertion) or a client secret, the token cached
//! and refreshed by one caller at a time; the Graph client ([`client`]): JSON over HTTP/2 or
//! HTTP/1.1, typed errors ([`error`]), throttling retries inside the EWS retry budget, at most 4
//! requests in flight per mailbox, `$batch`. `backend::graph` puts the calendar operations on
//! it; routing builds on it next (issue 14).
//!
//! Invariants:
//! - secrets, client assertions and access tokens never reach a log, an error or `Debug`
//!   (they live in [`crate::secret::Secret`] or types whose `Debug` prints `***`);
//! - JWT signing is `jsonwebtoken`'s, PEM reading the `pem` crate's, certificate parsing
//!   `x509-parser`'s, TLS the transport's rustls configuration (`transport::tls`): no
//!   hand-written cryptography.
//!
//! Entry points: [`auth::TokenSource`], [`auth::Credential`], [`client::GraphClient`],
//! [`error::Error`], [`stats::Stats`].

pub mod auth;
pub mod client;
pub mod error;
pub mod stats;

pub use error::Error;
