//! What the emulator knows of a service: its entity sets, their keys, alternate keys, columns with
//! their Edm types and facets, Dataverse lookups and F&O company striping, all read from `$metadata`
//! through the CSDL reader. Records are validated against it: an unknown property, a value of the wrong
//! type or beyond MaxLength / Precision / Scale, a missing key is refused as the service would.

use std::collections::BTreeMap;

use dualsync_csdl::model::{Model, Primitive, TypeKind};
use dualsync_csdl::syntax::{MaxLength, Scale};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::filter::EdmKind;

/// Which service an emulated endpoint imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// Dataverse Web API under `/api/data/v9.2/`.
    Dataverse,
    /// F&O OData under `/data/`.
    Fo,
}

impl Flavor {
    /// The service root path.
    pub fn root(self) -> &'static str {
        match self {
            Flavor::Dataverse => "/api/data/v9.2/",
            Flavor::Fo => "/data/",
        }
    }

    /// The largest page the service sends.
    pub fn max_page(self) -> usize {
        match self {
            Flavor::Dataverse => 5000,
            Flavor::Fo => 10_000,
        }
    }

    pub fn dialect(self) -> crate::filter::Dialect {
        match self {
            Flavor::Dataverse => crate::filter::Dialect::Dataverse,
            Flavor::Fo => crate::filter::Dialect::FinOps,
        }
    }
}

/// One column of an entity set.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: EdmKind,
    pub nullable: bool,
    pub max_length: Option<u64>,
    pub precision: Option<u32>,
    pub scale: Option<u32>,
    /// Computed by the service: refused in writes (Dataverse lookup id columns are written by bind).
    pub read_only: bool,
    /// Qualified enum type name for enum columns, with its members.
    pub enum_type: Option<(String, Vec<String>)>,
    pub collection: bool,
}

/// One target of a Dataverse lookup navigation.
#[derive(Debug, Clone)]
pub struct LookupNav {
    /// The `_x_value` column the bind fills.
    pub column: String,
    /// The entity set the navigation points at.
    pub target_set: String,
}

/// An entity set as the emulator serves it.
#[derive(Debug, Clone)]
pub struct Table {
    pub set: String,
    /// Qualified entity type name.
    pub type_name: String,
    pub key: Vec<String>,
    pub alternate_keys: Vec<Vec<String>>,
    pub columns: BTreeMap<String, Column>,
    /// Navigation property name -> the lookup column and target set (Dataverse).
    pub lookups: BTreeMap<String, LookupNav>,
    /// F&O: rows belong to a company (`dataAreaId` leads the key).
    pub company_specific: bool,
    /// Single-valued navigation properties for `$expand`: name -> (target set, foreign key pairs).
    pub navigations: BTreeMap<String, (String, Vec<(String, String)>)>,
}

impl crate::filter::Schema for Table {
    fn kind(&self, property: &str) -> Option<EdmKind> {
        self.columns.get(property).map(|c| c.kind)
    }

    fn enum_type(&self, property: &str) -> Option<&str> {
        self.columns
            .get(property)
            .and_then(|c| c.enum_type.as_ref())
            .map(|(name, _)| name.as_str())
    }
}

/// The entity sets of one service.
#[derive(Debug, Clone)]
pub struct Schema {
    pub flavor: Flavor,
    /// Shared: a request holds its table while the store changes.
    pub tables: BTreeMap<String, std::sync::Arc<Table>>,
}

fn kind_of(primitive: Primitive) -> EdmKind {
    match primitive {
        Primitive::String => EdmKind::String,
        Primitive::Boolean => EdmKind::Boolean,
        Primitive::Byte | Primitive::SByte | Primitive::Int16 | Primitive::Int32 | Primitive::Int64 => {
            EdmKind::Int
        }
        Primitive::Decimal => EdmKind::Decimal,
        Primitive::Double | Primitive::Single => EdmKind::Double,
        Primitive::Guid => EdmKind::Guid,
        Primitive::Date => EdmKind::Date,
        Primitive::DateTimeOffset => EdmKind::DateTimeOffset,
        Primitive::TimeOfDay => EdmKind::TimeOfDay,
        Primitive::Duration => EdmKind::Duration,
        Primitive::Binary | Primitive::Stream => EdmKind::Binary,
        _ => EdmKind::Other,
    }
}

impl Schema {
    /// The schema of every entity set of `model`.
    pub fn from_model(model: &Model, flavor: Flavor) -> Schema {
        let mut tables = BTreeMap::new();
        for container in model.containers.values() {
            for set in container.entity_sets.values() {
                let Some(entity) = model.entity_types.get(&set.entity_type) else {
                    continue;
                };
                if entity.key.is_empty() {
                    continue;
                }
                let mut columns = BTreeMap::new();
                for property in model.all_properties(entity) {
                    let mut enum_type = None;
                    let kind = match &property.type_ref.kind {
                        TypeKind::Primitive(p) => kind_of(*p),
                        TypeKind::Enum(name) => {
                            let members = model
                                .enum_types
                                .get(name)
                                .map(|e| e.members.iter().map(|m| m.name.clone()).collect())
                                .unwrap_or_default();
                            enum_type = Some((name.clone(), members));
                            EdmKind::Enum
                        }
                        TypeKind::Definition(name) => model
                            .type_definitions
                            .get(name)
                            .map_or(EdmKind::Other, |d| kind_of(d.underlying_type)),
                        _ => EdmKind::Other,
                    };
                    let facets = &property.facets;
                    columns.insert(
                        property.name.clone(),
                        Column {
                            name: property.name.clone(),
                            kind,
                            nullable: property.nullable,
                            max_length: match facets.max_length {
                                Some(MaxLength::Length(n)) => Some(n),
                                _ => None,
                            },
                            precision: facets.precision,
                            scale: match facets.scale {
                                Some(Scale::Fixed(n)) => Some(n),
                                // Dataverse declares Scale="Variable": any scale up to the precision.
                                _ => None,
                            },
                            read_only: property.computed || property.read_only,
                            enum_type,
                            collection: property.type_ref.collection,
                        },
                    );
                }
                let mut lookups = BTreeMap::new();
                for lookup in &entity.lookups {
                    for target in &lookup.targets {
                        if let Some(target_set) = &target.entity_set {
                            lookups.insert(
                                target.navigation.clone(),
                                LookupNav {
                                    column: lookup.column.clone(),
                                    target_set: target_set.clone(),
                                },
                            );
                        }
                    }
                }
                let mut navigations = BTreeMap::new();
                for nav in model.all_navigation_properties(entity) {
                    if nav.collection {
                        continue;
                    }
                    let target_set = set
                        .bindings
                        .iter()
                        .find(|b| b.path == nav.name)
                        .map(|b| b.target.rsplit('/').next().unwrap_or(&b.target).to_string())
                        .or_else(|| lookups.get(&nav.name).map(|l| l.target_set.clone()));
                    if let Some(target_set) = target_set {
                        navigations.insert(
                            nav.name.clone(),
                            (target_set, nav.referential_constraints.clone()),
                        );
                    }
                }
                tables.insert(
                    set.name.clone(),
                    std::sync::Arc::new(Table {
                        set: set.name.clone(),
                        type_name: entity.name.clone(),
                        key: entity.key.iter().map(|k| k.name.clone()).collect(),
                        alternate_keys: entity
                            .alternate_keys
                            .iter()
                            .map(|k| k.parts.iter().map(|p| p.name.clone()).collect())
                            .collect(),
                        columns,
                        lookups,
                        company_specific: entity.company_specific,
                        navigations,
                    }),
                );
            }
        }
        Schema { flavor, tables }
    }
}

/// Why a value does not fit its column.
pub fn check_value(column: &Column, value: &Value) -> Result<(), String> {
    if value.is_null() {
        return if column.nullable {
            Ok(())
        } else {
            Err(format!("'{}' cannot be null", column.name))
        };
    }
    if column.collection {
        return if value.is_array() {
            Ok(())
        } else {
            Err(format!("'{}' expects a collection", column.name))
        };
    }
    let wrong = |expected: &str| {
        Err(format!(
            "Cannot convert the literal '{}' to the expected type '{expected}' of property '{}'",
            crate::text::excerpt(&value.to_string()),
            column.name
        ))
    };
    match column.kind {
        EdmKind::String => {
            let Some(text) = value.as_str() else {
                return wrong("Edm.String");
            };
            if let Some(max) = column.max_length
                && text.chars().count() as u64 > max
            {
                return Err(format!(
                    "A validation error occurred. The length of the '{}' attribute exceeded {max}.",
                    column.name
                ));
            }
            Ok(())
        }
        EdmKind::Boolean => {
            if value.is_boolean() {
                Ok(())
            } else {
                wrong("Edm.Boolean")
            }
        }
        EdmKind::Int => match value {
            Value::Number(n) if n.as_i64().is_some() => Ok(()),
            _ => wrong("Edm.Int64"),
        },
        EdmKind::Double => match value {
            Value::Number(_) => Ok(()),
            Value::String(s) if matches!(s.as_str(), "NaN" | "INF" | "-INF") => Ok(()),
            _ => wrong("Edm.Double"),
        },
        EdmKind::Decimal => {
            let text = match value {
                Value::Number(n) => n.to_string(),
                // IEEE754Compatible=true sends decimals as strings.
                Value::String(s) => s.clone(),
                _ => return wrong("Edm.Decimal"),
            };
            let decimal = parse_decimal(&text).ok_or_else(|| {
                format!(
                    "'{}': {} is not a decimal that fits 28 digits",
                    column.name,
                    crate::text::excerpt(&text)
                )
            })?;
            let scale = decimal.scale();
            if let Some(max) = column.scale
                && scale > max
            {
                return Err(format!(
                    "'{}': {decimal} has {scale} decimal places, more than the column's scale of {max}",
                    column.name
                ));
            }
            if let Some(precision) = column.precision {
                let digits = decimal.mantissa().unsigned_abs().to_string().len() as u32;
                let integral = digits.saturating_sub(scale);
                let allowed = precision.saturating_sub(column.scale.unwrap_or(0));
                if integral > allowed {
                    return Err(format!(
                        "'{}': {decimal} does not fit precision {precision}",
                        column.name
                    ));
                }
            }
            Ok(())
        }
        EdmKind::Guid => match value.as_str() {
            Some(s) if is_guid(s) => Ok(()),
            _ => wrong("Edm.Guid"),
        },
        EdmKind::Date => match value.as_str() {
            Some(s) if crate::text::parse_date(s).is_some() => Ok(()),
            _ => wrong("Edm.Date"),
        },
        EdmKind::DateTimeOffset => match value.as_str() {
            Some(s) if crate::text::parse_instant(s).is_some() => Ok(()),
            _ => wrong("Edm.DateTimeOffset"),
        },
        EdmKind::Enum => {
            let members = column
                .enum_type
                .as_ref()
                .map(|(_, m)| m.as_slice())
                .unwrap_or_default();
            match value.as_str() {
                Some(s) if members.iter().any(|m| m == s) => Ok(()),
                _ => Err(format!(
                    "'{}': {} is not a member of {}",
                    column.name,
                    crate::text::excerpt(&value.to_string()),
                    column.enum_type.as_ref().map_or("the enum", |(n, _)| n.as_str())
                )),
            }
        }
        EdmKind::TimeOfDay | EdmKind::Duration | EdmKind::Binary => {
            if value.is_string() {
                Ok(())
            } else {
                wrong("a string form")
            }
        }
        EdmKind::Other => Ok(()),
    }
}

/// A decimal from its exact text (exponents allowed), `None` when 28 digits cannot hold it.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

/// `8-4-4-4-12` hexadecimal.
pub fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}
