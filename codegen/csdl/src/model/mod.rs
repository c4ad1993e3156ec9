//! The resolved model: every name qualified with its namespace (aliases gone), every type reference
//! checked and classified, inherited keys computed, entity sets linked to their types, and the
//! Dataverse and F&O facts that generators need (lookups, alternate keys, read-only columns,
//! company-specific entities, option sets). Maps are `BTreeMap`s so every walk is deterministic.

mod annotations;
mod optionsets;
mod outline;
mod resolve;
mod summary;
mod types;

use std::collections::{BTreeMap, BTreeSet};

pub use annotations::{Annotation, Annotations, Permissions, terms};
pub use optionsets::{AttributeFacts, OptionSet, OptionSetKind, OptionValue, RequiredLevel, TableOptionSets};
pub use summary::{Counts, TypeSize};
pub use types::{GeoKind, Primitive, TypeKind, TypeRef};

use crate::error::Warning;
use crate::span::Span;
use crate::syntax::Facets;

/// A set of CSDL documents, resolved together.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Per document, in the order given: its version, references and the namespaces it defines.
    pub documents: Vec<DocumentInfo>,
    /// Schemas by namespace.
    pub schemas: BTreeMap<String, SchemaInfo>,
    pub entity_types: BTreeMap<String, EntityType>,
    pub complex_types: BTreeMap<String, ComplexType>,
    pub enum_types: BTreeMap<String, EnumType>,
    pub type_definitions: BTreeMap<String, TypeDefinition>,
    /// Actions by qualified name; each entry holds every overload in document order.
    pub actions: BTreeMap<String, Vec<Operation>>,
    /// Functions by qualified name; each entry holds every overload in document order.
    pub functions: BTreeMap<String, Vec<Operation>>,
    pub terms: BTreeMap<String, Term>,
    pub containers: BTreeMap<String, EntityContainer>,
    /// Namespaces that documents include by `edmx:Reference` but that no given document defines:
    /// types from them are [`TypeKind::External`], not errors.
    pub external_namespaces: BTreeSet<String>,
    /// Dataverse option sets by table logical name (see [`Model::attach_option_sets`]).
    pub option_sets: BTreeMap<String, TableOptionSets>,
    /// Problems that do not stop the model from being used, in the order found.
    pub warnings: Vec<Warning>,
}

/// What the model keeps of one document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentInfo {
    pub version: String,
    /// Namespaces of the schemas in this document, in document order.
    pub namespaces: Vec<String>,
    /// `(uri, included namespace, alias)` of each `edmx:Include`.
    pub includes: Vec<(String, String, Option<String>)>,
}

/// A schema (namespace).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaInfo {
    pub namespace: String,
    pub alias: Option<String>,
    pub annotations: Annotations,
    pub source_index: usize,
    pub span: Span,
}

/// Where a model element came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    pub source_index: usize,
    pub span: Span,
}

/// A structural property of an entity or complex type.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    pub type_ref: TypeRef,
    pub nullable: bool,
    pub facets: Facets,
    pub default_value: Option<String>,
    pub annotations: Annotations,
    /// The service computes the value (`Core.Computed`); clients never write it.
    pub computed: bool,
    /// Clients may set it on create only (`Core.Immutable`).
    pub immutable: bool,
    /// Clients cannot write it: computed, `Core.Permissions` without `Write`, or a Dataverse lookup id
    /// column (`_x_value`, written through `nav@odata.bind` instead).
    pub read_only: bool,
    pub origin: Origin,
}

/// A navigation property.
#[derive(Debug, Clone, PartialEq)]
pub struct NavigationProperty {
    pub name: String,
    /// Qualified name of the target entity type (or an external type).
    pub target: String,
    pub collection: bool,
    pub nullable: bool,
    pub partner: Option<String>,
    pub contains_target: bool,
    /// `(dependent property, principal property)` pairs.
    pub referential_constraints: Vec<(String, String)>,
    pub on_delete: Option<String>,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// One part of a key: a property path and, for paths into complex types, its alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPart {
    pub name: String,
    pub alias: Option<String>,
}

impl KeyPart {
    /// The name a URL uses for this part: the alias when there is one.
    pub fn url_name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }
}

/// An alternate key (`OData.Community.Keys.V1.AlternateKeys` or `Core.AlternateKeys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternateKey {
    pub parts: Vec<KeyPart>,
}

/// A Dataverse lookup: the read-only `_x_value` id column and the navigation property (one per target
/// table for a polymorphic lookup such as `customerid`) through which it is written
/// (`nav@odata.bind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The id column, e.g. `_parentcustomerid_value`.
    pub column: String,
    /// The logical name of the lookup, e.g. `parentcustomerid`.
    pub logical_name: String,
    pub targets: Vec<LookupTarget>,
}

/// One target of a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupTarget {
    /// The navigation property, e.g. `parentcustomerid_account`.
    pub navigation: String,
    /// Qualified target entity type.
    pub entity_type: String,
    /// The target's key property the column holds.
    pub referenced_property: Option<String>,
    /// The entity set to bind to (`/accounts(id)`), from the source set's navigation bindings.
    pub entity_set: Option<String>,
}

/// An entity type with its inheritance resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityType {
    /// Qualified name, e.g. `Microsoft.Dynamics.CRM.account`.
    pub name: String,
    pub namespace: String,
    /// Name within the namespace, e.g. `account`.
    pub simple_name: String,
    /// Qualified base type.
    pub base_type: Option<String>,
    /// Base types, nearest first.
    pub ancestors: Vec<String>,
    pub is_abstract: bool,
    /// Open (declared here or inherited): instances may carry undeclared properties.
    pub open_type: bool,
    pub has_stream: bool,
    /// The key in effect: declared here or inherited. Empty for a keyless type.
    pub key: Vec<KeyPart>,
    /// Whether this type declares its key itself.
    pub declares_key: bool,
    /// Declared properties (see [`Model::all_properties`] for inherited ones too).
    pub properties: Vec<Property>,
    /// Declared navigation properties.
    pub navigation_properties: Vec<NavigationProperty>,
    pub annotations: Annotations,
    pub alternate_keys: Vec<AlternateKey>,
    /// Entity sets whose type this is, qualified by container (`Container/Set`).
    pub entity_sets: Vec<String>,
    /// Dataverse lookups (over declared and inherited properties).
    pub lookups: Vec<Lookup>,
    /// F&O: the key is led by `dataAreaId`, so rows belong to one company (legal entity).
    pub company_specific: bool,
    pub origin: Origin,
}

/// A complex type.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexType {
    pub name: String,
    pub namespace: String,
    pub simple_name: String,
    pub base_type: Option<String>,
    pub ancestors: Vec<String>,
    pub is_abstract: bool,
    pub open_type: bool,
    pub properties: Vec<Property>,
    pub navigation_properties: Vec<NavigationProperty>,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// An enumeration type with every member's value settled.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    pub name: String,
    pub namespace: String,
    pub simple_name: String,
    /// `Edm.Byte`, `Edm.SByte`, `Edm.Int16`, `Edm.Int32` (the default) or `Edm.Int64`.
    pub underlying_type: Primitive,
    pub is_flags: bool,
    pub members: Vec<EnumMember>,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// An enumeration member.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumMember {
    pub name: String,
    /// The value, explicit or implied (previous + 1, starting at 0).
    pub value: i64,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// A type definition: a named primitive type with facets.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDefinition {
    pub name: String,
    pub namespace: String,
    pub simple_name: String,
    pub underlying_type: Primitive,
    pub facets: Facets,
    pub annotations: Annotations,
    pub origin: Origin,
}

pub use crate::syntax::OperationKind;

/// One overload of an action or function.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub name: String,
    pub kind: OperationKind,
    pub is_bound: bool,
    pub is_composable: bool,
    pub entity_set_path: Option<String>,
    /// Parameters; for a bound operation the first is the binding parameter.
    pub parameters: Vec<Parameter>,
    pub return_type: Option<ReturnType>,
    pub annotations: Annotations,
    pub origin: Origin,
}

impl Operation {
    /// The binding parameter of a bound operation.
    pub fn binding_parameter(&self) -> Option<&Parameter> {
        if self.is_bound {
            self.parameters.first()
        } else {
            None
        }
    }
}

/// An operation parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub type_ref: TypeRef,
    pub nullable: bool,
    pub facets: Facets,
    pub annotations: Annotations,
}

/// An operation's return type.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnType {
    pub type_ref: TypeRef,
    pub nullable: bool,
    pub facets: Facets,
}

/// A vocabulary term.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub name: String,
    pub type_ref: TypeRef,
    pub applies_to: Option<String>,
    pub default_value: Option<String>,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// An entity container.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityContainer {
    pub name: String,
    pub extends: Option<String>,
    pub entity_sets: BTreeMap<String, EntitySet>,
    pub singletons: BTreeMap<String, Singleton>,
    pub action_imports: BTreeMap<String, ActionImport>,
    pub function_imports: BTreeMap<String, FunctionImport>,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// An entity set, linked to its entity type.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySet {
    pub name: String,
    /// Qualified entity type.
    pub entity_type: String,
    pub include_in_service_document: bool,
    pub bindings: Vec<Binding>,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// A singleton.
#[derive(Debug, Clone, PartialEq)]
pub struct Singleton {
    pub name: String,
    pub entity_type: String,
    pub bindings: Vec<Binding>,
    pub annotations: Annotations,
    pub origin: Origin,
}

/// A navigation property binding, with its target resolved when it exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub path: String,
    /// The target as written.
    pub target: String,
    /// `Container/Set` (qualified container) of the target, or `None` when it does not exist.
    pub resolved_target: Option<String>,
}

/// An action import.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionImport {
    pub name: String,
    pub action: String,
    pub entity_set: Option<String>,
    pub annotations: Annotations,
}

/// A function import.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionImport {
    pub name: String,
    pub function: String,
    pub entity_set: Option<String>,
    pub include_in_service_document: bool,
    pub annotations: Annotations,
}

/// A structured type: what [`Model::structured`] finds by name.
#[derive(Debug, Clone, Copy)]
pub enum Structured<'m> {
    Entity(&'m EntityType),
    Complex(&'m ComplexType),
}

impl Model {
    /// Resolves documents read by [`crate::parse_bytes`] into one model, moving their contents
    /// (annotations, names) into it. Every error found is reported, each with the index of its document.
    pub fn resolve(documents: Vec<crate::syntax::Document>) -> Result<Model, crate::error::Errors> {
        resolve::resolve(documents)
    }

    /// Properties of an entity type, inherited ones first (base to derived), then declared ones.
    pub fn all_properties<'m>(&'m self, entity_type: &'m EntityType) -> Vec<&'m Property> {
        let mut out = Vec::new();
        for ancestor in entity_type.ancestors.iter().rev() {
            if let Some(base) = self.entity_types.get(ancestor) {
                out.extend(base.properties.iter());
            }
        }
        out.extend(entity_type.properties.iter());
        out
    }

    /// Navigation properties of an entity type, inherited ones first.
    pub fn all_navigation_properties<'m>(
        &'m self,
        entity_type: &'m EntityType,
    ) -> Vec<&'m NavigationProperty> {
        let mut out = Vec::new();
        for ancestor in entity_type.ancestors.iter().rev() {
            if let Some(base) = self.entity_types.get(ancestor) {
                out.extend(base.navigation_properties.iter());
            }
        }
        out.extend(entity_type.navigation_properties.iter());
        out
    }

    /// Properties of a complex type, inherited ones first.
    pub fn all_complex_properties<'m>(&'m self, complex_type: &'m ComplexType) -> Vec<&'m Property> {
        let mut out = Vec::new();
        for ancestor in complex_type.ancestors.iter().rev() {
            if let Some(base) = self.complex_types.get(ancestor) {
                out.extend(base.properties.iter());
            }
        }
        out.extend(complex_type.properties.iter());
        out
    }

    /// An entity or complex type by qualified name.
    pub fn structured(&self, name: &str) -> Option<Structured<'_>> {
        if let Some(entity) = self.entity_types.get(name) {
            return Some(Structured::Entity(entity));
        }
        self.complex_types.get(name).map(Structured::Complex)
    }

    /// An entity set by name, in any container.
    pub fn entity_set(&self, name: &str) -> Option<&EntitySet> {
        self.containers.values().find_map(|c| c.entity_sets.get(name))
    }

    /// Counts of model elements, over all schemas.
    pub fn counts(&self) -> Counts {
        summary::counts(self)
    }
}
