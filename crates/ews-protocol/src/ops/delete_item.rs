//! `DeleteItem`: remove items by id (PROTOCOL §6.5).
//!
//! Invariants: always `SendMeetingCancellations="SendToNone"` (required by the server for calendar
//! items; the connector never mails anyone). One response message per id, in order, without
//! payload. Idempotent in effect: a repeated delete answers `ErrorItemNotFound`, which callers
//! treat as "already gone".
//!
//! Entry types: [`DeleteItem`], [`DeleteType`].

use crate::error::Error;
use crate::items::ItemId;
use crate::ops::{Operation, sealed};
use crate::ops::{require_any, write_item_ids};
use crate::response::{NoPayload, ResponseMessage};
use crate::types::ews_enum;
use crate::xml::XmlWriter;

/// Deletes one or more items.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem-operation>.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteItem {
    /// `@DeleteType`.
    pub delete_type: DeleteType,
    /// The items (a `ChangeKey` is optional); one response message each. Must not be empty.
    pub item_ids: Vec<ItemId>,
}

ews_enum! {
    /// `t:DisposalType`: where a deleted item goes.
    ///
    /// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/deleteitem>.
    DeleteType {
        /// Purged (retention and holds may still keep it).
        HardDelete => "HardDelete",
        /// To Recoverable Items.
        SoftDelete => "SoftDelete",
        /// To Deleted Items, where the user can restore it.
        MoveToDeletedItems => "MoveToDeletedItems",
    }
}

impl sealed::Sealed for DeleteItem {}

impl Operation for DeleteItem {
    const NAME: &'static str = "DeleteItem";
    type Response = Vec<ResponseMessage<()>>;
    const IDEMPOTENT: bool = true;

    message_operation_members!(NoPayload, "DeleteItemResponseMessage");

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        require_any("item_ids", &self.item_ids, "must name at least one item")?;
        writer.raw(&format!(
            r#"<m:DeleteItem DeleteType="{}" SendMeetingCancellations="SendToNone">"#,
            self.delete_type.as_str()
        ));
        write_item_ids(writer, &self.item_ids)?;
        writer.close("m:DeleteItem");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::ErrorKind;
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, delegate_header, fixture};

    #[test]
    fn request_never_sends_cancellations() {
        assert_encodes(
            &DeleteItem {
                delete_type: DeleteType::MoveToDeletedItems,
                item_ids: vec![
                    ItemId {
                        id: "AAMk1=".to_owned(),
                        change_key: None,
                    },
                    ItemId {
                        id: "AAMk2=".to_owned(),
                        change_key: Some("DwAA2".to_owned()),
                    },
                ],
            },
            r#"
<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToNone">
  <m:ItemIds><t:ItemId Id="AAMk1="/><t:ItemId Id="AAMk2=" ChangeKey="DwAA2"/></m:ItemIds>
</m:DeleteItem>"#,
        );
    }

    #[test]
    fn empty_list_is_refused() {
        let error = crate::encode(
            &delegate_header(),
            &DeleteItem {
                delete_type: DeleteType::HardDelete,
                item_ids: Vec::new(),
            },
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid input in item_ids: must name at least one item"
        );
    }

    #[test]
    fn a_repeated_delete_is_not_found_per_item() {
        let decoded = crate::decode::<DeleteItem>(
            fixture!("delete_item/error_item_not_found.xml").as_bytes(),
        )
        .unwrap();
        assert_eq!(decoded.response.len(), 2);
        assert_eq!(decoded.response[0], Ok(()));
        let error = decoded.response[1].as_ref().unwrap_err();
        assert_eq!(error.response_code, ResponseCode::ErrorItemNotFound);
        assert_eq!(error.kind(), ErrorKind::NotFound);
    }
}
