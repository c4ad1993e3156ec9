//! `dualsync`: the runtime that generated bindings and user code link against.
//!
//! Planned modules (see DESIGN.md): `edm` (exact Edm value types), `entity` (the `Entity` trait, typed
//! columns, filters and patches), `map` (table maps), `odata` (client), `auth` (token providers),
//! `engine` (initial and live sync) and `store` (sync state). None is implemented yet: the crate exists
//! so the workspace has its final shape; the README's status table says what works today.
