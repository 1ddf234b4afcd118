//! The calendar-item operations (PROTOCOL §6): FindItem (`CalendarView`, or
//! `IndexedPageItemView` with an `IsEqualTo` restriction on an extended property, or an `Or` of them), GetItem,
//! CreateItem, UpdateItem and DeleteItem, applied to the mailboxes' items.
//!
//! Invariants: one response message per input (folder, id, item or change), in input order, with
//! HTTP 200 whatever their outcome; a request that breaks the schema (missing required
//! attribute, unknown or misordered `t:CalendarItem` child, unparsable value) is a SOAP fault and
//! changes nothing, because every input is parsed before the first change; after an error that
//! would repeat (`ErrorAccessDenied`, `ErrorMailboxStoreUnavailable`,
//! `ErrorMailboxMoveInProgress`, `ErrorQuotaExceeded`) the rest of the batch gets
//! `ErrorBatchProcessingStopped`; a failed change leaves the item as it was; every stored change
//! gives the item a new ChangeKey; no request clones a whole mailbox (only the items it returns
//! or changes).
//! Access: the owner (or an impersonating account) may do anything; another caller needs the
//! calendar permission: ReadItems `FullDetails` to read, CanCreateItems to create, EditItems /
//! DeleteItems `All` (or `Owned` for items it created) to change or delete; else
//! `ErrorAccessDenied`. Under impersonation an item id of another mailbox is `ErrorItemNotFound`.
//! Entry points: [`find_item`], [`get_item`], [`create_item`], [`update_item`], [`delete_item`].

use chrono::{DateTime, Months, Utc};

use crate::items::{ItemBody, SimExtendedProperty, SimItem, parse_instant};
use crate::ops::{Actor, Answer, effective_flags, locate_folder};
use crate::render::EffectiveRights;
use crate::render_items::{
    self, ExtendedPath, FIELD_URIS, ItemMessage, ItemShape, calendar_item_id_only,
    calendar_item_with_rights,
};
use crate::state::{ItemScope, Mailbox, ReadScope, SimState};
use crate::xml::{Element, MESSAGES_NS, TYPES_NS};

/// Codes after which the rest of a batch is not attempted (PROTOCOL §6.6).
const STOPS_BATCH: [&str; 4] = [
    "ErrorAccessDenied",
    "ErrorMailboxStoreUnavailable",
    "ErrorMailboxMoveInProgress",
    "ErrorQuotaExceeded",
];

/// The children of `t:CalendarItem` in schema order (`ItemType` members, then
/// `CalendarItemType` members); only some are stored, the others are accepted and ignored.
const CALENDAR_ITEM_CHILDREN: [&str; 116] = [
    "MimeContent",
    "ItemId",
    "ParentFolderId",
    "ItemClass",
    "Subject",
    "Sensitivity",
    "Body",
    "Attachments",
    "DateTimeReceived",
    "Size",
    "Categories",
    "Importance",
    "InReplyTo",
    "IsSubmitted",
    "IsDraft",
    "IsFromMe",
    "IsResend",
    "IsUnmodified",
    "InternetMessageHeaders",
    "DateTimeSent",
    "DateTimeCreated",
    "ResponseObjects",
    "ReminderDueBy",
    "ReminderIsSet",
    "ReminderNextTime",
    "ReminderMinutesBeforeStart",
    "DisplayCc",
    "DisplayTo",
    "DisplayBcc",
    "HasAttachments",
    "ExtendedProperty",
    "Culture",
    "EffectiveRights",
    "LastModifiedName",
    "LastModifiedTime",
    "IsAssociated",
    "WebClientReadFormQueryString",
    "WebClientEditFormQueryString",
    "ConversationId",
    "UniqueBody",
    "Flag",
    "StoreEntryId",
    "InstanceKey",
    "NormalizedBody",
    "EntityExtractionResult",
    "PolicyTag",
    "ArchiveTag",
    "RetentionDate",
    "Preview",
    "RightsManagementLicenseData",
    "PredictedActionReasons",
    "IsClutter",
    "BlockStatus",
    "HasBlockedImages",
    "TextBody",
    "IconIndex",
    "SearchKey",
    "SortKey",
    "Hashtags",
    "Mentions",
    "MentionedMe",
    "MentionsPreview",
    "MentionsEx",
    "AppliedHashtags",
    "AppliedHashtagsPreview",
    "Likes",
    "LikesPreview",
    "UID",
    "RecurrenceId",
    "DateTimeStamp",
    "Start",
    "End",
    "OriginalStart",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "When",
    "IsMeeting",
    "IsCancelled",
    "IsRecurring",
    "MeetingRequestWasSent",
    "IsResponseRequested",
    "CalendarItemType",
    "MyResponseType",
    "Organizer",
    "RequiredAttendees",
    "OptionalAttendees",
    "Resources",
    "InboxReminders",
    "ConflictingMeetingCount",
    "AdjacentMeetingCount",
    "ConflictingMeetings",
    "AdjacentMeetings",
    "Duration",
    "TimeZone",
    "AppointmentReplyTime",
    "AppointmentSequenceNumber",
    "AppointmentState",
    "Recurrence",
    "FirstOccurrence",
    "LastOccurrence",
    "ModifiedOccurrences",
    "DeletedOccurrences",
    "MeetingTimeZone",
    "StartTimeZone",
    "EndTimeZone",
    "ConferenceType",
    "AllowNewTimeProposal",
    "IsOnlineMeeting",
    "MeetingWorkspaceUrl",
    "NetShowUrl",
    "EnhancedLocation",
    "StartWallClock",
    "EndWallClock",
    "StartTimeZoneId",
    "EndTimeZoneId",
];

const FREE_BUSY: [&str; 6] = [
    "Free",
    "Tentative",
    "Busy",
    "OOF",
    "WorkingElsewhere",
    "NoData",
];

/// The request breaks Microsoft's schema: answered with the `ErrorSchemaValidation` fault.
struct SchemaError;

const SCHEMA: &str = "ErrorSchemaValidation";

/// One stored property with its new value (`None`: cleared).
#[derive(Clone, Debug)]
enum FieldValue {
    Subject(Option<String>),
    Body(Option<ItemBody>),
    Categories(Vec<String>),
    ReminderIsSet(bool),
    ReminderMinutes(i32),
    Start(DateTime<Utc>),
    End(DateTime<Utc>),
    IsAllDay(bool),
    FreeBusy(String),
    Location(Option<String>),
    StartTimeZone(Option<String>),
    EndTimeZone(Option<String>),
}

impl FieldValue {
    fn apply(self, item: &mut SimItem) {
        match self {
            FieldValue::Subject(value) => item.subject = value,
            FieldValue::Body(value) => item.body = value,
            FieldValue::Categories(value) => item.categories = value,
            FieldValue::ReminderIsSet(value) => item.reminder_is_set = value,
            FieldValue::ReminderMinutes(value) => item.reminder_minutes = value,
            FieldValue::Start(value) => item.start = value,
            FieldValue::End(value) => item.end = value,
            FieldValue::IsAllDay(value) => item.is_all_day = value,
            FieldValue::FreeBusy(value) => item.free_busy = value,
            FieldValue::Location(value) => item.location = value,
            FieldValue::StartTimeZone(value) => item.start_time_zone = value,
            FieldValue::EndTimeZone(value) => item.end_time_zone = value,
        }
    }

    /// The field URI of this property.
    fn uri(&self) -> &'static str {
        match self {
            FieldValue::Subject(_) => "item:Subject",
            FieldValue::Body(_) => "item:Body",
            FieldValue::Categories(_) => "item:Categories",
            FieldValue::ReminderIsSet(_) => "item:ReminderIsSet",
            FieldValue::ReminderMinutes(_) => "item:ReminderMinutesBeforeStart",
            FieldValue::Start(_) => "calendar:Start",
            FieldValue::End(_) => "calendar:End",
            FieldValue::IsAllDay(_) => "calendar:IsAllDayEvent",
            FieldValue::FreeBusy(_) => "calendar:LegacyFreeBusyStatus",
            FieldValue::Location(_) => "calendar:Location",
            FieldValue::StartTimeZone(_) => "calendar:StartTimeZone",
            FieldValue::EndTimeZone(_) => "calendar:EndTimeZone",
        }
    }

    /// The value a `DeleteItemField` leaves (Exchange's default), or the refusal code.
    fn cleared(uri: &str) -> Result<FieldValue, &'static str> {
        Ok(match uri {
            "item:Subject" => FieldValue::Subject(None),
            "item:Body" => FieldValue::Body(None),
            "item:Categories" => FieldValue::Categories(Vec::new()),
            "item:ReminderIsSet" => FieldValue::ReminderIsSet(true),
            "item:ReminderMinutesBeforeStart" => FieldValue::ReminderMinutes(15),
            "calendar:IsAllDayEvent" => FieldValue::IsAllDay(false),
            "calendar:LegacyFreeBusyStatus" => FieldValue::FreeBusy("Busy".to_string()),
            "calendar:Location" => FieldValue::Location(None),
            "calendar:StartTimeZone" => FieldValue::StartTimeZone(None),
            "calendar:EndTimeZone" => FieldValue::EndTimeZone(None),
            "calendar:Start" | "calendar:End" => return Err("ErrorInvalidPropertyDelete"),
            _ => return Err("ErrorInvalidPropertyRequest"),
        })
    }
}

fn parse_bool(text: &str) -> Result<bool, SchemaError> {
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(SchemaError),
    }
}

/// Reads a stored `t:CalendarItem` child; `Ok(None)` for a child the simulator ignores.
fn parse_field(child: &Element) -> Result<Option<FieldValue>, SchemaError> {
    let text = || child.text.clone();
    Ok(Some(match child.name.as_str() {
        "Subject" => FieldValue::Subject(Some(text())),
        "Body" => {
            let body_type = child.attribute("BodyType").ok_or(SchemaError)?;
            if body_type != "Text" && body_type != "HTML" {
                return Err(SchemaError);
            }
            FieldValue::Body(Some(ItemBody {
                body_type: body_type.to_string(),
                text: text(),
            }))
        }
        "Categories" => FieldValue::Categories(
            child
                .children_named(TYPES_NS, "String")
                .map(|string| string.text.clone())
                .collect(),
        ),
        "ReminderIsSet" => FieldValue::ReminderIsSet(parse_bool(&child.text)?),
        "ReminderMinutesBeforeStart" => {
            FieldValue::ReminderMinutes(child.trimmed_text().parse().map_err(|_| SchemaError)?)
        }
        "Start" => FieldValue::Start(parse_instant(&child.text).ok_or(SchemaError)?),
        "End" => FieldValue::End(parse_instant(&child.text).ok_or(SchemaError)?),
        "IsAllDayEvent" => FieldValue::IsAllDay(parse_bool(&child.text)?),
        "LegacyFreeBusyStatus" => {
            let value = child.trimmed_text();
            if !FREE_BUSY.contains(&value) {
                return Err(SchemaError);
            }
            FieldValue::FreeBusy(value.to_string())
        }
        "Location" => FieldValue::Location(Some(text())),
        "StartTimeZone" => FieldValue::StartTimeZone(child.attribute("Id").map(str::to_string)),
        "EndTimeZone" => FieldValue::EndTimeZone(child.attribute("Id").map(str::to_string)),
        _ => return Ok(None),
    }))
}

/// Reads a `t:ExtendedFieldURI` addressed by property set and name; `Ok(None)` for the valid
/// forms the simulator does not store (`PropertyTag`, `PropertyId`).
fn parse_extended_path(element: &Element) -> Result<Option<ExtendedPath>, SchemaError> {
    let property_type = element.attribute("PropertyType").ok_or(SchemaError)?;
    let (set_attribute, set) = match (
        element.attribute("DistinguishedPropertySetId"),
        element.attribute("PropertySetId"),
    ) {
        (Some(set), None) => ("DistinguishedPropertySetId", set),
        (None, Some(set)) => {
            // `GuidType`: a bare GUID, no braces (PROTOCOL §6.3).
            let bare = set.len() == 36
                && set.char_indices().all(|(index, character)| {
                    if [8, 13, 18, 23].contains(&index) {
                        character == '-'
                    } else {
                        character.is_ascii_hexdigit()
                    }
                });
            if !bare {
                return Err(SchemaError);
            }
            ("PropertySetId", set)
        }
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => return Err(SchemaError),
    };
    let Some(name) = element.attribute("PropertyName") else {
        return Ok(None);
    };
    Ok(Some(ExtendedPath {
        set_attribute,
        set: set.to_string(),
        name: name.to_string(),
        property_type: property_type.to_string(),
    }))
}

/// Reads a `t:ExtendedProperty` (`ExtendedFieldURI` + `Value`): `Ok(Err(code))` for a valid
/// property the simulator does not store.
fn parse_extended_property(
    element: &Element,
) -> Result<Result<SimExtendedProperty, &'static str>, SchemaError> {
    let uri = element
        .child(TYPES_NS, "ExtendedFieldURI")
        .ok_or(SchemaError)?;
    let path = parse_extended_path(uri)?;
    let value = element.child(TYPES_NS, "Value");
    let values = element.child(TYPES_NS, "Values");
    if value.is_none() == values.is_none() {
        return Err(SchemaError);
    }
    match (path, value) {
        (Some(path), Some(value)) => Ok(Ok(SimExtendedProperty {
            property_set: path.set,
            name: path.name,
            property_type: path.property_type,
            value: value.text.clone(),
        })),
        _ => Ok(Err("ErrorInvalidPropertyRequest")),
    }
}

/// What a `t:CalendarItem` of a CreateItem (or the one property of a SetItemField) holds.
#[derive(Default)]
struct ItemContent {
    fields: Vec<FieldValue>,
    extended: Vec<SimExtendedProperty>,
    /// A valid property the simulator cannot store.
    refused: Option<&'static str>,
}

fn parse_calendar_item(element: &Element) -> Result<ItemContent, SchemaError> {
    let mut content = ItemContent::default();
    let mut last_rank: Option<usize> = None;
    for child in &element.children {
        if child.namespace != TYPES_NS {
            return Err(SchemaError);
        }
        let rank = CALENDAR_ITEM_CHILDREN
            .iter()
            .position(|name| *name == child.name)
            .ok_or(SchemaError)?;
        let repeatable = child.name == "ExtendedProperty";
        if last_rank.is_some_and(|last| rank < last || (rank == last && !repeatable)) {
            return Err(SchemaError);
        }
        last_rank = Some(rank);
        if child.name == "ExtendedProperty" {
            match parse_extended_property(child)? {
                Ok(property) => content.extended.push(property),
                Err(code) => content.refused = content.refused.or(Some(code)),
            }
        } else if let Some(field) = parse_field(child)? {
            content.fields.push(field);
        }
    }
    Ok(content)
}

fn parse_shape(operation: &Element) -> Result<ItemShape, SchemaError> {
    let shape_element = operation
        .child(MESSAGES_NS, "ItemShape")
        .ok_or(SchemaError)?;
    let mut shape = ItemShape::default();
    match shape_element
        .child(TYPES_NS, "BaseShape")
        .map(Element::trimmed_text)
    {
        Some("IdOnly") => {}
        Some("Default" | "AllProperties") => shape.all_fields(),
        _ => return Err(SchemaError),
    }
    if let Some(additional) = shape_element.child(TYPES_NS, "AdditionalProperties") {
        for path in &additional.children {
            if path.is(TYPES_NS, "FieldURI") {
                shape.add_field(path.attribute("FieldURI").unwrap_or_default());
            } else if path.is(TYPES_NS, "ExtendedFieldURI") {
                if let Some(extended) = parse_extended_path(path)? {
                    shape.extended.push(extended);
                }
            }
        }
    }
    Ok(shape)
}

/// What a caller wants to do with items of a calendar.
#[derive(Clone, Copy)]
enum Access {
    Read,
    Create,
    Edit,
    Delete,
}

/// Whether `actor` may do `access` on `mailbox`'s calendar (for Edit/Delete: on `item`).
fn allowed(
    state: &SimState,
    actor: &Actor,
    mailbox: &Mailbox,
    access: Access,
    item: Option<&SimItem>,
) -> bool {
    if actor.owns(&mailbox.smtp.to_ascii_lowercase()) {
        return true;
    }
    let flags = effective_flags(state, mailbox, &actor.smtp);
    let scoped = |scope: ItemScope| match scope {
        ItemScope::All => true,
        ItemScope::Owned => item.is_some_and(|item| item.created_by == actor.smtp),
        ItemScope::None => false,
    };
    match access {
        Access::Read => flags.read_items == ReadScope::FullDetails,
        Access::Create => flags.can_create_items,
        Access::Edit => scoped(flags.edit_items),
        Access::Delete => scoped(flags.delete_items),
    }
}

/// An item as FindItem and GetItem show it to `actor`: with `t:EffectiveRights` when the shape
/// asks for `item:EffectiveRights`. On an item, `Modify` and `Delete` follow EditItems and
/// DeleteItems (`All`, or `Owned` for the items the caller created), `Read` follows ReadItems;
/// the create rights belong to folders and are false; `ViewPrivateItems` is the owner's.
fn shown_item(
    state: &SimState,
    actor: &Actor,
    mailbox: &Mailbox,
    item: &SimItem,
    shape: &ItemShape,
) -> String {
    let rights = shape.effective_rights.then(|| {
        let owner = actor.owns(&mailbox.smtp.to_ascii_lowercase());
        EffectiveRights {
            create_associated: false,
            create_contents: false,
            create_hierarchy: false,
            delete: allowed(state, actor, mailbox, Access::Delete, Some(item)),
            modify: allowed(state, actor, mailbox, Access::Edit, Some(item)),
            read: allowed(state, actor, mailbox, Access::Read, Some(item)),
            view_private_items: owner,
        }
    });
    calendar_item_with_rights(item, shape, rights)
}

/// The mailbox key and item an `t:ItemId` names, as seen by `actor`.
fn locate_item<'a>(
    state: &'a SimState,
    actor: &Actor,
    item_id: &Element,
) -> Result<(&'a Mailbox, &'a SimItem), &'static str> {
    if !item_id.is(TYPES_NS, "ItemId") {
        return Err("ErrorInvalidIdMalformed");
    }
    let id = item_id.attribute("Id").unwrap_or_default();
    if id.is_empty() {
        return Err("ErrorInvalidIdMalformed");
    }
    let key = state.mailbox_of_item(id).ok_or("ErrorItemNotFound")?;
    if actor.impersonated && key != actor.smtp {
        return Err("ErrorItemNotFound");
    }
    let mailbox = state.mailboxes.get(key).ok_or("ErrorItemNotFound")?;
    if mailbox.moving {
        return Err("ErrorMailboxMoveInProgress");
    }
    if mailbox.store_unavailable {
        return Err("ErrorMailboxStoreUnavailable");
    }
    let item = mailbox.items.get(id).ok_or("ErrorItemNotFound")?;
    Ok((mailbox, item))
}

/// The mailbox (lower-cased) holding the first item a request names by `t:ItemId`: the target of
/// an UpdateItem, DeleteItem or GetItem by delegate access, for fault filters.
pub(crate) fn first_item_mailbox(state: &SimState, operation: &Element) -> Option<String> {
    fn first_id(element: &Element) -> Option<&str> {
        if element.is(TYPES_NS, "ItemId") {
            return element.attribute("Id");
        }
        element.children.iter().find_map(first_id)
    }
    state
        .mailbox_of_item(first_id(operation)?)
        .map(str::to_string)
}

/// Whether a batch's successes are writes that count as changed items.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Changes {
    Counted,
    NotCounted,
}

/// Collects per-input outcomes and applies the batch-stop rule.
struct Batch {
    messages: Vec<ItemMessage>,
    stopped: bool,
    changed: u64,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            messages: Vec::new(),
            stopped: false,
            changed: 0,
        }
    }

    /// Whether the next input must be skipped (then its message is already recorded).
    fn skip(&mut self) -> bool {
        if self.stopped {
            self.messages
                .push(ItemMessage::Error("ErrorBatchProcessingStopped"));
        }
        self.stopped
    }

    /// Runs `each` on every input in order (an input after a batch-stopping error is skipped
    /// with `ErrorBatchProcessingStopped`), each outcome recorded; with [`Changes::Counted`] a
    /// success counts as a changed item (the simulator's write counters).
    fn run<T>(
        inputs: impl IntoIterator<Item = T>,
        changes: Changes,
        mut each: impl FnMut(T) -> Result<ItemMessage, &'static str>,
    ) -> Batch {
        let mut batch = Batch::new();
        for input in inputs {
            if batch.skip() {
                continue;
            }
            let outcome = each(input);
            if changes == Changes::Counted && outcome.is_ok() {
                batch.changed += 1;
            }
            batch.push(outcome);
        }
        batch
    }

    fn push(&mut self, outcome: Result<ItemMessage, &'static str>) {
        match outcome {
            Ok(message) => self.messages.push(message),
            Err(code) => {
                if STOPS_BATCH.contains(&code) {
                    self.stopped = true;
                }
                self.messages.push(ItemMessage::Error(code));
            }
        }
    }

    fn answer(self, operation: &str) -> Answer {
        let mut answer = Answer::ok(render_items::item_response(operation, &self.messages));
        answer.items = self.changed;
        answer
    }
}

// ---- FindItem ----

/// The paging of a FindItem.
enum View {
    Calendar {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        max: Option<usize>,
    },
    Indexed {
        offset: usize,
        max: Option<usize>,
        from_end: bool,
    },
    None,
}

fn parse_count(element: &Element, name: &str) -> Result<Option<usize>, SchemaError> {
    element
        .attribute(name)
        .map(|text| text.trim().parse::<usize>().map_err(|_| SchemaError))
        .transpose()
}

fn parse_view(operation: &Element) -> Result<View, SchemaError> {
    if let Some(view) = operation.child(MESSAGES_NS, "CalendarView") {
        let instant = |name: &str| {
            view.attribute(name)
                .and_then(parse_instant)
                .ok_or(SchemaError)
        };
        return Ok(View::Calendar {
            start: instant("StartDate")?,
            end: instant("EndDate")?,
            max: parse_count(view, "MaxEntriesReturned")?,
        });
    }
    if let Some(view) = operation.child(MESSAGES_NS, "IndexedPageItemView") {
        let from_end = match view.attribute("BasePoint") {
            Some("Beginning") => false,
            Some("End") => true,
            _ => return Err(SchemaError),
        };
        return Ok(View::Indexed {
            offset: parse_count(view, "Offset")?.ok_or(SchemaError)?,
            max: parse_count(view, "MaxEntriesReturned")?,
            from_end,
        });
    }
    Ok(View::None)
}

/// A supported restriction: an extended property equal to a constant (`t:IsEqualTo`), or any
/// of several such (`t:Or`, possibly nested).
struct Restriction {
    alternatives: Vec<(ExtendedPath, String)>,
}

impl Restriction {
    fn matches(&self, item: &SimItem) -> bool {
        self.alternatives.iter().any(|(path, value)| {
            item.extended_property(&path.set, &path.name, &path.property_type)
                == Some(value.as_str())
        })
    }
}

fn parse_restriction(operation: &Element) -> Result<Option<Restriction>, &'static str> {
    let Some(restriction) = operation.child(MESSAGES_NS, "Restriction") else {
        return Ok(None);
    };
    let expression = restriction
        .children
        .iter()
        .find(|child| child.namespace == TYPES_NS)
        .ok_or("ErrorInvalidRestriction")?;
    let mut alternatives = Vec::new();
    collect_alternatives(expression, &mut alternatives)?;
    Ok(Some(Restriction { alternatives }))
}

/// The `(property, constant)` pairs of an `IsEqualTo`, or of every operand of an `Or`.
fn collect_alternatives(
    expression: &Element,
    alternatives: &mut Vec<(ExtendedPath, String)>,
) -> Result<(), &'static str> {
    match expression.name.as_str() {
        "Or" => {
            let operands: Vec<&Element> = expression
                .children
                .iter()
                .filter(|child| child.namespace == TYPES_NS)
                .collect();
            if operands.is_empty() {
                return Err(SCHEMA);
            }
            for operand in operands {
                collect_alternatives(operand, alternatives)?;
            }
            Ok(())
        }
        "IsEqualTo" => {
            let uri = expression
                .child(TYPES_NS, "ExtendedFieldURI")
                .ok_or("ErrorUnsupportedPathForQuery")?;
            let path = parse_extended_path(uri)
                .map_err(|_| SCHEMA)?
                .ok_or("ErrorUnsupportedPathForQuery")?;
            let value = expression
                .types_path(&["FieldURIOrConstant", "Constant"])
                .and_then(|constant| constant.attribute("Value"))
                .ok_or("ErrorInvalidRestriction")?;
            alternatives.push((path, value.to_string()));
            Ok(())
        }
        _ => Err("ErrorInvalidRestriction"),
    }
}

fn overlaps(item: &SimItem, start: &DateTime<Utc>, end: &DateTime<Utc>) -> bool {
    if item.start == item.end {
        // A zero-length item is in the window when its instant is.
        item.start >= *start && item.start < *end
    } else {
        item.start < *end && item.end > *start
    }
}

/// FindItem over the calendars in `m:ParentFolderIds`.
pub(crate) fn find_item(state: &mut SimState, actor: &Actor, operation: &Element) -> Answer {
    let answer = find_item_in(state, actor, operation);
    // EWSFindCountLimit: every item an answer holds counts against the account's budget until
    // the answer is sent; concurrent FindItem calls of one account share it.
    let (answer, charged) = answer;
    if charged > 0 && !state.charge_find(&actor.account, charged) {
        let limit = state.server.find_count_limit;
        let folders = operation
            .child(MESSAGES_NS, "ParentFolderIds")
            .map_or(1, |ids| ids.children.len().max(1));
        let messages: Vec<ItemMessage> = (0..folders)
            .map(|_| ItemMessage::FindCountExceeded { limit })
            .collect();
        return Answer::ok(render_items::item_response("FindItem", &messages));
    }
    answer
}

/// FindItem's answer and the number of items it holds (its find-count charge).
fn find_item_in(state: &SimState, actor: &Actor, operation: &Element) -> (Answer, usize) {
    let mut charged = 0usize;
    if operation.attribute("Traversal").is_none() {
        return (Answer::fault(SCHEMA), 0);
    }
    let (Ok(shape), Ok(view)) = (parse_shape(operation), parse_view(operation)) else {
        return (Answer::fault(SCHEMA), 0);
    };
    let restriction = parse_restriction(operation);
    if matches!(restriction, Err(code) if code == SCHEMA) {
        return (Answer::fault(SCHEMA), 0);
    }
    let Some(folder_ids) = operation.child(MESSAGES_NS, "ParentFolderIds") else {
        return (Answer::fault(SCHEMA), 0);
    };
    if folder_ids.children.is_empty() {
        return (Answer::fault(SCHEMA), 0);
    }
    let has_sort = operation.child(MESSAGES_NS, "SortOrder").is_some();
    let batch = Batch::run(&folder_ids.children, Changes::NotCounted, |folder_id| {
        let mailbox = locate_folder(state, actor, folder_id)?;
        if !allowed(state, actor, mailbox, Access::Read, None) {
            return Err("ErrorAccessDenied");
        }
        let restriction = restriction.as_ref().map_err(|code| *code)?;
        match &view {
            View::Calendar { start, end, max } => {
                // "Restrictions and sort order may not be specified for a CalendarView."
                if restriction.is_some() || has_sort {
                    return Err("ErrorInvalidRestriction");
                }
                let limit = start
                    .checked_add_months(Months::new(24))
                    .ok_or("ErrorCalendarViewRangeTooBig")?;
                if *end > limit {
                    return Err("ErrorCalendarViewRangeTooBig");
                }
                let mut found: Vec<&SimItem> = mailbox
                    .items
                    .values()
                    .filter(|item| overlaps(item, start, end))
                    .collect();
                found.sort_by(|a, b| a.start.cmp(&b.start).then(a.item_id.cmp(&b.item_id)));
                let total = found.len();
                // Every item the view processes is charged, not only those it returns.
                charged += total;
                let shown = max.map_or(total, |max| max.min(total));
                let items: String = found[..shown]
                    .iter()
                    .map(|item| shown_item(state, actor, mailbox, item, &shape))
                    .collect();
                Ok(ItemMessage::FoundInView {
                    items,
                    total,
                    includes_last: shown == total,
                })
            }
            View::Indexed { .. } | View::None => {
                let mut found: Vec<&SimItem> = mailbox
                    .items
                    .values()
                    .filter(|item| {
                        restriction
                            .as_ref()
                            .is_none_or(|restriction| restriction.matches(item))
                    })
                    .collect();
                found.sort_by(|a, b| a.start.cmp(&b.start).then(a.item_id.cmp(&b.item_id)));
                let total = found.len();
                let (offset, max, from_end) = match view {
                    View::Indexed {
                        offset,
                        max,
                        from_end,
                    } => (offset, max, from_end),
                    _ => (0, None, false),
                };
                let wanted = max.unwrap_or(total);
                let (first, last) = if from_end {
                    let last = total.saturating_sub(offset);
                    (last.saturating_sub(wanted), last)
                } else {
                    let first = offset.min(total);
                    (first, (first + wanted).min(total))
                };
                let items: String = found[first..last]
                    .iter()
                    .map(|item| shown_item(state, actor, mailbox, item, &shape))
                    .collect();
                let next_offset = offset + (last - first);
                // A FindItem without paging returns (and is charged for) every item; an
                // indexed page is exempt ("the search results are truncated" to fit, which
                // pages of at most 100 never meet).
                if matches!(view, View::None) {
                    charged += last - first;
                }
                Ok(ItemMessage::FoundIndexed {
                    items,
                    next_offset,
                    total,
                    includes_last: if from_end { first == 0 } else { last == total },
                })
            }
        }
    });
    (batch.answer("FindItem"), charged)
}

/// The `m:ItemIds` of a GetItem or DeleteItem, where it holds at least one id.
fn item_ids(operation: &Element) -> Option<&Element> {
    operation
        .child(MESSAGES_NS, "ItemIds")
        .filter(|ids| !ids.children.is_empty())
}

// ---- GetItem ----

/// GetItem by `t:ItemId`.
pub(crate) fn get_item(state: &mut SimState, actor: &Actor, operation: &Element) -> Answer {
    let state = &*state;
    let Ok(shape) = parse_shape(operation) else {
        return Answer::fault(SCHEMA);
    };
    let Some(ids) = item_ids(operation) else {
        return Answer::fault(SCHEMA);
    };
    let batch = Batch::run(&ids.children, Changes::NotCounted, |id| {
        locate_item(state, actor, id).and_then(|(mailbox, item)| {
            if !allowed(state, actor, mailbox, Access::Read, Some(item)) {
                return Err("ErrorAccessDenied");
            }
            Ok(ItemMessage::Items(shown_item(
                state, actor, mailbox, item, &shape,
            )))
        })
    });
    batch.answer("GetItem")
}

// ---- CreateItem ----

/// The calendar a CreateItem saves into: `m:SavedItemFolderId`, else the actor's own.
fn target_calendar<'a>(
    state: &'a SimState,
    actor: &Actor,
    operation: &Element,
) -> Result<&'a Mailbox, &'static str> {
    match operation
        .child(MESSAGES_NS, "SavedItemFolderId")
        .and_then(|saved| saved.children.first())
    {
        Some(folder_id) => locate_folder(state, actor, folder_id),
        None => {
            let mailbox = state
                .mailboxes
                .get(&actor.smtp)
                .ok_or("ErrorMissingEmailAddress")?;
            if mailbox.moving {
                return Err("ErrorMailboxMoveInProgress");
            }
            if mailbox.store_unavailable {
                return Err("ErrorMailboxStoreUnavailable");
            }
            Ok(mailbox)
        }
    }
}

/// CreateItem of calendar items.
pub(crate) fn create_item(state: &mut SimState, actor: &Actor, operation: &Element) -> Answer {
    let Some(items) = operation
        .child(MESSAGES_NS, "Items")
        .filter(|items| !items.children.is_empty())
    else {
        return Answer::fault(SCHEMA);
    };
    // Parse everything first: a schema error refuses the whole request before any change.
    let mut parsed: Vec<Result<ItemContent, &'static str>> = Vec::new();
    for element in &items.children {
        if element.namespace != TYPES_NS {
            return Answer::fault(SCHEMA);
        }
        if element.name != "CalendarItem" {
            parsed.push(Err("ErrorInvalidItemForOperationCreateItem"));
            continue;
        }
        match parse_calendar_item(element) {
            Ok(content) => parsed.push(Ok(content)),
            Err(SchemaError) => return Answer::fault(SCHEMA),
        }
    }
    let send_invitations = operation.attribute("SendMeetingInvitations");
    if send_invitations.is_some_and(|value| {
        !["SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy"].contains(&value)
    }) {
        return Answer::fault(SCHEMA);
    }
    let target = target_calendar(state, actor, operation).map(|mailbox| {
        (
            mailbox.smtp.to_ascii_lowercase(),
            allowed(state, actor, mailbox, Access::Create, None),
            mailbox.item_quota,
        )
    });
    let batch = Batch::run(parsed, Changes::Counted, |content| {
        let content = content?;
        if send_invitations.is_none() {
            return Err("ErrorSendMeetingInvitationsRequired");
        }
        let (key, may_create, quota) = target.as_ref().map_err(|code| *code)?;
        if !may_create {
            return Err("ErrorAccessDenied");
        }
        if let Some(code) = content.refused {
            return Err(code);
        }
        let mut item = SimItem::new(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH);
        let (mut has_start, mut has_end) = (false, false);
        for field in content.fields {
            has_start |= matches!(field, FieldValue::Start(_));
            has_end |= matches!(field, FieldValue::End(_));
            field.apply(&mut item);
        }
        if !(has_start && has_end) {
            return Err("ErrorInvalidRequest");
        }
        if item.end < item.start {
            return Err("ErrorCalendarEndDateIsEarlierThanStartDate");
        }
        for property in content.extended {
            set_extended(&mut item, property);
        }
        let count = state
            .mailboxes
            .get(key)
            .map_or(0, |mailbox| mailbox.items.len());
        if quota.is_some_and(|quota| count >= quota) {
            return Err("ErrorQuotaExceeded");
        }
        item.created_by = actor.smtp.clone();
        let stored = state.store_item(key, item).map_err(|_| "ErrorItemSave")?;
        Ok(ItemMessage::Items(calendar_item_id_only(&stored)))
    });
    batch.answer("CreateItem")
}

/// Sets an extended property, replacing one with the same address.
fn set_extended(item: &mut SimItem, property: SimExtendedProperty) {
    match item.extended_properties.iter_mut().find(|existing| {
        existing.same_address(
            &property.property_set,
            &property.name,
            &property.property_type,
        )
    }) {
        Some(existing) => existing.value = property.value,
        None => item.extended_properties.push(property),
    }
}

// ---- UpdateItem ----

/// One parsed update of an `t:ItemChange`.
enum Update {
    Set(FieldValue),
    SetExtended(SimExtendedProperty),
    DeleteExtended(ExtendedPath),
    /// A valid update the simulator refuses with this code.
    Refused(&'static str),
}

fn parse_update(update: &Element) -> Result<Update, SchemaError> {
    let path = update.children.first().ok_or(SchemaError)?;
    match update.name.as_str() {
        "SetItemField" => {
            let item = update
                .children
                .get(1)
                .filter(|item| item.namespace == TYPES_NS)
                .ok_or(SchemaError)?;
            if item.name != "CalendarItem" {
                return Ok(Update::Refused("ErrorObjectTypeChanged"));
            }
            let content = parse_calendar_item(item)?;
            if path.is(TYPES_NS, "FieldURI") {
                let uri = path.attribute("FieldURI").ok_or(SchemaError)?;
                if !FIELD_URIS.contains(&uri) || uri == "calendar:CalendarItemType" {
                    return Ok(Update::Refused("ErrorInvalidPropertySet"));
                }
                // The property in the item must be the one the path names.
                let value = content.fields.into_iter().find(|field| field.uri() == uri);
                Ok(match value {
                    Some(value) => Update::Set(value),
                    None => Update::Refused("ErrorInvalidPropertySet"),
                })
            } else if path.is(TYPES_NS, "ExtendedFieldURI") {
                let Some(wanted) = parse_extended_path(path)? else {
                    return Ok(Update::Refused("ErrorInvalidPropertyRequest"));
                };
                Ok(
                    match content.extended.into_iter().find(|property| {
                        property.same_address(&wanted.set, &wanted.name, &wanted.property_type)
                    }) {
                        Some(property) => Update::SetExtended(property),
                        None => {
                            Update::Refused(content.refused.unwrap_or("ErrorInvalidPropertySet"))
                        }
                    },
                )
            } else {
                Ok(Update::Refused("ErrorInvalidPropertyRequest"))
            }
        }
        "DeleteItemField" => {
            if path.is(TYPES_NS, "FieldURI") {
                let uri = path.attribute("FieldURI").ok_or(SchemaError)?;
                Ok(match FieldValue::cleared(uri) {
                    Ok(value) => Update::Set(value),
                    Err(code) => Update::Refused(code),
                })
            } else if path.is(TYPES_NS, "ExtendedFieldURI") {
                Ok(match parse_extended_path(path)? {
                    Some(path) => Update::DeleteExtended(path),
                    None => Update::Refused("ErrorInvalidPropertyRequest"),
                })
            } else {
                Ok(Update::Refused("ErrorInvalidPropertyRequest"))
            }
        }
        "AppendToItemField" => Ok(Update::Refused("ErrorInvalidPropertyAppend")),
        _ => Err(SchemaError),
    }
}

struct ItemChange {
    id: Element,
    change_key: Option<String>,
    updates: Vec<Update>,
}

/// UpdateItem of calendar items.
pub(crate) fn update_item(state: &mut SimState, actor: &Actor, operation: &Element) -> Answer {
    let resolution = match operation.attribute("ConflictResolution") {
        Some(value @ ("NeverOverwrite" | "AutoResolve" | "AlwaysOverwrite")) => value,
        _ => return Answer::fault(SCHEMA),
    };
    let send = operation.attribute("SendMeetingInvitationsOrCancellations");
    if send.is_some_and(|value| {
        ![
            "SendToNone",
            "SendOnlyToAll",
            "SendOnlyToChanged",
            "SendToAllAndSaveCopy",
            "SendToChangedAndSaveCopy",
        ]
        .contains(&value)
    }) {
        return Answer::fault(SCHEMA);
    }
    let Some(changes_element) = operation.child(MESSAGES_NS, "ItemChanges") else {
        return Answer::fault(SCHEMA);
    };
    let mut changes = Vec::new();
    for change in &changes_element.children {
        if !change.is(TYPES_NS, "ItemChange") {
            return Answer::fault(SCHEMA);
        }
        let Some(id) = change.children.first() else {
            return Answer::fault(SCHEMA);
        };
        let Some(updates) = change.child(TYPES_NS, "Updates") else {
            return Answer::fault(SCHEMA);
        };
        let mut parsed = Vec::new();
        for update in &updates.children {
            match parse_update(update) {
                Ok(update) => parsed.push(update),
                Err(SchemaError) => return Answer::fault(SCHEMA),
            }
        }
        if parsed.is_empty() {
            return Answer::fault(SCHEMA);
        }
        changes.push(ItemChange {
            id: id.clone(),
            change_key: id.attribute("ChangeKey").map(str::to_string),
            updates: parsed,
        });
    }
    if changes.is_empty() {
        return Answer::fault(SCHEMA);
    }
    let batch = Batch::run(changes, Changes::Counted, |change| {
        if send.is_none() {
            return Err("ErrorSendMeetingInvitationsOrCancellationsRequired");
        }
        let (mailbox, item) = locate_item(state, actor, &change.id)?;
        if !allowed(state, actor, mailbox, Access::Edit, Some(item)) {
            return Err("ErrorAccessDenied");
        }
        let Some(sent_key) = &change.change_key else {
            return Err("ErrorChangeKeyRequiredForWriteOperations");
        };
        if *sent_key != item.change_key && resolution != "AlwaysOverwrite" {
            return Err("ErrorIrresolvableConflict");
        }
        let key = mailbox.smtp.to_ascii_lowercase();
        let mut updated = item.clone();
        for update in change.updates {
            match update {
                Update::Set(value) => value.apply(&mut updated),
                Update::SetExtended(property) => set_extended(&mut updated, property),
                Update::DeleteExtended(path) => updated.extended_properties.retain(|property| {
                    !property.same_address(&path.set, &path.name, &path.property_type)
                }),
                Update::Refused(code) => return Err(code),
            }
        }
        if updated.end < updated.start {
            return Err("ErrorCalendarEndDateIsEarlierThanStartDate");
        }
        let id = updated.item_id.clone();
        if let Some(slot) = state
            .mailboxes
            .get_mut(&key)
            .and_then(|mailbox| mailbox.items.get_mut(&id))
        {
            *slot = updated;
        }
        state.bump_item(&key, &id);
        let stored = &state.mailboxes[&key].items[&id];
        Ok(ItemMessage::Updated(calendar_item_id_only(stored), 0))
    });
    batch.answer("UpdateItem")
}

// ---- DeleteItem ----

/// DeleteItem of calendar items (every `DeleteType` removes the item from the calendar; a
/// delegate's `MoveToDeletedItems` is refused per item with `ErrorCannotDeleteObject`).
pub(crate) fn delete_item(state: &mut SimState, actor: &Actor, operation: &Element) -> Answer {
    if !matches!(
        operation.attribute("DeleteType"),
        Some("HardDelete" | "SoftDelete" | "MoveToDeletedItems")
    ) {
        return Answer::fault(SCHEMA);
    }
    let move_to_deleted_items = operation.attribute("DeleteType") == Some("MoveToDeletedItems");
    let send = operation.attribute("SendMeetingCancellations");
    if send.is_some_and(|value| {
        !["SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy"].contains(&value)
    }) {
        return Answer::fault(SCHEMA);
    }
    let Some(ids) = item_ids(operation) else {
        return Answer::fault(SCHEMA);
    };
    let batch = Batch::run(&ids.children, Changes::Counted, |id| {
        if send.is_none() {
            return Err("ErrorSendMeetingCancellationsRequired");
        }
        let (mailbox, item) = locate_item(state, actor, id)?;
        if !allowed(state, actor, mailbox, Access::Delete, Some(item)) {
            return Err("ErrorAccessDenied");
        }
        let key = mailbox.smtp.to_ascii_lowercase();
        // A delegate may delete, but not move the item into the owner's Deleted Items.
        if move_to_deleted_items && !actor.owns(&key) {
            return Err("ErrorCannotDeleteObject");
        }
        let item_id = item.item_id.clone();
        state.delete_item(&key, &item_id);
        Ok(ItemMessage::Deleted)
    });
    batch.answer("DeleteItem")
}
