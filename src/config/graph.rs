//! `[graph]` and `[routing]`: Exchange Online through Microsoft Graph, validated at load into
//! typed values (URLs parsed, `http://` only for loopback hosts, the credential file read like a
//! password file), and where each mailbox is looked for first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{Error, quote, resolve};
use crate::graph::auth::{CertificateCredential, Credential};

/// `[graph]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGraph {
    tenant_id: String,
    client_id: String,
    certificate_file: Option<PathBuf>,
    client_secret_file: Option<PathBuf>,
    authority: Option<String>,
    endpoint: Option<String>,
    max_concurrency: Option<usize>,
}

/// `[routing]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRouting {
    default: Option<String>,
    #[serde(default)]
    graph_domains: Vec<String>,
    #[serde(default)]
    ews_domains: Vec<String>,
    follow_moves: Option<bool>,
}

/// Where the Graph credential comes from (for `config check` and for re-reading on SIGHUP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphCredentialSource {
    /// `graph.certificate_file`: PEM with the certificate and its private key.
    Certificate(PathBuf),
    /// `graph.client_secret_file`: the secret's value on the first line.
    Secret(PathBuf),
}

impl GraphCredentialSource {
    /// The configuration key.
    pub fn key(&self) -> &'static str {
        match self {
            GraphCredentialSource::Certificate(_) => "graph.certificate_file",
            GraphCredentialSource::Secret(_) => "graph.client_secret_file",
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            GraphCredentialSource::Certificate(path) | GraphCredentialSource::Secret(path) => path,
        }
    }

    /// Reads the credential from its file.
    ///
    /// # Errors
    /// The reason, in words naming the file (never its content).
    pub fn read(&self) -> Result<Credential, String> {
        match self {
            GraphCredentialSource::Secret(path) => {
                crate::config::read_password_file(path).map(Credential::Secret)
            }
            GraphCredentialSource::Certificate(path) => {
                let bytes = read_credential_file(path)?;
                CertificateCredential::from_pem(&bytes)
                    .map(|certificate| Credential::Certificate(std::sync::Arc::new(certificate)))
                    .map_err(|reason| format!("{} {reason}", path.display()))
            }
        }
    }
}

/// `[graph]`, validated.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The tenant GUID or domain.
    pub tenant_id: String,
    /// The application (client) id.
    pub client_id: String,
    pub credential_source: GraphCredentialSource,
    /// The credential as read at load (or at the last reload).
    pub credential: Credential,
    /// The token endpoint base, `https://login.microsoftonline.com` by default.
    pub authority: url::Url,
    /// The Graph base URL, `https://graph.microsoft.com` by default.
    pub endpoint: url::Url,
    /// Graph requests in flight in all (1 to 1000, default 32).
    pub max_concurrency: usize,
}

impl GraphConfig {
    /// `{authority}/{tenant_id}/oauth2/v2.0/token`.
    pub fn token_url(&self) -> url::Url {
        let base = self.authority.as_str().trim_end_matches('/');
        // Both parts were validated at load (a URL, a tenant of URL-safe characters).
        url::Url::parse(&format!("{base}/{}/oauth2/v2.0/token", self.tenant_id))
            .unwrap_or_else(|_| self.authority.clone())
    }

    /// `{endpoint}/.default`.
    pub fn scope(&self) -> String {
        format!("{}/.default", self.endpoint.as_str().trim_end_matches('/'))
    }
}

/// Which side a mailbox is looked for on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Ews,
    Graph,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Ews => "ews",
            Backend::Graph => "graph",
        }
    }
}

/// `[routing]`, validated (present whenever `[graph]` is; defaults when the section is absent).
#[derive(Debug, Clone)]
pub struct RoutingConfig {
    /// Where a mailbox is looked for first (default `ews`).
    pub default: Backend,
    /// Lower-case domains that always go to Graph.
    pub graph_domains: Vec<String>,
    /// Lower-case domains that always go to EWS.
    pub ews_domains: Vec<String>,
    /// A mailbox one side does not hold is tried on the other (default true).
    pub follow_moves: bool,
}

/// Validates `[graph]` and `[routing]`.
pub(super) fn validate(
    graph: Option<RawGraph>,
    routing: Option<RawRouting>,
    base_dir: &Path,
) -> Result<(Option<GraphConfig>, Option<RoutingConfig>), Error> {
    let Some(raw) = graph else {
        if routing.is_some() {
            return Err(Error::invalid(
                "routing",
                "[routing] needs a [graph] section (without Graph every mailbox is on EWS)",
            ));
        }
        return Ok((None, None));
    };
    let identifier = |key: &str, value: &str, what: &str| {
        let value = value.trim();
        if value.is_empty()
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            Err(Error::invalid(key, format!("must be {what}")))
        } else {
            Ok(value.to_owned())
        }
    };
    let tenant_id = identifier(
        "graph.tenant_id",
        &raw.tenant_id,
        "the Directory (tenant) ID or the tenant's domain (name.onmicrosoft.com)",
    )?;
    let client_id = identifier(
        "graph.client_id",
        &raw.client_id,
        "the Application (client) ID of the app registration",
    )?;
    let credential_source = match (raw.certificate_file, raw.client_secret_file) {
        (Some(path), None) => GraphCredentialSource::Certificate(resolve(base_dir, &path)),
        (None, Some(path)) => GraphCredentialSource::Secret(resolve(base_dir, &path)),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "graph.certificate_file",
                "set exactly one of graph.certificate_file and graph.client_secret_file (the certificate is preferred)",
            ));
        }
        (None, None) => {
            return Err(Error::invalid(
                "graph.certificate_file",
                "set graph.certificate_file (PEM with the certificate and its private key) or graph.client_secret_file",
            ));
        }
    };
    let credential = credential_source
        .read()
        .map_err(|reason| Error::invalid(credential_source.key(), reason))?;
    let authority = graph_url(
        "graph.authority",
        raw.authority
            .as_deref()
            .unwrap_or("https://login.microsoftonline.com"),
    )?;
    let endpoint = graph_url(
        "graph.endpoint",
        raw.endpoint
            .as_deref()
            .unwrap_or("https://graph.microsoft.com"),
    )?;
    let max_concurrency = raw.max_concurrency.unwrap_or(32);
    if !(1..=1000).contains(&max_concurrency) {
        return Err(Error::invalid(
            "graph.max_concurrency",
            format!("{max_concurrency} is not between 1 and 1000"),
        ));
    }
    let graph = GraphConfig {
        tenant_id,
        client_id,
        credential_source,
        credential,
        authority,
        endpoint,
        max_concurrency,
    };

    let raw_routing = routing.unwrap_or(RawRouting {
        default: None,
        graph_domains: Vec::new(),
        ews_domains: Vec::new(),
        follow_moves: None,
    });
    let default = match raw_routing.default.as_deref().unwrap_or("ews") {
        "ews" => Backend::Ews,
        "graph" => Backend::Graph,
        other => {
            return Err(Error::invalid(
                "routing.default",
                format!("`{other}` is not ews or graph"),
            ));
        }
    };
    let domains = |key: &str, list: Vec<String>| -> Result<Vec<String>, Error> {
        let mut out: Vec<String> = Vec::new();
        for (index, domain) in list.iter().enumerate() {
            let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
            let valid = !domain.is_empty()
                && domain.contains('.')
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
            if !valid {
                return Err(Error::invalid(
                    format!("{key}[{index}]"),
                    format!("`{}` is not a mail domain", list[index]),
                ));
            }
            if !out.contains(&domain) {
                out.push(domain);
            }
        }
        Ok(out)
    };
    let graph_domains = domains("routing.graph_domains", raw_routing.graph_domains)?;
    let ews_domains = domains("routing.ews_domains", raw_routing.ews_domains)?;
    if let Some(both) = graph_domains.iter().find(|d| ews_domains.contains(d)) {
        return Err(Error::invalid(
            "routing.ews_domains",
            format!("`{both}` is also in routing.graph_domains: a domain goes to one side"),
        ));
    }
    let routing = RoutingConfig {
        default,
        graph_domains,
        ews_domains,
        follow_moves: raw_routing.follow_moves.unwrap_or(true),
    };
    Ok((Some(graph), Some(routing)))
}

/// Parses a Graph URL: https, or http for a loopback host (the simulator).
fn graph_url(key: &str, text: &str) -> Result<url::Url, Error> {
    let url = url::Url::parse(text)
        .map_err(|error| Error::invalid(key, format!("`{text}` is not a URL: {error}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(Error::invalid(key, "has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::invalid(
                key,
                "must be https:// (http:// only for a loopback host, such as the Graph simulator)",
            ));
        }
        _ => return Err(Error::invalid(key, "must start with https://")),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::invalid(
            key,
            "must be a base URL without user, query or fragment",
        ));
    }
    Ok(url)
}

/// The `[graph]` and `[routing]` sections for `config check`, the secret masked.
pub(super) fn render(out: &mut String, graph: &GraphConfig, routing: Option<&RoutingConfig>) {
    let _ = writeln!(out, "\n[graph]");
    let _ = writeln!(out, "tenant_id = {}", quote(&graph.tenant_id));
    let _ = writeln!(out, "client_id = {}", quote(&graph.client_id));
    let _ = writeln!(
        out,
        "{} = {}",
        graph.credential_source.key().trim_start_matches("graph."),
        quote(&graph.credential_source.path().display().to_string())
    );
    match &graph.credential {
        Credential::Certificate(certificate) => {
            let _ = writeln!(
                out,
                "# certificate thumbprint {}, x5t#S256 {}, valid until {}",
                certificate.thumbprint(),
                certificate.x5t_s256(),
                certificate.not_after()
            );
        }
        Credential::Secret(_) => {
            let _ = writeln!(out, "client_secret = \"***\"");
        }
    }
    let _ = writeln!(out, "authority = {}", quote(graph.authority.as_str()));
    let _ = writeln!(out, "endpoint = {}", quote(graph.endpoint.as_str()));
    let _ = writeln!(out, "max_concurrency = {}", graph.max_concurrency);
    let _ = writeln!(out, "# token endpoint {}", graph.token_url());
    if let Some(routing) = routing {
        let list = |domains: &[String]| {
            domains
                .iter()
                .map(|domain| quote(domain))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "\n[routing]");
        let _ = writeln!(out, "default = {}", quote(routing.default.as_str()));
        let _ = writeln!(out, "graph_domains = [{}]", list(&routing.graph_domains));
        let _ = writeln!(out, "ews_domains = [{}]", list(&routing.ews_domains));
        let _ = writeln!(out, "follow_moves = {}", routing.follow_moves);
    }
}

/// Reads a credential file whole into a buffer that is wiped when dropped, with the checks of a
/// password file (`config::read_secret_file`): refused when others can write it or when it is
/// larger than 64 KiB.
///
/// # Errors
/// The reason, in words naming the file.
pub fn read_credential_file(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    super::read_secret_file(path, "credential", "not a certificate and key file")
}
