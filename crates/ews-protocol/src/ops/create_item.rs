//! `CreateItem`: store calendar items, several per call (PROTOCOL §6.3, §6.6).
//!
//! Invariants:
//! - Always `SendMeetingInvitations="SendToNone"`: the server requires the attribute for calendar
//!   items, and the connector never mails anyone (no attendees are ever written).
//! - One response message per input item, in input order; a failed item (its `m:Items` is empty)
//!   is a per-item value, and the others are stored all the same.
//! - Items are written through `ews::items` (schema order; read-only fields refused).
//!
//! Entry type: [`CreateItem`].

use crate::error::Error;
use crate::items::{CalendarItem, ItemId, read_item_id, write_calendar_item};
use crate::ops::get_folder::{FolderIdRef, write_folder_id_ref};
use crate::ops::{ContainedElement, FirstContained, Operation, sealed};
use crate::ops::{require_any, write_list};
use crate::response::ResponseMessage;
use crate::xml::{Reader, Slot, TYPES_NS, Tag, XmlWriter, required};

/// Creates calendar items in one folder.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem-operation-calendar-item>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateItem {
    /// `m:SavedItemFolderId`: the calendar (with `mailbox` for delegate access).
    pub saved_item_folder: FolderIdRef,
    /// The items; one response message each, in this order. Must not be empty; keep batches to
    /// tens of items (a batch is limited to about a minute of server time).
    pub items: Vec<CalendarItem>,
}

impl sealed::Sealed for CreateItem {}

impl Operation for CreateItem {
    const NAME: &'static str = "CreateItem";
    /// The new item's id (with its `ChangeKey`), per input item.
    type Response = Vec<ResponseMessage<ItemId>>;
    const IDEMPOTENT: bool = false;

    fn retarget(&mut self, from: &str, to: &str) {
        self.saved_item_folder.retarget(from, to);
    }

    message_operation_members!(FirstContained<NewItemId>, "CreateItemResponseMessage");

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any("items", &self.items, "must hold at least one item")?;
        writer.raw(r#"<m:CreateItem SendMeetingInvitations="SendToNone">"#);
        writer.open("m:SavedItemFolderId");
        write_folder_id_ref(writer, "saved_item_folder", &self.saved_item_folder)?;
        writer.close("m:SavedItemFolderId");
        write_list(writer, "m:Items", "items", &self.items, write_calendar_item)?;
        writer.close("m:CreateItem");
        Ok(())
    }
}

/// The `t:ItemId` of the item in a success message's `m:Items` (CreateItem and UpdateItem).
pub(crate) struct NewItemId;

impl ContainedElement for NewItemId {
    const CONTAINER: &'static str = "Items";
    const MISSING: &'static str = "CalendarItem";
    type Output = ItemId;

    fn accepts(tag: &Tag<'_>) -> bool {
        tag.in_namespace(TYPES_NS)
    }

    fn read(reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<ItemId, Error> {
        let mut item_id: Slot<ItemId> = None;
        while let Some(child) = reader.next_child()? {
            if child.is(TYPES_NS, "ItemId") {
                reader.first(&mut item_id, read_item_id)?;
            } else {
                reader.skip()?;
            }
        }
        required(item_id, "ItemId", tag.local())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::{
        Body, BodyType, ExtendedFieldUri, ExtendedProperty, LegacyFreeBusyStatus, MapiPropertyType,
        PropertySet,
    };
    use crate::ops::get_folder::DistinguishedFolderName;
    use crate::response::ErrorKind;
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, delegate_header, fixture};

    fn event() -> CalendarItem {
        CalendarItem {
            subject: Some("Exam: Statistics".to_owned()),
            body: Some(Body {
                body_type: BodyType::Text,
                text: "Bring a pen.".to_owned(),
            }),
            extended_properties: vec![ExtendedProperty {
                field: ExtendedFieldUri {
                    property_set: PropertySet::Guid(
                        "c11ff724-aa03-4555-9952-8fa248a11c3e".to_owned(),
                    ),
                    property_name: "ExternalId".to_owned(),
                    property_type: MapiPropertyType::String,
                },
                value: "ev-1".to_owned(),
            }],
            start: Some("2025-06-02T09:00:00+02:00".parse().unwrap()),
            end: Some("2025-06-02T11:00:00+02:00".parse().unwrap()),
            legacy_free_busy_status: Some(LegacyFreeBusyStatus::Busy),
            ..CalendarItem::default()
        }
    }

    #[test]
    fn request_never_sends_invitations() {
        assert_encodes(
            &CreateItem {
                saved_item_folder: FolderIdRef::Distinguished {
                    id: DistinguishedFolderName::Calendar,
                    mailbox: Some("alice@contoso.example".to_owned()),
                },
                items: vec![event()],
            },
            r#"
<m:CreateItem SendMeetingInvitations="SendToNone">
  <m:SavedItemFolderId>
    <t:DistinguishedFolderId Id="calendar">
      <t:Mailbox><t:EmailAddress>alice@contoso.example</t:EmailAddress></t:Mailbox>
    </t:DistinguishedFolderId>
  </m:SavedItemFolderId>
  <m:Items>
    <t:CalendarItem>
      <t:Subject>Exam: Statistics</t:Subject>
      <t:Body BodyType="Text">Bring a pen.</t:Body>
      <t:ExtendedProperty>
        <t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="ExternalId" PropertyType="String"/>
        <t:Value>ev-1</t:Value>
      </t:ExtendedProperty>
      <t:Start>2025-06-02T07:00:00Z</t:Start>
      <t:End>2025-06-02T09:00:00Z</t:End>
      <t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus>
    </t:CalendarItem>
  </m:Items>
</m:CreateItem>"#,
        );
    }

    #[test]
    fn a_bad_item_is_refused_naming_its_index() {
        let mut bad = event();
        bad.subject = Some("tab\tok, bell\u{7} not".to_owned());
        let error = crate::encode(
            &delegate_header(),
            &CreateItem {
                saved_item_folder: FolderIdRef::Distinguished {
                    id: DistinguishedFolderName::Calendar,
                    mailbox: None,
                },
                items: vec![event(), bad],
            },
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid input in items[1].subject: character U+0007 at position 12 cannot be carried by XML 1.0"
        );
    }

    #[test]
    fn decodes_a_partial_failure_in_input_order() {
        let decoded = crate::decode::<CreateItem>(
            fixture!("create_item/batch_partial_failure.xml").as_bytes(),
        )
        .unwrap();
        let outcomes: Vec<_> = decoded
            .response
            .iter()
            .map(|message| match message {
                Ok(item_id) => Ok(item_id.change_key.clone().unwrap()),
                Err(error) => Err((error.response_code.clone(), error.kind())),
            })
            .collect();
        assert_eq!(
            outcomes,
            vec![
                Ok("DwAAABYAAAB1c2VyQGNvbnRvc28uZXhhbXBsZQAAAD1".to_owned()),
                Err((
                    ResponseCode::ErrorCalendarEndDateIsEarlierThanStartDate,
                    ErrorKind::Invalid
                )),
                Ok("DwAAABYAAAB1c2VyQGNvbnRvc28uZXhhbXBsZQAAAD3".to_owned()),
            ]
        );
        assert_eq!(CreateItem::response_errors(&decoded.response).len(), 1);
    }
}
