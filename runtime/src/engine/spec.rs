//! A table map as the engine sees it: what to read on each side, the integration key, the columns
//! each direction writes (for fingerprints), the company striping, and type-erased calls into the
//! compiled map and the typed client ([`SyncMap`], implemented for every [`TableMap`] by [`MapRunner`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use serde_json::{Map, Value};

use crate::entity::{Entity, FieldDef, Patch, PatchValue, Record};
use crate::map::{Direction, LookupHop, LookupRequest, MapError, Side, TableMap};
use crate::odata::{Change, DataverseClient, Error, FinOpsClient, Key, OpResponse, Precondition, Query};

use super::store::Flow;

/// A boxed future, for the type-erased calls.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A JSON object as the services send it.
pub type Object = Map<String, Value>;

/// The Dataverse company table dual-write stripes by.
pub const COMPANY_TABLE: &str = "Microsoft.Dynamics.CRM.cdm_company";
/// Its key column (the F&O `dataAreaId`).
pub const COMPANY_KEY: &str = "cdm_companycode";

/// Dataverse's company lookup on a company-specific table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyLookup {
    /// `_msdyn_company_value`.
    pub column: &'static str,
    /// `msdyn_company`.
    pub navigation: &'static str,
    /// `cdm_companies`.
    pub set: &'static str,
}

/// A Dataverse lookup the engine reads back to F&O: the key column of the record it points to, read
/// by the lookup's id and put in the record as if expanded (`navigation: {key: ..}`; through
/// further tables, `navigation: {hop: {key: ..}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRead {
    /// The F&O column the key value goes to (`PARTYNUMBER`).
    pub fo: &'static str,
    /// `_msdyn_partyid_value`.
    pub column: &'static str,
    /// `msdyn_partyid`.
    pub navigation: &'static str,
    /// `msdyn_parties`.
    pub set: &'static str,
    /// The target's key column the F&O value is (`msdyn_partynumber`), or its lookup column the
    /// first of `via` goes through.
    pub key: &'static str,
    /// Further hops (empty for a lookup by a column of the target).
    pub via: &'static [LookupHop],
}

impl LookupRead {
    /// The navigation properties from the record to the key value (`[msdyn_partyid]`).
    pub fn path(&self) -> Vec<&'static str> {
        std::iter::once(self.navigation)
            .chain(self.via.iter().map(|h| h.navigation))
            .collect()
    }

    /// The column that holds the key value at the end of the path (`msdyn_partynumber`).
    pub fn leaf(&self) -> &'static str {
        self.via.last().map_or(self.key, |h| h.key)
    }

    /// The key value in a record whose lookups the engine expanded, if it holds one.
    pub fn value_in<'a>(&self, record: &'a Object) -> Option<&'a Value> {
        let mut at = record;
        let path = std::iter::once(self.navigation).chain(self.via.iter().map(|h| h.navigation));
        for navigation in path {
            at = at.get(navigation)?.as_object()?;
        }
        at.get(self.leaf())
    }
}

/// What the engine needs to know of a map, computed once from the map and both entities.
#[derive(Debug, Clone)]
pub struct MapSpec {
    /// The map's name (its Rust type name): the handle in the state file, the CLI and the logs.
    pub name: String,
    pub fo_set: &'static str,
    pub dv_set: &'static str,
    /// The Dataverse table's primary id column (`accountid`).
    pub dv_id: &'static str,
    /// The F&O entity's key columns.
    pub fo_key: &'static [&'static str],
    /// The map's integration key: (F&O column, Dataverse column) pairs.
    pub key_pairs: Vec<(&'static str, &'static str)>,
    /// The F&O company column (`dataAreaId`) when the map is per company.
    pub company_fo: Option<&'static str>,
    pub company_dv: Option<CompanyLookup>,
    /// Columns to `$select` on each side.
    pub fo_select: Vec<&'static str>,
    pub dv_select: Vec<&'static str>,
    /// Columns each direction writes on its target: the fingerprint of a side's state.
    pub dv_written: Vec<&'static str>,
    pub fo_written: Vec<&'static str>,
    pub fo_filter: Option<&'static str>,
    pub dv_filter: Option<&'static str>,
    pub master: Side,
    /// Entity sets this map's lookups point to (dependency order: those maps go first).
    pub lookup_sets: Vec<&'static str>,
    /// The Dataverse alternate key the engine upserts by, when the table has one over the map key
    /// (and the company lookup).
    pub dv_alternate_key: Option<&'static [&'static str]>,
    /// Lookup columns of the Dataverse table: wire name → (navigation, target set), for fingerprints.
    pub dv_lookups: Vec<(&'static str, &'static str, &'static str)>,
    /// The id column of each table the Dataverse lookups point to: (entity set, `transactioncurrencyid`).
    /// Dataverse names a table's primary id after its logical name.
    pub lookup_ids: Vec<(&'static str, String)>,
    /// Lookups mapped back to F&O (Dataverse -> F&O, and key parts through a lookup).
    pub lookup_reads: Vec<LookupRead>,
    /// The F&O key columns of the map key with their Edm types: how initial sync pages F&O.
    pub fo_page: Vec<(&'static str, &'static str)>,
}

impl MapSpec {
    /// The lookup read back for Dataverse column `dv` into F&O column `fo`, if `dv` is a lookup.
    pub fn lookup_read(&self, fo: &str, dv: &str) -> Option<&LookupRead> {
        self.lookup_reads
            .iter()
            .find(|r| r.column == dv && r.fo == fo)
            .or_else(|| self.lookup_reads.iter().find(|r| r.column == dv))
    }
}

/// A record mapped to the other side: the values to write (wire name → JSON text, `None` = null;
/// lookups not yet bound) and the lookups to resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub values: BTreeMap<String, Option<String>>,
    pub lookups: Vec<LookupRequest>,
}

/// One write of a batch.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// POST: a new record.
    Create {
        values: BTreeMap<String, Option<String>>,
    },
    /// PATCH `set(key)` with a precondition (`Exists` or an ETag): an update that never creates.
    Update {
        key: String,
        values: BTreeMap<String, Option<String>>,
        precondition: Precondition,
    },
    /// Dataverse: PATCH by alternate key, create or update.
    Upsert {
        key: String,
        values: BTreeMap<String, Option<String>>,
    },
    Delete {
        key: String,
    },
}

/// A change read from Dataverse change tracking.
#[derive(Debug, Clone)]
pub enum DvChange {
    Upsert(Object),
    Deleted { id: String },
}

/// The two clients.
#[derive(Debug, Clone)]
pub struct Services {
    pub dataverse: DataverseClient,
    pub fo: FinOpsClient,
}

/// A map, type-erased for the engine.
pub trait SyncMap: Send + Sync {
    fn spec(&self) -> &MapSpec;
    /// Maps a record read from one side (`flow` says which) into the other side's values.
    fn map(&self, flow: Flow, record: Object) -> Result<Mapped, MapError>;
    /// Sends writes to the target of `flow` in one `$batch` (each in its own change set, so one
    /// record's failure does not roll back the others), and returns one result per write.
    fn write<'a>(
        &'a self,
        services: &'a Services,
        flow: Flow,
        ops: Vec<WriteOp>,
    ) -> BoxFuture<'a, Result<Vec<Result<OpResponse, Error>>, Error>>;
    /// Dataverse change tracking: from the start (`None`: every record now) or from a delta link;
    /// returns the changes and the next delta link.
    fn changes<'a>(
        &'a self,
        services: &'a Services,
        delta: Option<String>,
        page_size: u32,
    ) -> BoxFuture<'a, Result<(Vec<DvChange>, String), Error>>;
}

/// [`SyncMap`] for a compiled [`TableMap`].
pub struct MapRunner<M> {
    spec: MapSpec,
    _map: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for MapRunner<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapRunner").field("spec", &self.spec).finish()
    }
}

fn short_type_name<M>() -> String {
    let full = std::any::type_name::<M>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_string()
}

fn push_unique(list: &mut Vec<&'static str>, name: &'static str) {
    if !name.is_empty() && !list.contains(&name) {
        list.push(name);
    }
}

/// The id column of a Dataverse table: its key (`accountid`).
fn dv_id_of<E: Entity>() -> &'static str {
    E::KEY.first().copied().unwrap_or("")
}

impl<M> MapRunner<M>
where
    M: TableMap + 'static,
    M::Fo: Entity + 'static,
    M::Dv: Entity + 'static,
{
    /// The map, named after its Rust type.
    pub fn new() -> Self {
        Self::named(&short_type_name::<M>())
    }

    /// The map under another name.
    pub fn named(name: &str) -> Self {
        MapRunner {
            spec: Self::build_spec(name),
            _map: PhantomData,
        }
    }

    fn build_spec(name: &str) -> MapSpec {
        let dv_fields = <M::Dv as Entity>::FIELDS;
        let company_dv = M::COMPANY.and_then(|_| {
            dv_fields.iter().find_map(|f| {
                f.lookup
                    .iter()
                    .find(|t| t.target == COMPANY_TABLE)
                    .map(|t| CompanyLookup {
                        column: f.name,
                        navigation: t.navigation,
                        set: t.set,
                    })
            })
        });
        let mut key_pairs = Vec::new();
        let mut fo_select = Vec::new();
        let mut dv_select = Vec::new();
        let mut dv_written = Vec::new();
        let mut fo_written = Vec::new();
        let mut lookup_sets = Vec::new();
        let mut lookup_reads: Vec<LookupRead> = Vec::new();
        let dv_id = dv_id_of::<M::Dv>();
        push_unique(&mut dv_select, dv_id);
        for column in M::COLUMNS {
            if column.key {
                key_pairs.push((column.fo, column.dv));
            }
            let to_dv = matches!(column.direction, Direction::Both | Direction::FoToDv);
            let to_fo = matches!(column.direction, Direction::Both | Direction::DvToFo);
            if to_dv {
                push_unique(&mut fo_select, column.fo);
                push_unique(&mut dv_written, column.dv);
            }
            if to_fo {
                push_unique(&mut dv_select, column.dv);
                push_unique(&mut fo_written, column.fo);
            }
            if column.key {
                push_unique(&mut fo_select, column.fo);
                push_unique(&mut dv_select, column.dv);
            }
            if !column.lookup.is_empty()
                && let Some(field) = dv_fields.iter().find(|f| f.name == column.dv)
            {
                for target in field.lookup {
                    push_unique(&mut lookup_sets, target.set);
                }
                for hop in column.via {
                    push_unique(&mut lookup_sets, hop.set);
                }
            }
            if !column.lookup.is_empty()
                && (to_fo || column.key)
                && !lookup_reads
                    .iter()
                    .any(|r| r.column == column.dv && r.fo == column.fo)
            {
                lookup_reads.push(LookupRead {
                    fo: column.fo,
                    column: column.dv,
                    navigation: column.navigation,
                    set: column.lookup_set,
                    key: column.lookup,
                    via: column.via,
                });
            }
        }
        if let Some(company) = M::COMPANY {
            push_unique(&mut fo_select, company);
            push_unique(&mut fo_written, company);
        }
        if let Some(company) = &company_dv {
            push_unique(&mut dv_select, company.column);
            push_unique(&mut dv_written, company.column);
        }
        // Each side is read with the columns the other side writes, so that what it holds can be
        // fingerprinted (loop prevention).
        for column in fo_written.clone() {
            push_unique(&mut fo_select, column);
        }
        for column in dv_written.clone() {
            push_unique(&mut dv_select, column);
        }
        let dv_lookups = dv_fields
            .iter()
            .filter_map(|f| f.lookup.first().map(|t| (f.name, t.navigation, t.set)))
            .collect();
        let mut lookup_ids: Vec<(&'static str, String)> = Vec::new();
        for field in dv_fields {
            for target in field.lookup {
                let logical = target.target.rsplit('.').next().unwrap_or(target.target);
                if !target.set.is_empty() && !lookup_ids.iter().any(|(set, _)| *set == target.set) {
                    lookup_ids.push((target.set, format!("{logical}id")));
                }
            }
        }
        for hop in M::COLUMNS.iter().flat_map(|c| c.via) {
            if !hop.set.is_empty() && !lookup_ids.iter().any(|(set, _)| *set == hop.set) {
                lookup_ids.push((hop.set, hop.id.to_string()));
            }
        }
        let fo_fields = <M::Fo as Entity>::FIELDS;
        let fo_page = key_pairs
            .iter()
            .map(|(fo, _)| {
                let edm = fo_fields
                    .iter()
                    .find(|f| f.name == *fo)
                    .map_or("Edm.String", |f| f.edm);
                (*fo, edm)
            })
            .collect();
        let mut wanted: Vec<&str> = key_pairs.iter().map(|(_, dv)| *dv).collect();
        if let Some(company) = &company_dv {
            wanted.push(company.column);
        }
        wanted.sort_unstable();
        // Parts of one record's key through one lookup are one column of the key.
        wanted.dedup();
        let dv_alternate_key = <M::Dv as Entity>::ALTERNATE_KEYS.iter().copied().find(|key| {
            let mut columns: Vec<&str> = key.to_vec();
            columns.sort_unstable();
            columns == wanted
        });
        MapSpec {
            name: name.to_string(),
            fo_set: <M::Fo as Entity>::SET,
            dv_set: <M::Dv as Entity>::SET,
            dv_id,
            fo_key: <M::Fo as Entity>::KEY,
            key_pairs,
            company_fo: M::COMPANY,
            company_dv,
            fo_select,
            dv_select,
            dv_written,
            fo_written,
            fo_filter: M::FO_FILTER,
            dv_filter: M::DV_FILTER,
            master: M::MASTER,
            lookup_sets,
            dv_alternate_key,
            dv_lookups,
            lookup_ids,
            lookup_reads,
            fo_page,
        }
    }
}

impl<M> Default for MapRunner<M>
where
    M: TableMap + 'static,
    M::Fo: Entity + 'static,
    M::Dv: Entity + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

fn values_of<E>(patch: &Patch<E>) -> BTreeMap<String, Option<String>> {
    patch
        .names()
        .map(|name| {
            let value = match patch.get_name(name) {
                Some(PatchValue::Json(text)) => Some(text.clone()),
                _ => None,
            };
            (name.to_string(), value)
        })
        .collect()
}

/// Whether `name` may be sent to `E` on create (or on update).
fn allowed<E: Entity>(name: &str, create: bool) -> bool {
    if let Some(nav) = name.strip_suffix("@odata.bind") {
        // A lookup bind: allowed when its lookup column is.
        return match E::FIELDS
            .iter()
            .find(|f| f.lookup.iter().any(|t| t.navigation == nav))
        {
            Some(field) => {
                if create {
                    field.valid_for_create
                } else {
                    field.valid_for_update
                }
            }
            None => true,
        };
    }
    match E::field(name) {
        Some(FieldDef { read_only: true, .. }) => false,
        Some(field) if !create && field.key => false,
        Some(field) => {
            if create {
                field.valid_for_create
            } else {
                field.valid_for_update
            }
        }
        None => true,
    }
}

fn patch_of<E: Entity>(values: BTreeMap<String, Option<String>>, create: bool) -> Patch<E> {
    let mut patch = Patch::new();
    for (name, value) in values {
        if !allowed::<E>(&name, create) {
            continue;
        }
        match value {
            Some(json) => patch.insert_json(name, json),
            None => patch.insert_null(name),
        }
    }
    patch
}

fn key_of<E>(text: &str) -> Key<E> {
    Key::from_url_text(text.to_string())
}

async fn write_dv<E: Entity>(
    client: &DataverseClient,
    ops: Vec<WriteOp>,
) -> Result<Vec<Result<OpResponse, Error>>, Error> {
    let mut batch = client.batch();
    batch.continue_on_error();
    for op in ops {
        batch.change_set(|cs| match op {
            WriteOp::Create { values } => cs.create(&patch_of::<E>(values, true)),
            WriteOp::Update {
                key,
                values,
                precondition,
            } => cs.update(&key_of::<E>(&key), &patch_of::<E>(values, false), precondition),
            WriteOp::Upsert { key, values } => cs.upsert(&key_of::<E>(&key), &patch_of::<E>(values, true)),
            WriteOp::Delete { key } => cs.delete(&key_of::<E>(&key), Precondition::None),
        });
    }
    Ok(batch.send().await?.into_vec())
}

async fn write_fo<E: Entity>(
    client: &FinOpsClient,
    ops: Vec<WriteOp>,
) -> Result<Vec<Result<OpResponse, Error>>, Error> {
    let mut batch = client.batch();
    batch.continue_on_error();
    for op in ops {
        batch.change_set(|cs| match op {
            WriteOp::Create { values } | WriteOp::Upsert { values, .. } => {
                cs.create(&patch_of::<E>(values, true))
            }
            WriteOp::Update {
                key,
                values,
                precondition,
            } => cs.update(&key_of::<E>(&key), &patch_of::<E>(values, false), precondition),
            WriteOp::Delete { key } => cs.delete(&key_of::<E>(&key), Precondition::None),
        });
    }
    Ok(batch.send().await?.into_vec())
}

async fn changes_of<E: Entity>(
    client: &DataverseClient,
    select: &[&'static str],
    delta: Option<String>,
    page_size: u32,
) -> Result<(Vec<DvChange>, String), Error> {
    let mut changes = match &delta {
        None => {
            let mut query = Query::<E>::new().page_size(page_size);
            query.select = select.to_vec();
            client.track_changes(&query)?
        }
        Some(link) => client.changes::<E>(link, Some(page_size))?,
    };
    let mut out = Vec::new();
    while let Some(page) = changes.next_page().await? {
        for change in page {
            out.push(match change {
                Change::Upsert(record) => DvChange::Upsert(record.into_object()),
                Change::Deleted { id } => DvChange::Deleted { id },
            });
        }
    }
    let link = changes
        .delta_link()
        .map(str::to_string)
        .ok_or_else(|| Error::Invalid("change tracking ended without a delta link".into()))?;
    Ok((out, link))
}

impl<M> SyncMap for MapRunner<M>
where
    M: TableMap + 'static,
    M::Fo: Entity + 'static,
    M::Dv: Entity + 'static,
{
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn map(&self, flow: Flow, record: Object) -> Result<Mapped, MapError> {
        match flow {
            Flow::FoToDv => {
                let out = M::fo_to_dv(&Record::<M::Fo>::from_object(record))?;
                Ok(Mapped {
                    values: values_of(&out.patch),
                    lookups: out.lookups,
                })
            }
            Flow::DvToFo => {
                let out = M::dv_to_fo(&Record::<M::Dv>::from_object(record))?;
                Ok(Mapped {
                    values: values_of(&out.patch),
                    lookups: out.lookups,
                })
            }
        }
    }

    fn write<'a>(
        &'a self,
        services: &'a Services,
        flow: Flow,
        ops: Vec<WriteOp>,
    ) -> BoxFuture<'a, Result<Vec<Result<OpResponse, Error>>, Error>> {
        match flow {
            Flow::FoToDv => Box::pin(write_dv::<M::Dv>(&services.dataverse, ops)),
            Flow::DvToFo => Box::pin(write_fo::<M::Fo>(&services.fo, ops)),
        }
    }

    fn changes<'a>(
        &'a self,
        services: &'a Services,
        delta: Option<String>,
        page_size: u32,
    ) -> BoxFuture<'a, Result<(Vec<DvChange>, String), Error>> {
        Box::pin(changes_of::<M::Dv>(
            &services.dataverse,
            &self.spec.dv_select,
            delta,
            page_size,
        ))
    }
}
