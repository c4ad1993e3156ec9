//! Tokens for a checked entity or complex type: the `Entity` impl with its field table (service rules
//! applied, see `crate::rules`), one typed `Column` constant per field, OData JSON, and what table
//! maps use (the hidden items of `Entity`: the columns by field name in a `<Entity>Columns` struct, the
//! columns a create must carry, and types named after those columns and after lookup targets so that
//! errors can name them).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Ident, LitStr};

use super::ast::{Field, Input, Lookup, MaxLength, Required, Scale};
use crate::rules;

/// What the service lets a client do with a field, after the rules.
struct Access {
    read_only: bool,
    create: bool,
    update: bool,
    money: bool,
}

fn access(input: &Input, field: &Field) -> Access {
    let type_name = input.type_name.as_ref().map(LitStr::value).unwrap_or_default();
    let name = field.wire_name();
    let dataverse = type_name.starts_with(rules::DATAVERSE_NAMESPACE);
    let lookup = !field.lookups.is_empty();
    let decimal = field.edm.as_ref().is_some_and(|e| e.value() == "Edm.Decimal");
    let sibling = |suffixed: &str| input.fields.iter().any(|f| f.wire_name() == suffixed);
    // Dataverse adds `<money>_base` (read-only, in the base currency) to every money column.
    let money_base =
        dataverse && decimal && name.strip_suffix(rules::MONEY_BASE_SUFFIX).is_some_and(&sibling);
    let money =
        field.money || (dataverse && decimal && sibling(&format!("{name}{}", rules::MONEY_BASE_SUFFIX)));
    let (create, update) = if let Some(system) = rules::system_column(&type_name, &name) {
        system
    } else if money_base {
        (false, false)
    } else if lookup {
        // A lookup's `_x_value` is read-only as a value but bound through its navigation property.
        (true, true)
    } else if field.read_only || field.computed {
        (false, false)
    } else if field.immutable {
        (true, false)
    } else {
        (true, true)
    };
    let create = field.valid_for_create.unwrap_or(create);
    let update = field.valid_for_update.unwrap_or(update) && !field.immutable;
    Access {
        read_only: field.read_only || field.computed || money_base || (!create && !update),
        create,
        update,
        money,
    }
}

/// The lookup targets, with Dataverse's abstract `principal` (owner) expanded to the tables an owner
/// is bound to.
fn targets(field: &Field) -> Vec<Lookup> {
    let mut out = Vec::new();
    for lookup in &field.lookups {
        if lookup.target == rules::PRINCIPAL && lookup.set.is_empty() {
            for (target, set) in rules::PRINCIPAL_TARGETS {
                out.push(Lookup {
                    nav: lookup.nav.clone(),
                    target: target.to_string(),
                    set: set.to_string(),
                });
            }
        } else {
            out.push(lookup.clone());
        }
    }
    out
}

/// Whether a create must carry the field (and so a map that writes the table must write it).
fn must_map(input: &Input, field: &Field, access: &Access) -> bool {
    let type_name = input.type_name.as_ref().map(LitStr::value).unwrap_or_default();
    let filled = type_name.starts_with(rules::DATAVERSE_NAMESPACE)
        && rules::FILLED_ON_CREATE.contains(&field.wire_name().as_str());
    matches!(
        field.required,
        Some(Required::ApplicationRequired | Required::SystemRequired)
    ) && !field.key
        && access.create
        && !filled
}

fn option<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote! { ::core::option::Option::Some(#v) },
        None => quote! { ::core::option::Option::None },
    }
}

/// An identifier from outside text (a table's logical name), or a safe stand-in.
fn marker_ident(text: &str) -> Ident {
    syn::parse_str::<Ident>(text)
        .unwrap_or_else(|_| format_ident!("t_{}", text.replace(|c: char| !c.is_alphanumeric(), "_")))
}

fn field_def(field: &Field, access: &Access, index_lookups: &[Lookup]) -> TokenStream {
    let name = &field.name;
    let edm = &field.edm;
    let nullable = !field.not_null;
    let key = field.key;
    let Access {
        read_only,
        create,
        update,
        money,
    } = *access;
    let required = match field.required {
        Some(Required::Recommended) => quote! { Recommended },
        Some(Required::ApplicationRequired) => quote! { ApplicationRequired },
        Some(Required::SystemRequired) => quote! { SystemRequired },
        Some(Required::None) | None => quote! { None },
    };
    let precision = option(field.precision);
    let scale = option(field.scale.map(|s| match s {
        Scale::Fixed(n) => quote! { ::dualsync::entity::Scale::Fixed(#n) },
        Scale::Variable => quote! { ::dualsync::entity::Scale::Variable },
        Scale::Floating => quote! { ::dualsync::entity::Scale::Floating },
    }));
    let lookups = index_lookups.iter().map(|Lookup { nav, target, set }| {
        let bind = format!("{nav}@odata.bind");
        quote! { ::dualsync::entity::LookupTarget { navigation: #nav, target: #target, set: #set, bind: #bind } }
    });
    // Only what differs from `FieldDef::DEFAULT` (a nullable, writable, plain column): the field
    // tables of a whole F&O are tens of thousands of these, and every token is compile time.
    let mut parts = vec![quote! { name: #name }, quote! { edm: #edm }];
    if !nullable {
        parts.push(quote! { nullable: false });
    }
    if key {
        parts.push(quote! { key: true });
    }
    if read_only {
        parts.push(quote! { read_only: true });
    }
    if !create {
        parts.push(quote! { valid_for_create: false });
    }
    if !update {
        parts.push(quote! { valid_for_update: false });
    }
    if !matches!(field.required, Some(Required::None) | None) {
        parts.push(quote! { required: ::dualsync::entity::RequiredLevel::#required });
    }
    if money {
        parts.push(quote! { money: true });
    }
    if let Some(MaxLength::Length(n)) = field.max_length {
        parts.push(quote! { max_length: ::core::option::Option::Some(#n) });
    }
    if field.precision.is_some() {
        parts.push(quote! { precision: #precision });
    }
    if field.scale.is_some() {
        parts.push(quote! { scale: #scale });
    }
    if !index_lookups.is_empty() {
        parts.push(quote! { lookup: &[#(#lookups),*] });
    }
    if field.default_value.is_some() {
        let default_value = option(field.default_value.as_ref());
        parts.push(quote! { default_value: #default_value });
    }
    if field.option_set.is_some() {
        let option_set = option(field.option_set.as_ref());
        parts.push(quote! { option_set: #option_set });
    }
    quote! {
        ::dualsync::entity::FieldDef { #(#parts,)* ..::dualsync::entity::FieldDef::DEFAULT }
    }
}

fn constant_name(ident: &Ident) -> Ident {
    format_ident!(
        "{}",
        ident.to_string().trim_start_matches("r#").to_uppercase(),
        span = ident.span()
    )
}

pub fn entity(input: &Input) -> TokenStream {
    let ident = &input.ident;
    // The columns by field name: a struct beside the entity, in a block of its own.
    let columns = format_ident!("{}Columns", ident);
    let type_name = input
        .type_name
        .clone()
        .unwrap_or_else(|| LitStr::new("", Span::call_site()));
    let set = input
        .set
        .clone()
        .unwrap_or_else(|| LitStr::new("", Span::call_site()));
    let key = &input.key;
    let alternate = input.alternate_keys.iter().map(|parts| quote! { &[#(#parts),*] });
    let company = option(input.company.as_ref());
    let (open, abstract_type) = (input.open, input.abstract_type);

    let mut defs = Vec::new();
    let mut constants = Vec::new();
    let debug_impl = if input.debug {
        quote! {
            impl ::core::fmt::Debug for #ident {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::dualsync::__private::debug_entity(self, f)
                }
            }
        }
    } else {
        quote! {}
    };
    let mut value_arms: Vec<TokenStream> = Vec::new();
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut shadow_fields = Vec::new();
    let mut shadow_values = Vec::new();
    let mut must = Vec::new();
    let mut required_markers = Vec::new();
    let mut lookup_markers: Vec<Ident> = Vec::new();
    let mut company_read = quote! { ::core::option::Option::None };
    let mut index = 0usize;
    for field in &input.fields {
        let field_ident = &field.ident;
        if field.additional {
            reads.push(quote! {
                #field_ident: ::dualsync::__private::undeclared(object, <Self as ::dualsync::entity::Entity>::FIELDS)
            });
            writes.push(quote! {
                for (key, value) in &self.#field_ident {
                    object.insert(::std::string::ToString::to_string(key), ::dualsync::json::EdmJson::to_json(value));
                }
            });
            continue;
        }
        let (Some(name), Some(edm)) = (&field.name, &field.edm) else {
            continue;
        };
        let access = access(input, field);
        let lookups = targets(field);
        defs.push(field_def(field, &access, &lookups));
        let optional = field.optional;
        reads.push(quote! { #field_ident: ::dualsync::__private::read_field(object, #name, #optional)? });
        writes.push(quote! {
            object.insert(::std::string::ToString::to_string(#name), ::dualsync::json::EdmJson::to_json(&self.#field_ident));
        });
        let value = field.value_type();
        let constant = constant_name(field_ident);
        let doc = format!(" Column `{}` ({}).", name.value(), edm.value());
        constants.push(quote! {
            #[doc = #doc]
            pub const #constant: ::dualsync::entity::Column<#ident, #value> = ::dualsync::__private::column(#name, #index);
        });
        // How a table map reads the field from the struct: one arm of `field_value`, not a
        // closure per field (a closure is a body of its own to type- and borrow-check).
        value_arms.push(if optional {
            quote! { #index => ::dualsync::__private::opt_any(&self.#field_ident), }
        } else {
            quote! { #index => ::core::option::Option::Some(&self.#field_ident), }
        });
        let marker = if lookups.is_empty() {
            quote! { ::dualsync::__private::NotALookup }
        } else {
            let mut names: Vec<String> = Vec::new();
            for lookup in &lookups {
                let short = lookup.target.rsplit('.').next().unwrap_or_default().to_string();
                if !names.contains(&short) {
                    names.push(short);
                }
            }
            let marker = marker_ident(&names.join("_or_"));
            if !lookup_markers.contains(&marker) {
                lookup_markers.push(marker.clone());
            }
            quote! { lookup_to::#marker }
        };
        shadow_fields.push(quote! { pub #field_ident: ::dualsync::__private::Col<#ident, #value, #marker> });
        shadow_values.push(quote! { #field_ident: ::dualsync::__private::Col::new(#name, #index) });
        if must_map(input, field, &access) {
            let k = must.len();
            must.push(name.clone());
            required_markers.push(quote! {
                pub struct #field_ident;
                impl ::dualsync::__private::RequiredAt<#k> for #ident {
                    type Column = #field_ident;
                }
            });
        }
        if input.company.as_ref().is_some_and(|c| c.value() == name.value()) {
            company_read = if optional {
                quote! { self.#field_ident.as_ref().map(|v| ::core::convert::AsRef::<str>::as_ref(v)) }
            } else {
                quote! { ::core::option::Option::Some(::core::convert::AsRef::<str>::as_ref(&self.#field_ident)) }
            };
        }
        index += 1;
    }
    quote! {
        #[allow(clippy::all)]
        impl #ident {
            #(#constants)*
        }

        impl ::dualsync::json::EntityJson for #ident {
            fn from_json_object(
                object: &::dualsync::json::Map<::std::string::String, ::dualsync::json::Value>,
            ) -> ::core::result::Result<Self, ::dualsync::json::JsonError> {
                ::core::result::Result::Ok(Self { #(#reads),* })
            }

            fn to_read_object(&self) -> ::dualsync::json::Map<::std::string::String, ::dualsync::json::Value> {
                let mut object = ::dualsync::json::Map::new();
                #(#writes)*
                object
            }
        }

        // The entity, with its columns by field name for table maps (`COLUMNS.name` of a misspelt
        // column is one error on the misspelt token that suggests the real field).
        #[allow(dead_code, non_camel_case_types, clippy::all)]
        const _: () = {
            pub struct #columns {
                #(#shadow_fields,)*
            }

            /// Types named after the tables lookups point to, so that errors can name them.
            mod lookup_to {
                #(pub struct #lookup_markers;)*
            }

            impl ::dualsync::entity::Entity for #ident {
                const SET: &'static str = #set;
                const TYPE_NAME: &'static str = #type_name;
                const KEY: &'static [&'static str] = &[#(#key),*];
                const ALTERNATE_KEYS: &'static [&'static [&'static str]] = &[#(#alternate),*];
                const FIELDS: &'static [::dualsync::entity::FieldDef] = &[#(#defs),*];
                const COMPANY: ::core::option::Option<&'static str> = #company;
                const OPEN: bool = #open;
                const ABSTRACT: bool = #abstract_type;
                type Columns = #columns;
                const COLUMNS: &'static #columns = &#columns { #(#shadow_values,)* };
                const MUST_MAP: &'static [&'static str] = &[#(#must),*];
                fn company(&self) -> ::core::option::Option<&str> {
                    #company_read
                }
                fn field_value(&self, index: usize) -> ::core::option::Option<&dyn ::core::any::Any> {
                    match index {
                        #(#value_arms)*
                        _ => ::core::option::Option::None,
                    }
                }
            }
            #debug_impl
        };

        // Types named after the columns a create must carry, so that a table map's error can name them.
        #[allow(dead_code, non_camel_case_types, non_snake_case, clippy::all)]
        const _: () = {
            #(#required_markers)*
        };
    }
}

pub fn complex(input: &Input) -> TokenStream {
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut declared: Vec<&LitStr> = Vec::new();
    let mut additional = None;
    for field in &input.fields {
        let ident = &field.ident;
        if field.additional {
            additional = Some(ident);
            continue;
        }
        let Some(name) = &field.name else { continue };
        let optional = field.optional;
        reads.push(quote! { #ident: ::dualsync::__private::read_field(object, #name, #optional)? });
        writes.push(quote! {
            object.insert(::std::string::ToString::to_string(#name), ::dualsync::json::EdmJson::to_json(&self.#ident));
        });
        declared.push(name);
    }
    if let Some(ident) = additional {
        reads.push(quote! {
            #ident: object
                .iter()
                .filter(|(k, _)| !k.contains('@') && ![#(#declared),*].contains(&k.as_str()))
                .map(|(k, v)| (::std::string::ToString::to_string(k), ::dualsync::edm::Json(::std::string::ToString::to_string(v))))
                .collect()
        });
        writes.push(quote! {
            for (key, value) in &self.#ident {
                object.insert(::std::string::ToString::to_string(key), ::dualsync::json::EdmJson::to_json(value));
            }
        });
    }
    let ident = &input.ident;
    let type_name = input.type_name.as_ref().map(|type_name| {
        quote! {
            impl #ident {
                /// The qualified name of the complex type.
                pub const TYPE_NAME: &'static str = #type_name;
            }
        }
    });
    quote! {
        #type_name

        impl ::dualsync::json::EdmJson for #ident {
            fn to_json(&self) -> ::dualsync::json::Value {
                let mut object = ::dualsync::json::Map::new();
                #(#writes)*
                ::dualsync::json::Value::Object(object)
            }

            fn from_json(value: &::dualsync::json::Value) -> ::core::result::Result<Self, ::dualsync::json::JsonError> {
                let ::core::option::Option::Some(object) = value.as_object() else {
                    return ::core::result::Result::Err(::dualsync::json::JsonError::Type {
                        field: ::std::string::String::new(),
                        expected: "an object",
                        found: ::std::string::ToString::to_string(value),
                    });
                };
                ::core::result::Result::Ok(Self { #(#reads),* })
            }
        }
    }
}
