//! `GetItem`: read items by id, e.g. the current values of one of our events before an update.
//!
//! Invariants: one response message per id, in request order; an error message (the item is
//! gone: `ErrorItemNotFound`) is a per-item value. A success holds the first item element of
//! `m:Items` whatever its type: the `ItemType` members (`Subject`, `Body`, `ExtendedProperty`...)
//! are read from any item, the calendar fields only from a `t:CalendarItem`.
//!
//! Entry type: [`GetItem`].

use crate::error::Error;
use crate::items::{CalendarItem, ItemId, ItemShape, read_calendar_item, write_item_shape};
use crate::ops::{ContainedElement, FirstContained, Operation, sealed};
use crate::ops::{require_any, write_item_ids};
use crate::response::ResponseMessage;
use crate::xml::{Reader, TYPES_NS, Tag, XmlWriter};

/// Reads one or more items.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getitem-operation-calendar-item>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetItem {
    /// Which properties to return.
    pub item_shape: ItemShape,
    /// The items; one response message per id, in this order. Must not be empty.
    pub item_ids: Vec<ItemId>,
}

impl sealed::Sealed for GetItem {}

impl Operation for GetItem {
    const NAME: &'static str = "GetItem";
    type Response = Vec<ResponseMessage<CalendarItem>>;
    const IDEMPOTENT: bool = true;

    message_operation_members!(FirstContained<FirstItem>, "GetItemResponseMessage");

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any("item_ids", &self.item_ids, "must name at least one item")?;
        writer.open("m:GetItem");
        write_item_shape(writer, &self.item_shape)?;
        write_item_ids(writer, &self.item_ids)?;
        writer.close("m:GetItem");
        Ok(())
    }
}

/// The first item element inside a success message's `m:Items` (any item type of the types
/// namespace), read whole.
pub(crate) struct FirstItem;

impl ContainedElement for FirstItem {
    const CONTAINER: &'static str = "Items";
    const MISSING: &'static str = "CalendarItem";
    type Output = CalendarItem;

    fn accepts(tag: &Tag<'_>) -> bool {
        tag.in_namespace(TYPES_NS)
    }

    fn read(reader: &mut Reader<'_>, _: &Tag<'_>) -> Result<CalendarItem, Error> {
        read_calendar_item(reader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::{
        Body, BodyType, CalendarItemType, ExtendedFieldUri, ExtendedProperty, ItemField,
        LegacyFreeBusyStatus, MapiPropertyType, PropertyPath, PropertySet,
    };
    use crate::ops::get_folder::BaseShape;
    use crate::response::ErrorKind;
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, delegate_header, fixture, response_envelope};

    #[test]
    fn request_lists_the_ids_with_their_change_keys() {
        assert_encodes(
            &GetItem {
                item_shape: ItemShape {
                    base_shape: BaseShape::AllProperties,
                    additional_properties: vec![PropertyPath::Field(ItemField::Body)],
                },
                item_ids: vec![
                    ItemId {
                        id: "AAMk1=".to_owned(),
                        change_key: Some("DwAA1".to_owned()),
                    },
                    ItemId {
                        id: "AAMk2=".to_owned(),
                        change_key: None,
                    },
                ],
            },
            r#"
<m:GetItem>
  <m:ItemShape>
    <t:BaseShape>AllProperties</t:BaseShape>
    <t:AdditionalProperties><t:FieldURI FieldURI="item:Body"/></t:AdditionalProperties>
  </m:ItemShape>
  <m:ItemIds>
    <t:ItemId Id="AAMk1=" ChangeKey="DwAA1"/>
    <t:ItemId Id="AAMk2="/>
  </m:ItemIds>
</m:GetItem>"#,
        );
    }

    #[test]
    fn empty_ids_are_refused() {
        let request = GetItem {
            item_shape: ItemShape {
                base_shape: BaseShape::IdOnly,
                additional_properties: Vec::new(),
            },
            item_ids: vec![ItemId {
                id: " ".to_owned(),
                change_key: None,
            }],
        };
        let refused = |request: &GetItem| {
            crate::encode(&delegate_header(), request)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refused(&request),
            "invalid input in item_ids[0].id: must not be empty"
        );
        assert_eq!(
            refused(&GetItem {
                item_ids: Vec::new(),
                ..request
            }),
            "invalid input in item_ids: must name at least one item"
        );
    }

    #[test]
    fn decodes_every_field_of_our_event_and_a_missing_item() {
        let decoded =
            crate::decode::<GetItem>(fixture!("get_item/calendar_item.xml").as_bytes()).unwrap();
        let ours = |name: &str| ExtendedFieldUri {
            property_set: PropertySet::Guid("c11ff724-aa03-4555-9952-8fa248a11c3e".to_owned()),
            property_name: name.to_owned(),
            property_type: MapiPropertyType::String,
        };
        let [item, gone] = decoded.response.as_slice() else {
            panic!("two messages expected");
        };
        let item = item.as_ref().unwrap();
        assert_eq!(
            item,
            &CalendarItem {
                item_id: item.item_id.clone(),
                subject: Some("Lecture: Linear Algebra & Geometry".to_owned()),
                body: Some(Body {
                    body_type: BodyType::Html,
                    text: "<p>Bring your <b>student card</b> & a calculator.</p>".to_owned(),
                }),
                categories: vec!["MyTimetable".to_owned(), "Mathematics".to_owned()],
                reminder_is_set: Some(true),
                reminder_minutes_before_start: Some(15),
                extended_properties: vec![
                    ExtendedProperty {
                        field: ours("ExternalId"),
                        value: "mytimetable:event:7f3c2a10-5b8e-4d2a-9c61-0e4f2b7d9a13".to_owned(),
                    },
                    ExtendedProperty {
                        field: ours("ContentHash"),
                        value: "sha256:5f0c3a7e9d1b2c4a6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f8091"
                            .to_owned(),
                    },
                ],
                start: Some("2025-03-04T08:00:00Z".parse().unwrap()),
                end: Some("2025-03-04T09:45:00Z".parse().unwrap()),
                is_all_day_event: Some(false),
                legacy_free_busy_status: Some(LegacyFreeBusyStatus::Busy),
                location: Some("Hall 1 (Zoë building)".to_owned()),
                calendar_item_type: Some(CalendarItemType::Single),
                start_time_zone: Some("W. Europe Standard Time".to_owned()),
                end_time_zone: Some("W. Europe Standard Time".to_owned()),
            }
        );
        assert!(item.item_id.as_ref().unwrap().change_key.is_some());
        let gone = gone.as_ref().unwrap_err();
        assert_eq!(gone.response_code, ResponseCode::ErrorItemNotFound);
        assert_eq!(gone.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn a_success_without_an_item_is_a_decode_error() {
        let error = crate::decode::<GetItem>(
            response_envelope(
                r#"<m:GetItemResponse><m:ResponseMessages><m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items/></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse>"#,
            )
            .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "missing element CalendarItem in Items");
    }
}
