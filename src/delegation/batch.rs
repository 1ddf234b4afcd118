//! The batch driver: runs one delegation call (a check or a grant) for each mailbox of a list
//! and yields each result as soon as it completes, through a bounded channel.
//!
//! Invariants:
//! - the list is deduplicated case-insensitively before any work starts, first spelling and
//!   order kept; at most [`MAX_MAILBOXES`] mailboxes;
//! - a mailbox that is not an address, or outside the allowed domains, fails its own line and
//!   never reaches Exchange; it does not fail the batch;
//! - in-flight work is bounded per service account by the account's ceiling
//!   (`exchange.ceiling_per_account`, given by the caller): each account gets its own lane of that many workers,
//!   fed with the mailboxes that rank it first, so every account is kept at (and never above)
//!   its ceiling while it has work; finished lines wait in a channel of [`CHANNEL_LINES`], so
//!   memory does not grow with the list;
//! - when the consumer drops the [`Batch`] (a client disconnected), no new work starts and the
//!   calls in flight are dropped (their tasks are aborted).
//!
//! No serde and no HTTP here: the `api` and the command line turn [`Line`]s into NDJSON.
//! Entry types: [`Batch`], [`Line`], [`LineError`], [`Progress`], [`start`], [`dedupe`],
//! [`parse_list`].

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::delegation::{Delegation, Error};
use crate::domain::{InvalidMailbox, Mailbox};

/// The most mailboxes one batch may hold (API.md); more is refused before any work starts.
pub const MAX_MAILBOXES: usize = 100_000;

/// Finished lines that may wait for the consumer; past it, workers wait before starting more.
pub const CHANNEL_LINES: usize = 64;

/// One mailbox's result.
#[derive(Debug)]
pub struct Line<T> {
    /// The mailbox as given in the list (first spelling of its duplicates), trimmed.
    pub mailbox: String,
    pub outcome: Result<T, LineError>,
}

/// Why one line failed; the others go on.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The text is not a mailbox address.
    #[error(transparent)]
    Invalid(InvalidMailbox),
    /// The mailbox's domain is not one of the allowed domains.
    #[error("the domain `{domain}` is not one of the allowed domains")]
    NotAllowed { domain: String },
    /// The delegation call failed.
    #[error(transparent)]
    Failed(Error),
}

/// Counters across every batch of the process, for metrics and progress bars.
#[derive(Debug, Default)]
pub struct Progress {
    /// Mailboxes accepted into batches (after deduplication).
    pub queued: AtomicU64,
    /// Lines produced (successes and failures).
    pub done: AtomicU64,
    /// Delegation calls running now.
    pub in_flight: AtomicU64,
}

impl Progress {
    fn add(counter: &AtomicU64, amount: u64) {
        counter.fetch_add(amount, Ordering::Relaxed);
    }
}

/// A running batch: the lines as they complete. Dropping it cancels the work left.
pub struct Batch<T> {
    receiver: mpsc::Receiver<Line<T>>,
    total: usize,
    /// The task that owns the workers; aborting it drops them and their calls.
    driver: tokio::task::JoinHandle<()>,
}

impl<T> Batch<T> {
    /// How many lines the batch will produce (the unique mailboxes).
    pub fn total(&self) -> usize {
        self.total
    }

    /// The next finished line, or `None` once every line was produced.
    pub async fn next(&mut self) -> Option<Line<T>> {
        self.receiver.recv().await
    }

    /// [`Batch::next`] for hand-written streams and bodies.
    pub fn poll_next(&mut self, context: &mut Context<'_>) -> Poll<Option<Line<T>>> {
        self.receiver.poll_recv(context)
    }
}

impl<T> Drop for Batch<T> {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// The list without duplicates (compared case-insensitively after trimming), in first-seen
/// order, keeping the first spelling. Blank entries are kept once, so they fail their line.
pub fn dedupe(mailboxes: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for mailbox in mailboxes {
        let mailbox = mailbox.trim().to_owned();
        if seen.insert(mailbox.to_lowercase()) {
            unique.push(mailbox);
        }
    }
    unique
}

/// The mailboxes of a list file: one per line, surrounding whitespace trimmed; blank lines and
/// lines starting with `#` are skipped. Not yet deduplicated (see [`dedupe`]).
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Starts `work` for each mailbox of `mailboxes` (already deduplicated, see [`dedupe`]) and
/// returns the lines as they complete. Must be called inside a tokio runtime.
///
/// Each mailbox goes to the lane of the service account the backend serves it with
/// ([`CalendarBackend::service_account`](crate::backend::CalendarBackend::service_account): for
/// EWS the first of its ranking whose credentials are not refused); each lane runs at most
/// `ceiling_per_account` calls at a time. With `[graph]`, a mailbox asked on Graph first goes to
/// the Graph lane instead, of `graph.max_concurrency` workers (`routed`).
pub fn start<T, F, Fut>(
    delegation: &Delegation,
    ceiling_per_account: usize,
    mailboxes: Vec<String>,
    allowed_domains: &[String],
    progress: Arc<Progress>,
    work: F,
) -> Batch<T>
where
    T: Send + 'static,
    F: Fn(Mailbox) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Error>> + Send + 'static,
{
    let total = mailboxes.len();
    Progress::add(&progress.queued, total as u64);
    let plan = delegation.lanes(ceiling_per_account);
    let mut lanes: Vec<VecDeque<Mailbox>> = vec![VecDeque::new(); plan.ceilings.len()];
    let mut rejected: Vec<Line<T>> = Vec::new();
    for text in mailboxes {
        let mailbox = match Mailbox::parse(&text) {
            Ok(mailbox) => mailbox,
            Err(error) => {
                rejected.push(Line {
                    mailbox: text,
                    outcome: Err(LineError::Invalid(error)),
                });
                continue;
            }
        };
        if !mailbox.is_allowed_in(allowed_domains) {
            rejected.push(Line {
                mailbox: text,
                outcome: Err(LineError::NotAllowed {
                    domain: mailbox.domain(),
                }),
            });
            continue;
        }
        let lane = delegation.lane_of(&plan, &mailbox);
        lanes[lane].push_back(mailbox);
    }
    let ceilings = plan.ceilings;
    let (sender, receiver) = mpsc::channel(CHANNEL_LINES);
    let work = Arc::new(work);
    let driver = tokio::spawn(in_caller_span(async move {
        let mut workers = JoinSet::new();
        for (lane, ceiling) in lanes.into_iter().zip(ceilings) {
            let workers_in_lane = ceiling.min(lane.len());
            let lane = Arc::new(Mutex::new(lane));
            for _ in 0..workers_in_lane {
                let lane = lane.clone();
                let sender = sender.clone();
                let work = work.clone();
                let progress = progress.clone();
                workers.spawn(in_caller_span(async move {
                    loop {
                        // A std mutex, held only to pop one mailbox, never across an await.
                        let next = lane.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                        let Some(mailbox) = next else { break };
                        if sender.is_closed() {
                            break;
                        }
                        let in_flight = InFlight::enter(&progress);
                        let outcome = work(mailbox.clone()).await.map_err(LineError::Failed);
                        drop(in_flight);
                        Progress::add(&progress.done, 1);
                        let line = Line {
                            mailbox: mailbox.as_str().to_owned(),
                            outcome,
                        };
                        if sender.send(line).await.is_err() {
                            break;
                        }
                    }
                }));
            }
        }
        for line in rejected {
            Progress::add(&progress.done, 1);
            if sender.send(line).await.is_err() {
                return;
            }
        }
        drop(sender);
        while workers.join_next().await.is_some() {}
    }));
    Batch {
        receiver,
        total,
        driver,
    }
}

/// Runs a spawned task in the caller's span (the API request's, with its id), so that what
/// `exchange` and `transport` log for a batch line names the request.
fn in_caller_span<F: Future>(future: F) -> tracing::instrument::Instrumented<F> {
    future.in_current_span()
}

/// Counts one call in flight for as long as it lives, however the call ends (an aborted task
/// drops it too).
struct InFlight<'a>(&'a Progress);

impl<'a> InFlight<'a> {
    fn enter(progress: &'a Progress) -> InFlight<'a> {
        Progress::add(&progress.in_flight, 1);
        InFlight(progress)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_file_skips_blank_lines_and_comments() {
        let text = "# staff\n a@x.example \n\n  # b@x.example\nc@x.example\r\n";
        assert_eq!(parse_list(text), vec!["a@x.example", "c@x.example"]);
    }

    #[test]
    fn duplicates_in_any_case_are_done_once_in_first_seen_order() {
        let list = [
            "B@x.example",
            "a@x.example",
            " b@X.EXAMPLE ",
            "c@x.example",
            "A@x.example",
        ]
        .map(str::to_owned);
        assert_eq!(
            dedupe(list),
            vec!["B@x.example", "a@x.example", "c@x.example"]
        );
    }
}
