//! `#[derive(TableMap)]`: a map between an F&O entity and a Dataverse table, checked at compile time.
//!
//! A derive sees only its own item, so checks that need the entities' fields go through the type system
//! and const evaluation, each spanned at the attribute that causes it:
//! - an unknown column is rustc's own error on the typed column constant (`Fo::NAME`) the expansion names;
//! - types that do not convert fail `ConvertFrom` (with `#[diagnostic::on_unimplemented]`);
//! - a read-only destination, a required destination left unmapped, and a value map that misses an
//!   enum member are `const` assertions over the field tables `derive(Entity)` emits;
//! - a missing or one-way integration key, duplicate columns and malformed attributes are reported by
//!   the macro itself, all together.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Lit, LitStr, Path};

use crate::errors::Errors;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Both,
    FoToDv,
    DvToFo,
}

/// One `#[map(...)]` column.
struct Column {
    span: Span,
    direction: Option<Direction>,
    key: bool,
    fo: Option<Ident>,
    dv: Option<Ident>,
    /// JSON text of the default for the destination.
    default: Option<String>,
    /// (F&O enum member, Dataverse value as JSON text).
    value_map: Vec<(Ident, String)>,
    lookup: Option<LitStr>,
}

fn literal_json(lit: &Lit) -> syn::Result<String> {
    Ok(match lit {
        Lit::Bool(b) => b.value.to_string(),
        Lit::Int(i) => i.base10_digits().to_string(),
        Lit::Float(f) => f.base10_digits().to_string(),
        Lit::Str(s) => format!("{:?}", s.value()),
        other => {
            return Err(syn::Error::new(
                other.span(),
                "expected a number, a boolean or a string",
            ));
        }
    })
}

fn parse_column(field: &syn::Field, errors: &mut Errors) -> Option<Column> {
    let attr = field.attrs.iter().find(|a| a.path().is_ident("map"))?;
    let mut column = Column {
        span: attr.span(),
        direction: None,
        key: false,
        fo: None,
        dv: None,
        default: None,
        value_map: Vec::new(),
        lookup: None,
    };
    let result = attr.parse_nested_meta(|meta| {
        let set_direction = |column: &mut Column, d: Direction| {
            if column.direction.replace(d).is_some() {
                Err(meta.error("give one direction: both, fo_to_dv or dv_to_fo"))
            } else {
                Ok(())
            }
        };
        if meta.path.is_ident("key") {
            column.key = true;
        } else if meta.path.is_ident("both") {
            set_direction(&mut column, Direction::Both)?;
        } else if meta.path.is_ident("fo_to_dv") {
            set_direction(&mut column, Direction::FoToDv)?;
        } else if meta.path.is_ident("dv_to_fo") {
            set_direction(&mut column, Direction::DvToFo)?;
        } else if meta.path.is_ident("fo") {
            column.fo = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("dv") {
            column.dv = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("default") {
            column.default = Some(literal_json(&meta.value()?.parse()?)?);
        } else if meta.path.is_ident("lookup") {
            column.lookup = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("value_map") {
            meta.parse_nested_meta(|entry| {
                let member = entry
                    .path
                    .get_ident()
                    .cloned()
                    .ok_or_else(|| entry.error("expected `Member = value`"))?;
                let value = entry.value()?;
                // `null` is the sentinel for "no value" (Dataverse null <-> an F&O member).
                let value = if value.peek(syn::Ident) {
                    let word: Ident = value.parse()?;
                    if word != "null" {
                        return Err(syn::Error::new(word.span(), "expected a literal or `null`"));
                    }
                    "null".to_string()
                } else {
                    literal_json(&value.parse()?)?
                };
                column.value_map.push((member, value));
                Ok(())
            })?;
        } else {
            return Err(meta.error(
                "unknown `map` argument; expected key, both, fo_to_dv, dv_to_fo, fo = column, dv = column, default = value, value_map(..) or lookup = \"key path\"",
            ));
        }
        Ok(())
    });
    if let Err(e) = result {
        errors.push(e);
        return None;
    }
    if column.direction.is_none() {
        errors.push(syn::Error::new(
            column.span,
            "give a direction: both, fo_to_dv or dv_to_fo",
        ));
        return None;
    }
    Some(column)
}

struct MapArgs {
    fo: Option<Path>,
    dv: Option<Path>,
    company: Option<LitStr>,
    fo_filter: Option<LitStr>,
    dv_filter: Option<LitStr>,
}

/// Checks a filter's syntax enough to catch typos: balanced parentheses and quotes, no empty text.
fn check_filter(filter: &LitStr) -> syn::Result<()> {
    let text = filter.value();
    let (mut depth, mut in_string) = (0i32, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if in_string && chars.peek() == Some(&'\'') => {
                chars.next();
            }
            '\'' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth < 0 {
                    return Err(syn::Error::new(filter.span(), "filter has a `)` without `(`"));
                }
            }
            _ => {}
        }
    }
    if in_string {
        return Err(syn::Error::new(
            filter.span(),
            "filter has an unterminated string literal",
        ));
    }
    if depth != 0 {
        return Err(syn::Error::new(
            filter.span(),
            "filter has unbalanced parentheses",
        ));
    }
    if text.trim().is_empty() {
        return Err(syn::Error::new(filter.span(), "filter is empty"));
    }
    Ok(())
}

fn constant(column: &Ident) -> Ident {
    format_ident!(
        "{}",
        column.to_string().trim_start_matches("r#").to_uppercase(),
        span = column.span()
    )
}

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let mut args = MapArgs {
        fo: None,
        dv: None,
        company: None,
        fo_filter: None,
        dv_filter: None,
    };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("table_map")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("fo") {
                args.fo = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("dv") {
                args.dv = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("company") {
                args.company = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("fo_filter") {
                let filter: LitStr = meta.value()?.parse()?;
                check_filter(&filter)?;
                args.fo_filter = Some(filter);
            } else if meta.path.is_ident("dv_filter") {
                let filter: LitStr = meta.value()?.parse()?;
                check_filter(&filter)?;
                args.dv_filter = Some(filter);
            } else {
                return Err(meta.error(
                    "unknown `table_map` argument; expected fo, dv, company, fo_filter or dv_filter",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    let ident = &input.ident;
    let (Some(fo), Some(dv)) = (args.fo.clone(), args.dv.clone()) else {
        errors.push(syn::Error::new_spanned(
            ident,
            "derive(TableMap) needs #[table_map(fo = FoEntity, dv = DataverseTable, ..)]",
        ));
        return Err(errors
            .0
            .unwrap_or_else(|| syn::Error::new(Span::call_site(), "invalid table map")));
    };
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            ident,
            "derive(TableMap) works on a struct with one field per column",
        ));
    };
    let fields: Vec<&syn::Field> = match &data.fields {
        Fields::Named(named) => named.named.iter().collect(),
        _ => {
            return Err(syn::Error::new_spanned(
                ident,
                "derive(TableMap) works on a struct with named fields",
            ));
        }
    };
    let columns: Vec<Column> = fields
        .iter()
        .filter_map(|f| parse_column(f, &mut errors))
        .collect();

    // Macro-level rules: an integration key that flows both ways; no column used twice.
    let keys: Vec<&Column> = columns.iter().filter(|c| c.key).collect();
    if keys.is_empty() && errors.0.is_none() {
        errors.push(syn::Error::new_spanned(
            ident,
            "the map has no integration key: mark the key column(s) with #[map(key, both, ..)]",
        ));
    }
    for key in &keys {
        if key.direction != Some(Direction::Both) {
            errors.push(syn::Error::new(
                key.span,
                "an integration key column must map both ways: use #[map(key, both, ..)]",
            ));
        }
        if key.fo.is_none() || key.dv.is_none() {
            errors.push(syn::Error::new(
                key.span,
                "an integration key column needs both `fo = ..` and `dv = ..`",
            ));
        }
    }
    for (i, column) in columns.iter().enumerate() {
        if column.fo.is_none() && column.dv.is_none() {
            errors.push(syn::Error::new(
                column.span,
                "name at least one column: fo = .., dv = ..",
            ));
        }
        let writes_dv = matches!(column.direction, Some(Direction::Both | Direction::FoToDv));
        let writes_fo = matches!(column.direction, Some(Direction::Both | Direction::DvToFo));
        for earlier in &columns[..i] {
            let earlier_writes_dv = matches!(earlier.direction, Some(Direction::Both | Direction::FoToDv));
            let earlier_writes_fo = matches!(earlier.direction, Some(Direction::Both | Direction::DvToFo));
            if let (Some(a), Some(b)) = (&column.dv, &earlier.dv)
                && a == b
                && writes_dv
                && earlier_writes_dv
            {
                errors.push(syn::Error::new(
                    a.span(),
                    format!("Dataverse column `{a}` is written by two columns of this map"),
                ));
            }
            if let (Some(a), Some(b)) = (&column.fo, &earlier.fo)
                && a == b
                && writes_fo
                && earlier_writes_fo
            {
                errors.push(syn::Error::new(
                    a.span(),
                    format!("F&O column `{a}` is written by two columns of this map"),
                ));
            }
        }
        if !column.value_map.is_empty() && writes_fo {
            // Dataverse -> F&O needs every Dataverse value that can arrive; for a two-option column
            // that is true and false.
            let values: Vec<&str> = column.value_map.iter().map(|(_, v)| v.as_str()).collect();
            let booleans = values.iter().any(|v| *v == "true" || *v == "false");
            if booleans && !(values.contains(&"true") && values.contains(&"false")) {
                errors.push(syn::Error::new(
                    column.span,
                    "the value map is not total Dataverse -> F&O: map both `true` and `false`",
                ));
            }
        }
        if column.lookup.is_some() && column.direction != Some(Direction::FoToDv) {
            errors.push(syn::Error::new(
                column.span,
                "a lookup by key path writes Dataverse: use fo_to_dv",
            ));
        }
        if column.default.is_some() && column.fo.is_some() && column.dv.is_some() {
            errors.push(syn::Error::new(
                column.span,
                "a default fills a side that has no source column: name only the destination",
            ));
        }
    }
    if let Some(e) = errors.0 {
        return Err(e);
    }

    let mut metadata = Vec::new();
    let mut to_dv = Vec::new();
    let mut to_fo = Vec::new();
    let mut checks = Vec::new();
    let mut mapped_dv = Vec::new();
    for column in &columns {
        let span = column.span;
        let direction = match column.direction {
            Some(Direction::FoToDv) => quote! { ::dualsync::map::Direction::FoToDv },
            Some(Direction::DvToFo) => quote! { ::dualsync::map::Direction::DvToFo },
            _ => quote! { ::dualsync::map::Direction::Both },
        };
        let fo_const = column.fo.as_ref().map(constant);
        let dv_const = column.dv.as_ref().map(constant);
        let fo_name = fo_const
            .as_ref()
            .map_or(quote! { "" }, |c| quote_spanned! {c.span()=> <#fo>::#c.name() });
        let dv_name = dv_const
            .as_ref()
            .map_or(quote! { "" }, |c| quote_spanned! {c.span()=> <#dv>::#c.name() });
        let key = column.key;
        let lookup = column.lookup.as_ref().map_or(String::new(), LitStr::value);
        metadata.push(quote! {
            ::dualsync::map::ColumnMap { fo: #fo_name, dv: #dv_name, direction: #direction, key: #key, lookup: #lookup }
        });
        let writes_dv = matches!(column.direction, Some(Direction::Both | Direction::FoToDv));
        let writes_fo = matches!(column.direction, Some(Direction::Both | Direction::DvToFo));
        if writes_dv && let Some(d) = &dv_const {
            mapped_dv.push(quote_spanned! {d.span()=> <#dv>::#d.name() });
        }
        // A lookup column is read-only by nature: it is written through `nav@odata.bind`.
        if writes_dv
            && column.lookup.is_none()
            && let Some(d) = &dv_const
        {
            let message = format!(
                "map `{ident}` writes Dataverse column `{}`, which is read-only",
                column.dv.as_ref().map(ToString::to_string).unwrap_or_default()
            );
            checks.push(quote_spanned! {span=>
                const _: () = ::core::assert!(!::dualsync::map::read_only::<#dv>(<#dv>::#d.name()), #message);
            });
        }
        if writes_fo && let Some(f) = &fo_const {
            let message = format!(
                "map `{ident}` writes F&O column `{}`, which is read-only",
                column.fo.as_ref().map(ToString::to_string).unwrap_or_default()
            );
            checks.push(quote_spanned! {span=>
                const _: () = ::core::assert!(!::dualsync::map::read_only::<#fo>(<#fo>::#f.name()), #message);
            });
        }
        // F&O -> Dataverse.
        if writes_dv && let Some(d) = &dv_const {
            let field_fo = column.fo.clone();
            to_dv.push(one_direction(
                &fo,
                &dv,
                field_fo.as_ref(),
                fo_const.as_ref(),
                d,
                column,
                true,
            ));
        }
        if writes_fo && let Some(f) = &fo_const {
            let field_dv = column.dv.clone();
            to_fo.push(one_direction(
                &dv,
                &fo,
                field_dv.as_ref(),
                dv_const.as_ref(),
                f,
                column,
                false,
            ));
        }
        // Value maps F&O -> Dataverse must name every member of the F&O enum.
        if writes_dv
            && !column.value_map.is_empty()
            && let Some(f) = &fo_const
        {
            let members: Vec<String> = column.value_map.iter().map(|(m, _)| m.to_string()).collect();
            checks.push(quote_spanned! {span=>
                const _: () = {
                    let missing = ::dualsync::map::uncovered_member_of(<#fo>::#f, &[#(#members),*]);
                    if !missing.is_empty() {
                        ::core::panic!("{}", missing);
                    }
                };
            });
        }
    }
    checks.push(quote_spanned! {ident.span()=>
        const _: () = {
            let missing = ::dualsync::map::required_missing::<#dv>(&[#(#mapped_dv),*]);
            if !missing.is_empty() {
                ::core::panic!("{}", missing);
            }
        };
    });
    let company = args.company.as_ref().map_or(
        quote! { ::core::option::Option::None },
        |c| quote! { ::core::option::Option::Some(#c) },
    );
    let fo_filter = args.fo_filter.as_ref().map_or(
        quote! { ::core::option::Option::None },
        |c| quote! { ::core::option::Option::Some(#c) },
    );
    let dv_filter = args.dv_filter.as_ref().map_or(
        quote! { ::core::option::Option::None },
        |c| quote! { ::core::option::Option::Some(#c) },
    );
    // The struct's fields only carry attributes: read them once so they are not "never read".
    let field_idents: Vec<&Ident> = fields.iter().filter_map(|f| f.ident.as_ref()).collect();
    Ok(quote! {
        const _: fn(&#ident) = |map| {
            let _ = (#(&map.#field_idents,)*);
        };

        impl ::dualsync::map::TableMap for #ident {
            type Fo = #fo;
            type Dv = #dv;
            const COMPANY: ::core::option::Option<&'static str> = #company;
            const FO_FILTER: ::core::option::Option<&'static str> = #fo_filter;
            const DV_FILTER: ::core::option::Option<&'static str> = #dv_filter;
            const COLUMNS: &'static [::dualsync::map::ColumnMap] = &[#(#metadata),*];

            fn fo_to_dv(record: &#fo) -> ::core::result::Result<::dualsync::map::MapOutput<#dv>, ::dualsync::map::MapError> {
                let mut patch = ::dualsync::entity::Patch::<#dv>::new();
                let mut lookups = ::std::vec::Vec::new();
                #(#to_dv)*
                ::core::result::Result::Ok(::dualsync::map::MapOutput { patch, lookups })
            }

            fn dv_to_fo(record: &#dv) -> ::core::result::Result<::dualsync::map::MapOutput<#fo>, ::dualsync::map::MapError> {
                let mut patch = ::dualsync::entity::Patch::<#fo>::new();
                let mut lookups = ::std::vec::Vec::new();
                #(#to_fo)*
                ::core::result::Result::Ok(::dualsync::map::MapOutput { patch, lookups })
            }
        }

        #(#checks)*
    })
}

/// The statements that fill destination column `dest_const` of `dest` from `source`.
fn one_direction(
    source: &Path,
    dest: &Path,
    source_field: Option<&Ident>,
    source_const: Option<&Ident>,
    dest_const: &Ident,
    column: &Column,
    fo_to_dv: bool,
) -> TokenStream {
    let span = column.span;
    let key = column.key;
    let set_error =
        quote! { |source| ::dualsync::map::MapError::Value { column: <#dest>::#dest_const.name(), source } };
    let (Some(field), Some(source_const)) = (source_field, source_const) else {
        // A default fills the destination.
        let default = column.default.clone().unwrap_or_else(|| "null".into());
        return quote_spanned! {span=>
            {
                static LITERAL: ::std::sync::OnceLock<::core::result::Result<::dualsync::json::Value, ::std::string::String>> =
                    ::std::sync::OnceLock::new();
                let value = ::dualsync::map::from_cached_literal(<#dest>::#dest_const, &LITERAL, #default)?;
                patch.set(<#dest>::#dest_const, &value).map_err(#set_error)?;
            }
        };
    };
    let absent = if key {
        quote! { return ::core::result::Result::Err(::dualsync::map::MapError::EmptyKey { column: <#dest>::#dest_const.name() }); }
    } else {
        quote! { patch.set_null(<#dest>::#dest_const); }
    };
    if let Some(path) = &column.lookup {
        return quote_spanned! {span=>
            match ::dualsync::map::read(<#source>::#source_const, &record.#field) {
                ::core::option::Option::Some(value) => lookups.push(::dualsync::map::LookupRequest {
                    column: <#dest>::#dest_const.name(),
                    path: #path,
                    value: ::dualsync::entity::Literal::literal(value),
                }),
                ::core::option::Option::None => { #absent }
            }
        };
    }
    if !column.value_map.is_empty() {
        // F&O -> Dataverse: enum member name -> value; Dataverse -> F&O: value (as JSON) -> member.
        // Each arm's literal is parsed once (a static per arm).
        let count = column.value_map.len();
        let arms = column.value_map.iter().enumerate().map(|(i, (member, value))| {
            let member = member.to_string();
            let member_json = format!("{member:?}");
            if fo_to_dv {
                quote! { #member => (#i, #value), }
            } else {
                quote! { #value => (#i, #member_json), }
            }
        });
        // Dataverse -> F&O: a null source takes the member mapped from `null`, if any.
        let null_member = column
            .value_map
            .iter()
            .find(|(_, v)| v == "null")
            .map(|(m, _)| format!("{:?}", m.to_string()));
        let absent_mapped = match (&null_member, fo_to_dv) {
            (Some(member), false) => quote! {
                let value = ::dualsync::map::from_literal(<#dest>::#dest_const, #member)?;
                patch.set(<#dest>::#dest_const, &value).map_err(#set_error)?;
            },
            _ => absent.clone(),
        };
        let source_text = if fo_to_dv {
            quote! { let text: &str = value.name(); }
        } else {
            quote! {
                let mut owned = ::std::string::String::new();
                ::dualsync::json::EdmJson::write_json(value, &mut owned);
                let text: &str = owned.as_str();
            }
        };
        return quote_spanned! {span=>
            match ::dualsync::map::read(<#source>::#source_const, &record.#field) {
                ::core::option::Option::Some(value) => {
                    static LITERALS: [::std::sync::OnceLock<::core::result::Result<::dualsync::json::Value, ::std::string::String>>; #count] =
                        [const { ::std::sync::OnceLock::new() }; #count];
                    #source_text
                    let (index, mapped): (usize, &'static str) = match text {
                        #(#arms)*
                        _ => {
                            return ::core::result::Result::Err(::dualsync::map::MapError::Unmapped {
                                column: <#dest>::#dest_const.name(),
                                value: ::std::string::ToString::to_string(text),
                            });
                        }
                    };
                    if mapped == "null" {
                        patch.set_null(<#dest>::#dest_const);
                    } else {
                        let value = ::dualsync::map::from_cached_literal(<#dest>::#dest_const, &LITERALS[index], mapped)?;
                        patch.set(<#dest>::#dest_const, &value).map_err(#set_error)?;
                    }
                }
                ::core::option::Option::None => { #absent_mapped }
            }
        };
    }
    quote_spanned! {span=>
        match ::dualsync::map::read(<#source>::#source_const, &record.#field) {
            ::core::option::Option::Some(value) => {
                let value = ::dualsync::map::convert(<#source>::#source_const, <#dest>::#dest_const, value)?;
                patch.set(<#dest>::#dest_const, &value).map_err(#set_error)?;
            }
            ::core::option::Option::None => { #absent }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_of_a_small_map() {
        let input: DeriveInput = syn::parse2(quote! {
            #[table_map(fo = CustomerV3, dv = Account, company = "dataAreaId")]
            struct Map {
                #[map(key, both, fo = customer_account, dv = accountnumber)]
                key: (),
                #[map(both, fo = blocked, dv = donotemail, value_map(Yes = true, No = false))]
                blocked: (),
                #[map(fo_to_dv, dv = customertypecode, default = 3)]
                kind: (),
            }
        })
        .unwrap();
        insta::assert_snapshot!(prettyplease::unparse(
            &syn::parse2(expand(input).unwrap()).unwrap()
        ));
    }
}
