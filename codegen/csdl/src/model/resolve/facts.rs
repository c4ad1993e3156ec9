//! Pass 6: facts derived per entity type once everything is resolved: alternate keys, partner checks,
//! Dataverse lookups (`_x_value` columns and their navigation properties) and F&O company-specific keys.

use std::collections::BTreeMap;

use super::Resolver;
use crate::model::*;
use crate::span::Span;
use crate::syntax::Expression;
use crate::threads;

impl Resolver {
    /// Alternate keys, lookups and company-specific keys.
    pub(super) fn derived_facts(&mut self) {
        let model = &self.model;
        let entities: Vec<&EntityType> = model.entity_types.values().collect();
        let derive_all = |part: &[&EntityType]| part.iter().map(|e| derive(model, e)).collect::<Vec<_>>();
        // Read-only work per type: on two threads for big models.
        let parallel = entities.len() >= 512;
        let (first, second) = entities.split_at(if parallel {
            entities.len() / 2
        } else {
            entities.len()
        });
        let (mut derived, rest) = threads::join(parallel, || derive_all(first), || derive_all(second));
        derived.extend(rest);
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
pub(super) struct Derived {
    alternate_keys: Vec<AlternateKey>,
    lookups: Vec<Lookup>,
    company_specific: bool,
    warnings: Vec<(usize, String, Span)>,
}

pub(super) fn derive(model: &Model, entity: &EntityType) -> Derived {
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
pub(super) fn lookups(model: &Model, entity: &EntityType) -> Vec<Lookup> {
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

/// Whether `entity` declares or inherits a property named `name` (a linear scan: types are small and
/// this runs a few times per type, cheaper than building a set).
pub(super) fn has_property(model: &Model, entity: &EntityType, name: &str) -> bool {
    entity.properties.iter().any(|p| p.name == name)
        || entity.ancestors.iter().any(|a| {
            model
                .entity_types
                .get(a)
                .is_some_and(|base| base.properties.iter().any(|p| p.name == name))
        })
}

/// Whether `entity` declares or inherits a navigation property named `name`.
pub(super) fn has_navigation(model: &Model, entity: &EntityType, name: &str) -> bool {
    entity.navigation_properties.iter().any(|n| n.name == name)
        || entity.ancestors.iter().any(|a| {
            model
                .entity_types
                .get(a)
                .is_some_and(|base| base.navigation_properties.iter().any(|n| n.name == name))
        })
}

pub(super) fn is_lookup_column(name: &str) -> bool {
    name.len() > "__value".len() && name.starts_with('_') && name.ends_with("_value")
}

/// Reads `OData.Community.Keys.V1.AlternateKeys` and `Core.AlternateKeys`.
pub(super) fn alternate_keys(annotations: &Annotations) -> Vec<AlternateKey> {
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
