//! Map files -> `#[derive(dualsync::TableMap)]` structs beside the bindings. Every wire name of a map
//! file (entity sets, F&O property names, Dataverse logical names, lookups and their key columns, enum
//! members) is resolved here against the metadata and the generator's naming plan, so a wrong name is
//! an error at its line and column in the map file. What only rustc can tell (types that do not
//! convert, a value that does not fit, a value map that misses an option) is reported by the derive on
//! the generated code, whose every column carries a doc line naming the map file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::items::{ident, module_ident};
use super::text::doc_safe;
use super::{Kind, Plan};
use crate::mapfile::{Diagnostic, Direction, Literal, MapFile, Master};
use crate::model::{EntityType, Model, TypeKind};
use crate::naming;

/// Rust field names of every generated entity type: qualified type -> wire name -> field.
pub type FieldNames = BTreeMap<String, BTreeMap<String, String>>;

/// One generated map: its file module, type name and tokens.
pub struct GeneratedMap {
    pub module: String,
    pub rust: String,
    pub tokens: TokenStream,
}

struct Resolver<'a> {
    model: &'a Model,
    plan: &'a Plan,
    fields: &'a FieldNames,
}

/// A generated entity type of a map.
struct Table<'a> {
    entity: &'a EntityType,
    /// `fo::CustomerV3`.
    path: TokenStream,
    service: String,
    fields: &'a BTreeMap<String, String>,
}

fn literal_tokens(literal: &Literal) -> TokenStream {
    match literal {
        Literal::Bool(b) => quote! { #b },
        Literal::Int(i) => {
            let lit = proc_macro2::Literal::i64_unsuffixed(i.unsigned_abs() as i64);
            if *i < 0 {
                quote! { -#lit }
            } else {
                quote! { #lit }
            }
        }
        Literal::Number(text) => TokenStream::from_str(text).unwrap_or_default(),
        Literal::Str(s) => quote! { #s },
    }
}

/// Up to `n` names, for "one of .." hints.
fn some_of<'a>(names: impl Iterator<Item = &'a str>, n: usize) -> String {
    let names: Vec<&str> = names.collect();
    let mut shown: Vec<String> = names.iter().take(n).map(|s| format!("`{s}`")).collect();
    if names.len() > n {
        shown.push(format!("and {} more", names.len() - n));
    }
    shown.join(", ")
}

impl<'a> Resolver<'a> {
    /// A lookup key path (`lookup.key`, or through further tables `lookup.next.key`) as the
    /// derive's `lookup(..)`, with the Rust field of the Dataverse lookup column.
    fn lookup_path(
        &self,
        map: &MapFile,
        dv: &Table<'_>,
        path: &crate::mapfile::LookupPath,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<(TokenStream, String)> {
        let error = |errors: &mut Vec<Diagnostic>, message: String| {
            errors.push(map.error(path.span.clone(), message));
        };
        let mut current: &EntityType = dv.entity;
        let mut current_name = map.dv.value.clone();
        let mut current_fields: &BTreeMap<String, String> = dv.fields;
        let mut lookup_field = None;
        // (target path, its fields) of each hop, and the Rust field of each lookup on the way.
        let mut hops: Vec<(TokenStream, &BTreeMap<String, String>)> = Vec::new();
        let mut columns: Vec<String> = Vec::new();
        for name in std::iter::once(&path.lookup).chain(&path.via) {
            let Some(lookup) = current.lookups.iter().find(|l| &l.logical_name == name) else {
                let what = if current_fields.contains_key(name) {
                    format!("`{name}` is a column of Dataverse `{current_name}` but not a lookup")
                } else {
                    format!("`{name}` is not a lookup of Dataverse `{current_name}`")
                };
                error(
                    errors,
                    format!(
                        "{what}: its lookups are {}",
                        some_of(current.lookups.iter().map(|l| l.logical_name.as_str()), 8)
                    ),
                );
                return None;
            };
            if lookup.targets.len() != 1 {
                error(
                    errors,
                    format!(
                        "lookup `{name}` points to {} tables ({}): a map binds a lookup to one target table; polymorphic lookups are not supported",
                        lookup.targets.len(),
                        some_of(
                            lookup
                                .targets
                                .iter()
                                .map(|t| t.entity_type.rsplit('.').next().unwrap_or("")),
                            4
                        )
                    ),
                );
                return None;
            }
            let Some(column) = current_fields.get(&lookup.column) else {
                error(
                    errors,
                    format!("lookup `{name}` has no id column in the metadata"),
                );
                return None;
            };
            if hops.is_empty() {
                lookup_field = Some(column.clone());
            } else {
                columns.push(column.clone());
            }
            let target = &lookup.targets[0];
            let (Some(place), Some(target_fields), Some(entity)) = (
                self.plan.types.get(&target.entity_type),
                self.fields.get(&target.entity_type),
                self.model.entity_types.get(&target.entity_type),
            ) else {
                error(
                    errors,
                    format!(
                        "lookup `{name}` points to `{}`, which is not generated: add its entity set{} to `include` under [codegen] in dualsync.toml",
                        target.entity_type.rsplit('.').next().unwrap_or(""),
                        target
                            .entity_set
                            .as_ref()
                            .map(|s| format!(" `{s}`"))
                            .unwrap_or_default()
                    ),
                );
                return None;
            };
            let service = module_ident(&place.service);
            let rust = ident(&place.rust);
            hops.push((quote! { #service::#rust }, target_fields));
            current = entity;
            current_name = target.entity_type.rsplit('.').next().unwrap_or("").to_string();
            current_fields = target_fields;
        }
        let Some(key) = current_fields.get(&path.key) else {
            let last = path.via.last().unwrap_or(&path.lookup);
            error(
                errors,
                format!(
                    "`{}` is not a column of `{current_name}`, the table lookup `{last}` points to",
                    path.key
                ),
            );
            return None;
        };
        columns.push(key.clone());
        let parts = hops.iter().zip(&columns).map(|((table, _), column)| {
            let column = format_ident!("{}", column);
            quote! { #table::#column }
        });
        Some((quote! { lookup(#(#parts),*) }, lookup_field?))
    }

    fn table(
        &self,
        map: &MapFile,
        set: &crate::mapfile::Text,
        side: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<Table<'a>> {
        let entity = self
            .model
            .entity_types
            .values()
            .find(|e| e.entity_sets.contains(&set.value));
        let Some(entity) = entity else {
            let similar: Vec<&str> = self
                .model
                .entity_types
                .values()
                .flat_map(|e| e.entity_sets.iter())
                .filter(|s| s.eq_ignore_ascii_case(&set.value))
                .map(String::as_str)
                .collect();
            let hint = if similar.is_empty() {
                format!("name the {side} entity set as the metadata does (`inspect --type` shows it)")
            } else {
                format!("did you mean {}?", some_of(similar.into_iter(), 3))
            };
            errors.push(map.error(
                set.span.clone(),
                format!("unknown {side} entity set `{}`: {hint}", set.value),
            ));
            return None;
        };
        let (Some(place), Some(fields)) = (self.plan.types.get(&entity.name), self.fields.get(&entity.name))
        else {
            errors.push(map.error(
                set.span.clone(),
                format!(
                    "{side} entity set `{}` is not generated: add it to `include` under [codegen] in dualsync.toml",
                    set.value
                ),
            ));
            return None;
        };
        debug_assert_eq!(place.kind, Kind::Entity);
        let service = module_ident(&place.service);
        let rust = ident(&place.rust);
        Some(Table {
            entity,
            path: quote! { #service::#rust },
            service: place.service.clone(),
            fields,
        })
    }

    /// The Rust field of a wire column, or an error at `span`.
    fn column(
        &self,
        map: &MapFile,
        table: &Table<'_>,
        column: &crate::mapfile::Text,
        side: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Option<String> {
        if let Some(rust) = table.fields.get(&column.value) {
            return Some(rust.clone());
        }
        let set = table.entity.entity_sets.first().cloned().unwrap_or_default();
        let similar: Vec<&str> = table
            .fields
            .keys()
            .filter(|w| {
                let (a, b) = (w.to_lowercase(), column.value.to_lowercase());
                a == b || a.trim_start_matches('_').trim_end_matches("_value") == b
            })
            .map(String::as_str)
            .collect();
        let hint = if similar.is_empty() {
            "use the column's wire name as the metadata spells it".to_string()
        } else {
            format!("did you mean {}?", some_of(similar.into_iter(), 3))
        };
        errors.push(map.error(
            column.span.clone(),
            format!("`{}` is not a column of {side} `{set}`: {hint}", column.value),
        ));
        None
    }
}

/// Resolves and emits every map; all errors of all maps are collected.
pub fn generate(
    model: &Model,
    plan: &Plan,
    fields: &FieldNames,
    maps: &[&MapFile],
) -> Result<Vec<GeneratedMap>, Vec<Diagnostic>> {
    let resolver = Resolver { model, plan, fields };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut names: BTreeMap<String, &MapFile> = BTreeMap::new();
    let no_renames = BTreeMap::new();
    let mut modules = naming::Scope::new("map module", &no_renames);
    for map in maps {
        if let Some(first) = names.get(&map.name.value) {
            errors.push(map.error(
                map.name.span.clone(),
                format!(
                    "map name `{}` is also the name of the map in {}: give each map its own name",
                    map.name.value, first.source.name
                ),
            ));
            continue;
        }
        names.insert(map.name.value.clone(), map);
        let module = match modules.name(&map.name.value, &map.source.name, &map.name.value, naming::module) {
            Ok(m) => m,
            Err(c) => {
                errors.push(map.error(map.name.span.clone(), c.to_string()));
                continue;
            }
        };
        if let Some(tokens) = one(&resolver, map, &mut errors) {
            out.push(GeneratedMap {
                module,
                rust: map.name.value.clone(),
                tokens,
            });
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn one(r: &Resolver<'_>, map: &MapFile, errors: &mut Vec<Diagnostic>) -> Option<TokenStream> {
    let before = errors.len();
    let fo = r.table(map, &map.fo, "F&O", errors);
    let dv = r.table(map, &map.dv, "Dataverse", errors);
    let (Some(fo), Some(dv)) = (fo, dv) else {
        return None;
    };
    if let Some(company) = &map.company {
        r.column(map, &fo, company, "F&O", errors);
    }
    let mut field_names = BTreeSet::new();
    let mut fields = Vec::new();
    // Destination columns already written: (side, wire name) -> line of the first writer. Lookups
    // by their whole key path: several columns of one lookup find one record together, each by a
    // column of its key.
    let mut written: BTreeMap<(&str, String), String> = BTreeMap::new();
    for column in &map.columns {
        let dv_dest = column
            .dv
            .as_ref()
            .map(|t| (t.value.clone(), t.span.clone()))
            .or(column.lookup.as_ref().map(|l| (l.text(), l.span.clone())));
        for (side, dest, writes) in [
            ("Dataverse", dv_dest, column.direction.writes_dv()),
            (
                "F&O",
                column.fo.as_ref().map(|t| (t.value.clone(), t.span.clone())),
                column.direction.writes_fo(),
            ),
        ] {
            if let (Some((name, span)), true) = (dest, writes) {
                if let Some(first) = written.get(&(side, name.clone())) {
                    errors.push(map.error(
                        span,
                        format!("{side} column `{name}` is already written by the column pair at {first}: keep one writer"),
                    ));
                } else {
                    written.insert((side, name), map.place(column.span.start));
                }
            }
        }
        let fo_field = column
            .fo
            .as_ref()
            .and_then(|c| r.column(map, &fo, c, "F&O", errors));
        let dv_field = column.dv.as_ref().and_then(|c| {
            // A lookup named as a column: say how to write it.
            if let Some(lookup) = dv.entity.lookups.iter().find(|l| l.logical_name == c.value || l.column == c.value) {
                let key = lookup
                    .targets
                    .first()
                    .and_then(|t| t.referenced_property.clone())
                    .unwrap_or_else(|| "key".into());
                errors.push(map.error(
                    c.span.clone(),
                    format!(
                        "`{}` is a lookup: name the key column of its target table the F&O value is looked up by, lookup = \"{}.<column>\" (e.g. `{}.{key}`)",
                        c.value, lookup.logical_name, lookup.logical_name
                    ),
                ));
                return None;
            }
            r.column(map, &dv, c, "Dataverse", errors)
        });
        let mut lookup_tokens = None;
        let mut lookup_field = None;
        if let Some(path) = &column.lookup
            && let Some((tokens, field)) = r.lookup_path(map, &dv, path, errors)
        {
            lookup_tokens = Some(tokens);
            lookup_field = Some(field);
        }
        // Value maps: keys are members of the F&O column's enum.
        if !column.value_map.is_empty()
            && let Some(fo_text) = &column.fo
            && let Some(property) = r
                .model
                .all_properties(fo.entity)
                .into_iter()
                .find(|p| p.name == fo_text.value)
        {
            match &property.type_ref.kind {
                TypeKind::Enum(qualified) => {
                    if let Some(enum_type) = r.model.enum_types.get(qualified) {
                        for (member, _, _) in &column.value_map {
                            if !enum_type.members.iter().any(|m| m.name == member.value) {
                                errors.push(map.error(
                                    member.span.clone(),
                                    format!(
                                        "`{}` is not a member of `{}` (the type of F&O `{}`): its members are {}",
                                        member.value,
                                        enum_type.simple_name,
                                        fo_text.value,
                                        some_of(enum_type.members.iter().map(|m| m.name.as_str()), 12)
                                    ),
                                ));
                            } else if !crate::mapfile::is_identifier(&member.value) {
                                errors.push(map.error(
                                    member.span.clone(),
                                    format!("member `{}` cannot be named in a derive", member.value),
                                ));
                            }
                        }
                    }
                }
                other => errors.push(map.error(
                    fo_text.span.clone(),
                    format!(
                        "value_map keys are members of an F&O enum, but `{}` is {}: remove value_map",
                        fo_text.value,
                        match other {
                            TypeKind::Primitive(p) => format!("`Edm.{p:?}`"),
                            _ => "not an enum".into(),
                        }
                    ),
                )),
            }
        }
        rules(map, column, errors);
        // The struct field: after the F&O column, else the Dataverse one.
        let base = column
            .fo
            .as_ref()
            .map(|t| t.value.as_str())
            .or(column.dv.as_ref().map(|t| t.value.as_str()))
            .or(column.lookup.as_ref().map(|l| l.lookup.as_str()))
            .unwrap_or("column");
        let mut name = naming::snake(base);
        if !field_names.insert(name.clone()) {
            let other = column
                .dv
                .as_ref()
                .map(|t| t.value.as_str())
                .or(column.lookup.as_ref().map(|l| l.lookup.as_str()))
                .unwrap_or("more");
            name = format!("{name}_{}", naming::snake(other));
            let mut n = 2;
            while !field_names.insert(name.clone()) {
                name = format!("{}_{n}", naming::snake(base));
                n += 1;
            }
        }
        let mut args = Vec::new();
        if column.key {
            args.push(quote! { key });
        }
        args.push(match column.direction {
            Direction::Both => quote! { both },
            Direction::FoToDv => quote! { fo_to_dv },
            Direction::DvToFo => quote! { dv_to_fo },
        });
        if let Some(f) = &fo_field {
            let f = format_ident!("{}", f);
            args.push(quote! { fo = #f });
        }
        if let Some(f) = dv_field.as_ref().or(lookup_field.as_ref()) {
            let f = format_ident!("{}", f);
            args.push(quote! { dv = #f });
        }
        if let Some((literal, _)) = &column.default {
            let lit = literal_tokens(literal);
            args.push(quote! { default = #lit });
        }
        if !column.value_map.is_empty() {
            let entries = column.value_map.iter().map(|(member, value, _)| {
                let member = format_ident!("{}", member.value);
                let value = literal_tokens(value);
                quote! { #member = #value }
            });
            args.push(quote! { value_map(#(#entries),*) });
        }
        if let Some(lookup) = lookup_tokens {
            args.push(lookup);
        }
        if column.lossy {
            args.push(quote! { lossy });
        }
        let doc = format!(" Map file {}.", map.place(column.span.start));
        let field = format_ident!("{}", name);
        fields.push(quote! {
            #[doc = #doc]
            #[map(#(#args),*)]
            #field: ()
        });
    }
    if errors.len() > before {
        return None;
    }
    let mut table_args = vec![
        {
            let p = &fo.path;
            quote! { fo = #p }
        },
        {
            let p = &dv.path;
            quote! { dv = #p }
        },
    ];
    if let Some(company) = &map.company {
        let c = &company.value;
        table_args.push(quote! { company = #c });
    }
    if let Some(f) = &map.fo_filter {
        let f = &f.value;
        table_args.push(quote! { fo_filter = #f });
    }
    if let Some(f) = &map.dv_filter {
        let f = &f.value;
        table_args.push(quote! { dv_filter = #f });
    }
    table_args.push(match map.master {
        Master::Fo => quote! { master = fo },
        Master::Dv => quote! { master = dv },
    });
    let services: BTreeSet<&str> = [fo.service.as_str(), dv.service.as_str()].into_iter().collect();
    let services = services.into_iter().map(module_ident);
    let rust = format_ident!("{}", map.name.value);
    let mut docs = Vec::new();
    if let Some(title) = &map.title {
        docs.push(format!(" {}", doc_safe(title)));
        docs.push(String::new());
    }
    docs.push(format!(
        " F&O `{}` ↔ Dataverse `{}`, generated from `{}`.",
        doc_safe(&map.fo.value),
        doc_safe(&map.dv.value),
        doc_safe(&map.source.name)
    ));
    let module_doc = format!(
        " The table map `{}` (`{}`).",
        map.name.value,
        doc_safe(&map.source.name)
    );
    Some(quote! {
        #![doc = #module_doc]
        use super::super::{#(#services),*};

        #(#[doc = #docs])*
        #[derive(::dualsync::TableMap)]
        #[table_map(#(#table_args),*)]
        pub struct #rust {
            #(#fields,)*
        }
    })
}

/// The rules between the parts of one column pair that the map file shows by itself (the derive
/// checks them too, but here the error points into the map file).
fn rules(map: &MapFile, column: &crate::mapfile::Column, errors: &mut Vec<Diagnostic>) {
    let dv_named = column.dv.is_some() || column.lookup.is_some();
    let d = column.direction;
    let at = column.direction_span.clone();
    if column.fo.is_none() && !dv_named {
        errors.push(map.error(
            at.clone(),
            "this column pair names no column: give fo = \"..\" and dv = \"..\" (or lookup = \"..\")",
        ));
        return;
    }
    if column.key && (d != Direction::Both || column.fo.is_none() || !dv_named) {
        errors.push(map.error(
            at.clone(),
            "an integration key maps both ways: direction = \"both\" with fo and dv (or lookup)",
        ));
    }
    let one_side = column.fo.is_none() || !dv_named;
    if one_side {
        if column.default.is_none() {
            errors.push(map.error(
                at.clone(),
                "a column pair with one side is filled from a default: add default = .., or name the other side",
            ));
        } else if d == Direction::Both {
            errors.push(map.error(
                at.clone(),
                "a default fills one side: write direction = \"fo_to_dv\" (fills Dataverse) or \"dv_to_fo\" (fills F&O)",
            ));
        } else if column.fo.is_none() && d == Direction::DvToFo {
            errors.push(map.error(
                at.clone(),
                "dv_to_fo writes F&O: name the F&O column (fo = \"..\")",
            ));
        } else if !dv_named && d == Direction::FoToDv {
            errors.push(map.error(
                at.clone(),
                "fo_to_dv writes Dataverse: name the Dataverse column (dv = \"..\")",
            ));
        }
    }
    if let Some(lookup) = &column.lookup
        && (column.default.is_some() || !column.value_map.is_empty() || column.lossy)
    {
        errors.push(map.error(
            lookup.span.clone(),
            "a lookup takes its key value as it is: remove default, value_map or lossy",
        ));
    }
}
