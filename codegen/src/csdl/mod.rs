//! Reading OData CSDL XML (EDMX 4.0 / 4.01) and Dataverse option-set JSON into syntax trees with spans.

mod cursor;
pub mod optionsets;
mod parallel;
mod reader;
pub mod syntax;

pub use cursor::{EDM_NS, EDMX_NS, LEGACY_EDMX_NS, MAX_DEPTH};
pub use reader::{parse_bytes, parse_str, parse_str_sequential};
