//! `FindItem`: list the items of a calendar, either expanded over a time window (`CalendarView`)
//! or page by page with an optional restriction (`IndexedPageItemView`), e.g. the lookup of our
//! items by their external-id property (PROTOCOL §6.1, §6.2).
//!
//! Invariants:
//! - `Traversal="Shallow"`; children in schema order: `ItemShape`, the view, `Restriction`,
//!   `ParentFolderIds`.
//! - A restriction is never combined with a `CalendarView` (the server refuses it): refused here
//!   as `InvalidInput` before anything is sent.
//! - Only `t:CalendarItem` elements become items: other item types a calendar folder can hold
//!   (`t:Item`, `t:Message`, ...) are skipped, because nothing we push is one and treating them as
//!   appointments would be wrong. `total_items_in_view` is the server's count, which includes them.
//!
//! Entry types: [`FindItem`], [`FindItemView`], [`Restriction`], [`FindItemPage`]; the shape is
//! [`ItemShape`] from `ews::items`.

use chrono::{DateTime, Utc};

use crate::error::Error;
pub use crate::items::ItemShape;
use crate::items::{
    CalendarItem, PropertyPath, format_date_time, read_calendar_item, write_item_shape,
    write_property_path,
};
use crate::ops::get_folder::{FolderIdRef, write_folder_id_ref};
use crate::ops::{Operation, sealed};
use crate::response::{Payload, ResponseMessage};
use crate::xml::{MESSAGES_NS, Reader, Slot, TYPES_NS, Tag, XmlWriter, parse_value, required};

/// Finds items in one folder.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/finditem>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindItem {
    /// Which properties to return.
    pub item_shape: ItemShape,
    /// A time window or a page.
    pub view: FindItemView,
    /// `m:Restriction`; only with [`FindItemView::IndexedPage`].
    pub restriction: Option<Restriction>,
    /// The folder to search (`m:ParentFolderIds` with this one folder).
    pub parent_folder: FolderIdRef,
}

/// The paging of a `FindItem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindItemView {
    /// `m:CalendarView`: singles and expanded occurrences in [start, end). No offset: when
    /// `includes_last_item_in_range` comes back false, split the window.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/calendarview>.
    Calendar {
        /// `@StartDate`.
        start: DateTime<Utc>,
        /// `@EndDate`; must be after `start`.
        end: DateTime<Utc>,
        /// `@MaxEntriesReturned`, 1 to `i32::MAX`.
        max_entries: u32,
    },
    /// `m:IndexedPageItemView BasePoint="Beginning"`: singles and series masters, unexpanded.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/indexedpageitemview>.
    IndexedPage {
        /// `@MaxEntriesReturned`, 1 to `i32::MAX`.
        max_entries: u32,
        /// `@Offset` from the beginning, at most `i32::MAX`.
        offset: u32,
    },
}

/// `m:Restriction` with the search expressions this crate needs.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/restriction>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restriction {
    /// `t:IsEqualTo`: the property at `path` equals the constant `value`.
    IsEqualTo {
        /// The property compared.
        path: PropertyPath,
        /// `t:FieldURIOrConstant/t:Constant/@Value`.
        value: String,
    },
    /// `t:Or`: any of these (at least one), e.g. one `IsEqualTo` per external id, so a batch of
    /// ids is looked up in one request.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/or>.
    Or(Vec<Restriction>),
}

/// Writes one search expression (recursively for `t:Or`).
fn write_search_expression(
    writer: &mut XmlWriter,
    field: &str,
    restriction: &Restriction,
) -> Result<(), Error> {
    match restriction {
        Restriction::IsEqualTo { path, value } => {
            writer.open("t:IsEqualTo");
            write_property_path(writer, &format!("{field}.path"), path)?;
            writer.open("t:FieldURIOrConstant");
            writer.open_with(
                "t:Constant",
                &[("Value", &format!("{field}.value"), value)],
                true,
            )?;
            writer.close("t:FieldURIOrConstant");
            writer.close("t:IsEqualTo");
        }
        Restriction::Or(operands) => {
            if operands.is_empty() {
                return Err(Error::InvalidInput {
                    field: field.to_owned(),
                    reason: "an Or needs at least one operand".to_owned(),
                });
            }
            writer.open("t:Or");
            for (index, operand) in operands.iter().enumerate() {
                write_search_expression(writer, &format!("{field}[{index}]"), operand)?;
            }
            writer.close("t:Or");
        }
    }
    Ok(())
}

/// One page of a successful `FindItem` (`m:RootFolder`).
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/rootfolder-finditemresponsemessage>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindItemPage {
    /// The calendar items, in the server's order (other item types skipped, see the module doc).
    pub items: Vec<CalendarItem>,
    /// `@IncludesLastItemInRange`; false means more items exist (absent = true).
    pub includes_last_item_in_range: bool,
    /// `@TotalItemsInView` (absent = 0).
    pub total_items_in_view: u32,
    /// `@IndexedPagingOffset`: the offset of the next page (IndexedPageItemView only).
    pub indexed_paging_offset: Option<u32>,
}

impl sealed::Sealed for FindItem {}

impl Operation for FindItem {
    const NAME: &'static str = "FindItem";
    type Response = Vec<ResponseMessage<FindItemPage>>;
    const IDEMPOTENT: bool = true;

    fn retarget(&mut self, from: &str, to: &str) {
        self.parent_folder.retarget(from, to);
    }

    message_operation_members!(PagePayload, "FindItemResponseMessage");

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        if matches!(self.view, FindItemView::Calendar { .. }) && self.restriction.is_some() {
            return Err(Error::InvalidInput {
                field: "restriction".to_owned(),
                reason:
                    "Exchange refuses a restriction with a CalendarView; use an IndexedPage view"
                        .to_owned(),
            });
        }
        writer.raw(r#"<m:FindItem Traversal="Shallow">"#);
        write_item_shape(writer, &self.item_shape)?;
        match &self.view {
            FindItemView::Calendar {
                start,
                end,
                max_entries,
            } => {
                if end <= start {
                    return Err(Error::InvalidInput {
                        field: "view.end".to_owned(),
                        reason: "must be after view.start".to_owned(),
                    });
                }
                let max_entries = xs_int("view.max_entries", *max_entries, 1)?;
                writer.raw(&format!(
                    r#"<m:CalendarView MaxEntriesReturned="{max_entries}" StartDate="{}" EndDate="{}"/>"#,
                    format_date_time(start),
                    format_date_time(end)
                ));
            }
            FindItemView::IndexedPage {
                max_entries,
                offset,
            } => {
                let max_entries = xs_int("view.max_entries", *max_entries, 1)?;
                let offset = xs_int("view.offset", *offset, 0)?;
                writer.raw(&format!(
                    r#"<m:IndexedPageItemView MaxEntriesReturned="{max_entries}" Offset="{offset}" BasePoint="Beginning"/>"#
                ));
            }
        }
        if let Some(restriction) = &self.restriction {
            writer.open("m:Restriction");
            write_search_expression(writer, "restriction", restriction)?;
            writer.close("m:Restriction");
        }
        writer.open("m:ParentFolderIds");
        write_folder_id_ref(writer, "parent_folder", &self.parent_folder)?;
        writer.close("m:ParentFolderIds");
        writer.close("m:FindItem");
        Ok(())
    }
}

/// Checks that a count fits `xs:int` and is at least `minimum`.
fn xs_int(field: &str, value: u32, minimum: u32) -> Result<u32, Error> {
    if value < minimum || value > i32::MAX as u32 {
        return Err(Error::InvalidInput {
            field: field.to_owned(),
            reason: format!("must be between {minimum} and {}", i32::MAX),
        });
    }
    Ok(value)
}

/// The payload of a FindItem message: its first `m:RootFolder`.
#[derive(Default)]
struct PagePayload {
    root_folder: Slot<RootFolder>,
}

/// What `m:RootFolder` held; its attributes are judged after its items (in [`Payload::finish`]).
struct RootFolder {
    includes_last_item_in_range: Result<bool, Error>,
    total_items_in_view: Result<Option<u32>, Error>,
    indexed_paging_offset: Result<Option<u32>, Error>,
    items: Result<Vec<CalendarItem>, Error>,
}

impl Payload for PagePayload {
    type Output = FindItemPage;

    fn child(&mut self, reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<(), Error> {
        if tag.is(MESSAGES_NS, "RootFolder") {
            reader.first(&mut self.root_folder, read_root_folder)
        } else {
            reader.skip()
        }
    }

    fn finish(self, message: &str) -> Result<FindItemPage, Error> {
        let root = required(self.root_folder, "RootFolder", message)?;
        let includes_last_item_in_range = root.includes_last_item_in_range?;
        Ok(FindItemPage {
            items: root.items?,
            includes_last_item_in_range,
            total_items_in_view: root.total_items_in_view?.unwrap_or(0),
            indexed_paging_offset: root.indexed_paging_offset?,
        })
    }
}

fn read_root_folder(reader: &mut Reader<'_>) -> Result<RootFolder, Error> {
    let number = |name: &str| -> Result<Option<u32>, Error> {
        reader
            .attribute(name)
            .map(|value| parse_value(&format!("RootFolder/@{name}"), value.trim()))
            .transpose()
    };
    let includes_last_item_in_range = match reader.attribute("IncludesLastItemInRange") {
        None => Ok(true),
        Some(value) => match value.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(Error::InvalidValue {
                element: "RootFolder/@IncludesLastItemInRange".to_owned(),
                value: other.chars().take(80).collect(),
            }),
        },
    };
    let total_items_in_view = number("TotalItemsInView");
    let indexed_paging_offset = number("IndexedPagingOffset");
    let mut items: Slot<Vec<CalendarItem>> = None;
    while let Some(child) = reader.next_child()? {
        if child.is(TYPES_NS, "Items") {
            reader.first(&mut items, read_calendar_items)?;
        } else {
            reader.skip()?;
        }
    }
    Ok(RootFolder {
        includes_last_item_in_range,
        total_items_in_view,
        indexed_paging_offset,
        items: items.transpose().map(Option::unwrap_or_default),
    })
}

/// The `t:CalendarItem`s of `t:Items` (other item types are skipped); the first wrong one is the
/// error.
fn read_calendar_items(reader: &mut Reader<'_>) -> Result<Vec<CalendarItem>, Error> {
    let mut items = Vec::new();
    let mut failed = None;
    while let Some(child) = reader.next_child()? {
        if failed.is_none() && child.is(TYPES_NS, "CalendarItem") {
            match reader.attempt(read_calendar_item)? {
                Ok(item) => items.push(item),
                Err(error) => failed = Some(error),
            }
        } else {
            reader.skip()?;
        }
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(items),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::{
        ExtendedFieldUri, ItemField, ItemId, LegacyFreeBusyStatus, MapiPropertyType, PropertySet,
    };
    use crate::ops::get_folder::{BaseShape, DistinguishedFolderName};
    use crate::test_util::{assert_encodes, delegate_header, fixture};

    fn external_id() -> ExtendedFieldUri {
        ExtendedFieldUri {
            property_set: PropertySet::Guid("c11ff724-aa03-4555-9952-8fa248a11c3e".to_owned()),
            property_name: "MyTimetableEventId".to_owned(),
            property_type: MapiPropertyType::String,
        }
    }

    fn shape() -> ItemShape {
        ItemShape {
            base_shape: BaseShape::IdOnly,
            additional_properties: vec![
                PropertyPath::Field(ItemField::Subject),
                PropertyPath::Field(ItemField::Start),
                PropertyPath::Extended(external_id()),
            ],
        }
    }

    fn calendar(mailbox: Option<&str>) -> FolderIdRef {
        FolderIdRef::Distinguished {
            id: DistinguishedFolderName::Calendar,
            mailbox: mailbox.map(str::to_owned),
        }
    }

    #[test]
    fn calendar_view_request_in_delegate_mode() {
        assert_encodes(
            &FindItem {
                item_shape: shape(),
                view: FindItemView::Calendar {
                    start: "2025-03-03T00:00:00+01:00".parse().unwrap(),
                    end: "2025-03-10T00:00:00Z".parse().unwrap(),
                    max_entries: 500,
                },
                restriction: None,
                parent_folder: calendar(Some("alice@contoso.example")),
            },
            r#"
<m:FindItem Traversal="Shallow">
  <m:ItemShape>
    <t:BaseShape>IdOnly</t:BaseShape>
    <t:AdditionalProperties>
      <t:FieldURI FieldURI="item:Subject"/>
      <t:FieldURI FieldURI="calendar:Start"/>
      <t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="MyTimetableEventId" PropertyType="String"/>
    </t:AdditionalProperties>
  </m:ItemShape>
  <m:CalendarView MaxEntriesReturned="500" StartDate="2025-03-02T23:00:00Z" EndDate="2025-03-10T00:00:00Z"/>
  <m:ParentFolderIds>
    <t:DistinguishedFolderId Id="calendar">
      <t:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></t:Mailbox>
    </t:DistinguishedFolderId>
  </m:ParentFolderIds>
</m:FindItem>"#,
        );
    }

    #[test]
    fn restriction_request_escapes_the_constant() {
        assert_encodes(
            &FindItem {
                item_shape: ItemShape {
                    base_shape: BaseShape::IdOnly,
                    additional_properties: Vec::new(),
                },
                view: FindItemView::IndexedPage {
                    max_entries: 10,
                    offset: 0,
                },
                restriction: Some(Restriction::IsEqualTo {
                    path: PropertyPath::Extended(external_id()),
                    value: r#"ev:"1"&<2>"#.to_owned(),
                }),
                parent_folder: calendar(None),
            },
            r#"
<m:FindItem Traversal="Shallow">
  <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>
  <m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>
  <m:Restriction>
    <t:IsEqualTo>
      <t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="MyTimetableEventId" PropertyType="String"/>
      <t:FieldURIOrConstant><t:Constant Value="ev:&quot;1&quot;&amp;&lt;2&gt;"/></t:FieldURIOrConstant>
    </t:IsEqualTo>
  </m:Restriction>
  <m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds>
</m:FindItem>"#,
        );
    }

    #[test]
    fn an_or_of_ids_is_written_as_one_restriction_and_an_empty_or_is_refused() {
        let id = |value: &str| Restriction::IsEqualTo {
            path: PropertyPath::Extended(external_id()),
            value: value.to_owned(),
        };
        let mut request = FindItem {
            item_shape: ItemShape {
                base_shape: BaseShape::IdOnly,
                additional_properties: Vec::new(),
            },
            view: FindItemView::IndexedPage {
                max_entries: 10,
                offset: 0,
            },
            restriction: Some(Restriction::Or(vec![id("ev-1"), id("ev-2")])),
            parent_folder: calendar(None),
        };
        assert_encodes(
            &request,
            r#"
<m:FindItem Traversal="Shallow">
  <m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>
  <m:IndexedPageItemView MaxEntriesReturned="10" Offset="0" BasePoint="Beginning"/>
  <m:Restriction>
    <t:Or>
      <t:IsEqualTo>
        <t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="MyTimetableEventId" PropertyType="String"/>
        <t:FieldURIOrConstant><t:Constant Value="ev-1"/></t:FieldURIOrConstant>
      </t:IsEqualTo>
      <t:IsEqualTo>
        <t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="MyTimetableEventId" PropertyType="String"/>
        <t:FieldURIOrConstant><t:Constant Value="ev-2"/></t:FieldURIOrConstant>
      </t:IsEqualTo>
    </t:Or>
  </m:Restriction>
  <m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds>
</m:FindItem>"#,
        );
        request.restriction = Some(Restriction::Or(vec![
            id("ev-1"),
            Restriction::Or(Vec::new()),
        ]));
        assert_eq!(
            crate::encode(&delegate_header(), &request)
                .unwrap_err()
                .to_string(),
            "invalid input in restriction[1]: an Or needs at least one operand"
        );
    }

    #[test]
    fn bad_views_and_restrictions_are_refused_before_sending() {
        let base = FindItem {
            item_shape: shape(),
            view: FindItemView::Calendar {
                start: "2025-03-03T00:00:00Z".parse().unwrap(),
                end: "2025-03-10T00:00:00Z".parse().unwrap(),
                max_entries: 500,
            },
            restriction: Some(Restriction::IsEqualTo {
                path: PropertyPath::Extended(external_id()),
                value: "ev-1".to_owned(),
            }),
            parent_folder: calendar(None),
        };
        let refused = |request: &FindItem| {
            crate::encode(&delegate_header(), request)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refused(&base),
            "invalid input in restriction: Exchange refuses a restriction with a CalendarView; use an IndexedPage view"
        );
        let mut backwards = base.clone();
        backwards.restriction = None;
        backwards.view = FindItemView::Calendar {
            start: "2025-03-10T00:00:00Z".parse().unwrap(),
            end: "2025-03-10T00:00:00Z".parse().unwrap(),
            max_entries: 500,
        };
        assert_eq!(
            refused(&backwards),
            "invalid input in view.end: must be after view.start"
        );
        let mut empty_page = base.clone();
        empty_page.view = FindItemView::IndexedPage {
            max_entries: 0,
            offset: 0,
        };
        assert_eq!(
            refused(&empty_page),
            "invalid input in view.max_entries: must be between 1 and 2147483647"
        );
    }

    #[test]
    fn decodes_a_window_skipping_what_is_not_a_calendar_item() {
        let decoded =
            crate::decode::<FindItem>(fixture!("find_item/calendar_view.xml").as_bytes()).unwrap();
        let page = decoded.response.into_iter().next().unwrap().unwrap();
        assert!(page.includes_last_item_in_range);
        assert_eq!(page.total_items_in_view, 4);
        assert_eq!(page.indexed_paging_offset, None);
        let subjects: Vec<_> = page
            .items
            .iter()
            .map(|item| item.subject.as_deref().unwrap())
            .collect();
        assert_eq!(
            subjects,
            [
                "Lecture: Linear Algebra & Geometry",
                "Weekly team sync",
                "Dentist"
            ]
        );
        let ours = ExtendedFieldUri {
            property_name: "ExternalId".to_owned(),
            ..external_id()
        };
        let carrying: Vec<_> = page
            .items
            .iter()
            .map(|item| item.extended_property(&ours))
            .collect();
        assert_eq!(
            carrying,
            [
                Some("mytimetable:event:7f3c2a10-5b8e-4d2a-9c61-0e4f2b7d9a13"),
                None,
                None
            ]
        );
        assert_eq!(
            page.items[1].legacy_free_busy_status,
            Some(LegacyFreeBusyStatus::Tentative)
        );
        assert_eq!(
            page.items[2].start,
            Some("2025-03-06T14:00:00Z".parse().unwrap())
        );
        assert!(page.items.iter().all(|item| {
            item.item_id
                .as_ref()
                .is_some_and(|ItemId { change_key, .. }| change_key.is_some())
        }));
    }
}
