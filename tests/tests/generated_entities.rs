//! The committed generated crate, with the real `#[derive(Entity)]`: entity metadata and typed columns
//! that build OData filters.

use dualsync::edm::Decimal;
use dualsync::entity::{Entity, Literal};
use dualsync_generated::dataverse::{Account, Contact};
use dualsync_generated::fo::{CustomerV3, NoYes};

#[test]
fn entity_metadata_comes_from_the_attributes() {
    assert_eq!(CustomerV3::SET, "CustomersV3");
    assert_eq!(
        CustomerV3::TYPE_NAME,
        "Microsoft.Dynamics.DataEntities.CustomerV3"
    );
    assert_eq!(CustomerV3::KEY, ["dataAreaId", "CustomerAccount"]);
    assert_eq!(CustomerV3::FIELDS.len(), 305);
    assert_eq!(Account::KEY, ["accountid"]);
    let parent = Contact::field("_parentcustomerid_value").unwrap();
    assert!(parent.read_only);
    let sets: Vec<&str> = parent.lookup.iter().map(|l| l.set).collect();
    assert_eq!(sets, ["accounts", "contacts"]);
    let revenue = Account::field("revenue").unwrap();
    assert_eq!(revenue.edm, "Edm.Decimal");
    // Dual-write integration keys are alternate keys: company-specific ones include the company lookup.
    assert!(
        dualsync_generated::dataverse::MsdynCustomergroup::ALTERNATE_KEYS
            .iter()
            .any(|key| key.contains(&"_msdyn_company_value"))
    );
}

#[test]
fn typed_columns_build_filters() {
    let filter = CustomerV3::DATA_AREA_ID
        .eq(&"usmf".to_string())
        .and(CustomerV3::CUSTOMER_ACCOUNT.starts_with("US-"));
    assert_eq!(
        filter.to_odata(),
        "dataAreaId eq 'usmf' and startswith(CustomerAccount,'US-')"
    );
    let limit: Decimal = "10000.000001".parse().unwrap();
    assert_eq!(
        CustomerV3::CREDIT_LIMIT.ge(&limit).to_odata(),
        "CreditLimit ge 10000.000001"
    );
    assert_eq!(
        Account::NAME.eq(&"Contoso".to_string()).to_odata(),
        "name eq 'Contoso'"
    );
    assert_eq!(NoYes::from_name("Yes").value(), Some(1));
    assert_eq!(
        dualsync::entity::enum_literal(NoYes::TYPE_NAME, NoYes::Yes.name()),
        "Microsoft.Dynamics.DataEntities.NoYes'Yes'"
    );
    assert_eq!("it's".literal(), "'it''s'");
}

#[test]
fn entities_read_and_write_odata_json_exactly() {
    use dualsync::json::EntityJson;
    let response = r#"{
        "@odata.etag": "W/\"1234567\"",
        "accountid": "6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        "name": "Contoso",
        "revenue": 12345678.1234567891,
        "customertypecode": 3,
        "_parentaccountid_value": null,
        "name@OData.Community.Display.V1.FormattedValue": "Contoso"
    }"#;
    let value: dualsync::json::Value = serde_json_value(response);
    let fetched = Account::from_json(&value).unwrap();
    assert_eq!(fetched.etag.as_deref(), Some("W/\"1234567\""));
    let account = fetched.value;
    assert_eq!(account.name.as_deref(), Some("Contoso"));
    assert_eq!(account.revenue.unwrap().to_string(), "12345678.1234567891");
    assert_eq!(account.customertypecode.map(|c| c.value()), Some(3));
    let written = dualsync::json::Value::Object(account.to_read_object()).to_string();
    assert!(written.contains(r#""revenue":12345678.1234567891"#), "{written}");
    assert!(written.contains(r#""customertypecode":3"#), "{written}");
    assert!(!written.contains("@odata"), "annotations are not properties");

    // A missing non-nullable column is an error that names it.
    let error = Account::from_json(&serde_json_value(r#"{"name":"x"}"#)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`accountid` is missing from the response (is it in $select?)"
    );
}

#[test]
fn patches_check_columns_and_bind_lookups() {
    use dualsync::entity::Patch;
    let mut patch: Patch<Contact> = Patch::new();
    patch.set(Contact::FIRSTNAME, &"Ada".to_string()).unwrap();
    let account: dualsync::edm::Guid = "6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c".parse().unwrap();
    patch
        .bind(Contact::PARENTCUSTOMERID_VALUE, "accounts", &account)
        .unwrap();
    assert_eq!(
        patch.to_json(),
        r#"{"firstname":"Ada","parentcustomerid_account@odata.bind":"/accounts(6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c)"}"#
    );
    let error = patch
        .set(Contact::CREATEDON, &"2024-01-01T00:00:00Z".parse().unwrap())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`createdon` is read-only: the service computes it"
    );
    let error = patch
        .bind(Contact::PARENTCUSTOMERID_VALUE, "leads", &account)
        .unwrap_err();
    assert!(
        error.to_string().contains("targets: accounts, contacts"),
        "{error}"
    );
}

fn serde_json_value(text: &str) -> dualsync::json::Value {
    text.parse().unwrap()
}
