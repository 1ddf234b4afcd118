//! `push`: the calendar push domain: events that MyTimetable owns, written to a user's calendar
//! by external id (upsert, delete, list, window sync), through `exchange`.
//!
//! Our items carry two `String` extended properties in the connector's own property set, the
//! private GUID `9448D9B9-3E57-4FB4-9449-F4A30737A76A` ([`calendar::PROPERTY_SET_ID`], fixed
//! forever): `ExternalId` (MyTimetable's id) and `ContentHash` (the hash of what was written,
//! [`Event::content_hash`]).
//!
//! Invariants:
//! - an item that does not carry our `ExternalId` property (in our set; a `PublicStrings`
//!   property of the same name is not ours) is never read beyond the view, changed or deleted;
//! - every input is validated before anything reaches Exchange ([`Event::new`], the window);
//! - writes to one mailbox's calendar are serialized inside the process ([`MailboxLocks`](crate::domain::lock::MailboxLocks));
//! - a create whose outcome is unknown (`exchange::Error::outcome_unknown`) is never resent
//!   blindly: the calendar is looked up by external id first, so a lost answer never makes two
//!   items;
//! - an update writes only the fields that differ plus the hash, with the `ChangeKey` of the
//!   read it was computed from; a stale key re-reads and retries, at most [`MAX_ATTEMPTS`] times;
//! - an unchanged event (same hash) writes nothing;
//! - no audit records: events are not permissions.
//!
//! Layout: `event` (the model and its validation), `tz` (IANA → Windows zones), `calendar`
//! (events ↔ EWS items), `diff` (the pure sync plan), `lock` (per-mailbox locks).
//! Entry types: [`Push`], [`Settings`], [`Event`], [`EventInput`], [`ExternalId`], [`Window`],
//! [`UpsertResult`], [`SyncReport`], [`StoredEvent`], [`Error`].

pub mod calendar;
pub mod diff;
pub mod event;
pub mod tz;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

pub use self::event::{Event, EventInput, ExternalId, InvalidEvent, ShowAs};
use crate::domain::{AccessMode, Mailbox};
use crate::ews::items::{CalendarItem, ItemId, ItemShape, PropertyPath};
use crate::ews::ops::create_item::CreateItem;
use crate::ews::ops::delete_item::{DeleteItem, DeleteType as EwsDeleteType};
use crate::ews::ops::find_item::{FindItem, FindItemView, Restriction};
use crate::ews::ops::get_folder::{BaseShape, DistinguishedFolderName, FolderIdRef};
use crate::ews::ops::get_item::GetItem;
use crate::ews::ops::update_item::{ConflictResolution, ItemChange, UpdateItem};
use crate::ews::{ErrorKind, ResponseCode, ResponseError};
use crate::exchange::{self, ActAs, Exchange};
use crate::push::calendar::Ours;
use crate::push::diff::Found;

/// Items per page of a lookup by external ids (a batch is at most 100 ids; most have none).
const LOOKUP_PAGE: u32 = 200;

/// Lookups and writes before a run of stale `ChangeKey`s or lost answers is given up.
pub const MAX_ATTEMPTS: u32 = 5;

/// The first wait before a view that cannot be narrowed asks again for the account's
/// find-count budget (the wait grows with each try, [`MAX_ATTEMPTS`] tries).
const FIND_BUDGET_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// The longest window a sync or list may span: Exchange's `CalendarView` limit (two years).
pub const MAX_WINDOW_DAYS: i64 = 730;

/// How Exchange deletes an item (config `push.delete_type`).
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

/// What `push` needs to run; filled by `config` (`[push]` and `exchange.access`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `delegate`: the service account opens the owner's calendar by delegate access (the mailbox
    /// in the folder id); `impersonation`: it acts as the owner.
    pub access: AccessMode,
    /// Items per CreateItem, UpdateItem, DeleteItem and GetItem request, 1 to 100.
    pub batch_size: usize,
    pub delete_type: DeleteType,
    /// `MaxEntriesReturned` of one `CalendarView`; a window holding more is split.
    pub view_max_entries: u32,
}

impl Settings {
    /// The defaults of `config`: batches of 50, `SoftDelete`, views of 1000 items.
    pub fn new(access: AccessMode) -> Settings {
        Settings {
            access,
            batch_size: 50,
            delete_type: DeleteType::SoftDelete,
            view_max_entries: 1000,
        }
    }
}

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

    fn overlaps(&self, event: &Event) -> bool {
        event.start < self.end && event.end > self.start
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertResult {
    Created,
    Updated,
    Unchanged,
}

impl UpsertResult {
    pub fn as_str(self) -> &'static str {
        match self {
            UpsertResult::Created => "created",
            UpsertResult::Updated => "updated",
            UpsertResult::Unchanged => "unchanged",
        }
    }
}

/// One event that a sync could not apply; the others were applied.
#[derive(Debug)]
pub struct ItemFailure {
    pub external_id: String,
    pub error: Error,
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub failed: Vec<ItemFailure>,
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

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Exchange(#[from] exchange::Error),
    /// Exchange refused the operation on this mailbox or item.
    #[error("exchange refused the operation with {code}")]
    Refused {
        kind: ErrorKind,
        code: String,
        message: Option<String>,
    },
    /// The input breaks a rule; nothing was sent.
    #[error(transparent)]
    Invalid(#[from] InvalidEvent),
    /// No event with this external id in the calendar.
    #[error("no event with the external id `{0}` in this calendar")]
    EventNotFound(String),
    /// The item kept changing between our read and our write, or answers kept getting lost.
    #[error("the event kept changing under us ({attempts} attempts)")]
    Conflict { attempts: u32 },
    #[error("exchange's answer lacks {0}")]
    Incomplete(&'static str),
}

impl Error {
    fn refused(response: &ResponseError) -> Error {
        Error::Refused {
            kind: response.kind(),
            code: response.effective_code().as_str().to_owned(),
            message: response.message_text.clone(),
        }
    }
}

/// Upsert, delete, list and sync of the connector's events. Cheap to share behind an `Arc`.
pub struct Push {
    exchange: Arc<Exchange>,
    settings: Settings,
    locks: crate::domain::lock::MailboxLocks,
}

impl Push {
    pub fn new(exchange: Arc<Exchange>, settings: Settings) -> Push {
        Push {
            exchange,
            settings,
            locks: crate::domain::lock::MailboxLocks::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The backend that serves the pushes (`backend` in API.md): EWS, the only one `push` speaks
    /// to so far (it calls `exchange` directly; see ARCHITECTURE.md).
    pub fn backend(&self) -> &'static str {
        "ews"
    }

    /// Makes the calendar hold `event` under its external id: creates it when absent, writes
    /// only the differing fields when its hash differs, nothing when it matches; extra items
    /// with the same external id (ours, from an earlier lost answer) are deleted.
    ///
    /// # Errors
    /// [`Error::Refused`] when Exchange refuses about this mailbox or item; [`Error::Conflict`]
    /// after [`MAX_ATTEMPTS`]; [`Error::Exchange`] when Exchange as a whole failed.
    #[tracing::instrument(skip(self, event), fields(mailbox = %mailbox, external_id = %event.external_id))]
    pub async fn upsert(&self, mailbox: &Mailbox, event: &Event) -> Result<UpsertResult, Error> {
        let _write_lock = self.locks.lock(mailbox.as_str()).await;
        let hash = event.content_hash();
        // What the event's item was made by, when an answer was lost: the lookup decides.
        let mut lost: Option<UpsertResult> = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let mut found = self.lookup(mailbox, &event.external_id).await?;
            if found.is_empty() {
                match self.create_one(mailbox, event).await {
                    Ok(()) => return Ok(UpsertResult::Created),
                    Err(Error::Exchange(error)) if error.outcome_unknown() => {
                        tracing::info!(attempt, %error, "the create's answer was lost; looking up before sending it again");
                        lost = Some(UpsertResult::Created);
                        continue;
                    }
                    Err(error) => return Err(error),
                }
            }
            // Keep the item that already holds the content, else the first; the rest are
            // duplicates of ours.
            let keep = found
                .iter()
                .position(|item| item.content_hash.as_deref() == Some(hash.as_str()))
                .unwrap_or(0);
            let kept = found.swap_remove(keep);
            if !found.is_empty() {
                tracing::warn!(
                    duplicates = found.len(),
                    "deleting duplicate items of this event"
                );
                let ids: Vec<ItemId> = found.into_iter().map(|item| item.item_id).collect();
                for result in self.delete_items(mailbox, &ids).await? {
                    result?;
                }
            }
            if kept.content_hash.as_deref() == Some(hash.as_str()) {
                return Ok(lost.unwrap_or(UpsertResult::Unchanged));
            }
            match self.update_items(mailbox, &[(event, kept.item_id)]).await {
                Ok(mut results) => match results.pop() {
                    Some(Ok(())) => return Ok(lost.unwrap_or(UpsertResult::Updated)),
                    Some(Err(Error::Refused {
                        kind: ErrorKind::Conflict | ErrorKind::NotFound,
                        code,
                        ..
                    })) => {
                        tracing::info!(attempt, %code, "the item changed or vanished under us; reading again");
                        lost.get_or_insert(UpsertResult::Updated);
                        continue;
                    }
                    Some(Err(error)) => return Err(error),
                    None => return Err(Error::Incomplete("an answer for the update")),
                },
                Err(Error::Exchange(error)) if error.outcome_unknown() => {
                    tracing::info!(attempt, %error, "the update's answer was lost; reading again");
                    lost.get_or_insert(UpsertResult::Updated);
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        Err(Error::Conflict {
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Deletes the event's item(s) by external id.
    ///
    /// # Errors
    /// [`Error::EventNotFound`] when the calendar holds none; otherwise as [`Push::upsert`].
    #[tracing::instrument(skip(self), fields(mailbox = %mailbox))]
    pub async fn delete(&self, mailbox: &Mailbox, external_id: &ExternalId) -> Result<(), Error> {
        let _write_lock = self.locks.lock(mailbox.as_str()).await;
        let found = self.lookup(mailbox, external_id).await?;
        if found.is_empty() {
            return Err(Error::EventNotFound(external_id.as_str().to_owned()));
        }
        let ids: Vec<ItemId> = found.into_iter().map(|item| item.item_id).collect();
        for result in self.delete_items(mailbox, &ids).await? {
            result?;
        }
        Ok(())
    }

    /// The connector's events in the window (the user's own items are left out unread).
    ///
    /// # Errors
    /// As [`Push::upsert`].
    #[tracing::instrument(skip(self), fields(mailbox = %mailbox))]
    pub async fn list(&self, mailbox: &Mailbox, window: Window) -> Result<Vec<StoredEvent>, Error> {
        let items = self.read_window(mailbox, window).await?;
        let mut events: Vec<StoredEvent> = items
            .iter()
            .filter_map(|item| {
                let ours = Ours::of(item)?;
                Some(StoredEvent {
                    external_id: ours.external_id,
                    subject: item.subject.clone(),
                    start: item.start.map(|start| start.with_timezone(&Utc)),
                    end: item.end.map(|end| end.with_timezone(&Utc)),
                    location: item.location.clone(),
                    categories: item.categories.clone(),
                    is_all_day: item.is_all_day_event.unwrap_or(false),
                    show_as: item.legacy_free_busy_status.and_then(calendar::show_as_of),
                    reminder_minutes_before_start: if item.reminder_is_set.unwrap_or(false) {
                        item.reminder_minutes_before_start
                    } else {
                        None
                    },
                    content_hash: ours.content_hash,
                })
            })
            .collect();
        events.sort_by(|a, b| (a.start, &a.external_id).cmp(&(b.start, &b.external_id)));
        Ok(events)
    }

    /// Makes the connector's events in `window` exactly `events`: creates, updates and deletes
    /// in batches of `batch_size`. A failure of one item is reported in
    /// [`SyncReport::failed`] and the others are still applied.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the external ids repeat or an event lies outside the window
    /// (nothing is sent); [`Error::Exchange`] when Exchange as a whole failed (what was applied
    /// before stays; a sync is idempotent, so the caller sends it again).
    #[tracing::instrument(skip(self, events), fields(mailbox = %mailbox, events = events.len()))]
    pub async fn sync(
        &self,
        mailbox: &Mailbox,
        window: Window,
        events: Vec<Event>,
    ) -> Result<SyncReport, Error> {
        let mut seen = HashSet::new();
        for (index, event) in events.iter().enumerate() {
            if !seen.insert(event.external_id.as_str()) {
                return Err(InvalidEvent::new(
                    format!("events[{index}].externalId"),
                    format!("repeats `{}`", event.external_id),
                )
                .into());
            }
            if !window.overlaps(event) {
                return Err(InvalidEvent::new(
                    format!("events[{index}].start"),
                    "must lie in the window: the event does not overlap [start, end)",
                )
                .into());
            }
        }
        let _write_lock = self.locks.lock(mailbox.as_str()).await;
        let items = self.read_window(mailbox, window).await?;
        let found: Vec<Found<ItemId>> = items
            .iter()
            .filter_map(Ours::of)
            .map(|ours| Found {
                handle: ours.item_id,
                external_id: ours.external_id,
                content_hash: ours.content_hash,
            })
            .collect();
        let external_ids: HashMap<String, String> = found
            .iter()
            .map(|item| (item.handle.id.clone(), item.external_id.clone()))
            .collect();
        let plan = diff::plan(&events, found);
        let mut report = SyncReport {
            unchanged: plan.unchanged.len(),
            ..SyncReport::default()
        };

        // An event missing from the window may still be ours elsewhere in the calendar (moved
        // into the window since the last sync): look the missing ids up, one request per batch,
        // so a move is an update of that item, never a second one.
        let missing: Vec<&Event> = plan.creates.iter().map(|index| &events[*index]).collect();
        let mut creates: Vec<&Event> = Vec::new();
        let mut moved: Vec<(&Event, ItemId)> = Vec::new();
        let mut deletes: Vec<ItemId> = plan.deletes;
        for batch in missing.chunks(self.batch_size()) {
            let mut elsewhere: HashMap<String, Vec<ItemId>> = HashMap::new();
            for ours in self.lookup_many(mailbox, batch).await? {
                elsewhere
                    .entry(ours.external_id)
                    .or_default()
                    .push(ours.item_id);
            }
            for event in batch {
                match elsewhere.remove(event.external_id.as_str()) {
                    Some(mut item_ids) => {
                        moved.push((*event, item_ids.remove(0)));
                        // Duplicates of ours (earlier versions' leftovers) go.
                        deletes.extend(item_ids);
                    }
                    None => creates.push(*event),
                }
            }
        }

        // Creates, batch by batch; a batch whose answer was lost is looked up before it is
        // sent again.
        for batch in creates.chunks(self.batch_size()) {
            self.create_batch(mailbox, window, batch, &mut report)
                .await?;
        }

        // Updates (including the moved ones), read and written in batches.
        let updates: Vec<(&Event, ItemId)> = plan
            .updates
            .into_iter()
            .map(|(index, item_id)| (&events[index], item_id))
            .chain(moved)
            .collect();
        for batch in updates.chunks(self.batch_size()) {
            let results = self.update_items(mailbox, batch).await?;
            for ((event, _), result) in batch.iter().zip(results) {
                match result {
                    Ok(()) => report.updated += 1,
                    Err(error) => report.failed.push(ItemFailure {
                        external_id: event.external_id.as_str().to_owned(),
                        error,
                    }),
                }
            }
        }

        // Deletes of ours that are not in the list, and duplicates.
        for batch in deletes.chunks(self.batch_size()) {
            let results = self.delete_items(mailbox, batch).await?;
            for (item_id, result) in batch.iter().zip(results) {
                match result {
                    Ok(()) => report.deleted += 1,
                    Err(error) => report.failed.push(ItemFailure {
                        external_id: external_ids.get(&item_id.id).cloned().unwrap_or_default(),
                        error,
                    }),
                }
            }
        }
        Ok(report)
    }

    // ---- the EWS calls ----------------------------------------------------------------------

    fn batch_size(&self) -> usize {
        self.settings.batch_size.clamp(1, 100)
    }

    fn act_as<'a>(&self, mailbox: &'a Mailbox) -> ActAs<'a> {
        match self.settings.access {
            AccessMode::Impersonation => ActAs::Owner(mailbox.as_str()),
            AccessMode::Delegate => ActAs::ServiceAccount(mailbox.as_str()),
        }
    }

    /// The mailbox's calendar: named by its owner for delegate access, plain when impersonating.
    fn calendar(&self, mailbox: &Mailbox) -> FolderIdRef {
        FolderIdRef::Distinguished {
            id: DistinguishedFolderName::Calendar,
            mailbox: match self.settings.access {
                AccessMode::Delegate => Some(mailbox.as_str().to_owned()),
                AccessMode::Impersonation => None,
            },
        }
    }

    /// Our items with this external id (a restriction on our property, paged).
    async fn lookup(
        &self,
        mailbox: &Mailbox,
        external_id: &ExternalId,
    ) -> Result<Vec<Ours>, Error> {
        self.find_ours(mailbox, &[external_id.as_str()], 10).await
    }

    /// Our items, anywhere in the calendar, whose external id is one of `events`' (one
    /// restriction: an `Or` of the ids).
    async fn lookup_many(&self, mailbox: &Mailbox, events: &[&Event]) -> Result<Vec<Ours>, Error> {
        let ids: Vec<&str> = events
            .iter()
            .map(|event| event.external_id.as_str())
            .collect();
        self.find_ours(mailbox, &ids, LOOKUP_PAGE).await
    }

    /// Our items whose external id is one of `ids` (`IsEqualTo`, or an `Or` of them), read in
    /// pages of `page` items; a property that only looks like ours is dropped.
    async fn find_ours(
        &self,
        mailbox: &Mailbox,
        ids: &[&str],
        page: u32,
    ) -> Result<Vec<Ours>, Error> {
        let equal_to = |id: &str| Restriction::IsEqualTo {
            path: PropertyPath::Extended(calendar::external_id_field()),
            value: id.to_owned(),
        };
        let restriction = match ids {
            [id] => equal_to(id),
            _ => Restriction::Or(ids.iter().map(|id| equal_to(id)).collect()),
        };
        let wanted: HashSet<&str> = ids.iter().copied().collect();
        let mut found = Vec::new();
        let mut offset = 0;
        loop {
            let operation = FindItem {
                item_shape: ItemShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: calendar::lookup_paths(),
                },
                view: FindItemView::IndexedPage {
                    max_entries: page,
                    offset,
                },
                restriction: Some(restriction.clone()),
                parent_folder: self.calendar(mailbox),
            };
            let answer = self.exchange.call(self.act_as(mailbox), &operation).await?;
            let page = single(answer.response)?;
            let count = page.items.len() as u32;
            found.extend(
                page.items
                    .iter()
                    .filter_map(Ours::of)
                    .filter(|ours| wanted.contains(ours.external_id.as_str())),
            );
            if page.includes_last_item_in_range || count == 0 {
                return Ok(found);
            }
            offset = page.indexed_paging_offset.unwrap_or(offset + count);
        }
    }

    /// Every item in the window, with our properties; a view that does not reach the window's
    /// end is split in two until each part fits. Items are deduplicated by id (one that spans
    /// both halves comes back twice).
    async fn read_window(
        &self,
        mailbox: &Mailbox,
        window: Window,
    ) -> Result<Vec<CalendarItem>, Error> {
        let mut pending = vec![(window.start, window.end)];
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut over_budget = 0u32;
        while let Some((start, end)) = pending.pop() {
            let operation = FindItem {
                item_shape: ItemShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: calendar::read_paths(false),
                },
                view: FindItemView::Calendar {
                    start,
                    end,
                    max_entries: self.settings.view_max_entries.max(1),
                },
                restriction: None,
                parent_folder: self.calendar(mailbox),
            };
            let answer = self.exchange.call(self.act_as(mailbox), &operation).await?;
            let page = match answer.response.into_iter().next() {
                Some(Ok(page)) => page,
                // Over the account's `EWSFindCountLimit` (a busy calendar, or this account's
                // other views holding the budget): the same split as a full view.
                Some(Err(response)) if response.find_count_exceeded() => {
                    if end - start < TimeDelta::minutes(2) {
                        over_budget += 1;
                        if over_budget > MAX_ATTEMPTS {
                            return Err(Error::refused(&response));
                        }
                        // Only the account's other answers can hold the budget now: wait for
                        // them to be sent, then ask again.
                        tokio::time::sleep(FIND_BUDGET_WAIT * over_budget).await;
                        pending.push((start, end));
                        continue;
                    }
                    let middle = start + (end - start) / 2;
                    tracing::debug!(%start, %end, "the view is over the find-count budget; splitting the window");
                    pending.push((middle, end));
                    pending.push((start, middle));
                    continue;
                }
                Some(Err(response)) => return Err(Error::refused(&response)),
                None => return Err(Error::Incomplete("a response message")),
            };
            if !page.includes_last_item_in_range {
                if end - start < TimeDelta::minutes(2) {
                    return Err(Error::Incomplete(
                        "a calendar view that fits: more items start in one minute than a view returns",
                    ));
                }
                let middle = start + (end - start) / 2;
                tracing::debug!(%start, %end, "the view is full; splitting the window");
                pending.push((middle, end));
                pending.push((start, middle));
                continue;
            }
            for item in page.items {
                let key = item.item_id.as_ref().map(|id| id.id.clone());
                if key.is_none_or(|id| seen.insert(id)) {
                    items.push(item);
                }
            }
        }
        Ok(items)
    }

    /// Creates one event.
    async fn create_one(&self, mailbox: &Mailbox, event: &Event) -> Result<(), Error> {
        let operation = CreateItem {
            saved_item_folder: self.calendar(mailbox),
            items: vec![calendar::wanted_item(event)],
        };
        let answer = self.exchange.call(self.act_as(mailbox), &operation).await?;
        single(answer.response).map(|_item_id| ())
    }

    /// Creates a batch for a sync. When the answer is lost, the window is read again and only
    /// the events still missing are sent again.
    async fn create_batch(
        &self,
        mailbox: &Mailbox,
        window: Window,
        batch: &[&Event],
        report: &mut SyncReport,
    ) -> Result<(), Error> {
        let mut pending: Vec<&Event> = batch.to_vec();
        for attempt in 1..=MAX_ATTEMPTS {
            let operation = CreateItem {
                saved_item_folder: self.calendar(mailbox),
                items: pending
                    .iter()
                    .map(|event| calendar::wanted_item(event))
                    .collect(),
            };
            match self.exchange.call(self.act_as(mailbox), &operation).await {
                Ok(answer) => {
                    if answer.response.len() != pending.len() {
                        return Err(Error::Incomplete("one answer per created item"));
                    }
                    for (event, result) in pending.iter().zip(answer.response) {
                        match result {
                            Ok(_) => report.created += 1,
                            Err(response) => report.failed.push(ItemFailure {
                                external_id: event.external_id.as_str().to_owned(),
                                error: Error::refused(&response),
                            }),
                        }
                    }
                    return Ok(());
                }
                Err(error) if error.outcome_unknown() => {
                    tracing::info!(attempt, %error, "a create batch's answer was lost; reading the window before sending it again");
                    let present: HashSet<String> = self
                        .read_window(mailbox, window)
                        .await?
                        .iter()
                        .filter_map(Ours::of)
                        .map(|ours| ours.external_id)
                        .collect();
                    let before = pending.len();
                    pending.retain(|event| !present.contains(event.external_id.as_str()));
                    report.created += before - pending.len();
                    if pending.is_empty() {
                        return Ok(());
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        for event in pending {
            report.failed.push(ItemFailure {
                external_id: event.external_id.as_str().to_owned(),
                error: Error::Conflict {
                    attempts: MAX_ATTEMPTS,
                },
            });
        }
        Ok(())
    }

    /// Updates items to their events: reads them (GetItem, for the current values and
    /// `ChangeKey`), writes the differing fields and the hash (UpdateItem, one batch), and
    /// retries those whose key went stale or whose answer was lost, from a fresh read. One
    /// result per input, in order.
    async fn update_items(
        &self,
        mailbox: &Mailbox,
        batch: &[(&Event, ItemId)],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        let mut results: Vec<Option<Result<(), Error>>> = (0..batch.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        for attempt in 1..=MAX_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let read = GetItem {
                item_shape: ItemShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: calendar::read_paths(true),
                },
                item_ids: pending
                    .iter()
                    .map(|index| ItemId {
                        id: batch[*index].1.id.clone(),
                        change_key: None,
                    })
                    .collect(),
            };
            let answer = self.exchange.call(self.act_as(mailbox), &read).await?;
            if answer.response.len() != pending.len() {
                return Err(Error::Incomplete("one answer per item read"));
            }
            let mut changes = Vec::new();
            let mut written = Vec::new();
            for (index, current) in pending.iter().copied().zip(answer.response) {
                let event = batch[index].0;
                let current = match current {
                    Ok(current) => current,
                    Err(response) => {
                        results[index] = Some(Err(Error::refused(&response)));
                        continue;
                    }
                };
                // Only our own items are ever updated: the id came from a read of our property.
                let Some(ours) = Ours::of(&current) else {
                    results[index] = Some(Err(Error::Incomplete("our property on the item")));
                    continue;
                };
                if ours.content_hash.as_deref() == Some(event.content_hash().as_str()) {
                    // An earlier write whose answer was lost did land.
                    results[index] = Some(Ok(()));
                    continue;
                }
                changes.push(ItemChange {
                    item_id: ours.item_id,
                    updates: calendar::changes(event, &current),
                });
                written.push(index);
            }
            if changes.is_empty() {
                pending.clear();
                break;
            }
            let operation = UpdateItem {
                conflict_resolution: ConflictResolution::NeverOverwrite,
                changes,
            };
            let mut retry = Vec::new();
            match self.exchange.call(self.act_as(mailbox), &operation).await {
                Ok(answer) => {
                    if answer.response.len() != written.len() {
                        return Err(Error::Incomplete("one answer per updated item"));
                    }
                    for (index, result) in written.into_iter().zip(answer.response) {
                        match result {
                            Ok(_) => results[index] = Some(Ok(())),
                            Err(response) if response.kind() == ErrorKind::Conflict => {
                                tracing::info!(attempt, code = %response.effective_code().as_str(), "a stale change key; reading again");
                                retry.push(index);
                            }
                            Err(response) => results[index] = Some(Err(Error::refused(&response))),
                        }
                    }
                }
                Err(error) if error.outcome_unknown() => {
                    tracing::info!(attempt, %error, "an update's answer was lost; reading again");
                    retry = written;
                }
                Err(error) => return Err(error.into()),
            }
            pending = retry;
        }
        Ok(results
            .into_iter()
            .map(|result| {
                result.unwrap_or(Err(Error::Conflict {
                    attempts: MAX_ATTEMPTS,
                }))
            })
            .collect())
    }

    /// Deletes items (ours: the ids come from reads of our property). `ErrorItemNotFound` means
    /// already gone: success. A lost answer sends the same delete once more (it is idempotent).
    async fn delete_items(
        &self,
        mailbox: &Mailbox,
        item_ids: &[ItemId],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        let operation = DeleteItem {
            delete_type: match self.settings.delete_type {
                DeleteType::HardDelete => EwsDeleteType::HardDelete,
                DeleteType::SoftDelete => EwsDeleteType::SoftDelete,
                DeleteType::MoveToDeletedItems => EwsDeleteType::MoveToDeletedItems,
            },
            item_ids: item_ids
                .iter()
                .map(|item_id| ItemId {
                    id: item_id.id.clone(),
                    change_key: None,
                })
                .collect(),
        };
        let answer = match self.exchange.call(self.act_as(mailbox), &operation).await {
            Err(error) if error.outcome_unknown() => {
                tracing::info!(%error, "a delete's answer was lost; sending it once more");
                self.exchange.call(self.act_as(mailbox), &operation).await?
            }
            other => other?,
        };
        if answer.response.len() != item_ids.len() {
            return Err(Error::Incomplete("one answer per deleted item"));
        }
        Ok(answer
            .response
            .into_iter()
            .map(|result| match result {
                Ok(()) => Ok(()),
                Err(response) if *response.effective_code() == ResponseCode::ErrorItemNotFound => {
                    Ok(())
                }
                Err(response) => Err(Error::refused(&response)),
            })
            .collect())
    }
}

/// The one response message of a single-item request.
fn single<T>(messages: Vec<crate::ews::ResponseMessage<T>>) -> Result<T, Error> {
    match messages.into_iter().next() {
        Some(Ok(value)) => Ok(value),
        Some(Err(response)) => Err(Error::refused(&response)),
        None => Err(Error::Incomplete("a response message")),
    }
}
