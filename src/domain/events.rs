//! The connector's events in a calendar as a backend reads and writes them: the window a read
//! covers, an item's handle (an id and a version token, opaque to `push`), what a lookup finds,
//! what a read returns, and the field-level changes of an update.
//!
//! Invariants:
//! - pure data: no protocol type; a backend maps these to its own (EWS items, Graph events);
//! - an item is the connector's only when it carries our `ExternalId` property in our property
//!   set ([`PROPERTY_SET_ID`], [`EXTERNAL_ID_PROPERTY`]); a backend returns no other item;
//! - an [`ItemHandle`]'s `version` is whatever the backend needs to write the item safely (EWS:
//!   the `ChangeKey`); `push` only passes it back.
//!
//! Entry types: [`Window`], [`StoredEvent`], [`ItemHandle`], [`OurItem`], [`FoundEvent`],
//! [`CurrentEvent`], [`FieldChange`], [`EventChange`], [`DeleteType`].

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::event::{Event, InvalidEvent, ShowAs};

/// The connector's own property set: a private GUID, generated once for this connector and never
/// to be changed (items written under another GUID would no longer be recognised as ours).
pub const PROPERTY_SET_ID: &str = "9448D9B9-3E57-4FB4-9449-F4A30737A76A";
/// The name of the property holding MyTimetable's external id (the id is the value).
pub const EXTERNAL_ID_PROPERTY: &str = "ExternalId";
/// The name of the property holding [`Event::content_hash`] of what was last written.
pub const CONTENT_HASH_PROPERTY: &str = "ContentHash";

/// The longest window a sync or list may span: Exchange's `CalendarView` limit (two years).
pub const MAX_WINDOW_DAYS: i64 = 730;

/// A time window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// # Errors
    /// When `end` is not after `start`, or the window spans more than [`MAX_WINDOW_DAYS`]; the
    /// error names the query parameter `end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Window, InvalidEvent> {
        if end <= start {
            return Err(InvalidEvent::new("end", "must be after `start`"));
        }
        if end - start > TimeDelta::days(MAX_WINDOW_DAYS) {
            return Err(InvalidEvent::new(
                "end",
                format!("must be at most {MAX_WINDOW_DAYS} days after `start`"),
            ));
        }
        Ok(Window { start, end })
    }

    /// Whether `event` overlaps the window.
    pub fn overlaps(&self, event: &Event) -> bool {
        event.start < self.end && event.end > self.start
    }
}

/// How a backend deletes an item (config `push.delete_type`; EWS's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteType {
    /// Purged at once (retention and holds may still keep it).
    HardDelete,
    /// To Recoverable Items: gone for the user, recoverable by an admin (the default).
    SoftDelete,
    /// To Deleted Items: the user can restore it.
    MoveToDeletedItems,
}

impl DeleteType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteType::HardDelete => "HardDelete",
            DeleteType::SoftDelete => "SoftDelete",
            DeleteType::MoveToDeletedItems => "MoveToDeletedItems",
        }
    }

    /// Parses the spelling of [`DeleteType::as_str`].
    pub fn parse(raw: &str) -> Option<DeleteType> {
        [
            DeleteType::HardDelete,
            DeleteType::SoftDelete,
            DeleteType::MoveToDeletedItems,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == raw)
    }
}

/// One of the connector's events as stored in the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub external_id: String,
    pub subject: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub location: Option<String>,
    pub categories: Vec<String>,
    pub is_all_day: bool,
    pub show_as: Option<ShowAs>,
    pub reminder_minutes_before_start: Option<u32>,
    pub content_hash: Option<String>,
}

/// An item in a calendar: its id, and the version token of the read it came from (EWS: the
/// `ChangeKey`; `None` where the read did not ask for it). Opaque to `push`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemHandle {
    pub id: String,
    pub version: Option<String>,
}

impl ItemHandle {
    /// The same item without a version (for reads and deletes, which need none).
    pub fn unversioned(&self) -> ItemHandle {
        ItemHandle {
            id: self.id.clone(),
            version: None,
        }
    }
}

/// One of the connector's items as a lookup finds it: our two properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurItem {
    pub handle: ItemHandle,
    pub external_id: String,
    pub content_hash: Option<String>,
}

/// One of the connector's items in a window: its handle and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundEvent {
    pub handle: ItemHandle,
    pub event: StoredEvent,
}

impl FoundEvent {
    /// The item as a lookup would find it.
    pub fn item(&self) -> OurItem {
        OurItem {
            handle: self.handle.clone(),
            external_id: self.event.external_id.clone(),
            content_hash: self.event.content_hash.clone(),
        }
    }
}

/// A body as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    pub text: String,
    /// HTML rather than plain text (the connector writes plain text).
    pub html: bool,
}

/// One of the connector's items read whole, with the version to update it with: every field the
/// connector writes, as the backend stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentEvent {
    pub handle: ItemHandle,
    pub external_id: String,
    pub content_hash: Option<String>,
    pub subject: Option<String>,
    pub body: Option<StoredBody>,
    pub categories: Vec<String>,
    pub reminder_is_set: bool,
    pub reminder_minutes_before_start: Option<u32>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub is_all_day: bool,
    /// `None`: a status with no `showAs` (EWS `NoData`), or none stored.
    pub show_as: Option<ShowAs>,
    pub location: Option<String>,
    /// The Windows zone ids the item's start and end are kept in.
    pub start_time_zone: Option<String>,
    pub end_time_zone: Option<String>,
}

/// One field an update writes; `None` (or an empty list) removes the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldChange {
    Subject(String),
    /// Plain text; `None` removes the body.
    Body(Option<String>),
    /// Empty removes the categories.
    Categories(Vec<String>),
    ReminderIsSet(bool),
    ReminderMinutesBeforeStart(u32),
    Start(DateTime<Utc>),
    End(DateTime<Utc>),
    IsAllDay(bool),
    ShowAs(ShowAs),
    Location(Option<String>),
    /// A Windows zone id.
    StartTimeZone(String),
    EndTimeZone(String),
    /// Our `ContentHash` property.
    ContentHash(String),
}

/// The changes of one item, with the handle (and version) of the read they were computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventChange {
    pub handle: ItemHandle,
    pub fields: Vec<FieldChange>,
}
