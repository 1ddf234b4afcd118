//! The load bench: a batch check of N mailboxes over K service accounts through the real API,
//! against the simulator with latency L and a per-account ceiling C, compared with the physical
//! limit N x R x L / (C x K), R being the EWS requests per mailbox the simulator counted (every
//! account busy at its ceiling all the time).
//!
//! Run: `cargo bench --bench load -- --mailboxes 10000 --latency-ms 20 --ceiling 27 --accounts 1`
//! (`--backend graph`: the same on Exchange Online's side through the Graph simulator, and the
//! token stream; see `load/graph.rs`.)
//! Options besides those four:
//! - `--access delegate|impersonation` (default `impersonation`, one GetFolder per mailbox):
//!   `exchange.access`, always with `impersonation = true`;
//! - `--delegated PERCENT`: the share of calendars that hold the principal's Editor entry (the
//!   required level); the others hold none (`not_delegated` in delegate mode). Which ones is
//!   fixed by the mailbox's index, spread evenly, and exactly floor(N x PERCENT / 100) of them.
//!   Default: 100 in delegate mode; in impersonation mode the calendars then keep the empty
//!   permission set of earlier runs (the owner's rights decide there);
//! - `--via-group`: that entry is on a mail-enabled group holding the principal instead
//!   (`push-editors`, or `calendar-admins`, which holds `push-editors`: nested one level), every
//!   other delegated calendar on each, so the check expands groups with ExpandDL.
//!
//! In delegate mode the principal is a group whose members are the service accounts (they push
//! as themselves); in impersonation mode it is a user, as before.
//!
//! It starts `ews-connector sim` and `ews-connector serve` as child processes (killed at the
//! end, also on a panic), waits for `/readyz`, posts the batch, reads the NDJSON stream and
//! prints: wall time, the limit, their ratio, EWS requests per mailbox (GetFolder, ExpandDL,
//! all; the readiness probes, which name no mailbox, left out), the check's outcomes (ok,
//! not_delegated, other), busy answers provoked, NTLM handshakes and connections (simulator
//! counters), the serve process's peak RSS (VmHWM), CPU seconds and CPU per mailbox during the
//! batch, and the time to the first line with how many mailboxes the simulator had served by
//! then. It exits non-zero when the outcomes do not match the population (or, with
//! `--via-group`, when a group was expanded more than once).

#[path = "load/graph.rs"]
mod graph;

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
/// `--via-group`: a group holding the principal, and a group holding that group.
const GROUP_DIRECT: &str = "push-editors@contoso.example";
const GROUP_NESTED: &str = "calendar-admins@contoso.example";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Impersonation,
    Delegate,
}

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Access::Impersonation => "impersonation",
            Access::Delegate => "delegate",
        }
    }
}

struct Options {
    mailboxes: usize,
    latency_ms: u64,
    ceiling: usize,
    accounts: usize,
    access: Access,
    /// Percent of calendars holding the principal's Editor entry; `None`: see the module doc.
    delegated: Option<usize>,
    via_group: bool,
}

impl Options {
    /// Reads `--name value` pairs; anything else (cargo adds `--bench`) is ignored.
    fn from_args() -> Options {
        let mut options = Options {
            mailboxes: 10_000,
            latency_ms: 20,
            ceiling: 27,
            accounts: 1,
            access: Access::Impersonation,
            delegated: None,
            via_group: false,
        };
        let args: Vec<String> = std::env::args().collect();
        let text_value = |name: &str| {
            args.iter().position(|arg| arg == name).map(|index| {
                args.get(index + 1)
                    .unwrap_or_else(|| panic!("{name} takes a value"))
            })
        };
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
        if let Some(access) = text_value("--access") {
            options.access = match access.as_str() {
                "delegate" => Access::Delegate,
                "impersonation" => Access::Impersonation,
                other => panic!("--access takes delegate or impersonation, not {other}"),
            };
        }
        if let Some(percent) = value("--delegated") {
            assert!(percent <= 100, "--delegated takes a percentage (0 to 100)");
            options.delegated = Some(percent);
        }
        options.via_group = args.iter().any(|arg| arg == "--via-group");
        assert!(
            options.mailboxes > 0 && options.ceiling > 0 && options.accounts > 0,
            "--mailboxes, --ceiling and --accounts must be positive"
        );
        options
    }

    /// The delegated share, when calendars are populated at all.
    fn population(&self) -> Option<usize> {
        match (self.delegated, self.access) {
            (Some(percent), _) => Some(percent),
            (None, Access::Delegate) => Some(100),
            (None, Access::Impersonation) if self.via_group => Some(100),
            (None, Access::Impersonation) => None,
        }
    }

    /// Whether mailbox `index` holds the principal's entry: exactly floor(N x p / 100) of the
    /// N mailboxes do, spread evenly over the indexes.
    fn is_delegated(&self, index: usize) -> bool {
        match self.population() {
            None => false,
            Some(percent) => (index + 1) * percent / 100 > index * percent / 100,
        }
    }

    fn delegated_count(&self) -> usize {
        (0..self.mailboxes)
            .filter(|index| self.is_delegated(*index))
            .count()
    }

    /// The group holding the Editor entry of the `ordinal`-th delegated calendar (`--via-group`):
    /// alternately the principal's direct group and the group nesting it.
    fn group_of(ordinal: usize) -> &'static str {
        if ordinal.is_multiple_of(2) {
            GROUP_DIRECT
        } else {
            GROUP_NESTED
        }
    }

    /// The groups an Editor entry is on: what a batch must expand, once each.
    fn groups_used(&self) -> usize {
        if self.via_group {
            self.delegated_count().min(2)
        } else {
            0
        }
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
    let mut toml = String::with_capacity(options.mailboxes * 200);
    match options.access {
        // The service accounts push as themselves: the principal's grants reach them only when
        // they belong to it (serve's /readyz checks that).
        Access::Delegate => {
            let members: Vec<String> = (1..=options.accounts)
                .map(|index| format!("\"svc{index}@contoso.example\""))
                .collect();
            toml.push_str(&format!(
                "[[groups]]\nsmtp = \"{PRINCIPAL}\"\nmembers = [{}]\n\n",
                members.join(", ")
            ));
        }
        Access::Impersonation => toml.push_str(&format!("[[users]]\nsmtp = \"{PRINCIPAL}\"\n\n")),
    }
    if options.via_group {
        toml.push_str(&format!(
            "[[groups]]\nsmtp = \"{GROUP_DIRECT}\"\nmembers = [\"{PRINCIPAL}\"]\n\n\
             [[groups]]\nsmtp = \"{GROUP_NESTED}\"\nmembers = [\"{GROUP_DIRECT}\"]\n\n"
        ));
    }
    for index in 1..=options.accounts {
        toml.push_str(&format!(
            "[[accounts]]\nusername = 'CONTOSO\\svc{index}'\npassword = \"{PASSWORD}\"\n\
             smtp = \"svc{index}@contoso.example\"\nimpersonation = \"all\"\n\n"
        ));
    }
    let mut delegated = 0usize;
    for index in 0..options.mailboxes {
        toml.push_str(&format!("[[mailboxes]]\nsmtp = \"{}\"\n", mailbox(index)));
        if options.population().is_some() {
            // Exchange's defaults for a new calendar, then the principal's entry or none.
            toml.push_str(
                "permissions = [{ user = \"Default\", level = \"FreeBusyTimeOnly\" }, \
                 { user = \"Anonymous\", level = \"None\" }",
            );
            if options.is_delegated(index) {
                let holder = if options.via_group {
                    Options::group_of(delegated)
                } else {
                    PRINCIPAL
                };
                delegated += 1;
                toml.push_str(&format!(", {{ user = \"{holder}\", level = \"Editor\" }}"));
            }
            toml.push_str("]\n");
        }
        toml.push('\n');
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
access = "{access}"
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
        access = options.access.as_str(),
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

/// GetFolder requests so far (readiness probes included: for the first line's progress only).
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
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|index| args.get(index + 1))
    };
    let number = |name: &str| {
        value(name).map(|text| {
            text.parse::<u64>()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
    };
    match value("--backend").map(String::as_str) {
        None | Some("ews") => {}
        Some("graph") => {
            let stream = number("--duration-secs").map(|duration| {
                (
                    Duration::from_secs(duration),
                    Duration::from_secs(number("--token-lifetime-secs").unwrap_or(60)),
                    number("--rate").unwrap_or(10).max(1),
                )
            });
            let options = graph::GraphOptions {
                mailboxes: number("--mailboxes").unwrap_or(10_000).max(1) as usize,
                latency_ms: number("--latency-ms").unwrap_or(20),
                max_concurrency: number("--max-concurrency").unwrap_or(32).max(1) as usize,
                stream,
            };
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(graph::run(options));
            return;
        }
        Some(other) => panic!("--backend takes ews or graph, not {other}"),
    }
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
    let (_, cpu_before) = process_usage(serve_pid);

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
    let mut outcomes = Outcomes::default();
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
            if !last_line.is_empty() {
                outcomes.count(&last_line);
            }
            last_line = line;
        }
    }
    let wall = started.elapsed();
    let (peak_kib, cpu_seconds) = process_usage(serve_pid);
    let (_, sim_cpu_seconds) = process_usage(sim.0.id());
    let after = sim_stats(&client, sim_port).await;
    let summary: Value = serde_json::from_slice(&last_line).expect("the summary line");

    let mailboxes = options.mailboxes as f64;
    let requests = Requests::between(&before, &after);
    let per_mailbox = |count: u64| count as f64 / mailboxes;
    let requests_per_mailbox = per_mailbox(requests.total);
    let limit = mailboxes * requests_per_mailbox * options.latency_ms as f64
        / 1000.0
        / (options.ceiling * options.accounts) as f64;
    let ratio = wall.as_secs_f64() / limit;
    let batch_cpu_ms = (cpu_seconds - cpu_before) * 1000.0;
    // Both throttling answers: scripted ErrorServerBusy and ErrorExceededConnectionCount beyond
    // the simulator's concurrency limit.
    let throttled = |stats: &Value| {
        stats["busyAnswers"].as_u64().unwrap_or(0)
            + stats["connectionCountAnswers"].as_u64().unwrap_or(0)
    };
    let busy = throttled(&after) - throttled(&before);
    let handshakes = after["ntlmAccepted"].as_u64().unwrap_or(0);
    let connections = after["connectionsOpened"].as_u64().unwrap_or(0);
    let population = match options.population() {
        Some(percent) => format!(
            "{percent} % delegated ({} of {}){}",
            options.delegated_count(),
            options.mailboxes,
            if options.via_group {
                " through groups"
            } else {
                " by the principal's own entry"
            }
        ),
        None => "calendars with an empty permission set".to_owned(),
    };
    println!(
        "load: N={} L={}ms C={} K={} access={} ({population})",
        options.mailboxes,
        options.latency_ms,
        options.ceiling,
        options.accounts,
        options.access.as_str()
    );
    println!(
        "  lines                {} ({} with error); summary {}",
        outcomes.lines, outcomes.errors, summary["summary"]
    );
    println!(
        "  outcomes             ok {}, not_delegated {}, other {}{}",
        outcomes.ok,
        outcomes.not_delegated,
        outcomes.other(),
        outcomes.other_detail()
    );
    println!("  wall time            {:.3} s", wall.as_secs_f64());
    println!(
        "  EWS requests         {:.3} per mailbox: GetFolder {:.3}, ExpandDL {:.3} ({} in all), other {:.3} ({} readiness probes left out)",
        requests_per_mailbox,
        per_mailbox(requests.get_folder),
        per_mailbox(requests.expand_dl),
        requests.expand_dl,
        per_mailbox(requests.total - requests.get_folder - requests.expand_dl),
        requests.probes
    );
    println!(
        "  limit N*R*L/(C*K)    {limit:.3} s (R = {requests_per_mailbox:.3} requests per mailbox)"
    );
    println!("  ratio                {ratio:.3} (issue 12's target: at most 1.10)");
    println!("  busy answers         {busy}");
    println!("  NTLM handshakes      {handshakes} (all, readiness probes included)");
    println!("  connections opened   {connections}");
    println!("  peak concurrency     {}", after["peakConcurrency"]);
    println!("  serve peak RSS       {:.1} MiB", peak_kib as f64 / 1024.0);
    println!(
        "  serve CPU            {cpu_seconds:.2} s (user + system, start included); {:.2} s in the batch, {:.3} ms per mailbox",
        batch_cpu_ms / 1000.0,
        batch_cpu_ms / mailboxes
    );
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

    let problems = expectation_failures(&options, &outcomes, &requests);
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("load bench FAILED: {problem}");
        }
        std::process::exit(1);
    }
}

/// The check's outcomes, counted from the NDJSON lines (the summary line excluded).
#[derive(Default)]
struct Outcomes {
    lines: usize,
    errors: usize,
    ok: usize,
    not_delegated: usize,
    /// Every other status (or `error` for a failed line), with its count.
    others: std::collections::BTreeMap<String, usize>,
}

impl Outcomes {
    fn count(&mut self, line: &[u8]) {
        self.lines += 1;
        let value: Value = serde_json::from_slice(line).expect("an NDJSON line");
        if value.get("error").is_some() {
            self.errors += 1;
            *self.others.entry("error".to_owned()).or_insert(0) += 1;
            return;
        }
        match value["status"].as_str() {
            Some("ok") => self.ok += 1,
            Some("not_delegated") => self.not_delegated += 1,
            other => {
                *self
                    .others
                    .entry(other.unwrap_or("(none)").to_owned())
                    .or_insert(0) += 1;
            }
        }
    }

    fn other(&self) -> usize {
        self.others.values().sum()
    }

    fn other_detail(&self) -> String {
        if self.others.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = self
            .others
            .iter()
            .map(|(status, count)| format!("{status} {count}"))
            .collect();
        format!(" ({})", parts.join(", "))
    }
}

/// The EWS requests the batch made, from the simulator's counters before and after it.
struct Requests {
    get_folder: u64,
    expand_dl: u64,
    total: u64,
    /// Requests that named no mailbox (the readiness probes' GetFolder of the account's own
    /// calendar), left out of `get_folder` and `total`.
    probes: u64,
}

impl Requests {
    fn between(before: &Value, after: &Value) -> Requests {
        let operation =
            |stats: &Value, name: &str| stats["requestsByOperation"][name].as_u64().unwrap_or(0);
        let all = |stats: &Value| {
            stats["requestsByOperation"]
                .as_object()
                .map_or(0, |map| map.values().filter_map(Value::as_u64).sum())
        };
        let own = |stats: &Value| stats["ownMailboxRequests"].as_u64().unwrap_or(0);
        let probes = own(after) - own(before);
        Requests {
            get_folder: (operation(after, "GetFolder") - operation(before, "GetFolder"))
                .saturating_sub(probes),
            expand_dl: operation(after, "ExpandDL") - operation(before, "ExpandDL"),
            total: (all(after) - all(before)).saturating_sub(probes),
            probes,
        }
    }
}

/// What the population promises and the run did not give; empty when all matched.
fn expectation_failures(
    options: &Options,
    outcomes: &Outcomes,
    requests: &Requests,
) -> Vec<String> {
    let mut problems = Vec::new();
    let (ok, not_delegated) = match options.access {
        // The owner pushes: its own rights decide, whatever the principal holds.
        Access::Impersonation => (options.mailboxes, 0),
        Access::Delegate => {
            let delegated = options.delegated_count();
            (delegated, options.mailboxes - delegated)
        }
    };
    if outcomes.lines != options.mailboxes {
        problems.push(format!(
            "{} result lines for {} mailboxes",
            outcomes.lines, options.mailboxes
        ));
    }
    if (outcomes.ok, outcomes.not_delegated, outcomes.other()) != (ok, not_delegated, 0) {
        problems.push(format!(
            "the population promises ok {ok}, not_delegated {not_delegated}, other 0; the batch answered ok {}, not_delegated {}, other {}{}",
            outcomes.ok,
            outcomes.not_delegated,
            outcomes.other(),
            outcomes.other_detail()
        ));
    }
    let groups = options.groups_used() as u64;
    if options.via_group && requests.expand_dl != groups {
        problems.push(format!(
            "{} ExpandDL requests; each of the {groups} groups holding an entry must be expanded once",
            requests.expand_dl
        ));
    }
    problems
}
