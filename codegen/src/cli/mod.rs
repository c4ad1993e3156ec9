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

pub use diagnostics::{Sources, escape_json, escape_terminal, map_file_report, plain_report};

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
        /// The largest input file read, in bytes (default: 1 GiB for XML, 64 MiB for option-set JSON).
        #[arg(long, value_name = "BYTES")]
        max_input_size: Option<u64>,
    },
}

/// How many bytes an input may have: XML documents and option-set JSON.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub xml: u64,
    pub json: u64,
}

impl Limits {
    /// 1 GiB for XML (a real F&O `$metadata` is about 28 MB), 64 MiB for option-set JSON.
    pub const DEFAULT: Limits = Limits {
        xml: 1 << 30,
        json: 64 << 20,
    };

    /// The defaults, or `max` for every input (`--max-input-size`).
    pub fn new(max: Option<u64>) -> Limits {
        match max {
            Some(max) => Limits { xml: max, json: max },
            None => Limits::DEFAULT,
        }
    }
}

/// Reads at most `limit` bytes of `path` (limit + 1 to tell), failing with the file and the limit
/// when it is larger: `/dev/zero` or a runaway download never fills memory.
pub fn read_bounded(path: &std::path::Path, limit: u64, what: &str) -> Result<Vec<u8>, Report> {
    use std::io::Read as _;
    let too_large = || {
        plain_report(format!(
            "{} is larger than {limit} bytes, the limit for {what}; pass --max-input-size BYTES to allow more",
            path.display()
        ))
    };
    let file = std::fs::File::open(path)
        .map_err(|e| plain_report(format!("cannot read {}: {e}", path.display())))?;
    if let Ok(metadata) = file.metadata()
        && metadata.is_file()
        && metadata.len() > limit
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| plain_report(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
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
            max_input_size,
        } => {
            let (model, sources) = load(&files, Limits::new(max_input_size))?;
            let out = match type_name {
                _ if outline => model.outline(),
                Some(name) => inspect::one_type(&model, &name, json)?,
                None => inspect::summary(&model, &sources, json),
            };
            if json {
                print!("{}", escape_json(&out));
            } else {
                print!("{}", escape_terminal(&out));
            }
            if !json {
                diagnostics::print_warnings(&model, &sources, all_warnings);
            }
            // The process ends here: the operating system takes the memory back at once, while
            // dropping a model of a whole F&O document frees hundreds of thousands of allocations
            // one by one (measured: BENCHMARKS.md, whole process).
            std::mem::forget(model);
            std::mem::forget(sources);
            Ok(())
        }
    }
}

/// Reads and resolves metadata files, attaching option-set JSON files.
pub fn load(files: &[PathBuf], limits: Limits) -> Result<(Model, Sources), Report> {
    let mut sources = Sources::default();
    let mut documents = Vec::new();
    let mut positions = Vec::new();
    let mut option_files = Vec::new();
    for path in files {
        let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let bytes = if is_json {
            read_bounded(path, limits.json, "option-set JSON")?
        } else {
            read_bounded(path, limits.xml, "metadata XML")?
        };
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
