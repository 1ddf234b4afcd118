//! One async lock per mailbox, so that two writers to one calendar in this process never
//! interleave their read and write: a grant's or revoke's read-merge-write of the permission set
//! (which could lose an entry) and a push's lookup and write (which could create an event twice).
//!
//! Invariants:
//! - mailboxes are compared case-insensitively (the lock key is the lower-cased address);
//! - the map holds `Weak` handles: a lock lives as long as someone holds it, and dead handles
//!   are swept whenever a new one is added, so the map stays as small as the number of mailboxes
//!   being written;
//! - the std `Mutex` around the map is held only to look up or insert, never across `.await`.
//!
//! `Delegation` and `Push` each hold their own `MailboxLocks`: a calendar's items and its
//! permission set are different resources and never need one lock.
//!
//! Entry type: [`MailboxLocks`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Per-mailbox async locks.
#[derive(Default)]
pub struct MailboxLocks {
    locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl MailboxLocks {
    /// Waits for, and takes, `mailbox`'s lock; it is released when the guard is dropped.
    pub async fn lock(&self, mailbox: &str) -> tokio::sync::OwnedMutexGuard<()> {
        self.handle(mailbox).lock_owned().await
    }

    fn handle(&self, mailbox: &str) -> Arc<tokio::sync::Mutex<()>> {
        let key = mailbox.to_ascii_lowercase();
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
            return lock;
        }
        locks.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(key, Arc::downgrade(&lock));
        lock
    }

    /// How many mailboxes have a live lock (for tests).
    pub fn live(&self) -> usize {
        let locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks
            .values()
            .filter(|lock| lock.strong_count() > 0)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_mailbox_in_any_case_waits_and_others_do_not() {
        let locks = MailboxLocks::default();
        let held = locks.lock("S.Jansen@uni.example").await;
        assert!(locks.handle("s.jansen@UNI.example").try_lock().is_err());
        assert!(locks.handle("other@uni.example").try_lock().is_ok());
        drop(held);
        assert!(locks.handle("s.jansen@uni.example").try_lock().is_ok());
        assert_eq!(locks.live(), 0);
    }

    #[tokio::test]
    async fn dead_handles_are_swept_so_the_map_does_not_grow() {
        let locks = MailboxLocks::default();
        let held = locks.lock("alice@contoso.example").await;
        for index in 0..1000 {
            drop(locks.lock(&format!("user{index}@contoso.example")).await);
        }
        assert!(
            locks.locks.lock().unwrap().len() <= 2,
            "dead lock handles are swept"
        );
        assert_eq!(locks.live(), 1);
        drop(held);
    }
}
