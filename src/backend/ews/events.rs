//! The event half of [`EwsBackend`](super::EwsBackend): the connector's events as EWS calendar
//! items (FindItem by window and by external id, GetItem, CreateItem, UpdateItem, DeleteItem),
//! moved here from `push` unchanged in what goes on the wire.
//!
//! Invariants:
//! - an item is ours only when it carries the `ExternalId` property in our property set
//!   ([`PROPERTY_SET_ID`]; a `PublicStrings` property or another set's with the same name is
//!   not); any other item is dropped unread;
//! - a window is read whole or not at all: a view that is full or over the account's find-count
//!   budget (`ErrorExceededFindCountLimit`) is split until each part fits, never read in part;
//! - an update writes exactly the [`FieldChange`]s it is given, each as one `SetItemField` or
//!   `DeleteItemField`, with the `ChangeKey` of the read (`NeverOverwrite`: a stale key is
//!   refused as a conflict, never overwritten);
//! - `ErrorItemNotFound` on a delete means already gone: deleted;
//! - instants are written in UTC; nothing here mails anyone (`ews` writes `SendToNone`).

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};

use super::EwsBackend;
use crate::backend::{Error, OpenAs, PerItem};
use crate::domain::Mailbox;
use crate::domain::event::{Event, ShowAs};
use crate::domain::events::{
    CONTENT_HASH_PROPERTY, CurrentEvent, DeleteType, EXTERNAL_ID_PROPERTY, EventChange,
    FieldChange, FoundEvent, ItemHandle, OurItem, PROPERTY_SET_ID, StoredBody, StoredEvent, Window,
};
use crate::ews::items::{
    Body, BodyType, CalendarItem, ExtendedFieldUri, ExtendedProperty, ItemField, ItemId, ItemShape,
    LegacyFreeBusyStatus, MapiPropertyType, PropertyPath, PropertySet,
};
use crate::ews::ops::Operation;
use crate::ews::ops::create_item::CreateItem;
use crate::ews::ops::delete_item::{DeleteItem, DeleteType as EwsDeleteType};
use crate::ews::ops::find_item::{FindItem, FindItemView, Restriction};
use crate::ews::ops::get_folder::{BaseShape, DistinguishedFolderName, FolderIdRef};
use crate::ews::ops::get_item::GetItem;
use crate::ews::ops::update_item::{ConflictResolution, ItemChange, ItemUpdate, UpdateItem};
use crate::ews::{ResponseCode, ResponseError, ResponseMessage};
use crate::exchange::ActAs;

/// Items per page of a lookup of one external id.
const LOOKUP_ONE_PAGE: u32 = 10;
/// Items per page of a lookup of several (a batch is at most 100 ids; most have none).
const LOOKUP_PAGE: u32 = 200;
/// Asks for the find-count budget of a view that cannot be narrowed before giving up.
const FIND_BUDGET_TRIES: u32 = 5;
/// The first wait before such a view asks again (the wait grows with each try).
const FIND_BUDGET_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// `ExternalId` in our property set.
pub fn external_id_field() -> ExtendedFieldUri {
    our_field(EXTERNAL_ID_PROPERTY)
}

/// `ContentHash` in our property set.
pub fn content_hash_field() -> ExtendedFieldUri {
    our_field(CONTENT_HASH_PROPERTY)
}

fn our_field(name: &str) -> ExtendedFieldUri {
    ExtendedFieldUri {
        property_set: PropertySet::Guid(PROPERTY_SET_ID.to_owned()),
        property_name: name.to_owned(),
        property_type: MapiPropertyType::String,
    }
}

/// Whether `field` is our property `name`: our GUID in any case, the name exactly, a string.
fn is_ours(field: &ExtendedFieldUri, name: &str) -> bool {
    matches!(&field.property_set, PropertySet::Guid(guid) if guid.eq_ignore_ascii_case(PROPERTY_SET_ID))
        && field.property_name == name
        && field.property_type == MapiPropertyType::String
}

fn handle_of(item_id: &ItemId) -> ItemHandle {
    ItemHandle {
        id: item_id.id.clone(),
        version: item_id.change_key.clone(),
    }
}

/// What a batched item operation's answer lacks when it holds another number of messages than
/// the request held inputs.
fn one_answer_per(operation: &str) -> &'static str {
    match operation {
        "CreateItem" => "one answer per created item",
        "GetItem" => "one answer per item read",
        "UpdateItem" => "one answer per updated item",
        "DeleteItem" => "one answer per deleted item",
        _ => "one answer per item",
    }
}

/// The items' ids without their versions (a read or a delete needs none).
fn unversioned_ids(items: &[ItemHandle]) -> Vec<ItemId> {
    items
        .iter()
        .map(|handle| item_id_of(&handle.unversioned()))
        .collect()
}

fn item_id_of(handle: &ItemHandle) -> ItemId {
    ItemId {
        id: handle.id.clone(),
        change_key: handle.version.clone(),
    }
}

/// `Some` when `item` carries our `ExternalId` property and an id; `None` for a user's own item,
/// which the caller then drops unread.
pub fn ours(item: &CalendarItem) -> Option<OurItem> {
    let value_of = |name: &str| {
        item.extended_properties
            .iter()
            .find(|property| is_ours(&property.field, name))
            .map(|property| property.value.clone())
    };
    let external_id = value_of(EXTERNAL_ID_PROPERTY)?;
    let handle = handle_of(item.item_id.as_ref()?);
    Some(OurItem {
        handle,
        external_id,
        content_hash: value_of(CONTENT_HASH_PROPERTY),
    })
}

/// The paths a read asks for: everything the connector writes, our two properties, and the
/// item type. `with_body` adds the body, which `FindItem` cannot return.
pub fn read_paths(with_body: bool) -> Vec<PropertyPath> {
    let mut fields = vec![ItemField::Subject];
    if with_body {
        fields.push(ItemField::Body);
    }
    fields.extend([
        ItemField::Categories,
        ItemField::ReminderIsSet,
        ItemField::ReminderMinutesBeforeStart,
        ItemField::Start,
        ItemField::End,
        ItemField::IsAllDayEvent,
        ItemField::LegacyFreeBusyStatus,
        ItemField::Location,
        ItemField::CalendarItemType,
    ]);
    if with_body {
        fields.extend([ItemField::StartTimeZone, ItemField::EndTimeZone]);
    }
    let mut paths: Vec<PropertyPath> = fields.into_iter().map(PropertyPath::Field).collect();
    paths.push(PropertyPath::Extended(external_id_field()));
    paths.push(PropertyPath::Extended(content_hash_field()));
    paths
}

/// The paths of a lookup by external id: our two properties only.
pub fn lookup_paths() -> Vec<PropertyPath> {
    vec![
        PropertyPath::Extended(external_id_field()),
        PropertyPath::Extended(content_hash_field()),
    ]
}

fn free_busy(show_as: ShowAs) -> LegacyFreeBusyStatus {
    match show_as {
        ShowAs::Free => LegacyFreeBusyStatus::Free,
        ShowAs::Tentative => LegacyFreeBusyStatus::Tentative,
        ShowAs::Busy => LegacyFreeBusyStatus::Busy,
        ShowAs::Oof => LegacyFreeBusyStatus::Oof,
        ShowAs::WorkingElsewhere => LegacyFreeBusyStatus::WorkingElsewhere,
    }
}

/// The API's `showAs` for a stored free/busy status (`NoData` has none).
pub fn show_as_of(status: LegacyFreeBusyStatus) -> Option<ShowAs> {
    Some(match status {
        LegacyFreeBusyStatus::Free => ShowAs::Free,
        LegacyFreeBusyStatus::Tentative => ShowAs::Tentative,
        LegacyFreeBusyStatus::Busy => ShowAs::Busy,
        LegacyFreeBusyStatus::Oof => ShowAs::Oof,
        LegacyFreeBusyStatus::WorkingElsewhere => ShowAs::WorkingElsewhere,
        _ => return None,
    })
}

fn utc(value: Option<DateTime<chrono::FixedOffset>>) -> Option<DateTime<Utc>> {
    value.map(|time| time.with_timezone(&Utc))
}

/// The whole item a create writes: every field, both our properties, the zone as Windows id.
pub fn wanted_item(event: &Event) -> CalendarItem {
    CalendarItem {
        item_id: None,
        subject: Some(event.subject.clone()),
        body: event.body.as_ref().map(|text| Body {
            body_type: BodyType::Text,
            text: text.clone(),
        }),
        categories: event.categories.clone(),
        reminder_is_set: Some(event.reminder_minutes_before_start.is_some()),
        reminder_minutes_before_start: event.reminder_minutes_before_start,
        extended_properties: vec![
            ExtendedProperty {
                field: external_id_field(),
                value: event.external_id.as_str().to_owned(),
            },
            ExtendedProperty {
                field: content_hash_field(),
                value: event.content_hash(),
            },
        ],
        start: Some(event.start.fixed_offset()),
        end: Some(event.end.fixed_offset()),
        is_all_day_event: Some(event.is_all_day),
        legacy_free_busy_status: Some(free_busy(event.show_as)),
        location: event.location.clone(),
        calendar_item_type: None,
        start_time_zone: Some(event.zone.windows.to_owned()),
        end_time_zone: Some(event.zone.windows.to_owned()),
    }
}

/// An item of a window as the API lists it.
fn stored_event(item: &CalendarItem, ours: &OurItem) -> StoredEvent {
    StoredEvent {
        external_id: ours.external_id.clone(),
        subject: item.subject.clone(),
        start: utc(item.start),
        end: utc(item.end),
        location: item.location.clone(),
        categories: item.categories.clone(),
        is_all_day: item.is_all_day_event.unwrap_or(false),
        show_as: item.legacy_free_busy_status.and_then(show_as_of),
        reminder_minutes_before_start: if item.reminder_is_set.unwrap_or(false) {
            item.reminder_minutes_before_start
        } else {
            None
        },
        content_hash: ours.content_hash.clone(),
    }
}

/// An item read with [`read_paths`]`(true)`, in the domain's words (`None`: not ours).
pub fn current_event(item: CalendarItem) -> Option<CurrentEvent> {
    let ours = ours(&item)?;
    Some(CurrentEvent {
        handle: ours.handle,
        external_id: ours.external_id,
        content_hash: ours.content_hash,
        subject: item.subject,
        body: item.body.map(|body| StoredBody {
            text: body.text,
            html: body.body_type == BodyType::Html,
        }),
        categories: item.categories,
        reminder_is_set: item.reminder_is_set.unwrap_or(false),
        reminder_minutes_before_start: item.reminder_minutes_before_start,
        start: utc(item.start),
        end: utc(item.end),
        is_all_day: item.is_all_day_event.unwrap_or(false),
        show_as: item.legacy_free_busy_status.and_then(show_as_of),
        location: item.location,
        start_time_zone: item.start_time_zone,
        end_time_zone: item.end_time_zone,
    })
}

/// One field change as EWS writes it: a `SetItemField` of an item holding only that property,
/// or a `DeleteItemField`.
pub fn item_update(change: FieldChange) -> ItemUpdate {
    let set = |item: CalendarItem| ItemUpdate::Set(item);
    let delete = |field: ItemField| ItemUpdate::Delete(PropertyPath::Field(field));
    let empty = CalendarItem::default;
    match change {
        FieldChange::Subject(subject) => set(CalendarItem {
            subject: Some(subject),
            ..empty()
        }),
        FieldChange::Body(None) => delete(ItemField::Body),
        FieldChange::Body(Some(text)) => set(CalendarItem {
            body: Some(Body {
                body_type: BodyType::Text,
                text,
            }),
            ..empty()
        }),
        FieldChange::Categories(categories) if categories.is_empty() => {
            delete(ItemField::Categories)
        }
        FieldChange::Categories(categories) => set(CalendarItem {
            categories,
            ..empty()
        }),
        FieldChange::ReminderIsSet(is_set) => set(CalendarItem {
            reminder_is_set: Some(is_set),
            ..empty()
        }),
        FieldChange::ReminderMinutesBeforeStart(minutes) => set(CalendarItem {
            reminder_minutes_before_start: Some(minutes),
            ..empty()
        }),
        FieldChange::Start(start) => set(CalendarItem {
            start: Some(start.fixed_offset()),
            ..empty()
        }),
        FieldChange::End(end) => set(CalendarItem {
            end: Some(end.fixed_offset()),
            ..empty()
        }),
        FieldChange::IsAllDay(all_day) => set(CalendarItem {
            is_all_day_event: Some(all_day),
            ..empty()
        }),
        FieldChange::ShowAs(show_as) => set(CalendarItem {
            legacy_free_busy_status: Some(free_busy(show_as)),
            ..empty()
        }),
        FieldChange::Location(None) => delete(ItemField::Location),
        FieldChange::Location(Some(location)) => set(CalendarItem {
            location: Some(location),
            ..empty()
        }),
        FieldChange::StartTimeZone(zone) => set(CalendarItem {
            start_time_zone: Some(zone),
            ..empty()
        }),
        FieldChange::EndTimeZone(zone) => set(CalendarItem {
            end_time_zone: Some(zone),
            ..empty()
        }),
        FieldChange::ContentHash(hash) => set(CalendarItem {
            extended_properties: vec![ExtendedProperty {
                field: content_hash_field(),
                value: hash,
            }],
            ..empty()
        }),
    }
}

/// A response message's error as a refusal.
fn refused(response: ResponseError) -> Error {
    Error::Refused {
        kind: response.kind(),
        code: response.effective_code().as_str().to_owned(),
        message: response.message_text,
    }
}

/// The one response message of a single-item request.
fn single<T>(messages: Vec<ResponseMessage<T>>) -> Result<T, Error> {
    match messages.into_iter().next() {
        Some(Ok(value)) => Ok(value),
        Some(Err(response)) => Err(refused(response)),
        None => Err(Error::Incomplete("a response message")),
    }
}

fn act_as(mailbox: &Mailbox, who: OpenAs) -> ActAs<'_> {
    match who {
        OpenAs::Owner => ActAs::Owner(mailbox.as_str()),
        OpenAs::ServiceAccount => ActAs::ServiceAccount(mailbox.as_str()),
    }
}

/// The mailbox's calendar: named by its owner when the service account opens it (delegate
/// access), plain when impersonating.
fn calendar(mailbox: &Mailbox, who: OpenAs) -> FolderIdRef {
    FolderIdRef::Distinguished {
        id: DistinguishedFolderName::Calendar,
        mailbox: match who {
            OpenAs::ServiceAccount => Some(mailbox.as_str().to_owned()),
            OpenAs::Owner => None,
        },
    }
}

impl EwsBackend {
    /// Every one of our items in the window; a view that does not reach the window's end is
    /// split in two until each part fits. Items are deduplicated by id (one that spans both
    /// halves comes back twice).
    pub(super) async fn read_window(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        window: Window,
        view_max_entries: u32,
    ) -> Result<Vec<FoundEvent>, Error> {
        let mut pending = vec![(window.start, window.end)];
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        let mut over_budget = 0u32;
        while let Some((start, end)) = pending.pop() {
            let operation = FindItem {
                item_shape: ItemShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: read_paths(false),
                },
                view: FindItemView::Calendar {
                    start,
                    end,
                    max_entries: view_max_entries.max(1),
                },
                restriction: None,
                parent_folder: calendar(mailbox, who),
            };
            let answer = self.exchange.call(act_as(mailbox, who), &operation).await?;
            let page = match answer.response.into_iter().next() {
                Some(Ok(page)) => page,
                // Over the account's `EWSFindCountLimit` (a busy calendar, or this account's
                // other views holding the budget): the same split as a full view.
                Some(Err(response)) if response.find_count_exceeded() => {
                    if end - start < TimeDelta::minutes(2) {
                        over_budget += 1;
                        if over_budget > FIND_BUDGET_TRIES {
                            return Err(refused(response));
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
                Some(Err(response)) => return Err(refused(response)),
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
            for item in &page.items {
                let Some(ours) = ours(item) else {
                    continue;
                };
                if seen.insert(ours.handle.id.clone()) {
                    found.push(FoundEvent {
                        event: stored_event(item, &ours),
                        handle: ours.handle,
                    });
                }
            }
        }
        Ok(found)
    }

    /// Our items whose external id is one of `ids` (`IsEqualTo`, or an `Or` of them), read in
    /// pages; a property that only looks like ours is dropped.
    pub(super) async fn find_ours(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        ids: &[&str],
    ) -> Result<Vec<OurItem>, Error> {
        let equal_to = |id: &str| Restriction::IsEqualTo {
            path: PropertyPath::Extended(external_id_field()),
            value: id.to_owned(),
        };
        let (restriction, page) = match ids {
            [] => return Ok(Vec::new()),
            [id] => (equal_to(id), LOOKUP_ONE_PAGE),
            _ => (
                Restriction::Or(ids.iter().map(|id| equal_to(id)).collect()),
                LOOKUP_PAGE,
            ),
        };
        let wanted: HashSet<&str> = ids.iter().copied().collect();
        let mut found = Vec::new();
        let mut offset = 0;
        loop {
            let operation = FindItem {
                item_shape: ItemShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: lookup_paths(),
                },
                view: FindItemView::IndexedPage {
                    max_entries: page,
                    offset,
                },
                restriction: Some(restriction.clone()),
                parent_folder: calendar(mailbox, who),
            };
            let answer = self.exchange.call(act_as(mailbox, who), &operation).await?;
            let page = single(answer.response)?;
            let count = page.items.len() as u32;
            found.extend(
                page.items
                    .iter()
                    .filter_map(ours)
                    .filter(|ours| wanted.contains(ours.external_id.as_str())),
            );
            if page.includes_last_item_in_range || count == 0 {
                return Ok(found);
            }
            offset = page.indexed_paging_offset.unwrap_or(offset + count);
        }
    }

    pub(super) async fn create(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        events: &[&Event],
    ) -> Result<PerItem<()>, Error> {
        let operation = CreateItem {
            saved_item_folder: calendar(mailbox, who),
            items: events.iter().map(|event| wanted_item(event)).collect(),
        };
        let answers = self
            .call_per_item(mailbox, who, &operation, events.len())
            .await?;
        Ok(answers
            .into_iter()
            .map(|result| result.map(|_item_id| ()).map_err(refused))
            .collect())
    }

    /// Sends a batched operation and returns its answers, one per input (`count`); an answer
    /// with another number of messages is `Incomplete` ([`one_answer_per`]).
    async fn call_per_item<O, R>(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        operation: &O,
        count: usize,
    ) -> Result<Vec<R>, Error>
    where
        O: Operation<Response = Vec<R>> + Sync,
    {
        let answer = self.exchange.call(act_as(mailbox, who), operation).await?;
        if answer.response.len() != count {
            return Err(Error::Incomplete(one_answer_per(O::NAME)));
        }
        Ok(answer.response)
    }

    pub(super) async fn read(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        items: &[ItemHandle],
    ) -> Result<PerItem<CurrentEvent>, Error> {
        let operation = GetItem {
            item_shape: ItemShape {
                base_shape: BaseShape::IdOnly,
                additional_properties: read_paths(true),
            },
            item_ids: unversioned_ids(items),
        };
        let answers = self
            .call_per_item(mailbox, who, &operation, items.len())
            .await?;
        Ok(answers
            .into_iter()
            .map(|result| match result {
                // Only our own items are ever updated: the id came from a read of our property.
                Ok(item) => {
                    current_event(item).ok_or(Error::Incomplete("our property on the item"))
                }
                Err(response) => Err(refused(response)),
            })
            .collect())
    }

    pub(super) async fn update(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        changes: Vec<EventChange>,
    ) -> Result<PerItem<()>, Error> {
        let count = changes.len();
        let operation = UpdateItem {
            conflict_resolution: ConflictResolution::NeverOverwrite,
            changes: changes
                .into_iter()
                .map(|change| ItemChange {
                    item_id: item_id_of(&change.handle),
                    updates: change.fields.into_iter().map(item_update).collect(),
                })
                .collect(),
        };
        let answers = self.call_per_item(mailbox, who, &operation, count).await?;
        Ok(answers
            .into_iter()
            .map(|result| result.map(|_item_id| ()).map_err(refused))
            .collect())
    }

    pub(super) async fn delete(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        items: &[ItemHandle],
        delete_type: DeleteType,
    ) -> Result<PerItem<()>, Error> {
        let operation = DeleteItem {
            delete_type: match delete_type {
                DeleteType::HardDelete => EwsDeleteType::HardDelete,
                DeleteType::SoftDelete => EwsDeleteType::SoftDelete,
                DeleteType::MoveToDeletedItems => EwsDeleteType::MoveToDeletedItems,
            },
            item_ids: unversioned_ids(items),
        };
        let answers = self
            .call_per_item(mailbox, who, &operation, items.len())
            .await?;
        Ok(answers
            .into_iter()
            .map(|result| match result {
                Ok(()) => Ok(()),
                Err(response) if *response.effective_code() == ResponseCode::ErrorItemNotFound => {
                    Ok(())
                }
                Err(response) => Err(refused(response)),
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

    /// The item as Exchange would give it back after a create, with the times in another
    /// offset than they were written with.
    fn stored(event: &Event) -> CalendarItem {
        let mut item = wanted_item(event);
        item.item_id = Some(ItemId {
            id: "AAMk1".to_owned(),
            change_key: Some("CK1".to_owned()),
        });
        item.start = item
            .start
            .map(|start| start.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap()));
        item
    }

    #[test]
    fn only_our_guid_makes_an_item_ours() {
        let event = event("A");
        let mut item = stored(&event);
        assert_eq!(ours(&item).unwrap().external_id, "mytt:1");
        // The same property name in PublicStrings is someone else's.
        for property in &mut item.extended_properties {
            property.field.property_set = PropertySet::PublicStrings;
        }
        assert!(ours(&item).is_none());
        assert!(current_event(item).is_none());
        // Our GUID in lower case is still ours.
        let mut lower = stored(&event);
        for property in &mut lower.extended_properties {
            property.field.property_set = PropertySet::Guid(PROPERTY_SET_ID.to_ascii_lowercase());
        }
        assert!(ours(&lower).is_some());
    }

    #[test]
    fn an_item_read_back_keeps_its_change_key_and_instants() {
        let event = event("A");
        let current = current_event(stored(&event)).unwrap();
        assert_eq!(current.handle.version.as_deref(), Some("CK1"));
        assert_eq!(current.start, Some(event.start));
        assert_eq!(current.content_hash, Some(event.content_hash()));
        assert_eq!(current.start_time_zone.as_deref(), Some(event.zone.windows));
        assert_eq!(
            current.body,
            Some(StoredBody {
                text: "Lecturer: A. Turing".to_owned(),
                html: false
            })
        );
    }

    #[test]
    fn each_change_sets_exactly_one_property_or_deletes_one_field() {
        let changes = [
            FieldChange::Subject("S".to_owned()),
            FieldChange::Body(Some("B".to_owned())),
            FieldChange::Categories(vec!["C".to_owned()]),
            FieldChange::ReminderIsSet(true),
            FieldChange::ReminderMinutesBeforeStart(5),
            FieldChange::Start(Utc::now()),
            FieldChange::End(Utc::now()),
            FieldChange::IsAllDay(false),
            FieldChange::ShowAs(ShowAs::Free),
            FieldChange::Location(Some("L".to_owned())),
            FieldChange::StartTimeZone("W. Europe Standard Time".to_owned()),
            FieldChange::EndTimeZone("W. Europe Standard Time".to_owned()),
            FieldChange::ContentHash("h".to_owned()),
        ];
        for change in changes {
            let ItemUpdate::Set(item) = item_update(change.clone()) else {
                panic!("{change:?} is not a Set");
            };
            assert_eq!(item.present_paths().len(), 1, "{change:?}");
        }
        assert_eq!(
            item_update(FieldChange::Location(None)),
            ItemUpdate::Delete(PropertyPath::Field(ItemField::Location))
        );
        assert_eq!(
            item_update(FieldChange::Body(None)),
            ItemUpdate::Delete(PropertyPath::Field(ItemField::Body))
        );
        assert_eq!(
            item_update(FieldChange::Categories(Vec::new())),
            ItemUpdate::Delete(PropertyPath::Field(ItemField::Categories))
        );
    }
}
