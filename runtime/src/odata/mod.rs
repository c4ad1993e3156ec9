//! The OData client of both services (feature `http`): one [`Transport`] for every request (token,
//! OData headers, limits, retries honouring `Retry-After`, one [`Error`] type), and a typed
//! [`Client`] on top: paged reads into generated entities, writes with preconditions, Dataverse
//! upsert by alternate key, `$batch` with change sets, and Dataverse change tracking.
//!
//! ```no_run
//! # async fn demo() -> Result<(), dualsync::odata::Error> {
//! use dualsync::auth::Credentials;
//! use dualsync::entity::{Column, Entity, FieldDef, Patch};
//! use dualsync::odata::{DataverseClient, Key, Query, TransportConfig};
//!
//! #[derive(Debug, dualsync::Entity)]
//! #[entity(set = "accounts", type_name = "Microsoft.Dynamics.CRM.account", key("accountid"), alternate_key("accountnumber"))]
//! pub struct Account {
//!     #[field(name = "accountid", edm = "Edm.Guid", key, not_null)]
//!     pub accountid: dualsync::edm::Guid,
//!     #[field(name = "accountnumber", edm = "Edm.String", max_length = 20)]
//!     pub accountnumber: Option<String>,
//!     #[field(name = "name", edm = "Edm.String", max_length = 160)]
//!     pub name: Option<String>,
//! }
//!
//! let client = DataverseClient::new(
//!     "https://contoso.crm.dynamics.com/api/data/v9.2/",
//!     Credentials::None,
//!     TransportConfig::default(),
//! )?;
//! // Read every account, 5,000 a page, only two columns.
//! let mut pages = client.list(&Query::<Account>::new().select(&[&Account::ACCOUNTNUMBER, &Account::NAME]).page_size(5000));
//! while let Some(record) = pages.next_record().await? {
//!     let name: Option<String> = record.get(Account::NAME).map_err(|e| dualsync::odata::Error::Invalid(e.to_string()))?;
//!     println!("{name:?}");
//! }
//! // Create or update by alternate key.
//! let mut patch = Patch::<Account>::new();
//! patch.set(Account::NAME, &"Contoso".to_string()).map_err(|e| dualsync::odata::Error::Invalid(e.to_string()))?;
//! client.upsert(&Key::by(Account::ACCOUNTNUMBER, &"A-001".to_string()), &patch).await?;
//! # Ok(()) }
//! ```

pub mod batch;
pub mod client;
pub mod error;
pub mod multipart;
pub mod query;
pub mod transport;

pub use batch::{Batch, BatchResults, ChangeSet, MAX_BATCH_REQUESTS, OpId, OpResponse};
pub use client::{
    Change, Changes, Client, Created, Dataverse, DataverseClient, FinOps, FinOpsClient, Flavor, Generic,
    Page, Pages, Precondition, Record, Upserted,
};
pub use error::{Error, RequestLine, ServiceError, ServiceKind, TransportKind, clean_text};
pub use query::{Key, Query};
pub use transport::{Request, Response, Transport, TransportConfig, TransportStats};
