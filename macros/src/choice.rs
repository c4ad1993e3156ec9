//! `#[derive(EdmEnum)]` and `#[derive(OptionSet)]`: the code of a CSDL enum type and of a Dataverse
//! choice column's options, from what the metadata says of them. A generated enum file then says
//! only that (members, values, labels), and how the runtime reads and writes them lives here.
//!
//! ```ignore
//! #[derive(Debug, Clone, PartialEq, Eq, Hash, dualsync::EdmEnum)]
//! #[edm_enum(type_name = "Microsoft.Dynamics.DataEntities.NoYes")]
//! pub enum NoYes {
//!     #[member(name = "No", value = 0)]
//!     No,
//!     #[member(name = "Yes", value = 1)]
//!     Yes,
//!     /// The one variant with a field: a member the metadata did not list, by name.
//!     Unrecognized(String),
//! }
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, dualsync::EdmEnum)]
//! #[edm_enum(type_name = "NS.Color", flags)]
//! #[member(name = "Red", value = 1, rust = Red)]
//! pub struct Color(pub i64);
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, dualsync::OptionSet)]
//! #[option_set(column = "customertypecode")]
//! pub enum AccountCustomerTypeCode {
//!     #[option(value = 1, label = "Competitor")]
//!     Competitor,
//!     /// The one variant with a field: an option the metadata did not list, by value.
//!     Unknown(i32),
//! }
//! ```

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitInt, LitStr};

use crate::errors::Errors;

/// One member: its wire name (an option's label), its value, and its Rust name.
struct Member {
    name: String,
    value: i64,
    rust: Ident,
}

/// The members' wire names, values (as literals) and Rust names, in order.
fn columns(members: &[Member]) -> (Vec<&str>, Vec<Literal>, Vec<&Ident>) {
    (
        members.iter().map(|m| m.name.as_str()).collect(),
        members.iter().map(|m| Literal::i64_unsuffixed(m.value)).collect(),
        members.iter().map(|m| &m.rust).collect(),
    )
}

/// The one variant with a field (the fallback) and the unit variants with their `#[member]` /
/// `#[option]` attribute.
fn variants(input: &DeriveInput, attribute: &str, errors: &mut Errors) -> (Vec<Member>, Option<Ident>) {
    let Data::Enum(data) = &input.data else {
        errors.push(syn::Error::new(
            input.ident.span(),
            format!("#[derive] of `{attribute}` members needs an enum (or, for flags, a tuple struct)"),
        ));
        return (Vec::new(), None);
    };
    let mut members = Vec::new();
    let mut fallback = None;
    for variant in &data.variants {
        match &variant.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                if fallback.is_some() {
                    errors.push(syn::Error::new(
                        variant.ident.span(),
                        "only one variant holds a value: the fallback for members the metadata did not list",
                    ));
                }
                fallback = Some(variant.ident.clone());
            }
            Fields::Unit => {
                let Some(attr) = variant.attrs.iter().find(|a| a.path().is_ident(attribute)) else {
                    errors.push(syn::Error::new(
                        variant.ident.span(),
                        format!("this variant needs #[{attribute}(..)]: its name / label and value"),
                    ));
                    continue;
                };
                match member_of(attr, variant.ident.clone()) {
                    Ok(member) => members.push(member),
                    Err(e) => errors.push(e),
                }
            }
            _ => errors.push(syn::Error::new(
                variant.ident.span(),
                "a member is a unit variant; the fallback holds one value",
            )),
        }
    }
    if fallback.is_none() {
        errors.push(syn::Error::new(
            input.ident.span(),
            "add the fallback variant with one field (`Unrecognized(String)` / `Unknown(i32)`): services add members after generation",
        ));
    }
    (members, fallback)
}

/// `#[member(name = "..", value = N[, rust = Ident])]` or `#[option(value = N, label = "..")]`.
fn member_of(attr: &syn::Attribute, rust: Ident) -> syn::Result<Member> {
    let (mut name, mut value, mut rust) = (None, None, rust);
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("name") || meta.path.is_ident("label") {
            name = Some(meta.value()?.parse::<LitStr>()?.value());
        } else if meta.path.is_ident("value") {
            let v = meta.value()?;
            let negative = v.peek(syn::Token![-]);
            if negative {
                v.parse::<syn::Token![-]>()?;
            }
            let n: i64 = v.parse::<LitInt>()?.base10_parse()?;
            value = Some(if negative { -n } else { n });
        } else if meta.path.is_ident("rust") {
            rust = meta.value()?.parse::<Ident>()?;
        } else {
            return Err(meta.error("expected name (or label), value or rust"));
        }
        Ok(())
    })?;
    match (name, value) {
        (Some(name), Some(value)) => Ok(Member { name, value, rust }),
        _ => Err(syn::Error::new_spanned(
            &attr.meta,
            "give both the name (or label) and the value",
        )),
    }
}

/// `#[edm_enum(type_name = "..", flags)]`.
fn enum_args(input: &DeriveInput) -> syn::Result<(String, bool)> {
    let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("edm_enum")) else {
        return Err(syn::Error::new(
            input.ident.span(),
            "add #[edm_enum(type_name = \"Namespace.Name\")]",
        ));
    };
    let (mut type_name, mut flags) = (None, false);
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("type_name") {
            type_name = Some(meta.value()?.parse::<LitStr>()?.value());
        } else if meta.path.is_ident("flags") {
            flags = true;
        } else {
            return Err(meta.error("expected type_name or flags"));
        }
        Ok(())
    })?;
    let type_name =
        type_name.ok_or_else(|| syn::Error::new(attr.span(), "#[edm_enum(..)] needs type_name = \"..\""))?;
    Ok((type_name, flags))
}

pub fn expand_enum(input: DeriveInput) -> syn::Result<TokenStream> {
    let (type_name, flags) = enum_args(&input)?;
    if flags {
        return expand_flags(&input, &type_name);
    }
    let mut errors = Errors::default();
    let (members, fallback) = variants(&input, "member", &mut errors);
    errors.finish()?;
    let Some(fallback) = fallback else {
        return Err(syn::Error::new(input.ident.span(), "no fallback variant"));
    };
    let name = &input.ident;
    let (names, values, idents) = columns(&members);
    Ok(quote! {
        impl #name {
            pub const TYPE_NAME: &'static str = #type_name;
            /// Every member: (name, value).
            pub const MEMBERS: &'static [(&'static str, i64)] = &[#((#names, #values)),*];

            /// The member's name, as sent on the wire.
            pub fn name(&self) -> &str {
                match self {
                    #( Self::#idents => #names, )*
                    Self::#fallback(name) => name,
                }
            }

            /// The member's value, when the metadata lists the member.
            pub fn value(&self) -> ::core::option::Option<i64> {
                match self {
                    #( Self::#idents => ::core::option::Option::Some(#values), )*
                    Self::#fallback(_) => ::core::option::Option::None,
                }
            }

            /// The member named `name` (the fallback when the metadata does not list it).
            pub fn from_name(name: &str) -> Self {
                match name {
                    #( #names => Self::#idents, )*
                    other => Self::#fallback(::std::string::ToString::to_string(other)),
                }
            }
        }

        impl ::dualsync::json::EdmJson for #name {
            fn to_json(&self) -> ::dualsync::json::Value {
                ::dualsync::json::Value::String(::std::string::ToString::to_string(self.name()))
            }

            fn from_json(value: &::dualsync::json::Value) -> ::core::result::Result<Self, ::dualsync::json::JsonError> {
                ::dualsync::__private::enum_from_json(value).map(Self::from_name)
            }
        }

        impl ::dualsync::entity::Literal for #name {
            fn literal(&self) -> ::std::string::String {
                ::dualsync::entity::enum_literal(Self::TYPE_NAME, self.name())
            }
        }

        // What literals a table map may write into a column of this enum (its members, by name).
        impl ::dualsync::__private::ColumnType for #name {
            const KIND: ::dualsync::__private::Kind = ::dualsync::__private::Kind::Enum { members: #name::MEMBERS };
        }
    })
}

/// A flags enum: a tuple struct over the bits, one constant per member (`#[member(..)]` on the struct).
fn expand_flags(input: &DeriveInput, type_name: &str) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let is_tuple = matches!(&input.data, Data::Struct(s) if matches!(&s.fields, Fields::Unnamed(f) if f.unnamed.len() == 1));
    if !is_tuple {
        return Err(syn::Error::new(
            name.span(),
            "a flags enum is a tuple struct over its bits: `pub struct Name(pub i64);`",
        ));
    }
    let mut members = Vec::new();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("member")) {
        members.push(member_of(attr, name.clone())?);
    }
    let (names, values, idents) = columns(&members);
    Ok(quote! {
        impl #name {
            pub const TYPE_NAME: &'static str = #type_name;
            /// Every member: (name, value).
            pub const MEMBERS: &'static [(&'static str, i64)] = &[#((#names, #values)),*];
            #( pub const #idents: #name = #name(#values); )*

            /// Whether every bit of `other` is set in `self`.
            pub const fn contains(self, other: #name) -> bool {
                self.0 & other.0 == other.0
            }

            /// The names of the members set, comma-separated, as OData writes flags.
            pub fn names(self) -> ::std::string::String {
                ::dualsync::__private::flag_names(Self::MEMBERS, self.0)
            }
        }

        impl ::dualsync::json::EdmJson for #name {
            fn to_json(&self) -> ::dualsync::json::Value {
                ::dualsync::json::Value::String(self.names())
            }

            fn from_json(value: &::dualsync::json::Value) -> ::core::result::Result<Self, ::dualsync::json::JsonError> {
                ::dualsync::__private::flags_from_json(Self::TYPE_NAME, Self::MEMBERS, value).map(#name)
            }
        }

        impl ::dualsync::entity::Literal for #name {
            fn literal(&self) -> ::std::string::String {
                ::dualsync::entity::enum_literal(Self::TYPE_NAME, &self.names())
            }
        }
    })
}

pub fn expand_option_set(input: DeriveInput) -> syn::Result<TokenStream> {
    let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("option_set")) else {
        return Err(syn::Error::new(
            input.ident.span(),
            "add #[option_set(column = \"logical name\")]",
        ));
    };
    let mut column = None;
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("column") {
            column = Some(meta.value()?.parse::<LitStr>()?.value());
        } else {
            return Err(meta.error("expected column"));
        }
        Ok(())
    })?;
    let column =
        column.ok_or_else(|| syn::Error::new(attr.span(), "#[option_set(..)] needs column = \"..\""))?;
    let mut errors = Errors::default();
    let (options, fallback) = variants(&input, "option", &mut errors);
    for option in &options {
        if i32::try_from(option.value).is_err() {
            errors.push(syn::Error::new(
                option.rust.span(),
                "an option's value is a 32-bit integer",
            ));
        }
    }
    errors.finish()?;
    let Some(fallback) = fallback else {
        return Err(syn::Error::new(input.ident.span(), "no fallback variant"));
    };
    let name = &input.ident;
    let labels: Vec<&str> = options.iter().map(|m| m.name.as_str()).collect();
    let values: Vec<Literal> = options
        .iter()
        .map(|m| Literal::i32_unsuffixed(m.value as i32))
        .collect();
    let idents: Vec<&Ident> = options.iter().map(|m| &m.rust).collect();
    Ok(quote! {
        impl #name {
            /// The column this choice belongs to.
            pub const COLUMN: &'static str = #column;
            /// Every option: (value, label).
            pub const OPTIONS: &'static [(i32, &'static str)] = &[#((#values, #labels)),*];

            /// The option's value.
            pub const fn value(self) -> i32 {
                match self {
                    #( Self::#idents => #values, )*
                    Self::#fallback(value) => value,
                }
            }

            /// The option with `value` (the fallback when the metadata does not list it).
            pub const fn from_value(value: i32) -> Self {
                match value {
                    #( #values => Self::#idents, )*
                    other => Self::#fallback(other),
                }
            }
        }

        impl ::dualsync::json::EdmJson for #name {
            fn to_json(&self) -> ::dualsync::json::Value {
                ::dualsync::json::EdmJson::to_json(&self.value())
            }

            fn from_json(value: &::dualsync::json::Value) -> ::core::result::Result<Self, ::dualsync::json::JsonError> {
                <i32 as ::dualsync::json::EdmJson>::from_json(value).map(Self::from_value)
            }
        }

        impl ::dualsync::entity::Literal for #name {
            fn literal(&self) -> ::std::string::String {
                ::std::string::ToString::to_string(&self.value())
            }
        }

        // What literals a table map may write into this choice column (its options, by value).
        impl ::dualsync::__private::ColumnType for #name {
            const KIND: ::dualsync::__private::Kind = ::dualsync::__private::Kind::OptionSet { options: #name::OPTIONS };
        }
    })
}
