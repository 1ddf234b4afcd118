//! `batch check|grant --file FILE`: the batch driver as the API runs it, its NDJSON lines on
//! stdout as they complete, the summary last, and a progress bar on stderr when it is a
//! terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::api::batch::{Rendered, Summary, render_line, render_summary};
use crate::api::dto::{AccessBody, ChangeBody};
use crate::api::problem::Problem;
use crate::app::{open_audit, open_exchange};
use crate::config::Config;
use crate::delegation::batch::{self, Batch, MAX_MAILBOXES, Progress};
use crate::delegation::{self, Actor, Delegation, GrantRequest, UnknownLevel};
use crate::domain::Mailbox;
use crate::exchange::{AccountStatus, Exchange};

use super::args::BatchAction;
use super::{compact, fail, load_config};

/// What `batch` was asked: the action and, for a grant, its options.
pub struct Options {
    pub action: BatchAction,
    pub level: Option<String>,
    pub principal: Option<String>,
    pub dry_run: bool,
}

/// Exit 1 when the grant's principal or level is refused (one problem line on stdout instead
/// of the NDJSON lines, before anything is read or asked); exit 2 when the list cannot be read
/// or is too long, or when Exchange refused every service account.
pub async fn run(config: &Path, file: &Path, options: Options) -> ExitCode {
    let config = match load_config(config).await {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let grant = match grant_request(options) {
        Ok(grant) => grant,
        Err(error) => {
            eprintln!("ews-connector: invalid_level: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(request) = &grant
        && let Err(error) = config.delegation_settings().admit_grant(request)
    {
        let problem = Problem::from(&error);
        println!("{}", compact(&problem));
        eprintln!("ews-connector: {}: {}", problem.code, problem.detail);
        return ExitCode::from(1);
    }
    let list = match read_list(file) {
        Ok(list) => list,
        Err(exit) => return exit,
    };
    let exchange = match open_exchange(&config) {
        Ok(exchange) => exchange,
        Err(error) => return fail(&error),
    };
    // Only a grant writes the audit trail.
    let audit = match grant.as_ref().map(|_| open_audit(&config)).transpose() {
        Ok(audit) => audit,
        Err(error) => return fail(&error),
    };
    // Routed as `serve` routes it (`[graph]`, `[routing]`).
    let delegation = match crate::app::open_delegation(&config, exchange.clone(), audit.clone()) {
        Ok((delegation, _tokens)) => Arc::new(delegation),
        Err(error) => return fail(&error),
    };
    let running = start(&config, &exchange, delegation, list, grant);
    if print_lines(running).await.is_err() {
        return ExitCode::from(2);
    }
    if let Some(audit) = audit {
        let _ = audit.flush();
    }
    let all_refused = exchange
        .account_states()
        .iter()
        .all(|state| matches!(state.status, AccountStatus::AuthFailed { .. }));
    if all_refused {
        eprintln!("ews-connector: Exchange refused the credentials of every service account");
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}

/// The grant's request (`None` for `batch check`), its level parsed.
fn grant_request(options: Options) -> Result<Option<GrantRequest>, UnknownLevel> {
    match options.action {
        BatchAction::Check => Ok(None),
        BatchAction::Grant => Ok(Some(GrantRequest {
            principal: options.principal,
            level: options.level.map(|level| level.parse()).transpose()?,
            dry_run: options.dry_run,
        })),
    }
}

/// The deduplicated list of FILE (at most [`MAX_MAILBOXES`]).
fn read_list(file: &Path) -> Result<Vec<String>, ExitCode> {
    let text = std::fs::read_to_string(file).map_err(|error| {
        eprintln!("ews-connector: cannot read {}: {error}", file.display());
        ExitCode::from(2)
    })?;
    let list = batch::parse_list(&text);
    if list.len() > MAX_MAILBOXES {
        eprintln!(
            "ews-connector: {} holds {} mailboxes; at most {MAX_MAILBOXES} are allowed",
            file.display(),
            list.len()
        );
        return Err(ExitCode::from(2));
    }
    Ok(batch::dedupe(list))
}

/// Starts the batch: checks, or grants as the actor `cli`.
fn start(
    config: &Config,
    exchange: &Arc<Exchange>,
    delegation: Arc<Delegation>,
    list: Vec<String>,
    grant: Option<GrantRequest>,
) -> Batch<Rendered> {
    let work: Work = match grant {
        None => {
            let delegation = delegation.clone();
            Box::new(move |mailbox: Mailbox| {
                let delegation = delegation.clone();
                Box::pin(async move {
                    let report = delegation.check(&mailbox).await?;
                    Ok(Rendered::access(&AccessBody::from(&report)))
                })
            })
        }
        Some(request) => {
            let actor = Arc::new(Actor {
                request_id: crate::ids::next_ulid().to_string(),
                client: "cli".to_owned(),
            });
            let delegation = delegation.clone();
            Box::new(move |mailbox: Mailbox| {
                let (delegation, actor, request) =
                    (delegation.clone(), actor.clone(), request.clone());
                Box::pin(async move {
                    let outcome = delegation.grant(&actor, &mailbox, request).await?;
                    Ok(Rendered::change(&ChangeBody::from(&outcome)))
                })
            })
        }
    };
    batch::start(
        &delegation,
        exchange.ceiling_per_account(),
        list,
        &config.api.allowed_domains,
        Arc::new(Progress::default()),
        work,
    )
}

/// One batch line's work: a check or a grant of one mailbox.
type Work = Box<
    dyn Fn(Mailbox) -> crate::backend::BoxFuture<'static, Result<Rendered, delegation::Error>>
        + Send
        + Sync,
>;

/// Writes each line as it completes and the summary last; `Err` when stdout is closed.
async fn print_lines(mut running: Batch<Rendered>) -> Result<(), ()> {
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
        stdout.write_all(&line_bytes).map_err(|_| ())?;
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
    Ok(())
}
