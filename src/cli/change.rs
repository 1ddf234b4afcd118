//! `grant` and `revoke`: one change of a mailbox's calendar permission, as `PUT` and `DELETE
//! .../calendar/delegation`, as one line or the API's JSON.

use std::path::Path;
use std::process::ExitCode;

use crate::api::dto::ChangeBody;
use crate::api::problem::{Problem, ProblemCode};
use crate::app::{open_audit, open_exchange};
use crate::delegation::{Actor, GrantRequest, PermissionLevel, RevokeRequest};

use super::{fail, load_for_mailbox, pretty, report_problem};

/// The change asked for on the command line.
pub enum Change {
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

/// Exit 0 with the outcome (changed or not), 1 for a refusal about the mailbox (its address,
/// the principal, the level), 2 otherwise.
pub async fn run(config: &Path, mailbox: &str, change: Change, json: bool) -> ExitCode {
    let (config, mailbox) = match load_for_mailbox(config, mailbox, json).await {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let rooms = open_exchange(&config).and_then(|exchange| Ok((exchange, open_audit(&config)?)));
    let (exchange, audit) = match rooms {
        Ok(rooms) => rooms,
        Err(error) => return fail(&error),
    };
    // Routed as `serve` routes it (`[graph]`, `[routing]`).
    let delegation = match crate::app::open_delegation(&config, exchange, Some(audit)) {
        Ok((delegation, _tokens)) => delegation,
        Err(error) => return fail(&error),
    };
    let actor = Actor {
        request_id: crate::ids::next_ulid().to_string(),
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
                    let problem = Problem::new(ProblemCode::InvalidLevel, error.to_string());
                    return report_problem(problem.with_mailbox(mailbox.as_str()), json);
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
            let request = RevokeRequest { principal, dry_run };
            delegation.revoke(&actor, &mailbox, request).await
        }
    };
    match result {
        Ok(outcome) => {
            let body = ChangeBody::from(&outcome);
            if json {
                println!("{}", pretty(&body));
            } else {
                println!("{}", one_line(&body));
            }
            ExitCode::SUCCESS
        }
        Err(error) => report_problem(Problem::from(&error).with_mailbox(mailbox.as_str()), json),
    }
}

/// `mailbox: principal previous -> level (changed|unchanged)[ [dry run: nothing written]]`.
fn one_line(body: &ChangeBody) -> String {
    format!(
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
    )
}
