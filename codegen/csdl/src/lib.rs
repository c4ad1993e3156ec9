//! dualsync-csdl: reads OData `$metadata` (CSDL XML, EDMX 4.0 / 4.01) of Dataverse and Dynamics 365
//! Finance & Operations, plus Dataverse option-set metadata, into a resolved model. No generator, CLI
//! or HTTP dependencies: the generator (`dualsync-codegen`), the local emulator and library users
//! build on it.
//!
//! The pipeline is `bytes -> syntax (with byte spans) -> model (resolved names and types)`:
//!
//! ```
//! let xml = r#"<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
//!   <edmx:DataServices><Schema Namespace="Demo" xmlns="http://docs.oasis-open.org/odata/ns/edm">
//!     <EntityType Name="Customer"><Key><PropertyRef Name="Id"/></Key>
//!       <Property Name="Id" Type="Edm.Int32" Nullable="false"/></EntityType>
//!   </Schema></edmx:DataServices></edmx:Edmx>"#;
//! let document = dualsync_csdl::parse_str(xml).unwrap();
//! let model = dualsync_csdl::Model::resolve(vec![document]).unwrap();
//! assert_eq!(model.entity_types["Demo.Customer"].key[0].name, "Id");
//! ```
//!
//! Modules: [`read`] (the XML reader), [`syntax`] (what a document says), [`optionsets`] (Dataverse
//! option-set JSON), [`model`] (the resolved model and its Dataverse / F&O facts), [`error`], [`span`].

pub mod error;
mod hash;
pub mod model;
pub mod optionsets;
pub mod read;
pub mod span;
pub mod syntax;
mod threads;

pub use error::{Error, ErrorKind, Errors, Warning};
pub use model::Model;
pub use optionsets::{TableOptionSets, parse_option_sets};
pub use read::{parse_bytes, parse_str, parse_str_sequential};
pub use span::Span;
pub use syntax::Document;
