//! `dualsync-macros`: derive macros for dualsync, thin shims over testable expansion functions.
//!
//! `#[derive(Entity)]` turns the `#[entity(...)]` / `#[field(...)]` attributes that
//! `dualsync-codegen generate` writes into an `impl dualsync::entity::Entity` and typed column
//! constants. OData JSON and `#[derive(TableMap)]` are still to come (the macros issue).

mod entity;
mod errors;
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
