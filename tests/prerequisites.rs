//! README.md's prerequisites are true: the Rust version it states is `rust-version` in
//! Cargo.toml, and that is exactly what the code and the locked dependencies need (the highest
//! `rust-version` among the packages built for this host, and at least 1.85 for edition 2024).

use std::path::Path;
use std::process::Command;

/// `(major, minor)` of a version such as `1.88` or `1.88.0`.
fn major_minor(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|part| part.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap_or(0))
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `rust-version` of Cargo.toml.
fn declared() -> (u32, u32) {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap())
            .unwrap();
    major_minor(manifest["package"]["rust-version"].as_str().unwrap())
}

#[test]
fn the_readme_states_the_declared_rust_version() {
    let (major, minor) = declared();
    let readme = std::fs::read_to_string(manifest_dir().join("README.md")).unwrap();
    let prerequisites: Vec<&str> = readme
        .lines()
        .skip_while(|line| !line.starts_with("Prerequisites"))
        .take_while(|line| !line.starts_with('#'))
        .collect();
    let wanted = format!("- Rust {major}.{minor} or newer");
    assert!(
        prerequisites.iter().any(|line| line.starts_with(&wanted)),
        "README.md's prerequisites do not say {wanted:?}: {prerequisites:#?}"
    );
    for tool in [
        "curl",
        "python3",
        "pyspnego",
        "cryptography",
        "xmllint",
        "CI=true",
    ] {
        assert!(
            prerequisites.iter().any(|line| line.contains(tool)),
            "README.md's prerequisites do not name {tool}"
        );
    }
}

#[test]
fn the_declared_rust_version_is_what_the_locked_dependencies_need() {
    let rustc = Command::new("rustc").arg("-vV").output().unwrap();
    let host = String::from_utf8(rustc.stdout)
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // The packages of this host were fetched to build this test, so this needs no network.
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--filter-platform",
            &host,
        ])
        .current_dir(manifest_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let (needed, by) = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|package| package["name"] != "ews-connector")
        .filter_map(|package| {
            let version = package["rust_version"].as_str()?;
            Some((major_minor(version), package["name"].as_str()?.to_owned()))
        })
        .max()
        .unwrap();
    let needed = needed.max((1, 85));
    assert_eq!(
        declared(),
        needed,
        "Cargo.toml's rust-version is {:?}, but the locked dependencies need {needed:?} ({by})",
        declared()
    );
}
