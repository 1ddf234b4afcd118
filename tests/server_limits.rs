//! The API server against hostile and careless clients, through a real `ews-connector serve`
//! process (and, for the metrics flood, the in-process server): idle and slowloris connections
//! beyond `api.max_connections` do not lock out `/healthz`, slow heads and bodies get 408, idle
//! keep-alive connections close, oversized or malformed heads get problem+json answers, and
//! invented methods do not grow `/metrics`.

#![cfg(unix)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::process::{Served, free_port};

const HEADER_READ_TIMEOUT_SECS: u64 = 2;
const IDLE_TIMEOUT_SECS: u64 = 3;
const BODY_READ_TIMEOUT_SECS: u64 = 2;
const MAX_CONNECTIONS: usize = 64;

/// A configuration against an Exchange that is never reached (nothing here needs it).
fn write_config(dir: &Path, port: u16, token_sha256: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("svc.password"), "unused\n").unwrap();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[exchange]
url = "https://127.0.0.1:9/EWS/Exchange.asmx"

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "svc.password"

[api]
listen = "127.0.0.1:{port}"
max_connections = {MAX_CONNECTIONS}
header_read_timeout_secs = {HEADER_READ_TIMEOUT_SECS}
idle_timeout_secs = {IDLE_TIMEOUT_SECS}
body_read_timeout_secs = {BODY_READ_TIMEOUT_SECS}

[[api.clients]]
name = "mytimetable"
token_sha256 = "{token_sha256}"
scopes = ["calendar:delegate"]

[audit]
path = "audit.jsonl"
"#
        ),
    )
    .unwrap();
    path
}

struct Setup {
    served: Served,
    token: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Setup {
    // The test opens several hundred sockets at once.
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (token, token_sha256) = ews_connector::api::token::new_token();
    let config = write_config(dir.path(), port, &token_sha256);
    let served = Served::start(&config, port).await;
    Setup {
        served,
        token,
        _dir: dir,
    }
}

impl Setup {
    fn addr(&self) -> String {
        self.served.base.trim_start_matches("http://").to_owned()
    }
}

/// Reads until the server closes the connection (or `limit` passes); returns what arrived and
/// when the connection ended (`None`: still open at the limit).
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Instant>) {
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return (received, None),
            Ok(Ok(0)) | Ok(Err(_)) => return (received, Some(Instant::now())),
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

/// Splits a whole HTTP answer into its status, lower-cased head and body.
fn parse_answer(bytes: &[u8]) -> (u16, String, serde_json::Value) {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no whole answer: {text:?}"));
    let status = head[9..12].parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    (status, head.to_ascii_lowercase(), body)
}

/// One `/healthz` on a new connection; returns how long it took.
async fn healthz(addr: &str) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_to_close(&mut stream, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "no answer to /healthz within 5 s");
    let (status, _, _) = parse_answer(&answer);
    assert_eq!(status, 200);
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_and_slowloris_clients_beyond_the_cap_neither_lock_out_healthz_nor_stay() {
    let setup = start().await;
    let addr = setup.addr();

    // More idle connections than the cap: they never send a byte.
    let mut idle = Vec::new();
    for _ in 0..MAX_CONNECTIONS + 36 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
    }
    assert!(healthz(&addr).await < Duration::from_secs(1));

    // 500 slowloris clients: a head that never ends, one more header byte every 300 ms.
    let mut slow = Vec::new();
    let mut opened = Vec::new();
    for _ in 0..500 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        opened.push(Instant::now());
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let dribble = tokio::spawn(async move {
        let mut closed_at: Vec<Option<Instant>> = vec![None; slow.len()];
        let mut answers: Vec<Vec<u8>> = vec![Vec::new(); slow.len()];
        let until = Instant::now() + Duration::from_secs(HEADER_READ_TIMEOUT_SECS + 4);
        while Instant::now() < until && closed_at.iter().any(Option::is_none) {
            for (index, stream) in slow.iter_mut().enumerate() {
                if closed_at[index].is_some() {
                    continue;
                }
                let mut buffer = [0u8; 2048];
                match stream.try_read(&mut buffer) {
                    Ok(0) => closed_at[index] = Some(Instant::now()),
                    Ok(read) => answers[index].extend_from_slice(&buffer[..read]),
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                        if stream.write_all(b"a").await.is_err() {
                            closed_at[index] = Some(Instant::now());
                        }
                    }
                    Err(_) => closed_at[index] = Some(Instant::now()),
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        (closed_at, answers)
    });

    // /healthz stays quick throughout.
    let mut slowest = Duration::ZERO;
    let probe_until = Instant::now() + Duration::from_secs(HEADER_READ_TIMEOUT_SECS + 2);
    while Instant::now() < probe_until {
        slowest = slowest.max(healthz(&addr).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        slowest < Duration::from_secs(1),
        "slowest /healthz: {slowest:?}"
    );

    // Every slow client was closed: evicted to make room, or answered 408 once its head had
    // taken header_read_timeout_secs. The margin covers the 300 ms rounds of this test's
    // watcher and a loaded 2-core machine.
    let (closed_at, answers) = dribble.await.unwrap();
    let mut timed_out = 0;
    for ((closed, answer), opened) in closed_at.iter().zip(&answers).zip(&opened) {
        let closed = closed.expect("a slowloris connection still open");
        let lived = closed - *opened;
        assert!(
            lived < Duration::from_secs(HEADER_READ_TIMEOUT_SECS + 2),
            "a slow client lived {lived:?}"
        );
        if !answer.is_empty() {
            let (status, head, body) = parse_answer(answer);
            assert_eq!(status, 408, "{head}");
            assert!(head.contains("content-type: application/problem+json"));
            assert_eq!(body["code"], "request_timeout");
            timed_out += 1;
        }
    }
    // The connections still open when the flood stopped were within the cap and timed out.
    assert!(timed_out > 0, "no slow client reached its header timeout");
    assert!(
        timed_out <= MAX_CONNECTIONS,
        "{timed_out} answered, above the cap"
    );

    // The idle connections are gone too (evicted, or timed out as heads that never started).
    for mut stream in idle {
        let (_, closed) = read_to_close(&mut stream, Duration::from_secs(1)).await;
        assert!(closed.is_some(), "an idle connection is still open");
    }

    let metrics = reqwest::get(format!("{}/metrics", setup.served.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let open: i64 = metric(&metrics, "ews_connector_http_connections_open ");
    assert!(open <= 2, "connections still open: {open}");
    assert!(metric(&metrics, "ews_connector_http_connections_evicted_total ") > 0);
}

fn metric(text: &str, prefix: &str) -> i64 {
    text.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_slow_head_gets_408_after_the_header_timeout_and_an_idle_keep_alive_closes_quietly() {
    let setup = start().await;
    let addr = setup.addr();

    // A head started and never finished: 408 problem+json at header_read_timeout_secs.
    let started = Instant::now();
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_to_close(&mut slow, Duration::from_secs(10)).await;
    let waited = closed.expect("closed") - started;
    assert!(
        waited >= Duration::from_secs(HEADER_READ_TIMEOUT_SECS)
            && waited < Duration::from_secs(HEADER_READ_TIMEOUT_SECS + 2),
        "{waited:?}"
    );
    let (status, head, body) = parse_answer(&answer);
    assert_eq!(status, 408);
    assert!(head.contains("x-request-id: "));
    assert_eq!(body["code"], "request_timeout");
    assert_eq!(body["status"], 408);
    assert!(body["requestId"].is_string());

    // A keep-alive connection that waits for its next request: closed without an answer after
    // idle_timeout_secs (not after the shorter header timeout).
    let mut keep = TcpStream::connect(&addr).await.unwrap();
    keep.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let read = keep.read(&mut buffer).await.unwrap();
    assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    let (rest, closed) = read_to_close(&mut keep, Duration::from_secs(10)).await;
    let idle = closed.expect("closed") - answered;
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(
        idle >= Duration::from_secs(IDLE_TIMEOUT_SECS) - Duration::from_millis(100)
            && idle < Duration::from_secs(IDLE_TIMEOUT_SECS + 2),
        "{idle:?}"
    );
}

#[tokio::test]
async fn oversized_and_malformed_heads_get_problem_answers() {
    let setup = start().await;
    let addr = setup.addr();
    let long_path = format!(
        "GET /{} HTTP/1.1\r\nHost: t\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let mut many_headers = "GET /healthz HTTP/1.1\r\nHost: t\r\n".to_owned();
    for index in 0..200 {
        many_headers.push_str(&format!("X-Header-{index}: v\r\n"));
    }
    many_headers.push_str("\r\n");
    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40 * 1024)
    );
    let cases: [(&[u8], u16, &str); 6] = [
        (long_path.as_bytes(), 414, "uri_too_long"),
        (many_headers.as_bytes(), 431, "headers_too_large"),
        (big_header.as_bytes(), 431, "headers_too_large"),
        (
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Nul: a\0b\r\n\r\n",
            400,
            "invalid_request",
        ),
        (b"HELLO THERE\r\n\r\n", 400, "invalid_request"),
        (
            b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400,
            "invalid_request",
        ),
    ];
    for (request, expected_status, expected_code) in cases {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        // The server may answer and close before it has read everything.
        let _ = stream.write_all(request).await;
        let (answer, closed) = read_to_close(&mut stream, Duration::from_secs(5)).await;
        assert!(closed.is_some(), "{expected_code}: not closed");
        let (status, head, body) = parse_answer(&answer);
        assert_eq!(status, expected_status, "{expected_code}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert_eq!(body["code"], expected_code);
        assert_eq!(body["status"], expected_status);
        assert!(body["requestId"].is_string(), "{body}");
    }

    // A good request after a good one on the same connection still works (the guard finds the
    // next head after a body).
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcdGET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let (answer, _) = read_to_close(&mut stream, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 405"), "{text}");
    assert!(text.contains("HTTP/1.1 200 OK"), "{text}");
}

#[tokio::test]
async fn a_body_that_does_not_arrive_gets_408_not_an_exchange_timeout() {
    let setup = start().await;
    let addr = setup.addr();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(
            format!(
                "PUT /v1/mailboxes/a@contoso.example/calendar/delegation HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"level\":",
                setup.token
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let (answer, closed) = read_to_close(&mut stream, Duration::from_secs(10)).await;
    let waited = closed.expect("closed") - started;
    assert!(
        waited >= Duration::from_secs(BODY_READ_TIMEOUT_SECS)
            && waited < Duration::from_secs(BODY_READ_TIMEOUT_SECS + 2),
        "{waited:?}"
    );
    let (status, head, body) = parse_answer(&answer);
    assert_eq!(status, 408, "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body["code"], "request_timeout");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("api.body_read_timeout_secs")
    );
    assert!(!setup.served.stderr().contains(&setup.token));
}

/// 20,000 requests with invented methods, pipelined on a few keep-alive connections to the
/// in-process server: every one is counted, as `OTHER`, and `/metrics` neither grows past
/// 64 KiB nor gains a series.
#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics() {
    let api = common::api::start_api(common::api::offline_state(common::api::settings())).await;
    let metrics_url = api.url("/metrics");
    let scrape = || async {
        reqwest::get(&metrics_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let series = |text: &str| {
        text.lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .count()
    };
    // One request of an invented method and a scrape first, so every series exists.
    let mut warm = TcpStream::connect(api.addr).await.unwrap();
    warm.write_all(b"BREW0 /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    read_to_close(&mut warm, Duration::from_secs(5)).await;
    scrape().await;
    let before = scrape().await;

    const CONNECTIONS: usize = 4;
    const PER_CONNECTION: usize = 5_000;
    let mut tasks = Vec::new();
    for connection in 0..CONNECTIONS {
        let addr = api.addr;
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut reader, mut writer) = stream.into_split();
            let write = tokio::spawn(async move {
                let mut batch = Vec::new();
                for index in 0..PER_CONNECTION {
                    let close = if index + 1 == PER_CONNECTION {
                        "Connection: close\r\n"
                    } else {
                        ""
                    };
                    batch.extend_from_slice(
                        format!(
                            "X{connection}M{index} /healthz HTTP/1.1\r\nHost: t\r\n{close}\r\n"
                        )
                        .as_bytes(),
                    );
                    if batch.len() > 32 * 1024 {
                        writer.write_all(&batch).await.unwrap();
                        batch.clear();
                    }
                }
                writer.write_all(&batch).await.unwrap();
                // Kept open: a client that half-closes may lose its last answer (hyper closes
                // at end of input).
                writer
            });
            let mut answers = Vec::new();
            reader.read_to_end(&mut answers).await.unwrap();
            drop(write.await.unwrap());
            String::from_utf8_lossy(&answers)
                .matches("HTTP/1.1 405")
                .count()
        }));
    }
    let mut answered = 0;
    for task in tasks {
        answered += task.await.unwrap();
    }
    assert_eq!(answered, CONNECTIONS * PER_CONNECTION);

    let after = scrape().await;
    assert!(after.len() < 64 * 1024, "/metrics is {} bytes", after.len());
    assert_eq!(series(&after), series(&before), "{after}");
    let other = after
        .lines()
        .find(|line| {
            line.starts_with("ews_connector_http_requests_total{")
                && line.contains("method=\"OTHER\"")
                && line.contains("status=\"405\"")
        })
        .expect("the OTHER series");
    let count: u64 = other.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(count, (CONNECTIONS * PER_CONNECTION + 1) as u64);
}
