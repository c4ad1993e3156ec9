//! The one scope type: the name tables that converting an element reads (shared, read-only) and the
//! errors it finds (its own). Each thread of a conversion works in a fork of the resolver's scope.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::{Declared, qualify_with, split_qualified, strip_collection};
use crate::error::{Error, ErrorKind};
use crate::hash::FastMap as HashMap;
use crate::model::*;
use crate::span::Span;

/// The name tables that converting an element reads, and the errors it found.
pub(super) struct Scope<'r> {
    aliases: &'r [HashMap<String, String>],
    declared: &'r HashMap<String, (Declared, usize, Span)>,
    external: &'r BTreeSet<String>,
    schemas: &'r BTreeMap<String, SchemaInfo>,
    pub(super) errors: Vec<Error>,
}

impl<'r> Scope<'r> {
    pub(super) fn new(
        aliases: &'r [HashMap<String, String>],
        declared: &'r HashMap<String, (Declared, usize, Span)>,
        external: &'r BTreeSet<String>,
        schemas: &'r BTreeMap<String, SchemaInfo>,
    ) -> Self {
        Scope {
            aliases,
            declared,
            external,
            schemas,
            errors: Vec::new(),
        }
    }

    /// A scope over the same tables with no errors yet, for another thread.
    pub(super) fn fork(&self) -> Scope<'r> {
        Scope::new(self.aliases, self.declared, self.external, self.schemas)
    }

    /// The declaration of a qualified name.
    pub(super) fn declared(&self, qualified: &str) -> Option<Declared> {
        self.declared.get(qualified).map(|d| d.0)
    }
}

impl Scope<'_> {
    pub(super) fn error(&mut self, source_index: usize, kind: ErrorKind, span: Span) {
        self.errors.push(Error::new(kind, span).in_source(source_index));
    }

    pub(super) fn qualify(&self, doc: usize, name: &str) -> String {
        self.qualify_cow(doc, name).into_owned()
    }

    pub(super) fn qualify_cow<'n>(&self, doc: usize, name: &'n str) -> Cow<'n, str> {
        qualify_with(self.aliases, doc, name)
    }

    /// Resolves a type reference as written in document `doc`.
    pub(super) fn type_ref(
        &mut self,
        doc: usize,
        raw: &str,
        context: &dyn Fn() -> String,
        span: Span,
    ) -> Option<TypeRef> {
        let (collection, inner) = strip_collection(raw);
        let qualified = self.qualify_cow(doc, inner);
        if qualified.starts_with("Edm.") {
            return match Primitive::from_edm_name(&qualified) {
                Some(p) => Some(TypeRef {
                    collection,
                    kind: TypeKind::Primitive(p),
                }),
                None => {
                    let hint = Primitive::legacy_hint(&qualified).to_string();
                    self.error(
                        doc,
                        ErrorKind::UnknownPrimitive {
                            name: qualified.into_owned(),
                            hint,
                        },
                        span,
                    );
                    None
                }
            };
        }
        let kind = match self.declared.get(qualified.as_ref()).map(|d| d.0) {
            Some(Declared::Entity) => TypeKind::Entity(qualified.into_owned()),
            Some(Declared::Complex) => TypeKind::Complex(qualified.into_owned()),
            Some(Declared::Enum) => TypeKind::Enum(qualified.into_owned()),
            Some(Declared::Definition) => TypeKind::Definition(qualified.into_owned()),
            Some(other) => {
                self.error(
                    doc,
                    ErrorKind::WrongKind {
                        context: context(),
                        name: qualified.into_owned(),
                        found: other.describe(),
                        expected: "a type",
                    },
                    span,
                );
                return None;
            }
            None => {
                let (namespace, _) = split_qualified(&qualified);
                if self.external.contains(namespace) {
                    TypeKind::External(qualified.into_owned())
                } else {
                    let hint = self.suggest(&qualified, inner);
                    self.error(
                        doc,
                        ErrorKind::DanglingType {
                            context: context(),
                            name: inner.to_string(),
                            hint,
                        },
                        span,
                    );
                    return None;
                }
            }
        };
        Some(TypeRef { collection, kind })
    }

    pub(super) fn suggest(&self, qualified: &str, written: &str) -> String {
        let (namespace, simple) = split_qualified(qualified);
        let mut hint = String::new();
        if qualified != written {
            hint.push_str(&format!(" (read as `{qualified}`)"));
        }
        if namespace.is_empty() {
            hint.push_str("; type names must be qualified with a namespace or alias");
        } else if !self.schemas.contains_key(namespace) {
            hint.push_str(&format!(
                "; no schema defines namespace `{namespace}` and no edmx:Reference includes it"
            ));
        }
        // The closest type name: same namespace preferred, then edit distance (case-insensitive).
        let wanted = simple.to_ascii_lowercase();
        let limit = (simple.len() / 4).clamp(1, 3);
        let best = self
            .declared
            .iter()
            .filter(|(_, (kind, _, _))| {
                matches!(
                    kind,
                    Declared::Entity | Declared::Complex | Declared::Enum | Declared::Definition
                )
            })
            .filter_map(|(name, _)| {
                let (candidate_namespace, candidate) = split_qualified(name);
                let distance = edit_distance(&wanted, &candidate.to_ascii_lowercase(), limit)?;
                Some(((distance, candidate_namespace != namespace, name.as_str()), name))
            })
            .min_by(|a, b| a.0.cmp(&b.0));
        if let Some((_, candidate)) = best {
            hint.push_str(&format!("; did you mean `{candidate}`?"));
        }
        hint
    }
}

/// Levenshtein distance between `a` and `b` when it is at most `limit` (for "did you mean" hints only).
fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|&m| m > limit) {
            return None;
        }
        previous = current;
    }
    previous.last().copied().filter(|&d| d <= limit)
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_is_bounded() {
        assert_eq!(edit_distance("acount", "account", 2), Some(1));
        assert_eq!(edit_distance("kinds", "kinds", 1), Some(0));
        assert_eq!(edit_distance("customer", "vendor", 2), None);
        assert_eq!(edit_distance("a", "abcdef", 2), None);
    }
}
