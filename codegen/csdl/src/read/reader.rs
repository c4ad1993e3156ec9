//! The CSDL XML reader: one pass over quick-xml's event stream, a function per element. It reads
//! whatever part of a document its cursor covers; [`super::parallel`] uses it for the two halves of a
//! split document, and never the other way round.

use std::sync::Arc;

use super::cursor::{Cursor, EDMX_NS, Item, Ns, Tag};
use crate::error::{Error, ErrorKind};
use crate::span::Span;
use crate::syntax::*;

/// Reads a document with a prepared cursor (the whole input, or the first part of a split one).
pub(super) fn parse_with(cursor: &mut Cursor<'_>) -> Result<Document, Error> {
    loop {
        match cursor.next()? {
            Item::Open(tag) => {
                let document = read_edmx(cursor, tag)?;
                expect_end_of_document(cursor)?;
                return Ok(document);
            }
            Item::Text(text, span) if !text.trim().is_empty() => {
                return Err(Error::new(
                    ErrorKind::Xml("text before the root element".into()),
                    span,
                ));
            }
            Item::Text(..) => {}
            Item::Close => {
                return Err(Error::new(
                    ErrorKind::Xml("end tag before the root element".into()),
                    Span::new(0, 0),
                ));
            }
            Item::Eof => {
                return Err(Error::new(
                    ErrorKind::Xml("the document is empty: no root element".into()),
                    Span::new(0, cursor.source().len().min(1)),
                ));
            }
        }
    }
}

pub(super) fn expect_end_of_document(cursor: &mut Cursor<'_>) -> Result<(), Error> {
    loop {
        match cursor.next()? {
            Item::Eof => return Ok(()),
            Item::Text(text, _) if text.trim().is_empty() => {}
            Item::Text(_, span) => {
                return Err(Error::new(
                    ErrorKind::Xml("text after the root element".into()),
                    span,
                ));
            }
            Item::Open(tag) => {
                return Err(Error::new(
                    ErrorKind::Xml(format!("a second root element <{}>", tag.qualified())),
                    tag.span,
                ));
            }
            Item::Close => {
                return Err(Error::new(
                    ErrorKind::Xml("unmatched end tag".into()),
                    Span::new(0, 0),
                ));
            }
        }
    }
}

fn unexpected(tag: &Tag<'_>, parent: &Tag<'_>, expected: &str) -> Error {
    let hint = if tag.ns == Ns::LegacyEdm || tag.ns == Ns::LegacyEdmx {
        String::from(": it is in an OData v2/v3 namespace, which dualsync does not read")
    } else if expected.is_empty() {
        format!(": <{}> has no child elements", parent.local())
    } else {
        format!("; expected one of: {expected}")
    };
    Error::new(
        ErrorKind::UnexpectedElement {
            element: tag.qualified().to_string(),
            parent: parent.qualified().to_string(),
            hint,
        },
        tag.span,
    )
}

fn missing(tag: &Tag<'_>, attribute: &'static str) -> Error {
    Error::new(
        ErrorKind::MissingAttribute {
            element: tag.local().to_string(),
            attribute,
        },
        tag.span,
    )
}

fn required<T>(value: Option<T>, tag: &Tag<'_>, attribute: &'static str) -> Result<T, Error> {
    value.ok_or_else(|| missing(tag, attribute))
}

fn invalid(
    cursor: &Cursor<'_>,
    tag: &Tag<'_>,
    attribute: &str,
    value: &str,
    expected: &'static str,
) -> Error {
    Error::new(
        ErrorKind::InvalidAttribute {
            element: tag.local().to_string(),
            attribute: attribute.to_string(),
            value: value.to_string(),
            expected,
        },
        cursor.attribute_span(tag, attribute),
    )
}

fn parse_bool(cursor: &Cursor<'_>, tag: &Tag<'_>, attribute: &str, value: &str) -> Result<bool, Error> {
    match value.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(invalid(cursor, tag, attribute, value, "`true` or `false`")),
    }
}

fn parse_u32(cursor: &Cursor<'_>, tag: &Tag<'_>, attribute: &str, value: &str) -> Result<u32, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(cursor, tag, attribute, value, "a non-negative integer"))
}

/// Reads a facet attribute into `facets`; returns false when `key` is not a facet.
fn read_facet(
    cursor: &Cursor<'_>,
    tag: &Tag<'_>,
    facets: &mut Facets,
    key: &str,
    value: &str,
) -> Result<bool, Error> {
    match key {
        "MaxLength" => {
            facets.max_length = Some(if value.trim().eq_ignore_ascii_case("max") {
                MaxLength::Max
            } else {
                MaxLength::Length(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| invalid(cursor, tag, key, value, "a non-negative integer or `max`"))?,
                )
            });
        }
        "Precision" => facets.precision = Some(parse_u32(cursor, tag, key, value)?),
        "Scale" => {
            let v = value.trim();
            facets.scale = Some(if v.eq_ignore_ascii_case("variable") {
                Scale::Variable
            } else if v.eq_ignore_ascii_case("floating") {
                Scale::Floating
            } else {
                Scale::Fixed(v.parse().map_err(|_| {
                    invalid(
                        cursor,
                        tag,
                        key,
                        value,
                        "a non-negative integer, `variable` or `floating`",
                    )
                })?)
            });
        }
        "Unicode" => facets.unicode = Some(parse_bool(cursor, tag, key, value)?),
        "SRID" => {
            let v = value.trim();
            facets.srid =
                Some(if v.eq_ignore_ascii_case("variable") {
                    Srid::Variable
                } else {
                    Srid::Value(v.parse().map_err(|_| {
                        invalid(cursor, tag, key, value, "a non-negative integer or `variable`")
                    })?)
                });
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// OData: "The value of Scale MUST be less than or equal to the value of Precision".
fn check_scale(cursor: &Cursor<'_>, tag: &Tag<'_>, facets: &Facets) -> Result<(), Error> {
    match (facets.precision, facets.scale) {
        (Some(precision), Some(Scale::Fixed(scale))) if scale > precision => Err(Error::new(
            ErrorKind::InvalidAttribute {
                element: tag.local().to_string(),
                attribute: "Scale".into(),
                value: scale.to_string(),
                expected: "a scale no greater than the element's Precision",
            },
            cursor.attribute_span(tag, "Scale"),
        )),
        _ => Ok(()),
    }
}

pub(super) fn read_edmx<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<Document, Error> {
    match tag.ns {
        Ns::Edmx if tag.local() == "Edmx" => {}
        Ns::LegacyEdmx => return Err(legacy_error(cursor, &tag)),
        _ => {
            return Err(Error::new(
                ErrorKind::NotEdmx {
                    found: tag.qualified().to_string(),
                    expected: EDMX_NS,
                },
                tag.span,
            ));
        }
    }
    let mut version = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        if key == "Version" {
            version = Some(value.into_owned());
        }
    }
    let version = required(version, &tag, "Version")?;
    if version != "4.0" && version != "4.01" {
        return Err(Error::new(
            ErrorKind::UnsupportedEdmxVersion(version.clone()),
            cursor.attribute_span(&tag, "Version"),
        ));
    }
    let mut document = Document {
        version,
        references: Vec::new(),
        schemas: Vec::new(),
        span: tag.span,
        warnings: Vec::new(),
    };
    let mut seen_data_services = false;
    cursor.children(&tag, |cursor, child| match (child.ns, child.local()) {
        (Ns::Edmx, "Reference") => {
            document.references.push(read_reference(cursor, child)?);
            Ok(())
        }
        (Ns::Edmx, "DataServices") if !seen_data_services => {
            seen_data_services = true;
            cursor.children(&child, |cursor, schema| match (schema.ns, schema.local()) {
                (Ns::Edm, "Schema") => {
                    document.schemas.push(read_schema(cursor, schema)?);
                    Ok(())
                }
                _ => Err(unexpected(&schema, &child, "Schema")),
            })
        }
        _ => Err(unexpected(
            &child,
            &tag,
            "edmx:Reference, edmx:DataServices (once)",
        )),
    })?;
    if !seen_data_services {
        return Err(Error::new(
            ErrorKind::UnexpectedEof {
                element: "edmx:DataServices".into(),
            },
            tag.span,
        )
        .with_related("<edmx:Edmx> has no <edmx:DataServices>", 0, tag.span));
    }
    Ok(document)
}

fn legacy_error(cursor: &Cursor<'_>, tag: &Tag<'_>) -> Error {
    let source = cursor.source();
    let edmx_version = attribute_in(source, tag.span, "Version").unwrap_or_else(|| "1.0".into());
    // DataServiceVersion sits on edmx:DataServices; a plain text search is enough for a message.
    let odata_version = source
        .find("DataServiceVersion=\"")
        .and_then(|at| {
            let rest = &source[at + "DataServiceVersion=\"".len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .map(|v| format!("v{v}"))
        .unwrap_or_else(|| "v2/v3".into());
    Error::new(
        ErrorKind::UnsupportedVersion {
            odata_version,
            edmx_version,
        },
        tag.span,
    )
}

fn attribute_in(source: &str, span: Span, name: &str) -> Option<String> {
    let text = source.get(span.start..span.end)?;
    let at = text.find(&format!("{name}=\""))?;
    let rest = &text[at + name.len() + 2..];
    rest.find('"').map(|end| rest[..end].to_string())
}

pub(super) fn read_reference<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<Reference, Error> {
    let mut uri = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        if key == "Uri" {
            uri = Some(value.into_owned());
        }
    }
    let mut reference = Reference {
        uri: required(uri, &tag, "Uri")?,
        includes: Vec::new(),
        include_annotations: Vec::new(),
        span: tag.span,
    };
    cursor.children(&tag, |cursor, child| match (child.ns, child.local()) {
        (Ns::Edmx, "Include") => {
            let (mut namespace, mut alias) = (None, None);
            for attribute in cursor.attributes(&child) {
                let (key, value) = attribute?;
                match key {
                    "Namespace" => namespace = Some(value.into_owned()),
                    "Alias" => alias = Some(value.into_owned()),
                    _ => {}
                }
            }
            reference.includes.push(Include {
                namespace: required(namespace, &child, "Namespace")?,
                alias,
                span: child.span,
            });
            skip_annotations_only(cursor, &child)
        }
        (Ns::Edmx, "IncludeAnnotations") => {
            let (mut term_namespace, mut qualifier, mut target_namespace) = (None, None, None);
            for attribute in cursor.attributes(&child) {
                let (key, value) = attribute?;
                match key {
                    "TermNamespace" => term_namespace = Some(value.into_owned()),
                    "Qualifier" => qualifier = Some(value.into_owned()),
                    "TargetNamespace" => target_namespace = Some(value.into_owned()),
                    _ => {}
                }
            }
            reference.include_annotations.push(IncludeAnnotations {
                term_namespace: required(term_namespace, &child, "TermNamespace")?,
                qualifier,
                target_namespace,
                span: child.span,
            });
            skip_annotations_only(cursor, &child)
        }
        (Ns::Edm, "Annotation") => {
            read_annotation(cursor, child)?;
            Ok(())
        }
        _ => Err(unexpected(
            &child,
            &tag,
            "edmx:Include, edmx:IncludeAnnotations, Annotation",
        )),
    })?;
    Ok(reference)
}

/// Children of an element that may hold only annotations, which are read and dropped.
fn skip_annotations_only<'i>(cursor: &mut Cursor<'i>, tag: &Tag<'i>) -> Result<(), Error> {
    cursor.children(tag, |cursor, child| match (child.ns, child.local()) {
        (Ns::Edm, "Annotation") => read_annotation(cursor, child).map(drop),
        _ => Err(unexpected(&child, tag, "Annotation")),
    })
}

/// Children that are annotations only, collected into `out`.
fn annotations_only<'i>(
    cursor: &mut Cursor<'i>,
    tag: &Tag<'i>,
    out: &mut Vec<Annotation>,
) -> Result<(), Error> {
    cursor.children(tag, |cursor, child| match (child.ns, child.local()) {
        (Ns::Edm, "Annotation") => {
            out.push(read_annotation(cursor, child)?);
            Ok(())
        }
        _ => Err(unexpected(&child, tag, "Annotation")),
    })
}

pub(super) fn read_schema<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<Schema, Error> {
    let mut schema = Schema {
        span: tag.span,
        ..Schema::default()
    };
    let mut namespace = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Namespace" => namespace = Some(value.into_owned()),
            "Alias" => schema.alias = Some(value.into_owned()),
            _ => {}
        }
    }
    schema.namespace = required(namespace, &tag, "Namespace")?;
    cursor.children(&tag, |cursor, child| {
        schema_child(cursor, &tag, child, &mut schema)
    })?;
    Ok(schema)
}

/// One child element of a `Schema`.
pub(super) fn schema_child<'i>(
    cursor: &mut Cursor<'i>,
    parent: &Tag<'i>,
    child: Tag<'i>,
    schema: &mut Schema,
) -> Result<(), Error> {
    if child.ns != Ns::Edm {
        return Err(unexpected(&child, parent, SCHEMA_CHILDREN));
    }
    match child.local() {
        "EntityType" => schema.entity_types.push(read_entity_type(cursor, child)?),
        "ComplexType" => schema.complex_types.push(read_complex_type(cursor, child)?),
        "EnumType" => schema.enum_types.push(read_enum_type(cursor, child)?),
        "TypeDefinition" => schema.type_definitions.push(read_type_definition(cursor, child)?),
        "Action" => schema
            .actions
            .push(read_operation(cursor, child, OperationKind::Action)?),
        "Function" => schema
            .functions
            .push(read_operation(cursor, child, OperationKind::Function)?),
        "Term" => schema.terms.push(read_term(cursor, child)?),
        "EntityContainer" => schema.entity_containers.push(read_container(cursor, child)?),
        "Annotations" => schema
            .annotation_groups
            .push(read_annotation_group(cursor, child)?),
        "Annotation" => schema.annotations.push(read_annotation(cursor, child)?),
        _ => return Err(unexpected(&child, parent, SCHEMA_CHILDREN)),
    }
    Ok(())
}

const SCHEMA_CHILDREN: &str = "EntityType, ComplexType, EnumType, TypeDefinition, Action, Function, Term, EntityContainer, Annotations, Annotation";

fn read_entity_type<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<EntityType, Error> {
    let mut entity = EntityType {
        span: tag.span,
        ..EntityType::default()
    };
    let mut name = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "BaseType" => entity.base_type = Some(value.into_owned()),
            "Abstract" => entity.is_abstract = parse_bool(cursor, &tag, key, &value)?,
            "OpenType" => entity.open_type = parse_bool(cursor, &tag, key, &value)?,
            "HasStream" => entity.has_stream = parse_bool(cursor, &tag, key, &value)?,
            _ => {}
        }
    }
    entity.name = required(name, &tag, "Name")?;
    cursor.children(&tag, |cursor, child| {
        match (child.ns, child.local()) {
            (Ns::Edm, "Key") if entity.key.is_none() => entity.key = Some(read_key(cursor, child)?),
            (Ns::Edm, "Property") => entity.properties.push(read_property(cursor, child)?),
            (Ns::Edm, "NavigationProperty") => {
                entity.navigation_properties.push(read_navigation(cursor, child)?)
            }
            (Ns::Edm, "Annotation") => entity.annotations.push(read_annotation(cursor, child)?),
            _ => {
                return Err(unexpected(
                    &child,
                    &tag,
                    "Key (once), Property, NavigationProperty, Annotation",
                ));
            }
        }
        Ok(())
    })?;
    Ok(entity)
}

fn read_key<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<Key, Error> {
    let mut property_refs = Vec::new();
    cursor.children(&tag, |cursor, child| match (child.ns, child.local()) {
        (Ns::Edm, "PropertyRef") => {
            let (mut name, mut alias) = (None, None);
            for attribute in cursor.attributes(&child) {
                let (key, value) = attribute?;
                match key {
                    "Name" => name = Some(value.into_owned()),
                    "Alias" => alias = Some(value.into_owned()),
                    _ => {}
                }
            }
            property_refs.push(PropertyRef {
                name: required(name, &child, "Name")?,
                alias,
                span: child.span,
            });
            cursor.children(&child, |_, grandchild| Err(unexpected(&grandchild, &child, "")))
        }
        _ => Err(unexpected(&child, &tag, "PropertyRef")),
    })?;
    Ok(Key {
        property_refs,
        span: tag.span,
    })
}

fn read_complex_type<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<ComplexType, Error> {
    let mut complex = ComplexType {
        span: tag.span,
        ..ComplexType::default()
    };
    let mut name = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "BaseType" => complex.base_type = Some(value.into_owned()),
            "Abstract" => complex.is_abstract = parse_bool(cursor, &tag, key, &value)?,
            "OpenType" => complex.open_type = parse_bool(cursor, &tag, key, &value)?,
            _ => {}
        }
    }
    complex.name = required(name, &tag, "Name")?;
    cursor.children(&tag, |cursor, child| {
        match (child.ns, child.local()) {
            (Ns::Edm, "Property") => complex.properties.push(read_property(cursor, child)?),
            (Ns::Edm, "NavigationProperty") => complex
                .navigation_properties
                .push(read_navigation(cursor, child)?),
            (Ns::Edm, "Annotation") => complex.annotations.push(read_annotation(cursor, child)?),
            _ => {
                return Err(unexpected(
                    &child,
                    &tag,
                    "Property, NavigationProperty, Annotation",
                ));
            }
        }
        Ok(())
    })?;
    Ok(complex)
}

fn read_property<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<Property, Error> {
    let mut property = Property {
        span: tag.span,
        ..Property::default()
    };
    let (mut name, mut type_name) = (None, None);
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "Type" => type_name = Some(cursor.intern(&value)),
            "Nullable" => property.nullable = Some(parse_bool(cursor, &tag, key, &value)?),
            "DefaultValue" => property.default_value = Some(value.into_owned()),
            _ => {
                read_facet(cursor, &tag, &mut property.facets, key, &value)?;
            }
        }
    }
    check_scale(cursor, &tag, &property.facets)?;
    property.name = required(name, &tag, "Name")?;
    property.type_name = required(type_name, &tag, "Type")?;
    annotations_only(cursor, &tag, &mut property.annotations)?;
    Ok(property)
}

fn read_navigation<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<NavigationProperty, Error> {
    let mut navigation = NavigationProperty {
        span: tag.span,
        ..NavigationProperty::default()
    };
    let (mut name, mut type_name) = (None, None);
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "Type" => type_name = Some(cursor.intern(&value)),
            "Nullable" => navigation.nullable = Some(parse_bool(cursor, &tag, key, &value)?),
            "Partner" => navigation.partner = Some(value.into_owned()),
            "ContainsTarget" => navigation.contains_target = parse_bool(cursor, &tag, key, &value)?,
            _ => {}
        }
    }
    navigation.name = required(name, &tag, "Name")?;
    navigation.type_name = required(type_name, &tag, "Type")?;
    cursor.children(&tag, |cursor, child| {
        match (child.ns, child.local()) {
            (Ns::Edm, "ReferentialConstraint") => {
                let (mut property, mut referenced) = (None, None);
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Property" => property = Some(value.into_owned()),
                        "ReferencedProperty" => referenced = Some(value.into_owned()),
                        _ => {}
                    }
                }
                let mut constraint = ReferentialConstraint {
                    property: required(property, &child, "Property")?,
                    referenced_property: required(referenced, &child, "ReferencedProperty")?,
                    annotations: Vec::new(),
                    span: child.span,
                };
                annotations_only(cursor, &child, &mut constraint.annotations)?;
                navigation.referential_constraints.push(constraint);
            }
            (Ns::Edm, "OnDelete") => {
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    if key == "Action" {
                        navigation.on_delete = Some(value.into_owned());
                    }
                }
                if navigation.on_delete.is_none() {
                    return Err(missing(&child, "Action"));
                }
                skip_annotations_only(cursor, &child)?;
            }
            (Ns::Edm, "Annotation") => navigation.annotations.push(read_annotation(cursor, child)?),
            _ => {
                return Err(unexpected(
                    &child,
                    &tag,
                    "ReferentialConstraint, OnDelete, Annotation",
                ));
            }
        }
        Ok(())
    })?;
    Ok(navigation)
}

fn read_enum_type<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<EnumType, Error> {
    let mut enum_type = EnumType {
        span: tag.span,
        ..EnumType::default()
    };
    let mut name = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "UnderlyingType" => enum_type.underlying_type = Some(value.into_owned()),
            "IsFlags" => enum_type.is_flags = parse_bool(cursor, &tag, key, &value)?,
            _ => {}
        }
    }
    enum_type.name = required(name, &tag, "Name")?;
    cursor.children(&tag, |cursor, child| {
        match (child.ns, child.local()) {
            (Ns::Edm, "Member") => {
                let (mut name, mut value) = (None, None);
                for attribute in cursor.attributes(&child) {
                    let (key, text) = attribute?;
                    match key {
                        "Name" => name = Some(text.into_owned()),
                        "Value" => {
                            value = Some(
                                text.trim()
                                    .parse::<i64>()
                                    .map_err(|_| invalid(cursor, &child, key, &text, "an integer"))?,
                            )
                        }
                        _ => {}
                    }
                }
                let mut member = EnumMember {
                    name: required(name, &child, "Name")?,
                    value,
                    annotations: Vec::new(),
                    span: child.span,
                };
                annotations_only(cursor, &child, &mut member.annotations)?;
                enum_type.members.push(member);
            }
            (Ns::Edm, "Annotation") => enum_type.annotations.push(read_annotation(cursor, child)?),
            _ => return Err(unexpected(&child, &tag, "Member, Annotation")),
        }
        Ok(())
    })?;
    Ok(enum_type)
}

fn read_type_definition<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<TypeDefinition, Error> {
    let mut definition = TypeDefinition {
        span: tag.span,
        ..TypeDefinition::default()
    };
    let (mut name, mut underlying) = (None, None);
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "UnderlyingType" => underlying = Some(value.into_owned()),
            _ => {
                read_facet(cursor, &tag, &mut definition.facets, key, &value)?;
            }
        }
    }
    check_scale(cursor, &tag, &definition.facets)?;
    definition.name = required(name, &tag, "Name")?;
    definition.underlying_type = required(underlying, &tag, "UnderlyingType")?;
    annotations_only(cursor, &tag, &mut definition.annotations)?;
    Ok(definition)
}

fn read_operation<'i>(
    cursor: &mut Cursor<'i>,
    tag: Tag<'i>,
    kind: OperationKind,
) -> Result<Operation, Error> {
    let mut operation = Operation {
        kind,
        span: tag.span,
        ..Operation::default()
    };
    let mut name = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "IsBound" => operation.is_bound = parse_bool(cursor, &tag, key, &value)?,
            "IsComposable" => operation.is_composable = parse_bool(cursor, &tag, key, &value)?,
            "EntitySetPath" => operation.entity_set_path = Some(value.into_owned()),
            _ => {}
        }
    }
    operation.name = required(name, &tag, "Name")?;
    cursor.children(&tag, |cursor, child| {
        match (child.ns, child.local()) {
            (Ns::Edm, "Parameter") => {
                let (mut name, mut type_name, mut nullable) = (None, None, None);
                let mut facets = Facets::default();
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Name" => name = Some(value.into_owned()),
                        "Type" => type_name = Some(cursor.intern(&value)),
                        "Nullable" => nullable = Some(parse_bool(cursor, &child, key, &value)?),
                        _ => {
                            read_facet(cursor, &child, &mut facets, key, &value)?;
                        }
                    }
                }
                check_scale(cursor, &child, &facets)?;
                let mut parameter = Parameter {
                    name: required(name, &child, "Name")?,
                    type_name: required(type_name, &child, "Type")?,
                    nullable,
                    facets,
                    annotations: Vec::new(),
                    span: child.span,
                };
                annotations_only(cursor, &child, &mut parameter.annotations)?;
                operation.parameters.push(parameter);
            }
            (Ns::Edm, "ReturnType") if operation.return_type.is_none() => {
                let (mut type_name, mut nullable) = (None, None);
                let mut facets = Facets::default();
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Type" => type_name = Some(cursor.intern(&value)),
                        "Nullable" => nullable = Some(parse_bool(cursor, &child, key, &value)?),
                        _ => {
                            read_facet(cursor, &child, &mut facets, key, &value)?;
                        }
                    }
                }
                check_scale(cursor, &child, &facets)?;
                let mut return_type = ReturnType {
                    type_name: required(type_name, &child, "Type")?,
                    nullable,
                    facets,
                    annotations: Vec::new(),
                    span: child.span,
                };
                annotations_only(cursor, &child, &mut return_type.annotations)?;
                operation.return_type = Some(return_type);
            }
            (Ns::Edm, "Annotation") => operation.annotations.push(read_annotation(cursor, child)?),
            _ => {
                return Err(unexpected(
                    &child,
                    &tag,
                    "Parameter, ReturnType (once), Annotation",
                ));
            }
        }
        Ok(())
    })?;
    Ok(operation)
}

fn read_term<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<Term, Error> {
    let (mut name, mut type_name) = (None, None);
    let mut term = Term {
        name: String::new(),
        type_name: Arc::from(""),
        base_term: None,
        applies_to: None,
        nullable: None,
        default_value: None,
        facets: Facets::default(),
        annotations: Vec::new(),
        span: tag.span,
    };
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "Type" => type_name = Some(cursor.intern(&value)),
            "BaseTerm" => term.base_term = Some(value.into_owned()),
            "AppliesTo" => term.applies_to = Some(value.into_owned()),
            "Nullable" => term.nullable = Some(parse_bool(cursor, &tag, key, &value)?),
            "DefaultValue" => term.default_value = Some(value.into_owned()),
            _ => {
                read_facet(cursor, &tag, &mut term.facets, key, &value)?;
            }
        }
    }
    check_scale(cursor, &tag, &term.facets)?;
    term.name = required(name, &tag, "Name")?;
    term.type_name = required(type_name, &tag, "Type")?;
    annotations_only(cursor, &tag, &mut term.annotations)?;
    Ok(term)
}

fn read_container<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<EntityContainer, Error> {
    let mut container = EntityContainer {
        span: tag.span,
        ..EntityContainer::default()
    };
    let mut name = None;
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Name" => name = Some(value.into_owned()),
            "Extends" => container.extends = Some(value.into_owned()),
            _ => {}
        }
    }
    container.name = required(name, &tag, "Name")?;
    cursor.children(&tag, |cursor, child| {
        if child.ns != Ns::Edm {
            return Err(unexpected(&child, &tag, CONTAINER_CHILDREN));
        }
        match child.local() {
            "EntitySet" => {
                let (mut name, mut entity_type, mut include) = (None, None, None);
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Name" => name = Some(value.into_owned()),
                        "EntityType" => entity_type = Some(value.into_owned()),
                        "IncludeInServiceDocument" => {
                            include = Some(parse_bool(cursor, &child, key, &value)?)
                        }
                        _ => {}
                    }
                }
                let mut set = EntitySet {
                    name: required(name, &child, "Name")?,
                    entity_type: required(entity_type, &child, "EntityType")?,
                    include_in_service_document: include,
                    bindings: Vec::new(),
                    annotations: Vec::new(),
                    span: child.span,
                };
                read_bindings(cursor, &child, &mut set.bindings, &mut set.annotations)?;
                container.entity_sets.push(set);
            }
            "Singleton" => {
                let (mut name, mut type_name, mut nullable) = (None, None, None);
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Name" => name = Some(value.into_owned()),
                        "Type" => type_name = Some(cursor.intern(&value)),
                        "Nullable" => nullable = Some(parse_bool(cursor, &child, key, &value)?),
                        _ => {}
                    }
                }
                let mut singleton = Singleton {
                    name: required(name, &child, "Name")?,
                    type_name: required(type_name, &child, "Type")?,
                    nullable,
                    bindings: Vec::new(),
                    annotations: Vec::new(),
                    span: child.span,
                };
                read_bindings(
                    cursor,
                    &child,
                    &mut singleton.bindings,
                    &mut singleton.annotations,
                )?;
                container.singletons.push(singleton);
            }
            "ActionImport" => {
                let (mut name, mut action, mut entity_set) = (None, None, None);
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Name" => name = Some(value.into_owned()),
                        "Action" => action = Some(value.into_owned()),
                        "EntitySet" => entity_set = Some(value.into_owned()),
                        _ => {}
                    }
                }
                let mut import = ActionImport {
                    name: required(name, &child, "Name")?,
                    action: required(action, &child, "Action")?,
                    entity_set,
                    annotations: Vec::new(),
                    span: child.span,
                };
                annotations_only(cursor, &child, &mut import.annotations)?;
                container.action_imports.push(import);
            }
            "FunctionImport" => {
                let (mut name, mut function, mut entity_set, mut include) = (None, None, None, None);
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Name" => name = Some(value.into_owned()),
                        "Function" => function = Some(value.into_owned()),
                        "EntitySet" => entity_set = Some(value.into_owned()),
                        "IncludeInServiceDocument" => {
                            include = Some(parse_bool(cursor, &child, key, &value)?)
                        }
                        _ => {}
                    }
                }
                let mut import = FunctionImport {
                    name: required(name, &child, "Name")?,
                    function: required(function, &child, "Function")?,
                    entity_set,
                    include_in_service_document: include,
                    annotations: Vec::new(),
                    span: child.span,
                };
                annotations_only(cursor, &child, &mut import.annotations)?;
                container.function_imports.push(import);
            }
            "Annotation" => container.annotations.push(read_annotation(cursor, child)?),
            _ => return Err(unexpected(&child, &tag, CONTAINER_CHILDREN)),
        }
        Ok(())
    })?;
    Ok(container)
}

const CONTAINER_CHILDREN: &str = "EntitySet, Singleton, ActionImport, FunctionImport, Annotation";

fn read_bindings<'i>(
    cursor: &mut Cursor<'i>,
    tag: &Tag<'i>,
    bindings: &mut Vec<NavigationPropertyBinding>,
    annotations: &mut Vec<Annotation>,
) -> Result<(), Error> {
    cursor.children(tag, |cursor, child| {
        match (child.ns, child.local()) {
            (Ns::Edm, "NavigationPropertyBinding") => {
                let (mut path, mut target) = (None, None);
                for attribute in cursor.attributes(&child) {
                    let (key, value) = attribute?;
                    match key {
                        "Path" => path = Some(value.into_owned()),
                        "Target" => target = Some(value.into_owned()),
                        _ => {}
                    }
                }
                bindings.push(NavigationPropertyBinding {
                    path: required(path, &child, "Path")?,
                    target: required(target, &child, "Target")?,
                    span: child.span,
                });
                cursor.children(&child, |_, grandchild| Err(unexpected(&grandchild, &child, "")))?;
            }
            (Ns::Edm, "Annotation") => annotations.push(read_annotation(cursor, child)?),
            _ => {
                return Err(unexpected(&child, tag, "NavigationPropertyBinding, Annotation"));
            }
        }
        Ok(())
    })
}

fn read_annotation_group<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<AnnotationGroup, Error> {
    let (mut target, mut qualifier) = (None, None);
    for attribute in cursor.attributes(&tag) {
        let (key, value) = attribute?;
        match key {
            "Target" => target = Some(value.into_owned()),
            "Qualifier" => qualifier = Some(value.into_owned()),
            _ => {}
        }
    }
    let mut group = AnnotationGroup {
        target: required(target, &tag, "Target")?,
        qualifier,
        annotations: Vec::new(),
        span: tag.span,
    };
    annotations_only(cursor, &tag, &mut group.annotations)?;
    Ok(group)
}

/// `Annotation`: term, qualifier, a value in attribute or element form, and nested annotations.
fn read_annotation<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<Annotation, Error> {
    let (mut term, mut qualifier, mut value) = (None, None, None);
    for attribute in cursor.attributes(&tag) {
        let (key, text) = attribute?;
        match key {
            "Term" => term = Some(cursor.intern(&text)),
            "Qualifier" => qualifier = Some(text.into_owned()),
            _ => {
                if let Some(expression) = attribute_expression(cursor, key, &text) {
                    value = Some(expression);
                }
            }
        }
    }
    let mut annotation = Annotation {
        term: required(term, &tag, "Term")?,
        qualifier,
        value,
        annotations: Vec::new(),
        span: tag.span,
    };
    cursor.children(&tag, |cursor, child| {
        if child.ns == Ns::Edm && child.local() == "Annotation" {
            annotation.annotations.push(read_annotation(cursor, child)?);
            return Ok(());
        }
        if annotation.value.is_some() {
            return Err(unexpected(
                &child,
                &tag,
                "Annotation (the value is already given)",
            ));
        }
        annotation.value = Some(read_expression(cursor, child, &tag)?);
        Ok(())
    })?;
    Ok(annotation)
}

/// An expression given as an attribute (`String="..."`, `Path="..."`, ...).
fn attribute_expression(cursor: &Cursor<'_>, key: &str, text: &str) -> Option<Expression> {
    if let Some(kind) = ConstantKind::from_xml_name(key) {
        return Some(Expression::Constant {
            kind,
            value: constant_value(cursor, kind, text),
        });
    }
    PathKind::from_xml_name(key).map(|kind| Expression::Path {
        kind,
        path: text.to_string(),
    })
}

/// Enum members (`AXType/String`, `PermissionType/Read`) repeat by the thousand: one shared copy
/// each. Other constants (descriptions, F&O label ids) are mostly distinct, so interning would only
/// cost a hash-table entry.
fn constant_value(cursor: &Cursor<'_>, kind: ConstantKind, text: &str) -> Arc<str> {
    if kind == ConstantKind::EnumMember || kind == ConstantKind::Bool {
        cursor.intern(text)
    } else {
        Arc::from(text)
    }
}

const EXPRESSIONS: &str = "a constant (String, Int, Bool, ...), a path, Null, Collection, Record, or a dynamic expression (Apply, If, Eq, ...)";

const DYNAMIC_EXPRESSIONS: &[&str] = &[
    "Apply",
    "Cast",
    "Eq",
    "Ne",
    "Gt",
    "Ge",
    "Lt",
    "Le",
    "And",
    "Or",
    "Not",
    "Has",
    "In",
    "Add",
    "Sub",
    "Neg",
    "Mul",
    "Div",
    "DivBy",
    "Mod",
    "If",
    "IsOf",
    "LabeledElement",
    "LabeledElementReference",
    "UrlRef",
];

fn read_expression<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>, parent: &Tag<'i>) -> Result<Expression, Error> {
    if tag.ns != Ns::Edm {
        return Err(unexpected(&tag, parent, EXPRESSIONS));
    }
    let local = tag.local();
    if let Some(kind) = ConstantKind::from_xml_name(local) {
        let text = cursor.text_content(&tag)?;
        let value = constant_value(cursor, kind, &text);
        return Ok(Expression::Constant { kind, value });
    }
    if let Some(kind) = PathKind::from_xml_name(local) {
        let path = cursor.text_content(&tag)?;
        let path = path.as_ref();
        return Ok(Expression::Path {
            kind,
            path: path.trim().to_string(),
        });
    }
    match local {
        "Null" => {
            skip_annotations_only(cursor, &tag)?;
            Ok(Expression::Null)
        }
        "Collection" => {
            let mut items = Vec::new();
            cursor.children(&tag, |cursor, child| {
                items.push(read_expression(cursor, child, &tag)?);
                Ok(())
            })?;
            Ok(Expression::Collection(items))
        }
        "Record" => {
            let mut record = Record {
                type_name: None,
                properties: Vec::new(),
                annotations: Vec::new(),
            };
            for attribute in cursor.attributes(&tag) {
                let (key, value) = attribute?;
                if key == "Type" {
                    record.type_name = Some(value.into_owned());
                }
            }
            cursor.children(&tag, |cursor, child| {
                match (child.ns, child.local()) {
                    (Ns::Edm, "PropertyValue") => record.properties.push(read_property_value(cursor, child)?),
                    (Ns::Edm, "Annotation") => record.annotations.push(read_annotation(cursor, child)?),
                    _ => return Err(unexpected(&child, &tag, "PropertyValue, Annotation")),
                }
                Ok(())
            })?;
            Ok(Expression::Record(Box::new(record)))
        }
        name if DYNAMIC_EXPRESSIONS.contains(&name) => {
            let mut attributes: Vec<(String, String)> = Vec::new();
            for attribute in cursor.attributes(&tag) {
                let (k, v) = attribute?;
                attributes.push((k.to_string(), v.into_owned()));
            }
            let mut operands = Vec::new();
            for (key, value) in &attributes {
                if let Some(expression) = attribute_expression(cursor, key, value) {
                    operands.push(expression);
                }
            }
            if tag.empty {
                return Ok(Expression::Dynamic(Box::new(DynamicExpression {
                    element: local.to_string(),
                    attributes,
                    operands,
                })));
            }
            let mut text = String::new();
            cursor.enter(&tag)?;
            let result = (|| -> Result<(), Error> {
                loop {
                    match cursor.next()? {
                        Item::Open(child) => {
                            if child.ns == Ns::Edm && child.local() == "Annotation" {
                                read_annotation(cursor, child)?;
                            } else if child.ns == Ns::Other {
                                cursor.skip(&child)?;
                            } else {
                                operands.push(read_expression(cursor, child, &tag)?);
                            }
                        }
                        Item::Text(t, _) => text.push_str(&t),
                        Item::Close => return Ok(()),
                        Item::Eof => {
                            return Err(Error::new(
                                ErrorKind::UnexpectedEof {
                                    element: tag.qualified().to_string(),
                                },
                                Span::new(cursor.source().len(), cursor.source().len()),
                            ));
                        }
                    }
                }
            })();
            cursor.leave();
            result?;
            if !text.trim().is_empty() {
                attributes.push(("$text".into(), text.trim().to_string()));
            }
            Ok(Expression::Dynamic(Box::new(DynamicExpression {
                element: local.to_string(),
                attributes,
                operands,
            })))
        }
        _ => Err(unexpected(&tag, parent, EXPRESSIONS)),
    }
}

fn read_property_value<'i>(cursor: &mut Cursor<'i>, tag: Tag<'i>) -> Result<PropertyValue, Error> {
    let (mut property, mut value) = (None, None);
    for attribute in cursor.attributes(&tag) {
        let (key, text) = attribute?;
        if key == "Property" {
            property = Some(text.into_owned());
        } else if let Some(expression) = attribute_expression(cursor, key, &text) {
            value = Some(expression);
        }
    }
    let mut property_value = PropertyValue {
        property: required(property, &tag, "Property")?,
        value,
        annotations: Vec::new(),
    };
    cursor.children(&tag, |cursor, child| {
        if child.ns == Ns::Edm && child.local() == "Annotation" {
            property_value.annotations.push(read_annotation(cursor, child)?);
            return Ok(());
        }
        if property_value.value.is_some() {
            return Err(unexpected(
                &child,
                &tag,
                "Annotation (the value is already given)",
            ));
        }
        property_value.value = Some(read_expression(cursor, child, &tag)?);
        Ok(())
    })?;
    Ok(property_value)
}
