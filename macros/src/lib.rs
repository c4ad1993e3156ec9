//! `dualsync-macros`: the derives of dualsync, thin shims over expansion functions that parse their
//! attributes into a small AST once, check it (collecting every error, each at its own span), then
//! emit tokens.
//!
//! - `#[derive(Entity)]`: the generator's `#[entity(..)]` / `#[field(..)]` attributes become an
//!   `impl dualsync::entity::Entity` (field table with the services' rules applied, see [`rules`]),
//!   one typed `Column` constant per field, OData JSON, and the columns table maps use.
//! - `#[derive(Complex)]`: OData JSON for a complex type.
//! - `#[derive(TableMap)]`: a table map between an F&O entity and a Dataverse table, checked at
//!   compile time (see `table_map`).
//! - `#[derive(EdmEnum)]`, `#[derive(OptionSet)]`: a CSDL enum type's and a Dataverse choice's code
//!   from their members (see `choice`).

mod attr;
mod choice;
mod entity;
mod errors;
pub(crate) mod rules;
mod table_map;

use proc_macro::TokenStream;

/// Implements `dualsync::entity::Entity` and one `Column` constant per field.
#[proc_macro_derive(Entity, attributes(entity, field))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(entity::expand)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// OData JSON for a complex type: `#[complex(type_name = ...)]` and `#[field(...)]` on its fields.
#[proc_macro_derive(Complex, attributes(complex, field))]
pub fn derive_complex(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(entity::expand_complex)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A table map between an F&O entity and a Dataverse table, checked at compile time (see the
/// `dualsync::map` module).
#[proc_macro_derive(TableMap, attributes(table_map, map))]
pub fn derive_table_map(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(table_map::expand)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A CSDL enum type: `#[edm_enum(type_name = "..")]`, `#[member(name = "..", value = N)]` per
/// variant and one fallback variant holding the name; or, with `flags`, a tuple struct over the
/// bits with `#[member(name = "..", value = N, rust = Const)]` per member.
#[proc_macro_derive(EdmEnum, attributes(edm_enum, member))]
pub fn derive_edm_enum(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(choice::expand_enum)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A Dataverse choice column's options: `#[option_set(column = "..")]`, `#[option(value = N,
/// label = "..")]` per variant and one fallback variant holding the value.
#[proc_macro_derive(OptionSet, attributes(option_set, option))]
pub fn derive_option_set(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(choice::expand_option_set)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
