//! `dualsync.toml`, section `[codegen]`: what `generate` reads and writes. Relative paths are relative
//! to the file's folder; command-line flags override the file.
//!
//! ```toml
//! [codegen]
//! metadata = ["metadata/dataverse-dualwrite.xml", "metadata/fo-dualwrite.xml"]
//! option_sets = "metadata/optionsets"       # folder of Dataverse option-set JSON responses
//! include = ["accounts", "CustomersV3"]     # globs over entity type names and entity set names
//! exclude = []
//! out = "."                                  # where the crate (or module tree) goes
//! crate = "dualsync-generated"               # write Cargo.toml + src/lib.rs: a complete crate
//! runtime_path = "../runtime"                # path of the `dualsync` runtime crate, for Cargo.toml
//! entities_per_crate = 600                   # split a bigger service into crates under parts/ (0: never)
//! language = 1033                            # option-set label language (LCID)
//! maps = "maps"                              # folder of map files (*.toml), generated into `maps`
//!
//! [codegen.services]                         # namespace -> module (defaults: dataverse, fo)
//! "Microsoft.Dynamics.CRM" = "dataverse"
//!
//! [codegen.rename]                           # fixes for name collisions; keys are in the error
//! "Microsoft.Dynamics.CRM.account/foo_bar" = "foo_bar_raw"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The `[codegen]` section.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Codegen {
    #[serde(default)]
    pub metadata: Vec<PathBuf>,
    pub option_sets: Option<PathBuf>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub out: Option<PathBuf>,
    #[serde(rename = "crate")]
    pub crate_name: Option<String>,
    pub runtime_path: Option<PathBuf>,
    /// Crate mode: a service with more entity types than this is split into crates of this many
    /// (`0`: never; default 600, see `emit::ENTITIES_PER_CRATE`).
    pub entities_per_crate: Option<usize>,
    pub language: Option<u32>,
    /// A folder of map files (one table map per `*.toml`; see [`crate::mapfile`]).
    pub maps: Option<PathBuf>,
    #[serde(default)]
    pub services: BTreeMap<String, String>,
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    codegen: Codegen,
}

/// A config file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The largest config file read (bytes).
pub const MAX_CONFIG_SIZE: u64 = 16 << 20;

/// Reads a config file of at most [`MAX_CONFIG_SIZE`] bytes.
fn read_limited(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_CONFIG_SIZE + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG_SIZE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {MAX_CONFIG_SIZE} bytes"),
        ));
    }
    Ok(text)
}

impl Codegen {
    /// Reads `[codegen]` from a `dualsync.toml`, making its relative paths relative to the file.
    pub fn load(path: &Path) -> Result<Codegen, ConfigError> {
        let text = read_limited(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: File = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut codegen = file.codegen;
        let rebase = |p: &PathBuf| if p.is_absolute() { p.clone() } else { base.join(p) };
        codegen.metadata = codegen.metadata.iter().map(rebase).collect();
        codegen.option_sets = codegen.option_sets.as_ref().map(rebase);
        codegen.out = codegen.out.as_ref().map(rebase);
        codegen.runtime_path = codegen.runtime_path.as_ref().map(rebase);
        codegen.maps = codegen.maps.as_ref().map(rebase);
        Ok(codegen)
    }
}
