//! `ews-connector doctor` with `[graph]`: the real binary against the EWS simulator and the
//! Graph simulator. The Graph steps come after the EWS ones: the token (with the AADSTS fix on
//! a refusal), the application permission in the token's `roles` (none with the admin guide's
//! setup; `Calendars.ReadWrite` there is a tenant-wide consent, a warning), and the calendar
//! read of `--mailbox` (ready, outside the RBAC scope, on-premises, unknown). Every output is
//! checked for the secret and for any JWT; one run is made in-process at debug level with every
//! log line captured.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use ews_connector::sim::graph::{GraphMailbox, GraphSimConfig, GraphSimHandle};

use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");
const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "Gr4ph~S3cret.Value_0123456789";
/// Where the cloud mailboxes live; `routing.graph_domains` sends it to Graph.
const CLOUD: &str = "students.contoso.example";

fn cloud(user: &str) -> String {
    format!("{user}@{CLOUD}")
}

/// A tenant with a mailbox in scope, one outside it, one still on-premises; `roles` are the
/// permissions consented tenant-wide in Entra ID.
async fn graph_sim(roles: &[&str]) -> GraphSimHandle {
    let mut outside = GraphMailbox::new(&cloud("board"));
    outside.in_scope = false;
    let mut on_premises = GraphMailbox::new(&cloud("lecturer"));
    on_premises.exchange_online = false;
    ews_connector::sim::graph::start(GraphSimConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        secrets: vec![SECRET.to_owned()],
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        mailboxes: vec![GraphMailbox::new(&cloud("student1")), outside, on_premises],
        ..GraphSimConfig::default()
    })
    .await
    .unwrap()
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A configuration for the EWS simulator at `ews_url` and the Graph simulator, with `secret`
/// in the secret file and `routing` as the `[routing]` section's lines.
fn write_config(
    dir: &Path,
    ews_url: &str,
    graph: &GraphSimHandle,
    secret: &str,
    routing: &str,
) -> PathBuf {
    let password = dir.join("account.password");
    write_private(&password, &format!("{SVC_PASSWORD}\n"));
    let secret_file = dir.join("graph.secret");
    write_private(&secret_file, &format!("{secret}\n"));
    let base = graph.base_url();
    let text = format!(
        r#"[exchange]
url = "{ews_url}"
access = "delegate"
impersonation = true
timeout_secs = 20
connect_timeout_secs = 5

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "{password}"

[delegation]
principal = "mytimetable-push@contoso.example"
level = "Editor"

[api]
allowed_domains = ["contoso.example", "{CLOUD}"]

[graph]
tenant_id = "{TENANT}"
client_id = "{CLIENT}"
client_secret_file = "{secret_file}"
authority = "{base}"
endpoint = "{base}"

[routing]
{routing}
"#,
        password = password.display(),
        secret_file = secret_file.display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const GRAPH_DOMAINS: &str = "graph_domains = [\"students.contoso.example\"]";

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

/// Neither the secret nor any JWT (a token or an assertion: `eyJ` is `{"` in base64url).
fn assert_no_secret(text: &str) {
    assert!(!text.contains(SECRET), "the secret is shown:\n{text}");
    assert!(!text.contains("eyJ"), "a JWT is shown:\n{text}");
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
fn fix<'a>(text: &'a str, verdict: &str, step: &str) -> &'a str {
    let wanted = line(text, verdict, step);
    let mut lines = text.lines();
    lines.find(|line| *line == wanted);
    let next = lines.next().unwrap_or_default();
    assert!(
        next.trim_start().starts_with("fix: "),
        "no fix under `{wanted}`:\n{text}"
    );
    next
}

/// The steps of `--json` by (step, subject): verdict and fix.
fn json_steps(output: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", stdout(output)))
}

fn json_step<'a>(steps: &'a [serde_json::Value], step: &str) -> &'a serde_json::Value {
    steps
        .iter()
        .find(|value| value["step"] == step)
        .unwrap_or_else(|| panic!("no step {step} in {steps:?}"))
}

#[tokio::test]
async fn the_recommended_setup_passes_with_no_role_in_the_token_and_the_mailbox_ready() {
    let ews = start_sim(&sample_state()).await;
    let graph = graph_sim(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ews.url, &graph, SECRET, GRAPH_DOMAINS);
    let student = cloud("student1");
    let output = doctor(&config, &["--mailbox", &student]).await;
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    let token = line(&text, "ok", "graph token");
    assert!(token.contains(CLIENT) && token.contains(TENANT), "{token}");
    assert!(token.contains("client secret"), "{token}");
    let permission = line(&text, "ok", "graph permission");
    assert!(permission.contains("no roles"), "{permission}");
    assert!(
        permission.contains("RBAC for Applications role assignment decides"),
        "{permission}"
    );
    let mailbox = line(&text, "ok", &format!("graph mailbox {student}"));
    assert!(mailbox.contains("canEdit true (ready)"), "{mailbox}");
    // The EWS mailbox step does not ask EWS about a mailbox routing sends only to Graph.
    let ews_mailbox = line(&text, "ok", &format!("mailbox {student}"));
    assert!(
        ews_mailbox.contains("routing.graph_domains"),
        "{ews_mailbox}"
    );
    // The EWS steps came first, then the Graph ones.
    let position = |needle: &str| text.find(needle).unwrap();
    assert!(position("getfolder") < position("graph token"), "{text}");
    assert_eq!(graph.stats().token_requests, 1, "one token request");
    assert_eq!(
        graph.mailbox_stats(&student).requests,
        1,
        "one calendar read"
    );
    assert_no_secret(&format!(
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    ));
}

#[tokio::test]
async fn calendars_readwrite_consented_tenant_wide_is_a_warning_with_the_guide_s_fix() {
    let ews = start_sim(&sample_state()).await;
    let graph = graph_sim(&["Calendars.ReadWrite"]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ews.url, &graph, SECRET, GRAPH_DOMAINS);
    let output = doctor(&config, &[]).await;
    let text = stdout(&output);
    assert!(output.status.success(), "a warning passes: {text}");
    let permission = line(&text, "warn", "graph permission");
    assert!(
        permission.contains("consented tenant-wide in Entra ID")
            && permission.contains("reaches every mailbox"),
        "{permission}"
    );
    let fix = fix(&text, "warn", "graph permission");
    assert!(
        fix.contains("remove the admin consent for Calendars.ReadWrite")
            && fix.contains("docs/admin/exchange-online.md, step 3"),
        "{fix}"
    );
    assert!(
        !text.contains("graph mailbox"),
        "no mailbox step without --mailbox: {text}"
    );
}

#[tokio::test]
async fn a_mailbox_outside_the_scope_on_premises_or_unknown_names_its_fix() {
    let ews = start_sim(&sample_state()).await;
    let graph = graph_sim(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ews.url, &graph, SECRET, GRAPH_DOMAINS);
    let cases = [
        (
            cloud("board"),
            "ErrorAccessDenied",
            "Test-ServicePrincipalAuthorization -Identity 11111111-2222-3333-4444-555555555555 -Resource board@students.contoso.example",
        ),
        (
            cloud("lecturer"),
            "MailboxNotEnabledForRESTAPI",
            "take students.contoso.example out of routing.graph_domains",
        ),
        (
            cloud("nobody"),
            "ErrorInvalidUser",
            "must be the primary SMTP address of a user in tenant uni.onmicrosoft.com",
        ),
    ];
    for (mailbox, code, wanted) in cases {
        let output = doctor(&config, &["--json", "--mailbox", &mailbox]).await;
        assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
        let steps = json_steps(&output);
        let step = json_step(&steps, "graph mailbox");
        assert_eq!(step["subject"], mailbox.as_str());
        assert_eq!(step["verdict"], "fail", "{step}");
        assert!(step["detail"].as_str().unwrap().contains(code), "{step}");
        assert!(step["fix"].as_str().unwrap().contains(wanted), "{step}");
        // Only the Graph mailbox step failed.
        let failed: Vec<&serde_json::Value> = steps
            .iter()
            .filter(|step| step["verdict"] == "fail" || step["verdict"] == "skipped")
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_no_secret(&stdout(&output));
    }
}

#[tokio::test]
async fn with_follow_moves_an_on_premises_mailbox_is_left_to_ews() {
    let ews = start_sim(&sample_state()).await;
    let graph = graph_sim(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    // No fixed domain: EWS first, Graph next.
    let config = write_config(dir.path(), &ews.url, &graph, SECRET, "follow_moves = true");
    let lecturer = cloud("lecturer");
    let output = doctor(&config, &["--mailbox", &lecturer]).await;
    let text = stdout(&output);
    let graph_line = line(&text, "ok", &format!("graph mailbox {lecturer}"));
    assert!(
        graph_line.contains("on-premises") && graph_line.contains("routing sends"),
        "{graph_line}"
    );
    // EWS does not hold it either (not in the EWS simulator): routing would ask Graph next,
    // so the EWS step is no failure of its own.
    let ews_line = line(&text, "ok", &format!("mailbox {lecturer}"));
    assert!(
        ews_line.contains("routing asks Microsoft Graph next"),
        "{ews_line}"
    );
}

#[tokio::test]
async fn a_wrong_secret_fails_the_token_with_the_aadsts_fix_and_skips_the_rest() {
    let ews = start_sim(&sample_state()).await;
    let graph = graph_sim(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = "Wr0ng~Secret.Value_9876543210";
    let config = write_config(dir.path(), &ews.url, &graph, wrong, GRAPH_DOMAINS);
    let student = cloud("student1");
    let output = doctor(&config, &["--mailbox", &student]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    let token = line(&text, "FAIL", "graph token");
    assert!(token.contains("AADSTS7000215"), "{token}");
    let fix = fix(&text, "FAIL", "graph token");
    assert!(
        fix.contains("graph.client_secret_file must hold the secret's Value"),
        "{fix}"
    );
    line(&text, "skipped", "graph permission");
    line(&text, "skipped", &format!("graph mailbox {student}"));
    assert_eq!(graph.mailbox_stats(&student).requests, 0);
    let all = format!("{text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(!all.contains(wrong), "the wrong secret is shown:\n{all}");
    assert_no_secret(&all);
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
async fn at_debug_level_no_secret_or_token_reaches_a_log_or_the_report() {
    let captured = Captured::default();
    // Global: a thread-local subscriber can miss callsites that tests running in parallel
    // registered first; their lines land here too, which only widens the check.
    tracing::subscriber::set_global_default(ews_connector::logging::subscriber(
        ews_connector::config::LogFormat::Text,
        "debug",
        captured.clone(),
        false,
    ))
    .unwrap();
    let ews = start_sim(&sample_state()).await;
    let graph = graph_sim(&["Calendars.ReadWrite"]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &ews.url, &graph, SECRET, GRAPH_DOMAINS);
    let report = ews_connector::doctor::run(&config, Some(&cloud("board"))).await;
    let steps: Vec<&str> = report.steps.iter().map(|step| step.step).collect();
    assert!(
        steps.ends_with(&["graph token", "graph permission", "graph mailbox"]),
        "{steps:?}"
    );
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("DEBUG"), "debug lines were captured: {logs}");
    for text in [report.render_text(), report.render_json(), logs] {
        assert_no_secret(&text);
        assert!(!text.contains("Bearer "), "an Authorization value:\n{text}");
    }
}
