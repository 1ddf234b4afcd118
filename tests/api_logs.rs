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
