//! Reading OData CSDL XML (EDMX 4.0 / 4.01) into a [`Document`] with byte spans.
//!
//! Arrows point one way: this module's entry points use [`reader`] (a function per element) and
//! [`parallel`] (two halves of a large document), and `parallel` uses `reader`.

mod cursor;
mod parallel;
mod reader;

pub use cursor::{EDM_NS, EDMX_NS, LEGACY_EDMX_NS, MAX_DEPTH};

use cursor::Cursor;

use crate::error::{Error, ErrorKind};
use crate::span::Span;
use crate::syntax::Document;

/// Reads one EDMX document from bytes: UTF-8 with or without a byte-order mark.
pub fn parse_bytes(bytes: &[u8]) -> Result<Document, Error> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::new(
            ErrorKind::Encoding(
                "the document is UTF-16; convert it to UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)".into(),
            ),
            Span::new(0, 2),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_str(text),
        Err(err) => {
            let at = err.valid_up_to();
            Err(Error::new(
                ErrorKind::Encoding(format!("invalid UTF-8 byte sequence at byte {at}")),
                Span::new(at, at + err.error_len().unwrap_or(1)),
            ))
        }
    }
}

/// Reads one EDMX document from text. A leading byte-order mark is allowed; spans are byte offsets
/// into `source` as given. Large documents are read in two halves on two threads when they can be
/// split safely (see `parallel`); the result, every warning and every error are the same as a
/// sequential read.
pub fn parse_str(source: &str) -> Result<Document, Error> {
    if source.len() >= parallel::MIN_BYTES
        && let Some(document) = parallel::parse(source)
    {
        return Ok(document);
    }
    parse_str_sequential(source)
}

/// Reads one EDMX document from text on the calling thread only.
pub fn parse_str_sequential(source: &str) -> Result<Document, Error> {
    let mut cursor = Cursor::new(source);
    let mut document = reader::parse_with(&mut cursor)?;
    document.warnings = cursor.take_warnings();
    Ok(document)
}
