//! `dualsync`: the runtime that generated bindings and user code link against.
//!
//! Always: [`edm`] (exact Edm value types), [`entity`] (field tables, typed columns, `$filter` /
//! `$select`, sparse patches), [`json`] (OData JSON, exact decimals, strict parsing) and [`map`] (table
//! maps), with the `Entity`, `Complex` and `TableMap` derives of `dualsync-macros`.
//! With the `http` feature: [`auth`] (Entra ID client credentials, static tokens, token cache) and
//! [`odata`] (the one HTTP transport and the typed client: reads, writes, `$batch`, change tracking).
//! Planned (see DESIGN.md): `engine` and `store`; the README's status table says what works.

#[cfg(feature = "http")]
pub mod auth;
pub mod edm;
pub mod entity;
pub mod json;
pub mod map;
#[cfg(feature = "http")]
pub mod odata;

pub use dualsync_macros::{Complex, Entity, TableMap};
