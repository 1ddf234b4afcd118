//! Runs `../shared/ntlm-peer/ntlm_server.py`, an NTLM acceptor that is not ours (pyspnego), as a
//! stand-in for IIS in front of EWS.
//!
//! `NtlmPeer::start` returns `None` (after printing why) when the peer script, python3 with
//! `spnego`, or openssl (for TLS) is missing; under `CI=true` it panics instead, so CI cannot
//! silently skip the interoperability tests. The process is killed when the `NtlmPeer` drops.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// How to start the peer.
#[derive(Clone, Debug)]
pub struct PeerOptions {
    /// Lines of the users file: `DOMAIN:USER:PASSWORD`, or `:user@upn:PASSWORD`.
    pub users: Vec<String>,
    /// Serve https with a certificate the peer creates with openssl.
    pub tls: bool,
    /// `--cbt allow|require` (needs `tls`).
    pub cbt: Option<&'static str>,
    /// Also accept Basic.
    pub allow_basic: bool,
    /// The SOAP body returned after successful authentication.
    pub response_body: String,
}

impl Default for PeerOptions {
    fn default() -> Self {
        PeerOptions {
            users: vec!["CONTOSO:svc-mytt:S3rvice!Pass".to_owned()],
            tls: false,
            cbt: None,
            allow_basic: false,
            response_body: SOAP_RESPONSE.to_owned(),
        }
    }
}

/// A small GetFolder-style answer of our own (the peer returns these bytes as they are).
pub const SOAP_RESPONSE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode></m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>
"#;

/// A running peer on 127.0.0.1.
pub struct NtlmPeer {
    child: Child,
    pub port: u16,
    pub tls: bool,
    /// The peer's certificate (PEM) when `tls`: trust it through `ca_file`.
    pub cert_path: PathBuf,
    events_path: PathBuf,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ntlm-peer/ntlm_server.py")
}

fn skip_or_fail(reason: &str) -> Option<NtlmPeer> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("ntlm peer unavailable under CI=true: {reason}");
    }
    // Written to the real stderr, not through eprintln!, so libtest's capture does not hide it.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: ntlm peer test not run: {reason}"
    );
    None
}

fn command_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl NtlmPeer {
    /// Starts the peer, or returns `None` (printing why) when its prerequisites are missing.
    ///
    /// # Panics
    /// When prerequisites are missing under `CI=true`, or the peer does not start.
    pub fn start(options: PeerOptions) -> Option<NtlmPeer> {
        let script = script();
        if !script.is_file() {
            return skip_or_fail(&format!("{} not found", script.display()));
        }
        if !command_works("python3", &["-c", "import spnego, cryptography"]) {
            return skip_or_fail(
                "python3 with pyspnego and cryptography is not installed (pip install pyspnego cryptography)",
            );
        }
        if options.tls && !command_works("openssl", &["version"]) {
            return skip_or_fail(
                "openssl is not installed (the peer creates its certificate with it)",
            );
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let users_path = dir.path().join("users.txt");
        std::fs::write(&users_path, options.users.join("\n") + "\n").expect("write users");
        let response_path = dir.path().join("response.xml");
        std::fs::write(&response_path, &options.response_body).expect("write response");
        let events_path = dir.path().join("events.jsonl");
        let stderr_path = dir.path().join("stderr.log");
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");

        let mut command = Command::new("python3");
        command
            .arg(&script)
            .args(["--port", "0", "--host", "127.0.0.1"])
            .arg("--users")
            .arg(&users_path)
            .arg("--response")
            .arg(&response_path)
            .arg("--events")
            .arg(&events_path);
        if options.tls {
            command
                .arg("--tls")
                .arg("--cert")
                .arg(&cert_path)
                .arg("--key")
                .arg(&key_path);
        }
        if let Some(cbt) = options.cbt {
            command.args(["--cbt", cbt]);
        }
        if options.allow_basic {
            command.arg("--allow-basic");
        }
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("spawn python3");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut peer = NtlmPeer {
            child,
            port: 0,
            tls: options.tls,
            cert_path,
            events_path,
            stderr_path,
            _dir: dir,
        };
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        for _ in 0..20 {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                panic!(
                    "ntlm peer exited before printing its port: {}",
                    peer.stderr()
                );
            }
            if let Some(port) = line.trim().strip_prefix("PORT=") {
                peer.port = port.parse().expect("numeric port");
                return Some(peer);
            }
        }
        panic!("ntlm peer did not print PORT=N: {}", peer.stderr());
    }

    /// The EWS URL on this peer.
    pub fn url(&self) -> url::Url {
        let scheme = if self.tls { "https" } else { "http" };
        url::Url::parse(&format!(
            "{scheme}://127.0.0.1:{}/EWS/Exchange.asmx",
            self.port
        ))
        .unwrap()
    }

    /// The peer's decision log so far, one JSON object per event.
    pub fn events(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.events_path).unwrap_or_default();
        text.lines()
            .map(|line| serde_json::from_str(line).expect("event JSON"))
            .collect()
    }

    /// Events of one kind (`challenge`, `auth_ok`, `auth_fail`, `connect`, ...).
    pub fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|event| event["event"] == kind)
            .collect()
    }

    /// Authentication decisions on an NTLM AUTHENTICATE (type 3) message.
    pub fn type3_events(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events_of(kind)
            .into_iter()
            .filter(|event| event["ntlm_type"] == 3)
            .collect()
    }

    /// What the peer printed on stderr (for assertion messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for NtlmPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
