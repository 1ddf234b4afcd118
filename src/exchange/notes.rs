//! What Exchange said about a mailbox's identity during one request, beyond the answer itself:
//! the primary address it followed an alias to, and the `MailboxGuid` of a mailbox the
//! on-premises directory knows but no local database holds (moved to Exchange Online).
//!
//! Invariant: notes are per request, never per process: [`collect`] opens a scope (a tokio
//! task-local) around one domain call, `Exchange::call` writes into the scope it runs in, and a
//! call outside any scope writes nothing. So one request never reports what another learned,
//! and a stale alias can never outlive the request that followed it.
//! Within one scope a mailbox already followed to its primary goes straight to the primary
//! (one extra EWS request per request, not one per call).
//! Entry points: [`collect`], [`MailboxNotes`].

use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    static NOTES: RefCell<MailboxNotes>;
}

/// What one request learned about the mailboxes it named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxNotes {
    /// (the address asked for, the primary SMTP address Exchange named for it) for each alias
    /// followed, in the order followed.
    pub followed: Vec<(String, String)>,
    /// `MailboxGuid` from an `ErrorNonExistentMailbox`'s `MessageXml`: the directory knows the
    /// mailbox but this Exchange organization does not hold it (it moved to Exchange Online).
    pub mailbox_guid: Option<String>,
}

impl MailboxNotes {
    /// The primary SMTP address that `mailbox` was followed to, if it was.
    pub fn primary_of(&self, mailbox: &str) -> Option<&str> {
        self.followed
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(mailbox))
            .map(|(_, primary)| primary.as_str())
    }
}

/// Runs `future` with a fresh notes scope and returns its output with what was noted in it.
pub async fn collect<F: Future>(future: F) -> (F::Output, MailboxNotes) {
    NOTES
        .scope(RefCell::new(MailboxNotes::default()), async {
            let output = future.await;
            let notes = NOTES.with(|notes| notes.take());
            (output, notes)
        })
        .await
}

/// The primary address this request already followed `mailbox` to.
pub(crate) fn followed_primary(mailbox: &str) -> Option<String> {
    NOTES
        .try_with(|notes| notes.borrow().primary_of(mailbox).map(str::to_owned))
        .ok()
        .flatten()
}

/// Notes that `alias` was followed to `primary` (no-op outside a scope).
pub(crate) fn note_followed(alias: &str, primary: &str) {
    let _ = NOTES.try_with(|notes| {
        let mut notes = notes.borrow_mut();
        if notes.primary_of(alias).is_none() {
            notes.followed.push((alias.to_owned(), primary.to_owned()));
        }
    });
}

/// Notes a `MailboxGuid` Exchange sent with `ErrorNonExistentMailbox` (no-op outside a scope).
pub(crate) fn note_mailbox_guid(guid: &str) {
    let _ = NOTES.try_with(|notes| notes.borrow_mut().mailbox_guid = Some(guid.to_owned()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notes_stay_in_their_scope() {
        note_followed("outside@contoso.example", "nobody@contoso.example");
        assert_eq!(followed_primary("outside@contoso.example"), None);
        let ((), notes) = collect(async {
            note_followed("Alias@contoso.example", "primary@contoso.example");
            note_followed("alias@contoso.example", "other@contoso.example");
            assert_eq!(
                followed_primary("ALIAS@contoso.example").as_deref(),
                Some("primary@contoso.example")
            );
            note_mailbox_guid("0b6c1b36-1d3a-4a8e-9f0e-3c1f0a1b2c3d");
        })
        .await;
        assert_eq!(
            notes.followed,
            [(
                "Alias@contoso.example".to_owned(),
                "primary@contoso.example".to_owned()
            )]
        );
        assert_eq!(
            notes.mailbox_guid.as_deref(),
            Some("0b6c1b36-1d3a-4a8e-9f0e-3c1f0a1b2c3d")
        );
        let ((), fresh) = collect(async {}).await;
        assert_eq!(fresh, MailboxNotes::default());
    }
}
