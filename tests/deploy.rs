//! `deploy/` as an operator uses it: every configuration in it (the `*.toml` files and the one
//! in the Kubernetes ConfigMap) loads through `config::Config`, every manifest parses as YAML,
//! and the pieces agree with each other: the probes hit `/healthz` and `/readyz` on the port
//! `api.listen` uses, the Secrets are mounted where the configuration looks for passwords and
//! token hashes, the audit file is on a persistent volume, the systemd unit carries every
//! hardening directive and loads the credential the configuration names, and the container
//! runs as non-root.
//!
//! No image is built here (docker may be missing on CI): the Containerfile is checked as text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use ews_connector::config::Config;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Every file under `deploy/` whose name ends with `suffix`, sorted.
fn files_ending(suffix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, suffix: &str, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, suffix, found);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&deploy_dir(), suffix, &mut found);
    found.sort();
    found
}

/// Every YAML document of every manifest, as JSON values, with the file it came from.
fn manifests() -> Vec<(PathBuf, Value)> {
    let mut documents = Vec::new();
    for path in files_ending(".yaml") {
        let text = std::fs::read_to_string(&path).unwrap();
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = Value::deserialize(document)
                .unwrap_or_else(|error| panic!("{} is not valid YAML: {error}", path.display()));
            documents.push((path.clone(), value));
        }
    }
    documents
}

fn manifest(kind: &str, name: &str) -> Value {
    manifests()
        .into_iter()
        .map(|(_, value)| value)
        .find(|value| value["kind"] == kind && value["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
}

/// Loads a configuration the way `serve` would, with every secret it names provided: password
/// files (and `api.clients_file`) are redirected to a temporary directory holding `files`
/// (a dummy password for any `*.password`), `$CREDENTIALS_DIRECTORY` points there too, and
/// `password_env` variables are set.
fn load(text: &str, files: &HashMap<String, String>) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut environment: HashMap<String, String> = HashMap::new();
    environment.insert(
        "CREDENTIALS_DIRECTORY".to_owned(),
        dir.path().display().to_string(),
    );
    let mut rewritten = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let key = trimmed.split('=').next().unwrap_or("").trim();
        let value = trimmed
            .split_once('=')
            .map(|(_, value)| value.trim().trim_matches('"').to_owned());
        match (key, value) {
            ("password_file" | "clients_file", Some(value)) => {
                let name = value.rsplit('/').next().unwrap().to_owned();
                let contents = files
                    .get(&name)
                    .cloned()
                    .or_else(|| {
                        name.ends_with(".password")
                            .then(|| "dummy-password\n".into())
                    })
                    .unwrap_or_else(|| panic!("no test contents for {name}"));
                std::fs::write(dir.path().join(&name), contents).unwrap();
                if value.starts_with("$CREDENTIALS_DIRECTORY/") {
                    rewritten.push_str(line);
                } else {
                    rewritten.push_str(&format!("{key} = \"{name}\""));
                }
            }
            ("password_env", Some(value)) => {
                environment.insert(value, "dummy-password".to_owned());
                rewritten.push_str(line);
            }
            _ => rewritten.push_str(line),
        }
        rewritten.push('\n');
    }
    Config::from_sources(&rewritten, &HashMap::new(), &environment, dir.path())
        .map_err(|error| error.to_string())
}

/// The `clients.toml` of the example Secret, as a file the configuration can read.
fn secret_files() -> HashMap<String, String> {
    let secret = manifest("Secret", "ews-connector-api-clients");
    let clients = secret["stringData"]["clients.toml"].as_str().unwrap();
    [("clients.toml".to_owned(), clients.to_owned())]
        .into_iter()
        .collect()
}

/// The configuration in the Kubernetes ConfigMap.
fn kubernetes_config() -> Config {
    let configmap = manifest("ConfigMap", "ews-connector-config");
    let text = configmap["data"]["config.toml"].as_str().unwrap();
    load(text, &secret_files()).unwrap_or_else(|error| panic!("the ConfigMap's config: {error}"))
}

#[test]
fn every_example_configuration_loads() {
    let tomls = files_ending(".toml");
    assert!(
        tomls
            .iter()
            .any(|path| path.ends_with("config.example.toml")),
        "{tomls:?}"
    );
    for path in &tomls {
        let text = std::fs::read_to_string(path).unwrap();
        if let Err(error) = load(&text, &secret_files()) {
            panic!("{} does not load: {error}", path.display());
        }
    }
    let config = kubernetes_config();
    assert_eq!(config.log.format, ews_connector::config::LogFormat::Json);
    assert_eq!(
        config.api.clients.len(),
        1,
        "the Secret's clients.toml is read"
    );
}

#[test]
fn the_example_configuration_mentions_every_key_it_accepts() {
    let text = std::fs::read_to_string(deploy_dir().join("config.example.toml")).unwrap();
    // The keys `config check` prints (the effective configuration), each present in the sample,
    // commented out or not, so an operator reading it sees every choice.
    let config = load(&text, &secret_files()).unwrap();
    for line in config.render_effective().lines() {
        let Some((key, _)) = line.split_once(" = ") else {
            continue;
        };
        if key == "password" {
            continue;
        }
        assert!(
            text.lines().any(|sample| sample
                .trim_start_matches(['#', ' '])
                .starts_with(&format!("{key} "))),
            "deploy/config.example.toml does not mention `{key}`"
        );
    }
    for key in ["autodiscover", "password_env", "clients_file", "ca_file"] {
        assert!(text.contains(key), "{key} is not mentioned");
    }
}

#[test]
fn the_example_configuration_passes_config_check_as_its_header_promises() {
    use std::os::unix::fs::PermissionsExt;

    let example = deploy_dir().join("config.example.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let header: Vec<&str> = text
        .lines()
        .take_while(|line| line.starts_with('#'))
        .collect();
    // The header names the command, the variable and the one file it needs.
    let command = header
        .iter()
        .find_map(|line| {
            line.trim_start_matches(['#', ' '])
                .strip_prefix("CREDENTIALS_DIRECTORY=DIR ")
        })
        .unwrap_or_else(|| {
            panic!("the header shows no command with CREDENTIALS_DIRECTORY: {header:#?}")
        });
    assert_eq!(
        command,
        "ews-connector config check --config deploy/config.example.toml"
    );
    assert!(
        header
            .iter()
            .any(|line| line.contains("DIR holds sa-mytt-exch-1.password")
                && line.contains("chmod 600")),
        "{header:#?}"
    );

    let directory = tempfile::tempdir().unwrap();
    let password_file = directory.path().join("sa-mytt-exch-1.password");
    std::fs::write(&password_file, "Example-Passw0rd!\n").unwrap();
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let check = |credentials_directory: Option<&Path>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ews-connector"));
        command
            .args(["config", "check", "--config"])
            .arg(&example)
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("RUST_LOG");
        if let Some(directory) = credentials_directory {
            command.env("CREDENTIALS_DIRECTORY", directory);
        }
        command.output().unwrap()
    };

    // As promised: it passes, without a warning.
    let output = check(Some(directory.path()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr, "configuration is valid\n");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Example-Passw0rd!"));

    // And what it needs is exactly what the header says: without the variable it fails naming it.
    let output = check(None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("exchange.accounts[0].password_file")
            && stderr.contains("CREDENTIALS_DIRECTORY"),
        "{stderr}"
    );
}

#[test]
fn every_manifest_parses_and_names_its_kind() {
    let documents = manifests();
    let files = files_ending(".yaml");
    for expected in [
        "deployment.yaml",
        "service.yaml",
        "secret.example.yaml",
        "networkpolicy.yaml",
        "configmap.yaml",
    ] {
        assert!(
            files.iter().any(|path| path.ends_with(expected)),
            "deploy/kubernetes/{expected} is missing"
        );
    }
    for (path, document) in &documents {
        assert!(
            document["apiVersion"].is_string() && document["kind"].is_string(),
            "{}: a document without apiVersion and kind",
            path.display()
        );
        assert!(document["metadata"]["name"].is_string());
    }
}

#[test]
fn the_deployment_probes_the_api_port_and_runs_locked_down() {
    let config = kubernetes_config();
    let deployment = manifest("Deployment", "ews-connector");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let ports = container["ports"].as_array().unwrap();
    let port_number = |port: &Value| -> u64 {
        match port {
            Value::Number(number) => number.as_u64().unwrap(),
            Value::String(name) => ports
                .iter()
                .find(|candidate| candidate["name"] == name.as_str())
                .unwrap_or_else(|| panic!("no container port named {name}"))["containerPort"]
                .as_u64()
                .unwrap(),
            other => panic!("not a port: {other}"),
        }
    };
    let listen_port = u64::from(config.api.listen.port());
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert_eq!(port_number(&get["port"]), listen_port, "{probe}");
    }
    assert!(
        !config.api.listen.ip().is_loopback(),
        "in a pod the API must listen beyond loopback for the Service to reach it"
    );

    // The config is mounted where the container's arguments look for it.
    let mounts = container["volumeMounts"].as_array().unwrap();
    let mount_of = |path: &Path| -> &Value {
        mounts
            .iter()
            .filter(|mount| path.starts_with(mount["mountPath"].as_str().unwrap()))
            .max_by_key(|mount| mount["mountPath"].as_str().unwrap().len())
            .unwrap_or_else(|| panic!("nothing is mounted at {}", path.display()))
    };
    let volume = |mount: &Value| -> Value {
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|volume| volume["name"] == mount["name"])
            .cloned()
            .unwrap()
    };
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arg| arg.as_str().unwrap())
        .collect();
    let config_path = args[args.iter().position(|arg| *arg == "--config").unwrap() + 1];
    assert_eq!(
        volume(mount_of(Path::new(config_path)))["configMap"]["name"],
        "ews-connector-config"
    );
    // Passwords come from the passwords Secret, the token hashes from the clients Secret, the
    // audit file from the persistent volume claim.
    for account in &config.exchange.accounts {
        let ews_connector::config::PasswordSource::File(path) = &account.password_source else {
            panic!("the Kubernetes config reads passwords from files");
        };
        let name = path.file_name().unwrap().to_str().unwrap();
        let original = format!("/var/run/secrets/ews-connector/{name}");
        assert_eq!(
            volume(mount_of(Path::new(&original)))["secret"]["secretName"],
            "ews-connector-passwords"
        );
        assert!(
            manifest("Secret", "ews-connector-passwords")["stringData"][name].is_string(),
            "the example Secret holds {name}"
        );
    }
    assert_eq!(
        volume(mount_of(Path::new(
            "/var/run/secrets/ews-connector-api/clients.toml"
        )))["secret"]["secretName"],
        "ews-connector-api-clients"
    );
    let audit_mount = mount_of(Path::new("/var/lib/ews-connector/audit.jsonl"));
    let claim = volume(audit_mount)["persistentVolumeClaim"]["claimName"].clone();
    assert_eq!(
        manifest("PersistentVolumeClaim", claim.as_str().unwrap())["kind"],
        "PersistentVolumeClaim"
    );
    for mount in mounts {
        let writable = mount["readOnly"] != true;
        assert_eq!(
            writable,
            mount["mountPath"] == "/var/lib/ews-connector",
            "only the audit volume is writable: {mount}"
        );
    }

    let security = &container["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_ne!(pod["securityContext"]["runAsUser"], 0);
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
}

#[test]
fn only_mytimetable_may_reach_the_api() {
    let config = kubernetes_config();
    let policy = manifest("NetworkPolicy", "ews-connector");
    let spec = &policy["spec"];
    assert_eq!(
        spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "ews-connector"
    );
    assert_eq!(
        spec["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    let ingress = spec["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 1, "one way in");
    let from = ingress[0]["from"].as_array().unwrap();
    assert_eq!(from.len(), 1);
    assert_eq!(
        from[0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "mytimetable"
    );
    assert_eq!(
        ingress[0]["ports"],
        serde_json::json!([{"protocol": "TCP", "port": config.api.listen.port()}])
    );
    let egress_ports: Vec<u64> = spec["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_array().unwrap().clone())
        .map(|port| port["port"].as_u64().unwrap())
        .collect();
    assert_eq!(egress_ports, [443, 53, 53], "Exchange and DNS only");
    let service = manifest("Service", "ews-connector");
    assert_eq!(service["spec"]["type"], "ClusterIP");
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "http");
}

#[test]
fn the_systemd_unit_is_hardened_and_loads_the_configured_credentials() {
    let unit = std::fs::read_to_string(deploy_dir().join("systemd/ews-connector.service")).unwrap();
    let directives: Vec<&str> = unit
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#') && line.contains('='))
        .collect();
    for expected in [
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "PrivateTmp=true",
        "PrivateDevices=true",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "LimitNOFILE=65536",
    ] {
        assert!(directives.contains(&expected), "the unit lacks {expected}");
    }
    let user = directives
        .iter()
        .find_map(|line| line.strip_prefix("User="))
        .expect("a dedicated user");
    assert_ne!(user, "root");

    // ReadWritePaths covers the audit file of the sample configuration, and nothing else.
    let sample = std::fs::read_to_string(deploy_dir().join("config.example.toml")).unwrap();
    let config = load(&sample, &secret_files()).unwrap();
    let writable: Vec<&str> = directives
        .iter()
        .filter_map(|line| line.strip_prefix("ReadWritePaths="))
        .flat_map(|paths| paths.split_whitespace())
        .collect();
    assert_eq!(writable, ["/var/lib/ews-connector"]);
    assert!(config.audit.path.starts_with(writable[0]));

    // Each password file the sample names under $CREDENTIALS_DIRECTORY is a LoadCredential= ID.
    let credentials: Vec<&str> = directives
        .iter()
        .filter_map(|line| line.strip_prefix("LoadCredential="))
        .map(|value| value.split(':').next().unwrap())
        .collect();
    let named: Vec<&str> = sample
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("password_file = \"$CREDENTIALS_DIRECTORY/")
        })
        .map(|rest| rest.trim_end_matches('"'))
        .collect();
    assert!(!named.is_empty());
    assert_eq!(credentials, named);
    let exec_start = directives
        .iter()
        .find_map(|line| line.strip_prefix("ExecStart="))
        .unwrap();
    assert!(exec_start.contains(" serve --config "), "{exec_start}");
}

#[test]
fn the_container_builds_locked_and_runs_as_non_root() {
    let text = std::fs::read_to_string(deploy_dir().join("container/Containerfile")).unwrap();
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    let stages: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, line)| line.starts_with("FROM "))
        .map(|(index, _)| index)
        .collect();
    assert!(stages.len() >= 2, "multi-stage");
    assert!(text.contains("--locked") && text.contains("--release"));
    let runtime = &instructions[*stages.last().unwrap()..];
    let user = runtime
        .iter()
        .rev()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "0" && uid != "root",
        "the runtime stage runs as {user}"
    );
    assert!(
        runtime.iter().any(|line| line.starts_with("COPY --from=")),
        "the runtime stage copies only the built binary"
    );
    // The Deployment runs as the image's user.
    let deployment = manifest("Deployment", "ews-connector");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
            .as_u64()
            .unwrap()
            .to_string(),
        uid
    );
}
