//! The Customers V3 ↔ accounts map of dual-write's template (shared/corpus/maps/dualwrite-standard-maps.txt),
//! written against the generated bindings: it compiles, and records round-trip exactly.

use dualsync::entity::PatchValue;
use dualsync::json::{EntityJson, Value};
use dualsync::map::TableMap;
use dualsync_generated::dataverse::{Account, AccountCustomertypecode};
use dualsync_generated::fo::CustomerV3;
use dualsync_tests::maps::{CustomersV3ToAccounts, sample_customer};

#[test]
fn customers_v3_to_accounts() {
    let out = CustomersV3ToAccounts::fo_to_dv(&sample_customer(1)).unwrap();
    let patch = out.patch;
    assert_eq!(
        patch.get(Account::ACCOUNTNUMBER),
        Some(&PatchValue::Json("\"US-000001\"".into()))
    );
    assert_eq!(
        patch.get(Account::CREDITLIMIT),
        Some(&PatchValue::Json("250000.123457".into()))
    );
    assert_eq!(
        patch.get(Account::MSDYN_CREDITLIMITISMANDATORY),
        Some(&PatchValue::Json("true".into()))
    );
    assert_eq!(
        patch.get(Account::CUSTOMERTYPECODE),
        Some(&PatchValue::Json("3".into()))
    );
    assert_eq!(AccountCustomertypecode::from_value(3).value(), 3);
    let lookups: Vec<(&str, &str, &str)> = out
        .lookups
        .iter()
        .map(|l| (l.column, l.path, l.value.as_str()))
        .collect();
    assert_eq!(
        lookups,
        [("_transactioncurrencyid_value", "isocurrencycode", "'EUR'")]
    );
}

#[test]
fn accounts_to_customers_v3() {
    let account_json: Value =
        r#"{"accountid":"6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c","accountnumber":"US-001",
        "name":"Contoso Europe","creditlimit":250000.123456,"msdyn_creditlimitismandatory":false,
        "msdyn_paymenttermsbasedays":30}"#
            .parse()
            .unwrap();
    let account = Account::from_json(&account_json).unwrap().value;
    let out = CustomersV3ToAccounts::dv_to_fo(&account).unwrap();
    assert_eq!(
        out.patch.get(CustomerV3::CUSTOMER_ACCOUNT),
        Some(&PatchValue::Json("\"US-001\"".into()))
    );
    assert_eq!(
        out.patch.get(CustomerV3::CREDIT_LIMIT_IS_MANDATORY),
        Some(&PatchValue::Json("\"No\"".into()))
    );
    assert_eq!(
        out.patch.get(CustomerV3::PARTY_TYPE),
        Some(&PatchValue::Json("\"Organization\"".into()))
    );
    assert!(CustomersV3ToAccounts::COLUMNS.len() >= 20);
}

proptest::proptest! {
    /// Property-generated Customers V3 records round-trip F&O -> Dataverse -> F&O exactly on every
    /// column the template maps both ways.
    #[test]
    fn generated_map_round_trips(
        i in 0usize..1_000_000,
        name in proptest::option::of("[ -~]{0,60}"),
        mantissa in proptest::prelude::any::<i64>(),
        scale in 0u32..=10,
        mandatory in proptest::prelude::any::<bool>(),
        days in proptest::prelude::any::<i32>(),
    ) {
        use dualsync::edm::Decimal;
        use dualsync::json::EntityJson;
        use dualsync_generated::fo::NoYes;
        let mut original = sample_customer(i);
        original.organization_name = name;
        original.credit_limit = Decimal::new(mantissa, scale);
        original.credit_limit_is_mandatory = Some(if mandatory { NoYes::Yes } else { NoYes::No });
        original.payment_terms_base_days = days;
        let there = CustomersV3ToAccounts::fo_to_dv(&original).unwrap();
        // The account as Dataverse would store it.
        let mut account = dualsync::json::Map::new();
        account.insert("accountid".into(), Value::String("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c".into()));
        for field in <Account as dualsync::entity::Entity>::FIELDS {
            if let Some(PatchValue::Json(text)) = there.patch.get_name(field.name) {
                account.insert(field.name.to_string(), text.parse().unwrap());
            }
        }
        let account = Account::from_json_object(&account).unwrap();
        let back = CustomersV3ToAccounts::dv_to_fo(&account).unwrap();
        // Apply the patch to a record that differs on every mapped column.
        let mut object = sample_customer(i + 1).to_json_object();
        object.insert("CustomerAccount".into(), Value::String(String::new()));
        for field in <CustomerV3 as dualsync::entity::Entity>::FIELDS {
            match back.patch.get_name(field.name) {
                Some(PatchValue::Json(text)) => { object.insert(field.name.to_string(), text.parse().unwrap()); }
                Some(PatchValue::Null) => { object.insert(field.name.to_string(), Value::Null); }
                None => {}
            }
        }
        let rebuilt = CustomerV3::from_json_object(&object).unwrap();
        proptest::prop_assert_eq!(&rebuilt.customer_account, &original.customer_account);
        proptest::prop_assert_eq!(&rebuilt.organization_name, &original.organization_name);
        proptest::prop_assert_eq!(rebuilt.credit_limit, original.credit_limit);
        proptest::prop_assert_eq!(&rebuilt.credit_limit_is_mandatory, &original.credit_limit_is_mandatory);
        proptest::prop_assert_eq!(rebuilt.payment_terms_base_days, original.payment_terms_base_days);
        proptest::prop_assert_eq!(&rebuilt.sales_memo, &original.sales_memo);
    }
}
