//! ews-connector: calendar delegation and push for on-premises Exchange over EWS.
//!
//! # Layout
//! - `ews`: EWS as data (SOAP envelope, operations, responses); no I/O.
//! - `transport`: bytes to one EWS endpoint over HTTP/1.1 + rustls, with NTLM or Basic.
//! - `exchange`: the one call path that combines `ews` and `transport`.
//! - `sim`: an offline EWS simulator that answers from `fixtures/`.
//! - `domain`: what `delegation` and `push` share: mailbox addresses, access mode, per-mailbox
//!   locks, permission levels and sets.
//! - `backend`: the seam to a mailbox's calendar (`CalendarBackend`), EWS its first implementation.
//! - `routing`: which side (EWS or Graph) a mailbox is looked for on, and where it was found.
//! - `delegation`: check, grant and revoke calendar delegation, in our own words.
//! - `push`: calendar events pushed by external id (upsert, delete, window sync), in our own words.
//! - `audit`: the append-only JSON Lines trail of grants and revokes.
//! - `api`: the internal JSON HTTP API and the JSON shapes the CLI prints.
//! - `app`: the service built from a `Config` (rooms, API, reload), for `serve` and `demo`.
//! - `cli`: the commands of the binary, one small function each, and their arguments.
//! - `config`: the operator's TOML file and environment overrides, validated at load.
//! - `logging`: the log subscriber of the binary (text or JSON lines, request ids).
//! - `doctor`: `ews-connector doctor`, the step-by-step diagnosis of the path to Exchange.
//! - `error_chain`: one line for an error and its causes, each cause stated once.
//! - `secret`: the `Secret` type whose `Debug` and `Display` print `***`.
//! - `admin_script`: the PowerShell that prepares Exchange and AD for a site (`admin-script`).
//!
//! The binary (`src/main.rs`) only parses the command line and calls `cli`.

pub mod admin_script;
pub mod api;
pub mod app;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod config;
pub mod delegation;
pub mod demo;
pub mod doctor;
pub mod domain;
pub mod error_chain;
/// The EWS protocol: the `ews-protocol` crate of this workspace (no I/O).
pub use ews_protocol as ews;
pub mod exchange;
pub mod graph;
pub mod ids;
pub mod logging;
pub mod push;
pub mod routing;
pub mod secret;
/// The Exchange simulator: the `ews-sim` crate of this workspace.
pub use ews_sim as sim;
pub mod transport;
