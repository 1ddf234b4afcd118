//! Autodiscover against the simulator: the SOAP path, the POX fallback, RedirectAddress, refused
//! redirects to an untrusted host (a second listener proves no credentials reached it), the hop
//! limit, the `discover` command, and `serve` with `exchange.autodiscover = true` end to end.
//! The shared samples of PROTOCOL.md section 8 are decoded from `../shared` in place.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use common::schema::{require_or_skip, shared_dir};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};
use ews_connector::ews::autodiscover as xml;
use ews_connector::exchange::autodiscover::{
    self, Error, MAX_HOPS, Outcome, Preference, Protocol, Settings,
};
use ews_connector::secret::Secret;
use ews_connector::sim::SimHandle;
use ews_connector::transport::{AuthScheme, Credentials};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");
const SVC_SMTP: &str = "svc-mytt@contoso.example";

fn svc_url(sim: &SimHandle) -> String {
    format!("http://{}/autodiscover/autodiscover.svc", sim.addr)
}

fn settings(sim: &SimHandle) -> Settings {
    Settings {
        mailbox: SVC_SMTP.to_owned(),
        credentials: Credentials {
            username: r"CONTOSO\svc-mytt".to_owned(),
            password: Secret::new(SVC_PASSWORD),
        },
        auth: AuthScheme::Ntlm,
        start_url: Some(svc_url(sim).parse().unwrap()),
        trusted_hosts: Vec::new(),
        prefer: Preference::Internal,
        ca_file: None,
        channel_binding: true,
        danger_allow_basic_over_http: false,
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        user_agent: "ews-connector-test".to_owned(),
    }
}

async fn sim_with(section: &str) -> SimHandle {
    start_sim(&format!("{}\n[autodiscover]\n{section}\n", sample_state())).await
}

/// A listener that records the head of every request it gets and answers 404.
struct Recorder {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = heads.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 16 * 1024];
                    let mut head = Vec::new();
                    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => break,
                            Ok(read) => head.extend_from_slice(&buffer[..read]),
                        }
                    }
                    recorded
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let _ = stream
                        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Recorder { port, heads, task }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn soap_get_user_settings_finds_the_sims_ews_url() {
    let sim = sim_with("").await;
    let found = autodiscover::discover(&settings(&sim)).await.unwrap();
    assert_eq!(found.url.as_str(), sim.url);
    assert_eq!(found.attempts.len(), 1);
    assert_eq!(found.attempts[0].protocol, Protocol::Soap);
    assert!(
        found.found_by.starts_with("soap GetUserSettings at ")
            && found.found_by.contains("InternalEwsUrl"),
        "{}",
        found.found_by
    );
    let stats = sim.stats();
    assert_eq!(stats.requests("GetUserSettings"), 1);
    assert_eq!(stats.requests("Autodiscover"), 0);
    assert_eq!(stats.ntlm_accepted, 1, "authenticated like EWS");
}

#[tokio::test]
async fn the_preference_picks_the_external_url_when_asked() {
    let sim = sim_with(
        "internal_ews_url = \"https://exch01.corp.contoso.example/EWS/Exchange.asmx\"\nexternal_ews_url = \"https://mail.contoso.example/EWS/Exchange.asmx\"",
    )
    .await;
    let internal = autodiscover::discover(&settings(&sim)).await.unwrap();
    assert_eq!(
        internal.url.as_str(),
        "https://exch01.corp.contoso.example/EWS/Exchange.asmx"
    );
    let mut external = settings(&sim);
    external.prefer = Preference::External;
    let found = autodiscover::discover(&external).await.unwrap();
    assert_eq!(
        found.url.as_str(),
        "https://mail.contoso.example/EWS/Exchange.asmx"
    );
}

#[tokio::test]
async fn without_soap_the_pox_fallback_finds_it() {
    let sim = sim_with("soap = false").await;
    let found = autodiscover::discover(&settings(&sim)).await.unwrap();
    assert_eq!(found.url.as_str(), sim.url);
    let summary: Vec<(Protocol, &Outcome)> = found
        .attempts
        .iter()
        .map(|attempt| (attempt.protocol, &attempt.outcome))
        .collect();
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert_eq!(
        summary[0],
        (
            Protocol::Soap,
            &Outcome::Failed {
                reason: "http 404".to_owned()
            }
        )
    );
    assert_eq!(summary[1].0, Protocol::Pox);
    assert!(matches!(summary[1].1, Outcome::Found { setting, .. } if setting == "EXCH EwsUrl"));
    assert!(found.found_by.starts_with("pox at "), "{}", found.found_by);
    assert_eq!(sim.stats().requests("Autodiscover"), 1);
}

#[tokio::test]
async fn redirect_address_is_followed_with_the_new_address() {
    let sim = sim_with(
        "redirect_address = { from = \"svc-mytt@contoso.example\", to = \"svc-mytt@resource.contoso.example\" }",
    )
    .await;
    let found = autodiscover::discover(&settings(&sim)).await.unwrap();
    assert_eq!(found.url.as_str(), sim.url);
    assert_eq!(found.attempts.len(), 2);
    assert_eq!(
        found.attempts[0].outcome,
        Outcome::Redirected {
            kind: "RedirectAddress".to_owned(),
            target: "svc-mytt@resource.contoso.example".to_owned()
        }
    );
    assert_eq!(
        found.attempts[1].mailbox,
        "svc-mytt@resource.contoso.example"
    );
    assert!(
        found.found_by.contains("after 1 redirects"),
        "{}",
        found.found_by
    );
    assert_eq!(sim.stats().requests("GetUserSettings"), 2);
}

#[tokio::test]
async fn redirects_to_an_untrusted_host_are_refused_and_get_no_credentials() {
    let recorder = Recorder::start().await;
    let target = format!(
        "http://localhost:{}/autodiscover/autodiscover.svc",
        recorder.port
    );
    for section in [
        format!("redirect_url = \"{target}\""),
        format!("http_redirect = \"{target}\""),
    ] {
        let sim = sim_with(&section).await;
        let error = autodiscover::discover(&settings(&sim)).await.unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::NotFound { .. }), "{message}");
        assert!(
            message.contains("refused to send credentials to localhost")
                && message.contains("add \"localhost\" to exchange.autodiscover_trusted_hosts"),
            "{section}: {message}"
        );
        let refused = error
            .attempts()
            .iter()
            .filter(|attempt| matches!(attempt.outcome, Outcome::Refused { .. }))
            .count();
        // The SOAP answer's target (tried as SOAP and as its POX twin), then the POX answer's.
        assert_eq!(refused, 3, "{:?}", error.attempts());
    }
    assert!(
        recorder.heads().is_empty(),
        "nothing reached the untrusted host: {:?}",
        recorder.heads()
    );

    // The recorder does see a client that is allowed to go there (so the check above can fail).
    let sim = sim_with("").await;
    let mut allowed = settings(&sim);
    allowed.start_url = Some(target.parse().unwrap());
    allowed.trusted_hosts = vec!["localhost".to_owned()];
    let error = autodiscover::discover(&allowed).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");
    let heads = recorder.heads();
    assert!(
        heads.iter().any(|head| head
            .to_ascii_lowercase()
            .contains("\r\nauthorization: ntlm ")),
        "{heads:?}"
    );
}

#[tokio::test]
async fn a_redirect_loop_stops_at_the_hop_limit() {
    // `{host}` is the simulator's own address: every answer redirects to itself.
    let sim = sim_with("redirect_url = \"http://{host}/autodiscover/autodiscover.svc\"").await;
    let error = autodiscover::discover(&settings(&sim)).await.unwrap_err();
    assert!(matches!(error, Error::TooManyRedirects { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("after {MAX_HOPS} redirects")),
        "{error}"
    );
    assert_eq!(
        sim.stats().requests("GetUserSettings"),
        MAX_HOPS as u64 + 1,
        "the first request and one per followed redirect, then it stops"
    );
}
