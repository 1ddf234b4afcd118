//! `check MAILBOX`: the access check, as `GET .../calendar/access`, as a table or the API's JSON.

use std::path::Path;
use std::process::ExitCode;

use crate::api::dto::AccessBody;
use crate::api::problem::Problem;

use super::{fail, load_for_mailbox, pretty, report_problem};

/// Exit 0 with the report (whatever its status), 1 for a refused mailbox, 2 when the check
/// itself failed.
pub async fn run(config: &Path, mailbox: &str, json: bool) -> ExitCode {
    let (config, mailbox) = match load_for_mailbox(config, mailbox, json).await {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let exchange = match crate::app::open_exchange(&config) {
        Ok(exchange) => exchange,
        Err(error) => return fail(&error),
    };
    // Routed as `serve` routes it: a Graph mailbox is checked on Graph (`[graph]`, `[routing]`).
    let delegation = match crate::app::open_delegation(&config, exchange, None) {
        Ok((delegation, _tokens)) => delegation,
        Err(error) => return fail(&error),
    };
    match delegation.check(&mailbox).await {
        Ok(report) => {
            let body = AccessBody::from(&report);
            if json {
                println!("{}", pretty(&body));
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
                .or_else(|| body.graph_error_code.clone())
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
