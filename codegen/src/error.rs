//! Errors and warnings from reading and resolving metadata. Every one carries the span of the offending
//! text and the index of the document it is in, so a front end can point into the source.

use crate::span::Span;

/// What went wrong while reading or resolving metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("malformed XML: {0}")]
    Xml(String),
    #[error("the document is not UTF-8: {0}")]
    Encoding(String),
    #[error("the document ends inside <{element}>: it is truncated or an end tag is missing")]
    UnexpectedEof { element: String },
    #[error(
        "not an OData CSDL document: the root element is <{found}>, expected <edmx:Edmx> in namespace {expected}"
    )]
    NotEdmx { found: String, expected: &'static str },
    #[error(
        "OData {odata_version} metadata (EDMX {edmx_version}) is not supported: dualsync reads OData v4 CSDL (EDMX 4.0 / 4.01); ask the service for its v4 endpoint (Dataverse: /api/data/v9.2/$metadata, F&O: /data/$metadata)"
    )]
    UnsupportedVersion {
        odata_version: String,
        edmx_version: String,
    },
    #[error("unsupported EDMX version `{0}`: expected 4.0 or 4.01")]
    UnsupportedEdmxVersion(String),
    #[error("unexpected element <{element}> in <{parent}>{hint}")]
    UnexpectedElement {
        element: String,
        parent: String,
        hint: String,
    },
    #[error("unexpected text in <{parent}>: `{text}`")]
    UnexpectedText { parent: String, text: String },
    #[error("<{element}> is missing its required attribute `{attribute}`")]
    MissingAttribute {
        element: String,
        attribute: &'static str,
    },
    #[error("invalid {attribute}=\"{value}\" on <{element}>: expected {expected}")]
    InvalidAttribute {
        element: String,
        attribute: String,
        value: String,
        expected: &'static str,
    },
    #[error("duplicate {what} `{name}`")]
    Duplicate { what: &'static str, name: String },
    #[error("{context} refers to type `{name}`, which is not defined{hint}")]
    DanglingType {
        context: String,
        name: String,
        hint: String,
    },
    #[error("unknown primitive type `{name}`{hint}")]
    UnknownPrimitive { name: String, hint: String },
    #[error("{context}: `{name}` is a {found}, expected {expected}")]
    WrongKind {
        context: String,
        name: String,
        found: &'static str,
        expected: &'static str,
    },
    #[error("the base type chain of `{name}` is cyclic: {chain}")]
    CyclicBaseType { name: String, chain: String },
    #[error("key of `{entity_type}` names property `{property}`, which it does not have")]
    UnknownKeyProperty { entity_type: String, property: String },
    #[error("{context} refers to `{name}`, which is not defined")]
    DanglingReference { context: String, name: String },
    #[error("invalid option-set JSON: {0}")]
    OptionSetJson(String),
}

/// An error in one source document, with the span of the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    /// Boxed so that `Result<T, Error>` stays small on the reader's hot path.
    pub kind: Box<ErrorKind>,
    /// Index of the document (in the order given to the reader or resolver).
    pub source_index: usize,
    pub span: Span,
    /// A second place that explains the error (e.g. the first definition of a duplicate).
    pub related: Option<Box<(String, usize, Span)>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, span: Span) -> Self {
        Error {
            kind: Box::new(kind),
            source_index: 0,
            span,
            related: None,
        }
    }

    pub(crate) fn with_related(mut self, label: impl Into<String>, source_index: usize, span: Span) -> Self {
        self.related = Some(Box::new((label.into(), source_index, span)));
        self
    }

    pub(crate) fn in_source(mut self, source_index: usize) -> Self {
        self.source_index = source_index;
        self
    }
}

/// All errors found while resolving a set of documents (resolution reports every problem, not the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} error(s) in the metadata; the first: {}", .0.len(), .0.first().map(|e| e.to_string()).unwrap_or_default())]
pub struct Errors(pub Vec<Error>);

/// Something suspicious that does not stop the model from being usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub message: String,
    pub source_index: usize,
    pub span: Span,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
