//! The commands that need neither Exchange nor a running API: `config check`, `token new`,
//! `admin-script`, `doctor` (its own steps), and the two that start the simulator, `sim` and
//! `demo`.

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

/// `sim`: the simulator alone until SIGINT or SIGTERM.
pub async fn sim(options: crate::sim::SimOptions) -> ExitCode {
    init_logging(LogFormat::Text, "info");
    match crate::sim::run(options, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ews-connector sim: {}", error_chain(&error));
            ExitCode::from(2)
        }
    }
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
