//! `api`: the internal JSON HTTP API of `../shared/API.md` (`/v1/...`, `/healthz`, `/readyz`,
//! `/metrics`, `/openapi.json`), and the JSON shapes that the command line prints with `--json`.
//!
//! Invariants:
//! - only this room derives serde for JSON; it maps `delegation` types to DTOs and back;
//! - the JSON contract exists once, in `dto`: handlers decode their body into a `dto` type
//!   (`json::JsonBody`, naming a wrong field by its path) and answer with one, and the OpenAPI
//!   document names the same types, checked against each handler's signature
//!   ([`contracts`]); problem codes are [`problem::ProblemCode`], never strings;
//! - it never touches XML or EWS types; the HTTP status of a failure is decided here and only
//!   here ([`problem::Problem`]);
//! - **API boundary:** the `/v1` JSON shapes are a promise: fields are added, never renamed or
//!   removed;
//! - the served routes and the OpenAPI document come from one table (`routes.rs`), so they
//!   cannot drift; the scope a `/v1` route needs is read from that same document;
//! - every response carries `X-Request-Id`, and every error is `application/problem+json`,
//!   including axum's own rejections, panics and timeouts (`middleware.rs`);
//! - tokens are compared by SHA-256 digest in constant time and never logged.
//!
//! Entry types: [`Settings`], [`AppState`], [`router`], [`serve`], [`spawn_readiness`],
//! [`openapi`], [`contracts`], [`dto::AccessBody`], [`problem::Problem`],
//! [`problem::ProblemCode`], [`batch::NdjsonBody`].

mod auth;
pub mod batch;
pub mod contract;
pub mod dto;
mod handlers;
mod json;
mod metrics;
mod middleware;
pub mod problem;
mod push;
mod query;
mod readiness;
mod routes;
mod server;
pub mod token;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::audit::AuditLog;
use crate::delegation::Delegation;
use crate::exchange::Exchange;
use crate::push::Push;

pub use self::readiness::spawn_readiness;
pub use self::routes::{PUBLIC_PATHS, contracts, openapi, router};
pub use self::server::Limits;

/// What the API needs to run; filled by `config`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lower-case mail domains the API may act on; empty means any domain.
    pub allowed_domains: Vec<String>,
    /// The API clients and their tokens.
    pub clients: Vec<ClientSettings>,
    /// How long [`serve`] waits for in-flight requests after the shutdown signal.
    pub shutdown_grace: Duration,
    /// The longest a request may take; past it the client gets 504 `exchange_timeout`.
    pub request_timeout: Duration,
    /// How often the background readiness probe asks Exchange about each service account.
    pub readiness_interval: Duration,
    /// Connection cap, timeouts and head size limits of the server.
    pub limits: Limits,
}

/// One API client.
#[derive(Clone)]
pub struct ClientSettings {
    /// The client's name, for logs and the audit trail (never secret).
    pub name: String,
    /// SHA-256 of the client's bearer token; the token itself is never stored.
    pub token_sha256: [u8; 32],
    /// Scopes such as `calendar:check` and `calendar:delegate`.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ClientSettings")
            .field("name", &self.name)
            .field("token_sha256", &"***")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The state every handler shares: cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    delegation: Arc<Delegation>,
    push: Arc<Push>,
    exchange: Arc<Exchange>,
    audit: Option<Arc<AuditLog>>,
    metrics: metrics::Metrics,
    readiness: readiness::Readiness,
}

impl AppState {
    /// The state of one API instance. `audit` is the same log `delegation` writes to; [`serve`]
    /// flushes it at shutdown. Readiness starts "not probed yet" until [`spawn_readiness`]
    /// runs its first probe.
    ///
    /// The push routes get a [`Push`] with the default push settings and the access mode of
    /// `delegation`; [`AppState::with_push`] takes a configured one.
    pub fn new(
        settings: Settings,
        delegation: Arc<Delegation>,
        exchange: Arc<Exchange>,
        audit: Option<Arc<AuditLog>>,
    ) -> AppState {
        let push = Arc::new(Push::new(
            crate::backend::ews::EwsBackend::shared(exchange.clone()),
            crate::push::Settings::new(delegation.settings().access),
        ));
        AppState::with_push(settings, delegation, push, exchange, audit)
    }

    /// As [`AppState::new`], with the push domain as configured (`Config::push_settings`).
    pub fn with_push(
        settings: Settings,
        delegation: Arc<Delegation>,
        push: Arc<Push>,
        exchange: Arc<Exchange>,
        audit: Option<Arc<AuditLog>>,
    ) -> AppState {
        let readiness = readiness::Readiness::new(exchange.accounts().len());
        let metrics = metrics::Metrics::new(push.backend());
        AppState {
            inner: Arc::new(Inner {
                settings,
                delegation,
                push,
                exchange,
                audit,
                metrics,
                readiness,
            }),
        }
    }

    fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Shows the application's Graph counters (the `TokenSource`'s, shared by the clients built
    /// on it) on `/metrics`; with `[graph]` only. A second call changes nothing.
    pub fn observe_graph(&self, stats: Arc<crate::graph::stats::Stats>) {
        let _ = self.inner.metrics.graph.set(stats);
    }
}

/// Serves the API on `listener` until `shutdown` completes; then stops accepting, lets in-flight
/// requests finish for at most `settings.shutdown_grace`, and flushes the audit trail.
///
/// Connections are capped and timed by `settings.limits` (see `server`): idle and slow clients
/// make room for new ones, and every request head is checked before hyper parses it.
///
/// Requests still running when the grace period ends are abandoned (their tasks end with the
/// process), and `serve` returns anyway, so a stuck Exchange call cannot hold up a shutdown.
///
/// # Errors
/// When the audit trail cannot be flushed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let settings = state.settings();
    server::run(
        listener,
        router(state.clone()),
        settings.limits,
        state.inner.metrics.server.clone(),
        shutdown,
        settings.shutdown_grace,
    )
    .await?;
    if let Some(audit) = &state.inner.audit {
        audit.flush()?;
    }
    tracing::info!("api stopped");
    Ok(())
}
