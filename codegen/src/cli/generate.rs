//! `generate`: settings from dualsync.toml and flags, then the generator, then write or check.

use std::path::{Component, Path, PathBuf};

use clap::Args as ClapArgs;
use miette::Report;

use dualsync_codegen::config::Codegen;
use dualsync_codegen::emit::{self, Options};

use super::{Limits, escape_terminal, map_file_report, plain_report};

/// Flags of `generate`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// A $metadata document (repeatable); replaces `metadata` of the config.
    #[arg(long = "metadata", value_name = "FILE")]
    metadata: Vec<PathBuf>,
    /// A folder of Dataverse option-set JSON responses (`*.json`).
    #[arg(long, value_name = "DIR")]
    option_sets: Option<PathBuf>,
    /// The config file (default: ./dualsync.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Generate entity types whose name or entity set matches (repeatable; default: all).
    #[arg(long = "include", value_name = "GLOB")]
    include: Vec<String>,
    /// Leave out entity types whose name or entity set matches (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write nothing; exit 1 and list the files that differ from what generation produces.
    #[arg(long)]
    check: bool,
    /// Make DIR a complete crate with this name (Cargo.toml, README.md, src/lib.rs).
    #[arg(long = "crate", value_name = "NAME")]
    crate_name: Option<String>,
    /// Path of the `dualsync` runtime crate, for the generated Cargo.toml.
    #[arg(long, value_name = "PATH")]
    runtime_path: Option<PathBuf>,
    /// Crate mode: split a service with more entity types than N into crates of N under `parts/`
    /// (0: one crate), which `cargo` checks in parallel [default: 600].
    #[arg(long, value_name = "N")]
    entities_per_crate: Option<usize>,
    /// A folder of map files (`*.toml`, one table map each); replaces `maps` of the config.
    #[arg(long, value_name = "DIR")]
    maps: Option<PathBuf>,
    /// The largest input file read, in bytes (default: 1 GiB for XML, 64 MiB for option-set JSON).
    #[arg(long, value_name = "BYTES")]
    max_input_size: Option<u64>,
}

/// `path` made absolute against the current directory, with `.` and `..` folded.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `to` relative to the folder `from`.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (from, to) = (absolute(from), absolute(to));
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in from.components().skip(common) {
        out.push("..");
    }
    for component in to.components().skip(common) {
        out.push(component);
    }
    out
}

pub fn run(args: Args) -> Result<(), Report> {
    let config_path = args.config.clone().or_else(|| {
        Path::new("dualsync.toml")
            .exists()
            .then(|| PathBuf::from("dualsync.toml"))
    });
    let mut config = match &config_path {
        Some(path) => Codegen::load(path).map_err(plain_report)?,
        None => Codegen::default(),
    };
    if !args.metadata.is_empty() {
        config.metadata = args.metadata.clone();
    }
    if args.option_sets.is_some() {
        config.option_sets = args.option_sets.clone();
    }
    if !args.include.is_empty() {
        config.include = args.include.clone();
    }
    if !args.exclude.is_empty() {
        config.exclude = args.exclude.clone();
    }
    if args.out.is_some() {
        config.out = args.out.clone();
    }
    if args.crate_name.is_some() {
        config.crate_name = args.crate_name.clone();
    }
    if args.runtime_path.is_some() {
        config.runtime_path = args.runtime_path.clone();
    }
    if args.maps.is_some() {
        config.maps = args.maps.clone();
    }
    if args.entities_per_crate.is_some() {
        config.entities_per_crate = args.entities_per_crate;
    }
    if config.metadata.is_empty() {
        return Err(miette::miette!(
            "no metadata to generate from: pass --metadata FILE or list `metadata` under [codegen] in dualsync.toml"
        ));
    }
    let out = config
        .out
        .clone()
        .ok_or_else(|| miette::miette!("no output folder: pass --out DIR or set `out` under [codegen]"))?;
    // A folder written by `fetch` stands for its metadata and option sets.
    let mut inputs = Vec::new();
    for path in &config.metadata {
        match dualsync_codegen::fetch::fetched_inputs(path) {
            Some(files) => inputs.extend(files),
            None => inputs.push(path.clone()),
        }
    }
    if let Some(dir) = &config.option_sets {
        let mut jsons: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| plain_report(format!("cannot read option-set folder {}: {e}", dir.display())))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        jsons.sort();
        inputs.extend(jsons);
    }
    let (model, _) = super::load(&inputs, Limits::new(args.max_input_size))?;
    if !model.warnings.is_empty() {
        eprintln!(
            "{} warning(s) in the metadata (`dualsync-codegen inspect` lists them)",
            model.warnings.len()
        );
    }
    let base = config_path
        .as_deref()
        .and_then(Path::parent)
        .map(absolute)
        .unwrap_or_else(|| absolute(Path::new(".")));
    let maps = match &config.maps {
        Some(dir) => {
            let display = relative(&base, dir).display().to_string().replace('\\', "/");
            dualsync_codegen::mapfile::load_dir(dir, &display).map_err(|e| match e {
                dualsync_codegen::mapfile::LoadError::Invalid(errors) => map_file_report(errors),
                other => plain_report(other),
            })?
        }
        None => Vec::new(),
    };
    for parsed in &maps {
        if let dualsync_codegen::mapfile::Parsed::NotGenerated { file, reason } = parsed {
            eprintln!(
                "note: {} is not generated: {}",
                escape_terminal(file),
                escape_terminal(reason)
            );
        }
    }
    let options = Options {
        include: config.include.clone(),
        exclude: config.exclude.clone(),
        crate_name: config.crate_name.clone(),
        runtime_path: config
            .runtime_path
            .as_ref()
            .map(|p| relative(&out, p).display().to_string()),
        language: config.language,
        services: config.services.clone(),
        rename: config.rename.clone(),
        sources: config
            .metadata
            .iter()
            .map(|p| relative(&base, p).display().to_string().replace('\\', "/"))
            .collect(),
        maps,
        entities_per_crate: config.entities_per_crate,
    };
    let files = emit::generate(&model, &options).map_err(|e| match e {
        emit::GenerateError::MapFiles(errors) => map_file_report(errors),
        other => plain_report(other),
    })?;
    if args.check {
        let stale = emit::check(&out, &files);
        if stale.is_empty() {
            println!(
                "{}: up to date ({} files)",
                escape_terminal(&out.display().to_string()),
                files.len()
            );
            return Ok(());
        }
        let list: Vec<String> = stale.iter().map(|s| format!("  {s}")).collect();
        return Err(plain_report(format!(
            "{} is stale: {} file(s) differ from what `dualsync-codegen generate` produces:\n{}\nrun `dualsync-codegen generate` and commit the result",
            out.display(),
            stale.len(),
            list.join("\n")
        )));
    }
    let report = emit::write(&out, &files)
        .map_err(|e| plain_report(format!("cannot write to {}: {e}", out.display())))?;
    println!(
        "{}: {} file(s) written, {} unchanged, {} removed",
        escape_terminal(&out.display().to_string()),
        report.written.len(),
        report.unchanged,
        report.removed.len()
    );
    Ok(())
}
