//! What the engine tests, the crash worker and the engine benchmark share: the maps the engine runs,
//! clients of an emulator, and seed records.

use std::sync::Arc;
use std::time::Duration;

use dualsync::auth::Credentials;
use dualsync::engine::{MapRunner, MapSetup, Services};
use dualsync::json::{EntityJson, Value};
use dualsync::odata::{DataverseClient, FinOpsClient, TransportConfig};
use serde_json::json;

use crate::maps::{CurrenciesToTransactioncurrencies, CustomersV3ToAccounts, sample_customer};

/// The companies of the seed data and their Dataverse ids.
pub const COMPANIES: [(&str, &str); 2] = [
    ("usmf", "00000000-0000-4000-8000-0000000000a1"),
    ("dat", "00000000-0000-4000-8000-0000000000a2"),
];

/// Customers V3 ↔ accounts and Currencies ↔ transactioncurrencies, for the seed companies.
pub fn maps() -> Vec<MapSetup> {
    let companies: Vec<&str> = COMPANIES.iter().map(|(c, _)| *c).collect();
    vec![
        // Given in the wrong order on purpose: the engine puts currencies first.
        MapSetup::new(Arc::new(MapRunner::<CustomersV3ToAccounts>::new()), &companies),
        MapSetup::new(
            Arc::new(MapRunner::<CurrenciesToTransactioncurrencies>::new()),
            &[],
        ),
    ]
}

/// Transport settings for tests: short backoff.
pub fn transport() -> TransportConfig {
    TransportConfig {
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        ..TransportConfig::default()
    }
}

/// Clients of both services of an emulator at `url` (`http://127.0.0.1:PORT`).
pub fn services(url: &str) -> Services {
    Services {
        dataverse: DataverseClient::new(&format!("{url}/api/data/v9.2/"), Credentials::None, transport())
            .expect("a loopback URL"),
        fo: FinOpsClient::new(&format!("{url}/data/"), Credentials::None, transport())
            .expect("a loopback URL"),
    }
}

/// Customer `i` of `company` as F&O sends it.
pub fn customer(i: usize, company: &str) -> Value {
    let mut record = sample_customer(i);
    record.data_area_id = company.to_string();
    record.customer_account = format!("{}-{i:06}", company.to_uppercase());
    record.organization_name = Some(format!("Customer {i} of {company}"));
    record.sales_currency_code = Some(if i.is_multiple_of(3) { "USD" } else { "EUR" }.into());
    record.party_type = Some("Organization".into());
    // Dataverse's credit limit has 2 decimals (the engine tests' metadata says so, as orgs do).
    record.credit_limit = dualsync::edm::Decimal::new(10_000_000 + i as i64, 2);
    Value::Object(record.to_read_object())
}

/// The seed of both services: companies in Dataverse, currencies and `per_company` customers per
/// company in F&O.
pub fn seed(per_company: usize) -> (Value, Value) {
    let companies: Vec<Value> = COMPANIES
        .iter()
        .map(|(code, id)| json!({"cdm_companyid": id, "cdm_companycode": code, "cdm_name": code.to_uppercase()}))
        .collect();
    let currencies = vec![
        json!({"CurrencyCode": "EUR", "Name": "Euro", "Symbol": "€"}),
        json!({"CurrencyCode": "USD", "Name": "US dollar", "Symbol": "$"}),
    ];
    let mut customers = Vec::new();
    for (company, _) in COMPANIES {
        for i in 1..=per_company {
            customers.push(customer(i, company));
        }
    }
    (
        json!({ "cdm_companies": companies }),
        json!({ "Currencies": currencies, "CustomersV3": customers }),
    )
}

/// Subscribes the engine's event endpoint at `endpoint` (`host:port`) to the F&O data events of the
/// test maps' entities on the emulator at `url`.
pub async fn subscribe_events(http: &reqwest::Client, url: &str, endpoint: &str) {
    for set in ["CustomersV3", "Currencies"] {
        let answer = http
            .post(format!("{url}/_admin/fo/events"))
            .json(&json!({"set": set, "endpoint": format!("http://{endpoint}/events")}))
            .send()
            .await
            .expect("the emulator answers");
        assert!(answer.status().is_success(), "subscribing to {set} failed");
    }
}
