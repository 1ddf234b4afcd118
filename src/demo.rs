//! `demo`: the connector on its embedded Exchange simulator, for a first look without Exchange
//! and without a configuration file.
//!
//! A hybrid organisation: it starts the EWS simulator with the sample state
//! (`fixtures/sim/sample.toml`, compiled in) and the Graph simulator with the demo tenant
//! (`fixtures/sim/graph/demo.toml`, compiled in: students in Exchange Online, a mailbox moved
//! there from on-premises, one outside the application's scope) and an application secret made
//! at start, builds a configuration for both through `config` (`[graph]` with
//! `client_secret_file`, `[routing]` with `default = "ews"`, a `graph_domains` entry and
//! `follow_moves = true`) and opens the same [`App`] as `serve` (so the demo runs exactly the
//! code a real deployment runs), starts the API on `listen`, and prints a token and the curl
//! commands of MyTimetable's flow. Wiring only: no logic of its own.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;

use crate::api;
use crate::app::{self, App};
use crate::config::Config;
use crate::sim::graph::GraphSimConfig;
use crate::sim::{self, SimState};

/// The sample state the demo serves.
pub const SAMPLE_STATE: &str = include_str!("../fixtures/sim/sample.toml");

/// The Exchange Online tenant the demo serves beside it.
pub const GRAPH_TENANT: &str = include_str!("../fixtures/sim/graph/demo.toml");

/// The domain the demo routes to Exchange Online (`routing.graph_domains`).
pub const GRAPH_DOMAIN: &str = "students.contoso.example";

/// The Exchange Online mailboxes, and what each one shows.
pub const GRAPH_MAILBOXES: &[(&str, &str)] = &[
    (
        "student@students.contoso.example",
        "Exchange Online (Graph), a mentor's permission that a grant keeps",
    ),
    (
        "board@students.contoso.example",
        "Exchange Online, outside the application's RBAC scope",
    ),
    (
        "nobody@students.contoso.example",
        "no such mailbox in Exchange Online",
    ),
    (
        "moved@contoso.example",
        "moved from on-premises to Exchange Online: found through follow_moves",
    ),
];

/// The sample mailboxes, and what each one shows.
pub const SAMPLE_MAILBOXES: &[(&str, &str)] = &[
    ("plain@contoso.example", "not delegated yet"),
    ("granted@contoso.example", "already granted Editor"),
    (
        "reviewer@contoso.example",
        "granted below the required level (Reviewer)",
    ),
    (
        "ceo@contoso.example",
        "outside the service account's impersonation scope",
    ),
    ("nobody@contoso.example", "no such mailbox"),
    ("moving@contoso.example", "being moved to another database"),
    (
        "alice@contoso.example",
        "colleagues' permissions that a grant keeps",
    ),
];

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start the simulator")]
    Sim(#[source] std::io::Error),
    #[error("the sample state is not valid")]
    State(#[source] sim::Error),
    #[error("the demo tenant is not valid: {0}")]
    Tenant(String),
    #[error("cannot write the demo's application secret")]
    Secret(#[source] std::io::Error),
    #[error("cannot create the demo's directory")]
    WorkDir(#[source] std::io::Error),
    #[error("the demo configuration is not valid")]
    Config(#[source] crate::config::Error),
    /// Opening the rooms, listening or serving, as in `serve`.
    #[error(transparent)]
    App(#[from] app::Error),
}

/// Runs the demo until `shutdown` completes; prints the walkthrough on `out`.
///
/// # Errors
/// See [`Error`].
pub async fn run(
    listen: SocketAddr,
    out: &mut (dyn Write + Send),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let state = SimState::from_toml_str(SAMPLE_STATE).map_err(Error::State)?;
    let simulator = sim::start(state).await.map_err(Error::Sim)?;
    let work_dir = tempfile::tempdir().map_err(Error::WorkDir)?;
    // The application's client secret, made now: registered with the Graph simulator and read
    // by the connector from a file only its owner can read, as in production.
    let (graph_secret, _) = api::token::new_token();
    let secret_path = work_dir.path().join("graph.secret");
    write_private(&secret_path, &graph_secret).map_err(Error::Secret)?;
    let mut tenant = GraphSimConfig::from_toml(GRAPH_TENANT).map_err(Error::Tenant)?;
    tenant.secrets = vec![graph_secret];
    let client_id = tenant.client_id.clone();
    let tenant_id = tenant.tenant_id.clone();
    let graph = sim::graph::start(tenant).await.map_err(Error::Sim)?;
    let (token, token_sha256) = api::token::new_token();
    let audit_path = work_dir.path().join("audit.jsonl");
    let mut config_text = config_toml(
        &simulator.url,
        listen,
        &token_sha256,
        &audit_path.display().to_string(),
    );
    config_text.push_str(&graph_toml(
        &graph.base_url(),
        &tenant_id,
        &client_id,
        &secret_path.display().to_string(),
    ));
    // The simulator's sample password; it exists only in the simulator's sample state.
    let environment: HashMap<String, String> =
        [(DEMO_PASSWORD_ENV.to_owned(), "Sim-Passw0rd!".to_owned())].into();
    let config = Config::from_sources(&config_text, &HashMap::new(), &environment, work_dir.path())
        .map_err(Error::Config)?;

    let app = App::open(config)?;
    let listener = app::listen(listen).await?;
    let addr = listener.local_addr().map_err(|source| app::Error::Listen {
        addr: listen,
        source,
    })?;

    let _ = write!(
        out,
        "{}",
        walkthrough(
            &simulator.url,
            &graph.base_url(),
            addr,
            &token,
            &audit_path.display().to_string()
        )
    );
    let _ = out.flush();

    let result = app.serve(listener, shutdown).await;
    simulator.shutdown().await;
    graph.shutdown().await;
    Ok(result?)
}

/// The variable the demo configuration names in `password_env` for its one service account.
pub const DEMO_PASSWORD_ENV: &str = "DEMO_SIM_PASSWORD";

/// The demo's configuration file: one NTLM service account (`CONTOSO\svc-mytt`, password from
/// [`DEMO_PASSWORD_ENV`]), delegate access with impersonation, the principal
/// `mytimetable-push@contoso.example` at Editor, one API client with `token_sha256`.
/// `tests/admin_guide.rs` feeds it to `ews-connector admin-script`.
pub fn config_toml(
    sim_url: &str,
    listen: SocketAddr,
    token_sha256: &str,
    audit_path: &str,
) -> String {
    format!(
        r#"
[exchange]
url = "{url}"
auth = "ntlm"
access = "delegate"
impersonation = true

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_env = "DEMO_SIM_PASSWORD"

[delegation]
principal = "mytimetable-push@contoso.example"
level = "Editor"

[api]
listen = "{listen}"
allowed_domains = ["contoso.example", "{GRAPH_DOMAIN}"]

[[api.clients]]
name = "demo"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check", "calendar:delegate", "calendar:push"]

[audit]
path = "{audit}"
"#,
        url = sim_url,
        audit = audit_path,
    )
}

/// The demo's `[graph]` and `[routing]`: the application `client_id` of `tenant_id` proving
/// itself with the secret in `secret_file`, against the Graph simulator at `graph_url` (its
/// token endpoint and its API); [`GRAPH_DOMAIN`] on Graph, everything else on EWS, and a mailbox
/// EWS does not hold (moved) tried on Graph.
pub fn graph_toml(graph_url: &str, tenant_id: &str, client_id: &str, secret_file: &str) -> String {
    format!(
        r#"
[graph]
tenant_id = "{tenant_id}"
client_id = "{client_id}"
client_secret_file = "{secret_file}"
authority = "{graph_url}"
endpoint = "{graph_url}"

[routing]
default = "ews"
graph_domains = ["{GRAPH_DOMAIN}"]
follow_moves = true
"#
    )
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}

/// What the demo says about its audit trail: each grant or revoke that changes something
/// writes two lines (`delegation::change`: the intent before Exchange is written, then the
/// outcome that closes it); one that changes nothing writes none.
pub const AUDIT_LINES: &str =
    "two JSON lines per change: an intent line before Exchange is written, then the outcome line";

/// The text the demo prints: where things are, what the audit trail holds, the sample
/// mailboxes, and MyTimetable's flow as curl commands against `addr`.
pub fn walkthrough(
    sim_url: &str,
    graph_url: &str,
    addr: SocketAddr,
    token: &str,
    audit_path: &str,
) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "ews-connector demo\n  simulated Exchange: {sim_url} (service account CONTOSO\\svc-mytt, NTLMv2)\n  simulated Graph:    {graph_url} (Exchange Online; the application with a client secret)\n  routing:            {GRAPH_DOMAIN} on Graph, the rest on EWS, moved mailboxes followed\n  connector API:      http://{addr}\n  audit trail:        {audit_path}\n                      {AUDIT_LINES}\n\nSample mailboxes (on-premises, EWS):\n"
    ));
    for (mailbox, what) in SAMPLE_MAILBOXES {
        text.push_str(&format!("  {mailbox:<34} {what}\n"));
    }
    text.push_str("\nSample mailboxes (Exchange Online, Graph):\n");
    for (mailbox, what) in GRAPH_MAILBOXES {
        text.push_str(&format!("  {mailbox:<34} {what}\n"));
    }
    text.push_str(
        "\nMyTimetable's flow; paste into another terminal (Ctrl-C here stops the demo):\n\n",
    );
    text.push_str(&format!("export TOKEN='{token}'\n"));
    for command in curl_commands(addr) {
        text.push_str(&command);
        text.push('\n');
    }
    text.push('\n');
    text
}

/// The walkthrough's commands: check, grant, grant again, check, revoke, check, the statuses of
/// the other sample mailboxes, then a pushed event (created, then unchanged) and the listing;
/// then Exchange Online: a student's check, grant and check again (`backend: graph`), one
/// outside the application's scope, one unknown, and the mailbox that moved.
pub fn curl_commands(addr: SocketAddr) -> Vec<String> {
    let base = format!("http://{addr}/v1/mailboxes");
    let auth = "-H \"Authorization: Bearer $TOKEN\"";
    let access = |mailbox: &str| format!("curl -s {auth} {base}/{mailbox}/calendar/access");
    let grant = |mailbox: &str| {
        format!(
            "curl -s -X PUT {auth} -H 'Content-Type: application/json' -d '{{\"level\": \"Editor\"}}' {base}/{mailbox}/calendar/delegation"
        )
    };
    let revoke =
        |mailbox: &str| format!("curl -s -X DELETE {auth} {base}/{mailbox}/calendar/delegation");
    let push_event = |mailbox: &str| {
        format!(
            "curl -s -X PUT {auth} -H 'Content-Type: application/json' -d '{{\"subject\": \"Linear Algebra - Lecture\", \"start\": \"2026-12-01T09:00:00+01:00\", \"end\": \"2026-12-01T10:45:00+01:00\", \"timeZone\": \"Europe/Amsterdam\", \"location\": \"Room 1.14\"}}' {base}/{mailbox}/calendar/events/mytt-42"
        )
    };
    let list_events = |mailbox: &str| {
        format!(
            "curl -s {auth} '{base}/{mailbox}/calendar/events?start=2026-12-01T00:00:00Z&end=2026-12-08T00:00:00Z'"
        )
    };
    vec![
        access("plain@contoso.example"),
        grant("plain@contoso.example"),
        grant("plain@contoso.example"),
        access("plain@contoso.example"),
        revoke("plain@contoso.example"),
        access("plain@contoso.example"),
        grant("alice@contoso.example"),
        access("reviewer@contoso.example"),
        access("ceo@contoso.example"),
        access("nobody@contoso.example"),
        access("moving@contoso.example"),
        push_event("granted@contoso.example"),
        push_event("granted@contoso.example"),
        list_events("granted@contoso.example"),
        access("student@students.contoso.example"),
        grant("student@students.contoso.example"),
        access("student@students.contoso.example"),
        access("board@students.contoso.example"),
        access("nobody@students.contoso.example"),
        access("moved@contoso.example"),
    ]
}
