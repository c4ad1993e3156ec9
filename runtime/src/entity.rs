//! Entities as the runtime sees them: static field tables, typed column handles, OData `$filter` and
//! `$select` built from them (quoted and escaped correctly), and sparse patches that tell "not set"
//! from "set to null".
//!
//! `#[derive(Entity)]` (the macros issue) will implement [`Entity`] and emit one `Column` constant per
//! field; the types here are usable by hand today.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::marker::PhantomData;

use crate::edm::{Binary, Date, DateTimeOffset, Decimal, Duration, Guid, TimeOfDay};

/// The `Scale` facet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Fixed(u32),
    Variable,
    Floating,
}

/// One target of a Dataverse lookup: the navigation property and the entity set to bind to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupTarget {
    pub navigation: &'static str,
    pub target: &'static str,
    pub set: &'static str,
}

/// What an entity's field is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The wire name (`accountnumber`, `_parentcustomerid_value`).
    pub name: &'static str,
    /// The Edm type as written, e.g. `Edm.Decimal` or `Collection(Edm.String)`.
    pub edm: &'static str,
    pub nullable: bool,
    pub key: bool,
    pub read_only: bool,
    pub max_length: Option<u32>,
    pub precision: Option<u32>,
    pub scale: Option<Scale>,
    pub lookup: &'static [LookupTarget],
    /// What a table map that leaves this required column unmapped is told (compile-time check).
    pub required_message: &'static str,
}

impl FieldDef {
    /// A nullable, writable field with no facets.
    pub const fn new(name: &'static str, edm: &'static str) -> Self {
        FieldDef {
            name,
            edm,
            nullable: true,
            key: false,
            read_only: false,
            max_length: None,
            precision: None,
            scale: None,
            lookup: &[],
            required_message: "a required column is not mapped",
        }
    }
}

/// An entity type of a service.
pub trait Entity {
    /// The entity set (`accounts`, `CustomersV3`).
    const SET: &'static str;
    /// The qualified type name.
    const TYPE_NAME: &'static str;
    /// Key property names, in key order.
    const KEY: &'static [&'static str];
    /// Alternate keys, each a list of property names.
    const ALTERNATE_KEYS: &'static [&'static [&'static str]] = &[];
    /// Every field.
    const FIELDS: &'static [FieldDef];

    /// The field named `name` on the wire.
    fn field(name: &str) -> Option<&'static FieldDef> {
        Self::FIELDS.iter().find(|f| f.name == name)
    }
}

/// Values that can stand in an OData URL expression (`$filter`, keys).
pub trait Literal {
    /// The OData literal: `'O''Brien'`, `42`, `2024-05-01`, `true`, `null`.
    fn literal(&self) -> String;
}

impl Literal for str {
    fn literal(&self) -> String {
        format!("'{}'", self.replace('\'', "''"))
    }
}

impl Literal for String {
    fn literal(&self) -> String {
        self.as_str().literal()
    }
}

impl Literal for bool {
    fn literal(&self) -> String {
        self.to_string()
    }
}

macro_rules! display_literal {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn literal(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

display_literal!(u8, i8, i16, i32, i64, Guid, Date, TimeOfDay, DateTimeOffset);

impl Literal for Decimal {
    /// Plain digits, never an exponent, never rounded.
    fn literal(&self) -> String {
        self.normalize().to_string()
    }
}

macro_rules! float_literal {
    ($($t:ty),*) => {$(
        impl Literal for $t {
            fn literal(&self) -> String {
                if self.is_nan() {
                    "NaN".into()
                } else if self.is_infinite() {
                    if *self > 0.0 { "INF".into() } else { "-INF".into() }
                } else {
                    // `{:?}` keeps a decimal point or exponent, so the literal stays a float.
                    format!("{self:?}")
                }
            }
        }
    )*};
}

float_literal!(f32, f64);

impl Literal for Duration {
    fn literal(&self) -> String {
        format!("duration'{self}'")
    }
}

impl Literal for Binary {
    fn literal(&self) -> String {
        let url_safe: String = self
            .to_string()
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                other => other,
            })
            .collect();
        format!("binary'{url_safe}'")
    }
}

impl<T: Literal + ?Sized> Literal for &T {
    fn literal(&self) -> String {
        (**self).literal()
    }
}

impl<T: Literal> Literal for Option<T> {
    fn literal(&self) -> String {
        match self {
            Some(v) => v.literal(),
            None => "null".into(),
        }
    }
}

/// An enum member literal: `Microsoft.Dynamics.DataEntities.NoYes'Yes'`.
pub fn enum_literal(type_name: &str, member: &str) -> String {
    format!("{type_name}'{}'", member.replace('\'', "''"))
}

/// Ties a [`Column`] to its entity and value types without owning either.
type ColumnMarker<E, T> = PhantomData<fn() -> (E, Box<T>)>;

/// A typed handle to column `name` of entity `E`, holding values of type `T`.
pub struct Column<E, T: ?Sized> {
    name: &'static str,
    /// Position in `E::FIELDS` when known (derive(Entity) sets it), for O(1) field lookups.
    index: usize,
    marker: ColumnMarker<E, T>,
}

impl<E, T: ?Sized> Clone for Column<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T: ?Sized> Copy for Column<E, T> {}

impl<E, T: ?Sized> std::fmt::Debug for Column<E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

impl<E, T: ?Sized> Column<E, T> {
    /// A handle by wire name.
    pub const fn new(name: &'static str) -> Self {
        Column {
            name,
            index: usize::MAX,
            marker: PhantomData,
        }
    }

    /// A handle that also knows its position in the entity's field table (what derive(Entity) emits).
    pub const fn indexed(name: &'static str, index: usize) -> Self {
        Column {
            name,
            index,
            marker: PhantomData,
        }
    }

    /// The wire name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    fn compare(&self, op: &str, value: String) -> Filter<E> {
        Filter::atom(format!("{} {op} {value}", self.name))
    }

    /// `name eq null`.
    pub fn is_null(&self) -> Filter<E> {
        self.compare("eq", "null".into())
    }

    /// `name ne null`.
    pub fn is_not_null(&self) -> Filter<E> {
        self.compare("ne", "null".into())
    }
}

impl<E, T: Literal + ?Sized> Column<E, T> {
    pub fn eq(&self, value: &T) -> Filter<E> {
        self.compare("eq", value.literal())
    }

    pub fn ne(&self, value: &T) -> Filter<E> {
        self.compare("ne", value.literal())
    }

    pub fn gt(&self, value: &T) -> Filter<E> {
        self.compare("gt", value.literal())
    }

    pub fn ge(&self, value: &T) -> Filter<E> {
        self.compare("ge", value.literal())
    }

    pub fn lt(&self, value: &T) -> Filter<E> {
        self.compare("lt", value.literal())
    }

    pub fn le(&self, value: &T) -> Filter<E> {
        self.compare("le", value.literal())
    }

    /// `name in (a, b, c)` (OData 4.01; Dataverse and F&O accept it).
    pub fn is_in<'v>(&self, values: impl IntoIterator<Item = &'v T>) -> Filter<E>
    where
        T: 'v,
    {
        let list: Vec<String> = values.into_iter().map(Literal::literal).collect();
        Filter::atom(format!("{} in ({})", self.name, list.join(",")))
    }
}

impl<E> Column<E, String> {
    pub fn contains(&self, text: &str) -> Filter<E> {
        Filter::atom(format!("contains({},{})", self.name, text.literal()))
    }

    pub fn starts_with(&self, text: &str) -> Filter<E> {
        Filter::atom(format!("startswith({},{})", self.name, text.literal()))
    }

    pub fn ends_with(&self, text: &str) -> Filter<E> {
        Filter::atom(format!("endswith({},{})", self.name, text.literal()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Or,
    And,
    Atom,
}

/// A `$filter` expression over entity `E`; `and`/`or`/`not` parenthesize as needed.
pub struct Filter<E> {
    text: String,
    precedence: Precedence,
    marker: PhantomData<fn() -> E>,
}

impl<E> Clone for Filter<E> {
    fn clone(&self) -> Self {
        Filter {
            text: self.text.clone(),
            precedence: self.precedence,
            marker: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Filter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Filter({})", self.text)
    }
}

impl<E> std::fmt::Display for Filter<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl<E> Filter<E> {
    fn atom(text: String) -> Self {
        Filter {
            text,
            precedence: Precedence::Atom,
            marker: PhantomData,
        }
    }

    fn operand(&self, at_least: Precedence) -> String {
        if self.precedence < at_least {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }

    pub fn and(self, other: Filter<E>) -> Filter<E> {
        Filter {
            text: format!(
                "{} and {}",
                self.operand(Precedence::And),
                other.operand(Precedence::And)
            ),
            precedence: Precedence::And,
            marker: PhantomData,
        }
    }

    pub fn or(self, other: Filter<E>) -> Filter<E> {
        Filter {
            text: format!(
                "{} or {}",
                self.operand(Precedence::Or),
                other.operand(Precedence::Or)
            ),
            precedence: Precedence::Or,
            marker: PhantomData,
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter<E> {
        Filter::atom(format!("not ({})", self.text))
    }

    /// The expression, unencoded (percent-encode it when putting it in a URL).
    pub fn to_odata(&self) -> &str {
        &self.text
    }
}

/// `$select` text for columns of one entity.
pub fn select<E>(columns: &[&dyn SelectColumn<E>]) -> String {
    let mut out = String::new();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{}", c.column_name());
    }
    out
}

/// A column of `E` of any value type, for [`select`].
pub trait SelectColumn<E> {
    fn column_name(&self) -> &'static str;
}

impl<E, T: ?Sized> SelectColumn<E> for Column<E, T> {
    fn column_name(&self) -> &'static str {
        self.name
    }
}

/// One value of a [`Patch`]: set to a value (its OData JSON text), or set to null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchValue {
    Null,
    /// The JSON text of the value, exactly as it will be sent.
    Json(String),
}

/// A sparse update of entity `E`: columns not in the patch are left alone, which is not the same as
/// setting them to null.
pub struct Patch<E> {
    values: BTreeMap<std::borrow::Cow<'static, str>, PatchValue>,
    marker: PhantomData<fn() -> E>,
}

impl<E> Default for Patch<E> {
    fn default() -> Self {
        Patch {
            values: BTreeMap::new(),
            marker: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Patch<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.values.iter()).finish()
    }
}

impl<E> Patch<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `column` to the JSON text `json` (already in OData JSON form, not checked).
    pub fn set_json<T: ?Sized>(&mut self, column: Column<E, T>, json: String) -> &mut Self {
        self.values.insert(column.name.into(), PatchValue::Json(json));
        self
    }

    /// Sets `column` to null.
    pub fn set_null<T: ?Sized>(&mut self, column: Column<E, T>) -> &mut Self {
        self.values.insert(column.name.into(), PatchValue::Null);
        self
    }

    /// Removes `column` from the patch (it will not be sent).
    pub fn unset<T: ?Sized>(&mut self, column: Column<E, T>) -> &mut Self {
        self.values.remove(column.name);
        self
    }

    /// What the patch says about `column`: `None` = not set.
    pub fn get<T: ?Sized>(&self, column: Column<E, T>) -> Option<&PatchValue> {
        self.values.get(column.name)
    }

    /// What the patch says about a wire name (a column or a `nav@odata.bind`).
    pub fn get_name(&self, name: &str) -> Option<&PatchValue> {
        self.values.get(name)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// The request body: a JSON object with the set columns only, in name order.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (name, value)) in self.values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(&mut out, name);
            out.push(':');
            match value {
                PatchValue::Null => out.push_str("null"),
                PatchValue::Json(text) => out.push_str(text),
            }
        }
        out.push('}');
        out
    }
}

impl<E: Entity> Patch<E> {
    fn writable<T: ?Sized>(column: Column<E, T>) -> Result<&'static FieldDef, crate::json::JsonError> {
        let field = E::FIELDS
            .get(column.index)
            .filter(|f| f.name == column.name)
            .or_else(|| E::field(column.name))
            .ok_or_else(|| crate::json::JsonError::Invalid {
                field: column.name.to_string(),
                message: format!("`{}` has no such column", E::TYPE_NAME),
            })?;
        if field.read_only {
            return Err(crate::json::JsonError::ReadOnly {
                field: column.name.to_string(),
            });
        }
        Ok(field)
    }

    /// Sets `column` to `value`, checked against the column: writable, and within its facets
    /// (a decimal beyond the column's precision or scale is an error, never rounded).
    pub fn set<T: crate::json::EdmJson>(
        &mut self,
        column: Column<E, T>,
        value: &T,
    ) -> Result<&mut Self, crate::json::JsonError> {
        let field = Self::writable(column)?;
        value.check_facets(field).map_err(|e| e.in_field(field.name))?;
        let mut json = String::new();
        value.write_json(&mut json);
        self.values.insert(column.name.into(), PatchValue::Json(json));
        Ok(self)
    }

    /// Points lookup `column` (a Dataverse `_x_value` column) at record `id` of `target_set`:
    /// `"nav@odata.bind": "/target_set(id)"`, choosing the navigation of a polymorphic lookup by set.
    pub fn bind(
        &mut self,
        column: Column<E, crate::edm::Guid>,
        target_set: &str,
        id: &crate::edm::Guid,
    ) -> Result<&mut Self, crate::json::JsonError> {
        self.bind_key(column, target_set, &id.to_string())
    }

    /// Points lookup `column` at the record of `target_set` with key `key`, the text between the
    /// parentheses of its URL: an id, or an alternate key such as `isocurrencycode='EUR'` (already
    /// quoted and percent-encoded, e.g. `odata::Key::as_url_text`).
    pub fn bind_key(
        &mut self,
        column: Column<E, crate::edm::Guid>,
        target_set: &str,
        key: &str,
    ) -> Result<&mut Self, crate::json::JsonError> {
        let field = E::field(column.name).ok_or_else(|| crate::json::JsonError::Invalid {
            field: column.name.to_string(),
            message: format!("`{}` has no such column", E::TYPE_NAME),
        })?;
        let target = field.lookup.iter().find(|l| l.set == target_set).ok_or_else(|| {
            crate::json::JsonError::Invalid {
                field: column.name.to_string(),
                message: format!(
                    "not a lookup to `{target_set}` (targets: {})",
                    field.lookup.iter().map(|l| l.set).collect::<Vec<_>>().join(", ")
                ),
            }
        })?;
        self.values.insert(
            format!("{}@odata.bind", target.navigation).into(),
            PatchValue::Json(json_string(&format!("/{target_set}({key})"))),
        );
        Ok(self)
    }
}

/// A JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_json_string(&mut out, text);
    out
}

/// Appends `text` as a JSON string literal (runs without escapes are copied whole).
pub fn write_json_string(out: &mut String, text: &str) {
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    struct Account;

    impl Entity for Account {
        const SET: &'static str = "accounts";
        const TYPE_NAME: &'static str = "Microsoft.Dynamics.CRM.account";
        const KEY: &'static [&'static str] = &["accountid"];
        const FIELDS: &'static [FieldDef] = &[
            FieldDef::new("name", "Edm.String"),
            FieldDef::new("revenue", "Edm.Decimal"),
        ];
    }

    const NAME: Column<Account, String> = Column::new("name");
    const REVENUE: Column<Account, Decimal> = Column::new("revenue");
    const ID: Column<Account, Guid> = Column::new("accountid");

    #[test]
    fn filters_quote_escape_and_parenthesize() {
        let filter = NAME
            .eq(&"O'Brien & Co".to_string())
            .and(REVENUE.gt(&Decimal::from_str("1000.50").unwrap()))
            .or(NAME.starts_with("Con"));
        assert_eq!(
            filter.to_odata(),
            "name eq 'O''Brien & Co' and revenue gt 1000.5 or startswith(name,'Con')"
        );
        let grouped = NAME
            .is_null()
            .and(REVENUE.lt(&Decimal::ZERO).or(REVENUE.gt(&Decimal::ONE)));
        assert_eq!(
            grouped.to_odata(),
            "name eq null and (revenue lt 0 or revenue gt 1)"
        );
        let guid = Guid::from_str("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c").unwrap();
        assert_eq!(
            ID.eq(&guid).not().to_odata(),
            "not (accountid eq 6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)"
        );
        assert_eq!(
            enum_literal("Microsoft.Dynamics.DataEntities.NoYes", "Yes"),
            "Microsoft.Dynamics.DataEntities.NoYes'Yes'"
        );
        assert_eq!(select(&[&NAME, &REVENUE]), "name,revenue");
        assert_eq!(Account::field("revenue").unwrap().edm, "Edm.Decimal");
        assert_eq!(1.0f64.literal(), "1.0");
        assert_eq!(f64::NAN.literal(), "NaN");
        let date = Date::from_str("2024-05-01").unwrap();
        assert_eq!(date.literal(), "2024-05-01");
        assert_eq!(Duration::from_str("P1D").unwrap().literal(), "duration'P1D'");
        assert_eq!(
            REVENUE.is_in([&Decimal::ONE, &Decimal::TEN]).to_odata(),
            "revenue in (1,10)"
        );
    }

    #[test]
    fn patches_tell_unset_from_null() {
        let mut patch: Patch<Account> = Patch::new();
        assert!(patch.get(NAME).is_none());
        patch.set_null(NAME);
        assert_eq!(patch.get(NAME), Some(&PatchValue::Null));
        patch.set_json(REVENUE, "1234.5678901234".into());
        assert_eq!(patch.to_json(), r#"{"name":null,"revenue":1234.5678901234}"#);
        patch.unset(NAME);
        assert_eq!(patch.to_json(), r#"{"revenue":1234.5678901234}"#);
    }

    proptest! {
        #[test]
        fn string_literals_round_trip(text in any::<String>()) {
            let literal = text.literal();
            prop_assert!(literal.starts_with('\'') && literal.ends_with('\''));
            let inner = &literal[1..literal.len() - 1];
            // Every quote inside is doubled: undoubling gives the text back.
            prop_assert_eq!(inner.replace("''", "'"), text.clone());
            prop_assert!(!inner.replace("''", "").contains('\''));
        }

        #[test]
        fn decimal_literals_are_exact(mantissa in any::<i64>(), scale in 0u32..12) {
            let value = Decimal::new(mantissa, scale);
            let literal = value.literal();
            prop_assert!(!literal.contains('e') && !literal.contains('E'));
            prop_assert_eq!(Decimal::from_str(&literal).unwrap(), value);
        }

        #[test]
        fn json_strings_round_trip(text in any::<String>()) {
            let parsed: String = serde_json::from_str(&json_string(&text)).unwrap();
            prop_assert_eq!(parsed, text);
        }
    }
}
