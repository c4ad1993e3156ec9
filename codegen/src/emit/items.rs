//! Rust items for one type: model -> `quote!` tokens. Paths are absolute (`::core`, `::std`,
//! `::dualsync`) or relative to the service module (`super::`), so user types named `Option` or
//! `Vec` cannot break generated code.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::csdl::syntax::{MaxLength, Scale};
use crate::model::{ComplexType, EntityType, EnumType, OptionSet, Primitive, Property, TypeKind, TypeRef};

use super::Plan;
use super::text::{doc_lines, doc_safe};

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// Doc attributes, one per line; text from the metadata (names too) made safe for rustc and rustdoc.
fn docs(lines: &[String]) -> TokenStream {
    let lines = lines.iter().map(|l| format!(" {}", doc_safe(l)));
    quote! { #( #[doc = #lines] )* }
}

/// The Rust type of one value of `type_ref` (without `Option`), seen from service module `from`.
fn element_type(plan: &Plan, from: &str, type_ref: &TypeRef, option_set: Option<&str>) -> TokenStream {
    if let Some(enum_name) = option_set {
        // An enum of this file, or a global option set's in the service's enums module
        // (`super::enums::Name`).
        let segments = enum_name.split("::").map(ident);
        return quote! { #(#segments)::* };
    }
    match &type_ref.kind {
        TypeKind::Primitive(p) => primitive(*p),
        // A structural property of an entity type (CSDL allows only navigation properties to point
        // at entities): entities have no value JSON form, so it stays raw JSON.
        TypeKind::Entity(_) => quote! { ::dualsync::edm::Json },
        TypeKind::Complex(name) | TypeKind::Enum(name) | TypeKind::Definition(name) => {
            match plan.path_to(from, name) {
                Some(path) => path,
                // A type outside the selection (a definition, or an entity used as a property type):
                // its underlying value, kept as JSON when it is structured.
                None => match plan.definition_primitive(name) {
                    Some(p) => primitive(p),
                    None => quote! { ::dualsync::edm::Json },
                },
            }
        }
        TypeKind::External(_) => quote! { ::dualsync::edm::Json },
    }
}

fn primitive(p: Primitive) -> TokenStream {
    match p {
        Primitive::String => quote! { ::std::string::String },
        Primitive::Boolean => quote! { bool },
        Primitive::Byte => quote! { u8 },
        Primitive::SByte => quote! { i8 },
        Primitive::Int16 => quote! { i16 },
        Primitive::Int32 => quote! { i32 },
        Primitive::Int64 => quote! { i64 },
        Primitive::Single => quote! { f32 },
        Primitive::Double => quote! { f64 },
        Primitive::Decimal => quote! { ::dualsync::edm::Decimal },
        Primitive::Date => quote! { ::dualsync::edm::Date },
        Primitive::DateTimeOffset => quote! { ::dualsync::edm::DateTimeOffset },
        Primitive::TimeOfDay => quote! { ::dualsync::edm::TimeOfDay },
        Primitive::Duration => quote! { ::dualsync::edm::Duration },
        Primitive::Guid => quote! { ::dualsync::edm::Guid },
        Primitive::Binary | Primitive::Stream => quote! { ::dualsync::edm::Binary },
        _ => quote! { ::dualsync::edm::Json },
    }
}

/// `#[field(...)]` arguments shared by entity and complex fields.
fn field_args(property: &Property, edm: &str) -> Vec<TokenStream> {
    let name = &property.name;
    let mut args = vec![quote! { name = #name }, quote! { edm = #edm }];
    if !property.nullable {
        args.push(quote! { not_null });
    }
    match property.facets.max_length {
        Some(MaxLength::Length(n)) => {
            let n = Literal::u64_unsuffixed(n);
            args.push(quote! { max_length = #n });
        }
        Some(MaxLength::Max) => args.push(quote! { max_length = "max" }),
        None => {}
    }
    if let Some(p) = property.facets.precision {
        let p = Literal::u32_unsuffixed(p);
        args.push(quote! { precision = #p });
    }
    match property.facets.scale {
        Some(Scale::Fixed(s)) => {
            let s = Literal::u32_unsuffixed(s);
            args.push(quote! { scale = #s });
        }
        Some(Scale::Variable) => args.push(quote! { scale = "variable" }),
        Some(Scale::Floating) => args.push(quote! { scale = "floating" }),
        None => {}
    }
    if property.read_only {
        args.push(quote! { read_only });
    }
    if property.computed {
        args.push(quote! { computed });
    }
    if property.immutable {
        args.push(quote! { immutable });
    }
    if let Some(default) = &property.default_value {
        args.push(quote! { default_value = #default });
    }
    args
}

/// `#[field(...)]` arguments from Dataverse entity metadata: what `$metadata` does not say.
fn fact_args(property: &Property, facts: &crate::model::AttributeFacts, args: &mut Vec<TokenStream>) {
    if let Some(level) = facts.required
        && level != crate::model::RequiredLevel::None
    {
        let level = level.name();
        args.push(quote! { required = #level });
    }
    // A column the service sets itself (`createdon`, `versionnumber`) is read-only even when
    // `$metadata` does not say so.
    if facts.valid_for_create == Some(false) && !property.read_only {
        args.push(quote! { valid_for_create = false });
    }
    if facts.valid_for_update == Some(false) && !property.read_only {
        args.push(quote! { valid_for_update = false });
    }
    if property.facets.max_length.is_none()
        && let Some(n) = facts.max_length
        && matches!(property.type_ref.kind, TypeKind::Primitive(Primitive::String))
    {
        let n = Literal::u32_unsuffixed(n);
        args.push(quote! { max_length = #n });
    }
    if property.facets.precision.is_none()
        && let Some(p) = facts.precision
        && matches!(
            property.type_ref.kind,
            TypeKind::Primitive(Primitive::Decimal | Primitive::Double)
        )
    {
        let p = Literal::u32_unsuffixed(p);
        args.push(quote! { precision = #p });
    }
}

/// One field: docs, `#[field(...)]`, name and type.
pub struct Field {
    pub rust_name: String,
    /// The value is boxed: its complex type contains the struct holding the field.
    pub boxed: bool,
    pub property: Property,
    pub key: bool,
    pub option_set: Option<(String, String)>,
    pub lookup: Vec<(String, String, Option<String>)>,
    /// What Dataverse's entity metadata says of the column, when it was given.
    pub facts: Option<crate::model::AttributeFacts>,
}

fn field_tokens(plan: &Plan, from: &str, field: &Field) -> TokenStream {
    let property = &field.property;
    let edm = property.type_ref.to_string();
    let mut args = field_args(property, &edm);
    if field.key {
        args.push(quote! { key });
    }
    if let Some((name, _)) = &field.option_set {
        args.push(quote! { option_set = #name });
    }
    for (navigation, target, set) in &field.lookup {
        let set = set.clone().unwrap_or_default();
        args.push(quote! { lookup(nav = #navigation, target = #target, set = #set) });
    }
    if let Some(facts) = &field.facts {
        fact_args(property, facts, &mut args);
    }
    let element = element_type(
        plan,
        from,
        &property.type_ref,
        field.option_set.as_ref().map(|(_, e)| e.as_str()),
    );
    let ty = if property.type_ref.collection {
        quote! { ::std::vec::Vec<#element> }
    } else if field.boxed {
        quote! { ::std::boxed::Box<#element> }
    } else {
        element
    };
    let ty = if property.nullable && !field.key {
        quote! { ::core::option::Option<#ty> }
    } else {
        ty
    };
    let mut lines = doc_lines(property.annotations.description());
    if lines.is_empty() {
        lines.push(format!("`{}` ({edm}).", property.name));
    }
    if let Some(label) = property.annotations.label_id() {
        lines.push(String::new());
        lines.push(format!("Label `{label}`."));
    }
    let doc = docs(&lines);
    let name = ident(&field.rust_name);
    quote! {
        #doc
        #[field(#(#args),*)]
        pub #name: #ty,
    }
}

/// The field that keeps the undeclared properties of an open type.
fn additional_properties(name: &str) -> TokenStream {
    let name = ident(name);
    quote! {
        /// Properties the metadata does not declare (the type is open), as sent.
        #[field(additional)]
        pub #name: ::std::collections::BTreeMap<::std::string::String, ::dualsync::edm::Json>,
    }
}

/// An entity type's struct.
pub fn entity(
    plan: &Plan,
    service: &str,
    rust_name: &str,
    entity: &EntityType,
    fields: &[Field],
    open_field: Option<&str>,
) -> TokenStream {
    let type_name = &entity.name;
    let mut args = vec![quote! { type_name = #type_name }];
    if let Some(set) = entity.entity_sets.first() {
        args.push(quote! { set = #set });
    }
    let key: Vec<&str> = entity.key.iter().map(|k| k.name.as_str()).collect();
    args.push(quote! { key(#(#key),*) });
    for alternate in &entity.alternate_keys {
        let parts: Vec<&str> = alternate.parts.iter().map(|p| p.name.as_str()).collect();
        args.push(quote! { alternate_key(#(#parts),*) });
    }
    if entity.company_specific
        && let Some(first) = entity.key.first()
    {
        let company = &first.name;
        args.push(quote! { company = #company });
    }
    if entity.is_abstract {
        args.push(quote! { abstract_type });
    }
    if entity.open_type {
        args.push(quote! { open });
    }
    let mut lines = doc_lines(entity.annotations.description());
    if !lines.is_empty() {
        lines.push(String::new());
    }
    let sets = if entity.entity_sets.is_empty() {
        "no entity set".to_string()
    } else {
        format!("entity set `{}`", entity.entity_sets.join("`, `"))
    };
    lines.push(format!(
        "Entity type `{type_name}` ({sets}); key: {}.",
        if key.is_empty() {
            "none".to_string()
        } else {
            format!("`{}`", key.join("`, `"))
        }
    ));
    let doc = docs(&lines);
    let name = ident(rust_name);
    let fields = fields.iter().map(|f| field_tokens(plan, service, f));
    let open = open_field.map(additional_properties);
    // `Debug` comes from the derive (the record as OData JSON): `#[derive(Debug)]` writes code per
    // field, which a whole F&O's bindings pay for in compile time (BENCHMARKS.md).
    args.push(quote! { debug });
    quote! {
        #doc
        #[derive(Clone, PartialEq, ::dualsync::Entity)]
        #[entity(#(#args),*)]
        pub struct #name {
            #(#fields)*
            #open
        }
    }
}

/// A complex type's struct.
pub fn complex(
    plan: &Plan,
    service: &str,
    rust_name: &str,
    complex: &ComplexType,
    fields: &[Field],
    open_field: Option<&str>,
) -> TokenStream {
    let type_name = &complex.name;
    let mut lines = doc_lines(complex.annotations.description());
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!("Complex type `{type_name}`."));
    let doc = docs(&lines);
    let name = ident(rust_name);
    let fields = fields.iter().map(|f| field_tokens(plan, service, f));
    let open = open_field.map(additional_properties);
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, ::dualsync::Complex)]
        #[complex(type_name = #type_name)]
        pub struct #name {
            #(#fields)*
            #open
        }
    }
}

/// A CSDL enum type: one variant per member and `fallback(name)` (`Unrecognized`, see
/// `emit::fallback_variant`) for members the metadata did not list (F&O adds enum values with updates). Flags enums are a bit set newtype.
pub fn enumeration(
    rust_name: &str,
    enum_type: &EnumType,
    variants: &[String],
    fallback: &str,
) -> TokenStream {
    let type_name = &enum_type.name;
    let fallback = ident(fallback);
    let name = ident(rust_name);
    let mut lines = doc_lines(enum_type.annotations.description());
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!(
        "Enum type `{type_name}` (underlying `{}`).",
        enum_type.underlying_type.edm_name()
    ));
    let doc = docs(&lines);
    let members: Vec<&str> = enum_type.members.iter().map(|m| m.name.as_str()).collect();
    let values: Vec<Literal> = enum_type
        .members
        .iter()
        .map(|m| Literal::i64_unsuffixed(m.value))
        .collect();
    let variant_idents: Vec<Ident> = variants.iter().map(|v| ident(v)).collect();
    if enum_type.is_flags {
        return quote! {
            #doc
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, ::dualsync::EdmEnum)]
            #[edm_enum(type_name = #type_name, flags)]
            #( #[member(name = #members, value = #values, rust = #variant_idents)] )*
            pub struct #name(pub i64);
        };
    }
    let member_docs = enum_type.members.iter().map(|m| {
        let mut lines = doc_lines(m.annotations.description());
        lines.push(format!("`{}` = {}.", m.name, m.value));
        docs(&lines)
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, ::dualsync::EdmEnum)]
        #[edm_enum(type_name = #type_name)]
        pub enum #name {
            #( #member_docs #[member(name = #members, value = #values)] #variant_idents, )*
            /// A member the metadata did not list, by the name the service sent.
            #fallback(::std::string::String),
        }
    }
}

/// A Dataverse choice column's options: one variant per option (labels in the docs), and
/// `fallback(value)` (`Unknown`, see `emit::fallback_variant`) for options added after generation.
pub fn option_set(
    rust_name: &str,
    table: &str,
    set: &OptionSet,
    variants: &[String],
    fallback: &str,
    language: u32,
) -> TokenStream {
    let name = ident(rust_name);
    let fallback = ident(fallback);
    let label = |labels: &std::collections::BTreeMap<u32, String>| {
        labels
            .get(&language)
            .or_else(|| labels.values().next())
            .cloned()
            .unwrap_or_default()
    };
    let scope = match (&set.name, set.is_global) {
        (Some(n), true) => format!("global option set `{n}`"),
        (Some(n), false) => format!("option set `{n}`"),
        (None, _) => "option set".to_string(),
    };
    let mut lines = Vec::new();
    let display = label(&set.display_name);
    if !display.is_empty() {
        lines.extend(doc_lines(Some(&display)));
        lines.push(String::new());
    }
    lines.push(format!(
        "{} choice column `{table}.{}` ({scope}).",
        set.kind.name(),
        set.column
    ));
    let doc = docs(&lines);
    let values: Vec<Literal> = set
        .options
        .iter()
        .map(|o| Literal::i32_unsuffixed(o.value))
        .collect();
    let labels: Vec<String> = set.options.iter().map(|o| label(&o.labels)).collect();
    let option_docs = set.options.iter().zip(&labels).map(|(o, l)| {
        let mut lines = doc_lines(Some(l));
        lines.push(format!("Value {}.", o.value));
        docs(&lines)
    });
    let variant_idents: Vec<Ident> = variants.iter().map(|v| ident(v)).collect();
    let column = &set.column;
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::dualsync::OptionSet)]
        #[option_set(column = #column)]
        pub enum #name {
            #( #option_docs #[option(value = #values, label = #labels)] #variant_idents, )*
            /// An option the metadata did not list, by value.
            #fallback(i32),
        }
    }
}

/// `format_ident!` re-exported for sibling modules.
pub fn module_ident(name: &str) -> Ident {
    format_ident!("{}", name)
}
