//! Resolution: syntax trees of one or more documents -> [`Model`].
//!
//! Passes, a module each: (1) [`declare`]: aliases and declared names of every document,
//! (2) [`convert`]: every element with its type references resolved, (3) [`inherit`]: ancestors,
//! effective keys, cycles, (4) [`containers`]: containers and bindings, (5) [`annotations`]: external
//! annotations, (6) [`facts`]: Dataverse and F&O facts (alternate keys, lookups, company-specific keys).
//! Conversion happens in a [`scope::Scope`]: the name tables it reads and the errors it finds.

mod annotations;
mod containers;
mod convert;
mod declare;
mod facts;
mod inherit;
mod scope;

use std::borrow::Cow;

use scope::Scope;

use crate::error::{Error, ErrorKind, Errors, Warning};
use crate::hash::FastMap as HashMap;
use crate::model::*;
use crate::span::Span;
use crate::syntax::{self, Document};

/// What a qualified name is declared as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    Entity,
    Complex,
    Enum,
    Definition,
    Term,
    Container,
    Action,
    Function,
    /// Both an action and a function (each with any number of overloads), as Graph's `delta`.
    ActionAndFunction,
}

impl Declared {
    fn describe(self) -> &'static str {
        match self {
            Declared::Entity => "entity type",
            Declared::Complex => "complex type",
            Declared::Enum => "enum type",
            Declared::Definition => "type definition",
            Declared::Term => "term",
            Declared::Container => "entity container",
            Declared::Action => "action",
            Declared::Function => "function",
            Declared::ActionAndFunction => "action and function",
        }
    }

    /// Whether a name declared as `self` has an element of kind `kind` (an action or a function).
    fn has(self, kind: Declared) -> bool {
        self == kind
            || (self == Declared::ActionAndFunction && matches!(kind, Declared::Action | Declared::Function))
    }

    /// The declaration of a name that is `self` and also `other`, when an operation name may be both.
    fn with(self, other: Declared) -> Option<Declared> {
        match (self, other) {
            (a, b) if a == b && matches!(a, Declared::Action | Declared::Function) => Some(a),
            (
                Declared::Action | Declared::Function | Declared::ActionAndFunction,
                Declared::Action | Declared::Function,
            ) => Some(Declared::ActionAndFunction),
            _ => None,
        }
    }
}

struct Resolver {
    model: Model,
    errors: Vec<Error>,
    /// Per document: alias -> namespace.
    aliases: Vec<HashMap<String, String>>,
    declared: HashMap<String, (Declared, usize, Span)>,
}

pub(super) fn resolve(mut documents: Vec<Document>) -> Result<Model, Errors> {
    let mut r = Resolver {
        model: Model::default(),
        errors: Vec::new(),
        aliases: Vec::new(),
        declared: HashMap::default(),
    };
    // What the reader accepted with a remark (e.g. an undeclared namespace prefix on an attribute).
    for (index, document) in documents.iter_mut().enumerate() {
        for warning in std::mem::take(&mut document.warnings) {
            r.model.warnings.push(Warning {
                source_index: index,
                ..warning
            });
        }
    }
    r.declare(&documents);
    for (index, document) in documents.iter_mut().enumerate() {
        for schema in &mut document.schemas {
            r.schema(index, schema);
        }
    }
    r.inheritance();
    for (index, document) in documents.iter_mut().enumerate() {
        for schema in &mut document.schemas {
            for container in &mut schema.entity_containers {
                r.container(index, &schema.namespace, container);
            }
        }
    }
    r.bindings();
    for (index, document) in documents.iter_mut().enumerate() {
        for schema in &mut document.schemas {
            for group in &mut schema.annotation_groups {
                r.annotation_group(index, group);
            }
        }
    }
    r.derived_facts();
    // What is left of the syntax trees (emptied vectors, shared names) is freed off the caller's path
    // when it is large; small documents are not worth a thread.
    if r.model.entity_types.len() >= 1000 {
        std::thread::spawn(move || drop(documents));
    } else {
        drop(documents);
    }
    // Warnings in document order, whatever pass found them.
    r.model.warnings.sort_by_key(|w| (w.source_index, w.span.start));
    // Errors in document order, whatever pass or thread found them.
    r.errors.sort_by_key(|e| (e.source_index, e.span.start));
    if r.errors.is_empty() {
        Ok(r.model)
    } else {
        Err(Errors(r.errors))
    }
}

/// Splits `Collection(T)`.
fn strip_collection(raw: &str) -> (bool, &str) {
    match raw
        .trim()
        .strip_prefix("Collection(")
        .and_then(|s| s.strip_suffix(')'))
    {
        Some(inner) => (true, inner.trim()),
        None => (false, raw.trim()),
    }
}

fn split_qualified(name: &str) -> (&str, &str) {
    name.rsplit_once('.').unwrap_or(("", name))
}

/// `Alias.Name` -> `Namespace.Name` for document `doc`; borrows `name` when it has no alias.
fn qualify_with<'n>(aliases: &[HashMap<String, String>], doc: usize, name: &'n str) -> Cow<'n, str> {
    let Some(aliases) = aliases.get(doc).filter(|a| !a.is_empty()) else {
        return Cow::Borrowed(name);
    };
    let (prefix, simple) = split_qualified(name);
    match aliases.get(prefix) {
        Some(namespace) => Cow::Owned(format!("{namespace}.{simple}")),
        None => Cow::Borrowed(name),
    }
}

impl Resolver {
    fn error(&mut self, source_index: usize, kind: ErrorKind, span: Span) {
        self.errors.push(Error::new(kind, span).in_source(source_index));
    }

    fn warn(&mut self, source_index: usize, message: String, span: Span) {
        self.model.warnings.push(Warning {
            message,
            source_index,
            span,
        });
    }

    /// `Alias.Name` -> `Namespace.Name` for document `doc`.
    fn qualify(&self, doc: usize, name: &str) -> String {
        qualify_with(&self.aliases, doc, name).into_owned()
    }

    /// A scope over the resolver's name tables, with no errors yet.
    fn scope(&self) -> Scope<'_> {
        Scope::new(
            &self.aliases,
            &self.declared,
            &self.model.external_namespaces,
            &self.model.schemas,
        )
    }

    /// Annotations converted outside the conversion pass (containers, external annotations).
    fn annotations(&self, doc: usize, list: &mut Vec<syntax::Annotation>) -> Annotations {
        self.scope().annotations(doc, list)
    }

    /// A type reference resolved outside the conversion pass.
    fn type_ref(
        &mut self,
        doc: usize,
        raw: &str,
        context: &dyn Fn() -> String,
        span: Span,
    ) -> Option<TypeRef> {
        let mut scope = self.scope();
        let resolved = scope.type_ref(doc, raw, context, span);
        let errors = scope.errors;
        self.errors.extend(errors);
        resolved
    }
}
