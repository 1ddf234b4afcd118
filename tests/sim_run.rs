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

const GRAPH_CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const GRAPH_SECRET: &str = "Gr4ph~S3cret.Value_0123456789";

fn graph_sample_path() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sim/graph/sample.toml"
    ))
}

/// A token source and a Graph client for the simulator at `base` (its token URL names the
/// sample tenant).
fn graph_client(
    base: &str,
    credential: ews_connector::graph::auth::Credential,
) -> ews_connector::graph::client::GraphClient {
    use ews_connector::graph::{auth, client};
    let tokens = auth::TokenSource::new(
        auth::Settings {
            token_url: format!("{base}/uni.onmicrosoft.com/oauth2/v2.0/token")
                .parse()
                .unwrap(),
            scope: "https://graph.microsoft.com/.default".to_owned(),
            client_id: GRAPH_CLIENT.to_owned(),
            timeout: std::time::Duration::from_secs(10),
            ca_file: None,
            accept_invalid_certs: false,
        },
        credential,
    )
    .unwrap();
    client::GraphClient::new(
        client::Settings {
            endpoint: base.parse().unwrap(),
            max_concurrency: 8,
            timeout: std::time::Duration::from_secs(10),
            retry_budget: std::time::Duration::ZERO,
            ca_file: None,
            accept_invalid_certs: false,
        },
        std::sync::Arc::new(tokens),
    )
    .unwrap()
}

/// `sim --graph-tenant`: the real binary serves both simulators, prints the Graph one's
/// address, applies `--latency-ms` to Graph too, and stops on SIGTERM.
#[tokio::test]
async fn the_sim_command_serves_a_graph_tenant_beside_the_ews_simulator() {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ews-connector"))
        .arg("sim")
        .arg("--state")
        .arg(sample_path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--latency-ms",
            "40",
            "--graph-tenant",
        ])
        .arg(graph_sample_path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut graph, mut ews) = (None, None);
    while graph.is_none() || ews.is_none() {
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
            .await
            .expect("the simulators print their addresses")
            .unwrap()
            .expect("stdout stays open");
        if let Some(rest) = line.strip_prefix("graph listening on ") {
            let base = rest.split_whitespace().next().unwrap().to_owned();
            assert!(
                rest.contains(&format!("{base}/uni.onmicrosoft.com/oauth2/v2.0/token")),
                "{line}"
            );
            graph = Some(base);
        } else if let Some(url) = line.strip_prefix("listening on ") {
            ews = Some(url.to_owned());
        }
    }
    let (graph, ews) = (graph.unwrap(), ews.unwrap());
    assert!(graph.starts_with("http://127.0.0.1:"), "{graph}");
    assert!(ews.starts_with("http://127.0.0.1:") && ews.ends_with("/EWS/Exchange.asmx"));
    assert_ne!(
        graph.split(':').nth(2),
        ews.split(':').nth(2).map(|p| p.split('/').next().unwrap())
    );

    // The tenant's client secret gets a token; its cloud mailbox answers, after the latency.
    let client = graph_client(
        &graph,
        ews_connector::graph::auth::Credential::Secret(ews_connector::secret::Secret::new(
            GRAPH_SECRET,
        )),
    );
    let path = ["users", "student1@uni.example", "calendar"];
    let started = std::time::Instant::now();
    let calendar: serde_json::Value = client.get("student1@uni.example", &path).await.unwrap();
    assert_eq!(calendar["canEdit"], true, "{calendar}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(40),
        "--latency-ms applies to Graph too: {:?}",
        started.elapsed()
    );
    let refused = client
        .get::<serde_json::Value>(
            "board@uni.example",
            &["users", "board@uni.example", "calendar"],
        )
        .await
        .unwrap_err();
    assert_eq!(refused.graph_error_code(), Some("ErrorAccessDenied"));
    // The EWS simulator listens too.
    let address = ews
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    tokio::net::TcpStream::connect(address).await.unwrap();

    let pid = child.id().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("sim stops on SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// A tenant file's `certificates` (PEM paths relative to it) are registered for the
/// application: an assertion signed with the key gets a token. Bad entries name the file.
#[tokio::test]
async fn a_tenant_file_registers_its_certificates_and_refuses_unusable_ones() {
    use ews_connector::cli::offline::{SimError, load_graph_tenant};
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=sim-tenant"])
        .arg("-keyout")
        .arg(dir.path().join("app.key"))
        .arg("-out")
        .arg(dir.path().join("app.crt"))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let sample = std::fs::read_to_string(graph_sample_path()).unwrap();
    let tenant = dir.path().join("tenant.toml");
    std::fs::write(&tenant, format!("certificates = [\"app.crt\"]\n{sample}")).unwrap();

    let config = load_graph_tenant(&tenant, Some(7)).unwrap();
    assert_eq!(config.certificates.len(), 1);
    assert_eq!(config.latency, std::time::Duration::from_millis(7));
    let handle = ews_connector::sim::graph::start(config).await.unwrap();
    let pem = format!(
        "{}{}",
        std::fs::read_to_string(dir.path().join("app.crt")).unwrap(),
        std::fs::read_to_string(dir.path().join("app.key")).unwrap()
    );
    let certificate =
        ews_connector::graph::auth::CertificateCredential::from_pem(pem.as_bytes()).unwrap();
    let client = graph_client(
        &handle.base_url(),
        ews_connector::graph::auth::Credential::Certificate(std::sync::Arc::new(certificate)),
    );
    let calendar: serde_json::Value = client
        .get(
            "student1@uni.example",
            &["users", "student1@uni.example", "calendar"],
        )
        .await
        .unwrap();
    assert_eq!(calendar["canEdit"], true);
    assert_eq!(handle.stats().tokens_issued, 1);

    for (entry, wanted) in [
        ("certificates = [\"missing.crt\"]", "missing.crt"),
        ("certificates = [\"app.key\"]", "holds no CERTIFICATE block"),
        (
            "certificates = \"app.crt\"",
            "certificates must list PEM file paths",
        ),
        ("surprise = 1", "surprise"),
    ] {
        std::fs::write(&tenant, format!("{entry}\n{sample}")).unwrap();
        let error = load_graph_tenant(&tenant, None).unwrap_err();
        assert!(matches!(error, SimError::GraphTenant { .. }), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains("tenant.toml") && text.contains(wanted),
            "{text}"
        );
    }
}
