//! `#[derive(Entity)]` and `#[derive(Complex)]`: parse the generator's attributes into a small AST
//! ([`ast`]), check it (every error collected), then emit ([`emit`]).

mod ast;
mod emit;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::errors::Errors;
use ast::Derive;

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let parsed = ast::parse(&input, Derive::Entity, &mut errors);
    errors.finish()?;
    Ok(parsed.map(|p| emit::entity(&p)).unwrap_or_default())
}

pub fn expand_complex(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let parsed = ast::parse(&input, Derive::Complex, &mut errors);
    errors.finish()?;
    Ok(parsed.map(|p| emit::complex(&p)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn pretty(tokens: TokenStream) -> String {
        match syn::parse2(tokens.clone()) {
            Ok(file) => prettyplease::unparse(&file),
            Err(e) => panic!("{e}: {tokens}"),
        }
    }

    #[test]
    fn expansion_of_a_small_entity() {
        let input: DeriveInput = syn::parse2(quote! {
            #[entity(type_name = "Microsoft.Dynamics.CRM.account", set = "accounts", key("accountid"), alternate_key("accountnumber"))]
            pub struct Account {
                #[field(name = "accountid", edm = "Edm.Guid", key)]
                pub accountid: ::dualsync::edm::Guid,
                #[field(name = "accountnumber", edm = "Edm.String", max_length = 20)]
                pub accountnumber: ::core::option::Option<::std::string::String>,
                #[field(name = "name", edm = "Edm.String", required = "ApplicationRequired")]
                pub name: ::core::option::Option<::std::string::String>,
                #[field(name = "revenue", edm = "Edm.Decimal", precision = 19, scale = "variable")]
                pub revenue: ::core::option::Option<::dualsync::edm::Decimal>,
                #[field(name = "revenue_base", edm = "Edm.Decimal", scale = "variable")]
                pub revenue_base: ::core::option::Option<::dualsync::edm::Decimal>,
                #[field(name = "createdon", edm = "Edm.DateTimeOffset")]
                pub createdon: ::core::option::Option<::dualsync::edm::DateTimeOffset>,
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
            #[entity(set = "x", key("nope"), colour = "red")]
            pub struct Broken {
                #[field(name = "a", edm = "Edm.String", max_len = 3)]
                pub a: String,
                pub b: String,
                #[field(name = "c", edm = "Edm.String", name = "d")]
                pub c: String,
                #[field(name = "e", edm = "Edm.String", required = "Mandatory")]
                pub e: String,
                #[field(additional)]
                pub rest: ::std::collections::BTreeMap<String, ::dualsync::edm::Json>,
            }
        })
        .unwrap();
        let message = expand(input).unwrap_err().into_compile_error().to_string();
        for expected in [
            "`colour` is not a `entity` argument",
            "needs #[entity(type_name",
            "`max_len` is not a `field` argument",
            "each field needs #[field(",
            "`name` is given twice",
            "required is entity metadata's RequiredLevel",
            "add `open` to #[entity(..)]",
            "key column `nope` is not the name of a field",
        ] {
            assert!(message.contains(expected), "{expected}: {message}");
        }
    }

    #[test]
    fn complex_takes_only_its_type_name() {
        let input: DeriveInput = syn::parse2(quote! {
            #[complex(type_name = "Test.Address", set = "x")]
            pub struct Address {
                #[field(name = "City", edm = "Edm.String")]
                pub city: Option<String>,
            }
        })
        .unwrap();
        let message = expand_complex(input)
            .unwrap_err()
            .into_compile_error()
            .to_string();
        assert!(
            message.contains("`set` is not a `complex` argument: use type_name"),
            "{message}"
        );
    }
}
