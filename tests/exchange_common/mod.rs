//! Helpers for the `exchange_*` tests: a simulator state with two impersonating service accounts
//! and ten mailboxes, an `Exchange` client for it, and the two operations the tests send.
#![allow(dead_code)]

use std::time::Duration;

use ews_connector::ews::ops::get_folder::{
    BaseShape, DistinguishedFolderName, Folder, FolderField, FolderIdRef, FolderShape, GetFolder,
};
use ews_connector::ews::ops::update_folder::{FolderChange, UpdateFolder};
use ews_connector::exchange::{Account, ActAs, Exchange, Settings};
use ews_connector::secret::Secret;
use ews_connector::sim::{self, SimHandle, SimState};
use ews_connector::transport::{AuthScheme, Settings as TransportSettings};

pub const PASSWORD_A: &str = "Right-Passw0rd-A!";
pub const PASSWORD_B: &str = "Right-Passw0rd-B!";
pub const USER_A: &str = r"CONTOSO\svc-a";
pub const USER_B: &str = r"CONTOSO\svc-b";
pub const SMTP_A: &str = "svc-a@contoso.example";
pub const SMTP_B: &str = "svc-b@contoso.example";

/// `m0@contoso.example` .. `m9@contoso.example`.
pub fn mailboxes() -> Vec<String> {
    (0..10).map(|n| format!("m{n}@contoso.example")).collect()
}

/// The simulator state: two accounts impersonating everyone, ten mailboxes, no faults;
/// `server` lines are added to `[server]`.
pub fn state(server: &str) -> String {
    let mut text = format!(
        r#"[server]
{server}

[[accounts]]
username = 'CONTOSO\svc-a'
password = "{PASSWORD_A}"
smtp = "{SMTP_A}"
impersonation = "all"

[[accounts]]
username = 'CONTOSO\svc-b'
password = "{PASSWORD_B}"
smtp = "{SMTP_B}"
impersonation = "all"
"#
    );
    for mailbox in mailboxes() {
        text.push_str(&format!(
            "\n[[mailboxes]]\nsmtp = \"{mailbox}\"\npermissions = [ {{ user = \"Default\", level = \"FreeBusyTimeOnly\" }} ]\n"
        ));
    }
    text
}

pub async fn start(server: &str) -> SimHandle {
    sim::start(SimState::from_toml_str(&state(server)).expect("valid sim state"))
        .await
        .expect("sim starts")
}

/// Knobs of the client under test.
pub struct Knobs {
    pub retry_budget: Duration,
    pub auth_failure_cooldown: Duration,
    pub ceiling: usize,
    pub request_timeout: Duration,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            retry_budget: Duration::from_secs(3),
            auth_failure_cooldown: Duration::from_secs(900),
            ceiling: 10,
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// A client for `sim` with the given accounts (username, smtp, password).
pub fn exchange(sim: &SimHandle, accounts: &[(&str, &str, &str)], knobs: Knobs) -> Exchange {
    let mut transport = TransportSettings::new(sim.url.parse().unwrap(), AuthScheme::Ntlm);
    transport.request_timeout = knobs.request_timeout;
    transport.max_connections_per_account = knobs.ceiling;
    let accounts = accounts
        .iter()
        .map(|(username, smtp, password)| Account {
            username: (*username).to_owned(),
            smtp: (*smtp).to_owned(),
            password: Secret::new(*password),
        })
        .collect();
    let mut settings = Settings::new(transport, "Exchange2013_SP1".to_owned(), accounts);
    settings.retry_budget = knobs.retry_budget;
    settings.auth_failure_cooldown = knobs.auth_failure_cooldown;
    Exchange::new(settings).expect("client builds")
}

/// A client with account A only.
pub fn exchange_a(sim: &SimHandle, knobs: Knobs) -> Exchange {
    exchange(sim, &[(USER_A, SMTP_A, PASSWORD_A)], knobs)
}

/// GetFolder of the calendar with its permission set.
pub fn get_calendar() -> GetFolder {
    GetFolder {
        folder_shape: FolderShape {
            base_shape: BaseShape::IdOnly,
            additional_properties: vec![FolderField::PermissionSet],
        },
        folder_ids: vec![FolderIdRef::Distinguished {
            id: DistinguishedFolderName::Calendar,
            mailbox: None,
        }],
    }
}

/// Reads `mailbox`'s calendar as its owner; panics unless it succeeds.
pub async fn read_calendar(exchange: &Exchange, mailbox: &str) -> Folder {
    let answer = exchange
        .call(ActAs::Owner(mailbox), &get_calendar())
        .await
        .expect("GetFolder succeeds");
    answer
        .response
        .into_iter()
        .next()
        .expect("one message")
        .expect("a folder")
}

/// Writes the calendar's own permission set back (a no-op change that still is a write).
pub fn rewrite(folder: &Folder) -> UpdateFolder {
    UpdateFolder {
        folder_changes: vec![FolderChange {
            folder_id: folder.folder_id.clone(),
            permission_set: folder.permission_set.clone().expect("permission set"),
        }],
    }
}
