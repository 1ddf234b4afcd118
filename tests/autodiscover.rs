//! Autodiscover against the simulator: the SOAP path, the POX fallback, RedirectAddress, refused
//! redirects to an untrusted host (a second listener proves no credentials reached it), the hop
//! limit, the `discover` command, and `serve` with `exchange.autodiscover = true` end to end.
//! The shared samples of PROTOCOL.md section 8 are decoded from `../shared` in place.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use common::process::{Served, free_port};
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

/// Removes comments and whitespace between tags, to compare a readable sample with the writer.
fn minify(text: &str) -> String {
    let mut without_comments = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        without_comments.push_str(&rest[..start]);
        let end = rest[start..].find("-->").expect("closed comment");
        rest = &rest[start + end + 3..];
    }
    without_comments.push_str(rest);
    let mut minified = String::new();
    for piece in without_comments.split('<') {
        if minified.is_empty() && piece.trim().is_empty() {
            continue;
        }
        let (tag, text) = piece.split_once('>').unwrap_or((piece, ""));
        minified.push('<');
        minified.push_str(tag);
        minified.push('>');
        if !text.trim().is_empty() {
            minified.push_str(text);
        }
    }
    minified.replace("<?xml version=\"1.0\" encoding=\"utf-8\"?>", "")
}

#[test]
fn the_shared_samples_decode_as_protocol_section_8_says() {
    if !require_or_skip("shared") {
        return;
    }
    let samples = shared_dir()
        .unwrap()
        .join("ews-schema/samples/autodiscover");
    let read = |name: &str| std::fs::read(samples.join(name)).unwrap();

    let decoded = xml::decode_get_user_settings(&read("GetUserSettings.response.xml")).unwrap();
    let user = &decoded.users[0];
    assert_eq!(
        user.setting("InternalEwsUrl"),
        Some("https://mail.contoso.example/EWS/Exchange.asmx")
    );
    assert_eq!(user.setting("ExternalEwsUrl"), None);
    assert_eq!(user.setting_errors[0].setting_name, "ExternalEwsUrl");
    assert_eq!(
        user.setting_errors[0].error_code,
        xml::AutodiscoverErrorCode::SettingIsNotAvailable
    );

    let redirect =
        xml::decode_get_user_settings(&read("GetUserSettings.response-RedirectAddress.xml"))
            .unwrap();
    assert_eq!(
        redirect.users[0].error_code,
        xml::AutodiscoverErrorCode::RedirectAddress
    );
    assert_eq!(
        redirect.users[0].redirect_target.as_deref(),
        Some("alice@resource.contoso.example")
    );

    assert_eq!(
        xml::decode_pox(&read("pox.response.xml")).unwrap(),
        xml::PoxResponse::Settings {
            internal_ews_url: Some("https://mail.contoso.example/EWS/Exchange.asmx".to_owned()),
            external_ews_url: Some("https://mail.contoso.example/EWS/Exchange.asmx".to_owned()),
        }
    );

    let pox_request = String::from_utf8(xml::encode_pox("alice@contoso.example").unwrap()).unwrap();
    let sample = String::from_utf8(read("pox.request.xml")).unwrap();
    assert_eq!(minify(&pox_request), minify(&sample));

    // The sample asks for more settings; with the same list the request is the same document.
    let soap_request = xml::encode_get_user_settings(
        "https://autodiscover.contoso.example/autodiscover/autodiscover.svc",
        "alice@contoso.example",
        &[
            "InternalEwsUrl",
            "ExternalEwsUrl",
            "EwsSupportedSchemas",
            "CasVersion",
            "GroupingInformation",
            "AutoDiscoverSMTPAddress",
        ],
    )
    .unwrap();
    let sample = String::from_utf8(read("GetUserSettings.request.xml")).unwrap();
    assert_eq!(
        minify(&String::from_utf8(soap_request).unwrap()),
        minify(&sample).replace(
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"\n               xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\"\n               xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">",
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">"
        )
    );
}

fn write_config(
    dir: &std::path::Path,
    autodiscover_url: &str,
    listen_port: u16,
    token_sha256: &str,
) -> std::path::PathBuf {
    std::fs::write(dir.join("svc.password"), format!("{SVC_PASSWORD}\n")).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[exchange]
autodiscover = true
autodiscover_url = "{autodiscover_url}"
access = "delegate"
retry_budget_secs = 2

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "svc.password"

[delegation]
principal = "mytimetable-push@contoso.example"

[api]
listen = "127.0.0.1:{listen_port}"
allowed_domains = ["contoso.example"]

[[api.clients]]
name = "mytimetable"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check"]

[audit]
path = "audit.jsonl"
"#
        ),
    )
    .unwrap();
    path
}

async fn run_cli(args: &[&str]) -> (i32, String, String) {
    let output = tokio::process::Command::new(BINARY)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_prints_each_candidate_and_the_url() {
    let sim = sim_with("soap = false").await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &svc_url(&sim), 0, &"0".repeat(64));
    let config = config.to_str().unwrap();

    let (status, stdout, stderr) = run_cli(&["discover", SVC_SMTP, "--config", config]).await;
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].starts_with(" 1. soap") && lines[0].ends_with("failed: http 404"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with(" 2. pox") && lines[1].contains(&format!("found: {}", sim.url)),
        "{stdout}"
    );
    assert_eq!(lines[2], format!("EWS URL: {}", sim.url));
    assert!(lines[3].starts_with("found by: pox at "), "{stdout}");
    assert!(!stderr.contains(SVC_PASSWORD), "{stderr}");

    let (status, stdout, _) = run_cli(&["discover", SVC_SMTP, "--config", config, "--json"]).await;
    assert_eq!(status, 0);
    let body: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(body["ewsUrl"], sim.url);
    assert_eq!(body["attempts"][0]["outcome"], "failed");
    assert_eq!(body["attempts"][1]["protocol"], "pox");

    // A redirect to a host outside contoso.example: exit 2, and the reason names host and key.
    let redirecting =
        sim_with("redirect_url = \"https://outside.example/autodiscover/autodiscover.svc\"").await;
    let config = write_config(dir.path(), &svc_url(&redirecting), 0, &"0".repeat(64));
    let (status, stdout, stderr) =
        run_cli(&["discover", SVC_SMTP, "--config", config.to_str().unwrap()]).await;
    assert_eq!(status, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("refused: refused to send credentials to outside.example"),
        "{stdout}"
    );
    assert!(
        stderr.contains("add \"outside.example\" to exchange.autodiscover_trusted_hosts"),
        "{stderr}"
    );
    assert!(!stdout.contains("EWS URL:"), "{stdout}");

    let (status, _, stderr) = run_cli(&[
        "discover",
        "not-an-address",
        "--config",
        config.to_str().unwrap(),
    ])
    .await;
    assert_eq!(status, 1, "{stderr}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_autodiscover_answers_a_check_end_to_end() {
    let sim = sim_with("").await;
    let dir = tempfile::tempdir().unwrap();
    let (token, token_sha256) = ews_connector::api::token::new_token();
    let port = free_port();
    let config = write_config(dir.path(), &svc_url(&sim), port, &token_sha256);
    let served = Served::start(&config, port).await;
    let base = served.base.clone();
    let client = reqwest::Client::new();
    let response = client
        .get(format!(
            "{base}/v1/mailboxes/granted@contoso.example/calendar/access"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(sim.stats().requests("GetUserSettings"), 1);
    assert!(sim.stats().requests("GetFolder") >= 1);

    let found = served
        .wait_for_line("autodiscover found the EWS URL", 0)
        .await;
    let stderr = served.stderr();
    assert!(
        found.contains(&sim.url) && found.contains("soap GetUserSettings"),
        "{found}"
    );
    assert!(!stderr.contains(SVC_PASSWORD), "{stderr}");
}

#[tokio::test]
async fn a_refused_password_stops_the_search_after_one_logon() {
    let sim = sim_with("").await;
    let mut wrong = settings(&sim);
    wrong.credentials.password = Secret::new("Wr0ng-Passw0rd");
    let error = autodiscover::discover(&wrong).await.unwrap_err();
    assert!(matches!(error, Error::AuthRejected { .. }), "{error}");
    assert!(error.to_string().contains(r"CONTOSO\svc-mytt"), "{error}");
    assert!(!format!("{error:?}").contains("Wr0ng-Passw0rd"));
    assert_eq!(error.attempts().len(), 1, "the POX candidate was not tried");
    assert_eq!(sim.stats().ntlm_refused, 1);
}

#[tokio::test]
async fn a_result_is_cached_for_the_process() {
    let sim = sim_with("").await;
    let first = autodiscover::discover_cached(&settings(&sim))
        .await
        .unwrap();
    let second = autodiscover::discover_cached(&settings(&sim))
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(sim.stats().requests("GetUserSettings"), 1);
}

#[test]
fn the_autodiscover_keys_of_the_sample_configuration_are_valid() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "x\n").unwrap();
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/config.example.toml"
    ))
    .unwrap()
    .replace("$CREDENTIALS_DIRECTORY/sa-mytt-exch-1.password", "pw");
    let mut uncommented = String::new();
    for line in sample.lines() {
        if line.starts_with("url = ") {
            continue;
        }
        let line = match line.strip_prefix("# ") {
            Some(rest) if rest.starts_with("autodiscover") => rest,
            _ => line,
        };
        uncommented.push_str(line);
        uncommented.push('\n');
    }
    let config = ews_connector::config::Config::from_sources(
        &uncommented,
        &Default::default(),
        &std::collections::HashMap::new(),
        dir.path(),
    )
    .unwrap_or_else(|error| panic!("{error}\n{uncommented}"));
    let settings = config.autodiscover_settings().unwrap();
    assert_eq!(settings.trusted_hosts, vec!["mail.partner.example"]);
    assert_eq!(
        settings.start_url.unwrap().as_str(),
        "https://autodiscover.uni.example/autodiscover/autodiscover.svc"
    );
    assert!(config.exchange.url.is_none());
}
