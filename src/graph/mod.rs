//! `graph`: Exchange Online through Microsoft Graph.
//!
//! Today this room holds the application's authentication ([`auth`]): OAuth 2.0 client
//! credentials against Microsoft Entra ID with a certificate (a signed client assertion) or a
//! client secret, the token cached and refreshed by one caller at a time. The Graph client,
//! routing and the calendar operations build on it (issue 14).
//!
//! Invariants:
//! - secrets, client assertions and access tokens never reach a log, an error or `Debug`
//!   (they live in [`crate::secret::Secret`] or types whose `Debug` prints `***`);
//! - JWT signing is `jsonwebtoken`'s, PEM reading the `pem` crate's, certificate parsing
//!   `x509-parser`'s, TLS the transport's rustls configuration (`transport::tls`): no
//!   hand-written cryptography.
//!
//! Entry points: [`auth::TokenSource`], [`auth::Credential`].

pub mod auth;
