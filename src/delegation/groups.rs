//! Group membership for readiness: "is this identity (by SMTP address) a member of this group,
//! nested groups included", read with EWS `ExpandDL` as a service account and cached per group.
//!
//! Invariants:
//! - one `ExpandDL` per group per [`GroupMembership::ttl`] in this process: concurrent checks that
//!   need the same group share one call (single flight), so a batch of 100,000 mailboxes expands
//!   each group once;
//! - `ExpandDL` lists direct members only; a member whose `MailboxType` is `PublicDL` or
//!   `PrivateDL` is a group, expanded by its own (cached) call, at most [`MAX_DEPTH`] levels
//!   deep, each group once per question (a cycle of groups ends);
//! - an address that is not a group (`ErrorNameResolutionNoResults`, a user) has no members: it
//!   is cached too, so a user's permission entry costs one call per TTL, not one per calendar;
//! - a failed call (throttling, network) is not cached and fails the question; nothing is
//!   guessed.
//!
//! Entry types: [`GroupMembership`], [`Membership`], [`Expansion`].

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::backend::CalendarBackend;
pub use crate::backend::Expansion;
use crate::delegation::Error;

/// How many levels of nested groups are followed below the group asked about.
pub const MAX_DEPTH: usize = 8;

/// The default of `delegation.group_cache_ttl_secs`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(900);

/// Beyond this many cached addresses, expired ones are dropped when a new one is added.
const PRUNE_ABOVE: usize = 10_000;

impl Expansion {
    fn is_empty_or_not_a_group(&self) -> bool {
        match self {
            Expansion::Group { users, groups, .. } => users.is_empty() && groups.is_empty(),
            Expansion::NotAGroup => true,
        }
    }
}

/// The answer to "is X a member of G".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// X was found in G or in a group nested in it.
    pub member: bool,
    /// G is a group with at least one member (an empty list and a user both answer
    /// `ErrorNameResolutionNoResults` or an empty Success: they cannot be told apart).
    pub is_group: bool,
    /// Every group on the way was read in full and no nesting was cut at [`MAX_DEPTH`]; when
    /// false and `member` is false, X may still be a member.
    pub complete: bool,
}

struct Slot {
    created: Instant,
    cell: OnceCell<Arc<Expansion>>,
}

/// The per-process membership cache (one per [`Delegation`](crate::delegation::Delegation)).
pub struct GroupMembership {
    backend: Arc<dyn CalendarBackend>,
    ttl: Duration,
    /// By lower-cased address. A std `Mutex`: held only to find or insert a slot, never across
    /// an `.await`.
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl GroupMembership {
    pub fn new(backend: Arc<dyn CalendarBackend>, ttl: Duration) -> GroupMembership {
        GroupMembership {
            backend,
            ttl,
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether `identity` is a member of `group`, nested groups included. `anchor` is a mailbox
    /// the call may be routed by (`X-AnchorMailbox`): the calendar being checked, or a service
    /// account's own address.
    ///
    /// # Errors
    /// When an `ExpandDL` failed for another reason than "not a group".
    pub async fn is_member(
        &self,
        group: &str,
        identity: &str,
        anchor: &str,
    ) -> Result<Membership, Error> {
        let identity = identity.to_ascii_lowercase();
        let root = group.to_ascii_lowercase();
        let mut seen = BTreeSet::from([root.clone()]);
        let mut level = vec![root];
        let mut membership = Membership {
            member: false,
            is_group: false,
            complete: true,
        };
        for depth in 0..=MAX_DEPTH {
            let mut next = Vec::new();
            for current in &level {
                let expansion = self.expand(current, anchor).await?;
                if depth == 0 {
                    membership.is_group = !expansion.is_empty_or_not_a_group();
                }
                let Expansion::Group {
                    users,
                    groups,
                    complete,
                } = expansion.as_ref()
                else {
                    continue;
                };
                membership.complete &= *complete;
                if users.contains(&identity) || groups.contains(&identity) {
                    membership.member = true;
                    return Ok(membership);
                }
                for nested in groups {
                    if seen.insert(nested.clone()) {
                        next.push(nested.clone());
                    }
                }
            }
            if next.is_empty() {
                return Ok(membership);
            }
            level = next;
        }
        // Nested deeper than MAX_DEPTH: what lies below was not read.
        membership.complete = false;
        Ok(membership)
    }

    /// The direct members of `address` (lower-cased), from the cache when fresh, else from one
    /// `ExpandDL` shared by every concurrent caller.
    async fn expand(&self, address: &str, anchor: &str) -> Result<Arc<Expansion>, Error> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            match slots.get(address) {
                Some(slot) if slot.created.elapsed() < self.ttl => slot.clone(),
                _ => {
                    if slots.len() >= PRUNE_ABOVE {
                        let ttl = self.ttl;
                        slots.retain(|_, slot| slot.created.elapsed() < ttl);
                    }
                    let slot = Arc::new(Slot {
                        created: Instant::now(),
                        cell: OnceCell::new(),
                    });
                    slots.insert(address.to_owned(), slot.clone());
                    slot
                }
            }
        };
        match slot
            .cell
            .get_or_try_init(|| self.fetch(address, anchor))
            .await
        {
            Ok(expansion) => Ok(expansion.clone()),
            Err(error) => {
                // Not cached: the next question asks Exchange again.
                let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
                if slots
                    .get(address)
                    .is_some_and(|current| Arc::ptr_eq(current, &slot))
                    && slot.cell.get().is_none()
                {
                    slots.remove(address);
                }
                Err(error)
            }
        }
    }

    async fn fetch(&self, address: &str, anchor: &str) -> Result<Arc<Expansion>, Error> {
        let expansion = self.backend.expand_group(address, anchor).await?;
        match &expansion {
            Expansion::Group {
                users,
                groups,
                complete,
            } => tracing::debug!(
                group = address,
                users = users.len(),
                groups = groups.len(),
                complete,
                "ExpandDL read"
            ),
            Expansion::NotAGroup => tracing::debug!(group = address, "ExpandDL: not a group"),
        }
        Ok(Arc::new(expansion))
    }
}
