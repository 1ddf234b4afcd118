//! `push`: the calendar push domain: events that MyTimetable owns, written to a user's calendar
//! by external id (upsert, delete, list, window sync), through the backend seam
//! ([`CalendarBackend`]'s event half; EWS is `backend::ews`).
//!
//! Our items carry two string properties in the connector's own property set, the private GUID
//! `9448D9B9-3E57-4FB4-9449-F4A30737A76A` ([`calendar::PROPERTY_SET_ID`], fixed forever):
//! `ExternalId` (MyTimetable's id) and `ContentHash` (the hash of what was written,
//! [`Event::content_hash`]); the backend finds and returns only items that carry them.
//!
//! Invariants:
//! - an item that does not carry our `ExternalId` property is never read beyond the view,
//!   changed or deleted (the backend never returns one);
//! - every input is validated before anything reaches the backend ([`Event::new`], the window);
//! - writes to one mailbox's calendar are serialized inside the process ([`MailboxLocks`](crate::domain::lock::MailboxLocks));
//! - a create whose outcome is unknown (`backend::Error::outcome_unknown`) is never resent
//!   blindly: the calendar is looked up by external id first, so a lost answer never makes two
//!   items;
//! - an update writes only the fields that differ plus the hash ([`calendar::changes`]), with the
//!   version of the read it was computed from; a stale version re-reads and retries, at most
//!   [`MAX_ATTEMPTS`] times;
//! - an unchanged event (same hash) writes nothing;
//! - no audit records: events are not permissions.
//!
//! Layout: `calendar` (the field-level changes of an update), `diff` (the pure sync plan),
//! `memory_tests` (the rules against the in-memory backend); the event model (`event`, `tz`) and
//! the calendar's items (`domain::events`) are `domain`'s, re-exported here.
//! Entry types: [`Push`], [`Settings`], [`Event`], [`EventInput`], [`ExternalId`], [`Window`],
//! [`UpsertResult`], [`SyncReport`], [`StoredEvent`], [`Error`].

pub mod calendar;
pub mod diff;
#[cfg(test)]
mod memory_tests;
mod routed;
pub use crate::domain::{event, tz};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::backend::{self, CalendarBackend, ErrorKind, OpenAs};
pub use crate::domain::event::{Event, EventInput, ExternalId, InvalidEvent, ShowAs};
pub use crate::domain::events::{DeleteType, MAX_WINDOW_DAYS, StoredEvent, Window};
use crate::domain::events::{EventChange, ItemHandle, OurItem};
use crate::domain::{AccessMode, Mailbox};
use crate::push::diff::Found;

/// Lookups and writes before a run of stale versions or lost answers is given up.
pub const MAX_ATTEMPTS: u32 = 5;

/// What `push` needs to run; filled by `config` (`[push]` and `exchange.access`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `delegate`: the service account opens the owner's calendar by delegate access (the mailbox
    /// in the folder id); `impersonation`: it acts as the owner.
    pub access: AccessMode,
    /// Items per create, update, delete and read request, 1 to 100 (rounded up to a multiple of
    /// the backend's `batch_parts`: 20 on Graph).
    pub batch_size: usize,
    pub delete_type: DeleteType,
    /// At most this many items per view of a window (EWS `MaxEntriesReturned` of one
    /// `CalendarView`); a window holding more is split.
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

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend failed or refused the operation on this mailbox or item ([`backend::Error`],
    /// the one vocabulary of backend failures).
    #[error(transparent)]
    Backend(#[from] backend::Error),
    /// The input breaks a rule; nothing was sent.
    #[error(transparent)]
    Invalid(#[from] InvalidEvent),
    /// No event with this external id in the calendar.
    #[error("no event with the external id `{0}` in this calendar")]
    EventNotFound(String),
    /// The item kept changing between our read and our write, or answers kept getting lost.
    #[error("the event kept changing under us ({attempts} attempts)")]
    Conflict { attempts: u32 },
}

impl Error {
    /// Whether the operation may or may not have taken effect (an answer lost in transit).
    fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Backend(error) if error.outcome_unknown())
    }
}

/// Upsert, delete, list and sync of the connector's events. Cheap to share behind an `Arc`.
pub struct Push {
    backend: Arc<dyn CalendarBackend>,
    settings: Settings,
    locks: crate::domain::lock::MailboxLocks,
    /// With `[graph]`: the router and the Graph side (`routed.rs`).
    hybrid: Option<Box<routed::Hybrid>>,
}

impl Push {
    pub fn new(backend: Arc<dyn CalendarBackend>, settings: Settings) -> Push {
        Push {
            backend,
            settings,
            locks: crate::domain::lock::MailboxLocks::default(),
            hybrid: None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The backend that serves the pushes (`backend` in API.md).
    pub fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// Runs one push call in the backend's notes scope (`CalendarBackend::with_notes`): a
    /// mailbox named by an alias is followed to its primary address once per call, not once per
    /// request.
    pub async fn in_scope<'a, T: Send + 'a>(
        &'a self,
        call: impl std::future::Future<Output = T> + Send + 'a,
    ) -> T {
        let mut answer = None;
        let slot = &mut answer;
        self.backend
            .with_notes(Box::pin(async move {
                *slot = Some(call.await);
            }))
            .await;
        answer.expect("a backend's with_notes runs its work to the end")
    }

    /// Makes the calendar hold `event` under its external id: creates it when absent, writes
    /// only the differing fields when its hash differs, nothing when it matches; extra items
    /// with the same external id (ours, from an earlier lost answer) are deleted.
    ///
    /// # Errors
    /// [`Error::Refused`] when Exchange refuses about this mailbox or item; [`Error::Conflict`]
    /// after [`MAX_ATTEMPTS`]; [`Error::Exchange`] when Exchange as a whole failed.
    #[tracing::instrument(skip(self, event), fields(mailbox = %mailbox, external_id = %event.external_id))]
    pub(crate) async fn upsert_here(
        &self,
        mailbox: &Mailbox,
        event: &Event,
    ) -> Result<UpsertResult, Error> {
        let _write_lock = self.locks.lock(mailbox.as_str()).await;
        let hash = event.content_hash();
        // What the event's item was made by, when an answer was lost: the lookup decides.
        let mut lost: Option<UpsertResult> = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let mut found = self.lookup(mailbox, &event.external_id).await?;
            if found.is_empty() {
                match self.create_one(mailbox, event).await {
                    Ok(()) => return Ok(UpsertResult::Created),
                    Err(error) if error.outcome_unknown() => {
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
                let handles: Vec<ItemHandle> = found.into_iter().map(|item| item.handle).collect();
                for result in self.delete_items(mailbox, &handles).await? {
                    result?;
                }
            }
            if kept.content_hash.as_deref() == Some(hash.as_str()) {
                return Ok(lost.unwrap_or(UpsertResult::Unchanged));
            }
            match self.update_items(mailbox, &[(event, kept.handle)]).await {
                Ok(mut results) => match results.pop() {
                    Some(Ok(())) => return Ok(lost.unwrap_or(UpsertResult::Updated)),
                    Some(Err(Error::Backend(backend::Error::Refused {
                        kind: ErrorKind::Conflict | ErrorKind::NotFound,
                        code,
                        ..
                    }))) => {
                        tracing::info!(attempt, %code, "the item changed or vanished under us; reading again");
                        lost.get_or_insert(UpsertResult::Updated);
                        continue;
                    }
                    Some(Err(error)) => return Err(error),
                    None => {
                        return Err(Error::from(backend::Error::Incomplete(
                            "an answer for the update",
                        )));
                    }
                },
                Err(error) if error.outcome_unknown() => {
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
    pub(crate) async fn delete_here(
        &self,
        mailbox: &Mailbox,
        external_id: &ExternalId,
    ) -> Result<(), Error> {
        let _write_lock = self.locks.lock(mailbox.as_str()).await;
        let found = self.lookup(mailbox, external_id).await?;
        if found.is_empty() {
            return Err(Error::EventNotFound(external_id.as_str().to_owned()));
        }
        let handles: Vec<ItemHandle> = found.into_iter().map(|item| item.handle).collect();
        for result in self.delete_items(mailbox, &handles).await? {
            result?;
        }
        Ok(())
    }

    /// The connector's events in the window (the user's own items are left out unread).
    ///
    /// # Errors
    /// As [`Push::upsert`].
    #[tracing::instrument(skip(self), fields(mailbox = %mailbox))]
    pub(crate) async fn list_here(
        &self,
        mailbox: &Mailbox,
        window: Window,
    ) -> Result<Vec<StoredEvent>, Error> {
        let mut events: Vec<StoredEvent> = self
            .read_window(mailbox, window)
            .await?
            .into_iter()
            .map(|found| found.event)
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
    pub(crate) async fn sync_here(
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
        let found: Vec<Found<ItemHandle>> = self
            .read_window(mailbox, window)
            .await?
            .into_iter()
            .map(|found| Found {
                handle: found.handle,
                external_id: found.event.external_id,
                content_hash: found.event.content_hash,
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
        // into the window since the last sync): look the missing ids up, one lookup per batch,
        // so a move is an update of that item, never a second one.
        let missing: Vec<&Event> = plan.creates.iter().map(|index| &events[*index]).collect();
        let mut creates: Vec<&Event> = Vec::new();
        let mut moved: Vec<(&Event, ItemHandle)> = Vec::new();
        let mut deletes: Vec<ItemHandle> = plan.deletes;
        for batch in missing.chunks(self.batch_size()) {
            let mut elsewhere: HashMap<String, Vec<ItemHandle>> = HashMap::new();
            for ours in self.lookup_many(mailbox, batch).await? {
                elsewhere
                    .entry(ours.external_id)
                    .or_default()
                    .push(ours.handle);
            }
            for event in batch {
                match elsewhere.remove(event.external_id.as_str()) {
                    Some(mut handles) => {
                        moved.push((*event, handles.remove(0)));
                        // Duplicates of ours (earlier versions' leftovers) go.
                        deletes.extend(handles);
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
        let updates: Vec<(&Event, ItemHandle)> = plan
            .updates
            .into_iter()
            .map(|(index, handle)| (&events[index], handle))
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
            for (handle, result) in batch.iter().zip(results) {
                match result {
                    Ok(()) => report.deleted += 1,
                    Err(error) => report.failed.push(ItemFailure {
                        external_id: external_ids.get(&handle.id).cloned().unwrap_or_default(),
                        error,
                    }),
                }
            }
        }
        Ok(report)
    }

    // ---- the backend calls ------------------------------------------------------------------

    /// `batch_size` (1 to 100), rounded up to a multiple of the backend's batch parts (Graph:
    /// 20, so 50 is 60: 500 creates are 25 `$batch` requests, not 30).
    fn batch_size(&self) -> usize {
        let parts = self.backend.batch_parts().clamp(1, 100);
        self.settings.batch_size.clamp(1, 100).div_ceil(parts) * parts
    }

    /// Who opens the calendar: the owner when impersonating, else the service account by
    /// delegate access.
    fn who(&self) -> OpenAs {
        match self.settings.access {
            AccessMode::Impersonation => OpenAs::Owner,
            AccessMode::Delegate | AccessMode::Application => OpenAs::ServiceAccount,
        }
    }

    /// Our items with this external id.
    async fn lookup(
        &self,
        mailbox: &Mailbox,
        external_id: &ExternalId,
    ) -> Result<Vec<OurItem>, Error> {
        let ids = [external_id.as_str()];
        Ok(self
            .backend
            .find_by_external_ids(mailbox, self.who(), &ids)
            .await?)
    }

    /// Our items, anywhere in the calendar, whose external id is one of `events'` (one lookup).
    async fn lookup_many(
        &self,
        mailbox: &Mailbox,
        events: &[&Event],
    ) -> Result<Vec<OurItem>, Error> {
        let ids: Vec<&str> = events
            .iter()
            .map(|event| event.external_id.as_str())
            .collect();
        Ok(self
            .backend
            .find_by_external_ids(mailbox, self.who(), &ids)
            .await?)
    }

    /// Our events in the window, read whole.
    async fn read_window(
        &self,
        mailbox: &Mailbox,
        window: Window,
    ) -> Result<Vec<crate::domain::events::FoundEvent>, Error> {
        Ok(self
            .backend
            .find_events(mailbox, self.who(), window, self.settings.view_max_entries)
            .await?)
    }

    /// Creates one event.
    async fn create_one(&self, mailbox: &Mailbox, event: &Event) -> Result<(), Error> {
        let events = [event];
        let mut results = self
            .backend
            .create_events(mailbox, self.who(), &events)
            .await?;
        match results.pop() {
            Some(result) => Ok(result?),
            None => Err(Error::from(backend::Error::Incomplete(
                "a response message",
            ))),
        }
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
            match self
                .backend
                .create_events(mailbox, self.who(), &pending)
                .await
            {
                Ok(results) => {
                    for (event, result) in pending.iter().zip(results) {
                        match result {
                            Ok(()) => report.created += 1,
                            Err(error) => report.failed.push(ItemFailure {
                                external_id: event.external_id.as_str().to_owned(),
                                error: error.into(),
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
                        .into_iter()
                        .map(|found| found.event.external_id)
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

    /// Updates items to their events: reads them (for the current values and version), writes
    /// the differing fields and the hash (one batch), and retries those whose version went stale
    /// or whose answer was lost, from a fresh read. One result per input, in order.
    async fn update_items(
        &self,
        mailbox: &Mailbox,
        batch: &[(&Event, ItemHandle)],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        let mut results: Vec<Option<Result<(), Error>>> = (0..batch.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        for attempt in 1..=MAX_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let handles: Vec<ItemHandle> = pending
                .iter()
                .map(|index| batch[*index].1.unversioned())
                .collect();
            let read = self
                .backend
                .read_events(mailbox, self.who(), &handles)
                .await?;
            let mut changes = Vec::new();
            let mut written = Vec::new();
            for (index, current) in pending.iter().copied().zip(read) {
                let event = batch[index].0;
                let current = match current {
                    Ok(current) => current,
                    Err(error) => {
                        results[index] = Some(Err(error.into()));
                        continue;
                    }
                };
                if current.content_hash.as_deref() == Some(event.content_hash().as_str()) {
                    // An earlier write whose answer was lost did land.
                    results[index] = Some(Ok(()));
                    continue;
                }
                changes.push(EventChange {
                    fields: calendar::changes(event, &current),
                    handle: current.handle,
                });
                written.push(index);
            }
            if changes.is_empty() {
                pending.clear();
                break;
            }
            let mut retry = Vec::new();
            match self
                .backend
                .update_events(mailbox, self.who(), changes)
                .await
            {
                Ok(answers) => {
                    for (index, result) in written.into_iter().zip(answers) {
                        match result {
                            Ok(()) => results[index] = Some(Ok(())),
                            Err(backend::Error::Refused {
                                kind: ErrorKind::Conflict,
                                code,
                                ..
                            }) => {
                                tracing::info!(attempt, %code, "a stale version; reading again");
                                retry.push(index);
                            }
                            Err(error) => results[index] = Some(Err(error.into())),
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

    /// Deletes items (ours: the handles come from reads of our property); one already gone is
    /// deleted. A lost answer sends the same delete once more (it is idempotent).
    async fn delete_items(
        &self,
        mailbox: &Mailbox,
        handles: &[ItemHandle],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        let delete_type = self.settings.delete_type;
        let results = match self
            .backend
            .delete_events(mailbox, self.who(), handles, delete_type)
            .await
        {
            Err(error) if error.outcome_unknown() => {
                tracing::info!(%error, "a delete's answer was lost; sending it once more");
                self.backend
                    .delete_events(mailbox, self.who(), handles, delete_type)
                    .await?
            }
            other => other?,
        };
        Ok(results
            .into_iter()
            .map(|result| result.map_err(Error::from))
            .collect())
    }
}
