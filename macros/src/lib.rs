//! `dualsync-macros`: derive macros for dualsync.
//!
//! `#[derive(Entity)]` is, for now, a placeholder: it accepts the `#[entity(...)]` and `#[field(...)]`
//! attributes that `dualsync-codegen generate` writes and expands to nothing, so generated bindings
//! compile. The real expansion (typed columns, OData JSON, checks) is the macros issue's work; the
//! attributes are already its contract.

use proc_macro::TokenStream;

/// Accepts `#[entity(...)]` on the struct and `#[field(...)]` on its fields; generates nothing yet.
#[proc_macro_derive(Entity, attributes(entity, field))]
pub fn derive_entity(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}

/// Accepts `#[complex(...)]` on a complex-type struct and `#[field(...)]` on its fields; generates
/// nothing yet (see [`derive_entity`]).
#[proc_macro_derive(Complex, attributes(complex, field))]
pub fn derive_complex(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
