//! The generator: model -> selection -> names -> `quote!` tokens -> `syn::File` -> prettyplease text.
//! Output is a module tree (one file per type, a `mod.rs` per service) or, with a crate name, a
//! complete crate (Cargo.toml, README.md, src/lib.rs). Deterministic: every walk is over ordered
//! maps, and no file carries a timestamp or version.

mod items;
mod maps;
mod names;
pub mod text;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Model, OptionSet, Primitive, TypeKind};
use crate::naming::{self, Collision};
use crate::select::select;

pub use write::{LOCK_FILE, LOCK_WAIT, MARKER, Stale, WriteReport, check, write};

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
    /// Map files (`[codegen] maps`), generated into the `maps` module.
    pub maps: Vec<crate::mapfile::Parsed>,
    /// Crate mode: a service with more entity types than this is split into crates of at most this
    /// many entities (and one crate of its enum and complex types) under `parts/`, which the
    /// generated crate depends on and re-exports; `Some(0)` never splits. Default
    /// [`ENTITIES_PER_CRATE`].
    pub entities_per_crate: Option<usize>,
}

/// Entity types per crate when a service is split (see [`Options::entities_per_crate`]): a whole
/// F&O (3,868 entity types) becomes 7 crates that `cargo` checks two at a time (BENCHMARKS.md).
pub const ENTITIES_PER_CRATE: usize = 600;

/// One crate a split service's code moved to (`parts/<name>`).
struct PartCrate {
    name: String,
    /// The other part crates it depends on (the service's types crate).
    deps: Vec<String>,
    /// Its `src/lib.rs`.
    lib: String,
}

/// The module that holds the table maps generated from map files.
pub const MAPS_MODULE: &str = "maps";

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
    /// Map files that name what the metadata does not have (each error at its file, line and column).
    #[error("{} error(s) in map files:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    MapFiles(Vec<crate::mapfile::Diagnostic>),
}

/// The deepest base type chain (entity or complex type) that `generate` accepts. The deepest in the
/// corpus of real documents is 4.
pub const MAX_INHERITANCE_DEPTH: usize = 32;

/// The kinds of generated type, each in a place of its own so that names of different kinds never
/// collide: entity types in the service module (`fo::CustomerV3`), complex types in its
/// [`COMPLEX_MODULE`] (`fo::complex::Address`), enum types in its [`ENUM_MODULE`] (`fo::enums::NoYes`).
/// The service module re-exports complex and enum types too, unless an entity type (or a Dataverse
/// option-set enum) there already has that exact name: `fo::NoYes` works, `dataverse::RelationshipAttribute`
/// (complex) and `dataverse::Relationshipattribute` (entity) both work, and when two would be the same
/// identifier the entity keeps the short path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Entity,
    Complex,
    Enum,
}

/// The submodule of a service module that holds its complex types.
pub const COMPLEX_MODULE: &str = "complex";
/// The submodule of a service module that holds its enum types.
pub const ENUM_MODULE: &str = "enums";

impl Kind {
    /// The submodule of the service module that holds this kind; entity types sit in the service module.
    pub fn submodule(self) -> Option<&'static str> {
        match self {
            Kind::Entity => None,
            Kind::Complex => Some(COMPLEX_MODULE),
            Kind::Enum => Some(ENUM_MODULE),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Entity => "entity type",
            Kind::Complex => "complex type",
            Kind::Enum => "enum type",
        }
    }

    /// The module a file of this kind is in, as `from` for [`Plan::path_to`]: `fo`, `fo/complex`.
    fn module_of(self, service: &str) -> String {
        match self.submodule() {
            Some(sub) => format!("{service}/{sub}"),
            None => service.to_string(),
        }
    }
}

/// A file module of a service (or of one of its kinds' submodules) and the types it exports.
type ModuleFile = (String, Vec<String>);

/// Where one generated type lives.
struct Place {
    service: String,
    kind: Kind,
    rust: String,
    file: String,
}

/// Naming decisions: where every generated type lives.
pub struct Plan {
    types: BTreeMap<String, Place>,
    definitions: BTreeMap<String, Primitive>,
}

impl Plan {
    /// The path of a generated type as seen from a file in module `from`: a service module (`fo`) or
    /// one of its submodules (`fo/complex`).
    pub fn path_to(&self, from: &str, qualified: &str) -> Option<TokenStream> {
        let place = self.types.get(qualified)?;
        let (from_service, from_sub) = match from.split_once('/') {
            Some((service, sub)) => (service, Some(sub)),
            None => (from, None),
        };
        let rust = items::ident(&place.rust);
        if place.service == from_service && place.kind.submodule() == from_sub {
            return Some(quote! { super::#rust });
        }
        // Up to the service module, across to another service when needed, down to the kind's module.
        let mut path = vec![quote! { super }];
        if from_sub.is_some() {
            path.push(quote! { super });
        }
        if place.service != from_service {
            let service = items::module_ident(&place.service);
            path.push(quote! { super });
            path.push(quote! { #service });
        }
        if let Some(sub) = place.kind.submodule() {
            let sub = items::module_ident(sub);
            path.push(quote! { #sub });
        }
        path.push(quote! { #rust });
        Some(quote! { #(#path)::* })
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
    /// A column of a global option set: the enum is the one in the service's `enums` module
    /// (`super::enums::Name`), not declared with the table.
    global: bool,
    table: String,
    set: &'m OptionSet,
    variants: Vec<String>,
    /// The variant for options added after generation (see [`fallback_variant`]).
    fallback: String,
}

/// The name of the variant the generator adds for values the metadata did not list: `word`, or
/// `word_` when a member is named `word` (compared as the naming scopes compare, in upper case).
/// [`naming::pascal`] ends a name with `_` only for keywords, so `word_` is never a member's name.
fn fallback_variant(word: &str, members: &[String]) -> String {
    if members.iter().any(|m| m.to_uppercase() == word.to_uppercase()) {
        format!("{word}_")
    } else {
        word.to_string()
    }
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
    let names::Names {
        namespaces,
        plan,
        option_enums,
        global_option_sets,
        structs,
        enums,
    } = names::names(model, &selection, options)?;
    let mut files = Vec::new();
    let mut modules: BTreeMap<(String, Kind), Vec<ModuleFile>> = BTreeMap::new();
    let mut field_names: maps::FieldNames = BTreeMap::new();
    for (qualified, place) in &plan.types {
        let Place {
            service,
            kind,
            rust,
            file,
        } = place;
        let from = kind.module_of(service);
        let mut exports = vec![rust.clone()];
        let tokens = if let Some(entity) = model.entity_types.get(qualified)
            && selection.entity_types.contains(qualified)
        {
            let Some((fields, open)) = structs.get(qualified) else {
                continue;
            };
            field_names.insert(
                qualified.clone(),
                fields
                    .iter()
                    .map(|f| (f.property.name.clone(), f.rust_name.clone()))
                    .collect(),
            );
            let mut tokens = items::entity(&plan, &from, rust, entity, fields, open.as_deref());
            for ((table, _), option) in &option_enums {
                if table == qualified && !option.global {
                    tokens.extend(items::option_set(
                        &option.rust,
                        &option.table,
                        option.set,
                        &option.variants,
                        &option.fallback,
                        language,
                    ));
                    exports.push(option.rust.clone());
                }
            }
            tokens
        } else if let Some(complex) = model.complex_types.get(qualified) {
            let Some((fields, open)) = structs.get(qualified) else {
                continue;
            };
            items::complex(&plan, &from, rust, complex, fields, open.as_deref())
        } else if let Some(enum_type) = model.enum_types.get(qualified) {
            let Some((variants, fallback)) = enums.get(qualified) else {
                continue;
            };
            items::enumeration(rust, enum_type, variants, fallback)
        } else if let Some(option) = global_option_sets.get(qualified) {
            items::option_set(
                &option.rust,
                &option.table,
                option.set,
                &option.variants,
                &option.fallback,
                language,
            )
        } else {
            continue;
        };
        let path = PathBuf::from(&from).join(format!("{file}.rs"));
        files.push(GeneratedFile {
            contents: render(&path.to_string_lossy().replace('\\', "/"), tokens)?,
            path,
        });
        modules
            .entry((service.clone(), *kind))
            .or_default()
            .push((file.clone(), exports));
    }
    let services: BTreeSet<&String> = modules.keys().map(|(service, _)| service).collect();
    let has_maps = !options.maps.is_empty();
    if has_maps {
        if services.iter().any(|s| s.as_str() == MAPS_MODULE) {
            return Err(GenerateError::Collisions(vec![Collision {
                what: "module",
                section: "services",
                rust: MAPS_MODULE.into(),
                first: "the table maps of the map files".into(),
                second: format!("a namespace whose module is `{MAPS_MODULE}`"),
                key: namespaces.get(MAPS_MODULE).cloned().unwrap_or_default(),
                suggestion: format!("{MAPS_MODULE}_"),
            }]));
        }
        files.extend(map_files(model, &plan, &field_names, &options.maps)?);
    }
    // Split services (crate mode): which generated files move to which part crate, and the crates.
    let mut relocate: Vec<(PathBuf, String)> = Vec::new();
    let mut parts: Vec<PartCrate> = Vec::new();
    for service in &services {
        let namespace = namespaces.get(*service).cloned().unwrap_or_default();
        let entities = modules.get(&((*service).clone(), Kind::Entity));
        let mut submodules = Vec::new();
        // Short paths from the service module: every entity type, then option-set enums, complex
        // and enum types whose exact name is still free.
        let mut taken: BTreeSet<&str> = entities
            .into_iter()
            .flatten()
            .filter_map(|(_, exports)| exports.first().map(String::as_str))
            .collect();
        let mut uses = Vec::new();
        let mut entity_uses = Vec::new();
        for (file, exports) in entities.into_iter().flatten() {
            let mut names = exports.iter().take(1).collect::<Vec<_>>();
            names.extend(exports.iter().skip(1).filter(|e| taken.insert(e.as_str())));
            let file_ident = items::module_ident(file);
            let names = names.into_iter().map(|e| items::ident(e));
            entity_uses.push((file.clone(), quote! { pub use #file_ident::{#(#names),*}; }));
        }
        for kind in [Kind::Complex, Kind::Enum] {
            let (Some(entries), Some(sub)) = (modules.get(&((*service).clone(), kind)), kind.submodule())
            else {
                continue;
            };
            let doc = format!(" The {}s of namespace `{namespace}`.", kind.what());
            let mods = entries.iter().map(|(file, _)| items::module_ident(file));
            let inner = entries.iter().map(|(file, exports)| {
                let file = items::module_ident(file);
                let exports = exports.iter().map(|e| items::ident(e));
                quote! { pub use #file::{#(#exports),*}; }
            });
            let tokens = quote! {
                #![doc = #doc]
                #( pub mod #mods; )*
                #( #inner )*
            };
            let path = PathBuf::from(service.as_str()).join(sub).join("mod.rs");
            files.push(GeneratedFile {
                contents: render(&format!("{service}/{sub}/mod.rs"), tokens)?,
                path,
            });
            let short: Vec<&String> = entries
                .iter()
                .flat_map(|(_, exports)| exports)
                .filter(|e| taken.insert(e.as_str()))
                .collect();
            let sub_ident = items::module_ident(sub);
            if !short.is_empty() {
                let short = short.into_iter().map(|e| items::ident(e));
                uses.push(quote! { pub use #sub_ident::{#(#short),*}; });
            }
            submodules.push(sub_ident);
        }
        let doc = format!(" Types of namespace `{namespace}`.");
        let entity_files: Vec<&String> = entities.into_iter().flatten().map(|(file, _)| file).collect();
        let per_crate = options.entities_per_crate.unwrap_or(ENTITIES_PER_CRATE);
        if let Some(crate_name) = &options.crate_name
            && per_crate > 0
            && entity_files.len() > per_crate
        {
            // A service too big for one crate: its enum and complex types in one crate, its
            // entities in crates of `per_crate`, and this module re-exporting them all.
            let types = format!("{crate_name}-{service}-types");
            let types_ident = items::module_ident(&types.replace('-', "_"));
            let service_ident = items::module_ident(service);
            let lib_doc = format!(" Part of `{crate_name}`: the types of namespace `{namespace}`.");
            // Every part crate's lib.rs is the same: the service's module.
            let part_lib = render(
                &format!("{types}/lib.rs"),
                quote! {
                    #![doc = #lib_doc]
                    #[rustfmt::skip] pub mod #service_ident;
                },
            )?;
            let part_mod_path = |name: &str| {
                PathBuf::from("parts")
                    .join(name)
                    .join("src")
                    .join(service.as_str())
                    .join("mod.rs")
            };
            let types_mod = quote! {
                #![doc = #doc]
                #( pub mod #submodules; )*
                #( #uses )*
            };
            files.push(GeneratedFile {
                path: part_mod_path(&types),
                contents: render(&format!("{types}/{service}/mod.rs"), types_mod)?,
            });
            for sub in &submodules {
                relocate.push((
                    PathBuf::from(service.as_str()).join(sub.to_string()),
                    types.clone(),
                ));
            }
            parts.push(PartCrate {
                name: types.clone(),
                deps: Vec::new(),
                lib: part_lib.clone(),
            });
            let mut globs = vec![quote! { pub use #types_ident::#service_ident::*; }];
            // `entity_uses` has one entry per entity file, in the same order.
            for (k, chunk) in entity_uses.chunks(per_crate).enumerate() {
                let name = format!("{crate_name}-{service}-{}", k + 1);
                let ident = items::module_ident(&name.replace('-', "_"));
                let mods = chunk.iter().map(|(file, _)| items::module_ident(file));
                let chunk_uses = chunk.iter().map(|(_, tokens)| tokens);
                let shared = submodules.iter();
                let part_mod = quote! {
                    #![doc = #doc]
                    #( pub use #types_ident::#service_ident::#shared; )*
                    #( pub mod #mods; )*
                    #( #chunk_uses )*
                };
                files.push(GeneratedFile {
                    path: part_mod_path(&name),
                    contents: render(&format!("{name}/{service}/mod.rs"), part_mod)?,
                });
                for (file, _) in chunk {
                    relocate.push((
                        PathBuf::from(service.as_str()).join(format!("{file}.rs")),
                        name.clone(),
                    ));
                }
                parts.push(PartCrate {
                    name: name.clone(),
                    deps: vec![types.clone()],
                    lib: part_lib.clone(),
                });
                globs.push(quote! { pub use #ident::#service_ident::*; });
            }
            let tokens = quote! {
                #![doc = #doc]
                #( #globs )*
            };
            files.push(GeneratedFile {
                path: PathBuf::from(service.as_str()).join("mod.rs"),
                contents: render(&format!("{service}/mod.rs"), tokens)?,
            });
            continue;
        }
        let mods = entity_files.iter().map(|file| items::module_ident(file));
        let entity_uses = entity_uses.iter().map(|(_, tokens)| tokens);
        let tokens = quote! {
            #![doc = #doc]
            #( pub mod #mods; )*
            #( pub mod #submodules; )*
            #( #entity_uses )*
            #( #uses )*
        };
        files.push(GeneratedFile {
            path: PathBuf::from(service.as_str()).join("mod.rs"),
            contents: render(&format!("{service}/mod.rs"), tokens)?,
        });
    }
    // `rustfmt::skip` keeps `cargo fmt` out of the generated tree: its layout is prettyplease's, and
    // `generate --check` compares bytes.
    let service_idents = services.iter().map(|s| items::module_ident(s));
    let root_doc = " Typed bindings generated by `dualsync-codegen` (see README.md).";
    let maps_mod = has_maps.then(|| items::module_ident(MAPS_MODULE)).into_iter();
    // As a module of the user's crate (`mod bindings;`), the generated types a program does not
    // use are not its dead code, and no lint asks `cargo fix` to edit generated files.
    let allow = options
        .crate_name
        .is_none()
        .then(|| quote! { #![allow(dead_code, unused_imports, unreachable_pub, clippy::all)] });
    let root = quote! {
        #![doc = #root_doc]
        #allow
        #( #[rustfmt::skip] pub mod #service_idents; )*
        #( #[rustfmt::skip] pub mod #maps_mod; )*
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
            if file.path.starts_with("parts") {
                continue;
            }
            // A file of a split service moves to its part crate.
            let part = relocate
                .iter()
                .find(|(prefix, _)| file.path.starts_with(prefix))
                .map(|(_, name)| name);
            file.path = match part {
                Some(name) => PathBuf::from("parts").join(name).join("src").join(&file.path),
                None => PathBuf::from("src").join(&file.path),
            };
        }
        let runtime = options
            .runtime_path
            .clone()
            .unwrap_or_else(|| "../runtime".into())
            .replace('\\', "/");
        // The part crates sit two folders down (`parts/<name>`): a relative runtime path gains `../../`.
        let part_runtime = if std::path::Path::new(&runtime).is_absolute() {
            runtime.clone()
        } else {
            format!("../../{runtime}")
        };
        for part in &parts {
            files.push(GeneratedFile {
                path: PathBuf::from("parts").join(&part.name).join("Cargo.toml"),
                contents: text::cargo_toml(&part.name, &part_runtime, &part.deps, "../")
                    .map_err(GenerateError::Template)?,
            });
            files.push(GeneratedFile {
                path: PathBuf::from("parts").join(&part.name).join("src/lib.rs"),
                contents: part.lib.clone(),
            });
        }
        let part_names: Vec<String> = parts.iter().map(|p| p.name.clone()).collect();
        files.push(GeneratedFile {
            path: PathBuf::from("Cargo.toml"),
            contents: text::cargo_toml(crate_name, &runtime, &part_names, "parts/")
                .map_err(GenerateError::Template)?,
        });
        let sections: Vec<text::ServiceSection> = services
            .iter()
            .map(|service| text::ServiceSection {
                module: (*service).clone(),
                namespace: namespaces.get(*service).cloned().unwrap_or_default(),
                entities: plan
                    .types
                    .iter()
                    .filter(|(q, place)| &&place.service == service && selection.entity_types.contains(*q))
                    .filter_map(|(q, place)| {
                        let e = model.entity_types.get(q)?;
                        Some(text::EntityRow {
                            rust: place.rust.clone(),
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

/// The `maps` module: one file per map file, and a `mod.rs` listing them and the files skipped.
fn map_files(
    model: &Model,
    plan: &Plan,
    field_names: &maps::FieldNames,
    parsed: &[crate::mapfile::Parsed],
) -> Result<Vec<GeneratedFile>, GenerateError> {
    use crate::mapfile::Parsed;
    let mut map_files = Vec::new();
    let mut skipped = Vec::new();
    for p in parsed {
        match p {
            Parsed::Map(map) => map_files.push(&**map),
            Parsed::NotGenerated { file, reason } => skipped.push((file.clone(), reason.clone())),
        }
    }
    let generated = maps::generate(model, plan, field_names, &map_files).map_err(GenerateError::MapFiles)?;
    let mut files = Vec::new();
    let mut docs = vec![
        " Table maps generated from map files (`dualsync-codegen generate`, `[codegen] maps`).".to_string(),
    ];
    if !skipped.is_empty() {
        docs.push(String::new());
        docs.push(" Map files not generated:".to_string());
        for (file, reason) in &skipped {
            docs.push(format!(
                " - `{}`: {}",
                text::doc_safe(file),
                text::doc_safe(reason)
            ));
        }
    }
    let mods = generated.iter().map(|m| items::module_ident(&m.module));
    let uses = generated.iter().map(|m| {
        let module = items::module_ident(&m.module);
        let rust = items::ident(&m.rust);
        quote! { pub use #module::#rust; }
    });
    let rusts: Vec<_> = generated.iter().map(|m| items::ident(&m.rust)).collect();
    let names: Vec<&str> = generated.iter().map(|m| m.rust.as_str()).collect();
    // Every map, for a program that runs them all without a hand-written list (the `dualsync`
    // command): `for_each_map!(callback)` expands to `callback!($crate::maps::A, ...)`.
    let registry = quote! {
        /// Calls `$callback!` with the path of every generated map, in file order:
        /// `for_each_map!(callback)` expands to `callback!(dualsync_generated::maps::A, ...)`.
        #[macro_export]
        macro_rules! for_each_map {
            ($callback:ident) => {
                $callback!( #( $crate::maps::#rusts ),* );
            };
        }
        /// The names of every generated map, in file order.
        pub const NAMES: &[&str] = &[ #( #names ),* ];
    };
    let tokens = quote! {
        #( #![doc = #docs] )*
        #( pub mod #mods; )*
        #( #uses )*
        #registry
    };
    files.push(GeneratedFile {
        path: PathBuf::from(MAPS_MODULE).join("mod.rs"),
        contents: render(&format!("{MAPS_MODULE}/mod.rs"), tokens)?,
    });
    for map in generated {
        let path = PathBuf::from(MAPS_MODULE).join(format!("{}.rs", map.module));
        files.push(GeneratedFile {
            contents: render(&path.to_string_lossy().replace('\\', "/"), map.tokens)?,
            path,
        });
    }
    Ok(files)
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
