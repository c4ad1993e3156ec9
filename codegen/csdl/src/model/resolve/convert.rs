//! Pass 2: schema elements converted into model elements with their type references resolved. Large
//! schemas (F&O has thousands of entity types) are converted on two threads, each with its own
//! [`Scope`].

use super::scope::Scope;
use super::{Declared, Resolver};
use crate::error::{Error, ErrorKind};
use crate::hash::FastMap as HashMap;
use crate::model::*;
use crate::span::Span;
use crate::syntax;
use crate::threads;

impl Resolver {
    pub(super) fn schema(&mut self, doc: usize, schema: &mut syntax::Schema) {
        let ns = schema.namespace.as_str();
        if !self.model.schemas.contains_key(ns) {
            let annotations = self.annotations(doc, &mut schema.annotations);
            self.model.schemas.insert(
                ns.to_string(),
                SchemaInfo {
                    namespace: ns.to_string(),
                    alias: schema.alias.clone(),
                    annotations,
                    source_index: doc,
                    span: schema.span,
                },
            );
        }
        let syntax::Schema {
            entity_types: entity_list,
            complex_types,
            enum_types,
            type_definitions,
            actions,
            functions,
            terms: term_list,
            ..
        } = schema;
        // F&O schemas hold thousands of entity types: a worker converts the second half while this
        // thread converts the first half and everything else.
        let split = if entity_list.len() >= 256 {
            entity_list.len() / 2
        } else {
            entity_list.len()
        };
        let (first, second) = entity_list.split_at_mut(split);
        let mut scope = self.scope();
        let mut worker = scope.fork();
        let (here, (rest, rest_errors)) = threads::join(
            !second.is_empty(),
            move || {
                let entities: Vec<EntityType> =
                    first.iter_mut().map(|e| scope.entity_type(doc, ns, e)).collect();
                let complex: Vec<ComplexType> = complex_types
                    .iter_mut()
                    .map(|c| scope.complex_type(doc, ns, c))
                    .collect();
                let enums: Vec<EnumType> = enum_types
                    .iter_mut()
                    .map(|e| scope.enum_type(doc, ns, e))
                    .collect();
                let definitions: Vec<TypeDefinition> = type_definitions
                    .iter_mut()
                    .map(|d| scope.type_definition(doc, ns, d))
                    .collect();
                let operations: Vec<Operation> = actions
                    .iter_mut()
                    .chain(functions.iter_mut())
                    .map(|o| scope.operation(doc, ns, o))
                    .collect();
                let terms: Vec<Term> = term_list.iter_mut().map(|t| scope.term(doc, ns, t)).collect();
                (
                    entities,
                    complex,
                    enums,
                    definitions,
                    operations,
                    terms,
                    scope.errors,
                )
            },
            move || {
                let converted: Vec<EntityType> = second
                    .iter_mut()
                    .map(|e| worker.entity_type(doc, ns, e))
                    .collect();
                (converted, worker.errors)
            },
        );
        let (mut entities, complex, enums, definitions, operations, terms, errors) = here;
        entities.extend(rest);
        self.errors.extend(errors);
        self.errors.extend(rest_errors);
        for resolved in entities {
            self.model
                .entity_types
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in complex {
            self.model
                .complex_types
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in enums {
            self.model
                .enum_types
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in definitions {
            self.model
                .type_definitions
                .entry(resolved.name.clone())
                .or_insert(resolved);
        }
        for resolved in operations {
            let map = match resolved.kind {
                OperationKind::Action => &mut self.model.actions,
                OperationKind::Function => &mut self.model.functions,
            };
            map.entry(resolved.name.clone()).or_default().push(resolved);
        }
        for resolved in terms {
            self.model.terms.entry(resolved.name.clone()).or_insert(resolved);
        }
    }
}

impl Scope<'_> {
    fn type_definition(
        &mut self,
        doc: usize,
        ns: &str,
        definition: &mut syntax::TypeDefinition,
    ) -> TypeDefinition {
        let name = format!("{ns}.{}", definition.name);
        let underlying =
            self.underlying_primitive(doc, &definition.underlying_type, &name, definition.span, false);
        TypeDefinition {
            name,
            namespace: ns.to_string(),
            simple_name: definition.name.clone(),
            underlying_type: underlying.unwrap_or(Primitive::Untyped),
            facets: definition.facets,
            annotations: self.annotations(doc, &mut definition.annotations),
            origin: Origin {
                source_index: doc,
                span: definition.span,
            },
        }
    }

    fn term(&mut self, doc: usize, ns: &str, term: &mut syntax::Term) -> Term {
        let name = format!("{ns}.{}", term.name);
        let type_ref = self.type_ref(doc, &term.type_name, &|| format!("term `{name}`"), term.span);
        Term {
            type_ref: type_ref.unwrap_or(TypeRef {
                collection: false,
                kind: TypeKind::Primitive(Primitive::Untyped),
            }),
            applies_to: term.applies_to.clone(),
            default_value: term.default_value.clone(),
            annotations: self.annotations(doc, &mut term.annotations),
            origin: Origin {
                source_index: doc,
                span: term.span,
            },
            name,
        }
    }

    pub(super) fn underlying_primitive(
        &mut self,
        doc: usize,
        raw: &str,
        owner: &str,
        span: Span,
        integral: bool,
    ) -> Option<Primitive> {
        let qualified = self.qualify(doc, raw.trim());
        match Primitive::from_edm_name(&qualified) {
            Some(p) if !integral || p.is_integral() => Some(p),
            _ => {
                self.error(
                    doc,
                    ErrorKind::InvalidAttribute {
                        element: owner.to_string(),
                        attribute: "UnderlyingType".into(),
                        value: raw.to_string(),
                        expected: if integral {
                            "Edm.Byte, Edm.SByte, Edm.Int16, Edm.Int32 or Edm.Int64"
                        } else {
                            "a primitive type"
                        },
                    },
                    span,
                );
                None
            }
        }
    }

    pub(super) fn property(
        &mut self,
        doc: usize,
        owner: &str,
        property: &mut syntax::Property,
    ) -> Option<Property> {
        let type_ref = self.type_ref(
            doc,
            &property.type_name,
            &|| format!("property `{}` of `{owner}`", property.name),
            property.span,
        )?;
        let annotations = self.annotations(doc, &mut property.annotations);
        let computed = annotations.computed();
        let immutable = annotations.immutable();
        let read_only = computed
            || matches!(
                annotations.permissions(),
                Some(Permissions::Read | Permissions::None)
            );
        Some(Property {
            name: std::mem::take(&mut property.name),
            type_ref,
            nullable: property.nullable.unwrap_or(true),
            facets: property.facets,
            default_value: property.default_value.take(),
            annotations,
            computed,
            immutable,
            read_only,
            origin: Origin {
                source_index: doc,
                span: property.span,
            },
        })
    }

    pub(super) fn navigation(
        &mut self,
        doc: usize,
        owner: &str,
        navigation: &mut syntax::NavigationProperty,
    ) -> Option<NavigationProperty> {
        let context = || format!("navigation property `{}` of `{owner}`", navigation.name);
        let type_ref = self.type_ref(doc, &navigation.type_name, &context, navigation.span)?;
        let target = match type_ref.kind {
            TypeKind::Entity(name) | TypeKind::External(name) => name,
            other => {
                let found = match other {
                    TypeKind::Complex(_) => "complex type",
                    TypeKind::Enum(_) => "enum type",
                    TypeKind::Definition(_) => "type definition",
                    _ => "primitive type",
                };
                self.error(
                    doc,
                    ErrorKind::WrongKind {
                        context: context(),
                        name: navigation.type_name.to_string(),
                        found,
                        expected: "an entity type",
                    },
                    navigation.span,
                );
                return None;
            }
        };
        Some(NavigationProperty {
            name: navigation.name.clone(),
            target,
            collection: type_ref.collection,
            nullable: navigation.nullable.unwrap_or(true),
            partner: navigation.partner.clone(),
            contains_target: navigation.contains_target,
            referential_constraints: navigation
                .referential_constraints
                .iter()
                .map(|c| (c.property.clone(), c.referenced_property.clone()))
                .collect(),
            on_delete: navigation.on_delete.clone(),
            annotations: self.annotations(doc, &mut navigation.annotations),
            origin: Origin {
                source_index: doc,
                span: navigation.span,
            },
        })
    }

    /// Properties and navigation properties of a structured type, with duplicate names reported.
    pub(super) fn members(
        &mut self,
        doc: usize,
        owner: &str,
        properties: &mut [syntax::Property],
        navigations: &mut [syntax::NavigationProperty],
    ) -> (Vec<Property>, Vec<NavigationProperty>) {
        let mut seen: HashMap<&str, Span> = HashMap::default();
        seen.reserve(properties.len() + navigations.len());
        let mut duplicates = Vec::new();
        let names = properties
            .iter()
            .map(|p| (p.name.as_str(), p.span))
            .chain(navigations.iter().map(|n| (n.name.as_str(), n.span)));
        for (name, span) in names {
            if let Some(first) = seen.get(name) {
                duplicates.push(
                    Error::new(
                        ErrorKind::Duplicate {
                            what: "property",
                            name: format!("{owner}/{name}"),
                        },
                        span,
                    )
                    .in_source(doc)
                    .with_related("first defined here", doc, *first),
                );
            } else {
                seen.insert(name, span);
            }
        }
        drop(seen);
        self.errors.extend(duplicates);
        let mut props = Vec::with_capacity(properties.len());
        for p in properties.iter_mut() {
            if let Some(resolved) = self.property(doc, owner, p) {
                props.push(resolved);
            }
        }
        let mut navs = Vec::with_capacity(navigations.len());
        for n in navigations.iter_mut() {
            if let Some(resolved) = self.navigation(doc, owner, n) {
                navs.push(resolved);
            }
        }
        (props, navs)
    }

    pub(super) fn base_type(
        &mut self,
        doc: usize,
        owner: &str,
        raw: Option<&str>,
        expected: Declared,
        span: Span,
    ) -> Option<String> {
        let raw = raw?;
        let qualified = self.qualify(doc, raw.trim());
        match self.declared(&qualified) {
            Some(kind) if kind == expected => Some(qualified),
            Some(kind) => {
                self.error(
                    doc,
                    ErrorKind::WrongKind {
                        context: format!("base type of `{owner}`"),
                        name: qualified,
                        found: kind.describe(),
                        expected: expected.describe(),
                    },
                    span,
                );
                None
            }
            None => {
                let hint = self.suggest(&qualified, raw);
                self.error(
                    doc,
                    ErrorKind::DanglingType {
                        context: format!("base type of `{owner}`"),
                        name: raw.to_string(),
                        hint,
                    },
                    span,
                );
                None
            }
        }
    }

    pub(super) fn entity_type(
        &mut self,
        doc: usize,
        ns: &str,
        entity: &mut syntax::EntityType,
    ) -> EntityType {
        let name = format!("{ns}.{}", entity.name);
        let base_type = self.base_type(
            doc,
            &name,
            entity.base_type.as_deref(),
            Declared::Entity,
            entity.span,
        );
        let (properties, navigation_properties) = self.members(
            doc,
            &name,
            &mut entity.properties,
            &mut entity.navigation_properties,
        );
        let key = entity
            .key
            .as_ref()
            .map(|k| {
                k.property_refs
                    .iter()
                    .map(|r| KeyPart {
                        name: r.name.clone(),
                        alias: r.alias.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        EntityType {
            simple_name: entity.name.clone(),
            namespace: ns.to_string(),
            base_type,
            ancestors: Vec::new(),
            is_abstract: entity.is_abstract,
            open_type: entity.open_type,
            has_stream: entity.has_stream,
            key,
            declares_key: entity.key.is_some(),
            properties,
            navigation_properties,
            annotations: self.annotations(doc, &mut entity.annotations),
            alternate_keys: Vec::new(),
            entity_sets: Vec::new(),
            lookups: Vec::new(),
            company_specific: false,
            origin: Origin {
                source_index: doc,
                span: entity.span,
            },
            name,
        }
    }

    pub(super) fn complex_type(
        &mut self,
        doc: usize,
        ns: &str,
        complex: &mut syntax::ComplexType,
    ) -> ComplexType {
        let name = format!("{ns}.{}", complex.name);
        let base_type = self.base_type(
            doc,
            &name,
            complex.base_type.as_deref(),
            Declared::Complex,
            complex.span,
        );
        let (properties, navigation_properties) = self.members(
            doc,
            &name,
            &mut complex.properties,
            &mut complex.navigation_properties,
        );
        ComplexType {
            simple_name: complex.name.clone(),
            namespace: ns.to_string(),
            base_type,
            ancestors: Vec::new(),
            is_abstract: complex.is_abstract,
            open_type: complex.open_type,
            properties,
            navigation_properties,
            annotations: self.annotations(doc, &mut complex.annotations),
            origin: Origin {
                source_index: doc,
                span: complex.span,
            },
            name,
        }
    }

    pub(super) fn enum_type(&mut self, doc: usize, ns: &str, enum_type: &mut syntax::EnumType) -> EnumType {
        let name = format!("{ns}.{}", enum_type.name);
        let underlying_type = match &enum_type.underlying_type {
            Some(raw) => self
                .underlying_primitive(doc, raw, &name, enum_type.span, true)
                .unwrap_or(Primitive::Int32),
            None => Primitive::Int32,
        };
        let mut members = Vec::with_capacity(enum_type.members.len());
        let mut seen: HashMap<&str, Span> = HashMap::default();
        let mut next = Some(0i64);
        let (min, max, expected): (i64, i64, &'static str) = match underlying_type {
            Primitive::Byte => (
                0,
                u8::MAX.into(),
                "an integer from 0 to 255 (UnderlyingType Edm.Byte)",
            ),
            Primitive::SByte => (
                i8::MIN.into(),
                i8::MAX.into(),
                "an integer from -128 to 127 (UnderlyingType Edm.SByte)",
            ),
            Primitive::Int16 => (
                i16::MIN.into(),
                i16::MAX.into(),
                "an integer from -32768 to 32767 (UnderlyingType Edm.Int16)",
            ),
            Primitive::Int32 => (
                i32::MIN.into(),
                i32::MAX.into(),
                "an integer from -2147483648 to 2147483647 (UnderlyingType Edm.Int32)",
            ),
            _ => (
                i64::MIN,
                i64::MAX,
                "an integer from -9223372036854775808 to 9223372036854775807 (UnderlyingType Edm.Int64)",
            ),
        };
        for member in &mut enum_type.members {
            if let Some(first) = seen.insert(&member.name, member.span) {
                let err = Error::new(
                    ErrorKind::Duplicate {
                        what: "enum member",
                        name: format!("{name}/{}", member.name),
                    },
                    member.span,
                )
                .in_source(doc)
                .with_related("first defined here", doc, first);
                self.errors.push(err);
            }
            let value = match member.value.or(next) {
                Some(value) if (min..=max).contains(&value) => value,
                out_of_range => {
                    let shown = match (member.value, out_of_range) {
                        (Some(v), _) => v.to_string(),
                        (None, Some(v)) => format!("{v} (implied: the previous member's value + 1)"),
                        (None, None) => {
                            "9223372036854775808 (implied: the previous member's value + 1)".into()
                        }
                    };
                    self.errors.push(
                        Error::new(
                            ErrorKind::InvalidAttribute {
                                element: format!("Member Name=\"{}\" of {name}", member.name),
                                attribute: "Value".into(),
                                value: shown,
                                expected,
                            },
                            member.span,
                        )
                        .in_source(doc),
                    );
                    out_of_range.unwrap_or(i64::MAX)
                }
            };
            next = value.checked_add(1);
            members.push(EnumMember {
                name: member.name.clone(),
                value,
                annotations: self.annotations(doc, &mut member.annotations),
                origin: Origin {
                    source_index: doc,
                    span: member.span,
                },
            });
        }
        EnumType {
            simple_name: enum_type.name.clone(),
            namespace: ns.to_string(),
            underlying_type,
            is_flags: enum_type.is_flags,
            members,
            annotations: self.annotations(doc, &mut enum_type.annotations),
            origin: Origin {
                source_index: doc,
                span: enum_type.span,
            },
            name,
        }
    }

    pub(super) fn operation(&mut self, doc: usize, ns: &str, operation: &mut syntax::Operation) -> Operation {
        let name = format!("{ns}.{}", operation.name);
        let mut parameters = Vec::with_capacity(operation.parameters.len());
        for parameter in &mut operation.parameters {
            let type_ref = self.type_ref(
                doc,
                &parameter.type_name,
                &|| format!("parameter `{}` of `{name}`", parameter.name),
                parameter.span,
            );
            if let Some(type_ref) = type_ref {
                parameters.push(Parameter {
                    name: parameter.name.clone(),
                    type_ref,
                    nullable: parameter.nullable.unwrap_or(true),
                    facets: parameter.facets,
                    annotations: self.annotations(doc, &mut parameter.annotations),
                });
            }
        }
        let return_type = operation.return_type.as_ref().and_then(|r| {
            let type_ref =
                self.type_ref(doc, &r.type_name, &|| format!("return type of `{name}`"), r.span)?;
            Some(ReturnType {
                type_ref,
                nullable: r.nullable.unwrap_or(true),
                facets: r.facets,
            })
        });
        Operation {
            name: name.clone(),
            kind: operation.kind,
            is_bound: operation.is_bound,
            is_composable: operation.is_composable,
            entity_set_path: operation.entity_set_path.clone(),
            parameters,
            return_type,
            annotations: self.annotations(doc, &mut operation.annotations),
            origin: Origin {
                source_index: doc,
                span: operation.span,
            },
        }
    }
}
