//! The warnings of a careless configuration on every surface, with the real binary: `config
//! check` prints each (on stderr, so stdout stays TOML), `serve` and the other commands that load
//! the configuration log each at start, and `doctor` shows each as a `warn` step with a fix.
//! The warnings: every `danger_*` flag that is on, NTLM (or Basic under the lab flag) over plain
//! http, and a password file that its group or every user can read. A password file that others
//! can write is refused as a configuration error naming the key.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::process::{BINARY, Served, free_port, signal};

const PASSWORD: &str = "Careful-Passw0rd!";

/// Writes a configuration with one account whose password file has `mode`; `exchange` lines go
/// into `[exchange]`, `tls` lines into `[tls]`.
fn write_config(
    dir: &Path,
    url: &str,
    exchange: &str,
    tls: &str,
    mode: u32,
    port: u16,
) -> (PathBuf, PathBuf) {
    let password_file = dir.join("sa.password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(mode)).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"[exchange]
url = "{url}"
retry_budget_secs = 0
{exchange}

[[exchange.accounts]]
username = 'CONTOSO\svc-mytt'
smtp = "svc-mytt@contoso.example"
password_file = "{}"

[tls]
{tls}

[delegation]
principal = "mytimetable-push@contoso.example"

[api]
listen = "127.0.0.1:{port}"
allowed_domains = ["contoso.example"]

[audit]
path = "{}"
"#,
            password_file.display(),
            dir.join("audit.jsonl").display()
        ),
    )
    .unwrap();
    (config, password_file)
}

async fn run(args: &[&str]) -> Output {
    tokio::process::Command::new(BINARY)
        .args(args)
        .env_remove("RUST_LOG")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap()
}

async fn config_check(config: &Path) -> Output {
    run(&["config", "check", "--config", config.to_str().unwrap()]).await
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn all(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    )
}

/// The `warning:` lines of `config check`.
fn warning_lines(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|line| line.starts_with("warning: "))
        .map(str::to_owned)
        .collect()
}

const HTTPS: &str = "https://mail.contoso.example/EWS/Exchange.asmx";
const PLAIN_HTTP: &str = "http://127.0.0.1:9/EWS/Exchange.asmx";

#[tokio::test]
async fn a_careful_configuration_has_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = write_config(dir.path(), HTTPS, "", "", 0o600, 8080);
    let output = config_check(&config).await;
    assert!(output.status.success(), "{}", all(&output));
    assert!(warning_lines(&output).is_empty(), "{}", all(&output));
    assert!(stderr(&output).contains("configuration is valid\n"));
}

#[tokio::test]
async fn config_check_warns_about_every_danger_flag_and_ntlm_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = write_config(
        dir.path(),
        PLAIN_HTTP,
        "danger_allow_basic_over_http = true",
        "danger_accept_invalid_certs = true",
        0o600,
        8080,
    );
    let output = config_check(&config).await;
    assert!(
        output.status.success(),
        "warnings do not fail: {}",
        all(&output)
    );
    let warnings = warning_lines(&output);
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert!(
        warnings[0].starts_with("warning: exchange.url is plain http with NTLM")
            && warnings[0].contains("no channel binding")
            && warnings[0].contains("fix: use an https:// exchange.url"),
        "{warnings:#?}"
    );
    assert!(
        warnings[1].starts_with("warning: exchange.danger_allow_basic_over_http = true")
            && warnings[1].contains("set exchange.danger_allow_basic_over_http = false"),
        "{warnings:#?}"
    );
    assert!(
        warnings[2].starts_with("warning: tls.danger_accept_invalid_certs = true")
            && warnings[2].contains("any server certificate is accepted")
            && warnings[2].contains("tls.ca_file"),
        "{warnings:#?}"
    );
    assert!(
        stderr(&output).contains("configuration is valid, with 3 warning(s) above"),
        "{}",
        all(&output)
    );
    // stdout is still the effective configuration, as TOML.
    let effective: toml::Value = toml::from_str(&String::from_utf8_lossy(&output.stdout))
        .unwrap_or_else(|error| panic!("stdout is not TOML ({error}): {}", all(&output)));
    assert_eq!(
        effective["tls"]["danger_accept_invalid_certs"].as_bool(),
        Some(true)
    );
    assert!(!all(&output).contains(PASSWORD));
}

#[tokio::test]
async fn basic_over_http_under_the_lab_flag_says_the_password_crosses_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = write_config(
        dir.path(),
        PLAIN_HTTP,
        "auth = \"basic\"\ndanger_allow_basic_over_http = true",
        "",
        0o600,
        8080,
    );
    let warnings = warning_lines(&config_check(&config).await);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("Basic over plain http")
            && warnings[0].contains("password crosses the network readable"),
        "{warnings:#?}"
    );
}

#[tokio::test]
async fn a_password_file_others_can_read_is_a_warning_naming_key_file_and_chmod() {
    let dir = tempfile::tempdir().unwrap();
    let (config, password_file) = write_config(dir.path(), HTTPS, "", "", 0o644, 8080);
    let output = config_check(&config).await;
    assert!(output.status.success(), "{}", all(&output));
    let warnings = warning_lines(&output);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let path = password_file.display().to_string();
    assert!(
        warnings[0].starts_with(&format!(
            "warning: exchange.accounts[0].password_file: {path} can be read by its group and every user of this host (mode 0644)"
        )),
        "{warnings:#?}"
    );
    assert!(
        warnings[0].contains(&format!("chmod 600 {path}")),
        "{warnings:#?}"
    );
    assert!(!all(&output).contains(PASSWORD));

    // Readable by the group only (the file is ours, so the service does not need the group).
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let warnings = warning_lines(&config_check(&config).await);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("can be read by its group (mode 0640)"),
        "{warnings:#?}"
    );

    // Owner only, or owner read-only: no warning.
    for mode in [0o600, 0o400] {
        std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(mode)).unwrap();
        assert!(warning_lines(&config_check(&config).await).is_empty());
    }
}

#[tokio::test]
async fn a_password_file_others_can_write_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o666, 0o602] {
        let (config, password_file) = write_config(dir.path(), HTTPS, "", "", mode, 8080);
        let output = config_check(&config).await;
        assert_eq!(output.status.code(), Some(2), "{}", all(&output));
        let text = stderr(&output);
        assert!(
            text.contains("exchange.accounts[0].password_file: ")
                && text.contains(&format!(
                    "{} can be written by others (mode {mode:04o})",
                    password_file.display()
                ))
                && text.contains("chmod 600"),
            "{text}"
        );
        assert!(!text.contains("configuration is valid"), "{text}");
        assert!(!all(&output).contains(PASSWORD));
    }
}

#[tokio::test]
async fn serve_logs_every_warning_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (config, password_file) = write_config(
        dir.path(),
        PLAIN_HTTP,
        "danger_allow_basic_over_http = true",
        "danger_accept_invalid_certs = true",
        0o644,
        port,
    );
    let served = Served::start(&config, port).await;
    for needle in [
        "exchange.url is plain http with NTLM",
        "exchange.danger_allow_basic_over_http = true",
        "tls.danger_accept_invalid_certs = true",
        &format!(
            "exchange.accounts[0].password_file: {} can be read by its group and every user of this host (mode 0644)",
            password_file.display()
        ),
    ] {
        let line = served.wait_for_line(needle, 0).await;
        assert!(line.contains("WARN"), "{line}");
        assert_eq!(served.count_lines(needle), 1, "once: {}", served.stderr());
    }
    assert!(!served.stderr().contains(PASSWORD));
    signal(served.pid, "TERM");
}

#[tokio::test]
async fn other_commands_that_load_the_configuration_log_the_warnings_too() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = write_config(
        dir.path(),
        PLAIN_HTTP,
        "",
        "danger_accept_invalid_certs = true",
        0o600,
        8080,
    );
    // admin-script loads the configuration and touches no network.
    let output = run(&["admin-script", "--config", config.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", all(&output));
    let text = stderr(&output);
    assert!(
        text.contains("WARN") && text.contains("tls.danger_accept_invalid_certs = true"),
        "{text}"
    );
    assert!(
        text.contains("exchange.url is plain http with NTLM"),
        "{text}"
    );
    // `check` too (Exchange is a closed port: the warnings come before the failure).
    let output = run(&[
        "check",
        "granted@contoso.example",
        "--config",
        config.to_str().unwrap(),
    ])
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", all(&output));
    let text = stderr(&output);
    assert!(
        text.contains("tls.danger_accept_invalid_certs = true"),
        "{text}"
    );
    assert!(text.contains("exchange_unreachable"), "{text}");
}

#[tokio::test]
async fn doctor_shows_each_warning_as_a_warn_step_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (config, password_file) = write_config(
        dir.path(),
        PLAIN_HTTP,
        "danger_allow_basic_over_http = true",
        "danger_accept_invalid_certs = true",
        0o644,
        8080,
    );
    let output = run(&["doctor", "--config", config.to_str().unwrap(), "--json"]).await;
    let steps: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", all(&output)));
    let warns: Vec<&serde_json::Value> = steps
        .iter()
        .filter(|step| step["verdict"] == "warn")
        .collect();
    let find = |name: &str, needle: &str| {
        warns
            .iter()
            .find(|step| step["step"] == name && step["detail"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no warn step {name} with {needle:?}: {steps:#?}"))
    };
    let http = find("http", "plain http with NTLM");
    assert!(http["fix"].as_str().unwrap().contains("https://"), "{http}");
    let basic = find("lab flags", "danger_allow_basic_over_http");
    assert!(
        basic["fix"].as_str().unwrap().contains("= false"),
        "{basic}"
    );
    let certificates = find("lab flags", "danger_accept_invalid_certs");
    assert!(
        certificates["fix"]
            .as_str()
            .unwrap()
            .contains("tls.ca_file"),
        "{certificates}"
    );
    let password = find("password file", &password_file.display().to_string());
    assert!(
        password["detail"]
            .as_str()
            .unwrap()
            .contains("exchange.accounts[0].password_file"),
        "{password}"
    );
    assert!(
        password["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("chmod 600 {}", password_file.display())),
        "{password}"
    );
    assert!(!all(&output).contains(PASSWORD));
}
