//! A mailbox move from on-premises Exchange (the EWS simulator) to Exchange Online (the Graph
//! simulator), as a hybrid move request does it: the Mailbox Replication Service copies the
//! mailbox whole, so every calendar item arrives with its subject, body, times, zones,
//! categories, reminder, free/busy status, location and its named properties (ours and other
//! tools' alike: `PublicStrings` or a GUID, a name, a type; Graph shows them as
//! `{Type} {guid} Name {name}`). Afterwards the on-premises server answers
//! `ErrorNonExistentMailbox` with the mailbox's `MailboxGuid` (the simulator's
//! `moved_to_cloud`), and Exchange Online holds the mailbox, inside the application's scope.
//!
//! Invariants: nothing is changed on either side unless the whole move can be made (the Graph
//! side is filled first, the EWS side emptied last, under its lock); items get new ids and
//! changeKeys on the Graph side, so a client must find them by its property, never by an id
//! it kept; multi-valued (`...Array`) properties are not single-value properties in Graph and
//! are left out of `singleValueExtendedProperties`.
//!
//! Entry points: [`move_mailbox`], [`MoveReport`].

use chrono::Utc;
use sha2::Digest as _;

use crate::graph::{
    GraphBody, GraphDateTime, GraphEvent, GraphExtendedProperty, GraphMailbox, GraphSimHandle,
    PUBLIC_STRINGS_GUID,
};
use crate::items::same_property_set;
use crate::server::lock;
use crate::{Error, SimHandle, SimItem};

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveReport {
    /// The `MailboxGuid` the on-premises server now names in `ErrorNonExistentMailbox`.
    pub mailbox_guid: String,
    /// The calendar items as Exchange Online holds them now (new ids).
    pub events: Vec<GraphEvent>,
}

/// Moves `address` with its calendar from the EWS simulator to the Graph simulator.
///
/// # Errors
/// [`Error::UnknownMailbox`] when the EWS simulator has no such mailbox;
/// [`Error::InvalidState`] when it moved already or the Graph side refuses it.
pub fn move_mailbox(
    ews: &SimHandle,
    graph: &GraphSimHandle,
    address: &str,
) -> Result<MoveReport, Error> {
    let key = address.to_ascii_lowercase();
    let mut state = lock(&ews.shared.state);
    let Some(mailbox) = state.mailboxes.get(&key) else {
        return Err(Error::UnknownMailbox(address.to_owned()));
    };
    if mailbox.moved_to_cloud.is_some() {
        return Err(Error::InvalidState(format!(
            "mailbox {address} moved to Exchange Online already"
        )));
    }
    let smtp = mailbox.smtp.clone();
    let items = state.calendar_items(&key).unwrap_or_default();
    let events: Vec<GraphEvent> = items.iter().map(to_event).collect();
    let events = graph
        .receive_moved(GraphMailbox::new(&smtp), events)
        .map_err(Error::InvalidState)?;
    for item in &items {
        state.delete_item(&key, &item.item_id);
    }
    let mailbox_guid = guid_of(&key);
    if let Some(mailbox) = state.mailboxes.get_mut(&key) {
        mailbox.moved_to_cloud = Some(mailbox_guid.clone());
    }
    Ok(MoveReport {
        mailbox_guid,
        events,
    })
}

/// A stable GUID for a mailbox that has none configured.
fn guid_of(address: &str) -> String {
    let hex = hex::encode(sha2::Sha256::digest(
        format!("mailbox-guid:{address}").as_bytes(),
    ));
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// EWS's `LegacyFreeBusyStatus` as Graph's `freeBusyStatus`.
fn show_as(free_busy: &str) -> &'static str {
    match free_busy {
        "Free" => "free",
        "Tentative" => "tentative",
        "OOF" => "oof",
        "WorkingElsewhere" => "workingElsewhere",
        "NoData" => "unknown",
        _ => "busy",
    }
}

/// One calendar item as Exchange Online shows it after the move.
fn to_event(item: &SimItem) -> GraphEvent {
    let zone_of = |name: Option<&String>| {
        name.filter(|n| crate::graph::resolve_zone(n).is_some())
            .cloned()
            .unwrap_or_else(|| "UTC".to_owned())
    };
    let start_zone = zone_of(item.start_time_zone.as_ref());
    let end_zone = zone_of(
        item.end_time_zone
            .as_ref()
            .or(item.start_time_zone.as_ref()),
    );
    let local = |instant: chrono::DateTime<Utc>, zone: &str| {
        crate::graph::resolve_zone(zone)
            .map(|tz| instant.with_timezone(&tz).naive_local())
            .unwrap_or_else(|| instant.naive_utc())
    };
    let mut event = GraphEvent::new(
        item.subject.as_deref().unwrap_or(""),
        GraphDateTime::new(local(item.start, &start_zone), &start_zone),
        GraphDateTime::new(local(item.end, &end_zone), &end_zone),
    );
    if let Some(body) = &item.body {
        event.body = GraphBody {
            content_type: if body.body_type.eq_ignore_ascii_case("HTML") {
                "html".to_owned()
            } else {
                "text".to_owned()
            },
            content: body.text.clone(),
        };
    }
    event.is_all_day = item.is_all_day;
    event.location = item.location.clone().unwrap_or_default();
    event.categories = item.categories.clone();
    event.show_as = show_as(&item.free_busy).to_owned();
    event.reminder_minutes_before_start = item.reminder_minutes;
    event.is_reminder_on = item.reminder_is_set;
    event.extended_properties = item
        .extended_properties
        .iter()
        .filter_map(|property| {
            let guid = if same_property_set(&property.property_set, "PublicStrings") {
                PUBLIC_STRINGS_GUID.to_owned()
            } else {
                property.property_set.clone()
            };
            let id = crate::graph::canonical_property_id(&format!(
                "{} {{{guid}}} Name {}",
                property.property_type, property.name
            ))?;
            Some(GraphExtendedProperty {
                id,
                value: property.value.clone(),
            })
        })
        .collect();
    event
}
