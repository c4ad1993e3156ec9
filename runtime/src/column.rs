//! Typed column handles and what is built from them: OData literals, `$filter` expressions (quoted
//! and escaped correctly) and `$select` text.

use std::fmt::Write as _;
use std::marker::PhantomData;

use crate::edm::{Binary, Date, DateTimeOffset, Decimal, Duration, Guid, TimeOfDay};

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
    pub(crate) name: &'static str,
    /// Position in `E::FIELDS` when known (derive(Entity) sets it), for O(1) field lookups.
    pub(crate) index: usize,
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

    /// A handle that also knows its position in the entity's field table (what derive(Entity) emits,
    /// through `__private::column`).
    pub(crate) const fn indexed(name: &'static str, index: usize) -> Self {
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
