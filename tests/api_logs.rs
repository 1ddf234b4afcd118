//! The request log: one span per request carrying the request id, the matched route template,
//! the client's name, the status and the latency; never the token.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, header};

use common::api::{CHECK_TOKEN, offline_state, oneshot, settings};

/// A `MakeWriter` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn each_request_logs_its_id_route_client_status_and_latency_but_no_token() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buffer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let state = offline_state(settings());
    let request = Request::get("/v1/mailboxes/not-an-address/calendar/access")
        .header(header::AUTHORIZATION, format!("Bearer {CHECK_TOKEN}"))
        .header("x-request-id", "log-test-1")
        .body(Body::empty())
        .unwrap();
    let response = oneshot(&state, request).await;
    assert_eq!(response.status(), 400);

    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let finished = text
        .lines()
        .find(|line| line.contains("request finished"))
        .unwrap_or_else(|| panic!("no request line in:\n{text}"));
    for needle in [
        "request_id=log-test-1",
        "route=/v1/mailboxes/{mailbox}/calendar/access",
        "client=\"checker\"",
        "status=400",
        "latency_ms=",
    ] {
        assert!(finished.contains(needle), "{needle} missing in: {finished}");
    }
    assert!(!text.contains(CHECK_TOKEN), "the token was logged:\n{text}");
}

/// Runs `request` through the router with the production JSON log format at debug level and
/// returns the status, the body and every log line the connector (not the simulator) wrote.
async fn logged_json(
    state: &ews_connector::api::AppState,
    request: Request<Body>,
) -> (u16, String, Vec<serde_json::Value>) {
    let buffer = Buffer::default();
    let subscriber = ews_connector::logging::subscriber(
        ews_connector::config::LogFormat::Json,
        "debug",
        buffer.clone(),
        false,
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let response = oneshot(state, request).await;
    let status = response.status().as_u16();
    // Collecting the body polls an NDJSON stream to its end, as hyper would.
    let body = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines = text
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|error| panic!("not one JSON object per line ({error}): {line}"))
        })
        .filter(|line| {
            !line["target"]
                .as_str()
                .unwrap_or("")
                .starts_with("ews_connector::sim")
        })
        .collect();
    (status, String::from_utf8_lossy(&body).into_owned(), lines)
}

/// The request id a JSON line carries in its spans, if any.
fn request_id_of(line: &serde_json::Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find_map(|span| span["request_id"].as_str())
}

fn assert_every_line_names(lines: &[serde_json::Value], request_id: &str, secrets: &[&str]) {
    assert!(!lines.is_empty());
    for line in lines {
        assert_eq!(
            request_id_of(line),
            Some(request_id),
            "a line without the request id: {line}"
        );
        let text = line.to_string();
        for secret in secrets {
            assert!(!text.contains(secret), "a secret was logged: {text}");
        }
        // No NTLM message (base64 of "NTLMSSP") and no Authorization value.
        assert!(
            !text.contains("TlRMTVNT"),
            "an NTLM token was logged: {text}"
        );
    }
    // Lines from deep down (the NTLM handshake, connections) carry it too.
    for target in ["ews_connector::transport", "ews_connector::api"] {
        assert!(
            lines
                .iter()
                .any(|line| line["target"].as_str().unwrap().starts_with(target)),
            "no line from {target}: the test would prove nothing about it"
        );
    }
}

#[tokio::test]
async fn json_logs_of_a_grant_carry_its_request_id_on_every_line_and_no_secret() {
    use common::api::{Backend, DELEGATE_TOKEN, state};
    use common::sim::{SVC_PASSWORD, sample_state, start_sim};

    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit);
    let state = state(settings(), &backend);
    let request = Request::put("/v1/mailboxes/plain@contoso.example/calendar/delegation")
        .header(header::AUTHORIZATION, format!("Bearer {DELEGATE_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", "grant-log-1")
        .body(Body::from(r#"{"level": "Editor"}"#))
        .unwrap();
    let (status, body, lines) = logged_json(&state, request).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"changed\":true"), "{body}");
    assert_every_line_names(&lines, "grant-log-1", &[SVC_PASSWORD, DELEGATE_TOKEN]);
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "request finished"
                && line["span"]["request_id"] == "grant-log-1"),
        "the request line names the request"
    );
}

#[tokio::test]
async fn json_logs_of_a_streamed_batch_carry_its_request_id_on_every_line() {
    use common::api::{BOTH_TOKEN, Backend, state};
    use common::sim::{SVC_PASSWORD, sample_state, start_sim};

    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let mut backend = Backend::new(&sim.url, SVC_PASSWORD);
    backend.audit = Some(&audit);
    let state = state(settings(), &backend);
    let mailboxes = [
        "plain@contoso.example",
        "granted@contoso.example",
        "nobody@contoso.example",
        "ceo@contoso.example",
    ];
    let request = Request::post("/v1/calendar/delegation:batch")
        .header(header::AUTHORIZATION, format!("Bearer {BOTH_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", "batch-log-1")
        .body(Body::from(
            serde_json::json!({"mailboxes": mailboxes, "level": "Editor"}).to_string(),
        ))
        .unwrap();
    let (status, body, lines) = logged_json(&state, request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.lines().count(), mailboxes.len() + 1, "{body}");
    assert!(
        lines
            .iter()
            .any(|line| line["fields"]["message"] == "batch line failed"),
        "a failed line is logged while the body streams: {lines:#?}"
    );
    assert_every_line_names(&lines, "batch-log-1", &[SVC_PASSWORD, BOTH_TOKEN]);
}

#[tokio::test]
async fn json_logs_of_a_batch_check_carry_its_request_id_from_every_worker() {
    use common::api::{BOTH_TOKEN, Backend, state};
    use common::sim::{SVC_PASSWORD, sample_state, start_sim};

    let sim = start_sim(&sample_state()).await;
    let state = state(settings(), &Backend::new(&sim.url, SVC_PASSWORD));
    // Checks carry no actor, so only the request's span can name the request in the workers.
    let mailboxes: Vec<String> = ["plain", "granted", "reviewer", "nobody", "moving"]
        .iter()
        .map(|user| format!("{user}@contoso.example"))
        .collect();
    let request = Request::post("/v1/calendar/access:batch")
        .header(header::AUTHORIZATION, format!("Bearer {BOTH_TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", "batch-check-log-1")
        .body(Body::from(
            serde_json::json!({"mailboxes": mailboxes}).to_string(),
        ))
        .unwrap();
    let (status, body, lines) = logged_json(&state, request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.lines().count(), mailboxes.len() + 1, "{body}");
    assert_every_line_names(&lines, "batch-check-log-1", &[SVC_PASSWORD, BOTH_TOKEN]);
}
