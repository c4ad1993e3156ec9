//! Typed `$batch`: requests and atomic change sets in one `multipart/mixed` call, `Content-ID`s and
//! `$n` references, `Prefer: odata.continue-on-error`, the request limit checked before sending, and
//! one result per operation, matched to it, out of the service's answer.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderName};

use super::client::{Client, Dataverse, Flavor, Precondition, Record};
use super::error::{Error, RequestLine};
use super::multipart::{self, BatchItem, PartRequest, PartResponse, ResponseItem};
use super::query::{Key, Query};
use super::transport::{Answer, Request, status_error};
use crate::entity::{Entity, Patch};

/// Dataverse's limit of requests in one batch (and the default for every service).
pub const MAX_BATCH_REQUESTS: usize = 1000;

/// An operation of a batch, to find its result (and, inside a change set, to reference it as `$n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpId {
    index: usize,
    content_id: Option<u32>,
}

impl OpId {
    /// `$n`: the URL of the record this change-set operation creates, for later operations of the
    /// same change set (e.g. in a `nav@odata.bind`).
    pub fn reference(&self) -> Option<String> {
        self.content_id.map(|n| format!("${n}"))
    }

    /// The position of the operation in the batch.
    pub fn index(&self) -> usize {
        self.index
    }
}

/// The successful answer to one operation.
#[derive(Debug, Clone)]
pub struct OpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl OpResponse {
    /// A header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The created or upserted record's URL.
    pub fn entity_id(&self) -> Option<&str> {
        self.header("OData-EntityId").or_else(|| self.header("Location"))
    }

    /// The body as one record (a GET by key, or a write with `return=representation`).
    pub fn record<E>(&self) -> Result<Record<E>, Error> {
        match crate::json::parse_strict(self.body.as_bytes()) {
            Ok(serde_json::Value::Object(object)) => Ok(Record::from_object(object)),
            Ok(_) => Err(Error::Invalid("the batch answer's body is not a record".into())),
            Err(e) => Err(Error::Invalid(format!(
                "the batch answer's body is not JSON: {e}"
            ))),
        }
    }
}

/// The results of a batch, one per operation, in the order they were added.
#[derive(Debug)]
pub struct BatchResults {
    results: Vec<Result<OpResponse, Error>>,
}

impl BatchResults {
    /// The result of one operation.
    pub fn get(&self, op: OpId) -> &Result<OpResponse, Error> {
        &self.results[op.index]
    }

    /// Every result, in order.
    pub fn into_vec(self) -> Vec<Result<OpResponse, Error>> {
        self.results
    }

    /// How many operations failed.
    pub fn failures(&self) -> usize {
        self.results.iter().filter(|r| r.is_err()).count()
    }

    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }
}

struct Op {
    request: PartRequest,
}

impl Op {
    /// The request line for errors (made only when one is reported).
    fn line(&self) -> RequestLine {
        RequestLine {
            method: self.request.method.clone(),
            url: super::error::clean_text(&self.request.url, &[], 500),
        }
    }
}

enum Entry {
    Single(Op),
    ChangeSet(Vec<Op>),
}

/// A batch being built. Send it with [`Batch::send`].
pub struct Batch<F> {
    client: Client<F>,
    entries: Vec<Entry>,
    operations: usize,
    next_content_id: u32,
    continue_on_error: bool,
    max_requests: usize,
    boundary: Option<String>,
    relative_urls: bool,
}

static BOUNDARY_COUNTER: AtomicU64 = AtomicU64::new(0);

fn fresh_boundary(prefix: &str) -> String {
    let n = BOUNDARY_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}_{:x}{:x}{n:x}", std::process::id(), nanos)
}

impl<F: Flavor> Client<F> {
    /// A new, empty batch against this service.
    pub fn batch(&self) -> Batch<F> {
        Batch {
            client: self.clone(),
            entries: Vec::new(),
            operations: 0,
            next_content_id: 1,
            continue_on_error: false,
            max_requests: MAX_BATCH_REQUESTS,
            boundary: None,
            relative_urls: F::KIND == super::error::ServiceKind::Other,
        }
    }
}

/// The operations of one atomic change set (all applied, or none).
pub struct ChangeSet<'b, F> {
    batch: &'b mut Batch<F>,
    ops: Vec<Op>,
}

impl<F: Flavor> Batch<F> {
    /// Goes on after a failed request (`Prefer: odata.continue-on-error`) instead of stopping there.
    pub fn continue_on_error(&mut self) -> &mut Self {
        self.continue_on_error = true;
        self
    }

    /// Sets the most requests a batch may hold (default [`MAX_BATCH_REQUESTS`]).
    pub fn max_requests(&mut self, limit: usize) -> &mut Self {
        self.max_requests = limit;
        self
    }

    /// Uses fixed boundaries (`{boundary}` for the batch, `changeset_{n}` for change sets), for
    /// byte-exact tests; by default they are unique per batch.
    pub fn boundary(&mut self, boundary: &str) -> &mut Self {
        self.boundary = Some(boundary.to_string());
        self
    }

    /// Operations so far.
    pub fn len(&self) -> usize {
        self.operations
    }

    pub fn is_empty(&self) -> bool {
        self.operations == 0
    }

    /// How operation URLs are written: absolute (Microsoft's documented form for Dataverse and F&O)
    /// or relative to the service root (the OData default, which SAP CAP and fe-mockserver require).
    pub fn relative_urls(&mut self, relative: bool) -> &mut Self {
        self.relative_urls = relative;
        self
    }

    fn op(&self, method: Method, path: &str, body: Option<String>, headers: Vec<(String, String)>) -> Op {
        let url = if path.starts_with('$') || self.relative_urls {
            path.to_string()
        } else {
            self.client.url(path)
        };
        let mut all = headers;
        if body.is_some() {
            all.insert(0, ("Content-Type".into(), "application/json".into()));
        }
        Op {
            request: PartRequest {
                method: method.to_string(),
                url,
                headers: all,
                body,
                content_id: None,
            },
        }
    }

    fn push(&mut self, op: Op) -> OpId {
        let id = OpId {
            index: self.operations,
            content_id: None,
        };
        self.entries.push(Entry::Single(op));
        self.operations += 1;
        id
    }

    /// Reads one record by key.
    pub fn get<E: Entity>(&mut self, key: &Key<E>) -> OpId {
        let op = self.op(
            Method::GET,
            &key.path(),
            None,
            vec![("Accept".into(), "application/json".into())],
        );
        self.push(op)
    }

    /// Reads a collection (one page: the answer's `@odata.nextLink` is not followed inside a batch).
    pub fn list<E: Entity>(&mut self, query: &Query<E>) -> OpId {
        let mut headers = vec![("Accept".into(), "application/json".into())];
        if let Some(prefer) = query.prefer(None) {
            headers.push(("Prefer".into(), prefer));
        }
        let op = self.op(Method::GET, &query.path(), None, headers);
        self.push(op)
    }

    /// Adds an atomic change set, filled by `build`.
    pub fn change_set<R>(&mut self, build: impl FnOnce(&mut ChangeSet<'_, F>) -> R) -> R {
        let mut set = ChangeSet {
            batch: self,
            ops: Vec::new(),
        };
        let result = build(&mut set);
        let ops = std::mem::take(&mut set.ops);
        if !ops.is_empty() {
            self.entries.push(Entry::ChangeSet(ops));
        }
        result
    }

    /// The request body and its boundary. The requests are moved into the body's parts and back, so
    /// nothing is copied.
    pub fn encode(&mut self) -> (String, String) {
        let boundary = self.boundary.clone().unwrap_or_else(|| fresh_boundary("batch"));
        let mut changesets = 0;
        let fixed = self.boundary.is_some();
        let items: Vec<BatchItem> = self
            .entries
            .iter_mut()
            .map(|entry| match entry {
                Entry::Single(op) => BatchItem::Request(std::mem::take(&mut op.request)),
                Entry::ChangeSet(ops) => {
                    changesets += 1;
                    let boundary = if fixed {
                        format!("changeset_{changesets}")
                    } else {
                        fresh_boundary("changeset")
                    };
                    BatchItem::ChangeSet {
                        boundary,
                        requests: ops.iter_mut().map(|op| std::mem::take(&mut op.request)).collect(),
                    }
                }
            })
            .collect();
        let body = multipart::encode(&boundary, &items);
        for (entry, item) in self.entries.iter_mut().zip(items) {
            match (entry, item) {
                (Entry::Single(op), BatchItem::Request(request)) => op.request = request,
                (Entry::ChangeSet(ops), BatchItem::ChangeSet { requests, .. }) => {
                    for (op, request) in ops.iter_mut().zip(requests) {
                        op.request = request;
                    }
                }
                _ => {}
            }
        }
        (body, boundary)
    }

    /// Sends the batch and returns one result per operation. The whole call fails only when the batch
    /// itself is refused (too many requests, a transport or service error for the `$batch` request).
    pub async fn send(mut self) -> Result<BatchResults, Error> {
        if self.operations > self.max_requests {
            return Err(Error::Invalid(format!(
                "a batch holds at most {} requests; this one has {}: split it",
                self.max_requests, self.operations
            )));
        }
        if self.operations == 0 {
            return Ok(BatchResults { results: Vec::new() });
        }
        let (body, boundary) = self.encode();
        let idempotent = self.entries.iter().all(|entry| match entry {
            Entry::Single(op) => op.request.method != "POST",
            Entry::ChangeSet(ops) => ops.iter().all(|op| op.request.method != "POST"),
        });
        let mut request = Request::new(Method::POST, self.client.url("$batch"))
            .header(CONTENT_TYPE, format!("multipart/mixed; boundary={boundary}"))
            .header(reqwest::header::ACCEPT, "multipart/mixed")
            .idempotent(idempotent);
        if self.continue_on_error {
            request = request.header(HeaderName::from_static("prefer"), "odata.continue-on-error");
        }
        request.body = Some(body.into_bytes());
        let response = self.client.transport.send(request).await?;
        let content_type = response.header("Content-Type").unwrap_or("").to_string();
        let items = multipart::decode(&content_type, &response.body).map_err(|e| Error::Decode {
            request: response.request.clone(),
            message: e.to_string(),
        })?;
        Ok(BatchResults {
            results: match_results(F::KIND, self.entries, items),
        })
    }
}

impl<F: Flavor> ChangeSet<'_, F> {
    fn add(&mut self, mut op: Op) -> OpId {
        let content_id = self.batch.next_content_id;
        self.batch.next_content_id += 1;
        op.request.content_id = Some(content_id.to_string());
        let id = OpId {
            index: self.batch.operations,
            content_id: Some(content_id),
        };
        self.batch.operations += 1;
        self.ops.push(op);
        id
    }

    /// Creates a record.
    pub fn create<E: Entity>(&mut self, patch: &Patch<E>) -> OpId {
        let op = self
            .batch
            .op(Method::POST, E::SET, Some(patch.to_json()), Vec::new());
        self.add(op)
    }

    /// Updates a record (never creates one: `If-Match: *` unless an ETag is given).
    pub fn update<E: Entity>(&mut self, key: &Key<E>, patch: &Patch<E>, precondition: Precondition) -> OpId {
        let precondition = match precondition {
            Precondition::None => Precondition::Exists,
            p => p,
        };
        let op = self.batch.op(
            Method::PATCH,
            &key.path(),
            Some(patch.to_json()),
            precondition_header(&precondition),
        );
        self.add(op)
    }

    /// Deletes a record.
    pub fn delete<E: Entity>(&mut self, key: &Key<E>, precondition: Precondition) -> OpId {
        let op = self.batch.op(
            Method::DELETE,
            &key.path(),
            None,
            precondition_header(&precondition),
        );
        self.add(op)
    }
}

impl ChangeSet<'_, Dataverse> {
    /// Creates or updates the record with this (alternate) key.
    pub fn upsert<E: Entity>(&mut self, key: &Key<E>, patch: &Patch<E>) -> OpId {
        let op = self
            .batch
            .op(Method::PATCH, &key.path(), Some(patch.to_json()), Vec::new());
        self.add(op)
    }
}

fn precondition_header(precondition: &Precondition) -> Vec<(String, String)> {
    match precondition {
        Precondition::None => Vec::new(),
        Precondition::Exists => vec![("If-Match".into(), "*".into())],
        Precondition::Absent => vec![("If-None-Match".into(), "*".into())],
        Precondition::Etag(etag) => vec![("If-Match".into(), etag.clone())],
    }
}

fn part_result(kind: super::error::ServiceKind, op: &Op, part: PartResponse) -> Result<OpResponse, Error> {
    if (200..300).contains(&part.status) || part.status == 304 {
        return Ok(OpResponse {
            status: part.status,
            headers: part.headers,
            body: part.body,
        });
    }
    let content_type = part.header("Content-Type").unwrap_or("").to_string();
    let retry_after = part
        .header("Retry-After")
        .and_then(super::transport::parse_retry_after);
    Err(status_error(
        kind,
        Answer {
            status: part.status,
            content_type: &content_type,
            body: part.body.as_bytes(),
            retry_after,
        },
        &op.line(),
        1,
        &[],
    ))
}

/// Pairs each operation with its answer: top-level requests in order; change-set parts by
/// `Content-ID` (or in order); a change set answered by one error part failed as a whole.
fn match_results(
    kind: super::error::ServiceKind,
    entries: Vec<Entry>,
    items: Vec<ResponseItem>,
) -> Vec<Result<OpResponse, Error>> {
    let mut results = Vec::new();
    let mut answers = items.into_iter();
    for entry in entries {
        let answer = answers.next();
        match (entry, answer) {
            (Entry::Single(op), Some(ResponseItem::Response(part))) => {
                results.push(part_result(kind, &op, part))
            }
            (Entry::Single(op), Some(ResponseItem::ChangeSet(_))) => results.push(Err(Error::Decode {
                request: op.line(),
                message: "the service answered a single request with a change set".into(),
            })),
            (Entry::Single(op), None) => results.push(Err(Error::NotExecuted { request: op.line() })),
            (Entry::ChangeSet(ops), Some(ResponseItem::ChangeSet(mut parts))) => {
                for (position, op) in ops.iter().enumerate() {
                    let by_id = op
                        .request
                        .content_id
                        .as_deref()
                        .and_then(|id| parts.iter().position(|p| p.content_id.as_deref() == Some(id)));
                    let part = match by_id {
                        Some(at) => Some(parts.swap_remove(at)),
                        // Without Content-IDs in the answer, parts come in request order.
                        None if parts.iter().all(|p| p.content_id.is_none()) && position < ops.len() => {
                            (!parts.is_empty()).then(|| parts.remove(0))
                        }
                        None => None,
                    };
                    results.push(match part {
                        Some(part) => part_result(kind, op, part),
                        None => Err(Error::Decode {
                            request: op.line(),
                            message: "no answer for this change-set request".into(),
                        }),
                    });
                }
            }
            (Entry::ChangeSet(ops), Some(ResponseItem::Response(part))) => {
                // The change set failed as a whole: nothing of it was applied. The part's Content-ID
                // (when the service sends one) names the request that failed.
                let culprit = ops
                    .iter()
                    .position(|op| {
                        op.request.content_id.is_some() && op.request.content_id == part.content_id
                    })
                    .unwrap_or(0);
                let failure = part_result(kind, &ops[culprit], part);
                let cause = match &failure {
                    Err(e) => e.to_string(),
                    Ok(r) => format!("HTTP {}", r.status),
                };
                let mut failure = Some(failure);
                for (i, op) in ops.iter().enumerate() {
                    let rolled_back = || Error::RolledBack {
                        request: op.line(),
                        cause: cause.clone(),
                    };
                    results.push(match (i == culprit, failure.take_if(|_| i == culprit)) {
                        (true, Some(Err(e))) => Err(e),
                        _ => Err(rolled_back()),
                    });
                }
            }
            (Entry::ChangeSet(ops), None) => {
                for op in ops {
                    results.push(Err(Error::NotExecuted { request: op.line() }));
                }
            }
        }
    }
    results
}
