//! `cli`: the commands of `ews-connector`, one small function each; `main` only parses the
//! arguments ([`args`]) and calls them.
//!
//! Exit statuses (CONFIG.md): 0 done, 1 a refusal about the mailbox or its input, 2 anything
//! else (configuration, Exchange, I/O). Output goes to stdout, logs and problems to stderr, so
//! `--json` output stays clean. See ARCHITECTURE.md for the rooms these functions call.

use std::path::Path;
use std::process::ExitCode;

use crate::api::problem::{Problem, ProblemCode, error_chain};
use crate::config::{Config, LogFormat};
use crate::domain::Mailbox;

pub mod args;
pub mod batch;
pub mod change;
pub mod check;
pub mod discover;
pub mod offline;
pub mod serve;

/// Loads the configuration and starts logging as it says; with `exchange.autodiscover = true`
/// also discovers the EWS URL (once per process). A bad file or a failed discovery is exit
/// status 2.
///
/// # Errors
/// The exit status, after the reason was printed on stderr.
pub async fn load_config(path: &Path) -> Result<Config, ExitCode> {
    let mut config = Config::load(path).map_err(|error| fail_config(&error))?;
    init_logging(config.log.format, &config.log.level);
    if let Some(settings) = config.autodiscover_settings() {
        match crate::exchange::autodiscover::discover_cached(&settings).await {
            Ok(found) => config.exchange.url = Some(found.url),
            Err(error) => return Err(fail(&error)),
        }
    }
    log_warnings(&config);
    Ok(config)
}

/// Loads the configuration for a command that never reaches Exchange's EWS endpoint
/// (`discover`, `admin-script`): no Autodiscover first.
///
/// # Errors
/// The exit status, after the reason was printed on stderr.
pub fn load_config_offline(path: &Path) -> Result<Config, ExitCode> {
    let config = Config::load(path).map_err(|error| fail_config(&error))?;
    init_logging(config.log.format, &config.log.level);
    log_warnings(&config);
    Ok(config)
}

/// Logs each warning of the configuration (`Config::warnings`: lab flags, plain http, password
/// files others can read) once, at start.
fn log_warnings(config: &Config) {
    for warning in config.warnings() {
        tracing::warn!(key = %warning.key, "{warning}");
    }
}

/// Prints `ews-connector: <the error and its causes>` on stderr; exit status 2.
pub fn fail(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("ews-connector: {}", error_chain(error));
    ExitCode::from(2)
}

/// An invalid configuration: exit status 2, the key named.
pub fn fail_config(error: &crate::config::Error) -> ExitCode {
    fail(error)
}

/// Logs go to stderr, so `--json` output on stdout stays clean.
pub fn init_logging(format: LogFormat, level: &str) {
    crate::logging::init(format, level);
}

/// Validates the mailbox and `api.allowed_domains`, as the API does, before anything reaches
/// Exchange.
/// Loads the configuration and admits `mailbox` ([`admit_mailbox`]), or the exit status that
/// says why not (a refused mailbox reported as `report_problem` does).
async fn load_for_mailbox(
    path: &Path,
    mailbox: &str,
    json: bool,
) -> Result<(Config, Mailbox), ExitCode> {
    let config = load_config(path).await?;
    let mailbox =
        admit_mailbox(&config, mailbox).map_err(|problem| report_problem(*problem, json))?;
    Ok((config, mailbox))
}

fn admit_mailbox(config: &Config, text: &str) -> Result<Mailbox, Box<Problem>> {
    let mailbox = Mailbox::parse(text).map_err(|error| {
        Problem::new(ProblemCode::InvalidMailbox, error.to_string()).with_mailbox(text)
    })?;
    if !mailbox.is_allowed_in(&config.api.allowed_domains) {
        return Err(Box::new(
            Problem::new(
                ProblemCode::MailboxNotAllowed,
                format!(
                    "{} is outside the allowed domains ({})",
                    mailbox.domain(),
                    config.api.allowed_domains.join(", ")
                ),
            )
            .with_mailbox(mailbox.as_str()),
        ));
    }
    Ok(mailbox)
}

/// Prints a problem (as JSON on stdout with `--json`, always one line on stderr) and returns the
/// exit status of CONFIG.md: 1 for a refusal about the mailbox, 2 otherwise.
fn report_problem(problem: Problem, json: bool) -> ExitCode {
    if json {
        println!("{}", pretty(&problem));
    }
    eprintln!("ews-connector: {}: {}", problem.code, problem.detail);
    if problem.is_about_the_mailbox() {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

/// `value` as indented JSON (the CLI's `--json`).
fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|error| {
        serde_json::json!({ "error": format!("cannot write JSON: {error}") }).to_string()
    })
}

/// `value` as one line of JSON (the problem line of `batch`).
fn compact(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|error| {
        serde_json::json!({ "error": format!("cannot write JSON: {error}") }).to_string()
    })
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
