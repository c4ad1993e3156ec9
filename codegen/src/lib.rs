//! dualsync-codegen: generates typed Rust from OData `$metadata` (CSDL XML) of Dataverse and Dynamics
//! 365 Finance & Operations, and the `dualsync-codegen` command (`inspect`, `generate`, `fetch`).
//!
//! The pipeline is `bytes -> csdl (syntax with byte spans) -> model (resolved names and types) ->
//! select -> names -> emit -> files`. Reading and resolving live in the `dualsync-csdl` crate (no
//! generator, CLI or HTTP dependencies); they are re-exported here under their former paths
//! ([`csdl`], [`model`], [`error`], [`span`]).
//!
//! ```
//! let xml = r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
//!   <edmx:DataServices><Schema Namespace="Demo" xmlns="http://docs.oasis-open.org/odata/ns/edm">
//!     <EntityType Name="Customer"><Key><PropertyRef Name="Id"/></Key>
//!       <Property Name="Id" Type="Edm.Int32" Nullable="false"/></EntityType>
//!   </Schema></edmx:DataServices></edmx:Edmx>"#;
//! let document = dualsync_codegen::csdl::parse_str(xml).unwrap();
//! let model = dualsync_codegen::model::Model::resolve(vec![document]).unwrap();
//! assert_eq!(model.entity_types["Demo.Customer"].key[0].name, "Id");
//! ```

#[cfg(feature = "generate")]
pub mod config;
/// The CSDL reader, from `dualsync-csdl` (`dualsync_csdl::read` plus its `syntax` and `optionsets`).
pub mod csdl {
    pub use dualsync_csdl::read::*;
    pub use dualsync_csdl::{optionsets, syntax};
}
#[cfg(feature = "generate")]
pub mod emit;
pub use dualsync_csdl::error;
#[cfg(feature = "fetch")]
pub mod fetch;
#[cfg(feature = "generate")]
pub mod mapfile;
pub use dualsync_csdl::model;
#[cfg(feature = "generate")]
pub mod naming;
pub mod select;
pub use dualsync_csdl::span;

pub use dualsync_csdl::{Error, ErrorKind, Errors, Span, Warning};
