//! [`Guarded`]: the client connection as hyper sees it, with every request head read, checked
//! and timed here first.
//!
//! Hyper answers a head it cannot parse with an empty 400, 414 or 431 and has no timer for a
//! client that never finishes its head. So the guard reads each head itself (with `httparse`,
//! the parser hyper uses), holds it back until it is whole, and hands it to hyper only when it
//! is within the limits. A head over a limit, a malformed one, or one that takes longer than
//! `header_read_timeout` is refused with a problem+json answer written here, after whatever
//! hyper is still writing, and the connection closes: hyper itself sees a clean end of input.
//!
//! Bodies pass through uncounted but for their framing: `Content-Length` bytes, after which the
//! next head is read; a chunked body is passed on to the end of the connection, and hyper is
//! told to close the connection after that request (`Connection: close` added to its head), so
//! no head ever reaches hyper unchecked.
//!
//! Timers run only while no request is in flight on the connection ([`ConnState::is_busy`]):
//! a head must be complete `header_read_timeout` after its first byte (or after the connection
//! opened, for the first request), and a connection that waits for its next request longer than
//! `idle_timeout` is closed without an answer. A client that stops reading a response for
//! `idle_timeout` has its connection closed too.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::{ConnState, Limits};
use crate::api::problem::{Problem, ProblemCode};

/// Why a head was refused: the answer's problem code and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: ProblemCode,
    pub detail: String,
}

impl Refusal {
    fn new(code: ProblemCode, detail: impl Into<String>) -> Refusal {
        Refusal {
            code,
            detail: detail.into(),
        }
    }
}

/// What follows a head that was let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body: the next bytes are the next head.
    None,
    /// A body of this many bytes, then the next head.
    Length(u64),
    /// Everything to the end of the connection goes to hyper (chunked bodies, CONNECT).
    ToTheEnd,
}

/// A checked head: the bytes to give hyper (the head as received, or with `Connection: close`
/// added) and what follows it.
#[derive(Debug)]
pub(crate) struct Head {
    pub bytes: Bytes,
    pub framing: Framing,
}

/// Checks the head at the start of `input`.
///
/// `Ok(None)`: not complete yet, and still within the limits. `Ok(Some((head, used)))`: a head
/// of `used` bytes. `Err`: refuse it.
pub(crate) fn check_head(input: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, Refusal> {
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_header_count];
    let mut request = httparse::Request::new(&mut headers);
    let status = request.parse(input);
    let used = match status {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) => {
            return match partial_refusal(input, limits) {
                Some(refusal) => Err(refusal),
                None => Ok(None),
            };
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Refusal::new(
                ProblemCode::HeadersTooLarge,
                format!(
                    "the request has more than {} header fields",
                    limits.max_header_count
                ),
            ));
        }
        Err(error) => return Err(parse_refusal(input, error, limits)),
    };
    let path = request.path.unwrap_or("");
    if path.len() > limits.max_uri_bytes {
        return Err(uri_too_long(limits));
    }
    if used > limits.max_head_bytes {
        return Err(head_too_large(limits));
    }
    if path.parse::<http::Uri>().is_err() {
        return Err(Refusal::new(
            ProblemCode::InvalidRequest,
            "the request target is not a valid URI",
        ));
    }
    let method = request.method.unwrap_or("");
    if http::Method::from_bytes(method.as_bytes()).is_err() {
        return Err(Refusal::new(
            ProblemCode::InvalidRequest,
            "the method is not a token",
        ));
    }
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut transfer_encoding = false;
    for header in request.headers.iter() {
        if http::HeaderName::from_bytes(header.name.as_bytes()).is_err()
            || http::HeaderValue::from_bytes(header.value).is_err()
        {
            return Err(Refusal::new(
                ProblemCode::InvalidRequest,
                "a header field's name or value holds characters HTTP does not allow",
            ));
        }
        if header.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value).unwrap_or("").trim();
            let parsed = (!value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()))
                .then(|| value.parse::<u64>().ok())
                .flatten();
            match (parsed, length) {
                (None, _) => {
                    return Err(Refusal::new(
                        ProblemCode::InvalidRequest,
                        "Content-Length is not a number of bytes",
                    ));
                }
                (Some(value), Some(earlier)) if value != earlier => {
                    return Err(Refusal::new(
                        ProblemCode::InvalidRequest,
                        "Content-Length is given twice with different values",
                    ));
                }
                (Some(value), _) => length = Some(value),
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = true;
            let value = String::from_utf8_lossy(header.value);
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    let framing = if transfer_encoding {
        if length.is_some() {
            return Err(Refusal::new(
                ProblemCode::InvalidRequest,
                "a request may not carry both Transfer-Encoding and Content-Length",
            ));
        }
        if !chunked {
            return Err(Refusal::new(
                ProblemCode::InvalidRequest,
                "the last transfer coding of a request body must be chunked",
            ));
        }
        Framing::ToTheEnd
    } else if method.eq_ignore_ascii_case("CONNECT") {
        Framing::ToTheEnd
    } else {
        match length {
            Some(0) | None => Framing::None,
            Some(length) => Framing::Length(length),
        }
    };
    let bytes = if framing == Framing::ToTheEnd {
        // The head ends with an empty line; the added field goes before it.
        let mut head = BytesMut::with_capacity(used + 20);
        let end = if input[..used].ends_with(b"\r\n\r\n") {
            used - 2
        } else {
            used - 1
        };
        head.put_slice(&input[..end]);
        head.put_slice(b"connection: close\r\n\r\n");
        head.freeze()
    } else {
        Bytes::copy_from_slice(&input[..used])
    };
    Ok(Some((Head { bytes, framing }, used)))
}

fn uri_too_long(limits: &Limits) -> Refusal {
    Refusal::new(
        ProblemCode::UriTooLong,
        format!(
            "the request target is longer than {} bytes",
            limits.max_uri_bytes
        ),
    )
}

fn head_too_large(limits: &Limits) -> Refusal {
    Refusal::new(
        ProblemCode::HeadersTooLarge,
        format!(
            "the request's header section is larger than {} bytes",
            limits.max_head_bytes
        ),
    )
}

/// An incomplete head that is already over a limit.
fn partial_refusal(input: &[u8], limits: &Limits) -> Option<Refusal> {
    let line_end = input.iter().position(|&byte| byte == b'\n');
    let request_line = line_end.map_or(input.len(), |end| end);
    // The request line holds the method and version besides the target.
    if request_line > limits.max_uri_bytes + 64 {
        return Some(uri_too_long(limits));
    }
    (input.len() > limits.max_head_bytes).then(|| head_too_large(limits))
}

fn parse_refusal(input: &[u8], error: httparse::Error, limits: &Limits) -> Refusal {
    let line_end = input.iter().position(|&byte| byte == b'\n');
    if line_end.is_none_or(|end| end > limits.max_uri_bytes + 64)
        && input.len() > limits.max_uri_bytes
    {
        return uri_too_long(limits);
    }
    let what = match error {
        httparse::Error::HeaderName => "a header field's name is not valid",
        httparse::Error::HeaderValue => {
            "a header field's value holds a character HTTP does not allow"
        }
        httparse::Error::NewLine => "a line of the head does not end properly",
        httparse::Error::Status | httparse::Error::Token => "the request line is not valid",
        httparse::Error::Version => "the request line does not end with HTTP/1.0 or HTTP/1.1",
        httparse::Error::TooManyHeaders => "the request has too many header fields",
    };
    Refusal::new(ProblemCode::InvalidRequest, what)
}

/// The bytes of a refusal: a whole HTTP/1.1 answer with a problem+json body, closing the
/// connection.
pub(crate) fn refusal_response(refusal: &Refusal) -> Bytes {
    let request_id = crate::ids::next_ulid().to_string();
    let mut problem = Problem::new(refusal.code, refusal.detail.clone());
    problem.request_id = Some(request_id.clone());
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let status =
        http::StatusCode::from_u16(problem.status).unwrap_or(http::StatusCode::BAD_REQUEST);
    let mut bytes = BytesMut::with_capacity(body.len() + 256);
    bytes.put_slice(
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: {request_id}\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error"),
            body.len()
        )
        .as_bytes(),
    );
    bytes.put_slice(&body);
    bytes.freeze()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Collecting the next head in `input`.
    Head,
    /// Passing on this many more body bytes.
    Body(u64),
    /// Passing on everything.
    ToTheEnd,
}

/// Why the head timer ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// The head was not complete in time: 408.
    SlowHead,
    /// Nothing arrived in time after the last answer: close quietly.
    Idle,
}

/// The client connection as hyper reads and writes it (see the module comment).
pub(crate) struct Guarded<S> {
    io: S,
    conn: std::sync::Arc<ConnState>,
    limits: Limits,
    reading: Reading,
    /// Bytes read from the client and not yet checked or handed on.
    input: BytesMut,
    /// How much of `input` was already searched for the end of a head.
    scanned: usize,
    /// Checked bytes waiting for hyper.
    output: Bytes,
    /// No head completed yet on this connection.
    first: bool,
    /// When the first byte of the head being collected arrived.
    head_started: Option<Instant>,
    /// The head timer, set to `deadline`.
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
    /// The client ended its input (it may still read answers).
    client_done: bool,
    /// Hyper is told the input ended (after a refusal, a time-out or the client's end).
    ended: bool,
    /// The refusal answer still to be written before the connection closes.
    refusal: Option<Bytes>,
    /// Set while a write to the client makes no progress.
    write_stall: Option<Pin<Box<Sleep>>>,
}

impl<S> Guarded<S> {
    pub(crate) fn new(io: S, conn: std::sync::Arc<ConnState>, limits: Limits) -> Guarded<S> {
        Guarded {
            io,
            conn,
            limits,
            reading: Reading::Head,
            input: BytesMut::new(),
            scanned: 0,
            output: Bytes::new(),
            first: true,
            head_started: None,
            timer: None,
            client_done: false,
            ended: false,
            refusal: None,
            write_stall: None,
        }
    }

    /// Moves what `input` allows into `output`; sets `ended` on a refusal. Returns whether it
    /// made progress.
    fn advance(&mut self) -> bool {
        match self.reading {
            Reading::Head => {
                if self.input.len() <= self.scanned {
                    return false;
                }
                // Parse only once the head can be whole (an empty line arrived), so a head sent
                // a byte at a time costs one scan of each byte, not one parse per byte.
                let from = self.scanned.saturating_sub(2);
                let whole = self.input[from..]
                    .windows(2)
                    .any(|pair| pair == b"\n\n" || pair == b"\n\r");
                self.scanned = self.input.len();
                if !whole {
                    return match partial_refusal(&self.input, &self.limits) {
                        Some(refusal) => {
                            self.refuse(&refusal);
                            true
                        }
                        None => false,
                    };
                }
                match check_head(&self.input, &self.limits) {
                    Ok(None) => false,
                    Ok(Some((head, used))) => {
                        self.input.advance(used);
                        self.scanned = 0;
                        self.output = head.bytes;
                        self.first = false;
                        self.head_started = None;
                        self.timer = None;
                        self.reading = match head.framing {
                            Framing::None => Reading::Head,
                            Framing::Length(length) => Reading::Body(length),
                            Framing::ToTheEnd => Reading::ToTheEnd,
                        };
                        if self.reading == Reading::Head && !self.input.is_empty() {
                            self.head_started = Some(Instant::now());
                        }
                        true
                    }
                    Err(refusal) => {
                        self.refuse(&refusal);
                        true
                    }
                }
            }
            Reading::Body(remaining) => {
                if self.input.is_empty() {
                    return false;
                }
                let take = self
                    .input
                    .len()
                    .min(remaining.try_into().unwrap_or(usize::MAX));
                self.scanned = 0;
                self.output = self.input.split_to(take).freeze();
                let left = remaining - take as u64;
                self.reading = if left == 0 {
                    if !self.input.is_empty() {
                        self.head_started = Some(Instant::now());
                    }
                    Reading::Head
                } else {
                    Reading::Body(left)
                };
                true
            }
            Reading::ToTheEnd => {
                if self.input.is_empty() {
                    return false;
                }
                self.output = self.input.split().freeze();
                true
            }
        }
    }

    fn refuse(&mut self, refusal: &Refusal) {
        tracing::debug!(code = refusal.code.as_str(), detail = %refusal.detail, "request head refused");
        self.conn.stats.refused(refusal.code);
        self.refusal = Some(refusal_response(refusal));
        self.input.clear();
        self.ended = true;
    }

    /// When the head being collected must be complete, and what it means when it is not.
    fn deadline(&self) -> Option<(Instant, Expiry)> {
        if self.reading != Reading::Head || self.conn.is_busy() {
            return None;
        }
        let idle_since = self.conn.idle_since();
        if let Some(started) = self.head_started {
            return Some((
                started.max(idle_since) + self.limits.header_read_timeout,
                Expiry::SlowHead,
            ));
        }
        if self.first {
            return Some((
                idle_since + self.limits.header_read_timeout,
                Expiry::SlowHead,
            ));
        }
        Some((idle_since + self.limits.idle_timeout, Expiry::Idle))
    }

    /// Polls the head timer; `Some` when it ran out.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Option<Expiry> {
        if self.reading == Reading::Head && self.conn.is_busy() {
            // Hyper may read ahead while an answer is still being written; the timers start
            // when it is done, so be woken then.
            self.conn.wake_when_idle(cx.waker());
        }
        let Some((deadline, expiry)) = self.deadline() else {
            self.timer = None;
            return None;
        };
        match &mut self.timer {
            Some((set, sleep)) if *set == deadline => {
                if sleep.as_mut().poll(cx).is_ready() {
                    return Some(expiry);
                }
            }
            _ => {
                let mut sleep = Box::pin(tokio::time::sleep_until(deadline));
                if sleep.as_mut().poll(cx).is_ready() {
                    return Some(expiry);
                }
                self.timer = Some((deadline, sleep));
            }
        }
        None
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.output.is_empty() {
                let take = this.output.len().min(buf.remaining());
                buf.put_slice(&this.output.split_to(take));
                return Poll::Ready(Ok(()));
            }
            if this.ended {
                return Poll::Ready(Ok(()));
            }
            if this.advance() {
                continue;
            }
            if this.client_done {
                // Whatever is left is an unfinished head: dropped.
                this.ended = true;
                continue;
            }
            if let Some(expiry) = this.poll_timer(cx) {
                match expiry {
                    Expiry::SlowHead => {
                        let waited = this.limits.header_read_timeout.as_secs();
                        this.refuse(&Refusal::new(
                            ProblemCode::RequestTimeout,
                            format!("the request head did not arrive within {waited} s"),
                        ));
                    }
                    Expiry::Idle => {
                        tracing::debug!("closing a connection idle past api.idle_timeout_secs");
                        this.conn.stats.idle_closed();
                        this.ended = true;
                    }
                }
                continue;
            }
            if this.input.capacity() - this.input.len() < 4096 {
                this.input.reserve(8192);
            }
            let spare = this.input.spare_capacity_mut();
            let mut read = ReadBuf::uninit(spare);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            let filled = read.filled().len();
            if filled == 0 {
                // The client's end of input; the heads it sent before still go to hyper.
                this.client_done = true;
                continue;
            }
            // SAFETY: `filled` bytes of the spare capacity were initialized by the read.
            unsafe { this.input.set_len(this.input.len() + filled) };
            if this.reading == Reading::Head && this.head_started.is_none() {
                this.head_started = Some(Instant::now());
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> Guarded<S> {
    /// Fails a write that has made no progress for `idle_timeout`: a client that does not read
    /// its answers does not keep a connection forever.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let timeout: Duration = self.limits.idle_timeout;
        let sleep = self
            .write_stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client did not read the answer within api.idle_timeout_secs",
        ))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.write_stall = None;
                Poll::Ready(result)
            }
            Poll::Pending => this.stalled(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                this.write_stall = None;
                Poll::Ready(result)
            }
            Poll::Pending => this.stalled(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    /// Writes a pending refusal (after everything hyper wrote), then closes.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while let Some(refusal) = &mut this.refusal {
            if refusal.is_empty() {
                this.refusal = None;
                ready!(Pin::new(&mut this.io).poll_flush(cx))?;
                break;
            }
            let written = match Pin::new(&mut this.io).poll_write(cx, refusal) {
                Poll::Ready(result) => {
                    this.write_stall = None;
                    result?
                }
                Poll::Pending => return this.stalled(cx).map(Err),
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            refusal.advance(written);
        }
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn check(input: &str) -> Result<Option<(Head, usize)>, Refusal> {
        check_head(input.as_bytes(), &limits())
    }

    fn code(input: &str) -> &'static str {
        check(input).expect_err("refused").code.as_str()
    }

    #[test]
    fn a_plain_head_passes_unchanged_with_its_framing() {
        let input = "PUT /v1/x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n{\"level\":1}";
        let (head, used) = check(input).unwrap().unwrap();
        assert_eq!(&head.bytes[..], &input.as_bytes()[..used]);
        assert_eq!(head.framing, Framing::Length(12));
        let (head, _) = check("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.framing, Framing::None);
    }

    #[test]
    fn an_unfinished_head_waits_until_it_is_over_a_limit() {
        assert!(
            check("GET /healthz HTTP/1.1\r\nHost: a\r\n")
                .unwrap()
                .is_none()
        );
        assert!(check("GET /healthz HT").unwrap().is_none());
        let long_target = format!("GET /{}", "a".repeat(9000));
        assert_eq!(code(&long_target), "uri_too_long");
        let many_bytes = format!("GET / HTTP/1.1\r\nX-A: {}", "b".repeat(40_000));
        assert_eq!(code(&many_bytes), "headers_too_large");
    }

    #[test]
    fn limits_give_their_own_codes() {
        let long = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(9000));
        assert_eq!(code(&long), "uri_too_long");
        let mut many = "GET / HTTP/1.1\r\n".to_owned();
        for index in 0..101 {
            many.push_str(&format!("X-{index}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(code(&many), "headers_too_large");
        let big = format!("GET / HTTP/1.1\r\nX-A: {}\r\n\r\n", "b".repeat(33_000));
        assert_eq!(code(&big), "headers_too_large");
    }

    #[test]
    fn malformed_heads_are_invalid_requests() {
        for input in [
            "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
            "GET / HTTP/9.9\r\n\r\n",
            "G\u{1}T / HTTP/1.1\r\n\r\n",
            "GARBAGE\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        ] {
            assert_eq!(code(input), "invalid_request", "{input:?}");
        }
    }

    #[test]
    fn a_chunked_request_closes_the_connection_after_it() {
        let (head, used) = check("POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.framing, Framing::ToTheEnd);
        assert_eq!(
            used,
            "POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".len()
        );
        assert_eq!(
            &head.bytes[..],
            b"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nconnection: close\r\n\r\n"
        );
    }

    /// What hyper would read from a guarded connection that receives `pieces` one after the
    /// other, the client then ending its input.
    async fn through_guard(pieces: Vec<Vec<u8>>) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let (client, server) = tokio::io::duplex(1 << 20);
        let mut guarded = Guarded::new(server, super::super::ConnState::detached(), limits());
        let feeder = tokio::spawn(async move {
            let mut client = client;
            for piece in pieces {
                tokio::io::AsyncWriteExt::write_all(&mut client, &piece)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
            tokio::io::AsyncWriteExt::shutdown(&mut client)
                .await
                .unwrap();
            client
        });
        let mut seen = Vec::new();
        guarded.read_to_end(&mut seen).await.unwrap();
        drop(feeder.await.unwrap());
        seen
    }

    #[tokio::test]
    async fn a_head_sent_a_byte_at_a_time_reaches_hyper_whole() {
        let request = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: b\r\n\r\n".to_vec();
        let pieces = request.iter().map(|byte| vec![*byte]).collect();
        assert_eq!(through_guard(pieces).await, request);
    }

    #[tokio::test]
    async fn pipelined_requests_with_bodies_pass_in_order_and_an_unfinished_head_is_dropped() {
        let stream = b"PUT /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\
GET /b HTTP/1.1\r\n\r\n\
POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /unfinished HTTP/1.1\r\nHo"
            .to_vec();
        let pieces = stream.chunks(7).map(<[u8]>::to_vec).collect();
        let seen = through_guard(pieces).await;
        let whole = stream.len() - b"GET /unfinished HTTP/1.1\r\nHo".len();
        assert_eq!(seen, &stream[..whole]);
    }

    #[tokio::test]
    async fn a_refused_head_ends_the_input_and_nothing_after_it_reaches_hyper() {
        let seen = through_guard(vec![
            b"GET /ok HTTP/1.1\r\n\r\n".to_vec(),
            b"GET /bad HTTP/1.1\r\nX: a\0b\r\n\r\nGET /after HTTP/1.1\r\n\r\n".to_vec(),
        ])
        .await;
        assert_eq!(seen, b"GET /ok HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn a_refusal_is_a_whole_problem_answer() {
        let bytes = refusal_response(&Refusal::new(ProblemCode::UriTooLong, "too long"));
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("connection: close"));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["code"], "uri_too_long");
        assert_eq!(problem["status"], 414);
        assert!(head.contains(problem["requestId"].as_str().unwrap()));
    }
}
