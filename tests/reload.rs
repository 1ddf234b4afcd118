//! `App::reload`, what SIGHUP does, in-process against the simulator: a password file fixed
//! on disk is used after the reload (the refused account is tried again), an unusable new
//! file keeps the old password and says why, an unchanged file sends nothing new, and a
//! rotated audit file is reopened so the next change is recorded in the new one.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use ews_connector::app::{self, App, ReloadOutcome, TrustReload};
use ews_connector::config::Config;
use sha2::{Digest, Sha256};

use common::sim::{sample_state, start_sim};

const TOKEN: &str = "reload-test-token-0123456789";
const USERNAME: &str = r"CONTOSO\svc-mytt";
const RIGHT_PASSWORD: &str = "Sim-Passw0rd!";

fn write_password(path: &Path, password: &str, mode: u32) {
    std::fs::write(path, format!("{password}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn config_text(sim_url: &str, password_file: &Path, audit: &Path) -> String {
    let token_sha256 = hex::encode(Sha256::digest(TOKEN.as_bytes()));
    format!(
        r#"
[exchange]
url = "{sim_url}"
auth = "ntlm"
access = "delegate"
impersonation = true

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "{password_file}"

[delegation]
principal = "mytimetable-push@contoso.example"
level = "Editor"

[api]
listen = "127.0.0.1:0"

[[api.clients]]
name = "mytimetable"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check", "calendar:delegate"]

[audit]
path = "{audit}"
"#,
        password_file = password_file.display(),
        audit = audit.display(),
    )
}

/// GET the access check of `mailbox`: the status and the JSON body.
async fn access(base: &str, mailbox: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/mailboxes/{mailbox}/calendar/access"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn reload_applies_a_fixed_password_file_and_keeps_the_old_one_when_the_new_is_unusable() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("svc-mytt.password");
    let audit_path = dir.path().join("audit.jsonl");
    write_password(&password_file, "not-the-password", 0o600);
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        config_text(&sim.url, &password_file, &audit_path),
    )
    .unwrap();

    let app = Arc::new(App::open(Config::load(&config_path).unwrap()).unwrap());
    let listener = app::listen(app.config().api.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn({
        let app = app.clone();
        async move {
            app.serve(listener, async {
                let _ = stopped.await;
            })
            .await
        }
    });

    // The wrong password: refused, and the account is marked.
    let (status, body) = access(&base, "granted@contoso.example").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "exchange_auth_failed", "{body}");

    // A reload with the file unchanged changes nothing and sends nothing new.
    let logons = sim.stats().ntlm_refused;
    let unchanged = app.reload();
    assert_eq!(
        unchanged,
        ReloadOutcome {
            audit_error: None,
            passwords_changed: Vec::new(),
            password_problems: Vec::new(),
            trust: TrustReload::NotUsed,
            graph_credential: ews_connector::app::GraphCredentialReload::NotUsed,
        }
    );
    let (status, body) = access(&base, "granted@contoso.example").await;
    assert_eq!(body["code"], "exchange_auth_failed", "{status} {body}");
    assert_eq!(
        sim.stats().ntlm_refused,
        logons,
        "a refused password is never sent again"
    );

    // The operator fixes the file: the reload installs it and the same check now works.
    write_password(&password_file, RIGHT_PASSWORD, 0o600);
    let fixed = app.reload();
    assert_eq!(fixed.passwords_changed, [USERNAME]);
    assert!(fixed.is_complete(), "{fixed:?}");
    let (status, body) = access(&base, "granted@contoso.example").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true, "{body}");

    // A new file others can write is refused, naming the key and the reason; the old
    // password stays in use.
    write_password(&password_file, "someone-elses-password", 0o666);
    let refused = app.reload();
    assert!(!refused.is_complete());
    assert!(refused.passwords_changed.is_empty(), "{refused:?}");
    assert_eq!(refused.password_problems.len(), 1, "{refused:?}");
    let problem = &refused.password_problems[0];
    assert!(problem.starts_with("exchange.accounts[0]: "), "{problem}");
    assert!(problem.contains("can be written by others"), "{problem}");
    assert!(!problem.contains("someone-elses-password"), "{problem}");
    let (status, body) = access(&base, "granted@contoso.example").await;
    assert_eq!(status, 200, "the old password still works: {body}");

    // An empty new file: the same, the old password stays.
    write_password(&password_file, "", 0o600);
    let empty = app.reload();
    assert!(empty.password_problems[0].contains("is empty"), "{empty:?}");
    let (status, body) = access(&base, "granted@contoso.example").await;
    assert_eq!(status, 200, "{body}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn reload_reopens_a_rotated_audit_file() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("svc-mytt.password");
    let audit_path = dir.path().join("audit.jsonl");
    write_password(&password_file, RIGHT_PASSWORD, 0o600);
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        config_text(&sim.url, &password_file, &audit_path),
    )
    .unwrap();
    let app = Arc::new(App::open(Config::load(&config_path).unwrap()).unwrap());
    let listener = app::listen(app.config().api.listen).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn({
        let app = app.clone();
        async move {
            app.serve(listener, async {
                let _ = stopped.await;
            })
            .await
        }
    });
    let grant = |mailbox: &'static str| {
        let base = base.clone();
        async move {
            reqwest::Client::new()
                .put(format!("{base}/v1/mailboxes/{mailbox}/calendar/delegation"))
                .bearer_auth(TOKEN)
                .json(&serde_json::json!({ "level": "Editor" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    assert_eq!(grant("plain@contoso.example").await, 200);
    let rotated = dir.path().join("audit.jsonl.1");
    std::fs::rename(&audit_path, &rotated).unwrap();
    let outcome = app.reload();
    assert!(outcome.is_complete(), "{outcome:?}");
    assert_eq!(grant("alice@contoso.example").await, 200);

    let old = std::fs::read_to_string(&rotated).unwrap();
    let new = std::fs::read_to_string(&audit_path).unwrap();
    assert!(old.contains("plain@contoso.example"), "{old}");
    assert!(!old.contains("alice@contoso.example"), "{old}");
    assert!(new.contains("alice@contoso.example"), "{new}");
    assert!(!new.contains("plain@contoso.example"), "{new}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    sim.shutdown().await;
}
