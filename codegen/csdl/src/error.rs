//! Errors and warnings from reading and resolving metadata. Every one carries the span of the offending
//! text and the index of the document it is in, so a front end can point into the source.

use crate::span::Span;

/// What went wrong while reading or resolving metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    Xml(String),
    Encoding(String),
    UnexpectedEof {
        element: String,
    },
    NotEdmx {
        found: String,
        expected: &'static str,
    },
    UnsupportedVersion {
        odata_version: String,
        edmx_version: String,
    },
    UnsupportedEdmxVersion(String),
    UnexpectedElement {
        element: String,
        parent: String,
        hint: String,
    },
    UnexpectedText {
        parent: String,
        text: String,
    },
    MissingAttribute {
        element: String,
        attribute: &'static str,
    },
    InvalidAttribute {
        element: String,
        attribute: String,
        value: String,
        expected: &'static str,
    },
    Duplicate {
        what: &'static str,
        name: String,
    },
    DanglingType {
        context: String,
        name: String,
        hint: String,
    },
    UnknownPrimitive {
        name: String,
        hint: String,
    },
    WrongKind {
        context: String,
        name: String,
        found: &'static str,
        expected: &'static str,
    },
    CyclicBaseType {
        name: String,
        chain: String,
    },
    UnknownKeyProperty {
        entity_type: String,
        property: String,
    },
    DanglingReference {
        context: String,
        name: String,
    },
    OptionSetJson(String),
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorKind::Xml(value) => write!(f, "malformed XML: {value}"),
            ErrorKind::Encoding(value) => write!(f, "the document is not UTF-8: {value}"),
            ErrorKind::UnexpectedEof { element } => write!(
                f,
                "the document ends inside <{element}>: it is truncated or an end tag is missing"
            ),
            ErrorKind::NotEdmx { found, expected } => write!(
                f,
                "not an OData CSDL document: the root element is <{found}>, expected <edmx:Edmx> in namespace {expected}"
            ),
            ErrorKind::UnsupportedVersion {
                odata_version,
                edmx_version,
            } => write!(
                f,
                "OData {odata_version} metadata (EDMX {edmx_version}) is not supported: dualsync reads OData v4 CSDL (EDMX 4.0 / 4.01); ask the service for its v4 endpoint (Dataverse: /api/data/v9.2/$metadata, F&O: /data/$metadata)"
            ),
            ErrorKind::UnsupportedEdmxVersion(value) => {
                write!(f, "unsupported EDMX version `{value}`: expected 4.0 or 4.01")
            }
            ErrorKind::UnexpectedElement {
                element,
                parent,
                hint,
            } => write!(f, "unexpected element <{element}> in <{parent}>{hint}"),
            ErrorKind::UnexpectedText { parent, text } => {
                write!(f, "unexpected text in <{parent}>: `{text}`")
            }
            ErrorKind::MissingAttribute { element, attribute } => {
                write!(f, "<{element}> is missing its required attribute `{attribute}`")
            }
            ErrorKind::InvalidAttribute {
                element,
                attribute,
                value,
                expected,
            } => write!(
                f,
                "invalid {attribute}=\"{value}\" on <{element}>: expected {expected}"
            ),
            ErrorKind::Duplicate { what, name } => write!(f, "duplicate {what} `{name}`"),
            ErrorKind::DanglingType { context, name, hint } => {
                write!(f, "{context} refers to type `{name}`, which is not defined{hint}")
            }
            ErrorKind::UnknownPrimitive { name, hint } => write!(f, "unknown primitive type `{name}`{hint}"),
            ErrorKind::WrongKind {
                context,
                name,
                found,
                expected,
            } => write!(f, "{context}: `{name}` is a {found}, expected {expected}"),
            ErrorKind::CyclicBaseType { name, chain } => {
                write!(f, "the base type chain of `{name}` is cyclic: {chain}")
            }
            ErrorKind::UnknownKeyProperty {
                entity_type,
                property,
            } => write!(
                f,
                "key of `{entity_type}` names property `{property}`, which it does not have"
            ),
            ErrorKind::DanglingReference { context, name } => {
                write!(f, "{context} refers to `{name}`, which is not defined")
            }
            ErrorKind::OptionSetJson(value) => write!(f, "invalid option-set JSON: {value}"),
        }
    }
}

/// An error in one source document, with the span of the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors(pub Vec<Error>);

// Written out rather than derived: the reader carries no proc-macro dependencies (thiserror, serde's
// derive), so a library that reads metadata builds no syn.
impl std::error::Error for ErrorKind {}
impl std::error::Error for Error {}
impl std::error::Error for Errors {}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::fmt::Display for Errors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} error(s) in the metadata; the first: ", self.0.len())?;
        match self.0.first() {
            Some(first) => first.fmt(f),
            None => Ok(()),
        }
    }
}

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
