//! OData JSON for Edm values and entities. Numbers stay text end to end (serde_json's
//! `arbitrary_precision`): a decimal is read from and written to its exact digits, never through `f64`,
//! and values that do not fit a column's facets are errors, not roundings.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use serde_json::map::Entry;
pub use serde_json::{Map, Value};

use crate::edm::{Binary, Date, DateTimeOffset, Decimal, Duration, Guid, Json, TimeOfDay};
use crate::schema::{FieldDef, Scale};

/// A value that does not fit its column, or JSON that is not the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("`{field}`: expected {expected}, found {found}")]
    Type {
        field: String,
        expected: &'static str,
        found: String,
    },
    #[error("`{field}`: {message}")]
    Invalid { field: String, message: String },
    #[error("`{field}` is missing from the response (is it in $select?)")]
    Missing { field: String },
    #[error("`{field}`: {value} does not fit {facet}; values are never rounded")]
    DoesNotFit {
        field: String,
        value: String,
        facet: String,
    },
    #[error("`{field}` is read-only: the service computes it")]
    ReadOnly { field: String },
    /// An object names the same key twice ([`parse_strict`]): which value was meant is unknowable.
    #[error(
        "duplicate key `{key}` in the JSON object {} (line {line}, column {column}): a key must not repeat",
        if path.is_empty() { "at the top level".to_string() } else { format!("at `{path}`") }
    )]
    DuplicateKey {
        /// The key, escaped and truncated for display.
        key: String,
        /// Where the object is: keys and array indexes from the top, `/`-separated (empty: the top).
        path: String,
        line: usize,
        column: usize,
    },
    /// Text that is not JSON ([`parse_strict`]).
    #[error("not valid JSON: {message}")]
    Syntax { message: String },
}

impl JsonError {
    /// The same error for the field `field` (errors are raised without knowing the field name).
    pub fn in_field(self, field: &str) -> Self {
        let set = |f: String| {
            if f.is_empty() {
                field.to_string()
            } else {
                format!("{field}/{f}")
            }
        };
        match self {
            JsonError::Type {
                field: f,
                expected,
                found,
            } => JsonError::Type {
                field: set(f),
                expected,
                found,
            },
            JsonError::Invalid { field: f, message } => JsonError::Invalid {
                field: set(f),
                message,
            },
            JsonError::Missing { field: f } => JsonError::Missing { field: set(f) },
            JsonError::DoesNotFit {
                field: f,
                value,
                facet,
            } => JsonError::DoesNotFit {
                field: set(f),
                value,
                facet,
            },
            JsonError::ReadOnly { field: f } => JsonError::ReadOnly { field: set(f) },
            JsonError::DuplicateKey {
                key,
                path,
                line,
                column,
            } => JsonError::DuplicateKey {
                key,
                path: set(path),
                line,
                column,
            },
            syntax @ JsonError::Syntax { .. } => syntax,
        }
    }
}

/// Outside text made safe to show in an error message: at most `max` characters (then `…`), with
/// control characters and invisible formatting characters (bidirectional overrides, zero-width
/// characters, byte-order mark) escaped as `\u{…}` / `\n`: hostile text can neither inject terminal
/// escapes nor reorder or hide parts of the message.
pub(crate) fn escape_text(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 8));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        let invisible = matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        );
        if c.is_control() || invisible {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`escape_text`] at 80 characters: how error messages quote outside values.
pub(crate) fn excerpt(text: &str) -> String {
    escape_text(text, 80)
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(n) => format!("the number {}", excerpt(&n.to_string())),
        Value::String(s) => format!("the string \"{}\"", escape_text(s, 40)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn type_error(expected: &'static str, value: &Value) -> JsonError {
    JsonError::Type {
        field: String::new(),
        expected,
        found: kind(value),
    }
}

/// A value with an OData JSON form.
pub trait EdmJson: Sized {
    fn to_json(&self) -> Value;
    fn from_json(value: &Value) -> Result<Self, JsonError>;

    /// Appends the JSON text (types override this to skip building a `Value`).
    fn write_json(&self, out: &mut String) {
        out.push_str(&self.to_json().to_string());
    }

    /// Checks the value against a column's facets (decimals and strings have some; other types none).
    fn check_facets(&self, _field: &FieldDef) -> Result<(), JsonError> {
        Ok(())
    }
}

impl EdmJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }

    fn write_json(&self, out: &mut String) {
        write_json_string(out, self);
    }

    fn check_facets(&self, field: &FieldDef) -> Result<(), JsonError> {
        match field.max_length {
            Some(max) if self.chars().count() > max as usize => Err(JsonError::DoesNotFit {
                field: String::new(),
                value: format!("{} characters", self.chars().count()),
                facet: format!("MaxLength={max}"),
            }),
            _ => Ok(()),
        }
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| type_error("a string", value))
    }
}

impl EdmJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }

    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        value.as_bool().ok_or_else(|| type_error("a boolean", value))
    }
}

macro_rules! integer_json {
    ($($t:ty),*) => {$(
        impl EdmJson for $t {
            fn to_json(&self) -> Value {
                Value::Number(Number::from(*self))
            }

            fn write_json(&self, out: &mut String) {
                use std::fmt::Write as _;
                let _ = write!(out, "{self}");
            }

            fn from_json(value: &Value) -> Result<Self, JsonError> {
                let n = value.as_i64().ok_or_else(|| type_error("an integer", value))?;
                <$t>::try_from(n).map_err(|_| JsonError::DoesNotFit {
                    field: String::new(),
                    value: n.to_string(),
                    facet: stringify!($t).to_string(),
                })
            }
        }
    )*};
}

integer_json!(u8, i8, i16, i32, i64);

macro_rules! float_json {
    ($($t:ty => $edm:literal),*) => {$(
        impl EdmJson for $t {
            fn to_json(&self) -> Value {
                if self.is_nan() {
                    Value::String("NaN".into())
                } else if self.is_infinite() {
                    Value::String(if *self > 0.0 { "INF".into() } else { "-INF".into() })
                } else {
                    // Through the shortest decimal text of this float, not a wider type.
                    serde_json::from_str::<Number>(&format!("{self:?}")).map(Value::Number).unwrap_or(Value::Null)
                }
            }

            /// A JSON number rounds to the nearest value of the type (that is what the type is), but one
            /// beyond its range (it would become infinite) or a non-zero one below it (it would become
            /// 0) is an error. `"NaN"`, `"INF"`, `"-INF"` are the special values.
            fn from_json(value: &Value) -> Result<Self, JsonError> {
                match value {
                    Value::Number(n) => {
                        let text = n.to_string();
                        let x: $t = text.parse().map_err(|_| type_error("a number", value))?;
                        let out_of_range = |what: &str| JsonError::Invalid {
                            field: String::new(),
                            message: format!("{} is out of range for {}: it would become {what}", excerpt(&text), $edm),
                        };
                        if !x.is_finite() {
                            return Err(out_of_range("infinite"));
                        }
                        let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
                        if x == 0.0 && mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
                            return Err(out_of_range("0"));
                        }
                        Ok(x)
                    }
                    Value::String(s) if s == "NaN" => Ok(<$t>::NAN),
                    Value::String(s) if s == "INF" => Ok(<$t>::INFINITY),
                    Value::String(s) if s == "-INF" => Ok(<$t>::NEG_INFINITY),
                    _ => Err(type_error("a number", value)),
                }
            }
        }
    )*};
}

float_json!(f32 => "Edm.Single (f32)", f64 => "Edm.Double (f64)");

impl EdmJson for Decimal {
    fn to_json(&self) -> Value {
        serde_json::from_str::<Number>(&self.normalize().to_string())
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }

    fn write_json(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(out, "{}", self.normalize());
    }

    fn check_facets(&self, field: &FieldDef) -> Result<(), JsonError> {
        check_decimal(self, field.precision, field.scale)
    }

    /// Exact digits: a JSON number's text (exponent forms included), or a string
    /// (IEEE754Compatible=true), read by [`crate::edm::parse_decimal`]: a value `Decimal` cannot hold
    /// exactly is an error naming the value, never a rounding.
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let number;
        let text = match value {
            Value::Number(n) => {
                number = n.to_string();
                &number
            }
            Value::String(s) => s,
            _ => return Err(type_error("a decimal", value)),
        };
        crate::edm::parse_decimal(text).map_err(|e| JsonError::Invalid {
            field: String::new(),
            message: e.to_string(),
        })
    }
}

macro_rules! string_form_json {
    ($($t:ty => $name:literal),*) => {$(
        impl EdmJson for $t {
            fn to_json(&self) -> Value {
                Value::String(self.to_string())
            }

            fn write_json(&self, out: &mut String) {
                use std::fmt::Write as _;
                out.push('"');
                let _ = write!(out, "{self}");
                out.push('"');
            }

            fn from_json(value: &Value) -> Result<Self, JsonError> {
                let text = value.as_str().ok_or_else(|| type_error($name, value))?;
                text.parse().map_err(|e: crate::edm::ParseError| JsonError::Invalid {
                    field: String::new(),
                    message: e.to_string(),
                })
            }
        }
    )*};
}

string_form_json!(
    Guid => "a GUID string",
    Date => "a date string",
    TimeOfDay => "a time string",
    DateTimeOffset => "a date-time string",
    Duration => "a duration string",
    Binary => "a base64 string"
);

impl EdmJson for Json {
    fn to_json(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        Ok(Json(value.to_string()))
    }
}

impl<T: EdmJson> EdmJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_json)
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Some(value) => value.write_json(out),
            None => out.push_str("null"),
        }
    }

    fn check_facets(&self, field: &FieldDef) -> Result<(), JsonError> {
        self.as_ref().map_or(Ok(()), |v| v.check_facets(field))
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        if value.is_null() {
            Ok(None)
        } else {
            T::from_json(value).map(Some)
        }
    }
}

/// A boxed value (the generator boxes fields of recursive complex types) is its value on the wire.
impl<T: EdmJson> EdmJson for Box<T> {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        T::from_json(value).map(Box::new)
    }

    fn write_json(&self, out: &mut String) {
        (**self).write_json(out)
    }

    fn check_facets(&self, field: &FieldDef) -> Result<(), JsonError> {
        (**self).check_facets(field)
    }
}

impl<T: EdmJson> EdmJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(T::to_json).collect())
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let items = value.as_array().ok_or_else(|| type_error("an array", value))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| T::from_json(item).map_err(|e| e.in_field(&i.to_string())))
            .collect()
    }
}

impl EdmJson for BTreeMap<String, Json> {
    fn to_json(&self) -> Value {
        Value::Object(self.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
    }

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        let object = value.as_object().ok_or_else(|| type_error("an object", value))?;
        Ok(object
            .iter()
            .map(|(k, v)| (k.clone(), Json(v.to_string())))
            .collect())
    }
}

/// Checks that `value` fits `Precision` / `Scale` (no rounding ever happens).
pub(crate) fn check_decimal(
    value: &Decimal,
    precision: Option<u32>,
    scale: Option<Scale>,
) -> Result<(), JsonError> {
    let normalized = value.normalize();
    let digits_after = normalized.scale();
    let text = normalized.abs().to_string();
    let digits_before = text
        .split('.')
        .next()
        .map_or(0, |d| d.trim_start_matches('0').len()) as u32;
    let does_not_fit = |facet: String| {
        Err(JsonError::DoesNotFit {
            field: String::new(),
            value: value.to_string(),
            facet,
        })
    };
    match (precision, scale) {
        (_, Some(Scale::Fixed(s))) if digits_after > s => does_not_fit(format!("Scale={s}")),
        (Some(p), Some(Scale::Fixed(s))) if digits_before > p.saturating_sub(s) => {
            does_not_fit(format!("Precision={p} Scale={s}"))
        }
        (Some(p), Some(Scale::Variable) | None) if digits_before + digits_after > p => {
            does_not_fit(format!("Precision={p}"))
        }
        _ => Ok(()),
    }
}

/// Checks a value's JSON form against its column's facets: decimals by precision and scale, strings
/// by `MaxLength` (in characters).
pub(crate) fn check_facets(field: &FieldDef, value: &Value) -> Result<(), JsonError> {
    if field.edm == "Edm.Decimal" && !value.is_null() {
        let decimal = Decimal::from_json(value).map_err(|e| e.in_field(field.name))?;
        check_decimal(&decimal, field.precision, field.scale).map_err(|e| e.in_field(field.name))?;
    }
    if let (Some(max), Some(text)) = (field.max_length, value.as_str())
        && text.chars().count() > max as usize
    {
        return Err(JsonError::DoesNotFit {
            field: field.name.to_string(),
            value: format!("{} characters", text.chars().count()),
            facet: format!("MaxLength={max}"),
        });
    }
    Ok(())
}

/// An entity read from the service with its `@odata.etag`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched<E> {
    pub value: E,
    pub etag: Option<String>,
}

/// Entities in OData's JSON shape (implemented by `#[derive(Entity)]`). Requests are never built
/// from this: they are [`Patch`](crate::entity::Patch)es (`Patch::from_entity` for a whole record).
pub trait EntityJson: Sized {
    /// The record, from a response object (annotations such as `@odata.etag` are not properties).
    /// Every non-nullable column must be present; a partial record stays a
    /// [`Record`](crate::entity::Record).
    fn from_json_object(object: &Map<String, Value>) -> Result<Self, JsonError>;
    /// The record in the shape a service sends it (every column under its wire name, nulls and
    /// read-only columns included): for fixtures and comparisons, never a request body.
    fn to_read_object(&self) -> Map<String, Value>;

    /// Reads a response object, keeping its ETag.
    fn from_json(value: &Value) -> Result<Fetched<Self>, JsonError> {
        let object = value.as_object().ok_or_else(|| type_error("an object", value))?;
        Ok(Fetched {
            value: Self::from_json_object(object)?,
            etag: object
                .get("@odata.etag")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

/// A JSON string literal.
pub(crate) fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_json_string(&mut out, text);
    out
}

/// Appends `text` as a JSON string literal (runs without escapes are copied whole).
pub(crate) fn write_json_string(out: &mut String, text: &str) {
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

/// Parses a JSON document, rejecting an object that names the same key twice anywhere in it (with
/// serde_json alone the last one silently wins). Numbers keep their exact text (`arbitrary_precision`),
/// as with `serde_json::from_slice::<Value>`, which this otherwise matches, at about the same speed.
/// serde_json's nesting limit (128) applies.
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut duplicate = None;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue {
        duplicate: &mut duplicate,
        number_text: false,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|error| match duplicate {
        Some(duplicate) => JsonError::DuplicateKey {
            key: excerpt(&duplicate.key),
            path: duplicate
                .path_reversed
                .iter()
                .rev()
                .map(|segment| excerpt(segment))
                .collect::<Vec<_>>()
                .join("/"),
            line: error.line(),
            column: error.column(),
        },
        None => JsonError::Syntax {
            message: escape_text(&error.to_string(), 200),
        },
    })
}

/// The key under which serde_json (with `arbitrary_precision`) hands a number's text to a visitor, as
/// a one-entry map whose value comes through `visit_string` (`serde_json::number::TOKEN`, private).
/// JSON strings never come through `visit_string` (serde_json's parser uses `visit_str` /
/// `visit_borrowed_str`), which tells a number from a document's own object with that key.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A duplicate key found by [`parse_strict`], and the path to its object, filled in on the way out.
struct Duplicate {
    key: String,
    path_reversed: Vec<String>,
}

/// Builds a [`Value`] like `Value`'s own `Deserialize`, refusing duplicate keys.
struct StrictValue<'a> {
    duplicate: &'a mut Option<Duplicate>,
    /// The value after a [`NUMBER_TOKEN`] key: `visit_string` there is a number's text.
    number_text: bool,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Value, E> {
        if self.number_text {
            // What `Value`'s own `Deserialize` does with a number (its `NumberFromString`): the
            // number's text through `Number::from_str`, kept exactly.
            Number::from_str(&value).map(Value::Number).map_err(E::custom)
        } else {
            Ok(Value::String(value))
        }
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            let item = seq.next_element_seed(StrictValue {
                duplicate: &mut *self.duplicate,
                number_text: false,
            });
            match item {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(error) => {
                    if let Some(duplicate) = self.duplicate.as_mut() {
                        duplicate.path_reversed.push(items.len().to_string());
                    }
                    return Err(error);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(mut key) = map.next_key::<String>()? else {
            return Ok(Value::Object(Map::new()));
        };
        let mut object = Map::new();
        if key == NUMBER_TOKEN {
            let value = map.next_value_seed(StrictValue {
                duplicate: &mut *self.duplicate,
                number_text: true,
            })?;
            if let Value::Number(number) = value {
                return Ok(Value::Number(number));
            }
            // A document's own object with that key: an ordinary entry.
            object.insert(key, value);
            match map.next_key::<String>()? {
                Some(next) => key = next,
                None => return Ok(Value::Object(object)),
            }
        }
        loop {
            match object.entry(key) {
                Entry::Occupied(entry) => {
                    let message = format!("duplicate key `{}`", excerpt(entry.key()));
                    *self.duplicate = Some(Duplicate {
                        key: entry.key().clone(),
                        path_reversed: Vec::new(),
                    });
                    return Err(A::Error::custom(message));
                }
                Entry::Vacant(entry) => {
                    let value = map.next_value_seed(StrictValue {
                        duplicate: &mut *self.duplicate,
                        number_text: false,
                    });
                    match value {
                        Ok(value) => {
                            entry.insert(value);
                        }
                        Err(error) => {
                            if let Some(duplicate) = self.duplicate.as_mut() {
                                duplicate.path_reversed.push(entry.key().clone());
                            }
                            return Err(error);
                        }
                    }
                }
            }
            match map.next_key::<String>()? {
                Some(next) => key = next,
                None => return Ok(Value::Object(object)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::read_field;
    use proptest::prelude::*;

    #[test]
    fn decimals_are_exact_and_checked() {
        // A currency amount with 10 decimal places and an exchange rate with 12 round-trip exactly.
        for text in [
            "12345678.1234567891",
            "0.000000000001",
            "1.123456789012",
            "-99999999999999.5",
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let decimal = Decimal::from_json(&value).unwrap();
            assert_eq!(decimal.to_json().to_string(), text);
        }
        let rate = Decimal::from_str("1.123456789012").unwrap();
        assert!(check_decimal(&rate, Some(23), Some(Scale::Fixed(12))).is_ok());
        let error = check_decimal(&rate, Some(32), Some(Scale::Fixed(6))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "``: 1.123456789012 does not fit Scale=6; values are never rounded"
        );
        assert!(
            check_decimal(
                &Decimal::from_str("123456.5").unwrap(),
                Some(6),
                Some(Scale::Fixed(2))
            )
            .is_err()
        );
        assert!(
            check_decimal(
                &Decimal::from_str("1234.50").unwrap(),
                Some(6),
                Some(Scale::Fixed(2))
            )
            .is_ok()
        );
        assert!(
            check_decimal(
                &Decimal::from_str("1234.5678").unwrap(),
                Some(6),
                Some(Scale::Variable)
            )
            .is_err()
        );
    }

    #[test]
    fn values_and_errors() {
        let date = Date::from_json(&Value::String("2024-05-01".into())).unwrap();
        assert_eq!(date.to_json(), Value::String("2024-05-01".into()));
        let error = i16::from_json(&serde_json::from_str("70000").unwrap()).unwrap_err();
        assert!(error.to_string().contains("does not fit i16"), "{error}");
        let error = Vec::<i32>::from_json(&serde_json::from_str(r#"[1,"x"]"#).unwrap()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`1`: expected an integer, found the string \"x\""
        );
        assert_eq!(Option::<i32>::from_json(&Value::Null).unwrap(), None);
        let raw =
            Json::from_json(&serde_json::from_str(r#"{"amount": 1.10000000000000000001}"#).unwrap()).unwrap();
        assert_eq!(
            raw.0, r#"{"amount":1.10000000000000000001}"#,
            "unknown numbers keep their digits"
        );
        assert_eq!(
            f64::from_json(&Value::String("INF".into())).unwrap(),
            f64::INFINITY
        );
    }

    proptest! {
        #[test]
        fn decimal_json_round_trips(mantissa in any::<i64>(), scale in 0u32..=12) {
            let value = Decimal::new(mantissa, scale);
            let text = value.to_json().to_string();
            let back = Decimal::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
            prop_assert_eq!(back, value);
        }
    }

    #[test]
    fn parse_strict_rejects_duplicate_keys_with_their_path() {
        let error = parse_strict(br#"{"a":1,"a":2}"#).unwrap_err();
        assert_eq!(
            error,
            JsonError::DuplicateKey {
                key: "a".into(),
                path: String::new(),
                line: 1,
                column: 10,
            }
        );
        assert_eq!(
            error.to_string(),
            "duplicate key `a` in the JSON object at the top level (line 1, column 10): a key must not repeat"
        );
        let nested = br#"{"value": [{"b": 1}, {"b": 2, "c": {"d": 1, "e": [], "d": 1}}]}"#;
        let error = parse_strict(nested).unwrap_err();
        assert!(
            matches!(&error, JsonError::DuplicateKey { key, path, .. } if key == "d" && path == "value/1/c"),
            "{error:?}"
        );
        assert!(error.to_string().contains("at `value/1/c`"), "{error}");
        // Through `in_field`, the path is under the field.
        assert!(
            matches!(error.in_field("body"), JsonError::DuplicateKey { path, .. } if path == "body/value/1/c")
        );
        // A hostile key is escaped in the message.
        let error = parse_strict(b"{\"\\u001b[2J\":1,\"\\u001b[2J\":1}")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(r"`\u{1b}[2J`") && !error.contains('\u{1b}'),
            "{error}"
        );
        // Not JSON at all, or trailing text.
        for bad in [&b"{"[..], b"[1,]", b"{} x", b"", b"\xff", b"01"] {
            assert!(
                matches!(parse_strict(bad), Err(JsonError::Syntax { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parse_strict_keeps_numbers_exactly_like_from_slice() {
        let text = br#"{"amount":1.10000000000000000001,"big":123456789012345678901234567890,"e":-1.5E+300,"n":null,"t":true,"s":"x\u00e9","a":[0,-0,1e-400]}"#;
        let strict = parse_strict(text).unwrap();
        assert_eq!(strict, serde_json::from_slice::<Value>(text).unwrap());
        assert_eq!(strict["amount"].to_string(), "1.10000000000000000001");
        assert_eq!(strict["a"][2].to_string(), "1e-400");
        // A document's own object with serde_json's private number key stays an object (serde_json's
        // `Value` would take it for a number).
        let own = parse_strict(br#"{"$serde_json::private::Number":"1","x":{}}"#).unwrap();
        assert_eq!(own["$serde_json::private::Number"], Value::String("1".into()));
        assert_eq!(own["x"], Value::Object(Map::new()));
        // Nesting deeper than serde_json's limit is an error, not a stack overflow.
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_strict(deep.as_bytes()),
            Err(JsonError::Syntax { .. })
        ));
    }

    #[test]
    fn decimals_beyond_28_digits_are_errors_naming_value_and_column() {
        let object = parse_strict(
            br#"{"rate":0.12345678901234567890123456789012,"tiny":0.0000000000000000000000000000001,"one":1.00000000000000000000000000000000,"hundred":1E+2,"milli":1.5e-3,"text":"12.50"}"#,
        )
        .unwrap();
        let object = object.as_object().unwrap();
        for (column, value) in [
            ("rate", "0.12345678901234567890123456789012"),
            ("tiny", "0.0000000000000000000000000000001"),
        ] {
            let error = read_field::<Decimal>(object, column, false)
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(&format!("`{column}`: invalid Edm.Decimal value `{value}`")),
                "{error}"
            );
            assert!(
                error.contains("more than 28 digits after the decimal point"),
                "{error}"
            );
            let field = FieldDef::new(if column == "rate" { "rate" } else { "tiny" }, "Edm.Decimal");
            assert!(check_facets(&field, &object[column]).is_err());
        }
        let read = |column| read_field::<Decimal>(object, column, false).unwrap().to_string();
        assert_eq!(read("one"), "1.0000000000000000000000000000");
        assert_eq!(read("hundred"), "100");
        assert_eq!(read("milli"), "0.0015");
        assert_eq!(read("text"), "12.50");
    }

    #[test]
    fn durations_and_instants_through_entity_json_are_errors_not_panics() {
        let object = parse_strict(
            r#"{"a":"P200000000000000D","b":"P1DT9223372036854775807S","c":"PT1.12345678é0S","d":"2024-05-01T09:30:00.1234567891Z"}"#.as_bytes(),
        )
        .unwrap();
        let object = object.as_object().unwrap();
        for (column, says) in [
            ("a", "the days `200000000000000` make the duration longer"),
            ("b", "the seconds `9223372036854775807` make the duration longer"),
            ("c", "unexpected `é`"),
        ] {
            let error = read_field::<Duration>(object, column, false)
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(&format!("`{column}`: invalid Edm.Duration")),
                "{error}"
            );
            assert!(error.contains(says), "{error}");
        }
        let error = read_field::<DateTimeOffset>(object, "d", false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("more than 9 fractional digits"), "{error}");
    }

    #[test]
    fn floats_out_of_range_are_errors() {
        let number = |text: &str| parse_strict(text.as_bytes()).unwrap();
        for (text, says) in [("1e400", "infinite"), ("-1e400", "infinite"), ("1e-400", "0")] {
            let error = f64::from_json(&number(text)).unwrap_err().to_string();
            assert!(
                error.contains(&format!(
                    "out of range for Edm.Double (f64): it would become {says}"
                )),
                "{error}"
            );
        }
        for (text, says) in [("1e-50", "0"), ("1e39", "infinite"), ("3.5e38", "infinite")] {
            let error = f32::from_json(&number(text)).unwrap_err().to_string();
            assert!(
                error.contains(&format!(
                    "out of range for Edm.Single (f32): it would become {says}"
                )),
                "{error}"
            );
        }
        assert_eq!(f64::from_json(&number("0e400")).unwrap(), 0.0);
        assert_eq!(f64::from_json(&number("-0.0")).unwrap(), 0.0);
        assert_eq!(f64::from_json(&number("5e-324")).unwrap(), 5e-324);
        assert_eq!(f32::from_json(&number("1e-45")).unwrap(), 1e-45);
        assert_eq!(f64::from_json(&number("0.1")).unwrap(), 0.1);
        assert_eq!(f32::from_json(&number("3.4028235e38")).unwrap(), f32::MAX);
    }

    #[test]
    fn error_text_escapes_control_and_invisible_characters() {
        assert_eq!(
            excerpt("a\u{1b}[31mb\n\u{202e}c\u{200b}"),
            r"a\u{1b}[31mb\n\u{202e}c\u{200b}"
        );
        assert_eq!(excerpt(&"é".repeat(100)), format!("{}…", "é".repeat(80)));
        let error = bool::from_json(&Value::String("\u{9b}31m".into()))
            .unwrap_err()
            .to_string();
        assert!(!error.chars().any(char::is_control), "{error:?}");
    }

    /// Any JSON value (numbers as exact text; keys from a small set so objects nest and collide).
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,30})?([eE][-+]?[0-9]{1,3})?"
                .prop_map(|n| Value::Number(Number::from_str(&n).unwrap())),
            any::<String>().prop_map(Value::String),
            edm_like_text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[a-d]{0,2}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Text near each Edm string form.
    fn edm_like_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[-+]?P([0-9]{1,21}D)?(T([0-9]{1,21}H)?([0-9]{1,21}M)?([0-9]{1,21}(\\.[0-9é]{0,12})?S)?)?",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,12})?)?(Z|[-+][0-9]{2}:[0-9]{2}))?",
            "[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,12})?)?",
            "[-+]?[0-9]{1,35}(\\.[0-9]{1,35})?([eE][-+]?[0-9]{1,22})?",
            "[0-9a-fA-F=+/_-]{0,40}",
            Just("NaN".to_string()),
            Just("-INF".to_string()),
        ]
    }

    /// Decodes `value` as every Edm type; each must give a value or an error.
    fn decode_as_everything(value: &Value) {
        let _ = String::from_json(value);
        let _ = bool::from_json(value);
        let _ = u8::from_json(value);
        let _ = i8::from_json(value);
        let _ = i16::from_json(value);
        let _ = i32::from_json(value);
        let _ = i64::from_json(value);
        let _ = f32::from_json(value);
        let _ = f64::from_json(value);
        let _ = Decimal::from_json(value);
        let _ = Guid::from_json(value);
        let _ = Date::from_json(value);
        let _ = TimeOfDay::from_json(value);
        let _ = DateTimeOffset::from_json(value);
        let _ = Duration::from_json(value);
        let _ = Binary::from_json(value);
        let _ = Json::from_json(value);
        let _ = Option::<Duration>::from_json(value);
        let _ = Vec::<Decimal>::from_json(value);
        let _ = BTreeMap::<String, Json>::from_json(value);
        let decimal = FieldDef::new("d", "Edm.Decimal");
        let _ = check_facets(&decimal, value);
    }

    proptest! {
        #[test]
        fn parse_strict_gives_a_value_or_an_error_on_any_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..128),
            jsonish in "[\\[\\]{}:,\"a0-9.eE+ \\\\u-]{0,48}",
        ) {
            let _ = parse_strict(&bytes);
            if let Ok(value) = parse_strict(jsonish.as_bytes()) {
                prop_assert_eq!(Some(value), serde_json::from_str::<Value>(&jsonish).ok());
            }
        }

        #[test]
        fn parse_strict_matches_from_slice_without_duplicates(value in any_value(), pretty in any::<bool>()) {
            let text = if pretty { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() };
            let strict = parse_strict(text.as_bytes()).unwrap();
            prop_assert_eq!(&strict, &serde_json::from_slice::<Value>(text.as_bytes()).unwrap());
            prop_assert_eq!(strict, value);
        }

        #[test]
        fn edm_json_gives_a_value_or_an_error_never_a_panic(value in any_value(), text in edm_like_text()) {
            decode_as_everything(&value);
            let quoted = Value::String(text.clone()).to_string();
            for json in [quoted.as_str(), text.as_str()] {
                if let Ok(parsed) = parse_strict(json.as_bytes()) {
                    decode_as_everything(&parsed);
                }
            }
        }

        #[test]
        fn floats_round_trip(x in any::<f64>(), y in any::<f32>()) {
            let back = f64::from_json(&parse_strict(x.to_json().to_string().as_bytes()).unwrap()).unwrap();
            prop_assert!(back == x || (x.is_nan() && back.is_nan()), "{} became {}", x, back);
            let back = f32::from_json(&parse_strict(y.to_json().to_string().as_bytes()).unwrap()).unwrap();
            prop_assert!(back == y || (y.is_nan() && back.is_nan()), "{} became {}", y, back);
        }
    }
}
