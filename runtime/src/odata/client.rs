//! The typed client: reads (paged streams of records), writes (create, update, upsert, delete with
//! preconditions), `$batch` and Dataverse change tracking, for generated entity types.
//!
//! The service's flavour is a type parameter, so what one service cannot do is not in its API: F&O has
//! no upsert and no change tracking ([`Client::upsert`] and [`Client::track_changes`] exist only on
//! [`DataverseClient`]); the sync engine decides between PATCH and POST for F&O from its link state.

use std::collections::VecDeque;
use std::marker::PhantomData;

use reqwest::Method;
use reqwest::header::{HeaderName, IF_MATCH, IF_NONE_MATCH};
use serde_json::{Map, Value};

use super::error::{Error, ServiceKind};
use super::query::{Key, Query};
use super::transport::{Request, Response, Transport, TransportConfig};
use crate::auth::Credentials;
pub use crate::entity::Record;
use crate::entity::{Entity, Patch};

const PREFER: HeaderName = HeaderName::from_static("prefer");

/// A service flavour: Dataverse or F&O (or a plain OData v4 service).
pub trait Flavor: Send + Sync + 'static {
    const KIND: ServiceKind;
}

/// Microsoft Dataverse Web API.
#[derive(Debug, Clone, Copy)]
pub struct Dataverse;
/// Dynamics 365 Finance & Operations OData.
#[derive(Debug, Clone, Copy)]
pub struct FinOps;
/// Any other OData v4 service (CAP, test servers): the generic protocol only.
#[derive(Debug, Clone, Copy)]
pub struct Generic;

impl Flavor for Dataverse {
    const KIND: ServiceKind = ServiceKind::Dataverse;
}
impl Flavor for FinOps {
    const KIND: ServiceKind = ServiceKind::FinOps;
}
impl Flavor for Generic {
    const KIND: ServiceKind = ServiceKind::Other;
}

/// A client of a Dataverse environment.
pub type DataverseClient = Client<Dataverse>;
/// A client of an F&O environment.
pub type FinOpsClient = Client<FinOps>;

/// When a write may happen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Precondition {
    /// Always.
    #[default]
    None,
    /// Only if the record exists (`If-Match: *`): an update that never creates.
    Exists,
    /// Only if the record does not exist (`If-None-Match: *`): a create that never updates.
    Absent,
    /// Only if the record is unchanged since it was read with this ETag (`If-Match: <etag>`);
    /// otherwise [`Error::Conflict`].
    Etag(String),
}

impl Precondition {
    fn header(&self) -> Option<(HeaderName, String)> {
        match self {
            Precondition::None => None,
            Precondition::Exists => Some((IF_MATCH, "*".into())),
            Precondition::Absent => Some((IF_NONE_MATCH, "*".into())),
            Precondition::Etag(etag) => Some((IF_MATCH, etag.clone())),
        }
    }
}

/// One page of a read.
#[derive(Debug)]
pub struct Page<E> {
    pub records: Vec<Record<E>>,
    /// `@odata.count` (first page, when asked for).
    pub count: Option<u64>,
    /// `@odata.nextLink`: where the next page is.
    pub next_link: Option<String>,
}

/// A paged read: one page in memory at a time. Use [`Pages::next_page`], [`Pages::next_record`],
/// or [`Pages::into_stream`].
pub struct Pages<F, E> {
    client: Client<F>,
    next: Option<Request>,
    buffer: VecDeque<Record<E>>,
    count: Option<u64>,
}

impl<F: Flavor, E: Entity> Pages<F, E> {
    /// The next page, or `None` after the last one.
    pub async fn next_page(&mut self) -> Result<Option<Page<E>>, Error> {
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        let prefer = request
            .headers
            .iter()
            .find(|(n, _)| n == PREFER)
            .map(|(_, v)| v.clone());
        let response = self.client.transport.send(request).await?;
        let body = parse_collection(&response)?;
        if let Some(link) = &body.next_link {
            let mut next = Request::get(self.client.absolute(link)?);
            if let Some(prefer) = prefer {
                next = next.header(PREFER, prefer);
            }
            self.next = Some(next);
        }
        let records: Vec<Record<E>> = body
            .value
            .into_iter()
            .map(|item| match item {
                Value::Object(object) => Ok(Record::from_object(object)),
                other => Err(decode_error(
                    &response,
                    format!("a record is not an object: {}", kind_of(&other)),
                )),
            })
            .collect::<Result<_, _>>()?;
        if body.count.is_some() {
            self.count = body.count;
        }
        Ok(Some(Page {
            records,
            count: body.count,
            next_link: body.next_link,
        }))
    }

    /// The next record, reading the next page when the current one is used up.
    pub async fn next_record(&mut self) -> Result<Option<Record<E>>, Error> {
        loop {
            if let Some(record) = self.buffer.pop_front() {
                return Ok(Some(record));
            }
            match self.next_page().await? {
                Some(page) => self.buffer.extend(page.records),
                None => return Ok(None),
            }
        }
    }

    /// `@odata.count`, once the first page has been read (with [`Query::count`]).
    pub fn count(&self) -> Option<u64> {
        self.count
    }

    /// Every record, as a stream.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Record<E>, Error>> {
        futures_util::stream::try_unfold(self, |mut pages| async move {
            Ok(pages.next_record().await?.map(|record| (record, pages)))
        })
    }

    /// Reads every record into memory (for small sets; stream big ones).
    pub async fn collect_all(mut self) -> Result<Vec<Record<E>>, Error> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page.records);
        }
        Ok(all)
    }
}

/// What a create answered.
#[derive(Debug)]
pub struct Created<E> {
    /// The new record's URL (`OData-EntityId` or `Location`), when the service sent one.
    pub entity_id: Option<String>,
    /// The record as stored, when asked for with `return=representation`.
    pub record: Option<Record<E>>,
}

/// A client of one OData service, typed by its flavour. Cheap to clone.
pub struct Client<F> {
    pub(crate) transport: Transport,
    /// The service root, ending with `/`.
    pub(crate) root: String,
    _flavor: PhantomData<fn() -> F>,
}

impl<F> Clone for Client<F> {
    fn clone(&self) -> Self {
        Client {
            transport: self.transport.clone(),
            root: self.root.clone(),
            _flavor: PhantomData,
        }
    }
}

impl<F> std::fmt::Debug for Client<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl<F: Flavor> Client<F> {
    /// A client of the service at `root` (`https://contoso.crm.dynamics.com/api/data/v9.2/`,
    /// `https://contoso.operations.dynamics.com/data/`).
    pub fn new(root: &str, credentials: Credentials, mut config: TransportConfig) -> Result<Self, Error> {
        config.kind = F::KIND;
        let transport = Transport::new(root, credentials, config)?;
        Ok(Self::with_transport(transport, root))
    }

    /// A client over an existing transport (to share one identity's limits between clients).
    pub fn with_transport(transport: Transport, root: &str) -> Self {
        let root = if root.ends_with('/') {
            root.to_string()
        } else {
            format!("{root}/")
        };
        Client {
            transport,
            root,
            _flavor: PhantomData,
        }
    }

    /// The transport (for its counters, or raw requests).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The service root URL, ending with `/`.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// `root + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.root, path)
    }

    /// A link from the service (next or delta link), made absolute, and only if it stays on the
    /// service: a hostile link never receives the token.
    pub(crate) fn absolute(&self, link: &str) -> Result<String, Error> {
        let url = if link.starts_with("http://") || link.starts_with("https://") {
            link.to_string()
        } else if let Some(path) = link.strip_prefix('/') {
            let origin = super::transport::origin(&self.root)?;
            format!("{origin}/{path}")
        } else {
            self.url(link)
        };
        let root_origin = super::transport::origin(&self.root)?;
        if super::transport::origin(&url)? != root_origin {
            return Err(Error::Invalid(format!(
                "the service sent a link to another host (`{}`); it is not followed",
                super::error::clean_text(link, &[], 200)
            )));
        }
        Ok(url)
    }

    /// Reads the records of `E` that `query` selects, a page at a time.
    pub fn list<E: Entity>(&self, query: &Query<E>) -> Pages<F, E> {
        let mut request = Request::get(self.url(&query.path()));
        if let Some(prefer) = query.prefer(None) {
            request = request.header(PREFER, prefer);
        }
        Pages {
            client: self.clone(),
            next: Some(request),
            buffer: VecDeque::new(),
            count: None,
        }
    }

    /// Reads one record by key (`None` when there is none). `select` limits the columns.
    pub async fn get<E: Entity>(
        &self,
        key: &Key<E>,
        select: &[&dyn crate::entity::SelectColumn<E>],
    ) -> Result<Option<Record<E>>, Error> {
        let mut url = self.url(&key.path());
        if !select.is_empty() {
            let names: Vec<&str> = select.iter().map(|c| c.column_name()).collect();
            url.push_str(&format!(
                "?$select={}",
                super::query::encode_query(&names.join(","))
            ));
        }
        match self.transport.send(Request::get(url)).await {
            Ok(response) => match parse_json(&response)? {
                Value::Object(object) => Ok(Some(Record::from_object(object))),
                other => Err(decode_error(
                    &response,
                    format!("expected a record, found {}", kind_of(&other)),
                )),
            },
            Err(e) if e.is_not_found() && e.service().is_some_and(|s| s.odata) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a record (`POST set`). With `return_record`, the stored record comes back.
    /// A create is not idempotent: it is never sent twice (see [`Error::Transport`]'s outcome_unknown).
    pub async fn create<E: Entity>(
        &self,
        patch: &Patch<E>,
        precondition: Precondition,
        return_record: bool,
    ) -> Result<Created<E>, Error> {
        let mut request = Request::new(Method::POST, self.url(E::SET)).json(patch.to_json());
        if return_record {
            request = request.header(PREFER, "return=representation");
        }
        if let Some((name, value)) = precondition.header() {
            request = request.header(name, value);
        }
        let response = self.transport.send(request).await?;
        let entity_id = entity_id(&response);
        let record = if response.body.is_empty() {
            None
        } else {
            match parse_json(&response)? {
                Value::Object(object) => Some(Record::from_object(object)),
                _ => None,
            }
        };
        Ok(Created { entity_id, record })
    }

    /// Updates the columns set in `patch` (`PATCH set(key)`); returns the new ETag when the service
    /// sends one. On F&O and with [`Precondition::Exists`] a missing record is an error (404).
    pub async fn update<E: Entity>(
        &self,
        key: &Key<E>,
        patch: &Patch<E>,
        precondition: Precondition,
    ) -> Result<Option<String>, Error> {
        let precondition = match (F::KIND, precondition) {
            // Dataverse's PATCH upserts; an update must not create.
            (ServiceKind::Dataverse, Precondition::None) => Precondition::Exists,
            (_, p) => p,
        };
        let mut request = Request::new(Method::PATCH, self.url(&key.path())).json(patch.to_json());
        if let Some((name, value)) = precondition.header() {
            request = request.header(name, value);
        }
        let response = self.transport.send(request).await?;
        Ok(response.header("ETag").map(str::to_string))
    }

    /// Deletes a record (`DELETE set(key)`).
    pub async fn delete<E: Entity>(&self, key: &Key<E>, precondition: Precondition) -> Result<(), Error> {
        let mut request = Request::new(Method::DELETE, self.url(&key.path()));
        if let Some((name, value)) = precondition.header() {
            request = request.header(name, value);
        }
        self.transport.send(request).await?;
        Ok(())
    }
}

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    /// The record's URL (`OData-EntityId`), with its id.
    pub entity_id: Option<String>,
}

impl Client<Dataverse> {
    /// Creates or updates the record with this key (`PATCH set(key)`, usually an alternate key such
    /// as `accounts(accountnumber='A1')`): idempotent, so safe to retry and to replay.
    pub async fn upsert<E: Entity>(&self, key: &Key<E>, patch: &Patch<E>) -> Result<Upserted, Error> {
        let request = Request::new(Method::PATCH, self.url(&key.path())).json(patch.to_json());
        let response = self.transport.send(request).await?;
        Ok(Upserted {
            entity_id: entity_id(&response),
        })
    }

    /// Starts change tracking of `E` (`Prefer: odata.track-changes`): every record now, then a
    /// delta link for [`DataverseClient::changes`]. Only `$select` and the page size may be set:
    /// Dataverse refuses `$filter`, `$orderby`, `$expand` and `$top` with change tracking.
    pub fn track_changes<E: Entity>(&self, query: &Query<E>) -> Result<Changes<E>, Error> {
        if !query.is_plain_select() || query.cross_company {
            return Err(Error::Invalid(
                "change tracking allows only $select and a page size ($filter, $orderby, $expand, $top and $count are refused by Dataverse)".into(),
            ));
        }
        let mut request = Request::get(self.url(&query.path()));
        request = request.header(
            PREFER,
            query.prefer(Some("odata.track-changes")).unwrap_or_default(),
        );
        Ok(Changes {
            client: self.clone(),
            next: Some(request),
            page_size: query.page_size,
            delta_link: None,
            _entity: PhantomData,
        })
    }

    /// The changes since `delta_link` (from an earlier [`Changes::delta_link`]). An expired link is
    /// [`Error::DeltaExpired`]: read the table in full again with [`DataverseClient::track_changes`].
    pub fn changes<E: Entity>(&self, delta_link: &str, page_size: Option<u32>) -> Result<Changes<E>, Error> {
        let mut request = Request::get(self.absolute(delta_link)?);
        let mut prefer = "odata.track-changes".to_string();
        if let Some(n) = page_size {
            prefer.push_str(&format!(",odata.maxpagesize={n}"));
        }
        request = request.header(PREFER, prefer);
        Ok(Changes {
            client: self.clone(),
            next: Some(request),
            page_size,
            delta_link: None,
            _entity: PhantomData,
        })
    }
}

/// One change of a tracked table.
#[derive(Debug)]
pub enum Change<E> {
    /// Created or updated: the record's current (selected) columns.
    Upsert(Record<E>),
    /// Deleted: the record's id.
    Deleted { id: String },
}

/// Change-tracking pages; the last one carries the delta link for the next round.
pub struct Changes<E> {
    client: Client<Dataverse>,
    next: Option<Request>,
    page_size: Option<u32>,
    delta_link: Option<String>,
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Changes<E> {
    /// The next page of changes, or `None` when all have been read (then [`Changes::delta_link`] is set).
    pub async fn next_page(&mut self) -> Result<Option<Vec<Change<E>>>, Error> {
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        let is_delta = request.url.contains("deltatoken");
        let response = match self.client.transport.send(request).await {
            Ok(response) => response,
            Err(e) if is_delta && is_expired_delta(&e) => {
                return Err(match e {
                    Error::Service(s) => Error::DeltaExpired(s),
                    other => other,
                });
            }
            Err(e) => return Err(e),
        };
        let body = parse_collection(&response)?;
        if let Some(link) = &body.next_link {
            let mut prefer = "odata.track-changes".to_string();
            if let Some(n) = self.page_size {
                prefer.push_str(&format!(",odata.maxpagesize={n}"));
            }
            self.next = Some(Request::get(self.client.absolute(link)?).header(PREFER, prefer));
        }
        if body.delta_link.is_some() {
            self.delta_link = body.delta_link;
        }
        let mut changes = Vec::with_capacity(body.value.len());
        for item in body.value {
            let Value::Object(object) = item else {
                return Err(decode_error(&response, "a change is not an object".into()));
            };
            let deleted = object
                .get("@odata.context")
                .and_then(Value::as_str)
                .is_some_and(|c| c.ends_with("$deletedEntity"))
                || object.contains_key("@removed");
            if deleted {
                let id = match object.get("id").or_else(|| object.get("@id")) {
                    Some(Value::String(s)) => s.clone(),
                    _ => return Err(decode_error(&response, "a deleted entry has no id".into())),
                };
                changes.push(Change::Deleted { id });
            } else {
                changes.push(Change::Upsert(Record::from_object(object)));
            }
        }
        Ok(Some(changes))
    }

    /// Reads every page; returns the changes and the delta link for the next round.
    pub async fn collect_all(mut self) -> Result<(Vec<Change<E>>, String), Error> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        let link = self.delta_link.ok_or_else(|| {
            Error::Invalid("the service ended change tracking without a delta link (is change tracking enabled for the table?)".into())
        })?;
        Ok((all, link))
    }

    /// The delta link, once the last page has been read.
    pub fn delta_link(&self) -> Option<&str> {
        self.delta_link.as_deref()
    }
}

/// Dataverse answers an expired or invalid delta token with `0x80044352` (ExpiredVersionStamp) or
/// a message saying the version stamp/token expired; OData services may answer 410 Gone.
fn is_expired_delta(e: &Error) -> bool {
    let Some(s) = e.service() else { return false };
    s.status == 410
        || s.code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("0x80044352"))
        || (s.message.to_ascii_lowercase().contains("expired")
            && (s.message.contains("token") || s.message.to_ascii_lowercase().contains("version stamp")))
}

pub(crate) struct CollectionBody {
    pub value: Vec<Value>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
    pub count: Option<u64>,
}

pub(crate) fn parse_json(response: &Response) -> Result<Value, Error> {
    crate::json::parse_strict(&response.body).map_err(|e| decode_error(response, e.to_string()))
}

fn parse_collection(response: &Response) -> Result<CollectionBody, Error> {
    let Value::Object(mut object) = parse_json(response)? else {
        return Err(decode_error(
            response,
            "expected a JSON object with `value`".into(),
        ));
    };
    let value = match object.remove("value") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(decode_error(
                response,
                format!("`value` is {}, not an array", kind_of(&other)),
            ));
        }
        None => {
            return Err(decode_error(
                response,
                "no `value` array: not a collection".into(),
            ));
        }
    };
    let text = |object: &Map<String, Value>, name: &str| {
        object.get(name).and_then(Value::as_str).map(str::to_string)
    };
    let count = match object.get("@odata.count") {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| decode_error(response, "`@odata.count` is not a count".into()))?,
        ),
    };
    Ok(CollectionBody {
        value,
        next_link: text(&object, "@odata.nextLink"),
        delta_link: text(&object, "@odata.deltaLink"),
        count,
    })
}

pub(crate) fn decode_error(response: &Response, message: String) -> Error {
    Error::Decode {
        request: response.request.clone(),
        message: super::error::clean_text(&message, &[], 300),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn entity_id(response: &Response) -> Option<String> {
    response
        .header("OData-EntityId")
        .or_else(|| response.header("Location"))
        .map(str::to_string)
}
