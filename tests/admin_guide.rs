//! The admin guide (`docs/admin/exchange-on-premises.md`) and `ews-connector admin-script` tell
//! an Exchange admin the same thing: every cmdlet and parameter the script prints for the demo
//! configuration is shown in the guide, and every cmdlet the guide uses is one the script
//! prints, except a short, named list of read-only verification cmdlets.
//! Also: the script holds no password, keeps hostile values inside their strings, refuses bad
//! users files by line, and is well-formed PowerShell (parsed by `pwsh` when it is installed,
//! otherwise checked for strings closed on their line and balanced brackets).
//! The same for the cloud side: `docs/admin/exchange-online.md` and `admin-script --graph` (the
//! configuration's values quoted, the certificate's thumbprint, the scope by group or by
//! `routing.graph_domains`, `--graph` without `[graph]` refused), and no cmdlet of the retired
//! MSOnline or AzureAD modules in either.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::schema::on_path;

const BINARY: &str = env!("CARGO_BIN_EXE_ews-connector");

/// The demo account's password for these runs; it must never appear in a script.
const DEMO_PASSWORD: &str = "Demo-Secret-4711!";

/// Cmdlets the guide uses to look at the result of a step, which the script has no reason to
/// run. Read-only by name (`Get-`, `Format-`), which the test checks.
const GUIDE_ONLY_VERIFICATION: &[&str] = &[
    "Get-ADUser",
    "Get-ThrottlingPolicyAssociation",
    "Get-WebServicesVirtualDirectory",
    "Format-List",
];

/// PowerShell operators, which look like parameters (`-eq`) but are not.
const OPERATORS: &[&str] = &[
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "like",
    "notlike",
    "match",
    "notmatch",
    "contains",
    "notcontains",
    "in",
    "notin",
    "not",
    "and",
    "or",
    "xor",
    "is",
    "isnot",
    "as",
    "replace",
    "split",
    "join",
    "f",
];

const SINGLE_QUOTES: &[char] = &['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

fn guide_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/admin/exchange-on-premises.md")
}

/// Writes the demo's configuration (as `ews-connector demo` builds it) into `dir`.
fn write_demo_config(dir: &Path) -> PathBuf {
    let text = ews_connector::demo::config_toml(
        "https://mail.contoso.example/EWS/Exchange.asmx",
        "127.0.0.1:0".parse().unwrap(),
        &"ab".repeat(32),
        &dir.join("audit.jsonl").display().to_string(),
    );
    let path = dir.join("demo.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn admin_script(config: &Path, users: Option<&Path>) -> Output {
    let mut command = Command::new(BINARY);
    command
        .arg("admin-script")
        .arg("--config")
        .arg(config)
        .env(ews_connector::demo::DEMO_PASSWORD_ENV, DEMO_PASSWORD)
        .env("HOSTILE_PASSWORD", DEMO_PASSWORD);
    if let Some(users) = users {
        command.arg("--users").arg(users);
    }
    command.output().unwrap()
}

fn script_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "admin-script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn demo_script(users: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = write_demo_config(dir.path());
    let users_path = users.map(|text| {
        let path = dir.path().join("users.txt");
        std::fs::write(&path, text).unwrap();
        path
    });
    script_of(&admin_script(&config, users_path.as_deref()))
}

/// The ```powershell blocks of a Markdown text, joined.
fn powershell_blocks(markdown: &str) -> String {
    let mut blocks = String::new();
    let mut inside = false;
    for line in markdown.lines() {
        if inside {
            if line.trim_start().starts_with("```") {
                inside = false;
                blocks.push('\n');
            } else {
                blocks.push_str(line);
                blocks.push('\n');
            }
        } else if line.trim_start() == "```powershell" {
            inside = true;
        }
    }
    assert!(!inside, "an unclosed ```powershell block");
    blocks
}

/// PowerShell source with comments removed and every string literal replaced by `S`; fails on a
/// string that does not close on its own line (the script writes one command per line).
fn strip_strings_and_comments(source: &str) -> Result<String, String> {
    let mut code = String::new();
    for (number, line) in source.lines().enumerate() {
        let number = number + 1;
        let characters: Vec<char> = line.chars().collect();
        let mut index = 0;
        while index < characters.len() {
            let character = characters[index];
            if character == '#' {
                break;
            } else if SINGLE_QUOTES.contains(&character) {
                index += 1;
                loop {
                    let Some(&inner) = characters.get(index) else {
                        return Err(format!("line {number}: unclosed '...' string: {line}"));
                    };
                    if SINGLE_QUOTES.contains(&inner) {
                        if characters
                            .get(index + 1)
                            .is_some_and(|next| SINGLE_QUOTES.contains(next))
                        {
                            index += 2;
                            continue;
                        }
                        break;
                    }
                    index += 1;
                }
                code.push('S');
            } else if character == '"' {
                index += 1;
                loop {
                    let Some(&inner) = characters.get(index) else {
                        return Err(format!("line {number}: unclosed \"...\" string: {line}"));
                    };
                    if inner == '`' {
                        index += 2;
                        continue;
                    }
                    if inner == '"' {
                        if characters.get(index + 1) == Some(&'"') {
                            index += 2;
                            continue;
                        }
                        break;
                    }
                    index += 1;
                }
                code.push('S');
            } else {
                code.push(character);
            }
            index += 1;
        }
        code.push('\n');
    }
    Ok(code)
}

/// Checks what can be checked without a PowerShell parser: every string closes on its own line,
/// and parentheses and braces balance over the whole text without ever closing more than was
/// opened. With `pwsh` on PATH, also parses the text with PowerShell's own parser.
fn assert_well_formed(source: &str, what: &str) {
    let code = strip_strings_and_comments(source).unwrap_or_else(|error| panic!("{what}: {error}"));
    let (mut parentheses, mut braces) = (0i64, 0i64);
    for (number, line) in code.lines().enumerate() {
        for character in line.chars() {
            match character {
                '(' => parentheses += 1,
                ')' => parentheses -= 1,
                '{' => braces += 1,
                '}' => braces -= 1,
                _ => {}
            }
            assert!(
                parentheses >= 0 && braces >= 0,
                "{what}: line {} closes more than was opened: {line}",
                number + 1
            );
        }
    }
    assert_eq!((parentheses, braces), (0, 0), "{what}: unbalanced brackets");

    if on_path("pwsh") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script.ps1");
        std::fs::write(&path, source).unwrap();
        let command = format!(
            "$errors = $null; [void][System.Management.Automation.Language.Parser]::ParseFile('{}', [ref]$null, [ref]$errors); if ($errors.Count) {{ $errors | ForEach-Object {{ $_.Message }}; exit 1 }}",
            path.display().to_string().replace('\'', "''")
        );
        let output = Command::new("pwsh")
            .args(["-NoProfile", "-NonInteractive", "-Command", &command])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{what}: pwsh does not parse it: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    } else {
        println!("{what}: pwsh is not on PATH; checked closed strings and balanced brackets only");
    }
}

/// Every cmdlet (`Verb-Noun`) of a PowerShell text, with the parameters written after it in the
/// same command (up to `|`, `;`, the end of the line, or the bracket it sits in). Names are
/// lower-cased; strings and comments are ignored.
fn cmdlets_and_parameters(source: &str) -> BTreeMap<String, BTreeSet<String>> {
    let code = strip_strings_and_comments(source).unwrap();
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // The command being read at each bracket depth.
    let mut current: Vec<Option<String>> = vec![None];
    let characters: Vec<char> = code.chars().collect();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            '(' | '{' => {
                current.push(None);
                index += 1;
                continue;
            }
            ')' | '}' => {
                current.pop();
                if current.is_empty() {
                    current.push(None);
                }
                index += 1;
                continue;
            }
            '|' | ';' | '\n' => {
                *current.last_mut().unwrap() = None;
                index += 1;
                continue;
            }
            _ => {}
        }
        if !(character.is_ascii_alphanumeric() || character == '-' || character == '_') {
            index += 1;
            continue;
        }
        let start = index;
        while index < characters.len()
            && (characters[index].is_ascii_alphanumeric()
                || characters[index] == '-'
                || characters[index] == '_')
        {
            index += 1;
        }
        let word: String = characters[start..index].iter().collect();
        let before = start.checked_sub(1).map(|position| characters[position]);
        if matches!(before, Some('$') | Some('.')) {
            continue; // a variable or a member
        }
        if let Some(name) = word.strip_prefix('-') {
            let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic());
            if is_name && !OPERATORS.contains(&name.to_ascii_lowercase().as_str()) {
                if let Some(Some(cmdlet)) = current.last() {
                    found
                        .get_mut(cmdlet)
                        .unwrap()
                        .insert(word.to_ascii_lowercase());
                }
            }
            continue;
        }
        if is_cmdlet_name(&word) {
            let cmdlet = word.to_ascii_lowercase();
            found.entry(cmdlet.clone()).or_default();
            *current.last_mut().unwrap() = Some(cmdlet);
        }
    }
    found
}

fn is_cmdlet_name(word: &str) -> bool {
    let Some((verb, noun)) = word.split_once('-') else {
        return false;
    };
    let capitalized = |part: &str| {
        part.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && part.chars().all(|c| c.is_ascii_alphanumeric())
    };
    capitalized(verb) && capitalized(noun) && verb.chars().skip(1).all(|c| c.is_ascii_lowercase())
}

#[test]
fn the_guide_shows_every_cmdlet_and_parameter_the_script_prints_and_no_other_setup_cmdlet() {
    let guide = std::fs::read_to_string(guide_path()).unwrap();
    let guide_code = powershell_blocks(&guide);
    let guide_uses = cmdlets_and_parameters(&guide_code);
    // Both with a users file and without (the two forms of step 5).
    let with_users = demo_script(Some(
        "# two of the demo's sample mailboxes\nplain@contoso.example\nalice@contoso.example\n",
    ));
    let without_users = demo_script(None);
    let mut script_uses = cmdlets_and_parameters(&with_users);
    for (cmdlet, parameters) in cmdlets_and_parameters(&without_users) {
        script_uses.entry(cmdlet).or_default().extend(parameters);
    }

    // The extraction sees what an admin would: enough commands that the comparison means
    // something, and the ones the issue names.
    let n_pairs: usize = script_uses.values().map(BTreeSet::len).sum();
    println!(
        "script: {} cmdlets, {n_pairs} cmdlet-parameter pairs; guide: {} cmdlets",
        script_uses.len(),
        guide_uses.len()
    );
    assert!(script_uses.len() >= 20, "{script_uses:?}");
    for (cmdlet, parameter) in [
        ("new-mailbox", "-password"),
        ("read-host", "-assecurestring"),
        ("set-aduser", "-passwordneverexpires"),
        ("new-distributiongroup", "-type"),
        ("new-throttlingpolicy", "-ewsmaxconcurrency"),
        ("set-throttlingpolicyassociation", "-throttlingpolicy"),
        ("new-managementscope", "-recipientrestrictionfilter"),
        ("new-managementroleassignment", "-customrecipientwritescope"),
        ("get-mailboxfolderstatistics", "-folderscope"),
        ("add-mailboxfolderpermission", "-accessrights"),
        ("set-mailboxfolderpermission", "-accessrights"),
    ] {
        assert!(
            script_uses
                .get(cmdlet)
                .is_some_and(|parameters| parameters.contains(parameter)),
            "the script lacks {cmdlet} {parameter}"
        );
    }

    let mut missing_in_guide = Vec::new();
    for (cmdlet, parameters) in &script_uses {
        match guide_uses.get(cmdlet) {
            None => missing_in_guide.push(cmdlet.clone()),
            Some(shown) => {
                for parameter in parameters.difference(shown) {
                    missing_in_guide.push(format!("{cmdlet} {parameter}"));
                }
            }
        }
    }
    assert!(
        missing_in_guide.is_empty(),
        "the script uses these, the guide's powershell blocks do not: {missing_in_guide:?}"
    );

    let exempt: BTreeSet<String> = GUIDE_ONLY_VERIFICATION
        .iter()
        .map(|cmdlet| cmdlet.to_ascii_lowercase())
        .collect();
    for cmdlet in &exempt {
        assert!(
            cmdlet.starts_with("get-") || cmdlet.starts_with("format-"),
            "{cmdlet} is not a read-only verification cmdlet"
        );
        assert!(
            guide_uses.contains_key(cmdlet),
            "{cmdlet} is exempted but the guide does not use it: keep the list short"
        );
        assert!(
            !script_uses.contains_key(cmdlet),
            "{cmdlet} is exempted but the script prints it"
        );
    }
    let not_in_script: Vec<&String> = guide_uses
        .keys()
        .filter(|cmdlet| !script_uses.contains_key(*cmdlet) && !exempt.contains(*cmdlet))
        .collect();
    assert!(
        not_in_script.is_empty(),
        "the guide uses these, the script never prints them: {not_in_script:?}"
    );
}

#[test]
fn the_guide_and_the_script_both_say_what_the_connector_may_write() {
    let guide = std::fs::read_to_string(guide_path()).unwrap();
    let script = demo_script(None);
    for key in ["delegation.allowed_principals", "delegation.max_level"] {
        assert!(guide.contains(key), "the guide does not name {key}");
        assert!(
            script.contains(key),
            "the script does not name {key}:\n{script}"
        );
    }
    for code in ["principal_not_allowed", "level_not_allowed"] {
        assert!(guide.contains(code), "the guide does not name {code}");
    }
    // The demo configuration sets neither key: its principal only, at most its level.
    assert!(
        script.contains("# principals: mytimetable-push@contoso.example (delegation.principal) only, delegation.allowed_principals being empty;"),
        "{script}"
    );
    assert!(
        script.contains("# levels: at most Editor (delegation.max_level)"),
        "{script}"
    );
    // The guide's configuration block shows both keys.
    for key in ["allowed_principals = ", "max_level = "] {
        assert!(
            guide.lines().any(|line| line.starts_with(key)),
            "the guide's step 7 does not show {key}"
        );
    }
}

#[test]
fn the_demo_script_holds_no_password_and_asks_for_each_one() {
    for script in [
        demo_script(None),
        demo_script(Some("plain@contoso.example\n")),
    ] {
        assert!(!script.contains(DEMO_PASSWORD), "{script}");
        assert!(!script.contains("ConvertTo-SecureString"));
        assert!(!script.contains("-AsPlainText"));
        let password_lines: Vec<&str> = script
            .lines()
            .filter(|line| line.contains("-Password "))
            .collect();
        // The demo configuration has one service account.
        assert_eq!(password_lines.len(), 1, "{script}");
        for line in password_lines {
            assert!(
                line.contains(
                    "-Password (Read-Host -AsSecureString -Prompt 'Password for svc-mytt')"
                ),
                "{line}"
            );
        }
        assert!(script.contains("New-Mailbox -Name 'svc-mytt' -SamAccountName 'svc-mytt' -UserPrincipalName 'svc-mytt@contoso.example'"));
        assert!(script.contains("Set-ADUser -Identity 'svc-mytt' -PasswordNeverExpires $true"));
        // The demo's principal is not its service account: a group with the account in it.
        assert!(script.contains("$Principal = 'mytimetable-push@contoso.example'"));
        assert!(script.contains(
            "Add-DistributionGroupMember -Identity $Principal -Member 'svc-mytt@contoso.example'"
        ));
        // Default ceiling 10, policy 12.
        assert!(
            script.contains("New-ThrottlingPolicy -Name 'MyTimetable-EWS' -EwsMaxConcurrency 12 ")
        );
        assert!(script.contains("-Role 'ApplicationImpersonation' -User 'svc-mytt' -CustomRecipientWriteScope 'MyTimetable mailboxes'"));
        assert!(script.contains("-AccessRights 'Editor'"));
        assert_well_formed(&script, "demo script");
    }
}

#[test]
fn the_users_file_becomes_a_quoted_list_and_bad_lines_are_refused_by_number() {
    let script = demo_script(Some(
        "# first years\nplain@contoso.example\n\nd'arcy@contoso.example   # late enrolment\nPLAIN@contoso.example\n",
    ));
    assert!(
        script
            .contains("$Users = @(\n    'plain@contoso.example'\n    'd''arcy@contoso.example'\n)"),
        "{script}"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = write_demo_config(dir.path());
    for (text, expected) in [
        (
            "plain@contoso.example\nnot an address\n",
            "users file line 2: `not an address` is not a mailbox address",
        ),
        (
            "# outsiders\nsomeone@fabrikam.example\n",
            "users file line 2: `someone@fabrikam.example` is outside api.allowed_domains",
        ),
    ] {
        let users = dir.path().join("bad-users.txt");
        std::fs::write(&users, text).unwrap();
        let output = admin_script(&config, Some(&users));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(
            output.stdout.is_empty(),
            "no script for a refused users file"
        );
    }
}

#[test]
fn hostile_names_stay_inside_their_strings() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostile.toml");
    std::fs::write(
        &config,
        r#"
[exchange]
url = "https://mail.contoso.example/EWS/Exchange.asmx"
impersonation = true

[[exchange.accounts]]
username = '''CONTOSO\x'; Remove-Mailbox -Identity * -Confirm:$false; 'y'''
smtp = "o'brien$(Stop-Computer)@contoso.example"
password_env = "HOSTILE_PASSWORD"

[delegation]
principal = "it’s-push@contoso.example"

[api]
allowed_domains = ["contoso.example"]
"#,
    )
    .unwrap();
    let users = dir.path().join("users.txt");
    std::fs::write(&users, "d'arcy`$(Restart-Computer)@contoso.example\n").unwrap();
    let script = script_of(&admin_script(&config, Some(&users)));

    assert!(
        script.contains(
            "Set-ADUser -Identity 'x''; Remove-Mailbox -Identity * -Confirm:$false; ''y' -PasswordNeverExpires $true"
        ),
        "{script}"
    );
    assert!(script.contains("'o''brien$(Stop-Computer)@contoso.example'"));
    assert!(script.contains("$Principal = 'it’’s-push@contoso.example'"));
    assert!(script.contains("    'd''arcy`$(Restart-Computer)@contoso.example'"));
    assert_well_formed(&script, "hostile script");

    // Read as PowerShell reads it, nothing of those values became a command.
    let commands = cmdlets_and_parameters(&script);
    for injected in ["remove-mailbox", "stop-computer", "restart-computer"] {
        assert!(
            !commands.contains_key(injected),
            "{injected} escaped its string:\n{script}"
        );
    }
    let benign = cmdlets_and_parameters(&demo_script(Some("plain@contoso.example\n")));
    assert_eq!(
        commands.keys().collect::<Vec<_>>(),
        benign.keys().collect::<Vec<_>>(),
        "hostile values changed which commands the script runs"
    );
}

#[test]
fn the_guide_s_powershell_is_well_formed_and_its_contents_links_resolve() {
    let guide = std::fs::read_to_string(guide_path()).unwrap();
    assert_well_formed(&powershell_blocks(&guide), "guide");
    // Each contents entry points at a heading of the guide (GitHub's anchor rule).
    let anchors: BTreeSet<String> = guide
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .map(|heading| {
            heading
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect();
    let mut n_links = 0;
    for line in guide.lines().filter(|line| line.starts_with("- [")) {
        if let Some((_, rest)) = line.split_once("](#") {
            let anchor = rest.trim_end_matches(')');
            assert!(
                anchors.contains(anchor),
                "no heading for #{anchor}: {anchors:?}"
            );
            n_links += 1;
        }
    }
    assert!(n_links >= 10, "the guide has a table of contents");
}

// ---------------------------------------------------------------------------------------------
// The cloud side: docs/admin/exchange-online.md and `admin-script --graph`.

const TENANT: &str = "uni.onmicrosoft.com";
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const GRAPH_SECRET: &str = "Gr4ph~S3cret.Value_0123456789";

/// Cmdlets the cloud guide uses that the script has no reason to run: the workstation's module
/// installation, the one-time app registration (before a configuration can name its client
/// id), and a read-only look at a result.
const GRAPH_GUIDE_ONLY: &[&str] = &["Install-Module", "New-MgApplication", "Format-List"];

fn online_guide_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/admin/exchange-online.md")
}

/// A self-signed RSA certificate and its key in one PEM file (as step 1 of the guide makes it),
/// and the certificate's SHA-1 thumbprint as openssl computes it.
fn certificate_file(dir: &Path) -> (PathBuf, String) {
    let (certificate, key) = (dir.join("graph.crt"), dir.join("graph.key"));
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=ews-connector MyTimetable", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(&certificate)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8(output.stdout).unwrap();
    let thumbprint = fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_ascii_uppercase();
    assert_eq!(thumbprint.len(), 40, "{fingerprint}");
    let pem = dir.join("graph.pem");
    let text =
        std::fs::read_to_string(&certificate).unwrap() + &std::fs::read_to_string(&key).unwrap();
    write_private(&pem, &text);
    (pem, thumbprint)
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// The demo's configuration plus `[graph]` (with `credential`) and `routing`.
fn write_graph_config(dir: &Path, credential: &str, routing: &str) -> PathBuf {
    let demo = std::fs::read_to_string(write_demo_config(dir)).unwrap();
    let text = format!(
        "{demo}\n[graph]\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT_ID}\"\n{credential}\n{routing}\n"
    );
    let path = dir.join("graph.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn admin_script_graph(config: &Path, group: Option<&str>) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(["admin-script", "--graph", "--config"])
        .arg(config)
        .env(ews_connector::demo::DEMO_PASSWORD_ENV, DEMO_PASSWORD);
    if let Some(group) = group {
        command.args(["--group", group]);
    }
    command.output().unwrap()
}

/// The script for a certificate and `routing.graph_domains`, with the thumbprint it must name.
fn graph_script(group: Option<&str>) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (pem, thumbprint) = certificate_file(dir.path());
    let config = write_graph_config(
        dir.path(),
        &format!("certificate_file = '{}'", pem.display()),
        "[routing]\ngraph_domains = [\"students.uni.example\", \"alumni.uni.example\"]\n",
    );
    (script_of(&admin_script_graph(&config, group)), thumbprint)
}

/// Cmdlet names (`Verb-Noun`) of the retired MSOnline and AzureAD modules anywhere in `text`,
/// and any mention of those modules being imported or installed.
fn retired_cmdlets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if let Some((_, noun)) = word.split_once('-') {
            let noun = noun.to_ascii_lowercase();
            if noun.starts_with("msol") || noun.starts_with("azuread") {
                found.push(word.to_owned());
            }
        }
    }
    let lower = text.to_ascii_lowercase();
    for module in ["msonline", "azuread", "azureadpreview"] {
        for verb in ["import-module", "install-module"] {
            if lower.contains(&format!("{verb} {module}\n"))
                || lower.contains(&format!("{verb} {module} "))
            {
                found.push(format!("{verb} {module}"));
            }
        }
    }
    found
}

#[test]
fn the_graph_script_fills_in_the_configuration_as_quoted_strings() {
    let (script, thumbprint) = graph_script(None);
    assert!(
        script.contains(&format!("$TenantId = '{TENANT}'\n")),
        "{script}"
    );
    assert!(script.contains(&format!("$ClientId = '{CLIENT_ID}'\n")));
    // The thumbprint of graph.certificate_file, as openssl computes it, checked against the
    // app registration's certificates.
    assert!(
        script.contains(&format!("$Thumbprint = '{thumbprint}'\n")),
        "{script}"
    );
    assert!(script.contains(&format!("thumbprint {thumbprint}, valid until")));
    assert!(script.contains("-eq $Thumbprint"));
    // No group given: the user mailboxes of routing.graph_domains, in a group of their own.
    assert!(script.contains("$Domains = @('students.uni.example', 'alumni.uni.example')\n"));
    assert!(script.contains("$ScopeGroup = 'mytimetable-graph@students.uni.example'\n"));
    assert!(script.contains("New-DistributionGroup -Name 'mytimetable-graph' -Alias 'mytimetable-graph' -PrimarySmtpAddress $ScopeGroup -Type Security"));
    assert!(script.contains("Add-DistributionGroupMember -Identity $ScopeGroup -Member $Address"));
    // The RBAC for Applications steps, with the enterprise application's ids.
    assert!(script.contains("New-ServicePrincipal -AppId $ClientId -ObjectId $Sp.Id -DisplayName 'MyTimetable ews-connector'"));
    assert!(script.contains("New-ManagementScope -Name 'MyTimetable Graph mailboxes' -RecipientRestrictionFilter (\"MemberOfGroup -eq '\""));
    assert!(script.contains("New-ManagementRoleAssignment -Name 'MyTimetable Calendars.ReadWrite' -App $ClientId -Role 'Application Calendars.ReadWrite' -CustomResourceScope 'MyTimetable Graph mailboxes'"));
    assert!(script.contains("Test-ServicePrincipalAuthorization -Identity $ClientId -Resource "));
    // The tenant-wide grant in Entra ID is removed, not left to widen the scope.
    assert!(script.contains("Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $Sp.Id -AppRoleAssignmentId $Grant.Id"));
    assert!(script.contains("Where-Object Value -eq 'Calendars.ReadWrite'"));
    // The steps in the guide's order.
    let order = [
        "Connect-MgGraph",
        "Get-MgApplication",
        "Remove-MgServicePrincipalAppRoleAssignment",
        "Connect-ExchangeOnline",
        "New-ServicePrincipal",
        "New-ManagementScope",
        "New-ManagementRoleAssignment",
        "Test-ServicePrincipalAuthorization",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|cmdlet| script.find(cmdlet).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );
    assert_well_formed(&script, "graph script");
    assert!(
        retired_cmdlets(&script).is_empty(),
        "{:?}",
        retired_cmdlets(&script)
    );
}

#[test]
fn the_graph_script_scopes_to_a_given_group_and_keeps_hostile_names_in_their_strings() {
    let (script, _) = graph_script(Some("mytimetable-students@uni.example"));
    assert!(
        script.contains("$ScopeGroup = 'mytimetable-students@uni.example'\n"),
        "{script}"
    );
    // The group is the institution's: its members are not touched.
    assert!(!script.contains("Add-DistributionGroupMember"));
    assert!(!script.contains("New-DistributionGroup"));
    assert!(!script.contains("Get-EXOMailbox"));

    let hostile = "x'; Remove-Mailbox -Identity * -Confirm:$false; '’y@uni.example";
    let (script, _) = graph_script(Some(hostile));
    assert!(
        script.contains(
            "$ScopeGroup = 'x''; Remove-Mailbox -Identity * -Confirm:$false; ''’’y@uni.example'\n"
        ),
        "{script}"
    );
    assert_well_formed(&script, "hostile graph script");
    let commands = cmdlets_and_parameters(&script);
    assert!(!commands.contains_key("remove-mailbox"), "{script}");
    let (benign, _) = graph_script(Some("mytimetable-students@uni.example"));
    assert_eq!(
        commands.keys().collect::<Vec<_>>(),
        cmdlets_and_parameters(&benign).keys().collect::<Vec<_>>(),
        "a hostile group changed which commands the script runs"
    );

    // A line break cannot be quoted: refused, no script.
    let dir = tempfile::tempdir().unwrap();
    let (pem, _) = certificate_file(dir.path());
    let config = write_graph_config(
        dir.path(),
        &format!("certificate_file = '{}'", pem.display()),
        "",
    );
    let output = admin_script_graph(&config, Some("a\nRemove-Mailbox@uni.example"));
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("control character"));
}

#[test]
fn the_graph_script_with_a_client_secret_checks_for_one_and_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("graph.secret");
    write_private(&secret, &format!("{GRAPH_SECRET}\n"));
    let config = write_graph_config(
        dir.path(),
        &format!("client_secret_file = '{}'", secret.display()),
        "[routing]\ngraph_domains = [\"students.uni.example\"]\n",
    );
    let script = script_of(&admin_script_graph(&config, None));
    assert!(!script.contains(GRAPH_SECRET), "{script}");
    assert!(!script.contains("$Thumbprint"));
    assert!(script.contains("if (@($App.PasswordCredentials).Count -eq 0) {"));
    assert!(script.contains("Write-Warning 'graph.client_secret_file: a client secret is configured; prefer a certificate'"));
    assert!(
        script.contains("New-ManagementRoleAssignment -Name 'MyTimetable Calendars.ReadWrite'")
    );
    assert_well_formed(&script, "graph script with a secret");
}

#[test]
fn graph_without_a_graph_section_or_a_scope_is_refused_naming_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let demo = write_demo_config(dir.path());
    let output = admin_script_graph(&demo, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty(), "no script without [graph]");
    assert!(stderr.contains("needs a [graph] section"), "{stderr}");
    assert!(
        stderr.contains("graph.tenant_id") && stderr.contains("graph.client_id"),
        "{stderr}"
    );
    assert!(stderr.contains("docs/admin/exchange-online.md"), "{stderr}");

    // [graph] but neither --group nor routing.graph_domains: nothing to scope to.
    let (pem, _) = certificate_file(dir.path());
    let config = write_graph_config(
        dir.path(),
        &format!("certificate_file = '{}'", pem.display()),
        "",
    );
    let output = admin_script_graph(&config, None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        stderr.contains("--group ADDRESS") && stderr.contains("routing.graph_domains"),
        "{stderr}"
    );

    // --group belongs to --graph, --users to the on-premises script.
    let output = Command::new(BINARY)
        .args(["admin-script", "--group", "g@uni.example", "--config"])
        .arg(&demo)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn the_online_guide_and_the_graph_script_use_the_same_cmdlets_and_no_retired_module() {
    let guide = std::fs::read_to_string(online_guide_path()).unwrap();
    let guide_code = powershell_blocks(&guide);
    assert_well_formed(&guide_code, "online guide");
    let guide_uses = cmdlets_and_parameters(&guide_code);

    // Every form of the script: domains, a group, a secret.
    let (with_domains, _) = graph_script(None);
    let (with_group, _) = graph_script(Some("mytimetable-students@uni.example"));
    let mut script_uses = cmdlets_and_parameters(&with_domains);
    for (cmdlet, parameters) in cmdlets_and_parameters(&with_group) {
        script_uses.entry(cmdlet).or_default().extend(parameters);
    }
    for (cmdlet, parameter) in [
        ("connect-mggraph", "-tenantid"),
        ("get-mgapplication", "-filter"),
        ("new-mgserviceprincipal", "-appid"),
        (
            "get-mgserviceprincipalapproleassignment",
            "-serviceprincipalid",
        ),
        (
            "remove-mgserviceprincipalapproleassignment",
            "-approleassignmentid",
        ),
        ("connect-exchangeonline", "-showbanner"),
        ("new-serviceprincipal", "-appid"),
        ("new-serviceprincipal", "-objectid"),
        ("new-managementscope", "-recipientrestrictionfilter"),
        ("new-managementroleassignment", "-app"),
        ("new-managementroleassignment", "-role"),
        ("new-managementroleassignment", "-customresourcescope"),
        ("test-serviceprincipalauthorization", "-identity"),
        ("test-serviceprincipalauthorization", "-resource"),
    ] {
        assert!(
            script_uses
                .get(cmdlet)
                .is_some_and(|parameters| parameters.contains(parameter)),
            "the script lacks {cmdlet} {parameter}"
        );
    }

    let mut missing_in_guide = Vec::new();
    for (cmdlet, parameters) in &script_uses {
        match guide_uses.get(cmdlet) {
            None => missing_in_guide.push(cmdlet.clone()),
            Some(shown) => {
                for parameter in parameters.difference(shown) {
                    missing_in_guide.push(format!("{cmdlet} {parameter}"));
                }
            }
        }
    }
    assert!(
        missing_in_guide.is_empty(),
        "the script uses these, the guide's powershell blocks do not: {missing_in_guide:?}"
    );
    let exempt: BTreeSet<String> = GRAPH_GUIDE_ONLY
        .iter()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    for cmdlet in &exempt {
        assert!(
            guide_uses.contains_key(cmdlet),
            "{cmdlet} is exempted but the guide does not use it"
        );
        assert!(
            !script_uses.contains_key(cmdlet),
            "{cmdlet} is exempted but the script prints it"
        );
    }
    let not_in_script: Vec<&String> = guide_uses
        .keys()
        .filter(|cmdlet| !script_uses.contains_key(*cmdlet) && !exempt.contains(*cmdlet))
        .collect();
    assert!(
        not_in_script.is_empty(),
        "the guide uses these, the script never prints them: {not_in_script:?}"
    );

    // Current modules only, in the guide's prose and code alike.
    assert!(
        retired_cmdlets(&guide).is_empty(),
        "{:?}",
        retired_cmdlets(&guide)
    );
    assert!(guide_code.contains("Install-Module Microsoft.Graph "));
    assert!(guide_code.contains("Install-Module ExchangeOnlineManagement "));
    // The page the scope's interplay with Entra ID comes from is cited by its title.
    assert!(guide.contains("\"Role Based Access Control for Applications in Exchange Online\""));
    // The configuration keys the script reads are the guide's.
    for key in [
        "tenant_id = ",
        "client_id = ",
        "certificate_file = ",
        "client_secret_file = ",
        "graph_domains = ",
        "follow_moves = ",
    ] {
        assert!(
            guide.lines().any(|line| line.starts_with(key)),
            "the guide's configuration lacks {key}"
        );
    }
}

#[test]
fn the_retired_module_check_finds_what_it_looks_for() {
    // The check above can fail: these are what older guides printed.
    assert_eq!(
        retired_cmdlets(
            "Connect-MsolService\nGet-AzureADServicePrincipal -All $true\nImport-Module MSOnline\n"
        ),
        [
            "Connect-MsolService",
            "Get-AzureADServicePrincipal",
            "import-module msonline"
        ]
    );
    assert!(retired_cmdlets("Connect-MgGraph; New-ServicePrincipal -AppId $x").is_empty());
}

#[test]
fn the_online_guide_s_contents_links_resolve() {
    let guide = std::fs::read_to_string(online_guide_path()).unwrap();
    let anchors: BTreeSet<String> = guide
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .map(|heading| {
            heading
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect();
    let mut n_links = 0;
    for line in guide.lines().filter(|line| line.starts_with("- [")) {
        if let Some((_, rest)) = line.split_once("](#") {
            let anchor = rest.trim_end_matches(')');
            assert!(
                anchors.contains(anchor),
                "no heading for #{anchor}: {anchors:?}"
            );
            n_links += 1;
        }
    }
    assert!(n_links >= 14, "the guide has a table of contents");
}
