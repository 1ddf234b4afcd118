//! Calendar items of the simulated mailboxes: the inspection type [`SimItem`] (also what tests
//! insert to play the user), its extended properties, the `[[mailboxes.items]]` TOML format,
//! and the store operations that keep the item index right.
//!
//! Invariants: every item lives in exactly one mailbox and `SimState::item_owner` maps its id to
//! that mailbox; item ids are opaque base64 strings that are never reused; every stored change
//! gives the item a new ChangeKey (derived from a store-wide counter, so it never repeats);
//! `PublicStrings` and its GUID `00020329-0000-0000-C000-000000000046` name the same property
//! set, other GUIDs compare case-insensitively.
//! Entry types: [`SimItem`], [`ItemBody`], [`SimExtendedProperty`].

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use sha1::{Digest, Sha1};

use crate::Error;
use crate::state::SimState;

/// The GUID of PS_PUBLIC_STRINGS.
pub(crate) const PUBLIC_STRINGS_GUID: &str = "00020329-0000-0000-C000-000000000046";

/// `t:Body`: its `BodyType` (`Text` or `HTML`) and text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    /// `Text` or `HTML`, as sent.
    #[serde(rename = "type")]
    pub body_type: String,
    pub text: String,
}

/// One extended (MAPI named) property of an item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all(serialize = "camelCase"))]
pub struct SimExtendedProperty {
    /// `PublicStrings` or a bare GUID (as sent; compared with [`same_property_set`]).
    pub property_set: String,
    /// `PropertyName`.
    pub name: String,
    /// `PropertyType` (`String`, `Integer`, …).
    #[serde(rename = "type")]
    pub property_type: String,
    pub value: String,
}

impl SimExtendedProperty {
    /// Whether this property has the same address (set, name, type) as another.
    pub fn same_address(&self, property_set: &str, name: &str, property_type: &str) -> bool {
        same_property_set(&self.property_set, property_set)
            && self.name == name
            && self.property_type == property_type
    }
}

/// Whether two property-set names address the same set.
pub fn same_property_set(a: &str, b: &str) -> bool {
    let canonical = |set: &str| {
        if set == "PublicStrings" {
            PUBLIC_STRINGS_GUID.to_ascii_lowercase()
        } else {
            set.to_ascii_lowercase()
        }
    };
    canonical(a) == canonical(b)
}

/// One calendar item (a single appointment), as stored and as tests see it (also the JSON of
/// `GET /sim/mailboxes/{smtp}/items`, camelCase, instants as `2025-03-04T08:00:00Z`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimItem {
    /// `t:ItemId/@Id`: opaque base64; empty in [`SimItem::new`] until stored.
    pub item_id: String,
    /// `t:ItemId/@ChangeKey`: changes on every stored change.
    pub change_key: String,
    pub subject: Option<String>,
    pub body: Option<ItemBody>,
    pub categories: Vec<String>,
    /// `t:ReminderIsSet` (Exchange's default: true).
    pub reminder_is_set: bool,
    /// `t:ReminderMinutesBeforeStart` (Exchange's default: 15).
    pub reminder_minutes: i32,
    /// `t:Start`, as an instant.
    #[serde(serialize_with = "serialize_instant")]
    pub start: DateTime<Utc>,
    /// `t:End`, as an instant.
    #[serde(serialize_with = "serialize_instant")]
    pub end: DateTime<Utc>,
    /// `t:IsAllDayEvent`.
    pub is_all_day: bool,
    /// `t:LegacyFreeBusyStatus` (`Free`, `Tentative`, `Busy`, `OOF`, `WorkingElsewhere`,
    /// `NoData`; default `Busy`).
    pub free_busy: String,
    pub location: Option<String>,
    /// `t:StartTimeZone/@Id`: a Windows zone id, as sent.
    pub start_time_zone: Option<String>,
    /// `t:EndTimeZone/@Id`.
    pub end_time_zone: Option<String>,
    /// The extended properties, in the order they were set.
    pub extended_properties: Vec<SimExtendedProperty>,
    /// Lower-cased SMTP address of who created it (the owner for the user's own items): decides
    /// whether `Owned` edit/delete rights apply.
    pub created_by: String,
}

impl SimItem {
    /// An item with Exchange's defaults and no id yet (the store assigns one on insert).
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> SimItem {
        SimItem {
            item_id: String::new(),
            change_key: String::new(),
            subject: None,
            body: None,
            categories: Vec::new(),
            reminder_is_set: true,
            reminder_minutes: 15,
            start,
            end,
            is_all_day: false,
            free_busy: "Busy".to_string(),
            location: None,
            start_time_zone: None,
            end_time_zone: None,
            extended_properties: Vec::new(),
            created_by: String::new(),
        }
    }

    /// The value of the extended property with this address, if set.
    pub fn extended_property(
        &self,
        property_set: &str,
        name: &str,
        property_type: &str,
    ) -> Option<&str> {
        self.extended_properties
            .iter()
            .find(|property| property.same_address(property_set, name, property_type))
            .map(|property| property.value.as_str())
    }
}

/// Parses an `xs:dateTime` as EWS reads it: with `Z` or an offset it is that instant; without,
/// it is UTC (no `TimeZoneContext` support, PROTOCOL §6.3).
pub(crate) fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// The wire form of an instant (`2025-03-04T08:00:00Z`).
pub(crate) fn format_instant(instant: &DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn serialize_instant<S: Serializer>(
    instant: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_instant(instant))
}

fn generated_item_id(mailbox: &str, serial: u64) -> String {
    let mut bytes = b"\x00\x00\x00\x00\x46\x00\x00\x00".to_vec();
    bytes.extend_from_slice(&Sha1::digest(mailbox.to_ascii_lowercase().as_bytes())[..16]);
    bytes.extend_from_slice(b"\x07\x00");
    bytes.extend_from_slice(&serial.to_be_bytes());
    bytes.extend_from_slice(b"\x00\x00");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn generated_change_key(item_id: &str, serial: u64) -> String {
    let mut bytes = b"\x0f\x00\x00\x00\x16\x00\x00\x00".to_vec();
    bytes.extend_from_slice(&Sha1::digest(item_id.as_bytes())[..10]);
    bytes.extend_from_slice(&serial.to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl SimState {
    fn next_serial(&mut self) -> u64 {
        self.item_serial += 1;
        self.item_serial
    }

    /// Stores `item` in `mailbox` (lower-cased key): assigns an id when it has none, always a
    /// new ChangeKey, and the owner as creator when none is set. An item with the id of an
    /// existing item of this mailbox replaces it. Returns the stored item.
    ///
    /// # Errors
    /// [`Error::UnknownMailbox`]; [`Error::InvalidState`] when the id belongs to another mailbox.
    pub(crate) fn store_item(
        &mut self,
        mailbox: &str,
        mut item: SimItem,
    ) -> Result<SimItem, Error> {
        let key = mailbox.to_ascii_lowercase();
        if !self.mailboxes.contains_key(&key) {
            return Err(Error::UnknownMailbox(mailbox.to_string()));
        }
        if item.item_id.is_empty() {
            let serial = self.next_serial();
            item.item_id = generated_item_id(&key, serial);
        } else if self
            .item_owner
            .get(&item.item_id)
            .is_some_and(|owner| owner != &key)
        {
            return Err(Error::InvalidState(format!(
                "item {} belongs to another mailbox",
                item.item_id
            )));
        }
        let serial = self.next_serial();
        item.change_key = generated_change_key(&item.item_id, serial);
        if item.created_by.is_empty() {
            item.created_by = key.clone();
        } else {
            item.created_by = item.created_by.to_ascii_lowercase();
        }
        self.item_owner.insert(item.item_id.clone(), key.clone());
        let stored = item.clone();
        self.mailboxes
            .get_mut(&key)
            .expect("checked above")
            .items
            .insert(item.item_id.clone(), item);
        Ok(stored)
    }

    /// Gives a stored item a new ChangeKey after a change made in place.
    pub(crate) fn bump_item(&mut self, mailbox: &str, item_id: &str) -> Option<String> {
        let serial = self.next_serial();
        let item = self.mailboxes.get_mut(mailbox)?.items.get_mut(item_id)?;
        item.change_key = generated_change_key(item_id, serial);
        Some(item.change_key.clone())
    }

    /// Removes an item; returns it when it existed in that mailbox.
    pub(crate) fn delete_item(&mut self, mailbox: &str, item_id: &str) -> Option<SimItem> {
        let key = mailbox.to_ascii_lowercase();
        let removed = self.mailboxes.get_mut(&key)?.items.remove(item_id)?;
        self.item_owner.remove(item_id);
        Some(removed)
    }

    /// The mailbox (lower-cased key) holding the item with this id.
    pub(crate) fn mailbox_of_item(&self, item_id: &str) -> Option<&str> {
        self.item_owner.get(item_id).map(String::as_str)
    }

    /// A mailbox's calendar items sorted by start (then id); `None` for an unknown mailbox.
    pub fn calendar_items(&self, mailbox: &str) -> Option<Vec<SimItem>> {
        let mailbox = self.mailboxes.get(&mailbox.to_ascii_lowercase())?;
        let mut items: Vec<SimItem> = mailbox.items.values().cloned().collect();
        items.sort_by(|a, b| {
            a.start
                .cmp(&b.start)
                .then_with(|| a.item_id.cmp(&b.item_id))
        });
        Some(items)
    }
}

// ---- The TOML format (`[[mailboxes.items]]`). ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemFile {
    item_id: Option<String>,
    subject: Option<String>,
    body: Option<ItemBody>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default = "default_true")]
    reminder_is_set: bool,
    #[serde(default = "default_reminder")]
    reminder_minutes: i32,
    start: String,
    end: String,
    #[serde(default)]
    is_all_day: bool,
    #[serde(default = "default_free_busy")]
    free_busy: String,
    location: Option<String>,
    start_time_zone: Option<String>,
    end_time_zone: Option<String>,
    #[serde(default)]
    extended_properties: Vec<SimExtendedProperty>,
    created_by: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_reminder() -> i32 {
    15
}

fn default_free_busy() -> String {
    "Busy".to_string()
}

impl ItemFile {
    pub(crate) fn into_item(self, mailbox: &str) -> Result<SimItem, Error> {
        let instant = |text: &str| {
            parse_instant(text).ok_or_else(|| {
                Error::InvalidState(format!("item of {mailbox}: {text:?} is not an xs:dateTime"))
            })
        };
        let start = instant(&self.start)?;
        let end = instant(&self.end)?;
        if end < start {
            return Err(Error::InvalidState(format!(
                "item of {mailbox} ends before it starts"
            )));
        }
        Ok(SimItem {
            item_id: self.item_id.unwrap_or_default(),
            change_key: String::new(),
            subject: self.subject,
            body: self.body,
            categories: self.categories,
            reminder_is_set: self.reminder_is_set,
            reminder_minutes: self.reminder_minutes,
            start,
            end,
            is_all_day: self.is_all_day,
            free_busy: self.free_busy,
            location: self.location,
            start_time_zone: self.start_time_zone,
            end_time_zone: self.end_time_zone,
            extended_properties: self.extended_properties,
            created_by: self.created_by.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_strings_and_its_guid_are_one_set() {
        assert!(same_property_set("PublicStrings", PUBLIC_STRINGS_GUID));
        assert!(same_property_set(
            "00020329-0000-0000-c000-000000000046",
            "PublicStrings"
        ));
        assert!(same_property_set(
            "c11ff724-aa03-4555-9952-8fa248a11c3e",
            "C11FF724-AA03-4555-9952-8FA248A11C3E"
        ));
        assert!(!same_property_set(
            "C11FF724-AA03-4555-9952-8FA248A11C3E",
            "PublicStrings"
        ));
    }

    #[test]
    fn instants_with_and_without_offset() {
        let utc = parse_instant("2025-03-04T08:00:00Z").unwrap();
        assert_eq!(parse_instant("2025-03-04T09:00:00+01:00"), Some(utc));
        assert_eq!(parse_instant("2025-03-04T08:00:00"), Some(utc));
        assert_eq!(format_instant(&utc), "2025-03-04T08:00:00Z");
        assert_eq!(parse_instant("tomorrow"), None);
    }

    #[test]
    fn stored_items_get_fresh_ids_and_change_keys() {
        let mut state =
            SimState::from_toml_str("[[mailboxes]]\nsmtp = \"alice@contoso.example\"\n").unwrap();
        let start = parse_instant("2025-03-04T08:00:00Z").unwrap();
        let first = state
            .store_item("alice@contoso.example", SimItem::new(start, start))
            .unwrap();
        let second = state
            .store_item("alice@contoso.example", SimItem::new(start, start))
            .unwrap();
        assert_ne!(first.item_id, second.item_id);
        assert_eq!(first.created_by, "alice@contoso.example");
        let replaced = state
            .store_item("Alice@contoso.example", first.clone())
            .unwrap();
        assert_eq!(replaced.item_id, first.item_id);
        assert_ne!(replaced.change_key, first.change_key);
        assert_eq!(
            state.calendar_items("alice@contoso.example").unwrap().len(),
            2
        );
        assert!(
            state
                .delete_item("alice@contoso.example", &first.item_id)
                .is_some()
        );
        assert_eq!(state.mailbox_of_item(&first.item_id), None);
    }
}
