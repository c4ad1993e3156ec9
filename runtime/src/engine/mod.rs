//! The sync engine (feature `engine`): initial and live sync of compiled table maps between F&O and
//! Dataverse, crash-safe over a durable [`store`].
//!
//! The flow of one change: `change (Dataverse delta link, F&O data event, initial-sync page, full
//! compare) -> queue -> map (record -> values + lookups) -> resolve lookups -> batch -> service ->
//! link state`. Rules it keeps:
//! - **Idempotent writes.** Dataverse: upsert by the alternate key over the map key (and company), or
//!   update by the linked id; F&O: PATCH when the record is linked, else POST, and an "already exists"
//!   answer turns into a PATCH: replaying a change never duplicates a record.
//! - **Durable before acknowledged.** A change is in the queue (one SQLite transaction, with the delta
//!   link that produced it) before the event is acknowledged or the delta link moves; a queue row is
//!   deleted in the same transaction that records its write in the link table.
//! - **Loop prevention.** Per record the engine keeps a fingerprint of what each side holds in the
//!   columns the other side writes ([`fingerprint`]): a change whose mapped values equal what the
//!   target already holds is not written, so the engine's own writes come back as no-ops.
//! - **Order.** Per key the latest queued change wins (coalesced); maps run in dependency order (a
//!   map whose lookups point at another map's table runs after it).
//! - **Errors.** Mapping errors and refusals of the service go to the error log with the record and
//!   the reason; throttling and outages are retried with backoff (the transport honours
//!   `Retry-After`); a map whose error share passes the threshold pauses itself and says why.

pub mod events;
pub mod fingerprint;
pub mod spec;
pub mod store;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::map::{LookupRequest, Side};
use crate::odata::{Error, OpResponse, Precondition, Request};

pub use spec::{DvChange, MapRunner, MapSpec, Mapped, Object, Services, SyncMap, WriteOp};
pub use store::{
    Checkpoint, Commit, Durability, ErrorClass, ErrorEntry, Flow, Link, MapState, Op, QueueItem, SqliteStore,
    Store, StoreError,
};

/// Why the engine stopped or refused.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Service(#[from] Error),
    #[error("no map named `{0}` (see `dualsync maps`)")]
    UnknownMap(String),
    #[error("the data-event endpoint cannot listen on {address}: {message}")]
    Listen { address: String, message: String },
    #[error("company `{company}` has no record in Dataverse's {set} (cdm_companycode = '{company}')")]
    UnknownCompany { company: String, set: String },
}

/// How a conflict (both sides changed since the last sync) is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictRule {
    /// The map's master side wins (dual-write's behaviour).
    #[default]
    MasterWins,
    /// The change that arrives last wins.
    LatestWins,
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Writes per `$batch`.
    pub batch_size: usize,
    /// Records per page of an initial sync or a full compare.
    pub page_size: u32,
    /// How often Dataverse change tracking is polled.
    pub poll_interval: Duration,
    /// How often the queue is looked at when idle.
    pub tick: Duration,
    /// How long a record waits for a lookup target before it goes to the error log.
    pub lookup_timeout: Duration,
    /// Backoff of retried changes: first wait, and the cap.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// System errors (throttling, outages) are retried this many times, then logged.
    pub max_attempts: u32,
    /// A map pauses itself when more than this share of its last `error_window` records failed.
    pub error_threshold: f64,
    pub error_window: usize,
    /// A full compare of F&O maps without data events, this often (`None`: never).
    pub full_compare_interval: Option<Duration>,
    pub conflict_rule: ConflictRule,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            batch_size: 200,
            page_size: 2000,
            poll_interval: Duration::from_secs(5),
            tick: Duration::from_millis(50),
            lookup_timeout: Duration::from_secs(600),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            max_attempts: 30,
            error_threshold: 0.5,
            error_window: 100,
            full_compare_interval: None,
            conflict_rule: ConflictRule::MasterWins,
        }
    }
}

/// A map the engine runs, for which companies, and how F&O changes arrive.
#[derive(Clone)]
pub struct MapSetup {
    pub map: Arc<dyn SyncMap>,
    /// Company codes (`usmf`) for a company-specific map; empty for a global map.
    pub companies: Vec<String>,
    /// F&O sends data events for this entity (else the periodic full compare finds its changes).
    pub fo_events: bool,
}

impl std::fmt::Debug for MapSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapSetup")
            .field("map", &self.map.spec().name)
            .field("companies", &self.companies)
            .finish()
    }
}

impl MapSetup {
    pub fn new(map: Arc<dyn SyncMap>, companies: &[&str]) -> Self {
        MapSetup {
            map,
            companies: companies.iter().map(|c| c.to_lowercase()).collect(),
            fo_events: true,
        }
    }

    fn companies(&self) -> Vec<String> {
        if self.map.spec().company_fo.is_some() && !self.companies.is_empty() {
            self.companies.clone()
        } else {
            vec![String::new()]
        }
    }
}

/// One row of the status table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MapStatus {
    pub map: String,
    pub state: String,
    pub reason: Option<String>,
    pub companies: Vec<String>,
    pub synced_to_dv: u64,
    pub synced_to_fo: u64,
    pub queued: u64,
    pub errors: u64,
    pub links: u64,
    /// Milliseconds the oldest queued change has waited.
    pub lag_ms: Option<i64>,
    /// Unix milliseconds of the last applied change.
    pub last_change: Option<i64>,
    pub initial_sync_done: bool,
}

/// A record whose mapped columns differ between the sides.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// The integration key.
    pub key: String,
    /// The Dataverse columns that differ.
    pub columns: Vec<String>,
}

/// What `reconcile` found for one map and company.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reconcile {
    pub map: String,
    pub company: String,
    /// F&O records compared.
    pub compared: u64,
    pub missing_in_dataverse: Vec<String>,
    pub missing_in_fo: Vec<String>,
    pub differing: Vec<Difference>,
    /// Repairs queued (with `fix`).
    pub queued: u64,
}

/// Counters of the engine's work since it started.
#[derive(Debug, Default)]
pub struct Counters {
    pub written: AtomicU64,
    pub skipped_echo: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub conflicts: AtomicU64,
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One record to apply.
#[derive(Debug, Clone)]
struct Item {
    company: String,
    key: String,
    op: Op,
    payload: Object,
    /// The queue rows it covers (`seq <= max_seq`), when it came from the queue.
    seq: Option<i64>,
    attempts: u32,
    first_seen: i64,
    /// The conflict rule already decided this key this round (the losing change is logged):
    /// a `412` on this write is that same conflict, not a new one to log.
    decided: bool,
}

/// What happened to one item.
enum Outcome {
    Done,
    Retry {
        reason: String,
        class: ErrorClass,
    },
    Failed {
        reason: String,
        class: ErrorClass,
    },
    /// Written without a self-reference; queue it again for the second pass.
    SecondPass,
}

/// The sync engine.
pub struct Engine {
    services: Services,
    store: Arc<dyn Store>,
    maps: Vec<MapSetup>,
    config: EngineConfig,
    /// Company code -> Dataverse id and back.
    company_ids: Mutex<HashMap<String, String>>,
    company_codes: Mutex<HashMap<String, String>>,
    /// (entity set, key column, id) -> the key value of the record a lookup points to.
    target_keys: Mutex<HashMap<(String, String, String), Value>>,
    windows: Mutex<HashMap<String, VecDeque<bool>>>,
    last_poll: Mutex<HashMap<String, Instant>>,
    last_compare: Mutex<HashMap<String, Instant>>,
    pub counters: Counters,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("maps", &self.maps).finish()
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn key_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.to_lowercase()),
        other => Some(fingerprint::canonical(other)),
    }
}

/// The integration key of a record read from one side: the map key's values, lower case (both
/// services compare keys without case), joined.
pub fn integration_key(spec: &MapSpec, flow: Flow, record: &Object) -> Option<String> {
    let mut parts = Vec::new();
    for (fo, dv) in &spec.key_pairs {
        let value = match flow {
            Flow::FoToDv => record.get(*fo),
            // A key part through a lookup is the key value of the record it points to, which
            // `expand_lookups` put in the record.
            Flow::DvToFo => match spec.lookup_read(fo, dv) {
                Some(read) => read.value_in(record),
                None => record.get(*dv),
            },
        };
        parts.push(key_text(value)?);
    }
    (!parts.is_empty()).then(|| parts.join("\u{1f}"))
}

/// What a record's column holds, read by id.
enum TargetKey {
    /// No such record, or it does not have the column.
    NotFound,
    /// The column is null.
    Empty,
    Value(Value),
}

/// Puts `value` into `record` at the end of `path` (navigation properties, objects made on the
/// way), under `leaf` when given, or as the last navigation's value.
fn put_path(record: &mut Object, path: &[&str], leaf: Option<&str>, value: Value) {
    let Some((last, before)) = path.split_last() else {
        return;
    };
    let mut at = record;
    for navigation in before {
        let slot = at
            .entry(navigation.to_string())
            .or_insert_with(|| Value::Object(Object::new()));
        if !slot.is_object() {
            // An empty lookup on the way: nothing below it.
            return;
        }
        let Value::Object(next) = slot else { return };
        at = next;
    }
    match leaf {
        None => {
            at.insert(last.to_string(), value);
        }
        Some(leaf) => {
            let slot = at
                .entry(last.to_string())
                .or_insert_with(|| Value::Object(Object::new()));
            if let Value::Object(object) = slot {
                object.insert(leaf.to_string(), value);
            }
        }
    }
}

fn json_value(text: &Option<String>) -> Option<Value> {
    text.as_deref().and_then(|t| serde_json::from_str(t).ok())
}

/// The literal of a key part from its JSON value.
fn key_literal(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(literal(s)),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn encode(text: &str) -> String {
    crate::odata::query::encode_path(text)
}

fn guid_in(url: &str) -> Option<String> {
    let inner = url.rsplit_once('(')?.1.trim_end_matches(')');
    inner.parse::<uuid::Uuid>().ok().map(|u| u.to_string())
}

/// The columns a side is paged by: Dataverse by the table's id (unique, whatever the map key is),
/// F&O by the map key's columns.
fn page_columns(spec: &MapSpec, side: Side) -> Vec<(&'static str, &'static str)> {
    match side {
        Side::Dv => vec![(spec.dv_id, "Edm.Guid")],
        Side::Fo => spec.fo_page.clone(),
    }
}

/// Where a page ends: the paging columns' values of its last record. One string column is saved as
/// it is (what checkpoints of earlier versions hold); otherwise a JSON array.
fn page_cursor(spec: &MapSpec, side: Side, record: &Object) -> Option<String> {
    let columns = page_columns(spec, side);
    let values: Vec<Value> = columns
        .iter()
        .map(|(c, _)| record.get(*c).cloned().unwrap_or(Value::Null))
        .collect();
    if values.iter().any(Value::is_null) {
        return None;
    }
    match values.as_slice() {
        [Value::String(one)] if !one.starts_with('[') => Some(one.clone()),
        _ => Some(Value::Array(values).to_string()),
    }
}

/// The OData literal of a paging value of Edm type `edm`; `None` when the value cannot be one (it
/// came from a service: nothing but a plain literal goes into the filter).
fn typed_literal(edm: &str, value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::String(text) => match edm {
            "Edm.String" => Some(literal(text)),
            "Edm.Guid" => text.parse::<uuid::Uuid>().ok().map(|u| u.to_string()),
            "Edm.Date" | "Edm.DateTimeOffset" | "Edm.TimeOfDay" | "Edm.Int64" | "Edm.Decimal" => text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+'))
                .then(|| text.clone()),
            // An enum: its qualified name and the member.
            _ if !edm.starts_with("Edm.") && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                Some(format!("{edm}'{text}'"))
            }
            _ => Some(literal(text)),
        },
        _ => None,
    }
}

/// The filter of the records after `cursor` in the order of `columns` (keyset paging):
/// `(a gt 1) or (a eq 1 and b gt 'x')`.
fn after_filter(columns: &[(&'static str, &'static str)], cursor: &str) -> Option<String> {
    let values: Vec<Value> = match serde_json::from_str::<Value>(cursor) {
        Ok(Value::Array(values)) if cursor.starts_with('[') => values,
        _ => vec![Value::String(cursor.to_string())],
    };
    let mut alternatives = Vec::new();
    for i in 0..columns.len().min(values.len()) {
        let mut terms = Vec::new();
        for (j, (column, edm)) in columns.iter().enumerate().take(i + 1) {
            let op = if j == i { "gt" } else { "eq" };
            terms.push(format!("{column} {op} {}", typed_literal(edm, &values[j])?));
        }
        alternatives.push(format!("({})", terms.join(" and ")));
    }
    (!alternatives.is_empty()).then(|| alternatives.join(" or "))
}

impl Engine {
    /// An engine over `services` and `store`, running `maps` (put in dependency order here).
    pub fn new(services: Services, store: Arc<dyn Store>, maps: Vec<MapSetup>, config: EngineConfig) -> Self {
        Engine {
            services,
            store,
            maps: dependency_order(maps),
            config,
            company_ids: Mutex::new(HashMap::new()),
            company_codes: Mutex::new(HashMap::new()),
            target_keys: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            last_poll: Mutex::new(HashMap::new()),
            last_compare: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The maps, in the order the engine runs them.
    pub fn maps(&self) -> &[MapSetup] {
        &self.maps
    }

    fn setup(&self, name: &str) -> Result<&MapSetup, EngineError> {
        self.maps
            .iter()
            .find(|m| m.map.spec().name.eq_ignore_ascii_case(name))
            .ok_or_else(|| EngineError::UnknownMap(name.to_string()))
    }

    /// Pauses a map: its changes keep arriving and are queued durably, but none is applied.
    pub fn pause(&self, map: &str) -> Result<(), EngineError> {
        let name = self.setup(map)?.map.spec().name.clone();
        self.store.set_paused(&name, true, Some("paused by the user"))?;
        Ok(())
    }

    /// Resumes a map: its queued changes are applied in order.
    pub fn resume(&self, map: &str) -> Result<(), EngineError> {
        let name = self.setup(map)?.map.spec().name.clone();
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&name);
        self.store.set_paused(&name, false, None)?;
        Ok(())
    }

    /// The status table.
    pub fn status(&self) -> Result<Vec<MapStatus>, EngineError> {
        let now = now_ms();
        let mut out = Vec::new();
        for setup in &self.maps {
            let spec = setup.map.spec();
            let state = self.store.map_state(&spec.name)?;
            let counts = self.store.counts(&spec.name)?;
            let mut done = true;
            for company in setup.companies() {
                done &= self.store.checkpoint(&spec.name, &company)?.done;
            }
            out.push(MapStatus {
                map: spec.name.clone(),
                state: if state.paused {
                    "paused".into()
                } else if !done {
                    "initial sync".into()
                } else {
                    "running".into()
                },
                reason: state.reason,
                companies: setup.companies.clone(),
                synced_to_dv: state.synced_to_dv,
                synced_to_fo: state.synced_to_fo,
                queued: counts.queued,
                errors: counts.errors,
                links: counts.links,
                lag_ms: counts.oldest_queued.map(|t| (now - t).max(0)),
                last_change: state.last_change,
                initial_sync_done: done,
            });
        }
        Ok(out)
    }

    // ----- companies and lookups -----

    async fn get_json(&self, side: Side, path: &str) -> Result<Value, Error> {
        let client_root = match side {
            Side::Dv => self.services.dataverse.url(path),
            Side::Fo => self.services.fo.url(path),
        };
        let transport = match side {
            Side::Dv => self.services.dataverse.transport(),
            Side::Fo => self.services.fo.transport(),
        };
        let response = transport.send(Request::get(client_root)).await?;
        crate::json::parse_strict(&response.body).map_err(|e| Error::Decode {
            request: response.request.clone(),
            message: e.to_string(),
        })
    }

    /// The Dataverse id of a company code.
    async fn company_id(&self, spec: &MapSpec, code: &str) -> Result<String, EngineError> {
        if let Some(id) = self
            .company_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
        {
            return Ok(id.clone());
        }
        let Some(company) = &spec.company_dv else {
            return Ok(String::new());
        };
        let found = self
            .resolve(
                company.set,
                &[(spec::COMPANY_KEY, literal(code))],
                "cdm_companyid",
            )
            .await?;
        let Some(id) = found else {
            return Err(EngineError::UnknownCompany {
                company: code.to_string(),
                set: company.set.to_string(),
            });
        };
        self.company_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(code.to_string(), id.clone());
        self.company_codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), code.to_string());
        Ok(id)
    }

    /// The company code of a Dataverse company id.
    async fn company_code(&self, set: &str, id: &str) -> Result<Option<String>, Error> {
        let id = id.to_lowercase();
        if let Some(code) = self
            .company_codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(Some(code.clone()));
        }
        let value = match self
            .get_json(Side::Dv, &format!("{set}({id})?$select={}", spec::COMPANY_KEY))
            .await
        {
            Ok(v) => v,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(code) = value.get(spec::COMPANY_KEY).and_then(Value::as_str) else {
            return Ok(None);
        };
        let code = code.to_lowercase();
        self.company_codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), code.clone());
        self.company_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(code.clone(), id);
        Ok(Some(code))
    }

    /// Finds the id of the record of `set` whose columns equal the values of `parts` (column, OData
    /// literal), through the cache.
    async fn resolve(
        &self,
        set: &str,
        parts: &[(&str, String)],
        id_column: &str,
    ) -> Result<Option<String>, Error> {
        // One column is cached as it always was; several (a record found by a key of many
        // columns) under their names and values joined.
        let columns: Vec<&str> = parts.iter().map(|(k, _)| *k).collect();
        let key = columns.join("\u{1f}");
        let value: Vec<&str> = parts.iter().map(|(_, v)| v.as_str()).collect();
        let value = value.join("\u{1f}");
        if let Ok(Some(id)) = self.store.lookup(set, &key, &value) {
            return Ok(Some(id));
        }
        let filter: Vec<String> = parts.iter().map(|(k, v)| format!("{k} eq {v}")).collect();
        let path = format!(
            "{set}?$select={id_column},{}&$filter={}&$top=1",
            columns.join(","),
            crate::odata::query::encode_query(&filter.join(" and "))
        );
        let found = self.get_json(Side::Dv, &path).await?;
        let id = found
            .get("value")
            .and_then(Value::as_array)
            .and_then(|rows| rows.first())
            .and_then(|row| row.get(id_column))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(id) = &id {
            let _ = self.store.put_lookup(set, &key, &value, id);
        }
        Ok(id)
    }

    /// The id of the record at the end of `via` whose last key column equals `value`, walked back
    /// to the first hop: what the lookup column of the target (the first hop's `key`) holds.
    async fn resolve_via(&self, via: &[crate::map::LookupHop], value: &str) -> Result<Option<String>, Error> {
        let mut value = value.to_string();
        for hop in via.iter().rev() {
            if hop.set.is_empty() || hop.id.is_empty() {
                // A table without an entity set or a key: nothing can be found in it.
                return Ok(None);
            }
            match self.resolve(hop.set, &[(hop.key, value)], hop.id).await? {
                Some(id) => value = id,
                None => return Ok(None),
            }
        }
        Ok(Some(value))
    }

    // ----- reading -----

    /// One page of `side`'s records of the map for `company`, ordered by the key, after `after`.
    async fn read_page(
        &self,
        spec: &MapSpec,
        side: Side,
        company: &str,
        after: Option<&str>,
        top: u32,
    ) -> Result<Vec<Object>, EngineError> {
        let mut filters: Vec<String> = Vec::new();
        let (set, select, filter) = match side {
            Side::Fo => (spec.fo_set, &spec.fo_select, spec.fo_filter),
            Side::Dv => (spec.dv_set, &spec.dv_select, spec.dv_filter),
        };
        let columns = page_columns(spec, side);
        if let Some(filter) = filter {
            filters.push(format!("({filter})"));
        }
        let mut extra = String::new();
        if !company.is_empty() {
            match side {
                Side::Fo => {
                    if let Some(column) = spec.company_fo {
                        filters.push(format!("{column} eq {}", literal(company)));
                        extra.push_str("&cross-company=true");
                    }
                }
                Side::Dv => {
                    if let Some(lookup) = &spec.company_dv {
                        let id = self.company_id(spec, company).await?;
                        filters.push(format!("{} eq {id}", lookup.column));
                        extra.push_str(&format!(
                            "&$expand={}",
                            crate::odata::query::encode_query(&format!(
                                "{}($select={})",
                                lookup.navigation,
                                spec::COMPANY_KEY
                            ))
                        ));
                    }
                }
            }
        }
        if let Some(after) = after {
            match after_filter(&columns, after) {
                Some(filter) => filters.push(format!("({filter})")),
                None => {
                    return Err(EngineError::Service(Error::Invalid(format!(
                        "the paging position `{after}` of {set} is not a key of it"
                    ))));
                }
            }
        }
        let mut path = format!("{set}?$select={}", select.join(","));
        if !filters.is_empty() {
            path.push_str("&$filter=");
            path.push_str(&crate::odata::query::encode_query(&filters.join(" and ")));
        }
        if !columns.is_empty() {
            let order: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
            path.push_str(&format!("&$orderby={}", order.join(",")));
        }
        path.push_str(&format!("&$top={top}{extra}"));
        let value = self.get_json(side, &path).await?;
        let rows = match value.get("value") {
            Some(Value::Array(rows)) => rows.clone(),
            _ => Vec::new(),
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Value::Object(mut object) = row {
                if side == Side::Dv {
                    self.expand_lookups(spec, &mut object).await?;
                }
                out.push(object);
            }
        }
        Ok(out)
    }

    /// Puts in a Dataverse record, for each lookup the map reads back to F&O, the key value of the
    /// record it points to (`navigation: {key: ..}`, `navigation: null` for an empty lookup; through
    /// further tables `navigation: {hop: {key: ..}}`), read by id through a cache. A lookup whose
    /// target is not found stays as it is (a key part through it then has no value, and the record
    /// is logged).
    async fn expand_lookups(&self, spec: &MapSpec, record: &mut Object) -> Result<(), Error> {
        for read in &spec.lookup_reads {
            let path = read.path();
            let mut id = match record.get(read.column) {
                Some(Value::Null) => {
                    put_path(record, &path[..1], None, Value::Null);
                    continue;
                }
                Some(Value::String(id)) => match id.parse::<uuid::Uuid>() {
                    Ok(id) => id.to_string(),
                    Err(_) => continue,
                },
                _ => continue,
            };
            // Each record on the way: the target, then each hop's table.
            let steps = read.via.len() + 1;
            for i in 0..steps {
                let (set, column) = match i {
                    0 => (read.set, read.key),
                    _ => (read.via[i - 1].set, read.via[i - 1].key),
                };
                let last = i + 1 == steps;
                match (self.target_key(set, column, &id, last).await?, last) {
                    (TargetKey::NotFound, _) => {}
                    (TargetKey::Empty, true) => put_path(record, &path, Some(read.leaf()), Value::Null),
                    // An empty lookup on the way: the record it would lead to is none.
                    (TargetKey::Empty, false) => put_path(record, &path[..i + 2], None, Value::Null),
                    (TargetKey::Value(value), true) => put_path(record, &path, Some(read.leaf()), value),
                    (TargetKey::Value(value), false) => {
                        if let Some(Ok(next)) = value.as_str().map(str::parse::<uuid::Uuid>) {
                            id = next.to_string();
                            continue;
                        }
                    }
                }
                break;
            }
        }
        Ok(())
    }

    /// Column `column` of the record `id` of `set`, through the cache. `key` says it is a key value
    /// (cached for the other way too) rather than a lookup on the way to one.
    async fn target_key(&self, set: &str, column: &str, id: &str, key: bool) -> Result<TargetKey, Error> {
        let cache_key = (set.to_string(), column.to_string(), id.to_string());
        if let Some(value) = self
            .target_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
        {
            return Ok(TargetKey::Value(value.clone()));
        }
        let value = match self
            .get_json(Side::Dv, &format!("{set}({id})?$select={column}"))
            .await
        {
            Ok(v) => v,
            Err(e) if e.is_not_found() => return Ok(TargetKey::NotFound),
            Err(e) => return Err(e),
        };
        let Some(found) = value.get(column).filter(|v| !v.is_null()).cloned() else {
            return Ok(if value.get(column).is_some() {
                TargetKey::Empty
            } else {
                TargetKey::NotFound
            });
        };
        if key && let Some(text) = found.as_str() {
            let _ = self.store.put_lookup(set, column, &literal(text), id);
        }
        self.target_keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cache_key, found.clone());
        Ok(TargetKey::Value(found))
    }

    /// The company a record belongs to (lower case), or `None` when the map does not run it.
    async fn company_of(
        &self,
        setup: &MapSetup,
        flow: Flow,
        record: &Object,
    ) -> Result<Option<String>, Error> {
        let spec = setup.map.spec();
        let code = match flow {
            Flow::FoToDv => match spec.company_fo {
                None => return Ok(Some(String::new())),
                Some(column) => record.get(column).and_then(Value::as_str).map(str::to_lowercase),
            },
            Flow::DvToFo => match &spec.company_dv {
                None => return Ok(Some(String::new())),
                Some(lookup) => match record.get(lookup.column).and_then(Value::as_str) {
                    Some(id) => self.company_code(lookup.set, id).await?,
                    None => None,
                },
            },
        };
        Ok(code.filter(|c| setup.companies.is_empty() || setup.companies.contains(c)))
    }

    // ----- initial sync -----

    /// Initial sync of every map and company that has not finished one, in dependency order.
    pub async fn initial_sync_all(&self) -> Result<(), EngineError> {
        for setup in self.maps.clone() {
            let name = setup.map.spec().name.clone();
            self.initial_sync(&name, None).await?;
        }
        Ok(())
    }

    /// Initial sync of a map (one company, or each of its companies) from its master side, resumed
    /// from its checkpoint; Dataverse change tracking starts first, so nothing changed meanwhile is
    /// missed.
    pub async fn initial_sync(&self, map: &str, company: Option<&str>) -> Result<u64, EngineError> {
        let setup = self.setup(map)?.clone();
        let spec = setup.map.spec().clone();
        if self.store.delta_link(&spec.name)?.is_none() {
            self.start_tracking(&setup).await?;
        }
        let flow = Flow::from_side(spec.master);
        let side = spec.master;
        let companies = match company {
            Some(c) => vec![c.to_lowercase()],
            None => setup.companies(),
        };
        let mut total = 0;
        for company in companies {
            let mut checkpoint = self.store.checkpoint(&spec.name, &company)?;
            if checkpoint.done && company.is_empty() && map.is_empty() {
                continue;
            }
            if checkpoint.done {
                continue;
            }
            tracing::info!(map = %spec.name, company = %company, from = ?side, "initial sync");
            loop {
                let page = self
                    .read_page(
                        &spec,
                        side,
                        &company,
                        checkpoint.last_key.as_deref(),
                        self.config.page_size,
                    )
                    .await?;
                let full = page.len() as u32 >= self.config.page_size;
                let last_key = page.last().and_then(|r| page_cursor(&spec, side, r));
                let mut items = Vec::with_capacity(page.len());
                let mut invalid = Vec::new();
                let now = now_ms();
                for record in page {
                    match integration_key(&spec, flow, &record) {
                        Some(key) => items.push(Item {
                            decided: false,
                            company: company.clone(),
                            key,
                            op: Op::Upsert,
                            payload: record,
                            seq: None,
                            attempts: 0,
                            first_seen: now,
                        }),
                        None => invalid.push(record),
                    }
                }
                checkpoint.count += items.len() as u64;
                total += items.len() as u64;
                checkpoint.last_key = last_key.or(checkpoint.last_key);
                checkpoint.done = !full;
                let mut extra = Commit {
                    checkpoint: Some(checkpoint.clone()),
                    ..Commit::default()
                };
                for record in invalid {
                    extra.errors.push(self.entry_for_record(
                        &spec,
                        &company,
                        flow,
                        &record,
                        "the record has no value in the map's integration key",
                    ));
                }
                self.apply(&setup, flow, items, extra).await?;
                if checkpoint.done {
                    break;
                }
            }
        }
        Ok(total)
    }

    fn entry_for_record(
        &self,
        spec: &MapSpec,
        company: &str,
        flow: Flow,
        record: &Object,
        reason: &str,
    ) -> ErrorEntry {
        let now = now_ms();
        ErrorEntry {
            id: 0,
            map: spec.name.clone(),
            company: company.to_string(),
            key: String::new(),
            flow,
            class: ErrorClass::Application,
            reason: reason.to_string(),
            payload: Value::Object(record.clone()).to_string(),
            op: Op::Upsert,
            attempts: 1,
            first_seen: now,
            last_seen: now,
        }
    }

    /// Starts Dataverse change tracking of a map: reads the table once (ids only) for the first
    /// delta link.
    async fn start_tracking(&self, setup: &MapSetup) -> Result<(), EngineError> {
        let spec = setup.map.spec();
        let (_, link) = setup
            .map
            .changes(&self.services, None, self.config.page_size.min(5000))
            .await?;
        self.store.enqueue(&[], Some((&spec.name, Some(&link))))?;
        Ok(())
    }

    // ----- live sync -----

    /// Reads Dataverse changes of a map since its delta link and queues them (with the new delta
    /// link, in one transaction). An expired delta link falls back to a full compare.
    pub async fn poll_dataverse(&self, map: &str) -> Result<usize, EngineError> {
        let setup = self.setup(map)?.clone();
        let spec = setup.map.spec();
        let Some(delta) = self.store.delta_link(&spec.name)? else {
            return Ok(0);
        };
        let (changes, link) = match setup
            .map
            .changes(&self.services, Some(delta), self.config.page_size.min(5000))
            .await
        {
            Ok(found) => found,
            Err(Error::DeltaExpired(_)) => {
                tracing::warn!(map = %spec.name, "the delta link expired: full compare from Dataverse");
                self.store.enqueue(&[], Some((&spec.name, None)))?;
                self.start_tracking(&setup).await?;
                return Ok(self.full_compare(&spec.name, Side::Dv).await? as usize);
            }
            Err(e) => return Err(e.into()),
        };
        let now = now_ms();
        let mut items = Vec::new();
        for change in changes {
            match change {
                DvChange::Upsert(mut record) => {
                    let Some(company) = self.company_of(&setup, Flow::DvToFo, &record).await? else {
                        continue;
                    };
                    self.expand_lookups(spec, &mut record).await?;
                    let Some(key) = integration_key(spec, Flow::DvToFo, &record) else {
                        if !spec.lookup_reads.is_empty() {
                            // A key part through a lookup whose target is not found: say so.
                            let entry = self.entry_for_record(
                                spec,
                                &company,
                                Flow::DvToFo,
                                &record,
                                "the record has no value in the map's integration key (a lookup in it points to a record that was not found)",
                            );
                            self.store.commit(Commit {
                                errors: vec![entry],
                                ..Commit::default()
                            })?;
                        }
                        continue;
                    };
                    items.push(QueueItem {
                        seq: 0,
                        map: spec.name.clone(),
                        company,
                        flow: Flow::DvToFo,
                        key,
                        op: Op::Upsert,
                        payload: Value::Object(record).to_string(),
                        attempts: 0,
                        not_before: 0,
                        first_seen: now,
                    });
                }
                DvChange::Deleted { id } => {
                    for company in setup.companies() {
                        for link in self.store.all_links(&spec.name, &company)? {
                            if link.dv_id.as_deref() == Some(id.to_lowercase().as_str()) {
                                items.push(QueueItem {
                                    seq: 0,
                                    map: spec.name.clone(),
                                    company: company.clone(),
                                    flow: Flow::DvToFo,
                                    key: link.key.clone(),
                                    op: Op::Delete,
                                    payload: "{}".into(),
                                    attempts: 0,
                                    not_before: 0,
                                    first_seen: now,
                                });
                            }
                        }
                    }
                }
            }
        }
        let count = items.len();
        self.store.enqueue(&items, Some((&spec.name, Some(&link))))?;
        Ok(count)
    }

    /// Queues F&O data events (already parsed): each for every map of its entity set and company.
    /// Returns how many changes were queued. Called by the endpoint before it acknowledges.
    pub fn accept_events(&self, events: &[events::DataEvent]) -> Result<usize, EngineError> {
        let now = now_ms();
        let mut items = Vec::new();
        for event in events {
            for setup in &self.maps {
                let spec = setup.map.spec();
                if !spec.fo_set.eq_ignore_ascii_case(&event.entity) {
                    continue;
                }
                let company = if spec.company_fo.is_some() {
                    let from_record = spec
                        .company_fo
                        .and_then(|c| event.record.get(c))
                        .and_then(Value::as_str)
                        .map(str::to_lowercase);
                    let company = from_record.or_else(|| event.company.clone()).unwrap_or_default();
                    if !setup.companies.is_empty() && !setup.companies.contains(&company) {
                        continue;
                    }
                    company
                } else {
                    String::new()
                };
                let Some(key) = integration_key(spec, Flow::FoToDv, &event.record) else {
                    continue;
                };
                items.push(QueueItem {
                    seq: 0,
                    map: spec.name.clone(),
                    company,
                    flow: Flow::FoToDv,
                    key,
                    op: if event.delete { Op::Delete } else { Op::Upsert },
                    payload: Value::Object(event.record.clone()).to_string(),
                    attempts: 0,
                    not_before: 0,
                    first_seen: now,
                });
            }
        }
        self.store.enqueue(&items, None)?;
        Ok(items.len())
    }

    /// Reads every record of a map on `side` and applies those whose mapped values differ from what
    /// the other side holds (the fingerprints drop the rest): the fallback for F&O entities without
    /// data events and for an expired Dataverse delta link. Returns the records read.
    pub async fn full_compare(&self, map: &str, side: Side) -> Result<u64, EngineError> {
        let setup = self.setup(map)?.clone();
        let spec = setup.map.spec().clone();
        let flow = Flow::from_side(side);
        let mut total = 0;
        for company in setup.companies() {
            let mut after: Option<String> = None;
            loop {
                let page = self
                    .read_page(&spec, side, &company, after.as_deref(), self.config.page_size)
                    .await?;
                let full = page.len() as u32 >= self.config.page_size;
                after = page.last().and_then(|r| page_cursor(&spec, side, r));
                let now = now_ms();
                let items: Vec<Item> = page
                    .into_iter()
                    .filter_map(|record| {
                        integration_key(&spec, flow, &record).map(|key| Item {
                            decided: false,
                            company: company.clone(),
                            key,
                            op: Op::Upsert,
                            payload: record,
                            seq: None,
                            attempts: 0,
                            first_seen: now,
                        })
                    })
                    .collect();
                total += items.len() as u64;
                self.apply(&setup, flow, items, Commit::default()).await?;
                if !full || after.is_none() {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Every record of a map and company on `side` (paged by key).
    async fn read_all(&self, spec: &MapSpec, side: Side, company: &str) -> Result<Vec<Object>, EngineError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .read_page(spec, side, company, after.as_deref(), self.config.page_size)
                .await?;
            let full = page.len() as u32 >= self.config.page_size;
            after = page.last().and_then(|r| page_cursor(spec, side, r));
            out.extend(page);
            if !full || after.is_none() {
                return Ok(out);
            }
        }
    }

    /// Compares both sides of a map row by row on the mapped columns (what F&O's records map to
    /// against what Dataverse holds) and reports missing and differing records; with `fix`, queues
    /// the repairs (from the master side where both exist) for the engine to apply.
    pub async fn reconcile(
        &self,
        map: &str,
        company: Option<&str>,
        fix: bool,
    ) -> Result<Vec<Reconcile>, EngineError> {
        let setup = self.setup(map)?.clone();
        let spec = setup.map.spec().clone();
        let companies = match company {
            Some(c) => vec![c.to_lowercase()],
            None => setup.companies(),
        };
        let compared_columns: Vec<&'static str> = spec
            .dv_written
            .iter()
            .copied()
            .filter(|c| !spec.dv_lookups.iter().any(|(column, _, _)| column == c))
            .collect();
        let mut reports = Vec::new();
        for company in companies {
            let fo = self.read_all(&spec, Side::Fo, &company).await?;
            let dv = self.read_all(&spec, Side::Dv, &company).await?;
            let mut fo_by_key: BTreeMap<String, Object> = BTreeMap::new();
            for record in fo {
                if let Some(key) = integration_key(&spec, Flow::FoToDv, &record) {
                    fo_by_key.insert(key, record);
                }
            }
            let mut dv_by_key: BTreeMap<String, Object> = BTreeMap::new();
            for record in dv {
                if let Some(key) = integration_key(&spec, Flow::DvToFo, &record) {
                    dv_by_key.insert(key, record);
                }
            }
            let mut report = Reconcile {
                map: spec.name.clone(),
                company: company.clone(),
                compared: 0,
                missing_in_dataverse: Vec::new(),
                missing_in_fo: Vec::new(),
                differing: Vec::new(),
                queued: 0,
            };
            let mut repairs: Vec<(String, Flow, Object)> = Vec::new();
            for (key, record) in &fo_by_key {
                report.compared += 1;
                let Some(target) = dv_by_key.get(key) else {
                    report.missing_in_dataverse.push(key.clone());
                    repairs.push((key.clone(), Flow::FoToDv, record.clone()));
                    continue;
                };
                let mapped = match setup.map.map(Flow::FoToDv, record.clone()) {
                    Ok(mapped) => mapped,
                    Err(e) => {
                        report.differing.push(Difference {
                            key: key.clone(),
                            columns: vec![format!("(the F&O record does not map: {e})")],
                        });
                        continue;
                    }
                };
                let columns: Vec<String> = compared_columns
                    .iter()
                    .filter(|c| match mapped.values.get(**c) {
                        None => false,
                        Some(value) => {
                            fingerprint::canonical_json(value.as_deref())
                                != target.get(**c).map(fingerprint::canonical).unwrap_or_default()
                        }
                    })
                    .map(|c| c.to_string())
                    .collect();
                if !columns.is_empty() {
                    report.differing.push(Difference {
                        key: key.clone(),
                        columns,
                    });
                    let (flow, source) = match spec.master {
                        Side::Fo => (Flow::FoToDv, record.clone()),
                        Side::Dv => (Flow::DvToFo, target.clone()),
                    };
                    repairs.push((key.clone(), flow, source));
                }
            }
            for (key, record) in &dv_by_key {
                if !fo_by_key.contains_key(key) {
                    report.missing_in_fo.push(key.clone());
                    if spec.fo_written.len() > 1 {
                        repairs.push((key.clone(), Flow::DvToFo, record.clone()));
                    }
                }
            }
            if fix && !repairs.is_empty() {
                let now = now_ms();
                let keys: Vec<&str> = repairs.iter().map(|(k, _, _)| k.as_str()).collect();
                let mut commit = Commit::default();
                // Forget what the engine believed each side holds, so the repair is written.
                for mut link in self.store.links(&spec.name, &company, &keys)? {
                    link.known_dv = None;
                    link.known_fo = None;
                    link.etag_dv = None;
                    link.etag_fo = None;
                    commit.links.push(link);
                }
                for (key, flow, record) in repairs {
                    commit.enqueue.push(QueueItem {
                        seq: 0,
                        map: spec.name.clone(),
                        company: company.clone(),
                        flow,
                        key,
                        op: Op::Upsert,
                        payload: Value::Object(record).to_string(),
                        attempts: 0,
                        not_before: 0,
                        first_seen: now,
                    });
                    report.queued += 1;
                }
                self.store.commit(commit)?;
            }
            reports.push(report);
        }
        Ok(reports)
    }

    /// Applies what is ready in the queue: per map (in dependency order) and direction, the latest
    /// change of each key. Returns how many queue rows were handled.
    pub async fn process_queue(&self) -> Result<usize, EngineError> {
        let ready = self.store.ready(now_ms(), self.config.batch_size * 10)?;
        if ready.is_empty() {
            return Ok(0);
        }
        let handled = ready.len();
        let mut paused: HashMap<String, bool> = HashMap::new();
        for setup in self.maps.clone() {
            let name = setup.map.spec().name.clone();
            let is_paused = match paused.get(&name) {
                Some(p) => *p,
                None => {
                    let p = self.store.map_state(&name)?.paused;
                    paused.insert(name.clone(), p);
                    p
                }
            };
            if is_paused {
                continue;
            }
            // Both sides changed one record since the last sync: the rule picks the change that
            // wins; the other is dropped (and logged), so the sides never swap values.
            let mut last_seq: HashMap<(Flow, String, String), i64> = HashMap::new();
            for item in ready.iter().filter(|i| i.map == name) {
                let entry = last_seq
                    .entry((item.flow, item.company.clone(), item.key.clone()))
                    .or_insert(item.seq);
                *entry = (*entry).max(item.seq);
            }
            let master_flow = Flow::from_side(setup.map.spec().master);
            let loses = |flow: Flow, company: &str, key: &str| -> bool {
                let (Some(mine), Some(theirs)) = (
                    last_seq.get(&(flow, company.to_string(), key.to_string())),
                    last_seq.get(&(flow.opposite(), company.to_string(), key.to_string())),
                ) else {
                    return false;
                };
                match self.config.conflict_rule {
                    ConflictRule::MasterWins => flow != master_flow,
                    ConflictRule::LatestWins => mine < theirs,
                }
            };
            for flow in [Flow::FoToDv, Flow::DvToFo] {
                // Coalesce: the latest change per key; order of first arrival kept.
                let mut latest: BTreeMap<(String, String), QueueItem> = BTreeMap::new();
                let mut order: Vec<(String, String)> = Vec::new();
                let mut bad = Commit::default();
                for item in ready.iter().filter(|i| i.map == name && i.flow == flow) {
                    let id = (item.company.clone(), item.key.clone());
                    if !latest.contains_key(&id) {
                        order.push(id.clone());
                    }
                    latest.insert(id, item.clone());
                }
                let now = now_ms();
                order.retain(|(company, key)| {
                    if !loses(flow, company, key) {
                        return true;
                    }
                    if let Some(item) = latest.remove(&(company.clone(), key.clone())) {
                        self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                        bad.done
                            .push((name.clone(), company.clone(), flow, key.clone(), item.seq));
                        bad.errors.push(ErrorEntry {
                            id: 0,
                            map: name.clone(),
                            company: company.clone(),
                            key: key.clone(),
                            flow,
                            class: ErrorClass::Conflict,
                            reason: format!(
                                "both sides changed since the last sync; this change lost ({})",
                                match self.config.conflict_rule {
                                    ConflictRule::MasterWins => "the map's master side wins",
                                    ConflictRule::LatestWins => "the latest change wins",
                                }
                            ),
                            payload: item.payload.clone(),
                            op: item.op,
                            attempts: item.attempts + 1,
                            first_seen: item.first_seen,
                            last_seen: now,
                        });
                    }
                    false
                });
                let mut items = Vec::new();
                for id in order {
                    let Some(item) = latest.remove(&id) else { continue };
                    let payload = match serde_json::from_str::<Value>(&item.payload) {
                        Ok(Value::Object(object)) => object,
                        _ => {
                            bad.done.push((
                                name.clone(),
                                item.company.clone(),
                                flow,
                                item.key.clone(),
                                item.seq,
                            ));
                            continue;
                        }
                    };
                    let decided =
                        last_seq.contains_key(&(flow.opposite(), item.company.clone(), item.key.clone()));
                    items.push(Item {
                        decided,
                        company: item.company,
                        key: item.key,
                        op: item.op,
                        payload,
                        seq: Some(item.seq),
                        attempts: item.attempts,
                        first_seen: item.first_seen,
                    });
                }
                if !bad.done.is_empty() {
                    self.store.commit(bad)?;
                }
                for chunk in items.chunks(self.config.batch_size.max(1)) {
                    self.apply(&setup, flow, chunk.to_vec(), Commit::default())
                        .await?;
                }
            }
        }
        Ok(handled)
    }

    /// One round of live sync: poll Dataverse where due, full compares where due, then the queue.
    pub async fn step(&self) -> Result<usize, EngineError> {
        for setup in self.maps.clone() {
            let name = setup.map.spec().name.clone();
            let due = {
                let mut polls = self.last_poll.lock().unwrap_or_else(|e| e.into_inner());
                let due = polls
                    .get(&name)
                    .is_none_or(|t| t.elapsed() >= self.config.poll_interval);
                if due {
                    polls.insert(name.clone(), Instant::now());
                }
                due
            };
            if due && let Err(e) = self.poll_dataverse(&name).await {
                tracing::warn!(map = %name, "polling Dataverse failed: {e}");
            }
            if !setup.fo_events
                && let Some(interval) = self.config.full_compare_interval
            {
                let due = {
                    let mut compares = self.last_compare.lock().unwrap_or_else(|e| e.into_inner());
                    let due = compares.get(&name).is_none_or(|t| t.elapsed() >= interval);
                    if due {
                        compares.insert(name.clone(), Instant::now());
                    }
                    due
                };
                if due && let Err(e) = self.full_compare(&name, Side::Fo).await {
                    tracing::warn!(map = %name, "full compare of F&O failed: {e}");
                }
            }
        }
        self.process_queue().await
    }

    /// Live sync until `shutdown` resolves: initial syncs first (resumed where they stopped), then
    /// polling, events (queued by the endpoint) and the queue.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), EngineError> {
        tokio::pin!(shutdown);
        tokio::select! {
            result = self.initial_sync_all() => result?,
            _ = &mut shutdown => return Ok(()),
        }
        loop {
            let handled = tokio::select! {
                result = self.step() => match result {
                    Ok(n) => n,
                    Err(EngineError::Store(e)) => return Err(EngineError::Store(e)),
                    Err(e) => {
                        tracing::warn!("sync step failed: {e}");
                        0
                    }
                },
                _ = &mut shutdown => return Ok(()),
            };
            if handled == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.tick) => {}
                    _ = &mut shutdown => return Ok(()),
                }
            }
        }
    }

    /// Runs until nothing is queued or ready (tests and `demo`): polls Dataverse, applies the queue.
    pub async fn drain(&self) -> Result<(), EngineError> {
        for _ in 0..1000 {
            for setup in self.maps.clone() {
                let name = setup.map.spec().name.clone();
                self.poll_dataverse(&name).await?;
            }
            if self.process_queue().await? == 0 {
                let mut waiting = false;
                for setup in &self.maps {
                    waiting |= self.store.counts(&setup.map.spec().name)?.queued > 0
                        && !self.store.map_state(&setup.map.spec().name)?.paused;
                }
                if !waiting {
                    return Ok(());
                }
                tokio::time::sleep(self.config.tick).await;
            }
        }
        Ok(())
    }

    /// Moves error-log entries back to the queue (one, or all).
    pub fn retry_errors(&self, id: Option<i64>) -> Result<usize, EngineError> {
        Ok(self.store.retry_errors(id, now_ms())?)
    }

    // ----- applying -----

    fn backoff(&self, attempts: u32) -> i64 {
        let base = self.config.retry_base.as_millis() as i64;
        let max = self.config.retry_max.as_millis() as i64;
        let exp = base.saturating_mul(1_i64 << attempts.min(20));
        exp.min(max)
    }

    /// Resolves the lookups of a mapped record into binds, and returns the requests whose target
    /// was not found. The requests on one lookup column find one record together (each names a
    /// column of its key); a request through further tables (`via`) finds the record at their end
    /// first.
    async fn bind_lookups(
        &self,
        spec: &MapSpec,
        mapped: &mut Mapped,
        lookups: &[LookupRequest],
    ) -> Result<Vec<LookupRequest>, Error> {
        let mut missing = Vec::new();
        let mut columns: Vec<&str> = Vec::new();
        for lookup in lookups {
            if !columns.contains(&lookup.column) {
                columns.push(lookup.column);
            }
        }
        for column in columns {
            let group: Vec<&LookupRequest> = lookups.iter().filter(|l| l.column == column).collect();
            let first = group[0];
            let bind = format!("{}@odata.bind", first.navigation);
            if matches!(mapped.values.get(&bind), Some(None)) {
                // A part of the key is empty (the map bound the lookup to null): no record.
                continue;
            }
            let id_column = spec
                .lookup_ids
                .iter()
                .find(|(set, _)| *set == first.target_set)
                .map(|(_, id)| id.clone())
                .unwrap_or_default();
            let mut parts: Vec<(&str, String)> = Vec::new();
            let mut found = !id_column.is_empty();
            for lookup in &group {
                if !found {
                    break;
                }
                if lookup.via.is_empty() {
                    parts.push((lookup.key, lookup.value.clone()));
                } else {
                    match self.resolve_via(lookup.via, &lookup.value).await? {
                        Some(id) => parts.push((lookup.key, id)),
                        None => found = false,
                    }
                }
            }
            let id = if found {
                self.resolve(first.target_set, &parts, &id_column).await?
            } else {
                None
            };
            match id {
                Some(id) => {
                    mapped.values.insert(
                        bind,
                        Some(crate::json::json_string(&format!("/{}({id})", first.target_set))),
                    );
                }
                None => missing.extend(group.into_iter().cloned()),
            }
        }
        Ok(missing)
    }

    async fn apply(
        &self,
        setup: &MapSetup,
        flow: Flow,
        items: Vec<Item>,
        mut commit: Commit,
    ) -> Result<(), EngineError> {
        let spec = setup.map.spec();
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        let mut links: HashMap<(String, String), Link> = HashMap::new();
        let companies: std::collections::BTreeSet<&str> = items.iter().map(|i| i.company.as_str()).collect();
        for company in companies {
            let company_keys: Vec<&str> = items
                .iter()
                .filter(|i| i.company == company)
                .map(|i| i.key.as_str())
                .collect();
            for link in self.store.links(&spec.name, company, &company_keys)? {
                links.insert((link.company.clone(), link.key.clone()), link);
            }
        }
        drop(keys);
        let now = now_ms();
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(items.len());
        let mut ops: Vec<(usize, WriteOp, String)> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let link = links
                .entry((item.company.clone(), item.key.clone()))
                .or_insert_with(|| Link {
                    map: spec.name.clone(),
                    company: item.company.clone(),
                    key: item.key.clone(),
                    ..Link::default()
                });
            match self.prepare(setup, flow, item, link).await {
                Ok(Prepared::Write(op, fingerprint, second_pass)) => {
                    outcomes.push(second_pass.then_some(Outcome::SecondPass));
                    ops.push((index, op, fingerprint));
                }
                Ok(Prepared::Nothing) => {
                    self.counters.skipped_echo.fetch_add(1, Ordering::Relaxed);
                    outcomes.push(Some(Outcome::Done));
                }
                Ok(Prepared::Outcome(outcome)) => outcomes.push(Some(outcome)),
                Err(e) => outcomes.push(Some(Outcome::Retry {
                    reason: e.to_string(),
                    class: ErrorClass::System,
                })),
            }
        }
        // Send, then a second round for F&O creates that found the record already there.
        let mut written = 0u64;
        let mut round = ops;
        for _ in 0..2 {
            if round.is_empty() {
                break;
            }
            // One `$batch` per `batch_size` writes (a page of an initial sync is larger); a batch
            // that fails as a whole leaves its records to be retried, the others go on.
            let mut results = Vec::with_capacity(round.len());
            for chunk in round.chunks(self.config.batch_size.max(1)) {
                let to_send: Vec<WriteOp> = chunk.iter().map(|(_, op, _)| op.clone()).collect();
                match setup.map.write(&self.services, flow, to_send).await {
                    Ok(answers) => results.extend(answers.into_iter().map(Some)),
                    Err(e) => {
                        let class = classify(&e);
                        for (index, _, _) in chunk {
                            outcomes[*index] = Some(Outcome::Retry {
                                reason: e.to_string(),
                                class,
                            });
                        }
                        results.extend(chunk.iter().map(|_| None));
                    }
                }
            }
            let mut next = Vec::new();
            for ((index, op, fingerprint), result) in round.into_iter().zip(results) {
                let Some(result) = result else { continue };
                let item = &items[index];
                let link = links
                    .get_mut(&(item.company.clone(), item.key.clone()))
                    .expect("a link per item");
                match result {
                    Ok(response) => {
                        record_write(spec, flow, &op, &response, link, fingerprint);
                        if matches!(op, WriteOp::Delete { .. }) {
                            commit
                                .unlink
                                .push((spec.name.clone(), item.company.clone(), item.key.clone()));
                        }
                        written += 1;
                        outcomes[index] = Some(match outcomes[index].take() {
                            Some(Outcome::SecondPass) => Outcome::SecondPass,
                            _ => Outcome::Done,
                        });
                    }
                    Err(e)
                        if flow == Flow::DvToFo
                            && matches!(op, WriteOp::Create { .. })
                            && already_exists(&e) =>
                    {
                        // Created before a crash, or by someone else: update it instead.
                        if let WriteOp::Create { values } = op {
                            match fo_key_text(spec, &values) {
                                Some(key) => next.push((
                                    index,
                                    WriteOp::Update {
                                        key,
                                        values,
                                        precondition: Precondition::Exists,
                                    },
                                    fingerprint,
                                )),
                                None => {
                                    outcomes[index] = Some(Outcome::Failed {
                                        reason: e.to_string(),
                                        class: ErrorClass::Application,
                                    })
                                }
                            }
                        }
                    }
                    Err(e)
                        if e.is_conflict()
                            && matches!(
                                op,
                                WriteOp::Update {
                                    precondition: Precondition::Etag(_),
                                    ..
                                }
                            ) =>
                    {
                        self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                        let source_is_master = flow == Flow::from_side(spec.master)
                            || self.config.conflict_rule == ConflictRule::LatestWins;
                        // Forget the ETag: the next write (if any) is unconditional.
                        match flow {
                            Flow::FoToDv => link.etag_dv = None,
                            Flow::DvToFo => link.etag_fo = None,
                        }
                        let winner = if source_is_master {
                            "this change"
                        } else {
                            "the target's change"
                        };
                        if item.decided {
                            tracing::debug!(map = %spec.name, key = %item.key, "conflict already decided this round");
                        } else {
                            commit.errors.push(ErrorEntry {
                                id: 0,
                                map: spec.name.clone(),
                                company: item.company.clone(),
                                key: item.key.clone(),
                                flow,
                                class: ErrorClass::Conflict,
                                reason: format!(
                                    "both sides changed since the last sync; {winner} wins ({})",
                                    match self.config.conflict_rule {
                                        ConflictRule::MasterWins => "the map's master side wins",
                                        ConflictRule::LatestWins => "the latest change wins",
                                    }
                                ),
                                payload: Value::Object(item.payload.clone()).to_string(),
                                op: item.op,
                                attempts: item.attempts + 1,
                                first_seen: item.first_seen,
                                last_seen: now,
                            });
                        }
                        outcomes[index] = Some(if source_is_master {
                            Outcome::Retry {
                                reason: "conflict: written again without the ETag".into(),
                                class: ErrorClass::Concurrency,
                            }
                        } else {
                            Outcome::Done
                        });
                    }
                    Err(e)
                        if e.is_not_found()
                            && matches!(op, WriteOp::Update { .. } | WriteOp::Delete { .. }) =>
                    {
                        if matches!(op, WriteOp::Delete { .. }) {
                            commit
                                .unlink
                                .push((spec.name.clone(), item.company.clone(), item.key.clone()));
                            outcomes[index] = Some(Outcome::Done);
                        } else {
                            // The linked record is gone: forget the link, create it again.
                            match flow {
                                Flow::FoToDv => link.dv_id = None,
                                Flow::DvToFo => link.fo_key = None,
                            }
                            link.known_dv = None;
                            link.known_fo = None;
                            outcomes[index] = Some(Outcome::Retry {
                                reason: format!("the linked record is gone ({e}); it will be created again"),
                                class: ErrorClass::Concurrency,
                            });
                        }
                    }
                    Err(e) => {
                        let class = classify(&e);
                        outcomes[index] = Some(if class == ErrorClass::System {
                            Outcome::Retry {
                                reason: e.to_string(),
                                class,
                            }
                        } else {
                            Outcome::Failed {
                                reason: e.to_string(),
                                class,
                            }
                        });
                    }
                }
            }
            round = next;
        }
        // Book-keeping, in one transaction.
        let mut failures = 0usize;
        for (index, item) in items.iter().enumerate() {
            let outcome = outcomes[index].take().unwrap_or(Outcome::Done);
            let link = links.remove(&(item.company.clone(), item.key.clone()));
            match outcome {
                Outcome::Done | Outcome::SecondPass => {
                    if let Some(seq) = item.seq {
                        commit.done.push((
                            spec.name.clone(),
                            item.company.clone(),
                            flow,
                            item.key.clone(),
                            seq,
                        ));
                    }
                    if let Some(link) = link
                        && !commit
                            .unlink
                            .iter()
                            .any(|(_, c, k)| c == &link.company && k == &link.key)
                    {
                        commit.links.push(link);
                    }
                    if matches!(outcome, Outcome::SecondPass) {
                        commit
                            .enqueue
                            .push(self.queue_item(spec, flow, item, 0, now + 500));
                    }
                }
                Outcome::Retry { reason, class } => {
                    self.counters.retried.fetch_add(1, Ordering::Relaxed);
                    let attempts = item.attempts + 1;
                    let waited = Duration::from_millis((now - item.first_seen).max(0) as u64);
                    let give_up = match class {
                        ErrorClass::Application => waited >= self.config.lookup_timeout,
                        _ => attempts >= self.config.max_attempts,
                    };
                    if let Some(link) = link {
                        commit.links.push(link);
                    }
                    if give_up {
                        failures += 1;
                        commit
                            .errors
                            .push(self.entry(spec, flow, item, class, &reason, attempts, now));
                        if let Some(seq) = item.seq {
                            commit.done.push((
                                spec.name.clone(),
                                item.company.clone(),
                                flow,
                                item.key.clone(),
                                seq,
                            ));
                        }
                    } else {
                        let not_before = now + self.backoff(item.attempts);
                        match item.seq {
                            Some(seq) => commit.retry.push(QueueItem {
                                seq,
                                attempts,
                                not_before,
                                ..self.queue_item(spec, flow, item, attempts, not_before)
                            }),
                            None => commit
                                .enqueue
                                .push(self.queue_item(spec, flow, item, attempts, not_before)),
                        }
                    }
                }
                Outcome::Failed { reason, class } => {
                    failures += 1;
                    self.counters.failed.fetch_add(1, Ordering::Relaxed);
                    if let Some(link) = link {
                        commit.links.push(link);
                    }
                    commit
                        .errors
                        .push(self.entry(spec, flow, item, class, &reason, item.attempts + 1, now));
                    if let Some(seq) = item.seq {
                        commit.done.push((
                            spec.name.clone(),
                            item.company.clone(),
                            flow,
                            item.key.clone(),
                            seq,
                        ));
                    }
                }
            }
        }
        if written > 0 {
            commit.synced.push((spec.name.clone(), flow, written, now));
        }
        self.counters.written.fetch_add(written, Ordering::Relaxed);
        self.store.commit(commit)?;
        self.watch_error_rate(&spec.name, items.len(), failures)?;
        Ok(())
    }

    fn queue_item(
        &self,
        spec: &MapSpec,
        flow: Flow,
        item: &Item,
        attempts: u32,
        not_before: i64,
    ) -> QueueItem {
        QueueItem {
            seq: 0,
            map: spec.name.clone(),
            company: item.company.clone(),
            flow,
            key: item.key.clone(),
            op: item.op,
            payload: Value::Object(item.payload.clone()).to_string(),
            attempts,
            not_before,
            first_seen: item.first_seen,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        spec: &MapSpec,
        flow: Flow,
        item: &Item,
        class: ErrorClass,
        reason: &str,
        attempts: u32,
        now: i64,
    ) -> ErrorEntry {
        ErrorEntry {
            id: 0,
            map: spec.name.clone(),
            company: item.company.clone(),
            key: item.key.clone(),
            flow,
            class,
            reason: reason.to_string(),
            payload: Value::Object(item.payload.clone()).to_string(),
            op: item.op,
            attempts,
            first_seen: item.first_seen,
            last_seen: now,
        }
    }

    /// Pauses a map whose share of failed records passes the threshold.
    fn watch_error_rate(&self, map: &str, total: usize, failures: usize) -> Result<(), EngineError> {
        if total == 0 {
            return Ok(());
        }
        let window_size = self.config.error_window.max(1);
        let (share, count) = {
            let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            let window = windows.entry(map.to_string()).or_default();
            for i in 0..total {
                window.push_back(i < failures);
                if window.len() > window_size {
                    window.pop_front();
                }
            }
            let failed = window.iter().filter(|f| **f).count();
            (failed as f64 / window.len() as f64, window.len())
        };
        if count >= window_size && share > self.config.error_threshold {
            let reason = format!(
                "paused itself: {:.0} % of its last {count} records failed (threshold {:.0} %); see `dualsync errors {map}`, then resume",
                share * 100.0,
                self.config.error_threshold * 100.0
            );
            tracing::error!(map, "{reason}");
            self.store.set_paused(map, true, Some(&reason))?;
            self.windows.lock().unwrap_or_else(|e| e.into_inner()).remove(map);
        }
        Ok(())
    }

    /// Maps one item and decides its write, or that nothing needs writing.
    async fn prepare(
        &self,
        setup: &MapSetup,
        flow: Flow,
        item: &Item,
        link: &mut Link,
    ) -> Result<Prepared, Error> {
        let spec = setup.map.spec();
        if item.op == Op::Delete {
            return Ok(match flow {
                Flow::FoToDv => match &link.dv_id {
                    Some(id) => Prepared::Write(WriteOp::Delete { key: id.clone() }, String::new(), false),
                    None => Prepared::Nothing,
                },
                Flow::DvToFo => match &link.fo_key {
                    Some(key) => Prepared::Write(WriteOp::Delete { key: key.clone() }, String::new(), false),
                    None => Prepared::Nothing,
                },
            });
        }
        let mut record = item.payload.clone();
        // What the source side holds now.
        match flow {
            Flow::FoToDv => {
                link.known_fo = Some(fingerprint::of_record(&record, &spec.fo_written));
                if let Some(key) = fo_key_of_record(spec, &record) {
                    link.fo_key = Some(key);
                }
                if let Some(etag) = record.get("@odata.etag").and_then(Value::as_str) {
                    link.etag_fo = Some(etag.to_string());
                }
            }
            Flow::DvToFo => {
                link.known_dv = Some(fingerprint::of_record(&record, &spec.dv_written));
                if let Some(etag) = record.get("@odata.etag").and_then(Value::as_str) {
                    link.etag_dv = Some(etag.to_string());
                }
                if let Some(id) = record.get(spec.dv_id).and_then(Value::as_str) {
                    link.dv_id = Some(id.to_lowercase());
                }
                if let Some(company) = &spec.company_dv
                    && !item.company.is_empty()
                {
                    let mut expanded = Object::new();
                    expanded.insert(spec::COMPANY_KEY.into(), Value::String(item.company.clone()));
                    record.insert(company.navigation.into(), Value::Object(expanded));
                }
            }
        }
        let mut mapped = match setup.map.map(flow, record) {
            Ok(mapped) => mapped,
            Err(e) => {
                return Ok(Prepared::Outcome(Outcome::Failed {
                    reason: e.to_string(),
                    class: ErrorClass::Application,
                }));
            }
        };
        let lookups = std::mem::take(&mut mapped.lookups);
        let missing = self.bind_lookups(spec, &mut mapped, &lookups).await?;
        let mut second_pass = false;
        if let Some(lookup) = missing.first() {
            let graph: Vec<(&str, &[&str])> = self
                .maps
                .iter()
                .map(|m| (m.map.spec().dv_set, m.map.spec().lookup_sets.as_slice()))
                .collect();
            // Only while the record is not on Dataverse yet: once it is (the first pass went
            // through), a target still missing is waited for like any other, up to
            // `lookup_timeout`, instead of writing the record again and again.
            if link.dv_id.is_none()
                && missing
                    .iter()
                    .all(|l| l.target_set == spec.dv_set || circular(&graph, spec.dv_set, l.target_set))
            {
                // A self or circular reference (the target's map looks up, directly or through
                // others, this map's table) whose target is not there yet: waiting would wait
                // forever, so write the record without it now, and the lookup in a second pass.
                for l in &missing {
                    mapped.values.remove(&format!("{}@odata.bind", l.navigation));
                }
                second_pass = true;
            } else {
                let parts: Vec<String> = missing
                    .iter()
                    .filter(|l| l.column == lookup.column)
                    .map(|l| format!("{} = {}", l.key_path(), l.value))
                    .collect();
                return Ok(Prepared::Outcome(Outcome::Retry {
                    reason: format!(
                        "lookup `{}`: no record of {} with {} (yet)",
                        lookup.navigation,
                        lookup.target_set,
                        parts.join(" and ")
                    ),
                    class: ErrorClass::Application,
                }));
            }
        }
        let (fingerprint, known) = match flow {
            Flow::FoToDv => (
                fingerprint::of_values(&mapped.values, &spec.dv_written, &spec.dv_lookups),
                &link.known_dv,
            ),
            Flow::DvToFo => (
                fingerprint::of_values(&mapped.values, &spec.fo_written, &[]),
                &link.known_fo,
            ),
        };
        if known.as_deref() == Some(fingerprint.as_str()) && !second_pass {
            return Ok(Prepared::Nothing);
        }
        let op = match flow {
            Flow::FoToDv => self.dv_write(spec, item, link, mapped.values).await?,
            Flow::DvToFo => match &link.fo_key {
                Some(key) => WriteOp::Update {
                    key: key.clone(),
                    values: mapped.values,
                    precondition: link
                        .etag_fo
                        .clone()
                        .map(Precondition::Etag)
                        .unwrap_or(Precondition::Exists),
                },
                None => WriteOp::Create {
                    values: mapped.values,
                },
            },
        };
        if second_pass {
            return Ok(Prepared::Write(op, String::new(), true));
        }
        Ok(Prepared::Write(op, fingerprint, false))
    }

    /// The Dataverse write for a record: by linked id, by alternate key, or after a search by key.
    async fn dv_write(
        &self,
        spec: &MapSpec,
        item: &Item,
        link: &mut Link,
        values: BTreeMap<String, Option<String>>,
    ) -> Result<WriteOp, Error> {
        if let Some(id) = &link.dv_id {
            return Ok(WriteOp::Update {
                key: id.clone(),
                values,
                precondition: link
                    .etag_dv
                    .clone()
                    .map(Precondition::Etag)
                    .unwrap_or(Precondition::Exists),
            });
        }
        let mut parts: Vec<(String, String)> = Vec::new();
        for (fo, dv) in &spec.key_pairs {
            if parts.iter().any(|(c, _)| c == dv) {
                // Another part of the key of the record one lookup points to.
                continue;
            }
            if let Some(read) = spec.lookup_read(fo, dv) {
                // A key part through a lookup: the id it was bound to.
                let bound = values
                    .get(&format!("{}@odata.bind", read.navigation))
                    .and_then(json_value);
                let Some(id) = bound.as_ref().and_then(Value::as_str).and_then(guid_in) else {
                    return Ok(WriteOp::Create { values });
                };
                parts.push((dv.to_string(), id));
                continue;
            }
            let Some(value) = values.get(*dv).and_then(json_value) else {
                return Ok(WriteOp::Create { values });
            };
            let Some(literal) = key_literal(&value) else {
                return Ok(WriteOp::Create { values });
            };
            parts.push((dv.to_string(), literal));
        }
        if let Some(company) = &spec.company_dv
            && !item.company.is_empty()
        {
            let id = self
                .company_id(spec, &item.company)
                .await
                .map_err(|e| Error::Invalid(e.to_string()))?;
            parts.push((company.column.to_string(), id));
        }
        if spec.dv_alternate_key.is_some() {
            let key = parts
                .iter()
                .map(|(c, v)| format!("{c}={}", encode(v)))
                .collect::<Vec<_>>()
                .join(",");
            return Ok(WriteOp::Upsert { key, values });
        }
        // No alternate key over the map key: find the record by key, so that a replay updates it.
        let filter = parts
            .iter()
            .map(|(c, v)| format!("{c} eq {v}"))
            .collect::<Vec<_>>()
            .join(" and ");
        let path = format!(
            "{}?$select={}&$filter={}&$top=1",
            spec.dv_set,
            spec.dv_id,
            crate::odata::query::encode_query(&filter)
        );
        let found = self.get_json(Side::Dv, &path).await?;
        if let Some(id) = found
            .get("value")
            .and_then(Value::as_array)
            .and_then(|rows| rows.first())
            .and_then(|row| row.get(spec.dv_id))
            .and_then(Value::as_str)
        {
            link.dv_id = Some(id.to_lowercase());
            return Ok(WriteOp::Update {
                key: id.to_string(),
                values,
                precondition: Precondition::Exists,
            });
        }
        Ok(WriteOp::Create { values })
    }
}

enum Prepared {
    /// The write, the fingerprint of what it writes, and whether it is the first of two passes.
    Write(WriteOp, String, bool),
    Nothing,
    Outcome(Outcome),
}

/// What a successful write tells about the target record.
fn record_write(
    spec: &MapSpec,
    flow: Flow,
    op: &WriteOp,
    response: &OpResponse,
    link: &mut Link,
    fingerprint: String,
) {
    let etag = response.header("ETag").map(str::to_string);
    match flow {
        Flow::FoToDv => {
            if let Some(id) = response.entity_id().and_then(guid_in) {
                link.dv_id = Some(id);
            } else if let WriteOp::Update { key, .. } = op
                && key.parse::<uuid::Uuid>().is_ok()
            {
                link.dv_id = Some(key.to_lowercase());
            }
            link.etag_dv = etag;
            if !fingerprint.is_empty() {
                link.known_dv = Some(fingerprint);
            } else {
                link.known_dv = None;
            }
        }
        Flow::DvToFo => {
            match op {
                WriteOp::Create { values } => link.fo_key = fo_key_text(spec, values),
                WriteOp::Update { key, .. } => link.fo_key = Some(key.clone()),
                _ => {}
            }
            link.etag_fo = etag;
            link.known_fo = (!fingerprint.is_empty()).then_some(fingerprint);
        }
    }
}

/// The F&O key path of a record from its values (`dataAreaId='usmf',CustomerAccount='US-001'`).
fn fo_key_text(spec: &MapSpec, values: &BTreeMap<String, Option<String>>) -> Option<String> {
    let mut parts = Vec::new();
    for column in spec.fo_key {
        let value = values.get(*column).and_then(json_value)?;
        let literal = key_literal(&value)?;
        parts.push(if spec.fo_key.len() == 1 {
            encode(&literal)
        } else {
            format!("{column}={}", encode(&literal))
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// The F&O key path of a record as read.
fn fo_key_of_record(spec: &MapSpec, record: &Object) -> Option<String> {
    let values: BTreeMap<String, Option<String>> = spec
        .fo_key
        .iter()
        .filter_map(|c| record.get(*c).map(|v| (c.to_string(), Some(v.to_string()))))
        .collect();
    fo_key_text(spec, &values)
}

fn already_exists(error: &Error) -> bool {
    let Some(service) = error.service() else {
        return false;
    };
    // F&O says it in the infolog under a generic message.
    let text = error.to_string().to_lowercase();
    (service.status == 400 || service.status == 409 || service.status == 412)
        && (text.contains("already exists") || text.contains("duplicate"))
}

/// The class of a failed write.
pub fn classify(error: &Error) -> ErrorClass {
    if error.is_conflict() {
        return ErrorClass::Concurrency;
    }
    if error.is_transient() {
        return ErrorClass::System;
    }
    match error {
        Error::Transport { .. } | Error::Deadline { .. } | Error::WaitTooLong { .. } | Error::Auth(_) => {
            ErrorClass::System
        }
        _ => ErrorClass::Application,
    }
}

/// Whether the map writing `target_set` depends, through lookups of the maps in `graph` (each map's
/// Dataverse table and the tables it looks up), on `from_set`: a lookup from `from_set` to
/// `target_set` closes a cycle.
fn circular(graph: &[(&str, &[&str])], from_set: &str, target_set: &str) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    let mut next: Vec<&str> = vec![target_set];
    while let Some(set) = next.pop() {
        if seen.contains(&set) {
            continue;
        }
        seen.push(set);
        for (table, lookups) in graph {
            if *table == set {
                for looked_up in *lookups {
                    if *looked_up == from_set {
                        return true;
                    }
                    next.push(looked_up);
                }
            }
        }
    }
    false
}

/// Puts maps in dependency order: a map whose lookups point at another map's Dataverse table runs
/// after that map (stable otherwise; cycles keep the given order and are written in two passes).
fn dependency_order(maps: Vec<MapSetup>) -> Vec<MapSetup> {
    let mut rest = maps;
    let mut out: Vec<MapSetup> = Vec::new();
    while !rest.is_empty() {
        let position = rest.iter().position(|m| {
            let spec = m.map.spec();
            spec.lookup_sets.iter().all(|set| {
                *set == spec.dv_set
                    || out.iter().any(|o| o.map.spec().dv_set == *set)
                    || !rest.iter().any(|r| r.map.spec().dv_set == *set)
            })
        });
        let next = rest.remove(position.unwrap_or(0));
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::circular;

    #[test]
    fn a_lookup_is_circular_when_its_target_map_leads_back() {
        let graph: Vec<(&str, &[&str])> = vec![
            ("accounts", &["contacts", "transactioncurrencies"]),
            ("contacts", &["accounts"]),
            ("transactioncurrencies", &[]),
            ("orders", &["quotes"]),
            ("quotes", &["products"]),
            ("products", &["orders"]),
        ];
        assert!(circular(&graph, "accounts", "contacts"));
        assert!(circular(&graph, "contacts", "accounts"));
        assert!(!circular(&graph, "accounts", "transactioncurrencies"));
        // Through a third table.
        assert!(circular(&graph, "orders", "quotes"));
        // A table no map writes cannot lead back.
        assert!(!circular(&graph, "accounts", "systemusers"));
    }
}
