//! `ExpandDL`: the direct members of a public distribution list (a mail-enabled group), by its
//! SMTP address.
//!
//! Invariants: the request is `m:ExpandDL/m:Mailbox/t:EmailAddress` (schema order, the only
//! child); expansion is not recursive (Microsoft's ExpandDL reference: "A distribution list
//! expansion is not recursive"), so a member whose `MailboxType` is `PublicDL` or `PrivateDL`
//! is itself a group the caller must expand. The response's children are read by local name
//! in either EWS namespace (servers put `DLExpansion` in `m:` and its mailboxes in `t:`).
//! An unknown address is a per-message `ErrorNameResolutionNoResults`; an empty group (and,
//! per the same reference, an address that names no list) may instead be a Success with no
//! members: callers treat both as "no members".
//!
//! Entry types: [`ExpandDL`], [`DlExpansion`], [`DlMember`], [`MailboxType`].

use crate::error::Error;
use crate::ops::{Operation, sealed, write_mailbox};
use crate::response::{Payload, ResponseMessage};
use crate::xml::{MESSAGES_NS, Reader, Slot, TYPES_NS, Tag, XmlWriter, read_trimmed};

/// Expands one distribution list.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/expanddl-operation>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub struct ExpandDL {
    /// `m:Mailbox/t:EmailAddress`: the list's SMTP address.
    pub mailbox: String,
}

/// `m:DLExpansion`: the direct members of the list.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/dlexpansion>.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DlExpansion {
    /// `t:Mailbox`, in the server's order.
    pub members: Vec<DlMember>,
    /// `@IncludesLastItemInRange`: `Some(false)` when the server returned only part of the list.
    pub includes_last_item_in_range: Option<bool>,
    /// `@TotalItemsInView`: how many members the list has.
    pub total_items_in_view: Option<u32>,
}

impl DlExpansion {
    /// Whether the answer holds every member (no `IncludesLastItemInRange="false"`, and no fewer
    /// members than `TotalItemsInView`).
    pub fn is_complete(&self) -> bool {
        self.includes_last_item_in_range != Some(false)
            && self
                .total_items_in_view
                .is_none_or(|total| self.members.len() >= total as usize)
    }
}

/// One member (`t:EmailAddressType`).
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/mailbox>.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DlMember {
    /// `t:Name`: the display name.
    pub name: Option<String>,
    /// `t:EmailAddress`: with `RoutingType` SMTP, the primary SMTP address.
    pub email_address: Option<String>,
    /// `t:RoutingType` (`SMTP`, `EX`).
    pub routing_type: Option<String>,
    /// `t:MailboxType`.
    pub mailbox_type: Option<MailboxType>,
}

impl DlMember {
    /// Whether this member is itself a list to expand (`PublicDL` or `PrivateDL`).
    pub fn is_group(&self) -> bool {
        matches!(
            self.mailbox_type,
            Some(MailboxType::PublicDL | MailboxType::PrivateDL)
        )
    }
}

/// `t:MailboxType`; values added by later schema versions are kept as `Other`.
///
/// See <https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/mailboxtype>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum MailboxType {
    Unknown,
    OneOff,
    Mailbox,
    /// A public distribution list (a mail-enabled group of the directory).
    PublicDL,
    /// A private distribution list (a contact group in someone's Contacts folder).
    PrivateDL,
    Contact,
    PublicFolder,
    Other(String),
}

impl MailboxType {
    fn parse(value: &str) -> MailboxType {
        match value {
            "Unknown" => MailboxType::Unknown,
            "OneOff" => MailboxType::OneOff,
            "Mailbox" => MailboxType::Mailbox,
            "PublicDL" => MailboxType::PublicDL,
            "PrivateDL" => MailboxType::PrivateDL,
            "Contact" => MailboxType::Contact,
            "PublicFolder" => MailboxType::PublicFolder,
            other => MailboxType::Other(other.chars().take(80).collect()),
        }
    }
}

impl sealed::Sealed for ExpandDL {}

impl Operation for ExpandDL {
    const NAME: &'static str = "ExpandDL";
    type Response = Vec<ResponseMessage<DlExpansion>>;
    const IDEMPOTENT: bool = true;

    message_operation_members!(ExpansionPayload, "ExpandDLResponseMessage");

    fn write_body(&self, writer: &mut XmlWriter) -> Result<(), Error> {
        writer.open("m:ExpandDL");
        write_mailbox(writer, &self.mailbox)?;
        writer.close("m:ExpandDL");
        Ok(())
    }
}

/// The first of two slots: the element in the messages namespace, else the one in the types
/// namespace (Exchange uses either for the same element).
#[derive(Default)]
struct InEither<T> {
    in_messages: Slot<T>,
    in_types: Slot<T>,
}

impl<T> InEither<T> {
    /// Reads `tag` into its slot when it is `name` in either namespace; `false` leaves it unread.
    fn offer(
        &mut self,
        reader: &mut Reader<'_>,
        tag: &Tag<'_>,
        name: &str,
        read: impl FnOnce(&mut Reader<'_>) -> Result<T, Error>,
    ) -> Result<bool, Error> {
        let slot = if tag.is(MESSAGES_NS, name) {
            &mut self.in_messages
        } else if tag.is(TYPES_NS, name) {
            &mut self.in_types
        } else {
            return Ok(false);
        };
        reader.first(slot, read)?;
        Ok(true)
    }

    fn take(self) -> Slot<T> {
        self.in_messages.or(self.in_types)
    }
}

/// The payload of an ExpandDL message: its `DLExpansion` (absent means no members).
#[derive(Default)]
struct ExpansionPayload {
    expansion: InEither<DlExpansion>,
}

impl Payload for ExpansionPayload {
    type Output = DlExpansion;

    fn child(&mut self, reader: &mut Reader<'_>, tag: &Tag<'_>) -> Result<(), Error> {
        if !self
            .expansion
            .offer(reader, tag, "DLExpansion", read_expansion)?
        {
            reader.skip()?;
        }
        Ok(())
    }

    fn finish(self, _: &str) -> Result<DlExpansion, Error> {
        Ok(self.expansion.take().transpose()?.unwrap_or_default())
    }
}

/// The trimmed, non-empty text of a member's part.
fn member_text(slot: InEither<String>) -> Option<String> {
    slot.take()
        .and_then(Result::ok)
        .filter(|text| !text.is_empty())
}

fn read_member(reader: &mut Reader<'_>) -> Result<DlMember, Error> {
    let mut name = InEither::default();
    let mut email_address = InEither::default();
    let mut routing_type = InEither::default();
    let mut mailbox_type = InEither::default();
    while let Some(child) = reader.next_child()? {
        let taken = match child.local() {
            "Name" => name.offer(reader, &child, "Name", read_trimmed)?,
            "EmailAddress" => email_address.offer(reader, &child, "EmailAddress", read_trimmed)?,
            "RoutingType" => routing_type.offer(reader, &child, "RoutingType", read_trimmed)?,
            "MailboxType" => mailbox_type.offer(reader, &child, "MailboxType", read_trimmed)?,
            _ => false,
        };
        if !taken {
            reader.skip()?;
        }
    }
    Ok(DlMember {
        name: member_text(name),
        email_address: member_text(email_address),
        routing_type: member_text(routing_type),
        mailbox_type: member_text(mailbox_type).map(|value| MailboxType::parse(&value)),
    })
}

fn read_expansion(reader: &mut Reader<'_>) -> Result<DlExpansion, Error> {
    let includes_last_item_in_range = reader
        .attribute("IncludesLastItemInRange")
        .map(|value| crate::xml::parse_value::<bool>("IncludesLastItemInRange", value.trim()))
        .transpose();
    let total_items_in_view = reader
        .attribute("TotalItemsInView")
        .map(|value| crate::xml::parse_value::<u32>("TotalItemsInView", value.trim()))
        .transpose();
    let mut members = Vec::new();
    while let Some(child) = reader.next_child()? {
        if child.local() == "Mailbox"
            && (child.in_namespace(TYPES_NS) || child.in_namespace(MESSAGES_NS))
        {
            members.push(read_member(reader)?);
        } else {
            reader.skip()?;
        }
    }
    Ok(DlExpansion {
        members,
        includes_last_item_in_range: includes_last_item_in_range?,
        total_items_in_view: total_items_in_view?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{ErrorKind, ResponseClass};
    use crate::response_code::ResponseCode;
    use crate::test_util::{assert_encodes, fixture};

    #[test]
    fn request_names_the_list_by_address() {
        assert_encodes(
            &ExpandDL {
                mailbox: "push-editors@contoso.example".to_owned(),
            },
            r#"
<m:ExpandDL>
  <m:Mailbox><t:EmailAddress>push-editors@contoso.example</t:EmailAddress></m:Mailbox>
</m:ExpandDL>"#,
        );
    }

    #[test]
    fn an_empty_address_is_refused_before_sending() {
        let mut writer = XmlWriter::default();
        assert!(matches!(
            ExpandDL {
                mailbox: String::new()
            }
            .write_body(&mut writer),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn decodes_direct_members_with_a_nested_group() {
        let decoded =
            crate::decode::<ExpandDL>(fixture!("expand_dl/success.xml").as_bytes()).unwrap();
        let [Ok(expansion)] = decoded.response.as_slice() else {
            panic!("one Success message: {:?}", decoded.response);
        };
        assert!(expansion.is_complete());
        assert_eq!(expansion.total_items_in_view, Some(3));
        let addresses: Vec<_> = expansion
            .members
            .iter()
            .map(|member| (member.email_address.as_deref().unwrap(), member.is_group()))
            .collect();
        assert_eq!(
            addresses,
            [
                ("svc-mytt@contoso.example", false),
                ("dave@contoso.example", false),
                ("planners@contoso.example", true),
            ]
        );
        assert_eq!(
            expansion.members[2].mailbox_type,
            Some(MailboxType::PublicDL)
        );
        assert_eq!(expansion.members[0].routing_type.as_deref(), Some("SMTP"));
        assert_eq!(
            expansion.members[0].name.as_deref(),
            Some("MyTimetable Service")
        );
    }

    #[test]
    fn decodes_an_unknown_address_as_a_per_message_error() {
        let decoded = crate::decode::<ExpandDL>(
            fixture!("expand_dl/error_name_resolution_no_results.xml").as_bytes(),
        )
        .unwrap();
        let [Err(error)] = decoded.response.as_slice() else {
            panic!("one Error message: {:?}", decoded.response);
        };
        assert_eq!(error.class, ResponseClass::Error);
        assert_eq!(
            error.response_code,
            ResponseCode::ErrorNameResolutionNoResults
        );
        assert_ne!(error.kind(), ErrorKind::Transient);
    }

    #[test]
    fn a_partial_answer_is_not_complete_and_unknown_types_are_kept() {
        let partial = DlExpansion {
            members: vec![DlMember::default()],
            includes_last_item_in_range: Some(false),
            total_items_in_view: Some(250),
        };
        assert!(!partial.is_complete());
        let short = DlExpansion {
            includes_last_item_in_range: None,
            ..partial.clone()
        };
        assert!(!short.is_complete());
        assert_eq!(
            MailboxType::parse("GroupMailbox"),
            MailboxType::Other("GroupMailbox".to_owned())
        );
        assert!(
            !DlMember {
                mailbox_type: Some(MailboxType::parse("GroupMailbox")),
                ..DlMember::default()
            }
            .is_group()
        );
    }
}
