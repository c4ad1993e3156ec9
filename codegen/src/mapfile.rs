//! Map files: one table map per TOML file, in the words of dual-write's map editor (entity sets, wire
//! column names, directions, transforms, lookup key paths), read with the byte span of every value so
//! that a mistake found here or when the generator resolves the file against the metadata
//! ([`crate::emit`]) points at its file, line and column. The format is documented in the README
//! ("Map files").
//!
//! ```toml
//! name = "CurrenciesToTransactioncurrencies"   # the Rust type generated for the map
//! fo = "Currencies"                            # F&O entity set
//! dv = "transactioncurrencies"                 # Dataverse entity set
//!
//! [[columns]]
//! fo = "CurrencyCode"
//! dv = "isocurrencycode"
//! direction = "both"
//! key = true
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
// `toml` (already the config reader) with its serde spans: `Spanned<T>` keeps the byte range of every
// value, which is what lets an error name the line and column in the map file.
use toml::Spanned;

use crate::span::line_col;

/// A problem in a map file, at a byte range of its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct Diagnostic {
    /// The file as the user names it (relative to the config's folder).
    pub file: String,
    /// The whole text of the file, for a report that shows it.
    pub text: Arc<str>,
    pub span: Range<usize>,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, column) = line_col(&file.text, span.start);
        Diagnostic {
            file: file.name.clone(),
            text: file.text.clone(),
            span,
            line,
            column,
            message: message.into(),
        }
    }
}

/// A map file's name and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
}

/// Which way a column pair flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    FoToDv,
    DvToFo,
}

impl Direction {
    pub fn writes_dv(self) -> bool {
        matches!(self, Direction::Both | Direction::FoToDv)
    }

    pub fn writes_fo(self) -> bool {
        matches!(self, Direction::Both | Direction::DvToFo)
    }

    pub fn word(self) -> &'static str {
        match self {
            Direction::Both => "both",
            Direction::FoToDv => "fo_to_dv",
            Direction::DvToFo => "dv_to_fo",
        }
    }
}

/// The side of a map whose records an initial sync copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Master {
    Fo,
    Dv,
}

/// A text with the byte range it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub span: Range<usize>,
}

/// A literal of a map file (`default`, value-map values), with its text as written for numbers (a
/// decimal keeps every digit).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Int(i64),
    /// A number with a fraction, as written (`1.0000000000`).
    Number(String),
    Str(String),
}

/// A lookup key path: the Dataverse lookup and the key column of its target table
/// (`transactioncurrencyid.isocurrencycode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupPath {
    pub lookup: String,
    /// Lookups of the tables on the way, when the key column belongs to a table further on
    /// (`msdyn_currencyexchangeratepair.msdyn_currencyexchangeratetypeid.msdyn_name`).
    pub via: Vec<String>,
    pub key: String,
    pub span: Range<usize>,
}

impl LookupPath {
    /// The path as written.
    pub fn text(&self) -> String {
        let mut parts = vec![self.lookup.as_str()];
        parts.extend(self.via.iter().map(String::as_str));
        parts.push(&self.key);
        parts.join(".")
    }
}

/// One column pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The whole `[[columns]]` table.
    pub span: Range<usize>,
    pub fo: Option<Text>,
    pub dv: Option<Text>,
    pub lookup: Option<LookupPath>,
    pub direction: Direction,
    pub direction_span: Range<usize>,
    pub key: bool,
    pub default: Option<(Literal, Range<usize>)>,
    /// (F&O enum member, Dataverse value), in file order.
    pub value_map: Vec<(Text, Literal, Range<usize>)>,
    pub lossy: bool,
}

/// One map file, read and checked on its own (names are resolved against the metadata by the
/// generator).
#[derive(Debug, Clone, PartialEq)]
pub struct MapFile {
    pub source: SourceFile,
    pub name: Text,
    pub title: Option<String>,
    pub fo: Text,
    pub dv: Text,
    pub company: Option<Text>,
    pub fo_filter: Option<Text>,
    pub dv_filter: Option<Text>,
    pub master: Master,
    pub columns: Vec<Column>,
}

impl MapFile {
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.source, span, message)
    }

    /// `file:line` of a byte offset, for comments in generated code.
    pub fn place(&self, offset: usize) -> String {
        format!("{}:{}", self.source.name, line_col(&self.source.text, offset).0)
    }
}

/// What reading a map file gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Map(Box<MapFile>),
    /// A file whose header says `# not generated: <reason>`: listed, skipped.
    NotGenerated {
        file: String,
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMap {
    name: Spanned<String>,
    title: Option<String>,
    fo: Spanned<String>,
    dv: Spanned<String>,
    company: Option<Spanned<String>>,
    fo_filter: Option<Spanned<String>>,
    dv_filter: Option<Spanned<String>>,
    master: Option<Spanned<String>>,
    #[serde(default)]
    columns: Vec<Spanned<RawColumn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    fo: Option<Spanned<String>>,
    dv: Option<Spanned<String>>,
    lookup: Option<Spanned<String>>,
    direction: Option<Spanned<String>>,
    #[serde(default)]
    key: bool,
    default: Option<Spanned<toml::Value>>,
    value_map: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
    #[serde(default)]
    lossy: bool,
}

/// The reason of a `# not generated: ..` line among the comments that open the file.
fn not_generated(text: &str) -> Option<String> {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let comment = line.strip_prefix('#')?.trim();
        if let Some(reason) = comment.strip_prefix("not generated:") {
            return Some(reason.trim().to_string());
        }
    }
    None
}

fn spanned_text(s: Spanned<String>) -> Text {
    let span = s.span();
    Text {
        value: s.into_inner(),
        span,
    }
}

/// Whether `name` is a Rust identifier of ASCII letters, digits and `_` (not starting with a digit).
pub fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
}

fn literal(
    file: &SourceFile,
    value: &Spanned<toml::Value>,
    what: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Literal> {
    let span = value.span();
    Some(match value.get_ref() {
        toml::Value::Boolean(b) => Literal::Bool(*b),
        toml::Value::Integer(i) => Literal::Int(*i),
        toml::Value::String(s) => Literal::Str(s.clone()),
        toml::Value::Float(f) => {
            // The number as written: a decimal keeps every digit (TOML's float would round it).
            let written = file.text.get(span.clone()).unwrap_or_default().replace('_', "");
            let plain = written.trim_start_matches(['-', '+']);
            if !f.is_finite() || plain.contains(['e', 'E']) || !plain.contains('.') {
                errors.push(Diagnostic::new(
                    file,
                    span,
                    format!(
                        "{what} `{written}`: write the number with digits and a point, without an exponent"
                    ),
                ));
                return None;
            }
            Literal::Number(written.trim_start_matches('+').to_string())
        }
        other => {
            errors.push(Diagnostic::new(
                file,
                span,
                format!(
                    "{what} is a {}: write a number, true / false or a \"string\"",
                    other.type_str()
                ),
            ));
            return None;
        }
    })
}

/// Reads one map file. `name` is how messages name it (relative to the config's folder).
pub fn parse(name: &str, text: &str) -> Result<Parsed, Vec<Diagnostic>> {
    let source = SourceFile {
        name: name.to_string(),
        text: Arc::from(text),
    };
    if let Some(reason) = not_generated(text) {
        return Ok(Parsed::NotGenerated {
            file: name.to_string(),
            reason,
        });
    }
    let raw: RawMap = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            return Err(vec![Diagnostic::new(&source, span, message)]);
        }
    };
    let mut errors = Vec::new();
    let name = spanned_text(raw.name);
    if !is_identifier(&name.value) || !name.value.starts_with(|c: char| c.is_ascii_uppercase()) {
        errors.push(Diagnostic::new(
            &source,
            name.span.clone(),
            format!(
                "map name `{}` is the Rust type of the map: write it in PascalCase ASCII letters and digits (`CustomersV3ToAccounts`)",
                name.value
            ),
        ));
    }
    let master = match &raw.master {
        None => Master::Fo,
        Some(m) if m.get_ref() == "fo" => Master::Fo,
        Some(m) if m.get_ref() == "dv" => Master::Dv,
        Some(m) => {
            errors.push(Diagnostic::new(
                &source,
                m.span(),
                format!(
                    "master `{}` is not a side: write master = \"fo\" or master = \"dv\"",
                    m.get_ref()
                ),
            ));
            Master::Fo
        }
    };
    let mut columns = Vec::new();
    for raw_column in raw.columns {
        let span = raw_column.span();
        let raw_column = raw_column.into_inner();
        if let Some(column) = column(&source, span, raw_column, &mut errors) {
            columns.push(column);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed::Map(Box::new(MapFile {
        source,
        name,
        title: raw.title,
        fo: spanned_text(raw.fo),
        dv: spanned_text(raw.dv),
        company: raw.company.map(spanned_text),
        fo_filter: raw.fo_filter.map(spanned_text),
        dv_filter: raw.dv_filter.map(spanned_text),
        master,
        columns,
    })))
}

fn column(
    source: &SourceFile,
    span: Range<usize>,
    raw: RawColumn,
    errors: &mut Vec<Diagnostic>,
) -> Option<Column> {
    let before = errors.len();
    let header = span.start..span.start + source.text[span.clone()].find('\n').unwrap_or(0);
    let Some(direction_text) = raw.direction else {
        errors.push(Diagnostic::new(
            source,
            header,
            "this column pair has no direction: add direction = \"both\", \"fo_to_dv\" or \"dv_to_fo\"",
        ));
        return None;
    };
    let direction = match direction_text.get_ref().as_str() {
        "both" => Some(Direction::Both),
        "fo_to_dv" => Some(Direction::FoToDv),
        "dv_to_fo" => Some(Direction::DvToFo),
        other => {
            errors.push(Diagnostic::new(
                source,
                direction_text.span(),
                format!("direction `{other}` is not one of \"both\", \"fo_to_dv\" (F&O → Dataverse) or \"dv_to_fo\" (Dataverse → F&O)"),
            ));
            None
        }
    };
    let lookup = raw.lookup.and_then(|path| {
        let span = path.span();
        let parts: Vec<&str> = path.get_ref().split('.').collect();
        match parts.as_slice() {
            [lookup, via @ .., key] if parts.iter().all(|p| is_identifier(p)) => Some(LookupPath {
                lookup: lookup.to_string(),
                via: via.iter().map(|v| v.to_string()).collect(),
                key: key.to_string(),
                span,
            }),
            _ => {
                errors.push(Diagnostic::new(
                    source,
                    span,
                    format!(
                        "lookup `{}` is not a key path: write the Dataverse lookup and the key column of its target table, `transactioncurrencyid.isocurrencycode`",
                        path.get_ref()
                    ),
                ));
                None
            }
        }
    });
    let (fo, dv) = (raw.fo.map(spanned_text), raw.dv.map(spanned_text));
    if let (Some(dv), Some(lookup)) = (&dv, &lookup) {
        errors.push(Diagnostic::new(
            source,
            dv.span.clone(),
            format!(
                "a column pair names its Dataverse side once: `dv` or `lookup` (here `lookup = \"{}\"` already names the lookup)",
                lookup.text()
            ),
        ));
    }
    let default = raw
        .default
        .and_then(|d| Some((literal(source, &d, "default", errors)?, d.span())));
    let mut value_map = Vec::new();
    if let Some(map) = raw.value_map {
        if map.get_ref().is_empty() {
            errors.push(Diagnostic::new(
                source,
                map.span(),
                "an empty value map: list the members, value_map = { Yes = true, No = false }",
            ));
        }
        for (member, value) in map.into_inner() {
            let value_span = value.span();
            if let Some(literal) = literal(source, &value, "value map value", errors) {
                value_map.push((spanned_text(member), literal, value_span));
            }
        }
        // In file order (the map is keyed by name).
        value_map.sort_by_key(|(member, _, _)| member.span.start);
    }
    if errors.len() > before {
        return None;
    }
    Some(Column {
        span,
        fo,
        dv,
        lookup,
        direction: direction?,
        direction_span: direction_text.span(),
        key: raw.key,
        default,
        value_map,
        lossy: raw.lossy,
    })
}

/// The map files of a folder (`*.toml`, sorted by name), each read and parsed; `display` is how
/// messages name the folder. Errors of every file are collected.
pub fn load_dir(dir: &Path, display: &str) -> Result<Vec<Parsed>, LoadError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| LoadError::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let name = format!(
            "{}/{}",
            display.trim_end_matches('/'),
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let text = read_limited(&path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        match parse(&name, &text) {
            Ok(p) => parsed.push(p),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(LoadError::Invalid(errors))
    }
}

/// The largest map file read (bytes).
pub const MAX_MAP_FILE_SIZE: u64 = 4 << 20;

fn read_limited(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_MAP_FILE_SIZE + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_MAP_FILE_SIZE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {MAX_MAP_FILE_SIZE} bytes"),
        ));
    }
    Ok(text)
}

/// Map files that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}
