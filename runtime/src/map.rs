//! Table maps between an F&O entity and a Dataverse table, as `#[derive(TableMap)]` writes them:
//! per-direction functions from one side's record (the generated struct, or a [`Record`] read with
//! `$select`) to a [`Patch`] of the other side plus the lookups to resolve, and the map's metadata for
//! the engine. A map that is wrong does not compile: see the derive's documentation in the README.

use std::borrow::Cow;

use crate::__private::{Col, Slot};
use crate::edm::{Binary, Date, DateTimeOffset, Decimal, Duration, Guid, TimeOfDay};
use crate::entity::{Entity, Patch, Record};
use crate::json::{EdmJson, JsonError, Value};

/// Which way a column flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    FoToDv,
    DvToFo,
}

/// A side of a map: F&O or Dataverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Fo,
    Dv,
}

/// One column pair of a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnMap {
    /// F&O wire name, or "" when a default fills the Dataverse side.
    pub fo: &'static str,
    /// Dataverse wire name (or lookup column), or "" when a default fills the F&O side.
    pub dv: &'static str,
    pub direction: Direction,
    pub key: bool,
    /// A lookup's key column on its target table (`isocurrencycode`), resolved by the engine.
    pub lookup: &'static str,
    /// A lookup's navigation property (`transactioncurrencyid`), or "".
    pub navigation: &'static str,
    /// A lookup's target entity set (`transactioncurrencies`), or "".
    pub lookup_set: &'static str,
    /// A lookup through further tables: `lookup` is then a lookup column of the target, and the
    /// key value belongs to the record at the end of these hops (see [`LookupHop`]).
    pub via: &'static [LookupHop],
}

impl ColumnMap {
    /// A lookup's key path from its target (`isocurrencycode`, or through further tables
    /// `msdyn_currencyexchangeratetypeid.msdyn_name`), or "" when the column is not a lookup.
    pub fn lookup_path(&self) -> String {
        key_path(self.lookup, self.via)
    }
}

fn key_path(key: &str, via: &[LookupHop]) -> String {
    match via.last() {
        None => key.to_string(),
        Some(last) => {
            let mut path: Vec<&str> = via.iter().map(|h| h.navigation).collect();
            path.push(last.key);
            path.join(".")
        }
    }
}

/// One further hop of a lookup through two or more tables: from a lookup column of the table before
/// (`_msdyn_currencyexchangeratetypeid_value` of `msdyn_currencyexchangeratepairs`), through its
/// navigation property, to `set`, whose column `key` is the next hop's lookup column or, on the last
/// hop, the key value's column (`msdyn_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupHop {
    /// The navigation property of the lookup column of the table before (`msdyn_currencyexchangeratetypeid`).
    pub navigation: &'static str,
    /// The entity set it points to (`msdyn_exchangeratetypes`).
    pub set: &'static str,
    /// That table's primary id column (`msdyn_exchangeratetypeid`).
    pub id: &'static str,
    /// The column of `set` (`msdyn_name`, or the next hop's lookup column).
    pub key: &'static str,
}

/// A lookup the engine resolves before writing: find the record of `target_set` whose `key` equals
/// `value`, and bind `column` to it through `navigation`. With hops (`via`), `key` is a lookup column
/// of the target and `value` the key value of the record at the end of the hops, which the engine
/// finds first. Several requests on one `column` find one record together (each names a part of
/// its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    /// The lookup column (`_transactioncurrencyid_value`).
    pub column: &'static str,
    /// The navigation property to bind (`transactioncurrencyid`, `parentcustomerid_account`).
    pub navigation: &'static str,
    /// The target's entity set (`transactioncurrencies`).
    pub target_set: &'static str,
    /// The key column on the target (`isocurrencycode`).
    pub key: &'static str,
    /// The source value, as an OData literal (`'EUR'`).
    pub value: String,
    /// Further hops (empty for a lookup by a column of the target).
    pub via: &'static [LookupHop],
}

impl LookupRequest {
    /// The `$filter` that finds the target record (`isocurrencycode eq 'EUR'`), for a lookup without
    /// hops.
    pub fn filter(&self) -> String {
        format!("{} eq {}", self.key, self.value)
    }

    /// The path from the target to the key value, for messages
    /// (`msdyn_currencyexchangeratetypeid.msdyn_name`, or `isocurrencycode`).
    pub fn key_path(&self) -> String {
        key_path(self.key, self.via)
    }

    /// Binds the lookup in `patch` to the target record `id` the engine found.
    pub fn bind<E>(&self, patch: &mut Patch<E>, id: &Guid) {
        patch.insert_json(
            format!("{}@odata.bind", self.navigation),
            crate::json::json_string(&format!("/{}({id})", self.target_set)),
        );
    }
}

/// What mapping one record produces.
#[derive(Debug)]
pub struct MapOutput<E> {
    pub patch: Patch<E>,
    pub lookups: Vec<LookupRequest>,
}

/// Why a record could not be mapped (it goes to the error log with this reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("column `{column}`: {source}")]
    Value { column: &'static str, source: JsonError },
    #[error("column `{column}`: value `{value}` has no entry in the value map")]
    Unmapped { column: &'static str, value: String },
    #[error("column `{column}` is empty but it is the integration key")]
    EmptyKey { column: &'static str },
    #[error("column `{column}` is the integration key but the record does not hold it (add it to $select)")]
    KeyNotSelected { column: &'static str },
    #[error("column `{column}` is Nullable=false: null is never written to it")]
    NullIntoNotNull { column: &'static str },
    #[error(
        "lookup `{column}` is (part of) the integration key but the key of its target was not read: the record `{navigation}` points to was not found"
    )]
    LookupNotResolved {
        column: &'static str,
        navigation: &'static str,
    },
    #[error("the F&O record does not hold its company column `{column}` (add it to $select)")]
    CompanyNotSelected { column: &'static str },
    #[error(
        "the Dataverse record does not say its company: read it with $expand={navigation}($select={key})"
    )]
    CompanyNotExpanded {
        navigation: &'static str,
        key: &'static str,
    },
}

/// A map between F&O entity `Fo` and Dataverse table `Dv`.
pub trait TableMap {
    /// The F&O entity (an [`Entity`]; the bound is left to users of the trait so that a map naming
    /// something else is one compile error, not one per use).
    type Fo;
    /// The Dataverse table (an [`Entity`]).
    type Dv;
    /// Company striping: the F&O column naming the company (`dataAreaId`), if the map is per company.
    const COMPANY: Option<&'static str>;
    const FO_FILTER: Option<&'static str>;
    const DV_FILTER: Option<&'static str>;
    const COLUMNS: &'static [ColumnMap];
    /// The initial-sync master: the side whose records an initial sync copies to the other, and that
    /// wins a conflict (dual-write's "initial sync master"; F&O unless the map says otherwise).
    const MASTER: Side = Side::Fo;

    /// F&O → Dataverse, from the generated struct or a [`Record`] (columns it lacks are not written).
    fn fo_to_dv<S: Source<Self::Fo>>(record: &S) -> Result<MapOutput<Self::Dv>, MapError>;
    /// Dataverse → F&O, from the generated struct or a [`Record`] (columns it lacks are not written).
    fn dv_to_fo<S: Source<Self::Dv>>(record: &S) -> Result<MapOutput<Self::Fo>, MapError>;
}

/// A record a map reads: the generated struct (every column present), or a [`Record`] (only the
/// columns the service sent; "not selected" is not null).
pub trait Source<E> {
    #[doc(hidden)]
    fn slot<T: EdmJson + Clone + 'static, L>(&self, column: &Col<E, T, L>) -> Result<Slot<'_, T>, MapError>;
    /// The company code the record belongs to: F&O's company column, or the code of Dataverse's
    /// company lookup when the record was read with it expanded (`navigation/key`).
    #[doc(hidden)]
    fn company_code(&self, navigation: &str, key: &str) -> Option<Cow<'_, str>>;
    /// The key column `key` of the record a Dataverse lookup points to, when the record holds its
    /// navigation expanded (`navigation: {key: ..}`, or `navigation: null` for an empty lookup): how
    /// a lookup maps back to F&O's key value. The engine fills it in from the lookup's id. A lookup
    /// through further tables names each navigation (`pair: {type: {msdyn_name: ..}}`).
    #[doc(hidden)]
    fn expanded<T: EdmJson + Clone, L, Target>(
        &self,
        navigation: &[&str],
        key: &Col<Target, T, L>,
    ) -> Result<Slot<'_, T>, MapError>;
}

impl<E: Entity> Source<E> for E {
    fn slot<T: EdmJson + Clone + 'static, L>(&self, column: &Col<E, T, L>) -> Result<Slot<'_, T>, MapError> {
        let value = self
            .field_value(column.column.index)
            .and_then(|v| v.downcast_ref::<T>());
        Ok(match value {
            Some(value) => Slot::Value(Cow::Borrowed(value)),
            None => Slot::Null,
        })
    }

    fn company_code(&self, _navigation: &str, _key: &str) -> Option<Cow<'_, str>> {
        self.company().map(Cow::Borrowed)
    }

    fn expanded<T: EdmJson + Clone, L, Target>(
        &self,
        _navigation: &[&str],
        _key: &Col<Target, T, L>,
    ) -> Result<Slot<'_, T>, MapError> {
        // The generated struct holds the lookup's id only.
        Ok(Slot::Absent)
    }
}

impl<E: Entity> Source<E> for Record<E> {
    fn slot<T: EdmJson + Clone + 'static, L>(&self, column: &Col<E, T, L>) -> Result<Slot<'_, T>, MapError> {
        let name = column.column.name();
        Ok(match self.json().get(name) {
            None => Slot::Absent,
            Some(Value::Null) => Slot::Null,
            Some(value) => Slot::Value(Cow::Owned(T::from_json(value).map_err(|e| MapError::Value {
                column: name,
                source: e.in_field(name),
            })?)),
        })
    }

    fn company_code(&self, navigation: &str, key: &str) -> Option<Cow<'_, str>> {
        let object = self.json();
        let text = match E::COMPANY {
            Some(column) => object.get(column),
            None => object.get(navigation).and_then(|n| n.get(key)),
        };
        text.and_then(Value::as_str).map(Cow::Borrowed)
    }

    fn expanded<T: EdmJson + Clone, L, Target>(
        &self,
        navigation: &[&str],
        key: &Col<Target, T, L>,
    ) -> Result<Slot<'_, T>, MapError> {
        let name = key.column.name();
        let mut at = self.json();
        for hop in navigation {
            match at.get(*hop) {
                None => return Ok(Slot::Absent),
                Some(Value::Null) => return Ok(Slot::Null),
                Some(Value::Object(next)) => at = next,
                Some(_) => return Ok(Slot::Absent),
            }
        }
        Ok(match at.get(name) {
            None => Slot::Absent,
            Some(Value::Null) => Slot::Null,
            Some(value) => Slot::Value(Cow::Owned(T::from_json(value).map_err(|e| MapError::Value {
                column: name,
                source: e.in_field(name),
            })?)),
        })
    }
}

/// A value of one column type that can fill a column of another exactly: the conversions dual-write
/// allows. Rounding conversions are [`LossyFrom`].
pub trait ConvertFrom<S>: Sized {
    fn convert_from(value: &S) -> Result<Self, String>;
}

macro_rules! identity {
    ($($t:ty),*) => {$(
        impl ConvertFrom<$t> for $t {
            fn convert_from(value: &$t) -> Result<Self, String> {
                Ok(value.clone())
            }
        }
    )*};
}

identity!(
    String,
    bool,
    u8,
    i8,
    i16,
    i32,
    i64,
    f32,
    f64,
    Decimal,
    Guid,
    Date,
    DateTimeOffset,
    TimeOfDay,
    Duration,
    Binary
);

macro_rules! widen {
    ($($from:ty => $to:ty),*) => {$(
        impl ConvertFrom<$from> for $to {
            fn convert_from(value: &$from) -> Result<Self, String> {
                Ok(<$to>::from(*value))
            }
        }
    )*};
}

widen!(u8 => i16, u8 => i32, u8 => i64, i8 => i16, i8 => i32, i8 => i64, i16 => i32, i16 => i64, i32 => i64);

impl ConvertFrom<Date> for DateTimeOffset {
    /// Midnight UTC of the date.
    fn convert_from(value: &Date) -> Result<Self, String> {
        Ok(DateTimeOffset(value.0.midnight().assume_utc()))
    }
}

impl ConvertFrom<DateTimeOffset> for Date {
    /// The calendar date in UTC.
    fn convert_from(value: &DateTimeOffset) -> Result<Self, String> {
        Ok(Date(value.0.to_offset(time::UtcOffset::UTC).date()))
    }
}

/// A conversion that may round, taken only where a map asks for it (`#[map(.., lossy)]`) and never
/// for a currency amount.
#[diagnostic::on_unimplemented(
    message = "nothing to round from a `{S}` column to a `{Self}` column",
    label = "`lossy` is for conversions that round (decimal → float)",
    note = "remove `lossy`: these columns convert exactly, or not at all"
)]
pub trait LossyFrom<S>: Sized {
    fn lossy_from(value: &S) -> Result<Self, String>;
}

impl LossyFrom<Decimal> for f64 {
    /// The nearest `f64` (coordinates: an F&O decimal into a Dataverse float column).
    fn lossy_from(value: &Decimal) -> Result<Self, String> {
        value
            .to_string()
            .parse()
            .map_err(|e| format!("{value} as a float: {e}"))
    }
}

impl LossyFrom<Decimal> for f32 {
    fn lossy_from(value: &Decimal) -> Result<Self, String> {
        value
            .to_string()
            .parse()
            .map_err(|e| format!("{value} as a float: {e}"))
    }
}

impl LossyFrom<f64> for f32 {
    fn lossy_from(value: &f64) -> Result<Self, String> {
        Ok(*value as f32)
    }
}
