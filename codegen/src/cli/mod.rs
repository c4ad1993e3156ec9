//! Commands of `dualsync-codegen`, and how their errors are shown (miette, pointing into the input).

mod diagnostics;
mod fetch;
mod generate;
mod inspect;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use miette::Report;

use dualsync_codegen::csdl::{self, optionsets};
use dualsync_codegen::model::Model;

pub use diagnostics::Sources;

/// Reads OData $metadata of Dataverse and Dynamics 365 F&O and generates typed Rust for it.
#[derive(Debug, Parser)]
#[command(name = "dualsync-codegen", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate typed Rust for the entity types of $metadata: a module tree, or with --crate a crate.
    ///
    /// Settings come from `dualsync.toml` ([codegen]; --config, or ./dualsync.toml when present);
    /// flags override them. Files are written only when their bytes change; --check writes nothing and
    /// exits 1 listing the stale files when the output on disk differs.
    Generate(generate::Args),
    /// Save $metadata (and Dataverse option sets) of a running service, with a manifest, for offline
    /// generation: `generate --metadata DIR` reads the folder as it is.
    Fetch(fetch::Args),
    /// Read metadata and print what it holds: namespaces, counts, largest types, or one type in detail.
    ///
    /// All FILEs are resolved together as one model (a document may use types of another one it
    /// references). A FILE ending in `.json` is Dataverse option-set metadata and is attached to the
    /// tables it names. Exit code: 0 when everything reads and resolves, 1 on an input error.
    Inspect {
        /// CSDL XML documents ($metadata) and Dataverse option-set JSON responses.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print machine-readable JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Show one entity, complex or enum type (qualified name, simple name, or entity set name).
        #[arg(long = "type", value_name = "NAME")]
        type_name: Option<String>,
        /// Print every warning, not only the first 10.
        #[arg(long)]
        all_warnings: bool,
        /// Print an outline of every element of the model (types, keys, properties, sets, bindings).
        #[arg(long, conflicts_with_all = ["json", "type_name"])]
        outline: bool,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Report> {
    match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Inspect {
            files,
            json,
            type_name,
            all_warnings,
            outline,
        } => {
            let (model, sources) = load(&files)?;
            let out = match type_name {
                _ if outline => model.outline(),
                Some(name) => inspect::one_type(&model, &name, json)?,
                None => inspect::summary(&model, &sources, json),
            };
            print!("{out}");
            if !json {
                diagnostics::print_warnings(&model, &sources, all_warnings);
            }
            Ok(())
        }
    }
}

/// Reads and resolves metadata files, attaching option-set JSON files.
pub fn load(files: &[PathBuf]) -> Result<(Model, Sources), Report> {
    let mut sources = Sources::default();
    let mut documents = Vec::new();
    let mut positions = Vec::new();
    let mut option_files = Vec::new();
    for path in files {
        let bytes =
            std::fs::read(path).map_err(|e| miette::miette!("cannot read {}: {e}", path.display()))?;
        let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let index = sources.add(path, bytes);
        if is_json {
            option_files.push((index, path.clone()));
        } else {
            let document = match sources.utf8(index) {
                Some(text) => csdl::parse_str(text),
                None => csdl::parse_bytes(sources.bytes(index)),
            }
            .map_err(|e| sources.report(e.in_source_index(index)))?;
            documents.push(document);
            positions.push(index);
        }
    }
    let mut model = Model::resolve(documents).map_err(|errors| {
        let remapped = errors
            .0
            .into_iter()
            .map(|e| {
                let index = positions.get(e.source_index).copied().unwrap_or(0);
                let mut e = e.in_source_index(index);
                if let Some((_, related_index, _)) = e.related.as_deref_mut() {
                    *related_index = positions.get(*related_index).copied().unwrap_or(0);
                }
                e
            })
            .collect();
        sources.report_all(remapped)
    })?;
    for warning in &mut model.warnings {
        warning.source_index = positions.get(warning.source_index).copied().unwrap_or(0);
    }
    for (index, path) in option_files {
        let text = sources.text(index).to_string();
        let hint = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .map(str::to_string);
        let tables = optionsets::parse_option_sets(&text, hint.as_deref())
            .map_err(|e| sources.report(e.in_source_index(index)))?;
        model.attach_option_sets(tables, index);
    }
    Ok((model, sources))
}

/// Re-homes an error into the CLI's numbering of input files.
trait InSource {
    fn in_source_index(self, index: usize) -> Self;
}

impl InSource for dualsync_codegen::Error {
    fn in_source_index(mut self, index: usize) -> Self {
        self.source_index = index;
        self
    }
}
