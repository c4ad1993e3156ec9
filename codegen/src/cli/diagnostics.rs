//! Turning library errors (kind + byte span + source index) into miette reports that show the file,
//! line, column and offending text.

use std::borrow::Cow;
use std::path::Path;

use miette::{Diagnostic, LabeledSpan, NamedSource, Report, SourceSpan};

use dualsync_codegen::model::Model;
use dualsync_codegen::span::line_col;
use dualsync_codegen::{Error, ErrorKind};

/// Whether `c` must not reach a terminal raw: control characters (C0 but tab and line feed, DEL, C1:
/// ANSI escape sequences start with one) and bidi controls (they reorder the text around them).
fn unsafe_for_terminal(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || dualsync_codegen::emit::text::is_bidi_control(c)
}

fn push_escaped(c: char, out: &mut String) {
    if (c as u32) < 0x80 {
        out.push_str(&format!("\\x{:02x}", c as u32));
    } else {
        out.push_str(&format!("\\u{{{:x}}}", c as u32));
    }
}

/// Text from outside (file contents, names, labels, descriptions, paths) as it may be printed to a
/// terminal: control and bidi characters written as `\x1b` / `\u{202e}`; line breaks and tabs kept.
pub fn escape_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_for_terminal) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_for_terminal(c) {
            push_escaped(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// JSON text made safe for a terminal without changing its value: characters that
/// [`escape_terminal`] escapes (they only occur inside strings) become `\uXXXX` JSON escapes.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(unsafe_for_terminal) {
        return json.into();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_for_terminal(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// A report with a message that may carry outside text (see [`escape_terminal`]).
pub fn plain_report(message: impl std::fmt::Display) -> Report {
    miette::miette!("{}", escape_terminal(&message.to_string()))
}

/// A source file's text as a report shows it ([`escape_terminal`], keeping CRLF line ends), with a
/// map from byte offsets of the original to offsets of the shown text.
struct Shown {
    text: String,
    /// (offset in the original just after an escaped character, bytes added so far).
    shifts: Vec<(usize, usize)>,
}

impl Shown {
    fn new(original: String) -> Shown {
        let bytes = original.as_bytes();
        let unsafe_at =
            |i: usize, c: char| unsafe_for_terminal(c) && !(c == '\r' && bytes.get(i + 1) == Some(&b'\n'));
        if !original.char_indices().any(|(i, c)| unsafe_at(i, c)) {
            return Shown {
                text: original,
                shifts: Vec::new(),
            };
        }
        let mut text = String::with_capacity(original.len() + 64);
        let mut shifts = Vec::new();
        let mut added = 0;
        for (i, c) in original.char_indices() {
            if unsafe_at(i, c) {
                let before = text.len();
                push_escaped(c, &mut text);
                added += text.len() - before - c.len_utf8();
                shifts.push((i + c.len_utf8(), added));
            } else {
                text.push(c);
            }
        }
        Shown { text, shifts }
    }

    /// The shown offset of original offset `offset`.
    fn offset(&self, offset: usize) -> usize {
        let index = self.shifts.partition_point(|&(end, _)| end <= offset);
        let added = if index == 0 { 0 } else { self.shifts[index - 1].1 };
        (offset + added).min(self.text.len())
    }

    /// The shown span of an original span (start, length).
    fn span(&self, start: usize, len: usize) -> SourceSpan {
        let (a, b) = (self.offset(start), self.offset(start + len));
        SourceSpan::new(a.into(), b.saturating_sub(a))
    }
}

/// The input files of one run, by index.
#[derive(Debug, Default)]
pub struct Sources {
    /// (name, text when valid UTF-8, raw bytes otherwise).
    files: Vec<(String, Result<String, Vec<u8>>)>,
    /// Per file, the byte offsets of its line breaks, found once on the first location asked for
    /// (a document with many warnings would otherwise be scanned from the start for each one).
    line_breaks: Vec<std::sync::OnceLock<Vec<usize>>>,
}

impl Sources {
    /// Adds a file, keeping its content once (as text when it is UTF-8).
    pub fn add(&mut self, path: &Path, bytes: Vec<u8>) -> usize {
        let content = String::from_utf8(bytes).map_err(|e| e.into_bytes());
        self.files.push((path.display().to_string(), content));
        self.line_breaks.push(std::sync::OnceLock::new());
        self.files.len() - 1
    }

    /// The text of source `index` when it is valid UTF-8.
    pub fn utf8(&self, index: usize) -> Option<&str> {
        self.files.get(index)?.1.as_ref().ok().map(String::as_str)
    }

    /// The raw bytes of source `index`.
    pub fn bytes(&self, index: usize) -> &[u8] {
        match self.files.get(index).map(|f| &f.1) {
            Some(Ok(text)) => text.as_bytes(),
            Some(Err(bytes)) => bytes,
            None => &[],
        }
    }

    /// The file name of source `index`.
    pub fn name(&self, index: usize) -> &str {
        self.files.get(index).map_or("<input>", |f| f.0.as_str())
    }

    /// The text of source `index` (empty when it is not UTF-8; see [`Sources::display_text`]).
    pub fn text(&self, index: usize) -> &str {
        self.utf8(index).unwrap_or("")
    }

    /// The text of source `index` for showing in a report, decoded lossily when it is not UTF-8.
    fn display_text(&self, index: usize) -> String {
        String::from_utf8_lossy(self.bytes(index)).into_owned()
    }

    /// Names of all sources.
    pub fn names(&self) -> Vec<&str> {
        self.files.iter().map(|f| f.0.as_str()).collect()
    }

    /// `file:line:column` of a byte offset.
    pub fn location(&self, index: usize, offset: usize) -> String {
        let (line, column) = match self.utf8(index) {
            Some(text) => {
                let breaks = self.line_breaks[index]
                    .get_or_init(|| text.match_indices('\n').map(|(at, _)| at).collect());
                let mut offset = offset.min(text.len());
                while !text.is_char_boundary(offset) {
                    offset -= 1;
                }
                let line = breaks.partition_point(|&at| at < offset);
                let line_start = if line == 0 { 0 } else { breaks[line - 1] + 1 };
                (line + 1, text[line_start..offset].chars().count() + 1)
            }
            None => line_col(&self.display_text(index), offset),
        };
        format!("{}:{line}:{column}", self.name(index))
    }

    /// A report for one error.
    pub fn report(&self, error: Error) -> Report {
        Report::new(self.diagnostic(error))
    }

    /// A report for several errors: the first in full, the others as related diagnostics.
    pub fn report_all(&self, errors: Vec<Error>) -> Report {
        let total = errors.len();
        let mut diagnostics: Vec<SourceDiagnostic> = errors.into_iter().map(|e| self.diagnostic(e)).collect();
        if total == 1 {
            return Report::new(diagnostics.remove(0));
        }
        const SHOWN: usize = 50;
        let omitted = total.saturating_sub(SHOWN);
        diagnostics.truncate(SHOWN);
        Report::new(ManyErrors {
            message: if omitted > 0 {
                format!("{total} errors in the metadata (the first {SHOWN} shown)")
            } else {
                format!("{total} errors in the metadata")
            },
            errors: diagnostics,
        })
    }

    fn diagnostic(&self, error: Error) -> SourceDiagnostic {
        let owned = self.display_text(error.source_index);
        let original_len = owned.len();
        let shown = Shown::new(owned);
        let start = error.span.start.min(original_len);
        let len = error.span.len().min(original_len - start).min(400);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(escape_terminal(&label(&error.kind)).into_owned()),
            shown.span(start, len),
        )];
        let mut help = help(&error.kind);
        if let Some((what, index, span)) = error.related.as_deref() {
            if *index == error.source_index {
                let related_start = span.start.min(original_len);
                labels.push(LabeledSpan::new_with_span(
                    Some(escape_terminal(what).into_owned()),
                    shown.span(
                        related_start,
                        span.len().min(original_len - related_start).min(400),
                    ),
                ));
            } else {
                help = Some(format!("{what}: {}", self.location(*index, span.start)));
            }
        }
        SourceDiagnostic {
            message: escape_terminal(&format!(
                "{}: {}",
                self.location(error.source_index, start),
                error.kind
            ))
            .into_owned(),
            source_code: NamedSource::new(escape_terminal(self.name(error.source_index)), shown.text),
            labels,
            help: help.map(|h| escape_terminal(&h).into_owned()),
        }
    }
}

fn label(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::Xml(_) | ErrorKind::Encoding(_) => "here".into(),
        ErrorKind::UnexpectedEof { element } => format!("<{element}> is not closed"),
        ErrorKind::UnexpectedElement { .. } => "not allowed here".into(),
        ErrorKind::MissingAttribute { attribute, .. } => format!("needs `{attribute}`"),
        ErrorKind::InvalidAttribute { .. } => "invalid value".into(),
        ErrorKind::Duplicate { .. } => "defined again here".into(),
        ErrorKind::DanglingType { name, .. } => format!("`{name}` is not defined"),
        ErrorKind::UnknownKeyProperty { property, .. } => format!("key names `{property}`"),
        _ => "here".into(),
    }
}

fn help(kind: &ErrorKind) -> Option<String> {
    match kind {
        ErrorKind::UnexpectedEof { .. } => Some("the file may have been cut off while downloading; fetch it again".into()),
        ErrorKind::DanglingType { .. } => Some(
            "define the type, or add an edmx:Reference that includes its namespace; pass the referenced document as another FILE to resolve it"
                .into(),
        ),
        ErrorKind::UnsupportedVersion { .. } => Some("dualsync reads OData v4 only".into()),
        _ => None,
    }
}

/// One error, pointing into its source.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SourceDiagnostic {
    message: String,
    source_code: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
}

impl Diagnostic for SourceDiagnostic {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

/// Several errors at once.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct ManyErrors {
    message: String,
    errors: Vec<SourceDiagnostic>,
}

impl Diagnostic for ManyErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.errors.iter().map(|e| e as &dyn Diagnostic)))
    }
}

/// A report for errors in map files: each at its file, line and column, with the line shown.
pub fn map_file_report(errors: Vec<dualsync_codegen::mapfile::Diagnostic>) -> Report {
    let total = errors.len();
    let mut diagnostics: Vec<SourceDiagnostic> = errors
        .into_iter()
        .map(|e| {
            let text = e.text.to_string();
            let original_len = text.len();
            let shown = Shown::new(text);
            let start = e.span.start.min(original_len);
            let len = e.span.len().min(original_len - start).min(400);
            SourceDiagnostic {
                message: escape_terminal(&format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message))
                    .into_owned(),
                source_code: NamedSource::new(escape_terminal(&e.file), shown.text.clone()),
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some("here".into()),
                    shown.span(start, len),
                )],
                help: None,
            }
        })
        .collect();
    if total == 1 {
        return Report::new(diagnostics.remove(0));
    }
    const SHOWN: usize = 50;
    diagnostics.truncate(SHOWN);
    Report::new(ManyErrors {
        message: if total > SHOWN {
            format!("{total} errors in map files (the first {SHOWN} shown)")
        } else {
            format!("{total} errors in map files")
        },
        errors: diagnostics,
    })
}

/// Prints warnings to stderr as `file:line:column: warning: message`.
pub fn print_warnings(model: &Model, sources: &Sources, all: bool) {
    const SHOWN: usize = 10;
    let total = model.warnings.len();
    let limit = if all { total } else { SHOWN };
    for warning in model.warnings.iter().take(limit) {
        eprintln!(
            "{}: warning: {}",
            escape_terminal(&sources.location(warning.source_index, warning.span.start)),
            escape_terminal(&warning.message)
        );
    }
    if total > limit {
        eprintln!(
            "… and {} more warnings (--all-warnings shows them)",
            total - limit
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_from_the_line_index_match_a_scan_from_the_start() {
        let text = "<a>\r\n  <b é='x'/>\n\n<c>ü\n</c>";
        let mut sources = Sources::default();
        let index = sources.add(Path::new("doc.xml"), text.as_bytes().to_vec());
        for offset in 0..text.len() + 3 {
            let (line, column) = line_col(text, offset);
            assert_eq!(
                sources.location(index, offset),
                format!("doc.xml:{line}:{column}"),
                "offset {offset}"
            );
        }
    }
}
