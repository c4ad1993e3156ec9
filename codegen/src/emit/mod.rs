//! The generator: model -> selection -> names -> `quote!` tokens -> `syn::File` -> prettyplease text.
//! Output is a module tree (one file per type, a `mod.rs` per service) or, with a crate name, a
//! complete crate (Cargo.toml, README.md, src/lib.rs). Deterministic: every walk is over ordered
//! maps, and no file carries a timestamp or version.

mod items;
pub mod text;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Model, OptionSet, OptionSetKind, Primitive, TypeKind};
use crate::naming::{self, Collision, Scope};
use crate::select::select;

pub use write::{LOCK_FILE, LOCK_WAIT, MARKER, Stale, WriteReport, check, write};

use items::Field;

/// What to generate and where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// With a crate name, the output is a crate (Cargo.toml, README.md, src/); without, a module tree.
    pub crate_name: Option<String>,
    /// The `dualsync` runtime's path as Cargo.toml should name it (relative to the output folder).
    pub runtime_path: Option<String>,
    /// Option-set label language (LCID); 1033 (English) by default.
    pub language: Option<u32>,
    /// Namespace -> module name overrides.
    pub services: BTreeMap<String, String>,
    /// `[codegen.rename]`.
    pub rename: BTreeMap<String, String>,
    /// Input file names, listed in the README.
    pub sources: Vec<String>,
}

/// A file to write, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: PathBuf,
    pub contents: String,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{} name collision(s):\n\n{}", .0.len(), .0.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("\n\n"))]
    Collisions(Vec<Collision>),
    #[error("internal error: generated code for {file} does not parse ({message}); please report it")]
    Unparsable { file: String, message: String },
    #[error("template: {0}")]
    Template(String),
    /// A selected type's base type chain is longer than [`MAX_INHERITANCE_DEPTH`]: every level repeats
    /// the inherited fields, so the output would grow with the square of the depth.
    #[error(
        "{kind} `{name}` has {depth} levels of base types; dualsync generates at most {MAX_INHERITANCE_DEPTH} (real documents have a handful): leave it out with --exclude or fix the metadata"
    )]
    TooDeep {
        kind: &'static str,
        name: String,
        depth: usize,
    },
    #[error("invalid crate name `{0}`: use ASCII letters, digits, `-` and `_`, starting with a letter")]
    CrateName(String),
}

/// The deepest base type chain (entity or complex type) that `generate` accepts. The deepest in the
/// corpus of real documents is 4.
pub const MAX_INHERITANCE_DEPTH: usize = 32;

/// Naming decisions: where every generated type lives.
pub struct Plan {
    /// Qualified type name -> (service module, Rust type name, file module).
    types: BTreeMap<String, (String, String, String)>,
    definitions: BTreeMap<String, Primitive>,
}

impl Plan {
    /// The path of a generated type as seen from a file of service module `from`.
    pub fn path_to(&self, from: &str, qualified: &str) -> Option<TokenStream> {
        let (service, rust, _) = self.types.get(qualified)?;
        let rust = items::ident(rust);
        if service == from {
            Some(quote! { super::#rust })
        } else {
            let service = items::ident(service);
            Some(quote! { super::super::#service::#rust })
        }
    }

    /// The underlying primitive of a type definition.
    pub fn definition_primitive(&self, qualified: &str) -> Option<Primitive> {
        self.definitions.get(qualified).copied()
    }
}

/// The module of a namespace: configured, `dataverse` / `fo` for the two services, else the module
/// name ([`naming::module`]) of its last segment (`Microsoft.OData.SampleService.Models.TripPin` ->
/// `trip_pin`). Two namespaces never share a module: `generate` reports a collision instead.
pub fn service_module(options: &Options, namespace: &str) -> String {
    match options.services.get(namespace) {
        Some(module) => naming::module(module),
        None => naming::module(default_service_module(namespace)),
    }
}

fn default_service_module(namespace: &str) -> &str {
    match namespace {
        "Microsoft.Dynamics.CRM" => "dataverse",
        "Microsoft.Dynamics.DataEntities" => "fo",
        other => other.rsplit('.').next().unwrap_or(other),
    }
}

/// Complex-type fields that must be boxed: a non-collection property whose complex type leads back
/// to the type that holds it (directly, or through other complex types), which would otherwise have
/// an infinite size. Returns (holder, property) pairs.
fn boxed_fields(model: &Model, complex_types: &BTreeSet<String>) -> BTreeSet<(String, String)> {
    let names: Vec<&String> = complex_types.iter().collect();
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    let mut edges: Vec<Vec<(usize, &str)>> = vec![Vec::new(); names.len()];
    for (i, name) in names.iter().enumerate() {
        let Some(complex) = model.complex_types.get(*name) else {
            continue;
        };
        for property in model.all_complex_properties(complex) {
            if let TypeKind::Complex(target) = &property.type_ref.kind
                && !property.type_ref.collection
                && let Some(&j) = index.get(target.as_str())
            {
                edges[i].push((j, property.name.as_str()));
            }
        }
    }
    let component = strongly_connected(&edges);
    let mut fields = BTreeSet::new();
    for (i, out) in edges.iter().enumerate() {
        for &(j, property) in out {
            if component[i] == component[j] {
                fields.insert((names[i].clone(), property.to_string()));
            }
        }
    }
    fields
}

/// The strongly connected component of every node (Tarjan, iterative).
fn strongly_connected(edges: &[Vec<(usize, &str)>]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = edges.len();
    let (mut index, mut low, mut component) = (vec![NONE; n], vec![0; n], vec![NONE; n]);
    let (mut on_stack, mut stack) = (vec![false; n], Vec::new());
    let (mut next_index, mut next_component) = (0, 0);
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        let mut calls: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = calls.last_mut() {
            if let Some(&(w, _)) = edges[v].get(*edge) {
                *edge += 1;
                if index[w] == NONE {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

/// Whether `name` is a valid Cargo package name.
fn valid_crate_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A choice column that becomes an enum.
struct OptionEnum<'m> {
    rust: String,
    table: String,
    set: &'m OptionSet,
    variants: Vec<String>,
}

/// Generates every file for `model`.
pub fn generate(model: &Model, options: &Options) -> Result<Vec<GeneratedFile>, GenerateError> {
    if let Some(name) = &options.crate_name
        && !valid_crate_name(name)
    {
        return Err(GenerateError::CrateName(name.clone()));
    }
    let selection = select(model, &options.include, &options.exclude);
    for (kind, name, depth) in selection
        .entity_types
        .iter()
        .filter_map(|n| {
            model
                .entity_types
                .get(n)
                .map(|e| ("entity type", n, e.ancestors.len()))
        })
        .chain(selection.complex_types.iter().filter_map(|n| {
            model
                .complex_types
                .get(n)
                .map(|c| ("complex type", n, c.ancestors.len()))
        }))
    {
        if depth > MAX_INHERITANCE_DEPTH {
            return Err(GenerateError::TooDeep {
                kind,
                name: name.clone(),
                depth,
            });
        }
    }
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
    let mut scopes: BTreeMap<String, Scope<'_>> = BTreeMap::new();
    let mut file_scopes: BTreeMap<String, Scope<'_>> = BTreeMap::new();
    let mut namespaces: BTreeMap<String, String> = BTreeMap::new();
    for name in selection
        .entity_types
        .iter()
        .chain(&selection.complex_types)
        .chain(&selection.enum_types)
    {
        let (namespace, simple) = name.rsplit_once('.').unwrap_or(("", name));
        let Some(service) = service_of.get(namespace).cloned() else {
            continue;
        };
        namespaces
            .entry(service.clone())
            .or_insert_with(|| namespace.to_string());
        let scope = scopes
            .entry(service.clone())
            .or_insert_with(|| Scope::new("type", &options.rename));
        let rust = match scope.name(name, name, simple, naming::pascal) {
            Ok(rust) => rust,
            Err(collision) => {
                collisions.push(*collision);
                continue;
            }
        };
        let files = file_scopes
            .entry(service.clone())
            .or_insert_with(|| Scope::new("file module", &options.rename));
        match files.name(name, name, &rust, naming::module) {
            Ok(file) => {
                plan.types.insert(name.clone(), (service, rust, file));
            }
            Err(collision) => collisions.push(*collision),
        }
    }
    // Dataverse choice columns of the selected tables become enums in the table's module.
    let mut option_enums: BTreeMap<(String, String), OptionEnum<'_>> = BTreeMap::new();
    for name in &selection.entity_types {
        let Some(entity) = model.entity_types.get(name) else {
            continue;
        };
        let Some(table) = model.option_sets.get(&entity.simple_name) else {
            continue;
        };
        let Some(service) = service_of.get(&entity.namespace).cloned() else {
            continue;
        };
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
            let key = format!("{name}/{column}#options");
            let scope = scopes
                .entry(service.clone())
                .or_insert_with(|| Scope::new("type", &options.rename));
            let wire = format!("{}_{column}", entity.simple_name);
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
            let mut variants = Scope::new("option", &options.rename);
            variants.reserve("Unknown", "the fallback variant for options added later");
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
                let source = format!("option {} ({label:?}) of {name}/{column}", option.value);
                match variants.name(
                    &format!("{name}/{column}/{}", option.value),
                    &source,
                    &wire,
                    naming::pascal,
                ) {
                    Ok(v) => names.push(v),
                    Err(collision) => collisions.push(*collision),
                }
            }
            option_enums.insert(
                (name.clone(), column.clone()),
                OptionEnum {
                    rust,
                    table: entity.simple_name.clone(),
                    set,
                    variants: names,
                },
            );
        }
    }

    let mut files = Vec::new();
    let mut modules: BTreeMap<String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for (qualified, (service, rust, file)) in &plan.types {
        let mut exports = vec![rust.clone()];
        let tokens = if let Some(entity) = model.entity_types.get(qualified)
            && selection.entity_types.contains(qualified)
        {
            let (fields, open) = fields_of(
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
                    (key, lookup)
                },
            );
            let mut tokens = items::entity(&plan, service, rust, entity, &fields, open.as_deref());
            for ((table, _), option) in &option_enums {
                if table == qualified {
                    tokens.extend(items::option_set(
                        &option.rust,
                        &option.table,
                        option.set,
                        &option.variants,
                        language,
                    ));
                    exports.push(option.rust.clone());
                }
            }
            tokens
        } else if let Some(complex) = model.complex_types.get(qualified) {
            let (fields, open) = fields_of(
                &options.rename,
                qualified,
                model.all_complex_properties(complex),
                complex.open_type,
                &option_enums,
                &boxed_fields,
                &mut collisions,
                |_| (false, Vec::new()),
            );
            items::complex(&plan, service, rust, complex, &fields, open.as_deref())
        } else if let Some(enum_type) = model.enum_types.get(qualified) {
            let mut variants = Scope::new("enum member", &options.rename);
            variants.reserve("Unrecognized", "the fallback variant for members added later");
            let mut names = Vec::new();
            for member in &enum_type.members {
                let key = format!("{qualified}/{}", member.name);
                match variants.name(&key, &key, &member.name, naming::pascal) {
                    Ok(v) => names.push(v),
                    Err(collision) => collisions.push(*collision),
                }
            }
            if names.len() != enum_type.members.len() {
                continue;
            }
            items::enumeration(rust, enum_type, &names)
        } else {
            continue;
        };
        files.push(GeneratedFile {
            path: PathBuf::from(service).join(format!("{file}.rs")),
            contents: render(&format!("{service}/{file}.rs"), tokens)?,
        });
        modules
            .entry(service.clone())
            .or_default()
            .push((file.clone(), exports));
    }
    if !collisions.is_empty() {
        return Err(GenerateError::Collisions(collisions));
    }
    for (service, entries) in &modules {
        let namespace = namespaces.get(service).cloned().unwrap_or_default();
        let doc = format!(" Types of namespace `{namespace}`.");
        let mods = entries.iter().map(|(file, _)| items::module_ident(file));
        let uses = entries.iter().map(|(file, exports)| {
            let file = items::module_ident(file);
            let exports = exports.iter().map(|e| items::ident(e));
            quote! { pub use #file::{#(#exports),*}; }
        });
        let tokens = quote! {
            #![doc = #doc]
            #( pub mod #mods; )*
            #( #uses )*
        };
        files.push(GeneratedFile {
            path: PathBuf::from(service).join("mod.rs"),
            contents: render(&format!("{service}/mod.rs"), tokens)?,
        });
    }
    // `rustfmt::skip` keeps `cargo fmt` out of the generated tree: its layout is prettyplease's, and
    // `generate --check` compares bytes.
    let services = modules.keys().map(|s| items::module_ident(s));
    let root_doc = " Typed bindings generated by `dualsync-codegen` (see README.md).";
    let root = quote! {
        #![doc = #root_doc]
        #( #[rustfmt::skip] pub mod #services; )*
    };
    let root_name = if options.crate_name.is_some() {
        "lib.rs"
    } else {
        "mod.rs"
    };
    files.push(GeneratedFile {
        path: PathBuf::from(root_name),
        contents: render(root_name, root)?,
    });
    if let Some(crate_name) = &options.crate_name {
        for file in &mut files {
            file.path = PathBuf::from("src").join(&file.path);
        }
        let runtime = options
            .runtime_path
            .clone()
            .unwrap_or_else(|| "../runtime".into());
        files.push(GeneratedFile {
            path: PathBuf::from("Cargo.toml"),
            contents: text::cargo_toml(crate_name, &runtime.replace('\\', "/"))
                .map_err(GenerateError::Template)?,
        });
        let sections: Vec<text::ServiceSection> = modules
            .keys()
            .map(|service| text::ServiceSection {
                module: service.clone(),
                namespace: namespaces.get(service).cloned().unwrap_or_default(),
                entities: plan
                    .types
                    .iter()
                    .filter(|(q, (s, _, _))| s == service && selection.entity_types.contains(*q))
                    .filter_map(|(q, (_, rust, _))| {
                        let e = model.entity_types.get(q)?;
                        Some(text::EntityRow {
                            rust: rust.clone(),
                            set: e.entity_sets.first().cloned(),
                            key: e
                                .key
                                .iter()
                                .map(|k| format!("`{}`", k.name))
                                .collect::<Vec<_>>()
                                .join(", "),
                            columns: model.all_properties(e).len(),
                        })
                    })
                    .collect(),
            })
            .collect();
        files.push(GeneratedFile {
            path: PathBuf::from("README.md"),
            contents: text::readme(crate_name, &options.sources, &sections)
                .map_err(GenerateError::Template)?,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
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
    extra: impl Fn(&crate::model::Property) -> (bool, Vec<(String, String, Option<String>)>),
) -> (Vec<Field>, Option<String>) {
    let mut scope = Scope::new("field", renames);
    let open_field = open.then(|| "additional_properties".to_string());
    if let Some(f) = &open_field {
        scope.reserve(f, "the map of undeclared properties of an open type");
    }
    let mut fields = Vec::new();
    for property in properties {
        let key = format!("{qualified}/{}", property.name);
        let rust_name = match scope.name(&key, &key, &property.name, naming::snake) {
            Ok(n) => n,
            Err(c) => {
                collisions.push(*c);
                continue;
            }
        };
        let (is_key, lookup) = extra(property);
        let option_set = option_enums
            .get(&(qualified.to_string(), property.name.clone()))
            .filter(|_| {
                matches!(
                    property.type_ref.kind,
                    TypeKind::Primitive(Primitive::Int32 | Primitive::Int16 | Primitive::Int64)
                ) && !property.type_ref.collection
            })
            .map(|o| (o.set.name.clone().unwrap_or_default(), o.rust.clone()));
        let boxed = boxed.contains(&(qualified.to_string(), property.name.clone()));
        fields.push(Field {
            rust_name,
            boxed,
            property: property.clone(),
            key: is_key,
            option_set,
            lookup,
        });
    }
    (fields, open_field)
}

/// Tokens -> `syn::File` -> prettyplease text with the `@generated` header.
fn render(file: &str, tokens: TokenStream) -> Result<String, GenerateError> {
    let parsed: syn::File = syn::parse2(tokens).map_err(|e| GenerateError::Unparsable {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut text = format!("{}{}", text::HEADER, prettyplease::unparse(&parsed));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}
