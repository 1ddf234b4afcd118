//! `audit`: the append-only JSON Lines trail of grant and revoke attempts.
//!
//! SCAFFOLD: the signatures are the contract; the bodies are being written on branch `grant`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

/// One grant or revoke attempt that changed something or failed.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub time: DateTime<Utc>,
    pub request_id: String,
    pub client: String,
    pub mailbox: String,
    pub principal: String,
    /// `grant` or `revoke`.
    pub action: &'static str,
    pub level_before: Option<String>,
    pub level_after: Option<String>,
    /// `changed` or `failed`.
    pub result: &'static str,
    pub ews_response_code: Option<String>,
}

/// The audit file. Shared behind an `Arc`; appends are serialized inside.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// Opens (creates) the file for appending.
    ///
    /// # Errors
    /// When the file cannot be opened for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let _ = path;
        unimplemented!("being written on branch grant")
    }

    /// Appends one record, flushed to disk before returning; returns the record's id.
    ///
    /// # Errors
    /// When the record cannot be written and flushed.
    pub fn append(&self, record: &AuditRecord) -> std::io::Result<String> {
        let _ = record;
        unimplemented!("being written on branch grant")
    }

    /// Reopens the file at its path (after log rotation; on SIGHUP).
    ///
    /// # Errors
    /// When the file cannot be reopened; the old handle is kept then.
    pub fn reopen(&self) -> std::io::Result<()> {
        unimplemented!("being written on branch grant")
    }

    /// Flushes and syncs what was written (at shutdown).
    ///
    /// # Errors
    /// When the data cannot be synced.
    pub fn flush(&self) -> std::io::Result<()> {
        unimplemented!("being written on branch grant")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
