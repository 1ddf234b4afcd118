//! `ews-connector doctor` as an admin runs it: the real binary against the simulator, against
//! `../shared/ntlm-peer` (an NTLM acceptor that is not ours) with Extended Protection, and
//! against small TLS servers of this test, for each broken set-up the doctor must name (wrong
//! password, a required channel binding that is off, an untrusted certificate, a name mismatch,
//! an expired certificate, a TLS-terminating proxy, nothing listening, a name that does not
//! resolve, Basic over plain http) and for healthy ones. Every output is checked for the
//! password.
//!
//! The ntlm-peer tests skip with a message when python3/pyspnego/openssl or `../shared/` are
//! missing, and fail under `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use common::ntlm_peer::{NtlmPeer, PeerOptions};
use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");
const PEER_PASSWORD: &str = "S3rvice!Pass";

/// One `[[exchange.accounts]]` entry: username, smtp, password (written to a file).
struct TestAccount<'a> {
    username: &'a str,
    smtp: &'a str,
    password: &'a str,
}

const SIM_ACCOUNT: TestAccount<'static> = TestAccount {
    username: r"CONTOSO\svc-mytt",
    smtp: "svc-mytt@contoso.example",
    password: SVC_PASSWORD,
};

const PEER_ACCOUNT: TestAccount<'static> = TestAccount {
    username: r"CONTOSO\svc-mytt",
    smtp: "svc-mytt@contoso.example",
    password: PEER_PASSWORD,
};

/// Writes a configuration (and one password file per account) and returns its path.
fn write_config(dir: &Path, url: &str, accounts: &[TestAccount<'_>], extra: &str) -> PathBuf {
    let mut text = format!(
        "[exchange]\nurl = \"{url}\"\naccess = \"delegate\"\nimpersonation = true\ntimeout_secs = 20\nconnect_timeout_secs = 5\n{extra}\n"
    );
    for (index, account) in accounts.iter().enumerate() {
        let file = dir.join(format!("account{index}.password"));
        std::fs::write(&file, format!("{}\n", account.password)).unwrap();
        text.push_str(&format!(
            "\n[[exchange.accounts]]\nusername = '{}'\nsmtp = \"{}\"\npassword_file = \"{}\"\n",
            account.username,
            account.smtp,
            file.display()
        ));
    }
    text.push_str(
        "\n[delegation]\nprincipal = \"mytimetable-push@contoso.example\"\nlevel = \"Editor\"\n\n[api]\nallowed_domains = [\"contoso.example\"]\n",
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The `[tls]` section lines go after `[exchange]` keys: this puts them in their own table.
fn with_tls(exchange_lines: &str, tls_lines: &str) -> String {
    format!("{exchange_lines}\n[tls]\n{tls_lines}\n")
}

async fn doctor(config: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(BINARY)
        .arg("doctor")
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn all_text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_no_password(output: &Output, passwords: &[&str]) {
    let text = all_text(output);
    for password in passwords {
        assert!(
            !text.contains(password),
            "the output shows a password:\n{text}"
        );
    }
    assert!(!text.contains("TlRMTVNT"), "an NTLM token leaked:\n{text}");
}

/// The text line of `step` (verdict first), or a panic showing the whole report.
fn line<'a>(text: &'a str, verdict: &str, step: &str) -> &'a str {
    text.lines()
        .find(|line| {
            line.starts_with(verdict) && line[verdict.len()..].trim_start().starts_with(step)
        })
        .unwrap_or_else(|| panic!("no `{verdict} {step}` line in:\n{text}"))
}

/// The fix line right under the line of `step`.
fn fix_of<'a>(text: &'a str, verdict: &str, step: &str) -> &'a str {
    let wanted = line(text, verdict, step);
    let mut lines = text.lines();
    lines.find(|candidate| *candidate == wanted);
    let fix = lines.next().unwrap_or_default();
    assert!(
        fix.trim_start().starts_with("fix: "),
        "no fix under `{wanted}`:\n{text}"
    );
    fix
}

fn json_steps(output: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout)
        .unwrap_or_else(|error| panic!("not a JSON array ({error}):\n{}", all_text(output)))
}

// ---------------------------------------------------------------------------------------------
// Against the simulator (always available).
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_healthy_simulator_passes_with_the_mailbox_check() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url, &[SIM_ACCOUNT], "");
    let output = doctor(&config, &["--mailbox", "granted@contoso.example"]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", all_text(&output));
    line(&text, "ok", "config");
    line(&text, "ok", "dns");
    line(&text, "ok", "tcp");
    // Plain http is allowed (the simulator is a lab) but named.
    assert!(line(&text, "warn", "http").contains("plain http"), "{text}");
    assert!(line(&text, "ok", "auth schemes").contains("NTLM"), "{text}");
    assert!(
        line(&text, "ok", r"logon CONTOSO\svc-mytt").contains(r"NTLM accepted CONTOSO\svc-mytt"),
        "{text}"
    );
    // The simulator's service account has no mailbox of its own: EWS answers, which is enough.
    let getfolder = line(&text, "warn", r"getfolder CONTOSO\svc-mytt");
    assert!(getfolder.contains("ErrorMissingEmailAddress"), "{text}");
    assert!(
        getfolder.contains("ServerVersionInfo 15.1 build 2507.6"),
        "{text}"
    );
    let mailbox = line(&text, "ok", "mailbox granted@contoso.example");
    assert!(mailbox.contains("status ok, ready true"), "{text}");
    // The evaluation: which entry applied and what it allows.
    assert!(mailbox.contains("[own entry; allows "), "{text}");
    assert!(mailbox.contains("create"), "{text}");
    // Exchange's own answer for the service account, asked even though the set decides, agrees
    // with the reading of the entry (an Editor: no folder modify or delete).
    assert!(
        mailbox.contains(
            "Exchange's EffectiveRights for svc-mytt@contoso.example: createContents true, read true, modify false, delete false"
        ),
        "{text}"
    );
    assert!(text.contains("all checks passed"), "{text}");
    assert_no_password(&output, &[SVC_PASSWORD]);

    // A mailbox that is not ready: the full check's status and how to grant.
    let output = doctor(&config, &["--mailbox", "plain@contoso.example", "--json"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    let steps = json_steps(&output);
    let mailbox = steps
        .iter()
        .find(|step| step["step"] == "mailbox")
        .expect("a mailbox step");
    assert_eq!(mailbox["verdict"], "fail");
    assert_eq!(mailbox["subject"], "plain@contoso.example");
    assert!(
        mailbox["detail"]
            .as_str()
            .unwrap()
            .contains("status not_delegated"),
        "{mailbox}"
    );
    // Nothing of its own: the Default entry applied, and it grants free/busy only.
    assert!(
        mailbox["detail"]
            .as_str()
            .unwrap()
            .contains("[Default entry; allows "),
        "{mailbox}"
    );
    assert!(
        mailbox["fix"]
            .as_str()
            .unwrap()
            .contains("ews-connector grant plain@contoso.example"),
        "{mailbox}"
    );
    for step in &steps {
        let verdict = step["verdict"].as_str().unwrap();
        assert!(
            ["ok", "warn", "fail", "skipped"].contains(&verdict),
            "{step}"
        );
        assert!(step["detail"].is_string());
        assert_eq!(step["fix"].is_null(), verdict == "ok", "{step}");
    }
}

#[tokio::test]
async fn with_autodiscover_the_url_is_found_first_and_the_other_steps_use_it() {
    let sim = start_sim(&format!("{}\n[autodiscover]\n", sample_state())).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url, &[SIM_ACCOUNT], "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &format!("url = \"{}\"", sim.url),
        &format!(
            "autodiscover = true\nautodiscover_url = \"http://{}/autodiscover/autodiscover.svc\"",
            sim.addr
        ),
    );
    assert!(!text.contains("\nurl ="), "{text}");
    std::fs::write(&config, text).unwrap();

    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", all_text(&output));
    let found = line(&text, "ok", "autodiscover");
    assert!(
        found.contains(&sim.url) && found.contains("soap GetUserSettings"),
        "{text}"
    );
    assert!(line(&text, "ok", "config").contains(&sim.url), "{text}");
    line(&text, "ok", "tcp");
    assert_eq!(sim.stats().requests("GetUserSettings"), 1);
    assert_no_password(&output, &[SVC_PASSWORD]);

    // Nothing answers at the Autodiscover endpoint: the step fails, the rest is skipped.
    let unreachable = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&sim.addr.to_string(), "127.0.0.1:9");
    std::fs::write(&config, unreachable).unwrap();
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    assert!(
        fix_of(&text, "FAIL", "autodiscover").contains("ews-connector discover"),
        "{text}"
    );
    line(&text, "skipped", "dns");
    line(&text, "skipped", "getfolder");
}

#[tokio::test]
async fn a_wrong_password_on_the_second_account_is_named_as_that_accounts() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "Wr0ng-Second#9";
    let config = write_config(
        dir.path(),
        &sim.url,
        &[
            SIM_ACCOUNT,
            TestAccount {
                username: r"CONTOSO\svc-reports",
                smtp: "svc-reports@contoso.example",
                password: wrong,
            },
        ],
        "",
    );
    let output = doctor(&config, &["--mailbox", "granted@contoso.example"]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    line(&text, "ok", r"logon CONTOSO\svc-mytt");
    line(&text, "warn", r"getfolder CONTOSO\svc-mytt");
    let refused = line(&text, "FAIL", r"logon CONTOSO\svc-reports");
    assert!(
        refused.contains("wrong password, or the account is locked or disabled"),
        "{text}"
    );
    let fix = fix_of(&text, "FAIL", r"logon CONTOSO\svc-reports");
    assert!(
        fix.contains("account1.password"),
        "names the password file: {fix}"
    );
    assert!(fix.contains("Unlock-ADAccount svc-reports"), "{fix}");
    assert!(
        line(&text, "skipped", r"getfolder CONTOSO\svc-reports").contains("not run"),
        "{text}"
    );
    // The mailbox check runs with the account that works, and the refused one is not tried
    // again: one failed logon in the whole run (over http there is no second attempt).
    assert!(
        line(&text, "ok", "mailbox granted@contoso.example")
            .contains("(1 refused account(s) left out)"),
        "{text}"
    );
    assert_eq!(sim.stats().ntlm_refused, 1);
    assert_no_password(&output, &[SVC_PASSWORD, wrong]);
}

#[tokio::test]
async fn nothing_listening_is_a_tcp_failure_and_later_steps_are_skipped() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/EWS/Exchange.asmx");
    let config = write_config(dir.path(), &url, &[SIM_ACCOUNT], "");
    let output = doctor(&config, &["--mailbox", "granted@contoso.example"]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    line(&text, "ok", "dns");
    assert!(
        line(&text, "FAIL", "tcp").contains("connection refused"),
        "{text}"
    );
    assert!(
        fix_of(&text, "FAIL", "tcp").contains("port in exchange.url"),
        "{text}"
    );
    line(&text, "skipped", "auth schemes");
    line(&text, "skipped", r"logon CONTOSO\svc-mytt");
    line(&text, "skipped", "mailbox granted@contoso.example");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_dns_failure() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "https://exchange.doctor-test.invalid/EWS/Exchange.asmx",
        &[SIM_ACCOUNT],
        "",
    );
    let output = doctor(&config, &["--json"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    let steps = json_steps(&output);
    let dns = steps.iter().find(|step| step["step"] == "dns").unwrap();
    assert_eq!(dns["verdict"], "fail");
    assert!(
        dns["detail"]
            .as_str()
            .unwrap()
            .contains("exchange.doctor-test.invalid does not resolve"),
        "{dns}"
    );
    assert!(
        dns["fix"].as_str().unwrap().contains("exchange.url"),
        "{dns}"
    );
    for later in ["tcp", "tls", "auth schemes", "logon", "getfolder"] {
        let step = steps
            .iter()
            .find(|step| step["step"] == later)
            .unwrap_or_else(|| panic!("no {later} step"));
        assert_eq!(step["verdict"], "skipped", "{step}");
    }
}

#[tokio::test]
async fn basic_on_plain_http_says_use_https() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url, &[SIM_ACCOUNT], "auth = \"basic\"");
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    let config_line = line(&text, "FAIL", "config");
    assert!(config_line.contains("exchange.auth"), "{text}");
    assert!(
        fix_of(&text, "FAIL", "config").contains("use an https:// exchange.url"),
        "{text}"
    );
    line(&text, "skipped", "dns");
    assert_eq!(
        sim.stats().connections_opened,
        0,
        "nothing was sent to the server"
    );

    // With the lab flag it runs, and the warning still says to use https.
    let config = write_config(
        dir.path(),
        &sim.url,
        &[SIM_ACCOUNT],
        "auth = \"basic\"\ndanger_allow_basic_over_http = true",
    );
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", all_text(&output));
    assert!(
        line(&text, "warn", "http").contains("Basic over plain http"),
        "{text}"
    );
    assert!(fix_of(&text, "warn", "http").contains("https://"), "{text}");
    line(&text, "ok", r"logon CONTOSO\svc-mytt");
    assert_no_password(&output, &[SVC_PASSWORD]);
}

// ---------------------------------------------------------------------------------------------
// Against ../shared/ntlm-peer (pyspnego) with TLS and Extended Protection.
// ---------------------------------------------------------------------------------------------

fn peer_options(cbt: &'static str) -> PeerOptions {
    PeerOptions {
        tls: true,
        cbt: Some(cbt),
        response_body: std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/ews/get_folder/calendar_permissions.xml"
        ))
        .unwrap(),
        ..Default::default()
    }
}

fn tls_section(peer: &NtlmPeer, channel_binding: bool) -> String {
    format!(
        "ca_file = \"{}\"\nchannel_binding = {channel_binding}",
        peer.cert_path.display()
    )
}

#[tokio::test]
async fn a_healthy_exchange_with_extended_protection_passes() {
    let Some(peer) = NtlmPeer::start(peer_options("require")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        peer.url().as_str(),
        &[PEER_ACCOUNT],
        &with_tls("", &tls_section(&peer, true)),
    );
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\npeer: {}",
        all_text(&output),
        peer.stderr()
    );
    assert!(
        line(&text, "ok", "tls handshake").contains("CN=localhost"),
        "{text}"
    );
    assert!(
        line(&text, "ok", "tls trust").contains("tls.ca_file"),
        "{text}"
    );
    line(&text, "ok", "tls name");
    line(&text, "ok", "tls expiry");
    assert!(
        line(&text, "ok", "channel binding")
            .contains("sha256WithRSAEncryption, so tls-server-end-point hashes it with SHA-256"),
        "{text}"
    );
    let schemes = line(&text, "ok", "auth schemes");
    assert!(schemes.contains("Negotiate, NTLM"), "{text}");
    assert!(
        line(&text, "ok", r"logon CONTOSO\svc-mytt")
            .contains("Extended Protection requires a binding"),
        "{text}"
    );
    assert!(
        line(&text, "ok", r"getfolder CONTOSO\svc-mytt")
            .contains("ServerVersionInfo 15.1 build 2507.6 (V2017_07_11)"),
        "{text}"
    );
    assert!(!text.lines().any(|line| line.starts_with("FAIL")), "{text}");
    // One logon with and one without the binding, and the peer refused only the second.
    let accepted = peer.type3_events("auth_ok");
    let refused = peer.type3_events("auth_fail");
    assert_eq!(accepted.len(), 1, "{}", peer.stderr());
    assert_eq!(accepted[0]["msg"]["cbt"], "present");
    assert_eq!(refused.len(), 1, "{}", peer.stderr());
    assert_eq!(refused[0]["msg"]["cbt"], "absent");
    assert_no_password(&output, &[PEER_PASSWORD]);
}

#[tokio::test]
async fn extended_protection_with_channel_binding_off_says_turn_it_on() {
    let Some(peer) = NtlmPeer::start(peer_options("require")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        peer.url().as_str(),
        &[PEER_ACCOUNT],
        &with_tls("", &tls_section(&peer, false)),
    );
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    let logon = line(&text, "FAIL", r"logon CONTOSO\svc-mytt");
    assert!(
        logon.contains("Extended Protection requires a channel binding"),
        "{text}"
    );
    assert!(!logon.contains("wrong password"), "{text}");
    assert!(
        fix_of(&text, "FAIL", r"logon CONTOSO\svc-mytt").contains("set tls.channel_binding = true"),
        "{text}"
    );
    // The connector as configured cannot log on: its GetFolder is not attempted.
    line(&text, "skipped", r"getfolder CONTOSO\svc-mytt");
    assert_no_password(&output, &[PEER_PASSWORD]);
}

#[tokio::test]
async fn a_wrong_password_under_extended_protection_is_told_apart() {
    let Some(peer) = NtlmPeer::start(peer_options("require")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wrong = "N0t-The-Pass!";
    let config = write_config(
        dir.path(),
        peer.url().as_str(),
        &[TestAccount {
            password: wrong,
            ..PEER_ACCOUNT
        }],
        &with_tls("", &tls_section(&peer, true)),
    );
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    let logon = line(&text, "FAIL", r"logon CONTOSO\svc-mytt");
    assert!(
        logon.contains("refused CONTOSO\\svc-mytt with and without channel binding: wrong password, or the account is locked or disabled"),
        "{text}"
    );
    assert!(!logon.contains("Extended Protection requires"), "{text}");
    assert!(
        fix_of(&text, "FAIL", r"logon CONTOSO\svc-mytt").contains("LockedOut"),
        "{text}"
    );
    // Exactly two failed logons: one with, one without the binding.
    assert_eq!(peer.type3_events("auth_fail").len(), 2, "{}", peer.stderr());
    assert_no_password(&output, &[wrong, PEER_PASSWORD]);
}

#[tokio::test]
async fn an_untrusted_certificate_is_named_and_nothing_is_authenticated() {
    let Some(peer) = NtlmPeer::start(peer_options("require")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        peer.url().as_str(),
        &[PEER_ACCOUNT],
        &with_tls("", "channel_binding = true"),
    );
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    line(&text, "ok", "tls handshake");
    // "unknown issuer", or, on a machine that trusts another root named CN=localhost, "not a
    // trusted CA": either way the certificate's trust is what is named.
    let trust = line(&text, "FAIL", "tls trust");
    assert!(trust.contains("untrusted certificate"), "{text}");
    assert!(trust.contains("CN=localhost"), "{text}");
    let fix = fix_of(&text, "FAIL", "tls trust");
    assert!(fix.contains("set tls.ca_file"), "{fix}");
    assert!(
        fix.contains("never use tls.danger_accept_invalid_certs"),
        "{fix}"
    );
    // The name and the dates are fine: only trust is blamed.
    line(&text, "ok", "tls name");
    line(&text, "ok", "tls expiry");
    line(&text, "skipped", r"logon CONTOSO\svc-mytt");
    assert!(
        peer.events_of("challenge").is_empty(),
        "no NTLM was attempted"
    );
}

// ---------------------------------------------------------------------------------------------
// Certificates made here (rcgen): a name mismatch, an expired certificate, and a TLS-terminating
// proxy in front of the peer.
// ---------------------------------------------------------------------------------------------

/// A CA and a server certificate it signs, for `names`, valid between the two years.
struct TestPki {
    ca_pem: String,
    server: rustls::ServerConfig,
}

fn pki(names: &[&str], from_year: i32, to_year: i32) -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Doctor Test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(
        names
            .iter()
            .map(|name| (*name).to_owned())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0]);
    params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
    let certificate = params.signed_by(&key, &issuer).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![certificate.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        server,
    }
}

/// A TLS server on 127.0.0.1:0 that completes handshakes and closes (enough for the TLS steps).
async fn tls_server(config: rustls::ServerConfig) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut stream) = acceptor.accept(tcp).await {
                    let _ = stream.shutdown().await;
                }
            });
        }
    });
    (port, task)
}

/// Aborts the server task when the test ends.
struct Abort(JoinHandle<()>);

impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[tokio::test]
async fn a_name_mismatch_and_an_expired_certificate_get_their_own_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");

    let other_name = pki(&["mail.fabrikam.example"], 2024, 2099);
    std::fs::write(&ca_file, &other_name.ca_pem).unwrap();
    let (port, task) = tls_server(other_name.server).await;
    let _server = Abort(task);
    let url = format!("https://127.0.0.1:{port}/EWS/Exchange.asmx");
    let tls = with_tls("", &format!("ca_file = \"{}\"", ca_file.display()));
    let config = write_config(dir.path(), &url, &[SIM_ACCOUNT], &tls);
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    line(&text, "ok", "tls trust");
    assert!(
        line(&text, "FAIL", "tls name")
            .contains("the certificate is for mail.fabrikam.example, not 127.0.0.1"),
        "{text}"
    );
    assert!(
        fix_of(&text, "FAIL", "tls name").contains("exchange.url"),
        "{text}"
    );
    line(&text, "ok", "tls expiry");
    line(&text, "skipped", "auth schemes");

    // Without the CA file the same server is also untrusted: two verdicts, each named.
    let config = write_config(dir.path(), &url, &[SIM_ACCOUNT], &with_tls("", ""));
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    assert!(
        line(&text, "FAIL", "tls trust")
            .contains("untrusted certificate: unknown issuer CN=Doctor Test CA"),
        "{text}"
    );
    line(&text, "FAIL", "tls name");

    // The lab flag turns both into warnings and lets the next steps run.
    let config = write_config(
        dir.path(),
        &url,
        &[SIM_ACCOUNT],
        &with_tls("", "danger_accept_invalid_certs = true"),
    );
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert!(
        line(&text, "warn", "lab flags").contains("danger_accept_invalid_certs"),
        "{text}"
    );
    let trust = line(&text, "warn", "tls trust");
    assert!(
        trust.contains("accepted only because tls.danger_accept_invalid_certs = true"),
        "{text}"
    );
    line(&text, "warn", "tls name");
    // This test server speaks no HTTP: the schemes step runs and fails on that.
    line(&text, "FAIL", "auth schemes");

    let expired = pki(&["127.0.0.1", "localhost"], 2019, 2021);
    std::fs::write(&ca_file, &expired.ca_pem).unwrap();
    let (port, task) = tls_server(expired.server).await;
    let _expired_server = Abort(task);
    let url = format!("https://127.0.0.1:{port}/EWS/Exchange.asmx");
    let config = write_config(dir.path(), &url, &[SIM_ACCOUNT], &tls);
    let output = doctor(&config, &["--json"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", all_text(&output));
    let steps = json_steps(&output);
    let verdict_of = |name: &str| {
        steps
            .iter()
            .find(|step| step["step"] == name)
            .unwrap_or_else(|| panic!("no {name} step"))
            .clone()
    };
    assert_eq!(
        verdict_of("tls trust")["verdict"],
        "ok",
        "expiry is not distrust"
    );
    assert_eq!(verdict_of("tls name")["verdict"], "ok");
    let expiry = verdict_of("tls expiry");
    assert_eq!(expiry["verdict"], "fail");
    assert!(
        expiry["detail"]
            .as_str()
            .unwrap()
            .contains("the certificate expired on 2021-01-01"),
        "{expiry}"
    );
    assert!(
        expiry["fix"]
            .as_str()
            .unwrap()
            .contains("Enable-ExchangeCertificate"),
        "{expiry}"
    );
}

/// A TLS-terminating proxy: it presents its own certificate to the client and opens one TLS
/// connection to `upstream_port` per client connection (NTLM is connection-bound), copying bytes.
async fn tls_proxy(
    front: rustls::ServerConfig,
    upstream_port: u16,
    upstream_ca: &Path,
) -> (u16, JoinHandle<()>) {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls::pki_types::CertificateDer::pem_file_iter(upstream_ca).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(front));
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, connector) = (acceptor.clone(), connector.clone());
            tokio::spawn(async move {
                let Ok(mut downstream) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(upstream_tcp) = TcpStream::connect(("127.0.0.1", upstream_port)).await
                else {
                    return;
                };
                let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
                let Ok(mut upstream) = connector.connect(name, upstream_tcp).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut downstream, &mut upstream).await;
            });
        }
    });
    (port, task)
}

use rustls::pki_types::pem::PemObject;

#[tokio::test]
async fn a_tls_terminating_proxy_breaks_the_binding_and_is_named() {
    // Extended Protection "Allow": no binding is fine, a binding must match the certificate the
    // peer itself serves, which the proxy hides.
    let Some(peer) = NtlmPeer::start(peer_options("allow")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let front = pki(&["127.0.0.1", "localhost"], 2024, 2099);
    let ca_file = dir.path().join("proxy-ca.pem");
    std::fs::write(&ca_file, &front.ca_pem).unwrap();
    let (port, task) = tls_proxy(front.server, peer.port, &peer.cert_path).await;
    let _proxy = Abort(task);
    let url = format!("https://127.0.0.1:{port}/EWS/Exchange.asmx");
    let config = write_config(
        dir.path(),
        &url,
        &[PEER_ACCOUNT],
        &with_tls(
            "",
            &format!(
                "ca_file = \"{}\"\nchannel_binding = true",
                ca_file.display()
            ),
        ),
    );
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}\npeer: {}",
        all_text(&output),
        peer.stderr()
    );
    line(&text, "ok", "tls trust");
    let logon = line(&text, "FAIL", r"logon CONTOSO\svc-mytt");
    assert!(
        logon.contains("a TLS-terminating proxy or load balancer presents a different certificate than Exchange sees"),
        "{text}"
    );
    assert!(
        fix_of(&text, "FAIL", r"logon CONTOSO\svc-mytt").contains("pass TLS through"),
        "{text}"
    );
    let refused = peer.type3_events("auth_fail");
    assert_eq!(refused.len(), 1, "{}", peer.stderr());
    assert_eq!(
        refused[0]["msg"]["cbt"], "present",
        "the binding was sent and did not match"
    );
    assert_eq!(peer.type3_events("auth_ok").len(), 1);
    assert_no_password(&output, &[PEER_PASSWORD]);
}
