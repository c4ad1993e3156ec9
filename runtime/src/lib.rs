//! `dualsync`: the runtime that generated bindings and user code link against.
//!
//! Always: [`edm`] (exact Edm value types), [`entity`] (field tables, typed columns, `$filter` /
//! `$select`, sparse patches, records as read), [`json`] (OData JSON, exact decimals, strict parsing)
//! and [`map`] (table maps), with the `Entity`, `Complex` and `TableMap` derives of `dualsync-macros`.
//! With the `http` feature: `auth` (Entra ID client credentials, static tokens, token cache) and
//! `odata` (the one HTTP transport and the typed client: reads, writes, `$batch`, change tracking).
//! With the `engine` feature: [`engine`], the sync engine (initial and live sync, the SQLite state
//! store, the F&O data-event endpoint).

#[cfg(feature = "http")]
pub mod auth;
mod column;
pub mod edm;
#[cfg(feature = "engine")]
pub mod engine;
pub mod entity;
pub mod json;
pub mod map;
#[cfg(feature = "http")]
pub mod odata;
mod patch;
mod record;
mod schema;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use dualsync_macros::{Complex, EdmEnum, Entity, OptionSet, TableMap};
