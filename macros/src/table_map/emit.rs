//! Tokens for a checked table map: the `TableMap` impl (both directions, generic over the record
//! read: the generated struct or a `Record`), and the compile-time checks that need the entities'
//! field tables.
//!
//! A derive sees only its own item, so those checks go through the type system: every column is
//! reached as `<Table as Entity>::COLUMNS.field` (a misspelt column is rustc's one "no field" error on
//! the misspelt token, with the real field suggested), and each rule is a `const fn` over the field
//! tables whose result must satisfy a trait made for that check, whose
//! `#[diagnostic::on_unimplemented]` message says what is wrong and how to fix it, spanned at the
//! offending token. Nothing panics in `const` evaluation. Every mention of a table's type is spanned at
//! it (`fo = ..` / `dv = ..`), so a table that is not an entity is one error however often it is used.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

use super::ast::{Column, Direction, Map, Master};
use super::literal::{Kind, Literal};
use crate::rules;

/// What a check's message may show of the types involved.
enum Subject {
    /// Nothing: the message is all static.
    None,
    /// `{Self}`: the value type of this column (an expression `&Col<E, T>`).
    Column(TokenStream),
    /// `{Self}`: the tables this lookup column points to (a type named after them).
    Lookup(TokenStream),
}

/// A compile-time rule: `condition` (a `const` bool) must hold, or `message` is the error at `span`.
/// The rule is a trait made for it, implemented for `Bool<true>` only; its subject is `Self`, so the
/// message can name the type (`{Self}`) once inference knows it.
fn check(
    span: Span,
    name: &str,
    message: &str,
    label: &str,
    condition: TokenStream,
    subject: Subject,
) -> TokenStream {
    let name = format_ident!("{}", name, span = span);
    let bool_ty = quote_spanned! {span=> ::dualsync::__private::Bool<{ #condition }> };
    let (params, call) = match subject {
        Subject::None => (
            quote_spanned! {span=> const fn check<B>() where (): #name<B> {} },
            quote_spanned! {span=> check::<#bool_ty>(); },
        ),
        Subject::Column(column) => (
            quote_spanned! {span=> const fn check<B, E, T: #name<B>, L>(_: &::dualsync::__private::Col<E, T, L>) {} },
            quote_spanned! {span=>
                let column = #column;
                check::<#bool_ty, _, _, _>(column);
            },
        ),
        Subject::Lookup(column) => (
            quote_spanned! {span=> const fn check<B, E, T, L: #name<B>>(_: &::dualsync::__private::Col<E, T, L>) {} },
            quote_spanned! {span=>
                let column = #column;
                check::<#bool_ty, _, _, _>(column);
            },
        ),
    };
    quote_spanned! {span=>
        const _: () = {
            #[diagnostic::on_unimplemented(message = #message, label = #label)]
            trait #name<B> {}
            impl<T> #name<::dualsync::__private::Bool<true>> for T {}
            #params
            #call
        };
    }
}

/// `<Path as Entity>`, spanned at the path: when it is not an entity, every use is the same one
/// error.
fn has(path: &Path) -> TokenStream {
    let span = path.span();
    quote_spanned! {span=> <#path as ::dualsync::entity::Entity> }
}

/// The entity type of `path` (spanned at the path, like every use of it).
fn entity(path: &Path) -> TokenStream {
    let span = path.span();
    quote_spanned! {span=> #path }
}

/// `&<Path as Entity>::COLUMNS.field`, spanned at the path; the field keeps the user's span (a
/// misspelt one is the error there).
fn col(path: &Path, field: &Ident) -> TokenStream {
    let span = path.span();
    let has = has(path);
    // A block, so that when `Path` is not an entity every use is the one error at the path.
    quote_spanned! {span=> {
        let column = &#has::COLUMNS.#field;
        column
    } }
}

/// The further hops of a lookup as a `&[LookupHop]` expression (const).
fn via_tokens(lookup: &super::ast::Lookup) -> TokenStream {
    let hops: Vec<(&Path, &Ident)> = lookup.hops().collect();
    let items = hops.windows(2).map(|pair| {
        let ((before, column), (table, key)) = (pair[0], pair[1]);
        let lookup_col = col(before, column);
        let next = entity(table);
        let key_col = col(table, key);
        let span = table.span();
        quote_spanned! {span=>
            ::dualsync::map::LookupHop {
                navigation: ::dualsync::__private::lookup_navigation::<_, _, _, #next>(#lookup_col),
                set: <#next as ::dualsync::entity::Entity>::SET,
                id: ::dualsync::__private::primary_id::<#next>(),
                key: ::dualsync::__private::column_name(#key_col),
            }
        }
    });
    quote! { &[#(#items),*] }
}

/// The navigation properties from the map's record to the key value of a lookup, as a const
/// array expression: the lookup column's to the target, then each hop's (from [`via_tokens`]).
fn navigation_path(lookup: &super::ast::Lookup, lookup_column: &TokenStream) -> (TokenStream, usize) {
    let target_entity = entity(&lookup.target);
    let first = quote_spanned! {lookup.target.span()=>
        ::dualsync::__private::lookup_navigation::<_, _, _, #target_entity>(#lookup_column)
    };
    let via = via_tokens(lookup);
    let hops = (0..lookup.via.len()).map(|i| quote! { VIA[#i].navigation });
    let path = quote! {{
        const VIA: &[::dualsync::map::LookupHop] = #via;
        [#first, #(#hops),*]
    }};
    (path, lookup.via.len() + 1)
}

/// One side of the map.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Fo,
    Dv,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Fo => "F&O",
            Side::Dv => "Dataverse",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Side::Fo => "fo",
            Side::Dv => "dv",
        }
    }
}

/// One direction of one column: from `source` (if any) into `dest`.
struct Leg<'a> {
    column: &'a Column,
    dest_side: Side,
    source_path: &'a Path,
    dest_path: &'a Path,
    source: Option<&'a Ident>,
    dest: &'a Ident,
}

impl Leg<'_> {
    fn fo_to_dv(&self) -> bool {
        self.dest_side == Side::Dv
    }

    /// The F&O member name mapped from `null` (Dataverse → F&O), if the value map has one.
    fn null_member(&self) -> Option<&Ident> {
        if self.fo_to_dv() {
            return None;
        }
        self.column
            .value_map
            .iter()
            .find(|(_, v)| v.is_null())
            .map(|(m, _)| m)
    }
}

/// Writes `json` (a literal of the map) into `target`. The calls that name the destination's patch are
/// spanned at its table (`table`), like every use of it.
fn literal_write(target: &TokenStream, json: &str, table: Span) -> TokenStream {
    quote_spanned! {table=>
        {
            static LITERAL: ::std::sync::OnceLock<::core::result::Result<::dualsync::__private::Value, ::std::string::String>> =
                ::std::sync::OnceLock::new();
            let value = ::dualsync::__private::literal(#target, &LITERAL, #json)?;
            ::dualsync::__private::set(&mut patch, #target, &value)?;
        }
    }
}

/// The statements that fill one destination column.
fn leg_statements(leg: &Leg<'_>) -> TokenStream {
    let column = leg.column;
    let target = col(leg.dest_path, leg.dest);
    let Some(source_ident) = leg.source else {
        let default = column
            .default
            .as_ref()
            .expect("checked: a one-sided column has a default");
        return literal_write(&target, &default.json, leg.dest_path.span());
    };
    let source = col(leg.source_path, source_ident);
    let name = quote_spanned! {leg.dest_path.span()=> ::dualsync::__private::column_name(#target) };
    if !leg.fo_to_dv()
        && let Some(lookup) = &column.lookup
    {
        return lookup_back_statements(leg, lookup, &source, &target, &name);
    }
    let on_absent = if column.key {
        quote! { return ::core::result::Result::Err(::dualsync::map::MapError::KeyNotSelected { column: #name }); }
    } else {
        quote! {}
    };
    let on_null = if column.key {
        quote! { return ::core::result::Result::Err(::dualsync::map::MapError::EmptyKey { column: #name }); }
    } else if let Some(member) = leg.null_member() {
        literal_write(
            &target,
            &format!("{:?}", member.to_string()),
            leg.dest_path.span(),
        )
    } else if let Some(default) = &column.default {
        literal_write(&target, &default.json, leg.dest_path.span())
    } else if let Some(lookup) = &column.lookup {
        let target_entity = entity(&lookup.target);
        let span = lookup.target.span();
        quote_spanned! {span=> ::dualsync::__private::bind_null::<_, _, _, #target_entity>(&mut patch, #target); }
    } else {
        quote_spanned! {leg.dest_path.span()=> ::dualsync::__private::set_null(&mut patch, #target)?; }
    };
    let on_value = if let Some(lookup) = &column.lookup {
        let target_entity = entity(&lookup.target);
        let span = lookup.target.span();
        let navigation = quote_spanned! {span=>
            const NAVIGATION: &str = ::dualsync::__private::lookup_navigation::<_, _, _, #target_entity>(#target);
        };
        let target_set = quote_spanned! {span=> <#target_entity as ::dualsync::entity::Entity>::SET };
        let key = col(&lookup.target, &lookup.key);
        let via = via_tokens(lookup);
        quote! {
            #navigation
            const VIA: &[::dualsync::map::LookupHop] = #via;
            lookups.push(::dualsync::map::LookupRequest {
                column: #name,
                navigation: NAVIGATION,
                target_set: #target_set,
                key: ::dualsync::__private::column_name(#key),
                value: ::dualsync::entity::Literal::literal(&*value),
                via: VIA,
            });
        }
    } else if !column.value_map.is_empty() {
        value_map_statements(leg, &target, &name)
    } else if let Some(lossy) = column.lossy {
        // A conversion error points at `lossy`, which asked for it.
        let convert = quote_spanned! {lossy=>
            let (source, target) = (#source, #target);
            let value = ::dualsync::__private::convert_lossy(source, target, &*value)?;
        };
        let set =
            quote_spanned! {leg.dest_path.span()=> ::dualsync::__private::set(&mut patch, target, &value)?; };
        quote! { #convert #set }
    } else {
        let dest_col = col(leg.dest_path, leg.dest);
        // A conversion error points at the destination column.
        let convert = quote_spanned! {leg.dest.span()=>
            let (source, target) = (#source, #target);
            let value = ::dualsync::__private::convert::<_, _, _, _, _, _, ::dualsync::__private::Bool<LOOKUP>>(source, target, &*value)?;
        };
        let set =
            quote_spanned! {leg.dest_path.span()=> ::dualsync::__private::set(&mut patch, target, &value)?; };
        quote! {
            const LOOKUP: bool = ::dualsync::__private::is_lookup(#dest_col);
            #convert
            #set
        }
    };
    let source_entity = entity(leg.source_path);
    let slot = quote_spanned! {leg.source_path.span()=>
        ::dualsync::map::Source::<#source_entity>::slot(record, #source)
    };
    quote! {
        match #slot? {
            ::dualsync::__private::Slot::Absent => { #on_absent }
            ::dualsync::__private::Slot::Null => { #on_null }
            ::dualsync::__private::Slot::Value(value) => { #on_value }
        }
    }
}

/// Dataverse -> F&O of a lookup: the F&O column takes the key value of the record the lookup points
/// to, which the engine reads by the lookup's id and puts in the record as if expanded
/// (`navigation: {key: ..}`).
fn lookup_back_statements(
    leg: &Leg<'_>,
    lookup: &super::ast::Lookup,
    lookup_column: &TokenStream,
    target: &TokenStream,
    name: &TokenStream,
) -> TokenStream {
    let column = leg.column;
    let (leaf_table, leaf_key) = lookup.leaf();
    let key = col(leaf_table, leaf_key);
    let source_entity = entity(leg.source_path);
    let (path, depth) = navigation_path(lookup, &quote! { column });
    let lookup_name =
        quote_spanned! {leg.source_path.span()=> ::dualsync::__private::column_name(#lookup_column) };
    let on_absent = if column.key {
        quote! {
            return ::core::result::Result::Err(::dualsync::map::MapError::LookupNotResolved {
                column: #lookup_name,
                navigation: NAVIGATION,
            });
        }
    } else {
        quote! {}
    };
    let on_null = if column.key {
        quote! { return ::core::result::Result::Err(::dualsync::map::MapError::EmptyKey { column: #name }); }
    } else {
        quote_spanned! {leg.dest_path.span()=> ::dualsync::__private::set_null(&mut patch, #target)?; }
    };
    // A conversion error points at the destination column.
    let convert = quote_spanned! {leg.dest.span()=>
        let (source, target) = (#key, #target);
        let value = ::dualsync::__private::convert::<_, _, _, _, _, _, ::dualsync::__private::Bool<false>>(source, target, &*value)?;
    };
    let set =
        quote_spanned! {leg.dest_path.span()=> ::dualsync::__private::set(&mut patch, target, &value)?; };
    quote! {
        {
            const PATH: [&str; #depth] = {
                let column = #lookup_column;
                #path
            };
            const NAVIGATION: &str = PATH[0];
            match ::dualsync::map::Source::<#source_entity>::expanded(record, &PATH, #key)? {
                ::dualsync::__private::Slot::Absent => { #on_absent }
                ::dualsync::__private::Slot::Null => { #on_null }
                ::dualsync::__private::Slot::Value(value) => { #convert #set }
            }
        }
    }
}

/// A value map: F&O member name → Dataverse value, or Dataverse value → F&O member.
fn value_map_statements(leg: &Leg<'_>, target: &TokenStream, name: &TokenStream) -> TokenStream {
    let entries: Vec<&(Ident, Literal)> = if leg.fo_to_dv() {
        leg.column.value_map.iter().collect()
    } else {
        leg.column
            .value_map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .collect()
    };
    let count = entries.len();
    let write = quote_spanned! {leg.dest_path.span()=>
        if mapped == "null" {
            ::dualsync::__private::set_null(&mut patch, #target)?;
        } else {
            let value = ::dualsync::__private::literal(#target, &LITERALS[index], mapped)?;
            ::dualsync::__private::set(&mut patch, #target, &value)?;
        }
    };
    let arms = entries.iter().enumerate().map(|(i, (member, value))| {
        if leg.fo_to_dv() {
            let member = member.to_string();
            let json = &value.json;
            quote! { #member => ::core::option::Option::Some((#i, #json)), }
        } else {
            let key = value.key();
            let json = format!("{:?}", member.to_string());
            quote! { #key => ::core::option::Option::Some((#i, #json)), }
        }
    });
    quote! {
        static LITERALS: [::std::sync::OnceLock<::core::result::Result<::dualsync::__private::Value, ::std::string::String>>; #count] =
            [const { ::std::sync::OnceLock::new() }; #count];
        let (index, mapped): (usize, &'static str) = ::dualsync::__private::map_value(&*value, |key| match key {
            #(#arms)*
            _ => ::core::option::Option::None,
        })
        .map_err(|value| ::dualsync::map::MapError::Unmapped { column: #name, value })?;
        #write
    }
}

/// The compile-time checks of one leg.
fn leg_checks(leg: &Leg<'_>, checks: &mut Vec<TokenStream>) {
    let column = leg.column;
    let side = leg.dest_side.name();
    let key = leg.dest_side.key();
    let dest = leg.dest;
    let target = col(leg.dest_path, dest);
    let span = dest.span();
    if let Some(lookup) = &column.lookup {
        // The lookup column: the destination going to Dataverse, the source coming back to F&O.
        let (target, dest) = match (leg.fo_to_dv(), leg.source) {
            (false, Some(source)) => (col(leg.source_path, source), source),
            _ => (target.clone(), dest),
        };
        if !leg.fo_to_dv() {
            // Back to F&O, the F&O column is written with the target's key value.
            let fo_dest = leg.dest;
            let fo_target = col(leg.dest_path, fo_dest);
            checks.push(check(
                fo_dest.span(),
                "WritableColumn",
                &format!(
                    "`fo = {fo_dest}` writes a read-only F&O column: the service sets it; map the lookup fo_to_dv only, or remove this #[map]"
                ),
                "read-only column",
                quote! { ::dualsync::__private::writable(#fo_target) },
                Subject::None,
            ));
            if column.direction.writes_dv() {
                // The lookup checks come with the leg to Dataverse.
                return;
            }
        }
        let target_entity = entity(&lookup.target);
        let target_name = lookup
            .target
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        checks.push(check(
            lookup.span,
            "LookupColumn",
            &format!(
                "`lookup(..)` on `dv = {dest}`, which is not a lookup column: remove lookup(..) to copy the value, or map the lookup column (its `_value` field)"
            ),
            "not a lookup column",
            quote! { ::dualsync::__private::is_lookup(#target) },
            Subject::None,
        ));
        checks.push(check(
            lookup.target.span(),
            "LookupTarget",
            &format!(
                "lookup `dv = {dest}` does not point to `{target_name}`: name one of its target tables in lookup(..)"
            ),
            "not a target of this lookup",
            quote_spanned! {lookup.target.span()=> ::dualsync::__private::targets::<_, _, _, #target_entity>(#target) },
            Subject::None,
        ));
        checks.push(check(
            span,
            "BindableLookup",
            &format!("`dv = {dest}` is a lookup the service sets itself: remove this #[map]"),
            "system lookup",
            quote! { ::dualsync::__private::bindable(#target) },
            Subject::None,
        ));
        // Each hop: the column before is a lookup to the next table.
        let hops: Vec<(&Path, &Ident)> = lookup.hops().collect();
        for pair in hops.windows(2) {
            let ((before, column), (table, _)) = (pair[0], pair[1]);
            let lookup_col = col(before, column);
            let next = entity(table);
            let next_name = table
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            checks.push(check(
                column.span(),
                "LookupColumn",
                &format!(
                    "`{column}` is followed to `{next_name}` in lookup(..) but it is not a lookup column: end the lookup at the key column, or name a lookup column (its `_value` field)"
                ),
                "not a lookup column",
                quote! { ::dualsync::__private::is_lookup(#lookup_col) },
                Subject::None,
            ));
            checks.push(check(
                table.span(),
                "LookupTarget",
                &format!(
                    "lookup `{column}` does not point to `{next_name}`: name one of its target tables in lookup(..)"
                ),
                "not a target of this lookup",
                quote_spanned! {table.span()=> ::dualsync::__private::targets::<_, _, _, #next>(#lookup_col) },
                Subject::None,
            ));
        }
        return;
    }
    checks.push(check(
        span,
        "WritableColumn",
        &format!(
            "`{key} = {dest}` writes a read-only {side} column: the service sets it; map it only into the other side, or remove this #[map]"
        ),
        "read-only column",
        quote! { ::dualsync::__private::writable(#target) },
        Subject::None,
    ));
    checks.push(check(
        span,
        "PlainColumn",
        &format!(
            "`{key} = {dest}` is a lookup (to `{{Self}}`): lookups are written through lookup(<target table>::<its key column>), e.g. #[map(fo_to_dv, fo = .., {key} = {dest}, lookup(TransactionCurrency::isocurrencycode))]"
        ),
        "a lookup column",
        quote! { ::dualsync::__private::not_lookup(#target) },
        Subject::Lookup(target.clone()),
    ));
    let literal_checks = |literal: &Literal,
                          what: &str,
                          target: &TokenStream,
                          checks: &mut Vec<TokenStream>| {
        let Some(lit) = literal.check_tokens() else {
            return;
        };
        let written = &literal.written;
        checks.push(check(
            literal.span,
            "LiteralType",
            &format!("{what} `{written}` is not a value of type `{{Self}}`, the type of `{key} = {dest}`: write a literal of that type"),
            "not a value of this column",
            quote! { ::dualsync::__private::lit_has_type(#target, &#lit) },
            Subject::Column(target.clone()),
        ));
        checks.push(check(
            literal.span,
            "LiteralFits",
            &format!(
                "{what} `{written}` does not fit `{key} = {dest}` (of type `{{Self}}`): it is beyond the column's MaxLength, Precision/Scale or range, or not one of its members / options"
            ),
            "does not fit the column",
            quote! { ::dualsync::__private::lit_fits(#target, &#lit) },
            Subject::Column(target.clone()),
        ));
    };
    if let Some(default) = &column.default {
        literal_checks(default, "default", &target, checks);
    }
    if leg.fo_to_dv() {
        for (_, value) in &column.value_map {
            literal_checks(value, "value map value", &target, checks);
        }
    }
    if let Some(source) = leg.source {
        let source_col = col(leg.source_path, source);
        if !column.key && column.default.is_none() && leg.null_member().is_none() {
            let source_key = if leg.fo_to_dv() { "fo" } else { "dv" };
            checks.push(check(
                span,
                "NotNullColumn",
                &format!(
                    "`{key} = {dest}` is Nullable=false in {side} but `{source_key} = {source}` can be null: say what to write instead with `default = ..`"
                ),
                "never null",
                quote! { ::dualsync::__private::null_safe(#source_col, #target) },
                Subject::None,
            ));
        }
        if let Some(lossy) = column.lossy {
            checks.push(check(
                lossy,
                "NotMoney",
                &format!(
                    "`lossy` on a currency amount (`{source}` → `{dest}`): money never goes through a float; map it to a decimal column"
                ),
                "money is exact",
                quote! { ::dualsync::__private::not_money(#source_col, #target) },
                Subject::None,
            ));
        }
        if !leg.fo_to_dv() && !column.value_map.is_empty() {
            // Dataverse values are the keys here: they must be values of the source column, and
            // cover every option of a choice.
            let mut ints = Vec::new();
            for (_, value) in &column.value_map {
                literal_checks(value, "value map value", &source_col, checks);
                if let Kind::Int(i) = value.kind {
                    ints.push(i);
                }
            }
            checks.push(check(
                column.direction_span,
                "CoversOptions",
                &format!(
                    "the value map does not cover every option of `{{Self}}` (`dv = {source}`): Dataverse -> F&O needs a member for each option (or write fo_to_dv)"
                ),
                "not every option is mapped",
                quote! { ::dualsync::__private::covers_options(#source_col, &[#(#ints),*]) },
                Subject::Column(source_col.clone()),
            ));
        }
    }
}

/// Checks of a value map's F&O column (its keys are the members of its enum).
fn member_checks(map: &Map, column: &Column, checks: &mut Vec<TokenStream>) {
    let Some(fo) = &column.fo else { return };
    if column.value_map.is_empty() {
        return;
    }
    let fo_col = col(&map.fo, fo);
    checks.push(check(
        fo.span(),
        "EnumColumn",
        &format!("value_map(..) keys are members of an F&O enum, but `fo = {fo}` holds `{{Self}}`: map it without a value map"),
        "not an enum column",
        quote! { ::dualsync::__private::is_enum(#fo_col) },
        Subject::Column(fo_col.clone()),
    ));
    for (member, _) in &column.value_map {
        checks.push(check(
            member.span(),
            "EnumMember",
            &format!("`{{Self}}` has no member `{member}`: use one of the members the metadata lists (`{{Self}}::MEMBERS`)"),
            "no such member",
            {
                let name = member.to_string();
                quote! { ::dualsync::__private::has_member(#fo_col, #name) }
            },
            Subject::Column(fo_col.clone()),
        ));
    }
    if column.direction.writes_dv() {
        let names: Vec<String> = column.value_map.iter().map(|(m, _)| m.to_string()).collect();
        checks.push(check(
            column.direction_span,
            "CoversMembers",
            &format!(
                "the value map does not cover every member of `{{Self}}` (`fo = {fo}`): F&O -> Dataverse needs a value for each member (see `{{Self}}::MEMBERS`), or write dv_to_fo"
            ),
            "not every member is mapped",
            quote! { ::dualsync::__private::covers_members(#fo_col, &[#(#names),*]) },
            Subject::Column(fo_col.clone()),
        ));
    }
}

/// The columns of a side a create must carry and this map leaves out.
fn required_check(map: &Map, side: Side, written: &[TokenStream], checks: &mut Vec<TokenStream>) {
    let path = match side {
        Side::Fo => &map.fo,
        Side::Dv => &map.dv,
    };
    let entity = entity(path);
    // Spanned at the table: the error is about a column of it, and a `fo = ..` / `dv = ..` that is
    // not an entity stays one error.
    let span = path.span();
    let name = side.name();
    let key = side.key();
    let message = format!(
        "required {name} column `{{Self}}` is not mapped: map it (`{key} = ..`), or give it a default (`#[map({}, {key} = .., default = ..)]`)",
        if side == Side::Dv { "fo_to_dv" } else { "dv_to_fo" }
    );
    let path_span = path.span();
    let missing = quote_spanned! {path_span=> ::dualsync::__private::first_unmapped(<#entity as ::dualsync::entity::Entity>::MUST_MAP, &[#(#written),*]) };
    let column =
        quote_spanned! {path_span=> <#entity as ::dualsync::__private::RequiredAt<MISSING>>::Column };
    checks.push(quote_spanned! {span=>
        const _: () = {
            #[diagnostic::on_unimplemented(message = #message, label = "a required column is not mapped")]
            trait RequiredColumnMapped<B> {}
            impl<T> RequiredColumnMapped<::dualsync::__private::Bool<true>> for T {}
            const MISSING: usize = #missing;
            const fn check<B, T: RequiredColumnMapped<B>>() {}
            type Missing = #column;
            check::<::dualsync::__private::Bool<{ MISSING == usize::MAX }>, Missing>();
        };
    });
}

pub fn expand(map: &Map) -> TokenStream {
    let ident = &map.ident;
    let (fo, dv) = (&map.fo, &map.dv);
    let fo_entity = entity(fo);
    let dv_entity = entity(dv);
    let mut metadata = Vec::new();
    let mut to_dv = Vec::new();
    let mut to_fo = Vec::new();
    let mut checks = Vec::new();
    let mut written_dv = Vec::new();
    let mut written_fo = Vec::new();
    for column in &map.columns {
        let direction = match column.direction {
            Direction::FoToDv => quote! { ::dualsync::map::Direction::FoToDv },
            Direction::DvToFo => quote! { ::dualsync::map::Direction::DvToFo },
            Direction::Both => quote! { ::dualsync::map::Direction::Both },
        };
        let name_of = |path: &Path, field: &Option<Ident>| match field {
            Some(f) => {
                let c = col(path, f);
                quote_spanned! {path.span()=> ::dualsync::__private::column_name(#c) }
            }
            None => quote! { "" },
        };
        let fo_name = name_of(fo, &column.fo);
        let dv_name = name_of(dv, &column.dv);
        let key = column.key;
        let (lookup, navigation, lookup_set, via) = match (&column.lookup, &column.dv) {
            (Some(lookup), Some(dv_column)) => {
                let c = col(&lookup.target, &lookup.key);
                let lookup_col = col(dv, dv_column);
                let target_entity = entity(&lookup.target);
                (
                    quote! { ::dualsync::__private::column_name(#c) },
                    quote! { ::dualsync::__private::lookup_navigation::<_, _, _, #target_entity>(#lookup_col) },
                    quote! { <#target_entity as ::dualsync::entity::Entity>::SET },
                    via_tokens(lookup),
                )
            }
            _ => (quote! { "" }, quote! { "" }, quote! { "" }, quote! { &[] }),
        };
        metadata.push(quote! {
            ::dualsync::map::ColumnMap {
                fo: #fo_name,
                dv: #dv_name,
                direction: #direction,
                key: #key,
                lookup: #lookup,
                navigation: #navigation,
                lookup_set: #lookup_set,
                via: #via,
            }
        });
        if column.direction.writes_dv()
            && let Some(dest) = &column.dv
        {
            let leg = Leg {
                column,
                dest_side: Side::Dv,
                source_path: fo,
                dest_path: dv,
                source: column.fo.as_ref(),
                dest,
            };
            to_dv.push(leg_statements(&leg));
            leg_checks(&leg, &mut checks);
            written_dv.push(dv_name.clone());
        }
        if column.direction.writes_fo()
            && let Some(dest) = &column.fo
        {
            let leg = Leg {
                column,
                dest_side: Side::Fo,
                source_path: dv,
                dest_path: fo,
                source: column.dv.as_ref(),
                dest,
            };
            to_fo.push(leg_statements(&leg));
            leg_checks(&leg, &mut checks);
            written_fo.push(fo_name.clone());
        }
        member_checks(map, column, &mut checks);
    }
    if let Some(company) = &map.company {
        let table = rules::COMPANY_TABLE;
        let key = rules::COMPANY_KEY;
        let span = company.span();
        checks.push(check(
            span,
            "CompanyColumn",
            &format!(
                "`company = {:?}` is not the company column of the F&O entity: name its #[entity(company = ..)] column (`dataAreaId`), or remove `company` for a table that is not per company",
                company.value()
            ),
            "not the company column",
            quote_spanned! {fo.span()=> ::dualsync::__private::is_company_column(<#fo_entity as ::dualsync::entity::Entity>::COMPANY, #company) },
            Subject::None,
        ));
        checks.push(check(
            span,
            "CompanyLookup",
            "company striping binds the Dataverse table's lookup to `cdm_company`, and this table has none: remove `company`, or map a company-specific table",
            "no company lookup on the Dataverse side",
            quote_spanned! {dv.span()=> ::dualsync::__private::lookup_to_table(<#dv_entity as ::dualsync::entity::Entity>::FIELDS, #table) != usize::MAX },
            Subject::None,
        ));
        written_dv.push(
            quote_spanned! {dv.span()=> ::dualsync::__private::company_lookup_name(<#dv_entity as ::dualsync::entity::Entity>::FIELDS, #table) },
        );
        written_fo.push(quote! { #company });
        let company_lookup = quote_spanned! {dv.span()=>
            const LOOKUP: usize = ::dualsync::__private::lookup_to_table(<#dv_entity as ::dualsync::entity::Entity>::FIELDS, #table);
            lookups.extend(::dualsync::__private::company_lookup(<#dv_entity as ::dualsync::entity::Entity>::FIELDS, LOOKUP, #table, #key, code.as_ref()));
        };
        let company_navigation = quote_spanned! {dv.span()=>
            const NAVIGATION: &str = ::dualsync::__private::company_navigation(<#dv_entity as ::dualsync::entity::Entity>::FIELDS, #table);
        };
        let set_company = quote_spanned! {fo.span()=>
            ::dualsync::__private::set_company::<#fo_entity>(&mut patch, #company, code.as_ref())?;
        };
        to_dv.push(quote! {
            match ::dualsync::map::Source::company_code(record, "", "") {
                ::core::option::Option::Some(code) => {
                    #company_lookup
                }
                ::core::option::Option::None => {
                    return ::core::result::Result::Err(::dualsync::map::MapError::CompanyNotSelected { column: #company });
                }
            }
        });
        to_fo.push(quote! {
            {
                #company_navigation
                match ::dualsync::map::Source::company_code(record, NAVIGATION, #key) {
                    ::core::option::Option::Some(code) => {
                        #set_company
                    }
                    ::core::option::Option::None => {
                        return ::core::result::Result::Err(::dualsync::map::MapError::CompanyNotExpanded { navigation: NAVIGATION, key: #key });
                    }
                }
            }
        });
    }
    if !written_dv.is_empty() {
        required_check(map, Side::Dv, &written_dv, &mut checks);
    }
    if !written_fo.is_empty() {
        required_check(map, Side::Fo, &written_fo, &mut checks);
    }
    for (path, filter, side, argument) in [
        (fo, &map.fo_filter, Side::Fo, "fo_filter"),
        (dv, &map.dv_filter, Side::Dv, "dv_filter"),
    ] {
        let Some(filter) = filter else { continue };
        let entity = entity(path);
        for column in &filter.columns {
            checks.push(check(
                filter.text.span(),
                "FilterColumn",
                &format!(
                    "`{argument}` names `{column}`, which is not a column of the {}: use a column's wire name (its #[field(name = ..)])",
                    if side == Side::Fo { "F&O entity" } else { "Dataverse table" }
                ),
                "unknown column in the filter",
                quote_spanned! {path.span()=> ::dualsync::__private::has_member_path(<#entity as ::dualsync::entity::Entity>::FIELDS, #column) },
                Subject::None,
            ));
        }
    }
    for (path, side) in [(fo, Side::Fo), (dv, Side::Dv)] {
        let entity = entity(path);
        checks.push(check(
            path.span(),
            "ConcreteEntity",
            &format!(
                "`{} = ..` is an abstract entity type: map one of its concrete types (one with an entity set)",
                side.key()
            ),
            "abstract type",
            quote_spanned! {path.span()=> !<#entity as ::dualsync::entity::Entity>::ABSTRACT },
            Subject::None,
        ));
    }
    let company = match &map.company {
        Some(c) => quote! { ::core::option::Option::Some(#c) },
        None => quote! { ::core::option::Option::None },
    };
    let filter = |f: &Option<super::ast::Filter>| match f {
        Some(f) => {
            let text = &f.text;
            quote! { ::core::option::Option::Some(#text) }
        }
        None => quote! { ::core::option::Option::None },
    };
    let master = match map.master {
        Master::Fo => quote! { ::dualsync::map::Side::Fo },
        Master::Dv => quote! { ::dualsync::map::Side::Dv },
    };
    let fo_filter = filter(&map.fo_filter);
    let dv_filter = filter(&map.dv_filter);
    let fields = &map.fields;
    // Everything that names an entity type is spanned at it: a `fo = ..` / `dv = ..` that is not an
    // entity is then one error (rustc folds identical ones).
    let fo_type = quote_spanned! {fo.span()=> type Fo = #fo_entity; };
    let fo_source = quote_spanned! {fo.span()=> ::dualsync::map::Source<#fo_entity> };
    let dv_source = quote_spanned! {dv.span()=> ::dualsync::map::Source<#dv_entity> };
    let fo_to_dv_header = quote_spanned! {dv.span()=>
        fn fo_to_dv<S: #fo_source>(
            record: &S,
        ) -> ::core::result::Result<::dualsync::map::MapOutput<#dv_entity>, ::dualsync::map::MapError>
    };
    let dv_to_fo_header = quote_spanned! {fo.span()=>
        fn dv_to_fo<S: #dv_source>(
            record: &S,
        ) -> ::core::result::Result<::dualsync::map::MapOutput<#fo_entity>, ::dualsync::map::MapError>
    };
    let dv_patch = quote_spanned! {dv.span()=> ::dualsync::entity::Patch::<#dv_entity>::new() };
    let fo_patch = quote_spanned! {fo.span()=> ::dualsync::entity::Patch::<#fo_entity>::new() };
    let dv_type = quote_spanned! {dv.span()=> type Dv = #dv_entity; };
    let lookup_count =
        map.columns.iter().filter(|c| c.lookup.is_some()).count() + usize::from(map.company.is_some());
    quote! {
        // The struct's fields only carry attributes: read them once so they are not "never read".
        const _: fn(&#ident) = |map| {
            let _ = (#(&map.#fields,)*);
        };

        impl ::dualsync::map::TableMap for #ident {
            #fo_type
            #dv_type
            const COMPANY: ::core::option::Option<&'static str> = #company;
            const FO_FILTER: ::core::option::Option<&'static str> = #fo_filter;
            const DV_FILTER: ::core::option::Option<&'static str> = #dv_filter;
            const COLUMNS: &'static [::dualsync::map::ColumnMap] = &[#(#metadata),*];
            const MASTER: ::dualsync::map::Side = #master;

            #fo_to_dv_header {
                let mut patch = #dv_patch;
                let mut lookups = ::std::vec::Vec::with_capacity(#lookup_count);
                #(#to_dv)*
                ::core::result::Result::Ok(::dualsync::map::MapOutput { patch, lookups })
            }

            #dv_to_fo_header {
                let mut patch = #fo_patch;
                let mut lookups = ::std::vec::Vec::new();
                #(#to_fo)*
                ::core::result::Result::Ok(::dualsync::map::MapOutput { patch, lookups })
            }
        }

        #(#checks)*
    }
}
