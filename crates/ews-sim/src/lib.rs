//! `sim`: an offline, stateful EWS simulator (`ews-connector sim`) that serves
//! `POST /EWS/Exchange.asmx` on loopback, logs clients on with its own NTLMv2 verifier (or Basic,
//! when the state enables it), and answers GetFolder, UpdateFolder, ExpandDL, the delegate operations and
//! the calendar-item operations (FindItem, GetItem, CreateItem, UpdateItem, DeleteItem) from
//! response templates under `fixtures/sim/templates/`.
//!
//! Invariants:
//! - it depends on neither the `ews-protocol` crate nor the service (its own NTLM acceptor, its
//!   own XML reader), so a bug there cannot be mirrored here;
//! - every response body is template bytes with escaped values, never produced by a serializer;
//! - NTLM logon is bound to one TCP connection; a wrong password, NTLMv1, or an AUTHENTICATE
//!   without a challenge on the same connection gets 401;
//! - it binds loopback only ([`run`] refuses any other address).
//!
//! Layout: `state` (the world, from TOML), `items` (calendar items in the state), `ntlm`
//! (acceptor), `xml` (request reader), `ops` (folder and delegate operations, impersonation),
//! `groups` (ExpandDL, nested membership),
//! `item_ops` (item operations), `render` / `render_items` (templates), `faults` (scripted
//! misbehaviour), `server` (HTTP).
//! Entry types: [`SimState`], [`serve`], [`start`] / [`SimHandle`], [`run`] / [`SimOptions`],
//! [`ScriptedFault`], [`SimStats`], [`SimItem`].
//! The state file format is documented in `fixtures/sim/README.md`.
//! `graph` is the Graph side (the Microsoft identity platform's token endpoint), with its own
//! listener: [`graph::start`]; [`move_mailbox`] moves a mailbox from this simulator to it.

mod autodiscover;
mod faults;
pub mod graph;
mod groups;
mod item_ops;
mod items;
mod move_mailbox;
mod ntlm;
mod ops;
mod render;
mod render_items;
mod server;
mod state;
mod xml;

use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::faults::{FaultKind, ScriptedFault};
pub use crate::items::{ItemBody, SimExtendedProperty, SimItem, same_property_set};
pub use crate::move_mailbox::{MoveReport, move_mailbox};
pub use crate::server::SimStats;
pub use crate::state::{
    CalendarView, DelegatePermissions, ItemScope, PermissionFlags, PermissionLevel, PermissionView,
    ReadScope, SimState,
};

use crate::server::{EWS_PATH, Shared, lock};

/// Errors of the simulator's setup and inspection API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read sim state file {path}")]
    ReadState {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid sim state: {0}")]
    InvalidState(String),
    #[error("the simulator listens on loopback only, not on {0}")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("simulator stopped")]
    Serve(#[source] std::io::Error),
    #[error("no mailbox {0} in the sim state")]
    UnknownMailbox(String),
    #[error("no user or group {0} in the sim directory")]
    UnknownUser(String),
}

/// Command-line options of `ews-connector sim`.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The TOML state file.
    pub state: PathBuf,
    /// Where to listen; must be a loopback address (port 0 picks one).
    pub listen: SocketAddr,
    /// Overrides the state's `server.latency_ms`.
    pub latency_ms: Option<u64>,
    /// Overrides the state's `server.max_concurrency` (per account).
    pub max_concurrency: Option<usize>,
}

/// Serves the simulator on `listener` until `shutdown` completes.
///
/// # Errors
/// Never in practice: accept failures are logged and retried with back-off.
pub async fn serve(
    listener: TcpListener,
    state: SimState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    server::serve_shared(listener, Arc::new(Shared::new(state)), shutdown).await
}

/// Starts the simulator on `127.0.0.1:0` in a background task.
///
/// # Errors
/// When the loopback socket cannot be bound.
pub async fn start(state: SimState) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(state));
    let (shutdown_sender, shutdown_receiver) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve_shared(
        listener,
        Arc::clone(&shared),
        async move {
            let _ = shutdown_receiver.await;
        },
    ));
    Ok(SimHandle {
        addr,
        url: format!("http://{addr}{EWS_PATH}"),
        shared,
        shutdown: Some(shutdown_sender),
        task: Some(task),
    })
}

/// Runs `ews-connector sim`: loads the state, applies the overrides, listens, prints
/// `listening on http://ADDR/EWS/Exchange.asmx` on stdout, and serves until `shutdown`.
///
/// # Errors
/// [`Error::ReadState`] / [`Error::InvalidState`] for the state file, [`Error::NotLoopback`]
/// for a non-loopback address, [`Error::Bind`] when the socket cannot be bound.
pub async fn run(options: SimOptions, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let mut state = SimState::load(&options.state)?;
    if let Some(latency_ms) = options.latency_ms {
        state.set_latency_ms(latency_ms);
    }
    if let Some(max_concurrency) = options.max_concurrency {
        state.set_max_concurrency(max_concurrency);
    }
    if !options.listen.ip().is_loopback() {
        return Err(Error::NotLoopback(options.listen));
    }
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::Serve)?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on http://{addr}{EWS_PATH}");
    let _ = stdout.flush();
    serve(listener, state, shutdown).await.map_err(Error::Serve)
}

/// A running simulator (from [`start`]); stops the server when dropped.
pub struct SimHandle {
    /// The loopback address it listens on.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT/EWS/Exchange.asmx`.
    pub url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimHandle {
    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }

    /// The current permission set of a mailbox's calendar; `None` for an unknown mailbox.
    pub fn permissions(&self, mailbox: &str) -> Option<Vec<PermissionView>> {
        self.calendar(mailbox).map(|calendar| calendar.permissions)
    }

    /// The calendar of a mailbox (id, ChangeKey, permissions, unknown entries).
    pub fn calendar(&self, mailbox: &str) -> Option<CalendarView> {
        lock(&self.shared.state).calendar(mailbox)
    }

    /// Acts like another writer (Outlook, an admin): sets `user`'s entry on `mailbox`'s
    /// calendar to `level` (adding it if absent; `user` is `Default`, `Anonymous` or a directory
    /// SMTP address) and bumps the ChangeKey. Returns the new ChangeKey.
    ///
    /// # Errors
    /// [`Error::UnknownMailbox`], [`Error::UnknownUser`]; `Custom` is refused as
    /// [`Error::InvalidState`] (use a named level).
    pub fn mutate_permissions(
        &self,
        mailbox: &str,
        user: &str,
        level: PermissionLevel,
    ) -> Result<String, Error> {
        lock(&self.shared.state).mutate_permissions(mailbox, user, level)
    }

    /// Changes an account's password, as an administrator resetting it in Active Directory
    /// would: connections already authenticated stay so, new logons need the new password.
    ///
    /// # Errors
    /// [`Error::UnknownUser`] when no account has this SMTP address.
    pub fn set_password(&self, account_smtp: &str, password: &str) -> Result<(), Error> {
        let mut state = lock(&self.shared.state);
        let account = state
            .accounts
            .iter_mut()
            .find(|account| account.smtp.eq_ignore_ascii_case(account_smtp))
            .ok_or_else(|| Error::UnknownUser(account_smtp.to_string()))?;
        account.password = secrecy::SecretString::from(password);
        Ok(())
    }

    /// A mailbox's calendar items, sorted by start; `None` for an unknown mailbox.
    pub fn calendar_items(&self, mailbox: &str) -> Option<Vec<SimItem>> {
        lock(&self.shared.state).calendar_items(mailbox)
    }

    /// Acts like the user (Outlook): stores `item` in `mailbox`'s calendar and returns it as
    /// stored. An empty `item_id` gets a new id; an id of an item of this mailbox replaces that
    /// item (an edit). Either way the item gets a new ChangeKey, so a ChangeKey read earlier is
    /// stale. An empty `created_by` means the owner.
    ///
    /// # Errors
    /// [`Error::UnknownMailbox`]; [`Error::InvalidState`] when the id is another mailbox's.
    pub fn insert_item(&self, mailbox: &str, item: SimItem) -> Result<SimItem, Error> {
        lock(&self.shared.state).store_item(mailbox, item)
    }

    /// Acts like the user deleting an item; returns it when it was in that mailbox.
    ///
    /// # Errors
    /// [`Error::UnknownMailbox`].
    pub fn remove_item(&self, mailbox: &str, item_id: &str) -> Result<Option<SimItem>, Error> {
        let mut state = lock(&self.shared.state);
        if !state.mailboxes.contains_key(&mailbox.to_ascii_lowercase()) {
            return Err(Error::UnknownMailbox(mailbox.to_string()));
        }
        Ok(state.delete_item(mailbox, item_id))
    }

    /// Queues a scripted fault.
    pub fn push_fault(&self, fault: ScriptedFault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Stops accepting, closes every connection and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(sender) = self.shutdown.take() {
            let _ = sender.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SimHandle")
            .field("addr", &self.addr)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    /// The simulator must not reuse the client's code (STYLE.md §2, `sim` row): its crate
    /// depends on neither the protocol crate nor the service, so a bug there cannot be mirrored
    /// here. Cargo enforces the rest.
    #[test]
    fn depends_on_neither_the_protocol_crate_nor_the_service() {
        let manifest = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        let dependencies = manifest
            .split("[dependencies]")
            .nth(1)
            .expect("a [dependencies] table");
        for forbidden in [
            "ews-protocol",
            "ews-connector",
            "ntlmclient",
            "jsonwebtoken",
        ] {
            assert!(
                !dependencies.contains(forbidden),
                "the simulator depends on {forbidden}"
            );
        }
    }
}
