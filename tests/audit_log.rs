//! The audit file: append and flush, reopen after rotation, whole lines under concurrent
//! appends, the documented JSON fields, and the file mode.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use ews_connector::audit::{AuditLog, AuditRecord};

fn record(request_id: &str, result: &'static str) -> AuditRecord {
    AuditRecord {
        time: Utc::now(),
        request_id: request_id.to_owned(),
        client: "mytimetable".to_owned(),
        mailbox: "alice@contoso.example".to_owned(),
        principal: "mytimetable-push@contoso.example".to_owned(),
        action: "grant",
        level_before: Some("Reviewer".to_owned()),
        level_after: Some("Editor".to_owned()),
        result,
        ews_response_code: (result == "failed").then(|| "ErrorAccessDenied".to_owned()),
        intent_id: None,
        detail: (result == "failed").then(|| "exchange refused the operation".to_owned()),
        backend: "ews",
    }
}

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a whole JSON line"))
        .collect()
}

#[test]
fn appended_records_are_on_disk_with_their_fields_and_ids() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    assert_eq!(log.path(), path);
    let first = log.append(&record("r1", "changed")).unwrap();
    let second = log.append(&record("r2", "failed")).unwrap();
    assert_ne!(first, second);
    assert!(first < second, "ULIDs sort by time: {first} {second}");
    log.flush().unwrap();

    // Read through another handle: the data is in the file, not in a buffer of ours.
    let records = lines(&path);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["id"], first.as_str());
    assert_eq!(records[0]["requestId"], "r1");
    assert_eq!(records[0]["client"], "mytimetable");
    assert_eq!(records[0]["mailbox"], "alice@contoso.example");
    assert_eq!(records[0]["principal"], "mytimetable-push@contoso.example");
    assert_eq!(records[0]["action"], "grant");
    assert_eq!(records[0]["levelBefore"], "Reviewer");
    assert_eq!(records[0]["levelAfter"], "Editor");
    assert_eq!(records[0]["result"], "changed");
    assert!(records[0]["ewsResponseCode"].is_null());
    assert!(chrono::DateTime::parse_from_rfc3339(records[0]["time"].as_str().unwrap()).is_ok());
    assert_eq!(records[1]["result"], "failed");
    assert_eq!(records[1]["ewsResponseCode"], "ErrorAccessDenied");

    // Reopening an existing file appends; it never truncates.
    drop(log);
    let log = AuditLog::open(&path).unwrap();
    log.append(&record("r3", "changed")).unwrap();
    assert_eq!(lines(&path).len(), 3);
}

#[test]
fn reopen_after_rename_starts_a_new_file_at_the_path() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("audit.jsonl");
    let rotated = directory.path().join("audit.jsonl.1");
    let log = AuditLog::open(&path).unwrap();
    log.append(&record("before", "changed")).unwrap();
    std::fs::rename(&path, &rotated).unwrap();

    // Until reopened, records still go to the renamed file (the open handle).
    log.append(&record("still-old", "changed")).unwrap();
    assert!(!path.exists());
    log.reopen().unwrap();
    log.append(&record("after", "changed")).unwrap();

    let old: Vec<_> = lines(&rotated)
        .iter()
        .map(|record| record["requestId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(old, ["before", "still-old"]);
    let new = lines(&path);
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["requestId"], "after");
}

#[test]
fn a_failed_reopen_keeps_the_old_handle() {
    let directory = tempfile::tempdir().unwrap();
    let subdirectory = directory.path().join("logs");
    std::fs::create_dir(&subdirectory).unwrap();
    let path = subdirectory.join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    let moved = directory.path().join("moved");
    std::fs::rename(&subdirectory, &moved).unwrap();
    assert!(log.reopen().is_err(), "the directory is gone");
    log.append(&record("kept", "changed")).unwrap();
    let records = lines(&moved.join("audit.jsonl"));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["requestId"], "kept");
}

#[test]
fn concurrent_appends_from_many_threads_give_whole_lines() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("audit.jsonl");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let threads = 16;
    let per_thread = 50;
    let mut handles = Vec::new();
    for thread in 0..threads {
        let log = log.clone();
        handles.push(std::thread::spawn(move || {
            let mut ids = Vec::new();
            for index in 0..per_thread {
                let mut long = record(&format!("t{thread}-{index}"), "failed");
                // Long enough lines that a torn write would show.
                long.detail = Some("x".repeat(2000 + thread * 7));
                ids.push(log.append(&long).unwrap());
            }
            ids
        }));
    }
    let ids: Vec<String> = handles
        .into_iter()
        .flat_map(|handle| handle.join().unwrap())
        .collect();
    let records = lines(&path);
    assert_eq!(records.len(), threads * per_thread);
    let ids_in_file: HashSet<&str> = records
        .iter()
        .map(|record| record["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids_in_file.len(), threads * per_thread, "ids are unique");
    assert_eq!(
        ids_in_file,
        ids.iter().map(String::as_str).collect::<HashSet<_>>()
    );
    let request_ids: HashSet<&str> = records
        .iter()
        .map(|record| record["requestId"].as_str().unwrap())
        .collect();
    assert_eq!(request_ids.len(), threads * per_thread);
}

#[cfg(unix)]
#[test]
fn the_file_is_private_to_the_service_user() {
    use std::os::unix::fs::PermissionsExt;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.append(&record("r", "changed")).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}
