//! App-only authentication to Microsoft Graph against the Graph simulator's token endpoint:
//! a certificate assertion it verifies, refusals that name their fix, the token cached and
//! refreshed by one request at a time, nothing secret in any output, and `[graph]`/`[routing]`
//! validation.
//!
//! RSA keys come from the `openssl` command (CI installs it): `rcgen` with `ring` cannot
//! generate RSA keys, and Entra ID certificate credentials are RSA.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ews_connector::config::{Backend, Config};
use ews_connector::exchange::FailureKind;
use ews_connector::graph::auth::{
    AuthError, CertificateCredential, Credential, Settings, TokenSource, refresh_margin,
};
use ews_connector::secret::Secret;
use ews_connector::sim::graph::{GraphSimConfig, GraphSimHandle, start};

const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";

/// A self-signed RSA certificate with its key, as one PEM text (certificate first).
fn certificate_pem(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg(format!("/CN={name}"))
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let certificate = std::fs::read_to_string(&path).unwrap();
    let key = std::fs::read_to_string(dir.join(format!("{name}.key"))).unwrap();
    format!("{certificate}{key}")
}

fn certificate(pem: &str) -> Arc<CertificateCredential> {
    Arc::new(CertificateCredential::from_pem(pem.as_bytes()).unwrap())
}

async fn simulator(certificates: &[&CertificateCredential], lifetime: Duration) -> GraphSimHandle {
    start(GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        certificates: certificates.iter().map(|c| c.der().to_vec()).collect(),
        secrets: vec![SECRET.to_owned()],
        expired_secrets: vec!["expired-secret".to_owned()],
        token_lifetime: lifetime,
        ..GraphSimConfig::default()
    })
    .await
    .unwrap()
}

fn settings(sim: &GraphSimHandle, tenant: &str) -> Settings {
    Settings {
        token_url: format!("{}/{tenant}/oauth2/v2.0/token", sim.base_url())
            .parse()
            .unwrap(),
        scope: "https://graph.microsoft.com/.default".to_owned(),
        client_id: CLIENT.to_owned(),
        timeout: Duration::from_secs(10),
        ca_file: None,
        accept_invalid_certs: false,
    }
}

fn refusal(result: Result<impl std::fmt::Debug, AuthError>) -> (String, String) {
    match result {
        Err(error @ AuthError::Refused { .. }) => {
            assert_eq!(error.kind(), FailureKind::AuthFailed, "{error}");
            let AuthError::Refused { code, fix, .. } = &error else {
                unreachable!()
            };
            (code.clone(), fix.clone())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_assertion_is_verified_and_gives_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let registered = certificate(&certificate_pem(dir.path(), "app"));
    let sim = simulator(&[&registered], Duration::from_secs(3600)).await;
    let source = TokenSource::new(
        settings(&sim, TENANT),
        Credential::Certificate(registered.clone()),
    )
    .unwrap();
    let token = source.token().await.unwrap();
    assert!(sim.token_is_valid(token.expose()));
    // Cached: a second call sends nothing.
    assert_eq!(source.token().await.unwrap(), token);
    assert_eq!(sim.stats().token_requests, 1);
    assert_eq!(sim.stats().tokens_issued, 1);
    assert_eq!(source.token_requests(), 1);
    // The thumbprints are of the certificate: SHA-256 base64url for x5t#S256, SHA-1 hex.
    assert_eq!(registered.x5t_s256().len(), 43);
    assert_eq!(registered.thumbprint().len(), 40);
    sim.shutdown().await;
}

#[tokio::test]
async fn refusals_are_auth_failures_that_name_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let registered = certificate(&certificate_pem(dir.path(), "app"));
    let stranger = certificate(&certificate_pem(dir.path(), "other"));
    let sim = simulator(&[&registered], Duration::from_secs(3600)).await;

    let wrong_secret = TokenSource::new(
        settings(&sim, TENANT),
        Credential::Secret(Secret::new("not-the-value")),
    )
    .unwrap();
    let (code, fix) = refusal(wrong_secret.token().await);
    assert_eq!(code, "AADSTS7000215");
    assert!(fix.contains("graph.client_secret_file"), "{fix}");
    assert!(
        fix.contains("Certificates & secrets > Client secrets"),
        "{fix}"
    );
    // Not cached: the next call asks again.
    let _ = wrong_secret.token().await;
    assert_eq!(wrong_secret.token_requests(), 2);

    let expired = TokenSource::new(
        settings(&sim, TENANT),
        Credential::Secret(Secret::new("expired-secret")),
    )
    .unwrap();
    let (code, fix) = refusal(expired.token().await);
    assert_eq!(code, "AADSTS7000222");
    assert!(fix.contains("expired"), "{fix}");

    let unregistered = TokenSource::new(
        settings(&sim, TENANT),
        Credential::Certificate(stranger.clone()),
    )
    .unwrap();
    let (code, fix) = refusal(unregistered.token().await);
    assert_eq!(code, "AADSTS700027");
    assert!(fix.contains("graph.certificate_file"), "{fix}");
    assert!(fix.contains(stranger.thumbprint()), "{fix}");
    assert!(
        fix.contains("Certificates & secrets > Certificates"),
        "{fix}"
    );

    let unknown_tenant = TokenSource::new(
        settings(&sim, "nobody.onmicrosoft.com"),
        Credential::Certificate(registered.clone()),
    )
    .unwrap();
    let (code, fix) = refusal(unknown_tenant.token().await);
    assert_eq!(code, "AADSTS90002");
    assert!(fix.contains("graph.tenant_id"), "{fix}");

    let mut other_app = settings(&sim, TENANT);
    other_app.client_id = "99999999-2222-3333-4444-555555555555".to_owned();
    let unknown_app = TokenSource::new(other_app, Credential::Secret(Secret::new(SECRET))).unwrap();
    let (code, fix) = refusal(unknown_app.token().await);
    assert_eq!(code, "AADSTS700016");
    assert!(fix.contains("graph.client_id"), "{fix}");

    assert_eq!(sim.stats().tokens_issued, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_simulator_refuses_a_misaddressed_or_tampered_assertion() {
    let dir = tempfile::tempdir().unwrap();
    let registered = certificate(&certificate_pem(dir.path(), "app"));
    let sim = simulator(&[&registered], Duration::from_secs(3600)).await;
    // A real assertion, made by the connector, captured from a request to a listener of ours.
    let capture = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let capture_url = format!(
        "http://{}/{TENANT}/oauth2/v2.0/token",
        capture.local_addr().unwrap()
    );
    let mut capture_settings = settings(&sim, TENANT);
    capture_settings.token_url = capture_url.parse().unwrap();
    let capturing = TokenSource::new(
        capture_settings,
        Credential::Certificate(registered.clone()),
    )
    .unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (mut stream, _) = capture.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            let n = stream.read(&mut buffer).await.unwrap();
            request.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap();
                if body.len() >= length {
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n",
                        )
                        .await;
                    return body.to_owned();
                }
            }
        }
    });
    let _ = capturing.token().await;
    let body = server.await.unwrap();
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(form["grant_type"], "client_credentials");
    assert!(!form.contains_key("client_secret"));
    let assertion = form["client_assertion"].clone();
    let post = |assertion: String| {
        let url = sim.token_url();
        async move {
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", CLIENT)
                .append_pair("scope", "https://graph.microsoft.com/.default")
                .append_pair("grant_type", "client_credentials")
                .append_pair(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .append_pair("client_assertion", &assertion)
                .finish();
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    };
    // Its audience is the capture URL, not the simulator's token URL: refused.
    let (status, body) = post(assertion.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"][0], 700023, "{body}");
    // A tampered signature: refused.
    let position = assertion.rfind('.').unwrap() + 20;
    let mut tampered = assertion.clone().into_bytes();
    tampered[position] = if tampered[position] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let tampered = String::from_utf8(tampered).unwrap();
    let (status, body) = post(tampered).await;
    assert_eq!(status, 401);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700027"),
        "{body}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_token_request_per_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let registered = certificate(&certificate_pem(dir.path(), "app"));
    let sim = Arc::new(simulator(&[&registered], Duration::from_secs(1)).await);
    let source = Arc::new(
        TokenSource::new(settings(&sim, TENANT), Credential::Certificate(registered)).unwrap(),
    );
    // A cold cache: 64 callers at once cause one request.
    let calls: Vec<_> = (0..64)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(sim.stats().token_requests, 1);

    // Several lifetimes (1 s tokens, refreshed a quarter of their lifetime early, at 0.75 s)
    // with 32 callers asking every 10 ms: no caller fails or gets an expired token, and requests
    // are at least 0.75 s apart.
    let period = Duration::from_secs(1) - refresh_margin(Duration::from_secs(1));
    assert_eq!(period, Duration::from_millis(750));
    let started = Instant::now();
    let before = sim.stats().token_requests;
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let source = source.clone();
            let sim = sim.clone();
            tokio::spawn(async move {
                let mut calls = 0u32;
                while started.elapsed() < Duration::from_millis(2600) {
                    let token = source.token().await.expect("no caller fails");
                    assert!(
                        sim.token_is_valid(token.expose()),
                        "an expired token was handed out"
                    );
                    calls += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                calls
            })
        })
        .collect();
    let mut calls = 0;
    for worker in workers {
        calls += worker.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let requests = sim.stats().token_requests - before;
    assert!(calls > 1000, "{calls}");
    assert!(requests >= 2, "{requests} token requests in {elapsed:.2} s");
    assert!(
        requests as f64 <= elapsed / period.as_secs_f64() + 1.0,
        "{requests} token requests in {elapsed:.2} s: more than one per refresh"
    );
    assert_eq!(sim.stats().token_refusals, 0);
    assert_eq!(source.token_requests(), sim.stats().token_requests);
}

/// A `MakeWriter` into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn no_secret_assertion_or_token_in_logs_errors_or_debug() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    // Global: a thread-local subscriber can miss callsites that tests running in parallel
    // registered first; other tests' lines land here too, which only widens the check.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let pem = certificate_pem(dir.path(), "app");
    let registered = certificate(&pem);
    let sim = simulator(&[&registered], Duration::from_secs(3600)).await;
    let mut outputs = Vec::new();

    let by_certificate = TokenSource::new(
        settings(&sim, TENANT),
        Credential::Certificate(registered.clone()),
    )
    .unwrap();
    let token = by_certificate.token().await.unwrap();
    outputs.push(format!("{token:?} {by_certificate:?} {registered:?}"));
    let by_secret = TokenSource::new(
        settings(&sim, TENANT),
        Credential::Secret(Secret::new(SECRET)),
    )
    .unwrap();
    let second = by_secret.token().await.unwrap();
    outputs.push(format!(
        "{second:?} {:?}",
        Credential::Secret(Secret::new(SECRET))
    ));
    let wrong = TokenSource::new(
        settings(&sim, TENANT),
        Credential::Secret(Secret::new("Wr0ng-Secret-Value")),
    )
    .unwrap();
    let error = wrong.token().await.unwrap_err();
    outputs.push(format!("{error} {error:?}"));

    // The configuration: Debug and `config check`.
    std::fs::write(dir.path().join("secret"), format!("{SECRET}\n")).unwrap();
    let config = load_config(dir.path(), "client_secret_file = \"secret\"", "").unwrap();
    outputs.push(format!("{config:?}"));
    outputs.push(config.render_effective());

    outputs.push(String::from_utf8(captured.0.lock().unwrap().clone()).unwrap());
    let all = outputs.join("\n");
    assert!(
        all.contains("requesting a Graph token"),
        "debug lines were captured"
    );
    let key_body: String = pem
        .lines()
        .skip_while(|line| !line.contains("PRIVATE KEY"))
        .nth(1)
        .unwrap()
        .to_owned();
    for (what, secret) in [
        ("a token", token.expose()),
        ("a token", second.expose()),
        ("the secret", SECRET),
        ("a wrong secret", "Wr0ng-Secret-Value"),
        ("key material", key_body.as_str()),
        ("a JWT", "eyJ"),
    ] {
        assert!(
            !all.contains(secret),
            "{what} appears in the output:\n{all}"
        );
    }
    sim.shutdown().await;
}

const EWS: &str = r#"
[exchange]
url = "https://mail.uni.example/EWS/Exchange.asmx"

[[exchange.accounts]]
username = 'UNI\sa-mytt-exch-1'
smtp = "sa-mytt-exch-1@uni.example"
password_env = "SA1_PASSWORD"
"#;

fn load_config(dir: &Path, credential: &str, extra: &str) -> Result<Config, String> {
    let text = format!(
        "{EWS}\n[graph]\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n{credential}\n{extra}"
    );
    let environment: HashMap<String, String> =
        [("SA1_PASSWORD".to_owned(), "env-secret".to_owned())].into();
    Config::from_sources(&text, &HashMap::new(), &environment, dir).map_err(|e| e.to_string())
}

fn write_private(path: &PathBuf, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn graph_and_routing_are_validated_at_load() {
    let dir = tempfile::tempdir().unwrap();
    write_private(&dir.path().join("secret"), &format!("{SECRET}\n"));
    let pem = certificate_pem(dir.path(), "app");
    write_private(&dir.path().join("app-and-key.pem"), &pem);

    // Defaults, typed.
    let config = load_config(dir.path(), "certificate_file = \"app-and-key.pem\"", "").unwrap();
    let graph = config.graph.as_ref().unwrap();
    assert_eq!(
        graph.authority.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert_eq!(
        graph.token_url().as_str(),
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
    );
    assert_eq!(graph.scope(), "https://graph.microsoft.com/.default");
    assert_eq!(graph.max_concurrency, 32);
    assert!(matches!(graph.credential, Credential::Certificate(_)));
    let routing = config.routing.as_ref().unwrap();
    assert_eq!(routing.default, Backend::Ews);
    assert!(routing.follow_moves);
    let shown = config.render_effective();
    assert!(
        shown.contains("[graph]") && shown.contains("[routing]"),
        "{shown}"
    );
    assert!(shown.contains("certificate_file = "), "{shown}");

    let routed = load_config(
        dir.path(),
        "client_secret_file = \"secret\"",
        "authority = \"http://127.0.0.1:9/\"\n[routing]\ndefault = \"graph\"\ngraph_domains = [\"Students.Uni.Example\"]\news_domains = [\"staff.uni.example\"]\nfollow_moves = false\n",
    )
    .unwrap();
    let routing = routed.routing.as_ref().unwrap();
    assert_eq!(routing.default, Backend::Graph);
    assert_eq!(routing.graph_domains, ["students.uni.example"]);
    assert!(!routing.follow_moves);
    let shown = routed.render_effective();
    assert!(shown.contains("client_secret = \"***\""), "{shown}");
    assert!(
        shown.contains("graph_domains = [\"students.uni.example\"]"),
        "{shown}"
    );

    for (credential, extra, expected) in [
        (
            "certificate_file = \"app-and-key.pem\"\nclient_secret_file = \"secret\"",
            "",
            "exactly one",
        ),
        ("", "", "graph.certificate_file"),
        (
            "client_secret_file = \"secret\"",
            "authority = \"http://login.example.org\"",
            "graph.authority: must be https://",
        ),
        (
            "client_secret_file = \"secret\"",
            "endpoint = \"ftp://graph.example\"",
            "graph.endpoint",
        ),
        (
            "client_secret_file = \"secret\"",
            "max_concurrency = 0",
            "graph.max_concurrency",
        ),
        (
            "client_secret_file = \"secret\"",
            "[routing]\ndefault = \"cloud\"",
            "routing.default",
        ),
        (
            "client_secret_file = \"secret\"",
            "[routing]\ngraph_domains = [\"uni.example\"]\news_domains = [\"UNI.example\"]",
            "routing.ews_domains: `uni.example` is also in routing.graph_domains",
        ),
        (
            "client_secret_file = \"secret\"",
            "[routing]\ngraph_domains = [\"not a domain\"]",
            "routing.graph_domains[0]",
        ),
        (
            "client_secret_file = \"missing\"",
            "",
            "graph.client_secret_file: cannot read",
        ),
        (
            "certificate_file = \"secret\"",
            "",
            "graph.certificate_file",
        ),
    ] {
        let error = load_config(dir.path(), credential, extra).unwrap_err();
        assert!(error.contains(expected), "{credential} {extra}: {error}");
    }
    // [routing] needs [graph].
    let environment: HashMap<String, String> =
        [("SA1_PASSWORD".to_owned(), "env-secret".to_owned())].into();
    let error = Config::from_sources(
        &format!("{EWS}\n[routing]\ndefault = \"ews\"\n"),
        &HashMap::new(),
        &environment,
        dir.path(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("routing: "), "{error}");
    // A key that does not belong to the certificate.
    let other = certificate_pem(dir.path(), "other");
    let mismatched = format!(
        "{}{}",
        &pem[..pem.find("-----BEGIN PRIVATE KEY").unwrap()],
        &other[other.find("-----BEGIN PRIVATE KEY").unwrap()..]
    );
    write_private(&dir.path().join("mismatch.pem"), &mismatched);
    let error = load_config(dir.path(), "certificate_file = \"mismatch.pem\"", "").unwrap_err();
    assert!(
        error.contains("does not belong to its certificate"),
        "{error}"
    );
}

#[test]
fn a_credential_file_others_can_read_warns_and_one_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    write_private(&path, &format!("{SECRET}\n"));
    let config = load_config(dir.path(), "client_secret_file = \"secret\"", "").unwrap();
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let warnings = config.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].key, "graph.client_secret_file");
    assert!(warnings[0].fix.contains("chmod 600"), "{}", warnings[0]);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let error = load_config(dir.path(), "client_secret_file = \"secret\"", "").unwrap_err();
    assert!(error.contains("can be written by others"), "{error}");
    // On a re-read (SIGHUP) too: the reason names the key, and the old credential stays.
    let reread = config.reread_graph_credential().unwrap().unwrap_err();
    assert!(reread.starts_with("graph.client_secret_file: "), "{reread}");
}

#[tokio::test]
async fn a_reread_secret_is_used_by_the_next_token_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    write_private(&path, "an-old-wrong-value\n");
    let config = load_config(dir.path(), "client_secret_file = \"secret\"", "").unwrap();
    let sim = simulator(&[], Duration::from_secs(3600)).await;
    let source = TokenSource::new(
        settings(&sim, TENANT),
        config.graph.as_ref().unwrap().credential.clone(),
    )
    .unwrap();
    let (code, _) = refusal(source.token().await);
    assert_eq!(code, "AADSTS7000215");
    // The same file again changes nothing.
    assert!(!source.replace_credential(config.reread_graph_credential().unwrap().unwrap()));
    write_private(&path, &format!("{SECRET}\n"));
    assert!(source.replace_credential(config.reread_graph_credential().unwrap().unwrap()));
    let token = source.token().await.unwrap();
    assert!(sim.token_is_valid(token.expose()));
    sim.shutdown().await;
}
