//! The `ews-connector` binary as an operator runs it: `check` against the simulator, `config
//! check`, exit statuses, and no secret in anything it prints, even at debug log level.

mod common;

use std::path::Path;
use std::process::Output;

use base64::Engine;

use common::sim::{SVC_PASSWORD, sample_state, start_sim};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");

fn write_config(dir: &Path, url: &str, password: &str, extra_exchange: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("svc.password"), format!("{password}\n")).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[exchange]
url = "{url}"
access = "delegate"
impersonation = true
{extra_exchange}

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "svc.password"

[delegation]
principal = "mytimetable-push@contoso.example"
level = "Editor"

[api]
allowed_domains = ["contoso.example"]

[log]
level = "debug"
"#
        ),
    )
    .unwrap();
    path
}

async fn run(args: &[&str]) -> Output {
    tokio::process::Command::new(BINARY)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Everything that would let a reader of the output log on as the service account.
fn assert_no_secret(output: &str, password: &str) {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!(r"CONTOSO\svc-mytt:{password}"));
    for forbidden in [password, basic.as_str(), "TlRMTVNT", "Basic Q09OVE9TT1"] {
        assert!(
            !output.contains(forbidden),
            "output contains {forbidden:?}:\n{output}"
        );
    }
    assert!(
        !output.to_ascii_lowercase().contains("authorization:"),
        "{output}"
    );
}

#[tokio::test]
async fn check_at_debug_level_never_prints_the_password_or_an_authorization_value() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    for (auth_lines, label) in [
        ("auth = \"ntlm\"", "ntlm"),
        (
            "auth = \"basic\"\ndanger_allow_basic_over_http = true",
            "basic",
        ),
    ] {
        let config = write_config(dir.path(), &sim.url, SVC_PASSWORD, auth_lines);
        let output = run(&[
            "check",
            "granted@contoso.example",
            "--config",
            config.to_str().unwrap(),
            "--json",
        ])
        .await;
        let all = text(&output);
        assert!(output.status.success(), "{label}: {all}");
        let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(body["status"], "ok", "{label}: {all}");
        assert_eq!(body["ready"], true);
        assert!(
            all.contains("DEBUG"),
            "{label}: debug logging was not on:\n{all}"
        );
        assert_no_secret(&all, SVC_PASSWORD);
    }
    // The wrong password is a secret too, and the refusal says what failed.
    let config = write_config(dir.path(), &sim.url, "Wr0ng-Secret!", "auth = \"ntlm\"");
    let output = run(&[
        "check",
        "granted@contoso.example",
        "--config",
        config.to_str().unwrap(),
        "--json",
    ])
    .await;
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    let problem: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(problem["code"], "exchange_auth_failed", "{all}");
    assert_eq!(problem["status"], 502);
    assert_no_secret(&all, "Wr0ng-Secret!");
}

#[tokio::test]
async fn check_prints_a_table_and_answers_not_ready_with_status_zero() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url, SVC_PASSWORD, "");
    let output = run(&[
        "check",
        "reviewer@contoso.example",
        "--config",
        config.to_str().unwrap(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", text(&output));
    assert!(stdout.contains("insufficient"), "{stdout}");
    assert!(stdout.contains("Reviewer"), "{stdout}");
    assert!(!stdout.contains("primary address"), "{stdout}");

    // An alias and a mailbox moved to Exchange Online: the table names what Exchange said.
    for (mailbox, line) in [
        (
            "grace@contoso.example",
            "primary address   granted@contoso.example",
        ),
        (
            "moved@contoso.example",
            "mailbox guid      8d2f6a41-3c5e-4b7a-9e10-5f4c2b1a0d93",
        ),
    ] {
        let output = run(&["check", mailbox, "--config", config.to_str().unwrap()]).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{}", text(&output));
        assert!(stdout.contains(line), "{mailbox}: {stdout}");
    }
}

#[tokio::test]
async fn refusals_about_the_mailbox_exit_with_one_before_any_exchange_call() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url, SVC_PASSWORD, "");
    let config = config.to_str().unwrap();

    let output = run(&["check", "not a mailbox", "--config", config, "--json"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let problem: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(problem["code"], "invalid_mailbox");

    let output = run(&[
        "check",
        "someone@fabrikam.example",
        "--config",
        config,
        "--json",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let problem: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(problem["code"], "mailbox_not_allowed");

    assert_eq!(
        sim.stats().requests("GetFolder"),
        0,
        "nothing reached Exchange"
    );
}

#[tokio::test]
async fn config_check_masks_secrets_and_names_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "https://mail.contoso.example/EWS/Exchange.asmx",
        SVC_PASSWORD,
        "",
    );
    let output = run(&["config", "check", "--config", config.to_str().unwrap()]).await;
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(all.contains("password = \"***\""), "{all}");
    assert_no_secret(&all, SVC_PASSWORD);

    let text_with_typo = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[exchange]", "[exchange]\nchanel_binding = true");
    std::fs::write(&config, text_with_typo).unwrap();
    let output = run(&["config", "check", "--config", config.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("chanel_binding"),
        "{}",
        text(&output)
    );

    let output = run(&[
        "config",
        "check",
        "--config",
        "/nonexistent/ews-connector.toml",
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test]
async fn config_check_refuses_move_to_deleted_items_for_a_delegate() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "https://mail.contoso.example/EWS/Exchange.asmx",
        SVC_PASSWORD,
        "",
    );
    let with_push = std::fs::read_to_string(&config).unwrap()
        + "\n[push]\ndelete_type = \"MoveToDeletedItems\"\n";
    std::fs::write(&config, &with_push).unwrap();
    let output = run(&["config", "check", "--config", config.to_str().unwrap()]).await;
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("push.delete_type"), "{all}");
    assert!(stderr.contains("Deleted Items"), "{all}");
    assert!(stderr.contains("SoftDelete"), "{all}");
    assert_no_secret(&all, SVC_PASSWORD);

    // The same file with impersonation is accepted.
    let impersonating = with_push.replace("access = \"delegate\"", "access = \"impersonation\"");
    std::fs::write(&config, impersonating).unwrap();
    let output = run(&["config", "check", "--config", config.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("delete_type = \"MoveToDeletedItems\""),
        "{}",
        text(&output)
    );
}

#[test]
fn the_sample_configuration_in_deploy_uses_valid_keys() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "x\n").unwrap();
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/config.example.toml"
    ))
    .unwrap();
    let sample = sample.replace("$CREDENTIALS_DIRECTORY/sa-mytt-exch-1.password", "pw");
    let config = ews_connector::config::Config::from_sources(
        &sample,
        &Default::default(),
        &std::collections::HashMap::new(),
        dir.path(),
    );
    assert!(config.is_ok(), "{:?}", config.err());
}

#[tokio::test]
async fn grant_and_revoke_print_the_api_body_and_audit_each_change() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url, SVC_PASSWORD, "");
    let with_audit =
        std::fs::read_to_string(&config).unwrap() + "\n[audit]\npath = \"audit.jsonl\"\n";
    std::fs::write(&config, with_audit).unwrap();
    let config = config.to_str().unwrap();

    let output = run(&[
        "grant",
        "plain@contoso.example",
        "--config",
        config,
        "--json",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["changed"], true);
    assert_eq!(body["level"], "Editor");
    assert_eq!(body["previousLevel"], "None");

    let output = run(&[
        "grant",
        "plain@contoso.example",
        "--level",
        "Reviewer",
        "--dry-run",
        "--config",
        config,
        "--json",
    ])
    .await;
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["dryRun"], true);
    assert_eq!(body["previousLevel"], "Editor");

    let output = run(&[
        "revoke",
        "plain@contoso.example",
        "--config",
        config,
        "--json",
    ])
    .await;
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["changed"], true, "{body}");

    let output = run(&[
        "grant",
        "nobody@contoso.example",
        "--config",
        config,
        "--json",
    ])
    .await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "a refusal about the mailbox: {}",
        text(&output)
    );
    let problem: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(problem["code"], "mailbox_not_found");

    let output = run(&[
        "grant",
        "plain@contoso.example",
        "--level",
        "Custom",
        "--config",
        config,
        "--json",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1));
    let problem: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(problem["code"], "invalid_level");

    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let results: Vec<String> = audit
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["result"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .filter(|result| result != "intent")
        .collect();
    assert_eq!(results, ["changed", "changed", "failed"], "{audit}");
    assert!(audit.contains("\"client\":\"cli\""), "{audit}");
    assert_no_secret(&audit, SVC_PASSWORD);
}

#[tokio::test]
async fn grant_and_revoke_refuse_a_principal_or_level_outside_the_configuration_with_exit_one() {
    let sim = start_sim(&sample_state()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &sim.url, SVC_PASSWORD, "");
    let with_policy = std::fs::read_to_string(&config).unwrap().replace(
        "level = \"Editor\"\n",
        "level = \"Editor\"\nallowed_principals = [\"planners@contoso.example\"]\n",
    ) + "\n[audit]\npath = \"audit.jsonl\"\n";
    assert!(with_policy.contains("allowed_principals"), "{with_policy}");
    std::fs::write(&config, with_policy).unwrap();
    let config = config.to_str().unwrap();

    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "grant",
                "plain@contoso.example",
                "--principal",
                "attacker@contoso.example",
            ],
            "principal_not_allowed",
        ),
        (
            &["grant", "plain@contoso.example", "--level", "Owner"],
            "level_not_allowed",
        ),
        (
            &[
                "grant",
                "plain@contoso.example",
                "--principal",
                "planners@contoso.example",
                "--level",
                "PublishingAuthor",
                "--dry-run",
            ],
            "level_not_allowed",
        ),
        (
            &[
                "revoke",
                "alice@contoso.example",
                "--principal",
                "bob@contoso.example",
            ],
            "principal_not_allowed",
        ),
        (
            &[
                "revoke",
                "alice@contoso.example",
                "--principal",
                "bob@contoso.example",
                "--dry-run",
            ],
            "principal_not_allowed",
        ),
    ];
    for (args, code) in cases {
        let mut all_args = args.to_vec();
        all_args.extend(["--config", config, "--json"]);
        let output = run(&all_args).await;
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", text(&output));
        let problem: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(problem["code"], code, "{args:?}");
        assert_eq!(problem["status"], 403);
        // Without --json: the reason on stderr, the same exit status.
        let output = run(&[args, &["--config", config]].concat()).await;
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(code),
            "{}",
            text(&output)
        );
    }
    let stats = sim.stats();
    assert_eq!(
        stats.requests_by_operation.values().sum::<u64>(),
        0,
        "nothing reached Exchange: {stats:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap_or_default(),
        "",
        "and nothing was audited"
    );

    // The extra principal at a lower level is granted, and revoked.
    let output = run(&[
        "grant",
        "plain@contoso.example",
        "--principal",
        "Planners@contoso.example",
        "--level",
        "Reviewer",
        "--config",
        config,
        "--json",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["changed"], true, "{body}");
    assert_eq!(body["level"], "Reviewer");
    let output = run(&[
        "revoke",
        "plain@contoso.example",
        "--principal",
        "planners@contoso.example",
        "--config",
        config,
        "--json",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(body["previousLevel"], "Reviewer", "{body}");
}

#[tokio::test]
async fn token_new_prints_a_token_once_and_the_entry_with_its_hash() {
    let output = run(&[
        "token",
        "new",
        "--name",
        "mytimetable",
        "--scopes",
        "calendar:check,calendar:delegate",
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let token = stdout
        .lines()
        .find_map(|line| {
            line.strip_prefix("# ewsc_")
                .map(|rest| format!("ewsc_{rest}"))
        })
        .expect("the token line");
    let entry = stdout
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let parsed: toml::Value = toml::from_str(&entry).unwrap();
    let client = &parsed["api"]["clients"][0];
    use sha2::Digest;
    assert_eq!(
        client["token_sha256"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    );
    assert_eq!(client["name"].as_str(), Some("mytimetable"));
    assert_eq!(client["scopes"].as_array().unwrap().len(), 2);

    let output = run(&[
        "token",
        "new",
        "--name",
        "x",
        "--scopes",
        "calendar:everything",
    ])
    .await;
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test]
async fn token_new_without_scopes_is_refused_listing_them() {
    for args in [
        &["token", "new", "--name", "mytimetable"][..],
        &["token", "new", "--name", "mytimetable", "--scopes", ""][..],
    ] {
        let output = run(args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--scopes"), "{stderr}");
        for scope in ["calendar:check", "calendar:delegate", "calendar:push"] {
            assert!(stderr.contains(scope), "{args:?}: {stderr}");
        }
        assert!(
            !String::from_utf8_lossy(&output.stdout).contains("token_sha256"),
            "no token is made: {}",
            text(&output)
        );
    }
}
