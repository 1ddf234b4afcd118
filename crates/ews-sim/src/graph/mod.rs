//! `sim::graph`: an offline Microsoft Graph side for tests and the demo: the Microsoft identity
//! platform's token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client credentials) and the
//! Graph v1.0 calendar routes the connector uses (`/v1.0/users/{id}/calendar`,
//! `.../calendar/calendarPermissions[/{id}]`, `.../calendar/events[/{id}]`, `.../calendarView`,
//! `POST /v1.0/$batch`).
//!
//! The token endpoint verifies a client assertion as Entra ID does: the certificate named by
//! `x5t#S256` (or `x5t`) must be registered, the RS256/PS256 signature must verify with its
//! public key (`ring`, not the connector's `jsonwebtoken`), `aud` must be this endpoint's own
//! token URL, `iss` and `sub` the client id, `exp` in the future, `nbf` past and `jti` never
//! seen before. Or a client secret. It issues a JWT-shaped access token (`aud`, `tid`, `appid`,
//! `roles`, `iat`/`nbf`/`exp`) that the `/v1.0` routes then require (`api`).
//!
//! Layout: `directory` (the tenant's mailboxes, calendars, permissions and events), `api`
//! (bearer check, authorization, routes, limits, faults), `events` (the event routes' rules and
//! JSON), `batch` (JSON batching), `render` (templates).
//!
//! Invariants: depends on no other module of the crate; binds loopback only; every answer is
//! template bytes from `fixtures/sim/graph/` with JSON-escaped values. Each behaviour has a row
//! in docs/FIDELITY.md.
//!
//! Entry points: [`start`], [`GraphSimConfig`], [`GraphSimHandle`], [`GraphSimStats`],
//! [`GraphMailbox`], [`GraphFault`].

/// A template of `fixtures/sim/graph/`, compiled in (for `render` and `events`).
macro_rules! template {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/sim/graph/",
            $name
        ))
    };
}

mod api;
mod batch;
mod directory;
mod events;
mod render;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

pub use directory::{CALENDAR_ROLES, GraphCalendar, GraphGrant, GraphMailbox, GraphPermissionView};
pub use events::{
    GraphBody, GraphDateTime, GraphEvent, GraphExtendedProperty, PUBLIC_STRINGS_GUID,
};
pub(crate) use events::{canonical_property_id, resolve_zone};

use directory::{Directory, MailboxState};

const TOKEN_TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/sim/graph/token.json"
));
const TOKEN_ERROR_TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/sim/graph/token_error.json"
));
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The simulated tenant, its one application registration and its mailboxes.
#[derive(Debug, Clone)]
pub struct GraphSimConfig {
    /// The tenant id (GUID or domain) the token URL must name.
    pub tenant_id: String,
    /// The application (client) id.
    pub client_id: String,
    /// DER certificates registered for the application (Certificates & secrets).
    pub certificates: Vec<Vec<u8>>,
    /// Client secret values registered for the application.
    pub secrets: Vec<String>,
    /// Client secret values registered but expired (AADSTS7000222).
    pub expired_secrets: Vec<String>,
    /// `expires_in` of the tokens issued (and their `exp`).
    pub token_lifetime: Duration,
    /// The application permissions consented tenant-wide in Entra ID (the access token's
    /// `roles`): `Calendars.ReadWrite` there reaches every mailbox. Empty by default: the setup
    /// the admin guide recommends consents nothing in Entra ID and lets Exchange Online's RBAC
    /// for Applications decide.
    pub roles: Vec<String>,
    /// Exchange Online's management role assignment `Application Calendars.ReadWrite` for the
    /// application's service principal, limited to a management scope: the mailboxes whose
    /// `in_scope` is true. On by default.
    pub application_role_assignment: bool,
    /// The tenant's mailboxes.
    pub mailboxes: Vec<GraphMailbox>,
    /// Added to every `/v1.0` request (and every `$batch` part), inside its mailbox slot.
    pub latency: Duration,
    /// Requests in flight per mailbox before 429 (Exchange Online's MailboxConcurrency: 4).
    pub mailbox_concurrency: usize,
    /// `Retry-After` of a concurrency 429.
    pub retry_after: Duration,
}

impl Default for GraphSimConfig {
    fn default() -> Self {
        GraphSimConfig {
            tenant_id: "contoso.onmicrosoft.com".to_owned(),
            client_id: "00000000-0000-0000-0000-000000000001".to_owned(),
            certificates: Vec::new(),
            secrets: Vec::new(),
            expired_secrets: Vec::new(),
            token_lifetime: Duration::from_secs(3600),
            roles: Vec::new(),
            application_role_assignment: true,
            mailboxes: Vec::new(),
            latency: Duration::ZERO,
            mailbox_concurrency: 4,
            retry_after: Duration::from_secs(1),
        }
    }
}

impl GraphSimConfig {
    /// Reads the TOML form (`fixtures/sim/graph/sample.toml`; keys in its README). Registered
    /// certificates are not in the file: add their DER to [`GraphSimConfig::certificates`].
    ///
    /// # Errors
    /// A TOML error, an unknown key, a role outside `calendarRoleType`, an address without `@`,
    /// or two mailboxes with one address.
    pub fn from_toml(text: &str) -> Result<GraphSimConfig, String> {
        let parsed: directory::TomlConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        let config = GraphSimConfig {
            tenant_id: parsed.tenant_id,
            client_id: parsed.client_id,
            certificates: Vec::new(),
            secrets: parsed.secrets,
            expired_secrets: parsed.expired_secrets,
            token_lifetime: Duration::from_secs(parsed.token_lifetime_secs),
            roles: parsed.roles.unwrap_or_default(),
            application_role_assignment: parsed.application_role_assignment,
            mailboxes: parsed.mailboxes,
            latency: Duration::from_millis(parsed.latency_ms),
            mailbox_concurrency: parsed.mailbox_concurrency,
            retry_after: Duration::from_secs(parsed.retry_after_secs),
        };
        build_directory(&config.mailboxes)?;
        Ok(config)
    }
}

/// Whether `address` is in one of the directory's domains.
fn inside_of(mailboxes: &[GraphMailbox]) -> impl Fn(&str) -> bool + '_ {
    move |address: &str| {
        let domain = address.rsplit('@').next().unwrap_or("");
        mailboxes.iter().any(|m| {
            m.address
                .rsplit('@')
                .next()
                .is_some_and(|d| d.eq_ignore_ascii_case(domain))
        })
    }
}

fn build_directory(mailboxes: &[GraphMailbox]) -> Result<Vec<MailboxState>, String> {
    let inside = inside_of(mailboxes);
    let mut built: Vec<MailboxState> = Vec::new();
    for mailbox in mailboxes {
        let state = MailboxState::new(mailbox, &inside)?;
        if built.iter().any(|m| m.address == state.address) {
            return Err(format!("mailbox {} is listed twice", state.address));
        }
        built.push(state);
    }
    Ok(built)
}

/// Counters of the whole simulator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphSimStats {
    /// Every POST to a token URL.
    pub token_requests: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Token requests answered with an error.
    pub token_refusals: u64,
    /// `/v1.0` requests, each `$batch` part counted as one (the batch itself is not).
    pub api_requests: u64,
    /// 401 answers (no, unknown or expired token).
    pub unauthorized: u64,
    /// `POST /v1.0/$batch` requests.
    pub batches: u64,
    /// The parts of the well-formed `$batch` requests (each also in `api_requests`), so the
    /// HTTP requests are `batches + api_requests - batch_parts`.
    pub batch_parts: u64,
    /// 429 answers for more than `mailbox_concurrency` requests in flight on one mailbox.
    pub concurrency_refusals: u64,
    /// Scripted faults applied.
    pub faults_applied: u64,
}

/// The kinds of `/v1.0` requests, for [`GraphSimHandle::route_requests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    /// `GET /users/{id}/calendar`.
    GetCalendar,
    /// `GET .../calendarPermissions`.
    ListPermissions,
    /// `POST .../calendarPermissions`.
    CreatePermission,
    /// `GET .../calendarPermissions/{id}`.
    GetPermission,
    /// `PATCH .../calendarPermissions/{id}`.
    UpdatePermission,
    /// `DELETE .../calendarPermissions/{id}`.
    DeletePermission,
    /// `GET .../calendar/events` or `.../events` (with `$filter`).
    ListEvents,
    /// `POST .../calendar/events` or `.../events`.
    CreateEvent,
    /// `GET .../events/{id}`.
    GetEvent,
    /// `PATCH .../events/{id}`.
    UpdateEvent,
    /// `DELETE .../events/{id}`.
    DeleteEvent,
    /// `POST .../events/{id}/permanentDelete`.
    PermanentDeleteEvent,
    /// `GET .../calendar/calendarView` or `.../calendarView`.
    CalendarView,
    /// `POST /$batch`.
    Batch,
    /// Anything else (answered 400 or 405).
    Other,
}

/// Counters of one mailbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphMailboxStats {
    /// Requests that named this mailbox (any route, any answer).
    pub requests: u64,
    /// POST, PATCH and DELETE requests that named it.
    pub writes: u64,
    /// Requests in flight now.
    pub in_flight: usize,
    /// The most requests ever in flight at once.
    pub max_in_flight: usize,
    /// Requests refused with 429 for its concurrency limit.
    pub concurrency_refusals: u64,
    /// Events created (`POST .../events` answered 201).
    pub event_creates: u64,
    /// Events changed (`PATCH .../events/{id}` answered 200); the fields of each are in
    /// [`GraphSimHandle::patched_fields`].
    pub event_patches: u64,
    /// Events deleted (`DELETE .../events/{id}` answered 204: moved to Deleted Items).
    pub event_deletes: u64,
    /// Events permanently deleted (`POST .../events/{id}/permanentDelete` answered 204: to
    /// Recoverable Items\Purges, in no folder).
    pub event_permanent_deletes: u64,
}

/// A scripted misbehaviour for the next `count` `/v1.0` requests (or `$batch` parts) for
/// `mailbox` (any mailbox when `None`), applied after the bearer and mailbox checks
/// ([`GraphFaultKind::PartError`] only to event writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphFault {
    #[serde(default)]
    pub mailbox: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(flatten)]
    pub kind: GraphFaultKind,
}

fn one() -> u32 {
    1
}

/// What a [`GraphFault`] does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GraphFaultKind {
    /// 429 `TooManyRequests` with `Retry-After`.
    Throttle { retry_after_secs: u64 },
    /// 503 `serviceNotAvailable` with `Retry-After`.
    Unavailable { retry_after_secs: u64 },
    /// Closes the connection without an answer (not processed).
    Drop,
    /// Waits this long more, then answers normally.
    LatencyMs { ms: u64 },
    /// Processes the request in full (a created event IS stored), then closes the connection
    /// without sending any byte of the answer: a lost answer.
    DropAfterProcessing,
    /// Answers `status` with Graph's error body `{"error": {"code", "message"}}` instead of
    /// doing the write, as Graph answers one event it refuses (a `$batch` part carries its own
    /// status and body; the other parts are served as usual). Applies only to event writes:
    /// `POST .../events`, `PATCH`/`DELETE .../events/{id}` and `POST .../permanentDelete`,
    /// sent alone or as a batch part; each such request counts one of `count`, and every
    /// other request (reads, the batch envelope, permissions) passes this fault by, so the
    /// `count` refusals land on exactly `count` event writes. A status that is no HTTP status
    /// is answered 500.
    PartError {
        status: u16,
        code: String,
        message: String,
    },
}

impl GraphFault {
    /// The next `count` requests for `mailbox`.
    pub fn for_mailbox(mailbox: &str, count: u32, kind: GraphFaultKind) -> GraphFault {
        GraphFault {
            mailbox: Some(mailbox.to_owned()),
            count,
            kind,
        }
    }
}

/// How many received client assertions [`GraphSimHandle::client_assertions`] keeps.
const MAX_ASSERTIONS_KEPT: usize = 1000;

/// An issued access token.
struct Issued {
    expiry: Instant,
    roles: Vec<String>,
}

struct Shared {
    config: GraphSimConfig,
    /// Filled in once the listener is bound: `http://127.0.0.1:port`.
    base: String,
    /// Signs the access tokens (HS256; Graph never shows its key, nor does this).
    signing_key: [u8; 32],
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    stats: GraphSimStats,
    seen_jti: HashSet<String>,
    issued: HashMap<String, Issued>,
    /// The client assertions received, in order (the last [`MAX_ASSERTIONS_KEPT`]).
    assertions: VecDeque<String>,
    mailboxes: Directory,
    latency: Duration,
    faults: VecDeque<GraphFault>,
    per_mailbox: HashMap<String, GraphMailboxStats>,
    routes: BTreeMap<RouteKind, u64>,
    /// The `Application Calendars.ReadWrite` role assignment is in place.
    role_assignment: bool,
    /// Event ids and changeKeys are derived from it.
    event_serial: u64,
    /// Per mailbox address, what each successful event PATCH named, in order.
    patch_log: HashMap<String, Vec<events::Named>>,
}

/// A running Graph simulator.
pub struct GraphSimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl GraphSimHandle {
    /// `http://127.0.0.1:port`: the `graph.authority` and `graph.endpoint` of tests.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token URL of its tenant.
    pub fn token_url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.shared.base, self.shared.config.tenant_id
        )
    }

    pub fn stats(&self) -> GraphSimStats {
        lock(&self.shared.inner).stats
    }

    /// Requests per route kind.
    pub fn route_requests(&self, kind: RouteKind) -> u64 {
        lock(&self.shared.inner)
            .routes
            .get(&kind)
            .copied()
            .unwrap_or(0)
    }

    /// Counters of one mailbox (by address, case-insensitive); zero for one never named.
    pub fn mailbox_stats(&self, address: &str) -> GraphMailboxStats {
        lock(&self.shared.inner)
            .per_mailbox
            .get(&address.to_ascii_lowercase())
            .copied()
            .unwrap_or_default()
    }

    /// Whether `token` was issued here and has not expired.
    pub fn token_is_valid(&self, token: &str) -> bool {
        lock(&self.shared.inner)
            .issued
            .get(token)
            .is_some_and(|issued| Instant::now() < issued.expiry)
    }

    /// Every access token issued in the last hour (and those still valid), so a test can look
    /// for them where they must not be (logs, files).
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.shared.inner).issued.keys().cloned().collect()
    }

    /// The client assertions received at the token endpoint (the last 1000), verified or not.
    pub fn client_assertions(&self) -> Vec<String> {
        lock(&self.shared.inner)
            .assertions
            .iter()
            .cloned()
            .collect()
    }

    /// A mailbox's Entra object id (`/users/{id}` names it as well as its address).
    pub fn object_id(&self, address: &str) -> Option<String> {
        lock(&self.shared.inner)
            .mailboxes
            .find(address)
            .map(|m| m.object_id.clone())
    }

    /// The calendar permissions of a mailbox, "My Organization" first; `None` for an unknown one.
    pub fn permissions(&self, address: &str) -> Option<Vec<GraphPermissionView>> {
        lock(&self.shared.inner)
            .mailboxes
            .find(address)
            .map(|m| m.permissions.clone())
    }

    /// Adds a mailbox (replacing one with the same address).
    ///
    /// # Errors
    /// A role outside `calendarRoleType` or an address without `@`.
    pub fn add_mailbox(&self, mailbox: GraphMailbox) -> Result<(), String> {
        let mut inner = lock(&self.shared.inner);
        let own_domain = |address: &str| {
            let domain = |a: &str| a.rsplit('@').next().unwrap_or("").to_ascii_lowercase();
            domain(address) == domain(&mailbox.address)
        };
        let state = {
            let directory = &inner.mailboxes;
            let inside = |address: &str| directory.is_inside(address) || own_domain(address);
            MailboxState::new(&mailbox, &inside)?
        };
        inner.mailboxes.insert(state);
        Ok(())
    }

    /// Removes a mailbox (its user is then unknown); whether it was there.
    pub fn remove_mailbox(&self, address: &str) -> bool {
        lock(&self.shared.inner).mailboxes.remove(address)
    }

    /// Moves a mailbox into Exchange Online (`true`: a move from on-premises completed) or out
    /// of it (`MailboxNotEnabledForRESTAPI`); whether the mailbox exists.
    pub fn set_exchange_online(&self, address: &str, online: bool) -> bool {
        self.with_mailbox(address, |m| m.exchange_online = online)
    }

    /// Adds or removes the application's `Application Calendars.ReadWrite` management role
    /// assignment (RBAC for Applications); later requests are authorized by the new state.
    pub fn set_role_assignment(&self, assigned: bool) {
        lock(&self.shared.inner).role_assignment = assigned;
    }

    /// Puts a mailbox inside or outside the application's RBAC scope; whether it exists.
    pub fn set_in_scope(&self, address: &str, in_scope: bool) -> bool {
        self.with_mailbox(address, |m| m.in_scope = in_scope)
    }

    /// Sets a mailbox calendar's `canEdit`; whether it exists.
    pub fn set_can_edit(&self, address: &str, can_edit: bool) -> bool {
        self.with_mailbox(address, |m| m.calendar.can_edit = can_edit)
    }

    fn with_mailbox(&self, address: &str, change: impl FnOnce(&mut MailboxState)) -> bool {
        let mut inner = lock(&self.shared.inner);
        match inner.mailboxes.find_mut(address) {
            Some(mailbox) => {
                change(mailbox);
                true
            }
            None => false,
        }
    }

    /// A mailbox's events (ours and the user's alike, with every field and extended property),
    /// sorted by start, then id; `None` for an unknown mailbox.
    pub fn events(&self, address: &str) -> Option<Vec<GraphEvent>> {
        let inner = lock(&self.shared.inner);
        let mailbox = inner.mailboxes.find(address)?;
        let mut events = mailbox.events.clone();
        events.sort_by(|a, b| {
            a.start
                .instant()
                .cmp(&b.start.instant())
                .then_with(|| a.id.cmp(&b.id))
        });
        Some(events)
    }

    /// Acts like the user (Outlook): stores `event` in `address`'s calendar and returns it as
    /// stored. An empty `id` gets a new id; the id of one of its events replaces that event (an
    /// edit). Either way it gets a new changeKey. Extended property ids are stored in their
    /// canonical form.
    ///
    /// # Errors
    /// An unknown mailbox, a zone Graph does not accept, an all-day event that is not midnight
    /// to midnight, an end before the start, an extended property id Graph cannot read.
    pub fn insert_event(&self, address: &str, mut event: GraphEvent) -> Result<GraphEvent, String> {
        for property in &mut event.extended_properties {
            property.id = events::canonical_property_id(&property.id)
                .ok_or_else(|| format!("extended property id {:?} is not valid", property.id))?;
        }
        events::validate(&event).map_err(|(_, code, message)| format!("{code}: {message}"))?;
        let mut inner = lock(&self.shared.inner);
        let Inner {
            mailboxes,
            event_serial,
            ..
        } = &mut *inner;
        let mailbox = mailboxes
            .find_mut(address)
            .ok_or_else(|| format!("no mailbox {address}"))?;
        if let Some(existing) = mailbox.events.iter_mut().find(|e| e.id == event.id) {
            *event_serial += 1;
            event.change_key = events::new_change_key(*event_serial);
            event.created = existing.created;
            event.last_modified = chrono::Utc::now();
            *existing = event.clone();
            return Ok(event);
        }
        Ok(events::store_new(mailbox, event_serial, event))
    }

    /// Acts like the user deleting an event; the event when it was there.
    pub fn remove_event(&self, address: &str, id: &str) -> Option<GraphEvent> {
        let mut inner = lock(&self.shared.inner);
        let mailbox = inner.mailboxes.find_mut(address)?;
        let index = mailbox.events.iter().position(|e| e.id == id)?;
        Some(mailbox.events.remove(index))
    }

    /// The property names each successful event PATCH on `address` sent, oldest first
    /// (sorted; `singleValueExtendedProperties` for any extended property, which
    /// [`GraphSimHandle::patched_extended_properties`] names).
    pub fn patched_fields(&self, address: &str) -> Vec<Vec<String>> {
        lock(&self.shared.inner)
            .patch_log
            .get(&address.to_ascii_lowercase())
            .map(|log| log.iter().map(|named| named.fields.clone()).collect())
            .unwrap_or_default()
    }

    /// The extended property ids each successful event PATCH on `address` set, oldest first
    /// (in their canonical form, `String {guid} Name X` with the GUID in lower case, sorted;
    /// empty for a PATCH that named none).
    pub fn patched_extended_properties(&self, address: &str) -> Vec<Vec<String>> {
        lock(&self.shared.inner)
            .patch_log
            .get(&address.to_ascii_lowercase())
            .map(|log| {
                log.iter()
                    .map(|named| named.extended_properties.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The events a `DELETE` moved to `address`'s Deleted Items, oldest first (`None` for a
    /// mailbox it does not hold). An event removed by `permanentDelete` is never here.
    pub fn deleted_items(&self, address: &str) -> Option<Vec<GraphEvent>> {
        let inner = lock(&self.shared.inner);
        Some(inner.mailboxes.find(address)?.deleted_items.clone())
    }

    /// Receives a mailbox moved in from on-premises with its events (`crate::move_mailbox`):
    /// the mailbox is added (or the existing entry updated) as held by Exchange Online and in
    /// the application's scope, and each event is stored with a new id and changeKey.
    ///
    /// # Errors
    /// As [`GraphSimHandle::add_mailbox`] and [`GraphSimHandle::insert_event`].
    pub(crate) fn receive_moved(
        &self,
        mailbox: GraphMailbox,
        moved: Vec<GraphEvent>,
    ) -> Result<Vec<GraphEvent>, String> {
        let address = mailbox.address.clone();
        if self.object_id(&address).is_none() {
            self.add_mailbox(mailbox)?;
        }
        self.with_mailbox(&address, |m| {
            m.exchange_online = true;
            m.in_scope = true;
        });
        moved
            .into_iter()
            .map(|mut event| {
                event.id.clear();
                self.insert_event(&address, event)
            })
            .collect()
    }

    /// Changes the latency of every later request.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared.inner).latency = latency;
    }

    /// Queues a scripted fault (applied in queue order).
    pub fn push_fault(&self, fault: GraphFault) {
        lock(&self.shared.inner).faults.push_back(fault);
    }

    /// Stops the simulator and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for GraphSimHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts the Graph simulator on `127.0.0.1:0` in a background task.
///
/// # Errors
/// When the loopback socket cannot be bound, or the mailboxes are invalid (`InvalidInput`).
pub async fn start(config: GraphSimConfig) -> std::io::Result<GraphSimHandle> {
    let mailboxes = build_directory(&config.mailboxes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        base: format!("http://{addr}"),
        signing_key: rand::random(),
        inner: Mutex::new(Inner {
            mailboxes: Directory::new(mailboxes),
            latency: config.latency,
            role_assignment: config.application_role_assignment,
            ..Inner::default()
        }),
        config,
    });
    let (sender, receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(accept_loop(listener, shared.clone(), receiver));
    Ok(GraphSimHandle {
        addr,
        shared,
        shutdown: Some(sender),
        task: Some(task),
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, shutdown: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |request| {
                            let shared = shared.clone();
                            async move { handle(shared, request).await }
                        });
                        let _ = http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// An answer before it becomes an HTTP response. `body: None` is an empty body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<String>,
    /// Close the connection without answering.
    pub(crate) drop: bool,
}

impl Answer {
    pub(crate) fn json(status: StatusCode, body: String) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Some(body),
            drop: false,
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: String) -> Answer {
        self.headers.push((name, value));
        self
    }
}

/// The connection is closed instead of answered (a scripted `Drop`).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("answer dropped by a scripted fault")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    shared: Arc<Shared>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let path = parts.uri.path().to_owned();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let answer = if let Some(rest) = path.strip_prefix("/v1.0") {
        let request = api::ApiRequest {
            method: parts.method.as_str().to_owned(),
            path: rest.to_owned(),
            query: parts.uri.query().map(str::to_owned),
            authorization: header("authorization"),
            client_request_id: header("client-request-id"),
            content_type: header("content-type"),
            prefer: parts
                .headers
                .get_all("prefer")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect(),
            if_match: header("if-match"),
            body: body.to_vec(),
        };
        if parts.method == Method::POST
            && (rest.eq_ignore_ascii_case("/$batch") || rest.eq_ignore_ascii_case("/%24batch"))
        {
            batch::serve(&shared, request).await
        } else {
            api::serve(&shared, request).await
        }
    } else if let (&Method::POST, Some(tenant)) = (
        &parts.method,
        path.strip_prefix('/')
            .and_then(|p| p.strip_suffix("/oauth2/v2.0/token"))
            .filter(|t| !t.contains('/')),
    ) {
        token(&shared, tenant, &body)
    } else {
        render::error(
            StatusCode::NOT_FOUND,
            "BadRequest",
            &format!("Invalid version: {}", path.trim_start_matches('/')),
            header("client-request-id").as_deref(),
        )
    };
    if answer.drop {
        return Err(Dropped);
    }
    let mut response = Response::builder()
        .status(answer.status)
        .header("cache-control", "no-store, no-cache");
    if answer.body.is_some() {
        response = response.header("content-type", "application/json; charset=utf-8");
    }
    for (name, value) in &answer.headers {
        response = response.header(*name, value.as_str());
    }
    Ok(response
        .body(Full::new(Bytes::from(answer.body.unwrap_or_default())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

/// A refusal: HTTP status, OAuth `error`, AADSTS code, description.
struct Refusal(StatusCode, &'static str, u32, String);

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

fn token(shared: &Shared, tenant: &str, body: &[u8]) -> Answer {
    let outcome = decide(shared, tenant, body);
    let mut inner = lock(&shared.inner);
    inner.stats.token_requests += 1;
    if let Some((_, assertion)) =
        url::form_urlencoded::parse(body).find(|(name, _)| name == "client_assertion")
    {
        if inner.assertions.len() == MAX_ASSERTIONS_KEPT {
            inner.assertions.pop_front();
        }
        inner.assertions.push_back(assertion.into_owned());
    }
    match outcome {
        Ok(kind) => {
            inner.stats.tokens_issued += 1;
            let form: HashMap<String, String> =
                url::form_urlencoded::parse(body).into_owned().collect();
            let scope = form.get("scope").map(String::as_str).unwrap_or("");
            let audience = scope.strip_suffix("/.default").unwrap_or(scope);
            let lifetime = shared.config.token_lifetime;
            let token = access_token(shared, audience, kind);
            let now = Instant::now();
            // Expired tokens are kept an hour, so their 401 still says "expired".
            inner
                .issued
                .retain(|_, issued| issued.expiry + Duration::from_secs(3600) > now);
            inner.issued.insert(
                token.clone(),
                Issued {
                    expiry: Instant::now() + lifetime,
                    roles: shared.config.roles.clone(),
                },
            );
            let body = TOKEN_TEMPLATE
                .trim_end()
                .replace("{{EXPIRES_IN}}", &lifetime.as_secs().to_string())
                .replace("{{ACCESS_TOKEN}}", &json_escape(&token));
            Answer::json(StatusCode::OK, body)
        }
        Err(Refusal(status, error, code, description)) => {
            inner.stats.token_refusals += 1;
            let trace = render::new_guid();
            let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
            let body = TOKEN_ERROR_TEMPLATE
                .trim_end()
                .replace("{{ERROR}}", error)
                .replace("{{CODE}}", &code.to_string())
                .replace("{{DESCRIPTION}}", &json_escape(&description))
                .replace("{{TRACE_ID}}", &trace)
                .replace("{{TIMESTAMP}}", &timestamp)
                .replace("{{AUTHORITY}}", &json_escape(&shared.base));
            Answer::json(status, body)
        }
    }
}

/// How the application proved itself: `appidacr` 1 (secret) or 2 (certificate).
#[derive(Clone, Copy)]
enum Proof {
    Secret,
    Certificate,
}

/// A JWT-shaped app-only access token: header, claims as Entra ID's v1.0 app tokens carry them,
/// and an HS256 signature with the simulator's own key.
fn access_token(shared: &Shared, audience: &str, proof: Proof) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let config = &shared.config;
    let tid = if config.tenant_id.len() == 36 && config.tenant_id.matches('-').count() == 4 {
        config.tenant_id.to_ascii_lowercase()
    } else {
        directory::guid_from(&format!("tenant:{}", config.tenant_id.to_ascii_lowercase()))
    };
    let now = unix_now();
    let exp = now + config.token_lifetime.as_secs() as i64;
    let roles: Vec<String> = config
        .roles
        .iter()
        .map(|r| format!("\"{}\"", json_escape(r)))
        .collect();
    let header = r#"{"typ":"JWT","alg":"HS256"}"#;
    let claims = format!(
        r#"{{"aud":"{aud}","iss":"https://sts.windows.net/{tid}/","iat":{now},"nbf":{now},"exp":{exp},"appid":"{appid}","appidacr":"{acr}","idtyp":"app","oid":"{oid}","roles":[{roles}],"sub":"{oid}","tid":"{tid}","uti":"{uti}","ver":"1.0"}}"#,
        aud = json_escape(audience),
        appid = json_escape(&config.client_id),
        acr = match proof {
            Proof::Secret => "1",
            Proof::Certificate => "2",
        },
        oid = directory::guid_from(&format!("sp:{}", config.client_id)),
        roles = roles.join(","),
        uti = hex::encode(rand::random::<[u8; 12]>()),
    );
    let signed = format!("{}.{}", b64.encode(header), b64.encode(claims));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &shared.signing_key);
    let signature = ring::hmac::sign(&key, signed.as_bytes());
    format!("{signed}.{}", b64.encode(signature.as_ref()))
}

pub(crate) fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Judges one token request as Entra ID would.
fn decide(shared: &Shared, tenant: &str, body: &[u8]) -> Result<Proof, Refusal> {
    let config = &shared.config;
    if !tenant.eq_ignore_ascii_case(&config.tenant_id) {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ));
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") != "client_credentials" {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.".to_owned(),
        ));
    }
    if field("client_id") != config.client_id {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{}' was not found in the directory '{tenant}'.",
                field("client_id")
            ),
        ));
    }
    if !field("scope").ends_with("/.default") {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).".to_owned(),
        ));
    }
    if let Some(secret) = form.get("client_secret") {
        if config.secrets.iter().any(|known| known == secret) {
            return Ok(Proof::Secret);
        }
        if config.expired_secrets.iter().any(|known| known == secret) {
            return Err(Refusal(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000222,
                format!(
                    "The provided client secret keys for app '{}' are expired.",
                    config.client_id
                ),
            ));
        }
        return Err(Refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.".to_owned(),
        ));
    }
    if field("client_assertion_type") != ASSERTION_TYPE || field("client_assertion").is_empty() {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
        ));
    }
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", shared.base);
    let jti = verify_assertion(config, field("client_assertion"), &token_url)?;
    let mut inner = lock(&shared.inner);
    if !inner.seen_jti.insert(jti) {
        return Err(Refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion failed signature validation. [Reason - The jti claim was already used.]".to_owned(),
        ));
    }
    Ok(Proof::Certificate)
}

/// Verifies a client assertion; returns its `jti`.
fn verify_assertion(
    config: &GraphSimConfig,
    assertion: &str,
    token_url: &str,
) -> Result<String, Refusal> {
    let invalid = |code: u32, reason: &str| {
        Refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            reason.to_owned(),
        )
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header_b64, claims_b64, signature_b64] = parts[..] else {
        return Err(invalid(50027, "JWT token is invalid or malformed."));
    };
    let decode_json = |part: &str| -> Option<serde_json::Value> {
        serde_json::from_slice(&b64.decode(part).ok()?).ok()
    };
    let (Some(header), Some(claims), Ok(signature)) = (
        decode_json(header_b64),
        decode_json(claims_b64),
        b64.decode(signature_b64),
    ) else {
        return Err(invalid(50027, "JWT token is invalid or malformed."));
    };
    let certificate = config.certificates.iter().find(|der| {
        let s256 = b64.encode(sha2::Sha256::digest(der));
        let s1 = b64.encode(<sha1::Sha1 as sha2::Digest>::digest(der));
        header.get("x5t#S256").and_then(|v| v.as_str()) == Some(s256.as_str())
            || header.get("x5t").and_then(|v| v.as_str()) == Some(s1.as_str())
    });
    let Some(certificate) = certificate else {
        return Err(invalid(
            700027,
            "Client assertion failed signature validation. [Reason - The key was not found.]",
        ));
    };
    let algorithm: &dyn ring::signature::VerificationAlgorithm = match header
        .get("alg")
        .and_then(|v| v.as_str())
    {
        Some("RS256") => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => &ring::signature::RSA_PSS_2048_8192_SHA256,
        _ => {
            return Err(invalid(
                700027,
                "Client assertion failed signature validation. [Reason - The provided signature algorithm is not supported.]",
            ));
        }
    };
    let public_key = x509_parser::parse_x509_certificate(certificate)
        .map(|(_, parsed)| parsed.public_key().subject_public_key.data.to_vec())
        .map_err(|_| invalid(700027, "The registered certificate cannot be read."))?;
    let signed = &assertion[..header_b64.len() + 1 + claims_b64.len()];
    ring::signature::UnparsedPublicKey::new(algorithm, &public_key)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| {
            invalid(
                700027,
                "Client assertion failed signature validation. [Reason - The signature is invalid.]",
            )
        })?;
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).unwrap_or("");
    if text("aud") != token_url {
        return Err(invalid(
            700023,
            "Client assertion audience claim does not match Realm issuer.",
        ));
    }
    if text("iss") != config.client_id || text("sub") != config.client_id {
        return Err(invalid(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    let now = unix_now();
    let number = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
    match (number("exp"), number("nbf")) {
        (Some(exp), nbf) if exp > now && nbf.is_none_or(|nbf| nbf <= now) => {}
        _ => {
            return Err(invalid(
                700024,
                "Client assertion is not within its valid time range.",
            ));
        }
    }
    let jti = text("jti");
    if jti.is_empty() {
        return Err(invalid(50027, "JWT token is invalid or malformed."));
    }
    Ok(jti.to_owned())
}
