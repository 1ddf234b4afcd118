//! An in-memory [`CalendarBackend`] for the domain rooms' unit tests: calendars with a permission
//! set and a version, the service account's rights, groups, refusals, a concurrent writer
//! (stale versions) on demand, and a log of the calls made.
//!
//! Invariant: it follows the trait's contract as `backend::ews` does: a write with a version
//! other than the current one is `StaleVersion`; every accepted write gives a new version; an
//! unknown mailbox is refused as `ErrorNonExistentMailbox`.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::backend::{
    BoxFuture, Calendar, CalendarBackend, Error, Expansion, IdentityNotes, OpenAs, Written,
};
use crate::domain::Mailbox;
use crate::domain::permissions::{EffectiveRights, PermissionSet, Version};
use crate::ews::ErrorKind;

/// The one service account of the memory backend.
pub const SERVICE_ACCOUNT: &str = "svc@uni.example";

/// One mailbox's calendar.
#[derive(Debug, Clone, Default)]
pub struct MemoryCalendar {
    pub permissions: PermissionSet,
    /// What the service account may do when it opens the calendar itself; `None`: refused
    /// (`ErrorAccessDenied`).
    pub service_account_rights: Option<EffectiveRights>,
    /// The version stamp; every accepted write adds one.
    pub version: u64,
}

#[derive(Default)]
struct State {
    calendars: HashMap<String, MemoryCalendar>,
    groups: HashMap<String, Expansion>,
    /// Writes still to be beaten by a concurrent writer (answered `StaleVersion`).
    concurrent_writes: u32,
    calls: Vec<&'static str>,
}

/// The in-memory backend.
#[derive(Default)]
pub struct MemoryBackend {
    state: Mutex<State>,
}

impl MemoryBackend {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or replaces) a mailbox's calendar.
    pub fn insert(&self, mailbox: &str, calendar: MemoryCalendar) {
        self.state()
            .calendars
            .insert(mailbox.to_ascii_lowercase(), calendar);
    }

    /// The calendar's permission set as stored now.
    pub fn permissions(&self, mailbox: &str) -> Option<PermissionSet> {
        self.state()
            .calendars
            .get(&mailbox.to_ascii_lowercase())
            .map(|calendar| calendar.permissions.clone())
    }

    /// Makes `address` a group with these direct members.
    pub fn insert_group(&self, address: &str, users: &[&str], groups: &[&str]) {
        let lower = |names: &[&str]| names.iter().map(|name| name.to_ascii_lowercase()).collect();
        self.state().groups.insert(
            address.to_ascii_lowercase(),
            Expansion::Group {
                users: lower(users),
                groups: lower(groups),
                complete: true,
            },
        );
    }

    /// The next `count` writes lose against a concurrent writer, which changes the set's version
    /// (not its entries) just before each.
    pub fn lose_next_writes(&self, count: u32) {
        self.state().concurrent_writes = count;
    }

    /// The calls made so far, by method name, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        self.state().calls.clone()
    }

    fn record(&self, call: &'static str) {
        self.state().calls.push(call);
    }

    fn calendar(&self, mailbox: &Mailbox) -> Result<MemoryCalendar, Error> {
        self.state()
            .calendars
            .get(&mailbox.as_str().to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| Error::Refused {
                kind: ErrorKind::MailboxNotFound,
                code: "ErrorNonExistentMailbox".to_owned(),
                message: None,
            })
    }
}

fn version_of(mailbox: &Mailbox, calendar: &MemoryCalendar) -> Version {
    Version {
        id: format!("calendar:{}", mailbox.as_str().to_ascii_lowercase()),
        tag: Some(calendar.version.to_string()),
    }
}

impl CalendarBackend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn service_account(&self, _mailbox: &Mailbox) -> String {
        SERVICE_ACCOUNT.to_owned()
    }

    fn service_accounts(&self) -> Vec<String> {
        vec![SERVICE_ACCOUNT.to_owned()]
    }

    fn open_calendar<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        who: OpenAs,
        with_permissions: bool,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        Box::pin(async move {
            self.record("open_calendar");
            let calendar = self.calendar(mailbox)?;
            let effective_rights = match who {
                OpenAs::Owner => Some(EffectiveRights {
                    read: true,
                    create_contents: true,
                    modify: true,
                    delete: true,
                }),
                OpenAs::ServiceAccount => match calendar.service_account_rights {
                    Some(rights) => Some(rights),
                    None => {
                        return Err(Error::Refused {
                            kind: ErrorKind::AccessDenied,
                            code: "ErrorAccessDenied".to_owned(),
                            message: None,
                        });
                    }
                },
            };
            Ok(Calendar {
                version: version_of(mailbox, &calendar),
                effective_rights,
                permissions: with_permissions.then(|| calendar.permissions.clone()),
            })
        })
    }

    fn read_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
    ) -> BoxFuture<'a, Result<Calendar, Error>> {
        Box::pin(async move {
            self.record("read_permissions");
            let calendar = self.calendar(mailbox)?;
            Ok(Calendar {
                version: version_of(mailbox, &calendar),
                effective_rights: None,
                permissions: Some(calendar.permissions.clone()),
            })
        })
    }

    fn write_permissions<'a>(
        &'a self,
        mailbox: &'a Mailbox,
        version: Version,
        set: PermissionSet,
    ) -> BoxFuture<'a, Result<Written, Error>> {
        Box::pin(async move {
            self.record("write_permissions");
            self.calendar(mailbox)?;
            let mut state = self.state();
            let concurrent = state.concurrent_writes > 0;
            if concurrent {
                state.concurrent_writes -= 1;
            }
            let calendar = state
                .calendars
                .get_mut(&mailbox.as_str().to_ascii_lowercase())
                .expect("checked above");
            if concurrent {
                calendar.version += 1;
            }
            if version != version_of(mailbox, calendar) {
                return Ok(Written::StaleVersion);
            }
            // As Exchange does: the entries of deleted accounts go with any rewrite.
            calendar.permissions = PermissionSet {
                entries: set.entries,
                unknown_entries: Vec::new(),
            };
            calendar.version += 1;
            Ok(Written::Yes)
        })
    }

    fn expand_group<'a>(
        &'a self,
        address: &'a str,
        _anchor: &'a str,
    ) -> BoxFuture<'a, Result<Expansion, Error>> {
        Box::pin(async move {
            self.record("expand_group");
            Ok(self
                .state()
                .groups
                .get(&address.to_ascii_lowercase())
                .cloned()
                .unwrap_or(Expansion::NotAGroup))
        })
    }

    fn with_notes<'a>(&'a self, work: BoxFuture<'a, ()>) -> BoxFuture<'a, IdentityNotes> {
        Box::pin(async move {
            work.await;
            IdentityNotes::default()
        })
    }
}
