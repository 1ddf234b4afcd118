//! The load bench: a batch check of N mailboxes over K service accounts through the real API,
//! against the simulator with latency L and a per-account ceiling C, compared with the physical
//! limit N x L / (C x K) (every account busy at its ceiling all the time).
//!
//! Run: `cargo bench --bench load -- --mailboxes 10000 --latency-ms 20 --ceiling 27 --accounts 1`
//!
//! It starts `ews-connector sim` and `ews-connector serve` as child processes (killed at the
//! end, also on a panic), waits for `/readyz`, posts the batch, reads the NDJSON stream and
//! prints: wall time, the limit, their ratio, busy answers provoked, NTLM handshakes and
//! connections (simulator counters), the serve process's peak RSS (VmHWM) and CPU seconds, and
//! the time to the first line with how many mailboxes the simulator had served by then.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");
const PASSWORD: &str = "Load-Passw0rd!";
const TOKEN: &str = "load-bench-token-0123456789";
const PRINCIPAL: &str = "mytimetable-push@contoso.example";

struct Options {
    mailboxes: usize,
    latency_ms: u64,
    ceiling: usize,
    accounts: usize,
}

impl Options {
    /// Reads `--name value` pairs; anything else (cargo adds `--bench`) is ignored.
    fn from_args() -> Options {
        let mut options = Options {
            mailboxes: 10_000,
            latency_ms: 20,
            ceiling: 27,
            accounts: 1,
        };
        let args: Vec<String> = std::env::args().collect();
        let value = |name: &str| {
            args.iter()
                .position(|arg| arg == name)
                .and_then(|index| args.get(index + 1))
                .map(|text| {
                    text.parse::<usize>()
                        .unwrap_or_else(|_| panic!("{name} takes a number"))
                })
        };
        if let Some(mailboxes) = value("--mailboxes") {
            options.mailboxes = mailboxes;
        }
        if let Some(latency) = value("--latency-ms") {
            options.latency_ms = latency as u64;
        }
        if let Some(ceiling) = value("--ceiling") {
            options.ceiling = ceiling;
        }
        if let Some(accounts) = value("--accounts") {
            options.accounts = accounts;
        }
        options
    }
}

/// Kills and reaps the child when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mailbox(index: usize) -> String {
    format!("user{index:06}@contoso.example")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_sim_state(path: &Path, options: &Options) {
    let mut toml = format!("[[users]]\nsmtp = \"{PRINCIPAL}\"\n\n");
    for index in 1..=options.accounts {
        toml.push_str(&format!(
            "[[accounts]]\nusername = 'CONTOSO\\svc{index}'\npassword = \"{PASSWORD}\"\n\
             smtp = \"svc{index}@contoso.example\"\nimpersonation = \"all\"\n\n"
        ));
    }
    for index in 0..options.mailboxes {
        toml.push_str(&format!("[[mailboxes]]\nsmtp = \"{}\"\n\n", mailbox(index)));
    }
    std::fs::write(path, toml).unwrap();
}

fn write_config(dir: &Path, sim_port: u16, api_port: u16, options: &Options) -> std::path::PathBuf {
    let mut accounts = String::new();
    for index in 1..=options.accounts {
        let password_file = dir.join(format!("svc{index}.password"));
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        // Readable by the owner only, as a real deployment's (serve warns otherwise).
        #[cfg(unix)]
        std::fs::set_permissions(
            &password_file,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
        )
        .unwrap();
        accounts.push_str(&format!(
            "[[exchange.accounts]]\nusername = 'CONTOSO\\svc{index}'\n\
             smtp = \"svc{index}@contoso.example\"\npassword_file = \"{}\"\n\n",
            password_file.display()
        ));
    }
    let token_sha256 = hex::encode(Sha256::digest(TOKEN.as_bytes()));
    let config = format!(
        r#"[exchange]
url = "http://127.0.0.1:{sim_port}/EWS/Exchange.asmx"
access = "impersonation"
impersonation = true
max_concurrency_per_account = {ceiling}

{accounts}
[delegation]
principal = "{PRINCIPAL}"
level = "Editor"

[api]
listen = "127.0.0.1:{api_port}"

[[api.clients]]
name = "bench"
token_sha256 = "{token_sha256}"
scopes = ["calendar:check"]

[audit]
path = "{audit}"

[log]
level = "warn"
"#,
        ceiling = options.ceiling,
        audit = dir.join("audit.jsonl").display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    path
}

async fn sim_stats(client: &reqwest::Client, sim_port: u16) -> Value {
    client
        .get(format!("http://127.0.0.1:{sim_port}/sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn get_folders(stats: &Value) -> u64 {
    stats["requestsByOperation"]["GetFolder"]
        .as_u64()
        .unwrap_or(0)
}

/// Polls `url` until it answers 200 (at most 60 s).
async fn wait_for(client: &reqwest::Client, url: &str, child: &mut ChildGuard) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status() == 200
        {
            return;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("the child serving {url} exited: {status}");
        }
        assert!(Instant::now() < deadline, "{url} never answered 200");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (peak RSS in KiB, user + system CPU seconds) of a process, from /proc.
fn process_usage(pid: u32) -> (u64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime
    // are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux).
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let cpu = (ticks(11) + ticks(12)) as f64 / 100.0;
    (peak_kib, cpu)
}

/// How many mailboxes the busiest account gets relative to N / K: the batch cannot end before
/// that account's share is done, whatever the others do. Same ranking as `exchange`:
/// the highest SHA-256(lower-case username, 0, lower-case mailbox) wins.
fn busiest_lane(options: &Options) -> f64 {
    let mut counts = vec![0usize; options.accounts];
    for index in 0..options.mailboxes {
        let mailbox = mailbox(index);
        let winner = (1..=options.accounts)
            .max_by_key(|account| {
                let mut hasher = Sha256::new();
                hasher.update(format!("contoso\\svc{account}").as_bytes());
                hasher.update([0]);
                hasher.update(mailbox.as_bytes());
                let digest = hasher.finalize();
                u64::from_be_bytes(digest[..8].try_into().unwrap())
            })
            .unwrap();
        counts[winner - 1] += 1;
    }
    let busiest = counts.iter().copied().max().unwrap_or(0) as f64;
    busiest / (options.mailboxes as f64 / options.accounts as f64)
}

fn main() {
    let options = Options::from_args();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run(options));
}

async fn run(options: Options) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sim.toml");
    write_sim_state(&state, &options);
    let sim_port = free_port();
    let api_port = free_port();
    let config = write_config(dir.path(), sim_port, api_port, &options);
    let client = reqwest::Client::new();

    let mut sim = ChildGuard(
        Command::new(BINARY)
            .arg("sim")
            .arg("--state")
            .arg(&state)
            .args(["--listen", &format!("127.0.0.1:{sim_port}")])
            .args(["--latency-ms", &options.latency_ms.to_string()])
            .args(["--max-concurrency", &options.ceiling.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the simulator starts"),
    );
    wait_for(
        &client,
        &format!("http://127.0.0.1:{sim_port}/sim/stats"),
        &mut sim,
    )
    .await;
    let mut serve = ChildGuard(
        Command::new(BINARY)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the API starts"),
    );
    wait_for(
        &client,
        &format!("http://127.0.0.1:{api_port}/readyz"),
        &mut serve,
    )
    .await;
    let serve_pid = serve.0.id();
    let before = sim_stats(&client, sim_port).await;

    let list: Vec<String> = (0..options.mailboxes).map(mailbox).collect();
    let body = serde_json::to_vec(&json!({ "mailboxes": list })).unwrap();
    drop(list);
    let started = Instant::now();
    let mut response = client
        .post(format!(
            "http://127.0.0.1:{api_port}/v1/calendar/access:batch"
        ))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the batch is accepted");
    let mut first_line: Option<(Duration, u64)> = None;
    let mut lines = 0usize;
    let mut failed_lines = 0usize;
    let mut last_line = Vec::new();
    let mut partial = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        if first_line.is_none() && chunk.contains(&b'\n') {
            let elapsed = started.elapsed();
            let served = get_folders(&sim_stats(&client, sim_port).await) - get_folders(&before);
            first_line = Some((elapsed, served));
        }
        partial.extend_from_slice(&chunk);
        while let Some(end) = partial.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = partial.drain(..=end).collect();
            lines += 1;
            if line.windows(9).any(|window| window == b"\"error\":{") {
                failed_lines += 1;
            }
            last_line = line;
        }
    }
    let wall = started.elapsed();
    let (peak_kib, cpu_seconds) = process_usage(serve_pid);
    let (_, sim_cpu_seconds) = process_usage(sim.0.id());
    let after = sim_stats(&client, sim_port).await;
    let summary: Value = serde_json::from_slice(&last_line).expect("the summary line");

    let limit = options.mailboxes as f64 * options.latency_ms as f64
        / 1000.0
        / (options.ceiling * options.accounts) as f64;
    let ratio = wall.as_secs_f64() / limit;
    // Both throttling answers: scripted ErrorServerBusy and ErrorExceededConnectionCount beyond
    // the simulator's concurrency limit.
    let throttled = |stats: &Value| {
        stats["busyAnswers"].as_u64().unwrap_or(0)
            + stats["connectionCountAnswers"].as_u64().unwrap_or(0)
    };
    let busy = throttled(&after) - throttled(&before);
    let handshakes = after["ntlmAccepted"].as_u64().unwrap_or(0);
    let connections = after["connectionsOpened"].as_u64().unwrap_or(0);
    println!(
        "load: N={} L={}ms C={} K={}",
        options.mailboxes, options.latency_ms, options.ceiling, options.accounts
    );
    println!(
        "  lines                {lines} ({failed_lines} with error); summary {}",
        summary["summary"]
    );
    println!("  wall time            {:.3} s", wall.as_secs_f64());
    println!("  limit N*L/(C*K)      {limit:.3} s");
    println!("  ratio                {ratio:.3}");
    println!("  busy answers         {busy}");
    println!("  NTLM handshakes      {handshakes} (all, readiness probes included)");
    println!("  connections opened   {connections}");
    println!("  peak concurrency     {}", after["peakConcurrency"]);
    println!("  serve peak RSS       {:.1} MiB", peak_kib as f64 / 1024.0);
    println!("  serve CPU            {cpu_seconds:.2} s (user + system)");
    println!("  simulator CPU        {sim_cpu_seconds:.2} s (user + system)");
    println!(
        "  lane imbalance       the busiest account serves {:.3} x the mean (rendezvous hashing)",
        busiest_lane(&options)
    );
    if let Some((elapsed, served)) = first_line {
        println!(
            "  first line after     {:.3} s, the simulator had served {served} mailboxes",
            elapsed.as_secs_f64()
        );
    }
    drop(serve);
    drop(sim);
}
