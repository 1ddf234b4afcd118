//! `doctor`: diagnoses the path from this host to Exchange step by step (configuration, name
//! resolution, TCP, TLS, the offered authentication schemes, an NTLM logon per service account
//! with and without channel binding, a GetFolder of each account's own calendar, and optionally
//! the full access check of one mailbox), and says for each step what was found and what to fix.
//! With `[graph]`, the Microsoft Graph steps follow (`graph.rs`: the token, the application
//! permission in its `roles`, the calendar read of `--mailbox`); a mailbox that routing sends
//! only to Graph is not checked on EWS.
//!
//! Invariants:
//! - every step ends in exactly one [`Verdict`]; a step that cannot run because an earlier one
//!   failed is [`Verdict::Skipped`] with the reason, never left out;
//! - every non-ok step carries one concrete fix sentence (a configuration key, a PowerShell or
//!   IIS setting);
//! - nothing here prints a password, a token or an `Authorization` value: accounts are named by
//!   their username, passwords by where they are read from;
//! - each account gets at most two logon attempts per run (with and without channel binding, the
//!   second only on https with NTLM), so a wrong password costs at most two failed logons;
//! - the network work is `transport::inspect` (no credentials) and `exchange` (the same call
//!   path the service uses); this room builds no XML and opens no socket itself.
//!
//! Layout: this file holds the types, the rendering, the NTLM decision table and the order of
//! the steps (`diagnose`: a step that stops the run returns `Stopped` after marking the later
//! steps skipped); `steps` holds the steps themselves. Its place among the rooms: ARCHITECTURE.md.
//!
//! Entry points: [`run`], [`Report::render_text`], [`Report::render_json`].
//! Entry types: [`Report`], [`Step`], [`Verdict`], [`Logon`], [`NtlmFinding`].

mod graph;
mod steps;

use std::path::Path;

use crate::config::Config;
use crate::domain::Mailbox;
use crate::routing::Side;

use crate::ews::ops::get_folder::Folder;
use crate::ews::response::ResponseMessage;
use crate::exchange::{self, Answer};

/// The outcome of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but something deserves attention (a lab flag, a certificate close to expiry).
    Warn,
    Fail,
    /// Not run, because an earlier step failed (the detail says which).
    Skipped,
}

impl Verdict {
    /// As printed in the text table: `ok`, `warn`, `FAIL`, `skipped`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skipped",
        }
    }

    /// As written in `--json`: `ok`, `warn`, `fail`, `skipped`.
    pub fn json_name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One line of the diagnosis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// A stable name: `config`, `http`, `lab flags`, `password file`, `dns`, `tcp`, `tls` (when skipped),
    /// `tls handshake`, `tls trust`, `tls name`, `tls expiry`, `channel binding`, `auth schemes`,
    /// `logon`, `getfolder`, `mailbox`, `graph token`, `graph permission`, `graph mailbox`.
    pub step: &'static str,
    /// The service account's username for per-account steps, the mailbox for `mailbox`.
    pub subject: Option<String>,
    pub verdict: Verdict,
    /// What was found, in one line.
    pub detail: String,
    /// For every verdict but `ok`: one sentence saying what to do.
    pub fix: Option<String>,
}

/// The whole diagnosis, steps in the order they ran.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub steps: Vec<Step>,
}

impl Report {
    /// True when no step failed or was skipped (warnings allowed): exit status 0.
    pub fn passed(&self) -> bool {
        self.steps
            .iter()
            .all(|step| matches!(step.verdict, Verdict::Ok | Verdict::Warn))
    }

    /// The table for people: one line per step (verdict, step, what was found), and under each
    /// non-ok step its fix; a summary line last.
    pub fn render_text(&self) -> String {
        let names: Vec<String> = self.steps.iter().map(step_name).collect();
        let width = names
            .iter()
            .map(|name| name.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (step, name) in self.steps.iter().zip(&names) {
            out.push_str(&format!(
                "{:<8} {:<width$}  {}\n",
                step.verdict.label(),
                name,
                step.detail
            ));
            if let Some(fix) = &step.fix {
                out.push_str(&format!("{:<8} {:<width$}  fix: {}\n", "", "", fix));
            }
        }
        let count = |verdict| {
            self.steps
                .iter()
                .filter(|step| step.verdict == verdict)
                .count()
        };
        out.push_str(&format!(
            "\n{}: {} ok, {} warn, {} FAIL, {} skipped\n",
            if self.passed() {
                "all checks passed"
            } else {
                "problems found"
            },
            count(Verdict::Ok),
            count(Verdict::Warn),
            count(Verdict::Fail),
            count(Verdict::Skipped),
        ));
        out
    }

    /// `--json`: an array with one object per step: `step`, `subject` (the account or mailbox,
    /// or null), `verdict` (`ok` | `warn` | `fail` | `skipped`), `detail`, `fix` (null when ok).
    pub fn render_json(&self) -> String {
        let steps: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|step| {
                serde_json::json!({
                    "step": step.step,
                    "subject": step.subject,
                    "verdict": step.verdict.json_name(),
                    "detail": step.detail,
                    "fix": step.fix,
                })
            })
            .collect();
        serde_json::to_string_pretty(&steps).expect("json values always serialize")
    }

    fn push(
        &mut self,
        step: &'static str,
        subject: Option<&str>,
        verdict: Verdict,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.steps.push(Step {
            step,
            subject: subject.map(str::to_owned),
            verdict,
            detail: detail.into(),
            fix,
        });
    }

    fn ok(&mut self, step: &'static str, subject: Option<&str>, detail: impl Into<String>) {
        self.push(step, subject, Verdict::Ok, detail, None);
    }

    fn warn(
        &mut self,
        step: &'static str,
        subject: Option<&str>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(step, subject, Verdict::Warn, detail, Some(fix.into()));
    }

    fn fail(
        &mut self,
        step: &'static str,
        subject: Option<&str>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(step, subject, Verdict::Fail, detail, Some(fix.into()));
    }

    fn skip(&mut self, step: &'static str, subject: Option<&str>, reason: &str) {
        self.push(
            step,
            subject,
            Verdict::Skipped,
            format!("not run: {reason}"),
            Some("fix the failed step above first, then run doctor again".to_owned()),
        );
    }

    fn skip_all(&mut self, steps: &[&'static str], reason: &str) {
        for step in steps {
            self.skip(step, None, reason);
        }
    }
}

fn step_name(step: &Step) -> String {
    match &step.subject {
        Some(subject) => format!("{} {subject}", step.step),
        None => step.step.to_owned(),
    }
}

/// How one logon attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logon {
    /// Exchange accepted the credentials (it answered with SOAP, whatever the answer).
    Accepted,
    /// HTTP 401 to the credentials.
    Refused,
    /// Anything else (connection, protocol): nothing learnt about the credentials.
    Failed,
}

/// What an NTLM logon with and without channel binding says about the set-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NtlmFinding {
    /// Accepted both ways: Extended Protection is off (or Allow without a proxy in between).
    BothAccepted,
    /// Accepted with a binding only: Extended Protection requires one.
    BindingRequired,
    /// Accepted without a binding only: the binding we compute does not match what the server
    /// expects, the sign of a TLS-terminating proxy or load balancer.
    BindingMismatch,
    /// Refused both ways: wrong password, or the account is locked or disabled.
    BothRefused,
    /// An attempt failed for another reason; nothing can be concluded.
    Inconclusive,
}

impl NtlmFinding {
    /// The decision table of the two NTLM attempts.
    pub fn from_attempts(with_binding: Logon, without_binding: Logon) -> NtlmFinding {
        match (with_binding, without_binding) {
            (Logon::Accepted, Logon::Accepted) => NtlmFinding::BothAccepted,
            (Logon::Accepted, Logon::Refused) => NtlmFinding::BindingRequired,
            (Logon::Refused, Logon::Accepted) => NtlmFinding::BindingMismatch,
            (Logon::Refused, Logon::Refused) => NtlmFinding::BothRefused,
            _ => NtlmFinding::Inconclusive,
        }
    }
}

/// The logon step's verdict, detail and fix for an NTLM finding over https.
fn ntlm_verdict(
    finding: NtlmFinding,
    configured_binding: bool,
    username: &str,
    password_fix: &str,
) -> (Verdict, String, Option<String>) {
    let binding_key = format!("tls.channel_binding = {configured_binding}");
    match (finding, configured_binding) {
        (NtlmFinding::BothAccepted, _) => (
            Verdict::Ok,
            format!(
                "NTLM accepted {username} with and without channel binding (Extended Protection is off or Allow); {binding_key}"
            ),
            None,
        ),
        (NtlmFinding::BindingRequired, true) => (
            Verdict::Ok,
            format!(
                "NTLM accepted {username} with channel binding and refused it without: Extended Protection requires a binding, and tls.channel_binding = true sends it"
            ),
            None,
        ),
        (NtlmFinding::BindingRequired, false) => (
            Verdict::Fail,
            format!(
                "Extended Protection requires a channel binding: NTLM accepted {username} with a binding and refused it without, and tls.channel_binding = false"
            ),
            Some("set tls.channel_binding = true (the server's ExtendedProtectionTokenChecking is Require)".to_owned()),
        ),
        (NtlmFinding::BindingMismatch, configured) => (
            if configured { Verdict::Fail } else { Verdict::Warn },
            format!(
                "NTLM accepted {username} without channel binding but refused it with one: a TLS-terminating proxy or load balancer presents a different certificate than Exchange sees, so the binding cannot match; {binding_key}"
            ),
            Some(if configured {
                "let the load balancer pass TLS through to Exchange (or present Exchange's own certificate), or, only while ExtendedProtectionTokenChecking is None on the EWS virtual directory (Get-WebServicesVirtualDirectory | fl ExtendedProtectionTokenChecking), set tls.channel_binding = false".to_owned()
            } else {
                "works as configured, but Extended Protection can never be required on this path: let the load balancer pass TLS through to Exchange before turning it on".to_owned()
            }),
        ),
        (NtlmFinding::BothRefused, _) => (
            Verdict::Fail,
            format!(
                "NTLM refused {username} with and without channel binding: wrong password, or the account is locked or disabled (NTLM cannot tell these apart)"
            ),
            Some(password_fix.to_owned()),
        ),
        (NtlmFinding::Inconclusive, _) => (
            Verdict::Fail,
            format!("the NTLM logon of {username} could not be completed"),
            Some("fix the connection problem shown, then run doctor again".to_owned()),
        ),
    }
}

/// The answer of one logon attempt: a GetFolder of the account's own calendar.
type FolderAnswer = Result<Answer<Vec<ResponseMessage<Folder>>>, exchange::Error>;

/// Runs every step against the configuration at `config_path` (and its `EWSC__…` overrides),
/// and, with `mailbox`, the full access check of that mailbox; with `[graph]`, the Graph steps
/// after the EWS ones (`graph.rs`).
pub async fn run(config_path: &Path, mailbox: Option<&str>) -> Report {
    let mut report = Report::default();
    // Where a step stops the run, it has recorded its failure and skipped every later step.
    let Ok((config, https)) = steps::configuration(&mut report, config_path, mailbox).await else {
        return report;
    };
    // A mailbox that routing sends only to Graph (`routing.graph_domains`) is not checked on
    // EWS; one that EWS may not hold while Graph may is judged with that in mind.
    let parsed = mailbox.and_then(|text| Mailbox::parse(text).ok());
    let (ews_only_elsewhere, graph_next) = match (&parsed, &config.graph) {
        (Some(parsed), Some(_)) => (
            !graph::may_serve(&config, parsed, Side::Ews),
            graph::may_serve(&config, parsed, Side::Graph),
        ),
        _ => (false, false),
    };
    let ews_mailbox = if ews_only_elsewhere { None } else { mailbox };
    let (Ok(()) | Err(Stopped)) =
        diagnose(&mut report, &config, https, ews_mailbox, graph_next).await;
    if let (true, Some(parsed)) = (ews_only_elsewhere, &parsed) {
        report.ok(
            "mailbox",
            mailbox,
            format!(
                "not checked on EWS: routing.graph_domains sends {} to Microsoft Graph, where the graph mailbox step checks it",
                parsed.domain()
            ),
        );
    }
    graph::steps(&mut report, &config, mailbox).await;
    report
}

/// A step failed in a way that makes the later steps pointless; they are marked skipped.
struct Stopped;

/// The EWS steps in their order after the configuration: DNS, TCP, TLS, the offered schemes,
/// each account's logon and GetFolder, and the mailbox's access check (`graph_next`: routing
/// asks Graph when EWS does not hold the mailbox).
async fn diagnose(
    report: &mut Report,
    config: &Config,
    https: bool,
    mailbox: Option<&str>,
    graph_next: bool,
) -> Result<(), Stopped> {
    let transport = match config.exchange_settings() {
        Ok(settings) => settings.transport,
        Err(error) => {
            report.fail("dns", None, error.to_string(), steps::URL_FIX);
            return Err(Stopped);
        }
    };
    let addresses = steps::dns(report, config, &transport, mailbox).await?;
    steps::tcp(report, config, &transport, &addresses, mailbox).await?;

    if https && !steps::tls_steps(report, config).await {
        steps::skip_after_tls(report, config, mailbox);
        return Err(Stopped);
    }

    if !steps::auth_schemes(report, config).await {
        let reason = "the server does not offer the configured scheme";
        steps::skip_accounts(report, config, reason);
        if mailbox.is_some() {
            report.skip("mailbox", mailbox, reason);
        }
        return Err(Stopped);
    }

    // Each account: logon and a GetFolder of its own calendar.
    let mut working = Vec::new();
    for account in &config.exchange.accounts {
        if steps::account_steps(report, config, account, https).await {
            working.push(account.username.clone());
        }
    }

    if let Some(mailbox) = mailbox {
        if !working.is_empty() {
            steps::mailbox_step(report, config, mailbox, &working, graph_next).await;
        } else {
            report.skip("mailbox", Some(mailbox), "no service account could log on");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Logon, NtlmFinding, Report, Verdict, ntlm_verdict};

    const FIX: &str = "check the password";

    #[test]
    fn the_two_ntlm_attempts_name_each_cause() {
        use Logon::{Accepted, Failed, Refused};
        let table = [
            (Accepted, Accepted, NtlmFinding::BothAccepted),
            (Accepted, Refused, NtlmFinding::BindingRequired),
            (Refused, Accepted, NtlmFinding::BindingMismatch),
            (Refused, Refused, NtlmFinding::BothRefused),
            (Failed, Refused, NtlmFinding::Inconclusive),
            (Accepted, Failed, NtlmFinding::Inconclusive),
        ];
        for (with, without, finding) in table {
            assert_eq!(
                NtlmFinding::from_attempts(with, without),
                finding,
                "{with:?}/{without:?}"
            );
        }
    }

    #[test]
    fn binding_required_fails_only_when_the_binding_is_off() {
        let (verdict, detail, fix) =
            ntlm_verdict(NtlmFinding::BindingRequired, false, "CONTOSO\\sa", FIX);
        assert_eq!(verdict, Verdict::Fail);
        assert!(
            detail.contains("Extended Protection requires a channel binding"),
            "{detail}"
        );
        assert!(fix.unwrap().contains("set tls.channel_binding = true"));
        let (verdict, _, fix) =
            ntlm_verdict(NtlmFinding::BindingRequired, true, "CONTOSO\\sa", FIX);
        assert_eq!(verdict, Verdict::Ok);
        assert!(fix.is_none());
    }

    #[test]
    fn a_binding_refused_where_none_is_accepted_points_at_a_proxy() {
        let (verdict, detail, fix) =
            ntlm_verdict(NtlmFinding::BindingMismatch, true, "CONTOSO\\sa", FIX);
        assert_eq!(verdict, Verdict::Fail);
        assert!(
            detail.contains(
                "TLS-terminating proxy or load balancer presents a different certificate"
            ),
            "{detail}"
        );
        assert!(fix.unwrap().contains("pass TLS through"));
        let (verdict, _, _) = ntlm_verdict(NtlmFinding::BindingMismatch, false, "CONTOSO\\sa", FIX);
        assert_eq!(
            verdict,
            Verdict::Warn,
            "works as configured, but worth knowing"
        );
    }

    #[test]
    fn refused_both_ways_is_a_password_or_a_locked_account() {
        let (verdict, detail, fix) =
            ntlm_verdict(NtlmFinding::BothRefused, true, "CONTOSO\\sa-2", FIX);
        assert_eq!(verdict, Verdict::Fail);
        assert!(detail.contains("CONTOSO\\sa-2"), "{detail}");
        assert!(detail.contains("wrong password, or the account is locked or disabled"));
        assert_eq!(fix.as_deref(), Some(FIX));
    }

    #[test]
    fn warnings_pass_and_failures_or_skips_do_not() {
        let mut report = Report::default();
        report.ok("dns", None, "resolves");
        report.warn("http", None, "plain http", "use https");
        assert!(report.passed());
        let text = report.render_text();
        assert!(text.contains("ok       dns"), "{text}");
        assert!(text.contains("fix: use https"), "{text}");
        assert!(
            text.contains("all checks passed: 1 ok, 1 warn, 0 FAIL, 0 skipped"),
            "{text}"
        );
        report.skip("tcp", None, "the name does not resolve");
        assert!(!report.passed());
        let json: serde_json::Value = serde_json::from_str(&report.render_json()).unwrap();
        assert_eq!(json[2]["step"], "tcp");
        assert_eq!(json[2]["verdict"], "skipped");
        assert_eq!(json[0]["fix"], serde_json::Value::Null);
        assert_eq!(json[1]["fix"], "use https");
    }
}
