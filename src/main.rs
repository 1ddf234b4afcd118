//! The `ews-connector` command line: parses arguments, sets up logging, wires the rooms together.
//! No logic lives here (see ARCHITECTURE.md).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use ews_connector::api;
use ews_connector::api::dto::{AccessBody, ChangeBody};
use ews_connector::api::problem::{Problem, ProblemCode, error_chain};
use ews_connector::audit::AuditLog;
use ews_connector::config::{Config, LogFormat};
use ews_connector::delegation::{
    Actor, Delegation, GrantRequest, Mailbox, PermissionLevel, RevokeRequest,
};
use ews_connector::exchange::Exchange;
use ews_connector::sim;

/// Calendar delegation and push for on-premises Exchange (EWS).
#[derive(Parser)]
#[command(name = "ews-connector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The help of every `--config`.
const CONFIG_HELP: &str =
    "The configuration file (TOML; every key can be overridden by EWSC__SECTION__KEY)";

/// The help of every MAILBOX argument.
const MAILBOX_HELP: &str = "The mailbox's primary SMTP address, e.g. someone@uni.example (its domain must be one of api.allowed_domains, when those are set)";

#[derive(Subcommand)]
enum Command {
    /// Checks whether the push account can write MAILBOX's calendar, and why not.
    Check {
        #[arg(help = MAILBOX_HELP)]
        mailbox: String,
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// Print the API's JSON body instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Runs the API (graceful shutdown on SIGTERM/SIGINT; SIGHUP re-reads password files and
    /// the CA file and reopens the audit file).
    Serve {
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
    },
    /// Grants the delegation on MAILBOX's calendar, as `PUT .../calendar/delegation`.
    Grant {
        #[arg(help = MAILBOX_HELP)]
        mailbox: String,
        /// The permission level to grant (Reviewer, Author, Editor, ...); defaults to
        /// `delegation.level`.
        #[arg(long)]
        level: Option<String>,
        /// The user or group that gets the permission; defaults to `delegation.principal`.
        #[arg(long)]
        principal: Option<String>,
        /// Write nothing; say what would change.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// Print the API's JSON body (or problem) instead of one line.
        #[arg(long)]
        json: bool,
    },
    /// Removes the principal's entry from MAILBOX's calendar, as `DELETE .../calendar/delegation`.
    Revoke {
        #[arg(help = MAILBOX_HELP)]
        mailbox: String,
        /// The user or group whose entry is removed; defaults to `delegation.principal`.
        #[arg(long)]
        principal: Option<String>,
        /// Write nothing; say what would change.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// Print the API's JSON body (or problem) instead of one line.
        #[arg(long)]
        json: bool,
    },
    /// Checks or grants many mailboxes (one per line of FILE; blank lines and `#` comments
    /// skipped): NDJSON lines as the batch API writes them on stdout, the summary last, and a
    /// progress bar on stderr when it is a terminal.
    Batch {
        /// What to do with each mailbox: check its access, or grant the delegation.
        #[arg(value_enum)]
        action: BatchAction,
        /// The list of mailboxes: one SMTP address per line, `#` comments and blank lines
        /// skipped (at most 100,000).
        #[arg(long)]
        file: PathBuf,
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// grant: defaults to `delegation.level`.
        #[arg(long)]
        level: Option<String>,
        /// grant: defaults to `delegation.principal`.
        #[arg(long)]
        principal: Option<String>,
        /// grant: write nothing; say what would change.
        #[arg(long)]
        dry_run: bool,
    },
    /// API token commands.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The connector on its embedded EWS simulator: no Exchange, no configuration.
    Demo {
        /// Where the demo's API listens (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// The EWS simulator alone (for MyTimetable's own tests and for benchmarks).
    Sim {
        /// The simulator's state file (see fixtures/sim/README.md).
        #[arg(long)]
        state: PathBuf,
        /// Where the simulator listens (its EWS URL is http://ADDR/EWS/Exchange.asmx).
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Added to every answer, with jitter.
        #[arg(long)]
        latency_ms: Option<u64>,
        /// Requests in flight per account before the simulator answers ErrorServerBusy.
        #[arg(long)]
        max_concurrency: Option<usize>,
    },
    /// Finds MAILBOX's EWS URL with Autodiscover (SOAP, then POX, following redirects) and
    /// prints every candidate tried with its outcome; exit 0 with the URL, 2 when none worked.
    Discover {
        /// The SMTP address whose EWS URL is looked for (its domain gives the candidates).
        mailbox: String,
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// Print one JSON object instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Diagnoses the path to Exchange step by step (configuration, DNS, TCP, TLS, schemes,
    /// each account's logon, a GetFolder, and with --mailbox the full access check) and says
    /// what to fix. Exit 0 when every step passed (warnings allowed), 2 otherwise.
    Doctor {
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// Also run the full access check of this mailbox.
        #[arg(long)]
        mailbox: Option<String>,
        /// One JSON object per step (step, subject, verdict, detail, fix) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Prints the PowerShell that prepares Exchange and Active Directory for this configuration
    /// (docs/admin/exchange-on-premises.md): accounts, group, throttling policy, scope, and the
    /// calendar permission for each user of FILE (one SMTP address per line, `#` comments).
    AdminScript {
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// The users whose calendars get the permission: one SMTP address per line, `#`
        /// comments; without it the script prepares the accounts, group, policy and scope only.
        #[arg(long, value_name = "FILE")]
        users: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BatchAction {
    /// Check each mailbox's access, as `POST /v1/calendar/access:batch`.
    Check,
    /// Grant each mailbox's delegation, as `POST /v1/calendar/delegation:batch`.
    Grant,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Prints a new random token once, and the `[[api.clients]]` entry holding its hash.
    New {
        /// The client's name, as the audit trail and the logs show it (e.g. mytimetable).
        #[arg(long)]
        name: String,
        /// Comma-separated, at least one: calendar:check, calendar:delegate, calendar:push (a
        /// token without a scope could call nothing).
        #[arg(
            long,
            required = true,
            value_delimiter = ',',
            value_name = "calendar:check,calendar:delegate,calendar:push",
            value_parser = scope_parser()
        )]
        scopes: Vec<String>,
    },
}

/// The scopes `token new` accepts (config::KNOWN_SCOPES), each with what it allows (API.md).
fn scope_parser() -> clap::builder::PossibleValuesParser {
    use clap::builder::PossibleValue;
    clap::builder::PossibleValuesParser::new([
        PossibleValue::new("calendar:check")
            .help("the read-only checks: GET .../calendar/access and the access batch"),
        PossibleValue::new("calendar:delegate").help(
            "grant and revoke: PUT and DELETE .../calendar/delegation and the delegation batch",
        ),
        PossibleValue::new("calendar:push")
            .help("create, update, delete and sync events: .../calendar/events"),
    ])
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validates a configuration file and prints the effective configuration, secrets masked,
    /// and its warnings (lab flags, plain http, password files others can read) on stderr.
    Check {
        #[arg(long, help = CONFIG_HELP)]
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
        Command::Serve { config } => {
            let config = match load_config(&config).await {
                Ok(config) => config,
                Err(exit) => return exit,
            };
            serve(&config).await
        }
        Command::Grant {
            mailbox,
            level,
            principal,
            dry_run,
            config,
            json,
        } => {
            let config = match load_config(&config).await {
                Ok(config) => config,
                Err(exit) => return exit,
            };
            let change = Change::Grant {
                level,
                principal,
                dry_run,
            };
            self::change(&config, &mailbox, change, json).await
        }
        Command::Revoke {
            mailbox,
            principal,
            dry_run,
            config,
            json,
        } => {
            let config = match load_config(&config).await {
                Ok(config) => config,
                Err(exit) => return exit,
            };
            self::change(
                &config,
                &mailbox,
                Change::Revoke { principal, dry_run },
                json,
            )
            .await
        }
        Command::Batch {
            action,
            file,
            config,
            level,
            principal,
            dry_run,
        } => {
            let config = match load_config(&config).await {
                Ok(config) => config,
                Err(exit) => return exit,
            };
            let request = match action {
                BatchAction::Check => None,
                BatchAction::Grant => match level.map(|level| level.parse()).transpose() {
                    Ok(level) => Some(GrantRequest {
                        principal,
                        level,
                        dry_run,
                    }),
                    Err(error) => {
                        let error: ews_connector::delegation::UnknownLevel = error;
                        eprintln!("ews-connector: invalid_level: {error}");
                        return ExitCode::from(2);
                    }
                },
            };
            run_batch(&config, &file, request).await
        }
        Command::Token {
            command: TokenCommand::New { name, scopes },
        } => token_new(&name, &scopes),
        Command::Discover {
            mailbox,
            config,
            json,
        } => {
            let config = match Config::load(&config) {
                Ok(config) => config,
                Err(error) => return fail_config(&error),
            };
            init_logging(config.log.format, &config.log.level);
            log_warnings(&config);
            discover(&config, &mailbox, json).await
        }
        Command::Demo { listen } => {
            init_logging(LogFormat::Text, "warn");
            let mut stdout = std::io::stdout();
            match ews_connector::demo::run(listen, &mut stdout, shutdown_signal()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("ews-connector demo: {}", error_chain(&error));
                    ExitCode::from(2)
                }
            }
        }
        Command::AdminScript { config, users } => {
            // Offline: the script needs no EWS URL, so no Autodiscover either.
            let config = match Config::load(&config) {
                Ok(config) => config,
                Err(error) => return fail_config(&error),
            };
            init_logging(config.log.format, &config.log.level);
            log_warnings(&config);
            admin_script(&config, users.as_deref())
        }
        Command::Doctor {
            config,
            mailbox,
            json,
        } => {
            // Only errors: the report itself is the output.
            init_logging(LogFormat::Text, "error");
            let report = ews_connector::doctor::run(&config, mailbox.as_deref()).await;
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
        Command::Check {
            mailbox,
            config,
            json,
        } => {
            let config = match load_config(&config).await {
                Ok(config) => config,
                Err(exit) => return exit,
            };
            check(&config, &mailbox, json).await
        }
    }
}

/// `admin-script`: exit 1 when a line of the users file is refused (naming the line), 2 when the
/// file cannot be read or a configured value cannot be quoted.
fn admin_script(config: &Config, users: Option<&std::path::Path>) -> ExitCode {
    use ews_connector::admin_script;
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
            match admin_script::parse_users(&text, &config.api.allowed_domains) {
                Ok(users) => users,
                Err(error) => {
                    eprintln!("ews-connector: {}: {error}", path.display());
                    return ExitCode::from(1);
                }
            }
        }
    };
    match admin_script::render(config, &users) {
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

async fn check(config: &Config, mailbox: &str, json: bool) -> ExitCode {
    let mailbox = match admit_mailbox(config, mailbox) {
        Ok(mailbox) => mailbox,
        Err(problem) => return report_problem(*problem, json),
    };
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

/// The Exchange client and the audit file that `serve`, `grant` and `revoke` share; a failure is
/// reported on stderr and becomes exit status 2.
fn open_rooms(config: &Config) -> Result<(Arc<Exchange>, Arc<AuditLog>), ExitCode> {
    let exchange = Exchange::new(config.exchange_settings()).map_err(|error| {
        eprintln!("ews-connector: {}", error_chain(&error));
        ExitCode::from(2)
    })?;
    let audit = AuditLog::open(&config.audit.path).map_err(|error| {
        eprintln!(
            "ews-connector: cannot open audit.path {}: {error}",
            config.audit.path.display()
        );
        ExitCode::from(2)
    })?;
    Ok((Arc::new(exchange), Arc::new(audit)))
}

async fn serve(config: &Config) -> ExitCode {
    let (exchange, audit) = match open_rooms(config) {
        Ok(rooms) => rooms,
        Err(exit) => return exit,
    };
    let delegation = Arc::new(
        Delegation::new(
            exchange.clone(),
            config.delegation_settings(),
            Some(audit.clone()),
        )
        .with_group_cache_ttl(config.group_cache_ttl()),
    );
    let push = Arc::new(ews_connector::push::Push::new(
        exchange.clone(),
        config.push_settings(),
    ));
    let state = api::AppState::with_push(
        config.api_settings(),
        delegation,
        push,
        exchange.clone(),
        Some(audit.clone()),
    );
    let listener = match tokio::net::TcpListener::bind(config.api.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "ews-connector: cannot listen on api.listen {}: {error}",
                config.api.listen
            );
            return ExitCode::from(2);
        }
    };
    tracing::info!(listen = %config.api.listen, "serving the API");
    let readiness = api::spawn_readiness(&state);
    let hangup = spawn_hangup_handler(config.clone(), exchange, audit);
    let result = api::serve(listener, state, shutdown_signal()).await;
    readiness.abort();
    hangup.abort();
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ews-connector: the API stopped: {error}");
            ExitCode::from(2)
        }
    }
}

/// On SIGHUP: reopen the audit file (after log rotation), read the service accounts'
/// passwords again (so an account refused for a wrong password is retried once its file
/// changed, and new connections log on with the new password while authenticated ones keep
/// serving), and read `tls.ca_file` again (new connections trust the new anchors; a file that
/// cannot be used keeps the old ones and logs an error naming it).
fn spawn_hangup_handler(
    config: Config,
    exchange: Arc<Exchange>,
    audit: Arc<AuditLog>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let Ok(mut hangups) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hangups.recv().await.is_some() {
                match audit.reopen() {
                    Ok(()) => {
                        tracing::info!(path = %audit.path().display(), "SIGHUP: audit file reopened")
                    }
                    Err(error) => {
                        tracing::error!(%error, "SIGHUP: cannot reopen the audit file; still writing to the old one")
                    }
                }
                let (passwords, problems) = config.reread_passwords();
                for problem in problems {
                    tracing::error!(%problem, "SIGHUP: password not re-read; the account keeps its old one");
                }
                let changed = exchange.update_passwords(&passwords);
                tracing::info!(changed = ?changed, "SIGHUP: passwords re-read");
                if let Some(ca_file) = &config.tls.ca_file {
                    match exchange.reload_trust() {
                        Ok(true) => tracing::info!(
                            ca_file = %ca_file.display(),
                            "SIGHUP: trust anchors re-read; new connections use them"
                        ),
                        Ok(false) => {}
                        Err(error) => tracing::error!(
                            error = %error_chain(&error),
                            ca_file = %ca_file.display(),
                            "SIGHUP: ca_file not reloaded; the previous trust anchors stay in force"
                        ),
                    }
                }
            }
        }
        #[cfg(not(unix))]
        let _ = (config, exchange, audit);
    })
}

enum Change {
    Grant {
        level: Option<String>,
        principal: Option<String>,
        dry_run: bool,
    },
    Revoke {
        principal: Option<String>,
        dry_run: bool,
    },
}

async fn change(config: &Config, mailbox: &str, change: Change, json: bool) -> ExitCode {
    let mailbox = match admit_mailbox(config, mailbox) {
        Ok(mailbox) => mailbox,
        Err(problem) => return report_problem(*problem, json),
    };
    let (exchange, audit) = match open_rooms(config) {
        Ok(rooms) => rooms,
        Err(exit) => return exit,
    };
    let delegation = Delegation::new(exchange, config.delegation_settings(), Some(audit));
    let actor = Actor {
        request_id: ews_connector::ids::next_ulid().to_string(),
        client: "cli".to_owned(),
    };
    let result = match change {
        Change::Grant {
            level,
            principal,
            dry_run,
        } => {
            let level = match level
                .map(|level| level.parse::<PermissionLevel>())
                .transpose()
            {
                Ok(level) => level,
                Err(error) => {
                    return report_problem(
                        Problem::new(ProblemCode::InvalidLevel, error.to_string())
                            .with_mailbox(mailbox.as_str()),
                        json,
                    );
                }
            };
            let request = GrantRequest {
                principal,
                level,
                dry_run,
            };
            delegation.grant(&actor, &mailbox, request).await
        }
        Change::Revoke { principal, dry_run } => {
            delegation
                .revoke(&actor, &mailbox, RevokeRequest { principal, dry_run })
                .await
        }
    };
    match result {
        Ok(outcome) => {
            let body = ChangeBody::from(&outcome);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&body).expect("serializable")
                );
            } else {
                println!(
                    "{}: {} {} -> {}{}{}",
                    body.mailbox,
                    body.principal,
                    body.previous_level,
                    body.level,
                    if body.changed {
                        " (changed)"
                    } else {
                        " (unchanged)"
                    },
                    if body.dry_run {
                        " [dry run: nothing written]"
                    } else {
                        ""
                    },
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => report_problem(Problem::from(&error).with_mailbox(mailbox.as_str()), json),
    }
}

/// `batch check|grant`: reads the list, runs the batch driver as the API does, prints each line
/// as it completes and the summary last. Exit 1 when the grant's principal or level is refused
/// (one problem line on stdout instead of the NDJSON lines, before anything is read or asked);
/// exit 2 when the list cannot be read or is too long, or when Exchange refused every service
/// account.
async fn run_batch(
    config: &Config,
    file: &std::path::Path,
    grant: Option<GrantRequest>,
) -> ExitCode {
    use std::io::Write;

    use ews_connector::api::batch::{Rendered, Summary, render_line, render_summary};
    use ews_connector::delegation::batch::{self, MAX_MAILBOXES, Progress};

    if let Some(request) = &grant
        && let Err(error) = config.delegation_settings().admit_grant(request)
    {
        let problem = Problem::from(&error);
        println!("{}", serde_json::to_string(&problem).expect("serializable"));
        eprintln!("ews-connector: {}: {}", problem.code, problem.detail);
        return ExitCode::from(1);
    }

    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("ews-connector: cannot read {}: {error}", file.display());
            return ExitCode::from(2);
        }
    };
    let list = batch::parse_list(&text);
    if list.len() > MAX_MAILBOXES {
        eprintln!(
            "ews-connector: {} holds {} mailboxes; at most {MAX_MAILBOXES} are allowed",
            file.display(),
            list.len()
        );
        return ExitCode::from(2);
    }
    let list = batch::dedupe(list);
    let exchange = match Exchange::new(config.exchange_settings()) {
        Ok(exchange) => Arc::new(exchange),
        Err(error) => {
            eprintln!("ews-connector: {}", error_chain(&error));
            return ExitCode::from(2);
        }
    };
    let audit = match &grant {
        None => None,
        Some(_) => match AuditLog::open(&config.audit.path) {
            Ok(audit) => Some(Arc::new(audit)),
            Err(error) => {
                eprintln!(
                    "ews-connector: cannot open audit.path {}: {error}",
                    config.audit.path.display()
                );
                return ExitCode::from(2);
            }
        },
    };
    let delegation = Arc::new(
        Delegation::new(
            exchange.clone(),
            config.delegation_settings(),
            audit.clone(),
        )
        .with_group_cache_ttl(config.group_cache_ttl()),
    );
    let progress = Arc::new(Progress::default());
    let allowed = &config.api.allowed_domains;
    let mut running = match grant {
        None => batch::start(&exchange, list, allowed, progress, move |mailbox| {
            let delegation = delegation.clone();
            async move {
                let report = delegation.check(&mailbox).await?;
                Ok(Rendered::access(&AccessBody::from(&report)))
            }
        }),
        Some(request) => {
            let actor = Arc::new(Actor {
                request_id: ews_connector::ids::next_ulid().to_string(),
                client: "cli".to_owned(),
            });
            batch::start(&exchange, list, allowed, progress, move |mailbox| {
                let (delegation, actor, request) =
                    (delegation.clone(), actor.clone(), request.clone());
                async move {
                    let outcome = delegation.grant(&actor, &mailbox, request).await?;
                    Ok(Rendered::change(&ChangeBody::from(&outcome)))
                }
            })
        }
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(running.total() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} mailboxes, {per_sec}, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let started = std::time::Instant::now();
    let mut summary = Summary::default();
    let mut stdout = std::io::stdout().lock();
    let mut line_bytes = Vec::new();
    while let Some(line) = running.next().await {
        line_bytes.clear();
        render_line(&mut line_bytes, &line, None, &mut summary);
        if stdout.write_all(&line_bytes).is_err() {
            return ExitCode::from(2);
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    line_bytes.clear();
    render_summary(&mut line_bytes, &summary);
    let _ = stdout.write_all(&line_bytes);
    let _ = stdout.flush();
    if let Some(audit) = audit {
        let _ = audit.flush();
    }
    let all_refused = exchange.account_states().iter().all(|state| {
        matches!(
            state.status,
            ews_connector::exchange::AccountStatus::AuthFailed { .. }
        )
    });
    if all_refused {
        eprintln!("ews-connector: Exchange refused the credentials of every service account");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// Validates the mailbox and `api.allowed_domains`, as the API does, before anything reaches
/// Exchange.
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

/// `token new`: clap has already refused a missing `--scopes` and any unknown scope.
fn token_new(name: &str, scopes: &[String]) -> ExitCode {
    let (token, token_sha256) = api::token::new_token();
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
        (
            "via",
            body.delegation
                .via
                .clone()
                .unwrap_or_else(|| "-".to_owned()),
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
    // Shown only when Exchange said so: an alias followed, a mailbox moved to Exchange Online.
    let identity = [
        ("primary address", &body.primary_smtp_address),
        ("mailbox guid", &body.mailbox_guid),
    ];
    for (name, value) in identity {
        if let Some(value) = value {
            println!("{name:<17} {value}");
        }
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

/// Loads the configuration and starts logging as it says; with `exchange.autodiscover = true`
/// also discovers the EWS URL (once per process). A bad file or a failed discovery is exit
/// status 2.
async fn load_config(path: &std::path::Path) -> Result<Config, ExitCode> {
    let mut config = Config::load(path).map_err(|error| fail_config(&error))?;
    init_logging(config.log.format, &config.log.level);
    if let Some(settings) = config.autodiscover_settings() {
        match ews_connector::exchange::autodiscover::discover_cached(&settings).await {
            Ok(found) => config.exchange.url = Some(found.url),
            Err(error) => {
                eprintln!("ews-connector: {}", error_chain(&error));
                return Err(ExitCode::from(2));
            }
        }
    }
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

/// `discover MAILBOX`: every candidate with its outcome, then the URL found (exit 0), or why
/// none worked (exit 2); an invalid address is exit 1.
async fn discover(config: &Config, mailbox: &str, json: bool) -> ExitCode {
    use ews_connector::exchange::autodiscover::{self, Attempt, Outcome};

    let mailbox = match Mailbox::parse(mailbox) {
        Ok(mailbox) => mailbox,
        Err(error) => {
            return report_problem(
                Problem::new(ProblemCode::InvalidMailbox, error.to_string()).with_mailbox(mailbox),
                json,
            );
        }
    };
    let settings = config.autodiscover_settings_for(mailbox.as_str());
    let result = autodiscover::discover(&settings).await;
    let attempts = match &result {
        Ok(found) => found.attempts.as_slice(),
        Err(error) => error.attempts(),
    };
    let describe = |attempt: &Attempt| -> (&'static str, String) {
        match &attempt.outcome {
            Outcome::Found { url, setting } => ("found", format!("{url} ({setting})")),
            Outcome::Redirected { kind, target } => ("redirected", format!("{kind} to {target}")),
            Outcome::Refused { reason } => ("refused", reason.clone()),
            Outcome::Failed { reason } => ("failed", reason.clone()),
        }
    };
    if json {
        let attempts: Vec<serde_json::Value> = attempts
            .iter()
            .map(|attempt| {
                let (outcome, detail) = describe(attempt);
                serde_json::json!({
                    "protocol": attempt.protocol.as_str(),
                    "url": attempt.url.as_str(),
                    "mailbox": attempt.mailbox,
                    "outcome": outcome,
                    "detail": detail,
                })
            })
            .collect();
        let body = match &result {
            Ok(found) => serde_json::json!({
                "mailbox": mailbox.as_str(),
                "ewsUrl": found.url.as_str(),
                "foundBy": found.found_by,
                "attempts": attempts,
            }),
            Err(error) => serde_json::json!({
                "mailbox": mailbox.as_str(),
                "ewsUrl": null,
                "error": error.to_string(),
                "attempts": attempts,
            }),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&body).expect("serializable")
        );
    } else {
        for (index, attempt) in attempts.iter().enumerate() {
            let (outcome, detail) = describe(attempt);
            println!(
                "{:>2}. {:<14} {} as {}: {outcome}: {detail}",
                index + 1,
                attempt.protocol.as_str(),
                attempt.url,
                attempt.mailbox
            );
        }
        if let Ok(found) = &result {
            println!("EWS URL: {}", found.url);
            println!("found by: {}", found.found_by);
        }
    }
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ews-connector: {}", error_chain(&error));
            ExitCode::from(2)
        }
    }
}

fn fail_config(error: &ews_connector::config::Error) -> ExitCode {
    eprintln!("ews-connector: {}", error_chain(error));
    ExitCode::from(2)
}

/// Logs go to stderr, so `--json` output on stdout stays clean.
fn init_logging(format: LogFormat, level: &str) {
    ews_connector::logging::init(format, level);
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

#[cfg(test)]
mod tests {
    use clap::builder::TypedValueParser;
    use clap::{CommandFactory, Parser};

    use super::{Cli, scope_parser};

    /// Every argument and subcommand without a help text, as `ews-connector sub ... --arg`.
    fn missing_help(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for argument in command.get_arguments() {
            let id = argument.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            if argument.get_help().is_none() && argument.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
            // The values of a value enum (`batch check|grant`); a flag's true/false are not.
            let values = if argument.get_action().takes_values() {
                argument.get_possible_values()
            } else {
                Vec::new()
            };
            for value in values {
                if !value.is_hide_set() && value.get_help().is_none() {
                    missing.push(format!("{path} {id}={}", value.get_name()));
                }
            }
        }
        for subcommand in command.get_subcommands() {
            let sub_path = format!("{path} {}", subcommand.get_name());
            if subcommand.get_about().is_none() && subcommand.get_long_about().is_none() {
                missing.push(sub_path.clone());
            }
            missing_help(subcommand, &sub_path, missing);
        }
    }

    #[test]
    fn every_argument_and_subcommand_has_a_help_text() {
        let command = Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        missing_help(&command, "ews-connector", &mut missing);
        assert!(missing.is_empty(), "without a help text: {missing:#?}");
        // The walk reaches every level: a nested subcommand and a positional argument.
        let token_new = command
            .find_subcommand("token")
            .and_then(|token| token.find_subcommand("new"))
            .expect("token new");
        assert!(
            token_new
                .get_arguments()
                .any(|argument| argument.get_id() == "scopes")
        );
    }

    #[test]
    fn token_new_needs_at_least_one_known_scope() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(
                ["ews-connector", "token", "new", "--name", "mytimetable"]
                    .iter()
                    .chain(args),
            )
        };
        let missing = parse(&[]).err().expect("refused without --scopes");
        assert_eq!(
            missing.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        let text = missing.to_string();
        for scope in ews_connector::config::KNOWN_SCOPES {
            assert!(text.contains(scope), "{text}");
        }
        let offered: Vec<String> = scope_parser()
            .possible_values()
            .expect("a fixed list")
            .map(|value| value.get_name().to_owned())
            .collect();
        assert_eq!(offered, ews_connector::config::KNOWN_SCOPES);
        assert!(parse(&["--scopes", "calendar:everything"]).is_err());
        assert!(parse(&["--scopes", ""]).is_err());
        assert!(parse(&["--scopes", "calendar:check,calendar:push"]).is_ok());
    }
}
