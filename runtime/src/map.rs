//! Table maps between an F&O entity and a Dataverse table, as `#[derive(TableMap)]` writes them:
//! per-direction functions from one side's record to a [`Patch`] of the other side, and the map's
//! metadata for the engine. The helpers here are what the derive's checks are made of: conversion
//! traits rustc reports with a readable message, and `const fn`s over field tables that fail the
//! build when a map writes a read-only column or leaves a required one unmapped.

use crate::edm::{Binary, Date, DateTimeOffset, Decimal, Duration, Guid, TimeOfDay};
use crate::entity::{Entity, FieldDef, Patch};
use crate::json::JsonError;

/// Which way a column flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    FoToDv,
    DvToFo,
}

/// One column pair of a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnMap {
    /// F&O wire name, or "" when a Default fills the Dataverse side.
    pub fo: &'static str,
    /// Dataverse wire name (or lookup column), or "" when a Default fills the F&O side.
    pub dv: &'static str,
    pub direction: Direction,
    pub key: bool,
    /// A lookup's key path on the far side (`isocurrencycode`), resolved by the engine.
    pub lookup: &'static str,
}

/// A lookup the engine must resolve before writing: find the record of `target` whose `path`
/// equals `value`, and bind `column` to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    pub column: &'static str,
    pub path: &'static str,
    /// The source value, as an OData literal.
    pub value: String,
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
}

/// A map between F&O entity `Fo` and Dataverse table `Dv`.
pub trait TableMap {
    type Fo: Entity;
    type Dv: Entity;
    /// Company striping: the F&O column naming the company (`dataAreaId`), if the map is per company.
    const COMPANY: Option<&'static str>;
    const FO_FILTER: Option<&'static str>;
    const DV_FILTER: Option<&'static str>;
    const COLUMNS: &'static [ColumnMap];

    fn fo_to_dv(record: &Self::Fo) -> Result<MapOutput<Self::Dv>, MapError>;
    fn dv_to_fo(record: &Self::Dv) -> Result<MapOutput<Self::Fo>, MapError>;
}

/// A value of one column type that can fill a column of another: the conversions dual-write allows.
#[diagnostic::on_unimplemented(
    message = "a `{S}` column cannot be mapped to a `{Self}` column",
    label = "these column types do not convert",
    note = "dual-write converts string↔string, decimal↔money, date↔date-time, integers to wider integers, and enum↔option set or NoYes↔bool through a value_map(..)"
)]
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

impl ConvertFrom<Decimal> for f64 {
    /// Into a floating-point column (coordinates): the nearest `f64`, as the column itself stores.
    fn convert_from(value: &Decimal) -> Result<Self, String> {
        value
            .to_string()
            .parse()
            .map_err(|e| format!("{value} as a float: {e}"))
    }
}

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

/// Reads a column's value whether the field is `T` or `Option<T>` (used by the derive).
pub trait Present<T> {
    fn present(&self) -> Option<&T>;
}

impl<T> Present<T> for T {
    fn present(&self) -> Option<&T> {
        Some(self)
    }
}

impl<T> Present<T> for Option<T> {
    fn present(&self) -> Option<&T> {
        self.as_ref()
    }
}

/// The value of `field` typed by its column (ties inference to the column's value type).
pub fn read<E, T, F: Present<T>>(_column: crate::entity::Column<E, T>, field: &F) -> Option<&T> {
    field.present()
}

/// Converts a value for `target`, typed by both columns.
pub fn convert<E1, E2, S, T: ConvertFrom<S>>(
    _source: crate::entity::Column<E1, S>,
    target: crate::entity::Column<E2, T>,
    value: &S,
) -> Result<T, MapError> {
    T::convert_from(value).map_err(|message| MapError::Value {
        column: target.name(),
        source: JsonError::Invalid {
            field: String::new(),
            message,
        },
    })
}

/// Members of a CSDL enum, for the value-map totality check (the generator implements it).
pub trait EnumMembers {
    const MEMBERS: &'static [(&'static str, i64)];
    /// Per member, what a value map that misses it is told.
    const NOT_COVERED: &'static [&'static str];
}

/// A value of `column`'s type from JSON text (a value map's or a default's literal).
pub fn from_literal<E, T: crate::json::EdmJson>(
    column: crate::entity::Column<E, T>,
    json: &str,
) -> Result<T, MapError> {
    let value: crate::json::Value = json.parse().map_err(|e: serde_json::Error| MapError::Value {
        column: column.name(),
        source: JsonError::Invalid {
            field: String::new(),
            message: e.to_string(),
        },
    })?;
    T::from_json(&value).map_err(|source| MapError::Value {
        column: column.name(),
        source,
    })
}

/// String equality in `const` context.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn contains(list: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        if str_eq(list[i], name) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether column `name` of a field table is read-only (unknown names are not: rustc reports those).
pub const fn is_read_only(fields: &[FieldDef], name: &str) -> bool {
    let mut i = 0;
    while i < fields.len() {
        if str_eq(fields[i].name, name) {
            return fields[i].read_only;
        }
        i += 1;
    }
    false
}

/// The message of the first required column (not nullable, writable, not a key) missing from
/// `mapped`, or "".
pub const fn unmapped_required(fields: &[FieldDef], mapped: &[&str]) -> &'static str {
    let mut i = 0;
    while i < fields.len() {
        let f = &fields[i];
        if !f.nullable && !f.read_only && !f.key && !contains(mapped, f.name) {
            return f.required_message;
        }
        i += 1;
    }
    ""
}

/// The message for the first enum member missing from a value map, or "".
pub const fn uncovered_member<T: EnumMembers>(mapped: &[&str]) -> &'static str {
    let mut i = 0;
    while i < T::MEMBERS.len() {
        if !contains(mapped, T::MEMBERS[i].0) {
            return T::NOT_COVERED[i];
        }
        i += 1;
    }
    ""
}

/// [`uncovered_member`] for the enum a column holds.
pub const fn uncovered_member_of<E, T: EnumMembers>(
    _column: crate::entity::Column<E, T>,
    mapped: &[&str],
) -> &'static str {
    uncovered_member::<T>(mapped)
}

/// Required-column check for `E` (for the derive's `const` assertions).
pub const fn required_missing<E: Entity>(mapped: &[&str]) -> &'static str {
    unmapped_required(E::FIELDS, mapped)
}

/// Read-only check for `E`.
pub const fn read_only<E: Entity>(name: &str) -> bool {
    is_read_only(E::FIELDS, name)
}

/// Like [`from_literal`], parsing the literal once per call site (`cell` is a `static` the derive
/// writes next to it).
pub fn from_cached_literal<E, T: crate::json::EdmJson>(
    column: crate::entity::Column<E, T>,
    cell: &'static std::sync::OnceLock<Result<crate::json::Value, String>>,
    json: &'static str,
) -> Result<T, MapError> {
    let parsed = cell.get_or_init(|| json.parse::<crate::json::Value>().map_err(|e| e.to_string()));
    let value = parsed.as_ref().map_err(|message| MapError::Value {
        column: column.name(),
        source: JsonError::Invalid {
            field: String::new(),
            message: message.clone(),
        },
    })?;
    T::from_json(value).map_err(|source| MapError::Value {
        column: column.name(),
        source,
    })
}
