//! The mapping between our events and Exchange calendar items: the item a create writes, the
//! property paths a read asks for, whether an item is ours, and the field-by-field changes an
//! update writes.
//!
//! Invariants:
//! - an item is ours only when it carries the `ExternalId` property in our property set
//!   [`PROPERTY_SET_ID`] (a `PublicStrings` property or another set's with the same name is not);
//! - an update writes only the fields whose current value differs from the event, plus the
//!   `ContentHash` property, so a user's own edits to other properties survive;
//! - instants are compared as instants (an offset is never a difference);
//! - nothing here does I/O.
//!
//! Entry types: [`Ours`], [`wanted_item`], [`changes`], [`external_id_field`],
//! [`content_hash_field`].

use chrono::Utc;

use crate::ews::items::{
    Body, BodyType, CalendarItem, ExtendedFieldUri, ExtendedProperty, ItemField, ItemId,
    LegacyFreeBusyStatus, MapiPropertyType, PropertyPath, PropertySet,
};
use crate::ews::ops::update_item::ItemUpdate;
use crate::push::event::{Event, ShowAs};

/// The connector's own property set: a private GUID, generated once for this connector and never
/// to be changed (items written under another GUID would no longer be recognised as ours).
pub const PROPERTY_SET_ID: &str = "9448D9B9-3E57-4FB4-9449-F4A30737A76A";
/// The name of the property holding MyTimetable's external id (the id is the value).
pub const EXTERNAL_ID_PROPERTY: &str = "ExternalId";
/// The name of the property holding [`Event::content_hash`] of what was last written.
pub const CONTENT_HASH_PROPERTY: &str = "ContentHash";

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

/// What our properties say about an item that carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ours {
    pub item_id: ItemId,
    pub external_id: String,
    pub content_hash: Option<String>,
}

impl Ours {
    /// `Some` when `item` carries our `ExternalId` property and an id; `None` for a user's own
    /// item, which the caller then drops unread.
    pub fn of(item: &CalendarItem) -> Option<Ours> {
        let value_of = |name: &str| {
            item.extended_properties
                .iter()
                .find(|property| is_ours(&property.field, name))
                .map(|property| property.value.clone())
        };
        let external_id = value_of(EXTERNAL_ID_PROPERTY)?;
        let item_id = item.item_id.clone()?;
        Some(Ours {
            item_id,
            external_id,
            content_hash: value_of(CONTENT_HASH_PROPERTY),
        })
    }
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

/// The updates that make `current` (as read with [`read_paths`]`(true)`) show `event`: one per
/// field that differs, then the new content hash. Never empty: the hash is always written.
pub fn changes(event: &Event, current: &CalendarItem) -> Vec<ItemUpdate> {
    let wanted = wanted_item(event);
    let mut updates = Vec::new();
    let set = |item: CalendarItem| ItemUpdate::Set(item);
    let delete = |field: ItemField| ItemUpdate::Delete(PropertyPath::Field(field));

    if current.subject != wanted.subject {
        updates.push(set(CalendarItem {
            subject: wanted.subject.clone(),
            ..CalendarItem::default()
        }));
    }
    let current_body = current.body.as_ref().filter(|body| !body.text.is_empty());
    match (&wanted.body, current_body) {
        (None, None) => {}
        (None, Some(_)) => updates.push(delete(ItemField::Body)),
        (Some(body), Some(current)) if body == current => {}
        (Some(body), _) => updates.push(set(CalendarItem {
            body: Some(body.clone()),
            ..CalendarItem::default()
        })),
    }
    if current.categories != wanted.categories {
        updates.push(if wanted.categories.is_empty() {
            delete(ItemField::Categories)
        } else {
            set(CalendarItem {
                categories: wanted.categories.clone(),
                ..CalendarItem::default()
            })
        });
    }
    if current.reminder_is_set.unwrap_or(false) != wanted.reminder_is_set.unwrap_or(false) {
        updates.push(set(CalendarItem {
            reminder_is_set: wanted.reminder_is_set,
            ..CalendarItem::default()
        }));
    }
    if let Some(minutes) = wanted.reminder_minutes_before_start {
        if current.reminder_minutes_before_start != Some(minutes) {
            updates.push(set(CalendarItem {
                reminder_minutes_before_start: Some(minutes),
                ..CalendarItem::default()
            }));
        }
    }
    let instant = |value: &Option<chrono::DateTime<chrono::FixedOffset>>| {
        value.map(|time| time.with_timezone(&Utc))
    };
    if instant(&current.start) != Some(event.start) {
        updates.push(set(CalendarItem {
            start: wanted.start,
            ..CalendarItem::default()
        }));
    }
    if instant(&current.end) != Some(event.end) {
        updates.push(set(CalendarItem {
            end: wanted.end,
            ..CalendarItem::default()
        }));
    }
    if current.is_all_day_event.unwrap_or(false) != event.is_all_day {
        updates.push(set(CalendarItem {
            is_all_day_event: Some(event.is_all_day),
            ..CalendarItem::default()
        }));
    }
    if current.legacy_free_busy_status != wanted.legacy_free_busy_status {
        updates.push(set(CalendarItem {
            legacy_free_busy_status: wanted.legacy_free_busy_status,
            ..CalendarItem::default()
        }));
    }
    let current_location = current
        .location
        .as_ref()
        .filter(|location| !location.is_empty());
    match (&wanted.location, current_location) {
        (None, None) => {}
        (None, Some(_)) => updates.push(delete(ItemField::Location)),
        (Some(location), Some(current)) if location == current => {}
        (Some(location), _) => updates.push(set(CalendarItem {
            location: Some(location.clone()),
            ..CalendarItem::default()
        })),
    }
    if current.start_time_zone != wanted.start_time_zone {
        updates.push(set(CalendarItem {
            start_time_zone: wanted.start_time_zone.clone(),
            ..CalendarItem::default()
        }));
    }
    if current.end_time_zone != wanted.end_time_zone {
        updates.push(set(CalendarItem {
            end_time_zone: wanted.end_time_zone.clone(),
            ..CalendarItem::default()
        }));
    }
    updates.push(set(CalendarItem {
        extended_properties: vec![ExtendedProperty {
            field: content_hash_field(),
            value: event.content_hash(),
        }],
        ..CalendarItem::default()
    }));
    updates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::event::{EventInput, ExternalId};

    fn event(subject: &str) -> Event {
        Event::new(
            ExternalId::parse("mytt:1").unwrap(),
            EventInput {
                subject: subject.to_owned(),
                start: "2026-12-01T09:00:00+01:00".parse().unwrap(),
                end: "2026-12-01T10:45:00+01:00".parse().unwrap(),
                time_zone: "Europe/Amsterdam".to_owned(),
                location: Some("Room 1.14".to_owned()),
                body: Some("Lecturer: A. Turing".to_owned()),
                categories: vec!["MyTimetable".to_owned()],
                is_all_day: false,
                show_as: None,
                reminder_minutes_before_start: Some(15),
            },
        )
        .unwrap()
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
    fn an_item_as_written_needs_only_the_hash() {
        let event = event("Linear Algebra");
        let updates = changes(&event, &stored(&event));
        assert_eq!(updates.len(), 1, "{updates:?}");
    }

    #[test]
    fn a_changed_subject_is_the_one_field_written_besides_the_hash() {
        let before = event("Linear Algebra");
        let after = event("Linear Algebra (moved)");
        let updates = changes(&after, &stored(&before));
        assert_eq!(updates.len(), 2, "{updates:?}");
        let ItemUpdate::Set(item) = &updates[0] else {
            panic!("{updates:?}")
        };
        assert_eq!(item.subject.as_deref(), Some("Linear Algebra (moved)"));
        assert_eq!(item.present_paths().len(), 1);
    }

    #[test]
    fn a_removed_location_is_deleted_not_blanked() {
        let before = event("A");
        let mut after = before.clone();
        after.location = None;
        let updates = changes(&after, &stored(&before));
        assert!(updates.contains(&ItemUpdate::Delete(PropertyPath::Field(
            ItemField::Location
        ))));
    }

    #[test]
    fn only_our_guid_makes_an_item_ours() {
        let event = event("A");
        let mut item = stored(&event);
        assert_eq!(Ours::of(&item).unwrap().external_id, "mytt:1");
        // The same property name in PublicStrings is someone else's.
        for property in &mut item.extended_properties {
            property.field.property_set = PropertySet::PublicStrings;
        }
        assert!(Ours::of(&item).is_none());
        // Our GUID in lower case is still ours.
        let mut lower = stored(&event);
        for property in &mut lower.extended_properties {
            property.field.property_set = PropertySet::Guid(PROPERTY_SET_ID.to_ascii_lowercase());
        }
        assert!(Ours::of(&lower).is_some());
    }
}
