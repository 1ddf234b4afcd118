//! Per-account connection pool and concurrency ceiling.
//!
//! One `Transport` talks to one endpoint, so the pool is keyed by the account (principal) alone.
//!
//! Invariants:
//! - a connection authenticated for one account is only ever handed to that same account;
//! - an account never has more than `max_connections_per_account` connections open: a caller
//!   must hold one of the account's semaphore permits to use or open a connection, and only opens
//!   one when no idle connection is left, so open connections never outnumber permits;
//! - after a 401 on a pooled connection, re-authentications of the account run one at a time,
//!   and once one was refused the others give up without a handshake of their own;
//! - idle connections are reused last-in first-out, so the pool settles on as few warm
//!   connections as the load needs (exchangelib keeps its session pool small for the same reason);
//! - a connection idle for [`MAX_IDLE`] or longer is closed, never reused: IIS closes keep-alive
//!   connections idle for its `connectionTimeout` (120 s by default), and a request written just
//!   as the server closes may be lost after it was processed.
//!
//! Entry types: [`Pool`], [`AccountPool`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::transport::connection::Connection;

/// How long a connection may wait in the pool and still be reused: well under IIS's default
/// `connectionTimeout` of 120 s, so the connector does not write into a connection that IIS is
/// closing. A server with a shorter timeout closes connections first; the pool notices those
/// (or the send finds them closed before the request left) and opens a new one.
pub(crate) const MAX_IDLE: Duration = Duration::from_secs(100);

/// All accounts' pools. A std `Mutex` is right here: it is never held across an `.await`.
pub(crate) struct Pool {
    accounts: Mutex<HashMap<String, Arc<AccountPool>>>,
    max_connections_per_account: usize,
}

/// One account's idle connections and its concurrency permits.
pub(crate) struct AccountPool {
    /// One permit per connection slot; holding a permit is the right to use one connection.
    permits: Arc<Semaphore>,
    /// Connections that finished a request with keep-alive, most recently used last.
    idle: Mutex<Vec<(Connection, Instant)>>,
    /// Held by a request that re-authenticates after its pooled connection got a 401, so that
    /// when the password went bad, concurrent requests do not each send a failing handshake
    /// (a tokio mutex: it is held across the handshake).
    pub(crate) reauthentication: tokio::sync::Mutex<()>,
    /// Handshakes of this account that the server refused, so far.
    rejections: AtomicU64,
}

impl Pool {
    pub(crate) fn new(max_connections_per_account: usize) -> Pool {
        Pool {
            accounts: Mutex::new(HashMap::new()),
            max_connections_per_account,
        }
    }

    /// The pool of `username`, created on first use. Keys are compared exactly, so two spellings
    /// of one principal get separate pools (never a shared connection across spellings).
    pub(crate) fn account(&self, username: &str) -> Arc<AccountPool> {
        let mut accounts = self.accounts.lock().expect("pool lock poisoned");
        // Looked up by reference first: the name is copied only for an account's first request.
        if let Some(account) = accounts.get(username) {
            return account.clone();
        }
        accounts
            .entry(username.to_owned())
            .or_insert_with(|| {
                Arc::new(AccountPool {
                    permits: Arc::new(Semaphore::new(self.max_connections_per_account)),
                    idle: Mutex::new(Vec::new()),
                    reauthentication: tokio::sync::Mutex::new(()),
                    rejections: AtomicU64::new(0),
                })
            })
            .clone()
    }
}

impl AccountPool {
    /// Waits for a free connection slot of this account.
    pub(crate) async fn acquire(&self) -> OwnedSemaphorePermit {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .expect("the account semaphore is never closed")
    }

    /// How many of this account's handshakes were refused so far.
    pub(crate) fn rejections(&self) -> u64 {
        self.rejections.load(Ordering::Relaxed)
    }

    pub(crate) fn record_rejection(&self) {
        self.rejections.fetch_add(1, Ordering::Relaxed);
    }

    /// The most recently used idle connection that still looks open, if any.
    pub(crate) fn take_idle(&self) -> Option<Connection> {
        let mut idle = self.idle.lock().expect("pool lock poisoned");
        while let Some((connection, since)) = idle.pop() {
            if connection.is_open() && since.elapsed() < MAX_IDLE {
                return Some(connection);
            }
        }
        None
    }

    /// Returns a connection that can serve another request of this account.
    pub(crate) fn give_back(&self, connection: Connection) {
        if connection.is_open() {
            self.idle
                .lock()
                .expect("pool lock poisoned")
                .push((connection, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::transport::pool::Pool;

    #[tokio::test]
    async fn each_account_has_its_own_ceiling() {
        let pool = Pool::new(2);
        let alice = pool.account("CONTOSO\\alice");
        assert!(Arc::ptr_eq(&alice, &pool.account("CONTOSO\\alice")));
        let bob = pool.account("CONTOSO\\bob");
        assert!(!Arc::ptr_eq(&alice, &bob));
        let first = alice.acquire().await;
        let _second = alice.acquire().await;
        // A third request of alice waits; bob is not affected.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), alice.acquire())
                .await
                .is_err()
        );
        let _bob = tokio::time::timeout(std::time::Duration::from_millis(50), bob.acquire())
            .await
            .unwrap();
        drop(first);
        let _third = tokio::time::timeout(std::time::Duration::from_millis(50), alice.acquire())
            .await
            .unwrap();
        assert!(alice.take_idle().is_none());
    }
}
