//! `demo`: the connector on its embedded Exchange simulator, for a first look without Exchange
//! and without a configuration file.
//!
//! It starts the simulator with the sample state (`fixtures/sim/sample.toml`, compiled in),
//! builds a configuration for it through `config` and opens the same [`App`] as `serve` (so the
//! demo runs exactly the code a real deployment runs), starts the API on `listen`, and prints a
//! token and the curl commands of MyTimetable's flow. Wiring only: no logic of its own.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;

use crate::api;
use crate::app::{self, App};
use crate::config::Config;
use crate::sim::{self, SimState};

/// The sample state the demo serves.
pub const SAMPLE_STATE: &str = include_str!("../fixtures/sim/sample.toml");

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
    let (token, token_sha256) = api::token::new_token();
    let audit_path = work_dir.path().join("audit.jsonl");
    let config_text = config_toml(
        &simulator.url,
        listen,
        &token_sha256,
        &audit_path.display().to_string(),
    );
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
            addr,
            &token,
            &audit_path.display().to_string()
        )
    );
    let _ = out.flush();

    let result = app.serve(listener, shutdown).await;
    simulator.shutdown().await;
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
allowed_domains = ["contoso.example"]

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

/// What the demo says about its audit trail: each grant or revoke that changes something
/// writes two lines (`delegation::change`: the intent before Exchange is written, then the
/// outcome that closes it); one that changes nothing writes none.
pub const AUDIT_LINES: &str =
    "two JSON lines per change: an intent line before Exchange is written, then the outcome line";

/// The text the demo prints: where things are, what the audit trail holds, the sample
/// mailboxes, and MyTimetable's flow as curl commands against `addr`.
pub fn walkthrough(sim_url: &str, addr: SocketAddr, token: &str, audit_path: &str) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "ews-connector demo\n  simulated Exchange: {sim_url} (service account CONTOSO\\svc-mytt, NTLMv2)\n  connector API:      http://{addr}\n  audit trail:        {audit_path}\n                      {AUDIT_LINES}\n\nSample mailboxes:\n"
    ));
    for (mailbox, what) in SAMPLE_MAILBOXES {
        text.push_str(&format!("  {mailbox:<26} {what}\n"));
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
/// the other sample mailboxes, then a pushed event (created, then unchanged) and the listing.
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
    ]
}
