//! `dualsync-emulator`: a local Microsoft Dataverse and Dynamics 365 F&O over any `$metadata`, for
//! tests and demos without a tenant. Both services on one port under their real roots
//! (`/api/data/v9.2/`, `/data/`); records in memory (seed data and a state file optional); reads with
//! `$select`, `$filter`, `$orderby`, `$top`, `$skip` (F&O), `$count`, `$expand`, server paging; writes
//! with ETags and preconditions; Dataverse upsert, alternate keys, lookups by `@odata.bind` and change
//! tracking; F&O companies and data events; `$batch` with atomic change sets; service protection
//! limits; seeded fault injection; an admin API. It reads metadata with `dualsync-csdl` and shares no
//! code with dualsync's client or engine: it is an independent check on them.

pub mod admin;
pub mod batch;
pub mod events;
pub mod faults;
pub mod filter;
pub mod limits;
pub mod schema;
pub mod server;
pub mod service;
pub mod store;
pub mod text;
pub mod value;

pub use server::{Emulator, EmulatorError, Running, load_seed, load_service};
