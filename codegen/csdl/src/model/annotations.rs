//! Annotations with their terms qualified, and typed accessors for the terms dualsync relies on.

use std::sync::Arc;

use crate::syntax::{ConstantKind, DynamicExpression, Expression};

/// Qualified names of the terms the model reads.
pub mod terms {
    pub const CORE_DESCRIPTION: &str = "Org.OData.Core.V1.Description";
    pub const CORE_LONG_DESCRIPTION: &str = "Org.OData.Core.V1.LongDescription";
    pub const CORE_COMPUTED: &str = "Org.OData.Core.V1.Computed";
    pub const CORE_PERMISSIONS: &str = "Org.OData.Core.V1.Permissions";
    pub const CORE_IMMUTABLE: &str = "Org.OData.Core.V1.Immutable";
    pub const CORE_ALTERNATE_KEYS: &str = "Org.OData.Core.V1.AlternateKeys";
    pub const KEYS_ALTERNATE_KEYS: &str = "OData.Community.Keys.V1.AlternateKeys";
    pub const CAPABILITIES_CHANGE_TRACKING: &str = "Org.OData.Capabilities.V1.ChangeTracking";
    pub const FO_LABEL_ID: &str = "Microsoft.Dynamics.OData.Core.V1.LabelId";
}

/// One annotation. In the model its term (and any enum-member value) is qualified: aliases are
/// replaced by namespaces (e.g. `Core.Description` becomes `Org.OData.Core.V1.Description`). The span
/// points into the document of the element it annotates, or of its `Annotations` group.
pub use crate::syntax::Annotation;

/// `Core.Permissions` of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permissions {
    None,
    Read,
    Write,
    ReadWrite,
    Invoke,
}

/// The annotations of one model element, inline and external, in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annotations(pub Vec<Annotation>);

impl Annotations {
    /// The unqualified annotation with this (qualified) term, or the first qualified one.
    pub fn get(&self, term: &str) -> Option<&Annotation> {
        self.0
            .iter()
            .find(|a| &*a.term == term && a.qualifier.is_none())
            .or_else(|| self.0.iter().find(|a| &*a.term == term))
    }

    /// Number of annotations.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates in document order.
    pub fn iter(&self) -> std::slice::Iter<'_, Annotation> {
        self.0.iter()
    }

    fn text(&self, term: &str) -> Option<&str> {
        self.get(term)?.value.as_ref()?.as_text()
    }

    /// A tagging term: present without a value means true.
    fn tag(&self, term: &str) -> Option<bool> {
        let annotation = self.get(term)?;
        match &annotation.value {
            None => Some(true),
            Some(value) => value.as_bool(),
        }
    }

    /// `Core.Description`.
    pub fn description(&self) -> Option<&str> {
        self.text(terms::CORE_DESCRIPTION)
    }

    /// `Core.LongDescription`.
    pub fn long_description(&self) -> Option<&str> {
        self.text(terms::CORE_LONG_DESCRIPTION)
    }

    /// `Core.Computed`.
    pub fn computed(&self) -> bool {
        self.tag(terms::CORE_COMPUTED).unwrap_or(false)
    }

    /// `Core.Immutable`.
    pub fn immutable(&self) -> bool {
        self.tag(terms::CORE_IMMUTABLE).unwrap_or(false)
    }

    /// `Core.Permissions` (an enum member or a flags combination such as `Read Write`).
    pub fn permissions(&self) -> Option<Permissions> {
        let text = self.text(terms::CORE_PERMISSIONS)?;
        let (mut read, mut write, mut invoke) = (false, false, false);
        for member in text.split([' ', ',']).filter(|s| !s.is_empty()) {
            match member.rsplit('/').next().unwrap_or(member) {
                "Read" => read = true,
                "Write" => write = true,
                "ReadWrite" => {
                    read = true;
                    write = true;
                }
                "Invoke" => invoke = true,
                _ => {}
            }
        }
        Some(match (read, write, invoke) {
            (true, true, _) => Permissions::ReadWrite,
            (true, false, _) => Permissions::Read,
            (false, true, _) => Permissions::Write,
            (false, false, true) => Permissions::Invoke,
            (false, false, false) => Permissions::None,
        })
    }

    /// F&O's `Microsoft.Dynamics.OData.Core.V1.LabelId` (e.g. `@SYS7149`).
    pub fn label_id(&self) -> Option<&str> {
        self.text(terms::FO_LABEL_ID)
    }

    /// `Capabilities.ChangeTracking/Supported` (a record, or a bare `Bool`).
    pub fn change_tracking(&self) -> Option<bool> {
        let annotation = self.get(terms::CAPABILITIES_CHANGE_TRACKING)?;
        match annotation.value.as_ref()? {
            Expression::Record(record) => record
                .properties
                .iter()
                .find(|p| p.property == "Supported")
                .map(|p| p.value.as_ref().and_then(Expression::as_bool).unwrap_or(true))
                .or(Some(true)),
            other => other.as_bool(),
        }
    }
}

/// Replaces a leading alias in `A.Type/Member` enum-member texts. `qualify` returns the qualified
/// type name only when it differs from the one written.
pub(crate) fn qualify_enum_members(value: &mut Expression, qualify: &dyn Fn(&str) -> Option<String>) {
    match value {
        Expression::Constant {
            kind: ConstantKind::EnumMember,
            value,
        } => {
            let needs = value.split_whitespace().any(|member| {
                member
                    .split_once('/')
                    .is_some_and(|(ty, _)| qualify(ty).is_some())
            });
            if needs {
                let parts: Vec<String> = value
                    .split_whitespace()
                    .map(|member| match member.split_once('/') {
                        Some((ty, name)) => {
                            format!("{}/{}", qualify(ty).unwrap_or_else(|| ty.to_string()), name)
                        }
                        None => member.to_string(),
                    })
                    .collect();
                *value = Arc::from(parts.join(" "));
            }
        }
        Expression::Collection(items) => {
            for item in items {
                qualify_enum_members(item, qualify);
            }
        }
        Expression::Record(record) => {
            for property in &mut record.properties {
                if let Some(v) = &mut property.value {
                    qualify_enum_members(v, qualify);
                }
            }
        }
        Expression::Dynamic(dynamic) => {
            let DynamicExpression { operands, .. } = &mut **dynamic;
            for operand in operands {
                qualify_enum_members(operand, qualify);
            }
        }
        _ => {}
    }
}
