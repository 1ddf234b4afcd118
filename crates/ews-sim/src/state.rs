//! The simulator's world: accounts that may log on, the directory (users, groups, SIDs), and per
//! mailbox the calendar folder (id, ChangeKey, permission set) and the delegate list.
//!
//! Invariants: every mailbox, user and group is keyed by its lower-cased SMTP address; a
//! permission entry's `level` is always the one Exchange would report for its flags (named when
//! the flags equal a row of PROTOCOL §3.3, else `Custom`); every change to a calendar's
//! permission set bumps its ChangeKey.
//! Entry types: [`SimState`] (loaded from TOML), [`PermissionLevel`], [`PermissionFlags`],
//! [`PermissionView`] (the JSON/inspection form of one entry).
//!
//! Passwords are kept in clear in the state file because this is a simulator: never reuse a real
//! password there.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::Error;
use crate::faults::ScriptedFault;
use crate::items::{ItemFile, SimItem};
use secrecy::SecretString;

/// `EditItems` / `DeleteItems` scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub enum ItemScope {
    #[default]
    None,
    Owned,
    All,
}

/// `ReadItems` scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub enum ReadScope {
    #[default]
    None,
    TimeOnly,
    TimeAndSubjectAndLocation,
    FullDetails,
}

/// The eight flags of one `t:CalendarPermission`, in schema order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PermissionFlags {
    /// `t:CanCreateItems`.
    pub can_create_items: bool,
    /// `t:CanCreateSubFolders` (capital F on the wire).
    pub can_create_subfolders: bool,
    /// `t:IsFolderOwner`: may change the folder's permissions.
    pub is_folder_owner: bool,
    /// `t:IsFolderVisible`: without it, delegate access sees `ErrorFolderNotFound`.
    pub is_folder_visible: bool,
    /// `t:IsFolderContact`.
    pub is_folder_contact: bool,
    /// `t:EditItems`.
    pub edit_items: ItemScope,
    /// `t:DeleteItems`.
    pub delete_items: ItemScope,
    /// `t:ReadItems`.
    pub read_items: ReadScope,
}

impl PermissionFlags {
    /// The union of two rights sets (what a member of several groups gets).
    pub fn union(self, other: PermissionFlags) -> PermissionFlags {
        PermissionFlags {
            can_create_items: self.can_create_items || other.can_create_items,
            can_create_subfolders: self.can_create_subfolders || other.can_create_subfolders,
            is_folder_owner: self.is_folder_owner || other.is_folder_owner,
            is_folder_visible: self.is_folder_visible || other.is_folder_visible,
            is_folder_contact: self.is_folder_contact || other.is_folder_contact,
            edit_items: self.edit_items.max(other.edit_items),
            delete_items: self.delete_items.max(other.delete_items),
            read_items: self.read_items.max(other.read_items),
        }
    }
}

/// `t:CalendarPermissionLevel`, spelled as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PermissionLevel {
    None,
    Owner,
    PublishingEditor,
    Editor,
    PublishingAuthor,
    Author,
    NoneditingAuthor,
    Reviewer,
    Contributor,
    FreeBusyTimeOnly,
    FreeBusyTimeAndSubjectAndLocation,
    Custom,
}

impl PermissionLevel {
    const NAMED: [PermissionLevel; 11] = [
        PermissionLevel::None,
        PermissionLevel::FreeBusyTimeOnly,
        PermissionLevel::FreeBusyTimeAndSubjectAndLocation,
        PermissionLevel::Contributor,
        PermissionLevel::Reviewer,
        PermissionLevel::NoneditingAuthor,
        PermissionLevel::Author,
        PermissionLevel::PublishingAuthor,
        PermissionLevel::Editor,
        PermissionLevel::PublishingEditor,
        PermissionLevel::Owner,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionLevel::None => "None",
            PermissionLevel::Owner => "Owner",
            PermissionLevel::PublishingEditor => "PublishingEditor",
            PermissionLevel::Editor => "Editor",
            PermissionLevel::PublishingAuthor => "PublishingAuthor",
            PermissionLevel::Author => "Author",
            PermissionLevel::NoneditingAuthor => "NoneditingAuthor",
            PermissionLevel::Reviewer => "Reviewer",
            PermissionLevel::Contributor => "Contributor",
            PermissionLevel::FreeBusyTimeOnly => "FreeBusyTimeOnly",
            PermissionLevel::FreeBusyTimeAndSubjectAndLocation => {
                "FreeBusyTimeAndSubjectAndLocation"
            }
            PermissionLevel::Custom => "Custom",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(text: &str) -> Option<PermissionLevel> {
        Self::NAMED
            .into_iter()
            .chain([PermissionLevel::Custom])
            .find(|level| level.as_str() == text)
    }

    /// The flags a named level implies (PROTOCOL §3.3 table); `None` for `Custom`.
    #[rustfmt::skip]
    pub fn flags(self) -> Option<PermissionFlags> {
        use ItemScope as I;
        use ReadScope as R;
        let row = |create, subfolders, owner, visible, contact, edit, delete, read| {
            Some(PermissionFlags {
                can_create_items: create,
                can_create_subfolders: subfolders,
                is_folder_owner: owner,
                is_folder_visible: visible,
                is_folder_contact: contact,
                edit_items: edit,
                delete_items: delete,
                read_items: read,
            })
        };
        // One row per level: create items, create subfolders, folder owner, folder visible,
        // folder contact, edit, delete, read.
        match self {
            PermissionLevel::None => row(false, false, false, false, false, I::None, I::None, R::None),
            PermissionLevel::FreeBusyTimeOnly => row(false, false, false, false, false, I::None, I::None, R::TimeOnly),
            PermissionLevel::FreeBusyTimeAndSubjectAndLocation => row(false, false, false, false, false, I::None, I::None, R::TimeAndSubjectAndLocation),
            PermissionLevel::Contributor => row(true, false, false, true, false, I::None, I::None, R::None),
            PermissionLevel::Reviewer => row(false, false, false, true, false, I::None, I::None, R::FullDetails),
            PermissionLevel::NoneditingAuthor => row(true, false, false, true, false, I::None, I::Owned, R::FullDetails),
            PermissionLevel::Author => row(true, false, false, true, false, I::Owned, I::Owned, R::FullDetails),
            PermissionLevel::PublishingAuthor => row(true, true, false, true, false, I::Owned, I::Owned, R::FullDetails),
            PermissionLevel::Editor => row(true, false, false, true, false, I::All, I::All, R::FullDetails),
            PermissionLevel::PublishingEditor => row(true, true, false, true, false, I::All, I::All, R::FullDetails),
            PermissionLevel::Owner => row(true, true, true, true, true, I::All, I::All, R::FullDetails),
            PermissionLevel::Custom => None,
        }
    }

    /// The level Exchange reports for a flag set: the named level whose row equals the flags,
    /// else `Custom`.
    pub fn from_flags(flags: PermissionFlags) -> PermissionLevel {
        Self::NAMED
            .into_iter()
            .find(|level| level.flags() == Some(flags))
            .unwrap_or(PermissionLevel::Custom)
    }
}

/// How a permission file and the inspection view name a user known only by its
/// `ExternalUserIdentity`.
pub(crate) const EXTERNAL_PREFIX: &str = "external:";

/// Who one permission entry is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    Default,
    Anonymous,
    /// A user or group of the directory, by lower-cased SMTP address.
    Smtp(String),
    /// A SID that resolves to nobody (a deleted user): shown with only `t:SID`.
    Sid(String),
    /// A cross-organization user known only by its `t:ExternalUserIdentity`, shown with it (and
    /// the display name, the identity itself here).
    External(String),
    /// An entry whose `t:UserId` is empty: no SID, address, distinguished user or external
    /// identity.
    Unidentified,
}

/// One calendar permission entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PermissionEntry {
    pub principal: Principal,
    pub flags: PermissionFlags,
    pub level: PermissionLevel,
}

impl PermissionEntry {
    pub(crate) fn from_flags(principal: Principal, flags: PermissionFlags) -> PermissionEntry {
        PermissionEntry {
            principal,
            flags,
            level: PermissionLevel::from_flags(flags),
        }
    }
}

/// The inspection form of one permission entry (also the JSON of
/// `GET /sim/mailboxes/{smtp}/permissions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionView {
    /// `Default`, `Anonymous`, an SMTP address, a bare SID for an unresolvable entry,
    /// `external:IDENTITY` for a user known only by its `ExternalUserIdentity`, or the empty
    /// string for an empty `UserId`.
    pub user: String,
    /// The SID, when the entry is a user or group (or a bare SID).
    pub sid: Option<String>,
    /// The level Exchange reports (computed from the flags).
    pub level: PermissionLevel,
    /// The eight flags.
    pub flags: PermissionFlags,
}

/// The inspection form of a calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarView {
    /// `t:FolderId/@Id`.
    pub folder_id: String,
    /// `t:FolderId/@ChangeKey`: changes on every permission change.
    pub change_key: String,
    /// The entries in ACL order.
    pub permissions: Vec<PermissionView>,
    /// Strings shown under `t:UnknownEntries`; dropped by any rewrite (as Exchange does).
    pub unknown_entries: Vec<String>,
}

/// Who an account may impersonate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ImpersonationRule {
    All,
    None,
    /// Patterns: an SMTP address, or `*@domain`.
    List(Vec<String>),
}

/// One account that may log on to the simulator.
#[derive(Clone, Debug)]
pub(crate) struct Account {
    /// `DOMAIN\user` or a UPN, as configured.
    pub username: String,
    pub upn: Option<String>,
    pub password: SecretString,
    /// Lower-cased SMTP address.
    pub smtp: String,
    pub impersonation: ImpersonationRule,
    /// Mailboxes excluded from `impersonation` (lower-cased SMTP).
    pub impersonation_except: Vec<String>,
    pub max_concurrency: Option<usize>,
}

impl Account {
    /// Whether this account may impersonate `mailbox` (lower-cased SMTP).
    pub(crate) fn may_impersonate(&self, mailbox: &str) -> bool {
        if self
            .impersonation_except
            .iter()
            .any(|denied| denied == mailbox)
        {
            return false;
        }
        match &self.impersonation {
            ImpersonationRule::All => true,
            ImpersonationRule::None => false,
            ImpersonationRule::List(patterns) => patterns.iter().any(|pattern| {
                let pattern = pattern.to_ascii_lowercase();
                match pattern.strip_prefix('*') {
                    Some(suffix) => mailbox.ends_with(suffix),
                    None => pattern == mailbox,
                }
            }),
        }
    }

    /// Whether the user name and domain of an NTLM AUTHENTICATE (or a Basic user name) name
    /// this account. `domain` is empty for a UPN logon.
    pub(crate) fn matches_logon(&self, domain: &str, user: &str) -> bool {
        let full = if domain.is_empty() {
            user.to_string()
        } else {
            format!("{domain}\\{user}")
        };
        let candidates = [Some(self.username.as_str()), self.upn.as_deref()];
        candidates
            .into_iter()
            .flatten()
            .any(|candidate| candidate.eq_ignore_ascii_case(&full))
            || (domain.is_empty() && self.smtp.eq_ignore_ascii_case(user))
    }
}

/// A user or group of the simulated directory.
#[derive(Clone, Debug)]
pub(crate) struct DirectoryEntry {
    /// SMTP address as configured (original case).
    pub smtp: String,
    pub sid: String,
    pub display_name: String,
    pub is_group: bool,
    /// Lower-cased SMTP addresses of the members (groups only).
    pub members: Vec<String>,
}

/// `t:DelegatePermissions`: one level per default folder; absent means None.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DelegatePermissions {
    /// `CalendarFolderPermissionLevel` (None/Editor/Reviewer/Author; Custom when read).
    pub calendar: Option<String>,
    pub tasks: Option<String>,
    pub inbox: Option<String>,
    pub contacts: Option<String>,
    pub notes: Option<String>,
    pub journal: Option<String>,
}

impl DelegatePermissions {
    /// The six folders in schema order, with their element names.
    pub(crate) fn in_order(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("CalendarFolderPermissionLevel", &self.calendar),
            ("TasksFolderPermissionLevel", &self.tasks),
            ("InboxFolderPermissionLevel", &self.inbox),
            ("ContactsFolderPermissionLevel", &self.contacts),
            ("NotesFolderPermissionLevel", &self.notes),
            ("JournalFolderPermissionLevel", &self.journal),
        ]
    }

    pub(crate) fn slot_mut(&mut self, element: &str) -> Option<&mut Option<String>> {
        match element {
            "CalendarFolderPermissionLevel" => Some(&mut self.calendar),
            "TasksFolderPermissionLevel" => Some(&mut self.tasks),
            "InboxFolderPermissionLevel" => Some(&mut self.inbox),
            "ContactsFolderPermissionLevel" => Some(&mut self.contacts),
            "NotesFolderPermissionLevel" => Some(&mut self.notes),
            "JournalFolderPermissionLevel" => Some(&mut self.journal),
            _ => None,
        }
    }
}

/// One delegate of a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delegate {
    /// Lower-cased SMTP address.
    pub user: String,
    pub permissions: DelegatePermissions,
    pub receive_copies: bool,
    pub view_private: bool,
}

/// One mailbox and its calendar.
#[derive(Clone, Debug)]
pub(crate) struct Mailbox {
    pub smtp: String,
    /// Other addresses of the mailbox (lower-cased): a request naming one gets
    /// `ErrorNonPrimarySmtpAddress` with `smtp` in `MessageXml`.
    pub aliases: Vec<String>,
    /// The mailbox moved to Exchange Online: the directory still knows it (by this
    /// `MailboxGuid`), no database here holds it, so every request naming it gets a per-message
    /// `ErrorNonExistentMailbox` ("No mailbox with such guid.") with the guid in `MessageXml`.
    pub moved_to_cloud: Option<String>,
    pub moving: bool,
    pub store_unavailable: bool,
    pub folder_id: String,
    pub parent_folder_id: String,
    pub change_key: String,
    /// Incremented on every change; the ChangeKey is derived from it.
    pub version: u64,
    pub permissions: Vec<PermissionEntry>,
    pub unknown_entries: Vec<String>,
    pub delegates: Vec<Delegate>,
    pub deliver_meeting_requests: String,
    /// Calendar items by item id.
    pub items: BTreeMap<String, SimItem>,
    /// At most this many calendar items (CreateItem beyond it: `ErrorQuotaExceeded`).
    pub item_quota: Option<usize>,
}

impl Mailbox {
    /// Bumps the version and derives a new ChangeKey (opaque base64, like Exchange's).
    pub(crate) fn bump_change_key(&mut self) {
        self.version += 1;
        self.change_key = change_key_for(&self.folder_id, self.version);
    }
}

/// Server-wide settings of the simulated Exchange.
#[derive(Clone, Debug)]
pub(crate) struct ServerSettings {
    pub basic: bool,
    pub realm: String,
    pub netbios_domain: String,
    pub netbios_computer: String,
    pub dns_computer: String,
    pub dns_domain: String,
    pub latency_ms: u64,
    pub latency_jitter_ms: u64,
    pub max_concurrency: Option<usize>,
    /// `EWSFindCountLimit`: items the FindItem answers of one account may hold at once.
    pub find_count_limit: usize,
    /// IIS `connectionTimeout`: a keep-alive connection idle this long is closed.
    pub idle_timeout: std::time::Duration,
}

/// The find-count charge of one FindItem answer; released (dropped) once the answer is sent.
#[derive(Debug)]
pub(crate) struct FindCharge {
    charges: std::sync::Arc<std::sync::Mutex<HashMap<String, usize>>>,
    account: String,
    count: usize,
}

impl Drop for FindCharge {
    fn drop(&mut self) {
        let mut charges = self
            .charges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(held) = charges.get_mut(&self.account) {
            *held = held.saturating_sub(self.count);
        }
    }
}

/// The whole simulated world, loaded from a TOML state file (format: `fixtures/sim/README.md`).
#[derive(Clone, Debug)]
pub struct SimState {
    pub(crate) server: ServerSettings,
    pub(crate) accounts: Vec<Account>,
    /// Users and groups by lower-cased SMTP address.
    pub(crate) directory: BTreeMap<String, DirectoryEntry>,
    /// Mailboxes by lower-cased SMTP address; absent means "non-existent mailbox".
    pub(crate) mailboxes: BTreeMap<String, Mailbox>,
    pub(crate) faults: Vec<ScriptedFault>,
    /// The `[autodiscover]` section: how the Autodiscover endpoints answer.
    pub(crate) autodiscover: crate::autodiscover::AutodiscoverSettings,
    /// Item id → lower-cased SMTP key of the mailbox holding it.
    pub(crate) item_owner: HashMap<String, String>,
    /// Store-wide counter behind item ids and item ChangeKeys.
    pub(crate) item_serial: u64,
    /// Find-count charges held per account (lower-cased SMTP) by answers not yet sent.
    pub(crate) find_charges: std::sync::Arc<std::sync::Mutex<HashMap<String, usize>>>,
    /// The charge of the FindItem just handled, taken by the server and held until sent.
    pub(crate) find_hold: Option<std::sync::Arc<FindCharge>>,
}

impl SimState {
    /// Charges `count` found items to `account` when its budget allows it (the answers held
    /// now plus this one within `find_count_limit`): `false` means "over the budget".
    pub(crate) fn charge_find(&mut self, account: &str, count: usize) -> bool {
        let mut charges = self
            .find_charges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = charges.entry(account.to_string()).or_insert(0);
        if *held + count > self.server.find_count_limit {
            return false;
        }
        *held += count;
        drop(charges);
        self.find_hold = Some(std::sync::Arc::new(FindCharge {
            charges: std::sync::Arc::clone(&self.find_charges),
            account: account.to_string(),
            count,
        }));
        true
    }

    /// Overrides the idle keep-alive timeout (`[server] idle_timeout_ms`).
    pub fn set_idle_timeout(&mut self, timeout: std::time::Duration) {
        self.server.idle_timeout = timeout;
    }

    /// Overrides `EWSFindCountLimit` (`[server] find_count_limit`).
    pub fn set_find_count_limit(&mut self, limit: usize) {
        self.server.find_count_limit = limit;
    }

    /// Reads and validates a state file.
    ///
    /// # Errors
    /// [`Error::ReadState`] when the file cannot be read, [`Error::InvalidState`] when it is not
    /// a valid state (unknown keys, unknown principals, bad levels).
    pub fn load(path: impl AsRef<Path>) -> Result<SimState, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadState {
            path: path.to_path_buf(),
            source,
        })?;
        SimState::from_toml_str(&text)
    }

    /// Parses and validates a state from TOML text.
    ///
    /// # Errors
    /// [`Error::InvalidState`] as for [`SimState::load`].
    pub fn from_toml_str(text: &str) -> Result<SimState, Error> {
        let file: StateFile = toml::from_str(text).map_err(|error: toml::de::Error| {
            // Only the message and line: toml's Display quotes the source line, which may
            // hold a password.
            let line = error
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            Error::InvalidState(match line {
                Some(line) => format!("line {line}: {}", error.message()),
                None => error.message().to_string(),
            })
        })?;
        build_state(file)
    }

    /// Overrides the server-wide latency (CLI `--latency-ms`).
    pub fn set_latency_ms(&mut self, latency_ms: u64) {
        self.server.latency_ms = latency_ms;
    }

    /// Overrides the per-account concurrency limit (CLI `--max-concurrency`).
    pub fn set_max_concurrency(&mut self, max_concurrency: usize) {
        self.server.max_concurrency = Some(max_concurrency);
    }

    /// Sets `user`'s entry on `mailbox`'s calendar to `level`, as another writer would (adding
    /// it at the end if absent), and bumps the ChangeKey; returns the new ChangeKey. Used by
    /// `SimHandle::mutate_permissions` and by the `concurrent_write` fault.
    ///
    /// # Errors
    /// [`Error::UnknownMailbox`], [`Error::UnknownUser`]; `Custom` is [`Error::InvalidState`].
    pub(crate) fn mutate_permissions(
        &mut self,
        mailbox: &str,
        user: &str,
        level: PermissionLevel,
    ) -> Result<String, Error> {
        let principal = match user {
            "Default" => Principal::Default,
            "Anonymous" => Principal::Anonymous,
            smtp => {
                let key = smtp.to_ascii_lowercase();
                if !self.directory.contains_key(&key) {
                    return Err(Error::UnknownUser(smtp.to_string()));
                }
                Principal::Smtp(key)
            }
        };
        let flags = level
            .flags()
            .ok_or_else(|| Error::InvalidState("mutate_permissions needs a named level".into()))?;
        let mailbox_state = self
            .mailboxes
            .get_mut(&mailbox.to_ascii_lowercase())
            .ok_or_else(|| Error::UnknownMailbox(mailbox.to_string()))?;
        let entry = PermissionEntry::from_flags(principal.clone(), flags);
        match mailbox_state
            .permissions
            .iter_mut()
            .find(|existing| existing.principal == principal)
        {
            Some(existing) => *existing = entry,
            None => mailbox_state.permissions.push(entry),
        }
        mailbox_state.bump_change_key();
        Ok(mailbox_state.change_key.clone())
    }

    /// The calendar of a mailbox, for inspection; `None` for an unknown mailbox.
    pub fn calendar(&self, mailbox: &str) -> Option<CalendarView> {
        let mailbox = self.mailboxes.get(&mailbox.to_ascii_lowercase())?;
        Some(CalendarView {
            folder_id: mailbox.folder_id.clone(),
            change_key: mailbox.change_key.clone(),
            permissions: mailbox
                .permissions
                .iter()
                .map(|entry| self.view_of(entry))
                .collect(),
            unknown_entries: mailbox.unknown_entries.clone(),
        })
    }

    pub(crate) fn view_of(&self, entry: &PermissionEntry) -> PermissionView {
        let (user, sid) = match &entry.principal {
            Principal::Default => ("Default".to_string(), None),
            Principal::Anonymous => ("Anonymous".to_string(), None),
            Principal::Smtp(smtp) => (
                smtp.clone(),
                self.directory.get(smtp).map(|found| found.sid.clone()),
            ),
            Principal::Sid(sid) => (sid.clone(), Some(sid.clone())),
            Principal::External(identity) => (format!("{EXTERNAL_PREFIX}{identity}"), None),
            Principal::Unidentified => (String::new(), None),
        };
        PermissionView {
            user,
            sid,
            level: entry.level,
            flags: entry.flags,
        }
    }

    /// The account with this (lower-cased) SMTP address.
    pub(crate) fn account_by_smtp(&self, smtp: &str) -> Option<&Account> {
        self.accounts.iter().find(|account| account.smtp == smtp)
    }

    /// Finds a directory entry by SID.
    /// The mailbox one of whose other addresses is `address` (lower-cased).
    pub(crate) fn mailbox_by_alias(&self, address: &str) -> Option<&Mailbox> {
        self.mailboxes
            .values()
            .find(|mailbox| mailbox.aliases.iter().any(|alias| alias == address))
    }

    pub(crate) fn directory_by_sid(&self, sid: &str) -> Option<&DirectoryEntry> {
        self.directory
            .values()
            .find(|entry| entry.sid.eq_ignore_ascii_case(sid))
    }

    /// Resolves the principal named by a permission-file string: `Default`, `Anonymous`, an SMTP
    /// address of the directory, an `S-1-…` SID, `external:IDENTITY` (a user known only by its
    /// `ExternalUserIdentity`) or the empty string (an empty `UserId`).
    fn principal_from_config(&self, user: &str) -> Result<Principal, Error> {
        if user.is_empty() {
            return Ok(Principal::Unidentified);
        }
        if let Some(identity) = user.strip_prefix(EXTERNAL_PREFIX) {
            if identity.trim().is_empty() {
                return Err(Error::InvalidState(
                    "an external permission entry needs an identity after `external:`".into(),
                ));
            }
            return Ok(Principal::External(identity.to_string()));
        }
        if user == "Default" {
            return Ok(Principal::Default);
        }
        if user == "Anonymous" {
            return Ok(Principal::Anonymous);
        }
        if user.starts_with("S-1-") {
            return Ok(match self.directory_by_sid(user) {
                Some(found) => Principal::Smtp(found.smtp.to_ascii_lowercase()),
                None => Principal::Sid(user.to_string()),
            });
        }
        let key = user.to_ascii_lowercase();
        if self.directory.contains_key(&key) {
            Ok(Principal::Smtp(key))
        } else {
            Err(Error::InvalidState(format!(
                "permission entry names unknown user {user}"
            )))
        }
    }
}

/// A stable, SID-shaped identifier for an address (the simulator's directory is invented).
pub(crate) fn generated_sid(smtp: &str) -> String {
    let digest = Sha1::digest(smtp.to_ascii_lowercase().as_bytes());
    let rid = 1100 + u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 8000;
    format!("S-1-5-21-3623811015-3361044348-30300820-{rid}")
}

/// A stable `MailboxGuid` for a mailbox (the simulator's directory has no real one).
fn generated_guid(smtp: &str) -> String {
    let digest = Sha1::digest(format!("{}/guid", smtp.to_ascii_lowercase()));
    let hex: String = digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn generated_folder_id(smtp: &str, folder: &str) -> String {
    let mut bytes = b"\x00\x00\x00\x00\x2e\x00\x00\x00".to_vec();
    bytes.extend_from_slice(&Sha1::digest(
        format!("{smtp}/{folder}").to_ascii_lowercase(),
    ));
    bytes.extend_from_slice(b"\x01\x00");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn change_key_for(folder_id: &str, version: u64) -> String {
    let mut bytes = b"\x02\x00\x00\x00\x14\x00\x00\x00".to_vec();
    bytes.extend_from_slice(&Sha1::digest(folder_id.as_bytes())[..12]);
    bytes.extend_from_slice(&version.to_be_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---- The TOML file format. ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    #[serde(default)]
    server: ServerFile,
    #[serde(default)]
    accounts: Vec<AccountFile>,
    #[serde(default)]
    users: Vec<UserFile>,
    #[serde(default)]
    groups: Vec<GroupFile>,
    #[serde(default)]
    mailboxes: Vec<MailboxFile>,
    #[serde(default)]
    faults: Vec<ScriptedFault>,
    #[serde(default)]
    autodiscover: crate::autodiscover::AutodiscoverSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ServerFile {
    basic: bool,
    realm: String,
    netbios_domain: String,
    netbios_computer: String,
    dns_computer: String,
    dns_domain: String,
    latency_ms: u64,
    latency_jitter_ms: u64,
    max_concurrency: Option<usize>,
    find_count_limit: usize,
    idle_timeout_ms: u64,
}

impl Default for ServerFile {
    fn default() -> Self {
        ServerFile {
            basic: false,
            realm: "mail.contoso.example".to_string(),
            netbios_domain: "CONTOSO".to_string(),
            netbios_computer: "EXCH01".to_string(),
            dns_computer: "exch01.contoso.example".to_string(),
            dns_domain: "contoso.example".to_string(),
            latency_ms: 0,
            latency_jitter_ms: 0,
            max_concurrency: None,
            find_count_limit: 1000,
            idle_timeout_ms: 120_000,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ImpersonationFile {
    Word(String),
    List(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountFile {
    username: String,
    upn: Option<String>,
    password: String,
    smtp: String,
    display_name: Option<String>,
    sid: Option<String>,
    #[serde(default = "impersonation_none")]
    impersonation: ImpersonationFile,
    #[serde(default)]
    impersonation_except: Vec<String>,
    max_concurrency: Option<usize>,
}

fn impersonation_none() -> ImpersonationFile {
    ImpersonationFile::Word("none".to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    smtp: String,
    display_name: Option<String>,
    sid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    smtp: String,
    display_name: Option<String>,
    sid: Option<String>,
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailboxFile {
    smtp: String,
    display_name: Option<String>,
    sid: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    moved_to_cloud: bool,
    mailbox_guid: Option<String>,
    #[serde(default)]
    moving: bool,
    #[serde(default)]
    store_unavailable: bool,
    folder_id: Option<String>,
    change_key: Option<String>,
    #[serde(default)]
    permissions: Vec<PermissionFile>,
    #[serde(default)]
    unknown_entries: Vec<String>,
    #[serde(default)]
    delegates: Vec<DelegateFile>,
    deliver_meeting_requests: Option<String>,
    item_quota: Option<usize>,
    #[serde(default)]
    items: Vec<ItemFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionFile {
    user: String,
    level: PermissionLevel,
    flags: Option<PermissionFlags>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelegateFile {
    user: String,
    #[serde(default)]
    permissions: DelegatePermissions,
    #[serde(default)]
    receive_copies: bool,
    #[serde(default)]
    view_private: bool,
}

fn display_name_from(smtp: &str) -> String {
    smtp.split('@').next().unwrap_or(smtp).to_string()
}

fn build_state(file: StateFile) -> Result<SimState, Error> {
    let mut directory = BTreeMap::new();
    let mut add = |smtp: &str,
                   display_name: Option<String>,
                   sid: Option<String>,
                   is_group,
                   members: Vec<String>| {
        let key = smtp.to_ascii_lowercase();
        let entry = DirectoryEntry {
            smtp: smtp.to_string(),
            sid: sid.unwrap_or_else(|| generated_sid(smtp)),
            display_name: display_name.unwrap_or_else(|| display_name_from(smtp)),
            is_group,
            members: members
                .iter()
                .map(|member| member.to_ascii_lowercase())
                .collect(),
        };
        directory.entry(key).or_insert(entry);
    };
    let people = (file.mailboxes.iter())
        .map(|mailbox| (&mailbox.smtp, &mailbox.display_name, &mailbox.sid))
        .chain(
            (file.accounts.iter())
                .map(|account| (&account.smtp, &account.display_name, &account.sid)),
        )
        .chain((file.users.iter()).map(|user| (&user.smtp, &user.display_name, &user.sid)));
    for (smtp, display_name, sid) in people {
        add(smtp, display_name.clone(), sid.clone(), false, Vec::new());
    }
    for group in &file.groups {
        add(
            &group.smtp,
            group.display_name.clone(),
            group.sid.clone(),
            true,
            group.members.clone(),
        );
    }

    let accounts = file
        .accounts
        .into_iter()
        .map(|account| {
            let impersonation = match account.impersonation {
                ImpersonationFile::Word(word) if word == "all" => ImpersonationRule::All,
                ImpersonationFile::Word(word) if word == "none" => ImpersonationRule::None,
                ImpersonationFile::Word(word) => {
                    return Err(Error::InvalidState(format!(
                        "impersonation must be \"all\", \"none\" or a list, not {word:?}"
                    )));
                }
                ImpersonationFile::List(list) => ImpersonationRule::List(list),
            };
            Ok(Account {
                username: account.username,
                upn: account.upn,
                password: SecretString::from(account.password),
                smtp: account.smtp.to_ascii_lowercase(),
                impersonation,
                impersonation_except: account
                    .impersonation_except
                    .iter()
                    .map(|smtp| smtp.to_ascii_lowercase())
                    .collect(),
                max_concurrency: account.max_concurrency,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;

    let server = ServerSettings {
        basic: file.server.basic,
        realm: file.server.realm,
        netbios_domain: file.server.netbios_domain,
        netbios_computer: file.server.netbios_computer,
        dns_computer: file.server.dns_computer,
        dns_domain: file.server.dns_domain,
        latency_ms: file.server.latency_ms,
        latency_jitter_ms: file.server.latency_jitter_ms,
        max_concurrency: file.server.max_concurrency,
        find_count_limit: file.server.find_count_limit,
        idle_timeout: std::time::Duration::from_millis(file.server.idle_timeout_ms.max(1)),
    };

    let mut state = SimState {
        server,
        accounts,
        directory,
        mailboxes: BTreeMap::new(),
        faults: file.faults,
        autodiscover: file.autodiscover,
        item_owner: HashMap::new(),
        item_serial: 0,
        find_charges: std::sync::Arc::default(),
        find_hold: None,
    };

    for mailbox_file in file.mailboxes {
        let mut permissions: Vec<PermissionEntry> = Vec::new();
        for permission in &mailbox_file.permissions {
            let principal = state.principal_from_config(&permission.user)?;
            let flags = match (permission.level, permission.flags) {
                (PermissionLevel::Custom, Some(flags)) => flags,
                (PermissionLevel::Custom, None) => {
                    return Err(Error::InvalidState(format!(
                        "custom permission for {} needs flags",
                        permission.user
                    )));
                }
                (level, _) => level.flags().unwrap_or_default(),
            };
            if permissions
                .iter()
                .any(|existing| existing.principal == principal)
            {
                return Err(Error::InvalidState(format!(
                    "{} appears twice in the permissions of {}",
                    permission.user, mailbox_file.smtp
                )));
            }
            permissions.push(PermissionEntry::from_flags(principal, flags));
        }
        let mut delegates = Vec::new();
        for delegate in mailbox_file.delegates {
            let key = delegate.user.to_ascii_lowercase();
            if !state.directory.contains_key(&key) {
                return Err(Error::InvalidState(format!(
                    "delegate {} of {} is not in the directory",
                    delegate.user, mailbox_file.smtp
                )));
            }
            delegates.push(Delegate {
                user: key,
                permissions: delegate.permissions,
                receive_copies: delegate.receive_copies,
                view_private: delegate.view_private,
            });
        }
        let folder_id = mailbox_file
            .folder_id
            .unwrap_or_else(|| generated_folder_id(&mailbox_file.smtp, "calendar"));
        let change_key = mailbox_file
            .change_key
            .unwrap_or_else(|| change_key_for(&folder_id, 1));
        if mailbox_file.mailbox_guid.is_some() && !mailbox_file.moved_to_cloud {
            return Err(Error::InvalidState(format!(
                "mailbox_guid of {} needs moved_to_cloud = true",
                mailbox_file.smtp
            )));
        }
        let moved_to_cloud = mailbox_file.moved_to_cloud.then(|| {
            mailbox_file
                .mailbox_guid
                .clone()
                .unwrap_or_else(|| generated_guid(&mailbox_file.smtp))
        });
        let mailbox = Mailbox {
            smtp: mailbox_file.smtp.clone(),
            aliases: mailbox_file
                .aliases
                .iter()
                .map(|alias| alias.to_ascii_lowercase())
                .collect(),
            moved_to_cloud,
            moving: mailbox_file.moving,
            store_unavailable: mailbox_file.store_unavailable,
            parent_folder_id: generated_folder_id(&mailbox_file.smtp, "root"),
            folder_id,
            change_key,
            version: 1,
            permissions,
            unknown_entries: mailbox_file.unknown_entries,
            delegates,
            deliver_meeting_requests: mailbox_file
                .deliver_meeting_requests
                .unwrap_or_else(|| "DelegatesAndSendInformationToMe".to_string()),
            items: BTreeMap::new(),
            item_quota: mailbox_file.item_quota,
        };
        state
            .mailboxes
            .insert(mailbox_file.smtp.to_ascii_lowercase(), mailbox);
        for item_file in mailbox_file.items {
            let item = item_file.into_item(&mailbox_file.smtp)?;
            if !item.item_id.is_empty() && state.item_owner.contains_key(&item.item_id) {
                return Err(Error::InvalidState(format!(
                    "item id {} appears twice",
                    item.item_id
                )));
            }
            state.store_item(&mailbox_file.smtp, item)?;
        }
    }
    // An alias is one mailbox's other address: never a primary address, never two mailboxes'.
    let mut seen = std::collections::BTreeSet::new();
    for mailbox in state.mailboxes.values() {
        for alias in &mailbox.aliases {
            if state.mailboxes.contains_key(alias) || !seen.insert(alias.clone()) {
                return Err(Error::InvalidState(format!(
                    "alias {alias} of {} is another mailbox's address or alias",
                    mailbox.smtp
                )));
            }
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_moved_mailboxes_are_validated() {
        let mailbox = |smtp: &str, extra: &str| {
            format!(
                "[[mailboxes]]\nsmtp = \"{smtp}\"\npermissions = [{{ user = \"Default\", level = \"None\" }}]\n{extra}\n"
            )
        };
        let state = SimState::from_toml_str(&format!(
            "{}{}",
            mailbox(
                "a@contoso.example",
                "aliases = [\"A.Alias@contoso.example\"]"
            ),
            mailbox("m@contoso.example", "moved_to_cloud = true"),
        ))
        .unwrap();
        assert_eq!(
            state
                .mailbox_by_alias("a.alias@contoso.example")
                .map(|mailbox| mailbox.smtp.as_str()),
            Some("a@contoso.example")
        );
        let guid = state.mailboxes["m@contoso.example"]
            .moved_to_cloud
            .clone()
            .unwrap();
        assert_eq!(guid.len(), 36, "{guid}");
        assert_eq!(guid, generated_guid("M@contoso.example"));

        for bad in [
            // An alias that is another mailbox's primary address.
            format!(
                "{}{}",
                mailbox("a@contoso.example", "aliases = [\"b@contoso.example\"]"),
                mailbox("b@contoso.example", "")
            ),
            // One alias for two mailboxes.
            format!(
                "{}{}",
                mailbox("a@contoso.example", "aliases = [\"x@contoso.example\"]"),
                mailbox("b@contoso.example", "aliases = [\"X@contoso.example\"]")
            ),
            // A guid for a mailbox that did not move.
            mailbox(
                "a@contoso.example",
                "mailbox_guid = \"8d2f6a41-3c5e-4b7a-9e10-5f4c2b1a0d93\"",
            ),
        ] {
            assert!(
                matches!(SimState::from_toml_str(&bad), Err(Error::InvalidState(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn named_levels_round_trip_through_their_flags() {
        for level in PermissionLevel::NAMED {
            assert_eq!(PermissionLevel::from_flags(level.flags().unwrap()), level);
        }
        let custom = PermissionFlags {
            can_create_items: true,
            is_folder_visible: true,
            delete_items: ItemScope::Owned,
            read_items: ReadScope::TimeAndSubjectAndLocation,
            ..PermissionFlags::default()
        };
        assert_eq!(PermissionLevel::from_flags(custom), PermissionLevel::Custom);
    }

    #[test]
    fn impersonation_patterns_and_exceptions() {
        let state = SimState::from_toml_str(
            r#"
[[accounts]]
username = 'CONTOSO\svc'
password = "x"
smtp = "svc@contoso.example"
impersonation = ["*@contoso.example"]
impersonation_except = ["ceo@contoso.example"]
"#,
        )
        .unwrap();
        let account = &state.accounts[0];
        assert!(account.may_impersonate("alice@contoso.example"));
        assert!(!account.may_impersonate("ceo@contoso.example"));
        assert!(!account.may_impersonate("alice@fabrikam.example"));
        assert!(account.matches_logon("contoso", "SVC"));
        assert!(!account.matches_logon("fabrikam", "svc"));
    }

    #[test]
    fn unknown_permission_user_is_rejected() {
        let error = SimState::from_toml_str(
            r#"
[[mailboxes]]
smtp = "alice@contoso.example"
permissions = [{ user = "ghost@contoso.example", level = "Editor" }]
"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("ghost@contoso.example"),
            "{error}"
        );
    }
}
