//! Every Rust name the generator writes comes from here: casing, keywords, leading digits, renames,
//! and collision checks. A collision is an error that names both sources and the `[codegen.rename]`
//! key that resolves it; names are never made unique by silent counters.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Words Rust reserves (strict and reserved, 2024 edition, plus `gen`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop",
    "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "try", "type", "typeof", "union", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield",
];

/// Type names generated code uses unqualified, or that would confuse readers when shadowed.
const RESERVED_TYPES: &[&str] = &[
    "Self", "Option", "Result", "String", "Vec", "Box", "Some", "None", "Ok", "Err",
];

/// Splits on anything that is not an ASCII letter or digit, so the case conversions see clean words.
fn words(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect()
}

/// A snake_case identifier (fields, modules), keyword- and digit-safe.
pub fn snake(name: &str) -> String {
    let mut s = words(name).to_snake_case();
    if s.is_empty() {
        s = "field".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// A PascalCase identifier (types, variants), keyword- and digit-safe.
pub fn pascal(name: &str) -> String {
    let mut s = words(name).to_upper_camel_case();
    if s.is_empty() {
        s = "Unnamed".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'N');
    }
    if KEYWORDS.contains(&s.as_str()) || RESERVED_TYPES.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// A collision between two generated names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what} `{rust}` would be generated for both `{first}` and `{second}`; give one of them another name in dualsync.toml:\n[codegen.rename]\n\"{key}\" = \"{suggestion}\""
)]
pub struct Collision {
    pub what: &'static str,
    pub rust: String,
    pub first: String,
    pub second: String,
    /// The `[codegen.rename]` key that renames `second`.
    pub key: String,
    pub suggestion: String,
}

/// Hands out names within one scope (a module's types, a struct's fields, an enum's variants), applying
/// renames and detecting collisions, including ones that differ only by case (file names on
/// case-insensitive file systems).
pub struct Scope<'r> {
    what: &'static str,
    renames: &'r BTreeMap<String, String>,
    taken: BTreeMap<String, (String, String)>,
}

impl<'r> Scope<'r> {
    /// A scope for `what` (e.g. "type", "field") using `renames` (from `[codegen.rename]`).
    pub fn new(what: &'static str, renames: &'r BTreeMap<String, String>) -> Self {
        Scope {
            what,
            renames,
            taken: BTreeMap::new(),
        }
    }

    /// Reserves a name the generator itself uses in this scope.
    pub fn reserve(&mut self, rust: &str, source: &str) {
        self.taken
            .insert(rust.to_ascii_lowercase(), (rust.to_string(), source.to_string()));
    }

    /// The Rust name for `source` (a wire or qualified name, for messages), found under `key` in the
    /// renames, otherwise made by `convert` from `wire`.
    pub fn name(
        &mut self,
        key: &str,
        source: &str,
        wire: &str,
        convert: fn(&str) -> String,
    ) -> Result<String, Box<Collision>> {
        let rust = match self.renames.get(key) {
            Some(renamed) => convert(renamed),
            None => convert(wire),
        };
        let folded = rust.to_ascii_lowercase();
        if let Some((existing, first)) = self.taken.get(&folded) {
            return Err(Box::new(Collision {
                what: self.what,
                rust: if existing == &rust {
                    rust.clone()
                } else {
                    format!("{existing}` / `{rust}")
                },
                first: first.clone(),
                second: source.to_string(),
                key: key.to_string(),
                suggestion: format!("{rust}2"),
            }));
        }
        self.taken.insert(folded, (rust.clone(), source.to_string()));
        Ok(rust)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casing_keywords_and_digits() {
        assert_eq!(snake("CustomerAccount"), "customer_account");
        assert_eq!(snake("dataAreaId"), "data_area_id");
        assert_eq!(snake("_parentcustomerid_value"), "parentcustomerid_value");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("gen"), "gen_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("Self"), "self_");
        assert_eq!(snake("crate"), "crate_");
        assert_eq!(snake("super"), "super_");
        assert_eq!(snake("1stLine"), "_1st_line");
        assert_eq!(snake("Address/City"), "address_city");
        assert_eq!(pascal("account"), "Account");
        assert_eq!(pascal("msdyn_customergroup"), "MsdynCustomergroup");
        assert_eq!(pascal("NoYes"), "NoYes");
        assert_eq!(pascal("Self"), "Self_");
        assert_eq!(pascal("option"), "Option_");
        assert_eq!(pascal("3DModel"), "N3dModel");
        assert_eq!(pascal(""), "Unnamed");
    }

    #[test]
    fn collisions_name_both_sources_and_the_fix() {
        let renames = BTreeMap::new();
        let mut scope = Scope::new("field", &renames);
        scope.name("NS.T/FooBar", "FooBar", "FooBar", snake).unwrap();
        let error = scope
            .name("NS.T/foo_bar", "foo_bar", "foo_bar", snake)
            .unwrap_err();
        assert_eq!(error.rust, "foo_bar");
        let message = error.to_string();
        assert!(message.contains("`FooBar` and `foo_bar`"), "{message}");
        assert!(message.contains("\"NS.T/foo_bar\" = \"foo_bar2\""), "{message}");
    }

    #[test]
    fn names_differing_only_by_case_collide() {
        let renames = BTreeMap::new();
        let mut scope = Scope::new("type", &renames);
        scope.name("NS.Status", "NS.Status", "Status", pascal).unwrap();
        let error = scope
            .name("NS.STATUS", "NS.STATUS", "STATUS", pascal)
            .unwrap_err();
        assert!(error.to_string().contains("NS.Status"), "{error}");
    }

    #[test]
    fn renames_resolve_collisions() {
        let renames = BTreeMap::from([("NS.T/foo_bar".to_string(), "foo_bar_raw".to_string())]);
        let mut scope = Scope::new("field", &renames);
        assert_eq!(
            scope.name("NS.T/FooBar", "FooBar", "FooBar", snake).unwrap(),
            "foo_bar"
        );
        assert_eq!(
            scope.name("NS.T/foo_bar", "foo_bar", "foo_bar", snake).unwrap(),
            "foo_bar_raw"
        );
    }
}
