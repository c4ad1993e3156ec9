//! The naming stage: `select -> names -> emit`. Every Rust name the generator writes is decided here,
//! once, from the selection and the model: service modules, types and their files (per service and
//! kind, so an entity type and a complex type never collide), option-set enums (shared for a global
//! option set), enum variants and struct fields, each with the wire name it stands for. Every
//! collision is resolved (renames, fallbacks that step aside) or reported, all at once; rendering
//! (`emit`) only reads the resulting [`Names`].

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Model, OptionSetKind, Primitive, TypeKind};
use crate::naming::{self, Collision, Scope};
use crate::select::Selection;

use super::items::Field;
use super::{
    GenerateError, Kind, OptionEnum, Options, Place, Plan, boxed_fields, default_service_module,
    fallback_variant,
};

/// The typed plan rendering follows: where every type goes and what everything is called.
pub(super) struct Names<'m> {
    /// Service module -> namespace.
    pub namespaces: BTreeMap<String, String>,
    /// Types: service, kind, Rust name, file.
    pub plan: Plan,
    /// (table, column) -> the option-set enum of a Dataverse choice column.
    pub option_enums: BTreeMap<(String, String), OptionEnum<'m>>,
    /// Plan key (`dataverse#optionset/<name>`) -> a global option set's enum, in the `enums` module.
    pub global_option_sets: BTreeMap<String, OptionEnum<'m>>,
    /// Entity and complex type -> its fields and the open type's field of undeclared properties.
    pub structs: BTreeMap<String, (Vec<Field>, Option<String>)>,
    /// Enum type -> its variants (in member order) and the fallback variant.
    pub enums: BTreeMap<String, (Vec<String>, String)>,
}

/// Names everything the selection generates, or every collision the names would have.
pub(super) fn names<'m>(
    model: &'m Model,
    selection: &Selection,
    options: &Options,
) -> Result<Names<'m>, GenerateError> {
    let language = options.language.unwrap_or(1033);
    let mut collisions = Vec::new();
    // One module per namespace, never shared: two namespaces that would get one module collide.
    let mut service_of: BTreeMap<String, String> = BTreeMap::new();
    {
        let mut module_scope = naming::Scope::in_section("module", "services", &options.services);
        let namespaces: BTreeSet<&str> = selection
            .entity_types
            .iter()
            .chain(&selection.complex_types)
            .chain(&selection.enum_types)
            .map(|name| name.rsplit_once('.').map_or("", |(ns, _)| ns))
            .collect();
        for namespace in namespaces {
            match module_scope.name(
                namespace,
                &format!("namespace {namespace}"),
                default_service_module(namespace),
                naming::module,
            ) {
                Ok(module) => {
                    service_of.insert(namespace.to_string(), module);
                }
                Err(collision) => collisions.push(*collision),
            }
        }
    }
    let boxed_fields = boxed_fields(model, &selection.complex_types);
    let mut plan = Plan {
        types: BTreeMap::new(),
        definitions: model
            .type_definitions
            .iter()
            .map(|(n, d)| (n.clone(), d.underlying_type))
            .collect(),
    };
    // Types are named per service and kind: an entity type and a complex type never collide.
    let mut scopes: BTreeMap<(String, Kind), Scope<'_>> = BTreeMap::new();
    let mut file_scopes: BTreeMap<(String, Kind), Scope<'_>> = BTreeMap::new();
    let mut namespaces: BTreeMap<String, String> = BTreeMap::new();
    let kinds = [
        (Kind::Entity, &selection.entity_types),
        (Kind::Complex, &selection.complex_types),
        (Kind::Enum, &selection.enum_types),
    ];
    for (kind, names) in kinds {
        for name in names {
            let (namespace, simple) = name.rsplit_once('.').unwrap_or(("", name));
            let Some(service) = service_of.get(namespace).cloned() else {
                continue;
            };
            namespaces
                .entry(service.clone())
                .or_insert_with(|| namespace.to_string());
            let scope = scopes
                .entry((service.clone(), kind))
                .or_insert_with(|| Scope::new(kind.what(), &options.rename));
            // A Dataverse table named by its entity metadata's SchemaName (`TransactionCurrency`).
            let schema = (kind == Kind::Entity)
                .then(|| model.option_sets.get(simple))
                .flatten()
                .and_then(|t| t.schema_name.as_deref())
                .filter(|schema| schema.eq_ignore_ascii_case(simple));
            let rust = match scope.name(name, name, schema.unwrap_or(simple), naming::pascal) {
                Ok(rust) => rust,
                Err(collision) => {
                    collisions.push(*collision);
                    continue;
                }
            };
            let files = file_scopes
                .entry((service.clone(), kind))
                .or_insert_with(|| Scope::new("file module", &options.rename));
            match files.name(name, name, &rust, naming::module) {
                Ok(file) => {
                    plan.types.insert(
                        name.clone(),
                        Place {
                            service,
                            kind,
                            rust,
                            file,
                        },
                    );
                }
                Err(collision) => collisions.push(*collision),
            }
        }
    }
    // Dataverse choice columns of the selected tables become enums in the table's module.
    let mut option_enums: BTreeMap<(String, String), OptionEnum<'_>> = BTreeMap::new();
    let mut option_scopes: BTreeMap<String, Scope<'_>> = BTreeMap::new();
    // (service, global option set name) -> the enum's name; the enums themselves by plan key.
    let mut global_enums: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut global_option_sets: BTreeMap<String, OptionEnum<'_>> = BTreeMap::new();
    for name in &selection.entity_types {
        let Some(entity) = model.entity_types.get(name) else {
            continue;
        };
        let Some(table) = model.option_sets.get(&entity.simple_name) else {
            continue;
        };
        if !service_of.contains_key(&entity.namespace) {
            continue;
        }
        for (column, set) in &table.columns {
            if !matches!(
                set.kind,
                OptionSetKind::Picklist
                    | OptionSetKind::MultiSelectPicklist
                    | OptionSetKind::State
                    | OptionSetKind::Status
            ) || set.options.is_empty()
                || !model.all_properties(entity).iter().any(|p| &p.name == column)
            {
                continue;
            }
            // A global option set is one enum in the service's `enums` module, named after the
            // option set (in the scope of the service's enum types), used by every column that uses
            // it: `super::enums::Name` from a table's file.
            let global = set.name.as_ref().filter(|_| set.is_global).map(|g| {
                (
                    service_of.get(&entity.namespace).cloned().unwrap_or_default(),
                    g.clone(),
                )
            });
            if let Some(global) = &global
                && !global_enums.contains_key(global)
            {
                let (service, global_name) = global;
                let plan_key = format!("{service}#optionset/{global_name}");
                let scope = scopes
                    .entry((service.clone(), Kind::Enum))
                    .or_insert_with(|| Scope::new(Kind::Enum.what(), &options.rename));
                let rust = match scope.name(
                    &plan_key,
                    &format!("global option set {global_name}"),
                    global_name,
                    naming::pascal,
                ) {
                    Ok(rust) => rust,
                    Err(collision) => {
                        collisions.push(*collision);
                        continue;
                    }
                };
                let files = file_scopes
                    .entry((service.clone(), Kind::Enum))
                    .or_insert_with(|| Scope::new("file module", &options.rename));
                let file = match files.name(&plan_key, &plan_key, &rust, naming::module) {
                    Ok(file) => file,
                    Err(collision) => {
                        collisions.push(*collision);
                        continue;
                    }
                };
                let variants = option_variants(set, language, &plan_key, &options.rename, &mut collisions);
                plan.types.insert(
                    plan_key.clone(),
                    Place {
                        service: service.clone(),
                        kind: Kind::Enum,
                        rust: rust.clone(),
                        file,
                    },
                );
                global_option_sets.insert(
                    plan_key,
                    OptionEnum {
                        rust: rust.clone(),
                        global: true,
                        table: entity.simple_name.clone(),
                        set,
                        fallback: fallback_variant("Unknown", &variants),
                        variants,
                    },
                );
                global_enums.insert(global.clone(), rust);
            }
            if let Some(global) = &global {
                let Some(rust) = global_enums.get(global) else {
                    continue;
                };
                option_enums.insert(
                    (name.clone(), column.clone()),
                    OptionEnum {
                        rust: rust.clone(),
                        global: true,
                        table: entity.simple_name.clone(),
                        set,
                        fallback: String::new(),
                        variants: Vec::new(),
                    },
                );
                continue;
            }
            let key = format!("{name}/{column}#options");
            // An option-set enum lives in its table's file, named apart from that file's types only.
            let scope = option_scopes.entry(name.clone()).or_insert_with(|| {
                let mut scope = Scope::new("type", &options.rename);
                if let Some(place) = plan.types.get(name) {
                    scope.reserve(&place.rust, name);
                }
                scope
            });
            // Named after the table and the column: their SchemaNames when entity metadata gives them
            // (`AccountCustomerTypeCode`), else their logical names (`AccountCustomertypecode`).
            let table_name = table
                .schema_name
                .as_deref()
                .filter(|schema| schema.eq_ignore_ascii_case(&entity.simple_name))
                .unwrap_or(&entity.simple_name);
            let column_name = table
                .attributes
                .get(column)
                .and_then(|f| f.schema_name.as_deref())
                .filter(|schema| schema.eq_ignore_ascii_case(column))
                .unwrap_or(column);
            let wire = format!("{table_name}_{column_name}");
            let rust = match scope.name(
                &key,
                &format!("option set of {name}/{column}"),
                &wire,
                naming::pascal,
            ) {
                Ok(rust) => rust,
                Err(collision) => {
                    collisions.push(*collision);
                    continue;
                }
            };
            let names = option_variants(
                set,
                language,
                &format!("{name}/{column}"),
                &options.rename,
                &mut collisions,
            );
            option_enums.insert(
                (name.clone(), column.clone()),
                OptionEnum {
                    rust,
                    global: false,
                    table: entity.simple_name.clone(),
                    set,
                    fallback: fallback_variant("Unknown", &names),
                    variants: names,
                },
            );
        }
    }

    // Every struct's fields and every enum's variants.
    let mut structs: BTreeMap<String, (Vec<Field>, Option<String>)> = BTreeMap::new();
    let mut enums: BTreeMap<String, (Vec<String>, String)> = BTreeMap::new();
    for qualified in plan.types.keys() {
        if let Some(entity) = model.entity_types.get(qualified)
            && selection.entity_types.contains(qualified)
        {
            let fields = fields_of(
                &options.rename,
                qualified,
                model.all_properties(entity),
                entity.open_type,
                &option_enums,
                &BTreeSet::new(),
                &mut collisions,
                |p| {
                    let key = entity
                        .key
                        .iter()
                        .any(|k| k.name.split('/').next() == Some(p.name.as_str()));
                    let lookup = entity
                        .lookups
                        .iter()
                        .find(|l| l.column == p.name)
                        .map(|l| {
                            l.targets
                                .iter()
                                .map(|t| (t.navigation.clone(), t.entity_type.clone(), t.entity_set.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let facts = model.attribute_facts(&entity.simple_name, &p.name).cloned();
                    let lookup = polymorphic_targets(model, p, lookup, facts.as_ref());
                    (key, lookup, facts)
                },
            );
            structs.insert(qualified.clone(), fields);
        } else if let Some(complex) = model.complex_types.get(qualified) {
            let fields = fields_of(
                &options.rename,
                qualified,
                model.all_complex_properties(complex),
                complex.open_type,
                &option_enums,
                &boxed_fields,
                &mut collisions,
                |_| (false, Vec::new(), None),
            );
            structs.insert(qualified.clone(), fields);
        } else if let Some(enum_type) = model.enum_types.get(qualified) {
            let mut variants = Scope::new("enum member", &options.rename);
            let mut names = Vec::new();
            for member in &enum_type.members {
                let key = format!("{qualified}/{}", member.name);
                match variants.name(&key, &key, &member.name, naming::pascal) {
                    Ok(v) => names.push(v),
                    Err(collision) => collisions.push(*collision),
                }
            }
            if names.len() == enum_type.members.len() {
                let fallback = fallback_variant("Unrecognized", &names);
                enums.insert(qualified.clone(), (names, fallback));
            }
        }
    }
    if !collisions.is_empty() {
        return Err(GenerateError::Collisions(collisions));
    }
    Ok(Names {
        namespaces,
        plan,
        option_enums,
        global_option_sets,
        structs,
        enums,
    })
}

/// An option set's variants, named from its labels in `language` (`V<value>` for an empty label);
/// `key` names the set in collisions (`account/customertypecode`).
fn option_variants(
    set: &crate::model::OptionSet,
    language: u32,
    key: &str,
    renames: &BTreeMap<String, String>,
    collisions: &mut Vec<Collision>,
) -> Vec<String> {
    let mut variants = Scope::new("option", renames);
    let mut names = Vec::new();
    for option in &set.options {
        let label = option
            .labels
            .get(&language)
            .or_else(|| option.labels.values().next())
            .cloned()
            .unwrap_or_default();
        let wire = if label.trim().is_empty() {
            format!("V{}", option.value)
        } else {
            label.clone()
        };
        let source = format!("option {} ({label:?}) of {key}", option.value);
        match variants.name(&format!("{key}/{}", option.value), &source, &wire, naming::pascal) {
            Ok(v) => names.push(v),
            Err(collision) => collisions.push(*collision),
        }
    }
    names
}

/// A Dataverse lookup's targets, completed from entity metadata: `$metadata` gives an `Owner` column
/// one abstract target (`principal`), entity metadata its tables (`systemuser`, `team`), each bound
/// through the column's navigation property. A target table the model does not have (no entity set
/// to bind to) is left out.
fn polymorphic_targets(
    model: &crate::model::Model,
    property: &crate::model::Property,
    mut lookup: Vec<(String, String, Option<String>)>,
    facts: Option<&crate::model::AttributeFacts>,
) -> Vec<(String, String, Option<String>)> {
    let Some(facts) = facts.filter(|f| f.targets.len() > 1) else {
        return lookup;
    };
    let navigation = lookup.first().map(|(nav, _, _)| nav.clone()).or_else(|| {
        let name = property.name.strip_prefix('_')?.strip_suffix("_value")?;
        Some(name.to_string())
    });
    let Some(navigation) = navigation else {
        return lookup;
    };
    for target in &facts.targets {
        let Some((qualified, entity)) = model
            .entity_types
            .iter()
            .find(|(_, e)| e.simple_name == *target && e.namespace == "Microsoft.Dynamics.CRM")
        else {
            continue;
        };
        if lookup.iter().any(|(_, t, _)| t == qualified) {
            continue;
        }
        let Some(set) = entity.entity_sets.first() else {
            continue;
        };
        lookup.push((navigation.clone(), qualified.clone(), Some(set.clone())));
    }
    lookup
}

/// Fields of a struct: names checked for collisions, option-set enums linked, recursive fields boxed.
#[allow(clippy::too_many_arguments)]
fn fields_of(
    renames: &BTreeMap<String, String>,
    qualified: &str,
    properties: Vec<&crate::model::Property>,
    open: bool,
    option_enums: &BTreeMap<(String, String), OptionEnum<'_>>,
    boxed: &BTreeSet<(String, String)>,
    collisions: &mut Vec<Collision>,
    extra: impl Fn(
        &crate::model::Property,
    ) -> (
        bool,
        Vec<(String, String, Option<String>)>,
        Option<crate::model::AttributeFacts>,
    ),
) -> (Vec<Field>, Option<String>) {
    let mut scope = Scope::new("field", renames);
    let open_field = open.then(|| "additional_properties".to_string());
    if let Some(f) = &open_field {
        scope.reserve(f, "the map of undeclared properties of an open type");
    }
    let mut fields = Vec::new();
    for property in properties {
        let key = format!("{qualified}/{}", property.name);
        let (is_key, lookup, facts) = extra(property);
        // Dataverse entity metadata's SchemaName (`OpenRevenue`) splits the logical name into words;
        // a lookup's `_x_value` column keeps its shape (`_parentcustomerid_value` ->
        // `parent_customer_id_value`).
        let source = match facts.as_ref().and_then(|f| f.schema_name.as_deref()) {
            Some(schema) if property.name.starts_with('_') && property.name.ends_with("_value") => {
                format!("{schema}_value")
            }
            Some(schema) if schema.eq_ignore_ascii_case(&property.name) => schema.to_string(),
            _ => property.name.clone(),
        };
        let rust_name = match scope.name(&key, &key, &source, naming::snake) {
            Ok(n) => n,
            Err(c) => {
                collisions.push(*c);
                continue;
            }
        };
        let option_set = option_enums
            .get(&(qualified.to_string(), property.name.clone()))
            .filter(|_| {
                matches!(
                    property.type_ref.kind,
                    TypeKind::Primitive(Primitive::Int32 | Primitive::Int16 | Primitive::Int64)
                ) && !property.type_ref.collection
            })
            .map(|o| {
                let rust = if o.global {
                    format!("super::{}::{}", super::ENUM_MODULE, o.rust)
                } else {
                    o.rust.clone()
                };
                (o.set.name.clone().unwrap_or_default(), rust)
            });
        let boxed = boxed.contains(&(qualified.to_string(), property.name.clone()));
        fields.push(Field {
            rust_name,
            boxed,
            property: property.clone(),
            key: is_key,
            option_set,
            lookup,
            facts,
        });
    }
    (fields, open_field)
}
