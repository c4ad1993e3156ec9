//! `#[derive(Entity)]` on hand-written entities: field tables (with Dataverse's rules for system
//! columns and money applied), typed columns, exact JSON, and values that do not fit a column's facets
//! rejected instead of rounded.

use std::str::FromStr;

use dualsync::edm::Decimal;
use dualsync::entity::{Entity, Patch, RequiredLevel};
use dualsync::json::{EntityJson, Value};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Test.ExchangeRate",
    set = "ExchangeRates",
    key("Code"),
    alternate_key("Code", "Date")
)]
pub struct ExchangeRate {
    #[field(name = "Code", edm = "Edm.String", not_null, key, max_length = 3)]
    pub code: String,
    #[field(name = "Date", edm = "Edm.Date", immutable)]
    pub date: Option<dualsync::edm::Date>,
    #[field(name = "Rate", edm = "Edm.Decimal", precision = 32, scale = 12)]
    pub rate: Option<Decimal>,
    #[field(name = "Amount", edm = "Edm.Decimal", precision = 32, scale = 10, money)]
    pub amount: Option<Decimal>,
    #[field(name = "ModifiedOn", edm = "Edm.DateTimeOffset", computed)]
    pub modified_on: Option<dualsync::edm::DateTimeOffset>,
}

/// A Dataverse table as `$metadata` describes it: nothing says `createdon` or `versionnumber` are
/// read-only, nor that `revenue` is money.
#[derive(Debug, Clone, PartialEq, dualsync::Entity)]
#[entity(
    type_name = "Microsoft.Dynamics.CRM.account",
    set = "accounts",
    key("accountid")
)]
pub struct Account {
    #[field(name = "accountid", edm = "Edm.Guid", key)]
    pub accountid: Option<dualsync::edm::Guid>,
    #[field(name = "name", edm = "Edm.String", required = "ApplicationRequired")]
    pub name: Option<String>,
    #[field(name = "revenue", edm = "Edm.Decimal", scale = "variable")]
    pub revenue: Option<Decimal>,
    #[field(name = "revenue_base", edm = "Edm.Decimal", scale = "variable")]
    pub revenue_base: Option<Decimal>,
    #[field(name = "createdon", edm = "Edm.DateTimeOffset")]
    pub createdon: Option<dualsync::edm::DateTimeOffset>,
    #[field(name = "versionnumber", edm = "Edm.Int64")]
    pub versionnumber: Option<i64>,
    #[field(name = "overriddencreatedon", edm = "Edm.DateTimeOffset")]
    pub overriddencreatedon: Option<dualsync::edm::DateTimeOffset>,
    // Entity metadata, when the generator emits it, wins over the rules.
    #[field(
        name = "_owningbusinessunit_value",
        edm = "Edm.Guid",
        read_only,
        valid_for_create = true,
        valid_for_update = true,
        lookup(
            nav = "owningbusinessunit",
            target = "Microsoft.Dynamics.CRM.businessunit",
            set = "businessunits"
        )
    )]
    pub owningbusinessunit_value: Option<dualsync::edm::Guid>,
}

#[test]
fn field_table_and_columns() {
    assert_eq!(ExchangeRate::SET, "ExchangeRates");
    assert_eq!(ExchangeRate::ALTERNATE_KEYS, [["Code", "Date"].as_slice()]);
    let rate = ExchangeRate::field("Rate").unwrap();
    assert_eq!(
        (rate.precision, rate.scale),
        (Some(32), Some(dualsync::entity::Scale::Fixed(12)))
    );
    assert_eq!(ExchangeRate::RATE.name(), "Rate");
    assert_eq!(
        ExchangeRate::CODE.eq(&"EUR".to_string()).to_odata(),
        "Code eq 'EUR'"
    );
    // Attributes the generator writes all end up in the field table.
    let date = ExchangeRate::field("Date").unwrap();
    assert!(
        date.valid_for_create && !date.valid_for_update,
        "immutable: create only"
    );
    let modified = ExchangeRate::field("ModifiedOn").unwrap();
    assert!(modified.read_only && !modified.is_writable(), "computed");
    assert!(ExchangeRate::field("Amount").unwrap().money);
}

#[test]
fn dataverse_rules_apply_where_metadata_is_silent() {
    for system in ["createdon", "versionnumber"] {
        let field = Account::field(system).unwrap();
        assert!(field.read_only && !field.is_writable(), "{system}");
    }
    let overridden = Account::field("overriddencreatedon").unwrap();
    assert!(overridden.valid_for_create && !overridden.valid_for_update);
    assert!(
        Account::field("revenue").unwrap().money,
        "a column with a _base sibling is money"
    );
    assert!(Account::field("revenue_base").unwrap().read_only);
    assert_eq!(
        Account::field("name").unwrap().required,
        RequiredLevel::ApplicationRequired
    );
    let unit = Account::field("_owningbusinessunit_value").unwrap();
    assert!(
        unit.valid_for_create && unit.valid_for_update,
        "entity metadata wins"
    );
    let mut patch: Patch<Account> = Patch::new();
    assert!(patch.set(Account::VERSIONNUMBER, &7).is_err());
    assert!(patch.set(Account::REVENUE_BASE, &Decimal::ONE).is_err());
    patch
        .set(
            Account::OVERRIDDENCREATEDON,
            &"2020-01-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
    assert!(
        patch.for_update().is_empty(),
        "create-only columns are not updated"
    );
}

#[test]
fn values_beyond_the_facets_are_errors_not_roundings() {
    let mut patch: Patch<ExchangeRate> = Patch::new();
    patch
        .set(ExchangeRate::RATE, &Decimal::from_str("1.123456789012").unwrap())
        .unwrap();
    patch
        .set(
            ExchangeRate::AMOUNT,
            &Decimal::from_str("12345.1234567891").unwrap(),
        )
        .unwrap();
    let error = patch
        .set(
            ExchangeRate::AMOUNT,
            &Decimal::from_str("12345.12345678912").unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`Amount`: 12345.12345678912 does not fit Scale=10; values are never rounded"
    );
    let error = patch.set(ExchangeRate::CODE, &"EURO".to_string()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`Code`: 4 characters does not fit MaxLength=3; values are never rounded"
    );
    let error = patch
        .set(
            ExchangeRate::MODIFIED_ON,
            &"2024-01-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`ModifiedOn` is read-only: the service computes it"
    );
    assert_eq!(
        patch.to_json(),
        r#"{"Amount":12345.1234567891,"Rate":1.123456789012}"#
    );
}

proptest! {
    /// Currency amounts with up to 10 decimal places and rates with 12 survive JSON exactly.
    #[test]
    fn records_round_trip_through_json(code in "[A-Z]{3}", rate in any::<i64>(), amount in any::<i64>(), rate_scale in 0u32..=12, amount_scale in 0u32..=10) {
        let record = ExchangeRate {
            code,
            date: None,
            rate: Some(Decimal::new(rate, rate_scale)),
            amount: Some(Decimal::new(amount, amount_scale)),
            modified_on: None,
        };
        let text = Value::Object(record.to_read_object()).to_string();
        let back = ExchangeRate::from_json(&text.parse::<Value>().unwrap()).unwrap().value;
        prop_assert_eq!(back, record);
    }
}
