//! OData JSON for Edm values and entities. Numbers stay text end to end (serde_json's
//! `arbitrary_precision`): a decimal is read from and written to its exact digits, never through `f64`,
//! and values that do not fit a column's facets are errors, not roundings.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::Number;
pub use serde_json::{Map, Value};

use crate::edm::{Binary, Date, DateTimeOffset, Decimal, Duration, Guid, Json, TimeOfDay};
use crate::entity::{FieldDef, Scale};

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
        }
    }
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {:?}", s.chars().take(40).collect::<String>()),
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
        crate::entity::write_json_string(out, self);
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
    ($($t:ty),*) => {$(
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

            fn from_json(value: &Value) -> Result<Self, JsonError> {
                match value {
                    Value::Number(n) => n.to_string().parse().map_err(|_| type_error("a number", value)),
                    Value::String(s) if s == "NaN" => Ok(<$t>::NAN),
                    Value::String(s) if s == "INF" => Ok(<$t>::INFINITY),
                    Value::String(s) if s == "-INF" => Ok(<$t>::NEG_INFINITY),
                    _ => Err(type_error("a number", value)),
                }
            }
        }
    )*};
}

float_json!(f32, f64);

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

    fn from_json(value: &Value) -> Result<Self, JsonError> {
        // Exact digits: a JSON number's text, or a string (IEEE754Compatible=true).
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => return Err(type_error("a decimal", value)),
        };
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|e| JsonError::Invalid {
                field: String::new(),
                message: format!("{text} is not a decimal this runtime can hold exactly ({e})"),
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
pub fn check_decimal(value: &Decimal, precision: Option<u32>, scale: Option<Scale>) -> Result<(), JsonError> {
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
pub fn check_facets(field: &FieldDef, value: &Value) -> Result<(), JsonError> {
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

/// Entities in OData's JSON shape (implemented by `#[derive(Entity)]`).
pub trait EntityJson: Sized {
    /// The record, from a response object (annotations such as `@odata.etag` are not properties).
    fn from_json_object(object: &Map<String, Value>) -> Result<Self, JsonError>;
    /// Every property under its wire name.
    fn to_json_object(&self) -> Map<String, Value>;

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

/// Reads one property of a response object (generated code calls this per field).
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
pub fn undeclared(object: &Map<String, Value>, declared: &[FieldDef]) -> BTreeMap<String, Json> {
    object
        .iter()
        .filter(|(k, _)| !k.contains('@') && !declared.iter().any(|f| f.name == *k))
        .map(|(k, v)| (k.clone(), Json(v.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
