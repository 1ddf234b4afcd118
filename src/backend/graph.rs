//! The Microsoft Graph implementation of [`CalendarBackend`] (`backend: "graph"`): a mailbox in
//! Exchange Online through `graph::client::GraphClient`, acting as the application
//! (`Calendars.ReadWrite` application permission, limited by Exchange Online's RBAC for
//! Applications).
//!
//! What check, grant and revoke need:
//! - `open_calendar`: `GET /users/{m}/calendar`; the application may create and change items
//!   when the calendar's `canEdit` is true (`read` is true whenever Graph answered). One
//!   request: with `with_permissions`, a `$batch` of that GET and the `calendarPermissions`
//!   GET (a refused permissions part leaves `permissions: None`).
//! - `read_permissions`: `GET /users/{m}/calendar/calendarPermissions` into the domain's set:
//!   the "My Organization" entry (no address, not removable) is `Default`; roles map to levels
//!   as API.md says ([`level_of`]); each entry keeps its Graph id in `Grantee::backend_id`.
//! - `write_permissions`: Graph holds one object per grantee, so only the entries that differ
//!   from the set as read are written, one request each ([`diff`]): POST a new grantee, PATCH
//!   the `role` of one whose level changed, DELETE one that is gone; a set equal to the read
//!   one writes nothing, and other grantees are never written. Graph has no version stamp for
//!   the set: the write never answers `StaleVersion`; the domain's confirming read is the check.
//! - `writable_levels`: the five levels with a Graph role (API.md); the others are refused by
//!   `delegation` with `invalid_level` before any request.
//! - `expand_group`: Graph needs no group expansion for check, grant or revoke (the application
//!   acts on its own permission, not through a calendar entry), so every address is
//!   `NotAGroup`, without a request.
//! - `service_account`: the application (client) id, which acts for every mailbox.
//!
//! The event half (calendar push, issue 15) is `events.rs`: events with our two
//! `singleValueExtendedProperties` in the same property set and names as on EWS, windows read
//! by `calendarView` page by page, lookups by `$filter` on our property, writes in sequential
//! `$batch`es of 20, PATCH of the changed fields only with `If-Match`, DELETE (to Deleted
//! Items). Graph acts as the application for every mailbox, so `OpenAs` makes no difference.
//!
//! Entry type: [`GraphBackend`].

use std::collections::HashMap;
use std::sync::Arc;

use hyper::Method;
use serde::Deserialize;

use crate::backend::{
    BoxFuture, Calendar, CalendarBackend, Error, Expansion, IdentityNotes, OpenAs, PerItem, Written,
};
use crate::domain::event::Event;
use crate::domain::events::{
    CurrentEvent, DeleteType, EventChange, FoundEvent, ItemHandle, OurItem, Window,
};
use crate::domain::permissions::{
    DistinguishedUser, EffectiveRights, Grantee, PermissionEntry, PermissionSet, Version,
};
use crate::domain::{Mailbox, PermissionLevel};
use crate::graph::client::{BatchRequest, GraphClient};

mod events;
pub use events::LOOKUP_IDS;

/// The levels with a Graph role (API.md: `none`, `freeBusyRead`, `limitedRead`, `read`,
/// `write`).
pub const WRITABLE_LEVELS: [PermissionLevel; 5] = [
    PermissionLevel::None,
    PermissionLevel::FreeBusyTimeOnly,
    PermissionLevel::FreeBusyTimeAndSubjectAndLocation,
    PermissionLevel::Reviewer,
    PermissionLevel::Editor,
];

/// Graph's `calendar` resource, the fields used.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphCalendar {
    pub id: String,
    #[serde(default)]
    pub can_edit: bool,
}

/// Graph's `emailAddress`.
#[derive(Debug, Deserialize)]
pub struct EmailAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// Graph's `calendarPermission` resource, the fields used.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphPermission {
    pub id: String,
    #[serde(default)]
    pub email_address: Option<EmailAddress>,
    pub role: String,
    #[serde(default)]
    pub is_removable: Option<bool>,
}

/// `{"value": [...]}`.
#[derive(Debug, Deserialize)]
struct Collection<T> {
    value: Vec<T>,
}

/// The level of a Graph role (API.md); `None` for a role Graph may add later.
pub fn level_of(role: &str) -> Option<PermissionLevel> {
    Some(match role {
        "none" => PermissionLevel::None,
        "freeBusyRead" => PermissionLevel::FreeBusyTimeOnly,
        "limitedRead" => PermissionLevel::FreeBusyTimeAndSubjectAndLocation,
        "read" => PermissionLevel::Reviewer,
        "write" | "delegateWithoutPrivateEventAccess" | "delegateWithPrivateEventAccess" => {
            PermissionLevel::Editor
        }
        "custom" => PermissionLevel::Custom,
        _ => return None,
    })
}

/// The Graph role a level is written as; `None` for the levels Graph cannot express.
pub fn role_of(level: PermissionLevel) -> Option<&'static str> {
    Some(match level {
        PermissionLevel::None => "none",
        PermissionLevel::FreeBusyTimeOnly => "freeBusyRead",
        PermissionLevel::FreeBusyTimeAndSubjectAndLocation => "limitedRead",
        PermissionLevel::Reviewer => "read",
        PermissionLevel::Editor => "write",
        _ => return None,
    })
}

/// One permission object as a domain entry.
pub fn entry_of(permission: GraphPermission) -> PermissionEntry {
    let address = permission
        .email_address
        .as_ref()
        .and_then(|email| email.address.clone())
        .filter(|address| !address.is_empty());
    let name = permission
        .email_address
        .as_ref()
        .and_then(|email| email.name.clone());
    // "My Organization" has no address and cannot be removed (calendarPermission resource).
    let organization = address.is_none() && permission.is_removable != Some(true);
    let grantee = Grantee {
        primary_smtp_address: address,
        display_name: name,
        distinguished_user: organization.then_some(DistinguishedUser::Default),
        backend_id: Some(permission.id),
        ..Grantee::default()
    };
    // An unknown role is read as Custom: shown, never written back.
    let level = level_of(&permission.role).unwrap_or(PermissionLevel::Custom);
    PermissionEntry::with_level(grantee, level)
}

/// One write of [`diff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionWrite {
    /// POST a new grantee.
    Add {
        address: String,
        name: Option<String>,
        role: &'static str,
    },
    /// PATCH the role of the object `id`.
    Change { id: String, role: &'static str },
    /// DELETE the object `id`.
    Remove { id: String },
}

/// Whom an entry is for, as Graph keys its objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Organization,
    Address(String),
}

fn key_of(grantee: &Grantee) -> Option<Key> {
    match (grantee.distinguished_user, &grantee.primary_smtp_address) {
        (Some(DistinguishedUser::Default), _) => Some(Key::Organization),
        (Some(DistinguishedUser::Anonymous), _) => None,
        (None, Some(address)) => Some(Key::Address(address.to_ascii_lowercase())),
        (None, None) => None,
    }
}

/// Why a set cannot be written through Graph.
fn cannot_write(what: &'static str) -> Error {
    Error::Graph(crate::graph::Error::NotAvailable(what))
}

/// The writes that turn `read` into `set`: only entries whose level differs, appear or go.
///
/// # Errors
/// When `set` holds what Graph cannot write: a level without a role, an entry with neither an
/// address nor "My Organization", or the removal of "My Organization".
pub fn diff(read: &PermissionSet, set: &PermissionSet) -> Result<Vec<PermissionWrite>, Error> {
    let before: HashMap<Key, &PermissionEntry> = read
        .entries
        .iter()
        .filter_map(|entry| key_of(&entry.grantee).map(|key| (key, entry)))
        .collect();
    let mut writes = Vec::new();
    let mut kept = std::collections::HashSet::new();
    for entry in &set.entries {
        let Some(key) = key_of(&entry.grantee) else {
            if read.entries.contains(entry) {
                continue;
            }
            return Err(cannot_write(
                "Graph permissions are for an address or My Organization only",
            ));
        };
        kept.insert(key.clone());
        let role = || {
            role_of(entry.level).ok_or_else(|| {
                cannot_write(
                    "this level has no Graph role (none, freeBusyRead, limitedRead, read, write)",
                )
            })
        };
        match before.get(&key) {
            Some(old) if old.level == entry.level => {}
            Some(old) => {
                let id = old
                    .grantee
                    .backend_id
                    .clone()
                    .or_else(|| entry.grantee.backend_id.clone())
                    .ok_or(Error::Incomplete("the calendarPermission id"))?;
                writes.push(PermissionWrite::Change { id, role: role()? });
            }
            None => match key {
                Key::Organization => {
                    return Err(cannot_write(
                        "My Organization is on every Graph calendar; its role can only be changed",
                    ));
                }
                Key::Address(_) => writes.push(PermissionWrite::Add {
                    address: entry
                        .grantee
                        .primary_smtp_address
                        .clone()
                        .unwrap_or_default(),
                    name: entry.grantee.display_name.clone(),
                    role: role()?,
                }),
            },
        }
    }
    for entry in &read.entries {
        let Some(key) = key_of(&entry.grantee) else {
            continue;
        };
        if kept.contains(&key) {
            continue;
        }
        if key == Key::Organization {
            return Err(cannot_write("My Organization cannot be removed on Graph"));
        }
        let id = entry
            .grantee
            .backend_id
            .clone()
            .ok_or(Error::Incomplete("the calendarPermission id"))?;
        writes.push(PermissionWrite::Remove { id });
    }
    Ok(writes)
}

/// The domain's set of a `calendarPermissions` list.
fn set_of(list: Collection<GraphPermission>) -> PermissionSet {
    PermissionSet {
        entries: list.value.into_iter().map(entry_of).collect(),
        unknown_entries: Vec::new(),
    }
}

/// The opened calendar: the application reads whenever Graph answered, and may create and
/// change items when `canEdit`.
fn calendar_of(calendar: GraphCalendar, permissions: Option<PermissionSet>) -> Calendar {
    Calendar {
        version: Version {
            id: calendar.id,
            tag: None,
        },
        effective_rights: Some(EffectiveRights {
            read: true,
            create_contents: calendar.can_edit,
            modify: false,
            delete: false,
        }),
        permissions,
    }
}

/// A `$batch` part's body as `T`.
fn decode<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    what: &str,
) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|error| {
        Error::Graph(crate::graph::Error::Unusable {
            reason: format!("{what}: {error}"),
        })
    })
}

/// Exchange Online through Microsoft Graph, acting as the application.
pub struct GraphBackend {
    client: Arc<GraphClient>,
    client_id: String,
}

impl GraphBackend {
    /// The backend on `client`, answering `client_id` as its service account.
    pub fn new(client: Arc<GraphClient>, client_id: impl Into<String>) -> GraphBackend {
        GraphBackend {
            client,
            client_id: client_id.into(),
        }
    }

    /// The same, shared as the domain rooms hold it.
    pub fn shared(
        client: Arc<GraphClient>,
        client_id: impl Into<String>,
    ) -> Arc<dyn CalendarBackend> {
        Arc::new(GraphBackend::new(client, client_id))
    }

    pub fn client(&self) -> &Arc<GraphClient> {
        &self.client
    }
}

impl CalendarBackend for GraphBackend {
    fn name(&self) -> &'static str {
        "graph"
    }

    fn service_account(&self, _mailbox: &Mailbox) -> String {
        self.client_id.clone()
    }

    fn service_accounts(&self) -> Vec<String> {
        vec![self.client_id.clone()]
    }

    fn open_calendar<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        with_permissions: bool,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        Box::pin(async move {
            let m = mailbox.as_str();
            if !with_permissions {
                let calendar: GraphCalendar = self
                    .client
                    .get(m, &["users", m, "calendar"])
                    .await
                    .map_err(Error::Graph)?;
                return Ok(calendar_of(calendar, None));
            }
            // One round trip: the calendar and its permissions as two parts of one `$batch`.
            let part = |path: &[&str]| BatchRequest {
                mailbox: m.to_owned(),
                method: Method::GET,
                path: path.iter().map(|segment| (*segment).to_owned()).collect(),
                body: None,
            };
            let requests = [
                part(&["users", m, "calendar"]),
                part(&["users", m, "calendar", "calendarPermissions"]),
            ];
            let mut answers = self
                .client
                .batch(&requests)
                .await
                .map_err(Error::Graph)?
                .into_iter();
            let calendar: GraphCalendar = decode(
                answers
                    .next()
                    .ok_or(Error::Incomplete("the calendar"))?
                    .map_err(Error::Graph)?,
                "calendar",
            )?;
            let permissions = match answers
                .next()
                .ok_or(Error::Incomplete("the calendar's permissions"))?
            {
                Ok(value) => {
                    let list: Collection<GraphPermission> = decode(value, "calendarPermissions")?;
                    Some(set_of(list))
                }
                // The calendar opened but its permissions were refused: the check still
                // answers from `canEdit`, with the level unknown.
                Err(error) if matches!(error.kind(), crate::exchange::FailureKind::Code(_)) => {
                    tracing::debug!(%error, "graph refused the calendar's permissions");
                    None
                }
                Err(error) => return Err(Error::Graph(error)),
            };
            Ok(calendar_of(calendar, permissions))
        })
    }

    fn read_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        Box::pin(async move {
            let list: Collection<GraphPermission> = self
                .client
                .get(
                    mailbox.as_str(),
                    &["users", mailbox.as_str(), "calendar", "calendarPermissions"],
                )
                .await
                .map_err(Error::Graph)?;
            Ok(Calendar {
                version: Version {
                    id: "calendar".to_owned(),
                    tag: None,
                },
                effective_rights: None,
                permissions: Some(set_of(list)),
            })
        })
    }

    fn write_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _version: Version,
        read: &'a PermissionSet,
        set: PermissionSet,
    ) -> BoxFuture<'a, Result<Written, Error>> {
        Box::pin(async move {
            let m = mailbox.as_str();
            for write in diff(read, &set)? {
                let result = match &write {
                    PermissionWrite::Add {
                        address,
                        name,
                        role,
                    } => {
                        let mut email = serde_json::json!({ "address": address });
                        if let Some(name) = name {
                            email["name"] = serde_json::Value::String(name.clone());
                        }
                        let body = serde_json::json!({
                            "emailAddress": email,
                            "isInsideOrganization": true,
                            "isRemovable": true,
                            "role": role,
                        });
                        self.client
                            .send(
                                m,
                                Method::POST,
                                &["users", m, "calendar", "calendarPermissions"],
                                Some(body),
                            )
                            .await
                    }
                    PermissionWrite::Change { id, role } => {
                        self.client
                            .send(
                                m,
                                Method::PATCH,
                                &["users", m, "calendar", "calendarPermissions", id],
                                Some(serde_json::json!({ "role": role })),
                            )
                            .await
                    }
                    PermissionWrite::Remove { id } => {
                        self.client
                            .send(
                                m,
                                Method::DELETE,
                                &["users", m, "calendar", "calendarPermissions", id],
                                None,
                            )
                            .await
                    }
                };
                result.map_err(Error::Graph)?;
            }
            Ok(Written::Yes)
        })
    }

    fn writable_levels(&self) -> &'static [PermissionLevel] {
        &WRITABLE_LEVELS
    }

    fn batch_parts(&self) -> usize {
        crate::graph::client::MAX_BATCH
    }

    fn expand_group<'a>(
        &'a self,
        _address: &'a str,
        _anchor: &'a str,
    ) -> BoxFuture<'a, Result<Expansion, Error>> {
        Box::pin(async { Ok(Expansion::NotAGroup) })
    }

    fn with_notes<'a>(&'a self, work: BoxFuture<'a, ()>) -> BoxFuture<'a, IdentityNotes> {
        Box::pin(async move {
            work.await;
            IdentityNotes::default()
        })
    }

    fn find_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        window: Window,
        view_max_entries: u32,
    ) -> BoxFuture<'a, Result<Vec<FoundEvent>, Error>> {
        Box::pin(self.read_window(mailbox, window, view_max_entries))
    }

    fn find_by_external_ids<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        ids: &'a [&'a str],
    ) -> BoxFuture<'a, Result<Vec<OurItem>, Error>> {
        Box::pin(self.find_ours(mailbox, ids))
    }

    fn create_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(self.create(mailbox, events))
    }

    fn read_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        items: &'a [ItemHandle],
    ) -> BoxFuture<'a, Result<PerItem<CurrentEvent>, Error>> {
        Box::pin(self.read(mailbox, items))
    }

    fn update_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        changes: Vec<EventChange>,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(self.update(mailbox, changes))
    }

    fn delete_events<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        _who: OpenAs,
        items: &'a [ItemHandle],
        delete_type: DeleteType,
    ) -> BoxFuture<'a, Result<PerItem<()>, Error>> {
        Box::pin(self.delete(mailbox, items, delete_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permission(id: &str, address: Option<&str>, role: &str, removable: bool) -> GraphPermission {
        GraphPermission {
            id: id.to_owned(),
            email_address: Some(EmailAddress {
                name: Some(address.unwrap_or("My Organization").to_owned()),
                address: address.map(str::to_owned),
            }),
            role: role.to_owned(),
            is_removable: Some(removable),
        }
    }

    fn read_set() -> PermissionSet {
        PermissionSet {
            entries: vec![
                entry_of(permission("RGVm", None, "freeBusyRead", false)),
                entry_of(permission("QWxp", Some("alice@uni.example"), "read", true)),
                entry_of(permission(
                    "Qm9i",
                    Some("bob@uni.example"),
                    "delegateWithPrivateEventAccess",
                    true,
                )),
                entry_of(permission(
                    "Q3Vz",
                    Some("carol@uni.example"),
                    "custom",
                    true,
                )),
            ],
            unknown_entries: Vec::new(),
        }
    }

    #[test]
    fn every_role_reads_as_api_md_says_and_writable_levels_round_trip() {
        let table = [
            ("none", PermissionLevel::None),
            ("freeBusyRead", PermissionLevel::FreeBusyTimeOnly),
            (
                "limitedRead",
                PermissionLevel::FreeBusyTimeAndSubjectAndLocation,
            ),
            ("read", PermissionLevel::Reviewer),
            ("write", PermissionLevel::Editor),
            ("delegateWithoutPrivateEventAccess", PermissionLevel::Editor),
            ("delegateWithPrivateEventAccess", PermissionLevel::Editor),
            ("custom", PermissionLevel::Custom),
        ];
        for (role, level) in table {
            assert_eq!(level_of(role), Some(level), "{role}");
        }
        for level in PermissionLevel::ALL {
            let writable = WRITABLE_LEVELS.contains(&level);
            assert_eq!(role_of(level).is_some(), writable, "{level:?}");
            if let Some(role) = role_of(level) {
                assert_eq!(level_of(role), Some(level));
            }
        }
        assert_eq!(level_of("owner"), None);
    }

    #[test]
    fn my_organization_is_default_and_every_entry_keeps_its_graph_id() {
        let set = read_set();
        assert_eq!(
            set.entries[0].grantee.distinguished_user,
            Some(DistinguishedUser::Default)
        );
        assert_eq!(set.entries[0].level, PermissionLevel::FreeBusyTimeOnly);
        assert_eq!(set.entries[1].grantee.distinguished_user, None);
        assert_eq!(
            set.entries[1].grantee.primary_smtp_address.as_deref(),
            Some("alice@uni.example")
        );
        let ids: Vec<_> = set
            .entries
            .iter()
            .map(|entry| entry.grantee.backend_id.as_deref().unwrap())
            .collect();
        assert_eq!(ids, ["RGVm", "QWxp", "Qm9i", "Q3Vz"]);
    }

    #[test]
    fn the_set_as_read_writes_nothing() {
        let read = read_set();
        assert_eq!(diff(&read, &read.clone()).unwrap(), vec![]);
    }

    #[test]
    fn only_the_changed_entry_is_written_and_other_grantees_never() {
        let read = read_set();
        // As `delegation::merge` writes a grant: the principal's entry replaced by a fresh one
        // without a Graph id, every other entry as read.
        let mut granted = read.clone();
        granted.entries[1] = PermissionEntry::with_level(
            Grantee::smtp("Alice@uni.example"),
            PermissionLevel::Editor,
        );
        assert_eq!(
            diff(&read, &granted).unwrap(),
            vec![PermissionWrite::Change {
                id: "QWxp".to_owned(),
                role: "write"
            }]
        );

        let mut added = read.clone();
        added.entries.push(PermissionEntry::with_level(
            Grantee::smtp("push@uni.example"),
            PermissionLevel::Editor,
        ));
        assert_eq!(
            diff(&read, &added).unwrap(),
            vec![PermissionWrite::Add {
                address: "push@uni.example".to_owned(),
                name: None,
                role: "write"
            }]
        );

        let mut revoked = read.clone();
        revoked.entries.remove(1);
        assert_eq!(
            diff(&read, &revoked).unwrap(),
            vec![PermissionWrite::Remove {
                id: "QWxp".to_owned()
            }]
        );
    }

    #[test]
    fn what_graph_cannot_hold_is_refused_before_any_write() {
        let read = read_set();
        let mut author = read.clone();
        author.entries.push(PermissionEntry::with_level(
            Grantee::smtp("push@uni.example"),
            PermissionLevel::Author,
        ));
        assert!(diff(&read, &author).is_err());
        let mut no_organization = read.clone();
        no_organization.entries.remove(0);
        assert!(diff(&read, &no_organization).is_err());
    }
}
