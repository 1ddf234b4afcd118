//! What an update writes: the field-by-field changes that make a stored item show an event,
//! in the domain's words ([`FieldChange`]); a backend maps each to its own write (EWS:
//! `backend::ews::events`).
//!
//! Invariants:
//! - an update writes only the fields whose current value differs from the event, plus the
//!   content hash, so a user's own edits to other properties survive;
//! - instants are compared as instants (an offset is never a difference); an empty body or
//!   location is no body or location;
//! - nothing here does I/O.
//!
//! Entry type: [`changes`]; the property identity ([`PROPERTY_SET_ID`], [`EXTERNAL_ID_PROPERTY`],
//! [`CONTENT_HASH_PROPERTY`]) lives in `domain::events`.

pub use crate::domain::events::{CONTENT_HASH_PROPERTY, EXTERNAL_ID_PROPERTY, PROPERTY_SET_ID};
use crate::domain::events::{CurrentEvent, FieldChange};
use crate::push::event::Event;

/// The changes that make `current` (as read whole) show `event`: one per field that differs, in
/// a fixed order, then the new content hash. Never empty: the hash is always written.
pub fn changes(event: &Event, current: &CurrentEvent) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    if current.subject.as_deref() != Some(event.subject.as_str()) {
        changes.push(FieldChange::Subject(event.subject.clone()));
    }
    let current_body = current.body.as_ref().filter(|body| !body.text.is_empty());
    match (&event.body, current_body) {
        (None, None) => {}
        (None, Some(_)) => changes.push(FieldChange::Body(None)),
        (Some(body), Some(current)) if !current.html && *body == current.text => {}
        (Some(body), _) => changes.push(FieldChange::Body(Some(body.clone()))),
    }
    if current.categories != event.categories {
        changes.push(FieldChange::Categories(event.categories.clone()));
    }
    let reminder_is_set = event.reminder_minutes_before_start.is_some();
    if current.reminder_is_set != reminder_is_set {
        changes.push(FieldChange::ReminderIsSet(reminder_is_set));
    }
    if let Some(minutes) = event.reminder_minutes_before_start {
        if current.reminder_minutes_before_start != Some(minutes) {
            changes.push(FieldChange::ReminderMinutesBeforeStart(minutes));
        }
    }
    if current.start != Some(event.start) {
        changes.push(FieldChange::Start(event.start));
    }
    if current.end != Some(event.end) {
        changes.push(FieldChange::End(event.end));
    }
    if current.is_all_day != event.is_all_day {
        changes.push(FieldChange::IsAllDay(event.is_all_day));
    }
    if current.show_as != Some(event.show_as) {
        changes.push(FieldChange::ShowAs(event.show_as));
    }
    let current_location = current
        .location
        .as_ref()
        .filter(|location| !location.is_empty());
    match (&event.location, current_location) {
        (None, None) => {}
        (None, Some(_)) => changes.push(FieldChange::Location(None)),
        (Some(location), Some(current)) if location == current => {}
        (Some(location), _) => changes.push(FieldChange::Location(Some(location.clone()))),
    }
    let zone = event.zone.windows;
    if current.start_time_zone.as_deref() != Some(zone) {
        changes.push(FieldChange::StartTimeZone(zone.to_owned()));
    }
    if current.end_time_zone.as_deref() != Some(zone) {
        changes.push(FieldChange::EndTimeZone(zone.to_owned()));
    }
    changes.push(FieldChange::ContentHash(event.content_hash()));
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::{ItemHandle, StoredBody};

    fn event(subject: &str) -> Event {
        crate::domain::event::lecture(subject)
    }

    /// The item as a backend would read it back after writing `event`.
    fn stored(event: &Event) -> CurrentEvent {
        CurrentEvent {
            handle: ItemHandle {
                id: "AAMk1".to_owned(),
                version: Some("CK1".to_owned()),
            },
            external_id: event.external_id.as_str().to_owned(),
            content_hash: Some(event.content_hash()),
            subject: Some(event.subject.clone()),
            body: event
                .body
                .clone()
                .map(|text| StoredBody { text, html: false }),
            categories: event.categories.clone(),
            reminder_is_set: event.reminder_minutes_before_start.is_some(),
            reminder_minutes_before_start: event.reminder_minutes_before_start,
            start: Some(event.start),
            end: Some(event.end),
            is_all_day: event.is_all_day,
            show_as: Some(event.show_as),
            location: event.location.clone(),
            start_time_zone: Some(event.zone.windows.to_owned()),
            end_time_zone: Some(event.zone.windows.to_owned()),
        }
    }

    #[test]
    fn an_item_as_written_needs_only_the_hash() {
        let event = event("Linear Algebra");
        let changes = changes(&event, &stored(&event));
        assert_eq!(
            changes,
            vec![FieldChange::ContentHash(event.content_hash())]
        );
    }

    #[test]
    fn a_changed_subject_is_the_one_field_written_besides_the_hash() {
        let before = event("Linear Algebra");
        let after = event("Linear Algebra (moved)");
        let changes = changes(&after, &stored(&before));
        assert_eq!(
            changes,
            vec![
                FieldChange::Subject("Linear Algebra (moved)".to_owned()),
                FieldChange::ContentHash(after.content_hash()),
            ]
        );
    }

    #[test]
    fn a_removed_location_is_deleted_not_blanked() {
        let before = event("A");
        let mut after = before.clone();
        after.location = None;
        let changes = changes(&after, &stored(&before));
        assert!(
            changes.contains(&FieldChange::Location(None)),
            "{changes:?}"
        );
    }

    #[test]
    fn an_html_body_with_the_same_text_is_rewritten_as_text() {
        let event = event("A");
        let mut current = stored(&event);
        current.body.as_mut().unwrap().html = true;
        let changes = changes(&event, &current);
        assert_eq!(
            changes[0],
            FieldChange::Body(Some("Lecturer: A. Turing".to_owned()))
        );
    }
}
