//! The event half of [`GraphBackend`](super::GraphBackend): the connector's events as Microsoft
//! Graph v1.0 `event`s of the mailbox's primary calendar, acting as the application.
//!
//! What goes on the wire:
//! - our two properties are `singleValueExtendedProperties` in the SAME property set and names
//!   as on EWS: `String {9448D9B9-3E57-4FB4-9449-F4A30737A76A} Name ExternalId` and
//!   `... Name ContentHash` (Graph's id form for a named string property in a GUID set), so an
//!   item EWS wrote is ours on Graph after a mailbox move, and the other way round;
//! - `find_events`: `GET /users/{m}/calendar/calendarView?startDateTime&endDateTime` with the
//!   fields a list shows (`$select`) and only our two properties expanded
//!   (`$expand=singleValueExtendedProperties($filter=id eq ... or id eq ...)`), every
//!   `@odata.nextLink` followed; an event without our `ExternalId` (a user's own, another
//!   tool's GUID) carries no expanded property and is dropped unread. Graph pages the view
//!   itself, so nothing is split (`view_max_entries` is the page size, at most 1000);
//! - `find_by_external_ids`: `GET /users/{m}/calendar/events?$filter=singleValueExtendedProperties/
//!   Any(ep: ep/id eq '{ExternalId}' and (ep/value eq 'a' or ep/value eq 'b' ...))`, at most
//!   [`LOOKUP_IDS`] ids and [`LOOKUP_CHARS`] characters of ids per request (the only `or`
//!   limit Graph documents is 15 clauses, and a URL of 2048 characters), every page read;
//!   Graph matches the value case-insensitively, so the answer is filtered to the exact ids;
//! - `create_events`: `POST /users/{m}/calendar/events` per event inside `$batch`es of at most
//!   20 parts run in sequence (`GraphClient::batch_in_sequence`: one mailbox permit per batch
//!   request, at most 4 batch requests at once, so never over Exchange Online's 4 concurrent
//!   requests per mailbox, and never a mix of sequential and parallel parts, which Graph
//!   refuses: "Batch should be either fully sequential or fully parallel"); one result per
//!   event; no `attendees`, so nobody is ever invited;
//! - `read_events`: `GET /users/{m}/events/{id}` with the fields, our properties and
//!   `Prefer: outlook.body-content-type="text"`, in the same batches; the version is the
//!   `changeKey` (with the start and end as stored, which a PATCH of one of them needs, since
//!   Graph's `start`/`end` hold the instant and the zone together);
//! - `update_events`: one `PATCH /users/{m}/events/{id}` per item naming only the changed
//!   fields (and our `ContentHash`), `If-Match: W/"{changeKey}"`: a stale version is 412
//!   `ErrorIrresolvableConflict`, returned as `ErrorKind::Conflict`, never overwritten;
//! - `delete_events`: per `push.delete_type`, in the same batches; 404 `ErrorItemNotFound` is
//!   deleted. `MoveToDeletedItems` and `SoftDelete` (the default) are
//!   `DELETE /users/{m}/events/{id}`, which moves the event to Deleted Items: `MoveToDeletedItems`
//!   exactly, and the nearest Graph has to `SoftDelete` (Graph v1.0 has no delete straight into
//!   Recoverable Items\Deletions for an event). `HardDelete` is
//!   `POST /users/{m}/events/{id}/permanentDelete` with no body (204): "Permanently delete an
//!   event and place it in the Purges folder in the dumpster in the user's mailbox"
//!   (learn.microsoft.com/graph/api/event-permanentdelete), which is where EWS's `HardDelete`
//!   puts an item on Exchange 2013 and later with single item recovery.
//!
//! Time zones: `dateTimeTimeZone` with the Windows zone name the EWS side derives from the
//! event's IANA zone (`domain::tz`; Graph accepts "any of the time zones currently supported
//! by Windows", learn.microsoft.com/graph/api/resources/datetimetimezone) and the local time
//! in that zone, so DST is the zone's, as on EWS. An all-day event is midnight to midnight in
//! its zone (the event model already refuses anything else). A local time the zone shows twice
//! (the hour a clock goes back) names the first instant on Graph; an event that starts at the
//! second is written in UTC instead, so the instant is always the one asked for. Answers are
//! read in UTC (Graph's default without `Prefer: outlook.timezone`), except an all-day event,
//! which Graph shows as midnight to midnight and is read in its `originalStartTimeZone`.
//!
//! Entry points: the `GraphBackend` methods in `super`; [`property_id`], [`event_body`],
//! [`patch_body`], [`version_of`] for the tests.

use std::collections::HashSet;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use hyper::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::GraphBackend;
use crate::backend::{Error, ErrorKind, PerItem};
use crate::domain::Mailbox;
use crate::domain::event::{Event, ShowAs};
use crate::domain::events::{
    CONTENT_HASH_PROPERTY, CurrentEvent, DeleteType, EXTERNAL_ID_PROPERTY, EventChange,
    FieldChange, FoundEvent, ItemHandle, OurItem, PROPERTY_SET_ID, StoredBody, StoredEvent, Window,
};
use crate::graph::client::{BatchPart, MAX_BATCH};

/// External ids per lookup request.
pub const LOOKUP_IDS: usize = 15;
/// Characters of external ids per lookup request (the URL stays under 2048 characters).
pub const LOOKUP_CHARS: usize = 600;
/// Items per page of a lookup.
const LOOKUP_PAGE: u32 = 100;
/// Graph's largest page of events.
const MAX_PAGE: u32 = 1000;

/// The fields a window lists.
const LIST_FIELDS: &str = "subject,start,end,isAllDay,showAs,location,categories,isReminderOn,reminderMinutesBeforeStart,originalStartTimeZone,originalEndTimeZone";
/// The fields an update compares.
const READ_FIELDS: &str = "subject,body,start,end,isAllDay,showAs,location,categories,isReminderOn,reminderMinutesBeforeStart,originalStartTimeZone,originalEndTimeZone";

/// Graph's id of our property `name`: `String {GUID} Name {name}`.
pub fn property_id(name: &str) -> String {
    format!("String {{{PROPERTY_SET_ID}}} Name {name}")
}

/// Whether a property id Graph returned is our property `name`: a string in our set (the GUID
/// in any case), the name exactly (Graph's names are case-sensitive).
fn is_ours(id: &str, name: &str) -> bool {
    let parts: Vec<&str> = id.split_whitespace().collect();
    match parts.as_slice() {
        [kind, guid, word, rest @ ..] => {
            kind.eq_ignore_ascii_case("String")
                && guid
                    .strip_prefix('{')
                    .and_then(|guid| guid.strip_suffix('}'))
                    .is_some_and(|guid| guid.eq_ignore_ascii_case(PROPERTY_SET_ID))
                && word.eq_ignore_ascii_case("Name")
                && rest.join(" ") == name
        }
        _ => false,
    }
}

/// `$expand` of our two properties only.
fn expand_ours() -> String {
    format!(
        "singleValueExtendedProperties($filter=id eq '{}' or id eq '{}')",
        property_id(EXTERNAL_ID_PROPERTY),
        property_id(CONTENT_HASH_PROPERTY)
    )
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// A string literal in an OData filter.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

// ---- the JSON Graph answers ----------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<GraphEvent>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphEvent {
    id: String,
    #[serde(default)]
    change_key: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    body: Option<GraphBody>,
    #[serde(default)]
    categories: Option<Vec<String>>,
    #[serde(default)]
    is_reminder_on: Option<bool>,
    #[serde(default)]
    reminder_minutes_before_start: Option<i64>,
    #[serde(default)]
    start: Option<GraphDateTime>,
    #[serde(default)]
    end: Option<GraphDateTime>,
    #[serde(default)]
    is_all_day: Option<bool>,
    #[serde(default)]
    show_as: Option<String>,
    #[serde(default)]
    location: Option<GraphLocation>,
    #[serde(default)]
    original_start_time_zone: Option<String>,
    #[serde(default)]
    original_end_time_zone: Option<String>,
    #[serde(default)]
    single_value_extended_properties: Option<Vec<GraphProperty>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphBody {
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphDateTime {
    date_time: String,
    #[serde(default)]
    time_zone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphLocation {
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GraphProperty {
    id: String,
    #[serde(default)]
    value: Option<String>,
}

impl GraphEvent {
    fn property(&self, name: &str) -> Option<String> {
        self.single_value_extended_properties
            .iter()
            .flatten()
            .find(|property| is_ours(&property.id, name))
            .and_then(|property| property.value.clone())
    }

    /// `Some` when the event carries our `ExternalId`.
    fn ours(&self) -> Option<OurItem> {
        Some(OurItem {
            handle: ItemHandle {
                id: self.id.clone(),
                version: self.change_key.clone(),
            },
            external_id: self.property(EXTERNAL_ID_PROPERTY)?,
            content_hash: self.property(CONTENT_HASH_PROPERTY),
        })
    }

    fn all_day(&self) -> bool {
        self.is_all_day.unwrap_or(false)
    }

    fn start(&self) -> Option<DateTime<Utc>> {
        instant(
            self.start.as_ref()?,
            self.all_day(),
            self.original_start_time_zone.as_deref(),
        )
    }

    fn end(&self) -> Option<DateTime<Utc>> {
        instant(
            self.end.as_ref()?,
            self.all_day(),
            self.original_end_time_zone.as_deref(),
        )
    }

    fn show_as(&self) -> Option<ShowAs> {
        Some(match self.show_as.as_deref()? {
            "free" => ShowAs::Free,
            "tentative" => ShowAs::Tentative,
            "busy" => ShowAs::Busy,
            "oof" => ShowAs::Oof,
            "workingElsewhere" => ShowAs::WorkingElsewhere,
            _ => return None,
        })
    }

    fn location(&self) -> Option<String> {
        self.location
            .as_ref()
            .and_then(|location| location.display_name.clone())
            .filter(|name| !name.is_empty())
    }

    fn reminder(&self) -> (bool, Option<u32>) {
        (
            self.is_reminder_on.unwrap_or(false),
            self.reminder_minutes_before_start
                .and_then(|minutes| u32::try_from(minutes).ok()),
        )
    }

    fn stored(&self, ours: &OurItem) -> StoredEvent {
        let (reminder_on, minutes) = self.reminder();
        StoredEvent {
            external_id: ours.external_id.clone(),
            subject: self.subject.clone(),
            start: self.start(),
            end: self.end(),
            location: self.location(),
            categories: self.categories.clone().unwrap_or_default(),
            is_all_day: self.all_day(),
            show_as: self.show_as(),
            reminder_minutes_before_start: if reminder_on { minutes } else { None },
            content_hash: ours.content_hash.clone(),
        }
    }

    fn current(self) -> Option<CurrentEvent> {
        let ours = self.ours()?;
        let (reminder_is_set, reminder_minutes_before_start) = self.reminder();
        let (start, end) = (self.start(), self.end());
        let version = Version {
            change_key: ours.handle.version.clone().unwrap_or_default(),
            start: start.zip(self.original_start_time_zone.clone()),
            end: end.zip(self.original_end_time_zone.clone()),
        };
        Some(CurrentEvent {
            handle: ItemHandle {
                id: ours.handle.id,
                version: Some(version.encode()),
            },
            external_id: ours.external_id,
            content_hash: ours.content_hash,
            subject: self.subject.clone(),
            body: self.body.as_ref().map(|body| StoredBody {
                text: body.content.clone().unwrap_or_default(),
                html: body
                    .content_type
                    .as_deref()
                    .is_some_and(|kind| kind.eq_ignore_ascii_case("html")),
            }),
            categories: self.categories.clone().unwrap_or_default(),
            reminder_is_set,
            reminder_minutes_before_start,
            start,
            end,
            is_all_day: self.all_day(),
            show_as: self.show_as(),
            location: self.location(),
            start_time_zone: self.original_start_time_zone,
            end_time_zone: self.original_end_time_zone,
        })
    }
}

// ---- time zones ----------------------------------------------------------------------------

/// The rules of a zone name Graph uses: a Windows name (CLDR's table) or an IANA one.
fn zone_of(name: &str) -> Option<Tz> {
    if let Some(iana) = localzone::win_zone_to_iana(name, Some("001")) {
        return iana.parse().ok();
    }
    name.parse().ok()
}

fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim().trim_end_matches('Z');
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// The instant of a `dateTimeTimeZone` as Graph answers it: in its own zone (UTC by default);
/// an all-day event's midnight is in the event's own zone.
fn instant(value: &GraphDateTime, all_day: bool, original: Option<&str>) -> Option<DateTime<Utc>> {
    let local = parse_local(&value.date_time)?;
    let zone_name = if all_day {
        original.or(value.time_zone.as_deref())
    } else {
        value.time_zone.as_deref()
    };
    let zone = zone_name.and_then(zone_of).unwrap_or(Tz::UTC);
    match zone.from_local_datetime(&local) {
        LocalResult::Single(time) | LocalResult::Ambiguous(time, _) => {
            Some(time.with_timezone(&Utc))
        }
        // In a gap: Exchange moves the time forward.
        LocalResult::None => zone
            .from_local_datetime(&(local + chrono::TimeDelta::hours(1)))
            .earliest()
            .map(|time| time.with_timezone(&Utc)),
    }
}

/// `instant` as Graph's `dateTimeTimeZone` in the zone `name` (with rules `zone`): the local
/// time there, or UTC when that local time would name another instant (the repeated hour).
fn date_time(instant: DateTime<Utc>, zone: Tz, name: &str) -> Value {
    let local = instant.with_timezone(&zone).naive_local();
    let first = zone.from_local_datetime(&local).earliest();
    if first.is_some_and(|first| first.with_timezone(&Utc) == instant) {
        json!({"dateTime": local.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": name})
    } else {
        json!({"dateTime": instant.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"})
    }
}

fn show_as_name(show_as: ShowAs) -> &'static str {
    match show_as {
        ShowAs::Free => "free",
        ShowAs::Tentative => "tentative",
        ShowAs::Busy => "busy",
        ShowAs::Oof => "oof",
        ShowAs::WorkingElsewhere => "workingElsewhere",
    }
}

fn text_body(text: Option<&str>) -> Value {
    json!({"contentType": "text", "content": text.unwrap_or("")})
}

/// The whole event a create writes: every field, both our properties, no attendees.
pub fn event_body(event: &Event) -> Value {
    let windows = event.zone.windows;
    let mut body = json!({
        "subject": event.subject,
        "body": text_body(event.body.as_deref()),
        "start": date_time(event.start, event.zone.iana, windows),
        "end": date_time(event.end, event.zone.iana, windows),
        "isAllDay": event.is_all_day,
        "showAs": show_as_name(event.show_as),
        "categories": event.categories,
        "isReminderOn": event.reminder_minutes_before_start.is_some(),
        "singleValueExtendedProperties": [
            {"id": property_id(EXTERNAL_ID_PROPERTY), "value": event.external_id.as_str()},
            {"id": property_id(CONTENT_HASH_PROPERTY), "value": event.content_hash()},
        ],
    });
    if let Some(minutes) = event.reminder_minutes_before_start {
        body["reminderMinutesBeforeStart"] = json!(minutes);
    }
    if let Some(location) = &event.location {
        body["location"] = json!({"displayName": location});
    }
    body
}

/// What [`ItemHandle::version`] holds for an event read whole: the `changeKey`, and the start
/// and end as stored (instant and zone), which a PATCH of one half of `start` or `end` needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Version {
    pub change_key: String,
    pub start: Option<(DateTime<Utc>, String)>,
    pub end: Option<(DateTime<Utc>, String)>,
}

impl Version {
    fn encode(&self) -> String {
        let half = |value: &Option<(DateTime<Utc>, String)>| match value {
            Some((instant, zone)) => format!("{}\n{zone}", instant.timestamp()),
            None => "\n".to_owned(),
        };
        format!(
            "{}\n{}\n{}",
            self.change_key,
            half(&self.start),
            half(&self.end)
        )
    }
}

/// The [`Version`] in a handle's version token (a bare `changeKey` from a window read has no
/// start or end).
pub fn version_of(token: &str) -> Version {
    let parts: Vec<&str> = token.split('\n').collect();
    let half = |at: usize| {
        let seconds: i64 = parts.get(at)?.parse().ok()?;
        let zone = parts.get(at + 1).filter(|zone| !zone.is_empty())?;
        Some((DateTime::from_timestamp(seconds, 0)?, (*zone).to_owned()))
    };
    Version {
        change_key: parts.first().copied().unwrap_or_default().to_owned(),
        start: half(1),
        end: half(3),
    }
}

/// The PATCH body of one item's changes: each changed field once (a change of the instant or
/// the zone of `start` writes `start` whole, with the other half as read).
pub fn patch_body(fields: &[FieldChange], version: &Version) -> Value {
    let mut body = serde_json::Map::new();
    let mut start = version.start.clone();
    let mut end = version.end.clone();
    let (mut start_changed, mut end_changed) = (false, false);
    for field in fields {
        match field {
            FieldChange::Subject(subject) => {
                body.insert("subject".into(), json!(subject));
            }
            FieldChange::Body(text) => {
                body.insert("body".into(), text_body(text.as_deref()));
            }
            FieldChange::Categories(categories) => {
                body.insert("categories".into(), json!(categories));
            }
            FieldChange::ReminderIsSet(on) => {
                body.insert("isReminderOn".into(), json!(on));
            }
            FieldChange::ReminderMinutesBeforeStart(minutes) => {
                body.insert("reminderMinutesBeforeStart".into(), json!(minutes));
            }
            FieldChange::Start(instant) => {
                start_changed = true;
                start = Some((*instant, start.map(|(_, zone)| zone).unwrap_or_default()));
            }
            FieldChange::End(instant) => {
                end_changed = true;
                end = Some((*instant, end.map(|(_, zone)| zone).unwrap_or_default()));
            }
            FieldChange::StartTimeZone(zone) => {
                start_changed = true;
                start = start.map(|(instant, _)| (instant, zone.clone()));
            }
            FieldChange::EndTimeZone(zone) => {
                end_changed = true;
                end = end.map(|(instant, _)| (instant, zone.clone()));
            }
            FieldChange::IsAllDay(all_day) => {
                body.insert("isAllDay".into(), json!(all_day));
            }
            FieldChange::ShowAs(show_as) => {
                body.insert("showAs".into(), json!(show_as_name(*show_as)));
            }
            FieldChange::Location(location) => {
                body.insert(
                    "location".into(),
                    json!({"displayName": location.as_deref().unwrap_or("")}),
                );
            }
            FieldChange::ContentHash(hash) => {
                body.insert(
                    "singleValueExtendedProperties".into(),
                    json!([{"id": property_id(CONTENT_HASH_PROPERTY), "value": hash}]),
                );
            }
        }
    }
    let written = |(instant, name): (DateTime<Utc>, String)| {
        let (zone, name) = match zone_of(&name) {
            Some(zone) => (zone, name),
            None => (Tz::UTC, "UTC".to_owned()),
        };
        date_time(instant, zone, &name)
    };
    if start_changed {
        if let Some(start) = start {
            body.insert("start".into(), written(start));
        }
    }
    if end_changed {
        if let Some(end) = end {
            body.insert("end".into(), written(end));
        }
    }
    Value::Object(body)
}

// ---- the requests --------------------------------------------------------------------------

/// A batch part's failure in the backend's words: 412 is a stale version (`Conflict`, which
/// `push` re-reads and retries), anything else Graph's own error.
fn part_error(error: crate::graph::Error) -> Error {
    match &error {
        crate::graph::Error::Graph {
            status: 412,
            code,
            message,
            ..
        } => Error::Refused {
            kind: ErrorKind::Conflict,
            code: code.clone(),
            message: Some(message.clone()),
        },
        _ => Error::Graph(error),
    }
}

fn is_gone(error: &crate::graph::Error) -> bool {
    matches!(error, crate::graph::Error::Graph { status: 404, code, .. } if code == "ErrorItemNotFound" || code.is_empty())
}

/// Answers of batch parts, one per part, in order.
type Answers = Vec<Result<Value, crate::graph::Error>>;

impl GraphBackend {
    /// [`GraphBackend::send_parts`] for writes whose answer body is not needed: per part,
    /// done or the Graph error that refused it.
    async fn send_writes(&self, parts: Vec<BatchPart>) -> Result<PerItem<()>, Error> {
        let answers = self.send_parts(parts).await?;
        Ok(answers
            .into_iter()
            .map(|answer| answer.map(|_| ()).map_err(part_error))
            .collect())
    }

    /// Sends `parts` as sequential batches of 20 (`GraphClient::batch_in_sequence`), up to
    /// [`MAILBOX_CONCURRENCY`](crate::graph::client::MAILBOX_CONCURRENCY) of them at once: each holds one permit of the mailbox, so the
    /// mailbox never has more than 4 requests in flight. One answer per part, in order; when a
    /// batch request as a whole failed, its error (one whose outcome is unknown first, so
    /// `push` looks up what landed).
    async fn send_parts(&self, parts: Vec<BatchPart>) -> Result<Answers, Error> {
        if parts.len() <= MAX_BATCH {
            return self
                .client
                .batch_in_sequence(&parts)
                .await
                .map_err(Error::Graph);
        }
        let chunks: Vec<Vec<BatchPart>> = parts.chunks(MAX_BATCH).map(<[_]>::to_vec).collect();
        let count = chunks.len();
        let mut running = tokio::task::JoinSet::new();
        for (index, chunk) in chunks.into_iter().enumerate() {
            let client = self.client.clone();
            running.spawn(async move { (index, client.batch_in_sequence(&chunk).await) });
        }
        let mut answers: Vec<Option<Answers>> = (0..count).map(|_| None).collect();
        let mut failure: Option<crate::graph::Error> = None;
        while let Some(joined) = running.join_next().await {
            match joined {
                Ok((index, Ok(chunk))) => answers[index] = Some(chunk),
                Ok((_, Err(error))) => {
                    if failure
                        .as_ref()
                        .is_none_or(|kept| !kept.outcome_unknown() && error.outcome_unknown())
                    {
                        failure = Some(error);
                    }
                }
                Err(join) => {
                    failure.get_or_insert(crate::graph::Error::Unusable {
                        reason: format!("a batch task failed: {join}"),
                    });
                }
            }
        }
        if let Some(error) = failure {
            return Err(Error::Graph(error));
        }
        Ok(answers.into_iter().flatten().flatten().collect())
    }

    fn part(
        mailbox: &Mailbox,
        method: Method,
        path: &[&str],
        query: Option<String>,
        headers: Vec<(String, String)>,
        body: Option<Value>,
    ) -> BatchPart {
        let mut segments = vec!["users".to_owned(), mailbox.as_str().to_owned()];
        segments.extend(path.iter().map(|segment| (*segment).to_owned()));
        BatchPart {
            mailbox: mailbox.as_str().to_owned(),
            method,
            path: segments,
            query,
            headers,
            body,
        }
    }

    /// Every page of a collection of events from `url`.
    async fn read_pages(
        &self,
        mailbox: &Mailbox,
        mut url: url::Url,
    ) -> Result<Vec<GraphEvent>, Error> {
        let mut events = Vec::new();
        loop {
            let page: Page = self
                .client
                .get_url(mailbox.as_str(), &url)
                .await
                .map_err(Error::Graph)?;
            events.extend(page.value);
            match page.next_link {
                Some(link) => {
                    url = link.parse().map_err(|_| {
                        Error::Graph(crate::graph::Error::Unusable {
                            reason: "an @odata.nextLink that is no URL".to_owned(),
                        })
                    })?;
                }
                None => return Ok(events),
            }
        }
    }

    pub(super) async fn read_window(
        &self,
        mailbox: &Mailbox,
        window: Window,
        view_max_entries: u32,
    ) -> Result<Vec<FoundEvent>, Error> {
        let m = mailbox.as_str();
        let mut url = self.client.url(&["users", m, "calendar", "calendarView"]);
        let bound = |instant: DateTime<Utc>| instant.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let top = view_max_entries.clamp(1, MAX_PAGE).to_string();
        url.set_query(Some(&query(&[
            ("startDateTime", &bound(window.start)),
            ("endDateTime", &bound(window.end)),
            ("$select", LIST_FIELDS),
            ("$expand", &expand_ours()),
            ("$top", &top),
        ])));
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for event in self.read_pages(mailbox, url).await? {
            let Some(ours) = event.ours() else {
                continue;
            };
            if seen.insert(ours.handle.id.clone()) {
                found.push(FoundEvent {
                    event: event.stored(&ours),
                    handle: ours.handle,
                });
            }
        }
        Ok(found)
    }

    pub(super) async fn find_ours(
        &self,
        mailbox: &Mailbox,
        ids: &[&str],
    ) -> Result<Vec<OurItem>, Error> {
        let wanted: HashSet<&str> = ids.iter().copied().collect();
        let mut found = Vec::new();
        let mut rest = ids;
        while !rest.is_empty() {
            // As many ids as fit the limits, at least one.
            let mut count = 0;
            let mut chars = 0;
            while count < rest.len() && count < LOOKUP_IDS {
                if count > 0 && chars + rest[count].len() > LOOKUP_CHARS {
                    break;
                }
                chars += rest[count].len();
                count += 1;
            }
            let (chunk, next) = rest.split_at(count);
            rest = next;
            let values: Vec<String> = chunk
                .iter()
                .map(|id| format!("ep/value eq {}", literal(id)))
                .collect();
            let filter = format!(
                "singleValueExtendedProperties/Any(ep: ep/id eq {} and ({}))",
                literal(&property_id(EXTERNAL_ID_PROPERTY)),
                values.join(" or ")
            );
            let mut url = self
                .client
                .url(&["users", mailbox.as_str(), "calendar", "events"]);
            url.set_query(Some(&query(&[
                ("$filter", &filter),
                ("$select", "id"),
                ("$expand", &expand_ours()),
                ("$top", &LOOKUP_PAGE.to_string()),
            ])));
            found.extend(
                self.read_pages(mailbox, url)
                    .await?
                    .iter()
                    .filter_map(GraphEvent::ours)
                    .filter(|ours| wanted.contains(ours.external_id.as_str())),
            );
        }
        Ok(found)
    }

    pub(super) async fn create(
        &self,
        mailbox: &Mailbox,
        events: &[&Event],
    ) -> Result<PerItem<()>, Error> {
        let parts: Vec<BatchPart> = events
            .iter()
            .map(|event| {
                GraphBackend::part(
                    mailbox,
                    Method::POST,
                    &["calendar", "events"],
                    None,
                    Vec::new(),
                    Some(event_body(event)),
                )
            })
            .collect();
        self.send_writes(parts).await
    }

    pub(super) async fn read(
        &self,
        mailbox: &Mailbox,
        items: &[ItemHandle],
    ) -> Result<PerItem<CurrentEvent>, Error> {
        let read_query = query(&[("$select", READ_FIELDS), ("$expand", &expand_ours())]);
        let parts: Vec<BatchPart> = items
            .iter()
            .map(|item| {
                GraphBackend::part(
                    mailbox,
                    Method::GET,
                    &["events", &item.id],
                    Some(read_query.clone()),
                    vec![(
                        "Prefer".to_owned(),
                        "outlook.body-content-type=\"text\"".to_owned(),
                    )],
                    None,
                )
            })
            .collect();
        let answers = self.send_parts(parts).await?;
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                Ok(value) => serde_json::from_value::<GraphEvent>(value)
                    .ok()
                    .and_then(GraphEvent::current)
                    // Only our own items are ever updated: the id came from a read of our
                    // property.
                    .ok_or(Error::Incomplete("our property on the event")),
                Err(error) => Err(part_error(error)),
            })
            .collect())
    }

    pub(super) async fn update(
        &self,
        mailbox: &Mailbox,
        changes: Vec<EventChange>,
    ) -> Result<PerItem<()>, Error> {
        let parts: Vec<BatchPart> = changes
            .iter()
            .map(|change| {
                let version = version_of(change.handle.version.as_deref().unwrap_or(""));
                let mut headers = Vec::new();
                if !version.change_key.is_empty() {
                    headers.push((
                        "If-Match".to_owned(),
                        format!("W/\"{}\"", version.change_key),
                    ));
                }
                GraphBackend::part(
                    mailbox,
                    Method::PATCH,
                    &["events", &change.handle.id],
                    Some(query(&[("$select", "id")])),
                    headers,
                    Some(patch_body(&change.fields, &version)),
                )
            })
            .collect();
        self.send_writes(parts).await
    }

    pub(super) async fn delete(
        &self,
        mailbox: &Mailbox,
        items: &[ItemHandle],
        delete_type: DeleteType,
    ) -> Result<PerItem<()>, Error> {
        let (method, action) = match delete_type {
            DeleteType::HardDelete => (Method::POST, Some("permanentDelete")),
            DeleteType::SoftDelete | DeleteType::MoveToDeletedItems => (Method::DELETE, None),
        };
        let parts: Vec<BatchPart> = items
            .iter()
            .map(|item| {
                let mut path = vec!["events", item.id.as_str()];
                path.extend(action);
                GraphBackend::part(mailbox, method.clone(), &path, None, Vec::new(), None)
            })
            .collect();
        let answers = self.send_parts(parts).await?;
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                Ok(_) => Ok(()),
                Err(error) if is_gone(&error) => Ok(()),
                Err(error) => Err(part_error(error)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(subject: &str) -> Event {
        crate::domain::event::lecture(subject)
    }

    #[test]
    fn our_property_ids_are_the_ews_set_and_names_in_graphs_form() {
        assert_eq!(
            property_id(EXTERNAL_ID_PROPERTY),
            "String {9448D9B9-3E57-4FB4-9449-F4A30737A76A} Name ExternalId"
        );
        assert!(is_ours(
            "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ExternalId",
            EXTERNAL_ID_PROPERTY
        ));
        assert!(!is_ours(
            "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name externalid",
            EXTERNAL_ID_PROPERTY
        ));
        assert!(!is_ours(
            "String {11111111-2222-3333-4444-555555555555} Name ExternalId",
            EXTERNAL_ID_PROPERTY
        ));
        assert!(!is_ours(
            "String {00020329-0000-0000-c000-000000000046} Name ExternalId",
            EXTERNAL_ID_PROPERTY
        ));
    }

    #[test]
    fn a_create_holds_the_windows_zone_local_times_both_properties_and_no_attendees() {
        let event = event("Linear Algebra");
        let body = event_body(&event);
        assert_eq!(
            body["start"],
            json!({"dateTime": "2026-12-01T09:00:00", "timeZone": "W. Europe Standard Time"})
        );
        assert_eq!(body["end"]["dateTime"], "2026-12-01T10:45:00");
        assert_eq!(body["showAs"], "busy");
        assert_eq!(body["isReminderOn"], true);
        assert_eq!(body["reminderMinutesBeforeStart"], 15);
        assert_eq!(body["location"]["displayName"], "Room 1.14");
        assert_eq!(
            body["singleValueExtendedProperties"][1]["value"],
            event.content_hash()
        );
        assert!(body.get("attendees").is_none());
    }

    #[test]
    fn the_second_of_two_equal_local_times_is_written_in_utc() {
        let zone: Tz = "Europe/Amsterdam".parse().unwrap();
        // 27 October 2024: 02:30 local happens at 00:30 and at 01:30 UTC.
        let first: DateTime<Utc> = "2024-10-27T00:30:00Z".parse().unwrap();
        let second: DateTime<Utc> = "2024-10-27T01:30:00Z".parse().unwrap();
        assert_eq!(
            date_time(first, zone, "W. Europe Standard Time"),
            json!({"dateTime": "2024-10-27T02:30:00", "timeZone": "W. Europe Standard Time"})
        );
        assert_eq!(
            date_time(second, zone, "W. Europe Standard Time"),
            json!({"dateTime": "2024-10-27T01:30:00", "timeZone": "UTC"})
        );
        // Summer and winter time each in their own offset.
        let summer: DateTime<Utc> = "2026-07-01T07:00:00Z".parse().unwrap();
        assert_eq!(
            date_time(summer, zone, "W. Europe Standard Time")["dateTime"],
            "2026-07-01T09:00:00"
        );
    }

    #[test]
    fn a_patch_names_only_the_changed_fields_and_keeps_the_zone_as_read() {
        let before = event("A");
        let version = Version {
            change_key: "CK1".to_owned(),
            start: Some((before.start, "W. Europe Standard Time".to_owned())),
            end: Some((before.end, "W. Europe Standard Time".to_owned())),
        };
        assert_eq!(version_of(&version.encode()), version);
        assert_eq!(version_of("CK1").change_key, "CK1");
        assert_eq!(version_of("CK1").start, None);

        let body = patch_body(
            &[
                FieldChange::Subject("B".to_owned()),
                FieldChange::ContentHash("v1:x".to_owned()),
            ],
            &version,
        );
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["singleValueExtendedProperties", "subject"]);

        let later = before.start + chrono::TimeDelta::hours(1);
        let body = patch_body(&[FieldChange::Start(later)], &version);
        assert_eq!(
            body,
            json!({"start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "W. Europe Standard Time"}})
        );
        let body = patch_body(
            &[FieldChange::EndTimeZone("GMT Standard Time".to_owned())],
            &version,
        );
        assert_eq!(
            body,
            json!({"end": {"dateTime": "2026-12-01T09:45:00", "timeZone": "GMT Standard Time"}})
        );
        let body = patch_body(&[FieldChange::Location(None)], &version);
        assert_eq!(body, json!({"location": {"displayName": ""}}));
    }

    #[test]
    fn an_event_read_back_is_the_event_written_all_day_ones_in_their_own_zone() {
        let written = event("A");
        let answer = json!({
            "id": "AAMkA1",
            "changeKey": "CK9",
            "subject": "A",
            "body": {"contentType": "text", "content": "Lecturer: A. Turing"},
            "start": {"dateTime": "2026-12-01T08:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-01T09:45:00.0000000", "timeZone": "UTC"},
            "isAllDay": false,
            "showAs": "busy",
            "location": {"displayName": "Room 1.14"},
            "categories": ["MyTimetable"],
            "isReminderOn": true,
            "reminderMinutesBeforeStart": 15,
            "originalStartTimeZone": "W. Europe Standard Time",
            "originalEndTimeZone": "W. Europe Standard Time",
            "singleValueExtendedProperties": [
                {"id": "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ExternalId", "value": "mytt:1"},
                {"id": "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ContentHash", "value": written.content_hash()}
            ]
        });
        let current = serde_json::from_value::<GraphEvent>(answer)
            .unwrap()
            .current()
            .unwrap();
        assert_eq!(
            crate::push::calendar::changes(&written, &current),
            vec![FieldChange::ContentHash(written.content_hash())],
            "nothing but the hash differs"
        );
        assert_eq!(
            version_of(current.handle.version.as_deref().unwrap()).change_key,
            "CK9"
        );

        let all_day = json!({
            "id": "AAMkA2",
            "start": {"dateTime": "2026-12-01T00:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-02T00:00:00.0000000", "timeZone": "UTC"},
            "isAllDay": true,
            "originalStartTimeZone": "W. Europe Standard Time",
            "originalEndTimeZone": "W. Europe Standard Time",
            "singleValueExtendedProperties": [
                {"id": "String {9448d9b9-3e57-4fb4-9449-f4a30737a76a} Name ExternalId", "value": "mytt:2"}
            ]
        });
        let event = serde_json::from_value::<GraphEvent>(all_day).unwrap();
        assert_eq!(
            event.start().unwrap(),
            "2026-11-30T23:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let user_item = json!({"id": "AAMkA3", "subject": "Dentist"});
        assert!(
            serde_json::from_value::<GraphEvent>(user_item)
                .unwrap()
                .ours()
                .is_none()
        );
    }
}
