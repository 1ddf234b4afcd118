//! The API's HTTP/1.1 server: the accept loop, the connection cap, per-connection timers and
//! the graceful stop. axum routes the requests; hyper speaks HTTP; this module decides who gets
//! a connection and for how long.
//!
//! - At most `max_connections` client connections are open. At the cap, a new connection takes
//!   the place of the connection that has waited longest without a request in flight (never
//!   sent one, idle between requests, or dribbling a head): so idle or slow clients cannot lock
//!   out `/healthz` or MyTimetable. When every connection has a request in flight, new ones
//!   wait in the listen backlog until one ends.
//! - Every request head is read and checked by [`guard::Guarded`] before hyper sees it
//!   (header-read and idle timeouts, size limits, problem+json refusals).
//! - On shutdown the listener closes, idle connections close at once, and connections with a
//!   request in flight close after its answer; [`run`] waits for them at most the grace period.
//!
//! Invariant: a connection counts against the cap from `accept` until its socket is closed
//! (the permit lives in the connection's task).

pub(crate) mod guard;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::api::problem::ProblemCode;

/// The server's limits (`[api]` in the configuration; the head sizes are fixed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Client connections open at once (`api.max_connections`).
    pub max_connections: usize,
    /// A request head must be complete this long after its first byte, or after the connection
    /// opened for its first request (`api.header_read_timeout_secs`); else 408.
    pub header_read_timeout: Duration,
    /// A connection with no request for this long is closed (`api.idle_timeout_secs`); a client
    /// that stops reading an answer for this long loses its connection too.
    pub idle_timeout: Duration,
    /// A request body must have arrived this long after its head (`api.body_read_timeout_secs`);
    /// else 408.
    pub body_read_timeout: Duration,
    /// The request target's length; longer is 414.
    pub max_uri_bytes: usize,
    /// Header fields in one head; more is 431.
    pub max_header_count: usize,
    /// The whole head's size; larger is 431.
    pub max_head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
            max_uri_bytes: 8 * 1024,
            max_header_count: 100,
            max_head_bytes: 32 * 1024,
        }
    }
}

/// The problem codes a head can be refused with (`http_heads_refused{code}`).
pub(crate) const REFUSAL_CODES: [ProblemCode; 4] = [
    ProblemCode::InvalidRequest,
    ProblemCode::UriTooLong,
    ProblemCode::HeadersTooLarge,
    ProblemCode::RequestTimeout,
];

/// What the server counts, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub open: AtomicU64,
    pub accepted: AtomicU64,
    pub evicted: AtomicU64,
    pub idle_closed: AtomicU64,
    /// Refused heads, one counter per code of [`REFUSAL_CODES`], in its order.
    pub refused: [AtomicU64; REFUSAL_CODES.len()],
}

impl Stats {
    pub(crate) fn refused(&self, code: ProblemCode) {
        let index = REFUSAL_CODES
            .iter()
            .position(|known| *known == code)
            .expect("a head is refused only with one of REFUSAL_CODES");
        self.refused[index].fetch_add(1, Ordering::Relaxed);
    }

    fn idle_closed(&self) {
        self.idle_closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a connection's task, its guard and its requests share.
pub(crate) struct ConnState {
    id: u64,
    opened: Instant,
    /// Requests whose answer has not been written yet.
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` when the last answer was written (0: none yet).
    idle_since_ms: AtomicU64,
    /// Asked to close to make room for a new connection.
    evict: Notify,
    /// The guard's reader, woken when the last request in flight ends so its timers start.
    reader: Mutex<Option<std::task::Waker>>,
    stats: Arc<Stats>,
    registry: Arc<Registry>,
}

impl ConnState {
    fn is_busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0
    }

    fn idle_since(&self) -> Instant {
        self.opened + Duration::from_millis(self.idle_since_ms.load(Ordering::Acquire))
    }

    /// Registers the guard's reader to be woken when the connection stops being busy.
    fn wake_when_idle(&self, waker: &std::task::Waker) {
        let mut reader = self
            .reader
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match &*reader {
            Some(registered) if registered.will_wake(waker) => {}
            _ => *reader = Some(waker.clone()),
        }
    }

    /// A connection of its own, outside any server (unit tests of the guard).
    #[cfg(test)]
    fn detached() -> Arc<ConnState> {
        Arc::new(ConnState {
            id: 0,
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            evict: Notify::new(),
            reader: Mutex::new(None),
            stats: Arc::default(),
            registry: Arc::default(),
        })
    }

    fn begin_request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }
}

/// A request in flight on a connection; dropped when its answer has been written (hyper drops
/// the answer's body then).
struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let conn = &self.0;
        let since = conn.opened.elapsed().as_millis().max(1) as u64;
        conn.idle_since_ms.store(since, Ordering::Release);
        if conn.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            let reader = conn
                .reader
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .take();
            if let Some(reader) = reader {
                reader.wake();
            }
        }
        conn.registry.became_idle.notify_one();
    }
}

/// The open connections, for eviction at the cap.
#[derive(Default)]
struct Registry {
    connections: Mutex<HashMap<u64, Arc<ConnState>>>,
    became_idle: Notify,
    next_id: AtomicU64,
}

impl Registry {
    /// Asks the connection that has waited longest without a request in flight (if any) to
    /// close.
    fn evict_longest_idle(&self) {
        let connections = self
            .connections
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let victim = connections
            .values()
            .filter(|conn| !conn.is_busy())
            .min_by_key(|conn| conn.idle_since());
        if let Some(conn) = victim {
            conn.evict.notify_one();
        }
    }
}

/// A response body that marks its request finished when hyper is done with it.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops as the module comment
/// says, waiting at most `grace` for connections with requests in flight.
///
/// # Errors
/// None today: accept errors (such as running out of file descriptors) are logged and retried.
pub(crate) async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stats: Arc<Stats>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    raise_file_limit(limits.max_connections);
    let registry = Arc::new(Registry::default());
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_sender, stop) = watch::channel(false);
    tokio::pin!(shutdown);
    'accept: loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break 'accept,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // EMFILE and friends: wait a little instead of spinning; the backlog keeps the
                // clients meanwhile.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => loop {
                registry.evict_longest_idle();
                tokio::select! {
                    permit = slots.clone().acquire_owned() => {
                        break permit.expect("the semaphore is never closed");
                    }
                    () = registry.became_idle.notified() => {}
                    () = &mut shutdown => break 'accept,
                }
            },
        };
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(ConnState {
            id: registry.next_id.fetch_add(1, Ordering::Relaxed),
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            evict: Notify::new(),
            reader: Mutex::new(None),
            stats: stats.clone(),
            registry: registry.clone(),
        });
        tokio::spawn(connection(
            stream,
            conn,
            app.clone(),
            limits,
            stop.clone(),
            permit,
        ));
    }
    drop(listener);
    tracing::info!("shutdown requested: no new connections, draining in-flight requests");
    let _ = stop_sender.send(true);
    let all = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    match tokio::time::timeout(grace, slots.acquire_many(all)).await {
        Ok(_) => {}
        Err(_) => tracing::warn!(
            grace_ms = grace.as_millis() as u64,
            "shutdown grace elapsed with requests in flight; abandoning them"
        ),
    }
    Ok(())
}

/// File descriptors besides the client connections: Exchange connections, the audit file, the
/// listener, logs.
const SPARE_FILE_DESCRIPTORS: u64 = 256;

/// Raises the soft limit of open files to the hard limit (as Go's runtime and nginx's
/// `worker_rlimit_nofile` do), and warns when it still does not cover `max_connections`: out of
/// descriptors, neither clients nor Exchange can be reached.
fn raise_file_limit(max_connections: usize) {
    let needed = max_connections as u64 + SPARE_FILE_DESCRIPTORS;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < needed => tracing::warn!(
            limit,
            needed,
            "the open-files limit is below api.max_connections plus {SPARE_FILE_DESCRIPTORS}: raise it (systemd: LimitNOFILE=65536) or lower api.max_connections"
        ),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "cannot read or raise the open-files limit"),
    }
}

/// One client connection, from accept to close.
async fn connection(
    stream: TcpStream,
    conn: Arc<ConnState>,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    conn.stats.open.fetch_add(1, Ordering::Relaxed);
    conn.registry
        .connections
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .insert(conn.id, conn.clone());
    let io = TokioIo::new(guard::Guarded::new(stream, conn.clone(), limits));
    let requests = conn.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_flight = requests.begin_request();
        let app = app.clone();
        async move {
            let response = app.oneshot(request.map(Body::new)).await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                Body::new(Tracked {
                    body,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        // The guard times heads; hyper's own timer would also close idle keep-alive
        // connections early.
        .header_read_timeout(None)
        .max_headers(limits.max_header_count);
    let served = builder.serve_connection(io, service);
    tokio::pin!(served);
    let mut stopping = *stop.borrow();
    if stopping {
        served.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "client connection ended with an error");
                }
                break;
            }
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    stopping = true;
                    served.as_mut().graceful_shutdown();
                }
            }
            () = conn.evict.notified() => {
                if !conn.is_busy() {
                    tracing::debug!("closing the longest-idle connection to make room for a new one");
                    conn.stats.evicted.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
    conn.registry
        .connections
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .remove(&conn.id);
    conn.stats.open.fetch_sub(1, Ordering::Relaxed);
}
