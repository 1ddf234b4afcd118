//! Calendar push routed per mailbox between EWS (on-premises) and Microsoft Graph (Exchange
//! Online), with `[graph]` configured: each push call runs through [`Router::run`], each side
//! with its own `Push` (this one on EWS, a second on the Graph backend), as `delegation`'s
//! check, grant and revoke do (`delegation::routed`).
//!
//! Invariants:
//! - without `[graph]` there is no router: every call is the EWS side's, unchanged;
//! - "not here" ([`Held::NotHere`]) is a refusal of kind `MailboxNotFound` (EWS
//!   `ErrorNonExistentMailbox` for a mailbox moved to Exchange Online; Graph
//!   `MailboxNotEnabledForRESTAPI` or an unknown user); every other answer, errors included, is
//!   the side's, so a write is never repeated on the other side after a failure that may have
//!   written;
//! - both sides share the settings; the answer names the side that served it
//!   ([`Push::backend_for`]): the router's plan after the call is the side that answered;
//! - the same external ids and content hash on both sides (the same property set), so the first
//!   sync after a move finds the events EWS wrote and writes nothing when nothing changed.
//!
//! Entry points: [`Push::with_graph`], [`Push::upsert`], [`Push::delete`], [`Push::list`],
//! [`Push::sync`].

use std::sync::Arc;

use super::{Error, Event, ExternalId, Push, StoredEvent, SyncReport, UpsertResult, Window};
use crate::backend::CalendarBackend;
use crate::domain::Mailbox;
use crate::routing::{Held, Routed, Router, Side};

/// The router and the Graph side.
pub(super) struct Hybrid {
    router: Router,
    graph: Push,
}

impl Routed for Error {
    fn held(&self) -> Held {
        match self {
            Error::Backend(error) => error.held(),
            _ => Held::Answered,
        }
    }
}

macro_rules! answered {
    ($($type:ty),*) => {
        $(impl Routed for $type {
            fn held(&self) -> Held {
                Held::Answered
            }
        })*
    };
}

answered!(UpsertResult, SyncReport, Vec<StoredEvent>, ());

impl Push {
    /// Routes every push call between this (EWS) side and `graph` by `router` (`[routing]`);
    /// the Graph side has the same settings.
    pub fn with_graph(mut self, graph: Arc<dyn CalendarBackend>, router: Router) -> Push {
        let graph = Push::new(graph, self.settings.clone());
        self.hybrid = Some(Box::new(Hybrid { router, graph }));
        self
    }

    fn side(&self, side: Side) -> &Push {
        match (&self.hybrid, side) {
            (Some(hybrid), Side::Graph) => &hybrid.graph,
            _ => self,
        }
    }

    /// The backend that serves `mailbox` now (`backend` in API.md): after a call, the side
    /// that answered it.
    pub fn backend_for(&self, mailbox: &Mailbox) -> &'static str {
        match &self.hybrid {
            None => self.backend(),
            Some(hybrid) => self.side(hybrid.router.plan(mailbox).first).backend(),
        }
    }

    /// [`Push::upsert_here`] on the side that holds `mailbox`.
    ///
    /// # Errors
    /// As [`Push::upsert_here`].
    pub async fn upsert(&self, mailbox: &Mailbox, event: &Event) -> Result<UpsertResult, Error> {
        match &self.hybrid {
            None => self.upsert_here(mailbox, event).await,
            Some(hybrid) => {
                hybrid
                    .router
                    .run(mailbox, |side| self.side(side).upsert_here(mailbox, event))
                    .await
                    .0
            }
        }
    }

    /// [`Push::delete_here`] on the side that holds `mailbox`.
    ///
    /// # Errors
    /// As [`Push::delete_here`].
    pub async fn delete(&self, mailbox: &Mailbox, external_id: &ExternalId) -> Result<(), Error> {
        match &self.hybrid {
            None => self.delete_here(mailbox, external_id).await,
            Some(hybrid) => {
                hybrid
                    .router
                    .run(mailbox, |side| {
                        self.side(side).delete_here(mailbox, external_id)
                    })
                    .await
                    .0
            }
        }
    }

    /// [`Push::list_here`] on the side that holds `mailbox`.
    ///
    /// # Errors
    /// As [`Push::list_here`].
    pub async fn list(&self, mailbox: &Mailbox, window: Window) -> Result<Vec<StoredEvent>, Error> {
        match &self.hybrid {
            None => self.list_here(mailbox, window).await,
            Some(hybrid) => {
                hybrid
                    .router
                    .run(mailbox, |side| self.side(side).list_here(mailbox, window))
                    .await
                    .0
            }
        }
    }

    /// [`Push::sync_here`] on the side that holds `mailbox`.
    ///
    /// # Errors
    /// As [`Push::sync_here`].
    pub async fn sync(
        &self,
        mailbox: &Mailbox,
        window: Window,
        events: Vec<Event>,
    ) -> Result<SyncReport, Error> {
        match &self.hybrid {
            None => self.sync_here(mailbox, window, events).await,
            Some(hybrid) => {
                hybrid
                    .router
                    .run(mailbox, |side| {
                        self.side(side).sync_here(mailbox, window, events.clone())
                    })
                    .await
                    .0
            }
        }
    }
}
