//! `ews-connector serve` as a child process: a free loopback port, signals by pid, waiting for
//! `/healthz`, and stderr collected line by line so tests can wait for a log line.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

pub const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends `kill -NAME pid`.
pub fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A running `ews-connector serve`; killed when dropped.
pub struct Served {
    pub child: Child,
    pub pid: u32,
    pub base: String,
    /// Every stderr line so far.
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Starts `serve --config CONFIG` and waits until `/healthz` answers on `port`.
    pub async fn start(config: &std::path::Path, port: u16) -> Served {
        let mut child = tokio::process::Command::new(BINARY)
            .args(["serve", "--config", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut reader = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let served = Served {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            lines,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", served.base)).send().await {
                if response.status() == 200 {
                    return served;
                }
            }
            assert!(
                Instant::now() < deadline,
                "serve did not start: {}",
                served.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything written on stderr so far.
    pub fn stderr(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// How many stderr lines so far contain `needle`.
    pub fn count_lines(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// Waits until more than `seen` stderr lines contain `needle` and returns that line.
    pub async fn wait_for_line(&self, needle: &str, seen: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(line) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter(|line| line.contains(needle))
                .nth(seen)
            {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?}:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
