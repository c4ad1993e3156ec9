//! Resolution: syntax trees of one or more documents -> [`Model`].
//!
//! Passes: (1) aliases and declared names of every document, (2) every element with its type references
//! resolved, (3) inheritance (ancestors, effective keys, cycles), (4) containers and bindings,
//! (5) external annotations, (6) derived facts (alternate keys, lookups, company-specific keys).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::hash::FastMap as HashMap;

use super::annotations::qualify_enum_members;
use super::*;
use crate::csdl::syntax::{self, Document, Expression};
use crate::error::{Error, ErrorKind, Errors, Warning};

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
        self.qualify_cow(doc, name).into_owned()
    }

    /// Like [`Resolver::qualify`], borrowing `name` when it has no alias.
    fn qualify_cow<'n>(&self, doc: usize, name: &'n str) -> Cow<'n, str> {
        qualify_with(&self.aliases, doc, name)
    }

    /// Annotations converted outside the worker scopes (containers, external annotations).
    fn annotations(&self, doc: usize, list: &mut Vec<syntax::Annotation>) -> Annotations {
        Scope::new(self.names()).annotations(doc, list)
    }

    /// A type reference resolved outside the worker scopes.
    fn type_ref(
        &mut self,
        doc: usize,
        raw: &str,
        context: &dyn Fn() -> String,
        span: Span,
    ) -> Option<TypeRef> {
        let (resolved, errors) = {
            let mut scope = Scope::new(self.names());
            let resolved = scope.type_ref(doc, raw, context, span);
            (resolved, scope.errors)
        };
        self.errors.extend(errors);
        resolved
    }

    fn names(&self) -> Names<'_> {
        Names {
            aliases: &self.aliases,
            declared: &self.declared,
            external: &self.model.external_namespaces,
            schemas: &self.model.schemas,
        }
    }

    fn declare(&mut self, documents: &[Document]) {
        let mut defined = BTreeSet::new();
        for document in documents {
            for schema in &document.schemas {
                defined.insert(schema.namespace.clone());
            }
        }
        for (index, document) in documents.iter().enumerate() {
            let mut aliases = HashMap::default();
            let mut includes = Vec::new();
            for reference in &document.references {
                for include in &reference.includes {
                    if let Some(alias) = &include.alias {
                        aliases.insert(alias.clone(), include.namespace.clone());
                    }
                    includes.push((
                        reference.uri.clone(),
                        include.namespace.clone(),
                        include.alias.clone(),
                    ));
                    if !defined.contains(&include.namespace) {
                        self.model.external_namespaces.insert(include.namespace.clone());
                    }
                }
            }
            for schema in &document.schemas {
                if let Some(alias) = &schema.alias {
                    aliases.insert(alias.clone(), schema.namespace.clone());
                }
            }
            self.aliases.push(aliases);
            self.model.documents.push(DocumentInfo {
                version: document.version.clone(),
                namespaces: document.schemas.iter().map(|s| s.namespace.clone()).collect(),
                includes,
            });
            for schema in &document.schemas {
                let ns = &schema.namespace;
                let items = schema
                    .entity_types
                    .iter()
                    .map(|t| (Declared::Entity, &t.name, t.span))
                    .chain(
                        schema
                            .complex_types
                            .iter()
                            .map(|t| (Declared::Complex, &t.name, t.span)),
                    )
                    .chain(
                        schema
                            .enum_types
                            .iter()
                            .map(|t| (Declared::Enum, &t.name, t.span)),
                    )
                    .chain(
                        schema
                            .type_definitions
                            .iter()
                            .map(|t| (Declared::Definition, &t.name, t.span)),
                    )
                    .chain(schema.terms.iter().map(|t| (Declared::Term, &t.name, t.span)))
                    .chain(
                        schema
                            .entity_containers
                            .iter()
                            .map(|t| (Declared::Container, &t.name, t.span)),
                    )
                    .chain(schema.actions.iter().map(|t| (Declared::Action, &t.name, t.span)))
                    .chain(
                        schema
                            .functions
                            .iter()
                            .map(|t| (Declared::Function, &t.name, t.span)),
                    );
                let mut found = Vec::new();
                for (kind, name, span) in items {
                    let qualified = format!("{ns}.{name}");
                    match self.declared.get(&qualified) {
                        // Overloads of one action or function share a name.
                        Some((existing, _, _))
                            if *existing == kind && matches!(kind, Declared::Action | Declared::Function) => {
                        }
                        Some((existing, first_doc, first_span)) => {
                            found.push(
                                Error::new(
                                    ErrorKind::Duplicate {
                                        what: "schema element",
                                        name: qualified.clone(),
                                    },
                                    span,
                                )
                                .in_source(index)
                                .with_related(
                                    format!("first defined here as {} `{qualified}`", existing.describe()),
                                    *first_doc,
                                    *first_span,
                                ),
                            );
                        }
                        None => {
                            self.declared.insert(qualified, (kind, index, span));
                        }
                    }
                }
                self.errors.extend(found);
            }
        }
    }

    fn schema(&mut self, doc: usize, schema: &mut syntax::Schema) {
        let ns = schema.namespace.as_str();
        if !self.model.schemas.contains_key(ns) {
            let annotations = Scope::new(self.names()).annotations(doc, &mut schema.annotations);
            self.model.schemas.insert(
                ns.to_string(),
                SchemaInfo {
                    namespace: ns.to_string(),
                    alias: schema.alias.clone(),
                    annotations,
                    source_index: doc,
                    span: schema.span,
                },
            );
        }
        let names = self.names();
        let syntax::Schema {
            entity_types: entity_list,
            complex_types,
            enum_types,
            type_definitions,
            actions,
            functions,
            terms: term_list,
            ..
        } = schema;
        // F&O schemas hold thousands of entity types: a worker converts the second half while this
        // thread converts the first half and everything else.
        let split = if entity_list.len() >= 256 {
            entity_list.len() / 2
        } else {
            entity_list.len()
        };
        let (first, second) = entity_list.split_at_mut(split);
        let (entities, complex, enums, definitions, operations, terms, errors) =
            std::thread::scope(|threads| {
                let worker = (!second.is_empty()).then(|| {
                    threads.spawn(|| {
                        let mut scope = Scope::new(names);
                        let converted: Vec<EntityType> =
                            second.iter_mut().map(|e| scope.entity_type(doc, ns, e)).collect();
                        (converted, scope.errors)
                    })
                });
                let mut scope = Scope::new(names);
                let mut entities: Vec<EntityType> =
                    first.iter_mut().map(|e| scope.entity_type(doc, ns, e)).collect();
                let complex: Vec<ComplexType> = complex_types
                    .iter_mut()
                    .map(|c| scope.complex_type(doc, ns, c))
                    .collect();
                let enums: Vec<EnumType> = enum_types
                    .iter_mut()
                    .map(|e| scope.enum_type(doc, ns, e))
                    .collect();
                let mut definitions = Vec::with_capacity(type_definitions.len());
                for definition in type_definitions.iter_mut() {
                    let name = format!("{ns}.{}", definition.name);
                    let underlying = scope.underlying_primitive(
                        doc,
                        &definition.underlying_type,
                        &name,
                        definition.span,
                        false,
                    );
                    definitions.push(TypeDefinition {
                        name,
                        namespace: ns.to_string(),
                        simple_name: definition.name.clone(),
                        underlying_type: underlying.unwrap_or(Primitive::Untyped),
                        facets: definition.facets,
                        annotations: scope.annotations(doc, &mut definition.annotations),
                        origin: Origin {
                            source_index: doc,
                            span: definition.span,
                        },
                    });
                }
                let operations: Vec<Operation> = actions
                    .iter_mut()
                    .chain(functions.iter_mut())
                    .map(|o| scope.operation(doc, ns, o))
                    .collect();
                let mut terms = Vec::with_capacity(term_list.len());
                for term in term_list.iter_mut() {
                    let name = format!("{ns}.{}", term.name);
                    let type_ref =
                        scope.type_ref(doc, &term.type_name, &|| format!("term `{name}`"), term.span);
                    terms.push(Term {
                        type_ref: type_ref.unwrap_or(TypeRef {
                            collection: false,
                            kind: TypeKind::Primitive(Primitive::Untyped),
                        }),
                        applies_to: term.applies_to.clone(),
                        default_value: term.default_value.clone(),
                        annotations: scope.annotations(doc, &mut term.annotations),
                        origin: Origin {
                            source_index: doc,
                            span: term.span,
                        },
                        name,
                    });
                }
                let mut errors = scope.errors;
                if let Some(worker) = worker {
                    let (rest, rest_errors) = worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    entities.extend(rest);
                    errors.extend(rest_errors);
                }
                (entities, complex, enums, definitions, operations, terms, errors)
            });
        self.errors.extend(errors);
        for resolved in entities {
            self.model
                .entity_types
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in complex {
            self.model
                .complex_types
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in enums {
            self.model
                .enum_types
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in definitions {
            self.model
                .type_definitions
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in operations {
            let map = match resolved.kind {
                OperationKind::Action => &mut self.model.actions,
                OperationKind::Function => &mut self.model.functions,
            };
            map.entry(resolved.name.clone()).or_default().push(resolved);
        }
        for resolved in terms {
            self.model.terms.entry(resolved.name.clone()).or_insert(resolved);
        }
    }

    /// Ancestors, inherited keys and open types; cyclic chains and keys naming missing properties are errors.
    fn inheritance(&mut self) {
        let model = &self.model;
        // Ancestors (nearest first), with cycles reported by every type on them.
        let mut errors = Vec::new();
        let chains: Vec<Vec<String>> = model
            .entity_types
            .values()
            .map(|entity| {
                let mut ancestors: Vec<String> = Vec::new();
                let mut current = entity.base_type.as_deref();
                while let Some(base) = current {
                    if base == entity.name || ancestors.iter().any(|a| a == base) {
                        let chain = std::iter::once(entity.name.as_str())
                            .chain(ancestors.iter().map(String::as_str))
                            .chain(std::iter::once(base))
                            .collect::<Vec<_>>()
                            .join(" -> ");
                        errors.push(
                            Error::new(
                                ErrorKind::CyclicBaseType {
                                    name: entity.name.clone(),
                                    chain,
                                },
                                entity.origin.span,
                            )
                            .in_source(entity.origin.source_index),
                        );
                        break;
                    }
                    ancestors.push(base.to_string());
                    current = model.entity_types.get(base).and_then(|b| b.base_type.as_deref());
                }
                ancestors
            })
            .collect();
        // The key and openness in effect; a declared key must name existing properties.
        let inherited: Vec<(Option<Vec<KeyPart>>, bool)> = model
            .entity_types
            .values()
            .zip(&chains)
            .map(|(entity, ancestors)| {
                let bases = || ancestors.iter().filter_map(|a| model.entity_types.get(a));
                let key = if entity.key.is_empty() {
                    bases().find(|b| b.declares_key).map(|b| b.key.clone())
                } else {
                    None
                };
                let open = entity.open_type || bases().any(|b| b.open_type);
                if entity.declares_key {
                    for part in &entity.key {
                        let first = part.name.split('/').next().unwrap_or(&part.name);
                        let found = entity.properties.iter().any(|p| p.name == first)
                            || bases().any(|b| b.properties.iter().any(|p| p.name == first));
                        if !found {
                            errors.push(
                                Error::new(
                                    ErrorKind::UnknownKeyProperty {
                                        entity_type: entity.name.clone(),
                                        property: part.name.clone(),
                                    },
                                    entity.origin.span,
                                )
                                .in_source(entity.origin.source_index),
                            );
                        }
                    }
                }
                (key, open)
            })
            .collect();
        self.errors.extend(errors);
        for ((entity, ancestors), (key, open)) in
            self.model.entity_types.values_mut().zip(chains).zip(inherited)
        {
            entity.ancestors = ancestors;
            if let Some(key) = key {
                entity.key = key;
            }
            entity.open_type = open;
        }
        // Complex types: ancestors and open types.
        let bases: HashMap<String, Option<String>> = self
            .model
            .complex_types
            .iter()
            .map(|(n, t)| (n.clone(), t.base_type.clone()))
            .collect();
        let names: Vec<String> = self.model.complex_types.keys().cloned().collect();
        for name in &names {
            let mut ancestors = Vec::new();
            let mut current = bases.get(name).cloned().flatten();
            while let Some(base) = current {
                if &base == name || ancestors.contains(&base) {
                    let Some(complex) = self.model.complex_types.get(name) else {
                        break;
                    };
                    let (doc, span) = (complex.origin.source_index, complex.origin.span);
                    let chain = format!("{name} -> … -> {base}");
                    self.error(
                        doc,
                        ErrorKind::CyclicBaseType {
                            name: name.clone(),
                            chain,
                        },
                        span,
                    );
                    break;
                }
                current = bases.get(&base).cloned().flatten();
                ancestors.push(base);
            }
            let open = ancestors
                .iter()
                .any(|a| self.model.complex_types.get(a).is_some_and(|c| c.open_type));
            if let Some(complex) = self.model.complex_types.get_mut(name) {
                complex.ancestors = ancestors;
                complex.open_type |= open;
            }
        }
    }

    fn container(&mut self, doc: usize, ns: &str, container: &mut syntax::EntityContainer) {
        let name = format!("{ns}.{}", container.name);
        let mut resolved = EntityContainer {
            name: name.clone(),
            extends: container.extends.as_ref().map(|e| self.qualify(doc, e)),
            entity_sets: BTreeMap::new(),
            singletons: BTreeMap::new(),
            action_imports: BTreeMap::new(),
            function_imports: BTreeMap::new(),
            annotations: self.annotations(doc, &mut container.annotations),
            origin: Origin {
                source_index: doc,
                span: container.span,
            },
        };
        let mut seen: HashMap<String, Span> = HashMap::default();
        let mut duplicate = |r: &mut Resolver, child: &str, span: Span| -> bool {
            if let Some(first) = seen.insert(child.to_string(), span) {
                let err = Error::new(
                    ErrorKind::Duplicate {
                        what: "entity container child",
                        name: format!("{name}/{child}"),
                    },
                    span,
                )
                .in_source(doc)
                .with_related("first defined here", doc, first);
                r.errors.push(err);
                true
            } else {
                false
            }
        };
        for set in &mut container.entity_sets {
            if duplicate(self, &set.name, set.span) {
                continue;
            }
            let Some(entity_type) = self.entity_type_ref(
                doc,
                &set.entity_type,
                &format!("entity set `{}`", set.name),
                set.span,
            ) else {
                continue;
            };
            resolved.entity_sets.insert(
                set.name.clone(),
                EntitySet {
                    name: set.name.clone(),
                    entity_type,
                    include_in_service_document: set.include_in_service_document.unwrap_or(true),
                    bindings: unresolved_bindings(&mut set.bindings),
                    annotations: self.annotations(doc, &mut set.annotations),
                    origin: Origin {
                        source_index: doc,
                        span: set.span,
                    },
                },
            );
        }
        for singleton in &mut container.singletons {
            if duplicate(self, &singleton.name, singleton.span) {
                continue;
            }
            let Some(entity_type) = self.entity_type_ref(
                doc,
                &singleton.type_name,
                &format!("singleton `{}`", singleton.name),
                singleton.span,
            ) else {
                continue;
            };
            resolved.singletons.insert(
                singleton.name.clone(),
                Singleton {
                    name: singleton.name.clone(),
                    entity_type,
                    bindings: unresolved_bindings(&mut singleton.bindings),
                    annotations: self.annotations(doc, &mut singleton.annotations),
                    origin: Origin {
                        source_index: doc,
                        span: singleton.span,
                    },
                },
            );
        }
        for import in &mut container.action_imports {
            if duplicate(self, &import.name, import.span) {
                continue;
            }
            let action = self.qualify(doc, &import.action);
            self.check_operation(
                doc,
                &action,
                Declared::Action,
                &format!("action import `{}`", import.name),
                import.span,
            );
            resolved.action_imports.insert(
                import.name.clone(),
                ActionImport {
                    name: import.name.clone(),
                    action,
                    entity_set: import.entity_set.clone(),
                    annotations: self.annotations(doc, &mut import.annotations),
                },
            );
        }
        for import in &mut container.function_imports {
            if duplicate(self, &import.name, import.span) {
                continue;
            }
            let function = self.qualify(doc, &import.function);
            self.check_operation(
                doc,
                &function,
                Declared::Function,
                &format!("function import `{}`", import.name),
                import.span,
            );
            resolved.function_imports.insert(
                import.name.clone(),
                FunctionImport {
                    name: import.name.clone(),
                    function,
                    entity_set: import.entity_set.clone(),
                    include_in_service_document: import.include_in_service_document.unwrap_or(false),
                    annotations: self.annotations(doc, &mut import.annotations),
                },
            );
        }
        for set in resolved.entity_sets.values() {
            if let Some(entity) = self.model.entity_types.get_mut(&set.entity_type) {
                entity.entity_sets.push(set.name.clone());
            }
        }
        self.model.containers.entry(name).or_insert(resolved);
    }

    fn entity_type_ref(&mut self, doc: usize, raw: &str, context: &str, span: Span) -> Option<String> {
        let type_ref = self.type_ref(doc, raw, &|| context.to_string(), span)?;
        match type_ref.kind {
            TypeKind::Entity(name) | TypeKind::External(name) if !type_ref.collection => Some(name),
            _ => {
                self.error(
                    doc,
                    ErrorKind::WrongKind {
                        context: context.to_string(),
                        name: raw.to_string(),
                        found: "not an entity type",
                        expected: "an entity type",
                    },
                    span,
                );
                None
            }
        }
    }

    fn check_operation(&mut self, doc: usize, name: &str, expected: Declared, context: &str, span: Span) {
        match self.declared.get(name).map(|d| d.0) {
            Some(kind) if kind == expected => {}
            Some(kind) => self.error(
                doc,
                ErrorKind::WrongKind {
                    context: context.to_string(),
                    name: name.to_string(),
                    found: kind.describe(),
                    expected: expected.describe(),
                },
                span,
            ),
            None => {
                let (namespace, _) = split_qualified(name);
                if !self.model.external_namespaces.contains(namespace) {
                    self.error(
                        doc,
                        ErrorKind::DanglingReference {
                            context: context.to_string(),
                            name: name.to_string(),
                        },
                        span,
                    );
                }
            }
        }
    }

    /// Resolves binding targets; a missing target is a warning (trimmed documents drop sets).
    fn bindings(&mut self) {
        let mut warnings = Vec::new();
        let containers: Vec<String> = self.model.containers.keys().cloned().collect();
        for container_name in &containers {
            let Some(container) = self.model.containers.get(container_name) else {
                continue;
            };
            let doc = container.origin.source_index;
            let mut updates: Vec<(bool, String, usize, Option<String>)> = Vec::new();
            let sources = container
                .entity_sets
                .values()
                .map(|s| (false, &s.name, &s.bindings, s.origin))
                .chain(
                    container
                        .singletons
                        .values()
                        .map(|s| (true, &s.name, &s.bindings, s.origin)),
                );
            for (is_singleton, source, bindings, origin) in sources {
                for (index, binding) in bindings.iter().enumerate() {
                    let resolved = self.binding_target(doc, container_name, &binding.target);
                    if resolved.is_none() && !self.is_external_path(doc, &binding.target) {
                        let kind = if is_singleton { "singleton" } else { "entity set" };
                        warnings.push((
                            doc,
                            format!(
                                "NavigationPropertyBinding `{}` of {kind} `{source}` targets `{}`, which is not defined (a trimmed document?)",
                                binding.path, binding.target
                            ),
                            origin.span,
                        ));
                    }
                    updates.push((is_singleton, source.clone(), index, resolved));
                }
            }
            let Some(container) = self.model.containers.get_mut(container_name) else {
                continue;
            };
            for (is_singleton, source, index, resolved) in updates {
                let binding = if is_singleton {
                    container
                        .singletons
                        .get_mut(&source)
                        .and_then(|s| s.bindings.get_mut(index))
                } else {
                    container
                        .entity_sets
                        .get_mut(&source)
                        .and_then(|s| s.bindings.get_mut(index))
                };
                if let Some(binding) = binding {
                    binding.resolved_target = resolved;
                }
            }
        }
        for (doc, message, span) in warnings {
            self.warn(doc, message, span);
        }
    }

    /// Whether a `Namespace.Container/...` path points into a referenced, unloaded document.
    fn is_external_path(&self, doc: usize, path: &str) -> bool {
        let head = path.split('/').next().unwrap_or(path);
        let qualified = self.qualify(doc, head);
        let (namespace, _) = split_qualified(&qualified);
        self.model.external_namespaces.contains(namespace)
    }

    fn binding_target(&self, doc: usize, container: &str, target: &str) -> Option<String> {
        let (container_name, rest) = match target.split_once('/') {
            Some((head, rest)) if head.contains('.') => (self.qualify(doc, head), rest),
            _ => (container.to_string(), target),
        };
        let first = rest.split('/').next().unwrap_or(rest);
        let mut current = Some(container_name);
        let mut hops = 0;
        while let Some(name) = current {
            let c = self.model.containers.get(&name)?;
            if c.entity_sets.contains_key(first) || c.singletons.contains_key(first) {
                return Some(format!("{name}/{first}"));
            }
            current = c.extends.clone();
            hops += 1;
            if hops > 64 {
                return None;
            }
        }
        None
    }

    /// Applies `Annotations Target="..."` to the element it names.
    fn annotation_group(&mut self, doc: usize, group: &mut syntax::AnnotationGroup) {
        let mut annotations = self.annotations(doc, &mut group.annotations);
        if let Some(qualifier) = &group.qualifier {
            for annotation in &mut annotations.0 {
                annotation.qualifier.get_or_insert_with(|| qualifier.clone());
            }
        }
        let target = group.target.trim();
        let (head, rest) = match target.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (target, None),
        };
        // Overload signatures `NS.Action(NS.Type)` address all overloads here.
        let head = head.split('(').next().unwrap_or(head);
        let qualified = self.qualify(doc, head);
        let member = rest.map(|r| r.split('/').next().unwrap_or(r));
        let deeper = rest.is_some_and(|r| r.contains('/'));
        let found = self.apply_annotations(&qualified, member, deeper, annotations);
        if !found {
            let (namespace, _) = split_qualified(&qualified);
            if !self.model.external_namespaces.contains(namespace) {
                self.warn(
                    doc,
                    format!(
                        "annotation target `{}` does not name an element of the model",
                        group.target
                    ),
                    group.span,
                );
            }
        }
    }

    fn apply_annotations(
        &mut self,
        qualified: &str,
        member: Option<&str>,
        deeper: bool,
        annotations: Annotations,
    ) -> bool {
        fn add(target: &mut Annotations, more: Annotations) {
            target.0.extend(more.0);
        }
        if deeper {
            // Paths into nested members (e.g. a property of a complex property) are valid CSDL, kept
            // only where a generator needs them; they are accepted but not attached.
            return self.declared.contains_key(qualified);
        }
        let model = &mut self.model;
        if let Some(entity) = model.entity_types.get_mut(qualified) {
            match member {
                None => add(&mut entity.annotations, annotations),
                Some(m) => {
                    if let Some(p) = entity.properties.iter_mut().find(|p| p.name == m) {
                        add(&mut p.annotations, annotations);
                        p.computed = p.annotations.computed();
                        p.immutable = p.annotations.immutable();
                        p.read_only = p.computed
                            || matches!(
                                p.annotations.permissions(),
                                Some(Permissions::Read | Permissions::None)
                            );
                    } else if let Some(n) = entity.navigation_properties.iter_mut().find(|n| n.name == m) {
                        add(&mut n.annotations, annotations);
                    } else {
                        return false;
                    }
                }
            }
            return true;
        }
        if let Some(complex) = model.complex_types.get_mut(qualified) {
            match member {
                None => add(&mut complex.annotations, annotations),
                Some(m) => {
                    if let Some(p) = complex.properties.iter_mut().find(|p| p.name == m) {
                        add(&mut p.annotations, annotations);
                    } else if let Some(n) = complex.navigation_properties.iter_mut().find(|n| n.name == m) {
                        add(&mut n.annotations, annotations);
                    } else {
                        return false;
                    }
                }
            }
            return true;
        }
        if let Some(enum_type) = model.enum_types.get_mut(qualified) {
            match member {
                None => add(&mut enum_type.annotations, annotations),
                Some(m) => match enum_type.members.iter_mut().find(|x| x.name == m) {
                    Some(x) => add(&mut x.annotations, annotations),
                    None => return false,
                },
            }
            return true;
        }
        if let Some(container) = model.containers.get_mut(qualified) {
            match member {
                None => add(&mut container.annotations, annotations),
                Some(m) => {
                    if let Some(s) = container.entity_sets.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else if let Some(s) = container.singletons.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else if let Some(s) = container.action_imports.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else if let Some(s) = container.function_imports.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else {
                        return false;
                    }
                }
            }
            return true;
        }
        if let Some(definition) = model.type_definitions.get_mut(qualified) {
            add(&mut definition.annotations, annotations);
            return member.is_none();
        }
        if let Some(term) = model.terms.get_mut(qualified) {
            add(&mut term.annotations, annotations);
            return member.is_none();
        }
        for map in [&mut model.actions, &mut model.functions] {
            if let Some(overloads) = map.get_mut(qualified) {
                let mut applied = false;
                for overload in overloads.iter_mut() {
                    match member {
                        None => {
                            add(&mut overload.annotations, annotations.clone());
                            applied = true;
                        }
                        Some("$ReturnType") => applied = true,
                        Some(m) => {
                            if let Some(p) = overload.parameters.iter_mut().find(|p| p.name == m) {
                                add(&mut p.annotations, annotations.clone());
                                applied = true;
                            }
                        }
                    }
                }
                return applied;
            }
        }
        if member.is_none()
            && let Some(schema) = model.schemas.get_mut(qualified)
        {
            add(&mut schema.annotations, annotations);
            return true;
        }
        false
    }

    /// Alternate keys, lookups and company-specific keys.
    fn derived_facts(&mut self) {
        let model = &self.model;
        let entities: Vec<&EntityType> = model.entity_types.values().collect();
        let derive_all = |part: &[&EntityType]| part.iter().map(|e| derive(model, e)).collect::<Vec<_>>();
        // Read-only work per type: on two threads for big models.
        let derived: Vec<Derived> = if entities.len() >= 512 {
            let (first, second) = entities.split_at(entities.len() / 2);
            std::thread::scope(|threads| {
                let worker = threads.spawn(|| derive_all(second));
                let mut derived = derive_all(first);
                derived.extend(
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
                derived
            })
        } else {
            derive_all(&entities)
        };
        let mut warnings = Vec::new();
        for (entity, facts) in self.model.entity_types.values_mut().zip(derived) {
            // A lookup's id column is written through `nav@odata.bind`, never directly.
            for property in &mut entity.properties {
                if facts.lookups.iter().any(|l| l.column == property.name) {
                    property.read_only = true;
                }
            }
            entity.alternate_keys = facts.alternate_keys;
            entity.lookups = facts.lookups;
            entity.company_specific = facts.company_specific;
            warnings.extend(facts.warnings);
        }
        for (doc, message, span) in warnings {
            self.warn(doc, message, span);
        }
    }
}

/// What [`Resolver::derived_facts`] works out for one entity type.
struct Derived {
    alternate_keys: Vec<AlternateKey>,
    lookups: Vec<Lookup>,
    company_specific: bool,
    warnings: Vec<(usize, String, Span)>,
}

fn derive(model: &Model, entity: &EntityType) -> Derived {
    let mut warnings = Vec::new();
    let name = &entity.name;
    let alternate_keys = alternate_keys(&entity.annotations);
    for key in &alternate_keys {
        for part in &key.parts {
            let first = part.name.split('/').next().unwrap_or(&part.name);
            if !has_property(model, entity, first) {
                warnings.push((
                    entity.origin.source_index,
                    format!(
                        "alternate key of `{name}` names property `{}`, which it does not have",
                        part.name
                    ),
                    entity.origin.span,
                ));
            }
        }
    }
    // Partners must exist on the target type.
    for navigation in &entity.navigation_properties {
        let Some(partner) = &navigation.partner else {
            continue;
        };
        let Some(target) = model.entity_types.get(&navigation.target) else {
            continue;
        };
        if !has_navigation(model, target, partner) {
            warnings.push((
                navigation.origin.source_index,
                format!(
                    "navigation property `{}` of `{name}` names partner `{partner}`, which `{}` does not have",
                    navigation.name, navigation.target
                ),
                navigation.origin.span,
            ));
        }
    }
    Derived {
        alternate_keys,
        lookups: lookups(model, entity),
        company_specific: entity
            .key
            .first()
            .is_some_and(|k| k.name.eq_ignore_ascii_case("dataAreaId")),
        warnings,
    }
}

/// Dataverse lookups of an entity type: `_x_value` columns with their navigation properties.
fn lookups(model: &Model, entity: &EntityType) -> Vec<Lookup> {
    // Lookup columns are `_x_value`: most types (all of F&O) have none, so look before working.
    let has_candidates = entity.properties.iter().any(|p| is_lookup_column(&p.name))
        || entity.ancestors.iter().any(|a| {
            model
                .entity_types
                .get(a)
                .is_some_and(|base| base.properties.iter().any(|p| is_lookup_column(&p.name)))
        });
    if !has_candidates {
        return Vec::new();
    }
    let mut by_column: BTreeMap<String, Vec<LookupTarget>> = BTreeMap::new();
    let sets: Vec<&EntitySet> = entity
        .entity_sets
        .iter()
        .filter_map(|s| model.entity_set(s))
        .collect();
    for navigation in model.all_navigation_properties(entity) {
        if navigation.collection {
            continue;
        }
        let mut column = None;
        let mut referenced = None;
        for (dependent, principal) in &navigation.referential_constraints {
            if is_lookup_column(dependent) && has_property(model, entity, dependent) {
                column = Some(dependent.clone());
                referenced = Some(principal.clone());
            }
        }
        if column.is_none() {
            let by_name = format!("_{}_value", navigation.name);
            if has_property(model, entity, &by_name) {
                column = Some(by_name);
            }
        }
        let Some(column) = column else { continue };
        let entity_set = sets.iter().find_map(|set| {
            set.bindings
                .iter()
                .find(|b| b.path == navigation.name)
                .and_then(|b| b.resolved_target.as_ref())
                .map(|t| t.rsplit('/').next().unwrap_or(t).to_string())
        });
        by_column.entry(column).or_default().push(LookupTarget {
            navigation: navigation.name.clone(),
            entity_type: navigation.target.clone(),
            referenced_property: referenced,
            entity_set,
        });
    }
    by_column
        .into_iter()
        .map(|(column, targets)| Lookup {
            logical_name: column
                .strip_prefix('_')
                .and_then(|c| c.strip_suffix("_value"))
                .unwrap_or(&column)
                .to_string(),
            column,
            targets,
        })
        .collect()
}
/// The name tables that converting an element reads; shared by the conversion workers.
#[derive(Clone, Copy)]
struct Names<'r> {
    aliases: &'r [HashMap<String, String>],
    declared: &'r HashMap<String, (Declared, usize, Span)>,
    external: &'r BTreeSet<String>,
    schemas: &'r BTreeMap<String, SchemaInfo>,
}

/// Converts syntax elements into model elements, collecting its own errors (one per thread).
struct Scope<'r> {
    aliases: &'r [HashMap<String, String>],
    declared: &'r HashMap<String, (Declared, usize, Span)>,
    external: &'r BTreeSet<String>,
    schemas: &'r BTreeMap<String, SchemaInfo>,
    errors: Vec<Error>,
}

impl<'r> Scope<'r> {
    fn new(names: Names<'r>) -> Self {
        Scope {
            aliases: names.aliases,
            declared: names.declared,
            external: names.external,
            schemas: names.schemas,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, source_index: usize, kind: ErrorKind, span: Span) {
        self.errors.push(Error::new(kind, span).in_source(source_index));
    }

    fn qualify(&self, doc: usize, name: &str) -> String {
        self.qualify_cow(doc, name).into_owned()
    }

    fn qualify_cow<'n>(&self, doc: usize, name: &'n str) -> Cow<'n, str> {
        qualify_with(self.aliases, doc, name)
    }

    /// Resolves a type reference as written in document `doc`.
    fn type_ref(
        &mut self,
        doc: usize,
        raw: &str,
        context: &dyn Fn() -> String,
        span: Span,
    ) -> Option<TypeRef> {
        let (collection, inner) = strip_collection(raw);
        let qualified = self.qualify_cow(doc, inner);
        if qualified.starts_with("Edm.") {
            return match Primitive::from_edm_name(&qualified) {
                Some(p) => Some(TypeRef {
                    collection,
                    kind: TypeKind::Primitive(p),
                }),
                None => {
                    let hint = Primitive::legacy_hint(&qualified).to_string();
                    self.error(
                        doc,
                        ErrorKind::UnknownPrimitive {
                            name: qualified.into_owned(),
                            hint,
                        },
                        span,
                    );
                    None
                }
            };
        }
        let kind = match self.declared.get(qualified.as_ref()).map(|d| d.0) {
            Some(Declared::Entity) => TypeKind::Entity(qualified.into_owned()),
            Some(Declared::Complex) => TypeKind::Complex(qualified.into_owned()),
            Some(Declared::Enum) => TypeKind::Enum(qualified.into_owned()),
            Some(Declared::Definition) => TypeKind::Definition(qualified.into_owned()),
            Some(other) => {
                self.error(
                    doc,
                    ErrorKind::WrongKind {
                        context: context(),
                        name: qualified.into_owned(),
                        found: other.describe(),
                        expected: "a type",
                    },
                    span,
                );
                return None;
            }
            None => {
                let (namespace, _) = split_qualified(&qualified);
                if self.external.contains(namespace) {
                    TypeKind::External(qualified.into_owned())
                } else {
                    let hint = self.suggest(&qualified, inner);
                    self.error(
                        doc,
                        ErrorKind::DanglingType {
                            context: context(),
                            name: inner.to_string(),
                            hint,
                        },
                        span,
                    );
                    return None;
                }
            }
        };
        Some(TypeRef { collection, kind })
    }

    fn suggest(&self, qualified: &str, written: &str) -> String {
        let (namespace, simple) = split_qualified(qualified);
        let mut hint = String::new();
        if qualified != written {
            hint.push_str(&format!(" (read as `{qualified}`)"));
        }
        if namespace.is_empty() {
            hint.push_str("; type names must be qualified with a namespace or alias");
        } else if !self.schemas.contains_key(namespace) {
            hint.push_str(&format!(
                "; no schema defines namespace `{namespace}` and no edmx:Reference includes it"
            ));
        }
        // The closest type name: same namespace preferred, then edit distance (case-insensitive).
        let wanted = simple.to_ascii_lowercase();
        let limit = (simple.len() / 4).clamp(1, 3);
        let best = self
            .declared
            .iter()
            .filter(|(_, (kind, _, _))| {
                matches!(
                    kind,
                    Declared::Entity | Declared::Complex | Declared::Enum | Declared::Definition
                )
            })
            .filter_map(|(name, _)| {
                let (candidate_namespace, candidate) = split_qualified(name);
                let distance = edit_distance(&wanted, &candidate.to_ascii_lowercase(), limit)?;
                Some(((distance, candidate_namespace != namespace, name.as_str()), name))
            })
            .min_by(|a, b| a.0.cmp(&b.0));
        if let Some((_, candidate)) = best {
            hint.push_str(&format!("; did you mean `{candidate}`?"));
        }
        hint
    }

    /// Converts (and moves out) a list of syntax annotations.
    fn annotations(&self, doc: usize, list: &mut Vec<syntax::Annotation>) -> Annotations {
        let mut list = std::mem::take(list);
        for annotation in &mut list {
            self.annotation(doc, annotation);
        }
        Annotations(list)
    }

    /// Qualifies an annotation's term and enum-member values in place (no copy when there is no alias).
    fn annotation(&self, doc: usize, annotation: &mut syntax::Annotation) {
        if let Some(v) = &mut annotation.value {
            qualify_enum_members(v, &|ty: &str| match self.qualify_cow(doc, ty) {
                Cow::Owned(full) => Some(full),
                Cow::Borrowed(_) => None,
            });
        }
        if let Cow::Owned(full) = self.qualify_cow(doc, &annotation.term) {
            annotation.term = Arc::from(full);
        }
        for nested in &mut annotation.annotations {
            self.annotation(doc, nested);
        }
    }

    fn underlying_primitive(
        &mut self,
        doc: usize,
        raw: &str,
        owner: &str,
        span: Span,
        integral: bool,
    ) -> Option<Primitive> {
        let qualified = self.qualify(doc, raw.trim());
        match Primitive::from_edm_name(&qualified) {
            Some(p) if !integral || p.is_integral() => Some(p),
            _ => {
                self.error(
                    doc,
                    ErrorKind::InvalidAttribute {
                        element: owner.to_string(),
                        attribute: "UnderlyingType".into(),
                        value: raw.to_string(),
                        expected: if integral {
                            "Edm.Byte, Edm.SByte, Edm.Int16, Edm.Int32 or Edm.Int64"
                        } else {
                            "a primitive type"
                        },
                    },
                    span,
                );
                None
            }
        }
    }

    fn property(&mut self, doc: usize, owner: &str, property: &mut syntax::Property) -> Option<Property> {
        let type_ref = self.type_ref(
            doc,
            &property.type_name,
            &|| format!("property `{}` of `{owner}`", property.name),
            property.span,
        )?;
        let annotations = self.annotations(doc, &mut property.annotations);
        let computed = annotations.computed();
        let immutable = annotations.immutable();
        let read_only = computed
            || matches!(
                annotations.permissions(),
                Some(Permissions::Read | Permissions::None)
            );
        Some(Property {
            name: std::mem::take(&mut property.name),
            type_ref,
            nullable: property.nullable.unwrap_or(true),
            facets: property.facets,
            default_value: property.default_value.take(),
            annotations,
            computed,
            immutable,
            read_only,
            origin: Origin {
                source_index: doc,
                span: property.span,
            },
        })
    }

    fn navigation(
        &mut self,
        doc: usize,
        owner: &str,
        navigation: &mut syntax::NavigationProperty,
    ) -> Option<NavigationProperty> {
        let context = || format!("navigation property `{}` of `{owner}`", navigation.name);
        let type_ref = self.type_ref(doc, &navigation.type_name, &context, navigation.span)?;
        let target = match type_ref.kind {
            TypeKind::Entity(name) | TypeKind::External(name) => name,
            other => {
                let found = match other {
                    TypeKind::Complex(_) => "complex type",
                    TypeKind::Enum(_) => "enum type",
                    TypeKind::Definition(_) => "type definition",
                    _ => "primitive type",
                };
                self.error(
                    doc,
                    ErrorKind::WrongKind {
                        context: context(),
                        name: navigation.type_name.to_string(),
                        found,
                        expected: "an entity type",
                    },
                    navigation.span,
                );
                return None;
            }
        };
        Some(NavigationProperty {
            name: navigation.name.clone(),
            target,
            collection: type_ref.collection,
            nullable: navigation.nullable.unwrap_or(true),
            partner: navigation.partner.clone(),
            contains_target: navigation.contains_target,
            referential_constraints: navigation
                .referential_constraints
                .iter()
                .map(|c| (c.property.clone(), c.referenced_property.clone()))
                .collect(),
            on_delete: navigation.on_delete.clone(),
            annotations: self.annotations(doc, &mut navigation.annotations),
            origin: Origin {
                source_index: doc,
                span: navigation.span,
            },
        })
    }

    /// Properties and navigation properties of a structured type, with duplicate names reported.
    fn members(
        &mut self,
        doc: usize,
        owner: &str,
        properties: &mut [syntax::Property],
        navigations: &mut [syntax::NavigationProperty],
    ) -> (Vec<Property>, Vec<NavigationProperty>) {
        let mut seen: HashMap<&str, Span> = HashMap::default();
        seen.reserve(properties.len() + navigations.len());
        let mut duplicates = Vec::new();
        let names = properties
            .iter()
            .map(|p| (p.name.as_str(), p.span))
            .chain(navigations.iter().map(|n| (n.name.as_str(), n.span)));
        for (name, span) in names {
            if let Some(first) = seen.get(name) {
                duplicates.push(
                    Error::new(
                        ErrorKind::Duplicate {
                            what: "property",
                            name: format!("{owner}/{name}"),
                        },
                        span,
                    )
                    .in_source(doc)
                    .with_related("first defined here", doc, *first),
                );
            } else {
                seen.insert(name, span);
            }
        }
        drop(seen);
        self.errors.extend(duplicates);
        let mut props = Vec::with_capacity(properties.len());
        for p in properties.iter_mut() {
            if let Some(resolved) = self.property(doc, owner, p) {
                props.push(resolved);
            }
        }
        let mut navs = Vec::with_capacity(navigations.len());
        for n in navigations.iter_mut() {
            if let Some(resolved) = self.navigation(doc, owner, n) {
                navs.push(resolved);
            }
        }
        (props, navs)
    }

    fn base_type(
        &mut self,
        doc: usize,
        owner: &str,
        raw: Option<&str>,
        expected: Declared,
        span: Span,
    ) -> Option<String> {
        let raw = raw?;
        let qualified = self.qualify(doc, raw.trim());
        match self.declared.get(&qualified).map(|d| d.0) {
            Some(kind) if kind == expected => Some(qualified),
            Some(kind) => {
                self.error(
                    doc,
                    ErrorKind::WrongKind {
                        context: format!("base type of `{owner}`"),
                        name: qualified,
                        found: kind.describe(),
                        expected: expected.describe(),
                    },
                    span,
                );
                None
            }
            None => {
                let hint = self.suggest(&qualified, raw);
                self.error(
                    doc,
                    ErrorKind::DanglingType {
                        context: format!("base type of `{owner}`"),
                        name: raw.to_string(),
                        hint,
                    },
                    span,
                );
                None
            }
        }
    }

    fn entity_type(&mut self, doc: usize, ns: &str, entity: &mut syntax::EntityType) -> EntityType {
        let name = format!("{ns}.{}", entity.name);
        let base_type = self.base_type(
            doc,
            &name,
            entity.base_type.as_deref(),
            Declared::Entity,
            entity.span,
        );
        let (properties, navigation_properties) = self.members(
            doc,
            &name,
            &mut entity.properties,
            &mut entity.navigation_properties,
        );
        let key = entity
            .key
            .as_ref()
            .map(|k| {
                k.property_refs
                    .iter()
                    .map(|r| KeyPart {
                        name: r.name.clone(),
                        alias: r.alias.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        EntityType {
            simple_name: entity.name.clone(),
            namespace: ns.to_string(),
            base_type,
            ancestors: Vec::new(),
            is_abstract: entity.is_abstract,
            open_type: entity.open_type,
            has_stream: entity.has_stream,
            key,
            declares_key: entity.key.is_some(),
            properties,
            navigation_properties,
            annotations: self.annotations(doc, &mut entity.annotations),
            alternate_keys: Vec::new(),
            entity_sets: Vec::new(),
            lookups: Vec::new(),
            company_specific: false,
            origin: Origin {
                source_index: doc,
                span: entity.span,
            },
            name,
        }
    }

    fn complex_type(&mut self, doc: usize, ns: &str, complex: &mut syntax::ComplexType) -> ComplexType {
        let name = format!("{ns}.{}", complex.name);
        let base_type = self.base_type(
            doc,
            &name,
            complex.base_type.as_deref(),
            Declared::Complex,
            complex.span,
        );
        let (properties, navigation_properties) = self.members(
            doc,
            &name,
            &mut complex.properties,
            &mut complex.navigation_properties,
        );
        ComplexType {
            simple_name: complex.name.clone(),
            namespace: ns.to_string(),
            base_type,
            ancestors: Vec::new(),
            is_abstract: complex.is_abstract,
            open_type: complex.open_type,
            properties,
            navigation_properties,
            annotations: self.annotations(doc, &mut complex.annotations),
            origin: Origin {
                source_index: doc,
                span: complex.span,
            },
            name,
        }
    }

    fn enum_type(&mut self, doc: usize, ns: &str, enum_type: &mut syntax::EnumType) -> EnumType {
        let name = format!("{ns}.{}", enum_type.name);
        let underlying_type = match &enum_type.underlying_type {
            Some(raw) => self
                .underlying_primitive(doc, raw, &name, enum_type.span, true)
                .unwrap_or(Primitive::Int32),
            None => Primitive::Int32,
        };
        let mut members = Vec::with_capacity(enum_type.members.len());
        let mut seen: HashMap<&str, Span> = HashMap::default();
        let mut next = Some(0i64);
        let (min, max, expected): (i64, i64, &'static str) = match underlying_type {
            Primitive::Byte => (
                0,
                u8::MAX.into(),
                "an integer from 0 to 255 (UnderlyingType Edm.Byte)",
            ),
            Primitive::SByte => (
                i8::MIN.into(),
                i8::MAX.into(),
                "an integer from -128 to 127 (UnderlyingType Edm.SByte)",
            ),
            Primitive::Int16 => (
                i16::MIN.into(),
                i16::MAX.into(),
                "an integer from -32768 to 32767 (UnderlyingType Edm.Int16)",
            ),
            Primitive::Int32 => (
                i32::MIN.into(),
                i32::MAX.into(),
                "an integer from -2147483648 to 2147483647 (UnderlyingType Edm.Int32)",
            ),
            _ => (
                i64::MIN,
                i64::MAX,
                "an integer from -9223372036854775808 to 9223372036854775807 (UnderlyingType Edm.Int64)",
            ),
        };
        for member in &mut enum_type.members {
            if let Some(first) = seen.insert(&member.name, member.span) {
                let err = Error::new(
                    ErrorKind::Duplicate {
                        what: "enum member",
                        name: format!("{name}/{}", member.name),
                    },
                    member.span,
                )
                .in_source(doc)
                .with_related("first defined here", doc, first);
                self.errors.push(err);
            }
            let value = match member.value.or(next) {
                Some(value) if (min..=max).contains(&value) => value,
                out_of_range => {
                    let shown = match (member.value, out_of_range) {
                        (Some(v), _) => v.to_string(),
                        (None, Some(v)) => format!("{v} (implied: the previous member's value + 1)"),
                        (None, None) => {
                            "9223372036854775808 (implied: the previous member's value + 1)".into()
                        }
                    };
                    self.errors.push(
                        Error::new(
                            ErrorKind::InvalidAttribute {
                                element: format!("Member Name=\"{}\" of {name}", member.name),
                                attribute: "Value".into(),
                                value: shown,
                                expected,
                            },
                            member.span,
                        )
                        .in_source(doc),
                    );
                    out_of_range.unwrap_or(i64::MAX)
                }
            };
            next = value.checked_add(1);
            members.push(EnumMember {
                name: member.name.clone(),
                value,
                annotations: self.annotations(doc, &mut member.annotations),
                origin: Origin {
                    source_index: doc,
                    span: member.span,
                },
            });
        }
        EnumType {
            simple_name: enum_type.name.clone(),
            namespace: ns.to_string(),
            underlying_type,
            is_flags: enum_type.is_flags,
            members,
            annotations: self.annotations(doc, &mut enum_type.annotations),
            origin: Origin {
                source_index: doc,
                span: enum_type.span,
            },
            name,
        }
    }

    fn operation(&mut self, doc: usize, ns: &str, operation: &mut syntax::Operation) -> Operation {
        let name = format!("{ns}.{}", operation.name);
        let mut parameters = Vec::with_capacity(operation.parameters.len());
        for parameter in &mut operation.parameters {
            let type_ref = self.type_ref(
                doc,
                &parameter.type_name,
                &|| format!("parameter `{}` of `{name}`", parameter.name),
                parameter.span,
            );
            if let Some(type_ref) = type_ref {
                parameters.push(Parameter {
                    name: parameter.name.clone(),
                    type_ref,
                    nullable: parameter.nullable.unwrap_or(true),
                    facets: parameter.facets,
                    annotations: self.annotations(doc, &mut parameter.annotations),
                });
            }
        }
        let return_type = operation.return_type.as_ref().and_then(|r| {
            let type_ref =
                self.type_ref(doc, &r.type_name, &|| format!("return type of `{name}`"), r.span)?;
            Some(ReturnType {
                type_ref,
                nullable: r.nullable.unwrap_or(true),
                facets: r.facets,
            })
        });
        Operation {
            name: name.clone(),
            kind: operation.kind,
            is_bound: operation.is_bound,
            is_composable: operation.is_composable,
            entity_set_path: operation.entity_set_path.clone(),
            parameters,
            return_type,
            annotations: self.annotations(doc, &mut operation.annotations),
            origin: Origin {
                source_index: doc,
                span: operation.span,
            },
        }
    }
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

/// Levenshtein distance between `a` and `b` when it is at most `limit` (for "did you mean" hints only).
fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|&m| m > limit) {
            return None;
        }
        previous = current;
    }
    previous.last().copied().filter(|&d| d <= limit)
}

/// Bindings moved out of the syntax, their targets resolved later (see [`Resolver::bindings`]).
fn unresolved_bindings(list: &mut Vec<syntax::NavigationPropertyBinding>) -> Vec<Binding> {
    std::mem::take(list)
        .into_iter()
        .map(|b| Binding {
            path: b.path,
            target: b.target,
            resolved_target: None,
        })
        .collect()
}

/// Whether `entity` declares or inherits a property named `name` (a linear scan: types are small and
/// this runs a few times per type, cheaper than building a set).
fn has_property(model: &Model, entity: &EntityType, name: &str) -> bool {
    entity.properties.iter().any(|p| p.name == name)
        || entity.ancestors.iter().any(|a| {
            model
                .entity_types
                .get(a)
                .is_some_and(|base| base.properties.iter().any(|p| p.name == name))
        })
}

/// Whether `entity` declares or inherits a navigation property named `name`.
fn has_navigation(model: &Model, entity: &EntityType, name: &str) -> bool {
    entity.navigation_properties.iter().any(|n| n.name == name)
        || entity.ancestors.iter().any(|a| {
            model
                .entity_types
                .get(a)
                .is_some_and(|base| base.navigation_properties.iter().any(|n| n.name == name))
        })
}

fn is_lookup_column(name: &str) -> bool {
    name.len() > "__value".len() && name.starts_with('_') && name.ends_with("_value")
}

/// Reads `OData.Community.Keys.V1.AlternateKeys` and `Core.AlternateKeys`.
fn alternate_keys(annotations: &Annotations) -> Vec<AlternateKey> {
    let mut keys = Vec::new();
    for annotation in annotations.iter() {
        if &*annotation.term != terms::KEYS_ALTERNATE_KEYS && &*annotation.term != terms::CORE_ALTERNATE_KEYS
        {
            continue;
        }
        let Some(Expression::Collection(items)) = &annotation.value else {
            continue;
        };
        for item in items {
            let Expression::Record(record) = item else {
                continue;
            };
            let Some(Some(Expression::Collection(parts))) = record
                .properties
                .iter()
                .find(|p| p.property == "Key")
                .map(|p| &p.value)
            else {
                continue;
            };
            let mut key = AlternateKey { parts: Vec::new() };
            for part in parts {
                let Expression::Record(part) = part else {
                    continue;
                };
                let field = |name: &str| {
                    part.properties
                        .iter()
                        .find(|p| p.property == name)
                        .and_then(|p| p.value.as_ref())
                        .and_then(Expression::as_text)
                        .map(str::to_string)
                };
                if let Some(name) = field("Name") {
                    key.parts.push(KeyPart {
                        name,
                        alias: field("Alias"),
                    });
                }
            }
            if !key.parts.is_empty() {
                keys.push(key);
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_is_bounded() {
        assert_eq!(edit_distance("acount", "account", 2), Some(1));
        assert_eq!(edit_distance("kinds", "kinds", 1), Some(0));
        assert_eq!(edit_distance("customer", "vendor", 2), None);
        assert_eq!(edit_distance("a", "abcdef", 2), None);
    }
}
