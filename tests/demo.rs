//! `ews-connector demo` as a newcomer meets it: the walkthrough it prints works when pasted into
//! a shell, and README.md shows the same commands.

mod common;

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_walkthrough_works_when_pasted_into_a_shell() {
    if !common::schema::require_or_skip("curl") || !common::schema::require_or_skip("sh") {
        return;
    }
    let mut child = tokio::process::Command::new(BINARY)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut export = None;
    let mut commands = Vec::new();
    let mut audit_path = None;
    let mut audit_note = None;
    let read_walkthrough = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(path) = line.trim_start().strip_prefix("audit trail:") {
                audit_path = Some(path.trim().to_owned());
                audit_note = lines.next_line().await.unwrap();
            } else if line.starts_with("export TOKEN=") {
                export = Some(line);
            } else if line.starts_with("curl ") {
                commands.push(line);
            } else if !commands.is_empty() && line.is_empty() {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read_walkthrough)
        .await
        .expect("the demo prints its walkthrough");
    let export = export.expect("an export TOKEN= line");
    assert_eq!(commands.len(), 20, "{commands:#?}");
    let audit_path = audit_path.expect("an audit trail: line");
    let audit_note = audit_note.expect("a line under the audit trail");
    assert_eq!(audit_note.trim(), ews_connector::demo::AUDIT_LINES);
    assert!(
        audit_note.contains("two JSON lines per change")
            && audit_note.contains("intent line")
            && audit_note.contains("outcome line"),
        "{audit_note}"
    );

    let mut answers = Vec::new();
    for command in &commands {
        let output = tokio::process::Command::new("sh")
            .args(["-c", &format!("{export}\n{command}")])
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{command}: {output:?}");
        let body: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
                panic!(
                    "{command}: {error}: {}",
                    String::from_utf8_lossy(&output.stdout)
                )
            });
        answers.push(body);
    }
    // MyTimetable's flow on plain@: not delegated, grant, grant again, ready, revoke, not delegated.
    assert_eq!(answers[0]["status"], "not_delegated", "{}", answers[0]);
    assert_eq!(answers[1]["changed"], true, "{}", answers[1]);
    assert_eq!(answers[1]["previousLevel"], "None");
    assert_eq!(answers[2]["changed"], false, "{}", answers[2]);
    assert_eq!(answers[3]["status"], "ok", "{}", answers[3]);
    assert_eq!(answers[3]["ready"], true);
    assert_eq!(answers[4]["changed"], true, "{}", answers[4]);
    assert_eq!(answers[5]["status"], "not_delegated", "{}", answers[5]);
    // A grant on a calendar with colleagues' permissions, then the other statuses.
    assert_eq!(answers[6]["changed"], true, "{}", answers[6]);
    assert_eq!(answers[7]["status"], "insufficient", "{}", answers[7]);
    assert_eq!(
        answers[8]["status"], "impersonation_denied",
        "{}",
        answers[8]
    );
    assert_eq!(answers[9]["status"], "mailbox_not_found", "{}", answers[9]);
    assert_eq!(
        answers[10]["status"], "mailbox_unavailable",
        "{}",
        answers[10]
    );

    // Calendar push on granted@: created, the same again unchanged, and the listing.
    assert_eq!(answers[11]["result"], "created", "{}", answers[11]);
    assert_eq!(answers[12]["result"], "unchanged", "{}", answers[12]);
    assert_eq!(
        answers[13]["events"][0]["externalId"], "mytt-42",
        "{}",
        answers[13]
    );

    // The on-premises answers came from EWS.
    for answer in &answers[..11] {
        assert_eq!(answer["backend"], "ews", "{answer}");
    }

    // Exchange Online: a student checked, granted and checked again on Graph as the
    // application; one outside the application's scope; one Graph does not know; and the
    // mailbox that moved, which EWS no longer holds, found on Graph through follow_moves.
    assert_eq!(answers[14]["backend"], "graph", "{}", answers[14]);
    assert_eq!(answers[14]["accessMode"], "application", "{}", answers[14]);
    assert_eq!(answers[14]["ready"], true, "{}", answers[14]);
    assert_eq!(answers[14]["delegation"]["sufficient"], false);
    assert_eq!(answers[15]["backend"], "graph", "{}", answers[15]);
    assert_eq!(answers[15]["changed"], true, "{}", answers[15]);
    assert_eq!(
        answers[16]["delegation"]["level"], "Editor",
        "{}",
        answers[16]
    );
    assert_eq!(
        answers[16]["delegation"]["sufficient"], true,
        "{}",
        answers[16]
    );
    assert_eq!(answers[17]["backend"], "graph", "{}", answers[17]);
    assert_eq!(answers[17]["status"], "no_access", "{}", answers[17]);
    assert_eq!(answers[17]["graphErrorCode"], "ErrorAccessDenied");
    assert_eq!(
        answers[18]["status"], "mailbox_not_found",
        "{}",
        answers[18]
    );
    assert_eq!(answers[19]["backend"], "graph", "{}", answers[19]);
    assert_eq!(answers[19]["status"], "ok", "{}", answers[19]);
    assert_eq!(answers[19]["ready"], true, "{}", answers[19]);

    // The audit trail is as the demo says: the four changes (grant, revoke, grant on alice@,
    // the grant on Graph) wrote two lines each, an intent and then the outcome that names it;
    // the grant that changed nothing and the pushed events wrote none.
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    let records: Vec<serde_json::Value> = audit
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 8, "{audit}");
    let changes = [
        ("plain@contoso.example", "grant"),
        ("plain@contoso.example", "revoke"),
        ("alice@contoso.example", "grant"),
        ("student@students.contoso.example", "grant"),
    ];
    for (pair, (mailbox, action)) in records.chunks(2).zip(changes) {
        let (intent, outcome) = (&pair[0], &pair[1]);
        assert_eq!(intent["result"], "intent", "{audit}");
        assert_eq!(outcome["result"], "changed", "{audit}");
        assert_eq!(outcome["intentId"], intent["id"], "{audit}");
        for record in pair {
            assert_eq!(record["mailbox"], mailbox, "{audit}");
            assert_eq!(record["action"], action, "{audit}");
        }
    }

    child.kill().await.unwrap();
}

#[test]
fn readme_shows_the_demo_command_first_and_the_walkthrough_as_printed() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let first_lines: Vec<&str> = readme.lines().take(4).collect();
    assert!(
        first_lines
            .iter()
            .any(|line| line.starts_with("cargo run --release -- demo")),
        "{first_lines:?}"
    );
    assert!(
        first_lines
            .iter()
            .any(|line| line.starts_with("cargo test --locked")),
        "{first_lines:?}"
    );
    let default_listen = "127.0.0.1:8080".parse().unwrap();
    for command in ews_connector::demo::curl_commands(default_listen) {
        assert!(
            readme.contains(&command),
            "README.md lacks the demo's command:\n{command}"
        );
    }
}
