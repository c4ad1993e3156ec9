//! Pass 3: inheritance. Ancestors, inherited keys and open types; cyclic chains and keys naming
//! missing properties are errors.

use super::Resolver;
use crate::error::{Error, ErrorKind};
use crate::hash::FastMap as HashMap;
use crate::model::*;

impl Resolver {
    /// Ancestors, inherited keys and open types; cyclic chains and keys naming missing properties are errors.
    pub(super) fn inheritance(&mut self) {
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
}
