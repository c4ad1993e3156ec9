//! Attaching Dataverse option sets to the model, checked against the tables and columns of `$metadata`.

use crate::error::Warning;
pub use crate::optionsets::{
    AttributeFacts, OptionSet, OptionSetKind, OptionValue, RequiredLevel, TableOptionSets,
};
use crate::span::Span;

use super::{Model, Primitive, TypeKind};

impl Model {
    /// Adds option sets read by [`crate::optionsets::parse_option_sets`]. A table or column that the
    /// metadata does not have, or a column that is not an integer (a multi-select choice is a string),
    /// gives a warning; the option set is kept either way. `source_index` names the JSON file in warnings.
    pub fn attach_option_sets(&mut self, tables: TableOptionSets, source_index: usize) {
        let entity = self
            .entity_types
            .values()
            .find(|e| e.simple_name == tables.table && e.namespace == "Microsoft.Dynamics.CRM")
            .or_else(|| self.entity_types.values().find(|e| e.simple_name == tables.table));
        let mut warnings = Vec::new();
        match entity {
            None => warnings.push(format!(
                "option sets for table `{}`, which the metadata does not define",
                tables.table
            )),
            Some(entity) => {
                let properties = self.all_properties(entity);
                for (column, set) in &tables.columns {
                    match properties.iter().find(|p| &p.name == column) {
                        None => warnings.push(format!(
                            "option set for column `{column}` of `{}`, which the metadata does not have",
                            tables.table
                        )),
                        Some(property) => {
                            let expected: &[Primitive] = match set.kind {
                                OptionSetKind::Boolean => &[Primitive::Boolean],
                                OptionSetKind::MultiSelectPicklist => &[Primitive::String],
                                OptionSetKind::EntityName => &[Primitive::String],
                                _ => &[Primitive::Int32, Primitive::Int16, Primitive::Int64],
                            };
                            let fits = matches!(&property.type_ref.kind, TypeKind::Primitive(p) if expected.contains(p));
                            if !fits {
                                warnings.push(format!(
                                    "column `{column}` of `{}` is {} in the metadata, unexpected for a {} option set",
                                    tables.table,
                                    property.type_ref,
                                    set.kind.name()
                                ));
                            }
                        }
                    }
                }
            }
        }
        for message in warnings {
            self.warnings.push(Warning {
                message,
                source_index,
                span: Span::default(),
            });
        }
        let entry = self
            .option_sets
            .entry(tables.table.clone())
            .or_insert_with(|| TableOptionSets {
                table: tables.table.clone(),
                ..TableOptionSets::default()
            });
        for (column, set) in tables.columns {
            entry.columns.entry(column).or_insert(set);
        }
        if entry.schema_name.is_none() {
            entry.schema_name = tables.schema_name;
        }
        for (column, facts) in tables.attributes {
            entry.attributes.entry(column).or_insert(facts);
        }
    }

    /// What entity metadata says of a Dataverse column (by logical name; a lookup's `_x_value`
    /// column is its attribute `x`), if it was attached.
    pub fn attribute_facts(&self, table: &str, column: &str) -> Option<&AttributeFacts> {
        let attributes = &self.option_sets.get(table)?.attributes;
        attributes.get(column).or_else(|| {
            let logical = column.strip_prefix('_')?.strip_suffix("_value")?;
            attributes.get(logical)
        })
    }

    /// The option set of a Dataverse column, if one was attached.
    pub fn option_set(&self, table: &str, column: &str) -> Option<&OptionSet> {
        self.option_sets.get(table)?.columns.get(column)
    }
}
