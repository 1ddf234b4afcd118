//! The events of a mailbox's primary calendar as Graph v1.0 serves them: `POST .../events`,
//! `GET`/`PATCH`/`DELETE .../events/{id}` (a DELETE moves the event to Deleted Items),
//! `POST .../events/{id}/permanentDelete` (the event goes to Recoverable Items\Purges: no
//! folder shows it; `api.rs` serves both), `GET .../events` (with `$filter` on
//! `singleValueExtendedProperties`) and `GET .../calendarView`, with `$select`, `$expand` of
//! extended properties, `$top`, paging by `@odata.nextLink`, the `Prefer` headers
//! (`outlook.timezone`, `outlook.body-content-type`, `odata.maxpagesize`) and `If-Match`.
//!
//! Invariants: a stored event's zones are zones Graph accepts (a Windows name or an IANA name);
//! an all-day event runs from midnight to midnight in one zone; every stored change gives the
//! event a new `changeKey` (from a simulator-wide counter, so never repeated) and its
//! `@odata.etag` is `W/"{changeKey}"`; event ids are URL-safe and never reused; extended
//! property ids are kept in one canonical form (`{Type} {guid} Name {name}`, the GUID in lower
//! case), so two spellings of one property are one property.
//!
//! Entry types: [`GraphEvent`], [`GraphBody`], [`GraphDateTime`], [`GraphExtendedProperty`].

use std::str::FromStr as _;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use http::StatusCode;
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::api::ApiRequest;
use super::directory::MailboxState;
use super::{Answer, GraphMailboxStats, json_escape};

const EVENT: &str = template!("event.json");
const LOCATION: &str = template!("location.json");
const EXTENDED_PROPERTY: &str = template!("extended_property.json");
const PAGE: &str = template!("page.json");
const BODY_HTML: &str = template!("body.html");

/// The GUID of `PS_PUBLIC_STRINGS` (EWS's `PublicStrings`), as Graph writes GUIDs.
pub const PUBLIC_STRINGS_GUID: &str = "00020329-0000-0000-c000-000000000046";

/// Graph's default page size for events and calendarView.
const DEFAULT_PAGE: usize = 10;
/// The largest `$top` (and page) Outlook resources accept.
const MAX_PAGE: usize = 1000;

/// `body`: `contentType` (`text` or `html`) and `content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphBody {
    pub content_type: String,
    pub content: String,
}

/// `dateTimeTimeZone`: a local date and time and the zone it is in (a Windows or IANA name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphDateTime {
    pub date_time: NaiveDateTime,
    pub time_zone: String,
}

impl GraphDateTime {
    pub fn new(date_time: NaiveDateTime, time_zone: &str) -> GraphDateTime {
        GraphDateTime {
            date_time,
            time_zone: time_zone.to_owned(),
        }
    }

    /// The instant, when the zone is one Graph accepts (a local time in a DST gap moves
    /// forward an hour, as Exchange does).
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        let zone = resolve_zone(&self.time_zone)?;
        local_instant(zone, self.date_time)
    }
}

/// `singleValueLegacyExtendedProperty`: `id` (`String {guid} Name X`) and `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphExtendedProperty {
    pub id: String,
    pub value: String,
}

/// One event as the simulator stores it (and as tests inspect or insert it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEvent {
    /// Empty until stored.
    pub id: String,
    /// Empty until stored; new on every stored change.
    pub change_key: String,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub subject: String,
    pub body: GraphBody,
    pub start: GraphDateTime,
    pub end: GraphDateTime,
    pub is_all_day: bool,
    /// `location.displayName` (empty: no location).
    pub location: String,
    pub categories: Vec<String>,
    /// `freeBusyStatus`: `free`, `tentative`, `busy`, `oof`, `workingElsewhere`, `unknown`.
    pub show_as: String,
    pub reminder_minutes_before_start: i32,
    pub is_reminder_on: bool,
    /// In the order they were first set; ids canonical.
    pub extended_properties: Vec<GraphExtendedProperty>,
}

impl GraphEvent {
    /// An event with Graph's defaults (busy, a reminder 15 minutes before, an empty HTML
    /// body), not stored yet.
    pub fn new(subject: &str, start: GraphDateTime, end: GraphDateTime) -> GraphEvent {
        let now = Utc::now();
        GraphEvent {
            id: String::new(),
            change_key: String::new(),
            created: now,
            last_modified: now,
            subject: subject.to_owned(),
            body: GraphBody {
                content_type: "html".to_owned(),
                content: String::new(),
            },
            start,
            end,
            is_all_day: false,
            location: String::new(),
            categories: Vec::new(),
            show_as: "busy".to_owned(),
            reminder_minutes_before_start: 15,
            is_reminder_on: true,
            extended_properties: Vec::new(),
        }
    }

    /// The value of the extended property with this id (any spelling of it).
    pub fn extended_property(&self, id: &str) -> Option<&str> {
        let wanted = canonical_property_id(id)?;
        self.extended_properties
            .iter()
            .find(|p| p.id == wanted)
            .map(|p| p.value.as_str())
    }
}

/// A zone Graph accepts: a Windows time zone name (CLDR's `windowsZones` table) or an IANA
/// name.
pub(crate) fn resolve_zone(name: &str) -> Option<Tz> {
    if let Some(iana) = localzone::win_zone_to_iana(name, Some("001")) {
        return Tz::from_str(iana).ok();
    }
    Tz::from_str(name).ok()
}

fn local_instant(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|instant| instant.with_timezone(&Utc))
}

const PROPERTY_TYPES: [&str; 14] = [
    "String",
    "Integer",
    "Boolean",
    "Binary",
    "SystemTime",
    "Double",
    "Float",
    "Long",
    "Short",
    "Currency",
    "ApplicationTime",
    "CLSID",
    "Null",
    "Object",
];

/// The one spelling of an extended property id: the type as Graph names it, the GUID in lower
/// case in braces, `Name` or `Id`; `None` for an id Graph would not read. The name is kept as
/// sent (Graph matches it case-sensitively).
pub(crate) fn canonical_property_id(id: &str) -> Option<String> {
    let mut parts = id.trim().splitn(2, ' ');
    let kind = parts.next()?;
    let rest = parts.next()?.trim_start();
    let kind = PROPERTY_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(kind))?;
    if let Some(tag) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        let tag = u16::from_str_radix(tag.trim(), 16).ok()?;
        return Some(format!("{kind} 0x{tag:x}"));
    }
    let guid_end = rest.find('}')?;
    let guid = rest.strip_prefix('{')?.get(..guid_end - 1)?;
    let valid_guid = guid.len() == 36
        && guid.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if !valid_guid {
        return None;
    }
    let after = rest[guid_end + 1..].trim_start();
    let (word, value) = after.split_once(' ')?;
    if word.eq_ignore_ascii_case("Name") && !value.is_empty() {
        Some(format!(
            "{kind} {{{}}} Name {value}",
            guid.to_ascii_lowercase()
        ))
    } else if word.eq_ignore_ascii_case("Id") {
        let number = value.trim();
        let number = number
            .strip_prefix("0x")
            .map(|hex| u32::from_str_radix(hex, 16).ok())
            .unwrap_or_else(|| number.parse::<u32>().ok())?;
        Some(format!(
            "{kind} {{{}}} Id 0x{number:x}",
            guid.to_ascii_lowercase()
        ))
    } else {
        None
    }
}

/// A refusal: status, Graph error code, message.
pub(crate) type Refused = (StatusCode, &'static str, String);

fn read_error(message: String) -> Refused {
    (StatusCode::BAD_REQUEST, "RequestBodyRead", message)
}

fn wrong_type(property: &str, expected: &str) -> Refused {
    read_error(format!(
        "Cannot convert the value of property '{property}' to the expected type '{expected}'."
    ))
}

/// Properties of `microsoft.graph.event` the simulator keeps.
const MODELLED: [&str; 11] = [
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "location",
    "categories",
    "showAs",
    "reminderMinutesBeforeStart",
    "isReminderOn",
    "singleValueExtendedProperties",
];

/// Other properties of `microsoft.graph.event`: accepted and not kept (read-only ones are
/// ignored by Graph as well).
const ACCEPTED: [&str; 31] = [
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "iCalUId",
    "type",
    "webLink",
    "bodyPreview",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "organizer",
    "isOrganizer",
    "isCancelled",
    "hasAttachments",
    "isDraft",
    "seriesMasterId",
    "responseStatus",
    "transactionId",
    "onlineMeeting",
    "onlineMeetingUrl",
    "importance",
    "sensitivity",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "allowNewTimeProposals",
    "responseRequested",
    "hideAttendees",
    "locations",
    "attendees",
    "recurrence",
    "multiValueExtendedProperties",
];

const SHOW_AS: [&str; 6] = [
    "free",
    "tentative",
    "busy",
    "oof",
    "workingElsewhere",
    "unknown",
];

/// A `dateTime` as sent: a local time, or an instant when it carries an offset.
enum SentTime {
    Local(NaiveDateTime),
    Instant(DateTime<Utc>),
}

fn parse_sent_time(text: &str) -> Option<SentTime> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(SentTime::Instant(instant.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return Some(SentTime::Local(local));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|date| SentTime::Local(date.and_time(NaiveTime::MIN)))
}

fn zone_refused(name: &str) -> Refused {
    (
        StatusCode::BAD_REQUEST,
        "TimeZoneNotSupportedException",
        format!(
            "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'."
        ),
    )
}

fn read_date_time(property: &str, value: &Value) -> Result<GraphDateTime, Refused> {
    let Some(object) = value.as_object() else {
        return Err(wrong_type(property, "microsoft.graph.dateTimeTimeZone"));
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or("");
    let zone_name = text("timeZone");
    let Some(zone) = resolve_zone(zone_name) else {
        return Err(zone_refused(zone_name));
    };
    let date_time = match parse_sent_time(text("dateTime")) {
        Some(SentTime::Local(local)) => local,
        Some(SentTime::Instant(instant)) => instant.with_timezone(&zone).naive_local(),
        None => {
            return Err((
                StatusCode::BAD_REQUEST,
                "ErrorInvalidParameter",
                format!(
                    "The value '{}' of parameter 'DateTime' is invalid.",
                    text("dateTime")
                ),
            ));
        }
    };
    Ok(GraphDateTime::new(date_time, zone_name))
}

/// What a create or PATCH body named: its modelled properties (sorted) and, of
/// `singleValueExtendedProperties`, each property id in its canonical form (sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Named {
    pub(crate) fields: Vec<String>,
    pub(crate) extended_properties: Vec<String>,
}

/// Applies a POST or PATCH body to `event`; what it named.
pub(crate) fn apply(
    body: &Map<String, Value>,
    event: &mut GraphEvent,
    creating: bool,
) -> Result<Named, Refused> {
    if let Some(key) = body.keys().find(|key| {
        !key.starts_with("@odata.")
            && !MODELLED.contains(&key.as_str())
            && !ACCEPTED.contains(&key.as_str())
    }) {
        return Err(read_error(format!(
            "The property '{key}' does not exist on type 'microsoft.graph.event'. Make sure to only use property names that are defined by the type or mark the type as open type."
        )));
    }
    let mut named: Vec<String> = Vec::new();
    let mut extended: Vec<String> = Vec::new();
    for (key, value) in body {
        if !MODELLED.contains(&key.as_str()) {
            continue;
        }
        named.push(key.clone());
        match key.as_str() {
            "subject" => match value {
                Value::String(text) => event.subject = text.clone(),
                Value::Null => event.subject = String::new(),
                _ => return Err(wrong_type(key, "Edm.String")),
            },
            "body" => {
                let Some(object) = value.as_object() else {
                    return Err(wrong_type(key, "microsoft.graph.itemBody"));
                };
                let content_type = match object.get("contentType") {
                    None | Some(Value::Null) => "text".to_owned(),
                    Some(Value::String(kind))
                        if kind.eq_ignore_ascii_case("text")
                            || kind.eq_ignore_ascii_case("html") =>
                    {
                        kind.to_ascii_lowercase()
                    }
                    Some(other) => {
                        return Err(read_error(format!(
                            "Cannot convert the literal '{}' to the expected type 'microsoft.graph.bodyType'.",
                            other.as_str().unwrap_or_default()
                        )));
                    }
                };
                let content = match object.get("content") {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(text)) => text.clone(),
                    Some(_) => return Err(wrong_type("content", "Edm.String")),
                };
                event.body = GraphBody {
                    content_type,
                    content,
                };
            }
            "start" => event.start = read_date_time(key, value)?,
            "end" => event.end = read_date_time(key, value)?,
            "isAllDay" => {
                event.is_all_day = value
                    .as_bool()
                    .ok_or_else(|| wrong_type(key, "Edm.Boolean"))?
            }
            "isReminderOn" => {
                event.is_reminder_on = value
                    .as_bool()
                    .ok_or_else(|| wrong_type(key, "Edm.Boolean"))?
            }
            "reminderMinutesBeforeStart" => {
                event.reminder_minutes_before_start = value
                    .as_i64()
                    .and_then(|m| i32::try_from(m).ok())
                    .ok_or_else(|| wrong_type(key, "Edm.Int32"))?
            }
            "location" => match value {
                Value::Null => event.location = String::new(),
                Value::Object(object) => {
                    event.location = match object.get("displayName") {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(name)) => name.clone(),
                        Some(_) => return Err(wrong_type("displayName", "Edm.String")),
                    }
                }
                _ => return Err(wrong_type(key, "microsoft.graph.location")),
            },
            "categories" => {
                let Some(items) = value.as_array() else {
                    return Err(wrong_type(key, "Collection(Edm.String)"));
                };
                event.categories = items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| wrong_type(key, "Collection(Edm.String)"))?;
            }
            "showAs" => {
                let literal = value.as_str().unwrap_or_default();
                let Some(known) = SHOW_AS.iter().find(|s| s.eq_ignore_ascii_case(literal)) else {
                    return Err(read_error(format!(
                        "Cannot convert the literal '{literal}' to the expected type 'microsoft.graph.freeBusyStatus'."
                    )));
                };
                event.show_as = (*known).to_owned();
            }
            _ => {
                // singleValueExtendedProperties: each named one is set; others stay.
                let Some(items) = value.as_array() else {
                    return Err(wrong_type(
                        key,
                        "Collection(microsoft.graph.singleValueLegacyExtendedProperty)",
                    ));
                };
                for item in items {
                    let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
                    let Some(canonical) = canonical_property_id(id) else {
                        return Err((
                            StatusCode::BAD_REQUEST,
                            "ErrorInvalidProperty",
                            format!("The extended property id '{id}' is not valid."),
                        ));
                    };
                    let value = match item.get("value") {
                        Some(Value::String(text)) => text.clone(),
                        _ => return Err(wrong_type("value", "Edm.String")),
                    };
                    extended.push(canonical.clone());
                    match event
                        .extended_properties
                        .iter_mut()
                        .find(|p| p.id == canonical)
                    {
                        Some(existing) => existing.value = value,
                        None => event.extended_properties.push(GraphExtendedProperty {
                            id: canonical,
                            value,
                        }),
                    }
                }
            }
        }
    }
    if creating && !(body.contains_key("start") && body.contains_key("end")) {
        return Err((
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRequest",
            "An event needs a start and an end.".to_owned(),
        ));
    }
    validate(event)?;
    named.sort();
    extended.sort();
    Ok(Named {
        fields: named,
        extended_properties: extended,
    })
}

/// The rules a stored event keeps: known zones, an all-day event from midnight to midnight in
/// one zone, an end not before the start.
pub(crate) fn validate(event: &GraphEvent) -> Result<(), Refused> {
    let (Some(start), Some(end)) = (event.start.instant(), event.end.instant()) else {
        let name = if resolve_zone(&event.start.time_zone).is_none() {
            &event.start.time_zone
        } else {
            &event.end.time_zone
        };
        return Err(zone_refused(name));
    };
    if event.is_all_day {
        let midnight = |t: &GraphDateTime| t.date_time.time() == NaiveTime::MIN;
        let same_zone = resolve_zone(&event.start.time_zone) == resolve_zone(&event.end.time_zone);
        if !midnight(&event.start) || !midnight(&event.end) || !same_zone {
            return Err((
                StatusCode::BAD_REQUEST,
                "ErrorInvalidRequest",
                "Your request can't be completed. An all-day event's start and end must be set to midnight and be in the same time zone.".to_owned(),
            ));
        }
        if event.end.date_time <= event.start.date_time {
            return Err((
                StatusCode::BAD_REQUEST,
                "ErrorInvalidRequest",
                "Your request can't be completed. An all-day event must last at least one day."
                    .to_owned(),
            ));
        }
    }
    if end < start {
        return Err((
            StatusCode::BAD_REQUEST,
            "ErrorCalendarEndDateIsEarlierThanStartDate",
            "The end date occurs before the start date.".to_owned(),
        ));
    }
    Ok(())
}

/// A new URL-safe event id (Graph's REST ids use `-` and `_` for base64's `/` and `+`).
pub(crate) fn new_event_id(address: &str, serial: u64) -> String {
    let mut bytes = sha2::Sha256::digest(format!("mailbox:{address}").as_bytes())[..18].to_vec();
    bytes.extend_from_slice(b"\x00\x46\x00\x00\x07\x00");
    bytes.extend_from_slice(&serial.to_be_bytes());
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .replace('/', "-")
        .replace('+', "_");
    format!("AAMkA{encoded}AAA=")
}

pub(crate) fn new_change_key(serial: u64) -> String {
    let mut bytes = b"\x0f\x00\x00\x00\x16\x00\x00\x00".to_vec();
    bytes.extend_from_slice(&sha2::Sha256::digest(serial.to_be_bytes())[..8]);
    bytes.extend_from_slice(&serial.to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Stores `event` in `mailbox` as a new event: a new id and changeKey.
pub(crate) fn store_new(
    mailbox: &mut MailboxState,
    serial: &mut u64,
    mut event: GraphEvent,
) -> GraphEvent {
    *serial += 1;
    event.id = new_event_id(&mailbox.address, *serial);
    event.change_key = new_change_key(*serial);
    let now = Utc::now();
    event.created = now;
    event.last_modified = now;
    mailbox.events.push(event.clone());
    event
}

/// How a request wants events shown.
pub(crate) struct View {
    /// `Prefer: outlook.timezone`: the zone name and its rules; `None` is UTC.
    zone: Option<(String, Tz)>,
    /// `Prefer: outlook.body-content-type="text"`.
    text_body: bool,
    /// `$expand=singleValueExtendedProperties(...)`: the canonical ids asked for (empty: all).
    expand: Option<Vec<String>>,
    /// `$select`.
    select: Option<Vec<String>>,
    /// `Prefer: odata.maxpagesize`.
    max_page_size: Option<usize>,
    /// `Preference-Applied` values.
    applied: Vec<String>,
}

fn preferences(request: &ApiRequest) -> Vec<(String, String)> {
    request
        .prefer
        .iter()
        .flat_map(|header| header.split(','))
        .filter_map(|preference| {
            let (name, value) = preference.split_once('=')?;
            Some((
                name.trim().to_ascii_lowercase(),
                value.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect()
}

/// The query parameters, names lower-cased (`$select`, `$expand`, `$filter`, `$top`, `$skip`,
/// `startdatetime`, `enddatetime`).
fn query(request: &ApiRequest) -> Vec<(String, String)> {
    request
        .query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(name, value)| (name.to_ascii_lowercase(), value.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn parameter<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(n, _)| n == name || name.strip_prefix('$') == Some(n.as_str()))
        .map(|(_, v)| v.as_str())
}

fn bad_request(message: String) -> Refused {
    (StatusCode::BAD_REQUEST, "BadRequest", message)
}

pub(crate) fn view(request: &ApiRequest) -> Result<View, Refused> {
    let query = query(request);
    let mut applied = Vec::new();
    let mut zone = None;
    let mut text_body = false;
    let mut max_page_size = None;
    for (name, value) in preferences(request) {
        match name.as_str() {
            "outlook.timezone" => {
                if let Some(tz) = resolve_zone(&value) {
                    applied.push(format!("outlook.timezone=\"{value}\""));
                    zone = Some((value, tz));
                }
            }
            "outlook.body-content-type" => {
                text_body = value.eq_ignore_ascii_case("text");
                applied.push(format!(
                    "outlook.body-content-type=\"{}\"",
                    value.to_ascii_lowercase()
                ));
            }
            "odata.maxpagesize" => {
                if let Ok(size) = value.parse::<usize>() {
                    if size > 0 {
                        max_page_size = Some(size.min(MAX_PAGE));
                        applied.push(format!("odata.maxpagesize={}", size.min(MAX_PAGE)));
                    }
                }
            }
            _ => {}
        }
    }
    let select = parameter(&query, "$select").map(|s| {
        s.split(',')
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .collect()
    });
    let expand = match parameter(&query, "$expand") {
        None => None,
        Some(expand) => Some(parse_expand(expand)?),
    };
    Ok(View {
        zone,
        text_body,
        expand,
        select,
        max_page_size,
        applied,
    })
}

/// `singleValueExtendedProperties($filter=id eq '...' [or id eq '...'])`.
fn parse_expand(expand: &str) -> Result<Vec<String>, Refused> {
    let expand = expand.trim();
    let name = "singleValueExtendedProperties";
    let head = expand.get(..name.len()).unwrap_or_default();
    if !head.eq_ignore_ascii_case(name) {
        let property = expand.split('(').next().unwrap_or(expand);
        return Err(bad_request(format!(
            "Parsing OData Select and Expand failed: Could not find a property named '{property}' on type 'microsoft.graph.event'."
        )));
    }
    let rest = expand[name.len()..].trim();
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad_request(format!("Invalid $expand: '{expand}'.")))?;
    let filter = inner
        .trim()
        .strip_prefix("$filter=")
        .ok_or_else(|| bad_request(format!("Invalid $expand: '{expand}'.")))?;
    let tokens = tokenize(filter)?;
    let mut ids = Vec::new();
    let mut position = 0;
    loop {
        match tokens.get(position..position + 3) {
            Some([Token::Word(id), Token::Word(eq), Token::Text(value)])
                if id.eq_ignore_ascii_case("id") && eq.eq_ignore_ascii_case("eq") =>
            {
                ids.push(canonical_property_id(value).ok_or_else(invalid_filter)?);
            }
            _ => return Err(invalid_filter()),
        }
        position += 3;
        match tokens.get(position) {
            None => break,
            Some(Token::Word(or)) if or.eq_ignore_ascii_case("or") => position += 1,
            Some(_) => return Err(invalid_filter()),
        }
    }
    Ok(ids)
}

fn invalid_filter() -> Refused {
    (
        StatusCode::BAD_REQUEST,
        "ErrorInvalidUrlQueryFilter",
        "The query filter contains one or more invalid nodes.".to_owned(),
    )
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Colon,
}

/// The deepest nesting of parentheses a filter may have (the parser recurses once per level).
const MAX_NESTING: usize = 16;

fn tokenize(text: &str) -> Result<Vec<Token>, Refused> {
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(invalid_filter());
        }
    }
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            ':' => {
                chars.next();
                tokens.push(Token::Colon);
            }
            '\'' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            value.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => value.push(c),
                        None => {
                            return Err(bad_request(
                                "Invalid filter clause: an unterminated string literal.".to_owned(),
                            ));
                        }
                    }
                }
                tokens.push(Token::Text(value));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "():'".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// A `$filter` on events: `Any` clauses over `singleValueExtendedProperties` joined by `and` /
/// `or`, each naming the property with `ep/id eq '...'` and its value with `eq` / `ne`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    Any(Inner),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

/// The condition inside one `Any(ep: ...)` on one extended property.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Inner {
    IdEq(String),
    ValueEq(String),
    ValueNe(String),
    And(Box<Inner>, Box<Inner>),
    Or(Box<Inner>, Box<Inner>),
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn expect(&mut self, token: Token) -> Result<(), Refused> {
        if self.next() == Some(token) {
            Ok(())
        } else {
            Err(invalid_filter())
        }
    }

    fn filter(&mut self) -> Result<Filter, Refused> {
        let mut left = self.filter_and()?;
        while self.peek_word("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.filter_and()?));
        }
        Ok(left)
    }

    fn filter_and(&mut self) -> Result<Filter, Refused> {
        let mut left = self.filter_atom()?;
        while self.peek_word("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.filter_atom()?));
        }
        Ok(left)
    }

    fn filter_atom(&mut self) -> Result<Filter, Refused> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.filter()?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Some(Token::Word(word))
                if word.eq_ignore_ascii_case("singleValueExtendedProperties/any") =>
            {
                self.expect(Token::Open)?;
                let Some(Token::Word(variable)) = self.next() else {
                    return Err(invalid_filter());
                };
                self.expect(Token::Colon)?;
                let inner = self.inner(&variable)?;
                self.expect(Token::Close)?;
                if !names_property(&inner) {
                    return Err(invalid_filter());
                }
                Ok(Filter::Any(inner))
            }
            _ => Err(invalid_filter()),
        }
    }

    fn inner(&mut self, variable: &str) -> Result<Inner, Refused> {
        let mut left = self.inner_and(variable)?;
        while self.peek_word("or") {
            self.at += 1;
            left = Inner::Or(Box::new(left), Box::new(self.inner_and(variable)?));
        }
        Ok(left)
    }

    fn inner_and(&mut self, variable: &str) -> Result<Inner, Refused> {
        let mut left = self.inner_atom(variable)?;
        while self.peek_word("and") {
            self.at += 1;
            left = Inner::And(Box::new(left), Box::new(self.inner_atom(variable)?));
        }
        Ok(left)
    }

    fn inner_atom(&mut self, variable: &str) -> Result<Inner, Refused> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.inner(variable)?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Some(Token::Word(path)) => {
                let (Some(Token::Word(operator)), Some(Token::Text(value))) =
                    (self.next(), self.next())
                else {
                    return Err(invalid_filter());
                };
                let member = path
                    .strip_prefix(variable)
                    .and_then(|p| p.strip_prefix('/'))
                    .ok_or_else(invalid_filter)?;
                let operator = operator.to_ascii_lowercase();
                match (member.to_ascii_lowercase().as_str(), operator.as_str()) {
                    ("id", "eq") => Ok(Inner::IdEq(
                        canonical_property_id(&value).ok_or_else(invalid_filter)?,
                    )),
                    ("value", "eq") => Ok(Inner::ValueEq(value)),
                    ("value", "ne") => Ok(Inner::ValueNe(value)),
                    _ => Err(invalid_filter()),
                }
            }
            _ => Err(invalid_filter()),
        }
    }
}

/// Graph requires each `Any` to name the property: an `id eq` among its `and`ed conditions.
fn names_property(inner: &Inner) -> bool {
    match inner {
        Inner::IdEq(_) => true,
        Inner::And(a, b) => names_property(a) || names_property(b),
        Inner::Or(a, b) => names_property(a) && names_property(b),
        _ => false,
    }
}

pub(crate) fn parse_filter(text: &str) -> Result<Filter, Refused> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
    };
    let filter = parser.filter()?;
    if parser.at != parser.tokens.len() {
        return Err(invalid_filter());
    }
    Ok(filter)
}

fn inner_matches(inner: &Inner, property: &GraphExtendedProperty) -> bool {
    match inner {
        // The name in an id is case-sensitive, the value case-insensitive.
        Inner::IdEq(id) => property.id == *id,
        Inner::ValueEq(value) => property.value.to_lowercase() == value.to_lowercase(),
        Inner::ValueNe(value) => property.value.to_lowercase() != value.to_lowercase(),
        Inner::And(a, b) => inner_matches(a, property) && inner_matches(b, property),
        Inner::Or(a, b) => inner_matches(a, property) || inner_matches(b, property),
    }
}

pub(crate) fn matches(filter: &Filter, event: &GraphEvent) -> bool {
    match filter {
        Filter::Any(inner) => event
            .extended_properties
            .iter()
            .any(|property| inner_matches(inner, property)),
        Filter::And(a, b) => matches(a, event) && matches(b, event),
        Filter::Or(a, b) => matches(a, event) || matches(b, event),
    }
}

/// Fills `{{NAME}}` placeholders in one pass, so a value never has its own text replaced.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template.trim_end();
    while let Some(start) = rest.find("{{") {
        let Some(length) = rest[start + 2..].find("}}") else {
            break;
        };
        let name = &rest[start + 2..start + 2 + length];
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                out.push_str(&rest[..start]);
                out.push_str(value);
                rest = &rest[start + 4 + length..];
            }
            None => {
                out.push_str(&rest[..start + 1]);
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A `dateTime` as Graph writes it: seven fractional digits, no offset.
fn graph_date_time(local: NaiveDateTime) -> String {
    format!(
        "{}.{:07}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        local.and_utc().timestamp_subsec_nanos() / 100
    )
}

fn instant_text(instant: DateTime<Utc>) -> String {
    format!("{}Z", graph_date_time(instant.naive_utc()))
}

/// A text body as Exchange shows it in HTML.
pub(crate) fn text_to_html(text: &str) -> String {
    let escaped: Vec<String> = text
        .split('\n')
        .map(|line| {
            line.trim_end_matches('\r')
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        })
        .collect();
    BODY_HTML
        .replace("{{TEXT}}", &escaped.join("<br>\n"))
        .replace('\n', "\r\n")
}

/// An HTML body as text: tags dropped, line breaks for `<br>` and block ends, entities decoded.
pub(crate) fn html_to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let body_start = lower
        .find("<body")
        .and_then(|i| lower[i..].find('>').map(|j| i + j + 1));
    let body_end = lower.rfind("</body>");
    let body = match (body_start, body_end) {
        (Some(start), Some(end)) if start <= end => &html[start..end],
        _ => html,
    };
    let mut out = String::new();
    let mut rest = body;
    // Line breaks in the markup are not text; `<br>` and block ends are.
    let text = |segment: &str| segment.replace(['\r', '\n'], "");
    while let Some(open) = rest.find('<') {
        out.push_str(&text(&rest[..open]));
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        if tag.starts_with("br") || tag == "/p" || tag == "/div" {
            out.push_str("\r\n");
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(&text(rest));
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.trim_matches(|c| c == '\r' || c == '\n').to_owned()
}

fn preview(event: &GraphEvent) -> String {
    let text = if event.body.content_type == "html" {
        html_to_text(&event.body.content)
    } else {
        event.body.content.clone()
    };
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(255).collect()
}

fn string_array(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("\"{}\"", json_escape(item)))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn context(base: &str, user: &str, rest: &str) -> String {
    json_escape(&format!(
        "{base}/v1.0/$metadata#users('{}')/{rest}",
        user.replace('\'', "''")
    ))
}

/// One event as JSON; with `@odata.context` when `context` is given (the whole answer).
pub(crate) fn render(
    event: &GraphEvent,
    owner: &MailboxState,
    view: &View,
    context: Option<&str>,
) -> String {
    let (start, end, zone_name) = match (&view.zone, event.is_all_day) {
        // An all-day event is midnight to midnight in whatever zone it is shown.
        (zone, true) => (
            event.start.date_time,
            event.end.date_time,
            zone.as_ref()
                .map(|(name, _)| name.clone())
                .unwrap_or_else(|| "UTC".to_owned()),
        ),
        (Some((name, tz)), false) => {
            let local = |t: &GraphDateTime| {
                t.instant()
                    .map(|i| i.with_timezone(tz).naive_local())
                    .unwrap_or(t.date_time)
            };
            (local(&event.start), local(&event.end), name.clone())
        }
        (None, false) => {
            let utc = |t: &GraphDateTime| t.instant().map(|i| i.naive_utc()).unwrap_or(t.date_time);
            (utc(&event.start), utc(&event.end), "UTC".to_owned())
        }
    };
    let (body_type, body_content) = match (view.text_body, event.body.content_type.as_str()) {
        (true, "html") => ("text", html_to_text(&event.body.content)),
        (false, "text") => ("html", text_to_html(&event.body.content)),
        (true, _) => ("text", event.body.content.clone()),
        (false, _) => ("html", event.body.content.clone()),
    };
    let location = |name: &str| {
        fill(
            LOCATION,
            &[
                ("DISPLAY_NAME", json_escape(name)),
                (
                    "UNIQUE_ID_TYPE",
                    if name.is_empty() {
                        "unknown"
                    } else {
                        "private"
                    }
                    .to_owned(),
                ),
            ],
        )
    };
    let extended = match &view.expand {
        None => String::new(),
        Some(ids) => {
            let shown: Vec<String> = event
                .extended_properties
                .iter()
                .filter(|p| ids.is_empty() || ids.contains(&p.id))
                .map(|p| {
                    fill(
                        EXTENDED_PROPERTY,
                        &[("ID", json_escape(&p.id)), ("VALUE", json_escape(&p.value))],
                    )
                })
                .collect();
            if shown.is_empty() {
                String::new()
            } else {
                format!(",\"singleValueExtendedProperties\":[{}]", shown.join(","))
            }
        }
    };
    let ical = hex::encode_upper(sha2::Sha256::digest(event.id.as_bytes()));
    let json = fill(
        EVENT,
        &[
            (
                "CONTEXT",
                context
                    .map(|c| format!("\"@odata.context\":\"{c}\","))
                    .unwrap_or_default(),
            ),
            ("CHANGE_KEY", json_escape(&event.change_key)),
            ("ID", json_escape(&event.id)),
            ("CREATED", instant_text(event.created)),
            ("MODIFIED", instant_text(event.last_modified)),
            ("CATEGORIES", string_array(&event.categories)),
            (
                "ORIGINAL_START_TIME_ZONE",
                json_escape(&event.start.time_zone),
            ),
            ("ORIGINAL_END_TIME_ZONE", json_escape(&event.end.time_zone)),
            (
                "ICAL_UID",
                format!("040000008200E00074C5B7101A82E00800000000{}", &ical[..64]),
            ),
            (
                "REMINDER_MINUTES",
                event.reminder_minutes_before_start.to_string(),
            ),
            ("IS_REMINDER_ON", event.is_reminder_on.to_string()),
            ("SUBJECT", json_escape(&event.subject)),
            ("BODY_PREVIEW", json_escape(&preview(event))),
            ("IS_ALL_DAY", event.is_all_day.to_string()),
            ("SHOW_AS", json_escape(&event.show_as)),
            (
                "WEB_LINK",
                json_escape(&format!(
                    "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
                    url::form_urlencoded::byte_serialize(event.id.as_bytes()).collect::<String>()
                )),
            ),
            ("BODY_TYPE", body_type.to_owned()),
            ("BODY_CONTENT", json_escape(&body_content)),
            ("START", graph_date_time(start)),
            ("START_TIME_ZONE", json_escape(&zone_name)),
            ("END", graph_date_time(end)),
            ("END_TIME_ZONE", json_escape(&zone_name)),
            ("LOCATION", location(&event.location)),
            (
                "LOCATIONS",
                if event.location.is_empty() {
                    String::new()
                } else {
                    location(&event.location)
                },
            ),
            ("OWNER_NAME", json_escape(&owner.name)),
            ("OWNER_ADDRESS", json_escape(&owner.address)),
            ("EXTENDED_PROPERTIES", extended),
        ],
    );
    select(json, view)
}

/// `$select`: the named properties plus `id`, the `@odata` annotations and an expanded
/// `singleValueExtendedProperties`.
fn select(json: String, view: &View) -> String {
    let Some(wanted) = &view.select else {
        return json;
    };
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(&json) else {
        return json;
    };
    object.retain(|key, _| {
        key == "id"
            || key.starts_with("@odata.")
            || key == "singleValueExtendedProperties"
            || wanted.iter().any(|w| w.eq_ignore_ascii_case(key))
    });
    Value::Object(object).to_string()
}

/// Which events a collection request pages over.
pub(crate) enum Collection {
    /// `GET .../events`, optionally filtered.
    Events,
    /// `GET .../calendarView` between two instants.
    View,
}

fn parse_window_bound(text: &str) -> Option<DateTime<Utc>> {
    match parse_sent_time(text)? {
        SentTime::Instant(instant) => Some(instant),
        SentTime::Local(local) => Some(local.and_utc()),
    }
}

/// A page of a collection, with `@odata.nextLink` when more follow.
pub(crate) fn list(
    base: &str,
    user: &str,
    request: &ApiRequest,
    mailbox: &MailboxState,
    collection: Collection,
    view: &View,
) -> Result<(String, Vec<String>), Refused> {
    let query = query(request);
    let mut chosen: Vec<&GraphEvent> = match collection {
        Collection::Events => {
            let filter = match parameter(&query, "$filter") {
                Some(text) => Some(parse_filter(text)?),
                None => None,
            };
            mailbox
                .events
                .iter()
                .filter(|event| filter.as_ref().is_none_or(|f| matches(f, event)))
                .collect()
        }
        Collection::View => {
            let bound = |name: &str| parameter(&query, name).and_then(parse_window_bound);
            let (Some(from), Some(to)) = (bound("startdatetime"), bound("enddatetime")) else {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "ErrorInvalidParameter",
                    "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.".to_owned(),
                ));
            };
            let mut inside: Vec<(DateTime<Utc>, &GraphEvent)> = mailbox
                .events
                .iter()
                .filter_map(|event| {
                    let (start, end) = (event.start.instant()?, event.end.instant()?);
                    let overlaps =
                        (start < to && end > from) || (start == end && start >= from && start < to);
                    overlaps.then_some((start, event))
                })
                .collect();
            inside.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
            inside.into_iter().map(|(_, event)| event).collect()
        }
    };
    let top = match parameter(&query, "$top") {
        None => None,
        Some(text) => match text.parse::<usize>() {
            Ok(top) if (1..=MAX_PAGE).contains(&top) => Some(top),
            _ => {
                return Err(bad_request(format!(
                    "Invalid $top value '{text}': it must be between 1 and {MAX_PAGE}."
                )));
            }
        },
    };
    let skip = match parameter(&query, "$skip") {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| bad_request(format!("Invalid $skip value '{text}'.")))?,
    };
    let page = top.or(view.max_page_size).unwrap_or(DEFAULT_PAGE);
    let total = chosen.len();
    let end = (skip + page).min(total);
    let shown: Vec<&GraphEvent> = if skip < total {
        chosen.drain(skip..end).collect()
    } else {
        Vec::new()
    };
    let items: Vec<String> = shown
        .iter()
        .map(|event| render(event, mailbox, view, None))
        .collect();
    let next = if end < total {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in request
            .query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
        {
            if !name.eq_ignore_ascii_case("$skip") {
                serializer.append_pair(&name, &value);
            }
        }
        serializer.append_pair("$skip", &end.to_string());
        format!(
            ",\"@odata.nextLink\":\"{}\"",
            json_escape(&format!(
                "{base}/v1.0{}?{}",
                request.path,
                serializer.finish()
            ))
        )
    } else {
        String::new()
    };
    let rest = match collection {
        Collection::Events => "calendar/events",
        Collection::View => "calendarView",
    };
    let body = fill(
        PAGE,
        &[
            ("CONTEXT", context(base, user, rest)),
            ("VALUE", items.join(",")),
            ("NEXT_LINK", next),
        ],
    );
    Ok((body, view.applied.clone()))
}

/// Whether an `If-Match` value names this changeKey (`W/"ck"`, `"ck"`, `ck` or `*`).
pub(crate) fn if_match(header: &str, change_key: &str) -> bool {
    header.split(',').any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == change_key
    })
}

pub(crate) fn precondition_failed() -> Refused {
    (
        StatusCode::PRECONDITION_FAILED,
        "ErrorIrresolvableConflict",
        "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.".to_owned(),
    )
}

/// Counts a stored change in the mailbox's counters.
pub(crate) fn count(stats: &mut GraphMailboxStats, method: &str) {
    match method {
        "POST" => stats.event_creates += 1,
        "PATCH" => stats.event_patches += 1,
        _ => stats.event_deletes += 1,
    }
}

/// The answer for one event (with `Preference-Applied` when a preference was honoured).
pub(crate) fn event_answer(status: StatusCode, body: String, view: &View) -> Answer {
    let answer = Answer::json(status, body);
    if view.applied.is_empty() {
        answer
    } else {
        answer.with_header("preference-applied", view.applied.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_ids_have_one_spelling() {
        let ours = "String {9448D9B9-3E57-4FB4-9449-F4A30737A76A} Name ExternalId";
        assert_eq!(
            canonical_property_id(ours).unwrap(),
            "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ExternalId"
        );
        assert_eq!(
            canonical_property_id("string {9448d9b9-3e57-4fb4-9449-f4a30737a76a} name ExternalId"),
            canonical_property_id(ours)
        );
        assert_ne!(
            canonical_property_id("String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name externalid"),
            canonical_property_id(ours),
            "the name is case-sensitive"
        );
        assert_eq!(
            canonical_property_id("String 0x0037").unwrap(),
            "String 0x37"
        );
        assert!(canonical_property_id("String {not-a-guid} Name X").is_none());
        assert!(
            canonical_property_id("Text {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name X").is_none()
        );
    }

    #[test]
    fn zones_are_windows_or_iana_names() {
        assert!(resolve_zone("W. Europe Standard Time").is_some());
        assert!(resolve_zone("Europe/Amsterdam").is_some());
        assert!(resolve_zone("UTC").is_some());
        assert!(resolve_zone("Mars/Olympus_Mons").is_none());
        assert!(resolve_zone("").is_none());
    }

    #[test]
    fn filters_of_the_forms_graph_accepts() {
        let id = "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ExternalId";
        let mut event = GraphEvent::new(
            "x",
            GraphDateTime::new(
                NaiveDate::from_ymd_opt(2025, 3, 4)
                    .unwrap()
                    .and_time(NaiveTime::MIN),
                "UTC",
            ),
            GraphDateTime::new(
                NaiveDate::from_ymd_opt(2025, 3, 5)
                    .unwrap()
                    .and_time(NaiveTime::MIN),
                "UTC",
            ),
        );
        event.extended_properties.push(GraphExtendedProperty {
            id: id.to_owned(),
            value: "Lecture-7".to_owned(),
        });
        let check = |text: &str| matches(&parse_filter(text).unwrap(), &event);
        assert!(check(&format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq 'lecture-7')"
        )));
        assert!(check(&format!(
            "singleValueExtendedProperties/any(ep: ep/id eq '{id}' and ep/value eq 'a') or singleValueExtendedProperties/any(ep: ep/id eq '{id}' and ep/value eq 'Lecture-7')"
        )));
        assert!(check(&format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and (ep/value eq 'a' or ep/value eq 'Lecture-7'))"
        )));
        assert!(!check(&format!(
            "singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq 'Lecture-8')"
        )));
        for refused in [
            "singleValueExtendedProperties/Any(ep: ep/value eq 'Lecture-7')",
            "subject eq 'x'",
            "singleValueExtendedProperties/Any(ep: ep/id eq 'nonsense' and ep/value eq 'x')",
        ] {
            assert_eq!(
                parse_filter(refused).unwrap_err().1,
                "ErrorInvalidUrlQueryFilter",
                "{refused}"
            );
        }
    }

    #[test]
    fn deeply_nested_filters_are_refused_not_recursed() {
        let deep = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(
            parse_filter(&deep).unwrap_err().1,
            "ErrorInvalidUrlQueryFilter"
        );
    }

    #[test]
    fn bodies_convert_between_text_and_html() {
        let html = text_to_html("a < b\r\nsecond & last");
        assert!(html.contains("a &lt; b<br>\r\nsecond &amp; last"));
        assert_eq!(html_to_text(&html), "a < b\r\nsecond & last");
    }

    #[test]
    fn templates_fill_in_one_pass() {
        assert_eq!(
            fill(
                "{{A}}-{{B}}",
                &[("A", "{{B}}".to_owned()), ("B", "b".to_owned())]
            ),
            "{{B}}-b"
        );
    }
}
