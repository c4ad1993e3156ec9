//! `inspect`: a summary of a model, or one type in detail, as text or JSON.

use std::fmt::Write as _;

use miette::Report;
use serde_json::{Value, json};

use dualsync_codegen::csdl::syntax::{Expression, Facets};
use dualsync_codegen::model::{Annotations, EntityType, Model, Property};

use super::Sources;

const LARGEST: usize = 10;

/// Namespaces, counts and the largest types.
pub fn summary(model: &Model, sources: &Sources, as_json: bool) -> String {
    let counts = model.counts();
    let largest = model.largest_types(LARGEST);
    if as_json {
        let mut object = Value::Object(
            counts
                .fields()
                .iter()
                .map(|(k, v)| ((*k).to_string(), json!(v)))
                .collect(),
        );
        if let Value::Object(map) = &mut object {
            map.insert("files".into(), json!(sources.names()));
            map.insert(
                "versions".into(),
                json!(
                    model
                        .documents
                        .iter()
                        .map(|d| d.version.clone())
                        .collect::<Vec<_>>()
                ),
            );
            map.insert(
                "namespaces".into(),
                json!(model.schemas.keys().collect::<Vec<_>>()),
            );
            let largest: Vec<Value> = largest
                .iter()
                .map(|t| {
                    json!({
                        "name": t.name,
                        "properties": t.properties,
                        "navigation_properties": t.navigation_properties,
                    })
                })
                .collect();
            map.insert("largest_types".into(), json!(largest));
            map.insert(
                "warning_messages".into(),
                json!(
                    model
                        .warnings
                        .iter()
                        .map(|w| json!({
                            "location": sources.location(w.source_index, w.span.start),
                            "message": w.message,
                        }))
                        .collect::<Vec<_>>()
                ),
            );
        }
        return format!("{}\n", serde_json::to_string_pretty(&object).unwrap_or_default());
    }
    let mut out = String::new();
    let _ = writeln!(out, "files:      {}", sources.names().join(", "));
    let versions: Vec<&str> = model.documents.iter().map(|d| d.version.as_str()).collect();
    let _ = writeln!(out, "versions:   {}", versions.join(", "));
    for schema in model.schemas.values() {
        let alias = schema
            .alias
            .as_deref()
            .map(|a| format!(" (alias {a})"))
            .unwrap_or_default();
        let _ = writeln!(out, "namespace:  {}{alias}", schema.namespace);
    }
    if !model.external_namespaces.is_empty() {
        let external: Vec<&str> = model.external_namespaces.iter().map(String::as_str).collect();
        let _ = writeln!(out, "referenced: {}", external.join(", "));
    }
    let rows = [
        ("entity types", counts.entity_types),
        ("  abstract", counts.abstract_entity_types),
        ("  keyless", counts.keyless_entity_types),
        (
            "  company-specific (dataAreaId)",
            counts.company_specific_entity_types,
        ),
        ("complex types", counts.complex_types),
        ("enum types", counts.enum_types),
        ("type definitions", counts.type_definitions),
        ("terms", counts.terms),
        ("properties", counts.properties),
        ("  read-only", counts.read_only_properties),
        ("navigation properties", counts.navigation_properties),
        ("Dataverse lookups", counts.lookups),
        ("alternate keys", counts.alternate_keys),
        ("entity sets", counts.entity_sets),
        ("singletons", counts.singletons),
        ("navigation bindings", counts.navigation_property_bindings),
        ("actions (overloads)", counts.actions),
        ("functions (overloads)", counts.functions),
        ("action imports", counts.action_imports),
        ("function imports", counts.function_imports),
        ("option-set columns", counts.option_set_columns),
        ("warnings", counts.warnings),
    ];
    out.push('\n');
    for (label, value) in rows {
        let _ = writeln!(out, "{label:<34}{value:>8}");
    }
    if !largest.is_empty() {
        let _ = writeln!(
            out,
            "\nlargest types (properties incl. inherited / navigation properties):"
        );
        for t in largest {
            let _ = writeln!(
                out,
                "  {:>5} / {:<5} {}",
                t.properties, t.navigation_properties, t.name
            );
        }
    }
    out
}

/// Finds a type by qualified name, simple name or entity set name.
fn find(model: &Model, name: &str) -> Result<String, Report> {
    let exists = |n: &str| {
        model.entity_types.contains_key(n)
            || model.complex_types.contains_key(n)
            || model.enum_types.contains_key(n)
    };
    if exists(name) {
        return Ok(name.to_string());
    }
    if let Some(set) = model.entity_set(name) {
        return Ok(set.entity_type.clone());
    }
    let mut matches: Vec<&String> = model
        .entity_types
        .keys()
        .chain(model.complex_types.keys())
        .chain(model.enum_types.keys())
        .filter(|q| q.rsplit('.').next() == Some(name))
        .collect();
    matches.sort();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(super::plain_report(format!(
            "no entity, complex or enum type or entity set is named `{name}` (names are case-sensitive)"
        ))),
        many => Err(super::plain_report(format!(
            "`{name}` is ambiguous: {}; give the qualified name",
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn facets_text(facets: &Facets) -> String {
    facets.to_string()
}

fn expression_text(value: Option<&Expression>) -> String {
    match value {
        None => "(default)".into(),
        Some(Expression::Constant { value, .. }) => format!("{value:?}"),
        Some(Expression::Path { path, .. }) => format!("path {path}"),
        Some(Expression::Null) => "null".into(),
        Some(Expression::Collection(items)) => format!("collection of {}", items.len()),
        Some(Expression::Record(r)) => format!(
            "record {}{{{}}}",
            r.type_name.as_deref().unwrap_or(""),
            r.properties
                .iter()
                .map(|p| p.property.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(Expression::Dynamic(dynamic)) => format!("<{}>", dynamic.element),
    }
}

fn annotations_json(annotations: &Annotations) -> Value {
    json!(
        annotations
            .iter()
            .map(|a| json!({
                "term": &*a.term,
                "qualifier": a.qualifier,
                "value": expression_text(a.value.as_ref()),
            }))
            .collect::<Vec<_>>()
    )
}

fn property_json(property: &Property, declared_in: &str) -> Value {
    json!({
        "name": property.name,
        "type": property.type_ref.to_string(),
        "nullable": property.nullable,
        "facets": facets_text(&property.facets),
        "default_value": property.default_value,
        "read_only": property.read_only,
        "computed": property.computed,
        "immutable": property.immutable,
        "description": property.annotations.description(),
        "label_id": property.annotations.label_id(),
        "declared_in": declared_in,
        "annotations": annotations_json(&property.annotations),
    })
}

fn declaring_type<'m>(model: &'m Model, entity: &'m EntityType, property: &Property) -> &'m str {
    std::iter::once(entity.name.as_str())
        .chain(entity.ancestors.iter().map(String::as_str))
        .find(|t| {
            model
                .entity_types
                .get(*t)
                .is_some_and(|e| e.properties.iter().any(|p| std::ptr::eq(p, property)))
        })
        .unwrap_or(&entity.name)
}

fn entity_json(model: &Model, entity: &EntityType) -> Value {
    let properties: Vec<Value> = model
        .all_properties(entity)
        .into_iter()
        .map(|p| property_json(p, declaring_type(model, entity, p)))
        .collect();
    let navigations: Vec<Value> = model
        .all_navigation_properties(entity)
        .into_iter()
        .map(|n| {
            json!({
                "name": n.name,
                "target": n.target,
                "collection": n.collection,
                "nullable": n.nullable,
                "partner": n.partner,
                "contains_target": n.contains_target,
                "referential_constraints": n.referential_constraints,
            })
        })
        .collect();
    json!({
        "kind": "entity type",
        "name": entity.name,
        "base_type": entity.base_type,
        "ancestors": entity.ancestors,
        "abstract": entity.is_abstract,
        "open_type": entity.open_type,
        "has_stream": entity.has_stream,
        "key": entity.key.iter().map(|k| json!({"name": k.name, "alias": k.alias})).collect::<Vec<_>>(),
        "key_inherited": !entity.declares_key && !entity.key.is_empty(),
        "company_specific": entity.company_specific,
        "entity_sets": entity.entity_sets,
        "alternate_keys": entity.alternate_keys.iter().map(|k| k.parts.iter().map(|p| p.name.clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "lookups": entity.lookups.iter().map(|l| json!({
            "column": l.column,
            "targets": l.targets.iter().map(|t| json!({
                "navigation": t.navigation, "entity_type": t.entity_type, "entity_set": t.entity_set,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "description": entity.annotations.description(),
        "annotations": annotations_json(&entity.annotations),
        "properties": properties,
        "navigation_properties": navigations,
    })
}

/// One type in detail.
pub fn one_type(model: &Model, name: &str, as_json: bool) -> Result<String, Report> {
    let qualified = find(model, name)?;
    let value = if let Some(entity) = model.entity_types.get(&qualified) {
        entity_json(model, entity)
    } else if let Some(complex) = model.complex_types.get(&qualified) {
        json!({
            "kind": "complex type",
            "name": complex.name,
            "base_type": complex.base_type,
            "abstract": complex.is_abstract,
            "open_type": complex.open_type,
            "annotations": annotations_json(&complex.annotations),
            "properties": model.all_complex_properties(complex).into_iter().map(|p| property_json(p, &complex.name)).collect::<Vec<_>>(),
        })
    } else if let Some(enum_type) = model.enum_types.get(&qualified) {
        json!({
            "kind": "enum type",
            "name": enum_type.name,
            "underlying_type": enum_type.underlying_type.edm_name(),
            "is_flags": enum_type.is_flags,
            "annotations": annotations_json(&enum_type.annotations),
            "members": enum_type.members.iter().map(|m| json!({
                "name": m.name, "value": m.value, "label_id": m.annotations.label_id(),
            })).collect::<Vec<_>>(),
        })
    } else {
        return Err(super::plain_report(format!(
            "`{qualified}` is not an entity, complex or enum type"
        )));
    };
    if as_json {
        return Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        ));
    }
    Ok(type_text(model, &qualified, &value))
}

fn type_text(model: &Model, qualified: &str, value: &Value) -> String {
    let mut out = String::new();
    let kind = value["kind"].as_str().unwrap_or("type");
    let _ = writeln!(out, "{kind} {qualified}");
    let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    for field in ["base_type", "description", "underlying_type"] {
        if !value[field].is_null() {
            let _ = writeln!(out, "  {field}: {}", text(&value[field]));
        }
    }
    for flag in [
        "abstract",
        "open_type",
        "has_stream",
        "company_specific",
        "is_flags",
    ] {
        if value[flag].as_bool() == Some(true) {
            let _ = writeln!(out, "  {flag}");
        }
    }
    if let Some(key) = value["key"].as_array() {
        let parts: Vec<String> = key.iter().map(|k| text(&k["name"])).collect();
        let inherited = if value["key_inherited"].as_bool() == Some(true) {
            " (inherited)"
        } else {
            ""
        };
        let shown = if parts.is_empty() {
            "(none: keyless)".to_string()
        } else {
            parts.join(", ")
        };
        let _ = writeln!(out, "  key: {shown}{inherited}");
    }
    if let Some(sets) = value["entity_sets"].as_array().filter(|s| !s.is_empty()) {
        let _ = writeln!(
            out,
            "  entity sets: {}",
            sets.iter().map(text).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(keys) = value["alternate_keys"].as_array().filter(|s| !s.is_empty()) {
        for key in keys {
            let _ = writeln!(
                out,
                "  alternate key: {}",
                key.as_array()
                    .map(|p| p.iter().map(text).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            );
        }
    }
    if let Some(annotations) = value["annotations"].as_array().filter(|a| !a.is_empty()) {
        let _ = writeln!(out, "  annotations:");
        for a in annotations {
            let _ = writeln!(out, "    {} = {}", text(&a["term"]), text(&a["value"]));
        }
    }
    if let Some(properties) = value["properties"].as_array() {
        let _ = writeln!(out, "  properties ({}):", properties.len());
        for p in properties {
            let mut flags = Vec::new();
            if p["nullable"].as_bool() == Some(false) {
                flags.push("not null".to_string());
            }
            if p["read_only"].as_bool() == Some(true) {
                flags.push("read-only".into());
            }
            let facets = text(&p["facets"]);
            if !facets.is_empty() {
                flags.push(facets);
            }
            if p["declared_in"].as_str() != Some(qualified) {
                flags.push(format!("from {}", text(&p["declared_in"])));
            }
            if let Some(label) = p["label_id"].as_str() {
                flags.push(format!("label {label}"));
            }
            let _ = writeln!(
                out,
                "    {:<40} {:<28} {}",
                text(&p["name"]),
                text(&p["type"]),
                flags.join(", ")
            );
        }
    }
    if let Some(navigations) = value["navigation_properties"]
        .as_array()
        .filter(|n| !n.is_empty())
    {
        let _ = writeln!(out, "  navigation properties ({}):", navigations.len());
        for n in navigations {
            let target = text(&n["target"]);
            let shown = if n["collection"].as_bool() == Some(true) {
                format!("Collection({target})")
            } else {
                target
            };
            let _ = writeln!(out, "    {:<40} {}", text(&n["name"]), shown);
        }
    }
    if let Some(lookups) = value["lookups"].as_array().filter(|l| !l.is_empty()) {
        let _ = writeln!(out, "  lookups ({}):", lookups.len());
        for l in lookups {
            let targets: Vec<String> = l["targets"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .map(|t| {
                            format!(
                                "{} -> {}",
                                text(&t["navigation"]),
                                t["entity_set"].as_str().unwrap_or("?")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let _ = writeln!(out, "    {:<40} {}", text(&l["column"]), targets.join(", "));
        }
    }
    if let Some(members) = value["members"].as_array() {
        let _ = writeln!(out, "  members ({}):", members.len());
        for m in members {
            let _ = writeln!(out, "    {:<40} = {}", text(&m["name"]), m["value"]);
        }
    }
    let table = qualified.rsplit('.').next().unwrap_or(qualified);
    if let Some(sets) = model.option_sets.get(table) {
        let _ = writeln!(out, "  option sets ({}):", sets.columns.len());
        for (column, set) in &sets.columns {
            let labels: Vec<String> = set
                .options
                .iter()
                .map(|o| {
                    format!(
                        "{}={}",
                        o.value,
                        o.labels
                            .get(&1033)
                            .or_else(|| o.labels.values().next())
                            .map_or("", |s| s.as_str())
                    )
                })
                .collect();
            let scope = if set.is_global { "global" } else { "local" };
            let _ = writeln!(
                out,
                "    {column:<40} {} {scope}: {}",
                set.kind.name(),
                labels.join(", ")
            );
        }
    }
    out
}
