//! The `ews-connector` command line: parses arguments, sets up logging, wires the rooms together.
//! No logic lives here (see ARCHITECTURE.md).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use ews_connector::api::dto::AccessBody;
use ews_connector::api::problem::{Problem, error_chain};
use ews_connector::config::{Config, LogFormat};
use ews_connector::delegation::{Delegation, Mailbox};
use ews_connector::exchange::Exchange;
use ews_connector::sim;

/// Calendar delegation and push for on-premises Exchange (EWS).
#[derive(Parser)]
#[command(name = "ews-connector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Checks whether the push account can write MAILBOX's calendar, and why not.
    Check {
        mailbox: String,
        #[arg(long)]
        config: PathBuf,
        /// Print the API's JSON body instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The EWS simulator alone (for MyTimetable's own tests and for benchmarks).
    Sim {
        /// The simulator's state file (see fixtures/sim/README.md).
        #[arg(long)]
        state: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Added to every answer, with jitter.
        #[arg(long)]
        latency_ms: Option<u64>,
        /// Requests in flight per account before the simulator answers ErrorServerBusy.
        #[arg(long)]
        max_concurrency: Option<usize>,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validates a configuration file and prints the effective configuration, secrets masked.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ews-connector: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run(cli.command))
}

async fn run(command: Command) -> ExitCode {
    match command {
        Command::Config {
            command: ConfigCommand::Check { config },
        } => match Config::load(&config) {
            Ok(config) => {
                print!("{}", config.render_effective());
                eprintln!("configuration is valid");
                ExitCode::SUCCESS
            }
            Err(error) => fail_config(&error),
        },
        Command::Sim {
            state,
            listen,
            latency_ms,
            max_concurrency,
        } => {
            init_logging(LogFormat::Text, "info");
            let options = sim::SimOptions {
                state,
                listen,
                latency_ms,
                max_concurrency,
            };
            match sim::run(options, shutdown_signal()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("ews-connector sim: {}", error_chain(&error));
                    ExitCode::from(2)
                }
            }
        }
        Command::Check {
            mailbox,
            config,
            json,
        } => {
            let config = match Config::load(&config) {
                Ok(config) => config,
                Err(error) => return fail_config(&error),
            };
            init_logging(config.log.format, &config.log.level);
            check(&config, &mailbox, json).await
        }
    }
}

async fn check(config: &Config, mailbox: &str, json: bool) -> ExitCode {
    let mailbox = match Mailbox::parse(mailbox) {
        Ok(mailbox) => mailbox,
        Err(error) => {
            return report_problem(
                Problem::new("invalid_mailbox", error.to_string()).with_mailbox(mailbox),
                json,
            );
        }
    };
    if !config.api.allowed_domains.is_empty()
        && !config.api.allowed_domains.contains(&mailbox.domain())
    {
        let problem = Problem::new(
            "mailbox_not_allowed",
            format!(
                "{} is outside the allowed domains ({})",
                mailbox.domain(),
                config.api.allowed_domains.join(", ")
            ),
        )
        .with_mailbox(mailbox.as_str());
        return report_problem(problem, json);
    }
    let exchange = match Exchange::new(config.exchange_settings()) {
        Ok(exchange) => Arc::new(exchange),
        Err(error) => {
            eprintln!("ews-connector: {}", error_chain(&error));
            return ExitCode::from(2);
        }
    };
    let delegation = Delegation::new(exchange, config.delegation_settings(), None);
    match delegation.check(&mailbox).await {
        Ok(report) => {
            let body = AccessBody::from(&report);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&body).expect("serializable")
                );
            } else {
                print_access_table(&body);
            }
            ExitCode::SUCCESS
        }
        Err(error) => report_problem(Problem::from(&error).with_mailbox(mailbox.as_str()), json),
    }
}

fn print_access_table(body: &AccessBody) {
    let rights = body.effective_rights.as_ref().map(|rights| {
        format!(
            "read={} createContents={} modify={} delete={}",
            rights.read, rights.create_contents, rights.modify, rights.delete
        )
    });
    let rows = [
        ("mailbox", body.mailbox.clone()),
        ("ready", body.ready.to_string()),
        ("status", body.status.to_owned()),
        ("access mode", body.access_mode.to_owned()),
        ("principal", body.delegation.principal.clone()),
        (
            "level",
            body.delegation.level.unwrap_or("unknown").to_owned(),
        ),
        ("required", body.delegation.required.to_owned()),
        ("sufficient", body.delegation.sufficient.to_string()),
        (
            "effective rights",
            rights.unwrap_or_else(|| "unknown".to_owned()),
        ),
        ("impersonation", body.impersonation.to_owned()),
        ("service account", body.service_account.clone()),
        (
            "exchange code",
            body.ews_response_code
                .clone()
                .unwrap_or_else(|| "-".to_owned()),
        ),
        (
            "detail",
            body.detail.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        ("checked at", body.checked_at.clone()),
    ];
    for (name, value) in rows {
        println!("{name:<17} {value}");
    }
}

/// Prints a problem (as JSON on stdout with `--json`, always one line on stderr) and returns the
/// exit status of CONFIG.md: 1 for a refusal about the mailbox, 2 otherwise.
fn report_problem(problem: Problem, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&problem).expect("serializable")
        );
    }
    eprintln!("ews-connector: {}: {}", problem.code, problem.detail);
    if problem.is_about_the_mailbox() {
        ExitCode::from(1)
    } else {
        ExitCode::from(2)
    }
}

fn fail_config(error: &ews_connector::config::Error) -> ExitCode {
    eprintln!("ews-connector: {}", error_chain(error));
    ExitCode::from(2)
}

/// Logs go to stderr, so `--json` output on stdout stays clean.
fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
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
