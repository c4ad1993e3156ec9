//! End-to-end tests for dualsync (see `tests/`): the codegen over the whole metadata corpus in
//! `tests/corpus`, and, as the runtime grows, sync against local emulators.

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
