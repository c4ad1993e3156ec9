//! The benchmark inputs shared by the benches: the repository's `crm_schema.xml` and the two full-size
//! F&O documents, generated on first use into `target/bench-inputs/` with the team's tools.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn shared() -> PathBuf {
    std::env::var_os("DUALSYNC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"))
}

fn generated_input(name: &str, tool: &str) -> Option<PathBuf> {
    let dir = workspace().join("target/bench-inputs");
    std::fs::create_dir_all(&dir).ok()?;
    let out = dir.join(name);
    if out.exists() {
        return Some(out);
    }
    let script = shared().join("tools").join(tool);
    if !script.exists() {
        eprintln!(
            "skipping {name}: {} not found (set DUALSYNC_SHARED)",
            script.display()
        );
        return None;
    }
    let status = Command::new("python3")
        .arg(&script)
        .arg("--out")
        .arg(&out)
        .status()
        .ok()?;
    status.success().then_some(out)
}

/// (label, path) of every input that is available.
pub fn inputs() -> Vec<(&'static str, PathBuf)> {
    let mut inputs = vec![(
        "crm_schema.xml (real Dataverse)",
        workspace().join("tests/corpus/dataverse/crm_schema.xml"),
    )];
    if let Some(p) = generated_input("fo-near-real.xml", "build-fo-from-facts.py") {
        inputs.push(("F&O near-real (build-fo-from-facts.py)", p));
    }
    if let Some(p) = generated_input("fo-synth.xml", "synth-fo-metadata.py") {
        inputs.push(("F&O synthetic (synth-fo-metadata.py)", p));
    }
    inputs
}
