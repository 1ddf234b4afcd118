//! What Exchange said about a mailbox's identity during one request, beyond the answer itself:
//! the primary address it followed an alias to.
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
        })
        .await;
        assert_eq!(
            notes.followed,
            [(
                "Alias@contoso.example".to_owned(),
                "primary@contoso.example".to_owned()
            )]
        );
        let ((), fresh) = collect(async {}).await;
        assert_eq!(fresh, MailboxNotes::default());
    }
}
