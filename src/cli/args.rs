//! The command line's arguments: every subcommand, argument and help text of `ews-connector`
//! (clap derive). `main` parses them and hands each command to its function in `cli`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Calendar delegation and push for on-premises Exchange (EWS).
#[derive(Parser)]
#[command(name = "ews-connector", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The help of every `--config`.
const CONFIG_HELP: &str =
    "The configuration file (TOML; every key can be overridden by EWSC__SECTION__KEY)";

/// The help of every MAILBOX argument.
const MAILBOX_HELP: &str = "The mailbox's primary SMTP address, e.g. someone@uni.example (its domain must be one of api.allowed_domains, when those are set)";

#[derive(Subcommand)]
pub enum Command {
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
        #[command(flatten)]
        options: ChangeOptions,
    },
    /// Removes the principal's entry from MAILBOX's calendar, as `DELETE .../calendar/delegation`.
    Revoke {
        #[arg(help = MAILBOX_HELP)]
        mailbox: String,
        /// The user or group whose entry is removed; defaults to `delegation.principal`.
        #[arg(long)]
        principal: Option<String>,
        #[command(flatten)]
        options: ChangeOptions,
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
    /// The EWS simulator alone, or with --graph-tenant beside the Graph simulator (a hybrid
    /// organisation), for MyTimetable's own tests and for benchmarks.
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
        /// Also start the Graph simulator with this tenant file (see
        /// fixtures/sim/graph/README.md), on a loopback port of its own, printed as `graph
        /// listening on URL`; --latency-ms applies to it too.
        #[arg(long)]
        graph_tenant: Option<PathBuf>,
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
    /// calendar permission for each user of FILE (one SMTP address per line, `#` comments);
    /// with --graph, Microsoft Entra ID and Exchange Online (docs/admin/exchange-online.md).
    AdminScript {
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
        /// The users whose calendars get the permission: one SMTP address per line, `#`
        /// comments; without it the script prepares the accounts, group, policy and scope only.
        #[arg(long, value_name = "FILE", conflicts_with = "graph")]
        users: Option<PathBuf>,
        /// Prints the PowerShell for Exchange Online instead (docs/admin/exchange-online.md):
        /// the app registration of `[graph]` checked, the enterprise application, Exchange
        /// Online's `Application Calendars.ReadWrite` within a management scope, and the test.
        #[arg(long)]
        graph: bool,
        /// With --graph: the mail-enabled security group whose direct members the application
        /// may reach; without it, the user mailboxes of `routing.graph_domains`.
        #[arg(long, value_name = "ADDRESS", requires = "graph")]
        group: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum BatchAction {
    /// Check each mailbox's access, as `POST /v1/calendar/access:batch`.
    Check,
    /// Grant each mailbox's delegation, as `POST /v1/calendar/delegation:batch`.
    Grant,
}

#[derive(Subcommand)]
pub enum TokenCommand {
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
pub fn scope_parser() -> clap::builder::PossibleValuesParser {
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
pub enum ConfigCommand {
    /// Validates a configuration file and prints the effective configuration, secrets masked,
    /// and its warnings (lab flags, plain http, password files others can read) on stderr.
    Check {
        #[arg(long, help = CONFIG_HELP)]
        config: PathBuf,
    },
}

/// The options `grant` and `revoke` share.
#[derive(Debug, clap::Args)]
pub struct ChangeOptions {
    /// Write nothing; say what would change.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, help = CONFIG_HELP)]
    pub config: PathBuf,
    /// Print the API's JSON body (or problem) instead of one line.
    #[arg(long)]
    pub json: bool,
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
        for scope in crate::config::KNOWN_SCOPES {
            assert!(text.contains(scope), "{text}");
        }
        let offered: Vec<String> = scope_parser()
            .possible_values()
            .expect("a fixed list")
            .map(|value| value.get_name().to_owned())
            .collect();
        assert_eq!(offered, crate::config::KNOWN_SCOPES);
        assert!(parse(&["--scopes", "calendar:everything"]).is_err());
        assert!(parse(&["--scopes", ""]).is_err());
        assert!(parse(&["--scopes", "calendar:check,calendar:push"]).is_ok());
    }
}
