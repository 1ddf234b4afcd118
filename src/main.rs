//! The `ews-connector` binary: parses the arguments and hands each command to its function in
//! `ews_connector::cli`. No logic lives here (see ARCHITECTURE.md).

use std::process::ExitCode;

use clap::Parser;

use ews_connector::cli::args::{Cli, Command, ConfigCommand, TokenCommand};
use ews_connector::cli::{batch, change, check, discover, offline, serve};

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
        } => offline::config_check(&config),
        Command::Sim {
            state,
            listen,
            latency_ms,
            max_concurrency,
            graph_tenant,
        } => {
            let options = ews_connector::sim::SimOptions {
                state,
                listen,
                latency_ms,
                max_concurrency,
            };
            offline::sim(options, graph_tenant.as_deref()).await
        }
        Command::Serve { config } => serve::run(&config).await,
        Command::Grant {
            mailbox,
            level,
            principal,
            options,
        } => {
            let grant = change::Change::Grant {
                level,
                principal,
                dry_run: options.dry_run,
            };
            change::run(&options.config, &mailbox, grant, options.json).await
        }
        Command::Revoke {
            mailbox,
            principal,
            options,
        } => {
            let revoke = change::Change::Revoke {
                principal,
                dry_run: options.dry_run,
            };
            change::run(&options.config, &mailbox, revoke, options.json).await
        }
        Command::Batch {
            action,
            file,
            config,
            level,
            principal,
            dry_run,
        } => {
            let options = batch::Options {
                action,
                level,
                principal,
                dry_run,
            };
            batch::run(&config, &file, options).await
        }
        Command::Token {
            command: TokenCommand::New { name, scopes },
        } => offline::token_new(&name, &scopes),
        Command::Discover {
            mailbox,
            config,
            json,
        } => discover::run(&config, &mailbox, json).await,
        Command::Demo { listen } => offline::demo(listen).await,
        Command::AdminScript {
            config,
            users,
            graph,
            group,
        } => {
            if graph {
                offline::admin_script_graph(&config, group.as_deref())
            } else {
                offline::admin_script(&config, users.as_deref())
            }
        }
        Command::Doctor {
            config,
            mailbox,
            json,
        } => offline::doctor(&config, mailbox.as_deref(), json).await,
        Command::Check {
            mailbox,
            config,
            json,
        } => check::run(&config, &mailbox, json).await,
    }
}
