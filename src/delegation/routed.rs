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

use crate::backend::CalendarBackend;
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
            Error::Backend(error) => error.held(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditLog;
    use crate::backend::memory::{MemoryBackend, MemoryCalendar, SERVICE_ACCOUNT};
    use crate::delegation::{PermissionLevel, batch};
    use crate::domain::permissions::EffectiveRights;
    use crate::routing::RoutingConfig;

    const MOVED: &str = "moved@uni.example";
    const STUDENT: &str = "s1@students.uni.example";

    fn settings() -> Settings {
        Settings {
            access: AccessMode::Delegate,
            impersonation: true,
            principal: SERVICE_ACCOUNT.to_owned(),
            required: PermissionLevel::Editor,
            allowed_principals: Vec::new(),
            max_level: PermissionLevel::Editor,
        }
    }

    fn routing(default: Side) -> RoutingConfig {
        RoutingConfig {
            default,
            graph_domains: vec!["students.uni.example".to_owned()],
            ews_domains: Vec::new(),
            follow_moves: true,
        }
    }

    fn writable(can_edit: bool) -> MemoryCalendar {
        MemoryCalendar {
            service_account_rights: Some(EffectiveRights {
                read: true,
                create_contents: can_edit,
                modify: false,
                delete: false,
            }),
            ..MemoryCalendar::default()
        }
    }

    /// An EWS side and a Graph side (both in memory), with an audit file in `dir`.
    fn hybrid(
        default: Side,
        dir: &tempfile::TempDir,
    ) -> (Delegation, Arc<MemoryBackend>, Arc<MemoryBackend>) {
        let ews = Arc::new(MemoryBackend::default());
        let graph = Arc::new(MemoryBackend::default());
        let audit = Arc::new(AuditLog::open(&dir.path().join("audit.jsonl")).unwrap());
        let delegation = Delegation::new(ews.clone(), settings(), Some(audit)).with_graph(
            graph.clone(),
            Router::new(routing(default)),
            3,
        );
        (delegation, ews, graph)
    }

    fn mailbox(address: &str) -> Mailbox {
        Mailbox::parse(address).unwrap()
    }

    fn actor() -> Actor {
        Actor {
            request_id: "req-1".to_owned(),
            client: "test".to_owned(),
        }
    }

    #[tokio::test]
    async fn a_moved_mailbox_is_checked_on_graph_as_the_application_then_there_directly() {
        let dir = tempfile::tempdir().unwrap();
        let (delegation, ews, graph) = hybrid(Side::Ews, &dir);
        graph.insert(MOVED, writable(true));
        let report = delegation.check(&mailbox(MOVED)).await.unwrap();
        assert_eq!(report.status, CheckStatus::Ok);
        assert!(report.ready);
        assert_eq!(report.access_mode, AccessMode::Application);
        assert_eq!(report.impersonation.as_str(), "not_configured");
        assert_eq!(ews.count("open_calendar"), 1, "EWS asked first");
        assert_eq!(graph.count("open_calendar"), 1);
        assert_eq!(graph.calls().len(), 1, "one call on Graph");

        let report = delegation.check(&mailbox(MOVED)).await.unwrap();
        assert_eq!(report.status, CheckStatus::Ok);
        assert_eq!(ews.calls().len(), 1, "remembered: EWS not asked again");
        assert_eq!(graph.count("open_calendar"), 2);
    }

    #[tokio::test]
    async fn a_refusal_on_graph_is_an_answer_and_the_other_side_is_not_asked() {
        let dir = tempfile::tempdir().unwrap();
        let (delegation, ews, graph) = hybrid(Side::Graph, &dir);
        // The application may not open it (outside its scope): no_access, not "not here".
        graph.insert(
            MOVED,
            MemoryCalendar {
                service_account_rights: None,
                ..MemoryCalendar::default()
            },
        );
        ews.insert(MOVED, writable(true));
        let report = delegation.check(&mailbox(MOVED)).await.unwrap();
        assert_eq!(report.status, CheckStatus::NoAccess);
        assert_eq!(
            report.graph_error_code.as_deref(),
            Some("ErrorAccessDenied")
        );
        assert_eq!(report.ews_response_code, None);
        assert!(ews.calls().is_empty());

        // canEdit false: opened, not ready.
        graph.insert(MOVED, writable(false));
        let report = delegation.check(&mailbox(MOVED)).await.unwrap();
        assert_eq!(report.status, CheckStatus::NoAccess);
        assert!(!report.ready);
        assert!(ews.calls().is_empty());
    }

    #[tokio::test]
    async fn grant_and_revoke_follow_the_mailbox_and_a_fixed_domain_asks_one_side() {
        let dir = tempfile::tempdir().unwrap();
        let (delegation, ews, graph) = hybrid(Side::Ews, &dir);
        graph.insert(MOVED, writable(true));
        let request = GrantRequest {
            principal: None,
            level: Some(PermissionLevel::Editor),
            dry_run: false,
        };
        let outcome = delegation
            .grant(&actor(), &mailbox(MOVED), request.clone())
            .await
            .unwrap();
        assert!(outcome.changed);
        assert_eq!(ews.count("read_permissions"), 1);
        assert_eq!(graph.count("write_permissions"), 1);
        let revoked = delegation
            .revoke(
                &actor(),
                &mailbox(MOVED),
                RevokeRequest {
                    principal: None,
                    dry_run: false,
                },
            )
            .await
            .unwrap();
        assert!(revoked.changed);
        assert_eq!(ews.count("read_permissions"), 1, "remembered");

        // A Graph domain that Graph does not hold: Graph's answer, EWS never asked.
        let error = delegation
            .grant(&actor(), &mailbox(STUDENT), request)
            .await
            .unwrap_err();
        assert_eq!(error.held(), Held::NotHere, "{error}");
        assert_eq!(ews.count("read_permissions"), 1);
    }

    #[tokio::test]
    async fn without_graph_nothing_is_routed() {
        let ews = Arc::new(MemoryBackend::default());
        let delegation = Delegation::new(ews.clone(), settings(), None);
        assert!(delegation.router().is_none());
        let report = delegation.check(&mailbox(MOVED)).await.unwrap();
        assert_eq!(report.status, CheckStatus::MailboxNotFound);
        assert_eq!(report.access_mode, AccessMode::Delegate);
        assert_eq!(ews.calls().len(), 1);
        let lanes = delegation.lanes(5);
        assert_eq!(lanes.ceilings, [5]);
    }

    #[tokio::test]
    async fn a_batch_gives_graph_its_own_lane_beside_the_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let (delegation, ews, graph) = hybrid(Side::Ews, &dir);
        let lanes = delegation.lanes(2);
        assert_eq!(
            lanes.ceilings,
            [2, 3],
            "the account's ceiling, then graph's"
        );
        assert_eq!(delegation.lane_of(&lanes, &mailbox(STUDENT)), 1);
        assert_eq!(delegation.lane_of(&lanes, &mailbox(MOVED)), 0);

        for n in 0..6 {
            graph.insert(&format!("s{n}@students.uni.example"), writable(true));
            ews.insert(&format!("p{n}@uni.example"), writable(true));
        }
        let delegation = Arc::new(delegation);
        let list: Vec<String> = (0..6)
            .flat_map(|n| {
                [
                    format!("s{n}@students.uni.example"),
                    format!("p{n}@uni.example"),
                ]
            })
            .collect();
        let worker = delegation.clone();
        let mut running = batch::start(
            &delegation,
            2,
            list,
            &[],
            Arc::new(batch::Progress::default()),
            move |mailbox| {
                let worker = worker.clone();
                async move { worker.check(&mailbox).await }
            },
        );
        let mut modes = Vec::new();
        while let Some(line) = running.next().await {
            let report = line.outcome.unwrap();
            modes.push((line.mailbox, report.access_mode));
        }
        assert_eq!(modes.len(), 12);
        for (mailbox, mode) in modes {
            let expected = if mailbox.contains("students") {
                AccessMode::Application
            } else {
                AccessMode::Delegate
            };
            assert_eq!(mode, expected, "{mailbox}");
        }
        assert_eq!(graph.count("open_calendar"), 6);
    }
}
