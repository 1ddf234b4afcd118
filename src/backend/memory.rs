//! An in-memory [`CalendarBackend`] for the domain rooms' unit tests: calendars with a permission
//! set and a version, the service account's rights, groups, refusals, a concurrent writer
//! (stale versions) on demand, calendar items (ours and the user's own), lost answers on
//! demand, and a log of the calls made.
//!
//! Invariant: it follows the trait's contract as `backend::ews` does: a write with a version
//! other than the current one is `StaleVersion` (an item's: refused as `Conflict`); every
//! accepted write gives a new version; an unknown mailbox is refused as `ErrorNonExistentMailbox`;
//! only items carrying our external id are ever returned, changed or deleted; a window is read
//! whole (no view limit); a lost answer is one whose write was applied.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::backend::{
    BoxFuture, Calendar, CalendarBackend, Error, Expansion, IdentityNotes, OpenAs, PerItem, Written,
};
use crate::domain::Mailbox;
use crate::domain::event::{Event, ShowAs};
use crate::domain::events::{
    CurrentEvent, DeleteType, EventChange, FieldChange, FoundEvent, ItemHandle, OurItem,
    StoredBody, StoredEvent, Window,
};
use crate::domain::permissions::{EffectiveRights, PermissionSet, Version};
use crate::ews::ErrorKind;

/// The one service account of the memory backend.
pub const SERVICE_ACCOUNT: &str = "svc@uni.example";

/// One mailbox's calendar.
#[derive(Debug, Clone, Default)]
pub struct MemoryCalendar {
    pub permissions: PermissionSet,
    /// What the service account may do when it opens the calendar itself; `None`: refused
    /// (`ErrorAccessDenied`).
    pub service_account_rights: Option<EffectiveRights>,
    /// The version stamp; every accepted write adds one.
    pub version: u64,
    /// The calendar's items, ours and the user's own.
    pub items: Vec<MemoryItem>,
}

/// One calendar item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryItem {
    pub id: String,
    /// Every accepted write adds one (the item's version token).
    pub version: u64,
    /// Our `ExternalId` property; `None` for a user's own item.
    pub external_id: Option<String>,
    pub content_hash: Option<String>,
    pub subject: Option<String>,
    pub body: Option<StoredBody>,
    pub categories: Vec<String>,
    pub reminder_is_set: bool,
    pub reminder_minutes_before_start: Option<u32>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub is_all_day: bool,
    pub show_as: Option<ShowAs>,
    pub location: Option<String>,
    pub start_time_zone: Option<String>,
    pub end_time_zone: Option<String>,
}

impl MemoryItem {
    /// A user's own item (no property of ours).
    pub fn users(id: &str, subject: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> MemoryItem {
        MemoryItem {
            id: id.to_owned(),
            version: 1,
            external_id: None,
            content_hash: None,
            subject: Some(subject.to_owned()),
            body: None,
            categories: Vec::new(),
            reminder_is_set: false,
            reminder_minutes_before_start: None,
            start,
            end,
            is_all_day: false,
            show_as: Some(ShowAs::Busy),
            location: None,
            start_time_zone: None,
            end_time_zone: None,
        }
    }

    /// The item a create of `event` stores.
    fn created(id: String, event: &Event) -> MemoryItem {
        MemoryItem {
            id,
            version: 1,
            external_id: Some(event.external_id.as_str().to_owned()),
            content_hash: Some(event.content_hash()),
            subject: Some(event.subject.clone()),
            body: event
                .body
                .clone()
                .map(|text| StoredBody { text, html: false }),
            categories: event.categories.clone(),
            reminder_is_set: event.reminder_minutes_before_start.is_some(),
            reminder_minutes_before_start: event.reminder_minutes_before_start,
            start: event.start,
            end: event.end,
            is_all_day: event.is_all_day,
            show_as: Some(event.show_as),
            location: event.location.clone(),
            start_time_zone: Some(event.zone.windows.to_owned()),
            end_time_zone: Some(event.zone.windows.to_owned()),
        }
    }

    fn handle(&self) -> ItemHandle {
        ItemHandle {
            id: self.id.clone(),
            version: Some(self.version.to_string()),
        }
    }

    fn ours(&self) -> Option<OurItem> {
        Some(OurItem {
            handle: self.handle(),
            external_id: self.external_id.clone()?,
            content_hash: self.content_hash.clone(),
        })
    }

    fn current(&self) -> Option<CurrentEvent> {
        let ours = self.ours()?;
        Some(CurrentEvent {
            handle: ours.handle,
            external_id: ours.external_id,
            content_hash: ours.content_hash,
            subject: self.subject.clone(),
            body: self.body.clone(),
            categories: self.categories.clone(),
            reminder_is_set: self.reminder_is_set,
            reminder_minutes_before_start: self.reminder_minutes_before_start,
            start: Some(self.start),
            end: Some(self.end),
            is_all_day: self.is_all_day,
            show_as: self.show_as,
            location: self.location.clone(),
            start_time_zone: self.start_time_zone.clone(),
            end_time_zone: self.end_time_zone.clone(),
        })
    }

    fn found(&self) -> Option<FoundEvent> {
        let ours = self.ours()?;
        Some(FoundEvent {
            event: StoredEvent {
                external_id: ours.external_id,
                subject: self.subject.clone(),
                start: Some(self.start),
                end: Some(self.end),
                location: self.location.clone(),
                categories: self.categories.clone(),
                is_all_day: self.is_all_day,
                show_as: self.show_as,
                reminder_minutes_before_start: if self.reminder_is_set {
                    self.reminder_minutes_before_start
                } else {
                    None
                },
                content_hash: ours.content_hash,
            },
            handle: ours.handle,
        })
    }

    fn apply(&mut self, change: FieldChange) {
        match change {
            FieldChange::Subject(subject) => self.subject = Some(subject),
            FieldChange::Body(body) => {
                self.body = body.map(|text| StoredBody { text, html: false });
            }
            FieldChange::Categories(categories) => self.categories = categories,
            FieldChange::ReminderIsSet(is_set) => self.reminder_is_set = is_set,
            FieldChange::ReminderMinutesBeforeStart(minutes) => {
                self.reminder_minutes_before_start = Some(minutes);
            }
            FieldChange::Start(start) => self.start = start,
            FieldChange::End(end) => self.end = end,
            FieldChange::IsAllDay(all_day) => self.is_all_day = all_day,
            FieldChange::ShowAs(show_as) => self.show_as = Some(show_as),
            FieldChange::Location(location) => self.location = location,
            FieldChange::StartTimeZone(zone) => self.start_time_zone = Some(zone),
            FieldChange::EndTimeZone(zone) => self.end_time_zone = Some(zone),
            FieldChange::ContentHash(hash) => self.content_hash = Some(hash),
        }
    }
}

/// An answer lost after the write was applied, as `exchange` reports a broken connection.
fn lost_answer() -> Error {
    Error::Exchange(crate::exchange::Error::Malformed(
        crate::ews::Error::InvalidXml {
            reason: "the answer was lost (memory backend)".to_owned(),
        },
    ))
}

fn refusal(kind: ErrorKind, code: &str) -> Error {
    Error::Refused {
        kind,
        code: code.to_owned(),
        message: None,
    }
}

#[derive(Default)]
struct State {
    calendars: HashMap<String, MemoryCalendar>,
    groups: HashMap<String, Expansion>,
    /// Writes still to be beaten by a concurrent writer (answered `StaleVersion`).
    concurrent_writes: u32,
    /// Creates whose answer is still to be lost (after the items are stored).
    lost_create_answers: u32,
    /// Item updates still to be beaten by a concurrent writer (refused as `Conflict`).
    concurrent_item_writes: u32,
    next_item: u64,
    /// The field changes of each item update accepted, in order.
    updates: Vec<Vec<FieldChange>>,
    /// The delete type of each delete call.
    delete_types: Vec<DeleteType>,
    calls: Vec<&'static str>,
}

/// The in-memory backend.
#[derive(Default)]
pub struct MemoryBackend {
    state: Mutex<State>,
}

impl MemoryBackend {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or replaces) a mailbox's calendar.
    pub fn insert(&self, mailbox: &str, calendar: MemoryCalendar) {
        self.state()
            .calendars
            .insert(mailbox.to_ascii_lowercase(), calendar);
    }

    /// The calendar's permission set as stored now.
    pub fn permissions(&self, mailbox: &str) -> Option<PermissionSet> {
        self.state()
            .calendars
            .get(&mailbox.to_ascii_lowercase())
            .map(|calendar| calendar.permissions.clone())
    }

    /// Makes `address` a group with these direct members.
    pub fn insert_group(&self, address: &str, users: &[&str], groups: &[&str]) {
        let lower = |names: &[&str]| names.iter().map(|name| name.to_ascii_lowercase()).collect();
        self.state().groups.insert(
            address.to_ascii_lowercase(),
            Expansion::Group {
                users: lower(users),
                groups: lower(groups),
                complete: true,
            },
        );
    }

    /// The next `count` writes lose against a concurrent writer, which changes the set's version
    /// (not its entries) just before each.
    pub fn lose_next_writes(&self, count: u32) {
        self.state().concurrent_writes = count;
    }

    /// The calendar's items as stored now.
    pub fn items(&self, mailbox: &str) -> Vec<MemoryItem> {
        self.state()
            .calendars
            .get(&mailbox.to_ascii_lowercase())
            .map(|calendar| calendar.items.clone())
            .unwrap_or_default()
    }

    /// Adds an item to a calendar (as the user, or as an earlier write would have).
    pub fn insert_item(&self, mailbox: &str, item: MemoryItem) {
        self.state()
            .calendars
            .entry(mailbox.to_ascii_lowercase())
            .or_default()
            .items
            .push(item);
    }

    /// The answers of the next `count` creates are lost after their items are stored.
    pub fn lose_next_create_answers(&self, count: u32) {
        self.state().lost_create_answers = count;
    }

    /// The next `count` item updates lose against a concurrent writer, which changes the item's
    /// version (not its fields) just before each.
    pub fn lose_next_item_writes(&self, count: u32) {
        self.state().concurrent_item_writes = count;
    }

    /// The field changes of every accepted item update, in order.
    pub fn updates(&self) -> Vec<Vec<FieldChange>> {
        self.state().updates.clone()
    }

    /// The delete type of every delete call, in order.
    pub fn delete_types(&self) -> Vec<DeleteType> {
        self.state().delete_types.clone()
    }

    /// How many calls of `method` were made.
    pub fn count(&self, method: &str) -> usize {
        self.state()
            .calls
            .iter()
            .filter(|call| **call == method)
            .count()
    }

    /// The calls made so far, by method name, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.state().calls.clone()
    }

    fn record(&self, call: &'static str) {
        self.state().calls.push(call);
    }

    /// Runs `work` on the mailbox's items; an unknown mailbox is refused.
    fn with_items<T>(
        &self,
        mailbox: &Mailbox,
        work: impl FnOnce(&mut Vec<MemoryItem>, &mut u64) -> T,
    ) -> Result<T, Error> {
        let mut state = self.state();
        let state = &mut *state;
        let calendar = state
            .calendars
            .get_mut(&mailbox.as_str().to_ascii_lowercase())
            .ok_or_else(|| refusal(ErrorKind::MailboxNotFound, "ErrorNonExistentMailbox"))?;
        Ok(work(&mut calendar.items, &mut state.next_item))
    }

    fn calendar(&self, mailbox: &Mailbox) -> Result<MemoryCalendar, Error> {
        self.state()
            .calendars
            .get(&mailbox.as_str().to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| Error::Refused {
                kind: ErrorKind::MailboxNotFound,
                code: "ErrorNonExistentMailbox".to_owned(),
                message: None,
            })
    }
}

fn version_of(mailbox: &Mailbox, calendar: &MemoryCalendar) -> Version {
    Version {
        id: format!("calendar:{}", mailbox.as_str().to_ascii_lowercase()),
        tag: Some(calendar.version.to_string()),
    }
}

impl CalendarBackend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn service_account(&self, _mailbox: &Mailbox) -> String {
        SERVICE_ACCOUNT.to_owned()
    }

    fn service_accounts(&self) -> Vec<String> {
        vec![SERVICE_ACCOUNT.to_owned()]
    }

    fn open_calendar<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        with_permissions: bool,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        Box::pin(async move {
            self.record("open_calendar");
            let calendar = self.calendar(mailbox)?;
            let effective_rights = match who {
                OpenAs::Owner => Some(EffectiveRights {
                    read: true,
                    create_contents: true,
                    modify: true,
                    delete: true,
                }),
                OpenAs::ServiceAccount => match calendar.service_account_rights {
                    Some(rights) => Some(rights),
                    None => {
                        return Err(Error::Refused {
                            kind: ErrorKind::AccessDenied,
                            code: "ErrorAccessDenied".to_owned(),
                            message: None,
                        });
                    }
                },
            };
            Ok(Calendar {
                version: version_of(mailbox, &calendar),
                effective_rights,
                permissions: with_permissions.then(|| calendar.permissions.clone()),
            })
        })
    }

    fn read_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        Box::pin(async move {
            self.record("read_permissions");
            let calendar = self.calendar(mailbox)?;
            Ok(Calendar {
                version: version_of(mailbox, &calendar),
                effective_rights: None,
                permissions: Some(calendar.permissions.clone()),
            })
        })
    }

    fn write_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        version: Version,
        _read: &'a PermissionSet,
        set: PermissionSet,
    ) -> BoxFuture<'a, Result<Written, Error>> {
        Box::pin(async move {
            self.record("write_permissions");
            self.calendar(mailbox)?;
            let mut state = self.state();
            let concurrent = state.concurrent_writes > 0;
            if concurrent {
                state.concurrent_writes -= 1;
            }
            let calendar = state
                .calendars
                .get_mut(&mailbox.as_str().to_ascii_lowercase())
                .expect("checked above");
            if concurrent {
                calendar.version += 1;
            }
            if version != version_of(mailbox, calendar) {
                return Ok(Written::StaleVersion);
            }
            // As Exchange does: the entries of deleted accounts go with any rewrite.
            calendar.permissions = PermissionSet {
                entries: set.entries,
                unknown_entries: Vec::new(),
            };
            calendar.version += 1;
            Ok(Written::Yes)
        })
    }

    fn expand_group<'a>(
        &'a self,
        address: &'a str,
        _anchor: &'a str,
    ) -> BoxFuture<'a, Result<Expansion, Error>> {
        Box::pin(async move {
            self.record("expand_group");
            Ok(self
                .state()
                .groups
                .get(&address.to_ascii_lowercase())
                .cloned()
                .unwrap_or(Expansion::NotAGroup))
        })
    }

    fn with_notes<'a>(&'a self, work: BoxFuture<'a, ()>) -> BoxFuture<'a, IdentityNotes> {
        Box::pin(async move {
            work.await;
            IdentityNotes::default()
        })
    }

    fn find_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        window: Window,
        _view_max_entries: u32,
    ) -> BoxFuture<'a, Result<Vec<FoundEvent>, Error>> {
        Box::pin(async move {
            self.record("find_events");
            self.with_items(mailbox, |items, _| {
                items
                    .iter()
                    .filter(|item| item.start < window.end && item.end > window.start)
                    .filter_map(MemoryItem::found)
                    .collect()
            })
        })
    }

    fn find_by_external_ids<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        ids: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<OurItem>, Error>> {
        Box::pin(async move {
            self.record("find_by_external_ids");
            self.with_items(mailbox, |items, _| {
                items
                    .iter()
                    .filter_map(MemoryItem::ours)
                    .filter(|ours| ids.contains(&ours.external_id.as_str()))
                    .collect()
            })
        })
    }

    fn create_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(async move {
            self.record("create_events");
            self.with_items(mailbox, |items, next| {
                for event in events {
                    *next += 1;
                    items.push(MemoryItem::created(format!("item-{next}"), event));
                }
            })?;
            let mut state = self.state();
            if state.lost_create_answers > 0 {
                state.lost_create_answers -= 1;
                return Err(lost_answer());
            }
            Ok(events.iter().map(|_| Ok(())).collect())
        })
    }

    fn read_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        handles: &'a [ItemHandle],
    ) -> BoxFuture<'a, Result<PerItem<CurrentEvent>, Error>> {
        Box::pin(async move {
            self.record("read_events");
            self.with_items(mailbox, |items, _| {
                handles
                    .iter()
                    .map(|handle| {
                        let item = items
                            .iter()
                            .find(|item| item.id == handle.id)
                            .ok_or_else(|| refusal(ErrorKind::NotFound, "ErrorItemNotFound"))?;
                        item.current()
                            .ok_or(Error::Incomplete("our property on the item"))
                    })
                    .collect()
            })
        })
    }

    fn update_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        changes: Vec<EventChange>,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(async move {
            self.record("update_events");
            let mut state = self.state();
            let state = &mut *state;
            let calendar = state
                .calendars
                .get_mut(&mailbox.as_str().to_ascii_lowercase())
                .ok_or_else(|| refusal(ErrorKind::MailboxNotFound, "ErrorNonExistentMailbox"))?;
            let mut results = Vec::new();
            for change in changes {
                let Some(item) = calendar
                    .items
                    .iter_mut()
                    .find(|item| item.id == change.handle.id && item.external_id.is_some())
                else {
                    results.push(Err(refusal(ErrorKind::NotFound, "ErrorItemNotFound")));
                    continue;
                };
                if state.concurrent_item_writes > 0 {
                    state.concurrent_item_writes -= 1;
                    item.version += 1;
                }
                if change.handle.version != Some(item.version.to_string()) {
                    results.push(Err(refusal(
                        ErrorKind::Conflict,
                        "ErrorIrresolvableConflict",
                    )));
                    continue;
                }
                state.updates.push(change.fields.clone());
                for field in change.fields {
                    item.apply(field);
                }
                item.version += 1;
                results.push(Ok(()));
            }
            Ok(results)
        })
    }

    fn delete_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        handles: &'a [ItemHandle],
        delete_type: DeleteType,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(async move {
            self.record("delete_events");
            self.state().delete_types.push(delete_type);
            self.with_items(mailbox, |items, _| {
                handles
                    .iter()
                    .map(|handle| {
                        // Only ours: a user's item is never deleted; one already gone is.
                        items.retain(|item| item.id != handle.id || item.external_id.is_none());
                        Ok(())
                    })
                    .collect()
            })
        })
    }
}
