//! dualsync-codegen: reads OData `$metadata` (CSDL XML) of Dataverse and Dynamics 365 Finance &
//! Operations, plus Dataverse option-set metadata, into a resolved model that generators and the local
//! emulator build on.
//!
//! The pipeline is `bytes -> csdl (syntax with byte spans) -> model (resolved names and types)`.
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
pub mod csdl;
#[cfg(feature = "generate")]
pub mod emit;
pub mod error;
#[cfg(feature = "fetch")]
pub mod fetch;
mod hash;
pub mod model;
#[cfg(feature = "generate")]
pub mod naming;
pub mod select;
pub mod span;

pub use error::{Error, ErrorKind, Errors, Warning};
pub use span::Span;
