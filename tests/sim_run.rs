//! `sim::run` (the `ews-connector sim` entry point): loads the state file, refuses non-loopback
//! addresses, and serves until its shutdown future completes.

use std::net::SocketAddr;
use std::path::PathBuf;

use ews_connector::sim::{self, Error, SimOptions};

fn options(listen: &str, state: PathBuf) -> SimOptions {
    SimOptions {
        state,
        listen: listen.parse::<SocketAddr>().unwrap(),
        latency_ms: Some(5),
        max_concurrency: Some(2),
    }
}

fn sample_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sim/sample.toml"
    ))
}

#[tokio::test]
async fn refuses_a_non_loopback_address() {
    let result = sim::run(options("0.0.0.0:0", sample_path()), async {}).await;
    assert!(matches!(result, Err(Error::NotLoopback(_))), "{result:?}");
}

#[tokio::test]
async fn reports_an_unreadable_or_invalid_state_file() {
    let result = sim::run(
        options("127.0.0.1:0", PathBuf::from("/nonexistent/state.toml")),
        async {},
    )
    .await;
    let error = result.unwrap_err();
    assert!(matches!(error, Error::ReadState { .. }));
    assert!(error.to_string().contains("/nonexistent/state.toml"));

    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.toml");
    std::fs::write(&path, "[[accounts]]\nusername = 'X\\y'\npassword = 'Secret-Value-1'\nsmtp = 'y@x.example'\nsurprise = 1\n").unwrap();
    let error = sim::run(options("127.0.0.1:0", path), async {})
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidState(_)));
    assert!(error.to_string().contains("surprise"), "{error}");
    assert!(
        !error.to_string().contains("Secret-Value-1"),
        "passwords never appear in errors"
    );
}

#[tokio::test]
async fn serves_until_shutdown() {
    let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sim::run(
        options("127.0.0.1:0", sample_path()),
        async move {
            let _ = receiver.await;
        },
    ));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(!server.is_finished(), "the simulator keeps serving");
    sender.send(()).unwrap();
    let result = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
}

#[test]
fn state_errors_never_quote_a_password() {
    let error = ews_connector::sim::SimState::from_toml_str(
        "[[accounts]]\nusername = 'X\\y'\nsmtp = 'y@x.example'\npassword = ['Secret-Value-2']\n",
    )
    .unwrap_err();
    assert!(error.to_string().contains("line 4"), "{error}");
    assert!(!error.to_string().contains("Secret-Value-2"), "{error}");
}
