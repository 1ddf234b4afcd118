//! The `/v1.0` calendar routes (the calendar, `calendarPermissions`, `events` with
//! `.../events/{id}/permanentDelete`, `calendarView`): the bearer token, the application's authorization (the
//! permission in the token's `roles`, tenant-wide, or Exchange Online's RBAC for Applications
//! role assignment for the mailboxes in its scope), the mailbox (unknown, on-premises, outside the RBAC scope), scripted faults, the per-mailbox
//! concurrency limit, the latency, then the calendar or its `calendarPermissions`.
//!
//! Invariant: a request holds its mailbox's concurrency slot from the check until its answer is
//! built (latency included), so at most `mailbox_concurrency` are ever in flight per mailbox.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;

use super::directory::{self, GraphPermissionView};
use super::events;
use super::{Answer, Inner};
use super::{GraphFaultKind, RouteKind, Shared, lock, render};

/// One request, sent alone or as a `$batch` part.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    /// Upper case.
    pub(crate) method: String,
    /// After `/v1.0`, starting with `/`, without the query.
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) client_request_id: Option<String>,
    pub(crate) content_type: Option<String>,
    /// Every `Prefer` header value.
    pub(crate) prefer: Vec<String>,
    pub(crate) if_match: Option<String>,
    pub(crate) body: Vec<u8>,
}

const WWW_AUTHENTICATE: &str = "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
const ACCESS_DENIED: &str = "Access is denied. Check credentials and try again.";

/// The route a path names.
enum Route {
    Calendar,
    Permissions,
    Permission(String),
    Events,
    Event(String),
    /// `.../events/{id}/permanentDelete`.
    PermanentDelete(String),
    CalendarView,
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

/// `(user, route)` or the segment Graph would call unknown.
fn parse_path(path: &str) -> Result<(String, Route), String> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let is = |i: usize, name: &str| {
        segments
            .get(i)
            .is_some_and(|s| s.eq_ignore_ascii_case(name))
    };
    if !is(0, "users") {
        return Err(segments.first().cloned().unwrap_or_default());
    }
    let Some(user) = segments.get(1).filter(|u| !u.is_empty()) else {
        return Err("users".to_owned());
    };
    let id = |i: usize| segments.get(i).filter(|s| !s.is_empty()).cloned();
    if is(2, "events") {
        return match (segments.len(), id(3)) {
            (3, _) => Ok((user.clone(), Route::Events)),
            (4, Some(event)) => Ok((user.clone(), Route::Event(event))),
            (5, Some(event)) if is(4, "permanentDelete") => {
                Ok((user.clone(), Route::PermanentDelete(event)))
            }
            _ => Err(segments.get(3).cloned().unwrap_or_default()),
        };
    }
    if is(2, "calendarView") && segments.len() == 3 {
        return Ok((user.clone(), Route::CalendarView));
    }
    if !is(2, "calendar") {
        return Err(segments.get(2).cloned().unwrap_or_else(|| user.clone()));
    }
    match segments.len() {
        3 => Ok((user.clone(), Route::Calendar)),
        4 if is(3, "events") => Ok((user.clone(), Route::Events)),
        4 if is(3, "calendarView") => Ok((user.clone(), Route::CalendarView)),
        5 if is(3, "events") && id(4).is_some() => {
            Ok((user.clone(), Route::Event(segments[4].clone())))
        }
        6 if is(3, "events") && id(4).is_some() && is(5, "permanentDelete") => {
            Ok((user.clone(), Route::PermanentDelete(segments[4].clone())))
        }
        4 if is(3, "calendarPermissions") => Ok((user.clone(), Route::Permissions)),
        5 if is(3, "calendarPermissions") && !segments[4].is_empty() => {
            Ok((user.clone(), Route::Permission(segments[4].clone())))
        }
        _ => Err(segments.get(3).cloned().unwrap_or_default()),
    }
}

fn route_kind(method: &str, route: &Route) -> Option<RouteKind> {
    Some(match (route, method) {
        (Route::Calendar, "GET") => RouteKind::GetCalendar,
        (Route::Permissions, "GET") => RouteKind::ListPermissions,
        (Route::Permissions, "POST") => RouteKind::CreatePermission,
        (Route::Permission(_), "GET") => RouteKind::GetPermission,
        (Route::Permission(_), "PATCH") => RouteKind::UpdatePermission,
        (Route::Permission(_), "DELETE") => RouteKind::DeletePermission,
        (Route::Events, "GET") => RouteKind::ListEvents,
        (Route::Events, "POST") => RouteKind::CreateEvent,
        (Route::Event(_), "GET") => RouteKind::GetEvent,
        (Route::Event(_), "PATCH") => RouteKind::UpdateEvent,
        (Route::Event(_), "DELETE") => RouteKind::DeleteEvent,
        (Route::PermanentDelete(_), "POST") => RouteKind::PermanentDeleteEvent,
        (Route::CalendarView, "GET") => RouteKind::CalendarView,
        _ => return None,
    })
}

/// Checks the bearer token; its `roles` when valid.
fn authenticate(inner: &Inner, authorization: Option<&str>) -> Result<Vec<String>, &'static str> {
    let token = authorization
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return Err("Access token is empty.");
    };
    match inner.issued.get(token) {
        Some(issued) if Instant::now() < issued.expiry => Ok(issued.roles.clone()),
        Some(_) => Err("Lifetime validation failed, the token is expired."),
        None if token.matches('.').count() != 2 => {
            Err("IDX14100: JWT is not well formed, there are no dots (.).")
        }
        None => Err("Access token validation failure."),
    }
}

/// Releases a mailbox slot when dropped.
struct Slot {
    shared: Arc<Shared>,
    mailbox: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = lock(&self.shared.inner);
        if let Some(stats) = inner.per_mailbox.get_mut(&self.mailbox) {
            stats.in_flight = stats.in_flight.saturating_sub(1);
        }
    }
}

/// Serves one request as Graph would.
pub(crate) async fn serve(shared: &Arc<Shared>, request: ApiRequest) -> Answer {
    let crid = request.client_request_id.clone();
    let error = |status: StatusCode, code: &str, message: &str| {
        render::error(status, code, message, crid.as_deref())
    };
    let (latency, admitted) = admit(shared, &request, &error);
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(answer) => {
            sleep(latency).await;
            return answer;
        }
    };
    let Admitted {
        slot,
        user,
        route,
        extra,
        lose_answer,
    } = admitted;
    sleep(latency + extra).await;
    let mut answer = respond(shared, &request, &user, &slot.mailbox, route, &error);
    drop(slot);
    answer.drop |= lose_answer;
    answer
}

async fn sleep(duration: Duration) {
    if !duration.is_zero() {
        tokio::time::sleep(duration).await;
    }
}

/// A request let through to its mailbox.
struct Admitted {
    slot: Slot,
    user: String,
    route: Route,
    /// Scripted latency on top of the simulator's.
    extra: Duration,
    /// A scripted `DropAfterProcessing`: processed, then the answer is lost.
    lose_answer: bool,
}

/// Every check before the mailbox's work: the latency to wait, and the slot or the refusal.
fn admit(
    shared: &Arc<Shared>,
    request: &ApiRequest,
    error: &dyn Fn(StatusCode, &str, &str) -> Answer,
) -> (Duration, Result<Admitted, Answer>) {
    let mut inner = lock(&shared.inner);
    let latency = inner.latency;
    inner.stats.api_requests += 1;
    let roles = match authenticate(&inner, request.authorization.as_deref()) {
        Ok(roles) => roles,
        Err(message) => {
            inner.stats.unauthorized += 1;
            return (
                latency,
                Err(error(
                    StatusCode::UNAUTHORIZED,
                    "InvalidAuthenticationToken",
                    message,
                )
                .with_header("www-authenticate", WWW_AUTHENTICATE.to_owned())),
            );
        }
    };
    let (user, route) = match parse_path(&request.path) {
        Ok(parsed) => parsed,
        Err(segment) => {
            *inner.routes.entry(RouteKind::Other).or_default() += 1;
            return (
                latency,
                Err(error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!("Resource not found for the segment '{segment}'."),
                )),
            );
        }
    };
    let Some(kind) = route_kind(&request.method, &route) else {
        *inner.routes.entry(RouteKind::Other).or_default() += 1;
        return (
            latency,
            Err(error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BadRequest",
                &format!(
                    "The HTTP method '{}' is not allowed on this resource.",
                    request.method
                ),
            )),
        );
    };
    *inner.routes.entry(kind).or_default() += 1;
    let write = request.method != "GET";
    // RBAC for Applications: Entra ID's tenant-wide consent (the token's `roles`) and Exchange
    // Online's role assignment (limited to its scope) are a union.
    let tenant_wide = roles
        .iter()
        .any(|role| role == "Calendars.ReadWrite" || (!write && role == "Calendars.Read"));
    let assignment = inner.role_assignment;
    if !tenant_wide && !assignment {
        return (
            latency,
            Err(error(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                ACCESS_DENIED,
            )),
        );
    }
    let Some(mailbox) = inner.mailboxes.find(&user) else {
        return (
            latency,
            Err(error(
                StatusCode::NOT_FOUND,
                "ErrorInvalidUser",
                &format!("The requested user '{user}' is invalid."),
            )),
        );
    };
    let (address, online, in_scope) = (
        mailbox.address.clone(),
        mailbox.exchange_online,
        mailbox.in_scope,
    );
    let stats = inner.per_mailbox.entry(address.clone()).or_default();
    stats.requests += 1;
    if write {
        stats.writes += 1;
    }
    if !online {
        return (
            latency,
            Err(error(
                StatusCode::NOT_FOUND,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )),
        );
    }
    if !tenant_wide && !in_scope {
        return (
            latency,
            Err(error(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                ACCESS_DENIED,
            )),
        );
    }
    let mut extra = Duration::ZERO;
    let mut lose_answer = false;
    let event_write = matches!(
        kind,
        RouteKind::CreateEvent
            | RouteKind::UpdateEvent
            | RouteKind::DeleteEvent
            | RouteKind::PermanentDeleteEvent
    );
    if let Some(position) = inner.faults.iter().position(|fault| {
        fault
            .mailbox
            .as_deref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(&address))
            && (event_write || !matches!(fault.kind, GraphFaultKind::PartError { .. }))
    }) {
        let kind = inner.faults[position].kind.clone();
        inner.faults[position].count = inner.faults[position].count.saturating_sub(1);
        if inner.faults[position].count == 0 {
            inner.faults.remove(position);
        }
        inner.stats.faults_applied += 1;
        match kind {
            GraphFaultKind::Throttle { retry_after_secs } => {
                return (
                    latency,
                    Err(error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "TooManyRequests",
                        "Please retry again later.",
                    )
                    .with_header("retry-after", retry_after_secs.to_string())),
                );
            }
            GraphFaultKind::Unavailable { retry_after_secs } => {
                return (
                    latency,
                    Err(error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "serviceNotAvailable",
                        "The service is not available. Try the request again after a delay.",
                    )
                    .with_header("retry-after", retry_after_secs.to_string())),
                );
            }
            GraphFaultKind::Drop => {
                let mut answer = error(StatusCode::SERVICE_UNAVAILABLE, "", "");
                answer.drop = true;
                return (latency, Err(answer));
            }
            GraphFaultKind::LatencyMs { ms } => extra = Duration::from_millis(ms),
            GraphFaultKind::DropAfterProcessing => lose_answer = true,
            GraphFaultKind::PartError {
                status,
                code,
                message,
            } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return (latency, Err(error(status, &code, &message)));
            }
        }
    }
    let limit = shared.config.mailbox_concurrency;
    let stats = inner.per_mailbox.entry(address.clone()).or_default();
    if stats.in_flight >= limit {
        stats.concurrency_refusals += 1;
        inner.stats.concurrency_refusals += 1;
        let retry_after = shared.config.retry_after.as_secs().max(1);
        return (
            latency,
            Err(error(
                StatusCode::TOO_MANY_REQUESTS,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
            )
            .with_header("retry-after", retry_after.to_string())),
        );
    }
    stats.in_flight += 1;
    stats.max_in_flight = stats.max_in_flight.max(stats.in_flight);
    let slot = Slot {
        shared: Arc::clone(shared),
        mailbox: address,
    };
    (
        latency,
        Ok(Admitted {
            slot,
            user,
            route,
            extra,
            lose_answer,
        }),
    )
}

fn query_select(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name.eq_ignore_ascii_case("$select"))
        .map(|(_, value)| value.into_owned())
}

/// The mailbox's work, once admitted.
fn respond(
    shared: &Shared,
    request: &ApiRequest,
    user: &str,
    address: &str,
    route: Route,
    error: &dyn Fn(StatusCode, &str, &str) -> Answer,
) -> Answer {
    let base = shared.base.as_str();
    let select = query_select(request.query.as_deref());
    let mut inner = lock(&shared.inner);
    let inner = &mut *inner;
    if matches!(
        route,
        Route::Events | Route::Event(_) | Route::PermanentDelete(_) | Route::CalendarView
    ) {
        return respond_events(inner, base, request, user, address, route, error);
    }
    let directory = &mut inner.mailboxes;
    // Whether a POST's grantee is inside the organization, decided before the mailbox is
    // borrowed for writing.
    let grantee_inside = serde_json::from_slice::<serde_json::Value>(&request.body)
        .ok()
        .and_then(|body| {
            body.pointer("/emailAddress/address")
                .and_then(|a| a.as_str())
                .map(|a| directory.is_inside(a.trim()))
        })
        .unwrap_or(false);
    let inside = move |_: &str| grantee_inside;
    let Some(mailbox) = directory.find_mut(address) else {
        return error(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            &format!("The requested user '{user}' is invalid."),
        );
    };
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    };
    match (route, request.method.as_str()) {
        (Route::Calendar, _) => Answer::json(
            StatusCode::OK,
            render::select(render::calendar(base, user, mailbox), select.as_deref()),
        ),
        (Route::Permissions, "GET") => Answer::json(
            StatusCode::OK,
            render::select(
                render::permission_list(base, user, &mailbox.permissions),
                select.as_deref(),
            ),
        ),
        (Route::Permissions, _) => {
            let body = match read_body(request, error) {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            let created = match create(&body, &mailbox.address, &inside, &mailbox.permissions) {
                Ok(created) => created,
                Err((status, code, message)) => return error(status, code, &message),
            };
            mailbox.permissions.push(created.clone());
            Answer::json(
                StatusCode::CREATED,
                render::permission(base, Some(user), &created),
            )
        }
        (Route::Events | Route::Event(_) | Route::PermanentDelete(_) | Route::CalendarView, _) => {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BadRequest",
                "The HTTP method is not allowed on this resource.",
            )
        }
        (Route::Permission(id), method) => {
            let Some(index) = mailbox.permissions.iter().position(|p| p.id == id) else {
                return not_found();
            };
            match method {
                "GET" => Answer::json(
                    StatusCode::OK,
                    render::select(
                        render::permission(base, Some(user), &mailbox.permissions[index]),
                        select.as_deref(),
                    ),
                ),
                "PATCH" => {
                    let body = match read_body(request, error) {
                        Ok(body) => body,
                        Err(answer) => return answer,
                    };
                    let entry = &mut mailbox.permissions[index];
                    match update(&body, entry) {
                        Ok(()) => Answer::json(
                            StatusCode::OK,
                            render::permission(base, Some(user), entry),
                        ),
                        Err((status, code, message)) => error(status, code, &message),
                    }
                }
                _ => {
                    if !mailbox.permissions[index].is_removable {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "ErrorInvalidRequest",
                            "The permission entry for My Organization can't be removed.",
                        );
                    }
                    mailbox.permissions.remove(index);
                    Answer {
                        status: StatusCode::NO_CONTENT,
                        headers: Vec::new(),
                        body: None,
                        drop: false,
                    }
                }
            }
        }
    }
}

type Refused = (StatusCode, &'static str, String);

/// The event routes, once admitted.
fn respond_events(
    inner: &mut Inner,
    base: &str,
    request: &ApiRequest,
    user: &str,
    address: &str,
    route: Route,
    error: &dyn Fn(StatusCode, &str, &str) -> Answer,
) -> Answer {
    let refused = |(status, code, message): events::Refused| error(status, code, &message);
    let view = match events::view(request) {
        Ok(view) => view,
        Err(refusal) => return refused(refusal),
    };
    let Inner {
        mailboxes,
        per_mailbox,
        event_serial,
        patch_log,
        ..
    } = inner;
    let Some(mailbox) = mailboxes.find_mut(address) else {
        return error(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            &format!("The requested user '{user}' is invalid."),
        );
    };
    let stats = per_mailbox.entry(mailbox.address.clone()).or_default();
    let entity = events::context(base, user, "calendar/events/$entity");
    let method = request.method.as_str();
    match (route, method) {
        (route @ (Route::Events | Route::CalendarView), "GET") => {
            let collection = if matches!(route, Route::CalendarView) {
                events::Collection::View
            } else {
                events::Collection::Events
            };
            match events::list(base, user, request, mailbox, collection, &view) {
                Ok((body, _)) => events::event_answer(StatusCode::OK, body, &view),
                Err(refusal) => refused(refusal),
            }
        }
        (Route::Events, _) => {
            let body = match read_body(request, error) {
                Ok(body) => body,
                Err(answer) => return answer,
            };
            let template = events::GraphEvent::new(
                "",
                events::GraphDateTime::new(chrono::NaiveDateTime::MIN, "UTC"),
                events::GraphDateTime::new(chrono::NaiveDateTime::MIN, "UTC"),
            );
            let mut event = template;
            if let Err(refusal) = events::apply(&body, &mut event, true) {
                return refused(refusal);
            }
            let stored = events::store_new(mailbox, event_serial, event);
            events::count(stats, "POST");
            events::event_answer(
                StatusCode::CREATED,
                events::render(&stored, mailbox, &view, Some(&entity)),
                &view,
            )
        }
        (Route::Event(id), _) => {
            let Some(index) = mailbox.events.iter().position(|e| e.id == id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                );
            };
            if method != "GET" {
                if let Some(tag) = request.if_match.as_deref() {
                    if !events::if_match(tag, &mailbox.events[index].change_key) {
                        return refused(events::precondition_failed());
                    }
                }
            }
            match method {
                "GET" => events::event_answer(
                    StatusCode::OK,
                    events::render(&mailbox.events[index], mailbox, &view, Some(&entity)),
                    &view,
                ),
                "PATCH" => {
                    let body = match read_body(request, error) {
                        Ok(body) => body,
                        Err(answer) => return answer,
                    };
                    let mut changed = mailbox.events[index].clone();
                    let named = match events::apply(&body, &mut changed, false) {
                        Ok(named) => named,
                        Err(refusal) => return refused(refusal),
                    };
                    *event_serial += 1;
                    changed.change_key = events::new_change_key(*event_serial);
                    changed.last_modified = chrono::Utc::now();
                    mailbox.events[index] = changed;
                    events::count(stats, "PATCH");
                    patch_log
                        .entry(mailbox.address.clone())
                        .or_default()
                        .push(named);
                    events::event_answer(
                        StatusCode::OK,
                        events::render(&mailbox.events[index], mailbox, &view, Some(&entity)),
                        &view,
                    )
                }
                _ => {
                    // Graph's DELETE moves the event to Deleted Items.
                    let deleted = mailbox.events.remove(index);
                    mailbox.deleted_items.push(deleted);
                    events::count(stats, "DELETE");
                    no_content()
                }
            }
        }
        (Route::PermanentDelete(id), _) => {
            // Into Recoverable Items\Purges: out of the calendar and in no folder a view shows.
            let Some(index) = mailbox.events.iter().position(|e| e.id == id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "ErrorItemNotFound",
                    "The specified object was not found in the store.",
                );
            };
            mailbox.events.remove(index);
            stats.event_permanent_deletes += 1;
            no_content()
        }
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest",
            "The HTTP method is not allowed on this resource.",
        ),
    }
}

/// 204 No Content.
fn no_content() -> Answer {
    Answer {
        status: StatusCode::NO_CONTENT,
        headers: Vec::new(),
        body: None,
        drop: false,
    }
}

fn read_body(
    request: &ApiRequest,
    error: &dyn Fn(StatusCode, &str, &str) -> Answer,
) -> Result<serde_json::Map<String, serde_json::Value>, Answer> {
    let json_type = request
        .content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/json"));
    if !json_type {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "A supported MIME type could not be found that matches the content type of the response. None of the supported type(s) 'application/json' matches the content type.",
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(&request.body) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            "Invalid JSON. The request body could not be read as a JSON object.",
        )),
    }
}

/// Checks `role` against the enum, then against the entry's `allowedRoles`.
fn check_role(value: Option<&serde_json::Value>, allowed: &[String]) -> Result<String, Refused> {
    let Some(role) = value.and_then(|v| v.as_str()) else {
        return Err((
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            "The 'role' property is required and must be a string.".to_owned(),
        ));
    };
    if !directory::CALENDAR_ROLES.contains(&role) {
        return Err((
            StatusCode::BAD_REQUEST,
            "RequestBodyRead",
            format!(
                "Cannot convert the literal '{role}' to the expected type 'microsoft.graph.calendarRoleType'."
            ),
        ));
    }
    if !allowed.iter().any(|a| a == role) {
        return Err((
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            format!("The role '{role}' is not one of the allowed roles of this permission."),
        ));
    }
    Ok(role.to_owned())
}

const PROPERTIES: [&str; 6] = [
    "emailAddress",
    "role",
    "isInsideOrganization",
    "isRemovable",
    "allowedRoles",
    "id",
];

fn unknown_property(body: &serde_json::Map<String, serde_json::Value>) -> Option<Refused> {
    body.keys()
        .find(|key| !key.starts_with("@odata.") && !PROPERTIES.contains(&key.as_str()))
        .map(|key| {
            (
                StatusCode::BAD_REQUEST,
                "RequestBodyRead",
                format!(
                    "The property '{key}' does not exist on type 'microsoft.graph.calendarPermission'. Make sure to only use property names that are defined by the type or mark the type as open type."
                ),
            )
        })
}

fn create(
    body: &serde_json::Map<String, serde_json::Value>,
    owner: &str,
    inside: &dyn Fn(&str) -> bool,
    existing: &[GraphPermissionView],
) -> Result<GraphPermissionView, Refused> {
    if let Some(refused) = unknown_property(body) {
        return Err(refused);
    }
    let email = body.get("emailAddress").and_then(|v| v.as_object());
    let address = email
        .and_then(|e| e.get("address"))
        .and_then(|a| a.as_str())
        .map(str::trim)
        .filter(|a| {
            let mut parts = a.split('@');
            matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.'))
        });
    let Some(address) = address else {
        return Err((
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            "The 'emailAddress' property must carry a valid SMTP 'address'.".to_owned(),
        ));
    };
    if address.eq_ignore_ascii_case(owner) {
        return Err((
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            "The calendar owner cannot be given a permission on their own calendar.".to_owned(),
        ));
    }
    if existing.iter().any(|p| {
        p.address
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(address))
    }) {
        return Err((
            StatusCode::CONFLICT,
            "ErrorItemAlreadyExists",
            format!("A permission entry for '{address}' already exists on this calendar."),
        ));
    }
    let is_inside = inside(address);
    let allowed = directory::allowed_roles(false, is_inside);
    let role = check_role(body.get("role"), &allowed)?;
    let name = email
        .and_then(|e| e.get("name"))
        .and_then(|n| n.as_str())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| address.split('@').next().unwrap_or(address));
    Ok(GraphPermissionView {
        id: directory::permission_id(address),
        name: name.to_owned(),
        address: Some(address.to_owned()),
        role,
        allowed_roles: allowed,
        is_removable: true,
        is_inside_organization: is_inside,
    })
}

fn update(
    body: &serde_json::Map<String, serde_json::Value>,
    entry: &mut GraphPermissionView,
) -> Result<(), Refused> {
    if let Some(refused) = unknown_property(body) {
        return Err(refused);
    }
    if let Some(key) = body
        .keys()
        .find(|key| !key.starts_with("@odata.") && key.as_str() != "role")
    {
        return Err((
            StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            format!("The property '{key}' cannot be updated; only 'role' can."),
        ));
    }
    entry.role = check_role(body.get("role"), &entry.allowed_roles)?;
    Ok(())
}
