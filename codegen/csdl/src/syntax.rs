//! The CSDL syntax tree: what a document says, element by element, with byte spans and names as
//! written (aliases not yet resolved). [`crate::model`] turns it into a resolved model.

use std::sync::Arc;

use crate::error::Warning;
use crate::span::Span;

/// One EDMX document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `Version` of `edmx:Edmx`: `4.0` or `4.01`.
    pub version: String,
    /// `edmx:Reference` elements, in document order.
    pub references: Vec<Reference>,
    /// Every `Schema` under `edmx:DataServices`, in document order.
    pub schemas: Vec<Schema>,
    /// Span of the `edmx:Edmx` start tag.
    pub span: Span,
    /// What the reader accepted but a reader should know (e.g. an undeclared namespace prefix on an
    /// attribute), in document order; [`crate::Model::resolve`] moves them into the model.
    pub warnings: Vec<Warning>,
}

/// `edmx:Reference`: another document whose namespaces this one may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub uri: String,
    pub includes: Vec<Include>,
    pub include_annotations: Vec<IncludeAnnotations>,
    pub span: Span,
}

/// `edmx:Include`: a namespace of a referenced document, optionally under an alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    pub namespace: String,
    pub alias: Option<String>,
    pub span: Span,
}

/// `edmx:IncludeAnnotations`.
#[derive(Debug, Clone, PartialEq)]
pub struct IncludeAnnotations {
    pub term_namespace: String,
    pub qualifier: Option<String>,
    pub target_namespace: Option<String>,
    pub span: Span,
}

/// `Schema`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub namespace: String,
    pub alias: Option<String>,
    pub entity_types: Vec<EntityType>,
    pub complex_types: Vec<ComplexType>,
    pub enum_types: Vec<EnumType>,
    pub type_definitions: Vec<TypeDefinition>,
    pub actions: Vec<Operation>,
    pub functions: Vec<Operation>,
    pub terms: Vec<Term>,
    pub entity_containers: Vec<EntityContainer>,
    /// External annotations: `Annotations Target="..."`.
    pub annotation_groups: Vec<AnnotationGroup>,
    /// Annotations on the schema itself.
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `EntityType`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityType {
    pub name: String,
    pub base_type: Option<String>,
    pub is_abstract: bool,
    pub open_type: bool,
    pub has_stream: bool,
    pub key: Option<Key>,
    pub properties: Vec<Property>,
    pub navigation_properties: Vec<NavigationProperty>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `Key`.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub property_refs: Vec<PropertyRef>,
    pub span: Span,
}

/// `PropertyRef` in a `Key`: a property path, with an alias when the path goes through a complex type.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyRef {
    pub name: String,
    pub alias: Option<String>,
    pub span: Span,
}

/// `ComplexType`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComplexType {
    pub name: String,
    pub base_type: Option<String>,
    pub is_abstract: bool,
    pub open_type: bool,
    pub properties: Vec<Property>,
    pub navigation_properties: Vec<NavigationProperty>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `MaxLength` facet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MaxLength {
    Max,
    Length(u64),
}

/// `Scale` facet: a number, `variable` (any scale up to the precision) or, in 4.01, `floating`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scale {
    Fixed(u32),
    Variable,
    Floating,
}

/// `SRID` facet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Srid {
    Variable,
    Value(u32),
}

/// The facets a property, parameter, return type, term or type definition may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Facets {
    pub max_length: Option<MaxLength>,
    pub precision: Option<u32>,
    pub scale: Option<Scale>,
    pub unicode: Option<bool>,
    pub srid: Option<Srid>,
}

impl std::fmt::Display for Facets {
    /// The facets as CSDL attributes, e.g. `MaxLength=20 Precision=32 Scale=6`; empty when none is set.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        match self.max_length {
            Some(MaxLength::Max) => parts.push("MaxLength=max".into()),
            Some(MaxLength::Length(n)) => parts.push(format!("MaxLength={n}")),
            None => {}
        }
        if let Some(p) = self.precision {
            parts.push(format!("Precision={p}"));
        }
        match self.scale {
            Some(Scale::Fixed(s)) => parts.push(format!("Scale={s}")),
            Some(Scale::Variable) => parts.push("Scale=variable".into()),
            Some(Scale::Floating) => parts.push("Scale=floating".into()),
            None => {}
        }
        if let Some(u) = self.unicode {
            parts.push(format!("Unicode={u}"));
        }
        match self.srid {
            Some(Srid::Variable) => parts.push("SRID=variable".into()),
            Some(Srid::Value(v)) => parts.push(format!("SRID={v}")),
            None => {}
        }
        f.write_str(&parts.join(" "))
    }
}

/// `Property` (structural).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Property {
    pub name: String,
    /// The type as written, e.g. `Edm.String`, `mscrm.crmbaseentity`, `Collection(Edm.Int32)`
    /// (shared: type names repeat across thousands of properties).
    pub type_name: Arc<str>,
    /// `Nullable`, absent meaning true.
    pub nullable: Option<bool>,
    pub facets: Facets,
    pub default_value: Option<String>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `NavigationProperty`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NavigationProperty {
    pub name: String,
    pub type_name: Arc<str>,
    pub nullable: Option<bool>,
    pub partner: Option<String>,
    pub contains_target: bool,
    pub referential_constraints: Vec<ReferentialConstraint>,
    /// `OnDelete Action`.
    pub on_delete: Option<String>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `ReferentialConstraint`: the dependent `Property` must equal the principal's `ReferencedProperty`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferentialConstraint {
    pub property: String,
    pub referenced_property: String,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `EnumType`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnumType {
    pub name: String,
    pub underlying_type: Option<String>,
    pub is_flags: bool,
    pub members: Vec<EnumMember>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `Member` of an `EnumType`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumMember {
    pub name: String,
    /// `Value` as written; absent means the previous member's value + 1 (or 0).
    pub value: Option<i64>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `TypeDefinition`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypeDefinition {
    pub name: String,
    pub underlying_type: String,
    pub facets: Facets,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// Whether an [`Operation`] is an `Action` or a `Function`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OperationKind {
    #[default]
    Action,
    Function,
}

/// `Action` or `Function` (one overload).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Operation {
    pub kind: OperationKind,
    pub name: String,
    pub is_bound: bool,
    pub is_composable: bool,
    pub entity_set_path: Option<String>,
    pub parameters: Vec<Parameter>,
    pub return_type: Option<ReturnType>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `Parameter` of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub type_name: Arc<str>,
    pub nullable: Option<bool>,
    pub facets: Facets,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `ReturnType` of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnType {
    pub type_name: Arc<str>,
    pub nullable: Option<bool>,
    pub facets: Facets,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `Term`: a vocabulary term definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub name: String,
    pub type_name: Arc<str>,
    pub base_term: Option<String>,
    pub applies_to: Option<String>,
    pub nullable: Option<bool>,
    pub default_value: Option<String>,
    pub facets: Facets,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `EntityContainer`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntityContainer {
    pub name: String,
    pub extends: Option<String>,
    pub entity_sets: Vec<EntitySet>,
    pub singletons: Vec<Singleton>,
    pub action_imports: Vec<ActionImport>,
    pub function_imports: Vec<FunctionImport>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `EntitySet`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySet {
    pub name: String,
    pub entity_type: String,
    pub include_in_service_document: Option<bool>,
    pub bindings: Vec<NavigationPropertyBinding>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `Singleton`.
#[derive(Debug, Clone, PartialEq)]
pub struct Singleton {
    pub name: String,
    pub type_name: Arc<str>,
    pub nullable: Option<bool>,
    pub bindings: Vec<NavigationPropertyBinding>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `NavigationPropertyBinding`: which entity set a navigation property's targets live in.
#[derive(Debug, Clone, PartialEq)]
pub struct NavigationPropertyBinding {
    pub path: String,
    pub target: String,
    pub span: Span,
}

/// `ActionImport`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionImport {
    pub name: String,
    pub action: String,
    pub entity_set: Option<String>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `FunctionImport`.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionImport {
    pub name: String,
    pub function: String,
    pub entity_set: Option<String>,
    pub include_in_service_document: Option<bool>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `Annotations Target="..."`: annotations applied from outside the annotated element.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationGroup {
    pub target: String,
    pub qualifier: Option<String>,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `Annotation`: a term applied to an element, with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The term as written (may use an alias, e.g. `Core.Description`); shared between annotations.
    pub term: Arc<str>,
    pub qualifier: Option<String>,
    /// The value; `None` means the term's default (usually `true` for tagging terms).
    pub value: Option<Expression>,
    /// Annotations on the annotation.
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// The kind of a constant expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConstantKind {
    Binary,
    Bool,
    Date,
    DateTimeOffset,
    Decimal,
    Duration,
    EnumMember,
    Float,
    Guid,
    Int,
    String,
    TimeOfDay,
}

impl ConstantKind {
    /// The attribute / element name of this constant kind.
    pub fn xml_name(self) -> &'static str {
        match self {
            ConstantKind::Binary => "Binary",
            ConstantKind::Bool => "Bool",
            ConstantKind::Date => "Date",
            ConstantKind::DateTimeOffset => "DateTimeOffset",
            ConstantKind::Decimal => "Decimal",
            ConstantKind::Duration => "Duration",
            ConstantKind::EnumMember => "EnumMember",
            ConstantKind::Float => "Float",
            ConstantKind::Guid => "Guid",
            ConstantKind::Int => "Int",
            ConstantKind::String => "String",
            ConstantKind::TimeOfDay => "TimeOfDay",
        }
    }

    pub(crate) fn from_xml_name(name: &str) -> Option<Self> {
        Some(match name {
            "Binary" => ConstantKind::Binary,
            "Bool" => ConstantKind::Bool,
            "Date" => ConstantKind::Date,
            "DateTimeOffset" => ConstantKind::DateTimeOffset,
            "Decimal" => ConstantKind::Decimal,
            "Duration" => ConstantKind::Duration,
            "EnumMember" => ConstantKind::EnumMember,
            "Float" => ConstantKind::Float,
            "Guid" => ConstantKind::Guid,
            "Int" => ConstantKind::Int,
            "String" => ConstantKind::String,
            "TimeOfDay" => ConstantKind::TimeOfDay,
            _ => return None,
        })
    }
}

/// The kind of a path expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathKind {
    AnnotationPath,
    ModelElementPath,
    NavigationPropertyPath,
    Path,
    PropertyPath,
}

impl PathKind {
    /// The attribute / element name of this path kind.
    pub fn xml_name(self) -> &'static str {
        match self {
            PathKind::AnnotationPath => "AnnotationPath",
            PathKind::ModelElementPath => "ModelElementPath",
            PathKind::NavigationPropertyPath => "NavigationPropertyPath",
            PathKind::Path => "Path",
            PathKind::PropertyPath => "PropertyPath",
        }
    }

    pub(crate) fn from_xml_name(name: &str) -> Option<Self> {
        Some(match name {
            "AnnotationPath" => PathKind::AnnotationPath,
            "ModelElementPath" => PathKind::ModelElementPath,
            "NavigationPropertyPath" => PathKind::NavigationPropertyPath,
            "Path" => PathKind::Path,
            "PropertyPath" => PathKind::PropertyPath,
            _ => return None,
        })
    }
}

/// An annotation value: constant and dynamic expressions of CSDL.
#[derive(Debug, Clone, PartialEq)]
pub enum Expression {
    /// A constant, its text kept as written (a decimal is never parsed into a float here).
    Constant { kind: ConstantKind, value: Arc<str> },
    /// A path expression.
    Path { kind: PathKind, path: String },
    /// `Null`.
    Null,
    /// `Collection`.
    Collection(Vec<Expression>),
    /// `Record`.
    Record(Box<Record>),
    /// Any other dynamic expression (`Apply`, `If`, `Eq`, `Cast`, `LabeledElement`, `UrlRef`, ...).
    Dynamic(Box<DynamicExpression>),
}

/// A dynamic expression other than a record or collection: the element name, its attributes, and its
/// operands (attribute-form operands first).
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicExpression {
    pub element: String,
    pub attributes: Vec<(String, String)>,
    pub operands: Vec<Expression>,
}

/// `Record` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub type_name: Option<String>,
    pub properties: Vec<PropertyValue>,
    pub annotations: Vec<Annotation>,
}

/// `PropertyValue` in a record.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyValue {
    pub property: String,
    pub value: Option<Expression>,
    pub annotations: Vec<Annotation>,
}

impl Expression {
    /// The text of a constant or path expression.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Expression::Constant { value, .. } => Some(value),
            Expression::Path { path, .. } => Some(path),
            _ => None,
        }
    }

    /// A `Bool` constant's value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Expression::Constant {
                kind: ConstantKind::Bool,
                value,
            } => match value.trim() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
}
