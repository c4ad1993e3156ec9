//! What an entity is, as static data: the [`Entity`] trait and its field table ([`FieldDef`]).
//!
//! `#[derive(Entity)]` fills these from the generator's `#[entity(..)]` / `#[field(..)]` attributes;
//! the service rules `$metadata` does not state (Dataverse's system columns) are applied there, so a
//! field table says what the service really accepts.

/// The `Scale` facet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Fixed(u32),
    Variable,
    Floating,
}

/// One target of a Dataverse lookup: the navigation property and the entity set to bind to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupTarget {
    pub navigation: &'static str,
    /// The target's qualified type name (`Microsoft.Dynamics.CRM.account`).
    pub target: &'static str,
    /// The target's entity set (`accounts`); empty for an abstract target such as `principal`.
    pub set: &'static str,
    /// The request property that binds it: `navigation@odata.bind`.
    pub bind: &'static str,
}

/// A Dataverse column's required level (entity metadata `RequiredLevel`; `$metadata` does not carry it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequiredLevel {
    #[default]
    None,
    Recommended,
    ApplicationRequired,
    SystemRequired,
}

impl RequiredLevel {
    /// Whether a create must carry the column.
    pub const fn is_required(self) -> bool {
        matches!(
            self,
            RequiredLevel::ApplicationRequired | RequiredLevel::SystemRequired
        )
    }
}

/// What an entity's field is on the wire and what the service lets a client do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The wire name (`accountnumber`, `_parentcustomerid_value`).
    pub name: &'static str,
    /// The Edm type as written, e.g. `Edm.Decimal` or `Collection(Edm.String)`.
    pub edm: &'static str,
    /// `Nullable` (on F&O, `false` means "never null": the entity fills a default on create).
    pub nullable: bool,
    pub key: bool,
    /// The value itself is never written (computed, read-only, or a Dataverse lookup's `_x_value`,
    /// which is written through its navigation property instead).
    pub read_only: bool,
    /// May be written on create (by value, or by binding a lookup).
    pub valid_for_create: bool,
    /// May be written on update.
    pub valid_for_update: bool,
    pub required: RequiredLevel,
    /// A currency amount: never converted through a float.
    pub money: bool,
    pub max_length: Option<u32>,
    pub precision: Option<u32>,
    pub scale: Option<Scale>,
    pub lookup: &'static [LookupTarget],
    /// The CSDL `DefaultValue`, as written.
    pub default_value: Option<&'static str>,
    /// The Dataverse option set (choice) the column takes its values from.
    pub option_set: Option<&'static str>,
}

impl FieldDef {
    /// A nullable, writable field with no facets.
    /// A nullable, writable column with no facets and no name: what generated field tables start
    /// from (`FieldDef { name: .., edm: .., ..FieldDef::DEFAULT }`).
    pub const DEFAULT: FieldDef = FieldDef::new("", "");

    pub const fn new(name: &'static str, edm: &'static str) -> Self {
        FieldDef {
            name,
            edm,
            nullable: true,
            key: false,
            read_only: false,
            valid_for_create: true,
            valid_for_update: true,
            required: RequiredLevel::None,
            money: false,
            max_length: None,
            precision: None,
            scale: None,
            lookup: &[],
            default_value: None,
            option_set: None,
        }
    }

    /// Whether a client can write the column at all (on create or on update).
    pub const fn is_writable(&self) -> bool {
        self.valid_for_create || self.valid_for_update
    }

    /// Whether the column is a Dataverse lookup (`_x_value`).
    pub const fn is_lookup(&self) -> bool {
        !self.lookup.is_empty()
    }
}

/// An entity type of a service.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dualsync entity",
    label = "not an entity",
    note = "a table map's `fo = ..` and `dv = ..` name structs with #[derive(dualsync::Entity)]: the generated bindings, or hand-written ones"
)]
pub trait Entity {
    /// The entity set (`accounts`, `CustomersV3`).
    const SET: &'static str;
    /// The qualified type name.
    const TYPE_NAME: &'static str;
    /// Key property names, in key order.
    const KEY: &'static [&'static str];
    /// Alternate keys, each a list of property names.
    const ALTERNATE_KEYS: &'static [&'static [&'static str]] = &[];
    /// Every field.
    const FIELDS: &'static [FieldDef];
    /// F&O: the column naming the company of a company-specific entity (`dataAreaId`).
    const COMPANY: Option<&'static str> = None;
    /// An open type: undeclared properties are kept.
    const OPEN: bool = false;
    /// An abstract type: no record is ever of exactly this type.
    const ABSTRACT: bool = false;

    /// For table maps (derive(Entity) writes it): the columns by field name, so that a misspelt column
    /// is one rustc error on the misspelt token that suggests the real field. `()` by hand.
    #[doc(hidden)]
    type Columns: 'static;
    #[doc(hidden)]
    const COLUMNS: &'static Self::Columns;
    /// Wire names of the columns a create must carry (required level, writable on create, not filled
    /// by the service).
    #[doc(hidden)]
    const MUST_MAP: &'static [&'static str] = &[];

    /// The record's company code (F&O: the `#[entity(company = ..)]` column).
    #[doc(hidden)]
    fn company(&self) -> Option<&str> {
        None
    }

    /// The value of field `index` (its position in [`Entity::FIELDS`]), `None` when it is null: how a
    /// table map reads the generated struct (one function per entity, not one per field, which a
    /// whole F&O's bindings would pay for in compile time).
    #[doc(hidden)]
    fn field_value(&self, index: usize) -> Option<&dyn std::any::Any> {
        let _ = index;
        None
    }

    /// The field named `name` on the wire.
    fn field(name: &str) -> Option<&'static FieldDef> {
        Self::FIELDS.iter().find(|f| f.name == name)
    }
}
