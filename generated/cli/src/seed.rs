//! Sample records for any entity from its field table: keys, non-nullable columns and the columns a
//! map reads, filled by type; the company; what the map's filter asks for. Used by `demo` and by
//! the test that runs every map's initial sync.

use dualsync::entity::FieldDef;
use dualsync::map::Side;
use serde_json::{Map, Value, json};

use crate::registry::MapInfo;

/// A deterministic GUID from a number and a tag.
pub fn guid(tag: u32, i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", tag, i)
}

fn tag_of(text: &str) -> u32 {
    text.bytes()
        .fold(2_166_136_261u32, |h, b| (h ^ b as u32).wrapping_mul(16_777_619))
}

/// A value of `field`'s type for record `i`, or `None` when no plain value fits (enums, binaries,
/// collections).
pub fn value_for(field: &FieldDef, i: usize, unique: bool) -> Option<Value> {
    let max = field.max_length.map(|m| m as usize).unwrap_or(usize::MAX);
    Some(match field.edm {
        "Edm.String" => {
            let text = if unique {
                format!("K{i}")
            } else {
                format!("{} {i}", field.name)
            };
            if text.chars().count() <= max {
                Value::String(text)
            } else if unique {
                // Short keys (currency codes): a letter and digits that still differ per record.
                let short = format!("{}{i}", (b'A' + (i % 26) as u8) as char);
                Value::String(
                    short
                        .chars()
                        .rev()
                        .take(max.max(1))
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect(),
                )
            } else {
                Value::String(text.chars().take(max).collect())
            }
        }
        "Edm.Int32" | "Edm.Int64" | "Edm.Int16" => json!(i),
        "Edm.Byte" | "Edm.SByte" => json!(i % 100),
        "Edm.Decimal" | "Edm.Double" | "Edm.Single" => json!(i),
        "Edm.Boolean" => json!(false),
        "Edm.Date" => json!("2024-01-15"),
        "Edm.DateTimeOffset" => json!("2024-01-15T08:00:00Z"),
        "Edm.TimeOfDay" => json!("08:00:00"),
        "Edm.Guid" => Value::String(guid(tag_of(field.name), i)),
        _ => return None,
    })
}

/// The values a simple filter (`A eq 'x' and B eq 3`) asks for.
pub fn filter_values(filter: Option<&str>) -> Vec<(String, Value)> {
    let Some(filter) = filter else { return Vec::new() };
    filter
        .split(" and ")
        .filter_map(|part| {
            let (column, value) = part.split_once(" eq ")?;
            let value = value.trim();
            // An enum literal (`Namespace.Type'Member'`) is its member's name.
            let value = match value.find('\'') {
                Some(quote) if quote > 0 && !value[..quote].contains(' ') => &value[quote..],
                _ => value,
            };
            let value = if let Some(text) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Value::String(text.replace("''", "'"))
            } else if let Ok(n) = value.parse::<i64>() {
                json!(n)
            } else {
                return None;
            };
            Some((column.trim().to_string(), value))
        })
        .collect()
}

/// Seed records of a map's master side.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The side the records are loaded into.
    pub side: Side,
    pub set: &'static str,
    pub records: Vec<Value>,
}

/// The company F&O reads without `cross-company=true` (a service's default company).
pub const DEFAULT_COMPANY: &str = "usmf";

/// `n` records of `info`'s master side; `company` is (code, Dataverse id) for a per-company map.
/// Records of a per-company F&O entity behind a shared map go to [`DEFAULT_COMPANY`].
pub fn for_map(info: &MapInfo, n: usize, company: Option<(&str, &str)>) -> Seed {
    let spec = info.runner.spec();
    let (side, set, fields, key, read, filter) = match info.master {
        Side::Fo => (
            Side::Fo,
            info.fo_set,
            info.fo_fields,
            info.fo_key,
            info.columns.iter().map(|c| c.fo).collect::<Vec<_>>(),
            info.fo_filter,
        ),
        Side::Dv => (
            Side::Dv,
            info.dv_set,
            info.dv_fields,
            info.dv_key,
            info.columns.iter().map(|c| c.dv).collect::<Vec<_>>(),
            info.dv_filter,
        ),
    };
    let map_keys: Vec<&str> = spec
        .key_pairs
        .iter()
        .map(|(fo, dv)| if side == Side::Fo { *fo } else { *dv })
        .collect();
    let filters = filter_values(filter);
    let records = (1..=n)
        .map(|i| {
            let mut record = Map::new();
            for field in fields {
                let is_key = key.contains(&field.name) || map_keys.contains(&field.name);
                let wanted = is_key || !field.nullable || read.contains(&field.name);
                if !wanted || field.is_lookup() {
                    continue;
                }
                if field.option_set.is_some() && !is_key {
                    // A choice takes one of its options: its default, or nothing.
                    if let Some(v) = field.default_value.and_then(|d| d.parse::<i64>().ok()) {
                        record.insert(field.name.into(), json!(v));
                    }
                    continue;
                }
                if let Some(value) = value_for(field, i, is_key) {
                    record.insert(field.name.into(), value);
                }
            }
            if side == Side::Fo
                && let Some(column) = info.fo_entity_company
            {
                record.insert(column.into(), Value::String(DEFAULT_COMPANY.into()));
            }
            if let Some((code, id)) = company {
                match side {
                    Side::Fo => {
                        if let Some(column) = spec.company_fo {
                            record.insert(column.into(), Value::String(code.into()));
                        }
                    }
                    Side::Dv => {
                        if let Some(lookup) = &spec.company_dv {
                            record.insert(lookup.column.into(), Value::String(id.into()));
                        }
                    }
                }
            }
            for (column, value) in &filters {
                record.insert(column.clone(), value.clone());
            }
            Value::Object(record)
        })
        .collect();
    Seed { side, set, records }
}
