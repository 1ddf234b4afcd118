//! The EWS implementation of [`CalendarBackend`]: `exchange::Exchange` and the `ews` operations,
//! with the conversions between EWS's types and the domain's.
//!
//! Invariants:
//! - the conversions of a permission set are lossless both ways (every identifier, flag and
//!   level; property-tested below), so an entry the merge keeps is written back as read;
//! - one EWS request per trait call (a window or a lookup: as many FindItems as its split or
//!   its pages need, see `events`); the retry loop stays in `exchange`;
//! - a SOAP fault about the mailbox (no such mailbox, impersonation denied, being moved, no
//!   access) is a refusal ([`Error::Refused`]); any other failure is `exchange`'s.
//!
//! The event half (the connector's calendar items) is in `events`.
//!
//! Entry type: [`EwsBackend`].

pub mod events;

use std::sync::Arc;

use crate::backend::{
    BoxFuture, Calendar, CalendarBackend, Error, Expansion, IdentityNotes, OpenAs, PerItem,
    Written, is_about_the_mailbox,
};
use crate::domain::event::Event;
use crate::domain::events::{
    CurrentEvent, DeleteType, EventChange, FoundEvent, ItemHandle, OurItem, Window,
};
use crate::domain::permissions::{
    DistinguishedUser, EffectiveRights, Grantee, PermissionEntry, PermissionSet, Version,
};
use crate::domain::{Mailbox, PermissionLevel, ReadScope, Scope};
use crate::ews::ops::expand_dl::ExpandDL;
use crate::ews::ops::get_folder::{
    BaseShape, DistinguishedFolderName, Folder, FolderField, FolderIdRef, FolderShape, GetFolder,
};
use crate::ews::ops::update_folder::{FolderChange, UpdateFolder};
use crate::ews::types::{
    CalendarPermission, CalendarPermissionLevel, CalendarPermissionReadAccess,
    CalendarPermissionSet, DistinguishedUser as EwsDistinguishedUser, FolderId, PermissionAction,
    UserId,
};
use crate::ews::{ErrorKind, ResponseCode, ResponseError};
use crate::exchange::{self, ActAs, Exchange};

/// EWS through one `Exchange` client.
pub struct EwsBackend {
    exchange: Arc<Exchange>,
}

impl EwsBackend {
    pub fn new(exchange: Arc<Exchange>) -> EwsBackend {
        EwsBackend { exchange }
    }

    /// The same, shared as the domain rooms hold it.
    pub fn shared(exchange: Arc<Exchange>) -> Arc<dyn CalendarBackend> {
        Arc::new(EwsBackend::new(exchange))
    }

    pub fn exchange(&self) -> &Arc<Exchange> {
        &self.exchange
    }

    async fn get_folder(
        &self,
        mailbox: &Mailbox,
        who: OpenAs,
        fields: Vec<FolderField>,
    ) -> Result<Calendar, Error> {
        let (act_as, mailbox_in_id) = match who {
            OpenAs::Owner => (ActAs::Owner(mailbox.as_str()), None),
            OpenAs::ServiceAccount => (
                ActAs::ServiceAccount(mailbox.as_str()),
                Some(mailbox.as_str().to_owned()),
            ),
        };
        let operation = GetFolder {
            folder_shape: FolderShape {
                base_shape: BaseShape::IdOnly,
                additional_properties: fields,
            },
            folder_ids: vec![FolderIdRef::Distinguished {
                id: DistinguishedFolderName::Calendar,
                mailbox: mailbox_in_id,
            }],
        };
        match self.exchange.call(act_as, &operation).await {
            Ok(answer) => match answer.response.into_iter().next() {
                Some(Ok(folder)) => Ok(calendar_of(folder)),
                Some(Err(error)) => Err(refused(error)),
                None => Err(Error::Incomplete("a GetFolder response message")),
            },
            Err(error) => Err(refusal_or_exchange_error(error)),
        }
    }
}

impl CalendarBackend for EwsBackend {
    fn name(&self) -> &'static str {
        "ews"
    }

    fn service_account(&self, mailbox: &Mailbox) -> String {
        self.exchange.serving_account(mailbox.as_str()).smtp.clone()
    }

    fn service_accounts(&self) -> Vec<String> {
        self.exchange
            .accounts()
            .iter()
            .map(|account| account.smtp.clone())
            .collect()
    }

    fn open_calendar<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        with_permissions: bool,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        let mut fields = vec![FolderField::EffectiveRights];
        if with_permissions {
            fields.push(FolderField::PermissionSet);
        }
        Box::pin(self.get_folder(mailbox, who, fields))
    }

    fn read_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        Box::pin(self.get_folder(mailbox, OpenAs::Owner, vec![FolderField::PermissionSet]))
    }

    fn write_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        version: Version,
        _read: &'a PermissionSet,
        set: PermissionSet,
    ) -> BoxFuture<'a, Result<Written, Error>> {
        Box::pin(async move {
            let operation = UpdateFolder {
                folder_changes: vec![FolderChange {
                    folder_id: FolderId {
                        id: version.id,
                        change_key: version.tag,
                    },
                    permission_set: ews_set(set),
                }],
            };
            match self
                .exchange
                .call(ActAs::Owner(mailbox.as_str()), &operation)
                .await
            {
                Ok(answer) => match answer.response.into_iter().next() {
                    Some(Ok(_new_folder_id)) => Ok(Written::Yes),
                    Some(Err(error)) if error.kind() == ErrorKind::Conflict => {
                        Ok(Written::StaleVersion)
                    }
                    Some(Err(error)) => Err(refused(error)),
                    None => Err(Error::Incomplete("an UpdateFolder response message")),
                },
                Err(exchange::Error::Fault(fault))
                    if fault.response_code.kind() == ErrorKind::Conflict =>
                {
                    Ok(Written::StaleVersion)
                }
                Err(error) => Err(refusal_or_exchange_error(error)),
            }
        })
    }

    fn expand_group<'a>(
        &'a self,
        address: &'a str,
        anchor: &'a str,
    ) -> BoxFuture<'a, Result<Expansion, Error>> {
        Box::pin(async move {
            let operation = ExpandDL {
                mailbox: address.to_owned(),
            };
            let answer = self
                .exchange
                .call(ActAs::ServiceAccount(anchor), &operation)
                .await?;
            match answer.response.into_iter().next() {
                Some(Ok(expansion)) => {
                    let complete = expansion.is_complete();
                    let mut users = std::collections::BTreeSet::new();
                    let mut groups = std::collections::BTreeSet::new();
                    for member in expansion.members {
                        let Some(email) = member.email_address.as_deref() else {
                            continue;
                        };
                        let email = email.to_ascii_lowercase();
                        if member.is_group() {
                            groups.insert(email);
                        } else {
                            users.insert(email);
                        }
                    }
                    Ok(Expansion::Group {
                        users,
                        groups,
                        complete,
                    })
                }
                Some(Err(error)) => match error.effective_code() {
                    ResponseCode::ErrorNameResolutionNoResults
                    | ResponseCode::ErrorNameResolutionNoMailbox
                    | ResponseCode::ErrorInvalidItemForOperationExpandDL => {
                        Ok(Expansion::NotAGroup)
                    }
                    ResponseCode::ErrorNameResolutionMultipleResults => {
                        tracing::warn!(
                            group = address,
                            "ExpandDL: the address matches several entries; access through it is not counted"
                        );
                        Ok(Expansion::NotAGroup)
                    }
                    code => Err(Error::Refused {
                        kind: code.kind(),
                        code: code.as_str().to_owned(),
                        message: error.message_text,
                    }),
                },
                None => Err(Error::Incomplete("an ExpandDL response message")),
            }
        })
    }

    fn with_notes<'a>(&'a self, work: BoxFuture<'a, ()>) -> BoxFuture<'a, IdentityNotes> {
        Box::pin(async move {
            let ((), noted) = exchange::notes::collect(work).await;
            IdentityNotes {
                followed: noted.followed,
                mailbox_guid: noted.mailbox_guid,
            }
        })
    }

    fn find_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        window: Window,
        view_max_entries: u32,
    ) -> BoxFuture<'a, Result<Vec<FoundEvent>, Error>> {
        Box::pin(self.read_window(mailbox, who, window, view_max_entries))
    }

    fn find_by_external_ids<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        ids: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<OurItem>, Error>> {
        Box::pin(self.find_ours(mailbox, who, ids))
    }

    fn create_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(self.create(mailbox, who, events))
    }

    fn read_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        items: &'a [ItemHandle],
    ) -> BoxFuture<'a, Result<PerItem<CurrentEvent>, Error>> {
        Box::pin(self.read(mailbox, who, items))
    }

    fn update_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        changes: Vec<EventChange>,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(self.update(mailbox, who, changes))
    }

    fn delete_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        items: &'a [ItemHandle],
        delete_type: DeleteType,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(self.delete(mailbox, who, items, delete_type))
    }
}

/// A response message's error as a refusal.
fn refused(error: ResponseError) -> Error {
    Error::Refused {
        kind: error.kind(),
        code: error.effective_code().as_str().to_owned(),
        message: error.message_text,
    }
}

/// A SOAP fault about the mailbox is a refusal; any other failure is `exchange`'s.
pub(crate) fn refusal_or_exchange_error(error: exchange::Error) -> Error {
    match error {
        exchange::Error::Fault(fault) if is_about_the_mailbox(fault.response_code.kind()) => {
            Error::Refused {
                kind: fault.response_code.kind(),
                code: fault.response_code.as_str().to_owned(),
                message: Some(fault.message.clone()),
            }
        }
        error => Error::Exchange(error),
    }
}

fn calendar_of(folder: Folder) -> Calendar {
    Calendar {
        version: Version {
            id: folder.folder_id.id,
            tag: folder.folder_id.change_key,
        },
        effective_rights: folder.effective_rights.map(|rights| EffectiveRights {
            read: rights.read,
            create_contents: rights.create_contents,
            modify: rights.modify,
            delete: rights.delete,
        }),
        permissions: folder.permission_set.map(domain_set),
    }
}

/// EWS's permission set in the domain's words; every field kept.
pub fn domain_set(set: CalendarPermissionSet) -> PermissionSet {
    PermissionSet {
        entries: set
            .calendar_permissions
            .into_iter()
            .map(domain_entry)
            .collect(),
        unknown_entries: set.unknown_entries,
    }
}

/// The domain's permission set in EWS's words; the inverse of [`domain_set`].
pub fn ews_set(set: PermissionSet) -> CalendarPermissionSet {
    CalendarPermissionSet {
        calendar_permissions: set.entries.into_iter().map(ews_entry).collect(),
        unknown_entries: set.unknown_entries,
    }
}

fn domain_entry(entry: CalendarPermission) -> PermissionEntry {
    let user = entry.user_id;
    PermissionEntry {
        grantee: Grantee {
            sid: user.sid,
            primary_smtp_address: user.primary_smtp_address,
            display_name: user.display_name,
            distinguished_user: user.distinguished_user.map(|user| match user {
                EwsDistinguishedUser::Default => DistinguishedUser::Default,
                EwsDistinguishedUser::Anonymous => DistinguishedUser::Anonymous,
            }),
            external_user_identity: user.external_user_identity,
            backend_id: None,
        },
        can_create_items: entry.can_create_items,
        can_create_sub_folders: entry.can_create_sub_folders,
        is_folder_owner: entry.is_folder_owner,
        is_folder_visible: entry.is_folder_visible,
        is_folder_contact: entry.is_folder_contact,
        edit_items: entry.edit_items.map(domain_scope),
        delete_items: entry.delete_items.map(domain_scope),
        read_items: entry.read_items.map(|read| match read {
            CalendarPermissionReadAccess::None => ReadScope::None,
            CalendarPermissionReadAccess::TimeOnly => ReadScope::TimeOnly,
            CalendarPermissionReadAccess::TimeAndSubjectAndLocation => {
                ReadScope::TimeAndSubjectAndLocation
            }
            CalendarPermissionReadAccess::FullDetails => ReadScope::FullDetails,
        }),
        level: domain_level(entry.calendar_permission_level),
    }
}

fn ews_entry(entry: PermissionEntry) -> CalendarPermission {
    let grantee = entry.grantee;
    CalendarPermission {
        user_id: UserId {
            sid: grantee.sid,
            primary_smtp_address: grantee.primary_smtp_address,
            display_name: grantee.display_name,
            distinguished_user: grantee.distinguished_user.map(|user| match user {
                DistinguishedUser::Default => EwsDistinguishedUser::Default,
                DistinguishedUser::Anonymous => EwsDistinguishedUser::Anonymous,
            }),
            external_user_identity: grantee.external_user_identity,
        },
        can_create_items: entry.can_create_items,
        can_create_sub_folders: entry.can_create_sub_folders,
        is_folder_owner: entry.is_folder_owner,
        is_folder_visible: entry.is_folder_visible,
        is_folder_contact: entry.is_folder_contact,
        edit_items: entry.edit_items.map(ews_scope),
        delete_items: entry.delete_items.map(ews_scope),
        read_items: entry.read_items.map(|read| match read {
            ReadScope::None => CalendarPermissionReadAccess::None,
            ReadScope::TimeOnly => CalendarPermissionReadAccess::TimeOnly,
            ReadScope::TimeAndSubjectAndLocation => {
                CalendarPermissionReadAccess::TimeAndSubjectAndLocation
            }
            ReadScope::FullDetails => CalendarPermissionReadAccess::FullDetails,
        }),
        calendar_permission_level: ews_level(entry.level),
    }
}

fn domain_scope(action: PermissionAction) -> Scope {
    match action {
        PermissionAction::None => Scope::Nothing,
        PermissionAction::Owned => Scope::Owned,
        PermissionAction::All => Scope::All,
    }
}

fn ews_scope(scope: Scope) -> PermissionAction {
    match scope {
        Scope::Nothing => PermissionAction::None,
        Scope::Owned => PermissionAction::Owned,
        Scope::All => PermissionAction::All,
    }
}

fn domain_level(level: CalendarPermissionLevel) -> PermissionLevel {
    match level {
        CalendarPermissionLevel::None => PermissionLevel::None,
        CalendarPermissionLevel::Owner => PermissionLevel::Owner,
        CalendarPermissionLevel::PublishingEditor => PermissionLevel::PublishingEditor,
        CalendarPermissionLevel::Editor => PermissionLevel::Editor,
        CalendarPermissionLevel::PublishingAuthor => PermissionLevel::PublishingAuthor,
        CalendarPermissionLevel::Author => PermissionLevel::Author,
        CalendarPermissionLevel::NoneditingAuthor => PermissionLevel::NoneditingAuthor,
        CalendarPermissionLevel::Reviewer => PermissionLevel::Reviewer,
        CalendarPermissionLevel::Contributor => PermissionLevel::Contributor,
        CalendarPermissionLevel::FreeBusyTimeOnly => PermissionLevel::FreeBusyTimeOnly,
        CalendarPermissionLevel::FreeBusyTimeAndSubjectAndLocation => {
            PermissionLevel::FreeBusyTimeAndSubjectAndLocation
        }
        CalendarPermissionLevel::Custom => PermissionLevel::Custom,
    }
}

fn ews_level(level: PermissionLevel) -> CalendarPermissionLevel {
    match level {
        PermissionLevel::None => CalendarPermissionLevel::None,
        PermissionLevel::Owner => CalendarPermissionLevel::Owner,
        PermissionLevel::PublishingEditor => CalendarPermissionLevel::PublishingEditor,
        PermissionLevel::Editor => CalendarPermissionLevel::Editor,
        PermissionLevel::PublishingAuthor => CalendarPermissionLevel::PublishingAuthor,
        PermissionLevel::Author => CalendarPermissionLevel::Author,
        PermissionLevel::NoneditingAuthor => CalendarPermissionLevel::NoneditingAuthor,
        PermissionLevel::Reviewer => CalendarPermissionLevel::Reviewer,
        PermissionLevel::Contributor => CalendarPermissionLevel::Contributor,
        PermissionLevel::FreeBusyTimeOnly => CalendarPermissionLevel::FreeBusyTimeOnly,
        PermissionLevel::FreeBusyTimeAndSubjectAndLocation => {
            CalendarPermissionLevel::FreeBusyTimeAndSubjectAndLocation
        }
        PermissionLevel::Custom => CalendarPermissionLevel::Custom,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[a-zA-Z0-9@.-]{0,12}")
    }

    fn entry() -> impl Strategy<Value = CalendarPermission> {
        let user = (
            text(),
            text(),
            text(),
            proptest::option::of(proptest::sample::select(EwsDistinguishedUser::ALL)),
            text(),
        )
            .prop_map(
                |(sid, primary_smtp_address, display_name, distinguished_user, external)| UserId {
                    sid,
                    primary_smtp_address,
                    display_name,
                    distinguished_user,
                    external_user_identity: external,
                },
            );
        let flag = || proptest::option::of(any::<bool>());
        let action = || proptest::option::of(proptest::sample::select(PermissionAction::ALL));
        (
            user,
            (flag(), flag(), flag(), flag(), flag()),
            (action(), action()),
            proptest::option::of(proptest::sample::select(CalendarPermissionReadAccess::ALL)),
            proptest::sample::select(CalendarPermissionLevel::ALL),
        )
            .prop_map(
                |(user_id, (create, sub, owner, visible, contact), (edit, delete), read, level)| {
                    CalendarPermission {
                        user_id,
                        can_create_items: create,
                        can_create_sub_folders: sub,
                        is_folder_owner: owner,
                        is_folder_visible: visible,
                        is_folder_contact: contact,
                        edit_items: edit,
                        delete_items: delete,
                        read_items: read,
                        calendar_permission_level: level,
                    }
                },
            )
    }

    proptest! {
        /// Whatever EWS sends comes back identical after the domain's round trip, so an entry
        /// the merge keeps is written back exactly as read.
        #[test]
        fn a_permission_set_survives_the_round_trip_through_the_domain(
            entries in proptest::collection::vec(entry(), 0..8),
            unknown in proptest::collection::vec("S-1-5-21-[0-9]{1,6}", 0..3),
        ) {
            let set = CalendarPermissionSet {
                calendar_permissions: entries,
                unknown_entries: unknown,
            };
            prop_assert_eq!(ews_set(domain_set(set.clone())), set);
        }
    }

    #[test]
    fn every_level_has_the_same_spelling_on_both_sides() {
        for level in CalendarPermissionLevel::ALL {
            assert_eq!(domain_level(*level).as_str(), level.as_str());
            assert_eq!(ews_level(domain_level(*level)), *level);
        }
        for level in PermissionLevel::ALL {
            assert_eq!(domain_level(ews_level(level)), level);
        }
    }
}
