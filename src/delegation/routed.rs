//! Check, grant and revoke routed per mailbox between EWS (on-premises) and Microsoft Graph
//! (Exchange Online), with `[graph]` configured: each domain call runs through
//! [`Router::run`], each side with its own backend (the `Delegation` itself on EWS, a second
//! `Delegation` on the Graph backend acting as the application).
//!
//! Invariants:
//! - without `[graph]` there is no router: every call is the EWS side's, unchanged (the same
//!   requests);
//! - "not here" ([`Held::NotHere`]) is EWS `mailbox_not_found` (a check report's status, or a
//!   refusal of kind `MailboxNotFound`) and Graph `MailboxNotEnabledForRESTAPI` or an unknown
//!   user (the same kind through `graph::error::kind_of`); every other answer, errors included,
//!   is the side's answer (Graph `ErrorAccessDenied` is a definite `no_access`);
//! - both sides share the settings (principal, levels, policy) and the audit log; every answer
//!   and audit record names the side's backend, so a grant first refused on EWS as
//!   `mailbox_not_found` and then made on Graph leaves a `failed` record naming `ews` and a
//!   `changed` one naming `graph`;
//! - a batch gives the Graph side its own lane of `graph.max_concurrency` workers beside the EWS
//!   accounts' lanes, so neither side's mailboxes queue behind the other's ceilings; a mailbox
//!   goes to the lane of the side it is asked on first ([`crate::routing::Plan`]).
//!
//! Entry points: [`Delegation::with_graph`], [`Delegation::check`], [`Delegation::grant`],
//! [`Delegation::revoke`].

use std::sync::Arc;

use crate::backend::{CalendarBackend, ErrorKind};
use crate::delegation::{
    Actor, ChangeOutcome, CheckReport, CheckStatus, Delegation, Error, GrantRequest, RevokeRequest,
    Settings,
};
use crate::domain::{AccessMode, Mailbox};
use crate::routing::{Held, Routed, Router, Side};

/// The router and the Graph side of a hybrid organisation.
pub(super) struct Hybrid {
    router: Router,
    graph: Delegation,
    /// The Graph lane's workers in a batch (`graph.max_concurrency`).
    graph_ceiling: usize,
}

impl Routed for CheckReport {
    fn held(&self) -> Held {
        if self.status == CheckStatus::MailboxNotFound {
            Held::NotHere
        } else {
            Held::Answered
        }
    }
}

impl Routed for ChangeOutcome {
    fn held(&self) -> Held {
        Held::Answered
    }
}

impl Routed for Error {
    fn held(&self) -> Held {
        match self {
            Error::Backend(error) if error.refusal_kind() == Some(ErrorKind::MailboxNotFound) => {
                Held::NotHere
            }
            _ => Held::Answered,
        }
    }
}

/// The lanes of a batch: one per EWS service account, and one for Graph when routed.
pub(super) struct Lanes {
    accounts: Vec<String>,
    /// The Graph lane's index.
    graph: Option<usize>,
    /// Each lane's workers.
    pub(super) ceilings: Vec<usize>,
}

impl Delegation {
    /// Routes every check, grant and revoke between this (EWS) side and `graph` by `router`
    /// (`[routing]`); the Graph side acts as the application with the same principal, levels,
    /// policy and audit log. `graph_ceiling` is the Graph lane's workers in a batch
    /// (`graph.max_concurrency`).
    #[must_use]
    pub fn with_graph(
        mut self,
        graph: Arc<dyn CalendarBackend>,
        router: Router,
        graph_ceiling: usize,
    ) -> Delegation {
        let settings = Settings {
            access: AccessMode::Application,
            impersonation: false,
            ..self.settings.clone()
        };
        let side = Delegation::new(graph, settings, self.audit.clone());
        self.hybrid = Some(Arc::new(Hybrid {
            router,
            graph: side,
            graph_ceiling: graph_ceiling.max(1),
        }));
        self
    }

    /// The router, where `[graph]` is configured.
    pub fn router(&self) -> Option<&Router> {
        self.hybrid.as_ref().map(|hybrid| &hybrid.router)
    }

    /// The delegation of `side` (this one for EWS and when unrouted).
    fn side(&self, side: Side) -> &Delegation {
        match (&self.hybrid, side) {
            (Some(hybrid), Side::Graph) => &hybrid.graph,
            _ => self,
        }
    }

    /// Checks whether MyTimetable can push to `mailbox`'s calendar, on the side that holds it.
    ///
    /// # Errors
    /// When the connector or the backend as a whole failed (credentials, network, throttling,
    /// an unreadable answer); a refusal about this mailbox is a report instead.
    pub async fn check(&self, mailbox: &Mailbox) -> Result<CheckReport, Error> {
        let Some(hybrid) = &self.hybrid else {
            return self.check_here(mailbox).await;
        };
        let (answer, _) = hybrid
            .router
            .run(mailbox, |side| self.side(side).check_here(mailbox))
            .await;
        answer
    }

    /// Grants as [`Delegation::grant_here`] says, on the side that holds `mailbox`.
    ///
    /// # Errors
    /// As [`Delegation::grant_here`]; a level the side's backend cannot write is
    /// [`Error::InvalidLevel`] before any request to it.
    pub async fn grant(
        &self,
        actor: &Actor,
        mailbox: &Mailbox,
        request: GrantRequest,
    ) -> Result<ChangeOutcome, Error> {
        let Some(hybrid) = &self.hybrid else {
            return self.grant_here(actor, mailbox, request).await;
        };
        let (answer, _) = hybrid
            .router
            .run(mailbox, |side| {
                self.side(side).grant_here(actor, mailbox, request.clone())
            })
            .await;
        answer
    }

    /// Revokes as [`Delegation::revoke_here`] says, on the side that holds `mailbox`.
    ///
    /// # Errors
    /// As [`Delegation::revoke_here`].
    pub async fn revoke(
        &self,
        actor: &Actor,
        mailbox: &Mailbox,
        request: RevokeRequest,
    ) -> Result<ChangeOutcome, Error> {
        let Some(hybrid) = &self.hybrid else {
            return self.revoke_here(actor, mailbox, request).await;
        };
        let (answer, _) = hybrid
            .router
            .run(mailbox, |side| {
                self.side(side).revoke_here(actor, mailbox, request.clone())
            })
            .await;
        answer
    }

    /// The lanes of a batch: `ceiling_per_account` workers for each EWS service account, and
    /// `graph.max_concurrency` for Graph when routed.
    pub(super) fn lanes(&self, ceiling_per_account: usize) -> Lanes {
        let accounts = self.backend.service_accounts();
        let mut ceilings = vec![ceiling_per_account.max(1); accounts.len().max(1)];
        let graph = self.hybrid.as_ref().map(|hybrid| {
            ceilings.push(hybrid.graph_ceiling);
            ceilings.len() - 1
        });
        Lanes {
            accounts,
            graph,
            ceilings,
        }
    }

    /// The lane of `mailbox`: Graph's when it is asked there first, else its EWS service
    /// account's.
    pub(super) fn lane_of(&self, lanes: &Lanes, mailbox: &Mailbox) -> usize {
        if let (Some(hybrid), Some(graph)) = (&self.hybrid, lanes.graph) {
            if hybrid.router.plan(mailbox).first == Side::Graph {
                return graph;
            }
        }
        let account = self.backend.service_account(mailbox);
        lanes
            .accounts
            .iter()
            .position(|candidate| *candidate == account)
            .unwrap_or(0)
    }
}
