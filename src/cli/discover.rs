//! `discover MAILBOX`: Autodiscover's every candidate with its outcome, then the EWS URL found.

use std::path::Path;
use std::process::ExitCode;

use crate::api::problem::{Problem, ProblemCode};
use crate::domain::Mailbox;
use crate::exchange::autodiscover::{self, Attempt, Discovery, Outcome};

use super::{fail, load_config_offline, pretty, report_problem};

/// `discover MAILBOX`: every candidate with its outcome, then the URL found (exit 0), or why
/// none worked (exit 2); an invalid address is exit 1.
pub async fn run(config: &Path, mailbox: &str, json: bool) -> ExitCode {
    // No Autodiscover before it: finding the URL is this command's work.
    let config = match load_config_offline(config) {
        Ok(config) => config,
        Err(exit) => return exit,
    };

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
    if json {
        println!("{}", pretty(&json_body(&mailbox, &result)));
    } else {
        print_text(&result);
    }
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// The attempts of a discovery, found or not.
fn attempts(result: &Result<Discovery, autodiscover::Error>) -> &[Attempt] {
    match result {
        Ok(found) => found.attempts.as_slice(),
        Err(error) => error.attempts(),
    }
}

/// An attempt's outcome as a word and its detail.
fn describe(attempt: &Attempt) -> (&'static str, String) {
    match &attempt.outcome {
        Outcome::Found { url, setting } => ("found", format!("{url} ({setting})")),
        Outcome::Redirected { kind, target } => ("redirected", format!("{kind} to {target}")),
        Outcome::Refused { reason } => ("refused", reason.clone()),
        Outcome::Failed { reason } => ("failed", reason.clone()),
    }
}

/// `--json`: the mailbox, the URL (or `null` and the error) and every attempt.
fn json_body(
    mailbox: &Mailbox,
    result: &Result<Discovery, autodiscover::Error>,
) -> serde_json::Value {
    let attempts: Vec<serde_json::Value> = attempts(result)
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
    match result {
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
    }
}

/// One numbered line per attempt, then the URL and how it was found.
fn print_text(result: &Result<Discovery, autodiscover::Error>) {
    for (index, attempt) in attempts(result).iter().enumerate() {
        let (outcome, detail) = describe(attempt);
        println!(
            "{:>2}. {:<14} {} as {}: {outcome}: {detail}",
            index + 1,
            attempt.protocol.as_str(),
            attempt.url,
            attempt.mailbox
        );
    }
    if let Ok(found) = result {
        println!("EWS URL: {}", found.url);
        println!("found by: {}", found.found_by);
    }
}
