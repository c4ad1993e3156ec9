//! Entities as user code sees them: the field tables (`Entity`, `FieldDef`), typed column handles
//! with the `$filter` / `$select` text built from them, sparse patches (the request shape), and records
//! as read (`Record`, which tells "not selected" from null).
//!
//! `#[derive(Entity)]` implements [`Entity`] and emits one `Column` constant per field
//! (`Account::NAME: Column<Account, String>`).

pub use crate::column::{Column, Filter, Literal, SelectColumn, enum_literal, select};
pub use crate::patch::{Patch, PatchValue};
pub use crate::record::Record;
pub use crate::schema::{Entity, FieldDef, LookupTarget, RequiredLevel, Scale};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edm::{Date, Decimal, Duration, Guid};
    use crate::json::json_string;
    use proptest::prelude::*;
    use std::str::FromStr;

    struct Account;

    impl Entity for Account {
        const SET: &'static str = "accounts";
        const TYPE_NAME: &'static str = "Microsoft.Dynamics.CRM.account";
        const KEY: &'static [&'static str] = &["accountid"];
        type Columns = ();
        const COLUMNS: &'static () = &();
        const FIELDS: &'static [FieldDef] = &[
            FieldDef::new("name", "Edm.String"),
            FieldDef::new("revenue", "Edm.Decimal"),
        ];
    }

    const NAME: Column<Account, String> = Column::new("name");
    const REVENUE: Column<Account, Decimal> = Column::new("revenue");
    const ID: Column<Account, Guid> = Column::new("accountid");

    #[test]
    fn filters_quote_escape_and_parenthesize() {
        let filter = NAME
            .eq(&"O'Brien & Co".to_string())
            .and(REVENUE.gt(&Decimal::from_str("1000.50").unwrap()))
            .or(NAME.starts_with("Con"));
        assert_eq!(
            filter.to_odata(),
            "name eq 'O''Brien & Co' and revenue gt 1000.5 or startswith(name,'Con')"
        );
        let grouped = NAME
            .is_null()
            .and(REVENUE.lt(&Decimal::ZERO).or(REVENUE.gt(&Decimal::ONE)));
        assert_eq!(
            grouped.to_odata(),
            "name eq null and (revenue lt 0 or revenue gt 1)"
        );
        let guid = Guid::from_str("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c").unwrap();
        assert_eq!(
            ID.eq(&guid).not().to_odata(),
            "not (accountid eq 6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)"
        );
        assert_eq!(
            enum_literal("Microsoft.Dynamics.DataEntities.NoYes", "Yes"),
            "Microsoft.Dynamics.DataEntities.NoYes'Yes'"
        );
        assert_eq!(select(&[&NAME, &REVENUE]), "name,revenue");
        assert_eq!(Account::field("revenue").unwrap().edm, "Edm.Decimal");
        assert_eq!(1.0f64.literal(), "1.0");
        assert_eq!(f64::NAN.literal(), "NaN");
        let date = Date::from_str("2024-05-01").unwrap();
        assert_eq!(date.literal(), "2024-05-01");
        assert_eq!(Duration::from_str("P1D").unwrap().literal(), "duration'P1D'");
        assert_eq!(
            REVENUE.is_in([&Decimal::ONE, &Decimal::TEN]).to_odata(),
            "revenue in (1,10)"
        );
    }

    #[test]
    fn patches_tell_unset_from_null() {
        let mut patch: Patch<Account> = Patch::new();
        assert!(patch.get(NAME).is_none());
        patch.set_null(NAME);
        assert_eq!(patch.get(NAME), Some(&PatchValue::Null));
        patch.set_json(REVENUE, "1234.5678901234".into());
        assert_eq!(patch.to_json(), r#"{"name":null,"revenue":1234.5678901234}"#);
        patch.unset(NAME);
        assert_eq!(patch.to_json(), r#"{"revenue":1234.5678901234}"#);
    }

    proptest! {
        #[test]
        fn string_literals_round_trip(text in any::<String>()) {
            let literal = text.literal();
            prop_assert!(literal.starts_with('\'') && literal.ends_with('\''));
            let inner = &literal[1..literal.len() - 1];
            // Every quote inside is doubled: undoubling gives the text back.
            prop_assert_eq!(inner.replace("''", "'"), text.clone());
            prop_assert!(!inner.replace("''", "").contains('\''));
        }

        #[test]
        fn decimal_literals_are_exact(mantissa in any::<i64>(), scale in 0u32..12) {
            let value = Decimal::new(mantissa, scale);
            let literal = value.literal();
            prop_assert!(!literal.contains('e') && !literal.contains('E'));
            prop_assert_eq!(Decimal::from_str(&literal).unwrap(), value);
        }

        #[test]
        fn json_strings_round_trip(text in any::<String>()) {
            let parsed: String = serde_json::from_str(&json_string(&text)).unwrap();
            prop_assert_eq!(parsed, text);
        }
    }
}
