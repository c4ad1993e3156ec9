//! `#[derive(Entity)]`: the `#[entity(...)]` / `#[field(...)]` attributes the generator writes become
//! an `impl dualsync::entity::Entity` (set, type name, keys, field table) and one typed
//! `Column<Self, T>` constant per field (`Account::ACCOUNTNUMBER`). Attribute errors are collected and
//! reported together, each at its own span.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Fields, GenericArgument, LitInt, LitStr, PathArguments, Token, Type};

use crate::errors::Errors;

#[derive(Default)]
struct EntityArgs {
    type_name: Option<LitStr>,
    set: Option<LitStr>,
    key: Vec<LitStr>,
    alternate_keys: Vec<Vec<LitStr>>,
}

#[derive(Default)]
struct FieldArgs {
    name: Option<LitStr>,
    edm: Option<LitStr>,
    not_null: bool,
    key: bool,
    read_only: bool,
    max_length: Option<u32>,
    precision: Option<u32>,
    scale: Option<TokenStream>,
    lookups: Vec<(LitStr, LitStr, LitStr)>,
    additional: bool,
}

fn string_list(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Vec<LitStr>> {
    let content;
    syn::parenthesized!(content in meta.input);
    Ok(Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
        .into_iter()
        .collect())
}

fn u32_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<u32> {
    let lit: LitInt = meta.value()?.parse()?;
    lit.base10_parse::<u32>()
}

fn entity_args(input: &DeriveInput, errors: &mut Errors) -> EntityArgs {
    let mut args = EntityArgs::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("entity")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("type_name") {
                args.type_name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("set") {
                args.set = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("key") {
                args.key = string_list(&meta)?;
            } else if meta.path.is_ident("alternate_key") {
                args.alternate_keys.push(string_list(&meta)?);
            } else if meta.path.is_ident("company") {
                let _: LitStr = meta.value()?.parse()?;
            } else if meta.path.is_ident("open") || meta.path.is_ident("abstract_type") {
            } else {
                return Err(meta.error(
                    "unknown `entity` argument; expected type_name, set, key(..), alternate_key(..), company, open or abstract_type",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if args.type_name.is_none() {
        errors.push(syn::Error::new_spanned(
            &input.ident,
            "derive(Entity) needs #[entity(type_name = \"Namespace.Type\", ...)]",
        ));
    }
    args
}

fn field_args(field: &syn::Field, errors: &mut Errors) -> FieldArgs {
    let mut args = FieldArgs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("field")) {
        let result = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            if path.is_ident("name") {
                args.name = Some(meta.value()?.parse()?);
            } else if path.is_ident("edm") {
                args.edm = Some(meta.value()?.parse()?);
            } else if path.is_ident("not_null") {
                args.not_null = true;
            } else if path.is_ident("key") {
                args.key = true;
            } else if path.is_ident("read_only") {
                args.read_only = true;
            } else if path.is_ident("computed") || path.is_ident("immutable") {
            } else if path.is_ident("additional") {
                args.additional = true;
            } else if path.is_ident("max_length") {
                let value = meta.value()?;
                if value.peek(LitStr) {
                    let text: LitStr = value.parse()?;
                    if text.value() != "max" {
                        return Err(syn::Error::new(text.span(), "max_length is a number or \"max\""));
                    }
                } else {
                    args.max_length = Some(value.parse::<LitInt>()?.base10_parse()?);
                }
            } else if path.is_ident("precision") {
                args.precision = Some(u32_value(&meta)?);
            } else if path.is_ident("scale") {
                let value = meta.value()?;
                args.scale = Some(if value.peek(LitStr) {
                    let text: LitStr = value.parse()?;
                    match text.value().as_str() {
                        "variable" => quote! { ::dualsync::entity::Scale::Variable },
                        "floating" => quote! { ::dualsync::entity::Scale::Floating },
                        _ => return Err(syn::Error::new(text.span(), "scale is a number, \"variable\" or \"floating\"")),
                    }
                } else {
                    let n: u32 = value.parse::<LitInt>()?.base10_parse()?;
                    quote! { ::dualsync::entity::Scale::Fixed(#n) }
                });
            } else if path.is_ident("default_value") || path.is_ident("option_set") {
                let _: LitStr = meta.value()?.parse()?;
            } else if path.is_ident("lookup") {
                let (mut nav, mut target, mut set) = (None, None, None);
                meta.parse_nested_meta(|inner| {
                    let value: LitStr = inner.value()?.parse()?;
                    if inner.path.is_ident("nav") {
                        nav = Some(value);
                    } else if inner.path.is_ident("target") {
                        target = Some(value);
                    } else if inner.path.is_ident("set") {
                        set = Some(value);
                    } else {
                        return Err(inner.error("unknown `lookup` argument; expected nav, target or set"));
                    }
                    Ok(())
                })?;
                match (nav, target, set) {
                    (Some(n), Some(t), Some(s)) => args.lookups.push((n, t, s)),
                    _ => return Err(meta.error("lookup(..) needs nav, target and set")),
                }
            } else {
                return Err(meta.error(
                    "unknown `field` argument; expected name, edm, not_null, key, read_only, computed, immutable, max_length, precision, scale, default_value, option_set, lookup(..) or additional",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if !args.additional && (args.name.is_none() || args.edm.is_none()) {
        errors.push(syn::Error::new_spanned(
            field,
            "each field needs #[field(name = \"wire name\", edm = \"Edm.Type\", ...)] (or #[field(additional)])",
        ));
    }
    args
}

/// `T` of `Option<T>` (the value type of a nullable column), else the type itself.
fn value_type(ty: &Type) -> &Type {
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

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "derive(Entity) works on structs with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "derive(Entity) works on structs with named fields",
        ));
    };
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "derive(Entity) does not take generic parameters",
        ));
    }
    let entity = entity_args(&input, &mut errors);
    let mut defs = Vec::new();
    let mut columns = Vec::new();
    let mut index = 0usize;
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    for field in &fields.named {
        let args = field_args(field, &mut errors);
        if args.additional {
            if let Some(ident) = &field.ident {
                reads.push(quote! { #ident: ::dualsync::json::undeclared(object, <Self as ::dualsync::entity::Entity>::FIELDS) });
                writes.push(quote! {
                    for (key, value) in &self.#ident {
                        object.insert(::std::string::ToString::to_string(key), ::dualsync::json::EdmJson::to_json(value));
                    }
                });
            }
            continue;
        }
        let (Some(name), Some(edm), Some(ident)) = (&args.name, &args.edm, &field.ident) else {
            continue;
        };
        let nullable = !args.not_null;
        let key = args.key;
        let read_only = args.read_only;
        let max_length = match args.max_length {
            Some(n) => quote! { ::core::option::Option::Some(#n) },
            None => quote! { ::core::option::Option::None },
        };
        let precision = match args.precision {
            Some(n) => quote! { ::core::option::Option::Some(#n) },
            None => quote! { ::core::option::Option::None },
        };
        let scale = match &args.scale {
            Some(s) => quote! { ::core::option::Option::Some(#s) },
            None => quote! { ::core::option::Option::None },
        };
        let required_message = format!(
            "column `{}` of `{}` is required (Nullable=false) but the map neither maps it nor gives it a default",
            name.value(),
            entity.type_name.as_ref().map(LitStr::value).unwrap_or_default()
        );
        let lookups = args.lookups.iter().map(|(nav, target, set)| {
            quote! { ::dualsync::entity::LookupTarget { navigation: #nav, target: #target, set: #set } }
        });
        defs.push(quote! {
            ::dualsync::entity::FieldDef {
                name: #name,
                edm: #edm,
                nullable: #nullable,
                key: #key,
                read_only: #read_only,
                max_length: #max_length,
                precision: #precision,
                scale: #scale,
                lookup: &[#(#lookups),*],
                required_message: #required_message,
            }
        });
        let optional = !std::ptr::eq(value_type(&field.ty), &field.ty);
        reads.push(quote! { #ident: ::dualsync::json::read_field(object, #name, #optional)? });
        writes.push(quote! {
            object.insert(::std::string::ToString::to_string(#name), ::dualsync::json::EdmJson::to_json(&self.#ident));
        });
        let constant = format_ident!(
            "{}",
            ident.to_string().trim_start_matches("r#").to_uppercase(),
            span = ident.span()
        );
        let value = value_type(&field.ty);
        let struct_ident = &input.ident;
        let doc = format!(" Column `{}` ({}).", name.value(), edm.value());
        columns.push(quote! {
            #[doc = #doc]
            pub const #constant: ::dualsync::entity::Column<#struct_ident, #value> = ::dualsync::entity::Column::indexed(#name, #index);
        });
        index += 1;
    }
    errors.finish()?;
    let ident = &input.ident;
    let type_name = entity
        .type_name
        .unwrap_or_else(|| LitStr::new("", Span::call_site()));
    let set = entity.set.unwrap_or_else(|| LitStr::new("", Span::call_site()));
    let key = &entity.key;
    let alternate = entity
        .alternate_keys
        .iter()
        .map(|parts| quote! { &[#(#parts),*] });
    Ok(quote! {
        impl ::dualsync::entity::Entity for #ident {
            const SET: &'static str = #set;
            const TYPE_NAME: &'static str = #type_name;
            const KEY: &'static [&'static str] = &[#(#key),*];
            const ALTERNATE_KEYS: &'static [&'static [&'static str]] = &[#(#alternate),*];
            const FIELDS: &'static [::dualsync::entity::FieldDef] = &[#(#defs),*];
        }

        #[allow(clippy::all)]
        impl #ident {
            #(#columns)*
        }

        impl ::dualsync::json::EntityJson for #ident {
            fn from_json_object(
                object: &::dualsync::json::Map<::std::string::String, ::dualsync::json::Value>,
            ) -> ::core::result::Result<Self, ::dualsync::json::JsonError> {
                ::core::result::Result::Ok(Self { #(#reads),* })
            }

            fn to_json_object(&self) -> ::dualsync::json::Map<::std::string::String, ::dualsync::json::Value> {
                let mut object = ::dualsync::json::Map::new();
                #(#writes)*
                object
            }
        }
    })
}

/// `#[derive(Complex)]`: OData JSON for a complex type (an object with the fields' wire names).
pub fn expand_complex(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "derive(Complex) works on structs with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "derive(Complex) works on structs with named fields",
        ));
    };
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut declared: Vec<LitStr> = Vec::new();
    let mut additional = None;
    for field in &fields.named {
        let args = field_args(field, &mut errors);
        let Some(ident) = &field.ident else { continue };
        if args.additional {
            additional = Some(ident.clone());
            continue;
        }
        let Some(name) = args.name.clone() else { continue };
        let optional = !std::ptr::eq(value_type(&field.ty), &field.ty);
        reads.push(quote! { #ident: ::dualsync::json::read_field(object, #name, #optional)? });
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
    errors.finish()?;
    let ident = &input.ident;
    Ok(quote! {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(tokens: TokenStream) -> String {
        prettyplease::unparse(&syn::parse2(tokens).unwrap())
    }

    #[test]
    fn expansion_of_a_small_entity() {
        let input: DeriveInput = syn::parse2(quote! {
            #[entity(type_name = "Microsoft.Dynamics.CRM.account", set = "accounts", key("accountid"), alternate_key("accountnumber"))]
            pub struct Account {
                #[field(name = "accountid", edm = "Edm.Guid", key)]
                pub accountid: ::dualsync::edm::Guid,
                #[field(name = "revenue", edm = "Edm.Decimal", precision = 19, scale = "variable")]
                pub revenue: ::core::option::Option<::dualsync::edm::Decimal>,
                #[field(name = "_parentaccountid_value", edm = "Edm.Guid", read_only, lookup(nav = "parentaccountid", target = "Microsoft.Dynamics.CRM.account", set = "accounts"))]
                pub parentaccountid_value: ::core::option::Option<::dualsync::edm::Guid>,
            }
        })
        .unwrap();
        insta::assert_snapshot!(pretty(expand(input).unwrap()));
    }

    #[test]
    fn every_attribute_error_is_reported() {
        let input: DeriveInput = syn::parse2(quote! {
            #[entity(set = "x", colour = "red")]
            pub struct Broken {
                #[field(name = "a", edm = "Edm.String", max_len = 3)]
                pub a: String,
                pub b: String,
            }
        })
        .unwrap();
        let message = expand(input).unwrap_err().into_compile_error().to_string();
        assert!(message.contains("unknown `entity` argument"), "{message}");
        assert!(message.contains("needs #[entity(type_name"), "{message}");
        assert!(message.contains("unknown `field` argument"), "{message}");
        assert!(message.contains("each field needs #[field("), "{message}");
    }
}
