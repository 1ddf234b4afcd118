//! `audit`: the append-only JSON Lines trail of grant and revoke attempts.
//!
//! Invariants:
//! - one JSON object per line, written with a single `write` call and synced to disk
//!   (`sync_data`) before [`AuditLog::append`] returns, so a record that was acknowledged
//!   survives a crash and two records never interleave;
//! - appends are serialized by a std `Mutex` that is held only for the write and the sync, never
//!   across an `.await`;
//! - records never contain a secret, an `Authorization` header, a token or raw XML: they are
//!   built from plain fields (addresses, level names, response codes), never from request or
//!   response bodies;
//! - the file is created with mode 0600 on unix and only ever appended to.
//!
//! # Record format (a stable boundary: add fields, never rename or remove one)
//! Each line is a JSON object with these camelCase fields:
//! - `id`: a ULID (26 characters), unique per record and rising line by line (a process-wide
//!   monotonic generator, `ids::next_ulid`, made under the file's lock); returned by `append`;
//! - `time`: RFC 3339 UTC timestamp of the attempt;
//! - `requestId`: the API request id (`X-Request-Id`) or the CLI's generated id;
//! - `client`: the API client's configured name, or `cli`;
//! - `mailbox`: the mailbox whose calendar was changed;
//! - `principal`: the user or group whose permission entry was changed (an SMTP address);
//! - `action`: `grant` or `revoke`;
//! - `levelBefore`: the principal's level before (`None` when it had no entry), or `null` when
//!   the permission set could not be read;
//! - `levelAfter`: the level afterwards (`None` after a revoke), or `null` when unknown;
//! - `result`: `intent` (written before the change is sent to Exchange, so that a crash
//!   between the write and the final record cannot lose a change), `changed`, `unchanged` (an
//!   intent whose change turned out to be in place already on a re-read) or `failed`;
//! - `ewsResponseCode`: the Exchange response code behind a failure, else `null`;
//! - `intentId`: on a final record, the `id` of the `intent` record it closes, else `null`;
//! - `detail`: a short sentence about a failure (an error message, never XML), else `null`;
//! - `backend`: the backend the change went to (`ews`; `graph` for Exchange Online).
//!
//! Entry types: [`AuditLog`], [`AuditRecord`].

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// One grant or revoke attempt that changed something or failed (or the intent to change).
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub time: DateTime<Utc>,
    pub request_id: String,
    pub client: String,
    pub mailbox: String,
    pub principal: String,
    /// `grant` or `revoke`.
    pub action: &'static str,
    /// `None` when the level is unknown (the read failed).
    pub level_before: Option<String>,
    /// `None` when the level is unknown.
    pub level_after: Option<String>,
    /// `intent`, `changed`, `unchanged` or `failed`.
    pub result: &'static str,
    pub ews_response_code: Option<String>,
    /// The `id` of the `intent` record this final record closes.
    pub intent_id: Option<String>,
    /// A short sentence about a failure; never XML, never a secret.
    pub detail: Option<String>,
    /// The backend the change went to (`"ews"`).
    pub backend: &'static str,
}

/// The serialized form of a record: the stable boundary described in the module doc.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    id: &'a str,
    time: String,
    request_id: &'a str,
    client: &'a str,
    mailbox: &'a str,
    principal: &'a str,
    action: &'a str,
    level_before: Option<&'a str>,
    level_after: Option<&'a str>,
    result: &'a str,
    ews_response_code: Option<&'a str>,
    intent_id: Option<&'a str>,
    detail: Option<&'a str>,
    backend: &'a str,
}

/// The audit file. Shared behind an `Arc`; appends are serialized inside.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    /// The open file. A std `Mutex`: it is held for one write and sync (or a reopen), never
    /// across an `.await`, so a blocking section this short is acceptable in async callers.
    file: Mutex<File>,
}

impl AuditLog {
    /// Opens (creates, mode 0600 on unix) the file for appending.
    ///
    /// # Errors
    /// When the file cannot be opened for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = open_for_append(path)?;
        Ok(AuditLog {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// Appends one record as one line, flushed and synced to disk before returning; returns the
    /// record's id (a ULID).
    ///
    /// # Errors
    /// When the record cannot be written and synced.
    pub fn append(&self, record: &AuditRecord) -> std::io::Result<String> {
        // The id is made under the file's lock, so ids rise in the order of the file's lines.
        let mut file = self.lock();
        let id = crate::ids::next_ulid().to_string();
        let line = Line {
            id: &id,
            time: record.time.to_rfc3339_opts(SecondsFormat::Millis, true),
            request_id: &record.request_id,
            client: &record.client,
            mailbox: &record.mailbox,
            principal: &record.principal,
            action: record.action,
            level_before: record.level_before.as_deref(),
            level_after: record.level_after.as_deref(),
            result: record.result,
            ews_response_code: record.ews_response_code.as_deref(),
            intent_id: record.intent_id.as_deref(),
            detail: record.detail.as_deref(),
            backend: record.backend,
        };
        let mut bytes = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        // One write call: with O_APPEND the line lands whole at the end of the file.
        let written = file.write(&bytes)?;
        if written != bytes.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WriteZero,
                format!(
                    "short write to the audit file ({written} of {} bytes)",
                    bytes.len()
                ),
            ));
        }
        file.flush()?;
        file.sync_data()?;
        Ok(id)
    }

    /// Reopens the file at its path (after log rotation; on SIGHUP): records appended afterwards
    /// go to the file now at the path, created if the old one was renamed away.
    ///
    /// # Errors
    /// When the file cannot be reopened; the old handle is kept then.
    pub fn reopen(&self) -> std::io::Result<()> {
        let mut file = self.lock();
        file.sync_data()?;
        *file = open_for_append(&self.path)?;
        Ok(())
    }

    /// Flushes and syncs what was written (at shutdown).
    ///
    /// # Errors
    /// When the data cannot be synced.
    pub fn flush(&self) -> std::io::Result<()> {
        let mut file = self.lock();
        file.flush()?;
        file.sync_data()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, File> {
        // A panic while holding the lock cannot leave a half-written line behind that a later
        // append would corrupt further: each append is one write call.
        self.file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn open_for_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(result: &'static str) -> AuditRecord {
        AuditRecord {
            time: Utc::now(),
            request_id: "req-1".to_owned(),
            client: "mytimetable".to_owned(),
            mailbox: "alice@contoso.example".to_owned(),
            principal: "push@contoso.example".to_owned(),
            action: "grant",
            level_before: Some("None".to_owned()),
            level_after: Some("Editor".to_owned()),
            result,
            ews_response_code: None,
            intent_id: None,
            detail: None,
            backend: "ews",
        }
    }

    #[test]
    fn a_record_is_one_line_with_every_documented_field() {
        let directory = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&directory.path().join("audit.jsonl")).unwrap();
        let id = log.append(&record("changed")).unwrap();
        assert_eq!(id.len(), 26);
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert_eq!(text.lines().count(), 1);
        let value: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        let object = value.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "action",
                "backend",
                "client",
                "detail",
                "ewsResponseCode",
                "id",
                "intentId",
                "levelAfter",
                "levelBefore",
                "mailbox",
                "principal",
                "requestId",
                "result",
                "time"
            ]
        );
        assert_eq!(object["id"], id.as_str());
        assert_eq!(object["result"], "changed");
        assert_eq!(object["levelAfter"], "Editor");
        assert!(object["ewsResponseCode"].is_null());
    }
}
