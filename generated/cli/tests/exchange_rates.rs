//! A map whose integration key goes through a lookup two tables deep (CDS Exchange Rates: F&O
//! `ExchangeRateTypeName` / `FromCurrencyCode` / `ToCurrencyCode` find one Dataverse currency
//! exchange rate pair together, through the pair's lookups to the rate type by `msdyn_name` and to
//! each currency by `isocurrencycode`), against the emulator: F&O -> Dataverse binds each rate to the
//! right pair and upserts by the pair and `msdyn_validfrom` (once, however often it runs); a rate
//! whose pair does not exist goes to the error log saying which; reconcile reads each Dataverse
//! rate's pair back to its type name and currency codes and finds every record equal.

mod common;

use std::sync::Arc;
use std::time::Duration;

use dualsync::engine::{Engine, EngineConfig, MapSetup, SqliteStore};
use dualsync_cli::registry;
use serde_json::{Value, json};

const MAP: &str = "CDSExchangeRatesToMsdynCurrencyexchangerates";
const EUR: &str = "00000000-0000-4000-8000-0000000000e1";
const USD: &str = "00000000-0000-4000-8000-0000000000e2";
const DEFAULT: &str = "00000000-0000-4000-8000-0000000000f1";
const BUDGET: &str = "00000000-0000-4000-8000-0000000000f2";
const DEFAULT_EUR_USD: &str = "00000000-0000-4000-8000-0000000000d1";
const BUDGET_EUR_USD: &str = "00000000-0000-4000-8000-0000000000d2";

fn currency(id: &str, code: &str) -> Value {
    json!({"transactioncurrencyid": id, "isocurrencycode": code, "currencyname": code,
           "currencysymbol": code, "currencyprecision": 2, "exchangerate": 1})
}

fn rate_type(id: &str, name: &str) -> Value {
    json!({"msdyn_exchangeratetypeid": id, "msdyn_name": name})
}

fn pair(id: &str, rate_type: &str) -> Value {
    json!({"msdyn_currencyexchangeratepairid": id,
           "_msdyn_currencyexchangeratetypeid_value": rate_type,
           "_msdyn_fromtransactioncurrencyid_value": EUR,
           "_msdyn_totransactioncurrencyid_value": USD})
}

fn rate(rate_type: &str, from: &str, to: &str, valid_from: &str, rate: &str) -> Value {
    json!({"ExchangeRateTypeName": rate_type, "FromCurrencyCode": from, "ToCurrencyCode": to,
           "ValidFrom": valid_from, "ValidTo": "2154-12-31T00:00:00Z",
           "Rate": serde_json::Number::from_string_unchecked(rate.to_string())})
}

/// Two currencies, two rate types, and a pair of the same currencies for each type: only the type
/// tells the pairs apart.
fn dataverse_seed() -> Value {
    json!({
        "transactioncurrencies": [currency(EUR, "EUR"), currency(USD, "USD")],
        "msdyn_exchangeratetypes": [rate_type(DEFAULT, "Default"), rate_type(BUDGET, "Budget")],
        "msdyn_currencyexchangeratepairs": [pair(DEFAULT_EUR_USD, DEFAULT), pair(BUDGET_EUR_USD, BUDGET)],
    })
}

fn engine(
    info: &registry::MapInfo,
    running: &dualsync_emulator::Running,
    page_size: u32,
    batch_size: usize,
) -> Engine {
    Engine::new(
        common::clients(running),
        Arc::new(SqliteStore::in_memory().unwrap()),
        vec![MapSetup::new(Arc::clone(&info.runner), &[])],
        EngineConfig {
            page_size,
            batch_size,
            poll_interval: Duration::from_millis(0),
            tick: Duration::from_millis(5),
            lookup_timeout: Duration::from_millis(0),
            ..EngineConfig::default()
        },
    )
}

fn map() -> registry::MapInfo {
    registry::all()
        .into_iter()
        .find(|m| m.name == MAP)
        .expect("the exchange rates map is generated")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_two_lookups_deep_binds_the_right_record_once() {
    let info = map();
    let seed = json!({
        "dataverse": dataverse_seed(),
        "fo": {"ExchangeRatesCDSEntity": [
            rate("Default", "EUR", "USD", "2026-01-01T00:00:00Z", "1.0812345678"),
            rate("Default", "EUR", "USD", "2026-02-01T00:00:00Z", "1.0954"),
            rate("Budget", "EUR", "USD", "2026-01-01T00:00:00Z", "1.05"),
            // No USD -> EUR pair in Dataverse.
            rate("Default", "USD", "EUR", "2026-01-01T00:00:00Z", "0.92"),
        ]},
    });
    let running = common::serve_seeded(&seed).await;
    let engine = engine(&info, &running, 2, 50);

    engine.initial_sync(MAP, None).await.unwrap();
    engine.drain().await.unwrap();
    let rows = running.emulator.rows("dataverse", "msdyn_currencyexchangerates");
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let find = |rows: &[serde_json::Value], pair: &str, from: &str| {
        rows.iter()
            .find(|r| r["_msdyn_currencyexchangeratepair_value"] == pair && r["msdyn_validfrom"] == from)
            .cloned()
            .unwrap_or_else(|| panic!("no rate of pair {pair} from {from} in {rows:#?}"))
    };
    let january = find(&rows, DEFAULT_EUR_USD, "2026-01-01T00:00:00Z");
    assert_eq!(
        january["msdyn_exchangerate"].to_string(),
        "1.0812345678",
        "{january:#?}"
    );
    let budget = find(&rows, BUDGET_EUR_USD, "2026-01-01T00:00:00Z");
    assert_eq!(budget["msdyn_exchangerate"].to_string(), "1.05", "{budget:#?}");
    find(&rows, DEFAULT_EUR_USD, "2026-02-01T00:00:00Z");

    // The rate without a pair is in the error log, with every part of the key it was looked up by.
    let errors = engine.store().errors(Some(MAP)).unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let reason = &errors[0].reason;
    for part in [
        "msdyn_currencyexchangeratepairs",
        "msdyn_currencyexchangeratetypeid.msdyn_name = 'Default'",
        "msdyn_fromtransactioncurrencyid.isocurrencycode = 'USD'",
        "msdyn_totransactioncurrencyid.isocurrencycode = 'EUR'",
    ] {
        assert!(reason.contains(part), "`{part}` is not in: {reason}");
    }

    // Again, after a change in F&O: the alternate key (pair, valid from) finds each record.
    let http = reqwest::Client::new();
    let root = running.fo_root();
    let response = http
        .patch(format!(
            "{root}ExchangeRatesCDSEntity(ExchangeRateTypeName='Budget',FromCurrencyCode='EUR',ToCurrencyCode='USD',ValidFrom=2026-01-01T00:00:00Z)"
        ))
        .json(&json!({"Rate": 1.0625}))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    engine.full_compare(MAP, dualsync::map::Side::Fo).await.unwrap();
    engine.drain().await.unwrap();
    let rows = running.emulator.rows("dataverse", "msdyn_currencyexchangerates");
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let budget = find(&rows, BUDGET_EUR_USD, "2026-01-01T00:00:00Z");
    assert_eq!(budget["msdyn_exchangerate"].to_string(), "1.0625", "{budget:#?}");

    // Reconcile reads each Dataverse rate's key back through its pair: all equal, one missing.
    let reports = engine.reconcile(MAP, None, false).await.unwrap();
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report.compared, 4, "{report:#?}");
    assert!(report.differing.is_empty(), "{report:#?}");
    assert!(report.missing_in_fo.is_empty(), "{report:#?}");
    assert_eq!(report.missing_in_dataverse.len(), 1, "{report:#?}");
    assert!(
        report.missing_in_dataverse[0].starts_with("default\u{1f}usd\u{1f}eur"),
        "{report:#?}"
    );
}

/// The types, currencies and pairs are read once, not once per record: the engine caches what each
/// hop found (the state store keeps it across restarts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_looked_up_through_tables_cost_no_request_each() {
    const RATES: usize = 400;
    let info = map();
    let rates: Vec<Value> = (0..RATES)
        .map(|i| {
            let kind = if i % 2 == 0 { "Default" } else { "Budget" };
            let (year, month, day) = (2000 + i / 336, i / 28 % 12 + 1, i % 28 + 1);
            let valid_from = format!("{year}-{month:02}-{day:02}T00:00:00Z");
            rate(kind, "EUR", "USD", &valid_from, &format!("1.{i:04}"))
        })
        .collect();
    let running = common::serve_seeded(&json!({
        "dataverse": dataverse_seed(),
        "fo": {"ExchangeRatesCDSEntity": rates},
    }))
    .await;
    let engine = engine(&info, &running, 100, 50);
    engine.initial_sync(MAP, None).await.unwrap();
    engine.drain().await.unwrap();
    let errors = engine.store().errors(Some(MAP)).unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    let rows = running.emulator.rows("dataverse", "msdyn_currencyexchangerates");
    assert_eq!(rows.len(), RATES);
    let requests = running
        .emulator
        .with(|s| s.dataverse.as_ref().map(|d| d.counters.requests))
        .unwrap();
    // The emulator counts each request of a `$batch` too: one write per rate, and beyond them a
    // handful of reads in all (types, currencies, pairs) and the batches themselves. Uncached, each
    // rate would read its type, both currencies and its pair: four requests more each.
    let beyond_writes = requests - RATES as u64;
    println!(
        "{RATES} rates, two tables deep: {requests} Dataverse requests, {beyond_writes} beyond the writes"
    );
    assert!(
        beyond_writes < 40,
        "{requests} Dataverse requests for {RATES} rates"
    );
}

/// With Dataverse failing now and then (throttling, outages, answers lost after the write), every
/// rate still arrives once, bound to its own pair: lookups through tables are retried like writes,
/// and a write whose answer was lost is repeated by its alternate key, not duplicated. The fault
/// seed is 11; `FAULT_SEED=n` runs another (seeds 1 to 12 pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_faults_rates_arrive_once_on_their_own_pair() {
    use dualsync_emulator::faults::{ErrorRate, FaultConfig};
    const RATES: usize = 120;
    let info = map();
    let rates: Vec<Value> = (0..RATES)
        .map(|i| {
            let kind = if i % 3 == 0 { "Budget" } else { "Default" };
            let valid_from = format!("2026-{:02}-{:02}T00:00:00Z", i / 28 + 1, i % 28 + 1);
            rate(kind, "EUR", "USD", &valid_from, &format!("1.{i:04}"))
        })
        .collect();
    let running = common::serve_seeded(&json!({
        "dataverse": dataverse_seed(),
        "fo": {"ExchangeRatesCDSEntity": rates},
    }))
    .await;
    running.emulator.set_faults(FaultConfig {
        seed: std::env::var("FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(11),
        errors: vec![
            ErrorRate {
                status: 429,
                rate: 0.08,
                retry_after: Some(0),
            },
            ErrorRate {
                status: 503,
                rate: 0.08,
                retry_after: None,
            },
        ],
        reset_after_rate: 0.05,
        paths: vec!["msdyn_".into(), "transactioncurrencies".into(), "$batch".into()],
        ..FaultConfig::default()
    });
    let engine = engine(&info, &running, 5, 5);
    for _ in 0..20 {
        if engine.initial_sync(MAP, None).await.is_ok() {
            break;
        }
    }
    for _ in 0..20 {
        let _ = engine.drain().await;
        if engine.status().unwrap().iter().all(|m| m.queued == 0) {
            break;
        }
    }
    running.emulator.set_faults(FaultConfig::default());
    let _ = engine.retry_errors(None);
    engine.drain().await.unwrap();
    let faults = running
        .emulator
        .with(|s| s.dataverse.as_ref().map(|d| d.counters.faults))
        .unwrap();
    assert!(faults > 0, "no fault was injected");
    let errors = engine.store().errors(Some(MAP)).unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
    let rows = running.emulator.rows("dataverse", "msdyn_currencyexchangerates");
    let mut keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["_msdyn_currencyexchangeratepair_value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["msdyn_validfrom"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        (rows.len(), keys.len()),
        (RATES, RATES),
        "lost or duplicated: {rows:#?}"
    );
    for i in 0..RATES {
        let pair = if i % 3 == 0 {
            BUDGET_EUR_USD
        } else {
            DEFAULT_EUR_USD
        };
        let valid_from = format!("2026-{:02}-{:02}T00:00:00Z", i / 28 + 1, i % 28 + 1);
        let row = rows
            .iter()
            .find(|r| {
                r["_msdyn_currencyexchangeratepair_value"] == pair
                    && r["msdyn_validfrom"] == valid_from.as_str()
            })
            .unwrap_or_else(|| panic!("rate {i} is not on its pair"));
        // Exact: the same decimal, written without trailing zeros (`1.0100` arrives as `1.01`).
        let sent = format!("1.{i:04}");
        assert_eq!(
            row["msdyn_exchangerate"].to_string(),
            sent.trim_end_matches('0').trim_end_matches('.')
        );
    }
    println!("{RATES} rates through {faults} injected Dataverse faults: all arrived once");
}
