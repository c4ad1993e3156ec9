//! Which types to generate: entity types picked by include/exclude globs over their names and entity
//! sets, plus every complex and enum type they use. A navigation property never pulls its target in:
//! the generator emits the foreign key (or Dataverse lookup id) instead.

use std::collections::BTreeSet;

use crate::model::{Model, TypeKind, TypeRef};

/// A shell-style pattern: `*` any run of characters, `?` one character, everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// What to generate, by qualified name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub entity_types: BTreeSet<String>,
    pub complex_types: BTreeSet<String>,
    pub enum_types: BTreeSet<String>,
}

/// Selects entity types whose qualified name, simple name or an entity set name matches an include
/// pattern (every entity type when there is none) and no exclude pattern; then the complex and enum
/// types their properties use, transitively.
pub fn select(model: &Model, include: &[String], exclude: &[String]) -> Selection {
    let matches =
        |patterns: &[String], names: &[&str]| patterns.iter().any(|p| names.iter().any(|n| glob_match(p, n)));
    let mut selection = Selection::default();
    for entity in model.entity_types.values() {
        let mut names = vec![entity.name.as_str(), entity.simple_name.as_str()];
        names.extend(entity.entity_sets.iter().map(String::as_str));
        let included = include.is_empty() || matches(include, &names);
        if included && !matches(exclude, &names) {
            selection.entity_types.insert(entity.name.clone());
        }
    }
    let mut pending: Vec<&TypeRef> = Vec::new();
    for name in &selection.entity_types {
        if let Some(entity) = model.entity_types.get(name) {
            pending.extend(model.all_properties(entity).into_iter().map(|p| &p.type_ref));
        }
    }
    while let Some(type_ref) = pending.pop() {
        match &type_ref.kind {
            TypeKind::Complex(name) => {
                if selection.complex_types.insert(name.clone())
                    && let Some(complex) = model.complex_types.get(name)
                {
                    pending.extend(
                        model
                            .all_complex_properties(complex)
                            .into_iter()
                            .map(|p| &p.type_ref),
                    );
                }
            }
            TypeKind::Enum(name) => {
                selection.enum_types.insert(name.clone());
            }
            _ => {}
        }
    }
    selection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("Customer*", "CustomersV3"));
        assert!(glob_match("*V?", "CustomersV3"));
        assert!(!glob_match("Customer", "CustomersV3"));
        assert!(glob_match("msdyn_*group", "msdyn_customergroup"));
        assert!(!glob_match("a*b", "acd"));
        assert!(glob_match("", ""));
    }
}
