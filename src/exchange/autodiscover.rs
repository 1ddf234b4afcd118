//! Autodiscover: finds the EWS URL from a mailbox's SMTP address (PROTOCOL.md section 8), for
//! `exchange.autodiscover = true` and `ews-connector discover`.
//!
//! Candidates, in order (section 8.1 steps 2 to 4; SCP lookup in Active Directory and DNS SRV
//! records are out of scope): SOAP `GetUserSettings` at `https://<domain>/autodiscover/autodiscover.svc`
//! and `https://autodiscover.<domain>/autodiscover/autodiscover.svc`, then POX at the `.xml` of
//! both, then an unauthenticated `GET http://autodiscover.<domain>/autodiscover/autodiscover.xml`
//! whose https `Location` is tried with POX. `exchange.autodiscover_url` replaces the derived
//! candidates with one endpoint (SOAP there, then POX at its `.xml`).
//! RedirectAddress, RedirectUrl (SOAP and POX) and HTTP 3xx answers are followed, at most
//! [`MAX_HOPS`] in all.
//!
//! Invariants:
//! - credentials go only to hosts whose name is the SMTP domain or a subdomain of it, a host of
//!   `exchange.autodiscover_trusted_hosts` (or its subdomains), or the host of
//!   `exchange.autodiscover_url`; anything else is refused before a connection is made, and the
//!   refusal names the host and the key to set;
//! - credentials go only over https with a verified certificate (`tls.danger_accept_invalid_certs`
//!   is not applied here); the one exception is an `http://` `exchange.autodiscover_url`, which
//!   the operator wrote (a lab), and only to that exact origin;
//! - a refused password stops the search at once: the account is not tried at other endpoints,
//!   so discovery cannot add to an Active Directory lockout count;
//! - the EWS URL found obeys the same host and scheme rules before it is used;
//! - a result is cached for the life of the process ([`discover_cached`]).
//!
//! Layout: [`discover`] drives a `Search` (the address asked for, the candidates left, the
//! attempts, the hops), whose methods act on each kind of answer. Where Autodiscover sits among
//! the rooms: ARCHITECTURE.md, `src/exchange/`.
//!
//! Entry points: [`discover`], [`discover_cached`]; types [`Settings`], [`Preference`],
//! [`Discovery`], [`Attempt`], [`Outcome`], [`Protocol`], [`Error`].

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::ews::autodiscover::{self as xml, AutodiscoverErrorCode, EWS_URL_SETTINGS, PoxResponse};
use crate::transport::{self, AuthScheme, Credentials, Transport};

/// The most redirects (addresses, URLs and HTTP 3xx together) one discovery follows.
pub const MAX_HOPS: usize = 10;

/// The config key that lists extra trusted hosts (named in refusals).
pub const TRUSTED_HOSTS_KEY: &str = "exchange.autodiscover_trusted_hosts";

/// Which of the two EWS URLs to use when the server gives both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    /// `InternalEwsUrl` (POX: `Protocol[Type=EXCH]`), else the external one: the service runs
    /// inside the network.
    Internal,
    /// `ExternalEwsUrl` (POX: `Protocol[Type=EXPR]`), else the internal one.
    External,
}

/// What a discovery needs; filled by `config` from the first account and the `exchange` keys.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The SMTP address whose settings are asked for (the first account's `smtp`); its domain is
    /// the trusted domain.
    pub mailbox: String,
    /// The account the requests are authenticated as.
    pub credentials: Credentials,
    pub auth: AuthScheme,
    /// `exchange.autodiscover_url`: one starting endpoint instead of the derived candidates.
    pub start_url: Option<Url>,
    /// `exchange.autodiscover_trusted_hosts`: lower-case host names trusted with their
    /// subdomains, besides the SMTP domain.
    pub trusted_hosts: Vec<String>,
    pub prefer: Preference,
    /// Extra PEM trust anchors (`tls.ca_file`).
    pub ca_file: Option<PathBuf>,
    pub channel_binding: bool,
    /// Lab only: Basic over plain http (applies to an http `autodiscover_url` only).
    pub danger_allow_basic_over_http: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub user_agent: String,
}

/// How one candidate was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// SOAP `GetUserSettings` (POST to `.svc`).
    Soap,
    /// POX (POST to `.xml`).
    Pox,
    /// The unauthenticated `GET` whose redirect names the Autodiscover server.
    RedirectProbe,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Soap => "soap",
            Protocol::Pox => "pox",
            Protocol::RedirectProbe => "redirect-probe",
        }
    }
}

/// What one candidate gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The EWS URL, and the setting it came from (`InternalEwsUrl`, `EXPR EwsUrl`, ...).
    Found { url: Url, setting: String },
    /// The server sent the search elsewhere: `kind` is `RedirectAddress`, `RedirectUrl` or
    /// `HTTP 302` (the status), `target` the address or URL.
    Redirected { kind: String, target: String },
    /// Not contacted (or its answer not used) because of the trust rules; `reason` names the
    /// host and the key to set.
    Refused { reason: String },
    /// No usable answer: a connection failure, an HTTP status, an error code, an unreadable body.
    Failed { reason: String },
}

/// One candidate tried, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub protocol: Protocol,
    pub url: Url,
    /// The address asked for (changes after a RedirectAddress).
    pub mailbox: String,
    pub outcome: Outcome,
}

/// A successful discovery: the URL, how it was found, and every attempt on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub url: Url,
    /// For logs and the CLI: `soap GetUserSettings at <url> (InternalEwsUrl)`.
    pub found_by: String,
    pub attempts: Vec<Attempt>,
}

/// Why no EWS URL was found. Every variant keeps the attempts, for `discover` to print.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The mailbox has no domain to derive candidates from.
    #[error("autodiscover needs an smtp address, not `{mailbox}`")]
    InvalidMailbox { mailbox: String },
    /// Every candidate was tried; `summary` says why each failed, refusals first.
    #[error("autodiscover found no EWS URL for {mailbox}: {summary}")]
    NotFound {
        mailbox: String,
        summary: String,
        attempts: Vec<Attempt>,
    },
    /// More than [`MAX_HOPS`] redirects.
    #[error("autodiscover for {mailbox} stopped after {MAX_HOPS} redirects (last to {last})")]
    TooManyRedirects {
        mailbox: String,
        last: String,
        attempts: Vec<Attempt>,
    },
    /// An Autodiscover endpoint refused the account's credentials; no other endpoint was tried
    /// with them.
    #[error(
        "autodiscover stopped: {url} refused the credentials of {username} (no other endpoint was tried with them)"
    )]
    AuthRejected {
        url: String,
        username: String,
        attempts: Vec<Attempt>,
    },
}

impl Error {
    /// The candidates tried before the failure.
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            Error::InvalidMailbox { .. } => &[],
            Error::NotFound { attempts, .. }
            | Error::TooManyRedirects { attempts, .. }
            | Error::AuthRejected { attempts, .. } => attempts,
        }
    }
}

/// [`discover`], once per (mailbox, starting URL, trusted hosts, preference) for the life of the
/// process; later calls get the first success without any request. Failures are not cached.
///
/// # Errors
/// As [`discover`].
pub async fn discover_cached(settings: &Settings) -> Result<Discovery, Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Discovery>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = format!(
        "{}|{}|{}|{:?}",
        settings.mailbox.to_ascii_lowercase(),
        settings.start_url.as_ref().map(Url::as_str).unwrap_or(""),
        settings.trusted_hosts.join(","),
        settings.prefer
    );
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(found.clone());
    }
    let found = discover(settings).await?;
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, found.clone());
    Ok(found)
}

/// Finds the EWS URL of `settings.mailbox`, trying the candidates in order and following
/// redirects within the trust rules (module doc). Logs the URL found and the path that found it
/// at info.
///
/// # Errors
/// [`Error::InvalidMailbox`], [`Error::NotFound`], [`Error::TooManyRedirects`],
/// [`Error::AuthRejected`].
pub async fn discover(settings: &Settings) -> Result<Discovery, Error> {
    let mut search = Search::new(settings)?;
    while let Some(candidate) = search.queue.pop_front() {
        if !search.admits(&candidate) {
            continue;
        }
        let step = match candidate.protocol {
            Protocol::Soap => ask_soap(settings, &candidate.url, &search.mailbox).await,
            Protocol::Pox => ask_pox(settings, &candidate.url, &search.mailbox).await,
            Protocol::RedirectProbe => probe(settings, &candidate.url).await,
        };
        tracing::debug!(url = %candidate.url, protocol = candidate.protocol.as_str(), step = ?step, "autodiscover: candidate answered");
        if let Some(discovery) = search.follow(&candidate, step)? {
            return Ok(discovery);
        }
    }
    Err(search.not_found())
}

/// One discovery under way: the address asked for, the candidates still to try, what each one
/// tried gave, and the redirects followed so far.
struct Search<'a> {
    settings: &'a Settings,
    trust: Trust,
    /// The address asked for: `settings.mailbox` until a RedirectAddress changes it.
    mailbox: String,
    queue: VecDeque<Candidate>,
    attempts: Vec<Attempt>,
    hops: usize,
}

impl<'a> Search<'a> {
    fn new(settings: &'a Settings) -> Result<Search<'a>, Error> {
        let domain = domain_of(&settings.mailbox)?;
        let queue = initial_candidates(settings.start_url.as_ref(), &domain);
        let trust = Trust {
            domain,
            extra: settings.trusted_hosts.clone(),
            lab: settings.start_url.as_ref().map(Url::origin),
            start_host: settings
                .start_url
                .as_ref()
                .and_then(|url| url.host_str().map(str::to_ascii_lowercase)),
        };
        Ok(Search {
            settings,
            trust,
            mailbox: settings.mailbox.clone(),
            queue,
            attempts: Vec::new(),
            hops: 0,
        })
    }

    /// Whether the trust rules let the candidate be asked; a refusal is recorded.
    fn admits(&mut self, candidate: &Candidate) -> bool {
        let with_credentials = candidate.protocol != Protocol::RedirectProbe;
        let Err(reason) = self.trust.check(&candidate.url, with_credentials) else {
            return true;
        };
        let reason = match &candidate.via {
            Some(via) => format!("{reason} (sent there by {via})"),
            None => reason,
        };
        tracing::warn!(url = %candidate.url, %reason, "autodiscover: not following");
        self.record(candidate, Outcome::Refused { reason });
        false
    }

    /// Records what the candidate gave and acts on it: the discovery when it found a usable
    /// URL, the next candidates after a redirect, an error when the search must stop.
    fn follow(&mut self, candidate: &Candidate, step: Step) -> Result<Option<Discovery>, Error> {
        match step {
            Step::Found { url, setting } => Ok(self.found(candidate, url, setting)),
            Step::RedirectAddress(target) => {
                self.redirect_address(candidate, target)?;
                Ok(None)
            }
            Step::RedirectUrl { kind, target } => {
                self.redirect_url(candidate, kind, target)?;
                Ok(None)
            }
            Step::Failed(reason) => {
                self.record(candidate, Outcome::Failed { reason });
                Ok(None)
            }
            Step::AuthRejected(detail) => {
                self.record(candidate, Outcome::Failed { reason: detail });
                Err(Error::AuthRejected {
                    url: candidate.url.to_string(),
                    username: self.settings.credentials.username.clone(),
                    attempts: std::mem::take(&mut self.attempts),
                })
            }
        }
    }

    /// An EWS URL: the discovery, when the URL itself obeys the trust rules.
    fn found(&mut self, candidate: &Candidate, url: Url, setting: String) -> Option<Discovery> {
        if let Err(reason) = self.trust.check(&url, true) {
            let reason = format!("the EWS URL {url} was not used: {reason}");
            self.record(candidate, Outcome::Refused { reason });
            return None;
        }
        let found_by = format!(
            "{} at {} ({setting}{})",
            match candidate.protocol {
                Protocol::Soap => "soap GetUserSettings",
                _ => "pox",
            },
            candidate.url,
            if self.hops > 0 {
                format!(", after {} redirects", self.hops)
            } else {
                String::new()
            }
        );
        self.record(
            candidate,
            Outcome::Found {
                url: url.clone(),
                setting,
            },
        );
        tracing::info!(url = %url, found_by = %found_by, mailbox = %self.mailbox, "autodiscover found the EWS URL");
        Some(Discovery {
            url,
            found_by,
            attempts: std::mem::take(&mut self.attempts),
        })
    }

    /// A RedirectAddress: the search starts again from the candidates of the new address's
    /// domain (an answer that is not an address is recorded as a failure).
    fn redirect_address(&mut self, candidate: &Candidate, target: String) -> Result<(), Error> {
        self.record(
            candidate,
            Outcome::Redirected {
                kind: "RedirectAddress".to_owned(),
                target: target.clone(),
            },
        );
        self.hop(&target)?;
        match domain_of(&target) {
            Ok(new_domain) => {
                self.queue = initial_candidates(self.settings.start_url.as_ref(), &new_domain);
                self.mailbox = target;
            }
            Err(_) => {
                if let Some(last) = self.attempts.last_mut() {
                    last.outcome = Outcome::Failed {
                        reason: format!("RedirectAddress to `{target}`, not an address"),
                    };
                }
            }
        }
        Ok(())
    }

    /// A RedirectUrl or an HTTP 3xx: the target is tried next, with the same protocol (POX after
    /// the unauthenticated probe), SOAP followed by its POX twin.
    fn redirect_url(
        &mut self,
        candidate: &Candidate,
        kind: String,
        target: Url,
    ) -> Result<(), Error> {
        self.record(
            candidate,
            Outcome::Redirected {
                kind: kind.clone(),
                target: target.to_string(),
            },
        );
        self.hop(target.as_str())?;
        let via = Some(format!("{kind} from {}", candidate.url));
        let protocol = match candidate.protocol {
            Protocol::RedirectProbe => Protocol::Pox,
            other => other,
        };
        let mut next = vec![Candidate {
            protocol,
            url: target.clone(),
            via: via.clone(),
        }];
        if protocol == Protocol::Soap {
            if let Some(pox) = pox_twin(&target) {
                next.push(Candidate {
                    protocol: Protocol::Pox,
                    url: pox,
                    via,
                });
            }
        }
        for candidate in next.into_iter().rev() {
            self.queue.push_front(candidate);
        }
        Ok(())
    }

    /// Counts one redirect; past [`MAX_HOPS`] the search stops.
    fn hop(&mut self, last: &str) -> Result<(), Error> {
        self.hops += 1;
        if self.hops > MAX_HOPS {
            return Err(Error::TooManyRedirects {
                mailbox: self.settings.mailbox.clone(),
                last: last.to_owned(),
                attempts: std::mem::take(&mut self.attempts),
            });
        }
        Ok(())
    }

    fn record(&mut self, candidate: &Candidate, outcome: Outcome) {
        self.attempts
            .push(attempt(candidate, &self.mailbox, outcome));
    }

    /// Every candidate was tried: the refusals (one line per distinct one, the same host is
    /// often refused for SOAP and POX alike), else every failure.
    fn not_found(self) -> Error {
        let mut refusals: Vec<&str> = Vec::new();
        for attempt in &self.attempts {
            if let Outcome::Refused { reason } = &attempt.outcome {
                let reason = reason.split(" (sent there by").next().unwrap_or(reason);
                if !refusals.contains(&reason) {
                    refusals.push(reason);
                }
            }
        }
        let summary = if refusals.is_empty() {
            let failures: Vec<String> = self
                .attempts
                .iter()
                .filter_map(|attempt| match &attempt.outcome {
                    Outcome::Failed { reason } => Some(format!("{}: {reason}", attempt.url)),
                    _ => None,
                })
                .collect();
            format!(
                "{} candidates failed: {}",
                failures.len(),
                failures.join("; ")
            )
        } else {
            refusals.join("; ")
        };
        Error::NotFound {
            mailbox: self.settings.mailbox.clone(),
            summary,
            attempts: self.attempts,
        }
    }
}

/// The candidates of PROTOCOL.md 8.1 steps 2 to 4 for `domain`, or the configured start.
fn initial_candidates(start_url: Option<&Url>, domain: &str) -> VecDeque<Candidate> {
    let candidate = |protocol, url: Url| Candidate {
        protocol,
        url,
        via: None,
    };
    if let Some(start) = start_url {
        let mut list = VecDeque::new();
        if start.path().to_ascii_lowercase().ends_with(".xml") {
            list.push_back(candidate(Protocol::Pox, start.clone()));
        } else {
            list.push_back(candidate(Protocol::Soap, start.clone()));
            if let Some(pox) = pox_twin(start) {
                list.push_back(candidate(Protocol::Pox, pox));
            }
        }
        return list;
    }
    let parse = |text: String| Url::parse(&text).ok();
    let hosts = [domain.to_owned(), format!("autodiscover.{domain}")];
    let mut list = VecDeque::new();
    for (protocol, extension) in [(Protocol::Soap, "svc"), (Protocol::Pox, "xml")] {
        for host in &hosts {
            if let Some(url) = parse(format!(
                "https://{host}/autodiscover/autodiscover.{extension}"
            )) {
                list.push_back(candidate(protocol, url));
            }
        }
    }
    if let Some(url) = parse(format!(
        "http://autodiscover.{domain}/autodiscover/autodiscover.xml"
    )) {
        list.push_back(candidate(Protocol::RedirectProbe, url));
    }
    list
}

/// The POX endpoint beside a SOAP one: `.../autodiscover.svc` → `.../autodiscover.xml`.
fn pox_twin(url: &Url) -> Option<Url> {
    let path = url.path();
    let stem = path
        .strip_suffix(".svc")
        .or_else(|| path.strip_suffix(".SVC"))?;
    let mut pox = url.clone();
    pox.set_path(&format!("{stem}.xml"));
    pox.set_query(None);
    Some(pox)
}

fn domain_of(mailbox: &str) -> Result<String, Error> {
    match mailbox.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.is_empty()
                && !domain.contains(['/', ':', '@', ' ', '?', '#']) =>
        {
            Ok(domain.trim_end_matches('.').to_ascii_lowercase())
        }
        _ => Err(Error::InvalidMailbox {
            mailbox: mailbox.to_owned(),
        }),
    }
}

fn attempt(candidate: &Candidate, mailbox: &str, outcome: Outcome) -> Attempt {
    Attempt {
        protocol: candidate.protocol,
        url: candidate.url.clone(),
        mailbox: mailbox.to_owned(),
        outcome,
    }
}

/// One endpoint to try, and what sent us there.
struct Candidate {
    protocol: Protocol,
    url: Url,
    via: Option<String>,
}

/// Who may get credentials (module doc).
struct Trust {
    domain: String,
    extra: Vec<String>,
    /// The origin of `exchange.autodiscover_url`, the only place plain http may carry
    /// credentials.
    lab: Option<url::Origin>,
    start_host: Option<String>,
}

impl Trust {
    fn check(&self, url: &Url, with_credentials: bool) -> Result<(), String> {
        let Some(host) = url.host_str() else {
            return Err(format!("{url} has no host"));
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let within = |name: &str| host == name || host.ends_with(&format!(".{name}"));
        let trusted = within(&self.domain)
            || self.extra.iter().any(|name| within(name))
            || self.start_host.as_deref() == Some(host.as_str());
        if !trusted {
            return Err(format!(
                "refused to send credentials to {host} ({url}): it is not {} or a subdomain of it; if this host is yours, add \"{host}\" to {TRUSTED_HOSTS_KEY}",
                self.domain
            ));
        }
        let lab = self.lab.as_ref() == Some(&url.origin());
        if url.scheme() != "https" && !lab && with_credentials {
            return Err(format!(
                "refused to send credentials over plain http to {url}: only https is used (an http:// exchange.autodiscover_url is the one lab exception)"
            ));
        }
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!("{url} is not an http(s) url"));
        }
        Ok(())
    }
}

/// What one request gave, before the trust rules and hop count are applied.
#[derive(Debug)]
enum Step {
    Found { url: Url, setting: String },
    RedirectAddress(String),
    RedirectUrl { kind: String, target: Url },
    Failed(String),
    AuthRejected(String),
}

fn transport_for(settings: &Settings, url: &Url) -> Result<Transport, transport::Error> {
    let mut transport_settings = transport::Settings::new(url.clone(), settings.auth);
    // A candidate that does not resolve is an ordinary outcome, not a key to correct.
    transport_settings.url_key = None;
    transport_settings.ca_file = settings.ca_file.clone();
    transport_settings.channel_binding = settings.channel_binding;
    transport_settings.danger_accept_invalid_certs = false;
    transport_settings.danger_allow_basic_over_http = settings.danger_allow_basic_over_http;
    transport_settings.connect_timeout = settings.connect_timeout;
    transport_settings.request_timeout = settings.request_timeout;
    transport_settings.max_connections_per_account = 1;
    transport_settings.user_agent = settings.user_agent.clone();
    Transport::new(transport_settings)
}

/// POSTs `body` to `url` as the account; a 3xx with `Location`, a status or a failure become a
/// [`Step`], a 200 body is handed back.
async fn post(settings: &Settings, url: &Url, body: Vec<u8>) -> Result<Bytes, Step> {
    let transport =
        transport_for(settings, url).map_err(|error| Step::Failed(error.to_string()))?;
    let request = transport::Request {
        body: Bytes::from(body),
        anchor_mailbox: None,
        client_request_id: None,
    };
    match transport.post(&settings.credentials, request).await {
        Ok(response) => answer_body(url, response),
        Err(transport::Error::AuthRejected { detail, .. }) => Err(Step::AuthRejected(detail)),
        Err(error) => Err(Step::Failed(error.to_string())),
    }
}

fn answer_body(url: &Url, response: transport::Response) -> Result<Bytes, Step> {
    if (300..400).contains(&response.status) {
        return Err(match response.location.as_deref() {
            Some(location) => match url.join(location) {
                Ok(target) => Step::RedirectUrl {
                    kind: format!("HTTP {}", response.status),
                    target,
                },
                Err(_) => Step::Failed(format!(
                    "http {} to an unreadable location {location:?}",
                    response.status
                )),
            },
            None => Step::Failed(format!("http {} without a location", response.status)),
        });
    }
    if response.status != 200 {
        return Err(Step::Failed(format!("http {}", response.status)));
    }
    Ok(response.body)
}

async fn ask_soap(settings: &Settings, url: &Url, mailbox: &str) -> Step {
    let body = match xml::encode_get_user_settings(url.as_str(), mailbox, EWS_URL_SETTINGS) {
        Ok(body) => body,
        Err(error) => return Step::Failed(format!("request not sent: {error}")),
    };
    let bytes = match post(settings, url, body).await {
        Ok(bytes) => bytes,
        Err(step) => return step,
    };
    let decoded = match xml::decode_get_user_settings(&bytes) {
        Ok(decoded) => decoded,
        Err(error) => return Step::Failed(format!("the answer cannot be read: {error}")),
    };
    if decoded.error_code != AutodiscoverErrorCode::NoError {
        return Step::Failed(format!(
            "ErrorCode {}: {}",
            decoded.error_code.as_str(),
            decoded.error_message
        ));
    }
    let Some(user) = decoded.users.first() else {
        return Step::Failed("the answer holds no UserResponse".to_owned());
    };
    match &user.error_code {
        AutodiscoverErrorCode::NoError => {
            let (first, second) = match settings.prefer {
                Preference::Internal => ("InternalEwsUrl", "ExternalEwsUrl"),
                Preference::External => ("ExternalEwsUrl", "InternalEwsUrl"),
            };
            let chosen = user
                .setting(first)
                .map(|url| (url, first))
                .or_else(|| user.setting(second).map(|url| (url, second)));
            match chosen {
                Some((text, setting)) => found(text, setting),
                None => {
                    let missing: Vec<String> = user
                        .setting_errors
                        .iter()
                        .map(|error| {
                            format!("{} {}", error.setting_name, error.error_code.as_str())
                        })
                        .collect();
                    Step::Failed(format!(
                        "no EWS URL in the answer (setting errors: {})",
                        if missing.is_empty() {
                            "none".to_owned()
                        } else {
                            missing.join(", ")
                        }
                    ))
                }
            }
        }
        AutodiscoverErrorCode::RedirectAddress => match &user.redirect_target {
            Some(target) => Step::RedirectAddress(target.clone()),
            None => Step::Failed("RedirectAddress without a RedirectTarget".to_owned()),
        },
        AutodiscoverErrorCode::RedirectUrl => match user
            .redirect_target
            .as_deref()
            .map(|target| url.join(target))
        {
            Some(Ok(target)) => Step::RedirectUrl {
                kind: "RedirectUrl".to_owned(),
                target,
            },
            _ => Step::Failed("RedirectUrl without a usable RedirectTarget".to_owned()),
        },
        other => Step::Failed(format!(
            "user ErrorCode {}: {}",
            other.as_str(),
            user.error_message
        )),
    }
}

async fn ask_pox(settings: &Settings, url: &Url, mailbox: &str) -> Step {
    let body = match xml::encode_pox(mailbox) {
        Ok(body) => body,
        Err(error) => return Step::Failed(format!("request not sent: {error}")),
    };
    let bytes = match post(settings, url, body).await {
        Ok(bytes) => bytes,
        Err(step) => return step,
    };
    match xml::decode_pox(&bytes) {
        Ok(PoxResponse::Settings {
            internal_ews_url,
            external_ews_url,
        }) => {
            let internal = internal_ews_url.map(|url| (url, "EXCH EwsUrl"));
            let external = external_ews_url.map(|url| (url, "EXPR EwsUrl"));
            let chosen = match settings.prefer {
                Preference::Internal => internal.or(external),
                Preference::External => external.or(internal),
            };
            match chosen {
                Some((text, setting)) => found(&text, setting),
                None => Step::Failed("no EwsUrl in the pox answer".to_owned()),
            }
        }
        Ok(PoxResponse::RedirectAddress(target)) => Step::RedirectAddress(target),
        Ok(PoxResponse::RedirectUrl(target)) => match url.join(&target) {
            Ok(target) => Step::RedirectUrl {
                kind: "redirectUrl".to_owned(),
                target,
            },
            Err(_) => Step::Failed(format!("redirectUrl to an unreadable url {target:?}")),
        },
        Ok(PoxResponse::Error { code, message }) => {
            Step::Failed(format!("pox error {code}: {message}"))
        }
        Err(error) => Step::Failed(format!("the answer cannot be read: {error}")),
    }
}

/// PROTOCOL.md 8.1 step 4: an unauthenticated GET whose https redirect is where to POST.
async fn probe(settings: &Settings, url: &Url) -> Step {
    let transport = match transport_for(settings, url) {
        Ok(transport) => transport,
        Err(error) => return Step::Failed(error.to_string()),
    };
    match transport.get_anonymous().await {
        Ok(response) => match answer_body(url, response) {
            Err(Step::RedirectUrl { kind, target }) if target.scheme() == "https" => {
                Step::RedirectUrl { kind, target }
            }
            Err(Step::RedirectUrl { target, .. }) => Step::Failed(format!(
                "redirect to {target} not followed: only an https location is"
            )),
            Err(step) => step,
            Ok(_) => Step::Failed("http 200 instead of a redirect".to_owned()),
        },
        Err(error) => Step::Failed(error.to_string()),
    }
}

fn found(text: &str, setting: &str) -> Step {
    match Url::parse(text) {
        Ok(url) => Step::Found {
            url,
            setting: setting.to_owned(),
        },
        Err(error) => Step::Failed(format!("{setting} `{text}` is not a url: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(extra: &[&str], start: Option<&str>) -> Trust {
        let start = start.map(|text| Url::parse(text).unwrap());
        Trust {
            domain: "contoso.example".to_owned(),
            extra: extra.iter().map(|name| name.to_string()).collect(),
            lab: start.as_ref().map(Url::origin),
            start_host: start
                .as_ref()
                .and_then(|url| url.host_str().map(str::to_owned)),
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn candidates_follow_protocol_8_1_in_order() {
        let list: Vec<(Protocol, String)> = initial_candidates(None, "contoso.example")
            .into_iter()
            .map(|candidate| (candidate.protocol, candidate.url.to_string()))
            .collect();
        assert_eq!(
            list,
            vec![
                (
                    Protocol::Soap,
                    "https://contoso.example/autodiscover/autodiscover.svc".to_owned()
                ),
                (
                    Protocol::Soap,
                    "https://autodiscover.contoso.example/autodiscover/autodiscover.svc".to_owned()
                ),
                (
                    Protocol::Pox,
                    "https://contoso.example/autodiscover/autodiscover.xml".to_owned()
                ),
                (
                    Protocol::Pox,
                    "https://autodiscover.contoso.example/autodiscover/autodiscover.xml".to_owned()
                ),
                (
                    Protocol::RedirectProbe,
                    "http://autodiscover.contoso.example/autodiscover/autodiscover.xml".to_owned()
                ),
            ]
        );
        let start = url("http://127.0.0.1:8443/autodiscover/autodiscover.svc");
        let list: Vec<(Protocol, String)> = initial_candidates(Some(&start), "contoso.example")
            .into_iter()
            .map(|candidate| (candidate.protocol, candidate.url.to_string()))
            .collect();
        assert_eq!(
            list,
            vec![
                (Protocol::Soap, start.to_string()),
                (
                    Protocol::Pox,
                    "http://127.0.0.1:8443/autodiscover/autodiscover.xml".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn credentials_go_only_to_the_domain_its_subdomains_and_listed_hosts() {
        let rules = trust(&["exchange.partner.example"], None);
        assert!(rules.check(&url("https://contoso.example/x"), true).is_ok());
        assert!(
            rules
                .check(&url("https://mail.eu.contoso.example/x"), true)
                .is_ok()
        );
        assert!(
            rules
                .check(&url("https://cas1.exchange.partner.example/x"), true)
                .is_ok()
        );
        let refusal = rules
            .check(&url("https://evilcontoso.example/x"), true)
            .unwrap_err();
        assert!(
            refusal.contains("evilcontoso.example")
                && refusal.contains("exchange.autodiscover_trusted_hosts"),
            "{refusal}"
        );
        assert!(
            rules
                .check(&url("https://contoso.example.attacker.example/x"), true)
                .is_err()
        );
        let http = rules
            .check(&url("http://autodiscover.contoso.example/x"), true)
            .unwrap_err();
        assert!(http.contains("plain http"), "{http}");
        // The probe sends no credentials, so http is fine there.
        assert!(
            rules
                .check(&url("http://autodiscover.contoso.example/x"), false)
                .is_ok()
        );
    }

    #[test]
    fn an_http_lab_start_is_trusted_at_its_own_origin_only() {
        let rules = trust(
            &[],
            Some("http://127.0.0.1:8443/autodiscover/autodiscover.svc"),
        );
        assert!(
            rules
                .check(&url("http://127.0.0.1:8443/EWS/Exchange.asmx"), true)
                .is_ok()
        );
        assert!(
            rules
                .check(&url("http://127.0.0.1:9999/EWS/Exchange.asmx"), true)
                .unwrap_err()
                .contains("plain http")
        );
        assert!(
            rules
                .check(&url("http://localhost:8443/EWS/Exchange.asmx"), true)
                .unwrap_err()
                .contains("add \"localhost\" to exchange.autodiscover_trusted_hosts")
        );
    }

    /// A one-connection-at-a-time listener answering every request with `answer`, recording
    /// the request heads.
    async fn answering(answer: &'static str) -> (Url, std::sync::Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = std::sync::Arc::new(Mutex::new(Vec::new()));
        let recorded = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buffer = vec![0u8; 8192];
                let read = stream.read(&mut buffer).await.unwrap_or(0);
                recorded
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buffer[..read]).into_owned());
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        let url = Url::parse(&format!(
            "http://127.0.0.1:{port}/autodiscover/autodiscover.xml"
        ))
        .unwrap();
        (url, heads)
    }

    fn probe_settings() -> Settings {
        Settings {
            mailbox: "alice@contoso.example".to_owned(),
            credentials: Credentials {
                username: "CONTOSO\\svc".to_owned(),
                password: crate::secret::Secret::new("probe-Passw0rd"),
            },
            auth: AuthScheme::Basic,
            start_url: None,
            trusted_hosts: Vec::new(),
            prefer: Preference::Internal,
            ca_file: None,
            channel_binding: true,
            danger_allow_basic_over_http: true,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            user_agent: "test".to_owned(),
        }
    }

    #[tokio::test]
    async fn the_redirect_probe_sends_no_credentials_and_follows_only_https() {
        let (url, heads) = answering(
            "HTTP/1.1 302 Found\r\nLocation: https://mail.contoso.example/autodiscover/autodiscover.xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        match probe(&probe_settings(), &url).await {
            Step::RedirectUrl { kind, target } => {
                assert_eq!(kind, "HTTP 302");
                assert_eq!(
                    target.as_str(),
                    "https://mail.contoso.example/autodiscover/autodiscover.xml"
                );
            }
            other => panic!("{other:?}"),
        }
        let head = heads.lock().unwrap()[0].clone();
        assert!(
            head.starts_with("GET /autodiscover/autodiscover.xml HTTP/1.1"),
            "{head}"
        );
        assert!(
            !head.to_ascii_lowercase().contains("authorization"),
            "{head}"
        );

        let (url, _) = answering(
            "HTTP/1.1 302 Found\r\nLocation: http://mail.contoso.example/autodiscover/autodiscover.xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        match probe(&probe_settings(), &url).await {
            Step::Failed(reason) => assert!(reason.contains("only an https location"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mailbox_domain_and_pox_twin() {
        assert_eq!(
            domain_of("Alice@Contoso.Example").unwrap(),
            "contoso.example"
        );
        assert!(domain_of("alice").is_err());
        assert!(domain_of("alice@").is_err());
        assert_eq!(
            pox_twin(&url("https://a.example/autodiscover/autodiscover.svc?x=1"))
                .unwrap()
                .as_str(),
            "https://a.example/autodiscover/autodiscover.xml"
        );
        assert!(pox_twin(&url("https://a.example/autodiscover/autodiscover.xml")).is_none());
    }
}
