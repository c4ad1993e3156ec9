//! Dataverse option-set metadata. A choice column is `Edm.Int32` in `$metadata`; its options come from
//! the Web API's metadata endpoints, in these response shapes (all read here):
//!
//! - `EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet,GlobalOptionSet`
//!   and the `MultiSelectPicklist`, `State`, `Status`, `Boolean` and `EntityName` variants: `{"value": [attribute, ...]}`;
//! - one attribute (`.../Attributes(LogicalName='x')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata`);
//! - `EntityDefinitions(...)?$expand=Attributes`: an entity with an `Attributes` array (attributes without an
//!   expanded option set are skipped).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::span::Span;

/// The kind of a Dataverse choice column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OptionSetKind {
    Picklist,
    MultiSelectPicklist,
    State,
    Status,
    Boolean,
    EntityName,
}

impl OptionSetKind {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "Picklist" => OptionSetKind::Picklist,
            "MultiSelectPicklist" => OptionSetKind::MultiSelectPicklist,
            "State" => OptionSetKind::State,
            "Status" => OptionSetKind::Status,
            "Boolean" => OptionSetKind::Boolean,
            "EntityName" => OptionSetKind::EntityName,
            _ => return None,
        })
    }

    /// The metadata type name, e.g. `Picklist` for `PicklistAttributeMetadata`.
    pub fn name(self) -> &'static str {
        match self {
            OptionSetKind::Picklist => "Picklist",
            OptionSetKind::MultiSelectPicklist => "MultiSelectPicklist",
            OptionSetKind::State => "State",
            OptionSetKind::Status => "Status",
            OptionSetKind::Boolean => "Boolean",
            OptionSetKind::EntityName => "EntityName",
        }
    }
}

/// One option of a choice column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionValue {
    pub value: i32,
    /// Labels by language code (LCID, e.g. 1033 for English).
    pub labels: BTreeMap<u32, String>,
    /// For a status reason: the state (statecode value) it belongs to.
    pub state: Option<i32>,
    /// For a state: the default status reason.
    pub default_status: Option<i32>,
    /// For a state: its invariant name (e.g. `Active`).
    pub invariant_name: Option<String>,
}

/// The options of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSet {
    /// Column logical name, e.g. `customertypecode`.
    pub column: String,
    pub kind: OptionSetKind,
    /// Option set name, e.g. `account_customertypecode`, or a global option set's name.
    pub name: Option<String>,
    /// A global (shared) option set rather than one local to the column.
    pub is_global: bool,
    /// The column's display name by language code.
    pub display_name: BTreeMap<u32, String>,
    /// Options in the order the service lists them (for Boolean: false, then true).
    pub options: Vec<OptionValue>,
}

/// A Dataverse column's required level (entity metadata `RequiredLevel.Value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequiredLevel {
    None,
    Recommended,
    ApplicationRequired,
    SystemRequired,
}

impl RequiredLevel {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "None" => RequiredLevel::None,
            "Recommended" => RequiredLevel::Recommended,
            "ApplicationRequired" => RequiredLevel::ApplicationRequired,
            "SystemRequired" => RequiredLevel::SystemRequired,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            RequiredLevel::None => "None",
            RequiredLevel::Recommended => "Recommended",
            RequiredLevel::ApplicationRequired => "ApplicationRequired",
            RequiredLevel::SystemRequired => "SystemRequired",
        }
    }
}

/// What Dataverse's entity metadata says of one column (`$metadata` has its logical name and type
/// only). Every fact is optional: a response carries what its `$select` asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttributeFacts {
    /// `OpenRevenue` for `openrevenue`.
    pub schema_name: Option<String>,
    /// `String`, `Lookup`, `Owner`, `Customer`, `Money`, ...
    pub attribute_type: Option<String>,
    pub required: Option<RequiredLevel>,
    pub valid_for_create: Option<bool>,
    pub valid_for_update: Option<bool>,
    pub valid_for_read: Option<bool>,
    pub max_length: Option<u32>,
    pub precision: Option<u32>,
    /// The tables a lookup points to (logical names): several for `Owner` and `Customer`.
    pub targets: Vec<String>,
    pub is_primary_id: bool,
}

/// The option sets of one table, and the facts of its columns when the response was the table's
/// entity metadata (`EntityDefinitions(LogicalName='account')?$expand=Attributes`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableOptionSets {
    /// Table logical name, e.g. `account`.
    pub table: String,
    /// Columns by logical name.
    pub columns: BTreeMap<String, OptionSet>,
    /// The table's `SchemaName` (`TransactionCurrency`), when the response has it.
    pub schema_name: Option<String>,
    /// Column facts by logical name (entity metadata responses only).
    pub attributes: BTreeMap<String, AttributeFacts>,
}

/// Reads one option-set metadata response. `table_hint` names the table when the response does not
/// (e.g. from a file name such as `account.PicklistOptionSetAttribute.json`).
pub fn parse_option_sets(json: &str, table_hint: Option<&str>) -> Result<TableOptionSets, Error> {
    let root: Value = serde_json::from_str(json.trim_start_matches('\u{feff}')).map_err(|e| {
        let offset = offset_of(json, e.line(), e.column());
        Error::new(
            ErrorKind::OptionSetJson(format!("{e}")),
            Span::new(offset, (offset + 1).min(json.len())),
        )
    })?;
    let fail = |what: String| Error::new(ErrorKind::OptionSetJson(what), Span::new(0, json.len().min(1)));
    let object = root
        .as_object()
        .ok_or_else(|| fail("the top level is not a JSON object".into()))?;
    let context = object.get("@odata.context").and_then(Value::as_str).unwrap_or("");
    let context_kind = kind_from_context(context);
    let (attributes, base): (Vec<&Value>, &str) = if let Some(values) = object.get("value") {
        let list = values
            .as_array()
            .ok_or_else(|| fail("`value` is not an array".into()))?;
        (list.iter().collect(), "value")
    } else if let Some(values) = object.get("Attributes") {
        let list = values
            .as_array()
            .ok_or_else(|| fail("`Attributes` is not an array".into()))?;
        (list.iter().collect(), "Attributes")
    } else if object.contains_key("OptionSet") || object.contains_key("GlobalOptionSet") {
        (vec![&root], "$")
    } else {
        return Err(fail(
            "expected an attribute metadata response: an object with `value`, `Attributes` or `OptionSet`"
                .into(),
        ));
    };
    let table = table_from_context(context)
        .or_else(|| {
            // An EntityDefinitions response names its table at the top level.
            object
                .get("Attributes")
                .and(object.get("LogicalName"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .or_else(|| {
            attributes
                .iter()
                .find_map(|a| a.get("EntityLogicalName").and_then(Value::as_str).map(str::to_string))
        })
        .or_else(|| table_hint.map(str::to_string))
        .ok_or_else(|| fail("cannot tell which table these attributes belong to: the response has no @odata.context naming EntityDefinitions(...) and no EntityLogicalName".into()))?;
    let mut result = TableOptionSets {
        table,
        columns: BTreeMap::new(),
        schema_name: object
            .get("Attributes")
            .and(object.get("SchemaName"))
            .and_then(Value::as_str)
            .filter(|name| is_schema_name(name))
            .map(str::to_string),
        attributes: BTreeMap::new(),
    };
    for (index, attribute) in attributes.iter().enumerate() {
        let path = if base == "$" {
            "$".to_string()
        } else {
            format!("{base}[{index}]")
        };
        if let Some(set) = attribute_option_set(attribute, context_kind, &path).map_err(fail)? {
            result.columns.insert(set.column.clone(), set);
        }
        if base == "Attributes"
            && let Some((column, facts)) = attribute_facts(attribute, &path).map_err(fail)?
        {
            result.attributes.insert(column, facts);
        }
    }
    Ok(result)
}

/// A `SchemaName` the generator may build a Rust name from: a CSDL simple identifier (it comes from
/// a service: anything else is ignored, and the logical name is used).
fn is_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

/// The facts of one attribute of an entity metadata response, keyed by its logical name.
fn attribute_facts(attribute: &Value, path: &str) -> Result<Option<(String, AttributeFacts)>, String> {
    let Some(column) = attribute.get("LogicalName").and_then(Value::as_str) else {
        return Ok(None);
    };
    let flag = |name: &str| -> Result<Option<bool>, String> {
        match attribute.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(format!("{path}.{name} is not true or false: {other}")),
        }
    };
    let count = |name: &str| -> Result<Option<u32>, String> {
        match attribute.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| format!("{path}.{name} is not a count: {v}")),
        }
    };
    let required = match attribute.get("RequiredLevel").and_then(|r| r.get("Value")) {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(
            RequiredLevel::from_name(name)
                .ok_or_else(|| format!("{path}.RequiredLevel.Value is `{name}`, not None, Recommended, ApplicationRequired or SystemRequired"))?,
        ),
        Some(other) => return Err(format!("{path}.RequiredLevel.Value is not a name: {other}")),
    };
    let targets = match attribute.get("Targets") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|t| {
                t.as_str()
                    .filter(|t| is_schema_name(t))
                    .map(str::to_string)
                    .ok_or_else(|| format!("{path}.Targets holds `{t}`, not a table's logical name"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("{path}.Targets is not an array: {other}")),
    };
    let facts = AttributeFacts {
        schema_name: attribute
            .get("SchemaName")
            .and_then(Value::as_str)
            .filter(|name| is_schema_name(name))
            .map(str::to_string),
        attribute_type: attribute
            .get("AttributeType")
            .and_then(Value::as_str)
            .map(str::to_string),
        required,
        valid_for_create: flag("IsValidForCreate")?,
        valid_for_update: flag("IsValidForUpdate")?,
        valid_for_read: flag("IsValidForRead")?,
        max_length: count("MaxLength")?,
        precision: count("Precision")?,
        targets,
        is_primary_id: flag("IsPrimaryId")?.unwrap_or(false),
    };
    Ok(Some((column.to_string(), facts)))
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(text.len());
        }
        offset += l.len();
    }
    text.len()
}

fn kind_from_context(context: &str) -> Option<OptionSetKind> {
    let at = context.find("Microsoft.Dynamics.CRM.")?;
    let rest = &context[at + "Microsoft.Dynamics.CRM.".len()..];
    let name = rest.split("AttributeMetadata").next()?;
    OptionSetKind::from_name(name)
}

fn table_from_context(context: &str) -> Option<String> {
    let at = context.find("EntityDefinitions(")?;
    let rest = &context[at + "EntityDefinitions(".len()..];
    let inner = rest.split(')').next()?;
    let inner = inner.strip_prefix("LogicalName=").unwrap_or(inner);
    let name = inner.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(name.to_string())
}

fn labels(label: Option<&Value>) -> BTreeMap<u32, String> {
    let mut out = BTreeMap::new();
    if let Some(list) = label
        .and_then(|l| l.get("LocalizedLabels"))
        .and_then(Value::as_array)
    {
        for entry in list {
            if let (Some(text), Some(code)) = (
                entry.get("Label").and_then(Value::as_str),
                entry.get("LanguageCode").and_then(Value::as_u64),
            ) && let Ok(code) = u32::try_from(code)
            {
                out.insert(code, text.to_string());
            }
        }
    }
    out
}

fn int_field(value: &Value, field: &str, path: &str) -> Result<Option<i32>, String> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| format!("{path}.{field} is not a 32-bit integer: {v}")),
    }
}

fn option(value: &Value, path: &str) -> Result<OptionValue, String> {
    let number = int_field(value, "Value", path)?.ok_or_else(|| format!("{path} has no `Value`"))?;
    Ok(OptionValue {
        value: number,
        labels: labels(value.get("Label")),
        state: int_field(value, "State", path)?,
        default_status: int_field(value, "DefaultStatus", path)?,
        invariant_name: value
            .get("InvariantName")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

fn attribute_option_set(
    attribute: &Value,
    context_kind: Option<OptionSetKind>,
    path: &str,
) -> Result<Option<OptionSet>, String> {
    let column = attribute
        .get("LogicalName")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path} has no `LogicalName`"))?;
    let type_kind = attribute
        .get("@odata.type")
        .and_then(Value::as_str)
        .and_then(kind_from_context);
    let local = attribute.get("OptionSet").filter(|v| !v.is_null());
    let global = attribute.get("GlobalOptionSet").filter(|v| !v.is_null());
    let Some((set, set_path)) = local
        .map(|s| (s, format!("{path}.OptionSet")))
        .or_else(|| global.map(|s| (s, format!("{path}.GlobalOptionSet"))))
    else {
        return Ok(None);
    };
    let set_kind = set
        .get("OptionSetType")
        .and_then(Value::as_str)
        .and_then(OptionSetKind::from_name);
    let Some(kind) = type_kind.or(context_kind).or(set_kind) else {
        // Not a choice column (e.g. an attribute of another type in an EntityDefinitions response).
        return Ok(None);
    };
    let mut options = Vec::new();
    if kind == OptionSetKind::Boolean {
        for (field, fallback) in [("FalseOption", 0), ("TrueOption", 1)] {
            if let Some(o) = set.get(field).filter(|v| !v.is_null()) {
                let mut parsed = option(o, &format!("{set_path}.{field}"))?;
                if o.get("Value").is_none() {
                    parsed.value = fallback;
                }
                options.push(parsed);
            }
        }
    } else if let Some(list) = set.get("Options") {
        let list = list
            .as_array()
            .ok_or_else(|| format!("{set_path}.Options is not an array"))?;
        for (i, o) in list.iter().enumerate() {
            options.push(option(o, &format!("{set_path}.Options[{i}]"))?);
        }
    }
    Ok(Some(OptionSet {
        column: column.to_string(),
        kind,
        name: set.get("Name").and_then(Value::as_str).map(str::to_string),
        is_global: set
            .get("IsGlobal")
            .and_then(Value::as_bool)
            .unwrap_or(global.is_some() && local.is_none()),
        display_name: labels(attribute.get("DisplayName")),
        options,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entity_metadata_facts_and_ignores_hostile_names() {
        let json = r#"{"LogicalName":"account","SchemaName":"Account","Attributes":[
            {"LogicalName":"openrevenue","SchemaName":"OpenRevenue","AttributeType":"Money","Precision":4,
             "IsValidForCreate":false,"IsValidForUpdate":false,"RequiredLevel":{"Value":"None"}},
            {"LogicalName":"ownerid","SchemaName":"OwnerId","AttributeType":"Owner","Targets":["systemuser","team"],
             "RequiredLevel":{"Value":"SystemRequired"}},
            {"LogicalName":"name","SchemaName":"../../etc/passwd","MaxLength":100}]}"#;
        let sets = parse_option_sets(json, None).unwrap();
        assert_eq!(sets.table, "account");
        assert_eq!(sets.schema_name.as_deref(), Some("Account"));
        let revenue = &sets.attributes["openrevenue"];
        assert_eq!(revenue.schema_name.as_deref(), Some("OpenRevenue"));
        assert_eq!(revenue.precision, Some(4));
        assert_eq!(
            (revenue.valid_for_create, revenue.valid_for_update),
            (Some(false), Some(false))
        );
        let owner = &sets.attributes["ownerid"];
        assert_eq!(owner.targets, ["systemuser", "team"]);
        assert_eq!(owner.required, Some(RequiredLevel::SystemRequired));
        // A SchemaName that is not an identifier never becomes a Rust name.
        assert_eq!(sets.attributes["name"].schema_name, None);
        assert_eq!(sets.attributes["name"].max_length, Some(100));

        for (bad, says) in [
            (
                r#""RequiredLevel":{"Value":"Mandatory"}"#,
                "RequiredLevel.Value is `Mandatory`",
            ),
            (
                r#""IsValidForCreate":"yes""#,
                "IsValidForCreate is not true or false",
            ),
            (r#""MaxLength":-1"#, "MaxLength is not a count"),
            (r#""Targets":["a b"]"#, "Targets holds"),
        ] {
            let json = format!(r#"{{"LogicalName":"account","Attributes":[{{"LogicalName":"x",{bad}}}]}}"#);
            let e = parse_option_sets(&json, None).unwrap_err();
            assert!(e.to_string().contains(says), "{e}");
            assert!(e.to_string().contains("Attributes[0]"), "{e}");
        }
    }

    #[test]
    fn reads_a_picklist_response() {
        let json = r#"{"@odata.context":"https://x.crm.dynamics.com/api/data/v9.2/$metadata#EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,OptionSet,GlobalOptionSet)",
          "value":[{"LogicalName":"customertypecode","DisplayName":{"LocalizedLabels":[{"Label":"Relationship Type","LanguageCode":1033}]},
            "OptionSet":{"Name":"account_customertypecode","IsGlobal":false,"OptionSetType":"Picklist","Options":[
              {"Value":1,"Label":{"LocalizedLabels":[{"Label":"Competitor","LanguageCode":1033},{"Label":"Mitbewerber","LanguageCode":1031}]}},
              {"Value":3,"Label":{"LocalizedLabels":[{"Label":"Customer","LanguageCode":1033}]}}]},"GlobalOptionSet":null}]}"#;
        let sets = parse_option_sets(json, None).unwrap();
        assert_eq!(sets.table, "account");
        let set = &sets.columns["customertypecode"];
        assert_eq!(set.kind, OptionSetKind::Picklist);
        assert!(!set.is_global);
        assert_eq!(set.options.len(), 2);
        assert_eq!(set.options[0].labels[&1031], "Mitbewerber");
        assert_eq!(set.options[1].value, 3);
    }

    #[test]
    fn global_option_set_without_local() {
        let json = r#"{"value":[{"LogicalName":"industrycode","EntityLogicalName":"account","OptionSet":null,
            "GlobalOptionSet":{"Name":"industry","IsGlobal":true,"OptionSetType":"Picklist","Options":[{"Value":7}]}}]}"#;
        let sets = parse_option_sets(json, None).unwrap();
        assert_eq!(sets.table, "account");
        assert!(sets.columns["industrycode"].is_global);
        assert_eq!(sets.columns["industrycode"].name.as_deref(), Some("industry"));
    }

    #[test]
    fn errors_say_where() {
        let err = parse_option_sets("{\n \"value\": [}", Some("account")).unwrap_err();
        assert!(matches!(*err.kind, ErrorKind::OptionSetJson(_)));
        assert_eq!(err.span.start, 13);
        let err = parse_option_sets(
            r#"{"value":[{"LogicalName":"x","OptionSet":{"OptionSetType":"Picklist","Options":[{"Value":"one"}]}}]}"#,
            Some("account"),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("value[0].OptionSet.Options[0].Value"),
            "{err}"
        );
        let err = parse_option_sets(r#"{"value":[]}"#, None).unwrap_err();
        assert!(err.to_string().contains("which table"), "{err}");
    }
}
