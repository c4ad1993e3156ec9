//! The rules a table map must follow that the macro can see by itself (the ones that need the
//! entities' field tables are compile-time checks the expansion emits, see `emit`). Every error is
//! collected, each at the token it is about.

use super::ast::{Column, Direction, Map};
use super::literal::Kind;
use crate::errors::Errors;
use quote::ToTokens;

pub fn check(map: &Map, errors: &mut Errors) {
    let keys: Vec<&Column> = map.columns.iter().filter(|c| c.key).collect();
    if keys.is_empty() && errors.0.is_none() {
        errors.push(syn::Error::new(
            map.ident.span(),
            "the map has no integration key: mark the key column(s) with #[map(key, both, ..)]",
        ));
    }
    for key in &keys {
        if key.direction != Direction::Both {
            errors.push(syn::Error::new(
                key.direction_span,
                "an integration key column maps both ways: write #[map(key, both, ..)]",
            ));
        }
        if key.fo.is_none() || key.dv.is_none() {
            errors.push(syn::Error::new(
                key.key_span,
                "an integration key column names both columns: #[map(key, both, fo = .., dv = ..)]",
            ));
        }
        // A key through a lookup (`lookup(..)`) is the target's key value on the F&O side and the
        // lookup on the Dataverse side: the engine resolves it both ways.
        if key.default.is_some() || !key.value_map.is_empty() {
            errors.push(syn::Error::new(
                key.key_span,
                "an integration key column copies its value as it is: remove default or value_map",
            ));
        }
    }
    for (i, column) in map.columns.iter().enumerate() {
        check_column(column, errors);
        duplicates(column, &map.columns[..i], errors);
    }
}

fn check_column(column: &Column, errors: &mut Errors) {
    let d = column.direction;
    if column.fo.is_none() && column.dv.is_none() {
        errors.push(syn::Error::new(
            column.span,
            "name the column(s): fo = .., dv = .. (or one of them with a default)",
        ));
        return;
    }
    // A column with one side only is filled from a default.
    let one_side = column.fo.is_none() || column.dv.is_none();
    if one_side && column.default.is_none() {
        errors.push(syn::Error::new(
            column.span,
            "a column with one side is filled from a default: add `default = ..`, or name the other side",
        ));
    }
    if one_side && d == Direction::Both {
        errors.push(syn::Error::new(
            column.direction_span,
            "a default fills one side: write fo_to_dv (to fill Dataverse) or dv_to_fo (to fill F&O)",
        ));
    }
    if column.fo.is_none() && d == Direction::DvToFo {
        errors.push(syn::Error::new(
            column.direction_span,
            "dv_to_fo writes F&O: name the F&O column (fo = ..)",
        ));
    }
    if column.dv.is_none() && d == Direction::FoToDv {
        errors.push(syn::Error::new(
            column.direction_span,
            "fo_to_dv writes Dataverse: name the Dataverse column (dv = ..)",
        ));
    }
    if let Some(lookup) = &column.lookup {
        if column.fo.is_none() || column.dv.is_none() {
            errors.push(syn::Error::new(
                lookup.span,
                "a lookup needs the F&O column holding the key value (fo = ..) and the Dataverse lookup column (dv = ..)",
            ));
        }
        if column.default.is_some() || !column.value_map.is_empty() || column.lossy.is_some() {
            errors.push(syn::Error::new(
                lookup.span,
                "a lookup takes its key value as it is: remove default, value_map or lossy",
            ));
        }
    }
    if let Some(lossy) = column.lossy
        && (one_side || !column.value_map.is_empty())
    {
        errors.push(syn::Error::new(
            lossy,
            "`lossy` allows a rounding conversion between two columns: it needs fo = .. and dv = .. and no value_map",
        ));
    }
    if !column.value_map.is_empty() {
        if one_side {
            errors.push(syn::Error::new(
                column.span,
                "a value map translates one column into another: name both (fo = .., dv = ..)",
            ));
        }
        let mut members: Vec<String> = Vec::new();
        for (member, _) in &column.value_map {
            if members.contains(&member.to_string()) {
                errors.push(syn::Error::new(
                    member.span(),
                    format!("member `{member}` is in the value map twice: keep one"),
                ));
            }
            members.push(member.to_string());
        }
        if d.writes_fo() {
            // Dataverse -> F&O needs every Dataverse value that can arrive; for a two-option column
            // that is true and false.
            let values: Vec<&Kind> = column.value_map.iter().map(|(_, v)| &v.kind).collect();
            let booleans = values.iter().any(|v| matches!(v, Kind::Bool(_)));
            let has = |b: bool| values.iter().any(|v| matches!(v, Kind::Bool(x) if *x == b));
            if booleans && !(has(true) && has(false)) {
                let missing = if has(true) { "false" } else { "true" };
                errors.push(syn::Error::new(
                    column.direction_span,
                    format!("the value map is not total Dataverse -> F&O: map `{missing}` to a member too (or write fo_to_dv)"),
                ));
            }
            let mut keys: Vec<String> = Vec::new();
            for (_, value) in &column.value_map {
                if keys.contains(&value.key()) {
                    errors.push(syn::Error::new(
                        value.span,
                        format!(
                            "Dataverse value `{}` is in the value map twice: Dataverse -> F&O cannot choose a member (write fo_to_dv, or map it once)",
                            value.written
                        ),
                    ));
                }
                keys.push(value.key());
            }
        }
    }
}

/// Whether two columns look up one record together through lookup column `dv`: each names a
/// column of the key of the same table (a record found by a key of many columns, such as an
/// exchange rate's currency pair by its type and both currencies).
fn one_lookup(a: &Column, b: &Column) -> bool {
    let target = |c: &Column| c.lookup.as_ref().map(|l| l.target.to_token_stream().to_string());
    a.dv.is_some() && a.dv == b.dv && target(a).is_some() && target(a) == target(b)
}

/// A destination column written by two columns of the map: both writers get an error.
fn duplicates(column: &Column, earlier: &[Column], errors: &mut Errors) {
    for other in earlier {
        if one_lookup(column, other) {
            if column.direction.writes_dv() != other.direction.writes_dv() || column.key != other.key {
                let lookup = column.lookup.as_ref().map_or(column.span, |l| l.span);
                errors.push(syn::Error::new(
                    lookup,
                    "the columns of one lookup find one record together: if one is written to Dataverse (both, fo_to_dv) so is each, and all or none is `key`",
                ));
            }
            let first_column = |c: &Column| c.lookup.as_ref().map(|l| l.key.to_string());
            if first_column(column) == first_column(other) {
                let lookup = column.lookup.as_ref().map_or(column.span, |l| l.span);
                errors.push(syn::Error::new(
                    lookup,
                    "two columns of one lookup name the same column of its target: keep one",
                ));
            }
            continue;
        }
        for (side, mine, theirs, writes) in [
            (
                "Dataverse",
                &column.dv,
                &other.dv,
                column.direction.writes_dv() && other.direction.writes_dv(),
            ),
            (
                "F&O",
                &column.fo,
                &other.fo,
                column.direction.writes_fo() && other.direction.writes_fo(),
            ),
        ] {
            if let (Some(a), Some(b)) = (mine, theirs)
                && a == b
                && writes
            {
                errors.push(syn::Error::new(
                    a.span(),
                    format!("{side} column `{a}` is written by two columns of this map: keep one writer (this one or the other)"),
                ));
                errors.push(syn::Error::new(
                    b.span(),
                    format!("the other writer of {side} column `{b}`"),
                ));
            }
        }
    }
}
