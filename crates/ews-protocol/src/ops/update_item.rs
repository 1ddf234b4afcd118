//! `UpdateItem`: change or clear single properties of calendar items (PROTOCOL §6.4).
//!
//! Invariants:
//! - Always `SendMeetingInvitationsOrCancellations="SendToNone"` (required by the server for
//!   calendar items; the connector never mails anyone).
//! - Every `t:ItemId` carries the `ChangeKey` the change was based on (the server needs it even
//!   with `AlwaysOverwrite`); an id without one is refused before sending.
//! - `ItemUpdate::Set` holds a `CalendarItem` with exactly one settable property (one field or
//!   one extended property); its `t:SetItemField` path is derived from that property, so path and
//!   value cannot disagree. Zero or several properties are refused, naming the change.
//!
//! Entry types: [`UpdateItem`], [`ItemChange`], [`ItemUpdate`], [`ConflictResolution`].

use crate::error::Error;
use crate::items::{
    CalendarItem, ItemId, PropertyPath, write_calendar_item, write_item_id, write_property_path,
};
use crate::ops::create_item::NewItemId;
use crate::ops::{FirstContained, Operation, sealed};
use crate::ops::{require_any, write_list};
use crate::response::ResponseMessage;
use crate::types::ews_enum;
use crate::xml::XmlWriter;

/// Changes one or more items.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem-operation>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateItem {
    /// `@ConflictResolution`.
    pub conflict_resolution: ConflictResolution,
    /// One change per item; one response message each, in this order. Must not be empty.
    pub changes: Vec<ItemChange>,
}

ews_enum! {
    /// `t:ConflictResolutionType`: what happens when the `ChangeKey` is stale.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/updateitem>.
    ConflictResolution {
        /// Fail with `ErrorIrresolvableConflict` (user edits win and are detected).
        NeverOverwrite => "NeverOverwrite",
        /// The server merges changes that do not conflict.
        AutoResolve => "AutoResolve",
        /// Last writer wins.
        AlwaysOverwrite => "AlwaysOverwrite",
    }
}

/// `t:ItemChange`: the changes to one item.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/itemchange>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemChange {
    /// The item, with the `ChangeKey` of the version the change is based on.
    pub item_id: ItemId,
    /// The property changes, applied in this order. Must not be empty.
    pub updates: Vec<ItemUpdate>,
}

/// One property change.
// Not boxed: the variant's shape is the contract the push domain codes against, and updates are
// few per call, so the size difference costs nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemUpdate {
    /// `t:SetItemField`: an item holding exactly one property (a field or one extended property).
    Set(CalendarItem),
    /// `t:DeleteItemField`: clears the property.
    Delete(PropertyPath),
}

impl sealed::Sealed for UpdateItem {}

impl Operation for UpdateItem {
    const NAME: &'static str = "UpdateItem";
    /// The item id with its new `ChangeKey`, per change.
    type Response = Vec<ResponseMessage<ItemId>>;
    const IDEMPOTENT: bool = false;

    message_operation_members!(FirstContained<NewItemId>, "UpdateItemResponseMessage");

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any("changes", &self.changes, "must hold at least one change")?;
        writer.raw(&format!(
            r#"<m:UpdateItem ConflictResolution="{}" SendMeetingInvitationsOrCancellations="SendToNone">"#,
            self.conflict_resolution.as_str()
        ));
        write_list(
            writer,
            "m:ItemChanges",
            "changes",
            &self.changes,
            write_item_change,
        )?;
        writer.close("m:UpdateItem");
        Ok(())
    }
}

fn write_item_change(
    writer: &mut XmlWriter,
    field: &str,
    change: &ItemChange,
) -> Result<(), Error> {
    if change.item_id.change_key.is_none() {
        return Err(Error::InvalidInput {
            field: format!("{field}.item_id.change_key"),
            reason: "an update must carry the ChangeKey it was based on".to_owned(),
        });
    }
    if change.updates.is_empty() {
        return Err(Error::InvalidInput {
            field: format!("{field}.updates"),
            reason: "must hold at least one update".to_owned(),
        });
    }
    writer.open("t:ItemChange");
    write_item_id(writer, &format!("{field}.item_id"), &change.item_id)?;
    writer.open("t:Updates");
    for (index, update) in change.updates.iter().enumerate() {
        let update_field = format!("{field}.updates[{index}]");
        match update {
            ItemUpdate::Set(item) => {
                let path = single_path(&update_field, item)?;
                writer.open("t:SetItemField");
                write_property_path(writer, &format!("{update_field}.path"), &path)?;
                write_calendar_item(writer, &update_field, item)?;
                writer.close("t:SetItemField");
            }
            ItemUpdate::Delete(path) => {
                writer.open("t:DeleteItemField");
                write_property_path(writer, &format!("{update_field}.path"), path)?;
                writer.close("t:DeleteItemField");
            }
        }
    }
    writer.close("t:Updates");
    writer.close("t:ItemChange");
    Ok(())
}

/// The path of the one property a `Set` holds.
fn single_path(field: &str, item: &CalendarItem) -> Result<PropertyPath, Error> {
    let mut paths = item.present_paths();
    match paths.len() {
        1 => Ok(paths.remove(0)),
        0 => Err(Error::InvalidInput {
            field: field.to_owned(),
            reason: "a Set must hold exactly one property, and this one holds none (use Delete to clear one)"
                .to_owned(),
        }),
        count => Err(Error::InvalidInput {
            field: field.to_owned(),
            reason: format!(
                "a Set must hold exactly one property, and this one holds {count} ({}); use one Set each",
                paths
                    .iter()
                    .map(|path| match path {
                        PropertyPath::Field(item_field) => item_field.as_str().to_owned(),
                        PropertyPath::Extended(uri) => uri.property_name.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::{
        ExtendedFieldUri, ExtendedProperty, ItemField, MapiPropertyType, PropertySet,
    };
    use crate::response::ErrorKind;
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, delegate_header, fixture};

    fn item_id() -> ItemId {
        ItemId {
            id: "AAMk1=".to_owned(),
            change_key: Some("DwAA1".to_owned()),
        }
    }

    fn hash_property() -> ExtendedFieldUri {
        ExtendedFieldUri {
            property_set: PropertySet::Guid("c11ff724-aa03-4555-9952-8fa248a11c3e".to_owned()),
            property_name: "ContentHash".to_owned(),
            property_type: MapiPropertyType::String,
        }
    }

    fn refused(request: &UpdateItem) -> String {
        crate::encode(&delegate_header(), request)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn request_derives_each_path_from_the_value() {
        assert_encodes(
            &UpdateItem {
                conflict_resolution: ConflictResolution::AlwaysOverwrite,
                changes: vec![ItemChange {
                    item_id: item_id(),
                    updates: vec![
                        ItemUpdate::Set(CalendarItem {
                            start: Some("2025-03-05T09:00:00+01:00".parse().unwrap()),
                            ..CalendarItem::default()
                        }),
                        ItemUpdate::Set(CalendarItem {
                            extended_properties: vec![ExtendedProperty {
                                field: hash_property(),
                                value: "sha256:ab".to_owned(),
                            }],
                            ..CalendarItem::default()
                        }),
                        ItemUpdate::Delete(PropertyPath::Field(ItemField::Location)),
                    ],
                }],
            },
            r#"
<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone">
  <m:ItemChanges>
    <t:ItemChange>
      <t:ItemId Id="AAMk1=" ChangeKey="DwAA1"/>
      <t:Updates>
        <t:SetItemField>
          <t:FieldURI FieldURI="calendar:Start"/>
          <t:CalendarItem><t:Start>2025-03-05T08:00:00Z</t:Start></t:CalendarItem>
        </t:SetItemField>
        <t:SetItemField>
          <t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="ContentHash" PropertyType="String"/>
          <t:CalendarItem>
            <t:ExtendedProperty>
              <t:ExtendedFieldURI PropertySetId="c11ff724-aa03-4555-9952-8fa248a11c3e" PropertyName="ContentHash" PropertyType="String"/>
              <t:Value>sha256:ab</t:Value>
            </t:ExtendedProperty>
          </t:CalendarItem>
        </t:SetItemField>
        <t:DeleteItemField><t:FieldURI FieldURI="calendar:Location"/></t:DeleteItemField>
      </t:Updates>
    </t:ItemChange>
  </m:ItemChanges>
</m:UpdateItem>"#,
        );
    }

    #[test]
    fn sets_with_zero_or_several_properties_are_refused_naming_them() {
        let request = |update: ItemUpdate| UpdateItem {
            conflict_resolution: ConflictResolution::NeverOverwrite,
            changes: vec![ItemChange {
                item_id: item_id(),
                updates: vec![
                    ItemUpdate::Delete(PropertyPath::Field(ItemField::Body)),
                    update,
                ],
            }],
        };
        assert_eq!(
            refused(&request(ItemUpdate::Set(CalendarItem::default()))),
            "invalid input in changes[0].updates[1]: a Set must hold exactly one property, and this one holds none (use Delete to clear one)"
        );
        assert_eq!(
            refused(&request(ItemUpdate::Set(CalendarItem {
                subject: Some("a".to_owned()),
                extended_properties: vec![ExtendedProperty {
                    field: hash_property(),
                    value: "h".to_owned(),
                }],
                location: Some("b".to_owned()),
                ..CalendarItem::default()
            }))),
            "invalid input in changes[0].updates[1]: a Set must hold exactly one property, and this one holds 3 (item:Subject, ContentHash, calendar:Location); use one Set each"
        );
    }

    #[test]
    fn changes_without_a_change_key_or_updates_are_refused() {
        let mut change = ItemChange {
            item_id: ItemId {
                id: "AAMk1=".to_owned(),
                change_key: None,
            },
            updates: vec![ItemUpdate::Delete(PropertyPath::Field(ItemField::Location))],
        };
        let request = |change: &ItemChange| UpdateItem {
            conflict_resolution: ConflictResolution::AutoResolve,
            changes: vec![change.clone()],
        };
        assert_eq!(
            refused(&request(&change)),
            "invalid input in changes[0].item_id.change_key: an update must carry the ChangeKey it was based on"
        );
        change.item_id = item_id();
        change.updates.clear();
        assert_eq!(
            refused(&request(&change)),
            "invalid input in changes[0].updates: must hold at least one update"
        );
    }

    #[test]
    fn decodes_the_new_change_key_and_the_conflict() {
        let success =
            crate::decode::<UpdateItem>(fixture!("update_item/success.xml").as_bytes()).unwrap();
        assert_eq!(
            success.response[0].as_ref().unwrap().change_key.as_deref(),
            Some("DwAAABYAAAB1c2VyQGNvbnRvc28uZXhhbXBsZQAAAB9")
        );
        let conflict = crate::decode::<UpdateItem>(
            fixture!("update_item/error_irresolvable_conflict.xml").as_bytes(),
        )
        .unwrap();
        let error = conflict.response[0].as_ref().unwrap_err();
        assert_eq!(error.response_code, ResponseCode::ErrorIrresolvableConflict);
        assert_eq!(error.kind(), ErrorKind::Conflict);
    }
}
