//! What `#[derive(Entity)]`, `#[derive(TableMap)]` and the generator's output call, and people should
//! not: not part of the public API, and free to change with the macros (as serde's and axum's
//! `__private`).
//!
//! The table-map checks are `const fn`s over the field tables that return whether a rule holds; the
//! derive turns each into a trait bound on `Bool<RESULT>` whose `#[diagnostic::on_unimplemented]`
//! message says what is wrong with the map, spanned at the offending token.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::column::Column;
use crate::edm::{Binary, Date, DateTimeOffset, Decimal, Duration, Guid, Json, TimeOfDay};
use crate::json::{EdmJson, JsonError};
use crate::map::MapError;
use crate::patch::Patch;
use crate::schema::{Entity, FieldDef, Scale};

pub use crate::json::{Map, Value};

// ---------------------------------------------------------------------------------------------------
// Reading entities (derive(Entity)).

/// Reads one property of a response object (derive(Entity) calls this per field).
pub fn read_field<T: EdmJson>(
    object: &Map<String, Value>,
    name: &str,
    optional: bool,
) -> Result<T, JsonError> {
    match object.get(name) {
        Some(value) => T::from_json(value).map_err(|e| e.in_field(name)),
        None if optional => T::from_json(&Value::Null).map_err(|e| e.in_field(name)),
        None => Err(JsonError::Missing {
            field: name.to_string(),
        }),
    }
}

/// Properties of a response object that are neither declared nor annotations: what an open type keeps.
pub fn undeclared(
    object: &Map<String, Value>,
    declared: &[FieldDef],
) -> std::collections::BTreeMap<String, Json> {
    object
        .iter()
        .filter(|(k, _)| !k.contains('@') && !declared.iter().any(|f| f.name == *k))
        .map(|(k, v)| (k.clone(), Json(v.to_string())))
        .collect()
}

/// A column constant that knows its position in the field table.
pub const fn column<E, T: ?Sized>(name: &'static str, index: usize) -> Column<E, T> {
    Column::indexed(name, index)
}

// ---------------------------------------------------------------------------------------------------
// Column handles for maps.

/// A type-level boolean: checks are bounds on `Bool<RESULT>`.
pub struct Bool<const B: bool>;

/// A column as a table map sees it: the typed column and how to read it from the entity struct.
///
/// `L` is a type named after the tables a lookup column points to (`transactioncurrency`), so that an
/// error about the column can name them; [`NotALookup`] for other columns.
pub struct Col<E, T, L = NotALookup> {
    pub column: Column<E, T>,
    lookup: std::marker::PhantomData<fn() -> L>,
}

impl<E, T, L> Clone for Col<E, T, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T, L> Copy for Col<E, T, L> {}

impl<E, T, L> Col<E, T, L> {
    pub const fn new(name: &'static str, index: usize) -> Self {
        Col {
            column: Column::indexed(name, index),
            lookup: std::marker::PhantomData,
        }
    }
}

/// The wire name of `column`.
pub const fn column_name<E, T, L>(column: &Col<E, T, L>) -> &'static str {
    column.column.name()
}

/// The `I`-th column of `Entity::MUST_MAP`, as a type named after the column (so an error can
/// name it); `usize::MAX` is "none missing".
pub trait RequiredAt<const I: usize> {
    type Column;
}

/// No required column is missing.
pub struct AllMapped;

impl<E: Entity> RequiredAt<{ usize::MAX }> for E {
    type Column = AllMapped;
}

/// The column is not a lookup.
pub struct NotALookup;

/// A column's value in a record a map reads.
pub enum Slot<'a, T: Clone> {
    /// Not in the record (not selected): nothing is written to the other side.
    Absent,
    Null,
    Value(Cow<'a, T>),
}

// ---------------------------------------------------------------------------------------------------
// Values.

/// Conversion between the value types of two columns; `L` is `Bool<true>` when the destination is a
/// lookup (written through `lookup(..)`, never converted: the check that says so is the only error).
#[diagnostic::on_unimplemented(
    message = "a `{S}` column cannot be mapped to a `{Self}` column",
    label = "these column types do not convert",
    note = "dual-write converts string↔string, decimal↔money, date↔date-time, integers to wider integers, and enum↔option set or NoYes↔bool through a value_map(..); a conversion that rounds (decimal → float) must be asked for with `lossy`"
)]
pub trait Conv<S, L>: Sized {
    fn conv(value: &S) -> Result<Self, String>;
}

impl<S, T: crate::map::ConvertFrom<S>> Conv<S, Bool<false>> for T {
    fn conv(value: &S) -> Result<Self, String> {
        T::convert_from(value)
    }
}

impl<S, T> Conv<S, Bool<true>> for T {
    fn conv(_: &S) -> Result<Self, String> {
        Err("a lookup column is written through lookup(..)".into())
    }
}

/// Converts `value` for destination `target`.
pub fn convert<L1, L2, E1, E2, S, T: Conv<S, L>, L>(
    _source: &Col<E1, S, L1>,
    target: &Col<E2, T, L2>,
    value: &S,
) -> Result<T, MapError> {
    T::conv(value).map_err(|message| invalid(target.column.name(), message))
}

/// Converts `value` for destination `target`, rounding where the map asked for it (`lossy`).
pub fn convert_lossy<L1, L2, E1, E2, S, T: crate::map::LossyFrom<S>>(
    _source: &Col<E1, S, L1>,
    target: &Col<E2, T, L2>,
    value: &S,
) -> Result<T, MapError> {
    T::lossy_from(value).map_err(|message| invalid(target.column.name(), message))
}

fn invalid(column: &'static str, message: String) -> MapError {
    MapError::Value {
        column,
        source: JsonError::Invalid {
            field: String::new(),
            message,
        },
    }
}

/// Sets `target` in `patch`, checked against its facets.
pub fn set<L, E: Entity, T: EdmJson>(
    patch: &mut Patch<E>,
    target: &Col<E, T, L>,
    value: &T,
) -> Result<(), MapError> {
    patch
        .set(target.column, value)
        .map(|_| ())
        .map_err(|source| MapError::Value {
            column: target.column.name(),
            source,
        })
}

/// Sets `target` to null, unless it is `Nullable=false`: a null never reaches such a column.
pub fn set_null<L, E: Entity, T>(patch: &mut Patch<E>, target: &Col<E, T, L>) -> Result<(), MapError> {
    if crate::patch::field_of(target.column).is_some_and(|f| !f.nullable) {
        return Err(MapError::NullIntoNotNull {
            column: target.column.name(),
        });
    }
    patch.set_null(target.column);
    Ok(())
}

/// A value of `target`'s type from the JSON text of a literal in the map, parsed once per call site
/// (`cell` is a `static` next to it).
pub fn literal<L, E, T: EdmJson>(
    target: &Col<E, T, L>,
    cell: &'static OnceLock<Result<Value, String>>,
    json: &'static str,
) -> Result<T, MapError> {
    let parsed = cell.get_or_init(|| json.parse::<Value>().map_err(|e| e.to_string()));
    let value = parsed
        .as_ref()
        .map_err(|message| invalid(target.column.name(), message.clone()))?;
    T::from_json(value).map_err(|source| MapError::Value {
        column: target.column.name(),
        source,
    })
}

/// Looks `value` up in a value map: `lookup` gets the text the map matches (an enum member's name, or
/// a value's JSON text), written into a buffer reused per thread (mapping allocates nothing here);
/// a value the map lacks comes back as the error text.
pub fn map_value<T: EdmJson, R>(value: &T, lookup: impl FnOnce(&str) -> Option<R>) -> Result<R, String> {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        value.write_json(&mut buffer);
        let text = buffer.as_str();
        // An enum member (or a string) is a JSON string: match on its text.
        let key = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) if !inner.contains(['"', '\\']) => inner,
            _ => text,
        };
        lookup(key).ok_or_else(|| key.to_string())
    })
}

// ---------------------------------------------------------------------------------------------------
// Kinds of column values, for literals in maps (defaults, value maps).

/// What literals a column's value type takes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Boolean,
    Integer {
        min: i128,
        max: i128,
    },
    Decimal,
    Float,
    Guid,
    Date,
    DateTimeOffset,
    TimeOfDay,
    Duration,
    Binary,
    Json,
    /// A CSDL enum: members by name.
    Enum {
        members: &'static [(&'static str, i64)],
    },
    /// A Dataverse choice: options by number.
    OptionSet {
        options: &'static [(i32, &'static str)],
    },
}

/// The kind of a column value type (implemented for the Edm types, and by the generator for enums and
/// option sets).
#[diagnostic::on_unimplemented(
    message = "a `{Self}` column takes no literal in a map",
    label = "no default or value map for this column type"
)]
pub trait ColumnType {
    const KIND: Kind;
}

macro_rules! kinds {
    ($($t:ty => $kind:expr),* $(,)?) => {$(
        impl ColumnType for $t {
            const KIND: Kind = $kind;
        }
    )*};
}

kinds!(
    String => Kind::Text,
    bool => Kind::Boolean,
    u8 => Kind::Integer { min: 0, max: u8::MAX as i128 },
    i8 => Kind::Integer { min: i8::MIN as i128, max: i8::MAX as i128 },
    i16 => Kind::Integer { min: i16::MIN as i128, max: i16::MAX as i128 },
    i32 => Kind::Integer { min: i32::MIN as i128, max: i32::MAX as i128 },
    i64 => Kind::Integer { min: i64::MIN as i128, max: i64::MAX as i128 },
    Decimal => Kind::Decimal,
    f32 => Kind::Float,
    f64 => Kind::Float,
    Guid => Kind::Guid,
    Date => Kind::Date,
    DateTimeOffset => Kind::DateTimeOffset,
    TimeOfDay => Kind::TimeOfDay,
    Duration => Kind::Duration,
    Binary => Kind::Binary,
    Json => Kind::Json,
);

/// A literal written in a map, as the derive read it.
#[derive(Debug, Clone, Copy)]
pub enum Lit {
    Bool(bool),
    Int(i128),
    /// A number with a fraction or an exponent: its digits before and after the point.
    Number {
        before: u32,
        after: u32,
    },
    /// A string: its length in characters and the text forms it has ([`FORM_GUID`], ...).
    Str {
        text: &'static str,
        chars: u32,
        forms: u32,
    },
}

pub const FORM_GUID: u32 = 1;
pub const FORM_DATE: u32 = 2;
pub const FORM_DATE_TIME: u32 = 4;
pub const FORM_TIME: u32 = 8;
pub const FORM_DURATION: u32 = 16;
pub const FORM_BASE64: u32 = 32;

const fn kind_of<L, E, T: ColumnType>(_: &Col<E, T, L>) -> Kind {
    T::KIND
}

/// Whether `lit` is written as a value of `target`'s type.
pub const fn lit_has_type<L, E, T: ColumnType>(target: &Col<E, T, L>, lit: &Lit) -> bool {
    let forms = match lit {
        Lit::Str { forms, .. } => *forms,
        _ => 0,
    };
    match (kind_of(target), lit) {
        (Kind::Json, _) => true,
        (Kind::Text | Kind::Enum { .. }, Lit::Str { .. }) => true,
        (Kind::Boolean, Lit::Bool(_)) => true,
        (Kind::Integer { .. } | Kind::OptionSet { .. }, Lit::Int(_)) => true,
        (Kind::Decimal | Kind::Float, Lit::Int(_) | Lit::Number { .. }) => true,
        (Kind::Guid, Lit::Str { .. }) => forms & FORM_GUID != 0,
        (Kind::Date, Lit::Str { .. }) => forms & FORM_DATE != 0,
        (Kind::DateTimeOffset, Lit::Str { .. }) => forms & FORM_DATE_TIME != 0,
        (Kind::TimeOfDay, Lit::Str { .. }) => forms & FORM_TIME != 0,
        (Kind::Duration, Lit::Str { .. }) => forms & FORM_DURATION != 0,
        (Kind::Binary, Lit::Str { .. }) => forms & FORM_BASE64 != 0,
        _ => false,
    }
}

/// Whether `lit` fits `target`'s facets: `MaxLength`, `Precision`/`Scale`, the integer type's range,
/// an enum member or an option of the choice. A literal of the wrong type passes (that is
/// [`lit_has_type`]'s error).
pub const fn lit_fits<L, E: Entity, T: ColumnType>(target: &Col<E, T, L>, lit: &Lit) -> bool {
    if !lit_has_type(target, lit) {
        return true;
    }
    let field = field_at::<E>(target.column.index);
    match (kind_of(target), lit) {
        (Kind::Text, Lit::Str { chars, .. }) => match field.max_length {
            Some(max) => *chars <= max,
            None => true,
        },
        (Kind::Integer { min, max }, Lit::Int(value)) => *value >= min && *value <= max,
        (Kind::Enum { members }, Lit::Str { text, .. }) => has_member_named(members, text),
        (Kind::OptionSet { options }, Lit::Int(value)) => {
            let mut i = 0;
            while i < options.len() {
                if options[i].0 as i128 == *value {
                    return true;
                }
                i += 1;
            }
            false
        }
        (Kind::Decimal, Lit::Int(value)) => decimal_fits(field, digits(*value), 0),
        (Kind::Decimal, Lit::Number { before, after }) => decimal_fits(field, *before, *after),
        _ => true,
    }
}

const fn digits(value: i128) -> u32 {
    let mut v = value.unsigned_abs();
    let mut n = 0;
    while v > 0 {
        v /= 10;
        n += 1;
    }
    n
}

const fn decimal_fits(field: &FieldDef, before: u32, after: u32) -> bool {
    match (field.precision, field.scale) {
        (_, Some(Scale::Fixed(s))) if after > s => false,
        (Some(p), Some(Scale::Fixed(s))) => before <= p.saturating_sub(s),
        (Some(p), Some(Scale::Variable) | None) => before + after <= p,
        _ => true,
    }
}

const fn has_member_named(members: &[(&str, i64)], name: &str) -> bool {
    let mut i = 0;
    while i < members.len() {
        if str_eq(members[i].0, name) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether `column` holds a CSDL enum (the keys of a value map are its members).
pub const fn is_enum<L, E, T: ColumnType>(column: &Col<E, T, L>) -> bool {
    matches!(kind_of(column), Kind::Enum { .. })
}

/// Whether the enum `column` holds has a member `name` (true when it is no enum: [`is_enum`] says so).
pub const fn has_member<L, E, T: ColumnType>(column: &Col<E, T, L>, name: &str) -> bool {
    match kind_of(column) {
        Kind::Enum { members } => has_member_named(members, name),
        _ => true,
    }
}

/// Whether `names` covers every member of the enum `column` holds.
pub const fn covers_members<L, E, T: ColumnType>(column: &Col<E, T, L>, names: &[&str]) -> bool {
    let Kind::Enum { members } = kind_of(column) else {
        return true;
    };
    let mut i = 0;
    while i < members.len() {
        if !contains(names, members[i].0) {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `values` covers every option of the choice `column` holds (true for other columns).
pub const fn covers_options<L, E, T: ColumnType>(column: &Col<E, T, L>, values: &[i128]) -> bool {
    let Kind::OptionSet { options } = kind_of(column) else {
        return true;
    };
    let mut i = 0;
    while i < options.len() {
        let mut found = false;
        let mut j = 0;
        while j < values.len() {
            if values[j] == options[i].0 as i128 {
                found = true;
            }
            j += 1;
        }
        if !found {
            return false;
        }
        i += 1;
    }
    true
}

// ---------------------------------------------------------------------------------------------------
// Checks over field tables.

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

const fn field_at<E: Entity>(index: usize) -> &'static FieldDef {
    &E::FIELDS[index]
}

const fn field_of<L, E: Entity, T>(column: &Col<E, T, L>) -> &'static FieldDef {
    field_at::<E>(column.column.index)
}

/// Whether `column` can be written as a value (a lookup passes: [`not_lookup`] reports it).
pub const fn writable<L, E: Entity, T>(column: &Col<E, T, L>) -> bool {
    let field = field_of(column);
    field.is_lookup() || (!field.read_only && field.is_writable())
}

/// Whether `column` is a plain column (not a Dataverse lookup, which is written through `lookup(..)`).
pub const fn not_lookup<L, E: Entity, T>(column: &Col<E, T, L>) -> bool {
    !field_of(column).is_lookup()
}

/// Whether `column` is a lookup.
pub const fn is_lookup<L, E: Entity, T>(column: &Col<E, T, L>) -> bool {
    field_of(column).is_lookup()
}

/// Whether lookup `column` may be bound (it is not a system column such as `createdby`).
pub const fn bindable<L, E: Entity, T>(column: &Col<E, T, L>) -> bool {
    let field = field_of(column);
    !field.is_lookup() || field.is_writable()
}

/// The target of lookup `column` that is entity `Target`, if any.
pub const fn lookup_target<L, E: Entity, T, Target: Entity>(
    column: &Col<E, T, L>,
) -> Option<&'static crate::schema::LookupTarget> {
    let targets = field_of(column).lookup;
    let mut i = 0;
    while i < targets.len() {
        if str_eq(targets[i].target, Target::TYPE_NAME) {
            return Some(&targets[i]);
        }
        i += 1;
    }
    None
}

/// Whether `Target` is one of the tables lookup `column` points to (true for a non-lookup:
/// [`is_lookup`] reports that).
pub const fn targets<L, E: Entity, T, Target: Entity>(column: &Col<E, T, L>) -> bool {
    !is_lookup(column) || lookup_target::<L, E, T, Target>(column).is_some()
}

/// The navigation property that binds lookup `column` to `Target`.
pub const fn lookup_navigation<L, E: Entity, T, Target: Entity>(column: &Col<E, T, L>) -> &'static str {
    match lookup_target::<L, E, T, Target>(column) {
        Some(target) => target.navigation,
        None => "",
    }
}

/// The primary id column of `E` (its first key column), or "".
pub const fn primary_id<E: Entity>() -> &'static str {
    match E::KEY.first() {
        Some(id) => id,
        None => "",
    }
}

/// Whether `column` is `Nullable`.
pub const fn nullable<L, E: Entity, T>(column: &Col<E, T, L>) -> bool {
    field_of(column).nullable
}

/// Whether `source` → `target` can carry a null into a `Nullable=false` column.
pub const fn null_safe<L1, L2, E1: Entity, S, E2: Entity, T>(
    source: &Col<E1, S, L1>,
    target: &Col<E2, T, L2>,
) -> bool {
    !field_of(source).nullable || field_of(target).nullable
}

/// Whether neither column is a currency amount (which never goes through a float).
pub const fn not_money<L1, L2, E1: Entity, S, E2: Entity, T>(
    source: &Col<E1, S, L1>,
    target: &Col<E2, T, L2>,
) -> bool {
    !field_of(source).money && !field_of(target).money
}

/// Whether field table `fields` has a column with wire name `name`.
pub const fn has_field(fields: &[FieldDef], name: &str) -> bool {
    let mut i = 0;
    while i < fields.len() {
        if str_eq(fields[i].name, name) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether `name` is an F&O entity's company column (its `Entity::COMPANY`).
pub const fn is_company_column(company: Option<&str>, name: &str) -> bool {
    match company {
        Some(company) => str_eq(company, name),
        None => false,
    }
}

/// The index in `fields` of the lookup to table `target` (the company table), or `usize::MAX`.
pub const fn lookup_to_table(fields: &[FieldDef], target: &str) -> usize {
    let mut i = 0;
    while i < fields.len() {
        let lookups = fields[i].lookup;
        let mut j = 0;
        while j < lookups.len() {
            if str_eq(lookups[j].target, target) {
                return i;
            }
            j += 1;
        }
        i += 1;
    }
    usize::MAX
}

/// The first column of `must_map` (an entity's `MUST_MAP`) not in `mapped`, or `usize::MAX`.
pub const fn first_unmapped(must_map: &[&str], mapped: &[&str]) -> usize {
    let mut i = 0;
    while i < must_map.len() {
        if !contains(mapped, must_map[i]) {
            return i;
        }
        i += 1;
    }
    usize::MAX
}

/// Clears lookup `target` (bound to `Target`): `"nav@odata.bind": null`.
pub fn bind_null<L, E: Entity, T, Target: Entity>(patch: &mut Patch<E>, target: &Col<E, T, L>) {
    if let Some(lookup) = lookup_target::<L, E, T, Target>(target) {
        patch.insert_null(lookup.bind);
    }
}

/// The lookup request that binds the company lookup of `fields` (field `index`, to table `table`, key column
/// `key`) to the company with code `code`.
pub fn company_lookup(
    fields: &'static [FieldDef],
    index: usize,
    table: &str,
    key: &'static str,
    code: &str,
) -> Option<crate::map::LookupRequest> {
    let field = fields.get(index)?;
    let target = field.lookup.iter().find(|l| l.target == table)?;
    Some(crate::map::LookupRequest {
        column: field.name,
        navigation: target.navigation,
        target_set: target.set,
        key,
        value: crate::column::Literal::literal(code),
        via: &[],
    })
}

/// The navigation property of the lookup in `fields` to table `table` (`msdyn_company`), or "".
pub const fn company_navigation(fields: &'static [FieldDef], table: &str) -> &'static str {
    let index = lookup_to_table(fields, table);
    if index == usize::MAX {
        return "";
    }
    let lookups = fields[index].lookup;
    let mut j = 0;
    while j < lookups.len() {
        if str_eq(lookups[j].target, table) {
            return lookups[j].navigation;
        }
        j += 1;
    }
    ""
}

/// The wire name of the lookup in `fields` to table `table`, or "".
pub const fn company_lookup_name(fields: &'static [FieldDef], table: &str) -> &'static str {
    let index = lookup_to_table(fields, table);
    if index == usize::MAX {
        ""
    } else {
        fields[index].name
    }
}

/// Writes F&O company column `column` of `E` (`dataAreaId`).
pub fn set_company<E: Entity>(
    patch: &mut Patch<E>,
    column: &'static str,
    code: &str,
) -> Result<(), MapError> {
    patch
        .set(Column::<E, String>::new(column), &code.to_string())
        .map(|_| ())
        .map_err(|source| MapError::Value { column, source })
}

/// Whether `fields` has a column or lookup navigation property named `name` (what a filter may name).
pub const fn has_member_path(fields: &[FieldDef], name: &str) -> bool {
    if has_field(fields, name) {
        return true;
    }
    let mut i = 0;
    while i < fields.len() {
        let lookups = fields[i].lookup;
        let mut j = 0;
        while j < lookups.len() {
            if str_eq(lookups[j].navigation, name) {
                return true;
            }
            j += 1;
        }
        i += 1;
    }
    false
}

// ---------------------------------------------------------------------------------------------------
// Enums (`#[derive(EdmEnum)]`).

/// The member name an enum value is sent as.
pub fn enum_from_json(value: &crate::json::Value) -> Result<&str, JsonError> {
    value.as_str().ok_or_else(|| JsonError::Type {
        field: String::new(),
        expected: "an enum member name",
        found: value.to_string(),
    })
}

/// The names of the flags set in `bits`, comma-separated, as OData writes flags.
pub fn flag_names(members: &[(&str, i64)], bits: i64) -> String {
    let mut names = Vec::new();
    for (name, value) in members {
        if (*value != 0 && bits & *value == *value) || (*value == 0 && bits == 0) {
            names.push(*name);
        }
    }
    names.join(",")
}

/// The bits of a flags value: a number, or member names separated by commas.
pub fn flags_from_json(
    type_name: &str,
    members: &[(&str, i64)],
    value: &crate::json::Value,
) -> Result<i64, JsonError> {
    if let Some(number) = value.as_i64() {
        return Ok(number);
    }
    let Some(text) = value.as_str() else {
        return Err(JsonError::Type {
            field: String::new(),
            expected: "flag names",
            found: value.to_string(),
        });
    };
    let mut bits = 0;
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match members.iter().find(|(name, _)| *name == part) {
            Some((_, value)) => bits |= *value,
            None => {
                return Err(JsonError::Invalid {
                    field: String::new(),
                    message: format!("`{part}` is not a member of {type_name}"),
                });
            }
        }
    }
    Ok(bits)
}

/// An optional field's value for [`Entity::field_value`].
pub fn opt_any<T: std::any::Any>(value: &Option<T>) -> Option<&dyn std::any::Any> {
    value.as_ref().map(|v| v as &dyn std::any::Any)
}

/// `Debug` of an entity whose derive was asked for it (`#[entity(debug)]`): its name and its fields
/// as OData JSON, in the order of its field table.
pub fn debug_entity<E: Entity + crate::json::EntityJson>(
    entity: &E,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    let object = entity.to_read_object();
    let name = E::TYPE_NAME.rsplit('.').next().unwrap_or(E::TYPE_NAME);
    let mut out = f.debug_struct(name);
    for field in E::FIELDS {
        if let Some(value) = object.get(field.name) {
            out.field(field.name, value);
        }
    }
    out.finish()
}
