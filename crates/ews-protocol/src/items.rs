//! Calendar items as data: the types the item operations (`FindItem`, `GetItem`, `CreateItem`,
//! `UpdateItem`, `DeleteItem`) share, with their writers and readers.
//!
//! Invariants:
//! - A `t:CalendarItem` is written with its children in schema order (PROTOCOL §6.3): every
//!   `ItemType` member (`Subject, Body, Categories, ReminderIsSet, ReminderMinutesBeforeStart,
//!   ExtendedProperty`) before every `CalendarItemType` member (`Start, End, IsAllDayEvent,
//!   LegacyFreeBusyStatus, Location, StartTimeZone, EndTimeZone`); a field is written only when it
//!   is `Some` or non-empty.
//! - `xs:dateTime` values are written in UTC with `Z` (the instant is kept exactly, fractions of a
//!   second included); any valid form Exchange sends is read (`Z`, an offset, or none = UTC).
//! - A `PropertySetId` is a bare GUID (no braces), checked before anything is written; the
//!   well-known PS_PUBLIC_STRINGS GUID is read as [`PropertySet::PublicStrings`], so both
//!   spellings of our named property compare equal after a read; other GUIDs are read in lower
//!   case ([`ExtendedFieldUri::same_property`] compares them without regard to case).
//! - The read-only `ItemId` and `CalendarItemType` are never written inside an item: a request that
//!   tries is refused naming the field.
//!
//! Entry types: [`CalendarItem`], [`ItemId`], [`ExtendedFieldUri`], [`ExtendedProperty`],
//! [`PropertyPath`], [`ItemField`], [`ItemShape`], [`Body`].

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};

use crate::error::Error;
use crate::ops::get_folder::BaseShape;
use crate::types::ews_enum;
use crate::xml::{
    Reader, Slot, TYPES_NS, XmlWriter, check_xml_chars, escape, read_bool, read_text, read_value,
    required,
};

/// The GUID of PS_PUBLIC_STRINGS, the property set `DistinguishedPropertySetId="PublicStrings"`
/// names.
pub const PUBLIC_STRINGS_GUID: &str = "00020329-0000-0000-C000-000000000046";

/// The largest `ReminderMinutesBeforeStart` the schema allows (five years).
pub const MAX_REMINDER_MINUTES: u32 = 2_629_800;

/// `t:ItemId`: an item's id and, when known, the `ChangeKey` of the version that was read.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemid>.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ItemId {
    /// `@Id`: opaque, base64; never empty.
    pub id: String,
    /// `@ChangeKey`: the version; required by `UpdateItem`, optional elsewhere.
    pub change_key: Option<String>,
}

/// The property set of a named extended property.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedfielduri>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropertySet {
    /// `DistinguishedPropertySetId="PublicStrings"` (also what the GUID
    /// [`PUBLIC_STRINGS_GUID`] is read as).
    PublicStrings,
    /// `PropertySetId="<bare guid>"`: a private property set, written as given.
    Guid(String),
}

ews_enum! {
    /// `t:MapiPropertyTypeType`: the type of an extended property's value.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedfielduri>.
    MapiPropertyType {
        /// A time as a floating-point OLE date.
        ApplicationTime => "ApplicationTime",
        /// Several `ApplicationTime` values.
        ApplicationTimeArray => "ApplicationTimeArray",
        /// Base64 bytes.
        Binary => "Binary",
        /// Several `Binary` values.
        BinaryArray => "BinaryArray",
        /// `true` or `false`.
        Boolean => "Boolean",
        /// A GUID.
        Clsid => "CLSID",
        /// Several GUIDs.
        ClsidArray => "CLSIDArray",
        /// A 64-bit currency value.
        Currency => "Currency",
        /// Several `Currency` values.
        CurrencyArray => "CurrencyArray",
        /// A 64-bit float.
        Double => "Double",
        /// Several `Double` values.
        DoubleArray => "DoubleArray",
        /// For error reports only.
        Error => "Error",
        /// A 32-bit float.
        Float => "Float",
        /// Several `Float` values.
        FloatArray => "FloatArray",
        /// A 32-bit integer.
        Integer => "Integer",
        /// Several `Integer` values.
        IntegerArray => "IntegerArray",
        /// A 64-bit integer.
        Long => "Long",
        /// Several `Long` values.
        LongArray => "LongArray",
        /// For error reports only.
        Null => "Null",
        /// For error reports only.
        Object => "Object",
        /// For error reports only.
        ObjectArray => "ObjectArray",
        /// A 16-bit integer.
        Short => "Short",
        /// Several `Short` values.
        ShortArray => "ShortArray",
        /// An `xs:dateTime`.
        SystemTime => "SystemTime",
        /// Several `SystemTime` values.
        SystemTimeArray => "SystemTimeArray",
        /// A string.
        String => "String",
        /// Several strings.
        StringArray => "StringArray",
    }
}

/// `t:ExtendedFieldURI` for a named property: property set + name + type.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedfielduri>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtendedFieldUri {
    /// `DistinguishedPropertySetId` or `PropertySetId`.
    pub property_set: PropertySet,
    /// `PropertyName`: one fixed name per purpose (named-property slots are finite).
    pub property_name: String,
    /// `PropertyType`.
    pub property_type: MapiPropertyType,
}

/// `t:ExtendedProperty` with a single `t:Value`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedproperty>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtendedProperty {
    /// Which property.
    pub field: ExtendedFieldUri,
    /// The value as text (`t:Value`).
    pub value: String,
}

ews_enum! {
    /// `t:BodyTypeType`.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/body>.
    BodyType {
        /// Plain text.
        Text => "Text",
        /// HTML.
        Html => "HTML",
    }
}

/// `t:Body`: the text and its type.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/body>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Body {
    /// `@BodyType`.
    pub body_type: BodyType,
    /// The content (escaped on the wire; HTML is sent as escaped text, never as markup).
    pub text: String,
}

ews_enum! {
    /// `t:LegacyFreeBusyType`: how the item shows in free/busy.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/legacyfreebusystatus>.
    LegacyFreeBusyStatus {
        /// Free.
        Free => "Free",
        /// Tentative.
        Tentative => "Tentative",
        /// Busy.
        Busy => "Busy",
        /// Out of office.
        Oof => "OOF",
        /// Working elsewhere.
        WorkingElsewhere => "WorkingElsewhere",
        /// No data.
        NoData => "NoData",
    }
}

ews_enum! {
    /// `t:CalendarItemTypeType` (read-only).
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendaritemtype>.
    CalendarItemType {
        /// A single appointment.
        Single => "Single",
        /// An occurrence of a series (CalendarView expands them).
        Occurrence => "Occurrence",
        /// A modified occurrence of a series.
        Exception => "Exception",
        /// The master of a series.
        RecurringMaster => "RecurringMaster",
    }
}

/// One calendar item, for writing (CreateItem) and as read (FindItem/GetItem); every field
/// optional, written only when Some/non-empty, always in schema order.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendaritem>.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarItem {
    /// `t:ItemId` (read only: never written inside an item).
    pub item_id: Option<ItemId>,
    /// `t:Subject`.
    pub subject: Option<String>,
    /// `t:Body`.
    pub body: Option<Body>,
    /// `t:Categories/t:String`.
    pub categories: Vec<String>,
    /// `t:ReminderIsSet`.
    pub reminder_is_set: Option<bool>,
    /// `t:ReminderMinutesBeforeStart`, at most [`MAX_REMINDER_MINUTES`].
    pub reminder_minutes_before_start: Option<u32>,
    /// `t:ExtendedProperty`, in order. On read, only named properties with a single value are
    /// kept (those this crate can ask for).
    pub extended_properties: Vec<ExtendedProperty>,
    /// `t:Start`.
    pub start: Option<DateTime<FixedOffset>>,
    /// `t:End`.
    pub end: Option<DateTime<FixedOffset>>,
    /// `t:IsAllDayEvent`.
    pub is_all_day_event: Option<bool>,
    /// `t:LegacyFreeBusyStatus`.
    pub legacy_free_busy_status: Option<LegacyFreeBusyStatus>,
    /// `t:Location`.
    pub location: Option<String>,
    /// `t:CalendarItemType` (read only: never written inside an item).
    pub calendar_item_type: Option<CalendarItemType>,
    /// `t:StartTimeZone/@Id`: a Windows zone id such as `W. Europe Standard Time`.
    pub start_time_zone: Option<String>,
    /// `t:EndTimeZone/@Id`: a Windows zone id.
    pub end_time_zone: Option<String>,
}

/// `m:ItemShape`: which properties `FindItem` and `GetItem` return.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemshape>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemShape {
    /// `t:BaseShape`; `IdOnly` plus `additional_properties` keeps responses small.
    pub base_shape: BaseShape,
    /// `t:AdditionalProperties`; omitted when empty.
    pub additional_properties: Vec<PropertyPath>,
}

/// A property path: `t:FieldURI` or `t:ExtendedFieldURI`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/path>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropertyPath {
    /// `t:FieldURI`.
    Field(ItemField),
    /// `t:ExtendedFieldURI`.
    Extended(ExtendedFieldUri),
}

ews_enum! {
    /// Item properties this crate reads and writes, as `FieldURI` values.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/fielduri>.
    ItemField {
        /// `item:Subject`.
        Subject => "item:Subject",
        /// `item:Body`.
        Body => "item:Body",
        /// `item:Categories`.
        Categories => "item:Categories",
        /// `item:ReminderIsSet`.
        ReminderIsSet => "item:ReminderIsSet",
        /// `item:ReminderMinutesBeforeStart`.
        ReminderMinutesBeforeStart => "item:ReminderMinutesBeforeStart",
        /// `calendar:Start`.
        Start => "calendar:Start",
        /// `calendar:End`.
        End => "calendar:End",
        /// `calendar:IsAllDayEvent`.
        IsAllDayEvent => "calendar:IsAllDayEvent",
        /// `calendar:LegacyFreeBusyStatus`.
        LegacyFreeBusyStatus => "calendar:LegacyFreeBusyStatus",
        /// `calendar:Location`.
        Location => "calendar:Location",
        /// `calendar:CalendarItemType` (read-only).
        CalendarItemType => "calendar:CalendarItemType",
        /// `calendar:StartTimeZone`.
        StartTimeZone => "calendar:StartTimeZone",
        /// `calendar:EndTimeZone`.
        EndTimeZone => "calendar:EndTimeZone",
    }
}

impl CalendarItem {
    /// The settable properties that are present, in schema order, as paths (for `UpdateItem`,
    /// which needs exactly one). `item_id` and `calendar_item_type` are not settable and not listed.
    pub fn present_paths(&self) -> Vec<PropertyPath> {
        let mut paths = Vec::new();
        let mut push = |present: bool, field: ItemField| {
            if present {
                paths.push(PropertyPath::Field(field));
            }
        };
        push(self.subject.is_some(), ItemField::Subject);
        push(self.body.is_some(), ItemField::Body);
        push(!self.categories.is_empty(), ItemField::Categories);
        push(self.reminder_is_set.is_some(), ItemField::ReminderIsSet);
        push(
            self.reminder_minutes_before_start.is_some(),
            ItemField::ReminderMinutesBeforeStart,
        );
        let extended_at = paths.len();
        let mut calendar = Vec::new();
        let mut push_calendar = |present: bool, field: ItemField| {
            if present {
                calendar.push(PropertyPath::Field(field));
            }
        };
        push_calendar(self.start.is_some(), ItemField::Start);
        push_calendar(self.end.is_some(), ItemField::End);
        push_calendar(self.is_all_day_event.is_some(), ItemField::IsAllDayEvent);
        push_calendar(
            self.legacy_free_busy_status.is_some(),
            ItemField::LegacyFreeBusyStatus,
        );
        push_calendar(self.location.is_some(), ItemField::Location);
        push_calendar(self.start_time_zone.is_some(), ItemField::StartTimeZone);
        push_calendar(self.end_time_zone.is_some(), ItemField::EndTimeZone);
        paths.splice(
            extended_at..extended_at,
            self.extended_properties
                .iter()
                .map(|property| PropertyPath::Extended(property.field.clone())),
        );
        paths.extend(calendar);
        paths
    }

    /// The value of the first extended property at `field` (compared with
    /// [`ExtendedFieldUri::same_property`]), if the item carries it.
    pub fn extended_property(&self, field: &ExtendedFieldUri) -> Option<&str> {
        self.extended_properties
            .iter()
            .find(|property| property.field.same_property(field))
            .map(|property| property.value.as_str())
    }
}

impl ExtendedFieldUri {
    /// Whether both name the same property: same set (GUIDs compared without regard to case,
    /// the PS_PUBLIC_STRINGS GUID equal to `PublicStrings`), same name, same type.
    pub fn same_property(&self, other: &ExtendedFieldUri) -> bool {
        let set_guid = |set: &PropertySet| match set {
            PropertySet::PublicStrings => PUBLIC_STRINGS_GUID.to_ascii_lowercase(),
            PropertySet::Guid(guid) => guid.trim().to_ascii_lowercase(),
        };
        set_guid(&self.property_set) == set_guid(&other.property_set)
            && self.property_name == other.property_name
            && self.property_type == other.property_type
    }
}

// ---- writers ----------------------------------------------------------------------------------

/// Formats an `xs:dateTime` in UTC with `Z`, keeping fractions of a second when there are any.
pub fn format_date_time<Tz: chrono::TimeZone>(value: &DateTime<Tz>) -> String {
    value
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an `xs:dateTime` as Exchange sends it: with `Z`, with an offset, or without (UTC).
///
/// # Errors
/// [`Error::InvalidValue`] naming `element`.
pub fn parse_date_time(element: &str, value: &str) -> Result<DateTime<FixedOffset>, Error> {
    let value = value.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(value) {
        return Ok(parsed);
    }
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|naive| naive.and_utc().fixed_offset())
        .map_err(|_| Error::InvalidValue {
            element: element.to_owned(),
            value: value.chars().take(80).collect(),
        })
}

/// Whether `value` is a bare GUID as `t:GuidType` requires (8-4-4-4-12 hex digits, no braces).
pub fn is_bare_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
            group.len() == length && group.chars().all(|c| c.is_ascii_hexdigit())
        })
}

/// Checks a value the way `XmlWriter` does (XML 1.0 characters, and non-blank when `required`),
/// building the field name only when the value is refused: item batches are large and the names
/// are needed only in errors.
fn check(value: &str, required: bool, field: impl FnOnce() -> String) -> Result<(), Error> {
    if required && value.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: field(),
            reason: "must not be empty".to_owned(),
        });
    }
    check_xml_chars("", value).map_err(|error| match error {
        Error::InvalidInput { reason, .. } => Error::InvalidInput {
            field: field(),
            reason,
        },
        other => other,
    })
}

/// `<name>value</name>` with `value` checked as [`check`] does, then escaped.
fn checked_leaf(
    writer: &mut XmlWriter,
    name: &str,
    value: &str,
    required: bool,
    field: impl FnOnce() -> String,
) -> Result<(), Error> {
    check(value, required, field)?;
    writer.open(name);
    writer.raw(&escape(value));
    writer.close(name);
    Ok(())
}

/// Writes `t:ItemId`.
pub(crate) fn write_item_id(
    writer: &mut XmlWriter,
    field: &str,
    item_id: &ItemId,
) -> Result<(), Error> {
    check(&item_id.id, true, || format!("{field}.id"))?;
    let mut attributes = vec![("Id", "", item_id.id.as_str())];
    if let Some(change_key) = &item_id.change_key {
        check(change_key, true, || format!("{field}.change_key"))?;
        attributes.push(("ChangeKey", "", change_key.as_str()));
    }
    writer.open_with("t:ItemId", &attributes, true)
}

/// Writes `t:ExtendedFieldURI`, refusing an empty name or a property set id that is not a bare
/// GUID.
pub(crate) fn write_extended_field_uri(
    writer: &mut XmlWriter,
    field: &str,
    uri: &ExtendedFieldUri,
) -> Result<(), Error> {
    check(&uri.property_name, true, || {
        format!("{field}.property_name")
    })?;
    let set = match &uri.property_set {
        PropertySet::PublicStrings => ("DistinguishedPropertySetId", "PublicStrings"),
        PropertySet::Guid(guid) => {
            if !is_bare_guid(guid) {
                return Err(Error::InvalidInput {
                    field: format!("{field}.property_set"),
                    reason: "a PropertySetId must be a bare GUID such as \
                             00020329-0000-0000-C000-000000000046 (no braces)"
                        .to_owned(),
                });
            }
            ("PropertySetId", guid.as_str())
        }
    };
    // Every value is checked above (or is a GUID or a constant), so no field name is needed.
    writer.open_with(
        "t:ExtendedFieldURI",
        &[
            (set.0, "", set.1),
            ("PropertyName", "", &uri.property_name),
            ("PropertyType", "", uri.property_type.as_str()),
        ],
        true,
    )
}

/// Writes a property path (`t:FieldURI` or `t:ExtendedFieldURI`).
pub(crate) fn write_property_path(
    writer: &mut XmlWriter,
    field: &str,
    path: &PropertyPath,
) -> Result<(), Error> {
    match path {
        PropertyPath::Field(item_field) => {
            writer.raw(&format!(
                r#"<t:FieldURI FieldURI="{}"/>"#,
                item_field.as_str()
            ));
            Ok(())
        }
        PropertyPath::Extended(uri) => write_extended_field_uri(writer, field, uri),
    }
}

/// Writes `t:CalendarItem` with the fields present, in schema order (see the module invariants).
///
/// # Errors
/// [`Error::InvalidInput`] naming the field for a read-only field (`item_id`,
/// `calendar_item_type`), an empty category or time zone id, a reminder above
/// [`MAX_REMINDER_MINUTES`], a bad property set GUID, or characters XML 1.0 cannot carry.
pub(crate) fn write_calendar_item(
    writer: &mut XmlWriter,
    field: &str,
    item: &CalendarItem,
) -> Result<(), Error> {
    let read_only = |name: &str| Error::InvalidInput {
        field: format!("{field}.{name}"),
        reason: "is set by the server and cannot be written".to_owned(),
    };
    if item.item_id.is_some() {
        return Err(read_only("item_id"));
    }
    if item.calendar_item_type.is_some() {
        return Err(read_only("calendar_item_type"));
    }
    writer.open("t:CalendarItem");
    if let Some(subject) = &item.subject {
        checked_leaf(writer, "t:Subject", subject, false, || {
            format!("{field}.subject")
        })?;
    }
    if let Some(body) = &item.body {
        check(&body.text, false, || format!("{field}.body"))?;
        writer.open_with(
            "t:Body",
            &[("BodyType", "", body.body_type.as_str())],
            false,
        )?;
        writer.raw(&escape(&body.text));
        writer.close("t:Body");
    }
    if !item.categories.is_empty() {
        writer.open("t:Categories");
        for (index, category) in item.categories.iter().enumerate() {
            checked_leaf(writer, "t:String", category, true, || {
                format!("{field}.categories[{index}]")
            })?;
        }
        writer.close("t:Categories");
    }
    if let Some(value) = item.reminder_is_set {
        writer.leaf_bool("t:ReminderIsSet", value);
    }
    if let Some(minutes) = item.reminder_minutes_before_start {
        if minutes > MAX_REMINDER_MINUTES {
            return Err(Error::InvalidInput {
                field: format!("{field}.reminder_minutes_before_start"),
                reason: format!("must be at most {MAX_REMINDER_MINUTES} minutes"),
            });
        }
        writer.leaf_static("t:ReminderMinutesBeforeStart", &minutes.to_string());
    }
    for (index, property) in item.extended_properties.iter().enumerate() {
        let property_field = || format!("{field}.extended_properties[{index}]");
        writer.open("t:ExtendedProperty");
        if let Err(error) = write_extended_field_uri(writer, "", &property.field) {
            // Named again with the item's field path (the fast path above builds none).
            return Err(match error {
                Error::InvalidInput {
                    field: inner,
                    reason,
                } => Error::InvalidInput {
                    field: format!("{}{inner}", property_field()),
                    reason,
                },
                other => other,
            });
        }
        checked_leaf(writer, "t:Value", &property.value, false, || {
            format!("{}.value", property_field())
        })?;
        writer.close("t:ExtendedProperty");
    }
    if let Some(start) = &item.start {
        writer.leaf_static("t:Start", &format_date_time(start));
    }
    if let Some(end) = &item.end {
        writer.leaf_static("t:End", &format_date_time(end));
    }
    if let Some(value) = item.is_all_day_event {
        writer.leaf_bool("t:IsAllDayEvent", value);
    }
    if let Some(status) = item.legacy_free_busy_status {
        writer.leaf_static("t:LegacyFreeBusyStatus", status.as_str());
    }
    if let Some(location) = &item.location {
        checked_leaf(writer, "t:Location", location, false, || {
            format!("{field}.location")
        })?;
    }
    for (name, zone, zone_field) in [
        ("t:StartTimeZone", &item.start_time_zone, "start_time_zone"),
        ("t:EndTimeZone", &item.end_time_zone, "end_time_zone"),
    ] {
        if let Some(zone) = zone {
            check(zone, true, || format!("{field}.{zone_field}"))?;
            writer.open_with(name, &[("Id", "", zone)], true)?;
        }
    }
    writer.close("t:CalendarItem");
    Ok(())
}

/// Writes `m:ItemShape` (`t:BaseShape`, then `t:AdditionalProperties` when not empty).
pub(crate) fn write_item_shape(writer: &mut XmlWriter, shape: &ItemShape) -> Result<(), Error> {
    writer.open("m:ItemShape");
    writer.leaf_static("t:BaseShape", shape.base_shape.as_str());
    if !shape.additional_properties.is_empty() {
        writer.open("t:AdditionalProperties");
        for (index, path) in shape.additional_properties.iter().enumerate() {
            write_property_path(
                writer,
                &format!("item_shape.additional_properties[{index}]"),
                path,
            )?;
        }
        writer.close("t:AdditionalProperties");
    }
    writer.close("m:ItemShape");
    Ok(())
}

// ---- readers ----------------------------------------------------------------------------------
//
// Each reader is positioned just after its element's start tag and reads up to its end tag.

/// Reads `t:ItemId` (its attributes).
///
/// # Errors
/// [`Error::MissingElement`] without `Id`.
pub(crate) fn read_item_id(reader: &mut Reader<'_>) -> Result<ItemId, Error> {
    Ok(ItemId {
        id: reader.require_attribute("Id", "ItemId")?.into_owned(),
        change_key: reader.attribute("ChangeKey").map(Cow::into_owned),
    })
}

/// Reads a named `t:ExtendedFieldURI` from its attributes; `None` for the forms this crate does
/// not model (`PropertyTag`, `PropertyId`, distinguished sets other than `PublicStrings`).
///
/// # Errors
/// [`Error::MissingElement`] without `PropertyType`, [`Error::InvalidValue`] for an unknown one.
pub(crate) fn read_extended_field_uri(
    reader: &mut Reader<'_>,
) -> Result<Option<ExtendedFieldUri>, Error> {
    let Some(property_name) = reader.attribute("PropertyName") else {
        return Ok(None);
    };
    let property_set = match (
        reader.attribute("DistinguishedPropertySetId"),
        reader.attribute("PropertySetId"),
    ) {
        (Some(set), _) if set.trim() == "PublicStrings" => PropertySet::PublicStrings,
        (Some(_), _) => return Ok(None),
        (None, Some(guid)) if guid.trim().eq_ignore_ascii_case(PUBLIC_STRINGS_GUID) => {
            PropertySet::PublicStrings
        }
        (None, Some(guid)) => PropertySet::Guid(guid.trim().to_ascii_lowercase()),
        (None, None) => return Ok(None),
    };
    let property_type = crate::xml::parse_value(
        "PropertyType",
        reader
            .require_attribute("PropertyType", "ExtendedFieldURI")?
            .trim(),
    )?;
    Ok(Some(ExtendedFieldUri {
        property_set,
        property_name: property_name.into_owned(),
        property_type,
    }))
}

/// Reads one `t:ExtendedProperty`: `None` when its field is of a form this crate does not model
/// or it holds no single `t:Value` (multi-valued properties, `t:Values`, are not modelled).
fn read_extended_property(reader: &mut Reader<'_>) -> Result<Option<ExtendedProperty>, Error> {
    let mut field: Slot<Option<ExtendedFieldUri>> = None;
    let mut value = None;
    while let Some(child) = reader.next_child()? {
        if child.is(TYPES_NS, "ExtendedFieldURI") {
            reader.first(&mut field, read_extended_field_uri)?;
        } else if child.is(TYPES_NS, "Value") {
            reader.first(&mut value, read_text)?;
        } else {
            reader.skip()?;
        }
    }
    let Some(field) = required(field, "ExtendedFieldURI", "ExtendedProperty")? else {
        return Ok(None);
    };
    Ok(value
        .transpose()?
        .map(|value| ExtendedProperty { field, value }))
}

/// Reads any item element of the types namespace (`t:CalendarItem`, `t:Item`, `t:Message`, ...)
/// into a [`CalendarItem`]; the calendar fields stay `None` for other item types.
///
/// # Errors
/// [`Error`] when a present field does not have its type's form.
pub(crate) fn read_calendar_item(reader: &mut Reader<'_>) -> Result<CalendarItem, Error> {
    let mut item_id: Slot<ItemId> = None;
    let mut subject = None;
    let mut body: Slot<Body> = None;
    let mut categories: Slot<Vec<String>> = None;
    let mut reminder_is_set: Slot<bool> = None;
    let mut reminder_minutes: Slot<u32> = None;
    let mut extended_properties: Result<Vec<ExtendedProperty>, Error> = Ok(Vec::new());
    let mut start: Slot<DateTime<FixedOffset>> = None;
    let mut end: Slot<DateTime<FixedOffset>> = None;
    let mut is_all_day_event: Slot<bool> = None;
    let mut legacy_free_busy_status: Slot<LegacyFreeBusyStatus> = None;
    let mut location = None;
    let mut calendar_item_type: Slot<CalendarItemType> = None;
    let mut start_time_zone: Slot<Option<String>> = None;
    let mut end_time_zone: Slot<Option<String>> = None;
    while let Some(child) = reader.next_child()? {
        if !child.in_namespace(TYPES_NS) {
            reader.skip()?;
            continue;
        }
        let name = child.local();
        match name {
            "ItemId" => reader.first(&mut item_id, read_item_id)?,
            "Subject" => reader.first(&mut subject, read_text)?,
            "Body" => reader.first(&mut body, |reader| {
                let body_type = crate::xml::parse_value(
                    "BodyType",
                    reader.require_attribute("BodyType", "Body")?.trim(),
                )?;
                Ok(Body {
                    body_type,
                    text: read_text(reader)?,
                })
            })?,
            "Categories" => reader.first(&mut categories, |reader| {
                let mut strings = Vec::new();
                while let Some(string) = reader.next_child()? {
                    if string.is(TYPES_NS, "String") {
                        strings.push(read_text(reader)?);
                    } else {
                        reader.skip()?;
                    }
                }
                Ok(strings)
            })?,
            "ReminderIsSet" => reader.first(&mut reminder_is_set, |r| read_bool(r, name))?,
            "ReminderMinutesBeforeStart" => {
                reader.first(&mut reminder_minutes, |r| read_value(r, name))?
            }
            "ExtendedProperty" => {
                if extended_properties.is_ok() {
                    match reader.attempt(read_extended_property)? {
                        Ok(Some(property)) => {
                            if let Ok(properties) = &mut extended_properties {
                                properties.push(property);
                            }
                        }
                        Ok(None) => {}
                        Err(error) => extended_properties = Err(error),
                    }
                } else {
                    reader.skip()?;
                }
            }
            "Start" => reader.first(&mut start, |r| parse_date_time(name, &r.text()?))?,
            "End" => reader.first(&mut end, |r| parse_date_time(name, &r.text()?))?,
            "IsAllDayEvent" => reader.first(&mut is_all_day_event, |r| read_bool(r, name))?,
            "LegacyFreeBusyStatus" => {
                reader.first(&mut legacy_free_busy_status, |r| read_value(r, name))?
            }
            "Location" => reader.first(&mut location, read_text)?,
            "CalendarItemType" => reader.first(&mut calendar_item_type, |r| read_value(r, name))?,
            "StartTimeZone" => reader.first(&mut start_time_zone, zone_id)?,
            "EndTimeZone" => reader.first(&mut end_time_zone, zone_id)?,
            _ => reader.skip()?,
        }
    }
    let body = body.transpose()?;
    let extended_properties = extended_properties?;
    Ok(CalendarItem {
        item_id: item_id.transpose()?,
        subject: subject.transpose()?,
        body,
        categories: categories.transpose()?.unwrap_or_default(),
        reminder_is_set: reminder_is_set.transpose()?,
        reminder_minutes_before_start: reminder_minutes.transpose()?,
        extended_properties,
        start: start.transpose()?,
        end: end.transpose()?,
        is_all_day_event: is_all_day_event.transpose()?,
        legacy_free_busy_status: legacy_free_busy_status.transpose()?,
        location: location.transpose()?,
        calendar_item_type: calendar_item_type.transpose()?,
        start_time_zone: start_time_zone.transpose()?.flatten(),
        end_time_zone: end_time_zone.transpose()?.flatten(),
    })
}

/// The `Id` of a `t:StartTimeZone`/`t:EndTimeZone`.
fn zone_id(reader: &mut Reader<'_>) -> Result<Option<String>, Error> {
    Ok(reader.attribute("Id").map(Cow::into_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a document whose root is one item, as the item operations do.
    fn parse_calendar_item(document: &[u8]) -> Result<CalendarItem, Error> {
        let mut reader = Reader::new(document)?;
        reader.root()?;
        let outcome = read_calendar_item(&mut reader);
        reader.settle(outcome)
    }

    fn public(name: &str) -> ExtendedFieldUri {
        ExtendedFieldUri {
            property_set: PropertySet::PublicStrings,
            property_name: name.to_owned(),
            property_type: MapiPropertyType::String,
        }
    }

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn written(item: &CalendarItem) -> Result<String, Error> {
        let mut writer = XmlWriter::default();
        write_calendar_item(&mut writer, "item", item)?;
        Ok(writer.into_string())
    }

    #[test]
    fn date_times_are_written_in_utc_and_keep_the_instant() {
        assert_eq!(
            format_date_time(&at("2025-03-04T09:00:00+01:00")),
            "2025-03-04T08:00:00Z"
        );
        assert_eq!(
            format_date_time(&at("2025-03-04T00:30:00.250-05:30")),
            "2025-03-04T06:00:00.250Z"
        );
    }

    #[test]
    fn every_date_time_form_exchange_sends_is_read() {
        let utc = at("2025-03-04T08:00:00Z");
        for form in [
            "2025-03-04T08:00:00Z",
            " 2025-03-04T09:00:00+01:00\n",
            "2025-03-04T08:00:00",
            "2025-03-04T08:00:00.000",
            "2025-03-04T03:00:00-05:00",
        ] {
            assert_eq!(parse_date_time("Start", form).unwrap(), utc, "{form}");
        }
        let error = parse_date_time("Start", "04/03/2025 08:00").unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"invalid value "04/03/2025 08:00" in Start"#
        );
    }

    #[test]
    fn item_fields_are_written_in_schema_order() {
        let item = CalendarItem {
            subject: Some("Exam".to_owned()),
            body: Some(Body {
                body_type: BodyType::Html,
                text: "<b>Room</b> & more".to_owned(),
            }),
            categories: vec!["MyTimetable".to_owned()],
            reminder_is_set: Some(true),
            reminder_minutes_before_start: Some(15),
            extended_properties: vec![ExtendedProperty {
                field: public("MyTimetableId"),
                value: "ev-1".to_owned(),
            }],
            start: Some(at("2025-03-04T09:00:00+01:00")),
            end: Some(at("2025-03-04T10:00:00+01:00")),
            is_all_day_event: Some(false),
            legacy_free_busy_status: Some(LegacyFreeBusyStatus::Oof),
            location: Some("Hall 1".to_owned()),
            start_time_zone: Some("W. Europe Standard Time".to_owned()),
            end_time_zone: Some("W. Europe Standard Time".to_owned()),
            ..CalendarItem::default()
        };
        assert_eq!(
            written(&item).unwrap(),
            concat!(
                "<t:CalendarItem><t:Subject>Exam</t:Subject>",
                r#"<t:Body BodyType="HTML">&lt;b&gt;Room&lt;/b&gt; &amp; more</t:Body>"#,
                "<t:Categories><t:String>MyTimetable</t:String></t:Categories>",
                "<t:ReminderIsSet>true</t:ReminderIsSet>",
                "<t:ReminderMinutesBeforeStart>15</t:ReminderMinutesBeforeStart>",
                r#"<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="MyTimetableId" PropertyType="String"/>"#,
                "<t:Value>ev-1</t:Value></t:ExtendedProperty>",
                "<t:Start>2025-03-04T08:00:00Z</t:Start><t:End>2025-03-04T09:00:00Z</t:End>",
                "<t:IsAllDayEvent>false</t:IsAllDayEvent>",
                "<t:LegacyFreeBusyStatus>OOF</t:LegacyFreeBusyStatus>",
                "<t:Location>Hall 1</t:Location>",
                r#"<t:StartTimeZone Id="W. Europe Standard Time"/>"#,
                r#"<t:EndTimeZone Id="W. Europe Standard Time"/>"#,
                "</t:CalendarItem>"
            )
        );
        assert_eq!(
            item.present_paths().len(),
            13,
            "12 fields and one extended property"
        );
    }

    #[test]
    fn read_only_and_out_of_range_fields_are_refused_by_name() {
        let cases = [
            (
                CalendarItem {
                    item_id: Some(ItemId::default()),
                    ..CalendarItem::default()
                },
                "invalid input in item.item_id: is set by the server and cannot be written",
            ),
            (
                CalendarItem {
                    calendar_item_type: Some(CalendarItemType::Single),
                    ..CalendarItem::default()
                },
                "invalid input in item.calendar_item_type: is set by the server and cannot be written",
            ),
            (
                CalendarItem {
                    reminder_minutes_before_start: Some(MAX_REMINDER_MINUTES + 1),
                    ..CalendarItem::default()
                },
                "invalid input in item.reminder_minutes_before_start: must be at most 2629800 minutes",
            ),
            (
                CalendarItem {
                    location: Some("bell\u{7}".to_owned()),
                    ..CalendarItem::default()
                },
                "invalid input in item.location: character U+0007 at position 4 cannot be carried by XML 1.0",
            ),
            (
                CalendarItem {
                    categories: vec![" ".to_owned()],
                    ..CalendarItem::default()
                },
                "invalid input in item.categories[0]: must not be empty",
            ),
        ];
        for (item, message) in cases {
            assert_eq!(written(&item).unwrap_err().to_string(), message);
        }
    }

    #[test]
    fn property_set_guids_must_be_bare() {
        assert!(is_bare_guid(PUBLIC_STRINGS_GUID));
        assert!(is_bare_guid("c11ff724-aa03-4555-9952-8fa248a11c3e"));
        for bad in [
            "{c11ff724-aa03-4555-9952-8fa248a11c3e}",
            "c11ff724aa0345559952-8fa248a11c3e",
            "c11ff724-aa03-4555-9952-8fa248a11c3g",
            "",
        ] {
            assert!(!is_bare_guid(bad), "{bad}");
        }
        let mut writer = XmlWriter::default();
        let error = write_extended_field_uri(
            &mut writer,
            "uri",
            &ExtendedFieldUri {
                property_set: PropertySet::Guid(
                    "{c11ff724-aa03-4555-9952-8fa248a11c3e}".to_owned(),
                ),
                property_name: "Id".to_owned(),
                property_type: MapiPropertyType::String,
            },
        )
        .unwrap_err();
        assert!(
            error.to_string().starts_with(
                "invalid input in uri.property_set: a PropertySetId must be a bare GUID"
            )
        );
    }

    #[test]
    fn both_spellings_of_public_strings_read_as_the_same_property() {
        let item = parse_calendar_item(
            format!(
                r#"<t:CalendarItem xmlns:t="{TYPES_NS}">
<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="00020329-0000-0000-c000-000000000046" PropertyName="MyTimetableId" PropertyType="String"/><t:Value>a</t:Value></t:ExtendedProperty>
<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x1000" PropertyType="String"/><t:Value>skipped</t:Value></t:ExtendedProperty>
<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="Tags" PropertyType="StringArray"/><t:Values><t:Value>x</t:Value></t:Values></t:ExtendedProperty>
</t:CalendarItem>"#
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(item.extended_property(&public("MyTimetableId")), Some("a"));
        assert_eq!(item.extended_properties.len(), 1);
        assert_eq!(item.extended_properties[0].field, public("MyTimetableId"));
        let ours = |guid: &str| ExtendedFieldUri {
            property_set: PropertySet::Guid(guid.to_owned()),
            property_name: "MyTimetableId".to_owned(),
            property_type: MapiPropertyType::String,
        };
        assert!(
            ours("C11FF724-AA03-4555-9952-8FA248A11C3E")
                .same_property(&ours("c11ff724-aa03-4555-9952-8fa248a11c3e"))
        );
        assert!(
            !ours("c11ff724-aa03-4555-9952-8fa248a11c3e").same_property(&public("MyTimetableId"))
        );
    }

    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        "\\PC{1,12}|[<>&\"' \t\r\naë日]{1,8}"
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the writer accepts, the reader gives back unchanged (times as the same
        /// instant); whatever it refuses is refused as `InvalidInput`.
        #[test]
        fn written_items_read_back_unchanged(
            subject in text(),
            body in text(),
            html in proptest::bool::ANY,
            category in text(),
            value in text(),
            location in text(),
            zone in text(),
            seconds in 0i64..4_000_000_000,
            offset_minutes in -840i32..=840,
            minutes in proptest::option::of(0u32..=MAX_REMINDER_MINUTES),
            flags in proptest::option::of(proptest::bool::ANY),
            status in proptest::sample::select(LegacyFreeBusyStatus::ALL),
            bad in proptest::option::weighted(0.2, "[\u{1}\u{b}\u{1f}\u{fffe}\u{ffff}]"),
        ) {
            let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let start = DateTime::from_timestamp(seconds, 0).unwrap().with_timezone(&offset);
            let item = CalendarItem {
                subject: Some(format!("{subject}{}", bad.clone().unwrap_or_default())),
                body: Some(Body { body_type: if html { BodyType::Html } else { BodyType::Text }, text: body }),
                categories: vec![category],
                reminder_is_set: flags,
                reminder_minutes_before_start: minutes,
                extended_properties: vec![ExtendedProperty { field: public("Id"), value }],
                start: Some(start),
                end: Some(start + chrono::Duration::minutes(90)),
                is_all_day_event: flags,
                legacy_free_busy_status: Some(status),
                location: Some(location),
                start_time_zone: Some(zone.clone()),
                end_time_zone: Some(zone),
                ..CalendarItem::default()
            };
            let blank = [&item.categories[0], item.start_time_zone.as_ref().unwrap()]
                .iter()
                .any(|value| value.trim().is_empty());
            match written(&item) {
                Ok(xml) => {
                    proptest::prop_assert!(bad.is_none() && !blank);
                    let document = xml.replacen(
                        "<t:CalendarItem>",
                        &format!(r#"<t:CalendarItem xmlns:t="{TYPES_NS}">"#),
                        1,
                    );
                    let read = parse_calendar_item(document.as_bytes()).unwrap();
                    proptest::prop_assert_eq!(read, item);
                }
                Err(Error::InvalidInput { field, .. }) => {
                    let expected = if bad.is_some() { "item.subject" } else { "" };
                    proptest::prop_assert!(
                        field == expected || (bad.is_none() && blank),
                        "refused {field} (bad: {bad:?}, blank: {blank})"
                    );
                }
                Err(other) => proptest::prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }
}
