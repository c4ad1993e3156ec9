//! `#[derive(Entity)]` on hand-written entities: field tables, typed columns, exact JSON, and values
//! that do not fit a column's facets rejected instead of rounded.

use std::str::FromStr;

use dualsync::edm::Decimal;
use dualsync::entity::{Entity, Patch};
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
    #[field(name = "Rate", edm = "Edm.Decimal", precision = 32, scale = 12)]
    pub rate: Option<Decimal>,
    #[field(name = "Amount", edm = "Edm.Decimal", precision = 32, scale = 10)]
    pub amount: Option<Decimal>,
    #[field(name = "ModifiedOn", edm = "Edm.DateTimeOffset", read_only, computed)]
    pub modified_on: Option<dualsync::edm::DateTimeOffset>,
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
            rate: Some(Decimal::new(rate, rate_scale)),
            amount: Some(Decimal::new(amount, amount_scale)),
            modified_on: None,
        };
        let text = Value::Object(record.to_json_object()).to_string();
        let back = ExchangeRate::from_json(&text.parse::<Value>().unwrap()).unwrap().value;
        prop_assert_eq!(back, record);
    }
}
