//! A plain-text outline of a whole model: every element with its resolved facts, in name order. Used
//! for golden tests and `inspect --outline`; stable across runs (maps are ordered).

use std::fmt::Write as _;

use crate::syntax::Facets;

use super::{Annotations, Model, NavigationProperty, Property};

fn facets(f: &Facets) -> String {
    f.to_string()
}

fn annotation_notes(a: &Annotations) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(d) = a.description() {
        let short: String = d.chars().take(60).collect();
        notes.push(format!("desc {short:?}"));
    }
    if let Some(l) = a.label_id() {
        notes.push(format!("label {l}"));
    }
    if let Some(t) = a.change_tracking() {
        notes.push(format!("change-tracking={t}"));
    }
    if !a.is_empty() {
        notes.push(format!("{} annotation(s)", a.len()));
    }
    notes
}

fn property_line(p: &Property) -> String {
    let mut parts = vec![format!("prop {}: {}", p.name, p.type_ref)];
    if !p.nullable {
        parts.push("not null".into());
    }
    let f = facets(&p.facets);
    if !f.is_empty() {
        parts.push(f);
    }
    if p.read_only {
        parts.push("read-only".into());
    }
    if p.computed {
        parts.push("computed".into());
    }
    if p.immutable {
        parts.push("immutable".into());
    }
    if let Some(d) = &p.default_value {
        parts.push(format!("default {d:?}"));
    }
    parts.extend(annotation_notes(&p.annotations));
    parts.join(", ")
}

fn navigation_line(n: &NavigationProperty) -> String {
    let target = if n.collection {
        format!("Collection({})", n.target)
    } else {
        n.target.clone()
    };
    let mut parts = vec![format!("nav {}: {target}", n.name)];
    if !n.nullable {
        parts.push("not null".into());
    }
    if let Some(p) = &n.partner {
        parts.push(format!("partner {p}"));
    }
    if n.contains_target {
        parts.push("contains".into());
    }
    for (dependent, principal) in &n.referential_constraints {
        parts.push(format!("{dependent}={principal}"));
    }
    if let Some(action) = &n.on_delete {
        parts.push(format!("on delete {action}"));
    }
    parts.join(", ")
}

impl Model {
    /// A deterministic, human-readable outline of every element of the model.
    pub fn outline(&self) -> String {
        let mut out = String::new();
        for schema in self.schemas.values() {
            let alias = schema
                .alias
                .as_deref()
                .map(|a| format!(" (alias {a})"))
                .unwrap_or_default();
            let _ = writeln!(out, "schema {}{alias}", schema.namespace);
        }
        for namespace in &self.external_namespaces {
            let _ = writeln!(out, "referenced namespace {namespace}");
        }
        for e in self.entity_types.values() {
            let mut head = format!("entity {}", e.name);
            if let Some(base) = &e.base_type {
                let _ = write!(head, " : {base}");
            }
            for (flag, on) in [
                ("abstract", e.is_abstract),
                ("open", e.open_type),
                ("stream", e.has_stream),
                ("company-specific", e.company_specific),
            ] {
                if on {
                    let _ = write!(head, " [{flag}]");
                }
            }
            let _ = writeln!(out, "{head}");
            let key: Vec<String> = e
                .key
                .iter()
                .map(|k| match &k.alias {
                    Some(alias) => format!("{} as {alias}", k.name),
                    None => k.name.clone(),
                })
                .collect();
            let inherited = if !e.declares_key && !e.key.is_empty() {
                " (inherited)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  key: {}{inherited}",
                if key.is_empty() {
                    "none".to_string()
                } else {
                    key.join(", ")
                }
            );
            if !e.entity_sets.is_empty() {
                let _ = writeln!(out, "  sets: {}", e.entity_sets.join(", "));
            }
            for k in &e.alternate_keys {
                let parts: Vec<&str> = k.parts.iter().map(|p| p.name.as_str()).collect();
                let _ = writeln!(out, "  alternate key: {}", parts.join(", "));
            }
            let notes = annotation_notes(&e.annotations);
            if !notes.is_empty() {
                let _ = writeln!(out, "  {}", notes.join(", "));
            }
            let inherited_count = self.all_properties(e).len() - e.properties.len();
            if inherited_count > 0 {
                let _ = writeln!(out, "  + {inherited_count} inherited propert(ies)");
            }
            for p in &e.properties {
                let _ = writeln!(out, "  {}", property_line(p));
            }
            for n in &e.navigation_properties {
                let _ = writeln!(out, "  {}", navigation_line(n));
            }
            for l in &e.lookups {
                let targets: Vec<String> = l
                    .targets
                    .iter()
                    .map(|t| format!("{} -> {}", t.navigation, t.entity_set.as_deref().unwrap_or("?")))
                    .collect();
                let _ = writeln!(out, "  lookup {}: {}", l.column, targets.join(", "));
            }
        }
        for c in self.complex_types.values() {
            let mut head = format!("complex {}", c.name);
            if let Some(base) = &c.base_type {
                let _ = write!(head, " : {base}");
            }
            if c.is_abstract {
                head.push_str(" [abstract]");
            }
            if c.open_type {
                head.push_str(" [open]");
            }
            let _ = writeln!(out, "{head}");
            for p in &c.properties {
                let _ = writeln!(out, "  {}", property_line(p));
            }
            for n in &c.navigation_properties {
                let _ = writeln!(out, "  {}", navigation_line(n));
            }
        }
        for e in self.enum_types.values() {
            let flags = if e.is_flags { " [flags]" } else { "" };
            let members: Vec<String> = e
                .members
                .iter()
                .map(|m| format!("{}={}", m.name, m.value))
                .collect();
            let _ = writeln!(
                out,
                "enum {}: {}{flags} {{{}}}",
                e.name,
                e.underlying_type.edm_name(),
                members.join(", ")
            );
        }
        for d in self.type_definitions.values() {
            let _ = writeln!(
                out,
                "typedef {}: {} {}",
                d.name,
                d.underlying_type.edm_name(),
                facets(&d.facets)
            );
        }
        for overloads in self.actions.values().chain(self.functions.values()) {
            for o in overloads {
                let kind = match o.kind {
                    super::OperationKind::Action => "action",
                    super::OperationKind::Function => "function",
                };
                let params: Vec<String> = o
                    .parameters
                    .iter()
                    .map(|p| format!("{}: {}", p.name, p.type_ref))
                    .collect();
                let ret = o
                    .return_type
                    .as_ref()
                    .map(|r| format!(" -> {}", r.type_ref))
                    .unwrap_or_default();
                let bound = if o.is_bound { " bound" } else { "" };
                let composable = if o.is_composable { " composable" } else { "" };
                let _ = writeln!(
                    out,
                    "{kind}{bound}{composable} {}({}){ret}",
                    o.name,
                    params.join(", ")
                );
            }
        }
        for t in self.terms.values() {
            let _ = writeln!(out, "term {}: {}", t.name, t.type_ref);
        }
        for c in self.containers.values() {
            let extends = c
                .extends
                .as_deref()
                .map(|e| format!(" extends {e}"))
                .unwrap_or_default();
            let _ = writeln!(out, "container {}{extends}", c.name);
            for s in c.entity_sets.values() {
                let _ = writeln!(out, "  set {}: {}", s.name, s.entity_type);
                for b in &s.bindings {
                    let target = b.resolved_target.as_deref().unwrap_or("(missing)");
                    let _ = writeln!(out, "    bind {} -> {target}", b.path);
                }
            }
            for s in c.singletons.values() {
                let _ = writeln!(out, "  singleton {}: {}", s.name, s.entity_type);
            }
            for a in c.action_imports.values() {
                let _ = writeln!(out, "  action import {} -> {}", a.name, a.action);
            }
            for f in c.function_imports.values() {
                let _ = writeln!(out, "  function import {} -> {}", f.name, f.function);
            }
        }
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {}", w.message);
        }
        out
    }
}
