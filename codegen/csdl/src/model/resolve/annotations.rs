//! Annotations: inline ones converted with their terms and enum members qualified, and pass 5,
//! external `Annotations Target="..."` applied to the element they name.

use std::borrow::Cow;
use std::sync::Arc;

use super::scope::Scope;
use super::{Resolver, split_qualified};
use crate::model::annotations::qualify_enum_members;
use crate::model::*;
use crate::syntax;

impl Resolver {
    /// Applies `Annotations Target="..."` to the element it names.
    pub(super) fn annotation_group(&mut self, doc: usize, group: &mut syntax::AnnotationGroup) {
        let mut annotations = self.annotations(doc, &mut group.annotations);
        if let Some(qualifier) = &group.qualifier {
            for annotation in &mut annotations.0 {
                annotation.qualifier.get_or_insert_with(|| qualifier.clone());
            }
        }
        let target = group.target.trim();
        let (head, rest) = match target.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (target, None),
        };
        // Overload signatures `NS.Action(NS.Type)` address all overloads here.
        let head = head.split('(').next().unwrap_or(head);
        let qualified = self.qualify(doc, head);
        let member = rest.map(|r| r.split('/').next().unwrap_or(r));
        let deeper = rest.is_some_and(|r| r.contains('/'));
        let found = self.apply_annotations(&qualified, member, deeper, annotations);
        if !found {
            let (namespace, _) = split_qualified(&qualified);
            if !self.model.external_namespaces.contains(namespace) {
                self.warn(
                    doc,
                    format!(
                        "annotation target `{}` does not name an element of the model",
                        group.target
                    ),
                    group.span,
                );
            }
        }
    }

    pub(super) fn apply_annotations(
        &mut self,
        qualified: &str,
        member: Option<&str>,
        deeper: bool,
        annotations: Annotations,
    ) -> bool {
        fn add(target: &mut Annotations, more: Annotations) {
            target.0.extend(more.0);
        }
        if deeper {
            // Paths into nested members (e.g. a property of a complex property) are valid CSDL, kept
            // only where a generator needs them; they are accepted but not attached.
            return self.declared.contains_key(qualified);
        }
        let model = &mut self.model;
        if let Some(entity) = model.entity_types.get_mut(qualified) {
            match member {
                None => add(&mut entity.annotations, annotations),
                Some(m) => {
                    if let Some(p) = entity.properties.iter_mut().find(|p| p.name == m) {
                        add(&mut p.annotations, annotations);
                        p.computed = p.annotations.computed();
                        p.immutable = p.annotations.immutable();
                        p.read_only = p.computed
                            || matches!(
                                p.annotations.permissions(),
                                Some(Permissions::Read | Permissions::None)
                            );
                    } else if let Some(n) = entity.navigation_properties.iter_mut().find(|n| n.name == m) {
                        add(&mut n.annotations, annotations);
                    } else {
                        return false;
                    }
                }
            }
            return true;
        }
        if let Some(complex) = model.complex_types.get_mut(qualified) {
            match member {
                None => add(&mut complex.annotations, annotations),
                Some(m) => {
                    if let Some(p) = complex.properties.iter_mut().find(|p| p.name == m) {
                        add(&mut p.annotations, annotations);
                    } else if let Some(n) = complex.navigation_properties.iter_mut().find(|n| n.name == m) {
                        add(&mut n.annotations, annotations);
                    } else {
                        return false;
                    }
                }
            }
            return true;
        }
        if let Some(enum_type) = model.enum_types.get_mut(qualified) {
            match member {
                None => add(&mut enum_type.annotations, annotations),
                Some(m) => match enum_type.members.iter_mut().find(|x| x.name == m) {
                    Some(x) => add(&mut x.annotations, annotations),
                    None => return false,
                },
            }
            return true;
        }
        if let Some(container) = model.containers.get_mut(qualified) {
            match member {
                None => add(&mut container.annotations, annotations),
                Some(m) => {
                    if let Some(s) = container.entity_sets.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else if let Some(s) = container.singletons.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else if let Some(s) = container.action_imports.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else if let Some(s) = container.function_imports.get_mut(m) {
                        add(&mut s.annotations, annotations);
                    } else {
                        return false;
                    }
                }
            }
            return true;
        }
        if let Some(definition) = model.type_definitions.get_mut(qualified) {
            add(&mut definition.annotations, annotations);
            return member.is_none();
        }
        if let Some(term) = model.terms.get_mut(qualified) {
            add(&mut term.annotations, annotations);
            return member.is_none();
        }
        // An action and a function may share a name: the target names both.
        let mut found = false;
        let mut applied = false;
        for map in [&mut model.actions, &mut model.functions] {
            let Some(overloads) = map.get_mut(qualified) else {
                continue;
            };
            found = true;
            for overload in overloads.iter_mut() {
                match member {
                    None => {
                        add(&mut overload.annotations, annotations.clone());
                        applied = true;
                    }
                    Some("$ReturnType") => applied = true,
                    Some(m) => {
                        if let Some(p) = overload.parameters.iter_mut().find(|p| p.name == m) {
                            add(&mut p.annotations, annotations.clone());
                            applied = true;
                        }
                    }
                }
            }
        }
        if found {
            return applied;
        }
        if member.is_none()
            && let Some(schema) = model.schemas.get_mut(qualified)
        {
            add(&mut schema.annotations, annotations);
            return true;
        }
        false
    }
}

impl Scope<'_> {
    /// Converts (and moves out) a list of syntax annotations.
    pub(super) fn annotations(&self, doc: usize, list: &mut Vec<syntax::Annotation>) -> Annotations {
        let mut list = std::mem::take(list);
        for annotation in &mut list {
            self.annotation(doc, annotation);
        }
        Annotations(list)
    }

    /// Qualifies an annotation's term and enum-member values in place (no copy when there is no alias).
    pub(super) fn annotation(&self, doc: usize, annotation: &mut syntax::Annotation) {
        if let Some(v) = &mut annotation.value {
            qualify_enum_members(v, &|ty: &str| match self.qualify_cow(doc, ty) {
                Cow::Owned(full) => Some(full),
                Cow::Borrowed(_) => None,
            });
        }
        if let Cow::Owned(full) = self.qualify_cow(doc, &annotation.term) {
            annotation.term = Arc::from(full);
        }
        for nested in &mut annotation.annotations {
            self.annotation(doc, nested);
        }
    }
}
