//! `#[derive(TableMap)]`: a map between an F&O entity and a Dataverse table, checked at compile time.
//! Attributes are read once into a small AST ([`ast`]; filters parsed by [`filter`], literals by
//! [`literal`]), the rules the macro can see are checked with every error collected ([`check`]), and
//! the map is emitted with the compile-time checks that need the entities' field tables ([`emit`]).

mod ast;
mod check;
mod emit;
mod filter;
mod literal;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::errors::Errors;

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let map = ast::parse(&input, &mut errors);
    if let Some(map) = &map {
        check::check(map, &mut errors);
    }
    errors.finish()?;
    Ok(map.map(|m| emit::expand(&m)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

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

    #[test]
    fn every_rule_the_macro_sees_is_reported_at_once() {
        let input: DeriveInput = syn::parse2(quote! {
            #[table_map(fo = CustomerV3, dv = Account, dv_filter = "statecode = 0")]
            #[table_map(colour = "red")]
            #[table_map(master = both)]
            struct Map {
                #[map(key, fo_to_dv, fo = customer_account, dv = accountnumber)]
                key: (),
                #[map(fo = name, dv = name)]
                name: (),
                #[map(both, fo = a, dv = x)]
                a: (),
                #[map(fo_to_dv, fo = b, dv = x)]
                b: (),
                #[map(fo_to_dv, fo = c, dv = c, lookup = "isocurrencycode")]
                c: (),
                #[map(dv_to_fo, fo = d, dv = d, value_map(Yes = true))]
                d: (),
            }
        })
        .unwrap();
        let message = expand(input).unwrap_err().into_compile_error().to_string();
        for expected in [
            "`=` is not OData: compare with `eq`",
            "`colour` is not a `table_map` argument",
            "`both` is not a side: master = fo or master = dv",
            "an integration key column maps both ways",
            "give the column a direction",
            "Dataverse column `x` is written by two columns of this map",
            "the other writer of Dataverse column `x`",
            "lookup(TargetTable::isocurrencycode)",
            "map `false` to a member too",
        ] {
            assert!(message.contains(expected), "{expected}: {message}");
        }
    }
}
