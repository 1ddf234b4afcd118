//! `app`: the running service, built from a [`Config`] in one place for `serve` and `demo`.
//!
//! [`App::open`] opens the rooms in order (the Exchange client, the audit file, `delegation`
//! with its group cache and, with `[graph]`, the Graph token source, client and backend and the
//! router of `[routing]`, `push`, the API state with its token table and metrics),
//! [`App::serve`] runs the API with its readiness probe until shutdown, and [`App::reload`] is
//! what SIGHUP does, callable (and tested, `tests/reload.rs`) in-process.
//!
//! Invariants: the configuration is read once, before `open` (a reload re-reads only what it
//! names: password files and variables, `tls.ca_file`, the Graph certificate or secret); anything unusable in a reload is
//! reported with its key or file and the old value stays (ARCHITECTURE.md, "Reload").

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::api;
use crate::api::problem::error_chain;
use crate::audit::AuditLog;
use crate::backend::graph::GraphBackend;
use crate::config::Config;
use crate::delegation::Delegation;
use crate::exchange::Exchange;
use crate::graph::auth::TokenSource;
use crate::graph::client::GraphClient;
use crate::push::Push;
use crate::routing::{Router, RoutingConfig};

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot give the Exchange settings (an undiscovered URL).
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    /// The Exchange client cannot be built (an unusable CA file, Basic over http).
    #[error(transparent)]
    Exchange(#[from] crate::exchange::Error),
    #[error("cannot open audit.path {}", path.display())]
    Audit {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on api.listen {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The Graph token source cannot be built (an unusable `tls.ca_file`).
    #[error(transparent)]
    Graph(#[from] crate::graph::auth::AuthError),
    /// The Graph client cannot be built (an unusable `tls.ca_file`, `graph.endpoint`).
    #[error(transparent)]
    GraphClient(#[from] crate::graph::Error),
    #[error("the API stopped")]
    Serve(#[source] std::io::Error),
}

/// The service's rooms, opened from one configuration.
pub struct App {
    config: Config,
    exchange: Arc<Exchange>,
    audit: Arc<AuditLog>,
    state: api::AppState,
    /// The application's Graph token (`[graph]`), whose credential a reload replaces.
    graph_tokens: Option<Arc<TokenSource>>,
}

/// What one [`App::reload`] did. Nothing in it holds a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// Why the audit file could not be reopened (records still go to the old one); `None` when
    /// it was.
    pub audit_error: Option<String>,
    /// The service accounts (usernames) whose password changed.
    pub passwords_changed: Vec<String>,
    /// One message per account whose password could not be read again, naming its key
    /// (`exchange.accounts[0]: ...`); that account keeps its old password.
    pub password_problems: Vec<String>,
    /// What became of the trust anchors.
    pub trust: TrustReload,
    /// What became of the Graph credential (`graph.certificate_file` or
    /// `graph.client_secret_file`).
    pub graph_credential: GraphCredentialReload,
}

/// The Graph part of a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphCredentialReload {
    /// No `[graph]`.
    NotUsed,
    /// Read again and the same as before.
    Unchanged,
    /// Read again and different: the next token request uses it.
    Changed,
    /// Unusable (the reason names the key and file); the previous credential stays.
    Kept(String),
}

/// The trust-anchor part of a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustReload {
    /// No `tls.ca_file`, or a plain http endpoint: nothing to read.
    NotUsed,
    /// `tls.ca_file` read again; new connections trust its anchors.
    Reloaded,
    /// `tls.ca_file` could not be used (the reason names it); the previous anchors stay.
    Kept(String),
}

impl ReloadOutcome {
    /// True when everything the reload tried was applied.
    pub fn is_complete(&self) -> bool {
        self.audit_error.is_none()
            && self.password_problems.is_empty()
            && !matches!(self.trust, TrustReload::Kept(_))
            && !matches!(self.graph_credential, GraphCredentialReload::Kept(_))
    }
}

impl App {
    /// Opens the rooms for `config`, whose `exchange.url` is configured or already discovered.
    ///
    /// # Errors
    /// [`Error::Config`] without an EWS URL, [`Error::Exchange`] when the client cannot be
    /// built, [`Error::Audit`] when the audit file cannot be opened.
    pub fn open(config: Config) -> Result<App, Error> {
        let exchange = open_exchange(&config)?;
        let audit = open_audit(&config)?;
        let backend = crate::backend::ews::EwsBackend::shared(exchange.clone());
        let graph = open_graph(&config)?;
        let delegation = delegation_on(
            &config,
            backend.clone(),
            Some(audit.clone()),
            graph.as_ref(),
        );
        let mut push = Push::new(backend, config.push_settings());
        if let Some(side) = &graph {
            // Calendar push is routed the same way, with a router of its own (each remembers
            // where it found a mailbox).
            push = push.with_graph(side.backend.clone(), Router::new(side.routing.clone()));
        }
        let push = Arc::new(push);
        let graph_tokens = graph.map(|side| side.tokens);
        let state = api::AppState::with_push(
            config.api_settings(),
            Arc::new(delegation),
            push,
            exchange.clone(),
            Some(audit.clone()),
        );
        // The application's Graph counters on `/metrics` (`graph::stats`).
        if let Some(tokens) = &graph_tokens {
            state.observe_graph(tokens.stats().clone());
        }
        Ok(App {
            config,
            exchange,
            audit,
            state,
            graph_tokens,
        })
    }

    /// The configuration the app was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The Exchange client (its accounts' states, its counters).
    pub fn exchange(&self) -> &Arc<Exchange> {
        &self.exchange
    }

    /// The application's Graph token source (`[graph]`).
    pub fn graph_tokens(&self) -> Option<&Arc<TokenSource>> {
        self.graph_tokens.as_ref()
    }

    /// The API's state, for [`api::router`] in tests.
    pub fn state(&self) -> &api::AppState {
        &self.state
    }

    /// Serves the API on `listener`, with the readiness probe, until `shutdown` completes;
    /// then drains and flushes the audit file (`api::serve`).
    ///
    /// # Errors
    /// [`Error::Serve`] when the audit file cannot be flushed at the end.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let readiness = api::spawn_readiness(&self.state);
        let result = api::serve(listener, self.state.clone(), shutdown).await;
        readiness.abort();
        result.map_err(Error::Serve)
    }

    /// What SIGHUP does: reopens the audit file (after log rotation), reads the service
    /// accounts' passwords again from their files or variables (an account refused for a wrong
    /// password is tried again once its password changed; new connections log on with the new
    /// password while authenticated ones keep serving), and reads `tls.ca_file` again (new
    /// connections trust the new anchors). Whatever cannot be used is logged and reported, and
    /// its old value stays. The configuration file itself is not read again.
    pub fn reload(&self) -> ReloadOutcome {
        let audit_error = match self.audit.reopen() {
            Ok(()) => {
                tracing::info!(path = %self.audit.path().display(), "SIGHUP: audit file reopened");
                None
            }
            Err(error) => {
                tracing::error!(%error, "SIGHUP: cannot reopen the audit file; still writing to the old one");
                Some(format!(
                    "cannot reopen {}: {error}",
                    self.audit.path().display()
                ))
            }
        };
        let (passwords, password_problems) = self.config.reread_passwords();
        for problem in &password_problems {
            tracing::error!(%problem, "SIGHUP: password not re-read; the account keeps its old one");
        }
        let passwords_changed = self.exchange.update_passwords(&passwords);
        tracing::info!(changed = ?passwords_changed, "SIGHUP: passwords re-read");
        let trust = match &self.config.tls.ca_file {
            None => TrustReload::NotUsed,
            Some(ca_file) => match self.exchange.reload_trust() {
                Ok(true) => {
                    tracing::info!(
                        ca_file = %ca_file.display(),
                        "SIGHUP: trust anchors re-read; new connections use them"
                    );
                    TrustReload::Reloaded
                }
                Ok(false) => TrustReload::NotUsed,
                Err(error) => {
                    let reason = error_chain(&error);
                    tracing::error!(
                        error = %reason,
                        ca_file = %ca_file.display(),
                        "SIGHUP: ca_file not reloaded; the previous trust anchors stay in force"
                    );
                    TrustReload::Kept(reason)
                }
            },
        };
        let graph_credential = self.reload_graph_credential();
        ReloadOutcome {
            audit_error,
            passwords_changed,
            password_problems,
            trust,
            graph_credential,
        }
    }

    /// Reads the Graph certificate or secret again; an unusable file keeps the old credential.
    fn reload_graph_credential(&self) -> GraphCredentialReload {
        let (Some(tokens), Some(result)) =
            (&self.graph_tokens, self.config.reread_graph_credential())
        else {
            return GraphCredentialReload::NotUsed;
        };
        match result {
            Ok(credential) => {
                let key = credential.key();
                if tokens.replace_credential(credential) {
                    tracing::info!(
                        key,
                        "SIGHUP: Graph credential re-read; the next token request uses it"
                    );
                    GraphCredentialReload::Changed
                } else {
                    GraphCredentialReload::Unchanged
                }
            }
            Err(reason) => {
                tracing::error!(%reason, "SIGHUP: Graph credential not re-read; the previous one stays");
                GraphCredentialReload::Kept(reason)
            }
        }
    }
}

/// The Exchange client of `config` (also for the CLI's one-shot commands).
///
/// # Errors
/// [`Error::Config`] without an EWS URL, [`Error::Exchange`] when the client cannot be built.
pub fn open_exchange(config: &Config) -> Result<Arc<Exchange>, Error> {
    Ok(Arc::new(Exchange::new(config.exchange_settings()?)?))
}

/// The delegation room of `config` on `exchange`, as `serve` builds it (also for the CLI's
/// one-shot commands): with `[graph]`, routed per mailbox (`[routing]`) between EWS and the
/// Graph backend acting as the application; the Graph token source is returned with it.
///
/// # Errors
/// [`Error::Graph`] or [`Error::GraphClient`] when the Graph side cannot be built.
pub fn open_delegation(
    config: &Config,
    exchange: Arc<Exchange>,
    audit: Option<Arc<AuditLog>>,
) -> Result<(Delegation, Option<Arc<TokenSource>>), Error> {
    open_delegation_on(
        config,
        crate::backend::ews::EwsBackend::shared(exchange),
        audit,
    )
}

fn open_delegation_on(
    config: &Config,
    backend: Arc<dyn crate::backend::CalendarBackend>,
    audit: Option<Arc<AuditLog>>,
) -> Result<(Delegation, Option<Arc<TokenSource>>), Error> {
    let graph = open_graph(config)?;
    let delegation = delegation_on(config, backend, audit, graph.as_ref());
    Ok((delegation, graph.map(|side| side.tokens)))
}

/// The Graph side of `config` (`[graph]` and `[routing]`), where configured.
struct GraphSide {
    tokens: Arc<TokenSource>,
    backend: Arc<dyn crate::backend::CalendarBackend>,
    routing: RoutingConfig,
    max_concurrency: usize,
}

/// Builds the Graph token source, client and backend of `config`, if it has `[graph]`.
fn open_graph(config: &Config) -> Result<Option<GraphSide>, Error> {
    let Some(graph) = &config.graph else {
        return Ok(None);
    };
    let tokens = Arc::new(TokenSource::new(
        crate::graph::auth::Settings::from_config(graph, &config.tls),
        graph.credential.clone(),
    )?);
    let client = Arc::new(GraphClient::new(
        crate::graph::client::Settings::from_config(graph, &config.exchange, &config.tls),
        tokens.clone(),
    )?);
    // `config` fills `[routing]` whenever `[graph]` is present; its defaults otherwise.
    let routing = config.routing.clone().unwrap_or(RoutingConfig {
        default: crate::config::Backend::Ews,
        graph_domains: Vec::new(),
        ews_domains: Vec::new(),
        follow_moves: true,
    });
    Ok(Some(GraphSide {
        tokens,
        backend: GraphBackend::shared(client, graph.client_id.clone()),
        routing,
        max_concurrency: graph.max_concurrency,
    }))
}

/// The delegation room on `backend`; with a Graph side, check, grant and revoke are routed per
/// mailbox (`[routing]`).
fn delegation_on(
    config: &Config,
    backend: Arc<dyn crate::backend::CalendarBackend>,
    audit: Option<Arc<AuditLog>>,
    graph: Option<&GraphSide>,
) -> Delegation {
    let delegation = Delegation::new(backend, config.delegation_settings(), audit)
        .with_group_cache_ttl(config.group_cache_ttl());
    match graph {
        Some(side) => delegation.with_graph(
            side.backend.clone(),
            Router::new(side.routing.clone()),
            side.max_concurrency,
        ),
        None => delegation,
    }
}

/// The audit file of `config` (`audit.path`), opened for appending.
///
/// # Errors
/// [`Error::Audit`] naming the path.
pub fn open_audit(config: &Config) -> Result<Arc<AuditLog>, Error> {
    let audit = AuditLog::open(&config.audit.path).map_err(|source| Error::Audit {
        path: config.audit.path.clone(),
        source,
    })?;
    Ok(Arc::new(audit))
}

/// Binds the API's listener (`api.listen`, or the demo's address).
///
/// # Errors
/// [`Error::Listen`] naming the address.
pub async fn listen(addr: SocketAddr) -> Result<tokio::net::TcpListener, Error> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen { addr, source })
}
