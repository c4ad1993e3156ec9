//! Literals in a map (`default = ..`, the values of `value_map(..)`): their JSON text for the runtime,
//! the text a value map matches, and a description the compile-time checks compare with the column's
//! type and facets (`__private::Lit`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::ParseStream;
use syn::{Ident, Lit, Token};

#[derive(Clone)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Number { before: u32, after: u32 },
    Str(String),
}

#[derive(Clone)]
pub struct Literal {
    pub span: Span,
    pub kind: Kind,
    /// The literal as written, for messages.
    pub written: String,
    /// OData JSON text.
    pub json: String,
}

impl Literal {
    /// The text a value map compares a source value with (`__private::map_value`: JSON text, strings
    /// without their quotes).
    pub fn key(&self) -> String {
        match &self.kind {
            Kind::Str(text) if !text.contains(['"', '\\']) => text.clone(),
            _ => self.json.clone(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// `__private::Lit` for the checks (`None` for null, which has no type to check).
    pub fn check_tokens(&self) -> Option<TokenStream> {
        Some(match &self.kind {
            Kind::Null => return None,
            Kind::Bool(b) => quote! { ::dualsync::__private::Lit::Bool(#b) },
            Kind::Int(value) => quote! { ::dualsync::__private::Lit::Int(#value) },
            Kind::Number { before, after } => {
                quote! { ::dualsync::__private::Lit::Number { before: #before, after: #after } }
            }
            Kind::Str(text) => {
                let chars = text.chars().count() as u32;
                let forms = forms(text);
                quote! { ::dualsync::__private::Lit::Str { text: #text, chars: #chars, forms: #forms } }
            }
        })
    }
}

/// Reads a literal: a number (with an optional `-`), `true` / `false`, a string, or `null` when
/// `null_allowed`.
pub fn parse(input: ParseStream<'_>, null_allowed: bool) -> syn::Result<Literal> {
    let negative = if input.peek(Token![-]) {
        let _: Token![-] = input.parse()?;
        true
    } else {
        false
    };
    if !negative && input.peek(Ident) {
        let word: Ident = input.parse()?;
        if word == "null" && null_allowed {
            return Ok(Literal {
                span: word.span(),
                kind: Kind::Null,
                written: "null".into(),
                json: "null".into(),
            });
        }
        return Err(syn::Error::new(
            word.span(),
            if null_allowed {
                format!("`{word}` is not a literal: write a number, true / false, a \"string\" or null")
            } else {
                format!("`{word}` is not a literal: write a number, true / false or a \"string\"")
            },
        ));
    }
    let lit: Lit = input.parse()?;
    let span = lit.span();
    let sign = if negative { "-" } else { "" };
    let (kind, written, json) = match &lit {
        Lit::Bool(b) => (Kind::Bool(b.value), b.value.to_string(), b.value.to_string()),
        Lit::Int(i) => {
            let digits = format!("{sign}{}", i.base10_digits());
            let value: i128 = digits
                .parse()
                .map_err(|_| syn::Error::new(span, "this number is out of range for every column type"))?;
            (Kind::Int(value), digits.clone(), digits)
        }
        Lit::Float(f) => {
            let digits = format!("{sign}{}", f.base10_digits());
            let plain = digits.trim_start_matches('-');
            if plain.contains(['e', 'E']) {
                return Err(syn::Error::new(
                    span,
                    "write the number without an exponent (it is exact text)",
                ));
            }
            let (before, after) = plain.split_once('.').unwrap_or((plain, ""));
            let before = before.trim_start_matches('0').len() as u32;
            let after = after.trim_end_matches('0').len() as u32;
            (Kind::Number { before, after }, digits.clone(), digits)
        }
        Lit::Str(s) if !negative => {
            let text = s.value();
            let json = serde_like_json_string(&text);
            (Kind::Str(text.clone()), format!("{text:?}"), json)
        }
        _ => {
            return Err(syn::Error::new(
                span,
                "expected a number, true / false or a \"string\"",
            ));
        }
    };
    Ok(Literal {
        span,
        kind,
        written,
        json,
    })
}

fn serde_like_json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text forms a string literal has (`__private::FORM_*`).
fn forms(text: &str) -> u32 {
    let mut forms = 0;
    if is_guid(text) {
        forms |= 1;
    }
    if is_date(text) {
        forms |= 2;
    }
    if is_date_time(text) {
        forms |= 4;
    }
    if is_time(text) {
        forms |= 8;
    }
    if is_duration(text) {
        forms |= 16;
    }
    if is_base64(text) {
        forms |= 32;
    }
    forms
}

fn digits(text: &str, n: usize) -> bool {
    text.len() == n && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_guid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2)
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&d.parse::<u32>().unwrap_or(0)))
}

fn is_time(text: &str) -> bool {
    let (main, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let parts: Vec<&str> = main.split(':').collect();
    let fields_ok = match parts.as_slice() {
        [h, m] => digits(h, 2) && digits(m, 2),
        [h, m, s] => digits(h, 2) && digits(m, 2) && digits(s, 2),
        _ => false,
    };
    fields_ok
        && !fraction.is_empty()
        && fraction.len() <= 9
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && parts[0].parse::<u32>().unwrap_or(99) < 24
        && parts[1].parse::<u32>().unwrap_or(99) < 60
}

fn is_date_time(text: &str) -> bool {
    let Some((date, rest)) = text.split_once('T') else {
        return false;
    };
    let time = if let Some(time) = rest.strip_suffix('Z') {
        time
    } else if rest.len() > 6 && matches!(rest.as_bytes()[rest.len() - 6], b'+' | b'-') {
        let (time, offset) = rest.split_at(rest.len() - 6);
        if !is_time(&offset[1..]) {
            return false;
        }
        time
    } else {
        return false;
    };
    is_date(date) && is_time(time)
}

fn is_duration(text: &str) -> bool {
    let text = text.strip_prefix('-').unwrap_or(text);
    let Some(rest) = text.strip_prefix('P') else {
        return false;
    };
    let (days, time) = rest.split_once('T').unwrap_or((rest, ""));
    let days_ok = days.is_empty()
        || (days.ends_with('D') && digits(&days[..days.len() - 1], days.len() - 1) && days.len() > 1);
    let mut time_ok = true;
    let mut number = String::new();
    for c in time.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'H' | 'M' | 'S' if !number.is_empty() => number.clear(),
            _ => time_ok = false,
        }
    }
    days_ok && time_ok && number.is_empty() && !(days.is_empty() && time.is_empty())
}

fn is_base64(text: &str) -> bool {
    text.len().is_multiple_of(4)
        && text
            .trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms() {
        assert_eq!(forms("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"), 1);
        assert_eq!(forms("2024-05-01") & 2, 2);
        assert_eq!(forms("2024-05-01T09:30:00Z"), 4);
        assert_eq!(forms("2024-05-01T09:30:00.5+02:00"), 4);
        assert_eq!(forms("09:30") & 8, 8);
        assert_eq!(forms("P1DT2H"), 16);
        assert_eq!(forms("three") & !32, 0);
        assert_eq!(forms("2024-13-01") & 2, 0);
    }
}
