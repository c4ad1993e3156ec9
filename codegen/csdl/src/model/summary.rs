//! Counts and size rankings for `inspect`.

use super::Model;

/// Element counts over all schemas of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub schemas: usize,
    pub entity_types: usize,
    pub complex_types: usize,
    pub enum_types: usize,
    pub type_definitions: usize,
    pub terms: usize,
    pub entity_containers: usize,
    pub entity_sets: usize,
    pub singletons: usize,
    /// `Action` elements, each overload counted.
    pub actions: usize,
    /// `Function` elements, each overload counted.
    pub functions: usize,
    pub action_imports: usize,
    pub function_imports: usize,
    /// `Property` elements of entity and complex types.
    pub properties: usize,
    /// `NavigationProperty` elements of entity and complex types.
    pub navigation_properties: usize,
    pub navigation_property_bindings: usize,
    /// Entity types whose key is led by `dataAreaId` (F&O).
    pub company_specific_entity_types: usize,
    pub abstract_entity_types: usize,
    pub keyless_entity_types: usize,
    pub alternate_keys: usize,
    /// Dataverse lookups (`_x_value` columns with their navigation properties).
    pub lookups: usize,
    pub read_only_properties: usize,
    pub option_set_columns: usize,
    pub warnings: usize,
}

/// A structured type and its size, for the "largest types" list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSize {
    pub name: String,
    pub properties: usize,
    pub navigation_properties: usize,
}

impl Counts {
    /// Every count with its field name, in declaration order (what `inspect --json` prints).
    pub fn fields(&self) -> [(&'static str, usize); 24] {
        [
            ("schemas", self.schemas),
            ("entity_types", self.entity_types),
            ("complex_types", self.complex_types),
            ("enum_types", self.enum_types),
            ("type_definitions", self.type_definitions),
            ("terms", self.terms),
            ("entity_containers", self.entity_containers),
            ("entity_sets", self.entity_sets),
            ("singletons", self.singletons),
            ("actions", self.actions),
            ("functions", self.functions),
            ("action_imports", self.action_imports),
            ("function_imports", self.function_imports),
            ("properties", self.properties),
            ("navigation_properties", self.navigation_properties),
            ("navigation_property_bindings", self.navigation_property_bindings),
            (
                "company_specific_entity_types",
                self.company_specific_entity_types,
            ),
            ("abstract_entity_types", self.abstract_entity_types),
            ("keyless_entity_types", self.keyless_entity_types),
            ("alternate_keys", self.alternate_keys),
            ("lookups", self.lookups),
            ("read_only_properties", self.read_only_properties),
            ("option_set_columns", self.option_set_columns),
            ("warnings", self.warnings),
        ]
    }
}

pub(super) fn counts(model: &Model) -> Counts {
    let mut c = Counts {
        schemas: model.schemas.len(),
        entity_types: model.entity_types.len(),
        complex_types: model.complex_types.len(),
        enum_types: model.enum_types.len(),
        type_definitions: model.type_definitions.len(),
        terms: model.terms.len(),
        entity_containers: model.containers.len(),
        actions: model.actions.values().map(Vec::len).sum(),
        functions: model.functions.values().map(Vec::len).sum(),
        option_set_columns: model.option_sets.values().map(|t| t.columns.len()).sum(),
        warnings: model.warnings.len(),
        ..Counts::default()
    };
    for entity in model.entity_types.values() {
        c.properties += entity.properties.len();
        c.navigation_properties += entity.navigation_properties.len();
        c.company_specific_entity_types += usize::from(entity.company_specific);
        c.abstract_entity_types += usize::from(entity.is_abstract);
        c.keyless_entity_types += usize::from(entity.key.is_empty());
        c.alternate_keys += entity.alternate_keys.len();
        c.lookups += entity.lookups.len();
        c.read_only_properties += entity.properties.iter().filter(|p| p.read_only).count();
    }
    for complex in model.complex_types.values() {
        c.properties += complex.properties.len();
        c.navigation_properties += complex.navigation_properties.len();
    }
    for container in model.containers.values() {
        c.entity_sets += container.entity_sets.len();
        c.singletons += container.singletons.len();
        c.action_imports += container.action_imports.len();
        c.function_imports += container.function_imports.len();
        c.navigation_property_bindings += container
            .entity_sets
            .values()
            .map(|s| s.bindings.len())
            .sum::<usize>()
            + container
                .singletons
                .values()
                .map(|s| s.bindings.len())
                .sum::<usize>();
    }
    c
}

impl Model {
    /// The `n` structured types with the most properties (inherited included), largest first; ties by name.
    pub fn largest_types(&self, n: usize) -> Vec<TypeSize> {
        let mut sizes: Vec<TypeSize> = self
            .entity_types
            .values()
            .map(|e| TypeSize {
                name: e.name.clone(),
                properties: self.all_properties(e).len(),
                navigation_properties: self.all_navigation_properties(e).len(),
            })
            .chain(self.complex_types.values().map(|c| TypeSize {
                name: c.name.clone(),
                properties: self.all_complex_properties(c).len(),
                navigation_properties: c.navigation_properties.len(),
            }))
            .collect();
        sizes.sort_by(|a, b| b.properties.cmp(&a.properties).then_with(|| a.name.cmp(&b.name)));
        sizes.truncate(n);
        sizes
    }
}
