//! Helpers for reading `#[name(key = value, flag, list(..))]` attributes into an AST: every argument
//! once, unknown ones refused with the list of known ones.

use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{LitBool, LitInt, LitStr, Token};

/// Remembers which arguments were given, to refuse one given twice.
#[derive(Default)]
pub struct Seen(Vec<String>);

impl Seen {
    pub fn first(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        if self.0.contains(&name) {
            return Err(meta.error(format!("`{name}` is given twice: keep one")));
        }
        self.0.push(name);
        Ok(())
    }
}

pub fn string_list(meta: &ParseNestedMeta<'_>) -> syn::Result<Vec<LitStr>> {
    let content;
    syn::parenthesized!(content in meta.input);
    Ok(Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
        .into_iter()
        .collect())
}

pub fn u32_value(meta: &ParseNestedMeta<'_>) -> syn::Result<u32> {
    let lit: LitInt = meta.value()?.parse()?;
    lit.base10_parse::<u32>()
}

pub fn bool_value(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    let lit: LitBool = meta.value()?.parse()?;
    Ok(lit.value)
}

/// The error for an unknown argument, naming the known ones.
pub fn unknown(meta: &ParseNestedMeta<'_>, attribute: &str, known: &str) -> syn::Error {
    let name = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_else(|| "this".into());
    meta.error(format!("`{name}` is not a `{attribute}` argument: use {known}"))
}
