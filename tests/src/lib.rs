//! End-to-end tests for dualsync (see `tests/`): the codegen over the whole metadata corpus in
//! `tests/corpus`, and, as the runtime grows, sync against local emulators.

pub mod maps;
pub mod pump;
pub mod sync;

use std::path::{Path, PathBuf};

/// The corpus folder (`tests/corpus`).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Every CSDL document of the corpus (`.xml` / `.csdl`), as paths relative to [`corpus_dir`], sorted.
pub fn corpus_documents() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "xml" || e == "csdl")
                && let Ok(relative) = path.strip_prefix(base)
            {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&corpus_dir(), &corpus_dir(), &mut out);
    out.sort();
    out
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs `cargo check --offline` in `dir` (a generated crate or a crate of generated modules) with the
/// workspace's lockfile, so the same dependency versions are used and nothing is downloaded. The
/// target folder is shared between runs (`target/generated-check`). Returns stderr on failure.
pub fn cargo_check_offline(dir: &Path) -> Result<(), String> {
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).map_err(|e| e.to_string())?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["check", "--offline", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace().join("target/generated-check"))
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr)
            .lines()
            .take(80)
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

/// Makes a generated crate standalone (an empty `[workspace]` table), wherever it is written.
pub fn detach_from_workspace(dir: &Path) -> std::io::Result<()> {
    let manifest = dir.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest)?;
    text.push_str("\n[workspace]\n");
    std::fs::write(manifest, text)
}

/// A third-party OData server started with node for a test (SAP CAP, fe-mockserver); killed when
/// dropped.
pub struct NodeServer {
    child: std::process::Child,
    /// What the server printed after `listening `: its base URL or service root.
    pub url: String,
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `node <package>/<script> <args>` (from `tests/<package>`, whose npm dependencies `.ci/run`
/// installs) and waits for its `listening URL` line. Returns `None` with a SKIPPED notice when the
/// package is not installed on a developer machine; under CI (`CI` set) it must be installed.
pub fn node_server(package: &str, script: &str, args: &[&str], env: &[(&str, &str)]) -> Option<NodeServer> {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = workspace().join("tests").join(package);
    if !dir.join("node_modules").is_dir() {
        let message = format!(
            "the test server in tests/{package} is not installed: run `npm ci --prefix tests/{package}` (.ci/run does)"
        );
        assert!(std::env::var_os("CI").is_none(), "{message}");
        eprintln!("SKIPPED: {message}");
        return None;
    }
    let mut command = Command::new("node");
    command
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .spawn()
        .expect("node must be installed to run the test servers");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut server = NodeServer {
        child,
        url: String::new(),
    };
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    server.url = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("tests/{package}/{script} did not start; it said: {line:?}"))
        .to_string();
    Some(server)
}
