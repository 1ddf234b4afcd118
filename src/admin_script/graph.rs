//! `admin_script::graph`: the PowerShell of `docs/admin/exchange-online.md` for one
//! configuration, printed by `ews-connector admin-script --graph --config FILE [--group ADDRESS]`.
//!
//! The script takes the app registration that `[graph]` names (tenant, client id) as given and
//! prepares the rest with Microsoft Graph PowerShell (`Microsoft.Graph`) and Exchange Online
//! PowerShell (`ExchangeOnlineManagement`), the current modules (no MSOnline or AzureAD cmdlet):
//! it checks that the app is single tenant and holds the configured certificate (by the SHA-1
//! thumbprint of `graph.certificate_file`) or a client secret, creates the enterprise application
//! when it is missing, removes a tenant-wide `Calendars.ReadWrite` grant in Microsoft Entra ID
//! (RBAC for Applications adds to such a grant, it does not narrow it), and gives the app
//! Exchange Online's `Application Calendars.ReadWrite` role within a management scope: the
//! direct members of `--group`, or, without it, of a group the script keeps filled with the
//! user mailboxes of `routing.graph_domains` (a recipient filter cannot match a domain: a
//! wildcard may not come first). It ends with `Test-ServicePrincipalAuthorization`.
//!
//! Invariants: those of the on-premises script ([`super`]): every configured value enters the
//! script only through [`ps_quote`] (or, in a comment, through `comment_safe`); no secret is
//! written (the client secret's file is named, never read here); every step checks before it
//! creates; pure: the same configuration and group give the same text.
//!
//! Entry points: [`render`], [`SCOPE_NAME`], [`ASSIGNMENT_NAME`], [`GRAPH_APP_ID`].

use super::{Error, Script, comment_safe, local_part, ps_quote};
use crate::config::{Config, GraphConfig};
use crate::graph::auth::Credential;

/// The management scope the script creates (the mailboxes the application may reach).
pub const SCOPE_NAME: &str = "MyTimetable Graph mailboxes";

/// The management role assignment the script creates.
pub const ASSIGNMENT_NAME: &str = "MyTimetable Calendars.ReadWrite";

/// Exchange Online's application role that carries Graph's `Calendars.ReadWrite`.
pub const APPLICATION_ROLE: &str = "Application Calendars.ReadWrite";

/// The Exchange Online name of the connector's service principal pointer.
pub const SERVICE_PRINCIPAL_NAME: &str = "MyTimetable ews-connector";

/// The application id of Microsoft Graph itself (the resource of its application permissions).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The local part of the group the script fills from `routing.graph_domains`.
pub const DOMAINS_GROUP_LOCAL_PART: &str = "mytimetable-graph";

/// How the scope's mailboxes are chosen.
enum Scope {
    /// `--group`: an existing mail-enabled security group, left as it is.
    Group(String),
    /// `routing.graph_domains`: a group at this address, filled with those domains' mailboxes.
    Domains { group: String, domains: Vec<String> },
}

/// The script for `config`'s `[graph]` section, scoped to the direct members of `group` or,
/// without it, to the mailboxes of `routing.graph_domains`.
///
/// # Errors
/// [`Error::GraphNotConfigured`] without `[graph]`; [`Error::NoGraphScope`] without `group` and
/// without `routing.graph_domains`; [`Error::UnsafeValue`] for a value that cannot be quoted.
pub fn render(config: &Config, group: Option<&str>) -> Result<String, Error> {
    let graph = config.graph.as_ref().ok_or(Error::GraphNotConfigured)?;
    let scope = match group {
        Some(group) => Scope::Group(group.trim().to_owned()),
        None => {
            let domains = config
                .routing
                .as_ref()
                .map(|routing| routing.graph_domains.clone())
                .unwrap_or_default();
            let first = domains.first().ok_or(Error::NoGraphScope)?;
            Scope::Domains {
                group: format!("{DOMAINS_GROUP_LOCAL_PART}@{first}"),
                domains,
            }
        }
    };
    let mut script = Script::default();
    header(&mut script, config, graph, &scope)?;
    app_registration(&mut script, graph)?;
    credential(&mut script, graph)?;
    enterprise_application(&mut script)?;
    service_principal(&mut script)?;
    management_scope(&mut script, &scope)?;
    role_assignment(&mut script)?;
    test_authorization(&mut script)?;
    Ok(script.text)
}

fn header(
    script: &mut Script,
    config: &Config,
    graph: &GraphConfig,
    scope: &Scope,
) -> Result<(), Error> {
    script.lines(&[
        "# ews-connector: Microsoft Entra ID and Exchange Online setup for the Graph side of this site.",
        "# Printed by `ews-connector admin-script --graph`; the steps and their reasons are in",
        "# docs/admin/exchange-online.md (same order, same commands).",
    ]);
    script.line(&format!(
        "# Tenant {} (graph.tenant_id), application {} (graph.client_id).",
        comment_safe(&graph.tenant_id)?,
        comment_safe(&graph.client_id)?
    ));
    match &graph.credential {
        Credential::Certificate(certificate) => script.line(&format!(
            "# Credential: the certificate in graph.certificate_file, thumbprint {}, valid until {}.",
            comment_safe(certificate.thumbprint())?,
            comment_safe(certificate.not_after())?
        )),
        Credential::Secret(_) => script.line(&format!(
            "# Credential: a client secret (graph.client_secret_file = {}); a certificate is preferred.",
            comment_safe(&graph.credential_source.path().display().to_string())?
        )),
    }
    match scope {
        Scope::Group(group) => script.line(&format!(
            "# Scope: the direct members of {} (--group); nested groups are not followed.",
            comment_safe(group)?
        )),
        Scope::Domains { group, domains } => {
            script.line(&format!(
                "# Scope: the user mailboxes of {} (routing.graph_domains), kept as the direct members",
                comment_safe(&domains.join(", "))?
            ));
            script.line(&format!(
                "# of {}; run the script again to add mailboxes created since.",
                comment_safe(group)?
            ));
        }
    }
    if let Some(routing) = &config.routing {
        script.line(&format!(
            "# Routing: default = {}, follow_moves = {} ([routing]).",
            routing.default.as_str(),
            routing.follow_moves
        ));
    }
    script.lines(&[
        "# Run in PowerShell 7 with the Microsoft.Graph and ExchangeOnlineManagement modules, signed in",
        "# as an administrator who may manage applications in Microsoft Entra ID (Application",
        "# Administrator) and is in Exchange Online's Organization Management role group.",
        "# Every step checks before it creates: running the script again changes nothing new.",
        "# No secret is written here.",
        "",
        "$ErrorActionPreference = 'Stop'",
        "Import-Module Microsoft.Graph.Applications",
        "Import-Module ExchangeOnlineManagement",
        "",
    ]);
    Ok(())
}

/// Step 2 of the guide: the app registration exists and is single tenant.
fn app_registration(script: &mut Script, graph: &GraphConfig) -> Result<(), Error> {
    script.lines(&[
        "# --- Steps 1 and 2: the app registration (graph.tenant_id, graph.client_id) and its credential ---",
        "# Registered once (docs/admin/exchange-online.md, steps 1 and 2); here it is only checked.",
    ]);
    script.line(&format!(
        "$TenantId = {}",
        ps_quote("graph.tenant_id", &graph.tenant_id)?
    ));
    script.line(&format!(
        "$ClientId = {}",
        ps_quote("graph.client_id", &graph.client_id)?
    ));
    script.lines(&[
        "Connect-MgGraph -TenantId $TenantId -Scopes 'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All' -NoWelcome",
        "$App = Get-MgApplication -Filter (\"appId eq '\" + $ClientId + \"'\")",
        "if (-not $App) {",
        "    throw 'No app registration has graph.client_id as its Application (client) ID in this tenant'",
        "}",
        "if ($App.SignInAudience -ne 'AzureADMyOrg') {",
        "    Write-Warning 'The app registration is not single tenant (Accounts in this organizational directory only)'",
        "}",
    ]);
    Ok(())
}

/// Step 1 of the guide, checked: the app holds the configured certificate (or a secret).
fn credential(script: &mut Script, graph: &GraphConfig) -> Result<(), Error> {
    match &graph.credential {
        Credential::Certificate(certificate) => {
            script.lines(&[
                "# The certificate of graph.certificate_file must be uploaded to the app registration",
                "# (Certificates & secrets > Certificates); Entra lists it by its SHA-1 thumbprint.",
            ]);
            script.line(&format!(
                "$Thumbprint = {}",
                ps_quote("graph.certificate_file", certificate.thumbprint())?
            ));
            script.lines(&[
                "$Registered = @($App.KeyCredentials | Where-Object { $_.CustomKeyIdentifier -and ([System.BitConverter]::ToString($_.CustomKeyIdentifier).Replace('-', '') -eq $Thumbprint) })",
                "if ($Registered.Count -eq 0) {",
                "    throw ('The app registration does not hold the certificate with thumbprint ' + $Thumbprint + ': upload the certificate part of graph.certificate_file')",
                "}",
            ]);
        }
        Credential::Secret(_) => {
            script.lines(&[
                "# graph.client_secret_file: a client secret works, but it is a password that expires and",
                "# can be copied; a certificate is preferred (docs/admin/exchange-online.md, client secret).",
                "if (@($App.PasswordCredentials).Count -eq 0) {",
                "    throw 'The app registration has no client secret: create one or, better, upload a certificate'",
                "}",
                "Write-Warning 'graph.client_secret_file: a client secret is configured; prefer a certificate'",
            ]);
        }
    }
    script.line("");
    Ok(())
}

/// Step 3: the enterprise application, and no tenant-wide `Calendars.ReadWrite` in Entra ID.
fn enterprise_application(script: &mut Script) -> Result<(), Error> {
    script.lines(&[
        "# --- Step 3: the enterprise application, without a tenant-wide Calendars.ReadWrite ---",
        "# Calendars.ReadWrite consented in Microsoft Entra ID reaches every mailbox of the tenant, and",
        "# Exchange Online's RBAC for Applications adds to it rather than narrowing it. The permission",
        "# is given in step 6 instead, within the scope of step 5; a tenant-wide grant is removed here.",
        "$Sp = Get-MgServicePrincipal -Filter (\"appId eq '\" + $ClientId + \"'\")",
        "if (-not $Sp) {",
        "    $Sp = New-MgServicePrincipal -AppId $ClientId",
        "}",
    ]);
    script.line(&format!(
        "$GraphSp = Get-MgServicePrincipal -Filter \"appId eq '{GRAPH_APP_ID}'\""
    ));
    script.lines(&[
        "$CalendarsRole = $GraphSp.AppRoles | Where-Object Value -eq 'Calendars.ReadWrite'",
        "$TenantWide = @(Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $Sp.Id -All | Where-Object { $_.ResourceId -eq $GraphSp.Id -and $_.AppRoleId -eq $CalendarsRole.Id })",
        "foreach ($Grant in $TenantWide) {",
        "    Write-Warning 'Removing the tenant-wide Calendars.ReadWrite grant in Microsoft Entra ID'",
        "    Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $Sp.Id -AppRoleAssignmentId $Grant.Id",
        "}",
        "",
    ]);
    Ok(())
}

/// Step 4: Exchange Online's pointer to the enterprise application.
fn service_principal(script: &mut Script) -> Result<(), Error> {
    script.lines(&[
        "# --- Step 4: the service principal in Exchange Online ---",
        "# A pointer to the enterprise application: its Application ID and its Object ID (the",
        "# enterprise application's, not the app registration's).",
        "Connect-ExchangeOnline -ShowBanner:$false",
        "if (-not (Get-ServicePrincipal -Identity $ClientId -ErrorAction SilentlyContinue)) {",
    ]);
    script.line(&format!(
        "    New-ServicePrincipal -AppId $ClientId -ObjectId $Sp.Id -DisplayName {}",
        ps_quote("service principal", SERVICE_PRINCIPAL_NAME)?
    ));
    script.lines(&["}", ""]);
    Ok(())
}

/// Step 5: the management scope: the direct members of one mail-enabled security group.
fn management_scope(script: &mut Script, scope: &Scope) -> Result<(), Error> {
    script.lines(&[
        "# --- Step 5: the management scope (the mailboxes the connector may reach) ---",
        "# The direct members of a mail-enabled security group (MemberOfGroup does not look into",
        "# nested groups).",
    ]);
    match scope {
        Scope::Group(group) => {
            script.line("# --group: the group is yours; the script does not change its members.");
            script.line(&format!("$ScopeGroup = {}", ps_quote("--group", group)?));
        }
        Scope::Domains { group, domains } => {
            script.lines(&[
                "# routing.graph_domains: a recipient filter cannot match a domain (a wildcard may not",
                "# come first), so the user mailboxes of these domains are kept in a group of their own.",
            ]);
            let mut quoted = Vec::new();
            for domain in domains {
                quoted.push(ps_quote("routing.graph_domains", domain)?);
            }
            script.line(&format!("$Domains = @({})", quoted.join(", ")));
            script.line(&format!(
                "$ScopeGroup = {}",
                ps_quote("routing.graph_domains", group)?
            ));
            let name = ps_quote("routing.graph_domains", local_part(group))?;
            script.line(
                "if (-not (Get-Recipient -Identity $ScopeGroup -ErrorAction SilentlyContinue)) {",
            );
            script.line(&format!(
                "    New-DistributionGroup -Name {name} -Alias {name} -PrimarySmtpAddress $ScopeGroup -Type Security"
            ));
            script.lines(&[
                "}",
                "$Members = @(Get-DistributionGroupMember -Identity $ScopeGroup -ResultSize Unlimited | ForEach-Object { $_.PrimarySmtpAddress.ToString() })",
                "Get-EXOMailbox -RecipientTypeDetails UserMailbox -ResultSize Unlimited | ForEach-Object {",
                "    $Address = $_.PrimarySmtpAddress.ToString()",
                "    if (($Domains -contains $Address.Split('@')[-1].ToLowerInvariant()) -and ($Members -notcontains $Address)) {",
                "        Add-DistributionGroupMember -Identity $ScopeGroup -Member $Address -BypassSecurityGroupManagerCheck",
                "    }",
                "}",
            ]);
        }
    }
    script.lines(&[
        "$Group = Get-DistributionGroup -Identity $ScopeGroup",
        "if ($Group.RecipientTypeDetails -ne 'MailUniversalSecurityGroup') {",
        "    throw 'The scope group is not a mail-enabled security group'",
        "}",
    ]);
    let scope_name = ps_quote("management scope", SCOPE_NAME)?;
    script.line(&format!(
        "if (-not (Get-ManagementScope -Identity {scope_name} -ErrorAction SilentlyContinue)) {{"
    ));
    script.line(&format!(
        "    New-ManagementScope -Name {scope_name} -RecipientRestrictionFilter (\"MemberOfGroup -eq '\" + $Group.DistinguishedName.Replace(\"'\", \"''\") + \"'\")"
    ));
    script.lines(&["}", ""]);
    Ok(())
}

/// Step 6: `Application Calendars.ReadWrite` for the app, within the scope.
fn role_assignment(script: &mut Script) -> Result<(), Error> {
    let assignment = ps_quote("role assignment", ASSIGNMENT_NAME)?;
    script.lines(&[
        "# --- Step 6: Application Calendars.ReadWrite within the scope ---",
        "# Graph's Calendars.ReadWrite, for the mailboxes of step 5 only.",
    ]);
    script.line(&format!(
        "if (-not (Get-ManagementRoleAssignment -Identity {assignment} -ErrorAction SilentlyContinue)) {{"
    ));
    script.line(&format!(
        "    New-ManagementRoleAssignment -Name {assignment} -App $ClientId -Role {role} -CustomResourceScope {scope}",
        role = ps_quote("application role", APPLICATION_ROLE)?,
        scope = ps_quote("management scope", SCOPE_NAME)?,
    ));
    script.lines(&["}", ""]);
    Ok(())
}

/// Step 7: what Exchange Online says the app may do, for one mailbox of the scope.
fn test_authorization(script: &mut Script) -> Result<(), Error> {
    script.lines(&[
        "# --- Step 7: test the assignment ---",
        "# InScope must be True for a member of the scope group. Exchange Online caches an app's",
        "# permissions for 30 minutes to 2 hours; this test does not wait for that cache.",
        "$Sample = Get-DistributionGroupMember -Identity $ScopeGroup -ResultSize 1",
        "if ($Sample) {",
        "    Test-ServicePrincipalAuthorization -Identity $ClientId -Resource $Sample.PrimarySmtpAddress.ToString() | Format-Table",
        "} else {",
        "    Write-Warning 'The scope group has no members yet: the connector can reach no mailbox'",
        "}",
        "",
        "# Then, on the connector host: ews-connector doctor --config FILE --mailbox <a member of the scope>",
        "# and ews-connector check <that mailbox> --config FILE (docs/admin/exchange-online.md, step 9).",
    ]);
    Ok(())
}
