//! Fills the item templates (`fixtures/sim/templates/item_*.xml`, `calendar_item.xml`,
//! `find_item_*.xml`, …) for FindItem, GetItem, CreateItem, UpdateItem and DeleteItem.
//!
//! Invariants: as in `render`, every body is template bytes with escaped values; inside
//! `t:CalendarItem` the children are written in schema order (ItemId, Subject, Body, Categories,
//! ReminderIsSet, ReminderMinutesBeforeStart, ExtendedProperty*, Start, End, IsAllDayEvent,
//! LegacyFreeBusyStatus, Location, CalendarItemType, StartTimeZone, EndTimeZone); an extended
//! property is written only when asked for and present, with the path as it was asked.
//! Entry types: [`ItemShape`], [`ExtendedPath`], [`ItemMessage`].

use crate::items::{SimItem, format_instant};
use crate::render::{
    EffectiveRights, Fill, MESSAGE_ERROR_VALUE, effective_rights, fill, message_text, template,
};

const ITEM_RESPONSE: &str = template!("item_response.xml");
const ITEM_MESSAGE_SUCCESS: &str = template!("item_message_success.xml");
const ITEM_MESSAGE_ERROR: &str = template!("item_message_error.xml");
const CONFLICT_RESULTS: &str = template!("conflict_results.xml");
const DELETE_ITEM_MESSAGE: &str = template!("delete_item_message.xml");
const ERROR_MESSAGE: &str = template!("error_message.xml");
const FIND_ITEM_CALENDAR_VIEW_MESSAGE: &str = template!("find_item_calendar_view_message.xml");
const FIND_ITEM_INDEXED_MESSAGE: &str = template!("find_item_indexed_message.xml");
const CALENDAR_ITEM: &str = template!("calendar_item.xml");
const ITEM_ID: &str = template!("item_id.xml");
const ITEM_FIELD: &str = template!("item_field.xml");
const ITEM_BODY: &str = template!("item_body.xml");
const ITEM_CATEGORIES: &str = template!("item_categories.xml");
const ITEM_CATEGORY: &str = template!("item_category.xml");
const EXTENDED_PROPERTY: &str = template!("extended_property.xml");
const ITEM_TIME_ZONE: &str = template!("item_time_zone.xml");

/// The field URIs the simulator stores, in schema order of their elements.
pub(crate) const FIELD_URIS: [&str; 13] = [
    "item:Subject",
    "item:Body",
    "item:Categories",
    "item:ReminderIsSet",
    "item:ReminderMinutesBeforeStart",
    "calendar:Start",
    "calendar:End",
    "calendar:IsAllDayEvent",
    "calendar:LegacyFreeBusyStatus",
    "calendar:Location",
    "calendar:CalendarItemType",
    "calendar:StartTimeZone",
    "calendar:EndTimeZone",
];

/// An `ExtendedFieldURI` by property-set and name, as the client wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExtendedPath {
    /// `DistinguishedPropertySetId` or `PropertySetId`.
    pub set_attribute: &'static str,
    pub set: String,
    pub name: String,
    pub property_type: String,
}

/// What to return of each item: the field URIs (the 13 above, by index) and extended paths.
#[derive(Clone, Debug, Default)]
pub(crate) struct ItemShape {
    pub fields: [bool; FIELD_URIS.len()],
    pub extended: Vec<ExtendedPath>,
    /// `item:EffectiveRights` was asked for: the caller's rights on each item.
    pub effective_rights: bool,
}

impl ItemShape {
    /// Every stored field (BaseShape `Default` / `AllProperties`).
    pub(crate) fn all_fields(&mut self) {
        self.fields = [true; FIELD_URIS.len()];
    }

    /// Asks for a field URI; unknown URIs are ignored (the simulator has nothing to return).
    pub(crate) fn add_field(&mut self, uri: &str) {
        if uri == "item:EffectiveRights" {
            self.effective_rights = true;
        }
        if let Some(index) = FIELD_URIS.iter().position(|known| *known == uri) {
            self.fields[index] = true;
        }
    }

    fn wants(&self, uri: &str) -> bool {
        FIELD_URIS
            .iter()
            .position(|known| *known == uri)
            .is_some_and(|index| self.fields[index])
    }
}

fn boolean(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn field(name: &str, value: &str) -> String {
    fill(
        ITEM_FIELD,
        &[("NAME", Fill::Text(name)), ("VALUE", Fill::Text(value))],
    )
}

/// One `t:CalendarItem` with its ItemId and the shape's properties.
pub(crate) fn calendar_item(item: &SimItem, shape: &ItemShape) -> String {
    calendar_item_with_rights(item, shape, None)
}

/// One `t:CalendarItem` with its ItemId, the shape's properties and, when given (the shape
/// asked for `item:EffectiveRights`), the caller's rights on it after the extended properties
/// and before `Start` (the order of ItemType, then CalendarItemType, in types.xsd).
pub(crate) fn calendar_item_with_rights(
    item: &SimItem,
    shape: &ItemShape,
    rights: Option<EffectiveRights>,
) -> String {
    let mut fields = fill(
        ITEM_ID,
        &[
            ("ID", Fill::Text(&item.item_id)),
            ("CHANGE_KEY", Fill::Text(&item.change_key)),
        ],
    );
    if shape.wants("item:Subject") {
        if let Some(subject) = &item.subject {
            fields.push_str(&field("Subject", subject));
        }
    }
    if shape.wants("item:Body") {
        if let Some(body) = &item.body {
            fields.push_str(&fill(
                ITEM_BODY,
                &[
                    ("BODY_TYPE", Fill::Text(&body.body_type)),
                    ("TEXT", Fill::Text(&body.text)),
                ],
            ));
        }
    }
    if shape.wants("item:Categories") && !item.categories.is_empty() {
        let strings: String = item
            .categories
            .iter()
            .map(|category| fill(ITEM_CATEGORY, &[("VALUE", Fill::Text(category))]))
            .collect();
        fields.push_str(&fill(ITEM_CATEGORIES, &[("STRINGS", Fill::Xml(&strings))]));
    }
    if shape.wants("item:ReminderIsSet") {
        fields.push_str(&field("ReminderIsSet", boolean(item.reminder_is_set)));
    }
    if shape.wants("item:ReminderMinutesBeforeStart") {
        fields.push_str(&field(
            "ReminderMinutesBeforeStart",
            &item.reminder_minutes.to_string(),
        ));
    }
    for path in &shape.extended {
        if let Some(value) = item.extended_property(&path.set, &path.name, &path.property_type) {
            fields.push_str(&fill(
                EXTENDED_PROPERTY,
                &[
                    ("SET_ATTRIBUTE", Fill::Text(path.set_attribute)),
                    ("SET", Fill::Text(&path.set)),
                    ("NAME", Fill::Text(&path.name)),
                    ("TYPE", Fill::Text(&path.property_type)),
                    ("VALUE", Fill::Text(value)),
                ],
            ));
        }
    }
    if let Some(rights) = rights {
        fields.push_str(&effective_rights(&rights));
    }
    if shape.wants("calendar:Start") {
        fields.push_str(&field("Start", &format_instant(&item.start)));
    }
    if shape.wants("calendar:End") {
        fields.push_str(&field("End", &format_instant(&item.end)));
    }
    if shape.wants("calendar:IsAllDayEvent") {
        fields.push_str(&field("IsAllDayEvent", boolean(item.is_all_day)));
    }
    if shape.wants("calendar:LegacyFreeBusyStatus") {
        fields.push_str(&field("LegacyFreeBusyStatus", &item.free_busy));
    }
    if shape.wants("calendar:Location") {
        if let Some(location) = &item.location {
            fields.push_str(&field("Location", location));
        }
    }
    if shape.wants("calendar:CalendarItemType") {
        fields.push_str(&field("CalendarItemType", "Single"));
    }
    for (uri, name, zone) in [
        (
            "calendar:StartTimeZone",
            "StartTimeZone",
            &item.start_time_zone,
        ),
        ("calendar:EndTimeZone", "EndTimeZone", &item.end_time_zone),
    ] {
        if let (true, Some(zone)) = (shape.wants(uri), zone) {
            fields.push_str(&fill(
                ITEM_TIME_ZONE,
                &[("NAME", Fill::Text(name)), ("ID", Fill::Text(zone))],
            ));
        }
    }
    fill(CALENDAR_ITEM, &[("FIELDS", Fill::Xml(&fields))])
}

/// A `t:CalendarItem` holding only the ItemId (CreateItem and UpdateItem answers).
pub(crate) fn calendar_item_id_only(item: &SimItem) -> String {
    calendar_item(item, &ItemShape::default())
}

/// One response message of an item operation.
pub(crate) enum ItemMessage {
    /// Success with rendered `t:CalendarItem`s (GetItem, CreateItem, UpdateItem).
    Items(String),
    /// UpdateItem success: the item and the conflict count.
    Updated(String, u32),
    /// DeleteItem success.
    Deleted,
    /// FindItem success with `CalendarView` paging.
    FoundInView {
        items: String,
        total: usize,
        includes_last: bool,
    },
    /// FindItem success with `IndexedPageItemView` paging.
    FoundIndexed {
        items: String,
        next_offset: usize,
        total: usize,
        includes_last: bool,
    },
    Error(&'static str),
    /// FindItem over the account's `EWSFindCountLimit`: `ErrorExceededFindCountLimit` with the
    /// policy's limit as `PolicyLimit` in `MessageXml`.
    FindCountExceeded {
        limit: usize,
    },
}

/// An item operation's answer (`operation` is the element name, e.g. `CreateItem`).
pub(crate) fn item_response(operation: &str, messages: &[ItemMessage]) -> String {
    let inner: String = messages
        .iter()
        .map(|message| render_message(operation, message))
        .collect();
    fill(
        ITEM_RESPONSE,
        &[
            ("OPERATION", Fill::Text(operation)),
            ("MESSAGES", Fill::Xml(&inner)),
        ],
    )
}

fn render_message(operation: &str, message: &ItemMessage) -> String {
    match message {
        ItemMessage::Items(items) => fill(
            ITEM_MESSAGE_SUCCESS,
            &[
                ("OPERATION", Fill::Text(operation)),
                ("ITEMS", Fill::Xml(items)),
                ("CONFLICT_RESULTS", Fill::Xml("")),
            ],
        ),
        ItemMessage::Updated(items, conflicts) => {
            let conflicts_xml = fill(
                CONFLICT_RESULTS,
                &[("COUNT", Fill::Text(&conflicts.to_string()))],
            );
            fill(
                ITEM_MESSAGE_SUCCESS,
                &[
                    ("OPERATION", Fill::Text(operation)),
                    ("ITEMS", Fill::Xml(items)),
                    ("CONFLICT_RESULTS", Fill::Xml(&conflicts_xml)),
                ],
            )
        }
        ItemMessage::Deleted => DELETE_ITEM_MESSAGE.to_string(),
        ItemMessage::FoundInView {
            items,
            total,
            includes_last,
        } => fill(
            FIND_ITEM_CALENDAR_VIEW_MESSAGE,
            &[
                ("TOTAL", Fill::Text(&total.to_string())),
                ("INCLUDES_LAST", Fill::Text(boolean(*includes_last))),
                ("ITEMS", Fill::Xml(items)),
            ],
        ),
        ItemMessage::FoundIndexed {
            items,
            next_offset,
            total,
            includes_last,
        } => fill(
            FIND_ITEM_INDEXED_MESSAGE,
            &[
                ("NEXT_OFFSET", Fill::Text(&next_offset.to_string())),
                ("TOTAL", Fill::Text(&total.to_string())),
                ("INCLUDES_LAST", Fill::Text(boolean(*includes_last))),
                ("ITEMS", Fill::Xml(items)),
            ],
        ),
        ItemMessage::FindCountExceeded { limit } => fill(
            MESSAGE_ERROR_VALUE,
            &[
                ("OPERATION", Fill::Text(operation)),
                ("CODE", Fill::Text("ErrorExceededFindCountLimit")),
                (
                    "MESSAGE",
                    Fill::Text(message_text("ErrorExceededFindCountLimit")),
                ),
                ("NAME", Fill::Text("PolicyLimit")),
                ("VALUE", Fill::Text(&limit.to_string())),
                ("ITEMS", Fill::Xml("")),
            ],
        ),
        ItemMessage::Error(code) => {
            // The schema requires m:Items in Create/Update/GetItem messages, even in errors;
            // FindItem and DeleteItem messages have no payload.
            let template = match operation {
                "FindItem" | "DeleteItem" => ERROR_MESSAGE,
                _ => ITEM_MESSAGE_ERROR,
            };
            fill(
                template,
                &[
                    ("OPERATION", Fill::Text(operation)),
                    ("CODE", Fill::Text(code)),
                    ("MESSAGE", Fill::Text(message_text(code))),
                ],
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::{SimExtendedProperty, parse_instant};

    #[test]
    fn extended_property_is_written_only_when_asked_and_before_start() {
        let start = parse_instant("2025-03-04T08:00:00Z").unwrap();
        let mut item = SimItem::new(start, start);
        item.item_id = "AAA=".into();
        item.change_key = "BBB=".into();
        item.subject = Some("A & B".into());
        item.extended_properties.push(SimExtendedProperty {
            property_set: "PublicStrings".into(),
            name: "CalSyncExternalId".into(),
            property_type: "String".into(),
            value: "x<1>".into(),
        });
        let mut shape = ItemShape::default();
        shape.add_field("item:Subject");
        shape.add_field("calendar:Start");
        let without = calendar_item(&item, &shape);
        assert!(!without.contains("ExtendedProperty"), "{without}");
        assert!(without.contains("<t:Subject>A &amp; B</t:Subject>"));
        shape.extended.push(ExtendedPath {
            set_attribute: "PropertySetId",
            set: "00020329-0000-0000-C000-000000000046".into(),
            name: "CalSyncExternalId".into(),
            property_type: "String".into(),
        });
        let with = calendar_item(&item, &shape);
        let property = with.find("<t:ExtendedProperty>").unwrap();
        assert!(property < with.find("<t:Start>").unwrap());
        assert!(with.contains("PropertySetId=\"00020329-0000-0000-C000-000000000046\""));
        assert!(with.contains("<t:Value>x&lt;1&gt;</t:Value>"));
    }
}
