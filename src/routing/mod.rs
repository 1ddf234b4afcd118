//! `routing`: on which side (EWS on-premises or Microsoft Graph for Exchange Online) a mailbox is
//! looked for, and where it was found (`[routing]` in CONFIG.md).
//!
//! Invariants:
//! - a domain in `graph_domains` or `ews_domains` is only ever served by that side; nothing is
//!   remembered for it and no answer makes it try the other;
//! - other mailboxes go first to where they were last found (remembered for [`REMEMBER_FOR`], at
//!   most [`REMEMBER_AT_MOST`] of them, the oldest dropped first), else to `default`; with
//!   `follow_moves`, an answer saying the side does not hold the mailbox ([`Held::NotHere`]) is
//!   asked again on the other side, once, and where it was found is remembered; an answer that
//!   the remembered side does not hold it drops the memory;
//! - routing decides nothing about the answer itself: the attempt on each side is the caller's
//!   (`delegation`, `push`), and the answer returned is the one of the side that holds the
//!   mailbox, or, where neither does, the default side's.
//!
//! See ARCHITECTURE.md (`src/routing/`).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::config::{Backend as Side, RoutingConfig};
use crate::domain::Mailbox;

/// How long where a mailbox was found is remembered.
pub const REMEMBER_FOR: Duration = Duration::from_secs(24 * 3600);
/// How many mailboxes' sides are remembered at most.
pub const REMEMBER_AT_MOST: usize = 200_000;

/// Whether an answer says that the side asked does not hold the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// The side answered about the mailbox (anything but "not here", errors included).
    Answered,
    /// The side does not hold the mailbox (EWS `mailbox_not_found`; Graph
    /// `MailboxNotEnabledForRESTAPI` or an unknown user).
    NotHere,
}

/// What an answer says about where the mailbox lives.
pub trait Routed {
    fn held(&self) -> Held;
}

/// A backend's failure: "not here" when the side answered that it holds no such mailbox
/// (EWS `mailbox_not_found`; Graph `MailboxNotEnabledForRESTAPI` or an unknown user).
impl Routed for crate::backend::Error {
    fn held(&self) -> Held {
        if self.refusal_kind() == Some(crate::backend::ErrorKind::MailboxNotFound) {
            Held::NotHere
        } else {
            Held::Answered
        }
    }
}

impl<T: Routed, E: Routed> Routed for Result<T, E> {
    fn held(&self) -> Held {
        match self {
            Ok(answer) => answer.held(),
            Err(error) => error.held(),
        }
    }
}

/// The sides to ask, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub first: Side,
    /// The side asked when `first` does not hold the mailbox (`follow_moves`).
    pub then: Option<Side>,
    /// Whether `first` came from memory rather than the rules.
    pub remembered: bool,
}

/// The routing rules and the memory of where mailboxes were found.
#[derive(Debug)]
pub struct Router {
    config: RoutingConfig,
    remember_for: Duration,
    remember_at_most: usize,
    memory: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    /// Mailbox (lower case) → the side and when it was found there.
    sides: HashMap<String, (Side, Instant)>,
    /// Insertion order, for dropping the oldest; an entry whose time differs from the map's is
    /// stale and skipped.
    order: VecDeque<(String, Instant)>,
}

impl Router {
    pub fn new(config: RoutingConfig) -> Router {
        Router::with_limits(config, REMEMBER_FOR, REMEMBER_AT_MOST)
    }

    /// A router with other memory limits (tests).
    pub fn with_limits(config: RoutingConfig, remember_for: Duration, at_most: usize) -> Router {
        Router {
            config,
            remember_for,
            remember_at_most: at_most.max(1),
            memory: Mutex::new(Memory::default()),
        }
    }

    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    /// The side a domain is fixed to, if it is.
    fn fixed(&self, mailbox: &Mailbox) -> Option<Side> {
        let domain = mailbox.domain();
        let listed = |domains: &[String]| domains.iter().any(|d| d.eq_ignore_ascii_case(&domain));
        if listed(&self.config.graph_domains) {
            Some(Side::Graph)
        } else if listed(&self.config.ews_domains) {
            Some(Side::Ews)
        } else {
            None
        }
    }

    /// Where to look for `mailbox`, in order.
    pub fn plan(&self, mailbox: &Mailbox) -> Plan {
        if let Some(side) = self.fixed(mailbox) {
            return Plan {
                first: side,
                then: None,
                remembered: false,
            };
        }
        let remembered = self.remembered(mailbox);
        let first = remembered.unwrap_or(self.config.default);
        Plan {
            first,
            then: self.config.follow_moves.then_some(other(first)),
            remembered: remembered.is_some(),
        }
    }

    /// The side `mailbox` was last found on, if remembered and not expired.
    pub fn remembered(&self, mailbox: &Mailbox) -> Option<Side> {
        let memory = lock(&self.memory);
        let (side, at) = memory.sides.get(&key(mailbox))?;
        (at.elapsed() < self.remember_for).then_some(*side)
    }

    /// How many mailboxes' sides are remembered (expired ones included until dropped).
    pub fn remembered_count(&self) -> usize {
        lock(&self.memory).sides.len()
    }

    /// Notes that `mailbox` was found on `side`. Only a side other than the default is kept:
    /// the default is where an unknown mailbox is looked for anyway.
    pub fn found(&self, mailbox: &Mailbox, side: Side) {
        if self.fixed(mailbox).is_some() {
            return;
        }
        if side == self.config.default {
            self.forget(mailbox);
            return;
        }
        let now = Instant::now();
        let key = key(mailbox);
        let mut memory = lock(&self.memory);
        memory.sides.insert(key.clone(), (side, now));
        memory.order.push_back((key, now));
        self.trim(&mut memory, now);
    }

    /// Drops what is remembered about `mailbox`.
    pub fn forget(&self, mailbox: &Mailbox) {
        lock(&self.memory).sides.remove(&key(mailbox));
    }

    /// Drops expired entries, then the oldest while over the limit.
    fn trim(&self, memory: &mut Memory, now: Instant) {
        while let Some((key, at)) = memory.order.front() {
            let current = memory.sides.get(key).map(|(_, t)| *t);
            let stale = current != Some(*at);
            let expired = now.duration_since(*at) >= self.remember_for;
            let over = memory.sides.len() > self.remember_at_most;
            if !(stale || expired || over) {
                break;
            }
            if !stale {
                memory.sides.remove(key);
            }
            memory.order.pop_front();
        }
    }

    /// Asks the sides in the plan's order: `attempt(side)` on the first; where it says the side
    /// does not hold the mailbox and `follow_moves` allows, on the other. Returns the answer and
    /// the side that gave it.
    pub async fn run<T, F, Fut>(&self, mailbox: &Mailbox, mut attempt: F) -> (T, Side)
    where
        T: Routed,
        F: FnMut(Side) -> Fut,
        Fut: Future<Output = T>,
    {
        let plan = self.plan(mailbox);
        let answer = attempt(plan.first).await;
        if answer.held() == Held::Answered {
            if !plan.remembered && plan.then.is_some() {
                self.found(mailbox, plan.first);
            }
            return (answer, plan.first);
        }
        let Some(then) = plan.then else {
            return (answer, plan.first);
        };
        if plan.remembered {
            self.forget(mailbox);
        }
        let second = attempt(then).await;
        if second.held() == Held::Answered {
            self.found(mailbox, then);
            return (second, then);
        }
        // Held by neither: the default side's answer says most (EWS may name where it went).
        if plan.first == self.config.default {
            (answer, plan.first)
        } else {
            (second, then)
        }
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Ews => Side::Graph,
        Side::Graph => Side::Ews,
    }
}

fn key(mailbox: &Mailbox) -> String {
    mailbox.as_str().to_ascii_lowercase()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Answer(Side, Held);

    impl Routed for Answer {
        fn held(&self) -> Held {
            self.1
        }
    }

    fn config(default: Side, follow_moves: bool) -> RoutingConfig {
        RoutingConfig {
            default,
            graph_domains: vec!["students.uni.example".to_owned()],
            ews_domains: vec!["staff.uni.example".to_owned()],
            follow_moves,
        }
    }

    fn mailbox(address: &str) -> Mailbox {
        Mailbox::parse(address).unwrap()
    }

    /// Runs the router with sides that hold the mailbox as `holds` says, and returns the answer
    /// and the sides asked, in order.
    fn ask(router: &Router, address: &str, holds: &[Side]) -> (Answer, Vec<Side>) {
        let asked = RefCell::new(Vec::new());
        let (answer, side) = block_on(router.run(&mailbox(address), |side| {
            asked.borrow_mut().push(side);
            let held = if holds.contains(&side) {
                Held::Answered
            } else {
                Held::NotHere
            };
            std::future::ready(Answer(side, held))
        }));
        assert_eq!(answer.0, side);
        (answer, asked.into_inner())
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn fixed_domains_ask_one_side_whatever_it_answers() {
        let router = Router::new(config(Side::Ews, true));
        let (answer, asked) = ask(&router, "s1@Students.Uni.Example", &[Side::Ews]);
        assert_eq!(asked, [Side::Graph]);
        assert_eq!(answer, Answer(Side::Graph, Held::NotHere));
        let (_, asked) = ask(&router, "p@staff.uni.example", &[Side::Graph]);
        assert_eq!(asked, [Side::Ews]);
        assert_eq!(router.remembered_count(), 0);
    }

    #[test]
    fn a_moved_mailbox_is_followed_once_then_served_from_where_it_was_found() {
        let router = Router::new(config(Side::Ews, true));
        let (answer, asked) = ask(&router, "moved@uni.example", &[Side::Graph]);
        assert_eq!(asked, [Side::Ews, Side::Graph]);
        assert_eq!(answer, Answer(Side::Graph, Held::Answered));
        let (_, asked) = ask(&router, "MOVED@uni.example", &[Side::Graph]);
        assert_eq!(asked, [Side::Graph], "remembered: one side asked");
        // The mailbox went back: the remembered side says so, the memory is dropped.
        let (answer, asked) = ask(&router, "moved@uni.example", &[Side::Ews]);
        assert_eq!(asked, [Side::Graph, Side::Ews]);
        assert_eq!(answer, Answer(Side::Ews, Held::Answered));
        assert_eq!(router.remembered(&mailbox("moved@uni.example")), None);
        let (_, asked) = ask(&router, "moved@uni.example", &[Side::Ews]);
        assert_eq!(asked, [Side::Ews]);
    }

    #[test]
    fn held_by_neither_is_the_default_sides_answer_and_nothing_is_remembered() {
        let router = Router::new(config(Side::Ews, true));
        let (answer, asked) = ask(&router, "nobody@uni.example", &[]);
        assert_eq!(asked, [Side::Ews, Side::Graph]);
        assert_eq!(answer, Answer(Side::Ews, Held::NotHere));
        assert_eq!(router.remembered_count(), 0);
        let router = Router::new(config(Side::Graph, true));
        let (answer, _) = ask(&router, "nobody@uni.example", &[]);
        assert_eq!(answer, Answer(Side::Graph, Held::NotHere));
    }

    #[test]
    fn without_follow_moves_only_the_default_is_asked() {
        let router = Router::new(config(Side::Ews, false));
        let (answer, asked) = ask(&router, "moved@uni.example", &[Side::Graph]);
        assert_eq!(asked, [Side::Ews]);
        assert_eq!(answer, Answer(Side::Ews, Held::NotHere));
    }

    #[test]
    fn memory_is_bounded_and_expires() {
        let router = Router::with_limits(config(Side::Ews, true), Duration::from_secs(3600), 3);
        for n in 0..10 {
            ask(&router, &format!("m{n}@uni.example"), &[Side::Graph]);
        }
        assert_eq!(router.remembered_count(), 3);
        assert_eq!(
            router.remembered(&mailbox("m9@uni.example")),
            Some(Side::Graph)
        );
        assert_eq!(router.remembered(&mailbox("m0@uni.example")), None);

        let router = Router::with_limits(config(Side::Ews, true), Duration::ZERO, 100);
        ask(&router, "m@uni.example", &[Side::Graph]);
        let (_, asked) = ask(&router, "m@uni.example", &[Side::Graph]);
        assert_eq!(asked, [Side::Ews, Side::Graph], "expired: the rules again");
    }
}
