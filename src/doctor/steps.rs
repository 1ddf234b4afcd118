//! The steps of `doctor`, one function per step or group of steps, each pushing its verdicts
//! onto the [`Report`]; `run` in the parent module decides the order and what is skipped.
//!
//! Invariants: as the parent module's (one verdict per step, one fix per non-ok step, no
//! password in any text, at most two failed logons per account).
//!
//! Entry points: the `pub(super)` functions, called by [`super::run`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{self, AuthKind, Concern, Config, PasswordSource};
use crate::delegation::{Applied, CheckStatus, Delegation, EffectiveRights};
use crate::domain::{AccessMode, Mailbox};
use crate::error_chain;
use crate::exchange::{self, Exchange, FailureKind};
use crate::transport::inspect::{self, TcpOutcome, TrustFailure};

use super::{FolderAnswer, Logon, NtlmFinding, Report, Stopped, ntlm_verdict};

/// The steps before DNS or TCP all stop at, that the network steps skip.
const NETWORK_STEPS: [&str; 6] = ["dns", "tcp", "tls", "auth schemes", "logon", "getfolder"];

/// The `config` step (and `autodiscover` where it is on): the configuration loaded, with its
/// EWS URL, and whether that URL is https. Its warnings are steps of their own.
pub(super) async fn configuration(
    report: &mut Report,
    config_path: &Path,
    mailbox: Option<&str>,
) -> Result<(Config, bool), Stopped> {
    let stop = |report: &mut Report, reason: &str| {
        report.skip_all(&NETWORK_STEPS, reason);
        if mailbox.is_some() {
            report.skip("mailbox", mailbox, reason);
        }
        Stopped
    };
    let mut config = match Config::load(config_path) {
        Ok(config) => config,
        Err(error) => {
            config_failure(report, config_path, &error);
            return Err(stop(report, "the configuration is not valid"));
        }
    };
    if let Some(settings) = config.autodiscover_settings() {
        match exchange::autodiscover::discover(&settings).await {
            Ok(found) => {
                report.ok(
                    "autodiscover",
                    None,
                    format!("found {} by {}", found.url, found.found_by),
                );
                config.exchange.url = Some(found.url);
            }
            Err(error) => {
                report.fail(
                    "autodiscover",
                    None,
                    format!("no EWS URL found: {}", error_chain::display(&error)),
                    "run `ews-connector discover <mailbox> --config FILE` to see every candidate, or set exchange.url instead of exchange.autodiscover",
                );
                return Err(stop(report, "the EWS URL is unknown"));
            }
        }
    }
    let exchange_config = &config.exchange;
    let Some(exchange_url) = exchange_config.url.clone() else {
        // The loader refuses a file with neither; kept as a verdict rather than a panic.
        report.fail(
            "config",
            None,
            "no EWS URL: neither exchange.url nor exchange.autodiscover is set",
            "set exchange.url to https://<server>/EWS/Exchange.asmx",
        );
        return Err(Stopped);
    };
    report.ok(
        "config",
        None,
        format!(
            "{} is valid: {}, auth {}, {} account(s), tls.channel_binding = {}",
            config_path.display(),
            exchange_url,
            match exchange_config.auth {
                AuthKind::Ntlm => "ntlm",
                AuthKind::Basic => "basic",
            },
            exchange_config.accounts.len(),
            config.tls.channel_binding
        ),
    );
    config_warnings(report, &config);
    Ok((config, exchange_url.scheme() == "https"))
}

/// The `dns` step: the addresses of the EWS host.
pub(super) async fn dns(
    report: &mut Report,
    config: &Config,
    transport: &crate::transport::Settings,
    mailbox: Option<&str>,
) -> Result<Vec<SocketAddr>, Stopped> {
    let url = &transport.url;
    let host = url.host_str().unwrap_or_default();
    let (detail, fix) = match inspect::resolve(url, transport.connect_timeout).await {
        Ok(addresses) => {
            let listed: Vec<String> = addresses.iter().map(|a| a.ip().to_string()).collect();
            report.ok(
                "dns",
                None,
                format!("{host} resolves to {}", listed.join(", ")),
            );
            return Ok(addresses);
        }
        Err(crate::transport::Error::Timeout { after, .. }) => (
            format!("the resolver did not answer for {host} within {after:?}"),
            "check that this host reaches the DNS servers of /etc/resolv.conf (resolvectl status; nslookup <server>)",
        ),
        Err(crate::transport::Error::NameNotResolved { detail, .. }) => (
            format!("{host} does not resolve ({detail})"),
            "correct the host name in exchange.url, or add its DNS A record (check with `nslookup` on this host; /etc/resolv.conf names the resolver)",
        ),
        Err(error) => (
            format!(
                "the resolver failed for {host} ({})",
                error_chain::display(&error)
            ),
            "check that this host reaches the DNS servers of /etc/resolv.conf (resolvectl status; nslookup <server>), then run doctor again",
        ),
    };
    report.fail("dns", None, detail, fix);
    let reason = "the name does not resolve";
    report.skip("tcp", None, reason);
    skip_network(report, config, mailbox, reason);
    Err(Stopped)
}

/// The `tcp` step: a connection to one of `addresses`.
pub(super) async fn tcp(
    report: &mut Report,
    config: &Config,
    transport: &crate::transport::Settings,
    addresses: &[SocketAddr],
    mailbox: Option<&str>,
) -> Result<(), Stopped> {
    let (detail, fix) = match inspect::tcp_probe(addresses, transport.connect_timeout).await {
        TcpOutcome::Connected(address) => {
            report.ok("tcp", None, format!("connected to {address}"));
            return Ok(());
        }
        TcpOutcome::Refused(address) => (
            format!("connection refused by {address}: nothing listens on that port"),
            "check the port in exchange.url and that IIS runs on the Exchange server (Get-Service W3SVC; Test-NetConnection <server> -Port 443 from here)",
        ),
        TcpOutcome::TimedOut { address, after } => (
            format!(
                "no answer from {address} within {after:?}: a firewall drops the packets, or the host is down"
            ),
            "open the port of exchange.url in the firewalls between this host and Exchange (exchange.connect_timeout_secs sets the wait)",
        ),
        TcpOutcome::Failed { address, detail } => (
            format!("cannot connect to {address}: {detail}"),
            "check the routing from this host to Exchange (ip route; traceroute)",
        ),
    };
    report.fail("tcp", None, detail, fix);
    skip_network(report, config, mailbox, "no TCP connection");
    Err(Stopped)
}

/// The `config` step when the file does not load: the key and reason, and how to correct it
/// (Basic over plain http gets its own sentence: use https).
pub(super) fn config_failure(report: &mut Report, path: &Path, error: &config::Error) {
    match error {
        config::Error::Invalid { key, reason }
            if key == "exchange.auth" && reason.contains("https") =>
        {
            report.fail(
                "config",
                None,
                format!("{key}: {reason}"),
                "Basic over plain http is refused: use an https:// exchange.url (danger_allow_basic_over_http = true is for a lab only)",
            );
        }
        config::Error::Invalid { key, reason } => report.fail(
            "config",
            None,
            format!("{key}: {reason}"),
            format!(
                "correct {key} in {} (or its EWSC__ environment override)",
                path.display()
            ),
        ),
        config::Error::Read { path, source } => report.fail(
            "config",
            None,
            format!("cannot read {}: {source}", path.display()),
            "pass the right --config path and let the service user read it",
        ),
        config::Error::Parse { message } => report.fail(
            "config",
            None,
            format!("not a valid configuration: {message}"),
            "correct the TOML syntax or the unknown key named above (ews-connector config check --config FILE)",
        ),
    }
}

/// The configuration's warnings (`Config::warnings`, the same that `config check` prints and
/// `serve` logs), one `warn` step each: `http` for plain http (readable traffic, no channel
/// binding, for Basic a readable password), `lab flags` for a `danger_*` key that is on,
/// `password file` for a password file others can read.
pub(super) fn config_warnings(report: &mut Report, config: &Config) {
    for warning in config.warnings() {
        let step = match warning.concern {
            Concern::PlainHttp => "http",
            Concern::LabFlag => "lab flags",
            Concern::PasswordFile => "password file",
        };
        report.warn(step, None, warning.detail, warning.fix);
    }
}

/// Marks every step after DNS or TCP as skipped for `reason`.
pub(super) fn skip_network(
    report: &mut Report,
    config: &Config,
    mailbox: Option<&str>,
    reason: &str,
) {
    if config
        .exchange
        .url
        .as_ref()
        .is_some_and(|url| url.scheme() == "https")
    {
        report.skip("tls", None, reason);
    }
    report.skip("auth schemes", None, reason);
    skip_accounts(report, config, reason);
    if mailbox.is_some() {
        report.skip("mailbox", mailbox, reason);
    }
}

/// Marks every step after a refused TLS as skipped.
pub(super) fn skip_after_tls(report: &mut Report, config: &Config, mailbox: Option<&str>) {
    let reason = "the connector refuses this server's TLS";
    report.skip("auth schemes", None, reason);
    skip_accounts(report, config, reason);
    if mailbox.is_some() {
        report.skip("mailbox", mailbox, reason);
    }
}

/// Marks each account's logon and GetFolder as skipped for `reason`.
pub(super) fn skip_accounts(report: &mut Report, config: &Config, reason: &str) {
    for account in &config.exchange.accounts {
        report.skip("logon", Some(&account.username), reason);
        report.skip("getfolder", Some(&account.username), reason);
    }
}

/// The TLS steps; false when the connector would refuse the server (so later steps are skipped).
pub(super) async fn tls_steps(report: &mut Report, config: &Config) -> bool {
    let Some(url) = config.exchange.url.as_ref() else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let lab = config.tls.danger_accept_invalid_certs;
    let timeout = Duration::from_secs(config.exchange.connect_timeout_secs);
    let inspection = match inspect::inspect_tls(url, config.tls.ca_file.as_deref(), timeout).await {
        Ok(inspection) => inspection,
        Err(crate::transport::Error::CaFile { path, detail }) => {
            report.fail(
                "tls trust",
                None,
                format!("cannot use tls.ca_file {}: {detail}", path.display()),
                "point tls.ca_file to a readable PEM file holding the CA certificate that issued Exchange's certificate",
            );
            return false;
        }
        Err(error) => {
            report.fail(
                "tls handshake",
                None,
                error_chain::display(&error),
                "check that exchange.url's port serves https (not plain http) and that IIS has a certificate bound (Get-ExchangeCertificate | fl Services,Thumbprint; Enable-ExchangeCertificate -Services IIS)",
            );
            return false;
        }
    };
    let leaf = &inspection.chain[0];
    report.ok(
        "tls handshake",
        None,
        format!(
            "{} {}, {} certificate(s) sent; server certificate {} issued by {}",
            inspection.protocol,
            inspection.cipher_suite,
            inspection.chain.len(),
            leaf.subject,
            leaf.issuer
        ),
    );
    let mut usable = true;
    let mut judge = |report: &mut Report, step, detail: String, fix: &str| {
        if lab {
            report.warn(
                step,
                None,
                format!("{detail} (accepted only because tls.danger_accept_invalid_certs = true)"),
                format!("{fix}; then set tls.danger_accept_invalid_certs = false"),
            );
        } else {
            report.fail(step, None, detail, fix);
            usable = false;
        }
    };
    match &inspection.trust {
        Ok(()) => report.ok(
            "tls trust",
            None,
            format!(
                "the chain leads to a trusted root ({})",
                match &config.tls.ca_file {
                    Some(path) => format!("system roots plus tls.ca_file {}", path.display()),
                    None => "system roots".to_owned(),
                }
            ),
        ),
        Err(failure) => {
            let why = match failure {
                TrustFailure::UnknownIssuer => {
                    format!("untrusted certificate: unknown issuer {}", leaf.issuer)
                }
                TrustFailure::BadSignature => format!(
                    "untrusted certificate: issuer {} is not a trusted CA (a trusted root of that name has another key)",
                    leaf.issuer
                ),
                TrustFailure::Other(reason) => format!("untrusted certificate: {reason}"),
            };
            judge(
                report,
                "tls trust",
                why,
                "set tls.ca_file to a PEM file with the CA that issued Exchange's certificate (Get-ExchangeCertificate | fl Issuer,Thumbprint shows it); never use tls.danger_accept_invalid_certs outside a lab",
            );
        }
    }
    match &inspection.name {
        Ok(()) => report.ok(
            "tls name",
            None,
            format!("the certificate is valid for {host}"),
        ),
        Err(why) => judge(
            report,
            "tls name",
            format!("name mismatch: {why}"),
            "use in exchange.url a name the certificate holds, or bind a certificate with this name to IIS (Enable-ExchangeCertificate -Thumbprint <t> -Services IIS)",
        ),
    }
    let now = chrono::Utc::now().timestamp();
    let date = |seconds: i64| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .map(|time| time.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| seconds.to_string())
    };
    let renew = "renew Exchange's certificate and bind it to IIS (New-ExchangeCertificate or Import-ExchangeCertificate, then Enable-ExchangeCertificate -Services IIS)";
    if now > leaf.not_after {
        judge(
            report,
            "tls expiry",
            format!("the certificate expired on {}", date(leaf.not_after)),
            renew,
        );
    } else if now < leaf.not_before {
        judge(
            report,
            "tls expiry",
            format!(
                "the certificate is not valid before {} (or this host's clock is wrong)",
                date(leaf.not_before)
            ),
            "check this host's clock (timedatectl), or wait for the certificate's start date",
        );
    } else {
        let days = (leaf.not_after - now) / 86_400;
        let detail = format!("valid until {} ({days} days)", date(leaf.not_after));
        if days < 30 {
            report.warn("tls expiry", None, format!("{detail}: expires soon"), renew);
        } else {
            report.ok("tls expiry", None, detail);
        }
    }
    report.ok(
        "channel binding",
        None,
        format!(
            "the certificate is signed with {}, so tls-server-end-point hashes it with {}{}; tls.channel_binding = {}",
            leaf.signature_algorithm,
            inspection.binding_hash,
            if inspection.binding_hash_mapped {
                " (MD5 and SHA-1 are mapped to SHA-256 by RFC 5929)"
            } else {
                ""
            },
            config.tls.channel_binding
        ),
    );
    usable
}

/// The fix when the EWS URL is unknown (`Config::exchange_settings`).
pub(super) const URL_FIX: &str = "set exchange.url to https://<server>/EWS/Exchange.asmx";

/// The offered-schemes step; false when the configured scheme is not offered.
pub(super) async fn auth_schemes(report: &mut Report, config: &Config) -> bool {
    let settings = match config.exchange_settings() {
        Ok(settings) => settings.transport,
        Err(error) => {
            report.fail("auth schemes", None, error.to_string(), URL_FIX);
            return false;
        }
    };
    let path = settings.url.path().to_owned();
    let probe = match inspect::offered_schemes(&settings).await {
        Ok(probe) => probe,
        Err(error) => {
            report.fail(
                "auth schemes",
                None,
                format!(
                    "the unauthenticated request failed: {}",
                    error_chain::display(&error)
                ),
                "check the earlier steps' findings and exchange.timeout_secs",
            );
            return false;
        }
    };
    let offered = |name: &str| {
        probe
            .schemes
            .iter()
            .any(|scheme| scheme.eq_ignore_ascii_case(name))
    };
    let list = if probe.schemes.is_empty() {
        "none".to_owned()
    } else {
        probe.schemes.join(", ")
    };
    match probe.status {
        401 => {}
        404 => {
            report.fail(
                "auth schemes",
                None,
                format!("HTTP 404 for {path}: this is not the EWS endpoint"),
                "set exchange.url to https://<server>/EWS/Exchange.asmx",
            );
            return false;
        }
        status if (200..300).contains(&status) => {
            report.warn(
                "auth schemes",
                None,
                format!("HTTP {status} without credentials: the endpoint asks for no authentication"),
                "EWS normally requires authentication: check that exchange.url points at Exchange, not at a proxy's page",
            );
            return true;
        }
        status => {
            report.fail(
                "auth schemes",
                None,
                format!("HTTP {status} without credentials (offered: {list})"),
                "check the EWS virtual directory and the IIS application pool MSExchangeServicesAppPool (Get-WebServicesVirtualDirectory; Restart-WebAppPool)",
            );
            return false;
        }
    }
    match config.exchange.auth {
        AuthKind::Ntlm if offered("NTLM") || offered("Negotiate") => {
            report.ok(
                "auth schemes",
                None,
                format!("offered: {list} (NTLM configured)"),
            );
            true
        }
        AuthKind::Basic if offered("Basic") => {
            report.ok(
                "auth schemes",
                None,
                format!("offered: {list} (Basic configured)"),
            );
            true
        }
        AuthKind::Ntlm => {
            report.fail(
                "auth schemes",
                None,
                format!("offered: {list}; exchange.auth = \"ntlm\" needs NTLM or Negotiate"),
                "enable Windows authentication on the EWS virtual directory (Set-WebServicesVirtualDirectory -Identity '<server>\\EWS (Default Web Site)' -WindowsAuthentication $true), or set exchange.auth = \"basic\"",
            );
            false
        }
        AuthKind::Basic => {
            report.fail(
                "auth schemes",
                None,
                format!("offered: {list}; exchange.auth = \"basic\" needs Basic"),
                "enable Basic on the EWS virtual directory (Set-WebServicesVirtualDirectory -Identity '<server>\\EWS (Default Web Site)' -BasicAuthentication $true), or set exchange.auth = \"ntlm\"",
            );
            false
        }
    }
}

/// The logon and GetFolder steps of one account; true when the connector's configured logon
/// works for it.
pub(super) async fn account_steps(
    report: &mut Report,
    config: &Config,
    account: &config::Account,
    https: bool,
) -> bool {
    let username = account.username.as_str();
    let subject = Some(username);
    let password_fix = password_fix(account);
    let configured_binding = config.tls.channel_binding;
    let settings = match config.exchange_settings() {
        Ok(settings) => settings,
        Err(error) => {
            report.fail("logon", subject, error.to_string(), URL_FIX);
            return false;
        }
    };
    let (configured_logon, configured_answer) =
        attempt(settings.clone(), account, configured_binding).await;
    let ntlm_over_https = https && config.exchange.auth == AuthKind::Ntlm;
    if ntlm_over_https {
        let (other_logon, other_answer) = attempt(settings, account, !configured_binding).await;
        let (with, without) = if configured_binding {
            (configured_logon, other_logon)
        } else {
            (other_logon, configured_logon)
        };
        let finding = NtlmFinding::from_attempts(with, without);
        if finding == NtlmFinding::Inconclusive {
            let failure = [&configured_answer, &other_answer]
                .into_iter()
                .find_map(|answer| match answer {
                    Err(error) if classify(answer) == Logon::Failed => {
                        Some(error_chain::display(error))
                    }
                    _ => None,
                })
                .unwrap_or_default();
            report.fail(
                "logon",
                subject,
                format!("the NTLM logon of {username} could not be completed: {failure}"),
                "fix the connection problem shown, then run doctor again",
            );
        } else {
            let (verdict, detail, fix) =
                ntlm_verdict(finding, configured_binding, username, &password_fix);
            report.push("logon", subject, verdict, detail, fix);
        }
    } else {
        let scheme = match config.exchange.auth {
            AuthKind::Ntlm => "NTLM",
            AuthKind::Basic => "Basic",
        };
        match configured_logon {
            Logon::Accepted => report.ok(
                "logon",
                subject,
                format!(
                    "{scheme} accepted {username}{}",
                    if https { "" } else { " (plain http: no channel binding)" }
                ),
            ),
            Logon::Refused => report.fail(
                "logon",
                subject,
                format!(
                    "{scheme} refused {username}: wrong password, or the account is locked or disabled ({scheme} cannot tell these apart)"
                ),
                password_fix.clone(),
            ),
            Logon::Failed => report.fail(
                "logon",
                subject,
                format!(
                    "the {scheme} logon of {username} could not be completed: {}",
                    configured_answer
                        .as_ref()
                        .err()
                        .map(|error| error_chain::display(error))
                        .unwrap_or_default()
                ),
                "fix the connection problem shown, then run doctor again",
            ),
        }
    }
    if configured_logon != Logon::Accepted {
        report.skip(
            "getfolder",
            subject,
            "the connector's own logon (as configured) fails for this account",
        );
        return false;
    }
    getfolder_step(report, account, configured_answer);
    true
}

/// The `getfolder` step from the answer of the account's configured logon: the calendar read and
/// Exchange's `ServerVersionInfo`; no mailbox of its own is a warning, another code a failure.
fn getfolder_step(report: &mut Report, account: &config::Account, answer: FolderAnswer) {
    let subject = Some(account.username.as_str());
    match answer {
        Ok(answer) => {
            let version = answer
                .server_version
                .as_ref()
                .map(|info| {
                    let number = |value: Option<u32>| {
                        value.map(|n| n.to_string()).unwrap_or_else(|| "?".to_owned())
                    };
                    format!(
                        "ServerVersionInfo {}.{} build {}.{} ({})",
                        number(info.major_version),
                        number(info.minor_version),
                        number(info.major_build_number),
                        number(info.minor_build_number),
                        info.version.as_deref().unwrap_or("no schema version")
                    )
                })
                .unwrap_or_else(|| "no ServerVersionInfo in the answer".to_owned());
            match answer.response.into_iter().next() {
                Some(Ok(folder)) => report.ok(
                    "getfolder",
                    subject,
                    format!(
                        "{}'s own calendar was read{}; {version}",
                        account.smtp,
                        folder
                            .folder_class
                            .map(|class| format!(" ({class})"))
                            .unwrap_or_default()
                    ),
                ),
                Some(Err(error))
                    if matches!(
                        error.effective_code().as_str(),
                        "ErrorMissingEmailAddress" | "ErrorNonExistentMailbox"
                    ) =>
                {
                    report.warn(
                        "getfolder",
                        subject,
                        format!(
                            "EWS answered, but {} has no mailbox of its own ({}); {version}",
                            account.username,
                            error.effective_code().as_str()
                        ),
                        format!(
                            "nothing to fix unless {} should have a mailbox (a service account needs none to reach other calendars); run doctor with --mailbox to check a user's calendar",
                            account.username
                        ),
                    )
                }
                Some(Err(error)) => report.fail(
                    "getfolder",
                    subject,
                    format!(
                        "GetFolder of {}'s own calendar answered {}; {version}",
                        account.smtp,
                        error.effective_code().as_str()
                    ),
                    format!(
                        "check that {} is the primary SMTP address of {}'s own mailbox (Get-Mailbox -Identity {} | fl PrimarySmtpAddress)",
                        account.smtp, account.username, account.username
                    ),
                ),
                None => report.fail(
                    "getfolder",
                    subject,
                    "GetFolder answered with no response message",
                    "check that exchange.url points at Exchange's EWS and not at another SOAP service",
                ),
            }
        }
        Err(exchange::Error::Fault(fault)) => report.fail(
            "getfolder",
            subject,
            format!(
                "GetFolder was refused with a SOAP fault: {}",
                fault.response_code.as_str()
            ),
            "for ErrorInvalidServerVersion set exchange.version = \"Exchange2013_SP1\"; otherwise look the code up in Microsoft's EWS ResponseCode reference",
        ),
        Err(error) => report.fail(
            "getfolder",
            subject,
            format!("GetFolder failed: {}", error_chain::display(&error)),
            "check that exchange.url points at Exchange's EWS (https://<server>/EWS/Exchange.asmx)",
        ),
    }
}

/// The full access check of `text` as the service makes it, with the accounts whose logon
/// worked (`working`, by username): a refused account is not tried again, so this step adds no
/// failed logon.
/// `--mailbox` as the API admits it (a primary SMTP address within `api.allowed_domains`), or
/// the failed step `step` that says why not.
pub(super) fn admitted_mailbox(
    report: &mut Report,
    config: &Config,
    step: &'static str,
    text: &str,
) -> Option<Mailbox> {
    let subject = Some(text);
    let mailbox = match Mailbox::parse(text) {
        Ok(mailbox) => mailbox,
        Err(error) => {
            report.fail(
                step,
                subject,
                format!("not a mailbox address: {error}"),
                "pass --mailbox as a primary SMTP address, user@domain",
            );
            return None;
        }
    };
    if !mailbox.is_allowed_in(&config.api.allowed_domains) {
        report.fail(
            step,
            subject,
            format!(
                "{} is outside api.allowed_domains ({})",
                mailbox.domain(),
                config.api.allowed_domains.join(", ")
            ),
            "pass a mailbox of an allowed domain, or add its domain to api.allowed_domains",
        );
        return None;
    }
    Some(mailbox)
}

pub(super) async fn mailbox_step(
    report: &mut Report,
    config: &Config,
    text: &str,
    working: &[String],
    graph_next: bool,
) {
    let subject = Some(text);
    let Some(mailbox) = admitted_mailbox(report, config, "mailbox", text) else {
        return;
    };
    let mut settings = match config.exchange_settings() {
        Ok(settings) => settings,
        Err(error) => {
            report.fail("mailbox", subject, error.to_string(), URL_FIX);
            return;
        }
    };
    let left_out = settings.accounts.len() - working.len();
    settings
        .accounts
        .retain(|account| working.contains(&account.username));
    let exchange = match Exchange::new(settings) {
        Ok(exchange) => Arc::new(exchange),
        Err(error) => {
            report.fail(
                "mailbox",
                subject,
                error_chain::display(&error),
                "fix the transport settings shown",
            );
            return;
        }
    };
    let delegation_settings = config.delegation_settings();
    let principal = delegation_settings.principal.clone();
    let required = config.delegation.level;
    let delegation = Delegation::new(
        crate::backend::ews::EwsBackend::shared(exchange),
        delegation_settings,
        None,
    )
    .confirming_with_exchange();
    let report_ = match delegation.check(&mailbox).await {
        Ok(check) => check,
        Err(error) => {
            report.fail(
                "mailbox",
                subject,
                format!("the access check failed: {}", error_chain::display(&error)),
                "fix the failing step above; if none failed, look at the Exchange code shown",
            );
            return;
        }
    };
    let level = report_
        .delegation
        .level
        .map(|level| level.as_str().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    // Which entry applied (own, a group, Default) and what it allows, where the permission set
    // could be read.
    let evaluation = report_
        .delegation
        .evaluation
        .as_ref()
        .map(|evaluation| {
            let route = match &evaluation.applied {
                Applied::Own => "own entry".to_owned(),
                Applied::Groups(groups) => format!("group {}", groups.join(", ")),
                Applied::Default => "Default entry".to_owned(),
                Applied::Nothing => "no entry".to_owned(),
            };
            format!(" [{route}; allows {}]", evaluation.allows().describe())
        })
        .unwrap_or_default();
    // Exchange's own answer for the service account, next to what the evaluation says Exchange
    // computes from the entry that applies (docs/FIDELITY.md): a difference is a behaviour to
    // report.
    let sent = report_.effective_rights;
    let computed = report_
        .delegation
        .evaluation
        .as_ref()
        .and_then(|evaluation| evaluation.folder_access());
    let rights = |rights: Option<EffectiveRights>| match rights {
        Some(rights) => format!(
            "createContents {}, read {}, modify {}, delete {}",
            rights.create_contents, rights.read, rights.modify, rights.delete
        ),
        None => "no folder".to_owned(),
    };
    let exchange_rights = match (&report_.delegation.evaluation, report_.access_mode) {
        (Some(_), AccessMode::Delegate) => format!(
            "; Exchange's EffectiveRights for {}: {}",
            report_.service_account,
            rights(sent)
        ),
        _ => String::new(),
    };
    let disagrees = matches!(
        (&report_.delegation.evaluation, report_.access_mode),
        (Some(_), AccessMode::Delegate)
    ) && report_.ready
        && sent != computed;
    let code = report_
        .ews_response_code
        .as_deref()
        .map(|code| format!(", Exchange code {code}"))
        .unwrap_or_default();
    let detail = format!(
        "status {}, ready {}, {principal} has {level}{evaluation} (required {required}), via {}{code}{exchange_rights}{}",
        report_.status.as_str(),
        report_.ready,
        report_.service_account,
        if left_out > 0 {
            format!(" ({left_out} refused account(s) left out)")
        } else {
            String::new()
        }
    );
    let mailbox = mailbox.as_str();
    let service = &report_.service_account;
    let fix = match report_.status {
        _ if disagrees => Some(format!(
            "the permission set's entry for {principal} implies folder rights {} for {service}, but Exchange sent {}: the connector's reading of this server differs (docs/FIDELITY.md); report it, and do not rely on one-request checks until it is understood",
            rights(computed),
            rights(sent)
        )),
        CheckStatus::Ok if report_.ready => None,
        CheckStatus::Ok => Some(format!(
            "the level is enough but Exchange's effective rights are not: check the calendar's permissions (Get-MailboxFolderPermission {mailbox}:\\Calendar)"
        )),
        CheckStatus::NotDelegated | CheckStatus::Insufficient => Some(format!(
            "grant it: ews-connector grant {mailbox} --config FILE (or Add-MailboxFolderPermission {mailbox}:\\Calendar -User {principal} -AccessRights {required})"
        )),
        CheckStatus::NoAccess => Some(format!(
            "give {service} access to the calendar (delegate access mode) or ApplicationImpersonation (impersonation mode); see Get-MailboxFolderPermission {mailbox}:\\Calendar"
        )),
        CheckStatus::ImpersonationDenied => Some(format!(
            "give {service} the ApplicationImpersonation role for this mailbox (New-ManagementRoleAssignment -Role ApplicationImpersonation -User {service} -CustomRecipientWriteScope <scope>)"
        )),
        CheckStatus::MailboxNotFound => Some(format!(
            "check the address: Get-Mailbox {mailbox} must find it as a primary SMTP address"
        )),
        CheckStatus::MailboxUnavailable => Some(format!(
            "the mailbox is being moved or its database is unavailable: try again later (Get-MoveRequest {mailbox}; Get-MailboxDatabaseCopyStatus)"
        )),
    };
    match fix {
        // The service would ask Graph next (routing.follow_moves): not a failure of EWS.
        Some(_) if graph_next && report_.status == CheckStatus::MailboxNotFound => report.ok(
            "mailbox",
            subject,
            format!(
                "{detail}; not on EWS, so routing asks Microsoft Graph next (the graph mailbox step)"
            ),
        ),
        None => report.ok("mailbox", subject, detail),
        Some(fix) => report.fail("mailbox", subject, detail, fix),
    }
}

/// One logon attempt as the connector makes it, for one account, with channel binding on or
/// off: a GetFolder of the account's own calendar, no retry.
async fn attempt(
    mut settings: exchange::Settings,
    account: &config::Account,
    channel_binding: bool,
) -> (Logon, FolderAnswer) {
    settings.transport.channel_binding = channel_binding;
    settings.retry_budget = Duration::ZERO;
    settings
        .accounts
        .retain(|candidate| candidate.username == account.username);
    let answer = match Exchange::new(settings) {
        Ok(exchange) => exchange.own_calendar(&account.smtp).await,
        Err(error) => Err(error),
    };
    (classify(&answer), answer)
}

/// What an attempt's answer says about the credentials.
fn classify(answer: &FolderAnswer) -> Logon {
    match answer {
        Ok(_) => Logon::Accepted,
        Err(error) if error.kind() == FailureKind::AuthFailed => Logon::Refused,
        // A SOAP answer of any kind means the credentials got through.
        Err(exchange::Error::Fault(_) | exchange::Error::Malformed(_)) => Logon::Accepted,
        Err(_) => Logon::Failed,
    }
}

/// The fix for refused credentials: where the password comes from, and the AD checks.
fn password_fix(account: &config::Account) -> String {
    // Get-ADUser takes the sAMAccountName (without the domain) or the UPN.
    let user = account
        .username
        .split_once('\\')
        .map_or(account.username.as_str(), |(_, user)| user);
    let source = match &account.password_source {
        PasswordSource::File(path) => format!("the first line of {}", path.display()),
        PasswordSource::Env(name) => format!("the variable {name}"),
    };
    format!(
        "check the password in {source} and, in Active Directory, that {} is enabled and not locked out (Get-ADUser {user} -Properties Enabled,LockedOut; Unlock-ADAccount {user})",
        account.username
    )
}
