//! Credential rotation as an operator does it, with a real `ews-connector serve` process and a
//! steady stream of checks through the API: no request fails across the rotation.
//!
//! Exchange is the simulator behind a TLS front of this test (rustls, certificates from rcgen),
//! so the connector speaks NTLMv2 with channel binding over verified TLS:
//! 1. the service account's password is reset in "AD" (`SimHandle::set_password`) and the
//!    server's certificate is renewed by a new CA (the front presents it to new connections);
//!    established NTLM connections keep serving, so nothing fails;
//! 2. a broken CA file with SIGHUP is refused with an error naming the file, and the old trust
//!    stays;
//! 3. the operator writes the new password file and the new CA file and sends SIGHUP;
//! 4. the front closes every idle connection (IIS's idle timeout), so every later request runs
//!    on a new connection: they succeed, which they can only do with the new password and the
//!    new CA.

#![cfg(unix)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use common::process::{Served, free_port, signal};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const NEW_PASSWORD: &str = "Rotated-Passw0rd!2";
const ACCOUNT_SMTP: &str = "svc-mytt@contoso.example";

/// A site CA and a server certificate for 127.0.0.1 that it signed.
struct Authority {
    ca_pem: String,
    server_config: Arc<ServerConfig>,
}

fn authority(name: &str) -> Authority {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} Root CA"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    server_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "exch01.contoso.example");
    let server = server_params.signed_by(&server_key, &ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![
                server.der().clone(),
                CertificateDer::from(ca.der().to_vec()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .unwrap();
    Authority {
        ca_pem: ca.pem(),
        server_config: Arc::new(server_config),
    }
}

/// The TLS front of Exchange: terminates TLS with the current certificate and forwards each
/// connection, byte for byte, to its own connection to the simulator (so NTLM's connection
/// binding holds). Replacing the certificate affects new connections only.
struct TlsFront {
    addr: SocketAddr,
    /// (generation, configuration) for new connections.
    current: Arc<Mutex<(usize, Arc<ServerConfig>)>>,
    /// TLS handshakes completed, by certificate generation.
    handshakes: Arc<[AtomicU64; 2]>,
    connections: Arc<Mutex<JoinSet<()>>>,
    live: Arc<AtomicUsize>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    async fn start(backend: SocketAddr, config: Arc<ServerConfig>) -> TlsFront {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let current = Arc::new(Mutex::new((0, config)));
        let handshakes: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let live = Arc::new(AtomicUsize::new(0));
        let accept_task = {
            let current = current.clone();
            let handshakes = handshakes.clone();
            let connections = connections.clone();
            let live = live.clone();
            tokio::spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let (generation, config) = current.lock().unwrap().clone();
                    let handshakes = handshakes.clone();
                    let live = live.clone();
                    connections.lock().unwrap().spawn(async move {
                        let _live = LiveGuard::enter(live);
                        let acceptor = tokio_rustls::TlsAcceptor::from(config);
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        handshakes[generation].fetch_add(1, Ordering::SeqCst);
                        let Ok(mut upstream) = TcpStream::connect(backend).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                    });
                }
            })
        };
        TlsFront {
            addr,
            current,
            handshakes,
            connections,
            live,
            accept_task,
        }
    }

    /// New connections get the certificate of `config` (generation 1).
    fn renew_certificate(&self, config: Arc<ServerConfig>) {
        *self.current.lock().unwrap() = (1, config);
    }

    /// Closes every forwarded connection, as an idle timeout does.
    async fn close_all(&self) {
        self.connections.lock().unwrap().abort_all();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.live.load(Ordering::SeqCst) > 0 {
            assert!(Instant::now() < deadline, "connections did not close");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn handshakes(&self, generation: usize) -> u64 {
        self.handshakes[generation].load(Ordering::SeqCst)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept_task.abort();
        self.connections.lock().unwrap().abort_all();
    }
}

/// Counts a forwarded connection for as long as its task lives (aborted or not).
struct LiveGuard(Arc<AtomicUsize>);

impl LiveGuard {
    fn enter(live: Arc<AtomicUsize>) -> LiveGuard {
        live.fetch_add(1, Ordering::SeqCst);
        LiveGuard(live)
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One answer of the stream: the phase it was sent in, and what came back.
#[derive(Debug, Clone)]
struct Outcome {
    phase: usize,
    status: u16,
    body: String,
}

/// Workers sending checks one after another until stopped; every answer is kept.
struct Stream {
    stop: Arc<AtomicBool>,
    workers: JoinSet<()>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    phase: Arc<AtomicUsize>,
}

impl Stream {
    fn start(
        workers: usize,
        url: String,
        token: String,
        phase: Arc<AtomicUsize>,
        outcomes: Arc<Mutex<Vec<Outcome>>>,
    ) -> Stream {
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::new();
        let mut set = JoinSet::new();
        for _ in 0..workers {
            let (stop, client, url, token) =
                (stop.clone(), client.clone(), url.clone(), token.clone());
            let (phase, outcomes) = (phase.clone(), outcomes.clone());
            set.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let sent_in = phase.load(Ordering::SeqCst);
                    let outcome = match client.get(&url).bearer_auth(&token).send().await {
                        Ok(response) => Outcome {
                            phase: sent_in,
                            status: response.status().as_u16(),
                            body: response.text().await.unwrap_or_default(),
                        },
                        Err(error) => Outcome {
                            phase: sent_in,
                            status: 0,
                            body: error.to_string(),
                        },
                    };
                    outcomes.lock().unwrap().push(outcome);
                }
            });
        }
        Stream {
            stop,
            workers: set,
            outcomes,
            phase,
        }
    }

    /// Waits until at least `count` answers of the current phase came back.
    async fn wait_answers(&self, count: usize) {
        let phase = self.phase.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let done = self
                .outcomes
                .lock()
                .unwrap()
                .iter()
                .filter(|outcome| outcome.phase == phase)
                .count();
            if done >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "phase {phase}: only {done} answers"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        while self.workers.join_next().await.is_some() {}
    }
}

fn write_config(dir: &Path, url: &str, port: u16, token_sha256: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[exchange]
url = "{url}"
access = "delegate"
impersonation = true
max_concurrency_per_account = 10
retry_budget_secs = 10

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "{ACCOUNT_SMTP}"
password_file = "svc.password"

[tls]
ca_file = "site-ca.pem"
channel_binding = true

[delegation]
principal = "mytimetable-push@contoso.example"

[api]
listen = "127.0.0.1:{port}"
allowed_domains = ["contoso.example"]

[[api.clients]]
name = "mytimetable"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check"]

[audit]
path = "audit.jsonl"

[log]
format = "json"
level = "info"
"#
        ),
    )
    .unwrap();
    path
}

/// Replaces a file the way an operator's tooling should: write aside, then rename.
fn replace_file(path: &Path, contents: &str) {
    let aside = path.with_extension("new");
    std::fs::write(&aside, contents).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

const PHASE_BEFORE: usize = 0;
const PHASE_AD_CHANGED: usize = 1;
const PHASE_BAD_CA_FILE: usize = 2;
const PHASE_RELOADED: usize = 3;
const PHASE_NEW_CONNECTIONS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_fails_across_a_password_and_ca_rotation() {
    // Every answer takes 20 ms, so concurrent requests overlap and warm several connections.
    let sim = start_sim(&sample_state().replace("latency_ms = 0", "latency_ms = 20")).await;
    let sim_addr = sim.addr;
    let old = authority("Contoso 2025");
    let new = authority("Contoso 2026");
    let front = TlsFront::start(sim_addr, old.server_config.clone()).await;

    let dir = tempfile::tempdir().unwrap();
    let password_path = dir.path().join("svc.password");
    let ca_path = dir.path().join("site-ca.pem");
    std::fs::write(&password_path, format!("{SVC_PASSWORD}\n")).unwrap();
    std::fs::write(&ca_path, &old.ca_pem).unwrap();
    let (token, token_sha256) = ews_connector::api::token::new_token();
    let port = free_port();
    let url = format!("https://127.0.0.1:{}/EWS/Exchange.asmx", front.addr.port());
    let config = write_config(dir.path(), &url, port, &token_sha256);
    let served = Served::start(&config, port).await;
    let check = format!(
        "{}/v1/mailboxes/granted@contoso.example/calendar/access",
        served.base
    );

    // Warm the pool: bursts of 4 concurrent checks until the connector holds at least 4
    // authenticated connections, more than the stream below (2) plus the readiness probe (1)
    // can use at once, so the stream never needs a new logon while the password is changing.
    let client = reqwest::Client::new();
    for _ in 0..50 {
        if front.handshakes(0) >= 4 {
            break;
        }
        let burst: Vec<_> = (0..4)
            .map(|_| tokio::spawn(client.get(&check).bearer_auth(&token).send()))
            .collect();
        for request in burst {
            assert_eq!(request.await.unwrap().unwrap().status(), 200);
        }
    }
    assert!(front.handshakes(0) >= 4, "the pool did not warm up");

    let phase = Arc::new(AtomicUsize::new(PHASE_BEFORE));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let stream = Stream::start(
        2,
        check.clone(),
        token.clone(),
        phase.clone(),
        outcomes.clone(),
    );
    stream.wait_answers(10).await;

    // The administrator resets the password in AD and the server gets a certificate from the
    // new CA. New logons with the old password would fail now; established connections serve.
    let connections_before_change = front.handshakes(0);
    let accepted_before_change = sim.stats().ntlm_accepted;
    sim.set_password(ACCOUNT_SMTP, NEW_PASSWORD).unwrap();
    front.renew_certificate(new.server_config.clone());
    phase.store(PHASE_AD_CHANGED, Ordering::SeqCst);
    stream.wait_answers(10).await;
    assert_eq!(
        front.handshakes(0) + front.handshakes(1),
        connections_before_change,
        "no new connection was needed while the connector had the old secret"
    );

    // A CA file that cannot be used is refused, naming the file; the old trust stays.
    replace_file(&ca_path, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n");
    phase.store(PHASE_BAD_CA_FILE, Ordering::SeqCst);
    signal(served.pid, "HUP");
    let refused = served.wait_for_line("ca_file not reloaded", 0).await;
    assert!(
        refused.contains(&*ca_path.display().to_string()),
        "{refused}"
    );
    assert!(refused.contains("\"level\":\"ERROR\""), "{refused}");
    stream.wait_answers(10).await;

    // The operator writes the new password and the new CA, then SIGHUP.
    replace_file(&password_path, &format!("{NEW_PASSWORD}\n"));
    replace_file(&ca_path, &new.ca_pem);
    signal(served.pid, "HUP");
    served.wait_for_line("trust anchors re-read", 0).await;
    served.wait_for_line("password replaced", 0).await;
    phase.store(PHASE_RELOADED, Ordering::SeqCst);
    stream.wait_answers(10).await;

    // IIS closes idle connections: every later request needs a new TLS handshake (trusting the
    // new CA) and a new NTLM logon (with the new password).
    stream.stop().await;
    front.close_all().await;
    phase.store(PHASE_NEW_CONNECTIONS, Ordering::SeqCst);
    let stream = Stream::start(
        4,
        check.clone(),
        token.clone(),
        phase.clone(),
        outcomes.clone(),
    );
    stream.wait_answers(20).await;
    stream.stop().await;

    let outcomes = outcomes.lock().unwrap().clone();
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|outcome| outcome.status != 200 || !outcome.body.contains("\"status\":\"ok\""))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed across the rotation: {failed:#?}\n{}",
        failed.len(),
        outcomes.len(),
        served.stderr()
    );
    for expected in [
        PHASE_BEFORE,
        PHASE_AD_CHANGED,
        PHASE_BAD_CA_FILE,
        PHASE_RELOADED,
        PHASE_NEW_CONNECTIONS,
    ] {
        assert!(
            outcomes.iter().any(|outcome| outcome.phase == expected),
            "no request in phase {expected}"
        );
    }
    assert!(
        front.handshakes(1) >= 1,
        "new connections trusted the new CA's certificate"
    );
    let stats = sim.stats();
    assert!(
        stats.ntlm_accepted > accepted_before_change,
        "new logons after the AD change, which only the new password passes"
    );
    assert_eq!(stats.ntlm_refused, 0, "no logon was ever refused");
    let stderr = served.stderr();
    assert!(
        !stderr.contains(SVC_PASSWORD) && !stderr.contains(NEW_PASSWORD),
        "a password was logged"
    );
    eprintln!(
        "rotation: {} requests, 0 failed; tls handshakes old CA {} / new CA {}; ntlm logons {}",
        outcomes.len(),
        front.handshakes(0),
        front.handshakes(1),
        stats.ntlm_accepted
    );
}
