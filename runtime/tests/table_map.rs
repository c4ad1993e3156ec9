//! `#[derive(TableMap)]` on hand-written entities shaped like Customers V3 and accounts: both
//! directions, value maps, defaults, lookups by key path, and a property test that a bijective map
//! round-trips F&O -> Dataverse -> F&O exactly.

use std::str::FromStr;

use dualsync::edm::Decimal;
use dualsync::entity::{Entity, Patch, PatchValue};
use dualsync::json::{EdmJson, EntityJson, JsonError, Value};
use dualsync::map::{Direction, EnumMembers, TableMap};
use proptest::prelude::*;

/// An F&O enum, shaped as the generator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NoYes {
    No,
    Yes,
    Unrecognized(String),
}

impl NoYes {
    pub const TYPE_NAME: &'static str = "Microsoft.Dynamics.DataEntities.NoYes";
    pub fn name(&self) -> &str {
        match self {
            NoYes::No => "No",
            NoYes::Yes => "Yes",
            NoYes::Unrecognized(name) => name,
        }
    }
    pub fn from_name(name: &str) -> Self {
        match name {
            "No" => NoYes::No,
            "Yes" => NoYes::Yes,
            other => NoYes::Unrecognized(other.to_string()),
        }
    }
}

impl EdmJson for NoYes {
    fn to_json(&self) -> Value {
        Value::String(self.name().to_string())
    }
    fn from_json(value: &Value) -> Result<Self, JsonError> {
        Ok(NoYes::from_name(value.as_str().unwrap_or_default()))
    }
}

impl EnumMembers for NoYes {
    const MEMBERS: &'static [(&'static str, i64)] = &[("No", 0), ("Yes", 1)];
    const NOT_COVERED: &'static [&'static str] = &[
        "the value map does not cover member `No` of `Microsoft.Dynamics.DataEntities.NoYes`",
        "the value map does not cover member `Yes` of `Microsoft.Dynamics.DataEntities.NoYes`",
    ];
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.DataEntities.CustomerV3",
    set = "CustomersV3",
    key("dataAreaId", "CustomerAccount"),
    company = "dataAreaId"
)]
pub struct CustomerV3 {
    #[field(name = "dataAreaId", edm = "Edm.String", not_null, key)]
    pub data_area_id: String,
    #[field(name = "CustomerAccount", edm = "Edm.String", not_null, key)]
    pub customer_account: String,
    #[field(name = "OrganizationName", edm = "Edm.String")]
    pub organization_name: Option<String>,
    #[field(name = "CreditLimit", edm = "Edm.Decimal", not_null)]
    pub credit_limit: Decimal,
    #[field(
        name = "CreditLimitIsMandatory",
        edm = "Microsoft.Dynamics.DataEntities.NoYes"
    )]
    pub credit_limit_is_mandatory: Option<NoYes>,
    #[field(name = "SalesCurrencyCode", edm = "Edm.String")]
    pub sales_currency_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.account",
    set = "accounts",
    key("accountid")
)]
pub struct Account {
    #[field(name = "accountid", edm = "Edm.Guid", key)]
    pub accountid: Option<dualsync::edm::Guid>,
    #[field(name = "accountnumber", edm = "Edm.String", max_length = 20)]
    pub accountnumber: Option<String>,
    #[field(name = "name", edm = "Edm.String")]
    pub name: Option<String>,
    #[field(name = "creditlimit", edm = "Edm.Decimal", scale = "variable")]
    pub creditlimit: Option<Decimal>,
    #[field(name = "msdyn_creditlimitismandatory", edm = "Edm.Boolean")]
    pub msdyn_creditlimitismandatory: Option<bool>,
    #[field(name = "customertypecode", edm = "Edm.Int32")]
    pub customertypecode: Option<i32>,
    #[field(
        name = "_transactioncurrencyid_value",
        edm = "Edm.Guid",
        read_only,
        lookup(
            nav = "transactioncurrencyid",
            target = "Microsoft.Dynamics.CRM.transactioncurrency",
            set = "transactioncurrencies"
        )
    )]
    pub transactioncurrencyid_value: Option<dualsync::edm::Guid>,
}

#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = Account, company = "dataAreaId", fo_filter = "CustomerType eq Microsoft.Dynamics.DataEntities.CustomerType'Organization'", dv_filter = "customertypecode eq 3")]
pub struct CustomersV3ToAccounts {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    account: (),
    #[map(both, fo = organization_name, dv = name)]
    name: (),
    #[map(both, fo = credit_limit, dv = creditlimit)]
    credit_limit: (),
    #[map(both, fo = credit_limit_is_mandatory, dv = msdyn_creditlimitismandatory, value_map(Yes = true, No = false))]
    mandatory: (),
    #[map(fo_to_dv, dv = customertypecode, default = 3)]
    kind: (),
    #[map(fo_to_dv, fo = sales_currency_code, dv = transactioncurrencyid_value, lookup = "isocurrencycode")]
    currency: (),
}

fn customer(account: &str, name: Option<&str>, limit: &str, mandatory: Option<NoYes>) -> CustomerV3 {
    CustomerV3 {
        data_area_id: "usmf".into(),
        customer_account: account.into(),
        organization_name: name.map(str::to_string),
        credit_limit: Decimal::from_str(limit).unwrap(),
        credit_limit_is_mandatory: mandatory,
        sales_currency_code: Some("USD".into()),
    }
}

#[test]
fn metadata_for_the_engine() {
    assert_eq!(CustomersV3ToAccounts::COMPANY, Some("dataAreaId"));
    assert_eq!(CustomersV3ToAccounts::DV_FILTER, Some("customertypecode eq 3"));
    let key: Vec<_> = CustomersV3ToAccounts::COLUMNS
        .iter()
        .filter(|c| c.key)
        .map(|c| (c.fo, c.dv))
        .collect();
    assert_eq!(key, [("CustomerAccount", "accountnumber")]);
    let currency = CustomersV3ToAccounts::COLUMNS
        .iter()
        .find(|c| c.lookup == "isocurrencycode")
        .unwrap();
    assert_eq!(
        (currency.direction, currency.dv),
        (Direction::FoToDv, "_transactioncurrencyid_value")
    );
    assert_eq!(<CustomersV3ToAccounts as TableMap>::Dv::SET, "accounts");
}

#[test]
fn fo_to_dv_patch_and_lookups() {
    let out = CustomersV3ToAccounts::fo_to_dv(&customer(
        "US-001",
        Some("Contoso"),
        "10000.000001",
        Some(NoYes::Yes),
    ))
    .unwrap();
    assert_eq!(
        out.patch.to_json(),
        r#"{"accountnumber":"US-001","creditlimit":10000.000001,"customertypecode":3,"msdyn_creditlimitismandatory":true,"name":"Contoso"}"#
    );
    assert_eq!(out.lookups.len(), 1);
    assert_eq!(
        (
            out.lookups[0].column,
            out.lookups[0].path,
            out.lookups[0].value.as_str()
        ),
        ("_transactioncurrencyid_value", "isocurrencycode", "'USD'")
    );
    // Null travels as null, not as "unchanged".
    let out = CustomersV3ToAccounts::fo_to_dv(&customer("US-002", None, "0", None)).unwrap();
    assert_eq!(out.patch.get(Account::NAME), Some(&PatchValue::Null));
    // An enum member the value map does not know is an error for the log, not a guess.
    let error = CustomersV3ToAccounts::fo_to_dv(&customer(
        "US-003",
        None,
        "0",
        Some(NoYes::Unrecognized("Maybe".into())),
    ))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "column `msdyn_creditlimitismandatory`: value `Maybe` has no entry in the value map"
    );
    // A key too long for the Dataverse column is an error too.
    let error =
        CustomersV3ToAccounts::fo_to_dv(&customer("US-0000000000000000000001", None, "0", None)).unwrap_err();
    assert!(error.to_string().contains("MaxLength=20"), "{error}");
}

/// Applies a patch to an F&O record (what the engine does with the other side's current record).
fn apply(mut record: CustomerV3, patch: &Patch<CustomerV3>) -> CustomerV3 {
    let mut object = record.to_json_object();
    for field in CustomerV3::FIELDS {
        match patch.get_name(field.name) {
            Some(PatchValue::Null) => {
                object.insert(field.name.to_string(), Value::Null);
            }
            Some(PatchValue::Json(text)) => {
                object.insert(field.name.to_string(), text.parse().unwrap());
            }
            None => {}
        }
    }
    record = CustomerV3::from_json_object(&object).unwrap();
    record
}

fn to_account(patch: &Patch<Account>) -> Account {
    let mut object = dualsync::json::Map::new();
    object.insert(
        "accountid".into(),
        Value::String("6f8a7b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c".into()),
    );
    for field in Account::FIELDS {
        match patch.get_name(field.name) {
            Some(PatchValue::Json(text)) => {
                object.insert(field.name.to_string(), text.parse().unwrap());
            }
            Some(PatchValue::Null) | None => {}
        }
    }
    Account::from_json_object(&object).unwrap()
}

proptest! {
    /// F&O -> Dataverse -> F&O returns the same values for every column mapped both ways.
    #[test]
    fn round_trip_is_exact(
        account in "[A-Z]{2}-[0-9]{3,10}",
        name in proptest::option::of("[ -~]{0,40}"),
        mantissa in any::<i64>(),
        scale in 0u32..=10,
        mandatory in proptest::option::of(prop_oneof![Just(NoYes::No), Just(NoYes::Yes)]),
    ) {
        let original = CustomerV3 {
            data_area_id: "usmf".into(),
            customer_account: account,
            organization_name: name,
            credit_limit: Decimal::new(mantissa, scale),
            credit_limit_is_mandatory: mandatory,
            sales_currency_code: Some("EUR".into()),
        };
        let there = CustomersV3ToAccounts::fo_to_dv(&original).unwrap();
        let account = to_account(&there.patch);
        let back = CustomersV3ToAccounts::dv_to_fo(&account).unwrap();
        let blank = CustomerV3 { organization_name: None, credit_limit: Decimal::ZERO, credit_limit_is_mandatory: None, ..original.clone() };
        let rebuilt = apply(blank, &back.patch);
        prop_assert_eq!(rebuilt, original);
    }
}

#[derive(dualsync::TableMap)]
#[table_map(fo = CustomerV3, dv = Account)]
pub struct SentinelMap {
    #[map(key, both, fo = customer_account, dv = accountnumber)]
    account: (),
    #[map(both, fo = credit_limit_is_mandatory, dv = customertypecode, value_map(Yes = 1, No = null))]
    mandatory: (),
}

#[test]
fn null_sentinel_maps_both_ways() {
    let out = SentinelMap::fo_to_dv(&customer("US-9", None, "0", Some(NoYes::No))).unwrap();
    assert_eq!(out.patch.get(Account::CUSTOMERTYPECODE), Some(&PatchValue::Null));
    let out = SentinelMap::fo_to_dv(&customer("US-9", None, "0", Some(NoYes::Yes))).unwrap();
    assert_eq!(
        out.patch.get(Account::CUSTOMERTYPECODE),
        Some(&PatchValue::Json("1".into()))
    );
    let account = Account {
        accountid: None,
        accountnumber: Some("US-9".into()),
        name: None,
        creditlimit: None,
        msdyn_creditlimitismandatory: None,
        customertypecode: None,
        transactioncurrencyid_value: None,
    };
    let back = SentinelMap::dv_to_fo(&account).unwrap();
    assert_eq!(
        back.patch.get(CustomerV3::CREDIT_LIMIT_IS_MANDATORY),
        Some(&PatchValue::Json("\"No\"".into()))
    );
}
