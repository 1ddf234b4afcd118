//! The warnings of a valid configuration: settings that work but put the service accounts or
//! the traffic at risk. One place computes them ([`Config::warnings`]); `config check` prints
//! them, every command that loads the configuration logs them at start, and `doctor` shows each
//! as a `warn` step.
//!
//! Invariants:
//! - every `danger_*` key that is on gets a warning (a test walks the keys `config check`
//!   prints);
//! - a warning names its key and says, in one sentence each, what is wrong and what to do;
//! - a warning never holds a password: password files are named by their path.
//!
//! Entry points: [`Config::warnings`]. Entry types: [`Warning`], [`Concern`].

use std::fmt;
use std::path::Path;

use crate::config::{AuthKind, Config, PasswordSource};

/// What a warning is about; `doctor` names its step after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// EWS over plain http (with NTLM, or with Basic under the lab flag).
    PlainHttp,
    /// A `danger_*` lab flag that is on.
    LabFlag,
    /// A password file that others than the service can read.
    PasswordFile,
}

/// One warning about a valid configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The key it concerns, for example `tls.danger_accept_invalid_certs` or
    /// `exchange.accounts[0].password_file`.
    pub key: String,
    pub concern: Concern,
    /// What is wrong, in one sentence that starts with the key.
    pub detail: String,
    /// What to do, in one sentence.
    pub fix: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}; fix: {}", self.detail, self.fix)
    }
}

impl Config {
    /// Every warning about this configuration, in the order of the file: plain http, the lab
    /// flags, then each account's password file.
    ///
    /// Password files are looked at again here (their mode may have changed since the load);
    /// one that can no longer be read is left to the next read to report.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let exchange = &self.exchange;
        let plain_http = exchange
            .url
            .as_ref()
            .is_some_and(|url| url.scheme() == "http");
        if plain_http && exchange.auth == AuthKind::Ntlm {
            warnings.push(Warning {
                key: "exchange.url".to_owned(),
                concern: Concern::PlainHttp,
                detail: "exchange.url is plain http with NTLM: EWS traffic (calendars, permission changes) crosses the network readable and NTLM logons get no channel binding (lab only)".to_owned(),
                fix: "use an https:// exchange.url (https://<server>/EWS/Exchange.asmx)".to_owned(),
            });
        }
        if exchange.danger_allow_basic_over_http {
            let (concern, detail) = if plain_http && exchange.auth == AuthKind::Basic {
                (
                    Concern::PlainHttp,
                    "exchange.danger_allow_basic_over_http = true: Basic over plain http, so the service account's password crosses the network readable in every request (lab only)",
                )
            } else {
                (
                    Concern::LabFlag,
                    "exchange.danger_allow_basic_over_http = true: Basic would be allowed over plain http (a lab flag, unused by this configuration)",
                )
            };
            warnings.push(Warning {
                key: "exchange.danger_allow_basic_over_http".to_owned(),
                concern,
                detail: detail.to_owned(),
                fix: "use an https:// exchange.url and set exchange.danger_allow_basic_over_http = false".to_owned(),
            });
        }
        if self.tls.danger_accept_invalid_certs {
            warnings.push(Warning {
                key: "tls.danger_accept_invalid_certs".to_owned(),
                concern: Concern::LabFlag,
                detail: "tls.danger_accept_invalid_certs = true: any server certificate is accepted, so whoever sits between this host and Exchange can read the traffic and relay the logons (lab only)".to_owned(),
                fix: "set tls.ca_file to the CA that issued Exchange's certificate and tls.danger_accept_invalid_certs = false".to_owned(),
            });
        }
        for (index, account) in exchange.accounts.iter().enumerate() {
            let PasswordSource::File(path) = &account.password_source else {
                continue;
            };
            warnings.extend(secret_file_warning(
                format!("exchange.accounts[{index}].password_file"),
                path,
            ));
        }
        if let Some(graph) = &self.graph {
            let source = &graph.credential_source;
            warnings.extend(secret_file_warning(source.key().to_owned(), source.path()));
        }
        warnings
    }
}

/// The warning for the secret file at `path` (configured as `key`) when others can read it.
fn secret_file_warning(key: String, path: &Path) -> Option<Warning> {
    let exposure = password_file_exposure(path)?;
    Some(Warning {
        detail: format!("{key}: {exposure}"),
        key,
        concern: Concern::PasswordFile,
        fix: format!(
            "chmod 600 {} and make the service user its owner (or use systemd's LoadCredential=, see deploy/systemd)",
            path.display()
        ),
    })
}

/// Who besides the service can read the password file at `path`, in words, or `None` when
/// nobody else can (or the file cannot be looked at).
#[cfg(unix)]
fn password_file_exposure(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;

    let metadata = std::fs::metadata(path).ok()?;
    let mode = metadata.mode() & 0o7777;
    let process = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    let readers = readers(mode, (metadata.uid(), metadata.gid()), process)?;
    Some(format!(
        "{} can be read by {readers} (mode {mode:04o})",
        path.display()
    ))
}

/// Who besides the service can read a file of `mode` owned by `owner` (uid, gid) when the
/// service runs as `process` (effective uid, gid).
///
/// Others' read bit always counts. The group's read bit counts unless the service reads the file
/// through that group: the file belongs to another user and to the process's own group (a
/// Kubernetes Secret volume with `fsGroup` is mode 0440, owner root, group the pod's), where
/// `chmod 600` would lock the service out. Root needs no group to read anything.
#[cfg_attr(not(unix), allow(dead_code))]
fn readers(mode: u32, owner: (u32, u32), process: (u32, u32)) -> Option<&'static str> {
    let others = mode & 0o004 != 0;
    let group = mode & 0o040 != 0;
    let read_through_group = owner.0 != process.0 && owner.1 == process.1 && process.0 != 0;
    match (group && !read_through_group, others) {
        (true, true) => Some("its group and every user of this host"),
        (false, true) => Some("every user of this host"),
        (true, false) => Some("its group"),
        (false, false) => None,
    }
}

#[cfg(not(unix))]
fn password_file_exposure(_path: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use crate::config::{Concern, Config};

    const BASE: &str = r#"
[exchange]
url = "https://mail.uni.example/EWS/Exchange.asmx"

[[exchange.accounts]]
username = 'UNI\sa-mytt-exch-1'
smtp = "sa-mytt-exch-1@uni.example"
password_env = "SA1_PASSWORD"
"#;

    fn load(overrides: &[(&str, &str)]) -> Config {
        let overrides: HashMap<String, String> = overrides
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        let environment: HashMap<String, String> =
            [("SA1_PASSWORD".to_owned(), "env-secret".to_owned())].into();
        Config::from_sources(BASE, &overrides, &environment, Path::new(".")).unwrap()
    }

    #[test]
    fn every_danger_key_that_is_on_has_a_warning_naming_it() {
        let careful = load(&[]);
        assert!(careful.warnings().is_empty(), "{:?}", careful.warnings());
        let careless = load(&[
            ("EWSC__TLS__DANGER_ACCEPT_INVALID_CERTS", "true"),
            ("EWSC__EXCHANGE__DANGER_ALLOW_BASIC_OVER_HTTP", "true"),
        ]);
        let warnings = careless.warnings();
        // Every `danger_*` key that `config check` prints as true, whatever keys are added later.
        let mut section = String::new();
        let mut dangers = Vec::new();
        for line in careless.render_effective().lines() {
            if let Some(name) = line
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
            {
                section = name.trim_matches(['[', ']']).to_owned();
            } else if let Some(name) = line.strip_suffix(" = true") {
                if name.starts_with("danger_") {
                    dangers.push(format!("{section}.{name}"));
                }
            }
        }
        assert_eq!(dangers.len(), 2, "{dangers:?}");
        for key in &dangers {
            let warning = warnings
                .iter()
                .find(|warning| &warning.key == key)
                .unwrap_or_else(|| panic!("no warning for {key}: {warnings:?}"));
            assert_eq!(warning.concern, Concern::LabFlag);
            assert!(warning.detail.starts_with(key.as_str()), "{warning}");
            assert!(warning.fix.contains(&format!("{key} = false")), "{warning}");
        }
    }

    #[test]
    fn plain_http_warns_with_ntlm_and_with_basic_under_the_lab_flag() {
        let ntlm = load(&[(
            "EWSC__EXCHANGE__URL",
            "http://mail.uni.example/EWS/Exchange.asmx",
        )]);
        let warnings = ntlm.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].key, "exchange.url");
        assert_eq!(warnings[0].concern, Concern::PlainHttp);
        assert!(warnings[0].to_string().contains("fix: use an https://"));

        let basic = load(&[
            (
                "EWSC__EXCHANGE__URL",
                "http://mail.uni.example/EWS/Exchange.asmx",
            ),
            ("EWSC__EXCHANGE__AUTH", "basic"),
            ("EWSC__EXCHANGE__DANGER_ALLOW_BASIC_OVER_HTTP", "true"),
        ]);
        let warnings = basic.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].key, "exchange.danger_allow_basic_over_http");
        assert_eq!(warnings[0].concern, Concern::PlainHttp);
        assert!(warnings[0].detail.contains("Basic over plain http"));
    }

    #[cfg(unix)]
    #[test]
    fn password_files_warn_by_who_can_read_them() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "secret\n").unwrap();
        let text = BASE.replace("password_env = \"SA1_PASSWORD\"", "password_file = \"pw\"");
        let load_with = |mode: u32| {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            Config::from_sources(&text, &HashMap::new(), &HashMap::new(), dir.path())
        };
        for (mode, expected) in [
            (0o600, None),
            (0o400, None),
            (0o640, Some("can be read by its group (mode 0640)")),
            (
                0o604,
                Some("can be read by every user of this host (mode 0604)"),
            ),
            (
                0o644,
                Some("its group and every user of this host (mode 0644)"),
            ),
        ] {
            let warnings = load_with(mode).unwrap().warnings();
            match expected {
                None => assert!(warnings.is_empty(), "{mode:o}: {warnings:?}"),
                Some(expected) => {
                    assert_eq!(warnings.len(), 1, "{mode:o}: {warnings:?}");
                    let warning = &warnings[0];
                    assert_eq!(warning.key, "exchange.accounts[0].password_file");
                    assert_eq!(warning.concern, Concern::PasswordFile);
                    assert!(warning.detail.contains(expected), "{warning}");
                    assert!(
                        warning
                            .fix
                            .contains(&format!("chmod 600 {}", path.display())),
                        "{warning}"
                    );
                    assert!(!warning.to_string().contains("secret"), "{warning}");
                }
            }
        }
        // Writable by others: refused at load, naming the key, and on a re-read (SIGHUP).
        let config = load_with(0o600).unwrap();
        for mode in [0o666, 0o602] {
            match load_with(mode) {
                Err(crate::config::Error::Invalid { key, reason }) => {
                    assert_eq!(key, "exchange.accounts[0].password_file");
                    assert!(reason.contains("can be written by others"), "{reason}");
                }
                other => panic!("{mode:o}: expected a refusal, got {other:?}"),
            }
            let (passwords, problems) = config.reread_passwords();
            assert!(passwords.is_empty());
            assert!(
                problems[0].contains("can be written by others"),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn the_group_read_bit_counts_unless_the_service_reads_through_that_group() {
        use super::readers;

        const SERVICE: (u32, u32) = (65532, 65532);
        // The service owns the file: nobody else needs any bit.
        assert_eq!(readers(0o600, SERVICE, SERVICE), None);
        assert_eq!(readers(0o640, SERVICE, SERVICE), Some("its group"));
        assert_eq!(
            readers(0o644, SERVICE, SERVICE),
            Some("its group and every user of this host")
        );
        // A Kubernetes Secret with fsGroup: owner root, group the pod's, mode 0440.
        assert_eq!(readers(0o440, (0, 65532), SERVICE), None);
        assert_eq!(
            readers(0o444, (0, 65532), SERVICE),
            Some("every user of this host")
        );
        // Another group than the service's: that group's members can read it.
        assert_eq!(readers(0o440, (0, 1000), SERVICE), Some("its group"));
        // Root reads anything without a group.
        assert_eq!(readers(0o640, (1000, 0), (0, 0)), Some("its group"));
    }

    #[test]
    fn a_password_file_larger_than_64_kib_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "x".repeat(64 * 1024 + 1)).unwrap();
        let error = crate::config::read_password_file(&path).unwrap_err();
        assert!(error.contains("larger than 64 KiB"), "{error}");
        std::fs::write(&path, "x".repeat(64 * 1024)).unwrap();
        assert_eq!(
            crate::config::read_password_file(&path)
                .unwrap()
                .expose()
                .len(),
            64 * 1024
        );
    }
}
