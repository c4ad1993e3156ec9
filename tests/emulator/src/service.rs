//! One emulated service: requests in, answers out, with the protocol rules of its flavour. Plain
//! functions over the schema and the store (no sockets), so `$batch` parts and the HTTP front run the
//! same code, and tests can call it directly.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Number, Value, json};

use crate::filter::{self, EdmKind};
use crate::schema::{Flavor, Schema, Table, check_value, is_guid};
use crate::store::{Row, Store, TableData, Tombstone, Undo, key_text, key_value_text};
use crate::text::{encode_query, excerpt};

/// A request as the service sees it (the path below the service root, percent-decoded).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `http://host:port`, for absolute links.
    pub origin: String,
    /// Who is calling (the Authorization header, or `anonymous`).
    pub caller: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn option(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every preference of every `Prefer` header (a request may send several, as Microsoft's
    /// documentation does).
    fn preferences(&self) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("prefer"))
            .flat_map(|(_, v)| v.split(','))
    }

    fn prefers(&self, preference: &str) -> bool {
        self.preferences()
            .any(|x| x.trim().eq_ignore_ascii_case(preference))
    }

    fn max_page_size(&self) -> Option<usize> {
        self.preferences().find_map(|p| {
            let (name, value) = p.trim().split_once('=')?;
            name.eq_ignore_ascii_case("odata.maxpagesize")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn json(status: u16, value: &Value) -> Self {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; odata.metadata=minimal; odata.streaming=true".into(),
            )],
            body: value.to_string().into_bytes(),
        }
    }

    fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A write, for F&O data events.
#[derive(Debug, Clone, PartialEq)]
pub struct DataChange {
    pub set: String,
    /// `Create`, `Update` or `Delete`.
    pub operation: &'static str,
    pub company: Option<String>,
    pub record: Map<String, Value>,
}

/// Counters an admin can read.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Counters {
    pub requests: u64,
    /// Requests in the largest `$batch` received.
    pub largest_batch: usize,
    pub throttled: u64,
    pub faults: u64,
    pub writes: BTreeMap<String, u64>,
}

/// One emulated service.
#[derive(Debug, Clone)]
pub struct Service {
    pub schema: Schema,
    /// `$metadata`, byte for byte.
    pub metadata: Vec<u8>,
    /// Dataverse attribute metadata JSON by file stem (`account.PicklistOptionSetAttribute`).
    pub metadata_json: BTreeMap<String, String>,
    pub store: Store,
    /// F&O: the company of callers that name none.
    pub default_company: String,
    /// F&O: companies per caller (the Authorization header).
    pub caller_companies: BTreeMap<String, String>,
    /// How long a Dataverse delta token stays valid.
    pub token_ttl: Duration,
    pub counters: Counters,
    /// Dataverse: most requests per `$batch`.
    pub max_batch: usize,
    /// Record writes as [`DataChange`]s (F&O data events are subscribed).
    pub emit_changes: bool,
}

/// Dataverse error codes the emulator answers with.
pub mod codes {
    pub const NOT_FOUND: &str = "0x80040217";
    pub const DUPLICATE: &str = "0x80040237";
    pub const BAD_REQUEST: &str = "0x80048d19";
    pub const VALIDATION: &str = "0x80044331";
    pub const CONCURRENCY: &str = "0x80060882";
    pub const EXPIRED_TOKEN: &str = "0x80044352";
    pub const SEGMENT: &str = "0x80060888";
}

enum Resource {
    ServiceDocument,
    Metadata,
    Batch,
    EntityDefinitions(String),
    Collection(String),
    Entity(String, KeySpec),
}

#[derive(Debug, Clone)]
enum KeySpec {
    Single(Value),
    Named(Vec<(String, Value)>),
}

/// Where a key points.
struct Located {
    /// The primary key text, when it could be computed (the row may still be missing).
    key: Option<String>,
    /// The key's values, to assign when an upsert creates the row.
    values: Map<String, Value>,
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

impl Service {
    /// A service over `schema` with no data.
    pub fn new(schema: Schema, metadata: Vec<u8>) -> Self {
        let store = Store {
            tables: schema
                .tables
                .iter()
                .map(|(name, table)| (name.clone(), TableData::new(table)))
                .collect(),
            version: 0,
        };
        Service {
            schema,
            metadata,
            metadata_json: BTreeMap::new(),
            store,
            default_company: "usmf".into(),
            caller_companies: BTreeMap::new(),
            token_ttl: Duration::from_secs(90 * 24 * 3600),
            counters: Counters::default(),
            max_batch: 1000,
            emit_changes: false,
        }
    }

    pub fn flavor(&self) -> Flavor {
        self.schema.flavor
    }

    fn root_url(&self, request: &Request) -> String {
        format!("{}{}", request.origin, self.flavor().root())
    }

    /// The service's error answer.
    pub fn error(&self, status: u16, code: &str, message: &str) -> Response {
        let body = match self.flavor() {
            Flavor::Dataverse => json!({"error": {"code": code, "message": message}}),
            Flavor::Fo if status >= 400 && code == "infolog" => json!({"error": {
                "code": "",
                "message": "An error has occurred.",
                "innererror": {
                    "message": message,
                    "type": "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException",
                    "stacktrace": ""
                }
            }}),
            Flavor::Fo => json!({"error": {"code": "", "message": message}}),
        };
        Response::json(status, &body)
    }

    fn company_of(&self, caller: &str) -> String {
        self.caller_companies
            .get(caller)
            .cloned()
            .unwrap_or_else(|| self.default_company.clone())
    }

    /// Answers one request; writes are recorded in `journal` (for change-set rollback) and
    /// `changes` (for data events).
    pub fn handle(
        &mut self,
        request: &Request,
        journal: &mut Vec<Undo>,
        changes: &mut Vec<DataChange>,
    ) -> Response {
        self.counters.requests += 1;
        let resource = match parse_resource(&request.path) {
            Ok(r) => r,
            Err(message) => return self.error(400, codes::SEGMENT, &message),
        };
        let method = request.method.as_str();
        match (resource, method) {
            (Resource::ServiceDocument, "GET") => self.service_document(request),
            (Resource::Metadata, "GET") => Response {
                status: 200,
                headers: vec![("Content-Type".into(), "application/xml".into())],
                body: self.metadata.clone(),
            },
            (Resource::Batch, _) => {
                self.error(400, codes::BAD_REQUEST, "$batch is answered by the batch handler")
            }
            (Resource::EntityDefinitions(rest), "GET") => self.entity_definitions(&rest),
            (Resource::Collection(set), "GET") => self.read_collection(request, &set),
            (Resource::Collection(set), "POST") => self.create(request, &set, journal, changes),
            (Resource::Entity(set, key), "GET") => self.read_entity(request, &set, &key),
            (Resource::Entity(set, key), "PATCH" | "PUT") => {
                self.update(request, &set, &key, journal, changes)
            }
            (Resource::Entity(set, key), "DELETE") => self.delete(request, &set, &key, journal, changes),
            (_, method) => self.error(
                405,
                codes::BAD_REQUEST,
                &format!(
                    "The HTTP method '{}' is not allowed on this resource.",
                    excerpt(method)
                ),
            ),
        }
    }

    fn service_document(&self, request: &Request) -> Response {
        let root = self.root_url(request);
        let sets: Vec<Value> = self
            .schema
            .tables
            .keys()
            .map(|name| json!({"name": name, "kind": "EntitySet", "url": name}))
            .collect();
        Response::json(
            200,
            &json!({"@odata.context": format!("{root}$metadata"), "value": sets}),
        )
    }

    /// `EntityDefinitions(LogicalName='x')/Attributes/Microsoft.Dynamics.CRM.<Kind>AttributeMetadata`,
    /// answered from the option-set files of the service folder.
    fn entity_definitions(&self, rest: &str) -> Response {
        if self.flavor() != Flavor::Dataverse {
            return self.error(
                404,
                "",
                "No HTTP resource was found that matches the request URI.",
            );
        }
        let table = rest
            .split_once("LogicalName='")
            .and_then(|(_, r)| r.split_once('\''))
            .map(|(name, _)| name.to_string())
            .unwrap_or_default();
        let kind = rest
            .split("Microsoft.Dynamics.CRM.")
            .nth(1)
            .and_then(|k| k.strip_suffix("AttributeMetadata"))
            .unwrap_or("");
        if kind.is_empty() {
            return match self.metadata_json.get(&format!("{table}.EntityMetadata")) {
                Some(text) => Response {
                    status: 200,
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: text.clone().into_bytes(),
                },
                None => self.error(
                    404,
                    codes::NOT_FOUND,
                    &format!("Could not find entity '{}'", excerpt(&table)),
                ),
            };
        }
        let body = self
            .metadata_json
            .get(&format!("{table}.{kind}OptionSetAttribute"))
            .cloned()
            .unwrap_or_else(|| r#"{"value":[]}"#.to_string());
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into_bytes(),
        }
    }

    fn table(&self, set: &str) -> Result<Arc<Table>, Response> {
        self.schema.tables.get(set).cloned().ok_or_else(|| {
            self.error(
                404,
                codes::SEGMENT,
                &format!("Resource not found for the segment '{}'.", excerpt(set)),
            )
        })
    }

    /// Renders a row as the service sends it: every column (null when unset) or the selected ones
    /// and the key, with `@odata.etag`.
    fn render(&self, table: &Table, row: &Row, select: Option<&[String]>) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("@odata.etag".into(), Value::String(etag(row.version)));
        match select {
            Some(columns) => {
                for name in table.key.iter().chain(columns.iter()) {
                    out.insert(name.clone(), row.data.get(name).cloned().unwrap_or(Value::Null));
                }
            }
            None => {
                for name in table.columns.keys() {
                    out.insert(name.clone(), row.data.get(name).cloned().unwrap_or(Value::Null));
                }
            }
        }
        out
    }

    fn parse_select(&self, table: &Table, request: &Request) -> Result<Option<Vec<String>>, Response> {
        let Some(text) = request.option("$select") else {
            return Ok(None);
        };
        let mut columns = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !table.columns.contains_key(name) {
                return Err(self.error(
                    400,
                    codes::BAD_REQUEST,
                    &format!(
                        "Could not find a property named '{}' on type '{}'.",
                        excerpt(name),
                        table.type_name
                    ),
                ));
            }
            columns.push(name.to_string());
        }
        Ok(Some(columns))
    }

    fn read_entity(&mut self, request: &Request, set: &str, key: &KeySpec) -> Response {
        let table = match self.table(set) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let select = match self.parse_select(&table, request) {
            Ok(s) => s,
            Err(r) => return r,
        };
        let located = match self.locate(&table, key) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let Some(row) = located
            .key
            .as_ref()
            .and_then(|k| self.store.tables.get(set)?.rows.get(k))
        else {
            return self.not_found(&table, key);
        };
        // Conditional retrieval: the ETag the caller holds is still current (never with $expand).
        if request.option("$expand").is_none()
            && request
                .header("if-none-match")
                .is_some_and(|v| v.split(',').any(|t| t.trim() == etag(row.version)))
        {
            let mut response = Response::empty(304);
            response.headers.push(("ETag".into(), etag(row.version)));
            return response;
        }
        let mut body = self.render(&table, row, select.as_deref());
        if let Err(r) = self.expand(request, &table, row, &mut body) {
            return r;
        }
        body.insert(
            "@odata.context".into(),
            Value::String(format!(
                "{}$metadata#{}/$entity",
                self.root_url(request),
                context_set(set, select.as_deref())
            )),
        );
        let mut response = Response::json(200, &Value::Object(body));
        response.headers.push(("ETag".into(), etag(row.version)));
        response
    }

    fn not_found(&self, table: &Table, key: &KeySpec) -> Response {
        let text = key_spec_text(key);
        match self.flavor() {
            Flavor::Dataverse => self.error(
                404,
                codes::NOT_FOUND,
                &format!(
                    "{} With Id = {} Does Not Exist",
                    table.type_name.rsplit('.').next().unwrap_or(&table.type_name),
                    excerpt(&text)
                ),
            ),
            Flavor::Fo => self.error(404, "", "No resources were found when selecting for update."),
        }
    }

    /// `$expand` of single-valued navigation properties, one level.
    fn expand(
        &self,
        request: &Request,
        table: &Table,
        row: &Row,
        out: &mut Map<String, Value>,
    ) -> Result<(), Response> {
        let Some(text) = request.option("$expand") else {
            return Ok(());
        };
        for item in split_top_level(text, ',') {
            let item = item.trim();
            let (name, options) = match item.split_once('(') {
                Some((name, rest)) => (name.trim(), rest.strip_suffix(')').unwrap_or(rest)),
                None => (item, ""),
            };
            let Some((target_set, constraints)) = table.navigations.get(name) else {
                return Err(self.error(
                    400,
                    codes::BAD_REQUEST,
                    &format!(
                        "Could not find a single-valued navigation property named '{}' on type '{}' (the emulator expands one level of single-valued navigation properties).",
                        excerpt(name),
                        table.type_name
                    ),
                ));
            };
            let Some(target_table) = self.schema.tables.get(target_set) else {
                continue;
            };
            let target_key = if let Some(lookup) = table.lookups.get(name) {
                row.data
                    .get(&lookup.column)
                    .filter(|v| !v.is_null())
                    .map(key_value_text)
            } else {
                let mut values = Map::new();
                for (dependent, principal) in constraints {
                    if let Some(v) = row.data.get(dependent) {
                        values.insert(principal.clone(), v.clone());
                    }
                }
                key_text(&target_table.key, &values)
            };
            let select: Option<Vec<String>> = options
                .split(';')
                .find_map(|o| o.trim().strip_prefix("$select="))
                .map(|s| s.split(',').map(|c| c.trim().to_string()).collect());
            let target = target_key
                .and_then(|k| self.store.tables.get(target_set)?.rows.get(&k))
                .map(|r| Value::Object(self.render(target_table, r, select.as_deref())))
                .unwrap_or(Value::Null);
            out.insert(name.to_string(), target);
        }
        Ok(())
    }

    fn read_collection(&mut self, request: &Request, set: &str) -> Response {
        let table = match self.table(set) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let flavor = self.flavor();
        let tracking = request.prefers("odata.track-changes") || request.option("$deltatoken").is_some();
        if tracking {
            if flavor != Flavor::Dataverse {
                return self.error(400, "", "Change tracking is not supported by this service.");
            }
            for option in ["$filter", "$orderby", "$expand", "$top", "$skip"] {
                if request.option(option).is_some() {
                    return self.error(
                        400,
                        codes::BAD_REQUEST,
                        &format!("The \"{option}\" query parameter isn't supported when Change Tracking is enabled."),
                    );
                }
            }
            if let Some(token) = request.option("$deltatoken") {
                return self.read_changes(request, &table, token);
            }
        }
        if flavor == Flavor::Dataverse && request.option("$skip").is_some() {
            return self.error(
                400,
                codes::BAD_REQUEST,
                "The query parameter $skip is not supported",
            );
        }
        let select = match self.parse_select(&table, request) {
            Ok(s) => s,
            Err(r) => return r,
        };
        let filter = match request.option("$filter") {
            None => None,
            Some(text) => match filter::parse(text).and_then(|e| {
                filter::check(&e, &*table, flavor.dialect())?;
                Ok(e)
            }) {
                Ok(e) => Some(e),
                Err(e) => return self.error(400, codes::BAD_REQUEST, &e.to_string()),
            },
        };
        let order = match request.option("$orderby") {
            None => None,
            Some(text) => match filter::parse_order_by(text).and_then(|o| {
                filter::check_order_by(&o, &*table)?;
                Ok(o)
            }) {
                Ok(o) => Some(o),
                Err(e) => return self.error(400, codes::BAD_REQUEST, &e.to_string()),
            },
        };
        let number = |name: &str| -> Result<Option<usize>, Response> {
            match request.option(name) {
                None => Ok(None),
                Some(text) => text.parse().map(Some).map_err(|_| {
                    self.error(
                        400,
                        codes::BAD_REQUEST,
                        &format!("Invalid value '{}' for {name}.", excerpt(text)),
                    )
                }),
            }
        };
        let (top, skip) = match (number("$top"), number("$skip")) {
            (Ok(t), Ok(s)) => (t, s.unwrap_or(0)),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let offset: usize = request
            .option("$skiptoken")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        // F&O: the caller's company unless cross-company.
        let company = (flavor == Flavor::Fo
            && table.company_specific
            && request.option("cross-company") != Some("true"))
        .then(|| self.company_of(&request.caller));
        let Some(data) = self.store.tables.get(set) else {
            return self.error(500, "", "table missing");
        };
        let dialect = flavor.dialect();
        let mut rows: Vec<&Row> = data
            .rows
            .values()
            .filter(|row| {
                company
                    .as_ref()
                    .is_none_or(|c| row.data.get("dataAreaId").and_then(Value::as_str) == Some(c.as_str()))
            })
            .filter(|row| {
                filter
                    .as_ref()
                    .is_none_or(|f| filter::evaluate(f, &row.data, &*table, dialect))
            })
            .collect();
        if let Some(order) = &order {
            rows.sort_by(|a, b| filter::compare_rows(order, &a.data, &b.data, &*table));
        }
        let total = rows.len();
        let end = top.map_or(total, |t| skip.saturating_add(t).min(total));
        let start = skip.saturating_add(offset).min(end);
        let page = request
            .max_page_size()
            .unwrap_or(flavor.max_page())
            .clamp(1, flavor.max_page());
        let stop = start.saturating_add(page).min(end);
        let root = self.root_url(request);
        // The rows as JSON text, written straight from the stored values (a page can hold 10,000 rows
        // of hundreds of columns; no intermediate objects unless `$expand` needs them).
        let mut values: Vec<u8> = Vec::with_capacity((stop - start) * 256);
        let expanding = request.option("$expand").is_some();
        for (i, row) in rows[start..stop].iter().enumerate() {
            if i > 0 {
                values.push(b',');
            }
            if expanding {
                let mut rendered = self.render(&table, row, select.as_deref());
                if let Err(r) = self.expand(request, &table, row, &mut rendered) {
                    return r;
                }
                let _ = serde_json::to_writer(&mut values, &rendered);
            } else {
                write_row(&mut values, &table, row, select.as_deref());
            }
        }
        let mut body = Map::new();
        body.insert(
            "@odata.context".into(),
            Value::String(format!("{root}$metadata#{}", context_set(set, select.as_deref()))),
        );
        // Every matching record, whatever `$top` and `$skip` (OData URL conventions, `$count`).
        if request.option("$count") == Some("true") {
            body.insert("@odata.count".into(), Value::Number(Number::from(total)));
        }
        let mut tail = Map::new();
        if stop < end {
            let mut query: Vec<(String, String)> = request
                .query
                .iter()
                .filter(|(n, _)| n != "$skiptoken")
                .cloned()
                .collect();
            query.push(("$skiptoken".into(), (offset + (stop - start)).to_string()));
            tail.insert("@odata.nextLink".into(), Value::String(link(&root, set, &query)));
        } else if tracking {
            let mut query: Vec<(String, String)> = request
                .query
                .iter()
                .filter(|(n, _)| n == "$select")
                .cloned()
                .collect();
            // The token is the version when the read started (see `$trackstart`), so changes made
            // while the pages were read come again with the first delta.
            let start_version = request
                .option("$trackstart")
                .and_then(|v| v.parse().ok())
                .unwrap_or(self.store.version);
            query.push(("$deltatoken".into(), format!("{start_version}!{}", now_ms())));
            tail.insert("@odata.deltaLink".into(), Value::String(link(&root, set, &query)));
        }
        if tracking
            && stop < end
            && let Some(Value::String(next)) = tail.get_mut("@odata.nextLink")
            && request.option("$trackstart").is_none()
        {
            next.push_str(&format!("&$trackstart={}", self.store.version));
        }
        let mut text = Value::Object(body).to_string().into_bytes();
        text.pop();
        if text.len() > 1 {
            text.push(b',');
        }
        text.extend_from_slice(b"\"value\":[");
        text.extend_from_slice(&values);
        text.push(b']');
        let tail = Value::Object(tail).to_string();
        if tail.len() > 2 {
            text.push(b',');
            text.extend_from_slice(&tail.as_bytes()[1..]);
        } else {
            text.push(b'}');
        }
        let mut response = Response::json(200, &Value::Null);
        response.body = text;
        if tracking {
            response
                .headers
                .push(("Preference-Applied".into(), "odata.track-changes".into()));
        }
        if let Some(n) = request.max_page_size() {
            response.headers.push((
                "Preference-Applied".into(),
                format!("odata.maxpagesize={}", n.min(page)),
            ));
        }
        response
    }

    /// The changes since a delta token: new and updated records first, then deletions.
    fn read_changes(&mut self, request: &Request, table: &Table, token: &str) -> Response {
        let parsed = token
            .split_once('!')
            .and_then(|(v, t)| Some((v.parse::<u64>().ok()?, t.parse::<u128>().ok()?)));
        let Some((since, issued)) = parsed else {
            return self.error(
                400,
                codes::EXPIRED_TOKEN,
                "The delta token is not valid. Please perform a full sync.",
            );
        };
        if now_ms().saturating_sub(issued) > self.token_ttl.as_millis() || since > self.store.version {
            return self.error(
                400,
                codes::EXPIRED_TOKEN,
                "Version stamp associated with the client has expired. Please perform a full sync.",
            );
        }
        let select = match self.parse_select(table, request) {
            Ok(s) => s,
            Err(r) => return r,
        };
        let Some(data) = self.store.tables.get(&table.set) else {
            return self.error(500, "", "table missing");
        };
        let now = self.store.version;
        let root = self.root_url(request);
        let mut changed: Vec<&Row> = data.rows.values().filter(|r| r.version > since).collect();
        changed.sort_by_key(|r| r.version);
        let mut deleted: Vec<&Tombstone> = data.deleted.values().filter(|t| t.version > since).collect();
        deleted.sort_by_key(|t| t.version);
        let mut values: Vec<Value> = changed
            .iter()
            .map(|row| Value::Object(self.render(table, row, select.as_deref())))
            .collect();
        values.extend(deleted.iter().map(|t| {
            json!({
                "@odata.context": format!("{root}$metadata#{}/$deletedEntity", table.set),
                "id": t.id,
                "reason": "deleted"
            })
        }));
        let mut query: Vec<(String, String)> = request
            .query
            .iter()
            .filter(|(n, _)| n == "$select")
            .cloned()
            .collect();
        query.push(("$deltatoken".into(), format!("{now}!{}", now_ms())));
        let body = json!({
            "@odata.context": format!("{root}$metadata#{}/$delta", context_set(&table.set, select.as_deref())),
            "value": values,
            "@odata.deltaLink": link(&root, &table.set, &query),
        });
        Response::json(200, &body)
    }

    /// Where a key points: the primary key text (computed from the key, or looked up through an
    /// alternate key) and the key's values.
    fn locate(&self, table: &Table, key: &KeySpec) -> Result<Located, Response> {
        let mut values = Map::new();
        match key {
            KeySpec::Single(value) => {
                if table.key.len() != 1 {
                    return Err(self.error(
                        400,
                        codes::BAD_REQUEST,
                        &format!(
                            "The key of '{}' has {} parts: name them.",
                            table.set,
                            table.key.len()
                        ),
                    ));
                }
                values.insert(table.key[0].clone(), value.clone());
            }
            KeySpec::Named(parts) => {
                for (name, value) in parts {
                    values.insert(name.clone(), value.clone());
                }
            }
        }
        // F&O: "all fields in the entity key must be provided" (Microsoft's OData article), dataAreaId too.
        if self.flavor() == Flavor::Fo && table.company_specific && !values.contains_key("dataAreaId") {
            return Err(self.error(
                400,
                "",
                &format!(
                    "The number of keys specified in the URI does not match number of key properties for the resource '{}'.",
                    table.type_name
                ),
            ));
        }
        let names: std::collections::BTreeSet<&str> = values.keys().map(String::as_str).collect();
        let primary: std::collections::BTreeSet<&str> = table.key.iter().map(String::as_str).collect();
        if names == primary {
            return Ok(Located {
                key: key_text(&table.key, &values),
                values,
            });
        }
        for (i, columns) in table.alternate_keys.iter().enumerate() {
            let alternate: std::collections::BTreeSet<&str> = columns.iter().map(String::as_str).collect();
            if names == alternate {
                let text = key_text(columns, &values).unwrap_or_default();
                let key = self
                    .store
                    .tables
                    .get(&table.set)
                    .and_then(|d| d.by_alternate(i, &text))
                    .cloned();
                return Ok(Located { key, values });
            }
        }
        Err(self.error(
            400,
            codes::BAD_REQUEST,
            &format!(
                "The key '{}' is neither the key nor an alternate key of '{}'.",
                excerpt(&key_spec_text(key)),
                table.set
            ),
        ))
    }

    /// Applies a request body's properties onto `data` (validated; binds resolved).
    fn apply_body(
        &self,
        table: &Table,
        body: &Map<String, Value>,
        data: &mut Map<String, Value>,
    ) -> Result<(), Response> {
        for (name, value) in body {
            if let Some(navigation) = name.strip_suffix("@odata.bind") {
                let Some(lookup) = table.lookups.get(navigation) else {
                    return Err(self.error(
                        400,
                        codes::BAD_REQUEST,
                        &format!(
                            "An undeclared property '{}' which only has property annotations in the payload but no property value was found in the payload.",
                            excerpt(navigation)
                        ),
                    ));
                };
                let target = match value {
                    Value::Null => Value::Null,
                    Value::String(link) => Value::String(self.resolve_bind(link, &lookup.target_set)?),
                    _ => return Err(self.error(400, codes::BAD_REQUEST, "A bind must be a URL string.")),
                };
                data.insert(lookup.column.clone(), target);
                continue;
            }
            if name.starts_with('@') || name.contains('@') {
                continue;
            }
            let Some(column) = table.columns.get(name) else {
                return Err(self.error(
                    400,
                    codes::BAD_REQUEST,
                    &format!(
                        "The property '{}' does not exist on type '{}'. Make sure to only use property names that are defined by the type.",
                        excerpt(name),
                        table.type_name
                    ),
                ));
            };
            if column.read_only {
                return Err(self.error(
                    400,
                    codes::BAD_REQUEST,
                    &format!("The property '{}' is read-only and cannot be set.", name),
                ));
            }
            if let Err(message) = check_value(column, value) {
                return Err(self.error(400, codes::VALIDATION, &message));
            }
            let value = match (column.kind, value) {
                (EdmKind::Guid, Value::String(s)) => Value::String(s.to_ascii_lowercase()),
                // IEEE754Compatible strings are stored as the number they stand for.
                (EdmKind::Decimal, Value::String(s)) => serde_json::from_str::<Number>(s)
                    .map(Value::Number)
                    .unwrap_or(Value::Null),
                _ => value.clone(),
            };
            data.insert(name.clone(), value);
        }
        Ok(())
    }

    /// `/set(key)`, `set(key)` or an absolute URL of the service, to the target's primary key value.
    fn resolve_bind(&self, link: &str, expected_set: &str) -> Result<String, Response> {
        let root = self.flavor().root();
        let path = match link.find(root) {
            Some(at) if link.starts_with("http") => &link[at + root.len()..],
            _ => link.trim_start_matches('/'),
        };
        let bad = || {
            self.error(
                400,
                codes::BAD_REQUEST,
                &format!(
                    "The bind '{}' is not a URL of an entity of '{expected_set}'.",
                    excerpt(link)
                ),
            )
        };
        let Ok(Resource::Entity(set, key)) = parse_resource(&crate::text::percent_decode(path, false)) else {
            return Err(bad());
        };
        if set != expected_set {
            return Err(bad());
        }
        let table = self.table(&set)?;
        let located = self.locate(&table, &key)?;
        let row = located
            .key
            .as_ref()
            .and_then(|k| self.store.tables.get(&set)?.rows.get(k))
            .ok_or_else(|| self.not_found(&table, &key))?;
        Ok(row
            .data
            .get(&table.key[0])
            .map(key_value_text)
            .unwrap_or_default())
    }

    fn parse_body(&self, request: &Request) -> Result<Map<String, Value>, Response> {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(_) => Err(self.error(400, codes::BAD_REQUEST, "The request body must be a JSON object.")),
            Err(e) => Err(self.error(
                400,
                codes::BAD_REQUEST,
                &format!("The request body is not valid JSON: {}", excerpt(&e.to_string())),
            )),
        }
    }

    fn entity_url(&self, request: &Request, table: &Table, row: &Row) -> String {
        let key = if table.key.len() == 1 {
            literal(row.data.get(&table.key[0]).unwrap_or(&Value::Null))
        } else {
            table
                .key
                .iter()
                .map(|k| format!("{k}={}", literal(row.data.get(k).unwrap_or(&Value::Null))))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!("{}{}({})", self.root_url(request), table.set, key)
    }

    fn fill_defaults(&self, table: &Table, data: &mut Map<String, Value>, request: &Request) {
        match self.flavor() {
            Flavor::Dataverse => {
                if table.key.len() == 1
                    && table
                        .columns
                        .get(&table.key[0])
                        .is_some_and(|c| c.kind == EdmKind::Guid)
                    && data.get(&table.key[0]).is_none_or(Value::is_null)
                {
                    data.insert(
                        table.key[0].clone(),
                        Value::String(new_guid(self.store.version + 1)),
                    );
                }
                for (name, value) in [("createdon", now_value()), ("modifiedon", now_value())] {
                    if table.columns.contains_key(name) && !data.contains_key(name) {
                        data.insert(name.into(), value);
                    }
                }
            }
            Flavor::Fo => {
                if table.company_specific && data.get("dataAreaId").is_none_or(Value::is_null) {
                    data.insert(
                        "dataAreaId".into(),
                        Value::String(self.company_of(&request.caller)),
                    );
                }
                // F&O fills non-nullable columns with their type's default.
                for column in table.columns.values() {
                    if !column.nullable
                        && !data.contains_key(&column.name)
                        && !table.key.contains(&column.name)
                    {
                        let default = match column.kind {
                            EdmKind::String => Value::String(String::new()),
                            EdmKind::Boolean => Value::Bool(false),
                            EdmKind::Int | EdmKind::Decimal | EdmKind::Double => {
                                Value::Number(Number::from(0))
                            }
                            EdmKind::Enum => column
                                .enum_type
                                .as_ref()
                                .and_then(|(_, m)| m.first())
                                .map_or(Value::Null, |m| Value::String(m.clone())),
                            EdmKind::Date => Value::String("1900-01-01".into()),
                            EdmKind::DateTimeOffset => Value::String("1900-01-01T00:00:00Z".into()),
                            _ => continue,
                        };
                        data.insert(column.name.clone(), default);
                    }
                }
            }
        }
    }

    fn store_row(
        &mut self,
        table: &Table,
        key: String,
        data: Map<String, Value>,
        journal: &mut Vec<Undo>,
    ) -> Row {
        self.store.version += 1;
        let row = Row {
            data,
            version: self.store.version,
        };
        let Some(tab) = self.store.tables.get_mut(&table.set) else {
            return row;
        };
        let tombstone = tab.deleted.get(&key).cloned();
        let previous = tab.put(table, key.clone(), row.clone());
        journal.push(Undo {
            set: table.set.clone(),
            key,
            row: previous,
            tombstone,
        });
        *self.counters.writes.entry(table.set.clone()).or_default() += 1;
        row
    }

    fn duplicate(&self, table: &Table, what: &str) -> Response {
        match self.flavor() {
            Flavor::Dataverse => self.error(412, codes::DUPLICATE, &format!("A record with matching key values already exists ({what}).")),
            Flavor::Fo => self.error(
                400,
                "infolog",
                &format!(
                    "Write failed for table row of type '{}'. Infolog: Error: Cannot create a record in {}. The record already exists.",
                    table.type_name.rsplit('.').next().unwrap_or(&table.type_name),
                    table.set
                ),
            ),
        }
    }

    fn create(
        &mut self,
        request: &Request,
        set: &str,
        journal: &mut Vec<Undo>,
        changes: &mut Vec<DataChange>,
    ) -> Response {
        let table = match self.table(set) {
            Ok(t) => t,
            Err(r) => return r,
        };
        if let Err(r) = self.parse_select(&table, request) {
            return r;
        }
        let body = match self.parse_body(request) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut data = Map::new();
        if let Err(r) = self.apply_body(&table, &body, &mut data) {
            return r;
        }
        self.fill_defaults(&table, &mut data, request);
        let Some(key) = key_text(&table.key, &data) else {
            return self.error(
                400,
                codes::BAD_REQUEST,
                &format!(
                    "The key of '{}' ({}) must be given.",
                    table.set,
                    table.key.join(", ")
                ),
            );
        };
        let exists = self
            .store
            .tables
            .get(set)
            .is_some_and(|d| d.rows.contains_key(&key));
        if exists {
            return self.duplicate(&table, "key");
        }
        if let Some(columns) = self
            .store
            .tables
            .get(set)
            .and_then(|d| d.alternate_conflict(&table, &key, &data))
        {
            return self.duplicate(&table, &columns.join(", "));
        }
        let row = self.store_row(&table, key, data, journal);
        self.note(changes, &table, "Create", &row);
        let url = self.entity_url(request, &table, &row);
        self.write_answer(request, &table, &row, url, true)
    }

    fn write_answer(
        &self,
        request: &Request,
        table: &Table,
        row: &Row,
        url: String,
        created: bool,
    ) -> Response {
        let representation = request.prefers("return=representation")
            || (self.flavor() == Flavor::Fo && created && !request.prefers("return=minimal"));
        // `$select` on the write URL chooses the columns returned (checked before the write).
        let select = self.parse_select(table, request).ok().flatten();
        let mut response = if representation {
            let mut body = self.render(table, row, select.as_deref());
            // `$expand` works as on a read (create with data returned); a bad one was refused on reads.
            let _ = self.expand(request, table, row, &mut body);
            body.insert(
                "@odata.context".into(),
                Value::String(format!(
                    "{}$metadata#{}/$entity",
                    self.root_url(request),
                    context_set(&table.set, select.as_deref())
                )),
            );
            let mut r = Response::json(if created { 201 } else { 200 }, &Value::Object(body));
            if request.prefers("return=representation") {
                r.headers
                    .push(("Preference-Applied".into(), "return=representation".into()));
            }
            r
        } else {
            Response::empty(204)
        };
        // Dataverse: "When an entity is created in this way the OData-EntityId header containing the URI
        // to the created record is not returned" (create with data returned).
        if !(self.flavor() == Flavor::Dataverse && created && representation) {
            response.headers.push(("OData-EntityId".into(), url.clone()));
        }
        if created {
            response.headers.push(("Location".into(), url));
        }
        response.headers.push(("ETag".into(), etag(row.version)));
        response
    }

    /// Records a write for data events, when someone listens (rendering every write costs).
    fn note(&self, changes: &mut Vec<DataChange>, table: &Table, operation: &'static str, row: &Row) {
        if self.emit_changes {
            changes.push(self.change(table, operation, row));
        }
    }

    fn change(&self, table: &Table, operation: &'static str, row: &Row) -> DataChange {
        DataChange {
            set: table.set.clone(),
            operation,
            company: row
                .data
                .get("dataAreaId")
                .and_then(Value::as_str)
                .map(str::to_string),
            record: self.render(table, row, None),
        }
    }

    /// Checks `If-Match` / `If-None-Match` against the row (or its absence).
    fn preconditions(
        &self,
        request: &Request,
        table: &Table,
        key: &KeySpec,
        row: Option<&Row>,
    ) -> Result<(), Response> {
        if let Some(if_match) = request.header("if-match") {
            let Some(row) = row else {
                return Err(self.not_found(table, key));
            };
            let current = etag(row.version);
            let matches = if_match.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t == current || t.trim_start_matches("W/") == current.trim_start_matches("W/")
            });
            if !matches {
                return Err(self.error(
                    412,
                    codes::CONCURRENCY,
                    "The version of the existing record doesn't match the RowVersion property provided.",
                ));
            }
        }
        if request.header("if-none-match").is_some_and(|v| v.trim() == "*") && row.is_some() {
            return Err(self.error(
                412,
                codes::DUPLICATE,
                "A record with matching key values already exists.",
            ));
        }
        Ok(())
    }

    fn update(
        &mut self,
        request: &Request,
        set: &str,
        key: &KeySpec,
        journal: &mut Vec<Undo>,
        changes: &mut Vec<DataChange>,
    ) -> Response {
        let table = match self.table(set) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let located = match self.locate(&table, key) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let existing = located
            .key
            .as_ref()
            .and_then(|k| self.store.tables.get(set)?.rows.get(k))
            .cloned();
        if let Err(r) = self.preconditions(request, &table, key, existing.as_ref()) {
            return r;
        }
        if let Err(r) = self.parse_select(&table, request) {
            return r;
        }
        let body = match self.parse_body(request) {
            Ok(b) => b,
            Err(r) => return r,
        };
        // Key values in the body must agree with the URL.
        for (name, value) in &located.values {
            if let Some(given) = body.get(name)
                && key_value_text(given) != key_value_text(value)
            {
                return self.error(
                    400,
                    codes::BAD_REQUEST,
                    &format!("The key property '{name}' cannot be changed."),
                );
            }
        }
        let creating = existing.is_none();
        if creating && self.flavor() == Flavor::Fo {
            return self.not_found(&table, key);
        }
        let mut data = match &existing {
            Some(row) if request.method != "PUT" => row.data.clone(),
            Some(row) => table
                .key
                .iter()
                .filter_map(|k| row.data.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
            None => located.values.clone(),
        };
        if let Err(r) = self.apply_body(&table, &body, &mut data) {
            return r;
        }
        if creating {
            self.fill_defaults(&table, &mut data, request);
        } else if table.columns.contains_key("modifiedon") && self.flavor() == Flavor::Dataverse {
            data.insert("modifiedon".into(), now_value());
        }
        let Some(new_key) = key_text(&table.key, &data) else {
            return self.error(400, codes::BAD_REQUEST, "The key must be given.");
        };
        if let Some(columns) = self
            .store
            .tables
            .get(set)
            .and_then(|d| d.alternate_conflict(&table, &new_key, &data))
        {
            return self.duplicate(&table, &columns.join(", "));
        }
        let row = self.store_row(&table, new_key, data, journal);
        self.note(changes, &table, if creating { "Create" } else { "Update" }, &row);
        // Dataverse answers an upsert by alternate key with the alternate key's URL, as addressed.
        let by_alternate_key = matches!(key, KeySpec::Named(parts)
            if parts.len() != table.key.len() || parts.iter().any(|(n, _)| !table.key.contains(n)));
        let url = if self.flavor() == Flavor::Dataverse && by_alternate_key {
            format!("{}{}({})", self.root_url(request), table.set, key_spec_text(key))
        } else {
            self.entity_url(request, &table, &row)
        };
        self.write_answer(
            request,
            &table,
            &row,
            url,
            creating && request.prefers("return=representation"),
        )
    }

    fn delete(
        &mut self,
        request: &Request,
        set: &str,
        key: &KeySpec,
        journal: &mut Vec<Undo>,
        changes: &mut Vec<DataChange>,
    ) -> Response {
        let table = match self.table(set) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let located = match self.locate(&table, key) {
            Ok(l) => l,
            Err(r) => return r,
        };
        let existing = located
            .key
            .as_ref()
            .and_then(|k| self.store.tables.get(set)?.rows.get(k))
            .cloned();
        if let Err(r) = self.preconditions(request, &table, key, existing.as_ref()) {
            return r;
        }
        let (Some(row), Some(key_text)) = (existing, located.key) else {
            return self.not_found(&table, key);
        };
        self.store.version += 1;
        let version = self.store.version;
        let id = row
            .data
            .get(&table.key[0])
            .map(key_value_text)
            .unwrap_or_default();
        if let Some(tab) = self.store.tables.get_mut(set) {
            let tombstone = tab.deleted.get(&key_text).cloned();
            tab.remove(&table, &key_text, version, id);
            journal.push(Undo {
                set: set.to_string(),
                key: key_text,
                row: Some(row.clone()),
                tombstone,
            });
        }
        *self.counters.writes.entry(set.to_string()).or_default() += 1;
        self.note(changes, &table, "Delete", &row);
        Response::empty(204)
    }

    /// Loads records as they are (admin): keys required, columns checked.
    pub fn load(&mut self, set: &str, records: &[Value]) -> Result<usize, String> {
        let table = self
            .schema
            .tables
            .get(set)
            .cloned()
            .ok_or_else(|| format!("no entity set `{}`", excerpt(set)))?;
        let mut journal = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let Value::Object(object) = record else {
                return Err(format!("{set}[{i}] is not an object"));
            };
            let mut data = Map::new();
            for (name, value) in object {
                if name.contains('@') {
                    continue;
                }
                let column = table
                    .columns
                    .get(name)
                    .ok_or_else(|| format!("{set}[{i}]: no column `{}`", excerpt(name)))?;
                check_value(column, value).map_err(|e| format!("{set}[{i}]: {e}"))?;
                let value = match (column.kind, value) {
                    (EdmKind::Guid, Value::String(s)) => Value::String(s.to_ascii_lowercase()),
                    _ => value.clone(),
                };
                data.insert(name.clone(), value);
            }
            let key = key_text(&table.key, &data).ok_or_else(|| format!("{set}[{i}] has no key"))?;
            self.store_row(&table, key, data, &mut journal);
            // A load is not undone: keep no journal.
            journal.clear();
        }
        Ok(records.len())
    }

    /// Every record, as stored (admin export and persistence).
    pub fn export(&self) -> Value {
        let mut out = Map::new();
        for (set, data) in &self.store.tables {
            if data.rows.is_empty() {
                continue;
            }
            out.insert(
                set.clone(),
                Value::Array(
                    data.rows
                        .values()
                        .map(|r| Value::Object(r.data.clone()))
                        .collect(),
                ),
            );
        }
        Value::Object(out)
    }

    /// Removes every record.
    pub fn clear(&mut self) {
        for (set, data) in self.store.tables.iter_mut() {
            if let Some(table) = self.schema.tables.get(set) {
                *data = TableData::new(table);
            }
        }
    }
}

/// The entity set of an `@odata.context`, with the selected columns as Dataverse writes them
/// (`accounts(name,revenue)`).
fn context_set(set: &str, select: Option<&[String]>) -> String {
    match select {
        Some(columns) if !columns.is_empty() => format!("{set}({})", columns.join(",")),
        _ => set.to_string(),
    }
}

/// Writes a row as JSON text: `@odata.etag`, then every column (null when unset) or the key and the
/// selected columns.
fn write_row(out: &mut Vec<u8>, table: &Table, row: &Row, select: Option<&[String]>) {
    out.extend_from_slice(b"{\"@odata.etag\":\"W/\\\"");
    out.extend_from_slice(row.version.to_string().as_bytes());
    out.extend_from_slice(b"\\\"\"");
    let mut column = |name: &String| {
        out.push(b',');
        let _ = serde_json::to_writer(&mut *out, name);
        out.push(b':');
        match row.data.get(name) {
            Some(value) => {
                let _ = serde_json::to_writer(&mut *out, value);
            }
            None => out.extend_from_slice(b"null"),
        }
    };
    match select {
        Some(columns) => table
            .key
            .iter()
            .chain(columns.iter().filter(|c| !table.key.contains(c)))
            .for_each(&mut column),
        None => table.columns.keys().for_each(&mut column),
    }
    out.push(b'}');
}

/// A weak ETag from a row version.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

fn now_value() -> Value {
    Value::String(crate::text::now_utc())
}

/// A deterministic Guid for the n-th write (the emulator's new ids).
fn new_guid(n: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        (n >> 48) as u32,
        n & 0xffff_ffff_ffff
    )
}

/// An OData URL literal of a JSON value.
fn literal(value: &Value) -> String {
    match value {
        Value::String(s) if is_guid(s) => s.clone(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => other.to_string(),
    }
}

fn link(root: &str, set: &str, query: &[(String, String)]) -> String {
    let options: Vec<String> = query
        .iter()
        .map(|(n, v)| format!("{}={}", encode_query(n), encode_query(v)))
        .collect();
    if options.is_empty() {
        format!("{root}{set}")
    } else {
        format!("{root}{set}?{}", options.join("&"))
    }
}

fn key_spec_text(key: &KeySpec) -> String {
    match key {
        KeySpec::Single(v) => literal(v),
        KeySpec::Named(parts) => parts
            .iter()
            .map(|(n, v)| format!("{n}={}", literal(v)))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Splits at `separator` outside quotes and parentheses.
fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            c if c == separator && !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A key literal: `'text'`, a Guid, a number, `true`/`false`, a date or date-time
/// (`2026-01-01T00:00:00Z`, unquoted as OData writes them), or an enum `NS.Type'Member'`.
fn parse_literal(text: &str) -> Result<Value, String> {
    let text = text.trim();
    if is_date_or_time(text) {
        return Ok(Value::String(text.to_string()));
    }
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return Ok(Value::String(inner.replace("''", "'")));
    }
    if is_guid(text) {
        return Ok(Value::String(text.to_ascii_lowercase()));
    }
    if text == "true" || text == "false" {
        return Ok(Value::Bool(text == "true"));
    }
    if let Some(quote) = text.find('\'')
        && text.ends_with('\'')
        && quote > 0
    {
        return Ok(Value::String(text[quote + 1..text.len() - 1].replace("''", "'")));
    }
    serde_json::from_str::<Number>(text)
        .map(Value::Number)
        .map_err(|_| format!("Bad key literal '{}'.", excerpt(text)))
}

/// Whether `text` is an `Edm.DateTimeOffset` (RFC 3339) or `Edm.Date` literal.
fn is_date_or_time(text: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    let date = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::parse(text, &Rfc3339).is_ok() || time::Date::parse(text, &date).is_ok()
}

/// The resource a path names.
fn parse_resource(path: &str) -> Result<Resource, String> {
    let path = path.trim_start_matches('/');
    match path {
        "" => return Ok(Resource::ServiceDocument),
        "$metadata" => return Ok(Resource::Metadata),
        "$batch" => return Ok(Resource::Batch),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("EntityDefinitions") {
        return Ok(Resource::EntityDefinitions(rest.to_string()));
    }
    let Some(open) = path.find('(') else {
        if path.contains('/') {
            return Err(format!(
                "Resource not found for the segment '{}' (the emulator serves entity sets and entities).",
                excerpt(path)
            ));
        }
        return Ok(Resource::Collection(path.to_string()));
    };
    let set = &path[..open];
    let rest = &path[open + 1..];
    let close =
        matching_paren(rest).ok_or_else(|| format!("Unbalanced parentheses in '{}'.", excerpt(path)))?;
    if !rest[close + 1..].is_empty() {
        return Err(format!(
            "Resource not found for the segment '{}' (properties and navigation paths are not served).",
            excerpt(&rest[close + 1..])
        ));
    }
    let inside = &rest[..close];
    let parts = split_top_level(inside, ',');
    let key = if parts.len() == 1 && !looks_named(parts[0]) {
        KeySpec::Single(parse_literal(parts[0])?)
    } else {
        let mut named = Vec::new();
        for part in parts {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("Bad key segment '{}'.", excerpt(inside)))?;
            named.push((name.trim().to_string(), parse_literal(value)?));
        }
        KeySpec::Named(named)
    };
    Ok(Resource::Entity(set.to_string(), key))
}

fn looks_named(part: &str) -> bool {
    match part.find('=') {
        Some(eq) => !part[..eq].contains('\''),
        None => false,
    }
}

/// The index of the `)` that closes an already opened parenthesis, outside quotes.
fn matching_paren(text: &str) -> Option<usize> {
    let (mut depth, mut quoted) = (0i32, false);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}
