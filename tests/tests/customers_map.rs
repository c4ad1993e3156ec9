//! The Customers V3 ↔ accounts map of dual-write's template (shared/corpus/maps/dualwrite-standard-maps.txt),
//! written against the generated bindings: it compiles, records round-trip exactly, records read with
//! `$select` map without inventing nulls, the company travels both ways, and a whole record's request
//! holds only what the service accepts.

use dualsync::entity::{Entity, Patch, PatchValue, Record};
use dualsync::json::{EntityJson, Map, Value};
use dualsync::map::{LookupRequest, MapError, TableMap};
use dualsync_generated::dataverse::{Account, AccountCustomertypecode};
use dualsync_generated::fo::CustomerV3;
use dualsync_tests::maps::{CustomersV3ToAccounts, sample_customer};

fn requests(lookups: &[LookupRequest]) -> Vec<(&str, &str, &str, &str, &str)> {
    lookups
        .iter()
        .map(|l| (l.column, l.navigation, l.target_set, l.key, l.value.as_str()))
        .collect()
}

fn record<E>(json: &str) -> Record<E> {
    match json.parse::<Value>().unwrap() {
        Value::Object(object) => Record::from_object(object),
        _ => unreachable!(),
    }
}

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
    // Lookups carry the navigation to bind, the target set and its key column; the customer group
    // is null in the record, so it is unbound.
    assert_eq!(
        requests(&out.lookups),
        [
            (
                "_transactioncurrencyid_value",
                "transactioncurrencyid",
                "transactioncurrencies",
                "isocurrencycode",
                "'EUR'"
            ),
            (
                "_msdyn_company_value",
                "msdyn_company",
                "cdm_companies",
                "cdm_companycode",
                "'usmf'"
            ),
        ]
    );
    assert_eq!(
        patch.get_name("msdyn_customergroupid@odata.bind"),
        Some(&PatchValue::Null)
    );
}

#[test]
fn accounts_to_customers_v3_with_the_company() {
    // The engine reads accounts with $expand=msdyn_company($select=cdm_companycode).
    let account: Record<Account> = record(
        r#"{"accountid":"6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c","accountnumber":"US-001",
        "name":"Contoso Europe","creditlimit":250000.123456,"msdyn_creditlimitismandatory":false,
        "msdyn_paymenttermsbasedays":30,"numberofemployees":null,
        "msdyn_company":{"cdm_companycode":"usmf"}}"#,
    );
    let out = CustomersV3ToAccounts::dv_to_fo(&account).unwrap();
    assert_eq!(
        out.patch.get(CustomerV3::DATA_AREA_ID),
        Some(&PatchValue::Json("\"usmf\"".into()))
    );
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
    // A null employee count never reaches F&O's Nullable=false column: the map's default does.
    assert_eq!(
        out.patch.get(CustomerV3::ORGANIZATION_NUMBER_OF_EMPLOYEES),
        Some(&PatchValue::Json("0".into()))
    );
    // Not selected: not written (neither the email nor the phone were read).
    assert_eq!(out.patch.get(CustomerV3::PRIMARY_CONTACT_EMAIL), None);
    assert!(CustomersV3ToAccounts::COLUMNS.len() >= 20);
    // Without the company the record cannot be placed in F&O.
    let error =
        CustomersV3ToAccounts::dv_to_fo(&record::<Account>(r#"{"accountnumber":"US-001"}"#)).unwrap_err();
    assert_eq!(
        error,
        MapError::CompanyNotExpanded {
            navigation: "msdyn_company",
            key: "cdm_companycode"
        }
    );
}

#[test]
fn customers_read_with_select_map_only_the_selected_columns() {
    // `$select=dataAreaId,CustomerAccount,OrganizationName,SalesCurrencyCode`: decoding the generated
    // struct fails (`PrimaryContactFaxRecordId` and the other Nullable=false columns were not read),
    // mapping the record does not.
    let partial: Record<CustomerV3> = record(
        r#"{"@odata.etag":"W/\"1\"","dataAreaId":"usmf","CustomerAccount":"US-001","OrganizationName":"Contoso","SalesCurrencyCode":null}"#,
    );
    assert!(partial.entity().is_err());
    let out = CustomersV3ToAccounts::fo_to_dv(&partial).unwrap();
    assert_eq!(
        out.patch.to_json(),
        r#"{"accountnumber":"US-001","customertypecode":3,"name":"Contoso","transactioncurrencyid@odata.bind":null}"#
    );
    assert_eq!(
        requests(&out.lookups),
        [(
            "_msdyn_company_value",
            "msdyn_company",
            "cdm_companies",
            "cdm_companycode",
            "'usmf'"
        )]
    );
}

#[test]
fn a_whole_customer_is_sent_as_its_writable_set_columns() {
    let customer = sample_customer(7);
    let read = customer.to_read_object();
    assert_eq!(read.len(), CustomerV3::FIELDS.len());
    let create = Patch::from_entity(&customer).unwrap();
    let nulls = read.values().filter(|v| v.is_null()).count();
    // Every set column of an F&O entity is writable here, and no null is sent.
    assert_eq!(create.len(), read.len() - nulls);
    assert!(create.names().all(|name| !read[name].is_null()));
    assert!(!create.to_json().contains(":null"));
}

/// The account as Dataverse would store and send it (read with the company expanded).
fn as_stored(patch: &Patch<Account>) -> Record<Account> {
    let mut account = Map::new();
    account.insert(
        "accountid".into(),
        Value::String("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c".into()),
    );
    account.insert(
        "msdyn_company".into(),
        "{\"cdm_companycode\":\"usmf\"}".parse().unwrap(),
    );
    for field in Account::FIELDS {
        match patch.get_name(field.name) {
            Some(PatchValue::Json(text)) => {
                account.insert(field.name.to_string(), text.parse().unwrap());
            }
            Some(PatchValue::Null) => {
                account.insert(field.name.to_string(), Value::Null);
            }
            None => {}
        }
    }
    Record::from_object(account)
}

proptest::proptest! {
    /// Property-generated Customers V3 records round-trip F&O -> Dataverse -> F&O exactly on every
    /// column the template maps both ways.
    #[test]
    fn generated_map_round_trips(
        i in 0usize..1_000_000,
        name in proptest::option::of("[ -~]{0,60}"),
        mantissa in proptest::prelude::any::<i64>(),
        scale in 0u32..=6,
        mandatory in proptest::prelude::any::<bool>(),
        days in proptest::prelude::any::<i32>(),
    ) {
        use dualsync::edm::Decimal;
        use dualsync_generated::fo::NoYes;
        let mut original = sample_customer(i);
        original.organization_name = name;
        original.credit_limit = Decimal::new(mantissa, scale);
        original.credit_limit_is_mandatory = Some(if mandatory { NoYes::Yes } else { NoYes::No });
        original.payment_terms_base_days = days;
        let there = CustomersV3ToAccounts::fo_to_dv(&original).unwrap();
        let back = CustomersV3ToAccounts::dv_to_fo(&as_stored(&there.patch)).unwrap();
        // Apply the patch to a record that differs on every mapped column.
        let mut object = sample_customer(i + 1).to_read_object();
        object.insert("CustomerAccount".into(), Value::String(String::new()));
        object.insert("dataAreaId".into(), Value::String(String::new()));
        for field in <CustomerV3 as Entity>::FIELDS {
            match back.patch.get_name(field.name) {
                Some(PatchValue::Json(text)) => { object.insert(field.name.to_string(), text.parse().unwrap()); }
                Some(PatchValue::Null) => { object.insert(field.name.to_string(), Value::Null); }
                None => {}
            }
        }
        let rebuilt = CustomerV3::from_json_object(&object).unwrap();
        proptest::prop_assert_eq!(&rebuilt.customer_account, &original.customer_account);
        proptest::prop_assert_eq!(&rebuilt.data_area_id, &original.data_area_id);
        proptest::prop_assert_eq!(&rebuilt.organization_name, &original.organization_name);
        proptest::prop_assert_eq!(rebuilt.credit_limit, original.credit_limit);
        proptest::prop_assert_eq!(&rebuilt.credit_limit_is_mandatory, &original.credit_limit_is_mandatory);
        proptest::prop_assert_eq!(rebuilt.payment_terms_base_days, original.payment_terms_base_days);
        proptest::prop_assert_eq!(&rebuilt.sales_memo, &original.sales_memo);
    }
}
