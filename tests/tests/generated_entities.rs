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
