//! `admin_script`: the PowerShell an Exchange administrator runs to prepare a site for this
//! connector, printed by `ews-connector admin-script --config FILE [--users FILE]`.
//!
//! The script follows `docs/admin/exchange-on-premises.md` step by step, with this site's values
//! filled in: one mailbox per `[[exchange.accounts]]` (password typed at a `Read-Host
//! -AsSecureString` prompt, never written), `Set-ADUser -PasswordNeverExpires`, the mail-enabled
//! security group for `delegation.principal` when the principal is not one of the accounts, a
//! throttling policy whose `EwsMaxConcurrency` is at least `max_concurrency_per_account`, the
//! management scope and ApplicationImpersonation assignments when `exchange.impersonation` is
//! true, and, with `access = "delegate"`, the calendar permission for each user (the localized
//! calendar folder found with `Get-MailboxFolderStatistics -FolderScope Calendar`). Its header
//! says which principals (`delegation.principal`, `delegation.allowed_principals`) and up to
//! which level (`delegation.max_level`) the connector itself will write with those rights.
//!
//! Invariants:
//! - every value taken from the configuration or the users file reaches PowerShell only as a
//!   single-quoted string literal ([`ps_quote`]): quotes doubled, control characters refused, so
//!   no value can end its string, start a command or hide behind a line break;
//! - the script never contains a password or a place to type one other than `Read-Host
//!   -AsSecureString`;
//! - every step checks before it creates, so running the script twice changes nothing the second
//!   time (it sets the throttling policy and the calendar permission again, to the same values);
//! - pure: no I/O, no clock; the same configuration and users give the same text.
//!
//! Layout: [`render`] derives what the steps read once (`Site`) and writes one function per
//! step of the guide (`header`, `service_accounts`, `principal_group`, `throttling`,
//! `users_group_and_impersonation`, `users_and_permissions`). Where this sits among the rooms:
//! ARCHITECTURE.md.
//!
//! The cloud side (`admin-script --graph`, `docs/admin/exchange-online.md`) is [`graph`], with
//! the same invariants.
//!
//! Entry points: [`render`], [`graph::render`], [`parse_users`], [`ps_quote`],
//! [`policy_max_concurrency`], [`access_rights`], [`Error`].

pub mod graph;

use std::fmt::Write as _;

use crate::config::{AccessMode, Config};
use crate::domain::{InvalidMailbox, Mailbox};

/// The name of the throttling policy the script creates for the service accounts.
pub const THROTTLING_POLICY: &str = "MyTimetable-EWS";

/// The name of the management scope that bounds the ApplicationImpersonation assignments.
pub const MANAGEMENT_SCOPE: &str = "MyTimetable mailboxes";

/// Requests above `max_concurrency_per_account` that the throttling policy allows, so that
/// `ews-connector check` or `doctor`, run by hand with the same accounts while `serve` is at its
/// ceiling, is not refused with `ErrorExceededConnectionCount`.
pub const CONCURRENCY_HEADROOM: usize = 2;

/// Why no script could be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A value would not be safe inside a PowerShell string literal.
    #[error("{what} cannot be put in a PowerShell script: {reason}")]
    UnsafeValue { what: String, reason: &'static str },
    /// A line of the users file is not a mailbox address.
    #[error("users file line {line}: {source}")]
    InvalidUser {
        line: usize,
        #[source]
        source: InvalidMailbox,
    },
    /// A line of the users file names a mailbox outside `api.allowed_domains`.
    #[error("users file line {line}: `{mailbox}` is outside api.allowed_domains")]
    OutsideAllowedDomains { line: usize, mailbox: String },
    /// `--graph` for a configuration without `[graph]`.
    #[error(
        "admin-script --graph needs a [graph] section in the configuration (graph.tenant_id, graph.client_id and graph.certificate_file or graph.client_secret_file): see docs/admin/exchange-online.md"
    )]
    GraphNotConfigured,
    /// `--graph` without `--group` and without `routing.graph_domains`.
    #[error(
        "admin-script --graph needs the mailboxes to scope: give --group ADDRESS (a mail-enabled security group) or set routing.graph_domains"
    )]
    NoGraphScope,
}

/// The characters PowerShell's tokenizer accepts as a single quote: the ASCII apostrophe and
/// the typographic ones (U+2018 to U+201B). Inside a single-quoted string, any of them ends the
/// string unless it is doubled.
const SINGLE_QUOTES: &[char] = &['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `value` as a PowerShell single-quoted string literal: every single-quote character doubled
/// (which keeps the value as it was), nothing expanded (`$`, backticks and `(` are literal in
/// single quotes).
///
/// # Errors
/// [`Error::UnsafeValue`] for control characters (a line break would end the command in the
/// middle of the string) and for the empty string; `what` names the value in the message.
pub fn ps_quote(what: &str, value: &str) -> Result<String, Error> {
    if value.is_empty() {
        return Err(Error::UnsafeValue {
            what: what.to_owned(),
            reason: "it is empty",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(Error::UnsafeValue {
            what: what.to_owned(),
            reason: "it contains a control character",
        });
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('\'');
    for character in value.chars() {
        quoted.push(character);
        if SINGLE_QUOTES.contains(&character) {
            quoted.push(character);
        }
    }
    quoted.push('\'');
    Ok(quoted)
}

/// Reads a users file: one SMTP address per line; blank lines and lines starting with `#` are
/// skipped, and so is the rest of a line after ` #`. Each address must pass the API's mailbox
/// rule and, when `allowed_domains` is not empty, be in one of those domains. Duplicates
/// (compared case-insensitively) are kept once, in first-seen order.
///
/// # Errors
/// [`Error::InvalidUser`] or [`Error::OutsideAllowedDomains`] naming the first bad line
/// (1-based).
pub fn parse_users(text: &str, allowed_domains: &[String]) -> Result<Vec<Mailbox>, Error> {
    let mut users: Vec<Mailbox> = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        let content = match raw_line.find(" #") {
            Some(position) => &raw_line[..position],
            None => raw_line,
        };
        let content = content.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mailbox =
            Mailbox::parse(content).map_err(|source| Error::InvalidUser { line, source })?;
        if !mailbox.is_allowed_in(allowed_domains) {
            return Err(Error::OutsideAllowedDomains {
                line,
                mailbox: mailbox.as_str().to_owned(),
            });
        }
        if !users.contains(&mailbox) {
            users.push(mailbox);
        }
    }
    Ok(users)
}

/// The `EwsMaxConcurrency` the script sets for a connector whose ceiling per account is
/// `max_concurrency_per_account`: the ceiling plus [`CONCURRENCY_HEADROOM`], so the policy is
/// never below what the connector sends.
pub fn policy_max_concurrency(max_concurrency_per_account: usize) -> usize {
    max_concurrency_per_account + CONCURRENCY_HEADROOM
}

/// The `-AccessRights` role of `Add-MailboxFolderPermission` for an EWS calendar permission
/// level (`delegation.level`). The two free/busy levels have other names in PowerShell
/// (`AvailabilityOnly`, `LimitedDetails`); `Custom` has no role and gives `None`.
pub fn access_rights(level: &str) -> Option<&'static str> {
    Some(match level {
        "None" => "None",
        "FreeBusyTimeOnly" => "AvailabilityOnly",
        "FreeBusyTimeAndSubjectAndLocation" => "LimitedDetails",
        "Reviewer" => "Reviewer",
        "Contributor" => "Contributor",
        "Author" => "Author",
        "NoneditingAuthor" => "NonEditingAuthor",
        "PublishingAuthor" => "PublishingAuthor",
        "Editor" => "Editor",
        "PublishingEditor" => "PublishingEditor",
        "Owner" => "Owner",
        _ => return None,
    })
}

/// One service account as the script names it.
struct ScriptAccount {
    /// `sAMAccountName`: the part after `DOMAIN\`, or before `@` of a UPN-form username.
    sam: String,
    /// The UPN: the configured username when it is UPN-form, else the account's SMTP address.
    upn: String,
    smtp: String,
    /// The mailbox alias: the local part of the SMTP address.
    alias: String,
}

impl ScriptAccount {
    fn from_config(username: &str, smtp: &str) -> ScriptAccount {
        let sam = match username.split_once('\\') {
            Some((_, user)) => user,
            None => username.split('@').next().unwrap_or(username),
        };
        let upn = if username.contains('@') && !username.contains('\\') {
            username
        } else {
            smtp
        };
        ScriptAccount {
            sam: sam.to_owned(),
            upn: upn.to_owned(),
            smtp: smtp.to_owned(),
            alias: local_part(smtp).to_owned(),
        }
    }
}

fn local_part(address: &str) -> &str {
    address.split('@').next().unwrap_or(address)
}

fn domain_part(address: &str) -> &str {
    address.rsplit('@').next().unwrap_or(address)
}

/// The PowerShell script for `config`'s site; with `users`, the calendar permission (delegate
/// access) and the scope group membership (impersonation) for exactly those mailboxes, without,
/// for every direct member of the users group.
///
/// # Errors
/// [`Error::UnsafeValue`] when a configured value holds a control character (the configuration
/// loader refuses those already; this guards callers that build a [`Config`] themselves), or
/// when `delegation.level` has no PowerShell role.
pub fn render(config: &Config, users: &[Mailbox]) -> Result<String, Error> {
    let site = Site::of(config)?;
    let mut script = Script::default();
    header(&mut script, &site)?;
    service_accounts(&mut script, &site)?;
    principal_group(&mut script, &site)?;
    throttling(&mut script, &site)?;
    users_group_and_impersonation(&mut script, &site)?;
    users_and_permissions(&mut script, &site, users)?;
    script.lines(&[
        "# Then, on the connector host: ews-connector doctor --config FILE --mailbox <one of the users>",
        "# and ews-connector check <mailbox> --config FILE (docs/admin/exchange-on-premises.md, step 8).",
    ]);
    Ok(script.text)
}

/// The script being written, one line at a time.
#[derive(Default)]
struct Script {
    text: String,
}

impl Script {
    fn line(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push('\n');
    }

    fn lines(&mut self, texts: &[&str]) {
        for text in texts {
            self.line(text);
        }
    }
}

/// What the steps read of the configuration, derived once.
struct Site<'a> {
    config: &'a Config,
    /// `exchange.access = "delegate"`.
    delegate: bool,
    accounts: Vec<ScriptAccount>,
    principal: &'a str,
    /// Whether `delegation.principal` is one of the service accounts (then no group is needed).
    principal_is_account: bool,
    /// `delegation.level` and its `Add-MailboxFolderPermission` role.
    level: &'a str,
    rights: &'static str,
    /// The mail-enabled security group of the users, in the principal's domain.
    users_group: String,
}

impl<'a> Site<'a> {
    fn of(config: &'a Config) -> Result<Site<'a>, Error> {
        let exchange = &config.exchange;
        let principal = config.delegation.principal.as_str();
        let level = config.delegation.level.as_str();
        let rights = access_rights(level).ok_or_else(|| Error::UnsafeValue {
            what: "delegation.level".to_owned(),
            reason: "it has no Add-MailboxFolderPermission role",
        })?;
        Ok(Site {
            config,
            delegate: exchange.access == AccessMode::Delegate,
            accounts: exchange
                .accounts
                .iter()
                .map(|account| ScriptAccount::from_config(&account.username, &account.smtp))
                .collect(),
            principal,
            principal_is_account: exchange
                .accounts
                .iter()
                .any(|account| account.smtp.eq_ignore_ascii_case(principal)),
            level,
            rights,
            users_group: format!("mytimetable-users@{}", domain_part(principal)),
        })
    }
}

/// The comment block at the top: the site, what the connector will write, how to run the script.
fn header(script: &mut Script, site: &Site<'_>) -> Result<(), Error> {
    let exchange = &site.config.exchange;
    let delegation = &site.config.delegation;
    let host = exchange
        .url
        .as_ref()
        .and_then(|url| url.host_str())
        .unwrap_or("exchange");
    script.lines(&[
        "# ews-connector: Exchange and Active Directory setup for this site.",
        "# Printed by `ews-connector admin-script`; the steps and their reasons are in",
        "# docs/admin/exchange-on-premises.md (same order, same commands).",
    ]);
    script.line(&format!(
        "# EWS endpoint: {} (exchange.url); access = {}; impersonation = {}; {} service account(s).",
        comment_safe(host)?,
        exchange.access.as_str(),
        exchange.impersonation,
        site.accounts.len()
    ));
    // What the connector itself will write with the rights this script gives it.
    let mut principals = format!("{} (delegation.principal)", comment_safe(site.principal)?);
    if delegation.allowed_principals.is_empty() {
        principals.push_str(" only, delegation.allowed_principals being empty");
    } else {
        let mut allowed = Vec::new();
        for address in &delegation.allowed_principals {
            allowed.push(comment_safe(address)?);
        }
        let _ = write!(
            principals,
            ", {} (delegation.allowed_principals)",
            allowed.join(", ")
        );
    }
    script.line(
        "# What this configuration lets the connector write, by grant or revoke (API, CLI, batch):",
    );
    script.line(&format!("# principals: {principals};"));
    script.line(&format!(
        "# levels: at most {} (delegation.max_level), no level with a right it lacks.",
        comment_safe(delegation.max_level.as_str())?
    ));
    script.line("# Anything else is refused before Exchange is asked.");
    if exchange.impersonation {
        script.lines(&[
            "# ApplicationImpersonation (step 4) would let the accounts write any calendar permission",
            "# of the users: these two keys are what the connector holds itself to.",
        ]);
    }
    script.lines(&[
        "# Run in the Exchange Management Shell (Exchange Server 2016 or 2019) as an Exchange",
        "# organization administrator who may also change users in Active Directory.",
        "# Every step checks before it creates: running the script again changes nothing new.",
        "# No password is written here: New-Mailbox prompts for each account's password; type the",
        "# one you stored in that account's password_file (or password_env) on the connector host.",
        "",
        "$ErrorActionPreference = 'Stop'",
        "Import-Module ActiveDirectory",
        "",
    ]);
    Ok(())
}

/// Step 1: one mailbox per service account, its password prompted, never expiring.
fn service_accounts(script: &mut Script, site: &Site<'_>) -> Result<(), Error> {
    script.lines(&[
        "# --- Step 1: the service accounts ([[exchange.accounts]]) ---",
        "# One mailbox per account: the connector checks each account by opening its own calendar.",
        "# The password never expires (the connector cannot answer a change-password prompt);",
        "# rotate it yourself: new password in AD and in the password file, then SIGHUP the service.",
    ]);
    for account in &site.accounts {
        let smtp = ps_quote("exchange.accounts.smtp", &account.smtp)?;
        let sam = ps_quote("exchange.accounts.username", &account.sam)?;
        if account.sam.chars().count() > 20 {
            script.line(&format!(
                "# NOTE: {} is longer than the 20 characters a sAMAccountName may have; shorten the username.",
                comment_safe(&account.sam)?
            ));
        }
        script.line(&format!(
            "if (-not (Get-Mailbox -Identity {smtp} -ErrorAction SilentlyContinue)) {{"
        ));
        script.line(&format!(
            "    New-Mailbox -Name {sam} -SamAccountName {sam} -UserPrincipalName {upn} -PrimarySmtpAddress {smtp} -Alias {alias} -Password (Read-Host -AsSecureString -Prompt {prompt})",
            upn = ps_quote("exchange.accounts.username", &account.upn)?,
            alias = ps_quote("exchange.accounts.smtp", &account.alias)?,
            prompt = ps_quote(
                "exchange.accounts.username",
                &format!("Password for {}", account.sam)
            )?,
        ));
        script.line("}");
        script.line(&format!(
            "Set-ADUser -Identity {sam} -PasswordNeverExpires $true"
        ));
    }
    script.line("");
    Ok(())
}

/// Step 2: the principal; with delegate access and a principal that is not an account, the
/// mail-enabled security group of all the accounts.
fn principal_group(script: &mut Script, site: &Site<'_>) -> Result<(), Error> {
    let principal = site.principal;
    let principal_quoted = ps_quote("delegation.principal", principal)?;
    script.line(
        "# --- Step 2: the principal that holds the calendar permission (delegation.principal) ---",
    );
    if !site.delegate {
        script.lines(&[
            "# access = \"impersonation\": pushes act as the calendar's owner, so no principal needs a",
            "# calendar permission and no group is needed for pushing.",
        ]);
    } else if site.principal_is_account {
        script.line(&format!(
            "# delegation.principal is the service account {}: no group is needed.",
            comment_safe(principal)?
        ));
        if site.accounts.len() > 1 {
            script.lines(&[
                "# WARNING: mailboxes are spread over several accounts by rendezvous hashing (and move to",
                "# the next account when one is down), but only this one account would hold the permission.",
                "# Make delegation.principal a mail-enabled security group of all the accounts instead.",
            ]);
        }
    } else {
        script.line(&format!(
            "# {} is not one of the service accounts, so it must be a mail-enabled security group",
            comment_safe(principal)?
        ));
        script.lines(&[
            "# whose members are all of them: mailboxes are spread over the accounts by rendezvous",
            "# hashing and move to the next account when one is down. Created here when it does not exist.",
        ]);
        script.line(&format!("$Principal = {principal_quoted}"));
        script
            .line("if (-not (Get-Recipient -Identity $Principal -ErrorAction SilentlyContinue)) {");
        script.line(&format!(
            "    New-DistributionGroup -Name {name} -Alias {alias} -PrimarySmtpAddress $Principal -Type Security",
            name = ps_quote("delegation.principal", local_part(principal))?,
            alias = ps_quote("delegation.principal", local_part(principal))?,
        ));
        script.lines(&[
            "}",
            "if ((Get-Recipient -Identity $Principal).RecipientTypeDetails -ne 'MailUniversalSecurityGroup') {",
            "    throw 'delegation.principal exists but is not a mail-enabled security group'",
            "}",
            "$Members = @(Get-DistributionGroupMember -Identity $Principal -ResultSize Unlimited | ForEach-Object { $_.PrimarySmtpAddress.ToString() })",
        ]);
        for account in &site.accounts {
            let smtp = ps_quote("exchange.accounts.smtp", &account.smtp)?;
            script.line(&format!("if ($Members -notcontains {smtp}) {{"));
            script.line(&format!(
                "    Add-DistributionGroupMember -Identity $Principal -Member {smtp}"
            ));
            script.line("}");
        }
    }
    script.line("");
    Ok(())
}

/// Step 3: the throttling policy, created or set, and assigned to every account.
fn throttling(script: &mut Script, site: &Site<'_>) -> Result<(), Error> {
    let max_concurrency = site.config.exchange.max_concurrency_per_account;
    let policy_concurrency = policy_max_concurrency(max_concurrency);
    let policy = ps_quote("throttling policy", THROTTLING_POLICY)?;
    script.line("# --- Step 3: the throttling policy of the service accounts ---");
    script.line(&format!(
        "# exchange.max_concurrency_per_account = {max_concurrency}: the connector never has more requests in flight"
    ));
    script.line(&format!(
        "# per account. EwsMaxConcurrency = {policy_concurrency} allows that plus {CONCURRENCY_HEADROOM} for `ews-connector check`/`doctor` run by hand."
    ));
    script.lines(&[
        "# The budgets are unlimited so that a long batch is not cut off part-way; the connector's",
        "# own ceiling is the bound. The connector opens no subscriptions.",
    ]);
    let policy_parameters = format!(
        "-EwsMaxConcurrency {policy_concurrency} -EwsMaxBurst 'Unlimited' -EwsRechargeRate 'Unlimited' -EwsCutoffBalance 'Unlimited' -EwsMaxSubscriptions 5000"
    );
    script.line(&format!(
        "if (-not (Get-ThrottlingPolicy -Identity {policy} -ErrorAction SilentlyContinue)) {{"
    ));
    script.line(&format!(
        "    New-ThrottlingPolicy -Name {policy} {policy_parameters}"
    ));
    script.line("} else {");
    script.line(&format!(
        "    Set-ThrottlingPolicy -Identity {policy} {policy_parameters}"
    ));
    script.line("}");
    for account in &site.accounts {
        script.line(&format!(
            "Set-ThrottlingPolicyAssociation -Identity {sam} -ThrottlingPolicy {policy}",
            sam = ps_quote("exchange.accounts.username", &account.sam)?,
        ));
    }
    script.line("");
    Ok(())
}

/// Step 4: the users group and, with `exchange.impersonation`, the management scope of its
/// members and one ApplicationImpersonation assignment per account.
fn users_group_and_impersonation(script: &mut Script, site: &Site<'_>) -> Result<(), Error> {
    let scope = ps_quote("management scope", MANAGEMENT_SCOPE)?;
    let users_group_quoted = ps_quote("users group", &site.users_group)?;
    script.lines(&[
        "# --- Step 4: the users group and, with exchange.impersonation = true, the scoped ApplicationImpersonation role ---",
        "# The mailboxes MyTimetable serves: the direct members of this mail-enabled security group",
        "# (a MemberOfGroup filter does not look into nested groups). Change the address if your",
        "# group has another one; it is created (empty) when it does not exist.",
    ]);
    script.line(&format!("$UsersGroup = {users_group_quoted}"));
    script.line("if (-not (Get-Recipient -Identity $UsersGroup -ErrorAction SilentlyContinue)) {");
    script.line(&format!(
        "    New-DistributionGroup -Name {name} -Alias {name} -PrimarySmtpAddress $UsersGroup -Type Security",
        name = ps_quote("users group", local_part(&site.users_group))?,
    ));
    script.line("}");
    if !site.config.exchange.impersonation {
        script.lines(&[
            "# exchange.impersonation = false: no account gets ApplicationImpersonation. `check` then",
            "# reports effective rights only, and grant/revoke through the connector are refused by",
            "# Exchange; the calendar permissions of step 5 are set here instead.",
            "",
        ]);
        return Ok(());
    }
    script.lines(&[
        "# Each account may impersonate exactly the members of the users group: reading and writing",
        "# a calendar's permission set (check, grant, revoke) is done as the calendar's owner.",
        "$UsersGroupDN = (Get-DistributionGroup -Identity $UsersGroup).DistinguishedName",
    ]);
    script.line(&format!(
        "if (-not (Get-ManagementScope -Identity {scope} -ErrorAction SilentlyContinue)) {{"
    ));
    script.line(&format!(
        "    New-ManagementScope -Name {scope} -RecipientRestrictionFilter (\"MemberOfGroup -eq '\" + $UsersGroupDN.Replace(\"'\", \"''\") + \"'\")"
    ));
    script.line("}");
    for account in &site.accounts {
        let assignment = ps_quote(
            "exchange.accounts.username",
            &format!("MyTimetable impersonation {}", account.sam),
        )?;
        script.line(&format!(
            "if (-not (Get-ManagementRoleAssignment -Identity {assignment} -ErrorAction SilentlyContinue)) {{"
        ));
        script.line(&format!(
            "    New-ManagementRoleAssignment -Name {assignment} -Role 'ApplicationImpersonation' -User {sam} -CustomRecipientWriteScope {scope}",
            sam = ps_quote("exchange.accounts.username", &account.sam)?,
        ));
        script.line("}");
    }
    script.line("");
    Ok(())
}

/// Step 5: the users (from `--users`, made members of the users group, or the group's members)
/// and, with delegate access, the principal's calendar permission on each.
fn users_and_permissions(
    script: &mut Script,
    site: &Site<'_>,
    users: &[Mailbox],
) -> Result<(), Error> {
    script.line("# --- Step 5: the users ---");
    if users.is_empty() {
        script.lines(&[
            "# No --users file: every direct member of the users group with a mailbox.",
            "$Users = @(Get-DistributionGroupMember -Identity $UsersGroup -ResultSize Unlimited | Where-Object RecipientTypeDetails -eq 'UserMailbox' | ForEach-Object { $_.PrimarySmtpAddress.ToString() })",
        ]);
    } else {
        script.line(&format!(
            "# From the --users file: {} mailbox(es); each is made a member of the users group.",
            users.len()
        ));
        script.line("$Users = @(");
        for user in users {
            script.line(&format!("    {}", ps_quote("users file", user.as_str())?));
        }
        script.lines(&[
            ")",
            "$Members = @(Get-DistributionGroupMember -Identity $UsersGroup -ResultSize Unlimited | ForEach-Object { $_.PrimarySmtpAddress.ToString() })",
            "foreach ($User in $Users) {",
            "    if ($Members -notcontains $User) {",
            "        Add-DistributionGroupMember -Identity $UsersGroup -Member $User",
            "    }",
            "}",
        ]);
    }
    if !site.delegate {
        script.lines(&[
            "# access = \"impersonation\": no calendar permission is needed; the scope of step 4 is all.",
            "",
        ]);
        return Ok(());
    }
    let rights = ps_quote("delegation.level", site.rights)?;
    script.line(&format!(
        "# access = \"delegate\": {} gets {} on each user's calendar (delegation.level; PowerShell role {}).",
        comment_safe(site.principal)?,
        comment_safe(site.level)?,
        site.rights
    ));
    script.lines(&[
        "# The calendar's name is localized (Agenda, Kalender, ...): it is looked up by its type.",
        "# An existing entry for the principal is changed with Set-MailboxFolderPermission; every other",
        "# entry stays. With impersonation, `ews-connector batch grant --file FILE --config FILE` does",
        "# the same through EWS, with an audit trail.",
    ]);
    script.line(&format!(
        "$Principal = {}",
        ps_quote("delegation.principal", site.principal)?
    ));
    script.lines(&[
        "foreach ($User in $Users) {",
        "    try {",
        "        $Calendar = Get-MailboxFolderStatistics -Identity $User -FolderScope Calendar | Where-Object FolderType -eq 'Calendar'",
        "        $Folder = $User + ':\\' + $Calendar.Name",
        "        if (Get-MailboxFolderPermission -Identity $Folder -User $Principal -ErrorAction SilentlyContinue) {",
    ]);
    script.line(&format!(
        "            Set-MailboxFolderPermission -Identity $Folder -User $Principal -AccessRights {rights}"
    ));
    script.line("        } else {");
    script.line(&format!(
        "            Add-MailboxFolderPermission -Identity $Folder -User $Principal -AccessRights {rights}"
    ));
    script.lines(&[
        "        }",
        "    } catch {",
        "        Write-Warning ($User + ': ' + $_.Exception.Message)",
        "    }",
        "}",
        "",
    ]);
    Ok(())
}

/// `value` for a `#` comment: refused when it holds a control character (a line break would end
/// the comment and make the rest a command).
fn comment_safe(value: &str) -> Result<&str, Error> {
    if value.chars().any(char::is_control) {
        return Err(Error::UnsafeValue {
            what: format!("`{}`", value.escape_debug()),
            reason: "it contains a control character",
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fmt::Write as _;
    use std::path::Path;

    use super::*;

    fn config(extra_exchange: &str, accounts: &[(&str, &str)], delegation: &str) -> Config {
        let mut text = format!(
            "[exchange]\nurl = \"https://mail.uni.example/EWS/Exchange.asmx\"\n{extra_exchange}\n"
        );
        let mut environment = HashMap::new();
        for (index, (username, smtp)) in accounts.iter().enumerate() {
            let _ = write!(
                text,
                "[[exchange.accounts]]\nusername = '''{username}'''\nsmtp = '''{smtp}'''\npassword_env = \"PW{index}\"\n"
            );
            environment.insert(format!("PW{index}"), "not-in-any-script".to_owned());
        }
        text.push_str(delegation);
        Config::from_sources(&text, &HashMap::new(), &environment, Path::new("."))
            .expect("valid test configuration")
    }

    fn demo_like() -> Config {
        config(
            "access = \"delegate\"\nimpersonation = true\nmax_concurrency_per_account = 10",
            &[
                ("UNI\\sa-mytt-exch-1", "sa-mytt-exch-1@uni.example"),
                ("sa-mytt-exch-2@uni.example", "sa-mytt-exch-2@uni.example"),
            ],
            "[delegation]\nprincipal = \"mytimetable-push@uni.example\"\nlevel = \"Editor\"\n",
        )
    }

    #[test]
    fn quotes_hostile_values_so_they_stay_one_string() {
        assert_eq!(ps_quote("v", "plain").unwrap(), "'plain'");
        assert_eq!(ps_quote("v", "o'brien").unwrap(), "'o''brien'");
        assert_eq!(
            ps_quote("v", "x'; Remove-Mailbox -Identity * -Confirm:$false; '").unwrap(),
            "'x''; Remove-Mailbox -Identity * -Confirm:$false; '''"
        );
        // PowerShell also ends single-quoted strings at typographic quotes.
        assert_eq!(
            ps_quote("v", "a\u{2019}b\u{2018}c").unwrap(),
            "'a\u{2019}\u{2019}b\u{2018}\u{2018}c'"
        );
        // Expansion characters are literal inside single quotes and pass unchanged.
        assert_eq!(ps_quote("v", "$(calc)`n").unwrap(), "'$(calc)`n'");
        for hostile in ["a\nb", "a\rb", "a\u{0}b", "a\u{85}b", ""] {
            assert!(
                matches!(
                    ps_quote("the value", hostile),
                    Err(Error::UnsafeValue { .. })
                ),
                "{hostile:?} must be refused"
            );
        }
    }

    #[test]
    fn a_quoted_value_has_no_unpaired_quote_inside() {
        let value = "'\u{2018}'\u{201B}x''";
        let quoted = ps_quote("v", value).unwrap();
        let inner: Vec<char> = quoted.chars().skip(1).collect();
        let inner = &inner[..inner.len() - 1];
        // Read as PowerShell does: a quote char must be followed by another to stay inside.
        let mut index = 0;
        let mut decoded = String::new();
        while index < inner.len() {
            let character = inner[index];
            if SINGLE_QUOTES.contains(&character) {
                assert!(
                    index + 1 < inner.len() && SINGLE_QUOTES.contains(&inner[index + 1]),
                    "unpaired quote at {index} in {quoted}"
                );
                index += 1;
            }
            decoded.push(character);
            index += 1;
        }
        assert_eq!(decoded, value);
    }

    #[test]
    fn users_file_skips_comments_and_refuses_bad_lines_by_number() {
        let allowed = vec!["uni.example".to_owned()];
        let users = parse_users(
            "# first-years\nA.Student@uni.example\n\n  b.student@uni.example  # late\na.student@UNI.example\n",
            &allowed,
        )
        .unwrap();
        let users: Vec<&str> = users.iter().map(Mailbox::as_str).collect();
        assert_eq!(users, ["A.Student@uni.example", "b.student@uni.example"]);

        let error = parse_users("ok@uni.example\nnot an address\n", &allowed).unwrap_err();
        assert!(
            matches!(error, Error::InvalidUser { line: 2, .. }),
            "{error}"
        );
        let error = parse_users("x@elsewhere.example\n", &allowed).unwrap_err();
        assert_eq!(
            error.to_string(),
            "users file line 1: `x@elsewhere.example` is outside api.allowed_domains"
        );
        assert!(parse_users("x@elsewhere.example\n", &[]).is_ok());
    }

    #[test]
    fn the_script_creates_each_account_with_a_prompted_password() {
        let script = render(&demo_like(), &[]).unwrap();
        assert!(script.contains("New-Mailbox -Name 'sa-mytt-exch-1' -SamAccountName 'sa-mytt-exch-1' -UserPrincipalName 'sa-mytt-exch-1@uni.example' -PrimarySmtpAddress 'sa-mytt-exch-1@uni.example' -Alias 'sa-mytt-exch-1' -Password (Read-Host -AsSecureString -Prompt 'Password for sa-mytt-exch-1')"), "{script}");
        assert!(
            script.contains("Set-ADUser -Identity 'sa-mytt-exch-2' -PasswordNeverExpires $true")
        );
        assert_eq!(script.matches("    New-Mailbox -Name ").count(), 2);
        assert!(!script.contains("not-in-any-script"));
        assert!(!script.contains("ConvertTo-SecureString"));
    }

    #[test]
    fn the_header_names_the_principals_and_the_highest_level_the_connector_may_write() {
        let script = render(&demo_like(), &[]).unwrap();
        assert!(
            script.contains("# principals: mytimetable-push@uni.example (delegation.principal) only, delegation.allowed_principals being empty;\n# levels: at most Editor (delegation.max_level), no level with a right it lacks.\n"),
            "{script}"
        );
        assert!(script.contains("# ApplicationImpersonation (step 4) would let"));
        let config = config(
            "access = \"delegate\"\nimpersonation = false",
            &[("UNI\\sa-mytt-exch-1", "sa-mytt-exch-1@uni.example")],
            "[delegation]\nprincipal = \"mytimetable-push@uni.example\"\nlevel = \"Author\"\n\
             allowed_principals = [\"planners@uni.example\", \"o'brien@uni.example\"]\nmax_level = \"PublishingEditor\"\n",
        );
        let script = render(&config, &[]).unwrap();
        assert!(
            script.contains("# principals: mytimetable-push@uni.example (delegation.principal), planners@uni.example, o'brien@uni.example (delegation.allowed_principals);\n# levels: at most PublishingEditor (delegation.max_level)"),
            "{script}"
        );
        assert!(!script.contains("ApplicationImpersonation (step 4) would let"));
    }

    #[test]
    fn a_principal_that_is_no_account_becomes_a_group_of_all_accounts() {
        let script = render(&demo_like(), &[]).unwrap();
        assert!(script.contains("$Principal = 'mytimetable-push@uni.example'"));
        assert!(script.contains("New-DistributionGroup -Name 'mytimetable-push' -Alias 'mytimetable-push' -PrimarySmtpAddress $Principal -Type Security"));
        for account in ["sa-mytt-exch-1@uni.example", "sa-mytt-exch-2@uni.example"] {
            assert!(script.contains(&format!("if ($Members -notcontains '{account}') {{\n    Add-DistributionGroupMember -Identity $Principal -Member '{account}'")), "{script}");
        }
    }

    #[test]
    fn a_principal_that_is_one_of_several_accounts_is_warned_about() {
        let config = config(
            "",
            &[
                ("UNI\\sa-1", "sa-1@uni.example"),
                ("UNI\\sa-2", "sa-2@uni.example"),
            ],
            "[delegation]\nprincipal = \"sa-1@uni.example\"\n",
        );
        let script = render(&config, &[]).unwrap();
        assert!(script.contains("# WARNING: mailboxes are spread over several accounts"));
        assert!(!script.contains("New-DistributionGroup -Name 'sa-1'"));
    }

    #[test]
    fn the_policy_allows_at_least_the_connector_s_ceiling() {
        for ceiling in [1, 10, 27, 256] {
            assert!(policy_max_concurrency(ceiling) >= ceiling);
        }
        let script = render(&demo_like(), &[]).unwrap();
        assert!(script.contains("New-ThrottlingPolicy -Name 'MyTimetable-EWS' -EwsMaxConcurrency 12 -EwsMaxBurst 'Unlimited' -EwsRechargeRate 'Unlimited' -EwsCutoffBalance 'Unlimited' -EwsMaxSubscriptions 5000"));
        assert!(script.contains("Set-ThrottlingPolicyAssociation -Identity 'sa-mytt-exch-1' -ThrottlingPolicy 'MyTimetable-EWS'"));
        assert!(script.contains("Set-ThrottlingPolicyAssociation -Identity 'sa-mytt-exch-2' -ThrottlingPolicy 'MyTimetable-EWS'"));
    }

    #[test]
    fn impersonation_is_assigned_per_account_within_the_scope_only_when_configured() {
        let script = render(&demo_like(), &[]).unwrap();
        assert!(script.contains("New-ManagementRoleAssignment -Name 'MyTimetable impersonation sa-mytt-exch-1' -Role 'ApplicationImpersonation' -User 'sa-mytt-exch-1' -CustomRecipientWriteScope 'MyTimetable mailboxes'"));
        assert!(script.contains(
            "New-ManagementScope -Name 'MyTimetable mailboxes' -RecipientRestrictionFilter"
        ));

        let without = config(
            "access = \"delegate\"\nimpersonation = false",
            &[("UNI\\sa-1", "sa-1@uni.example")],
            "",
        );
        let script = render(&without, &[]).unwrap();
        assert!(!script.contains("New-ManagementRoleAssignment"));
        assert!(!script.contains("New-ManagementScope"));
        assert!(script.contains("Add-MailboxFolderPermission"));
    }

    #[test]
    fn impersonation_access_needs_no_calendar_permission() {
        let config = config(
            "access = \"impersonation\"",
            &[("UNI\\sa-1", "sa-1@uni.example")],
            "",
        );
        let script = render(&config, &[]).unwrap();
        assert!(!script.contains("Add-MailboxFolderPermission"));
        assert!(!script.contains("New-DistributionGroup -Name 'sa-1'"));
        assert!(script.contains("New-ManagementRoleAssignment"));
    }

    #[test]
    fn each_user_gets_the_configured_level_under_its_localized_calendar() {
        let users = parse_users(
            "o'brien@uni.example\nzoë@uni.example\n",
            &["uni.example".to_owned()],
        )
        .unwrap();
        let mut config = demo_like();
        config.delegation.level =
            crate::delegation::PermissionLevel::FreeBusyTimeAndSubjectAndLocation;
        let script = render(&config, &users).unwrap();
        assert!(
            script.contains("$Users = @(\n    'o''brien@uni.example'\n    'zoë@uni.example'\n)"),
            "{script}"
        );
        assert!(script.contains("Get-MailboxFolderStatistics -Identity $User -FolderScope Calendar | Where-Object FolderType -eq 'Calendar'"));
        assert!(script.contains("Add-MailboxFolderPermission -Identity $Folder -User $Principal -AccessRights 'LimitedDetails'"));
        assert!(script.contains("Set-MailboxFolderPermission -Identity $Folder -User $Principal -AccessRights 'LimitedDetails'"));
    }

    #[test]
    fn hostile_configured_values_are_quoted_or_refused() {
        let mut config = demo_like();
        config.exchange.accounts[0].username = "UNI\\x'; Remove-Mailbox -Identity *; '".to_owned();
        let script = render(&config, &[]).unwrap();
        assert!(script.contains("Set-ADUser -Identity 'x''; Remove-Mailbox -Identity *; ''' -PasswordNeverExpires $true"), "{script}");

        config.exchange.accounts[0].username = "UNI\\x\nRemove-Mailbox".to_owned();
        assert!(matches!(
            render(&config, &[]),
            Err(Error::UnsafeValue { .. })
        ));
        let mut config = demo_like();
        config.delegation.principal = "a\r@uni.example".to_owned();
        assert!(matches!(
            render(&config, &[]),
            Err(Error::UnsafeValue { .. })
        ));
    }

    #[test]
    fn the_same_input_gives_the_same_script() {
        assert_eq!(
            render(&demo_like(), &[]).unwrap(),
            render(&demo_like(), &[]).unwrap()
        );
    }
}
