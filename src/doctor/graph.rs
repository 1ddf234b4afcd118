//! The Microsoft Graph steps of `doctor` (with `[graph]`), after the EWS ones:
//! - `graph token`: one token request to Entra ID, as the service makes it (`TokenSource`); a
//!   refusal shows the AADSTS code and the fix sentence `graph::auth` gives for it;
//! - `graph permission`: the `roles` claim of that token. With the setup the admin guide
//!   recommends (docs/admin/exchange-online.md, steps 3 to 6) it holds no `Calendars.ReadWrite`:
//!   Exchange Online authorizes the application by its RBAC for Applications role assignment,
//!   which only a mailbox read can show. `Calendars.ReadWrite` in `roles` means the permission
//!   is consented tenant-wide in Entra ID and reaches every mailbox, whatever the scope says: a
//!   warning;
//! - `graph mailbox` (with `--mailbox`): the calendar read of the access check
//!   (`GraphBackend::open_calendar`, one GET), judged against the routing: outside the RBAC scope
//!   (`ErrorAccessDenied`), on-premises (`MailboxNotEnabledForRESTAPI`), unknown user.
//!
//! Invariants: as the parent module's; the token is read here (its claims), never shown: only
//! the claims named above appear in the report.
//!
//! Entry point: [`steps`].

use std::sync::Arc;

use base64::Engine as _;

use crate::backend::graph::GraphBackend;
use crate::backend::{self, CalendarBackend as _, OpenAs};
use crate::config::{Config, GraphConfig};
use crate::domain::Mailbox;
use crate::error_chain;
use crate::graph::auth::{self, AccessToken, AuthError, Credential, TokenSource};
use crate::graph::client::{self, GraphClient};
use crate::routing::{Router, Side};

use super::Report;

/// The application permission that, consented in Entra ID, reaches every mailbox.
const TENANT_WIDE_ROLE: &str = "Calendars.ReadWrite";

/// Where the admin guide's steps are.
const GUIDE: &str = "docs/admin/exchange-online.md";

/// The Graph steps in their order; each later one is skipped (with the reason) when the token
/// step failed.
pub(super) async fn steps(report: &mut Report, config: &Config, mailbox: Option<&str>) {
    let Some(graph) = config.graph.as_ref() else {
        return;
    };
    let skip_rest = |report: &mut Report, reason: &str| {
        report.skip("graph permission", None, reason);
        if mailbox.is_some() {
            report.skip("graph mailbox", mailbox, reason);
        }
    };
    let tokens = match TokenSource::new(
        auth::Settings::from_config(graph, &config.tls),
        graph.credential.clone(),
    ) {
        Ok(tokens) => Arc::new(tokens),
        Err(error) => {
            report.fail(
                "graph token",
                None,
                error_chain::display(&error),
                "point tls.ca_file at a readable PEM file with the CA certificates to trust",
            );
            skip_rest(report, "no token source");
            return;
        }
    };
    let Some(token) = token_step(report, graph, &tokens).await else {
        skip_rest(report, "Entra ID gave no token");
        return;
    };
    permission_step(report, graph, &token, mailbox.is_some());
    if let Some(mailbox) = mailbox {
        mailbox_step(report, config, graph, tokens, mailbox).await;
    }
}

/// Whether routing lets `side` serve `mailbox` (fixed domains, the default side, `follow_moves`).
pub(super) fn may_serve(config: &Config, mailbox: &Mailbox, side: Side) -> bool {
    let Some(routing) = config.routing.clone() else {
        return side == Side::Ews;
    };
    let plan = Router::new(routing).plan(mailbox);
    plan.first == side || plan.then == Some(side)
}

/// The `graph token` step: one token request; the token when Entra ID issued one.
async fn token_step(
    report: &mut Report,
    graph: &GraphConfig,
    tokens: &TokenSource,
) -> Option<AccessToken> {
    let proof = match &graph.credential {
        Credential::Certificate(certificate) => format!(
            "certificate {} (thumbprint {}, valid until {})",
            graph.credential_source.path().display(),
            certificate.thumbprint(),
            certificate.not_after()
        ),
        Credential::Secret(_) => format!(
            "the client secret in {} (a certificate is preferred)",
            graph.credential_source.path().display()
        ),
    };
    match tokens.token().await {
        Ok(token) => {
            let lifetime = claims(token.expose())
                .and_then(|claims| claims.get("exp")?.as_i64())
                .and_then(|exp| chrono::DateTime::from_timestamp(exp, 0))
                .map(|exp| format!(", valid until {}", exp.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            report.ok(
                "graph token",
                None,
                format!(
                    "Entra ID ({}) issued an application token to {} in tenant {}, proven with {proof}{lifetime}",
                    graph.token_url(),
                    graph.client_id,
                    graph.tenant_id
                ),
            );
            Some(token)
        }
        Err(error) => {
            let (detail, fix) = token_failure(graph, &error, &proof);
            report.fail("graph token", None, detail, fix);
            None
        }
    }
}

/// What a failed token request says, and what to do.
fn token_failure(graph: &GraphConfig, error: &AuthError, proof: &str) -> (String, String) {
    match error {
        AuthError::Refused { code, error, fix } => (
            format!(
                "Entra ID refused application {} in tenant {} ({code}, {error}), proven with {proof}",
                graph.client_id, graph.tenant_id
            ),
            fix.clone(),
        ),
        AuthError::Unreachable { .. } | AuthError::Timeout { .. } => (
            error.to_string(),
            format!(
                "check that this host reaches {} over https (firewall, proxy; graph.authority for a national cloud) and that tls.ca_file, if set, holds the CA of its certificate",
                graph.authority
            ),
        ),
        AuthError::Unavailable { .. } => (
            error.to_string(),
            "Entra ID is throttling or unavailable: run doctor again in a few minutes".to_owned(),
        ),
        AuthError::Unusable { .. } => (
            error.to_string(),
            format!(
                "check that graph.authority ({}) is Entra ID's token endpoint base (https://login.microsoftonline.com for the global service)",
                graph.authority
            ),
        ),
        AuthError::Credential { .. } => (
            error.to_string(),
            format!(
                "check that {} holds the certificate and its RSA private key (PEM), as step 1 of {GUIDE} makes them",
                graph.credential_source.path().display()
            ),
        ),
    }
}

/// The claims of an access token: the JWT's payload, decoded without verifying the signature.
/// Verification is Graph's business (it alone holds the key); doctor only reads what Entra ID
/// put in the token it just issued to us, over TLS. `None` for a token that is not JWT-shaped.
fn claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// The `graph permission` step: the token's `roles`.
fn permission_step(report: &mut Report, graph: &GraphConfig, token: &AccessToken, mailbox: bool) {
    let Some(claims) = claims(token.expose()) else {
        report.warn(
            "graph permission",
            None,
            "the access token is not a JWT, so its roles cannot be read",
            format!(
                "check in Entra admin center > Enterprise applications > the connector's application > Permissions that Calendars.ReadWrite is not consented tenant-wide ({GUIDE}, step 3)"
            ),
        );
        return;
    };
    let roles: Vec<&str> = claims
        .get("roles")
        .and_then(serde_json::Value::as_array)
        .map(|roles| roles.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let listed = if roles.is_empty() {
        "no roles".to_owned()
    } else {
        format!("roles [{}]", roles.join(", "))
    };
    let verify = if mailbox {
        "the graph mailbox step verifies it"
    } else {
        "run doctor with --mailbox to verify it on a mailbox"
    };
    if roles.contains(&TENANT_WIDE_ROLE) {
        report.warn(
            "graph permission",
            None,
            format!(
                "the token holds {listed}: {TENANT_WIDE_ROLE} is consented tenant-wide in Entra ID, so application {} reaches every mailbox of the tenant whatever Exchange Online's management scope says",
                graph.client_id
            ),
            format!(
                "remove the admin consent for {TENANT_WIDE_ROLE} (Remove-MgServicePrincipalAppRoleAssignment, or Enterprise applications > the app > Permissions) and let the RBAC for Applications role assignment decide ({GUIDE}, step 3)"
            ),
        );
    } else {
        report.ok(
            "graph permission",
            None,
            format!(
                "the token holds {listed}: no {TENANT_WIDE_ROLE} consented tenant-wide in Entra ID, so Exchange Online's RBAC for Applications role assignment decides which mailboxes the application reaches; {verify}"
            ),
        );
    }
}

/// The `graph mailbox` step: the calendar read of the check, as the application.
async fn mailbox_step(
    report: &mut Report,
    config: &Config,
    graph: &GraphConfig,
    tokens: Arc<TokenSource>,
    text: &str,
) {
    let subject = Some(text);
    let Some(mailbox) = super::steps::admitted_mailbox(report, config, "graph mailbox", text)
    else {
        return;
    };
    let client = match GraphClient::new(
        client::Settings::from_config(graph, &config.exchange, &config.tls),
        tokens,
    ) {
        Ok(client) => Arc::new(client),
        Err(error) => {
            report.fail(
                "graph mailbox",
                subject,
                error_chain::display(&error),
                "correct graph.endpoint (https://graph.microsoft.com for the global service) or tls.ca_file",
            );
            return;
        }
    };
    let backend = GraphBackend::new(client, graph.client_id.clone());
    let answer = backend
        .open_calendar(&mailbox, OpenAs::ServiceAccount, false)
        .await;
    let m = mailbox.as_str();
    let client_id = &graph.client_id;
    let ews_serves = may_serve(config, &mailbox, Side::Ews);
    let routed = |report: &mut Report, why: &str| {
        report.ok(
            "graph mailbox",
            subject,
            format!(
                "{why}; routing sends {m} to EWS (routing.default, routing.follow_moves), where the mailbox step checks it"
            ),
        );
    };
    let error = match answer {
        Ok(calendar) => {
            let can_edit = calendar
                .effective_rights
                .is_some_and(|rights| rights.create_contents);
            if can_edit {
                report.ok(
                    "graph mailbox",
                    subject,
                    format!(
                        "Exchange Online holds {m}: its calendar was read as application {client_id}, canEdit true (ready)"
                    ),
                );
            } else {
                report.fail(
                    "graph mailbox",
                    subject,
                    format!(
                        "the calendar of {m} was read as application {client_id}, but canEdit is false: the application may not write it (not ready)"
                    ),
                    format!(
                        "assign the role \"Application Calendars.ReadWrite\" (not a read-only role) for the scope holding {m}: New-ManagementRoleAssignment -App {client_id} -Role \"Application Calendars.ReadWrite\" -CustomResourceScope <scope> ({GUIDE}, step 6)"
                    ),
                );
            }
            return;
        }
        Err(backend::Error::Graph(error)) => error,
        Err(other) => {
            report.fail(
                "graph mailbox",
                subject,
                format!("the calendar read failed: {}", error_chain::display(&other)),
                "fix the failing step above, then run doctor again",
            );
            return;
        }
    };
    let code = error.graph_error_code().unwrap_or_default().to_owned();
    match (error.status(), code.as_str()) {
        (_, "ErrorAccessDenied") | (Some(403), _) => report.fail(
            "graph mailbox",
            subject,
            format!(
                "Graph answered {} {code}: {m} is outside application {client_id}'s RBAC for Applications scope (or Exchange Online still caches an older assignment)",
                error.status().unwrap_or(403)
            ),
            format!(
                "make {m}'s user a direct member of the scope's group ({GUIDE}, step 5), check with Test-ServicePrincipalAuthorization -Identity {client_id} -Resource {m} (InScope True for Application Calendars.ReadWrite), and allow up to 2 hours for Exchange Online's cache"
            ),
        ),
        (_, "MailboxNotEnabledForRESTAPI") if ews_serves => routed(
            report,
            "Graph answered MailboxNotEnabledForRESTAPI: the mailbox is on-premises",
        ),
        (_, "MailboxNotEnabledForRESTAPI") => report.fail(
            "graph mailbox",
            subject,
            format!(
                "Graph answered MailboxNotEnabledForRESTAPI: {m} is on-premises, and routing sends {} only to Graph",
                mailbox.domain()
            ),
            format!(
                "take {} out of routing.graph_domains (EWS then serves it, with routing.follow_moves = true for mailboxes that move), or move the mailbox to Exchange Online",
                mailbox.domain()
            ),
        ),
        (_, "ErrorInvalidUser" | "Request_ResourceNotFound" | "ResourceNotFound") if ews_serves => {
            routed(
                report,
                &format!("Graph answered {code}: the tenant has no such user"),
            )
        }
        (_, "ErrorInvalidUser" | "Request_ResourceNotFound" | "ResourceNotFound") => report.fail(
            "graph mailbox",
            subject,
            format!("Graph answered {code}: the tenant has no user {m}"),
            format!(
                "check the address: it must be the primary SMTP address of a user in tenant {} (Get-EXOMailbox -Identity {m})",
                graph.tenant_id
            ),
        ),
        _ => {
            let fix = match error {
                crate::graph::Error::Auth(_) => {
                    "fix the graph token step's problem, then run doctor again".to_owned()
                }
                crate::graph::Error::Unreachable { .. } | crate::graph::Error::Timeout { .. } => {
                    format!(
                        "check that this host reaches graph.endpoint ({}) over https (firewall, proxy)",
                        graph.endpoint
                    )
                }
                crate::graph::Error::Graph {
                    status: 429 | 503 | 504,
                    ..
                } => "Exchange Online is throttling: run doctor again in a few minutes".to_owned(),
                _ => "look the code up in Microsoft Graph's error reference (Microsoft Graph error responses), then run doctor again".to_owned(),
            };
            report.fail(
                "graph mailbox",
                subject,
                format!("the calendar read failed: {}", error_chain::display(&error)),
                fix,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(payload: &str) -> String {
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        format!("eyJhbGciOiJIUzI1NiJ9.{encoded}.c2lnbmF0dXJl")
    }

    #[test]
    fn the_roles_of_a_jwt_are_read_and_an_opaque_token_has_none() {
        let read = claims(&token(r#"{"roles":["Calendars.ReadWrite"],"exp":1}"#)).unwrap();
        assert_eq!(read["roles"][0], "Calendars.ReadWrite");
        assert!(claims("opaque-token").is_none());
        assert!(claims("a.!!!.c").is_none());
    }
}
