//! `config`: the operator's TOML file plus `EWSC__SECTION__KEY` environment overrides, loaded once
//! and validated into a [`Config`].
//!
//! Invariants:
//! - no other module reads environment variables or configuration files;
//! - every problem is reported with the key it concerns (`exchange.accounts[0].password_file`);
//! - unknown keys are errors, so a typo never falls back to a default silently;
//! - passwords are read from `password_file` or `password_env` here and held only as [`Secret`];
//!   a password file others can write is refused, and the buffer it is read into is wiped;
//! - the warnings about a valid configuration are computed in one place, `warnings`.
//!
//! Entry points: [`Config::load`], [`Config::from_sources`], [`Config::render_effective`],
//! [`Config::warnings`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::secret::Secret;

mod graph;
mod warnings;

pub use crate::config::graph::{
    Backend, GraphConfig, GraphCredentialSource, RoutingConfig, read_credential_file,
};
pub use crate::config::warnings::{Concern, Warning};

/// The environment variable prefix: `EWSC__EXCHANGE__URL` overrides `exchange.url`.
pub const ENV_PREFIX: &str = "EWSC";

/// The scopes an API client may hold (see API.md).
pub const KNOWN_SCOPES: &[&str] = &["calendar:check", "calendar:delegate", "calendar:push"];

/// Calendar permission levels that may be requested (API.md: `Custom` is only ever read).
pub const GRANTABLE_LEVELS: &[&str] = &[
    "None",
    "FreeBusyTimeOnly",
    "FreeBusyTimeAndSubjectAndLocation",
    "Reviewer",
    "Contributor",
    "Author",
    "NoneditingAuthor",
    "PublishingAuthor",
    "Editor",
    "PublishingEditor",
    "Owner",
];

/// A configuration problem, naming the key it concerns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read configuration file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration is not valid: {message}")]
    Parse { message: String },
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
}

impl Error {
    fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

use crate::delegation::PermissionLevel;
/// How the service reaches a user's calendar (`exchange.access`): the one type, read here and
/// used by `delegation` and `push`.
pub use crate::domain::AccessMode;
use crate::push::DeleteType;

/// The HTTP authentication scheme towards Exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    Ntlm,
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub exchange: ExchangeConfig,
    pub tls: TlsConfig,
    pub delegation: DelegationConfig,
    pub push: PushConfig,
    pub api: ApiConfig,
    pub audit: AuditConfig,
    pub log: LogConfig,
    /// `[graph]`: Exchange Online through Microsoft Graph; `None`: EWS only.
    pub graph: Option<GraphConfig>,
    /// `[routing]`: present whenever `graph` is (defaults when the section is absent).
    pub routing: Option<RoutingConfig>,
}

#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// The EWS endpoint, `https://host/EWS/Exchange.asmx`. `None` with `autodiscover = true`
    /// until the URL is discovered (`cli::load_config` and `doctor` set it before building
    /// `exchange`; [`Config::exchange_settings`] refuses to build settings without it).
    pub url: Option<url::Url>,
    /// `exchange.autodiscover = true` and its keys; `None` when `url` is configured.
    pub autodiscover: Option<AutodiscoverConfig>,
    /// `RequestServerVersion` sent with every request.
    pub version: String,
    pub auth: AuthKind,
    pub access: AccessMode,
    /// Whether the accounts hold the ApplicationImpersonation role (needed to read and write
    /// permission sets).
    pub impersonation: bool,
    /// Per EWS request, in seconds.
    pub timeout_secs: u64,
    /// TCP and TLS connect, in seconds.
    pub connect_timeout_secs: u64,
    /// Requests in flight per service account; never exceeded.
    pub max_concurrency_per_account: usize,
    /// Total time one call may spend waiting on throttling and retries, in seconds.
    pub retry_budget_secs: u64,
    /// How long an account whose credentials Exchange refused stays unused while its password
    /// is unchanged, in seconds (a password change, on SIGHUP, clears it at once).
    pub auth_failure_cooldown_secs: u64,
    /// Lab only: allow Basic authentication over plain http.
    pub danger_allow_basic_over_http: bool,
    pub accounts: Vec<Account>,
}

/// `exchange.autodiscover = true`: the EWS URL is found from the first account's `smtp`.
#[derive(Debug, Clone)]
pub struct AutodiscoverConfig {
    /// `exchange.autodiscover_url`: one starting endpoint instead of the candidates derived from
    /// the domain (labs and tests; an `http://` one is allowed to carry credentials).
    pub url: Option<url::Url>,
    /// `exchange.autodiscover_trusted_hosts`: lower-case host names (with their subdomains)
    /// that may get credentials besides the SMTP domain.
    pub trusted_hosts: Vec<String>,
    /// `exchange.autodiscover_prefer`: `internal` (default) or `external`.
    pub prefer: EwsUrlPreference,
}

/// Which EWS URL Autodiscover uses when both are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EwsUrlPreference {
    Internal,
    External,
}

/// One service account, with its password already read from its file or variable.
#[derive(Debug, Clone)]
pub struct Account {
    /// `DOMAIN\user` or `user@upn.example`.
    pub username: String,
    /// The account's primary SMTP address.
    pub smtp: String,
    pub password: Secret,
    /// Where the password came from, for `config check` and for re-reading on SIGHUP.
    pub password_source: PasswordSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    File(PathBuf),
    Env(String),
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub ca_file: Option<PathBuf>,
    pub channel_binding: bool,
    pub danger_accept_invalid_certs: bool,
}

#[derive(Debug, Clone)]
pub struct DelegationConfig {
    /// The user or mail-enabled group that gets the calendar permission.
    pub principal: String,
    /// The required level, one of [`GRANTABLE_LEVELS`] (never `Custom`).
    pub level: PermissionLevel,
    /// Principals a grant or revoke may name besides `principal` (which is always allowed),
    /// as written; compared case-insensitively.
    pub allowed_principals: Vec<String>,
    /// The highest level a grant may write, one of [`GRANTABLE_LEVELS`] (default: `level`);
    /// it grants every right of `level`.
    pub max_level: PermissionLevel,
    /// How long an ExpandDL answer (a group's direct members) is reused, in seconds.
    pub group_cache_ttl_secs: u64,
}

/// `[push]`: how events are written.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// Items per CreateItem, UpdateItem, DeleteItem and GetItem request, 1 to 100 (default 50).
    pub batch_size: usize,
    /// `HardDelete`, `SoftDelete` (default) or `MoveToDeletedItems`.
    pub delete_type: DeleteType,
    /// `MaxEntriesReturned` of one calendar view, 1 to 1000 (default 1000, Exchange's default
    /// find limit); a fuller window is split.
    pub view_max_entries: u32,
}

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    /// Lower-case domains; empty means any domain.
    pub allowed_domains: Vec<String>,
    pub clients: Vec<ApiClient>,
    /// `api.max_connections`: client connections open at once (default 512).
    pub max_connections: usize,
    /// `api.header_read_timeout_secs`: a request head must be complete within it (default 10).
    pub header_read_timeout_secs: u64,
    /// `api.idle_timeout_secs`: keep-alive connections idle this long close (default 60).
    pub idle_timeout_secs: u64,
    /// `api.body_read_timeout_secs`: a request body must arrive within it (default 30).
    pub body_read_timeout_secs: u64,
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    pub name: String,
    /// SHA-256 of the bearer token (32 bytes); the token itself is never stored.
    pub token_sha256: [u8; 32],
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

// The file as written by the operator. Every struct refuses unknown keys.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    exchange: RawExchange,
    #[serde(default)]
    tls: RawTls,
    #[serde(default)]
    delegation: RawDelegation,
    #[serde(default)]
    push: RawPush,
    #[serde(default)]
    api: RawApi,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    log: RawLog,
    graph: Option<graph::RawGraph>,
    routing: Option<graph::RawRouting>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExchange {
    url: Option<String>,
    #[serde(default)]
    autodiscover: bool,
    autodiscover_url: Option<String>,
    #[serde(default)]
    autodiscover_trusted_hosts: Vec<String>,
    #[serde(default = "default_prefer")]
    autodiscover_prefer: EwsUrlPreference,
    #[serde(default = "default_version")]
    version: String,
    #[serde(default = "default_auth")]
    auth: AuthKind,
    #[serde(default = "default_access", deserialize_with = "access_mode")]
    access: AccessMode,
    #[serde(default = "default_true")]
    impersonation: bool,
    #[serde(default = "default_timeout_secs")]
    timeout_secs: u64,
    #[serde(default = "default_connect_timeout_secs")]
    connect_timeout_secs: u64,
    #[serde(default = "default_max_concurrency")]
    max_concurrency_per_account: usize,
    #[serde(default = "default_retry_budget_secs")]
    retry_budget_secs: u64,
    #[serde(default = "default_auth_failure_cooldown_secs")]
    auth_failure_cooldown_secs: u64,
    #[serde(default)]
    danger_allow_basic_over_http: bool,
    #[serde(default)]
    accounts: Vec<RawAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    username: String,
    smtp: String,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca_file: Option<PathBuf>,
    #[serde(default = "default_true")]
    channel_binding: bool,
    #[serde(default)]
    danger_accept_invalid_certs: bool,
}

impl Default for RawTls {
    fn default() -> Self {
        RawTls {
            ca_file: None,
            channel_binding: true,
            danger_accept_invalid_certs: false,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDelegation {
    principal: Option<String>,
    level: Option<String>,
    #[serde(default)]
    allowed_principals: Vec<String>,
    max_level: Option<String>,
    group_cache_ttl_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPush {
    #[serde(default = "default_push_batch_size")]
    batch_size: usize,
    #[serde(default = "default_push_delete_type")]
    delete_type: String,
    #[serde(default = "default_push_view_max_entries")]
    view_max_entries: u32,
}

impl Default for RawPush {
    fn default() -> Self {
        RawPush {
            batch_size: default_push_batch_size(),
            delete_type: default_push_delete_type(),
            view_max_entries: default_push_view_max_entries(),
        }
    }
}

fn default_push_batch_size() -> usize {
    50
}
fn default_push_delete_type() -> String {
    "SoftDelete".to_owned()
}
fn default_push_view_max_entries() -> u32 {
    1000
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawApi {
    listen: Option<String>,
    #[serde(default)]
    allowed_domains: Vec<String>,
    #[serde(default)]
    clients: Vec<RawClient>,
    /// A TOML file of more `[[clients]]` entries (same keys as `[[api.clients]]`), for token
    /// hashes kept apart from the configuration (a Kubernetes Secret); read once at start.
    clients_file: Option<PathBuf>,
    max_connections: Option<usize>,
    header_read_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    body_read_timeout_secs: Option<u64>,
}

/// The file named by `api.clients_file`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClientsFile {
    #[serde(default)]
    clients: Vec<RawClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    token_sha256: String,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    path: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    #[serde(default = "default_log_format")]
    format: LogFormat,
    #[serde(default = "default_log_level")]
    level: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            format: LogFormat::Text,
            level: default_log_level(),
        }
    }
}

fn default_version() -> String {
    "Exchange2013_SP1".to_owned()
}
fn default_auth() -> AuthKind {
    AuthKind::Ntlm
}
fn default_access() -> AccessMode {
    AccessMode::Delegate
}
/// `exchange.access` as written: `delegate` or `impersonation` (serde's own wording for any
/// other value, as for every enum of the file).
fn access_mode<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<AccessMode, D::Error> {
    let text = String::deserialize(deserializer)?;
    [AccessMode::Delegate, AccessMode::Impersonation]
        .into_iter()
        .find(|mode| mode.as_str() == text)
        .ok_or_else(|| serde::de::Error::unknown_variant(&text, &["delegate", "impersonation"]))
}
fn default_prefer() -> EwsUrlPreference {
    EwsUrlPreference::Internal
}
fn default_true() -> bool {
    true
}
fn default_timeout_secs() -> u64 {
    30
}
fn default_connect_timeout_secs() -> u64 {
    10
}
fn default_max_concurrency() -> usize {
    10
}
fn default_retry_budget_secs() -> u64 {
    60
}
fn default_auth_failure_cooldown_secs() -> u64 {
    900
}
fn default_log_format() -> LogFormat {
    LogFormat::Text
}
fn default_log_level() -> String {
    "info".to_owned()
}

/// Where secrets named by the file are looked up; the process environment in production, a map
/// in tests.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Environment for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Config {
    /// Loads `path` with the process environment's `EWSC__…` overrides.
    ///
    /// # Errors
    /// A missing or unreadable file, a syntax error, an unknown key or an invalid value; the
    /// error names the key.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        let overrides: HashMap<String, String> = std::env::vars()
            .filter(|(name, _)| name.starts_with(&format!("{ENV_PREFIX}__")))
            .collect();
        let base_dir = path.parent().unwrap_or(Path::new("."));
        Config::from_sources(&text, &overrides, &ProcessEnvironment, base_dir)
    }

    /// Builds the configuration from TOML text, a map of `EWSC__…` overrides and an environment
    /// for `password_env`; relative paths are taken from `base_dir`.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn from_sources(
        toml_text: &str,
        overrides: &HashMap<String, String>,
        environment: &dyn Environment,
        base_dir: &Path,
    ) -> Result<Config, Error> {
        let env_source = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("api.allowed_domains")
            .with_list_parse_key("delegation.allowed_principals")
            .with_list_parse_key("exchange.autodiscover_trusted_hosts")
            .with_list_parse_key("routing.graph_domains")
            .with_list_parse_key("routing.ews_domains")
            .source(Some(overrides.clone().into_iter().collect()));
        let merged = config::Config::builder()
            .add_source(config::File::from_str(toml_text, config::FileFormat::Toml))
            .add_source(env_source)
            .build()
            .map_err(|error| Error::Parse {
                message: error.to_string(),
            })?;
        let raw: RawConfig = merged.try_deserialize().map_err(|error| Error::Parse {
            message: error.to_string(),
        })?;
        validate(raw, environment, base_dir)
    }

    /// The effective configuration as TOML, with every secret shown as `***`.
    pub fn render_effective(&self) -> String {
        let mut out = String::new();
        let exchange = &self.exchange;
        let _ = writeln!(out, "[exchange]");
        if let Some(url) = &exchange.url {
            let _ = writeln!(out, "url = {}", quote(url.as_str()));
        }
        if let Some(autodiscover) = &exchange.autodiscover {
            let _ = writeln!(out, "autodiscover = true");
            if let Some(url) = &autodiscover.url {
                let _ = writeln!(out, "autodiscover_url = {}", quote(url.as_str()));
            }
            let hosts: Vec<String> = autodiscover
                .trusted_hosts
                .iter()
                .map(|h| quote(h))
                .collect();
            let _ = writeln!(out, "autodiscover_trusted_hosts = [{}]", hosts.join(", "));
            let prefer = match autodiscover.prefer {
                EwsUrlPreference::Internal => "internal",
                EwsUrlPreference::External => "external",
            };
            let _ = writeln!(out, "autodiscover_prefer = {}", quote(prefer));
        }
        let _ = writeln!(out, "version = {}", quote(&exchange.version));
        let auth = match exchange.auth {
            AuthKind::Ntlm => "ntlm",
            AuthKind::Basic => "basic",
        };
        let _ = writeln!(out, "auth = {}", quote(auth));
        let _ = writeln!(out, "access = {}", quote(exchange.access.as_str()));
        let _ = writeln!(out, "impersonation = {}", exchange.impersonation);
        let _ = writeln!(out, "timeout_secs = {}", exchange.timeout_secs);
        let _ = writeln!(
            out,
            "connect_timeout_secs = {}",
            exchange.connect_timeout_secs
        );
        let _ = writeln!(
            out,
            "max_concurrency_per_account = {}",
            exchange.max_concurrency_per_account
        );
        let _ = writeln!(out, "retry_budget_secs = {}", exchange.retry_budget_secs);
        let _ = writeln!(
            out,
            "auth_failure_cooldown_secs = {}",
            exchange.auth_failure_cooldown_secs
        );
        let _ = writeln!(
            out,
            "danger_allow_basic_over_http = {}",
            exchange.danger_allow_basic_over_http
        );
        for account in &exchange.accounts {
            let _ = writeln!(out, "\n[[exchange.accounts]]");
            let _ = writeln!(out, "username = {}", quote(&account.username));
            let _ = writeln!(out, "smtp = {}", quote(&account.smtp));
            match &account.password_source {
                PasswordSource::File(path) => {
                    let _ = writeln!(
                        out,
                        "password_file = {}",
                        quote(&path.display().to_string())
                    );
                }
                PasswordSource::Env(name) => {
                    let _ = writeln!(out, "password_env = {}", quote(name));
                }
            }
            let _ = writeln!(out, "password = \"{}\"", account.password);
        }
        let _ = writeln!(out, "\n[tls]");
        if let Some(ca_file) = &self.tls.ca_file {
            let _ = writeln!(out, "ca_file = {}", quote(&ca_file.display().to_string()));
        }
        let _ = writeln!(out, "channel_binding = {}", self.tls.channel_binding);
        let _ = writeln!(
            out,
            "danger_accept_invalid_certs = {}",
            self.tls.danger_accept_invalid_certs
        );
        let _ = writeln!(out, "\n[delegation]");
        let _ = writeln!(out, "principal = {}", quote(&self.delegation.principal));
        let _ = writeln!(out, "level = {}", quote(self.delegation.level.as_str()));
        let allowed: Vec<String> = self
            .delegation
            .allowed_principals
            .iter()
            .map(|p| quote(p))
            .collect();
        let _ = writeln!(out, "allowed_principals = [{}]", allowed.join(", "));
        let _ = writeln!(
            out,
            "max_level = {}",
            quote(self.delegation.max_level.as_str())
        );
        let _ = writeln!(
            out,
            "group_cache_ttl_secs = {}",
            self.delegation.group_cache_ttl_secs
        );
        let _ = writeln!(out, "\n[push]");
        let _ = writeln!(out, "batch_size = {}", self.push.batch_size);
        let _ = writeln!(
            out,
            "delete_type = {}",
            quote(self.push.delete_type.as_str())
        );
        let _ = writeln!(out, "view_max_entries = {}", self.push.view_max_entries);
        let _ = writeln!(out, "\n[api]");
        let _ = writeln!(out, "listen = {}", quote(&self.api.listen.to_string()));
        let domains: Vec<String> = self.api.allowed_domains.iter().map(|d| quote(d)).collect();
        let _ = writeln!(out, "allowed_domains = [{}]", domains.join(", "));
        let _ = writeln!(out, "max_connections = {}", self.api.max_connections);
        let _ = writeln!(
            out,
            "header_read_timeout_secs = {}",
            self.api.header_read_timeout_secs
        );
        let _ = writeln!(out, "idle_timeout_secs = {}", self.api.idle_timeout_secs);
        let _ = writeln!(
            out,
            "body_read_timeout_secs = {}",
            self.api.body_read_timeout_secs
        );
        for client in &self.api.clients {
            let _ = writeln!(out, "\n[[api.clients]]");
            let _ = writeln!(out, "name = {}", quote(&client.name));
            let _ = writeln!(out, "token_sha256 = \"***\"");
            let scopes: Vec<String> = client.scopes.iter().map(|s| quote(s)).collect();
            let _ = writeln!(out, "scopes = [{}]", scopes.join(", "));
        }
        let _ = writeln!(out, "\n[audit]");
        let _ = writeln!(
            out,
            "path = {}",
            quote(&self.audit.path.display().to_string())
        );
        let _ = writeln!(out, "\n[log]");
        let format = match self.log.format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        };
        let _ = writeln!(out, "format = {}", quote(format));
        let _ = writeln!(out, "level = {}", quote(&self.log.level));
        if let Some(graph) = &self.graph {
            graph::render(&mut out, graph, self.routing.as_ref());
        }
        out
    }
}

impl Config {
    /// The settings of Autodiscover (`exchange.autodiscover = true`), asking as the first
    /// account for its own `smtp`; `None` when `exchange.url` is configured.
    pub fn autodiscover_settings(&self) -> Option<crate::exchange::autodiscover::Settings> {
        self.exchange.autodiscover.as_ref()?;
        let account = self.exchange.accounts.first()?;
        Some(self.autodiscover_settings_for(&account.smtp))
    }

    /// Autodiscover settings for `mailbox` (`ews-connector discover`), asking as the first
    /// account, with the `exchange.autodiscover_*` keys when `autodiscover = true` and the
    /// defaults (derived candidates, no extra trusted host, internal URL first) otherwise.
    pub fn autodiscover_settings_for(
        &self,
        mailbox: &str,
    ) -> crate::exchange::autodiscover::Settings {
        let exchange = &self.exchange;
        let default = AutodiscoverConfig {
            url: None,
            trusted_hosts: Vec::new(),
            prefer: EwsUrlPreference::Internal,
        };
        let autodiscover = exchange.autodiscover.as_ref().unwrap_or(&default);
        let account = &exchange.accounts[0];
        crate::exchange::autodiscover::Settings {
            mailbox: mailbox.to_owned(),
            credentials: crate::transport::Credentials {
                username: account.username.clone(),
                password: account.password.clone(),
            },
            auth: match exchange.auth {
                AuthKind::Ntlm => crate::transport::AuthScheme::Ntlm,
                AuthKind::Basic => crate::transport::AuthScheme::Basic,
            },
            start_url: autodiscover.url.clone(),
            trusted_hosts: autodiscover.trusted_hosts.clone(),
            prefer: match autodiscover.prefer {
                EwsUrlPreference::Internal => crate::exchange::autodiscover::Preference::Internal,
                EwsUrlPreference::External => crate::exchange::autodiscover::Preference::External,
            },
            ca_file: self.tls.ca_file.clone(),
            channel_binding: self.tls.channel_binding,
            danger_allow_basic_over_http: exchange.danger_allow_basic_over_http,
            connect_timeout: std::time::Duration::from_secs(exchange.connect_timeout_secs),
            request_timeout: std::time::Duration::from_secs(exchange.timeout_secs),
            user_agent: format!("ews-connector/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The settings of the `exchange` room (and its transport).
    ///
    /// # Errors
    /// `exchange.url` is unset: with `autodiscover = true` the caller first sets it to the
    /// discovered URL (as `cli::load_config` and `doctor` do).
    pub fn exchange_settings(&self) -> Result<crate::exchange::Settings, Error> {
        let exchange = &self.exchange;
        let Some(url) = exchange.url.clone() else {
            return Err(Error::invalid(
                "exchange.url",
                "not discovered yet (exchange.autodiscover = true): the EWS URL is found before \
                 the connector talks to Exchange",
            ));
        };
        Ok(crate::exchange::Settings {
            transport: crate::transport::Settings {
                url,
                url_key: Some("exchange.url"),
                auth: match exchange.auth {
                    AuthKind::Ntlm => crate::transport::AuthScheme::Ntlm,
                    AuthKind::Basic => crate::transport::AuthScheme::Basic,
                },
                ca_file: self.tls.ca_file.clone(),
                channel_binding: self.tls.channel_binding,
                danger_accept_invalid_certs: self.tls.danger_accept_invalid_certs,
                danger_allow_basic_over_http: exchange.danger_allow_basic_over_http,
                connect_timeout: std::time::Duration::from_secs(exchange.connect_timeout_secs),
                request_timeout: std::time::Duration::from_secs(exchange.timeout_secs),
                max_connections_per_account: exchange.max_concurrency_per_account,
                user_agent: format!("ews-connector/{}", env!("CARGO_PKG_VERSION")),
            },
            version: exchange.version.clone(),
            accounts: exchange
                .accounts
                .iter()
                .map(|account| crate::exchange::Account {
                    username: account.username.clone(),
                    smtp: account.smtp.clone(),
                    password: account.password.clone(),
                })
                .collect(),
            capture_dir: None,
            retry_budget: std::time::Duration::from_secs(exchange.retry_budget_secs),
            auth_failure_cooldown: std::time::Duration::from_secs(
                exchange.auth_failure_cooldown_secs,
            ),
        })
    }

    /// The settings of the `api` room.
    pub fn api_settings(&self) -> crate::api::Settings {
        crate::api::Settings {
            allowed_domains: self.api.allowed_domains.clone(),
            clients: self
                .api
                .clients
                .iter()
                .map(|client| crate::api::ClientSettings {
                    name: client.name.clone(),
                    token_sha256: client.token_sha256,
                    scopes: client.scopes.clone(),
                })
                .collect(),
            shutdown_grace: std::time::Duration::from_secs(30),
            // The retry budget, one more request timeout, and a margin: past this the API answers
            // 504 rather than keep MyTimetable waiting.
            request_timeout: std::time::Duration::from_secs(
                self.exchange.retry_budget_secs + self.exchange.timeout_secs + 5,
            ),
            readiness_interval: std::time::Duration::from_secs(20),
            limits: crate::api::Limits {
                max_connections: self.api.max_connections,
                header_read_timeout: std::time::Duration::from_secs(
                    self.api.header_read_timeout_secs,
                ),
                idle_timeout: std::time::Duration::from_secs(self.api.idle_timeout_secs),
                body_read_timeout: std::time::Duration::from_secs(self.api.body_read_timeout_secs),
                ..crate::api::Limits::default()
            },
        }
    }

    /// How long a group's ExpandDL answer is reused (`delegation.group_cache_ttl_secs`).
    pub fn group_cache_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.delegation.group_cache_ttl_secs)
    }

    /// The settings of the `delegation` room.
    pub fn delegation_settings(&self) -> crate::delegation::Settings {
        crate::delegation::Settings {
            access: self.exchange.access,
            impersonation: self.exchange.impersonation,
            principal: self.delegation.principal.clone(),
            required: self.delegation.level,
            allowed_principals: self.delegation.allowed_principals.clone(),
            max_level: self.delegation.max_level,
        }
    }
}

impl Config {
    /// The settings of the `push` room.
    pub fn push_settings(&self) -> crate::push::Settings {
        crate::push::Settings {
            access: self.exchange.access,
            batch_size: self.push.batch_size,
            delete_type: self.push.delete_type,
            view_max_entries: self.push.view_max_entries,
        }
    }
}

fn quote(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

fn validate(
    raw: RawConfig,
    environment: &dyn Environment,
    base_dir: &Path,
) -> Result<Config, Error> {
    let exchange = validate_exchange(raw.exchange, environment, base_dir)?;

    let ca_file = raw.tls.ca_file.map(|path| resolve(base_dir, &path));
    if let Some(ca_file) = &ca_file {
        if !ca_file.is_file() {
            return Err(Error::invalid(
                "tls.ca_file",
                format!("{} does not exist or is not a file", ca_file.display()),
            ));
        }
    }
    let tls = TlsConfig {
        ca_file,
        channel_binding: raw.tls.channel_binding,
        danger_accept_invalid_certs: raw.tls.danger_accept_invalid_certs,
    };

    let principal = match raw.delegation.principal {
        Some(principal) => {
            check_smtp("delegation.principal", &principal)?;
            principal
        }
        None => exchange.accounts[0].smtp.clone(),
    };
    let level = raw.delegation.level.unwrap_or_else(|| "Editor".to_owned());
    let grantable = |key: &str, level: &str| -> Result<PermissionLevel, Error> {
        level
            .parse::<PermissionLevel>()
            .ok()
            .filter(|parsed| GRANTABLE_LEVELS.contains(&parsed.as_str()))
            .ok_or_else(|| {
                Error::invalid(
                    key,
                    format!(
                        "`{level}` is not a calendar permission level that can be granted (one of {})",
                        GRANTABLE_LEVELS.join(", ")
                    ),
                )
            })
    };
    let required_level = grantable("delegation.level", &level)?;
    let mut allowed_principals: Vec<String> = Vec::new();
    for (index, allowed) in raw.delegation.allowed_principals.into_iter().enumerate() {
        check_smtp(&format!("delegation.allowed_principals[{index}]"), &allowed)?;
        let duplicate = allowed.eq_ignore_ascii_case(&principal)
            || allowed_principals
                .iter()
                .any(|seen| seen.eq_ignore_ascii_case(&allowed));
        if !duplicate {
            allowed_principals.push(allowed);
        }
    }
    let max_level = raw.delegation.max_level.unwrap_or_else(|| level.clone());
    let maximum = grantable("delegation.max_level", &max_level)?;
    if !required_level.is_within(maximum) {
        return Err(Error::invalid(
            "delegation.max_level",
            format!(
                "`{max_level}` does not grant every right of delegation.level `{level}`: the \
                 highest level a grant may write must include the configured level"
            ),
        ));
    }

    let group_cache_ttl_secs = raw.delegation.group_cache_ttl_secs.unwrap_or(900);
    if !(1..=86_400).contains(&group_cache_ttl_secs) {
        return Err(Error::invalid(
            "delegation.group_cache_ttl_secs",
            "must be between 1 and 86400 (how long a group's membership read with ExpandDL is reused)",
        ));
    }

    let push = validate_push(raw.push, exchange.access)?;

    let listen_text = raw
        .api
        .listen
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        Error::invalid(
            "api.listen",
            format!("`{listen_text}` is not an address:port"),
        )
    })?;
    let mut allowed_domains = Vec::new();
    for (index, domain) in raw.api.allowed_domains.iter().enumerate() {
        let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
        if domain.is_empty() || domain.contains(['@', ' ', '/', ',']) {
            return Err(Error::invalid(
                format!("api.allowed_domains[{index}]"),
                "not a mail domain",
            ));
        }
        allowed_domains.push(domain);
    }
    let mut raw_clients: Vec<(String, RawClient)> = raw
        .api
        .clients
        .into_iter()
        .enumerate()
        .map(|(index, client)| (format!("api.clients[{index}]"), client))
        .collect();
    if let Some(path) = &raw.api.clients_file {
        let path = resolve(base_dir, path);
        let text = std::fs::read_to_string(&path).map_err(|error| {
            Error::invalid(
                "api.clients_file",
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        let file: RawClientsFile = toml::from_str(&text).map_err(|error| {
            Error::invalid(
                "api.clients_file",
                format!("{}: {}", path.display(), error.message()),
            )
        })?;
        raw_clients.extend(
            file.clients
                .into_iter()
                .enumerate()
                .map(|(index, client)| (format!("api.clients_file clients[{index}]"), client)),
        );
    }
    let mut clients = Vec::new();
    for (key, client) in raw_clients {
        if client.name.trim().is_empty() {
            return Err(Error::invalid(format!("{key}.name"), "must not be empty"));
        }
        let digest = hex::decode(client.token_sha256.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        let Some(token_sha256) = digest else {
            return Err(Error::invalid(
                format!("{key}.token_sha256"),
                "must be 64 hex digits (the SHA-256 of the token; `ews-connector token new` prints one)",
            ));
        };
        for scope in &client.scopes {
            if !KNOWN_SCOPES.contains(&scope.as_str()) {
                return Err(Error::invalid(
                    format!("{key}.scopes"),
                    format!(
                        "unknown scope `{scope}` (known: {})",
                        KNOWN_SCOPES.join(", ")
                    ),
                ));
            }
        }
        clients.push(ApiClient {
            name: client.name,
            token_sha256,
            scopes: client.scopes,
        });
    }

    let limits = crate::api::Limits::default();
    let bounded =
        |key: &str, value: Option<u64>, default: u64, range: std::ops::RangeInclusive<u64>| {
            let value = value.unwrap_or(default);
            if range.contains(&value) {
                Ok(value)
            } else {
                Err(Error::invalid(
                    key,
                    format!(
                        "{value} is not between {} and {}",
                        range.start(),
                        range.end()
                    ),
                ))
            }
        };
    let max_connections = bounded(
        "api.max_connections",
        raw.api.max_connections.map(|value| value as u64),
        limits.max_connections as u64,
        1..=1_000_000,
    )? as usize;
    let header_read_timeout_secs = bounded(
        "api.header_read_timeout_secs",
        raw.api.header_read_timeout_secs,
        limits.header_read_timeout.as_secs(),
        1..=600,
    )?;
    let idle_timeout_secs = bounded(
        "api.idle_timeout_secs",
        raw.api.idle_timeout_secs,
        limits.idle_timeout.as_secs(),
        1..=3600,
    )?;
    let body_read_timeout_secs = bounded(
        "api.body_read_timeout_secs",
        raw.api.body_read_timeout_secs,
        limits.body_read_timeout.as_secs(),
        1..=3600,
    )?;

    let audit_path = raw
        .audit
        .path
        .map(|path| resolve(base_dir, &path))
        .unwrap_or_else(|| PathBuf::from("audit.jsonl"));

    let (graph, routing) = graph::validate(raw.graph, raw.routing, base_dir)?;

    if tracing_subscriber::EnvFilter::try_new(&raw.log.level).is_err() {
        return Err(Error::invalid(
            "log.level",
            format!("`{}` is not a log level or filter", raw.log.level),
        ));
    }

    Ok(Config {
        exchange,
        tls,
        delegation: DelegationConfig {
            principal,
            level: required_level,
            allowed_principals,
            max_level: maximum,
            group_cache_ttl_secs,
        },
        push,
        api: ApiConfig {
            listen,
            allowed_domains,
            clients,
            max_connections,
            header_read_timeout_secs,
            idle_timeout_secs,
            body_read_timeout_secs,
        },
        audit: AuditConfig { path: audit_path },
        log: LogConfig {
            format: raw.log.format,
            level: raw.log.level,
        },
        graph,
        routing,
    })
}

fn validate_push(raw: RawPush, access: AccessMode) -> Result<PushConfig, Error> {
    if !(1..=100).contains(&raw.batch_size) {
        return Err(Error::invalid(
            "push.batch_size",
            format!(
                "{} is not between 1 and 100 (items per EWS request)",
                raw.batch_size
            ),
        ));
    }
    let Some(delete_type) = DeleteType::parse(&raw.delete_type) else {
        return Err(Error::invalid(
            "push.delete_type",
            format!(
                "`{}` is not one of HardDelete, SoftDelete, MoveToDeletedItems",
                raw.delete_type
            ),
        ));
    };
    // Exchange refuses a delegate's MoveToDeletedItems per item (ErrorCannotDeleteObject): the
    // item would go to the owner's Deleted Items, which a delegate cannot write. Refused here so
    // that no push ever finds out one event at a time.
    if access == AccessMode::Delegate && delete_type == DeleteType::MoveToDeletedItems {
        return Err(Error::invalid(
            "push.delete_type",
            "`MoveToDeletedItems` cannot work with exchange.access = \"delegate\": Exchange refuses \
             it for a delegate (ErrorCannotDeleteObject), which cannot move items into the \
             owner's Deleted Items; use SoftDelete or HardDelete, or exchange.access = \
             \"impersonation\"",
        ));
    }
    if !(1..=1000).contains(&raw.view_max_entries) {
        return Err(Error::invalid(
            "push.view_max_entries",
            format!("{} is not between 1 and 1000", raw.view_max_entries),
        ));
    }
    Ok(PushConfig {
        batch_size: raw.batch_size,
        delete_type,
        view_max_entries: raw.view_max_entries,
    })
}

fn validate_exchange(
    raw: RawExchange,
    environment: &dyn Environment,
    base_dir: &Path,
) -> Result<ExchangeConfig, Error> {
    let autodiscover_keys_without_autodiscover = !raw.autodiscover
        && (raw.autodiscover_url.is_some() || !raw.autodiscover_trusted_hosts.is_empty());
    if autodiscover_keys_without_autodiscover {
        return Err(Error::invalid(
            "exchange.autodiscover",
            "exchange.autodiscover_url and exchange.autodiscover_trusted_hosts need exchange.autodiscover = true",
        ));
    }
    let (url, autodiscover) = match (raw.url, raw.autodiscover) {
        (Some(_), true) => {
            return Err(Error::invalid(
                "exchange.autodiscover",
                "exchange.url and exchange.autodiscover = true are both set: keep exchange.url (preferred: it rarely changes) or remove it to discover the URL",
            ));
        }
        (Some(url_text), false) => (Some(parse_http_url("exchange.url", &url_text)?), None),
        (None, true) => {
            let start = raw
                .autodiscover_url
                .as_deref()
                .map(|text| parse_http_url("exchange.autodiscover_url", text))
                .transpose()?;
            let mut trusted_hosts = Vec::new();
            for (index, host) in raw.autodiscover_trusted_hosts.iter().enumerate() {
                let host = host.trim().trim_start_matches('.').to_ascii_lowercase();
                if host.is_empty() || host.contains(['@', ' ', '/', ',', ':']) {
                    return Err(Error::invalid(
                        format!("exchange.autodiscover_trusted_hosts[{index}]"),
                        "not a host name (write mail.uni.example, no scheme or port)",
                    ));
                }
                trusted_hosts.push(host);
            }
            (
                None,
                Some(AutodiscoverConfig {
                    url: start,
                    trusted_hosts,
                    prefer: raw.autodiscover_prefer,
                }),
            )
        }
        (None, false) => {
            return Err(Error::invalid(
                "exchange.url",
                "missing (https://<server>/EWS/Exchange.asmx, or exchange.autodiscover = true)",
            ));
        }
    };
    if !crate::ews::is_known_version(&raw.version) {
        return Err(Error::invalid(
            "exchange.version",
            format!(
                "`{}` is not a RequestServerVersion value (use Exchange2013_SP1 for 2013/2016/2019, or Exchange2016; there is no Exchange2019)",
                raw.version
            ),
        ));
    }
    if raw.access == AccessMode::Impersonation && !raw.impersonation {
        return Err(Error::invalid(
            "exchange.access",
            "is `impersonation` but exchange.impersonation is false",
        ));
    }
    let plain_http = url.as_ref().is_some_and(|url| url.scheme() == "http");
    if raw.auth == AuthKind::Basic && plain_http && !raw.danger_allow_basic_over_http {
        return Err(Error::invalid(
            "exchange.auth",
            "Basic sends the password in every request: it needs an https:// url (lab only: danger_allow_basic_over_http = true)",
        ));
    }
    if raw.timeout_secs == 0 {
        return Err(Error::invalid(
            "exchange.timeout_secs",
            "must be at least 1",
        ));
    }
    if raw.connect_timeout_secs == 0 {
        return Err(Error::invalid(
            "exchange.connect_timeout_secs",
            "must be at least 1",
        ));
    }
    if raw.max_concurrency_per_account == 0 || raw.max_concurrency_per_account > 256 {
        return Err(Error::invalid(
            "exchange.max_concurrency_per_account",
            "must be between 1 and 256 (Microsoft advises 10; Exchange's default EWSMaxConcurrency is 27)",
        ));
    }
    if raw.retry_budget_secs > 3600 {
        return Err(Error::invalid(
            "exchange.retry_budget_secs",
            "must be at most 3600 (a caller waits this long at worst; 0 means no retries)",
        ));
    }
    if raw.auth_failure_cooldown_secs < 60 {
        return Err(Error::invalid(
            "exchange.auth_failure_cooldown_secs",
            "must be at least 60 (each try with a wrong password counts towards the Active Directory lockout)",
        ));
    }
    if raw.accounts.is_empty() {
        return Err(Error::invalid(
            "exchange.accounts",
            "at least one [[exchange.accounts]] entry is needed",
        ));
    }
    let mut accounts: Vec<Account> = Vec::new();
    for (index, account) in raw.accounts.into_iter().enumerate() {
        let key = format!("exchange.accounts[{index}]");
        check_username(&format!("{key}.username"), &account.username)?;
        check_smtp(&format!("{key}.smtp"), &account.smtp)?;
        if accounts
            .iter()
            .any(|other| other.username.eq_ignore_ascii_case(&account.username))
        {
            return Err(Error::invalid(format!("{key}.username"), "appears twice"));
        }
        let (password, password_source) = match (account.password_file, account.password_env) {
            (Some(path), None) => {
                let path = credentials_path(&path, environment)
                    .map_err(|reason| Error::invalid(format!("{key}.password_file"), reason))?;
                let path = resolve(base_dir, &path);
                let password = read_password_file(&path)
                    .map_err(|reason| Error::invalid(format!("{key}.password_file"), reason))?;
                (password, PasswordSource::File(path))
            }
            (None, Some(name)) => {
                let Some(value) = environment.var(&name) else {
                    return Err(Error::invalid(
                        format!("{key}.password_env"),
                        format!("the environment variable {name} is not set"),
                    ));
                };
                if value.is_empty() {
                    return Err(Error::invalid(
                        format!("{key}.password_env"),
                        format!("the environment variable {name} is empty"),
                    ));
                }
                (Secret::new(value), PasswordSource::Env(name))
            }
            _ => {
                return Err(Error::invalid(
                    key,
                    "needs exactly one of password_file or password_env (passwords are never written in the file itself)",
                ));
            }
        };
        accounts.push(Account {
            username: account.username,
            smtp: account.smtp,
            password,
            password_source,
        });
    }
    Ok(ExchangeConfig {
        url,
        autodiscover,
        version: raw.version,
        auth: raw.auth,
        access: raw.access,
        impersonation: raw.impersonation,
        timeout_secs: raw.timeout_secs,
        connect_timeout_secs: raw.connect_timeout_secs,
        max_concurrency_per_account: raw.max_concurrency_per_account,
        retry_budget_secs: raw.retry_budget_secs,
        auth_failure_cooldown_secs: raw.auth_failure_cooldown_secs,
        danger_allow_basic_over_http: raw.danger_allow_basic_over_http,
        accounts,
    })
}

impl Config {
    /// Reads every account's password again from its file or variable (on SIGHUP).
    ///
    /// Returns `(username, password)` for the accounts whose password could be read, and one
    /// message (naming the key, never the value) per account whose password could not.
    pub fn reread_passwords(&self) -> (Vec<(String, Secret)>, Vec<String>) {
        let mut passwords = Vec::new();
        let mut problems = Vec::new();
        for (index, account) in self.exchange.accounts.iter().enumerate() {
            let result = match &account.password_source {
                PasswordSource::File(path) => read_password_file(path),
                PasswordSource::Env(name) => std::env::var(name)
                    .ok()
                    .filter(|value| !value.is_empty())
                    .map(Secret::new)
                    .ok_or_else(|| format!("the environment variable {name} is not set or empty")),
            };
            match result {
                Ok(password) => passwords.push((account.username.clone(), password)),
                Err(reason) => problems.push(format!("exchange.accounts[{index}]: {reason}")),
            }
        }
        (passwords, problems)
    }
}

impl Config {
    /// Reads the Graph credential again from its file (on SIGHUP): `None` without `[graph]`,
    /// else the credential or the reason (naming the key, never the value) it cannot be used.
    pub fn reread_graph_credential(
        &self,
    ) -> Option<Result<crate::graph::auth::Credential, String>> {
        let graph = self.graph.as_ref()?;
        let source = &graph.credential_source;
        Some(
            source
                .read()
                .map_err(|reason| format!("{}: {reason}", source.key())),
        )
    }
}

/// The largest secret file read (a password is one short line, a PEM certificate chain with its
/// key a few KiB): a file named by mistake (a log, a device) must not be read whole.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Reads a file that holds a secret (`holds`: "password", "credential") whole into a buffer that
/// is wiped when dropped; refused when (on Unix) others can write it, or when it is larger than
/// 64 KiB (`not_a` says what it then is not).
///
/// # Errors
/// The reason, in words naming the file.
pub(crate) fn read_secret_file(
    path: &Path,
    holds: &str,
    not_a: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    use std::io::Read as _;

    let cannot_read = |error: std::io::Error| format!("cannot read {}: {error}", path.display());
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let metadata = file.metadata().map_err(cannot_read)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(format!(
                "{} can be written by others (mode {mode:04o}): anyone on this host could replace the {holds}; chmod 600 {} and make the service user its owner",
                path.display(),
                path.display()
            ));
        }
    }
    let too_large = || format!("{} is larger than 64 KiB: {not_a}", path.display());
    if metadata.len() > MAX_SECRET_FILE_BYTES {
        return Err(too_large());
    }
    // Sized up front so the buffer never grows: a reallocation would leave a copy behind.
    let capacity = usize::try_from(metadata.len()).unwrap_or(0) + 1;
    let mut buffer = zeroize::Zeroizing::new(Vec::with_capacity(capacity));
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut buffer)
        .map_err(cannot_read)?;
    if buffer.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(too_large());
    }
    Ok(buffer)
}

/// Reads the first line of a password file, without its line ending. The buffer the file is
/// read into is wiped (zeroed) before it is freed; only the returned [`Secret`] holds the
/// password afterwards.
///
/// # Errors
/// The reason, in words, when the file cannot be read, holds no password, is larger than
/// 64 KiB, or (on Unix) can be written by others: anyone on the host could then replace the
/// password, so such a file is refused.
pub fn read_password_file(path: &Path) -> Result<Secret, String> {
    let buffer = read_secret_file(
        path,
        "password",
        "not a password file (the password is its first line)",
    )?;
    let text = std::str::from_utf8(&buffer)
        .map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
    let first_line = text.lines().next().unwrap_or("");
    let first_line = first_line.strip_suffix('\r').unwrap_or(first_line);
    if first_line.is_empty() {
        return Err(format!(
            "{} is empty (the password is its first line)",
            path.display()
        ));
    }
    Ok(Secret::new(first_line))
}

/// The variable systemd sets to the directory of a unit's `LoadCredential=` files.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// Expands a leading `$CREDENTIALS_DIRECTORY/` (or `${CREDENTIALS_DIRECTORY}/`) in a
/// `password_file`, so one configuration works under systemd's `LoadCredential=`.
///
/// # Errors
/// The reason, in words, when the path names the variable and it is not set.
fn credentials_path(path: &Path, environment: &dyn Environment) -> Result<PathBuf, String> {
    let text = path.to_string_lossy();
    let rest = ["$CREDENTIALS_DIRECTORY/", "${CREDENTIALS_DIRECTORY}/"]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix));
    let Some(rest) = rest else {
        return Ok(path.to_owned());
    };
    match environment.var(CREDENTIALS_DIRECTORY) {
        Some(directory) if !directory.is_empty() => Ok(Path::new(&directory).join(rest)),
        _ => Err(format!(
            "names ${CREDENTIALS_DIRECTORY}, which is not set (systemd sets it for units with LoadCredential=)"
        )),
    }
}

/// Parses an `http(s)://host/...` value of `key`.
fn parse_http_url(key: &str, text: &str) -> Result<url::Url, Error> {
    let url = url::Url::parse(text)
        .map_err(|error| Error::invalid(key, format!("`{text}` is not a URL: {error}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(Error::invalid(
            key,
            "must start with https:// (or http:// in a lab)",
        ));
    }
    if url.host_str().is_none() {
        return Err(Error::invalid(key, "has no host"));
    }
    Ok(url)
}

fn resolve(base_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base_dir.join(path)
    }
}

fn check_username(key: &str, username: &str) -> Result<(), Error> {
    if username.trim().is_empty() || username.chars().any(char::is_control) {
        return Err(Error::invalid(
            key,
            "must be DOMAIN\\user or user@upn.example",
        ));
    }
    if let Some((domain, user)) = username.split_once('\\') {
        if domain.is_empty() || user.is_empty() || user.contains('\\') {
            return Err(Error::invalid(
                key,
                "must be DOMAIN\\user or user@upn.example",
            ));
        }
    }
    Ok(())
}

fn check_smtp(key: &str, address: &str) -> Result<(), Error> {
    let valid = address.len() <= 254
        && address.matches('@').count() == 1
        && !address.starts_with('@')
        && !address.ends_with('@')
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\";,".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            key,
            format!("`{address}` is not an SMTP address"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::{AccessMode, Config, Error};
    use crate::delegation::PermissionLevel;

    fn load(toml_text: &str, overrides: &[(&str, &str)]) -> Result<Config, Error> {
        let overrides: HashMap<String, String> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let environment: HashMap<String, String> =
            [("SA1_PASSWORD".to_owned(), "env-secret".to_owned())]
                .into_iter()
                .collect();
        Config::from_sources(toml_text, &overrides, &environment, Path::new("."))
    }

    const MINIMAL: &str = r#"
[exchange]
url = "https://mail.uni.example/EWS/Exchange.asmx"

[[exchange.accounts]]
username = 'UNI\sa-mytt-exch-1'
smtp = "sa-mytt-exch-1@uni.example"
password_env = "SA1_PASSWORD"
"#;

    fn invalid_key(result: Result<Config, Error>) -> String {
        match result {
            Err(Error::Invalid { key, .. }) => key,
            Err(other) => panic!("expected an invalid key, got {other}"),
            Ok(_) => panic!("expected an error"),
        }
    }

    #[test]
    fn minimal_file_gets_safe_defaults() {
        let config = load(MINIMAL, &[]).unwrap();
        assert_eq!(config.exchange.version, "Exchange2013_SP1");
        assert_eq!(config.exchange.access, AccessMode::Delegate);
        assert!(config.tls.channel_binding);
        assert!(!config.tls.danger_accept_invalid_certs);
        assert_eq!(config.exchange.max_concurrency_per_account, 10);
        assert_eq!(config.delegation.principal, "sa-mytt-exch-1@uni.example");
        assert_eq!(config.delegation.level, PermissionLevel::Editor);
        assert!(config.delegation.allowed_principals.is_empty());
        assert_eq!(config.delegation.max_level, PermissionLevel::Editor);
        assert_eq!(config.delegation.group_cache_ttl_secs, 900);
        assert_eq!(config.api.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.exchange.accounts[0].password.expose(), "env-secret");
    }

    #[test]
    fn retry_budget_and_auth_cooldown_reach_the_exchange_settings() {
        let defaults = load(MINIMAL, &[]).unwrap().exchange_settings().unwrap();
        assert_eq!(defaults.retry_budget, std::time::Duration::from_secs(60));
        assert_eq!(
            defaults.auth_failure_cooldown,
            std::time::Duration::from_secs(900)
        );
        let text = MINIMAL.replace(
            "[[exchange.accounts]]",
            "retry_budget_secs = 5\nauth_failure_cooldown_secs = 120\n\n[[exchange.accounts]]",
        );
        let config = load(&text, &[]).unwrap();
        let settings = config.exchange_settings().unwrap();
        assert_eq!(settings.retry_budget, std::time::Duration::from_secs(5));
        assert_eq!(
            settings.auth_failure_cooldown,
            std::time::Duration::from_secs(120)
        );
        assert!(
            config
                .render_effective()
                .contains("auth_failure_cooldown_secs = 120")
        );
        let too_short = MINIMAL.replace(
            "[[exchange.accounts]]",
            "auth_failure_cooldown_secs = 5\n\n[[exchange.accounts]]",
        );
        assert_eq!(
            invalid_key(load(&too_short, &[])),
            "exchange.auth_failure_cooldown_secs"
        );
        let too_long = MINIMAL.replace(
            "[[exchange.accounts]]",
            "retry_budget_secs = 86400\n\n[[exchange.accounts]]",
        );
        assert_eq!(
            invalid_key(load(&too_long, &[])),
            "exchange.retry_budget_secs"
        );
    }

    #[test]
    fn the_group_cache_ttl_is_validated_and_shown() {
        let config = load(
            &format!("{MINIMAL}\n[delegation]\ngroup_cache_ttl_secs = 60\n"),
            &[],
        )
        .unwrap();
        assert_eq!(config.delegation.group_cache_ttl_secs, 60);
        assert!(
            config
                .render_effective()
                .contains("group_cache_ttl_secs = 60")
        );
        for bad in ["0", "86401"] {
            assert_eq!(
                invalid_key(load(
                    &format!("{MINIMAL}\n[delegation]\ngroup_cache_ttl_secs = {bad}\n"),
                    &[]
                )),
                "delegation.group_cache_ttl_secs"
            );
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load(
            MINIMAL,
            &[
                (
                    "EWSC__EXCHANGE__URL",
                    "https://other.uni.example/EWS/Exchange.asmx",
                ),
                ("EWSC__EXCHANGE__TIMEOUT_SECS", "5"),
                ("EWSC__TLS__CHANNEL_BINDING", "false"),
                (
                    "EWSC__API__ALLOWED_DOMAINS",
                    "uni.example,staff.uni.example",
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            config.exchange.url.as_ref().and_then(|url| url.host_str()),
            Some("other.uni.example")
        );
        assert_eq!(config.exchange.timeout_secs, 5);
        assert!(!config.tls.channel_binding);
        assert_eq!(
            config.api.allowed_domains,
            vec!["uni.example", "staff.uni.example"]
        );
    }

    #[test]
    fn the_access_mode_is_read_once_into_the_one_type() {
        let impersonation = load(MINIMAL, &[("EWSC__EXCHANGE__ACCESS", "impersonation")]).unwrap();
        assert_eq!(impersonation.exchange.access, AccessMode::Impersonation);
        assert_eq!(
            impersonation.delegation_settings().access,
            AccessMode::Impersonation
        );
        assert_eq!(
            impersonation.push_settings().access,
            AccessMode::Impersonation
        );
        assert!(
            impersonation
                .render_effective()
                .contains("access = \"impersonation\"")
        );
        let error = load(MINIMAL, &[("EWSC__EXCHANGE__ACCESS", "owner")])
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown variant `owner`"), "{error}");
        assert!(error.contains("`delegate` or `impersonation`"), "{error}");
    }

    #[test]
    fn unknown_key_is_an_error_that_names_it() {
        let text = MINIMAL.replace("[exchange]", "[exchange]\ntimeout_sec = 5");
        let error = load(&text, &[]).unwrap_err().to_string();
        assert!(error.contains("timeout_sec"), "{error}");
        let text = format!("{MINIMAL}\n[tls]\nchanel_binding = false\n");
        let error = load(&text, &[]).unwrap_err().to_string();
        assert!(error.contains("chanel_binding"), "{error}");
    }

    #[test]
    fn invalid_values_name_their_key() {
        assert_eq!(
            invalid_key(load(
                &MINIMAL.replace(
                    "Exchange.asmx\"",
                    "Exchange.asmx\"\nversion = \"Exchange2019\""
                ),
                &[]
            )),
            "exchange.version"
        );
        assert_eq!(
            invalid_key(load(
                &format!("{MINIMAL}\n[delegation]\nlevel = \"Custom\"\n"),
                &[]
            )),
            "delegation.level"
        );
        assert_eq!(
            invalid_key(load(
                &MINIMAL.replace("password_env = \"SA1_PASSWORD\"", "password_env = \"NOPE\""),
                &[]
            )),
            "exchange.accounts[0].password_env"
        );
        assert_eq!(
            invalid_key(load(
                &MINIMAL.replace(
                    "password_env = \"SA1_PASSWORD\"",
                    "password_file = \"/nonexistent/pw\""
                ),
                &[]
            )),
            "exchange.accounts[0].password_file"
        );
        assert_eq!(
            invalid_key(load(
                &format!("{MINIMAL}\n[[api.clients]]\nname = \"x\"\ntoken_sha256 = \"abc\"\n"),
                &[]
            )),
            "api.clients[0].token_sha256"
        );
        assert_eq!(
            invalid_key(load(
                &MINIMAL
                    .replace("https://mail", "http://mail")
                    .replace("[exchange]", "[exchange]\nauth = \"basic\""),
                &[]
            )),
            "exchange.auth"
        );
        assert_eq!(
            invalid_key(load(
                &MINIMAL.replace("smtp = \"sa-mytt-exch-1@uni.example\"", "smtp = \"nope\""),
                &[]
            )),
            "exchange.accounts[0].smtp"
        );
    }

    #[test]
    fn the_delegation_allow_list_and_maximum_level_are_validated_and_shown() {
        let text = format!(
            "{MINIMAL}\n[delegation]\nprincipal = \"push@uni.example\"\nlevel = \"Author\"\n\
             allowed_principals = [\"Helpdesk@uni.example\", \"helpdesk@UNI.example\", \"PUSH@uni.example\"]\n\
             max_level = \"Editor\"\n"
        );
        let config = load(&text, &[]).unwrap();
        // Duplicates (in any case, the principal itself included) are kept once.
        assert_eq!(
            config.delegation.allowed_principals,
            ["Helpdesk@uni.example"]
        );
        let settings = config.delegation_settings();
        assert_eq!(
            settings.max_level,
            crate::delegation::PermissionLevel::Editor
        );
        assert_eq!(
            settings.required,
            crate::delegation::PermissionLevel::Author
        );
        let shown = config.render_effective();
        assert!(
            shown.contains(
                "allowed_principals = [\"Helpdesk@uni.example\"]\nmax_level = \"Editor\""
            ),
            "{shown}"
        );

        // Without the keys: only the principal, at most the configured level.
        let shown = load(MINIMAL, &[]).unwrap().render_effective();
        assert!(
            shown.contains("allowed_principals = []\nmax_level = \"Editor\""),
            "{shown}"
        );

        // The list from the environment, comma-separated.
        let config = load(
            MINIMAL,
            &[(
                "EWSC__DELEGATION__ALLOWED_PRINCIPALS",
                "a@uni.example,b@uni.example",
            )],
        )
        .unwrap();
        assert_eq!(
            config.delegation.allowed_principals,
            ["a@uni.example", "b@uni.example"]
        );

        let cases = [
            (
                "allowed_principals = [\"not an address\"]",
                "delegation.allowed_principals[0]",
            ),
            (
                "allowed_principals = [\"a@uni.example\", \"<b@uni.example>\"]",
                "delegation.allowed_principals[1]",
            ),
            ("max_level = \"Custom\"", "delegation.max_level"),
            ("max_level = \"Boss\"", "delegation.max_level"),
            // Below the default level Editor.
            ("max_level = \"Reviewer\"", "delegation.max_level"),
            // Not below Editor, but not above it either: it may not change others' items.
            ("max_level = \"PublishingAuthor\"", "delegation.max_level"),
            (
                "level = \"Owner\"\nmax_level = \"PublishingEditor\"",
                "delegation.max_level",
            ),
        ];
        for (lines, key) in cases {
            let text = format!("{MINIMAL}\n[delegation]\n{lines}\n");
            let error = load(&text, &[]).unwrap_err();
            assert!(
                matches!(&error, Error::Invalid { key: named, .. } if named == key),
                "{lines}: {error}"
            );
            if key == "delegation.max_level" && lines.contains("Reviewer") {
                assert!(
                    error.to_string().contains("delegation.level `Editor`"),
                    "{error}"
                );
            }
        }
        // A higher configured level raises the default maximum with it.
        let config = load(
            &format!("{MINIMAL}\n[delegation]\nlevel = \"Owner\"\n"),
            &[],
        )
        .unwrap();
        assert_eq!(config.delegation.max_level, PermissionLevel::Owner);
    }

    #[test]
    fn autodiscover_is_accepted_without_url_and_refused_with_it() {
        let text = MINIMAL.replace(
            "url = \"https://mail.uni.example/EWS/Exchange.asmx\"",
            "autodiscover = true\nautodiscover_trusted_hosts = [\"Mail.Partner.example\"]",
        );
        let config = load(&text, &[]).unwrap();
        assert!(config.exchange.url.is_none());
        let autodiscover = config.exchange.autodiscover.as_ref().unwrap();
        assert_eq!(autodiscover.trusted_hosts, vec!["mail.partner.example"]);
        assert_eq!(autodiscover.prefer, super::EwsUrlPreference::Internal);
        let settings = config.autodiscover_settings().unwrap();
        assert_eq!(settings.mailbox, "sa-mytt-exch-1@uni.example");
        assert_eq!(settings.start_url, None);
        assert!(config.render_effective().contains("autodiscover = true"));
        // Until the URL is discovered there are no Exchange settings: an error naming the key,
        // not a panic; once it is set, they carry it.
        let undiscovered = config.exchange_settings().unwrap_err().to_string();
        assert!(undiscovered.starts_with("exchange.url: "), "{undiscovered}");
        let mut discovered = config.clone();
        discovered.exchange.url = Some(
            "https://mail.uni.example/EWS/Exchange.asmx"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            discovered
                .exchange_settings()
                .unwrap()
                .transport
                .url
                .as_str(),
            "https://mail.uni.example/EWS/Exchange.asmx"
        );

        let overridden = load(
            &text,
            &[
                (
                    "EWSC__EXCHANGE__AUTODISCOVER_URL",
                    "http://127.0.0.1:8443/autodiscover/autodiscover.svc",
                ),
                (
                    "EWSC__EXCHANGE__AUTODISCOVER_TRUSTED_HOSTS",
                    "a.example,b.example",
                ),
                ("EWSC__EXCHANGE__AUTODISCOVER_PREFER", "external"),
            ],
        )
        .unwrap();
        let settings = overridden.autodiscover_settings().unwrap();
        assert_eq!(
            settings.start_url.unwrap().as_str(),
            "http://127.0.0.1:8443/autodiscover/autodiscover.svc"
        );
        assert_eq!(settings.trusted_hosts, vec!["a.example", "b.example"]);
        assert_eq!(
            settings.prefer,
            crate::exchange::autodiscover::Preference::External
        );

        let both = MINIMAL.replace("[exchange]", "[exchange]\nautodiscover = true");
        let error = load(&both, &[]).unwrap_err().to_string();
        assert!(
            error.contains("exchange.url") && error.contains("exchange.autodiscover"),
            "{error}"
        );
        let stray = MINIMAL.replace(
            "[exchange]",
            "[exchange]\nautodiscover_url = \"https://a.uni.example/autodiscover/autodiscover.svc\"",
        );
        assert_eq!(invalid_key(load(&stray, &[])), "exchange.autodiscover");
        let bad_url = text.replace(
            "autodiscover = true",
            "autodiscover = true\nautodiscover_url = \"ftp://a.uni.example/x\"",
        );
        assert_eq!(
            invalid_key(load(&bad_url, &[])),
            "exchange.autodiscover_url"
        );
    }

    #[test]
    fn passwords_are_read_again_from_their_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "first\n").unwrap();
        let text = MINIMAL.replace("password_env = \"SA1_PASSWORD\"", "password_file = \"pw\"");
        let config =
            Config::from_sources(&text, &HashMap::new(), &HashMap::new(), dir.path()).unwrap();
        std::fs::write(dir.path().join("pw"), "second\n").unwrap();
        let (passwords, problems) = config.reread_passwords();
        assert!(problems.is_empty());
        assert_eq!(passwords[0].0, r"UNI\sa-mytt-exch-1");
        assert_eq!(passwords[0].1.expose(), "second");
        std::fs::remove_file(dir.path().join("pw")).unwrap();
        let (passwords, problems) = config.reread_passwords();
        assert!(passwords.is_empty());
        assert!(
            problems[0].starts_with("exchange.accounts[0]"),
            "{problems:?}"
        );
    }

    #[test]
    fn api_clients_may_come_from_a_separate_file() {
        let dir = tempfile::tempdir().unwrap();
        let hash = "ab".repeat(32);
        std::fs::write(
            dir.path().join("clients.toml"),
            format!(
                "[[clients]]\nname = \"mytimetable\"\ntoken_sha256 = \"{hash}\"\nscopes = [\"calendar:check\"]\n"
            ),
        )
        .unwrap();
        let environment: HashMap<String, String> = [("SA1_PASSWORD".to_owned(), "x".to_owned())]
            .into_iter()
            .collect();
        let text = format!(
            "{MINIMAL}\n[api]\nclients_file = \"clients.toml\"\n\n[[api.clients]]\nname = \"inline\"\ntoken_sha256 = \"{}\"\n",
            "cd".repeat(32)
        );
        let config =
            Config::from_sources(&text, &HashMap::new(), &environment, dir.path()).unwrap();
        let names: Vec<&str> = config.api.clients.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["inline", "mytimetable"]);
        assert_eq!(config.api.clients[1].token_sha256, [0xab; 32]);

        std::fs::write(
            dir.path().join("clients.toml"),
            "[[clients]]\nname = \"x\"\ntoken_sha256 = \"nothex\"\n",
        )
        .unwrap();
        let error =
            Config::from_sources(&text, &HashMap::new(), &environment, dir.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("api.clients_file clients[0].token_sha256"),
            "{error}"
        );
        std::fs::remove_file(dir.path().join("clients.toml")).unwrap();
        assert_eq!(
            invalid_key(Config::from_sources(
                &text,
                &HashMap::new(),
                &environment,
                dir.path()
            )),
            "api.clients_file"
        );
    }

    #[test]
    fn password_file_may_live_in_the_systemd_credentials_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sa1.password"), "from-systemd\n").unwrap();
        let environment: HashMap<String, String> = [(
            "CREDENTIALS_DIRECTORY".to_owned(),
            dir.path().display().to_string(),
        )]
        .into_iter()
        .collect();
        for spelling in ["$CREDENTIALS_DIRECTORY", "${CREDENTIALS_DIRECTORY}"] {
            let text = MINIMAL.replace(
                "password_env = \"SA1_PASSWORD\"",
                &format!("password_file = \"{spelling}/sa1.password\""),
            );
            let config =
                Config::from_sources(&text, &HashMap::new(), &environment, Path::new("/etc"))
                    .unwrap();
            assert_eq!(
                config.exchange.accounts[0].password.expose(),
                "from-systemd"
            );
            assert!(
                config
                    .render_effective()
                    .contains(&dir.path().join("sa1.password").display().to_string())
            );
        }
        let text = MINIMAL.replace(
            "password_env = \"SA1_PASSWORD\"",
            "password_file = \"$CREDENTIALS_DIRECTORY/sa1.password\"",
        );
        let error = Config::from_sources(&text, &HashMap::new(), &HashMap::new(), Path::new("."))
            .unwrap_err();
        assert!(
            matches!(&error, Error::Invalid { key, .. } if key == "exchange.accounts[0].password_file"),
            "{error}"
        );
        assert!(
            error.to_string().contains("CREDENTIALS_DIRECTORY"),
            "{error}"
        );
    }

    #[test]
    fn password_file_first_line_without_newline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "S3cret pass\r\nsecond line\n").unwrap();
        let text = MINIMAL.replace("password_env = \"SA1_PASSWORD\"", "password_file = \"pw\"");
        let config =
            Config::from_sources(&text, &HashMap::new(), &HashMap::new(), dir.path()).unwrap();
        assert_eq!(config.exchange.accounts[0].password.expose(), "S3cret pass");
        let rendered = config.render_effective();
        assert!(!rendered.contains("S3cret"), "{rendered}");
        assert!(rendered.contains("password = \"***\""), "{rendered}");
        assert!(!format!("{config:?}").contains("S3cret"));
    }
    #[test]
    fn push_keys_have_defaults_limits_and_overrides() {
        let config = load(MINIMAL, &[]).unwrap();
        let settings = config.push_settings();
        assert_eq!(settings.batch_size, 50);
        assert_eq!(settings.delete_type, crate::push::DeleteType::SoftDelete);
        assert_eq!(settings.view_max_entries, 1000);
        assert_eq!(settings.access, crate::domain::AccessMode::Delegate);

        let config = load(
            &format!("{MINIMAL}\n[push]\nbatch_size = 100\ndelete_type = \"MoveToDeletedItems\"\n"),
            &[
                ("EWSC__PUSH__VIEW_MAX_ENTRIES", "200"),
                ("EWSC__EXCHANGE__ACCESS", "impersonation"),
            ],
        )
        .unwrap();
        let settings = config.push_settings();
        assert_eq!(settings.batch_size, 100);
        assert_eq!(
            settings.delete_type,
            crate::push::DeleteType::MoveToDeletedItems
        );
        assert_eq!(settings.view_max_entries, 200);
        assert!(
            config
                .render_effective()
                .contains("delete_type = \"MoveToDeletedItems\"")
        );

        for (text, key) in [
            ("batch_size = 101", "push.batch_size"),
            ("batch_size = 0", "push.batch_size"),
            ("delete_type = \"Shred\"", "push.delete_type"),
            ("view_max_entries = 5000", "push.view_max_entries"),
        ] {
            assert_eq!(
                invalid_key(load(&format!("{MINIMAL}\n[push]\n{text}\n"), &[])),
                key,
                "{text}"
            );
        }
    }

    #[test]
    fn move_to_deleted_items_is_refused_for_a_delegate() {
        let text = format!("{MINIMAL}\n[push]\ndelete_type = \"MoveToDeletedItems\"\n");
        let Err(Error::Invalid {
            key,
            reason: message,
        }) = load(&text, &[])
        else {
            panic!("MoveToDeletedItems as a delegate was accepted");
        };
        assert_eq!(key, "push.delete_type");
        for why in [
            "delegate",
            "Deleted Items",
            "SoftDelete",
            "HardDelete",
            "impersonation",
        ] {
            assert!(message.contains(why), "{why}: {message}");
        }
        // The same through the environment, and the other delete types stay allowed.
        assert_eq!(
            invalid_key(load(
                MINIMAL,
                &[("EWSC__PUSH__DELETE_TYPE", "MoveToDeletedItems")]
            )),
            "push.delete_type"
        );
        for allowed in ["SoftDelete", "HardDelete"] {
            let text = format!("{MINIMAL}\n[push]\ndelete_type = \"{allowed}\"\n");
            assert!(load(&text, &[]).is_ok(), "{allowed}");
        }
    }
}
