//! Pass 1: every document's aliases, references and declared names. Overloads of an action or a
//! function share a name, and so may an action and a function (Microsoft Graph has both a `delta`
//! action and a `delta` function); any other repeated name is an error.

use std::collections::BTreeSet;

use super::{Declared, Resolver};
use crate::error::{Error, ErrorKind};
use crate::hash::FastMap as HashMap;
use crate::model::DocumentInfo;
use crate::syntax::Document;

impl Resolver {
    pub(super) fn declare(&mut self, documents: &[Document]) {
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
                    match self.declared.get_mut(&qualified) {
                        // Overloads of one action or function share a name, and an action and a
                        // function may too: requests tell them apart (POST vs GET).
                        Some((existing, first_doc, first_span)) => match existing.with(kind) {
                            Some(merged) => *existing = merged,
                            None => found.push(
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
                            ),
                        },
                        None => {
                            self.declared.insert(qualified, (kind, index, span));
                        }
                    }
                }
                self.errors.extend(found);
            }
        }
    }
}
