//! The commands that need neither Exchange nor a running API: `config check`, `token new`,
//! `admin-script`, `doctor` (its own steps), and the two that start the simulator, `sim` and
//! `demo`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use crate::api::problem::error_chain;
use crate::config::{Config, LogFormat};

use super::{fail_config, init_logging, load_config_offline, shutdown_signal};

/// `config check`: the effective configuration (secrets masked) on stdout, its warnings and
/// the verdict on stderr.
pub fn config_check(config: &Path) -> ExitCode {
    let config = match Config::load(config) {
        Ok(config) => config,
        Err(error) => return fail_config(&error),
    };
    print!("{}", config.render_effective());
    // On stderr, so stdout stays the effective configuration as TOML.
    let warnings = config.warnings();
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    if warnings.is_empty() {
        eprintln!("configuration is valid");
    } else {
        eprintln!(
            "configuration is valid, with {} warning(s) above",
            warnings.len()
        );
    }
    ExitCode::SUCCESS
}

/// `token new`: clap has already refused a missing `--scopes` and any unknown scope.
pub fn token_new(name: &str, scopes: &[String]) -> ExitCode {
    let (token, token_sha256) = crate::api::token::new_token();
    let scopes: Vec<String> = scopes.iter().map(|scope| format!("\"{scope}\"")).collect();
    println!("# The token, shown once; give it to the client and keep it nowhere else:");
    println!("# {token}");
    println!();
    println!("[[api.clients]]");
    println!("name = \"{}\"", name.replace(['"', '\\'], ""));
    println!("token_sha256 = \"{token_sha256}\"");
    println!("scopes = [{}]", scopes.join(", "));
    ExitCode::SUCCESS
}

/// `admin-script`: exit 1 when a line of the users file is refused (naming the line), 2 when the
/// file cannot be read or a configured value cannot be quoted.
pub fn admin_script(config: &Path, users: Option<&Path>) -> ExitCode {
    // Offline: the script needs no EWS URL, so no Autodiscover either.
    let config = match load_config_offline(config) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let users = match users {
        None => Vec::new(),
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(error) => {
                    eprintln!("ews-connector: cannot read {}: {error}", path.display());
                    return ExitCode::from(2);
                }
            };
            match crate::admin_script::parse_users(&text, &config.api.allowed_domains) {
                Ok(users) => users,
                Err(error) => {
                    eprintln!("ews-connector: {}: {error}", path.display());
                    return ExitCode::from(1);
                }
            }
        }
    };
    print_script(crate::admin_script::render(&config, &users))
}

/// `admin-script --graph`: exit 2 when the configuration has no `[graph]`, names no scope, or
/// holds a value that cannot be quoted.
pub fn admin_script_graph(config: &Path, group: Option<&str>) -> ExitCode {
    let config = match load_config_offline(config) {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    print_script(crate::admin_script::graph::render(&config, group))
}

/// Prints a rendered script on stdout, or its error on stderr with exit status 2.
fn print_script<E: std::fmt::Display>(rendered: Result<String, E>) -> ExitCode {
    match rendered {
        Ok(script) => {
            print!("{script}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ews-connector: {error}");
            ExitCode::from(2)
        }
    }
}

/// `doctor`: the report on stdout (text or JSON); exit 0 when every step passed.
pub async fn doctor(config: &Path, mailbox: Option<&str>, json: bool) -> ExitCode {
    // Only errors: the report itself is the output.
    init_logging(LogFormat::Text, "error");
    let report = crate::doctor::run(config, mailbox).await;
    let rendered = if json {
        report.render_json() + "\n"
    } else {
        report.render_text()
    };
    // A closed pipe (`| head`) is not worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), rendered.as_bytes());
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// `sim`: the simulator alone until SIGINT or SIGTERM; with `--graph-tenant`, the Graph
/// simulator beside it ([`run_sim`]).
pub async fn sim(options: crate::sim::SimOptions, graph_tenant: Option<&Path>) -> ExitCode {
    init_logging(LogFormat::Text, "info");
    match run_sim(options, graph_tenant, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ews-connector sim: {}", error_chain(&error));
            ExitCode::from(2)
        }
    }
}

/// Why `sim` could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The EWS simulator (its state file, its address).
    #[error(transparent)]
    Ews(#[from] crate::sim::Error),
    /// The Graph tenant file (`--graph-tenant`) cannot be used.
    #[error("graph tenant {path}: {reason}")]
    GraphTenant {
        path: std::path::PathBuf,
        reason: String,
    },
    /// The Graph simulator could not listen.
    #[error("the Graph simulator cannot start: {0}")]
    GraphStart(#[source] std::io::Error),
}

/// The EWS simulator of `options` until `shutdown` completes, and with `graph_tenant` the Graph
/// simulator serving that tenant file on a loopback port of its own (printed on stdout as
/// `graph listening on http://127.0.0.1:PORT`, before the EWS simulator's `listening on` line),
/// `--latency-ms` applied to both.
///
/// # Errors
/// [`SimError`]: an unusable state or tenant file, an address that is not loopback.
pub async fn run_sim(
    options: crate::sim::SimOptions,
    graph_tenant: Option<&Path>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), SimError> {
    let graph = match graph_tenant {
        Some(path) => {
            let config = load_graph_tenant(path, options.latency_ms)?;
            let tenant = config.tenant_id.clone();
            let handle = crate::sim::graph::start(config)
                .await
                .map_err(SimError::GraphStart)?;
            let mut stdout = std::io::stdout();
            let _ = writeln!(
                stdout,
                "graph listening on {} (token endpoint {}/{tenant}/oauth2/v2.0/token)",
                handle.base_url(),
                handle.base_url()
            );
            let _ = stdout.flush();
            Some(handle)
        }
        None => None,
    };
    let result = crate::sim::run(options, shutdown).await;
    if let Some(graph) = graph {
        graph.shutdown().await;
    }
    Ok(result?)
}

/// Reads a Graph simulator tenant file (`fixtures/sim/graph/README.md`): the simulator's own
/// keys, plus `certificates`, PEM files (relative to the tenant file) whose certificates the
/// application registration holds; `latency_ms` overrides the file's.
///
/// # Errors
/// [`SimError::GraphTenant`] naming the file and the reason.
pub fn load_graph_tenant(
    path: &Path,
    latency_ms: Option<u64>,
) -> Result<crate::sim::graph::GraphSimConfig, SimError> {
    let refuse = |reason: String| SimError::GraphTenant {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|error| refuse(error.to_string()))?;
    let mut table: toml::Table = text.parse().map_err(|error| refuse(format!("{error}")))?;
    let files: Vec<String> = match table.remove("certificates") {
        None => Vec::new(),
        Some(toml::Value::Array(values)) => values
            .into_iter()
            .map(|value| match value {
                toml::Value::String(file) => Ok(file),
                _ => Err(refuse("certificates must list PEM file paths".to_owned())),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(refuse("certificates must list PEM file paths".to_owned())),
    };
    let rest = toml::to_string(&table).map_err(|error| refuse(error.to_string()))?;
    let mut config = crate::sim::graph::GraphSimConfig::from_toml(&rest).map_err(refuse)?;
    let base = path.parent().unwrap_or(Path::new("."));
    for file in files {
        let pem_path = base.join(&file);
        let bytes = std::fs::read(&pem_path)
            .map_err(|error| refuse(format!("certificates: {}: {error}", pem_path.display())))?;
        let blocks = pem::parse_many(&bytes)
            .map_err(|error| refuse(format!("certificates: {}: {error}", pem_path.display())))?;
        let certificate = blocks
            .into_iter()
            .find(|block| block.tag() == "CERTIFICATE")
            .ok_or_else(|| {
                refuse(format!(
                    "certificates: {} holds no CERTIFICATE block",
                    pem_path.display()
                ))
            })?;
        config.certificates.push(certificate.into_contents());
    }
    if let Some(latency_ms) = latency_ms {
        config.latency = std::time::Duration::from_millis(latency_ms);
    }
    Ok(config)
}

/// `demo`: the simulator and the API (`demo::run`) until SIGINT or SIGTERM.
pub async fn demo(listen: SocketAddr) -> ExitCode {
    init_logging(LogFormat::Text, "warn");
    let mut stdout = std::io::stdout();
    match crate::demo::run(listen, &mut stdout, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ews-connector demo: {}", error_chain(&error));
            ExitCode::from(2)
        }
    }
}
