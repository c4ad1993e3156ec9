//! `#[table_map(..)]` and `#[map(..)]`, read once into a small AST. Syntax errors are collected; the
//! rules between columns are in `check`.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path};

use super::filter;
use super::literal::{self, Literal};
use crate::attr::{Seen, unknown};
use crate::errors::Errors;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    FoToDv,
    DvToFo,
}

impl Direction {
    pub fn writes_dv(self) -> bool {
        matches!(self, Direction::Both | Direction::FoToDv)
    }

    pub fn writes_fo(self) -> bool {
        matches!(self, Direction::Both | Direction::DvToFo)
    }
}

/// `lookup(Target::key_column)`, or through further tables
/// `lookup(Target::lookup_column, Next::key_column)`.
pub struct Lookup {
    pub span: Span,
    /// The target entity type.
    pub target: Path,
    /// Its key column (a field of the target), or its lookup column the first of `via` follows.
    pub key: Ident,
    /// Further hops: (table, its lookup column or, last, the key column).
    pub via: Vec<(Path, Ident)>,
}

impl Lookup {
    /// Every hop: (table, column), the target first.
    pub fn hops(&self) -> impl Iterator<Item = (&Path, &Ident)> {
        std::iter::once((&self.target, &self.key)).chain(self.via.iter().map(|(p, i)| (p, i)))
    }

    /// The table and column of the key value (the last hop).
    pub fn leaf(&self) -> (&Path, &Ident) {
        self.via.last().map_or((&self.target, &self.key), |(p, i)| (p, i))
    }
}

/// One `#[map(..)]`.
pub struct Column {
    /// The `map` of the attribute (for errors about the whole column).
    pub span: Span,
    pub direction: Direction,
    /// The direction as written.
    pub direction_span: Span,
    pub key: bool,
    pub key_span: Span,
    pub fo: Option<Ident>,
    pub dv: Option<Ident>,
    pub default: Option<Literal>,
    /// (F&O enum member, Dataverse value).
    pub value_map: Vec<(Ident, Literal)>,
    pub lookup: Option<Lookup>,
    pub lossy: Option<Span>,
}

/// A filter with the columns it names.
pub struct Filter {
    pub text: LitStr,
    pub columns: Vec<String>,
}

/// The initial-sync master (`master = fo` / `master = dv`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Master {
    Fo,
    Dv,
}

pub struct Map {
    pub ident: Ident,
    /// F&O unless `master = dv`.
    pub master: Master,
    pub fo: Path,
    pub dv: Path,
    pub company: Option<LitStr>,
    pub fo_filter: Option<Filter>,
    pub dv_filter: Option<Filter>,
    pub columns: Vec<Column>,
    /// The struct's fields (they only carry attributes).
    pub fields: Vec<Ident>,
}

const TABLE_MAP_ARGS: &str = "fo = FoEntity, dv = DataverseTable, company = \"dataAreaId\", fo_filter = \"..\", \
     dv_filter = \"..\" or master = fo / dv";
const MAP_ARGS: &str = "key, both, fo_to_dv, dv_to_fo, fo = column, dv = column, default = value, \
     value_map(Member = value, ..), lookup(Target::key_column) or lossy";

fn filter_arg(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<Filter> {
    let text: LitStr = meta.value()?.parse()?;
    let columns = filter::parse(&text.value()).map_err(|message| syn::Error::new(text.span(), message))?;
    Ok(Filter { text, columns })
}

pub fn parse(input: &DeriveInput, errors: &mut Errors) -> Option<Map> {
    let (mut fo, mut dv, mut company, mut fo_filter, mut dv_filter) = (None, None, None, None, None);
    let mut master = Master::Fo;
    let mut seen = Seen::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("table_map")) {
        let result = attr.parse_nested_meta(|meta| {
            seen.first(&meta)?;
            if meta.path.is_ident("fo") {
                fo = Some(meta.value()?.parse::<Path>()?);
            } else if meta.path.is_ident("dv") {
                dv = Some(meta.value()?.parse::<Path>()?);
            } else if meta.path.is_ident("company") {
                let text: LitStr = meta.value()?.parse()?;
                if text.value().is_empty() {
                    return Err(syn::Error::new(
                        text.span(),
                        "name the F&O company column: company = \"dataAreaId\"",
                    ));
                }
                company = Some(text);
            } else if meta.path.is_ident("master") {
                let side: Ident = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "the initial-sync master is a side: master = fo or master = dv",
                    )
                })?;
                master = if side == "fo" {
                    Master::Fo
                } else if side == "dv" {
                    Master::Dv
                } else {
                    return Err(syn::Error::new(
                        side.span(),
                        format!("`{side}` is not a side: master = fo or master = dv"),
                    ));
                };
            } else if meta.path.is_ident("fo_filter") {
                fo_filter = Some(filter_arg(&meta)?);
            } else if meta.path.is_ident("dv_filter") {
                dv_filter = Some(filter_arg(&meta)?);
            } else {
                return Err(unknown(&meta, "table_map", TABLE_MAP_ARGS));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
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
            "derive(TableMap) works on a struct with one named field per column: `struct Map { #[map(..)] name: () }`",
        ));
        return None;
    };
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "derive(TableMap) does not take generic parameters: remove them",
        ));
    }
    let (Some(fo), Some(dv)) = (fo, dv) else {
        errors.push(syn::Error::new_spanned(
            &input.ident,
            "derive(TableMap) needs #[table_map(fo = FoEntity, dv = DataverseTable, ..)]",
        ));
        return None;
    };
    let mut columns = Vec::new();
    let mut fields = Vec::new();
    for field in &named.named {
        fields.extend(field.ident.clone());
        let mut maps = field.attrs.iter().filter(|a| a.path().is_ident("map"));
        let Some(attr) = maps.next() else {
            errors.push(syn::Error::new_spanned(
                field,
                "each field of a table map is one column: add #[map(..)] (or remove the field)",
            ));
            continue;
        };
        if let Some(extra) = maps.next() {
            errors.push(syn::Error::new_spanned(
                extra,
                "one #[map(..)] per field: merge them",
            ));
        }
        if let Some(column) = parse_column(attr, errors) {
            columns.push(column);
        }
    }
    Some(Map {
        ident: input.ident.clone(),
        master,
        fo,
        dv,
        company,
        fo_filter,
        dv_filter,
        columns,
        fields,
    })
}

fn parse_column(attr: &syn::Attribute, errors: &mut Errors) -> Option<Column> {
    let mut direction: Option<(Direction, Span)> = None;
    let mut column = Column {
        span: attr.path().span(),
        direction: Direction::Both,
        direction_span: attr.path().span(),
        key: false,
        key_span: attr.path().span(),
        fo: None,
        dv: None,
        default: None,
        value_map: Vec::new(),
        lookup: None,
        lossy: None,
    };
    let mut seen = Seen::default();
    let result = attr.parse_nested_meta(|meta| {
        let path = &meta.path;
        let set_direction = |d: Direction, direction: &mut Option<(Direction, Span)>| {
            if direction.is_some() {
                return Err(meta.error("give one direction: both, fo_to_dv or dv_to_fo"));
            }
            *direction = Some((d, path.span()));
            Ok(())
        };
        if path.is_ident("both") {
            set_direction(Direction::Both, &mut direction)
        } else if path.is_ident("fo_to_dv") {
            set_direction(Direction::FoToDv, &mut direction)
        } else if path.is_ident("dv_to_fo") {
            set_direction(Direction::DvToFo, &mut direction)
        } else {
            seen.first(&meta)?;
            if path.is_ident("key") {
                column.key = true;
                column.key_span = path.span();
            } else if path.is_ident("fo") {
                column.fo = Some(meta.value()?.parse()?);
            } else if path.is_ident("dv") {
                column.dv = Some(meta.value()?.parse()?);
            } else if path.is_ident("lossy") {
                column.lossy = Some(path.span());
            } else if path.is_ident("default") {
                let value = meta.value()?;
                let literal = literal::parse(value, true)?;
                if literal.is_null() {
                    return Err(syn::Error::new(
                        literal.span,
                        "a default is a value: to write null, leave `default` out",
                    ));
                }
                column.default = Some(literal);
            } else if path.is_ident("lookup") {
                if meta.input.peek(syn::Token![=]) {
                    let old: LitStr = meta.value()?.parse()?;
                    return Err(syn::Error::new(
                        old.span(),
                        format!(
                            "name the lookup's target table and its key column: lookup(TargetTable::{}) (the Rust types of both sides are checked)",
                            old.value()
                        ),
                    ));
                }
                let content;
                syn::parenthesized!(content in meta.input);
                let paths = content.parse_terminated(|input: syn::parse::ParseStream<'_>| input.parse::<Path>(), syn::Token![,])?;
                let mut hops = Vec::new();
                for mut full in paths {
                    if full.segments.len() < 2 {
                        return Err(syn::Error::new(
                            full.span(),
                            "lookup(..) names the target table and its key column: lookup(TransactionCurrency::isocurrencycode), or through further tables lookup(Table::lookup_column, Next::key_column)",
                        ));
                    }
                    let key = full.segments.pop().map(|p| p.ident);
                    full.segments.pop_punct();
                    hops.push((full, key.expect("two segments")));
                }
                if hops.is_empty() {
                    return Err(syn::Error::new(
                        path.span(),
                        "lookup(..) names the target table and its key column: lookup(TransactionCurrency::isocurrencycode)",
                    ));
                }
                let (target, key) = hops.remove(0);
                column.lookup = Some(Lookup {
                    span: path.span(),
                    target,
                    key,
                    via: hops,
                });
            } else if path.is_ident("value_map") {
                meta.parse_nested_meta(|entry| {
                    let member = entry
                        .path
                        .get_ident()
                        .cloned()
                        .ok_or_else(|| entry.error("value_map entries are `Member = value`"))?;
                    let value = literal::parse(entry.value()?, true)?;
                    column.value_map.push((member, value));
                    Ok(())
                })?;
            } else {
                return Err(unknown(&meta, "map", MAP_ARGS));
            }
            Ok(())
        }
    });
    if let Err(e) = result {
        errors.push(e);
        return None;
    }
    match direction {
        Some((d, span)) => {
            column.direction = d;
            column.direction_span = span;
        }
        None => {
            errors.push(syn::Error::new(
                column.span,
                "give the column a direction: both, fo_to_dv or dv_to_fo",
            ));
            return None;
        }
    }
    Some(column)
}
