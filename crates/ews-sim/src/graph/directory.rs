//! The tenant's mailboxes as the Graph simulator holds them: address, object id, whether the
//! application's RBAC for Applications scope includes it, whether Exchange Online holds it (an
//! on-premises mailbox of a hybrid tenant does not), its primary calendar and that calendar's
//! permissions (`calendarPermission` objects, the "My Organization" entry first).
//!
//! Invariant: addresses and object ids match case-insensitively; a permission id is unique in its
//! calendar; the "My Organization" entry is always present and never removable.

use base64::Engine as _;
use serde::Deserialize;
use sha2::Digest as _;

/// `calendarRoleType`, in the order the "calendarPermission resource type" page lists it.
pub const CALENDAR_ROLES: [&str; 8] = [
    "none",
    "freeBusyRead",
    "limitedRead",
    "read",
    "write",
    "delegateWithoutPrivateEventAccess",
    "delegateWithPrivateEventAccess",
    "custom",
];

/// The id Exchange Online gives the "My Organization" entry (base64 of `Default`).
pub const ORGANIZATION_ID: &str = "RGVmYXVsdA==";

/// One mailbox of the tenant, as given in `GraphSimConfig::mailboxes` or the TOML
/// `[[mailboxes]]` tables (`fixtures/sim/graph/README.md`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphMailbox {
    /// The user principal name / primary SMTP address.
    pub address: String,
    /// Display name (the calendar owner's `name`); the local part when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The Entra object id (`/users/{id}`); derived from the address when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Inside the application's RBAC for Applications management scope.
    #[serde(default = "yes")]
    pub in_scope: bool,
    /// Held by Exchange Online; `false` is an on-premises mailbox of a hybrid tenant.
    #[serde(default = "yes")]
    pub exchange_online: bool,
    #[serde(default)]
    pub calendar: GraphCalendar,
    /// The "My Organization" entry's role.
    #[serde(default = "free_busy")]
    pub organization_role: String,
    /// Share recipients and delegates.
    #[serde(default)]
    pub permissions: Vec<GraphGrant>,
}

fn yes() -> bool {
    true
}

fn free_busy() -> String {
    "freeBusyRead".to_owned()
}

impl GraphMailbox {
    /// An Exchange Online mailbox inside the scope, with an editable calendar, "My
    /// Organization" at `freeBusyRead` and no other entry.
    pub fn new(address: &str) -> GraphMailbox {
        GraphMailbox {
            address: address.to_owned(),
            name: None,
            id: None,
            in_scope: true,
            exchange_online: true,
            calendar: GraphCalendar::default(),
            organization_role: free_busy(),
            permissions: Vec::new(),
        }
    }
}

/// The primary calendar's properties the application sees.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphCalendar {
    pub name: String,
    pub can_edit: bool,
    pub can_share: bool,
    pub can_view_private_items: bool,
}

impl Default for GraphCalendar {
    fn default() -> Self {
        GraphCalendar {
            name: "Calendar".to_owned(),
            can_edit: true,
            can_share: true,
            can_view_private_items: true,
        }
    }
}

/// A share recipient or delegate in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphGrant {
    pub address: String,
    #[serde(default)]
    pub name: Option<String>,
    pub role: String,
}

/// One `calendarPermission` object as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphPermissionView {
    pub id: String,
    /// `emailAddress.name`.
    pub name: String,
    /// `emailAddress.address`; `None` for "My Organization".
    pub address: Option<String>,
    pub role: String,
    pub allowed_roles: Vec<String>,
    pub is_removable: bool,
    pub is_inside_organization: bool,
}

/// A mailbox with its state.
#[derive(Debug, Clone)]
pub(crate) struct MailboxState {
    pub(crate) address: String,
    pub(crate) name: String,
    pub(crate) object_id: String,
    pub(crate) calendar_id: String,
    pub(crate) change_key: String,
    pub(crate) in_scope: bool,
    pub(crate) exchange_online: bool,
    pub(crate) calendar: GraphCalendar,
    pub(crate) permissions: Vec<GraphPermissionView>,
    /// The primary calendar's events, in the order they were created.
    pub(crate) events: Vec<super::events::GraphEvent>,
    /// Events a `DELETE` moved to Deleted Items (a `permanentDelete` puts nothing here: its
    /// event goes to Recoverable Items\Purges, which no folder view shows).
    pub(crate) deleted_items: Vec<super::events::GraphEvent>,
}

/// A GUID-shaped string derived from `seed` (stable across runs).
pub(crate) fn guid_from(seed: &str) -> String {
    let hex = hex::encode(sha2::Sha256::digest(seed.as_bytes()));
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn local_part(address: &str) -> &str {
    address.split('@').next().unwrap_or(address)
}

/// The roles a grantee may hold: delegates only inside the organization; "My Organization"
/// only the sharing roles.
pub(crate) fn allowed_roles(organization: bool, inside: bool) -> Vec<String> {
    let count = match (organization, inside) {
        (true, _) => 5,
        (false, true) => 7,
        (false, false) => 4,
    };
    CALENDAR_ROLES[..count]
        .iter()
        .map(|role| (*role).to_owned())
        .collect()
}

/// The id of a grantee's entry: base64 of its Exchange distinguished name, as Exchange Online
/// forms them (the example ids of "List calendarPermissions" decode to `/o=ExchangeLabs/...`).
pub(crate) fn permission_id(address: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        "/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={}",
        address.to_ascii_lowercase()
    ))
}

/// Checks a configured role against the enum.
pub(crate) fn check_role(role: &str) -> Result<(), String> {
    if CALENDAR_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(format!("unknown calendar role {role:?}"))
    }
}

impl MailboxState {
    /// Builds a mailbox; `inside` says whether an address belongs to the tenant.
    pub(crate) fn new(
        config: &GraphMailbox,
        inside: &dyn Fn(&str) -> bool,
    ) -> Result<MailboxState, String> {
        if !config.address.contains('@') {
            return Err(format!(
                "mailbox address {:?} is not an SMTP address",
                config.address
            ));
        }
        check_role(&config.organization_role)?;
        let address = config.address.to_ascii_lowercase();
        let mut permissions = vec![GraphPermissionView {
            id: ORGANIZATION_ID.to_owned(),
            name: "My Organization".to_owned(),
            address: None,
            role: config.organization_role.clone(),
            allowed_roles: allowed_roles(true, true),
            is_removable: false,
            is_inside_organization: true,
        }];
        for grant in &config.permissions {
            check_role(&grant.role)?;
            let grantee = grant.address.to_ascii_lowercase();
            let inside = inside(&grantee);
            permissions.push(GraphPermissionView {
                id: permission_id(&grantee),
                name: grant
                    .name
                    .clone()
                    .unwrap_or_else(|| local_part(&grant.address).to_owned()),
                address: Some(grant.address.clone()),
                role: grant.role.clone(),
                allowed_roles: allowed_roles(false, inside),
                is_removable: true,
                is_inside_organization: inside,
            });
        }
        let calendar_seed = hex::encode(&sha2::Sha256::digest(address.as_bytes())[..18]);
        Ok(MailboxState {
            name: config
                .name
                .clone()
                .unwrap_or_else(|| local_part(&config.address).to_owned()),
            object_id: config
                .id
                .clone()
                .unwrap_or_else(|| guid_from(&format!("user:{address}"))),
            calendar_id: format!(
                "AAMkA{}AAA=",
                base64::engine::general_purpose::STANDARD.encode(calendar_seed.as_bytes())
            ),
            change_key: base64::engine::general_purpose::STANDARD
                .encode(&sha2::Sha256::digest(format!("ck:{address}").as_bytes())[..12]),
            in_scope: config.in_scope,
            exchange_online: config.exchange_online,
            calendar: config.calendar.clone(),
            permissions,
            events: Vec::new(),
            deleted_items: Vec::new(),
            address,
        })
    }
}

/// The TOML form (`fixtures/sim/graph/sample.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TomlConfig {
    pub(crate) tenant_id: String,
    pub(crate) client_id: String,
    #[serde(default)]
    pub(crate) secrets: Vec<String>,
    #[serde(default)]
    pub(crate) expired_secrets: Vec<String>,
    #[serde(default = "hour")]
    pub(crate) token_lifetime_secs: u64,
    #[serde(default)]
    pub(crate) roles: Option<Vec<String>>,
    #[serde(default = "assigned")]
    pub(crate) application_role_assignment: bool,
    #[serde(default)]
    pub(crate) latency_ms: u64,
    #[serde(default = "four")]
    pub(crate) mailbox_concurrency: usize,
    #[serde(default = "one")]
    pub(crate) retry_after_secs: u64,
    #[serde(default)]
    pub(crate) mailboxes: Vec<GraphMailbox>,
}

fn assigned() -> bool {
    true
}

fn hour() -> u64 {
    3600
}

fn four() -> usize {
    4
}

fn one() -> u64 {
    1
}

/// The mailboxes, found by address or object id in constant time.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    /// By lower-case address.
    by_address: std::collections::HashMap<String, MailboxState>,
    /// Lower-case object id to lower-case address.
    by_id: std::collections::HashMap<String, String>,
    /// The lower-case domains of the mailboxes (who is inside the organization).
    domains: std::collections::HashSet<String>,
}

impl Directory {
    pub(crate) fn new(mailboxes: Vec<MailboxState>) -> Directory {
        let mut directory = Directory::default();
        for mailbox in mailboxes {
            directory.insert(mailbox);
        }
        directory
    }

    fn key(&self, key: &str) -> Option<String> {
        let lower = key.to_ascii_lowercase();
        if self.by_address.contains_key(&lower) {
            Some(lower)
        } else {
            self.by_id.get(&lower).cloned()
        }
    }

    pub(crate) fn find(&self, key: &str) -> Option<&MailboxState> {
        self.by_address.get(&self.key(key)?)
    }

    pub(crate) fn find_mut(&mut self, key: &str) -> Option<&mut MailboxState> {
        let key = self.key(key)?;
        self.by_address.get_mut(&key)
    }

    /// Adds or replaces (by address).
    pub(crate) fn insert(&mut self, mailbox: MailboxState) {
        self.remove(&mailbox.address);
        if let Some(domain) = mailbox.address.rsplit('@').next() {
            self.domains.insert(domain.to_owned());
        }
        self.by_id.insert(
            mailbox.object_id.to_ascii_lowercase(),
            mailbox.address.clone(),
        );
        self.by_address.insert(mailbox.address.clone(), mailbox);
    }

    pub(crate) fn remove(&mut self, key: &str) -> bool {
        let Some(address) = self.key(key) else {
            return false;
        };
        if let Some(removed) = self.by_address.remove(&address) {
            self.by_id.remove(&removed.object_id.to_ascii_lowercase());
            self.domains = self
                .by_address
                .keys()
                .filter_map(|a| a.rsplit('@').next().map(str::to_owned))
                .collect();
        }
        true
    }

    /// Whether `address` is in one of the organization's domains.
    pub(crate) fn is_inside(&self, address: &str) -> bool {
        address
            .rsplit('@')
            .next()
            .is_some_and(|domain| self.domains.contains(&domain.to_ascii_lowercase()))
    }
}
