//! `dualsync`: the runtime that generated bindings and user code link against.
//!
//! Today: [`edm`], the Edm value types generated code uses, and the `Entity` derive (a placeholder
//! from `dualsync-macros` that accepts the `#[entity]` / `#[field]` attributes the generator writes).
//! With the `http` feature: [`auth`] (Entra ID client credentials, static tokens, token cache).
//! Planned (see DESIGN.md): `entity` (typed columns, filters, patches), `map`, `odata`, `engine`,
//! `store`; the README's status table says what works.

#[cfg(feature = "http")]
pub mod auth;
pub mod edm;
pub mod entity;
pub mod json;
pub mod map;
#[cfg(feature = "http")]
pub mod odata;

pub use dualsync_macros::{Complex, Entity, TableMap};
