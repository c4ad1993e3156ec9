//! Writing generated files only when their bytes change, and checking a tree for staleness.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::GeneratedFile;
use super::text::HEADER;

/// What `write` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<PathBuf>,
    pub unchanged: usize,
    /// Earlier generated files (they start with the `@generated` header) that are no longer produced.
    pub removed: Vec<PathBuf>,
}

/// A file on disk that differs from what generation produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    Missing(PathBuf),
    Different(PathBuf),
    /// A generated file that generation no longer produces.
    Extra(PathBuf),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::Missing(p) => write!(f, "missing:   {}", p.display()),
            Stale::Different(p) => write!(f, "different: {}", p.display()),
            Stale::Extra(p) => write!(f, "obsolete:  {}", p.display()),
        }
    }
}

/// Generated `.rs` files under `out` (they begin with the header), relative to `out`.
fn generated_on_disk(out: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![out.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target" && n != ".git") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs")
                && std::fs::read_to_string(&path).is_ok_and(|t| t.starts_with(HEADER))
                && let Ok(relative) = path.strip_prefix(out)
            {
                found.insert(relative.to_path_buf());
            }
        }
    }
    found
}

/// Writes `files` under `out`, touching only files whose bytes change, and removes generated files
/// that are no longer produced.
pub fn write(out: &Path, files: &[GeneratedFile]) -> std::io::Result<WriteReport> {
    let mut report = WriteReport::default();
    let produced: BTreeSet<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    for old in generated_on_disk(out) {
        if !produced.contains(&old) {
            std::fs::remove_file(out.join(&old))?;
            report.removed.push(old);
        }
    }
    for file in files {
        let path = out.join(&file.path);
        if std::fs::read(&path).is_ok_and(|existing| existing == file.contents.as_bytes()) {
            report.unchanged += 1;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.contents)?;
        report.written.push(file.path.clone());
    }
    Ok(report)
}

/// Files under `out` that differ from `files`.
pub fn check(out: &Path, files: &[GeneratedFile]) -> Vec<Stale> {
    let mut stale = Vec::new();
    let produced: BTreeSet<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    for file in files {
        match std::fs::read(out.join(&file.path)) {
            Err(_) => stale.push(Stale::Missing(file.path.clone())),
            Ok(existing) if existing != file.contents.as_bytes() => {
                stale.push(Stale::Different(file.path.clone()))
            }
            Ok(_) => {}
        }
    }
    for old in generated_on_disk(out) {
        if !produced.contains(&old) {
            stale.push(Stale::Extra(old));
        }
    }
    stale
}
