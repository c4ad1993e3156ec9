//! Resolved type references and the Edm primitive types.

/// A resolved type reference: `T` or `Collection(T)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeRef {
    pub collection: bool,
    pub kind: TypeKind,
}

/// What a type reference points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeKind {
    Primitive(Primitive),
    /// Qualified name of an entity type.
    Entity(String),
    /// Qualified name of a complex type.
    Complex(String),
    /// Qualified name of an enum type.
    Enum(String),
    /// Qualified name of a type definition.
    Definition(String),
    /// A type in a namespace that is referenced (`edmx:Reference`) but not loaded: not checked.
    External(String),
}

impl TypeRef {
    /// The qualified name of the element type, e.g. `Edm.String` or `NS.Customer`.
    pub fn element_name(&self) -> String {
        match &self.kind {
            TypeKind::Primitive(p) => p.edm_name().to_string(),
            TypeKind::Entity(n)
            | TypeKind::Complex(n)
            | TypeKind::Enum(n)
            | TypeKind::Definition(n)
            | TypeKind::External(n) => n.clone(),
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.collection {
            write!(f, "Collection({})", self.element_name())
        } else {
            f.write_str(&self.element_name())
        }
    }
}

/// Kinds of geography / geometry values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GeoKind {
    Any,
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
    Collection,
}

impl GeoKind {
    const ALL: [(GeoKind, &'static str); 8] = [
        (GeoKind::Any, ""),
        (GeoKind::Point, "Point"),
        (GeoKind::LineString, "LineString"),
        (GeoKind::Polygon, "Polygon"),
        (GeoKind::MultiPoint, "MultiPoint"),
        (GeoKind::MultiLineString, "MultiLineString"),
        (GeoKind::MultiPolygon, "MultiPolygon"),
        (GeoKind::Collection, "Collection"),
    ];
}

/// The Edm primitive types of OData v4.01, and the abstract types usable in vocabularies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Primitive {
    Binary,
    Boolean,
    Byte,
    Date,
    DateTimeOffset,
    Decimal,
    Double,
    Duration,
    Guid,
    Int16,
    Int32,
    Int64,
    SByte,
    Single,
    Stream,
    String,
    TimeOfDay,
    Geography(GeoKind),
    Geometry(GeoKind),
    Untyped,
    /// `Edm.PrimitiveType` (abstract).
    PrimitiveType,
    /// `Edm.ComplexType` (abstract).
    ComplexType,
    /// `Edm.EntityType` (abstract).
    EntityType,
    AnnotationPath,
    PropertyPath,
    NavigationPropertyPath,
    AnyPropertyPath,
    ModelElementPath,
}

impl Primitive {
    const SIMPLE: [(Primitive, &'static str); 26] = [
        (Primitive::Binary, "Edm.Binary"),
        (Primitive::Boolean, "Edm.Boolean"),
        (Primitive::Byte, "Edm.Byte"),
        (Primitive::Date, "Edm.Date"),
        (Primitive::DateTimeOffset, "Edm.DateTimeOffset"),
        (Primitive::Decimal, "Edm.Decimal"),
        (Primitive::Double, "Edm.Double"),
        (Primitive::Duration, "Edm.Duration"),
        (Primitive::Guid, "Edm.Guid"),
        (Primitive::Int16, "Edm.Int16"),
        (Primitive::Int32, "Edm.Int32"),
        (Primitive::Int64, "Edm.Int64"),
        (Primitive::SByte, "Edm.SByte"),
        (Primitive::Single, "Edm.Single"),
        (Primitive::Stream, "Edm.Stream"),
        (Primitive::String, "Edm.String"),
        (Primitive::TimeOfDay, "Edm.TimeOfDay"),
        (Primitive::Untyped, "Edm.Untyped"),
        (Primitive::PrimitiveType, "Edm.PrimitiveType"),
        (Primitive::ComplexType, "Edm.ComplexType"),
        (Primitive::EntityType, "Edm.EntityType"),
        (Primitive::AnnotationPath, "Edm.AnnotationPath"),
        (Primitive::PropertyPath, "Edm.PropertyPath"),
        (Primitive::NavigationPropertyPath, "Edm.NavigationPropertyPath"),
        (Primitive::AnyPropertyPath, "Edm.AnyPropertyPath"),
        (Primitive::ModelElementPath, "Edm.ModelElementPath"),
    ];

    /// Parses a qualified `Edm.*` name.
    pub fn from_edm_name(name: &str) -> Option<Primitive> {
        let rest = name.strip_prefix("Edm.")?;
        // The common types first, without a scan.
        match rest {
            "String" => return Some(Primitive::String),
            "Decimal" => return Some(Primitive::Decimal),
            "Int32" => return Some(Primitive::Int32),
            "Int64" => return Some(Primitive::Int64),
            "Guid" => return Some(Primitive::Guid),
            "DateTimeOffset" => return Some(Primitive::DateTimeOffset),
            "Boolean" => return Some(Primitive::Boolean),
            _ => {}
        }
        if let Some((p, _)) = Primitive::SIMPLE.iter().find(|(_, n)| *n == name) {
            return Some(*p);
        }
        for (kind, suffix) in GeoKind::ALL {
            if rest.strip_prefix("Geography") == Some(suffix) {
                return Some(Primitive::Geography(kind));
            }
            if rest.strip_prefix("Geometry") == Some(suffix) {
                return Some(Primitive::Geometry(kind));
            }
        }
        None
    }

    /// The qualified name, e.g. `Edm.Int32`.
    pub fn edm_name(self) -> &'static str {
        match self {
            Primitive::Geography(kind) => {
                GEOGRAPHY[GeoKind::ALL.iter().position(|(k, _)| *k == kind).unwrap_or(0)]
            }
            Primitive::Geometry(kind) => {
                GEOMETRY[GeoKind::ALL.iter().position(|(k, _)| *k == kind).unwrap_or(0)]
            }
            other => Primitive::SIMPLE
                .iter()
                .find(|(p, _)| *p == other)
                .map_or("Edm.Untyped", |(_, n)| n),
        }
    }

    /// Whether enum types may use this as their underlying type.
    pub fn is_integral(self) -> bool {
        matches!(
            self,
            Primitive::Byte | Primitive::SByte | Primitive::Int16 | Primitive::Int32 | Primitive::Int64
        )
    }

    /// A hint for names that older OData versions used.
    pub(crate) fn legacy_hint(name: &str) -> &'static str {
        match name {
            "Edm.DateTime" => " (an OData v2/v3 type; v4 uses Edm.DateTimeOffset or Edm.Date)",
            "Edm.Time" => " (an OData v2/v3 type; v4 uses Edm.TimeOfDay or Edm.Duration)",
            "Edm.Float" => " (v4 names it Edm.Single)",
            _ => "",
        }
    }
}

const GEOGRAPHY: [&str; 8] = [
    "Edm.Geography",
    "Edm.GeographyPoint",
    "Edm.GeographyLineString",
    "Edm.GeographyPolygon",
    "Edm.GeographyMultiPoint",
    "Edm.GeographyMultiLineString",
    "Edm.GeographyMultiPolygon",
    "Edm.GeographyCollection",
];
const GEOMETRY: [&str; 8] = [
    "Edm.Geometry",
    "Edm.GeometryPoint",
    "Edm.GeometryLineString",
    "Edm.GeometryPolygon",
    "Edm.GeometryMultiPoint",
    "Edm.GeometryMultiLineString",
    "Edm.GeometryMultiPolygon",
    "Edm.GeometryCollection",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_primitive_round_trips_through_its_name() {
        for (p, name) in Primitive::SIMPLE {
            assert_eq!(Primitive::from_edm_name(name), Some(p));
            assert_eq!(p.edm_name(), name);
        }
        for name in GEOGRAPHY.iter().chain(GEOMETRY.iter()) {
            let p = Primitive::from_edm_name(name).unwrap();
            assert_eq!(p.edm_name(), *name);
        }
        assert_eq!(Primitive::from_edm_name("Edm.DateTime"), None);
    }
}
