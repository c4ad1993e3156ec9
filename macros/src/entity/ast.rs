//! The `#[entity(..)]` / `#[complex(..)]` / `#[field(..)]` attributes, read once into a small AST and
//! checked (every error collected) before anything is emitted.

use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, LitStr, PathArguments, Type};

use crate::attr::{Seen, bool_value, string_list, u32_value, unknown};
use crate::errors::Errors;

/// A struct deriving `Entity` or `Complex`.
pub struct Input {
    pub ident: Ident,
    pub type_name: Option<LitStr>,
    pub set: Option<LitStr>,
    pub key: Vec<LitStr>,
    pub alternate_keys: Vec<Vec<LitStr>>,
    pub company: Option<LitStr>,
    pub open: bool,
    pub abstract_type: bool,
    /// `Debug` from the derive (the record as OData JSON), instead of `#[derive(Debug)]`'s code per field.
    pub debug: bool,
    pub fields: Vec<Field>,
}

/// `MaxLength`.
#[derive(Clone, Copy)]
pub enum MaxLength {
    Length(u32),
    Max,
}

/// `Scale`.
#[derive(Clone, Copy)]
pub enum Scale {
    Fixed(u32),
    Variable,
    Floating,
}

/// `RequiredLevel` of entity metadata (the variants are Dataverse's own names).
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)]
pub enum Required {
    None,
    Recommended,
    ApplicationRequired,
    SystemRequired,
}

/// One `lookup(nav = .., target = .., set = ..)`.
#[derive(Clone)]
pub struct Lookup {
    pub nav: String,
    pub target: String,
    pub set: String,
}

/// One field of the struct.
pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    /// Whether the Rust type is `Option<T>`.
    pub optional: bool,
    pub name: Option<LitStr>,
    pub edm: Option<LitStr>,
    pub not_null: bool,
    pub key: bool,
    pub read_only: bool,
    pub computed: bool,
    pub immutable: bool,
    pub max_length: Option<MaxLength>,
    pub precision: Option<u32>,
    pub scale: Option<Scale>,
    pub default_value: Option<LitStr>,
    pub option_set: Option<LitStr>,
    pub lookups: Vec<Lookup>,
    pub additional: bool,
    pub required: Option<Required>,
    pub valid_for_create: Option<bool>,
    pub valid_for_update: Option<bool>,
    pub money: bool,
}

impl Field {
    /// `T` of `Option<T>`, else the type itself.
    pub fn value_type(&self) -> &Type {
        value_type(&self.ty)
    }

    pub fn wire_name(&self) -> String {
        self.name.as_ref().map(LitStr::value).unwrap_or_default()
    }
}

pub fn value_type(ty: &Type) -> &Type {
    if let Type::Path(path) = ty
        && let Some(last) = path.path.segments.last()
        && last.ident == "Option"
        && let PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(GenericArgument::Type(inner)) = args.args.first()
    {
        return inner;
    }
    ty
}

/// Which derive reads the input.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Derive {
    Entity,
    Complex,
}

impl Derive {
    fn name(self) -> &'static str {
        match self {
            Derive::Entity => "Entity",
            Derive::Complex => "Complex",
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Derive::Entity => "entity",
            Derive::Complex => "complex",
        }
    }
}

const ENTITY_ARGS: &str = "type_name, set, key(..), alternate_key(..), company, open, abstract_type or debug";
const FIELD_ARGS: &str = "name, edm, not_null, key, read_only, computed, immutable, max_length, precision, scale, \
     default_value, option_set, lookup(..), required, valid_for_create, valid_for_update, money or additional";

/// Reads the struct; errors go to `errors` (the result is usable for further checks either way).
pub fn parse(input: &DeriveInput, derive: Derive, errors: &mut Errors) -> Option<Input> {
    let named = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Some(named),
            _ => None,
        },
        _ => None,
    };
    let Some(named) = named else {
        errors.push(syn::Error::new_spanned(
            &input.ident,
            format!("derive({}) works on structs with named fields", derive.name()),
        ));
        return None;
    };
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            format!(
                "derive({}) does not take generic parameters: remove them",
                derive.name()
            ),
        ));
    }
    let mut out = Input {
        ident: input.ident.clone(),
        type_name: None,
        set: None,
        key: Vec::new(),
        alternate_keys: Vec::new(),
        company: None,
        open: false,
        abstract_type: false,
        debug: false,
        fields: Vec::new(),
    };
    let mut seen = Seen::default();
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident(derive.attribute()))
    {
        let result = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            if !path.is_ident("alternate_key") {
                seen.first(&meta)?;
            }
            if path.is_ident("type_name") {
                out.type_name = Some(meta.value()?.parse()?);
            } else if derive == Derive::Complex {
                return Err(unknown(&meta, "complex", "type_name"));
            } else if path.is_ident("set") {
                out.set = Some(meta.value()?.parse()?);
            } else if path.is_ident("key") {
                out.key = string_list(&meta)?;
            } else if path.is_ident("alternate_key") {
                out.alternate_keys.push(string_list(&meta)?);
            } else if path.is_ident("company") {
                out.company = Some(meta.value()?.parse()?);
            } else if path.is_ident("open") {
                out.open = true;
            } else if path.is_ident("abstract_type") {
                out.abstract_type = true;
            } else if path.is_ident("debug") {
                out.debug = true;
            } else {
                return Err(unknown(&meta, "entity", ENTITY_ARGS));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if derive == Derive::Entity && out.type_name.is_none() {
        errors.push(syn::Error::new_spanned(
            &input.ident,
            "derive(Entity) needs #[entity(type_name = \"Namespace.Type\", ..)]",
        ));
    }
    for field in &named.named {
        if let Some(parsed) = parse_field(field, errors) {
            out.fields.push(parsed);
        }
    }
    check(&out, derive, errors);
    Some(out)
}

fn parse_field(field: &syn::Field, errors: &mut Errors) -> Option<Field> {
    let ident = field.ident.clone()?;
    let ty = field.ty.clone();
    let optional = !std::ptr::eq(value_type(&ty), &ty);
    let mut out = Field {
        ident,
        ty,
        optional,
        name: None,
        edm: None,
        not_null: false,
        key: false,
        read_only: false,
        computed: false,
        immutable: false,
        max_length: None,
        precision: None,
        scale: None,
        default_value: None,
        option_set: None,
        lookups: Vec::new(),
        additional: false,
        required: None,
        valid_for_create: None,
        valid_for_update: None,
        money: false,
    };
    let mut seen = Seen::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("field")) {
        let result = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            if !path.is_ident("lookup") {
                seen.first(&meta)?;
            }
            if path.is_ident("name") {
                out.name = Some(meta.value()?.parse()?);
            } else if path.is_ident("edm") {
                out.edm = Some(meta.value()?.parse()?);
            } else if path.is_ident("not_null") {
                out.not_null = true;
            } else if path.is_ident("key") {
                out.key = true;
            } else if path.is_ident("read_only") {
                out.read_only = true;
            } else if path.is_ident("computed") {
                out.computed = true;
            } else if path.is_ident("immutable") {
                out.immutable = true;
            } else if path.is_ident("money") {
                out.money = true;
            } else if path.is_ident("additional") {
                out.additional = true;
            } else if path.is_ident("max_length") {
                let value = meta.value()?;
                out.max_length = Some(if value.peek(LitStr) {
                    let text: LitStr = value.parse()?;
                    if text.value() != "max" {
                        return Err(syn::Error::new(text.span(), "max_length is a number or \"max\""));
                    }
                    MaxLength::Max
                } else {
                    MaxLength::Length(value.parse::<syn::LitInt>()?.base10_parse()?)
                });
            } else if path.is_ident("precision") {
                out.precision = Some(u32_value(&meta)?);
            } else if path.is_ident("scale") {
                let value = meta.value()?;
                out.scale = Some(if value.peek(LitStr) {
                    let text: LitStr = value.parse()?;
                    match text.value().as_str() {
                        "variable" => Scale::Variable,
                        "floating" => Scale::Floating,
                        _ => {
                            return Err(syn::Error::new(
                                text.span(),
                                "scale is a number, \"variable\" or \"floating\"",
                            ));
                        }
                    }
                } else {
                    Scale::Fixed(value.parse::<syn::LitInt>()?.base10_parse()?)
                });
            } else if path.is_ident("default_value") {
                out.default_value = Some(meta.value()?.parse()?);
            } else if path.is_ident("option_set") {
                out.option_set = Some(meta.value()?.parse()?);
            } else if path.is_ident("required") {
                let text: LitStr = meta.value()?.parse()?;
                out.required = Some(match text.value().as_str() {
                    "None" => Required::None,
                    "Recommended" => Required::Recommended,
                    "ApplicationRequired" => Required::ApplicationRequired,
                    "SystemRequired" => Required::SystemRequired,
                    _ => {
                        return Err(syn::Error::new(
                            text.span(),
                            "required is entity metadata's RequiredLevel: \"None\", \"Recommended\", \"ApplicationRequired\" or \"SystemRequired\"",
                        ));
                    }
                });
            } else if path.is_ident("valid_for_create") {
                out.valid_for_create = Some(bool_value(&meta)?);
            } else if path.is_ident("valid_for_update") {
                out.valid_for_update = Some(bool_value(&meta)?);
            } else if path.is_ident("lookup") {
                let (mut nav, mut target, mut set) = (None, None, None);
                meta.parse_nested_meta(|inner| {
                    let value: LitStr = inner.value()?.parse()?;
                    if inner.path.is_ident("nav") {
                        nav = Some(value.value());
                    } else if inner.path.is_ident("target") {
                        target = Some(value.value());
                    } else if inner.path.is_ident("set") {
                        set = Some(value.value());
                    } else {
                        return Err(unknown(&inner, "lookup", "nav, target and set"));
                    }
                    Ok(())
                })?;
                match (nav, target, set) {
                    (Some(nav), Some(target), Some(set)) => out.lookups.push(Lookup { nav, target, set }),
                    _ => return Err(meta.error("lookup(..) needs nav, target and set")),
                }
            } else {
                return Err(unknown(&meta, "field", FIELD_ARGS));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if !out.additional && (out.name.is_none() || out.edm.is_none()) {
        errors.push(syn::Error::new(
            out.ident.span(),
            "each field needs #[field(name = \"wire name\", edm = \"Edm.Type\", ..)] (or #[field(additional)] for the undeclared properties of an open type)",
        ));
    }
    Some(out)
}

/// Rules over the whole struct.
fn check(input: &Input, derive: Derive, errors: &mut Errors) {
    let names: Vec<String> = input
        .fields
        .iter()
        .filter(|f| !f.additional)
        .map(Field::wire_name)
        .collect();
    let additional: Vec<&Field> = input.fields.iter().filter(|f| f.additional).collect();
    if derive == Derive::Entity && !additional.is_empty() && !input.open {
        errors.push(syn::Error::new(
            additional[0].ident.span(),
            "#[field(additional)] keeps the undeclared properties of an open type: add `open` to #[entity(..)]",
        ));
    }
    for extra in additional.iter().skip(1) {
        errors.push(syn::Error::new(
            extra.ident.span(),
            "only one field can be #[field(additional)]",
        ));
    }
    let must_name = |list: &[LitStr], what: &str, errors: &mut Errors| {
        for name in list {
            // A key part may be a path into a complex property (`Address/City`): not checked here.
            if !name.value().contains('/') && !names.contains(&name.value()) {
                errors.push(syn::Error::new(
                    name.span(),
                    format!(
                        "{what} `{}` is not the name of a field of this struct",
                        name.value()
                    ),
                ));
            }
        }
    };
    must_name(&input.key, "key column", errors);
    for key in &input.alternate_keys {
        must_name(key, "alternate key column", errors);
    }
    if let Some(company) = &input.company {
        must_name(std::slice::from_ref(company), "company column", errors);
    }
    for field in &input.fields {
        if field.read_only && field.lookups.is_empty() && field.valid_for_create == Some(true) {
            errors.push(syn::Error::new(
                field.ident.span(),
                "a read_only column is not valid_for_create: drop one of them",
            ));
        }
    }
}
