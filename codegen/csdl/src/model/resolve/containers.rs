//! Pass 4: entity containers (sets, singletons, imports) and navigation property bindings.

use std::collections::BTreeMap;

use super::{Declared, Resolver, split_qualified};
use crate::error::{Error, ErrorKind};
use crate::hash::FastMap as HashMap;
use crate::model::*;
use crate::span::Span;
use crate::syntax;

impl Resolver {
    pub(super) fn container(&mut self, doc: usize, ns: &str, container: &mut syntax::EntityContainer) {
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

    pub(super) fn entity_type_ref(
        &mut self,
        doc: usize,
        raw: &str,
        context: &str,
        span: Span,
    ) -> Option<String> {
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

    pub(super) fn check_operation(
        &mut self,
        doc: usize,
        name: &str,
        expected: Declared,
        context: &str,
        span: Span,
    ) {
        match self.declared.get(name).map(|d| d.0) {
            Some(kind) if kind.has(expected) => {}
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
    pub(super) fn bindings(&mut self) {
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
    pub(super) fn is_external_path(&self, doc: usize, path: &str) -> bool {
        let head = path.split('/').next().unwrap_or(path);
        let qualified = self.qualify(doc, head);
        let (namespace, _) = split_qualified(&qualified);
        self.model.external_namespaces.contains(namespace)
    }

    pub(super) fn binding_target(&self, doc: usize, container: &str, target: &str) -> Option<String> {
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
}

/// Bindings moved out of the syntax, their targets resolved later (see [`Resolver::bindings`]).
pub(super) fn unresolved_bindings(list: &mut Vec<syntax::NavigationPropertyBinding>) -> Vec<Binding> {
    std::mem::take(list)
        .into_iter()
        .map(|b| Binding {
            path: b.path,
            target: b.target,
            resolved_target: None,
        })
        .collect()
}
