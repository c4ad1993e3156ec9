//! Fingerprints of what a side holds in a map's columns, for loop prevention and change detection.
//!
//! The same value can be written differently by the two sources of a fingerprint (a record as read,
//! a patch as sent): `250000.10` and `250000.1`, an upper- and a lower-case Guid, a bind
//! `/transactioncurrencies(id)` and the lookup column's `id`, `2024-01-01T00:00:00Z` and
//! `2024-01-01T00:00:00.000+00:00`. Values are put in one canonical text before hashing, so that an
//! echo of the engine's own write is recognised as such.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::spec::Object;

/// The canonical text of a JSON value.
pub fn canonical(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let text = n.to_string();
            match text.parse::<rust_decimal::Decimal>() {
                Ok(d) => d.normalize().to_string(),
                Err(_) => text,
            }
        }
        Value::String(s) => canonical_text(s),
        other => other.to_string(),
    }
}

fn canonical_text(s: &str) -> String {
    if s.len() == 36
        && let Ok(guid) = s.parse::<uuid::Uuid>()
    {
        return guid.to_string();
    }
    if s.len() >= 20
        && s.as_bytes().get(4) == Some(&b'-')
        && s.as_bytes().get(10) == Some(&b'T')
        && let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
    {
        return format!("@{}", t.unix_timestamp_nanos());
    }
    format!("'{s}")
}

/// The canonical text of a value given as JSON text (a patch's value).
pub fn canonical_json(text: Option<&str>) -> String {
    match text {
        None => "null".into(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => canonical(&value),
            Err(_) => text.to_string(),
        },
    }
}

fn digest(entries: &[(&str, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, value) in entries {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([b'\n']);
    }
    let out = hasher.finalize();
    out.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

const ABSENT: &str = "<absent>";

/// The fingerprint of `columns` in a record as read from the service.
pub fn of_record(record: &Object, columns: &[&'static str]) -> String {
    let entries: Vec<(&str, String)> = columns
        .iter()
        .map(|c| (*c, record.get(*c).map(canonical).unwrap_or_else(|| ABSENT.into())))
        .collect();
    digest(&entries)
}

/// The fingerprint of `columns` in values to write; a lookup column (`_x_value`) is read from its
/// bind (`nav@odata.bind: "/set(id)"`). `lookups` lists (column, navigation) of the lookups.
pub fn of_values(
    values: &BTreeMap<String, Option<String>>,
    columns: &[&'static str],
    lookups: &[(&'static str, &'static str, &'static str)],
) -> String {
    let entries: Vec<(&str, String)> = columns
        .iter()
        .map(|c| {
            if let Some((_, navigation, _)) = lookups.iter().find(|(column, _, _)| column == c) {
                let bind = format!("{navigation}@odata.bind");
                let value = match values.get(&bind) {
                    None => ABSENT.to_string(),
                    Some(None) => "null".into(),
                    Some(Some(text)) => {
                        let path: String = serde_json::from_str(text).unwrap_or_default();
                        let id = path
                            .rsplit_once('(')
                            .map(|(_, rest)| rest.trim_end_matches(')'))
                            .unwrap_or("");
                        canonical_text(id)
                    }
                };
                return (*c, value);
            }
            let value = match values.get(*c) {
                None => ABSENT.to_string(),
                Some(v) => canonical_json(v.as_deref()),
            };
            (*c, value)
        })
        .collect();
    digest(&entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_values_written_differently_have_one_fingerprint() {
        let record: Object = serde_json::from_str(
            r#"{"creditlimit": 250000.10, "name": "Contoso", "_transactioncurrencyid_value": "6F8A7B3C-1D2E-4F5A-8B9C-0D1E2F3A4B5C",
                "createdon": "2024-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let mut values = BTreeMap::new();
        values.insert("creditlimit".to_string(), Some("250000.1".to_string()));
        values.insert("name".to_string(), Some("\"Contoso\"".to_string()));
        values.insert(
            "transactioncurrencyid@odata.bind".to_string(),
            Some("\"/transactioncurrencies(6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)\"".to_string()),
        );
        values.insert(
            "createdon".to_string(),
            Some("\"2024-01-01T00:00:00.000+00:00\"".to_string()),
        );
        let columns = ["creditlimit", "name", "_transactioncurrencyid_value", "createdon"];
        let lookups = [(
            "_transactioncurrencyid_value",
            "transactioncurrencyid",
            "transactioncurrencies",
        )];
        assert_eq!(
            of_record(&record, &columns),
            of_values(&values, &columns, &lookups)
        );
        values.insert("name".to_string(), Some("\"Fabrikam\"".to_string()));
        assert_ne!(
            of_record(&record, &columns),
            of_values(&values, &columns, &lookups)
        );
        // A string that looks like a number is not the number.
        assert_ne!(
            canonical(&Value::String("1".into())),
            canonical(&serde_json::json!(1))
        );
    }
}
