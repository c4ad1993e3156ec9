//! `dualsync`: the runtime that generated bindings and user code link against.
//!
//! Today: [`edm`], the Edm value types generated code uses, and the `Entity` derive (a placeholder
//! from `dualsync-macros` that accepts the `#[entity]` / `#[field]` attributes the generator writes).
//! Planned (see DESIGN.md): `entity` (typed columns, filters, patches), `map`, `odata`, `auth`,
//! `engine`, `store`; the README's status table says what works.

pub mod edm;

pub use dualsync_macros::{Complex, Entity};
